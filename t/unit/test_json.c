/*
 * test_json.c - level 0 JSON layer of src/json.c: the strict object parser,
 * typed getters with aliases, RFC 7396 merge patch, and the response
 * envelopes of API.md section 2.
 *
 * The test reads results back through jansson (json_equal), which only the
 * test may do: the module's own files talk to jansson only in json.c.
 */
#include "aapi.h"
#include "json.h"
#include "tap.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

static apr_pool_t *p;

/* Returns the parse of the string S (its strlen), or NULL when refused. */
static aapi_json_t *parse(const char *s)
{
    aapi_json_t *out = NULL;
    return aapi_json_parse_object(p, s, strlen(s), &out) == AAPI_OK ? out : NULL;
}

/* Returns a jansson value for any JSON text, owned by the pool. */
static json_t *any(const char *s)
{
    json_t *v = json_loads(s, JSON_DECODE_ANY, NULL);
    if (v) {
        /* reuse json.c's ownership: an array or object set into a
         * pool-owned holder lives as long as the pool */
        aapi_json_t *holder = aapi_json_array(p);
        json_array_append_new(holder, v);
    }
    return v;
}

/* ==== strict parsing ==== */

static void refused(const char *s, size_t len, const char *name)
{
    aapi_json_t *out = NULL;
    is_int(aapi_json_parse_object(p, s, len, &out), AAPI_INVALID_JSON,
           apr_psprintf(p, "parse refuses %s", name));
}

#define REFUSED(lit, name) refused(lit, sizeof(lit) - 1, name)

static void test_parse(void)
{
    aapi_json_t *o;
    const char *s = NULL;
    aapi_json_t *out = NULL;

    o = parse("{\"email\":\"ann@example.com\",\"n\":3,\"ok\":true,\"x\":null}");
    ok(o != NULL, "parse accepts a plain object");
    ok(o && aapi_json_is_object(o), "the result is an object");
    ok(o && aapi_json_get_str(o, "email", NULL, &s) == 1
       && strcmp(s, "ann@example.com") == 0, "a string member reads back");

    ok(parse("{}") != NULL, "parse accepts the empty object");
    ok(parse(" \t\r\n{\"a\":1} \n") != NULL,
       "parse accepts white space around the object");
    ok(parse("{\"name\":\"J\\u00f6rg \\ud83d\\ude00\"}") != NULL,
       "parse accepts \\u escapes including a surrogate pair");
    ok(parse("{\"name\":\"J\xc3\xb6rg\"}") != NULL, "parse accepts raw UTF-8");
    ok(aapi_json_parse_object(p, "{\"a\":1}garbage", 7, &out) == AAPI_OK,
       "parse reads only LEN bytes");

    REFUSED("{\"a\":1,\"a\":2}", "duplicate names");
    REFUSED("{\"a\":1,\"a\":1}", "duplicate names with equal values");
    REFUSED("{\"o\":{\"x\":1,\"x\":2}}", "duplicate names in a nested object");
    REFUSED("{\"l\":[{\"x\":1,\"x\":2}]}", "duplicate names inside an array");
    REFUSED("{\"a\":\"x\\u0000y\"}", "a \\u0000 escape");
    REFUSED("{\"a\\u0000\":1}", "a \\u0000 escape in a name");
    REFUSED("{\"a\":\"x\0y\"}", "a raw NUL byte in a string");
    REFUSED("{\"a\":1}\0", "a NUL byte after the object");
    REFUSED("{\"a\":\"\xff\"}", "the byte FF");
    REFUSED("{\"a\":\"\xc0\xaf\"}", "an overlong UTF-8 sequence");
    REFUSED("{\"a\":\"\xed\xa0\x80\"}", "a UTF-8 encoded surrogate");
    REFUSED("{\"a\":\"\xc3\"}", "a truncated UTF-8 sequence");
    REFUSED("{\"a\":\"\\ud800\"}", "a lone surrogate escape");
    REFUSED("[]", "a top-level array");
    REFUSED("[{\"a\":1}]", "an object inside a top-level array");
    REFUSED("\"str\"", "a top-level string");
    REFUSED("42", "a top-level number");
    REFUSED("null", "top-level null");
    REFUSED("true", "top-level true");
    REFUSED("{\"a\":1}x", "trailing garbage");
    REFUSED("{\"a\":1}{\"b\":2}", "a second object");
    REFUSED("{\"a\":1},", "a trailing comma after the object");
    REFUSED("{\"a\":1,}", "a trailing comma inside the object");
    REFUSED("{\"a\":", "a truncated object");
    REFUSED("{a:1}", "unquoted names");
    REFUSED("{'a':1}", "single quotes");
    REFUSED("", "the empty input");
    REFUSED("   ", "white space only");
    REFUSED("\xef\xbb\xbf{\"a\":1}", "a byte order mark");
}

/* ==== getters ==== */

