//! W3C Bitstring Status List v1.0: passports issued with status entries, signed status
//! lists, and `verify::check_status` over them (valid, suspended, revoked, tampered,
//! stale, missing); the specification's own examples (tests/fixtures/w3c-bitstring-status-list);
//! property tests of the bitstring and of the list signature.

use crate::common;

use base64::Engine as _;
use ed25519_dalek::SigningKey;
use hallmark_core::access::{Audience, PerAudience};
use hallmark_core::credential::{self, SecuredCredential};
use hallmark_core::did::{DidDocument, KeyStatus, PublishedKey};
use hallmark_core::issue::Issuer;
use hallmark_core::jcs;
use hallmark_core::keys::Signer as _;
use hallmark_core::passport::PassportStatus;
use hallmark_core::sector::SectorRegistry;
use hallmark_core::status::{
    self, credential_status, list_credential, status_entries, BitstringStatusList, ListCredential,
    StatusPurpose, StatusRef, LIST_BYTES, LIST_SIZE,
};
use hallmark_core::verify::{
    check_status, verify_with, Outcome, Report, Verdict, VerifyOptions, STATUS_LIST_CHECK,
    STATUS_LIST_SIGNATURE_CHECK,
};
use proptest::prelude::*;
use serde_json::{json, Value};
use std::path::PathBuf;
use time::macros::datetime;
use time::OffsetDateTime;

const BASE: &str = "https://dpp.acme-batteries.example";
const AT: OffsetDateTime = datetime!(2026-11-01 10:00 UTC);
const REF: StatusRef = StatusRef {
    list: 0,
    index: 94_567,
};

fn issuer() -> Issuer {
    Issuer::from_base_url(BASE).unwrap()
}

fn key() -> SigningKey {
    SigningKey::from_bytes(&[7; 32])
}

fn did_doc(keys: &[&SigningKey]) -> DidDocument {
    let keys: Vec<_> = keys
        .iter()
        .map(|k| PublishedKey {
            public_key: k.verifying_key(),
            status: KeyStatus::Current,
        })
        .collect();
    DidDocument::build(&issuer().did, &keys)
}

fn issue(status: Option<StatusRef>) -> PerAudience<SecuredCredential> {
    let mut p = common::draft_passport(("battery", "1.2.0"), common::composite_signable());
    p.transition(PassportStatus::Published, AT).unwrap();
    let valid = SectorRegistry::builtin().validate(p).unwrap();
    issuer().issue_all(&valid, status, &key(), AT).unwrap()
}

/// A signed list of `purpose` with `set` bits set, valid from `at`.
fn list(purpose: StatusPurpose, set: &[u32], at: OffsetDateTime) -> SecuredCredential {
    let mut bits = BitstringStatusList::new();
    for &i in set {
        bits.set(i, true).unwrap();
    }
    issuer()
        .issue_status_list(purpose, REF.list, &bits, &key(), at)
        .unwrap()
}

fn source(purpose: StatusPurpose) -> String {
    status::list_url(BASE, purpose, REF.list)
}

/// Verifies `cred` and checks its status against (suspension, revocation) lists.
fn report(cred: &[u8], lists: &[(String, Vec<u8>)], now: OffsetDateTime) -> Report {
    let doc = did_doc(&[&key()]);
    let mut r = verify_with(
        cred,
        &doc,
        &VerifyOptions {
            now: Some(now),
            ..VerifyOptions::default()
        },
    );
    check_status(&mut r, lists, &doc, Some(now));
    r
}

fn both(suspended: bool, revoked: bool, at: OffsetDateTime) -> Vec<(String, Vec<u8>)> {
    let set = |b: bool| if b { vec![REF.index] } else { vec![] };
    vec![
        (
            source(StatusPurpose::Suspension),
            list(StatusPurpose::Suspension, &set(suspended), at).data_integrity,
        ),
        (
            source(StatusPurpose::Revocation),
            list(StatusPurpose::Revocation, &set(revoked), at)
                .jwt
                .into_bytes(),
        ),
    ]
}

fn outcome<'r>(r: &'r Report, name: &str) -> Vec<&'r Outcome> {
    r.checks
        .iter()
        .filter(|c| c.name == name)
        .map(|c| &c.outcome)
        .collect()
}

