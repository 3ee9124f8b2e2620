//! The plugin ABI's JSON documents (version [`ABI_VERSION`]); see `docs/plugins.md`.

use serde::{Deserialize, Serialize};

/// The ABI version this host speaks.
pub const ABI_VERSION: u32 = 1;

/// A sector and the schema versions of it a plugin validates.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SectorSupport {
    /// Sector id (e.g. `battery`).
    pub id: String,
    /// Supported schema versions (e.g. `["1.2.0"]`).
    pub schema_versions: Vec<String>,
}

/// What `hallmark_describe` returns.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Description {
    /// ABI version; must be [`ABI_VERSION`].
    pub abi: u32,
    /// Plugin name.
    pub name: String,
    /// Plugin version.
    pub version: String,
    /// Sectors served.
    pub sectors: Vec<SectorSupport>,
}

/// How serious a finding is. Only `Error` blocks publication.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// The passport breaks a rule; publication must be refused.
    Error,
    /// Suspicious but allowed.
    Warning,
    /// For information.
    Info,
}

/// One result of a plugin's validation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Finding {
    /// RFC 6901 JSON pointer into the sector data (`""` is the whole document).
    pub pointer: String,
    /// Severity.
    pub severity: Severity,
    /// What is wrong, for a human.
    pub message: String,
}

/// What `hallmark_validate` returns.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ValidateOutput {
    /// The findings (possibly empty).
    pub findings: Vec<Finding>,
}

/// The sector reference passed to `hallmark_validate`.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct SectorArg<'a> {
    pub id: &'a str,
    pub schema_version: &'a str,
}

/// The document passed to `hallmark_validate`.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct ValidateInput<'a> {
    pub sector: SectorArg<'a>,
    pub data: &'a serde_json::Value,
}
