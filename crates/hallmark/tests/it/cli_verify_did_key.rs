//! `hallmark verify` of credentials signed with a did:key: resolved in core, no network and
//! no `--did-document`; the W3C vc-di-eddsa signedJCS.json vector (an https issuer, a did:key
//! key) valid only with `--allow-foreign-issuer`, failing the named `issuer` check without it;
//! a credential breaking the VC Data Model 2.0 refused naming the rule; related resources
//! given as files (`--related-resource URL=FILE`) compared with their digests.

use ed25519_dalek::SigningKey;
use hallmark_core::credential::{self, UnsignedCredential};
use hallmark_core::did::{DidDocument, DidWeb, KeyStatus, PublishedKey};
use hallmark_core::did_key::DidKey;
use hallmark_core::keys::Signer as _;
use std::path::{Path, PathBuf};
use std::process::Command;

const VECTOR_KEY: &str = "did:key:z6MkrJVnaZkeFzdQyMZu1cgjg7k1pZZ6pvBQ7XJPt4swbTQ2";

fn vector() -> PathBuf {
    let p = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared/vectors/vc-di-eddsa/eddsa-jcs-2022/signedJCS.json");
    assert!(p.is_file(), "{} is required (see README)", p.display());
    p
}

/// Runs `hallmark verify <args>` with no network configuration at all; exit code and output.
fn verify(args: &[&str]) -> (i32, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_hallmark"))
        .arg("verify")
        .args(args)
        .env_clear()
        .output()
        .unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.code().unwrap(), text)
}

fn path(p: &Path) -> &str {
    p.to_str().unwrap()
}

#[test]
fn the_w3c_vector_verifies_with_allow_foreign_issuer() {
    let v = vector();
    let (code, text) = verify(&[path(&v), "--allow-foreign-issuer"]);
    assert_eq!(code, 0, "{text}");
    assert!(
        text.contains(&format!(
            "pass  did-document          {VECTOR_KEY} (did:key, resolved from the key; no network)"
        )),
        "{text}"
    );
    assert!(
        text.contains("WARN  issuer                issuer \"https://vc.example/issuers/5678\" is not the controller"),
        "{text}"
    );
    for check in ["key", "key-authorized", "signature", "validity"] {
        assert!(
            text.contains(&format!("pass  {check:<21} ")),
            "{check}: {text}"
        );
    }
    assert!(
        text.ends_with("VALID\n") && !text.contains("INVALID"),
        "{text}"
    );

    // The same as JSON: the issuer check is a warning, the verdict valid.
    let (code, text) = verify(&[path(&v), "--allow-foreign-issuer", "--json"]);
    assert_eq!(code, 0, "{text}");
    let report: serde_json::Value = serde_json::from_str(&text).unwrap();
    assert_eq!(report["verdict"]["verdict"], "valid", "{text}");
    assert_eq!(
        report["verificationMethod"],
        format!("{VECTOR_KEY}#{}", &VECTOR_KEY["did:key:".len()..])
    );
    assert!(report["checks"]
        .as_array()
        .unwrap()
        .iter()
        .any(|c| c["name"] == "issuer" && c["outcome"] == "warn"));
}

#[test]
fn the_w3c_vector_fails_the_issuer_check_by_default() {
    let (code, text) = verify(&[path(&vector())]);
    assert_eq!(code, 1, "{text}");
    assert!(
        text.contains("FAIL  issuer                issuer \"https://vc.example/issuers/5678\"")
            && text.contains("must-be-controller"),
        "{text}"
    );
    assert!(text.contains("skip  signature"), "{text}");
    assert!(text.ends_with("INVALID\n"), "{text}");
}

#[test]
fn a_tampered_copy_of_the_vector_fails_the_signature() {
    let dir = tempfile::tempdir().unwrap();
    let original = std::fs::read_to_string(vector()).unwrap();
    let tampered = original.replace("The School of Examples", "The School of Forgeries");
    assert_ne!(tampered, original);
    let p = dir.path().join("tampered.json");
    std::fs::write(&p, tampered).unwrap();
    let (code, text) = verify(&[path(&p), "--allow-foreign-issuer"]);
    assert_eq!(code, 1, "{text}");
    assert!(text.contains("pass  key-authorized"), "{text}");
    assert!(text.contains("FAIL  signature"), "{text}");
    assert!(text.ends_with("INVALID\n"), "{text}");
}

