/*
 * test_util.c - level 0 helpers of src/util.c: base64url, randomness,
 * constant-time comparison, SHA-256, RFC 3339, durations, sizes, ASCII
 * lower-casing and UTF-8 checks.
 */
#include "aapi.h"
#include "util.h"
#include "tap.h"

#include <string.h>

static apr_pool_t *p;

/* ==== base64url ==== */

/* Returns the decoding of IN as a NUL-terminated string from P, or NULL
 * when the decoder refuses it. */
static const char *dec(const char *in)
{
    size_t n = strlen(in), outlen = 0;
    unsigned char *out = apr_palloc(p, n * 3 / 4 + 2);

    if (aapi_b64url_decode(out, &outlen, in, n) != 0) {
        return NULL;
    }
    out[outlen] = '\0';
    return (const char *)out;
}

static int refused(const char *in)
{
    return dec(in) == NULL;
}

static void test_b64url(void)
{
    /* RFC 4648 section 10 test vectors, without padding */
    static const struct { const char *plain, *enc; } v[] = {
        { "", "" }, { "f", "Zg" }, { "fo", "Zm8" }, { "foo", "Zm9v" },
        { "foob", "Zm9vYg" }, { "fooba", "Zm9vYmE" }, { "foobar", "Zm9vYmFy" },
    };
    static const unsigned char high[] = { 0xfb, 0xff, 0xbf };
    unsigned char all[256], back[256];
    char buf[400];
    size_t i, n = 0;

    for (i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
        is_str(aapi_b64url_encode(p, (const unsigned char *)v[i].plain,
                                  strlen(v[i].plain)),
               v[i].enc, apr_psprintf(p, "encode '%s' -> '%s'", v[i].plain,
                                      v[i].enc));
        is_str(dec(v[i].enc), v[i].plain,
               apr_psprintf(p, "decode '%s' -> '%s'", v[i].enc, v[i].plain));
    }

    is_str(aapi_b64url_encode(p, high, 3), "-_-_",
           "encode uses '-' and '_', the URL-safe digits 62 and 63");
    is_str(aapi_b64url_encode(p, high, 2), "-_8",
           "encode of two bytes has no '=' padding");

    is_int(aapi_b64url_enclen(0), 0, "enclen(0) = 0");
    is_int(aapi_b64url_enclen(1), 2, "enclen(1) = 2");
    is_int(aapi_b64url_enclen(2), 3, "enclen(2) = 3");
    is_int(aapi_b64url_enclen(3), 4, "enclen(3) = 4");
    is_int(aapi_b64url_enclen(32), 43, "enclen(32) = 43 (a 256-bit token)");
    is_int(aapi_b64url_encode_to(buf, (const unsigned char *)"foob", 4), 6,
           "encode_to returns the length written");
    is_str(buf, "Zm9vYg", "encode_to writes a terminated string");

    /* every byte value survives a round trip */
    for (i = 0; i < 256; i++) {
        all[i] = (unsigned char)i;
    }
    aapi_b64url_encode_to(buf, all, 256);
    ok(aapi_b64url_decode(back, &n, buf, strlen(buf)) == 0 && n == 256
       && memcmp(all, back, 256) == 0,
       "all 256 byte values round-trip through encode and decode");

    ok(refused("Zm9v="), "decode refuses '=' padding after a full quantum");
    ok(refused("Zg=="), "decode refuses '==' padding");
    ok(refused("Zm8="), "decode refuses '=' padding");
    ok(refused("Zm+v"), "decode refuses '+' (standard base64, not URL-safe)");
    ok(refused("Zm/v"), "decode refuses '/' (standard base64, not URL-safe)");
    ok(refused("Zm9 v"), "decode refuses white space");
    ok(refused("Zm9v\n"), "decode refuses a trailing newline");
    ok(refused("Zm9.v"), "decode refuses '.'");
    ok(refused("Zm9\xc3\xa9"), "decode refuses non-ASCII bytes");
    ok(refused("Z"), "decode refuses a length of 4n+1");
    ok(refused("Zm9vY"), "decode refuses a length of 4n+1 after a quantum");
    ok(refused("A"), "decode refuses a lone 'A' (4n+1, zero bits)");
    ok(refused("Zm9vA"), "decode refuses 'Zm9vA' (4n+1, zero bits)");
    ok(refused("Zh"), "decode refuses non-zero trailing bits ('Zh' for 'Zg')");
    ok(refused("Zm9"), "decode refuses non-zero trailing bits ('Zm9' for 'Zm8')");
    ok(!refused("Zm8"), "decode accepts the canonical 'Zm8'");
    {
        size_t outlen = 99;
        unsigned char out[4];
        ok(aapi_b64url_decode(out, &outlen, "", 0) == 0 && outlen == 0,
           "decode of the empty string gives zero bytes");
        outlen = 99;
        ok(aapi_b64url_decode(out, &outlen, "Zm9vYmFy", 4) == 0
           && outlen == 3 && memcmp(out, "foo", 3) == 0,
           "decode reads only INLEN characters");
    }
}

