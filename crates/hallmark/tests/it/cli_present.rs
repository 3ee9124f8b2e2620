//! `hallmark present` then `hallmark verify` of the presentation (issue 22 item 4): two
//! passports of an operator's did:web (one Data Integrity file, one vc+jwt file) presented
//! with a reader key file's key (the holder's did:key), verified with the operator's DID
//! document; the verifier's `--challenge` and `--domain` bind the presentation.

use ed25519_dalek::SigningKey;
use hallmark_core::credential::{self, UnsignedCredential};
use hallmark_core::did::{DidDocument, DidWeb, KeyStatus, PublishedKey};
use hallmark_core::keys::Signer as _;
use std::path::{Path, PathBuf};
use std::process::Command;

const CHALLENGE: &str = "4f1c-challenge";
const DOMAIN: &str = "https://recycler.example";

/// Runs `hallmark <args>` with an empty environment; exit code, stdout, stderr.
fn hallmark(args: &[&str]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_hallmark"))
        .args(args)
        .env_clear()
        .output()
        .unwrap();
    (
        out.status.code().unwrap(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn path(p: &Path) -> &str {
    p.to_str().unwrap()
}

struct Setup {
    _dir: tempfile::TempDir,
    key: PathBuf,
    di: PathBuf,
    jwt: PathBuf,
    did: PathBuf,
    vp: PathBuf,
}

/// An operator's did:web (on `host`), its signing key and its DID document.
fn operator(host: &str, seed: u8) -> (DidWeb, SigningKey, DidDocument) {
    let key = SigningKey::from_bytes(&[seed; 32]);
    let web = DidWeb::from_base_url(&format!("https://{host}")).unwrap();
    let doc = DidDocument::build(
        &web,
        &[PublishedKey {
            public_key: key.verifying_key(),
            status: KeyStatus::Current,
        }],
    );
    (web, key, doc)
}

/// Passport `n` of an operator.
fn issue(web: &DidWeb, key: &SigningKey, n: u32) -> credential::SecuredCredential {
    let host = web
        .as_str()
        .trim_start_matches("did:web:")
        .replace("%3A", ":");
    credential::secure(
        &UnsignedCredential {
            id: format!("https://{host}/passports/{n}/versions/1"),
            types: vec!["DigitalProductPassport".into()],
            issuer: web.as_str().into(),
            valid_from: time::macros::datetime!(2026-01-01 0:00 UTC),
            subject: serde_json::json!({"id": format!("urn:example:{n}")}),
            extra_contexts: vec![],
        },
        &web.key_url(&key.key_id()),
        time::macros::datetime!(2026-01-01 0:00 UTC),
        key,
    )
    .unwrap()
}

/// A reader key file, the two passport files and the operator's DID document.
fn setup() -> Setup {
    let dir = tempfile::tempdir().unwrap();
    let key = dir.path().join("holder.key.json");
    let (code, out, err) = hallmark(&["reader", "keygen", "--out", path(&key)]);
    assert_eq!(code, 0, "{out}{err}");
    let (web, operator, doc) = operator("dpp.example.com", 51);
    let di = dir.path().join("passport-1.json");
    let jwt = dir.path().join("passport-2.jwt");
    let did = dir.path().join("did.json");
    std::fs::write(&di, issue(&web, &operator, 1).data_integrity).unwrap();
    std::fs::write(&jwt, issue(&web, &operator, 2).jwt).unwrap();
    std::fs::write(&did, serde_json::to_vec(&doc).unwrap()).unwrap();
    let vp = dir.path().join("presentation.json");
    Setup {
        key,
        di,
        jwt,
        did,
        vp,
        _dir: dir,
    }
}

fn present(s: &Setup) {
    let (code, out, err) = hallmark(&[
        "present",
        "--key",
        path(&s.key),
        "--challenge",
        CHALLENGE,
        "--domain",
        DOMAIN,
        "--out",
        path(&s.vp),
        path(&s.di),
        path(&s.jwt),
    ]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.is_empty(), "{out}");
    assert!(
        err.contains("presented 2 credential(s) as did:key:z6Mk"),
        "{err}"
    );
}

#[test]
fn a_presentation_verifies_with_its_challenge_and_domain() {
    let s = setup();
    present(&s);
    let vp: serde_json::Value = serde_json::from_slice(&std::fs::read(&s.vp).unwrap()).unwrap();
    assert_eq!(vp["proof"]["proofPurpose"], "authentication");
    assert_eq!(vp["proof"]["challenge"], CHALLENGE);
    let holder = vp["holder"].as_str().unwrap();
    assert!(holder.starts_with("did:key:z6Mk"), "{vp}");
    assert_eq!(
        vp["proof"]["verificationMethod"],
        format!("{holder}#{}", &holder["did:key:".len()..])
    );
    assert_eq!(
        vp["verifiableCredential"][1]["type"],
        "EnvelopedVerifiableCredential"
    );
    // The key file's secrets appear nowhere in the presentation.
    let key: serde_json::Value = serde_json::from_slice(&std::fs::read(&s.key).unwrap()).unwrap();
    let text = std::fs::read_to_string(&s.vp).unwrap();
    assert!(!text.contains(key["ed25519Seed"].as_str().unwrap()));

    let (code, out, err) = hallmark(&[
        "verify",
        path(&s.vp),
        "--did-document",
        path(&s.did),
        "--challenge",
        CHALLENGE,
        "--domain",
        DOMAIN,
    ]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.starts_with("Presentation\n"), "{out}");
    for check in [
        "presentation",
        "proof-challenge",
        "proof-domain",
        "key-authorized",
        "holder",
        "signature",
    ] {
        assert!(
            out.contains(&format!("pass  {check:<21} ")),
            "{check}: {out}"
        );
    }
    assert!(
        out.contains("Credential 1/2 (embedded, Data Integrity) https://dpp.example.com/passports/1/versions/1")
            && out.contains("Credential 2/2 (enveloped, vc+jwt) https://dpp.example.com/passports/2/versions/1"),
        "{out}"
    );
    assert!(
        out.contains("  pass  did-document") && out.contains("(given with --did-document)"),
        "{out}"
    );
    assert!(
        out.ends_with("VALID\n") && !out.contains("INVALID"),
        "{out}"
    );

    let (code, out, err) = hallmark(&[
        "verify",
        path(&s.vp),
        "--did-document",
        path(&s.did),
        "--challenge",
        CHALLENGE,
        "--domain",
        DOMAIN,
        "--json",
    ]);
    assert_eq!(code, 0, "{out}{err}");
    let report: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(report["verdict"]["verdict"], "valid", "{out}");
    assert_eq!(report["credentials"].as_array().unwrap().len(), 2);
    assert_eq!(report["credentials"][1]["format"], "jwt");
}

#[test]
fn a_wrong_challenge_or_domain_is_invalid() {
    let s = setup();
    present(&s);
    let (code, out, err) = hallmark(&[
        "verify",
        path(&s.vp),
        "--did-document",
        path(&s.did),
        "--challenge",
        "another-challenge",
        "--domain",
        DOMAIN,
    ]);
    assert_eq!(code, 1, "{out}{err}");
    assert!(
        out.contains("FAIL  proof-challenge       challenge \"4f1c-challenge\" is not the expected \"another-challenge\""),
        "{out}"
    );
    assert!(out.ends_with("INVALID\n"), "{out}");

    let (code, out, err) = hallmark(&[
        "verify",
        path(&s.vp),
        "--did-document",
        path(&s.did),
        "--challenge",
        CHALLENGE,
        "--domain",
        "https://elsewhere.example",
    ]);
    assert_eq!(code, 1, "{out}{err}");
    assert!(out.contains("FAIL  proof-domain"), "{out}");

    // No challenge expected: valid, with the replay warning.
    let (code, out, err) = hallmark(&["verify", path(&s.vp), "--did-document", path(&s.did)]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(
        out.contains("WARN  proof-challenge") && out.contains("replay"),
        "{out}"
    );
}

#[test]
fn a_presentation_of_did_web_passports_needs_their_document() {
    let s = setup();
    present(&s);
    let (code, out, err) =
        hallmark(&["verify", path(&s.vp), "--challenge", CHALLENGE, "--offline"]);
    assert_eq!(code, 2, "{out}{err}");
    assert!(
        err.contains("--did-document FILE is required")
            && err.contains("did:web:dpp.example.com")
            && err.contains("unless --offline"),
        "{err}"
    );
}

/// Without `--did-document` (and not `--offline`), each did:web the presentation needs is
/// resolved at its did:web location: here a loopback port nothing listens on, so each
/// credential's `did-document` check fails naming the URL tried (exit 1), while the holder's
/// did:key still resolves from the key.
#[test]
fn a_presentation_resolves_did_web_issuers_at_their_location() {
    let dir = tempfile::tempdir().unwrap();
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = closed.local_addr().unwrap().port();
    drop(closed);
    let key = dir.path().join("holder.key.json");
    let (code, out, err) = hallmark(&["reader", "keygen", "--out", path(&key)]);
    assert_eq!(code, 0, "{out}{err}");
    let (web, operator_key, _) = operator(&format!("127.0.0.1:{port}"), 52);
    let di = dir.path().join("passport-1.json");
    std::fs::write(&di, issue(&web, &operator_key, 1).data_integrity).unwrap();
    let vp = dir.path().join("presentation.json");
    let (code, out, err) = hallmark(&[
        "present",
        "--key",
        path(&key),
        "--challenge",
        CHALLENGE,
        "--out",
        path(&vp),
        path(&di),
    ]);
    assert_eq!(code, 0, "{out}{err}");
    let (code, out, err) = hallmark(&["verify", path(&vp), "--challenge", CHALLENGE]);
    assert_eq!(code, 1, "{out}{err}");
    assert!(
        out.contains(&format!(
            "FAIL  did-document          https://127.0.0.1:{port}/.well-known/did.json \
             (did:web resolution of {web})"
        )),
        "{out}"
    );
    assert!(out.contains("pass  holder"), "{out}");
}

#[test]
fn a_presentation_of_no_credential_proves_the_key_and_a_tampered_one_fails() {
    let s = setup();
    // To stdout, no credential, no challenge: a warning on stderr.
    let (code, out, err) = hallmark(&["present", "--key", path(&s.key)]);
    assert_eq!(code, 0, "{err}");
    assert!(err.contains("no --challenge"), "{err}");
    std::fs::write(&s.vp, &out).unwrap();
    let (code, text, err) = hallmark(&["verify", path(&s.vp)]);
    assert_eq!(code, 0, "{text}{err}");
    assert!(text.contains("pass  holder"), "{text}");

    let tampered = out.replace("\"holder\":\"did:key:z6Mk", "\"holder\":\"did:key:z6MK");
    assert_ne!(tampered, out);
    std::fs::write(&s.vp, tampered).unwrap();
    let (code, text, err) = hallmark(&["verify", path(&s.vp)]);
    assert_eq!(code, 1, "{text}{err}");
    assert!(text.contains("FAIL  holder"), "{text}");
}

#[test]
fn passports_of_two_operators_verify_with_both_documents() {
    let s = setup();
    let dir = s.vp.parent().unwrap();
    let (web, key, doc) = operator("batteries.example.org", 52);
    let other = dir.join("other-3.json");
    let other_did = dir.join("other-did.json");
    std::fs::write(&other, issue(&web, &key, 3).data_integrity).unwrap();
    std::fs::write(&other_did, serde_json::to_vec(&doc).unwrap()).unwrap();
    let (code, out, err) = hallmark(&[
        "present",
        "--key",
        path(&s.key),
        "--challenge",
        CHALLENGE,
        "--out",
        path(&s.vp),
        path(&s.di),
        path(&other),
    ]);
    assert_eq!(code, 0, "{out}{err}");
    let verify = |docs: &[&Path]| {
        let mut args = vec!["verify", path(&s.vp), "--challenge", CHALLENGE];
        for d in docs {
            args.extend(["--did-document", path(d)]);
        }
        hallmark(&args)
    };
    let (code, out, err) = verify(&[&s.did, &other_did]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(
        out.contains(&format!(
            "  pass  did-document          {}",
            other_did.display()
        )),
        "{out}"
    );
    // Without the second operator's document, its passport fails its key check.
    let (code, out, err) = verify(&[&s.did]);
    assert_eq!(code, 1, "{out}{err}");
    assert!(
        out.contains("  FAIL  key                   no controller document")
            && out.contains("did:web:batteries.example.org"),
        "{out}"
    );
}

#[test]
fn a_credential_file_takes_one_document_and_the_expected_challenge_too() {
    let s = setup();
    // A passport's proof carries no challenge: expecting one fails.
    let (code, out, err) = hallmark(&[
        "verify",
        path(&s.di),
        "--did-document",
        path(&s.did),
        "--challenge",
        CHALLENGE,
    ]);
    assert_eq!(code, 1, "{out}{err}");
    assert!(
        out.contains("FAIL  proof-challenge       the proof has no challenge"),
        "{out}"
    );
    let (code, out, err) = hallmark(&[
        "verify",
        path(&s.di),
        "--did-document",
        path(&s.did),
        "--did-document",
        path(&s.did),
    ]);
    assert_eq!(code, 2, "{out}{err}");
    assert!(err.contains("one --did-document for a credential"), "{err}");
}
