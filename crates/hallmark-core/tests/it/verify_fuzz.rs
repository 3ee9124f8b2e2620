//! Fuzzing of the verify entry point (issue 22, item 7): arbitrary bytes, arbitrary JSON,
//! and mutations of a validly signed credential in both forms, fed to `verify_resolving`
//! and `verify`. Every case asserts that nothing panics (the report is also displayed and
//! serialised) and, for mutations, that the verdict is sound: a Data Integrity credential
//! verifies exactly when its strict parse has the canonical form (RFC 8785) of the signed
//! credential — a mutation that changes the canonical document or proof is never valid, one
//! that does not (whitespace, `1.0` for `1`, `\u0041` for `A`) still is —, and a `vc+jwt`
//! verifies exactly when it is the signed token.
//!
//! The case count is modest so that the suite stays quick in debug builds; set
//! `PROPTEST_CASES` to run more (e.g. `PROPTEST_CASES=5000`).

use base64::Engine as _;
use ed25519_dalek::SigningKey;
use hallmark_core::credential::{self, UnsignedCredential};
use hallmark_core::did::{DidDocument, DidWeb, KeyStatus, PublishedKey};
use hallmark_core::did_resolver::Resolver;
use hallmark_core::jcs;
use hallmark_core::keys::Signer as _;
use hallmark_core::verify::{
    verify, verify_resolving, IssuerPolicy, Outcome, Report, VerifyOptions,
};
use proptest::prelude::*;
use serde_json::{json, Value};
use std::sync::OnceLock;
use time::macros::datetime;

/// The signed credential every mutation starts from.
struct Fixture {
    did_document: DidDocument,
    /// The Data Integrity credential as stored (its JCS bytes).
    di: Vec<u8>,
    /// The same credential, parsed.
    value: Value,
    /// The `vc+jwt` form.
    jwt: String,
    /// Every JSON Pointer of `value` but the root.
    pointers: Vec<String>,
    /// The pointers of the objects of `value` (the root included) with at least one member.
    objects: Vec<String>,
}

fn fixture() -> &'static Fixture {
    static FIXTURE: OnceLock<Fixture> = OnceLock::new();
    FIXTURE.get_or_init(|| {
        let did = DidWeb::from_base_url("https://dpp.example.com").unwrap();
        let key = SigningKey::from_bytes(&[7; 32]);
        let did_document = DidDocument::build(
            &did,
            &[PublishedKey {
                public_key: key.verifying_key(),
                status: KeyStatus::Current,
            }],
        );
        let unsigned = UnsignedCredential {
            id: "https://dpp.example.com/passports/0190b6a2-0000-7000-8000-000000000001/versions/1"
                .into(),
            types: vec!["DigitalProductPassport".into()],
            issuer: did.as_str().into(),
            valid_from: datetime!(2026-11-01 10:00:00 UTC),
            subject: json!({
                "id": "https://id.example.com/01/09506000134352/21/ABC123",
                "batteryMass": 699.5,
                "cycles": 1500,
                "negative": -42,
                "tiny": 1.5e-7,
                "flags": [true, false, null],
                "batteryChemistry": {"shortName": "NMC", "clearName": "Lithium nickel manganese cobalt oxides"},
                "note": "Grüße — 電池 🔋 \"quoted\" \\ \t",
                "\u{e000}key": "private use",
                "\u{1f600}key": "supplementary",
                "materials": [{"name": "Li", "share": 0.07}, {"name": "Co", "share": 0.12}]
            }),
            extra_contexts: vec!["https://example.com/dpp/v1".into()],
        };
        let vm = did.key_url(&key.key_id());
        let secured =
            credential::secure(&unsigned, &vm, datetime!(2026-11-01 10:00:01 UTC), &key).unwrap();
        let value = jcs::parse_strict(&secured.data_integrity).unwrap();
        let mut pointers = Vec::new();
        let mut objects = Vec::new();
        collect(&value, String::new(), &mut pointers, &mut objects);
        let f = Fixture {
            did_document,
            di: secured.data_integrity,
            value,
            jwt: secured.jwt,
            pointers,
            objects,
        };
        assert!(verify(&f.di, &f.did_document).is_valid());
        assert!(verify(f.jwt.as_bytes(), &f.did_document).is_valid());
        f
    })
}

