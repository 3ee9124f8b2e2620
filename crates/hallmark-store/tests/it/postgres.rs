//! PostgreSQL backend, against the real server: the conformance suite, the attack suite
//! (connected AS THE APP ROLE), the same attacks as the table owner (to show the trigger
//! layer holds even with privileges), and the start-up privilege check.
//!
//! Each test gets its own database and roles (random suffix), dropped afterwards. If the
//! server is unreachable these tests FAIL with a message saying so.

use crate::common;
use crate::conformance_tests;

use std::sync::Arc;

use common::{audit, new_passport, new_version, PgHarness};
use hallmark_core::passport::{PassportId, PassportStatus};
use hallmark_store::postgres::check_app_role;
use hallmark_store::{NewApiKey, PgStore, PrivilegeError, StatusPurpose, Store, StoreError};
use hallmark_testkit::StoreTestExt;
use sqlx::postgres::PgPoolOptions;
use sqlx::Connection;

conformance_tests!(PgHarness::new());

const TABLES: &[&str] = &[
    "passports",
    "passport_drafts",
    "passport_versions",
    "audit_head",
    "audit_events",
    "api_keys",
    "signing_keys",
    "log_leaves",
    "checkpoints",
    "outbox",
    "product_links",
    "schema_migrations",
    "passport_status_indexes",
    "status_list_versions",
    "passport_external_refs",
    "registry_registrations",
    "readers",
    "request_nonces",
    "outbox_relay",
    "webhooks",
    "webhook_deliveries",
    "leases",
];

struct Fixture {
    h: PgHarness,
    published: String,
    archived: String,
    /// A published passport created by an import, with the external reference `ERP-1`.
    imported: String,
    draft: String,
}

/// A published passport (v1 at status list position 42 of list 0, pending v2 draft), a
/// suspension list's version 1, an archived passport (no position), a draft, a revoked key,
/// a signing key, an outbox message, a log leaf and a checkpoint.
async fn fixture() -> Fixture {
    let h = PgHarness::new().await;
    let s = h.store();
    let p = s
        .create_draft(new_passport("04012345678901", "battery"), audit(0, "c"))
        .await
        .unwrap();
    s.publish(&p.id, common::new_version_at(1, 1, 0, 42), audit(1, "p"))
        .await
        .unwrap();
    s.put_status_list(common::list_version(StatusPurpose::Suspension, 0, 1, 1))
        .await
        .unwrap();
    s.start_version(&p.id, b"{\"v\":2}".to_vec(), None, audit(2, "r"))
        .await
        .unwrap();
    let a = s
        .create_draft(new_passport("04012345678902", "battery"), audit(3, "c"))
        .await
        .unwrap();
    s.publish(&a.id, new_version(1, 4), audit(4, "p"))
        .await
        .unwrap();
    s.archive(&a.id, None, audit(5, "a")).await.unwrap();
    let d = s
        .create_draft(new_passport("04012345678903", "battery"), audit(6, "c"))
        .await
        .unwrap();
    let imported = imported(s).await;
    s.insert_api_key(
        NewApiKey {
            prefix: "hm_key1".into(),
            hash: vec![1; 32],
            scope: "admin".into(),
            label: "l".into(),
            expires_at: None,
        },
        audit(7, "k"),
    )
    .await
    .unwrap();
    s.revoke_api_key("hm_key1", audit(8, "kr")).await.unwrap();
    s.insert_signing_key(
        hallmark_store::SigningKeyRecord {
            key_id: "k1".into(),
            purpose: "passport-signing".into(),
            backend: "file".into(),
            public_key_multibase: "z6Mk".into(),
            status: hallmark_store::SigningKeyStatus::Current,
            created_at: common::at(0),
            retired_at: None,
            revoked_at: None,
            revocation_reason: None,
            tag: None,
        },
        audit(9, "key"),
    )
    .await
    .unwrap();
    s.set_signing_key_status(
        "k1",
        hallmark_store::SigningKeyStatus::Revoked,
        Some("test".into()),
        audit(10, "key.revoke"),
    )
    .await
    .unwrap();
    // Log leaves come with every audit event; checkpoints and the outbox have no API yet:
    // fill them as the app role would.
    let mut app = h.app_connection().await;
    sqlx::raw_sql(
        "INSERT INTO outbox (topic, payload, created_at) VALUES ('t', '\\x00', now()); \
         INSERT INTO checkpoints VALUES (1, sha256('\\x00'), 'note', now());",
    )
    .execute(&mut app)
    .await
    .unwrap();
    app.close().await.unwrap();
    let last = s.outbox(0, 1000).await.unwrap().last().unwrap().id;
    common::attack_webhook(s, last).await;
    let uuid = |id: &PassportId| id.uuid().hyphenated().to_string();
    Fixture {
        published: uuid(&p.id),
        archived: uuid(&a.id),
        imported,
        draft: uuid(&d.id),
        h,
    }
}

/// Every table's full contents (as JSON text, ordered), read as the migration role.
async fn snapshot(h: &PgHarness) -> Vec<String> {
    let mut conn = h.migration_connection().await;
    let mut out = Vec::new();
    for t in TABLES {
        let rows: Option<String> = sqlx::query_scalar(&format!(
            "SELECT string_agg(r::text, E'\\n' ORDER BY r::text) FROM {t} r"
        ))
        .fetch_one(&mut conn)
        .await
        .unwrap();
        out.push(format!("{t}: {}", rows.unwrap_or_default()));
    }
    conn.close().await.unwrap();
    out
}

/// How a statement must be refused.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Refusal {
    /// SQLSTATE 42501 (insufficient privilege) or "must be owner".
    Privilege,
    /// A hallmark trigger (immutable / transition / conflict).
    Trigger,
    /// Either (the app role lacks the privilege and the trigger would also refuse).
    Any,
}

fn classify(err: sqlx::Error, sql: &str) -> Refusal {
    let code = err
        .as_database_error()
        .and_then(|d| d.code().map(|c| c.into_owned()))
        .unwrap_or_default();
    let typed = StoreError::from(err);
    match typed {
        StoreError::PermissionDenied(_) => Refusal::Privilege,
        StoreError::ImmutableViolation(_)
        | StoreError::InvalidTransition { .. }
        | StoreError::Conflict(_) => Refusal::Trigger,
        other => panic!("{sql}: refused for an unexpected reason (SQLSTATE {code}): {other:?}"),
    }
}

