/*
 * keys.c - level 2: keys loaded at start-up, each bound to one algorithm.
 * An HMAC key keeps the two digest states of RFC 2104 (after key^ipad and
 * key^opad), computed once; every signature copies them instead of fetching
 * the algorithm and absorbing the key again.
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
    EVP_MD *md;
    EVP_MD_CTX *inner;         /* the digest after key XOR ipad (RFC 2104) */
    EVP_MD_CTX *outer;         /* the digest after key XOR opad            */
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
    EVP_MD_CTX_free(k->inner);
    EVP_MD_CTX_free(k->outer);
    EVP_MD_free(k->md);
    k->inner = k->outer = NULL;
    k->md = NULL;
    return APR_SUCCESS;
}

aapi_key_t *aapi_key_hmac(apr_pool_t *p, int alg, const unsigned char *secret,
                          size_t len)
{
    unsigned char block[128], ipad[128], opad[128];
    const char *digest = NULL;
    aapi_key_t *k;
    int i, bs;

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
    k->md = EVP_MD_fetch(NULL, digest, NULL);
    k->inner = EVP_MD_CTX_new();
    k->outer = EVP_MD_CTX_new();
    apr_pool_cleanup_register(p, k, key_cleanup, apr_pool_cleanup_null);
    if (!k->md || !k->inner || !k->outer) {
        return NULL;
    }
    bs = EVP_MD_get_block_size(k->md);
    if (bs <= 0 || bs > (int)sizeof(block)) {
        return NULL;
    }
    /* RFC 2104: a key longer than the block is replaced by its digest */
    memset(block, 0, sizeof(block));
    if (len > (size_t)bs) {
        unsigned int dl = 0;
        if (EVP_Digest(secret, len, block, &dl, k->md, NULL) != 1) {
            return NULL;
        }
    }
    else {
        memcpy(block, secret, len);
    }
    for (i = 0; i < bs; i++) {
        ipad[i] = block[i] ^ 0x36;
        opad[i] = block[i] ^ 0x5c;
    }
    i = EVP_DigestInit_ex(k->inner, k->md, NULL) == 1
        && EVP_DigestUpdate(k->inner, ipad, (size_t)bs) == 1
        && EVP_DigestInit_ex(k->outer, k->md, NULL) == 1
        && EVP_DigestUpdate(k->outer, opad, (size_t)bs) == 1;
    OPENSSL_cleanse(block, sizeof(block));
    OPENSSL_cleanse(ipad, sizeof(ipad));
    OPENSSL_cleanse(opad, sizeof(opad));
    return i ? k : NULL;
}

int aapi_key_alg(const aapi_key_t *key)
{
    return key->alg;
}

size_t aapi_key_mac(const aapi_key_t *key, const unsigned char *data,
                    size_t len, unsigned char *out)
{
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    unsigned char ih[EVP_MAX_MD_SIZE];
    unsigned int ilen = 0, olen = 0;
    int ok;

    if (!ctx) {
        return 0;
    }
    /* HMAC = H(key^opad || H(key^ipad || data)), from the two states made
     * once when the key was loaded */
    ok = EVP_MD_CTX_copy_ex(ctx, key->inner) == 1
         && EVP_DigestUpdate(ctx, data, len) == 1
         && EVP_DigestFinal_ex(ctx, ih, &ilen) == 1
         && EVP_MD_CTX_copy_ex(ctx, key->outer) == 1
         && EVP_DigestUpdate(ctx, ih, ilen) == 1
         && EVP_DigestFinal_ex(ctx, out, &olen) == 1;
    EVP_MD_CTX_free(ctx);
    OPENSSL_cleanse(ih, sizeof(ih));
    return ok ? olen : 0;
}
