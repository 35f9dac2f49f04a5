/*
 * test_jwt.c - level 2 signing keys (src/keys.c) and JWS access tokens
 * (src/jwt.c), against API.md section 4 "Tokens".
 *
 * Tokens to refuse are built by hand: base64url of the test's own JSON, and
 * an HMAC computed here with OpenSSL's one-shot HMAC(), so that neither the
 * encoder nor the MAC of the code under test is trusted to build them.
 */
#include "aapi.h"
#include "keys.h"
#include "jwt.h"
#include "util.h"
#include "tap.h"

#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <string.h>

static apr_pool_t *p;

#define NOW    1700000000LL
#define LEEWAY 30
#define ISS    "https://example.com"
#define AUD    "example-api"

static const unsigned char secret[] = "0123456789abcdef0123456789abcdef";
#define SECRET_LEN 32
static const unsigned char other_secret[] = "fedcba9876543210fedcba9876543210";

static aapi_key_t *key256;
static const aapi_jwt_check_t check = { ISS, AUD, NOW, LEEWAY };

/* ==== building tokens by hand ==== */

/* Returns base64url (no padding) of LEN bytes, with OpenSSL's encoder. */
static char *b64u(const unsigned char *in, size_t len)
{
    char *out = apr_palloc(p, 4 * ((len + 2) / 3) + 1), *c;
    int n = EVP_EncodeBlock((unsigned char *)out, in, (int)len);

    for (c = out; c < out + n; c++) {
        if (*c == '+') *c = '-';
        else if (*c == '/') *c = '_';
    }
    while (n > 0 && out[n - 1] == '=') {
        n--;
    }
    out[n] = '\0';
    return out;
}

static char *b64u_str(const char *s)
{
    return b64u((const unsigned char *)s, strlen(s));
}

/* Returns the base64url HMAC of the string SIGNING_INPUT. */
static char *mac_b64u(const EVP_MD *md, const unsigned char *k,
                      const char *signing_input)
{
    unsigned char mac[EVP_MAX_MD_SIZE];
    unsigned int maclen = 0;

    HMAC(md, k, SECRET_LEN, (const unsigned char *)signing_input,
         strlen(signing_input), mac, &maclen);
    return b64u(mac, maclen);
}

/* Returns HEADER.PAYLOAD (both JSON texts) signed with MD over K. */
static char *token_md(const char *header, const char *payload,
                      const EVP_MD *md, const unsigned char *k)
{
    char *si = apr_pstrcat(p, b64u_str(header), ".", b64u_str(payload), NULL);
    return apr_pstrcat(p, si, ".", mac_b64u(md, k, si), NULL);
}

/* Returns HEADER.PAYLOAD signed with HS256 over the test secret. */
static char *token(const char *header, const char *payload)
{
    return token_md(header, payload, EVP_sha256(), secret);
}

#define HDR "{\"alg\":\"HS256\",\"typ\":\"JWT\"}"

/* The claims of a payload as JSON fragments ("name":value); NULL omits. */
typedef struct {
    const char *iss, *aud, *sub, *sid, *jti, *iat, *nbf, *exp, *role,
               *email, *email_verified, *username, *extra;
} claims_json_t;

static claims_json_t good_claims(void)
{
    claims_json_t c = {
        "\"iss\":\"" ISS "\"", "\"aud\":\"" AUD "\"", "\"sub\":\"u1\"",
        "\"sid\":\"s1\"", "\"jti\":\"j1\"", "\"iat\":1700000000",
        "\"nbf\":1700000000", "\"exp\":1700000900", "\"role\":\"user\"",
        "\"email\":\"ann@example.com\"", "\"email_verified\":true",
        "\"username\":\"ann_1\"", NULL
    };
    return c;
}

/* Returns the payload JSON for C. */
static char *payload(const claims_json_t *c)
{
    const char *parts[] = { c->iss, c->aud, c->sub, c->sid, c->jti, c->iat,
                            c->nbf, c->exp, c->role, c->email,
                            c->email_verified, c->username, c->extra };
    char *out = "{";
    size_t i;
    int first = 1;

    for (i = 0; i < sizeof(parts) / sizeof(parts[0]); i++) {
        if (parts[i]) {
            out = apr_pstrcat(p, out, first ? "" : ",", parts[i], NULL);
            first = 0;
        }
    }
    return apr_pstrcat(p, out, "}", NULL);
}

/* Verifies TOKEN with KEY and CHK; returns the reason code. */
static aapi_jwt_err_t verify_with(const aapi_key_t *k, const char *tok,
                                  const aapi_jwt_check_t *chk,
                                  aapi_claims_t *out)
{
    aapi_claims_t scratch;
    return aapi_jwt_verify(p, k, tok, strlen(tok), chk, out ? out : &scratch);
}

static aapi_jwt_err_t verify(const char *tok)
{
    return verify_with(key256, tok, &check, NULL);
}

/* Tests that TOK is refused with WANT. */
static void refused(const char *tok, aapi_jwt_err_t want, const char *name)
{
    aapi_jwt_err_t got = verify(tok);
    if (!ok(got == want, apr_psprintf(p, "refused: %s (%s)", name,
                                      aapi_jwt_strerror(want)))) {
        diag("got %d (%s)", got, aapi_jwt_strerror(got));
    }
}

static void accepted(const char *tok, const char *name)
{
    aapi_jwt_err_t got = verify(tok);
    if (!ok(got == AAPI_JWT_OK, apr_psprintf(p, "accepted: %s", name))) {
        diag("got %d (%s)", got, aapi_jwt_strerror(got));
    }
}

