/*
 * authn.c - level 6: AuthType auth-api. The hot path of every protected
 * request: the access token from the Authorization header or the access
 * cookie, verified by the same code as the API (tokens.c), from this
 * process's table of verified tokens when it can; its session checked
 * through the shared cache; the identity published for CGI, PHP, SSI and
 * proxied backends.
 */
#include "aapi.h"
#include "authn.h"
#include "config.h"
#include "handlers.h"
#include "http.h"
#include "tokcache.h"
#include "tokens.h"
#include "util.h"

#include "apr_lib.h"
#include "http_core.h"
#include "http_protocol.h"
#include "http_request.h"

#include <string.h>
#include <strings.h>

#define AUTH_TYPE "auth-api"
#define HEADER_PREFIX "X-Auth-Api-"

/* The masks of aapi_word_at's case-blind comparisons: every byte a
 * letter, or (for "auth-api") all but the dash. They run for every
 * protected request, without the locale machinery of strcasecmp. */
static const char lower_mask[8] = { 0x20, 0x20, 0x20, 0x20,
                                    0x20, 0x20, 0x20, 0x20 };
static const char auth_api_mask[8] = { 0x20, 0x20, 0x20, 0x20,
                                       0x00, 0x20, 0x20, 0x20 };

/* Returns 1 when TYPE is "auth-api" without regard to case (as httpd
 * compares AuthType values). */
static int is_auth_api(const char *t)
{
    return strlen(t) == 8
           && (aapi_word_at(t) | aapi_word_at(auth_api_mask))
              == aapi_word_at(AUTH_TYPE);
}

/* ==== identity ==== */

/* Returns the directory config of R, or DFLT when there is none. */
static const aapi_dir_cfg_t *dir_cfg(request_rec *r,
                                     const aapi_dir_cfg_t *dflt)
{
    const aapi_dir_cfg_t *d = ap_get_module_config(r->per_dir_config,
                                                   &auth_api_module);
    return d ? d : dflt;
}

const aapi_identity_t *aapi_request_identity(request_rec *r)
{
    return ap_get_module_config(r->request_config, &auth_api_module);
}

/* Returns 1 when NAME is X-Auth-Api-* in any case, with '_' for any of
 * its dashes: backends that read header names as variables (CGI-like
 * stacks, many frameworks) take X_Auth_Api_Role for X-Auth-Api-Role. */
static int identity_header_name(const char *name)
{
    static const char prefix[] = "x-auth-api-";
    size_t i;

    /* most names fail on their first two bytes */
    if ((name[0] | 0x20) != 'x' || (name[1] != '-' && name[1] != '_')) {
        return 0;
    }
    for (i = 2; i < sizeof(prefix) - 1; i++) {
        char c = name[i];
        if (prefix[i] == '-' ? (c != '-' && c != '_')
                             : (c | 0x20) != prefix[i]) {
            return 0;
        }
    }
    return 1;
}

/* Returns 1 when NAME is "Authorization" in any case: its 13 bytes are
 * read as two words that overlap (0-7, 5-12), all letters. */
static int is_authorization(const char *n)
{
    return strlen(n) == 13
           && (aapi_word_at(n) | aapi_word_at(lower_mask))
              == aapi_word_at("authoriz")
           && (aapi_word_at(n + 5) | aapi_word_at(lower_mask))
              == aapi_word_at("rization");
}

/* Removes from R the request headers that identity_header_name names and
 * returns the value of the first Authorization header (NULL: none), both
 * in one pass over the headers (the hot path reads both). */
static const char *strip_and_authorization(request_rec *r)
{
    const apr_array_header_t *arr = apr_table_elts(r->headers_in);
    const apr_table_entry_t *e = (const apr_table_entry_t *)arr->elts;
    const char *authorization = NULL;
    apr_array_header_t *doomed = NULL;
    int i;

    for (i = 0; i < arr->nelts; i++) {
        const char *k = e[i].key;

        if (!k) {
            continue;
        }
        if ((k[0] | 0x20) == 'a') {     /* Accept*, Authorization */
            if (!authorization && is_authorization(k)) {
                authorization = e[i].val;
            }
        }
        else if (identity_header_name(k)) {
            if (!doomed) {
                doomed = apr_array_make(r->pool, 4, sizeof(const char *));
            }
            APR_ARRAY_PUSH(doomed, const char *) = k;
        }
    }
    for (i = 0; doomed && i < doomed->nelts; i++) {
        apr_table_unset(r->headers_in, APR_ARRAY_IDX(doomed, i, const char *));
    }
    return authorization;
}

