/*
 * util.c - level 0: base64url, CSPRNG, constant-time comparison, SHA-256,
 * clock, durations and sizes, UTF-8 checks.
 */
#include "aapi.h"
#include "util.h"

#include "apr_lib.h"
#include "apr_tables.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <string.h>
#include <time.h>

/* ==== base64url ==== */

static const char b64url_alphabet[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/* Decoding takes four digits, 24 bits, to three bytes. Each table gives a
 * digit's six bits already in their places among those bytes, within a
 * 32-bit word as memory holds it (byte K of the word at shift B64_AT(K)):
 * the four look-ups OR-ed together are the three bytes, written with one
 * 4-byte copy. The word's byte 3 is free: B64_BAD there marks a character
 * outside the alphabet, so one test of the OR finds any. */
#if APR_IS_BIGENDIAN
#define B64_AT(k) (24 - 8 * (k))
#else
#define B64_AT(k) (8 * (k))
#endif
#define B64_BAD (0x80u << B64_AT(3))

/* The value of base64url digit C, or 64 for any other character. */
#define B64D(c)                                                             \
    ((c) >= 'A' && (c) <= 'Z' ? (c) - 'A'                                  \
     : (c) >= 'a' && (c) <= 'z' ? (c) - 'a' + 26                           \
     : (c) >= '0' && (c) <= '9' ? (c) - '0' + 52                           \
     : (c) == '-' ? 62 : (c) == '_' ? 63 : 64)
/* Where the bits of digit value D go, for each of the four digits of a
 * group: the first fills the top six bits of byte 0, the second the last
 * two of byte 0 and the top four of byte 1, and so on. */
#define B64P0(d) ((apr_uint32_t)(d) << 2 << B64_AT(0))
#define B64P1(d) ((apr_uint32_t)(d) >> 4 << B64_AT(0)                      \
                  | ((apr_uint32_t)(d) & 15) << 4 << B64_AT(1))
#define B64P2(d) ((apr_uint32_t)(d) >> 2 << B64_AT(1)                      \
                  | ((apr_uint32_t)(d) & 3) << 6 << B64_AT(2))
#define B64P3(d) ((apr_uint32_t)(d) << B64_AT(2))
#define B64V(c, P)   (B64D(c) == 64 ? B64_BAD : P(B64D(c)))
#define B64R4(i, P)  B64V(i, P), B64V((i) + 1, P), B64V((i) + 2, P),       \
                     B64V((i) + 3, P)
#define B64R16(i, P) B64R4(i, P), B64R4((i) + 4, P), B64R4((i) + 8, P),    \
                     B64R4((i) + 12, P)
#define B64R64(i, P) B64R16(i, P), B64R16((i) + 16, P),                    \
                     B64R16((i) + 32, P), B64R16((i) + 48, P)
#define B64TABLE(P)  { B64R64(0, P), B64R64(64, P), B64R64(128, P),        \
                       B64R64(192, P) }

/* The first, second, third and fourth digit of a group, in place. */
static const apr_uint32_t b64url_at0[256] = B64TABLE(B64P0);
static const apr_uint32_t b64url_at1[256] = B64TABLE(B64P1);
static const apr_uint32_t b64url_at2[256] = B64TABLE(B64P2);
static const apr_uint32_t b64url_at3[256] = B64TABLE(B64P3);

