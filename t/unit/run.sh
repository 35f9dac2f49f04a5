#!/bin/sh
# t/unit/run.sh - builds and runs the C unit tests of the level-0 and
# level-2 code (util, json, keys, jwt, validate, password), of the table
# of verified tokens (tokcache) and of the SQLite lock waiting of the
# store (store_sqlite) under prove; and the fuzz test of the code that
# reads client input (test_fuzz.c), built with sanitizers.
#
#   sh t/unit/run.sh              build and run every t/unit/test_*.c
#   sh t/unit/run.sh jwt util     only test_jwt.c and test_util.c
#   sh t/unit/run.sh fuzz         only the fuzz test
#   VALGRIND=1 sh t/unit/run.sh   run each test under valgrind too (but
#                                 the sanitized ones: see below)
#
# Binaries go to t/unit/bin/ (git-ignored), the sanitized ones and their
# objects to t/unit/bin/asan/. Exits non-zero when a test fails, a file
# does not compile, a sanitizer or valgrind finds an error.
set -eu

here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
bin="$here/bin"
gen="$repo/build/gen/embedded.c"

CC=${CC:-gcc}
CFLAGS="-std=gnu99 -g -O1 -Wall -Wextra -Werror -Wno-unused-parameter \
-D_REENTRANT -D_GNU_SOURCE -I$repo/include -I$here \
-I/usr/include/apache2 -I/usr/include/apr-1.0"
LIBS="-lapr-1 -laprutil-1 -ljansson -lcrypto -largon2 -lsqlite3"

# the code under test; validate.c needs the generated password list
SRCS="src/util.c src/json.c src/keys.c src/jwt.c src/password.c src/validate.c
src/store_sqlite.c src/tokcache.c"

# Tests built with AddressSanitizer and UndefinedBehaviorSanitizer, each
# against its own objects of SRCS compiled with the same flags: a memory
# error or undefined behaviour stops the test with a report, and fails it.
ASAN_TESTS="fuzz"
SANFLAGS="-fsanitize=address,undefined -fno-sanitize-recover=all \
-fno-omit-frame-pointer"

# build/gen/embedded.c comes from conf/common-passwords.txt and sql/ by
# tools/embed.pl (a step of 'make module'); make only that file if missing
if [ ! -f "$gen" ]; then
    echo "run.sh: $gen is missing; making it" >&2
    make -C "$repo" --no-print-directory build/gen/embedded.c >&2 || {
        echo "run.sh: cannot make $gen; run 'make module' and retry" >&2
        exit 2
    }
fi

if [ $# -gt 0 ]; then
    tests=""
    for n in "$@"; do
        n=$(basename "$n" .c)
        tests="$tests $here/test_${n#test_}.c"
    done
else
    tests=$(ls "$here"/test_*.c)
fi

# is_asan NAME: true when test NAME (without "test_") is built sanitized
is_asan() {
    for a in $ASAN_TESTS; do
        [ "$a" = "$1" ] && return 0
    done
    return 1
}

# split the tests: plain ones, and sanitized ones
plain="" sanitized=""
for t in $tests; do
    name=$(basename "$t" .c)
    if is_asan "${name#test_}"; then
        sanitized="$sanitized $t"
    else
        plain="$plain $t"
    fi
done

# compile each source once per kind of build, then link each test against
# the objects of its kind; OUT gets the object list
compile() {    # compile DIR EXTRA-FLAGS
    out=""
    mkdir -p "$1"
    for s in $SRCS build/gen/embedded.c t/unit/stub.c; do
        o="$1/$(basename "$s" .c).o"
        $CC $CFLAGS $2 -c -o "$o" "$repo/$s"
        out="$out $o"
    done
}

rm -f "$bin"/*.t "$bin"/asan/*.t
runs=""
asan_runs=""
if [ -n "$plain" ]; then
    compile "$bin/obj" ""
    for t in $plain; do
        name=$(basename "$t" .c)
        $CC $CFLAGS -o "$bin/${name#test_}.t" "$t" $out $LIBS
        runs="$runs $bin/${name#test_}.t"
    done
fi
if [ -n "$sanitized" ]; then
    compile "$bin/asan/obj" "$SANFLAGS"
    for t in $sanitized; do
        name=$(basename "$t" .c)
        $CC $CFLAGS $SANFLAGS -o "$bin/asan/${name#test_}.t" "$t" $out $LIBS
        asan_runs="$asan_runs $bin/asan/${name#test_}.t"
    done
fi

# AddressSanitizer and valgrind do not mix (both replace malloc and watch
# every access, and the sanitizer reserves more address space than
# valgrind allows): under VALGRIND=1 the sanitized tests run on their own,
# without valgrind, after the others; the sanitizers check them already.
if [ "${VALGRIND:-0}" = 1 ]; then
    status=0
    if [ -n "$runs" ]; then
        prove -v --exec "valgrind -q --error-exitcode=99 --leak-check=full \
--errors-for-leak-kinds=definite,indirect --track-origins=yes" $runs \
            || status=1
    fi
    if [ -n "$asan_runs" ]; then
        prove -v --exec '' $asan_runs || status=1
    fi
    exit $status
fi
exec prove -v --exec '' $runs $asan_runs
