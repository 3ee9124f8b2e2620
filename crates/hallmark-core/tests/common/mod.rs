//! BatteryPass 1.2.0 samples from ../shared, shared by tests and benchmarks.
#![allow(clippy::unwrap_used, clippy::expect_used, dead_code)]

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
