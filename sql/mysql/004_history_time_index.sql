-- A session's history is kept bounded at each rotation: its newest rows
-- are found by this index in order, without a sort. It serves what the
-- index on session_id alone did, which goes.
ALTER TABLE refresh_history
    ADD KEY refresh_history_session_time (session_id, rotated_at),
    DROP KEY refresh_history_session;