fn status_of(r: &Report) -> &Outcome {
    r.check("status").unwrap()
}

#[test]
fn every_audience_carries_the_same_two_entries() {
    let issued = issue(Some(REF));
    for (audience, c) in issued.iter() {
        let v: Value = serde_json::from_slice(&c.data_integrity).unwrap();
        assert_eq!(
            v["credentialStatus"],
            credential_status(BASE, REF),
            "{audience:?}"
        );
        // The JWT form carries it too (same unsecured document).
        let payload = c.jwt.split('.').nth(1).unwrap();
        let payload: Value = serde_json::from_slice(
            &base64::engine::general_purpose::URL_SAFE_NO_PAD
                .decode(payload)
                .unwrap(),
        )
        .unwrap();
        assert_eq!(payload["credentialStatus"], v["credentialStatus"]);
        let entries = status_entries(&v).unwrap();
        assert_eq!(entries.len(), 2);
        assert!(entries.iter().all(|e| e.index == REF.index));
        // Verifies like any credential.
        let r = verify_with(&c.data_integrity, &did_doc(&[&key()]), &Default::default());
        assert!(r.is_valid(), "{r}");
    }
}

#[test]
fn without_a_status_ref_the_credentials_are_unchanged() {
    let with = issue(Some(REF));
    let without = issue(None);
    for audience in Audience::ALL {
        let c = without.get(audience);
        let one = issuer()
            .issue(
                &{
                    let mut p =
                        common::draft_passport(("battery", "1.2.0"), common::composite_signable());
                    p.transition(PassportStatus::Published, AT).unwrap();
                    p
                },
                audience,
                SectorRegistry::builtin(),
                &key(),
                AT,
            )
            .unwrap();
        assert_eq!(c.data_integrity, one.data_integrity);
        assert_eq!(c.jwt, one.jwt);
        let v: Value = serde_json::from_slice(&c.data_integrity).unwrap();
        assert!(v.get("credentialStatus").is_none());
        assert_ne!(c.sha256, with.get(audience).sha256);
    }
}

#[test]
fn clear_bits_verify_as_valid_in_either_form() {
    let issued = issue(Some(REF));
    let now = AT + time::Duration::seconds(60);
    for cred in [
        issued.public.data_integrity.clone(),
        issued.authority.jwt.clone().into_bytes(),
    ] {
        let r = report(&cred, &both(false, false, AT), now);
        assert_eq!(r.verdict(), Verdict::Valid, "{r}");
        assert!(
            matches!(status_of(&r), Outcome::Pass(d) if d.starts_with("valid")),
            "{r}"
        );
        assert_eq!(outcome(&r, STATUS_LIST_SIGNATURE_CHECK).len(), 2);
        assert!(outcome(&r, STATUS_LIST_SIGNATURE_CHECK)
            .iter()
            .all(|o| matches!(o, Outcome::Pass(_))));
        assert!(outcome(&r, STATUS_LIST_CHECK)
            .iter()
            .all(|o| matches!(o, Outcome::Pass(_))));
        assert_eq!(r.list_status, None);
    }
}

#[test]
fn a_set_suspension_bit_is_suspended_and_not_in_force() {
    let issued = issue(Some(REF));
    let r = report(&issued.public.data_integrity, &both(true, false, AT), AT);
    assert!(
        matches!(status_of(&r), Outcome::Fail(d) if d.starts_with("suspended")),
        "{r}"
    );
    assert_eq!(r.verdict(), Verdict::NotInForce("suspended".into()));
    assert!(!r.is_valid());
    // Another passport's bit set in the same list changes nothing for this one.
    let mut lists = both(false, false, AT);
    lists[0].1 = list(
        StatusPurpose::Suspension,
        &[REF.index + 1, REF.index - 1],
        AT,
    )
    .data_integrity;
    let r = report(&issued.public.data_integrity, &lists, AT);
    assert_eq!(r.verdict(), Verdict::Valid, "{r}");
}