/* Returns the token for the good claims with one fragment changed. */
#define WITH(field, value) with_claim(offsetof(claims_json_t, field), value)

static char *with_claim(size_t offset, const char *value)
{
    claims_json_t c = good_claims();
    *(const char **)((char *)&c + offset) = value;
    return token(HDR, payload(&c));
}

/* Returns segment I (0..2) of a compact token. */
static char *segment(const char *tok, int i)
{
    const char *s = tok, *e;
    int k;

    for (k = 0; k < i; k++) {
        s = strchr(s, '.') + 1;
    }
    e = strchr(s, '.');
    return e ? apr_pstrmemdup(p, s, (size_t)(e - s)) : apr_pstrdup(p, s);
}

/* Returns the decoded payload of a compact token, as a string. */
static const char *payload_json(apr_pool_t *pool, const char *tok)
{
    const char *seg = segment(tok, 1);
    size_t n = strlen(seg);
    unsigned char *out = apr_palloc(pool, n + 1);
    size_t outlen = n;

    if (aapi_b64url_decode(out, &outlen, seg, n) != 0) {
        return "";
    }
    out[outlen] = '\0';
    return (const char *)out;
}

/* ==== keys ==== */

static void test_keys(void)
{
    /* RFC 4231 test case 2 */
    static const char *want[] = {
        "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843",
        "af45d2e376484031617f78d2b58a6b1b9c7ef464f5a01b47e42ec3736322445e"
        "8e2240ca5e69e2c78b3239ecfab21649",
        "164b7a7bfcf819e2e395fbe73b56e0a387bd64222e831fd610270cd7ea250554"
        "9758bf75c05a994a6d034f65f8f0e6fdcaeab1a34d4a6b4b636e070a38bce737"
    };
    static const char data[] = "what do ya want for nothing?";
    int alg;

    for (alg = AAPI_ALG_HS256; alg <= AAPI_ALG_HS512; alg++) {
        aapi_key_t *k = aapi_key_hmac(p, alg, (const unsigned char *)"Jefe", 4);
        unsigned char mac[EVP_MAX_MD_SIZE];
        char hex[2 * EVP_MAX_MD_SIZE + 1];
        size_t n = 0, i;

        ok(k != NULL, apr_psprintf(p, "%s key created", aapi_alg_name(alg)));
        is_int(k ? aapi_key_alg(k) : 0, alg, "the key is bound to its algorithm");
        if (k) {
            n = aapi_key_mac(k, (const unsigned char *)data, sizeof(data) - 1, mac);
        }
        for (i = 0; i < n; i++) {
            apr_snprintf(hex + 2 * i, 3, "%02x", mac[i]);
        }
        hex[2 * n] = '\0';
        is_str(hex, want[alg - AAPI_ALG_HS256],
               apr_psprintf(p, "%s MAC matches RFC 4231 test case 2",
                            aapi_alg_name(alg)));
        /* the prepared states are copied, never consumed */
        if (k) {
            unsigned char again[EVP_MAX_MD_SIZE];
            size_t n2 = aapi_key_mac(k, (const unsigned char *)data,
                                     sizeof(data) - 1, again);
            ok(n2 == n && memcmp(mac, again, n) == 0,
               "a second MAC with the same key gives the same result");
        }
    }

    is_int(aapi_alg_from_name("HS256"), AAPI_ALG_HS256, "alg_from_name HS256");
    is_int(aapi_alg_from_name("HS384"), AAPI_ALG_HS384, "alg_from_name HS384");
    is_int(aapi_alg_from_name("HS512"), AAPI_ALG_HS512, "alg_from_name HS512");
    is_int(aapi_alg_from_name("none"), 0, "alg_from_name refuses none");
    is_int(aapi_alg_from_name("hs256"), 0, "alg_from_name is case-sensitive");
    is_int(aapi_alg_from_name("RS256"), 0, "alg_from_name refuses RS256");
    is_str(aapi_alg_name(AAPI_ALG_HS384), "HS384", "alg_name HS384");
    ok(aapi_key_hmac(p, 0, secret, SECRET_LEN) == NULL,
       "a key for an unknown algorithm is refused");
}

/* ==== sign, then verify ==== */

