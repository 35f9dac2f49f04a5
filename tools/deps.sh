#!/bin/sh
# Installs the Debian packages that building, running and testing need.
# Quiet and quick when everything is already there; non-interactive otherwise.
set -eu

PKGS="gcc make perl apache2 apache2-dev libapr1-dev libaprutil1-dev
libaprutil1-dbd-sqlite3 libaprutil1-dbd-mysql sqlite3 libsqlite3-dev
libjansson-dev libssl-dev libcurl4-openssl-dev libargon2-dev php-cgi curl"
case "${1:-build}" in
    test)  PKGS="$PKGS libapache2-mod-perl2 libwww-perl mariadb-server mariadb-client
                 python3-aiosmtpd php-fpm memcached libapache2-mod-php" ;;
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

# Installing mod_php makes Debian switch the system's Apache to the prefork
# MPM and enable PHP there. The tests start their own servers and need
# neither: mod_php is installed last, and the system's Apache is then given
# back the MPM it had, without PHP.
modphp=""
rest=""
for p in $missing; do
    if [ "$p" = libapache2-mod-php ]; then modphp=$p; else rest="$rest $p"; fi
done
if [ -n "$rest" ]; then
    # shellcheck disable=SC2086
    apt-get install -y -qq --no-install-recommends $rest >/dev/null
fi
if [ -n "$modphp" ]; then
    mpm_before=$(a2query -M 2>/dev/null || true)
    apt-get install -y -qq --no-install-recommends "$modphp" >/dev/null
    for m in $(a2query -m 2>/dev/null | sed -n 's/^\(php[0-9.]*\) .*/\1/p'); do
        a2dismod -q "$m" >/dev/null
    done
    mpm_now=$(a2query -M 2>/dev/null || true)
    if [ -n "$mpm_before" ] && [ -n "$mpm_now" ] && [ "$mpm_now" != "$mpm_before" ]; then
        a2dismod -q "mpm_$mpm_now" >/dev/null
        a2enmod -q "mpm_$mpm_before" >/dev/null
    fi
fi
