//! Where settings come from: the TOML file (`HALLMARK_CONFIG` or `--config`), then every
//! `HALLMARK_*` environment variable on top ([`SETTINGS`], secrets also from `<VAR>_FILE`).

use super::error::ConfigError;
use super::secrets;
use super::settings::{Config, SETTINGS};
use std::path::{Path, PathBuf};

/// Environment variable naming the TOML configuration file.
pub const CONFIG_FILE_ENV: &str = "HALLMARK_CONFIG";

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
                secrets::value_or_file(setting, direct, env)?
            } else {
                direct
            };
            if let Some(v) = value {
                self.set(setting, v)?;
            }
        }
        Ok(())
    }
}
