#![allow(clippy::unwrap_used, clippy::expect_used)]

use super::*;
use crate::tlog::event::{Action, Detail, ReaderApproved, ReaderRegistered};
use serde_json::json;
use time::macros::datetime;

fn now() -> OffsetDateTime {
    datetime!(2026-12-06 12:00:00 UTC)
}

fn key() -> [u8; 32] {
    ed25519_dalek::SigningKey::from_bytes(&[7u8; 32])
        .verifying_key()
        .to_bytes()
}

fn pid(random: [u8; 10]) -> PassportId {
    PassportId::from_parts(1_700_000_000_000, random).unwrap()
}

fn registration() -> ReaderRegistration {
    ReaderRegistration {
        ed25519_public_key: key_text(&key()),
        x25519_public_key: None,
        organisation: "Fix-It Repairs GmbH".into(),
        contact: "Jane Doe, +49 30 1234567".into(),
        purpose: "repair".into(),
    }
}

fn field(e: ReaderError) -> &'static str {
    match e {
        ReaderError::Invalid { field, .. } => field,
        other => panic!("not an input error: {other}"),
    }
}

#[test]
fn purposes_have_their_wire_names() {
    let names: Vec<_> = Purpose::ALL.iter().map(|p| p.as_str()).collect();
    assert_eq!(
        names,
        [
            "repair",
            "remanufacture",
            "recycling",
            "second-life",
            "market-surveillance",
            "notified-body",
            "commission",
            "other"
        ]
    );
    for p in Purpose::ALL {
        assert_eq!(serde_json::to_value(p).unwrap(), json!(p.as_str()));
        assert_eq!(p.as_str().parse::<Purpose>().unwrap(), p);
    }
    assert_eq!(
        field("secondLife".parse::<Purpose>().unwrap_err()),
        "purpose"
    );
}

#[test]
fn tiers_map_to_audiences() {
    assert_eq!(
        ReaderTier::LegitimateInterest.audience(),
        Audience::LegitimateInterest
    );
    assert_eq!(ReaderTier::Authority.audience(), Audience::Authority);
    assert_eq!(
        serde_json::to_value(ReaderTier::LegitimateInterest).unwrap(),
        json!("legitimateInterest")
    );
    assert!("public".parse::<ReaderTier>().is_err());
}

#[test]
fn fingerprint_is_crockford_base32_of_the_sha256_prefix() {
    // SHA-256 of 32 zero bytes begins 66687aadf862bd776c8f.
    assert_eq!(fingerprint(&[0u8; 32]), "CSM7-NBFR-CAYQ-EV4F");
    let k = fingerprint(&key());
    assert_eq!(k.len(), 19);
    assert!(k.bytes().enumerate().all(|(i, b)| if i % 5 == 4 {
        b == b'-'
    } else {
        CROCKFORD.contains(&b)
    }));
    assert_ne!(fingerprint(&key()), fingerprint(&[1u8; 32]));
}

#[test]
fn a_registration_is_checked_field_by_field() {
    let r = NewReader::parse(&registration()).unwrap();
    assert_eq!(r.ed25519, key());
    assert_eq!(r.purpose, Purpose::Repair);
    assert_eq!(r.x25519, None);

    let bad = |f: &dyn Fn(&mut ReaderRegistration)| {
        let mut r = registration();
        f(&mut r);
        field(NewReader::parse(&r).unwrap_err())
    };
    assert_eq!(
        bad(&|r| r.ed25519_public_key = "!!".into()),
        "ed25519PublicKey"
    );
    assert_eq!(
        bad(&|r| r.ed25519_public_key = key_text(&[0u8; 32])[..20].into()),
        "ed25519PublicKey"
    );
    assert_eq!(bad(&|r| r.organisation = String::new()), "organisation");
    assert_eq!(bad(&|r| r.organisation = "a".repeat(201)), "organisation");
    assert_eq!(bad(&|r| r.contact = "a\nb".into()), "contact");
    assert_eq!(bad(&|r| r.contact = "   ".into()), "contact");
    assert_eq!(bad(&|r| r.purpose = "curiosity".into()), "purpose");
    assert_eq!(
        bad(&|r| r.x25519_public_key = Some(json!({"kty": "OKP", "crv": "Ed25519", "x": ""}))),
        "x25519PublicKey"
    );
    assert_eq!(
        bad(&|r| r.x25519_public_key = Some(json!(42))),
        "x25519PublicKey"
    );
    let x = key_text(&[9u8; 32]);
    assert_eq!(
        bad(&|r| r.x25519_public_key = Some(json!({"kty": "OKP", "crv": "X25519", "x": x, "d": x}))),
        "x25519PublicKey"
    );
    let mut ok = registration();
    ok.organisation = "é".repeat(200);
    ok.x25519_public_key = Some(json!({"kty": "OKP", "crv": "X25519", "x": x}));
    assert_eq!(NewReader::parse(&ok).unwrap().x25519, Some([9u8; 32]));
    ok.x25519_public_key = Some(json!(x));
    assert_eq!(NewReader::parse(&ok).unwrap().x25519, Some([9u8; 32]));
    // Unknown members are refused by the wire type.
    assert!(serde_json::from_value::<ReaderRegistration>(json!({
        "ed25519PublicKey": "", "organisation": "o", "contact": "c", "purpose": "repair",
        "tier": "authority"
    }))
    .is_err());
}

