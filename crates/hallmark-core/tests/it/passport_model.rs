//! Passport model tests: identifiers, GTIN, Digital Link, granularity, lifecycle, JSON.

use hallmark_core::passport::{
    ComponentReference, Granularity, Gtin, Passport, PassportDraft, PassportError, PassportId,
    PassportStatus, ProductIdentifier, SectorRef, Sha256Digest, MAX_COMPONENTS, MAX_INPUT_BYTES,
};
use proptest::prelude::*;
use serde_json::{json, Value};
use time::macros::datetime;

const T0_MILLIS: u64 = 1_750_000_000_000;

fn sample_id() -> PassportId {
    PassportId::from_parts(T0_MILLIS, [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]).unwrap()
}

fn gtin(s: &str) -> Gtin {
    Gtin::parse(s).unwrap()
}

fn item_product() -> ProductIdentifier {
    ProductIdentifier::new(
        gtin("09506000134352"),
        Some("LOT-7".into()),
        Some("SN0001".into()),
    )
    .unwrap()
}

fn sample_draft() -> PassportDraft {
    PassportDraft {
        product: item_product(),
        granularity: Granularity::Item,
        economic_operator_id: "urn:eori:DE123456789012345".into(),
        facility_id: Some("urn:gln:4012345000009".into()),
        commodity_code: None,
        sector: SectorRef {
            id: "battery".into(),
            schema_version: "1.2.0".into(),
        },
        components: vec![ComponentReference {
            uri: "https://dpp.example.com/passports/cell-1".into(),
            sha256: Sha256Digest::of(b"cell-1"),
        }],
        data: json!({"capacityAh": 50}),
    }
}

fn published_passport() -> Passport {
    let mut p =
        Passport::new_draft(sample_draft(), sample_id(), datetime!(2025-06-15 10:00 UTC)).unwrap();
    p.transition(PassportStatus::Published, datetime!(2025-06-15 11:00 UTC))
        .unwrap();
    p
}

fn passport_json() -> Value {
    serde_json::to_value(published_passport()).unwrap()
}

fn parse_value(v: &Value) -> Result<Passport, PassportError> {
    Passport::from_json_slice(&serde_json::to_vec(v).unwrap())
}

/// Sets (or inserts) the value at a JSON pointer.
fn with(mut v: Value, pointer: &str, new: Value) -> Value {
    if let Some(slot) = v.pointer_mut(pointer) {
        *slot = new;
    } else {
        let (parent, key) = pointer.rsplit_once('/').unwrap();
        v.pointer_mut(parent)
            .unwrap()
            .as_object_mut()
            .unwrap()
            .insert(key.to_owned(), new);
    }
    v
}

fn without(mut v: Value, key: &str) -> Value {
    v.as_object_mut().unwrap().remove(key);
    v
}

// ---------------------------------------------------------------- PassportId

#[test]
fn passport_id_renders_parses_and_exposes_uuid() {
    let id = sample_id();
    let s = id.to_string();
    assert!(s.starts_with("urn:uuid:"));
    assert_eq!(s, s.to_lowercase());
    assert_eq!(PassportId::parse(&s).unwrap(), id);
    assert_eq!(id.uuid().get_version_num(), 7);
    assert_eq!(id.unix_millis(), T0_MILLIS);
    assert_eq!(serde_json::to_value(id).unwrap(), json!(s));
    assert_eq!(serde_json::from_value::<PassportId>(json!(s)).unwrap(), id);
}

#[test]
fn passport_id_sorts_by_time() {
    let a = PassportId::from_parts(1, [0xff; 10]).unwrap();
    let b = PassportId::from_parts(2, [0; 10]).unwrap();
    assert!(a < b);
}

#[test]
fn passport_id_rejects_bad_input() {
    let v7 = sample_id().uuid().hyphenated().to_string();
    assert!(matches!(
        PassportId::parse(&v7),
        Err(PassportError::PassportIdPrefix { .. })
    ));
    assert!(matches!(
        PassportId::parse(&format!("URN:UUID:{v7}")),
        Err(PassportError::PassportIdPrefix { .. })
    ));
    assert!(matches!(
        PassportId::parse(&format!("urn:uuid:{}", v7.to_uppercase())),
        Err(PassportError::PassportIdMalformed { .. })
    ));
    assert!(matches!(
        PassportId::parse("urn:uuid:1234"),
        Err(PassportError::PassportIdMalformed { .. })
    ));
    assert!(matches!(
        PassportId::parse("urn:uuid:zzzzzzzz-zzzz-7zzz-8zzz-zzzzzzzzzzzz"),
        Err(PassportError::PassportIdMalformed { .. })
    ));
    // A valid UUIDv4.
    assert_eq!(
        PassportId::parse("urn:uuid:f47ac10b-58cc-4372-a567-0e02b2c3d479"),
        Err(PassportError::PassportIdNotV7 { version: 4 })
    );
    // Version 7 nibble but NCS variant.
    assert_eq!(
        PassportId::parse("urn:uuid:01890a5d-ac96-774b-0cb4-3c7e1a5ad7d4"),
        Err(PassportError::PassportIdNotV7 { version: 0 })
    );
    assert_eq!(
        PassportId::from_parts(1 << 48, [0; 10]),
        Err(PassportError::PassportIdTimestampOutOfRange { millis: 1 << 48 })
    );
    assert!(PassportId::from_parts((1 << 48) - 1, [0; 10]).is_ok());
}

// ---------------------------------------------------------------- GTIN

