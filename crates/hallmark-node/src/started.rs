//! The `node.started` audit event (a transparency-log leaf): the effective configuration a
//! node started with, so that anyone holding the log sees when and how it ran.
//!
//! Built from an explicit allow-list of [`ValidatedConfig`] fields, never by serialising the
//! configuration: no secret (database URLs and their passwords, keystore passphrase, HSM
//! PIN, admin password) and no host detail that says nothing about the log (file paths —
//! including the plugin directory —, the admin user name) is recorded. Sector plugins are
//! recorded as their settings and the modules actually loaded (name, version, SHA-256).
//! The leaf is public (see `docs/transparency-log.md`).

use crate::app::App;
use crate::config::{Database, Signing, ValidatedConfig};
use hallmark_core::keys::public_key_multibase;
use hallmark_core::tlog::event::{Action, EventError};
use hallmark_store::{AuditEvent, AuditRecord, SigningKeyRecord, StoreError};
use serde::Serialize;
use time::OffsetDateTime;

/// The audit action.
pub const NODE_STARTED: &str = Action::NodeStarted.as_str();

/// A count as the leaf can hold it: a JSON number if it is an I-JSON safe integer (the leaf
/// is RFC 8785 canonical JSON, which refuses larger ones), else its decimal string.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(untagged)]
pub enum Count {
    /// At most 2^53 − 1.
    Number(u64),
    /// Larger: as a string.
    Text(String),
}

impl From<usize> for Count {
    fn from(n: usize) -> Self {
        const MAX_SAFE: u64 = (1 << 53) - 1;
        match u64::try_from(n) {
            Ok(v) if v <= MAX_SAFE => Count::Number(v),
            _ => Count::Text(n.to_string()),
        }
    }
}

/// Milliseconds of a duration (saturating).
fn millis(d: std::time::Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX)
}

/// The `node.started` detail: the effective configuration without secrets.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Started<'a> {
    /// The node's version.
    pub version: &'static str,
    /// `production` or `development`.
    pub profile: &'static str,
    /// The public listener's address.
    pub public_listen: String,
    /// The admin listener's address.
    pub admin_listen: String,
    /// The public base URL.
    pub public_base_url: &'a str,
    /// The issuer DID.
    pub did: &'a str,
    /// `sqlite` or `postgres`.
    pub database: &'static str,
    /// Where the signing keys live.
    pub signing: StartedSigning<'a>,
    /// The signing keys as stored.
    pub keys: Vec<StartedKey<'a>>,
    /// The transparency log.
    pub log: StartedLog<'a>,
    /// Request limits.
    pub limits: StartedLimits,
    /// Rate limits.
    pub rate_limits: StartedRates,
    /// Connection limits and trusted proxies.
    pub connections: StartedConnections,
    /// Sector plugins: settings and the modules loaded.
    pub plugins: StartedPlugins<'a>,
    /// The log level.
    pub log_level: &'static str,
    /// The EU registry's back-up link template (`null` when unset: no registry export).
    pub backup_link_template: Option<&'a str>,
    /// Whether authority-tier answers to signed readers are always sealed.
    pub seal_authority: bool,
}

/// The key-custody backend (`{"backend":"keystore"}`, or the token for `pkcs11`).
#[derive(Debug, Clone, Serialize)]
#[serde(tag = "backend", rename_all = "camelCase")]
pub enum StartedSigning<'a> {
    /// The file keystore.
    #[serde(rename = "keystore")]
    Keystore,
    /// A PKCS#11 token.
    #[serde(rename = "pkcs11", rename_all = "camelCase")]
    Pkcs11 {
        /// The token's label.
        token: &'a str,
        /// The prefix of the keys' labels.
        key_label_prefix: &'a str,
    },
}

/// A signing key as stored at start-up.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct StartedKey<'a> {
    /// Key id.
    pub key_id: &'a str,
    /// Purpose.
    pub purpose: &'a str,
    /// Status.
    pub status: &'static str,
}

impl<'a> From<&'a SigningKeyRecord> for StartedKey<'a> {
    fn from(k: &'a SigningKeyRecord) -> Self {
        StartedKey {
            key_id: &k.key_id,
            purpose: &k.purpose,
            status: k.status.as_str(),
        }
    }
}

/// The log's origin and checkpoint interval.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct StartedLog<'a> {
    /// The checkpoint origin.
    pub origin: &'a str,
    /// The checkpoint interval, ms.
    pub checkpoint_interval_ms: u64,
}

/// Body and JSON structure limits.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct StartedLimits {
    /// Largest request body.
    pub max_body_bytes: Count,
    /// Largest body of the batch route (`POST /api/v1/passports/batch`).
    pub max_batch_body_bytes: Count,
    /// Deepest JSON nesting.
    pub max_json_depth: Count,
    /// Most JSON object members.
    pub max_json_keys: Count,
    /// Most JSON array items.
    pub max_json_array_items: Count,
    /// Longest JSON string.
    pub max_json_string_bytes: Count,
    /// Request timeout, s.
    pub request_timeout_secs: u64,
}

/// Rate limits.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct StartedRates {
    /// Public requests per second per client.
    pub public_per_second: u32,
    /// Public burst.
    pub public_burst: u32,
    /// Admin requests per second per principal.
    pub admin_per_second: u32,
    /// Admin burst.
    pub admin_burst: u32,
    /// Failed authentications per minute per client.
    pub auth_failures_per_minute: u32,
    /// Refusal audit rows per client per minute.
    pub refusal_events_per_minute: u32,
}

