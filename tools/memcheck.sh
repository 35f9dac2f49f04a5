#!/bin/sh
# "make memcheck": runs Apache single-process under valgrind's memcheck with
# the "make run" configuration on another port, sends one request of each
# kind the module serves, lets the pruning of ended sessions run once (its
# watchdog thread), and fails on any memory error or definite leak.
set -eu
ROOT=$(pwd)
PORT=${PORT:-8089}
RUN=$(mktemp -d /tmp/aapi-memcheck.XXXXXX)
LOG=$RUN/valgrind.log
trap 'pkill -TERM -f "apache2 -X -f $RUN/" 2>/dev/null || true; sleep 1' EXIT
[ "$(id -u)" -eq 0 ] && chmod 0755 "$RUN"

PORT=$PORT RUN=$RUN CONFIG_ONLY=1 sh tools/run.sh >/dev/null
echo 'AuthAPIPruneInterval 2' >> "$RUN/conf/httpd.conf"
valgrind --quiet --leak-check=full --errors-for-leak-kinds=definite \
    --error-exitcode=9 --log-file="$LOG" \
    /usr/sbin/apache2 -X -f "$RUN/conf/httpd.conf" > "$RUN/out.log" 2>&1 &
VG=$!

B=http://127.0.0.1:$PORT/api/v1/auth
J='Content-Type: application/json'
i=0
until curl -s -o /dev/null -m 2 "$B/health"; do
    i=$((i + 1)); [ $i -gt 60 ] && { echo "memcheck: server did not start"; exit 1; }
    sleep 1
done
req() { curl -s -m 60 -o /dev/null -w '%{http_code} ' "$@"; }
BODY=$(curl -s -m 60 -X POST "$B/register" -H "$J" \
    -d '{"email":"mem@example.com","password":"Str0ng!Passw0rd","username":"mem_1"}')
AT=$(printf '%s' "$BODY" | sed -n 's/.*"access_token":"\([^"]*\)".*/\1/p')
RT=$(printf '%s' "$BODY" | sed -n 's/.*"refresh_token":"\([^"]*\)".*/\1/p')
H="Authorization: Bearer $AT"
req -H "$H" "$B/me"; req -H "$H" "$B/sessions"; req -H "$H" "$B/verify-token"
req "$B/health"; req "$B/jwks.json"; req "$B/nope"; req -X PUT "$B/me"
req -X PATCH -H "$H" -H "$J" -d '{"profile":{"a":{"b":1}},"first_name":"M"}' "$B/me"
req -X POST -H "$J" -d "{\"refresh_token\":\"$RT\"}" "$B/refresh"
req -X POST -H "$J" -d "{\"refresh_token\":\"$RT\"}" "$B/refresh"
req -X POST -H "$J" -d '{"email":"mem@example.com","password":"wrong"}' "$B/login"
req -X POST -H "$J" -d '{"email":"nobody@example.com","password":"wrong"}' "$B/login"
req -X POST -H "$J" -d '{"a":1,"a":2}' "$B/login"
req -X POST -H 'Content-Type: text/plain' -d 'x' "$B/login"
req -X POST -H "$J" -d '{"email":"bad","password":"short"}' "$B/register"
req -H "$H" "http://127.0.0.1:$PORT/members/index.html"
req -H "$H" "http://127.0.0.1:$PORT/members/index.html"
req -H "$H" "http://127.0.0.1:$PORT/members/env.cgi"
req -H "Authorization: Bearer x.y.z" "http://127.0.0.1:$PORT/members/index.html"
req -H "Cookie: auth_api_access=$AT; auth_api_access=$AT" "http://127.0.0.1:$PORT/members/env.cgi"
req -H "Cookie: auth_api_access=$AT; auth_api_access=x.y.z" "http://127.0.0.1:$PORT/members/env.cgi"
req -H "Cookie: auth_api_refresh=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA" \
    "http://127.0.0.1:$PORT/members/index.html"
req -X PATCH -H "$H" -H "$J" -d '{"username":"mem_2"}' "$B/me"
req -H "$H" "http://127.0.0.1:$PORT/members/index.html"
req -u "mem@example.com:Str0ng!Passw0rd" "http://127.0.0.1:$PORT/legacy/index.html"
req -u "mem_2:Str0ng!Passw0rd" "http://127.0.0.1:$PORT/legacy/index.html"
req -u "mem_2:wrong" "http://127.0.0.1:$PORT/legacy/index.html"
req -X POST -H "$H" -H "$J" \
    -d '{"current_password":"Str0ng!Passw0rd","new_password":"N3w!Passw0rd-x"}' \
    "$B/change-password"
req -X POST -H "$H" "$B/logout"
req -H "$H" "http://127.0.0.1:$PORT/members/index.html"
echo
# the sessions that ended above go at a run of the pruning 2 s later
i=0
until grep -q 'AAPI1101' "$RUN/out.log"; do
    i=$((i + 1)); [ $i -gt 30 ] && { echo "memcheck: no pruning ran"; exit 1; }
    sleep 1
done
pkill -TERM -f "apache2 -X -f $RUN/" || true
wait $VG || { echo "memcheck: valgrind reported errors:"; cat "$LOG"; exit 1; }
echo "memcheck: no memory errors, no definite leaks"
rm -rf "$RUN"
