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
//! - [`parse_input`] parses a document to store and sign under the stricter rules of
//!   [`crate::input`] (which also sees each number's literal, so `1e-400` is refused rather
//!   than signed as `0`), naming the JSON Pointer of any refusal.

use crate::input::{push_pointer_token, InputCheck, InputError, InputRefusal, JsonPath};
use serde::de::{self, DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_json::map::Entry;
use serde_json::{Map, Number, Value};
use std::fmt;

pub use crate::input::MAX_SAFE_INTEGER;

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
    /// JSON input that breaks a rule of [`crate::input`] ([`parse_input`]).
    #[error("refused JSON input: {0}")]
    Refused(InputRefusal),
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
    write_object(map, None, &mut out)?;
    Ok(out)
}

/// Append the RFC 8785 bytes of the object `map` to `out`, leaving out its member named
/// `skip` (if any): the canonical form of a copy of the map without that member, without
/// making the copy (a proof configuration is the proof without `proofValue`).
pub(crate) fn canonicalize_map_into(
    map: &Map<String, Value>,
    skip: Option<&str>,
    out: &mut Vec<u8>,
) -> Result<(), JcsError> {
    write_object(map, skip, out)
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
        Value::Object(map) => write_object(map, None, out)?,
    }
    Ok(())
}

