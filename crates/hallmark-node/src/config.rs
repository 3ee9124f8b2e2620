//! Node configuration: `HALLMARK_*` environment variables and/or a TOML file, environment
//! overriding file, checked by [`Config::validate`] which **fails closed** in production.
//!
//! Every setting has one environment variable and one TOML key (the variable's name without
//! `HALLMARK_`, lower case), listed in [`SETTINGS`]; `docs/configuration.md` documents each
//! (a test keeps the two in step). Secret settings can also be read from a file named by
//! `<VAR>_FILE` (for container secrets).
//!
//! Two profiles: [`Profile::Production`] (the default for `hallmark serve`) refuses to start
//! when anything is missing or unsafe, one error per problem naming the variable;
//! [`Profile::Development`] (used by `hallmark demo`) fills in loopback, SQLite and clearly
//! marked demo credentials.

use crate::edge::json::JsonLimits;
use crate::edge::serve::ConnLimits;
use crate::edge::{EdgeConfig, Limits, RateLimits};
use crate::refusals::RefusalLimits;
use ed25519_dalek::VerifyingKey;
use hallmark_core::did::DidWeb;
use hallmark_core::keys::decode_public_key_multibase;
use hallmark_core::sector::SectorRegistry;
use hallmark_keys::hsm::HsmConfig;
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Deserializer};
use std::fmt;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::num::NonZeroU32;
use std::path::{Component, Path, PathBuf};
use std::str::FromStr;
use std::time::Duration;

/// Environment variable naming the TOML configuration file.
pub const CONFIG_FILE_ENV: &str = "HALLMARK_CONFIG";
/// Suffix of the variable that reads a secret setting from a file.
pub const FILE_SUFFIX: &str = "_FILE";

/// The demo's data directory (development only; refused in production).
pub const DEMO_DATA_DIR: &str = "./hallmark-demo";
/// Name of the demo data directory (any path with this component is a demo path).
pub const DEMO_DIR_NAME: &str = "hallmark-demo";
/// The marker file `hallmark demo` writes into its data directory (beside the keystore and
/// database). Production refuses any data dir, keystore or SQLite file in a directory
/// holding it.
pub const DEVELOPMENT_MARKER: &str = "DEVELOPMENT-ONLY";
/// The demo keystore passphrase (development only; refused in production).
pub const DEMO_KEYSTORE_PASSPHRASE: &str = "hallmark-demo-DEVELOPMENT-ONLY-passphrase";
/// The demo admin user name.
pub const DEMO_ADMIN_USERNAME: &str = "admin";
/// The demo admin password (development only; refused in production).
pub const DEMO_ADMIN_PASSWORD: &str = "hallmark-demo-DEVELOPMENT-ONLY-admin";
/// Minimum admin password length in production (characters).
pub const MIN_ADMIN_PASSWORD_CHARS: usize = 16;
/// Default public listener.
pub const DEFAULT_PUBLIC_LISTEN: SocketAddr =
    SocketAddr::new(IpAddr::V4(Ipv4Addr::UNSPECIFIED), 8080);
/// Default admin listener (loopback).
pub const DEFAULT_ADMIN_LISTEN: SocketAddr = SocketAddr::new(IpAddr::V4(Ipv4Addr::LOCALHOST), 8081);
/// Default production data directory.
pub const DEFAULT_DATA_DIR: &str = "/var/lib/hallmark";
/// Keystore file name inside the data directory (default keystore path).
pub const KEYSTORE_FILE: &str = "hallmark-keys.json";

/// The default keystore of a data directory, `<data dir>/hallmark-keys.json`: what `serve`
/// opens and `hallmark keys` manages unless `HALLMARK_KEYSTORE_PATH` says otherwise.
pub fn keystore_in(data_dir: &Path) -> PathBuf {
    data_dir.join(KEYSTORE_FILE)
}
/// SQLite file name inside the data directory (development default database).
pub const SQLITE_FILE: &str = "hallmark.db";
/// Default HSM object label prefix (as `hallmark keys hsm`).
pub const DEFAULT_HSM_KEY_PREFIX: &str = "hallmark";

/// One setting: its environment variable, TOML key, and whether it is secret.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Setting {
    /// Environment variable.
    pub env: &'static str,
    /// TOML key (top level).
    pub key: &'static str,
    /// Secret: redacted everywhere, also readable from `<env>_FILE`.
    pub secret: bool,
}

