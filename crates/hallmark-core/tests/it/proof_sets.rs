//! Proof options, proof sets and proof chains of eddsa-jcs-2022 proofs (Data Integrity 1.0
//! §2.1 and "Proof Sets" / "Proof Chains"), signed with the W3C vc-di-eddsa
//! `proof-set-chain/multiKeyPairs.json` keys over its `unsigned.json` (the W3C set and chain
//! vectors themselves are eddsa-rdfc-2022: checked here to be refused by cryptosuite, and
//! their temporary chain documents used to pin what a chained proof hashes).

use hallmark_core::credential::{
    self, add_data_integrity_proof, CredentialError, ProofExtras, ProofOptions,
};
use hallmark_core::did_key::DidKey;
use hallmark_core::did_resolver::Resolver;
use hallmark_core::jcs;
use hallmark_core::keys;
use hallmark_core::verify::{
    verify_resolving, IssuerPolicy, Outcome, Report, VerifyOptions, PROOF_CHAIN_CHECK,
    PROOF_CHALLENGE_CHECK, PROOF_DOMAIN_CHECK, PROOF_EXPIRY_CHECK, PROOF_SET_CHECK,
};
use serde_json::{json, Value};
use std::path::PathBuf;
use time::macros::datetime;

fn read(name: &str) -> Value {
    let p = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared/vectors/vc-di-eddsa")
        .join(name);
    let bytes = std::fs::read(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()));
    jcs::parse_strict(&bytes).unwrap()
}

fn unsigned() -> Value {
    read("proof-set-chain/unsigned.json")
}

/// keyPairN of multiKeyPairs.json, and its did:key verification method.
fn key(n: usize) -> (ed25519_dalek::SigningKey, String) {
    let kp = &read("proof-set-chain/multiKeyPairs.json")[format!("keyPair{n}")];
    let sk =
        keys::decode_secret_key_multibase(kp["privateKeyMultibase"].as_str().unwrap()).unwrap();
    let public = kp["publicKeyMultibase"].as_str().unwrap();
    assert_eq!(keys::public_key_multibase(&sk.verifying_key()), public);
    let vm = DidKey::of(&sk.verifying_key()).method_id();
    assert_eq!(vm, format!("did:key:{public}#{public}"));
    (sk, vm)
}

const ID1: &str = "urn:uuid:26329423-bec9-4b2e-88cb-a7c7d9dc4544";
const ID2: &str = "urn:uuid:8cc9022b-6b14-4cf3-8571-74972c5feb54";
const ID3: &str = "urn:uuid:d94f792a-c546-4d06-b38a-da070ab56c23";

fn add(doc: &Value, n: usize, created: &str, extras: ProofExtras) -> Value {
    let (sk, vm) = key(n);
    let options = ProofOptions {
        verification_method: vm,
        created: created.into(),
    };
    add_data_integrity_proof(doc, &options, &extras, &sk).unwrap()
}

fn with_id(id: &str) -> ProofExtras {
    ProofExtras {
        id: Some(id.into()),
        ..ProofExtras::default()
    }
}

fn chained(id: Option<&str>, previous: &[&str]) -> ProofExtras {
    ProofExtras {
        id: id.map(str::to_string),
        previous_proof: previous.iter().map(|s| s.to_string()).collect(),
        ..ProofExtras::default()
    }
}

/// The W3C set: keyPair1 and keyPair2, independent proofs.
fn set() -> Value {
    let one = add(&unsigned(), 1, "2023-02-24T23:36:38Z", with_id(ID1));
    add(&one, 2, "2023-02-24T23:36:38Z", with_id(ID2))
}

/// The W3C chain: keyPair3 chains to both proofs of the set, keyPair4 to keyPair3's.
fn chain() -> Value {
    let three = add(
        &set(),
        3,
        "2023-02-26T22:06:38Z",
        chained(Some(ID3), &[ID1, ID2]),
    );
    add(&three, 4, "2023-02-26T22:16:38Z", chained(None, &[ID3]))
}

