//! Verifiable presentations (issue 22 item 4): a holder's eddsa-jcs-2022 proof for
//! `authentication` with challenge and domain over two passports — one embedded Data
//! Integrity credential, one enveloped vc+jwt — verified end to end, and each tampering
//! failing a named check (of the presentation, or of the credential it touched).

use ed25519_dalek::SigningKey;
use hallmark_core::credential::{
    self, add_data_integrity_proof, ProofExtras, ProofOptions, SecuredCredential,
    UnsignedCredential,
};
use hallmark_core::did::{DidDocument, DidWeb, KeyStatus, PublishedKey};
use hallmark_core::did_key::DidKey;
use hallmark_core::did_resolver::Resolver;
use hallmark_core::jcs;
use hallmark_core::keys::Signer as _;
use hallmark_core::presentation::{
    enveloped_credential, presentation_dids, sign_presentation, verify_presentation,
    verify_presentation_with, Contained, PresentationReport, UnsignedPresentation, HOLDER_CHECK,
    PRESENTATION_CHECK,
};
use hallmark_core::verify::{
    Format, Outcome, Report, Verdict, VerifyOptions, PROOF_CHALLENGE_CHECK, PROOF_DOMAIN_CHECK,
};
use serde_json::{json, Value};
use time::macros::datetime;

const CHALLENGE: &str = "c0ffee-1234";
const DOMAIN: &str = "https://recycler.example";

fn operator_key() -> SigningKey {
    SigningKey::from_bytes(&[41; 32])
}

fn holder_key() -> SigningKey {
    SigningKey::from_bytes(&[42; 32])
}

fn operator() -> DidWeb {
    DidWeb::from_base_url("https://dpp.example.com").unwrap()
}

fn operator_document() -> DidDocument {
    DidDocument::build(
        &operator(),
        &[PublishedKey {
            public_key: operator_key().verifying_key(),
            status: KeyStatus::Current,
        }],
    )
}

/// A passport credential of the operator, signed with `key` (the operator's, or another).
fn passport(n: u32, key: &SigningKey) -> SecuredCredential {
    let web = operator();
    credential::secure(
        &UnsignedCredential {
            id: format!("https://dpp.example.com/passports/{n}/versions/1"),
            types: vec!["DigitalProductPassport".into()],
            issuer: web.as_str().into(),
            valid_from: datetime!(2026-01-01 0:00 UTC),
            subject: json!({"id": format!("urn:example:battery:{n}"), "capacityKwh": 75}),
            extra_contexts: vec![],
        },
        &web.key_url(&key.key_id()),
        datetime!(2026-01-01 0:00 UTC),
        key,
    )
    .unwrap()
}

fn embedded(c: &SecuredCredential) -> Contained {
    Contained::parse(&c.data_integrity).unwrap()
}

fn enveloped(c: &SecuredCredential) -> Contained {
    Contained::parse(c.jwt.as_bytes()).unwrap()
}

fn holder_did() -> DidKey {
    DidKey::of(&holder_key().verifying_key())
}

fn challenge_and_domain() -> ProofExtras {
    ProofExtras {
        challenge: Some(CHALLENGE.into()),
        domain: Some(Value::String(DOMAIN.into())),
        ..ProofExtras::default()
    }
}

fn proof_options(vm: String) -> ProofOptions {
    ProofOptions {
        verification_method: vm,
        created: "2026-12-06T10:00:00Z".into(),
    }
}

/// The unsigned presentation of `credentials` by the holder's did:key.
fn unsigned(credentials: Vec<Contained>) -> Value {
    UnsignedPresentation {
        id: Some("urn:uuid:0193a3c4-0000-7000-8000-000000000001".into()),
        holder: Some(holder_did().as_str().into()),
        credentials,
    }
    .to_value()
}

fn sign(vp: &Value, extras: ProofExtras) -> Value {
    sign_presentation(
        vp,
        &proof_options(holder_did().method_id()),
        &extras,
        &holder_key(),
    )
    .unwrap()
}

/// The two passports, one embedded and one enveloped, signed with challenge and domain.
fn presented() -> Value {
    sign(
        &unsigned(vec![
            embedded(&passport(1, &operator_key())),
            enveloped(&passport(2, &operator_key())),
        ]),
        challenge_and_domain(),
    )
}