static void test_round_trip(void)
{
    static const struct { int alg; const char *name; size_t siglen; } algs[] = {
        { AAPI_ALG_HS256, "HS256", 43 },
        { AAPI_ALG_HS384, "HS384", 64 },
        { AAPI_ALG_HS512, "HS512", 86 },
    };
    aapi_claims_t in = {
        ISS, AUD, "u-9f1c", "s-42", "j-7", "admin", "ann@example.com",
        "ann_1", 1, NOW - 10, NOW - 10, NOW + 890, NULL
    };
    size_t i;

    for (i = 0; i < 3; i++) {
        aapi_key_t *k = aapi_key_hmac(p, algs[i].alg, secret, SECRET_LEN);
        char *tok = aapi_jwt_sign(p, k, &in);
        aapi_claims_t out;
        aapi_jwt_err_t rc;
        const EVP_MD *md = i == 0 ? EVP_sha256() : i == 1 ? EVP_sha384()
                                                          : EVP_sha512();
        const char *name = algs[i].name;

        if (!ok(tok != NULL, apr_psprintf(p, "%s: sign gives a token", name))) {
            continue;
        }
        memset(&out, 0, sizeof(out));
        rc = aapi_jwt_verify(p, k, tok, strlen(tok), &check, &out);
        is_int(rc, AAPI_JWT_OK, apr_psprintf(p, "%s: the signed token verifies",
                                             name));
        is_str(out.sub, "u-9f1c", apr_psprintf(p, "%s: sub", name));
        is_str(out.sid, "s-42", apr_psprintf(p, "%s: sid", name));
        is_str(out.jti, "j-7", apr_psprintf(p, "%s: jti", name));
        is_str(out.iss, ISS, apr_psprintf(p, "%s: iss", name));
        is_str(out.aud, AUD, apr_psprintf(p, "%s: aud", name));
        is_str(out.role, "admin", apr_psprintf(p, "%s: role", name));
        is_str(out.email, "ann@example.com", apr_psprintf(p, "%s: email", name));
        is_str(out.username, "ann_1", apr_psprintf(p, "%s: username", name));
        is_int(out.email_verified, 1, apr_psprintf(p, "%s: email_verified", name));
        ok(out.iat == NOW - 10 && out.nbf == NOW - 10 && out.exp == NOW + 890,
           apr_psprintf(p, "%s: iat, nbf, exp", name));

        /* the header says the key's algorithm and JWT */
        {
            const char *h = segment(tok, 0);
            unsigned char buf[128];
            size_t n = 0;
            ok(strlen(h) < 100 && aapi_b64url_decode(buf, &n, h, strlen(h)) == 0
               && n == strlen(HDR) - 5 + strlen(name)
               && memcmp(buf, apr_psprintf(p, "{\"alg\":\"%s\",\"typ\":\"JWT\"}",
                                           name), n) == 0,
               apr_psprintf(p, "%s: header is {\"alg\":\"%s\",\"typ\":\"JWT\"}",
                            name, name));
        }
        /* known answer: the signature is HMAC(secret, header.payload) */
        {
            const char *sig = segment(tok, 2);
            char *si = apr_pstrcat(p, segment(tok, 0), ".", segment(tok, 1), NULL);
            is_int(strlen(sig), algs[i].siglen,
                   apr_psprintf(p, "%s: signature length", name));
            is_str(sig, mac_b64u(md, secret, si),
                   apr_psprintf(p, "%s: signature equals OpenSSL HMAC() of the "
                                   "signing input", name));
        }
        /* the same token under a key of another size is refused */
        {
            aapi_key_t *other = aapi_key_hmac(p, algs[(i + 1) % 3].alg, secret,
                                              SECRET_LEN);
            is_int(verify_with(other, tok, &check, NULL), AAPI_JWT_BAD_ALG,
                   apr_psprintf(p, "%s token refused by a %s key", name,
                                algs[(i + 1) % 3].name));
        }
    }

    /* username is optional: NULL in, absent in the token */
    {
        aapi_claims_t c2 = in;
        aapi_claims_t out;
        char *tok;
        c2.username = NULL;
        c2.email_verified = 0;
        tok = aapi_jwt_sign(p, key256, &c2);
        ok(tok && !strstr(payload_json(p, tok), "username"),
           "a claim without a value is left out, not null");
        ok(tok && verify_with(key256, tok, &check, &out) == AAPI_JWT_OK
           && out.username == NULL && out.email_verified == 0,
           "a token without username verifies with username NULL");
    }
}

/* RFC 7515 appendix A.1: the HS256 example token. */
static void test_rfc7515_example(void)
{
    static const char jwk_k[] =
        "AyM1SysPpbyDfgZld3umj1qzKObwVMkoqQ-EstJQLr_T-1qS0gZH75aKtMN3Yj0iPS4hc"
        "gUuTwjAzZr1Z9CAow";
    static const char tok[] =
        "eyJ0eXAiOiJKV1QiLA0KICJhbGciOiJIUzI1NiJ9"
        ".eyJpc3MiOiJqb2UiLA0KICJleHAiOjEzMDA4MTkzODAsDQogImh0dHA6Ly9leGFt"
        "cGxlLmNvbS9pc19yb290Ijp0cnVlfQ"
        ".dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
    unsigned char k[64];
    size_t klen = 0;
    aapi_key_t *key;
    aapi_jwt_check_t chk = { NULL, NULL, 1300819000, 0 };
    char *bad;

    ok(aapi_b64url_decode(k, &klen, jwk_k, strlen(jwk_k)) == 0 && klen == 64,
       "RFC 7515 A.1: the JWK key decodes to 64 bytes");
    key = aapi_key_hmac(p, AAPI_ALG_HS256, k, klen);
    /* the signature holds; the example lacks sub and sid, which we require */
    is_int(verify_with(key, tok, &chk, NULL), AAPI_JWT_MISSING_CLAIM,
           "RFC 7515 A.1: signature accepted, then refused for lacking sub/sid");
    bad = apr_pstrdup(p, tok);
    bad[strlen(bad) - 2] = bad[strlen(bad) - 2] == 'j' ? 'k' : 'j';
    is_int(verify_with(key, bad, &chk, NULL), AAPI_JWT_BAD_SIGNATURE,
           "RFC 7515 A.1: a changed signature is refused");
    chk.now = 1300819380 + 1;
    is_int(verify_with(key, tok, &chk, NULL), AAPI_JWT_EXPIRED,
           "RFC 7515 A.1: expired one second after exp with no leeway");
}

/* ==== refusals ==== */

