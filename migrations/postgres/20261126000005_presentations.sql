-- Presentations by QR: a holder shows chosen fields of one licence to whoever scans a short-lived
-- URL. Only the token's SHA-256 is kept. Rows are kept after expiry so that a late scan gets a
-- clear "expired" answer; the access records say who scanned.
CREATE TABLE presentations (
    token_hash TEXT PRIMARY KEY,
    holder     TEXT NOT NULL,
    licence    TEXT NOT NULL,
    fields     TEXT NOT NULL,
    created_at TIMESTAMPTZ NOT NULL,
    expires_at TIMESTAMPTZ NOT NULL,
    max_uses   BIGINT,
    uses       BIGINT NOT NULL DEFAULT 0
);
CREATE INDEX presentations_holder ON presentations (holder, created_at);
