-- Row authentication: the same rules as PostgreSQL's 0005 (see there). SQLite has no roles,
-- so here they guard against the application's own mistakes; the node's checks of the
-- tags are what stands against someone who can write the file.

ALTER TABLE log_leaves ADD COLUMN tag BLOB CHECK (tag IS NULL OR length(tag) = 32);

CREATE TABLE log_integrity (
    id                INTEGER PRIMARY KEY CHECK (id = 1),
    first_tagged_leaf INTEGER NOT NULL CHECK (first_tagged_leaf >= 0)
) STRICT;
INSERT INTO log_integrity (id, first_tagged_leaf)
    SELECT 1, coalesce(max(leaf_index) + 1, 0) FROM log_leaves;
CREATE TRIGGER log_integrity_no_update BEFORE UPDATE ON log_integrity
BEGIN SELECT RAISE(ABORT, 'hallmark:immutable: log_integrity is set once'); END;
CREATE TRIGGER log_integrity_no_delete BEFORE DELETE ON log_integrity
BEGIN SELECT RAISE(ABORT, 'hallmark:immutable: log_integrity is never deleted'); END;
CREATE TRIGGER log_integrity_no_insert BEFORE INSERT ON log_integrity
BEGIN SELECT RAISE(ABORT, 'hallmark:immutable: log_integrity is set once'); END;

CREATE TABLE log_quarantine (
    leaf_index INTEGER PRIMARY KEY REFERENCES log_leaves (leaf_index),
    leaf_hash  BLOB NOT NULL CHECK (length(leaf_hash) = 32),
    reason     TEXT NOT NULL CHECK (length(reason) BETWEEN 1 AND 4096),
    created_at TEXT NOT NULL
) STRICT;
CREATE TRIGGER log_quarantine_no_update BEFORE UPDATE ON log_quarantine
BEGIN SELECT RAISE(ABORT, 'hallmark:immutable: quarantine records are append-only'); END;
CREATE TRIGGER log_quarantine_no_delete BEFORE DELETE ON log_quarantine
BEGIN SELECT RAISE(ABORT, 'hallmark:immutable: quarantine records are never deleted'); END;
CREATE TRIGGER log_quarantine_no_replace BEFORE INSERT ON log_quarantine
WHEN EXISTS (SELECT 1 FROM log_quarantine WHERE leaf_index = NEW.leaf_index)
BEGIN SELECT RAISE(ABORT, 'hallmark:conflict: the leaf is already quarantined'); END;

ALTER TABLE signing_keys ADD COLUMN tag BLOB CHECK (tag IS NULL OR length(tag) = 32);

ALTER TABLE api_keys ADD COLUMN hash_scheme TEXT NOT NULL DEFAULT 'hmac-sha256'
    CHECK (hash_scheme IN ('sha256', 'hmac-sha256'));
UPDATE api_keys SET hash_scheme = 'sha256';

CREATE TRIGGER api_keys_guard_insert BEFORE INSERT ON api_keys
WHEN NEW.hash_scheme IS NOT 'hmac-sha256'
BEGIN SELECT RAISE(ABORT, 'hallmark:conflict: new API keys are stored under the keyed hash'); END;

DROP TRIGGER api_keys_guard_update;
CREATE TRIGGER api_keys_guard_update BEFORE UPDATE ON api_keys
WHEN NEW.prefix IS NOT OLD.prefix OR NEW.scope IS NOT OLD.scope
  OR NEW.label IS NOT OLD.label OR NEW.created_at IS NOT OLD.created_at
  OR NEW.expires_at IS NOT OLD.expires_at
  OR ((NEW.hash IS NOT OLD.hash OR NEW.hash_scheme IS NOT OLD.hash_scheme)
      AND NOT (OLD.hash_scheme = 'sha256' AND NEW.hash_scheme = 'hmac-sha256'))
BEGIN SELECT RAISE(ABORT, 'hallmark:immutable: only last_used_at and revoked_at of an API key change'); END;

CREATE TRIGGER checkpoints_within_log BEFORE INSERT ON checkpoints
WHEN NEW.tree_size > (SELECT coalesce(max(leaf_index) + 1, 0) FROM log_leaves)
BEGIN SELECT RAISE(ABORT, 'hallmark:conflict: a checkpoint cannot cover more leaves than the log holds'); END;
