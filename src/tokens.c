/*
 * tokens.c - level 4: the tokens of a session: a signed access token and an
 * opaque refresh token, stored only as its SHA-256.
 */
#include "aapi.h"
#include "tokens.h"
#include "cache.h"
#include "password.h"
#include "tokcache.h"
#include "util.h"

#include "apr_lib.h"

#include <string.h>

#define ID_BYTES 16

aapi_status_t aapi_tokens_new_session(apr_pool_t *p, const aapi_srv_cfg_t *c,
                                      const aapi_user_t *user,
                                      const char *ip, const char *ua,
                                      aapi_session_t *sess,
                                      aapi_token_pair_t *pair)
{
    apr_int64_t now = aapi_now();
    const char *refresh = aapi_random_b64url(p, AAPI_REFRESH_BYTES);

    memset(sess, 0, sizeof(*sess));
    sess->id = aapi_random_hex(p, ID_BYTES);
    if (!refresh || !sess->id) {
        return AAPI_INTERNAL;
    }
    sess->user_id = user->id;
    sess->refresh_hash = aapi_sha256_hex(p, refresh, strlen(refresh));
    sess->created_at = sess->last_used_at = now;
    sess->expires_at = now + aapi_cfg_refresh_ttl(c);
    sess->ip = ip;
    sess->user_agent = ua ? aapi_utf8_clean(p, ua, AAPI_MAX_UA_LEN) : NULL;
    pair->refresh_token = refresh;
    pair->refresh_expires_in = aapi_cfg_refresh_ttl(c);
    pair->session_id = sess->id;
    return sess->refresh_hash ? AAPI_OK : AAPI_INTERNAL;
}

aapi_status_t aapi_tokens_sign_access(apr_pool_t *p, const aapi_srv_cfg_t *c,
                                      const aapi_user_t *user, const char *sid,
                                      aapi_token_pair_t *pair)
{
    aapi_claims_t cl;
    apr_int64_t now = aapi_now();

    memset(&cl, 0, sizeof(cl));
    cl.iss = c->issuer;
    cl.aud = c->audience;
    cl.sub = user->id;
    cl.sid = sid;
    cl.jti = aapi_random_b64url(p, ID_BYTES);
    cl.role = user->role;
    cl.email = user->email;
    cl.username = user->username;
    cl.email_verified = user->email_verified;
    cl.iat = cl.nbf = now;
    cl.exp = now + aapi_cfg_access_ttl(c);
    if (!cl.jti || !c->key) {
        return AAPI_INTERNAL;
    }
    pair->access_token = aapi_jwt_sign(p, c->key, &cl);
    pair->expires_in = aapi_cfg_access_ttl(c);
    return pair->access_token ? AAPI_OK : AAPI_INTERNAL;
}

/* Verifies TOKEN (LEN bytes) with C's key, issuer, audience and leeway at
 * NOW; returns AAPI_OK with *CLAIMS, or AAPI_INVALID_TOKEN with *WHY and,
 * when EXPIRED is given, whether only the expiry failed. */
static aapi_status_t verify(apr_pool_t *p, const aapi_srv_cfg_t *c,
                            const char *token, size_t len, apr_int64_t now,
                            aapi_claims_t *claims, const char **why,
                            int *expired)
{
    aapi_jwt_check_t check;
    aapi_jwt_err_t err;

    if (!c->key) {
        *why = "no signing key configured";
        return AAPI_INVALID_TOKEN;
    }
    check.issuer = c->issuer;
    check.audience = c->audience;
    check.now = now;
    check.leeway = aapi_cfg_leeway(c);
    err = aapi_jwt_verify(p, c->key, token, len, &check, claims);
    if (expired) {
        *expired = err == AAPI_JWT_EXPIRED;
    }
    if (err != AAPI_JWT_OK) {
        *why = aapi_jwt_strerror(err);
        return AAPI_INVALID_TOKEN;
    }
    return AAPI_OK;
}

aapi_status_t aapi_tokens_verify_access(apr_pool_t *p, const aapi_srv_cfg_t *c,
                                        const char *token,
                                        aapi_claims_t *claims,
                                        const char **why)
{
    return verify(p, c, token, strlen(token), aapi_now(), claims, why, NULL);
}