const fn s(env: &'static str, key: &'static str) -> Setting {
    Setting {
        env,
        key,
        secret: false,
    }
}
const fn secret(env: &'static str, key: &'static str) -> Setting {
    Setting {
        env,
        key,
        secret: true,
    }
}

/// Every setting the loader reads.
pub const SETTINGS: &[Setting] = &[
    s("HALLMARK_PUBLIC_LISTEN", "public_listen"),
    s("HALLMARK_ADMIN_LISTEN", "admin_listen"),
    s("HALLMARK_ADMIN_ALLOW_REMOTE", "admin_allow_remote"),
    s("HALLMARK_PUBLIC_BASE_URL", "public_base_url"),
    s("HALLMARK_DATA_DIR", "data_dir"),
    secret("HALLMARK_DATABASE_URL", "database_url"),
    secret("HALLMARK_DATABASE_MIGRATION_URL", "database_migration_url"),
    s("HALLMARK_KEYSTORE_PATH", "keystore_path"),
    secret("HALLMARK_KEYSTORE_PASSPHRASE", "keystore_passphrase"),
    s("HALLMARK_HSM_MODULE", "hsm_module"),
    s("HALLMARK_HSM_TOKEN", "hsm_token"),
    secret("HALLMARK_HSM_PIN", "hsm_pin"),
    s("HALLMARK_HSM_KEY_PREFIX", "hsm_key_prefix"),
    secret("HALLMARK_NODE_SECRET", "node_secret"),
    s("HALLMARK_ADMIN_USERNAME", "admin_username"),
    secret("HALLMARK_ADMIN_PASSWORD", "admin_password"),
    s("HALLMARK_MAX_BODY_BYTES", "max_body_bytes"),
    s("HALLMARK_MAX_JSON_DEPTH", "max_json_depth"),
    s("HALLMARK_MAX_JSON_KEYS", "max_json_keys"),
    s("HALLMARK_MAX_JSON_ARRAY_ITEMS", "max_json_array_items"),
    s("HALLMARK_MAX_JSON_STRING_BYTES", "max_json_string_bytes"),
    s("HALLMARK_PUBLIC_RATE_PER_SECOND", "public_rate_per_second"),
    s("HALLMARK_PUBLIC_RATE_BURST", "public_rate_burst"),
    s("HALLMARK_ADMIN_RATE_PER_SECOND", "admin_rate_per_second"),
    s("HALLMARK_ADMIN_RATE_BURST", "admin_rate_burst"),
    s(
        "HALLMARK_AUTH_FAILURES_PER_MINUTE",
        "auth_failures_per_minute",
    ),
    s("HALLMARK_REQUEST_TIMEOUT_SECS", "request_timeout_secs"),
    s("HALLMARK_HEADER_READ_TIMEOUT_MS", "header_read_timeout_ms"),
    s("HALLMARK_IDLE_TIMEOUT_MS", "idle_timeout_ms"),
    s("HALLMARK_MAX_CONNECTIONS", "max_connections"),
    s(
        "HALLMARK_MAX_CONNECTIONS_PER_CLIENT",
        "max_connections_per_client",
    ),
    s(
        "HALLMARK_REFUSAL_EVENTS_PER_MINUTE",
        "refusal_events_per_minute",
    ),
    s("HALLMARK_TRUSTED_PROXIES", "trusted_proxies"),
    s("HALLMARK_CHECKPOINT_INTERVAL_MS", "checkpoint_interval_ms"),
    s("HALLMARK_READ_CACHE_MB", "read_cache_mb"),
    s("HALLMARK_LOG_LEVEL", "log_level"),
    s("HALLMARK_PLUGIN_DIR", "plugin_dir"),
    s("HALLMARK_PLUGIN_TRUSTED_KEYS", "plugin_trusted_keys"),
    s("HALLMARK_PLUGIN_ALLOW_UNSIGNED", "plugin_allow_unsigned"),
    s("HALLMARK_PLUGIN_REQUIRED", "plugin_required"),
];

/// Accepted `HALLMARK_HEADER_READ_TIMEOUT_MS` and `HALLMARK_IDLE_TIMEOUT_MS` (ms).
pub const CONNECTION_TIMEOUT_MS: std::ops::RangeInclusive<u64> = 100..=300_000;
/// Largest accepted `HALLMARK_MAX_CONNECTIONS`.
pub const MAX_CONNECTIONS_CEILING: usize = 1_000_000;
/// Largest accepted `HALLMARK_REFUSAL_EVENTS_PER_MINUTE`.
pub const MAX_REFUSAL_EVENTS_PER_MINUTE: u32 = 100_000;

