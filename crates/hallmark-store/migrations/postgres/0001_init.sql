-- Hallmark store, PostgreSQL, migration 0001.
--
-- Runs as the MIGRATION role (owner of schema `hallmark` and of every object in it), inside
-- one transaction, with `search_path = hallmark`. `__APP_ROLE__` is replaced by the quoted
-- name of the application role before execution.
--
-- Permanence does not rest on anything the application role can change: the app role owns
-- nothing (so it cannot ALTER, DROP or DISABLE the triggers below), holds no DELETE or
-- TRUNCATE, and may UPDATE only the columns granted at the end of this file; every one of
-- those columns is guarded again by a trigger. Trigger messages start with `hallmark:` and
-- a category (`immutable`, `transition`, `conflict`) that the Rust layer maps to typed errors.

-- ---------------------------------------------------------------------------------------
-- Generic guards
-- ---------------------------------------------------------------------------------------

CREATE FUNCTION refuse_delete() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'hallmark:immutable: rows of % are never deleted', TG_TABLE_NAME
        USING ERRCODE = 'HM001';
END $$;

CREATE FUNCTION refuse_truncate() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'hallmark:immutable: % is never truncated', TG_TABLE_NAME
        USING ERRCODE = 'HM001';
END $$;

CREATE FUNCTION refuse_update() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'hallmark:immutable: rows of % are append-only', TG_TABLE_NAME
        USING ERRCODE = 'HM001';
END $$;

-- ---------------------------------------------------------------------------------------
-- Passports
-- ---------------------------------------------------------------------------------------

CREATE TABLE passports (
    id                   TEXT PRIMARY KEY
        CHECK (id ~ '^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$'),
    gtin                 TEXT NOT NULL CHECK (gtin ~ '^[0-9]{14}$'),
    sector_id            TEXT NOT NULL CHECK (length(sector_id) BETWEEN 1 AND 256),
    economic_operator_id TEXT NOT NULL CHECK (length(economic_operator_id) BETWEEN 1 AND 256),
    status               TEXT NOT NULL
        CHECK (status IN ('draft', 'published', 'suspended', 'archived', 'deactivated')),
    status_reason        TEXT CHECK (length(status_reason) <= 4096),
    current_version      INTEGER NOT NULL CHECK (current_version >= 0),
    created_at           TIMESTAMPTZ NOT NULL,
    updated_at           TIMESTAMPTZ NOT NULL,
    published_at         TIMESTAMPTZ,
    CHECK ((status = 'draft') = (published_at IS NULL))
);
CREATE INDEX passports_status_idx ON passports (status, id);
CREATE INDEX passports_sector_idx ON passports (sector_id, id);
CREATE INDEX passports_gtin_idx ON passports (gtin, id);

CREATE FUNCTION passports_guard_insert() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.status <> 'draft' OR NEW.current_version <> 0 OR NEW.published_at IS NOT NULL THEN
        RAISE EXCEPTION 'hallmark:conflict: a passport is created as an unpublished draft'
            USING ERRCODE = 'HM003';
    END IF;
    RETURN NEW;
END $$;
CREATE TRIGGER passports_guard_insert BEFORE INSERT ON passports
    FOR EACH ROW EXECUTE FUNCTION passports_guard_insert();

