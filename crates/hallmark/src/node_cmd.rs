//! `hallmark serve` and `hallmark demo`.

use hallmark_keys::keystore::{KdfParams, Keystore};
use hallmark_node::app::SigningBackend;
use hallmark_node::config::{
    self, AdminCredentials, Config, LogLevel, Profile, DEMO_ADMIN_PASSWORD, DEMO_ADMIN_USERNAME,
    DEMO_KEYSTORE_PASSPHRASE, KEYSTORE_FILE, SQLITE_FILE,
};
use hallmark_node::edge::EdgeConfig;
use hallmark_node::node::{self, Running};
use hallmark_node::plugins::{PluginGate, PluginSource};
use hallmark_store::{SqliteStore, Store};
use secrecy::SecretString;
use serde_json::Value;
use std::net::{Ipv4Addr, SocketAddr};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::{Arc, RwLock};

fn init_logging(level: LogLevel) {
    let filter = match level {
        LogLevel::Error => tracing::Level::ERROR,
        LogLevel::Warn => tracing::Level::WARN,
        LogLevel::Info => tracing::Level::INFO,
        LogLevel::Debug => tracing::Level::DEBUG,
        LogLevel::Trace => tracing::Level::TRACE,
    };
    let _ = tracing_subscriber::fmt()
        .with_max_level(filter)
        .with_writer(std::io::stderr)
        .with_ansi(false)
        .try_init();
}

fn runtime() -> Result<tokio::runtime::Runtime, String> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| format!("cannot start the async runtime: {e}"))
}

/// `hallmark serve`: configuration from `HALLMARK_*` and/or a TOML file; refuses (exit 2,
/// one line) any missing or unsafe setting; exit 1 when start-up fails.
pub fn serve(config_file: Option<&Path>, profile: Profile) -> ExitCode {
    let validated = match Config::from_process_env(config_file).and_then(|c| c.validate(profile)) {
        Ok(v) => v,
        Err(e) => {
            eprintln!("hallmark serve: {e}");
            return ExitCode::from(2);
        }
    };
    init_logging(validated.log_level);
    let rt = match runtime() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("hallmark serve: {e}");
            return ExitCode::from(1);
        }
    };
    let result = rt.block_on(async {
        let running = node::serve(&validated).await?;
        eprintln!(
            "hallmark serve: public listener on {}, admin listener on {} (base URL {})",
            running.public_addr, running.admin_addr, validated.public_base_url
        );
        running.run_until_signal().await
    });
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("hallmark serve: {e}");
            ExitCode::from(1)
        }
    }
}

/// Options of `hallmark demo`.
pub struct DemoOptions {
    /// Data directory.
    pub dir: PathBuf,
    /// Set up, publish, write files, then exit instead of serving.
    pub no_serve: bool,
    /// Public port on 127.0.0.1 (base URL `http://localhost:<port>`).
    pub public_port: u16,
    /// Admin port on 127.0.0.1.
    pub admin_port: u16,
}

/// The demo's example battery passports (`demo/`, see `demo/NOTICE.md`): an EV battery, an
/// industrial battery and an LMT battery, with realistic values in the BatteryPass 1.2.0
/// structure, each a complete create request.
const DEMO_PASSPORTS: [(&str, &str); 3] = [
    (
        "demo/ev-battery.json",
        include_str!("../demo/ev-battery.json"),
    ),
    (
        "demo/industrial-battery.json",
        include_str!("../demo/industrial-battery.json"),
    ),
    (
        "demo/lmt-battery.json",
        include_str!("../demo/lmt-battery.json"),
    ),
];

/// The signed battery plugin committed in `plugins/battery/`, built into the binary so that
/// `hallmark demo` works from any directory: module, signed manifest, publisher key.
const BATTERY_WASM: &[u8] = include_bytes!("../../../plugins/battery/battery.wasm");
const BATTERY_MANIFEST: &[u8] = include_bytes!("../../../plugins/battery/battery.manifest.json");
const BATTERY_PUBLISHER: &str = include_str!("../../../plugins/battery/publisher.pub");

/// The demo's plugin gate: the committed battery plugin, admitted only through its signed
/// manifest and the committed publisher key (never unsigned), and required for `battery`.
pub fn demo_plugins() -> Result<PluginGate, String> {
    let key = hallmark_core::keys::decode_public_key_multibase(BATTERY_PUBLISHER.trim())
        .map_err(|e| format!("plugins/battery/publisher.pub: {e}"))?;
    PluginGate::load(
        vec![PluginSource {
            origin: "plugins/battery/battery.wasm".into(),
            wasm: BATTERY_WASM.to_vec(),
            manifest: Some((
                "plugins/battery/battery.manifest.json".into(),
                BATTERY_MANIFEST.to_vec(),
            )),
        }],
        vec![key],
        false,
        &["battery".to_string()],
        Profile::Development,
    )
    .map_err(|e| e.to_string())
}