static void test_header(void)
{
    claims_json_t g = good_claims();
    const char *pl = payload(&g);

    accepted(token(HDR, pl), "a hand-built HS256 token");
    accepted(token("{\"alg\":\"HS256\"}", pl), "typ absent");

    refused(apr_pstrcat(p, b64u_str("{\"alg\":\"none\",\"typ\":\"JWT\"}"), ".",
                        b64u_str(pl), ".", NULL),
            AAPI_JWT_BAD_ALG, "alg none with an empty signature");
    refused(token("{\"alg\":\"none\",\"typ\":\"JWT\"}", pl), AAPI_JWT_BAD_ALG,
            "alg none with an HMAC signature");
    refused(token("{\"typ\":\"JWT\"}", pl), AAPI_JWT_BAD_ALG, "alg missing");
    refused(token("{\"alg\":null}", pl), AAPI_JWT_BAD_ALG, "alg null");
    refused(token("{\"alg\":256}", pl), AAPI_JWT_BAD_ALG, "alg a number");
    refused(token("{\"alg\":\"hs256\"}", pl), AAPI_JWT_BAD_ALG,
            "alg in lower case");
    refused(token("{\"alg\":\"HS256 \"}", pl), AAPI_JWT_BAD_ALG,
            "alg with a trailing space");
    refused(token_md("{\"alg\":\"HS384\",\"typ\":\"JWT\"}", pl, EVP_sha384(),
                     secret),
            AAPI_JWT_BAD_ALG, "HS384 token, correctly signed, for an HS256 key");
    refused(token_md("{\"alg\":\"HS512\",\"typ\":\"JWT\"}", pl, EVP_sha512(),
                     secret),
            AAPI_JWT_BAD_ALG, "HS512 token, correctly signed, for an HS256 key");
    refused(token("{\"alg\":\"RS256\",\"typ\":\"JWT\"}", pl), AAPI_JWT_BAD_ALG,
            "alg RS256 (another family) for an HMAC key");
    refused(token("{\"alg\":\"ES256\",\"typ\":\"JWT\"}", pl), AAPI_JWT_BAD_ALG,
            "alg ES256 (another family) for an HMAC key");
    refused(token("{\"alg\":\"HS256\",\"typ\":\"JWT\",\"kid\":\"k1\"}", pl),
            AAPI_JWT_BAD_HEADER, "kid present");
    refused(token("{\"alg\":\"HS256\",\"crit\":[\"exp\"],\"exp\":1}", pl),
            AAPI_JWT_BAD_HEADER, "crit present");
    refused(token("{\"alg\":\"HS256\",\"crit\":[]}", pl),
            AAPI_JWT_BAD_HEADER, "crit present and empty");
    refused(token("{\"alg\":\"HS256\",\"typ\":\"JOSE\"}", pl),
            AAPI_JWT_BAD_HEADER, "typ JOSE");
    refused(token("{\"alg\":\"HS256\",\"typ\":\"JWS\"}", pl),
            AAPI_JWT_BAD_HEADER, "typ JWS");
    refused(token("{\"alg\":\"HS256\",\"typ\":\"\"}", pl),
            AAPI_JWT_BAD_HEADER, "typ empty");
    refused(token("{\"alg\":\"HS256\",\"typ\":1}", pl),
            AAPI_JWT_BAD_HEADER, "typ a number");
    refused(token("{\"alg\":\"HS256\",\"alg\":\"HS256\"}", pl),
            AAPI_JWT_BAD_HEADER, "duplicate alg in the header");
    refused(token("{\"alg\":\"none\",\"alg\":\"HS256\"}", pl),
            AAPI_JWT_BAD_HEADER, "duplicate alg, none then HS256");
    refused(token("{\"alg\":\"HS256\",\"typ\":\"JWT\",\"typ\":\"JWT\"}", pl),
            AAPI_JWT_BAD_HEADER, "duplicate typ in the header");
    refused(token("[\"HS256\"]", pl), AAPI_JWT_BAD_HEADER,
            "header is an array");
    refused(token("{\"alg\":\"HS256\"", pl), AAPI_JWT_BAD_HEADER,
            "header is not valid JSON");
    refused(token("{\"alg\":\"HS256\",\"x\":\"\\u0000\"}", pl),
            AAPI_JWT_BAD_HEADER, "header with \\u0000");

    /* keys named by the token are never used: a token signed with another
     * secret that carries that secret as a jwk is still refused */
    refused(token_md("{\"alg\":\"HS256\",\"jwk\":{\"kty\":\"oct\",\"k\":"
                     "\"ZmVkY2JhOTg3NjU0MzIxMGZlZGNiYTk4NzY1NDMyMTA\"}}",
                     pl, EVP_sha256(), other_secret),
            AAPI_JWT_BAD_SIGNATURE, "embedded jwk with its own secret");
    refused(token_md("{\"alg\":\"HS256\",\"jku\":\"https://evil.example/k\"}",
                     pl, EVP_sha256(), other_secret),
            AAPI_JWT_BAD_SIGNATURE, "jku pointing elsewhere");
}

