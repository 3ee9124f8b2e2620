//! Issue → verify round trips for both secured forms, against did:web documents only, and
//! tampering, key status and malformed input.

use ed25519_dalek::SigningKey;
use hallmark_core::credential::{self, SecuredCredential, UnsignedCredential};
use hallmark_core::did::{DidDocument, DidWeb, KeyStatus, PublishedKey};
use hallmark_core::keys::Signer as _;
use hallmark_core::verify::{verify, verify_with, Outcome, VerifyOptions};
use proptest::prelude::*;
use serde_json::json;
use time::macros::datetime;

fn did() -> DidWeb {
    DidWeb::from_base_url("https://dpp.example.com").unwrap()
}

fn key(n: u8) -> SigningKey {
    SigningKey::from_bytes(&[n; 32])
}

fn doc_with(keys: &[(u8, KeyStatus)]) -> DidDocument {
    let published: Vec<_> = keys
        .iter()
        .map(|(n, s)| PublishedKey {
            public_key: key(*n).verifying_key(),
            status: *s,
        })
        .collect();
    DidDocument::build(&did(), &published)
}

fn unsigned() -> UnsignedCredential {
    UnsignedCredential {
        id: "https://dpp.example.com/passports/0190b6a2-0000-7000-8000-000000000001/versions/1"
            .into(),
        types: vec!["DigitalProductPassport".into()],
        issuer: did().as_str().into(),
        valid_from: datetime!(2026-11-01 10:00:00 UTC),
        subject: json!({
            "id": "https://id.example.com/01/09506000134352/21/ABC123",
            "batteryMass": 699.5,
            "batteryChemistry": {"shortName": "NMC", "clearName": "Lithium nickel manganese cobalt oxides"},
            "note": "Grüße — 電池 🔋"
        }),
        extra_contexts: vec![],
    }
}

fn issue_with(n: u8) -> SecuredCredential {
    let k = key(n);
    let vm = did().key_url(&k.key_id());
    credential::secure(&unsigned(), &vm, datetime!(2026-11-01 10:00:01.5 UTC), &k).unwrap()
}

#[test]
fn both_forms_verify_against_the_did_document_alone() {
    let c = issue_with(1);
    let doc = doc_with(&[(1, KeyStatus::Current)]);
    // Round-trip the DID document through JSON, as a verifier would receive it.
    let doc = DidDocument::from_json(&serde_json::to_vec(&doc).unwrap()).unwrap();
    let di = verify(&c.data_integrity, &doc);
    assert!(di.is_valid(), "{di}");
    let jwt = verify(c.jwt.as_bytes(), &doc);
    assert!(jwt.is_valid(), "{jwt}");
    // Both forms carry the same credential.
    assert_eq!(di.credential, jwt.credential);
    // Pretty-printing the JSON form does not break it (the proof is over canonical form).
    let pretty = serde_json::to_vec_pretty(
        &serde_json::from_slice::<serde_json::Value>(&c.data_integrity).unwrap(),
    )
    .unwrap();
    assert!(verify(&pretty, &doc).is_valid());
}

#[test]
fn issued_proof_has_expected_shape() {
    let c = issue_with(1);
    let v: serde_json::Value = serde_json::from_slice(&c.data_integrity).unwrap();
    assert_eq!(v["proof"]["cryptosuite"], "eddsa-jcs-2022");
    assert_eq!(v["proof"]["created"], "2026-11-01T10:00:01Z");
    assert_eq!(v["validFrom"], "2026-11-01T10:00:00Z");
    assert_eq!(v["issuer"], "did:web:dpp.example.com");
    assert_eq!(
        v["type"],
        json!(["VerifiableCredential", "DigitalProductPassport"])
    );
    // Stored bytes are canonical JSON.
    assert_eq!(
        hallmark_core::jcs::canonicalize_text(&c.data_integrity).unwrap(),
        c.data_integrity
    );
    let header = c.jwt.split('.').next().unwrap();
    use base64::Engine as _;
    let header = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(header)
        .unwrap();
    let header: serde_json::Value = serde_json::from_slice(&header).unwrap();
    assert_eq!(header["alg"], "EdDSA");
    assert_eq!(header["typ"], "vc+jwt");
    assert_eq!(header["kid"], v["proof"]["verificationMethod"]);
}

