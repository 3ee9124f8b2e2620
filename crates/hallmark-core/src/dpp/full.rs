//! The EN 18222 full representation (`representation=full`): the header and an `elements`
//! array of `DataElement`s instead of the content-section members.
//!
//! [`elements`] gives one `DataElementCollection` per content section present (`elementId`
//! the section's data key, or `data` for a whole-data section; `dictionaryReference` the
//! section id). Below it, every JSON value becomes one element, its `elementId` the member
//! name or, in an array, the index (`"0"`, `"1"`, …):
//!
//! | value | element |
//! |---|---|
//! | object | `DataElementCollection` with `elements` |
//! | array | `MultiValuedDataElement` with `elements`, and `valueDataType` when every item is a scalar of one type |
//! | string, number, boolean, `null` | `SingleValuedDataElement` with `valueDataType` and `value` (the JSON value as it is) |
//!
//! `valueDataType` comes from the sector's schema where it types the leaf
//! ([`Sector::columns`]): a string is `xsd:string`, or by its `format` `xsd:dateTime`
//! (`date-time`), `xsd:date`, `xsd:time`, `xsd:duration` or `xsd:anyURI` (`uri`, `iri` and
//! their `-reference`s); a number `xsd:decimal`; a boolean `xsd:boolean`. Where the schema
//! does not type the leaf (free-form data, extra members), or the value is not of the schema's
//! type, it is inferred from the value: a whole number is `xsd:integer`, another number
//! `xsd:decimal`, a boolean `xsd:boolean`, a string or `null` `xsd:string`; a `null` where
//! the schema types the leaf has the schema's type ([`value_data_type`]). `ColumnKind` does
//! not tell `integer` from `number`, so a schema integer would be `xsd:decimal` (BatteryPass
//! 1.2.0 has none).
//!
//! Members are emitted in name order; every element has only the members its schema allows
//! (each `DataElement` variant is `additionalProperties: false`). An empty member name cannot
//! be an `elementId` (`minLength: 1`), so it is a [`RenderError::EmptyMemberName`].

use std::collections::HashMap;

use serde_json::{json, Map, Value};

use super::compressed::{escape_token, header, present_sections, RenderError};
use crate::passport::Passport;
use crate::sector::{ColumnKind, Sector};

/// `objectType` of a scalar.
pub const SINGLE_VALUED: &str = "SingleValuedDataElement";
/// `objectType` of an array.
pub const MULTI_VALUED: &str = "MultiValuedDataElement";
/// `objectType` of an object (and of every content section).
pub const COLLECTION: &str = "DataElementCollection";

/// The full document of `passport`: the header of [`compress`](super::compressed::compress)
/// (its `contentSpecificationIds` the sections present) and `elements` from [`elements`]. For
/// a suspended passport, serve
/// [`compress_header_only`](super::compressed::compress_header_only) instead.
pub fn full(passport: &Passport, sector: &Sector, base_url: &str) -> Result<Value, RenderError> {
    let sections = present_sections(passport, sector)?;
    let ids: Vec<&str> = sections.iter().map(|(s, _)| s.id.as_str()).collect();
    let mut doc = header(passport, base_url, &ids)?;
    doc.insert(
        "elements".to_owned(),
        Value::Array(elements(passport, sector)?),
    );
    Ok(Value::Object(doc))
}

/// One `DataElementCollection` per content section present in `passport` (see the module
/// docs). `sector` must be the passport's.
pub fn elements(passport: &Passport, sector: &Sector) -> Result<Vec<Value>, RenderError> {
    let types = Types::of(sector);
    present_sections(passport, sector)?
        .into_iter()
        .map(|(section, value)| {
            let at = section.data_pointer();
            let mut element = types.element(section.element_id(), value, &at, &at)?;
            element.insert("dictionaryReference".to_owned(), json!(section.id));
            Ok(Value::Object(element))
        })
        .collect()
}

