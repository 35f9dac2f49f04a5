/*
 * util.c - level 0: base64url, CSPRNG, constant-time comparison, SHA-256,
 * clock, durations and sizes, UTF-8 checks.
 */
#include "aapi.h"
#include "util.h"

#include "apr_lib.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <string.h>
#include <time.h>

/* ==== base64url ==== */

static const char b64url_alphabet[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/* Returns the value of base64url digit C, or -1. */
static int b64url_value(unsigned char c)
{
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    if (c == '-') return 62;
    if (c == '_') return 63;
    return -1;
}

size_t aapi_b64url_enclen(size_t len)
{
    return (len / 3) * 4 + ((len % 3) ? (len % 3) + 1 : 0);
}

size_t aapi_b64url_encode_to(char *out, const unsigned char *in, size_t len)
{
    size_t i = 0, o = 0;

    for (; i + 2 < len; i += 3) {
        out[o++] = b64url_alphabet[in[i] >> 2];
        out[o++] = b64url_alphabet[((in[i] & 0x03) << 4) | (in[i + 1] >> 4)];
        out[o++] = b64url_alphabet[((in[i + 1] & 0x0f) << 2) | (in[i + 2] >> 6)];
        out[o++] = b64url_alphabet[in[i + 2] & 0x3f];
    }
    if (len - i == 1) {
        out[o++] = b64url_alphabet[in[i] >> 2];
        out[o++] = b64url_alphabet[(in[i] & 0x03) << 4];
    }
    else if (len - i == 2) {
        out[o++] = b64url_alphabet[in[i] >> 2];
        out[o++] = b64url_alphabet[((in[i] & 0x03) << 4) | (in[i + 1] >> 4)];
        out[o++] = b64url_alphabet[(in[i + 1] & 0x0f) << 2];
    }
    out[o] = '\0';
    return o;
}

char *aapi_b64url_encode(apr_pool_t *p, const unsigned char *in, size_t len)
{
    char *out = apr_palloc(p, aapi_b64url_enclen(len) + 1);
    aapi_b64url_encode_to(out, in, len);
    return out;
}

int aapi_b64url_decode(unsigned char *out, size_t *outlen,
                       const char *in, size_t inlen)
{
    size_t i, o = 0;
    unsigned int acc = 0;
    int bits = 0;

    if (inlen % 4 == 1) {
        return -1;
    }
    for (i = 0; i < inlen; i++) {
        int v = b64url_value((unsigned char)in[i]);
        if (v < 0) {
            return -1;
        }
        acc = (acc << 6) | (unsigned int)v;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            out[o++] = (unsigned char)((acc >> bits) & 0xff);
        }
    }
    /* the bits left over must be zero, so each value has one encoding */
    if (bits > 0 && (acc & ((1u << bits) - 1)) != 0) {
        return -1;
    }
    *outlen = o;
    return 0;
}

/* ==== randomness, comparison, hashing ==== */

int aapi_random_bytes(unsigned char *buf, size_t n)
{
    return RAND_bytes(buf, (int)n) == 1 ? 0 : -1;
}

char *aapi_random_hex(apr_pool_t *p, size_t nbytes)
{
    static const char hex[] = "0123456789abcdef";
    unsigned char buf[64];
    char *out;
    size_t i;

    if (nbytes > sizeof(buf) || aapi_random_bytes(buf, nbytes) != 0) {
        return NULL;
    }
    out = apr_palloc(p, nbytes * 2 + 1);
    for (i = 0; i < nbytes; i++) {
        out[2 * i] = hex[buf[i] >> 4];
        out[2 * i + 1] = hex[buf[i] & 0x0f];
    }
    out[nbytes * 2] = '\0';
    OPENSSL_cleanse(buf, sizeof(buf));
    return out;
}

char *aapi_random_b64url(apr_pool_t *p, size_t nbytes)
{
    unsigned char buf[64];
    char *out;

    if (nbytes > sizeof(buf) || aapi_random_bytes(buf, nbytes) != 0) {
        return NULL;
    }
    out = aapi_b64url_encode(p, buf, nbytes);
    OPENSSL_cleanse(buf, sizeof(buf));
    return out;
}

int aapi_ct_equal(const void *a, const void *b, size_t n)
{
    return CRYPTO_memcmp(a, b, n) == 0;
}

