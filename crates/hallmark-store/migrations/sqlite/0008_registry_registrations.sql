-- Hallmark store, SQLite, migration 0008: EU DPP registry registrations (issue 19).
--
-- The same table as PostgreSQL migration 0010 (docs/database.md, "EU registry
-- registrations"): insert-only, one row per passport version, a registration id names one
-- version, each row published by its own `registry.recorded` audit event naming it.
-- SQLite has no sha256(): the store checks that dpp_sha256 is the SHA-256 of the version's
-- public credential, and the proof's SHA-256, before it writes; the triggers check the
-- event names the row and the hash given.

CREATE TABLE registry_registrations (
    passport_id      TEXT NOT NULL,
    version          INTEGER NOT NULL CHECK (version >= 1),
    registration_id  TEXT NOT NULL UNIQUE CHECK (length(registration_id) BETWEEN 1 AND 256),
    proof            BLOB NOT NULL CHECK (length(proof) BETWEEN 1 AND 65536),
    proof_media_type TEXT NOT NULL CHECK (proof_media_type IN ('application/json', 'text/plain')),
    dpp_sha256       BLOB NOT NULL CHECK (length(dpp_sha256) = 32),
    audit_seq        INTEGER NOT NULL UNIQUE REFERENCES audit_events (seq),
    recorded_at      TEXT NOT NULL,
    PRIMARY KEY (passport_id, version),
    FOREIGN KEY (passport_id, version) REFERENCES passport_versions (passport_id, version)
) STRICT;

CREATE TRIGGER registry_registrations_guard_event BEFORE INSERT ON registry_registrations
WHEN NOT EXISTS (
    SELECT 1 FROM audit_events e
     WHERE e.seq = NEW.audit_seq AND e.action = 'registry.recorded'
       AND e.passport_id IS NEW.passport_id
       AND json_valid(e.detail)
       AND json_extract(e.detail, '$.version') IS NEW.version
       AND json_extract(e.detail, '$.registrationId') IS NEW.registration_id
       AND json_extract(e.detail, '$.dppSha256') IS lower(hex(NEW.dpp_sha256)))
BEGIN SELECT RAISE(ABORT, 'hallmark:conflict: a registry registration is published by its own registry.recorded audit event naming it'); END;

CREATE TRIGGER registry_registrations_no_update BEFORE UPDATE ON registry_registrations
BEGIN SELECT RAISE(ABORT, 'hallmark:immutable: registry registrations are append-only'); END;

CREATE TRIGGER registry_registrations_no_delete BEFORE DELETE ON registry_registrations
BEGIN SELECT RAISE(ABORT, 'hallmark:immutable: registry registrations are never deleted'); END;

CREATE TRIGGER registry_registrations_no_replace BEFORE INSERT ON registry_registrations
WHEN EXISTS (SELECT 1 FROM registry_registrations
             WHERE (passport_id = NEW.passport_id AND version = NEW.version)
                OR registration_id = NEW.registration_id
                OR audit_seq = NEW.audit_seq)
BEGIN SELECT RAISE(ABORT, 'hallmark:conflict: the registry_registrations row exists (rows are never replaced)'); END;