fn unsigned(issuer: &str) -> UnsignedCredential {
    UnsignedCredential {
        id: "https://dpp.example.com/passports/x/versions/1".into(),
        types: vec!["DigitalProductPassport".into()],
        issuer: issuer.into(),
        valid_from: time::macros::datetime!(2026-01-01 0:00 UTC),
        subject: serde_json::json!({"id": "urn:example:1"}),
        extra_contexts: vec![],
    }
}

#[test]
fn a_did_key_issuer_verifies_strictly_and_a_pinned_document_excludes_it() {
    let dir = tempfile::tempdir().unwrap();
    let key = SigningKey::from_bytes(&[21; 32]);
    let dk = DidKey::of(&key.verifying_key());
    let c = credential::secure(
        &unsigned(dk.as_str()),
        &dk.method_id(),
        time::macros::datetime!(2026-01-01 0:00 UTC),
        &key,
    )
    .unwrap();
    let di = dir.path().join("passport.json");
    let jwt = dir.path().join("passport.jwt");
    std::fs::write(&di, &c.data_integrity).unwrap();
    std::fs::write(&jwt, &c.jwt).unwrap();
    for p in [&di, &jwt] {
        let (code, text) = verify(&[path(p)]);
        assert_eq!(code, 0, "{text}");
        assert!(
            text.contains(&format!(
                "pass  issuer                {dk} (controller of the key)"
            )),
            "{text}"
        );
    }
    // Given --did-document, that document is the only trust root: the did:key is not
    // resolved, whatever the issuer policy.
    let web = DidWeb::from_base_url("https://dpp.example.com").unwrap();
    let doc = DidDocument::build(
        &web,
        &[PublishedKey {
            public_key: key.verifying_key(),
            status: KeyStatus::Current,
        }],
    );
    let did = dir.path().join("did.json");
    std::fs::write(&did, serde_json::to_vec(&doc).unwrap()).unwrap();
    let (code, text) = verify(&[
        path(&di),
        "--did-document",
        path(&did),
        "--allow-foreign-issuer",
    ]);
    assert_eq!(code, 1, "{text}");
    assert!(
        text.contains("FAIL  key") && text.contains("did:key resolution is not enabled"),
        "{text}"
    );
}

#[test]
fn a_did_web_credential_without_its_document_is_a_usage_error() {
    let dir = tempfile::tempdir().unwrap();
    let web = DidWeb::from_base_url("https://dpp.example.com").unwrap();
    let key = SigningKey::from_bytes(&[22; 32]);
    let c = credential::secure(
        &unsigned(web.as_str()),
        &web.key_url(&key.key_id()),
        time::macros::datetime!(2026-01-01 0:00 UTC),
        &key,
    )
    .unwrap();
    let p = dir.path().join("passport.json");
    std::fs::write(&p, &c.data_integrity).unwrap();
    let (code, text) = verify(&[path(&p), "--offline"]);
    assert_eq!(code, 2, "{text}");
    assert!(
        text.contains("--did-document FILE is required")
            && text.contains("did:web:dpp.example.com#")
            && text.contains("unless --offline"),
        "{text}"
    );
    // Not a credential at all: the report says so (exit 1), no document asked for.
    std::fs::write(&p, "not a credential").unwrap();
    let (code, text) = verify(&[path(&p), "--offline"]);
    assert_eq!(code, 1, "{text}");
    assert!(text.contains("FAIL  format"), "{text}");
}