int aapi_ct_streq(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b);
    int same = CRYPTO_memcmp(a, b, la < lb ? la : lb) == 0;
    return same & (la == lb);
}

char *aapi_sha256_hex(apr_pool_t *p, const void *data, size_t len)
{
    static const char hex[] = "0123456789abcdef";
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int mdlen = 0, i;
    char *out;

    if (EVP_Digest(data, len, md, &mdlen, EVP_sha256(), NULL) != 1) {
        return NULL;
    }
    out = apr_palloc(p, mdlen * 2 + 1);
    for (i = 0; i < mdlen; i++) {
        out[2 * i] = hex[md[i] >> 4];
        out[2 * i + 1] = hex[md[i] & 0x0f];
    }
    out[mdlen * 2] = '\0';
    return out;
}

/* ==== time ==== */

apr_int64_t aapi_now(void)
{
    return (apr_int64_t)apr_time_sec(apr_time_now());
}

char *aapi_rfc3339(apr_pool_t *p, apr_int64_t t)
{
    time_t tt = (time_t)t;
    struct tm tm;
    char buf[32];

    if (!gmtime_r(&tt, &tm)) {
        return apr_pstrdup(p, "1970-01-01T00:00:00Z");
    }
    strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%SZ", &tm);
    return apr_pstrdup(p, buf);
}

/* ==== units ==== */

/* Parses a decimal number with an optional one-letter unit from UNITS and
 * the multipliers MULS; returns NULL or an error message. */
static const char *parse_scaled(const char *s, apr_int64_t max,
                                const char *units, const apr_int64_t *muls,
                                apr_int64_t *out)
{
    apr_int64_t v = 0, mul = 1;
    const char *c = s, *u;

    if (!s || !apr_isdigit(*s)) {
        return "must be a non-negative number with an optional unit";
    }
    while (apr_isdigit(*c)) {
        v = v * 10 + (*c - '0');
        if (v > max) {
            return "is too large";
        }
        c++;
    }
    if (*c) {
        u = strchr(units, apr_tolower(*c));
        if (!u || c[1] != '\0') {
            return "has an unknown unit";
        }
        mul = muls[u - units];
    }
    if (v > max / mul) {
        return "is too large";
    }
    *out = v * mul;
    return NULL;
}

const char *aapi_parse_duration(const char *s, apr_int64_t *secs)
{
    static const apr_int64_t muls[] = { 1, 60, 3600, 86400 };
    return parse_scaled(s, APR_INT64_C(10) * 365 * 86400, "smhd", muls, secs);
}

const char *aapi_parse_size(const char *s, apr_off_t *bytes)
{
    static const apr_int64_t muls[] = { 1024, 1024 * 1024 };
    apr_int64_t v = 0;
    const char *err = parse_scaled(s, APR_INT64_C(1) << 30, "km", muls, &v);
    if (!err) {
        *bytes = (apr_off_t)v;
    }
    return err;
}

/* ==== strings ==== */

char *aapi_ascii_lower(apr_pool_t *p, const char *s)
{
    char *out = apr_pstrdup(p, s), *c;
    for (c = out; *c; c++) {
        *c = (char)apr_tolower(*c);
    }
    return out;
}

int aapi_utf8_valid(const char *str, size_t n)
{
    const unsigned char *s = (const unsigned char *)str;
    size_t i = 0;

    while (i < n) {
        unsigned char c = s[i];
        size_t len, k;
        unsigned int cp;

        if (c == 0) {
            return 0;
        }
        if (c < 0x80) { i++; continue; }
        if (c >= 0xc2 && c <= 0xdf) { len = 2; cp = c & 0x1f; }
        else if (c >= 0xe0 && c <= 0xef) { len = 3; cp = c & 0x0f; }
        else if (c >= 0xf0 && c <= 0xf4) { len = 4; cp = c & 0x07; }
        else { return 0; }
        if (i + len > n) {
            return 0;
        }
        for (k = 1; k < len; k++) {
            if ((s[i + k] & 0xc0) != 0x80) {
                return 0;
            }
            cp = (cp << 6) | (s[i + k] & 0x3f);
        }
        if ((len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000)
            || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) {
            return 0;
        }
        i += len;
    }
    return 1;
}

size_t aapi_utf8_len(const char *s)
{
    size_t n = 0;
    for (; *s; s++) {
        if (((unsigned char)*s & 0xc0) != 0x80) {
            n++;
        }
    }
    return n;
}
