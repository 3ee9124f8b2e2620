-- Hallmark store, SQLite, migration 0001. Same tables and rules as the PostgreSQL schema;
-- every rule is a trigger ending in RAISE(ABORT, 'hallmark:<category>: ...'). SQLite has no
-- roles: these triggers stop the application (and anything else speaking SQL through it)
-- from breaking permanence, but not someone who can rewrite the file.
-- Connections run with foreign_keys = ON and recursive_triggers = ON (so that
-- INSERT OR REPLACE, which deletes the conflicting row, fires the delete guards).

-- Passports ------------------------------------------------------------------------------

CREATE TABLE passports (
    id                   TEXT PRIMARY KEY CHECK (length(id) = 36),
    gtin                 TEXT NOT NULL CHECK (length(gtin) = 14 AND gtin NOT GLOB '*[^0-9]*'),
    sector_id            TEXT NOT NULL CHECK (length(sector_id) BETWEEN 1 AND 256),
    economic_operator_id TEXT NOT NULL CHECK (length(economic_operator_id) BETWEEN 1 AND 256),
    status               TEXT NOT NULL
        CHECK (status IN ('draft', 'published', 'suspended', 'archived', 'deactivated')),
    status_reason        TEXT CHECK (length(status_reason) <= 4096),
    current_version      INTEGER NOT NULL CHECK (current_version >= 0),
    created_at           TEXT NOT NULL,
    updated_at           TEXT NOT NULL,
    published_at         TEXT,
    CHECK ((status = 'draft') = (published_at IS NULL))
) STRICT;
CREATE INDEX passports_status_idx ON passports (status, id);
CREATE INDEX passports_sector_idx ON passports (sector_id, id);
CREATE INDEX passports_gtin_idx ON passports (gtin, id);

CREATE TRIGGER passports_guard_insert BEFORE INSERT ON passports
WHEN NEW.status <> 'draft' OR NEW.current_version <> 0 OR NEW.published_at IS NOT NULL
BEGIN SELECT RAISE(ABORT, 'hallmark:conflict: a passport is created as an unpublished draft'); END;

CREATE TRIGGER passports_guard_terminal BEFORE UPDATE ON passports
WHEN OLD.status IN ('archived', 'deactivated')
BEGIN SELECT RAISE(ABORT, 'hallmark:immutable: the passport is in a terminal state and can no longer change'); END;

CREATE TRIGGER passports_guard_identity BEFORE UPDATE ON passports
WHEN NEW.id IS NOT OLD.id OR NEW.gtin IS NOT OLD.gtin OR NEW.sector_id IS NOT OLD.sector_id
  OR NEW.economic_operator_id IS NOT OLD.economic_operator_id OR NEW.created_at IS NOT OLD.created_at
BEGIN SELECT RAISE(ABORT, 'hallmark:immutable: the identity columns of a passport never change'); END;

CREATE TRIGGER passports_guard_transition BEFORE UPDATE ON passports
WHEN NEW.status IS NOT OLD.status AND NOT (
       (OLD.status = 'draft' AND NEW.status = 'published')
    OR (OLD.status = 'published' AND NEW.status IN ('suspended', 'archived', 'deactivated'))
    OR (OLD.status = 'suspended' AND NEW.status IN ('published', 'archived', 'deactivated')))
BEGIN SELECT RAISE(ABORT, 'hallmark:transition: the lifecycle does not allow this status change'); END;

CREATE TRIGGER passports_guard_published_at BEFORE UPDATE ON passports
WHEN OLD.published_at IS NOT NULL AND NEW.published_at IS NOT OLD.published_at
BEGIN SELECT RAISE(ABORT, 'hallmark:immutable: the first publication time never changes'); END;

CREATE TRIGGER passports_guard_current_version BEFORE UPDATE ON passports
WHEN NEW.current_version IS NOT OLD.current_version AND (
       NEW.current_version <> OLD.current_version + 1 OR NEW.status <> 'published'
    OR NOT EXISTS (SELECT 1 FROM passport_versions v
                   WHERE v.passport_id = NEW.id AND v.version = NEW.current_version))
BEGIN SELECT RAISE(ABORT, 'hallmark:conflict: current_version may only advance by one, to a stored version'); END;

