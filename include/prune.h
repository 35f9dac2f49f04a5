/* prune.h - level 4: the deletion of ended sessions, in the background
 * (mod_watchdog), never in a request. */
#ifndef AAPI_PRUNE_H
#define AAPI_PRUNE_H

#include "aapi.h"

#include "apr_hash.h"

/* Notes (post_config) that server S, whose database DBKEY names (driver
 * and parameters), prunes every INTERVAL seconds (0: never). A database
 * that several servers use is pruned once, at the shortest interval
 * among them; JOBS (from P) holds what was noted. */
void aapi_prune_note(apr_pool_t *p, apr_hash_t *jobs, const char *dbkey,
                     server_rec *s, apr_int64_t interval);

/* Registers one watchdog callback for each database of JOBS (post_config,
 * before mod_watchdog's): a singleton, so one process of the server
 * prunes. Logs and returns when mod_watchdog is not loaded. */
void aapi_prune_start(apr_pool_t *pconf, server_rec *s, apr_hash_t *jobs);

#endif
