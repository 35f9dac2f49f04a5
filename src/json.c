/*
 * json.c - level 0: the only file that talks to jansson. Strict parsing with
 * limits, typed getters, the response envelopes; every value is released by
 * a cleanup on the pool that owns it.
 */
#include "aapi.h"
#include "json.h"
#include "util.h"

#include <jansson.h>
#include <string.h>

/* Pool cleanup: drops one reference of a jansson value. */
static apr_status_t json_decref_cleanup(void *data)
{
    json_decref((json_t *)data);
    return APR_SUCCESS;
}

/* Returns V after tying one of its references to pool P; NULL stays NULL. */
static json_t *owned(apr_pool_t *p, json_t *v)
{
    if (v) {
        apr_pool_cleanup_register(p, v, json_decref_cleanup,
                                  apr_pool_cleanup_null);
    }
    return v;
}

aapi_status_t aapi_json_parse_object(apr_pool_t *p, const char *buf,
                                     size_t len, aapi_json_t **out)
{
    json_error_t err;
    json_t *v;

    /* a raw NUL byte is never JSON, but jansson skips one that follows a
     * number or a literal; it refuses invalid UTF-8 and \u0000 itself */
    if (memchr(buf, '\0', len)) {
        return AAPI_INVALID_JSON;
    }
    v = json_loadb(buf, len, JSON_REJECT_DUPLICATES, &err);
    if (!v) {
        return AAPI_INVALID_JSON;
    }
    owned(p, v);
    if (!json_is_object(v)) {
        return AAPI_INVALID_JSON;
    }
    *out = v;
    return AAPI_OK;
}

aapi_json_t *aapi_json_object(apr_pool_t *p)
{
    return owned(p, json_object());
}

aapi_json_t *aapi_json_array(apr_pool_t *p)
{
    return owned(p, json_array());
}

int aapi_json_set_str(aapi_json_t *obj, const char *key, const char *val)
{
    json_t *v = val ? json_string(val) : json_null();
    return v ? json_object_set_new(obj, key, v) : -1;
}

int aapi_json_set_int(aapi_json_t *obj, const char *key, apr_int64_t val)
{
    return json_object_set_new(obj, key, json_integer((json_int_t)val));
}

int aapi_json_set_bool(aapi_json_t *obj, const char *key, int val)
{
    return json_object_set_new(obj, key, json_boolean(val));
}

int aapi_json_set(aapi_json_t *obj, const char *key, aapi_json_t *val)
{
    return json_object_set(obj, key, val ? val : json_null());
}


int aapi_json_append(aapi_json_t *arr, aapi_json_t *val)
{
    return json_array_append(arr, val);
}

aapi_json_t *aapi_json_get(aapi_json_t *obj, const char *key)
{
    return json_is_object(obj) ? json_object_get(obj, key) : NULL;
}

int aapi_json_has(aapi_json_t *obj, const char *key)
{
    return aapi_json_get(obj, key) != NULL;
}

int aapi_json_get_str(aapi_json_t *obj, const char *key, const char *alias,
                      const char **out)
{
    json_t *v = aapi_json_get(obj, key);

    if ((!v || json_is_null(v)) && alias) {
        v = aapi_json_get(obj, alias);
    }
    if (!v || json_is_null(v)) {
        return 0;
    }
    if (!json_is_string(v)) {
        return -1;
    }
    *out = json_string_value(v);
    return 1;
}



int aapi_json_is_object(aapi_json_t *v)
{
    return json_is_object(v);
}

int aapi_json_is_null(aapi_json_t *v)
{
    return json_is_null(v);
}

const char *aapi_json_string_value(aapi_json_t *v)
{
    return json_is_string(v) ? json_string_value(v) : NULL;
}



char *aapi_json_dump(apr_pool_t *p, aapi_json_t *v)
{
    const size_t flags = JSON_COMPACT | JSON_ENCODE_ANY;
    size_t n = json_dumpb(v, NULL, 0, flags);
    char *out;

    if (n == 0) {
        return NULL;
    }
    out = apr_palloc(p, n + 1);
    if (json_dumpb(v, out, n, flags) != n) {
        return NULL;
    }
    out[n] = '\0';
    return out;
}

aapi_json_t *aapi_json_merge_patch(apr_pool_t *p, aapi_json_t *target,
                                   aapi_json_t *patch)
{
    json_t *result = owned(p, json_is_object(target) ? json_deep_copy(target)
                                                    : json_object());
    const char *key;
    json_t *val;

    if (!result) {
        return NULL;
    }
    json_object_foreach(patch, key, val) {
        if (json_is_null(val)) {
            json_object_del(result, key);
        }
        else if (json_is_object(val)) {
            json_t *merged = aapi_json_merge_patch(p, json_object_get(result, key),
                                                   val);
            if (!merged) {
                return NULL;
            }
            json_object_set(result, key, merged);
        }
        else {
            json_object_set(result, key, val);
        }
    }
    return result;
}

