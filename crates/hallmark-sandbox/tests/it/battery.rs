//! The committed battery plugin: its hash matches its signed manifest (CI cannot rebuild
//! the module), the demo's realistic passports pass it, and it refuses physically impossible
//! values — each class of rule, with the pointer — including the upstream BatteryPass
//! samples' generated ones. Needs no wasm toolchain.

use hallmark_core::keys::decode_public_key_multibase;
use hallmark_sandbox::{
    module_sha256, Finding, Limits, LoaderConfig, Sandbox, SandboxError, Severity, SignedManifest,
};
use serde_json::{json, Value};

const PLUGIN: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../plugins/battery/");
const DATASET: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../../shared/datasets/batterypass-1.2.0/"
);
const DEMO: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../hallmark/demo/");

fn read(name: &str) -> Vec<u8> {
    std::fs::read(format!("{PLUGIN}{name}")).unwrap()
}

fn manifest() -> SignedManifest {
    SignedManifest::from_json(&read("battery.manifest.json")).unwrap()
}

fn sandbox() -> Sandbox {
    let publ = String::from_utf8(read("publisher.pub")).unwrap();
    let loader = LoaderConfig {
        trusted_publishers: vec![decode_public_key_multibase(publ.trim()).unwrap()],
        allow_unsigned: false,
    };
    let sb = Sandbox::new(Limits::default(), loader).unwrap();
    sb.load(&read("battery.wasm"), Some(&manifest())).unwrap();
    sb
}

/// The seven upstream BatteryPass 1.2.0 sample payloads composed into battery sector data
/// (the out-of-range integer and the CAS number with a trailing space fixed, as in
/// hallmark-core's `composite_signable`, so that they pass JSON Schema). Their generated
/// values are not plausible: they are a schema fixture, and the plugin must refuse them.
fn upstream_samples() -> Value {
    let mut map = serde_json::Map::new();
    for (key, file) in [
        (
            "generalProductInformation",
            "GeneralProductInformation-payload.json",
        ),
        (
            "carbonFootprintForBatteries",
            "CarbonFootprintForBatteries-payload.json",
        ),
        (
            "supplyChainDueDiligence",
            "SupplyChainDueDiligence-payload.json",
        ),
        ("materialComposition", "MaterialComposition-payload.json"),
        ("circularity", "Circularity.json"),
        (
            "performanceAndDurability",
            "PerformanceAndDurability-payload.json",
        ),
        ("labeling", "Labeling-payload.json"),
    ] {
        let text = std::fs::read_to_string(format!("{DATASET}{file}")).unwrap();
        map.insert(key.to_owned(), serde_json::from_str(&text).unwrap());
    }
    let mut v = Value::Object(map);
    *v.pointer_mut("/performanceAndDurability/batteryTechicalProperties/expectedNumberOfCycles")
        .unwrap() = json!(3000);
    *v.pointer_mut("/materialComposition/batteryMaterials/0/batteryMaterialIdentifier")
        .unwrap() = json!("7439-93-2");
    v
}

/// The sector data of one of the demo's passports (`crates/hallmark/demo/`).
fn demo(name: &str) -> Value {
    let text = std::fs::read_to_string(format!("{DEMO}{name}-battery.json")).unwrap();
    let draft: Value = serde_json::from_str(&text).unwrap();
    draft["data"].clone()
}

/// The demo's EV battery: realistic, no findings; the base every case edits.
fn clean() -> Value {
    demo("ev")
}

/// A named edit of the clean passport and the findings it must give.
type Case = (&'static str, Value, Vec<(Severity, &'static str)>);

fn summary(findings: &[Finding]) -> Vec<(Severity, &str)> {
    findings
        .iter()
        .map(|f| (f.severity, f.pointer.as_str()))
        .collect()
}

#[test]
fn committed_module_matches_its_signed_manifest() {
    let wasm = read("battery.wasm");
    let m = manifest();
    assert_eq!(module_sha256(&wasm), m.manifest.module.sha256);
    let publ = String::from_utf8(read("publisher.pub")).unwrap();
    assert_eq!(publ.trim(), m.publisher_key_multibase);
    m.verify(&[decode_public_key_multibase(publ.trim()).unwrap()], &wasm)
        .unwrap();
}

