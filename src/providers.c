/*
 * providers.c - level 6: "Require auth-api-role ROLE...",
 * "Require auth-api-verified-email", and the authn provider "auth-api" for
 * AuthBasicProvider / AuthFormProvider, which checks a user name or email and
 * a password against the same accounts, with the same dummy-hash timing.
 */
#include "aapi.h"
#include "authn.h"
#include "config.h"
#include "password.h"
#include "store.h"
#include "tokcache.h"
#include "tokens.h"
#include "util.h"

#include "apr_lib.h"
#include "http_request.h"
#include "mod_auth.h"

#include <string.h>
#include <strings.h>

#define MAX_ROLES 32

/* ==== Require auth-api-role ==== */

static const char *role_parse(cmd_parms *cmd, const char *line,
                              const void **parsed)
{
    apr_array_header_t *roles = apr_array_make(cmd->pool, 4,
                                               sizeof(const char *));
    const char *w;

    while (*line && (w = ap_getword_conf(cmd->pool, &line)) && *w) {
        const char *c;
        for (c = w; *c; c++) {
            if (!(apr_isalnum(*c) || *c == '_' || *c == '-' || *c == '.')) {
                return apr_psprintf(cmd->pool, "Require auth-api-role: '%s' "
                                    "is not a role name", w);
            }
        }
        if (roles->nelts >= MAX_ROLES) {
            return "Require auth-api-role: too many roles";
        }
        APR_ARRAY_PUSH(roles, const char *) = w;
    }
    if (roles->nelts == 0) {
        return "Require auth-api-role needs at least one role";
    }
    *parsed = roles;
    return NULL;
}

static authz_status role_check(request_rec *r, const char *line,
                               const void *parsed)
{
    const apr_array_header_t *roles = parsed;
    const aapi_identity_t *id = aapi_request_identity(r);
    int i;

    if (!r->user) {
        return AUTHZ_DENIED_NO_USER;
    }
    if (!id || !roles) {
        return AUTHZ_DENIED;
    }
    for (i = 0; i < roles->nelts; i++) {
        if (!strcmp(id->role, APR_ARRAY_IDX(roles, i, const char *))) {
            return AUTHZ_GRANTED;
        }
    }
    return AUTHZ_DENIED;
}

const authz_provider aapi_role_provider = { role_check, role_parse };

/* ==== Require auth-api-verified-email ==== */

static const char *verified_parse(cmd_parms *cmd, const char *line,
                                  const void **parsed)
{
    if (line && *line) {
        return "Require auth-api-verified-email takes no arguments";
    }
    return NULL;
}

static authz_status verified_check(request_rec *r, const char *line,
                                   const void *parsed)
{
    const aapi_identity_t *id = aapi_request_identity(r);

    if (!r->user) {
        return AUTHZ_DENIED_NO_USER;
    }
    return id && id->email_verified ? AUTHZ_GRANTED : AUTHZ_DENIED;
}

const authz_provider aapi_verified_provider = { verified_check,
                                               verified_parse };

/* ==== AuthBasicProvider auth-api ==== */

/* Publishes the identity of a Basic login, after removing whatever
 * identity headers the client made up. */
static void publish(request_rec *r, const char *user,
                    const aapi_cred_identity_t *ci)
{
    aapi_identity_t id;

    aapi_strip_identity_headers(r);
    memset(&id, 0, sizeof(id));
    id.user_id = ci->user_id;
    id.email = ci->email;
    id.username = ci->username;
    id.role = ci->role;
    id.email_verified = ci->email_verified;
    aapi_publish_identity(r, &id, user, NULL);   /* AUTH_TYPE stays Basic */
}

/* A user id no account has (ids are random hex of this length): the
 * stamp that an unknown name costs the same lookup as a known one. */
#define NO_ACCOUNT_ID "00000000000000000000000000000000"