#[test]
fn rotation_keeps_old_credentials_verifiable_and_revocation_stops_them() {
    let old = issue_with(1);
    let new = issue_with(2);
    let rotated = doc_with(&[(1, KeyStatus::Retired), (2, KeyStatus::Current)]);
    for c in [&old, &new] {
        assert!(verify(&c.data_integrity, &rotated).is_valid());
        assert!(verify(c.jwt.as_bytes(), &rotated).is_valid());
    }
    let revoked = doc_with(&[(1, KeyStatus::Revoked), (2, KeyStatus::Current)]);
    for input in [old.data_integrity.clone(), old.jwt.clone().into_bytes()] {
        let r = verify(&input, &revoked);
        assert!(!r.is_valid());
        assert!(
            matches!(r.check("key"), Some(Outcome::Fail(m)) if m.contains("revoked")),
            "{r}"
        );
        assert!(matches!(r.check("signature"), Some(Outcome::Skipped(_))));
    }
    assert!(verify(&new.data_integrity, &revoked).is_valid());
}

#[test]
fn wrong_issuer_document_fails_issuer_check() {
    let c = issue_with(1);
    let other = DidDocument::build(
        &DidWeb::from_base_url("https://evil.example").unwrap(),
        &[PublishedKey {
            public_key: key(1).verifying_key(),
            status: KeyStatus::Current,
        }],
    );
    let r = verify(&c.data_integrity, &other);
    assert!(matches!(r.check("issuer"), Some(Outcome::Fail(_))), "{r}");
    assert!(!r.is_valid());
}

#[test]
fn key_not_in_assertion_method_is_refused() {
    let c = issue_with(1);
    let mut doc = doc_with(&[(1, KeyStatus::Current)]);
    doc.assertion_method.clear();
    let r = verify(&c.data_integrity, &doc);
    assert!(
        matches!(r.check("key-authorized"), Some(Outcome::Fail(_))),
        "{r}"
    );
}

#[test]
fn validity_period_is_checked_when_a_time_is_given() {
    let c = issue_with(1);
    let doc = doc_with(&[(1, KeyStatus::Current)]);
    let early = verify_with(
        &c.data_integrity,
        &doc,
        &VerifyOptions {
            now: Some(datetime!(2026-10-01 0:00 UTC)),
            ..VerifyOptions::default()
        },
    );
    assert!(matches!(early.check("validity"), Some(Outcome::Fail(_))));
    let fine = verify_with(
        &c.data_integrity,
        &doc,
        &VerifyOptions {
            now: Some(datetime!(2027-01-01 0:00 UTC)),
            ..VerifyOptions::default()
        },
    );
    assert!(fine.is_valid());
    assert!(matches!(
        verify(&c.data_integrity, &doc).check("validity"),
        Some(Outcome::Skipped(_))
    ));
}

#[test]
fn malformed_inputs_give_failed_checks_not_panics() {
    let doc = doc_with(&[(1, KeyStatus::Current)]);
    let c = issue_with(1);
    let di = String::from_utf8(c.data_integrity.clone()).unwrap();
    let cases: Vec<(&str, Vec<u8>)> = vec![
        ("format", b"".to_vec()),
        ("format", b"hello world".to_vec()),
        ("well-formed", di.as_bytes()[..di.len() / 2].to_vec()),
        ("well-formed", b"{\"a\":1,\"a\":2}".to_vec()),
        ("well-formed", b"[1,2]".to_vec()),
        ("credential", b"{\"@context\":\"x\"}".to_vec()),
        (
            "proof",
            di.replace("eddsa-jcs-2022", "eddsa-rdfc-2022").into_bytes(),
        ),
        (
            "proof",
            di.replace("\"proofValue\":\"z", "\"proofValue\":\"u")
                .into_bytes(),
        ),
        (
            "proof-purpose",
            di.replace("assertionMethod", "authentication").into_bytes(),
        ),
        ("well-formed", b"a.b.c".to_vec()),
        ("well-formed", b"e30.e30.!!".to_vec()),
    ];
    for (check, input) in cases {
        let r = verify(&input, &doc);
        assert!(!r.is_valid(), "{check}: accepted");
        assert!(
            matches!(r.check(check), Some(Outcome::Fail(_))),
            "{check}: {r}"
        );
    }
}

