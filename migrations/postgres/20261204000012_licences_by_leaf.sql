-- An envelope is put back together from its leaf range (its items are consecutive leaves), so
-- licences are found by leaf, like status events, instead of by digest. The digest index took
-- a random page for every licence appended (digests are uniformly spread), which grew the
-- write-ahead log by one page per licence per batch as the registry grew; leaf indexes only
-- ever grow, so the new index is appended at its right edge.
DROP INDEX licences_digest;
CREATE INDEX licences_leaf ON licences (leaf_index);
