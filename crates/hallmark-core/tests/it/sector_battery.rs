//! Battery sector: samples, composite validation, tier mapping coverage and views.

use std::collections::BTreeSet;

use hallmark_core::access::{Audience, Tier};
use hallmark_core::sector::battery::{self, SUBMODELS};
use hallmark_core::sector::{Sector, SectorError, SectorRegistry, ValidationIssue};
use serde_json::{json, Value};

use crate::common;
use common::*;

fn battery() -> &'static Sector {
    SectorRegistry::builtin().get("battery", "1.2.0").unwrap()
}

fn pointers(issues: &[ValidationIssue]) -> Vec<&str> {
    issues.iter().map(|i| i.pointer.as_str()).collect()
}

fn validate_err(data: &Value) -> Vec<ValidationIssue> {
    battery()
        .validate(data)
        .expect_err("data should be invalid")
}

// ---------- registry ----------

#[test]
fn registry_lists_battery_and_generic() {
    let reg = SectorRegistry::builtin();
    let ids: Vec<(&str, &str)> = reg.iter().map(|s| (s.id(), s.version())).collect();
    assert_eq!(ids, vec![("battery", "1.2.0"), ("generic", "1.0.0")]);
    assert_eq!(reg.latest("battery").unwrap().version(), "1.2.0");
    assert_eq!(reg.latest("generic").unwrap().version(), "1.0.0");
}

#[test]
fn unknown_sector_or_version_is_a_typed_error() {
    let reg = SectorRegistry::builtin();
    assert_eq!(
        reg.get("battery", "9.9.9").unwrap_err(),
        SectorError::UnknownSector {
            id: "battery".into(),
            version: "9.9.9".into()
        }
    );
    assert_eq!(
        reg.get("textile", "1.0.0").unwrap_err(),
        SectorError::UnknownSector {
            id: "textile".into(),
            version: "1.0.0".into()
        }
    );
    assert_eq!(
        reg.latest("textile").unwrap_err(),
        SectorError::UnknownSectorId {
            id: "textile".into()
        }
    );
    assert!(reg
        .get("textile", "1.0.0")
        .unwrap_err()
        .to_string()
        .contains("textile"));
}

#[test]
fn embedded_schemas_compile() {
    battery::schemas_compile().unwrap();
}

// ---------- validation ----------

#[test]
fn every_sample_validates_on_its_own_submodel() {
    for (key, name, _) in SUBMODELS {
        let mut data = composite();
        data[key] = sample(name);
        battery()
            .validate(&data)
            .unwrap_or_else(|e| panic!("{name} sample: {e:?}"));
    }
}

#[test]
fn each_submodel_sample_validates_against_its_schema() {
    // Validate each sample with only its own schema (no composite around it).
    for (_, name, text) in SUBMODELS {
        let schema: Value = serde_json::from_str(text).unwrap();
        let validator = jsonschema::draft4::options()
            .should_validate_formats(true)
            .build(&schema)
            .unwrap();
        let errors: Vec<String> = validator
            .iter_errors(&sample(name))
            .map(|e| format!("{}: {e}", e.instance_path()))
            .collect();
        assert!(errors.is_empty(), "{name}: {errors:?}");
    }
}

#[test]
fn composite_of_all_seven_samples_validates() {
    battery().validate(&composite()).unwrap();
}

#[test]
fn original_material_sample_reports_exactly_the_cas_number() {
    let mut data = composite();
    data["materialComposition"] = material_original();
    let issues = validate_err(&data);
    assert_eq!(pointers(&issues), vec![BAD_CAS_POINTER], "{issues:?}");
    assert_eq!(
        issues[0].message,
        r#""7439-93-2 " does not match "^\d{2,7}-\d{2}-\d{1}$""#
    );
}

#[test]
fn missing_submodel_is_reported_at_the_root() {
    let mut data = composite();
    data.as_object_mut().unwrap().remove("labeling");
    let issues = validate_err(&data);
    assert_eq!(
        issues,
        vec![ValidationIssue {
            pointer: String::new(),
            message: r#""labeling" is a required property"#.into()
        }]
    );
}