#[test]
fn jwt_with_alg_none_or_other_typ_is_refused() {
    use base64::Engine as _;
    let e = |v: serde_json::Value| {
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(serde_json::to_vec(&v).unwrap())
    };
    let c = issue_with(1);
    let doc = doc_with(&[(1, KeyStatus::Current)]);
    let parts: Vec<&str> = c.jwt.split('.').collect();
    let kid = did().key_url(&key(1).key_id());
    for header in [
        json!({"alg": "none", "kid": kid, "typ": "vc+jwt"}),
        json!({"alg": "HS256", "kid": kid, "typ": "vc+jwt"}),
        json!({"alg": "EdDSA", "kid": kid, "typ": "JWT"}),
        json!({"alg": "EdDSA", "kid": kid, "typ": "vc+jwt", "crit": ["exp"]}),
    ] {
        let forged = format!("{}.{}.{}", e(header.clone()), parts[1], parts[2]);
        let r = verify(forged.as_bytes(), &doc);
        assert!(
            matches!(r.check("proof"), Some(Outcome::Fail(_))),
            "{header}: {r}"
        );
    }
    // Same header, tampered payload: signature fails.
    let mut cred: serde_json::Value = serde_json::from_slice(&c.data_integrity).unwrap();
    cred.as_object_mut().unwrap().remove("proof");
    cred["credentialSubject"]["batteryMass"] = json!(1);
    let forged = format!("{}.{}.{}", parts[0], e(cred), parts[2]);
    assert!(matches!(
        verify(forged.as_bytes(), &doc).check("signature"),
        Some(Outcome::Fail(_))
    ));
}