CREATE FUNCTION passports_guard_update() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF OLD.status IN ('archived', 'deactivated') THEN
        RAISE EXCEPTION 'hallmark:immutable: passport % is % (terminal) and can no longer change',
            OLD.id, OLD.status USING ERRCODE = 'HM001';
    END IF;
    IF NEW.id IS DISTINCT FROM OLD.id OR NEW.gtin IS DISTINCT FROM OLD.gtin
       OR NEW.sector_id IS DISTINCT FROM OLD.sector_id
       OR NEW.economic_operator_id IS DISTINCT FROM OLD.economic_operator_id
       OR NEW.created_at IS DISTINCT FROM OLD.created_at THEN
        RAISE EXCEPTION 'hallmark:immutable: the identity columns of a passport never change'
            USING ERRCODE = 'HM001';
    END IF;
    IF NEW.status IS DISTINCT FROM OLD.status AND NOT (
           (OLD.status = 'draft' AND NEW.status = 'published')
        OR (OLD.status = 'published' AND NEW.status IN ('suspended', 'archived', 'deactivated'))
        OR (OLD.status = 'suspended' AND NEW.status IN ('published', 'archived', 'deactivated'))
    ) THEN
        RAISE EXCEPTION 'hallmark:transition:%:%', OLD.status, NEW.status USING ERRCODE = 'HM002';
    END IF;
    IF OLD.published_at IS NOT NULL AND NEW.published_at IS DISTINCT FROM OLD.published_at THEN
        RAISE EXCEPTION 'hallmark:immutable: the first publication time never changes'
            USING ERRCODE = 'HM001';
    END IF;
    IF NEW.current_version IS DISTINCT FROM OLD.current_version THEN
        IF NEW.current_version <> OLD.current_version + 1 OR NEW.status <> 'published'
           OR NOT EXISTS (SELECT 1 FROM passport_versions v
                          WHERE v.passport_id = NEW.id AND v.version = NEW.current_version) THEN
            RAISE EXCEPTION 'hallmark:conflict: current_version may only advance by one, to a stored version'
                USING ERRCODE = 'HM003';
        END IF;
    END IF;
    RETURN NEW;
END $$;
CREATE TRIGGER passports_guard_update BEFORE UPDATE ON passports
    FOR EACH ROW EXECUTE FUNCTION passports_guard_update();

-- Commit-time consistency (deferred): a passport is a draft exactly while it has no published
-- version, and its current_version is its newest stored version.
CREATE FUNCTION passport_consistency() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    pid TEXT := coalesce(to_jsonb(NEW) ->> 'passport_id', to_jsonb(NEW) ->> 'id');
    p passports;
    newest INTEGER;
BEGIN
    SELECT * INTO p FROM passports WHERE id = pid;
    SELECT coalesce(max(version), 0) INTO newest FROM passport_versions WHERE passport_id = pid;
    IF (p.status = 'draft') <> (p.current_version = 0) OR p.current_version <> newest THEN
        RAISE EXCEPTION 'hallmark:conflict: passport % is inconsistent at commit (status %, current_version %, newest stored version %)',
            pid, p.status, p.current_version, newest USING ERRCODE = 'HM003';
    END IF;
    RETURN NULL;
END $$;
CREATE CONSTRAINT TRIGGER passports_consistency AFTER INSERT OR UPDATE ON passports
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION passport_consistency();

CREATE TRIGGER passports_no_delete BEFORE DELETE ON passports
    FOR EACH ROW EXECUTE FUNCTION refuse_delete();
CREATE TRIGGER passports_no_truncate BEFORE TRUNCATE ON passports
    FOR EACH STATEMENT EXECUTE FUNCTION refuse_truncate();

-- ---------------------------------------------------------------------------------------
-- Drafts: pending content for version current_version + 1. Mutable only while pending.
-- ---------------------------------------------------------------------------------------

CREATE TABLE passport_drafts (
    passport_id TEXT NOT NULL REFERENCES passports (id),
    version     INTEGER NOT NULL CHECK (version >= 1),
    content     BYTEA NOT NULL,
    created_at  TIMESTAMPTZ NOT NULL,
    updated_at  TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (passport_id, version)
);

CREATE FUNCTION drafts_guard_insert() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    p passports;
BEGIN
    SELECT * INTO p FROM passports WHERE id = NEW.passport_id;
    IF p.status IN ('archived', 'deactivated') THEN
        RAISE EXCEPTION 'hallmark:immutable: passport % is % (terminal)', p.id, p.status
            USING ERRCODE = 'HM001';
    END IF;
    IF NEW.version <> p.current_version + 1 THEN
        RAISE EXCEPTION 'hallmark:conflict: a draft is for version % (current + 1), not %',
            p.current_version + 1, NEW.version USING ERRCODE = 'HM003';
    END IF;
    RETURN NEW;
