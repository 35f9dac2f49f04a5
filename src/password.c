/*
 * password.c - level 2: bcrypt (apr-util) and argon2id (libargon2) hashes.
 * Verification recomputes the hash and compares it in constant time.
 */
#include "aapi.h"
#include "password.h"
#include "util.h"

#include "apr_lib.h"
#include "apr_md5.h"          /* apr_bcrypt_encode */
#include <argon2.h>
#include <openssl/crypto.h>
#include <string.h>

#define BCRYPT_SALT_BYTES 16
#define BCRYPT_HASH_LEN   60
#define ARGON2_SALT_BYTES 16
#define ARGON2_HASH_BYTES 32

static const char bcrypt_alphabet[] =
    "./ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";

/* Returns the value of bcrypt base64 digit C, or -1. */
static int bcrypt_value(char c)
{
    const char *at = c ? strchr(bcrypt_alphabet, c) : NULL;
    return at ? (int)(at - bcrypt_alphabet) : -1;
}

/* Decodes the 22-character salt of a bcrypt hash into 16 bytes; returns 0,
 * or -1 when it is not bcrypt base64. */
static int bcrypt_salt(const char *in, unsigned char out[BCRYPT_SALT_BYTES])
{
    unsigned int acc = 0;
    int bits = 0, i, o = 0;

    for (i = 0; i < 22; i++) {
        int v = bcrypt_value(in[i]);
        if (v < 0) {
            return -1;
        }
        acc = (acc << 6) | (unsigned int)v;
        bits += 6;
        if (bits >= 8 && o < BCRYPT_SALT_BYTES) {
            bits -= 8;
            out[o++] = (unsigned char)((acc >> bits) & 0xff);
        }
    }
    return o == BCRYPT_SALT_BYTES ? 0 : -1;
}

/* Reads the number after "NAME=" at *S (advanced past it); returns -1
 * when there is none. */
static long argon2_param(const char **s, const char *name)
{
    size_t n = strlen(name);
    long v = 0;
    int digits = 0;

    if (strncmp(*s, name, n) != 0 || (*s)[n] != '=') {
        return -1;
    }
    *s += n + 1;
    while (apr_isdigit(**s) && digits < 9) {
        v = v * 10 + (**s - '0');
        (*s)++;
        digits++;
    }
    return digits ? v : -1;
}

int aapi_password_needs_rehash(const char *hash, const aapi_hash_cfg_t *cfg)
{
    if (!hash) {
        return 0;
    }
    if (strncmp(hash, "$argon2id$", 10) == 0) {
        const char *s = hash + 10;
        long m, t;

        if (cfg->alg != AAPI_HASH_ARGON2ID) {
            return 0;           /* stronger than bcrypt: kept */
        }
        /* $argon2id$v=19$m=65536,t=3,p=4$salt$hash */
        if (strncmp(s, "v=", 2) == 0) {
            s = strchr(s, '$');
            s = s ? s + 1 : "";
        }
        if ((m = argon2_param(&s, "m")) < 0 || *s++ != ','
            || (t = argon2_param(&s, "t")) < 0) {
            return 0;
        }
        return m < (long)cfg->argon_m_kib || t < (long)cfg->argon_t;
    }
    if (hash[0] == '$' && hash[1] == '2' && hash[2] && hash[3] == '$'
        && apr_isdigit(hash[4]) && apr_isdigit(hash[5]) && hash[6] == '$') {
        int cost = (hash[4] - '0') * 10 + hash[5] - '0';
        return cfg->alg == AAPI_HASH_ARGON2ID || cost < cfg->bcrypt_cost;
    }
    return 0;
}

size_t aapi_password_max_bytes(const aapi_hash_cfg_t *cfg)
{
    return cfg->alg == AAPI_HASH_ARGON2ID ? AAPI_MAX_PASSWORD_LEN
                                          : AAPI_BCRYPT_MAX_BYTES;
}

char *aapi_password_hash(apr_pool_t *p, const aapi_hash_cfg_t *cfg,
                         const char *pw)
{
    unsigned char salt[ARGON2_SALT_BYTES];
    size_t pwlen = strlen(pw);
    char *out;

    if (pwlen > aapi_password_max_bytes(cfg)
        || aapi_random_bytes(salt, sizeof(salt)) != 0) {
        return NULL;
    }
    if (cfg->alg == AAPI_HASH_ARGON2ID) {
        size_t n = argon2_encodedlen((uint32_t)cfg->argon_t,
                                     (uint32_t)cfg->argon_m_kib,
                                     (uint32_t)cfg->argon_p,
                                     ARGON2_SALT_BYTES, ARGON2_HASH_BYTES,
                                     Argon2_id);
        out = apr_palloc(p, n + 1);
        if (argon2id_hash_encoded((uint32_t)cfg->argon_t,
                                  (uint32_t)cfg->argon_m_kib,
                                  (uint32_t)cfg->argon_p, pw, pwlen,
                                  salt, ARGON2_SALT_BYTES, ARGON2_HASH_BYTES,
                                  out, n + 1) != ARGON2_OK) {
            return NULL;
        }
        return out;
    }
    out = apr_palloc(p, BCRYPT_HASH_LEN + 1);
    if (apr_bcrypt_encode(pw, (unsigned int)cfg->bcrypt_cost, salt,
                          BCRYPT_SALT_BYTES, out, BCRYPT_HASH_LEN + 1)
        != APR_SUCCESS) {
        return NULL;
    }
    return out;
}

int aapi_password_verify(apr_pool_t *p, const char *pw, const char *hash)
{
    size_t pwlen = strlen(pw);

    if (!hash) {
        return 0;
    }
    if (strncmp(hash, "$argon2id$", 10) == 0) {
        if (pwlen > AAPI_MAX_PASSWORD_LEN) {
            return 0;
        }
        return argon2id_verify(hash, pw, pwlen) == ARGON2_OK;
    }
    if (strlen(hash) == BCRYPT_HASH_LEN && hash[0] == '$' && hash[1] == '2'
        && (hash[2] == 'a' || hash[2] == 'b' || hash[2] == 'y')
        && hash[3] == '$' && apr_isdigit(hash[4]) && apr_isdigit(hash[5])
        && hash[6] == '$') {
        unsigned char salt[BCRYPT_SALT_BYTES];
        char out[BCRYPT_HASH_LEN + 1];
        unsigned int cost = (unsigned int)((hash[4] - '0') * 10 + hash[5] - '0');
        int same;

        if (bcrypt_salt(hash + 7, salt) != 0
            || apr_bcrypt_encode(pw, cost, salt, sizeof(salt), out, sizeof(out))
               != APR_SUCCESS) {
            return 0;
        }
        /* $2a$, $2b$ and $2y$ name the same computation for these inputs */
        same = CRYPTO_memcmp(out + 3, hash + 3, BCRYPT_HASH_LEN - 3) == 0;
        OPENSSL_cleanse(out, sizeof(out));
        /* bcrypt reads 72 bytes; a longer password is never accepted */
        return same && pwlen <= AAPI_BCRYPT_MAX_BYTES;
    }
    return 0;
}