#[test]
fn gtin_real_vectors_normalise_to_14_digits() {
    for (input, gtin14) in [
        ("09506000134352", "09506000134352"),
        ("4006381333931", "04006381333931"),
        ("036000291452", "00036000291452"),
        ("96385074", "00000096385074"),
        ("9506000134352", "09506000134352"),
    ] {
        let g = gtin(input);
        assert_eq!(g.as_gtin14(), gtin14, "{input}");
        assert_eq!(g.to_string(), gtin14);
        assert_eq!(serde_json::to_value(g).unwrap(), json!(gtin14));
        assert_eq!(serde_json::from_value::<Gtin>(json!(input)).unwrap(), g);
    }
}

#[test]
fn gtin_wrong_check_digits_name_the_expected_digit() {
    assert_eq!(
        Gtin::parse("4006381333932"),
        Err(PassportError::GtinCheckDigit {
            expected: 1,
            found: 2
        })
    );
    assert_eq!(
        Gtin::parse("09506000134353"),
        Err(PassportError::GtinCheckDigit {
            expected: 2,
            found: 3
        })
    );
    assert_eq!(
        Gtin::parse("036000291450"),
        Err(PassportError::GtinCheckDigit {
            expected: 2,
            found: 0
        })
    );
    assert_eq!(
        Gtin::parse("96385075"),
        Err(PassportError::GtinCheckDigit {
            expected: 4,
            found: 5
        })
    );
    let msg = Gtin::parse("4006381333932").unwrap_err().to_string();
    assert!(
        msg.contains("check digit is 2") && msg.contains("is 1"),
        "{msg}"
    );
}

#[test]
fn gtin_length_and_character_errors() {
    for len in [0usize, 1, 7, 9, 10, 11, 15, 20] {
        assert_eq!(
            Gtin::parse(&"0".repeat(len)),
            Err(PassportError::GtinLength { len })
        );
    }
    assert_eq!(
        Gtin::parse("40063813339A1"),
        Err(PassportError::GtinNonDigit {
            position: 11,
            character: 'A'
        })
    );
    assert_eq!(
        Gtin::parse(" 4006381333931"),
        Err(PassportError::GtinNonDigit {
            position: 0,
            character: ' '
        })
    );
    assert_eq!(
        Gtin::parse("٤٠٠٦٣٨١٣٣٣٩٣١"),
        Err(PassportError::GtinNonDigit {
            position: 0,
            character: '٤'
        })
    );
    assert!(serde_json::from_value::<Gtin>(json!("123")).is_err());
    assert!(serde_json::from_value::<Gtin>(json!(4006381333931u64)).is_err());
}

// ---------------------------------------------------------------- ProductIdentifier

#[test]
fn product_identifier_validates_lot_and_serial() {
    let g = gtin("4006381333931");
    assert!(ProductIdentifier::new(g, Some("A".repeat(20)), None).is_ok());
    assert!(ProductIdentifier::new(g, None, Some("!\"%&'()*+,-./:;<=>?_".into())).is_ok());
    assert_eq!(
        ProductIdentifier::new(g, Some(String::new()), None),
        Err(PassportError::AiValueLength {
            field: "lot (GS1 AI 10)",
            len: 0
        })
    );
    assert_eq!(
        ProductIdentifier::new(g, None, Some("A".repeat(21))),
        Err(PassportError::AiValueLength {
            field: "serial (GS1 AI 21)",
            len: 21
        })
    );
    // Space, `#`, `~`, non-ASCII and control characters are outside character set 82.
    for (bad, position, character) in [
        ("A/B C", 3, ' '),
        ("AB#1", 2, '#'),
        ("x~", 1, '~'),
        ("é", 0, 'é'),
        ("A\nB", 1, '\n'),
    ] {
        assert_eq!(
            ProductIdentifier::new(g, None, Some(bad.into())),
            Err(PassportError::AiValueCharacter {
                field: "serial (GS1 AI 21)",
                position,
                character
            }),
            "{bad:?}"
        );
    }
}

#[test]
fn product_identifier_wire_form() {
    let p = item_product();
    assert_eq!(
        serde_json::to_value(&p).unwrap(),
        json!({"gtin": "09506000134352", "lot": "LOT-7", "serial": "SN0001"})
    );
    let model = ProductIdentifier::new(gtin("96385074"), None, None).unwrap();
    assert_eq!(
        serde_json::to_value(&model).unwrap(),
        json!({"gtin": "00000096385074"})
    );
    let err = serde_json::from_value::<ProductIdentifier>(json!({"gtin": "96385074", "lott": "x"}))
        .unwrap_err();
    assert!(err.to_string().contains("unknown field `lott`"), "{err}");
}

// ---------------------------------------------------------------- Digital Link

#[test]
fn digital_link_renders_and_percent_encodes() {
    let g = gtin("09506000134352");
    let model = ProductIdentifier::new(g, None, None).unwrap();
    assert_eq!(
        model.digital_link("id.example.com").unwrap(),
        "https://id.example.com/01/09506000134352"
    );
    let p = ProductIdentifier::new(g, Some("L1+2=3?".into()), Some("A/B\"C%".into())).unwrap();
    assert_eq!(
        p.digital_link("id.example.com").unwrap(),
        "https://id.example.com/01/09506000134352/10/L1%2B2%3D3%3F/21/A%2FB%22C%25"
    );
    let serial_only = ProductIdentifier::new(g, None, Some("A/B".into())).unwrap();
    assert_eq!(
        serial_only.digital_link("id.example.com").unwrap(),
        "https://id.example.com/01/09506000134352/21/A%2FB"
    );
}

#[test]
fn element_string_is_the_hri_of_gtin_lot_and_serial() {
    let g = gtin("09506000134352");
    let model = ProductIdentifier::new(g, None, None).unwrap();
    assert_eq!(model.element_string(), "(01)09506000134352");
    let p = ProductIdentifier::new(g, Some("L1".into()), Some("A/B".into())).unwrap();
    assert_eq!(p.element_string(), "(01)09506000134352(10)L1(21)A/B");
    let short = ProductIdentifier::new(gtin("96385074"), None, Some("S".into())).unwrap();
    assert_eq!(short.element_string(), "(01)00000096385074(21)S");
}

