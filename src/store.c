/*
 * store.c - level 3: accounts and sessions through mod_dbd. Statements are
 * registered with ap_dbd_prepare from post_config; the schema is created or
 * upgraded at start-up by aapi_store_migrate on a connection of its own,
 * because mod_dbd prepares every statement when it opens a connection.
 */
#include "aapi.h"
#include "store.h"
#include "store_sql.h"
#include "embedded.h"
#include "util.h"

#include "apr_dbd.h"
#include "apr_lib.h"
#include "apr_optional.h"
#include "http_config.h"
#include "http_core.h"
#include "mod_dbd.h"
#include "unixd.h"

#include "store_sqlite.h"

#include <sqlite3.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

/* SQLite result codes and MySQL error numbers the store tells apart. */
#define SQLITE_BUSY_RC        SQLITE_BUSY
#define SQLITE_LOCKED_RC      SQLITE_LOCKED
#define SQLITE_CONSTRAINT_RC  SQLITE_CONSTRAINT
#define MYSQL_DUP_ENTRY       1062
#define MYSQL_LOCK_WAIT       1205
#define MYSQL_DEADLOCK        1213

struct aapi_db {
    request_rec *r;           /* NULL outside a request (the watchdog) */
    server_rec *s;
    apr_pool_t *pool;
    ap_dbd_t *dbd;
    int is_sqlite;
};

static APR_OPTIONAL_FN_TYPE(ap_dbd_acquire) *dbd_acquire;
static APR_OPTIONAL_FN_TYPE(ap_dbd_prepare) *dbd_prepare;
static APR_OPTIONAL_FN_TYPE(ap_dbd_open) *dbd_open;
static APR_OPTIONAL_FN_TYPE(ap_dbd_close) *dbd_close;

/* Logs on DB's request, or on its server outside a request. */
#define DB_LOG(db, level, ...)                                             \
    do {                                                                   \
        if ((db)->r) {                                                     \
            ap_log_rerror(APLOG_MARK, level, 0, (db)->r, __VA_ARGS__);     \
        }                                                                  \
        else {                                                             \
            ap_log_error(APLOG_MARK, level, 0, (db)->s, __VA_ARGS__);      \
        }                                                                  \
    } while (0)

int aapi_store_available(void)
{
    if (!dbd_acquire || !dbd_prepare || !dbd_open || !dbd_close) {
        dbd_acquire = APR_RETRIEVE_OPTIONAL_FN(ap_dbd_acquire);
        dbd_prepare = APR_RETRIEVE_OPTIONAL_FN(ap_dbd_prepare);
        dbd_open = APR_RETRIEVE_OPTIONAL_FN(ap_dbd_open);
        dbd_close = APR_RETRIEVE_OPTIONAL_FN(ap_dbd_close);
    }
    return dbd_acquire && dbd_prepare && dbd_open && dbd_close;
}

void aapi_store_prepare(server_rec *s, apr_hash_t *done)
{
    const aapi_sql_t *q;
    module *dbd_mod = ap_find_linked_module("mod_dbd.c");
    void *dbd_cfg = dbd_mod ? ap_get_module_config(s->module_config, dbd_mod)
                            : NULL;

    if (!aapi_store_available()) {
        return;
    }
    /* a virtual host without DBD directives shares the configuration of
     * mod_dbd with the server it inherits from: the statements are already
     * there, and registering them again makes mod_dbd warn of conflicts */
    if (dbd_cfg) {
        if (apr_hash_get(done, &dbd_cfg, sizeof(dbd_cfg))) {
            return;
        }
        apr_hash_set(done, apr_pmemdup(apr_hash_pool_get(done), &dbd_cfg,
                                       sizeof(dbd_cfg)),
                     sizeof(dbd_cfg), "");
    }
    for (q = aapi_sql_statements; q->label; q++) {
        dbd_prepare(s, q->sql, q->label);
    }
}

/* ==== connections ==== */

/* Runs one statement that may return rows and reads them all; returns the
 * driver's result code. */
static int exec_select_drain(const apr_dbd_driver_t *drv, apr_pool_t *p,
                             apr_dbd_t *h, const char *sql)
{
    apr_dbd_results_t *res = NULL;
    apr_dbd_row_t *row = NULL;
    int rv = apr_dbd_select(drv, p, h, &res, sql, 0);

    if (rv == 0) {
        while (apr_dbd_get_row(drv, p, res, &row, -1) == 0) {
            /* drain */
        }
    }
    return rv;
}

/* Sets per-connection options once for each pooled connection. Flag pragmas
 * such as foreign_keys would expire the statements mod_dbd prepared, so the
 * store deletes dependent rows itself. */
static void conn_init(aapi_db_t *db)
{
    void *done = NULL;
    int nrows;

    apr_pool_userdata_get(&done, "aapi-conn-init", db->dbd->pool);
    if (done) {
        return;
    }
    if (db->is_sqlite) {
        aapi_sqlite_wait_setup(db->dbd->driver, db->dbd->handle);
        apr_dbd_query(db->dbd->driver, db->dbd->handle, &nrows,
                      "PRAGMA synchronous = NORMAL");
    }
    apr_pool_userdata_setn("done", "aapi-conn-init", NULL, db->dbd->pool);
}

/* A handle on DBD for request R (NULL outside a request) of server S,
 * from P, its connection set up once. */
static aapi_db_t *db_new(apr_pool_t *p, request_rec *r, server_rec *s,
                         ap_dbd_t *dbd)
{
    aapi_db_t *db = apr_pcalloc(p, sizeof(*db));

    db->r = r;
    db->s = s;
    db->pool = p;
    db->dbd = dbd;
    db->is_sqlite = strcmp(apr_dbd_name(dbd->driver), "sqlite3") == 0;
    conn_init(db);
    return db;
}

