//! The settings table: every setting declared once, here. One entry names the [`Config`]
//! field (= the TOML key), its type (which decides how it is read and whether it is secret,
//! [`SettingValue`]), its environment variable, its section and default as
//! `docs/configuration.md` states them, and its help text. From it come the [`Config`]
//! struct (TOML), [`SETTINGS`] (the environment, `hallmark serve --help`, the docs check)
//! and [`Config::set`].

use super::error::ConfigError;
use super::value::{self, LogFormat, LogLevel, SettingValue};
use secrecy::SecretString;
use serde::Deserialize;
use std::net::SocketAddr;
use std::path::PathBuf;

/// One setting, as the table declares it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Setting {
    /// Environment variable.
    pub env: &'static str,
    /// TOML key (top level).
    pub key: &'static str,
    /// Secret: redacted everywhere, also readable from `<env>_FILE`.
    pub secret: bool,
    /// The `docs/configuration.md` section listing it.
    pub section: &'static str,
    /// The default, as the docs' table states it (Markdown).
    pub default: &'static str,
    /// What it does (one or two sentences, for `--help`).
    pub help: &'static str,
}

impl Setting {
    /// [`help`](Self::help) as one line of plain text.
    pub fn help_text(&self) -> String {
        self.help.split_whitespace().collect::<Vec<_>>().join(" ")
    }

    /// [`default`](Self::default) without Markdown code marks.
    pub fn default_text(&self) -> String {
        self.default.replace('`', "")
    }
}