fn options() -> VerifyOptions {
    VerifyOptions {
        now: Some(datetime!(2026-12-06 0:00 UTC)),
        issuer_policy: IssuerPolicy::Any,
        ..VerifyOptions::default()
    }
}

fn check_with(doc: &Value, options: &VerifyOptions) -> Report {
    verify_resolving(
        &serde_json::to_vec(doc).unwrap(),
        &Resolver::did_key_only(),
        options,
    )
}

fn check(doc: &Value) -> Report {
    check_with(doc, &options())
}

fn fail_of<'a>(r: &'a Report, name: &'a str) -> &'a str {
    match r.checks_named(name).find(|o| matches!(o, Outcome::Fail(_))) {
        Some(o) => o.detail(),
        None => panic!("no failed {name} check:\n{r}"),
    }
}

// ---- single proofs: the report is unchanged, options are checked ----

#[test]
fn a_single_proof_without_options_reports_exactly_the_checks_it_did_before() {
    let r = check(&read("eddsa-jcs-2022/signedJCS.json"));
    assert!(r.is_valid(), "{r}");
    let names: Vec<&str> = r.checks.iter().map(|c| c.name).collect();
    assert_eq!(
        names,
        [
            "format",
            "well-formed",
            "credential",
            "proof",
            "proof-purpose",
            "issuer",
            "key",
            "key-authorized",
            "signature",
            "validity"
        ]
    );
    assert_eq!(
        r.check("proof"),
        Some(&Outcome::Pass("DataIntegrityProof / eddsa-jcs-2022".into()))
    );
}

fn single(extras: ProofExtras) -> Value {
    add(&unsigned(), 1, "2023-02-24T23:36:38Z", extras)
}

#[test]
fn proof_options_in_range_verify_and_are_reported() {
    let doc = single(ProofExtras {
        id: Some(ID1.into()),
        expires: Some("2030-01-01T00:00:00Z".into()),
        domain: Some(json!("dpp.example.com")),
        challenge: Some("1235abcd6789".into()),
        previous_proof: vec![],
    });
    let expecting = VerifyOptions {
        expected_domain: Some("dpp.example.com".into()),
        expected_challenge: Some("1235abcd6789".into()),
        ..options()
    };
    let r = check_with(&doc, &expecting);
    assert!(r.is_valid(), "{r}");
    for name in [
        PROOF_EXPIRY_CHECK,
        PROOF_DOMAIN_CHECK,
        PROOF_CHALLENGE_CHECK,
    ] {
        assert!(
            matches!(r.check(name), Some(Outcome::Pass(_))),
            "{name}: {r}"
        );
    }
    // Not expected by the caller: reported as not checked, still valid.
    let r = check(&doc);
    assert!(r.is_valid(), "{r}");
    assert!(
        matches!(r.check(PROOF_DOMAIN_CHECK), Some(Outcome::Skipped(_))),
        "{r}"
    );
    assert!(
        matches!(r.check(PROOF_CHALLENGE_CHECK), Some(Outcome::Skipped(_))),
        "{r}"
    );
    // No current time: expires is not checked, and says so.
    let r = check_with(
        &doc,
        &VerifyOptions {
            now: None,
            ..options()
        },
    );
    assert!(r.is_valid(), "{r}");
    let Some(Outcome::Skipped(s)) = r.check(PROOF_EXPIRY_CHECK) else {
        panic!("{r}")
    };
    assert!(s.contains("not checked"), "{s}");
    // A domain array includes the expected domain.
    let doc = single(ProofExtras {
        domain: Some(json!(["a.example", "dpp.example.com"])),
        ..ProofExtras::default()
    });
    let r = check_with(&doc, &expecting_domain("dpp.example.com"));
    assert!(r.is_valid(), "{r}");
    assert!(
        matches!(r.check(PROOF_DOMAIN_CHECK), Some(Outcome::Pass(_))),
        "{r}"
    );
}

fn expecting_domain(d: &str) -> VerifyOptions {
    VerifyOptions {
        expected_domain: Some(d.into()),
        ..options()
    }
}