aapi_status_t aapi_store_open(request_rec *r, aapi_db_t **out)
{
    ap_dbd_t *dbd;

    if (!aapi_store_available() || !(dbd = dbd_acquire(r))) {
        ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r, AAPI_LOGNO(0101)
                      "no database connection (check DBDriver/DBDParams "
                      "and that the database is reachable)");
        return AAPI_UNAVAILABLE;
    }
    *out = db_new(r->pool, r, r->server, dbd);
    return AAPI_OK;
}

/* Gives DATA's connection back to mod_dbd (a pool cleanup). */
static apr_status_t db_release(void *data)
{
    aapi_db_t *db = data;

    dbd_close(db->s, db->dbd);
    return APR_SUCCESS;
}

aapi_status_t aapi_store_open_server(server_rec *s, apr_pool_t *p,
                                     aapi_db_t **out)
{
    aapi_db_t *db;
    ap_dbd_t *dbd;

    if (!aapi_store_available() || !(dbd = dbd_open(p, s))) {
        ap_log_error(APLOG_MARK, APLOG_WARNING, 0, s, AAPI_LOGNO(0105)
                     "no database connection for the pruning of ended "
                     "sessions; it is tried again next time");
        return AAPI_UNAVAILABLE;
    }
    db = db_new(p, NULL, s, dbd);
    apr_pool_cleanup_register(p, db, db_release, apr_pool_cleanup_null);
    *out = db;
    return AAPI_OK;
}

/* ==== statements ==== */

/* Returns the prepared statement LABEL, or NULL after logging. */
static apr_dbd_prepared_t *stmt(aapi_db_t *db, const char *label)
{
    apr_dbd_prepared_t *st = apr_hash_get(db->dbd->prepared, label,
                                          APR_HASH_KEY_STRING);
    if (!st) {
        DB_LOG(db, APLOG_ERR, AAPI_LOGNO(0102)
               "prepared statement %s missing", label);
    }
    return st;
}

/* Maps driver result RV to a store status; logs unexpected errors. */
static aapi_status_t map_error(aapi_db_t *db, const char *label, int rv)
{
    const char *msg = apr_dbd_error(db->dbd->driver, db->dbd->handle, rv);

    if (db->is_sqlite) {
        /* statements prepared the legacy way report SQLITE_ERROR for a
         * constraint; the message names it */
        if (rv == SQLITE_CONSTRAINT_RC
            || (msg && strstr(msg, "UNIQUE constraint failed"))) {
            return AAPI_CONFLICT;
        }
        if (rv == SQLITE_BUSY_RC || rv == SQLITE_LOCKED_RC) {
            DB_LOG(db, APLOG_WARNING, AAPI_LOGNO(0103)
                   "%s: database busy", label);
            return AAPI_UNAVAILABLE;
        }
    }
    else {
        if (rv == MYSQL_DUP_ENTRY) return AAPI_CONFLICT;
        if (rv == MYSQL_LOCK_WAIT || rv == MYSQL_DEADLOCK) {
            return AAPI_UNAVAILABLE;
        }
    }
    DB_LOG(db, APLOG_ERR, AAPI_LOGNO(0104)
           "%s failed (%d): %s", label, rv, msg ? msg : "?");
    /* a connection that fails for other reasons is treated as gone */
    return AAPI_UNAVAILABLE;
}

/* Runs select LABEL with NARGS string ARGS; returns AAPI_OK with *ROWS, an
 * array of at most MAXROWS rows, each a copied array of column strings. */
static aapi_status_t select_rows(aapi_db_t *db, const char *label, int nargs,
                                 const char **args, int maxrows,
                                 apr_array_header_t **rows)
{
    const apr_dbd_driver_t *drv = db->dbd->driver;
    apr_dbd_prepared_t *st = stmt(db, label);
    apr_dbd_results_t *res = NULL;
    apr_dbd_row_t *row = NULL;
    int rv, ncols;

    if (!st) {
        return AAPI_INTERNAL;
    }
    rv = apr_dbd_pselect(drv, db->pool, db->dbd->handle, &res, st, 0, nargs,
                         args);
    if (rv != 0) {
        return map_error(db, label, rv);
    }
    ncols = apr_dbd_num_cols(drv, res);
    *rows = apr_array_make(db->pool, maxrows, sizeof(const char **));
    while (apr_dbd_get_row(drv, db->pool, res, &row, -1) == 0) {
        if ((*rows)->nelts < maxrows) {
            const char **cols = apr_pcalloc(db->pool,
                                            sizeof(char *) * (size_t)ncols);
            int i;
            for (i = 0; i < ncols; i++) {
                const char *v = apr_dbd_get_entry(drv, row, i);
                cols[i] = v ? apr_pstrdup(db->pool, v) : NULL;
            }
            APR_ARRAY_PUSH(*rows, const char **) = cols;
        }
        /* the rest is read and dropped, so the connection stays in step */
    }
    return AAPI_OK;
}

/* Runs statement LABEL; returns AAPI_OK with *AFFECTED rows. */
static aapi_status_t exec_stmt(aapi_db_t *db, const char *label, int nargs,
                               const char **args, int *affected)
{
    apr_dbd_prepared_t *st = stmt(db, label);
    int rv, n = 0;

    if (!st) {
        return AAPI_INTERNAL;
    }
    rv = apr_dbd_pquery(db->dbd->driver, db->pool, db->dbd->handle, &n, st,
                        nargs, args);
    if (rv != 0) {
        return map_error(db, label, rv);
    }
    if (affected) {
        *affected = n;
    }
    return AAPI_OK;
}