fn gtin(s: &str) -> Gtin {
    Gtin::parse(s).unwrap()
}

#[test]
fn scopes_cover_what_they_name() {
    let id = pid([1; 10]);
    let other = pid([2; 10]);
    let g = gtin("09506000134352");
    let h = gtin("04006381333931");
    assert!(GrantScope::All.covers("battery", &g, &id));
    let sector = GrantScope::Sector {
        sector: "battery".into(),
    };
    assert!(sector.covers("battery", &g, &id));
    assert!(!sector.covers("generic", &g, &id));
    let gtins = GrantScope::Gtins { gtins: vec![g] };
    assert!(gtins.covers("generic", &g, &id));
    assert!(!gtins.covers("battery", &h, &id));
    let passports = GrantScope::Passports {
        passports: vec![id],
    };
    assert!(passports.covers("battery", &h, &id));
    assert!(!passports.covers("battery", &g, &other));
    assert_eq!(
        serde_json::to_value(&gtins).unwrap(),
        json!({"kind": "gtins", "gtins": ["09506000134352"]})
    );
    assert_eq!(
        serde_json::from_value::<GrantScope>(json!({"kind": "all"})).unwrap(),
        GrantScope::All
    );
    assert!(
        serde_json::from_value::<GrantScope>(json!({"kind": "gtins", "gtins": ["123"]})).is_err()
    );
}

#[test]
fn grants_are_bounded() {
    let grant = |scope, expires_at| Grant {
        tier: ReaderTier::Authority,
        scope,
        expires_at,
    };
    let year = now() + time::Duration::days(365);
    assert!(grant(GrantScope::All, year).check(now()).is_ok());
    assert!(grant(GrantScope::All, year).in_force(now()));
    assert_eq!(
        field(grant(GrantScope::All, now()).check(now()).unwrap_err()),
        "expiresAt"
    );
    assert_eq!(
        field(
            grant(GrantScope::All, now() + MAX_GRANT + time::Duration::SECOND)
                .check(now())
                .unwrap_err()
        ),
        "expiresAt"
    );
    assert!(grant(GrantScope::All, now() + MAX_GRANT)
        .check(now())
        .is_ok());
    let empty = GrantScope::Gtins { gtins: vec![] };
    assert_eq!(field(grant(empty, year).check(now()).unwrap_err()), "scope");
    let g = gtin("09506000134352");
    let twice = GrantScope::Gtins { gtins: vec![g, g] };
    assert_eq!(field(grant(twice, year).check(now()).unwrap_err()), "scope");
    let many = GrantScope::Passports {
        passports: (0..1001u32)
            .map(|i| {
                let mut r = [0u8; 10];
                r[..4].copy_from_slice(&i.to_be_bytes());
                pid(r)
            })
            .collect(),
    };
    assert_eq!(field(grant(many, year).check(now()).unwrap_err()), "scope");
    let sector = GrantScope::Sector {
        sector: "Battery!".into(),
    };
    assert_eq!(
        field(grant(sector, year).check(now()).unwrap_err()),
        "scope"
    );
    let json = serde_json::to_value(grant(GrantScope::All, year)).unwrap();
    assert_eq!(
        json,
        json!({"tier": "authority", "scope": {"kind": "all"}, "expiresAt": "2027-12-06T12:00:00Z"})
    );
}

