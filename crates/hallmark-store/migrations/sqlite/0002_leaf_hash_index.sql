-- Hallmark store, migration 0002: look a transparency-log leaf up by its hash (the public
-- inclusion-proof endpoint answers `?hash=`) in O(log n) instead of scanning every leaf.
CREATE INDEX log_leaves_hash_idx ON log_leaves (leaf_hash);
