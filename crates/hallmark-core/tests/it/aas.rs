//! AAS export (issue 19): the three demo passports, each audience's view → an AAS V3.0
//! Environment; structure, tiers, determinism; and (ignored by default, `scripts/test` runs
//! it) the official AAS test engine over all nine environments.

use std::collections::BTreeSet;
use std::path::PathBuf;

use hallmark_core::aas::{self, AasError};
use hallmark_core::access::Audience;
use hallmark_core::issue;
use hallmark_core::passport::{Granularity, Passport, PassportDraft, PassportId};
use hallmark_core::sector::SectorRegistry;
use serde_json::Value;
use time::macros::datetime;

use crate::common;

const BASE: &str = "https://dpp.acme-batteries.example";
const DEMOS: [&str; 3] = ["ev-battery", "industrial-battery", "lmt-battery"];
const NAMEPLATE: &str =
    "https://admin-shell.io/idta/digitalbatterypassport/nameplate/1/0/Nameplate";
const PRODUCT_CONDITION: &str =
    "urn:samm:io.admin-shell.idta.batterypass.product_condition:1.0.0#ProductCondition";

/// A demo draft of the CLI, published as version 3.
fn demo(name: &str) -> Passport {
    let path = format!(
        "{}/../hallmark/demo/{name}.json",
        env!("CARGO_MANIFEST_DIR")
    );
    let draft = PassportDraft::from_json_slice(&std::fs::read(path).unwrap()).unwrap();
    let id = PassportId::from_parts(1_793_000_000_000, [7; 10]).unwrap();
    Passport::new_draft(draft, id, datetime!(2026-10-30 09:00 UTC))
        .unwrap()
        .publish(
            3,
            Some(datetime!(2026-10-30 10:00 UTC)),
            datetime!(2026-10-30 11:30 UTC),
        )
        .unwrap()
}

fn view(p: &Passport, audience: Audience) -> Passport {
    issue::view(p, audience, SectorRegistry::builtin()).unwrap()
}

fn environment(name: &str, audience: Audience) -> Value {
    aas::environment(&view(&demo(name), audience), BASE).unwrap()
}

fn submodel_semantic_ids(env: &Value) -> BTreeSet<String> {
    env["submodels"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            s["semanticId"]["keys"][0]["value"]
                .as_str()
                .unwrap()
                .to_owned()
        })
        .collect()
}

/// Every array in `v` is non-empty and every idShort matches the V3.0 pattern.
fn assert_well_formed(v: &Value, path: &str) {
    match v {
        Value::Array(items) => {
            assert!(!items.is_empty(), "empty array at {path}");
            for (i, x) in items.iter().enumerate() {
                assert_well_formed(x, &format!("{path}/{i}"));
            }
        }
        Value::Object(o) => {
            if let Some(id) = o.get("idShort") {
                let id = id.as_str().unwrap();
                let mut b = id.bytes();
                assert!(
                    id.len() <= 128
                        && b.next().unwrap().is_ascii_alphabetic()
                        && b.all(|c| c.is_ascii_alphanumeric() || c == b'_'),
                    "idShort {id:?} at {path}"
                );
            }
            if o.get("modelType") == Some(&Value::from("SubmodelElementList")) {
                for k in o["value"].as_array().unwrap() {
                    assert!(
                        k.get("idShort").is_none(),
                        "list child with idShort at {path}"
                    );
                }
            }
            for (k, x) in o {
                assert_well_formed(x, &format!("{path}/{k}"));
            }
        }
        _ => {}
    }
}

/// Every string leaf of `v` with its pointer.
fn strings(v: &Value, ptr: String, out: &mut Vec<(String, String)>) {
    match v {
        Value::Object(o) => o
            .iter()
            .for_each(|(k, x)| strings(x, format!("{ptr}/{k}"), out)),
        Value::Array(a) => a
            .iter()
            .enumerate()
            .for_each(|(i, x)| strings(x, format!("{ptr}/{i}"), out)),
        Value::String(s) => out.push((ptr, s.clone())),
        _ => {}
    }
}