/* ==== refresh rotation ==== */

/* Returns the successor of refresh token TOKEN: an HMAC of it under the
 * rotation key, so that every request presenting the same just-rotated token
 * inside the grace window is handed the same, single live successor. */
static const char *successor(apr_pool_t *p, const aapi_srv_cfg_t *c,
                             const char *token)
{
    unsigned char mac[64];
    size_t n = aapi_key_mac(c->rotation_key, (const unsigned char *)token,
                            strlen(token), mac);
    return n >= AAPI_REFRESH_BYTES
           ? aapi_b64url_encode(p, mac, AAPI_REFRESH_BYTES) : NULL;
}

/* Returns 1 when TOKEN has the form of a refresh token this module issues. */
static int refresh_shape_ok(const char *token)
{
    size_t i, n = strlen(token);

    if (n != aapi_b64url_enclen(AAPI_REFRESH_BYTES)) {
        return 0;
    }
    for (i = 0; i < n; i++) {
        if (!(apr_isalnum(token[i]) || token[i] == '-' || token[i] == '_')) {
            return 0;
        }
    }
    return 1;
}

aapi_status_t aapi_tokens_refresh(request_rec *r, const aapi_srv_cfg_t *c,
                                  aapi_db_t *db, const char *token,
                                  aapi_user_t **user, aapi_token_pair_t *pair)
{
    apr_pool_t *p = r->pool;
    apr_int64_t now = aapi_now(), grace = aapi_cfg_reuse_grace(c);
    apr_int64_t now_ms = (apr_int64_t)(apr_time_now() / 1000);
    aapi_session_t *sess = NULL;
    aapi_refresh_match_t match;
    const char *hash, *next, *next_hash;
    aapi_status_t st;
    int attempt;

    if (!c->rotation_key || !refresh_shape_ok(token)) {
        return AAPI_INVALID_TOKEN;
    }
    hash = aapi_sha256_hex(p, token, strlen(token));
    next = successor(p, c, token);
    if (!hash || !next) {
        return AAPI_INTERNAL;
    }
    next_hash = aapi_sha256_hex(p, next, strlen(next));

    /* two rounds at most: a rotation lost to a parallel one is retried as a
     * use of the just-rotated token */
    for (attempt = 0; attempt < 2; attempt++) {
        st = aapi_store_find_refresh(db, hash, &sess, &match);
        if (st == AAPI_NOT_FOUND) {
            return AAPI_INVALID_TOKEN;
        }
        if (st != AAPI_OK) {
            return st;
        }
        if (sess->revoked_at || sess->expires_at <= now) {
            return AAPI_INVALID_TOKEN;
        }
        if (match == AAPI_REFRESH_CURRENT) {
            st = aapi_store_rotate(db, sess->id, hash, next_hash, now_ms,
                                   now + aapi_cfg_refresh_ttl(c),
                                   now_ms - aapi_cfg_refresh_ttl(c) * 1000);
            if (st == AAPI_NOT_FOUND) {
                continue;
            }
            if (st != AAPI_OK) {
                return st;
            }
            break;
        }
        if (match == AAPI_REFRESH_PREVIOUS && grace > 0
            && now_ms - sess->rotated_at <= grace * 1000
            && sess->refresh_hash && !strcmp(sess->refresh_hash, next_hash)) {
            /* a parallel request of the same client: same successor */
            aapi_store_touch_session(db, sess->id, now);
            break;
        }
        /* a rotated token used again: whoever holds it, the session ends */
        ap_log_rerror(APLOG_MARK, APLOG_WARNING, 0, r, AAPI_LOGNO(0701)
                      "refresh token reuse in session %s: session ended",
                      sess->id);
        aapi_store_end_session(db, sess->id, sess->user_id, now);
        aapi_session_mark_ended(r, c, sess->id);
        return AAPI_INVALID_TOKEN;
    }
    if (attempt == 2) {
        return AAPI_INVALID_TOKEN;
    }
    st = aapi_store_user_by_id(db, sess->user_id, user);
    if (st == AAPI_NOT_FOUND || (st == AAPI_OK && (*user)->disabled)) {
        return AAPI_INVALID_TOKEN;
    }
    if (st != AAPI_OK) {
        return st;
    }
    pair->refresh_token = next;
    pair->refresh_expires_in = aapi_cfg_refresh_ttl(c);
    pair->session_id = sess->id;
    aapi_session_mark_live(r, c, sess->id, *user);
    return aapi_tokens_sign_access(p, c, *user, sess->id, pair);
}

