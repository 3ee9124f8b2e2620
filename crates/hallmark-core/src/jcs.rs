//! RFC 8785 JSON Canonicalization Scheme (JCS), and strict I-JSON parsing.
//!
//! [`canonicalize`] is a direct serializer over `serde_json::Value` into one output buffer:
//!
//! - object members in UTF-16 code-unit order (§3.2.3). `serde_json::Map` is a `BTreeMap`
//!   (UTF-8 byte order), which equals UTF-16 order unless an object mixes characters
//!   ≥ U+E000 with supplementary-plane ones; such objects (and any object whose iteration
//!   order is not byte-sorted, should `preserve_order` ever be enabled) are sorted with a
//!   UTF-16 comparator, all others are written in map order;
//! - strings escaped per §3.2.2.2, copying runs of bytes that need no escape;
//! - numbers as ES6 `Number.prototype.toString` (§3.2.2.3): `ryu-js` for doubles,
//!   `itoa` for integers within ±(2^53−1) (ES6 prints those identically), and larger
//!   integers converted to the nearest double first, as every JCS implementation does.
//!
//! The maintained `serde_json_canonicalizer` crate is kept as the test oracle
//! (tests/jcs_oracle.rs compares both byte for byte on arbitrary values).
//!
//! Around canonicalization this module adds what signing needs:
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

/// Initial output capacity: most documents we sign fit without reallocating.
const INITIAL_CAPACITY: usize = 8 * 1024;

/// Canonicalize a JSON value to its RFC 8785 bytes.
pub fn canonicalize(value: &Value) -> Result<Vec<u8>, JcsError> {
    let mut out = Vec::with_capacity(INITIAL_CAPACITY);
    canonicalize_into(value, &mut out)?;
    Ok(out)
}

/// Append the RFC 8785 bytes of `value` to `out`. On error, `out` may hold a partial
/// serialization.
pub fn canonicalize_into(value: &Value, out: &mut Vec<u8>) -> Result<(), JcsError> {
    write_value(value, out)
}

/// Canonicalize a JSON object given as a map (no intermediate `Value`).
pub(crate) fn canonicalize_map(map: &Map<String, Value>) -> Result<Vec<u8>, JcsError> {
    let mut out = Vec::with_capacity(INITIAL_CAPACITY);
    write_object(map, &mut out)?;
    Ok(out)
}

/// Canonicalize any serializable value (serialised through serde, then JCS).
pub fn canonicalize_serialize<T: serde::Serialize>(value: &T) -> Result<Vec<u8>, JcsError> {
    let value = serde_json::to_value(value).map_err(|e| JcsError::Canonicalize(e.to_string()))?;
    canonicalize(&value)
}

fn write_value(value: &Value, out: &mut Vec<u8>) -> Result<(), JcsError> {
    match value {
        Value::Null => out.extend_from_slice(b"null"),
        Value::Bool(true) => out.extend_from_slice(b"true"),
        Value::Bool(false) => out.extend_from_slice(b"false"),
        Value::Number(n) => write_number(n, out)?,
        Value::String(s) => write_str(s, out),
        Value::Array(items) => {
            out.push(b'[');
            let mut items = items.iter();
            if let Some(first) = items.next() {
                write_value(first, out)?;
                for item in items {
                    out.push(b',');
                    write_value(item, out)?;
                }
            }
            out.push(b']');
        }
        Value::Object(map) => write_object(map, out)?,
    }
    Ok(())
}

fn write_object(map: &Map<String, Value>, out: &mut Vec<u8>) -> Result<(), JcsError> {
    out.push(b'{');
    if iteration_order_is_canonical(map) {
        let mut first = true;
        for (k, v) in map {
            if !first {
                out.push(b',');
            }
            first = false;
            write_str(k, out);
            out.push(b':');
            write_value(v, out)?;
        }
    } else {
        let mut members: Vec<(&String, &Value)> = map.iter().collect();
        members.sort_unstable_by(|a, b| cmp_utf16(a.0, b.0));
        let mut first = true;
        for (k, v) in members {
            if !first {
                out.push(b',');
            }
            first = false;
            write_str(k, out);
            out.push(b':');
            write_value(v, out)?;
        }
    }
    out.push(b'}');
    Ok(())
}

/// True when the map iterates in RFC 8785 order: keys strictly increasing by UTF-8 bytes
/// (always so for serde_json's `BTreeMap`) and no key holds a character ≥ U+E000 (UTF-8
/// lead byte ≥ 0xEE), the only case in which UTF-8 and UTF-16 orders can disagree.
fn iteration_order_is_canonical(map: &Map<String, Value>) -> bool {
    let mut prev: Option<&[u8]> = None;
    for k in map.keys() {
        let k = k.as_bytes();
        if k.iter().any(|&b| b >= 0xEE) {
            return false;
        }
        if let Some(p) = prev {
            if p >= k {
                return false;
            }
        }
        prev = Some(k);
    }
    true
}

