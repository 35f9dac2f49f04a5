/* tokcache.h - level 3: what makes the protected-request path cheap: a
 * per-process table of access tokens already verified, trusted only while a
 * revocation counter shared by all processes has not moved. */
#ifndef AAPI_TOKCACHE_H
#define AAPI_TOKCACHE_H

#include "aapi.h"
#include "jwt.h"

/* Creates the shared revocation counter (post_config, in the parent);
 * returns APR_SUCCESS or an error. */
apr_status_t aapi_revocation_init(apr_pool_t *pconf);

/* The revocation counters: a global one, one for each of a fixed number
 * of shards that session ids fall in, and one for each of a fixed number
 * of buckets that user ids fall in. */

/* Returns the stamp of session SID: the global counter and its shard's,
 * what an entry of the token table is checked against. */
apr_uint64_t aapi_revocation_stamp(const char *sid);

/* Returns the shard that session SID (NULL: "") falls in. */
unsigned int aapi_revocation_shard(const char *sid);

/* Moves the global counter: every process re-checks all its tokens and
 * Basic credentials (a password or a user changed, sessions of a user
 * ended). */
void aapi_revocation_bump(void);

/* Moves the counter of the shard of session SID: every process re-checks
 * the tokens of the sessions of that shard (one session ended). */
void aapi_revocation_bump_session(const char *sid);

/* The buckets of user ids, whose counters the Basic provider's table is
 * checked against: a change of one user sends only the users of its
 * bucket (one in AAPI_USER_BUCKETS) back to their password hash. */
#define AAPI_USER_BUCKET_BITS 8
#define AAPI_USER_BUCKETS (1 << AAPI_USER_BUCKET_BITS)

/* Returns the bucket that user UID (NULL: "") falls in. */
unsigned int aapi_revocation_user_bucket(const char *uid);

/* Copies the counters of all user buckets into OUT: read before a
 * verification, whose user is not known yet. */
void aapi_revocation_users(apr_uint32_t out[AAPI_USER_BUCKETS]);

/* Moves the counter of the bucket of user UID: every process checks the
 * Basic credentials of the users of that bucket again (that user's
 * password, name or account changed). */
void aapi_revocation_bump_user(const char *uid);

/* Creates this process's table (child_init). */
void aapi_tokcache_child_init(apr_pool_t *p);

/* The room a hit's strings take: sub, sid, role, email, username and exp
 * as RFC 3339, each with its NUL (40 + 40 + 65 + 255 + 24 + 24 bytes). */
#define AAPI_TOKCACHE_ROOM 448

/* What the table knows of a token. */
#define AAPI_TOKCACHE_MISS     0   /* nothing: verify it in full */
#define AAPI_TOKCACHE_TRUSTED  1   /* verified, session checked, still trusted */
#define AAPI_TOKCACHE_KNOWN    2   /* verified (the same bytes), not expired,
                                    * but its session must be checked again */

/* Looks TOKEN (LEN bytes) up at NOW (with LEEWAY) for the configuration
 * SCOPE (the server configuration that verifies it: its key, issuer,
 * audience and database; a token verified for another is a miss):
 * AAPI_TOKCACHE_TRUSTED when this process verified it, it has not expired, it is within its trust
 * and no session of its shard has ended since (nor anything moved the
 * global counter); AAPI_TOKCACHE_KNOWN when only the trust has run out or
 * such an end has happened since (its signature and claims need
 * no second look, its session does); else AAPI_TOKCACHE_MISS. Fills *OUT
 * unless it misses, its strings in ROOM (AAPI_TOKCACHE_ROOM bytes that
 * live as long as the claims are used) or, when ROOM is NULL, from P. */
int aapi_tokcache_get(const void *scope, const char *token, size_t len,
                      apr_int64_t now, apr_int64_t leeway, apr_pool_t *p,
                      char *room, aapi_claims_t *out);

/* Remembers TOKEN, verified for SCOPE, with its claims CL, checked when
 * the counters of its session were STAMP (aapi_revocation_stamp),
 * trusted while the time in seconds is before TRUST_UNTIL (so never longer
 * than the trust it was given). Tokens or claims too long for the
 * table are not remembered, nor is TOKEN when another thread is writing
 * its slot at that moment (a later request puts it). */
void aapi_tokcache_put(const void *scope, const char *token, size_t len,
                       const aapi_claims_t *cl, apr_uint64_t stamp,
                       apr_int64_t trust_until);

/* ==== the Basic provider's table of verified credentials ==== */

#define AAPI_CRED_KEY_LEN 32

/* The length of a stamp of a user's credentials in a shared cache (see
 * aapi_user_stamp). */
#define AAPI_CRED_STAMP_LEN 16

typedef struct {
    const char *user_id, *email, *username, *role;
    int email_verified;
    char stamp[AAPI_CRED_STAMP_LEN + 1];  /* the user's stamp when
                                           * verified; "" for none */
} aapi_cred_identity_t;

/* Computes the table key of USER and PASSWORD checked for SCOPE (the
 * server configuration, whose database answered) into KEY: an HMAC under a
 * random key of this process, so the table never holds a password, and the
 * same credentials checked for another server have another key. Returns 1,
 * or 0 when it cannot. */
int aapi_credcache_key(const void *scope, const char *user,
                       const char *password,
                       unsigned char key[AAPI_CRED_KEY_LEN]);

/* Returns 1 with *OUT (strings from P) when KEY verified at most its trust
 * ago and the counter of its user's bucket has not moved since; else 0. */
int aapi_credcache_get(const unsigned char key[AAPI_CRED_KEY_LEN],
                       apr_int64_t now, apr_pool_t *p,
                       aapi_cred_identity_t *out);

/* Remembers a successful verification of KEY for ID until TRUST_UNTIL;
 * EPOCH is the counter of the bucket of ID's user read before the
 * account was (aapi_revocation_users). */
void aapi_credcache_put(const unsigned char key[AAPI_CRED_KEY_LEN],
                        const aapi_cred_identity_t *id, apr_uint32_t epoch,
                        apr_int64_t trust_until);

/* Forgets KEY (its credentials no longer verify). */
void aapi_credcache_drop(const unsigned char key[AAPI_CRED_KEY_LEN]);

#endif
