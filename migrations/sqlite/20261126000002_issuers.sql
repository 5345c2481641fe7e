-- Issuers (authorised third-party providers), their Ed25519 keys and read tokens, and the
-- authorisations granted to them. Nothing here is ever deleted: keys are revoked, tokens
-- revoked, authorisations withdrawn.
CREATE TABLE issuers (
    uscc       TEXT PRIMARY KEY,
    name       TEXT NOT NULL,
    contact    TEXT,
    status     TEXT NOT NULL CHECK (status IN ('active', 'suspended')),
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);

CREATE TABLE issuer_keys (
    id                INTEGER PRIMARY KEY AUTOINCREMENT,
    issuer            TEXT NOT NULL REFERENCES issuers (uscc),
    multikey          TEXT NOT NULL UNIQUE,
    valid_from        TEXT NOT NULL,
    valid_until       TEXT,
    revoked_at        TEXT,
    compromised_since TEXT,
    revocation_reason TEXT,
    created_at        TEXT NOT NULL
);
CREATE INDEX issuer_keys_issuer ON issuer_keys (issuer);

CREATE TABLE issuer_tokens (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    issuer     TEXT NOT NULL REFERENCES issuers (uscc),
    token_hash TEXT NOT NULL UNIQUE,
    created_at TEXT NOT NULL,
    revoked_at TEXT
);
CREATE INDEX issuer_tokens_issuer ON issuer_tokens (issuer);

CREATE TABLE authorisations (
    id                TEXT PRIMARY KEY,
    issuer            TEXT NOT NULL REFERENCES issuers (uscc),
    type_codes        TEXT NOT NULL,
    jurisdiction      TEXT NOT NULL,
    valid_from        TEXT NOT NULL,
    valid_until       TEXT,
    granted_by        TEXT NOT NULL,
    granted_at        TEXT NOT NULL,
    withdrawn_at      TEXT,
    withdrawal_reason TEXT
);
CREATE INDEX authorisations_issuer ON authorisations (issuer, granted_at);
