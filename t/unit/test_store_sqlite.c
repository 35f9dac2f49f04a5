/*
 * test_store_sqlite.c - how a pooled SQLite connection waits for the write
 * lock (src/store_sqlite.c), with apr-util's sqlite3 driver and a real
 * database file: a thread holding the write lock inside a transaction is
 * not held up by another thread of the process that waits for it, and the
 * waiting is bounded; and SQLite is set up without its memory statistics
 * and in multi-thread mode when the module's pre_config runs first.
 */
#include "store_sqlite.h"
#include "tap.h"

#include <sqlite3.h>

#include "apr_file_io.h"
#include "apr_strings.h"
#include "apr_thread_proc.h"
#include "apr_time.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static apr_pool_t *p;
static const apr_dbd_driver_t *drv;
static char *dbfile;

/* ---- set up before SQLite starts ---- */

/* Runs first, before anything of this program has started SQLite. */
static void test_pre_config(void)
{
    sqlite3 *db = NULL;

    is_int(aapi_sqlite_pre_config(), 1, "pre_config before SQLite starts: done");
    ok(sqlite3_open(":memory:", &db) == SQLITE_OK
       && sqlite3_exec(db, "CREATE TABLE t (x); INSERT INTO t VALUES (1)",
                       NULL, NULL, NULL) == SQLITE_OK,
       "SQLite works afterwards");
    is_int((int)sqlite3_memory_used(), 0,
           "SQLite keeps no count of its memory (no mutex per allocation)");
    ok(!sqlite3_threadsafe() || sqlite3_db_mutex(db) == NULL,
       "a connection has no mutex of its own (multi-thread mode)");
    sqlite3_close(db);
    is_int(aapi_sqlite_pre_config(), 0,
           "pre_config once SQLite has started: refused, nothing changes");
}

/* ---- the schedule ---- */

static void test_schedule(void)
{
    long total = 0;
    int count = 0, ms;

    is_int(aapi_sqlite_busy_step(0), 1, "first retries 1 ms apart");
    is_int(aapi_sqlite_busy_step(19), 1, "20 retries 1 ms apart");
    is_int(aapi_sqlite_busy_step(20), 5, "then 5 ms apart");
    is_int(aapi_sqlite_busy_step(-1), 0, "a negative count: give up");
    while ((ms = aapi_sqlite_busy_step(count)) > 0 && count < 100000) {
        total += ms;
        count++;
    }
    ok(total >= 9900 && total <= 10100,
       apr_psprintf(p, "the wait ends after about 10 s (%ld ms, %d tries)",
                    total, count));
}

/* ---- two threads, one database ---- */

typedef struct {
    int use_handler;          /* else SQLite's own busy_timeout (2 s) */
    apr_interval_time_t hold; /* T1: between BEGIN and its UPDATE */
    apr_interval_time_t delay;/* T2: before its BEGIN */
    int rv;
    double secs;
} run_t;

/* Opens a connection to the test database set up as RUN says. */
static apr_dbd_t *conn(apr_pool_t *cp, const run_t *run)
{
    apr_dbd_t *h = NULL;
    const char *err = NULL;
    int n;

    if (apr_dbd_open_ex(drv, cp, dbfile, &h, &err) != APR_SUCCESS) {
        diag("open: %s", err ? err : "?");
        return NULL;
    }
    if (run->use_handler) {
        aapi_sqlite_wait_setup(drv, h);
    }
    else {
        apr_dbd_results_t *res = NULL;
        apr_dbd_row_t *row;
        apr_dbd_select(drv, cp, h, &res, "PRAGMA busy_timeout = 2000", 0);
        while (res && apr_dbd_get_row(drv, cp, res, &row, -1) == 0) {
        }
    }
    apr_dbd_query(drv, h, &n, "PRAGMA synchronous = NORMAL");
    return h;
}

/* One transaction: BEGIN IMMEDIATE (the driver's), HOLD, UPDATE, COMMIT. */
static void txn(run_t *run, apr_interval_time_t delay, apr_interval_time_t hold)
{
    apr_pool_t *cp;
    apr_dbd_t *h;
    apr_dbd_transaction_t *t = NULL;
    apr_time_t start;
    int n = 0;

    apr_pool_create(&cp, NULL);
    h = conn(cp, run);
    apr_sleep(delay);
    start = apr_time_now();
    run->rv = h ? apr_dbd_transaction_start(drv, cp, h, &t) : -1;
    if (run->rv == 0) {
        apr_sleep(hold);
        run->rv = apr_dbd_query(drv, h, &n, "UPDATE counter SET n = n + 1");
        if (apr_dbd_transaction_end(drv, cp, t) != 0 && run->rv == 0) {
            run->rv = -2;
        }
    }
    run->secs = (double)(apr_time_now() - start) / APR_USEC_PER_SEC;
    if (h) {
        apr_dbd_close(drv, h);
    }
    apr_pool_destroy(cp);
}

typedef struct { run_t *run; int second; run_t out; } arg_t;