#[test]
fn element_strings_parse_back_to_the_identifier() {
    let g = gtin("09506000134352");
    for p in [
        ProductIdentifier::new(g, None, None).unwrap(),
        ProductIdentifier::new(g, Some("L1".into()), None).unwrap(),
        ProductIdentifier::new(g, None, Some("A/B".into())).unwrap(),
        ProductIdentifier::new(g, Some("L(1)".into()), Some("S-1".into())).unwrap(),
    ] {
        assert_eq!(
            ProductIdentifier::parse_element_string(&p.element_string()).unwrap(),
            p
        );
    }
    // GTIN-13 and GTIN-8 are read as the GTIN-14 they are.
    let short = ProductIdentifier::parse_element_string("(01)96385074(21)S").unwrap();
    assert_eq!(short.gtin().as_gtin14(), "00000096385074");
    assert_eq!(short.serial(), Some("S"));
}

#[test]
fn element_strings_that_are_not_a_product_identifier_are_refused() {
    let bad_check = ProductIdentifier::parse_element_string("(01)09506000134353");
    assert!(
        matches!(bad_check, Err(PassportError::GtinCheckDigit { .. })),
        "{bad_check:?}"
    );
    for (hri, says) in [
        (
            "(01)09506000134352(17)270101",
            "unsupported Application Identifier (17)",
        ),
        (
            "(01)09506000134352(10)L1(22)X",
            "unsupported Application Identifier (22)",
        ),
        ("(01)09506000134352(10)", "(10) has no value"),
        ("(01)09506000134352(10)(21)S", "(10) has no value"),
        ("(01)", "(01) has no value"),
        (
            "(01)09506000134352(21)S(10)L",
            "(10) repeated or out of order",
        ),
        (
            "(01)09506000134352(01)09506000134352",
            "(01) repeated or out of order",
        ),
        ("09506000134352", "must start with `(01)`"),
        ("x(01)09506000134352", "must start with `(01)`"),
        ("", "must start with `(01)`"),
    ] {
        match ProductIdentifier::parse_element_string(hri) {
            Err(PassportError::InvalidElementString { reason }) => {
                assert!(reason.contains(says), "{hri}: {reason}")
            }
            other => panic!("{hri}: {other:?}"),
        }
    }
    // A value outside character set 82, or too long, is the qualifiers' own error.
    assert!(matches!(
        ProductIdentifier::parse_element_string("(01)09506000134352(21)A B"),
        Err(PassportError::AiValueCharacter { .. })
    ));
    assert!(matches!(
        ProductIdentifier::parse_element_string("(01)09506000134352(10)123456789012345678901"),
        Err(PassportError::AiValueLength { .. })
    ));
}

#[test]
fn digital_link_serial_with_space_is_not_a_gs1_value() {
    // The brief's example `A/B C` contains a space, which GS1 character set 82 does not
    // allow; such a serial is rejected before any Digital Link is rendered.
    let err =
        ProductIdentifier::new(gtin("09506000134352"), None, Some("A/B C".into())).unwrap_err();
    assert!(matches!(
        err,
        PassportError::AiValueCharacter { character: ' ', .. }
    ));
    // Inbound, a %20 decodes to a space and is rejected the same way.
    let err = ProductIdentifier::parse_digital_link(
        "https://id.example.com/01/09506000134352/21/A%2FB%20C",
    )
    .unwrap_err();
    assert!(matches!(
        err,
        PassportError::AiValueCharacter { character: ' ', .. }
    ));
}

#[test]
fn digital_link_resolver_forms() {
    let p = ProductIdentifier::new(gtin("4006381333931"), Some("B1".into()), None).unwrap();
    let ok = [
        ("id.example.com", "https://id.example.com"),
        ("ID.Example.COM/", "https://id.example.com"),
        ("https://id.example.com", "https://id.example.com"),
        (
            "HTTPS://id.example.com:8443/dpp/v1/",
            "https://id.example.com:8443/dpp/v1",
        ),
        ("example.com/resolve", "https://example.com/resolve"),
        ("http://localhost:8080", "http://localhost:8080"),
        ("http://127.0.0.1/x", "http://127.0.0.1/x"),
    ];
    for (resolver, base) in ok {
        assert_eq!(
            p.digital_link(resolver).unwrap(),
            format!("{base}/01/04006381333931/10/B1"),
            "{resolver}"
        );
    }
    for bad in [
        "",
        "http://id.example.com",
        "ftp://id.example.com",
        "https://",
        "https://user@id.example.com",
        "https://id.example.com/?q=1",
        "https://id.example.com/#f",
        "https://id.example.com/01",
        "https://id.example.com/a//b",
        "https://id.example.com/a/../b",
        "https://id.example.com/a b",
        "https://id.example.com:0",
        "https://id.example.com:99999",
        "https://id.example.com:",
        "https://-bad-.example.com",
        "https://[::1]/",
        "https://exa_mple.com",
        "https://id.example.com/p%20q",
    ] {
        assert!(
            matches!(
                p.digital_link(bad),
                Err(PassportError::InvalidResolver { .. })
            ),
            "{bad:?} should be rejected"
        );
    }
}

