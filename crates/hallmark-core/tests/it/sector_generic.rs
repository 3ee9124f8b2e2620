//! Generic sector: shape, bounds, tiers, views; property tests of views for both sectors.

use hallmark_core::access::{Audience, Tier};
use hallmark_core::sector::{generic, Sector, SectorRegistry, ValidationIssue};
use proptest::prelude::*;
use serde_json::{json, Map, Value};

fn sector() -> &'static Sector {
    SectorRegistry::builtin().get("generic", "1.0.0").unwrap()
}

fn issues(data: &Value) -> Vec<ValidationIssue> {
    sector().validate(data).expect_err("data should be invalid")
}

fn pointers(issues: &[ValidationIssue]) -> Vec<&str> {
    issues.iter().map(|i| i.pointer.as_str()).collect()
}

fn sample() -> Value {
    json!({
        "public": {"name": "Chair", "materials": [{"name": "oak", "share": 0.9}], "empty": {}},
        "legitimateInterest": {"repairManual": "https://example.invalid/manual.pdf"},
        "authority": {"testReport": {"lab": "X", "result": "pass"}},
    })
}

#[test]
fn schema_compiles() {
    generic::schema_compiles().unwrap();
}

#[test]
fn valid_data_validates() {
    sector().validate(&sample()).unwrap();
    sector().validate(&json!({})).unwrap();
    sector().validate(&json!({"public": {}})).unwrap();
}

#[test]
fn unknown_top_level_key_is_rejected() {
    let mut data = sample();
    data["secret"] = json!({"a": 1});
    let found = issues(&data);
    assert_eq!(pointers(&found), vec!["/secret"]);
    assert!(found[0].message.contains("unknown key"), "{found:?}");
}

#[test]
fn tier_values_must_be_objects() {
    let found = issues(&json!({"public": "text", "authority": [1]}));
    assert_eq!(pointers(&found), vec!["/authority", "/public"], "{found:?}");
    assert_eq!(pointers(&issues(&json!("x"))), vec![""]);
}

fn nested(depth: usize) -> Value {
    // `depth` containers in total, counting the data object itself.
    let mut v = json!({});
    for _ in 0..depth.saturating_sub(2) {
        v = json!({ "n": v });
    }
    json!({ "public": v })
}

#[test]
fn too_deep_is_rejected() {
    sector().validate(&nested(generic::MAX_DEPTH)).unwrap();
    let found = issues(&nested(generic::MAX_DEPTH + 1));
    let expected = format!("/public{}", "/n".repeat(generic::MAX_DEPTH - 1));
    assert_eq!(pointers(&found), vec![expected.as_str()], "{found:?}");
    assert!(found[0].message.contains("depth"));
}

#[test]
fn too_long_string_is_rejected() {
    let ok = json!({"public": {"s": "a".repeat(generic::MAX_STRING_CHARS)}});
    sector().validate(&ok).unwrap();
    let found = issues(&json!({"public": {"s": "a".repeat(generic::MAX_STRING_CHARS + 1)}}));
    assert_eq!(pointers(&found), vec!["/public/s"]);
    assert!(found[0].message.len() < 200, "{}", found[0].message);
    let long_key = "k".repeat(generic::MAX_STRING_CHARS + 1);
    let found = issues(&json!({"legitimateInterest": {long_key: 1}}));
    assert_eq!(pointers(&found), vec!["/legitimateInterest"], "{found:?}");
}

#[test]
fn too_many_keys_is_rejected() {
    let many = |n: usize| -> Value {
        let m: Map<String, Value> = (0..n).map(|i| (format!("k{i}"), json!(i))).collect();
        json!({"authority": {"inner": Value::Object(m)}})
    };
    sector().validate(&many(generic::MAX_KEYS)).unwrap();
    let found = issues(&many(generic::MAX_KEYS + 1));
    assert_eq!(pointers(&found), vec!["/authority/inner"], "{found:?}");
}

#[test]
fn too_long_array_is_rejected() {
    let arr = |n: usize| json!({"public": {"a": vec![0; n]}});
    sector().validate(&arr(generic::MAX_ARRAY_LEN)).unwrap();
    assert_eq!(
        pointers(&issues(&arr(generic::MAX_ARRAY_LEN + 1))),
        vec!["/public/a"]
    );
}

#[test]
fn too_large_is_rejected() {
    // 100 strings of 4000 chars: each within bounds, together over 256 KiB.
    let items: Vec<Value> = (0..100).map(|_| json!("x".repeat(4000))).collect();
    let found = issues(&json!({"public": {"big": items}}));
    assert_eq!(pointers(&found), vec![""]);
    assert!(found[0].message.contains("size"), "{found:?}");
}