/// Runs each statement in its own transaction-less round trip on a fresh connection as
/// `role_conn`; each must be refused as `expected`, and every table must be unchanged.
async fn attack(f: &Fixture, as_owner: bool, statements: &[(Refusal, String)]) {
    let before = snapshot(&f.h).await;
    for (expected, sql) in statements {
        let mut conn = if as_owner {
            f.h.migration_connection().await
        } else {
            f.h.app_connection().await
        };
        let result = sqlx::raw_sql(sql).execute(&mut conn).await;
        let got = match result {
            Ok(r) => panic!("{sql}: accepted ({} rows)", r.rows_affected()),
            Err(e) => classify(e, sql),
        };
        if *expected != Refusal::Any {
            assert_eq!(got, *expected, "{sql}");
        }
        conn.close().await.unwrap();
        assert_eq!(snapshot(&f.h).await, before, "{sql} changed data");
    }
}

fn p(s: &str) -> (Refusal, String) {
    (Refusal::Privilege, s.to_owned())
}
fn t(s: &str) -> (Refusal, String) {
    (Refusal::Trigger, s.to_owned())
}

// ---------------------------------------------------------------------------------------
// Attack suite, as the application role
// ---------------------------------------------------------------------------------------

#[tokio::test]
async fn attack_update_published_version() {
    let f = fixture().await;
    let id = &f.published;
    attack(
        &f,
        false,
        &[
            p(&format!("UPDATE passport_versions SET public_jwt = 'forged' WHERE passport_id = '{id}'")),
            p("UPDATE passport_versions SET version = version + 10"),
            p(&format!(
                "INSERT INTO passport_versions SELECT * FROM passport_versions WHERE passport_id = '{id}' \
                 ON CONFLICT (passport_id, version) DO UPDATE SET public_jwt = 'forged'"
            )),
            // The draft it was published from is frozen (the app may UPDATE drafts, the
            // trigger refuses once the version is published).
            t(&format!("UPDATE passport_drafts SET content = '\\x00' WHERE passport_id = '{id}' AND version = 1")),
        ],
    )
    .await;
}

#[tokio::test]
async fn attack_delete_from_every_table() {
    let f = fixture().await;
    let statements: Vec<_> = TABLES
        .iter()
        .map(|t| p(&format!("DELETE FROM {t}")))
        .collect();
    attack(&f, false, &statements).await;
}

#[tokio::test]
async fn attack_truncate() {
    let f = fixture().await;
    let mut statements: Vec<_> = TABLES.iter().map(|t| p(&format!("TRUNCATE {t}"))).collect();
    statements.push(p(
        "TRUNCATE passports, passport_drafts, passport_versions CASCADE",
    ));
    attack(&f, false, &statements).await;
}

#[tokio::test]
async fn attack_ddl() {
    let f = fixture().await;
    attack(
        &f,
        false,
        &[
            p("ALTER TABLE passport_versions ADD COLUMN evil TEXT"),
            p("ALTER TABLE passports DROP CONSTRAINT passports_check"),
            p("ALTER TABLE passport_versions RENAME TO old_versions"),
            p("ALTER TABLE passport_versions OWNER TO CURRENT_USER"),
            p("DROP TABLE audit_events"),
            p("CREATE TABLE hallmark.evil (x int)"),
            p("CREATE TABLE public.evil (x int)"),
            p("CREATE TEMP TABLE passports (x int)"),
            p("CREATE SCHEMA evil"),
            p("CREATE OR REPLACE FUNCTION refuse_update() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RETURN NEW; END $$"),
            p("DROP FUNCTION refuse_update() CASCADE"),
        ],
    )
    .await;
    // GRANT by a non-owner is only a warning (no privileges were granted): prove that
    // DELETE still fails afterwards.
    let mut app = f.h.app_connection().await;
    let _ = sqlx::raw_sql("GRANT DELETE ON passports TO CURRENT_USER")
        .execute(&mut app)
        .await;
    let e = sqlx::raw_sql("DELETE FROM passports")
        .execute(&mut app)
        .await
        .unwrap_err();
    assert!(matches!(
        StoreError::from(e),
        StoreError::PermissionDenied(_)
    ));
}

#[tokio::test]
async fn attack_drop_or_disable_triggers() {
    let f = fixture().await;
    attack(
        &f,
        false,
        &[
            p("DROP TRIGGER versions_no_update ON passport_versions"),
            p("DROP TRIGGER passports_guard_update ON passports"),
            p("ALTER TABLE passport_versions DISABLE TRIGGER versions_no_update"),
            p("ALTER TABLE passports DISABLE TRIGGER ALL"),
            p("ALTER TABLE audit_events DISABLE TRIGGER USER"),
            p("ALTER TRIGGER audit_no_delete ON audit_events RENAME TO gone"),
            p("CREATE TRIGGER evil BEFORE INSERT ON passports FOR EACH ROW EXECUTE FUNCTION refuse_update()"),
        ],
    )
    .await;
}

#[tokio::test]
async fn attack_session_replication_role() {
    let f = fixture().await;
    attack(
        &f,
        false,
        &[
            p("SET session_replication_role = replica"),
            p("SET LOCAL session_replication_role = replica"),
            p("SELECT set_config('session_replication_role', 'replica', false)"),
            p("ALTER ROLE CURRENT_USER SET session_replication_role = replica"),
        ],
    )
    .await;
    // And the role cannot become the owner either.
    let attempt = format!("SET ROLE \"{}\"", f.h.migration_role);
    attack(&f, false, &[p(&attempt)]).await;
}

#[tokio::test]
async fn attack_update_or_delete_audit() {
    let f = fixture().await;
    attack(
        &f,
        false,
        &[
            p("UPDATE audit_events SET actor = 'someone-else' WHERE seq = 1"),
            p("DELETE FROM audit_events WHERE seq = 1"),
            p("INSERT INTO audit_events SELECT * FROM audit_events WHERE seq = 1 ON CONFLICT (seq) DO UPDATE SET actor = 'x'"),
            t("UPDATE audit_head SET next_seq = 1"),
            t("UPDATE audit_head SET next_seq = next_seq + 2"),
            // Claimed but unused: refused at commit (gapless).
            t("UPDATE audit_head SET next_seq = next_seq + 1"),
            // A forged sequence number.
            t("INSERT INTO audit_events (seq, at, actor, action, detail) VALUES (999, now(), 'x', 'x', '{}')"),
            p("INSERT INTO audit_head VALUES (2, 1)"),
        ],
    )
    .await;
}

