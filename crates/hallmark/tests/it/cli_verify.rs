//! `hallmark verify` as a user runs it: real files, real process, exit codes.

use ed25519_dalek::SigningKey;
use hallmark_core::credential::{self, UnsignedCredential};
use hallmark_core::did::{DidDocument, DidWeb, KeyStatus, PublishedKey};
use hallmark_core::keys::Signer as _;
use std::process::Command;

fn run(args: &[&std::ffi::OsStr]) -> (i32, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_hallmark"))
        .args(args)
        .output()
        .unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.code().unwrap(), text)
}

/// A credential valid from `valid_from`, signed by a did:web key, and that DID's document.
fn issue(
    valid_from: time::OffsetDateTime,
    subject: serde_json::Value,
) -> (credential::SecuredCredential, DidDocument) {
    let did = DidWeb::from_base_url("https://dpp.example.com").unwrap();
    let key = SigningKey::from_bytes(&[5; 32]);
    let unsigned = UnsignedCredential {
        id: "https://dpp.example.com/passports/x/versions/1".into(),
        types: vec!["DigitalProductPassport".into()],
        issuer: did.as_str().into(),
        valid_from,
        subject,
        extra_contexts: vec![],
    };
    let c = credential::secure(&unsigned, &did.key_url(&key.key_id()), valid_from, &key).unwrap();
    let doc = DidDocument::build(
        &did,
        &[PublishedKey {
            public_key: key.verifying_key(),
            status: KeyStatus::Current,
        }],
    );
    (c, doc)
}

#[test]
fn verify_prints_checks_and_sets_exit_code() {
    let dir = tempfile::tempdir().unwrap();
    let (c, doc) = issue(
        time::macros::datetime!(2026-01-01 0:00 UTC),
        serde_json::json!({"id": "urn:example:1", "mass": 12.5}),
    );
    let did_path = dir.path().join("did.json");
    let di_path = dir.path().join("passport.json");
    let jwt_path = dir.path().join("passport.jwt");
    let bad_path = dir.path().join("tampered.json");
    std::fs::write(&did_path, serde_json::to_vec_pretty(&doc).unwrap()).unwrap();
    std::fs::write(&di_path, &c.data_integrity).unwrap();
    std::fs::write(&jwt_path, &c.jwt).unwrap();
    std::fs::write(
        &bad_path,
        String::from_utf8(c.data_integrity.clone())
            .unwrap()
            .replace("12.5", "13.5"),
    )
    .unwrap();

    let flag = std::ffi::OsStr::new("--did-document");
    let (code, text) = run(&[
        std::ffi::OsStr::new("verify"),
        di_path.as_os_str(),
        flag,
        did_path.as_os_str(),
    ]);
    assert_eq!(code, 0, "{text}");
    assert!(
        text.contains("pass  signature") && text.ends_with("VALID\n"),
        "{text}"
    );

    // The validity period is checked by default; where the DID document came from is said.
    let (code, text) = run(&[
        std::ffi::OsStr::new("verify"),
        jwt_path.as_os_str(),
        flag,
        did_path.as_os_str(),
    ]);
    assert_eq!(code, 0, "{text}");
    assert!(text.contains("pass  validity"), "{text}");
    assert!(
        text.contains(&format!(
            "pass  did-document    {} (given with --did-document)",
            did_path.display()
        )),
        "{text}"
    );

    let (code, text) = run(&[
        std::ffi::OsStr::new("verify"),
        bad_path.as_os_str(),
        flag,
        did_path.as_os_str(),
    ]);
    assert_eq!(code, 1, "{text}");
    assert!(
        text.contains("FAIL  signature") && text.contains("INVALID"),
        "{text}"
    );

    let (code, text) = run(&[
        std::ffi::OsStr::new("verify"),
        bad_path.as_os_str(),
        flag,
        did_path.as_os_str(),
        std::ffi::OsStr::new("--json"),
    ]);
    assert_eq!(code, 1);
    let report: serde_json::Value = serde_json::from_str(&text).unwrap();
    assert!(report["checks"]
        .as_array()
        .unwrap()
        .iter()
        .any(|c| c["name"] == "signature" && c["outcome"] == "fail"));

    let missing = dir.path().join("nope.json");
    let (code, text) = run(&[
        std::ffi::OsStr::new("verify"),
        missing.as_os_str(),
        flag,
        did_path.as_os_str(),
    ]);
    assert_eq!(code, 2);
    assert!(text.contains("nope.json"), "{text}");
}

/// Validity dates are checked by default: a credential not yet valid (or expired) is
/// INVALID (exit 1) unless `--skip-validity-dates` is given.
#[test]
fn validity_dates_are_checked_by_default_and_can_be_skipped() {
    let dir = tempfile::tempdir().unwrap();
    let (c, doc) = issue(
        time::macros::datetime!(2999-01-01 0:00 UTC),
        serde_json::json!({"id": "urn:example:2"}),
    );
    let did_path = dir.path().join("did.json");
    let cred_path = dir.path().join("passport.json");
    std::fs::write(&did_path, serde_json::to_vec(&doc).unwrap()).unwrap();
    std::fs::write(&cred_path, &c.data_integrity).unwrap();
    let args = [
        std::ffi::OsStr::new("verify"),
        cred_path.as_os_str(),
        std::ffi::OsStr::new("--did-document"),
        did_path.as_os_str(),
    ];
    let (code, text) = run(&args);
    assert_eq!(code, 1, "{text}");
    assert!(
        text.contains("FAIL  validity        not valid before 2999"),
        "{text}"
    );
    let mut skip = args.to_vec();
    skip.push(std::ffi::OsStr::new("--skip-validity-dates"));
    let (code, text) = run(&skip);
    assert_eq!(code, 0, "{text}");
    assert!(text.contains("skip  validity"), "{text}");
}