/// The demo's example battery passport submissions (an EV, an industrial and an LMT
/// battery).
pub fn demo_drafts() -> Result<Vec<Value>, String> {
    DEMO_PASSPORTS
        .iter()
        .map(|(name, text)| serde_json::from_str(text).map_err(|e| format!("{name}: {e}")))
        .collect()
}

struct Admin {
    client: reqwest::Client,
    base: String,
}

impl Admin {
    /// Sends a request; answers the status and the JSON body (the result or the problem).
    async fn send(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<&Value>,
    ) -> Result<(reqwest::StatusCode, Value), String> {
        let mut req = self
            .client
            .request(method, format!("{}{path}", self.base))
            .basic_auth(DEMO_ADMIN_USERNAME, Some(DEMO_ADMIN_PASSWORD));
        if let Some(b) = body {
            req = req
                .header("content-type", "application/json")
                .body(serde_json::to_vec(b).map_err(|e| e.to_string())?);
        }
        let r = req.send().await.map_err(|e| format!("{path}: {e}"))?;
        let status = r.status();
        let bytes = r.bytes().await.map_err(|e| format!("{path}: {e}"))?;
        let value = serde_json::from_slice(&bytes).map_err(|e| {
            format!(
                "{path}: HTTP {status}: {e}: {}",
                String::from_utf8_lossy(&bytes)
            )
        })?;
        Ok((status, value))
    }

    async fn call(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<&Value>,
    ) -> Result<Value, String> {
        match self.send(method, path, body).await? {
            (status, value) if status.is_success() => Ok(value),
            (status, problem) => Err(format!("{path}: HTTP {status}: {problem}")),
        }
    }

    /// Creates the passport and answers its id — or, when an earlier run that was
    /// interrupted already created the passport of this product (a product has one live
    /// passport: 409 `identifier-in-use` names it), that passport's id.
    async fn create_or_find(&self, draft: &Value) -> Result<String, String> {
        let (status, v) = self
            .send(reqwest::Method::POST, "/passports", Some(draft))
            .await?;
        let id = if status.is_success() {
            &v["id"]
        } else if v["type"] == "urn:hallmark:problem:identifier-in-use" {
            &v["existing_passport"]
        } else {
            return Err(format!("/passports: HTTP {status}: {v}"));
        };
        id.as_str()
            .map(str::to_string)
            .ok_or_else(|| format!("/passports: no passport id in {v}"))
    }
}

async fn get_bytes(client: &reqwest::Client, url: &str, accept: &str) -> Result<Vec<u8>, String> {
    Ok(get_response(client, url, accept).await?.1)
}

async fn get_response(
    client: &reqwest::Client,
    url: &str,
    accept: &str,
) -> Result<(reqwest::header::HeaderMap, Vec<u8>), String> {
    let r = client
        .get(url)
        .header("accept", accept)
        .send()
        .await
        .map_err(|e| format!("{url}: {e}"))?;
    let status = r.status();
    let headers = r.headers().clone();
    let body = r.bytes().await.map_err(|e| format!("{url}: {e}"))?.to_vec();
    if !status.is_success() {
        let detail = serde_json::from_slice::<Value>(&body)
            .ok()
            .and_then(|v| v["detail"].as_str().map(str::to_string))
            .map(|d| format!(": {d}"))
            .unwrap_or_default();
        return Err(format!("{url}: HTTP {status}{detail}"));
    }
    Ok((headers, body))
}

/// The transparency-log index of a passport response (`Hallmark-Log-Index`).
fn log_index(url: &str, headers: &reqwest::header::HeaderMap) -> Result<u64, String> {
    headers
        .get(hallmark_node::routes::public::LOG_INDEX_HEADER)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse().ok())
        .ok_or_else(|| format!("{url}: no Hallmark-Log-Index header in the response"))
}

/// The size of a checkpoint note (not verified: only to ask for a proof at that size; the
/// verifier checks the note itself).
fn checkpoint_size(note: &str) -> Result<u64, String> {
    hallmark_core::tlog::SignedNote::parse(note)
        .and_then(|n| hallmark_core::tlog::Checkpoint::parse_text(&n.text))
        .map(|c| c.size)
        .map_err(|e| format!("checkpoint: {e}"))
}