END $$;
CREATE TRIGGER drafts_guard_insert BEFORE INSERT ON passport_drafts
    FOR EACH ROW EXECUTE FUNCTION drafts_guard_insert();

CREATE FUNCTION drafts_guard_update() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    p passports;
BEGIN
    IF NEW.passport_id IS DISTINCT FROM OLD.passport_id OR NEW.version IS DISTINCT FROM OLD.version
       OR NEW.created_at IS DISTINCT FROM OLD.created_at THEN
        RAISE EXCEPTION 'hallmark:immutable: a draft''s passport, version and creation time never change'
            USING ERRCODE = 'HM001';
    END IF;
    SELECT * INTO p FROM passports WHERE id = OLD.passport_id;
    IF OLD.version <= p.current_version OR p.status IN ('archived', 'deactivated') THEN
        RAISE EXCEPTION 'hallmark:immutable: draft % of passport % is no longer pending (status %, current version %)',
            OLD.version, OLD.passport_id, p.status, p.current_version USING ERRCODE = 'HM001';
    END IF;
    RETURN NEW;
END $$;
CREATE TRIGGER drafts_guard_update BEFORE UPDATE ON passport_drafts
    FOR EACH ROW EXECUTE FUNCTION drafts_guard_update();
CREATE TRIGGER drafts_no_delete BEFORE DELETE ON passport_drafts
    FOR EACH ROW EXECUTE FUNCTION refuse_delete();
CREATE TRIGGER drafts_no_truncate BEFORE TRUNCATE ON passport_drafts
    FOR EACH STATEMENT EXECUTE FUNCTION refuse_truncate();

-- ---------------------------------------------------------------------------------------
-- Published versions: the signed credentials exactly as issued. Insert-only.
-- ---------------------------------------------------------------------------------------

CREATE TABLE passport_versions (
    passport_id             TEXT NOT NULL REFERENCES passports (id),
    version                 INTEGER NOT NULL CHECK (version >= 1),
    content                 BYTEA NOT NULL,
    content_sha256          BYTEA NOT NULL CHECK (content_sha256 = sha256(content)),
    key_id                  TEXT NOT NULL CHECK (length(key_id) BETWEEN 1 AND 512),
    signed_at               TIMESTAMPTZ NOT NULL,
    public_di               BYTEA NOT NULL,
    public_jwt              TEXT NOT NULL,
    legitimate_interest_di  BYTEA NOT NULL,
    legitimate_interest_jwt TEXT NOT NULL,
    authority_di            BYTEA NOT NULL,
    authority_jwt           TEXT NOT NULL,
    created_at              TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (passport_id, version),
    FOREIGN KEY (passport_id, version) REFERENCES passport_drafts (passport_id, version)
);

CREATE FUNCTION versions_guard_insert() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    p passports;
BEGIN
    SELECT * INTO p FROM passports WHERE id = NEW.passport_id;
    IF p.status IN ('archived', 'deactivated') THEN
        RAISE EXCEPTION 'hallmark:immutable: passport % is % (terminal); no new versions',
            p.id, p.status USING ERRCODE = 'HM001';
    END IF;
    IF p.status <> 'published' THEN
        RAISE EXCEPTION 'hallmark:conflict: a version is stored only for a published passport (passport % is %)',
            p.id, p.status USING ERRCODE = 'HM003';
    END IF;
    IF NEW.version <> p.current_version + 1 THEN
        RAISE EXCEPTION 'hallmark:conflict: the next version of passport % is %, not %',
            p.id, p.current_version + 1, NEW.version USING ERRCODE = 'HM003';
    END IF;
    RETURN NEW;