static void test_getters(void)
{
    aapi_json_t *o = parse("{\"first_name\":\"Ann\",\"firstName\":\"Alias\","
                           "\"lastName\":\"Lee\",\"fullName\":null,"
                           "\"full_name\":null,\"n\":5,\"b\":false,"
                           "\"s\":\"5\",\"f\":1.5,\"refresh_token\":7}");
    const char *s = NULL;

    is_int(aapi_json_get_str(o, "first_name", "firstName", &s), 1,
           "get_str finds the main name");
    is_str(s, "Ann", "the main name wins over the alias");
    s = NULL;
    is_int(aapi_json_get_str(o, "last_name", "lastName", &s), 1,
           "get_str falls back to the alias");
    is_str(s, "Lee", "the alias value is returned");
    s = "untouched";
    is_int(aapi_json_get_str(o, "full_name", "fullName", &s), 0,
           "get_str: both null counts as absent");
    is_str(s, "untouched", "absent leaves *out alone");
    is_int(aapi_json_get_str(o, "username", NULL, &s), 0,
           "get_str: absent without alias is 0");
    is_int(aapi_json_get_str(o, "username", "userName", &s), 0,
           "get_str: both absent is 0");
    is_int(aapi_json_get_str(o, "n", NULL, &s), -1,
           "get_str: a number is the wrong type");
    is_int(aapi_json_get_str(o, "refresh_token", "refreshToken", &s), -1,
           "get_str: a wrong-typed main name is -1 even with an alias");

    {
        aapi_json_t *o2 = parse("{\"new_password\":null,"
                                "\"newPassword\":\"Secret-1\"}");
        s = NULL;
        is_int(aapi_json_get_str(o2, "new_password", "newPassword", &s), 1,
               "get_str: a null main name falls back to the alias");
        is_str(s, "Secret-1", "the alias is read when the main name is null");
    }

    ok(aapi_json_has(o, "fullName"), "has: a null member exists");
    ok(!aapi_json_has(o, "nope"), "has: an absent member does not");
    ok(aapi_json_get(NULL, "x") == NULL, "get on NULL is NULL");
}

/* ==== building and dumping ==== */

static void test_build(void)
{
    aapi_json_t *o = aapi_json_object(p), *a = aapi_json_array(p);

    aapi_json_set_str(o, "s", "x\"y");
    aapi_json_set_str(o, "n", NULL);
    aapi_json_set_int(o, "i", -42);
    aapi_json_set_bool(o, "t", 1);
    aapi_json_append(a, aapi_json_object(p));
    aapi_json_set(o, "a", a);
    ok(json_equal(o, any("{\"s\":\"x\\\"y\",\"n\":null,\"i\":-42,\"t\":true,"
                         "\"a\":[{}]}")),
       "setters build the expected object; a NULL string is null");
    {
        aapi_json_t *small = aapi_json_object(p);
        aapi_json_set_int(small, "a", 1);
        is_str(aapi_json_dump(p, small), "{\"a\":1}", "dump is compact");
    }
    is_str(aapi_json_string_value(aapi_json_get(o, "s")), "x\"y",
           "string_value");
    ok(aapi_json_string_value(aapi_json_get(o, "i")) == NULL,
       "string_value of a number is NULL");
}

/* ==== RFC 7396 merge patch ==== */

static void merge_is(const char *target, const char *patch, const char *want,
                     const char *name)
{
    json_t *t = any(target), *pa = any(patch), *before = json_deep_copy(t);
    aapi_json_t *r = aapi_json_merge_patch(p, t, pa);
    int same = r && json_equal(r, any(want));

    ok(same, apr_psprintf(p, "merge %s + %s = %s (%s)", target, patch, want,
                          name));
    if (!same) {
        diag("got %s", r ? aapi_json_dump(p, r) : "NULL");
    }
    ok(json_equal(t, before),
       apr_psprintf(p, "merge leaves the target %s unchanged", target));
    json_decref(before);
}

static void test_merge_patch(void)
{
    /* RFC 7396 appendix A, the cases whose patch is an object */
    merge_is("{\"a\":\"b\"}", "{\"a\":\"c\"}", "{\"a\":\"c\"}", "replace");
    merge_is("{\"a\":\"b\"}", "{\"b\":\"c\"}", "{\"a\":\"b\",\"b\":\"c\"}", "add");
    merge_is("{\"a\":\"b\"}", "{\"a\":null}", "{}", "delete");
    merge_is("{\"a\":\"b\",\"b\":\"c\"}", "{\"a\":null}", "{\"b\":\"c\"}",
             "delete one of two");
    merge_is("{\"a\":[\"b\"]}", "{\"a\":\"c\"}", "{\"a\":\"c\"}",
             "array replaced by string");
    merge_is("{\"a\":\"c\"}", "{\"a\":[\"b\"]}", "{\"a\":[\"b\"]}",
             "string replaced by array");
    merge_is("{\"a\":{\"b\":\"c\"}}", "{\"a\":{\"b\":\"d\",\"c\":null}}",
             "{\"a\":{\"b\":\"d\"}}", "nested replace and delete");
    merge_is("{\"a\":[{\"b\":\"c\"}]}", "{\"a\":[1]}", "{\"a\":[1]}",
             "arrays are replaced whole");
    merge_is("{\"e\":null}", "{\"a\":1}", "{\"e\":null,\"a\":1}",
             "existing nulls stay");
    merge_is("[1,2]", "{\"a\":\"b\",\"c\":null}", "{\"a\":\"b\"}",
             "a non-object target starts empty");
    merge_is("{}", "{\"a\":{\"bb\":{\"ccc\":null}}}", "{\"a\":{\"bb\":{}}}",
             "nulls inside a new nested object are dropped");
    /* more of the profile object's cases */
    merge_is("{\"a\":1}", "{}", "{\"a\":1}", "the empty patch changes nothing");
    merge_is("{\"a\":1}", "{\"zz\":null}", "{\"a\":1}",
             "deleting an absent member is a no-op");
    merge_is("{\"a\":\"x\"}", "{\"a\":{\"b\":1}}", "{\"a\":{\"b\":1}}",
             "an object replaces a scalar");
    merge_is("{\"p\":{\"x\":1,\"y\":{\"z\":2,\"w\":3}}}",
             "{\"p\":{\"y\":{\"w\":null,\"v\":[null]}}}",
             "{\"p\":{\"x\":1,\"y\":{\"z\":2,\"v\":[null]}}}",
             "two levels deep; nulls inside arrays are kept");
}

