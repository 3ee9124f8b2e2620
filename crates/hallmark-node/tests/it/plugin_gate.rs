//! The sector-plugin gate in the publish path, over real HTTP on SQLite and PostgreSQL:
//! plugin findings block publication with 422 and leave the draft (and the log) untouched;
//! a good passport publishes through the committed, signed battery plugin; hostile plugins
//! (loop, memory growth, recursion, oversized output) fail closed with 503 while the same
//! node keeps serving reads and publishing; start-up refuses plugins that do not verify.

use crate::wasm;
use ed25519_dalek::SigningKey;
use hallmark_core::did::DidDocument;
use hallmark_core::keys::{decode_public_key_multibase, public_key_multibase};
use hallmark_core::verify::verify;
use hallmark_node::config::{Config, PluginSettings, Profile};
use hallmark_node::node::{self, StartError};
use hallmark_node::plugins::PluginLoadError;
use hallmark_sandbox::{
    module_sha256, Manifest, ModuleRef, RequestedLimits, SandboxError, SectorSupport,
};
use hallmark_testkit as kit;
use kit::{Backend, Reply, TestNode};
use reqwest::Method;
use serde_json::{json, Value};
use std::path::{Path, PathBuf};

const BATTERY: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../plugins/battery/");

// ------------------------------------------------------------------ plugins on disk

/// A publisher key generated for this test run (not the battery publisher).
fn test_publisher() -> SigningKey {
    use rand_core::RngCore;
    let mut seed = [0u8; 32];
    rand_core::OsRng.fill_bytes(&mut seed);
    SigningKey::from_bytes(&seed)
}

fn battery_publisher_file() -> PathBuf {
    PathBuf::from(format!("{BATTERY}publisher.pub"))
}

/// `<root>/plugins`, holding the committed battery plugin (module + signed manifest; files
/// already there are left as they are).
fn plugin_dir(root: &Path) -> PathBuf {
    let dir = root.join("plugins");
    std::fs::create_dir_all(&dir).unwrap();
    for f in ["battery.wasm", "battery.manifest.json"] {
        if !dir.join(f).exists() {
            std::fs::copy(format!("{BATTERY}{f}"), dir.join(f)).unwrap();
        }
    }
    dir
}

/// The manifest of a WAT plugin from `wasm::plugin_wat` for `sector` 1.0.0.
fn wat_manifest(module: &[u8], sector: &str, limits: RequestedLimits) -> Manifest {
    Manifest {
        abi: 1,
        name: format!("wat-{sector}"),
        version: "1.0.0".into(),
        sectors: vec![SectorSupport {
            id: sector.into(),
            schema_versions: vec!["1.0.0".into()],
        }],
        module: ModuleRef {
            sha256: module_sha256(module),
        },
        limits,
    }
}

/// Write `<name>.wasm` and, when given, its manifest signed by `key`.
fn install(dir: &Path, name: &str, module: &[u8], manifest: Option<(Manifest, &SigningKey)>) {
    std::fs::write(dir.join(format!("{name}.wasm")), module).unwrap();
    if let Some((m, key)) = manifest {
        let signed = m.sign(key).unwrap();
        std::fs::write(
            dir.join(format!("{name}.manifest.json")),
            serde_json::to_vec_pretty(&signed).unwrap(),
        )
        .unwrap();
    }
}

/// The hostile plugins: name, validate body, extra fields, limits asked for, failure slug.
fn hostile() -> Vec<(
    &'static str,
    &'static str,
    &'static str,
    RequestedLimits,
    &'static str,
)> {
    let fuel = RequestedLimits {
        fuel: Some(5_000_000),
        ..RequestedLimits::default()
    };
    vec![
        (
            "loop",
            "(loop $l (br $l)) (unreachable)",
            "",
            fuel,
            "out-of-fuel",
        ),
        (
            "grow",
            "(loop $l (br_if $l (i32.ne (memory.grow (i32.const 16)) (i32.const -1)))) (global.get $ok)",
            "",
            RequestedLimits::default(),
            "memory-limit",
        ),
        (
            "recurse",
            "(drop (call $r (i32.const 0))) (global.get $ok)",
            "(func $r (param i32) (result i32) (call $r (i32.add (local.get 0) (i32.const 1))))",
            RequestedLimits::default(),
            "trap",
        ),
        (
            "big",
            "(drop (memory.grow (i32.const 256))) (i64.const 16777216)",
            "",
            RequestedLimits::default(),
            "output-too-large",
        ),
    ]
}

