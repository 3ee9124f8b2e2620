-- Hallmark store, PostgreSQL, migration 0007: the operator's own links per product
-- identifier (manuals, safety data sheets, …), served in the GS1 resolver's linkset.
--
-- A link is attached to a product identifier at its level: GTIN (model), GTIN + lot
-- (batch) or GTIN + serial (item; GS1 keys an item's links on 01 + 21 only, so an item link
-- has no lot). It is added active and may later be removed, once, with a reason: the app
-- role may INSERT and UPDATE only removed_at and removed_reason; a trigger refuses any other
-- change, a second removal and an un-removal; nothing is ever deleted. Every add and
-- removal is an audit event (link.added / link.removed) in the same transaction. Each row
-- carries the node's tag (HMAC under the node secret, which the database never holds) over
-- its columns but the removal: the resolver serves only rows with a valid tag, so a row
-- inserted with nothing but the app role's credentials is never served.

CREATE TABLE product_links (
    id             TEXT PRIMARY KEY CHECK (length(id) = 36),
    gtin           TEXT NOT NULL CHECK (gtin ~ '^[0-9]{14}$'),
    granularity    TEXT NOT NULL CHECK (granularity IN ('model', 'batch', 'item')),
    lot            TEXT CHECK (length(lot) BETWEEN 1 AND 20),
    serial         TEXT CHECK (length(serial) BETWEEN 1 AND 20),
    link_type      TEXT NOT NULL CHECK (length(link_type) BETWEEN 1 AND 512),
    href           TEXT NOT NULL CHECK (length(href) BETWEEN 1 AND 2048),
    title          TEXT NOT NULL CHECK (length(title) BETWEEN 1 AND 200),
    media_type     TEXT CHECK (length(media_type) BETWEEN 3 AND 255),
    hreflang       TEXT NOT NULL CHECK (length(hreflang) <= 1024 AND hreflang LIKE '[%]'),
    created_at     TIMESTAMPTZ NOT NULL,
    removed_at     TIMESTAMPTZ,
    removed_reason TEXT CHECK (length(removed_reason) BETWEEN 1 AND 1000),
    tag            BYTEA CHECK (length(tag) = 32),
    CONSTRAINT product_links_identifier CHECK (
           (granularity = 'model' AND lot IS NULL AND serial IS NULL)
        OR (granularity = 'batch' AND lot IS NOT NULL AND serial IS NULL)
        OR (granularity = 'item' AND lot IS NULL AND serial IS NOT NULL)),
    CONSTRAINT product_links_removal CHECK ((removed_at IS NULL) = (removed_reason IS NULL))
);

-- The resolver's lookup: the active links of a request's levels.
CREATE INDEX product_links_active ON product_links
    (gtin, granularity, (coalesce(serial, lot, ''))) WHERE removed_at IS NULL;

CREATE FUNCTION product_links_guard_insert() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.removed_at IS NOT NULL OR NEW.removed_reason IS NOT NULL THEN
        RAISE EXCEPTION 'hallmark:conflict: a link is added active; its removal is a later, audited change'
            USING ERRCODE = 'HM003';
    END IF;
    RETURN NEW;
END $$;
CREATE TRIGGER product_links_guard_insert BEFORE INSERT ON product_links
    FOR EACH ROW EXECUTE FUNCTION product_links_guard_insert();

CREATE FUNCTION product_links_guard_update() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF OLD.removed_at IS NOT NULL THEN
        RAISE EXCEPTION 'hallmark:immutable: link % is removed; removal is final', OLD.id
            USING ERRCODE = 'HM001';
    END IF;
    IF NEW.id IS DISTINCT FROM OLD.id OR NEW.gtin IS DISTINCT FROM OLD.gtin
       OR NEW.granularity IS DISTINCT FROM OLD.granularity
       OR NEW.lot IS DISTINCT FROM OLD.lot OR NEW.serial IS DISTINCT FROM OLD.serial
       OR NEW.link_type IS DISTINCT FROM OLD.link_type OR NEW.href IS DISTINCT FROM OLD.href
       OR NEW.title IS DISTINCT FROM OLD.title OR NEW.media_type IS DISTINCT FROM OLD.media_type
       OR NEW.hreflang IS DISTINCT FROM OLD.hreflang
       OR NEW.created_at IS DISTINCT FROM OLD.created_at OR NEW.tag IS DISTINCT FROM OLD.tag THEN
        RAISE EXCEPTION 'hallmark:immutable: a link never changes; only its removal is recorded'
            USING ERRCODE = 'HM001';
    END IF;
    RETURN NEW;
END $$;
CREATE TRIGGER product_links_guard_update BEFORE UPDATE ON product_links
    FOR EACH ROW EXECUTE FUNCTION product_links_guard_update();
CREATE TRIGGER product_links_no_delete BEFORE DELETE ON product_links
    FOR EACH ROW EXECUTE FUNCTION refuse_delete();
CREATE TRIGGER product_links_no_truncate BEFORE TRUNCATE ON product_links
    FOR EACH STATEMENT EXECUTE FUNCTION refuse_truncate();

REVOKE ALL ON product_links FROM PUBLIC;
GRANT SELECT, INSERT ON product_links TO __APP_ROLE__;
GRANT UPDATE (removed_at, removed_reason) ON product_links TO __APP_ROLE__;
