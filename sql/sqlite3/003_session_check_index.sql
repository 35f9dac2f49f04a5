-- The check that a token's session is live (sessions joined to users, a
-- request's first sight of a session): the account's side is read from
-- this index alone instead of the index and then the table. MariaDB needs
-- none: InnoDB keeps the row with its primary key.
CREATE INDEX users_live ON users (id, disabled);
