-- Hallmark store, SQLite, migration 0010: the outbox holds events for outsiders (issue 21;
-- docs/events.md, docs/database.md "Outbox"). As PostgreSQL 0012: one row per audit event
-- outsiders hear about, its CloudEvent, in the audit event's transaction; never deleted or
-- changed but for being marked delivered, once.

ALTER TABLE outbox ADD COLUMN audit_seq INTEGER REFERENCES audit_events (seq);
CREATE UNIQUE INDEX outbox_audit_seq ON outbox (audit_seq);
CREATE INDEX outbox_undelivered ON outbox (id) WHERE published_at IS NULL;

DROP TRIGGER outbox_guard_update;
CREATE TRIGGER outbox_guard_update BEFORE UPDATE ON outbox
WHEN NEW.id IS NOT OLD.id OR NEW.topic IS NOT OLD.topic OR NEW.payload IS NOT OLD.payload
  OR NEW.created_at IS NOT OLD.created_at OR NEW.audit_seq IS NOT OLD.audit_seq
  OR OLD.published_at IS NOT NULL
BEGIN SELECT RAISE(ABORT, 'hallmark:immutable: an outbox message is only marked published, once'); END;