aapi_json_t *aapi_json_envelope_ok(apr_pool_t *p, const char *message,
                                   aapi_json_t *data)
{
    json_t *env = aapi_json_object(p);

    json_object_set_new(env, "success", json_true());
    aapi_json_set_str(env, "message", message);
    /* "data" is always an object, empty when there is nothing to say */
    if (data) {
        json_object_set(env, "data", data);
    }
    else {
        json_object_set_new(env, "data", json_object());
    }
    return env;
}

aapi_json_t *aapi_json_envelope_err(apr_pool_t *p, const char *message,
                                    const char *code,
                                    const apr_array_header_t *errs)
{
    json_t *env = aapi_json_object(p);

    json_object_set_new(env, "success", json_false());
    aapi_json_set_str(env, "message", message);
    aapi_json_set_str(env, "error", code);
    if (errs && errs->nelts > 0) {
        json_t *map = json_object();
        int i;

        for (i = 0; i < errs->nelts; i++) {
            const aapi_field_error_t *e =
                &APR_ARRAY_IDX(errs, i, aapi_field_error_t);
            json_t *list = json_object_get(map, e->field);
            if (!list) {
                list = json_array();
                json_object_set_new(map, e->field, list);
            }
            json_array_append_new(list, json_string(e->msg));
        }
        json_object_set_new(env, "errors", map);
    }
    return env;
}

/* ==== flat objects ==== */

#define FLAT_MAX_MEMBERS 64
#define FLAT_MAX_DEPTH   16

typedef struct {
    apr_pool_t *p;
    char *s, *end;            /* the cursor and the end of the text */
    int copy;                 /* 1: strings are copied, the text stays */
    size_t len;               /* the length of the string read last */
} flat_t;

/* Skips white space. */
static void flat_ws(flat_t *f)
{
    while (f->s < f->end && (*f->s == ' ' || *f->s == '\t' || *f->s == '\n'
                             || *f->s == '\r')) {
        f->s++;
    }
}

/* Skips white space and then the byte C; returns 1, or 0 when the next
 * byte is not C. The byte is looked at first: compact JSON has no white
 * space. */
static APR_INLINE int flat_skip(flat_t *f, char c)
{
    if (f->s < f->end && *f->s == c) {
        f->s++;
        return 1;
    }
    flat_ws(f);
    if (f->s < f->end && *f->s == c) {
        f->s++;
        return 1;
    }
    return 0;
}