#[test]
fn status_transitions() {
    use ReaderStatus::*;
    let approve = ReaderChange::Approve(Grant {
        tier: ReaderTier::LegitimateInterest,
        scope: GrantScope::All,
        expires_at: now() + time::Duration::days(1),
    });
    let suspend = ReaderChange::Suspend {
        reason: "audit".into(),
    };
    let revoke = ReaderChange::Revoke {
        reason: "contract ended".into(),
    };
    assert_eq!(Registered.after(&approve).unwrap(), Approved);
    assert_eq!(Approved.after(&approve).unwrap(), Approved);
    assert_eq!(Approved.after(&suspend).unwrap(), Suspended);
    assert_eq!(Suspended.after(&ReaderChange::Resume).unwrap(), Approved);
    for s in [Registered, Approved, Suspended] {
        assert_eq!(s.after(&revoke).unwrap(), Revoked);
    }
    for change in [&approve, &suspend, &ReaderChange::Resume, &revoke] {
        assert!(matches!(
            Revoked.after(change),
            Err(ReaderError::Transition { from: Revoked, .. })
        ));
    }
    assert!(Registered.after(&suspend).is_err());
    assert!(Registered.after(&ReaderChange::Resume).is_err());
    assert!(Suspended.after(&approve).is_err());
    assert!(Approved.after(&ReaderChange::Resume).is_err());
    assert_eq!(
        Revoked.after(&approve).unwrap_err().to_string(),
        "a revoked reader cannot be approved"
    );
    assert_eq!(approve.action(), Action::ReaderApproved);
    assert!(ReaderChange::Suspend { reason: "".into() }
        .check(now())
        .is_err());
}

#[test]
fn reader_events_carry_no_personal_data() {
    let r = NewReader::parse(&registration()).unwrap();
    let detail = ReaderRegistered {
        reader_id: "0193a000-0000-7000-8000-000000000000".into(),
        fingerprint: r.fingerprint(),
        purpose: r.purpose,
        organisation_sha256: text_sha256(&r.organisation),
        contact_sha256: text_sha256(&r.contact),
    };
    let text = detail.to_value().unwrap().to_string();
    assert!(!text.contains("Fix-It") && !text.contains("Jane"), "{text}");
    assert_eq!(
        ReaderRegistered::from_value(&detail.to_value().unwrap()).unwrap(),
        detail
    );
    let approved = ReaderApproved {
        reader_id: detail.reader_id.clone(),
        tier: ReaderTier::Authority,
        scope: GrantScope::Sector {
            sector: "battery".into(),
        },
        expires_at: now(),
    };
    assert_eq!(
        approved.to_value().unwrap(),
        json!({"readerId": detail.reader_id, "tier": "authority",
               "scope": {"kind": "sector", "sector": "battery"},
               "expiresAt": "2026-12-06T12:00:00Z"})
    );
    for a in [
        Action::ReaderRegistered,
        Action::ReaderApproved,
        Action::ReaderSuspended,
        Action::ReaderResumed,
        Action::ReaderRevoked,
    ] {
        assert!(a.is_public(), "{a}");
    }
    assert!(!Action::PassportRead.is_public());
}

#[test]
fn reader_ids_are_lowercase_uuidv7() {
    let id = ReaderId::from_parts(1_700_000_000_000, [3; 10]).unwrap();
    let text = id.to_string();
    assert_eq!(text.len(), 36);
    assert_eq!(text.parse::<ReaderId>().unwrap(), id);
    assert!(text.to_uppercase().parse::<ReaderId>().is_err());
    assert!(format!("urn:uuid:{text}").parse::<ReaderId>().is_err());
    assert!("00000000-0000-4000-8000-000000000000"
        .parse::<ReaderId>()
        .is_err());
    assert!(ReaderId::from_parts(1 << 48, [0; 10]).is_none());
}