void aapi_strip_identity_headers(request_rec *r)
{
    strip_and_authorization(r);
}

/* The AUTH_API_* variables and X-Auth-Api-* headers, in the order of
 * env_names and header_names. */
enum {
    ENV_USER_ID, ENV_EMAIL, ENV_USERNAME, ENV_ROLE, ENV_EMAIL_VERIFIED,
    ENV_SESSION_ID, ENV_EXPIRES, ENV_COUNT
};
static const char *const env_names[ENV_COUNT] = {
    "AUTH_API_USER_ID", "AUTH_API_EMAIL", "AUTH_API_USERNAME",
    "AUTH_API_ROLE", "AUTH_API_EMAIL_VERIFIED", "AUTH_API_SESSION_ID",
    "AUTH_API_EXPIRES"
};
/* the same for a proxied backend, with AuthAPIForwardHeaders On */
static const char *const header_names[ENV_COUNT] = {
    HEADER_PREFIX "User-Id", HEADER_PREFIX "Email", HEADER_PREFIX "Username",
    HEADER_PREFIX "Role", HEADER_PREFIX "Email-Verified",
    HEADER_PREFIX "Session-Id", HEADER_PREFIX "Expires"
};
/* the same as a table, which an empty environment takes with one call */
static aapi_table_tpl_t *env_tpl;

void aapi_authn_post_config(apr_pool_t *pconf)
{
    env_tpl = aapi_table_tpl_make(pconf, env_names, ENV_COUNT);
}

/* aapi_publish_identity for an ID that lives in r->pool already (it is
 * kept as the request's identity as it is). */
static void publish(request_rec *r, aapi_identity_t *id, const char *user,
                    const char *auth_type);

void aapi_publish_identity(request_rec *r, const aapi_identity_t *id,
                           const char *user, const char *auth_type)
{
    publish(r, apr_pmemdup(r->pool, id, sizeof(*id)), user, auth_type);
}

static void publish(request_rec *r, aapi_identity_t *id, const char *user,
                    const char *auth_type)
{
    static const aapi_dir_cfg_t none = { AAPI_UNSET, AAPI_UNSET, NULL };
    const aapi_dir_cfg_t *d = dir_cfg(r, &none);
    const char *expires = id->expires_text ? id->expires_text
                          : id->expires ? aapi_rfc3339(r->pool, id->expires)
                          : NULL;
    apr_table_entry_t *e;
    apr_table_t *env;

    if (!user) {
        switch (d->remote_user) {
        case AAPI_REMOTE_USER_USERNAME:
            user = id->username ? id->username : id->email;
            break;
        case AAPI_REMOTE_USER_SUB:
            user = id->user_id;
            break;
        default:
            user = id->email;
        }
    }
    r->user = (char *)user;    /* lives in r->pool, as ID's strings do */
    if (auth_type) {
        r->ap_auth_type = (char *)auth_type;
    }
    ap_set_module_config(r->request_config, &auth_api_module, id);

    /* the values, in the order of env_names and header_names; each is
     * read where it is stored (none is kept across the call below) */
#define IDENTITY_VALUES(SET)                                            \
    SET(ENV_USER_ID, id->user_id)                                       \
    SET(ENV_EMAIL, id->email)                                           \
    SET(ENV_USERNAME, id->username ? id->username : "")                 \
    SET(ENV_ROLE, id->role)                                             \
    SET(ENV_EMAIL_VERIFIED, id->email_verified ? "true" : "false")      \
    SET(ENV_SESSION_ID, id->session_id ? id->session_id : "")           \
    SET(ENV_EXPIRES, expires ? expires : "")
    /* an empty environment (the common case) takes the names at once, and
     * each its value by index; one that has anything (a subrequest's copy,
     * SetEnvIf, mod_unique_id) gets each name replaced, so no earlier
     * value of the same name survives */
    if ((e = aapi_table_tpl_copy(r->pool, r->subprocess_env, env_tpl,
                                 &env))) {
#define AT_INDEX(i, v) e[i].val = (char *)(v);
        IDENTITY_VALUES(AT_INDEX)
#undef AT_INDEX
        r->subprocess_env = env;   /* for the empty one, which none has used */
    }
    else {
#define IN_ENV(i, v) apr_table_setn(r->subprocess_env, env_names[i], (v));
        IDENTITY_VALUES(IN_ENV)
#undef IN_ENV
    }
    if (d->forward_headers == 1) {
#define IN_HEADERS(i, v) apr_table_setn(r->headers_in, header_names[i], (v));
        IDENTITY_VALUES(IN_HEADERS)
#undef IN_HEADERS
    }
#undef IDENTITY_VALUES
}

