/*
 * test_tokcache.c - the per-process table of verified tokens (src/
 * tokcache.c): a hit needs the same bytes, the same configuration, a time
 * before exp, and an unmoved revocation counter to be trusted; and the
 * table of verified Basic credentials, whose readers take no lock either.
 */
#include "aapi.h"
#include "jwt.h"
#include "tokcache.h"
#include "util.h"
#include "tap.h"

#include "apr_thread_proc.h"

#include <string.h>

static apr_pool_t *p;

#define NOW 1800000000

/* A token-shaped string of LEN bytes: a repeated body, then a tail of 43
 * characters made from SEED, as a signature would be. */
static char *fake_token(size_t len, char seed)
{
    char *t = apr_palloc(p, len + 1);
    size_t i;

    for (i = 0; i < len; i++) {
        t[i] = i + 43 < len ? "eyJhbGciOiJIUzI1NiJ9."[i % 21]
                            : (char)('A' + (seed + i) % 26);
    }
    t[len] = '\0';
    return t;
}

static aapi_claims_t claims(void)
{
    aapi_claims_t c;

    memset(&c, 0, sizeof(c));
    c.sub = "0123456789abcdef0123456789abcdef";
    c.sid = "fedcba9876543210fedcba9876543210";
    c.role = "editor";
    c.email = "ann@example.com";
    c.username = "ann_1";
    c.email_verified = 1;
    c.iat = c.nbf = NOW - 10;
    c.exp = NOW + 900;
    return c;
}

static int get(const void *scope, const char *tok, apr_int64_t now,
               aapi_claims_t *out)
{
    return aapi_tokcache_get(scope, tok, strlen(tok), now, 30, p, NULL, out);
}

static void test_hits_and_misses(void)
{
    static const int scope_a = 1, scope_b = 2;
    aapi_claims_t in = claims(), out;
    char *tok = fake_token(470, 0);
    char *other;
    size_t len = strlen(tok);

    is_int(get(&scope_a, tok, NOW, &out), AAPI_TOKCACHE_MISS,
           "a token never put: miss");
    aapi_tokcache_put(&scope_a, tok, len, &in, aapi_revocation_stamp(in.sid),
                      NOW + 60);
    is_int(get(&scope_a, tok, NOW, &out), AAPI_TOKCACHE_TRUSTED,
           "the same bytes, same configuration: trusted");
    is_str(out.sub, in.sub, "hit: sub");
    is_str(out.sid, in.sid, "hit: sid");
    is_str(out.role, in.role, "hit: role");
    is_str(out.email, in.email, "hit: email");
    is_str(out.username, in.username, "hit: username");
    is_int(out.email_verified, 1, "hit: email_verified");
    is_int(out.exp, in.exp, "hit: exp");
    is_str(out.exp_text, "2027-01-15T08:15:00Z", "hit: exp as RFC 3339");
    {
        /* a caller's room: every string of the hit is copied into it */
        char *room = apr_palloc(p, AAPI_TOKCACHE_ROOM);
        const char *const strs[] = { "sub", "sid", "role", "email",
                                     "username", "exp_text" };
        int i;

        is_int(aapi_tokcache_get(&scope_a, tok, len, NOW, 30, p, room, &out),
               AAPI_TOKCACHE_TRUSTED, "hit into a caller's room");
        {
            const char *got[6];
            got[0] = out.sub; got[1] = out.sid; got[2] = out.role;
            got[3] = out.email; got[4] = out.username; got[5] = out.exp_text;
            for (i = 0; i < 6; i++) {
                ok(got[i] >= room && got[i] + strlen(got[i])
                                     < room + AAPI_TOKCACHE_ROOM,
                   apr_psprintf(p, "room: %s lies in it, NUL and all",
                                strs[i]));
            }
        }
        is_str(out.email, in.email, "room: email");
        is_str(out.exp_text, "2027-01-15T08:15:00Z", "room: exp");
    }

    /* one byte changed anywhere: in the head (compared after the
     * signature), in the middle, in the signature, at the very end */
    {
        static const size_t at[] = { 0, 1, 200, 373, 374, 430, 469 };
        size_t i;
        for (i = 0; i < sizeof(at) / sizeof(at[0]); i++) {
            other = apr_pstrdup(p, tok);
            other[at[i]] = other[at[i]] == 'x' ? 'y' : 'x';
            is_int(get(&scope_a, other, NOW, &out), AAPI_TOKCACHE_MISS,
                   apr_psprintf(p, "byte %lu changed: miss",
                                (unsigned long)at[i]));
        }
    }
    other = apr_pstrndup(p, tok, len - 1);
    is_int(get(&scope_a, other, NOW, &out), AAPI_TOKCACHE_MISS,
           "the token less its last byte: miss");
    other = apr_pstrcat(p, tok, "A", NULL);
    is_int(get(&scope_a, other, NOW, &out), AAPI_TOKCACHE_MISS,
           "the token and one byte more: miss");
    is_int(get(&scope_b, tok, NOW, &out), AAPI_TOKCACHE_MISS,
           "the same bytes for another configuration: miss");

    is_int(get(&scope_a, tok, NOW + 61, &out), AAPI_TOKCACHE_KNOWN,
           "after its trust time: known, not trusted");
    is_int(get(&scope_a, tok, in.exp + 30, &out), AAPI_TOKCACHE_KNOWN,
           "at exp plus the leeway: still known");
    is_int(get(&scope_a, tok, in.exp + 31, &out), AAPI_TOKCACHE_MISS,
           "past exp plus the leeway: miss");

    aapi_revocation_bump();
    is_int(get(&scope_a, tok, NOW, &out), AAPI_TOKCACHE_KNOWN,
           "after the revocation counter moved: known, not trusted");

    /* the leeway is taken from now, never added to exp: an exp at the
     * top of 64 bits does not wrap round to the past */
    in.exp = APR_INT64_MAX;
    aapi_tokcache_put(&scope_a, tok, len, &in, aapi_revocation_stamp(in.sid),
                      NOW + 60);
    is_int(get(&scope_a, tok, NOW, &out), AAPI_TOKCACHE_TRUSTED,
           "exp at the largest 64-bit integer: trusted, the leeway no "
           "overflow");
}

