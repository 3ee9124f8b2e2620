//! Differential tests: our direct RFC 8785 serializer against the maintained
//! `serde_json_canonicalizer` crate, byte for byte, on arbitrary JSON values.

use hallmark_core::jcs;
use proptest::prelude::*;
use serde_json::{Map, Number, Value};

fn oracle(v: &Value) -> Vec<u8> {
    serde_json_canonicalizer::to_vec(v).unwrap()
}

fn assert_same(v: &Value) {
    let ours = jcs::canonicalize(v).unwrap();
    let theirs = oracle(v);
    assert_eq!(
        String::from_utf8_lossy(&ours),
        String::from_utf8_lossy(&theirs),
        "value: {v:?}"
    );
    assert_eq!(ours, theirs);
    let mut appended = b"prefix".to_vec();
    jcs::canonicalize_into(v, &mut appended).unwrap();
    assert_eq!(&appended[6..], &ours[..]);
}

/// Characters that stress escaping and UTF-16 ordering: ASCII (incl. controls, quote,
/// backslash, DEL), Latin/BMP below the surrogates, U+E000–U+FFFF, supplementary planes.
fn tricky_char() -> impl Strategy<Value = char> {
    prop_oneof![
        4 => proptest::char::range('\u{0}', '\u{7f}'),
        1 => proptest::char::range('\u{80}', '\u{7ff}'),
        1 => proptest::char::range('\u{800}', '\u{d7ff}'),
        2 => proptest::char::range('\u{e000}', '\u{ffff}'),
        2 => proptest::char::range('\u{10000}', '\u{10ffff}'),
        1 => Just('\u{1f600}'),
        1 => Just('\u{fb33}'),
        1 => Just('\u{20ac}'),
    ]
}

fn tricky_string() -> impl Strategy<Value = String> {
    prop_oneof![
        3 => proptest::collection::vec(tricky_char(), 0..6).prop_map(|c| c.into_iter().collect()),
        1 => any::<String>(),
        1 => "[a-c]{0,3}",
    ]
}

fn number() -> impl Strategy<Value = Number> {
    prop_oneof![
        any::<f64>().prop_filter_map("finite", Number::from_f64),
        any::<i64>().prop_map(Number::from),
        any::<u64>().prop_map(Number::from),
        prop_oneof![
            Just(i64::MIN),
            Just(i64::MAX),
            Just(-(1i64 << 53) + 1),
            Just(-(1i64 << 53)),
            Just(-(1i64 << 53) - 1),
            Just((1i64 << 53) - 1),
            Just(1i64 << 53),
            Just((1i64 << 53) + 1),
            Just(0),
            Just(-1),
        ]
        .prop_map(Number::from),
        prop_oneof![Just(u64::MAX), Just(10u64.pow(19)), Just(1u64 << 63)].prop_map(Number::from),
        (-330i32..330).prop_filter_map("finite", |e| Number::from_f64(10f64.powi(e))),
        prop_oneof![
            Just(-0.0f64),
            Just(1e21),
            Just(1e-7),
            Just(5e-324),
            Just(f64::MAX),
            Just(f64::MIN_POSITIVE),
            Just(0.1 + 0.2),
            Just(9007199254740993.0),
        ]
        .prop_map(|f| Number::from_f64(f).unwrap()),
    ]
}

fn leaf() -> impl Strategy<Value = Value> {
    prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        number().prop_map(Value::Number),
        tricky_string().prop_map(Value::String),
    ]
}

fn json() -> impl Strategy<Value = Value> {
    leaf().prop_recursive(5, 64, 8, |inner| {
        prop_oneof![
            proptest::collection::vec(inner.clone(), 0..8).prop_map(Value::Array),
            proptest::collection::vec((tricky_string(), inner), 0..8)
                .prop_map(|members| Value::Object(members.into_iter().collect::<Map<_, _>>())),
        ]
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(3000))]

    #[test]
    fn jcs_matches_oracle_on_arbitrary_values(v in json()) {
        assert_same(&v);
    }

    #[test]
    fn jcs_matches_oracle_on_objects_with_mixed_plane_keys(
        keys in proptest::collection::vec(tricky_string(), 0..16)
    ) {
        let m: Map<String, Value> = keys.into_iter().map(|k| (k, Value::Null)).collect();
        assert_same(&Value::Object(m));
    }

    #[test]
    fn jcs_matches_oracle_on_any_f64(bits in any::<u64>()) {
        if let Some(n) = Number::from_f64(f64::from_bits(bits)) {
            assert_same(&Value::Number(n));
        }
    }

    #[test]
    fn jcs_canonical_text_round_trips(v in json()) {
        let bytes = jcs::canonicalize(&v).unwrap();
        prop_assert_eq!(jcs::canonicalize_text(&bytes).unwrap(), bytes);
    }
}

#[test]
fn jcs_utf16_order_differs_from_utf8_order() {
    // U+FB33 (UTF-16 0xFB33) sorts after U+1F600 (UTF-16 0xD83D…) but before it in UTF-8.
    let v = serde_json::json!({"\u{fb33}": 1, "\u{1f600}": 2, "a": 3, "\u{e000}": 4});
    assert_eq!(
        String::from_utf8(jcs::canonicalize(&v).unwrap()).unwrap(),
        "{\"a\":3,\"\u{1f600}\":2,\"\u{e000}\":4,\"\u{fb33}\":1}"
    );
    assert_same(&v);
}

#[test]
fn jcs_integer_edges_match_es6() {
    for (n, want) in [
        (Number::from(9007199254740991u64), "9007199254740991"),
        (Number::from(9007199254740993u64), "9007199254740992"),
        (Number::from(-9007199254740993i64), "-9007199254740992"),
        (Number::from(u64::MAX), "18446744073709552000"),
        (Number::from(i64::MIN), "-9223372036854776000"),
        (Number::from_f64(1e21).unwrap(), "1e+21"),
        (Number::from_f64(-0.0).unwrap(), "0"),
    ] {
        let v = Value::Number(n);
        assert_eq!(
            String::from_utf8(jcs::canonicalize(&v).unwrap()).unwrap(),
            want
        );
        assert_same(&v);
    }
}

#[test]
fn jcs_escapes_controls_and_keeps_the_rest_literal() {
    let s: String = (0u8..0x80)
        .map(char::from)
        .chain(['\u{2028}', '\u{feff}', '\u{10ffff}'])
        .collect();
    let v = Value::String(s);
    let out = String::from_utf8(jcs::canonicalize(&v).unwrap()).unwrap();
    assert!(out.starts_with(r#""\u0000\u0001"#));
    assert!(out.contains(r#"\b\t\n\u000b\f\r\u000e"#));
    assert!(out.contains(r##"\u001f !\"#"##));
    assert!(out.contains(r#"[\\]"#));
    assert!(out.contains("/"));
    assert_same(&v);
}
