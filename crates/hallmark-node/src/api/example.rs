//! The example battery draft of the admin OpenAPI document (`#/components/examples/
//! BatteryDraft`): the demo's EV battery passport (`crates/hallmark/demo/ev-battery.json`,
//! embedded at build time) — realistic values that pass the battery plugin — so the example
//! is the submission `hallmark demo` and the tests publish, never a copy of it.

use serde_json::{Map, Value};

/// The demo's EV battery passport submission.
const EV_BATTERY: &str = include_str!("../../../hallmark/demo/ev-battery.json");

/// The example's battery sector data.
pub fn battery_data() -> Result<Map<String, Value>, serde_json::Error> {
    match battery_draft()? {
        Value::Object(mut draft) => match draft.remove("data") {
            Some(Value::Object(data)) => Ok(data),
            _ => Ok(Map::new()),
        },
        _ => Ok(Map::new()),
    }
}

/// The example battery draft: a submission for `POST /api/v1/passports`.
pub fn battery_draft() -> Result<Value, serde_json::Error> {
    serde_json::from_str(EV_BATTERY)
}