#[test]
fn every_demo_and_audience_gives_a_well_formed_environment() {
    for name in DEMOS {
        let p = demo(name);
        for audience in Audience::ALL {
            let env = aas::environment(&view(&p, audience), BASE).unwrap();
            assert_well_formed(&env, "");
            aas::check(&env).unwrap();
            let shell = &env["assetAdministrationShells"][0];
            assert_eq!(
                env["assetAdministrationShells"].as_array().unwrap().len(),
                1
            );
            assert_eq!(shell["id"], format!("{BASE}/passports/{}/aas", p.id.uuid()));
            assert_eq!(shell["idShort"], "BatteryPassport");
            let info = &shell["assetInformation"];
            assert_eq!(info["globalAssetId"], p.product.digital_link(BASE).unwrap());
            assert!(info["globalAssetId"]
                .as_str()
                .unwrap()
                .starts_with(&format!("{BASE}/01/")));
            let kind = match p.granularity {
                Granularity::Model => "Type",
                _ => "Instance",
            };
            assert_eq!(info["assetKind"], kind, "{name}");
            assert_eq!(info["specificAssetIds"][0]["name"], "gtin");
            // The shell references exactly the submodels in the file.
            let refs: Vec<&Value> = shell["submodels"]
                .as_array()
                .unwrap()
                .iter()
                .map(|r| &r["keys"][0]["value"])
                .collect();
            let ids: Vec<&Value> = env["submodels"]
                .as_array()
                .unwrap()
                .iter()
                .map(|s| &s["id"])
                .collect();
            assert_eq!(refs, ids);
            for id in &ids {
                assert!(id
                    .as_str()
                    .unwrap()
                    .starts_with(&format!("{BASE}/passports/{}/aas/submodels/", p.id.uuid())));
            }
            let sems = submodel_semantic_ids(&env);
            for sem in [
                NAMEPLATE,
                "https://admin-shell.io/idta/digitalbatterypassport/TechnicalData/1/0",
                "https://admin-shell.io/idta/CarbonFootprint/CarbonFootprint/1/0",
                "urn:samm:io.admin-shell.idta.batterypass.material_composition:1.0.0#MaterialComposition",
                "urn:samm:io.admin-shell.idta.batterypass.circularity:1.0.0#Circularity",
                "0173-1#01-AHF578#003",
                aas::UNMAPPED_SEMANTIC_ID,
            ] {
                assert!(sems.contains(sem), "{name} {audience:?}: no submodel {sem}");
            }
            assert_eq!(
                sems.contains(PRODUCT_CONDITION),
                audience != Audience::Public,
                "{name} {audience:?}: ProductCondition (battery condition is not public)"
            );
        }
    }
}

#[test]
fn restricted_fields_stay_out_of_the_public_environment() {
    let sector = SectorRegistry::builtin().get("battery", "1.2.0").unwrap();
    for name in DEMOS {
        let p = demo(name);
        let public_view = view(&p, Audience::Public);
        let public = serde_json::to_string(&aas::environment(&public_view, BASE).unwrap()).unwrap();
        let authority = serde_json::to_string(&environment(name, Audience::Authority)).unwrap();
        let mut public_strings = Vec::new();
        strings(
            &serde_json::to_value(&public_view).unwrap(),
            String::new(),
            &mut public_strings,
        );
        let public_strings: BTreeSet<String> = public_strings.into_iter().map(|(_, s)| s).collect();
        let mut all = Vec::new();
        strings(&p.data, String::new(), &mut all);
        let mut restricted = 0;
        for (ptr, s) in all {
            // A mimeType ("application/pdf") also comes from public URLs' extensions.
            if ptr.ends_with("/mimeType") {
                continue;
            }
            if audience_may_not_see(sector.tier_of(&ptr))
                && s.len() >= 6
                && !public_strings.iter().any(|x| x.contains(&s))
            {
                let quoted = serde_json::to_string(&s).unwrap();
                assert!(
                    !public.contains(&quoted),
                    "{name}: {ptr} leaks into the public AAS"
                );
                // Dates are cut to the day (xs:date, a documented loss).
                let day = format!("\"{}\"", s.chars().take(10).collect::<String>());
                assert!(
                    authority.contains(&quoted) || authority.contains(&day),
                    "{name}: {ptr} missing from the authority AAS"
                );
                restricted += 1;
            }
        }
        assert!(
            restricted > 5,
            "{name}: only {restricted} restricted strings tested"
        );
        // A named authority-only field: the test reports (Nameplate
        // ResultsOfTestReportsProvingCompliance) are in the authority AAS only.
        assert!(
            !public.contains("ResultsOfTestReportsProvingCompliance"),
            "{name}"
        );
        assert!(
            authority.contains("ResultsOfTestReportsProvingCompliance"),
            "{name}"
        );
    }
}

