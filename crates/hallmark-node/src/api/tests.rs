//! The schemas against what the node really reads and writes.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use super::example;
use super::operations::Schemas;
use super::requests::PassportSubmission;
use super::responses::StoredPassport;
use hallmark_core::passport::{Passport, PassportDraft, PassportId, PassportStatus};
use hallmark_core::sector::SectorRegistry;
use serde_json::{json, Map, Value};
use time::macros::datetime;

/// A validator of component `name`, with every component to resolve references in.
fn validator(name: &str, components: &Map<String, Value>) -> jsonschema::Validator {
    let root = json!({
        "$ref": format!("#/components/schemas/{name}"),
        "components": { "schemas": components },
    });
    jsonschema::draft202012::options()
        .should_validate_formats(true)
        .build(&root)
        .unwrap()
}

fn components() -> Map<String, Value> {
    let mut s = Schemas::new();
    for (method, path, _) in crate::routes::admin::ROUTES {
        s.operation(method, path).unwrap();
    }
    let mut generator = schemars::generate::SchemaSettings::draft2020_12()
        .with(|s| {
            s.definitions_path = "/components/schemas".into();
            s.meta_schema = None;
        })
        .for_serialize()
        .into_generator();
    generator.subschema_for::<StoredPassport>();
    let mut all = s.into_components().unwrap();
    all.extend(generator.take_definitions(true));
    all
}

/// Whether hallmark-core reads `body` as a passport submission.
fn core_accepts(body: &Value) -> bool {
    PassportDraft::from_json_value(body).is_ok()
}

#[test]
fn the_example_is_a_valid_battery_submission() {
    let draft = example::battery_draft().unwrap();
    let parsed = PassportDraft::from_json_value(&draft).unwrap();
    let id = PassportId::from_parts(1_700_000_000_000, [7; 10]).unwrap();
    let passport = Passport::new_draft(parsed, id, datetime!(2026-01-01 0:00 UTC)).unwrap();
    hallmark_core::issue::validate(&passport, SectorRegistry::builtin()).unwrap();
    assert!(validator("PassportSubmission", &components()).is_valid(&draft));
    let typed: PassportSubmission = serde_json::from_value(draft.clone()).unwrap();
    assert_eq!(serde_json::to_value(typed).unwrap(), draft);
}

/// The submission schema names exactly the members hallmark-core reads, and requires
/// exactly those it cannot do without: dropping each member of a full submission is refused
/// by the schema if and only if core refuses it, and so is an unknown member.
#[test]
fn the_submission_schema_is_what_core_reads() {
    let components = components();
    let schema = validator("PassportSubmission", &components);
    let mut full = example::battery_draft().unwrap();
    full["components"] = json!([{ "uri": "https://example.com/p/1", "sha256": "ab".repeat(32) }]);
    assert!(core_accepts(&full) && schema.is_valid(&full));

    let members = full.as_object().unwrap().clone();
    let properties = components["PassportSubmission"]["properties"]
        .as_object()
        .unwrap();
    assert_eq!(
        members.keys().collect::<Vec<_>>(),
        properties.keys().collect::<Vec<_>>(),
        "schema properties and the members of a full submission"
    );
    for key in members.keys() {
        let mut without = full.clone();
        without.as_object_mut().unwrap().remove(key);
        assert_eq!(
            schema.is_valid(&without),
            core_accepts(&without),
            "without {key}"
        );
    }
    // What core serialises of a full submission is the same set of members.
    let serialised = serde_json::to_value(PassportDraft::from_json_value(&full).unwrap()).unwrap();
    assert_eq!(serialised.as_object().unwrap().len(), members.len());

    let mut unknown = full.clone();
    unknown["colour"] = json!("red");
    assert!(!core_accepts(&unknown) && !schema.is_valid(&unknown));
    for (pointer, value) in [
        ("/uniqueProductIdentifier/batch", json!("L1")),
        ("/sector/name", json!("battery")),
        ("/components/0/size", json!(1)),
    ] {
        let mut v = full.clone();
        let (parent, key) = pointer.rsplit_once('/').unwrap();
        v.pointer_mut(parent).unwrap()[key] = value;
        assert!(!core_accepts(&v), "{pointer}");
        assert!(!schema.is_valid(&v), "{pointer}");
    }
    // Granularities are core's.
    for g in ["model", "batch", "item", "lot"] {
        let mut v = full.clone();
        v["granularity"] = json!(g);
        let in_schema = schema.is_valid(&v);
        assert_eq!(in_schema, g != "lot", "{g}");
    }
}

/// A passport as core stores it, draft and published, fits the stored-passport schema.
#[test]
fn stored_passports_fit_their_schema() {
    let schema = validator("StoredPassport", &components());
    let draft = PassportDraft::from_json_value(&example::battery_draft().unwrap()).unwrap();
    let id = PassportId::from_parts(1_700_000_000_000, [7; 10]).unwrap();
    let mut p = Passport::new_draft(draft, id, datetime!(2026-01-01 0:00 UTC)).unwrap();
    let stored = serde_json::to_value(&p).unwrap();
    assert!(schema.is_valid(&stored), "{:?}", schema.validate(&stored));
    p.transition(PassportStatus::Published, datetime!(2026-01-02 0:00 UTC))
        .unwrap();
    let stored = serde_json::to_value(&p).unwrap();
    assert!(schema.is_valid(&stored), "{:?}", schema.validate(&stored));
    let mut renamed = stored.clone();
    let v = renamed.as_object_mut().unwrap().remove("version").unwrap();
    renamed["contentVersion"] = v;
    assert!(!schema.is_valid(&renamed));
}

/// The enumerations' names in the schemas are those serde writes.
#[test]
fn wire_names_are_serdes() {
    use hallmark_keys::{Backend, Purpose};
    use hallmark_sandbox::Severity;
    let mut g = schemars::SchemaGenerator::default();
    let names = |s: schemars::Schema| s.get("enum").cloned().unwrap();
    assert_eq!(
        names(super::wire::severity(&mut g)),
        json!([Severity::Error, Severity::Warning, Severity::Info])
    );
    assert_eq!(
        names(super::wire::backend(&mut g)),
        json!([Backend::File, Backend::Pkcs11])
    );
    assert_eq!(names(super::wire::purpose(&mut g)), json!(Purpose::ALL));
}
