-- Hallmark store, PostgreSQL, migration 0010: EU DPP registry registrations (issue 19).
--
-- One permanent table (docs/database.md, "EU registry registrations"):
--
-- - registry_registrations: the EU DPP registry's registration of a passport version — its
--   registration id, its proof of registration (bytes exactly as received, with their
--   media type) and the hash the registry gave, which must be the SHA-256 of that
--   version's public Data Integrity credential (the bytes served at
--   <base>/passports/<uuid>/versions/<n>). One row per version, a registration id names
--   one version, each row published by its own `registry.recorded` audit event in the same
--   transaction, whose detail names the version, the registration id and both hashes.
--   Insert-only: a recorded registration is a fact, never changed or withdrawn.

CREATE TABLE registry_registrations (
    passport_id      TEXT NOT NULL,
    version          INTEGER NOT NULL CHECK (version >= 1),
    registration_id  TEXT NOT NULL UNIQUE CHECK (length(registration_id) BETWEEN 1 AND 256),
    proof            BYTEA NOT NULL CHECK (length(proof) BETWEEN 1 AND 65536),
    proof_media_type TEXT NOT NULL CHECK (proof_media_type IN ('application/json', 'text/plain')),
    dpp_sha256       BYTEA NOT NULL CHECK (length(dpp_sha256) = 32),
    -- The registry.recorded audit event (its log leaf is audit_seq - 1).
    audit_seq        BIGINT NOT NULL UNIQUE REFERENCES audit_events (seq),
    recorded_at      TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (passport_id, version),
    FOREIGN KEY (passport_id, version) REFERENCES passport_versions (passport_id, version)
);

-- The registry's hash is the SHA-256 of the version's public credential, and the row is
-- published by its own registry.recorded event naming the passport, the version, the
-- registration id, that hash and the SHA-256 of the proof.
CREATE FUNCTION registry_registrations_guard_insert() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    served BYTEA;
    ev audit_events;
    d JSONB;
BEGIN
    SELECT sha256(public_di) INTO served FROM passport_versions
     WHERE passport_id = NEW.passport_id AND version = NEW.version;
    IF served IS DISTINCT FROM NEW.dpp_sha256 THEN
        RAISE EXCEPTION 'hallmark:conflict: the registry''s hash % is not the SHA-256 of version % of passport % (%, its public credential)',
            encode(NEW.dpp_sha256, 'hex'), NEW.version, NEW.passport_id,
            coalesce(encode(served, 'hex'), 'no such version') USING ERRCODE = 'HM003';
    END IF;
    SELECT * INTO ev FROM audit_events WHERE seq = NEW.audit_seq;
    IF ev.action IS DISTINCT FROM 'registry.recorded' OR ev.passport_id IS DISTINCT FROM NEW.passport_id THEN
        RAISE EXCEPTION 'hallmark:conflict: a registry registration is published by its own registry.recorded audit event of its passport'
            USING ERRCODE = 'HM003';
    END IF;
    BEGIN
        d := ev.detail::jsonb;
    EXCEPTION WHEN OTHERS THEN
        d := NULL;
    END;
    IF jsonb_typeof(d) IS DISTINCT FROM 'object'
       OR d ->> 'version' IS DISTINCT FROM NEW.version::text
       OR d ->> 'registrationId' IS DISTINCT FROM NEW.registration_id
       OR d ->> 'dppSha256' IS DISTINCT FROM encode(NEW.dpp_sha256, 'hex')
       OR d ->> 'proofSha256' IS DISTINCT FROM encode(sha256(NEW.proof), 'hex')
    THEN
        RAISE EXCEPTION 'hallmark:conflict: the registry.recorded event % does not name version % of passport %, its registration id and the SHA-256 of its credential and proof',
            NEW.audit_seq, NEW.version, NEW.passport_id USING ERRCODE = 'HM003';
    END IF;
    RETURN NEW;
END $$;
CREATE TRIGGER registry_registrations_guard_insert BEFORE INSERT ON registry_registrations
    FOR EACH ROW EXECUTE FUNCTION registry_registrations_guard_insert();
CREATE TRIGGER registry_registrations_no_update BEFORE UPDATE ON registry_registrations
    FOR EACH ROW EXECUTE FUNCTION refuse_update();
CREATE TRIGGER registry_registrations_no_delete BEFORE DELETE ON registry_registrations
    FOR EACH ROW EXECUTE FUNCTION refuse_delete();
CREATE TRIGGER registry_registrations_no_truncate BEFORE TRUNCATE ON registry_registrations
    FOR EACH STATEMENT EXECUTE FUNCTION refuse_truncate();

REVOKE ALL ON registry_registrations FROM PUBLIC;
GRANT SELECT, INSERT ON registry_registrations TO __APP_ROLE__;