fn audience_may_not_see(tier: hallmark_core::access::Tier) -> bool {
    !Audience::Public.may_see(tier)
}

#[test]
fn unmapped_fields_keep_their_batterypass_semantics() {
    let env = environment("ev-battery", Audience::Authority);
    let unmapped = env["submodels"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["idShort"] == "BatteryPassUnmapped")
        .unwrap();
    assert_eq!(
        unmapped["semanticId"]["keys"][0]["value"],
        aas::UNMAPPED_SEMANTIC_ID
    );
    let sdd = unmapped["submodelElements"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["idShort"] == "supplyChainDueDiligence")
        .expect("supply-chain due diligence has no IDTA 02035 home");
    assert_eq!(
        sdd["semanticId"]["keys"][0]["value"],
        "urn:samm:io.BatteryPass.SupplyChainDueDiligence:1.2.0#SupplyChainDueDiligence"
    );
    let report = sdd["value"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["idShort"] == "supplyChainIndicies")
        .unwrap();
    assert_eq!(report["valueType"], "xs:double");
    assert_eq!(report["value"], "72.0");
    // A mapped field is not repeated in the residual submodel.
    let text = serde_json::to_string(unmapped).unwrap();
    assert!(!text.contains("\"batteryPassportIdentifier\""));
    // The German labelling meaning stays, as a MultiLanguageProperty (language tags are no idShorts).
    assert!(text.contains("Getrennt sammeln"));
}