#[tokio::test]
async fn attack_status_backwards_and_out_of_terminal() {
    let f = fixture().await;
    let (id, a, d) = (&f.published, &f.archived, &f.draft);
    attack(
        &f,
        false,
        &[
            t(&format!(
                "UPDATE passports SET status = 'draft', published_at = NULL WHERE id = '{id}'"
            )),
            t(&format!(
                "UPDATE passports SET status = 'published' WHERE id = '{a}'"
            )),
            t(&format!(
                "UPDATE passports SET status = 'suspended' WHERE id = '{a}'"
            )),
            t(&format!(
                "UPDATE passports SET status = 'deactivated' WHERE id = '{a}'"
            )),
            t(&format!(
                "UPDATE passports SET updated_at = now() WHERE id = '{a}'"
            )),
            t(&format!(
                "UPDATE passports SET status = 'suspended' WHERE id = '{d}'"
            )),
            t(&format!(
                "UPDATE passports SET status = 'archived' WHERE id = '{d}'"
            )),
            // draft -> published without a version: refused at commit.
            t(&format!(
                "UPDATE passports SET status = 'published', published_at = now() WHERE id = '{d}'"
            )),
            t(&format!(
                "UPDATE passports SET current_version = 0 WHERE id = '{id}'"
            )),
            t(&format!(
                "UPDATE passports SET current_version = 2 WHERE id = '{id}'"
            )),
            t(&format!(
                "UPDATE passports SET published_at = now() WHERE id = '{id}'"
            )),
            p(&format!(
                "UPDATE passports SET gtin = '09999999999999' WHERE id = '{id}'"
            )),
            t(&format!(
                "UPDATE passport_drafts SET content = '\\x00' WHERE passport_id = '{a}'"
            )),
            t("UPDATE api_keys SET revoked_at = NULL"),
            p("UPDATE api_keys SET scope = 'everything'"),
            t("UPDATE signing_keys SET status = 'current', revoked_at = NULL"),
        ],
    )
    .await;
    // Outbox: marking a message published once is allowed; changing it again is refused.
    let mut app = f.h.app_connection().await;
    sqlx::raw_sql("UPDATE outbox SET published_at = now()")
        .execute(&mut app)
        .await
        .unwrap();
    app.close().await.unwrap();
    attack(
        &f,
        false,
        &[
            t("UPDATE outbox SET published_at = NULL"),
            p("UPDATE outbox SET payload = '\\x01'"),
        ],
    )
    .await;
}

#[tokio::test]
async fn attack_insert_versions_out_of_rule() {
    let f = fixture().await;
    let insert = |id: &str, version: u32| {
        let content = "'\\x00'::bytea";
        t(&format!(
            "INSERT INTO passport_versions VALUES ('{id}', {version}, {content}, sha256({content}), 'k', now(), \
             '\\x00', 'j', '\\x00', 'j', '\\x00', 'j', now())"
        ))
    };
    attack(
        &f,
        false,
        &[
            insert(&f.archived, 2),  // terminal
            insert(&f.draft, 1),     // a draft
            insert(&f.published, 3), // not current + 1
            insert(&f.published, 1), // existing
            // current + 1 and all but the passport bump: refused at commit.
            insert(&f.published, 2),
            t(&format!(
                "INSERT INTO passport_drafts VALUES ('{}', 2, '\\x00', now(), now())",
                f.archived
            )),
            t(&format!(
                "INSERT INTO passport_drafts VALUES ('{}', 5, '\\x00', now(), now())",
                f.published
            )),
            t("INSERT INTO log_leaves VALUES (5, sha256('\\x00'), 2, now())"),
            t("INSERT INTO checkpoints VALUES (1, sha256('\\x01'), 'fork', now())"),
        ],
    )
    .await;
    // The store still works afterwards.
    let s = f.h.store();
    let id = PassportId::parse(&format!("urn:uuid:{}", f.published)).unwrap();
    s.publish(&id, new_version(2, 10), audit(10, "p"))
        .await
        .unwrap();
    assert_eq!(
        s.get_passport(&id).await.unwrap().status,
        PassportStatus::Published
    );
}

/// An imported passport: created with the external reference `ERP-1` of `operator-1` and
/// published (its id, as stored).
async fn imported(s: &dyn hallmark_store::Store) -> String {
    use hallmark_store::{ImportDraft, ImportWrite};
    let new = new_passport("04012345678908", "battery");
    let write = ImportWrite {
        draft: ImportDraft::Create {
            new,
            external_ref: Some("ERP-1".to_owned()),
            audit: audit(30, "c"),
        },
        publish: Some((new_version(1, 31), audit(31, "p"))),
    };
    s.import(write)
        .await
        .unwrap()
        .id
        .uuid()
        .hyphenated()
        .to_string()
}

/// External references (issue 18): insert-only, given only with a new passport of the same
/// operator, unique per operator; the submission digest of a published draft row is as
/// immutable as its content.
#[tokio::test]
async fn attack_external_refs() {
    let f = fixture().await;
    let (a, d) = (&f.archived, &f.draft);
    let x = f.imported.clone();
    let insert = |id: &str, operator: &str, reference: &str| {
        format!(
            "INSERT INTO passport_external_refs VALUES ('{id}', '{operator}', '{reference}', now())"
        )
    };
    attack(
        &f,
        false,
        &[
            p("UPDATE passport_external_refs SET external_ref = 'forged'"),
            p(&format!(
                "UPDATE passport_external_refs SET passport_id = '{d}' WHERE passport_id = '{x}'"
            )),
            p("DELETE FROM passport_external_refs"),
            p("TRUNCATE passport_external_refs"),
            p(&format!(
                "{} ON CONFLICT (passport_id) DO UPDATE SET external_ref = 'forged'",
                insert(&x, "operator-1", "ERP-2")
            )),
            // A reference taken, a published or terminal passport, another operator.
            (Refusal::Any, insert(d, "operator-1", "ERP-1")),
            t(&insert(&x, "operator-1", "ERP-2")),
            t(&insert(a, "operator-1", "ERP-3")),
            t(&insert(d, "operator-2", "ERP-4")),
            // The digest of a published version's draft row never changes.
            t(&format!(
                "UPDATE passport_drafts SET submission_sha256 = '\\x{}' WHERE passport_id = '{x}'",
                "00".repeat(32)
            )),
        ],
    )
    .await;
    // Nor as the owner: the triggers hold for every role.
    attack(
        &f,
        true,
        &[
            t("UPDATE passport_external_refs SET external_ref = 'forged'"),
            t("DELETE FROM passport_external_refs"),
            t("TRUNCATE passport_external_refs"),
        ],
    )
    .await;
}

