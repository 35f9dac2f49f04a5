/*
 * mod_auth_api.c - the module record, the directive table and the hooks:
 * the only file that registers anything with httpd.
 *
 * Start-up: check_config refuses a configuration that cannot work (a handler
 * without a database or a secret); post_config builds the signing keys, the
 * dummy password hash, applies database migrations and registers the SQL
 * statements with mod_dbd before mod_dbd's own post_config reads them.
 */
#define AAPI_MODULE_FILE 1
#include "aapi.h"
#include "authn.h"
#include "cache.h"
#include "tokcache.h"
#include "config.h"
#include "handlers.h"
#include "keys.h"
#include "password.h"
#include "prune.h"
#include "store.h"
#include "tokens.h"
#include "validate.h"

#include "apr_hash.h"
#include "http_protocol.h"
#include "http_request.h"

#include <string.h>
#include <strings.h>

/* Logs a start-up error that stops the server; returns !OK. */
static int startup_error(server_rec *s, const char *msg)
{
    ap_log_error(APLOG_MARK, APLOG_STARTUP | APLOG_EMERG, 0, NULL,
                 "mod_auth_api: %s", msg);
    return HTTP_INTERNAL_SERVER_ERROR;
}

/* Returns a name for server S in messages. */
static const char *server_name(apr_pool_t *p, server_rec *s)
{
    if (!s->is_virtual) {
        return "the main server";
    }
    return apr_psprintf(p, "<VirtualHost> at %s:%u", s->defn_name,
                        s->defn_line_number);
}

/* check_config: every server that uses the module has a database and a
 * secret; otherwise one line that names what is missing and where. */
static int aapi_check_config(apr_pool_t *pconf, apr_pool_t *plog,
                             apr_pool_t *ptemp, server_rec *s)
{
    server_rec *sp;
    int rv = OK;

    for (sp = s; sp; sp = sp->next) {
        aapi_srv_cfg_t *c = aapi_srv_cfg(sp);
        aapi_usage_t u;
        const char *driver, *params, *cache_err;

        aapi_config_usage(ptemp, sp, &u);
        if (!u.used) {
            continue;
        }
        if (!aapi_store_available()) {
            rv = startup_error(sp, apr_psprintf(ptemp,
                "auth-api (used at %s) needs mod_dbd: add "
                "'LoadModule dbd_module ...'", u.where));
        }
        else if (!aapi_store_dbd_settings(sp, &driver, &params)) {
            rv = startup_error(sp, apr_psprintf(ptemp,
                "auth-api (used at %s) needs a database: set DBDriver and "
                "DBDParams for %s", u.where, server_name(ptemp, sp)));
        }
        else if (strcmp(driver, "sqlite3") && strcmp(driver, "mysql")) {
            rv = startup_error(sp, apr_psprintf(ptemp,
                "auth-api (used at %s) supports DBDriver sqlite3 or mysql, "
                "not %s", u.where, driver));
        }
        if ((cache_err = aapi_cache_check_spec(ptemp, aapi_cfg_socache(c)))) {
            rv = startup_error(sp, apr_psprintf(ptemp,
                "AuthAPISOCache %s%s%s: %s", aapi_cfg_socache(c),
                c->socache_where ? " at " : " (the default)",
                c->socache_where ? c->socache_where : "", cache_err));
        }
        if (!c->secret) {
            rv = startup_error(sp, apr_psprintf(ptemp,
                "auth-api (used at %s) needs AuthAPIJWTSecret or "
                "AuthAPIJWTSecretFile for %s", u.where,
                server_name(ptemp, sp)));
        }
    }
    return rv;
}

/* Returns the dummy hash for hash settings HC, computing each distinct one
 * once; unknown-user logins verify against it. */
static const char *dummy_hash(apr_pool_t *p, apr_hash_t *cache,
                              const aapi_hash_cfg_t *hc)
{
    const char *key = apr_psprintf(p, "%d/%d/%d/%d/%d", hc->alg,
                                   hc->bcrypt_cost, hc->argon_m_kib,
                                   hc->argon_t, hc->argon_p);
    const char *h = apr_hash_get(cache, key, APR_HASH_KEY_STRING);

    if (!h) {
        h = aapi_password_hash(p, hc, "no such account: dummy password");
        if (h) {
            apr_hash_set(cache, key, APR_HASH_KEY_STRING, h);
        }
    }
    return h;
}

/* Returns the key that derives refresh-token successors: an HMAC key of its
 * own, derived from the JWT secret so that the two uses never share a key. */
static aapi_key_t *rotation_key(apr_pool_t *p, const aapi_srv_cfg_t *c)
{
    static const char label[] = "mod_auth_api refresh rotation v1";
    aapi_key_t *k = aapi_key_hmac(p, AAPI_ALG_HS256,
                                  (const unsigned char *)c->secret,
                                  c->secret_len);
    unsigned char derived[64];
    size_t n = k ? aapi_key_mac(k, (const unsigned char *)label,
                                sizeof(label) - 1, derived) : 0;

    return n ? aapi_key_hmac(p, AAPI_ALG_HS256, derived, n) : NULL;
}