#[test]
fn unknown_top_level_key_is_reported_at_its_pointer() {
    let mut data = composite();
    data["batteryPassport"] = json!({});
    data["a/b~c"] = json!(1);
    let issues = validate_err(&data);
    assert_eq!(pointers(&issues), vec!["/a~1b~0c", "/batteryPassport"]);
    assert!(issues[1].message.contains("unknown key"), "{issues:?}");
}

#[test]
fn non_object_data_is_rejected() {
    let issues = validate_err(&json!([1, 2]));
    assert_eq!(pointers(&issues), vec![""]);
    assert!(issues[0].message.contains("object"));
}

#[test]
fn wrong_types_are_reported_with_composite_pointers() {
    let mut data = composite();
    data["generalProductInformation"]["batteryMass"] = json!("heavy");
    data["circularity"]["recycledContent"][0]["preConsumerShare"] = json!(101);
    data["labeling"]["labels"] = json!({"not": "an array"});
    data["supplyChainDueDiligence"] = json!(42);
    let issues = validate_err(&data);
    assert_eq!(
        pointers(&issues),
        vec![
            "/circularity/recycledContent/0/preConsumerShare",
            "/generalProductInformation/batteryMass",
            "/labeling/labels",
            "/supplyChainDueDiligence",
        ],
        "{issues:?}"
    );
    assert_eq!(
        issues[1].message, r#""heavy" is not of type "number""#,
        "{issues:?}"
    );
}

#[test]
fn missing_required_property_inside_a_submodel() {
    let mut data = composite();
    data["materialComposition"]["batteryMaterials"][0]
        .as_object_mut()
        .unwrap()
        .remove("batteryMaterialMass");
    let issues = validate_err(&data);
    assert_eq!(
        issues,
        vec![ValidationIssue {
            pointer: "/materialComposition/batteryMaterials/0".into(),
            message: r#""batteryMaterialMass" is a required property"#.into()
        }]
    );
}

#[test]
fn error_list_is_sorted_deduplicated_and_deterministic() {
    let mut data = composite();
    data["zzz"] = json!(1);
    data["materialComposition"] = material_original();
    data["generalProductInformation"]["batteryCategory"] = json!("car");
    data["generalProductInformation"]["batteryMass"] = json!(true);
    data.as_object_mut().unwrap().remove("labeling");
    let first = validate_err(&data);
    for _ in 0..5 {
        assert_eq!(validate_err(&data), first);
    }
    let mut sorted = first.clone();
    sorted.sort_by(|a, b| (&a.pointer, &a.message).cmp(&(&b.pointer, &b.message)));
    sorted.dedup();
    assert_eq!(first, sorted);
    assert_eq!(first.len(), 5, "{first:?}");
}

#[test]
fn long_values_are_truncated_in_messages() {
    let mut data = composite();
    data["generalProductInformation"]["batteryMass"] = json!("x".repeat(10_000));
    let issues = validate_err(&data);
    assert_eq!(issues.len(), 1);
    assert!(issues[0].message.len() < 200, "{}", issues[0].message);
    assert!(issues[0].message.contains('…'));
}

#[test]
fn issues_serialize_camel_case() {
    let issue = ValidationIssue {
        pointer: "/a".into(),
        message: "m".into(),
    };
    assert_eq!(
        serde_json::to_value(&issue).unwrap(),
        json!({"pointer": "/a", "message": "m"})
    );
}

// ---------- tier mapping ----------