/* Returns the user held in COLS (AAPI_USER_COLS order). */
static aapi_user_t *user_from_cols(apr_pool_t *p, const char **cols)
{
    aapi_user_t *u = apr_pcalloc(p, sizeof(*u));

    u->id = cols[0];
    u->email = cols[1];
    u->email_norm = cols[2];
    u->username = cols[3];
    u->username_norm = cols[4];
    u->password_hash = cols[5];
    u->first_name = cols[6];
    u->last_name = cols[7];
    u->full_name = cols[8];
    u->role = cols[9] ? cols[9] : "user";
    u->profile = cols[10] ? cols[10] : "{}";
    u->email_verified = cols[11] && atoi(cols[11]) != 0;
    u->disabled = cols[12] && atoi(cols[12]) != 0;
    u->created_at = cols[13] ? apr_atoi64(cols[13]) : 0;
    u->updated_at = cols[14] ? apr_atoi64(cols[14]) : 0;
    return u;
}

/* Runs a user select and returns its one user. */
static aapi_status_t select_user(aapi_db_t *db, const char *label, int nargs,
                                 const char **args, aapi_user_t **out)
{
    apr_array_header_t *rows;
    aapi_status_t st = select_rows(db, label, nargs, args, 1, &rows);

    if (st != AAPI_OK) {
        return st;
    }
    if (rows->nelts == 0) {
        return AAPI_NOT_FOUND;
    }
    *out = user_from_cols(db->pool, APR_ARRAY_IDX(rows, 0, const char **));
    return AAPI_OK;
}

aapi_status_t aapi_store_ping(aapi_db_t *db)
{
    apr_array_header_t *rows;
    aapi_status_t st = select_rows(db, AAPI_SQL_PING, 0, NULL, 1, &rows);
    return st == AAPI_OK && rows->nelts == 1 ? AAPI_OK : AAPI_UNAVAILABLE;
}

aapi_status_t aapi_store_user_by_login(aapi_db_t *db, const char *norm,
                                       aapi_user_t **out)
{
    const char *args[2] = { norm, norm };
    return select_user(db, AAPI_SQL_USER_BY_LOGIN, 2, args, out);
}

aapi_status_t aapi_store_user_by_id(aapi_db_t *db, const char *id,
                                    aapi_user_t **out)
{
    const char *args[1] = { id };
    return select_user(db, AAPI_SQL_USER_BY_ID, 1, args, out);
}

aapi_status_t aapi_store_session_user(aapi_db_t *db, const char *sid,
                                      const char *uid, apr_int64_t now,
                                      aapi_user_t **out)
{
    const char *args[3] = { sid, uid, aapi_i64_text(db->pool, now) };
    return select_user(db, AAPI_SQL_SESSION_USER, 3, args, out);
}

/* Returns 1 when select LABEL with ARG finds a row, 0 when not, -1 on
 * error. */
static int exists(aapi_db_t *db, const char *label, const char *arg)
{
    apr_array_header_t *rows;

    if (!arg) {
        return 0;
    }
    if (select_rows(db, label, 1, &arg, 1, &rows) != AAPI_OK) {
        return -1;
    }
    return rows->nelts > 0;
}

/* Tells which unique key a failed write of USER ran into. */
static aapi_status_t which_conflict(aapi_db_t *db, const aapi_user_t *u,
                                    int check_email)
{
    int e = check_email ? exists(db, AAPI_SQL_EMAIL_EXISTS, u->email_norm) : 0;
    int n;

    if (e < 0) return AAPI_UNAVAILABLE;
    if (e > 0) return AAPI_EMAIL_TAKEN;
    n = exists(db, AAPI_SQL_USERNAME_EXISTS, u->username_norm);
    if (n < 0) return AAPI_UNAVAILABLE;
    if (n > 0) return AAPI_USERNAME_TAKEN;
    return AAPI_CONFLICT;
}

/* Starts a transaction on DB; returns AAPI_OK with *TXN. */
static aapi_status_t txn_begin(aapi_db_t *db, apr_dbd_transaction_t **txn)
{
    int rv;

    *txn = NULL;
    rv = apr_dbd_transaction_start(db->dbd->driver, db->pool, db->dbd->handle,
                                   txn);
    return rv == 0 ? AAPI_OK : map_error(db, "begin", rv);
}

/* Commits TXN when ST is AAPI_OK, else rolls it back; returns ST, or the
 * failure of the commit. */
static aapi_status_t txn_end(aapi_db_t *db, apr_dbd_transaction_t *txn,
                             aapi_status_t st)
{
    int rv;

    if (st != AAPI_OK) {
        apr_dbd_transaction_mode_set(db->dbd->driver, txn,
                                     APR_DBD_TRANSACTION_ROLLBACK);
    }
    rv = apr_dbd_transaction_end(db->dbd->driver, db->pool, txn);
    if (st == AAPI_OK && rv != 0) {
        return map_error(db, "commit", rv);
    }
    return st;
}

/* Inserts SESS within the current connection state. */
static aapi_status_t insert_session(aapi_db_t *db, const aapi_session_t *s)
{
    const char *args[8];

    args[0] = s->id;
    args[1] = s->user_id;
    args[2] = s->refresh_hash;
    args[3] = aapi_i64_text(db->pool, s->created_at);
    args[4] = aapi_i64_text(db->pool, s->last_used_at);
    args[5] = aapi_i64_text(db->pool, s->expires_at);
    args[6] = s->ip;
    args[7] = s->user_agent;
    return exec_stmt(db, AAPI_SQL_SESSION_INSERT, 8, args, NULL);
}

