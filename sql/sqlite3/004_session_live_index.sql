-- The check that a token's session is live reads the session's side from
-- this index alone (its id, then revoked_at, expires_at and user_id), as
-- 003 did for the account's side: one b-tree search instead of the
-- primary key's index and then the table. MariaDB needs none: InnoDB
-- keeps the row with its primary key.
CREATE INDEX sessions_live ON sessions (id, revoked_at, expires_at, user_id);