#[test]
fn csv_has_93_attributes_with_known_access_values() {
    let attrs = battery::attributes();
    assert_eq!(attrs.len(), 93);
    for (i, a) in attrs.iter().enumerate() {
        assert_eq!(usize::from(a.no), i + 1);
        assert!(
            matches!(
                a.access.as_str(),
                "Public"
                    | "persons with a legitimate interest"
                    | "persons with a legitimate interest and the Commission"
                    | "Notified bodies, market surveillance authorities and the Commission"
            ),
            "unexpected access value {:?}",
            a.access
        );
    }
    let tier = |no: usize| attrs[no - 1].tier;
    assert_eq!(tier(1), Tier::Public);
    assert_eq!(tier(7), Tier::LegitimateInterest);
    assert_eq!(tier(18), Tier::Authority);
    assert_eq!(tier(33), Tier::LegitimateInterest);
}

#[test]
fn access_values_map_to_tiers() {
    assert_eq!(battery::tier_for_access("Public"), Tier::Public);
    assert_eq!(
        battery::tier_for_access("persons with a legitimate interest"),
        Tier::LegitimateInterest
    );
    assert_eq!(
        battery::tier_for_access("persons with a legitimate interest and the Commission"),
        Tier::LegitimateInterest
    );
    assert_eq!(
        battery::tier_for_access(
            "Notified bodies, market surveillance authorities and the Commission"
        ),
        Tier::Authority
    );
    assert_eq!(battery::tier_for_access("public-ish"), Tier::Authority);
}

#[test]
fn every_csv_attribute_is_mapped_or_listed_without_field() {
    let mapped: BTreeSet<u16> = battery::FIELD_ATTRIBUTES
        .iter()
        .flat_map(|(_, nos)| nos.iter().copied())
        .collect();
    let listed: BTreeSet<u16> = battery::ATTRIBUTES_WITHOUT_FIELD
        .iter()
        .map(|(no, _)| *no)
        .collect();
    assert!(
        mapped.is_disjoint(&listed),
        "{:?}",
        mapped.intersection(&listed)
    );
    let known: BTreeSet<u16> = battery::attributes().iter().map(|a| a.no).collect();
    let missing: Vec<u16> = known
        .iter()
        .filter(|no| !mapped.contains(no) && !listed.contains(no))
        .copied()
        .collect();
    assert!(
        missing.is_empty(),
        "attributes without mapping: {missing:?}"
    );
    let stray: Vec<u16> = mapped
        .union(&listed)
        .filter(|no| !known.contains(no))
        .copied()
        .collect();
    assert!(stray.is_empty(), "numbers not in the CSV: {stray:?}");
}

#[test]
fn every_mapping_location_exists_in_the_schemas() {
    assert!(
        battery::unknown_mapping_locations().is_empty(),
        "{:?}",
        battery::unknown_mapping_locations()
    );
    let unique: BTreeSet<&str> = battery::FIELD_ATTRIBUTES.iter().map(|(p, _)| *p).collect();
    assert_eq!(
        unique.len(),
        battery::FIELD_ATTRIBUTES.len(),
        "duplicate locations"
    );
}

#[test]
fn every_schema_leaf_has_an_explicit_mapping() {
    let leaves = battery::schema_leaf_paths();
    assert!(leaves.len() > 100, "{}", leaves.len());
    let unmapped: Vec<&String> = leaves
        .iter()
        .filter(|p| battery::attributes_at(&p.replace("/*", "/0")).is_none())
        .collect();
    assert!(unmapped.is_empty(), "leaves without mapping: {unmapped:#?}");
}