#[test]
fn template_types_and_lossy_dates() {
    let env = environment("ev-battery", Audience::Authority);
    let text = serde_json::to_string(&env).unwrap();
    let nameplate = &env["submodels"][0];
    assert_eq!(nameplate["semanticId"]["keys"][0]["value"], NAMEPLATE);
    let el = |id: &str| {
        nameplate["submodelElements"]
            .as_array()
            .unwrap()
            .iter()
            .find(|e| e["idShort"] == id)
            .unwrap()
            .clone()
    };
    assert_eq!(el("DateOfManufacture")["valueType"], "xs:date");
    assert_eq!(el("DateOfManufacture")["value"], "2025-03-14");
    assert_eq!(el("URIOfTheProduct")["valueType"], "xs:anyURI");
    assert_eq!(el("SerialNumber")["value"], "EV77-2025-000184");
    assert_eq!(el("ManufacturerName")["modelType"], "MultiLanguageProperty");
    // Template xs:integer receiving 95.5: xs:double, the signed value unchanged; an integral
    // value of an integer type in integer form (80, not 80.0).
    let round_trip = find(&env, "InitialRoundTripEnergyEfficiency");
    assert_eq!(round_trip["valueType"], "xs:double");
    assert_eq!(round_trip["value"], "95.5");
    let cycles = find(&env, "ExpectedNumberOfCycles");
    assert_eq!(cycles["valueType"], "xs:unsignedInt");
    assert_eq!(cycles["value"], "1500");
    assert!(
        text.contains(r#""value":"80","valueType":"xs:unsignedInt""#),
        "atSoc 80"
    );
}

#[test]
fn deterministic_and_battery_only() {
    let p = view(&demo("lmt-battery"), Audience::LegitimateInterest);
    let a = serde_json::to_vec(&aas::environment(&p, BASE).unwrap()).unwrap();
    let b = serde_json::to_vec(&aas::environment(&p, &format!("{BASE}/")).unwrap()).unwrap();
    assert_eq!(a, b);
    let generic = common::draft_passport(
        ("generic", "1.0.0"),
        serde_json::json!({"public": {"name": "Chair"}}),
    );
    assert!(matches!(
        aas::environment(&generic, BASE),
        Err(AasError::Unsupported { .. })
    ));
    assert!(matches!(
        aas::environment(&p, "not a url"),
        Err(AasError::BaseUrl(_))
    ));
}

/// The first element with `id_short` anywhere in `v`.
fn find(v: &Value, id_short: &str) -> Value {
    fn go(v: &Value, id: &str) -> Option<Value> {
        match v {
            Value::Object(o) if o.get("idShort") == Some(&Value::from(id)) => Some(v.clone()),
            Value::Object(o) => o.values().find_map(|x| go(x, id)),
            Value::Array(a) => a.iter().find_map(|x| go(x, id)),
            _ => None,
        }
    }
    go(v, id_short).unwrap_or_else(|| panic!("no element {id_short}"))
}

/// docs/aas.md carries the mapping table as `scripts/aas-tables --docs` prints it from the
/// same rows the code embeds.
#[test]
fn docs_carry_the_mapping_table() {
    let docs =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../../docs/aas.md")).unwrap();
    let tier = |t: &str| match t {
        "P" => "public",
        "L" => "legitimate interest",
        "A" => "authority",
        other => panic!("tier {other}"),
    };
    assert_eq!(aas::mapping().len(), 131);
    for (ptr, t, sm, path, model, vt, sem) in aas::mapping() {
        let row = format!(
            "| `{ptr}` | {} | {sm} | `{path}` | {model} | {vt} | `{sem}` |",
            tier(t)
        );
        assert!(docs.contains(&row), "docs/aas.md lacks {row}");
    }
}

/// Writes the nine demo environments (3 demos × 3 audiences) and returns their paths.
fn write_demo_environments() -> Vec<PathBuf> {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("aas");
    std::fs::create_dir_all(&dir).unwrap();
    let mut files = Vec::new();
    for name in DEMOS {
        for audience in Audience::ALL {
            let path = dir.join(format!("{name}-{audience:?}.aas.json"));
            let view = view(&demo(name), audience);
            let env = aas::environment(&view, BASE).unwrap();
            std::fs::write(&path, serde_json::to_vec_pretty(&env).unwrap()).unwrap();
            // The input beside it, for comparing with other mappers.
            let input = dir.join(format!("{name}-{audience:?}.view.json"));
            std::fs::write(&input, serde_json::to_vec_pretty(&view).unwrap()).unwrap();
            files.push(path);
        }
    }
    files
}

#[test]
#[ignore = "needs python3 + venv and PyPI (scripts/check-aas installs aas-test-engines); scripts/test runs it"]
fn demo_environments_pass_the_aas_test_engine() {
    let files = write_demo_environments();
    let script = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../scripts/check-aas");
    let out = std::process::Command::new(script)
        .args(&files)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "aas-test-engines refused:\n{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        stdout.lines().filter(|l| l.starts_with("ok   ")).count(),
        9,
        "{stdout}"
    );
}

