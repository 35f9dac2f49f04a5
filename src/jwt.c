/*
 * jwt.c - level 2: JWS compact serialisation (RFC 7515) with the claims of
 * RFC 7519. The algorithm is the key's; the token's "alg" must equal it.
 * The signature is checked in constant time before any claim is read.
 */
#include "aapi.h"
#include "jwt.h"
#include "json.h"
#include "util.h"

#include "apr_lib.h"

#include <openssl/evp.h>
#include <string.h>
#include <strings.h>

#define MAX_HEADER_LEN 1024

const char *aapi_jwt_strerror(aapi_jwt_err_t err)
{
    switch (err) {
    case AAPI_JWT_OK:            return "ok";
    case AAPI_JWT_MALFORMED:     return "malformed token";
    case AAPI_JWT_TOO_LONG:      return "token too long";
    case AAPI_JWT_BAD_HEADER:    return "bad header";
    case AAPI_JWT_BAD_ALG:       return "algorithm not accepted";
    case AAPI_JWT_BAD_SIGNATURE: return "bad signature";
    case AAPI_JWT_BAD_PAYLOAD:   return "bad payload";
    case AAPI_JWT_EXPIRED:       return "expired";
    case AAPI_JWT_NOT_YET:       return "not yet valid";
    case AAPI_JWT_BAD_ISSUER:    return "wrong issuer";
    case AAPI_JWT_BAD_AUDIENCE:  return "wrong audience";
    case AAPI_JWT_MISSING_CLAIM: return "missing claim";
    }
    return "unknown";
}

/* ==== signing ==== */

char *aapi_jwt_sign(apr_pool_t *p, const aapi_key_t *key,
                    const aapi_claims_t *c)
{
    aapi_json_t *claims = aapi_json_object(p);
    const char *header, *payload;
    char *h64, *p64, *signing_input, *sig64;
    unsigned char mac[EVP_MAX_MD_SIZE];
    size_t maclen;

    header = apr_psprintf(p, "{\"alg\":\"%s\",\"typ\":\"JWT\"}",
                          aapi_alg_name(aapi_key_alg(key)));
    if (c->iss) aapi_json_set_str(claims, "iss", c->iss);
    if (c->aud) aapi_json_set_str(claims, "aud", c->aud);
    aapi_json_set_str(claims, "sub", c->sub);
    aapi_json_set_int(claims, "iat", c->iat);
    aapi_json_set_int(claims, "nbf", c->nbf);
    aapi_json_set_int(claims, "exp", c->exp);
    aapi_json_set_str(claims, "jti", c->jti);
    aapi_json_set_str(claims, "sid", c->sid);
    aapi_json_set_str(claims, "role", c->role);
    aapi_json_set_str(claims, "email", c->email);
    aapi_json_set_bool(claims, "email_verified", c->email_verified);
    aapi_json_set_str(claims, "username", c->username);
    payload = aapi_json_dump(p, claims);
    if (!payload) {
        return NULL;
    }
    h64 = aapi_b64url_encode(p, (const unsigned char *)header, strlen(header));
    p64 = aapi_b64url_encode(p, (const unsigned char *)payload, strlen(payload));
    signing_input = apr_pstrcat(p, h64, ".", p64, NULL);
    maclen = aapi_key_mac(key, (const unsigned char *)signing_input,
                          strlen(signing_input), mac);
    if (maclen == 0) {
        return NULL;
    }
    sig64 = aapi_b64url_encode(p, mac, maclen);
    return apr_pstrcat(p, signing_input, ".", sig64, NULL);
}

/* ==== verification ==== */

/* Returns the segment [start, end) decoded from base64url into a new
 * NUL-terminated buffer from P (its length in *LEN), or NULL. */
static unsigned char *decode_segment(apr_pool_t *p, const char *start,
                                     size_t n, size_t *len)
{
    unsigned char *buf = apr_palloc(p, n * 3 / 4 + 2);
    if (n == 0 || aapi_b64url_decode(buf, len, start, n) != 0) {
        return NULL;
    }
    buf[*len] = '\0';
    return buf;
}

/* Returns 1 when V is a JSON number, setting *OUT to its whole seconds. */
static int numeric_date(aapi_json_t *obj, const char *key, apr_int64_t *out,
                        int *present)
{
    apr_int64_t v;
    int rc = aapi_json_get_int(obj, key, &v);

    *present = rc != 0;
    if (rc == 1) {
        *out = v;
        return 1;
    }
    return rc == 0;     /* absent is fine here; other types are not */
}

/* Returns 1 when AUD (string or array of strings) contains WANT. */
static int audience_matches(aapi_json_t *aud, const char *want)
{
    const char *s = aapi_json_string_value(aud);
    size_t i, n;

    if (s) {
        return strcmp(s, want) == 0;
    }
    n = aapi_json_array_size(aud);
    for (i = 0; i < n && i < 32; i++) {
        s = aapi_json_string_value(aapi_json_array_get(aud, i));
        if (s && strcmp(s, want) == 0) {
            return 1;
        }
    }
    return 0;
}

/* Copies string claim KEY of OBJ into *OUT from P; returns -1 when it has
 * another type, 0 when absent, 1 when set. */
static int string_claim(apr_pool_t *p, aapi_json_t *obj, const char *key,
                        const char **out)
{
    const char *s = NULL;
    int rc = aapi_json_get_str(obj, key, NULL, &s);
    *out = rc == 1 ? apr_pstrdup(p, s) : NULL;
    return rc;
}