/* ==== session state shared by the processes ==== */

/* A session's state in the shared cache: "E" when it has ended; "C" when
 * what its tokens say of its user has changed (the database decides until
 * the entry expires); else "L" and what a token of the session must say
 * of its user: its id, email, username, role and email_verified, each
 * ended by a NUL, which none of them holds. */
#define STATE_LIVE    'L'
#define STATE_ENDED   "E"
#define STATE_CHANGED "C"

/* ==== the realm: the database's name in the shared cache ==== */

enum { NS_UNKNOWN, NS_FILLING, NS_KNOWN };

#define SESSION_KIND ":aapi-session"
#define USER_KIND    ":aapi-user"

/* What the cache keys of a database's state end with, after the session's
 * or the user's id: ":", the database's id, the kind. */
typedef struct {
    char session[1 + AAPI_DB_ID_MAX + sizeof(SESSION_KIND)];
    char user[1 + AAPI_DB_ID_MAX + sizeof(USER_KIND)];
} key_tails_t;

struct aapi_realm {
    int has_db;
    apr_uint32_t state;            /* NS_*: written once per process */
    key_tails_t tails;             /* set before state becomes NS_KNOWN */
};

/* The name of a database that has no id (a schema older than the table:
 * logged at start-up) */
#define NS_NONE "-"

/* Fills T for the database whose id is ID. */
static void tails_fill(key_tails_t *t, const char *id)
{
    apr_snprintf(t->session, sizeof(t->session), ":%s" SESSION_KIND, id);
    apr_snprintf(t->user, sizeof(t->user), ":%s" USER_KIND, id);
}

aapi_realm_t *aapi_realm_make(apr_pool_t *pconf, int has_db)
{
    aapi_realm_t *realm = apr_pcalloc(pconf, sizeof(*realm));

    realm->has_db = has_db;
    return realm;
}

void aapi_realm_set_db_id(aapi_realm_t *realm, const char *id)
{
    tails_fill(&realm->tails, id);
    realm->state = NS_KNOWN;
}

/* Returns the ends of the cache keys of the database of C: known since
 * start-up (the common case), else read now, once for this process; NULL
 * with *ST set when there is no database to read its id from. */
static const key_tails_t *db_tails(request_rec *r, const aapi_srv_cfg_t *c,
                                   aapi_status_t *st)
{
    aapi_realm_t *realm = c->realm;
    char id[AAPI_DB_ID_MAX + 1];
    apr_uint32_t unknown = NS_UNKNOWN;
    key_tails_t *t;
    aapi_db_t *db;

    if (!realm || !realm->has_db) {
        *st = AAPI_UNAVAILABLE;
        return NULL;
    }
    if (__atomic_load_n(&realm->state, __ATOMIC_ACQUIRE) == NS_KNOWN) {
        return &realm->tails;
    }
    if ((*st = aapi_store_open(r, &db)) != AAPI_OK) {
        return NULL;
    }
    t = apr_palloc(r->pool, sizeof(*t));
    if (aapi_store_db_id(db, id) != AAPI_OK) {
        /* no id (or no answer): this request goes by no database's name,
         * and the next one asks again */
        tails_fill(t, NS_NONE);
        return t;
    }
    tails_fill(t, id);
    /* the first thread to get here keeps it for the process */
    if (__atomic_compare_exchange_n(&realm->state, &unknown, NS_FILLING, 0,
                                    __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE)) {
        memcpy(&realm->tails, t, sizeof(*t));
        __atomic_store_n(&realm->state, NS_KNOWN, __ATOMIC_RELEASE);
    }
    return t;
}