#[tokio::test]
async fn attack_status_lists() {
    let f = fixture().await;
    let (id, a, d) = (&f.published, &f.archived, &f.draft);
    // A passport published without a position (as before status lists).
    let s = f.h.store();
    let legacy = s
        .create_draft(new_passport("04012345678909", "battery"), audit(20, "c"))
        .await
        .unwrap()
        .id;
    s.publish(&legacy, new_version(1, 21), audit(21, "p"))
        .await
        .unwrap();
    let legacy = legacy.uuid().hyphenated().to_string();
    // A copy of the stored version 1 with some columns replaced.
    let copy = |version: &str, audit_seq: &str| {
        format!(
            "INSERT INTO status_list_versions SELECT purpose, list, {version}, credential, \
             credential_jwt, encoded_list, valid_from, valid_until, {audit_seq}, created_at \
             FROM status_list_versions WHERE version = 1"
        )
    };
    attack(
        &f,
        false,
        &[
            // A position never moves, is never freed, is never taken twice.
            p("UPDATE passport_status_indexes SET position = 43"),
            p(&format!(
                "UPDATE passport_status_indexes SET passport_id = '{legacy}' WHERE passport_id = '{id}'"
            )),
            p("DELETE FROM passport_status_indexes"),
            p("TRUNCATE passport_status_indexes"),
            p(&format!(
                "INSERT INTO passport_status_indexes VALUES ('{id}', 0, 43, now()) \
                 ON CONFLICT (passport_id) DO UPDATE SET position = 43"
            )),
            t(&format!(
                "INSERT INTO passport_status_indexes VALUES ('{id}', 1, 1, now())"
            )),
            t(&format!(
                "INSERT INTO passport_status_indexes VALUES ('{legacy}', 0, 42, now())"
            )),
            // Taken at publication only: never for a draft or a terminal passport.
            t(&format!(
                "INSERT INTO passport_status_indexes VALUES ('{d}', 0, 7, now())"
            )),
            t(&format!(
                "INSERT INTO passport_status_indexes VALUES ('{a}', 0, 7, now())"
            )),
            // A list version is never changed or deleted.
            p("UPDATE status_list_versions SET encoded_list = 'uforged'"),
            p("UPDATE status_list_versions SET version = 2"),
            p("DELETE FROM status_list_versions"),
            p("TRUNCATE status_list_versions"),
            p(&format!(
                "{} ON CONFLICT (purpose, list, version) DO UPDATE SET encoded_list = 'uforged'",
                copy("version", "audit_seq")
            )),
            // Versions follow each other: none skipped, none twice.
            t(&copy("3", "audit_seq")),
            t(&copy("1", "audit_seq")),
            t(&copy("0", "audit_seq")),
            // The next number, but not published by its own event: another action's event,
            // the event of version 1 (naming version 1), a fresh event naming other bytes.
            t(&copy("2", "1")),
            t(&copy("2", "audit_seq")),
            t(&format!(
                "BEGIN; \
                 UPDATE audit_head SET next_seq = next_seq + 1 WHERE id = 1; \
                 INSERT INTO audit_events (seq, at, actor, action, detail) \
                 SELECT next_seq - 1, now(), 'x', 'status-list.published', \
                 '{{\"purpose\":\"suspension\",\"list\":0,\"version\":2,\"sha256\":\"00\",\"jwtSha256\":\"00\"}}' \
                 FROM audit_head; \
                 {}; COMMIT;",
                copy("2", "(SELECT max(seq) FROM audit_events)")
            )),
        ],
    )
    .await;
    // Out of the list: a CHECK.
    let mut app = f.h.app_connection().await;
    let e = sqlx::raw_sql(&format!(
        "INSERT INTO passport_status_indexes VALUES ('{legacy}', 0, 131072, now())"
    ))
    .execute(&mut app)
    .await
    .unwrap_err();
    assert!(matches!(StoreError::from(e), StoreError::Constraint(_)));
    app.close().await.unwrap();
    // The store's own writes still work.
    s.put_status_list(common::list_version(StatusPurpose::Suspension, 0, 2, 22))
        .await
        .unwrap();
    let other = s
        .create_draft(new_passport("04012345678908", "battery"), audit(23, "c"))
        .await
        .unwrap()
        .id;
    let e = s
        .publish(&other, common::new_version_at(1, 24, 0, 42), audit(24, "p"))
        .await;
    assert_eq!(
        e.unwrap_err(),
        StoreError::StatusIndexTaken { list: 0, index: 42 }
    );
    s.publish(&other, common::new_version_at(1, 24, 0, 7), audit(24, "p"))
        .await
        .unwrap();
}

#[tokio::test]
async fn attack_registry_registrations() {
    use sha2::Digest;
    let f = fixture().await;
    let (id, a, d) = (&f.published, &f.archived, &f.draft);
    let s = f.h.store();
    let published = PassportId::parse(&format!("urn:uuid:{id}")).unwrap();
    s.record_registration(common::registration(published, 1, "REG-P1", 20))
        .await
        .unwrap();
    let right = hex(&common::public_sha256(1));
    let wrong = "00".repeat(32);
    // A fresh registry.recorded event of `event_passport` naming `event_reg` and `dpp`, then
    // a row of version 1 of `passport` with `reg`, hash `dpp` and the proof "p", naming it.
    let forge = |passport: &str, reg: &str, dpp: &str, event_passport: &str, event_reg: &str| {
        let proof = hex(&sha2::Sha256::digest(b"p").into());
        format!(
            "BEGIN; \
             UPDATE audit_head SET next_seq = next_seq + 1 WHERE id = 1; \
             INSERT INTO audit_events (seq, at, actor, action, passport_id, detail) \
             SELECT next_seq - 1, now(), 'x', 'registry.recorded', '{event_passport}', \
             '{{\"version\":1,\"registrationId\":\"{event_reg}\",\"dppSha256\":\"{dpp}\",\"proofSha256\":\"{proof}\"}}' \
             FROM audit_head; \
             INSERT INTO registry_registrations VALUES ('{passport}', 1, '{reg}', '\\x70', \
             'text/plain', '\\x{dpp}', (SELECT max(seq) FROM audit_events), now()); COMMIT;"
        )
    };
    attack(
        &f,
        false,
        &[
            // A registration is never changed, deleted or replaced.
            p("UPDATE registry_registrations SET registration_id = 'forged'"),
            p(&format!(
                "UPDATE registry_registrations SET dpp_sha256 = '\\x{wrong}'"
            )),
            p("DELETE FROM registry_registrations"),
            p("TRUNCATE registry_registrations"),
            p(
                "INSERT INTO registry_registrations SELECT * FROM registry_registrations \
               ON CONFLICT (passport_id, version) DO UPDATE SET registration_id = 'forged'",
            ),
            // A hash that is not the version's public credential's, even with an event
            // naming it.
            t(&forge(a, "REG-X", &wrong, a, "REG-X")),
            // Not published by its own registry.recorded event of its passport naming it:
            // another action's event, an event naming another id or another passport's.
            t(&format!(
                "INSERT INTO registry_registrations SELECT '{a}', 1, 'REG-X', proof, \
                 proof_media_type, dpp_sha256, 1, recorded_at FROM registry_registrations"
            )),
            t(&forge(a, "REG-X", &right, a, "REG-Y")),
            t(&forge(a, "REG-X", &right, d, "REG-X")),
            // One row per version; a registration id names one version.
            t(&forge(id, "REG-X", &right, id, "REG-X")),
            t(&forge(a, "REG-P1", &right, a, "REG-P1")),
        ],
    )
    .await;
    // Nor as the owner: the triggers hold for every role.
    attack(
        &f,
        true,
        &[
            t("UPDATE registry_registrations SET registration_id = 'forged'"),
            t("DELETE FROM registry_registrations"),
            t("TRUNCATE registry_registrations"),
            t(&forge(a, "REG-X", &wrong, a, "REG-X")),
        ],
    )
    .await;
    // The store's own writes still work, and refuse the wrong hash typed.
    let archived = PassportId::parse(&format!("urn:uuid:{a}")).unwrap();
    let mut bad = common::registration(archived, 1, "REG-A1", 21);
    bad.dpp_sha256 = [0; 32];
    bad.event = bad.event(common::at(21), "x").unwrap();
    let e = s.record_registration(bad).await.unwrap_err();
    assert!(
        matches!(e, StoreError::RegistryHashMismatch { .. }),
        "{e:?}"
    );
    assert!(s
        .record_registration(common::registration(archived, 1, "REG-A1", 21))
        .await
        .unwrap()
        .created());
}

