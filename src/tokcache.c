/*
 * tokcache.c - level 3: the per-process table of verified access tokens and
 * the revocation counter in anonymous shared memory.
 *
 * A slot is chosen from the token's signature characters; a hit needs the
 * whole stored token to equal the presented one (its signature compared in
 * constant time first), so the table answers only for tokens it has seen
 * verified. Readers take no lock (a sequence lock per slot). The counter
 * is a global one and one of REVOCATION_SHARDS, the one that a session's
 * id falls in: an ended session moves its own
 * (aapi_revocation_bump_session), an event that concerns more (a password
 * changed, sessions of a user ended at once) the global one
 * (aapi_revocation_bump). An entry checked under older values of the two
 * is not trusted, so a logout is refused at once by every process, while
 * the entries of the sessions of the other shards stay trusted.
 */
#include "aapi.h"
#include "keys.h"
#include "tokcache.h"
#include "util.h"

#include "apr_atomic.h"
#include "apr_shm.h"
#include "apr_thread_mutex.h"

#include <openssl/crypto.h>
#include <string.h>

#define SLOT_BITS      9
#define SLOTS          (1 << SLOT_BITS)
#define MAX_TOKEN      1024
#define MAX_ID         40
#define MAX_ROLE       65   /* 64 bytes: the 32 characters of MySQL's
                             * column, some of them not ASCII */
#define MAX_EMAIL      (AAPI_MAX_EMAIL_LEN + 1)
#define MAX_USERNAME   24

#define MAX_EXP_TEXT   24
/* room for the strings a hit hands out, each with its NUL */
#define MAX_IDENT      (2 * MAX_ID + MAX_ROLE + MAX_EMAIL + MAX_USERNAME \
                        + MAX_EXP_TEXT)
/* what a caller of aapi_tokcache_get gives room for */
#if MAX_IDENT != AAPI_TOKCACHE_ROOM
#error "AAPI_TOKCACHE_ROOM (tokcache.h) is not the room a hit takes"
#endif

typedef struct {
    apr_uint32_t busy;             /* held by the one writer: see slot_trylock */
    apr_uint32_t seq;              /* odd while written: see seq_write_begin */
    size_t len;                    /* 0: empty */
    const void *scope;             /* the configuration that verified it */
    char token[MAX_TOKEN];
    apr_uint64_t stamp;            /* the counters when it was checked */
    unsigned int shard;            /* the one its session falls in */
    apr_int64_t trust_until;
    apr_int64_t exp, iat, nbf;
    int email_verified;
    int has_username;
    /* sub, sid, role, email, username and exp as RFC 3339 (made once), each
     * ended by a NUL, back to back in IDENT (IDENT_LEN bytes, copied with
     * one memcpy); sub is at 0, the others at their offsets */
    apr_uint16_t ident_len, at_sid, at_role, at_email, at_username, at_exp;
    char ident[MAX_IDENT];
} slot_t;

#define CRED_SLOTS 256

/* Seconds past its trust during which an entry still answers while one
 * request re-verifies it, so that expiry does not send every thread to
 * bcrypt at once. */
#define CRED_STALE_GRACE 30

/* What a credential slot tells about its user: copied out whole by a
 * reader, so its strings end inside it (see aapi_credcache_get). */
typedef struct {
    int email_verified;
    int has_username;
    char user_id[MAX_ID], role[MAX_ROLE], email[MAX_EMAIL];
    char username[MAX_USERNAME];
    char stamp[AAPI_CRED_STAMP_LEN + 1];
} cred_ident_t;

typedef struct {
    apr_uint32_t seq;              /* odd while written: see seq_write_begin */
    apr_uint32_t revalidating;     /* one request is re-verifying it */
    int used;
    unsigned char key[AAPI_CRED_KEY_LEN];
    apr_uint32_t epoch;            /* its user's bucket's counter then */
    unsigned int bucket;           /* that bucket */
    apr_int64_t trust_until;
    cred_ident_t id;
} cred_slot_t;

static cred_slot_t *creds;
static aapi_key_t *cred_mac_key;

/* counter[0] is the global counter, counter[1 + i] the one of shard i,
 * counter[USER_AT + i] the one of user bucket i */