#[test]
fn specific_tiers() {
    let s = battery();
    let cases = [
        (
            "/generalProductInformation/puttingIntoService",
            Tier::LegitimateInterest,
        ),
        (
            "/generalProductInformation/batteryStatus",
            Tier::LegitimateInterest,
        ),
        ("/generalProductInformation/batteryMass", Tier::Public),
        (
            "/generalProductInformation/manufacturerInformation/postalAddress/postalCode",
            Tier::Public,
        ),
        ("/labeling/resultOfTestReport", Tier::Authority),
        ("/labeling/labels/3/labelingMeaning/en", Tier::Public),
        (
            "/materialComposition/batteryChemistry/shortName",
            Tier::Public,
        ),
        (
            "/materialComposition/batteryMaterials/0/batteryMaterialName",
            Tier::LegitimateInterest,
        ),
        (
            "/materialComposition/batteryMaterials/0/isCriticalRawMaterial",
            Tier::LegitimateInterest,
        ),
        (
            "/circularity/recycledContent/12/preConsumerShare",
            Tier::Public,
        ),
        (
            "/circularity/safetyMeasures/safetyInstructions",
            Tier::LegitimateInterest,
        ),
        (
            "/circularity/safetyMeasures/extinguishingAgent/0",
            Tier::Public,
        ),
        (
            "/circularity/dismantlingAndRemovalInformation/0/documentURL",
            Tier::LegitimateInterest,
        ),
        (
            "/performanceAndDurability/batteryCondition/roundTripEfficiencyat50PerCentCycleLife",
            Tier::Public,
        ),
        (
            "/performanceAndDurability/batteryCondition/stateOfCharge/lastUpdate",
            Tier::LegitimateInterest,
        ),
        (
            "/performanceAndDurability/batteryTechicalProperties/expectedLifetime",
            Tier::LegitimateInterest,
        ),
        // Fail closed: outside the schema, unmapped containers, malformed pointers.
        (
            "/generalProductInformation/manufacturerInformation/secret",
            Tier::Authority,
        ),
        ("/generalProductInformation/extra", Tier::Authority),
        (
            "/circularity/recycledContent/x/preConsumerShare",
            Tier::Authority,
        ),
        (
            "/circularity/recycledContent/01/preConsumerShare",
            Tier::Authority,
        ),
        ("/unknown", Tier::Authority),
        (
            "/performanceAndDurability/batteryCondition",
            Tier::Authority,
        ),
        ("", Tier::Authority),
        ("no-leading-slash", Tier::Authority),
        ("/bad~2escape", Tier::Authority),
    ];
    for (pointer, tier) in cases {
        assert_eq!(s.tier_of(pointer), tier, "{pointer}");
    }
}

// ---------- views ----------

/// Every scalar and every empty container in `v`, as (pointer, value).
fn leaves(v: &Value, pointer: String, out: &mut Vec<(String, Value)>) {
    match v {
        Value::Object(m) if !m.is_empty() => {
            for (k, c) in m {
                let key = k.replace('~', "~0").replace('/', "~1");
                leaves(c, format!("{pointer}/{key}"), out);
            }
        }
        Value::Array(a) if !a.is_empty() => {
            for (i, c) in a.iter().enumerate() {
                leaves(c, format!("{pointer}/{i}"), out);
            }
        }
        _ => out.push((pointer, v.clone())),
    }
}

fn all_leaves(v: &Value) -> Vec<(String, Value)> {
    let mut out = Vec::new();
    leaves(v, String::new(), &mut out);
    out
}

#[test]
fn public_view_contains_only_public_fields() {
    let data = composite();
    let view = battery().view(&data, Audience::Public);
    let leaves = all_leaves(&view);
    assert!(leaves.len() > 30);
    for (pointer, _) in &leaves {
        assert_eq!(battery().tier_of(pointer), Tier::Public, "{pointer}");
    }
    let gpi = &view["generalProductInformation"];
    assert!(gpi.get("puttingIntoService").is_none());
    assert!(gpi.get("batteryStatus").is_none());
    assert!(view["materialComposition"]
        .get("batteryMaterials")
        .is_none());
    assert!(view["labeling"].get("resultOfTestReport").is_none());
    assert!(view["circularity"]
        .get("dismantlingAndRemovalInformation")
        .is_none());
    assert!(view["circularity"].get("sparePartSources").is_none());
    assert_eq!(
        gpi["batteryMass"],
        data["generalProductInformation"]["batteryMass"]
    );
    assert_eq!(
        view["materialComposition"]["batteryChemistry"],
        data["materialComposition"]["batteryChemistry"]
    );
    assert_eq!(
        view["circularity"]["safetyMeasures"],
        json!({"extinguishingAgent": ["RYtGKbgicZaHCBRQDSx"]})
    );
    assert_eq!(
        view["performanceAndDurability"]["batteryCondition"],
        json!({"roundTripEfficiencyat50PerCentCycleLife": 9.766551E37})
    );
}