/// eddsa-jcs-2022 over `doc` with the low-level primitives: Hallmark's signing functions
/// refuse a credential that breaks the VC Data Model 2.0, an outside issuer need not.
fn sign_unchecked(doc: &serde_json::Value, key: &SigningKey) -> serde_json::Value {
    let options = credential::ProofOptions {
        verification_method: DidKey::of(&key.verifying_key()).method_id(),
        created: "2026-01-01T00:00:00Z".into(),
    };
    let mut config = credential::proof_config(doc, &options).unwrap();
    let t = credential::trace(doc, &config).unwrap();
    let sig = key.sign(&t.hash_data()).unwrap();
    config.insert(
        "proofValue".into(),
        hallmark_core::keys::signature_multibase(&sig).into(),
    );
    let mut out = doc.clone();
    out["proof"] = config.into();
    out
}

#[test]
fn a_credential_breaking_the_data_model_is_refused_naming_the_rule() {
    let dir = tempfile::tempdir().unwrap();
    let key = SigningKey::from_bytes(&[23; 32]);
    let dk = DidKey::of(&key.verifying_key());
    let mut doc = unsigned(dk.as_str()).to_value().unwrap();
    doc["validUntil"] = "2036-01-01T00:00:00Z".into();
    doc["credentialStatus"] = serde_json::json!([
        {"id": "https://dpp.example.com/status/suspension/0#7", "type": "BitstringStatusListEntry",
         "statusPurpose": "suspension", "statusListIndex": "7",
         "statusListCredential": "https://dpp.example.com/status/suspension/0"},
        {"id": "https://dpp.example.com/status/revocation/0#7"}
    ]);
    // Hallmark would not sign it.
    let refused = credential::sign_data_integrity(
        &doc,
        &credential::ProofOptions {
            verification_method: dk.method_id(),
            created: "2026-01-01T00:00:00Z".into(),
        },
        &key,
    );
    assert!(
        matches!(
            refused,
            Err(credential::CredentialError::DataModel {
                rule: "credential-status",
                ..
            })
        ),
        "{refused:?}"
    );
    let p = dir.path().join("malformed.json");
    std::fs::write(&p, serde_json::to_vec(&sign_unchecked(&doc, &key)).unwrap()).unwrap();
    let (code, text) = verify(&[path(&p)]);
    assert_eq!(code, 1, "{text}");
    assert!(
        text.contains(
            "FAIL  credential            VC Data Model 2.0: 1 of 14 rules broken: credential-status\n\
             FAIL  credential-status     credentialStatus[1] has no type\n"
        ),
        "{text}"
    );
    assert!(text.contains("skip  signature"), "{text}");
    assert!(text.ends_with("INVALID\n"), "{text}");
    let (code, text) = verify(&[path(&p), "--json"]);
    assert_eq!(code, 1, "{text}");
    let report: serde_json::Value = serde_json::from_str(&text).unwrap();
    assert!(report["checks"]
        .as_array()
        .unwrap()
        .iter()
        .any(|c| c["name"] == "credential-status"
            && c["outcome"] == "fail"
            && c["detail"] == "credentialStatus[1] has no type"));
}