END $$;
CREATE TRIGGER versions_guard_insert BEFORE INSERT ON passport_versions
    FOR EACH ROW EXECUTE FUNCTION versions_guard_insert();
CREATE CONSTRAINT TRIGGER versions_consistency AFTER INSERT ON passport_versions
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION passport_consistency();
CREATE TRIGGER versions_no_update BEFORE UPDATE ON passport_versions
    FOR EACH ROW EXECUTE FUNCTION refuse_update();
CREATE TRIGGER versions_no_delete BEFORE DELETE ON passport_versions
    FOR EACH ROW EXECUTE FUNCTION refuse_delete();
CREATE TRIGGER versions_no_truncate BEFORE TRUNCATE ON passport_versions
    FOR EACH STATEMENT EXECUTE FUNCTION refuse_truncate();

-- ---------------------------------------------------------------------------------------
-- Audit: append-only, gapless, commit-ordered sequence claimed from a single head row.
-- ---------------------------------------------------------------------------------------

CREATE TABLE audit_head (
    id       INTEGER PRIMARY KEY CHECK (id = 1),
    next_seq BIGINT NOT NULL CHECK (next_seq >= 1)
);
INSERT INTO audit_head (id, next_seq) VALUES (1, 1);

CREATE TABLE audit_events (
    seq         BIGINT PRIMARY KEY CHECK (seq >= 1),
    at          TIMESTAMPTZ NOT NULL,
    actor       TEXT NOT NULL CHECK (length(actor) BETWEEN 1 AND 256),
    action      TEXT NOT NULL CHECK (length(action) BETWEEN 1 AND 128),
    passport_id TEXT REFERENCES passports (id),
    subject     TEXT CHECK (length(subject) <= 512),
    detail      TEXT NOT NULL CHECK (length(detail) <= 65536)
);
CREATE INDEX audit_events_passport_idx ON audit_events (passport_id, seq);

CREATE FUNCTION audit_head_guard() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.id IS DISTINCT FROM OLD.id OR NEW.next_seq <> OLD.next_seq + 1 THEN
        RAISE EXCEPTION 'hallmark:immutable: the audit head only advances by one'
            USING ERRCODE = 'HM001';
    END IF;
    RETURN NEW;
END $$;
CREATE TRIGGER audit_head_guard BEFORE UPDATE ON audit_head
    FOR EACH ROW EXECUTE FUNCTION audit_head_guard();
CREATE TRIGGER audit_head_no_insert BEFORE INSERT ON audit_head
    FOR EACH ROW EXECUTE FUNCTION refuse_update();
CREATE TRIGGER audit_head_no_delete BEFORE DELETE ON audit_head
    FOR EACH ROW EXECUTE FUNCTION refuse_delete();
CREATE TRIGGER audit_head_no_truncate BEFORE TRUNCATE ON audit_head
    FOR EACH STATEMENT EXECUTE FUNCTION refuse_truncate();

-- At commit, the sequence number claimed from the head must have been used: no gaps.
CREATE FUNCTION audit_head_used() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM audit_events WHERE seq = NEW.next_seq - 1) THEN
        RAISE EXCEPTION 'hallmark:conflict: audit sequence % was claimed but not used', NEW.next_seq - 1
            USING ERRCODE = 'HM003';
    END IF;
    RETURN NULL;
END $$;
CREATE CONSTRAINT TRIGGER audit_head_used AFTER UPDATE ON audit_head
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION audit_head_used();

CREATE FUNCTION audit_guard_insert() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.seq <> (SELECT next_seq - 1 FROM audit_head WHERE id = 1) THEN
        RAISE EXCEPTION 'hallmark:conflict: audit sequence numbers are claimed from audit_head (got %)', NEW.seq
            USING ERRCODE = 'HM003';
    END IF;
    RETURN NEW;
