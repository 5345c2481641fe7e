-- Level 0 of the Merkle tree is each leaf's hash, already in `log_leaves.leaf_hash`; the store
-- reads it from there and no longer writes it to `log_nodes` (about half of that table).
DELETE FROM log_nodes WHERE level = 0;