fn expecting(challenge: Option<&str>, domain: Option<&str>) -> VerifyOptions {
    VerifyOptions {
        now: Some(datetime!(2026-12-06 12:00 UTC)),
        expected_challenge: challenge.map(str::to_string),
        expected_domain: domain.map(str::to_string),
        ..VerifyOptions::default()
    }
}

fn check(vp: &Value, options: &VerifyOptions) -> PresentationReport {
    let doc = operator_document();
    let resolver = Resolver::with_document(&doc).and_did_key();
    verify_presentation(&serde_json::to_vec(vp).unwrap(), &resolver, options)
}

fn verify(vp: &Value) -> PresentationReport {
    check(vp, &expecting(Some(CHALLENGE), Some(DOMAIN)))
}

fn failed<'a>(r: &'a Report, name: &str) -> &'a str {
    match r.check(name) {
        Some(Outcome::Fail(why)) => why,
        other => panic!("{name}: expected a failure, got {other:?}\n{r}"),
    }
}

fn passed(r: &Report, name: &str) {
    assert!(
        matches!(r.check(name), Some(Outcome::Pass(_))),
        "{name} did not pass:\n{r}"
    );
}

#[test]
fn a_presentation_of_two_passports_verifies() {
    let vp = presented();
    assert_eq!(vp["proof"]["proofPurpose"], "authentication");
    assert_eq!(vp["proof"]["challenge"], CHALLENGE);
    assert_eq!(vp["proof"]["domain"], DOMAIN);
    assert_eq!(vp["type"], json!(["VerifiablePresentation"]));
    assert_eq!(vp["@context"][0], credential::VC_V2_CONTEXT);
    let enveloped_entry = &vp["verifiableCredential"][1];
    assert_eq!(enveloped_entry["type"], "EnvelopedVerifiableCredential");
    assert_eq!(
        enveloped_entry["id"],
        format!(
            "data:application/vc+jwt,{}",
            passport(2, &operator_key()).jwt
        )
    );

    let r = verify(&vp);
    assert_eq!(r.verdict(), Verdict::Valid, "{r}");
    assert!(r.is_valid());
    for name in [
        PRESENTATION_CHECK,
        "proof",
        "proof-purpose",
        PROOF_DOMAIN_CHECK,
        PROOF_CHALLENGE_CHECK,
        "key",
        "key-authorized",
        HOLDER_CHECK,
        "signature",
    ] {
        passed(&r.presentation, name);
    }
    assert_eq!(
        r.presentation.verification_method.as_deref(),
        Some(holder_did().method_id().as_str())
    );
    assert_eq!(r.credentials.len(), 2);
    assert_eq!(r.credentials[0].format, Some(Format::DataIntegrity));
    assert_eq!(r.credentials[1].format, Some(Format::Jwt));
    for c in &r.credentials {
        assert_eq!(c.verdict(), Verdict::Valid, "{c}");
        // The presentation's challenge is not asked of the issuer's proofs.
        assert!(c.check(PROOF_CHALLENGE_CHECK).is_none(), "{c}");
    }
    let text = r.to_string();
    assert!(text.starts_with("Presentation\n"), "{text}");
    assert!(
        text.contains(
            "Credential 2/2 (enveloped, vc+jwt) https://dpp.example.com/passports/2/versions/1"
        ),
        "{text}"
    );
    assert!(text.ends_with("VALID"), "{text}");

    let json = serde_json::to_value(&r).unwrap();
    assert_eq!(json["verdict"]["verdict"], "valid");
    assert_eq!(json["presentation"]["verdict"]["verdict"], "valid");
    assert_eq!(json["credentials"][1]["format"], "jwt");
    assert_eq!(json["credentials"][1]["verdict"]["verdict"], "valid");

    // What an async caller must resolve first: the holder's did:key, the operator's did:web.
    assert_eq!(
        presentation_dids(&serde_json::to_vec(&vp).unwrap()),
        vec![
            holder_did().as_str().to_string(),
            operator().as_str().to_string()
        ]
    );
}