int aapi_b64url_charset_ok(const char *s, size_t n, char extra)
{
    unsigned int bad = 0;
    size_t i;

    for (i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        bad |= (unsigned int)((b64url_at0[c] & B64_BAD) != 0
                              && c != (unsigned char)extra);
    }
    return !bad;
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
    const unsigned char *s = (const unsigned char *)in;
    size_t i = 0, o = 0, rest;
    apr_uint32_t v;

    if (inlen % 4 == 1) {
        return -1;
    }
    /* four characters make three bytes: four look-ups OR-ed together,
     * copied as a whole word; its fourth byte is overwritten by the next
     * group, or is the one byte of room past the output. Two groups a step
     * while eight characters are left (one test for both), then one. */
    for (; i + 8 <= inlen; i += 8, o += 6) {
        apr_uint32_t w;
        v = b64url_at0[s[i]] | b64url_at1[s[i + 1]] | b64url_at2[s[i + 2]]
            | b64url_at3[s[i + 3]];
        w = b64url_at0[s[i + 4]] | b64url_at1[s[i + 5]] | b64url_at2[s[i + 6]]
            | b64url_at3[s[i + 7]];
        if ((v | w) & B64_BAD) {
            return -1;
        }
        memcpy(out + o, &v, 4);
        memcpy(out + o + 3, &w, 4);
    }
    for (; i + 4 <= inlen; i += 4, o += 3) {
        v = b64url_at0[s[i]] | b64url_at1[s[i + 1]] | b64url_at2[s[i + 2]]
            | b64url_at3[s[i + 3]];
        if (v & B64_BAD) {
            return -1;
        }
        memcpy(out + o, &v, 4);
    }
    /* two or three characters left: one or two bytes, and the bits left
     * over (byte 1 of two digits, byte 2 of three) must be zero, so that
     * each value has one encoding */
    rest = inlen - i;
    if (rest >= 2) {
        v = b64url_at0[s[i]] | b64url_at1[s[i + 1]]
            | (rest == 3 ? b64url_at2[s[i + 2]] : 0);
        if ((v & B64_BAD) || (v & (0xffu << B64_AT(rest == 3 ? 2 : 1)))) {
            return -1;
        }
        out[o++] = (unsigned char)(v >> B64_AT(0));
        if (rest == 3) {
            out[o++] = (unsigned char)(v >> B64_AT(1));
        }
    }
    *outlen = o;
    return 0;
}

