-- Hallmark store, PostgreSQL, migration 0013: signed webhooks (issue 21; docs/events.md,
-- "Webhooks"; docs/database.md, "Webhooks").
--
-- - webhooks: one row per subscription — its URL and event types, never changed; its
--   status (active | disabled, with the reason), its cursor (the last outbox row it has
--   handled: only moves forward), its consecutive failures and the time of its next
--   attempt. Never deleted. Creating, disabling and enabling are audit events (webhook.*)
--   in the same transaction. No secret: a subscription's signing secret is derived from the
--   node secret whenever needed (hallmark_core::integrity), so this table gives nobody the
--   means to sign a delivery.
-- - webhook_deliveries: one row per attempt (the delivery log the admin API serves),
--   insert-only (an attempt was delivered when its status code is 2xx).
-- - leases: named leases among the nodes sharing the database (one webhook dispatcher at
--   a time), as outbox_relay is for the NATS relay.

CREATE TABLE webhooks (
    id              TEXT PRIMARY KEY CHECK (length(id) = 36),
    url             TEXT NOT NULL CHECK (length(url) BETWEEN 1 AND 2048),
    types           TEXT NOT NULL CHECK (length(types) BETWEEN 2 AND 4096),
    status          TEXT NOT NULL CHECK (status IN ('active', 'disabled')),
    disabled_reason TEXT CHECK (length(disabled_reason) BETWEEN 1 AND 1000),
    cursor          BIGINT NOT NULL CHECK (cursor >= 0),
    failures        INTEGER NOT NULL CHECK (failures >= 0),
    next_attempt_at TIMESTAMPTZ NOT NULL,
    created_at      TIMESTAMPTZ NOT NULL,
    changed_at      TIMESTAMPTZ NOT NULL,
    CONSTRAINT webhooks_reason CHECK ((status = 'disabled') = (disabled_reason IS NOT NULL))
);

CREATE FUNCTION webhooks_guard_insert() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.status <> 'active' OR NEW.failures <> 0 THEN
        RAISE EXCEPTION 'hallmark:conflict: a webhook subscription starts active, without failures'
            USING ERRCODE = 'HM003';
    END IF;
    RETURN NEW;
END $$;
CREATE TRIGGER webhooks_guard_insert BEFORE INSERT ON webhooks
    FOR EACH ROW EXECUTE FUNCTION webhooks_guard_insert();

CREATE FUNCTION webhooks_guard_update() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.id IS DISTINCT FROM OLD.id OR NEW.url IS DISTINCT FROM OLD.url
       OR NEW.types IS DISTINCT FROM OLD.types OR NEW.created_at IS DISTINCT FROM OLD.created_at THEN
        RAISE EXCEPTION 'hallmark:immutable: a webhook subscription''s URL and types never change'
            USING ERRCODE = 'HM001';
    END IF;
    IF NEW.cursor < OLD.cursor THEN
        RAISE EXCEPTION 'hallmark:immutable: a webhook subscription''s cursor only moves forward'
            USING ERRCODE = 'HM001';
    END IF;
    RETURN NEW;
END $$;
CREATE TRIGGER webhooks_guard_update BEFORE UPDATE ON webhooks
    FOR EACH ROW EXECUTE FUNCTION webhooks_guard_update();
CREATE TRIGGER webhooks_no_delete BEFORE DELETE ON webhooks
    FOR EACH ROW EXECUTE FUNCTION refuse_delete();
CREATE TRIGGER webhooks_no_truncate BEFORE TRUNCATE ON webhooks
    FOR EACH STATEMENT EXECUTE FUNCTION refuse_truncate();

REVOKE ALL ON webhooks FROM PUBLIC;
GRANT SELECT, INSERT ON webhooks TO __APP_ROLE__;
GRANT UPDATE (status, disabled_reason, cursor, failures, next_attempt_at, changed_at)
    ON webhooks TO __APP_ROLE__;

CREATE TABLE webhook_deliveries (
    id          BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    webhook_id  TEXT NOT NULL REFERENCES webhooks (id),
    outbox_id   BIGINT NOT NULL REFERENCES outbox (id),
    attempt     INTEGER NOT NULL CHECK (attempt >= 1),
    at          TIMESTAMPTZ NOT NULL,
    status_code INTEGER CHECK (status_code BETWEEN 100 AND 599),
    error       TEXT CHECK (length(error) BETWEEN 1 AND 1000),
    duration_ms BIGINT NOT NULL CHECK (duration_ms >= 0)
);
CREATE INDEX webhook_deliveries_by_webhook ON webhook_deliveries (webhook_id, id);

CREATE TRIGGER webhook_deliveries_no_update BEFORE UPDATE ON webhook_deliveries
    FOR EACH ROW EXECUTE FUNCTION refuse_update();
CREATE TRIGGER webhook_deliveries_no_delete BEFORE DELETE ON webhook_deliveries
    FOR EACH ROW EXECUTE FUNCTION refuse_delete();
CREATE TRIGGER webhook_deliveries_no_truncate BEFORE TRUNCATE ON webhook_deliveries
    FOR EACH STATEMENT EXECUTE FUNCTION refuse_truncate();

REVOKE ALL ON webhook_deliveries FROM PUBLIC;
GRANT SELECT, INSERT ON webhook_deliveries TO __APP_ROLE__;

CREATE TABLE leases (
    name        TEXT PRIMARY KEY CHECK (name IN ('webhooks')),
    holder      TEXT CHECK (length(holder) BETWEEN 1 AND 128),
    lease_until TIMESTAMPTZ
);
INSERT INTO leases (name) VALUES ('webhooks');
CREATE TRIGGER leases_no_delete BEFORE DELETE ON leases
    FOR EACH ROW EXECUTE FUNCTION refuse_delete();
CREATE TRIGGER leases_no_truncate BEFORE TRUNCATE ON leases
    FOR EACH STATEMENT EXECUTE FUNCTION refuse_truncate();

REVOKE ALL ON leases FROM PUBLIC;
GRANT SELECT ON leases TO __APP_ROLE__;
GRANT UPDATE (holder, lease_until) ON leases TO __APP_ROLE__;