/* Returns the value of hex digit C, or -1. */
static int hexval(char c)
{
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

/* Reads 4 hex digits at S into *CP; returns 0, or -1. */
static int hex4(const char *s, unsigned int *cp)
{
    int i, v;
    *cp = 0;
    for (i = 0; i < 4; i++) {
        if ((v = hexval(s[i])) < 0) {
            return -1;
        }
        *cp = (*cp << 4) | (unsigned int)v;
    }
    return 0;
}

/* Appends code point CP as UTF-8 at *O. */
static void put_utf8(char **o, unsigned int cp)
{
    char *d = *o;
    if (cp < 0x80) {
        *d++ = (char)cp;
    }
    else if (cp < 0x800) {
        *d++ = (char)(0xc0 | (cp >> 6));
        *d++ = (char)(0x80 | (cp & 0x3f));
    }
    else if (cp < 0x10000) {
        *d++ = (char)(0xe0 | (cp >> 12));
        *d++ = (char)(0x80 | ((cp >> 6) & 0x3f));
        *d++ = (char)(0x80 | (cp & 0x3f));
    }
    else {
        *d++ = (char)(0xf0 | (cp >> 18));
        *d++ = (char)(0x80 | ((cp >> 12) & 0x3f));
        *d++ = (char)(0x80 | ((cp >> 6) & 0x3f));
        *d++ = (char)(0x80 | (cp & 0x3f));
    }
    *o = d;
}

/* 1 for the bytes that end a run of plain characters in a JSON string:
 * the quote, the backslash, the control characters, and the bytes of
 * multi-byte UTF-8 sequences (checked once the string's end is found). */
static const unsigned char str_special[256] = {
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
    ['"'] = 1, ['\\'] = 1, [0x80 ... 0xff] = 1
};

/* Unescapes the string whose text is [START, END), with its first backslash
 * at ESC; returns it (its length in F->len), or NULL when an escape is not
 * valid. In place unless F->copy (see flat_string); what comes before ESC
 * stays where it is, or is copied once. */
static char *flat_unescape(flat_t *f, char *start, char *esc, char *end)
{
    char *out, *o, *s;

    if (f->copy) {
        out = apr_palloc(f->p, (apr_size_t)(end - start) + 1);
        memcpy(out, start, (size_t)(esc - start));
    }
    else {
        out = start;
    }
    o = out + (esc - start);
    for (s = esc; s < end; ) {
        unsigned int cp, lo;
        if (*s != '\\') {
            *o++ = *s++;
            continue;
        }
        s++;
        switch (*s++) {
        case '"': *o++ = '"'; break;
        case '\\': *o++ = '\\'; break;
        case '/': *o++ = '/'; break;
        case 'b': *o++ = '\b'; break;
        case 'f': *o++ = '\f'; break;
        case 'n': *o++ = '\n'; break;
        case 'r': *o++ = '\r'; break;
        case 't': *o++ = '\t'; break;
        case 'u':
            if (end - s < 4 || hex4(s, &cp) != 0 || cp == 0) {
                return NULL;
            }
            s += 4;
            if (cp >= 0xd800 && cp <= 0xdbff) {
                if (end - s < 6 || s[0] != '\\' || s[1] != 'u'
                    || hex4(s + 2, &lo) != 0 || lo < 0xdc00 || lo > 0xdfff) {
                    return NULL;
                }
                s += 6;
                cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
            }
            else if (cp >= 0xdc00 && cp <= 0xdfff) {
                return NULL;
            }
            put_utf8(&o, cp);
            break;
        default:
            return NULL;
        }
    }
    *o = '\0';
    f->len = (size_t)(o - out);
    return out;
}

/* Reads a string at the cursor (on its opening quote); returns it unescaped,
 * or NULL, and sets F->len to its length. In place unless F->copy: the
 * string is unescaped where it stands (never longer than its text) and
 * ended with a NUL where its closing quote was; else it is copied from the
 * pool and the text is left as it is.
 *
 * Only a string may hold bytes outside ASCII (anywhere else such a byte,
 * and a NUL, is a syntax error), so the UTF-8 check is made here, and only
 * on a string that has such bytes. */
static const char *flat_string(flat_t *f)
{
    const unsigned char *end = (const unsigned char *)f->end;
    const unsigned char *c, *esc = NULL;
    char *start;
    int utf8 = 0;

    if (f->s >= f->end || *f->s != '"') {
        return NULL;
    }
    start = f->s + 1;
    c = (const unsigned char *)start;
    for (;;) {
        /* a run of plain bytes: four look-ups a step while four bytes are
         * left, then one a step */
        while (end - c >= 4 && !(str_special[c[0]] | str_special[c[1]]
                                 | str_special[c[2]] | str_special[c[3]])) {
            c += 4;
        }
        while (c < end && !str_special[*c]) {
            c++;
        }
        if (c >= end) {
            return NULL;
        }
        if (*c == '"') {
            break;
        }
        if (*c == '\\') {
            /* the escaped byte is passed over (an escaped quote does not
             * end the string) and read when the string is unescaped */
            if (!esc) {
                esc = c;
            }
            if (end - c < 2) {
                return NULL;
            }
            c += 2;
        }
        else if (*c >= 0x80) {
            utf8 = 1;
            c++;
        }
        else {
            return NULL;            /* a control character */
        }
    }
    /* the raw text, escapes and all: an escape is ASCII, so it can neither
     * hide nor split a multi-byte sequence */
    if (utf8 && !aapi_utf8_valid(start, (size_t)((const char *)c - start))) {
        return NULL;
    }
    f->s = (char *)c + 1;
    if (esc) {
        return flat_unescape(f, start, (char *)esc, (char *)c);
    }
    f->len = (size_t)((const char *)c - start);
    if (f->copy) {
        return apr_pstrmemdup(f->p, start, f->len);
    }
    *(char *)c = '\0';
    return start;
}

/* Reads a number; sets *IS_INT and *V when it is an integer that fits.
 * Returns 0, or -1 when it is not a JSON number. */
static int flat_number(flat_t *f, int *is_int, apr_int64_t *v)
{
    const char *s = f->s, *end = f->end, *digits;
    apr_uint64_t acc = 0;
    size_t n;
    int neg = 0;

    *is_int = 1;
    if (s < end && *s == '-') {
        neg = 1;
        s++;
    }
    /* the integer part, accumulated as it is read: ACC is exact up to 19
     * digits (below 10^19 < 2^64) and only ever used that far; past that
     * it may wrap, which unsigned arithmetic allows */
    digits = s;
    while (s < end && *s >= '0' && *s <= '9') {
        acc = acc * 10 + (apr_uint64_t)(*s - '0');
        s++;
    }
    n = (size_t)(s - digits);
    if (n == 0 || (n > 1 && *digits == '0')) {
        return -1;
    }
    if (s < end && *s == '.') {
        *is_int = 0;
        s++;
        if (s >= end || *s < '0' || *s > '9') return -1;
        while (s < end && *s >= '0' && *s <= '9') s++;
    }
    if (s < end && (*s == 'e' || *s == 'E')) {
        *is_int = 0;
        s++;
        if (s < end && (*s == '+' || *s == '-')) s++;
        if (s >= end || *s < '0' || *s > '9') return -1;
        while (s < end && *s >= '0' && *s <= '9') s++;
    }
    f->s = (char *)s;
    if (*is_int) {
        /* integers outside 64 bits are refused, as jansson does: up to 18
         * digits always fit, 20 never; 19 fit up to 2^63 - 1, or 2^63 for
         * a negative one, and digit strings of one length compare as
         * their values do */
        if (n > 19 || (n == 19 && memcmp(digits, neg ? "9223372036854775808"
                                                      : "9223372036854775807",
                                         19) > 0)) {
            return -1;
        }
        *v = neg ? (apr_int64_t)(0 - acc) : (apr_int64_t)acc;
    }
    return 0;
}

/* Reads the literal WORD; returns 0 or -1. */
static int flat_literal(flat_t *f, const char *word, size_t n)
{
    if ((size_t)(f->end - f->s) < n || memcmp(f->s, word, n) != 0) {
        return -1;
    }
    f->s += n;
    return 0;
}

static int flat_skip_value(flat_t *f, int depth);

/* Skips an object or array at the cursor, validating it; returns 0 or -1.
 * Nested objects are checked for duplicate names too. */
static int flat_skip_container(flat_t *f, int depth)
{
    char open = *f->s, close = open == '{' ? '}' : ']';
    apr_array_header_t *names = NULL;
    int first = 1;

    if (depth > FLAT_MAX_DEPTH) {
        return -1;
    }
    f->s++;
    for (;;) {
        flat_ws(f);
        if (f->s < f->end && *f->s == close && first) {
            f->s++;
            return 0;
        }
        if (open == '{') {
            const char *name = flat_string(f);
            int i;
            if (!name) {
                return -1;
            }
            if (!names) {
                names = apr_array_make(f->p, 4, sizeof(const char *));
            }
            for (i = 0; i < names->nelts; i++) {
                if (!strcmp(APR_ARRAY_IDX(names, i, const char *), name)) {
                    return -1;
                }
            }
            APR_ARRAY_PUSH(names, const char *) = name;
            flat_ws(f);
            if (f->s >= f->end || *f->s++ != ':') {
                return -1;
            }
        }
        if (flat_skip_value(f, depth + 1) != 0) {
            return -1;
        }
        first = 0;
        flat_ws(f);
        if (f->s < f->end && *f->s == ',') {
            f->s++;
            continue;
        }
        if (f->s < f->end && *f->s == close) {
            f->s++;
            return 0;
        }
        return -1;
    }
}

static int flat_skip_value(flat_t *f, int depth)
{
    int is_int;
    apr_int64_t v;

    flat_ws(f);
    if (f->s >= f->end) {
        return -1;
    }
    switch (*f->s) {
    case '{': case '[': return flat_skip_container(f, depth);
    case '"': return flat_string(f) ? 0 : -1;
    case 't': return flat_literal(f, "true", 4);
    case 'f': return flat_literal(f, "false", 5);
    case 'n': return flat_literal(f, "null", 4);
    default:  return flat_number(f, &is_int, &v);
    }
}

/* Reads an array of strings at the cursor (on its '[') into STRS; returns
 * 0, -1 when it is not valid, or 1 when an element is not a string. */
static int flat_string_array(flat_t *f, apr_array_header_t *strs)
{
    f->s++;
    flat_ws(f);
    if (f->s < f->end && *f->s == ']') {
        f->s++;
        return 0;
    }
    for (;;) {
        const char *str;
        flat_ws(f);
        if (f->s >= f->end || *f->s != '"' || !(str = flat_string(f))) {
            return 1;
        }
        APR_ARRAY_PUSH(strs, const char *) = str;
        flat_ws(f);
        if (f->s < f->end && *f->s == ',') {
            f->s++;
            continue;
        }
        if (f->s < f->end && *f->s == ']') {
            f->s++;
            return 0;
        }
        return -1;
    }
}

/* Reads one member value into M; returns 0 or -1. */
static int flat_value(flat_t *f, aapi_flat_member_t *m)
{
    char *at;
    int is_int, copy, st;

    flat_ws(f);
    if (f->s >= f->end) {
        return -1;
    }
    switch (*f->s) {
    case '"':
        m->type = AAPI_FLAT_STRING;
        return (m->str = flat_string(f)) ? 0 : -1;
    case 't':
        m->type = AAPI_FLAT_BOOL;
        m->boolean = 1;
        return flat_literal(f, "true", 4);
    case 'f':
        m->type = AAPI_FLAT_BOOL;
        return flat_literal(f, "false", 5);
    case 'n':
        m->type = AAPI_FLAT_NULL;
        return flat_literal(f, "null", 4);
    case '[':
        /* an array of strings is kept; any other array is only checked.
         * Its strings are copied: the text is read again when it turns
         * out not to be all strings. */
        at = f->s;
        m->type = AAPI_FLAT_STRINGS;
        m->strs = apr_array_make(f->p, 2, sizeof(const char *));
        copy = f->copy;
        f->copy = 1;
        st = flat_string_array(f, m->strs);
        f->copy = copy;
        if (st <= 0) {
            return st;
        }
        f->s = at;
        m->type = AAPI_FLAT_OTHER;
        m->strs = NULL;
        return flat_skip_container(f, 1);
    case '{':
        m->type = AAPI_FLAT_OTHER;
        return flat_skip_container(f, 1);
    default:
        if (flat_number(f, &is_int, &m->num) != 0) {
            return -1;
        }
        m->type = is_int ? AAPI_FLAT_INT : AAPI_FLAT_OTHER;
        return 0;
    }
}

/* Returns one bit of 64 for member name NAME (LEN bytes), from its length
 * and its first and last bytes: two names of different bits differ, so a
 * new name needs comparing only with those of its bit. (The names of the
 * claims this module writes have twelve different bits.) */
static apr_uint64_t name_bit(const char *name, size_t len)
{
    unsigned int h = 0;

    if (len > 0) {
        h = (unsigned int)(unsigned char)name[0] * 3
            + (unsigned char)name[len - 1] + (unsigned int)len;
    }
    return APR_UINT64_C(1) << (h & 63);
}

apr_array_header_t *aapi_json_flat_parse(apr_pool_t *p, char *buf,
                                         size_t len)
{
    flat_t f;
    apr_array_header_t *members;
    apr_uint64_t seen = 0, bit;   /* the name_bit of each name read */
    int i;

    /* no check of the whole text for NUL and UTF-8 first: outside a string
     * such a byte is a syntax error anyway, and flat_string checks its own */
    f.p = p;
    f.copy = 0;
    f.s = buf;
    f.end = buf + len;
    members = apr_array_make(p, 16, sizeof(aapi_flat_member_t));
    if (!flat_skip(&f, '{')) {
        return NULL;
    }
    if (!flat_skip(&f, '}')) {
        for (;;) {
            aapi_flat_member_t *m;
            const char *name;

            flat_ws(&f);
            if (!(name = flat_string(&f)) || members->nelts >= FLAT_MAX_MEMBERS) {
                return NULL;
            }
            bit = name_bit(name, f.len);
            if (seen & bit) {
                for (i = 0; i < members->nelts; i++) {
                    if (!strcmp(APR_ARRAY_IDX(members, i,
                                              aapi_flat_member_t).name, name)) {
                        return NULL;
                    }
                }
            }
            seen |= bit;
            m = apr_array_push(members);
            memset(m, 0, sizeof(*m));
            m->name = name;
            if (!flat_skip(&f, ':') || flat_value(&f, m) != 0) {
                return NULL;
            }
            if (flat_skip(&f, ',')) {
                continue;
            }
            if (flat_skip(&f, '}')) {
                break;
            }
            return NULL;
        }
    }
    flat_ws(&f);
    return f.s == f.end ? members : NULL;
}

const aapi_flat_member_t *aapi_flat_get(const apr_array_header_t *m,
                                        const char *name)
{
    int i;

    for (i = 0; i < m->nelts; i++) {
        const aapi_flat_member_t *e = &APR_ARRAY_IDX(m, i, aapi_flat_member_t);
        if (e->name[0] == name[0] && !strcmp(e->name, name)) {
            return e;
        }
    }
    return NULL;
}
