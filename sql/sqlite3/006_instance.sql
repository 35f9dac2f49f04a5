-- The database's own random id. The shared cache (AuthAPISOCache) names
-- the state of sessions and accounts by it, so that a server (or virtual
-- host) with another database, even one that trusts the same signing key,
-- never takes this database's sessions for its own.
CREATE TABLE aapi_instance (
    id TEXT NOT NULL
);
INSERT INTO aapi_instance (id) VALUES (lower(hex(randomblob(16))));
