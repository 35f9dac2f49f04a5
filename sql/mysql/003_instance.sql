-- The database's own random id. The shared cache (AuthAPISOCache) names
-- the state of sessions and accounts by it, so that a server (or virtual
-- host) with another database, even one that trusts the same signing key,
-- never takes this database's sessions for its own. A UUID without its
-- dashes: unique, which is all a name needs (it is no secret).
CREATE TABLE aapi_instance (
    id VARCHAR(64) NOT NULL
) ENGINE=InnoDB DEFAULT CHARSET=ascii;
INSERT INTO aapi_instance (id) VALUES (LOWER(REPLACE(UUID(), '-', '')));
