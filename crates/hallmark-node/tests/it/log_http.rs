//! The transparency log over real HTTP, on SQLite and PostgreSQL: the node signs checkpoints
//! with its log key after writes; checkpoints, inclusion and consistency proofs fetched over
//! HTTP verify with `hallmark_core::tlog` and the published key; a log rewritten in the
//! database is refused by the node and caught by a verifier holding an older checkpoint; two
//! nodes on one PostgreSQL only ever store mutually consistent checkpoints; `node.started`
//! records the configuration without a secret; of two nodes on one database, each sees the
//! other's status changes through the audit log (the change feed) and refuses a key the
//! other revoked within the API-key lifetime.

use hallmark_testkit as kit;
use hallmark_testkit::pg;

use hallmark_core::tlog::{
    self, check_consistency, check_logged_credential, open_checkpoint, ConsistencyProof,
    InclusionProof, VerifierKey,
};
use hallmark_core::verify::Outcome;
use hallmark_keys::keystore::{KdfParams, Keystore};
use hallmark_keys::Purpose;
use hallmark_node::node;
use hallmark_node::transparency::LogStatus;
use hallmark_testkit::StoreTestExt;
use kit::Reply;
use kit::{basic, until, Backend, Data, Node, ADMIN_USER, BASE_URL};
use reqwest::Method;
use secrecy::SecretString;
use serde_json::{json, Value};
use std::sync::Arc;
use std::time::Duration;

fn passes(checks: &[hallmark_core::verify::Check]) -> bool {
    checks.iter().all(|c| matches!(c.outcome, Outcome::Pass(_)))
}

fn failed<'a>(checks: &'a [hallmark_core::verify::Check], name: &str) -> Option<&'a str> {
    checks.iter().find_map(|c| match &c.outcome {
        Outcome::Fail(m) if c.name == name => Some(m.as_str()),
        _ => None,
    })
}

use kit::both;

both!(published_passports_are_provably_in_signed_checkpoints);
both!(a_rewritten_log_is_refused_by_the_node_and_caught_by_a_verifier);