macro_rules! settings {
    ($(
        $section:literal {$(
            $(#[doc = $doc:literal])+
            $field:ident: $ty:ty = $env:literal, default $default:literal;
        )+}
    )+) => {
        /// Settings as read from file and environment, before validation. Every field is
        /// optional; [`Config::validate`] applies profile defaults and the safety rules.
        ///
        /// `Debug` never prints secrets (they are [`SecretString`]s).
        #[derive(Debug, Default, Deserialize)]
        #[serde(deny_unknown_fields)]
        pub struct Config {$($(
            $(#[doc = $doc])+
            #[doc = concat!("\n\n`", $env, "`")]
            #[serde(default, deserialize_with = "value::de")]
            pub $field: Option<$ty>,
        )+)+}

        /// Every setting the loader reads, in the docs' order.
        pub const SETTINGS: &[Setting] = &[$($(
            Setting {
                env: $env,
                key: stringify!($field),
                secret: <$ty as SettingValue>::SECRET,
                section: $section,
                default: $default,
                help: concat!($($doc),+),
            },
        )+)+];

        impl Config {
            /// Sets `setting` from the (non-empty) text of its environment variable.
            pub(super) fn set(&mut self, setting: &Setting, v: String) -> Result<(), ConfigError> {
                match setting.key {
                    $($(stringify!($field) => self.$field = SettingValue::from_env(setting.env, v)?,)+)+
                    _ => {
                        return Err(ConfigError::Invalid {
                            setting: setting.env,
                            reason: "setting not handled by the loader".into(),
                        })
                    }
                }
                Ok(())
            }
        }
    };
}

settings! {
    "Listeners" {
        /// Address of the public listener: passports, DID document, health.
        public_listen: SocketAddr = "HALLMARK_PUBLIC_LISTEN",
            default "`0.0.0.0:8080` (development: `127.0.0.1:8080`)";
        /// Address of the admin listener (management API); loopback unless opted in.
        admin_listen: SocketAddr = "HALLMARK_ADMIN_LISTEN", default "`127.0.0.1:8081`";
        /// `true` allows a non-loopback admin address.
        admin_allow_remote: bool = "HALLMARK_ADMIN_ALLOW_REMOTE", default "`false`";
        /// The public https:// base URL; the node's DID is did:web of it.
        public_base_url: String = "HALLMARK_PUBLIC_BASE_URL",
            default "required (development: `http://localhost:<port>`)";
    }
    "Storage" {
        /// Directory for node data; default home of the keystore.
        data_dir: PathBuf = "HALLMARK_DATA_DIR",
            default "`/var/lib/hallmark` (development: `./hallmark-demo`)";
        /// `sqlite:/path/hallmark.db` or `postgres://…` (the least-privilege app role).
        database_url: SecretString = "HALLMARK_DATABASE_URL",
            default "required (development: `sqlite:<data dir>/hallmark.db`)";
        /// `postgres://` URL of the owner role that runs migrations.
        database_migration_url: SecretString = "HALLMARK_DATABASE_MIGRATION_URL",
            default "required with PostgreSQL in production";
    }
    "Signing keys (one backend)" {
        /// The encrypted keystore file (`hallmark keys init`).
        keystore_path: PathBuf = "HALLMARK_KEYSTORE_PATH",
            default "`<data dir>/hallmark-keys.json`";
        /// The keystore's passphrase.
        keystore_passphrase: SecretString = "HALLMARK_KEYSTORE_PASSPHRASE",
            default "required unless an HSM is set";
        /// Path of the PKCS#11 module; any `HALLMARK_HSM_*` selects the HSM backend.
        hsm_module: PathBuf = "HALLMARK_HSM_MODULE", default "—";
        /// HSM token label.
        hsm_token: String = "HALLMARK_HSM_TOKEN", default "—";
        /// HSM user PIN.
        hsm_pin: SecretString = "HALLMARK_HSM_PIN", default "—";
        /// Prefix of the token objects' labels.
        hsm_key_prefix: String = "HALLMARK_HSM_KEY_PREFIX", default "`hallmark`";
        /// HSM backend only: the secret the row-authentication keys derive from (base64 of
        /// at least 32 random bytes); the file keystore derives them from its sealed node
        /// identity instead.
        node_secret: SecretString = "HALLMARK_NODE_SECRET",
            default "— (required with an HSM)";
    }
    "Admin login" {
        /// Admin user name.
        admin_username: String = "HALLMARK_ADMIN_USERNAME",
            default "required (development: `admin`)";
        /// Admin password, at least 16 characters.
        admin_password: SecretString = "HALLMARK_ADMIN_PASSWORD",
            default "required (development: a marked demo password)";
    }
    "Request limits" {
        /// Largest request body (bytes); larger → 413.
        max_body_bytes: usize = "HALLMARK_MAX_BODY_BYTES", default "`1048576` (1 MiB)";
        /// Largest body of the batch route `POST /api/v1/passports/batch` (bytes, at least
        /// `HALLMARK_MAX_BODY_BYTES`); larger → 413.
        max_batch_body_bytes: usize = "HALLMARK_MAX_BATCH_BODY_BYTES",
            default "`16777216` (16 MiB)";
        /// Deepest nesting of JSON objects/arrays.
        max_json_depth: usize = "HALLMARK_MAX_JSON_DEPTH", default "`32`";
        /// Most members in one JSON object.
        max_json_keys: usize = "HALLMARK_MAX_JSON_KEYS", default "`1024`";
        /// Most items in one JSON array.
        max_json_array_items: usize = "HALLMARK_MAX_JSON_ARRAY_ITEMS", default "`10000`";
        /// Longest JSON string or member name (bytes after unescaping).
        max_json_string_bytes: usize = "HALLMARK_MAX_JSON_STRING_BYTES", default "`65536`";
        /// Time to produce a response (seconds); then 503.
        request_timeout_secs: u64 = "HALLMARK_REQUEST_TIMEOUT_SECS", default "`30`";
    }
    "Connections" {
        /// Time for a whole request head once a connection is ready for one (ms).
        header_read_timeout_ms: u64 = "HALLMARK_HEADER_READ_TIMEOUT_MS", default "`10000`";
        /// A connection with no request in flight is closed after this idle time (ms).
        idle_timeout_ms: u64 = "HALLMARK_IDLE_TIMEOUT_MS",
            default "`5000` (at most the header-read timeout)";
        /// Open connections per listener.
        max_connections: usize = "HALLMARK_MAX_CONNECTIONS", default "`1024`";
        /// Open connections per client address per listener.
        max_connections_per_client: usize = "HALLMARK_MAX_CONNECTIONS_PER_CLIENT",
            default "`64` (at most the listener cap)";
    }
    "Rate limits" {
        /// Public listener: requests per second per client address.
        public_rate_per_second: u32 = "HALLMARK_PUBLIC_RATE_PER_SECOND", default "`50`";
        /// Public listener: burst.
        public_rate_burst: u32 = "HALLMARK_PUBLIC_RATE_BURST", default "`100`";
        /// Admin listener: requests per second per API key.
        admin_rate_per_second: u32 = "HALLMARK_ADMIN_RATE_PER_SECOND", default "`20`";
        /// Admin listener: burst.
        admin_rate_burst: u32 = "HALLMARK_ADMIN_RATE_BURST", default "`50`";
        /// Failed authentications per client address per minute before 429.
        auth_failures_per_minute: u32 = "HALLMARK_AUTH_FAILURES_PER_MINUTE", default "`10`";
        /// Audit rows per minute for refused requests, over all clients.
        refusal_events_per_minute: u32 = "HALLMARK_REFUSAL_EVENTS_PER_MINUTE",
            default "`120`";
        /// Reverse proxies (CIDR networks or addresses) whose forwarding headers name the
        /// client.
        trusted_proxies: Vec<String> = "HALLMARK_TRUSTED_PROXIES", default "empty";
    }
    "Public read path" {
        /// Memory bound (MiB) of the published-credential cache; 0 turns it off.
        read_cache_mb: u64 = "HALLMARK_READ_CACHE_MB", default "`64`";
        /// Memory bound (MiB) of the rendered consumer pages (held gzip-compressed); 0 turns
        /// it off.
        page_cache_mb: u64 = "HALLMARK_PAGE_CACHE_MB", default "`128`";
    }
    "Transparency log" {
        /// Most one node waits between two checkpoint signatures (ms).
        checkpoint_interval_ms: u64 = "HALLMARK_CHECKPOINT_INTERVAL_MS", default "`1000`";
    }
    "Sector plugins" {
        /// Directory of `<name>.wasm` plugins with their signed manifests.
        plugin_dir: PathBuf = "HALLMARK_PLUGIN_DIR",
            default "unset: the built-in plugins only";
        /// The operator's publisher keys (Multikeys or key files), comma-separated.
        plugin_trusted_keys: Vec<String> = "HALLMARK_PLUGIN_TRUSTED_KEYS",
            default "none: only the built-in project key";
        /// Development only: also admit plugins without a manifest.
        plugin_allow_unsigned: bool = "HALLMARK_PLUGIN_ALLOW_UNSIGNED", default "`false`";
        /// Sector ids that must be gated by a plugin, comma-separated.
        plugin_required: Vec<String> = "HALLMARK_PLUGIN_REQUIRED", default "none";
    }
    "EU registry" {
        /// URL template of each passport version's back-up copy, given to the EU DPP
        /// registry as its back-up link: `{uuid}` (required) is the passport's UUID,
        /// `{version}` the version number; https:// (development also http://localhost).
        backup_link_template: String = "HALLMARK_BACKUP_LINK_TEMPLATE",
            default "unset: no registry export";
    }
    "Events" {
        /// NATS server to deliver the outbox's events to (JetStream), e.g.
        /// `nats://127.0.0.1:4222` or `tls://nats.example.com:4222`.
        nats_url: String = "HALLMARK_NATS_URL", default "unset: events stay in the outbox";
        /// A NATS credentials file (`.creds`: user JWT and NKey seed) to connect with.
        nats_credentials: PathBuf = "HALLMARK_NATS_CREDENTIALS", default "unset: no credentials";
        /// The JetStream stream the node creates (or finds) for its events.
        nats_stream: String = "HALLMARK_NATS_STREAM", default "`HALLMARK_EVENTS`";
        /// The subject prefix: an event of type T goes to `<prefix>.T`.
        nats_subject: String = "HALLMARK_NATS_SUBJECT", default "`hallmark.events`";
        /// Hosts webhook deliveries may go to, comma-separated (`https://` only; plain
        /// `http://` to a listed loopback address). Development also allows any loopback
        /// address.
        webhook_allowed_hosts: Vec<String> = "HALLMARK_WEBHOOK_ALLOWED_HOSTS",
            default "none: no webhook subscription can be created (development: loopback only)";
    }
    "Verification service" {
        /// Hosts the verification service (`POST /credentials/verify`) may fetch did:web
        /// DID documents from, comma-separated (https only; an address that is not public is
        /// refused even when listed).
        verify_did_web_allowed_hosts: Vec<String> = "HALLMARK_VERIFY_DID_WEB_ALLOWED_HOSTS",
            default "none: did:web is not fetched (the node's own DID and did:key still resolve)";
    }
    "Restricted access" {
        /// Seal every authority-tier answer to a signed reader (a JWE to the reader's X25519
        /// key), whether the reader asks for it or not (docs/access.md, "Sealed delivery").
        seal_authority: bool = "HALLMARK_SEAL_AUTHORITY", default "`false`";
    }
    "Logging" {
        /// `error`, `warn`, `info`, `debug` or `trace`.
        log_level: LogLevel = "HALLMARK_LOG_LEVEL", default "`info`";
        /// `text` (one line per event) or `json` (one JSON object per line).
        log_format: LogFormat = "HALLMARK_LOG_FORMAT", default "`text`";
    }
}
