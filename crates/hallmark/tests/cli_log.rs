//! `hallmark log check` as an operator runs it, against a real SQLite store.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use hallmark_core::tlog::{self, VerifierKey};
use hallmark_store::{AuditEvent, CheckpointRecord, SqliteStore, Store};
use sqlx::Connection;
use std::process::Command;

fn hallmark(args: &[&str]) -> (i32, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_hallmark"))
        .env_remove("HALLMARK_DATABASE_URL")
        .args(args)
        .output()
        .unwrap();
    (
        out.status.code().unwrap(),
        format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ),
    )
}

#[tokio::test]
async fn log_check_passes_then_names_the_tampered_leaf() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("hallmark.db");
    let store = SqliteStore::open(&path).await.unwrap();
    let now = time::OffsetDateTime::now_utc();
    for action in [
        "node.start",
        "apikey.create",
        "passport.publish",
        "node.stop",
    ] {
        store
            .append_audit(AuditEvent::new(now, "operator", action))
            .await
            .unwrap();
    }
    let key = ed25519_dalek::SigningKey::from_bytes(&[3; 32]);
    let name = "dpp.example.com/log";
    let leaves = store.list_leaf_hashes(0, 100).await.unwrap();
    let root = tlog::root(&leaves);
    let note = tlog::sign_checkpoint(&tlog::Checkpoint::new(name, 4, root), name, &key).unwrap();
    store
        .insert_checkpoint(CheckpointRecord {
            tree_size: 4,
            root_hash: root,
            note,
            created_at: now,
        })
        .await
        .unwrap();
    store.close().await;
    let vkey = VerifierKey::new(name, key.verifying_key())
        .unwrap()
        .to_string();
    let db = format!("sqlite:{}", path.display());

    let (code, out) = hallmark(&["log", "check", "--database", &db, "--log-key", &vkey]);
    assert_eq!(code, 0, "{out}");
    assert!(
        out.contains("leaves 4  checkpoints 1") && out.contains("OK"),
        "{out}"
    );

    // Change audit event 3 directly in the file, bypassing the triggers.
    let mut c = sqlx::SqliteConnection::connect(&format!("sqlite://{}", path.display()))
        .await
        .unwrap();
    sqlx::raw_sql(
        "DROP TRIGGER audit_no_update; UPDATE audit_events SET action = 'passport.forged' WHERE seq = 3;",
    )
    .execute(&mut c)
    .await
    .unwrap();
    c.close().await.unwrap();
    let (code, out) = hallmark(&["log", "check", "--database", &db, "--log-key", &vkey]);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("DIVERGENCE: leaf 2 (audit event 3)"), "{out}");

    let (code, out) = hallmark(&["log", "check", "--database", "sqlite:/nonexistent/x.db"]);
    assert_eq!(code, 2, "{out}");
    let (code, out) = hallmark(&["log", "check", "--database", &db, "--log-key", "garbage"]);
    assert_eq!(code, 2, "{out}");
}