fn expecting_challenge(c: &str) -> VerifyOptions {
    VerifyOptions {
        expected_challenge: Some(c.into()),
        ..options()
    }
}

#[test]
fn malformed_proof_options_fail_the_proof_check() {
    let cases: Vec<(&str, ProofExtras, &str)> = vec![
        (
            "expires without a time",
            ProofExtras {
                expires: Some("2030-01-01".into()),
                ..ProofExtras::default()
            },
            "expires",
        ),
        (
            "expires without a time zone",
            ProofExtras {
                expires: Some("2030-01-01T00:00:00".into()),
                ..ProofExtras::default()
            },
            "expires",
        ),
        (
            "expires with a lower-case t",
            ProofExtras {
                expires: Some("2030-01-01t00:00:00Z".into()),
                ..ProofExtras::default()
            },
            "expires",
        ),
        (
            "id not a URL",
            ProofExtras {
                id: Some("proof one".into()),
                ..ProofExtras::default()
            },
            "not a URL",
        ),
        (
            "id without a scheme",
            ProofExtras {
                id: Some("26329423-bec9-4b2e-88cb-a7c7d9dc4544".into()),
                ..ProofExtras::default()
            },
            "not a URL",
        ),
        (
            "domain a number",
            ProofExtras {
                domain: Some(json!(5)),
                ..ProofExtras::default()
            },
            "domain",
        ),
        (
            "domain an empty array",
            ProofExtras {
                domain: Some(json!([])),
                ..ProofExtras::default()
            },
            "domain",
        ),
    ];
    for (what, extras, says) in cases {
        let r = check(&single(extras));
        assert!(!r.is_valid(), "{what}: {r}");
        let f = fail_of(&r, "proof");
        assert!(f.contains(says), "{what}: {f}");
        assert!(
            matches!(r.check("signature"), Some(Outcome::Skipped(_))),
            "{what}: {r}"
        );
    }
    // created without a time zone; and a challenge that is not a string.
    let r = check(&add(
        &unsigned(),
        1,
        "2023-02-24T23:36:38",
        ProofExtras::default(),
    ));
    assert!(fail_of(&r, "proof").contains("created"), "{r}");
    let mut doc = single(ProofExtras::default());
    doc["proof"]["challenge"] = json!(["x"]);
    assert!(fail_of(&check(&doc), "proof").contains("challenge"));
}

#[test]
fn an_expired_proof_fails_proof_expiry() {
    let doc = single(ProofExtras {
        expires: Some("2026-12-05T23:59:59Z".into()),
        ..ProofExtras::default()
    });
    let r = check(&doc);
    assert!(!r.is_valid(), "{r}");
    assert!(fail_of(&r, PROOF_EXPIRY_CHECK).contains("expired at 2026-12-05T23:59:59Z"));
    // At the instant of expiry it is expired; a second before, not.
    let at = |now| VerifyOptions {
        now: Some(now),
        ..options()
    };
    assert!(!check_with(&doc, &at(datetime!(2026-12-05 23:59:59 UTC))).is_valid());
    assert!(check_with(&doc, &at(datetime!(2026-12-05 23:59:58 UTC))).is_valid());
}

