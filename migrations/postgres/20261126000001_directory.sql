-- The directory of licence types (目录清单), their schema versions and authority transfers.
CREATE TABLE licence_types (
    code            TEXT PRIMARY KEY,
    name_zh         TEXT NOT NULL,
    name_en         TEXT NOT NULL,
    authority_name  TEXT NOT NULL,
    authority_uscc  TEXT NOT NULL,
    authority_level BIGINT NOT NULL,
    issuing_level   BIGINT NOT NULL,
    holder_category BIGINT NOT NULL CHECK (holder_category IN (1, 2)),
    min_days        BIGINT NOT NULL,
    max_days        BIGINT NOT NULL,
    matters         TEXT NOT NULL,
    status          TEXT NOT NULL CHECK (status IN ('draft', 'published', 'deprecated')),
    created_at      TIMESTAMPTZ NOT NULL,
    updated_at      TIMESTAMPTZ NOT NULL
);
CREATE INDEX licence_types_status ON licence_types (status);
CREATE INDEX licence_types_authority ON licence_types (authority_uscc);

CREATE TABLE licence_type_versions (
    code       TEXT NOT NULL REFERENCES licence_types (code),
    version    BIGINT NOT NULL,
    schema     TEXT NOT NULL,
    digest     TEXT NOT NULL,
    created_at TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (code, version)
);

CREATE TABLE licence_type_transfers (
    id           BIGSERIAL PRIMARY KEY,
    code         TEXT NOT NULL REFERENCES licence_types (code),
    from_name    TEXT NOT NULL,
    from_uscc    TEXT NOT NULL,
    from_level   BIGINT NOT NULL,
    to_name      TEXT NOT NULL,
    to_uscc      TEXT NOT NULL,
    to_level     BIGINT NOT NULL,
    effective_at TIMESTAMPTZ NOT NULL,
    reason       TEXT
);