char *aapi_i64_text(apr_pool_t *p, apr_int64_t v)
{
    char buf[24], *s = buf + sizeof(buf);
    apr_uint64_t u = v < 0 ? 0 - (apr_uint64_t)v : (apr_uint64_t)v;

    *--s = '\0';
    do {
        *--s = (char)('0' + u % 10);
        u /= 10;
    } while (u);
    if (v < 0) {
        *--s = '-';
    }
    return apr_pstrmemdup(p, s, (apr_size_t)(buf + sizeof(buf) - 1 - s));
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

int aapi_ct_equal_long(const void *a, const void *b, size_t n)
{
    const unsigned char *x = a, *y = b;
    apr_uint64_t acc = 0, wa, wb;
    size_t i = 0;

    /* 32 bytes a step while they last (two 16-byte vectors: SSE2 on
     * x86-64, plain words elsewhere), then eight, then one; every byte
     * always read: no early exit */
    typedef apr_uint64_t v2_t __attribute__((vector_size(16)));
    v2_t va, vb, vacc = { 0, 0 };

    for (; i + 32 <= n; i += 32) {
        memcpy(&va, x + i, 16);
        memcpy(&vb, y + i, 16);
        vacc |= va ^ vb;
        memcpy(&va, x + i + 16, 16);
        memcpy(&vb, y + i + 16, 16);
        vacc |= va ^ vb;
    }
    acc = vacc[0] | vacc[1];
    for (; i + 8 <= n; i += 8) {
        memcpy(&wa, x + i, 8);
        memcpy(&wb, y + i, 8);
        acc |= wa ^ wb;
    }
    for (; i < n; i++) {
        acc |= (apr_uint64_t)(x[i] ^ y[i]);
    }
    /* 1 when acc is zero, computed without a branch on it */
    return (int)(((acc | (~acc + 1)) >> 63) ^ 1);
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

/* Writes the N-digit decimal V at D. */
static void digits(char *d, int n, apr_int64_t v)
{
    while (n-- > 0) {
        d[n] = (char)('0' + v % 10);
        v /= 10;
    }
}

char *aapi_rfc3339_to(char *buf, size_t n, apr_int64_t t)
{
    apr_int64_t days, secs, z, era, doe, yoe, y, doy, mp, d, m;

    if (n < 21 || t < 0 || t > APR_INT64_C(253402300799)) {
        apr_cpystrn(buf, "1970-01-01T00:00:00Z", n);
        return buf;
    }
    /* the civil date of a day number (H. Hinnant's days_from_civil,
     * inverted), for years 1970-9999 */
    days = t / 86400;
    secs = t % 86400;
    z = days + 719468;
    era = z / 146097;
    doe = z - era * 146097;
    yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    y = yoe + era * 400;
    doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    mp = (5 * doy + 2) / 153;
    d = doy - (153 * mp + 2) / 5 + 1;
    m = mp < 10 ? mp + 3 : mp - 9;
    y += m <= 2;
    digits(buf, 4, y);
    buf[4] = '-';
    digits(buf + 5, 2, m);
    buf[7] = '-';
    digits(buf + 8, 2, d);
    buf[10] = 'T';
    digits(buf + 11, 2, secs / 3600);
    buf[13] = ':';
    digits(buf + 14, 2, secs / 60 % 60);
    buf[16] = ':';
    digits(buf + 17, 2, secs % 60);
    buf[19] = 'Z';
    buf[20] = '\0';
    return buf;
}

char *aapi_rfc3339(apr_pool_t *p, apr_int64_t t)
{
    char buf[32];
    return apr_pstrdup(p, aapi_rfc3339_to(buf, sizeof(buf), t));
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

        /* eight ASCII bytes without NUL at a time: the common case */
        if (i + 8 <= n) {
            apr_uint64_t w;
            memcpy(&w, s + i, 8);
            if (!(w & APR_UINT64_C(0x8080808080808080))
                && !((w - APR_UINT64_C(0x0101010101010101)) & ~w
                     & APR_UINT64_C(0x8080808080808080))) {
                i += 8;
                continue;
            }
        }
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

char *aapi_utf8_clean(apr_pool_t *p, const char *s, size_t maxbytes)
{
    size_t n = strlen(s), i = 0, o = 0;
    char *out = apr_palloc(p, (n < maxbytes ? n : maxbytes) + 1);

    while (i < n) {
        unsigned char c = (unsigned char)s[i];
        size_t len = c < 0x80 ? 1 : c >= 0xc2 && c <= 0xdf ? 2
                   : c >= 0xe0 && c <= 0xef ? 3 : c >= 0xf0 && c <= 0xf4 ? 4 : 0;

        if (len == 0 || i + len > n || !aapi_utf8_valid(s + i, len)
            || c < 0x20 || c == 0x7f) {
            len = 1;
            if (o + 1 > maxbytes) break;
            out[o++] = '?';
        }
        else {
            if (o + len > maxbytes) break;
            memcpy(out + o, s + i, len);
            o += len;
        }
        i += len;
    }
    out[o] = '\0';
    return out;
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

/* ==== table templates ==== */

struct aapi_table_tpl {
    apr_table_t *t;
    const char *const *names;
    int n;
};

aapi_table_tpl_t *aapi_table_tpl_make(apr_pool_t *p, const char *const *names,
                                      int n)
{
    aapi_table_tpl_t *tpl;
    const apr_array_header_t *a;
    const apr_table_entry_t *e;
    apr_table_t *copy;
    int i;

    if (n < 1) {
        return NULL;
    }
    tpl = apr_palloc(p, sizeof(*tpl));
    /* room for what a CGI or PHP request adds after them */
    tpl->t = apr_table_make(p, n + 32);
    tpl->names = names;
    tpl->n = n;
    for (i = 0; i < n; i++) {
        apr_table_addn(tpl->t, names[i], "");
    }
    /* the copies that aapi_table_tpl_copy hands out are used by index:
     * with an APR whose apr_table_copy kept other entries or another
     * order, there is no template, and the caller sets each name */
    copy = apr_table_copy(p, tpl->t);
    a = apr_table_elts(copy);
    e = (const apr_table_entry_t *)a->elts;
    if (a->nelts != n) {
        return NULL;
    }
    for (i = 0; i < n; i++) {
        if (e[i].key != names[i]) {
            return NULL;
        }
    }
    return tpl;
}

apr_table_entry_t *aapi_table_tpl_copy(apr_pool_t *p, const apr_table_t *t,
                                       const aapi_table_tpl_t *tpl,
                                       apr_table_t **copy)
{
    /* a table that has anything is left to the caller (NULL counts as
     * empty, as apr_is_empty_table has it) */
    if (!tpl || (t && apr_table_elts(t)->nelts > 0)) {
        return NULL;
    }
    /* the same entries in the same order: aapi_table_tpl_make made sure */
    *copy = apr_table_copy(p, tpl->t);
    return (apr_table_entry_t *)apr_table_elts(*copy)->elts;
}
