/* store_sql.h - level 3: the labelled SQL statements of the store. */
#ifndef AAPI_STORE_SQL_H
#define AAPI_STORE_SQL_H

typedef struct {
    const char *label;
    const char *sql;
} aapi_sql_t;

/* The statements registered with mod_dbd, ended by a NULL label. Their SQL
 * runs unchanged on SQLite and MySQL/MariaDB. */
extern const aapi_sql_t aapi_sql_statements[];

/* Labels, so that a typo is a compile error. */
#define AAPI_SQL_PING               "aapi_ping"
#define AAPI_SQL_USER_BY_LOGIN      "aapi_user_by_login"
#define AAPI_SQL_USER_BY_ID         "aapi_user_by_id"
#define AAPI_SQL_SESSION_USER       "aapi_session_user"
#define AAPI_SQL_USER_INSERT        "aapi_user_insert"
#define AAPI_SQL_SESSION_INSERT     "aapi_session_insert"
#define AAPI_SQL_USER_UPDATE        "aapi_user_update"
#define AAPI_SQL_SESSION_INSERT_CHECKED "aapi_session_insert_checked"
#define AAPI_SQL_EMAIL_EXISTS       "aapi_email_exists"
#define AAPI_SQL_USERNAME_EXISTS    "aapi_username_exists"

#define AAPI_SQL_SESSION_BY_REFRESH "aapi_session_by_refresh"
#define AAPI_SQL_SESSION_BY_HISTORY "aapi_session_by_history"
#define AAPI_SQL_ROTATE             "aapi_rotate"
#define AAPI_SQL_HISTORY_INSERT     "aapi_history_insert"
#define AAPI_SQL_HISTORY_NTH        "aapi_history_nth"
#define AAPI_SQL_HISTORY_PRUNE      "aapi_history_prune"
#define AAPI_SQL_TOUCH              "aapi_touch"
#define AAPI_SQL_END_SESSION        "aapi_end_session"
#define AAPI_SQL_LIVE_SESSIONS      "aapi_live_sessions"
#define AAPI_SQL_END_OTHER_SESSIONS "aapi_end_other_sessions"
#define AAPI_SQL_SET_PASSWORD       "aapi_set_password"
#define AAPI_SQL_REHASH             "aapi_rehash"
#define AAPI_SQL_DELETE_HISTORY     "aapi_delete_history"
#define AAPI_SQL_DELETE_SESSIONS    "aapi_delete_sessions"
#define AAPI_SQL_DELETE_USER        "aapi_delete_user"
#define AAPI_SQL_SESSION_LIVE       "aapi_session_live"
#define AAPI_SQL_ENDED_SESSIONS     "aapi_ended_sessions"
#define AAPI_SQL_PRUNE_SESSION      "aapi_prune_session"
#define AAPI_SQL_PRUNE_HISTORY      "aapi_prune_history"

/* The session columns every session query returns, in this order. */
#define AAPI_SESSION_COLS \
    "s.id, s.user_id, s.refresh_hash, s.prev_refresh_hash, s.ip, " \
    "s.user_agent, s.created_at, s.last_used_at, s.expires_at, " \
    "s.rotated_at, s.revoked_at"

/* The user columns every user query returns, in this order. */
#define AAPI_USER_COLS \
    "u.id, u.email, u.email_norm, u.username, u.username_norm, " \
    "u.password_hash, u.first_name, u.last_name, u.full_name, u.role, " \
    "u.profile, u.email_verified, u.disabled, u.created_at, u.updated_at"

#endif