static int aapi_pre_config(apr_pool_t *pconf, apr_pool_t *plog,
                           apr_pool_t *ptemp)
{
    aapi_store_pre_config();
    return aapi_cache_pre_config(pconf);
}

static void aapi_child_init(apr_pool_t *p, server_rec *s)
{
    aapi_cache_child_init(p, s);
    aapi_tokcache_child_init(p);
}


/* Returns the id of the database DRIVER/PARAMS (of server S), read now
 * when REACHABLE: "" when it is to be read by the first request of each
 * process that needs it, "-" for a database without one (logged). */
static const char *db_id(apr_pool_t *ptemp, server_rec *s, const char *driver,
                         const char *params, int reachable)
{
    char id[AAPI_DB_ID_MAX + 1];
    const char *err = NULL;
    aapi_status_t st;

    if (!reachable) {
        return "";
    }
    st = aapi_store_db_id_at(ptemp, driver, params, id, &err);
    if (st == AAPI_NOT_FOUND) {
        ap_log_error(APLOG_MARK, APLOG_WARNING, 0, s, AAPI_LOGNO(0003)
                     "the database of %s has no id (table aapi_instance of "
                     "the schema's latest migration: with AuthAPIAutoMigrate "
                     "Off, apply the files of sql/ it lacks): the shared "
                     "cache cannot keep the state of its sessions apart from "
                     "another database's", server_name(ptemp, s));
        return "-";
    }
    return st == AAPI_OK ? apr_pstrdup(ptemp, id) : "";
}

/* Returns the realm of the servers whose configuration is ORIG (before
 * any copy) and whose database is DBKEY (NULL: none), from REALMS, made
 * the first time. */
static aapi_realm_t *realm_of(apr_pool_t *pconf, apr_pool_t *ptemp,
                              apr_hash_t *realms, const void *orig,
                              const char *dbkey)
{
    const char *k = apr_psprintf(ptemp, "%pp\n%s", orig, dbkey ? dbkey : "");
    aapi_realm_t *realm = apr_hash_get(realms, k, APR_HASH_KEY_STRING);

    if (!realm) {
        realm = aapi_realm_make(pconf, dbkey != NULL);
        apr_hash_set(realms, k, APR_HASH_KEY_STRING, realm);
    }
    return realm;
}

static int aapi_post_config(apr_pool_t *pconf, apr_pool_t *plog,
                            apr_pool_t *ptemp, server_rec *s)
{
    apr_hash_t *dummies = apr_hash_make(ptemp);
    apr_hash_t *migrated = apr_hash_make(ptemp);
    apr_hash_t *prepared = apr_hash_make(ptemp);
    apr_hash_t *realms = apr_hash_make(ptemp);
    apr_hash_t *ids = apr_hash_make(ptemp);
    apr_hash_t *prune_jobs = apr_hash_make(ptemp);
    aapi_srv_cfg_t *main_cfg = aapi_srv_cfg(s);
    server_rec *sp;

    aapi_common_passwords_init(pconf);
    aapi_authn_post_config(pconf);
    if (aapi_revocation_init(pconf) != APR_SUCCESS) {
        ap_log_error(APLOG_MARK, APLOG_WARNING, 0, s, AAPI_LOGNO(0002)
                     "no shared memory for the revocation counter: tokens "
                     "are verified in full on every request");
    }

    for (sp = s; sp; sp = sp->next) {
        aapi_srv_cfg_t *c = aapi_srv_cfg(sp);
        const void *orig = c;
        const char *driver = NULL, *params = NULL, *err = NULL;
        const char *dbkey = NULL, *id;
        aapi_usage_t u;
        aapi_status_t st;

        /* a virtual host without a directive of this module has the main
         * server's configuration itself (httpd shares it): it gets a copy
         * of its own, so that what is set up below for its database (it
         * may have another) is its own */
        if (sp != s && c == main_cfg) {
            c = apr_pmemdup(pconf, c, sizeof(*c));
            c->server = sp;
            ap_set_module_config(sp->module_config, &auth_api_module, c);
        }
        if (aapi_store_dbd_settings(sp, &driver, &params)) {
            dbkey = apr_pstrcat(ptemp, driver, "\n", params, NULL);
        }
        c->realm = realm_of(pconf, ptemp, realms, orig, dbkey);

        aapi_config_usage(ptemp, sp, &u);
        if (!u.used || !c->secret) {
            continue;
        }
        c->key = aapi_key_hmac(pconf,
                               c->jwt_alg == AAPI_UNSET ? AAPI_ALG_HS256
                                                        : c->jwt_alg,
                               (const unsigned char *)c->secret,
                               c->secret_len);
        c->rotation_key = rotation_key(pconf, c);
        c->dummy_hash = dummy_hash(pconf, dummies, aapi_cfg_hash(c));
        if (!c->key || !c->rotation_key || !c->dummy_hash) {
            return startup_error(sp, "cannot set up the HMAC key or the "
                                     "password hash (OpenSSL failure)");
        }
        c->cache = aapi_cache_get_instance(pconf, ptemp, sp,
                                           aapi_cfg_socache(c), &err);
        if (!c->cache) {
            return startup_error(sp, apr_psprintf(ptemp,
                "AuthAPISOCache %s: %s", aapi_cfg_socache(c), err));
        }
        if (!dbkey) {
            continue;
        }
        st = AAPI_OK;
        if (aapi_cfg_auto_migrate(c)
            && !apr_hash_get(migrated, dbkey, APR_HASH_KEY_STRING)) {
            apr_hash_set(migrated, dbkey, APR_HASH_KEY_STRING, "");
            st = aapi_store_migrate(ptemp, sp, driver, params, &err);
            if (st == AAPI_UNAVAILABLE) {
                /* the server starts; requests answer 503 until it is back */
                ap_log_error(APLOG_MARK, APLOG_WARNING, 0, sp, AAPI_LOGNO(0001)
                             "database not reachable at start-up, schema "
                             "not checked: %s", err);
            }
            else if (st != AAPI_OK) {
                return startup_error(sp, apr_psprintf(ptemp,
                    "schema migration failed for %s: %s",
                    server_name(ptemp, sp), err));
            }
        }
        /* read once for each database */
        if (!(id = apr_hash_get(ids, dbkey, APR_HASH_KEY_STRING))) {
            id = db_id(ptemp, sp, driver, params, st != AAPI_UNAVAILABLE);
            apr_hash_set(ids, dbkey, APR_HASH_KEY_STRING, id);
        }
        if (*id) {
            aapi_realm_set_db_id(c->realm, id);
        }
        aapi_store_prepare(sp, prepared);
        aapi_prune_note(pconf, prune_jobs, dbkey, sp,
                        aapi_cfg_prune_interval(c));
    }
    aapi_prune_start(pconf, s, prune_jobs);
    return OK;
}

