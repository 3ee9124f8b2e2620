//! `hallmark log check` as an operator runs it, against a real SQLite store.

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

/// `log check` with the node's keystore names a leaf the node did not write; `log
/// quarantine` records it (refusing a hash other than the stored one), and the check then
/// marks it quarantined.
#[tokio::test]
async fn log_check_with_the_keystore_names_a_forged_leaf_and_quarantine_records_it() {
    use hallmark_keys::keystore::{KdfParams, Keystore};
    use secrecy::SecretString;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("hallmark.db");
    let keystore = dir.path().join("hallmark-keys.json");
    let passphrase = "cli log test passphrase";
    let now = time::OffsetDateTime::now_utc();
    let (ks, _) = Keystore::create(
        &keystore,
        &SecretString::from(passphrase),
        KdfParams::FLOOR,
        now,
    )
    .unwrap();
    let store = SqliteStore::open(&path).await.unwrap();
    store.set_integrity(std::sync::Arc::new(ks.integrity_keys().unwrap()));
    for action in ["node.start", "node.stop"] {
        store
            .append_audit(AuditEvent::new(now, "operator", action))
            .await
            .unwrap();
    }
    store.close().await;
    let db = format!("sqlite:{}", path.display());
    let check = || {
        let out = Command::new(env!("CARGO_BIN_EXE_hallmark"))
            .env_remove("HALLMARK_DATABASE_URL")
            .env("HALLMARK_KEYSTORE_PASSPHRASE", passphrase)
            .args(["log", "check", "--database", &db, "--keystore"])
            .arg(&keystore)
            .output()
            .unwrap();
        (
            out.status.code().unwrap(),
            String::from_utf8_lossy(&out.stdout).into_owned(),
        )
    };
    let (code, out) = check();
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("authenticated: leaves 2"), "{out}");

    // An event and its leaf inserted behind the node's back (what the app role can do).
    let mut c = sqlx::SqliteConnection::connect(&format!("sqlite://{}", path.display()))
        .await
        .unwrap();
    sqlx::raw_sql(
        "UPDATE audit_head SET next_seq = 4 WHERE id = 1; \
         INSERT INTO audit_events (seq, at, actor, action, detail) \
           VALUES (3, '2026-12-05T10:00:00Z', 'admin', 'passport.published', '{}'); \
         INSERT INTO log_leaves (leaf_index, leaf_hash, audit_seq, created_at) \
           VALUES (2, zeroblob(32), 3, '2026-12-05T10:00:00Z');",
    )
    .execute(&mut c)
    .await
    .unwrap();
    c.close().await.unwrap();
    let (code, out) = check();
    assert_eq!(code, 1, "{out}");
    assert!(
        out.contains("FORGERY: forged leaf 2 (audit event 3, passport.published)"),
        "{out}"
    );

    let zero = "00".repeat(32);
    let (code, out) = hallmark(&[
        "log",
        "quarantine",
        "--database",
        &db,
        "--index",
        "2",
        "--leaf-hash",
        &"11".repeat(32),
        "--reason",
        "inserted",
    ]);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("nothing recorded"), "{out}");
    let (code, out) = hallmark(&[
        "log",
        "quarantine",
        "--database",
        &db,
        "--index",
        "2",
        "--reason",
        " ",
    ]);
    assert_eq!(code, 2, "{out}");
    let (code, out) = hallmark(&[
        "log",
        "quarantine",
        "--database",
        &db,
        "--index",
        "2",
        "--leaf-hash",
        &zero,
        "--reason",
        "inserted with leaked credentials",
    ]);
    assert_eq!(code, 0, "{out}");
    let (code, out) = check();
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("[quarantined]"), "{out}");
}

/// A log written before typed log events (`hallmark-store/tests/fixtures/log-f052a66`, see
/// its README): `hallmark log check` with its log key and node secret finds every leaf,
/// checkpoint and row as the node wrote them, and `hallmark verify --log-key` finds the
/// served credential in the signed log.
#[test]
fn a_log_written_before_typed_events_still_checks_and_verifies() {
    use std::os::unix::fs::PermissionsExt;
    let fixture = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../hallmark-store/tests/fixtures/log-f052a66"
    );
    let text = |name: &str| {
        std::fs::read_to_string(format!("{fixture}/{name}"))
            .unwrap()
            .trim_end()
            .to_string()
    };
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("hallmark.db");
    std::fs::copy(format!("{fixture}/hallmark.db"), &path).unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).unwrap();
    let db = format!("sqlite:{}", path.display());
    let (key, secret) = (text("log-key.txt"), text("node-secret.txt"));

    let (code, out) = hallmark(&[
        "log",
        "check",
        "--database",
        &db,
        "--log-key",
        &key,
        "--node-secret",
        &secret,
    ]);
    assert_eq!(code, 0, "{out}");
    assert!(
        out.contains("authenticated: leaves 41 (written before row authentication: 0)  versions 4")
            && out.contains("leaves 41  checkpoints 19")
            && out.contains("OK: every leaf matches its audit event")
            && !out.contains("FORGERY"),
        "{out}"
    );

    let file = |name: &str| format!("{fixture}/{name}");
    let (code, out) = hallmark(&[
        "verify",
        &file("passport.json"),
        "--did-document",
        &file("did.json"),
        "--checkpoint",
        &file("checkpoint.txt"),
        "--proof",
        &file("inclusion-proof.json"),
        "--log-key",
        &key,
    ]);
    assert_eq!(code, 0, "{out}");
    assert!(
        out.contains("pass  log-leaf              leaf 29 (passport.published of \"urn:uuid:")
            && out.contains("version 2) records this credential's SHA-256 (public)")
            && out.contains(
                "pass  log-inclusion         leaf 29 is in the checkpointed tree of size 41"
            )
            && out.contains("VALID"),
        "{out}"
    );
}