/// Largest accepted `HALLMARK_READ_CACHE_MB` (64 GiB).
pub const MAX_READ_CACHE_MB: u64 = 65_536;

/// Which safety rules apply.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Profile {
    /// Real deployments (`hallmark serve`): every required setting explicit, no demo default.
    Production,
    /// `hallmark demo`: loopback, SQLite in `./hallmark-demo`, marked demo credentials.
    Development,
}

impl FromStr for Profile {
    type Err = ConfigError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "production" => Ok(Profile::Production),
            "development" => Ok(Profile::Development),
            _ => Err(ConfigError::Invalid {
                setting: "profile",
                reason: "expected production or development".into(),
            }),
        }
    }
}

/// Log verbosity.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogLevel {
    /// Errors only.
    Error,
    /// Warnings and errors.
    Warn,
    /// The default.
    Info,
    /// Verbose.
    Debug,
    /// Most verbose.
    Trace,
}

impl LogLevel {
    /// Lower-case name (`info`…), as accepted by tracing filters.
    pub fn as_str(self) -> &'static str {
        match self {
            LogLevel::Error => "error",
            LogLevel::Warn => "warn",
            LogLevel::Info => "info",
            LogLevel::Debug => "debug",
            LogLevel::Trace => "trace",
        }
    }
}

impl FromStr for LogLevel {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.to_ascii_lowercase().as_str() {
            "error" => Ok(LogLevel::Error),
            "warn" => Ok(LogLevel::Warn),
            "info" => Ok(LogLevel::Info),
            "debug" => Ok(LogLevel::Debug),
            "trace" => Ok(LogLevel::Trace),
            _ => Err("expected error, warn, info, debug or trace".into()),
        }
    }
}

