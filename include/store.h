/* store.h - level 3: accounts and sessions in the database, through
 * mod_dbd. Only store*.c include mod_dbd.h. */
#ifndef AAPI_STORE_H
#define AAPI_STORE_H

#include "aapi.h"

#include "apr_hash.h"

typedef struct aapi_db aapi_db_t;

typedef struct {
    const char *id;
    const char *email, *email_norm;
    const char *username, *username_norm;   /* may be NULL */
    const char *password_hash;
    const char *first_name, *last_name, *full_name;  /* may be NULL */
    const char *role;
    const char *profile;                    /* JSON object text */
    int email_verified;
    int disabled;
    apr_int64_t created_at, updated_at;
} aapi_user_t;

typedef struct {
    const char *id;
    const char *user_id;
    const char *refresh_hash;               /* hex SHA-256 */
    const char *prev_refresh_hash;          /* the one rotated away from */
    const char *ip, *user_agent;
    apr_int64_t created_at, last_used_at, expires_at;
    apr_int64_t rotated_at;                 /* milliseconds, 0 when never */
    apr_int64_t revoked_at;                 /* 0 when never */
} aapi_session_t;

/* How a refresh token hash relates to its session. */
typedef enum {
    AAPI_REFRESH_CURRENT = 1,   /* the session's live refresh token       */
    AAPI_REFRESH_PREVIOUS,      /* the one just rotated away from         */
    AAPI_REFRESH_OLDER          /* rotated away from earlier              */
} aapi_refresh_match_t;

/* Returns AAPI_OK with a connection for R, or AAPI_UNAVAILABLE. */
aapi_status_t aapi_store_open(request_rec *r, aapi_db_t **db);

/* Returns AAPI_OK with a connection of server S's database outside any
 * request (the watchdog), given back when P is cleared, or
 * AAPI_UNAVAILABLE. */
aapi_status_t aapi_store_open_server(server_rec *s, apr_pool_t *p,
                                     aapi_db_t **db);

/* Returns AAPI_OK when the database answers a trivial query. */
aapi_status_t aapi_store_ping(aapi_db_t *db);

/* Finds the user whose email_norm or username_norm equals NORM; returns
 * AAPI_OK, AAPI_NOT_FOUND or AAPI_UNAVAILABLE. */
aapi_status_t aapi_store_user_by_login(aapi_db_t *db, const char *norm,
                                       aapi_user_t **out);

/* Finds user ID; returns AAPI_OK, AAPI_NOT_FOUND or AAPI_UNAVAILABLE. */
aapi_status_t aapi_store_user_by_id(aapi_db_t *db, const char *id,
                                    aapi_user_t **out);

/* Finds the user of live session SID belonging to UID at time NOW; returns
 * AAPI_OK, AAPI_NOT_FOUND (no such live session) or AAPI_UNAVAILABLE. */
aapi_status_t aapi_store_session_user(aapi_db_t *db, const char *sid,
                                      const char *uid, apr_int64_t now,
                                      aapi_user_t **out);

/* Inserts USER and, when SESS is not NULL, its first session, in one
 * transaction; returns AAPI_OK, AAPI_EMAIL_TAKEN, AAPI_USERNAME_TAKEN,
 * AAPI_CONFLICT or AAPI_UNAVAILABLE. */
aapi_status_t aapi_store_create_user(aapi_db_t *db, const aapi_user_t *user,
                                     const aapi_session_t *sess);

/* Inserts SESS for a login, only while its user is enabled and still has
 * password hash PW_HASH (a password change racing the login wins); returns
 * AAPI_OK, AAPI_NOT_FOUND when the account changed, or an error. */
aapi_status_t aapi_store_create_session(aapi_db_t *db,
                                        const aapi_session_t *sess,
                                        const char *pw_hash);

/* Writes USER's names, username and profile; returns AAPI_OK,
 * AAPI_USERNAME_TAKEN, AAPI_NOT_FOUND or AAPI_UNAVAILABLE. */
aapi_status_t aapi_store_update_profile(aapi_db_t *db, const aapi_user_t *u);

/* Finds the session that refresh token hash HASH belongs to, and how;
 * returns AAPI_OK, AAPI_NOT_FOUND or AAPI_UNAVAILABLE. */
aapi_status_t aapi_store_find_refresh(aapi_db_t *db, const char *hash,
                                      aapi_session_t **out,
                                      aapi_refresh_match_t *match);

/* How many refresh tokens rotated away a session's history keeps at most
 * (the newest): a token rotated away longer ago is unknown, refused
 * without ending the session, like an expired one. (A literal: the SQL
 * reads it.) */
#define AAPI_HISTORY_KEEP 256

/* The most rows a query of a user's live sessions reads. (A literal: the
 * SQL reads it.) */
#define AAPI_LIVE_ROWS_MAX 1000

/* Rotates session SID from refresh hash OLD to NEW at NOW_MS (milliseconds;
 * rotated_at keeps them, so the reuse grace is exact), only while OLD is
 * current and the session live, extending it to EXPIRES_AT (seconds);
 * records OLD in the history, and drops from it the rows rotated away
 * before FORGET_MS (milliseconds: tokens past their lifetime) and those
 * past the newest AAPI_HISTORY_KEEP. Returns AAPI_OK, AAPI_NOT_FOUND (OLD
 * is no longer current, or the session ended) or an error. */
