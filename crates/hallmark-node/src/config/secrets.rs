//! Secrets: a secret setting's value or the file its `<VAR>_FILE` names, and the node
//! secret the HSM backend's row-authentication keys derive from.

use super::error::ConfigError;
use super::settings::Setting;
use secrecy::{ExposeSecret, SecretString};
use std::path::PathBuf;

/// Suffix of the variable that reads a secret setting from a file.
pub const FILE_SUFFIX: &str = "_FILE";

/// A secret setting's text: its variable's (`direct`, non-empty) or the content of the file
/// `<VAR>_FILE` names (without trailing line breaks); both set is refused.
pub(super) fn value_or_file(
    setting: &Setting,
    direct: Option<String>,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<Option<String>, ConfigError> {
    let file_var = format!("{}{FILE_SUFFIX}", setting.env);
    match (direct, env(&file_var).filter(|v| !v.is_empty())) {
        (Some(_), Some(_)) => Err(ConfigError::ValueAndFile {
            setting: setting.env,
        }),
        (Some(v), None) => Ok(Some(v)),
        (None, Some(path)) => {
            let path = PathBuf::from(path);
            let text =
                std::fs::read_to_string(&path).map_err(|source| ConfigError::SecretFile {
                    setting: setting.env,
                    path: path.clone(),
                    source,
                })?;
            Ok(Some(text.trim_end_matches(['\n', '\r']).to_string()))
        }
        (None, None) => Ok(None),
    }
}

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
