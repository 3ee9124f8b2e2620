//! A node over real HTTP on loopback: [`TestNode`] builds one on fresh data, [`Data`] keeps
//! data so a node can be restarted (or doubled) on it, and [`Node`] is the running node
//! with the requests the suites share.

use crate::http::{client, until, Reply};
use crate::pg::{self, PgDb};
use crate::Backend;
use hallmark_core::did::DidDocument;
use hallmark_core::tlog::VerifierKey;
use hallmark_keys::keystore::{KdfParams, Keystore};
use hallmark_keys::{KeyCustody, KeystoreCustody};
use hallmark_node::app::AppState;
use hallmark_node::config::{AdminCredentials, PluginSettings, Profile};
use hallmark_node::edge::{EdgeConfig, RateLimits};
use hallmark_node::node::{self, Running};
use hallmark_node::plugins::PluginGate;
use hallmark_store::{AuditRecord, SqliteStore, Store};
use reqwest::Method;
use secrecy::SecretString;
use serde_json::{json, Value};
use sqlx::Connection;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

/// The admin login's user name.
pub const ADMIN_USER: &str = "operator";
/// The admin login's password.
pub const ADMIN_PASS: &str = "test-admin-password-0123456789";
/// The test keystore's passphrase.
pub const PASSPHRASE: &str = "test keystore passphrase";
/// The public base URL test nodes issue under (`did:web:localhost%3A8080`).
pub const BASE_URL: &str = "http://localhost:8080";

/// The `Authorization` header of the admin login.
pub fn basic() -> String {
    use base64::Engine;
    format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(format!("{ADMIN_USER}:{ADMIN_PASS}"))
    )
}

/// Edge settings with rate limits lifted (tests drive many requests from one address).
pub fn edge() -> EdgeConfig {
    let big = std::num::NonZeroU32::new(100_000).unwrap();
    EdgeConfig {
        rate_limits: RateLimits {
            public_per_second: big,
            public_burst: big,
            admin_per_second: big,
            admin_burst: big,
            auth_failures_per_minute: big,
        },
        ..EdgeConfig::default()
    }
}

/// The demo's EV battery data (`crates/hallmark/demo/ev-battery.json`): realistic values
/// that pass the battery plugin without findings.
pub fn battery_data() -> Value {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../hallmark/demo/ev-battery.json"
    );
    let draft: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    draft["data"].clone()
}

/// An item-level battery passport submission with that data and serial number.
pub fn battery_draft(serial: &str) -> Value {
    json!({
        "uniqueProductIdentifier": { "gtin": "09506000134352", "serial": serial },
        "granularity": "item",
        "economicOperatorId": "https://id.gs1.org/417/4012345000016",
        "facilityId": "https://id.gs1.org/414/4012345000016",
        "commodityCode": "85076000",
        "sector": { "id": "battery", "schemaVersion": "1.2.0" },
        "data": battery_data(),
    })
}

/// A generic-sector passport draft (an oak chair) with serial number `serial`: public data
/// only, no sector plugin.
pub fn generic_draft(serial: &str) -> Value {
    json!({
        "uniqueProductIdentifier": { "gtin": "09506000134352", "serial": serial },
        "granularity": "item",
        "economicOperatorId": "urn:eori:PT123456789",
        "sector": { "id": "generic", "schemaVersion": "1.0.0" },
        "data": { "public": { "productName": "Oak chair" } },
    })
}

/// Where a node's data lives — a temporary directory with a floor-KDF keystore
/// (`keys.json`, [`PASSPHRASE`]) and the SQLite file, or a per-test PostgreSQL database —
/// so that a node can be restarted (or doubled) on the same data.
pub struct Data {
    /// The temporary directory (keystore, SQLite file).
    pub dir: tempfile::TempDir,
    /// The PostgreSQL database, on that backend.
    pub pg: Option<PgDb>,
}

