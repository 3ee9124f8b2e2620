//! Passports → per-audience credentials → offline verification against did:web only.

use crate::common;

use ed25519_dalek::SigningKey;
use hallmark_core::access::{Audience, Tier};
use hallmark_core::did::{DidDocument, KeyStatus, PublishedKey};
use hallmark_core::issue::{self, IssueError, Issuer};
use hallmark_core::passport::{Passport, PassportStatus};
use hallmark_core::sector::SectorRegistry;
use hallmark_core::verify::verify;
use serde_json::{json, Value};
use time::macros::datetime;

fn registry() -> &'static SectorRegistry {
    SectorRegistry::builtin()
}

fn issuer() -> Issuer {
    Issuer::from_base_url("https://dpp.acme-batteries.example").unwrap()
}

fn draft(sector: (&str, &str), data: Value) -> Passport {
    common::draft_passport(sector, data)
}

fn published(data: Value) -> Passport {
    let mut p = draft(("battery", "1.2.0"), data);
    p.transition(PassportStatus::Published, datetime!(2026-11-01 10:00 UTC))
        .unwrap();
    p
}

fn did_doc(keys: &[(&SigningKey, KeyStatus)]) -> DidDocument {
    let keys: Vec<_> = keys
        .iter()
        .map(|(k, s)| PublishedKey {
            public_key: k.verifying_key(),
            status: *s,
        })
        .collect();
    DidDocument::build(&issuer().did, &keys)
}

fn leaf_pointers(v: &Value, prefix: String, out: &mut Vec<String>) {
    match v {
        Value::Object(m) if !m.is_empty() => {
            for (k, c) in m {
                leaf_pointers(
                    c,
                    format!("{prefix}/{}", k.replace('~', "~0").replace('/', "~1")),
                    out,
                )
            }
        }
        Value::Array(a) if !a.is_empty() => {
            for (i, c) in a.iter().enumerate() {
                leaf_pointers(c, format!("{prefix}/{i}"), out)
            }
        }
        _ => out.push(prefix),
    }
}

#[test]
fn full_battery_sample_issues_and_verifies_for_every_audience() {
    let key = SigningKey::from_bytes(&[1; 32]);
    let p = published(common::composite_signable());
    let doc = did_doc(&[(&key, KeyStatus::Current)]);
    for audience in Audience::ALL {
        let c = issuer()
            .issue(
                &p,
                audience,
                registry(),
                &key,
                datetime!(2026-11-01 10:00:02 UTC),
            )
            .unwrap();
        for input in [c.data_integrity.clone(), c.jwt.clone().into_bytes()] {
            let r = verify(&input, &doc);
            assert!(r.is_valid(), "{audience:?}: {r}");
            // The subject reads back as a valid passport equal to the audience's view.
            let back = issue::passport_from_credential(r.credential.as_ref().unwrap()).unwrap();
            assert_eq!(back, issue::view(&p, audience, registry()).unwrap());
        }
    }
}

#[test]
fn public_credential_carries_no_restricted_field() {
    let key = SigningKey::from_bytes(&[1; 32]);
    let p = published(common::composite_signable());
    let c = issuer()
        .issue(
            &p,
            Audience::Public,
            registry(),
            &key,
            datetime!(2026-11-01 10:00 UTC),
        )
        .unwrap();
    let v: Value = serde_json::from_slice(&c.data_integrity).unwrap();
    let data = &v["credentialSubject"]["data"];
    let sector = registry().get("battery", "1.2.0").unwrap();
    let mut leaves = Vec::new();
    leaf_pointers(data, String::new(), &mut leaves);
    assert!(
        leaves.len() > 20,
        "public view unexpectedly small: {leaves:?}"
    );
    for ptr in &leaves {
        assert_eq!(
            sector.tier_of(ptr),
            Tier::Public,
            "{ptr} leaked into the public credential"
        );
    }
    let text = String::from_utf8(c.data_integrity.clone()).unwrap();
    for restricted in [
        "puttingIntoService",
        "batteryStatus",
        "batteryMaterials",
        "resultOfTestReport",
        "sparePartSources",
    ] {
        assert!(
            !text.contains(restricted),
            "{restricted} in public credential"
        );
    }
    for public in [
        "batteryMass",
        "batteryChemistry",
        "carbonFootprintPerformanceClass",
    ] {
        assert!(
            text.contains(public),
            "{public} missing from public credential"
        );
    }
    // The JWT form carries the same credential.
    let r = verify(c.jwt.as_bytes(), &did_doc(&[(&key, KeyStatus::Current)]));
    let mut di = v.clone();
    di.as_object_mut().unwrap().remove("proof");
    assert_eq!(r.credential.unwrap(), di);
}

#[test]
fn legitimate_interest_credential_has_status_but_not_test_reports() {
    let key = SigningKey::from_bytes(&[1; 32]);
    let p = published(common::composite_signable());
    let c = issuer()
        .issue(
            &p,
            Audience::LegitimateInterest,
            registry(),
            &key,
            datetime!(2026-11-01 10:00 UTC),
        )
        .unwrap();
    let text = String::from_utf8(c.data_integrity).unwrap();
    assert!(text.contains("batteryStatus"));
    assert!(!text.contains("resultOfTestReport"));
    assert!(text.contains("?audience=legitimateInterest"));
}