aapi_status_t aapi_store_create_user(aapi_db_t *db, const aapi_user_t *u,
                                     const aapi_session_t *sess)
{
    apr_dbd_transaction_t *txn = NULL;
    const char *args[11];
    aapi_status_t st;

    args[0] = u->id;
    args[1] = u->email;
    args[2] = u->email_norm;
    args[3] = u->username;
    args[4] = u->username_norm;
    args[5] = u->password_hash;
    args[6] = u->first_name;
    args[7] = u->last_name;
    args[8] = u->full_name;
    args[9] = aapi_i64_text(db->pool, u->created_at);
    args[10] = aapi_i64_text(db->pool, u->updated_at);

    if ((st = txn_begin(db, &txn)) != AAPI_OK) {
        return st;
    }
    st = exec_stmt(db, AAPI_SQL_USER_INSERT, 11, args, NULL);
    if (st == AAPI_OK && sess) {
        st = insert_session(db, sess);
    }
    st = txn_end(db, txn, st);
    if (st == AAPI_CONFLICT) {
        return which_conflict(db, u, 1);
    }
    return st;
}

aapi_status_t aapi_store_create_session(aapi_db_t *db,
                                        const aapi_session_t *s,
                                        const char *pw_hash)
{
    const char *args[9];
    int n = 0;
    aapi_status_t st;

    args[0] = s->id;
    args[1] = s->refresh_hash;
    args[2] = aapi_i64_text(db->pool, s->created_at);
    args[3] = aapi_i64_text(db->pool, s->last_used_at);
    args[4] = aapi_i64_text(db->pool, s->expires_at);
    args[5] = s->ip;
    args[6] = s->user_agent;
    args[7] = s->user_id;
    args[8] = pw_hash;
    st = exec_stmt(db, AAPI_SQL_SESSION_INSERT_CHECKED, 9, args, &n);
    return st == AAPI_OK && n != 1 ? AAPI_NOT_FOUND : st;
}

aapi_status_t aapi_store_update_profile(aapi_db_t *db, const aapi_user_t *u)
{
    const char *args[8];
    int n = 0;
    aapi_status_t st;

    args[0] = u->username;
    args[1] = u->username_norm;
    args[2] = u->first_name;
    args[3] = u->last_name;
    args[4] = u->full_name;
    args[5] = u->profile;
    args[6] = aapi_i64_text(db->pool, u->updated_at);
    args[7] = u->id;
    /* MySQL counts only changed rows, so 0 rows is no error here */
    st = exec_stmt(db, AAPI_SQL_USER_UPDATE, 8, args, &n);
    if (st == AAPI_CONFLICT) {
        return which_conflict(db, u, 0);
    }
    return st;
}

/* ==== sessions ==== */

/* Returns the session held in COLS (AAPI_SESSION_COLS order). */
static aapi_session_t *session_from_cols(apr_pool_t *p, const char **cols)
{
    aapi_session_t *s = apr_pcalloc(p, sizeof(*s));

    s->id = cols[0];
    s->user_id = cols[1];
    s->refresh_hash = cols[2];
    s->prev_refresh_hash = cols[3];
    s->ip = cols[4];
    s->user_agent = cols[5];
    s->created_at = cols[6] ? apr_atoi64(cols[6]) : 0;
    s->last_used_at = cols[7] ? apr_atoi64(cols[7]) : 0;
    s->expires_at = cols[8] ? apr_atoi64(cols[8]) : 0;
    s->rotated_at = cols[9] ? apr_atoi64(cols[9]) : 0;
    s->revoked_at = cols[10] ? apr_atoi64(cols[10]) : 0;
    return s;
}

/* Runs session select LABEL; returns its rows as aapi_session_t in *OUT. */
static aapi_status_t select_sessions(aapi_db_t *db, const char *label,
                                     int nargs, const char **args, int max,
                                     apr_array_header_t **out)
{
    apr_array_header_t *rows;
    aapi_status_t st = select_rows(db, label, nargs, args, max, &rows);
    int i;

    if (st != AAPI_OK) {
        return st;
    }
    *out = apr_array_make(db->pool, rows->nelts, sizeof(aapi_session_t));
    for (i = 0; i < rows->nelts; i++) {
        APR_ARRAY_PUSH(*out, aapi_session_t) =
            *session_from_cols(db->pool, APR_ARRAY_IDX(rows, i, const char **));
    }
    return AAPI_OK;
}

aapi_status_t aapi_store_find_refresh(aapi_db_t *db, const char *hash,
                                      aapi_session_t **out,
                                      aapi_refresh_match_t *match)
{
    apr_array_header_t *found;
    aapi_status_t st;

    st = select_sessions(db, AAPI_SQL_SESSION_BY_REFRESH, 1, &hash, 1, &found);
    if (st == AAPI_OK && found->nelts == 1) {
        *out = &APR_ARRAY_IDX(found, 0, aapi_session_t);
        *match = AAPI_REFRESH_CURRENT;
        return AAPI_OK;
    }
    if (st == AAPI_OK) {
        st = select_sessions(db, AAPI_SQL_SESSION_BY_HISTORY, 1, &hash, 1,
                             &found);
    }
    if (st != AAPI_OK) {
        return st;
    }
    if (found->nelts == 0) {
        return AAPI_NOT_FOUND;
    }
    *out = &APR_ARRAY_IDX(found, 0, aapi_session_t);
    *match = (*out)->prev_refresh_hash
             && !strcmp((*out)->prev_refresh_hash, hash)
             ? AAPI_REFRESH_PREVIOUS : AAPI_REFRESH_OLDER;
    return AAPI_OK;
}

