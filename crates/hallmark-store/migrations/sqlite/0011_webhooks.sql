-- Hallmark store, SQLite, migration 0011: signed webhooks (issue 21; docs/events.md,
-- "Webhooks"). As PostgreSQL 0013: subscriptions (URL and types never change, the cursor
-- only moves forward, never deleted, no secret stored), their delivery log (insert-only)
-- and named leases.

CREATE TABLE webhooks (
    id              TEXT PRIMARY KEY CHECK (length(id) = 36),
    url             TEXT NOT NULL CHECK (length(url) BETWEEN 1 AND 2048),
    types           TEXT NOT NULL CHECK (length(types) BETWEEN 2 AND 4096),
    status          TEXT NOT NULL CHECK (status IN ('active', 'disabled')),
    disabled_reason TEXT CHECK (length(disabled_reason) BETWEEN 1 AND 1000),
    cursor          INTEGER NOT NULL CHECK (cursor >= 0),
    failures        INTEGER NOT NULL CHECK (failures >= 0),
    next_attempt_at TEXT NOT NULL,
    created_at      TEXT NOT NULL,
    changed_at      TEXT NOT NULL,
    CHECK ((status = 'disabled') = (disabled_reason IS NOT NULL))
) STRICT;

CREATE TRIGGER webhooks_guard_insert BEFORE INSERT ON webhooks
WHEN NEW.status <> 'active' OR NEW.failures <> 0
BEGIN SELECT RAISE(ABORT, 'hallmark:conflict: a webhook subscription starts active, without failures'); END;

CREATE TRIGGER webhooks_no_replace BEFORE INSERT ON webhooks
WHEN EXISTS (SELECT 1 FROM webhooks WHERE id = NEW.id)
BEGIN SELECT RAISE(ABORT, 'hallmark:conflict: the webhook subscription exists (rows are never replaced)'); END;

CREATE TRIGGER webhooks_guard_update BEFORE UPDATE ON webhooks
WHEN NEW.id IS NOT OLD.id OR NEW.url IS NOT OLD.url OR NEW.types IS NOT OLD.types
  OR NEW.created_at IS NOT OLD.created_at
BEGIN SELECT RAISE(ABORT, 'hallmark:immutable: a webhook subscription''s URL and types never change'); END;

CREATE TRIGGER webhooks_cursor_forward BEFORE UPDATE ON webhooks
WHEN NEW.cursor < OLD.cursor
BEGIN SELECT RAISE(ABORT, 'hallmark:immutable: a webhook subscription''s cursor only moves forward'); END;

CREATE TRIGGER webhooks_no_delete BEFORE DELETE ON webhooks
BEGIN SELECT RAISE(ABORT, 'hallmark:immutable: webhook subscriptions are never deleted'); END;

CREATE TABLE webhook_deliveries (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    webhook_id  TEXT NOT NULL REFERENCES webhooks (id),
    outbox_id   INTEGER NOT NULL REFERENCES outbox (id),
    attempt     INTEGER NOT NULL CHECK (attempt >= 1),
    at          TEXT NOT NULL,
    status_code INTEGER CHECK (status_code BETWEEN 100 AND 599),
    error       TEXT CHECK (length(error) BETWEEN 1 AND 1000),
    duration_ms INTEGER NOT NULL CHECK (duration_ms >= 0)
) STRICT;
CREATE INDEX webhook_deliveries_by_webhook ON webhook_deliveries (webhook_id, id);

CREATE TRIGGER webhook_deliveries_no_update BEFORE UPDATE ON webhook_deliveries
BEGIN SELECT RAISE(ABORT, 'hallmark:immutable: webhook deliveries are insert-only'); END;

CREATE TRIGGER webhook_deliveries_no_delete BEFORE DELETE ON webhook_deliveries
BEGIN SELECT RAISE(ABORT, 'hallmark:immutable: webhook deliveries are never deleted'); END;

-- INSERT OR REPLACE would delete the existing row without the delete trigger: refuse it.
CREATE TRIGGER webhook_deliveries_no_replace BEFORE INSERT ON webhook_deliveries
WHEN EXISTS (SELECT 1 FROM webhook_deliveries WHERE id = NEW.id)
BEGIN SELECT RAISE(ABORT, 'hallmark:immutable: webhook deliveries are insert-only (rows are never replaced)'); END;

CREATE TABLE leases (
    name        TEXT PRIMARY KEY CHECK (name IN ('webhooks')),
    holder      TEXT CHECK (length(holder) BETWEEN 1 AND 128),
    lease_until TEXT
) STRICT;
INSERT INTO leases (name) VALUES ('webhooks');
CREATE TRIGGER leases_no_delete BEFORE DELETE ON leases
BEGIN SELECT RAISE(ABORT, 'hallmark:immutable: a lease row is never deleted'); END;
CREATE TRIGGER leases_no_insert BEFORE INSERT ON leases
WHEN EXISTS (SELECT 1 FROM leases WHERE name = NEW.name)
BEGIN SELECT RAISE(ABORT, 'hallmark:immutable: lease rows are never replaced'); END;