#[test]
fn battery_plugin_describes_itself() {
    let sb = sandbox();
    let info = sb.plugin_for("battery", "1.2.0").unwrap();
    assert!(info.signed);
    assert_eq!(info.description.name, "hallmark-battery");
    assert_eq!(info.description.version, "0.2.1");
    assert_eq!(info.limits.fuel, 50_000_000);
    assert!(sb.plugin_for("battery", "1.1.0").is_none());
}

#[test]
fn demo_passports_have_no_findings() {
    let sb = sandbox();
    for name in ["ev", "industrial", "lmt"] {
        let findings = sb.validate("battery", "1.2.0", &demo(name)).unwrap();
        assert_eq!(findings, vec![], "{name}: {findings:#?}");
    }
}

/// The upstream samples' generated values (`"nominalVoltage": -3.18e38`, telnet and ftp
/// addresses, a random string as performance class, -1.8e308 %) are refused, each where it is.
#[test]
fn upstream_samples_generated_values_are_refused() {
    let findings = sandbox()
        .validate("battery", "1.2.0", &upstream_samples())
        .unwrap();
    let errors: Vec<&str> = findings
        .iter()
        .filter(|f| f.severity == Severity::Error)
        .map(|f| f.pointer.as_str())
        .collect();
    for pointer in [
        "/performanceAndDurability/batteryTechicalProperties/nominalVoltage",
        "/performanceAndDurability/batteryTechicalProperties/minimumVoltage",
        "/performanceAndDurability/batteryTechicalProperties/maximumVoltage",
        "/performanceAndDurability/batteryTechicalProperties/ratedCapacity",
        "/performanceAndDurability/batteryTechicalProperties/ratedEnergy",
        "/performanceAndDurability/batteryTechicalProperties/roundtripEfficiency",
        "/materialComposition/hazardousSubstances/0/hazardousSubstanceConcentration",
        "/circularity/renewableContent",
        "/circularity/recycledContent/0",
        "/carbonFootprintForBatteries/carbonFootprintPerformanceClass",
        "/carbonFootprintForBatteries/carbonFootprintStudy",
        "/generalProductInformation/manufacturerInformation/webAddress",
        "/generalProductInformation/operatorInformation/webAddress",
        "/circularity/dismantlingAndRemovalInformation/0/documentURL",
        "/circularity/dismantlingAndRemovalInformation/0/mimeType",
        "/supplyChainDueDiligence/supplyChainIndicies",
        "/performanceAndDurability/batteryCondition/stateOfCharge/stateOfChargeValue",
    ] {
        assert!(
            errors.contains(&pointer),
            "{pointer} not refused: {findings:#?}"
        );
    }
    let voltage = findings
        .iter()
        .find(|f| f.pointer.ends_with("/nominalVoltage"))
        .unwrap();
    assert_eq!(
        voltage.message,
        "nominal voltage -3.1849857e38 V is not physically possible: expected above 0 V and at \
         most 2000 V"
    );
}

/// One edit of the clean EV passport per case, and exactly the findings it must give.
fn assert_cases(cases: Vec<Case>) {
    let sb = sandbox();
    for (name, edits, expected) in cases {
        let mut v = clean();
        for (p, x) in edits.as_object().unwrap() {
            *v.pointer_mut(p)
                .unwrap_or_else(|| panic!("{name}: no {p} in the demo data")) = x.clone();
        }
        let findings = sb.validate("battery", "1.2.0", &v).unwrap();
        assert_eq!(summary(&findings), expected, "{name}: {findings:#?}");
    }
}

const TECH: &str = "/performanceAndDurability/batteryTechicalProperties";

fn tech(field: &str) -> String {
    format!("{TECH}/{field}")
}

fn error(pointer: &'static str) -> Vec<(Severity, &'static str)> {
    vec![(Severity::Error, pointer)]
}