fn collect(v: &Value, at: String, pointers: &mut Vec<String>, objects: &mut Vec<String>) {
    let token = |k: &str| k.replace('~', "~0").replace('/', "~1");
    match v {
        Value::Object(m) => {
            if !m.is_empty() {
                objects.push(at.clone());
            }
            for (k, item) in m {
                let p = format!("{at}/{}", token(k));
                pointers.push(p.clone());
                collect(item, p, pointers, objects);
            }
        }
        Value::Array(a) => {
            for (i, item) in a.iter().enumerate() {
                let p = format!("{at}/{i}");
                pointers.push(p.clone());
                collect(item, p, pointers, objects);
            }
        }
        _ => {}
    }
}

/// 48 cases per property unless `PROPTEST_CASES` says otherwise.
fn config() -> ProptestConfig {
    let default = ProptestConfig::default();
    let cases = if std::env::var_os("PROPTEST_CASES").is_some() {
        default.cases
    } else {
        48
    };
    ProptestConfig {
        cases,
        failure_persistence: None,
        ..default
    }
}

/// Verify against the fixture's DID document; display and serialise the report (neither may
/// panic either).
fn run(input: &[u8], options: &VerifyOptions) -> Report {
    let f = fixture();
    let report = verify_resolving(input, &Resolver::with_document(&f.did_document), options);
    let _ = report.to_string();
    let _ = serde_json::to_string(&report).unwrap();
    let _ = report.verdict();
    report
}

/// The canonical form of the strictly parsed input, when it is a JSON object.
fn canonical_of(input: &[u8]) -> Option<Vec<u8>> {
    match jcs::parse_strict(input.trim_ascii()) {
        Ok(v @ Value::Object(_)) => jcs::canonicalize(&v).ok(),
        _ => None,
    }
}

/// The soundness of a Data Integrity verdict: valid exactly when the input's canonical form
/// is the signed credential's.
fn assert_di_sound(input: &[u8]) -> Result<(), TestCaseError> {
    let f = fixture();
    let report = run(input, &VerifyOptions::default());
    let same = canonical_of(input).is_some_and(|c| c == f.di);
    prop_assert_eq!(
        report.is_valid(),
        same,
        "input:\n{}\nreport:\n{}",
        String::from_utf8_lossy(input),
        report
    );
    Ok(())
}

/// The soundness of a `vc+jwt` verdict: valid exactly when the input is the signed token
/// (leading and trailing whitespace aside).
fn assert_jwt_sound(input: &[u8]) -> Result<(), TestCaseError> {
    let f = fixture();
    let report = run(input, &VerifyOptions::default());
    let same = input.trim_ascii() == f.jwt.as_bytes();
    prop_assert_eq!(verify(input, &f.did_document).is_valid(), same);
    prop_assert_eq!(
        report.is_valid(),
        same,
        "input:\n{}\nreport:\n{}",
        String::from_utf8_lossy(input),
        report
    );
    Ok(())
}

fn b64(bytes: &[u8]) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

/// One edit of a byte string.
#[derive(Debug, Clone)]
enum Edit {
    Flip(prop::sample::Index, u8),
    Set(prop::sample::Index, u8),
    Insert(prop::sample::Index, u8),
    Delete(prop::sample::Index),
    /// Insert one of the bytes that matter to JSON's syntax.
    InsertSyntax(prop::sample::Index, prop::sample::Index),
}