/* Returns the cache key of session SID of the database whose key ends
 * are T, from P. The random id comes first: shmcb picks its sub-cache by
 * the first byte of the key, so a common prefix would crowd every session
 * into one sixteenth of the cache. */
static const char *session_key(apr_pool_t *p, const char *sid,
                               const key_tails_t *t)
{
    return apr_pstrcat(p, sid, t->session, NULL);
}

/* Writes into BUF (AAPI_CACHE_VALUE_MAX bytes) the live state of a session
 * of user UID with EMAIL, USERNAME, ROLE (NULL for none) and VERIFIED;
 * returns its length, or 0 when it does not fit. */
static unsigned int live_state(char *buf, const char *uid, const char *email,
                               const char *username, const char *role,
                               int verified)
{
    const char *parts[4];
    size_t n = 1, len;
    int i;

    parts[0] = uid;
    parts[1] = email ? email : "";
    parts[2] = username ? username : "";
    parts[3] = role ? role : "";
    buf[0] = STATE_LIVE;
    for (i = 0; i < 4; i++) {
        len = strlen(parts[i]);
        if (len + 1 > AAPI_CACHE_VALUE_MAX - 1 - n) {
            return 0;
        }
        memcpy(buf + n, parts[i], len + 1);
        n += len + 1;
    }
    buf[n++] = verified ? '1' : '0';
    return (unsigned int)n;
}

/* The live state of a session of user U, into BUF; its length or 0. */
static unsigned int user_state(char *buf, const aapi_user_t *u)
{
    return live_state(buf, u->id, u->email, u->username, u->role,
                      u->email_verified);
}

/* Records a session of user U as live for AuthAPISessionCacheTTL under
 * KEY, unless the cache has it as ended or changed: a check of the
 * database that raced a logout or a change of the user (read before, then
 * the change wrote its state) must not put back what the database said
 * before. */
static void cache_live(request_rec *r, const aapi_srv_cfg_t *c,
                       const char *key, const aapi_user_t *u)
{
    char buf[AAPI_CACHE_VALUE_MAX];
    unsigned int n = user_state(buf, u);
    apr_time_t ttl = apr_time_from_sec(aapi_cfg_session_cache_ttl(c));

    if (n) {
        aapi_cache_set_unless(c->cache, r->server, key, buf, n,
                              apr_time_now() + ttl,
                              STATE_ENDED STATE_CHANGED, r->pool);
    }
}

/* Returns 1 when STATE (LEN bytes) has the form live_state gives: "L",
 * four texts each ended by a NUL, '0' or '1'. */
static int live_state_form(const char *state, unsigned int len)
{
    unsigned int i, nuls = 0;

    if (len < 6 || state[0] != STATE_LIVE
        || (state[len - 1] != '0' && state[len - 1] != '1')
        || state[len - 2] != '\0') {
        return 0;
    }
    for (i = 1; i < len - 1; i++) {
        nuls += state[i] == '\0';
    }
    return nuls == 4;
}

/* Returns 1 when A and B are the same text, NULL counting as "". */
static int same_text(const char *a, const char *b)
{
    return strcmp(a ? a : "", b ? b : "") == 0;
}

/* Compares what token CL says of its user with the live state STATE (LEN
 * bytes) of its session: AAPI_OK when the same; else AAPI_INVALID_TOKEN,
 * with *STALE set when only the user's details differ (a token refreshed
 * now would pass). */
static aapi_status_t match_state(const aapi_claims_t *cl, const char *state,
                                 unsigned int len, int *stale)
{
    char want[AAPI_CACHE_VALUE_MAX];
    unsigned int n = live_state(want, cl->sub, cl->email, cl->username,
                                cl->role, cl->email_verified);
    size_t sublen = strlen(cl->sub);

    if (n && n == len && memcmp(want, state, n) == 0) {
        return AAPI_OK;
    }
    /* the same user: its details have changed since the token was signed */
    *stale = len > sublen + 1 && memcmp(state + 1, cl->sub, sublen) == 0
             && state[sublen + 1] == '\0';
    return AAPI_INVALID_TOKEN;
}

