/*
 * store_sql.c - level 3: every statement of the store, by label. apr_dbd's
 * %s placeholders; values are always bound, never spliced into SQL.
 */
#include "store_sql.h"
#include "store.h"

#include "apr_general.h"

#include <stddef.h>

const aapi_sql_t aapi_sql_statements[] = {
    { AAPI_SQL_PING, "SELECT 1" },
    { AAPI_SQL_USER_BY_LOGIN,
      "SELECT " AAPI_USER_COLS " FROM users u"
      " WHERE u.email_norm = %s OR u.username_norm = %s" },
    { AAPI_SQL_USER_BY_ID,
      "SELECT " AAPI_USER_COLS " FROM users u WHERE u.id = %s" },
    { AAPI_SQL_SESSION_USER,
      "SELECT " AAPI_USER_COLS " FROM sessions s"
      " JOIN users u ON u.id = s.user_id"
      " WHERE s.id = %s AND s.user_id = %s AND s.revoked_at IS NULL"
      " AND s.expires_at > %s AND u.disabled = 0" },
    { AAPI_SQL_USER_INSERT,
      "INSERT INTO users (id, email, email_norm, username, username_norm,"
      " password_hash, first_name, last_name, full_name, role,"
      " email_verified, disabled, profile, created_at, updated_at)"
      " VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, 'user', 0, 0, '{}',"
      " %s, %s)" },
    { AAPI_SQL_SESSION_INSERT,
      "INSERT INTO sessions (id, user_id, refresh_hash, created_at,"
      " last_used_at, expires_at, ip, user_agent)"
      " VALUES (%s, %s, %s, %s, %s, %s, %s, %s)" },
    { AAPI_SQL_SESSION_INSERT_CHECKED,
      "INSERT INTO sessions (id, user_id, refresh_hash, created_at,"
      " last_used_at, expires_at, ip, user_agent)"
      " SELECT %s, id, %s, %s, %s, %s, %s, %s FROM users"
      " WHERE id = %s AND password_hash = %s AND disabled = 0" },
    { AAPI_SQL_USER_UPDATE,
      "UPDATE users SET username = %s, username_norm = %s, first_name = %s,"
      " last_name = %s, full_name = %s, profile = %s, updated_at = %s"
      " WHERE id = %s" },
    { AAPI_SQL_EMAIL_EXISTS, "SELECT id FROM users WHERE email_norm = %s" },
    { AAPI_SQL_USERNAME_EXISTS,
      "SELECT id FROM users WHERE username_norm = %s" },
    { AAPI_SQL_SESSION_BY_REFRESH,
      "SELECT " AAPI_SESSION_COLS " FROM sessions s WHERE s.refresh_hash = %s" },
    { AAPI_SQL_SESSION_BY_HISTORY,
      "SELECT " AAPI_SESSION_COLS " FROM refresh_history h"
      " JOIN sessions s ON s.id = h.session_id WHERE h.token_hash = %s" },
    { AAPI_SQL_ROTATE,
      "UPDATE sessions SET prev_refresh_hash = refresh_hash,"
      " refresh_hash = %s, rotated_at = %s, last_used_at = %s,"
      " expires_at = %s"
      " WHERE id = %s AND refresh_hash = %s AND revoked_at IS NULL"
      " AND expires_at > %s" },
    { AAPI_SQL_HISTORY_INSERT,
      "INSERT INTO refresh_history (token_hash, session_id, rotated_at)"
      " VALUES (%s, %s, %s)" },
    /* the time of the newest row past the AAPI_HISTORY_KEEP a session
     * keeps (an index walk of that many rows) */
    { AAPI_SQL_HISTORY_NTH,
      "SELECT rotated_at FROM refresh_history WHERE session_id = %s"
      " ORDER BY rotated_at DESC LIMIT 1 OFFSET "
      APR_STRINGIFY(AAPI_HISTORY_KEEP) },
    { AAPI_SQL_HISTORY_PRUNE,
      "DELETE FROM refresh_history WHERE session_id = %s AND rotated_at < %s" },
    { AAPI_SQL_TOUCH,
      "UPDATE sessions SET last_used_at = %s WHERE id = %s" },
    { AAPI_SQL_END_SESSION,
      "UPDATE sessions SET revoked_at = %s WHERE id = %s AND user_id = %s"
      " AND revoked_at IS NULL AND expires_at > %s" },
    { AAPI_SQL_LIVE_SESSIONS,
      "SELECT " AAPI_SESSION_COLS " FROM sessions s WHERE s.user_id = %s"
      " AND s.revoked_at IS NULL AND s.expires_at > %s"
      " ORDER BY s.created_at DESC, s.id LIMIT "
      APR_STRINGIFY(AAPI_LIVE_ROWS_MAX) },
    { AAPI_SQL_END_OTHER_SESSIONS,
      "UPDATE sessions SET revoked_at = %s WHERE user_id = %s AND id <> %s"
      " AND revoked_at IS NULL" },
    { AAPI_SQL_SET_PASSWORD,
      "UPDATE users SET password_hash = %s, updated_at = %s WHERE id = %s" },
    { AAPI_SQL_REHASH,
      "UPDATE users SET password_hash = %s WHERE id = %s"
      " AND password_hash = %s" },
    { AAPI_SQL_DELETE_HISTORY,
      "DELETE FROM refresh_history WHERE session_id IN"
      " (SELECT id FROM sessions WHERE user_id = %s)" },
    { AAPI_SQL_DELETE_SESSIONS, "DELETE FROM sessions WHERE user_id = %s" },
    { AAPI_SQL_DELETE_USER, "DELETE FROM users WHERE id = %s" },
    { AAPI_SQL_SESSION_LIVE,
      "SELECT s.user_id, u.email, u.username, u.role, u.email_verified"
      " FROM sessions s JOIN users u ON u.id = s.user_id"
      " WHERE s.id = %s AND s.revoked_at IS NULL AND s.expires_at > %s"
      " AND u.disabled = 0" },
    /* pruning (the watchdog): a batch of sessions that ended before a
     * time, then each of them with its refresh history; an ended session
     * never comes back (a revoked one stays revoked, an expired one
     * cannot be rotated), the condition is repeated all the same */
    { AAPI_SQL_ENDED_SESSIONS,
      "SELECT id FROM sessions WHERE (revoked_at IS NOT NULL"
      " AND revoked_at < %s) OR expires_at < %s LIMIT "
      APR_STRINGIFY(AAPI_PRUNE_BATCH) },
    { AAPI_SQL_PRUNE_SESSION,
      "DELETE FROM sessions WHERE id = %s AND ((revoked_at IS NOT NULL"
      " AND revoked_at < %s) OR expires_at < %s)" },
    { AAPI_SQL_PRUNE_HISTORY,
      "DELETE FROM refresh_history WHERE session_id = %s" },
    { NULL, NULL }
};