/// The element of the value at `pointer` (RFC 6901, into `passport.data`), as [`elements`]
/// would show it there: `None` when there is no value there or `pointer` is the root of a
/// sector split into several sections. At a section's root it is the section's collection
/// (with its `dictionaryReference`); elsewhere the `elementId` is the last reference token.
pub fn element_at(
    passport: &Passport,
    sector: &Sector,
    pointer: &str,
) -> Result<Option<Value>, RenderError> {
    let sections = present_sections(passport, sector)?;
    let Some(tokens) = tokens(pointer) else {
        return Ok(None);
    };
    let mut node = &passport.data;
    let mut at = "/data".to_owned();
    let mut pattern = at.clone();
    for token in &tokens {
        node = match node {
            Value::Object(members) => match members.get(token) {
                Some(child) => {
                    pattern = format!("{pattern}/{}", escape_token(token));
                    child
                }
                None => return Ok(None),
            },
            Value::Array(items) => match index(token).and_then(|i| items.get(i)) {
                Some(child) => {
                    pattern.push_str("/*");
                    child
                }
                None => return Ok(None),
            },
            _ => return Ok(None),
        };
        at = format!("{at}/{}", escape_token(token));
    }
    let types = Types::of(sector);
    if let Some((section, _)) = sections.iter().find(|(s, _)| s.data_pointer() == at) {
        let mut element = types.element(section.element_id(), node, &at, &pattern)?;
        element.insert("dictionaryReference".to_owned(), json!(section.id));
        return Ok(Some(Value::Object(element)));
    }
    match tokens.last() {
        None => Ok(None),
        Some(id) if id.is_empty() => Err(RenderError::EmptyMemberName { pointer: at }),
        Some(id) => Ok(Some(Value::Object(types.element(id, node, &at, &pattern)?))),
    }
}

/// The RFC 6901 reference tokens of `pointer`, unescaped (`None` if it is not a pointer).
fn tokens(pointer: &str) -> Option<Vec<String>> {
    if pointer.is_empty() {
        return Some(Vec::new());
    }
    pointer
        .strip_prefix('/')?
        .split('/')
        .map(|t| {
            let mut out = String::with_capacity(t.len());
            let mut chars = t.chars();
            while let Some(c) = chars.next() {
                if c != '~' {
                    out.push(c);
                    continue;
                }
                match chars.next() {
                    Some('0') => out.push('~'),
                    Some('1') => out.push('/'),
                    _ => return None,
                }
            }
            Some(out)
        })
        .collect()
}

/// An RFC 6901 array index: `0` or digits without a leading zero.
fn index(token: &str) -> Option<usize> {
    let digits = !token.is_empty() && token.bytes().all(|b| b.is_ascii_digit());
    if !digits || (token.len() > 1 && token.starts_with('0')) {
        return None;
    }
    token.parse().ok()
}

/// The `valueDataType` of a scalar `value` whose schema leaf has `kind` and `format` (both
/// `None` where the schema does not type it); see the module docs.
pub fn value_data_type(
    value: &Value,
    kind: Option<ColumnKind>,
    format: Option<&str>,
) -> &'static str {
    match (value, kind) {
        (Value::String(_) | Value::Null, Some(ColumnKind::String)) => match format {
            Some("date-time") => "xsd:dateTime",
            Some("date") => "xsd:date",
            Some("time") => "xsd:time",
            Some("duration") => "xsd:duration",
            Some("uri" | "uri-reference" | "iri" | "iri-reference") => "xsd:anyURI",
            _ => "xsd:string",
        },
        (Value::Number(_) | Value::Null, Some(ColumnKind::Number)) => "xsd:decimal",
        (Value::Bool(_) | Value::Null, Some(ColumnKind::Boolean)) => "xsd:boolean",
        (Value::Bool(_), _) => "xsd:boolean",
        (Value::Number(n), _) if n.is_i64() || n.is_u64() => "xsd:integer",
        (Value::Number(_), _) => "xsd:decimal",
        _ => "xsd:string",
    }
}

/// The schema's scalar leaves of a sector: data pointer pattern (`/data/a/*/b`) → kind and
/// format.
struct Types(HashMap<String, (ColumnKind, Option<String>)>);

impl Types {
    fn of(sector: &Sector) -> Self {
        Types(
            sector
                .columns()
                .into_iter()
                .filter(|c| c.kind != ColumnKind::Open && c.pointer.starts_with("/data/"))
                .map(|c| (c.pointer, (c.kind, c.format)))
                .collect(),
        )
    }

