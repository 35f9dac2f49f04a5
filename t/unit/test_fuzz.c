/*
 * test_fuzz.c - a bounded, deterministic fuzz test of the code that reads
 * what a client sends: base64url and the UTF-8 checks (src/util.c), the
 * flat reader of token headers and claims and the JSON body reader
 * (src/json.c), token verification (src/jwt.c), the table of verified
 * tokens (src/tokcache.c) and the field rules (src/validate.c).
 *
 * Each target starts from seeds made with the module's own functions
 * (signed tokens, claims JSON, base64url of random bytes, UTF-8 text) and
 * mutates them with a generator of fixed seed: bit flips, boundary bytes,
 * runs inserted and deleted, splices of two seeds, truncation, repeated
 * segments, digit runs, whole numbers and words replaced, spans wrapped
 * in brackets or quotes, texts of a dictionary, and lengths at and past
 * the readers' own bounds.
 * Every input is checked against what the headers promise, not only for
 * not crashing: often against a second, simpler implementation written
 * here (a UTF-8 check, a base64url check, the address rules) or against
 * jansson, which the flat reader promises to be as strict as.
 *
 * run.sh builds this file with AddressSanitizer and UndefinedBehavior-
 * Sanitizer. Pool memory is handed out in pieces of larger blocks, which
 * AddressSanitizer sees as one: so each input is copied between fences
 * poisoned by hand, and reading or writing one byte outside it stops the
 * test. (What the code under test allocates from the pool itself is not
 * fenced.)
 *
 * The run is bounded twice: a fixed number of inputs per target, and a
 * budget of wall-clock time for the whole file, shared out among the
 * targets still to run. A broken invariant is reported with the first
 * input that broke it, shrunk (by removing runs of bytes) to a small one.
 *
 *   FUZZ_SEED=n   another sequence of inputs (the default is fixed)
 *   FUZZ_SCALE=n  n times the inputs and the time budget (a longer run)
 */
#include "aapi.h"
#include "json.h"
#include "jwt.h"
#include "keys.h"
#include "tokcache.h"
#include "util.h"
#include "validate.h"
#include "tap.h"

#include "apr_lib.h"
#include "apr_time.h"

#include <jansson.h>
#include <string.h>
#include <strings.h>

#ifdef __SANITIZE_ADDRESS__
#include <sanitizer/asan_interface.h>
#define SANITIZED 1
#else
#define SANITIZED 0
#define ASAN_POISON_MEMORY_REGION(a, n)   ((void)(a), (void)(n))
#define ASAN_UNPOISON_MEMORY_REGION(a, n) ((void)(a), (void)(n))
#endif

static apr_pool_t *p;

/* The seconds the whole file may take at FUZZ_SCALE=1; each target gets
 * a share of what is left when it starts. */
#define BUDGET_SECONDS 15

/* Attempts, and seconds, spent shrinking one failing input. */
#define SHRINK_TRIES   4000
#define SHRINK_SECONDS 1

static apr_uint64_t fuzz_seed = APR_UINT64_C(0x5eed0fa11c0ffee5);
static int scale = 1;

/* ==== the generator ==== */

static apr_uint64_t rng;

/* Returns the next 64 bits of splitmix64: the same sequence for the same
 * seed on every machine. */
static apr_uint64_t rnd(void)
{
    apr_uint64_t z = (rng += APR_UINT64_C(0x9e3779b97f4a7c15));

    z = (z ^ (z >> 30)) * APR_UINT64_C(0xbf58476d1ce4e5b9);
    z = (z ^ (z >> 27)) * APR_UINT64_C(0x94d049bb133111eb);
    return z ^ (z >> 31);
}

/* Returns a number in [0, N), or 0 when N is 0. */
static size_t below(size_t n)
{
    return n ? (size_t)(rnd() % n) : 0;
}

/* Returns 1 once in N times. */
static int one_in(size_t n)
{
    return below(n) == 0;
}

/* Starts the sequence of NAME: each target and each set of seeds has its
 * own, so that one cut short by the time budget changes no other. */
static void rng_start(const char *name)
{
    apr_uint64_t h = APR_UINT64_C(1469598103934665603);   /* FNV-1a */
    const unsigned char *c;

    for (c = (const unsigned char *)name; *c; c++) {
        h = (h ^ *c) * APR_UINT64_C(1099511628211);
    }
    rng = fuzz_seed ^ h;
}

/* ==== inputs between poisoned fences ==== */

#define FENCE 64

typedef struct {
    unsigned char *base, *data;
    size_t total;
} fenced_t;

/* Returns ROOM bytes from P (the first LEN of them copied from IN) with a
 * poisoned fence before and after; call unfence() before P is cleared.
 * The pool aligns BASE to 8 bytes, so the fence before is whole granules
 * of AddressSanitizer's shadow, and the one after starts right at the end
 * of the room, even inside a granule. */
static unsigned char *fence(apr_pool_t *pool, fenced_t *f, const void *in,
                            size_t len, size_t room)
{
    size_t body = (room + 7) & ~(size_t)7;

    f->total = FENCE + body + FENCE;
    f->base = apr_palloc(pool, f->total);
    f->data = f->base + FENCE;
    if (len) {
        memcpy(f->data, in, len);
    }
    ASAN_POISON_MEMORY_REGION(f->base, FENCE);
    ASAN_POISON_MEMORY_REGION(f->data + room, f->total - FENCE - room);
    return f->data;
}

/* Returns a NUL-terminated fenced copy of IN up to its first NUL (as a
 * string from a JSON body would be), its length in *N. */
static char *fence_str(apr_pool_t *pool, fenced_t *f, const unsigned char *in,
                       size_t len, size_t *n)
{
    const unsigned char *nul = memchr(in, '\0', len);
    char *s;

    *n = nul ? (size_t)(nul - in) : len;
    s = (char *)fence(pool, f, in, *n, *n + 1);
    s[*n] = '\0';
    return s;
}

static void unfence(fenced_t *f)
{
    ASAN_UNPOISON_MEMORY_REGION(f->base, f->total);
}

/* ==== targets, seeds, mutation ==== */

typedef struct {
    unsigned char *b;
    size_t len;
} blob_t;

/* A check runs one input through the code under test and returns the set
 * of invariants (bits) it broke; it uses no randomness, so that a failing
 * input can be run again while it is shrunk. */
typedef unsigned (*check_fn)(apr_pool_t *pool, const unsigned char *in,
                             size_t len);

typedef struct {
    const char *name;
    check_fn check;
    const char *const *inv;      /* what each bit of the result means */
    int ninv;
    int iters;                   /* inputs at FUZZ_SCALE=1, seeds included */
    size_t cap;                  /* the longest input made */
    const char *const *dict;     /* texts the mutator inserts; NULL-ended */
    const size_t *bounds;        /* lengths worth landing on */
    int nbounds;
    int jwt_hist;                /* the histogram counts jwt.h's codes */
    apr_array_header_t *seeds;   /* of blob_t */
} target_t;

/* What the current target's check counts while the target runs (not
 * while a failure is shrunk): jwt.h's codes, or refused (0) and accepted
 * (1); and the inputs jansson could not judge. */
static unsigned long hist[16];
static unsigned long undecided;
static int counting;

static void count(unsigned i)
{
    if (counting && i < 16) {
        hist[i]++;
    }
}

static apr_array_header_t *new_seeds(void)
{
    return apr_array_make(p, 32, sizeof(blob_t));
}

static void add_seed(apr_array_header_t *a, const void *b, size_t n)
{
    blob_t *s = apr_array_push(a);

    s->b = apr_palloc(p, n + 1);
    if (n) {
        memcpy(s->b, b, n);
    }
    s->b[n] = '\0';
    s->len = n;
}

static void add_str(apr_array_header_t *a, const char *s)
{
    add_seed(a, s, strlen(s));
}

/* The bytes a mutation writes most: structure of JSON and tokens, and
 * the edges of ASCII and of each UTF-8 byte class. */
static const unsigned char boundary[] = {
    0x00, 0x01, 0x08, 0x09, 0x0a, 0x0d, 0x1f, 0x20, '"', '\\', '/', 0x7f,
    0x80, 0x9f, 0xa0, 0xbf, 0xc0, 0xc1, 0xc2, 0xdf, 0xe0, 0xed, 0xef, 0xf0,
    0xf4, 0xf5, 0xff, '.', '{', '}', '[', ']', ':', ',', '-', '_', '+', '=',
    '0', '9', 'e', 'u', 'A', 'z', '@'
};

/* Lengths of the long runs: around powers of two and the bounds of the
 * code under test (names, labels, header and token lengths). */
static const size_t long_runs[] = {
    15, 16, 17, 20, 21, 63, 64, 65, 100, 101, 127, 128, 129, 253, 254, 255,
    1023, 1024, 1025, 1365, 1369, 1370, 4096, 6084, 8191, 8192, 8193
};

typedef struct {
    unsigned char *b, *tmp;
    size_t len, cap;
} mbuf_t;

/* Opens a gap of N bytes at *AT (clamped to the end), as many as fit;
 * returns how many. */
static size_t m_gap(mbuf_t *m, size_t *at, size_t n)
{
    if (*at > m->len) {
        *at = m->len;
    }
    if (n > m->cap - m->len) {
        n = m->cap - m->len;
    }
    memmove(m->b + *at + n, m->b + *at, m->len - *at);
    m->len += n;
    return n;
}

/* Inserts N bytes of SRC (not inside M) at AT, as many as fit. */
static void m_insert(mbuf_t *m, size_t at, const unsigned char *src, size_t n)
{
    n = m_gap(m, &at, n);
    memcpy(m->b + at, src, n);
}

/* Inserts N copies of BYTE at AT, as many as fit. */
static void m_fill(mbuf_t *m, size_t at, unsigned char byte, size_t n)
{
    n = m_gap(m, &at, n);
    memset(m->b + at, byte, n);
}

static void m_delete(mbuf_t *m, size_t at, size_t n)
{
    if (at >= m->len) {
        return;
    }
    if (n > m->len - at) {
        n = m->len - at;
    }
    memmove(m->b + at, m->b + at + n, m->len - at - n);
    m->len -= n;
}

/* Returns a boundary byte, or (as often) a byte already in M, which keeps
 * a text within its alphabet. */
static unsigned char pick_byte(const mbuf_t *m)
{
    if (m->len && one_in(2)) {
        return m->b[below(m->len)];
    }
    return boundary[below(sizeof(boundary))];
}

/* Returns 1 for a digit, 2 for an ASCII letter, else 0: the runs a
 * mutation replaces whole (a number, a literal, a word). */
static int word_class(unsigned char c)
{
    if (c >= '0' && c <= '9') {
        return 1;
    }
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ? 2 : 0;
}

/* Writes 1 to 24 decimal digits at D (half the time not starting with
 * 0: a number up to 24 digits, past 64 bits); returns how many. */
static size_t random_digits(unsigned char *d)
{
    size_t n = 1 + below(24), i;

    for (i = 0; i < n; i++) {
        d[i] = (unsigned char)('0' + below(10));
    }
    if (one_in(2)) {
        d[0] = (unsigned char)('1' + below(9));
    }
    return n;
}