/// Fetches the latest checkpoint and the inclusion proof (at that checkpoint's size) of leaf
/// `index` from the log under `base` (a node's public base URL as reached by the caller).
async fn fetch_evidence(
    client: &reqwest::Client,
    base: &str,
    index: u64,
) -> Result<(String, Vec<u8>), String> {
    let url = format!("{base}/log/checkpoint");
    let note = String::from_utf8(get_bytes(client, &url, "text/plain").await?)
        .map_err(|_| format!("{url}: not UTF-8"))?;
    let size = checkpoint_size(&note)?;
    if index >= size {
        return Err(format!(
            "leaf {index} is not yet in the latest checkpoint (size {size}); retry in a moment"
        ));
    }
    let url = format!("{base}/log/proof/inclusion?index={index}&size={size}");
    let proof = get_bytes(client, &url, "application/json").await?;
    Ok((note, proof))
}

/// `hallmark verify --from <passport URL> --log-key …`: the latest checkpoint and the
/// inclusion proof of the passport's publish event, from the same node (the log lives at
/// `<base>/log`, `<base>` being the passport URL up to `/passports/`).
pub fn fetch_log_evidence(url: &str) -> Result<crate::Evidence, String> {
    let (base, _) = url
        .split_once("/passports/")
        .ok_or_else(|| format!("{url}: not a passport URL (…/passports/<id>)"))?;
    let rt = runtime()?;
    rt.block_on(async {
        let client = reqwest::Client::new();
        let (headers, _) = get_response(&client, url, "application/vc+ld+json").await?;
        let index = log_index(url, &headers)?;
        let (note, proof) = fetch_evidence(&client, base, index).await?;
        let proof = serde_json::from_slice(&proof)
            .map_err(|e| format!("{base}/log/proof/inclusion: {e}"))?;
        Ok((note, proof))
    })
}

fn write_file(path: &Path, bytes: &[u8]) -> Result<(), String> {
    std::fs::write(path, bytes).map_err(|e| format!("{}: {e}", path.display()))
}

