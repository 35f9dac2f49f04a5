#!/bin/sh
# Installs the Debian packages that building, running and testing need.
# Quiet and quick when everything is already there; non-interactive otherwise.
set -eu

PKGS="gcc make perl apache2 apache2-dev libapr1-dev libaprutil1-dev
libaprutil1-dbd-sqlite3 libaprutil1-dbd-mysql sqlite3 libsqlite3-dev
libjansson-dev libssl-dev libcurl4-openssl-dev libargon2-dev php-cgi curl"
case "${1:-build}" in
    test)  PKGS="$PKGS libapache2-mod-perl2 libwww-perl mariadb-server mariadb-client
                 python3-aiosmtpd php-fpm memcached" ;;
    bench) PKGS="$PKGS wrk valgrind" ;;
esac

missing=""
for p in $PKGS; do
    st=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
    case "$st" in
        *" installed") ;;
        *) missing="$missing $p" ;;
    esac
done
[ -z "$missing" ] && exit 0

if [ "$(id -u)" -ne 0 ]; then
    echo "missing Debian packages:$missing (run as root, or install them)" >&2
    exit 1
fi
echo "installing:$missing"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
# shellcheck disable=SC2086
apt-get install -y -qq --no-install-recommends $missing >/dev/null
