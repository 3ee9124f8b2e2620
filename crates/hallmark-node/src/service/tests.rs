#![allow(clippy::unwrap_used, clippy::expect_used)]

use super::*;
use hallmark_core::passport::PassportStatus;
use hallmark_core::sector::SectorRegistry;
use hallmark_keys::keystore::{KdfParams, Keystore};
use hallmark_keys::KeystoreCustody;
use hallmark_store::SqliteStore;
use secrecy::SecretString;
use std::sync::Arc;

fn admin() -> Principal {
    Principal::Admin {
        username: "operator".into(),
    }
}

fn submission(serial: &str) -> serde_json::Value {
    serde_json::json!({
        "uniqueProductIdentifier": { "gtin": "09506000134352", "serial": serial },
        "granularity": "item",
        "economicOperatorId": "urn:eori:DE123456789012345",
        "sector": { "id": "generic", "schemaVersion": "1.0.0" },
        "data": { "public": { "name": "a product" } }
    })
}

/// A node's application state on SQLite in `dir`, with a sector registry of its own (so its
/// validation count is this test's alone).
async fn app(dir: &std::path::Path) -> (crate::app::AppState, &'static SectorRegistry) {
    let passphrase = SecretString::from("test keystore passphrase");
    let (ks, _) = Keystore::create(
        dir.join("keys.json"),
        &passphrase,
        KdfParams::FLOOR,
        time::OffsetDateTime::now_utc(),
    )
    .unwrap();
    let store = Arc::new(SqliteStore::open(dir.join("hallmark.db")).await.unwrap());
    let signing = Arc::new(KeystoreCustody::new(ks));
    let mut app = crate::node::build_app(store, signing, "http://localhost:8080")
        .await
        .unwrap();
    let registry: &'static SectorRegistry =
        Box::leak(Box::new(SectorRegistry::with_builtin_sectors()));
    Arc::get_mut(&mut app)
        .expect("build_app keeps no other handle on the app")
        .registry = registry;
    (app, registry)
}

#[tokio::test]
async fn a_publish_validates_the_schema_exactly_once() {
    let dir = tempfile::tempdir().unwrap();
    let (app, registry) = app(dir.path()).await;
    let who = admin();
    let service = app.service();

    let draft = service
        .create_draft(&who, &submission("S-1"))
        .await
        .unwrap();
    assert!(draft.validation.valid(), "{:?}", draft.validation);
    let before = registry.validations();
    let published = service.publish(&who, draft.record.id).await.unwrap();
    assert_eq!(published.version, 1);
    assert_eq!(
        registry.validations() - before,
        1,
        "one JSON Schema validation per publish, not one per stage or audience"
    );

    // A later version: the same.
    let id = draft.record.id;
    service
        .start_version(&who, id, &submission("S-1"))
        .await
        .unwrap();
    let before = registry.validations();
    assert_eq!(service.publish(&who, id).await.unwrap().version, 2);
    assert_eq!(registry.validations() - before, 1);
    let view = service.passport(id).await.unwrap();
    assert_eq!(view.record.status, PassportStatus::Published);
    assert_eq!(view.current.map(|v| v.version), Some(2));
}

#[tokio::test]
async fn a_suspended_passport_does_not_publish_and_says_why_once() {
    let dir = tempfile::tempdir().unwrap();
    let (app, _) = app(dir.path()).await;
    let who = admin();
    let service = app.service();
    let id = service
        .create_draft(&who, &submission("S-2"))
        .await
        .unwrap()
        .record
        .id;
    service.publish(&who, id).await.unwrap();
    service
        .start_version(&who, id, &submission("S-2"))
        .await
        .unwrap();
    let reason = Reason::required(Some(" recall ".into())).unwrap();
    assert_eq!(reason.as_deref(), Some("recall"));
    service.suspend(&who, id, reason).await.unwrap();
    assert_eq!(
        service.publish(&who, id).await.unwrap_err(),
        ServiceError::Conflict(
            "the passport is suspended; resume it before publishing a new version".into()
        )
    );
    service.resume(&who, id).await.unwrap();
    assert_eq!(service.publish(&who, id).await.unwrap().version, 2);
}

#[test]
fn reasons_are_trimmed_bounded_and_required_where_they_must_be() {
    assert_eq!(
        Reason::optional(Some("  ".into())).unwrap(),
        Reason::default()
    );
    assert!(matches!(
        Reason::required(Some("  ".into())),
        Err(ServiceError::Unprocessable(_))
    ));
    assert!(matches!(
        Reason::optional(Some("x".repeat(1001))),
        Err(ServiceError::Unprocessable(_))
    ));
    assert!(Reason::required(Some("x".repeat(1000))).is_ok());
}
