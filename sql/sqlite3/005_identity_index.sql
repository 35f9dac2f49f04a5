-- The check that a token's session is live also reads what the token says
-- of its user (email, username, role, email_verified), so that a token
-- whose claims are out of date is refused: users_live of 003 grows by
-- those columns and stays the one index the account's side is read from.
-- MariaDB needs none: InnoDB keeps the row with its primary key.
DROP INDEX users_live;
CREATE INDEX users_live ON users (id, disabled, email, username, role,
                                  email_verified);