/* ==== envelopes ==== */

static void test_envelopes(void)
{
    aapi_json_t *data = aapi_json_object(p), *env;
    apr_array_header_t *errs = apr_array_make(p, 4, sizeof(aapi_field_error_t));
    aapi_field_error_t *e;

    aapi_json_set_str(data, "id", "u1");
    env = aapi_json_envelope_ok(p, "Login successful", data);
    ok(json_equal(env, any("{\"success\":true,\"message\":\"Login successful\","
                           "\"data\":{\"id\":\"u1\"}}")),
       "ok envelope: success, message, data");

    env = aapi_json_envelope_err(p, "Invalid token", "INVALID_TOKEN", NULL);
    ok(json_equal(env, any("{\"success\":false,\"message\":\"Invalid token\","
                           "\"error\":\"INVALID_TOKEN\"}")),
       "error envelope without errors has no 'errors' member");
    env = aapi_json_envelope_err(p, "Invalid token", "INVALID_TOKEN", errs);
    ok(!aapi_json_has(env, "errors"),
       "error envelope with an empty error list has no 'errors' member");

    e = apr_array_push(errs); e->field = "password"; e->msg = "must contain a digit";
    e = apr_array_push(errs); e->field = "email"; e->msg = "is required";
    e = apr_array_push(errs); e->field = "password";
    e->msg = "must contain an uppercase letter";
    env = aapi_json_envelope_err(p, "Password must contain a digit",
                                 "VALIDATION_FAILED", errs);
    ok(json_equal(env, any("{\"success\":false,"
                           "\"message\":\"Password must contain a digit\","
                           "\"error\":\"VALIDATION_FAILED\","
                           "\"errors\":{\"password\":[\"must contain a digit\","
                           "\"must contain an uppercase letter\"],"
                           "\"email\":[\"is required\"]}}")),
       "errors are grouped field -> list of messages, in order");
}

/* ==== the flat reader (token headers and claims) ==== */

/* Returns string member "s" of the flat object made of S (LEN bytes), or
 * NULL when the object is refused. */
static const char *flat_s(const char *s, size_t len)
{
    /* the reader works in place: on a copy, with a guard byte after it */
    char *buf = apr_pmemdup(p, s, len + 1);
    apr_array_header_t *m = aapi_json_flat_parse(p, buf, len);
    const aapi_flat_member_t *e = m ? aapi_flat_get(m, "s") : NULL;
    return e && e->type == AAPI_FLAT_STRING ? e->str : NULL;
}

#define FLAT_S(lit) flat_s(lit, sizeof(lit) - 1)

static void test_flat_strings(void)
{
    char big[1100];
    size_t i;

    is_str(FLAT_S("{\"s\":\"plain text\"}"), "plain text", "flat: a plain string");
    is_str(FLAT_S("{\"s\":\"\"}"), "", "flat: the empty string");
    is_str(FLAT_S("{\"s\":\"a\\\"b\"}"), "a\"b", "flat: an escaped quote");
    is_str(FLAT_S("{\"s\":\"a\\\\\"}"), "a\\", "flat: an escaped backslash at the end");
    is_str(FLAT_S("{\"s\":\"\\\\\\\"\"}"), "\\\"", "flat: a backslash, then a quote");
    is_str(FLAT_S("{\"s\":\"\\u00e9\\ud83d\\ude00\\/\\n\"}"),
           "\xc3\xa9\xf0\x9f\x98\x80/\n", "flat: \\u escapes, a surrogate pair, \\/ and \\n");
    is_str(FLAT_S("{\"s\":\"caf\xc3\xa9 \x7f\"}"), "caf\xc3\xa9 \x7f",
           "flat: UTF-8 and DEL pass as they are");
    ok(FLAT_S("{\"s\":\"a\nb\"}") == NULL, "flat: a raw newline is refused");
    ok(FLAT_S("{\"s\":\"a\x01\"}") == NULL, "flat: a raw control character is refused");
    ok(FLAT_S("{\"s\":\"\x1f\"}") == NULL, "flat: 0x1f is refused");
    ok(FLAT_S("{\"s\":\"abc}") == NULL, "flat: an unterminated string is refused");
    ok(FLAT_S("{\"s\":\"abc\\\"}") == NULL, "flat: an escaped closing quote leaves it open");
    ok(FLAT_S("{\"s\":\"abc\\") == NULL, "flat: a backslash at the very end is refused");
    ok(FLAT_S("{\"s\":\"\\x\"}") == NULL, "flat: an unknown escape is refused");
    ok(FLAT_S("{\"s\":\"\\u0000\"}") == NULL, "flat: \\u0000 is refused");
    ok(FLAT_S("{\"s\":\"\\ude00\"}") == NULL, "flat: a lone low surrogate is refused");
    ok(FLAT_S("{\"s\":\"\xff\"}") == NULL, "flat: invalid UTF-8 is refused");
    ok(flat_s("{\"s\":\"a\0b\"}", 10) == NULL, "flat: a NUL is refused");

    memcpy(big, "{\"s\":\"", 6);
    for (i = 6; i < 6 + 1000; i++) {
        big[i] = (char)('a' + i % 26);
    }
    memcpy(big + 1006, "\"}", 2);
    {
        const char *got = flat_s(big, 1008);
        ok(got && strlen(got) == 1000 && got[0] == 'g' && got[999] == big[1005],
           "flat: a 1000-character string");
    }
}