fn write_object(
    map: &Map<String, Value>,
    skip: Option<&str>,
    out: &mut Vec<u8>,
) -> Result<(), JcsError> {
    out.push(b'{');
    let mut first = true;
    let mut member = |k: &String, v: &Value, out: &mut Vec<u8>| {
        if skip == Some(k.as_str()) {
            return Ok(());
        }
        if !first {
            out.push(b',');
        }
        first = false;
        write_str(k, out);
        out.push(b':');
        write_value(v, out)
    };
    if iteration_order_is_canonical(map) {
        for (k, v) in map {
            member(k, v, out)?;
        }
    } else {
        let mut members: Vec<(&String, &Value)> = map.iter().collect();
        members.sort_unstable_by(|a, b| cmp_utf16(a.0, b.0));
        for (k, v) in members {
            member(k, v, out)?;
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

/// Whether any of the 8 bytes of `word` must be escaped: a control character (< 0x20),
/// `"` or `\` (the classic "has a byte less than n / equal to c" word tricks; they may
/// report a false positive only next to a true one, never a false negative).
fn word_needs_escape(word: u64) -> bool {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGHS: u64 = 0x8080_8080_8080_8080;
    let has_zero = |x: u64| x.wrapping_sub(ONES) & !x & HIGHS;
    let below_space = word.wrapping_sub(ONES * 0x20) & !word & HIGHS;
    (below_space
        | has_zero(word ^ (ONES * u64::from(b'"')))
        | has_zero(word ^ (ONES * u64::from(b'\\'))))
        != 0
}

/// Write a JSON string per RFC 8785 §3.2.2.2.
fn write_str(s: &str, out: &mut Vec<u8>) {
    let bytes = s.as_bytes();
    out.reserve(bytes.len() + 2);
    out.push(b'"');
    // Skip, 8 bytes at a time, the prefix that needs no escape (most strings are all of it).
    let mut clean = 0;
    for chunk in bytes.chunks_exact(8) {
        let mut word = [0u8; 8];
        word.copy_from_slice(chunk);
        if word_needs_escape(u64::from_le_bytes(word)) {
            break;
        }
        clean += 8;
    }
    let mut start = 0;
    for (i, &b) in bytes.iter().enumerate().skip(clean) {
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
    let seed = Strict {
        check: None,
        path: JsonPath::Root,
    };
    let value = seed
        .deserialize(&mut de)
        .map_err(|e| JcsError::Syntax(e.to_string()))?;
    de.end().map_err(|e| JcsError::Syntax(e.to_string()))?;
    Ok(value)
}

/// Parse JSON *input* (a document to store and sign) under the rules of [`crate::input`]: no
/// duplicate member names, every number signed exactly as written, no U+0000; a refusal
/// ([`JcsError::Refused`]) names the JSON Pointer concerned.
pub fn parse_input(bytes: &[u8]) -> Result<Value, JcsError> {
    parse_checked(bytes).map_err(|e| match e {
        InputError::Refused(r) => JcsError::Refused(r),
        InputError::Syntax(e) => JcsError::Syntax(e.to_string()),
    })
}

/// [`parse_input`] with the parser's own error kept (position and category).
pub(crate) fn parse_checked(bytes: &[u8]) -> Result<Value, InputError> {
    let check = InputCheck::new(bytes);
    let mut de = serde_json::Deserializer::from_slice(bytes);
    let seed = Strict {
        check: Some(&check),
        path: JsonPath::Root,
    };
    let result = seed.deserialize(&mut de).and_then(|v| de.end().map(|()| v));
    check.finish(result)
}

/// Parse strictly and canonicalize: the JCS bytes of JSON text.
pub fn canonicalize_text(bytes: &[u8]) -> Result<Vec<u8>, JcsError> {
    canonicalize(&parse_strict(bytes)?)
}

/// Check that every number survives canonicalization unchanged (I-JSON, RFC 7493 §2.2).
pub fn check_ijson(value: &Value) -> Result<(), JcsError> {
    if all_safe(value) {
        return Ok(());
    }
    walk_ijson(value, &mut String::new())
}

/// [`check_ijson`] of the object `map` (pointers as for `Value::Object(map)`), without
/// making that value.
pub(crate) fn check_ijson_map(map: &Map<String, Value>) -> Result<(), JcsError> {
    if map.values().all(all_safe) {
        return Ok(());
    }
    let mut path = String::new();
    for (k, item) in map {
        push_pointer_token(&mut path, k);
        walk_ijson(item, &mut path)?;
        path.clear();
    }
    Ok(())
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

fn walk_ijson(v: &Value, path: &mut String) -> Result<(), JcsError> {
    match v {
        Value::Number(n) => check_number(n, path),
        Value::Array(items) => {
            for (i, item) in items.iter().enumerate() {
                let len = path.len();
                path.push('/');
                path.push_str(&i.to_string());
                walk_ijson(item, path)?;
                path.truncate(len);
            }
            Ok(())
        }
        Value::Object(map) => {
            for (k, item) in map {
                let len = path.len();
                push_pointer_token(path, k);
                walk_ijson(item, path)?;
                path.truncate(len);
            }
            Ok(())
        }
        _ => Ok(()),
    }
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

/// A `serde_json::Value` whose deserialization rejects duplicate member names and, given an
/// [`InputCheck`], applies the input rules; `path` is where the value sits.
#[derive(Clone, Copy)]
struct Strict<'p, 'a> {
    check: Option<&'p InputCheck<'a>>,
    path: JsonPath<'p>,
}

impl<'de> DeserializeSeed<'de> for Strict<'_, '_> {
    type Value = Value;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Value, D::Error> {
        deserializer.deserialize_any(self).inspect_err(|_| {
            if let Some(check) = self.check {
                check.failed(&self.path);
            }
        })
    }
}

impl<'de> Visitor<'de> for Strict<'_, '_> {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("any JSON value")
    }
    fn visit_bool<E>(self, v: bool) -> Result<Value, E> {
        Ok(Value::Bool(v))
    }
    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Value, E> {
        if let Some(check) = self.check {
            check.signed(v, &self.path)?;
        }
        Ok(Value::Number(v.into()))
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Value, E> {
        if let Some(check) = self.check {
            check.unsigned(v, &self.path)?;
        }
        Ok(Value::Number(v.into()))
    }
    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Value, E> {
        if let Some(check) = self.check {
            check.float(v, &self.path)?;
        }
        Number::from_f64(v)
            .map(Value::Number)
            .ok_or_else(|| E::custom("non-finite number"))
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<Value, E> {
        if let Some(check) = self.check {
            check.string(v, &self.path)?;
        }
        Ok(Value::String(v.to_owned()))
    }
    fn visit_string<E: de::Error>(self, v: String) -> Result<Value, E> {
        if let Some(check) = self.check {
            check.string(&v, &self.path)?;
        }
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
        loop {
            let item = Strict {
                check: self.check,
                path: JsonPath::Item(&self.path, items.len()),
            };
            match seq.next_element_seed(item)? {
                Some(v) => items.push(v),
                None => break,
            }
        }
        Ok(Value::Array(items))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut access: A) -> Result<Value, A::Error> {
        let mut map = Map::new();
        while let Some(key) = access.next_key::<String>()? {
            // One map lookup per member: the entry tells a duplicate and is where the value
            // goes.
            match map.entry(key) {
                Entry::Vacant(entry) => {
                    if let Some(check) = self.check {
                        check.member(entry.key(), false, &self.path)?;
                    }
                    let v = access.next_value_seed(Strict {
                        check: self.check,
                        path: JsonPath::Member(&self.path, entry.key()),
                    })?;
                    entry.insert(v);
                }
                Entry::Occupied(mut entry) => {
                    match self.check {
                        Some(check) => check.member(entry.key(), true, &self.path)?,
                        None => {
                            return Err(de::Error::custom(format!(
                                "duplicate member name {:?}",
                                entry.key()
                            )))
                        }
                    }
                    let v = access.next_value_seed(Strict {
                        check: self.check,
                        path: JsonPath::Member(&self.path, entry.key()),
                    })?;
                    entry.insert(v);
                }
            }
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

    /// The word test finds every byte that needs an escape, at every position of a word,
    /// next to any other byte.
    #[test]
    fn word_escape_test_has_no_false_negative() {
        for needs in (0u8..0x20).chain([b'"', b'\\']) {
            for other in 0u8..=255 {
                for pos in 0..8 {
                    let mut w = [other; 8];
                    w[pos] = needs;
                    assert!(
                        word_needs_escape(u64::from_le_bytes(w)),
                        "{needs:#x} among {other:#x}"
                    );
                }
            }
        }
        for clean in (0x20u8..=255).filter(|b| *b != b'"' && *b != b'\\') {
            assert!(
                !word_needs_escape(u64::from_le_bytes([clean; 8])),
                "{clean:#x}"
            );
        }
        let mut out = Vec::new();
        write_str("0123456789abcdef\u{1}x\"y\\z\u{e9}\u{1f600}", &mut out);
        assert_eq!(
            out,
            "\"0123456789abcdef\\u0001x\\\"y\\\\z\u{e9}\u{1f600}\"".as_bytes()
        );
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
    fn input_refusals_name_the_pointer() {
        use crate::input::{InputRefusal as R, NumberRefusal as N};
        let num = |p: &str, reason| {
            Err(JcsError::Refused(R::Number {
                pointer: p.into(),
                reason,
            }))
        };
        let cases: &[(&str, Result<(), JcsError>)] = &[
            (
                r#"{"a":{"b":1,"b":2}}"#,
                Err(JcsError::Refused(R::DuplicateMember {
                    pointer: "/a/b".into(),
                })),
            ),
            (
                r#"[{"x/y":[{"k~":1,"k~":1}]}]"#,
                Err(JcsError::Refused(R::DuplicateMember {
                    pointer: "/0/x~1y/0/k~0".into(),
                })),
            ),
            (
                r#"{"a":"x\u0000y"}"#,
                Err(JcsError::Refused(R::Nul {
                    pointer: "/a".into(),
                })),
            ),
            (
                r#"{"a":{"\u0000":1}}"#,
                Err(JcsError::Refused(R::Nul {
                    pointer: "/a/\u{0}".into(),
                })),
            ),
            (
                r#"{"n":[1,18446744073709551616]}"#,
                num("/n/1", N::UnsafeInteger),
            ),
            (r#"{"n":9007199254740992}"#, num("/n", N::UnsafeInteger)),
            (r#"{"n":-9007199254740992}"#, num("/n", N::UnsafeInteger)),
            (
                r#"{"n":123456789012345678901234567890}"#,
                num("/n", N::UnsafeInteger),
            ),
            (r#"{"a":[0.5,{"n":1e-400}]}"#, num("/a/1/n", N::Underflow)),
            (r#"{"a":[0.5,{"n":1e400}]}"#, num("/a/1/n", N::Overflow)),
            ("[1,\n -1e400]", num("/1", N::Overflow)),
            ("1e400", num("", N::Overflow)),
            (r#"{"n":0.30000000000000001}"#, num("/n", N::Inexact)),
            (
                r#"{"a":9007199254740991,"b":-9007199254740991,"c":1.5e300,"d":1.0,"e":-0,"f":"\u0001"}"#,
                Ok(()),
            ),
        ];
        for (text, want) in cases {
            assert_eq!(&parse_input(text.as_bytes()).map(|_| ()), want, "{text}");
        }
        // Syntax errors stay syntax errors, even with an overflowing number after them.
        for text in ["[tru, 1e400]", "{\"a\":1,}", "[1e40x]"] {
            assert!(
                matches!(parse_input(text.as_bytes()), Err(JcsError::Syntax(_))),
                "{text}"
            );
        }
        // parse_strict is unchanged: it does not look at literals or NUL.
        assert!(parse_strict(br#"{"n":1e-400,"s":"\u0000"}"#).is_ok());
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