impl Data {
    /// Fresh data on `backend`, with a new keystore.
    pub async fn new(backend: Backend) -> Data {
        let dir = tempfile::tempdir().unwrap();
        Keystore::create(
            dir.path().join("keys.json"),
            &SecretString::from(PASSPHRASE),
            KdfParams::FLOOR,
            time::OffsetDateTime::now_utc(),
        )
        .unwrap();
        let pg = match backend {
            Backend::Sqlite => None,
            Backend::Postgres => Some(PgDb::new().await),
        };
        Data { dir, pg }
    }

    /// The keystore file.
    pub fn keystore_path(&self) -> PathBuf {
        self.dir.path().join("keys.json")
    }

    /// The SQLite file (used on the SQLite backend).
    pub fn sqlite_path(&self) -> PathBuf {
        self.dir.path().join("hallmark.db")
    }

    /// The keystore, opened.
    pub fn keystore(&self) -> Keystore {
        Keystore::open(self.keystore_path(), &SecretString::from(PASSPHRASE)).unwrap()
    }

    /// A store opened on this data.
    pub async fn store(&self) -> Arc<dyn Store> {
        match &self.pg {
            None => Arc::new(SqliteStore::open(self.sqlite_path()).await.unwrap()),
            Some(db) => Arc::new(db.store().await),
        }
    }

    /// Starts a node on this data (checkpoint interval 20 ms to keep tests short).
    pub async fn start(&self) -> Node {
        self.start_with(edge()).await
    }

    /// [`start`](Self::start) with the event relay to `nats` (`HALLMARK_NATS_URL` and the
    /// default stream and subject).
    pub async fn start_relaying(&self, nats: &str) -> Node {
        let settings = Settings {
            checkpoint_interval: Some(Duration::from_millis(20)),
            nats: Some(hallmark_node::config::NatsSettings::parse(nats, None, None, None).unwrap()),
            ..Settings::default()
        };
        settings.start_on(self).await
    }

    /// [`start`](Self::start) with these edge settings.
    pub async fn start_with(&self, edge: EdgeConfig) -> Node {
        let settings = Settings {
            edge,
            checkpoint_interval: Some(Duration::from_millis(20)),
            ..Settings::default()
        };
        settings.start_on(self).await
    }

    /// Rewrites audit event `seq` and its leaf consistently, as a privileged database user
    /// with the guards bypassed would: the leaf matches its event, so only a checkpoint
    /// signed before the rewrite can expose it.
    pub async fn rewrite_event(&self, mut event: AuditRecord, actor: &str) {
        event.event.actor = actor.to_string();
        let hash = event.leaf_hash().unwrap();
        let hex: String = hash.iter().map(|b| format!("{b:02x}")).collect();
        let (seq, index) = (event.seq, event.seq - 1);
        match &self.pg {
            None => {
                let url = format!("sqlite://{}", self.sqlite_path().display());
                let mut c = sqlx::SqliteConnection::connect(&url).await.unwrap();
                sqlx::raw_sql(&format!(
                    "DROP TRIGGER IF EXISTS audit_no_update; \
                     DROP TRIGGER IF EXISTS log_leaves_no_update; \
                     UPDATE audit_events SET actor = '{actor}' WHERE seq = {seq}; \
                     UPDATE log_leaves SET leaf_hash = X'{hex}' WHERE leaf_index = {index};"
                ))
                .execute(&mut c)
                .await
                .unwrap();
                c.close().await.unwrap();
            }
            Some(db) => {
                let opts = pg::admin_options().database(&db.database);
                let mut c = sqlx::PgConnection::connect_with(&opts).await.unwrap();
                sqlx::raw_sql(&format!(
                    "SET session_replication_role = replica; \
                     UPDATE hallmark.audit_events SET actor = '{actor}' WHERE seq = {seq}; \
                     UPDATE hallmark.log_leaves SET leaf_hash = '\\x{hex}' \
                     WHERE leaf_index = {index};"
                ))
                .execute(&mut c)
                .await
                .unwrap();
                c.close().await.unwrap();
            }
        }
    }
}

