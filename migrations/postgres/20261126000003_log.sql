-- The write path: accepted envelopes and each issuer's chain head, licences and their version
-- chains, status events, and the transparency log (leaves, complete-subtree nodes, signed
-- checkpoints). Everything here is append-only except the head tables and `log_state`.

-- One row; the sequencer writes it first in every batch to take the database write lock.
CREATE TABLE log_state (
    id   BIGINT PRIMARY KEY CHECK (id = 1),
    size BIGINT NOT NULL
);
INSERT INTO log_state (id, size) VALUES (1, 0);

CREATE TABLE log_leaves (
    idx       BIGINT PRIMARY KEY,
    leaf_hash BYTEA NOT NULL,
    data      TEXT NOT NULL
);

-- Complete, aligned subtrees: (level, idx) covers leaves [idx·2^level, (idx+1)·2^level).
CREATE TABLE log_nodes (
    level BIGINT NOT NULL,
    idx   BIGINT NOT NULL,
    hash  BYTEA NOT NULL,
    PRIMARY KEY (level, idx)
);

CREATE TABLE checkpoints (
    size       BIGINT PRIMARY KEY,
    root       BYTEA NOT NULL,
    note       TEXT NOT NULL,
    created_at TIMESTAMPTZ NOT NULL
);

CREATE TABLE envelopes (
    digest      TEXT PRIMARY KEY,
    issuer      TEXT NOT NULL,
    sequence    BIGINT NOT NULL,
    previous    TEXT,
    document    TEXT NOT NULL,
    receipt     TEXT NOT NULL,
    accepted_at TIMESTAMPTZ NOT NULL,
    first_leaf  BIGINT NOT NULL,
    UNIQUE (issuer, sequence)
);

CREATE TABLE issuer_heads (
    issuer   TEXT PRIMARY KEY,
    sequence BIGINT NOT NULL,
    digest   TEXT NOT NULL REFERENCES envelopes (digest)
);

CREATE TABLE licences (
    id             TEXT PRIMARY KEY,
    base           TEXT NOT NULL,
    version        BIGINT NOT NULL,
    issuer         TEXT NOT NULL,
    type_code      TEXT NOT NULL,
    schema_version BIGINT NOT NULL,
    holder         TEXT NOT NULL,
    jurisdiction   TEXT NOT NULL,
    valid_from     TIMESTAMPTZ NOT NULL,
    valid_until    TIMESTAMPTZ NOT NULL,
    digest         TEXT NOT NULL,
    document       TEXT NOT NULL,
    envelope       TEXT NOT NULL REFERENCES envelopes (digest),
    leaf_index     BIGINT NOT NULL,
    accepted_at    TIMESTAMPTZ NOT NULL,
    UNIQUE (base, version)
);
CREATE INDEX licences_holder ON licences (holder);
CREATE INDEX licences_digest ON licences (digest);

-- The current state of each licence (all versions of one base): head version, status, and the
-- digest a next status event must name as `previous`.
CREATE TABLE licence_heads (
    base       TEXT PRIMARY KEY,
    id         TEXT NOT NULL REFERENCES licences (id),
    digest     TEXT NOT NULL,
    status     TEXT NOT NULL CHECK (status IN ('active', 'suspended', 'revoked')),
    last_event TEXT
);

CREATE TABLE status_events (
    id             BIGSERIAL PRIMARY KEY,
    base           TEXT NOT NULL,
    licence        TEXT NOT NULL REFERENCES licences (id),
    action         TEXT NOT NULL CHECK (action IN ('suspend', 'resume', 'revoke')),
    reason         TEXT NOT NULL,
    effective_from TIMESTAMPTZ NOT NULL,
    digest         TEXT NOT NULL,
    previous       TEXT NOT NULL,
    document       TEXT NOT NULL,
    envelope       TEXT NOT NULL REFERENCES envelopes (digest),
    leaf_index     BIGINT NOT NULL UNIQUE,
    accepted_at    TIMESTAMPTZ NOT NULL
);
CREATE INDEX status_events_base ON status_events (base, leaf_index);