/// Flip every byte of both secured forms, one at a time: nothing verifies.
#[test]
fn every_single_byte_change_fails() {
    let c = issue_with(1);
    let doc = doc_with(&[(1, KeyStatus::Current)]);
    for original in [c.data_integrity.clone(), c.jwt.clone().into_bytes()] {
        for i in 0..original.len() {
            for delta in [1u8, 0x20, 0x80] {
                let mut m = original.clone();
                m[i] ^= delta;
                let r = verify(&m, &doc);
                assert!(
                    !r.is_valid(),
                    "byte {i} ^ {delta:#x} still verifies:\n{}",
                    String::from_utf8_lossy(&m)
                );
            }
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn sign_verify_round_trip(seed in any::<[u8; 32]>(), mass in -1.0e12f64..1.0e12, text in "\\PC{0,40}", n in any::<i32>()) {
        let k = SigningKey::from_bytes(&seed);
        let mut u = unsigned();
        u.subject = json!({"mass": mass, "text": text, "n": n, "list": [n, mass]});
        let vm = did().key_url(&k.key_id());
        let c = credential::secure(&u, &vm, datetime!(2026-11-01 10:00 UTC), &k).unwrap();
        let doc = DidDocument::build(&did(), &[PublishedKey { public_key: k.verifying_key(), status: KeyStatus::Current }]);
        prop_assert!(verify(&c.data_integrity, &doc).is_valid());
        prop_assert!(verify(c.jwt.as_bytes(), &doc).is_valid());
    }

    #[test]
    fn random_single_byte_replacement_fails(pos in any::<prop::sample::Index>(), byte in any::<u8>(), jwt in any::<bool>()) {
        let c = issue_with(1);
        let doc = doc_with(&[(1, KeyStatus::Current)]);
        let mut m = if jwt { c.jwt.into_bytes() } else { c.data_integrity };
        let i = pos.index(m.len());
        prop_assume!(m[i] != byte);
        m[i] = byte;
        prop_assert!(!verify(&m, &doc).is_valid());
    }

    #[test]
    fn verify_never_panics_on_arbitrary_bytes(bytes in prop::collection::vec(any::<u8>(), 0..512)) {
        let doc = doc_with(&[(1, KeyStatus::Current)]);
        let _ = verify(&bytes, &doc);
    }

    #[test]
    fn canonicalization_is_idempotent(v in arb_json()) {
        let once = hallmark_core::jcs::canonicalize(&v).unwrap();
        let twice = hallmark_core::jcs::canonicalize_text(&once).unwrap();
        prop_assert_eq!(once, twice);
    }
}

fn arb_json() -> impl Strategy<Value = serde_json::Value> {
    let leaf = prop_oneof![
        Just(serde_json::Value::Null),
        any::<bool>().prop_map(serde_json::Value::Bool),
        any::<i32>().prop_map(|n| json!(n)),
        any::<f64>()
            .prop_filter("finite", |f| f.is_finite())
            .prop_map(|f| json!(f)),
        "\\PC{0,12}".prop_map(serde_json::Value::String),
        "[\\x00-\\x1f\"\\\\]{0,4}".prop_map(serde_json::Value::String),
    ];
    leaf.prop_recursive(4, 64, 8, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(serde_json::Value::Array),
            prop::collection::btree_map("\\PC{0,8}", inner, 0..6)
                .prop_map(|m| serde_json::Value::Object(m.into_iter().collect())),
        ]
    })
}

/// The verdict tells a genuine credential of a passport not in force from an invalid one:
/// only the served status failing is `NotInForce`; any other failure is `Invalid`; no
/// status (offline) or `published` is `Valid`; a warning never fails a report.
#[test]
fn the_verdict_separates_status_from_validity() {
    use hallmark_core::verify::{Check, Report, Verdict};
    let c = issue_with(1);
    let doc = doc_with(&[(1, KeyStatus::Current)]);
    let valid = verify(&c.data_integrity, &doc);
    assert_eq!(valid.verdict(), Verdict::Valid);
    let mut warned = valid.clone();
    warned.checks.push(Check {
        name: "did-document",
        outcome: Outcome::Warn("development only".into()),
    });
    warned.record_status(None, "no header");
    assert_eq!(warned.verdict(), Verdict::Valid);
    assert!(warned.to_string().contains("WARN  did-document"));
    let mut published = valid.clone();
    published.record_status(Some("published"), "header");
    assert_eq!(published.verdict(), Verdict::Valid);
    let mut archived = valid.clone();
    archived.record_status(Some("archived"), "header");
    assert_eq!(archived.verdict(), Verdict::NotInForce("archived".into()));
    // The served status has its own name; `status` is the status lists' check.
    assert!(matches!(
        archived.check("served-status"),
        Some(Outcome::Fail(_))
    ));
    assert_eq!(archived.check("status"), None);
    assert!(!archived.is_valid());
    assert!(archived
        .to_string()
        .ends_with("NOT IN FORCE: the passport is archived"));
    // Withheld (suspended): no signature checked, still not in force rather than invalid.
    let mut gone = Report::default();
    gone.record_status(Some("suspended"), "HTTP 410");
    assert_eq!(gone.verdict(), Verdict::NotInForce("suspended".into()));
    // A tampered credential of an archived passport is invalid.
    let mut bad = verify(&c.data_integrity, &doc_with(&[(2, KeyStatus::Current)]));
    bad.record_status(Some("archived"), "header");
    assert_eq!(bad.verdict(), Verdict::Invalid);
}