/* ==== refusals ==== */

/* Returns 1 when the client prefers a page: a GET or HEAD whose Accept
 * names text/html. */
static int wants_html(request_rec *r)
{
    const char *accept = apr_table_get(r->headers_in, "Accept");
    return (r->method_number == M_GET) && accept
           && ap_strcasestr(accept, "text/html");
}

/* Returns TARGET (a path with its query) with any run of slashes and
 * backslashes at its start made one slash, from P: "//host/x" or "/\\host/x"
 * would be read by a browser as another site's address, while httpd, which
 * merges the slashes, served this site's /host/x. */
static const char *local_target(apr_pool_t *p, const char *target)
{
    const char *s = target;

    while (*s == '/' || *s == '\\') {
        s++;
    }
    return s == target + 1 ? target : apr_pstrcat(p, "/", s, NULL);
}

/* Refuses R: a redirect to the login page for browsers when one is set,
 * else 401 with a Bearer challenge (error="invalid_token" when a token was
 * presented). */
static int refuse(request_rec *r, int token_presented)
{
    static const aapi_dir_cfg_t none = { AAPI_UNSET, AAPI_UNSET, NULL };
    const aapi_dir_cfg_t *d = dir_cfg(r, &none);

    if (d->login_url && wants_html(r)) {
        /* the path and query as the client sent them (still encoded), so
         * that the login page can send the browser back to the same URL */
        const char *next = r->unparsed_uri && r->unparsed_uri[0] == '/'
                           ? r->unparsed_uri
                           : r->args ? apr_pstrcat(r->pool, r->parsed_uri.path
                                                   ? r->parsed_uri.path : "/",
                                                   "?", r->args, NULL)
                           : r->parsed_uri.path ? r->parsed_uri.path : "/";
        apr_table_setn(r->headers_out, "Location",
                       apr_pstrcat(r->pool, d->login_url,
                                   strchr(d->login_url, '?') ? "&" : "?",
                                   "next=",
                                   ap_escape_urlencoded(r->pool,
                                       local_target(r->pool, next)), NULL));
        apr_table_setn(r->err_headers_out, "Cache-Control", "no-store");
        return HTTP_MOVED_TEMPORARILY;
    }
    apr_table_setn(r->err_headers_out, "WWW-Authenticate",
                   token_presented ? "Bearer error=\"invalid_token\""
                                   : "Bearer");
    return HTTP_UNAUTHORIZED;
}

/* ==== silent refresh ==== */

/* Where a request that traded the refresh cookie keeps the access token it
 * got, in the pool of the request the client sent, for its subrequests and
 * internal redirects. */
#define FRESH_ACCESS_KEY "auth_api:fresh-access"

/* With AuthAPISilentRefresh: trades the refresh cookie for a new pair, sets
 * the cookies (*SET_COOKIES = 1), fills *CLAIMS; returns AAPI_OK or why not,
 * with *SET_COOKIES = -1 when the refresh cookie was refused (unknown,
 * expired, ended or reused): the caller then expires both cookies.
 * Once per client request: its subrequests and internal redirects use the
 * access token it got. A subrequest never trades the cookie itself: the
 * cookies it set would not reach the browser, which would then present a
 * rotated-away refresh token and have its session ended as a thief's. */