#[test]
fn a_presentation_without_credentials_proves_the_key() {
    let vp = sign(&unsigned(vec![]), challenge_and_domain());
    assert!(vp.get("verifiableCredential").is_none());
    let r = verify(&vp);
    assert_eq!(r.verdict(), Verdict::Valid, "{r}");
    assert!(r.credentials.is_empty());
}

#[test]
fn an_altered_credential_fails_the_presentation_or_the_credential() {
    let mut vp = presented();
    vp["verifiableCredential"][0]["credentialSubject"]["capacityKwh"] = json!(90);
    // After the holder signed: the holder's signature breaks, and the issuer's.
    let r = verify(&vp);
    assert_eq!(r.verdict(), Verdict::Invalid);
    failed(&r.presentation, "signature");
    failed(&r.credentials[0], "signature");
    passed(&r.credentials[1], "signature");

    // Altered before the holder signed (a holder presenting a forgery): the presentation
    // verifies, the credential does not, and neither does the whole.
    let mut forged = passport(1, &operator_key());
    let mut doc = jcs::parse_strict(&forged.data_integrity).unwrap();
    doc["credentialSubject"]["capacityKwh"] = json!(90);
    forged.data_integrity = serde_json::to_vec(&doc).unwrap();
    let vp = sign(
        &unsigned(vec![
            embedded(&forged),
            enveloped(&passport(2, &operator_key())),
        ]),
        challenge_and_domain(),
    );
    let r = verify(&vp);
    passed(&r.presentation, "signature");
    assert_eq!(r.presentation.verdict(), Verdict::Valid);
    assert!(failed(&r.credentials[0], "signature").contains("does not match"));
    assert_eq!(r.verdict(), Verdict::Invalid);
}

#[test]
fn an_altered_presentation_field_fails_its_signature() {
    let mut vp = presented();
    vp["id"] = json!("urn:uuid:0193a3c4-0000-7000-8000-000000000002");
    let r = verify(&vp);
    failed(&r.presentation, "signature");
    assert_eq!(r.verdict(), Verdict::Invalid);
    assert!(r.credentials.iter().all(Report::is_valid));
}

#[test]
fn the_challenge_must_be_the_expected_one() {
    let vp = presented();
    let r = check(&vp, &expecting(Some("another"), Some(DOMAIN)));
    assert!(failed(&r.presentation, PROOF_CHALLENGE_CHECK).contains("not the expected"));
    assert_eq!(r.verdict(), Verdict::Invalid);

    // Signed without a challenge, one expected: fails.
    let vp = sign(
        &unsigned(vec![]),
        ProofExtras {
            domain: Some(Value::String(DOMAIN.into())),
            ..ProofExtras::default()
        },
    );
    let r = check(&vp, &expecting(Some(CHALLENGE), Some(DOMAIN)));
    assert!(failed(&r.presentation, PROOF_CHALLENGE_CHECK).contains("no challenge"));
    assert_eq!(r.verdict(), Verdict::Invalid);

    // None expected: a warning that it may be a replay; the verdict stands.
    for vp in [vp, presented()] {
        let r = check(&vp, &expecting(None, Some(DOMAIN)));
        let Some(Outcome::Warn(w)) = r.presentation.check(PROOF_CHALLENGE_CHECK) else {
            panic!("{r}")
        };
        assert!(w.contains("replay"), "{w}");
        assert_eq!(r.verdict(), Verdict::Valid, "{r}");
    }
}

#[test]
fn the_domain_must_be_the_expected_one() {
    let r = check(
        &presented(),
        &expecting(Some(CHALLENGE), Some("https://elsewhere.example")),
    );
    assert!(failed(&r.presentation, PROOF_DOMAIN_CHECK).contains("not the expected"));
    assert_eq!(r.verdict(), Verdict::Invalid);
}

