-- The set bits of every status list, kept by the append instead of derived from every slot's
-- licence each time a list is read: at ten million licences, deriving one list of 131,072 slots
-- took 0.3–1 s on SQLite and 1.4–16 s on PostgreSQL, and a list is read again by every
-- instance every 10 s it is asked for. Reading one is now a range of its set bits.
--
-- kind 0: the slot's licence is revoked (revocation list) or suspended (suspension list);
-- kind 1: the slot is a revocation slot of a version that is no longer its licence's head (the
-- supersession list of the same number). The append rewrites the rows of every licence whose
-- head status or head version it changes (`write_status_bits`), which finds the slots of
-- a licence's versions through `status_slots_leaf`. Existing lists are carried over.
CREATE INDEX status_slots_leaf ON status_slots (leaf_index);

CREATE TABLE status_bits (
    list_id INTEGER NOT NULL,
    idx     INTEGER NOT NULL,
    kind    INTEGER NOT NULL CHECK (kind IN (0, 1)),
    PRIMARY KEY (list_id, idx, kind)
) WITHOUT ROWID;
INSERT INTO status_bits (list_id, idx, kind)
    SELECT e.list_id, e.idx, 0
    FROM status_slots e
    JOIN status_lists s ON s.id = e.list_id
    JOIN licences l ON l.leaf_index = e.leaf_index
    JOIN licence_heads h ON h.base = l.base
    WHERE (s.purpose = 'revocation' AND h.status = 'revoked')
       OR (s.purpose = 'suspension' AND h.status = 'suspended');
INSERT INTO status_bits (list_id, idx, kind)
    SELECT e.list_id, e.idx, 1
    FROM status_slots e
    JOIN status_lists s ON s.id = e.list_id
    JOIN licences l ON l.leaf_index = e.leaf_index
    JOIN licence_heads h ON h.base = l.base
    WHERE s.purpose = 'revocation' AND h.id <> l.id;