AAPI_COUNTED
aapi_status_t aapi_session_check(request_rec *r, const aapi_srv_cfg_t *c,
                                 const aapi_claims_t *cl, int *stale)
{
    char buf[AAPI_CACHE_VALUE_MAX];
    unsigned int len = sizeof(buf);
    const char *key;
    const key_tails_t *tails;
    aapi_user_t *u = NULL;
    aapi_db_t *db;
    aapi_status_t st;

    *stale = 0;
    if (!(tails = db_tails(r, c, &st))) {
        return st;
    }
    key = session_key(r->pool, cl->sid, tails);
    if (aapi_cache_get(c->cache, r->server, key, buf, &len, r->pool)
        == APR_SUCCESS) {
        if (len == 1 && buf[0] == STATE_ENDED[0]) {
            return AAPI_INVALID_TOKEN;
        }
        /* live: compared with what the token says. A value that differs
         * is a refusal only when it has the form this module writes; one
         * of another form ("C", or one of an older module in a memcache)
         * is asked of the database */
        if (len > 1 && buf[0] == STATE_LIVE) {
            st = match_state(cl, buf, len, stale);
            if (st == AAPI_OK || live_state_form(buf, len)) {
                return st;
            }
            *stale = 0;
        }
    }
    if ((st = aapi_store_open(r, &db)) != AAPI_OK) {
        return st;
    }
    ap_log_rerror(APLOG_MARK, APLOG_DEBUG, 0, r, AAPI_LOGNO(0702)
                  "session %s not in the shared cache: asking the database",
                  cl->sid);
    st = aapi_store_session_live(db, cl->sid, aapi_now(), &u);
    if (st == AAPI_OK) {
        cache_live(r, c, key, u);
        /* a token naming another user than the session's, or saying what
         * is no longer so of its user, is refused; the session lives on */
        if (strcmp(u->id, cl->sub) != 0) {
            return AAPI_INVALID_TOKEN;
        }
        *stale = !same_text(u->email, cl->email)
                 || !same_text(u->username, cl->username)
                 || !same_text(u->role, cl->role)
                 || !u->email_verified != !cl->email_verified;
        return *stale ? AAPI_INVALID_TOKEN : AAPI_OK;
    }
    if (st == AAPI_NOT_FOUND) {
        aapi_session_mark_ended(r, c, cl->sid);
        return AAPI_INVALID_TOKEN;
    }
    return st;
}

void aapi_session_mark_live(request_rec *r, const aapi_srv_cfg_t *c,
                            const char *sid, const aapi_user_t *u)
{
    aapi_status_t st;
    const key_tails_t *tails = db_tails(r, c, &st);

    if (tails) {
        cache_live(r, c, session_key(r->pool, sid, tails), u);
    }
}

void aapi_session_mark_ended(request_rec *r, const aapi_srv_cfg_t *c,
                             const char *sid)
{
    /* long enough that every access token of the session has expired */
    apr_int64_t keep = aapi_cfg_access_ttl(c) + aapi_cfg_leeway(c) + 60;
    aapi_status_t st;
    const key_tails_t *tails = db_tails(r, c, &st);

    if (tails) {
        aapi_cache_set(c->cache, r->server, session_key(r->pool, sid, tails),
                       STATE_ENDED, 1,
                       apr_time_now() + apr_time_from_sec(keep), r->pool);
    }
    /* the tokens of the sessions of its shard are checked again, by every
     * process; the others stay trusted */
    aapi_revocation_bump_session(sid);
}

void aapi_sessions_mark_changed(request_rec *r, const aapi_srv_cfg_t *c,
                                const apr_array_header_t *ids)
{
    /* as long as a check that raced the change could still want to write
     * what it read before: the trust it would give */
    apr_time_t until = apr_time_now()
                       + apr_time_from_sec(aapi_cfg_session_cache_ttl(c) + 60);
    aapi_status_t st;
    const key_tails_t *tails = db_tails(r, c, &st);
    int i;

    for (i = 0; tails && ids && i < ids->nelts; i++) {
        aapi_cache_set_unless(c->cache, r->server,
                              session_key(r->pool,
                                          APR_ARRAY_IDX(ids, i, const char *),
                                          tails),
                              STATE_CHANGED, 1, until, STATE_ENDED, r->pool);
    }
    aapi_revocation_bump();
}

