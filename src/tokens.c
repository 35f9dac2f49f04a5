/*
 * tokens.c - level 4: the tokens of a session: a signed access token and an
 * opaque refresh token, stored only as its SHA-256.
 */
#include "aapi.h"
#include "tokens.h"
#include "util.h"

#include <string.h>

#define ID_BYTES 16

aapi_status_t aapi_tokens_new_session(apr_pool_t *p, const aapi_srv_cfg_t *c,
                                      const aapi_user_t *user,
                                      const char *ip, const char *ua,
                                      aapi_session_t *sess,
                                      aapi_token_pair_t *pair)
{
    apr_int64_t now = aapi_now();
    const char *refresh = aapi_random_b64url(p, AAPI_REFRESH_BYTES);

    memset(sess, 0, sizeof(*sess));
    sess->id = aapi_random_hex(p, ID_BYTES);
    if (!refresh || !sess->id) {
        return AAPI_INTERNAL;
    }
    sess->user_id = user->id;
    sess->refresh_hash = aapi_sha256_hex(p, refresh, strlen(refresh));
    sess->created_at = sess->last_used_at = now;
    sess->expires_at = now + aapi_cfg_refresh_ttl(c);
    sess->ip = ip;
    sess->user_agent = ua ? apr_pstrndup(p, ua, AAPI_MAX_UA_LEN) : NULL;
    pair->refresh_token = refresh;
    pair->refresh_expires_in = aapi_cfg_refresh_ttl(c);
    pair->session_id = sess->id;
    return sess->refresh_hash ? AAPI_OK : AAPI_INTERNAL;
}

aapi_status_t aapi_tokens_sign_access(apr_pool_t *p, const aapi_srv_cfg_t *c,
                                      const aapi_user_t *user, const char *sid,
                                      aapi_token_pair_t *pair)
{
    aapi_claims_t cl;
    apr_int64_t now = aapi_now();

    memset(&cl, 0, sizeof(cl));
    cl.iss = c->issuer;
    cl.aud = c->audience;
    cl.sub = user->id;
    cl.sid = sid;
    cl.jti = aapi_random_b64url(p, ID_BYTES);
    cl.role = user->role;
    cl.email = user->email;
    cl.username = user->username;
    cl.email_verified = user->email_verified;
    cl.iat = cl.nbf = now;
    cl.exp = now + aapi_cfg_access_ttl(c);
    if (!cl.jti || !c->key) {
        return AAPI_INTERNAL;
    }
    pair->access_token = aapi_jwt_sign(p, c->key, &cl);
    pair->expires_in = aapi_cfg_access_ttl(c);
    return pair->access_token ? AAPI_OK : AAPI_INTERNAL;
}

aapi_status_t aapi_tokens_verify_access(apr_pool_t *p, const aapi_srv_cfg_t *c,
                                        const char *token,
                                        aapi_claims_t *claims,
                                        const char **why)
{
    aapi_jwt_check_t check;
    aapi_jwt_err_t err;

    if (!c->key) {
        *why = "no signing key configured";
        return AAPI_INVALID_TOKEN;
    }
    check.issuer = c->issuer;
    check.audience = c->audience;
    check.now = aapi_now();
    check.leeway = aapi_cfg_leeway(c);
    err = aapi_jwt_verify(p, c->key, token, strlen(token), &check, claims);
    if (err != AAPI_JWT_OK) {
        *why = aapi_jwt_strerror(err);
        return AAPI_INVALID_TOKEN;
    }
    return AAPI_OK;
}