#[test]
fn a_wrong_or_missing_domain_or_challenge_fails() {
    let doc = single(ProofExtras {
        domain: Some(json!("dpp.example.com")),
        challenge: Some("1235abcd6789".into()),
        ..ProofExtras::default()
    });
    let r = check_with(&doc, &expecting_domain("evil.example"));
    assert!(!r.is_valid(), "{r}");
    assert!(fail_of(&r, PROOF_DOMAIN_CHECK).contains("evil.example"));
    let r = check_with(&doc, &expecting_challenge("other"));
    assert!(!r.is_valid(), "{r}");
    assert!(fail_of(&r, PROOF_CHALLENGE_CHECK).contains("\"other\""));
    // A proof without a domain or challenge when one is expected.
    let bare = single(ProofExtras::default());
    let r = check_with(&bare, &expecting_challenge("1235abcd6789"));
    assert!(
        fail_of(&r, PROOF_CHALLENGE_CHECK).contains("no challenge"),
        "{r}"
    );
    let r = check_with(&bare, &expecting_domain("dpp.example.com"));
    assert!(fail_of(&r, PROOF_DOMAIN_CHECK).contains("no domain"), "{r}");
    // The options are signed: changing the challenge breaks the signature.
    let mut forged = doc.clone();
    forged["proof"]["challenge"] = json!("other");
    let r = check_with(&forged, &expecting_challenge("other"));
    assert!(
        matches!(r.check(PROOF_CHALLENGE_CHECK), Some(Outcome::Pass(_))),
        "{r}"
    );
    assert!(fail_of(&r, "signature").contains("does not match"), "{r}");
}

#[test]
fn a_vc_jwt_has_no_challenge_to_offer() {
    let k = ed25519_dalek::SigningKey::from_bytes(&[8; 32]);
    let dk = DidKey::of(&k.verifying_key());
    let unsigned = credential::UnsignedCredential {
        id: "https://dpp.example.com/passports/1/versions/1".into(),
        types: vec![],
        issuer: dk.as_str().into(),
        valid_from: datetime!(2026-11-01 10:00:00 UTC),
        subject: json!({"id": "https://id.example.com/01/09506000134352/21/ABC123"}),
        extra_contexts: vec![],
    };
    let c = credential::secure(
        &unsigned,
        &dk.method_id(),
        datetime!(2026-11-01 10:00:01 UTC),
        &k,
    )
    .unwrap();
    let o = VerifyOptions::default();
    assert!(verify_resolving(c.jwt.as_bytes(), &Resolver::did_key_only(), &o).is_valid());
    let o = VerifyOptions {
        expected_challenge: Some("x".into()),
        ..VerifyOptions::default()
    };
    let r = verify_resolving(c.jwt.as_bytes(), &Resolver::did_key_only(), &o);
    assert!(!r.is_valid(), "{r}");
    assert!(fail_of(&r, PROOF_CHALLENGE_CHECK).contains("vc+jwt"));
}

// ---- proof sets ----

#[test]
fn a_set_of_two_proofs_verifies_proof_by_proof() {
    let doc = set();
    assert_eq!(doc["proof"].as_array().unwrap().len(), 2);
    // Each proof is over the document without proofs: the first is exactly what signing
    // the unsigned document alone gives.
    assert_eq!(
        doc["proof"][0],
        single(with_id(ID1))["proof"],
        "the first proof of the set"
    );
    let r = check(&doc);
    assert!(r.is_valid(), "{r}");
    assert_eq!(
        r.check(PROOF_SET_CHECK),
        Some(&Outcome::Pass("2 proofs".into()))
    );
    assert!(r.check(PROOF_CHAIN_CHECK).is_none(), "{r}");
    let sigs: Vec<&Outcome> = r.checks_named("signature").collect();
    assert_eq!(sigs.len(), 2, "{r}");
    assert!(sigs.iter().all(|o| matches!(o, Outcome::Pass(_))), "{r}");
    assert!(
        sigs[0]
            .detail()
            .starts_with(&format!("proof 1/2 ({ID1}): ")),
        "{r}"
    );
    assert!(
        sigs[1]
            .detail()
            .starts_with(&format!("proof 2/2 ({ID2}): ")),
        "{r}"
    );
    assert_eq!(r.checks_named("key").count(), 2);
    assert_eq!(r.verification_method.as_deref(), Some(key(1).1.as_str()));
}