async fn published_passports_are_provably_in_signed_checkpoints(backend: Backend) {
    let data = Data::new(backend).await;
    let n = data.start().await;
    let vkey = n.log_key().await;
    assert_eq!(vkey.name(), "localhost:8080/log");
    // The log key is the log-checkpoint key, not the passport key.
    let keys = n.app().store.list_signing_keys().await.unwrap();
    let log_key = keys
        .iter()
        .find(|k| k.purpose == Purpose::LogCheckpoint.as_str())
        .unwrap();
    assert_eq!(
        hallmark_core::keys::decode_public_key_multibase(&log_key.public_key_multibase).unwrap(),
        *vkey.verifying_key()
    );
    let passport_key = keys
        .iter()
        .find(|k| k.purpose == Purpose::PassportSigning.as_str())
        .unwrap();
    assert_ne!(
        log_key.public_key_multibase,
        passport_key.public_key_multibase
    );

    let mut published = Vec::new();
    for serial in ["LOG-1", "LOG-2"] {
        published.push(n.publish(serial).await);
    }
    let old_note = n.checkpoint_covering_everything().await;
    let old = open_checkpoint(&old_note, &vkey).unwrap();
    // Signed by the passport key instead, it would not verify.
    let passport_vkey = VerifierKey::new(
        vkey.name(),
        hallmark_core::keys::decode_public_key_multibase(&passport_key.public_key_multibase)
            .unwrap(),
    )
    .unwrap();
    assert!(open_checkpoint(&old_note, &passport_vkey).is_err());
    assert_eq!(n.get("/health").await.json()["log"], "ok");

    for (id, publish) in &published {
        // The public read points at the publish event's leaf, beside the untouched bytes.
        let cred = n.get(&format!("/passports/{id}")).await;
        assert_eq!(cred.status, 200);
        let index: u64 = cred.header("hallmark-log-index").unwrap().parse().unwrap();
        assert_eq!(publish["logIndex"], index);
        let link = cred.header("link").unwrap();
        let proof_url = format!("{BASE_URL}/log/proof/inclusion?index={index}");
        assert!(link.contains(&format!(
            "<{proof_url}>; rel=\"urn:hallmark:log-inclusion\""
        )));
        assert!(link.contains(&format!("<{BASE_URL}/log/checkpoint>")));
        assert_eq!(publish["logInclusionUrl"], proof_url);
        let v1 = n.get(&format!("/passports/{id}/versions/1")).await;
        assert_eq!(
            v1.header("hallmark-log-index"),
            Some(index.to_string().as_str())
        );

        // Inclusion proof by index, verified against the signed checkpoint.
        let r = n.get(&format!("/log/proof/inclusion?index={index}")).await;
        assert_eq!(r.status, 200);
        let proof: InclusionProof = serde_json::from_slice(&r.body).unwrap();
        assert_eq!(proof.tree_size, old.size);
        tlog::verify_inclusion(
            &proof.leaf_hash.0,
            index,
            old.size,
            &proof.path(),
            &old.root,
        )
        .unwrap();
        let checks = check_logged_credential(&cred.body, &old_note, &proof, &vkey);
        assert!(passes(&checks), "{checks:?}");
        // The leaf is the publish event and commits to the served bytes.
        let leaf: Value = serde_json::from_slice(&proof.leaf_bytes().unwrap().unwrap()).unwrap();
        assert_eq!(leaf["action"], "passport.published");
        assert_eq!(leaf["seq"], index + 1);
        // By leaf hash: the same index and proof.
        let hex: String = proof
            .leaf_hash
            .0
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        let by_hash: InclusionProof = serde_json::from_slice(
            &n.get(&format!(
                "/log/proof/inclusion?hash={hex}&size={}",
                old.size
            ))
            .await
            .body,
        )
        .unwrap();
        assert_eq!(by_hash, proof);
        // The entry carries the same leaf.
        let e = n.get(&format!("/log/entries/{index}")).await.json();
        assert_eq!(e["leaf"], json!(proof.leaf));
        // Another credential is not what this leaf records.
        let other = n.get(&format!("/passports/{}", published[0].0)).await.body;
        if published[0].0 != *id {
            let checks = check_logged_credential(&other, &old_note, &proof, &vkey);
            assert!(failed(&checks, "log-leaf").is_some(), "{checks:?}");
        }
    }

    // Entries: every leaf hash matches the tree; non-public events are hash only.
    let all = n
        .get(&format!("/log/entries?start=0&end={}", old.size))
        .await
        .json();
    let entries = all["entries"].as_array().unwrap();
    assert_eq!(entries.len() as u64, old.size);
    let hashes: Vec<tlog::Hash> = entries
        .iter()
        .map(|e| tlog::evidence::decode_hash(e["leafHash"].as_str().unwrap()).unwrap())
        .collect();
    assert_eq!(tlog::root(&hashes), old.root);
    let withheld: Vec<&Value> = entries.iter().filter(|e| e["leaf"].is_null()).collect();
    assert!(!withheld.is_empty(), "draft events are withheld");
    assert!(withheld.iter().all(|e| e["withheld"].is_string()));
    for e in entries.iter().filter(|e| !e["leaf"].is_null()) {
        use base64::Engine;
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(e["leaf"].as_str().unwrap())
            .unwrap();
        let action = serde_json::from_slice::<Value>(&bytes).unwrap()["action"].clone();
        assert!(
            hallmark_node::transparency::is_public_action(action.as_str().unwrap()),
            "{action}"
        );
        assert_eq!(
            tlog::leaf_hash(&bytes),
            tlog::evidence::decode_hash(e["leafHash"].as_str().unwrap()).unwrap()
        );
    }

    // More writes, a newer checkpoint, and a consistency proof between the two.
    n.publish("LOG-3").await;
    let new_note = n.checkpoint_covering_everything().await;
    let new = open_checkpoint(&new_note, &vkey).unwrap();
    assert!(new.size > old.size);
    let r = n
        .get(&format!(
            "/log/proof/consistency?old={}&new={}",
            old.size, new.size
        ))
        .await;
    assert_eq!(r.status, 200);
    let proof: ConsistencyProof = serde_json::from_slice(&r.body).unwrap();
    assert!(passes(&check_consistency(
        &old_note, &new_note, &proof, &vkey
    )));
    // Every stored checkpoint is consistent with the next.
    let stored = n.app().store.list_checkpoints().await.unwrap();
    assert!(stored.len() >= 2);
    for w in stored.windows(2) {
        let p: ConsistencyProof = serde_json::from_slice(
            &n.get(&format!(
                "/log/proof/consistency?old={}&new={}",
                w[0].tree_size, w[1].tree_size
            ))
            .await
            .body,
        )
        .unwrap();
        assert!(passes(&check_consistency(
            &w[0].note, &w[1].note, &p, &vkey
        )));
    }

    // Bad parameters are 400 problem+json; sizes beyond the checkpoint say so.
    let beyond = new.size + 1;
    for (path, status, slug) in [
        ("/log/proof/inclusion".to_string(), 400, "bad-request"),
        (
            "/log/proof/inclusion?index=0&hash=00".to_string(),
            400,
            "bad-request",
        ),
        (
            "/log/proof/inclusion?index=x".to_string(),
            400,
            "bad-request",
        ),
        (
            "/log/proof/inclusion?index=0&unknown=1".to_string(),
            400,
            "bad-request",
        ),
        (
            "/log/proof/inclusion?hash=nothex".to_string(),
            400,
            "bad-request",
        ),
        (
            format!("/log/proof/inclusion?index=0&size={beyond}"),
            400,
            "beyond-checkpoint",
        ),
        (
            format!("/log/proof/inclusion?index={beyond}"),
            404,
            "not-found",
        ),
        (
            format!("/log/proof/inclusion?hash={}", "00".repeat(32)),
            404,
            "not-found",
        ),
        (
            "/log/proof/consistency?old=0".to_string(),
            400,
            "bad-request",
        ),
        ("/log/proof/consistency".to_string(), 400, "bad-request"),
        (
            format!("/log/proof/consistency?old=1&new={beyond}"),
            400,
            "beyond-checkpoint",
        ),
        (
            "/log/proof/consistency?old=3&new=2".to_string(),
            400,
            "bad-request",
        ),
        (
            "/log/entries?start=0&end=1000".to_string(),
            400,
            "bad-request",
        ),
        ("/log/entries?start=2&end=2".to_string(), 400, "bad-request"),
        (
            format!("/log/entries?start=0&end={beyond}"),
            400,
            "beyond-checkpoint",
        ),
        ("/log/entries/abc".to_string(), 400, "bad-request"),
        (format!("/log/entries/{beyond}"), 404, "not-found"),
    ] {
        let r = n.get(&path).await;
        let p = r.problem(status, slug);
        assert!(p["detail"].is_string(), "{path}");
        if slug == "beyond-checkpoint" {
            assert!(p["checkpointSize"].as_u64().unwrap() >= new.size, "{path}");
        }
    }

    // The public OpenAPI document lists the log routes.
    let doc = n.get("/openapi.json").await.json();
    for path in [
        "/log/checkpoint",
        "/log/key",
        "/log/entries",
        "/log/entries/{index}",
        "/log/proof/inclusion",
        "/log/proof/consistency",
    ] {
        assert!(doc["paths"][path]["get"].is_object(), "{path}");
    }
    n.stop().await;
}