/* ==== the stamp of a user's credentials, for other servers ==== */

/* Returns the cache key of the stamp of user UID of the database whose
 * key ends are T, from P (the id first, as for sessions). */
static const char *user_key(apr_pool_t *p, const char *uid,
                            const key_tails_t *t)
{
    return apr_pstrcat(p, uid, t->user, NULL);
}

/* How long a stamp is kept: longer than any process keeps trusting a
 * Basic verification (AuthAPISessionCacheTTL, and the grace while one
 * request re-verifies), so that a stamp never runs out before the entries
 * made before it */
#define STAMP_KEEP_EXTRA 120

int aapi_user_stamp(request_rec *r, const aapi_srv_cfg_t *c, const char *uid,
                    char *buf)
{
    unsigned int len = AAPI_CRED_STAMP_LEN;
    aapi_status_t st;
    const key_tails_t *tails;

    buf[0] = '\0';
    if (!aapi_cache_is_networked(c->cache)) {
        return 0;
    }
    if (!(tails = db_tails(r, c, &st))) {
        /* no database to name: a stamp no entry has, so that nothing is
         * answered without the database */
        buf[0] = '!';
        buf[1] = '\0';
        return 1;
    }
    if (aapi_cache_get(c->cache, r->server, user_key(r->pool, uid, tails), buf,
                       &len, r->pool) == APR_SUCCESS
        && len == AAPI_CRED_STAMP_LEN) {
        buf[len] = '\0';
    }
    else {
        buf[0] = '\0';
    }
    return 1;
}

void aapi_user_mark_changed(request_rec *r, const aapi_srv_cfg_t *c,
                            const char *uid)
{
    const char *stamp;
    const key_tails_t *tails;
    apr_int64_t keep = aapi_cfg_session_cache_ttl(c) + STAMP_KEEP_EXTRA;
    aapi_status_t st;

    /* this user's Basic credentials, checked again by every process (and
     * those of the users of its bucket); its tokens are by the callers'
     * marks of its sessions */
    aapi_revocation_bump_user(uid);
    if (!aapi_cache_is_networked(c->cache)) {
        return;
    }
    stamp = aapi_random_hex(r->pool, AAPI_CRED_STAMP_LEN / 2);
    tails = db_tails(r, c, &st);
    if (!stamp || !tails
        || aapi_cache_set(c->cache, r->server, user_key(r->pool, uid, tails),
                                 stamp, AAPI_CRED_STAMP_LEN,
                                 apr_time_now() + apr_time_from_sec(keep),
                                 r->pool) != APR_SUCCESS) {
        ap_log_rerror(APLOG_MARK, APLOG_WARNING, 0, r, AAPI_LOGNO(0703)
                      "the change of user %s could not be recorded in the "
                      "shared cache: other servers check its Basic "
                      "credentials again within AuthAPISessionCacheTTL", uid);
    }
}

/* The rest of authenticate (below) for a token the table did not
 * answer for alone: HIT is what aapi_tokcache_get said (and *CLAIMS holds
 * for a known token). Apart, so that the common case (a trusted hit) is a
 * short function (not inlined back into it). */
static __attribute__((noinline))
aapi_status_t authenticate_rest(request_rec *r, const aapi_srv_cfg_t *c,
                                const char *token, size_t len,
                                apr_int64_t now, int hit,
                                aapi_claims_t *claims, int *expired,
                                const char **why)
{
    apr_uint64_t stamp;
    aapi_status_t st;
    int stale = 0, trusted = 0;

    switch (hit) {
    case AAPI_TOKCACHE_TRUSTED:
        /* with a cache shared by several servers, an end or a change
         * recorded by another server is seen at once: its state is read
         * again (one lookup; the database only for a change) */
        trusted = 1;
        break;
    case AAPI_TOKCACHE_KNOWN:
        /* the same bytes this process verified: only the session's state
         * may have changed */
        break;
    default:
        if ((st = verify(r->pool, c, token, len, now, claims, why, expired))
            != AAPI_OK) {
            return st;
        }
    }
    /* read before the check: an end that races it moves the counter past */
    stamp = aapi_revocation_stamp(claims->sid);
    st = aapi_session_check(r, c, claims, &stale);
    if (st == AAPI_INVALID_TOKEN) {
        /* a token that only says what is no longer so of its user is
         * refused as an expired one would be: a refresh mends it */
        *why = stale ? "claims out of date" : "session ended";
        *expired = stale;
        return st;
    }
    if (st != AAPI_OK || trusted) {
        return st;
    }
    aapi_tokcache_put(c->realm, token, len, claims, stamp,
                      now + aapi_cfg_session_cache_ttl(c));
    return AAPI_OK;
}