/// Plugin settings computed from the node's data directory.
type PluginsFrom<'a> = Box<dyn FnOnce(&Path) -> PluginSettings + 'a>;

/// What a node is started with, beyond its data.
struct Settings<'a> {
    edge: EdgeConfig,
    custody: Option<Arc<dyn KeyCustody>>,
    plugins: Option<PluginsFrom<'a>>,
    checkpoint_interval: Option<Duration>,
    api_key: Option<(String, String)>,
    backup_link: Option<String>,
    own_base_url: bool,
    nats: Option<hallmark_node::config::NatsSettings>,
    webhooks: Option<hallmark_node::webhooks::WebhookSettings>,
}

impl Default for Settings<'_> {
    fn default() -> Self {
        Settings {
            edge: edge(),
            custody: None,
            plugins: None,
            checkpoint_interval: None,
            api_key: None,
            backup_link: None,
            own_base_url: false,
            nats: None,
            webhooks: None,
        }
    }
}

impl Settings<'_> {
    async fn start_on(self, data: &Data) -> Node {
        let plugins = match self.plugins {
            Some(settings) => node::open_plugins(&settings(data.dir.path()), Profile::Development)
                .await
                .unwrap(),
            None => PluginGate::none(),
        };
        let custody = match self.custody {
            Some(custody) => custody,
            None => Arc::new(KeystoreCustody::new(data.keystore())),
        };
        let any: SocketAddr = "127.0.0.1:0".parse().unwrap();
        let listeners = node::Listeners::bind(any, any).await.unwrap();
        let base_url = if self.own_base_url {
            format!("http://{}", listeners.public_addr)
        } else {
            BASE_URL.to_owned()
        };
        let app = node::build_app_with_plugins(data.store().await, custody, &base_url, plugins)
            .await
            .unwrap();
        if let Some(interval) = self.checkpoint_interval {
            app.log.set_interval(interval);
        }
        if let Some(template) = &self.backup_link {
            let parsed = hallmark_node::config::BackupLinkTemplate::parse(template, false).unwrap();
            app.backup_link.set(parsed).unwrap();
        }
        if let Some(nats) = self.nats {
            app.nats.set(nats).unwrap();
        }
        if let Some(webhooks) = self.webhooks {
            app.webhooks.set(webhooks).unwrap();
        }
        let mut node = Node::start_on(app, &self.edge, listeners).await;
        if let Some((scope, label)) = self.api_key {
            let r = node
                .call(
                    Method::POST,
                    "/api/v1/api-keys",
                    Some(&basic()),
                    Some(&json!({ "scope": scope, "label": label })),
                )
                .await;
            assert_eq!(r.status, 201, "{}", String::from_utf8_lossy(&r.body));
            node.auth = Some(format!("Bearer {}", r.json()["key"].as_str().unwrap()));
        }
        node
    }
}

/// A node on fresh data of its own (dropped with the node), built step by step:
/// `TestNode::new(Backend::Sqlite).api_key("write", "label").start().await`.
///
/// By default: a file keystore in the data directory, no sector plugins, [`edge()`]
/// (rate limits lifted), the node's own checkpoint interval, no API key.
pub struct TestNode<'a> {
    backend: Backend,
    settings: Settings<'a>,
}

