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
    /* in the order of claim_names (below): verify looks for each claim
     * first where this order puts it */
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
    /* a claim without a value is left out, not sent as null (OpenID
     * Connect Core 5.3.2): an account without a user name has none */
    if (c->username) aapi_json_set_str(claims, "username", c->username);
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

/* Returns the encoded header this module writes for ALG, or NULL. */
static const char *own_header(int alg)
{
    switch (alg) {   /* base64url of {"alg":"HSnnn","typ":"JWT"} */
    case AAPI_ALG_HS256: return "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9";
    case AAPI_ALG_HS384: return "eyJhbGciOiJIUzM4NCIsInR5cCI6IkpXVCJ9";
    case AAPI_ALG_HS512: return "eyJhbGciOiJIUzUxMiIsInR5cCI6IkpXVCJ9";
    }
    return NULL;
}

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

/* Reads NumericDate claim E (NULL when absent) into *OUT; returns 1 when
 * present, 0 when absent, -1 when it is not an integer. */
static int numeric_date(const aapi_flat_member_t *e, apr_int64_t *out)
{
    if (!e) {
        return 0;
    }
    if (e->type != AAPI_FLAT_INT) {
        return -1;
    }
    *out = e->num;
    return 1;
}

/* Returns 1 when claim AUD (a string or an array of strings) holds WANT. */
static int audience_matches(const aapi_flat_member_t *aud, const char *want)
{
    int i;

    if (aud->type == AAPI_FLAT_STRING) {
        return strcmp(aud->str, want) == 0;
    }
    if (aud->type != AAPI_FLAT_STRINGS) {
        return 0;
    }
    for (i = 0; i < aud->strs->nelts && i < 32; i++) {
        if (!strcmp(APR_ARRAY_IDX(aud->strs, i, const char *), want)) {
            return 1;
        }
    }
    return 0;
}

/* Sets *OUT to string claim E (NULL when absent or null); returns -1 when
 * it has another type, else 0. */
static int string_claim(const aapi_flat_member_t *e, const char **out)
{
    *out = NULL;
    if (!e || e->type == AAPI_FLAT_NULL) {
        return 0;
    }
    if (e->type != AAPI_FLAT_STRING) {
        return -1;
    }
    *out = e->str;
    return 0;
}

/* The claims verify reads, in the order aapi_jwt_sign writes them. */
enum {
    C_ISS, C_AUD, C_SUB, C_IAT, C_NBF, C_EXP, C_JTI, C_SID, C_ROLE, C_EMAIL,
    C_EMAIL_VERIFIED, C_USERNAME, C_COUNT
};
static const char *const claim_names[C_COUNT] = {
    "iss", "aud", "sub", "iat", "nbf", "exp", "jti", "sid", "role", "email",
    "email_verified", "username"
};

/* Sets FOUND[k] to the member of M named claim_names[k], or NULL. Each is
 * looked for first at the member after the last one found there: in a
 * token of this module it is there, one comparison, and aapi_flat_get's
 * walk through the members (half of them on average for a claim that is
 * there, all for one that is not) is left for a claim that is absent or
 * out of that order. Names are unique, so either way it is the same
 * member. */
static void find_claims(const apr_array_header_t *m,
                        const aapi_flat_member_t **found)
{
    int k, at = 0;

    for (k = 0; k < C_COUNT; k++) {
        const aapi_flat_member_t *e = NULL;
        if (at < m->nelts) {
            e = &APR_ARRAY_IDX(m, at, aapi_flat_member_t);
        }
        if (e && !strcmp(e->name, claim_names[k])) {
            at++;
        }
        else {
            e = aapi_flat_get(m, claim_names[k]);
        }
        found[k] = e;
    }
}

/* The checks of aapi_jwt_verify, in order; characters outside base64url are
 * caught by the decoding of each segment. */