async fn demo_async(opts: &DemoOptions) -> Result<Option<Running>, String> {
    let dir = &opts.dir;
    std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    config::write_development_marker(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    let passphrase = SecretString::from(DEMO_KEYSTORE_PASSPHRASE);
    let ks_path = dir.join(KEYSTORE_FILE);
    let keystore = if ks_path.exists() {
        Keystore::open(&ks_path, &passphrase).map_err(|e| format!("keystore: {e}"))?
    } else {
        Keystore::create(
            &ks_path,
            &passphrase,
            KdfParams::FLOOR,
            time::OffsetDateTime::now_utc(),
        )
        .map_err(|e| format!("keystore: {e}"))?
        .0
    };
    let store: Arc<dyn Store> = Arc::new(
        SqliteStore::open(dir.join(SQLITE_FILE))
            .await
            .map_err(|e| format!("database: {e}"))?,
    );
    let base_url = format!("http://localhost:{}", opts.public_port);
    // The demo's effective configuration (development profile), for its `node.started` event.
    let config = Config {
        public_listen: Some(SocketAddr::new(
            Ipv4Addr::LOCALHOST.into(),
            opts.public_port,
        )),
        admin_listen: Some(SocketAddr::new(Ipv4Addr::LOCALHOST.into(), opts.admin_port)),
        public_base_url: Some(base_url.clone()),
        data_dir: Some(dir.clone()),
        ..Config::default()
    }
    .validate(Profile::Development)
    .map_err(|e| e.to_string())?;
    let plugins = tokio::task::spawn_blocking(demo_plugins)
        .await
        .map_err(|e| format!("loading the battery plugin: {e}"))??;
    let plugin_line = plugins
        .loaded()
        .iter()
        .map(|p| {
            format!(
                "{} {} ({}, signed)",
                p.info.description.name, p.info.description.version, p.origin
            )
        })
        .collect::<Vec<_>>()
        .join(", ");
    let app = node::build_app_with_plugins(
        store,
        SigningBackend::Keystore(Box::new(RwLock::new(keystore))),
        &base_url,
        plugins,
    )
    .await
    .map_err(|e| e.to_string())?;
    hallmark_node::started::record_started(&app, &config)
        .await
        .map_err(|e| format!("database: {e}"))?;
    let admin = AdminCredentials {
        username: DEMO_ADMIN_USERNAME.to_string(),
        password: SecretString::from(DEMO_ADMIN_PASSWORD),
    };
    let (public_listen, admin_listen) = if opts.no_serve {
        (0, 0)
    } else {
        (opts.public_port, opts.admin_port)
    };
    let running = node::start(
        app,
        &EdgeConfig::default(),
        &admin,
        SocketAddr::new(Ipv4Addr::LOCALHOST.into(), public_listen),
        SocketAddr::new(Ipv4Addr::LOCALHOST.into(), admin_listen),
    )
    .await
    .map_err(|e| e.to_string())?;
    let client = reqwest::Client::new();
    let api = Admin {
        client: client.clone(),
        base: format!("http://{}/api/v1", running.admin_addr),
    };
    // Re-running reuses the directory: each product's passport is found, not created twice.
    let mut ids = Vec::new();
    for draft in demo_drafts()? {
        let id = api.create_or_find(&draft).await?;
        let state = api
            .call(reqwest::Method::GET, &format!("/passports/{id}"), None)
            .await?;
        if state["status"] == "draft" {
            let published = api
                .call(
                    reqwest::Method::POST,
                    &format!("/passports/{id}/publish"),
                    None,
                )
                .await?;
            // The demo's data is meant to be plausible: any finding of the battery plugin,
            // even a warning, is a defect in it.
            let findings = &published["plugin"]["findings"];
            if findings.as_array().is_none_or(|f| !f.is_empty()) {
                return Err(format!(
                    "demo passport {}: the battery plugin reported {findings}",
                    draft["uniqueProductIdentifier"]
                ));
            }
        }
        ids.push(id);
    }
    ids.sort();
    let first = ids.first().ok_or("no published passport")?.clone();
    let public = format!("http://{}", running.public_addr);
    let did_path = running.app.issuer.did.document_path();
    let did = get_bytes(&client, &format!("{public}{did_path}"), "application/json").await?;
    write_file(&dir.join("did.json"), &did)?;
    let (headers, cred) = get_response(
        &client,
        &format!("{public}/passports/{first}"),
        "application/vc+ld+json",
    )
    .await?;
    write_file(&dir.join("passport.json"), &cred)?;
    // The transparency log: wait for a checkpoint covering the publish event (the node
    // signs within its checkpoint interval), then save the checkpoint, the inclusion proof
    // and the log key beside the credential.
    let index = log_index(&format!("{public}/passports/{first}"), &headers)?;
    let written = running
        .app
        .store
        .audit_len()
        .await
        .map_err(|e| format!("database: {e}"))?;
    tokio::time::timeout(
        std::time::Duration::from_secs(30),
        running.app.log.wait_for_size(written.max(index + 1)),
    )
    .await
    .map_err(|_| {
        format!(
            "no checkpoint covers log leaf {index}: {:?}",
            running.app.log.status()
        )
    })?;
    let (note, proof) = fetch_evidence(&client, &public, index).await?;
    write_file(&dir.join("checkpoint.txt"), note.as_bytes())?;
    write_file(&dir.join("inclusion-proof.json"), &proof)?;
    let log_key =
        String::from_utf8(get_bytes(&client, &format!("{public}/log/key"), "text/plain").await?)
            .map_err(|_| "log key: not UTF-8".to_string())?;
    let log_key = log_key.trim_end();
    write_file(&dir.join("log-key.txt"), format!("{log_key}\n").as_bytes())?;
    let jwt = get_bytes(
        &client,
        &format!("{public}/passports/{first}"),
        "application/vc+jwt",
    )
    .await?;
    write_file(&dir.join("passport.jwt"), &jwt)?;

    let d = dir.display();
    let base = format!("http://localhost:{}", opts.public_port);
    let admin_base = format!("http://127.0.0.1:{}/api/v1", opts.admin_port);
    println!("Hallmark demo — DEVELOPMENT ONLY (data, keystore and credentials in {d} are not for production)");
    println!();
    println!(
        "  {} example battery passports are published (an EV, an industrial and an LMT battery).",
        ids.len()
    );
    println!("  Sector plugin:    {plugin_line} checked them before signing.");
    println!("  Public passport:  {base}/passports/{first}");
    println!("  DID document:     {base}{did_path}");
    println!("  Log checkpoint:   {base}/log/checkpoint");
    println!("  Log key:          {log_key}");
    println!("  Admin API:        {admin_base}  (login {DEMO_ADMIN_USERNAME} / {DEMO_ADMIN_PASSWORD} — DEVELOPMENT ONLY)");
    println!();
    println!("  Verify the credential offline (files written to {d}):");
    println!("    hallmark verify {d}/passport.json --did-document {d}/did.json");
    println!("    (from a checkout: cargo run --release -- verify {d}/passport.json --did-document {d}/did.json)");
    println!();
    println!("  …and that its publication is in the signed transparency log (leaf {index}):");
    println!("    hallmark verify {d}/passport.json --did-document {d}/did.json \\");
    println!("      --checkpoint {d}/checkpoint.txt --proof {d}/inclusion-proof.json \\");
    println!("      --log-key '{log_key}'");
    println!();
    println!("  Try:");
    println!("    curl -H 'Accept: application/vc+jwt' {base}/passports/{first}");
    println!("    curl '{base}/log/proof/inclusion?index={index}'");
    println!("    curl -u {DEMO_ADMIN_USERNAME}:{DEMO_ADMIN_PASSWORD} {admin_base}/passports");
    if opts.no_serve {
        running.stop();
        running.wait().await.map_err(|e| e.to_string())?;
        return Ok(None);
    }
    println!();
    println!("  Serving until Ctrl-C.");
    Ok(Some(running))
}

/// `hallmark demo`.
pub fn demo(opts: &DemoOptions) -> ExitCode {
    init_logging(LogLevel::Error);
    let rt = match runtime() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("hallmark demo: {e}");
            return ExitCode::from(1);
        }
    };
    let result = rt.block_on(async {
        match demo_async(opts).await? {
            Some(running) => running.run_until_signal().await.map_err(|e| e.to_string()),
            None => Ok(()),
        }
    });
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("hallmark demo: {e}");
            ExitCode::from(1)
        }
    }
}