impl<'a> TestNode<'a> {
    /// A node on `backend` with the defaults.
    pub fn new(backend: Backend) -> TestNode<'a> {
        TestNode {
            backend,
            settings: Settings::default(),
        }
    }

    /// These edge settings instead of [`edge()`].
    pub fn edge(mut self, edge: EdgeConfig) -> TestNode<'a> {
        self.settings.edge = edge;
        self
    }

    /// This key custody (e.g. an HSM) instead of the data's keystore.
    pub fn custody(mut self, custody: Arc<dyn KeyCustody>) -> TestNode<'a> {
        self.settings.custody = Some(custody);
        self
    }

    /// Sector plugins loaded through the start-up loader (`node::open_plugins`, development
    /// profile) from the settings `settings(data directory)` returns.
    pub fn plugins(mut self, settings: impl FnOnce(&Path) -> PluginSettings + 'a) -> TestNode<'a> {
        self.settings.plugins = Some(Box::new(settings));
        self
    }

    /// The checkpoint signer's interval (the node's default otherwise).
    pub fn checkpoint_interval(mut self, interval: Duration) -> TestNode<'a> {
        self.settings.checkpoint_interval = Some(interval);
        self
    }

    /// Mints an API key of `scope` with the admin login once started; its `Authorization`
    /// header is [`Node::bearer`] (unlike the admin login, its use adds no audit event).
    pub fn api_key(mut self, scope: &str, label: &str) -> TestNode<'a> {
        self.settings.api_key = Some((scope.to_owned(), label.to_owned()));
        self
    }

    /// The EU registry's back-up link template (`HALLMARK_BACKUP_LINK_TEMPLATE`).
    pub fn backup_link(mut self, template: &str) -> TestNode<'a> {
        self.settings.backup_link = Some(template.to_owned());
        self
    }

    /// Issues under the node's own public listener (`http://127.0.0.1:<port>`, bound before
    /// the application is built) instead of [`BASE_URL`]: what a client signs for and finds
    /// in credential ids is then the URL it reaches (readers' signed requests from another
    /// process, e.g. `hallmark fetch`).
    pub fn own_base_url(mut self) -> TestNode<'a> {
        self.settings.own_base_url = true;
        self
    }

    /// Webhooks allowed to `settings`' destinations, on its schedule (default: none
    /// allowed).
    pub fn webhooks(mut self, settings: hallmark_node::webhooks::WebhookSettings) -> TestNode<'a> {
        self.settings.webhooks = Some(settings);
        self
    }

    /// Delivers the outbox's events to the NATS server at `url` (`HALLMARK_NATS_URL`, the
    /// default stream and subject).
    pub fn nats(mut self, url: &str) -> TestNode<'a> {
        self.settings.nats =
            Some(hallmark_node::config::NatsSettings::parse(url, None, None, None).unwrap());
        self
    }

    /// Creates the data and starts the node on it.
    pub async fn start(self) -> Node {
        let data = Data::new(self.backend).await;
        let mut node = self.settings.start_on(&data).await;
        node.data = Some(data);
        node
    }
}

/// A running node: both listeners on 127.0.0.1 ephemeral ports.
pub struct Node {
    /// The running node (addresses, application state, stop).
    pub running: Running,
    /// The public listener's base URL.
    pub public: String,
    /// The admin listener's base URL.
    pub admin: String,
    /// The `Authorization` header of the key [`TestNode::api_key`] minted.
    pub auth: Option<String>,
    /// The node's own data (a [`TestNode`]'s), dropped after the node.
    pub data: Option<Data>,
}

impl Node {
    /// Starts `app` with [`edge()`] and the admin login.
    pub async fn start(app: AppState) -> Node {
        Self::start_with(app, &edge()).await
    }

    /// Starts `app` with these edge settings and the admin login.
    pub async fn start_with(app: AppState, edge: &EdgeConfig) -> Node {
        let any: SocketAddr = "127.0.0.1:0".parse().unwrap();
        let listeners = node::Listeners::bind(any, any).await.unwrap();
        Self::start_on(app, edge, listeners).await
    }

    /// [`start_with`](Self::start_with) on listeners already bound.
    pub async fn start_on(app: AppState, edge: &EdgeConfig, listeners: node::Listeners) -> Node {
        let admin = AdminCredentials {
            username: ADMIN_USER.into(),
            password: SecretString::from(ADMIN_PASS),
        };
        let running = node::start_on(app, edge, &admin, listeners).await.unwrap();
        Node::from_running(running)
    }

    /// A node started some other way (e.g. `node::serve` from a configuration).
    pub fn from_running(running: Running) -> Node {
        Node {
            public: format!("http://{}", running.public_addr),
            admin: format!("http://{}", running.admin_addr),
            running,
            auth: None,
            data: None,
        }
    }

