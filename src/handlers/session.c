/*
 * handlers/session.c - level 6: the session lifecycle: refresh, logout,
 * logout-all, listing and ending sessions.
 */
#include "aapi.h"
#include "handlers.h"
#include "http.h"
#include "util.h"
#include "validate.h"

#include "http_protocol.h"

#include <string.h>

/* ==== POST /refresh ==== */

int aapi_ep_refresh(request_rec *r, aapi_srv_cfg_t *c)
{
    aapi_json_t *body;
    aapi_token_pair_t pair;
    aapi_user_t *u = NULL;
    aapi_db_t *db;
    aapi_status_t st;
    const char *token = NULL;
    int rc, rt;

    if ((rc = aapi_http_read_json(r, c, 0, &body)) != OK) {
        return rc;
    }
    rt = aapi_json_get_str(body, "refresh_token", "refreshToken", &token);
    if (rt < 0) {
        return aapi_http_send_status(r, AAPI_INVALID_TOKEN, NULL);
    }
    if (rt == 0 && aapi_cfg_token_cookies(c)) {
        /* the cookie is a credential the browser sends by itself */
        token = aapi_http_cookie(r, AAPI_COOKIE_REFRESH);
        if (token && !aapi_http_same_origin_ok(r, c)) {
            return aapi_http_send_csrf(r);
        }
    }
    if (!token || !*token) {
        return aapi_http_send_status(r, AAPI_INVALID_TOKEN, NULL);
    }
    if ((st = aapi_store_open(r, &db)) != AAPI_OK) {
        return aapi_http_send_status(r, st, NULL);
    }
    memset(&pair, 0, sizeof(pair));
    st = aapi_tokens_refresh(r, c, db, token, &u, &pair);
    if (st != AAPI_OK) {
        if (st == AAPI_INVALID_TOKEN) {
            aapi_clear_cookies(r, c);
        }
        return aapi_http_send_status(r, st, NULL);
    }
    return aapi_send_tokens(r, c, HTTP_OK, "Token refreshed", u, &pair);
}

/* ==== POST /logout, POST /logout-all ==== */

int aapi_ep_logout(request_rec *r, aapi_srv_cfg_t *c)
{
    aapi_claims_t claims;
    aapi_user_t *u;
    aapi_db_t *db;
    aapi_status_t st;
    int rc = aapi_require_user(r, c, &db, &claims, &u);

    if (rc != OK) {
        return rc;
    }
    st = aapi_store_end_session(db, claims.sid, claims.sub, aapi_now());
    if (st != AAPI_OK && st != AAPI_NOT_FOUND) {
        return aapi_http_send_status(r, st, NULL);
    }
    aapi_end_own_sessions(r, c, NULL, claims.sid);
    ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, r, AAPI_LOGNO(0801)
                  "session %s of user %s ended by logout", claims.sid,
                  claims.sub);
    return aapi_http_send_ok(r, HTTP_OK, "Logged out", NULL);
}

int aapi_ep_logout_all(request_rec *r, aapi_srv_cfg_t *c)
{
    aapi_claims_t claims;
    aapi_user_t *u;
    aapi_db_t *db;
    aapi_json_t *data;
    apr_array_header_t *ended = NULL;
    aapi_status_t st;
    int rc = aapi_require_user(r, c, &db, &claims, &u);

    if (rc != OK) {
        return rc;
    }
    st = aapi_store_end_sessions(db, claims.sub, NULL, aapi_now(), &ended);
    if (st != AAPI_OK) {
        return aapi_http_send_status(r, st, NULL);
    }
    aapi_end_own_sessions(r, c, ended, claims.sid);
    ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, r, AAPI_LOGNO(0802)
                  "every session of user %s ended (%d)", claims.sub,
                  ended ? ended->nelts : 0);
    data = aapi_json_object(r->pool);
    aapi_json_set_int(data, "sessions_ended", ended ? ended->nelts : 0);
    return aapi_http_send_ok(r, HTTP_OK, "Logged out of every session", data);
}

/* ==== GET /sessions, DELETE /sessions/{id} ==== */

#define MAX_LISTED_SESSIONS 100

int aapi_ep_sessions_list(request_rec *r, aapi_srv_cfg_t *c)
{
    aapi_claims_t claims;
    aapi_user_t *u;
    aapi_db_t *db;
    aapi_json_t *data, *list;
    apr_array_header_t *live;
    aapi_status_t st;
    int i, rc = aapi_require_user(r, c, &db, &claims, &u);

    if (rc != OK) {
        return rc;
    }
    st = aapi_store_live_sessions(db, claims.sub, aapi_now(),
                                  MAX_LISTED_SESSIONS, &live);
    if (st != AAPI_OK) {
        return aapi_http_send_status(r, st, NULL);
    }
    list = aapi_json_array(r->pool);
    for (i = 0; i < live->nelts; i++) {
        const aapi_session_t *s = &APR_ARRAY_IDX(live, i, aapi_session_t);
        aapi_json_t *j = aapi_json_object(r->pool);

        aapi_json_set_str(j, "id", s->id);
        aapi_json_set_bool(j, "current", !strcmp(s->id, claims.sid));
        aapi_json_set_str(j, "created_at", aapi_rfc3339(r->pool, s->created_at));
        aapi_json_set_str(j, "last_used_at",
                          aapi_rfc3339(r->pool, s->last_used_at));
        aapi_json_set_str(j, "expires_at", aapi_rfc3339(r->pool, s->expires_at));
        aapi_json_set_str(j, "ip", s->ip);
        aapi_json_set_str(j, "user_agent", s->user_agent);
        aapi_json_append(list, j);
    }
    data = aapi_json_object(r->pool);
    aapi_json_set(data, "sessions", list);
    return aapi_http_send_ok(r, HTTP_OK, "Sessions", data);
}

int aapi_ep_session_delete(request_rec *r, aapi_srv_cfg_t *c)
{
    aapi_claims_t claims;
    aapi_user_t *u;
    aapi_db_t *db;
    aapi_status_t st;
    char *path = apr_pstrdup(r->pool, r->uri), *id;
    size_t n = strlen(path);
    int rc;

    if (n > 1 && path[n - 1] == '/') {
        path[n - 1] = '\0';
    }
    id = strrchr(path, '/') + 1;
    if ((rc = aapi_require_user(r, c, &db, &claims, &u)) != OK) {
        return rc;
    }
    /* only the user's own live sessions; any other id is simply not found */
    st = aapi_store_end_session(db, id, claims.sub, aapi_now());
    if (st != AAPI_OK) {
        return aapi_http_send_status(r, st, NULL);
    }
    aapi_session_mark_ended(r, c, id);
    ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, r, AAPI_LOGNO(0803)
                  "session %s of user %s ended", id, claims.sub);
    return aapi_http_send_ok(r, HTTP_OK, "Session ended", NULL);
}