/// Configuration errors. Each is one line naming the setting; none contains a secret value.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The TOML file cannot be read.
    #[error("cannot read config file {path}: {source}")]
    ReadFile {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// The TOML file is invalid (position and cause only: the line may hold a secret).
    #[error("config file {path}, line {line}: {message}")]
    ParseFile {
        /// The file.
        path: PathBuf,
        /// 1-based line.
        line: usize,
        /// The parser's message.
        message: String,
    },
    /// A value cannot be parsed.
    #[error("{setting}: {reason}")]
    Invalid {
        /// The variable or key.
        setting: &'static str,
        /// Why (never the value of a secret).
        reason: String,
    },
    /// A `<VAR>_FILE` secret file cannot be read.
    #[error("{setting}_FILE: cannot read {path}: {source}")]
    SecretFile {
        /// The secret setting.
        setting: &'static str,
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// Both `<VAR>` and `<VAR>_FILE` are set.
    #[error("{setting} and {setting}_FILE are both set; set only one")]
    ValueAndFile {
        /// The secret setting.
        setting: &'static str,
    },
    /// No database URL (production).
    #[error("HALLMARK_DATABASE_URL is not set: production needs a database (sqlite:/path/hallmark.db or postgres://…)")]
    DatabaseUrlMissing,
    /// A database URL of an unknown kind.
    #[error("HALLMARK_DATABASE_URL must start with sqlite: or postgres:// (value not shown)")]
    DatabaseUrlUnsupported,
    /// PostgreSQL without a separate migration URL (production).
    #[error("HALLMARK_DATABASE_MIGRATION_URL is not set: with PostgreSQL, production needs a migration (owner) URL besides the least-privilege app URL")]
    DatabaseMigrationUrlMissing,
    /// File keystore without a passphrase (production).
    #[error("HALLMARK_KEYSTORE_PASSPHRASE is not set: production needs the keystore passphrase (or an HSM: HALLMARK_HSM_MODULE, HALLMARK_HSM_TOKEN, HALLMARK_HSM_PIN)")]
    KeystorePassphraseMissing,
    /// HSM configured without its PIN.
    #[error("HALLMARK_HSM_PIN is not set: the HSM needs its user PIN")]
    HsmPinMissing,
    /// HSM without the node secret.
    #[error("HALLMARK_NODE_SECRET is not set: with an HSM, the node authenticates its own database rows with a secret the database never sees (32 random bytes, base64: `openssl rand -base64 32`)")]
    NodeSecretMissing,
    /// The node secret is not base64 of at least 32 bytes, or is a development value.
    #[error("HALLMARK_NODE_SECRET must be base64 of at least 32 random bytes (`openssl rand -base64 32`)")]
    NodeSecretInvalid,
    /// A node secret without an HSM (the keystore derives its own).
    #[error("HALLMARK_NODE_SECRET is set but the file keystore is used: the keystore derives the node secret from its sealed identity; unset it")]
    NodeSecretWithoutHsm,
    /// HSM partly configured.
    #[error("{missing} is not set: HSM configuration is incomplete")]
    HsmIncomplete {
        /// The missing variable.
        missing: &'static str,
    },
    /// Both a keystore passphrase and an HSM configured.
    #[error("both HALLMARK_KEYSTORE_PASSPHRASE and HALLMARK_HSM_* are set; configure one signing backend")]
    SigningAmbiguous,
    /// No public base URL (production).
    #[error("HALLMARK_PUBLIC_BASE_URL is not set: production needs the public https:// base URL (it is the signing domain, did:web)")]
    PublicBaseUrlMissing,
    /// The base URL is not a usable did:web origin.
    #[error("HALLMARK_PUBLIC_BASE_URL: {0}")]
    PublicBaseUrlInvalid(hallmark_core::did::DidError),
    /// An http:// base URL in production.
    #[error("HALLMARK_PUBLIC_BASE_URL must use https:// in production")]
    PublicBaseUrlInsecure,
    /// Admin user name or password missing (production).
    #[error("{setting} is not set: production needs admin credentials")]
    AdminCredentialsMissing {
        /// The missing variable.
        setting: &'static str,
    },
    /// Admin password too short.
    #[error("HALLMARK_ADMIN_PASSWORD is too weak: use at least {min} characters")]
    AdminPasswordWeak {
        /// Minimum length.
        min: usize,
    },
    /// The demo keystore passphrase (or an HSM PIN marked development-only) in production.
    #[error(
        "HALLMARK_KEYSTORE_PASSPHRASE is the development-only demo passphrase; set a real one"
    )]
    DemoPassphrase,
    /// The demo admin password in production.
    #[error("HALLMARK_ADMIN_PASSWORD is the development-only demo password; set a real one")]
    DemoAdminPassword,
    /// The demo data dir in production.
    #[error(
        "HALLMARK_DATA_DIR {path} is a development-only demo directory; use a real data directory"
    )]
    DemoDataDir {
        /// The directory.
        path: PathBuf,
    },
    /// A keystore created by `hallmark demo` in production.
    #[error("HALLMARK_KEYSTORE_PATH {path} is a development-only demo keystore; create a real one with `hallmark keys init`")]
    DemoKeystore {
        /// The keystore file.
        path: PathBuf,
    },
    /// A SQLite database created by `hallmark demo` in production.
    #[error("HALLMARK_DATABASE_URL points into a development-only demo directory ({path})")]
    DemoDatabase {
        /// The SQLite file.
        path: PathBuf,
    },
    /// Admin listener on a non-loopback address without opt-in.
    #[error("HALLMARK_ADMIN_LISTEN {addr} is not a loopback address; set HALLMARK_ADMIN_ALLOW_REMOTE=true to expose the admin API deliberately")]
    AdminListenerExposed {
        /// The address.
        addr: SocketAddr,
    },
    /// Both listeners on the same address.
    #[error("HALLMARK_PUBLIC_LISTEN and HALLMARK_ADMIN_LISTEN are both {addr}; the listeners must differ")]
    ListenersCollide {
        /// The address.
        addr: SocketAddr,
    },
    /// A limit outside its allowed range.
    #[error("{setting}: {reason}")]
    LimitOutOfRange {
        /// The variable.
        setting: &'static str,
        /// The allowed range.
        reason: String,
    },
    /// The development flag admitting unsigned plugins, in production.
    #[error("HALLMARK_PLUGIN_ALLOW_UNSIGNED is a development flag and is refused in production; sign the plugin's manifest and trust its publisher with HALLMARK_PLUGIN_TRUSTED_KEYS")]
    PluginUnsignedInProduction,
    /// A trusted-key file that lies in the plugin directory (by any route: `..`, links).
    #[error("HALLMARK_PLUGIN_TRUSTED_KEYS: key file {} lies inside HALLMARK_PLUGIN_DIR {}: whoever can replace a plugin there could replace the key that admits it; keep trusted keys outside the plugin directory", file.display(), dir.display())]
    PluginTrustedKeyInPluginDir {
        /// The key file, as configured.
        file: PathBuf,
        /// The plugin directory, as configured.
        dir: PathBuf,
    },
    /// A trusted-key file that someone other than the node's user or root can change.
    #[error("HALLMARK_PLUGIN_TRUSTED_KEYS: key file {}: {reason}; a trusted key must be changeable only by the node's user or root", file.display())]
    PluginTrustedKeyWritable {
        /// The key file, as configured.
        file: PathBuf,
        /// Which entry, and why (owner or mode).
        reason: String,
    },
    /// A trusted key entry that is neither a Multikey nor a readable key file.
    #[error("HALLMARK_PLUGIN_TRUSTED_KEYS: {entry}: {reason}")]
    PluginTrustedKey {
        /// The entry (a public key or a file path; never secret).
        entry: String,
        /// Why.
        reason: String,
    },
    /// Sectors required to be gated, but no plugin directory.
    #[error("HALLMARK_PLUGIN_REQUIRED names sectors but HALLMARK_PLUGIN_DIR is not set")]
    PluginRequiredWithoutDir,
}