/* Returns the flat members of the text LIT (copied: the reader changes the
 * text it reads), or NULL. */
static apr_array_header_t *flat_of(const char *lit)
{
    size_t n = strlen(lit);
    return aapi_json_flat_parse(p, apr_pmemdup(p, lit, n + 1), n);
}

/* Reads {"n":TEXT}: returns -1 when the object is refused, else the type of
 * member "n", with its value in *V when it is an integer. */
static int flat_num(const char *text, apr_int64_t *v)
{
    apr_array_header_t *m = flat_of(apr_pstrcat(p, "{\"n\":", text, "}", NULL));
    const aapi_flat_member_t *e = m ? aapi_flat_get(m, "n") : NULL;

    if (!e) {
        return -1;
    }
    *v = e->type == AAPI_FLAT_INT ? e->num : 0;
    return (int)e->type;
}

/* Reads the N bytes at S with the flat reader from a buffer of exactly N
 * bytes (malloc'd, so that valgrind sees a read past its end); returns 1
 * when the object is accepted and, if WANT is not NULL, its member "s" is
 * the string WANT (WANT_LEN bytes), else 0. */
static int flat_exact(const char *s, size_t n, const char *want,
                      size_t want_len)
{
    char *buf = malloc(n ? n : 1);
    apr_array_header_t *m;
    const aapi_flat_member_t *e;
    int good;

    memcpy(buf, s, n);
    m = aapi_json_flat_parse(p, buf, n);
    e = m ? aapi_flat_get(m, "s") : NULL;
    good = m != NULL && (!want || (e && e->type == AAPI_FLAT_STRING
                                   && strlen(e->str) == want_len
                                   && memcmp(e->str, want, want_len) == 0));
    free(buf);
    return good;
}

#define FLAT_EXACT(lit) flat_exact(lit, sizeof(lit) - 1, NULL, 0)

/* The string reader passes over plain bytes four at a time and stops at the
 * others; a multi-byte UTF-8 sequence is checked once the string's end is
 * found, and only a string may hold one (as any byte outside ASCII, a NUL
 * anywhere else is a syntax error). */
