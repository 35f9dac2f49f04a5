-- Every refresh token a session has rotated away from, by hash: a later use
-- of one of them is reuse, and ends the session.
CREATE TABLE refresh_history (
    token_hash  TEXT    NOT NULL PRIMARY KEY,
    session_id  TEXT    NOT NULL,
    rotated_at  INTEGER NOT NULL
);
CREATE INDEX refresh_history_session ON refresh_history (session_id);
