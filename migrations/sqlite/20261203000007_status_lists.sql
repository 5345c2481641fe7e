-- W3C Bitstring Status List slots: the (issuer, purpose, list, index) a licence version's
-- `credentialStatus` names. Each slot is taken once; a list's bits are computed from these rows
-- and the state of each licence in `licence_heads` (docs/status-lists.md).
CREATE TABLE status_entries (
    issuer  TEXT NOT NULL,
    purpose TEXT NOT NULL CHECK (purpose IN ('revocation', 'suspension')),
    list    INTEGER NOT NULL CHECK (list >= 0),
    idx     INTEGER NOT NULL CHECK (idx >= 0),
    licence TEXT NOT NULL REFERENCES licences (id),
    base    TEXT NOT NULL,
    PRIMARY KEY (issuer, purpose, list, idx)
) WITHOUT ROWID;
CREATE INDEX status_entries_base ON status_entries (base);