/// A list setting: in TOML a string (comma-separated) or an array of strings.
fn de_list<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Vec<String>>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum OneOrMany {
        One(String),
        Many(Vec<String>),
    }
    Ok(match Option::<OneOrMany>::deserialize(d)? {
        None => None,
        Some(OneOrMany::One(s)) => Some(split_list(&s)),
        Some(OneOrMany::Many(v)) => Some(
            v.iter()
                .map(|s| s.trim().to_string())
                .filter(|s| !s.is_empty())
                .collect(),
        ),
    })
}

/// Split a comma-separated list, trimming entries and dropping empty ones.
fn split_list(s: &str) -> Vec<String> {
    s.split(',')
        .map(|e| e.trim().to_string())
        .filter(|e| !e.is_empty())
        .collect()
}

fn de_secret<'de, D: Deserializer<'de>>(d: D) -> Result<Option<SecretString>, D::Error> {
    let v: Option<String> = Option::deserialize(d)?;
    Ok(v.filter(|s| !s.is_empty()).map(SecretString::from))
}

/// Settings as read from file and environment, before validation. Every field is optional;
/// [`Config::validate`] applies profile defaults and the safety rules.
///
/// `Debug` never prints secrets (they are [`SecretString`]s).
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
#[allow(missing_docs)]
pub struct Config {
    pub public_listen: Option<SocketAddr>,
    pub admin_listen: Option<SocketAddr>,
    pub admin_allow_remote: Option<bool>,
    pub public_base_url: Option<String>,
    pub data_dir: Option<PathBuf>,
    #[serde(default, deserialize_with = "de_secret")]
    pub database_url: Option<SecretString>,
    #[serde(default, deserialize_with = "de_secret")]
    pub database_migration_url: Option<SecretString>,
    pub keystore_path: Option<PathBuf>,
    #[serde(default, deserialize_with = "de_secret")]
    pub keystore_passphrase: Option<SecretString>,
    pub hsm_module: Option<PathBuf>,
    pub hsm_token: Option<String>,
    #[serde(default, deserialize_with = "de_secret")]
    pub hsm_pin: Option<SecretString>,
    /// HSM backend: the secret the row-authentication keys derive from (base64, ≥ 32
    /// bytes); the file keystore derives them from its sealed node identity instead.
    #[serde(default, deserialize_with = "de_secret")]
    pub node_secret: Option<SecretString>,
    pub hsm_key_prefix: Option<String>,
    pub admin_username: Option<String>,
    #[serde(default, deserialize_with = "de_secret")]
    pub admin_password: Option<SecretString>,
    pub max_body_bytes: Option<usize>,
    pub max_json_depth: Option<usize>,
    pub max_json_keys: Option<usize>,
    pub max_json_array_items: Option<usize>,
    pub max_json_string_bytes: Option<usize>,
    pub public_rate_per_second: Option<u32>,
    pub public_rate_burst: Option<u32>,
    pub admin_rate_per_second: Option<u32>,
    pub admin_rate_burst: Option<u32>,
    pub auth_failures_per_minute: Option<u32>,
    pub request_timeout_secs: Option<u64>,
    pub header_read_timeout_ms: Option<u64>,
    pub idle_timeout_ms: Option<u64>,
    pub max_connections: Option<usize>,
    pub max_connections_per_client: Option<usize>,
    pub refusal_events_per_minute: Option<u32>,
    /// `HALLMARK_TRUSTED_PROXIES`: CIDR networks or addresses.
    #[serde(default, deserialize_with = "de_list")]
    pub trusted_proxies: Option<Vec<String>>,
    pub checkpoint_interval_ms: Option<u64>,
    /// `HALLMARK_READ_CACHE_MB`.
    pub read_cache_mb: Option<u64>,
    pub log_level: Option<LogLevel>,
    pub plugin_dir: Option<PathBuf>,
    #[serde(default, deserialize_with = "de_list")]
    pub plugin_trusted_keys: Option<Vec<String>>,
    pub plugin_allow_unsigned: Option<bool>,
    #[serde(default, deserialize_with = "de_list")]
    pub plugin_required: Option<Vec<String>>,
}