/* Applies one to four mutations to M (now and then a burst of up to 16). */
static void mutate(const target_t *t, mbuf_t *m)
{
    int ops = one_in(8) ? 8 + (int)below(9) : 1 + (int)below(4), k;
    const blob_t *seeds = (const blob_t *)t->seeds->elts;
    size_t ndict = 0;

    while (t->dict && t->dict[ndict] && ndict < 1000) {
        ndict++;
    }
    for (k = 0; k < ops; k++) {
        size_t at = below(m->len + 1), pos = below(m->len), n, i;
        unsigned char byte = pick_byte(m);

        switch (below(14)) {
        case 0:                         /* flip one bit */
            if (m->len) {
                m->b[pos] ^= (unsigned char)(1u << below(8));
            }
            break;
        case 1:                         /* a boundary byte in place */
            if (m->len) {
                m->b[pos] = boundary[below(sizeof(boundary))];
            }
            break;
        case 2:                         /* any byte in place */
            if (m->len) {
                m->b[pos] = (unsigned char)rnd();
            }
            break;
        case 3:                         /* a short run */
            m_fill(m, at, byte, 1 + below(8));
            break;
        case 4:                         /* a long run */
            m_fill(m, at, byte, long_runs[below(sizeof(long_runs)
                                                / sizeof(long_runs[0]))]);
            break;
        case 5:                         /* a text of the dictionary */
            if (ndict) {
                const char *d = t->dict[below(ndict)];
                m_insert(m, at, (const unsigned char *)d, strlen(d));
            }
            break;
        case 6:                         /* delete a run */
            m_delete(m, pos, 1 + below(one_in(4) ? m->len : 16));
            break;
        case 7: {                       /* splice: this head, another tail */
            const blob_t *o = &seeds[below((size_t)t->seeds->nelts)];
            size_t from = below(o->len + 1);
            m->len = at;
            m_insert(m, at, o->b + from, o->len - from);
            break;
        }
        case 8:                         /* truncate */
            m->len = at;
            break;
        case 9:                         /* repeat a segment */
            if (m->len) {
                size_t times = one_in(4) ? 2 + below(40) : 1;
                n = 1 + below(m->len - pos < 64 ? m->len - pos : 64);
                memcpy(m->tmp, m->b + pos, n);
                for (i = 0; i < times; i++) {
                    m_insert(m, at, m->tmp, n);
                }
            }
            break;
        case 10:                        /* a run of digits */
            n = random_digits(m->tmp);
            m_insert(m, at, m->tmp, n);
            break;
        case 11:                        /* replace a whole word or number */
            if (m->len) {
                size_t a = pos, e = pos + 1;
                int cls = word_class(m->b[pos]);
                while (cls && a > 0 && word_class(m->b[a - 1]) == cls) {
                    a--;
                }
                while (cls && e < m->len && word_class(m->b[e]) == cls) {
                    e++;
                }
                m_delete(m, a, e - a);
                if (ndict && one_in(2)) {
                    const char *d = t->dict[below(ndict)];
                    m_insert(m, a, (const unsigned char *)d, strlen(d));
                }
                else {
                    n = random_digits(m->tmp);
                    m_insert(m, a, m->tmp, n);
                }
            }
            break;
        case 12:                        /* wrap a span in a matching pair */
            if (m->len) {
                static const char *const pairs[][2] = {
                    { "[", "]" }, { "{\"k\":", "}" }, { "\"", "\"" },
                    { "[\"", "\"]" }
                };
                size_t w = below(4), e = pos + below(m->len - pos + 1);
                m_insert(m, e, (const unsigned char *)pairs[w][1],
                         strlen(pairs[w][1]));
                m_insert(m, pos, (const unsigned char *)pairs[w][0],
                         strlen(pairs[w][0]));
            }
            break;
        default:                        /* grow or cut to a bound, +-1 */
            if (t->nbounds) {
                size_t want = t->bounds[below((size_t)t->nbounds)] + below(3);
                want = want ? want - 1 : 0;
                if (want > m->cap) {
                    want = m->cap;
                }
                if (m->len < want) {
                    m_fill(m, at, m->len ? m->b[pos] : byte, want - m->len);
                }
                else {
                    m->len = want;
                }
            }
            break;
        }
    }
}

/* Returns the N bytes at S as a C string literal (cut after 400 bytes). */
static const char *escaped(apr_pool_t *pool, const unsigned char *s, size_t n)
{
    size_t show = n > 400 ? 400 : n, i, o = 0;
    char *out = apr_palloc(pool, show * 6 + 64);   /* at most 6 a byte */

    out[o++] = '"';
    for (i = 0; i < show; i++) {
        unsigned char c = s[i];
        if (c == '"' || c == '\\') {
            out[o++] = '\\';
            out[o++] = (char)c;
        }
        else if (c >= 0x20 && c < 0x7f) {
            out[o++] = (char)c;
        }
        else {
            /* an escape followed by a hex digit would run on: split it */
            o += (size_t)apr_snprintf(out + o, 5, "\\x%02x", c);
            if (i + 1 < show && apr_isxdigit(s[i + 1])) {
                memcpy(out + o, "\"\"", 2);
                o += 2;
            }
        }
    }
    out[o++] = '"';
    out[o] = '\0';
    if (show < n) {
        return apr_psprintf(pool, "%s... (%" APR_SIZE_T_FMT " bytes)", out, n);
    }
    return out;
}

/* Returns 1 when IN without the CUT bytes at OFF still breaks invariant
 * BIT of T; then IN (LEN bytes) is left without them. */
static int try_cut(const target_t *t, int bit, unsigned char *in,
                   size_t *len, size_t off, size_t cut, unsigned char *cand,
                   apr_pool_t *iter)
{
    memcpy(cand, in, off);
    memcpy(cand + off, in + off + cut, *len - off - cut);
    apr_pool_clear(iter);
    if (t->check(iter, cand, *len - cut) & (1u << bit)) {
        *len -= cut;
        memcpy(in, cand, *len);
        return 1;
    }
    return 0;
}

/* Shrinks *IN, which breaks invariant BIT of T, while it still breaks it:
 * first by removing halves, quarters... at aligned places, then runs of
 * sixteen bytes down to one at every place; bounded in tries and time. */
static void shrink(const target_t *t, int bit, blob_t *in, apr_pool_t *iter)
{
    unsigned char *cur = apr_pmemdup(p, in->b, in->len ? in->len : 1);
    unsigned char *cand = apr_palloc(p, in->len + 1);
    size_t len = in->len, chunk, off;
    apr_time_t stop = apr_time_now() + apr_time_from_sec(SHRINK_SECONDS);
    int tries = 0, shrunk = 1, pass;

    for (chunk = len / 2; chunk > 16 && tries < SHRINK_TRIES; chunk /= 2) {
        for (off = 0; off + chunk <= len && tries < SHRINK_TRIES; tries++) {
            if (!try_cut(t, bit, cur, &len, off, chunk, cand, iter)) {
                off += chunk;
            }
        }
        if (apr_time_now() > stop) {
            break;
        }
    }
    for (pass = 0; shrunk && pass < 8 && apr_time_now() < stop; pass++) {
        shrunk = 0;
        for (chunk = 16; chunk >= 1; chunk--) {
            for (off = 0; off + chunk <= len && tries < SHRINK_TRIES; tries++) {
                if (try_cut(t, bit, cur, &len, off, chunk, cand, iter)) {
                    shrunk = 1;
                }
                else {
                    off++;
                }
            }
        }
    }
    in->b = cur;
    in->len = len;
}

/* Runs target T: every seed once as it is, then mutants of seeds chosen
 * at random, until its count of inputs or its share of the time left
 * before DEADLINE (LEFT targets to go) is used up. */
static void run_target(target_t *t, apr_time_t deadline, int left)
{
    apr_pool_t *iter;
    mbuf_t m;
    unsigned long fails[32];
    blob_t first[32];
    apr_time_t start = apr_time_now(), stop;
    const blob_t *seeds = (const blob_t *)t->seeds->elts;
    int i, iters = t->iters * scale, ran = 0, capped = 0, b;
    size_t nseeds = (size_t)t->seeds->nelts;

    stop = start + (deadline > start ? (deadline - start) / left : 0);
    memset(fails, 0, sizeof(fails));
    memset(first, 0, sizeof(first));
    memset(hist, 0, sizeof(hist));
    undecided = 0;
    apr_pool_create(&iter, p);
    m.cap = t->cap;
    m.b = apr_palloc(p, m.cap);
    m.tmp = apr_palloc(p, m.cap);
    rng_start(t->name);
    counting = 1;
    for (i = 0; i < iters; i++) {
        const blob_t *s = &seeds[(size_t)i < nseeds ? (size_t)i : below(nseeds)];
        unsigned bad;

        if ((i & 63) == 0 && apr_time_now() > stop) {
            capped = 1;
            break;
        }
        apr_pool_clear(iter);
        m.len = s->len < m.cap ? s->len : m.cap;
        memcpy(m.b, s->b, m.len);
        if ((size_t)i >= nseeds) {
            mutate(t, &m);
        }
        bad = t->check(iter, m.b, m.len);
        for (b = 0; b < t->ninv; b++) {
            if ((bad & (1u << b)) && fails[b]++ == 0) {
                first[b].b = apr_palloc(p, m.len + 1);
                memcpy(first[b].b, m.b, m.len);
                first[b].len = m.len;
            }
        }
        ran++;
    }
    counting = 0;

    diag("%s: %d inputs (%" APR_SIZE_T_FMT " seeds) in %.2f s%s", t->name, ran,
         nseeds, (double)(apr_time_now() - start) / APR_USEC_PER_SEC,
         capped ? ", stopped by the time budget" : "");
    if (t->jwt_hist) {
        char *line = "";
        for (b = 0; b <= AAPI_JWT_MISSING_CLAIM; b++) {
            if (hist[b]) {
                line = apr_psprintf(p, "%s%s%s %lu", line, *line ? ", " : "",
                                    aapi_jwt_strerror((aapi_jwt_err_t)b),
                                    hist[b]);
            }
        }
        diag("%s: results: %s", t->name, line);
    }
    else {
        diag("%s: %lu accepted, %lu refused", t->name, hist[1], hist[0]);
    }
    if (undecided) {
        diag("%s: %lu inputs with a real number too large for jansson: "
             "their result is not compared", t->name, undecided);
    }
    for (b = 0; b < t->ninv; b++) {
        if (!ok(fails[b] == 0, apr_psprintf(p, "%s: %s", t->name, t->inv[b]))) {
            diag("%lu of %d inputs break it; the first, %" APR_SIZE_T_FMT
                 " bytes: %s", fails[b], ran, first[b].len,
                 escaped(p, first[b].b, first[b].len));
            shrink(t, b, &first[b], iter);
            diag("shrunk to %" APR_SIZE_T_FMT " bytes: %s", first[b].len,
                 escaped(p, first[b].b, first[b].len));
        }
    }
    apr_pool_destroy(iter);
}

/* ==== reference checks, written plainly ==== */

/* Returns 1 when the N bytes at S are UTF-8 as RFC 3629 section 4 draws
 * it (a table of byte ranges, not a decoder) without NUL. */
