/*
 * handlers/account.c - level 6: registration and login.
 */
#include "aapi.h"
#include "handlers.h"
#include "http.h"
#include "password.h"
#include "util.h"
#include "validate.h"

#include "apr_lib.h"
#include "http_protocol.h"

#include <string.h>

#define ID_BYTES 16

/* Reads optional string field KEY (or ALIAS) of BODY into *OUT; appends an
 * error when it has another type, or is missing while REQUIRED. Returns 1
 * when a value was read. */
static int opt_string(aapi_json_t *body, const char *key, const char *alias,
                      int required, const char **out,
                      apr_array_header_t *errs)
{
    int rc = aapi_json_get_str(body, key, alias, out);

    if (rc < 0) {
        aapi_add_error(errs, key, "must be a string");
        return 0;
    }
    if (rc == 0 || **out == '\0') {
        *out = NULL;
        if (required) {
            aapi_add_error(errs, key, "is required");
        }
        return 0;
    }
    return 1;
}

/* Makes a new session of U for R's client and its first token pair (the
 * session is not stored yet); returns AAPI_OK or AAPI_INTERNAL. */
static aapi_status_t new_tokens(request_rec *r, aapi_srv_cfg_t *c,
                                const aapi_user_t *u, aapi_session_t *sess,
                                aapi_token_pair_t *pair)
{
    aapi_status_t st = aapi_tokens_new_session(r->pool, c, u,
                                               aapi_client_ip(r),
                                               aapi_client_ua(r), sess, pair);
    return st == AAPI_OK ? aapi_tokens_sign_access(r->pool, c, u, sess->id,
                                                   pair)
                         : st;
}

/* ==== POST /register ==== */

int aapi_ep_register(request_rec *r, aapi_srv_cfg_t *c)
{
    apr_array_header_t *errs = apr_array_make(r->pool, 4,
                                              sizeof(aapi_field_error_t));
    const aapi_hash_cfg_t *hc = aapi_cfg_hash(c);
    int req = aapi_cfg_required(c);
    aapi_json_t *body;
    aapi_user_t *u;
    aapi_session_t sess;
    aapi_token_pair_t pair;
    aapi_db_t *db;
    aapi_status_t st;
    const char *email = NULL, *norm = NULL, *password = NULL;
    int rc;

    if ((rc = aapi_http_read_json(r, c, 1, &body)) != OK) {
        return rc;
    }
    u = apr_pcalloc(r->pool, sizeof(*u));

    if (opt_string(body, "email", NULL, 1, &email, errs)) {
        u->email = aapi_validate_email(r->pool, email, &norm, errs);
        u->email_norm = norm;
    }
    if (opt_string(body, "username", NULL, req & AAPI_REQ_USERNAME,
                   &u->username, errs)
        && aapi_validate_username(u->username, errs)) {
        u->username_norm = aapi_ascii_lower(r->pool, u->username);
    }
    if (opt_string(body, "first_name", "firstName", req & AAPI_REQ_FIRST_NAME,
                   &u->first_name, errs)) {
        aapi_validate_name("first_name", u->first_name, errs);
    }
    if (opt_string(body, "last_name", "lastName", req & AAPI_REQ_LAST_NAME,
                   &u->last_name, errs)) {
        aapi_validate_name("last_name", u->last_name, errs);
    }
    if (opt_string(body, "full_name", "fullName", req & AAPI_REQ_FULL_NAME,
                   &u->full_name, errs)) {
        aapi_validate_name("full_name", u->full_name, errs);
    }
    if (opt_string(body, "password", NULL, 1, &password, errs)) {
        aapi_validate_password(r->pool, "password", password,
                               aapi_cfg_policy(c),
                               aapi_password_max_bytes(hc),
                               u->email, u->username, errs);
    }
    if (errs->nelts > 0) {
        return aapi_http_send_status(r, AAPI_VALIDATION, errs);
    }

    /* a missing full name is made from the given ones */
    if (!u->full_name && (u->first_name || u->last_name)) {
        u->full_name = apr_pstrcat(r->pool, u->first_name ? u->first_name : "",
                                   u->first_name && u->last_name ? " " : "",
                                   u->last_name ? u->last_name : "", NULL);
        if (aapi_utf8_len(u->full_name) > AAPI_MAX_NAME_LEN) {
            u->full_name = NULL;
        }
    }
    u->id = aapi_random_hex(r->pool, ID_BYTES);
    u->role = "user";
    u->profile = "{}";
    u->created_at = u->updated_at = aapi_now();
    u->password_hash = aapi_password_hash(r->pool, hc, password);
    if (!u->id || !u->password_hash) {
        ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r, AAPI_LOGNO(0501)
                      "cannot create the account: random or hash failed");
        return aapi_http_send_status(r, AAPI_INTERNAL, NULL);
    }
    if ((st = new_tokens(r, c, u, &sess, &pair)) != AAPI_OK
        || (st = aapi_store_open(r, &db)) != AAPI_OK
        || (st = aapi_store_create_user(db, u, &sess)) != AAPI_OK) {
        return aapi_http_send_status(r, st, NULL);
    }
    aapi_session_mark_live(r, c, sess.id, u);
    ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, r, AAPI_LOGNO(0502)
                  "registered user %s, session %s", u->id, sess.id);
    return aapi_send_tokens(r, c, HTTP_CREATED, "Registration successful", u,
                            &pair);
}