#[test]
fn related_resources_given_as_files_are_compared_with_their_digests() {
    use base64::Engine as _;
    use sha2::Digest as _;
    let dir = tempfile::tempdir().unwrap();
    let key = SigningKey::from_bytes(&[24; 32]);
    let dk = DidKey::of(&key.verifying_key());
    let schema = br#"{"type": "object"}"#;
    let url = "https://example.org/schemas/passport.json?v=1";
    let mut doc = unsigned(dk.as_str()).to_value().unwrap();
    doc["relatedResource"] = serde_json::json!([{
        "id": url,
        "digestSRI": format!("sha256-{}", base64::engine::general_purpose::STANDARD.encode(sha2::Sha256::digest(schema)))
    }]);
    let options = credential::ProofOptions {
        verification_method: dk.method_id(),
        created: "2026-01-01T00:00:00Z".into(),
    };
    let signed = credential::sign_data_integrity(&doc, &options, &key).unwrap();
    let p = dir.path().join("passport.json");
    std::fs::write(&p, serde_json::to_vec(&signed).unwrap()).unwrap();
    let good = dir.path().join("schema.json");
    std::fs::write(&good, schema).unwrap();
    let bad = dir.path().join("changed.json");
    std::fs::write(&bad, br#"{"type": "array"}"#).unwrap();

    let (code, text) = verify(&[path(&p)]);
    assert_eq!(code, 0, "{text}");
    assert!(
        text.contains(&format!(
            "skip  related-resource      digests well formed; not supplied, not compared: {url}\n"
        )),
        "{text}"
    );
    let arg = format!("{url}={}", path(&good));
    let (code, text) = verify(&[path(&p), "--related-resource", &arg]);
    assert_eq!(code, 0, "{text}");
    assert!(
        text.contains(&format!(
            "pass  related-resource      digests match: {url}\n"
        )),
        "{text}"
    );
    let arg = format!("{url}={}", path(&bad));
    let (code, text) = verify(&[path(&p), "--related-resource", &arg]);
    assert_eq!(code, 1, "{text}");
    assert!(
        text.contains("FAIL  related-resource      relatedResource[0]")
            && text.contains("does not match the supplied resource"),
        "{text}"
    );
    // A malformed argument or a missing file is a usage error.
    let (code, text) = verify(&[path(&p), "--related-resource", "no-equals-sign"]);
    assert_eq!(code, 2, "{text}");
    assert!(text.contains("expected URL=FILE"), "{text}");
    let missing = format!("{url}={}", dir.path().join("nope").display());
    let (code, _) = verify(&[path(&p), "--related-resource", &missing]);
    assert_eq!(code, 2);
}

/// Without `--offline` or `--did-document`, a did:web verification method's controller
/// document is fetched from its did:web location (https): here a loopback port nothing
/// listens on, so the `did-document` check fails naming the URL tried, and nothing else is
/// verified (exit 1, not a usage error).
#[test]
fn a_did_web_credential_file_is_resolved_at_its_did_web_location() {
    let dir = tempfile::tempdir().unwrap();
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = closed.local_addr().unwrap().port();
    drop(closed);
    let web = DidWeb::from_base_url(&format!("https://127.0.0.1:{port}")).unwrap();
    let key = SigningKey::from_bytes(&[23; 32]);
    let c = credential::secure(
        &unsigned(web.as_str()),
        &web.key_url(&key.key_id()),
        time::macros::datetime!(2026-01-01 0:00 UTC),
        &key,
    )
    .unwrap();
    let p = dir.path().join("passport.json");
    std::fs::write(&p, &c.data_integrity).unwrap();
    let (code, text) = verify(&[path(&p)]);
    assert_eq!(code, 1, "{text}");
    assert!(
        text.contains(&format!(
            "FAIL  did-document          https://127.0.0.1:{port}/.well-known/did.json \
             (did:web resolution of {web})"
        )),
        "{text}"
    );
    assert!(text.contains("skip  signature"), "{text}");
    assert!(text.ends_with("INVALID\n"), "{text}");
}

/// The W3C proof-set and proof-chain vectors end to end through the CLI: their keys are
/// did:keys (resolved from themselves, no document needed), but every proof uses
/// `eddsa-rdfc-2022` (RDF canonicalisation), which Hallmark does not implement: each proof
/// fails the named `proof` check for its cryptosuite, and the verdict is invalid (docs/verify.md,
/// "The W3C vectors").
#[test]
fn the_w3c_proof_set_and_chain_vectors_are_refused_by_cryptosuite() {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared/vectors/vc-di-eddsa/proof-set-chain");
    for name in [
        "signedProofSet1.json",
        "signedProofSet2.json",
        "signedProofChain1.json",
        "signedProofChain2.json",
    ] {
        let p = dir.join(name);
        assert!(p.is_file(), "{} is required (see README)", p.display());
        let (code, text) = verify(&[path(&p), "--allow-foreign-issuer"]);
        assert_eq!(code, 1, "{name}: {text}");
        assert!(
            text.contains("FAIL  proof ")
                && text.contains("unsupported cryptosuite \"eddsa-rdfc-2022\""),
            "{name}: {text}"
        );
        assert!(text.ends_with("INVALID\n"), "{name}: {text}");
    }
}