static void test_flat_string_edges(void)
{
    /* what is put at each position of strings of 0 to 11 plain bytes */
    static const struct {
        const char *text, *read;    /* NULL: refused */
        const char *name;
    } at[] = {
        { "\\n", "\n", "an escape" },
        { "\\u00e9", "\xc3\xa9", "a \\u escape" },
        { "\\ud83d\\ude00", "\xf0\x9f\x98\x80", "a surrogate pair" },
        { "\xc3\xa9", "\xc3\xa9", "a 2-byte character" },
        { "\xf0\x9f\x98\x80", "\xf0\x9f\x98\x80", "a 4-byte character" },
        { "\x01", NULL, "a control character" },
        { "\xff", NULL, "the byte 0xff" },
        { "\xc0\xaf", NULL, "an overlong '/'" },
        { "\xe0\x80\xaf", NULL, "an overlong 3-byte '/'" },
        { "\xed\xa0\x80", NULL, "a UTF-8 surrogate" },
        { "\xc3", NULL, "a 2-byte character cut short" },
        { "\x80", NULL, "a lone continuation byte" },
        { "\\\xc3\xa9", NULL, "a backslash before a 2-byte character" },
    };
    static const char plain[] = "abcdefghijk";
    size_t i, len, k;
    int bad;
    char *text, *read;

    for (i = 0; i < sizeof(at) / sizeof(at[0]); i++) {
        bad = 0;
        for (len = 0; len < sizeof(plain); len++) {
            for (k = 0; k <= len; k++) {
                /* LEN plain bytes in all, K of them before it */
                text = apr_psprintf(p, "{\"s\":\"%.*s%s%.*s\"}", (int)k,
                                    plain, at[i].text, (int)(len - k),
                                    plain + k);
                read = at[i].read
                       ? apr_psprintf(p, "%.*s%s%.*s", (int)k, plain,
                                      at[i].read, (int)(len - k), plain + k)
                       : NULL;
                if (flat_exact(text, strlen(text), read,
                               read ? strlen(read) : 0) != (read != NULL)) {
                    bad = 1;
                    diag("%s at %d of %d", at[i].name, (int)k, (int)len);
                }
            }
        }
        ok(!bad, apr_psprintf(p, "flat: %s at every place of strings of 0 "
                              "to 11 bytes is %s", at[i].name,
                              at[i].read ? "read" : "refused"));
    }

    /* a text that ends inside a string, each byte one after the other */
    ok(!FLAT_EXACT("{\"s\":\"ab\\"), "flat: a text ending on a backslash");
    ok(!FLAT_EXACT("{\"s\":\"ab\\\""), "flat: a text ending on an escaped quote");
    ok(!FLAT_EXACT("{\"s\":\"ab\\u00e"), "flat: a text ending inside \\u");
    ok(!FLAT_EXACT("{\"s\":\"\\u00e\"}"), "flat: \\u with three digits");
    ok(!FLAT_EXACT("{\"s\":\"\\ud83d\\ude0\"}"),
       "flat: a low surrogate with three digits");
    ok(!FLAT_EXACT("{\"s\":\"ab\xc3"), "flat: a text ending inside a character");
    ok(!FLAT_EXACT("{\"s\":\"abcd"), "flat: a text ending after four plain bytes");
    ok(!FLAT_EXACT("{\"s\":\"abcdefgh"),
       "flat: a text ending after eight plain bytes");
    ok(FLAT_EXACT("{\"s\":\"abcd\"}"), "flat: a string ending the text but for '}'");

    /* surrogates */
    ok(flat_exact("{\"s\":\"\\uD83D\\uDE00\"}", 20, "\xf0\x9f\x98\x80", 4),
       "flat: a surrogate pair in upper case");
    ok(flat_exact("{\"s\":\"\\udbff\\udfff\"}", 20, "\xf4\x8f\xbf\xbf", 4),
       "flat: the last surrogate pair is U+10FFFF");
    ok(flat_exact("{\"s\":\"\\ud800\\udc00\"}", 20, "\xf0\x90\x80\x80", 4),
       "flat: the first surrogate pair is U+10000");
    ok(!FLAT_EXACT("{\"s\":\"\\ud83d\"}"), "flat: a high surrogate alone");
    ok(!FLAT_EXACT("{\"s\":\"\\ud83dx\\ude00\"}"),
       "flat: a high surrogate, a byte, then a low one");
    ok(!FLAT_EXACT("{\"s\":\"\\ud83d\\u0041\"}"),
       "flat: a high surrogate before a character that is not a low one");
    ok(!FLAT_EXACT("{\"s\":\"\\ud83d\\ud83d\"}"), "flat: two high surrogates");

    /* UTF-8 at the edges of its classes (RFC 3629 section 4) */
    ok(FLAT_EXACT("{\"s\":\"\xc2\x80\xdf\xbf\xe0\xa0\x80\xef\xbf\xbf"
                  "\xf0\x90\x80\x80\xf4\x8f\xbf\xbf\"}"),
       "flat: the first and last characters of each UTF-8 length");
    ok(!FLAT_EXACT("{\"s\":\"\xc1\xbf\"}"), "flat: an overlong 2-byte character");
    ok(!FLAT_EXACT("{\"s\":\"\xe0\x9f\xbf\"}"), "flat: an overlong 3-byte character");
    ok(!FLAT_EXACT("{\"s\":\"\xf0\x8f\xbf\xbf\"}"),
       "flat: an overlong 4-byte character");
    ok(!FLAT_EXACT("{\"s\":\"\xf4\x90\x80\x80\"}"), "flat: a character past U+10FFFF");
    ok(!FLAT_EXACT("{\"s\":\"\xf5\x80\x80\x80\"}"), "flat: the byte 0xf5");
    ok(!FLAT_EXACT("{\"s\":\"\xe2\x82\"}"), "flat: a 3-byte character cut by the quote");
    ok(!FLAT_EXACT("{\"\xff\":\"v\"}"), "flat: invalid UTF-8 in a name");
    ok(FLAT_EXACT("{\"caf\xc3\xa9\":\"v\"}"), "flat: UTF-8 in a name");
    ok(!FLAT_EXACT("{\"a\":[\"ok\",\"\xc0\xaf\"]}"),
       "flat: invalid UTF-8 in an array of strings");
    ok(!FLAT_EXACT("{\"a\":[\"ok\",1,\"\xc0\xaf\"]}"),
       "flat: invalid UTF-8 in a mixed array");
    ok(!FLAT_EXACT("{\"a\":{\"k\":\"\xc0\xaf\"}}"),
       "flat: invalid UTF-8 in a nested object");

    /* outside strings: a byte outside ASCII, or a NUL, is never JSON */
    ok(!FLAT_EXACT("{\"s\":\"v\"}\xc3\xa9"), "flat: UTF-8 after the object");
    ok(!FLAT_EXACT("\xef\xbb\xbf{\"s\":\"v\"}"), "flat: a byte order mark");
    ok(!FLAT_EXACT("{\"s\":\xc3\xa9}"), "flat: UTF-8 as a value");
    ok(!FLAT_EXACT("{\"s\":1\xc2\xa0}"), "flat: a no-break space after a number");
    ok(!FLAT_EXACT("{\"s\":\"v\"}\0"), "flat: a NUL after the object");
    ok(!FLAT_EXACT("\0{\"s\":\"v\"}"), "flat: a NUL before the object");
    ok(!FLAT_EXACT("{\0\"s\":\"v\"}"), "flat: a NUL before a name");
    ok(!FLAT_EXACT("{\"s\"\0:\"v\"}"), "flat: a NUL after a name");
    ok(!FLAT_EXACT("{\"s\":1\0}"), "flat: a NUL after a number");
    ok(!FLAT_EXACT("{\"s\":true\0}"), "flat: a NUL after a literal");
    ok(!FLAT_EXACT("{\"s\":[1\0]}"), "flat: a NUL in an array");
    ok(!FLAT_EXACT("{\"s\":\"a\0\"}"), "flat: a NUL in a string");
    ok(!FLAT_EXACT("{\"s\0\":\"a\"}"), "flat: a NUL in a name");

    /* unescaping from the first backslash: the bytes before it stay */
    {
        char text[] = "{\"s\":\"abcdefgh\\tij\\\\k\"}";
        apr_array_header_t *m = aapi_json_flat_parse(p, text, sizeof(text) - 1);
        const aapi_flat_member_t *e = m ? aapi_flat_get(m, "s") : NULL;
        ok(e && !strcmp(e->str, "abcdefgh\tij\\k") && e->str == text + 6,
           "flat in place: a string with escapes late in it");
    }
    {
        apr_array_header_t *m = flat_of("{\"a\":[\"abcdefgh\\tij\",\"\\u00e9t\\u00e9\"]}");
        const aapi_flat_member_t *e = m ? aapi_flat_get(m, "a") : NULL;
        ok(e && e->type == AAPI_FLAT_STRINGS && e->strs->nelts == 2
           && !strcmp(APR_ARRAY_IDX(e->strs, 0, const char *), "abcdefgh\tij")
           && !strcmp(APR_ARRAY_IDX(e->strs, 1, const char *),
                      "\xc3\xa9t\xc3\xa9"),
           "flat: copied strings with escapes late and early");
    }
}