#[test]
fn legitimate_interest_view_has_status_but_not_test_reports() {
    let data = composite();
    let view = battery().view(&data, Audience::LegitimateInterest);
    assert!(view["labeling"].get("resultOfTestReport").is_none());
    assert_eq!(
        view["generalProductInformation"]["batteryStatus"],
        json!("Original")
    );
    assert!(view["materialComposition"]
        .get("batteryMaterials")
        .is_some());
    for (pointer, _) in all_leaves(&view) {
        assert!(
            battery().tier_of(&pointer) <= Tier::LegitimateInterest,
            "{pointer}"
        );
    }
    // Everything except the one Authority field survives.
    let mut expected = data.clone();
    expected["labeling"]
        .as_object_mut()
        .unwrap()
        .remove("resultOfTestReport");
    assert_eq!(view, expected);
}

#[test]
fn authority_view_equals_input() {
    let data = composite();
    assert_eq!(battery().view(&data, Audience::Authority), data);
    let mut with_extra = data.clone();
    with_extra["generalProductInformation"]["secret"] = json!("s");
    with_extra["bogus"] = json!({"x": 1});
    assert_eq!(battery().view(&with_extra, Audience::Authority), with_extra);
}

#[test]
fn unknown_fields_are_hidden_from_public_and_legitimate_interest() {
    let mut data = composite();
    data["generalProductInformation"]["manufacturerInformation"]["secretMargin"] = json!(0.4);
    data["generalProductInformation"]["internalNote"] = json!("do not publish");
    data["circularity"]["recycledContent"][0]["supplierPrice"] = json!(12);
    data["extraSubmodel"] = json!({"a": "b"});
    for audience in [Audience::Public, Audience::LegitimateInterest] {
        let view = battery().view(&data, audience);
        let gpi = &view["generalProductInformation"];
        assert!(gpi["manufacturerInformation"].get("secretMargin").is_none());
        assert!(gpi["manufacturerInformation"].get("contactName").is_some());
        assert!(gpi.get("internalNote").is_none());
        assert!(view["circularity"]["recycledContent"][0]
            .get("supplierPrice")
            .is_none());
        assert!(view.get("extraSubmodel").is_none());
    }
}

#[test]
fn empty_containers_follow_the_documented_rule() {
    let data = json!({
        "materialComposition": {"hazardousSubstances": [], "batteryMaterials": []},
        "labeling": {"labels": [{"labelingMeaning": {}}]},
        "circularity": {"sparePartSources": [{"components": []}]},
    });
    let view = battery().view(&data, Audience::Public);
    // Already empty and public: kept. Already empty but restricted: dropped.
    assert_eq!(
        view,
        json!({
            "materialComposition": {"hazardousSubstances": []},
            "labeling": {"labels": [{"labelingMeaning": {}}]},
        })
    );
    // Emptied by filtering: dropped, up to the root, which stays an object.
    let only_secret = json!({"labeling": {"resultOfTestReport": "https://x.example/r"}});
    assert_eq!(battery().view(&only_secret, Audience::Public), json!({}));
}

#[test]
fn formats_are_checked() {
    let mut data = composite();
    data["carbonFootprintForBatteries"]["carbonFootprintStudy"] = json!("not a uri");
    data["generalProductInformation"]["manufacturingDate"] = json!("yesterday");
    let issues = validate_err(&data);
    assert_eq!(
        pointers(&issues),
        vec![
            "/carbonFootprintForBatteries/carbonFootprintStudy",
            "/generalProductInformation/manufacturingDate",
        ],
        "{issues:?}"
    );
    assert_eq!(issues[0].message, r#""not a uri" is not a "uri""#);
}