static void aapi_register_hooks(apr_pool_t *p)
{
    static const char *const before_dbd[] = { "mod_dbd.c", NULL };
    static const char *const after_ssl[] = { "mod_ssl.c", NULL };

    ap_hook_pre_config(aapi_pre_config, NULL, NULL, APR_HOOK_MIDDLE);
    ap_hook_check_config(aapi_check_config, NULL, NULL, APR_HOOK_MIDDLE);
    ap_hook_child_init(aapi_child_init, NULL, NULL, APR_HOOK_MIDDLE);
    ap_hook_post_config(aapi_post_config, NULL, before_dbd, APR_HOOK_MIDDLE);
    ap_hook_handler(aapi_handler, NULL, NULL, APR_HOOK_MIDDLE);
    /* first: a request of AuthType auth-api then skips the check_authn
     * hooks of mod_auth_basic, mod_auth_form and mod_auth_digest (each
     * evaluates AuthType again only to decline); any other AuthType is
     * declined here after one comparison. After mod_ssl's (also first),
     * as before, so that SSLOptions +StrictRequire refuses as it did. */
    ap_hook_check_authn(aapi_check_authn, after_ssl, NULL, APR_HOOK_FIRST,
                        AP_AUTH_INTERNAL_PER_CONF);
    ap_hook_note_auth_failure(aapi_note_auth_failure, NULL, NULL,
                              APR_HOOK_MIDDLE);
    ap_hook_fixups(aapi_fixups, NULL, NULL, APR_HOOK_FIRST);

    ap_register_auth_provider(p, AUTHZ_PROVIDER_GROUP, "auth-api-role",
                              AUTHZ_PROVIDER_VERSION, &aapi_role_provider,
                              AP_AUTH_INTERNAL_PER_CONF);
    ap_register_auth_provider(p, AUTHZ_PROVIDER_GROUP,
                              "auth-api-verified-email",
                              AUTHZ_PROVIDER_VERSION, &aapi_verified_provider,
                              AP_AUTH_INTERNAL_PER_CONF);
    ap_register_auth_provider(p, AUTHN_PROVIDER_GROUP, "auth-api",
                              AUTHN_PROVIDER_VERSION, &aapi_basic_provider,
                              AP_AUTH_INTERNAL_PER_CONF);
}

AP_DECLARE_MODULE(auth_api) = {
    STANDARD20_MODULE_STUFF,
    aapi_config_create_dir,
    aapi_config_merge_dir,
    aapi_config_create_srv,
    aapi_config_merge_srv,
    aapi_config_cmds,
    aapi_register_hooks
};
