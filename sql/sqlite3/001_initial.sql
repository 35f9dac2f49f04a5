-- Accounts and their sessions. Times are seconds since the epoch (UTC).
-- email_norm and username_norm hold the lower-cased values, so that the
-- unique indexes make addresses and names unique without regard to case.
CREATE TABLE users (
    id             TEXT    NOT NULL PRIMARY KEY,
    email          TEXT    NOT NULL,
    email_norm     TEXT    NOT NULL,
    username       TEXT,
    username_norm  TEXT,
    password_hash  TEXT    NOT NULL,
    first_name     TEXT,
    last_name      TEXT,
    full_name      TEXT,
    role           TEXT    NOT NULL DEFAULT 'user',
    email_verified INTEGER NOT NULL DEFAULT 0,
    disabled       INTEGER NOT NULL DEFAULT 0,
    profile        TEXT    NOT NULL DEFAULT '{}',
    created_at     INTEGER NOT NULL,
    updated_at     INTEGER NOT NULL
);
CREATE UNIQUE INDEX users_email_norm ON users (email_norm);
CREATE UNIQUE INDEX users_username_norm ON users (username_norm);

-- One row per login. The refresh token is stored only as its SHA-256 (hex);
-- prev_refresh_hash and rotated_at (milliseconds) serve rotation with reuse
-- detection.
CREATE TABLE sessions (
    id                TEXT    NOT NULL PRIMARY KEY,
    user_id           TEXT    NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    refresh_hash      TEXT    NOT NULL,
    prev_refresh_hash TEXT,
    rotated_at        INTEGER,
    created_at        INTEGER NOT NULL,
    last_used_at      INTEGER NOT NULL,
    expires_at        INTEGER NOT NULL,
    revoked_at        INTEGER,
    ip                TEXT,
    user_agent        TEXT
);
CREATE UNIQUE INDEX sessions_refresh_hash ON sessions (refresh_hash);
CREATE INDEX sessions_prev_refresh_hash ON sessions (prev_refresh_hash);
CREATE INDEX sessions_user ON sessions (user_id);
