-- Hallmark store, PostgreSQL, migration 0006: one live passport per product identifier.
--
-- A scanned product must name exactly one passport. The product identifier is unique at
-- its granularity among passports that are not deactivated: GTIN + serial (item), GTIN +
-- lot (batch), GTIN alone (model); the lot of an item-level identifier takes no part. A
-- unique partial index enforces it, so it holds under concurrency (a second insert waits
-- for the first and fails once it commits) and against any SQL the application role sends.
-- A deactivated passport frees its identifier for a successor (docs/database.md).
--
-- The passports table gains the identifier's other parts (granularity, lot, serial: fixed
-- for life like the GTIN, which the app role may not UPDATE). Existing rows are filled from
-- their content (the published current version, else the newest draft); a row whose content
-- names no identifier keeps NULLs and takes no part in the index. Every new row must name
-- its identifier (insert guard below).

ALTER TABLE passports
    ADD COLUMN granularity TEXT CHECK (granularity IN ('model', 'batch', 'item')),
    ADD COLUMN lot         TEXT CHECK (length(lot) BETWEEN 1 AND 20),
    ADD COLUMN serial      TEXT CHECK (length(serial) BETWEEN 1 AND 20),
    ADD CONSTRAINT passports_identifier_granularity CHECK (
           (granularity IS NULL AND lot IS NULL AND serial IS NULL)
        OR (granularity = 'model' AND lot IS NULL AND serial IS NULL)
        OR (granularity = 'batch' AND lot IS NOT NULL AND serial IS NULL)
        OR (granularity = 'item' AND serial IS NOT NULL));

-- Backfill. The guard trigger refuses any UPDATE of a terminal passport; the table's owner
-- (this role) sets it aside for this one statement of the migration's transaction.
CREATE FUNCTION pg_temp.passport_identifier(content BYTEA) RETURNS JSONB
LANGUAGE plpgsql AS $$
DECLARE
    doc JSONB;
BEGIN
    doc := convert_from(content, 'UTF8')::jsonb;
    IF jsonb_typeof(doc) IS DISTINCT FROM 'object'
       OR jsonb_typeof(doc -> 'uniqueProductIdentifier') IS DISTINCT FROM 'object'
       OR coalesce(doc ->> 'granularity', '') NOT IN ('model', 'batch', 'item') THEN
        RETURN NULL;
    END IF;
    RETURN jsonb_build_object(
        'granularity', doc ->> 'granularity',
        'lot', doc -> 'uniqueProductIdentifier' ->> 'lot',
        'serial', doc -> 'uniqueProductIdentifier' ->> 'serial');
EXCEPTION WHEN OTHERS THEN
    RETURN NULL;
END $$;

ALTER TABLE passports DISABLE TRIGGER passports_guard_update;
UPDATE passports p SET
    granularity = i ->> 'granularity',
    lot = CASE WHEN i ->> 'granularity' IN ('batch', 'item') THEN i ->> 'lot' END,
    serial = CASE WHEN i ->> 'granularity' = 'item' THEN i ->> 'serial' END
FROM (
    SELECT p2.id, pg_temp.passport_identifier(coalesce(
        (SELECT v.content FROM passport_versions v
          WHERE v.passport_id = p2.id AND v.version = p2.current_version),
        (SELECT d.content FROM passport_drafts d
          WHERE d.passport_id = p2.id ORDER BY d.version DESC LIMIT 1))) AS i
    FROM passports p2
) src
WHERE src.id = p.id AND src.i IS NOT NULL
  AND (src.i ->> 'granularity' = 'model'
    OR (src.i ->> 'granularity' = 'batch' AND src.i ->> 'lot' IS NOT NULL)
    OR (src.i ->> 'granularity' = 'item' AND src.i ->> 'serial' IS NOT NULL));
ALTER TABLE passports ENABLE TRIGGER passports_guard_update;
DROP FUNCTION pg_temp.passport_identifier(BYTEA);

-- Two live passports with one identifier cannot be indexed: name them, so the operator can
-- deactivate all but one with the previous release before upgrading (docs/database.md).
DO $$
DECLARE
    dup TEXT;
BEGIN
    SELECT string_agg(format('(01)%s %s %s: passports %s', gtin, granularity, qualifier, ids),
                      '; ')
      INTO dup
      FROM (SELECT gtin, granularity, coalesce(serial, lot, '') AS qualifier,
                   string_agg(id, ', ' ORDER BY id) AS ids
              FROM passports
             WHERE status <> 'deactivated' AND granularity IS NOT NULL
             GROUP BY gtin, granularity, coalesce(serial, lot, '')
            HAVING count(*) > 1) d;
    IF dup IS NOT NULL THEN
        RAISE EXCEPTION 'hallmark:conflict: these product identifiers are live in more than one passport; deactivate all but one of each before upgrading: %', dup
            USING ERRCODE = 'HM003';
    END IF;
END $$;

CREATE UNIQUE INDEX passports_live_identifier ON passports
    (gtin, granularity, (coalesce(serial, lot, '')))
    WHERE status <> 'deactivated' AND granularity IS NOT NULL;

-- A new passport names its identifier; identity columns never change afterwards.
CREATE OR REPLACE FUNCTION passports_guard_insert() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.status <> 'draft' OR NEW.current_version <> 0 OR NEW.published_at IS NOT NULL THEN
        RAISE EXCEPTION 'hallmark:conflict: a passport is created as an unpublished draft'
            USING ERRCODE = 'HM003';
    END IF;
    IF NEW.granularity IS NULL THEN
        RAISE EXCEPTION 'hallmark:conflict: a passport is created with its product identifier''s granularity'
            USING ERRCODE = 'HM003';
    END IF;
    RETURN NEW;
END $$;

CREATE OR REPLACE FUNCTION passports_guard_update() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF OLD.status IN ('archived', 'deactivated') THEN
        RAISE EXCEPTION 'hallmark:immutable: passport % is % (terminal) and can no longer change',
            OLD.id, OLD.status USING ERRCODE = 'HM001';
    END IF;
    IF NEW.id IS DISTINCT FROM OLD.id OR NEW.gtin IS DISTINCT FROM OLD.gtin
       OR NEW.granularity IS DISTINCT FROM OLD.granularity
       OR NEW.lot IS DISTINCT FROM OLD.lot OR NEW.serial IS DISTINCT FROM OLD.serial
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
