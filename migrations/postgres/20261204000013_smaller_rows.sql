-- A status slot names the licence version that took it by its leaf index (an integer, unique
-- per version) instead of by its identifier and base (two ~70-character texts): about 150 bytes
-- less per slot, two slots per licence. The lists join the slots to the version's row through
-- `licences_leaf` and to its licence's state through `licence_heads`. Existing slots are
-- carried over.
CREATE TABLE status_entries_by_leaf (
    issuer     TEXT NOT NULL,
    purpose    TEXT NOT NULL CHECK (purpose IN ('revocation', 'suspension')),
    list       BIGINT NOT NULL CHECK (list >= 0),
    idx        BIGINT NOT NULL CHECK (idx >= 0),
    leaf_index BIGINT NOT NULL,
    PRIMARY KEY (issuer, purpose, list, idx)
);
INSERT INTO status_entries_by_leaf (issuer, purpose, list, idx, leaf_index)
    SELECT e.issuer, e.purpose, e.list, e.idx, l.leaf_index
    FROM status_entries e JOIN licences l ON l.id = e.licence;
DROP TABLE status_entries;
ALTER TABLE status_entries_by_leaf RENAME TO status_entries;
ALTER TABLE status_entries RENAME CONSTRAINT status_entries_by_leaf_pkey TO status_entries_pkey;
