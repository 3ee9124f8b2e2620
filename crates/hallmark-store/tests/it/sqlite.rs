//! SQLite backend: the conformance suite, then the attack suite (raw SQL through plain
//! connections must hit the schema's `RAISE(ABORT, …)` triggers).

use crate::common;
use crate::conformance_tests;

use std::sync::Arc;

use common::{audit, new_passport, new_version, SqliteHarness};
use hallmark_core::passport::{Granularity, PassportStatus};
use hallmark_store::sqlite::connect_options;
use hallmark_store::{NewApiKey, ProductKey, SqliteStore, StatusPurpose, Store, StoreError};
use hallmark_testkit::StoreTestExt;
use sqlx::sqlite::SqliteConnectOptions;
use sqlx::{Connection, SqliteConnection};

conformance_tests!(SqliteHarness::new());

// ---------------------------------------------------------------------------------------
// SQLite specifics
// ---------------------------------------------------------------------------------------

#[tokio::test]
async fn file_is_created_private_with_wal_and_reopens() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("sub.db");
    let store = SqliteStore::open(&path).await.unwrap();
    let p = store
        .create_draft(new_passport("04012345678901", "battery"), audit(0, "c"))
        .await
        .unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
    }
    let mut conn = SqliteConnection::connect_with(&connect_options(&path))
        .await
        .unwrap();
    let mode: String = sqlx::query_scalar("PRAGMA journal_mode")
        .fetch_one(&mut conn)
        .await
        .unwrap();
    assert_eq!(mode, "wal");
    conn.close().await.unwrap();
    store.close().await;
    // Reopen: migrations are not re-applied, data is there.
    let store = SqliteStore::open_url(&format!("sqlite://{}", path.display()))
        .await
        .unwrap();
    assert_eq!(store.get_passport(&p.id).await.unwrap(), p);
    let mut conn = SqliteConnection::connect_with(&connect_options(&path))
        .await
        .unwrap();
    let n: i64 = sqlx::query_scalar("SELECT count(*) FROM schema_migrations")
        .fetch_one(&mut conn)
        .await
        .unwrap();
    assert_eq!(n, hallmark_store::sqlite::MIGRATIONS.len() as i64);
}

// ---------------------------------------------------------------------------------------
// Attack suite
// ---------------------------------------------------------------------------------------

/// A store with: a published passport (v1, at status list position 42 of list 0, recorded in
/// the EU registry as `REG-P1`) with a pending v2 draft, a suspension list's version 1, an archived passport (no position), a
/// draft, a revoked API key; returns (harness, published, archived, draft).
struct Fixture {
    /// An active operator link and a removed one.
    link: String,
    removed_link: String,
    h: SqliteHarness,
    published: String,
    archived: String,
    /// A published passport created by an import, with the external reference `ERP-1`.
    imported: String,
    draft: String,
    /// Readers: (registered, approved — it used the nonce `used` —, revoked).
    readers: (String, String, String),
}

async fn fixture() -> Fixture {
    let h = SqliteHarness::new().await;
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
    s.start_version(&a.id, b"{}".to_vec(), None, audit(5, "r"))
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
    let uuid = |id: &hallmark_core::passport::PassportId| id.uuid().hyphenated().to_string();
    let link = s
        .add_link(
            common::new_link(common::model("04012345678901"), "instructions"),
            audit(11, "link.added"),
        )
        .await
        .unwrap();
    let removed_link = s
        .add_link(
            common::new_link(common::model("04012345678901"), "safetyInfo"),
            audit(12, "link.added"),
        )
        .await
        .unwrap();
    s.remove_link(&removed_link.id, "superseded", audit(13, "link.removed"))
        .await
        .unwrap();
    // The EU registry's registration of the published passport's version 1.
    s.record_registration(common::registration(p.id, 1, "REG-P1", 14))
        .await
        .unwrap();
    let readers = common::attack_readers(s).await;
    // A webhook subscription with a delivery of an outbox row (the row as the app would
    // write it; this fixture's store has no event source).
    let mut conn = plain(h.store().path(), true).await;
    sqlx::raw_sql(
        "INSERT INTO outbox (topic, payload, created_at) VALUES ('t', x'00', '2025-01-01');",
    )
    .execute(&mut conn)
    .await
    .unwrap();
    let last: i64 = sqlx::query_scalar("SELECT max(id) FROM outbox")
        .fetch_one(&mut conn)
        .await
        .unwrap();
    conn.close().await.unwrap();
    common::attack_webhook(s, u64::try_from(last).unwrap()).await;
    Fixture {
        readers,
        link: link.id,
        removed_link: removed_link.id,
        published: uuid(&p.id),
        archived: uuid(&a.id),
        imported,
        draft: uuid(&d.id),
        h,
    }
}

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

/// Every table's full contents, for "the data is unchanged" assertions.
async fn snapshot(conn: &mut SqliteConnection) -> Vec<String> {
    let mut out = Vec::new();
    for t in TABLES {
        let rows: Vec<String> = sqlx::query_scalar(&format!(
            "SELECT quote(json_array(*)) FROM (SELECT * FROM {t} ORDER BY 1, 2)"
        ))
        .fetch_all(&mut *conn)
        .await
        .unwrap_or_else(|e| panic!("{t}: {e}"));
        out.push(format!("{t}: {rows:?}"));
    }
    out
}

