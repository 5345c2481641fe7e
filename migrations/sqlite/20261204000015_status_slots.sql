-- A status slot's list is named by a small integer instead of by the issuer's USCC, the
-- purpose and the list number on every row: `status_lists` holds each (issuer, purpose, list)
-- once, `status_slots` the taken slots as three integers. Existing slots are carried over.
--
-- No foreign keys: both tables are written only by the append, in one transaction that creates a
-- list's row before the first slot naming it (`write_status_entries`), and a per-row check on
-- the single writer's path would cost more than it guards.
CREATE TABLE status_lists (
    id      INTEGER PRIMARY KEY,
    issuer  TEXT NOT NULL,
    purpose TEXT NOT NULL CHECK (purpose IN ('revocation', 'suspension')),
    list    INTEGER NOT NULL CHECK (list >= 0),
    UNIQUE (issuer, purpose, list)
);
INSERT INTO status_lists (issuer, purpose, list)
    SELECT DISTINCT issuer, purpose, list FROM status_entries ORDER BY issuer, purpose, list;

CREATE TABLE status_slots (
    list_id    INTEGER NOT NULL,
    idx        INTEGER NOT NULL CHECK (idx >= 0),
    leaf_index INTEGER NOT NULL,
    PRIMARY KEY (list_id, idx)
) WITHOUT ROWID;
INSERT INTO status_slots (list_id, idx, leaf_index)
    SELECT s.id, e.idx, e.leaf_index
    FROM status_entries e
    JOIN status_lists s ON s.issuer = e.issuer AND s.purpose = e.purpose AND s.list = e.list;
DROP TABLE status_entries;