#[test]
fn a_set_revocation_bit_is_revoked_even_when_also_suspended() {
    let issued = issue(Some(REF));
    for suspended in [false, true] {
        let r = report(
            &issued.public.data_integrity,
            &both(suspended, true, AT),
            AT,
        );
        assert!(
            matches!(status_of(&r), Outcome::Fail(d) if d.starts_with("revoked")),
            "{r}"
        );
        assert_eq!(r.verdict(), Verdict::NotInForce("revoked".into()));
        assert!(r
            .to_string()
            .contains("NOT IN FORCE: the passport is revoked"));
    }
}

#[test]
fn a_credential_without_status_entries_is_skipped_not_failed() {
    let issued = issue(None);
    let r = report(&issued.public.data_integrity, &[], AT);
    assert_eq!(
        status_of(&r),
        &Outcome::Skipped("no status entry".into()),
        "{r}"
    );
    assert_eq!(r.verdict(), Verdict::Valid);
    // Lists given for it are ignored, with a warning.
    let r = report(&issued.public.data_integrity, &both(true, true, AT), AT);
    assert_eq!(r.verdict(), Verdict::Valid, "{r}");
    assert_eq!(outcome(&r, STATUS_LIST_CHECK).len(), 2);
    assert!(outcome(&r, STATUS_LIST_CHECK)
        .iter()
        .all(|o| matches!(o, Outcome::Warn(_))));
}

#[test]
fn a_tampered_list_fails_its_signature_and_the_report() {
    let issued = issue(Some(REF));
    // The node set the bit; someone clears it in the served copy.
    let signed = list(StatusPurpose::Suspension, &[REF.index], AT);
    let mut v: Value = serde_json::from_slice(&signed.data_integrity).unwrap();
    v["credentialSubject"]["encodedList"] = json!(BitstringStatusList::new().encode().unwrap());
    let mut lists = both(false, false, AT);
    lists[0].1 = serde_json::to_vec(&v).unwrap();
    let r = report(&issued.public.data_integrity, &lists, AT);
    assert!(
        matches!(outcome(&r, STATUS_LIST_SIGNATURE_CHECK)[0], Outcome::Fail(d) if d.contains("signature")),
        "{r}"
    );
    assert_eq!(
        status_of(&r),
        &Outcome::Skipped("a status list did not verify".into())
    );
    assert_eq!(r.verdict(), Verdict::Invalid);
}

#[test]
fn an_unreadable_list_fails_rather_than_being_ignored() {
    let issued = issue(Some(REF));
    let signed = list(StatusPurpose::Suspension, &[REF.index], AT);
    for garbage in [
        b"not a credential".to_vec(),
        signed.data_integrity[..signed.data_integrity.len() - 1].to_vec(),
        b"a.b.c".to_vec(),
    ] {
        let mut lists = both(false, false, AT);
        lists[0] = ("suspension.json".into(), garbage);
        let r = report(&issued.public.data_integrity, &lists, AT);
        assert!(
            matches!(outcome(&r, STATUS_LIST_SIGNATURE_CHECK)[1], Outcome::Fail(d) if d.starts_with("suspension.json: ")),
            "{r}"
        );
        assert_eq!(
            status_of(&r),
            &Outcome::Skipped("a status list could not be read".into())
        );
        assert_eq!(r.verdict(), Verdict::Invalid);
    }
}

#[test]
fn a_list_signed_by_an_unknown_key_fails() {
    let issued = issue(Some(REF));
    let stranger = SigningKey::from_bytes(&[9; 32]);
    let bits = BitstringStatusList::new();
    let forged = issuer()
        .issue_status_list(StatusPurpose::Revocation, 0, &bits, &stranger, AT)
        .unwrap();
    let mut lists = both(false, false, AT);
    lists[1].1 = forged.data_integrity;
    let r = report(&issued.public.data_integrity, &lists, AT);
    assert!(
        matches!(outcome(&r, STATUS_LIST_SIGNATURE_CHECK)[1], Outcome::Fail(d) if d.contains("key")),
        "{r}"
    );
    assert_eq!(r.verdict(), Verdict::Invalid);
}

