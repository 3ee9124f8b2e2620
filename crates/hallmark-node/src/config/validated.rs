//! A configuration that passed validation: [`ValidatedConfig`], the [`Database`] and the
//! [`Signing`] backend it names.

use super::error::ConfigError;
use super::value::{LogFormat, LogLevel};
use crate::auth::AdminCredentials;
use crate::edge::serve::ConnLimits;
use crate::edge::{EdgeConfig, Limits, RateLimits};
use crate::plugins::PluginSettings;
use crate::profile::Profile;
use crate::refusals::RefusalLimits;
use hallmark_core::did::DidWeb;
use hallmark_keys::hsm::HsmConfig;
use secrecy::{ExposeSecret, SecretString};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

/// The database to use.
#[derive(Debug, Clone)]
pub enum Database {
    /// An SQLite file.
    Sqlite {
        /// The database file.
        path: PathBuf,
    },
    /// PostgreSQL: a least-privilege app role and an owner role for migrations.
    Postgres {
        /// The app role's URL (may contain a password: secret).
        app_url: SecretString,
        /// The migration (owner) role's URL.
        migration_url: SecretString,
    },
}

impl Database {
    pub(super) fn parse(
        url: &SecretString,
        migration: Option<&SecretString>,
        prod: bool,
    ) -> Result<Database, ConfigError> {
        let u = url.expose_secret();
        if let Some(rest) = u.strip_prefix("sqlite:") {
            let rest = rest.strip_prefix("//").unwrap_or(rest);
            let path = rest.split('?').next().unwrap_or_default();
            if path.is_empty() {
                return Err(ConfigError::Invalid {
                    setting: "HALLMARK_DATABASE_URL",
                    reason: "sqlite: URL without a file path".into(),
                });
            }
            return Ok(Database::Sqlite {
                path: PathBuf::from(path),
            });
        }
        if u.starts_with("postgres://") || u.starts_with("postgresql://") {
            let migration_url = match migration {
                Some(m) => m.clone(),
                None if prod => return Err(ConfigError::DatabaseMigrationUrlMissing),
                None => url.clone(),
            };
            return Ok(Database::Postgres {
                app_url: url.clone(),
                migration_url,
            });
        }
        Err(ConfigError::DatabaseUrlUnsupported)
    }
}

/// Where signing keys live.
#[derive(Debug, Clone)]
pub enum Signing {
    /// The encrypted file keystore.
    Keystore {
        /// The keystore file.
        path: PathBuf,
        /// Its passphrase.
        passphrase: SecretString,
    },
    /// A PKCS#11 token, with the row-authentication keys derived from
    /// `HALLMARK_NODE_SECRET`.
    Hsm(
        HsmConfig,
        std::sync::Arc<hallmark_core::integrity::IntegrityKeys>,
    ),
}

/// A configuration that passed [`Config::validate`]: every value present and safe for its
/// profile. `Debug` never prints secrets.
#[derive(Debug, Clone)]
pub struct ValidatedConfig {
    /// The profile it was validated for.
    pub profile: Profile,
    /// Public listener.
    pub public_listen: SocketAddr,
    /// Admin listener.
    pub admin_listen: SocketAddr,
    /// Public base URL, without trailing slash.
    pub public_base_url: String,
    /// The node's DID, derived from the base URL.
    pub did: DidWeb,
    /// Data directory.
    pub data_dir: PathBuf,
    /// Database.
    pub database: Database,
    /// Signing backend.
    pub signing: Signing,
    /// Admin login.
    pub admin: AdminCredentials,
    /// Body and JSON limits.
    pub limits: Limits,
    /// Rate limits.
    pub rate_limits: RateLimits,
    /// Request timeout.
    pub request_timeout: Duration,
    /// Connection caps and timeouts (each listener).
    pub connections: ConnLimits,
    /// Aggregation of refused requests' audit events.
    pub refusals: RefusalLimits,
    /// Reverse proxies whose forwarding headers name the client.
    pub trusted_proxies: std::sync::Arc<crate::edge::TrustedProxies>,
    /// Most one node waits between two transparency-log checkpoints (the batching bound).
    pub checkpoint_interval: Duration,
    /// Bound of the published-credential cache on the public read path (0: off).
    pub read_cache_bytes: u64,
    /// Bound of the rendered-page cache (0: off).
    pub page_cache_bytes: u64,
    /// Log level.
    pub log_level: LogLevel,
    /// Log line format (`HALLMARK_LOG_FORMAT`).
    pub log_format: LogFormat,
    /// Sector plugins.
    pub plugins: PluginSettings,
    /// The EU registry's back-up link of each passport version, if configured
    /// (`HALLMARK_BACKUP_LINK_TEMPLATE`; without it the node exports nothing to the registry).
    pub backup_link_template: Option<super::BackupLinkTemplate>,
    /// Whether authority-tier answers to signed readers are always sealed
    /// (`HALLMARK_SEAL_AUTHORITY`).
    pub seal_authority: bool,
    /// Where the outbox's events go (`HALLMARK_NATS_*`), if anywhere.
    pub nats: Option<super::NatsSettings>,
    /// Webhooks: allowed destinations and the retry schedule.
    pub webhooks: crate::config::WebhookSettings,
    /// The verification service's did:web fetching (`HALLMARK_VERIFY_DID_WEB_ALLOWED_HOSTS`).
    pub did_web: crate::config::DidWebSettings,
}

impl ValidatedConfig {
    /// Whether the public base URL is https (then HSTS is sent).
    pub fn https(&self) -> bool {
        self.public_base_url.starts_with("https://")
    }

    /// Settings of the HTTP edge.
    pub fn edge(&self) -> EdgeConfig {
        EdgeConfig {
            limits: self.limits,
            rate_limits: self.rate_limits,
            request_timeout: self.request_timeout,
            hsts: self.https(),
            connections: self.connections,
            refusals: self.refusals,
            trusted_proxies: std::sync::Arc::clone(&self.trusted_proxies),
            public_base_path: crate::routes::public::base_path(&self.public_base_url),
        }
    }
}