CREATE TRIGGER passports_no_delete BEFORE DELETE ON passports
BEGIN SELECT RAISE(ABORT, 'hallmark:immutable: passports are never deleted'); END;

-- INSERT OR REPLACE would delete the existing row (delete triggers fire only with
-- recursive_triggers, which a plain connection may not have): refuse it up front.
CREATE TRIGGER passports_no_replace BEFORE INSERT ON passports
WHEN EXISTS (SELECT 1 FROM passports WHERE id = NEW.id)
BEGIN SELECT RAISE(ABORT, 'hallmark:conflict: the passports row exists (rows are never replaced)'); END;

-- Drafts ---------------------------------------------------------------------------------

CREATE TABLE passport_drafts (
    passport_id TEXT NOT NULL REFERENCES passports (id),
    version     INTEGER NOT NULL CHECK (version >= 1),
    content     BLOB NOT NULL,
    created_at  TEXT NOT NULL,
    updated_at  TEXT NOT NULL,
    PRIMARY KEY (passport_id, version)
) STRICT;

CREATE TRIGGER drafts_guard_insert_terminal BEFORE INSERT ON passport_drafts
WHEN (SELECT status FROM passports WHERE id = NEW.passport_id) IN ('archived', 'deactivated')
BEGIN SELECT RAISE(ABORT, 'hallmark:immutable: the passport is in a terminal state'); END;

CREATE TRIGGER drafts_guard_insert_version BEFORE INSERT ON passport_drafts
WHEN NEW.version IS NOT (SELECT current_version + 1 FROM passports WHERE id = NEW.passport_id)
BEGIN SELECT RAISE(ABORT, 'hallmark:conflict: a draft is for version current + 1'); END;

CREATE TRIGGER drafts_guard_identity BEFORE UPDATE ON passport_drafts
WHEN NEW.passport_id IS NOT OLD.passport_id OR NEW.version IS NOT OLD.version
  OR NEW.created_at IS NOT OLD.created_at
BEGIN SELECT RAISE(ABORT, 'hallmark:immutable: a draft''s passport, version and creation time never change'); END;

CREATE TRIGGER drafts_guard_pending BEFORE UPDATE ON passport_drafts
WHEN OLD.version <= (SELECT current_version FROM passports WHERE id = OLD.passport_id)
  OR (SELECT status FROM passports WHERE id = OLD.passport_id) IN ('archived', 'deactivated')
BEGIN SELECT RAISE(ABORT, 'hallmark:immutable: the draft is no longer pending (published or terminal)'); END;

CREATE TRIGGER drafts_no_delete BEFORE DELETE ON passport_drafts
BEGIN SELECT RAISE(ABORT, 'hallmark:immutable: drafts are never deleted'); END;

-- INSERT OR REPLACE would delete the existing row (delete triggers fire only with
-- recursive_triggers, which a plain connection may not have): refuse it up front.
CREATE TRIGGER passport_drafts_no_replace BEFORE INSERT ON passport_drafts
WHEN EXISTS (SELECT 1 FROM passport_drafts WHERE passport_id = NEW.passport_id AND version = NEW.version)
BEGIN SELECT RAISE(ABORT, 'hallmark:conflict: the passport_drafts row exists (rows are never replaced)'); END;

-- Published versions -----------------------------------------------------------------------

CREATE TABLE passport_versions (
    passport_id             TEXT NOT NULL REFERENCES passports (id),
    version                 INTEGER NOT NULL CHECK (version >= 1),
    content                 BLOB NOT NULL,
    content_sha256          BLOB NOT NULL CHECK (length(content_sha256) = 32),
    key_id                  TEXT NOT NULL CHECK (length(key_id) BETWEEN 1 AND 512),
    signed_at               TEXT NOT NULL,
    public_di               BLOB NOT NULL,
    public_jwt              TEXT NOT NULL,
    legitimate_interest_di  BLOB NOT NULL,
    legitimate_interest_jwt TEXT NOT NULL,
    authority_di            BLOB NOT NULL,
    authority_jwt           TEXT NOT NULL,
    created_at              TEXT NOT NULL,
    PRIMARY KEY (passport_id, version),
    FOREIGN KEY (passport_id, version) REFERENCES passport_drafts (passport_id, version)
) STRICT;