aapi_jwt_err_t aapi_jwt_verify(apr_pool_t *p, const aapi_key_t *key,
                               const char *token, size_t len,
                               const aapi_jwt_check_t *check,
                               aapi_claims_t *out)
{
    const char *dot1, *dot2;
    unsigned char *hdr, *pay, *sig;
    size_t hlen, plen, slen, maclen, i;
    unsigned char mac[EVP_MAX_MD_SIZE];
    aapi_json_t *h, *c, *aud;
    const char *alg = NULL;
    apr_int64_t exp = 0, nbf = 0, iat = 0;
    int has_exp, has_nbf, has_iat, verified = 0;

    if (len > AAPI_MAX_TOKEN_LEN) {
        return AAPI_JWT_TOO_LONG;
    }
    for (i = 0; i < len; i++) {
        char ch = token[i];
        if (!(apr_isalnum(ch) || ch == '-' || ch == '_' || ch == '.')) {
            return AAPI_JWT_MALFORMED;
        }
    }
    dot1 = memchr(token, '.', len);
    dot2 = dot1 ? memchr(dot1 + 1, '.', len - (size_t)(dot1 + 1 - token)) : NULL;
    if (!dot1 || !dot2
        || memchr(dot2 + 1, '.', len - (size_t)(dot2 + 1 - token))) {
        return AAPI_JWT_MALFORMED;
    }

    /* header: only the key's algorithm, no extensions we do not know */
    if ((size_t)(dot1 - token) > MAX_HEADER_LEN * 4 / 3 + 4) {
        return AAPI_JWT_BAD_HEADER;
    }
    hdr = decode_segment(p, token, (size_t)(dot1 - token), &hlen);
    if (!hdr || aapi_json_parse_object(p, (const char *)hdr, hlen, &h) != AAPI_OK) {
        return AAPI_JWT_BAD_HEADER;
    }
    if (aapi_json_get_str(h, "alg", NULL, &alg) != 1
        || strcmp(alg, aapi_alg_name(aapi_key_alg(key))) != 0) {
        return AAPI_JWT_BAD_ALG;
    }
    if (aapi_json_has(h, "crit") || aapi_json_has(h, "kid")) {
        return AAPI_JWT_BAD_HEADER;
    }
    if (aapi_json_has(h, "typ")) {
        const char *typ = NULL;
        if (aapi_json_get_str(h, "typ", NULL, &typ) != 1
            || (strcasecmp(typ, "JWT") != 0 && strcasecmp(typ, "at+jwt") != 0)) {
            return AAPI_JWT_BAD_HEADER;
        }
    }

    /* signature, in constant time, before anything in the payload counts */
    sig = decode_segment(p, dot2 + 1, len - (size_t)(dot2 + 1 - token), &slen);
    if (!sig) {
        return AAPI_JWT_BAD_SIGNATURE;
    }
    maclen = aapi_key_mac(key, (const unsigned char *)token,
                          (size_t)(dot2 - token), mac);
    if (maclen != 0 && slen == maclen) {
        verified = aapi_ct_equal(sig, mac, maclen);
    }
    if (!verified) {
        return AAPI_JWT_BAD_SIGNATURE;
    }

    /* claims */
    pay = decode_segment(p, dot1 + 1, (size_t)(dot2 - dot1 - 1), &plen);
    if (!pay || aapi_json_parse_object(p, (const char *)pay, plen, &c) != AAPI_OK) {
        return AAPI_JWT_BAD_PAYLOAD;
    }
    if (!numeric_date(c, "exp", &exp, &has_exp)
        || !numeric_date(c, "nbf", &nbf, &has_nbf)
        || !numeric_date(c, "iat", &iat, &has_iat)) {
        return AAPI_JWT_BAD_PAYLOAD;
    }
    if (!has_exp) {
        return AAPI_JWT_MISSING_CLAIM;
    }
    if (check->now - check->leeway > exp) {
        return AAPI_JWT_EXPIRED;
    }
    if ((has_nbf && nbf > check->now + check->leeway)
        || (has_iat && iat > check->now + check->leeway)) {
        return AAPI_JWT_NOT_YET;
    }
    memset(out, 0, sizeof(*out));
    if (string_claim(p, c, "iss", &out->iss) < 0
        || string_claim(p, c, "sub", &out->sub) < 0
        || string_claim(p, c, "sid", &out->sid) < 0
        || string_claim(p, c, "jti", &out->jti) < 0
        || string_claim(p, c, "role", &out->role) < 0
        || string_claim(p, c, "email", &out->email) < 0
        || string_claim(p, c, "username", &out->username) < 0) {
        return AAPI_JWT_BAD_PAYLOAD;
    }
    if (check->issuer && (!out->iss || strcmp(out->iss, check->issuer) != 0)) {
        return AAPI_JWT_BAD_ISSUER;
    }
    aud = aapi_json_get(c, "aud");
    if (check->audience) {
        if (!aud || !audience_matches(aud, check->audience)) {
            return AAPI_JWT_BAD_AUDIENCE;
        }
        out->aud = check->audience;
    }
    if (!out->sub || !out->sid) {
        return AAPI_JWT_MISSING_CLAIM;
    }
    if (aapi_json_get_bool(c, "email_verified", &out->email_verified) < 0) {
        return AAPI_JWT_BAD_PAYLOAD;
    }
    out->exp = exp;
    out->nbf = has_nbf ? nbf : 0;
    out->iat = has_iat ? iat : 0;
    return AAPI_JWT_OK;
}