static void test_signature(void)
{
    claims_json_t g = good_claims();
    const char *pl = payload(&g);
    char *good = token(HDR, pl);
    const char *h = segment(good, 0), *pay = segment(good, 1),
               *sig = segment(good, 2);
    unsigned char raw[64];
    size_t n = 0;
    int bit;

    /* a single flipped bit anywhere in the MAC */
    ok(aapi_b64url_decode(raw, &n, sig, strlen(sig)) == 0 && n == 32,
       "the good signature decodes to 32 bytes");
    for (bit = 0; bit < 256; bit += 85) {
        unsigned char flipped[32];
        memcpy(flipped, raw, 32);
        flipped[bit / 8] ^= (unsigned char)(1u << (bit % 8));
        refused(apr_pstrcat(p, h, ".", pay, ".", b64u(flipped, 32), NULL),
                AAPI_JWT_BAD_SIGNATURE,
                apr_psprintf(p, "signature with bit %d flipped", bit));
    }
    refused(apr_pstrcat(p, h, ".", pay, ".", b64u(raw, 31), NULL),
            AAPI_JWT_BAD_SIGNATURE, "signature truncated by one byte");
    {
        unsigned char longer[33];
        memcpy(longer, raw, 32);
        longer[32] = 0;
        refused(apr_pstrcat(p, h, ".", pay, ".", b64u(longer, 33), NULL),
                AAPI_JWT_BAD_SIGNATURE, "signature with one byte appended");
    }
    refused(token_md(HDR, pl, EVP_sha256(), other_secret),
            AAPI_JWT_BAD_SIGNATURE, "signed with another secret");
    refused(apr_pstrcat(p, h, ".", pay, ".", NULL), AAPI_JWT_BAD_SIGNATURE,
            "empty signature");
    /* the last of 43 characters carries 4 bits and 2 zero bits: setting a
     * zero bit gives a second spelling of the same MAC, which is refused */
    {
        static const char alpha[] =
            "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
        char *malleable = apr_pstrdup(p, good);
        char *last = malleable + strlen(malleable) - 1;
        int v = (int)(strchr(alpha, *last) - alpha);
        *last = alpha[v | 1];
        refused(malleable, AAPI_JWT_BAD_SIGNATURE,
                "non-canonical spelling of the right signature");
    }

    /* changing the payload after signing */
    {
        claims_json_t admin = good_claims();
        admin.sub = "\"sub\":\"admin\"";
        refused(apr_pstrcat(p, h, ".", b64u_str(payload(&admin)), ".", sig, NULL),
                AAPI_JWT_BAD_SIGNATURE, "payload changed (sub) after signing");
        admin = good_claims();
        admin.exp = "\"exp\":1800000000";
        refused(apr_pstrcat(p, h, ".", b64u_str(payload(&admin)), ".", sig, NULL),
                AAPI_JWT_BAD_SIGNATURE, "payload changed (exp) after signing");
        refused(apr_pstrcat(p, b64u_str("{\"alg\":\"HS256\"}"), ".", pay, ".",
                            sig, NULL),
                AAPI_JWT_BAD_SIGNATURE, "header changed after signing");
    }
}

static void test_syntax(void)
{
    claims_json_t g = good_claims();
    char *good = token(HDR, payload(&g));
    const char *h = segment(good, 0), *pay = segment(good, 1),
               *sig = segment(good, 2);
    char *bad;

    refused("", AAPI_JWT_MALFORMED, "the empty string");
    refused(apr_pstrcat(p, h, ".", pay, NULL), AAPI_JWT_MALFORMED,
            "two segments");
    refused(apr_pstrcat(p, good, ".", sig, NULL), AAPI_JWT_MALFORMED,
            "four segments");
    refused(apr_pstrcat(p, good, ".", NULL), AAPI_JWT_MALFORMED,
            "four segments, the last empty");
    refused(apr_pstrcat(p, h, "=.", pay, ".", sig, NULL), AAPI_JWT_MALFORMED,
            "'=' padding in the header");
    refused(apr_pstrcat(p, good, "=", NULL), AAPI_JWT_MALFORMED,
            "'=' padding on the signature");
    bad = apr_pstrdup(p, good);
    bad[3] = '+';
    refused(bad, AAPI_JWT_MALFORMED, "'+' (standard base64) in the header");
    bad = apr_pstrdup(p, good);
    bad[strlen(h) + 4] = '/';
    refused(bad, AAPI_JWT_MALFORMED, "'/' (standard base64) in the payload");
    refused(apr_pstrcat(p, " ", good, NULL), AAPI_JWT_MALFORMED,
            "a leading space");
    refused(apr_pstrcat(p, good, "\n", NULL), AAPI_JWT_MALFORMED,
            "a trailing newline");
    refused(apr_pstrcat(p, "Bearer ", good, NULL), AAPI_JWT_MALFORMED,
            "the 'Bearer ' prefix");
    refused(apr_pstrcat(p, h, ".", pay, "\xc3\xa9.", sig, NULL),
            AAPI_JWT_MALFORMED, "a non-ASCII byte");
    {
        aapi_claims_t out;
        ok(aapi_jwt_verify(p, key256, good, strlen(good) - 1, &check, &out)
           == AAPI_JWT_BAD_SIGNATURE,
           "verify reads LEN bytes only: one short is a bad signature");
        bad = apr_pstrcat(p, good, "garbage", NULL);
        ok(aapi_jwt_verify(p, key256, bad, strlen(good), &check, &out)
           == AAPI_JWT_OK, "verify reads LEN bytes only: trailing bytes ignored");
        bad = apr_pstrdup(p, good);
        bad[10] = '\0';
        ok(aapi_jwt_verify(p, key256, bad, strlen(good), &check, &out)
           == AAPI_JWT_MALFORMED, "a NUL byte inside LEN is malformed");
    }
    refused(token(HDR, "[1]"), AAPI_JWT_BAD_PAYLOAD, "payload an array");
    refused(token(HDR, "{\"sub\":"), AAPI_JWT_BAD_PAYLOAD, "payload truncated");
    refused(apr_pstrcat(p, h, ".", ".", mac_b64u(EVP_sha256(), secret,
                                                apr_pstrcat(p, h, ".", NULL)),
                        NULL),
            AAPI_JWT_BAD_PAYLOAD, "empty payload with a valid MAC");
}

