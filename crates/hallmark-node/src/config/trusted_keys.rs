//! `HALLMARK_PLUGIN_TRUSTED_KEYS` entries: Multikeys, or key files that pass
//! [`key_file`](super::key_file)'s checks.

use super::error::ConfigError;
use super::key_file;
use ed25519_dalek::VerifyingKey;
use hallmark_core::keys::decode_public_key_multibase;
use std::path::{Path, PathBuf};

/// One `HALLMARK_PLUGIN_TRUSTED_KEYS` entry: an Ed25519 Multikey (`z6Mk…`, as in a
/// manifest's `publisherKeyMultibase`), or the path of a file holding one Multikey per line
/// (blank lines and `#` comments ignored; e.g. a plugin's `publisher.pub`). A file must lie
/// outside the plugin directory `plugin_dir` and be changeable only by the node's user or
/// root ([`key_file`](super::key_file)).
pub(super) fn trusted_key_entry(
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
