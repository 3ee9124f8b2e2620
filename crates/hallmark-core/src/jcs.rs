//! RFC 8785 JSON Canonicalization Scheme (JCS), and strict I-JSON parsing.
//!
//! Canonicalization is delegated to the maintained `serde_json_canonicalizer` crate (ES6
//! number formatting via `ryu-js`, UTF-16 key ordering); this module adds what signing
//! needs around it:
//!
//! - [`parse_strict`] rejects duplicate object member names (RFC 7493 I-JSON §2.3). A
//!   verifier that silently keeps the last duplicate would check different data than a
//!   verifier that keeps the first; we refuse the document instead.
//! - [`check_ijson`] rejects integers outside ±(2^53−1): JCS serialises every number as an
//!   IEEE-754 double, so such a value would be signed as a *different* number than the one
//!   written. Refusing it keeps "what you signed is what you sent".

use serde::de::{self, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Number, Value};
use std::fmt;

/// Largest integer magnitude an IEEE-754 double represents exactly (2^53 − 1).
pub const MAX_SAFE_INTEGER: u64 = (1 << 53) - 1;

/// Errors from canonicalization and strict parsing.
#[derive(Debug, thiserror::Error, Clone, PartialEq, Eq)]
pub enum JcsError {
    /// The input is not well-formed JSON (truncated, wrong syntax, duplicate names, ...).
    #[error("invalid JSON: {0}")]
    Syntax(String),
    /// A number cannot be represented faithfully in canonical form.
    #[error("number at {pointer} is outside the I-JSON safe integer range (±2^53−1)")]
    UnsafeInteger {
        /// JSON pointer of the offending number.
        pointer: String,
    },
    /// The canonicalizer refused the value.
    #[error("cannot canonicalize: {0}")]
    Canonicalize(String),
}

/// Canonicalize a JSON value to its RFC 8785 bytes.
pub fn canonicalize(value: &Value) -> Result<Vec<u8>, JcsError> {
    serde_json_canonicalizer::to_vec(value).map_err(|e| JcsError::Canonicalize(e.to_string()))
}

/// Canonicalize any serializable value (serialised through serde, then JCS).
pub fn canonicalize_serialize<T: serde::Serialize>(value: &T) -> Result<Vec<u8>, JcsError> {
    serde_json_canonicalizer::to_vec(value).map_err(|e| JcsError::Canonicalize(e.to_string()))
}

/// Parse JSON text strictly: well-formed, no duplicate member names.
pub fn parse_strict(bytes: &[u8]) -> Result<Value, JcsError> {
    let mut de = serde_json::Deserializer::from_slice(bytes);
    let StrictValue(value) =
        de::Deserialize::deserialize(&mut de).map_err(|e| JcsError::Syntax(e.to_string()))?;
    de.end().map_err(|e| JcsError::Syntax(e.to_string()))?;
    Ok(value)
}

/// Parse strictly and canonicalize: the JCS bytes of JSON text.
pub fn canonicalize_text(bytes: &[u8]) -> Result<Vec<u8>, JcsError> {
    canonicalize(&parse_strict(bytes)?)
}

/// Check that every number survives canonicalization unchanged (I-JSON, RFC 7493 §2.2).
pub fn check_ijson(value: &Value) -> Result<(), JcsError> {
    fn walk(v: &Value, path: &mut String) -> Result<(), JcsError> {
        match v {
            Value::Number(n) => check_number(n, path),
            Value::Array(items) => {
                for (i, item) in items.iter().enumerate() {
                    let len = path.len();
                    path.push('/');
                    path.push_str(&i.to_string());
                    walk(item, path)?;
                    path.truncate(len);
                }
                Ok(())
            }
            Value::Object(map) => {
                for (k, item) in map {
                    let len = path.len();
                    path.push('/');
                    path.push_str(&k.replace('~', "~0").replace('/', "~1"));
                    walk(item, path)?;
                    path.truncate(len);
                }
                Ok(())
            }
            _ => Ok(()),
        }
    }
    walk(value, &mut String::new())
}

fn check_number(n: &Number, path: &str) -> Result<(), JcsError> {
    let unsafe_int = match (n.as_u64(), n.as_i64()) {
        (Some(u), _) => u > MAX_SAFE_INTEGER,
        (None, Some(i)) => i.unsigned_abs() > MAX_SAFE_INTEGER,
        _ => false,
    };
    if unsafe_int {
        return Err(JcsError::UnsafeInteger {
            pointer: path.to_string(),
        });
    }
    Ok(())
}

/// A `serde_json::Value` whose deserialization rejects duplicate member names.
struct StrictValue(Value);

impl<'de> de::Deserialize<'de> for StrictValue {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(StrictVisitor).map(StrictValue)
    }
}

struct StrictVisitor;

impl<'de> Visitor<'de> for StrictVisitor {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("any JSON value")
    }
    fn visit_bool<E>(self, v: bool) -> Result<Value, E> {
        Ok(Value::Bool(v))
    }
    fn visit_i64<E>(self, v: i64) -> Result<Value, E> {
        Ok(Value::Number(v.into()))
    }
    fn visit_u64<E>(self, v: u64) -> Result<Value, E> {
        Ok(Value::Number(v.into()))
    }
    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Value, E> {
        Number::from_f64(v)
            .map(Value::Number)
            .ok_or_else(|| E::custom("non-finite number"))
    }
    fn visit_str<E>(self, v: &str) -> Result<Value, E> {
        Ok(Value::String(v.to_owned()))
    }
    fn visit_string<E>(self, v: String) -> Result<Value, E> {
        Ok(Value::String(v))
    }
    fn visit_unit<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }
    fn visit_none<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let mut items = Vec::with_capacity(seq.size_hint().unwrap_or(0).min(1024));
        while let Some(StrictValue(v)) = seq.next_element()? {
            items.push(v);
        }
        Ok(Value::Array(items))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut access: A) -> Result<Value, A::Error> {
        let mut map = Map::new();
        while let Some(key) = access.next_key::<String>()? {
            if map.contains_key(&key) {
                return Err(de::Error::custom(format!("duplicate member name {key:?}")));
            }
            let StrictValue(v) = access.next_value()?;
            map.insert(key, v);
        }
        Ok(Value::Object(map))
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;

    #[test]
    fn duplicate_names_are_rejected() {
        let err = parse_strict(br#"{"a":1,"b":{"c":1,"c":2}}"#).unwrap_err();
        assert!(matches!(err, JcsError::Syntax(m) if m.contains("duplicate member name \"c\"")));
    }

    #[test]
    fn trailing_garbage_and_truncation_are_rejected() {
        assert!(matches!(
            parse_strict(br#"{"a":1} x"#),
            Err(JcsError::Syntax(_))
        ));
        assert!(matches!(
            parse_strict(br#"{"a":[1,2"#),
            Err(JcsError::Syntax(_))
        ));
        assert!(matches!(parse_strict(b""), Err(JcsError::Syntax(_))));
    }

    #[test]
    fn unsafe_integers_are_named_by_pointer() {
        let v = parse_strict(br#"{"x":[1,{"a/b":9007199254740993}]}"#).unwrap();
        assert_eq!(
            check_ijson(&v),
            Err(JcsError::UnsafeInteger {
                pointer: "/x/1/a~1b".into()
            })
        );
        let ok =
            parse_strict(br#"{"x":9007199254740991,"y":-9007199254740991,"z":1e300}"#).unwrap();
        assert_eq!(check_ijson(&ok), Ok(()));
    }
}