static int ref_utf8(const unsigned char *s, size_t n)
{
    size_t i = 0, k, more;

    while (i < n) {
        unsigned char c = s[i], lo = 0x80, hi = 0xbf;

        if (c == 0) {
            return 0;
        }
        if (c < 0x80) {
            i++;
            continue;
        }
        if (c >= 0xc2 && c <= 0xdf) more = 1;
        else if (c == 0xe0) { more = 2; lo = 0xa0; }
        else if (c == 0xed) { more = 2; hi = 0x9f; }
        else if (c >= 0xe1 && c <= 0xef) more = 2;
        else if (c == 0xf0) { more = 3; lo = 0x90; }
        else if (c == 0xf4) { more = 3; hi = 0x8f; }
        else if (c >= 0xf1 && c <= 0xf3) more = 3;
        else return 0;
        if (n - i <= more) {
            return 0;
        }
        for (k = 1; k <= more; k++) {
            unsigned char t = s[i + k];
            if (t < (k == 1 ? lo : 0x80) || t > (k == 1 ? hi : 0xbf)) {
                return 0;
            }
        }
        i += more + 1;
    }
    return 1;
}

/* Returns the number of bytes at S (N) that start a character. */
static size_t ref_chars(const unsigned char *s, size_t n)
{
    size_t i, c = 0;

    for (i = 0; i < n; i++) {
        c += (s[i] & 0xc0) != 0x80;
    }
    return c;
}

