#!/bin/sh
# t/unit/run.sh - builds and runs the C unit tests of the level-0 and
# level-2 code (util, json, keys, jwt, validate, password), of the table
# of verified tokens (tokcache) and of the SQLite lock waiting of the
# store (store_sqlite) under prove.
#
#   sh t/unit/run.sh              build and run every t/unit/test_*.c
#   sh t/unit/run.sh jwt util     only test_jwt.c and test_util.c
#   VALGRIND=1 sh t/unit/run.sh   run each test under valgrind too
#
# Binaries go to t/unit/bin/ (git-ignored). Exits non-zero when a test
# fails, a file does not compile, or valgrind finds an error.
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

# build/gen/embedded.c comes from conf/common-passwords.txt and sql/ by
# tools/embed.pl (a step of 'make module'); make only that file if missing
if [ ! -f "$gen" ]; then
    echo "run.sh: $gen is missing; making it" >&2
    make -C "$repo" --no-print-directory build/gen/embedded.c >&2 || {
        echo "run.sh: cannot make $gen; run 'make module' and retry" >&2
        exit 2
    }
fi

mkdir -p "$bin/obj"

# compile each source once, then link each test against the objects
objs=""
for s in $SRCS build/gen/embedded.c t/unit/stub.c; do
    o="$bin/obj/$(basename "$s" .c).o"
    $CC $CFLAGS -c -o "$o" "$repo/$s"
    objs="$objs $o"
done

if [ $# -gt 0 ]; then
    tests=""
    for n in "$@"; do
        n=$(basename "$n" .c)
        tests="$tests $here/test_${n#test_}.c"
    done
else
    tests=$(ls "$here"/test_*.c)
fi

rm -f "$bin"/*.t
for t in $tests; do
    name=$(basename "$t" .c)
    $CC $CFLAGS -o "$bin/${name#test_}.t" "$t" $objs $LIBS
done

if [ "${VALGRIND:-0}" = 1 ]; then
    exec prove -v --exec "valgrind -q --error-exitcode=99 --leak-check=full \
--errors-for-leak-kinds=definite,indirect --track-origins=yes" "$bin"/*.t
fi
exec prove -v --exec '' "$bin"/*.t