END $$;
CREATE TRIGGER audit_guard_insert BEFORE INSERT ON audit_events
    FOR EACH ROW EXECUTE FUNCTION audit_guard_insert();
CREATE TRIGGER audit_no_update BEFORE UPDATE ON audit_events
    FOR EACH ROW EXECUTE FUNCTION refuse_update();
CREATE TRIGGER audit_no_delete BEFORE DELETE ON audit_events
    FOR EACH ROW EXECUTE FUNCTION refuse_delete();
CREATE TRIGGER audit_no_truncate BEFORE TRUNCATE ON audit_events
    FOR EACH STATEMENT EXECUTE FUNCTION refuse_truncate();

-- ---------------------------------------------------------------------------------------
-- API keys: only last_used_at and revoked_at change; revocation is final.
-- ---------------------------------------------------------------------------------------

CREATE TABLE api_keys (
    prefix       TEXT PRIMARY KEY CHECK (length(prefix) BETWEEN 4 AND 64),
    hash         BYTEA NOT NULL CHECK (length(hash) BETWEEN 16 AND 128),
    scope        TEXT NOT NULL CHECK (length(scope) BETWEEN 1 AND 256),
    label        TEXT NOT NULL CHECK (length(label) <= 256),
    created_at   TIMESTAMPTZ NOT NULL,
    expires_at   TIMESTAMPTZ,
    revoked_at   TIMESTAMPTZ,
    last_used_at TIMESTAMPTZ
);

CREATE FUNCTION api_keys_guard_update() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.prefix IS DISTINCT FROM OLD.prefix OR NEW.hash IS DISTINCT FROM OLD.hash
       OR NEW.scope IS DISTINCT FROM OLD.scope OR NEW.label IS DISTINCT FROM OLD.label
       OR NEW.created_at IS DISTINCT FROM OLD.created_at
       OR NEW.expires_at IS DISTINCT FROM OLD.expires_at THEN
        RAISE EXCEPTION 'hallmark:immutable: only last_used_at and revoked_at of an API key change'
            USING ERRCODE = 'HM001';
    END IF;
    IF OLD.revoked_at IS NOT NULL AND NEW.revoked_at IS DISTINCT FROM OLD.revoked_at THEN
        RAISE EXCEPTION 'hallmark:immutable: API key % is revoked; revocation is final', OLD.prefix
            USING ERRCODE = 'HM001';
    END IF;
    RETURN NEW;
END $$;
CREATE TRIGGER api_keys_guard_update BEFORE UPDATE ON api_keys
    FOR EACH ROW EXECUTE FUNCTION api_keys_guard_update();
CREATE TRIGGER api_keys_no_delete BEFORE DELETE ON api_keys
    FOR EACH ROW EXECUTE FUNCTION refuse_delete();
CREATE TRIGGER api_keys_no_truncate BEFORE TRUNCATE ON api_keys
    FOR EACH STATEMENT EXECUTE FUNCTION refuse_truncate();

-- ---------------------------------------------------------------------------------------
-- Signing-key metadata (public keys only): current -> retired -> revoked, revoked is final.
-- ---------------------------------------------------------------------------------------

CREATE TABLE signing_keys (
    key_id               TEXT PRIMARY KEY CHECK (length(key_id) BETWEEN 1 AND 512),
    purpose              TEXT NOT NULL CHECK (length(purpose) BETWEEN 1 AND 64),
    backend              TEXT NOT NULL CHECK (length(backend) BETWEEN 1 AND 64),
    public_key_multibase TEXT NOT NULL CHECK (length(public_key_multibase) BETWEEN 1 AND 512),
    status               TEXT NOT NULL CHECK (status IN ('current', 'retired', 'revoked')),
    created_at           TIMESTAMPTZ NOT NULL,
    retired_at           TIMESTAMPTZ,
    revoked_at           TIMESTAMPTZ,
    revocation_reason    TEXT CHECK (length(revocation_reason) <= 4096)
);
CREATE UNIQUE INDEX signing_keys_one_current ON signing_keys (purpose) WHERE status = 'current';

