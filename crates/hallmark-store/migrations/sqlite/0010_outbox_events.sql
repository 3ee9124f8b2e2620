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

-- The relay lease (as PostgreSQL 0012): one delivering node at a time.
CREATE TABLE outbox_relay (
    id          INTEGER PRIMARY KEY CHECK (id = 1),
    holder      TEXT CHECK (length(holder) BETWEEN 1 AND 128),
    lease_until TEXT
) STRICT;
INSERT INTO outbox_relay (id) VALUES (1);
CREATE TRIGGER outbox_relay_no_delete BEFORE DELETE ON outbox_relay
BEGIN SELECT RAISE(ABORT, 'hallmark:immutable: the relay lease row is never deleted'); END;
