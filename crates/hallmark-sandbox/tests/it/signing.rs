//! Plugin admission: signed manifests from trusted publishers only, unless the development
//! flag is set (which a production profile refuses).

use crate::common;

use common::{data, good};
use ed25519_dalek::SigningKey;
use hallmark_sandbox::{
    module_sha256, Limits, LoaderConfig, Manifest, ModuleRef, RequestedLimits, Sandbox,
    SandboxError, SectorSupport,
};

fn publisher(n: u8) -> SigningKey {
    SigningKey::from_bytes(&[n; 32])
}

fn manifest_for(wasm: &[u8]) -> Manifest {
    Manifest {
        abi: 1,
        name: "wat-good".into(),
        version: "1.0.0".into(),
        sectors: vec![SectorSupport {
            id: "good".into(),
            schema_versions: vec!["1.0.0".into()],
        }],
        module: ModuleRef {
            sha256: module_sha256(wasm),
        },
        limits: RequestedLimits {
            fuel: Some(1_000_000),
            ..RequestedLimits::default()
        },
    }
}

fn production_host() -> Sandbox {
    let loader = LoaderConfig {
        trusted_publishers: vec![publisher(1).verifying_key()],
        allow_unsigned: false,
    };
    loader.check_profile(true).unwrap();
    Sandbox::new(Limits::default(), loader).unwrap()
}

#[test]
fn trusted_signed_plugin_loads_with_its_requested_limits() {
    let wasm = good("good");
    let signed = manifest_for(&wasm).sign(&publisher(1)).unwrap();
    let sb = production_host();
    let info = sb.load(&wasm, Some(&signed)).unwrap();
    assert!(info.signed);
    assert_eq!(info.limits.fuel, 1_000_000);
    assert_eq!(info.limits.memory_bytes, 64 * 1024 * 1024);
    assert_eq!(sb.validate("good", "1.0.0", &data()).unwrap().len(), 1);
}

#[test]
fn signed_manifest_round_trips_through_json() {
    let wasm = good("good");
    let signed = manifest_for(&wasm).sign(&publisher(1)).unwrap();
    let text = serde_json::to_vec_pretty(&signed).unwrap();
    let back = hallmark_sandbox::SignedManifest::from_json(&text).unwrap();
    back.verify(&[publisher(1).verifying_key()], &wasm).unwrap();
}

#[test]
fn unsigned_plugin_is_refused_without_the_dev_flag() {
    let sb = production_host();
    assert_eq!(
        sb.load(&good("good"), None).unwrap_err(),
        SandboxError::Unsigned
    );
}

#[test]
fn untrusted_publisher_is_refused() {
    let wasm = good("good");
    let signed = manifest_for(&wasm).sign(&publisher(2)).unwrap();
    let err = production_host().load(&wasm, Some(&signed)).unwrap_err();
    assert!(
        matches!(err, SandboxError::UntrustedPublisher(_)),
        "{err:?}"
    );
}

#[test]
fn tampered_manifest_is_refused() {
    let wasm = good("good");
    let mut signed = manifest_for(&wasm).sign(&publisher(1)).unwrap();
    signed.manifest.limits.fuel = Some(2_000_000);
    let err = production_host().load(&wasm, Some(&signed)).unwrap_err();
    assert_eq!(err, SandboxError::BadSignature);
}

#[test]
fn module_hash_mismatch_is_refused() {
    let wasm = good("good");
    let signed = manifest_for(&wasm).sign(&publisher(1)).unwrap();
    let other = common::plugin_wat("good", "", "(global.get $ok)", "(func)");
    let err = production_host().load(&other, Some(&signed)).unwrap_err();
    assert!(matches!(err, SandboxError::HashMismatch { .. }), "{err:?}");
}

#[test]
fn limits_above_host_caps_are_refused() {
    let wasm = good("good");
    let mut m = manifest_for(&wasm);
    m.limits.memory_bytes = Some(128 * 1024 * 1024);
    let signed = m.sign(&publisher(1)).unwrap();
    let err = production_host().load(&wasm, Some(&signed)).unwrap_err();
    assert!(
        matches!(
            err,
            SandboxError::LimitsExceedHost {
                what: "memoryBytes",
                ..
            }
        ),
        "{err:?}"
    );
}

#[test]
fn manifest_must_match_what_the_module_describes() {
    let wasm = good("good");
    let mut m = manifest_for(&wasm);
    m.sectors[0].id = "battery".into();
    let signed = m.sign(&publisher(1)).unwrap();
    let err = production_host().load(&wasm, Some(&signed)).unwrap_err();
    assert!(matches!(err, SandboxError::ManifestMismatch(_)), "{err:?}");
}

#[test]
fn production_profile_refuses_the_dev_flag() {
    let loader = LoaderConfig {
        trusted_publishers: vec![],
        allow_unsigned: true,
    };
    assert_eq!(
        loader.check_profile(true).unwrap_err(),
        SandboxError::DevelopmentFlagInProduction
    );
    loader.check_profile(false).unwrap();
}

#[test]
fn host_memory_cap_cannot_exceed_64_mib() {
    let limits = Limits {
        memory_bytes: 65 * 1024 * 1024,
        ..Limits::default()
    };
    let err = Sandbox::new(limits, LoaderConfig::default()).unwrap_err();
    assert!(
        matches!(err, SandboxError::LimitsExceedHost { .. }),
        "{err:?}"
    );
}
