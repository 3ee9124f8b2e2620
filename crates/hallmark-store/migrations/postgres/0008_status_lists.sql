-- Hallmark store, PostgreSQL, migration 0008: W3C Bitstring Status List (issue 17).
--
-- Two permanent tables (docs/database.md, "Status lists"):
--
-- - passport_status_indexes: each passport's one position in a status list, drawn at random
--   by the node and stored in the transaction of its (first) publication. Insert-only: a
--   position is never reused (unique per list) or moved (no UPDATE), and never freed (no
--   DELETE), even when the passport is deactivated.
-- - status_list_versions: every signed version of every list credential (per purpose and
--   list, versions 1, 2, … without gaps), each published by its own `status-list.published`
--   audit event in the same transaction, whose detail names the row and the SHA-256 of both
--   stored forms. Insert-only.

-- ---------------------------------------------------------------------------------------
-- Status list positions of passports
-- ---------------------------------------------------------------------------------------

CREATE TABLE passport_status_indexes (
    passport_id TEXT PRIMARY KEY REFERENCES passports (id),
    list        INTEGER NOT NULL CHECK (list >= 0),
    position    INTEGER NOT NULL CHECK (position BETWEEN 0 AND 131071),
    created_at  TIMESTAMPTZ NOT NULL,
    CONSTRAINT passport_status_indexes_position UNIQUE (list, position)
);

-- A position is taken when the passport is published (in the publish transaction, after
-- its status became `published`): never for a draft, a suspended or a terminal passport.
CREATE FUNCTION status_indexes_guard_insert() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    p passports;
BEGIN
    SELECT * INTO p FROM passports WHERE id = NEW.passport_id;
    IF p.status IS DISTINCT FROM 'published' THEN
        RAISE EXCEPTION 'hallmark:conflict: a status list position is taken when a passport is published (passport % is %)',
            NEW.passport_id, coalesce(p.status, 'unknown') USING ERRCODE = 'HM003';
    END IF;
    RETURN NEW;
END $$;
CREATE TRIGGER status_indexes_guard_insert BEFORE INSERT ON passport_status_indexes
    FOR EACH ROW EXECUTE FUNCTION status_indexes_guard_insert();
CREATE TRIGGER status_indexes_no_update BEFORE UPDATE ON passport_status_indexes
    FOR EACH ROW EXECUTE FUNCTION refuse_update();
CREATE TRIGGER status_indexes_no_delete BEFORE DELETE ON passport_status_indexes
    FOR EACH ROW EXECUTE FUNCTION refuse_delete();
CREATE TRIGGER status_indexes_no_truncate BEFORE TRUNCATE ON passport_status_indexes
    FOR EACH STATEMENT EXECUTE FUNCTION refuse_truncate();

-- ---------------------------------------------------------------------------------------
-- Signed status list versions
-- ---------------------------------------------------------------------------------------

CREATE TABLE status_list_versions (
    purpose        TEXT NOT NULL CHECK (purpose IN ('suspension', 'revocation')),
    list           INTEGER NOT NULL CHECK (list >= 0),
    version        INTEGER NOT NULL CHECK (version >= 1),
    -- The Data Integrity credential's bytes and the vc+jwt form, exactly as served.
    credential     BYTEA NOT NULL CHECK (length(credential) BETWEEN 1 AND 1048576),
    credential_jwt TEXT NOT NULL CHECK (length(credential_jwt) BETWEEN 1 AND 1048576),
    -- The credential's encodedList (multibase base64url, 'u' prefix, of the GZIP of the
    -- bits): the latest bits without parsing the credential.
    encoded_list   TEXT NOT NULL
        CHECK (length(encoded_list) BETWEEN 2 AND 262144 AND encoded_list LIKE 'u%'),
    valid_from     TIMESTAMPTZ NOT NULL,
    valid_until    TIMESTAMPTZ NOT NULL,
    -- The status-list.published audit event (its log leaf is audit_seq - 1).
    audit_seq      BIGINT NOT NULL UNIQUE REFERENCES audit_events (seq),
    created_at     TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (purpose, list, version),
    CHECK (valid_until > valid_from)
);

-- Versions of a list follow each other without gaps from 1, and each is published by its
-- own status-list.published event naming it and the SHA-256 of both stored forms.
CREATE FUNCTION status_list_versions_guard_insert() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    latest INTEGER;
    ev audit_events;
    d JSONB;
BEGIN
    SELECT coalesce(max(version), 0) INTO latest FROM status_list_versions
     WHERE purpose = NEW.purpose AND list = NEW.list;
    IF NEW.version <> latest + 1 THEN
        RAISE EXCEPTION 'hallmark:conflict: the next version of status list %/% is %, not %',
            NEW.purpose, NEW.list, latest + 1, NEW.version USING ERRCODE = 'HM003';
    END IF;
    SELECT * INTO ev FROM audit_events WHERE seq = NEW.audit_seq;
    IF ev.action IS DISTINCT FROM 'status-list.published' THEN
        RAISE EXCEPTION 'hallmark:conflict: a status list version is published by its own status-list.published audit event'
            USING ERRCODE = 'HM003';
    END IF;
    BEGIN
        d := ev.detail::jsonb;
    EXCEPTION WHEN OTHERS THEN
        d := NULL;
    END;
    IF jsonb_typeof(d) IS DISTINCT FROM 'object'
       OR d ->> 'purpose' IS DISTINCT FROM NEW.purpose
       OR d ->> 'list' IS DISTINCT FROM NEW.list::text
       OR d ->> 'version' IS DISTINCT FROM NEW.version::text
       OR d ->> 'sha256' IS DISTINCT FROM encode(sha256(NEW.credential), 'hex')
       OR d ->> 'jwtSha256' IS DISTINCT FROM encode(sha256(convert_to(NEW.credential_jwt, 'UTF8')), 'hex')
    THEN
        RAISE EXCEPTION 'hallmark:conflict: the status-list.published event % does not name status list %/% version % and the SHA-256 of its forms',
            NEW.audit_seq, NEW.purpose, NEW.list, NEW.version USING ERRCODE = 'HM003';
    END IF;
    RETURN NEW;
END $$;
CREATE TRIGGER status_list_versions_guard_insert BEFORE INSERT ON status_list_versions
    FOR EACH ROW EXECUTE FUNCTION status_list_versions_guard_insert();
CREATE TRIGGER status_list_versions_no_update BEFORE UPDATE ON status_list_versions
    FOR EACH ROW EXECUTE FUNCTION refuse_update();
CREATE TRIGGER status_list_versions_no_delete BEFORE DELETE ON status_list_versions
    FOR EACH ROW EXECUTE FUNCTION refuse_delete();
CREATE TRIGGER status_list_versions_no_truncate BEFORE TRUNCATE ON status_list_versions
    FOR EACH STATEMENT EXECUTE FUNCTION refuse_truncate();

REVOKE ALL ON passport_status_indexes, status_list_versions FROM PUBLIC;
GRANT SELECT, INSERT ON passport_status_indexes, status_list_versions TO __APP_ROLE__;
