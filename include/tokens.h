/* tokens.h - level 4: access tokens and refresh tokens of sessions. */
#ifndef AAPI_TOKENS_H
#define AAPI_TOKENS_H

#include "aapi.h"
#include "config.h"
#include "jwt.h"
#include "store.h"

#define AAPI_REFRESH_BYTES 32     /* 256 bits */

typedef struct {
    const char *access_token;
    apr_int64_t expires_in;
    const char *refresh_token;
    apr_int64_t refresh_expires_in;
    const char *session_id;
} aapi_token_pair_t;

/* Fills SESS (new id, refresh hash, times, IP, UA) for USER and sets the
 * plain refresh token in PAIR; returns AAPI_OK or AAPI_INTERNAL. */
aapi_status_t aapi_tokens_new_session(apr_pool_t *p, const aapi_srv_cfg_t *c,
                                      const aapi_user_t *user,
                                      const char *ip, const char *ua,
                                      aapi_session_t *sess,
                                      aapi_token_pair_t *pair);

/* Signs an access token for USER in session SID into PAIR; returns AAPI_OK
 * or AAPI_INTERNAL. */
aapi_status_t aapi_tokens_sign_access(apr_pool_t *p, const aapi_srv_cfg_t *c,
                                      const aapi_user_t *user, const char *sid,
                                      aapi_token_pair_t *pair);

/* Verifies access token TOKEN; returns AAPI_OK with *CLAIMS, or
 * AAPI_INVALID_TOKEN with *WHY set for the log. */
aapi_status_t aapi_tokens_verify_access(apr_pool_t *p, const aapi_srv_cfg_t *c,
                                        const char *token,
                                        aapi_claims_t *claims,
                                        const char **why);

#endif
