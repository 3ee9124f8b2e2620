//! [`Config::validate`]: the profile's defaults and safety rules, from the raw settings
//! to a [`ValidatedConfig`]; in production anything missing or unsafe is refused, one error
//! naming the setting.

use super::backup_link::BackupLinkTemplate;
use super::defaults::*;
use super::development::{
    is_development_dir, is_development_file, DEMO_ADMIN_PASSWORD, DEMO_ADMIN_USERNAME,
    DEMO_DATA_DIR, DEMO_KEYSTORE_PASSPHRASE, DEVELOPMENT_MARKER,
};
use super::error::ConfigError;
use super::secrets::node_integrity_keys;
use super::settings::Config;
use super::trusted_keys::trusted_key_entry;
use super::validated::{Database, Signing, ValidatedConfig};
use super::value::LogLevel;
use crate::auth::AdminCredentials;
use crate::edge::json::JsonLimits;
use crate::edge::serve::ConnLimits;
use crate::edge::{Limits, RateLimits};
use crate::plugins::PluginSettings;
use crate::profile::Profile;
use crate::refusals::RefusalLimits;
use hallmark_core::did::DidWeb;
use hallmark_core::sector::SectorRegistry;
use hallmark_keys::hsm::HsmConfig;
use secrecy::{ExposeSecret, SecretString};
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::num::NonZeroU32;
use std::path::{Path, PathBuf};
use std::time::Duration;

