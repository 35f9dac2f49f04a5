#!/bin/sh
# t/run-all.sh - the whole test suite, as "make test" runs it after the
# build: C unit tests (t/unit/run.sh, when present), the Apache::Test suite
# on SQLite (t/TEST), then on a throw-away MariaDB (t/run-mariadb.sh).
# Fails if any part fails; ends with one line "N passed, N failed".
set -u

top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top" || exit 1

if [ ! -e .libs/mod_auth_api.so ]; then
    echo "run-all: .libs/mod_auth_api.so is missing; build first (make)" >&2
    exit 1
fi

# t/TEST is generated from t/TEST.PL
if [ ! -x t/TEST ] || [ t/TEST.PL -nt t/TEST ]; then
    { echo '#!/usr/bin/perl'; echo '# generated from t/TEST.PL; do not edit'; cat t/TEST.PL; } > t/TEST
    chmod 0755 t/TEST
fi

logdir=$(mktemp -d "${TMPDIR:-/tmp}/aapi-run-all.XXXXXX")
trap 'rm -rf "$logdir"' EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

passed=0
failed=0
status=0

# count PART LOG RC: adds the results of a test run to the totals.
# Reads the harness summary ("Files=F, Tests=N", "A/B subtests failed");
# without one (the run broke off) the part counts as one failure.
count() {
    part=$1 log=$2 rc=$3
    tests=$(sed -n 's/^Files=[0-9]*, Tests=\([0-9]*\),.*/\1/p' "$log" | tail -n 1)
    nfail=$(sed -n 's/.* \([0-9][0-9]*\)\/[0-9][0-9]* subtests failed.*/\1/p' "$log" | tail -n 1)
    line=$(grep -E '^[0-9]+ passed, [0-9]+ failed' "$log" | tail -n 1)
    if [ -n "$line" ] && [ -z "$tests" ]; then
        p=$(echo "$line" | sed 's/^\([0-9]*\) passed, \([0-9]*\) failed.*/\1/')
        f=$(echo "$line" | sed 's/^\([0-9]*\) passed, \([0-9]*\) failed.*/\2/')
    elif [ -n "$tests" ]; then
        f=${nfail:-0}
        p=$((tests - f))
        # a non-zero exit without counted failures (a file died early,
        # a bad plan): one failure more
        if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then
            f=1
        fi
    elif [ "$rc" -eq 0 ]; then
        p=1 f=0
    else
        p=0 f=1
    fi
    passed=$((passed + p))
    failed=$((failed + f))
    echo "run-all: $part: $p passed, $f failed (exit $rc)"
    if [ "$rc" -ne 0 ] || [ "$f" -ne 0 ]; then
        status=1
    fi
}

# run PART LOG COMMAND...: runs COMMAND, showing and keeping its output.
run() {
    part=$1 log=$2
    shift 2
    echo "==== $part"
    { "$@" 2>&1; echo "$?" >"$log.rc"; } | tee "$log"
    count "$part" "$log" "$(cat "$log.rc")"
}

if [ -x t/unit/run.sh ] || [ -f t/unit/run.sh ]; then
    run "C unit tests" "$logdir/unit" sh t/unit/run.sh
fi

run "Apache::Test, SQLite" "$logdir/sqlite" env -u AAPI_DB t/TEST
run "Apache::Test, MariaDB" "$logdir/mariadb" sh t/run-mariadb.sh

echo "$passed passed, $failed failed"
exit $status