#[test]
fn impossible_electrical_values_are_refused() {
    assert_cases(vec![
        (
            "negative voltage",
            json!({ tech("nominalVoltage"): -3.1849857e38 }),
            error("/performanceAndDurability/batteryTechicalProperties/nominalVoltage"),
        ),
        (
            "absurd voltage",
            json!({ tech("maximumVoltage"): 40000.0 }),
            error("/performanceAndDurability/batteryTechicalProperties/maximumVoltage"),
        ),
        (
            "zero volts",
            json!({ tech("minimumVoltage"): 0.0 }),
            error("/performanceAndDurability/batteryTechicalProperties/minimumVoltage"),
        ),
        (
            "minimum voltage above nominal",
            json!({ tech("minimumVoltage"): 380.0 }),
            error("/performanceAndDurability/batteryTechicalProperties/minimumVoltage"),
        ),
        (
            "maximum voltage below nominal",
            json!({ tech("maximumVoltage"): 350.0 }),
            error("/performanceAndDurability/batteryTechicalProperties/maximumVoltage"),
        ),
        (
            "negative capacity",
            json!({ tech("ratedCapacity"): -216.0 }),
            error("/performanceAndDurability/batteryTechicalProperties/ratedCapacity"),
        ),
        (
            "absurd capacity",
            json!({ tech("ratedCapacity"): 2.994716e38 }),
            error("/performanceAndDurability/batteryTechicalProperties/ratedCapacity"),
        ),
        (
            "energy in Wh where kWh belong",
            json!({ tech("ratedEnergy"): 76700.0 }),
            error("/performanceAndDurability/batteryTechicalProperties/ratedEnergy"),
        ),
        (
            "negative energy",
            json!({ tech("ratedEnergy"): -1.2185897e38 }),
            error("/performanceAndDurability/batteryTechicalProperties/ratedEnergy"),
        ),
        (
            "negative power",
            json!({ tech("ratedMaximumPower"): -250.0 }),
            error("/performanceAndDurability/batteryTechicalProperties/ratedMaximumPower"),
        ),
        (
            "efficiency above 100 %",
            json!({ tech("roundtripEfficiency"): 101.0 }),
            error("/performanceAndDurability/batteryTechicalProperties/roundtripEfficiency"),
        ),
        (
            "zero internal resistance",
            json!({ tech("initialInternalResistance/0/ohmicResistance"): 0.0 }),
            error(
                "/performanceAndDurability/batteryTechicalProperties/initialInternalResistance/0/ohmicResistance",
            ),
        ),
        (
            "a fraction of a cycle",
            json!({ tech("expectedNumberOfCycles"): 1500.5 }),
            error("/performanceAndDurability/batteryTechicalProperties/expectedNumberOfCycles"),
        ),
        (
            "state of charge above 100 %",
            json!({ "/performanceAndDurability/batteryCondition/stateOfCharge/stateOfChargeValue": 101.0 }),
            error("/performanceAndDurability/batteryCondition/stateOfCharge/stateOfChargeValue"),
        ),
        (
            "negative energy throughput",
            json!({ "/performanceAndDurability/batteryCondition/energyThroughput": -1.0 }),
            error("/performanceAndDurability/batteryCondition/energyThroughput"),
        ),
        (
            "no rule names it, but no battery quantity is 10^12",
            json!({ tech("temperatureRangeIdleState"): 1.0e12 }),
            error("/performanceAndDurability/batteryTechicalProperties/temperatureRangeIdleState"),
        ),
    ]);
}