/* ==== POST /login ==== */

/* Returns the trimmed, lower-cased login name from P. */
static const char *normalize_login(apr_pool_t *p, const char *in)
{
    const char *end;

    while (apr_isspace(*in)) in++;
    end = in + strlen(in);
    while (end > in && apr_isspace(end[-1])) end--;
    return aapi_ascii_lower(p, apr_pstrmemdup(p, in, (apr_size_t)(end - in)));
}

int aapi_ep_login(request_rec *r, aapi_srv_cfg_t *c)
{
    apr_array_header_t *errs = apr_array_make(r->pool, 2,
                                              sizeof(aapi_field_error_t));
    aapi_json_t *body;
    aapi_user_t *u = NULL;
    aapi_session_t sess;
    aapi_token_pair_t pair;
    aapi_db_t *db;
    aapi_status_t st;
    const char *login = NULL, *password = NULL, *field = "email";
    int rc, ok;

    if ((rc = aapi_http_read_json(r, c, 1, &body)) != OK) {
        return rc;
    }
    if (aapi_json_has(body, "username") && !aapi_json_has(body, "email")) {
        field = "username";
    }
    else if (aapi_json_has(body, "login") && !aapi_json_has(body, "email")) {
        field = "login";
    }
    if (opt_string(body, field, NULL, 1, &login, errs)
        && strlen(login) > AAPI_MAX_EMAIL_LEN + 2) {
        aapi_add_error(errs, field, "is too long");
    }
    if (opt_string(body, "password", NULL, 1, &password, errs)
        && strlen(password) > AAPI_MAX_PASSWORD_LEN) {
        aapi_add_error(errs, "password", "is too long");
    }
    if (errs->nelts > 0) {
        return aapi_http_send_status(r, AAPI_VALIDATION, errs);
    }

    if ((st = aapi_store_open(r, &db)) != AAPI_OK) {
        return aapi_http_send_status(r, st, NULL);
    }
    st = aapi_store_user_by_login(db, normalize_login(r->pool, login), &u);
    if (st != AAPI_OK && st != AAPI_NOT_FOUND) {
        return aapi_http_send_status(r, st, NULL);
    }
    /* the same hashing work whether or not the account exists */
    ok = aapi_password_verify(r->pool, password,
                              u ? u->password_hash : c->dummy_hash);
    if (!u || !ok || u->disabled) {
        ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, r, AAPI_LOGNO(0503)
                      "login refused%s%s", u ? " for user " : "",
                      u ? u->id : "");
        return aapi_http_send_status(r, AAPI_INVALID_CREDENTIALS, NULL);
    }
    if ((st = new_tokens(r, c, u, &sess, &pair)) != AAPI_OK
        || (st = aapi_store_create_session(db, &sess, u->password_hash))
           != AAPI_OK) {
        /* the password changed (or the account went) since it was read */
        return aapi_http_send_status(r, st == AAPI_NOT_FOUND
                                        ? AAPI_INVALID_CREDENTIALS : st, NULL);
    }
    aapi_session_mark_live(r, c, sess.id, u);
    ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, r, AAPI_LOGNO(0504)
                  "user %s logged in, session %s", u->id, sess.id);
    /* after the session: it was made while the hash it was checked
     * against was still the account's */
    aapi_password_upgrade(r, c, db, u, password);
    return aapi_send_tokens(r, c, HTTP_OK, "Login successful", u, &pair);
}