/// Webhook subscriptions: URL and types never change, the cursor only moves forward, the
/// delivery log is insert-only, nothing is deleted — and no secret is there to steal.
#[tokio::test]
async fn attack_webhooks() {
    let f = fixture().await;
    attack(
        &f,
        false,
        &[
            p("DELETE FROM webhooks"),
            p("TRUNCATE webhooks CASCADE"),
            p("UPDATE webhooks SET url = 'https://evil.example.com/h'"),
            p("UPDATE webhooks SET types = '[\"*\"]'"),
            t("UPDATE webhooks SET cursor = 0"),
            p("DELETE FROM webhook_deliveries"),
            p("UPDATE webhook_deliveries SET status_code = 204"),
            p("TRUNCATE webhook_deliveries"),
            p("DELETE FROM leases"),
            p("UPDATE leases SET name = 'other'"),
            p("INSERT INTO leases (name) VALUES ('webhooks')"),
            t("INSERT INTO webhooks VALUES ('0190c2f4-8d3e-7b1a-9c4d-2e5f6a7b8c9e', 'https://x.example/h', '[\"*\"]', 'disabled', 'r', 0, 0, now(), now(), now())"),
        ],
    )
    .await;
    // The owner (migration role) is stopped by the triggers too.
    attack(
        &f,
        true,
        &[
            t("DELETE FROM webhooks"),
            t("UPDATE webhooks SET url = 'https://evil.example.com/h'"),
            t("DELETE FROM webhook_deliveries"),
            t("UPDATE webhook_deliveries SET status_code = 204"),
            t("DELETE FROM leases"),
        ],
    )
    .await;
    // What the app role may change: the status, the progress (forward).
    let mut app = f.h.app_connection().await;
    sqlx::raw_sql("UPDATE webhooks SET cursor = cursor + 1, failures = 0")
        .execute(&mut app)
        .await
        .unwrap();
    app.close().await.unwrap();
}

#[tokio::test]
async fn attack_readers() {
    let f = fixture().await;
    let (registered, approved, revoked) = common::attack_readers(f.h.store()).await;
    attack(
        &f,
        false,
        &[
            // Identity columns: no privilege.
            p(&format!("UPDATE readers SET organisation = 'forged' WHERE id = '{approved}'")),
            p(&format!("UPDATE readers SET contact = 'forged' WHERE id = '{approved}'")),
            p(&format!("UPDATE readers SET ed25519 = ed25519 WHERE id = '{approved}'")),
            p(&format!("UPDATE readers SET purpose = 'commission' WHERE id = '{approved}'")),
            p("DELETE FROM readers"),
            p("TRUNCATE readers"),
            p(&format!(
                "INSERT INTO readers SELECT * FROM readers WHERE id = '{approved}' \
                 ON CONFLICT (id) DO UPDATE SET organisation = 'forged'"
            )),
            // Status and grant: only the allowed transitions.
            t(&format!("UPDATE readers SET status = 'approved' WHERE id = '{revoked}'")),
            t(&format!("UPDATE readers SET status_reason = 'x' WHERE id = '{revoked}'")),
            t(&format!("UPDATE readers SET status = 'registered' WHERE id = '{approved}'")),
            t(&format!("UPDATE readers SET status = 'suspended', tier = 'authority' WHERE id = '{approved}'")),
            t(&format!("UPDATE readers SET status = 'suspended' WHERE id = '{registered}'")),
            // A reader registers inert.
            t(&format!(
                "INSERT INTO readers SELECT '00000000-0000-7000-8000-000000000000', \
                 decode(repeat('ab', 32), 'hex'), NULL, fingerprint, organisation, contact, purpose, \
                 'approved', tier, scope, expires_at, NULL, registered_at, changed_at \
                 FROM readers WHERE id = '{approved}'"
            )),
        ],
    )
    .await;
    // Nor as the owner: the triggers hold for every role.
    attack(
        &f,
        true,
        &[
            t(&format!(
                "UPDATE readers SET organisation = 'forged' WHERE id = '{approved}'"
            )),
            t(&format!(
                "UPDATE readers SET status = 'approved' WHERE id = '{revoked}'"
            )),
            t("DELETE FROM readers"),
            t("TRUNCATE readers CASCADE"),
        ],
    )
    .await;
}

#[tokio::test]
async fn attack_request_nonces() {
    let f = fixture().await;
    let (_, approved, _) = common::attack_readers(f.h.store()).await;
    attack(
        &f,
        false,
        &[
            p("UPDATE request_nonces SET expires_at = now()"),
            p("UPDATE request_nonces SET nonce = 'fresh'"),
            p("DELETE FROM request_nonces"),
            p("TRUNCATE request_nonces"),
            p(&format!(
                "INSERT INTO request_nonces VALUES ('{approved}', 'used', now(), now()) \
                 ON CONFLICT (reader_id, nonce) DO UPDATE SET expires_at = now()"
            )),
        ],
    )
    .await;
    attack(
        &f,
        true,
        &[
            t("UPDATE request_nonces SET nonce = 'fresh'"),
            t("DELETE FROM request_nonces"),
            t("TRUNCATE request_nonces"),
        ],
    )
    .await;
}