#define REVOCATION_SHARD_BITS 6
#define REVOCATION_SHARDS (1 << REVOCATION_SHARD_BITS)
#define USER_AT (1 + REVOCATION_SHARDS)
#define COUNTERS (USER_AT + AAPI_USER_BUCKETS)
static apr_shm_t *counter_shm;
/* when shared memory is missing: this process's own */
static apr_uint32_t local_counter[COUNTERS];
/* the counters in use: the shared ones, or else local_counter */
static volatile apr_uint32_t *counter = local_counter;
static slot_t *slots;
#if APR_HAS_THREADS
static apr_thread_mutex_t *lock;
#endif

apr_status_t aapi_revocation_init(apr_pool_t *pconf)
{
    apr_status_t rv = apr_shm_create(&counter_shm,
                                     sizeof(apr_uint32_t) * COUNTERS, NULL,
                                     pconf);
    int i;

    if (rv != APR_SUCCESS) {
        counter = local_counter;
        return rv;
    }
    counter = apr_shm_baseaddr_get(counter_shm);
    for (i = 0; i < COUNTERS; i++) {
        apr_atomic_set32(&counter[i], 0);
    }
    return APR_SUCCESS;
}

/* Returns the counter at index I (inline: it is read on every request). */
static APR_INLINE apr_uint32_t counter_at(unsigned int i)
{
    return __atomic_load_n(&counter[i], __ATOMIC_ACQUIRE);
}

static APR_INLINE void counter_inc(unsigned int i)
{
    __atomic_add_fetch(&counter[i], 1, __ATOMIC_SEQ_CST);
}

/* Returns the top BITS bits of the first eight bytes of ID (NULL: "")
 * times a constant: ids of sessions and users are random (this module
 * makes them; only verified ones get here), as the token table picks a
 * slot. */
static unsigned int id_bits(const char *id, unsigned int bits)
{
    apr_uint64_t w = 0;

    if (id) {
        memcpy(&w, id, strnlen(id, sizeof(w)));
    }
    return (unsigned int)((w * APR_UINT64_C(0x9e3779b97f4a7c15))
                          >> (64 - bits));
}

unsigned int aapi_revocation_shard(const char *sid)
{
    return id_bits(sid, REVOCATION_SHARD_BITS);
}

/* The stamp of shard SHARD: the global counter and the shard's. */
static APR_INLINE apr_uint64_t stamp_of(unsigned int shard)
{
    return ((apr_uint64_t)counter_at(0) << 32) | counter_at(1 + shard);
}

apr_uint64_t aapi_revocation_stamp(const char *sid)
{
    return stamp_of(aapi_revocation_shard(sid));
}

void aapi_revocation_bump(void)
{
    counter_inc(0);
}

void aapi_revocation_bump_session(const char *sid)
{
    counter_inc(1 + aapi_revocation_shard(sid));
}

unsigned int aapi_revocation_user_bucket(const char *uid)
{
    return id_bits(uid, AAPI_USER_BUCKET_BITS);
}

void aapi_revocation_users(apr_uint32_t out[AAPI_USER_BUCKETS])
{
    unsigned int i;

    for (i = 0; i < AAPI_USER_BUCKETS; i++) {
        out[i] = counter_at(USER_AT + i);
    }
}

void aapi_revocation_bump_user(const char *uid)
{
    counter_inc(USER_AT + aapi_revocation_user_bucket(uid));
}

static void credcache_child_init(apr_pool_t *p);

void aapi_tokcache_child_init(apr_pool_t *p)
{
    credcache_child_init(p);
    slots = apr_pcalloc(p, sizeof(slot_t) * SLOTS);
#if APR_HAS_THREADS
    if (apr_thread_mutex_create(&lock, APR_THREAD_MUTEX_DEFAULT, p)
        != APR_SUCCESS) {
        creds = NULL;   /* no lock, no table: every password is verified */
    }
#endif
}

