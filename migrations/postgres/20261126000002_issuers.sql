-- Issuers (authorised third-party providers), their Ed25519 keys and read tokens, and the
-- authorisations granted to them. Nothing here is ever deleted: keys are revoked, tokens
-- revoked, authorisations withdrawn.
CREATE TABLE issuers (
    uscc       TEXT PRIMARY KEY,
    name       TEXT NOT NULL,
    contact    TEXT,
    status     TEXT NOT NULL CHECK (status IN ('active', 'suspended')),
    created_at TIMESTAMPTZ NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL
);

CREATE TABLE issuer_keys (
    id                BIGSERIAL PRIMARY KEY,
    issuer            TEXT NOT NULL REFERENCES issuers (uscc),
    multikey          TEXT NOT NULL UNIQUE,
    valid_from        TIMESTAMPTZ NOT NULL,
    valid_until       TIMESTAMPTZ,
    revoked_at        TIMESTAMPTZ,
    compromised_since TIMESTAMPTZ,
    revocation_reason TEXT,
    created_at        TIMESTAMPTZ NOT NULL
);
CREATE INDEX issuer_keys_issuer ON issuer_keys (issuer);

CREATE TABLE issuer_tokens (
    id         BIGSERIAL PRIMARY KEY,
    issuer     TEXT NOT NULL REFERENCES issuers (uscc),
    token_hash TEXT NOT NULL UNIQUE,
    created_at TIMESTAMPTZ NOT NULL,
    revoked_at TIMESTAMPTZ
);
CREATE INDEX issuer_tokens_issuer ON issuer_tokens (issuer);

CREATE TABLE authorisations (
    id                TEXT PRIMARY KEY,
    issuer            TEXT NOT NULL REFERENCES issuers (uscc),
    type_codes        TEXT NOT NULL,
    jurisdiction      TEXT NOT NULL,
    valid_from        TIMESTAMPTZ NOT NULL,
    valid_until       TIMESTAMPTZ,
    granted_by        TEXT NOT NULL,
    granted_at        TIMESTAMPTZ NOT NULL,
    withdrawn_at      TIMESTAMPTZ,
    withdrawal_reason TEXT
);
CREATE INDEX authorisations_issuer ON authorisations (issuer, granted_at);
