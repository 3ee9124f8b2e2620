//! The `generic` sector, version 1.0.0: product groups without a delegated act yet.
//!
//! Data is an object with optional keys `public`, `legitimateInterest` and `authority`, each a
//! free-form JSON object; the top-level key is the [`Tier`] of everything under it. Any other
//! top-level key is an error. Bounds (see the constants) keep free-form data small.

use std::collections::BTreeMap;
use std::io;
use std::sync::LazyLock;

use serde_json::Value;

use super::issue::{self, ValidationIssue};
use super::tree::{escape_token, NodeKind, TierNode};
use crate::access::Tier;

/// The JSON Schema (2020-12) of the generic sector: shape and per-value bounds.
pub const SCHEMA: &str = include_str!("../../sectors/generic/1.0.0/schema.json");

/// Deepest nesting of objects and arrays; the data object itself is level 1.
pub const MAX_DEPTH: usize = 16;
/// Most keys in one object.
pub const MAX_KEYS: usize = 256;
/// Most elements in one array.
pub const MAX_ARRAY_LEN: usize = 1024;
/// Longest string (value or key), in characters.
pub const MAX_STRING_CHARS: usize = 4096;
/// Largest compact JSON serialization of the whole data, in bytes (256 KiB).
pub const MAX_SERIALIZED_BYTES: usize = 256 * 1024;

/// The top-level keys and the tier each grants.
pub const TIER_KEYS: [(&str, Tier); 3] = [
    ("public", Tier::Public),
    ("legitimateInterest", Tier::LegitimateInterest),
    ("authority", Tier::Authority),
];

static VALIDATOR: LazyLock<Result<jsonschema::Validator, String>> = LazyLock::new(|| {
    let schema: Value = serde_json::from_str(SCHEMA).map_err(|e| e.to_string())?;
    jsonschema::draft202012::options()
        .build(&schema)
        .map_err(|e| e.to_string())
});

static SHAPE: LazyLock<TierNode> = LazyLock::new(|| {
    let children: BTreeMap<String, TierNode> = TIER_KEYS
        .iter()
        .map(|(key, tier)| {
            let mut node = TierNode::new(NodeKind::Open);
            node.tier = Some(*tier);
            ((*key).to_owned(), node)
        })
        .collect();
    TierNode::new(NodeKind::Object(children))
});

pub(crate) fn tier_root() -> &'static TierNode {
    &SHAPE
}

/// Validate generic sector data. Depth and size are checked first; when either is exceeded
/// only those issues are reported (the rest of the data is not examined).
pub(crate) fn validate(data: &Value) -> Result<(), Vec<ValidationIssue>> {
    let mut issues = Vec::new();
    check_depth(data, 1, "", &mut issues);
    if !issues.is_empty() {
        return issue::finish(issues);
    }
    let size = serialized_len(data);
    if size > MAX_SERIALIZED_BYTES {
        issues.push(ValidationIssue::new(
            "",
            format!("serialized size {size} bytes exceeds the limit of {MAX_SERIALIZED_BYTES}"),
        ));
        return issue::finish(issues);
    }
    match &*VALIDATOR {
        Ok(validator) => issue::from_schema(validator, data, "", &mut issues),
        Err(e) => issues.push(ValidationIssue::new(
            "",
            format!("cannot validate: embedded schema failed to compile ({e})"),
        )),
    }
    issue::finish(issues)
}

/// Report containers nested deeper than [`MAX_DEPTH`], without descending past the limit.
fn check_depth(value: &Value, level: usize, pointer: &str, out: &mut Vec<ValidationIssue>) {
    let is_container = matches!(value, Value::Object(_) | Value::Array(_));
    if !is_container {
        return;
    }
    if level > MAX_DEPTH {
        out.push(ValidationIssue::new(
            pointer,
            format!("nesting depth exceeds the limit of {MAX_DEPTH}"),
        ));
        return;
    }
    match value {
        Value::Object(map) => {
            for (key, child) in map {
                let p = format!("{pointer}/{}", escape_token(key));
                check_depth(child, level + 1, &p, out);
            }
        }
        Value::Array(items) => {
            for (i, child) in items.iter().enumerate() {
                check_depth(child, level + 1, &format!("{pointer}/{i}"), out);
            }
        }
        _ => {}
    }
}

struct Counter(usize);

impl io::Write for Counter {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.0 = self.0.saturating_add(buf.len());
        Ok(buf.len())
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

fn serialized_len(value: &Value) -> usize {
    let mut counter = Counter(0);
    match serde_json::to_writer(&mut counter, value) {
        Ok(()) => counter.0,
        Err(_) => usize::MAX,
    }
}

/// Whether the embedded schema compiles (used by tests; validation fails closed otherwise).
pub fn schema_compiles() -> Result<(), String> {
    VALIDATOR.as_ref().map(|_| ()).map_err(Clone::clone)
}
