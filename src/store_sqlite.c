/*
 * store_sqlite.c - level 3: waiting for SQLite's write lock.
 *
 * apr-util's sqlite3 driver (the 1.6 line) runs every sqlite3_step and
 * sqlite3_prepare under one mutex of the whole process (apr_dbd_mutex_lock),
 * and SQLite calls its busy handler from inside sqlite3_step. The handler
 * that PRAGMA busy_timeout installs sleeps with that mutex held. So when a
 * thread holds the write lock inside a transaction, between two statements,
 * and another thread of the same process asks for it, the second sleeps
 * holding the mutex the first needs for its next statement: neither moves
 * until the timeout runs out, 10 s at a time. The handler here gives the
 * driver's mutex up while it sleeps, so the holder finishes and the waiter
 * gets the lock within milliseconds. It is installed only where the driver
 * is known to call SQLite under that mutex (apr-util 1.6, at build and at
 * run time); elsewhere a short busy timeout bounds the stall instead.
 *
 * It also turns off SQLite's count of the memory it holds, which takes a
 * mutex of the whole process on every allocation SQLite makes.
 */
#include "store_sqlite.h"

#include "apr_time.h"
#include "apu_version.h"

#include <sqlite3.h>
#include <string.h>

/* exported by apr-util for its drivers, declared in a header it does not
 * install (apr_dbd_internal.h) */
APU_DECLARE(apr_status_t) apr_dbd_mutex_lock(void);
APU_DECLARE(apr_status_t) apr_dbd_mutex_unlock(void);

#define FINE_STEPS   20        /* 1 ms apart: a transaction is short */
#define COARSE_MS    5         /* then 5 ms apart */
#define LIMIT_MS     10000     /* in all */
#define FALLBACK_MS  50        /* busy_timeout where the handler is not used */

int aapi_sqlite_busy_step(int count)
{
    int waited;

    if (count < 0) {
        return 0;
    }
    waited = count < FINE_STEPS ? count
                                : FINE_STEPS + (count - FINE_STEPS) * COARSE_MS;
    if (waited >= LIMIT_MS) {
        return 0;
    }
    return count < FINE_STEPS ? 1 : COARSE_MS;
}

/* sqlite3_busy_handler callback: 1 to try again, 0 to give up (the
 * statement then fails with SQLITE_BUSY, which the store answers with 503).
 * Called only from sqlite3_step/sqlite3_prepare, which the driver runs
 * holding its mutex. */
static int busy_handler(void *unused, int count)
{
    int ms = aapi_sqlite_busy_step(count);

    if (ms == 0) {
        return 0;
    }
    apr_dbd_mutex_unlock();
    apr_sleep(apr_time_from_msec(ms));
    apr_dbd_mutex_lock();
    return 1;
}

/* Returns 1 when the apr-util built against and the one running are both
 * of the line whose sqlite3 driver busy_handler is written for. */
static int driver_known(void)
{
#if APU_MAJOR_VERSION == 1 && APU_MINOR_VERSION == 6
    apr_version_t v;
    apu_version(&v);
    return v.major == 1 && v.minor == 6;
#else
    return 0;
#endif
}

int aapi_sqlite_wait_setup(const apr_dbd_driver_t *driver, apr_dbd_t *handle)
{
    sqlite3 *conn;

    if (strcmp(apr_dbd_name(driver), "sqlite3") != 0
        || !(conn = apr_dbd_native_handle(driver, handle))) {
        return -1;
    }
    if (driver_known()) {
        sqlite3_busy_handler(conn, busy_handler, NULL);
        return 1;
    }
    sqlite3_busy_timeout(conn, FALLBACK_MS);
    return 0;
}

int aapi_sqlite_pre_config(void)
{
    /* only before SQLite has started in this process; later (a restart of
     * httpd, or another module was first) it refuses, and nothing changes */
    if (sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0) != SQLITE_OK) {
        return 0;
    }
    /* a connection without a mutex of its own: mod_dbd hands a connection
     * (and the statements prepared on it) to one request at a time, which
     * is what SQLite's multi-thread mode asks; serialized mode would lock
     * and unlock that mutex around every call, dozens a query */
    if (sqlite3_threadsafe()) {
        sqlite3_config(SQLITE_CONFIG_MULTITHREAD);
    }
    return 1;
}
