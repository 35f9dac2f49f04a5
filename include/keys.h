/* keys.h - level 2: signing keys, each bound to one algorithm. */
#ifndef AAPI_KEYS_H
#define AAPI_KEYS_H

#include "aapi.h"

typedef enum {
    AAPI_ALG_HS256 = 1,
    AAPI_ALG_HS384,
    AAPI_ALG_HS512
} aapi_alg_t;

typedef struct aapi_key aapi_key_t;

/* Returns the algorithm named by NAME ("HS256"...), or 0 when unknown or
 * not supported. */
int aapi_alg_from_name(const char *name);

/* Returns the JOSE name of ALG. */
const char *aapi_alg_name(int alg);

/* Returns an HMAC key for ALG over SECRET, with its MAC state prepared once;
 * NULL on failure. The key lives (and is freed) with pool P. */
aapi_key_t *aapi_key_hmac(apr_pool_t *p, int alg, const unsigned char *secret,
                          size_t len);

/* Returns the algorithm KEY is bound to. */
int aapi_key_alg(const aapi_key_t *key);

/* Computes the MAC of DATA with KEY into OUT (64 bytes of room); returns the
 * MAC length, or 0 on failure. */
size_t aapi_key_mac(const aapi_key_t *key, const unsigned char *data,
                    size_t len, unsigned char *out);

#endif