fn edit() -> impl Strategy<Value = Edit> {
    prop_oneof![
        (any::<prop::sample::Index>(), 0u8..8).prop_map(|(i, bit)| Edit::Flip(i, 1 << bit)),
        (any::<prop::sample::Index>(), any::<u8>()).prop_map(|(i, b)| Edit::Set(i, b)),
        (any::<prop::sample::Index>(), any::<u8>()).prop_map(|(i, b)| Edit::Insert(i, b)),
        any::<prop::sample::Index>().prop_map(Edit::Delete),
        (any::<prop::sample::Index>(), any::<prop::sample::Index>())
            .prop_map(|(i, b)| Edit::InsertSyntax(i, b)),
    ]
}

fn apply(bytes: &mut Vec<u8>, e: &Edit) {
    const SYNTAX: &[u8] = b" \t\r\n\x0c{}[],:\"\\0123456789.eE+-tfnu";
    if bytes.is_empty() {
        return;
    }
    match e {
        Edit::Flip(i, mask) => {
            let i = i.index(bytes.len());
            bytes[i] ^= mask;
        }
        Edit::Set(i, b) => {
            let i = i.index(bytes.len());
            bytes[i] = *b;
        }
        Edit::Insert(i, b) => bytes.insert(i.index(bytes.len() + 1), *b),
        Edit::Delete(i) => {
            bytes.remove(i.index(bytes.len()));
        }
        Edit::InsertSyntax(i, b) => {
            bytes.insert(i.index(bytes.len() + 1), SYNTAX[b.index(SYNTAX.len())]);
        }
    }
}

fn arb_json() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(|n| json!(n)),
        any::<u64>().prop_map(|n| json!(n)),
        any::<f64>()
            .prop_filter("finite", |f| f.is_finite())
            .prop_map(|f| json!(f)),
        "\\PC{0,12}".prop_map(Value::String),
        "[\\x00-\\x1f\"\\\\\u{e000}\u{1f600}]{0,4}".prop_map(Value::String),
        Just(json!("did:web:dpp.example.com")),
        Just(json!("https://www.w3.org/ns/credentials/v2")),
        Just(json!("VerifiableCredential")),
    ];
    leaf.prop_recursive(4, 48, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..5).prop_map(Value::Array),
            prop::collection::btree_map(
                prop_oneof![
                    "\\PC{0,8}",
                    Just("proof".to_string()),
                    Just("@context".to_string()),
                    Just("type".to_string()),
                    Just("issuer".to_string()),
                    Just("credentialSubject".to_string()),
                    Just("previousProof".to_string()),
                    Just("id".to_string()),
                ],
                inner,
                0..5
            )
            .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

/// A number literal that is tricky to parse or to canonicalize.
fn number_literal() -> impl Strategy<Value = String> {
    prop_oneof![
        prop::sample::select(vec![
            "1e400",
            "-1e400",
            "1e-400",
            "9007199254740991",
            "9007199254740992",
            "9007199254740993",
            "-9007199254740993",
            "18446744073709551615",
            "18446744073709551616",
            "-9223372036854775809",
            "123456789012345678901234567890",
            "1234567890123456789012345678901234567890e-20",
            "-0",
            "-0.0",
            "0.30000000000000001",
            "699.5",
            "6.995e2",
            "6995E-1",
            "1500",
            "1500.0",
            "1.5e3",
            "4.9e-324",
            "1.7976931348623157e308",
            "1e-7",
            "00",
            "1.",
            ".5",
            "+1",
            "0x10",
            "NaN",
            "Infinity",
        ])
        .prop_map(str::to_string),
        any::<f64>()
            .prop_filter("finite", |f| f.is_finite())
            .prop_map(|f| format!("{f:e}")),
        any::<i128>().prop_map(|n| n.to_string()),
    ]
}