#[test]
fn digital_link_parse_round_trips_and_normalises() {
    let g = gtin("09506000134352");
    let cases = [
        ProductIdentifier::new(g, None, None).unwrap(),
        ProductIdentifier::new(g, Some("10".into()), None).unwrap(),
        ProductIdentifier::new(g, None, Some("21".into())).unwrap(),
        ProductIdentifier::new(g, Some("21".into()), Some("10".into())).unwrap(),
        ProductIdentifier::new(g, Some("L1+2=3?".into()), Some("A/B\"C%".into())).unwrap(),
    ];
    for p in cases {
        for resolver in [
            "id.example.com",
            "https://example.com/resolve/dpp",
            "http://localhost:3000",
        ] {
            let uri = p.digital_link(resolver).unwrap();
            assert_eq!(
                ProductIdentifier::parse_digital_link(&uri).unwrap(),
                p,
                "{uri}"
            );
        }
    }
    // GTIN-13 in the URI, lowercase escapes, unencoded sub-delims, query and fragment.
    let parsed = ProductIdentifier::parse_digital_link(
        "HTTPS://id.gs1.org/01/9506000134352/10/AB%2fc/21/x!y?17=261231#top",
    )
    .unwrap();
    assert_eq!(parsed.gtin().as_gtin14(), "09506000134352");
    assert_eq!(parsed.lot(), Some("AB/c"));
    assert_eq!(parsed.serial(), Some("x!y"));
}

#[test]
fn digital_link_parse_errors() {
    let dl = |s: &str| ProductIdentifier::parse_digital_link(s);
    for bad in [
        "id.example.com/01/09506000134352",
        "https://id.example.com",
        "https://id.example.com/gtin/09506000134352",
        "https://id.example.com/01",
        "https://id.example.com/01/09506000134352/10",
        "https://id.example.com/01/09506000134352/21/S/10/L",
        "https://id.example.com/01/09506000134352/22/V/10/L",
        "https://id.example.com/01/09506000134352/10/L/",
        "https://id.example.com/01/09506000134352/10/L%2",
        "https://id.example.com/01/09506000134352/10/L%zz",
        "https://id.example.com/01/09506000134352/10/L\"",
    ] {
        assert!(
            matches!(dl(bad), Err(PassportError::InvalidDigitalLink { .. })),
            "{bad:?}: {:?}",
            dl(bad)
        );
    }
    assert!(matches!(
        dl("http://id.example.com/01/09506000134352"),
        Err(PassportError::InvalidResolver { .. })
    ));
    assert!(matches!(
        dl("https://id.example.com/01/09506000134353"),
        Err(PassportError::GtinCheckDigit { .. })
    ));
    assert!(matches!(
        dl("https://id.example.com/01/09506000134352/10/%C3%A9"),
        Err(PassportError::AiValueCharacter { .. })
    ));
    assert!(matches!(
        dl("https://id.example.com/01/09506000134352/10/%FF"),
        Err(PassportError::InvalidDigitalLink { .. })
    ));
}

// ---------------------------------------------------------------- Granularity

#[test]
fn granularity_matrix() {
    let g = gtin("4006381333931");
    let none = ProductIdentifier::new(g, None, None).unwrap();
    let lot = ProductIdentifier::new(g, Some("L".into()), None).unwrap();
    let serial = ProductIdentifier::new(g, None, Some("S".into())).unwrap();
    let both = ProductIdentifier::new(g, Some("L".into()), Some("S".into())).unwrap();
    use Granularity::{Batch, Item, Model};
    let table = [
        (Model, &none, true),
        (Model, &lot, false),
        (Model, &serial, false),
        (Model, &both, false),
        (Batch, &none, false),
        (Batch, &lot, true),
        (Batch, &serial, false),
        (Batch, &both, false),
        (Item, &none, false),
        (Item, &lot, false),
        (Item, &serial, true),
        (Item, &both, true),
    ];
    for (granularity, product, ok) in table {
        assert_eq!(
            granularity.check(product).is_ok(),
            ok,
            "{granularity} {product:?}"
        );
        if ok {
            assert_eq!(product.implied_granularity(), granularity);
        }
        // Construction enforces it ...
        let draft = PassportDraft {
            product: product.clone(),
            granularity,
            ..sample_draft()
        };
        let built = Passport::new_draft(draft.clone(), sample_id(), datetime!(2025-01-01 0:00 UTC));
        assert_eq!(built.is_ok(), ok);
        if let Err(e) = built {
            assert!(
                matches!(e, PassportError::GranularityMismatch { .. }),
                "{e}"
            );
        }
        // ... and so does deserialisation, of drafts and of passports.
        let draft_json = serde_json::to_vec(&draft).unwrap();
        assert_eq!(PassportDraft::from_json_slice(&draft_json).is_ok(), ok);
        let v = with(
            with(
                passport_json(),
                "/uniqueProductIdentifier",
                serde_json::to_value(product).unwrap(),
            ),
            "/granularity",
            json!(granularity.as_str()),
        );
        assert_eq!(parse_value(&v).is_ok(), ok);
        assert_eq!(serde_json::from_value::<Passport>(v).is_ok(), ok);
    }
}

// ---------------------------------------------------------------- Status

#[test]
fn status_transitions_all_25_pairs() {
    use PassportStatus::{Archived, Deactivated, Draft, Published, Suspended};
    let allowed = [
        (Draft, Published),
        (Published, Suspended),
        (Suspended, Published),
        (Published, Archived),
        (Published, Deactivated),
        (Suspended, Archived),
        (Suspended, Deactivated),
    ];
    let mut count = 0;
    for from in PassportStatus::ALL {
        for to in PassportStatus::ALL {
            count += 1;
            assert_eq!(
                from.can_transition_to(to),
                allowed.contains(&(from, to)),
                "{from} -> {to}"
            );
        }
        assert_eq!(from.is_terminal(), matches!(from, Archived | Deactivated));
        if from.is_terminal() {
            assert!(PassportStatus::ALL
                .iter()
                .all(|to| !from.can_transition_to(*to)));
        }
        assert_eq!(serde_json::to_value(from).unwrap(), json!(from.as_str()));
        assert_eq!(from.as_str().parse::<PassportStatus>().unwrap(), from);
    }
    assert_eq!(count, 25);
}

