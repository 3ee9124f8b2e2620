//! Validation issues: stable, human-readable, bounded in size.

use serde::Serialize;
use serde_json::Value;

use super::tree::escape_token;

/// Longest rendering of an offending value inside a message, in characters.
pub const MAX_QUOTED_VALUE_CHARS: usize = 80;

/// One reason sector data is invalid.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ValidationIssue {
    /// RFC 6901 JSON pointer into the sector data (`""` is the whole document).
    pub pointer: String,
    /// What is wrong, for a human; offending values longer than
    /// [`MAX_QUOTED_VALUE_CHARS`] are truncated with `…`.
    pub message: String,
}

impl ValidationIssue {
    pub(crate) fn new(pointer: impl Into<String>, message: impl Into<String>) -> Self {
        ValidationIssue {
            pointer: pointer.into(),
            message: message.into(),
        }
    }
}

/// Compact JSON rendering of a value, truncated to [`MAX_QUOTED_VALUE_CHARS`] characters.
pub(crate) fn render(value: &Value) -> String {
    let full = value.to_string();
    if full.chars().count() <= MAX_QUOTED_VALUE_CHARS {
        return full;
    }
    let mut short: String = full.chars().take(MAX_QUOTED_VALUE_CHARS).collect();
    short.push('…');
    short
}

/// Issues from a compiled JSON Schema validator, with pointers prefixed by `prefix`.
///
/// Messages are the validator's own, with the offending value replaced by its truncated
/// rendering. An "additional properties" error becomes one issue per unexpected key, at that
/// key's pointer.
pub(crate) fn from_schema(
    validator: &jsonschema::Validator,
    instance: &Value,
    prefix: &str,
    out: &mut Vec<ValidationIssue>,
) {
    for error in validator.iter_errors(instance) {
        let pointer = format!("{prefix}{}", error.instance_path().as_str());
        if let jsonschema::error::ValidationErrorKind::AdditionalProperties { unexpected } =
            error.kind()
        {
            for key in unexpected {
                out.push(unknown_key(&pointer, key));
            }
            continue;
        }
        let message = error.masked_with(render(error.instance())).to_string();
        out.push(ValidationIssue::new(pointer, message));
    }
}

/// The issue for a key the shape does not allow, under the object at `parent`.
pub(crate) fn unknown_key(parent: &str, key: &str) -> ValidationIssue {
    let quoted = render(&Value::String(key.to_owned()));
    ValidationIssue::new(
        format!("{parent}/{}", escape_token(key)),
        format!("unknown key {quoted} is not allowed"),
    )
}

/// Sort by pointer then message and drop duplicates; `Ok` when there is nothing left.
pub(crate) fn finish(mut issues: Vec<ValidationIssue>) -> Result<(), Vec<ValidationIssue>> {
    if issues.is_empty() {
        return Ok(());
    }
    issues.sort();
    issues.dedup();
    Err(issues)
}