fn parse<T: FromStr>(setting: &'static str, v: &str) -> Result<T, ConfigError>
where
    T::Err: fmt::Display,
{
    v.trim().parse::<T>().map_err(|e| ConfigError::Invalid {
        setting,
        reason: format!("{e} (got {v:?})"),
    })
}

fn parse_bool(setting: &'static str, v: &str) -> Result<bool, ConfigError> {
    match v.trim().to_ascii_lowercase().as_str() {
        "true" | "1" | "yes" => Ok(true),
        "false" | "0" | "no" => Ok(false),
        _ => Err(ConfigError::Invalid {
            setting,
            reason: format!("expected true or false (got {v:?})"),
        }),
    }
}

impl Config {
    /// Parse TOML text (`origin` names it in errors).
    pub fn from_toml_str(text: &str, origin: &Path) -> Result<Config, ConfigError> {
        toml::from_str(text).map_err(|e| {
            let line = e
                .span()
                .map(|sp| {
                    text.as_bytes()[..sp.start.min(text.len())]
                        .iter()
                        .filter(|&&b| b == b'\n')
                        .count()
                        + 1
                })
                .unwrap_or(0);
            ConfigError::ParseFile {
                path: origin.to_path_buf(),
                line,
                message: e.message().to_string(),
            }
        })
    }

    /// Read a TOML file.
    pub fn from_file(path: &Path) -> Result<Config, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::ReadFile {
            path: path.to_path_buf(),
            source,
        })?;
        Self::from_toml_str(&text, path)
    }

    /// Load: the TOML file (`file`, else `HALLMARK_CONFIG` if set, else none), then every
    /// `HALLMARK_*` variable from `env` on top. Empty variables count as unset.
    pub fn load(
        file: Option<&Path>,
        env: &dyn Fn(&str) -> Option<String>,
    ) -> Result<Config, ConfigError> {
        let from_env = env(CONFIG_FILE_ENV)
            .filter(|v| !v.is_empty())
            .map(PathBuf::from);
        let mut config = match file.map(Path::to_path_buf).or(from_env) {
            Some(path) => Self::from_file(&path)?,
            None => Config::default(),
        };
        config.apply_env(env)?;
        Ok(config)
    }

    /// [`load`](Self::load) from the process environment.
    pub fn from_process_env(file: Option<&Path>) -> Result<Config, ConfigError> {
        Self::load(file, &|name| std::env::var(name).ok())
    }

    /// Override settings from environment variables (and `<VAR>_FILE` for secrets).
    pub fn apply_env(&mut self, env: &dyn Fn(&str) -> Option<String>) -> Result<(), ConfigError> {
        for setting in SETTINGS {
            let direct = env(setting.env).filter(|v| !v.is_empty());
            let value = if setting.secret {
                let file_var = format!("{}{FILE_SUFFIX}", setting.env);
                match (direct, env(&file_var).filter(|v| !v.is_empty())) {
                    (Some(_), Some(_)) => {
                        return Err(ConfigError::ValueAndFile {
                            setting: setting.env,
                        })
                    }
                    (Some(v), None) => Some(v),
                    (None, Some(path)) => {
                        let path = PathBuf::from(path);
                        let text = std::fs::read_to_string(&path).map_err(|source| {
                            ConfigError::SecretFile {
                                setting: setting.env,
                                path: path.clone(),
                                source,
                            }
                        })?;
                        Some(text.trim_end_matches(['\n', '\r']).to_string())
                    }
                    (None, None) => None,
                }
            } else {
                direct
            };
            if let Some(v) = value {
                self.set(setting, v)?;
            }
        }
        Ok(())
    }

    fn set(&mut self, setting: &Setting, v: String) -> Result<(), ConfigError> {
        let n = setting.env;
        let secret = |v: String| (!v.is_empty()).then(|| SecretString::from(v));
        match setting.key {
            "public_listen" => self.public_listen = Some(parse(n, &v)?),
            "admin_listen" => self.admin_listen = Some(parse(n, &v)?),
            "admin_allow_remote" => self.admin_allow_remote = Some(parse_bool(n, &v)?),
            "public_base_url" => self.public_base_url = Some(v),
            "data_dir" => self.data_dir = Some(PathBuf::from(v)),
            "database_url" => self.database_url = secret(v),
            "database_migration_url" => self.database_migration_url = secret(v),
            "keystore_path" => self.keystore_path = Some(PathBuf::from(v)),
            "keystore_passphrase" => self.keystore_passphrase = secret(v),
            "hsm_module" => self.hsm_module = Some(PathBuf::from(v)),
            "hsm_token" => self.hsm_token = Some(v),
            "hsm_pin" => self.hsm_pin = secret(v),
            "node_secret" => self.node_secret = secret(v),
            "hsm_key_prefix" => self.hsm_key_prefix = Some(v),
            "admin_username" => self.admin_username = Some(v),
            "admin_password" => self.admin_password = secret(v),
            "max_body_bytes" => self.max_body_bytes = Some(parse(n, &v)?),
            "max_json_depth" => self.max_json_depth = Some(parse(n, &v)?),
            "max_json_keys" => self.max_json_keys = Some(parse(n, &v)?),
            "max_json_array_items" => self.max_json_array_items = Some(parse(n, &v)?),
            "max_json_string_bytes" => self.max_json_string_bytes = Some(parse(n, &v)?),
            "public_rate_per_second" => self.public_rate_per_second = Some(parse(n, &v)?),
            "public_rate_burst" => self.public_rate_burst = Some(parse(n, &v)?),
            "admin_rate_per_second" => self.admin_rate_per_second = Some(parse(n, &v)?),
            "admin_rate_burst" => self.admin_rate_burst = Some(parse(n, &v)?),
            "auth_failures_per_minute" => self.auth_failures_per_minute = Some(parse(n, &v)?),
            "request_timeout_secs" => self.request_timeout_secs = Some(parse(n, &v)?),
            "header_read_timeout_ms" => self.header_read_timeout_ms = Some(parse(n, &v)?),
            "idle_timeout_ms" => self.idle_timeout_ms = Some(parse(n, &v)?),
            "max_connections" => self.max_connections = Some(parse(n, &v)?),
            "max_connections_per_client" => self.max_connections_per_client = Some(parse(n, &v)?),
            "refusal_events_per_minute" => self.refusal_events_per_minute = Some(parse(n, &v)?),
            "trusted_proxies" => self.trusted_proxies = Some(split_list(&v)),
            "checkpoint_interval_ms" => self.checkpoint_interval_ms = Some(parse(n, &v)?),
            "read_cache_mb" => self.read_cache_mb = Some(parse(n, &v)?),
            "log_level" => self.log_level = Some(parse(n, &v)?),
            "plugin_dir" => self.plugin_dir = Some(PathBuf::from(v)),
            "plugin_trusted_keys" => self.plugin_trusted_keys = Some(split_list(&v)),
            "plugin_allow_unsigned" => self.plugin_allow_unsigned = Some(parse_bool(n, &v)?),
            "plugin_required" => self.plugin_required = Some(split_list(&v)),
            _ => {
                return Err(ConfigError::Invalid {
                    setting: n,
                    reason: "setting not handled by the loader".into(),
                })
            }
        }
        Ok(())
    }

    /// Apply the profile's defaults and safety rules. In production, refuses (one error,
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
            log_level: self.log_level.unwrap_or(LogLevel::Info),
            plugins,
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