/* The reference: decodes IN (N characters) one bit at a time, as RFC 4648
 * reads it, strict (no padding, zero trailing bits); returns the byte count,
 * or -1. */
static int ref_decode(const char *in, size_t n, unsigned char *out)
{
    static const char alphabet[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    unsigned int bits = 0, nbits = 0;
    size_t i;
    int o = 0;

    if (n % 4 == 1) {
        return -1;
    }
    for (i = 0; i < n; i++) {
        const char *at = in[i] ? memchr(alphabet, in[i], 64) : NULL;
        if (!at) {
            return -1;
        }
        bits = (bits << 6) | (unsigned int)(at - alphabet);
        nbits += 6;
        if (nbits >= 8) {
            nbits -= 8;
            out[o++] = (unsigned char)(bits >> nbits);
            bits &= (1u << nbits) - 1;
        }
    }
    return bits == 0 ? o : -1;
}

/* Every byte value in every position of inputs of 1 to 19 characters
 * (each the same valid digits around it; two steps of eight, one of four,
 * and each tail): the table decoder agrees with the reference on what it
 * accepts and on every byte it gives. */
static void test_b64url_exhaustive(void)
{
    static const char fill[] = "QUJDREVGR0hJSktMTU5PUFFS";  /* valid digits */
    char in[24];
    unsigned char a[24], b[24];
    size_t len, pos, outlen;
    int c, bad = 0, checked = 0, refused_n = 0;

    for (len = 1; len <= 19; len++) {
        for (pos = 0; pos < len; pos++) {
            for (c = 0; c < 256; c++) {
                int want, got;
                memcpy(in, fill, len);
                /* zero the tail bits of the filler's last digit: 'A' */
                in[len - 1] = 'A';
                in[pos] = (char)c;
                want = ref_decode(in, len, a);
                outlen = 0;
                got = aapi_b64url_decode(b, &outlen, in, len) == 0
                      ? (int)outlen : -1;
                if (want != got || (want > 0 && memcmp(a, b, (size_t)want))) {
                    bad++;
                }
                refused_n += want < 0;
                checked++;
            }
        }
    }
    ok(bad == 0, apr_psprintf(p, "decode agrees with a bit-by-bit reference "
                              "on %d inputs (%d refused by both); %d differ",
                              checked, refused_n, bad));
}

/* The decoder writes its output in whole 4-byte words: never more than
 * the room util.h asks for (inlen*3/4+1 bytes), whatever the length. */
static void test_b64url_room(void)
{
    static const char digits[] =
        "QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVphYmNkZWZnaGlqa2xtbm9wcXJzdHV2";
    unsigned char out[64 + 8], want[64];
    size_t len, room, outlen, k;
    int bad = 0;

    for (len = 0; len <= 64; len++) {
        char in[65];
        int n;
        if (len % 4 == 1) {
            continue;
        }
        memcpy(in, digits, len);
        if (len % 4 != 0) {
            in[len - 1] = 'A';          /* zero trailing bits */
        }
        n = ref_decode(in, len, want);
        room = len * 3 / 4 + 1;
        memset(out, 0xa5, sizeof(out));
        outlen = 99;
        if (n < 0 || aapi_b64url_decode(out, &outlen, in, len) != 0
            || outlen != (size_t)n || memcmp(out, want, outlen) != 0) {
            bad = 1;
            diag("length %d: not decoded as the reference does", (int)len);
        }
        for (k = room; k < sizeof(out); k++) {
            if (out[k] != 0xa5) {
                bad = 1;
                diag("length %d: byte %d past the room written", (int)len,
                     (int)k);
                break;
            }
        }
    }
    ok(!bad, "decode of 0 to 64 characters writes within inlen*3/4+1 bytes");
}

/* ==== randomness ==== */

static int all_in(const char *s, const char *alphabet)
{
    for (; *s; s++) {
        if (!strchr(alphabet, *s)) {
            return 0;
        }
    }
    return 1;
}

static void test_random(void)
{
    const char *h1 = aapi_random_hex(p, 32), *h2 = aapi_random_hex(p, 32);
    const char *b1 = aapi_random_b64url(p, 32), *b2 = aapi_random_b64url(p, 32);
    unsigned char raw[32];
    size_t n = 0;

    ok(h1 && strlen(h1) == 64, "random_hex(32) gives 64 characters");
    ok(h1 && all_in(h1, "0123456789abcdef"), "random_hex is lower-case hex");
    ok(h1 && h2 && strcmp(h1, h2) != 0, "two random_hex values differ");
    ok(aapi_random_hex(p, 65) == NULL, "random_hex refuses more than 64 bytes");
    is_str(aapi_random_hex(p, 0), "", "random_hex(0) is the empty string");

    ok(b1 && strlen(b1) == 43, "random_b64url(32) gives 43 characters");
    ok(b1 && all_in(b1, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
                        "0123456789-_"),
       "random_b64url uses only the URL-safe alphabet");
    ok(b1 && aapi_b64url_decode(raw, &n, b1, strlen(b1)) == 0 && n == 32,
       "random_b64url(32) decodes back to 32 bytes");
    ok(b1 && b2 && strcmp(b1, b2) != 0, "two random_b64url values differ");
    ok(aapi_random_b64url(p, 65) == NULL,
       "random_b64url refuses more than 64 bytes");
    ok(aapi_random_bytes(raw, sizeof(raw)) == 0, "random_bytes succeeds");
}

/* ==== comparison and hashing ==== */

static void test_compare_hash(void)
{
    ok(aapi_ct_equal("abcdef", "abcdef", 6), "ct_equal: equal bytes");
    ok(!aapi_ct_equal("abcdef", "abcdeF", 6), "ct_equal: last byte differs");
    ok(!aapi_ct_equal("Xbcdef", "abcdef", 6), "ct_equal: first byte differs");
    ok(aapi_ct_equal("a\0b", "a\0b", 3), "ct_equal compares past a NUL");
    ok(!aapi_ct_equal("a\0b", "a\0c", 3), "ct_equal sees a difference past a NUL");
    ok(aapi_ct_equal("x", "y", 0), "ct_equal of zero bytes is true");

    {
        /* eight bytes a step, then the tail: a difference anywhere counts */
        char a[41], b[41];
        size_t i;
        memset(a, 'x', 40);
        a[40] = '\0';
        memcpy(b, a, sizeof(a));
        ok(aapi_ct_equal_long(a, b, 40), "ct_equal_long: equal 40 bytes");
        for (i = 0; i < 40; i += 13) {
            b[i] = 'y';
            ok(!aapi_ct_equal_long(a, b, 40),
               apr_psprintf(p, "ct_equal_long: byte %d differs",
                            (int)i));
            b[i] = 'x';
        }
        b[39] = 'z';
        ok(!aapi_ct_equal_long(a, b, 40), "ct_equal_long: the last byte differs");
        ok(aapi_ct_equal_long(a, b, 39), "ct_equal_long: only LEN bytes count");
        ok(aapi_ct_equal_long(a, b, 0), "ct_equal_long of zero bytes is true");
    }
    {
        /* 32 bytes a step, then eight, then the tail: every length around
         * the steps, every byte, the lowest and the highest bit */
        static const size_t lens[] = { 1, 7, 8, 9, 31, 32, 33, 39, 40, 41,
                                       63, 64, 65, 96, 100, 450, 1024 };
        unsigned char a[1024], b[1024];
        size_t k, i, missed;
        for (i = 0; i < sizeof(a); i++) {
            a[i] = (unsigned char)(i * 31 + 7);
        }
        for (k = 0; k < sizeof(lens) / sizeof(lens[0]); k++) {
            size_t n = lens[k];
            memcpy(b, a, sizeof(a));
            missed = aapi_ct_equal_long(a, b, n) ? 0 : 1;
            for (i = 0; i < n; i++) {
                b[i] ^= 0x01;
                missed += aapi_ct_equal_long(a, b, n);
                b[i] ^= 0x81;
                missed += aapi_ct_equal_long(a, b, n);
                b[i] ^= 0x80;
            }
            ok(missed == 0,
               apr_psprintf(p, "ct_equal_long, %d bytes: equal, and a flipped "
                            "bit in any byte seen (%d missed)", (int)n,
                            (int)missed));
        }
    }

    is_str(aapi_sha256_hex(p, "", 0),
           "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
           "sha256_hex of the empty string (FIPS 180-2)");
    is_str(aapi_sha256_hex(p, "abc", 3),
           "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
           "sha256_hex of 'abc' (FIPS 180-2)");
    is_str(aapi_sha256_hex(p, "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq", 56),
           "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1",
           "sha256_hex of the two-block FIPS 180-2 message");
}

/* ==== time ==== */

static void test_time(void)
{
    apr_int64_t now = aapi_now();

    is_str(aapi_rfc3339(p, 0), "1970-01-01T00:00:00Z", "rfc3339 of the epoch");
    is_str(aapi_rfc3339(p, 1768473000), "2026-01-15T10:30:00Z",
           "rfc3339 of the API document's example time");
    is_str(aapi_rfc3339(p, 951782400), "2000-02-29T00:00:00Z",
           "rfc3339 of a leap day");
    is_str(aapi_rfc3339(p, 4102444799LL), "2099-12-31T23:59:59Z",
           "rfc3339 after 2038 (64-bit time)");
    ok(now > 1700000000 && now < 4102444800LL, "now is a plausible epoch time");
}

static void test_i64_text(void)
{
    char want[32];
    static const apr_int64_t vals[] = {
        0, 1, -1, 9, 10, -10, 1768473000, APR_INT64_C(4102444799000),
        APR_INT64_MAX, APR_INT64_MIN
    };
    size_t i;

    for (i = 0; i < sizeof(vals) / sizeof(vals[0]); i++) {
        apr_snprintf(want, sizeof(want), "%" APR_INT64_T_FMT, vals[i]);
        is_str(aapi_i64_text(p, vals[i]), want,
               apr_psprintf(p, "i64_text of %s", want));
    }
}

/* ==== durations and sizes ==== */

static void duration_is(const char *in, apr_int64_t want)
{
    apr_int64_t v = -12345;
    const char *err = aapi_parse_duration(in, &v);
    ok(err == NULL && v == want,
       apr_psprintf(p, "duration '%s' = %" APR_INT64_T_FMT " s", in, want));
    if (err || v != want) {
        diag("got err=%s v=%" APR_INT64_T_FMT, err ? err : "NULL", v);
    }
}

static void duration_refused(const char *in, const char *why)
{
    apr_int64_t v = -12345;
    const char *err = aapi_parse_duration(in, &v);
    ok(err != NULL && v == -12345,
       apr_psprintf(p, "duration '%s' refused (%s), output untouched",
                    in ? in : "NULL", why));
}

static void size_is(const char *in, apr_off_t want)
{
    apr_off_t v = -12345;
    const char *err = aapi_parse_size(in, &v);
    ok(err == NULL && v == want,
       apr_psprintf(p, "size '%s' = %" APR_OFF_T_FMT " bytes", in, want));
}

static void size_refused(const char *in, const char *why)
{
    apr_off_t v = -12345;
    const char *err = aapi_parse_size(in, &v);
    ok(err != NULL && v == -12345,
       apr_psprintf(p, "size '%s' refused (%s)", in, why));
}

static void test_units(void)
{
    duration_is("90", 90);
    duration_is("90s", 90);
    duration_is("15m", 900);
    duration_is("12h", 43200);
    duration_is("30d", 2592000);
    duration_is("0", 0);
    duration_is("3650d", 315360000);
    duration_refused("15x", "unknown unit");
    duration_refused("-1", "negative");
    duration_refused("", "empty");
    duration_refused("m", "unit without a number");
    duration_refused(NULL, "NULL");
    duration_refused("1.5h", "fraction");
    duration_refused(" 90", "leading space");
    duration_refused("90 ", "trailing space");
    duration_refused("15mm", "two unit letters");
    duration_refused("15 m", "space before the unit");
    duration_refused("+5", "sign");
    duration_refused("3651d", "more than ten years");
    duration_refused("315360001", "more than ten years in seconds");
    duration_refused("99999999999999999999999999", "would overflow 64 bits");
    duration_refused("9223372036854775807d", "would overflow when scaled");

    size_is("16384", 16384);
    size_is("16k", 16384);
    size_is("1m", 1048576);
    size_is("0", 0);
    size_is("1024m", (apr_off_t)1 << 30);
    size_refused("16x", "unknown unit");
    size_refused("1g", "no gigabyte unit");
    size_refused("", "empty");
    size_refused("-1", "negative");
    size_refused("k", "unit without a number");
    size_refused("1025m", "over 1 GiB");
    size_refused("99999999999999999999999999", "would overflow 64 bits");
}

/* ==== strings ==== */

static void test_strings(void)
{
    is_str(aapi_ascii_lower(p, "Ann.LEE@Example.COM"), "ann.lee@example.com",
           "ascii_lower lowers ASCII letters");
    is_str(aapi_ascii_lower(p, "\xc3\x89T\xc3\x89"), "\xc3\x89t\xc3\x89",
           "ascii_lower leaves UTF-8 bytes alone");
    is_str(aapi_ascii_lower(p, ""), "", "ascii_lower of the empty string");

    ok(aapi_utf8_valid("plain ascii", 11), "utf8: ASCII is valid");
    ok(aapi_utf8_valid("", 0), "utf8: the empty string is valid");
    ok(aapi_utf8_valid("h\xc3\xa9llo", 6), "utf8: 2-byte sequence (e acute)");
    ok(aapi_utf8_valid("\xe2\x82\xac", 3), "utf8: 3-byte sequence (euro sign)");
    ok(aapi_utf8_valid("\xf0\x9f\x98\x80", 4), "utf8: 4-byte sequence (emoji)");
    ok(aapi_utf8_valid("\xc2\x80", 2), "utf8: U+0080, the smallest 2-byte");
    ok(aapi_utf8_valid("\xe0\xa0\x80", 3), "utf8: U+0800, the smallest 3-byte");
    ok(aapi_utf8_valid("\xf0\x90\x80\x80", 4), "utf8: U+10000, the smallest 4-byte");
    ok(aapi_utf8_valid("\xed\x9f\xbf", 3), "utf8: U+D7FF, just below the surrogates");
    ok(aapi_utf8_valid("\xee\x80\x80", 3), "utf8: U+E000, just above the surrogates");
    ok(aapi_utf8_valid("\xf4\x8f\xbf\xbf", 4), "utf8: U+10FFFF, the last code point");

    ok(!aapi_utf8_valid("\xc0\xaf", 2), "utf8: overlong 2-byte '/' refused");
    ok(!aapi_utf8_valid("\xc1\xbf", 2), "utf8: overlong 2-byte (C1) refused");
    ok(!aapi_utf8_valid("\xc0\x80", 2), "utf8: overlong NUL (C0 80) refused");
    ok(!aapi_utf8_valid("\xe0\x80\xaf", 3), "utf8: overlong 3-byte refused");
    ok(!aapi_utf8_valid("\xe0\x9f\xbf", 3), "utf8: overlong 3-byte U+07FF refused");
    ok(!aapi_utf8_valid("\xf0\x80\x80\xaf", 4), "utf8: overlong 4-byte refused");
    ok(!aapi_utf8_valid("\xf0\x8f\xbf\xbf", 4), "utf8: overlong 4-byte U+FFFF refused");
    ok(!aapi_utf8_valid("\xed\xa0\x80", 3), "utf8: high surrogate U+D800 refused");
    ok(!aapi_utf8_valid("\xed\xbf\xbf", 3), "utf8: low surrogate U+DFFF refused");
    ok(!aapi_utf8_valid("\xf4\x90\x80\x80", 4), "utf8: U+110000 refused");
    ok(!aapi_utf8_valid("\xf5\x80\x80\x80", 4), "utf8: lead byte F5 refused");
    ok(!aapi_utf8_valid("\xff", 1), "utf8: byte FF refused");
    ok(!aapi_utf8_valid("\x80", 1), "utf8: a lone continuation byte refused");
    ok(!aapi_utf8_valid("\xc3", 1), "utf8: truncated 2-byte sequence refused");
    ok(!aapi_utf8_valid("\xe2\x82", 2), "utf8: truncated 3-byte sequence refused");
    ok(!aapi_utf8_valid("\xf0\x9f\x98", 3), "utf8: truncated 4-byte sequence refused");
    ok(!aapi_utf8_valid("\xe2\x82\xac", 2),
       "utf8: a sequence cut by the length N is refused");
    ok(!aapi_utf8_valid("\xc3\x28", 2), "utf8: bad continuation byte refused");
    ok(!aapi_utf8_valid("a\0b", 3), "utf8: NUL inside the string refused");
    ok(!aapi_utf8_valid("\0", 1), "utf8: a lone NUL refused");

    is_int(aapi_utf8_len(""), 0, "utf8_len of the empty string");
    is_int(aapi_utf8_len("abc"), 3, "utf8_len of ASCII");
    is_int(aapi_utf8_len("h\xc3\xa9llo"), 5, "utf8_len counts code points, not bytes");
    is_int(aapi_utf8_len("\xe2\x82\xac\xf0\x9f\x98\x80"), 2,
           "utf8_len of a 3-byte and a 4-byte character");
}

/* the table a template gives must behave as if each name had been added
 * with apr_table_addn: every look-up, replacement, removal, addition and
 * copy of the APR in use is checked against it */
static int count_entry(void *rec, const char *key, const char *value)
{
    (*(int *)rec)++;
    return 1;
}

/* a template's copy of T (NULL: T was not empty) with VALS as its values,
 * as authn.c fills one */
static apr_table_t *tpl_fill(apr_table_t *t, const aapi_table_tpl_t *tpl,
                             const char *const *vals, int n)
{
    apr_table_t *copy = NULL;
    apr_table_entry_t *e = aapi_table_tpl_copy(p, t, tpl, &copy);
    int i;

    for (i = 0; e && i < n; i++) {
        e[i].val = (char *)vals[i];
    }
    return e ? copy : NULL;
}

static void test_table_tpl(void)
{
    static const char *const names[] = {
        "AUTH_API_USER_ID", "AUTH_API_EMAIL", "AUTH_API_USERNAME",
        "AUTH_API_ROLE", "AUTH_API_EMAIL_VERIFIED", "AUTH_API_SESSION_ID",
        "AUTH_API_EXPIRES"
    };
    static const char *const vals[] = {
        "u-1", "ann@example.com", "ann", "admin", "true", "s-1",
        "2026-12-03T12:00:00Z"
    };
    aapi_table_tpl_t *tpl = aapi_table_tpl_make(p, names, 7);
    apr_table_t *empty = apr_table_make(p, 25), *busy = apr_table_make(p, 4);
    apr_table_t *t, *t2, *copy;
    const apr_array_header_t *a;
    int i, n = 0;

    ok(tpl != NULL, "tpl: made, its copy checked against this APR");
    ok(aapi_table_tpl_make(p, names, 0) == NULL, "tpl: no names, no template");
    t = tpl_fill(empty, tpl, vals, 7);
    ok(t != NULL, "tpl: an empty table gets the template");
    for (i = 0; t && i < 7; i++) {
        is_str(apr_table_get(t, names[i]), vals[i], names[i]);
    }
    ok(t && apr_table_get(t, "auth_api_role")
       && !strcmp(apr_table_get(t, "auth_api_role"), "admin"),
       "tpl: a name is found without regard to case");
    ok(t && !apr_table_get(t, "AUTH_API_NOPE") && !apr_table_get(t, "A"),
       "tpl: a name not in it is not found");
    a = t ? apr_table_elts(t) : NULL;
    is_int(a ? a->nelts : -1, 7, "tpl: seven entries, no more");
    if (t) {
        apr_table_do(count_entry, &n, t, NULL);
    }
    is_int(n, 7, "tpl: apr_table_do sees the seven");

    /* the template itself keeps its empty values: requests never share */
    t2 = tpl_fill(empty, tpl, names, 7);
    ok(t && t2 && !strcmp(apr_table_get(t, "AUTH_API_ROLE"), "admin")
       && !strcmp(apr_table_get(t2, "AUTH_API_ROLE"), "AUTH_API_ROLE"),
       "tpl: two tables from one template are independent");

    if (t) {
        apr_table_setn(t, "AUTH_API_ROLE", "user");
        is_str(apr_table_get(t, "AUTH_API_ROLE"), "user",
               "tpl: apr_table_setn replaces a value");
        is_int(apr_table_elts(t)->nelts, 7, "tpl: ... without a second entry");
        apr_table_unset(t, "AUTH_API_EMAIL");
        ok(!apr_table_get(t, "AUTH_API_EMAIL"), "tpl: apr_table_unset removes");
        is_str(apr_table_get(t, "AUTH_API_EXPIRES"), vals[6],
               "tpl: ... and the later names are still found");
        for (i = 0; i < 40; i++) {         /* past the room it was made with */
            apr_table_addn(t, apr_psprintf(p, "VAR_%d", i), "x");
        }
        apr_table_setn(t, "AUTH_API_USERNAME", "bob");
        is_str(apr_table_get(t, "AUTH_API_USERNAME"), "bob",
               "tpl: a name is replaced after the table grew");
        is_str(apr_table_get(t, "VAR_39"), "x", "tpl: added names are found");
        is_str(apr_table_get(t, "AUTH_API_USER_ID"), vals[0],
               "tpl: the first name is found after the table grew");
        copy = apr_table_copy(p, t);
        is_str(apr_table_get(copy, "AUTH_API_SESSION_ID"), vals[5],
               "tpl: a copy finds the names");
        copy = apr_table_overlay(p, busy, t);
        is_str(apr_table_get(copy, "AUTH_API_EMAIL_VERIFIED"), vals[4],
               "tpl: an overlay finds the names");
    }
    apr_table_setn(busy, "UNIQUE_ID", "x");
    ok(tpl_fill(busy, tpl, vals, 7) == NULL,
       "tpl: a table that has anything is left to the caller");
    ok(tpl_fill(empty, NULL, vals, 7) == NULL,
       "tpl: no template, no table");
    ok(tpl_fill(NULL, tpl, vals, 7) != NULL,
       "tpl: no table at all gets the template");
    t = tpl_fill(empty, tpl, vals, 7);
    t2 = tpl_fill(empty, tpl, names, 7);
    ok(t && t2 && apr_table_elts(t)->elts != apr_table_elts(t2)->elts
       && !strcmp(apr_table_get(t, "AUTH_API_USER_ID"), "u-1"),
       "tpl: filling one copy leaves the entries of another alone");
}

int main(void)
{
    p = tap_init();
    test_b64url();
    test_b64url_exhaustive();
    test_b64url_room();
    test_random();
    test_compare_hash();
    test_time();
    test_i64_text();
    test_units();
    test_strings();
    test_table_tpl();
    return done();
}
