-- A sign-in deletes the sessions that ended, expired or went idle: one index per condition,
-- so that the delete reads only those rows, however many sessions there are.
CREATE INDEX holder_sessions_ended ON holder_sessions (ended_at);
CREATE INDEX holder_sessions_expires ON holder_sessions (expires_at);
CREATE INDEX holder_sessions_last_seen ON holder_sessions (last_seen_at);
