/*
 * cache.c - level 3: one mod_socache instance per distinct AuthAPISOCache
 * value, created in post_config, with a global mutex around every access
 * when the provider is not safe across processes (shmcb).
 */
#include "aapi.h"
#include "cache.h"

#include "ap_provider.h"
#include "ap_socache.h"
#include "apr_global_mutex.h"
#include "apr_hash.h"
#include "util_mutex.h"

#include <string.h>

#define MUTEX_TYPE "auth-api-cache"

struct aapi_cache {
    const char *spec;
    int networked;
    const ap_socache_provider_t *provider;
    ap_socache_instance_t *instance;
    int needs_lock;
};

static apr_global_mutex_t *cache_mutex;
static apr_hash_t *instances;          /* spec -> aapi_cache_t, per config */

int aapi_cache_pre_config(apr_pool_t *pconf)
{
    instances = NULL;
    cache_mutex = NULL;
    return ap_mutex_register(pconf, MUTEX_TYPE, NULL, APR_LOCK_DEFAULT, 0)
           == APR_SUCCESS ? OK : !OK;
}

/* Splits SPEC into provider NAME and ARGS (may be NULL), from P. */
static void split_spec(apr_pool_t *p, const char *spec, const char **name,
                       const char **args)
{
    const char *colon = strchr(spec, ':');

    *name = colon ? apr_pstrmemdup(p, spec, (apr_size_t)(colon - spec)) : spec;
    *args = colon ? colon + 1 : NULL;
}

const char *aapi_cache_check_spec(apr_pool_t *p, const char *spec)
{
    const char *name, *args;

    split_spec(p, spec, &name, &args);
    if (!ap_lookup_provider(AP_SOCACHE_PROVIDER_GROUP, name,
                            AP_SOCACHE_PROVIDER_VERSION)) {
        return apr_psprintf(p, "socache provider '%s' is not loaded (e.g. "
                            "LoadModule socache_%s_module)", name, name);
    }
    return NULL;
}

/* Pool cleanup: destroys a cache instance with its configuration. */
static apr_status_t cache_destroy(void *data)
{
    aapi_cache_t *c = data;

    if (c->instance) {
        c->provider->destroy(c->instance, NULL);
        c->instance = NULL;
    }
    return APR_SUCCESS;
}

aapi_cache_t *aapi_cache_get_instance(apr_pool_t *pconf, apr_pool_t *ptemp,
                                      server_rec *s, const char *spec,
                                      const char **err)
{
    struct ap_socache_hints hints = { 40, 16, apr_time_from_sec(30) };
    const char *name, *args;
    aapi_cache_t *c;
    apr_status_t rv;

    if (!instances) {
        instances = apr_hash_make(pconf);
    }
    c = apr_hash_get(instances, spec, APR_HASH_KEY_STRING);
    if (c) {
        return c;
    }
    c = apr_pcalloc(pconf, sizeof(*c));
    c->spec = apr_pstrdup(pconf, spec);
    split_spec(pconf, c->spec, &name, &args);
    c->provider = ap_lookup_provider(AP_SOCACHE_PROVIDER_GROUP, name,
                                     AP_SOCACHE_PROVIDER_VERSION);
    if (!c->provider) {
        *err = apr_psprintf(ptemp, "socache provider '%s' is not loaded",
                            name);
        return NULL;
    }
    *err = c->provider->create(&c->instance, args, ptemp, pconf);
    if (*err) {
        return NULL;
    }
    c->needs_lock = (c->provider->flags & AP_SOCACHE_FLAG_NOTMPSAFE) != 0;
    c->networked = !strcmp(name, "memcache") || !strcmp(name, "redis");
    if (c->needs_lock && !cache_mutex) {
        rv = ap_global_mutex_create(&cache_mutex, NULL, MUTEX_TYPE, NULL, s,
                                    pconf, 0);
        if (rv != APR_SUCCESS) {
            *err = "cannot create the cache mutex";
            return NULL;
        }
    }
    rv = c->provider->init(c->instance, "auth-api", &hints, s, pconf);
    if (rv != APR_SUCCESS) {
        *err = apr_psprintf(ptemp, "cannot initialise socache '%s'", spec);
        return NULL;
    }
    apr_pool_cleanup_register(pconf, c, cache_destroy, apr_pool_cleanup_null);
    apr_hash_set(instances, c->spec, APR_HASH_KEY_STRING, c);
    return c;
}

int aapi_cache_is_networked(const aapi_cache_t *c)
{
    return c && c->networked;
}

void aapi_cache_child_init(apr_pool_t *p, server_rec *s)
{
    if (cache_mutex) {
        apr_status_t rv = apr_global_mutex_child_init(
            &cache_mutex, apr_global_mutex_lockfile(cache_mutex), p);
        if (rv != APR_SUCCESS) {
            ap_log_error(APLOG_MARK, APLOG_CRIT, rv, s, AAPI_LOGNO(0601)
                         "cannot reopen the cache mutex in this child");
        }
    }
}

apr_status_t aapi_cache_get(aapi_cache_t *c, server_rec *s, const char *key,
                            char *buf, unsigned int *len, apr_pool_t *p)
{
    apr_status_t rv;

    if (!c) {
        return APR_NOTFOUND;
    }
    if (c->needs_lock && (rv = apr_global_mutex_lock(cache_mutex))) {
        return rv;
    }
    rv = c->provider->retrieve(c->instance, s, (const unsigned char *)key,
                               (unsigned int)strlen(key),
                               (unsigned char *)buf, len, p);
    if (c->needs_lock) {
        apr_global_mutex_unlock(cache_mutex);
    }
    return rv;
}

apr_status_t aapi_cache_set(aapi_cache_t *c, server_rec *s, const char *key,
                            const char *val, unsigned int len,
                            apr_time_t expiry, apr_pool_t *p)
{
    return aapi_cache_set_unless(c, s, key, val, len, expiry, NULL, p);
}

apr_status_t aapi_cache_set_unless(aapi_cache_t *c, server_rec *s,
                                   const char *key, const char *val,
                                   unsigned int len, apr_time_t expiry,
                                   const char *unless, apr_pool_t *p)
{
    unsigned char cur[AAPI_CACHE_VALUE_MAX];
    unsigned int curlen = sizeof(cur);
    unsigned int klen = (unsigned int)strlen(key);
    apr_status_t rv;

    if (!c) {
        return APR_ENOTIMPL;
    }
    if (c->needs_lock && (rv = apr_global_mutex_lock(cache_mutex))) {
        return rv;
    }
    /* the read and the write under one lock: nothing can store one of
     * the states of UNLESS between them (for a cache without the lock, a
     * networked one, the window is only narrowed) */
    if (unless
        && c->provider->retrieve(c->instance, s, (const unsigned char *)key,
                                 klen, cur, &curlen, p) == APR_SUCCESS
        && curlen == 1 && cur[0] && strchr(unless, cur[0])) {
        rv = APR_EEXIST;
    }
    else {
        rv = c->provider->store(c->instance, s, (const unsigned char *)key,
                                klen, expiry, (unsigned char *)val, len, p);
    }
    if (c->needs_lock) {
        apr_global_mutex_unlock(cache_mutex);
    }
    return rv;
}
