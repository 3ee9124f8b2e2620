-- Hallmark store, PostgreSQL, migration 0012: the outbox holds events for outsiders
-- (issue 21; docs/events.md, docs/database.md "Outbox").
--
-- Each audit event outsiders hear about (hallmark_core::events::event_type: publications,
-- status changes, signing-key events, status list versions, finished imports) gets one
-- outbox row in the same transaction: its CloudEvent (payload, JSON) and its type (topic),
-- keyed by the audit sequence number — so an event exists if and only if its change
-- committed, and each audit event has at most one. Rows are never deleted or changed but
-- for being marked delivered, once.

ALTER TABLE outbox ADD COLUMN audit_seq BIGINT UNIQUE REFERENCES audit_events (seq);

-- The relay reads undelivered rows in order.
CREATE INDEX outbox_undelivered ON outbox (id) WHERE published_at IS NULL;

CREATE OR REPLACE FUNCTION outbox_guard_update() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.id IS DISTINCT FROM OLD.id OR NEW.topic IS DISTINCT FROM OLD.topic
       OR NEW.payload IS DISTINCT FROM OLD.payload OR NEW.created_at IS DISTINCT FROM OLD.created_at
       OR NEW.audit_seq IS DISTINCT FROM OLD.audit_seq
       OR OLD.published_at IS NOT NULL THEN
        RAISE EXCEPTION 'hallmark:immutable: an outbox message is only marked published, once'
            USING ERRCODE = 'HM001';
    END IF;
    RETURN NEW;
END $$;

-- The relay lease: at most one node of those sharing the database delivers the outbox at a
-- time (in order), the one holding an unexpired lease; another takes over when it expires.
CREATE TABLE outbox_relay (
    id          SMALLINT PRIMARY KEY CHECK (id = 1),
    holder      TEXT CHECK (length(holder) BETWEEN 1 AND 128),
    lease_until TIMESTAMPTZ
);
INSERT INTO outbox_relay (id) VALUES (1);
CREATE TRIGGER outbox_relay_no_delete BEFORE DELETE ON outbox_relay
    FOR EACH ROW EXECUTE FUNCTION refuse_delete();
CREATE TRIGGER outbox_relay_no_truncate BEFORE TRUNCATE ON outbox_relay
    FOR EACH STATEMENT EXECUTE FUNCTION refuse_truncate();

REVOKE ALL ON outbox_relay FROM PUBLIC;
GRANT SELECT ON outbox_relay TO __APP_ROLE__;
GRANT UPDATE (holder, lease_until) ON outbox_relay TO __APP_ROLE__;