/// `value` with the value at `pointer` replaced by the JSON text `replacement`, as text
/// (a placeholder string is put there and then replaced: the text may be anything).
fn with_text_at(value: &Value, pointer: &str, replacement: &str) -> Vec<u8> {
    const PLACEHOLDER: &str = "\"__hallmark_fuzz_placeholder__\"";
    let mut v = value.clone();
    *v.pointer_mut(pointer).unwrap() = json!("__hallmark_fuzz_placeholder__");
    serde_json::to_string(&v)
        .unwrap()
        .replacen(PLACEHOLDER, replacement, 1)
        .into_bytes()
}

/// JSON text of `value` in which the object at `pointer` has, after its members, one more
/// member named like its `which`-th member (a duplicate name) with the value `extra`.
fn with_duplicate(
    value: &Value,
    pointer: &str,
    which: prop::sample::Index,
    extra: &Value,
) -> Vec<u8> {
    let object = value.pointer(pointer).and_then(Value::as_object).unwrap();
    let name = object
        .keys()
        .nth(which.index(object.len()))
        .unwrap()
        .clone();
    let mut text = serde_json::to_string(object).unwrap();
    text.pop(); // the closing brace
    text.push(',');
    text.push_str(&serde_json::to_string(&name).unwrap());
    text.push(':');
    text.push_str(&serde_json::to_string(extra).unwrap());
    text.push('}');
    with_text_at(value, pointer, &text)
}

fn nested(depth: usize, object: bool) -> String {
    if object {
        format!("{}1{}", "{\"a\":".repeat(depth), "}".repeat(depth))
    } else {
        format!("{}1{}", "[".repeat(depth), "]".repeat(depth))
    }
}