#[test]
fn the_holder_must_control_the_key() {
    let other = DidKey::of(&SigningKey::from_bytes(&[43; 32]).verifying_key());
    let mut vp = unsigned(vec![embedded(&passport(1, &operator_key()))]);
    vp["holder"] = json!(other.as_str());
    let r = verify(&sign(&vp, challenge_and_domain()));
    let why = failed(&r.presentation, HOLDER_CHECK);
    assert!(
        why.contains(other.as_str()) && why.contains(holder_did().as_str()),
        "{why}"
    );
    assert_eq!(r.verdict(), Verdict::Invalid);

    // No holder at all: a warning, the proof alone shows possession of the key.
    let mut vp = unsigned(vec![]);
    vp.as_object_mut().unwrap().remove("holder");
    let r = verify(&sign(&vp, challenge_and_domain()));
    assert!(
        matches!(r.presentation.check(HOLDER_CHECK), Some(Outcome::Warn(_))),
        "{r}"
    );
    assert_eq!(r.verdict(), Verdict::Valid);
}

#[test]
fn a_proof_for_assertion_is_not_a_presentation_proof() {
    // The credential signer refuses a presentation (not a VerifiableCredential): an outside
    // signer need not, so sign at the lower level with the assertion purpose.
    assert!(add_data_integrity_proof(
        &unsigned(vec![]),
        &proof_options(holder_did().method_id()),
        &challenge_and_domain(),
        &holder_key(),
    )
    .is_err());
    let vp = hallmark_core::credential::add_data_integrity_proof_for(
        "assertionMethod",
        &unsigned(vec![embedded(&passport(1, &operator_key()))]),
        &proof_options(holder_did().method_id()),
        &challenge_and_domain(),
        &holder_key(),
    )
    .unwrap();
    assert_eq!(vp["proof"]["proofPurpose"], "assertionMethod");
    let r = verify(&vp);
    assert!(failed(&r.presentation, "proof-purpose").contains("authentication"));
    assert_eq!(r.verdict(), Verdict::Invalid);
}

#[test]
fn a_key_not_listed_for_authentication_cannot_present() {
    // The operator's did:web document lists its key for assertionMethod only.
    let web = operator();
    let mut vp = unsigned(vec![]);
    vp["holder"] = json!(web.as_str());
    let vp = sign_presentation(
        &vp,
        &proof_options(web.key_url(&operator_key().key_id())),
        &challenge_and_domain(),
        &operator_key(),
    )
    .unwrap();
    let r = verify(&vp);
    passed(&r.presentation, "key");
    assert!(failed(&r.presentation, "key-authorized").contains("authentication"));
}

#[test]
fn a_tampered_enveloped_credential_fails_its_signature() {
    use base64::Engine as _;
    let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    let jwt = passport(2, &operator_key()).jwt;
    let parts: Vec<&str> = jwt.split('.').collect();
    let payload = String::from_utf8(b64.decode(parts[1]).unwrap()).unwrap();
    let altered = payload.replace("\"capacityKwh\":75", "\"capacityKwh\":90");
    assert_ne!(altered, payload);
    let tampered = format!("{}.{}.{}", parts[0], b64.encode(altered), parts[2]);
    let vp = sign(
        &unsigned(vec![Contained::Enveloped(tampered)]),
        challenge_and_domain(),
    );
    let r = verify(&vp);
    passed(&r.presentation, "signature");
    assert_eq!(r.credentials[0].format, Some(Format::Jwt));
    failed(&r.credentials[0], "signature");
    assert_eq!(r.verdict(), Verdict::Invalid);

    // An enveloped entry that is not a vc+jwt data: URL fails the presentation's shape.
    let mut vp = unsigned(vec![]);
    let mut entry = enveloped_credential(&jwt);
    entry["id"] = json!(format!("data:application/vc-ld+jwt,{jwt}"));
    vp["verifiableCredential"] = json!([entry, "https://dpp.example.com/passports/1"]);
    // sign_presentation refuses it; an outside holder's signer need not.
    assert!(sign_presentation(
        &vp,
        &proof_options(holder_did().method_id()),
        &challenge_and_domain(),
        &holder_key(),
    )
    .is_err());
    let vp = hallmark_core::credential::add_data_integrity_proof_for(
        "authentication",
        &vp,
        &proof_options(holder_did().method_id()),
        &challenge_and_domain(),
        &holder_key(),
    )
    .unwrap();
    let r = verify(&vp);
    assert!(failed(&r.presentation, PRESENTATION_CHECK).contains("application/vc+jwt"));
    assert_eq!(r.credentials.len(), 2);
    failed(&r.credentials[0], "format");
    assert!(failed(&r.credentials[1], "format").contains("not an object"));
    assert_eq!(r.verdict(), Verdict::Invalid);
}