static void *APR_THREAD_FUNC worker(apr_thread_t *th, void *data)
{
    arg_t *a = data;
    a->out = *a->run;
    if (a->second) {
        txn(&a->out, a->run->delay, 0);
    }
    else {
        txn(&a->out, 0, a->run->hold);
    }
    apr_thread_exit(th, APR_SUCCESS);
    return NULL;
}

/* Runs T1 and T2 of RUN at once; returns the counter afterwards (-1 on a
 * failure to read it); T1's and T2's results in *T1, *T2. */
static long both(run_t *run, run_t *t1, run_t *t2)
{
    arg_t a1 = { run, 0, { 0 } }, a2 = { run, 1, { 0 } };
    apr_thread_t *h1, *h2;
    apr_status_t rs;
    apr_dbd_t *h;
    apr_dbd_results_t *res = NULL;
    apr_dbd_row_t *row;
    long n = -1;
    int k;

    h = conn(p, run);
    if (!h) {
        return -1;
    }
    apr_dbd_query(drv, h, &k, "UPDATE counter SET n = 0");
    apr_thread_create(&h1, NULL, worker, &a1, p);
    apr_thread_create(&h2, NULL, worker, &a2, p);
    apr_thread_join(&rs, h1);
    apr_thread_join(&rs, h2);
    *t1 = a1.out;
    *t2 = a2.out;
    if (apr_dbd_select(drv, p, h, &res, "SELECT n FROM counter", 0) == 0
        && apr_dbd_get_row(drv, p, res, &row, -1) == 0) {
        n = atol(apr_dbd_get_entry(drv, row, 0));
        while (apr_dbd_get_row(drv, p, res, &row, -1) == 0) {
        }
    }
    apr_dbd_close(drv, h);
    return n;
}

static int setup_db(void)
{
    const char *tmp = NULL, *err = NULL;
    apr_dbd_t *h;
    int n;

    if (apr_temp_dir_get(&tmp, p) != APR_SUCCESS) {
        return 0;
    }
    dbfile = apr_psprintf(p, "%s/aapi-unit-%ld.db", tmp, (long)getpid());
    if (apr_dbd_init(p) != APR_SUCCESS
        || apr_dbd_get_driver(p, "sqlite3", &drv) != APR_SUCCESS) {
        diag("no apr_dbd sqlite3 driver");
        return 0;
    }
    if (apr_dbd_open_ex(drv, p, dbfile, &h, &err) != APR_SUCCESS) {
        diag("open %s: %s", dbfile, err ? err : "?");
        return 0;
    }
    apr_dbd_query(drv, h, &n, "PRAGMA journal_mode = WAL");
    apr_dbd_query(drv, h, &n, "CREATE TABLE counter (n INTEGER)");
    apr_dbd_query(drv, h, &n, "INSERT INTO counter VALUES (0)");
    apr_dbd_close(drv, h);
    return 1;
}

static void cleanup_db(void)
{
    apr_file_remove(dbfile, p);
    apr_file_remove(apr_pstrcat(p, dbfile, "-wal", NULL), p);
    apr_file_remove(apr_pstrcat(p, dbfile, "-shm", NULL), p);
}

static void test_threads(void)
{
    run_t run, t1, t2;
    apr_dbd_t *h;
    long n;

    if (!ok(setup_db(), "a WAL database through apr_dbd's sqlite3 driver")) {
        return;
    }
    h = NULL;
    {
        const char *err = NULL;
        apr_dbd_open_ex(drv, p, dbfile, &h, &err);
    }
    is_int(h ? aapi_sqlite_wait_setup(drv, h) : -9, 1,
           "the handler is installed on this apr-util (1.6)");
    if (h) {
        apr_dbd_close(drv, h);
    }

    /* T1 holds the write lock 300 ms between BEGIN and UPDATE; T2 asks for
     * it 50 ms in */
    memset(&run, 0, sizeof(run));
    run.use_handler = 1;
    run.hold = apr_time_from_msec(300);
    run.delay = apr_time_from_msec(50);
    n = both(&run, &t1, &t2);
    ok(t1.rv == 0 && t2.rv == 0,
       apr_psprintf(p, "with the handler both transactions commit (%d, %d)",
                    t1.rv, t2.rv));
    is_int(n, 2, "both updates are in");
    ok(t1.secs < 1.5, apr_psprintf(p, "the holder is not held up: %.2f s "
                                   "(300 ms of its own)", t1.secs));
    ok(t2.secs < 1.5, apr_psprintf(p, "the waiter gets the lock as soon as "
                                   "it is free: %.2f s", t2.secs));

    /* the same with SQLite's own handler (busy_timeout 2 s): the stall the
     * handler exists for, so this test shows what it prevents */
    run.use_handler = 0;
    n = both(&run, &t1, &t2);
    ok(t1.secs >= 1.9,
       apr_psprintf(p, "without it the holder waits out the other thread's "
                    "busy timeout: %.2f s", t1.secs));
    cleanup_db();
}

int main(void)
{
    p = tap_init();
    test_pre_config();
    test_schedule();
    test_threads();
    return done();
}