#[test]
fn credentials_survive_key_rotation_and_die_with_revocation() {
    let old = SigningKey::from_bytes(&[1; 32]);
    let new = SigningKey::from_bytes(&[2; 32]);
    let p = published(common::composite_signable());
    let a = issuer()
        .issue(
            &p,
            Audience::Public,
            registry(),
            &old,
            datetime!(2026-11-01 10:00 UTC),
        )
        .unwrap();
    let b = issuer()
        .issue(
            &p,
            Audience::Public,
            registry(),
            &new,
            datetime!(2026-11-02 10:00 UTC),
        )
        .unwrap();
    let rotated = did_doc(&[(&old, KeyStatus::Retired), (&new, KeyStatus::Current)]);
    assert!(verify(&a.data_integrity, &rotated).is_valid());
    assert!(verify(&b.data_integrity, &rotated).is_valid());
    let revoked = did_doc(&[(&old, KeyStatus::Revoked), (&new, KeyStatus::Current)]);
    assert!(!verify(&a.data_integrity, &revoked).is_valid());
    assert!(!verify(a.jwt.as_bytes(), &revoked).is_valid());
    assert!(verify(&b.data_integrity, &revoked).is_valid());
}

#[test]
fn real_world_defects_are_reported_with_passport_pointers() {
    let mut data = common::composite();
    data["materialComposition"] = common::material_original();
    let p = published(data);
    let Err(IssueError::Invalid(issues)) = issue::validate(&p, registry()) else {
        panic!("accepted")
    };
    let pointers: Vec<&str> = issues.iter().map(|i| i.pointer.as_str()).collect();
    assert_eq!(
        pointers,
        vec![
            format!("/data{}", common::BAD_CAS_POINTER),
            format!("/data{}", common::UNSAFE_INTEGER_POINTER),
        ]
    );
    let key = SigningKey::from_bytes(&[1; 32]);
    assert!(matches!(
        issuer().issue(
            &p,
            Audience::Public,
            registry(),
            &key,
            datetime!(2026-11-01 10:00 UTC)
        ),
        Err(IssueError::Invalid(_))
    ));
}

#[test]
fn drafts_and_unknown_sectors_are_not_issued() {
    let key = SigningKey::from_bytes(&[1; 32]);
    let d = draft(("battery", "1.2.0"), common::composite_signable());
    assert_eq!(
        issuer()
            .issue(
                &d,
                Audience::Public,
                registry(),
                &key,
                datetime!(2026-11-01 10:00 UTC)
            )
            .unwrap_err(),
        IssueError::NotPublished("draft")
    );
    let mut u = draft(("textile", "0.1.0"), json!({}));
    u.transition(PassportStatus::Published, datetime!(2026-11-01 10:00 UTC))
        .unwrap();
    assert!(matches!(
        issue::validate(&u, registry()),
        Err(IssueError::Sector(_))
    ));
}

#[test]
fn generic_sector_passport_round_trip() {
    let key = SigningKey::from_bytes(&[3; 32]);
    let mut p = draft(
        ("generic", "1.0.0"),
        json!({"public": {"material": "oak", "repairable": true}, "authority": {"supplierAudit": "ok"}}),
    );
    p.transition(PassportStatus::Published, datetime!(2026-11-01 10:00 UTC))
        .unwrap();
    let c = issuer()
        .issue(
            &p,
            Audience::Public,
            registry(),
            &key,
            datetime!(2026-11-01 10:00 UTC),
        )
        .unwrap();
    let r = verify(&c.data_integrity, &did_doc(&[(&key, KeyStatus::Current)]));
    assert!(r.is_valid(), "{r}");
    let subject = &r.credential.unwrap()["credentialSubject"];
    assert_eq!(
        subject["data"],
        json!({"public": {"material": "oak", "repairable": true}})
    );
    assert_eq!(subject["id"], json!(p.id.to_string()));
}

#[test]
fn signer_failure_is_a_typed_error() {
    struct Down;
    impl hallmark_core::keys::Signer for Down {
        fn verifying_key(&self) -> ed25519_dalek::VerifyingKey {
            SigningKey::from_bytes(&[1; 32]).verifying_key()
        }
        fn sign(
            &self,
            _: &[u8],
        ) -> Result<ed25519_dalek::Signature, hallmark_core::keys::SignerError> {
            Err(hallmark_core::keys::SignerError::Unavailable(
                "HSM unavailable".into(),
            ))
        }
    }
    let p = published(common::composite_signable());
    let err = issuer()
        .issue(
            &p,
            Audience::Public,
            registry(),
            &Down,
            datetime!(2026-11-01 10:00 UTC),
        )
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "signing backend unavailable: HSM unavailable"
    );
}

/// `issue_all` (what publishing uses: one validation, `SectorRegistry::validate`, for three
/// audiences) gives exactly the bytes `issue` gives per audience, in the order public,
/// legitimate interest, authority, and an invalid passport is refused like `issue` does.
#[test]
fn issue_all_equals_issue_per_audience() {
    let key = SigningKey::from_bytes(&[1; 32]);
    let p = published(common::composite_signable());
    let now = datetime!(2026-11-01 10:00 UTC);
    let valid = registry().validate(p.clone()).unwrap();
    let all = issuer().issue_all(&valid, None, &key, now).unwrap();
    let order: Vec<Audience> = all.iter().map(|(a, _)| a).collect();
    assert_eq!(
        order,
        [
            Audience::Public,
            Audience::LegitimateInterest,
            Audience::Authority
        ]
    );
    for (audience, c) in all.iter() {
        let one = issuer().issue(&p, audience, registry(), &key, now).unwrap();
        assert_eq!(c.data_integrity, one.data_integrity);
        assert_eq!(c.jwt, one.jwt);
        assert_eq!(c.sha256, one.sha256);
    }
    let mut bad = p.clone();
    bad.data["generalProductInformation"] = json!("not an object");
    assert!(matches!(
        registry()
            .validate(bad)
            .and_then(|v| issuer().issue_all(&v, None, &key, now)),
        Err(IssueError::Invalid(_))
    ));
}