#[test]
fn impossible_masses_and_shares_are_refused() {
    assert_cases(vec![
        (
            "negative battery mass",
            json!({"/generalProductInformation/batteryMass": -452.0}),
            error("/generalProductInformation/batteryMass"),
        ),
        (
            "absurd battery mass",
            json!({"/generalProductInformation/batteryMass": 1.0e7}),
            error("/generalProductInformation/batteryMass"),
        ),
        (
            "materials heavier than the battery (kg typed for g)",
            json!({"/generalProductInformation/batteryMass": 60.0}),
            vec![
                (
                    Severity::Error,
                    "/materialComposition/batteryMaterials/4/batteryMaterialMass",
                ),
                (
                    Severity::Error,
                    "/materialComposition/batteryMaterials/6/batteryMaterialMass",
                ),
            ],
        ),
        (
            "materials heavier than the battery together",
            json!({"/generalProductInformation/batteryMass": 200.0}),
            error("/materialComposition/batteryMaterials"),
        ),
        (
            "negative material mass",
            json!({"/materialComposition/batteryMaterials/0/batteryMaterialMass": -7700.0}),
            error("/materialComposition/batteryMaterials/0/batteryMaterialMass"),
        ),
        (
            "negative concentration",
            json!({"/materialComposition/hazardousSubstances/0/hazardousSubstanceConcentration": -1.7976931348623157e308}),
            error("/materialComposition/hazardousSubstances/0/hazardousSubstanceConcentration"),
        ),
        (
            "concentration above 100 %",
            json!({"/materialComposition/hazardousSubstances/1/hazardousSubstanceConcentration": 130.0}),
            error("/materialComposition/hazardousSubstances/1/hazardousSubstanceConcentration"),
        ),
        (
            "renewable content above 100 %",
            json!({"/circularity/renewableContent": 2.490925e38}),
            error("/circularity/renewableContent"),
        ),
        (
            "share out of range",
            json!({"/circularity/recycledContent/0/postConsumerShare": -3.0}),
            error("/circularity/recycledContent/0/postConsumerShare"),
        ),
        (
            "shares add up to more than 100 %",
            json!({"/circularity/recycledContent/0/preConsumerShare": 54.426945,
                   "/circularity/recycledContent/0/postConsumerShare": 56.890068}),
            error("/circularity/recycledContent/0"),
        ),
        (
            "state of certified energy above 100 %",
            json!({"/performanceAndDurability/batteryCondition/stateOfCertifiedEnergy/stateOfCertifiedEnergyValue": 230.0}),
            error(
                "/performanceAndDurability/batteryCondition/stateOfCertifiedEnergy/stateOfCertifiedEnergyValue",
            ),
        ),
        (
            "recycled lead in a lithium battery (a warning)",
            json!({"/circularity/recycledContent/0/recycledMaterial": "Lead"}),
            vec![(
                Severity::Warning,
                "/circularity/recycledContent/0/recycledMaterial",
            )],
        ),
    ]);
}

#[test]
fn carbon_footprint_rules() {
    assert_cases(vec![
        (
            "a random string as performance class",
            json!({"/carbonFootprintForBatteries/carbonFootprintPerformanceClass": "eOMtThyhVNLWUZNRcBaQKxI"}),
            error("/carbonFootprintForBatteries/carbonFootprintPerformanceClass"),
        ),
        (
            "a class after G",
            json!({"/carbonFootprintForBatteries/carbonFootprintPerformanceClass": "H"}),
            error("/carbonFootprintForBatteries/carbonFootprintPerformanceClass"),
        ),
        (
            "class G",
            json!({"/carbonFootprintForBatteries/carbonFootprintPerformanceClass": "G"}),
            vec![],
        ),
        (
            "negative stage",
            json!({"/carbonFootprintForBatteries/carbonFootprintPerLifecycleStage/0/carbonFootprint": -1.7976931348623157e308}),
            error(
                "/carbonFootprintForBatteries/carbonFootprintPerLifecycleStage/0/carbonFootprint",
            ),
        ),
        (
            "stages do not sum to the total",
            json!({"/carbonFootprintForBatteries/batteryCarbonFootprint": 0.07}),
            error("/carbonFootprintForBatteries/batteryCarbonFootprint"),
        ),
        (
            "stages sum within 1 %",
            json!({"/carbonFootprintForBatteries/batteryCarbonFootprint": 0.0512}),
            vec![],
        ),
        (
            "a stage twice",
            json!({"/carbonFootprintForBatteries/carbonFootprintPerLifecycleStage/1/lifecycleStage": "RawMaterialExtraction"}),
            error("/carbonFootprintForBatteries/carbonFootprintPerLifecycleStage/1/lifecycleStage"),
        ),
        (
            "EV battery without carbon footprint stages",
            json!({"/carbonFootprintForBatteries/carbonFootprintPerLifecycleStage": []}),
            error("/carbonFootprintForBatteries/carbonFootprintPerLifecycleStage"),
        ),
        (
            "EV battery needs performance data",
            json!({"/performanceAndDurability": null}),
            error("/performanceAndDurability"),
        ),
    ]);
}