/// One `HALLMARK_PLUGIN_TRUSTED_KEYS` entry: an Ed25519 Multikey (`z6Mk…`, as in a
/// manifest's `publisherKeyMultibase`), or the path of a file holding one Multikey per line
/// (blank lines and `#` comments ignored; e.g. a plugin's `publisher.pub`). A file must lie
/// outside the plugin directory `plugin_dir` and be changeable only by the node's user or
/// root ([`key_file`]).
fn trusted_key_entry(
    entry: &str,
    plugin_dir: Option<&Path>,
) -> Result<Vec<VerifyingKey>, ConfigError> {
    let err = |reason: String| ConfigError::PluginTrustedKey {
        entry: entry.to_string(),
        reason,
    };
    if let Ok(key) = decode_public_key_multibase(entry) {
        return Ok(vec![key]);
    }
    if entry.starts_with("z6Mk") {
        return Err(err("not a valid Ed25519 Multikey".into()));
    }
    let file = PathBuf::from(entry);
    match key_file::check(&file, plugin_dir) {
        Ok(()) => {}
        Err(key_file::Refusal::Unreadable(e)) => {
            return Err(err(format!(
                "not a Multikey, and not a readable key file ({e})"
            )))
        }
        Err(key_file::Refusal::InsidePluginDir) => {
            return Err(ConfigError::PluginTrustedKeyInPluginDir {
                file,
                dir: plugin_dir.map(Path::to_path_buf).unwrap_or_default(),
            })
        }
        Err(key_file::Refusal::Writable(reason)) => {
            return Err(ConfigError::PluginTrustedKeyWritable { file, reason })
        }
    }
    let text = std::fs::read_to_string(entry)
        .map_err(|e| err(format!("not a Multikey, and not a readable key file ({e})")))?;
    let mut keys = Vec::new();
    for (n, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        keys.push(
            decode_public_key_multibase(line)
                .map_err(|e| err(format!("line {}: not an Ed25519 Multikey ({e})", n + 1)))?,
        );
    }
    if keys.is_empty() {
        return Err(err("the file holds no key".into()));
    }
    Ok(keys)
}