/// A plugin directory with the battery plugin and one hostile plugin for `generic` 1.0.0,
/// signed by a test publisher; the settings trust both publishers.
fn hostile_settings(
    root: &Path,
    body: &str,
    extra: &str,
    limits: RequestedLimits,
) -> PluginSettings {
    let dir = plugin_dir(root);
    let key = test_publisher();
    let module = wasm::plugin_wat("generic", "", body, extra);
    let manifest = wat_manifest(&module, "generic", limits);
    install(&dir, "hostile", &module, Some((manifest, &key)));
    PluginSettings {
        dir: Some(dir),
        trusted_keys: vec![
            decode_public_key_multibase(
                std::fs::read_to_string(battery_publisher_file())
                    .unwrap()
                    .trim(),
            )
            .unwrap(),
            key.verifying_key(),
        ],
        allow_unsigned: false,
        required: vec!["battery".into()],
    }
}

fn battery_settings(root: &Path) -> PluginSettings {
    let dir = plugin_dir(root);
    let keys = Config::load(None, &|k| match k {
        "HALLMARK_PLUGIN_DIR" => Some(dir.display().to_string()),
        "HALLMARK_PLUGIN_TRUSTED_KEYS" => Some(battery_publisher_file().display().to_string()),
        "HALLMARK_PLUGIN_REQUIRED" => Some("battery".into()),
        _ => None,
    })
    .unwrap()
    .validate(Profile::Development)
    .unwrap();
    keys.plugins
}

// ------------------------------------------------------------------ the node

/// A node with a write-scope API key (Bearer): unlike the admin login, its use adds no audit
/// event.
struct Node(kit::Node);

impl std::ops::Deref for Node {
    type Target = kit::Node;

    fn deref(&self) -> &kit::Node {
        &self.0
    }
}

/// A node whose plugins come from `settings(dir)` through the start-up loader.
async fn start(backend: Backend, settings: impl FnOnce(&Path) -> PluginSettings) -> Node {
    Node(
        TestNode::new(backend)
            .plugins(settings)
            .api_key("write", "plugin gate test")
            .start()
            .await,
    )
}

impl Node {
    async fn call(&self, method: Method, path: &str, body: Option<&Value>) -> Reply {
        self.0.call(method, path, Some(self.bearer()), body).await
    }

    async fn get_public(&self, path: &str) -> Reply {
        self.0.get(path).await
    }

    /// Creates a draft; returns its id.
    async fn create(&self, draft: &Value) -> String {
        let r = self
            .call(Method::POST, "/api/v1/passports", Some(draft))
            .await;
        assert_eq!(r.status, 201, "{}", String::from_utf8_lossy(&r.body));
        r.json()["id"].as_str().unwrap().to_string()
    }

    async fn publish(&self, id: &str) -> Reply {
        self.call(
            Method::POST,
            &format!("/api/v1/passports/{id}/publish"),
            None,
        )
        .await
    }

    /// Every audit action so far, in order.
    async fn actions(&self) -> Vec<String> {
        self.running
            .app
            .store
            .list_audit(1, 10_000)
            .await
            .unwrap()
            .into_iter()
            .map(|r| r.event.action)
            .collect()
    }

    async fn leaves(&self) -> usize {
        self.running
            .app
            .store
            .list_leaf_hashes(0, 10_000)
            .await
            .unwrap()
            .len()
    }

    /// The passport is still an unpublished draft: admin view and public 404.
    async fn assert_still_draft(&self, id: &str) {
        let one = self
            .call(Method::GET, &format!("/api/v1/passports/{id}"), None)
            .await;
        assert_eq!(one.status, 200);
        let one = one.json();
        assert_eq!(one["status"], "draft", "{one}");
        assert_eq!(one["currentVersion"], 0);
        assert!(one["current"].is_null());
        assert_eq!(one["draft"]["version"], 1);
        self.get_public(&format!("/passports/{id}"))
            .await
            .problem(404, "not-found");
    }

    /// Still serving: health, the DID document, and a good battery passport publishes
    /// through the battery plugin and is served, verifiably.
    async fn assert_still_serving_and_publishing(&self, serial: &str) {
        let h = self.get_public("/health").await;
        assert_eq!(h.status, 200, "{}", String::from_utf8_lossy(&h.body));
        let id = self.create(&kit::battery_draft(serial)).await;
        let p = self.publish(&id).await;
        assert_eq!(p.status, 200, "{}", String::from_utf8_lossy(&p.body));
        assert_eq!(p.json()["plugin"]["name"], "hallmark-battery");
        let did = self.get_public("/.well-known/did.json").await;
        assert_eq!(did.status, 200);
        let did = DidDocument::from_json(&did.body).unwrap();
        let cred = self.get_public(&format!("/passports/{id}")).await;
        assert_eq!(cred.status, 200);
        assert!(verify(&cred.body, &did).is_valid());
    }
}