#[test]
fn addresses_must_be_web_urls() {
    assert_cases(vec![
        (
            "telnet",
            json!({"/generalProductInformation/manufacturerInformation/webAddress": "telnet://192.0.2.16:80/"}),
            error("/generalProductInformation/manufacturerInformation/webAddress"),
        ),
        (
            "ftp",
            json!({"/circularity/endOfLifeInformation/separateCollection": "ftp://ftp.is.co.za/rfc/rfc1808.txt"}),
            error("/circularity/endOfLifeInformation/separateCollection"),
        ),
        (
            "no host",
            json!({"/labeling/labels/0/labelingSymbol": "https:///separate-collection.svg"}),
            error("/labeling/labels/0/labelingSymbol"),
        ),
        (
            "a URN is not a web address",
            json!({"/carbonFootprintForBatteries/carbonFootprintStudy": "urn:isbn:0451450523"}),
            error("/carbonFootprintForBatteries/carbonFootprintStudy"),
        ),
        (
            "plain http is a web address",
            json!({"/supplyChainDueDiligence/thirdPartyAussurances": "http://assurance.example.org/2025"}),
            vec![],
        ),
        (
            "not a MIME type",
            json!({"/circularity/dismantlingAndRemovalInformation/0/mimeType": "eOMtThyhVNLWUZNRcBaQKxI"}),
            error("/circularity/dismantlingAndRemovalInformation/0/mimeType"),
        ),
    ]);
}

#[test]
fn dates_in_the_wrong_order_are_refused() {
    assert_cases(vec![
        (
            "put into service before manufacture",
            json!({"/generalProductInformation/puttingIntoService": "2025-03-14T06:41:59+01:00"}),
            error("/generalProductInformation/puttingIntoService"),
        ),
        (
            "same instant in another offset is fine",
            json!({"/generalProductInformation/puttingIntoService": "2025-03-14T05:42:00Z"}),
            vec![],
        ),
        (
            "unparseable date",
            json!({"/generalProductInformation/manufacturingDate": "14/03/2025"}),
            error("/generalProductInformation/manufacturingDate"),
        ),
        (
            "condition recorded before the battery was made",
            json!({"/performanceAndDurability/batteryCondition/stateOfCharge/lastUpdate": "2024-12-31T23:00:00Z"}),
            error("/performanceAndDurability/batteryCondition/stateOfCharge/lastUpdate"),
        ),
        (
            "remaining power capability measured before the battery was made",
            json!({"/performanceAndDurability/batteryCondition/remainingPowerCapability/1/remainingPowerCapabilityValue/rPCLastUpdated": "2025-01-31T14:06:29.437"}),
            error(
                "/performanceAndDurability/batteryCondition/remainingPowerCapability/1/remainingPowerCapabilityValue/rPCLastUpdated",
            ),
        ),
    ]);
}

#[test]
fn tampered_committed_module_is_refused() {
    let mut wasm = read("battery.wasm");
    let last = wasm.len() - 1;
    wasm[last] ^= 1;
    let publ = String::from_utf8(read("publisher.pub")).unwrap();
    let sb = Sandbox::new(
        Limits::default(),
        LoaderConfig {
            trusted_publishers: vec![decode_public_key_multibase(publ.trim()).unwrap()],
            allow_unsigned: false,
        },
    )
    .unwrap();
    let err = sb.load(&wasm, Some(&manifest())).unwrap_err();
    assert!(matches!(err, SandboxError::HashMismatch { .. }), "{err:?}");
}