/// Parses `--profile`.
pub fn parse_profile(s: &str) -> Result<Profile, String> {
    s.parse::<Profile>().map_err(|e| e.to_string())
}

/// `hallmark verify --from <passport URL>`: fetches the credential and (unless given) the
/// issuer's DID document. Returns (credential, DID document, where the document came from).
pub fn fetch_for_verify(
    url: &str,
    jwt: bool,
    did_document: Option<&Path>,
) -> Result<(Vec<u8>, Vec<u8>, String), String> {
    if !url.starts_with("http://") {
        return Err(format!(
            "{url}: this build fetches over plain http only; download the credential and the \
             DID document (e.g. with curl) and verify the files"
        ));
    }
    let rt = runtime()?;
    rt.block_on(async {
        let client = reqwest::Client::new();
        let accept = if jwt {
            "application/vc+jwt"
        } else {
            "application/vc+ld+json"
        };
        let cred = get_bytes(&client, url, accept).await?;
        if let Some(path) = did_document {
            let doc = std::fs::read(path).map_err(|e| format!("{}: {e}", path.display()))?;
            return Ok((cred, doc, path.display().to_string()));
        }
        let issuer =
            issuer_of(&cred).ok_or_else(|| format!("{url}: no issuer in the credential"))?;
        let did = hallmark_core::did::DidWeb::parse(&issuer)
            .map_err(|e| format!("{url}: issuer {issuer}: {e}"))?;
        let mut doc_url = did.document_url();
        // did:web is https; a node on localhost (the demo) serves it over http.
        let origin = url
            .strip_prefix("http://")
            .and_then(|r| r.split('/').next())
            .unwrap_or_default();
        let host = origin.rsplit_once(':').map(|(h, _)| h).unwrap_or(origin);
        if host == "localhost" || host == "127.0.0.1" {
            doc_url = format!("http://{origin}{}", did.document_path());
        } else {
            return Err(format!(
                "{doc_url}: this build fetches over plain http only; download the DID document \
                 and pass it with --did-document"
            ));
        }
        let doc = get_bytes(&client, &doc_url, "application/did+json, application/json").await?;
        Ok((cred, doc, doc_url))
    })
}

/// The issuer of a credential in either form (unverified: only to find the DID document).
fn issuer_of(cred: &[u8]) -> Option<String> {
    let text = std::str::from_utf8(cred).ok()?.trim();
    let value: Value = if text.starts_with('{') {
        serde_json::from_str(text).ok()?
    } else {
        use base64::Engine;
        let payload = text.split('.').nth(1)?;
        let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(payload)
            .ok()?;
        serde_json::from_slice(&bytes).ok()?
    };
    match &value["issuer"] {
        Value::String(s) => Some(s.clone()),
        Value::Object(o) => o.get("id")?.as_str().map(str::to_string),
        _ => value["iss"].as_str().map(str::to_string),
    }
}