impl Config {
    /// naming the setting) anything missing or unsafe.
    pub fn validate(&self, profile: Profile) -> Result<ValidatedConfig, ConfigError> {
        let prod = profile == Profile::Production;
        let limits = self.limits()?;
        let rate_limits = self.rate_limits()?;
        let plugins = self.plugins(prod)?;
        let request_timeout = match self.request_timeout_secs.unwrap_or(30) {
            0 => return Err(range("HALLMARK_REQUEST_TIMEOUT_SECS", "must be at least 1")),
            s => Duration::from_secs(s),
        };
        let connections = self.connections()?;
        let refusals = self.refusals()?;
        let trusted_proxies = crate::edge::TrustedProxies::parse(
            &self
                .trusted_proxies
                .iter()
                .flatten()
                .cloned()
                .collect::<Vec<_>>()
                .join(","),
        )
        .map_err(|reason| ConfigError::Invalid {
            setting: "HALLMARK_TRUSTED_PROXIES",
            reason,
        })?;
        let checkpoint_interval = self.checkpoint_interval()?;
        let read_cache_bytes = match self.read_cache_mb {
            None => crate::cache::DEFAULT_CREDENTIAL_CACHE_BYTES,
            Some(mb) if mb <= MAX_READ_CACHE_MB => mb * 1024 * 1024,
            Some(_) => {
                return Err(range(
                    "HALLMARK_READ_CACHE_MB",
                    &format!("must be between 0 and {MAX_READ_CACHE_MB}"),
                ))
            }
        };
        let page_cache_bytes = match self.page_cache_mb {
            None => crate::evidence::DEFAULT_PAGE_BYTES,
            Some(mb) if mb <= MAX_READ_CACHE_MB => mb * 1024 * 1024,
            Some(_) => {
                return Err(range(
                    "HALLMARK_PAGE_CACHE_MB",
                    &format!("must be between 0 and {MAX_READ_CACHE_MB}"),
                ))
            }
        };

        // Listeners.
        let loopback = IpAddr::V4(Ipv4Addr::LOCALHOST);
        let public_listen = self.public_listen.unwrap_or(if prod {
            DEFAULT_PUBLIC_LISTEN
        } else {
            SocketAddr::new(loopback, DEFAULT_PUBLIC_LISTEN.port())
        });
        let admin_listen = self.admin_listen.unwrap_or(DEFAULT_ADMIN_LISTEN);
        if !admin_listen.ip().is_loopback() && self.admin_allow_remote != Some(true) {
            return Err(ConfigError::AdminListenerExposed { addr: admin_listen });
        }
        if public_listen == admin_listen {
            return Err(ConfigError::ListenersCollide {
                addr: public_listen,
            });
        }

        // Public base URL → did:web.
        let public_base_url = match (&self.public_base_url, prod) {
            (Some(u), _) if !u.trim().is_empty() => u.trim().trim_end_matches('/').to_string(),
            (_, true) => return Err(ConfigError::PublicBaseUrlMissing),
            (_, false) => {
                let host = if public_listen.ip().is_unspecified() {
                    loopback
                } else {
                    public_listen.ip()
                };
                // `localhost`, as `hallmark demo` uses, so both name the same did:web.
                if host.is_loopback() {
                    format!("http://localhost:{}", public_listen.port())
                } else {
                    format!("http://{}", SocketAddr::new(host, public_listen.port()))
                }
            }
        };
        if prod && !public_base_url.starts_with("https://") {
            return Err(ConfigError::PublicBaseUrlInsecure);
        }
        let did =
            DidWeb::from_base_url(&public_base_url).map_err(ConfigError::PublicBaseUrlInvalid)?;

        // Data directory.
        let data_dir = self.data_dir.clone().unwrap_or_else(|| {
            PathBuf::from(if prod {
                DEFAULT_DATA_DIR
            } else {
                DEMO_DATA_DIR
            })
        });
        if prod && is_development_dir(&data_dir) {
            return Err(ConfigError::DemoDataDir { path: data_dir });
        }

        // Database.
        let database = match &self.database_url {
            Some(url) => Database::parse(url, self.database_migration_url.as_ref(), prod)?,
            None if prod => return Err(ConfigError::DatabaseUrlMissing),
            None => Database::Sqlite {
                path: data_dir.join(SQLITE_FILE),
            },
        };
        if let Database::Sqlite { path } = &database {
            if prod && is_development_file(path) {
                return Err(ConfigError::DemoDatabase { path: path.clone() });
            }
        }

        // Signing backend.
        let signing = self.signing(&data_dir, prod)?;

        // Admin credentials.
        let username = match &self.admin_username {
            Some(u) if !u.is_empty() => u.clone(),
            _ if prod => {
                return Err(ConfigError::AdminCredentialsMissing {
                    setting: "HALLMARK_ADMIN_USERNAME",
                })
            }
            _ => DEMO_ADMIN_USERNAME.to_string(),
        };
        let password = match &self.admin_password {
            Some(p) => p.clone(),
            None if prod => {
                return Err(ConfigError::AdminCredentialsMissing {
                    setting: "HALLMARK_ADMIN_PASSWORD",
                })
            }
            None => SecretString::from(DEMO_ADMIN_PASSWORD),
        };
        if prod {
            let p = password.expose_secret();
            if p == DEMO_ADMIN_PASSWORD || p.contains(DEVELOPMENT_MARKER) {
                return Err(ConfigError::DemoAdminPassword);
            }
            if p.chars().count() < MIN_ADMIN_PASSWORD_CHARS {
                return Err(ConfigError::AdminPasswordWeak {
                    min: MIN_ADMIN_PASSWORD_CHARS,
                });
            }
        }

        // EU registry: the back-up link template, if set.
        let backup_link_template = match self.backup_link_template.as_deref().map(str::trim) {
            Some(t) if !t.is_empty() => Some(BackupLinkTemplate::parse(t, !prod)?),
            _ => None,
        };

        // Events: the broker, if set.
        let nats = match self.nats_url.as_deref().map(str::trim) {
            Some(url) if !url.is_empty() => Some(super::NatsSettings::parse(
                url,
                self.nats_credentials.clone(),
                self.nats_stream.as_deref(),
                self.nats_subject.as_deref(),
            )?),
            _ => None,
        };

        // Webhooks: the destinations allowed.
        let webhooks = crate::config::WebhookSettings {
            allowed_hosts: crate::config::WebhookSettings::parse_hosts(
                self.webhook_allowed_hosts.as_deref().unwrap_or_default(),
            )
            .map_err(|entry| ConfigError::Invalid {
                setting: "HALLMARK_WEBHOOK_ALLOWED_HOSTS",
                reason: format!(
                    "{entry:?} is not a host name or IP address (no scheme, port or path)"
                ),
            })?,
            allow_loopback: !prod,
            schedule: hallmark_core::webhook::Schedule::default(),
        };

        // The verification service: the hosts did:web documents may be fetched from.
        let did_web = crate::config::DidWebSettings {
            allowed_hosts: crate::config::DidWebSettings::parse_hosts(
                self.verify_did_web_allowed_hosts
                    .as_deref()
                    .unwrap_or_default(),
            )
            .map_err(|entry| ConfigError::Invalid {
                setting: "HALLMARK_VERIFY_DID_WEB_ALLOWED_HOSTS",
                reason: format!(
                    "{entry:?} is not a host name or IP address (no scheme, port or path)"
                ),
            })?,
            ..crate::config::DidWebSettings::default()
        };

        Ok(ValidatedConfig {
            profile,
            public_listen,
            admin_listen,
            public_base_url,
            did,
            data_dir,
            database,
            signing,
            admin: AdminCredentials { username, password },
            limits,
            rate_limits,
            request_timeout,
            connections,
            refusals,
            trusted_proxies: std::sync::Arc::new(trusted_proxies),
            checkpoint_interval,
            read_cache_bytes,
            page_cache_bytes,
            log_level: self.log_level.unwrap_or(LogLevel::Info),
            log_format: self.log_format.unwrap_or_default(),
            plugins,
            backup_link_template,
            seal_authority: self.seal_authority.unwrap_or(false),
            nats,
            webhooks,
            did_web,
        })
    }