/// Order strings by their UTF-16 code units (RFC 8785 §3.2.3).
fn cmp_utf16(a: &str, b: &str) -> std::cmp::Ordering {
    // Skip the common prefix (cheap byte compare), back up to a character boundary, then
    // compare the remainders as UTF-16.
    let common = a.bytes().zip(b.bytes()).take_while(|(x, y)| x == y).count();
    let mut start = common;
    while !a.is_char_boundary(start) {
        start -= 1;
    }
    match (a.get(start..), b.get(start..)) {
        (Some(ra), Some(rb)) => ra.encode_utf16().cmp(rb.encode_utf16()),
        _ => a.encode_utf16().cmp(b.encode_utf16()),
    }
}

fn write_number(n: &Number, out: &mut Vec<u8>) -> Result<(), JcsError> {
    if let Some(u) = n.as_u64() {
        if u <= MAX_SAFE_INTEGER {
            out.extend_from_slice(itoa::Buffer::new().format(u).as_bytes());
            return Ok(());
        }
        return write_f64(u as f64, out);
    }
    if let Some(i) = n.as_i64() {
        if i.unsigned_abs() <= MAX_SAFE_INTEGER {
            out.extend_from_slice(itoa::Buffer::new().format(i).as_bytes());
            return Ok(());
        }
        return write_f64(i as f64, out);
    }
    match n.as_f64() {
        Some(f) => write_f64(f, out),
        None => Err(JcsError::Canonicalize(format!(
            "unrepresentable number {n}"
        ))),
    }
}

fn write_f64(f: f64, out: &mut Vec<u8>) -> Result<(), JcsError> {
    if !f.is_finite() {
        return Err(JcsError::Canonicalize(
            "NaN and ±Infinity are not permitted in JSON".into(),
        ));
    }
    out.extend_from_slice(ryu_js::Buffer::new().format_finite(f).as_bytes());
    Ok(())
}

/// Escape class of each byte: 0 = copy literally, `u` = `\u00xx`, else the short escape.
static ESCAPE: [u8; 256] = {
    let mut t = [0u8; 256];
    let mut i = 0;
    while i < 0x20 {
        t[i] = b'u';
        i += 1;
    }
    t[0x08] = b'b';
    t[0x09] = b't';
    t[0x0a] = b'n';
    t[0x0c] = b'f';
    t[0x0d] = b'r';
    t[b'"' as usize] = b'"';
    t[b'\\' as usize] = b'\\';
    t
};

const HEX: &[u8; 16] = b"0123456789abcdef";

/// Write a JSON string per RFC 8785 §3.2.2.2.
fn write_str(s: &str, out: &mut Vec<u8>) {
    let bytes = s.as_bytes();
    out.reserve(bytes.len() + 2);
    out.push(b'"');
    let mut start = 0;
    for (i, &b) in bytes.iter().enumerate() {
        let esc = ESCAPE[usize::from(b)];
        if esc == 0 {
            continue;
        }
        out.extend_from_slice(bytes.get(start..i).unwrap_or_default());
        if esc == b'u' {
            out.extend_from_slice(&[
                b'\\',
                b'u',
                b'0',
                b'0',
                HEX[usize::from(b >> 4)],
                HEX[usize::from(b & 0xf)],
            ]);
        } else {
            out.extend_from_slice(&[b'\\', esc]);
        }
        start = i + 1;
    }
    out.extend_from_slice(bytes.get(start..).unwrap_or_default());
    out.push(b'"');
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
    /// Allocation-free pass; the pointer-building walk runs only to name a failure.
    fn all_safe(v: &Value) -> bool {
        match v {
            Value::Number(n) => !is_unsafe_integer(n),
            Value::Array(items) => items.iter().all(all_safe),
            Value::Object(map) => map.values().all(all_safe),
            _ => true,
        }
    }
    if all_safe(value) {
        return Ok(());
    }
    walk(value, &mut String::new())
}

fn is_unsafe_integer(n: &Number) -> bool {
    match (n.as_u64(), n.as_i64()) {
        (Some(u), _) => u > MAX_SAFE_INTEGER,
        (None, Some(i)) => i.unsigned_abs() > MAX_SAFE_INTEGER,
        _ => false,
    }
}

fn check_number(n: &Number, path: &str) -> Result<(), JcsError> {
    if is_unsafe_integer(n) {
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
    fn utf16_comparator_agrees_with_full_utf16_compare() {
        let words = [
            "",
            "a",
            "ab",
            "\u{e9}",
            "a\u{e9}",
            "a\u{fb33}",
            "a\u{1f600}",
            "a\u{1f600}b",
            "\u{ffff}",
            "\u{10000}",
            "\u{e000}",
            "\u{d7ff}",
            "a\u{e000}z",
            "a\u{e001}",
        ];
        for a in words {
            for b in words {
                assert_eq!(
                    cmp_utf16(a, b),
                    a.encode_utf16().cmp(b.encode_utf16()),
                    "{a:?} vs {b:?}"
                );
            }
        }
    }

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
