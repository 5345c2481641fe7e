-- A status slot names the licence version that took it by its leaf index (an integer, unique
-- per version) instead of by its identifier and base (two ~70-character texts): about 150 bytes
-- less per slot, two slots per licence. The lists join the slots to the version's row through
-- `licences_leaf` and to its licence's state through `licence_heads`. Existing slots are
-- carried over.
CREATE TABLE status_entries_by_leaf (
    issuer     TEXT NOT NULL,
    purpose    TEXT NOT NULL CHECK (purpose IN ('revocation', 'suspension')),
    list       INTEGER NOT NULL CHECK (list >= 0),
    idx        INTEGER NOT NULL CHECK (idx >= 0),
    leaf_index INTEGER NOT NULL,
    PRIMARY KEY (issuer, purpose, list, idx)
) WITHOUT ROWID;
INSERT INTO status_entries_by_leaf (issuer, purpose, list, idx, leaf_index)
    SELECT e.issuer, e.purpose, e.list, e.idx, l.leaf_index
    FROM status_entries e JOIN licences l ON l.id = e.licence;
DROP TABLE status_entries;
ALTER TABLE status_entries_by_leaf RENAME TO status_entries;

-- Each licence's head row is found by its base only: kept in the primary key's own b-tree
-- (WITHOUT ROWID) instead of a rowid table beside an index of the same base, about 80 bytes a
-- licence less.
CREATE TABLE licence_heads_by_base (
    base       TEXT PRIMARY KEY,
    id         TEXT NOT NULL REFERENCES licences (id),
    digest     TEXT NOT NULL,
    status     TEXT NOT NULL CHECK (status IN ('active', 'suspended', 'revoked')),
    last_event TEXT
) WITHOUT ROWID;
INSERT INTO licence_heads_by_base (base, id, digest, status, last_event)
    SELECT base, id, digest, status, last_event FROM licence_heads;
DROP TABLE licence_heads;
ALTER TABLE licence_heads_by_base RENAME TO licence_heads;