#[test]
fn a_list_of_the_wrong_purpose_under_the_right_id_fails() {
    let issued = issue(Some(REF));
    // A revocation list (bit clear) signed under the suspension list's URL.
    let mut doc = list_credential(
        &issuer(),
        StatusPurpose::Revocation,
        0,
        &BitstringStatusList::new(),
        AT,
    )
    .unwrap();
    doc["id"] = json!(source(StatusPurpose::Suspension));
    let vm = issuer().did.key_url(&key().key_id());
    let signed = credential::secure_document(&doc, &vm, AT, &key()).unwrap();
    let mut lists = both(true, false, AT);
    lists[0].1 = signed.data_integrity;
    let r = report(&issued.public.data_integrity, &lists, AT);
    assert!(
        matches!(outcome(&r, STATUS_LIST_CHECK)[0], Outcome::Fail(d) if d.contains("statusPurpose")),
        "{r}"
    );
    assert_eq!(r.verdict(), Verdict::Invalid);
}

#[test]
fn another_list_cannot_stand_in_for_the_named_one() {
    let issued = issue(Some(REF));
    // List 1's suspension list, genuinely signed, with the passport's bit clear: its id is
    // not the one the entry names, so it is ignored and the status is not checked.
    let other = issuer()
        .issue_status_list(
            StatusPurpose::Suspension,
            1,
            &BitstringStatusList::new(),
            &key(),
            AT,
        )
        .unwrap();
    let mut lists = both(true, false, AT);
    lists[0] = (source(StatusPurpose::Suspension), other.data_integrity);
    let r = report(&issued.public.data_integrity, &lists, AT);
    assert!(
        matches!(status_of(&r), Outcome::Warn(d) if d.contains("no status list supplied for suspension")),
        "{r}"
    );
    assert!(outcome(&r, STATUS_LIST_CHECK)
        .iter()
        .any(|o| matches!(o, Outcome::Warn(d) if d.contains("ignored"))));
    assert_eq!(r.verdict(), Verdict::Valid);
}

#[test]
fn a_missing_list_is_a_warning_but_a_set_bit_in_the_other_still_counts() {
    let issued = issue(Some(REF));
    let lists = both(false, true, AT);
    let r = report(&issued.public.data_integrity, &lists[1..], AT);
    assert_eq!(r.verdict(), Verdict::NotInForce("revoked".into()), "{r}");
    let lists = both(false, false, AT);
    let r = report(&issued.public.data_integrity, &lists[1..], AT);
    assert!(matches!(status_of(&r), Outcome::Warn(_)), "{r}");
    assert_eq!(r.verdict(), Verdict::Valid);
}

#[test]
fn an_expired_list_warns_and_still_tells_its_status() {
    let issued = issue(Some(REF));
    let later = AT + time::Duration::seconds(status::LIST_VALIDITY_SECS);
    let r = report(
        &issued.public.data_integrity,
        &both(false, false, AT),
        later,
    );
    assert!(
        outcome(&r, STATUS_LIST_CHECK)
            .iter()
            .all(|o| matches!(o, Outcome::Warn(d) if d.contains("expired"))),
        "{r}"
    );
    assert_eq!(r.verdict(), Verdict::Valid);
    let r = report(&issued.public.data_integrity, &both(true, false, AT), later);
    assert_eq!(r.verdict(), Verdict::NotInForce("suspended".into()));
    // A list not yet valid (signed after `now`) fails.
    let r = report(
        &issued.public.data_integrity,
        &both(false, false, AT + time::Duration::hours(1)),
        AT + time::Duration::minutes(1),
    );
    assert!(
        outcome(&r, STATUS_LIST_CHECK)
            .iter()
            .all(|o| matches!(o, Outcome::Fail(d) if d.contains("not valid before"))),
        "{r}"
    );
    assert_eq!(r.verdict(), Verdict::Invalid);
}

