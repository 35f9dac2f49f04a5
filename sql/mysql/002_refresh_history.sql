-- Every refresh token a session has rotated away from, by hash: a later use
-- of one of them is reuse, and ends the session.
CREATE TABLE refresh_history (
    token_hash  CHAR(64) NOT NULL,
    session_id  CHAR(32) NOT NULL,
    rotated_at  BIGINT   NOT NULL,
    PRIMARY KEY (token_hash),
    KEY refresh_history_session (session_id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;