/* A token of exactly TOTAL bytes, signed, with a "pad" claim; or NULL. */
static char *token_of_length(size_t total)
{
    size_t pad;

    for (pad = 5000; pad < 7000; pad++) {
        claims_json_t c = good_claims();
        char *fill = apr_palloc(p, pad + 1), *tok;
        memset(fill, 'x', pad);
        fill[pad] = '\0';
        c.extra = apr_pstrcat(p, "\"pad\":\"", fill, "\"", NULL);
        tok = token(HDR, payload(&c));
        if (strlen(tok) == total) {
            return tok;
        }
        if (strlen(tok) > total) {
            return NULL;
        }
    }
    return NULL;
}

static void test_length(void)
{
    char *at = token_of_length(AAPI_MAX_TOKEN_LEN), *over = NULL;
    size_t extra;

    ok(at != NULL, "built a signed token of exactly 8192 bytes");
    if (at) {
        accepted(at, "a token of exactly 8192 bytes");
    }
    for (extra = 1; extra < 4 && !over; extra++) {
        over = token_of_length(AAPI_MAX_TOKEN_LEN + extra);
    }
    ok(over != NULL, "built a signed token just over 8192 bytes");
    if (over) {
        refused(over, AAPI_JWT_TOO_LONG,
                apr_psprintf(p, "a validly signed token of %zu bytes",
                             strlen(over)));
    }
}