CREATE FUNCTION signing_keys_guard_update() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF OLD.status = 'revoked' THEN
        RAISE EXCEPTION 'hallmark:immutable: signing key % is revoked (terminal)', OLD.key_id
            USING ERRCODE = 'HM001';
    END IF;
    IF NEW.key_id IS DISTINCT FROM OLD.key_id OR NEW.purpose IS DISTINCT FROM OLD.purpose
       OR NEW.backend IS DISTINCT FROM OLD.backend
       OR NEW.public_key_multibase IS DISTINCT FROM OLD.public_key_multibase
       OR NEW.created_at IS DISTINCT FROM OLD.created_at
       OR (OLD.retired_at IS NOT NULL AND NEW.retired_at IS DISTINCT FROM OLD.retired_at) THEN
        RAISE EXCEPTION 'hallmark:immutable: a signing key''s identity and retirement time never change'
            USING ERRCODE = 'HM001';
    END IF;
    IF NEW.status IS DISTINCT FROM OLD.status AND NOT (
           (OLD.status = 'current' AND NEW.status IN ('retired', 'revoked'))
        OR (OLD.status = 'retired' AND NEW.status = 'revoked')
    ) THEN
        RAISE EXCEPTION 'hallmark:transition:%:%', OLD.status, NEW.status USING ERRCODE = 'HM002';
    END IF;
    RETURN NEW;
END $$;
CREATE TRIGGER signing_keys_guard_update BEFORE UPDATE ON signing_keys
    FOR EACH ROW EXECUTE FUNCTION signing_keys_guard_update();
CREATE TRIGGER signing_keys_no_delete BEFORE DELETE ON signing_keys
    FOR EACH ROW EXECUTE FUNCTION refuse_delete();
CREATE TRIGGER signing_keys_no_truncate BEFORE TRUNCATE ON signing_keys
    FOR EACH STATEMENT EXECUTE FUNCTION refuse_truncate();

-- ---------------------------------------------------------------------------------------
-- Transparency log and outbox (filled by later issues). Append-only.
-- ---------------------------------------------------------------------------------------

CREATE TABLE log_leaves (
    leaf_index BIGINT PRIMARY KEY CHECK (leaf_index >= 0),
    leaf_hash  BYTEA NOT NULL CHECK (length(leaf_hash) = 32),
    audit_seq  BIGINT NOT NULL UNIQUE REFERENCES audit_events (seq),
    created_at TIMESTAMPTZ NOT NULL
);

CREATE FUNCTION log_leaves_guard_insert() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.leaf_index <> (SELECT coalesce(max(leaf_index) + 1, 0) FROM log_leaves) THEN
        RAISE EXCEPTION 'hallmark:conflict: log leaves are appended contiguously'
            USING ERRCODE = 'HM003';
    END IF;
    RETURN NEW;
END $$;
CREATE TRIGGER log_leaves_guard_insert BEFORE INSERT ON log_leaves
    FOR EACH ROW EXECUTE FUNCTION log_leaves_guard_insert();
CREATE TRIGGER log_leaves_no_update BEFORE UPDATE ON log_leaves
    FOR EACH ROW EXECUTE FUNCTION refuse_update();
CREATE TRIGGER log_leaves_no_delete BEFORE DELETE ON log_leaves
    FOR EACH ROW EXECUTE FUNCTION refuse_delete();
CREATE TRIGGER log_leaves_no_truncate BEFORE TRUNCATE ON log_leaves
    FOR EACH STATEMENT EXECUTE FUNCTION refuse_truncate();

CREATE TABLE checkpoints (
    tree_size  BIGINT PRIMARY KEY CHECK (tree_size >= 0),
    root_hash  BYTEA NOT NULL CHECK (length(root_hash) = 32),
    note       TEXT NOT NULL,
    created_at TIMESTAMPTZ NOT NULL
);