#[test]
fn one_tampered_proof_fails_the_set() {
    // The second proof carries the first one's signature.
    let mut doc = set();
    doc["proof"][1]["proofValue"] = doc["proof"][0]["proofValue"].clone();
    let r = check(&doc);
    assert!(!r.is_valid(), "{r}");
    let sigs: Vec<&Outcome> = r.checks_named("signature").collect();
    assert!(matches!(sigs[0], Outcome::Pass(_)), "{r}");
    assert!(matches!(sigs[1], Outcome::Fail(_)), "{r}");
    assert!(sigs[1].detail().starts_with("proof 2/2"), "{r}");
    // A changed document fails both.
    let mut doc = set();
    doc["credentialSubject"]["alumniOf"] = json!("The School of Forgeries");
    let r = check(&doc);
    assert_eq!(
        r.checks_named("signature")
            .filter(|o| matches!(o, Outcome::Fail(_)))
            .count(),
        2,
        "{r}"
    );
    // One proof of another kind fails the set.
    let mut doc = set();
    doc["proof"][1]["cryptosuite"] = json!("eddsa-rdfc-2022");
    let r = check(&doc);
    assert!(!r.is_valid(), "{r}");
    assert!(fail_of(&r, "proof").contains("proof 2/2"), "{r}");
}

#[test]
fn malformed_sets_fail_the_proof_set_check() {
    let mut doc = set();
    doc["proof"][1]["id"] = json!(ID1);
    assert!(fail_of(&check(&doc), PROOF_SET_CHECK).contains("two proofs have the id"));
    let mut doc = set();
    doc["proof"] = json!([]);
    assert!(fail_of(&check(&doc), PROOF_SET_CHECK).contains("empty"));
    let mut doc = set();
    doc["proof"][1] = json!("z3u2");
    assert!(fail_of(&check(&doc), PROOF_SET_CHECK).contains("not an object"));
}

// ---- proof chains ----

#[test]
fn a_chain_verifies_and_hashes_exactly_the_proofs_it_names() {
    let doc = chain();
    let proofs = doc["proof"].as_array().unwrap();
    assert_eq!(proofs.len(), 4);
    assert_eq!(proofs[2]["previousProof"], json!([ID1, ID2]));
    assert_eq!(proofs[3]["previousProof"], json!(ID3));
    let r = check(&doc);
    assert!(r.is_valid(), "{r}");
    assert!(
        matches!(r.check(PROOF_CHAIN_CHECK), Some(Outcome::Pass(_))),
        "{r}"
    );
    assert_eq!(
        r.checks_named("signature")
            .filter(|o| matches!(o, Outcome::Pass(_)))
            .count(),
        4,
        "{r}"
    );
    // The chained proofs sign the unsecured document plus the named proofs: verifying
    // proof 3 over the document without proofs fails.
    let (_, vm3) = key(3);
    let k3 = DidKey::parse(vm3.split_once('#').unwrap().0)
        .unwrap()
        .public_key();
    let mut config = proofs[2].as_object().unwrap().clone();
    let pv = config.remove("proofValue").unwrap();
    let mut bare = doc.as_object().unwrap().clone();
    bare.remove("proof");
    assert!(credential::verify_data_integrity_signature(
        &Value::Object(bare.clone()),
        &config,
        pv.as_str().unwrap(),
        &k3
    )
    .is_err());
    let input = credential::chained_input(&bare, proofs, &[ID1.into(), ID2.into()]).unwrap();
    assert!(credential::verify_data_integrity_signature(
        &input,
        &config,
        pv.as_str().unwrap(),
        &k3
    )
    .is_ok());
}

#[test]
fn the_chained_input_is_the_w3c_temporary_document() {
    // proofChainTempDoc1/2.json: what the W3C chain proofs hash (before the suite's own
    // transformation): the unsigned document with `proof` = the named proofs, as an array.
    let w3c = read("proof-set-chain/signedProofChain2.json");
    let all = w3c["proof"].as_array().unwrap();
    let bare = unsigned();
    let bare = bare.as_object().unwrap();
    assert_eq!(
        credential::chained_input(bare, &all[..2], &[ID1.into(), ID2.into()]).unwrap(),
        read("proof-set-chain/proofChainTempDoc1.json")
    );
    assert_eq!(
        credential::chained_input(bare, &all[..3], &[ID3.into()]).unwrap(),
        read("proof-set-chain/proofChainTempDoc2.json")
    );
    assert_eq!(
        credential::chained_input(bare, all, &["urn:uuid:missing".into()]),
        Err(CredentialError::UnknownPreviousProof(
            "urn:uuid:missing".into()
        ))
    );
}

