//! The app role as an attacker (issue 13; docs/security.md, "The app role as an attacker").
//!
//! Each test runs a real node over real HTTP on its own PostgreSQL database with separate
//! migration and application roles, then attacks it with nothing but the **application
//! role's** credentials — what a leaked config file, an SQL injection or a compromised
//! replica host would give — and shows that the attack is refused, ignored or named:
//!
//! - a forged version signed by an inserted key, with its publish event and leaf: not
//!   served, does not verify through the live DID document, its leaf never signed over, and
//!   named by the integrity check; the log recovers through the quarantine procedure;
//! - an API key inserted as a row: refused;
//! - a key row revoked or altered behind the node's back: neither the DID document nor
//!   signing changes, and the row is reported;
//! - an unsigned checkpoint row: ignored (not obeyed), reported, and the log goes on;
//! - an event with a leaf that does not match it: never signed over; quarantined, the log
//!   goes on;
//! - an operator link: its target cannot be changed, the link not deleted nor its removal
//!   undone; a link row inserted without the node's tag is not served by the resolver.

use hallmark_testkit as kit;
use hallmark_testkit::pg;

use ed25519_dalek::SigningKey;
use hallmark_core::did::DidDocument;
use hallmark_core::keys::{public_key_multibase, KeyId};
use hallmark_core::passport::{Passport, PassportStatus};
use hallmark_core::tlog::{self, open_checkpoint};
use hallmark_node::apikey::{ApiKey, Scope};
use hallmark_store::logcheck::{check_integrity, Forgery};
use hallmark_store::{AuditEvent, AuditRecord, PgStore, QuarantineRecord, Store};
use hallmark_testkit::StoreTestExt;
use kit::Reply;
use kit::{until, Backend, Data, Node};
use serde_json::{json, Value};
use sqlx::{Connection, PgConnection};
use time::OffsetDateTime;

/// A node on PostgreSQL with one published passport.
async fn setup() -> (Data, Node, String) {
    let data = Data::new(Backend::Postgres).await;
    let n = data.start().await;
    let (id, _) = n.publish("ATTACK-1").await;
    n.checkpoint_covering_everything().await;
    (data, n, id)
}

fn db(data: &Data) -> &pg::PgDb {
    data.pg.as_ref().unwrap()
}

/// A connection as the application role, in the node's schema.
async fn app_role(data: &Data) -> PgConnection {
    let d = db(data);
    let mut c = PgConnection::connect_with(&d.options(&d.app_role))
        .await
        .unwrap();
    sqlx::raw_sql("SET search_path = hallmark")
        .execute(&mut c)
        .await
        .unwrap();
    c
}

/// The integrity check `hallmark log check --keystore` runs, with the node's custody.
async fn forgeries(data: &Data, store: &dyn Store) -> Vec<Forgery> {
    let keys = data.keystore().integrity_keys().unwrap();
    check_integrity(store, &keys).await.unwrap().forgeries
}

async fn did_document(n: &Node) -> DidDocument {
    let r = n.get("/.well-known/did.json").await;
    assert_eq!(r.status, 200);
    serde_json::from_slice(&r.body).unwrap()
}