/* Each slot of the token table is a sequence lock. Readers (every
 * protected request) write nothing shared: they read the slot's sequence
 * number, then the slot, then the number again, and keep what they read
 * only when it is even and has not moved; so any number of threads read
 * one slot at once, and the slot's memory stays in every core's cache.
 * Writers (a token verified for the first time, rare) take the slot's
 * writer lock if it is free (else they leave the write to its holder),
 * make the number odd, write (one copy of at most MAX_TOKEN + MAX_IDENT
 * bytes, no call that can block), and make it even again. A reader that
 * finds the number odd waits a bounded while for the write to end. */
static APR_INLINE void cpu_relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#elif defined(__aarch64__) || defined(__arm__)
    __asm__ __volatile__("yield" ::: "memory");
#else
    __asm__ __volatile__("" ::: "memory");
#endif
}

/* Makes S's sequence number odd before a write: readers that started
 * before or start during the write see it move or see it odd. */
static APR_INLINE void seq_write_begin(apr_uint32_t *seq)
{
    __atomic_store_n(seq, *seq + 1, __ATOMIC_RELAXED);
    __atomic_thread_fence(__ATOMIC_RELEASE);
}

/* Makes it even again once every byte of the write is stored. */
static APR_INLINE void seq_write_end(apr_uint32_t *seq)
{
    __atomic_store_n(seq, *seq + 1, __ATOMIC_RELEASE);
}

/* Begins a read of what SEQ guards: sets *V to its sequence number, after
 * waiting a bounded while for a write under way (a write takes well under
 * a microsecond); returns 0 when the writer took longer. */
static APR_INLINE int seq_read_begin(const apr_uint32_t *seq, apr_uint32_t *v)
{
    int spins;

    *v = __atomic_load_n(seq, __ATOMIC_ACQUIRE);
    for (spins = 0; spins < 1000 && (*v & 1); spins++) {
        cpu_relax();
        *v = __atomic_load_n(seq, __ATOMIC_ACQUIRE);
    }
    return !(*v & 1);
}

/* Returns 1 when no write came in since seq_read_begin gave V: what was
 * read in between is whole. */
static APR_INLINE int seq_read_valid(const apr_uint32_t *seq, apr_uint32_t v)
{
    __atomic_thread_fence(__ATOMIC_ACQUIRE);
    return __atomic_load_n(seq, __ATOMIC_RELAXED) == v;
}

/* Takes S's writer lock if it is free; returns 0 when another thread
 * holds it. A write only fills the table, so a writer that finds the slot
 * taken leaves it to the other (which is writing the same token, or one
 * that hashes to the same slot) instead of waiting: no thread ever spins
 * or sleeps on this lock. */
static APR_INLINE int slot_trylock(slot_t *s)
{
    return __atomic_load_n(&s->busy, __ATOMIC_RELAXED) == 0
           && !__atomic_exchange_n(&s->busy, 1, __ATOMIC_ACQUIRE);
}

static APR_INLINE void slot_unlock(slot_t *s)
{
    __atomic_store_n(&s->busy, 0, __ATOMIC_RELEASE);
}

/* The writers of the table of checked credentials take one lock (they are
 * few: one a password verification); its readers take none. */
static APR_INLINE void tables_lock(void)
{
#if APR_HAS_THREADS
    apr_thread_mutex_lock(lock);
#endif
}

static APR_INLINE void tables_unlock(void)
{
#if APR_HAS_THREADS
    apr_thread_mutex_unlock(lock);
#endif
}

/* Returns the slot for TOKEN: its last eight characters (of the signature,
 * an HMAC: already well mixed) times a constant, the top bits. Anyone can
 * aim a made-up token at a slot; it only misses there, for only a verified
 * token is ever put in. */
static slot_t *slot_of(const char *token, size_t len)
{
    apr_uint64_t w = 0;

    memcpy(&w, token + (len >= 8 ? len - 8 : 0), len >= 8 ? 8 : len);
    return &slots[(w * APR_UINT64_C(0x9e3779b97f4a7c15)) >> (64 - SLOT_BITS)];
}

/* The last bytes of a token, all of them signature (HS256, HS384 and
 * HS512 signatures are 43, 64 and 86 base64url characters): 192 bits of
 * the MAC, and one step of aapi_ct_equal_long. */
#define SIG_TAIL 32

