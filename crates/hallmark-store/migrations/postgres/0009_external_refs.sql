-- Hallmark store, PostgreSQL, migration 0009: bulk import (issue 18, docs/database.md,
-- "External references").
--
-- - passport_external_refs: the operator's own reference for a passport (an ERP key, a
--   spreadsheet's externalRef column), unique per economic operator. Written once, in the
--   transaction that creates the passport (a draft at version 0), and never changed: a ref
--   names one passport for life, even a deactivated one. Insert-only.
-- - passport_drafts.submission_sha256: the SHA-256 of the RFC 8785 form of the submission
--   a draft holds (core's PassportDraft::digest), set with the content by every door. NULL
--   for drafts written before this migration (the node then computes it from the content).
--   A re-run import compares it to decide "unchanged"; a forged value can only make an
--   import skip a row.

CREATE TABLE passport_external_refs (
    passport_id          TEXT PRIMARY KEY REFERENCES passports (id),
    economic_operator_id TEXT NOT NULL,
    external_ref         TEXT NOT NULL CHECK (length(external_ref) BETWEEN 1 AND 256),
    created_at           TIMESTAMPTZ NOT NULL,
    CONSTRAINT passport_external_refs_operator_ref UNIQUE (economic_operator_id, external_ref)
);

-- A ref is written with its passport: the operator is the passport's, and the passport is a
-- draft never published (version 0), i.e. being created in the same transaction.
CREATE FUNCTION external_refs_guard_insert() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    p passports;
BEGIN
    SELECT * INTO p FROM passports WHERE id = NEW.passport_id;
    IF p.economic_operator_id IS DISTINCT FROM NEW.economic_operator_id THEN
        RAISE EXCEPTION 'hallmark:conflict: an external reference belongs to its passport''s economic operator (passport %)',
            NEW.passport_id USING ERRCODE = 'HM003';
    END IF;
    IF p.status IS DISTINCT FROM 'draft' OR p.current_version <> 0 THEN
        RAISE EXCEPTION 'hallmark:conflict: an external reference is given when its passport is created (passport % is %, version %)',
            NEW.passport_id, p.status, p.current_version USING ERRCODE = 'HM003';
    END IF;
    RETURN NEW;
END $$;
CREATE TRIGGER external_refs_guard_insert BEFORE INSERT ON passport_external_refs
    FOR EACH ROW EXECUTE FUNCTION external_refs_guard_insert();
CREATE TRIGGER external_refs_no_update BEFORE UPDATE ON passport_external_refs
    FOR EACH ROW EXECUTE FUNCTION refuse_update();
CREATE TRIGGER external_refs_no_delete BEFORE DELETE ON passport_external_refs
    FOR EACH ROW EXECUTE FUNCTION refuse_delete();
CREATE TRIGGER external_refs_no_truncate BEFORE TRUNCATE ON passport_external_refs
    FOR EACH STATEMENT EXECUTE FUNCTION refuse_truncate();

REVOKE ALL ON passport_external_refs FROM PUBLIC;
GRANT SELECT, INSERT ON passport_external_refs TO __APP_ROLE__;

ALTER TABLE passport_drafts ADD COLUMN submission_sha256 BYTEA
    CHECK (submission_sha256 IS NULL OR length(submission_sha256) = 32);
GRANT UPDATE (submission_sha256) ON passport_drafts TO __APP_ROLE__;
