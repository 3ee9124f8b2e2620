//! Where the control-plane commands find the admin URL and the credential — never on the
//! command line (shell history, `ps`):
//!
//! - admin URL: `--admin-url`, else `HALLMARK_ADMIN_URL`, else the profile's `admin_url`;
//! - API key: `HALLMARK_API_KEY`, else the file `HALLMARK_API_KEY_FILE` names, else the
//!   profile's `api_key_file` or `api_key`;
//! - for the `api-key` commands only, without any API key: the admin login,
//!   `HALLMARK_ADMIN_USERNAME` + `HALLMARK_ADMIN_PASSWORD` (or `HALLMARK_ADMIN_PASSWORD_FILE`),
//!   sent as HTTP Basic (the bootstrap: the first API key).
//!
//! The profile file is `${XDG_CONFIG_HOME:-~/.config}/hallmark/cli.toml`:
//!
//! ```toml
//! [profiles.default]
//! admin_url = "https://admin.example:8081"
//! api_key_file = "~/.config/hallmark/write.key"   # or: api_key = "hmk_w_…"
//! ```
//!
//! chosen with `--profile NAME` / `HALLMARK_PROFILE` (else `default`, if present). A file
//! holding an `api_key` is refused when group or others have any access to it (like ssh's
//! private keys). The environment overrides the profile. Secrets are held as
//! [`SecretString`] and never printed.

use crate::output::CliError;
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use zeroize::Zeroizing;

/// The credential sent with every request.
pub enum Auth {
    /// An API key (`Authorization: Bearer hmk_…`).
    Bearer(SecretString),
    /// The admin login (`Authorization: Basic …`).
    Basic {
        /// The user name.
        username: String,
        /// The password.
        password: SecretString,
    },
}

impl std::fmt::Debug for Auth {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Auth::Bearer(_) => f.write_str("Bearer([redacted])"),
            Auth::Basic { username, .. } => write!(f, "Basic({username}, [redacted])"),
        }
    }
}

impl Auth {
    /// The `Authorization` header's value (a secret: wiped when dropped; the client marks
    /// the header sensitive).
    pub fn header_value(&self) -> Zeroizing<String> {
        use base64::Engine;
        Zeroizing::new(match self {
            Auth::Bearer(key) => format!("Bearer {}", key.expose_secret()),
            Auth::Basic { username, password } => {
                let pair = Zeroizing::new(format!("{username}:{}", password.expose_secret()));
                format!(
                    "Basic {}",
                    base64::engine::general_purpose::STANDARD.encode(pair.as_bytes())
                )
            }
        })
    }
}

/// What the command line says: `--admin-url` (or `HALLMARK_ADMIN_URL`, read by clap) and
/// `--profile` (or `HALLMARK_PROFILE`).
#[derive(Debug, Clone, Default)]
pub struct Sources {
    /// The admin URL given.
    pub admin_url: Option<String>,
    /// The profile named.
    pub profile: Option<String>,
}

/// The admin URL and credential a command uses.
#[derive(Debug)]
pub struct Credentials {
    /// The admin API's URL.
    pub admin_url: String,
    /// The credential.
    pub auth: Auth,
}

/// The process environment (the `env` of [`resolve`] outside tests).
pub fn process_env(name: &str) -> Option<String> {
    std::env::var(name).ok()
}

/// A variable that is set and not blank.
fn var(env: &dyn Fn(&str) -> Option<String>, name: &str) -> Option<String> {
    env(name).filter(|v| !v.trim().is_empty())
}

