//! ISO/IEC 15459 identifiers in `issue::validate_with`: battery passports require them
//! (errors at envelope pointers), generic ones get "not ISO/IEC 15459" warnings, a legacy
//! battery passport keeping its recorded non-15459 operator gets warnings; old credentials
//! keep verifying.

use crate::common;

use ed25519_dalek::SigningKey;
use hallmark_core::credential::{self, UnsignedCredential};
use hallmark_core::did::{DidDocument, KeyStatus, PublishedKey};
use hallmark_core::issue::{self, IssueError, Issuer};
use hallmark_core::passport::{Passport, PassportStatus};
use hallmark_core::sector::{IdentifierPolicy, SectorRegistry, ValidationIssue};
use hallmark_core::verify::verify;
use serde_json::json;
use time::macros::datetime;

const EORI: &str = "urn:eori:DE123456789012345";

fn registry() -> &'static SectorRegistry {
    SectorRegistry::builtin()
}

/// The full battery sample with these identifiers (the fixture's are GS1 GLNs).
fn battery(operator: &str, facility: Option<&str>, commodity: Option<&str>) -> Passport {
    let mut p = common::draft_passport(("battery", "1.2.0"), common::composite_signable());
    p.economic_operator_id = operator.into();
    p.facility_id = facility.map(Into::into);
    p.commodity_code = commodity.map(Into::into);
    p
}

fn generic(operator: &str, facility: Option<&str>) -> Passport {
    let mut p =
        common::draft_passport(("generic", "1.0.0"), json!({"public": {"material": "oak"}}));
    p.economic_operator_id = operator.into();
    p.facility_id = facility.map(Into::into);
    p
}

fn pointers(issues: &[ValidationIssue]) -> Vec<&str> {
    issues.iter().map(|i| i.pointer.as_str()).collect()
}

fn invalid(p: &Passport, legacy: Option<&str>) -> Vec<ValidationIssue> {
    match issue::validate_with(p, registry(), legacy) {
        Err(IssueError::Invalid(issues)) => issues,
        other => panic!("expected Invalid, got {other:?}"),
    }
}

fn warnings(p: &Passport, legacy: Option<&str>) -> Vec<ValidationIssue> {
    issue::validate_with(p, registry(), legacy).unwrap().1
}

#[test]
fn policies() {
    let policy = |id, v| registry().get(id, v).unwrap().identifier_policy();
    assert_eq!(policy("battery", "1.2.0"), IdentifierPolicy::Required);
    assert_eq!(policy("generic", "1.0.0"), IdentifierPolicy::Advisory);
}

#[test]
fn a_battery_passport_with_glns_and_a_commodity_code_has_no_findings() {
    let p = battery(
        "https://id.gs1.org/417/4012345000016",
        Some("https://id.gs1.org/414/4012345000016"),
        Some("85076000"),
    );
    assert_eq!(warnings(&p, None), vec![]);
    // Every GLN spelling is accepted as written.
    for (op, fac) in [
        ("4012345000016", "urn:gln:4000001000005"),
        ("(417)4012345000016", "(414)4000001000005(254)3"),
        (
            "urn:epc:id:pgln:4012345.00001",
            "urn:epc:id:sgln:4000001.00000.0",
        ),
        ("iso15459:UN:150483782", "iso15459:OD:PLANT-7"),
    ] {
        let p = battery(op, Some(fac), Some("850760"));
        assert_eq!(warnings(&p, None), vec![], "{op} {fac}");
    }
}

#[test]
fn a_battery_passport_without_a_commodity_code_gets_a_warning() {
    let p = battery("4012345000016", Some("4012345000016"), None);
    let w = warnings(&p, None);
    assert_eq!(pointers(&w), ["/commodityCode"]);
    assert!(w[0].message.contains("`commodityCode` is missing"), "{w:?}");
}

/// (operator, facility, error pointers, first message fragment)
#[test]
fn battery_identifier_errors() {
    let table: &[(&str, Option<&str>, &[&str], &str)] = &[
        (EORI, Some("4012345000016"), &["/economicOperatorId"],
         "`economicOperatorId` is not an ISO/IEC 15459 identifier (an EORI number: `urn:eori:DE123456789012345`); a battery passport needs one, e.g. a GS1 GLN as `https://id.gs1.org/417/<gln>`"),
        ("4012345000016", None, &["/facilityId"],
         "`facilityId` is required for a battery passport: the ISO/IEC 15459 identifier of its facility, e.g. a GS1 GLN as `https://id.gs1.org/414/<gln>`"),
        ("urn:gln:4012345000017", Some("4012345000016"), &["/economicOperatorId"],
         "`economicOperatorId`: GLN check digit is 7 but the GS1 mod-10 check digit is 6 (in `urn:gln:4012345000017`)"),
        ("https://id.gs1.org/414/4012345000016", Some("4012345000016"), &["/economicOperatorId"],
         "`economicOperatorId`: an economic operator is a party"),
        ("4012345000016", Some("ACME plant 3"), &["/facilityId"],
         "`facilityId` is not an ISO/IEC 15459 identifier (a free-form string: `ACME plant 3`); a battery passport needs one, e.g. a GS1 GLN as `https://id.gs1.org/414/<gln>`"),
        ("iso15459:XY:1", Some("(417)4012345000016"), &["/economicOperatorId", "/facilityId"],
         "`economicOperatorId`: issuing agency code `XY` is not known to this node"),
        (EORI, None, &["/economicOperatorId", "/facilityId"], "`economicOperatorId` is not"),
    ];
    for (op, fac, expected, message) in table {
        let issues = invalid(&battery(op, *fac, Some("85076000")), None);
        assert_eq!(pointers(&issues), *expected, "{op} {fac:?}");
        assert!(issues[0].message.starts_with(message), "{issues:?}");
    }
    // Data issues and identifier issues come together.
    let mut p = battery(EORI, None, None);
    p.data = json!({});
    let issues = invalid(&p, None);
    assert!(issues.iter().any(|i| i.pointer.starts_with("/data")));
    assert!(issues.iter().any(|i| i.pointer == "/economicOperatorId"));
    // `validate` (no warnings) agrees, and the error names the envelope pointer.
    let p = battery(EORI, Some("4012345000016"), None);
    let e = issue::validate(&p, registry()).unwrap_err();
    assert!(e.to_string().contains("/economicOperatorId"), "{e}");
}