// ------------------------------------------------------------------ passports

/// Schema-valid, but pre- and post-consumer recycled shares add up to 110 %.
fn over_recycled_draft(serial: &str) -> Value {
    let mut d = kit::battery_draft(serial);
    d["data"]["circularity"]["recycledContent"][0]["preConsumerShare"] = json!(60.0);
    d["data"]["circularity"]["recycledContent"][0]["postConsumerShare"] = json!(50.0);
    d
}

fn generic_draft(serial: &str) -> Value {
    json!({
        "uniqueProductIdentifier": { "gtin": "09506000134352", "serial": serial },
        "granularity": "item",
        "economicOperatorId": "urn:eori:DE123456789012345",
        "sector": { "id": "generic", "schemaVersion": "1.0.0" },
        "data": { "public": { "material": "oak" } },
    })
}

use kit::both;

both!(plugin_findings_block_publication_and_write_nothing);
both!(a_good_battery_passport_publishes_through_the_plugin);
both!(a_looping_plugin_fails_closed_and_the_node_keeps_working);
both!(physically_impossible_values_are_refused_at_publish);

/// The upstream samples' kind of generated values — passing JSON Schema — are refused by
/// the battery plugin at publication, every one named by its pointer into the passport.
async fn physically_impossible_values_are_refused_at_publish(backend: Backend) {
    let n = start(backend, battery_settings).await;
    let mut d = kit::battery_draft("SN-IMPOSSIBLE");
    let data = &mut d["data"];
    data["performanceAndDurability"]["batteryTechicalProperties"]["nominalVoltage"] =
        json!(-3.1849857e38);
    data["materialComposition"]["hazardousSubstances"][0]["hazardousSubstanceConcentration"] =
        json!(-1.7976931348623157e308);
    data["generalProductInformation"]["manufacturerInformation"]["webAddress"] =
        json!("telnet://192.0.2.16:80/");
    data["carbonFootprintForBatteries"]["carbonFootprintPerformanceClass"] =
        json!("eOMtThyhVNLWUZNRcBaQKxI");
    data["generalProductInformation"]["batteryMass"] = json!(-452.0);
    data["generalProductInformation"]["puttingIntoService"] = json!("2024-01-01T00:00:00Z");
    let created = n.call(Method::POST, "/api/v1/passports", Some(&d)).await;
    assert_eq!(
        created.status,
        201,
        "{}",
        String::from_utf8_lossy(&created.body)
    );
    let id = created.json()["id"].as_str().unwrap().to_string();
    let leaves_before = n.leaves().await;
    let problem = n.publish(&id).await.problem(422, "plugin-findings");
    let errors: Vec<&str> = problem["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["severity"] == "error")
        .map(|f| f["pointer"].as_str().unwrap())
        .collect();
    assert_eq!(
        errors,
        [
            "/data/generalProductInformation/batteryMass",
            "/data/materialComposition/hazardousSubstances/0/hazardousSubstanceConcentration",
            "/data/performanceAndDurability/batteryTechicalProperties/nominalVoltage",
            "/data/carbonFootprintForBatteries/carbonFootprintPerformanceClass",
            "/data/generalProductInformation/manufacturerInformation/webAddress",
            "/data/generalProductInformation/puttingIntoService",
        ],
        "{problem}"
    );
    n.assert_still_draft(&id).await;
    assert_eq!(n.leaves().await, leaves_before);
}

// ------------------------------------------------------------------ (a) findings → 422

async fn plugin_findings_block_publication_and_write_nothing(backend: Backend) {
    let n = start(backend, battery_settings).await;
    let bad = over_recycled_draft("SN-BAD");

    // The schema has nothing against it: the draft is created, and reported not valid
    // because the plugin runs on drafts too (`valid` means publishable, issue 14.8).
    let created = n.call(Method::POST, "/api/v1/passports", Some(&bad)).await;
    assert_eq!(created.status, 201);
    let validation = &created.json()["validation"];
    assert_eq!(validation["valid"], false, "{validation}");
    assert_eq!(validation["issues"], json!([]));
    assert_eq!(
        validation["plugin"]["findings"][0]["pointer"],
        "/data/circularity/recycledContent/0"
    );
    let id = created.json()["id"].as_str().unwrap().to_string();

    // The dry run runs the plugin: not valid, with the finding.
    let dry = n
        .call(Method::POST, "/api/v1/passports/validate", Some(&bad))
        .await;
    assert_eq!(dry.status, 200, "{}", String::from_utf8_lossy(&dry.body));
    let dry = dry.json();
    assert_eq!(dry["valid"], false, "{dry}");
    assert_eq!(dry["issues"], json!([]));
    assert_eq!(dry["plugin"]["name"], "hallmark-battery");
    assert_eq!(
        dry["plugin"]["findings"][0]["pointer"],
        "/data/circularity/recycledContent/0"
    );

    let actions_before = n.actions().await;
    let leaves_before = n.leaves().await;

    let p = n.publish(&id).await;
    let problem = p.problem(422, "plugin-findings");
    assert_eq!(problem["plugin"]["name"], "hallmark-battery");
    assert_eq!(problem["plugin"]["version"], "0.2.1");
    assert_eq!(
        problem["plugin"]["sha256"],
        module_sha256(&std::fs::read(format!("{BATTERY}battery.wasm")).unwrap())
    );
    let findings = problem["findings"].as_array().unwrap();
    assert_eq!(findings.len(), 1, "{problem}");
    assert_eq!(
        findings[0]["pointer"],
        "/data/circularity/recycledContent/0"
    );
    assert_eq!(findings[0]["severity"], "error");
    assert!(
        findings[0]["message"]
            .as_str()
            .unwrap()
            .contains("more than 100 %"),
        "{problem}"
    );
    assert!(problem["detail"].as_str().unwrap().contains("1 error"));

    // Nothing written: still a draft, not public, no audit event, no log leaf.
    n.assert_still_draft(&id).await;
    assert_eq!(n.actions().await, actions_before);
    assert_eq!(n.leaves().await, leaves_before);
    assert!(!actions_before.iter().any(|a| a == "passport.published"));

    // Fixing the data lets it publish.
    let u = n
        .call(
            Method::PUT,
            &format!("/api/v1/passports/{id}/draft"),
            Some(&kit::battery_draft("SN-BAD")),
        )
        .await;
    assert_eq!(u.status, 200);
    let p = n.publish(&id).await;
    assert_eq!(p.status, 200, "{}", String::from_utf8_lossy(&p.body));
    assert_eq!(
        n.actions()
            .await
            .iter()
            .filter(|a| *a == "passport.published")
            .count(),
        1
    );
}

// ------------------------------------------------------------------ (b) good → published

async fn a_good_battery_passport_publishes_through_the_plugin(backend: Backend) {
    let n = start(backend, battery_settings).await;
    let id = n.create(&kit::battery_draft("SN-GOOD")).await;
    let p = n.publish(&id).await;
    assert_eq!(p.status, 200, "{}", String::from_utf8_lossy(&p.body));
    let body = p.json();
    assert_eq!(body["status"], "published");
    assert_eq!(body["plugin"]["name"], "hallmark-battery");
    assert_eq!(body["plugin"]["findings"], json!([]));
    let did = DidDocument::from_json(&n.get_public("/.well-known/did.json").await.body).unwrap();
    let cred = n.get_public(&format!("/passports/{id}")).await;
    assert_eq!(cred.status, 200);
    assert!(verify(&cred.body, &did).is_valid());

    // A warning does not block; it comes back in the publish response.
    let mut lead = kit::battery_draft("SN-WARN");
    lead["data"]["circularity"]["recycledContent"][0]["recycledMaterial"] = json!("Lead");
    let id = n.create(&lead).await;
    let p = n.publish(&id).await;
    assert_eq!(p.status, 200, "{}", String::from_utf8_lossy(&p.body));
    let findings = p.json()["plugin"]["findings"].clone();
    assert_eq!(findings.as_array().unwrap().len(), 1, "{findings}");
    assert_eq!(findings[0]["severity"], "warning");
    assert_eq!(
        findings[0]["pointer"],
        "/data/circularity/recycledContent/0/recycledMaterial"
    );

    // A sector without a plugin (and not required) publishes on its schema alone.
    let id = n.create(&generic_draft("G-1")).await;
    let p = n.publish(&id).await;
    assert_eq!(p.status, 200, "{}", String::from_utf8_lossy(&p.body));
    assert!(p.json()["plugin"].is_null());
    let dry = n
        .call(
            Method::POST,
            "/api/v1/passports/validate",
            Some(&generic_draft("G-2")),
        )
        .await;
    assert_eq!(dry.json()["valid"], true);
    assert!(dry.json()["plugin"].is_null());
}

// ------------------------------------------------------------------ (c) hostile plugins

/// Publishing a generic passport through the hostile plugin fails closed with 503
/// `plugin-failed` naming the failure; nothing is published; the failure is audited.
async fn hostile_publish_fails_closed(n: &Node, serial: &str, reason: &str) {
    let id = n.create(&generic_draft(serial)).await;
    let leaves_before = n.leaves().await;
    let p = n.publish(&id).await;
    let problem = p.problem(503, "plugin-failed");
    assert_eq!(problem["reason"], reason, "{problem}");
    assert_eq!(problem["plugin"]["name"], "wat-generic");
    assert!(
        problem["detail"]
            .as_str()
            .unwrap()
            .contains("nothing was published"),
        "{problem}"
    );
    n.assert_still_draft(&id).await;
    // Exactly one event: the security record of the failure (no publish event).
    assert_eq!(n.leaves().await, leaves_before + 1);
    let history = n
        .call(
            Method::GET,
            &format!("/api/v1/passports/{id}/history"),
            None,
        )
        .await
        .json();
    let events = history["events"].as_array().unwrap();
    let actions: Vec<&str> = events
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    assert_eq!(actions, vec!["passport.draft-created", "plugin.failed"]);
    let failed = &events[1]["detail"];
    assert_eq!(failed["reason"], reason);
    assert_eq!(failed["during"], "publish");
    assert_eq!(failed["sector"], "generic");
    assert_eq!(failed["plugin"]["name"], "wat-generic");
    assert!(
        events[1]["actor"].as_str().unwrap().starts_with("api-key:"),
        "{history}"
    );

    // The dry run fails closed the same way (no "valid": true without a verdict).
    let dry = n
        .call(
            Method::POST,
            "/api/v1/passports/validate",
            Some(&generic_draft(serial)),
        )
        .await;
    assert_eq!(dry.problem(503, "plugin-failed")["reason"], reason);
}

async fn a_looping_plugin_fails_closed_and_the_node_keeps_working(backend: Backend) {
    let (_, body, extra, limits, reason) = hostile().remove(0);
    let n = start(backend, |d| hostile_settings(d, body, extra, limits)).await;
    hostile_publish_fails_closed(&n, "G-LOOP-1", reason).await;
    n.assert_still_serving_and_publishing("SN-AFTER-LOOP").await;
    // Again: the plugin fails the same way every time, the node is unaffected.
    hostile_publish_fails_closed(&n, "G-LOOP-2", reason).await;
    n.assert_still_serving_and_publishing("SN-AFTER-LOOP-2")
        .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_hostile_plugin_fails_closed_and_the_node_keeps_working() {
    for (name, body, extra, limits, reason) in hostile() {
        let n = start(Backend::Sqlite, |d| {
            hostile_settings(d, body, extra, limits)
        })
        .await;
        // Serving and publishing before, fail closed, serving and publishing after.
        n.assert_still_serving_and_publishing(&format!("SN-BEFORE-{name}"))
            .await;
        hostile_publish_fails_closed(&n, &format!("G-{name}"), reason).await;
        n.assert_still_serving_and_publishing(&format!("SN-AFTER-{name}"))
            .await;
        n.0.running.stop();
        n.0.running.wait().await.unwrap();
    }
}

// ------------------------------------------------------------------ (d) start-up refusals

/// The one-line start-up error for these settings (through `open_plugins`, as `serve`).
async fn refused(settings: &PluginSettings, profile: Profile) -> (PluginLoadError, String) {
    let err = node::open_plugins(settings, profile)
        .await
        .expect_err("the plugins were accepted");
    let line = err.to_string();
    assert!(!line.contains('\n'), "{line}");
    match err {
        StartError::Plugins(e) => (e, line),
        other => panic!("expected a plugin error, got {other}"),
    }
}

fn trusting(dir: &Path, keys: &[&SigningKey]) -> PluginSettings {
    PluginSettings {
        dir: Some(dir.to_path_buf()),
        trusted_keys: keys.iter().map(|k| k.verifying_key()).collect(),
        allow_unsigned: false,
        required: vec![],
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unsigned_plugin_is_refused_without_the_development_flag() {
    let tmp = tempfile::tempdir().unwrap();
    let key = test_publisher();
    let module = wasm::good("generic");
    install(tmp.path(), "unsigned", &module, None);
    let (e, line) = refused(&trusting(tmp.path(), &[&key]), Profile::Development).await;
    assert!(
        matches!(
            e,
            PluginLoadError::Refused {
                error: SandboxError::Unsigned,
                ..
            }
        ),
        "{e:?}"
    );
    assert!(
        line.contains(&tmp.path().join("unsigned.wasm").display().to_string()),
        "{line}"
    );

    // With the development flag (development profile only) it loads, marked unsigned, and
    // gates its sector.
    let mut dev = trusting(tmp.path(), &[&key]);
    dev.allow_unsigned = true;
    let gate = node::open_plugins(&dev, Profile::Development)
        .await
        .unwrap();
    // (Beside the built-in battery plugin, which is loaded in every profile: issue 14.8.)
    assert_eq!(gate.loaded().len(), 2);
    assert!(!gate.loaded()[0].info.signed);
    assert!(!gate.plugin_for("generic", "1.0.0").unwrap().signed);
    assert!(gate.plugin_for("battery", "1.2.0").unwrap().signed);
    assert!(gate.loaded()[1].origin.starts_with("built-in:"));

    // The flag is refused in production: by the configuration, and by the loader too.
    let e = Config::load(None, &|k| match k {
        "HALLMARK_PLUGIN_ALLOW_UNSIGNED" => Some("true".into()),
        _ => None,
    })
    .unwrap()
    .validate(Profile::Production)
    .unwrap_err();
    assert!(
        matches!(e, hallmark_node::ConfigError::PluginUnsignedInProduction),
        "{e:?}"
    );
    assert!(e.to_string().contains("HALLMARK_PLUGIN_ALLOW_UNSIGNED"));
    let (e, _) = refused(&dev, Profile::Production).await;
    assert!(
        matches!(
            e,
            PluginLoadError::Host(SandboxError::DevelopmentFlagInProduction)
        ),
        "{e:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_plugin_signed_by_an_untrusted_publisher_is_refused() {
    let tmp = tempfile::tempdir().unwrap();
    let (trusted, stranger) = (test_publisher(), test_publisher());
    let module = wasm::good("generic");
    let manifest = wat_manifest(&module, "generic", RequestedLimits::default());
    install(tmp.path(), "generic", &module, Some((manifest, &stranger)));
    let (e, line) = refused(&trusting(tmp.path(), &[&trusted]), Profile::Production).await;
    match e {
        PluginLoadError::Refused {
            error: SandboxError::UntrustedPublisher(k),
            ..
        } => assert_eq!(k, public_key_multibase(&stranger.verifying_key())),
        other => panic!("{other:?}"),
    }
    assert!(
        line.contains(&tmp.path().join("generic.wasm").display().to_string()),
        "{line}"
    );
    assert!(line.contains("not trusted"), "{line}");
    // The same files load once the publisher is trusted.
    let gate = node::open_plugins(
        &trusting(tmp.path(), &[&trusted, &stranger]),
        Profile::Production,
    )
    .await
    .unwrap();
    assert!(gate.loaded()[0].info.signed);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_module_that_differs_from_its_manifest_is_refused() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = plugin_dir(tmp.path());
    let mut module = std::fs::read(dir.join("battery.wasm")).unwrap();
    let last = module.len() - 1;
    module[last] ^= 1;
    std::fs::write(dir.join("battery.wasm"), &module).unwrap();
    let settings = battery_settings(tmp.path());
    let (e, line) = refused(&settings, Profile::Production).await;
    assert!(
        matches!(
            e,
            PluginLoadError::Refused {
                error: SandboxError::HashMismatch { .. },
                ..
            }
        ),
        "{e:?}"
    );
    assert!(
        line.contains(&dir.join("battery.wasm").display().to_string()),
        "{line}"
    );
    assert!(line.contains("does not match manifest"), "{line}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_tampered_manifest_is_refused() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = plugin_dir(tmp.path());
    let path = dir.join("battery.manifest.json");
    let mut m: Value = serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
    m["manifest"]["limits"]["fuel"] = json!(200_000_000);
    std::fs::write(&path, serde_json::to_vec(&m).unwrap()).unwrap();
    let (e, line) = refused(&battery_settings(tmp.path()), Profile::Production).await;
    assert!(
        matches!(
            e,
            PluginLoadError::Refused {
                error: SandboxError::BadSignature,
                ..
            }
        ),
        "{e:?}"
    );
    assert!(line.contains("battery.wasm"), "{line}");

    // Unreadable JSON names the manifest file.
    std::fs::write(&path, b"{").unwrap();
    let (e, line) = refused(&battery_settings(tmp.path()), Profile::Production).await;
    assert!(
        matches!(
            e,
            PluginLoadError::Refused {
                error: SandboxError::Manifest(_),
                ..
            }
        ),
        "{e:?}"
    );
    assert!(line.contains(&path.display().to_string()), "{line}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn plugin_directory_problems_stop_start_up() {
    let tmp = tempfile::tempdir().unwrap();
    let key = test_publisher();

    // Missing directory, empty directory.
    let (e, line) = refused(
        &trusting(&tmp.path().join("nope"), &[&key]),
        Profile::Production,
    )
    .await;
    assert!(matches!(e, PluginLoadError::Dir { .. }), "{e:?}");
    assert!(line.contains("HALLMARK_PLUGIN_DIR"), "{line}");
    let (e, _) = refused(&trusting(tmp.path(), &[&key]), Profile::Production).await;
    assert!(matches!(e, PluginLoadError::Empty { .. }), "{e:?}");

    // A manifest without its module.
    let dir = plugin_dir(tmp.path());
    std::fs::copy(
        dir.join("battery.manifest.json"),
        dir.join("old-battery.manifest.json"),
    )
    .unwrap();
    let (e, line) = refused(&battery_settings(tmp.path()), Profile::Production).await;
    assert!(matches!(e, PluginLoadError::OrphanManifest { .. }), "{e:?}");
    assert!(line.contains("old-battery.manifest.json"), "{line}");
    std::fs::remove_file(dir.join("old-battery.manifest.json")).unwrap();

    // A required sector without a plugin.
    let mut settings = battery_settings(tmp.path());
    settings.required.push("generic".into());
    let (e, line) = refused(&settings, Profile::Production).await;
    assert!(
        matches!(&e, PluginLoadError::Missing { sector, .. } if sector == "generic"),
        "{e:?}"
    );
    assert!(line.contains("HALLMARK_PLUGIN_REQUIRED"), "{line}");

    // A module that imports WASI.
    let module = wasm::plugin_wat(
        "generic",
        r#"(import "wasi_snapshot_preview1" "fd_write" (func (param i32 i32 i32 i32) (result i32)))"#,
        "(global.get $ok)",
        "",
    );
    let manifest = wat_manifest(&module, "generic", RequestedLimits::default());
    install(&dir, "wasi", &module, Some((manifest, &key)));
    let mut settings = battery_settings(tmp.path());
    settings.trusted_keys.push(key.verifying_key());
    let (e, line) = refused(&settings, Profile::Production).await;
    assert!(
        matches!(
            e,
            PluginLoadError::Refused {
                error: SandboxError::ForbiddenImport { .. },
                ..
            }
        ),
        "{e:?}"
    );
    assert!(line.contains("wasi.wasm"), "{line}");
}

/// `serve` itself: the configuration's plugin settings reach the loader, and a refused
/// plugin stops start-up before the database or keystore is touched.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn serve_refuses_to_start_with_a_plugin_that_does_not_verify() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = plugin_dir(tmp.path());
    std::fs::write(dir.join("battery.wasm"), b"\0asm\x01\0\0\0").unwrap();
    let data = tmp.path().join("data");
    let config = Config::load(None, &|k| match k {
        "HALLMARK_DATA_DIR" => Some(data.display().to_string()),
        "HALLMARK_PUBLIC_LISTEN" => Some("127.0.0.1:0".into()),
        "HALLMARK_ADMIN_LISTEN" => Some("127.0.0.1:1".into()),
        "HALLMARK_PLUGIN_DIR" => Some(dir.display().to_string()),
        "HALLMARK_PLUGIN_TRUSTED_KEYS" => Some(battery_publisher_file().display().to_string()),
        _ => None,
    })
    .unwrap()
    .validate(Profile::Development)
    .unwrap();
    let Err(err) = node::serve(&config).await else {
        panic!("the node started with a plugin that does not verify");
    };
    let line = err.to_string();
    assert!(matches!(err, StartError::Plugins(_)), "{line}");
    assert!(
        line.contains(&dir.join("battery.wasm").display().to_string()),
        "{line}"
    );
    assert!(!data.join("hallmark.db").exists());
}

/// The committed `plugins/battery` directory works as a plugin directory as is: its sources,
/// build script, unsigned manifest template and publisher key are ignored. No trusted-key
/// setting is needed: the project's publisher key is built into the binary.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_committed_plugin_directory_loads_as_is() {
    let config = Config::load(None, &|k| match k {
        "HALLMARK_PLUGIN_DIR" => Some(BATTERY.into()),
        "HALLMARK_PLUGIN_REQUIRED" => Some("battery".into()),
        _ => None,
    })
    .unwrap()
    .validate(Profile::Development)
    .unwrap();
    let gate = node::open_plugins(&config.plugins, Profile::Production)
        .await
        .unwrap();
    assert_eq!(gate.loaded().len(), 1);
    assert!(gate.loaded()[0].origin.ends_with("battery.wasm"));
    assert!(gate.loaded()[0].info.signed);
    assert!(gate.plugin_for("battery", "1.2.0").is_some());
    assert!(gate.plugin_for("generic", "1.0.0").is_none());
}

/// The built-in project key is trusted by default: a node configured with only a plugin
/// directory holding the committed battery plugin (no trusted-key setting) publishes
/// battery passports through it. An operator's key still admits the operator's plugins.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_built_in_publisher_key_is_trusted_by_default() {
    // With no plugin setting at all, in production, the built-in battery plugin gates
    // battery passports (issue 14.8).
    let gate = node::open_plugins(&PluginSettings::default(), Profile::Production)
        .await
        .unwrap();
    let battery = gate
        .plugin_for("battery", "1.2.0")
        .expect("built-in battery plugin");
    assert!(battery.signed);
    assert!(gate.loaded()[0].origin.starts_with("built-in:"));

    let n = start(Backend::Sqlite, |root| {
        let dir = plugin_dir(root);
        let config = Config::load(None, &|k| match k {
            "HALLMARK_PLUGIN_DIR" => Some(dir.display().to_string()),
            "HALLMARK_PLUGIN_REQUIRED" => Some("battery".into()),
            _ => None,
        })
        .unwrap()
        .validate(Profile::Development)
        .unwrap();
        assert!(config.plugins.trusted_keys.is_empty());
        config.plugins
    })
    .await;
    n.assert_still_serving_and_publishing("BUILTIN-1").await;

    // Another publisher's plugin is not admitted by the built-in key alone.
    let tmp = tempfile::tempdir().unwrap();
    let dir = plugin_dir(tmp.path());
    let key = test_publisher();
    let module = wasm::plugin_wat("generic", "", "(global.get $ok)", "");
    let manifest = wat_manifest(&module, "generic", RequestedLimits::default());
    install(&dir, "other", &module, Some((manifest, &key)));
    let settings = PluginSettings {
        dir: Some(dir.clone()),
        ..PluginSettings::default()
    };
    let (e, line) = refused(&settings, Profile::Production).await;
    assert!(
        matches!(
            e,
            PluginLoadError::Refused {
                error: SandboxError::UntrustedPublisher(_),
                ..
            }
        ),
        "{e:?}"
    );
    assert!(line.contains("other"), "{line}");
    let settings = PluginSettings {
        dir: Some(dir),
        trusted_keys: vec![key.verifying_key()],
        ..PluginSettings::default()
    };
    let gate = node::open_plugins(&settings, Profile::Production)
        .await
        .unwrap();
    assert_eq!(gate.loaded().len(), 2);
}

/// The old documented set-up — the publisher key file kept in the plugin directory — and a
/// key file others can write are refused at start-up (configuration), naming the file.
#[test]
fn start_up_refuses_a_trusted_key_file_in_the_plugin_dir_or_writable_by_others() {
    use std::os::unix::fs::PermissionsExt;
    let tmp = tempfile::tempdir().unwrap();
    let dir = plugin_dir(tmp.path());
    let in_dir = dir.join("publisher.pub");
    std::fs::copy(battery_publisher_file(), &in_dir).unwrap();
    let outside = tmp.path().join("publisher.pub");
    std::fs::copy(battery_publisher_file(), &outside).unwrap();
    let validate = |key: &Path| {
        Config::load(None, &|k| match k {
            "HALLMARK_PLUGIN_DIR" => Some(dir.display().to_string()),
            "HALLMARK_PLUGIN_TRUSTED_KEYS" => Some(key.display().to_string()),
            _ => None,
        })
        .unwrap()
        .validate(Profile::Development)
    };
    std::fs::set_permissions(&outside, std::fs::Permissions::from_mode(0o644)).unwrap();
    assert!(validate(&outside).is_ok());
    let line = validate(&in_dir).unwrap_err().to_string();
    assert!(line.contains(&in_dir.display().to_string()), "{line}");
    assert!(line.contains("inside HALLMARK_PLUGIN_DIR"), "{line}");
    for mode in [0o664, 0o666] {
        std::fs::set_permissions(&outside, std::fs::Permissions::from_mode(mode)).unwrap();
        let line = validate(&outside).unwrap_err().to_string();
        assert!(line.contains(&outside.display().to_string()), "{line}");
        assert!(line.contains("writable by"), "{line}");
        assert_eq!(line.lines().count(), 1);
    }
}