#[test]
fn the_newest_of_two_copies_of_a_list_decides() {
    let issued = issue(Some(REF));
    let mut lists = both(false, false, AT);
    // Suspended at 10:00, resumed at 10:03: the resumed copy wins whatever the order.
    let resumed_at = AT + time::Duration::minutes(3);
    lists[0].1 = list(StatusPurpose::Suspension, &[REF.index], AT).data_integrity;
    lists.push((
        source(StatusPurpose::Suspension),
        list(StatusPurpose::Suspension, &[], resumed_at).data_integrity,
    ));
    let r = report(&issued.public.data_integrity, &lists, resumed_at);
    assert_eq!(r.verdict(), Verdict::Valid, "{r}");
    lists.swap(0, 2);
    let r = report(&issued.public.data_integrity, &lists, resumed_at);
    assert_eq!(r.verdict(), Verdict::Valid, "{r}");
}

#[test]
fn malformed_status_entries_make_the_report_invalid() {
    let issued = issue(Some(REF));
    // A credential signed with a bad entry (statusListIndex as a number).
    let mut v: Value = serde_json::from_slice(&issued.public.data_integrity).unwrap();
    v.as_object_mut().unwrap().remove("proof");
    v["credentialStatus"][0]["statusListIndex"] = json!(REF.index);
    let vm = issuer().did.key_url(&key().key_id());
    let c = credential::secure_document(&v, &vm, AT, &key()).unwrap();
    let r = report(&c.data_integrity, &both(false, false, AT), AT);
    assert!(
        matches!(status_of(&r), Outcome::Fail(d) if d.contains("statusListIndex")),
        "{r}"
    );
    assert_eq!(r.list_status, None);
    assert_eq!(r.verdict(), Verdict::Invalid);
}

#[test]
fn served_status_and_list_status_both_count() {
    let issued = issue(Some(REF));
    let mut r = report(&issued.public.data_integrity, &both(false, false, AT), AT);
    assert_eq!(r.verdict(), Verdict::Valid);
    r.record_status(Some("archived"), "HTTP 200");
    assert_eq!(r.verdict(), Verdict::NotInForce("archived".into()));
}

// --- The specification's examples ---

fn fixture(name: &str) -> Value {
    let p = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/w3c-bitstring-status-list")
        .join(name);
    let text = std::fs::read(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()));
    jcs::parse_strict(&text).unwrap()
}

const SPEC_ENCODED_LIST: &str =
    "uH4sIAAAAAAAAA-3BMQEAAADCoPVPbQwfoAAAAAAAAAAAAAAAAAAAAIC3AYbSVKsAQAAA";

#[test]
fn the_specifications_encoded_list_is_131072_clear_bits() {
    let bits = BitstringStatusList::decode(SPEC_ENCODED_LIST).unwrap();
    assert_eq!(bits.as_bytes().len(), LIST_BYTES);
    assert_eq!(bits.count_set(), 0);
    assert!(!bits.get(0).unwrap() && !bits.get(LIST_SIZE - 1).unwrap());
    // Ours for the same list decodes to the same bits (GZIP bytes may differ by encoder).
    let ours = BitstringStatusList::new().encode().unwrap();
    assert_eq!(BitstringStatusList::decode(&ours).unwrap(), bits);
}

#[test]
fn the_specifications_list_credentials_read_back() {
    for name in [
        "example-3-status-list-credential.json",
        "example-5-status-list-credential-eddsa-rdfc-2022.json",
    ] {
        let v = fixture(name);
        assert_eq!(v["credentialSubject"]["encodedList"], SPEC_ENCODED_LIST);
        let l = ListCredential::parse(&v).unwrap();
        assert_eq!(l.id, "https://example.com/credentials/status/3");
        assert_eq!(l.issuer, "did:example:12345");
        assert!(l.has_purpose(StatusPurpose::Revocation));
        assert_eq!(l.valid_from, datetime!(2021-04-05 14:27:40 UTC));
        assert_eq!(l.valid_until, None);
        assert_eq!(l.bits.count_set(), 0);
    }
}

#[test]
fn the_specifications_entries_read_back() {
    let v = fixture("example-1-credential-status-entries.json");
    let e = status_entries(&v).unwrap();
    assert_eq!(e.len(), 2);
    assert_eq!(
        (e[0].purpose, e[0].index, e[0].list_credential.as_str()),
        (
            StatusPurpose::Revocation,
            94_567,
            "https://example.com/credentials/status/3"
        )
    );
    assert_eq!(
        (e[1].purpose, e[1].index, e[1].list_credential.as_str()),
        (
            StatusPurpose::Suspension,
            23_452,
            "https://example.com/credentials/status/4"
        )
    );
}

