/*
 * handlers/common.c - level 6: what several endpoints share: the public user
 * object, the token response, the signed-in user of a request.
 */
#include "aapi.h"
#include "handlers.h"
#include "http.h"
#include "util.h"

#include <string.h>

aapi_json_t *aapi_user_json(apr_pool_t *p, const aapi_user_t *u)
{
    aapi_json_t *j = aapi_json_object(p);
    aapi_json_t *profile = NULL;

    aapi_json_set_str(j, "id", u->id);
    aapi_json_set_str(j, "email", u->email);
    aapi_json_set_str(j, "username", u->username);
    aapi_json_set_str(j, "first_name", u->first_name);
    aapi_json_set_str(j, "last_name", u->last_name);
    aapi_json_set_str(j, "full_name", u->full_name);
    aapi_json_set_str(j, "role", u->role);
    aapi_json_set_bool(j, "email_verified", u->email_verified);
    aapi_json_set_str(j, "created_at", aapi_rfc3339(p, u->created_at));
    aapi_json_set_str(j, "updated_at", aapi_rfc3339(p, u->updated_at));
    if (u->profile) {
        aapi_json_parse_object(p, u->profile, strlen(u->profile), &profile);
    }
    aapi_json_set(j, "profile", profile ? profile : aapi_json_object(p));
    return j;
}

/* Returns the Path of the refresh cookie: the mount, or "/" when protected
 * locations refresh silently and so must receive it too. */
static const char *refresh_cookie_path(request_rec *r, const aapi_srv_cfg_t *c)
{
    return aapi_cfg_silent_refresh(c) ? "/" : aapi_request_mount(r);
}

void aapi_clear_cookies(request_rec *r, aapi_srv_cfg_t *c)
{
    if (aapi_cfg_token_cookies(c)) {
        aapi_http_clear_token_cookies(r, c, refresh_cookie_path(r, c));
    }
}

void aapi_end_own_sessions(request_rec *r, aapi_srv_cfg_t *c,
                           const apr_array_header_t *ended, const char *sid)
{
    if (ended) {
        aapi_sessions_mark_ended(r, c, ended);
    }
    aapi_session_mark_ended(r, c, sid);
    aapi_clear_cookies(r, c);
}

int aapi_send_tokens(request_rec *r, aapi_srv_cfg_t *c, int status,
                     const char *message, const aapi_user_t *u,
                     const aapi_token_pair_t *pair)
{
    aapi_json_t *d = aapi_json_object(r->pool);

    aapi_json_set(d, "user", aapi_user_json(r->pool, u));
    if (aapi_cfg_tokens_in_body(c) || !aapi_cfg_token_cookies(c)) {
        aapi_json_set_str(d, "access_token", pair->access_token);
        aapi_json_set_str(d, "token_type", "Bearer");
        aapi_json_set_int(d, "expires_in", pair->expires_in);
        aapi_json_set_str(d, "refresh_token", pair->refresh_token);
        aapi_json_set_int(d, "refresh_expires_in", pair->refresh_expires_in);
    }
    else {
        aapi_json_set_int(d, "expires_in", pair->expires_in);
        aapi_json_set_int(d, "refresh_expires_in", pair->refresh_expires_in);
    }
    if (aapi_cfg_token_cookies(c)) {
        aapi_http_set_token_cookies(r, c, pair->access_token,
                                    pair->expires_in, pair->refresh_token,
                                    pair->refresh_expires_in,
                                    refresh_cookie_path(r, c));
    }
    return aapi_http_send_ok(r, status, message, d);
}

const char *aapi_request_mount(request_rec *r)
{
    const char *mount = apr_table_get(r->notes, "aapi-mount");
    return mount ? mount : "/";
}

const char *aapi_client_ip(request_rec *r)
{
    return r->useragent_ip;
}

const char *aapi_client_ua(request_rec *r)
{
    return apr_table_get(r->headers_in, "User-Agent");
}

int aapi_require_user(request_rec *r, aapi_srv_cfg_t *c, aapi_db_t **db,
                      aapi_claims_t *claims, aapi_user_t **user)
{
    int rc = aapi_http_require_access(r, c, claims);

    /* a body the endpoint does not read, read and dropped before a
     * connection to the database is taken (see aapi_require_user_body) */
    if (rc == OK) {
        rc = aapi_http_discard_body(r);
    }
    return rc != OK ? rc : aapi_require_session(r, c, claims, db, user);
}

int aapi_require_user_body(request_rec *r, aapi_srv_cfg_t *c, aapi_db_t **db,
                           aapi_claims_t *claims, aapi_user_t **user,
                           aapi_json_t **body)
{
    int rc = aapi_http_require_access(r, c, claims);

    /* the body before a connection to the database: a client that sends
     * it slowly holds none of the connections of the process meanwhile */
    if (rc == OK) {
        rc = aapi_http_read_json(r, c, 1, body);
    }
    return rc != OK ? rc : aapi_require_session(r, c, claims, db, user);
}

int aapi_require_session(request_rec *r, aapi_srv_cfg_t *c,
                         const aapi_claims_t *claims, aapi_db_t **db,
                         aapi_user_t **user)
{
    aapi_status_t st;

    if ((st = aapi_store_open(r, db)) != AAPI_OK) {
        return aapi_http_send_status(r, st, NULL);
    }
    st = aapi_store_session_user(*db, claims->sid, claims->sub, aapi_now(),
                                 user);
    if (st == AAPI_NOT_FOUND) {
        ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, r, AAPI_LOGNO(0301)
                      "token of ended session %s refused", claims->sid);
        return aapi_http_send_status(r, AAPI_INVALID_TOKEN, NULL);
    }
    return st == AAPI_OK ? OK : aapi_http_send_status(r, st, NULL);
}