proptest! {
    #![proptest_config(config())]

    /// Arbitrary bytes, under arbitrary options: a report, no panic, never valid.
    #[test]
    fn arbitrary_bytes(
        bytes in prop::collection::vec(any::<u8>(), 0..1024),
        now in prop::option::of(0i64..4_000_000_000),
        any_issuer in any::<bool>(),
        domain in prop::option::of("[a-z.]{0,12}"),
        challenge in prop::option::of("[a-z0-9]{0,12}"),
    ) {
        let options = VerifyOptions {
            now: now.map(|s| time::OffsetDateTime::from_unix_timestamp(s).unwrap()),
            issuer_policy: if any_issuer { IssuerPolicy::Any } else { IssuerPolicy::MustBeController },
            expected_domain: domain,
            expected_challenge: challenge,
            ..VerifyOptions::default()
        };
        prop_assert!(!run(&bytes, &options).is_valid());
    }

    /// Three base64url parts of arbitrary bytes, and of arbitrary JSON: never valid.
    #[test]
    fn arbitrary_jws(
        h in prop::collection::vec(any::<u8>(), 0..64),
        p in prop::collection::vec(any::<u8>(), 0..256),
        s in prop::collection::vec(any::<u8>(), 0..80),
        header in arb_json(),
        payload in arb_json(),
    ) {
        let raw = format!("{}.{}.{}", b64(&h), b64(&p), b64(&s));
        prop_assert!(!run(raw.as_bytes(), &VerifyOptions::default()).is_valid());
        let json = format!(
            "{}.{}.{}",
            b64(&serde_json::to_vec(&header).unwrap()),
            b64(&serde_json::to_vec(&payload).unwrap()),
            b64(&s)
        );
        prop_assert!(!run(json.as_bytes(), &VerifyOptions::default()).is_valid());
    }

    /// Arbitrary JSON values, alone and as the credential's subject or proof.
    #[test]
    fn arbitrary_json(v in arb_json(), at in any::<prop::sample::Index>()) {
        assert_di_sound(&serde_json::to_vec(&v).unwrap())?;
        let f = fixture();
        let pointer = &f.pointers[at.index(f.pointers.len())];
        let mut mutated = f.value.clone();
        *mutated.pointer_mut(pointer).unwrap() = v;
        assert_di_sound(&serde_json::to_vec(&mutated).unwrap())?;
    }

    /// Byte edits of the signed Data Integrity credential.
    #[test]
    fn edited_data_integrity_bytes(edits in prop::collection::vec(edit(), 1..4)) {
        let mut bytes = fixture().di.clone();
        for e in &edits {
            apply(&mut bytes, e);
        }
        assert_di_sound(&bytes)?;
    }

    /// Byte edits of the signed `vc+jwt`.
    #[test]
    fn edited_jwt_bytes(edits in prop::collection::vec(edit(), 1..4)) {
        let mut bytes = fixture().jwt.clone().into_bytes();
        for e in &edits {
            apply(&mut bytes, e);
        }
        assert_jwt_sound(&bytes)?;
    }

    /// A value at a random path (document or proof) replaced by a variant of itself: a string
    /// grown by a character, a number moved by one, a member removed, an item added.
    #[test]
    fn nudged_values(at in any::<prop::sample::Index>(), c in any::<char>()) {
        let f = fixture();
        let pointer = &f.pointers[at.index(f.pointers.len())];
        let mut mutated = f.value.clone();
        let target = mutated.pointer_mut(pointer).unwrap();
        match target {
            Value::String(s) => s.push(c),
            Value::Number(n) => {
                *target = match n.as_i64() {
                    Some(i) => json!(i + 1),
                    None => json!(n.as_f64().unwrap() * 1.000_001),
                }
            }
            Value::Bool(b) => *b = !*b,
            Value::Null => *target = json!(0),
            Value::Array(a) => a.push(Value::Null),
            Value::Object(m) => {
                let first = m.keys().next().cloned();
                if let Some(k) = first {
                    m.remove(&k);
                } else {
                    m.insert(c.to_string(), Value::Null);
                }
            }
        }
        assert_di_sound(&serde_json::to_vec(&mutated).unwrap())?;
    }

    /// Number literals at a random path: overflow, underflow, beyond 2^53, spelling variants
    /// of the same double (which keep the credential valid where the number was), non-JSON.
    #[test]
    fn number_literals(at in any::<prop::sample::Index>(), literal in number_literal()) {
        let f = fixture();
        let pointer = &f.pointers[at.index(f.pointers.len())];
        assert_di_sound(&with_text_at(&f.value, pointer, &literal))?;
    }

    /// The same string written with escapes (`\u0041` for `A`, `\/` for `/`): the canonical
    /// form, so the verdict, is unchanged.
    #[test]
    fn escaped_spellings(at in any::<prop::sample::Index>()) {
        let f = fixture();
        let pointer = &f.pointers[at.index(f.pointers.len())];
        let Some(s) = f.value.pointer(pointer).and_then(Value::as_str) else {
            return Ok(());
        };
        let mut text = String::from("\"");
        for ch in s.chars() {
            match ch {
                '/' => text.push_str("\\/"),
                c if (c as u32) < 0x10000 => text.push_str(&format!("\\u{:04x}", c as u32)),
                c => text.push(c),
            }
        }
        text.push('"');
        let input = with_text_at(&f.value, pointer, &text);
        prop_assert!(run(&input, &VerifyOptions::default()).is_valid());
        assert_di_sound(&input)?;
    }

    /// A duplicate member name in any object of the credential or its proof: refused as not
    /// well-formed, whatever the duplicate's value (even the same one).
    #[test]
    fn duplicate_names(
        at in any::<prop::sample::Index>(),
        which in any::<prop::sample::Index>(),
        same in any::<bool>(),
        extra in arb_json(),
    ) {
        let f = fixture();
        let pointer = &f.objects[at.index(f.objects.len())];
        let extra = if same {
            let object = f.value.pointer(pointer).and_then(Value::as_object).unwrap();
            object.values().nth(which.index(object.len())).unwrap().clone()
        } else {
            extra
        };
        let input = if pointer.is_empty() {
            // The root: append the duplicate to the whole document.
            let mut text = String::from_utf8(f.di.clone()).unwrap();
            let name = f.value.as_object().unwrap().keys().nth(which.index(f.value.as_object().unwrap().len())).unwrap();
            text.pop();
            text.push_str(&format!(",{}:{}}}", serde_json::to_string(name).unwrap(), serde_json::to_string(&extra).unwrap()));
            text.into_bytes()
        } else {
            with_duplicate(&f.value, pointer, which, &extra)
        };
        let report = run(&input, &VerifyOptions::default());
        prop_assert!(!report.is_valid());
        prop_assert!(matches!(report.check("well-formed"), Some(Outcome::Fail(m)) if m.contains("duplicate")), "{}", report);
    }

    /// Deep nesting at a random path, up to well beyond serde_json's recursion limit (128):
    /// refused without overflowing the stack.
    #[test]
    fn deep_nesting(at in any::<prop::sample::Index>(), depth in 1usize..400, object in any::<bool>()) {
        let f = fixture();
        let pointer = &f.pointers[at.index(f.pointers.len())];
        assert_di_sound(&with_text_at(&f.value, pointer, &nested(depth, object)))?;
    }

    /// Proof arrays (proof sets): copies of the proof, some of them altered, with or without
    /// ids and `previousProof`. Valid exactly when the array is not empty and every proof in
    /// it is the original, unaltered one.
    #[test]
    fn proof_arrays(
        entries in prop::collection::vec((any::<bool>(), any::<prop::sample::Index>(), arb_json()), 0..4),
        ids in any::<bool>(),
        chain in any::<bool>(),
    ) {
        let f = fixture();
        let original = f.value["proof"].clone();
        let proof_keys: Vec<String> = original.as_object().unwrap().keys().cloned().collect();
        let mut altered_any = false;
        let mut proofs = Vec::new();
        for (i, (alter, which, v)) in entries.iter().enumerate() {
            let mut p = original.clone();
            if *alter {
                let k = &proof_keys[which.index(proof_keys.len())];
                altered_any |= p[k] != *v;
                p[k] = v.clone();
            }
            if ids {
                p["id"] = json!(format!("urn:uuid:{i}"));
                altered_any = true;
            }
            if chain && i > 0 {
                p["previousProof"] = json!(format!("urn:uuid:{}", i - 1));
                altered_any = true;
            }
            proofs.push(p);
        }
        let mut v = f.value.clone();
        v["proof"] = Value::Array(proofs.clone());
        let report = run(&serde_json::to_vec(&v).unwrap(), &VerifyOptions::default());
        let expected = !proofs.is_empty() && !altered_any;
        prop_assert_eq!(report.is_valid(), expected, "{}", report);
    }

    /// The `vc+jwt` with its payload replaced by a variant of the credential (the signature
    /// kept): valid only when the payload is the signed one, byte for byte.
    #[test]
    fn jwt_payload_replaced(at in any::<prop::sample::Index>(), v in arb_json()) {
        let f = fixture();
        let parts: Vec<&str> = f.jwt.split('.').collect();
        let payload = base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(parts[1]).unwrap();
        let mut doc: Value = serde_json::from_slice(&payload).unwrap();
        let mut pointers = Vec::new();
        collect(&doc, String::new(), &mut pointers, &mut Vec::new());
        let pointer = &pointers[at.index(pointers.len())];
        *doc.pointer_mut(pointer).unwrap() = v;
        let forged = format!("{}.{}.{}", parts[0], b64(&serde_json::to_vec(&doc).unwrap()), parts[2]);
        assert_jwt_sound(forged.as_bytes())?;
    }
}