CREATE TRIGGER versions_guard_insert_terminal BEFORE INSERT ON passport_versions
WHEN (SELECT status FROM passports WHERE id = NEW.passport_id) IN ('archived', 'deactivated')
BEGIN SELECT RAISE(ABORT, 'hallmark:immutable: the passport is in a terminal state; no new versions'); END;

CREATE TRIGGER versions_guard_insert_status BEFORE INSERT ON passport_versions
WHEN (SELECT status FROM passports WHERE id = NEW.passport_id) IS NOT 'published'
BEGIN SELECT RAISE(ABORT, 'hallmark:conflict: a version is stored only for a published passport'); END;

CREATE TRIGGER versions_guard_insert_number BEFORE INSERT ON passport_versions
WHEN NEW.version IS NOT (SELECT current_version + 1 FROM passports WHERE id = NEW.passport_id)
BEGIN SELECT RAISE(ABORT, 'hallmark:conflict: the next version number is current + 1'); END;

CREATE TRIGGER versions_no_update BEFORE UPDATE ON passport_versions
BEGIN SELECT RAISE(ABORT, 'hallmark:immutable: published versions never change'); END;

CREATE TRIGGER versions_no_delete BEFORE DELETE ON passport_versions
BEGIN SELECT RAISE(ABORT, 'hallmark:immutable: published versions are never deleted'); END;

-- Audit ------------------------------------------------------------------------------------

CREATE TABLE audit_head (
    id       INTEGER PRIMARY KEY CHECK (id = 1),
    next_seq INTEGER NOT NULL CHECK (next_seq >= 1)
) STRICT;
INSERT INTO audit_head (id, next_seq) VALUES (1, 1);

CREATE TABLE audit_events (
    seq         INTEGER PRIMARY KEY CHECK (seq >= 1),
    at          TEXT NOT NULL,
    actor       TEXT NOT NULL CHECK (length(actor) BETWEEN 1 AND 256),
    action      TEXT NOT NULL CHECK (length(action) BETWEEN 1 AND 128),
    passport_id TEXT REFERENCES passports (id),
    subject     TEXT CHECK (length(subject) <= 512),
    detail      TEXT NOT NULL CHECK (length(detail) <= 65536)
) STRICT;
CREATE INDEX audit_events_passport_idx ON audit_events (passport_id, seq);

CREATE TRIGGER audit_head_no_insert BEFORE INSERT ON audit_head
BEGIN SELECT RAISE(ABORT, 'hallmark:immutable: there is exactly one audit head'); END;

CREATE TRIGGER audit_head_guard BEFORE UPDATE ON audit_head
WHEN NEW.id IS NOT OLD.id OR NEW.next_seq IS NOT OLD.next_seq + 1
BEGIN SELECT RAISE(ABORT, 'hallmark:immutable: the audit head only advances by one'); END;

CREATE TRIGGER audit_head_no_delete BEFORE DELETE ON audit_head
BEGIN SELECT RAISE(ABORT, 'hallmark:immutable: the audit head is never deleted'); END;

CREATE TRIGGER audit_guard_insert BEFORE INSERT ON audit_events
WHEN NEW.seq IS NOT (SELECT next_seq - 1 FROM audit_head WHERE id = 1)
  OR EXISTS (SELECT 1 FROM audit_events WHERE seq = NEW.seq)
BEGIN SELECT RAISE(ABORT, 'hallmark:conflict: audit sequence numbers are claimed from audit_head'); END;

CREATE TRIGGER audit_no_update BEFORE UPDATE ON audit_events
BEGIN SELECT RAISE(ABORT, 'hallmark:immutable: audit events are append-only'); END;

CREATE TRIGGER audit_no_delete BEFORE DELETE ON audit_events
BEGIN SELECT RAISE(ABORT, 'hallmark:immutable: audit events are never deleted'); END;

-- API keys ---------------------------------------------------------------------------------