/// A plain connection: the file's defaults only (no recursive_triggers), optionally with
/// foreign keys off, as an attacker using the sqlite3 CLI would have.
async fn plain(path: &std::path::Path, foreign_keys: bool) -> SqliteConnection {
    SqliteConnection::connect_with(
        &SqliteConnectOptions::new()
            .filename(path)
            .foreign_keys(foreign_keys),
    )
    .await
    .unwrap()
}

fn expect_refused(
    result: Result<sqlx::sqlite::SqliteQueryResult, sqlx::Error>,
    sql: &str,
) -> StoreError {
    let err: StoreError = match result {
        Ok(r) => panic!("{sql} was accepted ({} rows)", r.rows_affected()),
        Err(e) => e.into(),
    };
    assert!(
        matches!(
            err,
            StoreError::ImmutableViolation(_)
                | StoreError::InvalidTransition { .. }
                | StoreError::Conflict(_)
        ),
        "{sql}: refused by something other than a hallmark trigger: {err:?}"
    );
    err
}

/// Runs each statement separately on a plain connection (with and without foreign
/// keys); each must be refused by a trigger and leave every table unchanged.
async fn attack(f: &Fixture, statements: &[String]) {
    let path = f.h.store().path().to_path_buf();
    for foreign_keys in [true, false] {
        let mut conn = plain(&path, foreign_keys).await;
        let before = snapshot(&mut conn).await;
        for sql in statements {
            let r = sqlx::raw_sql(sql).execute(&mut conn).await;
            expect_refused(r, sql);
            assert_eq!(snapshot(&mut conn).await, before, "{sql} changed data");
        }
        conn.close().await.unwrap();
    }
}

#[tokio::test]
async fn attack_update_published_version() {
    let f = fixture().await;
    let p = &f.published;
    attack(
        &f,
        &[
            format!("UPDATE passport_versions SET public_jwt = 'forged' WHERE passport_id = '{p}'"),
            format!("UPDATE passport_versions SET authority_di = x'00' WHERE passport_id = '{p}'"),
            format!("UPDATE passport_versions SET version = 7 WHERE passport_id = '{p}'"),
            "UPDATE passport_versions SET key_id = key_id".to_owned(),
            // Upsert and replace go through the same guards.
            format!(
                "INSERT INTO passport_versions SELECT passport_id, version, content, content_sha256, \
                 key_id, signed_at, x'00', public_jwt, legitimate_interest_di, legitimate_interest_jwt, \
                 authority_di, authority_jwt, created_at FROM passport_versions WHERE passport_id = '{p}' \
                 ON CONFLICT DO UPDATE SET public_di = excluded.public_di"
            ),
            format!(
                "INSERT OR REPLACE INTO passport_versions SELECT passport_id, version, content, \
                 content_sha256, key_id, signed_at, x'00', public_jwt, legitimate_interest_di, \
                 legitimate_interest_jwt, authority_di, authority_jwt, created_at \
                 FROM passport_versions WHERE passport_id = '{p}'"
            ),
            // The draft a published version came from is frozen too.
            format!("UPDATE passport_drafts SET content = x'00' WHERE passport_id = '{p}' AND version = 1"),
        ],
    )
    .await;
}

#[tokio::test]
async fn attack_delete_from_every_table() {
    let f = fixture().await;
    let statements: Vec<String> = TABLES
        .iter()
        .filter(|t| **t != "schema_migrations")
        .flat_map(|t| {
            [
                format!("DELETE FROM {t}"),
                format!("DELETE FROM {t} WHERE rowid IN (SELECT rowid FROM {t} LIMIT 1)"),
            ]
        })
        .filter(|s| {
            !s.contains("FROM signing_keys")
                && !s.contains("FROM log_leaves")
                && !s.contains("FROM checkpoints")
                && !s.contains("FROM outbox")
        })
        .collect();
    attack(&f, &statements).await;
    // Empty tables: seed one row each, then try again.
    let mut conn = plain(f.h.store().path(), true).await;
    sqlx::raw_sql(
        "INSERT INTO signing_keys VALUES ('k', 'passport-signing', 'file', 'z6Mk', 'current', '2025-01-01', NULL, NULL, NULL, NULL); \
         INSERT INTO checkpoints VALUES (1, zeroblob(32), 'note', '2025-01-01'); \
         INSERT INTO outbox (topic, payload, created_at) VALUES ('t', x'00', '2025-01-01');",
    )
    .execute(&mut conn)
    .await
    .unwrap();
    conn.close().await.unwrap();
    attack(
        &f,
        &["signing_keys", "log_leaves", "checkpoints", "outbox"]
            .iter()
            .map(|t| format!("DELETE FROM {t}"))
            .collect::<Vec<_>>(),
    )
    .await;
}

/// Operator links: a link never changes, a removal is final (no un-removal, no other
/// reason), a link is not added removed, nor replaced, nor deleted.
#[tokio::test]
async fn attack_product_links() {
    let f = fixture().await;
    let (l, r) = (&f.link, &f.removed_link);
    attack(
        &f,
        &[
            format!("UPDATE product_links SET href = 'https://evil.example/' WHERE id = '{l}'"),
            format!("UPDATE product_links SET link_type = 'https://ref.gs1.org/voc/dpp' WHERE id = '{l}'"),
            format!("UPDATE product_links SET tag = zeroblob(32) WHERE id = '{l}'"),
            format!("UPDATE product_links SET removed_at = NULL, removed_reason = NULL WHERE id = '{r}'"),
            format!("UPDATE product_links SET removed_reason = 'other' WHERE id = '{r}'"),
            format!(
                "INSERT INTO product_links VALUES ('{}', '04012345678901', 'model', NULL, NULL, \
                 'https://ref.gs1.org/voc/pip', 'https://evil.example/', 'x', NULL, '[]', '2025', '2025', 'x', NULL)",
                common::new_link_id()
            ),
            format!(
                "INSERT OR REPLACE INTO product_links SELECT id, gtin, granularity, lot, serial, \
                 link_type, 'https://evil.example/', title, media_type, hreflang, created_at, NULL, NULL, tag \
                 FROM product_links WHERE id = '{l}'"
            ),
            format!("DELETE FROM product_links WHERE id = '{r}'"),
        ],
    )
    .await;
}