/// 100,000 opening brackets (and braces) in every place the verifier parses JSON: the Data
/// Integrity credential, its subject, the JWS header and payload. serde_json's recursion
/// limit (128) holds on the verify path: a failed `well-formed` check, no stack overflow.
#[test]
fn very_deep_nesting_is_refused_without_overflow() {
    let f = fixture();
    let deep_arrays = "[".repeat(100_000);
    let deep_objects = "{\"a\":".repeat(100_000);
    let mut inputs: Vec<Vec<u8>> = vec![
        deep_arrays.clone().into_bytes(),
        deep_objects.clone().into_bytes(),
        format!("{deep_arrays}{}", "]".repeat(100_000)).into_bytes(),
        with_text_at(&f.value, "/credentialSubject", &deep_arrays),
        with_text_at(&f.value, "/proof", &nested(100_000, true)),
    ];
    let parts: Vec<&str> = f.jwt.split('.').collect();
    for text in [&deep_arrays, &deep_objects] {
        inputs.push(format!("{}.{}.{}", parts[0], b64(text.as_bytes()), parts[2]).into_bytes());
        inputs.push(format!("{}.{}.{}", b64(text.as_bytes()), parts[1], parts[2]).into_bytes());
    }
    for input in inputs {
        let report = run(&input, &VerifyOptions::default());
        assert!(!report.is_valid());
        assert!(
            matches!(report.check("well-formed"), Some(Outcome::Fail(m)) if m.contains("recursion limit")),
            "{report}"
        );
    }
    // Within the limit, nesting is fine: 100 levels in the subject parse, and only the
    // signature fails.
    let input = with_text_at(&f.value, "/credentialSubject/flags", &nested(100, false));
    let report = run(&input, &VerifyOptions::default());
    assert!(
        matches!(report.check("well-formed"), Some(Outcome::Pass(_))),
        "{report}"
    );
    assert!(
        matches!(report.check("signature"), Some(Outcome::Fail(_))),
        "{report}"
    );
}