static aapi_status_t silent_refresh(request_rec *r, aapi_srv_cfg_t *c,
                                    aapi_claims_t *claims, int *set_cookies)
{
    request_rec *origin = aapi_http_client_request(r);
    const char *refresh, *why = NULL;
    void *fresh = NULL;
    aapi_token_pair_t pair;
    aapi_user_t *u = NULL;
    aapi_db_t *db;
    aapi_status_t st;
    int expired = 0;

    *set_cookies = 0;
    apr_pool_userdata_get(&fresh, FRESH_ACCESS_KEY, origin->pool);
    if (fresh) {
        return aapi_tokens_authenticate_at(r, c, fresh, strlen(fresh),
                                           aapi_now(), NULL, claims, &expired,
                                           &why);
    }
    if (r->main) {
        return AAPI_INVALID_TOKEN;
    }
    refresh = aapi_http_cookie(r, AAPI_COOKIE_REFRESH);
    if (!refresh || !*refresh) {
        return AAPI_INVALID_TOKEN;
    }
    if ((st = aapi_store_open(r, &db)) != AAPI_OK) {
        return st;
    }
    memset(&pair, 0, sizeof(pair));
    if ((st = aapi_tokens_refresh(r, c, db, refresh, &u, &pair)) != AAPI_OK) {
        *set_cookies = st == AAPI_INVALID_TOKEN ? -1 : 0;
        return st;
    }
    aapi_http_set_token_cookies(r, c, pair.access_token, pair.expires_in,
                                pair.refresh_token, pair.refresh_expires_in,
                                "/");
    *set_cookies = 1;
    apr_pool_userdata_setn(apr_pstrdup(origin->pool, pair.access_token),
                           FRESH_ACCESS_KEY, NULL, origin->pool);
    /* at the clock's time, not the request's: the token was minted now,
     * and its iat may be a second past the time the request arrived */
    return aapi_tokens_authenticate_at(r, c, pair.access_token,
                                       strlen(pair.access_token), aapi_now(),
                                       NULL, claims, &expired, &why);
}

/* Adds TOKEN to the list header NAME of T unless it is there. */
static void add_token(apr_pool_t *p, apr_table_t *t, const char *name,
                      const char *token)
{
    const char *v = apr_table_get(t, name);
    if (!v || !ap_find_token(p, v, token)) {
        apr_table_mergen(t, name, token);
    }
}

/* A response that a cookie authenticated is this user's own: no shared
 * cache may store it (a request with an Authorization header is not stored
 * anyway, RFC 9111 section 3.5; a cookie carries no such sign, and
 * mod_cache's quick handler would serve the copy before any
 * authentication). One that sets fresh cookies no cache may store at all.
 * The headers go in err_headers_out, which errors, internal redirects and
 * proxied responses keep; when R is a subrequest, also on the requests it
 * is part of, which helps only while their headers are not sent yet
 * (mod_include sends them before an include runs: see the README). */
static void mark_private(request_rec *r, int set_cookies)
{
    request_rec *m;

    for (m = r; m; m = m->main) {
        add_token(m->pool, m->err_headers_out, "Cache-Control", "private");
        if (set_cookies) {
            add_token(m->pool, m->err_headers_out, "Cache-Control",
                      "no-store");
        }
        add_token(m->pool, m->err_headers_out, "Vary", "Cookie");
    }
}