    fn plugins(&self, prod: bool) -> Result<PluginSettings, ConfigError> {
        let allow_unsigned = self.plugin_allow_unsigned.unwrap_or(false);
        if prod && allow_unsigned {
            return Err(ConfigError::PluginUnsignedInProduction);
        }
        let dir = self
            .plugin_dir
            .clone()
            .filter(|d| !d.as_os_str().is_empty());
        let mut trusted_keys = Vec::new();
        for entry in self.plugin_trusted_keys.iter().flatten() {
            trusted_keys.extend(trusted_key_entry(entry, dir.as_deref())?);
        }
        let registry = SectorRegistry::builtin();
        let mut required = Vec::new();
        for sector in self.plugin_required.iter().flatten() {
            if registry.latest(sector).is_err() {
                let known: std::collections::BTreeSet<&str> =
                    registry.iter().map(|s| s.id()).collect();
                return Err(ConfigError::Invalid {
                    setting: "HALLMARK_PLUGIN_REQUIRED",
                    reason: format!(
                        "unknown sector {sector:?} (known: {})",
                        known.into_iter().collect::<Vec<_>>().join(", ")
                    ),
                });
            }
            if !required.contains(sector) {
                required.push(sector.clone());
            }
        }
        if dir.is_none() && !required.is_empty() {
            return Err(ConfigError::PluginRequiredWithoutDir);
        }
        Ok(PluginSettings {
            dir,
            trusted_keys,
            allow_unsigned,
            required,
        })
    }

    fn signing(&self, data_dir: &Path, prod: bool) -> Result<Signing, ConfigError> {
        let hsm_any =
            self.hsm_module.is_some() || self.hsm_token.is_some() || self.hsm_pin.is_some();
        if hsm_any {
            if self.keystore_passphrase.is_some() {
                return Err(ConfigError::SigningAmbiguous);
            }
            let module_path = self.hsm_module.clone().ok_or(ConfigError::HsmIncomplete {
                missing: "HALLMARK_HSM_MODULE",
            })?;
            let token_label = self.hsm_token.clone().ok_or(ConfigError::HsmIncomplete {
                missing: "HALLMARK_HSM_TOKEN",
            })?;
            let pin = self.hsm_pin.clone().ok_or(ConfigError::HsmPinMissing)?;
            if prod && pin.expose_secret().contains(DEVELOPMENT_MARKER) {
                return Err(ConfigError::DemoPassphrase);
            }
            let node_secret = self
                .node_secret
                .as_ref()
                .ok_or(ConfigError::NodeSecretMissing)?;
            if prod && node_secret.expose_secret().contains(DEVELOPMENT_MARKER) {
                return Err(ConfigError::DemoPassphrase);
            }
            let integrity = node_integrity_keys(node_secret)?;
            return Ok(Signing::Hsm(
                HsmConfig {
                    module_path,
                    token_label,
                    pin,
                    key_label_prefix: self
                        .hsm_key_prefix
                        .clone()
                        .filter(|p| !p.is_empty())
                        .unwrap_or_else(|| DEFAULT_HSM_KEY_PREFIX.to_string()),
                },
                integrity,
            ));
        }
        if self.node_secret.is_some() {
            return Err(ConfigError::NodeSecretWithoutHsm);
        }
        let path = self
            .keystore_path
            .clone()
            .unwrap_or_else(|| keystore_in(data_dir));
        let passphrase = match &self.keystore_passphrase {
            Some(p) => p.clone(),
            None if prod => return Err(ConfigError::KeystorePassphraseMissing),
            None => SecretString::from(DEMO_KEYSTORE_PASSPHRASE),
        };
        if prod {
            let p = passphrase.expose_secret();
            if p == DEMO_KEYSTORE_PASSPHRASE || p.contains(DEVELOPMENT_MARKER) {
                return Err(ConfigError::DemoPassphrase);
            }
            if is_development_file(&path) {
                return Err(ConfigError::DemoKeystore { path });
            }
        }
        Ok(Signing::Keystore { path, passphrase })
    }