/* Numbers: the claims' times (exp, nbf, iat) are read as integers; every
 * text JSON does not allow is refused, and an integer that does not fit in
 * 64 bits refuses the whole object, as jansson does. */
static void test_flat_numbers(void)
{
    static const struct { const char *text; apr_int64_t v; } ints[] = {
        { "0", 0 }, { "-0", 0 }, { "7", 7 }, { "-7", -7 },
        { "1768473000", 1768473000 },
        { "9223372036854775807", APR_INT64_MAX },
        { "-9223372036854775808", APR_INT64_MIN },
        /* 18 digits, and 19 below the bounds */
        { "999999999999999999", APR_INT64_C(999999999999999999) },
        { "-999999999999999999", -APR_INT64_C(999999999999999999) },
        { "1000000000000000000", APR_INT64_C(1000000000000000000) },
        { "1234567890123456789", APR_INT64_C(1234567890123456789) },
        { "9223372036854775806", APR_INT64_MAX - 1 },
        { "-9223372036854775807", -APR_INT64_MAX },
        { "8999999999999999999", APR_INT64_C(8999999999999999999) },
    };
    static const char *const reals[] = {
        "1.5", "-0.25", "1e3", "1E+3", "2e-1", "0.0", "10.5e2",
        "9223372036854775808.0", "-9223372036854775809e0",
        "99999999999999999999.5", "18446744073709551616E-1",
    };
    static const char *const bad[] = {
        "-", "+1", "01", "-01", ".5", "1.", "1e", "1e+", "1.e3", "0x10",
        "9223372036854775808", "-9223372036854775809",
        "99999999999999999999", "1 2", "1-", "--1", "Infinity", "NaN",
        "00", "-00", "0123456789012345678", "9223372036854775810",
        "9300000000000000000", "-9300000000000000000",
        /* 20 digits and more: 2^64 and 2^65 are 0 modulo 2^64 */
        "10000000000000000000", "18446744073709551615",
        "18446744073709551616", "-18446744073709551616",
        "36893488147419103232", "100000000000000000000",
    };
    apr_int64_t v;
    size_t i;
    char *huge;

    for (i = 0; i < sizeof(ints) / sizeof(ints[0]); i++) {
        v = 42;
        ok(flat_num(ints[i].text, &v) == AAPI_FLAT_INT && v == ints[i].v,
           apr_psprintf(p, "flat: %s is the integer %" APR_INT64_T_FMT,
                        ints[i].text, ints[i].v));
    }
    for (i = 0; i < sizeof(reals) / sizeof(reals[0]); i++) {
        ok(flat_num(reals[i], &v) == AAPI_FLAT_OTHER,
           apr_psprintf(p, "flat: %s is a number, not an integer", reals[i]));
    }
    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        ok(flat_num(bad[i], &v) == -1,
           apr_psprintf(p, "flat: %s is refused", bad[i]));
    }

    /* a thousand digits: an integer is refused, a real read as a number */
    huge = apr_palloc(p, 1004);
    memset(huge, '7', 1000);
    huge[1000] = '\0';
    ok(flat_num(huge, &v) == -1, "flat: an integer of 1000 digits is refused");
    memcpy(huge + 1000, ".5", 3);
    ok(flat_num(huge, &v) == AAPI_FLAT_OTHER,
       "flat: a real of 1000 digits is a number, not an integer");
}

/* Returns LEVELS arrays nested in one another around 1, as member "a". */
static const char *nested(int levels)
{
    char *open = apr_palloc(p, (size_t)levels + 1);
    char *close = apr_palloc(p, (size_t)levels + 1);

    memset(open, '[', (size_t)levels);
    open[levels] = '\0';
    memset(close, ']', (size_t)levels);
    close[levels] = '\0';
    return apr_pstrcat(p, "{\"a\":", open, "1", close, "}", NULL);
}

/* The object around the members: anything but one JSON object, and every
 * member count and depth past the reader's bounds, is refused. */