#[tokio::test]
async fn attack_update_or_delete_audit() {
    let f = fixture().await;
    attack(
        &f,
        &[
            "UPDATE audit_events SET actor = 'someone-else' WHERE seq = 1".to_owned(),
            "UPDATE audit_events SET detail = '{}'".to_owned(),
            "DELETE FROM audit_events WHERE seq = 1".to_owned(),
            "INSERT OR REPLACE INTO audit_events (seq, at, actor, action, detail) \
             SELECT seq, at, 'x', 'x', '{}' FROM audit_events WHERE seq = (SELECT max(seq) FROM audit_events)"
                .to_owned(),
            // Forged or out-of-order sequence numbers; rewinding the head.
            "INSERT INTO audit_events (seq, at, actor, action, detail) VALUES (999, '2025', 'x', 'x', '{}')".to_owned(),
            "UPDATE audit_head SET next_seq = 1".to_owned(),
            "UPDATE audit_head SET next_seq = next_seq + 2".to_owned(),
            "INSERT INTO audit_head VALUES (2, 1)".to_owned(),
        ],
    )
    .await;
}

#[tokio::test]
async fn attack_status_backwards_and_out_of_terminal() {
    let f = fixture().await;
    let (p, a, d) = (&f.published, &f.archived, &f.draft);
    attack(
        &f,
        &[
            format!("UPDATE passports SET status = 'draft', published_at = NULL WHERE id = '{p}'"),
            format!("UPDATE passports SET status = 'published' WHERE id = '{a}'"),
            format!("UPDATE passports SET status = 'suspended' WHERE id = '{a}'"),
            format!("UPDATE passports SET status = 'deactivated' WHERE id = '{a}'"),
            format!("UPDATE passports SET updated_at = '2030-01-01' WHERE id = '{a}'"),
            format!("UPDATE passports SET status = 'suspended' WHERE id = '{d}'"),
            format!("UPDATE passports SET status = 'archived' WHERE id = '{d}'"),
            format!("UPDATE passports SET current_version = 0 WHERE id = '{p}'"),
            format!("UPDATE passports SET current_version = 2 WHERE id = '{p}'"),
            format!("UPDATE passports SET gtin = '09999999999999' WHERE id = '{p}'"),
            format!("UPDATE passports SET published_at = '2030-01-01' WHERE id = '{p}'"),
            format!("UPDATE passport_drafts SET content = x'00' WHERE passport_id = '{a}'"),
            format!(
                "INSERT OR REPLACE INTO passports (id, gtin, sector_id, economic_operator_id, status, \
                 current_version, created_at, updated_at) \
                 VALUES ('{a}', '04012345678902', 'battery', 'o', 'draft', 0, '2025', '2025')"
            ),
            "UPDATE api_keys SET revoked_at = NULL".to_owned(),
            "UPDATE api_keys SET scope = 'everything'".to_owned(),
            "INSERT OR REPLACE INTO api_keys (prefix, hash, scope, label, created_at) \
             VALUES ('hm_key1', zeroblob(32), 'admin', 'l', '2025')"
                .to_owned(),
        ],
    )
    .await;
}