#[test]
fn a_credential_whose_issuer_key_is_unknown_fails_its_key_check() {
    let stranger = SigningKey::from_bytes(&[44; 32]);
    let vp = sign(
        &unsigned(vec![
            embedded(&passport(1, &stranger)),
            enveloped(&passport(2, &operator_key())),
        ]),
        challenge_and_domain(),
    );
    let r = verify(&vp);
    passed(&r.presentation, "signature");
    assert!(failed(&r.credentials[0], "key").contains("not in its controller document"));
    assert!(r.credentials[1].is_valid());
    assert_eq!(r.verdict(), Verdict::Invalid);
}

#[test]
fn pinned_issuer_documents_do_not_resolve_did_key_credentials() {
    // A credential self-issued by a did:key, presented by the same key: with one resolver
    // that enables did:key it verifies; a verifier who pinned the issuers' documents
    // resolves the holder's did:key only.
    let dk = holder_did();
    let self_issued = credential::secure(
        &UnsignedCredential {
            id: "urn:example:self".into(),
            types: vec![],
            issuer: dk.as_str().into(),
            valid_from: datetime!(2026-01-01 0:00 UTC),
            subject: json!({"id": "urn:example:1"}),
            extra_contexts: vec![],
        },
        &dk.method_id(),
        datetime!(2026-01-01 0:00 UTC),
        &holder_key(),
    )
    .unwrap();
    let vp = serde_json::to_vec(&sign(
        &unsigned(vec![embedded(&self_issued)]),
        challenge_and_domain(),
    ))
    .unwrap();
    let options = expecting(Some(CHALLENGE), Some(DOMAIN));
    let doc = operator_document();
    let open = Resolver::with_document(&doc).and_did_key();
    assert!(verify_presentation(&vp, &open, &options).is_valid());
    let pinned = Resolver::with_document(&doc);
    let r = verify_presentation_with(&vp, &open, &pinned, &options);
    passed(&r.presentation, "signature");
    assert!(failed(&r.credentials[0], "key").contains("did:key resolution is not enabled"));
    assert_eq!(r.verdict(), Verdict::Invalid);
}

#[test]
fn a_credential_is_not_a_presentation() {
    let c = passport(1, &operator_key());
    assert!(!hallmark_core::presentation::is_presentation(
        &c.data_integrity
    ));
    assert!(hallmark_core::presentation::is_presentation(
        &serde_json::to_vec(&presented()).unwrap()
    ));
    let doc = operator_document();
    let r = verify_presentation(
        &c.data_integrity,
        &Resolver::with_document(&doc),
        &expecting(None, None),
    );
    failed(&r.presentation, PRESENTATION_CHECK);
    assert_eq!(r.verdict(), Verdict::Invalid);
    let r = verify_presentation(
        c.jwt.as_bytes(),
        &Resolver::with_document(&doc),
        &expecting(None, None),
    );
    failed(&r.presentation, "format");
}

/// Hallmark never signs a presentation that breaks the data model's presentation rules (the
/// `presentation` check), and the credential rules do not apply to the presentation itself.
#[test]
fn an_invalid_presentation_is_not_signed() {
    let mut vp = unsigned(vec![embedded(&passport(1, &operator_key()))]);
    vp["holder"] = json!("not a url");
    let refused = sign_presentation(
        &vp,
        &proof_options(holder_did().method_id()),
        &challenge_and_domain(),
        &holder_key(),
    )
    .unwrap_err();
    assert!(
        matches!(&refused, hallmark_core::presentation::PresentationError::DataModel(why) if why.contains("holder")),
        "{refused}"
    );
    let mut vp = unsigned(vec![]);
    vp["verifiableCredential"] = json!(["a string, not a credential"]);
    assert!(sign_presentation(
        &vp,
        &proof_options(holder_did().method_id()),
        &challenge_and_domain(),
        &holder_key(),
    )
    .is_err());
}
