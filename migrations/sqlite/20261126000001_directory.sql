-- The directory of licence types (目录清单), their schema versions and authority transfers.
CREATE TABLE licence_types (
    code            TEXT PRIMARY KEY,
    name_zh         TEXT NOT NULL,
    name_en         TEXT NOT NULL,
    authority_name  TEXT NOT NULL,
    authority_uscc  TEXT NOT NULL,
    authority_level INTEGER NOT NULL,
    issuing_level   INTEGER NOT NULL,
    holder_category INTEGER NOT NULL CHECK (holder_category IN (1, 2)),
    min_days        INTEGER NOT NULL,
    max_days        INTEGER NOT NULL,
    matters         TEXT NOT NULL,
    status          TEXT NOT NULL CHECK (status IN ('draft', 'published', 'deprecated')),
    created_at      TEXT NOT NULL,
    updated_at      TEXT NOT NULL
);
CREATE INDEX licence_types_status ON licence_types (status);
CREATE INDEX licence_types_authority ON licence_types (authority_uscc);

CREATE TABLE licence_type_versions (
    code       TEXT NOT NULL REFERENCES licence_types (code),
    version    INTEGER NOT NULL,
    schema     TEXT NOT NULL,
    digest     TEXT NOT NULL,
    created_at TEXT NOT NULL,
    PRIMARY KEY (code, version)
);

CREATE TABLE licence_type_transfers (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    code         TEXT NOT NULL REFERENCES licence_types (code),
    from_name    TEXT NOT NULL,
    from_uscc    TEXT NOT NULL,
    from_level   INTEGER NOT NULL,
    to_name      TEXT NOT NULL,
    to_uscc      TEXT NOT NULL,
    to_level     INTEGER NOT NULL,
    effective_at TEXT NOT NULL,
    reason       TEXT
);