aapi_status_t aapi_store_rotate(aapi_db_t *db, const char *sid,
                                const char *old_hash, const char *new_hash,
                                apr_int64_t now_ms, apr_int64_t expires_at,
                                apr_int64_t forget_ms);

/* Marks session SID used at NOW; returns AAPI_OK or an error. */
aapi_status_t aapi_store_touch_session(aapi_db_t *db, const char *sid,
                                       apr_int64_t now);

/* Ends session SID of user UID at NOW; returns AAPI_OK, or AAPI_NOT_FOUND
 * when it is not a live session of that user. */
aapi_status_t aapi_store_end_session(aapi_db_t *db, const char *sid,
                                     const char *uid, apr_int64_t now);

/* Returns in *OUT (of aapi_session_t) the live sessions of UID at NOW,
 * newest first, at most MAX. */
aapi_status_t aapi_store_live_sessions(aapi_db_t *db, const char *uid,
                                       apr_int64_t now, int max,
                                       apr_array_header_t **out);

/* Ends every live session of UID but KEEP_SID (may be NULL) at NOW; the ids
 * ended go to *ENDED (of const char *). */
aapi_status_t aapi_store_end_sessions(aapi_db_t *db, const char *uid,
                                      const char *keep_sid, apr_int64_t now,
                                      apr_array_header_t **ended);

/* Sets UID's password hash and ends every other session but KEEP_SID, in
 * one transaction; the ids ended go to *ENDED. */
aapi_status_t aapi_store_set_password(aapi_db_t *db, const char *uid,
                                      const char *hash, const char *keep_sid,
                                      apr_int64_t now,
                                      apr_array_header_t **ended);

/* Replaces UID's password hash OLD_HASH by NEW_HASH (the same password
 * under the current hashing settings), only while OLD_HASH is its hash (a
 * password change racing it wins); returns AAPI_OK, AAPI_NOT_FOUND when
 * the hash had changed, or an error. */
aapi_status_t aapi_store_rehash(aapi_db_t *db, const char *uid,
                                const char *old_hash, const char *new_hash);

/* Deletes user UID, its sessions and their history in one transaction; the
 * ids of its live sessions go to *ENDED. */
aapi_status_t aapi_store_delete_user(aapi_db_t *db, const char *uid,
                                     apr_int64_t now,
                                     apr_array_header_t **ended);

/* Returns AAPI_OK with its user in *OUT when SID is a live session of an
 * enabled user at NOW, AAPI_NOT_FOUND when not, or AAPI_UNAVAILABLE. Only
 * what an access token says of the user is filled in: id, email,
 * username (may be NULL), role and email_verified. */
aapi_status_t aapi_store_session_live(aapi_db_t *db, const char *sid,
                                      apr_int64_t now, aapi_user_t **out);

/* How many ended sessions one call of aapi_store_prune deletes at most,
 * in one transaction. */
#define AAPI_PRUNE_BATCH 500

/* Deletes at most AAPI_PRUNE_BATCH sessions that ended (revoked or
 * expired) before CUT (seconds), each with its refresh history; returns
 * AAPI_OK with *PRUNED, or an error (nothing deleted). */
aapi_status_t aapi_store_prune(aapi_db_t *db, apr_int64_t cut, int *pruned);

/* Returns in *IDS (of const char *) the ids of the live sessions of UID
 * at NOW, at most as many as aapi_store_end_sessions ends. */
aapi_status_t aapi_store_live_ids(aapi_db_t *db, const char *uid,
                                  apr_int64_t now, apr_array_header_t **ids);

/* The longest id aapi_store_db_id hands out. */
#define AAPI_DB_ID_MAX 64

/* Reads into OUT (room for AAPI_DB_ID_MAX + 1 bytes) the random id the
 * database was given when its schema was made (table aapi_instance): the
 * shared cache names the state of its sessions and accounts by it.
 * Returns AAPI_OK, AAPI_NOT_FOUND when the database has no such id (a
 * schema older than the table, or an id of another form) or
 * AAPI_UNAVAILABLE. */
aapi_status_t aapi_store_db_id(aapi_db_t *db, char *out);

/* The same, on a connection of its own to DRIVER/PARAMS (for post_config);
 * *ERR set when the database cannot be opened. */
aapi_status_t aapi_store_db_id_at(apr_pool_t *p, const char *driver,
                                  const char *params, char *out,
                                  const char **err);

/* Registers every prepared statement with mod_dbd for server S (call from
 * post_config before mod_dbd's), once per configuration of mod_dbd: DONE
 * (from the caller, one per start-up) holds those already served. */
void aapi_store_prepare(server_rec *s, apr_hash_t *done);

/* Finds the DBDriver and DBDParams that apply to server S in the parsed
 * configuration; returns 1 and sets them, or 0 when no DBDriver applies. */
int aapi_store_dbd_settings(server_rec *s, const char **driver,
                            const char **params);

/* Sets the store up before any database is opened in this process (SQLite
 * without its memory statistics); call from pre_config. */
void aapi_store_pre_config(void);

/* Returns 1 when mod_dbd's functions are available. */
int aapi_store_available(void);

/* Applies missing migrations to the database DRIVER/PARAMS, under a lock, as
 * user UID/GID for new files; returns AAPI_OK, or an error with *ERR set. */
aapi_status_t aapi_store_migrate(apr_pool_t *p, server_rec *s,
                                 const char *driver, const char *params,
                                 const char **err);

#endif
