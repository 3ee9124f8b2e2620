-- Hallmark store, SQLite, migration 0007: bulk import (issue 18). The same table and column
-- as PostgreSQL migration 0009 (see there), with RAISE(ABORT, …) triggers.

CREATE TABLE passport_external_refs (
    passport_id          TEXT PRIMARY KEY REFERENCES passports (id),
    economic_operator_id TEXT NOT NULL,
    external_ref         TEXT NOT NULL CHECK (length(external_ref) BETWEEN 1 AND 256),
    created_at           TEXT NOT NULL,
    UNIQUE (economic_operator_id, external_ref)
) STRICT;

CREATE TRIGGER external_refs_guard_operator BEFORE INSERT ON passport_external_refs
WHEN (SELECT economic_operator_id FROM passports WHERE id = NEW.passport_id)
     IS NOT NEW.economic_operator_id
BEGIN SELECT RAISE(ABORT, 'hallmark:conflict: an external reference belongs to its passport''s economic operator'); END;

CREATE TRIGGER external_refs_guard_new BEFORE INSERT ON passport_external_refs
WHEN NOT EXISTS (SELECT 1 FROM passports WHERE id = NEW.passport_id
                 AND status = 'draft' AND current_version = 0)
BEGIN SELECT RAISE(ABORT, 'hallmark:conflict: an external reference is given when its passport is created'); END;

CREATE TRIGGER external_refs_no_update BEFORE UPDATE ON passport_external_refs
BEGIN SELECT RAISE(ABORT, 'hallmark:immutable: an external reference names one passport for life'); END;

CREATE TRIGGER external_refs_no_delete BEFORE DELETE ON passport_external_refs
BEGIN SELECT RAISE(ABORT, 'hallmark:immutable: external references are never deleted'); END;

-- INSERT OR REPLACE would delete the conflicting row: refuse it up front.
CREATE TRIGGER external_refs_no_replace BEFORE INSERT ON passport_external_refs
WHEN EXISTS (SELECT 1 FROM passport_external_refs
             WHERE passport_id = NEW.passport_id
                OR (economic_operator_id = NEW.economic_operator_id
                    AND external_ref = NEW.external_ref))
BEGIN SELECT RAISE(ABORT, 'hallmark:conflict: the external reference or the passport''s reference exists (rows are never replaced)'); END;

ALTER TABLE passport_drafts ADD COLUMN submission_sha256 BLOB
    CHECK (submission_sha256 IS NULL OR length(submission_sha256) = 32);