aapi_status_t aapi_store_rotate(aapi_db_t *db, const char *sid,
                                const char *old_hash, const char *new_hash,
                                apr_int64_t now_ms, apr_int64_t expires_at,
                                apr_int64_t forget_ms)
{
    apr_array_header_t *nth;
    const char *one[1] = { sid };
    const char *prune[2] = { sid, NULL };
    apr_dbd_transaction_t *txn;
    const char *t = aapi_i64_text(db->pool, now_ms / 1000);
    const char *ms = aapi_i64_text(db->pool, now_ms);
    const char *rot[7] = { new_hash, ms, t,
                           aapi_i64_text(db->pool, expires_at), sid,
                           old_hash, t };
    const char *hist[3] = { old_hash, sid, ms };
    aapi_status_t st;
    int n = 0;

    if ((st = txn_begin(db, &txn)) != AAPI_OK) {
        return st;
    }
    st = exec_stmt(db, AAPI_SQL_ROTATE, 7, rot, &n);
    if (st == AAPI_OK && n != 1) {
        st = AAPI_NOT_FOUND;
    }
    if (st == AAPI_OK) {
        st = exec_stmt(db, AAPI_SQL_HISTORY_INSERT, 3, hist, NULL);
    }
    /* bounded: a client that refreshes in a loop adds no more rows */
    if (st == AAPI_OK) {
        st = select_rows(db, AAPI_SQL_HISTORY_NTH, 1, one, 1, &nth);
    }
    if (st == AAPI_OK) {
        apr_int64_t cut = forget_ms;
        if (nth->nelts && APR_ARRAY_IDX(nth, 0, const char **)[0]) {
            apr_int64_t kth = apr_atoi64(APR_ARRAY_IDX(nth, 0,
                                                       const char **)[0]);
            /* that row and older ones go: the newest KEEP stay */
            cut = kth + 1 > cut ? kth + 1 : cut;
        }
        prune[1] = aapi_i64_text(db->pool, cut);
        st = exec_stmt(db, AAPI_SQL_HISTORY_PRUNE, 2, prune, NULL);
    }
    return txn_end(db, txn, st);
}

aapi_status_t aapi_store_touch_session(aapi_db_t *db, const char *sid,
                                       apr_int64_t now)
{
    const char *args[2] = { aapi_i64_text(db->pool, now), sid };
    return exec_stmt(db, AAPI_SQL_TOUCH, 2, args, NULL);
}

aapi_status_t aapi_store_rehash(aapi_db_t *db, const char *uid,
                                const char *old_hash, const char *new_hash)
{
    const char *args[3] = { new_hash, uid, old_hash };
    int n = 0;
    aapi_status_t st = exec_stmt(db, AAPI_SQL_REHASH, 3, args, &n);

    return st != AAPI_OK ? st : n == 1 ? AAPI_OK : AAPI_NOT_FOUND;
}

aapi_status_t aapi_store_end_session(aapi_db_t *db, const char *sid,
                                     const char *uid, apr_int64_t now)
{
    const char *t = aapi_i64_text(db->pool, now);
    const char *args[4] = { t, sid, uid, t };
    int n = 0;
    aapi_status_t st = exec_stmt(db, AAPI_SQL_END_SESSION, 4, args, &n);

    return st == AAPI_OK && n == 0 ? AAPI_NOT_FOUND : st;
}

aapi_status_t aapi_store_live_sessions(aapi_db_t *db, const char *uid,
                                       apr_int64_t now, int max,
                                       apr_array_header_t **out)
{
    const char *args[2] = { uid, aapi_i64_text(db->pool, now) };
    return select_sessions(db, AAPI_SQL_LIVE_SESSIONS, 2, args, max, out);
}

/* Upper bound of the session ids collected to mark ended in the cache; a
 * user with more live sessions has the rest refused once the cache's trust
 * (AuthAPISessionCacheTTL) runs out. */
#define MAX_ENDED_IDS AAPI_LIVE_ROWS_MAX

/* Collects the live session ids of UID but KEEP into *IDS. */
static aapi_status_t live_ids(aapi_db_t *db, const char *uid,
                              const char *keep, apr_int64_t now,
                              apr_array_header_t **ids)
{
    apr_array_header_t *live;
    aapi_status_t st = aapi_store_live_sessions(db, uid, now, MAX_ENDED_IDS,
                                                &live);
    int i;

    *ids = apr_array_make(db->pool, 8, sizeof(const char *));
    for (i = 0; st == AAPI_OK && i < live->nelts; i++) {
        const aapi_session_t *s = &APR_ARRAY_IDX(live, i, aapi_session_t);
        if (!keep || strcmp(s->id, keep) != 0) {
            APR_ARRAY_PUSH(*ids, const char *) = s->id;
        }
    }
    return st;
}

aapi_status_t aapi_store_end_sessions(aapi_db_t *db, const char *uid,
                                      const char *keep_sid, apr_int64_t now,
                                      apr_array_header_t **ended)
{
    const char *args[3] = { aapi_i64_text(db->pool, now), uid,
                            keep_sid ? keep_sid : "" };
    aapi_status_t st = live_ids(db, uid, keep_sid, now, ended);

    return st == AAPI_OK ? exec_stmt(db, AAPI_SQL_END_OTHER_SESSIONS, 3, args,
                                     NULL)
                         : st;
}

