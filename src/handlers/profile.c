/*
 * handlers/profile.c - level 6: the signed-in user: GET/PATCH /me and
 * /verify-token.
 */
#include "aapi.h"
#include "handlers.h"
#include "http.h"
#include "util.h"
#include "validate.h"

#include "http_protocol.h"

#include <string.h>

int aapi_ep_me_get(request_rec *r, aapi_srv_cfg_t *c)
{
    aapi_claims_t claims;
    aapi_user_t *u;
    aapi_db_t *db;
    aapi_json_t *data;
    int rc = aapi_require_user(r, c, &db, &claims, &u);

    if (rc != OK) {
        return rc;
    }
    data = aapi_json_object(r->pool);
    aapi_json_set(data, "user", aapi_user_json(r->pool, u));
    return aapi_http_send_ok(r, HTTP_OK, "User profile", data);
}

int aapi_ep_verify_token(request_rec *r, aapi_srv_cfg_t *c)
{
    aapi_claims_t claims;
    aapi_user_t *u;
    aapi_db_t *db;
    aapi_json_t *data;
    int rc = aapi_require_user(r, c, &db, &claims, &u);

    if (rc != OK) {
        return rc;
    }
    data = aapi_json_object(r->pool);
    aapi_json_set_bool(data, "valid", 1);
    aapi_json_set(data, "user", aapi_user_json(r->pool, u));
    aapi_json_set_str(data, "session_id", claims.sid);
    aapi_json_set_str(data, "expires_at", aapi_rfc3339(r->pool, claims.exp));
    return aapi_http_send_ok(r, HTTP_OK, "Token is valid", data);
}

/* Applies name field KEY (or ALIAS) of BODY to *FIELD: a string is
 * validated and set, null clears it unless REQUIRED. */
static void update_name(aapi_json_t *body, const char *key, const char *alias,
                        int required, const char **field,
                        apr_array_header_t *errs)
{
    aapi_json_t *v = aapi_json_get(body, key);
    const char *s;

    if (!v && alias) {
        v = aapi_json_get(body, alias);
    }
    if (!v) {
        return;
    }
    if (aapi_json_is_null(v) || ((s = aapi_json_string_value(v)) && !*s)) {
        if (required) {
            aapi_add_error(errs, key, "is required");
        }
        else {
            *field = NULL;
        }
        return;
    }
    if (!(s = aapi_json_string_value(v))) {
        aapi_add_error(errs, key, "must be a string");
        return;
    }
    if (!strcmp(key, "username") ? aapi_validate_username(s, errs)
                                 : aapi_validate_name(key, s, errs)) {
        *field = s;
    }
}

int aapi_ep_me_update(request_rec *r, aapi_srv_cfg_t *c)
{
    apr_array_header_t *errs = apr_array_make(r->pool, 4,
                                              sizeof(aapi_field_error_t));
    int req = aapi_cfg_required(c);
    aapi_claims_t claims;
    aapi_user_t *u;
    aapi_db_t *db;
    aapi_json_t *body, *profile, *data, *current = NULL;
    apr_array_header_t *ids;
    const char *was;
    aapi_status_t st;
    int rc = aapi_require_user_body(r, c, &db, &claims, &u, &body);

    if (rc != OK) {
        return rc;
    }
    was = u->username;
    update_name(body, "username", NULL, req & AAPI_REQ_USERNAME,
                &u->username, errs);
    update_name(body, "first_name", "firstName", req & AAPI_REQ_FIRST_NAME,
                &u->first_name, errs);
    update_name(body, "last_name", "lastName", req & AAPI_REQ_LAST_NAME,
                &u->last_name, errs);
    update_name(body, "full_name", "fullName", req & AAPI_REQ_FULL_NAME,
                &u->full_name, errs);
    u->username_norm = u->username ? aapi_ascii_lower(r->pool, u->username)
                                   : NULL;

    profile = aapi_json_get(body, "profile");
    if (profile && aapi_json_is_null(profile)) {
        u->profile = "{}";
    }
    else if (profile && !aapi_json_is_object(profile)) {
        aapi_add_error(errs, "profile", "must be an object");
    }
    else if (profile) {
        /* RFC 7396 merge: members set, null members removed */
        aapi_json_parse_object(r->pool, u->profile, strlen(u->profile),
                               &current);
        u->profile = aapi_json_dump(r->pool,
                                    aapi_json_merge_patch(r->pool, current,
                                                          profile));
        if (!u->profile || strlen(u->profile) > AAPI_MAX_PROFILE_LEN) {
            aapi_add_error(errs, "profile", "must be at most 4096 bytes as JSON");
        }
    }
    if (errs->nelts > 0) {
        return aapi_http_send_status(r, AAPI_VALIDATION, errs);
    }
    u->updated_at = aapi_now();
    if ((st = aapi_store_update_profile(db, u)) != AAPI_OK) {
        return aapi_http_send_status(r, st == AAPI_NOT_FOUND
                                        ? AAPI_INVALID_TOKEN : st, NULL);
    }
    /* the access tokens of the user's sessions name the old username:
     * protected content refuses them from now on, as out of date, so that
     * no page or backend goes on seeing a name that another account may
     * take; a refresh gives tokens with the new one */
    if (!was != !u->username || (was && strcmp(was, u->username) != 0)) {
        aapi_user_mark_changed(r, c, u->id);
        if (aapi_store_live_ids(db, u->id, aapi_now(), &ids) == AAPI_OK) {
            aapi_sessions_mark_changed(r, c, ids);
        }
        else {
            ap_log_rerror(APLOG_MARK, APLOG_WARNING, 0, r, AAPI_LOGNO(0302)
                          "username of user %s changed, but its sessions "
                          "could not be read: protected content takes their "
                          "tokens as they are for up to "
                          "AuthAPISessionCacheTTL", u->id);
            aapi_sessions_mark_changed(r, c, NULL);
        }
    }
    data = aapi_json_object(r->pool);
    aapi_json_set(data, "user", aapi_user_json(r->pool, u));
    return aapi_http_send_ok(r, HTTP_OK, "Profile updated", data);
}
