/*
 * keys.c - level 2: keys loaded at start-up, each bound to one algorithm.
 * An HMAC key keeps a MAC context initialised with the secret once; every
 * signature duplicates it instead of fetching the algorithm again.
 */
#include "aapi.h"
#include "keys.h"

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/params.h>
#include <string.h>

struct aapi_key {
    int alg;
    EVP_MAC *mac;
    EVP_MAC_CTX *ctx;          /* initialised with the secret; never used
                                * directly, only duplicated */
};

static const struct {
    const char *name;
    int alg;
    const char *digest;
} alg_table[] = {
    { "HS256", AAPI_ALG_HS256, "SHA256" },
    { "HS384", AAPI_ALG_HS384, "SHA384" },
    { "HS512", AAPI_ALG_HS512, "SHA512" },
    { NULL, 0, NULL }
};

int aapi_alg_from_name(const char *name)
{
    int i;
    for (i = 0; alg_table[i].name; i++) {
        if (strcmp(alg_table[i].name, name) == 0) {
            return alg_table[i].alg;
        }
    }
    return 0;
}

const char *aapi_alg_name(int alg)
{
    int i;
    for (i = 0; alg_table[i].name; i++) {
        if (alg_table[i].alg == alg) {
            return alg_table[i].name;
        }
    }
    return "none";
}

/* Pool cleanup: frees the OpenSSL objects of a key. */
static apr_status_t key_cleanup(void *data)
{
    aapi_key_t *k = data;
    EVP_MAC_CTX_free(k->ctx);
    EVP_MAC_free(k->mac);
    k->ctx = NULL;
    k->mac = NULL;
    return APR_SUCCESS;
}

aapi_key_t *aapi_key_hmac(apr_pool_t *p, int alg, const unsigned char *secret,
                          size_t len)
{
    aapi_key_t *k;
    OSSL_PARAM params[2];
    const char *digest = NULL;
    int i;

    for (i = 0; alg_table[i].name; i++) {
        if (alg_table[i].alg == alg) {
            digest = alg_table[i].digest;
        }
    }
    if (!digest) {
        return NULL;
    }
    k = apr_pcalloc(p, sizeof(*k));
    k->alg = alg;
    k->mac = EVP_MAC_fetch(NULL, "HMAC", NULL);
    if (!k->mac) {
        return NULL;
    }
    k->ctx = EVP_MAC_CTX_new(k->mac);
    apr_pool_cleanup_register(p, k, key_cleanup, apr_pool_cleanup_null);
    if (!k->ctx) {
        return NULL;
    }
    params[0] = OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST,
                                                 (char *)digest, 0);
    params[1] = OSSL_PARAM_construct_end();
    if (EVP_MAC_init(k->ctx, secret, len, params) != 1) {
        return NULL;
    }
    return k;
}

int aapi_key_alg(const aapi_key_t *key)
{
    return key->alg;
}

size_t aapi_key_mac(const aapi_key_t *key, const unsigned char *data,
                    size_t len, unsigned char *out)
{
    EVP_MAC_CTX *ctx = EVP_MAC_CTX_dup(key->ctx);
    size_t outlen = 0;

    if (!ctx) {
        return 0;
    }
    if (EVP_MAC_update(ctx, data, len) != 1
        || EVP_MAC_final(ctx, out, &outlen, EVP_MAX_MD_SIZE) != 1) {
        outlen = 0;
    }
    EVP_MAC_CTX_free(ctx);
    return outlen;
}