/// The proofValue decoder's fast path (`five8`) accepts exactly what `bs58` decodes to 64
/// bytes, with the same bytes, and a refused proofValue keeps its error.
#[test]
fn proof_value_decoding_agrees_with_bs58() {
    use hallmark_core::keys::decode_signature_multibase;
    let f = fixture();
    let pv = f.value["proof"]["proofValue"].as_str().unwrap().to_string();
    let mut runner = proptest::test_runner::TestRunner::new(config());
    runner
        .run(
            &prop_oneof![
                "[1-9A-HJ-NP-Za-km-z]{0,92}",
                "1{0,70}[1-9A-HJ-NP-Za-km-z]{0,90}",
                prop::collection::vec(any::<u8>(), 0..70)
                    .prop_map(|b| { bs58::encode(b).into_string() }),
                (any::<prop::sample::Index>(), "[0-9A-Za-z]").prop_map(move |(i, c)| {
                    let body = &pv[1..];
                    let i = i.index(body.len());
                    format!("{}{c}{}", &body[..i], &body[i + 1..])
                }),
            ],
            |body| {
                let ours = decode_signature_multibase(&format!("z{body}"));
                let reference = bs58::decode(&body).into_vec();
                match (&ours, &reference) {
                    (Ok(sig), Ok(bytes)) => prop_assert_eq!(&sig.to_bytes()[..], &bytes[..]),
                    (Err(_), Ok(bytes)) => prop_assert_ne!(bytes.len(), 64),
                    (Ok(_), Err(_)) => prop_assert!(false, "{body:?} accepted, bs58 refuses it"),
                    (Err(_), Err(_)) => {}
                }
                Ok(())
            },
        )
        .unwrap();
}

