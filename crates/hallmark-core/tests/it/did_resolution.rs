//! The verifier's DID resolution port and controller rule: the W3C vc-di-eddsa signedJCS.json
//! vector (an https issuer, a did:key key) verified end to end with did:key resolved in
//! core, the issuer policy, and the controller document rules (its id, the method's
//! controller, `assertionMethod` by absolute or relative id).

use ed25519_dalek::SigningKey;
use hallmark_core::credential::{self, UnsignedCredential};
use hallmark_core::did::{DidDocument, DidWeb, KeyStatus, PublishedKey};
use hallmark_core::did_key::DidKey;
use hallmark_core::did_resolver::{ResolveDid, ResolveError, Resolver};
use hallmark_core::keys::Signer as _;
use hallmark_core::verify::{verify_resolving, verify_with, IssuerPolicy, Outcome, VerifyOptions};
use serde_json::{json, Value};
use std::borrow::Cow;
use std::path::PathBuf;
use time::macros::datetime;

fn vector() -> Vec<u8> {
    let p = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared/vectors/vc-di-eddsa/eddsa-jcs-2022/signedJCS.json");
    std::fs::read(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

fn policy(p: IssuerPolicy) -> VerifyOptions {
    VerifyOptions {
        now: Some(datetime!(2026-12-06 0:00 UTC)),
        issuer_policy: p,
        ..VerifyOptions::default()
    }
}

#[test]
fn the_w3c_vector_verifies_with_did_key_in_core_when_foreign_issuers_are_allowed() {
    let r = verify_resolving(
        &vector(),
        &Resolver::did_key_only(),
        &policy(IssuerPolicy::Any),
    );
    assert!(r.is_valid(), "{r}");
    assert!(
        matches!(r.check("signature"), Some(Outcome::Pass(_))),
        "{r}"
    );
    assert!(
        matches!(r.check("key-authorized"), Some(Outcome::Pass(_))),
        "{r}"
    );
    assert!(matches!(r.check("validity"), Some(Outcome::Pass(_))), "{r}");
    let Some(Outcome::Warn(w)) = r.check("issuer") else {
        panic!("{r}")
    };
    assert!(w.contains("https://vc.example/issuers/5678"), "{w}");
    assert!(
        w.contains("did:key:z6MkrJVnaZkeFzdQyMZu1cgjg7k1pZZ6pvBQ7XJPt4swbTQ2"),
        "{w}"
    );
}

#[test]
fn the_w3c_vector_fails_the_issuer_check_under_the_default_policy() {
    assert_eq!(
        VerifyOptions::default().issuer_policy,
        IssuerPolicy::MustBeController
    );
    let r = verify_resolving(
        &vector(),
        &Resolver::did_key_only(),
        &policy(IssuerPolicy::MustBeController),
    );
    assert!(!r.is_valid(), "{r}");
    let Some(Outcome::Fail(f)) = r.check("issuer") else {
        panic!("{r}")
    };
    assert!(f.contains("must-be-controller"), "{f}");
    assert!(
        matches!(r.check("signature"), Some(Outcome::Skipped(_))),
        "{r}"
    );
}

#[test]
fn a_tampered_vector_fails_the_signature() {
    let mut v: Value = serde_json::from_slice(&vector()).unwrap();
    v["credentialSubject"]["alumniOf"] = json!("The School of Forgeries");
    let r = verify_resolving(
        &serde_json::to_vec(&v).unwrap(),
        &Resolver::did_key_only(),
        &policy(IssuerPolicy::Any),
    );
    assert!(
        matches!(r.check("signature"), Some(Outcome::Fail(_))),
        "{r}"
    );
    assert!(!r.is_valid());
    // A vector whose verification method names another did:key: its key does not verify.
    let mut v: Value = serde_json::from_slice(&vector()).unwrap();
    let other = DidKey::of(&SigningKey::from_bytes(&[5; 32]).verifying_key());
    v["proof"]["verificationMethod"] = json!(other.method_id());
    let r = verify_resolving(
        &serde_json::to_vec(&v).unwrap(),
        &Resolver::did_key_only(),
        &policy(IssuerPolicy::Any),
    );
    assert!(matches!(r.check("key"), Some(Outcome::Pass(_))), "{r}");
    assert!(
        matches!(r.check("signature"), Some(Outcome::Fail(_))),
        "{r}"
    );
    // An invalid did:key is a failed key check naming what is wrong.
    let mut v: Value = serde_json::from_slice(&vector()).unwrap();
    v["proof"]["verificationMethod"] =
        json!("did:key:Z6MkrJVnaZkeFzdQyMZu1cgjg7k1pZZ6pvBQ7XJPt4swbTQ2#x");
    let r = verify_resolving(
        &serde_json::to_vec(&v).unwrap(),
        &Resolver::did_key_only(),
        &policy(IssuerPolicy::Any),
    );
    let Some(Outcome::Fail(f)) = r.check("key") else {
        panic!("{r}")
    };
    assert!(f.contains("wrong multibase"), "{f}");
}

fn unsigned(issuer: &str) -> UnsignedCredential {
    UnsignedCredential {
        id: "https://dpp.example.com/passports/1/versions/1".into(),
        types: vec!["DigitalProductPassport".into()],
        issuer: issuer.into(),
        valid_from: datetime!(2026-11-01 10:00:00 UTC),
        subject: json!({"id": "https://id.example.com/01/09506000134352/21/ABC123"}),
        extra_contexts: vec![],
    }
}

#[test]
fn a_did_key_issuer_verifies_strictly_in_both_forms_without_a_document() {
    let k = SigningKey::from_bytes(&[8; 32]);
    let dk = DidKey::of(&k.verifying_key());
    let c = credential::secure(
        &unsigned(dk.as_str()),
        &dk.method_id(),
        datetime!(2026-11-01 10:00:01 UTC),
        &k,
    )
    .unwrap();
    for bytes in [c.data_integrity.as_slice(), c.jwt.as_bytes()] {
        let r = verify_resolving(bytes, &Resolver::did_key_only(), &VerifyOptions::default());
        assert!(r.is_valid(), "{r}");
        assert!(matches!(r.check("issuer"), Some(Outcome::Pass(_))), "{r}");
    }
}

fn web() -> DidWeb {
    DidWeb::from_base_url("https://dpp.example.com").unwrap()
}

fn issued(k: &SigningKey) -> credential::SecuredCredential {
    let vm = web().key_url(&k.key_id());
    credential::secure(
        &unsigned(web().as_str()),
        &vm,
        datetime!(2026-11-01 10:00:01 UTC),
        k,
    )
    .unwrap()
}

fn doc(k: &SigningKey) -> DidDocument {
    DidDocument::build(
        &web(),
        &[PublishedKey {
            public_key: k.verifying_key(),
            status: KeyStatus::Current,
        }],
    )
}

#[test]
fn assertion_method_by_relative_id_counts_and_other_relationships_do_not() {
    let k = SigningKey::from_bytes(&[1; 32]);
    let c = issued(&k);
    let mut d = doc(&k);
    let vm = d.verification_method[0].id.clone();
    let fragment = format!("#{}", vm.split_once('#').unwrap().1);
    d.assertion_method = vec![json!(fragment)];
    assert!(verify_with(&c.data_integrity, &d, &VerifyOptions::default()).is_valid());
    // Listed for authentication (and capabilities) only: not authorised to issue.
    d.assertion_method.clear();
    d.authentication = vec![json!(vm)];
    d.capability_invocation = vec![json!(vm)];
    let r = verify_with(&c.data_integrity, &d, &VerifyOptions::default());
    assert!(
        matches!(r.check("key-authorized"), Some(Outcome::Fail(_))),
        "{r}"
    );
    assert!(!r.is_valid());
}

#[test]
fn a_method_whose_controller_is_not_the_document_is_refused() {
    let k = SigningKey::from_bytes(&[1; 32]);
    let c = issued(&k);
    let mut d = doc(&k);
    d.verification_method[0].controller = "did:web:evil.example".into();
    let r = verify_with(&c.data_integrity, &d, &VerifyOptions::default());
    let Some(Outcome::Fail(f)) = r.check("key") else {
        panic!("{r}")
    };
    assert!(f.contains("did:web:evil.example"), "{f}");
}

/// A resolver that answers every DID with the same document (a broken adapter).
struct Always(DidDocument);

impl ResolveDid for Always {
    fn resolve(&self, _did: &str) -> Result<Cow<'_, DidDocument>, ResolveError> {
        Ok(Cow::Borrowed(&self.0))
    }
}

#[test]
fn a_controller_document_for_another_did_is_refused_even_from_the_port() {
    let k = SigningKey::from_bytes(&[1; 32]);
    let c = issued(&k);
    // The evil document lists the victim's method id with the victim's key.
    let mut evil = doc(&k);
    evil.id = "did:web:evil.example".into();
    for relaxed in [IssuerPolicy::MustBeController, IssuerPolicy::Any] {
        let r = verify_resolving(&c.data_integrity, &Always(evil.clone()), &policy(relaxed));
        let Some(Outcome::Fail(f)) = r.check("key") else {
            panic!("{r}")
        };
        assert!(f.contains("is not the verification method's DID"), "{f}");
        assert!(!r.is_valid());
    }
    // With the policy relaxed, a key of another did:web controller is accepted with a warning.
    let other = DidWeb::from_base_url("https://keys.example.org").unwrap();
    let vm = other.key_url(&k.key_id());
    let c = credential::secure(
        &unsigned(web().as_str()),
        &vm,
        datetime!(2026-11-01 10:00:01 UTC),
        &k,
    )
    .unwrap();
    let d = DidDocument::build(
        &other,
        &[PublishedKey {
            public_key: k.verifying_key(),
            status: KeyStatus::Current,
        }],
    );
    let strict = verify_with(&c.data_integrity, &d, &VerifyOptions::default());
    assert!(
        matches!(strict.check("issuer"), Some(Outcome::Fail(_))),
        "{strict}"
    );
    let relaxed = verify_with(&c.data_integrity, &d, &policy(IssuerPolicy::Any));
    assert!(relaxed.is_valid(), "{relaxed}");
    assert!(
        matches!(relaxed.check("issuer"), Some(Outcome::Warn(_))),
        "{relaxed}"
    );
    // Without that controller's document, nothing verifies, whatever the policy.
    let none = verify_with(&c.data_integrity, &doc(&k), &policy(IssuerPolicy::Any));
    assert!(
        matches!(none.check("key"), Some(Outcome::Fail(_))),
        "{none}"
    );
    assert!(
        matches!(none.check("issuer"), Some(Outcome::Skipped(_))),
        "{none}"
    );
}

#[test]
fn a_pinned_document_stays_the_only_trust_root() {
    // A credential self-issued by an arbitrary did:key, claiming a passport's id: what an
    // attacker writing rows would try against a node that checks what it serves.
    let attacker = SigningKey::from_bytes(&[66; 32]);
    let dk = DidKey::of(&attacker.verifying_key());
    let forged = credential::secure(
        &unsigned(dk.as_str()),
        &dk.method_id(),
        datetime!(2026-11-01 10:00:01 UTC),
        &attacker,
    )
    .unwrap();
    let node = doc(&SigningKey::from_bytes(&[1; 32]));
    let r = hallmark_core::verify::verify(&forged.data_integrity, &node);
    assert!(!r.is_valid(), "{r}");
    let Some(Outcome::Fail(f)) = r.check("key") else {
        panic!("{r}")
    };
    assert!(f.contains("did:key resolution is not enabled"), "{f}");
    // Enabled on purpose, it resolves.
    let r = verify_resolving(
        &forged.data_integrity,
        &Resolver::with_document(&node).and_did_key(),
        &VerifyOptions::default(),
    );
    assert!(r.is_valid(), "{r}");
}
