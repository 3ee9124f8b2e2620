-- Hallmark store, PostgreSQL, migration 0011: readers admitted by the operator's approval,
-- and the nonces of their signed requests (issue 20; docs/database.md, "Readers").
--
-- - readers: one row per registered reader — its Ed25519 public key (unique), optional
--   X25519 key, key fingerprint, organisation, contact and claimed purpose, never changed;
--   its status and grant (tier, scope, expiry) and the reason of the last suspension or
--   revocation, changed only along the allowed transitions: registered → approved,
--   approved → approved (a new grant), approved ↔ suspended, any → revoked (terminal).
--   A row is inserted registered, with no grant; nothing is ever deleted. Every write is an
--   audit event (reader.*) in the same transaction.
-- - request_nonces: each (reader, nonce) a signed request used, insert-only: the store
--   inserts with ON CONFLICT DO NOTHING, and a nonce already there is a replay.

CREATE TABLE readers (
    id            TEXT PRIMARY KEY CHECK (length(id) = 36),
    ed25519       BYTEA NOT NULL UNIQUE CHECK (length(ed25519) = 32),
    x25519        BYTEA CHECK (length(x25519) = 32),
    fingerprint   TEXT NOT NULL CHECK (length(fingerprint) = 19),
    organisation  TEXT NOT NULL CHECK (length(organisation) BETWEEN 1 AND 200),
    contact       TEXT NOT NULL CHECK (length(contact) BETWEEN 1 AND 200),
    purpose       TEXT NOT NULL CHECK (purpose IN ('repair', 'remanufacture', 'recycling',
                      'second-life', 'market-surveillance', 'notified-body', 'commission',
                      'other')),
    status        TEXT NOT NULL CHECK (status IN ('registered', 'approved', 'suspended', 'revoked')),
    tier          TEXT CHECK (tier IN ('legitimateInterest', 'authority')),
    scope         TEXT CHECK (length(scope) BETWEEN 2 AND 200000),
    expires_at    TIMESTAMPTZ,
    status_reason TEXT CHECK (length(status_reason) BETWEEN 1 AND 1000),
    registered_at TIMESTAMPTZ NOT NULL,
    changed_at    TIMESTAMPTZ NOT NULL,
    CONSTRAINT readers_grant CHECK (
        (tier IS NULL) = (scope IS NULL) AND (tier IS NULL) = (expires_at IS NULL)),
    CONSTRAINT readers_granted CHECK (status NOT IN ('approved', 'suspended') OR tier IS NOT NULL)
);

CREATE INDEX readers_status ON readers (status, id);

CREATE FUNCTION readers_guard_insert() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.status <> 'registered' OR NEW.tier IS NOT NULL OR NEW.status_reason IS NOT NULL THEN
        RAISE EXCEPTION 'hallmark:conflict: a reader registers inert (registered, no grant); approval is a later, audited change'
            USING ERRCODE = 'HM003';
    END IF;
    RETURN NEW;
END $$;
CREATE TRIGGER readers_guard_insert BEFORE INSERT ON readers
    FOR EACH ROW EXECUTE FUNCTION readers_guard_insert();

CREATE FUNCTION readers_guard_update() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.id IS DISTINCT FROM OLD.id OR NEW.ed25519 IS DISTINCT FROM OLD.ed25519
       OR NEW.x25519 IS DISTINCT FROM OLD.x25519 OR NEW.fingerprint IS DISTINCT FROM OLD.fingerprint
       OR NEW.organisation IS DISTINCT FROM OLD.organisation
       OR NEW.contact IS DISTINCT FROM OLD.contact OR NEW.purpose IS DISTINCT FROM OLD.purpose
       OR NEW.registered_at IS DISTINCT FROM OLD.registered_at THEN
        RAISE EXCEPTION 'hallmark:immutable: a reader''s key, organisation, contact and purpose never change'
            USING ERRCODE = 'HM001';
    END IF;
    IF OLD.status = 'revoked' THEN
        RAISE EXCEPTION 'hallmark:immutable: reader % is revoked; revocation is final', OLD.id
            USING ERRCODE = 'HM001';
    END IF;
    IF NOT ((OLD.status IN ('registered', 'approved') AND NEW.status = 'approved')
            OR (OLD.status = 'approved' AND NEW.status = 'suspended')
            OR (OLD.status = 'suspended' AND NEW.status = 'approved')
            OR NEW.status = 'revoked') THEN
        RAISE EXCEPTION 'hallmark:conflict: a % reader cannot become %', OLD.status, NEW.status
            USING ERRCODE = 'HM003';
    END IF;
    -- Only an approval grants: suspension, resumption and revocation keep the grant.
    IF NOT (OLD.status IN ('registered', 'approved') AND NEW.status = 'approved')
       AND (NEW.tier IS DISTINCT FROM OLD.tier OR NEW.scope IS DISTINCT FROM OLD.scope
            OR NEW.expires_at IS DISTINCT FROM OLD.expires_at) THEN
        RAISE EXCEPTION 'hallmark:conflict: only an approval changes a reader''s grant'
            USING ERRCODE = 'HM003';
    END IF;
    RETURN NEW;
END $$;
CREATE TRIGGER readers_guard_update BEFORE UPDATE ON readers
    FOR EACH ROW EXECUTE FUNCTION readers_guard_update();
CREATE TRIGGER readers_no_delete BEFORE DELETE ON readers
    FOR EACH ROW EXECUTE FUNCTION refuse_delete();
CREATE TRIGGER readers_no_truncate BEFORE TRUNCATE ON readers
    FOR EACH STATEMENT EXECUTE FUNCTION refuse_truncate();

REVOKE ALL ON readers FROM PUBLIC;
GRANT SELECT, INSERT ON readers TO __APP_ROLE__;
GRANT UPDATE (status, tier, scope, expires_at, status_reason, changed_at) ON readers TO __APP_ROLE__;

CREATE TABLE request_nonces (
    reader_id  TEXT NOT NULL REFERENCES readers (id),
    nonce      TEXT NOT NULL CHECK (length(nonce) BETWEEN 1 AND 256),
    expires_at TIMESTAMPTZ NOT NULL,
    created_at TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (reader_id, nonce)
);

CREATE TRIGGER request_nonces_no_update BEFORE UPDATE ON request_nonces
    FOR EACH ROW EXECUTE FUNCTION refuse_update();
CREATE TRIGGER request_nonces_no_delete BEFORE DELETE ON request_nonces
    FOR EACH ROW EXECUTE FUNCTION refuse_delete();
CREATE TRIGGER request_nonces_no_truncate BEFORE TRUNCATE ON request_nonces
    FOR EACH STATEMENT EXECUTE FUNCTION refuse_truncate();

REVOKE ALL ON request_nonces FROM PUBLIC;
GRANT SELECT, INSERT ON request_nonces TO __APP_ROLE__;