async fn alarms(n: &Node) -> Value {
    n.get("/health").await.json()["integrityAlarms"].clone()
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Claims the next audit number and inserts an event and its leaf (hash as given, or the
/// event's true leaf hash), as the app role may. Returns the event's leaf index.
async fn insert_event(
    c: &mut PgConnection,
    passport: Option<&str>,
    action: &str,
    detail: Value,
    leaf_hash: Option<[u8; 32]>,
) -> u64 {
    let seq: i64 = sqlx::query_scalar(
        "UPDATE audit_head SET next_seq = next_seq + 1 WHERE id = 1 RETURNING next_seq - 1",
    )
    .fetch_one(&mut *c)
    .await
    .unwrap();
    // Microsecond precision, as stored.
    let now = OffsetDateTime::now_utc();
    let at = now.replace_nanosecond(now.microsecond() * 1_000).unwrap();
    let record = AuditRecord {
        seq: seq as u64,
        event: AuditEvent {
            at,
            actor: "admin".into(),
            action: action.into(),
            passport: passport.map(|p| {
                hallmark_core::passport::PassportId::parse(&format!("urn:uuid:{p}")).unwrap()
            }),
            subject: None,
            detail: detail.clone(),
        },
    };
    let hash = leaf_hash.unwrap_or_else(|| record.leaf_hash().unwrap());
    sqlx::query(
        "INSERT INTO audit_events (seq, at, actor, action, passport_id, subject, detail) \
         VALUES ($1, $2, 'admin', $3, $4, NULL, $5)",
    )
    .bind(seq)
    .bind(at)
    .bind(action)
    .bind(passport)
    .bind(serde_json::to_string(&detail).unwrap())
    .execute(&mut *c)
    .await
    .unwrap();
    sqlx::query(
        "INSERT INTO log_leaves (leaf_index, leaf_hash, audit_seq, created_at) \
         VALUES ($1, $2, $3, now())",
    )
    .bind(seq - 1)
    .bind(hash.to_vec())
    .bind(seq)
    .execute(&mut *c)
    .await
    .unwrap();
    (seq - 1) as u64
}

/// The operator's procedure (docs/transparency-log.md): quarantine the leaf under the
/// migration role, as `hallmark log quarantine` does.
async fn quarantine(data: &Data, index: u64, leaf_hash: [u8; 32]) {
    let d = db(data);
    let owner = PgStore::connect_privileged(d.options(&d.migration_role))
        .await
        .unwrap();
    owner
        .quarantine_leaf(QuarantineRecord {
            leaf_index: index,
            leaf_hash,
            reason: "inserted with the app role's credentials (incident 42)".into(),
            created_at: OffsetDateTime::now_utc(),
        })
        .await
        .unwrap();
}

/// The node's log status and checkpoint size from `/health`.
async fn log_health(n: &Node) -> (String, u64) {
    let h = n.get("/health").await.json();
    (
        h["log"].as_str().unwrap().to_string(),
        h["logCheckpointSize"].as_u64().unwrap_or(0),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_forged_version_with_an_inserted_key_is_not_served_not_signed_over_and_named() {
    let (data, n, id) = setup().await;
    let store = n.app().store.clone();
    let v1 = store
        .get_version(
            &hallmark_core::passport::PassportId::parse(&format!("urn:uuid:{id}")).unwrap(),
            Some(1),
        )
        .await
        .unwrap();

    // The attacker's key, and version 2 with changed data, signed with it.
    let attacker = SigningKey::from_bytes(&[66; 32]);
    let attacker_mb = public_key_multibase(&attacker.verifying_key());
    let attacker_id = KeyId::of(&attacker.verifying_key()).as_str().to_string();
    let mut passport = Passport::from_json_slice(&v1.content).unwrap();
    passport.version = 2;
    passport.status = PassportStatus::Published;
    passport.data["carbonFootprintForBatteries"]["batteryCarbonFootprint"] = json!(0.01);
    let now = OffsetDateTime::now_utc();
    let validated = n.app().registry.validate(passport.clone()).unwrap();
    let issued = n
        .app()
        .issuer
        .issue_all(&validated, None, &attacker, now)
        .unwrap();
    let forged_public = issued.public.data_integrity.clone();
    // It fully verifies against a DID document that lists the attacker's key…
    let forged_doc = DidDocument::build(
        &n.app().issuer.did,
        &[hallmark_core::did::PublishedKey {
            public_key: attacker.verifying_key(),
            status: hallmark_core::did::KeyStatus::Retired,
        }],
    );
    assert!(hallmark_core::verify::verify(&forged_public, &forged_doc).is_valid());

    // One transaction as the app role: key row, draft, version, current_version, publish
    // event and its leaf — everything the issue's attacker did.
    let mut c = app_role(&data).await;
    sqlx::raw_sql("BEGIN").execute(&mut c).await.unwrap();
    sqlx::query(
        "INSERT INTO signing_keys (key_id, purpose, backend, public_key_multibase, status, \
         created_at) VALUES ($1, 'passport-signing', 'file', $2, 'retired', now())",
    )
    .bind(&attacker_id)
    .bind(&attacker_mb)
    .execute(&mut c)
    .await
    .unwrap();
    let content = serde_json::to_vec(&passport).unwrap();
    sqlx::query("INSERT INTO passport_drafts VALUES ($1, 2, $2, now(), now())")
        .bind(&id)
        .bind(&content)
        .execute(&mut c)
        .await
        .unwrap();
    sqlx::query(
        "INSERT INTO passport_versions (passport_id, version, content, content_sha256, key_id, \
         signed_at, public_di, public_jwt, legitimate_interest_di, legitimate_interest_jwt, \
         authority_di, authority_jwt, created_at) \
         VALUES ($1, 2, $2, sha256($2), $3, now(), $4, $5, $6, $7, $8, $9, now())",
    )
    .bind(&id)
    .bind(&content)
    .bind(&attacker_id)
    .bind(&issued.public.data_integrity)
    .bind(&issued.public.jwt)
    .bind(&issued.legitimate_interest.data_integrity)
    .bind(&issued.legitimate_interest.jwt)
    .bind(&issued.authority.data_integrity)
    .bind(&issued.authority.jwt)
    .execute(&mut c)
    .await
    .unwrap();
    sqlx::query("UPDATE passports SET current_version = 2, updated_at = now() WHERE id = $1")
        .bind(&id)
        .execute(&mut c)
        .await
        .unwrap();
    let detail = json!({
        "version": 2,
        "keyId": attacker_id,
        "credentialSha256": {
            "public": hex(&issued.public.sha256),
            "legitimateInterest": hex(&issued.legitimate_interest.sha256),
            "authority": hex(&issued.authority.sha256),
        },
    });
    let forged_leaf = insert_event(&mut c, Some(&id), "passport.published", detail, None).await;
    sqlx::raw_sql("COMMIT").execute(&mut c).await.unwrap();
    c.close().await.unwrap();
    // The inserted rows are there (the database accepted them: only the node can tell).
    assert_eq!(store.audit_len().await.unwrap(), forged_leaf + 1);

    // The forged version is not served: current and by number, either form.
    n.app().passport_states.clear();
    for path in [
        format!("/passports/{id}"),
        format!("/passports/{id}/versions/2"),
    ] {
        let r = n.get(&path).await;
        r.problem(500, "internal");
        assert!(!String::from_utf8_lossy(&r.body).contains("0.01"));
    }
    // Version 1 is still served.
    assert_eq!(
        n.get(&format!("/passports/{id}/versions/1")).await.status,
        200
    );
    // The live DID document does not list the inserted key: the forgery does not verify.
    let live = did_document(&n).await;
    assert!(!serde_json::to_string(&live).unwrap().contains(&attacker_mb));
    let report = hallmark_core::verify::verify(&forged_public, &live);
    assert!(!report.is_valid());
    // Reported: the key row and the withheld version.
    let a = alarms(&n).await;
    assert!(a["unauthenticatedKeyRows"].as_u64().unwrap() >= 1, "{a}");
    assert!(a["withheldVersions"].as_u64().unwrap() >= 1, "{a}");

    // The forged leaf is never signed over, even as the node keeps writing.
    until("the log to stop before the forged leaf", || async {
        (log_health(&n).await.0 == "blocked").then_some(())
    })
    .await;
    n.publish("ATTACK-2").await;
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    let (status, size) = log_health(&n).await;
    assert_eq!(status, "blocked");
    assert!(
        size <= forged_leaf,
        "a checkpoint of size {size} covers leaf {forged_leaf}"
    );
    let stored = store.latest_checkpoint().await.unwrap().unwrap();
    assert!(stored.tree_size <= forged_leaf);
    assert!(alarms(&n).await["unauthenticatedLeaves"].as_u64().unwrap() >= 1);

    // The integrity check names each forgery.
    let found = forgeries(&data, store.as_ref()).await;
    let named = |f: &dyn Fn(&Forgery) -> bool| found.iter().any(f);
    assert!(
        named(
            &|f| matches!(f, Forgery::ForgedLeaf { index, quarantined: false, .. } if *index == forged_leaf)
        ),
        "{found:?}"
    );
    assert!(
        named(
            &|f| matches!(f, Forgery::ForgedVersion { passport, version: 2, .. } if *passport == format!("urn:uuid:{id}") || passport.ends_with(&id))
        ),
        "{found:?}"
    );
    assert!(
        named(
            &|f| matches!(f, Forgery::UnauthenticatedKeyRow { key_id, .. } if *key_id == attacker_id)
        ),
        "{found:?}"
    );
    assert!(
        named(&|f| matches!(f, Forgery::ForeignKey { key_id, .. } if *key_id == attacker_id)),
        "{found:?}"
    );

    // The app role cannot quarantine; the operator can, and the log goes on.
    let mut c = app_role(&data).await;
    let refused =
        sqlx::query("INSERT INTO log_quarantine VALUES ($1, sha256('\\x00'), 'x', now())")
            .bind(forged_leaf as i64)
            .execute(&mut c)
            .await;
    assert!(refused.is_err(), "the app role quarantined a leaf");
    c.close().await.unwrap();
    let hash = store.list_leaves(forged_leaf, 1).await.unwrap()[0].leaf_hash;
    quarantine(&data, forged_leaf, hash).await;
    until("the log to continue past the quarantined leaf", || async {
        let (status, size) = log_health(&n).await;
        (status == "ok" && size > forged_leaf + 1).then_some(())
    })
    .await;
    let note = n.checkpoint_covering_everything().await;
    let vkey = n.log_key().await;
    assert!(open_checkpoint(&note, &vkey).unwrap().size > forged_leaf);
    // The quarantine is itself a leaf, naming the leaf and its hash.
    let events = store.list_audit(forged_leaf + 2, 100).await.unwrap();
    let q = events
        .iter()
        .find(|e| e.event.action == "log.leaf-quarantined")
        .expect("the quarantine is recorded in the log");
    assert_eq!(q.event.detail["leafIndex"], forged_leaf);
    assert_eq!(q.event.detail["leafHash"], hex(&hash));
    // The check still names the forged leaf, now as quarantined, and the forged version.
    let found = forgeries(&data, store.as_ref()).await;
    assert!(found.iter().any(
        |f| matches!(f, Forgery::ForgedLeaf { index, quarantined: true, .. } if *index == forged_leaf)
    ));
    n.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_api_key_inserted_as_a_row_is_refused() {
    let (data, n, _) = setup().await;
    let store = n.app().store.clone();
    // A well-formed admin key the attacker made up, stored under the hash they can compute.
    let key = ApiKey::generate_os(Scope::Admin).unwrap();
    let mut c = app_role(&data).await;
    // A legacy (unkeyed) row cannot be inserted at all…
    let legacy = sqlx::query(
        "INSERT INTO api_keys (prefix, hash, hash_scheme, scope, label, created_at) \
         VALUES ($1, $2, 'sha256', 'admin', 'x', now())",
    )
    .bind(key.lookup_id())
    .bind(key.hash().as_bytes().to_vec())
    .execute(&mut c)
    .await;
    assert!(legacy.is_err(), "a legacy-hash row was inserted");
    // …and a row under any hash the attacker can compute is useless.
    sqlx::query(
        "INSERT INTO api_keys (prefix, hash, scope, label, created_at) \
         VALUES ($1, $2, 'admin', 'x', now())",
    )
    .bind(key.lookup_id())
    .bind(key.hash().as_bytes().to_vec())
    .execute(&mut c)
    .await
    .unwrap();
    // Nor can an existing key's hash be replaced.
    let keys = store.list_api_keys().await.unwrap();
    assert!(keys.is_empty() || keys.iter().all(|k| k.prefix == key.lookup_id()));
    let replaced = sqlx::query("UPDATE api_keys SET hash = sha256('\\x01') WHERE prefix = $1")
        .bind(key.lookup_id())
        .execute(&mut c)
        .await;
    assert!(replaced.is_err(), "a keyed hash was replaced");
    c.close().await.unwrap();

    let r = kit::client()
        .get(format!("{}/api/v1/whoami", n.admin))
        .bearer_auth(key.expose_secret())
        .send()
        .await
        .unwrap();
    Reply::from(r).await.problem(401, "unauthorized");
    let found = forgeries(&data, store.as_ref()).await;
    assert!(found.iter().any(
        |f| matches!(f, Forgery::UnauthenticatedApiKey { prefix } if prefix == key.lookup_id())
    ));
    // A key the node minted works (the keyed hash is what the node compares).
    let r = kit::client()
        .post(format!("{}/api/v1/api-keys", n.admin))
        .header("authorization", kit::basic())
        .header("content-type", "application/json")
        .body(json!({ "scope": "read", "label": "genuine" }).to_string())
        .send()
        .await
        .unwrap();
    let r = Reply::from(r).await;
    assert_eq!(r.status, 201, "{}", String::from_utf8_lossy(&r.body));
    let genuine = r.json()["key"].as_str().unwrap().to_string();
    let r = kit::client()
        .get(format!("{}/api/v1/whoami", n.admin))
        .bearer_auth(&genuine)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    n.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_key_row_revoked_behind_the_nodes_back_changes_neither_did_document_nor_signing() {
    let (data, n, _) = setup().await;
    let store = n.app().store.clone();
    let before = did_document(&n).await;
    let current = store
        .list_signing_keys()
        .await
        .unwrap()
        .into_iter()
        .find(|k| k.purpose == "passport-signing" && k.status.as_str() == "current")
        .unwrap();
    let mut c = app_role(&data).await;
    sqlx::query(
        "UPDATE signing_keys SET status = 'revoked', revoked_at = now(), \
         revocation_reason = 'silent' WHERE key_id = $1",
    )
    .bind(&current.key_id)
    .execute(&mut c)
    .await
    .unwrap();
    c.close().await.unwrap();
    // After the DID document's cache lifetime, it is rebuilt: unchanged.
    tokio::time::sleep(std::time::Duration::from_millis(1_200)).await;
    assert_eq!(did_document(&n).await, before);
    // The node still publishes with its key, and the new passport verifies through the
    // live DID document.
    let (id, _) = n.publish("ATTACK-3").await;
    let cred = n.get(&format!("/passports/{id}")).await;
    assert_eq!(cred.status, 200);
    assert!(hallmark_core::verify::verify(&cred.body, &did_document(&n).await).is_valid());
    // Reported, and named by the check.
    assert!(alarms(&n).await["unauthenticatedKeyRows"].as_u64().unwrap() >= 1);
    let found = forgeries(&data, store.as_ref()).await;
    assert!(found.iter().any(
        |f| matches!(f, Forgery::UnauthenticatedKeyRow { key_id, .. } if *key_id == current.key_id)
    ), "{found:?}");
    n.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unsigned_checkpoint_row_is_ignored_and_the_log_goes_on() {
    let (data, n, _) = setup().await;
    let vkey = n.log_key().await;
    n.stop().await;
    // One authentic leaf beyond the last checkpoint, written while the node is down.
    let store = data.store().await;
    store.set_integrity(std::sync::Arc::new(
        data.keystore().integrity_keys().unwrap(),
    ));
    store
        .append_audit(AuditEvent::new(
            OffsetDateTime::now_utc(),
            "operator",
            "node.maintenance",
        ))
        .await
        .unwrap();
    let leaves = store.audit_len().await.unwrap() as i64;

    let mut c = app_role(&data).await;
    // Beyond the log: refused by the database (such a row would block every checkpoint).
    let huge = sqlx::query(
        "INSERT INTO checkpoints VALUES (4611686018427387904, sha256('\\x00'), 'bogus', now())",
    )
    .execute(&mut c)
    .await;
    assert!(huge.is_err(), "a checkpoint beyond the log was stored");
    // Within the log, not signed by the node: stored, and on top.
    sqlx::query(
        "INSERT INTO checkpoints VALUES ($1, sha256('\\x00'), \
         'localhost:8080/log\n1\nAAAA\n\n— localhost:8080/log AAAAAAAA\n', now())",
    )
    .bind(leaves)
    .execute(&mut c)
    .await
    .unwrap();
    c.close().await.unwrap();
    assert_eq!(
        store.latest_checkpoint().await.unwrap().unwrap().tree_size,
        leaves as u64
    );

    // Restarted, the node ignores it, reports it, and signs on above it.
    let n = data.start().await;
    until("the ignored checkpoint to be reported", || async {
        (alarms(&n).await["ignoredCheckpoints"].as_u64().unwrap() >= 1).then_some(())
    })
    .await;
    n.publish("ATTACK-4").await;
    let note = n.checkpoint_covering_everything().await;
    let cp = open_checkpoint(&note, &vkey).unwrap();
    assert!(cp.size > leaves as u64);
    assert_eq!(log_health(&n).await.0, "ok");
    // The newest stored checkpoint is the node's again.
    let newest = n.app().store.latest_checkpoint().await.unwrap().unwrap();
    assert!(newest.tree_size > leaves as u64);
    assert!(tlog::open_checkpoint(&newest.note, &vkey).is_ok());
    // `hallmark log check --log-key` names the row.
    let report = hallmark_store::logcheck::check_log(n.app().store.as_ref(), Some(&vkey))
        .await
        .unwrap();
    assert!(
        matches!(
            report.divergence,
            Some(
                hallmark_store::logcheck::Divergence::CheckpointNote { size, .. }
                | hallmark_store::logcheck::Divergence::CheckpointRoot { size }
            ) if size == leaves as u64
        ),
        "{report:?}"
    );
    n.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_event_whose_leaf_does_not_match_is_never_signed_over_until_quarantined() {
    let (data, n, _) = setup().await;
    let store = n.app().store.clone();
    let mut c = app_role(&data).await;
    sqlx::raw_sql("BEGIN").execute(&mut c).await.unwrap();
    let bad = insert_event(
        &mut c,
        None,
        "node.started",
        json!({ "forged": true }),
        Some([7; 32]),
    )
    .await;
    sqlx::raw_sql("COMMIT").execute(&mut c).await.unwrap();
    c.close().await.unwrap();
    until("the log to stop before the mismatched leaf", || async {
        (log_health(&n).await.0 == "blocked").then_some(())
    })
    .await;
    n.publish("ATTACK-5").await;
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    assert!(log_health(&n).await.1 <= bad);
    // Entries beyond it are not served either.
    let r = n.get(&format!("/log/entries/{bad}")).await;
    assert_ne!(r.status, 200);
    let found = forgeries(&data, store.as_ref()).await;
    assert!(found.iter().any(|f| matches!(
        f,
        Forgery::ForgedLeaf { index, reason, .. } if *index == bad && reason.contains("does not match")
    )), "{found:?}");
    quarantine(&data, bad, [7; 32]).await;
    until("the log to continue", || async {
        let (status, size) = log_health(&n).await;
        (status == "ok" && size > bad + 1).then_some(())
    })
    .await;
    n.checkpoint_covering_everything().await;
    n.stop().await;
}

/// The upgrade path: a key stored before keyed hashes (as the migration leaves it, written
/// here by a superuser with the guards off) keeps working, and its first use rehashes it,
/// once and audited; afterwards only the keyed hash is stored and it still works.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_key_stored_under_the_legacy_hash_keeps_working_and_is_rehashed_on_first_use() {
    let (data, n, _) = setup().await;
    let store = n.app().store.clone();
    let key = ApiKey::generate_os(Scope::Read).unwrap();
    let d = db(&data);
    let mut su = PgConnection::connect_with(&pg::admin_options().database(&d.database))
        .await
        .unwrap();
    sqlx::raw_sql(&format!(
        "SET session_replication_role = replica; \
         INSERT INTO hallmark.api_keys (prefix, hash, hash_scheme, scope, label, created_at) \
         VALUES ('{}', '\\x{}', 'sha256', 'read', 'from before', now());",
        key.lookup_id(),
        key.hash().to_hex()
    ))
    .execute(&mut su)
    .await
    .unwrap();
    su.close().await.unwrap();
    let whoami = || async {
        kit::client()
            .get(format!("{}/api/v1/whoami", n.admin))
            .bearer_auth(key.expose_secret())
            .send()
            .await
            .unwrap()
            .status()
    };
    assert_eq!(whoami().await, 200);
    let row = until("the rehash", || async {
        let row = store.find_api_key(key.lookup_id()).await.unwrap().unwrap();
        (row.hash_scheme == hallmark_store::ApiKeyHashScheme::HmacSha256).then_some(row)
    })
    .await;
    assert_ne!(row.hash, key.hash().as_bytes().to_vec());
    let keys = data.keystore().integrity_keys().unwrap();
    assert_eq!(row.hash, key.keyed_hash(&keys).as_bytes().to_vec());
    let events = store.list_audit(1, 1_000).await.unwrap();
    let rehashed: Vec<_> = events
        .iter()
        .filter(|e| e.event.action == "api-key.rehashed")
        .collect();
    assert_eq!(rehashed.len(), 1);
    assert_eq!(rehashed[0].event.subject.as_deref(), Some(key.lookup_id()));
    // Past the key cache's lifetime, by the keyed hash.
    tokio::time::sleep(std::time::Duration::from_millis(1_200)).await;
    assert_eq!(whoami().await, 200);
    // The database refuses a second hash change.
    let mut c = app_role(&data).await;
    let again = sqlx::query(
        "UPDATE api_keys SET hash = sha256('\\x02'), hash_scheme = 'hmac-sha256' WHERE prefix = $1",
    )
    .bind(key.lookup_id())
    .execute(&mut c)
    .await;
    assert!(again.is_err());
    c.close().await.unwrap();
    n.stop().await;
}

/// A genuine, node-signed credential copied into another passport's version row verifies —
/// but it is not the credential of that version, so it is not served there.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_genuine_credential_copied_to_another_passport_is_not_served() {
    let (data, n, a) = setup().await;
    let (b, _) = n.publish("ATTACK-6").await;
    let store = n.app().store.clone();
    let pid =
        |s: &str| hallmark_core::passport::PassportId::parse(&format!("urn:uuid:{s}")).unwrap();
    let genuine = store.get_version(&pid(&a), Some(1)).await.unwrap();
    let b1 = store.get_version(&pid(&b), Some(1)).await.unwrap();
    let c = &genuine.credentials;
    let mut conn = app_role(&data).await;
    sqlx::raw_sql("BEGIN").execute(&mut conn).await.unwrap();
    sqlx::query("INSERT INTO passport_drafts VALUES ($1, 2, $2, now(), now())")
        .bind(&b)
        .bind(&b1.content)
        .execute(&mut conn)
        .await
        .unwrap();
    sqlx::query(
        "INSERT INTO passport_versions (passport_id, version, content, content_sha256, key_id, \
         signed_at, public_di, public_jwt, legitimate_interest_di, legitimate_interest_jwt, \
         authority_di, authority_jwt, created_at) \
         VALUES ($1, 2, $2, sha256($2), $3, now(), $4, $5, $6, $7, $8, $9, now())",
    )
    .bind(&b)
    .bind(&b1.content)
    .bind(&genuine.key_id)
    .bind(&c.public.data_integrity)
    .bind(&c.public.jwt)
    .bind(&c.legitimate_interest.data_integrity)
    .bind(&c.legitimate_interest.jwt)
    .bind(&c.authority.data_integrity)
    .bind(&c.authority.jwt)
    .execute(&mut conn)
    .await
    .unwrap();
    sqlx::query("UPDATE passports SET current_version = 2, updated_at = now() WHERE id = $1")
        .bind(&b)
        .execute(&mut conn)
        .await
        .unwrap();
    sqlx::raw_sql("COMMIT").execute(&mut conn).await.unwrap();
    conn.close().await.unwrap();
    // The bytes verify through the live DID document (the node signed them)…
    assert!(
        hallmark_core::verify::verify(&c.public.data_integrity, &did_document(&n).await).is_valid()
    );
    // …but they are A's credential: not served as B's.
    n.app().passport_states.clear();
    n.get(&format!("/passports/{b}"))
        .await
        .problem(500, "internal");
    let jwt = kit::client()
        .get(format!("{}/passports/{b}/versions/2", n.public))
        .header("accept", "application/vc+jwt")
        .send()
        .await
        .unwrap();
    assert_eq!(jwt.status(), 500);
    assert_eq!(
        n.get(&format!("/passports/{b}/versions/1")).await.status,
        200
    );
    assert_eq!(n.get(&format!("/passports/{a}")).await.status, 200);
    assert!(alarms(&n).await["withheldVersions"].as_u64().unwrap() >= 1);
    let found = forgeries(&data, store.as_ref()).await;
    assert!(found.iter().any(
        |f| matches!(f, Forgery::ForgedVersion { version: 2, passport, .. } if passport.ends_with(&b))
    ), "{found:?}");
    n.stop().await;
}

/// The upgrade path: a database written before row authentication (no tags; the migration
/// set `log_integrity` to its leaf count — simulated here by a superuser removing the tags)
/// is adopted without a single alarm: old leaves are trusted through the checkpoints over
/// them, the key rows custody agrees with are tagged (`signing-key.authenticated`), and
/// the log goes on.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_store_from_before_row_authentication_is_adopted_without_alarms() {
    let (data, n, id) = setup().await;
    n.stop().await;
    let d = db(&data);
    let mut su = PgConnection::connect_with(&pg::admin_options().database(&d.database))
        .await
        .unwrap();
    sqlx::raw_sql(
        "SET session_replication_role = replica; \
         UPDATE hallmark.log_leaves SET tag = NULL; \
         UPDATE hallmark.signing_keys SET tag = NULL; \
         DELETE FROM hallmark.log_integrity; \
         INSERT INTO hallmark.log_integrity SELECT 1, count(*) FROM hallmark.log_leaves;",
    )
    .execute(&mut su)
    .await
    .unwrap();
    su.close().await.unwrap();

    let n = data.start().await;
    n.publish("UPGRADE-1").await;
    n.checkpoint_covering_everything().await;
    assert_eq!(log_health(&n).await.0, "ok");
    assert_eq!(n.get(&format!("/passports/{id}")).await.status, 200);
    let health = n.get("/health").await.json();
    assert_eq!(health["integrity"], "ok", "{health}");
    let store = n.app().store.clone();
    let authenticated = store
        .list_audit(1, 1_000)
        .await
        .unwrap()
        .into_iter()
        .filter(|e| e.event.action == "signing-key.authenticated")
        .count();
    assert_eq!(
        authenticated,
        store.list_signing_keys().await.unwrap().len()
    );
    let report = check_integrity(store.as_ref(), &data.keystore().integrity_keys().unwrap())
        .await
        .unwrap();
    assert!(report.legacy_leaves > 0);
    assert!(report.forgeries.is_empty(), "{:?}", report.forgeries);
    n.stop().await;
}

/// Operator links (docs/resolver.md, "Your own links"): the app role cannot redirect a link
/// (no UPDATE of `href`), delete it or undo its removal — the database refuses; a row it
/// inserts directly is never served: it lacks the node's tag (and a link type the node owns
/// or an `http://` target would also fail core's rules, checked again on every read).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn operator_links_cannot_be_altered_and_forged_rows_are_not_served() {
    let (data, n, passport) = setup().await;
    let path = "/01/09506000134352/21/ATTACK-1";
    let body = json!({ "gtin": "09506000134352", "serial": "ATTACK-1",
        "linkType": "gs1:instructions", "href": "https://example.com/manual.pdf",
        "title": "Manual" });
    let added = n
        .call(
            reqwest::Method::POST,
            "/api/v1/links",
            Some(&kit::basic()),
            Some(&body),
        )
        .await;
    assert_eq!(
        added.status,
        201,
        "{}",
        String::from_utf8_lossy(&added.body)
    );
    let id = added.json()["id"].as_str().unwrap().to_string();
    let removed = n
        .call(
            reqwest::Method::POST,
            "/api/v1/links",
            Some(&kit::basic()),
            Some(&json!({
            "gtin": "09506000134352", "serial": "ATTACK-1", "linkType": "gs1:safetyInfo",
            "href": "https://example.com/sds.pdf", "title": "SDS" })),
        )
        .await
        .json()["id"]
        .as_str()
        .unwrap()
        .to_string();
    let r = n
        .call(
            reqwest::Method::DELETE,
            &format!("/api/v1/links/{removed}"),
            Some(&kit::basic()),
            Some(&json!({ "reason": "withdrawn" })),
        )
        .await;
    assert_eq!(r.status, 200);

    let mut c = app_role(&data).await;
    for sql in [
        format!("UPDATE product_links SET href = 'https://evil.example/' WHERE id = '{id}'"),
        format!("DELETE FROM product_links WHERE id = '{id}'"),
        format!("UPDATE product_links SET removed_at = NULL, removed_reason = NULL WHERE id = '{removed}'"),
    ] {
        let r = sqlx::raw_sql(&sql).execute(&mut c).await;
        assert!(r.is_err(), "{sql} was accepted");
    }
    // Rows inserted behind the node's back, with a type the node owns and with http.
    for (i, (rel, href)) in [
        ("https://ref.gs1.org/voc/dpp", "https://evil.example/dpp"),
        (
            "https://ref.gs1.org/voc/defaultLink",
            "https://evil.example/default",
        ),
        ("https://ref.gs1.org/voc/pip", "http://evil.example/pip"),
        // Within every rule but without the node's tag.
        (
            "https://ref.gs1.org/voc/recallStatus",
            "https://evil.example/recall",
        ),
    ]
    .into_iter()
    .enumerate()
    {
        sqlx::query(
            "INSERT INTO product_links (id, gtin, granularity, lot, serial, link_type, href, \
             title, media_type, hreflang, created_at) \
             VALUES ($1, '09506000134352', 'item', NULL, 'ATTACK-1', $2, $3, 'x', NULL, '[]', now())",
        )
        .bind(format!("0190f5a8-8c3b-7000-8000-00000000000{i}"))
        .bind(rel)
        .bind(href)
        .execute(&mut c)
        .await
        .unwrap();
    }
    c.close().await.unwrap();

    let no_redirects = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let get = |q: &str| {
        let url = format!("{}{path}{q}", n.public);
        let client = no_redirects.clone();
        async move { Reply::from(client.get(url).send().await.unwrap()).await }
    };
    let linkset = get("?linkType=linkset").await;
    assert_eq!(linkset.status, 200);
    let text = String::from_utf8(linkset.body.clone()).unwrap();
    assert!(!text.contains("evil.example"), "{text}");
    assert!(text.contains("https://example.com/manual.pdf"));
    assert!(!text.contains("https://example.com/sds.pdf"));
    let passport_url = format!("{}/passports/{passport}", kit::BASE_URL);
    for q in ["", "?linkType=gs1:dpp", "?linkType=gs1:defaultLink"] {
        let r = get(q).await;
        assert_eq!(r.status, 307, "{q}");
        assert_eq!(
            r.header("location"),
            Some(format!("{passport_url}{q}").as_str()),
            "{q}"
        );
    }
    assert_eq!(get("?linkType=gs1:pip").await.status, 404);
    assert_eq!(get("?linkType=gs1:recallStatus").await.status, 404);
    assert_eq!(
        get("?linkType=gs1:instructions").await.header("location"),
        Some("https://example.com/manual.pdf?linkType=gs1:instructions")
    );
    n.stop().await;
}