CREATE TABLE api_keys (
    prefix       TEXT PRIMARY KEY CHECK (length(prefix) BETWEEN 4 AND 64),
    hash         BLOB NOT NULL CHECK (length(hash) BETWEEN 16 AND 128),
    scope        TEXT NOT NULL CHECK (length(scope) BETWEEN 1 AND 256),
    label        TEXT NOT NULL CHECK (length(label) <= 256),
    created_at   TEXT NOT NULL,
    expires_at   TEXT,
    revoked_at   TEXT,
    last_used_at TEXT
) STRICT;

CREATE TRIGGER api_keys_guard_update BEFORE UPDATE ON api_keys
WHEN NEW.prefix IS NOT OLD.prefix OR NEW.hash IS NOT OLD.hash OR NEW.scope IS NOT OLD.scope
  OR NEW.label IS NOT OLD.label OR NEW.created_at IS NOT OLD.created_at
  OR NEW.expires_at IS NOT OLD.expires_at
BEGIN SELECT RAISE(ABORT, 'hallmark:immutable: only last_used_at and revoked_at of an API key change'); END;

CREATE TRIGGER api_keys_guard_revoked BEFORE UPDATE ON api_keys
WHEN OLD.revoked_at IS NOT NULL AND NEW.revoked_at IS NOT OLD.revoked_at
BEGIN SELECT RAISE(ABORT, 'hallmark:immutable: API key revocation is final'); END;

CREATE TRIGGER api_keys_no_delete BEFORE DELETE ON api_keys
BEGIN SELECT RAISE(ABORT, 'hallmark:immutable: API keys are never deleted'); END;

-- INSERT OR REPLACE would delete the existing row (delete triggers fire only with
-- recursive_triggers, which a plain connection may not have): refuse it up front.
CREATE TRIGGER api_keys_no_replace BEFORE INSERT ON api_keys
WHEN EXISTS (SELECT 1 FROM api_keys WHERE prefix = NEW.prefix)
BEGIN SELECT RAISE(ABORT, 'hallmark:conflict: the api_keys row exists (rows are never replaced)'); END;

-- Signing keys -----------------------------------------------------------------------------

CREATE TABLE signing_keys (
    key_id               TEXT PRIMARY KEY CHECK (length(key_id) BETWEEN 1 AND 512),
    purpose              TEXT NOT NULL CHECK (length(purpose) BETWEEN 1 AND 64),
    backend              TEXT NOT NULL CHECK (length(backend) BETWEEN 1 AND 64),
    public_key_multibase TEXT NOT NULL CHECK (length(public_key_multibase) BETWEEN 1 AND 512),
    status               TEXT NOT NULL CHECK (status IN ('current', 'retired', 'revoked')),
    created_at           TEXT NOT NULL,
    retired_at           TEXT,
    revoked_at           TEXT,
    revocation_reason    TEXT CHECK (length(revocation_reason) <= 4096)
) STRICT;
CREATE UNIQUE INDEX signing_keys_one_current ON signing_keys (purpose) WHERE status = 'current';

CREATE TRIGGER signing_keys_guard_revoked BEFORE UPDATE ON signing_keys
WHEN OLD.status = 'revoked'
BEGIN SELECT RAISE(ABORT, 'hallmark:immutable: the signing key is revoked (terminal)'); END;

CREATE TRIGGER signing_keys_guard_identity BEFORE UPDATE ON signing_keys
WHEN NEW.key_id IS NOT OLD.key_id OR NEW.purpose IS NOT OLD.purpose OR NEW.backend IS NOT OLD.backend
  OR NEW.public_key_multibase IS NOT OLD.public_key_multibase OR NEW.created_at IS NOT OLD.created_at
  OR (OLD.retired_at IS NOT NULL AND NEW.retired_at IS NOT OLD.retired_at)
BEGIN SELECT RAISE(ABORT, 'hallmark:immutable: a signing key''s identity and retirement time never change'); END;

CREATE TRIGGER signing_keys_guard_transition BEFORE UPDATE ON signing_keys
WHEN NEW.status IS NOT OLD.status AND NOT (
       (OLD.status = 'current' AND NEW.status IN ('retired', 'revoked'))
    OR (OLD.status = 'retired' AND NEW.status = 'revoked'))
BEGIN SELECT RAISE(ABORT, 'hallmark:transition: signing keys go current -> retired -> revoked'); END;

