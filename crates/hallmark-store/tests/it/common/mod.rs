//! Fixtures shared by the SQLite and PostgreSQL suites, and the conformance suite; the
//! per-test SQLite file and PostgreSQL database come from the test kit.
#![allow(dead_code)]

pub mod suite;

pub use hallmark_testkit::pg::{admin_connect, admin_options, PgHarness};
pub use hallmark_testkit::SqliteHarness;

use std::sync::atomic::{AtomicU64, Ordering};

use hallmark_core::passport::{Granularity, PassportId};
use hallmark_store::{AuditEvent, Credentials, NewPassport, NewVersion, ProductKey, SignedForms};
use time::OffsetDateTime;

static COUNTER: AtomicU64 = AtomicU64::new(1);

/// A fresh UUIDv7 passport id; ids made later sort later.
pub fn new_id() -> PassportId {
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    let millis = 1_750_000_000_000 + n;
    let mut random = [0u8; 10];
    random[..8].copy_from_slice(&(n ^ u64::from(std::process::id())).to_be_bytes());
    PassportId::from_parts(millis, random).unwrap()
}

/// A fixed, microsecond-precision UTC time plus `secs`.
pub fn at(secs: i64) -> OffsetDateTime {
    OffsetDateTime::from_unix_timestamp(1_750_000_000 + secs).unwrap()
}

pub fn audit(secs: i64, action: &str) -> AuditEvent {
    let mut e = AuditEvent::new(at(secs), "test-operator", action);
    e.detail = serde_json::json!({ "note": action });
    e
}

/// An item-level passport of `gtin` with a serial number no other test passport has.
pub fn new_passport(gtin: &str, sector: &str) -> NewPassport {
    let serial = format!("SN-{}", COUNTER.fetch_add(1, Ordering::Relaxed));
    new_passport_for(item(gtin, &serial), sector)
}

/// The item-level key `gtin` + `serial`.
pub fn item(gtin: &str, serial: &str) -> ProductKey {
    ProductKey {
        gtin: gtin.to_owned(),
        granularity: Granularity::Item,
        lot: None,
        serial: Some(serial.to_owned()),
    }
}

/// A passport for exactly this product key.
pub fn new_passport_for(product: ProductKey, sector: &str) -> NewPassport {
    NewPassport {
        id: new_id(),
        product,
        sector_id: sector.to_owned(),
        economic_operator_id: "operator-1".to_owned(),
        content: br#"{"data":{"v":1}}"#.to_vec(),
    }
}

pub fn new_version(version: u32, secs: i64) -> NewVersion {
    let forms = |aud: &str| SignedForms {
        data_integrity: format!(r#"{{"aud":"{aud}","v":{version},"proof":{{}}}}"#).into_bytes(),
        jwt: format!("eyJhbGciOiJFZERTQSJ9.{aud}-{version}.c2ln"),
    };
    NewVersion {
        version,
        content: format!(r#"{{"version":{version}}}"#).into_bytes(),
        key_id: "z6MkKey".to_owned(),
        signed_at: at(secs),
        credentials: Credentials {
            public: forms("public"),
            legitimate_interest: forms("legitimateInterest"),
            authority: forms("authority"),
        },
        status_index: None,
    }
}
