//! The example battery draft of the admin OpenAPI document (`#/components/examples/
//! BatteryDraft`): an item-level battery passport submission whose sector data is the
//! demo's seven BatteryPass 1.2.0 samples (`crates/hallmark/demo/`, embedded at build time),
//! so the example is the data `hallmark demo` and the tests publish, never a copy of it.

use serde_json::{json, Map, Value};

/// The demo's samples: (member of the battery composite, file).
const SAMPLES: [(&str, &str); 7] = [
    (
        "generalProductInformation",
        include_str!("../../../hallmark/demo/GeneralProductInformation.json"),
    ),
    (
        "carbonFootprintForBatteries",
        include_str!("../../../hallmark/demo/CarbonFootprintForBatteries.json"),
    ),
    (
        "supplyChainDueDiligence",
        include_str!("../../../hallmark/demo/SupplyChainDueDiligence.json"),
    ),
    (
        "materialComposition",
        include_str!("../../../hallmark/demo/MaterialComposition.json"),
    ),
    (
        "circularity",
        include_str!("../../../hallmark/demo/Circularity.json"),
    ),
    (
        "performanceAndDurability",
        include_str!("../../../hallmark/demo/PerformanceAndDurability.json"),
    ),
    (
        "labeling",
        include_str!("../../../hallmark/demo/Labeling.json"),
    ),
];

/// The battery composite of the demo's samples.
pub fn battery_data() -> Result<Map<String, Value>, serde_json::Error> {
    SAMPLES
        .iter()
        .map(|(member, text)| Ok(((*member).to_string(), serde_json::from_str(text)?)))
        .collect()
}

/// The example battery draft: a submission for `POST /api/v1/passports`.
pub fn battery_draft() -> Result<Value, serde_json::Error> {
    Ok(json!({
        "uniqueProductIdentifier": { "gtin": "09506000134352", "serial": "EXAMPLE-0001" },
        "granularity": "item",
        "economicOperatorId": "urn:eori:DE123456789012345",
        "facilityId": "urn:gln:4012345000016",
        "sector": { "id": "battery", "schemaVersion": "1.2.0" },
        "components": [],
        "data": battery_data()?,
    }))
}
