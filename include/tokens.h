/* tokens.h - level 4: access tokens and refresh tokens of sessions. */
#ifndef AAPI_TOKENS_H
#define AAPI_TOKENS_H

#include "aapi.h"
#include "config.h"
#include "jwt.h"
#include "store.h"

#define AAPI_REFRESH_BYTES 32     /* 256 bits */

typedef struct {
    const char *access_token;
    apr_int64_t expires_in;
    const char *refresh_token;
    apr_int64_t refresh_expires_in;
    const char *session_id;
} aapi_token_pair_t;

/* Fills SESS (new id, refresh hash, times, IP, UA) for USER and sets the
 * plain refresh token in PAIR; returns AAPI_OK or AAPI_INTERNAL. */
aapi_status_t aapi_tokens_new_session(apr_pool_t *p, const aapi_srv_cfg_t *c,
                                      const aapi_user_t *user,
                                      const char *ip, const char *ua,
                                      aapi_session_t *sess,
                                      aapi_token_pair_t *pair);

/* Signs an access token for USER in session SID into PAIR; returns AAPI_OK
 * or AAPI_INTERNAL. */
aapi_status_t aapi_tokens_sign_access(apr_pool_t *p, const aapi_srv_cfg_t *c,
                                      const aapi_user_t *user, const char *sid,
                                      aapi_token_pair_t *pair);

/* Verifies access token TOKEN; returns AAPI_OK with *CLAIMS, or
 * AAPI_INVALID_TOKEN with *WHY set for the log. */
aapi_status_t aapi_tokens_verify_access(apr_pool_t *p, const aapi_srv_cfg_t *c,
                                        const char *token,
                                        aapi_claims_t *claims,
                                        const char **why);

/* Rotates refresh token TOKEN of a session: returns AAPI_OK with the user in
 * *USER and a new pair (same session) in PAIR; AAPI_INVALID_TOKEN for an
 * unknown, expired or ended session, or for reuse of a rotated token, which
 * ends the session (the reuse grace excepted). */
aapi_status_t aapi_tokens_refresh(request_rec *r, const aapi_srv_cfg_t *c,
                                  aapi_db_t *db, const char *token,
                                  aapi_user_t **user, aapi_token_pair_t *pair);

/* The realm of a server's tokens and sessions: the configuration that
 * verifies its tokens and the database its sessions are in. Servers of
 * one realm share what a process has verified (the scope of the token and
 * credential tables); the state of sessions and accounts in the shared
 * cache is named by the database's id, so that servers and virtual hosts
 * with another database never read it, even when they trust the same
 * signing key. */
typedef struct aapi_realm aapi_realm_t;

/* Returns a new realm from PCONF, of a server with a database (HAS_DB) or
 * without; the id of the database is read by the first request of each
 * process that needs it unless aapi_realm_set_db_id gives it first. */
aapi_realm_t *aapi_realm_make(apr_pool_t *pconf, int has_db);

/* Gives REALM the id ID of its database (aapi_store_db_id, or "-" for a
 * database without one); from post_config. */
void aapi_realm_set_db_id(aapi_realm_t *realm, const char *id);

/* Returns AAPI_OK when the session of access token CL is live, belongs to
 * the user it names, and that user's email, username, role and
 * email_verified are still what CL says; AAPI_INVALID_TOKEN when not (with
 * *STALE set when only the user's details differ), or AAPI_UNAVAILABLE.
 * Asks the shared cache first and the database when the cache does not
 * know or its trust has run out. */
aapi_status_t aapi_session_check(request_rec *r, const aapi_srv_cfg_t *c,
                                 const aapi_claims_t *cl, int *stale);

/* Records in the shared cache that session SID of user U is live (it was
 * just made or refreshed), for AuthAPISessionCacheTTL, so the first
 * request with its tokens needs no database. */
void aapi_session_mark_live(request_rec *r, const aapi_srv_cfg_t *c,
                            const char *sid, const aapi_user_t *u);

/* Records in the shared cache that session SID has ended, and moves the
 * revocation counter of its shard, so that every process refuses its
 * access tokens at once. */
void aapi_session_mark_ended(request_rec *r, const aapi_srv_cfg_t *c,
                             const char *sid);

/* Authenticates a protected request's access token TOKEN (LEN bytes):
 * signature, claims and live session, from this process's table of
 * verified tokens when it can: then the strings of *CLAIMS are copied to
 * ROOM (AAPI_TOKCACHE_ROOM bytes from r->pool), or, when ROOM is NULL, to
 * memory of r->pool. Returns AAPI_OK with *CLAIMS;
 * AAPI_INVALID_TOKEN with *WHY (and *EXPIRED set when only the expiry
 * failed, or only the user's details have changed since it was signed:
 * when a refreshed token would pass); or AAPI_UNAVAILABLE. */
aapi_status_t aapi_tokens_authenticate(request_rec *r, const aapi_srv_cfg_t *c,
                                       const char *token, size_t len,
                                       char *room, aapi_claims_t *claims,
                                       int *expired, const char **why);

/* aapi_tokens_authenticate at time NOW (seconds) instead of the time the
 * request arrived: for a token minted while the request ran, whose iat
 * may be a second past it. */
aapi_status_t aapi_tokens_authenticate_at(request_rec *r,
                                          const aapi_srv_cfg_t *c,
                                          const char *token, size_t len,
                                          apr_int64_t now, char *room,
                                          aapi_claims_t *claims, int *expired,
                                          const char **why);

/* Records that what the tokens of each session of IDS (of const char *)
 * say of their user has changed, so that every process refuses the access
 * tokens signed before (as claims out of date: a refresh mends them). */
void aapi_sessions_mark_changed(request_rec *r, const aapi_srv_cfg_t *c,
                                const apr_array_header_t *ids);

/* With a cache shared by several servers (memcache, redis): reads into
 * BUF (AAPI_CRED_STAMP_LEN + 1 bytes) the stamp of user UID's credentials
 * ("" when the cache has none) and returns 1; returns 0 for a cache of
 * this server alone, whose processes the revocation counter reaches. */
int aapi_user_stamp(request_rec *r, const aapi_srv_cfg_t *c, const char *uid,
                    char *buf);

/* Records that user UID's password, name or account has changed: moves
 * the global revocation counter, so that every process of this server
 * checks its Basic credentials and tokens again, and, in a cache shared by
 * several servers, gives the user a new stamp, so that every server's
 * Basic provider checks that user's credentials again at once. */
void aapi_user_mark_changed(request_rec *r, const aapi_srv_cfg_t *c,
                            const char *uid);

/* After PASSWORD has verified against the hash of user U (read from DB):
 * when that hash is weaker than C's AuthAPIPasswordHash makes, stores the
 * password hashed under C instead, so that raising the cost (or moving to
 * argon2id) reaches every account that signs in, and no account keeps a
 * hash whose time tells it from an unknown one (checked against the dummy
 * hash, made under C). Nothing else changes: no counter moves, no session
 * ends. Failures are logged, not returned. */
void aapi_password_upgrade(request_rec *r, const aapi_srv_cfg_t *c,
                           aapi_db_t *db, const aapi_user_t *u,
                           const char *password);

/* Marks each id of IDS (of const char *) ended. */
void aapi_sessions_mark_ended(request_rec *r, const aapi_srv_cfg_t *c,
                              const apr_array_header_t *ids);

#endif
