-- Hallmark store, SQLite, migration 0005: the operator's own links per product identifier,
-- served in the GS1 resolver's linkset (the same rules as PostgreSQL migration 0007).
--
-- A link is attached at its level: GTIN (model), GTIN + lot (batch) or GTIN + serial (item,
-- no lot). It is added active and may later be removed, once, with a reason; triggers refuse
-- any other change, a second removal, an un-removal, a replacement and a deletion. Each row
-- carries the node's tag; the resolver serves only rows whose tag verifies.

CREATE TABLE product_links (
    id             TEXT PRIMARY KEY CHECK (length(id) = 36),
    gtin           TEXT NOT NULL CHECK (length(gtin) = 14 AND gtin NOT GLOB '*[^0-9]*'),
    granularity    TEXT NOT NULL CHECK (granularity IN ('model', 'batch', 'item')),
    lot            TEXT CHECK (length(lot) BETWEEN 1 AND 20),
    serial         TEXT CHECK (length(serial) BETWEEN 1 AND 20),
    link_type      TEXT NOT NULL CHECK (length(link_type) BETWEEN 1 AND 512),
    href           TEXT NOT NULL CHECK (length(href) BETWEEN 1 AND 2048),
    title          TEXT NOT NULL CHECK (length(title) BETWEEN 1 AND 200),
    media_type     TEXT CHECK (length(media_type) BETWEEN 3 AND 255),
    hreflang       TEXT NOT NULL CHECK (length(hreflang) <= 1024 AND hreflang LIKE '[%]'),
    created_at     TEXT NOT NULL,
    removed_at     TEXT,
    removed_reason TEXT CHECK (length(removed_reason) BETWEEN 1 AND 1000),
    tag            BLOB CHECK (length(tag) = 32),
    CHECK ((granularity = 'model' AND lot IS NULL AND serial IS NULL)
        OR (granularity = 'batch' AND lot IS NOT NULL AND serial IS NULL)
        OR (granularity = 'item' AND lot IS NULL AND serial IS NOT NULL)),
    CHECK ((removed_at IS NULL) = (removed_reason IS NULL))
) STRICT;

CREATE INDEX product_links_active ON product_links
    (gtin, granularity, coalesce(serial, lot, '')) WHERE removed_at IS NULL;

CREATE TRIGGER product_links_guard_insert BEFORE INSERT ON product_links
WHEN NEW.removed_at IS NOT NULL OR NEW.removed_reason IS NOT NULL
BEGIN SELECT RAISE(ABORT, 'hallmark:conflict: a link is added active; its removal is a later, audited change'); END;

CREATE TRIGGER product_links_guard_removed BEFORE UPDATE ON product_links
WHEN OLD.removed_at IS NOT NULL
BEGIN SELECT RAISE(ABORT, 'hallmark:immutable: the link is removed; removal is final'); END;

CREATE TRIGGER product_links_guard_update BEFORE UPDATE ON product_links
WHEN NEW.id IS NOT OLD.id OR NEW.gtin IS NOT OLD.gtin OR NEW.granularity IS NOT OLD.granularity
  OR NEW.lot IS NOT OLD.lot OR NEW.serial IS NOT OLD.serial OR NEW.link_type IS NOT OLD.link_type
  OR NEW.href IS NOT OLD.href OR NEW.title IS NOT OLD.title
  OR NEW.media_type IS NOT OLD.media_type OR NEW.hreflang IS NOT OLD.hreflang
  OR NEW.created_at IS NOT OLD.created_at OR NEW.tag IS NOT OLD.tag
BEGIN SELECT RAISE(ABORT, 'hallmark:immutable: a link never changes; only its removal is recorded'); END;

CREATE TRIGGER product_links_no_delete BEFORE DELETE ON product_links
BEGIN SELECT RAISE(ABORT, 'hallmark:immutable: links are never deleted'); END;

-- INSERT OR REPLACE would delete the existing row: refuse it up front.
CREATE TRIGGER product_links_no_replace BEFORE INSERT ON product_links
WHEN EXISTS (SELECT 1 FROM product_links WHERE id = NEW.id)
BEGIN SELECT RAISE(ABORT, 'hallmark:conflict: the product_links row exists (rows are never replaced)'); END;
