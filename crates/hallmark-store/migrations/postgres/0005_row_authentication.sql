-- Row authentication (docs/security.md, "The app role as an attacker"). The rows the node
-- trusts carry a tag made with a secret the database never holds (hallmark_core::integrity);
-- what the app role can still write without it is refused here or ignored by the node.

-- Log leaves: the node's HMAC over the leaf hash, written with the leaf.
ALTER TABLE log_leaves ADD COLUMN tag BYTEA CHECK (tag IS NULL OR length(tag) = 32);

-- Where leaf authentication starts: leaves written before this migration have no tag (the
-- checkpoints the node signed over them are their authentication). Set once, here, by the
-- migration role; the app role may only read it.
CREATE TABLE log_integrity (
    id                INTEGER PRIMARY KEY CHECK (id = 1),
    first_tagged_leaf BIGINT NOT NULL CHECK (first_tagged_leaf >= 0)
);
INSERT INTO log_integrity (id, first_tagged_leaf)
    SELECT 1, coalesce(max(leaf_index) + 1, 0) FROM log_leaves;
CREATE TRIGGER log_integrity_no_update BEFORE UPDATE ON log_integrity
    FOR EACH ROW EXECUTE FUNCTION refuse_update();
CREATE TRIGGER log_integrity_no_delete BEFORE DELETE ON log_integrity
    FOR EACH ROW EXECUTE FUNCTION refuse_delete();
CREATE TRIGGER log_integrity_no_truncate BEFORE TRUNCATE ON log_integrity
    FOR EACH STATEMENT EXECUTE FUNCTION refuse_truncate();

-- Leaves the operator quarantined (`hallmark log quarantine`, under the migration role): a
-- leaf that failed authentication, named with its stored hash, that the node may then sign
-- over (it records the quarantine as a new leaf). The app role may only read.
CREATE TABLE log_quarantine (
    leaf_index BIGINT PRIMARY KEY REFERENCES log_leaves (leaf_index),
    leaf_hash  BYTEA NOT NULL CHECK (length(leaf_hash) = 32),
    reason     TEXT NOT NULL CHECK (length(reason) BETWEEN 1 AND 4096),
    created_at TIMESTAMPTZ NOT NULL
);
CREATE TRIGGER log_quarantine_no_update BEFORE UPDATE ON log_quarantine
    FOR EACH ROW EXECUTE FUNCTION refuse_update();
CREATE TRIGGER log_quarantine_no_delete BEFORE DELETE ON log_quarantine
    FOR EACH ROW EXECUTE FUNCTION refuse_delete();
CREATE TRIGGER log_quarantine_no_truncate BEFORE TRUNCATE ON log_quarantine
    FOR EACH STATEMENT EXECUTE FUNCTION refuse_truncate();

-- Signing-key rows: the node's HMAC over the row's canonical bytes; rewritten by the node
-- with each status change it makes.
ALTER TABLE signing_keys ADD COLUMN tag BYTEA CHECK (tag IS NULL OR length(tag) = 32);

-- API keys: stored under a keyed hash (HMAC with a custody-derived key). Keys created before
-- this migration keep their unkeyed SHA-256 ('sha256') until their next use, when the node
-- rehashes them; no new row can be 'sha256'.
ALTER TABLE api_keys ADD COLUMN hash_scheme TEXT NOT NULL DEFAULT 'hmac-sha256'
    CHECK (hash_scheme IN ('sha256', 'hmac-sha256'));
UPDATE api_keys SET hash_scheme = 'sha256';

CREATE FUNCTION api_keys_guard_insert() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.hash_scheme <> 'hmac-sha256' THEN
        RAISE EXCEPTION 'hallmark:conflict: new API keys are stored under the keyed hash'
            USING ERRCODE = 'HM003';
    END IF;
    RETURN NEW;
END $$;
CREATE TRIGGER api_keys_guard_insert BEFORE INSERT ON api_keys
    FOR EACH ROW EXECUTE FUNCTION api_keys_guard_insert();

CREATE OR REPLACE FUNCTION api_keys_guard_update() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.prefix IS DISTINCT FROM OLD.prefix
       OR NEW.scope IS DISTINCT FROM OLD.scope OR NEW.label IS DISTINCT FROM OLD.label
       OR NEW.created_at IS DISTINCT FROM OLD.created_at
       OR NEW.expires_at IS DISTINCT FROM OLD.expires_at THEN
        RAISE EXCEPTION 'hallmark:immutable: only last_used_at and revoked_at of an API key change'
            USING ERRCODE = 'HM001';
    END IF;
    -- The one rehash: an unkeyed hash becomes a keyed one, once.
    IF (NEW.hash IS DISTINCT FROM OLD.hash OR NEW.hash_scheme IS DISTINCT FROM OLD.hash_scheme)
       AND NOT (OLD.hash_scheme = 'sha256' AND NEW.hash_scheme = 'hmac-sha256') THEN
        RAISE EXCEPTION 'hallmark:immutable: only last_used_at and revoked_at of an API key change'
            USING ERRCODE = 'HM001';
    END IF;
    IF OLD.revoked_at IS NOT NULL AND NEW.revoked_at IS DISTINCT FROM OLD.revoked_at THEN
        RAISE EXCEPTION 'hallmark:immutable: API key % is revoked; revocation is final', OLD.prefix
            USING ERRCODE = 'HM001';
    END IF;
    RETURN NEW;
END $$;

-- Checkpoints still only grow, and now never beyond the log: a row claiming more leaves than
-- the log holds (which would block every later checkpoint) is refused. A row within the log
-- that the node's log key did not sign is ignored by the node and reported.
CREATE OR REPLACE FUNCTION checkpoints_guard_insert() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.tree_size <= (SELECT coalesce(max(tree_size), -1) FROM checkpoints) THEN
        RAISE EXCEPTION 'hallmark:conflict: checkpoints only grow' USING ERRCODE = 'HM003';
    END IF;
    IF NEW.tree_size > (SELECT coalesce(max(leaf_index) + 1, 0) FROM log_leaves) THEN
        RAISE EXCEPTION 'hallmark:conflict: a checkpoint cannot cover more leaves than the log holds'
            USING ERRCODE = 'HM003';
    END IF;
    RETURN NEW;
END $$;

REVOKE ALL ON log_integrity, log_quarantine FROM PUBLIC;
GRANT SELECT ON log_integrity, log_quarantine TO __APP_ROLE__;
GRANT UPDATE (tag) ON signing_keys TO __APP_ROLE__;
GRANT UPDATE (hash, hash_scheme) ON api_keys TO __APP_ROLE__;