aapi_status_t aapi_store_set_password(aapi_db_t *db, const char *uid,
                                      const char *hash, const char *keep_sid,
                                      apr_int64_t now,
                                      apr_array_header_t **ended)
{
    apr_dbd_transaction_t *txn;
    const char *t = aapi_i64_text(db->pool, now);
    const char *pw[3] = { hash, t, uid };
    const char *end[3] = { t, uid, keep_sid ? keep_sid : "" };
    aapi_status_t st;
    int n = 0;

    if ((st = txn_begin(db, &txn)) != AAPI_OK) {
        return st;
    }
    st = live_ids(db, uid, keep_sid, now, ended);
    if (st == AAPI_OK) {
        st = exec_stmt(db, AAPI_SQL_SET_PASSWORD, 3, pw, &n);
    }
    if (st == AAPI_OK && n != 1) {
        st = AAPI_NOT_FOUND;
    }
    if (st == AAPI_OK) {
        st = exec_stmt(db, AAPI_SQL_END_OTHER_SESSIONS, 3, end, NULL);
    }
    return txn_end(db, txn, st);
}

aapi_status_t aapi_store_delete_user(aapi_db_t *db, const char *uid,
                                     apr_int64_t now,
                                     apr_array_header_t **ended)
{
    apr_dbd_transaction_t *txn;
    aapi_status_t st;
    int n = 0;

    if ((st = txn_begin(db, &txn)) != AAPI_OK) {
        return st;
    }
    st = live_ids(db, uid, NULL, now, ended);
    if (st == AAPI_OK) {
        st = exec_stmt(db, AAPI_SQL_DELETE_HISTORY, 1, &uid, NULL);
    }
    if (st == AAPI_OK) {
        st = exec_stmt(db, AAPI_SQL_DELETE_SESSIONS, 1, &uid, NULL);
    }
    if (st == AAPI_OK) {
        st = exec_stmt(db, AAPI_SQL_DELETE_USER, 1, &uid, &n);
    }
    if (st == AAPI_OK && n != 1) {
        st = AAPI_NOT_FOUND;
    }
    return txn_end(db, txn, st);
}

aapi_status_t aapi_store_prune(aapi_db_t *db, apr_int64_t cut, int *pruned)
{
    const char *t = aapi_i64_text(db->pool, cut);
    const char *args[3] = { NULL, t, t };
    apr_array_header_t *rows;
    apr_dbd_transaction_t *txn;
    aapi_status_t st;
    int i, n, done = 0;

    *pruned = 0;
    st = select_rows(db, AAPI_SQL_ENDED_SESSIONS, 2, args + 1,
                     AAPI_PRUNE_BATCH, &rows);
    if (st != AAPI_OK || rows->nelts == 0) {
        return st;
    }
    if ((st = txn_begin(db, &txn)) != AAPI_OK) {
        return st;
    }
    for (i = 0; st == AAPI_OK && i < rows->nelts; i++) {
        args[0] = APR_ARRAY_IDX(rows, i, const char **)[0];
        n = 0;
        if (!args[0]) {
            continue;
        }
        st = exec_stmt(db, AAPI_SQL_PRUNE_SESSION, 3, args, &n);
        if (st == AAPI_OK && n == 1) {
            st = exec_stmt(db, AAPI_SQL_PRUNE_HISTORY, 1, args, NULL);
            done++;
        }
    }
    st = txn_end(db, txn, st);
    if (st == AAPI_OK) {
        *pruned = done;
    }
    return st;
}

AAPI_COUNTED
aapi_status_t aapi_store_session_live(aapi_db_t *db, const char *sid,
                                      apr_int64_t now, aapi_user_t **out)
{
    const char *args[2] = { sid, aapi_i64_text(db->pool, now) };
    apr_array_header_t *rows;
    const char **cols;
    aapi_user_t *u;
    aapi_status_t st = select_rows(db, AAPI_SQL_SESSION_LIVE, 2, args, 1,
                                   &rows);

    if (st != AAPI_OK) {
        return st;
    }
    if (!rows->nelts) {
        return AAPI_NOT_FOUND;
    }
    cols = APR_ARRAY_IDX(rows, 0, const char **);
    if (!cols[0] || !cols[1] || !cols[3]) {
        return AAPI_NOT_FOUND;
    }
    u = apr_pcalloc(db->pool, sizeof(*u));
    u->id = cols[0];
    u->email = cols[1];
    u->username = cols[2];
    u->role = cols[3];
    u->email_verified = cols[4] && atoi(cols[4]) != 0;
    *out = u;
    return AAPI_OK;
}

void aapi_store_pre_config(void)
{
    aapi_sqlite_pre_config();
}

aapi_status_t aapi_store_live_ids(aapi_db_t *db, const char *uid,
                                  apr_int64_t now, apr_array_header_t **ids)
{
    return live_ids(db, uid, NULL, now, ids);
}

/* ==== the configuration tree: which DBDriver applies to a server ==== */

/* Returns the first argument of directive NODE, unquoted, from P. */
static const char *first_arg(apr_pool_t *p, const ap_directive_t *node)
{
    const char *args = node->args;
    return ap_getword_conf(p, &args);
}

/* Looks for DBDriver/DBDParams among the direct children from NODE on. */
static void scan_level(apr_pool_t *p, const ap_directive_t *node,
                       const char **driver, const char **params)
{
    for (; node; node = node->next) {
        if (!strcasecmp(node->directive, "DBDriver")) {
            *driver = first_arg(p, node);
        }
        else if (!strcasecmp(node->directive, "DBDParams")) {
            *params = first_arg(p, node);
        }
    }
}