/// A presentation of the fixture credential (embedded) and its `vc+jwt` (enveloped), signed
/// by a did:key holder with a challenge and a domain; as stored (JCS bytes) and parsed.
fn presentation_fixture() -> &'static (Vec<u8>, Value) {
    use hallmark_core::credential::{ProofExtras, ProofOptions};
    use hallmark_core::did_key::DidKey;
    use hallmark_core::presentation::{sign_presentation, Contained, UnsignedPresentation};
    static VP: OnceLock<(Vec<u8>, Value)> = OnceLock::new();
    VP.get_or_init(|| {
        let f = fixture();
        let holder = SigningKey::from_bytes(&[9; 32]);
        let did = DidKey::of(&holder.verifying_key());
        let unsigned = UnsignedPresentation {
            id: Some("urn:uuid:0193a3c4-0000-7000-8000-00000000f022".into()),
            holder: Some(did.as_str().into()),
            credentials: vec![
                Contained::Embedded(f.value.as_object().unwrap().clone()),
                Contained::Enveloped(f.jwt.clone()),
            ],
        }
        .to_value();
        let signed = sign_presentation(
            &unsigned,
            &ProofOptions {
                verification_method: did.method_id(),
                created: "2026-11-02T10:00:00Z".into(),
            },
            &ProofExtras {
                challenge: Some("c-22".into()),
                domain: Some(json!("verifier.example")),
                ..ProofExtras::default()
            },
            &holder,
        )
        .unwrap();
        let bytes = jcs::canonicalize(&signed).unwrap();
        let report = run_presentation(&bytes);
        assert_eq!(
            report.verdict(),
            hallmark_core::verify::Verdict::Valid,
            "{report}"
        );
        (bytes, signed)
    })
}

/// Verify a presentation (the holder's did:key, the fixture's DID document for the
/// credentials) expecting the fixture's challenge and domain; display and serialise it.
fn run_presentation(input: &[u8]) -> hallmark_core::presentation::PresentationReport {
    let f = fixture();
    let docs = [f.did_document.clone()];
    let report = hallmark_core::presentation::verify_presentation(
        input,
        &Resolver::with_documents(&docs).and_did_key(),
        &VerifyOptions {
            expected_challenge: Some("c-22".into()),
            expected_domain: Some("verifier.example".into()),
            ..VerifyOptions::default()
        },
    );
    let _ = report.to_string();
    let _ = serde_json::to_string(&report).unwrap();
    report
}

/// The soundness of a presentation's verdict: valid exactly when the input's canonical form
/// is the signed presentation's (every credential in it being the fixture's, unchanged).
fn assert_presentation_sound(input: &[u8]) -> Result<(), TestCaseError> {
    let (signed, _) = presentation_fixture();
    let report = run_presentation(input);
    let same = canonical_of(input).is_some_and(|c| c == *signed);
    prop_assert_eq!(
        report.verdict() == hallmark_core::verify::Verdict::Valid,
        same,
        "input:\n{}\nreport:\n{}",
        String::from_utf8_lossy(input),
        report
    );
    Ok(())
}

proptest! {
    #![proptest_config(config())]

    /// The presentation entry point: arbitrary bytes and JSON never panic or verify.
    #[test]
    fn presentation_arbitrary_input(bytes in prop::collection::vec(any::<u8>(), 0..512), v in arb_json()) {
        prop_assert!(run_presentation(&bytes).verdict() != hallmark_core::verify::Verdict::Valid);
        assert_presentation_sound(&serde_json::to_vec(&v).unwrap())?;
    }

    /// Byte edits of the signed presentation (its holder proof, and the credentials inside).
    #[test]
    fn presentation_edited_bytes(edits in prop::collection::vec(edit(), 1..4)) {
        let mut bytes = presentation_fixture().0.clone();
        for e in &edits {
            apply(&mut bytes, e);
        }
        assert_presentation_sound(&bytes)?;
    }

    /// Arbitrary JSON put at a random place of the signed presentation.
    #[test]
    fn presentation_replaced_values(v in arb_json(), at in any::<prop::sample::Index>()) {
        let (_, signed) = presentation_fixture();
        let mut pointers = Vec::new();
        let mut objects = Vec::new();
        collect(signed, String::new(), &mut pointers, &mut objects);
        let pointer = &pointers[at.index(pointers.len())];
        let mut mutated = signed.clone();
        *mutated.pointer_mut(pointer).unwrap() = v;
        assert_presentation_sound(&serde_json::to_vec(&mutated).unwrap())?;
    }
}