    /// The element `id` of `value`, found at `at` (a pointer into the passport) whose schema
    /// location is `pattern` (`*` for array indices).
    fn element(
        &self,
        id: &str,
        value: &Value,
        at: &str,
        pattern: &str,
    ) -> Result<Map<String, Value>, RenderError> {
        let mut element = Map::new();
        element.insert("elementId".to_owned(), json!(id));
        match value {
            Value::Object(members) => {
                let children = members
                    .iter()
                    .map(|(name, child)| {
                        let token = escape_token(name);
                        let at = format!("{at}/{token}");
                        if name.is_empty() {
                            return Err(RenderError::EmptyMemberName { pointer: at });
                        }
                        self.element(name, child, &at, &format!("{pattern}/{token}"))
                            .map(Value::Object)
                    })
                    .collect::<Result<Vec<_>, _>>()?;
                element.insert("objectType".to_owned(), json!(COLLECTION));
                element.insert("elements".to_owned(), Value::Array(children));
            }
            Value::Array(items) => {
                let item_pattern = format!("{pattern}/*");
                let children = items
                    .iter()
                    .enumerate()
                    .map(|(i, child)| {
                        self.element(&i.to_string(), child, &format!("{at}/{i}"), &item_pattern)
                            .map(Value::Object)
                    })
                    .collect::<Result<Vec<_>, _>>()?;
                element.insert("objectType".to_owned(), json!(MULTI_VALUED));
                if let Some(common) = common_scalar_type(&children) {
                    element.insert("valueDataType".to_owned(), common);
                }
                element.insert("elements".to_owned(), Value::Array(children));
            }
            scalar => {
                let leaf = self.0.get(pattern);
                let data_type = value_data_type(
                    scalar,
                    leaf.map(|(kind, _)| *kind),
                    leaf.and_then(|(_, format)| format.as_deref()),
                );
                element.insert("objectType".to_owned(), json!(SINGLE_VALUED));
                element.insert("valueDataType".to_owned(), json!(data_type));
                element.insert("value".to_owned(), scalar.clone());
            }
        }
        Ok(element)
    }
}

/// The `valueDataType` shared by every child, when there are children and all are
/// single-valued.
fn common_scalar_type(children: &[Value]) -> Option<Value> {
    let first = children.first()?.get("valueDataType")?;
    children
        .iter()
        .all(|c| c["objectType"] == SINGLE_VALUED && c.get("valueDataType") == Some(first))
        .then(|| first.clone())
}