/* What aapi_tokens_authenticate and aapi_tokens_authenticate_at do, in
 * each of them: the protected request's path (the first) then runs in its
 * caller's frame, with no call of its own before the table's answer. */
static APR_INLINE __attribute__((always_inline))
aapi_status_t authenticate(request_rec *r, const aapi_srv_cfg_t *c,
                           const char *token, size_t len, apr_int64_t now,
                           char *room, aapi_claims_t *claims, int *expired,
                           const char **why)
{
    /* answers only for tokens verified for this server's realm: its
     * configuration and its database */
    int hit = aapi_tokcache_get(c->realm, token, len, now, aapi_cfg_leeway(c),
                                r->pool, room, claims);

    *expired = 0;
    if (hit == AAPI_TOKCACHE_TRUSTED && !aapi_cache_is_networked(c->cache)) {
        return AAPI_OK;
    }
    return authenticate_rest(r, c, token, len, now, hit, claims, expired,
                             why);
}

aapi_status_t aapi_tokens_authenticate(request_rec *r, const aapi_srv_cfg_t *c,
                                       const char *token, size_t len,
                                       char *room, aapi_claims_t *claims,
                                       int *expired, const char **why)
{
    /* the time the request arrived: no clock read on the hot path */
    return authenticate(r, c, token, len,
                        (apr_int64_t)apr_time_sec(r->request_time), room,
                        claims, expired, why);
}

aapi_status_t aapi_tokens_authenticate_at(request_rec *r,
                                          const aapi_srv_cfg_t *c,
                                          const char *token, size_t len,
                                          apr_int64_t now, char *room,
                                          aapi_claims_t *claims, int *expired,
                                          const char **why)
{
    return authenticate(r, c, token, len, now, room, claims, expired, why);
}

void aapi_password_upgrade(request_rec *r, const aapi_srv_cfg_t *c,
                           aapi_db_t *db, const aapi_user_t *u,
                           const char *password)
{
    const aapi_hash_cfg_t *hc = aapi_cfg_hash(c);
    const char *fresh;
    aapi_status_t st;

    if (!aapi_password_needs_rehash(u->password_hash, hc)) {
        return;
    }
    if (!(fresh = aapi_password_hash(r->pool, hc, password))) {
        ap_log_rerror(APLOG_MARK, APLOG_WARNING, 0, r, AAPI_LOGNO(0704)
                      "the password of user %s could not be hashed again",
                      u->id);
        return;
    }
    st = aapi_store_rehash(db, u->id, u->password_hash, fresh);
    if (st == AAPI_OK) {
        ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, r, AAPI_LOGNO(0705)
                      "the password of user %s is now hashed under the "
                      "current AuthAPIPasswordHash", u->id);
    }
    else if (st != AAPI_NOT_FOUND) {
        ap_log_rerror(APLOG_MARK, APLOG_WARNING, 0, r, AAPI_LOGNO(0706)
                      "the password of user %s could not be stored hashed "
                      "again", u->id);
    }
}

void aapi_sessions_mark_ended(request_rec *r, const aapi_srv_cfg_t *c,
                              const apr_array_header_t *ids)
{
    int i;

    for (i = 0; ids && i < ids->nelts; i++) {
        aapi_session_mark_ended(r, c, APR_ARRAY_IDX(ids, i, const char *));
    }
    /* credentials may have changed even when no other session was live */
    aapi_revocation_bump();
}
