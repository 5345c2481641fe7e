-- Holder sessions of the holder page (issue 18): signed in through the province's identity
-- provider (`via` = 'oidc') or, on a development registry, with an operator-minted holder token
-- ('token'). Only the SHA-256 of the random 256-bit session id is kept.
CREATE TABLE holder_sessions (
    id_hash      TEXT PRIMARY KEY,
    holder       TEXT NOT NULL,
    via          TEXT NOT NULL CHECK (via IN ('oidc', 'token')),
    created_at   TIMESTAMPTZ NOT NULL,
    last_seen_at TIMESTAMPTZ NOT NULL,
    expires_at   TIMESTAMPTZ NOT NULL,
    ended_at     TIMESTAMPTZ
);

CREATE INDEX holder_sessions_holder ON holder_sessions (holder);

