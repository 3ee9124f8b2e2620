//! RFC 8785 vectors from ../shared/vectors/jcs: one test per file, byte for byte, both the
//! `output/` text and the `outhex/` bytes.

use hallmark_core::jcs;
use std::path::PathBuf;

fn dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/vectors/jcs")
}

fn check(name: &str) {
    let input = std::fs::read(dir().join("input").join(name)).unwrap();
    let expected = std::fs::read(dir().join("output").join(name)).unwrap();
    let hex_text =
        std::fs::read_to_string(dir().join("outhex").join(name.replace(".json", ".txt"))).unwrap();
    let expected_hex: Vec<u8> = hex_text
        .split_whitespace()
        .map(|b| u8::from_str_radix(b, 16).unwrap())
        .collect();
    let got = jcs::canonicalize_text(&input).unwrap();
    assert_eq!(
        String::from_utf8_lossy(&got),
        String::from_utf8_lossy(&expected),
        "{name}"
    );
    assert_eq!(got, expected, "{name}: output bytes");
    assert_eq!(got, expected_hex, "{name}: outhex bytes");
    // Idempotent: canonical text canonicalizes to itself.
    assert_eq!(
        jcs::canonicalize_text(&got).unwrap(),
        got,
        "{name}: idempotence"
    );
}

#[test]
fn jcs_vector_arrays() {
    check("arrays.json");
}
#[test]
fn jcs_vector_french() {
    check("french.json");
}
#[test]
fn jcs_vector_structures() {
    check("structures.json");
}
#[test]
fn jcs_vector_unicode() {
    check("unicode.json");
}
#[test]
fn jcs_vector_values() {
    check("values.json");
}
#[test]
fn jcs_vector_weird() {
    check("weird.json");
}

#[test]
fn jcs_every_vector_file_has_a_test() {
    let mut names: Vec<String> = std::fs::read_dir(dir().join("input"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert_eq!(
        names,
        [
            "arrays.json",
            "french.json",
            "structures.json",
            "unicode.json",
            "values.json",
            "weird.json"
        ]
    );
}

/// ES6 number serialisation samples from the JCS reference README (hex IEEE-754 → text).
#[test]
fn jcs_number_formatting() {
    let cases = [
        ("4340000000000001", "9007199254740994"),
        ("4340000000000002", "9007199254740996"),
        ("444b1ae4d6e2ef50", "1e+21"),
        ("3eb0c6f7a0b5ed8d", "0.000001"),
        ("3eb0c6f7a0b5ed8c", "9.999999999999997e-7"),
        ("8000000000000000", "0"),
        ("0", "0"),
        ("7fefffffffffffff", "1.7976931348623157e+308"),
        ("c7efffffe0000000", "-3.4028234663852886e+38"),
        ("4024000000000000", "10"),
    ];
    for (hex, want) in cases {
        let f = f64::from_bits(u64::from_str_radix(hex, 16).unwrap());
        let v = serde_json::json!(f);
        assert_eq!(
            String::from_utf8(jcs::canonicalize(&v).unwrap()).unwrap(),
            want,
            "{hex}"
        );
    }
}