/* the longest role the table holds: 64 bytes (MySQL's column holds 32
 * characters, which UTF-8 may make more bytes); one more is not kept */
static void test_role_sizes(void)
{
    static const int scope = 4;
    aapi_claims_t in = claims(), out;
    char *tok = fake_token(400, 5);
    char role[66];

    memset(role, 'r', 64);
    role[64] = '\0';
    in.role = role;
    aapi_tokcache_put(&scope, tok, strlen(tok), &in,
                      aapi_revocation_stamp(in.sid),
                      NOW + 60);
    ok(get(&scope, tok, NOW, &out) == AAPI_TOKCACHE_TRUSTED
       && !strcmp(out.role, role), "a role of 64 bytes is kept");
    role[64] = 'r';
    role[65] = '\0';
    tok = fake_token(400, 6);
    aapi_tokcache_put(&scope, tok, strlen(tok), &in,
                      aapi_revocation_stamp(in.sid),
                      NOW + 60);
    ok(get(&scope, tok, NOW, &out) == AAPI_TOKCACHE_MISS,
       "a role of 65 bytes is not (the token is verified every time)");
}

/* a session's end moves the counter of its shard: the tokens of the
 * sessions of that shard are checked again, the others stay trusted; the
 * global counter reaches all */
static void test_revocation_shards(void)
{
    static const int scope = 5;
    aapi_claims_t a = claims(), b = claims(), out;
    char *ta = fake_token(400, 8), *tb = fake_token(400, 9);
    const char *same = NULL, *other = NULL;
    int i;

    a.sid = "0a1b2c3d4e5f60718293a4b5c6d7e8f9";
    for (i = 0; i < 1000 && (!same || !other); i++) {
        const char *sid = aapi_random_hex(p, 16);     /* as sessions' */
        if (!sid || strcmp(sid, a.sid) == 0) {
            continue;
        }
        if (aapi_revocation_shard(sid) == aapi_revocation_shard(a.sid)) {
            same = same ? same : sid;
        }
        else {
            other = other ? other : sid;
        }
    }
    ok(same && other, "shards: ids in the same shard and in another found");
    if (!same || !other) {
        return;
    }
    ok(aapi_revocation_shard(a.sid) == aapi_revocation_shard(a.sid)
       && aapi_revocation_shard(a.sid) < 64
       && aapi_revocation_shard(NULL) == aapi_revocation_shard(""),
       "shards: the same id, the same shard, in range");
    b.sid = other;
    {
        /* random ids spread over all 64 shards (100 a shard expected; the
         * bounds are five standard deviations away) */
        int count[64] = { 0 }, lo = 1 << 30, hi = 0, j;
        for (j = 0; j < 6400; j++) {
            const char *sid = aapi_random_hex(p, 16);
            unsigned int sh = aapi_revocation_shard(sid);
            count[sh < 64 ? sh : 0]++;
        }
        for (j = 0; j < 64; j++) {
            lo = count[j] < lo ? count[j] : lo;
            hi = count[j] > hi ? count[j] : hi;
        }
        ok(lo >= 50 && hi <= 150,
           apr_psprintf(p, "shards: 6400 random ids spread over all 64 "
                        "(%d to %d a shard)", lo, hi));
    }

    aapi_tokcache_put(&scope, ta, strlen(ta), &a, aapi_revocation_stamp(a.sid),
                      NOW + 60);
    aapi_tokcache_put(&scope, tb, strlen(tb), &b, aapi_revocation_stamp(b.sid),
                      NOW + 60);
    ok(get(&scope, ta, NOW, &out) == AAPI_TOKCACHE_TRUSTED
       && get(&scope, tb, NOW, &out) == AAPI_TOKCACHE_TRUSTED,
       "shards: both tokens trusted");
    aapi_revocation_bump_session(a.sid);
    is_int(get(&scope, ta, NOW, &out), AAPI_TOKCACHE_KNOWN,
           "shards: its session ended: checked again");
    is_int(get(&scope, tb, NOW, &out), AAPI_TOKCACHE_TRUSTED,
           "shards: a session of another shard: still trusted");

    aapi_tokcache_put(&scope, ta, strlen(ta), &a, aapi_revocation_stamp(a.sid),
                      NOW + 60);
    aapi_revocation_bump_session(same);
    is_int(get(&scope, ta, NOW, &out), AAPI_TOKCACHE_KNOWN,
           "shards: another session of its shard ended: checked again");
    is_int(get(&scope, tb, NOW, &out), AAPI_TOKCACHE_TRUSTED,
           "shards: ... and the other shard's token still trusted");

    aapi_revocation_bump();
    is_int(get(&scope, tb, NOW, &out), AAPI_TOKCACHE_KNOWN,
           "shards: the global counter moved: every token checked again");
}