static aapi_jwt_err_t verify(apr_pool_t *p, const aapi_key_t *key,
                             const char *token, size_t len,
                             const aapi_jwt_check_t *check, aapi_claims_t *out)
{
    const char *dot1, *dot2;
    unsigned char *hdr, *pay, *sig;
    size_t hlen, plen, slen, maclen;
    unsigned char mac[EVP_MAX_MD_SIZE];
    const apr_array_header_t *h, *c;
    const aapi_flat_member_t *alg, *typ, *cl[C_COUNT];
    const char *own;
    apr_int64_t exp = 0, nbf = 0, iat = 0;
    int has_exp, has_nbf, has_iat, verified = 0;

    if (len > AAPI_MAX_TOKEN_LEN) {
        return AAPI_JWT_TOO_LONG;
    }
    dot1 = memchr(token, '.', len);
    dot2 = dot1 ? memchr(dot1 + 1, '.', len - (size_t)(dot1 + 1 - token)) : NULL;
    if (!dot1 || !dot2
        || memchr(dot2 + 1, '.', len - (size_t)(dot2 + 1 - token))) {
        return AAPI_JWT_MALFORMED;
    }

    /* header: only the key's algorithm, no extensions we do not know; the
     * header this module writes is recognised as it stands */
    if ((size_t)(dot1 - token) > MAX_HEADER_LEN * 4 / 3 + 4) {
        return AAPI_JWT_BAD_HEADER;
    }
    own = own_header(aapi_key_alg(key));
    if (own && (size_t)(dot1 - token) == strlen(own)
        && memcmp(token, own, strlen(own)) == 0) {
        goto signature;
    }
    hdr = decode_segment(p, token, (size_t)(dot1 - token), &hlen);
    if (!hdr || !(h = aapi_json_flat_parse(p, (char *)hdr, hlen))) {
        return AAPI_JWT_BAD_HEADER;
    }
    alg = aapi_flat_get(h, "alg");
    if (!alg || alg->type != AAPI_FLAT_STRING
        || strcmp(alg->str, aapi_alg_name(aapi_key_alg(key))) != 0) {
        return AAPI_JWT_BAD_ALG;
    }
    if (aapi_flat_get(h, "crit") || aapi_flat_get(h, "kid")) {
        return AAPI_JWT_BAD_HEADER;
    }
    if ((typ = aapi_flat_get(h, "typ"))
        && (typ->type != AAPI_FLAT_STRING
            || (strcasecmp(typ->str, "JWT") != 0
                && strcasecmp(typ->str, "at+jwt") != 0))) {
        return AAPI_JWT_BAD_HEADER;
    }

signature:
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
    if (!pay || !(c = aapi_json_flat_parse(p, (char *)pay, plen))) {
        return AAPI_JWT_BAD_PAYLOAD;
    }
    find_claims(c, cl);
    if ((has_exp = numeric_date(cl[C_EXP], &exp)) < 0
        || (has_nbf = numeric_date(cl[C_NBF], &nbf)) < 0
        || (has_iat = numeric_date(cl[C_IAT], &iat)) < 0) {
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
    if (string_claim(cl[C_ISS], &out->iss) < 0
        || string_claim(cl[C_SUB], &out->sub) < 0
        || string_claim(cl[C_SID], &out->sid) < 0
        || string_claim(cl[C_JTI], &out->jti) < 0
        || string_claim(cl[C_ROLE], &out->role) < 0
        || string_claim(cl[C_EMAIL], &out->email) < 0
        || string_claim(cl[C_USERNAME], &out->username) < 0) {
        return AAPI_JWT_BAD_PAYLOAD;
    }
    if (check->issuer && (!out->iss || strcmp(out->iss, check->issuer) != 0)) {
        return AAPI_JWT_BAD_ISSUER;
    }
    if (check->audience) {
        if (!cl[C_AUD] || !audience_matches(cl[C_AUD], check->audience)) {
            return AAPI_JWT_BAD_AUDIENCE;
        }
        out->aud = check->audience;
    }
    if (!out->sub || !out->sid) {
        return AAPI_JWT_MISSING_CLAIM;
    }
    if (cl[C_EMAIL_VERIFIED]) {
        if (cl[C_EMAIL_VERIFIED]->type != AAPI_FLAT_BOOL) {
            return AAPI_JWT_BAD_PAYLOAD;
        }
        out->email_verified = cl[C_EMAIL_VERIFIED]->boolean;
    }
    out->exp = exp;
    out->nbf = has_nbf ? nbf : 0;
    out->iat = has_iat ? iat : 0;
    return AAPI_JWT_OK;
}

AAPI_COUNTED
aapi_jwt_err_t aapi_jwt_verify(apr_pool_t *p, const aapi_key_t *key,
                               const char *token, size_t len,
                               const aapi_jwt_check_t *check,
                               aapi_claims_t *out)
{
    aapi_jwt_err_t err = verify(p, key, token, len, check, out);

    /* a refusal caused by a character outside base64url is reported as a
     * malformed token, whichever check met it first; a token that passes
     * never pays for the extra scan */
    if (err != AAPI_JWT_OK && err != AAPI_JWT_TOO_LONG
        && !aapi_b64url_charset_ok(token, len, '.')) {
        err = AAPI_JWT_MALFORMED;
    }
    return err;
}