async fn a_rewritten_log_is_refused_by_the_node_and_caught_by_a_verifier(backend: Backend) {
    let data = Data::new(backend).await;
    let n = data.start().await;
    let vkey = n.log_key().await;
    n.publish("REWRITE-1").await;
    let old_note = n.checkpoint_covering_everything().await;
    let old = open_checkpoint(&old_note, &vkey).unwrap();
    let store = Arc::clone(&n.app().store);
    n.stop().await;

    // A privileged user rewrites audit event 1 and its leaf consistently.
    let first = store.list_audit(1, 1).await.unwrap().remove(0);
    drop(store);
    data.rewrite_event(first, "mallory").await;

    // Restarted on the rewritten store, the node refuses to sign: its tree no longer has the
    // root of the checkpoint it signed before.
    let n = data.start().await;
    let refused = |n: &Node| match n.app().log.status() {
        LogStatus::Refused { tree_size, reason } => Some((tree_size, reason)),
        _ => None,
    };
    let (_, reason) = until("the refusal", || async { refused(&n) }).await;
    assert!(reason.contains("rewritten"), "{reason}");
    // New writes still succeed, and are still not signed.
    n.publish("REWRITE-2").await;
    let total = n.app().store.audit_len().await.unwrap();
    until("the refusal at the new size", || async {
        refused(&n).filter(|(size, _)| *size >= total)
    })
    .await;
    let latest = n.app().store.latest_checkpoint().await.unwrap().unwrap();
    assert_eq!(
        latest.tree_size, old.size,
        "the node signed over a rewritten log"
    );
    assert_eq!(latest.note, old_note);
    n.get("/log/checkpoint").await.problem(404, "no-checkpoint");
    assert_eq!(n.get("/health").await.json()["log"], "refused");

    // A compromised node that signs anyway is caught by a verifier holding the old
    // checkpoint: no consistency proof links the old root to the rewritten tree's.
    let leaves = n.app().store.list_leaf_hashes(0, 10_000).await.unwrap();
    let forged_tree = tlog::CompactTree::from_leaf_hashes(leaves.iter().copied());
    let size = forged_tree.size();
    let log_signer = data.keystore().signer(Purpose::LogCheckpoint).unwrap();
    let forged_note = tlog::sign_checkpoint(
        &tlog::Checkpoint::new(vkey.name(), size, forged_tree.root()),
        vkey.name(),
        &log_signer,
    )
    .unwrap();
    let proof = ConsistencyProof {
        old_size: old.size,
        new_size: size,
        hashes: forged_tree
            .consistency_proof(old.size, size)
            .unwrap()
            .into_iter()
            .map(tlog::B64Hash)
            .collect(),
    };
    let checks = check_consistency(&old_note, &forged_note, &proof, &vkey);
    assert!(failed(&checks, "log-consistency").is_some(), "{checks:?}");
    assert!(
        failed(&checks, "log-checkpoint-new").is_none(),
        "{checks:?}"
    );
    n.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_nodes_on_one_postgres_store_only_consistent_checkpoints() {
    let data = Data::new(Backend::Postgres).await;
    let a = data.start().await;
    let b = data.start().await;
    let vkey = a.log_key().await;
    assert_eq!(b.log_key().await, vkey);
    // Both nodes write concurrently (each wakes its own signer).
    let serials = |p: &'static str| (0..4).map(move |i| format!("{p}-{i}"));
    tokio::join!(
        async {
            for s in serials("A") {
                a.publish(&s).await;
            }
        },
        async {
            for s in serials("B") {
                b.publish(&s).await;
            }
        }
    );
    let total = a.app().store.audit_len().await.unwrap();
    // Both end up serving the same checkpoint of the whole log.
    // (Polled; the cap only ends a hung test, naming both signers' states.)
    let mut polls = 0;
    while [&a, &b]
        .iter()
        .any(|n| n.app().log.latest().is_none_or(|c| c.size < total))
    {
        polls += 1;
        assert!(
            polls < 6_000,
            "not both at size {total}: a {:?} {:?}, b {:?} {:?}",
            a.app().log.latest().map(|c| c.size),
            a.app().log.status(),
            b.app().log.latest().map(|c| c.size),
            b.app().log.status(),
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let (na, nb) = (
        a.checkpoint_covering_everything().await,
        b.checkpoint_covering_everything().await,
    );
    assert_eq!(na, nb);
    for n in [&a, &b] {
        assert!(
            matches!(n.app().log.status(), LogStatus::Ok { .. }),
            "{:?}",
            n.app().log.status()
        );
    }
    // Every stored checkpoint verifies, commits to the store's leaves, and is consistent
    // with every later one (proofs served alternately by the two nodes).
    let leaves = a.app().store.list_leaf_hashes(0, 10_000).await.unwrap();
    let stored = a.app().store.list_checkpoints().await.unwrap();
    assert!(!stored.is_empty());
    for (i, c) in stored.iter().enumerate() {
        let cp = open_checkpoint(&c.note, &vkey).unwrap();
        assert_eq!(cp.root, tlog::root(&leaves[..c.tree_size as usize]));
        for (j, later) in stored.iter().enumerate().skip(i + 1) {
            let server = if (i + j) % 2 == 0 { &a } else { &b };
            let p: ConsistencyProof = serde_json::from_slice(
                &server
                    .get(&format!(
                        "/log/proof/consistency?old={}&new={}",
                        c.tree_size, later.tree_size
                    ))
                    .await
                    .body,
            )
            .unwrap();
            assert!(passes(&check_consistency(&c.note, &later.note, &p, &vkey)));
        }
    }
    a.stop().await;
    b.stop().await;
}

/// The audit log is each node's change feed: a passport suspended through one node is
/// answered 410 by another node that had it cached, well before the cache's own lifetime
/// (`PASSPORT_STATE_TTL`) would have expired it; resuming it is seen the same way.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_status_change_through_one_node_reaches_the_other_through_the_change_feed() {
    let data = Data::new(Backend::Postgres).await;
    let a = data.start().await;
    let b = data.start().await;
    let (id, _) = a.publish("FEED-1").await;
    let path = format!("/passports/{id}");
    assert_eq!(b.get(&path).await.status, 200, "b has it cached now");
    let started = std::time::Instant::now();
    let suspended = kit::client()
        .post(format!("{}/api/v1/passports/{id}/suspend", a.admin))
        .header("authorization", basic())
        .header("content-type", "application/json")
        .body(json!({ "reason": "recall" }).to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(suspended.status().as_u16(), 200);
    assert_eq!(
        a.get(&path).await.status,
        410,
        "the suspending node at once"
    );
    until("b to answer 410", || async {
        (b.get(&path).await.status == 410).then_some(())
    })
    .await;
    let took = started.elapsed();
    assert!(
        took < hallmark_node::cache::PASSPORT_STATE_TTL / 4,
        "seen after {took:?}: the feed, not the cache lifetime"
    );
    let resumed = a
        .admin(Method::POST, &format!("/api/v1/passports/{id}/resume"))
        .await;
    assert_eq!(
        resumed.status,
        200,
        "{}",
        String::from_utf8_lossy(&resumed.body)
    );
    until("b to serve it again", || async {
        (b.get(&path).await.status == 200).then_some(())
    })
    .await;
    a.stop().await;
    b.stop().await;
}

/// API keys are cached by each node for at most `API_KEY_TTL`: a key revoked through one
/// node is refused by that node at once and by another node sharing the database once the
/// lifetime has passed (the bound `docs/security.md` states).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_key_revoked_through_one_node_is_refused_by_another_within_the_key_lifetime() {
    let data = Data::new(Backend::Postgres).await;
    let a = data.start().await;
    let b = data.start().await;
    let created = kit::client()
        .post(format!("{}/api/v1/api-keys", a.admin))
        .header("authorization", basic())
        .header("content-type", "application/json")
        .body(json!({ "scope": "read", "label": "shared" }).to_string())
        .send()
        .await
        .unwrap();
    let created = Reply::from(created).await;
    assert_eq!(
        created.status,
        201,
        "{}",
        String::from_utf8_lossy(&created.body)
    );
    let created = created.json();
    let key = created["key"].as_str().unwrap().to_string();
    let prefix = created["prefix"].as_str().unwrap().to_string();
    let whoami = |n: &Node| {
        let url = format!("{}/api/v1/whoami", n.admin);
        let key = key.clone();
        async move {
            kit::client()
                .get(url)
                .header("authorization", format!("Bearer {key}"))
                .send()
                .await
                .unwrap()
                .status()
                .as_u16()
        }
    };
    // Both nodes have now looked the key up (and cached it).
    assert_eq!(whoami(&a).await, 200);
    assert_eq!(whoami(&b).await, 200);
    let revoked = a
        .admin(Method::POST, &format!("/api/v1/api-keys/{prefix}/revoke"))
        .await;
    assert_eq!(
        revoked.status,
        200,
        "{}",
        String::from_utf8_lossy(&revoked.body)
    );
    assert_eq!(
        whoami(&a).await,
        401,
        "the revoking node refuses the key at once"
    );
    tokio::time::sleep(hallmark_node::cache::API_KEY_TTL + Duration::from_millis(100)).await;
    assert_eq!(
        whoami(&b).await,
        401,
        "the other node refuses it after the lifetime"
    );
    a.stop().await;
    b.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_missing_log_key_is_created_at_start_and_signs_the_log() {
    let data = Data::new(Backend::Sqlite).await;
    {
        let mut ks = data.keystore();
        let old = ks.signer(Purpose::LogCheckpoint).unwrap();
        ks.revoke(
            &hallmark_core::keys::Signer::key_id(&old),
            "lost",
            time::OffsetDateTime::now_utc(),
        )
        .unwrap();
        assert!(ks.signer(Purpose::LogCheckpoint).is_err());
    }
    let n = data.start().await;
    let current = data.keystore().signer(Purpose::LogCheckpoint).unwrap();
    let vkey = n.log_key().await;
    assert_eq!(
        *vkey.verifying_key(),
        hallmark_core::keys::Signer::verifying_key(&current)
    );
    let note = n.checkpoint_covering_everything().await;
    open_checkpoint(&note, &vkey).unwrap();
    let events = n.app().store.list_audit(1, 100).await.unwrap();
    assert!(events
        .iter()
        .any(|e| e.event.action == "signing-key.registered"
            && e.event.detail["purpose"] == "log-checkpoint"
            && e.event.subject.as_deref()
                == Some(hallmark_core::keys::Signer::key_id(&current).as_str())));
    n.stop().await;
}

/// Production configuration with a secret in every secret setting; the `node.started` leaf
/// (public) records the effective configuration and none of them.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn node_started_records_the_configuration_without_secrets() {
    let db = pg::PgDb::new().await;
    let tmp = tempfile::tempdir().unwrap();
    let passphrase = "Keystore-Passphrase-Started-91f3";
    let admin_password = "Admin-Password-Started-5d2e";
    let db_password = "Db-Password-Started-7a1c";
    let keystore = tmp.path().join("keys.json");
    Keystore::create(
        &keystore,
        &SecretString::from(passphrase),
        KdfParams::FLOOR,
        time::OffsetDateTime::now_utc(),
    )
    .unwrap();
    let data_dir = tmp.path().join("data");
    std::fs::create_dir_all(&data_dir).unwrap();
    let url = |role: &str| {
        format!(
            "postgres://{role}:{db_password}@127.0.0.1:5432/{}",
            db.database
        )
    };
    let port = || {
        std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port()
    };
    let (public, admin) = (port(), port());
    let env: Vec<(&str, String)> = vec![
        (
            "HALLMARK_PUBLIC_BASE_URL",
            "https://dpp.example.test".into(),
        ),
        ("HALLMARK_PUBLIC_LISTEN", format!("127.0.0.1:{public}")),
        ("HALLMARK_ADMIN_LISTEN", format!("127.0.0.1:{admin}")),
        ("HALLMARK_DATA_DIR", data_dir.display().to_string()),
        ("HALLMARK_DATABASE_URL", url(&db.app_role)),
        ("HALLMARK_DATABASE_MIGRATION_URL", url(&db.migration_role)),
        ("HALLMARK_KEYSTORE_PATH", keystore.display().to_string()),
        ("HALLMARK_KEYSTORE_PASSPHRASE", passphrase.into()),
        ("HALLMARK_ADMIN_USERNAME", ADMIN_USER.into()),
        ("HALLMARK_ADMIN_PASSWORD", admin_password.into()),
        ("HALLMARK_CHECKPOINT_INTERVAL_MS", "25".into()),
        (
            "HALLMARK_BACKUP_LINK_TEMPLATE",
            "https://backup.example.eu/dpp/{uuid}/versions/{version}".into(),
        ),
    ];
    let config = hallmark_node::Config::load(None, &|name| {
        env.iter().find(|(k, _)| *k == name).map(|(_, v)| v.clone())
    })
    .unwrap()
    .validate(hallmark_node::Profile::Production)
    .unwrap();
    assert_eq!(config.checkpoint_interval, Duration::from_millis(25));
    let running = node::serve(&config).await.unwrap();
    assert_eq!(running.app.log.interval(), Duration::from_millis(25));
    let n = Node::from_running(running);
    let store = Arc::clone(&n.app().store);
    let events = store.list_audit(1, 1000).await.unwrap();
    let started = events
        .iter()
        .find(|e| e.event.action == "node.started")
        .unwrap();
    let index = started.seq - 1;
    n.checkpoint_covering_everything().await;
    // The leaf as anyone can fetch it.
    let entry = n.get(&format!("/log/entries/{index}")).await.json();
    let leaf = {
        use base64::Engine;
        base64::engine::general_purpose::STANDARD
            .decode(entry["leaf"].as_str().expect("node.started is public"))
            .unwrap()
    };
    let text = String::from_utf8(leaf.clone()).unwrap();
    let detail = &serde_json::from_slice::<Value>(&leaf).unwrap()["detail"];
    assert_eq!(detail["profile"], "production");
    assert_eq!(detail["database"], "postgres");
    assert_eq!(detail["signing"]["backend"], "keystore");
    assert_eq!(detail["publicBaseUrl"], "https://dpp.example.test");
    assert_eq!(detail["publicListen"], format!("127.0.0.1:{public}"));
    assert_eq!(detail["log"]["origin"], "dpp.example.test/log");
    assert_eq!(detail["log"]["checkpointIntervalMs"], 25);
    assert_eq!(detail["limits"]["maxBodyBytes"], 1_048_576);
    assert_eq!(detail["limits"]["maxBatchBodyBytes"], 16_777_216);
    assert_eq!(detail["plugins"]["allowUnsigned"], false);
    assert_eq!(
        detail["backupLinkTemplate"],
        "https://backup.example.eu/dpp/{uuid}/versions/{version}"
    );
    // No plugin setting: the built-in signed battery plugin only (issue 14.8).
    let loaded = detail["plugins"]["loaded"].as_array().unwrap();
    assert_eq!(loaded.len(), 1, "{loaded:?}");
    assert_eq!(loaded[0]["name"], "hallmark-battery");
    assert_eq!(loaded[0]["signed"], true);
    let key_ids: Vec<String> = store
        .list_signing_keys()
        .await
        .unwrap()
        .into_iter()
        .map(|k| k.key_id)
        .collect();
    assert_eq!(detail["keys"].as_array().unwrap().len(), key_ids.len());
    for id in &key_ids {
        assert!(text.contains(id.as_str()), "key {id} not recorded");
    }
    // No secret, no database URL, no file path — in this leaf or any other.
    let mut all = String::new();
    for e in store.list_audit(1, 1000).await.unwrap() {
        all.push_str(&String::from_utf8(e.leaf_bytes().unwrap()).unwrap());
    }
    for secret in [
        passphrase,
        admin_password,
        db_password,
        "postgres://",
        keystore.to_str().unwrap(),
        data_dir.to_str().unwrap(),
    ] {
        assert!(!all.contains(secret), "{secret:?} is in the audit log");
    }
    assert!(
        !text.contains(ADMIN_USER),
        "the admin user name is not recorded"
    );
    n.stop().await;
    drop(db);
}
