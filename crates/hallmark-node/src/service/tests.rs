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

fn batch(publish: bool, items: &[(&str, serde_json::Value)]) -> import::ImportBatch {
    import::ImportBatch {
        import_id: None,
        publish,
        dry_run: false,
        items: items
            .iter()
            .map(|(r, p)| import::ImportItem {
                external_ref: (*r).to_owned(),
                passport: p.clone(),
            })
            .collect(),
    }
}

#[tokio::test]
async fn an_import_validates_the_schema_once_per_published_item_and_never_for_unchanged_ones() {
    let dir = tempfile::tempdir().unwrap();
    let (app, registry) = app(dir.path()).await;
    let who = admin();
    let service = app.service();
    let items = [
        ("R-1", submission("I-1")),
        ("R-2", submission("I-2")),
        ("R-3", submission("I-3")),
    ];
    // Created and published: one validation each (not a draft check and a publish check).
    let before = registry.validations();
    let out = service
        .import_batch(&who, batch(true, &items))
        .await
        .unwrap();
    assert_eq!(out.counts.created, 3, "{:?}", out.items);
    assert_eq!(registry.validations() - before, 3);
    // Re-run: unchanged, nothing validated.
    let before = registry.validations();
    let out = service
        .import_batch(&who, batch(true, &items))
        .await
        .unwrap();
    assert_eq!(out.counts.unchanged, 3);
    assert_eq!(registry.validations() - before, 0);
    // One changed: one validation, version 2.
    let mut changed = submission("I-2");
    changed["data"]["public"]["name"] = serde_json::json!("renamed");
    let before = registry.validations();
    let out = service
        .import_batch(&who, batch(true, &[("R-2", changed)]))
        .await
        .unwrap();
    assert_eq!(out.counts.updated, 1);
    assert_eq!(registry.validations() - before, 1);
    let done = out.items[0].result.as_ref().unwrap();
    assert_eq!(done.version, Some(2));
    // The same audit actions, in the same order, as create + publish through the single
    // doors, plus the version's two.
    let id = done.id.unwrap();
    let actions: Vec<String> = service
        .history(id)
        .await
        .unwrap()
        .into_iter()
        .map(|e| e.event.action)
        .collect();
    assert_eq!(
        actions,
        [
            "passport.draft-created",
            "passport.published",
            "passport.version-started",
            "passport.published"
        ]
    );
    // The drafts the single doors write carry the same digest the import compares.
    let single = service
        .create_draft(&who, &submission("I-4"))
        .await
        .unwrap();
    let (_, draft) = app.store.get_pending(&single.record.id).await.unwrap();
    let expected = hallmark_core::passport::PassportDraft::from_json_value(&submission("I-4"))
        .unwrap()
        .digest()
        .unwrap();
    assert_eq!(draft.unwrap().submission_sha256, Some(expected.0));
}

fn battery_submission(operator: &str, facility: Option<&str>) -> serde_json::Value {
    let demo: serde_json::Value =
        serde_json::from_str(include_str!("../../../hallmark/demo/ev-battery.json")).unwrap();
    let mut v = serde_json::json!({
        "uniqueProductIdentifier": { "gtin": "09506000134352", "serial": "B-1" },
        "granularity": "item",
        "economicOperatorId": operator,
        "sector": { "id": "battery", "schemaVersion": "1.2.0" },
        "data": demo["data"].clone(),
    });
    if let Some(f) = facility {
        v["facilityId"] = f.into();
    }
    v
}

/// Identifier rules at the service: a generic EORI passport is valid with a warning; a new
/// battery EORI passport is saved but not publishable, and its record gains no legacy
/// exception; once a record has a published version under a non-15459 operator (a passport
/// from before the rules), drafts keeping that operator are valid with warnings.
#[tokio::test]
async fn identifier_rules_and_the_legacy_exception() {
    let dir = tempfile::tempdir().unwrap();
    let (app, _) = app(dir.path()).await;
    let who = admin();
    let service = app.service();

    let generic = service
        .create_draft(&who, &submission("G-1"))
        .await
        .unwrap();
    assert!(generic.validation.valid());
    let pointers: Vec<_> = generic
        .validation
        .warnings
        .iter()
        .map(|w| w.pointer.as_str())
        .collect();
    assert_eq!(pointers, ["/economicOperatorId"]);
    assert!(generic.validation.warnings[0]
        .message
        .contains("not an ISO/IEC 15459 identifier"));
    let published = service.publish(&who, generic.record.id).await.unwrap();
    assert_eq!(published.warnings.len(), 1);

    let eori = "urn:eori:DE123456789012345";
    let battery = service
        .create_draft(&who, &battery_submission(eori, None))
        .await
        .unwrap();
    assert!(!battery.validation.valid());
    let pointers: Vec<_> = battery
        .validation
        .issues
        .iter()
        .map(|w| w.pointer.as_str())
        .collect();
    assert_eq!(pointers, ["/economicOperatorId", "/facilityId"]);
    // Saved under the EORI operator, but never published: no legacy exception.
    let id = battery.record.id;
    let again = service
        .update_draft(&who, id, &battery_submission(eori, None))
        .await
        .unwrap();
    assert!(!again.validation.valid());
    match service.publish(&who, id).await {
        Err(ServiceError::Invalid(issues)) => {
            assert_eq!(issues[0].pointer, "/economicOperatorId")
        }
        other => panic!("{other:?}"),
    }

    // A record with a published version under that operator: the legacy exception.
    let mut legacy = battery.record.clone();
    legacy.current_version = 1;
    let passport = passports::draft_passport(&battery_submission(eori, None), id, 2, None).unwrap();
    let v = service
        .check(&who, Some(&legacy), &passport, passports::During::Draft)
        .await
        .unwrap();
    assert!(v.valid(), "{v:?}");
    let pointers: Vec<_> = v.warnings.iter().map(|w| w.pointer.as_str()).collect();
    assert_eq!(
        pointers,
        ["/commodityCode", "/economicOperatorId", "/facilityId"]
    );
    // Changing the operator ends the exception: the new one must be ISO/IEC 15459.
    let other = passports::draft_passport(
        &battery_submission("urn:eori:DE999", Some("4012345000016")),
        id,
        2,
        None,
    )
    .unwrap();
    let v = service
        .check(&who, Some(&legacy), &other, passports::During::Draft)
        .await
        .unwrap();
    assert!(!v.valid());
}