    fn limits(&self) -> Result<Limits, ConfigError> {
        let d = Limits::default();
        let check =
            |setting: &'static str, v: Option<usize>, default: usize, lo: usize, hi: usize| {
                let v = v.unwrap_or(default);
                if v < lo || v > hi {
                    return Err(range(
                        setting,
                        &format!("must be between {lo} and {hi} (got {v})"),
                    ));
                }
                Ok(v)
            };
        let max_body_bytes = check(
            "HALLMARK_MAX_BODY_BYTES",
            self.max_body_bytes,
            d.max_body_bytes,
            1024,
            256 * 1024 * 1024,
        )?;
        let max_batch_body_bytes = check(
            "HALLMARK_MAX_BATCH_BODY_BYTES",
            self.max_batch_body_bytes,
            d.max_batch_body_bytes.max(max_body_bytes),
            max_body_bytes,
            1024 * 1024 * 1024,
        )?;
        let json = JsonLimits {
            max_depth: check(
                "HALLMARK_MAX_JSON_DEPTH",
                self.max_json_depth,
                d.json.max_depth,
                1,
                JsonLimits::DEPTH_CEILING,
            )?,
            max_keys: check(
                "HALLMARK_MAX_JSON_KEYS",
                self.max_json_keys,
                d.json.max_keys,
                1,
                usize::MAX,
            )?,
            max_array_items: check(
                "HALLMARK_MAX_JSON_ARRAY_ITEMS",
                self.max_json_array_items,
                d.json.max_array_items,
                1,
                usize::MAX,
            )?,
            max_string_bytes: check(
                "HALLMARK_MAX_JSON_STRING_BYTES",
                self.max_json_string_bytes,
                d.json.max_string_bytes,
                1,
                max_body_bytes,
            )?,
        };
        Ok(Limits {
            max_body_bytes,
            max_batch_body_bytes,
            json,
        })
    }

    fn connections(&self) -> Result<ConnLimits, ConfigError> {
        let d = ConnLimits::default();
        let ms = |setting: &'static str, v: Option<u64>, default: Duration, hi: u64| {
            let lo = *CONNECTION_TIMEOUT_MS.start();
            match v {
                None => Ok(default),
                Some(v) if (lo..=hi).contains(&v) => Ok(Duration::from_millis(v)),
                Some(v) => Err(range(
                    setting,
                    &format!("must be between {lo} and {hi} (got {v})"),
                )),
            }
        };
        let header_read_timeout = ms(
            "HALLMARK_HEADER_READ_TIMEOUT_MS",
            self.header_read_timeout_ms,
            d.header_read_timeout,
            *CONNECTION_TIMEOUT_MS.end(),
        )?;
        // The header-read timer runs while a connection waits for a request, so a longer
        // idle timeout would never act.
        let header_ms = u64::try_from(header_read_timeout.as_millis()).unwrap_or(u64::MAX);
        let idle_timeout = match self.idle_timeout_ms {
            None if d.idle_timeout > header_read_timeout => header_read_timeout,
            None => d.idle_timeout,
            Some(_) => ms(
                "HALLMARK_IDLE_TIMEOUT_MS",
                self.idle_timeout_ms,
                d.idle_timeout,
                header_ms,
            )
            .map_err(|_| {
                range(
                    "HALLMARK_IDLE_TIMEOUT_MS",
                    &format!(
                        "must be between {} and HALLMARK_HEADER_READ_TIMEOUT_MS ({header_ms})",
                        CONNECTION_TIMEOUT_MS.start()
                    ),
                )
            })?,
        };
        let max_connections = match self.max_connections.unwrap_or(d.max_connections) {
            v @ 1..=MAX_CONNECTIONS_CEILING => v,
            v => {
                return Err(range(
                    "HALLMARK_MAX_CONNECTIONS",
                    &format!("must be between 1 and {MAX_CONNECTIONS_CEILING} (got {v})"),
                ))
            }
        };
        let max_connections_per_client = match self.max_connections_per_client {
            None => d.max_connections_per_client.min(max_connections),
            Some(v) if (1..=max_connections).contains(&v) => v,
            Some(v) => {
                return Err(range(
                    "HALLMARK_MAX_CONNECTIONS_PER_CLIENT",
                    &format!(
                    "must be between 1 and HALLMARK_MAX_CONNECTIONS ({max_connections}) (got {v})"
                ),
                ))
            }
        };
        Ok(ConnLimits {
            header_read_timeout,
            idle_timeout,
            max_connections,
            max_connections_per_client,
        })
    }

    fn refusals(&self) -> Result<RefusalLimits, ConfigError> {
        let d = RefusalLimits::default();
        let per_window = match self.refusal_events_per_minute {
            None => d.per_window,
            Some(v) => NonZeroU32::new(v)
                .filter(|v| v.get() <= MAX_REFUSAL_EVENTS_PER_MINUTE)
                .ok_or_else(|| {
                    range(
                        "HALLMARK_REFUSAL_EVENTS_PER_MINUTE",
                        &format!("must be between 1 and {MAX_REFUSAL_EVENTS_PER_MINUTE} (got {v})"),
                    )
                })?,
        };
        Ok(RefusalLimits { per_window, ..d })
    }

    fn checkpoint_interval(&self) -> Result<Duration, ConfigError> {
        use crate::transparency::{
            DEFAULT_CHECKPOINT_INTERVAL as DEFAULT, MAX_CHECKPOINT_INTERVAL as MAX,
            MIN_CHECKPOINT_INTERVAL as MIN,
        };
        let d = self
            .checkpoint_interval_ms
            .map_or(DEFAULT, Duration::from_millis);
        if d < MIN || d > MAX {
            return Err(range(
                "HALLMARK_CHECKPOINT_INTERVAL_MS",
                &format!(
                    "must be between {} and {}",
                    MIN.as_millis(),
                    MAX.as_millis()
                ),
            ));
        }
        Ok(d)
    }

    fn rate_limits(&self) -> Result<RateLimits, ConfigError> {
        let d = RateLimits::default();
        let nz = |setting: &'static str, v: Option<u32>, default: NonZeroU32| match v {
            None => Ok(default),
            Some(v) => NonZeroU32::new(v).ok_or_else(|| range(setting, "must be at least 1")),
        };
        Ok(RateLimits {
            public_per_second: nz(
                "HALLMARK_PUBLIC_RATE_PER_SECOND",
                self.public_rate_per_second,
                d.public_per_second,
            )?,
            public_burst: nz(
                "HALLMARK_PUBLIC_RATE_BURST",
                self.public_rate_burst,
                d.public_burst,
            )?,
            admin_per_second: nz(
                "HALLMARK_ADMIN_RATE_PER_SECOND",
                self.admin_rate_per_second,
                d.admin_per_second,
            )?,
            admin_burst: nz(
                "HALLMARK_ADMIN_RATE_BURST",
                self.admin_rate_burst,
                d.admin_burst,
            )?,
            auth_failures_per_minute: nz(
                "HALLMARK_AUTH_FAILURES_PER_MINUTE",
                self.auth_failures_per_minute,
                d.auth_failures_per_minute,
            )?,
        })
    }
}

fn range(setting: &'static str, reason: &str) -> ConfigError {
    ConfigError::LimitOutOfRange {
        setting,
        reason: reason.to_string(),
    }
}