static authn_status basic_check(request_rec *r, const char *user,
                                const char *password)
{
    aapi_srv_cfg_t *c = aapi_srv_cfg(r->server);
    unsigned char key[AAPI_CRED_KEY_LEN];
    aapi_cred_identity_t ci;
    aapi_user_t *u = NULL;
    aapi_db_t *db;
    aapi_status_t st;
    apr_uint32_t epochs[AAPI_USER_BUCKETS];
    char stamp[AAPI_CRED_STAMP_LEN + 1];
    int have_key, ok, shared;

    if (!c->dummy_hash) {
        ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r, AAPI_LOGNO(1001)
                      "auth-api provider, but the module is not set up for "
                      "this server: give it AuthAPIJWTSecret and DBDriver, "
                      "or, when only .htaccess files use the module, an "
                      "AuthAPI directive in its <VirtualHost> (or outside "
                      "any, for the main server)");
        return AUTH_GENERAL_ERROR;
    }
    have_key = aapi_credcache_key(c->realm, user, password, key);
    /* with a cache shared by several servers, a change made on another
     * server has given the user a new stamp there: an entry verified
     * under another stamp is verified again */
    if (have_key && aapi_credcache_get(key, aapi_now(), r->pool, &ci)
        && (!aapi_user_stamp(r, c, ci.user_id, stamp)
            || !strcmp(stamp, ci.stamp))) {
        publish(r, user, &ci);
        return AUTH_GRANTED;
    }
    /* the counters of the users' buckets, read before the account is: a
     * change committed after the read moves its user's past the value the
     * entry keeps (whose user is not known yet) */
    aapi_revocation_users(epochs);
    /* names are compared as typed: surrounding white space is no account
     * (and MySQL's PAD SPACE collations must not make it one) */
    if (strlen(user) > AAPI_MAX_EMAIL_LEN
        || strlen(password) > AAPI_MAX_PASSWORD_LEN
        || !*user || apr_isspace(user[0])
        || apr_isspace(user[strlen(user) - 1])) {
        aapi_password_verify(r->pool, password, c->dummy_hash);
        return AUTH_DENIED;
    }
    if ((st = aapi_store_open(r, &db)) != AAPI_OK) {
        if (have_key) aapi_credcache_drop(key);
        return AUTH_GENERAL_ERROR;
    }
    st = aapi_store_user_by_login(db, aapi_ascii_lower(r->pool, user), &u);
    /* the stamp is read before the account that is verified: a change
     * committed after that read gives a stamp the entry will not have
     * (the first read only finds whose stamp to read). An unknown name
     * costs the same two lookups, with an id no account has, so that
     * their time does not tell which names exist */
    shared = (st == AAPI_OK || st == AAPI_NOT_FOUND)
             && aapi_user_stamp(r, c, u ? u->id : NO_ACCOUNT_ID, stamp);
    if (shared) {
        const char *stamped = u ? u->id : NULL;
        u = NULL;
        st = aapi_store_user_by_login(db, aapi_ascii_lower(r->pool, user), &u);
        if (st == AAPI_OK && (!stamped || strcmp(u->id, stamped) != 0)) {
            /* the name went to another account meanwhile: its stamp was
             * not read, so this verification is not kept */
            have_key = 0;
        }
    }
    if (st != AAPI_OK && st != AAPI_NOT_FOUND) {
        if (have_key) aapi_credcache_drop(key);
        return AUTH_GENERAL_ERROR;
    }
    ok = aapi_password_verify(r->pool, password,
                              u ? u->password_hash : c->dummy_hash);
    if (!u || !ok || u->disabled) {
        if (have_key) {
            aapi_credcache_drop(key);
        }
        ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, r, AAPI_LOGNO(1002)
                      "Basic login refused%s%s", u ? " for user " : "",
                      u ? u->id : "");
        return AUTH_DENIED;
    }
    ap_log_rerror(APLOG_MARK, APLOG_DEBUG, 0, r, AAPI_LOGNO(1003)
                  "Basic credentials of user %s checked against the database",
                  u->id);
    aapi_password_upgrade(r, c, db, u, password);
    ci.user_id = u->id;
    ci.email = u->email;
    ci.username = u->username;
    ci.role = u->role;
    ci.email_verified = u->email_verified;
    apr_cpystrn(ci.stamp, shared ? stamp : "", sizeof(ci.stamp));
    if (have_key) {
        aapi_credcache_put(key, &ci,
                           epochs[aapi_revocation_user_bucket(u->id)],
                           aapi_now() + aapi_cfg_session_cache_ttl(c));
    }
    publish(r, user, &ci);
    return AUTH_GRANTED;
}

const authn_provider aapi_basic_provider = { basic_check, NULL };
