//! `hallmark readers` as a real process against a real node (SQLite): a reader registered on
//! the public listener is listed with its fingerprint, approved (scope and tier from the
//! flags), suspended, resumed and revoked; a revoked reader cannot be approved again (409:
//! exit 5); without a scope the command refuses before sending anything (exit 2); the
//! routes want the admin scope (exit 4 with a write key).

use super::cli_passport::{key, Cli};
use hallmark_core::reader::{fingerprint, key_text};
use hallmark_testkit as kit;
use kit::{Backend, TestNode};
use reqwest::Method;
use serde_json::json;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn readers_are_listed_approved_suspended_and_revoked() {
    let node = TestNode::new(Backend::Sqlite).start().await;
    let reader_key = ed25519_dalek::SigningKey::from_bytes(&[9; 32])
        .verifying_key()
        .to_bytes();
    let r = node
        .call_raw(
            Method::POST,
            &format!("{}/readers", node.public),
            None,
            Some(&json!({
                "ed25519PublicKey": key_text(&reader_key),
                "organisation": "CLI Repairs", "contact": "cli@example.org", "purpose": "repair",
            })),
            None,
        )
        .await;
    assert_eq!(r.status, 201);
    let id = r.json()["id"].as_str().unwrap().to_owned();
    let admin = key(&node, "admin").await;
    let cli = Cli::for_node(&node, &admin);

    let out = cli.run(&["readers", "list"]).await.code(0);
    assert!(out.stdout.contains(&id), "{}", out.stdout);
    assert!(
        out.stdout.contains(&fingerprint(&reader_key)),
        "{}",
        out.stdout
    );
    let out = cli
        .run(&["readers", "list", "--status", "approved", "--json"])
        .await
        .code(0);
    assert_eq!(out.json()["items"], json!([]));

    let expires = (time::OffsetDateTime::now_utc() + time::Duration::days(90))
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap();
    cli.run(&[
        "readers",
        "approve",
        &id,
        "--tier",
        "authority",
        "--expires-at",
        &expires,
    ])
    .await
    .code(2);
    let out = cli
        .run(&[
            "readers",
            "approve",
            &id,
            "--tier",
            "legitimate-interest",
            "--gtin",
            "09506000134352",
            "--gtin",
            "04006381333931",
            "--expires-at",
            &expires,
            "--json",
        ])
        .await
        .code(0);
    let v = out.json();
    assert_eq!(v["status"], "approved");
    assert_eq!(v["grant"]["tier"], "legitimateInterest");
    assert_eq!(
        v["grant"]["scope"],
        json!({"kind": "gtins", "gtins": ["09506000134352", "04006381333931"]})
    );
    let out = cli
        .run(&["readers", "suspend", &id, "--reason", "audit"])
        .await
        .code(0);
    assert!(out.stdout.contains("suspended"), "{}", out.stdout);
    cli.run(&["readers", "resume", &id]).await.code(0);
    let out = cli
        .run(&["readers", "revoke", &id, "--reason", "ended", "--json"])
        .await
        .code(0);
    assert_eq!(out.json()["status"], "revoked");
    cli.run(&[
        "readers",
        "approve",
        &id,
        "--tier",
        "authority",
        "--all",
        "--expires-at",
        &expires,
    ])
    .await
    .code(5);
    let out = cli.run(&["readers", "show", &id, "--json"]).await.code(0);
    assert_eq!(out.json()["statusReason"], "ended");

    let write = key(&node, "write").await;
    Cli::for_node(&node, &write)
        .run(&["readers", "list"])
        .await
        .code(4);
    node.stop().await;
}