#[test]
fn transition_sets_timestamps_and_refuses_illegal_moves() {
    let mut p = Passport::new_draft(
        sample_draft(),
        sample_id(),
        datetime!(2025-06-15 12:00 +02:00),
    )
    .unwrap();
    assert_eq!(p.status, PassportStatus::Draft);
    assert_eq!(p.version, 1);
    assert_eq!(p.created_at, datetime!(2025-06-15 10:00 UTC));
    assert_eq!(p.created_at.offset(), time::UtcOffset::UTC);
    assert_eq!(p.published_at, None);

    assert_eq!(
        p.transition(PassportStatus::Archived, datetime!(2025-06-16 0:00 UTC)),
        Err(PassportError::InvalidTransition {
            from: "draft",
            to: "archived"
        })
    );
    assert!(matches!(
        p.transition(PassportStatus::Published, datetime!(2025-06-14 0:00 UTC)),
        Err(PassportError::TimestampOrder { .. })
    ));
    p.transition(PassportStatus::Published, datetime!(2025-06-16 0:00 UTC))
        .unwrap();
    p.transition(PassportStatus::Suspended, datetime!(2025-06-17 0:00 UTC))
        .unwrap();
    p.transition(PassportStatus::Published, datetime!(2025-06-18 0:00 UTC))
        .unwrap();
    assert_eq!(p.published_at, Some(datetime!(2025-06-16 0:00 UTC)));
    assert_eq!(p.updated_at, datetime!(2025-06-18 0:00 UTC));
    p.transition(PassportStatus::Deactivated, datetime!(2025-06-19 0:00 UTC))
        .unwrap();
    assert!(p
        .transition(PassportStatus::Published, datetime!(2025-06-20 0:00 UTC))
        .is_err());
    assert_eq!(p.version, 1);
}

// ---------------------------------------------------------------- Digest

#[test]
fn sha256_digest_hex_and_errors() {
    let d = Sha256Digest::of(b"abc");
    let hex = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad";
    assert_eq!(d.to_hex(), hex);
    assert_eq!(Sha256Digest::from_hex(hex).unwrap(), d);
    assert_eq!(serde_json::to_value(d).unwrap(), json!(hex));
    assert_eq!(
        serde_json::from_value::<Sha256Digest>(json!(hex)).unwrap(),
        d
    );
    assert_eq!(
        Sha256Digest::from_hex(&hex.to_uppercase()),
        Err(PassportError::DigestCharacter {
            position: 0,
            character: 'B'
        })
    );
    assert_eq!(
        Sha256Digest::from_hex(&hex[..62]),
        Err(PassportError::DigestLength { len: 62 })
    );
    assert_eq!(
        Sha256Digest::from_hex(&format!("{hex}0")),
        Err(PassportError::DigestLength { len: 65 })
    );
    assert_eq!(
        Sha256Digest::from_hex(&format!("{}g", &hex[..63])),
        Err(PassportError::DigestCharacter {
            position: 63,
            character: 'g'
        })
    );
}

// ---------------------------------------------------------------- JSON

#[test]
fn passport_json_round_trip_with_exact_field_names() {
    let p = published_passport();
    let v = serde_json::to_value(&p).unwrap();
    let keys: Vec<&str> = v.as_object().unwrap().keys().map(String::as_str).collect();
    let mut expected = vec![
        "id",
        "uniqueProductIdentifier",
        "granularity",
        "economicOperatorId",
        "facilityId",
        "sector",
        "status",
        "version",
        "createdAt",
        "updatedAt",
        "publishedAt",
        "components",
        "data",
    ];
    let mut sorted_keys = keys.clone();
    sorted_keys.sort_unstable();
    expected.sort_unstable();
    assert_eq!(sorted_keys, expected);
    assert_eq!(v["id"], json!(sample_id().to_string()));
    assert_eq!(
        v["uniqueProductIdentifier"],
        json!({"gtin": "09506000134352", "lot": "LOT-7", "serial": "SN0001"})
    );
    assert_eq!(v["granularity"], json!("item"));
    assert_eq!(
        v["sector"],
        json!({"id": "battery", "schemaVersion": "1.2.0"})
    );
    assert_eq!(v["status"], json!("published"));
    assert_eq!(v["version"], json!(1));
    assert_eq!(v["createdAt"], json!("2025-06-15T10:00:00Z"));
    assert_eq!(v["updatedAt"], json!("2025-06-15T11:00:00Z"));
    assert_eq!(v["publishedAt"], json!("2025-06-15T11:00:00Z"));
    assert_eq!(
        v["components"],
        json!([{
            "uri": "https://dpp.example.com/passports/cell-1",
            "sha256": Sha256Digest::of(b"cell-1").to_hex()
        }])
    );

    let bytes = serde_json::to_vec(&p).unwrap();
    assert_eq!(Passport::from_json_slice(&bytes).unwrap(), p);
    assert_eq!(serde_json::from_slice::<Passport>(&bytes).unwrap(), p);

    // Drafts omit optional fields and accept explicit nulls for them.
    let draft = Passport::new_draft(
        PassportDraft {
            facility_id: None,
            commodity_code: None,
            ..sample_draft()
        },
        sample_id(),
        datetime!(2025-06-15 10:00 UTC),
    )
    .unwrap();
    let v = serde_json::to_value(&draft).unwrap();
    assert!(v.get("facilityId").is_none() && v.get("publishedAt").is_none());
    let with_nulls = with(
        with(v.clone(), "/facilityId", json!(null)),
        "/publishedAt",
        json!(null),
    );
    assert_eq!(parse_value(&with_nulls).unwrap(), draft);
}