int aapi_store_dbd_settings(server_rec *s, const char **driver,
                            const char **params)
{
    apr_pool_t *p = s->process->pconf;
    const ap_directive_t *node;
    const char *d = NULL, *prm = NULL;

    scan_level(p, ap_conftree, &d, &prm);
    if (s->is_virtual && s->defn_name) {
        for (node = ap_conftree; node; node = node->next) {
            if (!strcasecmp(node->directive, "<VirtualHost")
                && node->line_num == (int)s->defn_line_number
                && node->filename && !strcmp(node->filename, s->defn_name)) {
                const char *vd = NULL, *vp = NULL;
                scan_level(p, node->first_child, &vd, &vp);
                if (vd) d = vd;
                if (vp) prm = vp;
                break;
            }
        }
    }
    *driver = d;
    *params = prm ? prm : "";
    return d != NULL;
}

/* ==== connections of their own (start-up) ==== */

/* Opens DRIVER/PARAMS on a connection of its own into *DRV and *H (SQLite
 * waiting up to 30 s for a lock); returns AAPI_OK, AAPI_INTERNAL for a
 * driver apr-util lacks, or AAPI_UNAVAILABLE, with *ERR set. */
static aapi_status_t open_direct(apr_pool_t *p, const char *driver,
                                 const char *params,
                                 const apr_dbd_driver_t **drv, apr_dbd_t **h,
                                 const char **err)
{
    const char *open_err = NULL;

    *h = NULL;
    if (apr_dbd_get_driver(p, driver, drv) != APR_SUCCESS) {
        *err = apr_psprintf(p, "no apr_dbd driver '%s'", driver);
        return AAPI_INTERNAL;
    }
    if (apr_dbd_open_ex(*drv, p, params, h, &open_err) != APR_SUCCESS || !*h) {
        *err = apr_psprintf(p, "cannot open the database: %s",
                            open_err ? open_err : "unknown error");
        return AAPI_UNAVAILABLE;
    }
    if (!strcmp(driver, "sqlite3")) {
        exec_select_drain(*drv, p, *h, "PRAGMA busy_timeout = 30000");
    }
    return AAPI_OK;
}

/* ==== the database's id ==== */

/* Reads the id of the database on H into OUT; see aapi_store_db_id. The
 * query takes no input; it is not among the prepared statements, so that
 * a database without the table still gets its connections (mod_dbd
 * refuses a connection on which a statement fails to prepare). */
static aapi_status_t read_db_id(apr_pool_t *p, const apr_dbd_driver_t *drv,
                                apr_dbd_t *h, char *out)
{
    apr_dbd_results_t *res = NULL;
    apr_dbd_row_t *row = NULL;
    const char *v = NULL;
    size_t i, n = 0;
    int rows = 0;

    out[0] = '\0';
    if (apr_dbd_select(drv, p, h, &res, "SELECT id FROM aapi_instance", 0)
        != 0) {
        return AAPI_NOT_FOUND;
    }
    /* read to the end, so that the statement is done with */
    while (apr_dbd_get_row(drv, p, res, &row, -1) == 0) {
        if (rows++ == 0) {
            v = apr_dbd_get_entry(drv, row, 0);
            v = v ? apr_pstrdup(p, v) : NULL;
        }
    }
    if (rows != 1 || !v) {
        return AAPI_NOT_FOUND;
    }
    /* it names keys of memcache and redis too: letters and digits only */
    for (i = 0; v[i]; i++) {
        if (!apr_isalnum(v[i]) || ++n > AAPI_DB_ID_MAX) {
            return AAPI_NOT_FOUND;
        }
    }
    if (n == 0) {
        return AAPI_NOT_FOUND;
    }
    memcpy(out, v, n + 1);
    return AAPI_OK;
}

aapi_status_t aapi_store_db_id(aapi_db_t *db, char *out)
{
    return read_db_id(db->pool, db->dbd->driver, db->dbd->handle, out);
}

aapi_status_t aapi_store_db_id_at(apr_pool_t *p, const char *driver,
                                  const char *params, char *out,
                                  const char **err)
{
    const apr_dbd_driver_t *drv = NULL;
    apr_dbd_t *h = NULL;
    aapi_status_t st;

    out[0] = '\0';
    *err = NULL;
    if (open_direct(p, driver, params, &drv, &h, err) != AAPI_OK) {
        return AAPI_UNAVAILABLE;
    }
    st = read_db_id(p, drv, h, out);
    apr_dbd_close(drv, h);
    return st;
}

/* ==== migrations ==== */

/* Runs the statements of SQL (separated by ';' at line ends) on H; returns
 * 0 or the failing driver code with *ERR set. */
static int run_script(apr_pool_t *p, const apr_dbd_driver_t *drv,
                      apr_dbd_t *h, const char *sql, const char **err)
{
    char *copy = apr_pstrdup(p, sql), *stmt_start = copy, *c;
    int nrows, rv;

    for (c = copy; ; c++) {
        if (*c == ';' || *c == '\0') {
            int end = *c == '\0';
            char *t = stmt_start;
            *c = '\0';
            while (apr_isspace(*t)) t++;
            if (*t) {
                rv = apr_dbd_query(drv, h, &nrows, t);
                if (rv != 0) {
                    *err = apr_psprintf(p, "%s (in: %.60s...)",
                                        apr_dbd_error(drv, h, rv), t);
                    return rv;
                }
            }
            if (end) break;
            stmt_start = c + 1;
        }
    }
    return 0;
}