static void test_flat_structure(void)
{
    static const char *const bad[] = {
        "", " ", "[]", "\"s\"", "1", "null", "{", "}", "{\"s\":\"v\"",
        "{\"s\":\"v\",}", "{,}", "{\"s\" \"v\"}", "{\"s\":\"v\" \"t\":1}",
        "{\"s\":}", "{s:\"v\"}", "{'s':\"v\"}", "{\"s\":\"v\"} x",
        "{\"s\":\"v\"}{}", "{\"a\":[1,]}", "{\"a\":[,1]}", "{\"a\":[1 2]}",
        "{\"a\":{\"k\"}}", "{\"a\":{\"k\":1,}}", "{\"a\":[}", "{\"a\":tru}",
        "{\"a\":True}", "{\"a\":nul}", "{\"a\":falsey}", "{\"a\":undefined}",
    };
    apr_array_header_t *m;
    const aapi_flat_member_t *e;
    char *many;
    size_t i;

    m = flat_of("{}");
    ok(m && m->nelts == 0, "flat: the empty object");
    m = flat_of(" \t\r\n{ \"s\" :\n\"v\" , \"t\" : 1 }\n ");
    ok(m && m->nelts == 2 && !strcmp(aapi_flat_get(m, "s")->str, "v"),
       "flat: white space around every token");
    ok(FLAT_EXACT("\n{\r\"s\"\t:\"v\" ,\"t\":1\n}\t"),
       "flat: white space at both ends of a text of its exact size");
    ok(FLAT_EXACT("{ }") && FLAT_EXACT("{}"), "flat: the empty object, with "
       "and without white space");
    ok(!FLAT_EXACT("{\"s\":\"v\" ") && !FLAT_EXACT("{\"s\" ")
       && !FLAT_EXACT("{ ") && !FLAT_EXACT(" "),
       "flat: texts ending in white space where a token must follow");
    ok(!FLAT_EXACT("{\"s\":\"v\"\f}") && !FLAT_EXACT("{\"s\"\v:1}"),
       "flat: form feed and vertical tab are not JSON white space");
    m = flat_of("{\"t\":true,\"f\":false,\"n\":null}");
    e = m ? aapi_flat_get(m, "t") : NULL;
    ok(e && e->type == AAPI_FLAT_BOOL && e->boolean == 1, "flat: true");
    e = m ? aapi_flat_get(m, "f") : NULL;
    ok(e && e->type == AAPI_FLAT_BOOL && e->boolean == 0, "flat: false");
    e = m ? aapi_flat_get(m, "n") : NULL;
    ok(e && e->type == AAPI_FLAT_NULL, "flat: null");
    ok(m && !aapi_flat_get(m, "x"), "flat: a name that is not there");
    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        ok(flat_of(bad[i]) == NULL,
           apr_psprintf(p, "flat: '%s' is refused", bad[i]));
    }

    /* bounds: 64 members, 16 levels of nesting */
    many = apr_pstrdup(p, "{");
    for (i = 0; i < 64; i++) {
        many = apr_psprintf(p, "%s%s\"m%d\":%d", many, i ? "," : "", (int)i,
                            (int)i);
    }
    m = flat_of(apr_pstrcat(p, many, "}", NULL));
    ok(m && m->nelts == 64 && aapi_flat_get(m, "m63")->num == 63,
       "flat: 64 members are read");
    ok(flat_of(apr_pstrcat(p, many, ",\"m64\":64}", NULL)) == NULL,
       "flat: a 65th member is refused");
    m = flat_of(nested(16));
    ok(m && aapi_flat_get(m, "a")->type == AAPI_FLAT_OTHER,
       "flat: 16 levels of nesting are read");
    ok(flat_of(nested(17)) == NULL, "flat: 17 levels of nesting are refused");
    ok(flat_of(nested(100000)) == NULL,
       "flat: 100000 levels are refused (the reader's recursion is bounded)");
}

/* Duplicate names: a name is compared only with those of its bit (from its
 * length and first and last bytes); names that share one must still be
 * told apart, and a duplicate found however late it differs. */