/* Returns the value of base64url digit C, or -1. */
static int ref_b64_digit(unsigned char c)
{
    static const char alpha[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    const char *at = c ? strchr(alpha, c) : NULL;

    return at ? (int)(at - alpha) : -1;
}

/* Returns 1 when each of the N bytes at S is a base64url digit or EXTRA
 * (-1 for none). */
static int ref_charset(const unsigned char *s, size_t n, int extra)
{
    size_t i;

    for (i = 0; i < n; i++) {
        if (ref_b64_digit(s[i]) < 0 && (int)s[i] != extra) {
            return 0;
        }
    }
    return 1;
}

/* Returns 1 when S (N bytes) is strict base64url as util.h says: digits
 * only, no padding, not one digit over a multiple of four, and the bits
 * past the last whole byte zero. */
static int ref_b64(const unsigned char *s, size_t n)
{
    if (n % 4 == 1 || !ref_charset(s, n, -1)) {
        return 0;
    }
    if (n % 4 == 2) {
        return (ref_b64_digit(s[n - 1]) & 0x0f) == 0;
    }
    if (n % 4 == 3) {
        return (ref_b64_digit(s[n - 1]) & 0x03) == 0;
    }
    return 1;
}

static int ref_space(unsigned char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f'
           || c == '\r';
}

static int ref_alpha(unsigned char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z');
}

static int ref_alnum(unsigned char c)
{
    return ref_alpha(c) || (c >= '0' && c <= '9');
}

/* Returns 1 when the N bytes at S are a dot-atom of RFC 5322 of 1 to 64
 * bytes: atoms of atext joined by single dots. */
static int ref_local(const unsigned char *s, size_t n)
{
    size_t i, atom = 0;

    if (n == 0 || n > 64) {
        return 0;
    }
    for (i = 0; i < n; i++) {
        if (s[i] == '.') {
            if (atom == 0) {
                return 0;
            }
            atom = 0;
        }
        else if (ref_alnum(s[i]) || (s[i] && strchr("!#$%&'*+-/=?^_`{|}~", s[i]))) {
            atom++;
        }
        else {
            return 0;
        }
    }
    return atom > 0;
}

/* Returns 1 when the N bytes at S are a host name as validate.c's comment
 * says: at most 253 bytes, two labels or more of 1 to 63 letters, digits
 * and inner hyphens, the last of two letters or more. */
static int ref_domain(const unsigned char *s, size_t n)
{
    size_t i, start = 0, labels = 0;

    if (n == 0 || n > 253) {
        return 0;
    }
    for (i = 0; i <= n; i++) {
        if (i == n || s[i] == '.') {
            size_t len = i - start, k;
            if (len == 0 || len > 63 || s[start] == '-' || s[i - 1] == '-') {
                return 0;
            }
            for (k = start; k < i; k++) {
                if (!ref_alnum(s[k]) && s[k] != '-') {
                    return 0;
                }
            }
            labels++;
            if (i == n) {
                if (labels < 2 || len < 2) {
                    return 0;
                }
                for (k = start; k < i; k++) {
                    if (!ref_alpha(s[k])) {
                        return 0;
                    }
                }
            }
            start = i + 1;
        }
    }
    return 1;
}

/* Returns 1 when the N bytes at S (trimmed) are an address by the rules
 * above: at most 254 bytes, one '@'. */
static int ref_email(const unsigned char *s, size_t n)
{
    size_t i, at = 0, ats = 0;

    if (n == 0 || n > AAPI_MAX_EMAIL_LEN) {
        return 0;
    }
    for (i = 0; i < n; i++) {
        if (s[i] == '@') {
            ats++;
            at = i;
        }
    }
    return ats == 1 && ref_local(s, at) && ref_domain(s + at + 1, n - at - 1);
}

/* ==== base64url ==== */

static const char *const b64_inv[] = {
    "decode accepts exactly the strict base64url texts (reference check)",
    "a decoded text gives len*3/4 bytes that encode back to the same text",
    "decode(encode(x)) == x, and encode writes enclen(len) characters",
    "charset_ok agrees with a byte-by-byte check",
};

static unsigned check_b64(apr_pool_t *pool, const unsigned char *in,
                          size_t len)
{
    fenced_t fi, fo, fe, fd, fr;
    const char *txt = (const char *)fence(pool, &fi, in, len, len);
    unsigned char *out = fence(pool, &fo, NULL, 0, len * 3 / 4 + 1);
    size_t outlen = 0, enclen = aapi_b64url_enclen(len), n;
    char *enc = (char *)fence(pool, &fe, NULL, 0, enclen + 1);
    unsigned char *dec = fence(pool, &fd, NULL, 0, enclen * 3 / 4 + 1);
    unsigned bad = 0;
    int rc = aapi_b64url_decode(out, &outlen, txt, len);

    count(rc == 0);
    if ((rc == 0) != ref_b64(in, len)) {
        bad |= 1;
    }
    if (rc == 0) {
        char *re = (char *)fence(pool, &fr, NULL, 0,
                                 aapi_b64url_enclen(outlen) + 1);
        n = aapi_b64url_encode_to(re, out, outlen);
        if (outlen != len * 3 / 4 || n != len || memcmp(re, in, len) != 0) {
            bad |= 2;
        }
        unfence(&fr);
    }
    /* the input's bytes as data */
    n = aapi_b64url_encode_to(enc, in, len);
    outlen = (size_t)-1;
    if (n != enclen || strlen(enc) != n || !ref_b64((unsigned char *)enc, n)
        || aapi_b64url_decode(dec, &outlen, enc, n) != 0 || outlen != len
        || (len && memcmp(dec, in, len) != 0)) {
        bad |= 4;
    }
    if (aapi_b64url_charset_ok(txt, len, '.') != ref_charset(in, len, '.')) {
        bad |= 8;
    }
    unfence(&fi);
    unfence(&fo);
    unfence(&fe);
    unfence(&fd);
    return bad;
}

static const size_t b64_bounds[] = { 1, 2, 3, 4, 5, 8, 43, 64, 86, 8192 };

/* ==== UTF-8 ==== */

static const char *const utf8_inv[] = {
    "utf8_valid agrees with a reference check, at every start and length",
    "utf8_clean gives valid UTF-8 without control bytes, within its bound",
    "utf8_clean keeps clean text, or a prefix cut at a character boundary",
    "utf8_len counts the characters of valid text",
};

static unsigned check_utf8(apr_pool_t *pool, const unsigned char *in,
                           size_t len)
{
    fenced_t f, g;
    const char *s = (const char *)fence(pool, &f, in, len, len);
    unsigned bad = 0;
    int want = ref_utf8(in, len), clean;
    size_t off, k, n, i;
    const char *t;

    count((unsigned)want);
    if (aapi_utf8_valid(s, len) != want) {
        bad |= 1;
    }
    /* each start within the first nine bytes, to the same end: the eight-
     * byte steps fall at every alignment */
    for (off = 1; off <= 9 && off <= len; off++) {
        if (aapi_utf8_valid(s + off, len - off) != ref_utf8(in + off, len - off)) {
            bad |= 1;
        }
    }
    /* shorter lengths, each fenced at its own end */
    for (k = 0; k < 4 && len > 0; k++) {
        size_t cut = k == 0 ? len - 1 : k == 1 ? len / 2
                   : k == 2 ? len * 5 / 8 : (len > 8 ? len - 8 : 0);
        const char *c = (const char *)fence(pool, &g, in, cut, cut);
        if (aapi_utf8_valid(c, cut) != ref_utf8(in, cut)) {
            bad |= 1;
        }
        unfence(&g);
    }

    /* utf8_clean reads a string: up to the first NUL */
    t = fence_str(pool, &g, in, len, &n);
    clean = ref_utf8((const unsigned char *)t, n);
    for (i = 0; clean && i < n; i++) {
        if ((unsigned char)t[i] < 0x20 || t[i] == 0x7f) {
            clean = 0;
        }
    }
    for (k = 0; k < 10; k++) {
        static const size_t fixed[] = { 0, 1, 2, 3, 5, 8, 64 };
        size_t max = k < 7 ? fixed[k] : k == 7 ? (n ? n - 1 : 0)
                   : k == 8 ? n : (size_t)-1;
        const char *out = aapi_utf8_clean(pool, t, max);
        size_t olen = strlen(out);

        if (olen > max || olen > n || !ref_utf8((const unsigned char *)out, olen)) {
            bad |= 2;
        }
        for (i = 0; i < olen; i++) {
            if ((unsigned char)out[i] < 0x20 || out[i] == 0x7f) {
                bad |= 2;
            }
        }
        if (clean && (memcmp(out, t, olen) != 0
                      || (n <= max && olen != n)
                      || (n > max && (olen + 4 <= max
                                      || ((unsigned char)t[olen] & 0xc0) == 0x80)))) {
            bad |= 4;
        }
    }
    if (want && aapi_utf8_len(t) != ref_chars(in, len)) {
        bad |= 8;
    }
    unfence(&g);
    unfence(&f);
    return bad;
}

static const size_t utf8_bounds[] = { 7, 8, 9, 15, 16, 17, 64 };

/* ==== the flat reader and the JSON body reader ==== */

/* Returns the deepest nesting of arrays and objects in V (V counts when it
 * is one); stops counting past LIMIT levels. */
static int depth(json_t *v, int limit)
{
    int max = 0, d;

    if (!json_is_object(v) && !json_is_array(v)) {
        return 0;
    }
    if (limit <= 0) {
        return 1;
    }
    if (json_is_object(v)) {
        const char *k;
        json_t *e;
        json_object_foreach(v, k, e) {
            if ((d = depth(e, limit - 1)) > max) {
                max = d;
            }
        }
    }
    else {
        size_t i;
        json_t *e;
        json_array_foreach(v, i, e) {
            if ((d = depth(e, limit - 1)) > max) {
                max = d;
            }
        }
    }
    return 1 + max;
}

/* Returns 1 when the object V is past the flat reader's documented
 * bounds (json.c): 64 members, 16 levels of nesting below the object. */
static int past_flat_bounds(json_t *v)
{
    const char *k;
    json_t *e;

    if (json_object_size(v) > 64) {
        return 1;
    }
    json_object_foreach(v, k, e) {
        if (depth(e, 17) > 16) {
            return 1;
        }
    }
    return 0;
}

/* Loads the N bytes at S as json.h says both its readers do: returns 1
 * with *OUT (to be released) when it is an object within the flat
 * reader's bounds, 0 when it is not, -2 when it is not because of an
 * integer outside 64 bits, or -1 when jansson cannot tell (a real number too large for a
 * double, which the flat reader only skips over). A NUL byte is refused
 * here, before jansson: jansson drops one that follows a number or a
 * literal ("{\"a\":0\0}" loads). */
static int load_object(const unsigned char *s, size_t n, json_t **out)
{
    json_error_t err;
    json_t *v;

    *out = NULL;
    if (memchr(s, '\0', n)) {
        return 0;
    }
    v = json_loadb((const char *)s, n, JSON_REJECT_DUPLICATES, &err);
    if (!v) {
        return strstr(err.text, "real number overflow") ? -1
               : strstr(err.text, "too big") ? -2 : 0;
    }
    if (!json_is_object(v) || past_flat_bounds(v)) {
        json_decref(v);
        return 0;
    }
    *out = v;
    return 1;
}

/* Returns 1 when flat member E holds what jansson read for it, V. */
static int same_value(const aapi_flat_member_t *e, json_t *v)
{
    size_t i;
    json_t *x;
    int all_strings = 1;

    if (!v) {
        return 0;
    }
    if (json_is_array(v)) {
        json_array_foreach(v, i, x) {
            all_strings &= json_is_string(x) != 0;
        }
    }
    switch (e->type) {
    case AAPI_FLAT_NULL:
        return json_is_null(v);
    case AAPI_FLAT_BOOL:
        return json_is_boolean(v) && json_is_true(v) == (e->boolean != 0);
    case AAPI_FLAT_INT:
        return json_is_integer(v) && json_integer_value(v) == e->num;
    case AAPI_FLAT_STRING:
        return json_is_string(v) && json_string_length(v) == strlen(e->str)
               && memcmp(json_string_value(v), e->str, strlen(e->str)) == 0;
    case AAPI_FLAT_STRINGS:
        if (!json_is_array(v) || !all_strings
            || json_array_size(v) != (size_t)e->strs->nelts) {
            return 0;
        }
        json_array_foreach(v, i, x) {
            const char *s = APR_ARRAY_IDX(e->strs, (int)i, const char *);
            if (json_string_length(x) != strlen(s)
                || memcmp(json_string_value(x), s, strlen(s)) != 0) {
                return 0;
            }
        }
        return 1;
    case AAPI_FLAT_OTHER:
        return json_is_object(v) || json_is_real(v)
               || (json_is_array(v) && !all_strings);
    }
    return 0;
}

/* Returns 1 when S points into the LEN bytes at BUF and is ended there. */
static int inside(const char *buf, size_t len, const char *s)
{
    return s >= buf && s < buf + len
           && memchr(s, '\0', (size_t)(buf + len - s)) != NULL;
}

static const char *const flat_inv[] = {
    "flat_parse accepts exactly the objects jansson does, no NUL, within "
    "its bounds",
    "an accepted object's member names are unique",
    "each member has the type and value jansson reads",
    "names and strings point into the text and end inside it",
    "the JSON body reader returns only OK or INVALID_JSON, and an object",
    "the JSON body reader accepts exactly the objects jansson does",
    "the JSON body reader refuses a text with a NUL byte, as json.h says",
    "flat_parse refuses an integer outside 64 bits (jansson's 'too big')",
};

static unsigned check_flat(apr_pool_t *pool, const unsigned char *in,
                           size_t len)
{
    fenced_t ff, fj;
    char *fl = (char *)fence(pool, &ff, in, len, len);
    const char *js = (const char *)fence(pool, &fj, in, len, len);
    apr_array_header_t *m = aapi_json_flat_parse(pool, fl, len);
    aapi_json_t *obj = NULL;
    aapi_status_t st = aapi_json_parse_object(pool, js, len, &obj);
    json_t *v = NULL;
    unsigned bad = 0;
    int i, k, want;

    count(m != NULL);
    if ((st != AAPI_OK && st != AAPI_INVALID_JSON)
        || (st == AAPI_OK && !aapi_json_is_object(obj))) {
        bad |= 16;
    }
    /* the reference: jansson, and no NUL */
    if ((want = load_object(in, len, &v)) < 0) {
        if (counting) {
            undecided++;
        }
    }
    else if ((m != NULL) != (want == 1)) {
        bad |= want == -2 ? 128 : 1;
    }
    if (v) {
        json_decref(v);
    }
    /* the body reader is jansson with duplicate names refused: a text
     * without NUL it reads as jansson does, one with a NUL it refuses */
    if (memchr(in, '\0', len)) {
        if (st == AAPI_OK) {
            bad |= 64;
        }
    }
    else {
        json_t *j = json_loadb((const char *)in, len, JSON_REJECT_DUPLICATES,
                               NULL);
        if ((st == AAPI_OK) != (j && json_is_object(j))) {
            bad |= 32;
        }
        if (j) {
            json_decref(j);
        }
    }
    /* the members: first that their strings end inside the text (else
     * reading them would run past it), then names and values */
    for (i = 0; m && i < m->nelts; i++) {
        const aapi_flat_member_t *e = &APR_ARRAY_IDX(m, i, aapi_flat_member_t);
        if (!inside(fl, len, e->name)
            || (e->type == AAPI_FLAT_STRING && !inside(fl, len, e->str))) {
            bad |= 8;
        }
    }
    for (i = 0; m && !(bad & 8) && i < m->nelts; i++) {
        const aapi_flat_member_t *e = &APR_ARRAY_IDX(m, i, aapi_flat_member_t);
        for (k = 0; k < i; k++) {
            if (!strcmp(APR_ARRAY_IDX(m, k, aapi_flat_member_t).name,
                        e->name)) {
                bad |= 2;
            }
        }
        if (st == AAPI_OK && !same_value(e, json_object_get(obj, e->name))) {
            bad |= 4;
        }
    }
    if (m && st == AAPI_OK && json_object_size(obj) != (size_t)m->nelts) {
        bad |= 4;
    }
    unfence(&ff);
    unfence(&fj);
    return bad;
}

/* Texts worth inserting into JSON: escapes at their edges, structure, the
 * literals and their near misses, numbers at the edges of 64 bits (and of
 * the 64-bit accumulator a reader may use) and of doubles, UTF-8 at the
 * edges of its classes. */
static const char *const json_dict[] = {
    "\"", "\\", "\\\"", "\\\\", "\\u", "\\u0000", "\\u0041", "\\u00e9",
    "\\u007f", "\\u0080", "\\u07ff", "\\u0800", "\\uffff", "\\ud83d\\ude00",
    "\\ud800", "\\udc00", "\\ud800\\u0041", "\\uDBFF\\uDFFF", "\\n", "\\/",
    "\\x", "{", "}", "[", "]", ":", ",", "{}", "[]", "[\"a\",\"b\"]",
    "{\"a\":1}", "\"a\":", ",\"a\":1", ",\"exp\":1", ",\"sub\":\"x\"",
    "true", "false", "null", "tru", "nul", "0", "-0", "-", "1.5", "1e5",
    "1E+3", "1e999", "-1e999", "1e-999", "1.", ".5", "01",
    "9223372036854775807", "9223372036854775808", "-9223372036854775808",
    "-9223372036854775809", "18446744073709551615", "18446744073709551616",
    "99999999999999999999", "\xc3\xa9", "\xf0\x9f\x98\x80", "\xed\xa0\x80",
    "\xc0\xaf", "\xf4\x90\x80\x80", "\xef\xbb\xbf", " ", "\t", "\r\n",
    NULL
};

static const size_t flat_bounds[] = { 1, 2, 64, 1024 };

/* ==== tokens ==== */

#define NOW    1700000000LL
#define LEEWAY 30
#define ISS    "https://example.com"
#define AUD    "example-api"
#define HDR256 "{\"alg\":\"HS256\",\"typ\":\"JWT\"}"

/* jwt.c reads a header of at most this many base64url characters */
#define MAX_HEADER_CHARS (1024 * 4 / 3 + 4)

#define BIT(code) (1u << (unsigned)(code))

static const unsigned char secret[] = "0123456789abcdef0123456789abcdef";
static aapi_key_t *key256, *key384, *key512;
static const aapi_jwt_check_t chk = { ISS, AUD, NOW, LEEWAY };
static const int scope_a = 1, scope_b = 2;

/* Returns HDR.PAYLOAD (texts of HLEN and PLEN bytes) encoded and signed
 * with KEY by the module's own encoder and MAC, from POOL; *LEN its
 * length. */
static char *sign_texts(apr_pool_t *pool, const aapi_key_t *key,
                        const void *hdr, size_t hlen, const void *pay,
                        size_t plen, size_t *len)
{
    unsigned char mac[64];
    char *si = apr_pstrcat(pool,
                           aapi_b64url_encode(pool, hdr, hlen), ".",
                           aapi_b64url_encode(pool, pay, plen), NULL);
    size_t n = aapi_key_mac(key, (const unsigned char *)si, strlen(si), mac);
    char *tok = apr_pstrcat(pool, si, ".", aapi_b64url_encode(pool, mac, n),
                            NULL);

    *len = strlen(tok);
    return tok;
}

/* The refusals a header earns under jwt.c's rules, added to *SET; returns
 * 0, -1 when jansson cannot tell, or -2 when it is refused for an integer
 * outside 64 bits. */
static int header_reasons(const unsigned char *h, size_t n, unsigned *set)
{
    json_t *v, *e;
    int st;

    if (n == 0 || aapi_b64url_enclen(n) > MAX_HEADER_CHARS) {
        *set |= BIT(AAPI_JWT_BAD_HEADER);
        return 0;
    }
    if ((st = load_object(h, n, &v)) <= 0) {
        *set |= BIT(AAPI_JWT_BAD_HEADER);
        return st < 0 ? st : 0;
    }
    e = json_object_get(v, "alg");
    if (!json_is_string(e) || strcmp(json_string_value(e), "HS256") != 0) {
        *set |= BIT(AAPI_JWT_BAD_ALG);
    }
    if (json_object_get(v, "crit") || json_object_get(v, "kid")) {
        *set |= BIT(AAPI_JWT_BAD_HEADER);
    }
    e = json_object_get(v, "typ");
    if (e && (!json_is_string(e)
              || (strcasecmp(json_string_value(e), "JWT") != 0
                  && strcasecmp(json_string_value(e), "at+jwt") != 0))) {
        *set |= BIT(AAPI_JWT_BAD_HEADER);
    }
    json_decref(v);
    return 0;
}

/* Returns 1 when E (claim aud) names the audience: the string itself, or
 * an array of strings only that holds it among its first 32 (jwt.c looks
 * no further). */
static int aud_matches(json_t *e)
{
    size_t i;
    json_t *x;
    int found = 0;

    if (json_is_string(e)) {
        return strcmp(json_string_value(e), AUD) == 0;
    }
    if (!json_is_array(e)) {
        return 0;
    }
    json_array_foreach(e, i, x) {
        if (!json_is_string(x)) {
            return 0;
        }
        if (i < 32 && !strcmp(json_string_value(x), AUD)) {
            found = 1;
        }
    }
    return found;
}

/* Returns 1 when claim NAME of V is absent or null. */
static int absent(json_t *v, const char *name)
{
    json_t *e = json_object_get(v, name);
    return !e || json_is_null(e);
}

/* The refusals the claims earn, added to *SET; returns 1 with *OBJ (to be
 * released) when they are an object, 0 when not, -1 when jansson cannot
 * tell, -2 when refused for an integer outside 64 bits. The order in
 * which jwt.c meets them is its own: a refused token must give one of
 * them, whichever. */
static int payload_reasons(const unsigned char *s, size_t n, unsigned *set,
                           json_t **obj)
{
    static const char *const dates[] = { "exp", "nbf", "iat" };
    static const char *const strs[] = { "iss", "sub", "sid", "jti", "role",
                                        "email", "username" };
    json_t *v, *e;
    size_t i;
    int st;

    *obj = NULL;
    if ((st = load_object(s, n, &v)) <= 0) {
        *set |= BIT(AAPI_JWT_BAD_PAYLOAD);
        return st;
    }
    for (i = 0; i < 3; i++) {
        if ((e = json_object_get(v, dates[i])) && !json_is_integer(e)) {
            *set |= BIT(AAPI_JWT_BAD_PAYLOAD);
        }
    }
    e = json_object_get(v, "exp");
    if (!e) {
        *set |= BIT(AAPI_JWT_MISSING_CLAIM);
    }
    else if (json_is_integer(e) && NOW - LEEWAY > json_integer_value(e)) {
        *set |= BIT(AAPI_JWT_EXPIRED);
    }
    for (i = 1; i < 3; i++) {
        e = json_object_get(v, dates[i]);
        if (json_is_integer(e) && json_integer_value(e) > NOW + LEEWAY) {
            *set |= BIT(AAPI_JWT_NOT_YET);
        }
    }
    for (i = 0; i < sizeof(strs) / sizeof(strs[0]); i++) {
        if (!absent(v, strs[i]) && !json_is_string(json_object_get(v, strs[i]))) {
            *set |= BIT(AAPI_JWT_BAD_PAYLOAD);
        }
    }
    e = json_object_get(v, "iss");
    if (absent(v, "iss")
        || (json_is_string(e) && strcmp(json_string_value(e), ISS) != 0)) {
        *set |= BIT(AAPI_JWT_BAD_ISSUER);
    }
    if (!aud_matches(json_object_get(v, "aud"))) {
        *set |= BIT(AAPI_JWT_BAD_AUDIENCE);
    }
    if (absent(v, "sub") || absent(v, "sid")) {
        *set |= BIT(AAPI_JWT_MISSING_CLAIM);
    }
    if ((e = json_object_get(v, "email_verified")) && !json_is_boolean(e)) {
        *set |= BIT(AAPI_JWT_BAD_PAYLOAD);
    }
    *obj = v;
    return 1;
}

/* Returns 1 when GOT is string claim NAME of V (NULL when absent or null). */
static int same_claim(const char *got, json_t *v, const char *name)
{
    json_t *e = json_object_get(v, name);
    const char *want = json_is_string(e) ? json_string_value(e) : NULL;

    return got && want ? strcmp(got, want) == 0 : got == want;
}

/* Returns integer claim NAME of V, or 0 when absent. */
static apr_int64_t int_claim(json_t *v, const char *name)
{
    json_t *e = json_object_get(v, name);
    return json_is_integer(e) ? (apr_int64_t)json_integer_value(e) : 0;
}

/* Returns 1 when the claims C that verify gave are those of V. */
static int claims_match(const aapi_claims_t *c, json_t *v)
{
    return same_claim(c->iss, v, "iss") && same_claim(c->sub, v, "sub")
           && same_claim(c->sid, v, "sid") && same_claim(c->jti, v, "jti")
           && same_claim(c->role, v, "role")
           && same_claim(c->email, v, "email")
           && same_claim(c->username, v, "username")
           && c->aud && strcmp(c->aud, AUD) == 0
           && c->email_verified
              == (json_is_true(json_object_get(v, "email_verified")) != 0)
           && c->exp == int_claim(v, "exp") && c->nbf == int_claim(v, "nbf")
           && c->iat == int_claim(v, "iat");
}

static const char *const claims_inv[] = {
    "verify returns only the codes jwt.h defines",
    "verify returns one of the refusals the rules give, or OK when none",
    "an accepted token's claims are those jansson reads",
    "a header or claims with an integer outside 64 bits are refused",
};

/* Verifies the token of the header and payload texts, signed with the
 * right key: the reference says which results the rules allow. */
static unsigned check_signed(apr_pool_t *pool, const unsigned char *hdr,
                             size_t hlen, const unsigned char *pay,
                             size_t plen)
{
    size_t tlen;
    char *tok = sign_texts(pool, key256, hdr, hlen, pay, plen, &tlen);
    fenced_t f;
    const char *ft = (const char *)fence(pool, &f, tok, tlen, tlen);
    aapi_claims_t out;
    json_t *obj = NULL;
    unsigned set = 0, bad = 0;
    int decided = 1, st = 0;
    aapi_jwt_err_t rc;

    memset(&out, 0, sizeof(out));
    rc = aapi_jwt_verify(pool, key256, ft, tlen, &chk, &out);
    unfence(&f);
    count((unsigned)rc);
    if ((unsigned)rc > AAPI_JWT_MISSING_CLAIM) {
        return 1;
    }
    if (tlen > AAPI_MAX_TOKEN_LEN) {
        set = BIT(AAPI_JWT_TOO_LONG);
    }
    else if ((st = header_reasons(hdr, hlen, &set)) == -1) {
        decided = 0;
    }
    else if (!set) {
        if ((st = payload_reasons(pay, plen, &set, &obj)) == -1) {
            decided = 0;
        }
        else if (!set) {
            set = BIT(AAPI_JWT_OK);
        }
    }
    if (!decided) {
        if (counting) {
            undecided++;
        }
    }
    else if (!(set & BIT(rc))) {
        bad |= st == -2 ? 8 : 2;
    }
    if (rc == AAPI_JWT_OK && obj && !claims_match(&out, obj)) {
        bad |= 4;
    }
    if (obj) {
        json_decref(obj);
    }
    return bad;
}

/* The header and the claims the other one of the two is paired with. */
static blob_t good_header, good_payload;

static unsigned check_claims(apr_pool_t *pool, const unsigned char *in,
                             size_t len)
{
    return check_signed(pool, good_header.b, good_header.len, in, len);
}

static unsigned check_header(apr_pool_t *pool, const unsigned char *in,
                             size_t len)
{
    return check_signed(pool, in, len, good_payload.b, good_payload.len);
}

/* The payload length that makes a token with the own header exactly
 * AAPI_MAX_TOKEN_LEN bytes long (36 + 1 + 8111 + 1 + 43), and one past. */
static const size_t claims_bounds[] = { 6083, 6084 };
static const size_t header_bounds[] = { 1024, 1026, 1027 };

/* Tokens given whole: the signed seeds, and which verify. */
typedef struct {
    const char *tok;
    size_t len;
    int valid;                   /* verifies with key256 and chk */
    int cached;                  /* was put in the token table */
} seed_token_t;

static apr_array_header_t *tokens;   /* of seed_token_t */

/* Returns the seed token equal to the LEN bytes at S, or NULL. */
static const seed_token_t *seed_token(const unsigned char *s, size_t len)
{
    int i;

    for (i = 0; i < tokens->nelts; i++) {
        const seed_token_t *t = &APR_ARRAY_IDX(tokens, i, seed_token_t);
        if (t->len == len && memcmp(t->tok, s, len) == 0) {
            return t;
        }
    }
    return NULL;
}

static const char *const text_inv[] = {
    "verify returns only the codes jwt.h defines",
    "verify accepts a text exactly when it is a valid seed, unchanged",
    "past 8192 bytes TOO_LONG; else a byte outside base64url and '.', or "
    "not three segments, MALFORMED",
    "the token table answers only for the very bytes put in, and scope",
};

static unsigned check_text(apr_pool_t *pool, const unsigned char *in,
                           size_t len)
{
    fenced_t f;
    const char *ft = (const char *)fence(pool, &f, in, len, len);
    const seed_token_t *seed = seed_token(in, len);
    aapi_claims_t out;
    aapi_jwt_err_t rc;
    unsigned bad = 0;
    size_t i, dots = 0;
    int hit;

    memset(&out, 0, sizeof(out));
    rc = aapi_jwt_verify(pool, key256, ft, len, &chk, &out);
    count((unsigned)rc);
    if ((unsigned)rc > AAPI_JWT_MISSING_CLAIM) {
        bad |= 1;
    }
    if ((rc == AAPI_JWT_OK) != (seed && seed->valid)) {
        bad |= 2;
    }
    for (i = 0; i < len; i++) {
        dots += in[i] == '.';
    }
    if (len > AAPI_MAX_TOKEN_LEN ? rc != AAPI_JWT_TOO_LONG
        : (!ref_charset(in, len, '.') || dots != 2) && rc != AAPI_JWT_MALFORMED) {
        bad |= 4;
    }
    hit = aapi_tokcache_get(&scope_a, ft, len, NOW, LEEWAY, pool, NULL, &out);
    if ((hit != AAPI_TOKCACHE_MISS) != (seed && seed->cached)) {
        bad |= 8;
    }
    if (aapi_tokcache_get(&scope_b, ft, len, NOW, LEEWAY, pool, NULL, &out)
        != AAPI_TOKCACHE_MISS) {
        bad |= 8;
    }
    unfence(&f);
    return bad;
}

static const char *const text_dict[] = {
    ".", "..", "=", "==", "+", "/", " ", "\n", "Bearer ", "eyJ",
    "eyJhbGciOiJub25lIn0", "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9", "A",
    "_", "-", NULL
};

static const size_t text_bounds[] = { 1369, 1370, 8192, 8193 };

/* The signature target: a good token's header and payload ("h.p.") and
 * its right signature. */
static const char *sig_prefix, *right_sig;

static const char *const sig_inv[] = {
    "a changed signature never verifies (MALFORMED, BAD_SIGNATURE or "
    "TOO_LONG); the right one does",
    "past 8192 bytes TOO_LONG; else a byte outside base64url MALFORMED",
};

static unsigned check_sig(apr_pool_t *pool, const unsigned char *in,
                          size_t len)
{
    size_t plen = strlen(sig_prefix), tlen = plen + len;
    fenced_t f;
    char *ft = (char *)fence(pool, &f, sig_prefix, plen, tlen);
    aapi_claims_t out;
    aapi_jwt_err_t rc;
    unsigned bad = 0;
    int right = len == strlen(right_sig) && memcmp(in, right_sig, len) == 0;

    if (len) {
        memcpy(ft + plen, in, len);
    }
    rc = aapi_jwt_verify(pool, key256, ft, tlen, &chk, &out);
    unfence(&f);
    count((unsigned)rc);
    if (right ? rc != AAPI_JWT_OK
        : rc != AAPI_JWT_MALFORMED && rc != AAPI_JWT_BAD_SIGNATURE
          && rc != AAPI_JWT_TOO_LONG) {
        bad |= 1;
    }
    if (tlen > AAPI_MAX_TOKEN_LEN ? rc != AAPI_JWT_TOO_LONG
        : !ref_charset(in, len, -1) && rc != AAPI_JWT_MALFORMED) {
        bad |= 2;
    }
    return bad;
}

/* ==== field rules ==== */

#define ACCOUNT_EMAIL "ann@example.com"
#define ACCOUNT_USER  "ann_1"

/* Returns 1 when ERRS holds exactly WANT errors, all for FIELD. */
static int errors_are(const apr_array_header_t *errs, int want,
                      const char *field)
{
    int i;

    if (errs->nelts != want) {
        return 0;
    }
    for (i = 0; i < errs->nelts; i++) {
        if (strcmp(APR_ARRAY_IDX(errs, i, aapi_field_error_t).field, field)) {
            return 0;
        }
    }
    return 1;
}

static apr_array_header_t *new_errs(apr_pool_t *pool)
{
    return apr_array_make(pool, 4, sizeof(aapi_field_error_t));
}

static const char *const email_inv[] = {
    "one error for 'email' when refused, none when accepted",
    "an accepted address is the input trimmed, and norm its lower case",
    "accepts exactly the addresses of the documented rules (reference)",
};

static unsigned check_email(apr_pool_t *pool, const unsigned char *in,
                            size_t len)
{
    fenced_t f;
    size_t n, a = 0, b, i;
    const char *s = fence_str(pool, &f, in, len, &n);
    apr_array_header_t *errs = new_errs(pool);
    const char *norm = NULL;
    const char *got = aapi_validate_email(pool, s, &norm, errs);
    unsigned bad = 0;

    count(got != NULL);
    if (got ? errs->nelts != 0 || !norm : !errors_are(errs, 1, "email")) {
        bad |= 1;
    }
    b = n;
    while (a < b && ref_space((unsigned char)s[a])) {
        a++;
    }
    while (b > a && ref_space((unsigned char)s[b - 1])) {
        b--;
    }
    if (got && norm) {
        if (strlen(got) != b - a || memcmp(got, s + a, b - a) != 0
            || strlen(norm) != b - a) {
            bad |= 2;
        }
        for (i = 0; !(bad & 2) && i < b - a; i++) {
            unsigned char c = (unsigned char)got[i];
            if ((unsigned char)norm[i]
                != (c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c)) {
                bad |= 2;
            }
        }
    }
    if ((got != NULL) != ref_email((const unsigned char *)s + a, b - a)) {
        bad |= 4;
    }
    unfence(&f);
    return bad;
}

static const char *const email_dict[] = {
    "@", ".", "..", "-", "+", " ", "\t", "\v", "xn--", "a@b.co",
    "\xc3\xa9", "\"", "(", ")", ",", ";", "<", ">", "[", "]", "\\", "'",
    "!#$%&'*+/=?^_`{|}~", ".com", "@example.com", NULL
};

static const size_t email_bounds[] = { 64, 65, 253, 254, 255 };

static const char *const username_inv[] = {
    "accepts exactly 3 to 20 of [A-Za-z0-9_] (reference)",
    "one error for 'username' when refused, none when accepted",
};

static unsigned check_username(apr_pool_t *pool, const unsigned char *in,
                               size_t len)
{
    fenced_t f;
    size_t n, i;
    const char *s = fence_str(pool, &f, in, len, &n);
    apr_array_header_t *errs = new_errs(pool);
    int got = aapi_validate_username(s, errs), want = n >= 3 && n <= 20;
    unsigned bad = 0;

    count((unsigned)got);
    for (i = 0; want && i < n; i++) {
        want = ref_alnum((unsigned char)s[i]) || s[i] == '_';
    }
    if (got != want) {
        bad |= 1;
    }
    if (!errors_are(errs, got ? 0 : 1, "username")) {
        bad |= 2;
    }
    unfence(&f);
    return bad;
}

static const char *const name_inv[] = {
    "valid UTF-8: accepts exactly 100 characters or fewer without C0, DEL "
    "or C1 (reference)",
    "one error for the field when refused, none when accepted",
};

static unsigned check_name(apr_pool_t *pool, const unsigned char *in,
                           size_t len)
{
    fenced_t f;
    size_t n, i;
    const char *s = fence_str(pool, &f, in, len, &n);
    const unsigned char *u = (const unsigned char *)s;
    apr_array_header_t *errs = new_errs(pool);
    int got = aapi_validate_name("first_name", s, errs), want;
    unsigned bad = 0;

    count((unsigned)got);
    if (ref_utf8(u, n)) {
        want = ref_chars(u, n) <= AAPI_MAX_NAME_LEN;
        for (i = 0; want && i < n; i++) {
            want = u[i] >= 0x20 && u[i] != 0x7f
                   && !(u[i] == 0xc2 && u[i + 1] >= 0x80 && u[i + 1] <= 0x9f);
        }
        if (got != want) {
            bad |= 1;
        }
    }
    if (!errors_are(errs, got ? 0 : 1, "first_name")) {
        bad |= 2;
    }
    unfence(&f);
    return bad;
}

static const size_t name_bounds[] = { 100, 101, 200, 201 };

static const char *const password_inv[] = {
    "accepted with no error, refused with errors for 'password' only",
    "longer than the byte limit: one error",
    "accepted exactly when the policy holds (reference), the password is "
    "not common, and not the email or username",
    "is_common_password does not regard case",
};

static unsigned check_password(apr_pool_t *pool, const unsigned char *in,
                               size_t len)
{
    static const aapi_policy_t strict = { 1, 8, 1, 1, 1, 1 };
    static const aapi_policy_t loose = { 1, 0, 0, 0, 0, 0 };
    static const struct {
        const aapi_policy_t *pol;
        size_t max;
    } cases[] = { { &strict, AAPI_BCRYPT_MAX_BYTES },
                  { &loose, AAPI_MAX_PASSWORD_LEN } };
    fenced_t f;
    size_t n, i, k;
    const char *s = fence_str(pool, &f, in, len, &n);
    const unsigned char *u = (const unsigned char *)s;
    int upper = 0, lower = 0, digit = 0, special = 0;
    unsigned bad = 0;
    char *swapped;

    for (i = 0; i < n; i++) {
        if (u[i] >= 'A' && u[i] <= 'Z') upper = 1;
        else if (u[i] >= 'a' && u[i] <= 'z') lower = 1;
        else if (u[i] >= '0' && u[i] <= '9') digit = 1;
        else special = 1;
    }
    for (k = 0; k < 2; k++) {
        const aapi_policy_t *pol = cases[k].pol;
        apr_array_header_t *errs = new_errs(pool);
        int got = aapi_validate_password(pool, "password", s, pol,
                                         cases[k].max, ACCOUNT_EMAIL,
                                         ACCOUNT_USER, errs);
        int policy = n <= cases[k].max
                     && ref_chars(u, n) >= (size_t)pol->min_len
                     && (!pol->upper || upper) && (!pol->lower || lower)
                     && (!pol->digit || digit) && (!pol->special || special);
        int want = policy && !aapi_is_common_password(s)
                   && strcasecmp(s, ACCOUNT_EMAIL) != 0
                   && strcasecmp(s, ACCOUNT_USER) != 0;

        if (k == 0) {
            count((unsigned)got);
        }
        if (got ? errs->nelts != 0
            : errs->nelts == 0 || !errors_are(errs, errs->nelts, "password")) {
            bad |= 1;
        }
        if (n > cases[k].max && (got || errs->nelts != 1)) {
            bad |= 2;
        }
        if (got != want) {
            bad |= 4;
        }
    }
    swapped = apr_pstrmemdup(pool, s, n);
    for (i = 0; i < n; i++) {
        if (ref_alpha((unsigned char)swapped[i])) {
            swapped[i] ^= 0x20;
        }
    }
    if (aapi_is_common_password(s) != aapi_is_common_password(swapped)) {
        bad |= 8;
    }
    unfence(&f);
    return bad;
}

static const size_t password_bounds[] = { 8, 72, 73, 127, 128, 1024, 1025 };

static const char *const field_dict[] = {
    "a", "A", "0", "_", "!", "@", "\xc3\xa9", "\xc2\x85", "\xe2\x80\xae",
    "\xf0\x9f\x98\x80", "password", "Passw0rd!", "qwerty", "1", "$", NULL
};

/* ==== seeds ==== */

/* Returns a string of N copies of C from P. */
static char *run_of(char c, size_t n)
{
    char *s = apr_palloc(p, n + 1);

    memset(s, c, n);
    s[n] = '\0';
    return s;
}


static aapi_claims_t good_claims(void)
{
    aapi_claims_t c;

    memset(&c, 0, sizeof(c));
    c.iss = ISS;
    c.aud = AUD;
    c.sub = "u-9f1c";
    c.sid = "s-42";
    c.jti = "j-7";
    c.role = "admin";
    c.email = "ann@example.com";
    c.username = "ann_1";
    c.email_verified = 1;
    c.iat = NOW - 10;
    c.nbf = NOW - 10;
    c.exp = NOW + 890;
    return c;
}

/* Returns the decoded segment I (0 or 1) of the compact token TOK. */
static blob_t segment_of(const char *tok, int i)
{
    const char *s = tok, *e;
    blob_t b;

    if (i == 1) {
        s = strchr(tok, '.') + 1;
    }
    e = strchr(s, '.');
    b.b = apr_palloc(p, (size_t)(e - s) * 3 / 4 + 2);
    b.len = 0;
    if (aapi_b64url_decode(b.b, &b.len, s, (size_t)(e - s)) != 0) {
        b.len = 0;
    }
    b.b[b.len] = '\0';
    return b;
}

static void add_token(const char *tok, size_t len, int valid)
{
    seed_token_t *t = apr_array_push(tokens);

    t->tok = tok;
    t->len = len;
    t->valid = valid;
    t->cached = 0;
}

/* Returns claims JSON with a "pad" string member making it LEN bytes. */
static char *padded_claims(const char *base, size_t len)
{
    size_t head = strlen(base) - 1, fill = len - head - strlen(",\"pad\":\"\"}");
    char *s = apr_palloc(p, len + 1);

    memcpy(s, base, head);
    memcpy(s + head, ",\"pad\":\"", 8);
    memset(s + head + 8, 'x', fill);
    memcpy(s + head + 8 + fill, "\"}", 3);
    return s;
}

/* Fills the seeds of the token targets: claims texts made by the module
 * (aapi_jwt_sign's payloads, objects dumped by aapi_json_dump) and by
 * hand, headers, and whole tokens signed with each algorithm. */
static void token_seeds(apr_array_header_t *claims, apr_array_header_t *hdrs,
                        apr_array_header_t *texts, apr_array_header_t *sigs)
{
    static const char *const headers[] = {
        HDR256, "{\"typ\":\"JWT\",\"alg\":\"HS256\"}", "{\"alg\":\"HS256\"}",
        "{\"alg\":\"HS256\",\"typ\":\"at+jwt\"}",
        " {\"alg\" : \"HS\\u0032\\u00356\", \"typ\":\"jwt\",\"x5t\":\"abc\","
        "\"ext\":{\"a\":[1,2.5,null]}} ",
        "{\"alg\":\"none\"}", "{\"alg\":\"HS384\",\"typ\":\"JWT\"}",
        "{\"alg\":\"HS256\",\"kid\":\"1\"}",
        "{\"alg\":\"HS256\",\"crit\":[\"exp\"]}",
    };
    static const char *const by_hand[] = {
        " {\n\t\"sub\" : \"u1\" ,\"sid\":\"s1\",\"exp\":1700000900,"
        "\"iss\":\"https:\\/\\/example.com\",\"aud\":[\"x\",\"example-api\"],"
        "\"email\":\"\\u0061nn@example.com\",\"role\":\"\\ud83d\\ude00\\n\","
        "\"username\":null,\"email_verified\":false} ",
        "{\"sub\":\"u1\",\"sid\":\"s1\",\"exp\":9223372036854775807,"
        "\"nbf\":-9223372036854775808,\"iat\":0,\"iss\":\"https://example.com\","
        "\"aud\":\"example-api\",\"x\":{\"a\":[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]],"
        "\"b\":{\"c\":{}}},\"y\":[1.5e3,-0,true,false,null,\"s\",{}]}",
        "{\"sub\":\"u1\",\"sid\":\"s1\",\"exp\":1700000000,"
        "\"iss\":\"https://example.com\",\"aud\":\"example-api\","
        "\"email\":\"J\xc3\xb6rg \xf0\x9f\x98\x80\",\"jti\":\"\"}",
    };
    aapi_claims_t c[7];
    aapi_key_t *keys[3];
    apr_array_header_t *valid_pay = apr_array_make(p, 8, sizeof(blob_t));
    aapi_json_t *o, *a, *holder;
    blob_t dumped;
    char *many, *tok;
    size_t i, k, len;

    keys[0] = key256;
    keys[1] = key384;
    keys[2] = key512;
    for (i = 0; i < 7; i++) {
        c[i] = good_claims();
    }
    c[1].username = NULL;
    c[1].email_verified = 0;
    c[2].email = "j\xc3\xb6rg@ex\xc3\xa4mple.com";
    c[2].role = "r\xc3\xa9" "dacteur \xf0\x9f\x98\x80";
    c[3].role = "a\"b\\c\n\x01/";
    c[4].exp = APR_INT64_MAX;
    c[4].iat = c[4].nbf = 0;
    /* the longest address: 254 bytes, as the table can hold */
    c[5].email = apr_pstrcat(p, run_of('a', 64), "@", run_of('b', 63), ".",
                             run_of('c', 63), ".", run_of('d', 57), ".com",
                             NULL);
    c[6].sub = c[6].sid = "0123456789abcdef0123456789abcdef";

    for (i = 0; i < 7; i++) {
        for (k = 0; k < 3; k++) {
            tok = aapi_jwt_sign(p, keys[k], &c[i]);
            add_token(tok, strlen(tok), k == 0);
            if (k == 0) {
                blob_t b = segment_of(tok, 1);
                add_seed(claims, b.b, b.len);
                *(blob_t *)apr_array_push(valid_pay) = b;
            }
        }
    }

    /* a claims object made with json.h: aud an array of strings (taken
     * from another object's members), a nested array, every type */
    o = aapi_json_object(p);
    aapi_json_set_str(o, "iss", ISS);
    aapi_json_set_str(o, "sub", "u1");
    aapi_json_set_str(o, "sid", "s1");
    aapi_json_set_int(o, "exp", NOW + 60);
    aapi_json_set_int(o, "nbf", NOW);
    aapi_json_set_bool(o, "email_verified", 1);
    aapi_json_set_str(o, "username", NULL);
    a = aapi_json_array(p);
    aapi_json_append(a, aapi_json_object(p));
    aapi_json_set(o, "ctx", a);
    holder = aapi_json_object(p);
    aapi_json_set_str(holder, "a", "other-api");
    aapi_json_set_str(holder, "b", AUD);
    a = aapi_json_array(p);
    aapi_json_append(a, aapi_json_get(holder, "a"));
    aapi_json_append(a, aapi_json_get(holder, "b"));
    aapi_json_set(o, "aud", a);
    dumped.b = (unsigned char *)aapi_json_dump(p, o);
    dumped.len = strlen((const char *)dumped.b);
    add_seed(claims, dumped.b, dumped.len);
    *(blob_t *)apr_array_push(valid_pay) = dumped;
    for (i = 0; i < sizeof(by_hand) / sizeof(by_hand[0]); i++) {
        add_str(claims, by_hand[i]);
    }
    /* 64 members, the flat reader's bound */
    many = apr_pstrdup(p, "{\"sub\":\"u1\",\"sid\":\"s1\",\"exp\":1700000900,"
                          "\"iss\":\"https://example.com\",\"aud\":\"example-api\"");
    for (i = 5; i < 64; i++) {
        many = apr_psprintf(p, "%s,\"m%d\":%d", many, (int)i, (int)i);
    }
    add_str(claims, apr_pstrcat(p, many, "}", NULL));

    for (i = 0; i < sizeof(headers) / sizeof(headers[0]); i++) {
        add_str(hdrs, headers[i]);
    }
    good_header.b = (unsigned char *)HDR256;
    good_header.len = strlen(HDR256);
    good_payload = APR_ARRAY_IDX(valid_pay, 0, blob_t);

    /* whole tokens: headers of every kind over good claims, good headers
     * over every payload, and tokens of exactly 8192 and 8193 bytes */
    for (i = 0; i < sizeof(headers) / sizeof(headers[0]); i++) {
        tok = sign_texts(p, key256, headers[i], strlen(headers[i]),
                         good_payload.b, good_payload.len, &len);
        add_token(tok, len, i < 5);
    }
    for (i = 0; i < (size_t)valid_pay->nelts; i++) {
        blob_t b = APR_ARRAY_IDX(valid_pay, i, blob_t);
        tok = sign_texts(p, key256, headers[1], strlen(headers[1]), b.b,
                         b.len, &len);
        add_token(tok, len, 1);
    }
    for (i = 6083; i <= 6084; i++) {
        char *pay = padded_claims((const char *)good_payload.b, i);
        tok = sign_texts(p, key256, HDR256, strlen(HDR256), pay, i, &len);
        add_token(tok, len, i == 6083);
    }
    for (i = 0; i < (size_t)tokens->nelts; i++) {
        const seed_token_t *t = &APR_ARRAY_IDX(tokens, i, seed_token_t);
        add_seed(texts, t->tok, t->len);
        add_seed(sigs, strrchr(t->tok, '.') + 1,
                 t->len - (size_t)(strrchr(t->tok, '.') + 1 - t->tok));
    }
}

/* Fills the base64url seeds: encodings of random bytes of many lengths
 * (and those bytes), and the segments of the seed tokens. */
static void b64_seeds(apr_array_header_t *b64)
{
    static const size_t lens[] = { 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12,
                                   13, 14, 15, 16, 31, 32, 33, 48, 64, 255,
                                   1000, 6000 };
    unsigned char *raw = apr_palloc(p, 6000);
    size_t i, k;

    rng_start("b64 seeds");
    for (i = 0; i < sizeof(lens) / sizeof(lens[0]); i++) {
        for (k = 0; k < lens[i]; k++) {
            raw[k] = (unsigned char)rnd();
        }
        add_str(b64, aapi_b64url_encode(p, raw, lens[i]));
        if (lens[i] < 100) {
            add_seed(b64, raw, lens[i]);
        }
    }
    for (i = 0; i < (size_t)tokens->nelts && i < 12; i++) {
        const seed_token_t *t = &APR_ARRAY_IDX(tokens, i, seed_token_t);
        const char *d1 = strchr(t->tok, '.'), *d2 = strrchr(t->tok, '.');
        add_seed(b64, t->tok, (size_t)(d1 - t->tok));
        add_seed(b64, d1 + 1, (size_t)(d2 - d1 - 1));
        add_str(b64, d2 + 1);
    }
}

/* Writes code point CP as UTF-8 at D; returns the bytes written. */
static size_t put_utf8(unsigned char *d, unsigned int cp)
{
    if (cp < 0x80) {
        d[0] = (unsigned char)cp;
        return 1;
    }
    if (cp < 0x800) {
        d[0] = (unsigned char)(0xc0 | (cp >> 6));
        d[1] = (unsigned char)(0x80 | (cp & 0x3f));
        return 2;
    }
    if (cp < 0x10000) {
        d[0] = (unsigned char)(0xe0 | (cp >> 12));
        d[1] = (unsigned char)(0x80 | ((cp >> 6) & 0x3f));
        d[2] = (unsigned char)(0x80 | (cp & 0x3f));
        return 3;
    }
    d[0] = (unsigned char)(0xf0 | (cp >> 18));
    d[1] = (unsigned char)(0x80 | ((cp >> 12) & 0x3f));
    d[2] = (unsigned char)(0x80 | ((cp >> 6) & 0x3f));
    d[3] = (unsigned char)(0x80 | (cp & 0x3f));
    return 4;
}

/* Fills the UTF-8 seeds: text of every width, the code points at the
 * edges of each class, and random valid text. */
static void utf8_seeds(apr_array_header_t *u)
{
    static const unsigned int edges[] = {
        0x01, 0x1f, 0x20, 0x7e, 0x7f, 0x80, 0x9f, 0xa0, 0x7ff, 0x800, 0xfff,
        0x1000, 0xd7ff, 0xe000, 0xfeff, 0xfffd, 0xffff, 0x10000, 0x3ffff,
        0x40000, 0xfffff, 0x100000, 0x10ffff
    };
    unsigned char buf[512];
    size_t i, k, n;

    add_str(u, "plain ASCII text, eight bytes at a time");
    add_str(u, "J\xc3\xb6rg M\xc3\xbcller");
    add_str(u, "\xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e");
    add_str(u, "\xf0\x9f\x98\x80\xf0\x9f\x91\x8d");
    add_str(u, "abcdefg\xc3\xa9xyz12345\xe2\x82\xac");
    for (i = 0, n = 0; i < sizeof(edges) / sizeof(edges[0]); i++) {
        n += put_utf8(buf + n, edges[i]);
    }
    add_seed(u, buf, n);
    rng_start("utf8 seeds");
    for (k = 0; k < 16; k++) {
        size_t chars = 1 + below(60);
        for (i = 0, n = 0; i < chars; i++) {
            unsigned int cp;
            switch (below(4)) {
            case 0: cp = 0x20 + (unsigned int)below(0x5f); break;
            case 1: cp = 0x80 + (unsigned int)below(0x780); break;
            case 2: cp = 0x800 + (unsigned int)below(0xf800); break;
            default: cp = 0x10000 + (unsigned int)below(0x100000); break;
            }
            if (cp >= 0xd800 && cp <= 0xdfff) {
                cp = 0xfffd;
            }
            n += put_utf8(buf + n, cp);
        }
        add_seed(u, buf, n);
    }
}

/* ==== the run ==== */


int main(void)
{
    apr_array_header_t *claims, *hdrs, *texts, *sigs, *b64, *u8, *flat;
    apr_array_header_t *emails, *users, *names, *pws;
    apr_time_t deadline;
    const char *env;
    fenced_t f;
    unsigned char *probe;
    int i, ntargets, all, hits, cached;

    p = tap_init();
    if ((env = getenv("FUZZ_SEED")) && *env) {
        fuzz_seed = (apr_uint64_t)apr_atoi64(env);
    }
    if ((env = getenv("FUZZ_SCALE")) && atoi(env) > 0 && atoi(env) <= 1000) {
        scale = atoi(env);
    }
    diag("seed %" APR_UINT64_T_FMT ", scale %d", fuzz_seed, scale);

    key256 = aapi_key_hmac(p, AAPI_ALG_HS256, secret, 32);
    key384 = aapi_key_hmac(p, AAPI_ALG_HS384, secret, 32);
    key512 = aapi_key_hmac(p, AAPI_ALG_HS512, secret, 32);
    if (!key256 || !key384 || !key512) {
        printf("Bail out! cannot create the keys\n");
        return 255;
    }
    aapi_common_passwords_init(p);
    aapi_tokcache_child_init(p);

    /* the fences stop the test only when the sanitizer sees them: built
     * without it (run.sh builds it with), this test fails here */
    probe = fence(p, &f, "x", 1, 1);
#ifdef __SANITIZE_ADDRESS__
    ok(__asan_address_is_poisoned(probe + 1)
       && __asan_address_is_poisoned(probe - 1)
       && !__asan_address_is_poisoned(probe),
       "built with AddressSanitizer: the fences around an input are poisoned");
#else
    ok(SANITIZED && probe, "built with AddressSanitizer (run.sh does)");
#endif
    unfence(&f);

    /* seeds */
    tokens = apr_array_make(p, 64, sizeof(seed_token_t));
    claims = new_seeds();
    hdrs = new_seeds();
    texts = new_seeds();
    sigs = new_seeds();
    token_seeds(claims, hdrs, texts, sigs);
    b64 = new_seeds();
    b64_seeds(b64);
    u8 = new_seeds();
    utf8_seeds(u8);
    flat = new_seeds();
    for (i = 0; i < claims->nelts; i++) {
        blob_t b = APR_ARRAY_IDX(claims, i, blob_t);
        add_seed(flat, b.b, b.len);
    }
    for (i = 0; i < hdrs->nelts; i++) {
        blob_t b = APR_ARRAY_IDX(hdrs, i, blob_t);
        add_seed(flat, b.b, b.len);
    }
    add_str(flat, "{}");
    /* at the reader's bounds and one past: 16 and 17 levels, 64 and 65
     * members */
    add_str(flat, apr_pstrcat(p, "{\"a\":", run_of('[', 16), "1",
                              run_of(']', 16), "}", NULL));
    add_str(flat, apr_pstrcat(p, "{\"a\":[{\"b\":", run_of('[', 15), "1",
                              run_of(']', 15), "}]}", NULL));
    {
        char *many = "{\"m0\":0";
        for (i = 1; i < 65; i++) {
            many = apr_psprintf(p, "%s,\"m%d\":%d", many, i, i);
        }
        add_str(flat, apr_pstrcat(p, many, "}", NULL));
    }
    add_str(flat, "{\"a\":[\"x\",\"y\\u00e9\",\"\"],\"b\":[\"x\",1],"
                  "\"c\":{\"d\":{\"e\":[]}},\"f\":-0.5e+3,\"g\":\"\\\"\\\\\"}");

    emails = new_seeds();
    add_str(emails, "ann@example.com");
    add_str(emails, "  Ann.B+tag@Sub.Example.COM \t");
    add_str(emails, "o'brien!#$%&*/=?^_`{|}~-@mail.example.co.uk");
    add_str(emails, "x@a-b.io");
    add_str(emails, apr_pstrcat(p, run_of('l', 64), "@", run_of('d', 63), ".",
                                run_of('e', 63), ".", run_of('f', 57), ".com",
                                NULL));
    add_str(emails, "j\xc3\xb6rg@example.com");
    users = new_seeds();
    add_str(users, "ann_1");
    add_str(users, "abc");
    add_str(users, "A_very_long_name_020");
    add_str(users, "no spaces");
    names = new_seeds();
    add_str(names, "J\xc3\xb6rg M\xc3\xbcller");
    add_str(names, "\xe6\x9d\x8e\xe5\xb0\x8f\xe9\xbe\x99");
    add_str(names, apr_pstrcat(p, run_of('a', 99), "\xc3\xa9", NULL));
    add_str(names, "tab\there, C1 \xc2\x85 here");
    pws = new_seeds();
    add_str(pws, "Tr0ub4dor&3");
    add_str(pws, "correct horse battery staple");
    add_str(pws, "Password1!");
    add_str(pws, "P@ssw0rd1");
    add_str(pws, "AnN@ExAmPlE.cOm");
    add_str(pws, "Z\xc3\xbcrich-2024!");
    add_str(pws, apr_pstrcat(p, run_of('a', 69), "A1!", NULL));
    add_str(pws, apr_pstrcat(p, run_of('b', 124), "B2?", NULL));
    add_str(pws, "letmein");

    /* the seeds as they are: the valid tokens verify, and the table of
     * verified tokens answers for each one put in */
    all = 1;
    hits = 1;
    for (i = 0; i < tokens->nelts; i++) {
        seed_token_t *t = &APR_ARRAY_IDX(tokens, i, seed_token_t);
        aapi_claims_t out;
        aapi_jwt_err_t rc = aapi_jwt_verify(p, key256, t->tok, t->len, &chk,
                                            &out);
        if ((rc == AAPI_JWT_OK) != t->valid) {
            diag("seed token %d: %s", i, aapi_jwt_strerror(rc));
            all = 0;
        }
        if (rc == AAPI_JWT_OK && t->len <= 1024) {
            aapi_tokcache_put(&scope_a, t->tok, t->len, &out,
                              aapi_revocation_stamp(out.sid), NOW + 3600);
            if (aapi_tokcache_get(&scope_a, t->tok, t->len, NOW, LEEWAY, p,
                                  NULL, &out) != AAPI_TOKCACHE_TRUSTED) {
                hits = 0;
            }
        }
    }
    /* a later token may take an earlier one's slot: the fuzzing expects a
     * hit for the tokens found once all are put, and for no other */
    for (i = 0, cached = 0; i < tokens->nelts; i++) {
        seed_token_t *t = &APR_ARRAY_IDX(tokens, i, seed_token_t);
        aapi_claims_t out;
        t->cached = aapi_tokcache_get(&scope_a, t->tok, t->len, NOW, LEEWAY,
                                      p, NULL, &out) == AAPI_TOKCACHE_TRUSTED;
        cached += t->cached;
    }
    ok(all, apr_psprintf(p, "each of the %d seed tokens verifies, or is "
                         "refused, as it was made to", tokens->nelts));
    ok(hits, "each valid seed token put in the table is found right after");
    diag("%d seed tokens in the table", cached);
    /* found by this test: jansson drops a NUL byte that follows a number
     * or a literal, and json.c handed it the text unchecked, so the body
     * reader accepted what json.h says it refuses */
    {
        aapi_json_t *o = NULL;
        is_int(aapi_json_parse_object(p, "{\"a\":0\0}", 8, &o),
               AAPI_INVALID_JSON,
               "regression: the JSON body reader refuses {\"a\":0 NUL }");
        is_int(aapi_json_parse_object(p, "{\"a\":[true\0]}", 13, &o),
               AAPI_INVALID_JSON,
               "regression: the JSON body reader refuses {\"a\":[true NUL ]}");
    }

    /* found by this test: flat_number let a 20-digit integer past 2^64
     * wrap around (its overflow test missed the last digit's step), so
     * 2^64 read as 0 and 2^64 + t as t: in a token signed with the key,
     * exp 2^64 + t was a valid time t instead of a bad payload */
    {
        char text[] = "{\"a\":18446744073709551616}";
        static const char pay[] = "{\"iss\":\"" ISS "\",\"aud\":\"" AUD "\","
                                  "\"sub\":\"u1\",\"sid\":\"s1\","
                                  "\"exp\":18446744075409552506}";
        size_t len;
        char *tok = sign_texts(p, key256, HDR256, strlen(HDR256), pay,
                               strlen(pay), &len);
        aapi_claims_t out;

        ok(aapi_json_flat_parse(p, text, strlen(text)) == NULL,
           "regression: the flat reader refuses {\"a\":18446744073709551616}");
        is_int(aapi_jwt_verify(p, key256, tok, len, &chk, &out),
               AAPI_JWT_BAD_PAYLOAD,
               "regression: a signed token with exp 2^64 + a valid time is a "
               "bad payload");
    }

    {
        const seed_token_t *t = &APR_ARRAY_IDX(tokens, 0, seed_token_t);
        const char *dot = strrchr(t->tok, '.');
        sig_prefix = apr_pstrndup(p, t->tok, (size_t)(dot + 1 - t->tok));
        right_sig = dot + 1;
    }

    {
        /* the slower targets last: they get the time the others leave */
        target_t targets[] = {
            { "email", check_email, email_inv, 3, 30000, 600, email_dict,
              email_bounds, 5, 0, emails },
            { "username", check_username, username_inv, 2, 15000, 64,
              field_dict, NULL, 0, 0, users },
            { "name", check_name, name_inv, 2, 15000, 1024, field_dict,
              name_bounds, 4, 0, names },
            { "password", check_password, password_inv, 4, 20000, 2100,
              field_dict, password_bounds, 7, 0, pws },
            { "jwt signature", check_sig, sig_inv, 2, 15000, 9000, text_dict,
              text_bounds, 4, 1, sigs },
            { "jwt header", check_header, claims_inv, 4, 15000, 2048,
              json_dict, header_bounds, 3, 1, hdrs },
            { "jwt text", check_text, text_inv, 4, 30000, 9000, text_dict,
              text_bounds, 4, 1, texts },
            { "utf8", check_utf8, utf8_inv, 4, 40000, 4096, json_dict,
              utf8_bounds, 7, 0, u8 },
            { "flat", check_flat, flat_inv, 8, 60000, 16384, json_dict,
              flat_bounds, 4, 0, flat },
            { "base64url", check_b64, b64_inv, 4, 50000, 9000, NULL,
              b64_bounds, 10, 0, b64 },
            { "jwt claims", check_claims, claims_inv, 4, 30000, 7000,
              json_dict, claims_bounds, 2, 1, claims },
        };
        ntargets = (int)(sizeof(targets) / sizeof(targets[0]));
        deadline = apr_time_now()
                   + apr_time_from_sec((apr_int64_t)BUDGET_SECONDS * scale);
        for (i = 0; i < ntargets; i++) {
            run_target(&targets[i], deadline, ntargets - i);
        }
    }
    return done();
}