static void test_short_tokens(void)
{
    static const int scope = 3;
    aapi_claims_t in = claims(), out;
    char *tok = fake_token(60, 7), *other;

    aapi_tokcache_put(&scope, tok, strlen(tok), &in,
                      aapi_revocation_stamp(in.sid),
                      NOW + 60);
    is_int(get(&scope, tok, NOW, &out), AAPI_TOKCACHE_TRUSTED,
           "a token shorter than the signature tail: trusted");
    other = apr_pstrdup(p, tok);
    other[0] = 'x';
    is_int(get(&scope, other, NOW, &out), AAPI_TOKCACHE_MISS,
           "a short token with its first byte changed: miss");
}

/* ==== readers while a writer rewrites the slot ==== */

#define RACE_PUTS  4000
#define RACE_GETS  400000

/* A race of two readers and a writer on one slot of a table: the writer
 * puts identity A and B in turn, once both readers have read once; each
 * reader counts what it read until the writer is done. */
typedef struct {
    void (*put)(int which);             /* puts A (0) or B (1) */
    int (*probe)(apr_pool_t *rp);       /* 0 miss, 1 A or B whole, 2 mixed */
} race_t;

static const race_t *race;
static volatile int race_done;
static volatile int race_started;  /* readers that have read once */

static void *APR_THREAD_FUNC race_writer(apr_thread_t *t, void *arg)
{
    int i;
    (void)arg;
    /* writes only once both readers are reading, so that they overlap */
    while (__atomic_load_n(&race_started, __ATOMIC_ACQUIRE) < 2) {
        apr_thread_yield();
    }
    for (i = 0; i < RACE_PUTS; i++) {
        race->put(i % 2);
    }
    __atomic_store_n(&race_done, 1, __ATOMIC_RELEASE);
    apr_thread_exit(t, APR_SUCCESS);
    return NULL;
}