fn hex(bytes: &[u8; 32]) -> String {
    hallmark_core::passport::Sha256Digest(*bytes).to_hex()
}

/// The harness's store and a second node's store on the same database (as two node
/// processes would have), and that second store to close.
async fn two_nodes(h: &PgHarness) -> (Arc<dyn Store>, Arc<dyn Store>, PgStore) {
    let other = PgStore::start_with(
        PgHarness::role_options(&h.database, &h.migration_role),
        PgHarness::role_options(&h.database, &h.app_role),
        3,
    )
    .await
    .unwrap();
    let a: Arc<dyn Store> = Arc::new(h.store().clone());
    let b: Arc<dyn Store> = Arc::new(other.clone());
    (a, b, other)
}

/// The application role can INSERT passports, so it could try to make a second live
/// passport for a product: the database refuses it (unique partial index), whatever the
/// lot, and refuses a row that names no identifier or one whose parts do not fit its
/// granularity; the identifier columns cannot be updated at all. The table owner is held by
/// the same index.
#[tokio::test]
async fn attack_insert_duplicate_product_identifier() {
    let f = fixture().await;
    let id = PassportId::parse(&format!("urn:uuid:{}", f.published)).unwrap();
    let key =
        f.h.store()
            .get_passport(&id)
            .await
            .unwrap()
            .product
            .unwrap();
    let (gtin, serial) = (key.gtin.clone(), key.serial.clone().unwrap());
    let insert = |granularity: &str, lot: &str, serial: &str| {
        let fresh = common::new_id().uuid().hyphenated().to_string();
        format!(
            "INSERT INTO passports (id, gtin, granularity, lot, serial, sector_id, \
             economic_operator_id, status, current_version, created_at, updated_at) \
             VALUES ('{fresh}', '{gtin}', {granularity}, {lot}, {serial}, 'battery', 'op', \
             'draft', 0, now(), now())"
        )
    };
    let quoted = format!("'{serial}'");
    let duplicate = insert("'item'", "NULL", &quoted);
    for as_owner in [false, true] {
        attack(
            &f,
            as_owner,
            &[
                t(&duplicate),
                t(&insert("'item'", "'LOT-9'", &quoted)),
                // No identifier at all: the insert guard.
                t(&insert("NULL", "NULL", "NULL")),
            ],
        )
        .await;
    }
    attack(
        &f,
        false,
        &[
            p(&format!(
                "UPDATE passports SET serial = 'OTHER' WHERE id = '{}'",
                f.published
            )),
            p(&format!(
                "UPDATE passports SET granularity = 'model', serial = NULL WHERE id = '{}'",
                f.published
            )),
        ],
    )
    .await;
    // The refusal is the live-identifier index, and parts that do not fit are a CHECK.
    let mut app = f.h.app_connection().await;
    let e = sqlx::raw_sql(&duplicate)
        .execute(&mut app)
        .await
        .unwrap_err();
    assert!(e.to_string().contains("passports_live_identifier"), "{e}");
    let e = sqlx::raw_sql(&insert("'model'", "NULL", &quoted))
        .execute(&mut app)
        .await
        .unwrap_err();
    assert!(
        matches!(StoreError::from(e), StoreError::Constraint(_)),
        "a model-level identifier with a serial"
    );
    app.close().await.unwrap();
}

/// Two nodes on one database race to create the same product's passport: exactly one wins,
/// in whichever transaction commits first; every other create is refused, naming it.
#[tokio::test]
async fn two_nodes_race_for_one_identifier() {
    let h = PgHarness::new().await;
    let (a, b, other) = two_nodes(&h).await;
    let mut tasks = Vec::new();
    for i in 0..16 {
        let s = if i % 2 == 0 { a.clone() } else { b.clone() };
        tasks.push(tokio::spawn(async move {
            s.create_draft(
                common::new_passport_for(common::item("09506000134352", "NC-0001"), "battery"),
                audit(i, "passport.create"),
            )
            .await
        }));
    }
    let mut won = Vec::new();
    let mut refused = Vec::new();
    for t in tasks {
        match t.await.unwrap() {
            Ok(p) => won.push(p.id),
            Err(StoreError::IdentifierInUse { existing, .. }) => refused.push(existing),
            Err(e) => panic!("{e:?}"),
        }
    }
    assert_eq!(won.len(), 1, "{won:?}");
    assert_eq!(refused.len(), 15);
    assert!(refused.iter().all(|e| *e == Some(won[0])), "{refused:?}");
    other.close().await;
}

// ---------------------------------------------------------------------------------------
// Defence in depth: the table OWNER (migration role) is still stopped by the triggers.
// ---------------------------------------------------------------------------------------

#[tokio::test]
async fn owner_is_stopped_by_triggers_too() {
    let f = fixture().await;
    let (id, a) = (&f.published, &f.archived);
    attack(
        &f,
        true,
        &[
            t(&format!(
                "UPDATE passport_versions SET public_jwt = 'forged' WHERE passport_id = '{id}'"
            )),
            t("DELETE FROM passport_versions"),
            t("TRUNCATE passport_versions CASCADE"),
            t("UPDATE audit_events SET actor = 'x'"),
            t("DELETE FROM audit_events"),
            t("TRUNCATE audit_events CASCADE"),
            t("DELETE FROM passports"),
            t(&format!(
                "UPDATE passports SET status = 'published' WHERE id = '{a}'"
            )),
            t(&format!(
                "UPDATE passports SET status = 'draft', published_at = NULL WHERE id = '{id}'"
            )),
            t("UPDATE api_keys SET revoked_at = NULL"),
            t("DELETE FROM api_keys"),
            t("DELETE FROM signing_keys"),
            t("DELETE FROM log_leaves"),
            t("DELETE FROM checkpoints"),
            t("DELETE FROM outbox"),
        ],
    )
    .await;
}

// ---------------------------------------------------------------------------------------
// Start-up privilege check
// ---------------------------------------------------------------------------------------

async fn check_as(h: &PgHarness, role: &str) -> Result<(), StoreError> {
    let opts = hallmark_store::postgres::app_options(PgHarness::role_options(&h.database, role));
    let pool = PgPoolOptions::new()
        .max_connections(1)
        .connect_with(opts)
        .await
        .unwrap();
    let r = check_app_role(&pool).await;
    pool.close().await;
    r
}