/* Returns 1 when the LEN bytes of the cached token A and the offered B
 * are the same. The tail of signature bytes is compared first, in
 * constant time; the rest only when it matched, with memcmp: a client
 * that does not hold the cached token cannot match 192 bits of its MAC,
 * so the time it sees never depends on the cached bytes. */
static int same_token(const char *a, const char *b, size_t len)
{
    size_t tail = len < SIG_TAIL ? len : SIG_TAIL;

    return aapi_ct_equal_long(a + len - tail, b + len - tail, tail)
           && memcmp(a, b, len - tail) == 0;
}

/* Copies S (NULL as "") into DST (N bytes); returns 0 when it does not fit. */
static int put_str(char *dst, size_t n, const char *s)
{
    size_t len = s ? strlen(s) : 0;
    if (len >= n) {
        return 0;
    }
    memcpy(dst, s ? s : "", len + 1);
    return 1;
}

/* Appends S (NULL as "") with its NUL to the slot's strings when it is
 * shorter than MAX; sets *AT to where it starts; returns 0 when it is not. */
static int put_ident(slot_t *s, apr_uint16_t *at, const char *str, size_t max)
{
    size_t len = str ? strlen(str) : 0;

    if (len >= max || s->ident_len + len + 1 > MAX_IDENT) {
        return 0;
    }
    if (at) {
        *at = s->ident_len;
    }
    memcpy(s->ident + s->ident_len, str ? str : "", len);
    s->ident[s->ident_len + len] = '\0';
    s->ident_len = (apr_uint16_t)(s->ident_len + len + 1);
    return 1;
}

int aapi_tokcache_get(const void *scope, const char *token, size_t len,
                      apr_int64_t now, apr_int64_t leeway, apr_pool_t *p,
                      char *room, aapi_claims_t *out)
{
    slot_t *s;
    char *id = room;
    int attempt;

    if (!slots || len == 0 || len > MAX_TOKEN) {
        return AAPI_TOKCACHE_MISS;
    }
    s = slot_of(token, len);
    /* a reader takes no lock: it reads the slot between two reads of its
     * sequence number and keeps what it read only when no writer came in
     * between (see seq_write_begin); after a few collisions it gives up,
     * and the token is verified as if it had not been seen */
    for (attempt = 0; attempt < 4; attempt++) {
        apr_uint32_t seq;
        apr_uint16_t n = 0, at_sid = 0, at_role = 0, at_email = 0;
        apr_uint16_t at_username = 0, at_exp = 0;
        int hit = AAPI_TOKCACHE_MISS, has_username = 0, verified = 0;
        apr_int64_t exp = 0, iat = 0, nbf = 0;

        if (!seq_read_begin(&s->seq, &seq)) {
            continue;
        }
        if (s->len == len && s->scope == scope
            && same_token(s->token, token, len)
            && now - leeway <= s->exp) {
            /* the mask keeps a slot read while written in bounds */
            hit = s->stamp == stamp_of(s->shard & (REVOCATION_SHARDS - 1))
                  && now < s->trust_until
                  ? AAPI_TOKCACHE_TRUSTED : AAPI_TOKCACHE_KNOWN;
            n = s->ident_len;
            if (n > MAX_IDENT) {
                n = MAX_IDENT;
            }
            if (!id) {
                id = apr_palloc(p, MAX_IDENT);
            }
            memcpy(id, s->ident, n);
            at_sid = s->at_sid;
            at_role = s->at_role;
            at_email = s->at_email;
            at_username = s->at_username;
            at_exp = s->at_exp;
            has_username = s->has_username;
            verified = s->email_verified;
            exp = s->exp;
            iat = s->iat;
            nbf = s->nbf;
        }
        if (!seq_read_valid(&s->seq, seq)) {
            continue;             /* written meanwhile: read it again */
        }
        if (hit == AAPI_TOKCACHE_MISS) {
            return hit;
        }
        /* a consistent copy: every string ends inside it */
        if (n == 0 || id[n - 1] != '\0' || at_sid >= n || at_role >= n
            || at_email >= n || at_username >= n || at_exp >= n) {
            return AAPI_TOKCACHE_MISS;
        }
        out->iss = out->aud = out->jti = NULL;
        out->sub = id;
        out->sid = id + at_sid;
        out->role = id + at_role;
        out->email = id + at_email;
        out->username = has_username ? id + at_username : NULL;
        out->email_verified = verified;
        out->exp = exp;
        out->iat = iat;
        out->nbf = nbf;
        out->exp_text = id + at_exp;
        return hit;
    }
    return AAPI_TOKCACHE_MISS;
}