static void test_claims(void)
{
    char s[64];

    accepted(WITH(exp, "\"exp\":1700000000"), "exp equal to now");
    accepted(WITH(exp, "\"exp\":1699999970"), "exp 30 s past, within leeway");
    refused(WITH(exp, "\"exp\":1699999969"), AAPI_JWT_EXPIRED,
            "exp 31 s past, beyond leeway");
    refused(WITH(exp, "\"exp\":1"), AAPI_JWT_EXPIRED, "exp long past");
    refused(WITH(exp, NULL), AAPI_JWT_MISSING_CLAIM, "exp missing");
    refused(WITH(exp, "\"exp\":\"1700000900\""), AAPI_JWT_BAD_PAYLOAD,
            "exp a string");
    refused(WITH(exp, "\"exp\":null"), AAPI_JWT_BAD_PAYLOAD, "exp null");
    /* times are whole seconds: this module issues nothing else, and a
     * fraction or an exponent is refused rather than rounded */
    refused(WITH(exp, "\"exp\":1700000900.5"), AAPI_JWT_BAD_PAYLOAD,
            "exp with a fraction");
    refused(WITH(exp, "\"exp\":1.7000009e9"), AAPI_JWT_BAD_PAYLOAD,
            "exp with an exponent");
    refused(WITH(exp, "\"exp\":99999999999999999999"), AAPI_JWT_BAD_PAYLOAD,
            "exp beyond 64 bits");
    refused(WITH(exp, "\"exp\":-1"), AAPI_JWT_EXPIRED, "exp negative");
    accepted(WITH(exp, "\"exp\":9223372036854775807"),
             "exp at the largest 64-bit integer (no overflow with the leeway)");
    refused(WITH(nbf, "\"nbf\":1700000000.0"), AAPI_JWT_BAD_PAYLOAD,
            "nbf with a fraction");
    refused(WITH(iat, "\"iat\":1e9"), AAPI_JWT_BAD_PAYLOAD,
            "iat with an exponent");

    accepted(WITH(nbf, "\"nbf\":1700000030"), "nbf 30 s ahead, within leeway");
    refused(WITH(nbf, "\"nbf\":1700000031"), AAPI_JWT_NOT_YET,
            "nbf 31 s ahead, beyond leeway");
    accepted(WITH(nbf, NULL), "nbf absent");
    refused(WITH(nbf, "\"nbf\":\"soon\""), AAPI_JWT_BAD_PAYLOAD, "nbf a string");
    accepted(WITH(iat, "\"iat\":1700000030"), "iat 30 s ahead, within leeway");
    refused(WITH(iat, "\"iat\":1700000031"), AAPI_JWT_NOT_YET,
            "iat 31 s ahead, beyond leeway");
    accepted(WITH(iat, NULL), "iat absent");
    {
        aapi_jwt_check_t strict = check;
        strict.leeway = 0;
        is_int(verify_with(key256, WITH(exp, "\"exp\":1699999999"), &strict,
                           NULL),
               AAPI_JWT_EXPIRED, "refused: exp 1 s past with leeway 0");
        is_int(verify_with(key256, WITH(nbf, "\"nbf\":1700000001"), &strict,
                           NULL),
               AAPI_JWT_NOT_YET, "refused: nbf 1 s ahead with leeway 0");
    }

    refused(WITH(iss, "\"iss\":\"https://evil.example\""), AAPI_JWT_BAD_ISSUER,
            "iss of another issuer");
    refused(WITH(iss, "\"iss\":\"https://example.com/\""), AAPI_JWT_BAD_ISSUER,
            "iss with a trailing slash");
    refused(WITH(iss, "\"iss\":\"https://example.co\""), AAPI_JWT_BAD_ISSUER,
            "iss that is a prefix of the issuer");
    refused(WITH(iss, "\"iss\":\"HTTPS://EXAMPLE.COM\""), AAPI_JWT_BAD_ISSUER,
            "iss in another case");
    refused(WITH(iss, NULL), AAPI_JWT_BAD_ISSUER, "iss missing");
    refused(WITH(iss, "\"iss\":1"), AAPI_JWT_BAD_PAYLOAD, "iss a number");

    refused(WITH(aud, "\"aud\":\"other-api\""), AAPI_JWT_BAD_AUDIENCE,
            "aud string of another audience");
    refused(WITH(aud, "\"aud\":\"example-api2\""), AAPI_JWT_BAD_AUDIENCE,
            "aud string with the audience as a prefix");
    refused(WITH(aud, "\"aud\":\"example\""), AAPI_JWT_BAD_AUDIENCE,
            "aud string that is a prefix of the audience");
    refused(WITH(aud, "\"aud\":\"\""), AAPI_JWT_BAD_AUDIENCE,
            "aud the empty string");
    refused(WITH(aud, "\"aud\":[\"example\"]"), AAPI_JWT_BAD_AUDIENCE,
            "aud array holding a prefix of the audience");
    refused(WITH(aud, "\"aud\":\"EXAMPLE-API\""), AAPI_JWT_BAD_AUDIENCE,
            "aud in another case");
    accepted(WITH(aud, "\"aud\":[\"other-api\",\"example-api\"]"),
             "aud array containing the audience");
    refused(WITH(aud, "\"aud\":[\"other-api\",\"third-api\"]"),
            AAPI_JWT_BAD_AUDIENCE, "aud array without the audience");
    refused(WITH(aud, "\"aud\":[]"), AAPI_JWT_BAD_AUDIENCE, "aud empty array");
    refused(WITH(aud, "\"aud\":[1,{\"a\":\"example-api\"}]"),
            AAPI_JWT_BAD_AUDIENCE, "aud array of non-strings");
    refused(WITH(aud, NULL), AAPI_JWT_BAD_AUDIENCE, "aud missing");
    refused(WITH(aud, "\"aud\":7"), AAPI_JWT_BAD_AUDIENCE, "aud a number");
    {
        aapi_jwt_check_t open = { NULL, NULL, NOW, LEEWAY };
        claims_json_t c = good_claims();
        c.iss = NULL;
        c.aud = NULL;
        is_int(verify_with(key256, token(HDR, payload(&c)), &open, NULL),
               AAPI_JWT_OK,
               "accepted: no iss/aud when none is configured");
    }

    refused(WITH(sub, NULL), AAPI_JWT_MISSING_CLAIM, "sub missing");
    refused(WITH(sub, "\"sub\":null"), AAPI_JWT_MISSING_CLAIM, "sub null");
    refused(WITH(sub, "\"sub\":42"), AAPI_JWT_BAD_PAYLOAD, "sub a number");
    refused(WITH(sid, NULL), AAPI_JWT_MISSING_CLAIM, "sid missing");
    refused(WITH(sid, "\"sid\":[\"s1\"]"), AAPI_JWT_BAD_PAYLOAD, "sid an array");
    refused(WITH(email_verified, "\"email_verified\":\"true\""),
            AAPI_JWT_BAD_PAYLOAD, "email_verified a string");
    refused(WITH(email_verified, "\"email_verified\":1"),
            AAPI_JWT_BAD_PAYLOAD, "email_verified a number");
    {
        aapi_claims_t out;
        out.email_verified = 7;
        ok(verify_with(key256, WITH(email_verified, NULL), &check, &out)
           == AAPI_JWT_OK && out.email_verified == 0,
           "email_verified absent reads as false");
    }
    refused(WITH(role, "\"role\":true"), AAPI_JWT_BAD_PAYLOAD, "role a boolean");
    refused(WITH(extra, "\"sub\":\"admin\""), AAPI_JWT_BAD_PAYLOAD,
            "duplicate sub in the payload");
    refused(WITH(extra, "\"exp\":1800000000"), AAPI_JWT_BAD_PAYLOAD,
            "duplicate exp in the payload");
    refused(WITH(extra, "\"x\":\"a\\u0000b\""), AAPI_JWT_BAD_PAYLOAD,
            "payload with \\u0000");
    snprintf(s, sizeof(s), "\"x\":\"\xff\"");
    refused(WITH(extra, s), AAPI_JWT_BAD_PAYLOAD, "payload with invalid UTF-8");
}

/* Returns 1 when A and B hold the same claims. */
static int same_claims(const aapi_claims_t *a, const aapi_claims_t *b)
{
    const char *const sa[] = { a->iss, a->aud, a->sub, a->sid, a->jti,
                               a->role, a->email, a->username };
    const char *const sb[] = { b->iss, b->aud, b->sub, b->sid, b->jti,
                               b->role, b->email, b->username };
    size_t i;

    for (i = 0; i < sizeof(sa) / sizeof(sa[0]); i++) {
        if ((sa[i] == NULL) != (sb[i] == NULL)
            || (sa[i] && strcmp(sa[i], sb[i]) != 0)) {
            return 0;
        }
    }
    return a->email_verified == b->email_verified && a->iat == b->iat
           && a->nbf == b->nbf && a->exp == b->exp;
}

/* verify looks for each claim first where this module's tokens have it:
 * claims in any other order, among other members or with some absent are
 * read all the same. */
