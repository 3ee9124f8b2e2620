-- Hallmark store, SQLite, migration 0004: one live passport per product identifier (the
-- same rule as PostgreSQL migration 0006).
--
-- The product identifier is unique at its granularity among passports that are not
-- deactivated: GTIN + serial (item), GTIN + lot (batch), GTIN alone (model); the lot of an
-- item-level identifier takes no part. A unique partial index enforces it for every writer.
-- A deactivated passport frees its identifier for a successor (docs/database.md).
--
-- The passports table gains granularity, lot and serial (fixed for life, like the GTIN).
-- Existing rows are filled from their content (the published current version, else the
-- newest draft); a row whose content names no identifier keeps NULLs and takes no part in
-- the index. Every new row must name its identifier.

ALTER TABLE passports ADD COLUMN granularity TEXT
    CHECK (granularity IN ('model', 'batch', 'item'));
ALTER TABLE passports ADD COLUMN lot TEXT CHECK (length(lot) BETWEEN 1 AND 20);
ALTER TABLE passports ADD COLUMN serial TEXT CHECK (length(serial) BETWEEN 1 AND 20);

-- Backfill. The terminal and identity guards refuse these updates; they are dropped for the
-- backfill and recreated below (the identity guard now covering the new columns), inside
-- this migration's transaction.
DROP TRIGGER passports_guard_terminal;
DROP TRIGGER passports_guard_identity;

CREATE TEMP TABLE migration_0004_identifiers AS
SELECT id,
       CASE WHEN json_type(doc, '$.granularity') = 'text'
            THEN json_extract(doc, '$.granularity') END AS granularity,
       CASE WHEN json_type(doc, '$.uniqueProductIdentifier.lot') = 'text'
            THEN json_extract(doc, '$.uniqueProductIdentifier.lot') END AS lot,
       CASE WHEN json_type(doc, '$.uniqueProductIdentifier.serial') = 'text'
            THEN json_extract(doc, '$.uniqueProductIdentifier.serial') END AS serial
FROM (
    SELECT id, CASE WHEN json_valid(c) AND json_type(c) = 'object' THEN c END AS doc
    FROM (
        SELECT p.id, CAST(coalesce(
            (SELECT v.content FROM passport_versions v
              WHERE v.passport_id = p.id AND v.version = p.current_version),
            (SELECT d.content FROM passport_drafts d
              WHERE d.passport_id = p.id ORDER BY d.version DESC LIMIT 1)) AS TEXT) AS c
        FROM passports p
    )
);

UPDATE passports SET
    granularity = i.granularity,
    lot = CASE WHEN i.granularity IN ('batch', 'item') THEN i.lot END,
    serial = CASE WHEN i.granularity = 'item' THEN i.serial END
FROM migration_0004_identifiers i
WHERE i.id = passports.id
  AND (i.granularity = 'model'
    OR (i.granularity = 'batch' AND i.lot IS NOT NULL)
    OR (i.granularity = 'item' AND i.serial IS NOT NULL));
DROP TABLE migration_0004_identifiers;

-- Two live passports with one identifier cannot be indexed: refuse the upgrade with a
-- message saying what to do (docs/database.md gives the query listing them).
CREATE TEMP TABLE migration_0004_duplicates (n INTEGER);
CREATE TEMP TRIGGER migration_0004_refuse BEFORE INSERT ON migration_0004_duplicates
BEGIN SELECT RAISE(ABORT, 'hallmark:conflict: a product identifier is live in more than one passport; deactivate all but one of each before upgrading (docs/database.md)'); END;
INSERT INTO migration_0004_duplicates
SELECT 1 FROM passports WHERE status <> 'deactivated' AND granularity IS NOT NULL
GROUP BY gtin, granularity, coalesce(serial, lot, '') HAVING count(*) > 1 LIMIT 1;
DROP TABLE migration_0004_duplicates;

CREATE UNIQUE INDEX passports_live_identifier ON passports
    (gtin, granularity, coalesce(serial, lot, ''))
    WHERE status <> 'deactivated' AND granularity IS NOT NULL;

CREATE TRIGGER passports_guard_terminal BEFORE UPDATE ON passports
WHEN OLD.status IN ('archived', 'deactivated')
BEGIN SELECT RAISE(ABORT, 'hallmark:immutable: the passport is in a terminal state and can no longer change'); END;

CREATE TRIGGER passports_guard_identity BEFORE UPDATE ON passports
WHEN NEW.id IS NOT OLD.id OR NEW.gtin IS NOT OLD.gtin OR NEW.granularity IS NOT OLD.granularity
  OR NEW.lot IS NOT OLD.lot OR NEW.serial IS NOT OLD.serial OR NEW.sector_id IS NOT OLD.sector_id
  OR NEW.economic_operator_id IS NOT OLD.economic_operator_id OR NEW.created_at IS NOT OLD.created_at
BEGIN SELECT RAISE(ABORT, 'hallmark:immutable: the identity columns of a passport never change'); END;

-- A new passport names its identifier, with exactly the parts its granularity has.
CREATE TRIGGER passports_guard_identifier BEFORE INSERT ON passports
WHEN NEW.granularity IS NULL OR NOT (
       (NEW.granularity = 'model' AND NEW.lot IS NULL AND NEW.serial IS NULL)
    OR (NEW.granularity = 'batch' AND NEW.lot IS NOT NULL AND NEW.serial IS NULL)
    OR (NEW.granularity = 'item' AND NEW.serial IS NOT NULL))
BEGIN SELECT RAISE(ABORT, 'hallmark:conflict: a passport is created with a product identifier that fits its granularity'); END;
