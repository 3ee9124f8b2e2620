-- Hallmark store, SQLite, migration 0009: readers admitted by the operator's approval, and
-- the nonces of their signed requests (issue 20). The same tables and rules as PostgreSQL
-- migration 0011 (docs/database.md, "Readers"): a reader's identity columns never change,
-- its status and grant change only along registered → approved, approved → approved,
-- approved ↔ suspended, any → revoked (terminal); nonces are insert-only; nothing is
-- deleted or replaced.

CREATE TABLE readers (
    id            TEXT PRIMARY KEY CHECK (length(id) = 36),
    ed25519       BLOB NOT NULL UNIQUE CHECK (length(ed25519) = 32),
    x25519        BLOB CHECK (length(x25519) = 32),
    fingerprint   TEXT NOT NULL CHECK (length(fingerprint) = 19),
    organisation  TEXT NOT NULL CHECK (length(organisation) BETWEEN 1 AND 200),
    contact       TEXT NOT NULL CHECK (length(contact) BETWEEN 1 AND 200),
    purpose       TEXT NOT NULL CHECK (purpose IN ('repair', 'remanufacture', 'recycling',
                      'second-life', 'market-surveillance', 'notified-body', 'commission',
                      'other')),
    status        TEXT NOT NULL CHECK (status IN ('registered', 'approved', 'suspended', 'revoked')),
    tier          TEXT CHECK (tier IN ('legitimateInterest', 'authority')),
    scope         TEXT CHECK (length(scope) BETWEEN 2 AND 200000),
    expires_at    TEXT,
    status_reason TEXT CHECK (length(status_reason) BETWEEN 1 AND 1000),
    registered_at TEXT NOT NULL,
    changed_at    TEXT NOT NULL,
    CHECK ((tier IS NULL) = (scope IS NULL) AND (tier IS NULL) = (expires_at IS NULL)),
    CHECK (status NOT IN ('approved', 'suspended') OR tier IS NOT NULL)
) STRICT;

CREATE INDEX readers_status ON readers (status, id);

CREATE TRIGGER readers_guard_insert BEFORE INSERT ON readers
WHEN NEW.status <> 'registered' OR NEW.tier IS NOT NULL OR NEW.status_reason IS NOT NULL
BEGIN SELECT RAISE(ABORT, 'hallmark:conflict: a reader registers inert (registered, no grant); approval is a later, audited change'); END;

CREATE TRIGGER readers_no_replace BEFORE INSERT ON readers
WHEN EXISTS (SELECT 1 FROM readers WHERE id = NEW.id OR ed25519 = NEW.ed25519)
BEGIN SELECT RAISE(ABORT, 'hallmark:conflict: the readers row exists (rows are never replaced)'); END;

CREATE TRIGGER readers_guard_identity BEFORE UPDATE ON readers
WHEN NEW.id IS NOT OLD.id OR NEW.ed25519 IS NOT OLD.ed25519 OR NEW.x25519 IS NOT OLD.x25519
  OR NEW.fingerprint IS NOT OLD.fingerprint OR NEW.organisation IS NOT OLD.organisation
  OR NEW.contact IS NOT OLD.contact OR NEW.purpose IS NOT OLD.purpose
  OR NEW.registered_at IS NOT OLD.registered_at
BEGIN SELECT RAISE(ABORT, 'hallmark:immutable: a reader''s key, organisation, contact and purpose never change'); END;

CREATE TRIGGER readers_guard_revoked BEFORE UPDATE ON readers
WHEN OLD.status = 'revoked'
BEGIN SELECT RAISE(ABORT, 'hallmark:immutable: the reader is revoked; revocation is final'); END;

CREATE TRIGGER readers_guard_transition BEFORE UPDATE ON readers
WHEN NOT ((OLD.status IN ('registered', 'approved') AND NEW.status = 'approved')
          OR (OLD.status = 'approved' AND NEW.status = 'suspended')
          OR (OLD.status = 'suspended' AND NEW.status = 'approved')
          OR NEW.status = 'revoked')
BEGIN SELECT RAISE(ABORT, 'hallmark:conflict: the reader cannot make this status change'); END;

CREATE TRIGGER readers_guard_grant BEFORE UPDATE ON readers
WHEN NOT (OLD.status IN ('registered', 'approved') AND NEW.status = 'approved')
 AND (NEW.tier IS NOT OLD.tier OR NEW.scope IS NOT OLD.scope OR NEW.expires_at IS NOT OLD.expires_at)
BEGIN SELECT RAISE(ABORT, 'hallmark:conflict: only an approval changes a reader''s grant'); END;

CREATE TRIGGER readers_no_delete BEFORE DELETE ON readers
BEGIN SELECT RAISE(ABORT, 'hallmark:immutable: readers are never deleted'); END;

CREATE TABLE request_nonces (
    reader_id  TEXT NOT NULL REFERENCES readers (id),
    nonce      TEXT NOT NULL CHECK (length(nonce) BETWEEN 1 AND 256),
    expires_at TEXT NOT NULL,
    created_at TEXT NOT NULL,
    PRIMARY KEY (reader_id, nonce)
) STRICT;

CREATE TRIGGER request_nonces_no_update BEFORE UPDATE ON request_nonces
BEGIN SELECT RAISE(ABORT, 'hallmark:immutable: request nonces are insert-only'); END;

CREATE TRIGGER request_nonces_no_delete BEFORE DELETE ON request_nonces
BEGIN SELECT RAISE(ABORT, 'hallmark:immutable: request nonces are never deleted'); END;

-- INSERT OR REPLACE would delete the existing row: refuse it (the store's own insert never
-- reaches an existing row: it inserts only where none is).
CREATE TRIGGER request_nonces_no_replace BEFORE INSERT ON request_nonces
WHEN EXISTS (SELECT 1 FROM request_nonces WHERE reader_id = NEW.reader_id AND nonce = NEW.nonce)
BEGIN SELECT RAISE(ABORT, 'hallmark:conflict: the request nonce is used (rows are never replaced)'); END;