void aapi_tokcache_put(const void *scope, const char *token, size_t len,
                       const aapi_claims_t *cl, apr_uint64_t stamp,
                       apr_int64_t trust_until)
{
    slot_t *s;
    char exp_text[MAX_EXP_TEXT];

    if (!slots || len == 0 || len > MAX_TOKEN) {
        return;
    }
    aapi_rfc3339_to(exp_text, sizeof(exp_text), cl->exp);
    s = slot_of(token, len);
    if (!slot_trylock(s)) {
        return;                   /* another thread is writing this slot */
    }
    seq_write_begin(&s->seq);
    s->len = 0;
    s->ident_len = 0;
    if (put_ident(s, NULL, cl->sub, MAX_ID)
        && put_ident(s, &s->at_sid, cl->sid, MAX_ID)
        && put_ident(s, &s->at_role, cl->role ? cl->role : "user", MAX_ROLE)
        && put_ident(s, &s->at_email, cl->email, MAX_EMAIL)
        && put_ident(s, &s->at_username, cl->username, MAX_USERNAME)
        && put_ident(s, &s->at_exp, exp_text, MAX_EXP_TEXT)) {
        memcpy(s->token, token, len);
        s->scope = scope;
        s->has_username = cl->username != NULL;
        s->email_verified = cl->email_verified;
        s->exp = cl->exp;
        s->iat = cl->iat;
        s->nbf = cl->nbf;
        s->stamp = stamp;
        s->shard = aapi_revocation_shard(cl->sid);
        s->trust_until = trust_until;
        s->len = len;
    }
    seq_write_end(&s->seq);
    slot_unlock(s);
}

/* ==== verified Basic credentials ==== */

/* Sets up the credential table of this process, with a random MAC key. */
static void credcache_child_init(apr_pool_t *p)
{
    unsigned char secret[32];

    creds = apr_pcalloc(p, sizeof(cred_slot_t) * CRED_SLOTS);
    if (aapi_random_bytes(secret, sizeof(secret)) == 0) {
        cred_mac_key = aapi_key_hmac(p, AAPI_ALG_HS256, secret, sizeof(secret));
    }
    OPENSSL_cleanse(secret, sizeof(secret));
}

int aapi_credcache_key(const void *scope, const char *user,
                       const char *password,
                       unsigned char key[AAPI_CRED_KEY_LEN])
{
    unsigned char mac[64];
    size_t ul = strlen(user), pl = strlen(password), n, sl = sizeof(scope);
    unsigned char buf[sizeof(void *) + AAPI_MAX_EMAIL_LEN
                      + AAPI_MAX_PASSWORD_LEN + 2];

    if (!cred_mac_key || ul > AAPI_MAX_EMAIL_LEN || pl > AAPI_MAX_PASSWORD_LEN) {
        return 0;
    }
    /* the scope first: the same credentials checked for another server
     * (another database) give another key */
    memcpy(buf, &scope, sl);
    memcpy(buf + sl, user, ul);
    buf[sl + ul] = '\0';
    memcpy(buf + sl + ul + 1, password, pl);
    n = aapi_key_mac(cred_mac_key, buf, sl + ul + 1 + pl, mac);
    OPENSSL_cleanse(buf, sl + ul + 1 + pl);
    if (n < AAPI_CRED_KEY_LEN) {
        return 0;
    }
    memcpy(key, mac, AAPI_CRED_KEY_LEN);
    return 1;
}

/* Returns the credential slot for KEY. */
static cred_slot_t *cred_slot_of(const unsigned char *key)
{
    apr_uint32_t h;
    memcpy(&h, key, sizeof(h));
    return &creds[h % CRED_SLOTS];
}

