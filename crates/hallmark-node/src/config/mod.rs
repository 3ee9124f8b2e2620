//! Node configuration: `HALLMARK_*` environment variables and/or a TOML file, environment
//! overriding file, checked by [`Config::validate`] which **fails closed** in production.
//!
//! Every setting is declared once, in the table of [`settings`]: its TOML key (the
//! variable's name without `HALLMARK_`, lower case), type, environment variable, section,
//! default and help. The table gives the [`Config`] struct, [`SETTINGS`] (read by the
//! loader and by `hallmark serve --help`) and the check that `docs/configuration.md` lists
//! each setting with the same default. Secret settings can also be read from a file named
//! by `<VAR>_FILE` (for container secrets).
//!
//! One file per job: [`settings`] (the table), [`value`] (how each type is read),
//! [`sources`] (file, then environment), [`secrets`] (`<VAR>_FILE`, the node secret),
//! [`validate`] (defaults and safety rules) giving [`validated`] (the result), [`error`],
//! [`defaults`], [`development`], [`backup_link`] (the EU registry's back-up link) (the demo's values and marked directories), and the
//! plugin trust anchors ([`trusted_keys`], `key_file`).
//!
//! Two profiles: [`Profile::Production`] (the default for `hallmark serve`) refuses to start
//! when anything is missing or unsafe, one error per problem naming the variable;
//! [`Profile::Development`] (used by `hallmark demo`) fills in loopback, SQLite and clearly
//! marked demo credentials.

pub mod backup_link;
pub mod defaults;
pub mod development;
pub mod did_web;
pub mod error;
mod key_file;
pub mod nats;
pub mod secrets;
pub mod settings;
pub mod sources;
pub mod trusted_keys;
pub mod validate;
pub mod validated;
pub mod value;
pub mod webhooks;

#[cfg(test)]
mod tests;

pub use crate::auth::AdminCredentials;
pub use crate::plugins::PluginSettings;
pub use crate::profile::{Profile, UnknownProfile};
pub use backup_link::BackupLinkTemplate;
pub use defaults::*;
pub use development::*;
pub use did_web::DidWebSettings;
pub use error::ConfigError;
pub use nats::NatsSettings;
pub use secrets::{node_integrity_keys, FILE_SUFFIX};
pub use settings::{Config, Setting, SETTINGS};
pub use sources::CONFIG_FILE_ENV;
pub use validated::{Database, Signing, ValidatedConfig};
pub use value::{LogFormat, LogLevel, SettingValue};
pub use webhooks::WebhookSettings;