static void *APR_THREAD_FUNC race_reader(apr_thread_t *t, void *arg)
{
    long *counts = arg;      /* [0] hits, [1] mixed, [2] misses */
    apr_pool_t *rp;
    int i;

    apr_pool_create(&rp, NULL);
    /* the first read comes before any write; the others run until the
     * writer is done */
    for (i = 0; i < RACE_GETS
                && (i < 1 || !__atomic_load_n(&race_done, __ATOMIC_ACQUIRE));
         i++) {
        switch (race->probe(rp)) {
        case 0:
            counts[2]++;
            break;
        case 1:
            counts[0]++;
            break;
        default:
            counts[1]++;
        }
        if (i == 0) {
            __atomic_add_fetch(&race_started, 1, __ATOMIC_RELEASE);
        }
        if (i % 1000 == 999) {
            apr_pool_clear(rp);
        }
    }
    apr_pool_destroy(rp);
    apr_thread_exit(t, APR_SUCCESS);
    return NULL;
}

/* Runs the race R (its slot holding A already); NAME prefixes the tests. */
static void run_race(const race_t *r, const char *name)
{
    apr_thread_t *w, *r1, *r2;
    apr_status_t rv;
    long c1[3] = { 0, 0, 0 }, c2[3] = { 0, 0, 0 };

    race = r;
    race_started = 0;
    race_done = 0;
    rv = apr_thread_create(&r1, NULL, race_reader, c1, p);
    if (rv == APR_SUCCESS) rv = apr_thread_create(&r2, NULL, race_reader, c2, p);
    if (rv == APR_SUCCESS) rv = apr_thread_create(&w, NULL, race_writer, NULL, p);
    ok(rv == APR_SUCCESS,
       apr_psprintf(p, "%stwo readers and a writer started", name));
    if (rv != APR_SUCCESS) {
        return;
    }
    apr_thread_join(&rv, w);
    apr_thread_join(&rv, r1);
    apr_thread_join(&rv, r2);
    is_int(c1[1] + c2[1], 0,
           apr_psprintf(p, "%sno reader ever got an identity mixed from two "
                        "writes", name));
    ok(c1[0] + c2[0] > 0,
       apr_psprintf(p, "%sthe readers got whole identities (%ld hits, %ld "
                    "misses while written)", name, c1[0] + c2[0],
                    c1[2] + c2[2]));
}

/* ---- the token table ---- */

static const char *race_token;
static aapi_claims_t race_a, race_b;

/* Returns 1 when OUT is all of WANT's identity, no field of the other. */
static int same_identity(const aapi_claims_t *out, const aapi_claims_t *want)
{
    return !strcmp(out->sub, want->sub) && !strcmp(out->sid, want->sid)
           && !strcmp(out->role, want->role)
           && !strcmp(out->email, want->email)
           && (want->username ? out->username
                                && !strcmp(out->username, want->username)
                              : !out->username)
           && out->email_verified == want->email_verified
           && out->exp == want->exp;
}

static void token_put(int which)
{
    const aapi_claims_t *cl = which ? &race_b : &race_a;

    aapi_tokcache_put(&race_token, race_token, strlen(race_token), cl,
                      aapi_revocation_stamp(cl->sid), NOW + 60);
}

static int token_probe(apr_pool_t *rp)
{
    aapi_claims_t out;

    if (aapi_tokcache_get(&race_token, race_token, strlen(race_token), NOW,
                          30, rp, NULL, &out) == AAPI_TOKCACHE_MISS) {
        return 0;
    }
    return same_identity(&out, &race_a) || same_identity(&out, &race_b)
           ? 1 : 2;
}

static void test_readers_and_a_writer(void)
{
    static const race_t r = { token_put, token_probe };

    race_token = fake_token(300, 11);
    race_a = claims();
    race_b = claims();
    /* B differs in every field, and in every length, so that a mix of the
     * two shows */
    race_b.sub = "b1";
    race_b.sid = "another-session-id-of-other-length";
    race_b.role = "user";
    race_b.email = "somebody.else@example.org";
    race_b.username = NULL;
    race_b.email_verified = 0;
    race_b.exp = NOW + 1800;
    token_put(0);
    run_race(&r, "");
}

/* ==== the table of verified Basic credentials ==== */

/* The identity of claims(), as the Basic provider keeps it. */
static aapi_cred_identity_t cred_ann(void)
{
    aapi_claims_t c = claims();
    aapi_cred_identity_t id = { c.sub, c.email, c.username, c.role,
                                c.email_verified, "0123456789abcdef" };
    return id;
}