int aapi_credcache_get(const unsigned char key[AAPI_CRED_KEY_LEN],
                       apr_int64_t now, apr_pool_t *p,
                       aapi_cred_identity_t *out)
{
    cred_slot_t *s;
    cred_ident_t *id;
    int attempt;

    if (!creds) {
        return 0;
    }
    s = cred_slot_of(key);
    id = apr_palloc(p, sizeof(*id));
    /* as the token table's readers (aapi_tokcache_get): no lock, a copy
     * kept only when no writer came in while it was made */
    for (attempt = 0; attempt < 4; attempt++) {
        apr_uint32_t seq;
        apr_int64_t until = 0;
        int hit = 0;

        if (!seq_read_begin(&s->seq, &seq)) {
            continue;
        }
        /* the mask keeps a slot read while written in bounds */
        if (s->used && aapi_ct_equal_long(s->key, key, AAPI_CRED_KEY_LEN)
            && s->epoch == counter_at(USER_AT + (s->bucket
                                                 & (AAPI_USER_BUCKETS - 1)))) {
            until = s->trust_until;
            if (now < until + CRED_STALE_GRACE) {
                memcpy(id, &s->id, sizeof(*id));
                hit = 1;
            }
        }
        if (!seq_read_valid(&s->seq, seq)) {
            continue;             /* written meanwhile: read it again */
        }
        if (!hit) {
            return 0;
        }
        /* past its trust: the first request to see it re-verifies, the
         * others keep the answer meanwhile (for CRED_STALE_GRACE at most) */
        if (now >= until
            && !__atomic_exchange_n(&s->revalidating, 1, __ATOMIC_ACQ_REL)) {
            return 0;
        }
        /* a consistent copy ends its strings (put_str); make sure */
        id->user_id[MAX_ID - 1] = id->role[MAX_ROLE - 1] = '\0';
        id->email[MAX_EMAIL - 1] = id->username[MAX_USERNAME - 1] = '\0';
        id->stamp[sizeof(id->stamp) - 1] = '\0';
        out->user_id = id->user_id;
        out->email = id->email;
        out->username = id->has_username ? id->username : NULL;
        out->role = id->role;
        out->email_verified = id->email_verified;
        memcpy(out->stamp, id->stamp, sizeof(out->stamp));
        return 1;
    }
    return 0;
}

void aapi_credcache_put(const unsigned char key[AAPI_CRED_KEY_LEN],
                        const aapi_cred_identity_t *id, apr_uint32_t epoch,
                        apr_int64_t trust_until)
{
    cred_slot_t *s;

    if (!creds) {
        return;
    }
    s = cred_slot_of(key);
    tables_lock();
    seq_write_begin(&s->seq);
    s->used = 0;
    if (put_str(s->id.user_id, MAX_ID, id->user_id)
        && put_str(s->id.email, MAX_EMAIL, id->email)
        && put_str(s->id.role, MAX_ROLE, id->role)
        && put_str(s->id.username, MAX_USERNAME, id->username)
        && put_str(s->id.stamp, sizeof(s->id.stamp), id->stamp)) {
        memcpy(s->key, key, AAPI_CRED_KEY_LEN);
        s->id.has_username = id->username != NULL;
        s->id.email_verified = id->email_verified;
        s->epoch = epoch;
        s->bucket = aapi_revocation_user_bucket(id->user_id);
        s->trust_until = trust_until;
        s->used = 1;
    }
    __atomic_store_n(&s->revalidating, 0, __ATOMIC_RELAXED);
    seq_write_end(&s->seq);
    tables_unlock();
}

void aapi_credcache_drop(const unsigned char key[AAPI_CRED_KEY_LEN])
{
    cred_slot_t *s;

    if (!creds) {
        return;
    }
    s = cred_slot_of(key);
    tables_lock();
    if (s->used && aapi_ct_equal_long(s->key, key, AAPI_CRED_KEY_LEN)) {
        seq_write_begin(&s->seq);
        s->used = 0;
        __atomic_store_n(&s->revalidating, 0, __ATOMIC_RELAXED);
        seq_write_end(&s->seq);
    }
    tables_unlock();
}
