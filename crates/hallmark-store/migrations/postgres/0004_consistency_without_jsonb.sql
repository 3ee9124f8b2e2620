-- Hallmark store, migration 0004: the commit-time consistency check finds its passport id
-- without converting the whole row to JSON.
-- The deferred trigger runs for every passport insert/update and every version insert (four
-- times per published passport). Migration 0001 took the id with to_jsonb(NEW), which
-- copies and detoasts the entire row — for a version, the passport and six signed
-- credentials, about 100 KB as hex — to read one column: measured at 45 µs per call and
-- about a fifth of PostgreSQL's trigger time under publishing load (BENCHMARKS.md). The
-- rule it enforces is unchanged: a passport is a draft exactly while it has no published
-- version, and its current_version is its newest stored version.
CREATE OR REPLACE FUNCTION passport_consistency() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    pid TEXT;
    p passports;
    newest INTEGER;
BEGIN
    IF TG_TABLE_NAME = 'passports' THEN
        pid := NEW.id;
    ELSE
        pid := NEW.passport_id;
    END IF;
    SELECT * INTO p FROM passports WHERE id = pid;
    SELECT coalesce(max(version), 0) INTO newest FROM passport_versions WHERE passport_id = pid;
    IF (p.status = 'draft') <> (p.current_version = 0) OR p.current_version <> newest THEN
        RAISE EXCEPTION 'hallmark:conflict: passport % is inconsistent at commit (status %, current_version %, newest stored version %)',
            pid, p.status, p.current_version, newest USING ERRCODE = 'HM003';
    END IF;
    RETURN NULL;
END $$;
