/* cache.h - level 3: state shared by the processes of a server (session
 * state, rate-limit counters) in a mod_socache instance. Only cache.c
 * includes ap_socache.h. */
#ifndef AAPI_CACHE_H
#define AAPI_CACHE_H

#include "aapi.h"

typedef struct aapi_cache aapi_cache_t;

/* Registers the cache's global mutex type; call from pre_config. */
int aapi_cache_pre_config(apr_pool_t *pconf);

/* Checks SPEC ("provider" or "provider:args") when the directive is read;
 * returns NULL or an error message. */
const char *aapi_cache_check_spec(apr_pool_t *p, const char *spec);

/* Returns the cache for SPEC, creating it (from post_config) the first time
 * a spec is seen in this configuration; NULL with *ERR set on failure. */
aapi_cache_t *aapi_cache_get_instance(apr_pool_t *pconf, apr_pool_t *ptemp,
                                      server_rec *s, const char *spec,
                                      const char **err);

/* Returns 1 when C is shared by several servers (memcache, redis): its
 * answers then reach beyond this machine. */
int aapi_cache_is_networked(const aapi_cache_t *c);

/* Re-opens the global mutex in a new child; call from child_init. */
void aapi_cache_child_init(apr_pool_t *p, server_rec *s);

/* Reads KEY into BUF (room for *LEN bytes; *LEN set to the value length);
 * returns APR_SUCCESS, APR_NOTFOUND or an error. */
apr_status_t aapi_cache_get(aapi_cache_t *c, server_rec *s, const char *key,
                            char *buf, unsigned int *len, apr_pool_t *p);

/* Stores VAL (LEN bytes) under KEY until EXPIRY; returns APR_SUCCESS or an
 * error. */
apr_status_t aapi_cache_set(aapi_cache_t *c, server_rec *s, const char *key,
                            const char *val, unsigned int len,
                            apr_time_t expiry, apr_pool_t *p);

/* The longest value aapi_cache_set_unless reads back; longer values are
 * not to be stored where it runs (memcache logs an error for a value
 * longer than the buffer it reads into). */
#define AAPI_CACHE_VALUE_MAX 512

/* Stores VAL (LEN bytes) under KEY until EXPIRY unless the value stored
 * there now is a single byte found in UNLESS (a string of one-byte
 * states), read and written under one lock; returns APR_SUCCESS,
 * APR_EEXIST when such a state was there, or an error. */
apr_status_t aapi_cache_set_unless(aapi_cache_t *c, server_rec *s,
                                   const char *key, const char *val,
                                   unsigned int len, apr_time_t expiry,
                                   const char *unless, apr_pool_t *p);

#endif