CREATE TRIGGER signing_keys_no_delete BEFORE DELETE ON signing_keys
BEGIN SELECT RAISE(ABORT, 'hallmark:immutable: signing keys are never deleted'); END;

-- INSERT OR REPLACE would delete the existing row (delete triggers fire only with
-- recursive_triggers, which a plain connection may not have): refuse it up front.
CREATE TRIGGER signing_keys_no_replace BEFORE INSERT ON signing_keys
WHEN EXISTS (SELECT 1 FROM signing_keys WHERE key_id = NEW.key_id)
BEGIN SELECT RAISE(ABORT, 'hallmark:conflict: the signing_keys row exists (rows are never replaced)'); END;

-- Transparency log and outbox ----------------------------------------------------------------

CREATE TABLE log_leaves (
    leaf_index INTEGER PRIMARY KEY CHECK (leaf_index >= 0),
    leaf_hash  BLOB NOT NULL CHECK (length(leaf_hash) = 32),
    audit_seq  INTEGER NOT NULL UNIQUE REFERENCES audit_events (seq),
    created_at TEXT NOT NULL
) STRICT;

CREATE TRIGGER log_leaves_guard_insert BEFORE INSERT ON log_leaves
WHEN NEW.leaf_index IS NOT (SELECT coalesce(max(leaf_index) + 1, 0) FROM log_leaves)
BEGIN SELECT RAISE(ABORT, 'hallmark:conflict: log leaves are appended contiguously'); END;

CREATE TRIGGER log_leaves_no_update BEFORE UPDATE ON log_leaves
BEGIN SELECT RAISE(ABORT, 'hallmark:immutable: log leaves are append-only'); END;

CREATE TRIGGER log_leaves_no_delete BEFORE DELETE ON log_leaves
BEGIN SELECT RAISE(ABORT, 'hallmark:immutable: log leaves are never deleted'); END;

CREATE TABLE checkpoints (
    tree_size  INTEGER PRIMARY KEY CHECK (tree_size >= 0),
    root_hash  BLOB NOT NULL CHECK (length(root_hash) = 32),
    note       TEXT NOT NULL,
    created_at TEXT NOT NULL
) STRICT;

CREATE TRIGGER checkpoints_guard_insert BEFORE INSERT ON checkpoints
WHEN NEW.tree_size <= (SELECT coalesce(max(tree_size), -1) FROM checkpoints)
BEGIN SELECT RAISE(ABORT, 'hallmark:conflict: checkpoints only grow'); END;

CREATE TRIGGER checkpoints_no_update BEFORE UPDATE ON checkpoints
BEGIN SELECT RAISE(ABORT, 'hallmark:immutable: checkpoints are append-only'); END;

CREATE TRIGGER checkpoints_no_delete BEFORE DELETE ON checkpoints
BEGIN SELECT RAISE(ABORT, 'hallmark:immutable: checkpoints are never deleted'); END;

CREATE TABLE outbox (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    topic        TEXT NOT NULL CHECK (length(topic) BETWEEN 1 AND 128),
    payload      BLOB NOT NULL,
    created_at   TEXT NOT NULL,
    published_at TEXT
) STRICT;

CREATE TRIGGER outbox_guard_update BEFORE UPDATE ON outbox
WHEN NEW.id IS NOT OLD.id OR NEW.topic IS NOT OLD.topic OR NEW.payload IS NOT OLD.payload
  OR NEW.created_at IS NOT OLD.created_at OR OLD.published_at IS NOT NULL
BEGIN SELECT RAISE(ABORT, 'hallmark:immutable: an outbox message is only marked published, once'); END;

CREATE TRIGGER outbox_no_delete BEFORE DELETE ON outbox
BEGIN SELECT RAISE(ABORT, 'hallmark:immutable: outbox messages are never deleted'); END;

-- INSERT OR REPLACE would delete the existing row (delete triggers fire only with
-- recursive_triggers, which a plain connection may not have): refuse it up front.
CREATE TRIGGER outbox_no_replace BEFORE INSERT ON outbox
WHEN EXISTS (SELECT 1 FROM outbox WHERE id = NEW.id)
BEGIN SELECT RAISE(ABORT, 'hallmark:conflict: the outbox row exists (rows are never replaced)'); END;
