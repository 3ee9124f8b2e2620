//! [`ConfigError`]: why a configuration is refused, one line naming the setting.

use std::net::SocketAddr;
use std::path::PathBuf;

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