#[tokio::test]
async fn attack_insert_versions_out_of_rule() {
    let f = fixture().await;
    let insert = |id: &str, version: u32| {
        format!(
            "INSERT INTO passport_versions VALUES ('{id}', {version}, x'00', zeroblob(32), 'k', '2025', \
             x'00', 'j', x'00', 'j', x'00', 'j', '2025')"
        )
    };
    attack(
        &f,
        &[
            insert(&f.archived, 2),  // terminal
            insert(&f.draft, 1),     // draft (not published)
            insert(&f.published, 3), // not current + 1
            insert(&f.published, 1), // existing
            insert(&f.published, 0),
            format!(
                "INSERT INTO passport_drafts (passport_id, version, content, created_at, updated_at) VALUES ('{}', 2, x'00', '2025', '2025')",
                f.archived
            ),
            format!(
                "INSERT INTO passport_drafts (passport_id, version, content, created_at, updated_at) VALUES ('{}', 5, x'00', '2025', '2025')",
                f.published
            ),
        ],
    )
    .await;
    // The store itself still works afterwards.
    let s = f.h.store();
    let id =
        hallmark_core::passport::PassportId::parse(&format!("urn:uuid:{}", f.published)).unwrap();
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

/// External references (issue 18), through plain connections: insert-only, given only with
/// a new passport of the same operator, unique per operator, never replaced.
#[tokio::test]
async fn attack_external_refs() {
    let f = fixture().await;
    let (a, d) = (&f.archived, &f.draft);
    let x = f.imported.clone();
    let insert = |or: &str, id: &str, operator: &str, reference: &str| {
        format!(
            "INSERT {or} INTO passport_external_refs VALUES ('{id}', '{operator}', '{reference}', '2025')"
        )
    };
    attack(
        &f,
        &[
            "UPDATE passport_external_refs SET external_ref = 'forged'".to_owned(),
            format!("UPDATE passport_external_refs SET passport_id = '{d}'"),
            "DELETE FROM passport_external_refs".to_owned(),
            insert("OR REPLACE", &x, "operator-1", "ERP-2"),
            insert("OR REPLACE", d, "operator-1", "ERP-1"),
            format!(
                "{} ON CONFLICT DO UPDATE SET external_ref = 'forged'",
                insert("", &x, "operator-1", "ERP-2")
            ),
            insert("", d, "operator-1", "ERP-1"),
            insert("", &x, "operator-1", "ERP-2"),
            insert("", a, "operator-1", "ERP-3"),
            insert("", d, "operator-2", "ERP-4"),
            format!(
                "UPDATE passport_drafts SET submission_sha256 = zeroblob(32) WHERE passport_id = '{x}'"
            ),
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
    let copy = |or: &str, version: &str, audit_seq: &str| {
        format!(
            "INSERT {or} INTO status_list_versions SELECT purpose, list, {version}, credential, \
             credential_jwt, encoded_list, valid_from, valid_until, {audit_seq}, created_at \
             FROM status_list_versions WHERE version = 1"
        )
    };
    attack(
        &f,
        &[
            // A position never moves, is never freed, is never taken twice.
            "UPDATE passport_status_indexes SET position = 43".to_owned(),
            format!("UPDATE passport_status_indexes SET passport_id = '{legacy}'"),
            "DELETE FROM passport_status_indexes".to_owned(),
            format!(
                "INSERT OR REPLACE INTO passport_status_indexes VALUES ('{id}', 0, 43, '2025')"
            ),
            format!(
                "INSERT OR REPLACE INTO passport_status_indexes VALUES ('{legacy}', 0, 42, '2025')"
            ),
            format!(
                "INSERT INTO passport_status_indexes VALUES ('{id}', 0, 43, '2025') \
                 ON CONFLICT DO UPDATE SET position = 43"
            ),
            format!("INSERT INTO passport_status_indexes VALUES ('{legacy}', 0, 42, '2025')"),
            // Taken at publication only: never for a draft or a terminal passport.
            format!("INSERT INTO passport_status_indexes VALUES ('{d}', 0, 7, '2025')"),
            format!("INSERT INTO passport_status_indexes VALUES ('{a}', 0, 7, '2025')"),
            // A list version is never changed, deleted or replaced.
            "UPDATE status_list_versions SET encoded_list = 'uforged'".to_owned(),
            "UPDATE status_list_versions SET version = 2".to_owned(),
            "DELETE FROM status_list_versions".to_owned(),
            copy("OR REPLACE", "version", "audit_seq"),
            format!(
                "{} ON CONFLICT DO UPDATE SET encoded_list = 'uforged'",
                copy("", "version", "audit_seq")
            ),
            // Not published by its own event: another action's event, or version 1's.
            copy("", "2", "1"),
            copy("", "2", "audit_seq"),
        ],
    )
    .await;
    // With an event of its own that the attacker wrote (the app can append audit events;
    // the node's leaf tag is what it cannot forge): each rule refuses on its own.
    let path = s.path().to_path_buf();
    for (event_version, row_version, purpose, refused_by) in [
        (3, 3, "suspension", "latest + 1"),
        (0, 0, "suspension", "latest + 1"),
        (2, 2, "revocation", "naming it"),
        (1, 2, "suspension", "naming it"),
    ] {
        let mut conn = plain(&path, true).await;
        let before = snapshot(&mut conn).await;
        let detail = format!(
            r#"{{"purpose":"{purpose}","list":0,"version":{event_version},"sha256":"00","jwtSha256":"00"}}"#
        );
        let sql = format!(
            "BEGIN; \
             UPDATE audit_head SET next_seq = next_seq + 1 WHERE id = 1; \
             INSERT INTO audit_events (seq, at, actor, action, detail) \
             SELECT next_seq - 1, '2025', 'x', 'status-list.published', '{detail}' FROM audit_head; \
             {};",
            copy("", &row_version.to_string(), "(SELECT max(seq) FROM audit_events)")
        );
        let r = sqlx::raw_sql(&sql).execute(&mut conn).await;
        let e = expect_refused(r, &sql);
        assert!(e.to_string().contains(refused_by), "{sql}: {e}");
        sqlx::raw_sql("ROLLBACK").execute(&mut conn).await.unwrap();
        assert_eq!(snapshot(&mut conn).await, before, "{sql} changed data");
        conn.close().await.unwrap();
    }
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
    // The fixture recorded REG-P1 for version 1 of the published passport.
    let s = f.h.store();
    let hex = |b: &[u8; 32]| hallmark_core::passport::Sha256Digest(*b).to_hex();
    let right = hex(&common::public_sha256(1));
    let copy = |or: &str, audit_seq: &str| {
        format!(
            "INSERT {or} INTO registry_registrations SELECT passport_id, version, \
             registration_id, proof, proof_media_type, dpp_sha256, {audit_seq}, recorded_at \
             FROM registry_registrations WHERE true"
        )
    };
    attack(
        &f,
        &[
            // A registration is never changed, deleted or replaced.
            "UPDATE registry_registrations SET registration_id = 'forged'".to_owned(),
            "UPDATE registry_registrations SET dpp_sha256 = zeroblob(32)".to_owned(),
            "DELETE FROM registry_registrations".to_owned(),
            copy("OR REPLACE", "audit_seq"),
            format!(
                "{} ON CONFLICT DO UPDATE SET registration_id = 'forged'",
                copy("", "audit_seq")
            ),
            // Not published by its own event: another action's event.
            format!(
                "INSERT INTO registry_registrations SELECT '{a}', 1, 'REG-X', proof, \
                 proof_media_type, dpp_sha256, 1, recorded_at FROM registry_registrations"
            ),
        ],
    )
    .await;
    // With a registry.recorded event the attacker wrote (the app can append audit events;
    // the node's leaf tag is what it cannot forge): each rule refuses on its own.
    let proof = hex(&sha2::Sha256::digest(b"p").into());
    let path = s.path().to_path_buf();
    for (passport, reg, dpp, event_passport, event_reg, event_dpp, refused_by) in [
        // The event names another id, another hash, or is another passport's.
        (a, "REG-X", &right, a, "REG-Y", &right, "naming it"),
        (
            a,
            "REG-X",
            &right,
            a,
            "REG-X",
            &"00".repeat(32),
            "naming it",
        ),
        (
            a,
            "REG-X",
            &"00".repeat(32),
            a,
            "REG-X",
            &right,
            "naming it",
        ),
        (a, "REG-X", &right, d, "REG-X", &right, "naming it"),
        // One row per version; a registration id names one version.
        (id, "REG-X", &right, id, "REG-X", &right, "never replaced"),
        (a, "REG-P1", &right, a, "REG-P1", &right, "never replaced"),
    ] {
        let mut conn = plain(&path, true).await;
        let before = snapshot(&mut conn).await;
        let sql = format!(
            "BEGIN; \
             UPDATE audit_head SET next_seq = next_seq + 1 WHERE id = 1; \
             INSERT INTO audit_events (seq, at, actor, action, passport_id, detail) \
             SELECT next_seq - 1, '2025', 'x', 'registry.recorded', '{event_passport}', \
             '{{\"version\":1,\"registrationId\":\"{event_reg}\",\"dppSha256\":\"{event_dpp}\",\"proofSha256\":\"{proof}\"}}' \
             FROM audit_head; \
             INSERT INTO registry_registrations VALUES ('{passport}', 1, '{reg}', x'70', \
             'text/plain', x'{dpp}', (SELECT max(seq) FROM audit_events), '2025');"
        );
        let r = sqlx::raw_sql(&sql).execute(&mut conn).await;
        let e = expect_refused(r, &sql);
        assert!(e.to_string().contains(refused_by), "{sql}: {e}");
        sqlx::raw_sql("ROLLBACK").execute(&mut conn).await.unwrap();
        assert_eq!(snapshot(&mut conn).await, before, "{sql} changed data");
        conn.close().await.unwrap();
    }
    // SQLite has no sha256(): a row whose event names its (wrong) hash is the store's to
    // refuse, before it writes — typed, with nothing written.
    let archived = hallmark_core::passport::PassportId::parse(&format!("urn:uuid:{a}")).unwrap();
    let len = s.audit_len().await.unwrap();
    let mut bad = common::registration(archived, 1, "REG-A1", 21);
    bad.dpp_sha256 = [0; 32];
    bad.event = bad.event(common::at(21), "x").unwrap();
    let e = s.record_registration(bad).await.unwrap_err();
    assert!(
        matches!(e, StoreError::RegistryHashMismatch { .. }),
        "{e:?}"
    );
    assert_eq!(s.audit_len().await.unwrap(), len);
    // The store's own writes still work.
    assert!(s
        .record_registration(common::registration(archived, 1, "REG-A1", 21))
        .await
        .unwrap()
        .created());
}

/// Webhook subscriptions: URL and types never change, the cursor only moves forward, the
/// delivery log is insert-only, nothing is deleted or replaced.
#[tokio::test]
async fn attack_webhooks() {
    let f = fixture().await;
    attack(
        &f,
        &[
            "UPDATE webhooks SET url = 'https://evil.example.com/h'".to_owned(),
            "UPDATE webhooks SET types = '[\"*\",\"x\"]'".to_owned(),
            "UPDATE webhooks SET cursor = 0".to_owned(),
            "INSERT OR REPLACE INTO webhooks SELECT id, 'https://evil.example.com/h', types, \
             'active', NULL, cursor, 0, next_attempt_at, created_at, changed_at FROM webhooks"
                .to_owned(),
            "INSERT INTO webhooks SELECT '0190c2f4-8d3e-7b1a-9c4d-2e5f6a7b8c9e', url, types, \
             'disabled', 'r', cursor, 0, next_attempt_at, created_at, changed_at FROM webhooks"
                .to_owned(),
            "UPDATE webhook_deliveries SET status_code = 204".to_owned(),
            "INSERT OR REPLACE INTO webhook_deliveries SELECT id, webhook_id, outbox_id, \
             attempt, at, 204, NULL, duration_ms FROM webhook_deliveries"
                .to_owned(),
            "DELETE FROM webhook_deliveries".to_owned(),
            "DELETE FROM webhooks".to_owned(),
            "DELETE FROM leases".to_owned(),
            "INSERT OR REPLACE INTO leases (name) VALUES ('webhooks')".to_owned(),
        ],
    )
    .await;
}

#[tokio::test]
async fn attack_readers() {
    let f = fixture().await;
    let (registered, approved, revoked) = f.readers.clone();
    let copy = |or: &str, status: &str| {
        format!(
            "INSERT {or} INTO readers SELECT id, ed25519, x25519, fingerprint, 'forged', \
             contact, purpose, '{status}', NULL, NULL, NULL, NULL, registered_at, changed_at \
             FROM readers WHERE id = '{registered}'"
        )
    };
    attack(
        &f,
        &[
            // Identity columns never change.
            format!("UPDATE readers SET organisation = 'forged' WHERE id = '{approved}'"),
            format!("UPDATE readers SET contact = 'forged' WHERE id = '{approved}'"),
            format!("UPDATE readers SET ed25519 = zeroblob(32) WHERE id = '{approved}'"),
            format!("UPDATE readers SET purpose = 'commission' WHERE id = '{approved}'"),
            "DELETE FROM readers".to_owned(),
            copy("OR REPLACE", "registered"),
            format!("{} ON CONFLICT DO UPDATE SET organisation = 'forged'", copy("", "registered")),
            // Status and grant: only the allowed transitions.
            format!("UPDATE readers SET status = 'approved' WHERE id = '{revoked}'"),
            format!("UPDATE readers SET status_reason = 'x' WHERE id = '{revoked}'"),
            format!("UPDATE readers SET status = 'registered' WHERE id = '{approved}'"),
            format!("UPDATE readers SET status = 'suspended', tier = 'authority' WHERE id = '{approved}'"),
            format!("UPDATE readers SET status = 'suspended' WHERE id = '{registered}'"),
            // A reader registers inert.
            format!(
                "INSERT INTO readers SELECT '00000000-0000-7000-8000-000000000000', \
                 randomblob(32), NULL, fingerprint, organisation, contact, purpose, \
                 'approved', tier, scope, expires_at, NULL, registered_at, changed_at \
                 FROM readers WHERE id = '{approved}'"
            ),
        ],
    )
    .await;
}

#[tokio::test]
async fn attack_request_nonces() {
    let f = fixture().await;
    let approved = f.readers.1.clone();
    attack(
        &f,
        &[
            "UPDATE request_nonces SET expires_at = '2020'".to_owned(),
            "UPDATE request_nonces SET nonce = 'fresh'".to_owned(),
            "DELETE FROM request_nonces".to_owned(),
            format!("INSERT OR REPLACE INTO request_nonces VALUES ('{approved}', 'used', '2030', '2020')"),
            format!(
                "INSERT INTO request_nonces VALUES ('{approved}', 'used', '2030', '2020') \
                 ON CONFLICT DO UPDATE SET expires_at = '2030'"
            ),
        ],
    )
    .await;
}

#[tokio::test]
async fn attack_store_api_cannot_bypass_either() {
    let f = fixture().await;
    let s: Arc<dyn Store> = Arc::new(f.h.store().clone());
    let id =
        hallmark_core::passport::PassportId::parse(&format!("urn:uuid:{}", f.archived)).unwrap();
    let e = s.resume(&id, audit(20, "r")).await;
    assert!(
        matches!(e, Err(StoreError::InvalidTransition { .. })),
        "{e:?}"
    );
}

struct SqliteTamper(std::path::PathBuf);

#[async_trait::async_trait(?Send)]
impl common::suite::Tamper for SqliteTamper {
    async fn set_actor(&self, seq: u64, actor: &str) {
        let mut c = plain(&self.0, false).await;
        sqlx::raw_sql(&format!(
            "DROP TRIGGER IF EXISTS audit_no_update; \
             UPDATE audit_events SET actor = '{actor}' WHERE seq = {seq};"
        ))
        .execute(&mut c)
        .await
        .unwrap();
    }
    async fn set_leaf(&self, index: u64, hash: [u8; 32]) {
        let mut c = plain(&self.0, false).await;
        sqlx::raw_sql(&format!(
            "DROP TRIGGER IF EXISTS log_leaves_no_update; \
             UPDATE log_leaves SET leaf_hash = X'{}' WHERE leaf_index = {index};",
            hex_upper(&hash)
        ))
        .execute(&mut c)
        .await
        .unwrap();
    }
}

fn hex_upper(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02X}")).collect()
}

#[tokio::test]
async fn log_check_detects_tampering() {
    let h = SqliteHarness::new().await;
    let tamper = SqliteTamper(h.store().path().to_path_buf());
    common::suite::log_check_detects_tampering(Arc::new(h.store().clone()), &tamper).await;
}

// ---------------------------------------------------------------------------------------
// Migration 0004: the product identifier of existing passports
// ---------------------------------------------------------------------------------------

/// A database at migration 0003 (before product identifiers had columns), as a node of
/// that release left it.
async fn database_before_0004(path: &std::path::Path) -> SqliteConnection {
    std::fs::File::create(path).unwrap();
    let mut conn = SqliteConnection::connect_with(&connect_options(path))
        .await
        .unwrap();
    sqlx::raw_sql(
        "CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, \
         applied_at TEXT NOT NULL) STRICT",
    )
    .execute(&mut conn)
    .await
    .unwrap();
    for (version, name, sql) in &hallmark_store::sqlite::MIGRATIONS[..3] {
        sqlx::raw_sql(sql).execute(&mut conn).await.unwrap();
        sqlx::query("INSERT INTO schema_migrations VALUES ($1, $2, '2026-01-01T00:00:00Z')")
            .bind(version)
            .bind(name)
            .execute(&mut conn)
            .await
            .unwrap();
    }
    conn
}

/// A passport row and its draft 1 written as the previous release wrote them; `then` are
/// statements (with `{id}`) run afterwards, e.g. to publish and archive it.
async fn legacy_passport(conn: &mut SqliteConnection, content: &str, then: &[&str]) -> String {
    let id = common::new_id().uuid().hyphenated().to_string();
    sqlx::query(
        "INSERT INTO passports (id, gtin, sector_id, economic_operator_id, status, \
         current_version, created_at, updated_at) \
         VALUES ($1, '09506000134352', 'battery', 'op', 'draft', 0, '2026-01-01T00:00:00Z', '2026-01-01T00:00:00Z')",
    )
    .bind(&id)
    .execute(&mut *conn)
    .await
    .unwrap();
    sqlx::query("INSERT INTO passport_drafts (passport_id, version, content, created_at, updated_at) VALUES ($1, 1, $2, '2026-01-01T00:00:00Z', '2026-01-01T00:00:00Z')")
        .bind(&id)
        .bind(content.as_bytes())
        .execute(&mut *conn)
        .await
        .unwrap();
    for sql in then {
        sqlx::raw_sql(&sql.replace("{id}", &id))
            .execute(&mut *conn)
            .await
            .unwrap();
    }
    id
}

const PUBLISH_AND_ARCHIVE: &[&str] = &[
    "UPDATE passports SET status = 'published', published_at = '2026-01-01T00:00:00Z' WHERE id = '{id}'",
    "INSERT INTO passport_versions SELECT passport_id, 1, content, zeroblob(32), 'k', '2026-01-01T00:00:00Z', \
     x'00', 'j', x'00', 'j', x'00', 'j', '2026-01-01T00:00:00Z' FROM passport_drafts WHERE passport_id = '{id}'",
    "UPDATE passports SET current_version = 1 WHERE id = '{id}'",
    "UPDATE passports SET status = 'archived' WHERE id = '{id}'",
];

fn content(granularity: &str, identifier: &str) -> String {
    format!(
        r#"{{"uniqueProductIdentifier":{{"gtin":"09506000134352",{identifier}}},"granularity":"{granularity}","data":{{}}}}"#
    )
}

fn parse(id: &str) -> hallmark_core::passport::PassportId {
    hallmark_core::passport::PassportId::parse(&format!("urn:uuid:{id}")).unwrap()
}

#[tokio::test]
async fn migration_0004_fills_in_existing_identifiers() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("old.db");
    let mut conn = database_before_0004(&path).await;
    let draft = legacy_passport(&mut conn, &content("item", r#""serial":"NC-0001""#), &[]).await;
    // Terminal rows too (their guard is set aside for the backfill only).
    let archived = legacy_passport(
        &mut conn,
        &content("batch", r#""lot":"L-7""#),
        PUBLISH_AND_ARCHIVE,
    )
    .await;
    let unreadable = legacy_passport(&mut conn, "{\"data\":{}}", &[]).await;
    conn.close().await.unwrap();

    let store = SqliteStore::open(&path).await.unwrap();
    let key = |g: Granularity, lot: Option<&str>, serial: Option<&str>| ProductKey {
        gtin: "09506000134352".into(),
        granularity: g,
        lot: lot.map(Into::into),
        serial: serial.map(Into::into),
    };
    let item = key(Granularity::Item, None, Some("NC-0001"));
    assert_eq!(
        store.get_passport(&parse(&draft)).await.unwrap().product,
        Some(item.clone())
    );
    assert_eq!(
        store.get_passport(&parse(&archived)).await.unwrap().product,
        Some(key(Granularity::Batch, Some("L-7"), None))
    );
    assert_eq!(
        store
            .get_passport(&parse(&unreadable))
            .await
            .unwrap()
            .product,
        None
    );
    // The filled-in identifiers are held: a second passport for either is refused.
    let e = store
        .create_draft(common::new_passport_for(item, "battery"), audit(0, "c"))
        .await
        .unwrap_err();
    assert!(
        matches!(&e, StoreError::IdentifierInUse { existing: Some(id), .. } if *id == parse(&draft)),
        "{e:?}"
    );
    // The terminal guard is back.
    let mut conn = SqliteConnection::connect_with(&connect_options(&path))
        .await
        .unwrap();
    let e = sqlx::raw_sql(&format!(
        "UPDATE passports SET status_reason = 'x' WHERE id = '{archived}'"
    ))
    .execute(&mut conn)
    .await
    .unwrap_err();
    assert!(e.to_string().contains("terminal"), "{e}");
}

#[tokio::test]
async fn migration_0004_refuses_duplicate_live_identifiers() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("old.db");
    let mut conn = database_before_0004(&path).await;
    let same = content("item", r#""serial":"NC-0001""#);
    legacy_passport(&mut conn, &same, &[]).await;
    legacy_passport(&mut conn, &same, &[]).await;
    conn.close().await.unwrap();
    let e = SqliteStore::open(&path).await.unwrap_err();
    assert!(
        matches!(&e, StoreError::Migration(m) if m.contains("deactivate all but one")),
        "{e:?}"
    );
}

// ---------------------------------------------------------------------------------------
// A log written before typed log events (tests/fixtures/log-f052a66, see its README)
// ---------------------------------------------------------------------------------------

const FIXTURE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/log-f052a66");

fn fixture_text(name: &str) -> String {
    std::fs::read_to_string(format!("{FIXTURE}/{name}"))
        .unwrap()
        .trim_end()
        .to_string()
}

/// Every leaf of a log the previous code wrote is recomputed, byte for byte, by core's
/// `LeafEvent` (the one leaf definition); the details verifiers read parse as their types
/// and serialise back to the stored JSON; `check_log` (with the log key) and
/// `check_integrity` (with the node's keys, from the fixture's throwaway node secret) find
/// nothing; and the credential the node served verifies as logged.
#[tokio::test]
async fn a_log_written_before_typed_events_recomputes_byte_for_byte_and_checks_clean() {
    use hallmark_core::integrity::IntegrityKeys;
    use hallmark_core::tlog::event::{
        Action, Detail, KeyAuthenticated, KeyRegistered, KeyStatusChanged, LeafEvent, Publication,
        StatusChanged,
    };
    use hallmark_core::tlog::evidence::decode_hash;
    use hallmark_core::tlog::{check_logged_credential, InclusionProof, VerifierKey};
    use hallmark_core::verify::Outcome;
    use hallmark_store::logcheck::{check_integrity, check_log};
    use hallmark_store::LeafCheck;
    use std::os::unix::fs::PermissionsExt;

    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("hallmark.db");
    std::fs::copy(format!("{FIXTURE}/hallmark.db"), &path).unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).unwrap();
    let store = SqliteStore::open(&path).await.unwrap();

    // The leaves, recomputed from the events, are the stored ones.
    let events = store.list_audit(1, 1000).await.unwrap();
    let stored = store.list_leaf_hashes(0, 1000).await.unwrap();
    assert_eq!((events.len(), stored.len()), (41, 41));
    let mut actions = std::collections::BTreeSet::new();
    for (record, stored) in events.iter().zip(&stored) {
        let e = &record.event;
        let leaf = LeafEvent::new(
            record.seq,
            e.at,
            &e.actor,
            &e.action,
            e.passport.as_ref(),
            e.subject.as_deref(),
            &e.detail,
        )
        .unwrap();
        assert_eq!(
            leaf.leaf_hash().unwrap(),
            *stored,
            "leaf {}",
            record.seq - 1
        );
        assert_eq!(record.leaf_hash().unwrap(), *stored);
        let bytes = leaf.leaf_bytes().unwrap();
        let read = LeafEvent::from_leaf(&bytes).unwrap();
        assert_eq!(read.leaf_bytes().unwrap(), bytes);
        // Every action the previous code wrote is an `Action`; the details verifiers read are
        // their types, and serialise back to exactly what was stored.
        let action = read
            .known_action()
            .unwrap_or_else(|| panic!("{}", e.action));
        actions.insert(action);
        let again = match action {
            Action::PassportPublished => {
                let d: Publication = read.detail_as().unwrap();
                assert!(d.credential_sha256.is_some());
                d.to_value()
            }
            Action::PassportSuspended
            | Action::PassportResumed
            | Action::PassportArchived
            | Action::PassportDeactivated => read.detail_as::<StatusChanged>().unwrap().to_value(),
            Action::SigningKeyRegistered => {
                let d: KeyRegistered = read.detail_as().unwrap();
                assert!(d.public_key_multibase.is_some());
                d.to_value()
            }
            Action::SigningKeyAuthenticated => {
                read.detail_as::<KeyAuthenticated>().unwrap().to_value()
            }
            Action::SigningKeyRetired | Action::SigningKeyRevoked => {
                read.detail_as::<KeyStatusChanged>().unwrap().to_value()
            }
            _ => Ok(e.detail.clone()),
        };
        assert_eq!(again.unwrap(), e.detail, "{}", e.action);
    }
    for a in [
        Action::PassportPublished,
        Action::PassportSuspended,
        Action::PassportResumed,
        Action::PassportArchived,
        Action::PassportDeactivated,
        Action::SigningKeyRegistered,
        Action::SigningKeyRetired,
        Action::SigningKeyRevoked,
        Action::ApiKeyCreated,
        Action::ApiKeyRevoked,
        Action::NodeStarted,
    ] {
        assert!(actions.contains(&a), "{a} not in the fixture");
    }

    // `hallmark log check`'s library functions report nothing.
    let vkey = VerifierKey::parse(&fixture_text("log-key.txt")).unwrap();
    let report = check_log(&store, Some(&vkey)).await.unwrap();
    assert_eq!(report.divergence, None);
    assert_eq!((report.leaves, report.checkpoints), (41, 19));
    let secret = decode_hash(&fixture_text("node-secret.txt")).unwrap();
    let keys = IntegrityKeys::derive(&secret).unwrap();
    let integrity = check_integrity(&store, &keys).await.unwrap();
    assert!(integrity.forgeries.is_empty(), "{:?}", integrity.forgeries);
    assert_eq!(
        (
            integrity.leaves,
            integrity.legacy_leaves,
            integrity.versions
        ),
        (41, 0, 4)
    );
    for leaf in store.list_leaves(0, 1000).await.unwrap() {
        assert_eq!(
            leaf.check(&keys),
            LeafCheck::Authentic,
            "leaf {}",
            leaf.index
        );
    }

    // The verifier: the credential the node served is in its signed log, and the leaf in
    // the served proof is the one recomputed now.
    let proof: InclusionProof =
        serde_json::from_str(&fixture_text("inclusion-proof.json")).unwrap();
    let credential = std::fs::read(format!("{FIXTURE}/passport.json")).unwrap();
    let checks = check_logged_credential(
        &credential,
        &format!("{}\n", fixture_text("checkpoint.txt")),
        &proof,
        &vkey,
    );
    assert!(
        checks.iter().all(|c| matches!(c.outcome, Outcome::Pass(_))),
        "{checks:?}"
    );
    let served = proof.leaf_bytes().unwrap().unwrap();
    let index = usize::try_from(proof.leaf_index).unwrap();
    assert_eq!(served, events[index].leaf_bytes().unwrap());
    store.close().await;
}