    /// The application state.
    pub fn app(&self) -> &AppState {
        &self.running.app
    }

    /// The node's store.
    pub fn store(&self) -> &Arc<dyn Store> {
        &self.running.app.store
    }

    /// The minted API key's `Authorization` header ([`TestNode::api_key`]).
    pub fn bearer(&self) -> &str {
        self.auth
            .as_deref()
            .expect("the node was started without TestNode::api_key")
    }

    /// Stops the node and waits until it has stopped.
    pub async fn stop(self) {
        self.running.stop();
        self.running.wait().await.unwrap();
    }

    /// A request to `url` with optional `Authorization`, JSON body and `Accept`.
    pub async fn call_raw(
        &self,
        method: Method,
        url: &str,
        auth: Option<&str>,
        body: Option<&Value>,
        accept: Option<&str>,
    ) -> Reply {
        let mut req = client().request(method, url);
        if let Some(a) = auth {
            req = req.header("authorization", a);
        }
        if let Some(b) = body {
            req = req
                .header("content-type", "application/json")
                .body(serde_json::to_vec(b).unwrap());
        }
        if let Some(a) = accept {
            req = req.header("accept", a);
        }
        Reply::from(req.send().await.unwrap()).await
    }

    /// A request to the admin listener with optional `Authorization` and JSON body.
    pub async fn call(
        &self,
        method: Method,
        path: &str,
        auth: Option<&str>,
        body: Option<&Value>,
    ) -> Reply {
        self.call_raw(method, &format!("{}{path}", self.admin), auth, body, None)
            .await
    }

    /// A request to the admin listener whose body is sent as JSON text exactly as given.
    pub async fn call_text(
        &self,
        method: Method,
        path: &str,
        auth: Option<&str>,
        body: Option<&str>,
    ) -> Reply {
        let mut req = client().request(method, format!("{}{path}", self.admin));
        if let Some(a) = auth {
            req = req.header("authorization", a);
        }
        if let Some(b) = body {
            req = req
                .header("content-type", "application/json")
                .body(b.to_string());
        }
        Reply::from(req.send().await.unwrap()).await
    }

    /// A GET on the public listener, with an optional `Accept`.
    pub async fn get_public(&self, path: &str, accept: Option<&str>) -> Reply {
        self.call_raw(
            Method::GET,
            &format!("{}{path}", self.public),
            None,
            None,
            accept,
        )
        .await
    }

    /// A GET on the public listener.
    pub async fn get(&self, path: &str) -> Reply {
        self.get_public(path, None).await
    }

    /// A request to the admin listener with the admin login, no body.
    pub async fn admin(&self, method: Method, path: &str) -> Reply {
        self.call(method, path, Some(&basic()), None).await
    }

    /// Mints a key with the admin login; returns (bearer header, key text, prefix).
    pub async fn key(&self, scope: &str) -> (String, String, String) {
        self.key_with(scope, None).await
    }

    /// [`key`](Self::key) with an expiry (RFC 3339).
    pub async fn key_with(
        &self,
        scope: &str,
        expires_at: Option<String>,
    ) -> (String, String, String) {
        let mut body = json!({ "scope": scope, "label": format!("test {scope}") });
        if let Some(e) = expires_at {
            body["expiresAt"] = json!(e);
        }
        let r = self
            .call(
                Method::POST,
                "/api/v1/api-keys",
                Some(&basic()),
                Some(&body),
            )
            .await;
        assert_eq!(r.status, 201, "{}", String::from_utf8_lossy(&r.body));
        let v = r.json();
        let key = v["key"].as_str().unwrap().to_string();
        (
            format!("Bearer {key}"),
            key,
            v["prefix"].as_str().unwrap().to_string(),
        )
    }

    /// The served DID document.
    pub async fn did(&self) -> DidDocument {
        let r = self.get_public("/.well-known/did.json", None).await;
        assert_eq!(r.status, 200);
        DidDocument::from_json(&r.body).unwrap()
    }

