//! The kinds of value a setting holds, and how each is read: [`SettingValue`] parses an
//! environment variable's text and a TOML value into the same thing, so that the settings
//! table (`settings`) names a setting's type and nothing else about reading it.

use super::error::ConfigError;
use secrecy::SecretString;
use serde::{Deserialize, Deserializer};
use std::fmt;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::str::FromStr;

/// A type a setting can hold.
pub trait SettingValue: Sized {
    /// Secret: redacted everywhere, also readable from `<VAR>_FILE`.
    const SECRET: bool = false;
    /// The value of environment variable `setting` (non-empty text; `None`: unset).
    fn from_env(setting: &'static str, v: String) -> Result<Option<Self>, ConfigError>;
    /// The value of a TOML key that is present.
    fn from_toml<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Self>, D::Error>;
}

/// `deserialize_with` of every [`Config`](super::Config) field.
pub(super) fn de<'de, D: Deserializer<'de>, T: SettingValue>(d: D) -> Result<Option<T>, D::Error> {
    T::from_toml(d)
}

/// Types read with [`FromStr`] from the environment and with their own `Deserialize` from
/// TOML.
macro_rules! parsed {
    ($($t:ty),+) => {$(
        impl SettingValue for $t {
            fn from_env(setting: &'static str, v: String) -> Result<Option<Self>, ConfigError> {
                parse(setting, &v).map(Some)
            }
            fn from_toml<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Self>, D::Error> {
                Option::<Self>::deserialize(d)
            }
        }
    )+};
}
parsed!(SocketAddr, usize, u32, u64, LogLevel, LogFormat);

impl SettingValue for bool {
    fn from_env(setting: &'static str, v: String) -> Result<Option<Self>, ConfigError> {
        parse_bool(setting, &v).map(Some)
    }
    fn from_toml<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Self>, D::Error> {
        Option::<Self>::deserialize(d)
    }
}

impl SettingValue for String {
    fn from_env(_: &'static str, v: String) -> Result<Option<Self>, ConfigError> {
        Ok(Some(v))
    }
    fn from_toml<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Self>, D::Error> {
        Option::<Self>::deserialize(d)
    }
}

impl SettingValue for PathBuf {
    fn from_env(_: &'static str, v: String) -> Result<Option<Self>, ConfigError> {
        Ok(Some(PathBuf::from(v)))
    }
    fn from_toml<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Self>, D::Error> {
        Option::<Self>::deserialize(d)
    }
}

/// A secret: empty counts as unset; `Debug` never shows it.
impl SettingValue for SecretString {
    const SECRET: bool = true;
    fn from_env(_: &'static str, v: String) -> Result<Option<Self>, ConfigError> {
        Ok((!v.is_empty()).then(|| SecretString::from(v)))
    }
    fn from_toml<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Self>, D::Error> {
        de_secret(d)
    }
}

/// A list: comma-separated in the environment; in TOML such a string or an array.
impl SettingValue for Vec<String> {
    fn from_env(_: &'static str, v: String) -> Result<Option<Self>, ConfigError> {
        Ok(Some(split_list(&v)))
    }
    fn from_toml<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Self>, D::Error> {
        de_list(d)
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

/// How log lines are written (`HALLMARK_LOG_FORMAT`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    /// One human-readable line per event (the default).
    #[default]
    Text,
    /// One JSON object per line (`timestamp`, `level`, `target`, `fields`, …), for log
    /// collectors.
    Json,
}

impl LogFormat {
    /// Lower-case name (`text`, `json`).
    pub fn as_str(self) -> &'static str {
        match self {
            LogFormat::Text => "text",
            LogFormat::Json => "json",
        }
    }
}

impl FromStr for LogFormat {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.to_ascii_lowercase().as_str() {
            "text" => Ok(LogFormat::Text),
            "json" => Ok(LogFormat::Json),
            _ => Err("expected text or json".into()),
        }
    }
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