/// Connection limits.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct StartedConnections {
    /// Header read timeout, ms.
    pub header_read_timeout_ms: u64,
    /// Idle timeout, ms.
    pub idle_timeout_ms: u64,
    /// Most connections.
    pub max_connections: Count,
    /// Most connections per client.
    pub max_connections_per_client: Count,
    /// Proxies whose forwarded client address is believed.
    pub trusted_proxies: Vec<String>,
}

/// Plugin settings and the modules loaded.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct StartedPlugins<'a> {
    /// Whether unsigned modules are loaded (development).
    pub allow_unsigned: bool,
    /// Sectors that must have a plugin.
    pub required: &'a [String],
    /// The operator's trusted publisher keys (Multikey).
    pub trusted_keys: Vec<String>,
    /// The project's built-in publisher key.
    pub built_in_trusted_key: &'static str,
    /// The modules loaded.
    pub loaded: Vec<StartedPlugin<'a>>,
}

/// One loaded plugin.
#[derive(Debug, Clone, Serialize)]
pub struct StartedPlugin<'a> {
    /// Its name.
    pub name: &'a str,
    /// Its version.
    pub version: &'a str,
    /// SHA-256 of the module, hex.
    pub sha256: &'a str,
    /// Whether a trusted manifest signed it.
    pub signed: bool,
}

/// The event's `detail`: the effective configuration without secrets, with the signing keys
/// as stored.
pub fn started_detail<'a>(
    config: &'a ValidatedConfig,
    app: &'a App,
    keys: &'a [SigningKeyRecord],
) -> Started<'a> {
    let limits = &config.limits;
    let rates = &config.rate_limits;
    Started {
        version: env!("CARGO_PKG_VERSION"),
        profile: config.profile.as_str(),
        public_listen: config.public_listen.to_string(),
        admin_listen: config.admin_listen.to_string(),
        public_base_url: &config.public_base_url,
        did: config.did.as_str(),
        database: match &config.database {
            Database::Sqlite { .. } => "sqlite",
            Database::Postgres { .. } => "postgres",
        },
        signing: match &config.signing {
            Signing::Keystore { .. } => StartedSigning::Keystore,
            Signing::Hsm(hsm, _) => StartedSigning::Pkcs11 {
                token: &hsm.token_label,
                key_label_prefix: &hsm.key_label_prefix,
            },
        },
        keys: keys.iter().map(StartedKey::from).collect(),
        log: StartedLog {
            origin: app.log.origin(),
            checkpoint_interval_ms: millis(app.log.interval()),
        },
        limits: StartedLimits {
            max_body_bytes: limits.max_body_bytes.into(),
            max_batch_body_bytes: limits.max_batch_body_bytes.into(),
            max_json_depth: limits.json.max_depth.into(),
            max_json_keys: limits.json.max_keys.into(),
            max_json_array_items: limits.json.max_array_items.into(),
            max_json_string_bytes: limits.json.max_string_bytes.into(),
            request_timeout_secs: config.request_timeout.as_secs(),
        },
        rate_limits: StartedRates {
            public_per_second: rates.public_per_second.get(),
            public_burst: rates.public_burst.get(),
            admin_per_second: rates.admin_per_second.get(),
            admin_burst: rates.admin_burst.get(),
            auth_failures_per_minute: rates.auth_failures_per_minute.get(),
            refusal_events_per_minute: config.refusals.per_window.get(),
        },
        connections: StartedConnections {
            header_read_timeout_ms: millis(config.connections.header_read_timeout),
            idle_timeout_ms: millis(config.connections.idle_timeout),
            max_connections: config.connections.max_connections.into(),
            max_connections_per_client: config.connections.max_connections_per_client.into(),
            trusted_proxies: config
                .trusted_proxies
                .networks()
                .map(ToString::to_string)
                .collect(),
        },
        plugins: StartedPlugins {
            allow_unsigned: config.plugins.allow_unsigned,
            required: &config.plugins.required,
            trusted_keys: config
                .plugins
                .trusted_keys
                .iter()
                .map(public_key_multibase)
                .collect(),
            built_in_trusted_key: crate::plugins::PROJECT_PUBLISHER_KEY.trim(),
            loaded: app
                .plugins
                .loaded()
                .iter()
                .map(|p| StartedPlugin {
                    name: &p.info.description.name,
                    version: &p.info.description.version,
                    sha256: &p.info.sha256,
                    signed: p.info.signed,
                })
                .collect(),
        },
        log_level: config.log_level.as_str(),
        backup_link_template: config.backup_link_template.as_ref().map(|t| t.as_str()),
        seal_authority: config.seal_authority,
    }
}

/// Why `node.started` could not be recorded.
#[derive(Debug, thiserror::Error)]
pub enum StartedError {
    /// The store refused.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The detail did not serialise (never expected).
    #[error(transparent)]
    Event(#[from] EventError),
}

/// Appends `node.started` (call after [`crate::node::build_app`], which has synchronised the
/// signing keys, and before serving). A node that cannot record its start does not start.
pub async fn record_started(
    app: &App,
    config: &ValidatedConfig,
) -> Result<AuditRecord, StartedError> {
    let keys = app.store.list_signing_keys().await?;
    let mut event = AuditEvent::of(OffsetDateTime::now_utc(), "node", Action::NodeStarted);
    let detail = started_detail(config, app, &keys);
    event.detail = crate::audit::detail(Action::NodeStarted, &detail)?;
    Ok(app.store.append_audit(event).await?)
}