#[cfg(test)]
pub(super) mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use std::collections::BTreeSet;

    use super::*;
    use crate::dpp::compressed::tests::{
        battery, demo_draft, generic, generic_draft, published, registry, spec_keys, spec_list,
        BASE, DEMOS,
    };
    use crate::dpp::compressed::{compress, ContentSection};
    use crate::passport::PassportDraft;

    fn xsd_types() -> Vec<String> {
        spec_list("XsdValueDataType", &["enum"])
    }

    #[test]
    fn the_spec_is_read_as_written() {
        let xsd = xsd_types();
        assert_eq!(xsd.len(), 44);
        assert_eq!(
            (xsd[0].as_str(), xsd[43].as_str()),
            ("xsd:string", "xsd:positiveInteger")
        );
        assert_eq!(
            spec_keys("SingleValuedDataElement", &["properties"]),
            [
                "dictionaryReference",
                "elementId",
                "objectType",
                "value",
                "valueDataType"
            ]
            .map(str::to_owned)
            .into()
        );
        assert_eq!(
            spec_list("DataElementCollection", &["required"]),
            ["elementId", "elements", "objectType"]
        );
        assert_eq!(
            spec_list(
                "MultiValuedDataElement",
                &["properties", "objectType", "enum"]
            ),
            [MULTI_VALUED]
        );
        assert_eq!(
            spec_keys("DataElement", &["discriminator", "mapping"]).len(),
            5
        );
        assert_eq!(spec_list("DigitalProductPassport", &["required"]).len(), 7);
    }

    /// What the spec says about one DataElement variant.
    struct Variant {
        /// Its `objectType` enum.
        object_types: Vec<String>,
        /// Its `properties`.
        allowed: BTreeSet<String>,
        /// Its `required` members.
        required: Vec<String>,
    }

    /// Every DataElement variant, by objectType.
    struct Variants(HashMap<String, Variant>);

    static VARIANTS: std::sync::LazyLock<Variants> = std::sync::LazyLock::new(|| {
        Variants(
            spec_keys("DataElement", &["discriminator", "mapping"])
                .into_iter()
                .map(|v| {
                    let facts = Variant {
                        object_types: spec_list(&v, &["properties", "objectType", "enum"]),
                        allowed: spec_keys(&v, &["properties"]),
                        required: spec_list(&v, &["required"]),
                    };
                    (v, facts)
                })
                .collect(),
        )
    });

    /// Checks `element` (and everything below it) against the spec's DataElement variants:
    /// a known objectType, only members the variant allows, every member it requires, a
    /// non-empty elementId, a valueDataType of the enum. Counts each objectType.
    fn check(element: &Value, xsd: &[String], counts: &mut HashMap<String, usize>) {
        let object_type = element["objectType"].as_str().unwrap();
        let Some(Variant {
            object_types,
            allowed,
            required,
        }) = VARIANTS.0.get(object_type)
        else {
            panic!("unknown objectType in {element}");
        };
        *counts.entry(object_type.to_owned()).or_default() += 1;
        assert_eq!(object_types, &[object_type]);
        let members: BTreeSet<String> = element.as_object().unwrap().keys().cloned().collect();
        assert!(members.is_subset(allowed), "{members:?} ⊄ {allowed:?}");
        for name in required {
            assert!(members.contains(name), "{name} missing in {element}");
        }
        assert!(!element["elementId"].as_str().unwrap().is_empty());
        if let Some(t) = element.get("valueDataType") {
            assert!(xsd.contains(&t.as_str().unwrap().to_owned()), "{t}");
        }
        if let Some(children) = element.get("elements") {
            let children = children.as_array().unwrap();
            if object_type == MULTI_VALUED {
                let ids: Vec<&str> = children
                    .iter()
                    .map(|c| c["elementId"].as_str().unwrap())
                    .collect();
                let expected: Vec<String> = (0..children.len()).map(|i| i.to_string()).collect();
                assert_eq!(ids, expected);
            }
            for child in children {
                check(child, xsd, counts);
            }
        }
    }

    /// The JSON value an element stands for (the inverse of the expansion).
    fn collapse(element: &Value) -> Value {
        let children = || element["elements"].as_array().unwrap().iter();
        match element["objectType"].as_str().unwrap() {
            COLLECTION => Value::Object(
                children()
                    .map(|c| (c["elementId"].as_str().unwrap().to_owned(), collapse(c)))
                    .collect(),
            ),
            MULTI_VALUED => Value::Array(children().map(collapse).collect()),
            _ => element["value"].clone(),
        }
    }

    /// How many objects, arrays and scalars `v` holds (itself included).
    fn shape(v: &Value, out: &mut [usize; 3]) {
        match v {
            Value::Object(m) => {
                out[0] += 1;
                m.values().for_each(|c| shape(c, out));
            }
            Value::Array(a) => {
                out[1] += 1;
                a.iter().for_each(|c| shape(c, out));
            }
            _ => out[2] += 1,
        }
    }

    /// The element reached from `elements` through these elementIds.
    fn find<'a>(elements: &'a [Value], ids: &[&str]) -> &'a Value {
        let (first, rest) = ids.split_first().unwrap();
        let element = elements
            .iter()
            .find(|e| e["elementId"] == *first)
            .unwrap_or_else(|| panic!("no {first}"));
        if rest.is_empty() {
            element
        } else {
            find(element["elements"].as_array().unwrap(), rest)
        }
    }

    fn all_drafts() -> Vec<PassportDraft> {
        let mut drafts: Vec<PassportDraft> = DEMOS.iter().map(|n| demo_draft(n)).collect();
        drafts.push(generic_draft());
        drafts
    }

    fn sector_of(draft: &PassportDraft) -> &'static Sector {
        registry()
            .get(&draft.sector.id, &draft.sector.schema_version)
            .unwrap()
    }

    #[test]
    fn the_ev_battery_expands_to_seven_collections() {
        let passport = published(demo_draft("ev-battery"));
        let elements = elements(&passport, battery()).unwrap();
        assert_eq!(elements.len(), 7);
        for (element, section) in elements.iter().zip(battery().content_sections()) {
            assert_eq!(element["objectType"], COLLECTION);
            assert_eq!(element["elementId"], section.element_id());
            assert_eq!(element["dictionaryReference"], section.id.as_str());
        }
        // One element per JSON value: collections = objects, multi-valued = arrays,
        // single-valued = scalars.
        let xsd = xsd_types();
        let mut counts = HashMap::new();
        let mut json = [0; 3];
        for (element, (key, ..)) in elements.iter().zip(crate::sector::battery::SUBMODELS) {
            check(element, &xsd, &mut counts);
            shape(&passport.data[key], &mut json);
        }
        let counted = [COLLECTION, MULTI_VALUED, SINGLE_VALUED]
            .map(|t| counts.get(t).copied().unwrap_or_default());
        assert_eq!(counted, json);
        assert!(json[2] > 100, "{json:?}");

        let leaf = |ids: &[&str]| find(&elements, ids).clone();
        assert_eq!(
            leaf(&["generalProductInformation", "batteryMass"]),
            json!({"elementId": "batteryMass", "objectType": SINGLE_VALUED,
                   "valueDataType": "xsd:decimal", "value": 452.0})
        );
        assert_eq!(
            leaf(&["generalProductInformation", "manufacturingDate"])["valueDataType"],
            "xsd:dateTime"
        );
        assert_eq!(
            leaf(&["generalProductInformation", "manufacturingDate"])["value"],
            "2025-03-14T06:42:00+01:00"
        );
        assert_eq!(
            leaf(&["labeling", "declarationOfConformity"])["valueDataType"],
            "xsd:anyURI"
        );
        assert_eq!(
            leaf(&["generalProductInformation", "batteryCategory"])["valueDataType"],
            "xsd:string"
        );
        let labels = leaf(&["labeling", "labels"]);
        assert_eq!(labels["objectType"], MULTI_VALUED);
        assert_eq!(labels.get("valueDataType"), None, "items are collections");
        let meaning = leaf(&["labeling", "labels", "0", "labelingMeaning"]);
        assert_eq!(meaning["objectType"], COLLECTION);
        assert_eq!(
            find(meaning["elements"].as_array().unwrap(), &["de"])["valueDataType"],
            "xsd:string"
        );
        assert_eq!(
            leaf(&[
                "materialComposition",
                "batteryMaterials",
                "0",
                "isCriticalRawMaterial"
            ])["valueDataType"],
            "xsd:boolean"
        );
    }

    #[test]
    fn every_passport_expands_to_valid_data_elements_that_collapse_back() {
        let xsd = xsd_types();
        for draft in all_drafts() {
            let sector = sector_of(&draft);
            let passport = published(draft);
            let elements = elements(&passport, sector).unwrap();
            let mut counts = HashMap::new();
            for element in &elements {
                check(element, &xsd, &mut counts);
            }
            // Lossless: each section's collection is its part of data.
            for (element, section) in elements.iter().zip(sector.content_sections()) {
                assert_eq!(
                    Some(&collapse(element)),
                    section.value_in(&passport.data),
                    "{}",
                    section.id
                );
            }
        }
    }

    #[test]
    fn value_kinds_map_to_members_of_the_spec_enum() {
        let xsd = xsd_types();
        let s = |f: Option<&str>, v: Value| value_data_type(&v, Some(ColumnKind::String), f);
        let cases = [
            (s(None, json!("x")), "xsd:string"),
            (
                s(Some("date-time"), json!("2025-01-01T00:00:00Z")),
                "xsd:dateTime",
            ),
            (s(Some("date"), json!("2025-01-01")), "xsd:date"),
            (s(Some("time"), json!("10:00:00")), "xsd:time"),
            (s(Some("duration"), json!("P1D")), "xsd:duration"),
            (s(Some("uri"), json!("https://x.example")), "xsd:anyURI"),
            (s(Some("iri-reference"), json!("a")), "xsd:anyURI"),
            (s(Some("email"), json!("a@x.example")), "xsd:string"),
            (s(Some("date-time"), Value::Null), "xsd:dateTime"),
            (
                value_data_type(&json!(1.5), Some(ColumnKind::Number), None),
                "xsd:decimal",
            ),
            (
                value_data_type(&json!(3000), Some(ColumnKind::Number), None),
                "xsd:decimal",
            ),
            (
                value_data_type(&json!(true), Some(ColumnKind::Boolean), None),
                "xsd:boolean",
            ),
            // No schema type, or a value not of the schema's type: inferred.
            (value_data_type(&json!(3000), None, None), "xsd:integer"),
            (
                value_data_type(&json!(-3), Some(ColumnKind::Open), None),
                "xsd:integer",
            ),
            (value_data_type(&json!(2.5), None, None), "xsd:decimal"),
            (value_data_type(&json!(false), None, None), "xsd:boolean"),
            (value_data_type(&json!("x"), None, None), "xsd:string"),
            (value_data_type(&Value::Null, None, None), "xsd:string"),
            (
                value_data_type(&json!("about 355"), Some(ColumnKind::Number), None),
                "xsd:string",
            ),
            (
                value_data_type(&json!(7), Some(ColumnKind::String), Some("uri")),
                "xsd:integer",
            ),
            (
                value_data_type(&json!("yes"), Some(ColumnKind::Boolean), None),
                "xsd:string",
            ),
        ];
        for (got, want) in cases {
            assert_eq!(got, want);
            assert!(
                xsd.contains(&got.to_owned()),
                "{got} is not in the spec's enum"
            );
        }
    }

    #[test]
    fn types_follow_the_schema_columns_and_the_generic_values() {
        let passport = published(demo_draft("ev-battery"));
        let types = Types::of(battery());
        let mut seen = BTreeSet::new();
        let mut from_schema = 0;
        fn walk(
            e: &Value,
            pattern: &str,
            types: &Types,
            seen: &mut BTreeSet<String>,
            from_schema: &mut usize,
        ) {
            match e["objectType"].as_str().unwrap() {
                SINGLE_VALUED => {
                    let t = e["valueDataType"].as_str().unwrap();
                    seen.insert(t.to_owned());
                    if let Some((kind, _)) = types.0.get(pattern) {
                        *from_schema += 1;
                        let agrees = match kind {
                            ColumnKind::String => {
                                ["xsd:string", "xsd:dateTime", "xsd:anyURI"].contains(&t)
                            }
                            ColumnKind::Number => t == "xsd:decimal",
                            ColumnKind::Boolean => t == "xsd:boolean",
                            ColumnKind::Open => false,
                        };
                        assert!(agrees, "{pattern}: {kind:?} but {t}");
                    }
                }
                kind => {
                    for c in e["elements"].as_array().unwrap() {
                        let token = if kind == MULTI_VALUED {
                            "*".to_owned()
                        } else {
                            escape_token(c["elementId"].as_str().unwrap())
                        };
                        walk(c, &format!("{pattern}/{token}"), types, seen, from_schema);
                    }
                }
            }
        }
        for e in elements(&passport, battery()).unwrap() {
            let pattern = format!("/data/{}", e["elementId"].as_str().unwrap());
            walk(&e, &pattern, &types, &mut seen, &mut from_schema);
        }
        assert!(from_schema > 100, "{from_schema}");
        let want: BTreeSet<String> = [
            "xsd:anyURI",
            "xsd:boolean",
            "xsd:dateTime",
            "xsd:decimal",
            "xsd:string",
        ]
        .map(str::to_owned)
        .into();
        assert_eq!(seen, want);

        let passport = published(generic_draft());
        let elements = elements(&passport, generic()).unwrap();
        assert_eq!(elements.len(), 1);
        assert_eq!(elements[0]["elementId"], "data");
        assert_eq!(
            elements[0]["dictionaryReference"],
            "urn:hallmark:sector:generic:1.0.0"
        );
        let public = |id: &str| find(&elements, &["data", "public", id]).clone();
        assert_eq!(public("legs")["valueDataType"], "xsd:integer");
        assert_eq!(public("weightKg")["valueDataType"], "xsd:decimal");
        assert_eq!(public("foldable")["valueDataType"], "xsd:boolean");
        assert_eq!(
            public("note"),
            json!({"elementId": "note", "objectType": SINGLE_VALUED,
            "valueDataType": "xsd:string", "value": null})
        );
        // An array of one scalar type says it.
        assert_eq!(public("tags")["valueDataType"], "xsd:string");
        assert_eq!(
            find(&elements, &["data", "public", "tags", "1"])["value"],
            "FSC"
        );
    }

    #[test]
    fn mixed_and_empty_arrays_have_no_item_type() {
        let mut draft = generic_draft();
        draft.data = json!({"public": {"mixed": [1, "a"], "empty": [], "nested": [[1]]}});
        let passport = published(draft);
        let elements = elements(&passport, generic()).unwrap();
        for id in ["mixed", "empty", "nested"] {
            let e = find(&elements, &["data", "public", id]);
            assert_eq!(e["objectType"], MULTI_VALUED, "{id}");
            assert_eq!(e.get("valueDataType"), None, "{id}");
        }
        assert_eq!(
            find(&elements, &["data", "public", "nested", "0"])["valueDataType"],
            "xsd:integer"
        );
    }

    #[test]
    fn the_full_document_has_the_header_and_elements_only() {
        let passport = published(demo_draft("ev-battery"));
        let doc = full(&passport, battery(), BASE).unwrap();
        let compressed = compress(&passport, battery(), BASE).unwrap();
        let sections: Vec<ContentSection> = battery().content_sections();
        for (name, value) in compressed.as_object().unwrap() {
            if sections.iter().any(|s| s.id == *name) {
                assert_eq!(doc.get(name), None, "{name}");
            } else {
                assert_eq!(&doc[name], value, "{name}");
            }
        }
        assert_eq!(doc["contentSpecificationIds"].as_array().unwrap().len(), 7);
        assert_eq!(
            doc["elements"],
            Value::Array(elements(&passport, battery()).unwrap())
        );
        assert_eq!(
            doc.as_object().unwrap().len(),
            compressed.as_object().unwrap().len() - 7 + 1
        );
    }

    #[test]
    fn empty_member_names_and_wrong_sectors_are_refused() {
        let mut draft = generic_draft();
        draft.data = json!({"public": {"a": {"": 1}}});
        let passport = published(draft);
        let err = elements(&passport, generic()).unwrap_err();
        assert_eq!(
            err,
            RenderError::EmptyMemberName {
                pointer: "/data/public/a/".into()
            }
        );
        assert!(matches!(
            element_at(&passport, generic(), "/public/a/"),
            Err(RenderError::EmptyMemberName { .. })
        ));
        assert!(matches!(
            elements(&passport, battery()),
            Err(RenderError::SectorMismatch { .. })
        ));
    }

    #[test]
    fn one_element_at_a_pointer() {
        let passport = published(demo_draft("ev-battery"));
        let all = elements(&passport, battery()).unwrap();
        let at = |p: &str| element_at(&passport, battery(), p).unwrap();
        assert_eq!(at("/labeling"), Some(all[6].clone()));
        assert_eq!(
            at("/generalProductInformation/batteryMass"),
            Some(find(&all, &["generalProductInformation", "batteryMass"]).clone())
        );
        assert_eq!(
            at("/labeling/labels/1"),
            Some(find(&all, &["labeling", "labels", "1"]).clone())
        );
        assert_eq!(
            at("/labeling/labels/0/labelingSymbol").unwrap()["valueDataType"],
            "xsd:anyURI"
        );
        for nothing in [
            "",
            "/nope",
            "/labeling/labels/01",
            "/labeling/labels/99",
            "x",
            "/labeling/~2",
        ] {
            assert_eq!(at(nothing), None, "{nothing:?}");
        }
        let generic_passport = published(generic_draft());
        let all = elements(&generic_passport, generic()).unwrap();
        let at = |p: &str| element_at(&generic_passport, generic(), p).unwrap();
        assert_eq!(at(""), Some(all[0].clone()));
        assert_eq!(
            at("/authority/supplier/name"),
            Some(find(&all, &["data", "authority", "supplier", "name"]).clone())
        );
        assert_eq!(at("/authority/supplier/name").unwrap()["value"], "Oak & Co");
    }
}
