//! BatteryPass 1.2.0 samples from ../shared, shared by tests and benchmarks.
#![allow(clippy::unwrap_used, clippy::expect_used, dead_code)]

use hallmark_core::passport::{
    Granularity, Gtin, Passport, PassportDraft, PassportId, ProductIdentifier, SectorRef,
};
use hallmark_core::sector::battery::SUBMODELS;
use serde_json::{json, Value};

pub const DATASET: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../../shared/datasets/batterypass-1.2.0/"
);

/// Pointer (into sector data) of the sample's known defect: a CAS number with a trailing space.
pub const BAD_CAS_POINTER: &str =
    "/materialComposition/batteryMaterials/0/batteryMaterialIdentifier";

/// Pointer (into sector data) of the sample integer beyond 2^53.
pub const UNSAFE_INTEGER_POINTER: &str =
    "/performanceAndDurability/batteryTechicalProperties/expectedNumberOfCycles";

pub fn read(name: &str) -> Value {
    let text = std::fs::read_to_string(format!("{DATASET}{name}"))
        .unwrap_or_else(|e| panic!("read {name}: {e}"));
    serde_json::from_str(&text).unwrap()
}

pub fn sample_file(submodel: &str) -> String {
    if submodel == "Circularity" {
        "Circularity.json".to_owned()
    } else {
        format!("{submodel}-payload.json")
    }
}

/// The original MaterialComposition sample (with the trailing-space CAS number).
pub fn material_original() -> Value {
    read("MaterialComposition-payload.json")
}

/// The MaterialComposition sample with the trailing space removed.
pub fn material_fixed() -> Value {
    let mut v = material_original();
    let cas = v
        .pointer_mut("/batteryMaterials/0/batteryMaterialIdentifier")
        .unwrap();
    assert_eq!(cas, &json!("7439-93-2 "), "the known defect is still there");
    *cas = json!("7439-93-2");
    v
}

pub fn sample(submodel: &str) -> Value {
    if submodel == "MaterialComposition" {
        material_fixed()
    } else {
        read(&sample_file(submodel))
    }
}

/// All seven samples composed into battery sector data (the CAS defect fixed).
pub fn composite() -> Value {
    let mut map = serde_json::Map::new();
    for (key, name, _) in SUBMODELS {
        map.insert(key.to_owned(), sample(name));
    }
    Value::Object(map)
}

/// [`composite`] with the sample's generated out-of-range integer replaced by a realistic
/// cycle count, so that it can be signed (I-JSON).
pub fn composite_signable() -> Value {
    let mut v = composite();
    *v.pointer_mut(UNSAFE_INTEGER_POINTER).unwrap() = json!(3000);
    v
}

/// An item-level draft passport (GTIN 09506000134352, serial SN-0001) for a sector and data.
pub fn draft_passport(sector: (&str, &str), data: Value) -> Passport {
    let input = PassportDraft {
        product: ProductIdentifier::new(
            Gtin::parse("09506000134352").unwrap(),
            None,
            Some("SN-0001".into()),
        )
        .unwrap(),
        granularity: Granularity::Item,
        economic_operator_id: "https://id.gs1.org/417/4012345000016".into(),
        facility_id: Some("https://id.gs1.org/414/4012345000016".into()),
        commodity_code: None,
        sector: SectorRef {
            id: sector.0.into(),
            schema_version: sector.1.into(),
        },
        components: vec![],
        data,
    };
    let id = PassportId::from_parts(1_793_000_000_000, [7; 10]).unwrap();
    Passport::new_draft(input, id, time::macros::datetime!(2026-10-30 09:00 UTC)).unwrap()
}