static void test_flat_duplicates(void)
{
    static const char middle[] =
        "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz+-";
    apr_array_header_t *m;
    char *many;
    int i;

    ok(flat_of("{\"aXb\":1,\"aYb\":2,\"a\\u0058b\":3}") == NULL,
       "flat: a duplicate among names of one length, first and last byte");
    m = flat_of("{\"aXb\":1,\"aYb\":2,\"aZb\":3}");
    ok(m && m->nelts == 3 && aapi_flat_get(m, "aYb")->num == 2,
       "flat: names of one length, first and last byte that differ");
    ok(flat_of("{\"abcdefghijklmnop\":1,\"abcdefghijklmnop\":2}") == NULL,
       "flat: a long name twice");
    m = flat_of("{\"abcdefghijklmnop\":1,\"abcdefghXjklmnop\":2}");
    ok(m && m->nelts == 2, "flat: long names that differ in the middle");
    m = flat_of("{\"abcdefghijklmnop\":1,\"abcdefghijklmnoq\":2}");
    ok(m && m->nelts == 2, "flat: long names that differ in their last byte");
    ok(flat_of("{\"\":1,\"a\":2,\"\":3}") == NULL, "flat: the empty name twice");
    m = flat_of("{\"\":1,\"a\":2}");
    ok(m && m->nelts == 2 && aapi_flat_get(m, "")->num == 1,
       "flat: the empty name once");
    ok(flat_of("{\"\\u00e9\":1,\"\xc3\xa9\":2}") == NULL,
       "flat: a name escaped and the same name in UTF-8");
    ok(flat_of("{\"email\":1,\"email_verified\":true,\"email\":2}") == NULL,
       "flat: a duplicate after a name it is a prefix of");
    ok(flat_of("{\"iss\":\"a\",\"aud\":\"b\",\"sub\":\"c\",\"iat\":1,\"nbf\":1,"
               "\"exp\":1,\"jti\":\"d\",\"sid\":\"e\",\"role\":\"f\","
               "\"email\":\"g\",\"email_verified\":false,\"username\":\"h\","
               "\"sub\":\"i\"}") == NULL,
       "flat: a duplicate claim after all the others");

    /* 64 names of one bit, all different; then the same with the first
     * name again at the end, and with the last name twice */
    many = apr_pstrdup(p, "{");
    for (i = 0; i < 64; i++) {
        many = apr_psprintf(p, "%s%s\"a%cb\":%d", many, i ? "," : "",
                            middle[i], i);
    }
    m = flat_of(apr_pstrcat(p, many, "}", NULL));
    ok(m && m->nelts == 64 && aapi_flat_get(m, "a-b")->num == 63,
       "flat: 64 different names of one bit");
    many = apr_pstrdup(p, "{");
    for (i = 0; i < 63; i++) {
        many = apr_psprintf(p, "%s%s\"a%cb\":%d", many, i ? "," : "",
                            middle[i], i);
    }
    ok(flat_of(apr_pstrcat(p, many, ",\"a0b\":0}", NULL)) == NULL,
       "flat: the first of 63 names of one bit again as the 64th");
    ok(flat_of(apr_pstrcat(p, many, ",\"a+b\":0}", NULL)) == NULL,
       "flat: the last of 63 names of one bit again as the 64th");
}

/* The reader changes the text in place: names, nested objects and arrays
 * read twice must still come out right. */
static void test_flat_in_place(void)
{
    apr_array_header_t *m;
    const aapi_flat_member_t *e;
    char text[] = "{\"a\":\"x\\ny\",\"b\":\"plain\"}";
    const char *lit;

    m = aapi_json_flat_parse(p, text, sizeof(text) - 1);
    e = m ? aapi_flat_get(m, "a") : NULL;
    ok(e && !strcmp(e->str, "x\ny") && e->str >= text
       && e->str < text + sizeof(text),
       "flat in place: an escaped string is unescaped inside the text");
    e = m ? aapi_flat_get(m, "b") : NULL;
    ok(e && !strcmp(e->str, "plain") && e->str == text + 17,
       "flat in place: a plain string is the text itself, ended with a NUL");

    m = flat_of("{\"\\u0073\":\"v\",\"t\":1}");
    e = m ? aapi_flat_get(m, "s") : NULL;
    ok(e && !strcmp(e->str, "v"), "flat: an escaped name is unescaped");
    ok(flat_of("{\"s\":\"a\",\"\\u0073\":\"b\"}") == NULL,
       "flat: the same name once escaped and once plain is a duplicate");

    /* an array that starts with strings and turns out mixed is read again */
    lit = "{\"a\":[\"x\",\"y\\u0041\"],\"b\":[\"p\\n\",\"q\",1,\"r\"],"
          "\"s\":\"ok\"}";
    m = flat_of(lit);
    e = m ? aapi_flat_get(m, "a") : NULL;
    ok(e && e->type == AAPI_FLAT_STRINGS && e->strs->nelts == 2
       && !strcmp(APR_ARRAY_IDX(e->strs, 0, const char *), "x")
       && !strcmp(APR_ARRAY_IDX(e->strs, 1, const char *), "yA"),
       "flat: an array of strings is kept, its escapes read");
    e = m ? aapi_flat_get(m, "b") : NULL;
    ok(e && e->type == AAPI_FLAT_OTHER,
       "flat: an array with a number after escaped strings is checked, "
       "not kept");
    e = m ? aapi_flat_get(m, "s") : NULL;
    ok(e && !strcmp(e->str, "ok"), "flat: members after such an array are read");
    ok(flat_of("{\"b\":[\"p\",1,\"q\\x\"]}") == NULL,
       "flat: a bad escape after a number in an array is refused");

    /* nested objects: their names are checked for duplicates */
    ok(flat_of("{\"o\":{\"k\":1,\"k\":2}}") == NULL,
       "flat: a duplicate name inside a nested object is refused");
    ok(flat_of("{\"o\":{\"k\":1,\"\\u006b\":2}}") == NULL,
       "flat: a nested duplicate spelled with an escape is refused");
    m = flat_of("{\"o\":{\"k\":\"1\",\"j\":[\"2\"]},\"s\":\"v\"}");
    e = m ? aapi_flat_get(m, "s") : NULL;
    ok(e && !strcmp(e->str, "v") && aapi_flat_get(m, "o")->type == AAPI_FLAT_OTHER,
       "flat: a nested object is checked and skipped");
}

int main(void)
{
    p = tap_init();
    test_parse();
    test_getters();
    test_build();
    test_merge_patch();
    test_envelopes();
    test_flat_strings();
    test_flat_string_edges();
    test_flat_numbers();
    test_flat_structure();
    test_flat_duplicates();
    test_flat_in_place();
    return done();
}
