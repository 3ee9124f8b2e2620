//! Fixtures shared by the SQLite and PostgreSQL suites, and the conformance suite; the
//! per-test SQLite file and PostgreSQL database come from the test kit.
#![allow(dead_code)]

pub mod suite;

pub use hallmark_testkit::pg::{admin_connect, admin_options, PgHarness};
pub use hallmark_testkit::SqliteHarness;

use std::sync::atomic::{AtomicU64, Ordering};

use hallmark_core::passport::{Granularity, PassportId};
use hallmark_core::tlog::event::{Action, Detail, StatusListPublished};
use hallmark_store::{
    AuditEvent, Credentials, NewPassport, NewProductLink, NewStatusListVersion, NewVersion,
    ProductKey, SignedForms, StatusPurpose, StatusRef,
};
use sha2::{Digest, Sha256};
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
        submission_sha256: Some([1; 32]),
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

/// [`new_version`] taking status list position `index` of list `list`.
pub fn new_version_at(version: u32, secs: i64, list: u32, index: u32) -> NewVersion {
    NewVersion {
        status_index: Some(StatusRef { list, index }),
        ..new_version(version, secs)
    }
}

/// A status list version as the node would store it: stand-in credential bytes and JWT
/// (unique per purpose, list and version) and its `status-list.published` event naming it
/// and their SHA-256.
pub fn list_version(
    purpose: StatusPurpose,
    list: u32,
    version: u32,
    secs: i64,
) -> NewStatusListVersion {
    let credential = format!(
        r#"{{"type":["VerifiableCredential","BitstringStatusListCredential"],"purpose":"{purpose}","list":{list},"v":{version},"proof":{{}}}}"#
    )
    .into_bytes();
    let credential_jwt = format!("eyJhbGciOiJFZERTQSJ9.{purpose}-{list}-{version}.c2ln");
    let detail = StatusListPublished::new(
        purpose.as_str(),
        list,
        version,
        &Sha256::digest(&credential).into(),
        &Sha256::digest(credential_jwt.as_bytes()).into(),
    );
    let mut event = AuditEvent::of(at(secs), "node", Action::StatusListPublished);
    event.detail = detail.to_value().unwrap();
    NewStatusListVersion {
        purpose,
        list,
        version,
        credential,
        credential_jwt,
        encoded_list: format!("uH4sIAAAAAAAA_{version}"),
        valid_from: at(secs),
        valid_until: at(secs + 300),
        event,
    }
}

/// A fresh link id (a UUID; ids made later sort later).
pub fn new_link_id() -> String {
    new_id().uuid().hyphenated().to_string()
}

/// A new operator link on `product` of type `gs1:{name}`.
pub fn new_link(product: ProductKey, name: &str) -> NewProductLink {
    NewProductLink {
        id: new_link_id(),
        product,
        link_type: format!("https://ref.gs1.org/voc/{name}"),
        href: format!("https://example.com/{name}.pdf"),
        title: format!("The {name}"),
        media_type: Some("application/pdf".into()),
        hreflang: vec!["en".into(), "de-AT".into()],
    }
}

/// The model-level key of `gtin`.
pub fn model(gtin: &str) -> ProductKey {
    ProductKey {
        gtin: gtin.into(),
        granularity: Granularity::Model,
        lot: None,
        serial: None,
    }
}

/// The batch-level key of `gtin` + `lot`.
pub fn batch(gtin: &str, lot: &str) -> ProductKey {
    ProductKey {
        gtin: gtin.into(),
        granularity: Granularity::Batch,
        lot: Some(lot.into()),
        serial: None,
    }
}

/// The SHA-256 of the public Data Integrity credential [`new_version`] gives `version`:
/// the hash the EU registry must give for it.
pub fn public_sha256(version: u32) -> [u8; 32] {
    Sha256::digest(&new_version(version, 0).credentials.public.data_integrity).into()
}