static int same_cred(const aapi_cred_identity_t *a,
                     const aapi_cred_identity_t *b)
{
    return !strcmp(a->user_id, b->user_id) && !strcmp(a->email, b->email)
           && !strcmp(a->role, b->role)
           && (b->username ? a->username && !strcmp(a->username, b->username)
                           : !a->username)
           && a->email_verified == b->email_verified
           && !strcmp(a->stamp, b->stamp);
}

/* The counter of the bucket of user UID now. */
static apr_uint32_t user_epoch(const char *uid)
{
    apr_uint32_t all[AAPI_USER_BUCKETS];

    aapi_revocation_users(all);
    return all[aapi_revocation_user_bucket(uid)];
}

/* Returns a random user id (as the module makes them) in the bucket of UID
 * when SAME, in another when not; NULL when none turns up. */
static const char *user_in_bucket(const char *uid, int same)
{
    int i;

    for (i = 0; i < 100000; i++) {
        const char *id = aapi_random_hex(p, 16);
        if (id && strcmp(id, uid) != 0
            && (aapi_revocation_user_bucket(id)
                == aapi_revocation_user_bucket(uid)) == !!same) {
            return id;
        }
    }
    return NULL;
}

static void test_creds(void)
{
    static const int scope_a = 1, scope_b = 2;
    unsigned char k[AAPI_CRED_KEY_LEN], k_pw[AAPI_CRED_KEY_LEN];
    unsigned char k_scope[AAPI_CRED_KEY_LEN], k_again[AAPI_CRED_KEY_LEN];
    aapi_cred_identity_t in = cred_ann(), out;
    apr_uint32_t epoch = user_epoch(in.user_id);
    const char *neighbour = user_in_bucket(in.user_id, 1);
    const char *stranger = user_in_bucket(in.user_id, 0);

    ok(aapi_credcache_key(&scope_a, "ann@example.com", "Secret-pw1", k)
       && aapi_credcache_key(&scope_a, "ann@example.com", "Secret-pw2", k_pw)
       && aapi_credcache_key(&scope_b, "ann@example.com", "Secret-pw1",
                             k_scope)
       && aapi_credcache_key(&scope_a, "ann@example.com", "Secret-pw1",
                             k_again),
       "creds: keys made");
    ok(!memcmp(k, k_again, sizeof(k)), "creds: the same input, the same key");
    ok(memcmp(k, k_pw, sizeof(k)) && memcmp(k, k_scope, sizeof(k)),
       "creds: another password or another server, another key");

    ok(!aapi_credcache_get(k, NOW, p, &out), "creds: unknown: miss");
    aapi_credcache_put(k, &in, epoch, NOW + 60);
    memset(&out, 0, sizeof(out));
    ok(aapi_credcache_get(k, NOW, p, &out) && same_cred(&out, &in),
       "creds: put, then a hit with the whole identity");
    ok(!aapi_credcache_get(k_pw, NOW, p, &out),
       "creds: another password misses");
    ok(!aapi_credcache_get(k_scope, NOW, p, &out),
       "creds: the same credentials for another server miss");

    /* past the trust: one request re-verifies, the others keep the answer
     * for the grace, after which all miss */
    ok(!aapi_credcache_get(k, NOW + 60, p, &out),
       "creds: stale: the first request re-verifies");
    ok(aapi_credcache_get(k, NOW + 61, p, &out) && same_cred(&out, &in),
       "creds: stale: the others keep the answer meanwhile");
    ok(!aapi_credcache_get(k, NOW + 60 + 30, p, &out),
       "creds: past the grace: a miss for all");
    aapi_credcache_put(k, &in, epoch, NOW + 120);
    ok(aapi_credcache_get(k, NOW + 61, p, &out),
       "creds: the re-verification's put trusts it again");
    ok(!aapi_credcache_get(k, NOW + 120, p, &out),
       "creds: ... and the next time it goes stale, one re-verifies again");

    aapi_credcache_put(k, &in, epoch, NOW + 60);
    aapi_revocation_bump_user(in.user_id);
    ok(!aapi_credcache_get(k, NOW, p, &out),
       "creds: its user changed (its bucket's counter moved): miss");
    aapi_credcache_put(k, &in, user_epoch(in.user_id), NOW + 60);
    ok(aapi_credcache_get(k, NOW, p, &out), "creds: put at the new count: hit");
    aapi_revocation_bump_session("0123456789abcdef0123456789abcdef");
    ok(aapi_credcache_get(k, NOW, p, &out),
       "creds: a session's end (its shard's counter) leaves credentials alone");
    aapi_revocation_bump();
    ok(aapi_credcache_get(k, NOW, p, &out),
       "creds: the global counter (sessions of a user ended, claims out of "
       "date) leaves credentials alone");
    ok(neighbour && stranger, "creds: user ids in its bucket and in another "
       "found");
    aapi_revocation_bump_user(stranger);
    ok(aapi_credcache_get(k, NOW, p, &out),
       "creds: a user of another bucket changed: still a hit");
    aapi_revocation_bump_user(neighbour);
    ok(!aapi_credcache_get(k, NOW, p, &out),
       "creds: a user of its bucket changed: miss (one in 256 shares it)");
    aapi_credcache_put(k, &in, user_epoch(in.user_id), NOW + 60);
    {
        /* random ids spread over all 256 buckets (100 a bucket expected;
         * the bounds are five standard deviations away) */
        int count[AAPI_USER_BUCKETS] = { 0 }, lo = 1 << 30, hi = 0, j;
        for (j = 0; j < 100 * AAPI_USER_BUCKETS; j++) {
            const char *uid = aapi_random_hex(p, 16);
            unsigned int b = aapi_revocation_user_bucket(uid);
            count[b < AAPI_USER_BUCKETS ? b : 0]++;
        }
        for (j = 0; j < AAPI_USER_BUCKETS; j++) {
            lo = count[j] < lo ? count[j] : lo;
            hi = count[j] > hi ? count[j] : hi;
        }
        ok(lo >= 50 && hi <= 150 && aapi_revocation_user_bucket(NULL)
                                    == aapi_revocation_user_bucket(""),
           apr_psprintf(p, "creds: 25600 random user ids spread over all "
                        "256 buckets (%d to %d a bucket)", lo, hi));
    }

    aapi_credcache_drop(k_pw);
    ok(aapi_credcache_get(k, NOW, p, &out),
       "creds: dropping another key leaves it");
    aapi_credcache_drop(k);
    ok(!aapi_credcache_get(k, NOW, p, &out), "creds: dropped: miss");

    in.username = NULL;
    in.stamp[0] = '\0';
    aapi_credcache_put(k, &in, user_epoch(in.user_id), NOW + 60);
    ok(aapi_credcache_get(k, NOW, p, &out) && out.username == NULL
       && out.stamp[0] == '\0' && same_cred(&out, &in),
       "creds: no username, no stamp");

    in = cred_ann();
    in.role = "a-role-name-far-too-long-for-the-table-of-credentials-"
              "longer-than-sixty-four-bytes";
    aapi_credcache_put(k, &in, user_epoch(in.user_id), NOW + 60);
    ok(!aapi_credcache_get(k, NOW, p, &out),
       "creds: an identity that does not fit is not kept");
}