fn keys_of(v: &Value) -> Vec<String> {
    let mut k: Vec<String> = v.as_object().unwrap().keys().cloned().collect();
    k.sort();
    k
}

#[test]
fn ours_have_the_members_of_the_specifications_examples() {
    // Entries: exactly the members of the example's entries.
    let spec = fixture("example-1-credential-status-entries.json");
    let ours = credential_status(BASE, REF);
    for e in ours.as_array().unwrap() {
        assert_eq!(keys_of(e), keys_of(&spec["credentialStatus"][0]));
        // The entry id is the list URL with the index as fragment, as in the example.
        assert_eq!(
            e["id"].as_str().unwrap(),
            format!(
                "{}#{}",
                e["statusListCredential"].as_str().unwrap(),
                e["statusListIndex"].as_str().unwrap()
            )
        );
    }
    // List credential: the example's members plus validUntil, and ttl in the subject (both
    // defined by the specification, §2.2).
    let spec = fixture("example-3-status-list-credential.json");
    let ours = list_credential(
        &issuer(),
        StatusPurpose::Revocation,
        0,
        &BitstringStatusList::new(),
        AT,
    )
    .unwrap();
    let mut expected = keys_of(&spec);
    expected.push("validUntil".into());
    expected.sort();
    assert_eq!(keys_of(&ours), expected);
    let mut expected = keys_of(&spec["credentialSubject"]);
    expected.push("ttl".into());
    expected.sort();
    assert_eq!(keys_of(&ours["credentialSubject"]), expected);
    assert_eq!(ours["@context"], spec["@context"]);
    assert_eq!(ours["type"], spec["type"]);
    assert_eq!(
        ours["credentialSubject"]["type"],
        spec["credentialSubject"]["type"]
    );
}

#[test]
fn the_specifications_documents_check_end_to_end_when_signed_by_us() {
    // Example 1 and Example 3, re-issued by this node (issuer and proof are ours; the
    // status members are the specification's, the examples context included).
    let vm = issuer().did.key_url(&key().key_id());
    let mut cred = fixture("example-1-credential-status-entries.json");
    cred["issuer"] = json!(issuer().did.as_str());
    let cred = credential::secure_document(&cred, &vm, AT, &key()).unwrap();
    let mut l = fixture("example-3-status-list-credential.json");
    l["issuer"] = json!(issuer().did.as_str());
    let l = credential::secure_document(&l, &vm, AT, &key()).unwrap();
    let r = report(
        &cred.data_integrity,
        &[("example-3".into(), l.data_integrity.clone())],
        AT,
    );
    // The revocation list (status/3) says not revoked; status/4 (suspension) was not given.
    assert!(
        matches!(outcome(&r, STATUS_LIST_CHECK)[0], Outcome::Pass(_)),
        "{r}"
    );
    assert!(
        matches!(status_of(&r), Outcome::Warn(d) if d.contains("status/4")),
        "{r}"
    );
    assert_eq!(r.verdict(), Verdict::Valid);
    // Set bit 94567 in the revocation list: revoked.
    let mut l2 = fixture("example-3-status-list-credential.json");
    l2["issuer"] = json!(issuer().did.as_str());
    let mut bits = BitstringStatusList::new();
    bits.set(94_567, true).unwrap();
    l2["credentialSubject"]["encodedList"] = json!(bits.encode().unwrap());
    let l2 = credential::secure_document(&l2, &vm, AT, &key()).unwrap();
    let r = report(
        &cred.data_integrity,
        &[("example-3".into(), l2.data_integrity)],
        AT,
    );
    assert_eq!(r.verdict(), Verdict::NotInForce("revoked".into()), "{r}");
}