/// The registry's registration `registration_id` of `version` of `id`, with the right hash
/// and a `registry.recorded` event at `secs` naming it.
pub fn registration(
    id: PassportId,
    version: u32,
    registration_id: &str,
    secs: i64,
) -> hallmark_store::NewRegistration {
    let mut r = hallmark_store::NewRegistration {
        passport: id,
        version,
        registration_id: registration_id.to_owned(),
        proof: format!(r#"{{"registered":"{registration_id}"}}"#).into_bytes(),
        proof_media_type: hallmark_store::ProofMediaType::Json,
        dpp_sha256: public_sha256(version),
        event: AuditEvent::new(at(secs), "test-operator", "placeholder"),
    };
    r.event = r.event(at(secs), "test-operator").unwrap();
    r
}

/// A reader registration of a fresh key (`n` picks it) for `purpose`, with its id.
pub fn new_reader(
    n: u8,
) -> (
    hallmark_core::reader::ReaderId,
    hallmark_core::reader::NewReader,
) {
    use hallmark_core::reader::{key_text, NewReader, ReaderId, ReaderRegistration};
    let key = ed25519_dalek::SigningKey::from_bytes(&[n; 32])
        .verifying_key()
        .to_bytes();
    let reader = NewReader::parse(&ReaderRegistration {
        ed25519_public_key: key_text(&key),
        x25519_public_key: n
            .is_multiple_of(2)
            .then(|| serde_json::json!(key_text(&[n; 32]))),
        organisation: format!("Recycler {n} GmbH"),
        contact: format!("Jane Doe {n}, jane@example.org"),
        purpose: "recycling".to_owned(),
    })
    .unwrap();
    let id = ReaderId::from_parts(1_750_000_000_000 + u64::from(n), [n; 10]).unwrap();
    (id, reader)
}

/// A reader event (`reader.*`) at `secs`.
pub fn reader_event(secs: i64, action: Action) -> AuditEvent {
    let mut e = AuditEvent::of(at(secs), "test-operator", action);
    e.detail = serde_json::json!({ "note": action.as_str() });
    e
}

/// Readers for the attack tests: (registered, approved, revoked) ids as text; the approved
/// one has used the nonce `used`.
pub async fn attack_readers(s: &dyn hallmark_store::Store) -> (String, String, String) {
    use hallmark_core::reader::{Grant, GrantScope, ReaderChange, ReaderTier};
    let mut ids = Vec::new();
    for n in [31u8, 32, 33] {
        let (id, new) = new_reader(n);
        s.register_reader(id, new, reader_event(60, Action::ReaderRegistered))
            .await
            .unwrap();
        ids.push(id);
    }
    let grant = Grant {
        tier: ReaderTier::LegitimateInterest,
        scope: GrantScope::All,
        expires_at: at(1_000_000),
    };
    for id in &ids[1..] {
        s.change_reader(
            id,
            ReaderChange::Approve(grant.clone()),
            reader_event(61, Action::ReaderApproved),
        )
        .await
        .unwrap();
    }
    s.change_reader(
        &ids[2],
        ReaderChange::Revoke {
            reason: "ended".into(),
        },
        reader_event(62, Action::ReaderRevoked),
    )
    .await
    .unwrap();
    assert!(s.use_nonce(&ids[1], "used", at(400), at(62)).await.unwrap());
    (ids[0].to_string(), ids[1].to_string(), ids[2].to_string())
}

/// A webhook subscription with one failed delivery attempt of outbox row `outbox_id` (the
/// attack suites' fixture: the rows the app role then tries to change).
pub async fn attack_webhook(s: &dyn hallmark_store::Store, outbox_id: u64) -> String {
    let id = "0190c2f4-8d3e-7b1a-9c4d-2e5f6a7b8c9d".to_owned();
    let mut created = AuditEvent::new(at(30), "test-operator", "webhook.created");
    created.detail = serde_json::json!({ "webhookId": id });
    s.create_webhook(
        hallmark_store::NewWebhook {
            id: id.clone(),
            url: "https://hooks.example.com/h".to_owned(),
            types: vec!["*".to_owned()],
        },
        created,
    )
    .await
    .unwrap();
    s.record_webhook_attempt(
        hallmark_store::WebhookAttempt {
            webhook_id: id.clone(),
            outbox_id,
            attempt: 1,
            at: at(31),
            status_code: Some(503),
            error: None,
            duration_ms: 3,
        },
        hallmark_store::WebhookProgress {
            cursor: outbox_id,
            failures: 1,
            next_attempt_at: at(40),
        },
        None,
    )
    .await
    .unwrap();
    id
}