/* Returns the set of applied versions (a hash of "N" -> "") from H. */
static apr_hash_t *applied_versions(apr_pool_t *p, const apr_dbd_driver_t *drv,
                                    apr_dbd_t *h)
{
    apr_hash_t *set = apr_hash_make(p);
    apr_dbd_results_t *res = NULL;
    apr_dbd_row_t *row = NULL;

    if (apr_dbd_select(drv, p, h, &res,
                       "SELECT version FROM schema_migrations", 0) != 0) {
        return NULL;
    }
    while (apr_dbd_get_row(drv, p, res, &row, -1) == 0) {
        const char *v = apr_dbd_get_entry(drv, row, 0);
        if (v) {
            apr_hash_set(set, apr_psprintf(p, "%d", atoi(v)),
                         APR_HASH_KEY_STRING, "");
        }
    }
    return set;
}

/* Hands the SQLite file PATH (and its -wal/-shm) to the user the server
 * children run as, when we are root and created them. */
static void sqlite_chown(apr_pool_t *p, server_rec *s, const char *path)
{
    const char *suffix[] = { "", "-wal", "-shm", NULL };
    struct stat st;
    int i;

    if (geteuid() != 0 || ap_unixd_config.user_id == 0) {
        return;
    }
    for (i = 0; suffix[i]; i++) {
        const char *f = apr_pstrcat(p, path, suffix[i], NULL);
        if (stat(f, &st) == 0 && st.st_uid == 0
            && chown(f, ap_unixd_config.user_id, ap_unixd_config.group_id) != 0) {
            ap_log_error(APLOG_MARK, APLOG_WARNING, errno, s, AAPI_LOGNO(0110)
                         "cannot hand %s to the server user", f);
        }
    }
}

aapi_status_t aapi_store_migrate(apr_pool_t *p, server_rec *s,
                                 const char *driver, const char *params,
                                 const char **err)
{
    const apr_dbd_driver_t *drv = NULL;
    const aapi_migration_t *m;
    apr_dbd_t *h = NULL;
    apr_hash_t *done;
    int is_sqlite = !strcmp(driver, "sqlite3"), nrows, rv, applied = 0;
    aapi_status_t result = AAPI_OK;

    if (strcmp(driver, "sqlite3") && strcmp(driver, "mysql")) {
        *err = apr_psprintf(p, "DBDriver %s is not supported (sqlite3 or "
                            "mysql)", driver);
        return AAPI_INTERNAL;
    }
    if ((result = open_direct(p, driver, params, &drv, &h, err)) != AAPI_OK) {
        return result;
    }

    /* one process migrates at a time, however many servers start together */
    if (is_sqlite) {
        exec_select_drain(drv, p, h, "PRAGMA journal_mode = WAL");
        rv = apr_dbd_query(drv, h, &nrows, "BEGIN IMMEDIATE");
    }
    else {
        rv = exec_select_drain(drv, p, h,
                               "SELECT GET_LOCK('mod_auth_api_migrate', 60)");
    }
    if (rv != 0) {
        *err = apr_psprintf(p, "cannot lock the schema: %s",
                            apr_dbd_error(drv, h, rv));
        apr_dbd_close(drv, h);
        return AAPI_UNAVAILABLE;
    }

    rv = apr_dbd_query(drv, h, &nrows,
                       is_sqlite
                       ? "CREATE TABLE IF NOT EXISTS schema_migrations ("
                         "version INTEGER PRIMARY KEY, name TEXT NOT NULL, "
                         "applied_at INTEGER NOT NULL)"
                       : "CREATE TABLE IF NOT EXISTS schema_migrations ("
                         "version INT NOT NULL PRIMARY KEY, "
                         "name VARCHAR(200) NOT NULL, "
                         "applied_at BIGINT NOT NULL) ENGINE=InnoDB");
    done = rv == 0 ? applied_versions(p, drv, h) : NULL;
    if (!done) {
        *err = apr_psprintf(p, "cannot read schema_migrations: %s",
                            apr_dbd_error(drv, h, rv));
        result = AAPI_INTERNAL;
    }
    for (m = is_sqlite ? aapi_migrations_sqlite3 : aapi_migrations_mysql;
         result == AAPI_OK && m->version; m++) {
        const char *key = apr_psprintf(p, "%d", m->version);
        const char *ins;
        if (apr_hash_get(done, key, APR_HASH_KEY_STRING)) {
            continue;
        }
        if (run_script(p, drv, h, m->sql, err) != 0) {
            *err = apr_psprintf(p, "migration %s failed: %s", m->name, *err);
            result = AAPI_INTERNAL;
            break;
        }
        /* the version and name are compiled-in constants, not input */
        ins = apr_psprintf(p, "INSERT INTO schema_migrations (version, name, "
                           "applied_at) VALUES (%d, '%s', %" APR_INT64_T_FMT
                           ")", m->version, m->name, aapi_now());
        if ((rv = apr_dbd_query(drv, h, &nrows, ins)) != 0) {
            *err = apr_psprintf(p, "cannot record migration %s: %s", m->name,
                                apr_dbd_error(drv, h, rv));
            result = AAPI_INTERNAL;
            break;
        }
        applied++;
        ap_log_error(APLOG_MARK, APLOG_NOTICE, 0, s, AAPI_LOGNO(0111)
                     "applied schema migration %s", m->name);
    }
    if (is_sqlite) {
        apr_dbd_query(drv, h, &nrows, result == AAPI_OK ? "COMMIT" : "ROLLBACK");
    }
    else {
        exec_select_drain(drv, p, h,
                          "SELECT RELEASE_LOCK('mod_auth_api_migrate')");
    }
    apr_dbd_close(drv, h);
    if (is_sqlite) {
        sqlite_chown(p, s, params);
    }
    return result;
}
