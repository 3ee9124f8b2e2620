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
use hallmark_core::tlog::event::Action;
use hallmark_store::{AuditEvent, AuditRecord, StoreError};
use serde_json::{json, Value};
use time::OffsetDateTime;

/// The audit action.
pub const NODE_STARTED: &str = Action::NodeStarted.as_str();

/// A JSON number if it is an I-JSON safe integer (the leaf is RFC 8785 canonical JSON, which
/// refuses larger ones), else its decimal string.
fn num(n: usize) -> Value {
    const MAX_SAFE: u64 = (1 << 53) - 1;
    match u64::try_from(n) {
        Ok(v) if v <= MAX_SAFE => json!(v),
        _ => json!(n.to_string()),
    }
}

/// The event's `detail`: the effective configuration without secrets.
pub fn started_detail(config: &ValidatedConfig, app: &App, keys: &[Value]) -> Value {
    let limits = &config.limits;
    let rates = &config.rate_limits;
    json!({
        "version": env!("CARGO_PKG_VERSION"),
        "profile": config.profile.as_str(),
        "publicListen": config.public_listen.to_string(),
        "adminListen": config.admin_listen.to_string(),
        "publicBaseUrl": config.public_base_url,
        "did": config.did.as_str(),
        "database": match &config.database {
            Database::Sqlite { .. } => "sqlite",
            Database::Postgres { .. } => "postgres",
        },
        "signing": match &config.signing {
            Signing::Keystore { .. } => json!({ "backend": "keystore" }),
            Signing::Hsm(hsm, _) => json!({
                "backend": "pkcs11",
                "token": hsm.token_label,
                "keyLabelPrefix": hsm.key_label_prefix,
            }),
        },
        "keys": keys,
        "log": {
            "origin": app.log.origin(),
            "checkpointIntervalMs": u64::try_from(app.log.interval().as_millis()).unwrap_or(u64::MAX),
        },
        "limits": {
            "maxBodyBytes": num(limits.max_body_bytes),
            "maxJsonDepth": num(limits.json.max_depth),
            "maxJsonKeys": num(limits.json.max_keys),
            "maxJsonArrayItems": num(limits.json.max_array_items),
            "maxJsonStringBytes": num(limits.json.max_string_bytes),
            "requestTimeoutSecs": config.request_timeout.as_secs(),
        },
        "rateLimits": {
            "publicPerSecond": rates.public_per_second.get(),
            "publicBurst": rates.public_burst.get(),
            "adminPerSecond": rates.admin_per_second.get(),
            "adminBurst": rates.admin_burst.get(),
            "authFailuresPerMinute": rates.auth_failures_per_minute.get(),
            "refusalEventsPerMinute": config.refusals.per_window.get(),
        },
        "connections": {
            "headerReadTimeoutMs": u64::try_from(config.connections.header_read_timeout.as_millis()).unwrap_or(u64::MAX),
            "idleTimeoutMs": u64::try_from(config.connections.idle_timeout.as_millis()).unwrap_or(u64::MAX),
            "maxConnections": num(config.connections.max_connections),
            "maxConnectionsPerClient": num(config.connections.max_connections_per_client),
            "trustedProxies": config
                .trusted_proxies
                .networks()
                .map(ToString::to_string)
                .collect::<Vec<_>>(),
        },
        "plugins": {
            "allowUnsigned": config.plugins.allow_unsigned,
            "required": config.plugins.required,
            "trustedKeys": config
                .plugins
                .trusted_keys
                .iter()
                .map(public_key_multibase)
                .collect::<Vec<_>>(),
            "builtInTrustedKey": crate::plugins::PROJECT_PUBLISHER_KEY.trim(),
            "loaded": app
                .plugins
                .loaded()
                .iter()
                .map(|p| json!({
                    "name": p.info.description.name,
                    "version": p.info.description.version,
                    "sha256": p.info.sha256,
                    "signed": p.info.signed,
                }))
                .collect::<Vec<_>>(),
        },
        "logLevel": config.log_level.as_str(),
    })
}

/// Appends `node.started` (call after [`crate::node::build_app`], which has synchronised the
/// signing keys, and before serving). A node that cannot record its start does not start.
pub async fn record_started(
    app: &App,
    config: &ValidatedConfig,
) -> Result<AuditRecord, StoreError> {
    let keys: Vec<Value> = app
        .store
        .list_signing_keys()
        .await?
        .iter()
        .map(|k| json!({ "keyId": k.key_id, "purpose": k.purpose, "status": k.status.as_str() }))
        .collect();
    let mut event = AuditEvent::of(OffsetDateTime::now_utc(), "node", Action::NodeStarted);
    event.detail = started_detail(config, app, &keys);
    app.store.append_audit(event).await
}
