//! `hallmark serve` and `hallmark demo`.

use hallmark_keys::keystore::{KdfParams, Keystore, KeystoreCustody};
use hallmark_keys::KeysError;
use hallmark_node::config::{
    self, AdminCredentials, Config, ConfigError, LogFormat, LogLevel, Profile, DEMO_ADMIN_PASSWORD,
    DEMO_ADMIN_USERNAME, DEMO_KEYSTORE_PASSPHRASE, SQLITE_FILE,
};
use hallmark_node::edge::EdgeConfig;
use hallmark_node::node::{self, Running, StartError};
use hallmark_node::plugins::{PluginGate, PluginLoadError};
use hallmark_node::transparency::LogStatus;
use hallmark_store::{SqliteStore, Store, StoreError};
use secrecy::SecretString;
use serde_json::Value;
use std::net::{Ipv4Addr, SocketAddr};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;

/// Why `hallmark serve` stopped: a refused configuration (exit 2) or a failed start-up or
/// run (exit 1). Each message is one line; none holds a secret.
#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    /// The configuration cannot be read or is refused.
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// The async runtime did not start.
    #[error("{0}")]
    Runtime(String),
    /// The node did not start, or stopped with an error.
    #[error(transparent)]
    Node(#[from] StartError),
}

impl ServeError {
    /// The process exit code: 2 for a refused configuration, 1 otherwise.
    pub fn exit_code(&self) -> u8 {
        match self {
            ServeError::Config(_) => 2,
            ServeError::Runtime(_) | ServeError::Node(_) => 1,
        }
    }
}