fn range(setting: &'static str, reason: &str) -> ConfigError {
    ConfigError::LimitOutOfRange {
        setting,
        reason: reason.to_string(),
    }
}

/// Whether `dir` is a development-only directory: named `hallmark-demo` (anywhere in the
/// path) or holding the [`DEVELOPMENT_MARKER`] file.
pub fn is_development_dir(dir: &Path) -> bool {
    dir.components()
        .any(|c| matches!(c, Component::Normal(n) if n == DEMO_DIR_NAME))
        || dir.join(DEVELOPMENT_MARKER).exists()
}

/// Whether `file` lives in a development-only directory (see [`is_development_dir`]).
pub fn is_development_file(file: &Path) -> bool {
    let parent = match file.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    is_development_dir(parent)
}

/// Write the [`DEVELOPMENT_MARKER`] into `dir` (for `hallmark demo`): production then refuses
/// the directory and anything in it.
pub fn write_development_marker(dir: &Path) -> std::io::Result<()> {
    std::fs::write(
        dir.join(DEVELOPMENT_MARKER),
        "Created by `hallmark demo`. Everything in this directory (keystore, database, \
         credentials) is for local development only; `hallmark serve` refuses to use it.\n",
    )
}

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
    fn parse(
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

/// The admin login (never stored in the database).
#[derive(Debug, Clone)]
pub struct AdminCredentials {
    /// User name.
    pub username: String,
    /// Password.
    pub password: SecretString,
}

/// Sector plugins (see `docs/plugins.md`, "In the node").
#[derive(Debug, Clone, Default)]
pub struct PluginSettings {
    /// Directory of `<name>.wasm` + `<name>.manifest.json` pairs; `None`: no plugins.
    pub dir: Option<PathBuf>,
    /// The operator's publisher keys (`HALLMARK_PLUGIN_TRUSTED_KEYS`) whose signed manifests
    /// are admitted; the built-in `plugins::PROJECT_PUBLISHER_KEY` is trusted in addition.
    pub trusted_keys: Vec<VerifyingKey>,
    /// DEVELOPMENT ONLY: admit `<name>.wasm` without a manifest (refused in production).
    pub allow_unsigned: bool,
    /// Sector ids whose every schema version must have a plugin (else start-up fails).
    pub required: Vec<String>,
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
    /// Log level.
    pub log_level: LogLevel,
    /// Sector plugins.
    pub plugins: PluginSettings,
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
        }
    }
}

mod key_file;

#[cfg(test)]
mod tests;

/// The row-authentication keys from `HALLMARK_NODE_SECRET`: base64 (standard or URL-safe,
/// padded or not) of at least 32 bytes.
pub fn node_integrity_keys(
    secret: &SecretString,
) -> Result<std::sync::Arc<hallmark_core::integrity::IntegrityKeys>, ConfigError> {
    use base64::Engine as _;
    let text = secret.expose_secret().trim();
    let engines = [
        &base64::engine::general_purpose::STANDARD,
        &base64::engine::general_purpose::STANDARD_NO_PAD,
        &base64::engine::general_purpose::URL_SAFE,
        &base64::engine::general_purpose::URL_SAFE_NO_PAD,
    ];
    let bytes = engines
        .iter()
        .find_map(|e| e.decode(text).ok())
        .map(zeroize::Zeroizing::new)
        .ok_or(ConfigError::NodeSecretInvalid)?;
    hallmark_core::integrity::IntegrityKeys::derive(&bytes)
        .map(std::sync::Arc::new)
        .map_err(|_| ConfigError::NodeSecretInvalid)
}