#[test]
fn a_legacy_battery_passport_keeping_its_eori_operator_gets_warnings() {
    let p = battery(EORI, None, Some("85076000"));
    let w = warnings(&p, Some(EORI));
    assert_eq!(pointers(&w), ["/economicOperatorId", "/facilityId"]);
    assert!(
        w[0].message.contains("not an ISO/IEC 15459 identifier"),
        "{w:?}"
    );
    assert!(w[0].message.contains("predates"), "{w:?}");
    // A malformed facility on a legacy passport is a warning too.
    let p = battery(EORI, Some("urn:gln:1"), Some("85076000"));
    assert_eq!(
        pointers(&warnings(&p, Some(EORI))),
        ["/economicOperatorId", "/facilityId"]
    );
    // Not legacy: the record's operator is a GLN, or the draft changes the operator.
    assert_eq!(
        pointers(&invalid(&battery(EORI, None, None), Some("4012345000016"))),
        ["/economicOperatorId", "/facilityId"]
    );
    assert_eq!(
        pointers(&invalid(
            &battery("urn:eori:DE999", Some("4012345000016"), None),
            Some(EORI)
        )),
        ["/economicOperatorId"]
    );
    // A legacy passport moving to a GLN operator is strict from then on (and fine).
    let p = battery("4012345000016", Some("4012345000016"), Some("85076000"));
    assert_eq!(warnings(&p, Some(EORI)), vec![]);
}

#[test]
fn generic_passports_get_not_iso15459_warnings_only() {
    let w = warnings(&generic(EORI, None), None);
    assert_eq!(pointers(&w), ["/economicOperatorId"]);
    assert_eq!(
        w[0].message,
        "`economicOperatorId` is not an ISO/IEC 15459 identifier (an EORI number: \
         `urn:eori:DE123456789012345`); the EU registry export needs one (e.g. a GS1 GLN)"
    );
    let w = warnings(&generic("ACME", Some("urn:gln:1")), None);
    assert_eq!(pointers(&w), ["/economicOperatorId", "/facilityId"]);
    assert_eq!(
        w[1].message,
        "`facilityId`: GLN must have 13 digits, got 1 (in `urn:gln:1`); not ISO/IEC 15459 as written"
    );
    // With GLNs: nothing; no facility and no commodity code are fine for generic.
    assert_eq!(warnings(&generic("4012345000016", None), None), vec![]);
}

#[test]
fn one_schema_validation_per_call() {
    // A registry of its own: the shared one counts the other tests' validations too.
    let own = SectorRegistry::with_builtin_sectors();
    let p = battery(EORI, None, None);
    let _ = issue::validate_with(&p, &own, Some(EORI));
    assert_eq!(own.validations(), 1);
}

#[test]
fn an_old_eori_battery_credential_still_parses_and_verifies() {
    let key = SigningKey::from_bytes(&[9; 32]);
    let issuer = Issuer::from_base_url("https://dpp.acme-batteries.example").unwrap();
    let mut p = battery(EORI, None, None);
    p.transition(PassportStatus::Published, datetime!(2026-11-01 10:00 UTC))
        .unwrap();
    // Signed as the node did before the identifier rules (no sector validation here).
    let unsigned = UnsignedCredential {
        id: issuer.credential_id(&p, hallmark_core::access::Audience::Public),
        types: vec![issue::CREDENTIAL_TYPE.into()],
        issuer: issuer.did.as_str().into(),
        valid_from: datetime!(2026-11-01 10:00 UTC),
        subject: serde_json::to_value(&p).unwrap(),
        extra_contexts: vec![],
    };
    let vm = issuer
        .did
        .key_url(&hallmark_core::keys::Signer::key_id(&key));
    let c = credential::secure(&unsigned, &vm, datetime!(2026-11-01 10:00 UTC), &key).unwrap();
    let doc = DidDocument::build(
        &issuer.did,
        &[PublishedKey {
            public_key: key.verifying_key(),
            status: KeyStatus::Current,
        }],
    );
    let r = verify(&c.data_integrity, &doc);
    assert!(r.is_valid(), "{r}");
    let back = issue::passport_from_credential(r.credential.as_ref().unwrap()).unwrap();
    assert_eq!(back.economic_operator_id, EORI);
    // Validation (what issuing a new version would do) refuses it.
    assert!(issue::validate(&back, registry()).is_err());
}