#[test]
fn a_dangling_previous_proof_fails_the_chain() {
    // The proof it names was removed from the set.
    let mut doc = chain();
    doc["proof"].as_array_mut().unwrap().remove(0);
    let r = check(&doc);
    assert!(!r.is_valid(), "{r}");
    let f = fail_of(&r, PROOF_CHAIN_CHECK);
    assert!(f.contains(ID1) && f.contains("dangling"), "{f}");
    assert!(
        matches!(r.check("signature"), Some(Outcome::Skipped(_))),
        "{r}"
    );
    // A single proof that names a previous one.
    let mut doc = single(with_id(ID2));
    doc["proof"]["previousProof"] = json!(ID1);
    assert!(fail_of(&check(&doc), PROOF_CHAIN_CHECK).contains("dangling"));
    // previousProof of the wrong type.
    let mut doc = chain();
    doc["proof"][3]["previousProof"] = json!(3);
    assert!(fail_of(&check(&doc), PROOF_CHAIN_CHECK).contains("neither a string"));
    // Signing refuses a previousProof that names no proof.
    let (sk, vm) = key(3);
    let options = ProofOptions {
        verification_method: vm,
        created: "2023-02-26T22:06:38Z".into(),
    };
    assert_eq!(
        add_data_integrity_proof(&set(), &options, &chained(None, &["urn:uuid:nope"]), &sk),
        Err(CredentialError::UnknownPreviousProof(
            "urn:uuid:nope".into()
        ))
    );
}

#[test]
fn a_cyclic_chain_fails() {
    let mut doc = chain();
    doc["proof"][0]["previousProof"] = json!(ID3);
    let f = fail_of(&check(&doc), PROOF_CHAIN_CHECK).to_string();
    assert!(f.contains("cycle"), "{f}");
    let mut doc = set();
    doc["proof"][1]["previousProof"] = json!(ID2);
    let f = fail_of(&check(&doc), PROOF_CHAIN_CHECK).to_string();
    assert!(f.contains("cycle") && f.contains("proof 2/2"), "{f}");
}

#[test]
fn a_tampered_earlier_proof_breaks_the_proofs_chained_to_it() {
    let mut doc = chain();
    // Proof 1 now carries proof 2's signature: proof 1 fails, and so does proof 3, which
    // signed proof 1 as it was; proofs 2 and 4 still verify.
    doc["proof"][0]["proofValue"] = doc["proof"][1]["proofValue"].clone();
    let r = check(&doc);
    assert!(!r.is_valid(), "{r}");
    let sigs: Vec<bool> = r
        .checks_named("signature")
        .map(|o| matches!(o, Outcome::Pass(_)))
        .collect();
    assert_eq!(sigs, [false, true, false, true], "{r}");
}

// ---- the W3C proof-set-chain vectors are eddsa-rdfc-2022 ----

#[test]
fn the_w3c_set_and_chain_vectors_are_eddsa_rdfc_2022_and_refused_by_cryptosuite() {
    for name in [
        "signedProofSet1.json",
        "signedProofSet2.json",
        "signedProofChain1.json",
        "signedProofChain2.json",
    ] {
        let doc = read(&format!("proof-set-chain/{name}"));
        let proofs = match &doc["proof"] {
            Value::Array(a) => a.clone(),
            p => vec![p.clone()],
        };
        assert!(
            proofs.iter().all(|p| p["cryptosuite"] == "eddsa-rdfc-2022"),
            "{name}"
        );
        let r = check(&doc);
        assert!(!r.is_valid(), "{name}: {r}");
        assert!(
            fail_of(&r, "proof").contains("unsupported cryptosuite \"eddsa-rdfc-2022\""),
            "{name}: {r}"
        );
    }
}