/// The admin URL and credential from `opts`, `env` and the profile file; `admin_login`
/// allows the admin login when no API key is found (the `api-key` commands).
pub fn resolve(
    opts: &Sources,
    env: &dyn Fn(&str) -> Option<String>,
    admin_login: bool,
) -> Result<Credentials, CliError> {
    let mut admin_url = opts.admin_url.clone().filter(|u| !u.trim().is_empty());
    let mut key = match (
        var(env, "HALLMARK_API_KEY"),
        var(env, "HALLMARK_API_KEY_FILE"),
    ) {
        (Some(k), _) => Some(secret(k, "HALLMARK_API_KEY")?),
        (None, Some(file)) => Some(read_secret(Path::new(&file), "HALLMARK_API_KEY_FILE")?),
        (None, None) => None,
    };
    let named = opts.profile.clone().filter(|p| !p.trim().is_empty());
    if named.is_some() || admin_url.is_none() || key.is_none() {
        if let Some(profile) = load_profile(env, named.as_deref())? {
            if admin_url.is_none() {
                admin_url = profile.admin_url;
            }
            if key.is_none() {
                key = profile.api_key;
            }
        }
    }
    let admin_url = admin_url.ok_or_else(|| {
        CliError::Usage(
            "no admin URL: give --admin-url, set HALLMARK_ADMIN_URL, or set admin_url in a \
             profile of cli.toml"
                .into(),
        )
    })?;
    let auth =
        match key {
            Some(k) => Auth::Bearer(k),
            None if admin_login => admin_login_from(env)?.ok_or_else(|| {
                CliError::Usage(
                    "no credential: set HALLMARK_API_KEY or HALLMARK_API_KEY_FILE (an admin-scope \
                 key), or for the first key the admin login, HALLMARK_ADMIN_USERNAME and \
                 HALLMARK_ADMIN_PASSWORD (or HALLMARK_ADMIN_PASSWORD_FILE)"
                        .into(),
                )
            })?,
            None => return Err(CliError::Usage(
                "no API key: set HALLMARK_API_KEY or HALLMARK_API_KEY_FILE, or api_key_file in \
                 a profile of cli.toml (there is no --api-key option: keys stay out of shell \
                 history)"
                    .into(),
            )),
        };
    Ok(Credentials { admin_url, auth })
}

/// The admin login, when `HALLMARK_ADMIN_USERNAME` is set.
fn admin_login_from(env: &dyn Fn(&str) -> Option<String>) -> Result<Option<Auth>, CliError> {
    let Some(username) = var(env, "HALLMARK_ADMIN_USERNAME") else {
        return Ok(None);
    };
    let password = match (
        var(env, "HALLMARK_ADMIN_PASSWORD"),
        var(env, "HALLMARK_ADMIN_PASSWORD_FILE"),
    ) {
        (Some(p), _) => SecretString::from(p),
        (None, Some(file)) => read_secret(Path::new(&file), "HALLMARK_ADMIN_PASSWORD_FILE")?,
        (None, None) => {
            return Err(CliError::Usage(
                "HALLMARK_ADMIN_USERNAME is set but neither HALLMARK_ADMIN_PASSWORD nor \
                 HALLMARK_ADMIN_PASSWORD_FILE"
                    .into(),
            ))
        }
    };
    Ok(Some(Auth::Basic {
        username: username.trim().to_string(),
        password,
    }))
}

/// A key given as text: trimmed, one line.
fn secret(text: String, source: &str) -> Result<SecretString, CliError> {
    let trimmed = text.trim();
    if trimmed.is_empty() || trimmed.contains(['\n', '\r']) {
        return Err(CliError::Usage(format!(
            "{source}: not one line of text (expected one API key)"
        )));
    }
    Ok(SecretString::from(trimmed.to_string()))
}

/// A secret from a file (its one line, trimmed).
fn read_secret(path: &Path, source: &str) -> Result<SecretString, CliError> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| CliError::Usage(format!("{source}: {}: {e}", path.display())))?;
    secret(text, &format!("{source} ({})", path.display()))
}