/// Why `hallmark demo` stopped (exit 1). Each message is one line naming what failed.
#[derive(Debug, thiserror::Error)]
pub enum DemoError {
    /// The async runtime did not start.
    #[error("{0}")]
    Runtime(String),
    /// A file or directory of the demo could not be created or written.
    #[error("{}: {source}", path.display())]
    File {
        /// The file or directory.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// The demo keystore could not be created or opened.
    #[error("keystore: {0}")]
    Keystore(#[from] KeysError),
    /// The demo database could not be opened or read.
    #[error("database: {0}")]
    Database(#[from] StoreError),
    /// The demo node's start could not be recorded in its audit trail.
    #[error("database: {0}")]
    Started(#[from] hallmark_node::started::StartedError),
    /// The demo's configuration did not validate (never expected: development defaults).
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// The built-in battery plugin did not load.
    #[error(transparent)]
    Plugin(#[from] PluginLoadError),
    /// The task loading the plugin failed.
    #[error("loading the battery plugin: {0}")]
    PluginTask(#[from] tokio::task::JoinError),
    /// The node did not start, or stopped with an error.
    #[error(transparent)]
    Node(#[from] StartError),
    /// One of the built-in example passports is not JSON (a defect in `demo/`).
    #[error("{name}: {source}")]
    Example {
        /// The file in `demo/`.
        name: &'static str,
        /// Why.
        source: serde_json::Error,
    },
    /// A request body could not be encoded (never expected).
    #[error("{0}")]
    Encode(serde_json::Error),
    /// A request to the demo node's admin API failed.
    #[error("{path}: {source}")]
    Request {
        /// The API path.
        path: String,
        /// Why.
        source: reqwest::Error,
    },
    /// The admin API answered something that is not JSON.
    #[error("{path}: HTTP {status}: {source}: {body}")]
    NotJson {
        /// The API path.
        path: String,
        /// The status.
        status: reqwest::StatusCode,
        /// The parser's message.
        source: serde_json::Error,
        /// The body, lossily decoded.
        body: String,
    },
    /// The admin API refused a request.
    #[error("{path}: HTTP {status}: {problem}")]
    Refused {
        /// The API path.
        path: String,
        /// The status.
        status: reqwest::StatusCode,
        /// The problem+json body.
        problem: Value,
    },
    /// A created passport's answer names no id.
    #[error("/passports: no passport id in {0}")]
    NoPassportId(Value),
    /// The battery plugin reported a finding on an example passport (a defect in it).
    #[error("demo passport {product}: the battery plugin reported {findings}")]
    Findings {
        /// The passport's product identifier.
        product: Value,
        /// The findings.
        findings: Value,
    },
    /// No example passport was published.
    #[error("no published passport")]
    NothingPublished,
    /// Reading the demo node's public listener failed.
    #[error("{0}")]
    Public(String),
    /// No checkpoint covered the publication in time.
    #[error("no checkpoint covers log leaf {index}: {status:?}")]
    NoCheckpoint {
        /// The publication's log index.
        index: u64,
        /// What the checkpoint signer last did.
        status: LogStatus,
    },
    /// The served log key is not text.
    #[error("log key: not UTF-8")]
    LogKeyNotUtf8,
    /// An example passport's product identifier gives no GS1 Digital Link URI (a defect in
    /// `demo/`).
    #[error("demo passport identifier: {0}")]
    DigitalLink(String),
}

/// Logs to standard error at `level`, as text lines or one JSON object per line
/// (`HALLMARK_LOG_FORMAT`). The events are the same in both formats (none carries a secret).
fn init_logging(level: LogLevel, format: LogFormat) {
    let filter = match level {
        LogLevel::Error => tracing::Level::ERROR,
        LogLevel::Warn => tracing::Level::WARN,
        LogLevel::Info => tracing::Level::INFO,
        LogLevel::Debug => tracing::Level::DEBUG,
        LogLevel::Trace => tracing::Level::TRACE,
    };
    let builder = tracing_subscriber::fmt()
        .with_max_level(filter)
        .with_writer(std::io::stderr)
        .with_ansi(false);
    let _ = match format {
        LogFormat::Text => builder.try_init(),
        LogFormat::Json => builder.json().try_init(),
    };
}

/// `hallmark serve`: configuration from `HALLMARK_*` and/or a TOML file; refuses (exit 2,
/// one line) any missing or unsafe setting; exit 1 when start-up fails.
pub fn serve(config_file: Option<&Path>, profile: Profile) -> ExitCode {
    match serve_inner(config_file, profile) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("hallmark serve: {e}");
            ExitCode::from(e.exit_code())
        }
    }
}

fn serve_inner(config_file: Option<&Path>, profile: Profile) -> Result<(), ServeError> {
    let validated = Config::from_process_env(config_file)?.validate(profile)?;
    init_logging(validated.log_level, validated.log_format);
    let rt = crate::runtime::runtime().map_err(ServeError::Runtime)?;
    rt.block_on(async {
        let running = node::serve(&validated).await?;
        // In JSON mode every line on standard error is a JSON object: the node's own
        // "listening" event says where it listens.
        if validated.log_format == LogFormat::Text {
            eprintln!(
                "hallmark serve: public listener on {}, admin listener on {} (base URL {})",
                running.public_addr, running.admin_addr, validated.public_base_url
            );
        }
        running.run_until_signal().await
    })?;
    Ok(())
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

/// The demo's plugin gate: the built-in signed plugins (the node library embeds them and
/// the project publisher key, as `hallmark serve` loads them), never unsigned, with
/// `battery` required.
pub fn demo_plugins() -> Result<PluginGate, PluginLoadError> {
    let key = hallmark_node::plugins::project_publisher_key()?;
    PluginGate::load_with_builtins(
        Vec::new(),
        hallmark_node::plugins::builtin_sources(),
        vec![key],
        false,
        &["battery".to_string()],
        Profile::Development,
    )
}

/// The demo's example battery passport submissions (an EV, an industrial and an LMT
/// battery).
/// The demo passports' external references, in [`DEMO_PASSPORTS`] order: those of the
/// import template's example rows (`hallmark import template battery --example`).
pub const DEMO_REFS: [&str; 3] = ["demo-ev", "demo-industrial", "demo-lmt"];

pub fn demo_drafts() -> Result<Vec<Value>, DemoError> {
    DEMO_PASSPORTS
        .iter()
        .map(|&(name, text)| {
            serde_json::from_str(text).map_err(|source| DemoError::Example { name, source })
        })
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
    ) -> Result<(reqwest::StatusCode, Value), DemoError> {
        let mut req = self
            .client
            .request(method, format!("{}{path}", self.base))
            .basic_auth(DEMO_ADMIN_USERNAME, Some(DEMO_ADMIN_PASSWORD));
        if let Some(b) = body {
            req = req
                .header("content-type", "application/json")
                .body(serde_json::to_vec(b).map_err(DemoError::Encode)?);
        }
        let request = |source| DemoError::Request {
            path: path.to_string(),
            source,
        };
        let r = req.send().await.map_err(request)?;
        let status = r.status();
        let bytes = r.bytes().await.map_err(request)?;
        let value = serde_json::from_slice(&bytes).map_err(|source| DemoError::NotJson {
            path: path.to_string(),
            status,
            source,
            body: String::from_utf8_lossy(&bytes).into_owned(),
        })?;
        Ok((status, value))
    }

    async fn call(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<&Value>,
    ) -> Result<Value, DemoError> {
        match self.send(method, path, body).await? {
            (status, value) if status.is_success() => Ok(value),
            (status, problem) => Err(DemoError::Refused {
                path: path.to_string(),
                status,
                problem,
            }),
        }
    }
}

/// GET a URL of the demo's public listener (200 or an error naming the URL).
async fn get_bytes(url: &str, accept: &str) -> Result<Vec<u8>, DemoError> {
    Ok(crate::verify_cmd::get_ok(url, accept)
        .await
        .map_err(DemoError::Public)?
        .body)
}

/// An I/O error on `path`, as [`DemoError::File`].
fn file_error(path: &Path) -> impl FnOnce(std::io::Error) -> DemoError + '_ {
    move |source| DemoError::File {
        path: path.to_path_buf(),
        source,
    }
}

fn write_file(path: &Path, bytes: &[u8]) -> Result<(), DemoError> {
    std::fs::write(path, bytes).map_err(file_error(path))
}

async fn demo_async(opts: &DemoOptions) -> Result<Option<Running>, DemoError> {
    let dir = &opts.dir;
    std::fs::create_dir_all(dir).map_err(file_error(dir))?;
    config::write_development_marker(dir).map_err(file_error(dir))?;
    let passphrase = SecretString::from(DEMO_KEYSTORE_PASSPHRASE);
    let ks_path = config::keystore_in(dir);
    let keystore = if ks_path.exists() {
        Keystore::open(&ks_path, &passphrase)?
    } else {
        Keystore::create(
            &ks_path,
            &passphrase,
            KdfParams::FLOOR,
            time::OffsetDateTime::now_utc(),
        )?
        .0
    };
    // The listeners before the database: a port in use changes nothing.
    let (public_listen, admin_listen) = if opts.no_serve {
        (0, 0)
    } else {
        (opts.public_port, opts.admin_port)
    };
    let listeners = node::Listeners::bind(
        SocketAddr::new(Ipv4Addr::LOCALHOST.into(), public_listen),
        SocketAddr::new(Ipv4Addr::LOCALHOST.into(), admin_listen),
    )
    .await?;
    let store: Arc<dyn Store> = Arc::new(SqliteStore::open(dir.join(SQLITE_FILE)).await?);
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
        // The demo's events go to NATS JetStream when HALLMARK_NATS_URL is set (docs/events.md).
        nats_url: std::env::var("HALLMARK_NATS_URL").ok(),
        nats_credentials: std::env::var_os("HALLMARK_NATS_CREDENTIALS").map(PathBuf::from),
        nats_stream: std::env::var("HALLMARK_NATS_STREAM").ok(),
        nats_subject: std::env::var("HALLMARK_NATS_SUBJECT").ok(),
        // Webhooks (development: any loopback receiver; others when listed).
        webhook_allowed_hosts: std::env::var("HALLMARK_WEBHOOK_ALLOWED_HOSTS")
            .ok()
            .map(|v| v.split(',').map(str::to_owned).collect()),
        ..Config::default()
    }
    .validate(Profile::Development)?;
    let plugins = tokio::task::spawn_blocking(demo_plugins).await??;
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
        Arc::new(KeystoreCustody::new(keystore)),
        &base_url,
        plugins,
    )
    .await?;
    hallmark_node::node::apply_policies(&app, &config);
    hallmark_node::started::record_started(&app, &config).await?;
    let admin = AdminCredentials {
        username: DEMO_ADMIN_USERNAME.to_string(),
        password: SecretString::from(DEMO_ADMIN_PASSWORD),
    };
    let running = node::start_on(app, &EdgeConfig::default(), &admin, listeners).await?;
    let api = Admin {
        client: reqwest::Client::new(),
        base: format!("http://{}/api/v1", running.admin_addr),
    };
    // The demo's passports go in through the import door with the references the import
    // template's example rows carry (demo-ev, demo-industrial, demo-lmt), so that
    // `hallmark import` of that example on this node finds them all unchanged. Re-running
    // reuses the directory: each product's passport is found (unchanged), not created twice.
    let mut ids = Vec::new();
    let mut identifiers = std::collections::BTreeMap::new();
    let drafts = demo_drafts()?;
    let mut items = Vec::new();
    for (draft, external_ref) in drafts.iter().zip(DEMO_REFS) {
        // The demo's data is meant to be plausible: any finding of the battery plugin, even
        // a warning, is a defect in it.
        let report = api
            .call(reqwest::Method::POST, "/passports/validate", Some(draft))
            .await?;
        let findings = &report["plugin"]["findings"];
        if report["valid"] != true || findings.as_array().is_none_or(|f| !f.is_empty()) {
            return Err(DemoError::Findings {
                product: draft["uniqueProductIdentifier"].clone(),
                findings: report,
            });
        }
        items.push(serde_json::json!({ "externalRef": external_ref, "passport": draft }));
    }
    let answer = api
        .call(
            reqwest::Method::POST,
            "/passports/batch",
            Some(&serde_json::json!({ "publish": true, "items": items })),
        )
        .await?;
    for (i, draft) in drafts.iter().enumerate() {
        let item = &answer["items"][i];
        let id = match item["result"].as_str() {
            Some("created" | "updated" | "published" | "unchanged") => &item["id"],
            // A directory from before the demo used references: its passport is found by
            // its product identifier.
            _ if item["problem"]["type"] == "urn:hallmark:problem:identifier-in-use" => {
                &item["problem"]["existing_passport"]
            }
            _ => {
                return Err(DemoError::Refused {
                    path: "/passports/batch".to_string(),
                    status: reqwest::StatusCode::OK,
                    problem: item.clone(),
                })
            }
        };
        let id = id
            .as_str()
            .ok_or_else(|| DemoError::NoPassportId(item.clone()))?
            .to_string();
        let state = api
            .call(reqwest::Method::GET, &format!("/passports/{id}"), None)
            .await?;
        if state["status"] == "draft" {
            api.call(
                reqwest::Method::POST,
                &format!("/passports/{id}/publish"),
                None,
            )
            .await?;
        }
        identifiers.insert(id.clone(), draft["uniqueProductIdentifier"].clone());
        ids.push(id);
    }
    ids.sort();
    let first = ids.first().ok_or(DemoError::NothingPublished)?.clone();
    // The resolver URI a label of the first passport carries: its GS1 Digital Link under
    // the public base URL.
    let resolver_uri = identifiers
        .get(&first)
        .cloned()
        .ok_or(DemoError::NothingPublished)
        .and_then(|v| {
            serde_json::from_value::<hallmark_core::passport::ProductIdentifier>(v)
                .map_err(|e| DemoError::DigitalLink(e.to_string()))
        })?
        .digital_link(&base_url)
        .map_err(|e| DemoError::DigitalLink(e.to_string()))?;
    let public = format!("http://{}", running.public_addr);
    let did_path = running.app.issuer.did.document_path();
    let did = get_bytes(&format!("{public}{did_path}"), "application/json").await?;
    write_file(&dir.join("did.json"), &did)?;
    let answer = crate::verify_cmd::get_ok(
        &format!("{public}/passports/{first}"),
        "application/vc+ld+json",
    )
    .await
    .map_err(DemoError::Public)?;
    let (headers, cred) = (answer.headers, answer.body);
    write_file(&dir.join("passport.json"), &cred)?;
    // The transparency log: wait for a checkpoint covering the publish event (the node
    // signs within its checkpoint interval), then save the checkpoint, the inclusion proof
    // and the log key beside the credential.
    let index = crate::verify_cmd::log_index(&format!("{public}/passports/{first}"), &headers)
        .map_err(DemoError::Public)?;
    let written = running.app.store.audit_len().await?;
    tokio::time::timeout(
        std::time::Duration::from_secs(30),
        running.app.log.wait_for_size(written.max(index + 1)),
    )
    .await
    .map_err(|_| DemoError::NoCheckpoint {
        index,
        status: running.app.log.status(),
    })?;
    let (note, proof) = crate::verify_cmd::log_evidence(&public, index)
        .await
        .map_err(DemoError::Public)?;
    write_file(&dir.join("checkpoint.txt"), note.as_bytes())?;
    write_file(&dir.join("inclusion-proof.json"), &proof)?;
    let log_key = String::from_utf8(get_bytes(&format!("{public}/log/key"), "text/plain").await?)
        .map_err(|_| DemoError::LogKeyNotUtf8)?;
    let log_key = log_key.trim_end();
    write_file(&dir.join("log-key.txt"), format!("{log_key}\n").as_bytes())?;
    let jwt = get_bytes(&format!("{public}/passports/{first}"), "application/vc+jwt").await?;
    write_file(&dir.join("passport.jwt"), &jwt)?;
    // Its QR code as the node serves it (defaults: EC M, 0.5 mm modules at 600 dpi).
    let qr = get_bytes(&format!("{public}/passports/{first}/qr.png"), "image/png").await?;
    write_file(&dir.join("qr.png"), &qr)?;

    // Printed paths and commands work as printed, from any directory: the directory made
    // absolute, and `hallmark` only when that is on PATH (else this executable's path).
    let dir = std::fs::canonicalize(dir).unwrap_or_else(|_| dir.clone());
    let d = dir.display();
    let hallmark = command_name();
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
    println!("  Resolver URI:     {resolver_uri}");
    println!(
        "  QR code (PNG):    {d}/qr.png  (the resolver URI; print at 600 dpi, 0.5 mm modules)"
    );
    println!("  DID document:     {base}{did_path}");
    println!("  Log checkpoint:   {base}/log/checkpoint");
    println!("  Log key:          {log_key}");
    println!("  Admin API:        {admin_base}  (login {DEMO_ADMIN_USERNAME} / {DEMO_ADMIN_PASSWORD} — DEVELOPMENT ONLY)");
    println!();
    println!("  Verify the credential offline (files written to {d}):");
    println!("    {hallmark} verify {d}/passport.json --did-document {d}/did.json");
    println!();
    println!("  …and that its publication is in the signed transparency log (leaf {index}):");
    println!("    {hallmark} verify {d}/passport.json --did-document {d}/did.json \\");
    println!("      --checkpoint {d}/checkpoint.txt --proof {d}/inclusion-proof.json \\");
    println!("      --log-key '{log_key}'");
    if !opts.no_serve {
        println!();
        println!(
            "  …or fetch it from this node while it runs. A demo DID (did:web on localhost over"
        );
        println!("  http) cannot be resolved by the did:web rules, so name its DID document —");
        println!("  development only; the report warns:");
        println!(
            "    {hallmark} verify --from {base}/passports/{first} --did-document-from {base}{did_path}"
        );
    }
    println!();
    println!("  Try:");
    println!("    curl -H 'Accept: application/vc+jwt' {base}/passports/{first}");
    println!("    curl '{base}/log/proof/inclusion?index={index}'");
    println!("    curl -u {DEMO_ADMIN_USERNAME}:{DEMO_ADMIN_PASSWORD} {admin_base}/passports");
    println!("    curl -o label.svg '{base}/passports/{first}/qr.svg?x=0.6'");
    if opts.no_serve {
        running.stop();
        running.wait().await?;
        return Ok(None);
    }
    println!();
    println!("  Serving until Ctrl-C.");
    Ok(Some(running))
}

/// How to run this executable in a printed command: `hallmark` when a `hallmark` on PATH is
/// this very file, otherwise its absolute path (e.g. `…/target/release/hallmark` after
/// `cargo run`).
fn command_name() -> String {
    let Ok(me) = std::env::current_exe().and_then(std::fs::canonicalize) else {
        return "hallmark".to_string();
    };
    let on_path = std::env::var_os("PATH").is_some_and(|path| {
        std::env::split_paths(&path)
            .filter_map(|d| std::fs::canonicalize(d.join("hallmark")).ok())
            .any(|found| found == me)
    });
    if on_path {
        "hallmark".to_string()
    } else {
        me.display().to_string()
    }
}

/// `hallmark demo`.
pub fn demo(opts: &DemoOptions) -> ExitCode {
    init_logging(LogLevel::Error, LogFormat::Text);
    let result = crate::runtime::runtime()
        .map_err(DemoError::Runtime)
        .and_then(|rt| {
            rt.block_on(async {
                if let Some(running) = demo_async(opts).await? {
                    running.run_until_signal().await?;
                }
                Ok(())
            })
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
pub fn parse_profile(s: &str) -> Result<Profile, hallmark_node::profile::UnknownProfile> {
    s.parse::<Profile>()
}