static unsigned char race_key[AAPI_CRED_KEY_LEN];
static aapi_cred_identity_t race_ca, race_cb;

static void cred_put(int which)
{
    const aapi_cred_identity_t *id = which ? &race_cb : &race_ca;

    aapi_credcache_put(race_key, id, user_epoch(id->user_id), NOW + 60);
}

static int cred_probe(apr_pool_t *rp)
{
    aapi_cred_identity_t out;

    if (!aapi_credcache_get(race_key, NOW, rp, &out)) {
        return 0;
    }
    return same_cred(&out, &race_ca) || same_cred(&out, &race_cb) ? 1 : 2;
}

static void test_creds_readers_and_a_writer(void)
{
    static const int scope = 3;
    static const race_t r = { cred_put, cred_probe };

    aapi_credcache_key(&scope, "race@example.com", "Secret-pw1", race_key);
    race_ca = cred_ann();
    race_cb = cred_ann();
    race_cb.user_id = "b1";
    race_cb.email = "somebody.else@example.org";
    race_cb.username = NULL;
    race_cb.role = "user";
    race_cb.email_verified = 0;
    memcpy(race_cb.stamp, "fedcba98", 9);
    cred_put(0);
    run_race(&r, "creds: ");
}

int main(void)
{
    p = tap_init();
    aapi_tokcache_child_init(p);
    test_hits_and_misses();
    test_short_tokens();
    test_role_sizes();
    test_revocation_shards();
    test_readers_and_a_writer();
    test_creds();
    test_creds_readers_and_a_writer();
    return done();
}