#[test]
fn tiers_follow_the_top_level_key() {
    let s = sector();
    assert_eq!(s.tier_of("/public"), Tier::Public);
    assert_eq!(s.tier_of("/public/materials/0/name"), Tier::Public);
    assert_eq!(
        s.tier_of("/legitimateInterest/x/y"),
        Tier::LegitimateInterest
    );
    assert_eq!(s.tier_of("/authority/testReport"), Tier::Authority);
    assert_eq!(s.tier_of("/other/x"), Tier::Authority);
    assert_eq!(s.tier_of(""), Tier::Authority);
}

#[test]
fn views_keep_only_allowed_tier_objects() {
    let data = sample();
    let s = sector();
    assert_eq!(
        s.view(&data, Audience::Public),
        json!({"public": data["public"].clone()})
    );
    assert_eq!(
        s.view(&data, Audience::LegitimateInterest),
        json!({"public": data["public"].clone(), "legitimateInterest": data["legitimateInterest"].clone()})
    );
    assert_eq!(s.view(&data, Audience::Authority), data);
    let mut extra = data.clone();
    extra["sneaky"] = json!({"a": 1});
    assert!(s.view(&extra, Audience::Public).get("sneaky").is_none());
    assert!(s
        .view(&extra, Audience::LegitimateInterest)
        .get("sneaky")
        .is_none());
    assert_eq!(
        s.view(&json!({"public": {}}), Audience::Public),
        json!({"public": {}})
    );
}

// ---------- property tests (both sectors) ----------

/// Keys that hit known battery and generic locations, plus some that do not.
const KEYS: &[&str] = &[
    "public",
    "legitimateInterest",
    "authority",
    "generalProductInformation",
    "materialComposition",
    "labeling",
    "circularity",
    "performanceAndDurability",
    "batteryMass",
    "batteryStatus",
    "manufacturerInformation",
    "contactName",
    "batteryMaterials",
    "batteryChemistry",
    "hazardousSubstances",
    "labels",
    "labelingMeaning",
    "resultOfTestReport",
    "recycledContent",
    "preConsumerShare",
    "safetyMeasures",
    "extinguishingAgent",
    "batteryCondition",
    "roundTripEfficiencyat50PerCentCycleLife",
    "stateOfCharge",
    "extra",
    "0",
];

fn json_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i32>().prop_map(|n| json!(n)),
        "[a-z]{0,6}".prop_map(Value::String),
    ];
    leaf.prop_recursive(5, 64, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            prop::collection::vec((prop::sample::select(KEYS), inner), 0..6).prop_map(|kvs| {
                Value::Object(kvs.into_iter().map(|(k, v)| (k.to_owned(), v)).collect())
            }),
        ]
    })
}

fn top_level() -> impl Strategy<Value = Value> {
    prop::collection::vec((prop::sample::select(KEYS), json_value()), 0..6)
        .prop_map(|kvs| Value::Object(kvs.into_iter().map(|(k, v)| (k.to_owned(), v)).collect()))
}

/// `out` is obtainable from `inp` by removing things: object keys are a subset, array
/// elements an order-preserving subsequence, scalars equal.
fn is_subview(out: &Value, inp: &Value) -> bool {
    match (out, inp) {
        (Value::Object(o), Value::Object(i)) => o
            .iter()
            .all(|(k, v)| i.get(k).is_some_and(|iv| is_subview(v, iv))),
        (Value::Array(o), Value::Array(i)) => {
            let mut rest = i.iter();
            o.iter().all(|ov| rest.any(|iv| is_subview(ov, iv)))
        }
        (o, i) => o == i,
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn view_is_idempotent_and_never_adds(data in top_level()) {
        for sector in SectorRegistry::builtin().iter() {
            for audience in Audience::ALL {
                let once = sector.view(&data, audience);
                let twice = sector.view(&once, audience);
                prop_assert_eq!(&twice, &once, "{} {:?}", sector.id(), audience);
                prop_assert!(is_subview(&once, &data), "{} {:?}: {} not within {}", sector.id(), audience, once, data);
            }
            prop_assert_eq!(sector.view(&data, Audience::Authority), data.clone());
        }
    }

    #[test]
    fn narrower_audiences_see_less(data in top_level()) {
        for sector in SectorRegistry::builtin().iter() {
            let public = sector.view(&data, Audience::Public);
            let legit = sector.view(&data, Audience::LegitimateInterest);
            prop_assert!(is_subview(&public, &legit), "{}: {} not within {}", sector.id(), public, legit);
        }
    }
}
