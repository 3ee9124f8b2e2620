//! The committed battery plugin: its hash matches its signed manifest, and it finds what
//! JSON Schema cannot in the BatteryPass 1.2.0 sample. Needs no wasm toolchain.
#![allow(clippy::unwrap_used, clippy::expect_used)]

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

/// The seven BatteryPass samples composed into battery sector data, with the sample's
/// out-of-range integer replaced (as in hallmark-core's `composite_signable`).
fn composite() -> Value {
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

/// The composite with the sample's placeholder numbers made plausible: no findings.
fn clean() -> Value {
    let mut v = composite();
    for (p, x) in [
        (
            "/carbonFootprintForBatteries/carbonFootprintPerLifecycleStage/0/carbonFootprint",
            json!(60.5),
        ),
        (
            "/carbonFootprintForBatteries/batteryCarbonFootprint",
            json!(60.5),
        ),
        (
            "/carbonFootprintForBatteries/absoluteCarbonFootprint",
            json!(4235.0),
        ),
        (
            "/circularity/recycledContent/0/preConsumerShare",
            json!(12.0),
        ),
        (
            "/circularity/recycledContent/0/postConsumerShare",
            json!(4.5),
        ),
        (
            "/materialComposition/batteryMaterials/0/batteryMaterialMass",
            json!(8.2),
        ),
    ] {
        *v.pointer_mut(p).unwrap() = x;
    }
    v
}

/// A named edit of the clean sample and the findings it must give.
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
    assert_eq!(info.limits.fuel, 50_000_000);
    assert!(sb.plugin_for("battery", "1.1.0").is_none());
}

#[test]
fn batterypass_sample_gives_the_expected_findings() {
    let findings = sandbox()
        .validate("battery", "1.2.0", &composite())
        .unwrap();
    assert_eq!(
        summary(&findings),
        vec![
            (Severity::Error, "/circularity/recycledContent/0"),
            (
                Severity::Error,
                "/carbonFootprintForBatteries/carbonFootprintPerLifecycleStage/0/carbonFootprint"
            ),
            (
                Severity::Error,
                "/carbonFootprintForBatteries/batteryCarbonFootprint"
            ),
            (
                Severity::Error,
                "/carbonFootprintForBatteries/absoluteCarbonFootprint"
            ),
            (
                Severity::Warning,
                "/materialComposition/batteryMaterials/0/batteryMaterialMass"
            ),
        ],
        "{findings:#?}"
    );
    assert!(
        findings[0].message.contains("more than 100 %"),
        "{}",
        findings[0].message
    );
}

#[test]
fn plausible_sample_has_no_findings() {
    let findings = sandbox().validate("battery", "1.2.0", &clean()).unwrap();
    assert_eq!(findings, vec![], "{findings:#?}");
}

#[test]
fn rules_schema_cannot_express() {
    let sb = sandbox();
    let cases: Vec<Case> = vec![
        (
            "share out of range",
            json!({"/circularity/recycledContent/0/postConsumerShare": -3.0}),
            vec![(
                Severity::Error,
                "/circularity/recycledContent/0/postConsumerShare",
            )],
        ),
        (
            "stages do not sum to the total",
            json!({"/carbonFootprintForBatteries/batteryCarbonFootprint": 70.0}),
            vec![(
                Severity::Error,
                "/carbonFootprintForBatteries/batteryCarbonFootprint",
            )],
        ),
        (
            "stages sum within 1 %",
            json!({"/carbonFootprintForBatteries/batteryCarbonFootprint": 61.0}),
            vec![],
        ),
        (
            "put into service before manufacture",
            json!({"/generalProductInformation/puttingIntoService": "2025-06-17T10:14:27+02:00"}),
            vec![(
                Severity::Error,
                "/generalProductInformation/puttingIntoService",
            )],
        ),
        (
            "same instant in another offset is fine",
            json!({"/generalProductInformation/puttingIntoService": "2025-06-17T09:14:27.698Z"}),
            vec![],
        ),
        (
            "unparseable date",
            json!({"/generalProductInformation/manufacturingDate": "17/06/2025"}),
            vec![(
                Severity::Error,
                "/generalProductInformation/manufacturingDate",
            )],
        ),
        (
            "recycled lead in a lithium battery",
            json!({"/circularity/recycledContent/0/recycledMaterial": "Lead"}),
            vec![(
                Severity::Warning,
                "/circularity/recycledContent/0/recycledMaterial",
            )],
        ),
        (
            "LMT battery without carbon footprint stages",
            json!({"/carbonFootprintForBatteries/carbonFootprintPerLifecycleStage": []}),
            vec![(
                Severity::Error,
                "/carbonFootprintForBatteries/carbonFootprintPerLifecycleStage",
            )],
        ),
        (
            "EV battery needs performance data",
            json!({"/generalProductInformation/batteryCategory": "ev", "/performanceAndDurability": null}),
            vec![(Severity::Error, "/performanceAndDurability")],
        ),
    ];
    for (name, edits, expected) in cases {
        let mut v = clean();
        for (p, x) in edits.as_object().unwrap() {
            *v.pointer_mut(p).unwrap() = x.clone();
        }
        let findings = sb.validate("battery", "1.2.0", &v).unwrap();
        assert_eq!(summary(&findings), expected, "{name}: {findings:#?}");
    }
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