#[tokio::test]
async fn privilege_check_accepts_the_app_role() {
    let h = PgHarness::new().await;
    check_as(&h, &h.app_role).await.unwrap();
}

#[tokio::test]
async fn privilege_check_refuses_each_excess() {
    let h = PgHarness::new().await;
    let db = format!("\"{}\"", h.database);

    let r = h.extra_role("su", "SUPERUSER").await;
    assert!(
        matches!(check_as(&h, &r).await, Err(StoreError::Privilege(PrivilegeError::Superuser { role })) if role == r)
    );

    let r = h.extra_role("cr", "CREATEROLE").await;
    assert!(matches!(
        check_as(&h, &r).await,
        Err(StoreError::Privilege(PrivilegeError::CreateRole { .. }))
    ));

    // Member of the migration role: owns everything it owns.
    let r = h.extra_role("mem", "").await;
    h.admin_exec(&[format!("GRANT \"{}\" TO \"{r}\"", h.migration_role)])
        .await;
    assert_eq!(
        check_as(&h, &r).await,
        Err(StoreError::Privilege(PrivilegeError::OwnsDatabase {
            database: h.database.clone()
        }))
    );

    let r = h.extra_role("del", "").await;
    h.admin_exec(&[format!("GRANT DELETE ON hallmark.passports TO \"{r}\"")])
        .await;
    assert_eq!(
        check_as(&h, &r).await,
        Err(StoreError::Privilege(PrivilegeError::HasDelete {
            table: "passports".into()
        }))
    );

    let r = h.extra_role("tru", "").await;
    h.admin_exec(&[format!(
        "GRANT TRUNCATE ON hallmark.audit_events TO \"{r}\""
    )])
    .await;
    assert_eq!(
        check_as(&h, &r).await,
        Err(StoreError::Privilege(PrivilegeError::HasTruncate {
            table: "audit_events".into()
        }))
    );

    let r = h.extra_role("trg", "").await;
    h.admin_exec(&[format!(
        "GRANT TRIGGER ON hallmark.passport_versions TO \"{r}\""
    )])
    .await;
    assert_eq!(
        check_as(&h, &r).await,
        Err(StoreError::Privilege(PrivilegeError::HasTrigger {
            table: "passport_versions".into()
        }))
    );

    let r = h.extra_role("upd", "").await;
    h.admin_exec(&[format!(
        "GRANT UPDATE ON hallmark.passport_versions TO \"{r}\""
    )])
    .await;
    assert_eq!(
        check_as(&h, &r).await,
        Err(StoreError::Privilege(PrivilegeError::HasUpdate {
            table: "passport_versions".into()
        }))
    );

    let r = h.extra_role("crt", "").await;
    h.admin_exec(&[format!("GRANT CREATE ON SCHEMA hallmark TO \"{r}\"")])
        .await;
    assert_eq!(
        check_as(&h, &r).await,
        Err(StoreError::Privilege(PrivilegeError::CanCreateInSchema {
            schema: "hallmark".into()
        }))
    );

    let r = h.extra_role("tab", "").await;
    h.admin_exec(&[format!("ALTER TABLE hallmark.outbox OWNER TO \"{r}\"")])
        .await;
    assert_eq!(
        check_as(&h, &r).await,
        Err(StoreError::Privilege(PrivilegeError::OwnsTable {
            table: "outbox".into()
        }))
    );
    h.admin_exec(&[format!(
        "ALTER TABLE hallmark.outbox OWNER TO \"{}\"",
        h.migration_role
    )])
    .await;

    let r = h.extra_role("sch", "").await;
    h.admin_exec(&[format!("ALTER SCHEMA hallmark OWNER TO \"{r}\"")])
        .await;
    assert_eq!(
        check_as(&h, &r).await,
        Err(StoreError::Privilege(PrivilegeError::OwnsSchema {
            schema: "hallmark".into()
        }))
    );
    h.admin_exec(&[format!(
        "ALTER SCHEMA hallmark OWNER TO \"{}\"",
        h.migration_role
    )])
    .await;

    let r = h.extra_role("dbo", "").await;
    h.admin_exec(&[format!("ALTER DATABASE {db} OWNER TO \"{r}\"")])
        .await;
    assert_eq!(
        check_as(&h, &r).await,
        Err(StoreError::Privilege(PrivilegeError::OwnsDatabase {
            database: h.database.clone()
        }))
    );
    h.admin_exec(&[format!(
        "ALTER DATABASE {db} OWNER TO \"{}\"",
        h.migration_role
    )])
    .await;

    // The real app role is still fine, and the message names the problem.
    check_as(&h, &h.app_role).await.unwrap();
    let msg = PrivilegeError::HasDelete {
        table: "passports".into(),
    }
    .to_string();
    assert!(msg.contains("DELETE") && msg.contains("passports"), "{msg}");
}

#[tokio::test]
async fn node_refuses_to_start_with_the_migration_role_as_app() {
    let h = PgHarness::new().await;
    // Using the owner as the app role: refused at start-up, naming the problem.
    let e = PgStore::connect_with(PgHarness::role_options(&h.database, &h.migration_role), 2).await;
    assert!(
        matches!(
            e,
            Err(StoreError::Privilege(PrivilegeError::OwnsDatabase { .. }))
        ),
        "{e:?}"
    );
    // And with a superuser.
    let e = PgStore::connect_with(common::admin_options().database(&h.database), 2).await;
    assert!(
        matches!(
            e,
            Err(StoreError::Privilege(PrivilegeError::Superuser { .. }))
        ),
        "{e:?}"
    );
}

#[tokio::test]
async fn migrations_are_idempotent_and_concurrent_safe() {
    let h = PgHarness::new().await;
    let mig = PgHarness::role_options(&h.database, &h.migration_role);
    let mut tasks = Vec::new();
    for _ in 0..3 {
        let (mig, app) = (mig.clone(), h.app_role.clone());
        tasks.push(tokio::spawn(async move {
            hallmark_store::postgres::migrate(&mig, &app).await
        }));
    }
    for task in tasks {
        task.await.unwrap().unwrap();
    }
    let mut conn = h.migration_connection().await;
    let n: i64 = sqlx::query_scalar("SELECT count(*) FROM schema_migrations")
        .fetch_one(&mut conn)
        .await
        .unwrap();
    assert_eq!(n, hallmark_store::postgres::MIGRATIONS.len() as i64);
    conn.close().await.unwrap();
    // The migration connection is gone: only the app pool is connected.
    let mut admin = common::admin_connect(None).await;
    let mig_sessions: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM pg_stat_activity WHERE usename = $1 AND datname = $2",
    )
    .bind(&h.migration_role)
    .bind(&h.database)
    .fetch_one(&mut admin)
    .await
    .unwrap();
    assert_eq!(
        mig_sessions, 0,
        "the privileged connection is closed before serving"
    );
    admin.close().await.unwrap();
}