    /// Creates and publishes a battery passport as `auth`; returns its id.
    pub async fn publish_new(&self, auth: &str, serial: &str) -> String {
        self.publish_draft_as(auth, &battery_draft(serial)).await
    }

    /// Creates and publishes `drafts` through the bulk import's batch route with the admin
    /// login, `chunk` a batch (at most 1,000), each with the external reference
    /// `<prefix>-<index>`; returns their ids (bare UUIDs) in order. Every item must succeed.
    pub async fn publish_batch(&self, prefix: &str, drafts: &[Value], chunk: usize) -> Vec<String> {
        let mut ids = Vec::with_capacity(drafts.len());
        for (n, part) in drafts.chunks(chunk).enumerate() {
            let items: Vec<Value> = part
                .iter()
                .enumerate()
                .map(|(i, d)| json!({"externalRef": format!("{prefix}-{}", n * chunk + i), "passport": d}))
                .collect();
            let r = self
                .call(
                    Method::POST,
                    "/api/v1/passports/batch",
                    Some(&basic()),
                    Some(&json!({"publish": true, "items": items})),
                )
                .await;
            assert_eq!(r.status, 200, "{}", String::from_utf8_lossy(&r.body));
            let answer = r.json();
            assert_eq!(answer["counts"]["failed"], 0, "{answer}");
            for item in answer["items"].as_array().unwrap() {
                ids.push(item["id"].as_str().unwrap().to_owned());
            }
        }
        ids
    }

    /// Creates and publishes `draft` as `auth`; returns its id.
    pub async fn publish_draft_as(&self, auth: &str, draft: &Value) -> String {
        let r = self
            .call(Method::POST, "/api/v1/passports", Some(auth), Some(draft))
            .await;
        assert_eq!(r.status, 201, "{}", String::from_utf8_lossy(&r.body));
        let id = r.json()["id"].as_str().unwrap().to_string();
        let r = self
            .call(
                Method::POST,
                &format!("/api/v1/passports/{id}/publish"),
                Some(auth),
                None,
            )
            .await;
        assert_eq!(r.status, 200, "{}", String::from_utf8_lossy(&r.body));
        id
    }

    /// Creates and publishes a battery passport (admin login); returns (id, publish
    /// response).
    pub async fn publish(&self, serial: &str) -> (String, Value) {
        let r = self
            .call(
                Method::POST,
                "/api/v1/passports",
                Some(&basic()),
                Some(&battery_draft(serial)),
            )
            .await;
        assert_eq!(r.status, 201, "{}", String::from_utf8_lossy(&r.body));
        let id = r.json()["id"].as_str().unwrap().to_string();
        let p = self
            .admin(Method::POST, &format!("/api/v1/passports/{id}/publish"))
            .await;
        assert_eq!(p.status, 200, "{}", String::from_utf8_lossy(&p.body));
        (id, p.json())
    }

    /// The log key as published by the node.
    pub async fn log_key(&self) -> VerifierKey {
        let r = self.get("/log/key").await;
        assert_eq!(r.status, 200);
        assert_eq!(r.header("content-type"), Some("text/plain; charset=utf-8"));
        VerifierKey::parse(String::from_utf8(r.body).unwrap().trim_end()).unwrap()
    }

    /// Waits until the served checkpoint covers every leaf in the store; returns its note.
    pub async fn checkpoint_covering_everything(&self) -> String {
        let store = Arc::clone(&self.app().store);
        until("a checkpoint covering every leaf", || {
            let store = Arc::clone(&store);
            async move {
                let n = store.audit_len().await.unwrap();
                let r = self.get("/log/checkpoint").await;
                if r.status != 200 {
                    return None;
                }
                let note = String::from_utf8(r.body).unwrap();
                let size: u64 = note.lines().nth(1).unwrap().parse().unwrap();
                (size >= n).then_some(note)
            }
        })
        .await
    }
}
