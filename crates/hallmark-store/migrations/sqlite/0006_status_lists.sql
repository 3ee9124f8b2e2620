-- Hallmark store, SQLite, migration 0006: W3C Bitstring Status List (issue 17). The same
-- tables and rules as PostgreSQL migration 0008 (see there), as RAISE(ABORT, …) triggers.
-- SQLite has no sha256(): the store checks that a status-list.published event's hashes are
-- those of the stored forms before it writes (both backends); the trigger here checks that
-- the event names the row.

-- Status list positions of passports ---------------------------------------------------------

CREATE TABLE passport_status_indexes (
    passport_id TEXT PRIMARY KEY REFERENCES passports (id),
    list        INTEGER NOT NULL CHECK (list >= 0),
    position    INTEGER NOT NULL CHECK (position BETWEEN 0 AND 131071),
    created_at  TEXT NOT NULL,
    UNIQUE (list, position)
) STRICT;

CREATE TRIGGER status_indexes_guard_insert BEFORE INSERT ON passport_status_indexes
WHEN (SELECT status FROM passports WHERE id = NEW.passport_id) IS NOT 'published'
BEGIN SELECT RAISE(ABORT, 'hallmark:conflict: a status list position is taken when a passport is published'); END;

CREATE TRIGGER status_indexes_no_update BEFORE UPDATE ON passport_status_indexes
BEGIN SELECT RAISE(ABORT, 'hallmark:immutable: status list positions never move'); END;

CREATE TRIGGER status_indexes_no_delete BEFORE DELETE ON passport_status_indexes
BEGIN SELECT RAISE(ABORT, 'hallmark:immutable: status list positions are never freed'); END;

-- INSERT OR REPLACE would delete the conflicting row (by passport or by position): refuse it
-- up front.
CREATE TRIGGER status_indexes_no_replace BEFORE INSERT ON passport_status_indexes
WHEN EXISTS (SELECT 1 FROM passport_status_indexes
             WHERE passport_id = NEW.passport_id OR (list = NEW.list AND position = NEW.position))
BEGIN SELECT RAISE(ABORT, 'hallmark:conflict: the passport has a status list position, or the position is taken (rows are never replaced)'); END;

-- Signed status list versions -----------------------------------------------------------------

CREATE TABLE status_list_versions (
    purpose        TEXT NOT NULL CHECK (purpose IN ('suspension', 'revocation')),
    list           INTEGER NOT NULL CHECK (list >= 0),
    version        INTEGER NOT NULL CHECK (version >= 1),
    credential     BLOB NOT NULL CHECK (length(credential) BETWEEN 1 AND 1048576),
    credential_jwt TEXT NOT NULL CHECK (length(credential_jwt) BETWEEN 1 AND 1048576),
    encoded_list   TEXT NOT NULL
        CHECK (length(encoded_list) BETWEEN 2 AND 262144 AND substr(encoded_list, 1, 1) = 'u'),
    valid_from     TEXT NOT NULL,
    valid_until    TEXT NOT NULL,
    audit_seq      INTEGER NOT NULL UNIQUE REFERENCES audit_events (seq),
    created_at     TEXT NOT NULL,
    PRIMARY KEY (purpose, list, version)
) STRICT;

CREATE TRIGGER status_list_versions_guard_number BEFORE INSERT ON status_list_versions
WHEN NEW.version IS NOT (SELECT coalesce(max(version), 0) + 1 FROM status_list_versions
                         WHERE purpose = NEW.purpose AND list = NEW.list)
BEGIN SELECT RAISE(ABORT, 'hallmark:conflict: the next version of a status list is its latest + 1'); END;

CREATE TRIGGER status_list_versions_guard_event BEFORE INSERT ON status_list_versions
WHEN NOT EXISTS (
    SELECT 1 FROM audit_events e
     WHERE e.seq = NEW.audit_seq AND e.action = 'status-list.published'
       AND json_valid(e.detail)
       AND json_extract(e.detail, '$.purpose') IS NEW.purpose
       AND json_extract(e.detail, '$.list') IS NEW.list
       AND json_extract(e.detail, '$.version') IS NEW.version)
BEGIN SELECT RAISE(ABORT, 'hallmark:conflict: a status list version is published by its own status-list.published audit event naming it'); END;

CREATE TRIGGER status_list_versions_no_update BEFORE UPDATE ON status_list_versions
BEGIN SELECT RAISE(ABORT, 'hallmark:immutable: status list versions are append-only'); END;

CREATE TRIGGER status_list_versions_no_delete BEFORE DELETE ON status_list_versions
BEGIN SELECT RAISE(ABORT, 'hallmark:immutable: status list versions are never deleted'); END;

CREATE TRIGGER status_list_versions_no_replace BEFORE INSERT ON status_list_versions
WHEN EXISTS (SELECT 1 FROM status_list_versions
             WHERE (purpose = NEW.purpose AND list = NEW.list AND version = NEW.version)
                OR audit_seq = NEW.audit_seq)
BEGIN SELECT RAISE(ABORT, 'hallmark:conflict: the status_list_versions row exists (rows are never replaced)'); END;