#[tokio::test]
async fn two_nodes_share_one_database() {
    let h = PgHarness::new().await;
    let (a, b, other) = two_nodes(&h).await;
    let mut tasks = Vec::new();
    for (i, s) in [a.clone(), b.clone(), a.clone(), b.clone()]
        .into_iter()
        .enumerate()
    {
        tasks.push(tokio::spawn(async move {
            for j in 0..10 {
                s.append_audit(audit((i * 100 + j) as i64, "tick"))
                    .await
                    .unwrap();
            }
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    let all = b.list_audit(1, 100).await.unwrap();
    assert_eq!(
        all.iter().map(|r| r.seq).collect::<Vec<_>>(),
        (1..=40).collect::<Vec<_>>()
    );
    other.close().await;
}

/// Superuser access with triggers bypassed (`session_replication_role = replica`).
struct PgTamper<'a>(&'a common::PgHarness);

#[async_trait::async_trait(?Send)]
impl common::suite::Tamper for PgTamper<'_> {
    async fn set_actor(&self, seq: u64, actor: &str) {
        self.0
            .admin_exec(&[format!(
                "SET session_replication_role = replica; \
                 UPDATE hallmark.audit_events SET actor = '{actor}' WHERE seq = {seq};"
            )])
            .await;
    }
    async fn set_leaf(&self, index: u64, hash: [u8; 32]) {
        let hex: String = hash.iter().map(|b| format!("{b:02x}")).collect();
        self.0
            .admin_exec(&[format!(
                "SET session_replication_role = replica; \
                 UPDATE hallmark.log_leaves SET leaf_hash = '\\x{hex}' WHERE leaf_index = {index};"
            )])
            .await;
    }
}

#[tokio::test]
async fn log_check_detects_tampering() {
    let h = common::PgHarness::new().await;
    let tamper = PgTamper(&h);
    common::suite::log_check_detects_tampering(Arc::new(h.store().clone()), &tamper).await;
}

/// Concurrent appends while a verifier keeps taking fresh checkpoints (like Rekor's
/// inclusion race test): every observed tree is consistent with the one before it, and
/// every leaf seen is provably included, although writers commit in any order.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_appends_stay_provable_and_consistent() {
    use hallmark_core::tlog::{self, CompactTree};
    let h = PgHarness::new().await;
    let store: Arc<dyn Store> = Arc::new(h.store().clone());
    let mut writers = Vec::new();
    for w in 0..4u64 {
        let s = store.clone();
        writers.push(tokio::spawn(async move {
            for i in 0..40u64 {
                s.append_audit(audit((w * 100 + i) as i64, "race.append"))
                    .await
                    .unwrap();
            }
        }));
    }
    let mut previous: Option<(u64, tlog::Hash)> = None;
    let mut observations = 0;
    loop {
        let done = writers.iter().all(|w| w.is_finished());
        let leaves = store.list_leaf_hashes(0, 10_000).await.unwrap();
        let tree = CompactTree::from_leaf_hashes(leaves.iter().copied());
        let (size, root) = (tree.size(), tree.root());
        // Every leaf seen is included in the fresh tree.
        for index in (0..size).step_by(7) {
            let proof = tree.inclusion_proof(index, size).unwrap();
            tlog::verify_inclusion(&leaves[index as usize], index, size, &proof, &root).unwrap();
        }
        // The fresh tree extends the previous one.
        if let Some((old_size, old_root)) = previous {
            assert!(size >= old_size, "log shrank from {old_size} to {size}");
            if old_size > 0 && size > old_size {
                let proof = tree.consistency_proof(old_size, size).unwrap();
                tlog::verify_consistency(old_size, size, &old_root, &root, &proof).unwrap();
            } else if size == old_size {
                assert_eq!(root, old_root);
            }
        }
        previous = Some((size, root));
        observations += 1;
        if done {
            break;
        }
    }
    for w in writers {
        w.await.unwrap();
    }
    let (size, _) = previous.unwrap();
    assert_eq!(size, 160);
    assert!(observations > 1);
    // And the stored leaves are exactly the audit events, in order.
    let events = store.list_audit(1, 1000).await.unwrap();
    let expected: Vec<_> = events.iter().map(|e| e.leaf_hash().unwrap()).collect();
    assert_eq!(store.list_leaf_hashes(0, 1000).await.unwrap(), expected);
}

/// Migration 0003: the large columns of drafts and versions are LZ4-compressed (this
/// server has LZ4), so publishing does not spend its CPU in pglz.
#[tokio::test]
async fn large_columns_use_lz4() {
    let h = PgHarness::new().await;
    let mut conn = h.migration_connection().await;
    let rows: Vec<(String, String, String)> = sqlx::query_as(
        "SELECT c.relname::text, a.attname::text, a.attcompression::text \
         FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid \
         JOIN pg_namespace n ON n.oid = c.relnamespace \
         WHERE n.nspname = 'hallmark' AND c.relname IN ('passport_drafts', 'passport_versions') \
           AND a.atttypid IN ('bytea'::regtype, 'text'::regtype) AND a.attnum > 0 \
           AND (a.attname = 'content' OR a.attname LIKE '%\\_di' OR a.attname LIKE '%\\_jwt')",
    )
    .fetch_all(&mut conn)
    .await
    .unwrap();
    assert_eq!(rows.len(), 8, "{rows:?}");
    for (table, column, compression) in rows {
        assert_eq!(compression, "l", "{table}.{column} is not LZ4");
    }
}

/// The pool does not ping a connection it hands out while the pool is busy, but checks one
/// that sat idle for a second or more: after the server drops every application connection,
/// the next read and write succeed on fresh ones.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connections_the_server_dropped_while_idle_are_replaced() {
    let h = PgHarness::new().await;
    let s = h.store();
    let p = s
        .create_draft(new_passport("04012345678901", "battery"), audit(0, "c"))
        .await
        .unwrap();
    s.get_passport(&p.id).await.unwrap();
    h.admin_exec(&[format!(
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = '{}'",
        h.app_role
    )])
    .await;
    tokio::time::sleep(std::time::Duration::from_millis(1_500)).await;
    assert_eq!(s.get_passport(&p.id).await.unwrap().id, p.id);
    s.publish(&p.id, new_version(1, 1), audit(1, "p"))
        .await
        .unwrap();
}
