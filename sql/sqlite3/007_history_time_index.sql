-- A session's history is kept bounded at each rotation: its newest rows
-- are found by this index in order, without a sort. It serves what the
-- index on session_id alone did, which goes.
CREATE INDEX refresh_history_session_time ON refresh_history (session_id, rotated_at);
DROP INDEX refresh_history_session;
