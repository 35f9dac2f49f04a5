/* jwt.h - level 2: JWS compact tokens (RFC 7515/7519) signed and verified
 * with a configured key. Nothing here trusts a key named by the token. */
#ifndef AAPI_JWT_H
#define AAPI_JWT_H

#include "aapi.h"
#include "keys.h"

typedef struct {
    const char *iss, *aud;
    const char *sub, *sid, *jti;
    const char *role, *email, *username;  /* username may be NULL */
    int email_verified;
    apr_int64_t iat, nbf, exp;
    const char *exp_text;     /* exp as RFC 3339, when already made */
} aapi_claims_t;

/* What verification requires besides the signature. */
typedef struct {
    const char *issuer;       /* required value of iss, or NULL             */
    const char *audience;     /* required member of aud, or NULL            */
    apr_int64_t now;
    apr_int64_t leeway;
} aapi_jwt_check_t;

/* Why a token was refused; for the error log, never for the client. */
typedef enum {
    AAPI_JWT_OK = 0,
    AAPI_JWT_MALFORMED,
    AAPI_JWT_TOO_LONG,
    AAPI_JWT_BAD_HEADER,
    AAPI_JWT_BAD_ALG,
    AAPI_JWT_BAD_SIGNATURE,
    AAPI_JWT_BAD_PAYLOAD,
    AAPI_JWT_EXPIRED,
    AAPI_JWT_NOT_YET,
    AAPI_JWT_BAD_ISSUER,
    AAPI_JWT_BAD_AUDIENCE,
    AAPI_JWT_MISSING_CLAIM
} aapi_jwt_err_t;

/* Returns the signed compact JWS for CLAIMS, from P; or NULL. */
char *aapi_jwt_sign(apr_pool_t *p, const aapi_key_t *key,
                    const aapi_claims_t *claims);

/* Verifies TOKEN (LEN bytes) with KEY and CHECK; returns AAPI_JWT_OK with
 * *OUT filled (strings from P), or the reason it was refused. */
aapi_jwt_err_t aapi_jwt_verify(apr_pool_t *p, const aapi_key_t *key,
                               const char *token, size_t len,
                               const aapi_jwt_check_t *check,
                               aapi_claims_t *out);

/* Returns a short description of ERR for the log. */
const char *aapi_jwt_strerror(aapi_jwt_err_t err);

#endif
