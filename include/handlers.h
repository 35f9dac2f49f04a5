/* handlers.h - level 6: the endpoints of the JSON API. */
#ifndef AAPI_HANDLERS_H
#define AAPI_HANDLERS_H

#include "aapi.h"
#include "config.h"
#include "json.h"
#include "store.h"
#include "tokens.h"

/* The handler name of the JSON API (SetHandler auth-api). */
#define AAPI_HANDLER "auth-api"

/* The content handler for "SetHandler auth-api"; returns DECLINED for other
 * handlers. */
int aapi_handler(request_rec *r);

/* One endpoint: R is the request, C its server config. Returns OK or DONE. */
typedef int aapi_endpoint_fn(request_rec *r, aapi_srv_cfg_t *c);

aapi_endpoint_fn aapi_ep_register, aapi_ep_login;
aapi_endpoint_fn aapi_ep_me_get, aapi_ep_me_update, aapi_ep_verify_token;
aapi_endpoint_fn aapi_ep_health, aapi_ep_jwks;
aapi_endpoint_fn aapi_ep_refresh, aapi_ep_logout, aapi_ep_logout_all;
aapi_endpoint_fn aapi_ep_sessions_list, aapi_ep_session_delete;
aapi_endpoint_fn aapi_ep_change_password, aapi_ep_me_delete;

/* Returns the <Location> path that mounts the API for R ("/" if none). */
const char *aapi_request_mount(request_rec *r);

/* Sends a token response: the user and PAIR in the body (unless
 * AuthAPITokensInBody is off) and as cookies (when AuthAPITokenCookies is
 * on). Returns OK. */
int aapi_send_tokens(request_rec *r, aapi_srv_cfg_t *c, int status,
                     const char *message, const aapi_user_t *u,
                     const aapi_token_pair_t *pair);

/* Returns the public JSON of user U (never hashes or secrets). */
aapi_json_t *aapi_user_json(apr_pool_t *p, const aapi_user_t *u);

/* Expires the token cookies (when AuthAPITokenCookies is on), with the
 * same Path they were set with. */
void aapi_clear_cookies(request_rec *r, aapi_srv_cfg_t *c);

/* After the database ended the caller's session SID (and the sessions
 * ENDED, may be NULL): records them as ended for every process and expires
 * the caller's token cookies. */
void aapi_end_own_sessions(request_rec *r, aapi_srv_cfg_t *c,
                           const apr_array_header_t *ended, const char *sid);

/* Returns the client's address and user agent for a session record. */
const char *aapi_client_ip(request_rec *r);
const char *aapi_client_ua(request_rec *r);

/* Requires a valid access token whose session is live; returns OK with the
 * claims and the current user, or DONE after sending 401/503. A request
 * body (the endpoint reads none) is read and dropped before the database
 * connection is taken (400/413 when it cannot be). */
int aapi_require_user(request_rec *r, aapi_srv_cfg_t *c, aapi_db_t **db,
                      aapi_claims_t *claims, aapi_user_t **user);

/* aapi_require_user for an endpoint that reads a JSON object (required)
 * into *BODY: the body is read after the token is checked and before a
 * database connection is taken; DONE after sending 400/401/413/415/503. */
int aapi_require_user_body(request_rec *r, aapi_srv_cfg_t *c, aapi_db_t **db,
                           aapi_claims_t *claims, aapi_user_t **user,
                           aapi_json_t **body);

/* The second half of aapi_require_user: the session of CLAIMS (checked
 * already) is live; OK with the current user, or DONE after sending
 * 401/503. */
int aapi_require_session(request_rec *r, aapi_srv_cfg_t *c,
                         const aapi_claims_t *claims, aapi_db_t **db,
                         aapi_user_t **user);

#endif
