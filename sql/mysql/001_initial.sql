-- Accounts and their sessions. Times are seconds since the epoch (UTC).
-- email_norm and username_norm hold the lower-cased values under a binary
-- collation, so that the unique keys make them unique without regard to case.
CREATE TABLE users (
    id             CHAR(32)      NOT NULL,
    email          VARCHAR(254)  NOT NULL,
    email_norm     VARCHAR(254)  COLLATE utf8mb4_bin NOT NULL,
    username       VARCHAR(20),
    username_norm  VARCHAR(20)   COLLATE utf8mb4_bin,
    password_hash  VARCHAR(255)  NOT NULL,
    first_name     VARCHAR(100),
    last_name      VARCHAR(100),
    full_name      VARCHAR(100),
    role           VARCHAR(32)   NOT NULL DEFAULT 'user',
    email_verified TINYINT       NOT NULL DEFAULT 0,
    disabled       TINYINT       NOT NULL DEFAULT 0,
    profile        VARCHAR(4096) NOT NULL DEFAULT '{}',
    created_at     BIGINT        NOT NULL,
    updated_at     BIGINT        NOT NULL,
    PRIMARY KEY (id),
    UNIQUE KEY users_email_norm (email_norm),
    UNIQUE KEY users_username_norm (username_norm)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- One row per login. The refresh token is stored only as its SHA-256 (hex);
-- prev_refresh_hash and rotated_at (milliseconds) serve rotation with reuse
-- detection.
CREATE TABLE sessions (
    id                CHAR(32)     NOT NULL,
    user_id           CHAR(32)     NOT NULL,
    refresh_hash      CHAR(64)     NOT NULL,
    prev_refresh_hash CHAR(64),
    rotated_at        BIGINT,
    created_at        BIGINT       NOT NULL,
    last_used_at      BIGINT       NOT NULL,
    expires_at        BIGINT       NOT NULL,
    revoked_at        BIGINT,
    ip                VARCHAR(45),
    user_agent        VARCHAR(512),
    PRIMARY KEY (id),
    UNIQUE KEY sessions_refresh_hash (refresh_hash),
    KEY sessions_prev_refresh_hash (prev_refresh_hash),
    KEY sessions_user (user_id),
    CONSTRAINT sessions_user_fk FOREIGN KEY (user_id) REFERENCES users (id)
        ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;