CREATE FUNCTION checkpoints_guard_insert() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.tree_size <= (SELECT coalesce(max(tree_size), -1) FROM checkpoints) THEN
        RAISE EXCEPTION 'hallmark:conflict: checkpoints only grow' USING ERRCODE = 'HM003';
    END IF;
    RETURN NEW;
END $$;
CREATE TRIGGER checkpoints_guard_insert BEFORE INSERT ON checkpoints
    FOR EACH ROW EXECUTE FUNCTION checkpoints_guard_insert();
CREATE TRIGGER checkpoints_no_update BEFORE UPDATE ON checkpoints
    FOR EACH ROW EXECUTE FUNCTION refuse_update();
CREATE TRIGGER checkpoints_no_delete BEFORE DELETE ON checkpoints
    FOR EACH ROW EXECUTE FUNCTION refuse_delete();
CREATE TRIGGER checkpoints_no_truncate BEFORE TRUNCATE ON checkpoints
    FOR EACH STATEMENT EXECUTE FUNCTION refuse_truncate();

CREATE TABLE outbox (
    id           BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    topic        TEXT NOT NULL CHECK (length(topic) BETWEEN 1 AND 128),
    payload      BYTEA NOT NULL,
    created_at   TIMESTAMPTZ NOT NULL,
    published_at TIMESTAMPTZ
);

CREATE FUNCTION outbox_guard_update() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.id IS DISTINCT FROM OLD.id OR NEW.topic IS DISTINCT FROM OLD.topic
       OR NEW.payload IS DISTINCT FROM OLD.payload OR NEW.created_at IS DISTINCT FROM OLD.created_at
       OR OLD.published_at IS NOT NULL THEN
        RAISE EXCEPTION 'hallmark:immutable: an outbox message is only marked published, once'
            USING ERRCODE = 'HM001';
    END IF;
    RETURN NEW;
END $$;
CREATE TRIGGER outbox_guard_update BEFORE UPDATE ON outbox
    FOR EACH ROW EXECUTE FUNCTION outbox_guard_update();
CREATE TRIGGER outbox_no_delete BEFORE DELETE ON outbox
    FOR EACH ROW EXECUTE FUNCTION refuse_delete();
CREATE TRIGGER outbox_no_truncate BEFORE TRUNCATE ON outbox
    FOR EACH STATEMENT EXECUTE FUNCTION refuse_truncate();

-- ---------------------------------------------------------------------------------------
-- Privileges of the application role: SELECT + INSERT, UPDATE on named columns only.
-- No DELETE, no TRUNCATE, no TRIGGER, no REFERENCES, no ownership.
-- ---------------------------------------------------------------------------------------

REVOKE ALL ON ALL TABLES IN SCHEMA hallmark FROM PUBLIC;
REVOKE ALL ON ALL FUNCTIONS IN SCHEMA hallmark FROM PUBLIC;
GRANT USAGE ON SCHEMA hallmark TO __APP_ROLE__;
GRANT SELECT ON schema_migrations, audit_head TO __APP_ROLE__;
GRANT SELECT, INSERT ON passports, passport_drafts, passport_versions, audit_events,
    api_keys, signing_keys, log_leaves, checkpoints, outbox TO __APP_ROLE__;
GRANT UPDATE (status, status_reason, current_version, updated_at, published_at)
    ON passports TO __APP_ROLE__;
GRANT UPDATE (content, updated_at) ON passport_drafts TO __APP_ROLE__;
GRANT UPDATE (next_seq) ON audit_head TO __APP_ROLE__;
GRANT UPDATE (last_used_at, revoked_at) ON api_keys TO __APP_ROLE__;
GRANT UPDATE (status, retired_at, revoked_at, revocation_reason) ON signing_keys TO __APP_ROLE__;
GRANT UPDATE (published_at) ON outbox TO __APP_ROLE__;