/// The profile file: `${XDG_CONFIG_HOME:-~/.config}/hallmark/cli.toml`.
pub fn profile_path(env: &dyn Fn(&str) -> Option<String>) -> Option<PathBuf> {
    let base = match var(env, "XDG_CONFIG_HOME").map(PathBuf::from) {
        Some(p) if p.is_absolute() => p,
        _ => PathBuf::from(var(env, "HOME")?).join(".config"),
    };
    Some(base.join("hallmark").join("cli.toml"))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ProfileFile {
    #[serde(default)]
    profiles: BTreeMap<String, ProfileEntry>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ProfileEntry {
    admin_url: Option<String>,
    api_key_file: Option<PathBuf>,
    api_key: Option<String>,
}

/// What a profile gives.
struct Profile {
    admin_url: Option<String>,
    api_key: Option<SecretString>,
}

/// The profile `name` (an error if the file or the profile is missing), or without a name
/// `default` if the file exists and has it.
fn load_profile(
    env: &dyn Fn(&str) -> Option<String>,
    name: Option<&str>,
) -> Result<Option<Profile>, CliError> {
    let path = profile_path(env);
    let text = match path.as_ref().map(std::fs::read_to_string) {
        Some(Ok(text)) => text,
        Some(Err(e)) if e.kind() == std::io::ErrorKind::NotFound && name.is_none() => {
            return Ok(None)
        }
        None if name.is_none() => return Ok(None),
        Some(Err(e)) => {
            return Err(CliError::Usage(format!(
                "profile {:?}: {}: {e}",
                name.unwrap_or("default"),
                path.as_deref().unwrap_or(Path::new("cli.toml")).display()
            )))
        }
        None => {
            return Err(CliError::Usage(
                "a profile was named, but neither XDG_CONFIG_HOME nor HOME is set".into(),
            ))
        }
    };
    let path = path.unwrap_or_default();
    let shown = path.display();
    let file: ProfileFile =
        toml::from_str(&text).map_err(|e| CliError::Usage(format!("{shown}: {}", e.message())))?;
    if file.profiles.values().any(|p| p.api_key.is_some()) {
        check_private(&path)?;
    }
    let wanted = name.unwrap_or("default");
    let Some(entry) = file.profiles.get(wanted) else {
        return match name {
            Some(n) => Err(CliError::Usage(format!(
                "{shown}: no [profiles.{n}] (profiles: {})",
                file.profiles.keys().cloned().collect::<Vec<_>>().join(", ")
            ))),
            None => Ok(None),
        };
    };
    let api_key = match (&entry.api_key, &entry.api_key_file) {
        (Some(_), Some(_)) => {
            return Err(CliError::Usage(format!(
                "{shown}: [profiles.{wanted}] has both api_key and api_key_file; keep one"
            )))
        }
        (Some(k), None) => Some(secret(k.clone(), &format!("{shown}: api_key"))?),
        (None, Some(file)) => {
            let file = expand(file, &path, env);
            Some(read_secret(
                &file,
                &format!("[profiles.{wanted}] api_key_file"),
            )?)
        }
        (None, None) => None,
    };
    Ok(Some(Profile {
        admin_url: entry.admin_url.clone().filter(|u| !u.trim().is_empty()),
        api_key,
    }))
}

/// `~/…` from HOME; a relative path from the profile file's folder.
fn expand(file: &Path, profile: &Path, env: &dyn Fn(&str) -> Option<String>) -> PathBuf {
    if let Ok(rest) = file.strip_prefix("~") {
        if let Some(home) = var(env, "HOME") {
            return PathBuf::from(home).join(rest);
        }
    }
    if file.is_relative() {
        if let Some(dir) = profile.parent() {
            return dir.join(file);
        }
    }
    file.to_path_buf()
}

/// A file holding a key must be private to its owner (mode `0600` or stricter).
#[cfg(unix)]
fn check_private(path: &Path) -> Result<(), CliError> {
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(path)
        .map_err(|e| CliError::Usage(format!("{}: {e}", path.display())))?
        .permissions()
        .mode();
    if mode & 0o077 != 0 {
        return Err(CliError::Usage(format!(
            "{}: holds an api_key but group or others can access it (mode {:o}); run \
             `chmod 600 {}` or use api_key_file",
            path.display(),
            mode & 0o777,
            path.display()
        )));
    }
    Ok(())
}

#[cfg(not(unix))]
fn check_private(_path: &Path) -> Result<(), CliError> {
    Ok(())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;
    use std::collections::HashMap;

    fn opts(url: Option<&str>, profile: Option<&str>) -> Sources {
        Sources {
            admin_url: url.map(str::to_owned),
            profile: profile.map(str::to_owned),
        }
    }

    fn env(vars: &[(&str, String)]) -> impl Fn(&str) -> Option<String> {
        let map: HashMap<String, String> = vars
            .iter()
            .map(|(k, v)| ((*k).to_owned(), v.clone()))
            .collect();
        move |name| map.get(name).cloned()
    }

    fn bearer(c: &Credentials) -> String {
        match &c.auth {
            Auth::Bearer(k) => k.expose_secret().to_owned(),
            Auth::Basic { .. } => panic!("basic"),
        }
    }

    #[test]
    fn the_environment_overrides_the_profile() {
        let dir = tempfile::tempdir().unwrap();
        let conf = dir.path().join("hallmark");
        std::fs::create_dir_all(&conf).unwrap();
        std::fs::write(conf.join("key.txt"), "hmk_w_fromfile\n").unwrap();
        std::fs::write(
            conf.join("cli.toml"),
            "[profiles.default]\nadmin_url = \"http://profile:1\"\napi_key_file = \"key.txt\"\n",
        )
        .unwrap();
        let xdg = dir.path().to_string_lossy().into_owned();
        let e = env(&[("XDG_CONFIG_HOME", xdg.clone())]);
        let c = resolve(&opts(None, None), &e, false).unwrap();
        assert_eq!(c.admin_url, "http://profile:1");
        assert_eq!(bearer(&c), "hmk_w_fromfile");
        let e = env(&[
            ("XDG_CONFIG_HOME", xdg),
            ("HALLMARK_API_KEY", " hmk_w_env ".into()),
        ]);
        let c = resolve(&opts(Some("http://flag:2"), None), &e, false).unwrap();
        assert_eq!(c.admin_url, "http://flag:2");
        assert_eq!(bearer(&c), "hmk_w_env");
    }

    #[test]
    fn missing_pieces_are_usage_errors() {
        let e = env(&[("HALLMARK_API_KEY", "hmk_w_x".into())]);
        assert!(matches!(
            resolve(&opts(None, None), &e, false),
            Err(CliError::Usage(_))
        ));
        let e = env(&[]);
        let err = resolve(&opts(Some("http://x:1"), None), &e, false).unwrap_err();
        assert!(err.to_string().contains("no API key"), "{err}");
        let e = env(&[("HOME", "/nonexistent-home".into())]);
        let err = resolve(&opts(Some("http://x:1"), Some("prod")), &e, false).unwrap_err();
        assert!(matches!(err, CliError::Usage(_)), "{err}");
    }

    #[test]
    fn the_admin_login_is_only_for_the_bootstrap() {
        let dir = tempfile::tempdir().unwrap();
        let pw = dir.path().join("pw");
        std::fs::write(&pw, "a-long-admin-password\n").unwrap();
        let e = env(&[
            ("HALLMARK_ADMIN_USERNAME", "operator".into()),
            (
                "HALLMARK_ADMIN_PASSWORD_FILE",
                pw.to_string_lossy().into_owned(),
            ),
        ]);
        assert!(resolve(&opts(Some("http://x:1"), None), &e, false).is_err());
        let c = resolve(&opts(Some("http://x:1"), None), &e, true).unwrap();
        assert!(
            matches!(&c.auth, Auth::Basic { username, password } if username == "operator" && password.expose_secret() == "a-long-admin-password")
        );
        assert_eq!(format!("{:?}", c.auth), "Basic(operator, [redacted])");
    }
}