#[test]
fn draft_json_is_parsed_under_the_strict_input_rules() {
    use hallmark_core::input::{InputRefusal, NumberRefusal};
    let text = String::from_utf8(serde_json::to_vec(&sample_draft()).unwrap()).unwrap();
    assert!(PassportDraft::from_json_slice(text.as_bytes()).is_ok());
    let with_data = |data: &str| {
        let v: Value = serde_json::from_str(&text).unwrap();
        let mut t = serde_json::to_string(&v).unwrap();
        let at = t.find("\"data\":").unwrap();
        let end = at + "\"data\":".len();
        let rest_start = end + serde_json::to_string(&v["data"]).unwrap().len();
        t.replace_range(end..rest_start, data);
        PassportDraft::from_json_slice(t.as_bytes())
    };
    assert!(with_data(r#"{"n":1.5e300,"m":9007199254740991}"#).is_ok());
    assert_eq!(
        with_data(r#"{"x":1,"x":2}"#),
        Err(PassportError::Refused(InputRefusal::DuplicateMember {
            pointer: "/data/x".into()
        }))
    );
    assert_eq!(
        with_data(r#"{"x":[1e-400]}"#),
        Err(PassportError::Refused(InputRefusal::Number {
            pointer: "/data/x/0".into(),
            reason: NumberRefusal::Underflow
        }))
    );
    assert_eq!(
        with_data(r#"{"x":"a\u0000"}"#),
        Err(PassportError::Refused(InputRefusal::Nul {
            pointer: "/data/x".into()
        }))
    );
}

#[test]
fn draft_json_components_default_to_empty() {
    let v = without(serde_json::to_value(sample_draft()).unwrap(), "components");
    let d = PassportDraft::from_json_slice(&serde_json::to_vec(&v).unwrap()).unwrap();
    assert!(d.components.is_empty());
    // A passport, unlike a draft, must list its components.
    assert_eq!(
        parse_value(&without(passport_json(), "components")),
        Err(PassportError::MissingField {
            path: "components".into()
        })
    );
    // Node-assigned fields are unknown in a draft.
    let v = with(
        serde_json::to_value(sample_draft()).unwrap(),
        "/data",
        json!({}),
    );
    let mut v = v;
    v["status"] = json!("published");
    assert_eq!(
        PassportDraft::from_json_slice(&serde_json::to_vec(&v).unwrap()),
        Err(PassportError::UnknownField {
            path: "status".into()
        })
    );
}

#[test]
fn json_size_syntax_and_truncation_errors() {
    let big = vec![b' '; MAX_INPUT_BYTES + 1];
    assert_eq!(
        Passport::from_json_slice(&big),
        Err(PassportError::InputTooLarge {
            len: MAX_INPUT_BYTES + 1,
            max: MAX_INPUT_BYTES
        })
    );
    let bytes = serde_json::to_vec(&passport_json()).unwrap();
    for cut in [1, bytes.len() / 2, bytes.len() - 1] {
        assert!(
            matches!(
                Passport::from_json_slice(&bytes[..cut]),
                Err(PassportError::JsonTruncated { .. })
            ),
            "cut at {cut}"
        );
    }
    assert!(matches!(
        Passport::from_json_slice(b""),
        Err(PassportError::JsonTruncated { .. })
    ));
    assert!(matches!(
        Passport::from_json_slice(b"{\"id\": nope}"),
        Err(PassportError::JsonSyntax { line: 1, .. })
    ));
    assert!(matches!(
        Passport::from_json_slice(b"{} trailing"),
        Err(PassportError::JsonSyntax { .. })
    ));
    let deep = format!("{}{}", "[".repeat(200), "]".repeat(200));
    assert!(matches!(
        Passport::from_json_slice(deep.as_bytes()),
        Err(PassportError::JsonSyntax { .. })
    ));
    assert_eq!(
        Passport::from_json_slice(b"[]"),
        Err(PassportError::WrongType {
            path: "$".into(),
            expected: "an object",
            found: "an array"
        })
    );
}

#[test]
fn json_structure_errors_name_the_field() {
    let base = passport_json();
    let cases: Vec<(Value, PassportError)> = vec![
        (
            with(base.clone(), "/version", json!("1")),
            PassportError::WrongType {
                path: "version".into(),
                expected: "an integer between 0 and 4294967295",
                found: "a string",
            },
        ),
        (
            with(base.clone(), "/version", json!(-1)),
            PassportError::WrongType {
                path: "version".into(),
                expected: "an integer between 0 and 4294967295",
                found: "a number",
            },
        ),
        (
            with(base.clone(), "/economicOperatorId", json!(42)),
            PassportError::WrongType {
                path: "economicOperatorId".into(),
                expected: "a string",
                found: "a number",
            },
        ),
        (
            with(base.clone(), "/sector", json!("battery")),
            PassportError::WrongType {
                path: "sector".into(),
                expected: "an object",
                found: "a string",
            },
        ),
        (
            with(base.clone(), "/components", json!({})),
            PassportError::WrongType {
                path: "components".into(),
                expected: "an array",
                found: "an object",
            },
        ),
        (
            with(base.clone(), "/components/0/sha256", json!(true)),
            PassportError::WrongType {
                path: "components[0].sha256".into(),
                expected: "a string",
                found: "a boolean",
            },
        ),
        (
            with(base.clone(), "/data", json!([1])),
            PassportError::WrongType {
                path: "data".into(),
                expected: "an object",
                found: "an array",
            },
        ),
        (
            without(base.clone(), "sector"),
            PassportError::MissingField {
                path: "sector".into(),
            },
        ),
        (
            with(
                base.clone(),
                "/uniqueProductIdentifier",
                json!({"lot": "L"}),
            ),
            PassportError::MissingField {
                path: "uniqueProductIdentifier.gtin".into(),
            },
        ),
        (
            with(base.clone(), "/extra", json!(1)),
            PassportError::UnknownField {
                path: "extra".into(),
            },
        ),
        (
            with(base.clone(), "/sector/schema_version", json!("1")),
            PassportError::UnknownField {
                path: "sector.schema_version".into(),
            },
        ),
        (
            with(base.clone(), "/components/0/size", json!(1)),
            PassportError::UnknownField {
                path: "components[0].size".into(),
            },
        ),
        (
            with(base.clone(), "/uniqueProductIdentifier/ai22", json!("x")),
            PassportError::UnknownField {
                path: "uniqueProductIdentifier.ai22".into(),
            },
        ),
        (
            with(base.clone(), "/status", json!("PUBLISHED")),
            PassportError::InvalidEnumValue {
                path: "status".into(),
                value: "PUBLISHED".into(),
                expected: "`draft`, `published`, `suspended`, `archived`, `deactivated`",
            },
        ),
        (
            with(base.clone(), "/granularity", json!("lot")),
            PassportError::InvalidEnumValue {
                path: "granularity".into(),
                value: "lot".into(),
                expected: "`model`, `batch`, `item`",
            },
        ),
    ];
    for (v, expected) in cases {
        assert_eq!(parse_value(&v), Err(expected.clone()), "{expected}");
        // The serde path reports the same message.
        let err = serde_json::from_value::<Passport>(v).unwrap_err();
        assert!(err.to_string().contains(&expected.to_string()), "{err}");
    }
    assert!(matches!(
        parse_value(&with(base.clone(), "/createdAt", json!("2025-06-15 10:00"))),
        Err(PassportError::InvalidTimestamp { ref path, .. }) if path == "createdAt"
    ));
    assert!(matches!(
        parse_value(&with(
            base.clone(),
            "/id",
            json!("urn:uuid:f47ac10b-58cc-4372-a567-0e02b2c3d479")
        )),
        Err(PassportError::PassportIdNotV7 { version: 4 })
    ));
    assert!(matches!(
        parse_value(&with(
            base.clone(),
            "/uniqueProductIdentifier/gtin",
            json!("09506000134353")
        )),
        Err(PassportError::GtinCheckDigit { .. })
    ));
    assert!(matches!(
        parse_value(&with(base, "/components/0/sha256", json!("ABC"))),
        Err(PassportError::DigestCharacter { .. })
    ));
}

#[test]
fn json_value_bounds_and_invariants() {
    let base = passport_json();
    let component = base["components"][0].clone();
    let cases: Vec<(Value, PassportError)> = vec![
        (
            with(
                base.clone(),
                "/components",
                Value::Array(vec![component.clone(); MAX_COMPONENTS + 1]),
            ),
            PassportError::TooManyComponents {
                count: MAX_COMPONENTS + 1,
                max: MAX_COMPONENTS,
            },
        ),
        (
            with(base.clone(), "/economicOperatorId", json!("x".repeat(257))),
            PassportError::FieldTooLong {
                field: "economicOperatorId".into(),
                len: 257,
                max: 256,
            },
        ),
        (
            with(base.clone(), "/facilityId", json!("")),
            PassportError::EmptyField {
                field: "facilityId".into(),
            },
        ),
        (
            with(base.clone(), "/sector/id", json!("bat\u{7}tery")),
            PassportError::ForbiddenCharacter {
                field: "sector.id".into(),
                position: 3,
                character: '\u{7}',
            },
        ),
        (
            with(
                base.clone(),
                "/sector/schemaVersion",
                json!("v".repeat(300)),
            ),
            PassportError::FieldTooLong {
                field: "sector.schemaVersion".into(),
                len: 300,
                max: 256,
            },
        ),
        (
            with(
                base.clone(),
                "/components/0/uri",
                json!("https://a.example/x y"),
            ),
            PassportError::ForbiddenCharacter {
                field: "components[0].uri".into(),
                position: 19,
                character: ' ',
            },
        ),
        (
            with(base.clone(), "/components/0/uri", json!("/relative/path")),
            PassportError::InvalidUri {
                field: "components[0].uri".into(),
                reason: "missing or malformed scheme",
            },
        ),
        (
            with(base.clone(), "/version", json!(0)),
            PassportError::VersionZero,
        ),
        (
            with(base.clone(), "/updatedAt", json!("2025-06-15T09:00:00Z")),
            PassportError::TimestampOrder {
                earlier: "createdAt",
                later: "updatedAt",
            },
        ),
        (
            with(base.clone(), "/publishedAt", json!("2025-06-15T09:30:00Z")),
            PassportError::TimestampOrder {
                earlier: "createdAt",
                later: "publishedAt",
            },
        ),
        (
            with(base.clone(), "/publishedAt", json!("2025-06-15T12:00:00Z")),
            PassportError::TimestampOrder {
                earlier: "publishedAt",
                later: "updatedAt",
            },
        ),
        (
            without(base.clone(), "publishedAt"),
            PassportError::PublishedAtMismatch {
                status: "published",
                expected: "present",
            },
        ),
        (
            with(base.clone(), "/status", json!("draft")),
            PassportError::PublishedAtMismatch {
                status: "draft",
                expected: "absent",
            },
        ),
        (
            with(
                base.clone(),
                "/uniqueProductIdentifier/serial",
                json!("S".repeat(21)),
            ),
            PassportError::AiValueLength {
                field: "serial (GS1 AI 21)",
                len: 21,
            },
        ),
    ];
    for (v, expected) in cases {
        assert_eq!(parse_value(&v), Err(expected.clone()), "{expected}");
    }
    // Exactly at the bounds is fine.
    let at_bounds = with(
        with(
            base,
            "/components",
            Value::Array(vec![component; MAX_COMPONENTS]),
        ),
        "/economicOperatorId",
        json!("é".repeat(256)),
    );
    assert!(parse_value(&at_bounds).is_ok());
}

#[test]
fn new_draft_validates_its_input() {
    let cases: Vec<(PassportDraft, PassportError)> = vec![
        (
            PassportDraft {
                economic_operator_id: String::new(),
                ..sample_draft()
            },
            PassportError::EmptyField {
                field: "economicOperatorId".into(),
            },
        ),
        (
            PassportDraft {
                data: json!("not an object"),
                ..sample_draft()
            },
            PassportError::WrongType {
                path: "data".into(),
                expected: "an object",
                found: "a string",
            },
        ),
        (
            PassportDraft {
                components: vec![sample_draft().components[0].clone(); MAX_COMPONENTS + 1],
                ..sample_draft()
            },
            PassportError::TooManyComponents {
                count: MAX_COMPONENTS + 1,
                max: MAX_COMPONENTS,
            },
        ),
    ];
    for (draft, expected) in cases {
        assert_eq!(
            Passport::new_draft(draft, sample_id(), datetime!(2025-01-01 0:00 UTC)),
            Err(expected)
        );
    }
    assert_eq!(
        Passport::new_draft(sample_draft(), sample_id(), datetime!(-0001-01-01 0:00 UTC)),
        Err(PassportError::TimestampOutOfRange { field: "createdAt" })
    );
}

#[test]
fn error_messages_are_readable() {
    let samples = [
        PassportError::GtinLength { len: 9 }.to_string(),
        PassportError::UnknownField {
            path: "sector.foo".into(),
        }
        .to_string(),
        PassportError::GranularityMismatch {
            granularity: "batch",
            reason: "a batch-level identifier requires a lot",
        }
        .to_string(),
    ];
    assert_eq!(samples[0], "GTIN must have 8, 12, 13 or 14 digits, got 9");
    assert_eq!(samples[1], "unknown field `sector.foo`");
    assert_eq!(
        samples[2],
        "granularity `batch` does not match the product identifier: a batch-level identifier requires a lot"
    );
}

// ---------------------------------------------------------------- properties

const CS82: &str =
    "!\"%&'()*+,-./0123456789:;<=>?ABCDEFGHIJKLMNOPQRSTUVWXYZ_abcdefghijklmnopqrstuvwxyz";

fn gs1_check_digit(body: &[u8]) -> u8 {
    let mut sum = 0u32;
    for (i, d) in body.iter().rev().enumerate() {
        sum += u32::from(*d) * if i % 2 == 0 { 3 } else { 1 };
    }
    ((10 - sum % 10) % 10) as u8
}

fn ai_value() -> impl Strategy<Value = String> {
    let chars: Vec<char> = CS82.chars().collect();
    assert_eq!(chars.len(), 82);
    prop::collection::vec(prop::sample::select(chars), 1..=20).prop_map(|v| v.into_iter().collect())
}

fn any_product() -> impl Strategy<Value = ProductIdentifier> {
    (
        prop::collection::vec(0u8..10, 13),
        prop::option::of(ai_value()),
        prop::option::of(ai_value()),
    )
        .prop_map(|(body, lot, serial)| {
            let check = gs1_check_digit(&body);
            let s: String = body
                .iter()
                .chain(std::iter::once(&check))
                .map(|d| char::from(b'0' + d))
                .collect();
            ProductIdentifier::new(Gtin::parse(&s).unwrap(), lot, serial).unwrap()
        })
}

proptest! {
    #[test]
    fn prop_gtin13_check_digit(body in prop::collection::vec(0u8..10, 12), pos in 0usize..13, delta in 1u8..10) {
        let mut digits = body.clone();
        digits.push(gs1_check_digit(&body));
        let render = |d: &[u8]| d.iter().map(|d| char::from(b'0' + d)).collect::<String>();
        let valid = render(&digits);
        let g = Gtin::parse(&valid).unwrap();
        prop_assert_eq!(g.as_gtin14(), format!("0{valid}"));
        digits[pos] = (digits[pos] + delta) % 10;
        let changed = render(&digits);
        let is_check_digit_error = matches!(Gtin::parse(&changed), Err(PassportError::GtinCheckDigit { .. }));
        prop_assert!(is_check_digit_error);
    }

    #[test]
    fn prop_product_identifier_serde_and_digital_link_round_trip(p in any_product()) {
        let json = serde_json::to_string(&p).unwrap();
        prop_assert_eq!(serde_json::from_str::<ProductIdentifier>(&json).unwrap(), p.clone());
        let uri = p.digital_link("id.example.com/dpp").unwrap();
        prop_assert!(uri.bytes().all(|b| b.is_ascii_alphanumeric() || b"-._~/:%".contains(&b)));
        prop_assert_eq!(ProductIdentifier::parse_digital_link(&uri).unwrap(), p);
    }

    #[test]
    fn prop_from_json_slice_never_panics(bytes in prop::collection::vec(any::<u8>(), 0..512)) {
        let _ = Passport::from_json_slice(&bytes);
        let _ = PassportDraft::from_json_slice(&bytes);
    }

    #[test]
    fn prop_from_json_slice_never_panics_on_mutated_passports(pos in any::<prop::sample::Index>(), byte in any::<u8>(), cut in any::<prop::sample::Index>()) {
        let mut bytes = serde_json::to_vec(&passport_json()).unwrap();
        let i = pos.index(bytes.len());
        bytes[i] = byte;
        let _ = Passport::from_json_slice(&bytes);
        let _ = Passport::from_json_slice(&bytes[..cut.index(bytes.len())]);
    }

    #[test]
    fn prop_digital_link_parse_never_panics(s in "\\PC{0,80}", tail in "[/0-9A-Za-z%]{0,40}") {
        let _ = ProductIdentifier::parse_digital_link(&s);
        let _ = ProductIdentifier::parse_digital_link(&format!("https://id.example.com/01/09506000134352{tail}"));
    }
}