/// Nothing the view shows is dropped: every string of the view's data is in the environment
/// (an IDTA element or the residual submodel), dates at least to the day.
#[test]
fn every_string_of_the_view_is_in_the_environment() {
    for name in DEMOS {
        let p = demo(name);
        for audience in Audience::ALL {
            let v = view(&p, audience);
            let env = serde_json::to_string(&aas::environment(&v, BASE).unwrap()).unwrap();
            let mut all = Vec::new();
            strings(&v.data, String::new(), &mut all);
            assert!(all.len() > 20, "{name} {audience:?}");
            for (ptr, s) in all {
                if ptr.ends_with("/batteryComponent") {
                    // A selector: it names the Resistance element (…OnBattery{Cell,Pack,Module}Level).
                    let level = format!("Battery{}{}Level", s[..1].to_uppercase(), &s[1..]);
                    assert!(env.contains(&level), "{name} {audience:?}: {ptr} = {s}");
                    continue;
                }
                let quoted = serde_json::to_string(&s).unwrap();
                let day = format!("\"{}\"", s.chars().take(10).collect::<String>());
                assert!(
                    env.contains(&quoted) || env.contains(&day),
                    "{name} {audience:?}: {ptr} = {s} is not in the environment"
                );
            }
        }
    }
}

/// The mapping has one row per BatteryPass 1.2.0 schema leaf, no more, no less.
#[test]
fn the_mapping_covers_every_schema_leaf_once() {
    let leaves: BTreeSet<String> = hallmark_core::sector::battery::schema_leaf_paths()
        .into_iter()
        .collect();
    let rows: Vec<&str> = aas::mapping().iter().map(|r| r.0).collect();
    let mapped: BTreeSet<String> = rows.iter().map(|p| p.to_string()).collect();
    assert_eq!(rows.len(), mapped.len(), "a pointer is mapped twice");
    assert_eq!(
        leaves.symmetric_difference(&mapped).collect::<Vec<_>>(),
        Vec::<&String>::new()
    );
    for (ptr, _, sm, _, _, _, sem) in aas::mapping() {
        // Without a semanticId: the AddressInformation drop-in (the 02035-1 file leaves it
        // empty) and the leaves that only qualify another element.
        let qualifier = ["/documentType", "/mimeType", "/batteryComponent"]
            .iter()
            .any(|q| ptr.ends_with(q));
        let address =
            ptr.starts_with("/generalProductInformation/manufacturerInformation/postalAddress/");
        assert_eq!(
            sem.is_empty(),
            qualifier || address,
            "{ptr}: semanticId {sem:?}"
        );
        if *sm == "BatteryPassUnmapped" {
            assert!(sem.starts_with("urn:samm:io.BatteryPass."), "{ptr}: {sem}");
        }
    }
}

/// A text too long for a MultiLanguageProperty moves to the residual submodel as a string;
/// a member name that cannot be an idShort is refused, never emitted.
#[test]
fn the_mapper_keeps_the_engine_rules_on_odd_data() {
    let mut p = demo("ev-battery");
    let long = "x".repeat(1100);
    p.data["generalProductInformation"]["manufacturerInformation"]["contactName"] =
        Value::from(long.clone());
    let env = aas::environment(&view(&p, Audience::Public), BASE).unwrap();
    let nameplate = &env["submodels"][0];
    assert!(!nameplate["submodelElements"]
        .as_array()
        .unwrap()
        .iter()
        .any(|e| e["idShort"] == "ManufacturerName"));
    let residual = env["submodels"].as_array().unwrap().last().unwrap();
    assert_eq!(residual["idShort"], "BatteryPassUnmapped");
    let text = serde_json::to_string(residual).unwrap();
    assert!(text.contains(&format!(r#""value":"{long}","valueType":"xs:string""#)));

    // An unknown member is authority-only (fail closed) and has no idShort form.
    p.data["generalProductInformation"]["x-extra"] = Value::from("odd");
    assert!(aas::environment(&view(&p, Audience::Public), BASE).is_ok());
    let err = aas::environment(&view(&p, Audience::Authority), BASE).unwrap_err();
    assert!(
        matches!(&err, AasError::Rule { rule, .. } if rule.contains("x-extra")),
        "{err}"
    );
}