/* ==== POST /change-password ==== */

int aapi_ep_change_password(request_rec *r, aapi_srv_cfg_t *c)
{
    apr_array_header_t *errs = apr_array_make(r->pool, 2,
                                              sizeof(aapi_field_error_t));
    const aapi_hash_cfg_t *hc = aapi_cfg_hash(c);
    apr_array_header_t *ended = NULL;
    aapi_claims_t claims;
    aapi_user_t *u;
    aapi_db_t *db;
    aapi_json_t *body;
    aapi_status_t st;
    const char *current = NULL, *fresh = NULL, *hash;
    int rc = aapi_require_user_body(r, c, &db, &claims, &u, &body);

    if (rc != OK) {
        return rc;
    }
    if (aapi_json_get_str(body, "current_password", "currentPassword",
                          &current) != 1 || !*current) {
        aapi_add_error(errs, "current_password", "is required");
    }
    if (opt_string(body, "new_password", "newPassword", 1, &fresh, errs)) {
        aapi_validate_password(r->pool, "new_password", fresh,
                               aapi_cfg_policy(c), aapi_password_max_bytes(hc),
                               u->email, u->username, errs);
    }
    if (errs->nelts > 0) {
        return aapi_http_send_status(r, AAPI_VALIDATION, errs);
    }
    if (!aapi_password_verify(r->pool, current, u->password_hash)) {
        aapi_add_error(errs, "current_password", "is incorrect");
        return aapi_http_send_status(r, AAPI_VALIDATION, errs);
    }
    if (!(hash = aapi_password_hash(r->pool, hc, fresh))) {
        return aapi_http_send_status(r, AAPI_INTERNAL, NULL);
    }
    st = aapi_store_set_password(db, u->id, hash, claims.sid, aapi_now(),
                                 &ended);
    if (st != AAPI_OK) {
        return aapi_http_send_status(r, st, NULL);
    }
    aapi_sessions_mark_ended(r, c, ended);
    aapi_user_mark_changed(r, c, u->id);
    ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, r, AAPI_LOGNO(0505)
                  "password of user %s changed, %d other sessions ended",
                  u->id, ended ? ended->nelts : 0);
    return aapi_http_send_ok(r, HTTP_OK, "Password changed", NULL);
}

/* ==== DELETE /me ==== */

int aapi_ep_me_delete(request_rec *r, aapi_srv_cfg_t *c)
{
    apr_array_header_t *errs = apr_array_make(r->pool, 1,
                                              sizeof(aapi_field_error_t));
    apr_array_header_t *ended = NULL;
    aapi_claims_t claims;
    aapi_user_t *u;
    aapi_db_t *db;
    aapi_json_t *body;
    aapi_status_t st;
    const char *password = NULL;
    int rc = aapi_require_user_body(r, c, &db, &claims, &u, &body);

    if (rc != OK) {
        return rc;
    }
    if (!opt_string(body, "password", NULL, 1, &password, errs)) {
        return aapi_http_send_status(r, AAPI_VALIDATION, errs);
    }
    if (!aapi_password_verify(r->pool, password, u->password_hash)) {
        aapi_add_error(errs, "password", "is incorrect");
        return aapi_http_send_status(r, AAPI_VALIDATION, errs);
    }
    st = aapi_store_delete_user(db, u->id, aapi_now(), &ended);
    if (st != AAPI_OK) {
        return aapi_http_send_status(r, st, NULL);
    }
    aapi_end_own_sessions(r, c, ended, claims.sid);
    aapi_user_mark_changed(r, c, u->id);
    ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, r, AAPI_LOGNO(0506)
                  "user %s deleted their account", u->id);
    return aapi_http_send_ok(r, HTTP_OK, "Account deleted", NULL);
}
