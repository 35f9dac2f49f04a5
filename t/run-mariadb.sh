#!/bin/sh
# t/run-mariadb.sh - runs the Apache::Test suite against a throw-away
# MariaDB server: a fresh data directory in a temporary folder, listening
# only on a unix socket there, removed again whatever happens.
#
#   t/run-mariadb.sh [t/TEST arguments, e.g. t/login.t]
#
# Exports for httpd and the tests: AAPI_DB=mysql, AAPI_MYSQL_PARAMS (the
# apr_dbd mysql parameters used by t/conf/extra.conf.in), AAPI_MYSQL_SOCK,
# AAPI_MYSQL_USER, AAPI_MYSQL_PASS, AAPI_MYSQL_DB (for t/lib/AAPI/Test.pm).
set -eu

top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"

MARIADBD=${MARIADBD:-/usr/sbin/mariadbd}
for prog in "$MARIADBD" mariadb-install-db mariadb mariadb-admin; do
    if ! command -v "$prog" >/dev/null 2>&1; then
        echo "run-mariadb: $prog not found (apt-get install mariadb-server mariadb-client)" >&2
        exit 1
    fi
done

tmp=$(mktemp -d "${TMPDIR:-/tmp}/aapi-mariadb.XXXXXX")
# httpd's children run as an unprivileged user: they must reach the socket
chmod 0755 "$tmp"
sock="$tmp/mysqld.sock"
pidfile="$tmp/mysqld.pid"
dpid=""

cleanup() {
    rc=$?
    trap - EXIT INT TERM HUP
    if [ -n "$dpid" ] && kill -0 "$dpid" 2>/dev/null; then
        kill "$dpid" 2>/dev/null || true
        i=0
        while kill -0 "$dpid" 2>/dev/null && [ $i -lt 60 ]; do
            sleep 0.5
            i=$((i + 1))
        done
        if kill -0 "$dpid" 2>/dev/null; then
            kill -9 "$dpid" 2>/dev/null || true
        fi
        wait "$dpid" 2>/dev/null || true
    fi
    rm -rf "$tmp"
    exit $rc
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
trap 'exit 129' HUP

if [ "$(id -u)" -eq 0 ]; then
    dbuser=root
else
    dbuser=$(id -un)
fi

echo "run-mariadb: creating a data directory in $tmp"
if ! mariadb-install-db --no-defaults --datadir="$tmp/data" --user="$dbuser" \
        --auth-root-authentication-method=socket --skip-test-db \
        >"$tmp/install.log" 2>&1; then
    cat "$tmp/install.log" >&2
    echo "run-mariadb: mariadb-install-db failed" >&2
    exit 1
fi

"$MARIADBD" --no-defaults --datadir="$tmp/data" --socket="$sock" \
    --skip-networking --pid-file="$pidfile" --log-error="$tmp/mysqld.err" \
    --user="$dbuser" --innodb-buffer-pool-size=64M --skip-log-bin \
    --character-set-server=utf8mb4 --collation-server=utf8mb4_unicode_ci \
    >/dev/null 2>&1 &
dpid=$!

# wait until it answers, at most 60 s
i=0
until mariadb-admin --no-defaults --socket="$sock" -u "$dbuser" ping >/dev/null 2>&1; do
    if ! kill -0 "$dpid" 2>/dev/null; then
        cat "$tmp/mysqld.err" >&2 || true
        echo "run-mariadb: mariadbd exited" >&2
        exit 1
    fi
    i=$((i + 1))
    if [ $i -gt 120 ]; then
        cat "$tmp/mysqld.err" >&2 || true
        echo "run-mariadb: mariadbd did not answer within 60 s" >&2
        exit 1
    fi
    sleep 0.5
done

pass=$(od -An -N12 -tx1 /dev/urandom | tr -d ' \n')
mariadb --no-defaults --socket="$sock" -u "$dbuser" <<EOF
CREATE DATABASE auth_api_test CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci;
CREATE USER 'aapi'@'localhost' IDENTIFIED BY '$pass';
GRANT ALL PRIVILEGES ON auth_api_test.* TO 'aapi'@'localhost';
FLUSH PRIVILEGES;
EOF

AAPI_DB=mysql
AAPI_MYSQL_SOCK=$sock
AAPI_MYSQL_USER=aapi
AAPI_MYSQL_PASS=$pass
AAPI_MYSQL_DB=auth_api_test
# apr_dbd_mysql: key=value pairs separated by spaces or commas
AAPI_MYSQL_PARAMS="host=localhost,port=0,user=aapi,pass=$pass,dbname=auth_api_test,sock=$sock"
export AAPI_DB AAPI_MYSQL_SOCK AAPI_MYSQL_USER AAPI_MYSQL_PASS AAPI_MYSQL_DB AAPI_MYSQL_PARAMS

# t/TEST is generated from t/TEST.PL (see t/run-all.sh)
if [ ! -x t/TEST ] || [ t/TEST.PL -nt t/TEST ]; then
    { echo '#!/usr/bin/perl'; echo '# generated from t/TEST.PL; do not edit'; cat t/TEST.PL; } > t/TEST
    chmod 0755 t/TEST
fi

echo "run-mariadb: running the suite against MariaDB ($sock)"
set +e
t/TEST -defines AAPI_MYSQL "$@"
rc=$?
set -e
if [ $rc -ne 0 ]; then
    echo "run-mariadb: mariadbd log (last lines):" >&2
    tail -n 20 "$tmp/mysqld.err" >&2 || true
fi
exit $rc
