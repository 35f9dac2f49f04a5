/* authn.h - level 6: "AuthType auth-api" for any content Apache serves, and
 * the authentication and authorization providers. */
#ifndef AAPI_AUTHN_H
#define AAPI_AUTHN_H

#include "aapi.h"
#include "mod_auth.h"

/* Prepares, once a configuration (from PCONF), what publishing an identity
 * needs. */
void aapi_authn_post_config(apr_pool_t *pconf);

/* check_authn hook: DECLINED for other auth types; OK with r->user and the
 * AUTH_API_* environment set; or 401/403/302. */
int aapi_check_authn(request_rec *r);

/* note_auth_failure hook: adds the Bearer challenge for auth-api. */
int aapi_note_auth_failure(request_rec *r, const char *auth_type);

/* fixups hook: a request under AuthType auth-api that needed no user
 * ("Require all granted") still never passes client-made X-Auth-Api-*
 * headers on. Returns DECLINED. */
int aapi_fixups(request_rec *r);

/* The providers that mod_auth_api.c registers: "Require auth-api-role",
 * "Require auth-api-verified-email", "AuthBasicProvider auth-api". */
extern const authz_provider aapi_role_provider;
extern const authz_provider aapi_verified_provider;
extern const authn_provider aapi_basic_provider;

/* The identity of an authenticated request, for the env and the providers. */
typedef struct {
    const char *user_id, *email, *username, *role, *session_id;
    int email_verified;
    apr_int64_t expires;      /* 0 when there is none (Basic) */
    const char *expires_text; /* the same as RFC 3339, when already made */
} aapi_identity_t;

/* Removes every request header of R that a backend could take for one of
 * the X-Auth-Api-* identity headers: X-Auth-Api-* in any case, with '_'
 * for any of its dashes. */
void aapi_strip_identity_headers(request_rec *r);

/* Publishes ID for R: r->user (by AuthAPIRemoteUser unless USER is given),
 * r->ap_auth_type (unless AUTH_TYPE is NULL), AUTH_API_* in the environment,
 * X-Auth-Api-* with AuthAPIForwardHeaders. The strings of ID and USER are
 * used, not copied: they must live as long as r->pool. */
void aapi_publish_identity(request_rec *r, const aapi_identity_t *id,
                           const char *user, const char *auth_type);

/* Returns the identity published for R, or NULL. */
const aapi_identity_t *aapi_request_identity(request_rec *r);

#endif