int aapi_check_authn(request_rec *r)
{
    const char *type = ap_auth_type(r);
    aapi_srv_cfg_t *c;
    aapi_claims_t claims;
    aapi_identity_t *id;
    aapi_status_t st;
    const char *token, *authorization, *why = NULL;
    size_t len = 0;
    int bad = 0, from_cookie = 0, expired = 0, set_cookies = 0;

    if (!type || !is_auth_api(type)) {
        return DECLINED;
    }
    /* whatever follows, a backend never sees identity headers a client made */
    authorization = strip_and_authorization(r);
    c = aapi_srv_cfg(r->server);
    if (!c->key) {
        ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r, AAPI_LOGNO(0901)
                      "AuthType auth-api, but the module is not set up for "
                      "this server: give it AuthAPIJWTSecret, or, when only "
                      ".htaccess files use the module, an AuthAPI directive "
                      "in its <VirtualHost> (or outside any, for the main "
                      "server)");
        return HTTP_INTERNAL_SERVER_ERROR;
    }

    token = aapi_http_bearer_of(authorization, &len, &bad);
    if (bad) {
        ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, r, AAPI_LOGNO(0902)
                      "malformed Authorization header refused");
        return refuse(r, 1);
    }
    if (!token && aapi_cfg_token_cookies(c)) {
        token = aapi_http_cookie(r, AAPI_COOKIE_ACCESS);
        from_cookie = token != NULL;
        if (token && !*token) {
            token = NULL;
        }
        len = token ? strlen(token) : 0;
    }
    /* a credential the browser sends by itself: the access cookie, or the
     * refresh cookie that silent refresh would use */
    if ((from_cookie
         || (!token && aapi_cfg_silent_refresh(c) && aapi_cfg_token_cookies(c)
             && aapi_http_cookie(r, AAPI_COOKIE_REFRESH)))
        && !aapi_http_safe_method(r) && !aapi_http_same_origin_ok(r, c)) {
        ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, r, AAPI_LOGNO(0903)
                      "cookie-authenticated %s from a foreign origin refused",
                      r->method);
        return HTTP_FORBIDDEN;
    }

    /* the identity, and after it the room for the strings of a token
     * found in this process's table: one allocation (before the answer is
     * known: a refused token leaves it unused in the request's pool) */
    id = apr_palloc(r->pool, sizeof(*id) + AAPI_TOKCACHE_ROOM);
    st = token ? aapi_tokens_authenticate(r, c, token, len, (char *)(id + 1),
                                          &claims, &expired, &why)
               : AAPI_INVALID_TOKEN;
    if (st == AAPI_INVALID_TOKEN && aapi_cfg_silent_refresh(c)
        && aapi_cfg_token_cookies(c) && (!token || (from_cookie && expired))) {
        st = silent_refresh(r, c, &claims, &set_cookies);
        why = "silent refresh refused";
        from_cookie = 1;
    }
    if (st == AAPI_UNAVAILABLE) {
        apr_table_setn(r->err_headers_out, "Retry-After", "5");
        return HTTP_SERVICE_UNAVAILABLE;
    }
    if (st != AAPI_OK) {
        if (token) {
            ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, r, AAPI_LOGNO(0904)
                          "access token refused: %s", why ? why : "invalid");
        }
        if (set_cookies < 0) {
            /* a refresh cookie that will never work again: the browser
             * drops both cookies instead of presenting them, and costing a
             * database look-up, on every request until they expire */
            aapi_http_clear_token_cookies(r, c, "/");
            mark_private(r, 1);
        }
        return refuse(r, token != NULL);
    }

    id->user_id = claims.sub;
    id->email = claims.email ? claims.email : "";
    id->username = claims.username;
    id->role = claims.role ? claims.role : "user";
    id->session_id = claims.sid;
    id->email_verified = claims.email_verified;
    id->expires = claims.exp;
    id->expires_text = claims.exp_text;
    publish(r, id, NULL, AUTH_TYPE);
    if (from_cookie) {
        mark_private(r, set_cookies);
    }
    return OK;
}

int aapi_fixups(request_rec *r)
{
    static const aapi_dir_cfg_t none = { AAPI_UNSET, AAPI_UNSET, NULL };
    const aapi_identity_t *id = aapi_request_identity(r), *prev;
    const char *type;

    /* the tokens in the module's cookies are for the module alone (its
     * API, which runs as the handler, reads them) */
    if (aapi_cfg_token_cookies(aapi_srv_cfg(r->server))
        && !(r->handler && !strcmp(r->handler, AAPI_HANDLER))) {
        aapi_http_hide_own_cookies(r);
    }
    /* the common case: authenticated by this request's own check_authn */
    if (id && !r->prev) {
        return DECLINED;
    }
    /* where identity headers are forwarded, or where this module
     * authenticates, a backend never sees ones a client made: also when
     * the request was let in another way (Require ip, another provider,
     * Require all granted) */
    if (!id && (dir_cfg(r, &none)->forward_headers == 1
                || (!r->user && (type = ap_auth_type(r))
                    && is_auth_api(type)))) {
        aapi_strip_identity_headers(r);
    }
    /* an internal redirect (ErrorDocument, a handler's redirect) inherits
     * the user without running authentication again: give it the identity
     * of the request it came from, not only REDIRECT_AUTH_API_* */
    if (r->prev && r->user && !id
        && (prev = aapi_request_identity(r->prev))
        && r->prev->user && !strcmp(r->prev->user, r->user)) {
        aapi_publish_identity(r, prev, r->user, NULL);
    }
    return DECLINED;
}

int aapi_note_auth_failure(request_rec *r, const char *auth_type)
{
    if (!auth_type || !is_auth_api(auth_type)) {
        return DECLINED;
    }
    if (!apr_table_get(r->err_headers_out, "WWW-Authenticate")) {
        apr_table_setn(r->err_headers_out, "WWW-Authenticate", "Bearer");
    }
    return OK;
}
