#!/bin/sh
# "make run": a local Apache on 127.0.0.1:8080 with the API at /api/v1/auth,
# its own ServerRoot under run/, in the foreground until Ctrl-C.
#   PORT=8081 RUN=/tmp/x tools/run.sh    another port and folder
#   CONFIG_ONLY=1 tools/run.sh           write the configuration and stop
set -eu
ROOT=$(pwd)
PORT=${PORT:-8080}
RUN=${RUN:-$ROOT/run}
mkdir -p "$RUN/var" "$RUN/logs" "$RUN/conf"
cd "$RUN"

# the HMAC secret is made once and kept
if [ ! -s auth_api.secret ]; then
    umask 077
    head -c 48 /dev/urandom | base64 | tr -d '\n' > auth_api.secret
    umask 022
fi

USER_LINES=""
if [ "$(id -u)" -eq 0 ]; then
    # the children drop to www-data, which must write the database folder
    USER_LINES="User www-data
Group www-data"
    chown www-data:www-data var
    chown root:www-data auth_api.secret
    chmod 0640 auth_api.secret
fi

awk -v root="$ROOT" -v run="$RUN" -v port="$PORT" -v user="$USER_LINES" \
    '{ gsub(/@RUN@/, run); gsub(/@ROOT@/, root); gsub(/@PORT@/, port);
       if ($0 == "@USER@") print user; else print }' \
    "$ROOT/conf/dev.conf.in" > conf/httpd.conf

/usr/sbin/apache2 -t -f "$RUN/conf/httpd.conf"
[ -n "${CONFIG_ONLY:-}" ] && exit 0

B=http://127.0.0.1:$PORT/api/v1/auth
cat <<MSG

mod_auth_api is running on http://127.0.0.1:$PORT  (Ctrl-C stops it)
Pages: http://127.0.0.1:$PORT/  (register, sign in, then /members/)

  curl -s -X POST $B/register -H 'Content-Type: application/json' \\
       -d '{"email":"ann@example.com","password":"Str0ng!Passw0rd","username":"ann_1"}'
  curl -s -X POST $B/login -H 'Content-Type: application/json' \\
       -d '{"email":"ann@example.com","password":"Str0ng!Passw0rd"}'
  curl -s $B/me -H "Authorization: Bearer \$ACCESS_TOKEN"
  curl -s $B/health

MSG
exec /usr/sbin/apache2 -f "$RUN/conf/httpd.conf" -DFOREGROUND
