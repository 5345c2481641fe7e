-- Principals (agencies and their API keys, holder tokens), service matters, applications by
-- reference, consents, and the hash-chained access records (用证记录).

CREATE TABLE agencies (
    uscc         TEXT PRIMARY KEY,
    name         TEXT NOT NULL,
    jurisdiction TEXT NOT NULL,
    scopes       TEXT NOT NULL,
    created_at   TEXT NOT NULL
);

-- API keys: only their SHA-256 is kept.
CREATE TABLE agency_keys (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    agency     TEXT NOT NULL REFERENCES agencies (uscc),
    key_hash   TEXT NOT NULL UNIQUE,
    created_at TEXT NOT NULL,
    revoked_at TEXT
);

CREATE TABLE holder_tokens (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    holder     TEXT NOT NULL,
    token_hash TEXT NOT NULL UNIQUE,
    created_at TEXT NOT NULL,
    expires_at TEXT NOT NULL,
    revoked_at TEXT
);

CREATE TABLE matters (
    code         TEXT PRIMARY KEY,
    name         TEXT NOT NULL,
    agency       TEXT NOT NULL REFERENCES agencies (uscc),
    requirements TEXT NOT NULL,
    created_at   TEXT NOT NULL
);

CREATE TABLE applications (
    id              TEXT PRIMARY KEY,
    matter          TEXT NOT NULL REFERENCES matters (code),
    agency          TEXT NOT NULL REFERENCES agencies (uscc),
    applicant       TEXT NOT NULL,
    use_cause       TEXT NOT NULL,
    result          TEXT NOT NULL,
    fully_satisfied INTEGER NOT NULL,
    created_at      TEXT NOT NULL,
    expires_at      TEXT NOT NULL,
    closed_at       TEXT
);
CREATE INDEX applications_matter ON applications (matter);

-- The references that fulfilled a requirement: what the handling agency may read.
CREATE TABLE application_licences (
    application TEXT NOT NULL REFERENCES applications (id),
    licence     TEXT NOT NULL,
    type_code   TEXT NOT NULL,
    PRIMARY KEY (application, licence)
);

CREATE TABLE consents (
    id           TEXT PRIMARY KEY,
    holder       TEXT NOT NULL,
    agency       TEXT NOT NULL REFERENCES agencies (uscc),
    licences     TEXT NOT NULL,
    type_codes   TEXT NOT NULL,
    purpose      TEXT NOT NULL,
    valid_until  TEXT NOT NULL,
    created_at   TEXT NOT NULL,
    withdrawn_at TEXT
);
CREATE INDEX consents_holder ON consents (holder);
CREATE INDEX consents_agency ON consents (agency, holder);

-- Append-only: each record carries the SHA-256 of the previous record's canonical form.
CREATE TABLE access_records (
    seq         INTEGER PRIMARY KEY,
    at          TEXT NOT NULL,
    channel     TEXT NOT NULL,
    agency      TEXT,
    holder      TEXT,
    licence     TEXT,
    purpose     TEXT NOT NULL,
    route       TEXT NOT NULL,
    result      TEXT NOT NULL,
    application TEXT,
    previous    TEXT NOT NULL,
    hash        TEXT NOT NULL
);
CREATE INDEX access_records_holder ON access_records (holder, seq);

-- One row: the last record's sequence number and hash. Appenders write it first (the lock).
CREATE TABLE access_head (
    id   INTEGER PRIMARY KEY CHECK (id = 1),
    seq  INTEGER NOT NULL,
    hash TEXT NOT NULL
);
INSERT INTO access_head (id, seq, hash)
VALUES (1, 0, '0000000000000000000000000000000000000000000000000000000000000000');
