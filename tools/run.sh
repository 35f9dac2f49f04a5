#!/bin/sh
# "make run": a local Apache on 127.0.0.1:8080 with the API at /api/v1/auth,
# its own ServerRoot under run/, in the foreground until Ctrl-C.
set -eu
ROOT=$(pwd)
mkdir -p run/var run/logs run/conf

# the HMAC secret is made once and kept
if [ ! -s run/auth_api.secret ]; then
    umask 077
    head -c 48 /dev/urandom | base64 | tr -d '\n' > run/auth_api.secret
    umask 022
fi

USER_LINES=""
if [ "$(id -u)" -eq 0 ]; then
    # the children drop to www-data, which must write the database folder
    USER_LINES="User www-data
Group www-data"
    chown www-data:www-data run/var
    chown root:www-data run/auth_api.secret
    chmod 0640 run/auth_api.secret
fi

awk -v root="$ROOT" -v user="$USER_LINES" \
    '{ gsub(/@ROOT@/, root); if ($0 == "@USER@") print user; else print }' \
    conf/dev.conf.in > run/conf/httpd.conf

/usr/sbin/apache2 -t -f "$ROOT/run/conf/httpd.conf"

B=http://127.0.0.1:8080/api/v1/auth
cat <<MSG

mod_auth_api is running on http://127.0.0.1:8080  (Ctrl-C stops it)

  curl -s -X POST $B/register -H 'Content-Type: application/json' \\
       -d '{"email":"ann@example.com","password":"Str0ng!Passw0rd","username":"ann_1"}'
  curl -s -X POST $B/login -H 'Content-Type: application/json' \\
       -d '{"email":"ann@example.com","password":"Str0ng!Passw0rd"}'
  curl -s $B/me -H "Authorization: Bearer \$ACCESS_TOKEN"
  curl -s $B/health

MSG
exec /usr/sbin/apache2 -f "$ROOT/run/conf/httpd.conf" -DFOREGROUND
