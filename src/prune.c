/*
 * prune.c - level 4: deletes the sessions that ended (revoked, or past
 * their expiry) at least AuthAPIPruneInterval ago, with their refresh
 * history, every AuthAPIPruneInterval, from a mod_watchdog callback: a
 * request never waits for it. An ended session can no longer pass any
 * check (its access tokens are refused with or without its row; a refresh
 * token of it is unknown either way, and answered the same), so pruning
 * changes no answer; it keeps the tables from growing with every login.
 * Bounded: AAPI_PRUNE_BATCH sessions a transaction, PRUNE_BATCHES
 * transactions a run; a longer backlog goes at the next run.
 */
#include "aapi.h"
#include "config.h"
#include "prune.h"
#include "store.h"
#include "util.h"

#include "apr_optional.h"
#include "mod_watchdog.h"

#define PRUNE_BATCHES 20
#define PRUNE_WATCHDOG "auth-api-prune"

typedef struct {
    server_rec *s;            /* the first server that uses the database */
    apr_int64_t interval;     /* seconds, > 0 */
} prune_job_t;

void aapi_prune_note(apr_pool_t *p, apr_hash_t *jobs, const char *dbkey,
                     server_rec *s, apr_int64_t interval)
{
    prune_job_t *job = apr_hash_get(jobs, dbkey, APR_HASH_KEY_STRING);

    if (interval <= 0) {
        return;
    }
    if (!job) {
        job = apr_pcalloc(p, sizeof(*job));
        job->s = s;
        job->interval = interval;
        apr_hash_set(jobs, apr_pstrdup(p, dbkey), APR_HASH_KEY_STRING, job);
    }
    else if (interval < job->interval) {
        job->interval = interval;
    }
}

/* One run for the database of DATA (a prune_job_t); P is cleared after
 * it. Always returns APR_SUCCESS: mod_watchdog stops calling a callback
 * that fails, and a database that is away now may be back next time. */
static apr_status_t prune_run(int state, void *data, apr_pool_t *p)
{
    const prune_job_t *job = data;
    apr_int64_t cut;
    aapi_db_t *db;
    aapi_status_t st = AAPI_OK;
    int i, n = 0, total = 0;

    if (state != AP_WATCHDOG_STATE_RUNNING) {
        return APR_SUCCESS;
    }
    if (aapi_store_open_server(job->s, p, &db) != AAPI_OK) {
        return APR_SUCCESS;
    }
    cut = aapi_now() - job->interval;
    for (i = 0; i < PRUNE_BATCHES; i++) {
        st = aapi_store_prune(db, cut, &n);
        total += n;
        if (st != AAPI_OK || n < AAPI_PRUNE_BATCH) {
            break;
        }
    }
    if (total > 0 || st != AAPI_OK) {
        ap_log_error(APLOG_MARK, st == AAPI_OK ? APLOG_INFO : APLOG_WARNING,
                     0, job->s, AAPI_LOGNO(1101)
                     "pruning: %d session%s that ended before %s deleted%s",
                     total, total == 1 ? "" : "s", aapi_rfc3339(p, cut),
                     st == AAPI_OK ? "" : "; stopped by a database error, "
                     "the rest goes next time");
    }
    return APR_SUCCESS;
}

void aapi_prune_start(apr_pool_t *pconf, server_rec *s, apr_hash_t *jobs)
{
    APR_OPTIONAL_FN_TYPE(ap_watchdog_get_instance) *get_instance;
    APR_OPTIONAL_FN_TYPE(ap_watchdog_register_callback) *register_callback;
    apr_hash_index_t *hi;
    ap_watchdog_t *wd = NULL;
    apr_status_t rv;

    if (apr_hash_count(jobs) == 0) {
        return;
    }
    get_instance = APR_RETRIEVE_OPTIONAL_FN(ap_watchdog_get_instance);
    register_callback =
        APR_RETRIEVE_OPTIONAL_FN(ap_watchdog_register_callback);
    if (!get_instance || !register_callback) {
        ap_log_error(APLOG_MARK, APLOG_WARNING, 0, s, AAPI_LOGNO(1102)
                     "mod_watchdog is not loaded: ended sessions are not "
                     "pruned (AuthAPIPruneInterval)");
        return;
    }
    /* a child watchdog (the parent serves no database) and a singleton:
     * one process of the server runs the callbacks */
    rv = get_instance(&wd, PRUNE_WATCHDOG, 0, 1, pconf);
    if (rv != APR_SUCCESS || !wd) {
        ap_log_error(APLOG_MARK, APLOG_WARNING, rv, s, AAPI_LOGNO(1103)
                     "no watchdog: ended sessions are not pruned");
        return;
    }
    for (hi = apr_hash_first(pconf, jobs); hi; hi = apr_hash_next(hi)) {
        prune_job_t *job = apr_hash_this_val(hi);

        rv = register_callback(wd, apr_time_from_sec(job->interval), job,
                               prune_run);
        if (rv != APR_SUCCESS) {
            ap_log_error(APLOG_MARK, APLOG_WARNING, rv, job->s,
                         AAPI_LOGNO(1104) "ended sessions of this server's "
                         "database are not pruned: no watchdog callback");
        }
    }
}