static void test_claim_order(void)
{
    /* in the order aapi_jwt_sign writes them */
    static const char *const frag[] = {
        "\"iss\":\"" ISS "\"", "\"aud\":\"" AUD "\"", "\"sub\":\"u1\"",
        "\"iat\":1700000000", "\"nbf\":1700000000", "\"exp\":1700000900",
        "\"jti\":\"j1\"", "\"sid\":\"s1\"", "\"role\":\"user\"",
        "\"email\":\"ann@example.com\"", "\"email_verified\":true",
        "\"username\":\"ann_1\""
    };
    enum { N = sizeof(frag) / sizeof(frag[0]) };
    static const struct { int order[N + 1]; const char *name; } cases[] = {
        { { 11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1, 0, -1 }, "in reverse order" },
        { { 1, 0, 3, 2, 5, 4, 7, 6, 9, 8, 11, 10, -1 }, "in swapped pairs" },
        { { 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 0, 1, -1 },
          "with iss and aud last" },
        { { 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12 },
          "with other members between them" },
        { { 0, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 1, 12 },
          "with aud last and other members between them" },
    };
    aapi_claims_t want, got;
    char *body;
    size_t i;
    int k;

    /* the order is aapi_jwt_sign's: verify finds each claim at once */
    {
        aapi_claims_t in = {
            ISS, AUD, "u1", "s1", "j1", "user", "ann@example.com", "ann_1", 1,
            NOW, NOW, NOW + 900, NULL
        };
        const char *json = payload_json(p, aapi_jwt_sign(p, key256, &in));
        const char *at = json, *next;
        int in_order = 1;

        for (k = 0; k < N && in_order; k++) {
            next = strstr(json, apr_pstrmemdup(p, frag[k],
                                               strchr(frag[k], ':') - frag[k]));
            in_order = next && next >= at;
            at = next;
        }
        ok(in_order, "aapi_jwt_sign writes the claims in the order verify "
                     "looks for them");
    }

    body = "{";
    for (k = 0; k < N; k++) {
        body = apr_pstrcat(p, body, k ? "," : "", frag[k], NULL);
    }
    body = apr_pstrcat(p, body, "}", NULL);
    is_int(verify_with(key256, token(HDR, body), &check, &want), AAPI_JWT_OK,
           "claims in the order aapi_jwt_sign writes them verify");

    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        int between = cases[i].order[N] == 12;

        body = "{";
        for (k = 0; k < N; k++) {
            body = apr_pstrcat(p, body, k ? "," : "",
                               between ? apr_psprintf(p, "\"x%d\":%d,", k, k)
                                       : "",
                               frag[cases[i].order[k]], NULL);
        }
        body = apr_pstrcat(p, body, "}", NULL);
        memset(&got, 0, sizeof(got));
        ok(verify_with(key256, token(HDR, body), &check, &got) == AAPI_JWT_OK
           && same_claims(&got, &want),
           apr_psprintf(p, "claims %s are read the same", cases[i].name));
    }

    /* absent claims, each alone and all the optional ones together */
    for (k = 0; k < N; k++) {
        aapi_jwt_err_t rc;
        int j;

        body = "{";
        for (j = 0; j < N; j++) {
            if (j != k) {
                body = apr_pstrcat(p, body, body[1] ? "," : "", frag[j], NULL);
            }
        }
        body = apr_pstrcat(p, body, "}", NULL);
        memset(&got, 0, sizeof(got));
        rc = verify_with(key256, token(HDR, body), &check, &got);
        switch (k) {
        case 0:  ok(rc == AAPI_JWT_BAD_ISSUER, "iss absent, in order"); break;
        case 1:  ok(rc == AAPI_JWT_BAD_AUDIENCE, "aud absent, in order"); break;
        case 2:  ok(rc == AAPI_JWT_MISSING_CLAIM, "sub absent, in order"); break;
        case 5:  ok(rc == AAPI_JWT_MISSING_CLAIM, "exp absent, in order"); break;
        case 7:  ok(rc == AAPI_JWT_MISSING_CLAIM, "sid absent, in order"); break;
        default:
            ok(rc == AAPI_JWT_OK && !strcmp(got.sub, "u1")
               && !strcmp(got.sid, "s1") && got.exp == 1700000900
               && (k == 6 ? !got.jti : !strcmp(got.jti, "j1"))
               && (k == 8 ? !got.role : !strcmp(got.role, "user"))
               && (k == 10 ? got.email_verified == 0 : got.email_verified == 1)
               && (k == 11 ? !got.username : !strcmp(got.username, "ann_1")),
               apr_psprintf(p, "claims read with %s absent, in order",
                            frag[k]));
        }
    }
    body = apr_pstrcat(p, "{", frag[2], ",", frag[5], ",", frag[7], "}", NULL);
    {
        aapi_jwt_check_t open = { NULL, NULL, NOW, LEEWAY };
        memset(&got, 0, sizeof(got));
        ok(verify_with(key256, token(HDR, body), &open, &got) == AAPI_JWT_OK
           && !strcmp(got.sub, "u1") && !strcmp(got.sid, "s1")
           && got.exp == 1700000900 && !got.iss && !got.jti && !got.role
           && !got.email && !got.username && got.iat == 0 && got.nbf == 0,
           "only sub, exp and sid: the others read as absent");
    }
}

int main(void)
{
    p = tap_init();
    key256 = aapi_key_hmac(p, AAPI_ALG_HS256, secret, SECRET_LEN);
    if (!key256) {
        printf("Bail out! cannot create the HS256 key\n");
        return 255;
    }
    test_keys();
    test_round_trip();
    test_rfc7515_example();
    test_header();
    test_signature();
    test_syntax();
    test_length();
    test_claims();
    test_claim_order();
    return done();
}