// --- Properties ---

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    #[test]
    fn encode_decode_round_trips_any_set_of_bits(set in proptest::collection::btree_set(0..LIST_SIZE, 0..200)) {
        let mut bits = BitstringStatusList::new();
        for &i in &set {
            bits.set(i, true).unwrap();
        }
        let back = BitstringStatusList::decode(&bits.encode().unwrap()).unwrap();
        prop_assert_eq!(&back, &bits);
        prop_assert_eq!(back.count_set() as usize, set.len());
        for &i in &set {
            prop_assert!(back.get(i).unwrap());
        }
        // And the bytes are what the specification's layout says.
        for &i in &set {
            prop_assert_ne!(back.as_bytes()[(i / 8) as usize] & (0x80 >> (i % 8)), 0);
        }
    }

    #[test]
    fn any_bytes_round_trip(bytes in proptest::collection::vec(any::<u8>(), LIST_BYTES)) {
        let bits = BitstringStatusList::from_bytes(&bytes).unwrap();
        let back = BitstringStatusList::decode(&bits.encode().unwrap()).unwrap();
        prop_assert_eq!(back.as_bytes(), &bytes[..]);
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 24, ..ProptestConfig::default() })]

    /// A byte of the compressed list changed in a signed list credential (either form) is
    /// refused by the list's signature, whatever the byte and the change.
    #[test]
    fn a_flipped_byte_in_the_compressed_list_fails_the_signature(
        set in proptest::collection::btree_set(0..LIST_SIZE, 0..50),
        at in any::<prop::sample::Index>(),
        flip in 1u8..=255,
        jwt in any::<bool>(),
    ) {
        let mut bits = BitstringStatusList::new();
        for &i in &set {
            bits.set(i, true).unwrap();
        }
        let signed = issuer()
            .issue_status_list(StatusPurpose::Suspension, 0, &bits, &key(), AT)
            .unwrap();
        let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
        let tamper = |doc: &mut Value| {
            let enc = doc["credentialSubject"]["encodedList"].as_str().unwrap().to_string();
            let mut gz = b64.decode(&enc[1..]).unwrap();
            let i = at.index(gz.len());
            gz[i] ^= flip;
            doc["credentialSubject"]["encodedList"] = json!(format!("u{}", b64.encode(&gz)));
        };
        let tampered = if jwt {
            let mut parts: Vec<String> = signed.jwt.split('.').map(str::to_string).collect();
            let mut payload: Value = serde_json::from_slice(&b64.decode(&parts[1]).unwrap()).unwrap();
            tamper(&mut payload);
            parts[1] = b64.encode(serde_json::to_vec(&payload).unwrap());
            parts.join(".").into_bytes()
        } else {
            let mut doc: Value = serde_json::from_slice(&signed.data_integrity).unwrap();
            tamper(&mut doc);
            serde_json::to_vec(&doc).unwrap()
        };
        let cred = issue_cached();
        let r = report(&cred, &[(source(StatusPurpose::Suspension), tampered)], AT);
        let sig = outcome(&r, STATUS_LIST_SIGNATURE_CHECK);
        prop_assert_eq!(sig.len(), 1);
        prop_assert!(matches!(sig[0], Outcome::Fail(_)), "{}", r);
        prop_assert_eq!(r.verdict(), Verdict::Invalid);
    }
}

fn issue_cached() -> Vec<u8> {
    static CRED: std::sync::OnceLock<Vec<u8>> = std::sync::OnceLock::new();
    CRED.get_or_init(|| issue(Some(REF)).public.data_integrity.clone())
        .clone()
}

#[test]
fn an_independent_implementations_list_decodes_to_its_bits() {
    let p = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/bitstring-status-list-interop.json");
    let v: Value = serde_json::from_slice(&std::fs::read(p).unwrap()).unwrap();
    let bits = BitstringStatusList::decode(v["encodedList"].as_str().unwrap()).unwrap();
    let set: Vec<u32> = v["set"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| u32::try_from(i.as_u64().unwrap()).unwrap())
        .collect();
    assert_eq!(bits.count_set() as usize, set.len());
    for i in set {
        assert!(bits.get(i).unwrap(), "bit {i}");
    }
    // Ours with the same bits decodes to the same list.
    let mut ours = BitstringStatusList::new();
    for i in [0, 7, 8, 94_567, 131_071] {
        ours.set(i, true).unwrap();
    }
    assert_eq!(
        BitstringStatusList::decode(&ours.encode().unwrap()).unwrap(),
        bits
    );
}
