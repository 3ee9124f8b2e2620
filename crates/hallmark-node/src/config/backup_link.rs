//! `HALLMARK_BACKUP_LINK_TEMPLATE`: the URL of the back-up copy of each passport version, as
//! an EU DPP registry export gives it (`backupLink`). A node setting, not signed: a change
//! of back-up provider needs no new version. The node does not make the copy; the link
//! claims one.
//!
//! A template is an absolute URL with the placeholders `{uuid}` (required: the passport's
//! UUID, lowercase and hyphenated) and `{version}` (optional: the version number), both
//! after the host, e.g. `https://backup.example.eu/dpp/{uuid}/versions/{version}`. It must
//! use `https://`; `http://` only for `localhost` (or a loopback address) in development.

use super::error::ConfigError;
use hallmark_core::passport::PassportId;

/// The setting's environment variable.
pub const BACKUP_LINK_ENV: &str = "HALLMARK_BACKUP_LINK_TEMPLATE";

/// The longest template (characters), and of a rendered link: the export schema's bound on
/// URLs.
pub const MAX_BACKUP_LINK: usize = 2048;

const UUID: &str = "{uuid}";
const VERSION: &str = "{version}";
/// The longest a placeholder's value can make a link grow: a UUID is 36 characters, a
/// version at most 10.
const UUID_GROWTH: usize = 36 - UUID.len();

/// A checked back-up link template (see the module documentation).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BackupLinkTemplate(String);

impl BackupLinkTemplate {
    /// Checks a template; `development` admits `http://` for `localhost` and loopback
    /// addresses. The error names the setting and what is wrong, never guessing a fix.
    pub fn parse(raw: &str, development: bool) -> Result<Self, ConfigError> {
        let refuse = |reason: String| ConfigError::Invalid {
            setting: BACKUP_LINK_ENV,
            reason,
        };
        let t = raw.trim();
        if t.chars().count() > MAX_BACKUP_LINK {
            return Err(refuse(format!(
                "the template is longer than {MAX_BACKUP_LINK} characters"
            )));
        }
        if let Some(c) = t
            .chars()
            .find(|c| !c.is_ascii_graphic() || "\"<>\\^`|".contains(*c))
        {
            return Err(refuse(format!(
                "{c:?} is not allowed in a URL (percent-encode it)"
            )));
        }
        // Placeholders: `{uuid}` and `{version}` only, `{uuid}` at least once.
        let mut rest = t;
        let mut uuids = 0;
        while let Some(at) = rest.find(['{', '}']) {
            let tail = &rest[at..];
            if let Some(after) = tail.strip_prefix(UUID) {
                uuids += 1;
                rest = after;
            } else if let Some(after) = tail.strip_prefix(VERSION) {
                rest = after;
            } else {
                return Err(refuse(
                    "the only placeholders are {uuid} and {version} (a literal brace must be \
                     percent-encoded)"
                        .to_owned(),
                ));
            }
        }
        if uuids == 0 {
            return Err(refuse(
                "the template must contain {uuid} (the passport's UUID), e.g. \
                 https://backup.example.eu/dpp/{uuid}/versions/{version}"
                    .to_owned(),
            ));
        }
        // Scheme and host: https, or http for localhost in development.
        let (scheme, after) = if let Some(a) = t.strip_prefix("https://") {
            ("https", a)
        } else if let Some(a) = t.strip_prefix("http://") {
            ("http", a)
        } else {
            return Err(refuse(
                "the template must be an absolute https:// URL".to_owned(),
            ));
        };
        let end = after.find(['/', '?', '#']).unwrap_or(after.len());
        let authority = &after[..end];
        if end == after.len() {
            return Err(refuse(
                "{uuid} must be in the URL's path or query, after the host".to_owned(),
            ));
        }
        if authority.contains(['{', '}']) {
            return Err(refuse(
                "placeholders must come after the host, in the path or query".to_owned(),
            ));
        }
        if authority.contains('@') {
            return Err(refuse("the URL must not carry user information".to_owned()));
        }
        let host = host_of(authority)
            .ok_or_else(|| refuse(format!("{authority:?} is not a host with an optional port")))?;
        if scheme == "http" {
            let local = matches!(host, "localhost" | "127.0.0.1" | "[::1]");
            if !(development && local) {
                return Err(refuse(
                    "the back-up link must use https:// (http:// only for localhost in \
                     development)"
                        .to_owned(),
                ));
            }
        }
        if t.len() + uuids * UUID_GROWTH + t.matches(VERSION).count() > MAX_BACKUP_LINK {
            return Err(refuse(format!(
                "a rendered link would be longer than {MAX_BACKUP_LINK} characters"
            )));
        }
        Ok(Self(t.to_owned()))
    }

    /// The template as configured (trimmed).
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The back-up link of `version` of `passport`: `{uuid}` replaced by its UUID (lowercase,
    /// hyphenated), `{version}` by the number.
    pub fn render(&self, passport: &PassportId, version: u32) -> String {
        self.0
            .replace(UUID, &passport.uuid().hyphenated().to_string())
            .replace(VERSION, &version.to_string())
    }
}

/// The host of `host[:port]` (an IPv6 literal in brackets), if it is one.
fn host_of(authority: &str) -> Option<&str> {
    let (host, port) = if authority.starts_with('[') {
        let close = authority.find(']')?;
        (&authority[..=close], &authority[close + 1..])
    } else {
        match authority.rfind(':') {
            Some(at) => (&authority[..at], &authority[at..]),
            None => (authority, ""),
        }
    };
    let port_ok = port.is_empty()
        || port.strip_prefix(':').is_some_and(|p| {
            !p.is_empty() && p.len() <= 5 && p.bytes().all(|b| b.is_ascii_digit())
        });
    let host_ok = if host.starts_with('[') {
        host.len() > 2
            && host[1..host.len() - 1]
                .bytes()
                .all(|b| b.is_ascii_hexdigit() || b == b':' || b == b'.')
    } else {
        !host.is_empty()
            && !host.starts_with(['.', '-'])
            && host
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'.' || b == b'-')
    };
    (port_ok && host_ok).then_some(host)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;

    fn reason(raw: &str, development: bool) -> String {
        match BackupLinkTemplate::parse(raw, development) {
            Err(ConfigError::Invalid { setting, reason }) => {
                assert_eq!(setting, BACKUP_LINK_ENV);
                reason
            }
            other => panic!("{raw}: {other:?}"),
        }
    }

    #[test]
    fn renders_uuid_and_version() {
        let id = PassportId::parse("urn:uuid:0190f1a2-3b4c-7d5e-8f60-718293a4b5c6").unwrap();
        let t = BackupLinkTemplate::parse(
            " https://backup.example.eu/dpp/{uuid}/versions/{version} ",
            false,
        )
        .unwrap();
        assert_eq!(
            t.as_str(),
            "https://backup.example.eu/dpp/{uuid}/versions/{version}"
        );
        assert_eq!(
            t.render(&id, 3),
            "https://backup.example.eu/dpp/0190f1a2-3b4c-7d5e-8f60-718293a4b5c6/versions/3"
        );
        let q = BackupLinkTemplate::parse("https://b.example:8443/x?id={uuid}&v={uuid}", false)
            .unwrap();
        assert_eq!(
            q.render(&id, 12),
            "https://b.example:8443/x?id=0190f1a2-3b4c-7d5e-8f60-718293a4b5c6\
             &v=0190f1a2-3b4c-7d5e-8f60-718293a4b5c6"
        );
        let local = BackupLinkTemplate::parse("http://localhost:9000/{uuid}", true).unwrap();
        assert_eq!(
            local.render(&id, 1),
            "http://localhost:9000/0190f1a2-3b4c-7d5e-8f60-718293a4b5c6"
        );
        for loopback in ["http://127.0.0.1/{uuid}", "http://[::1]:8080/{uuid}"] {
            assert!(
                BackupLinkTemplate::parse(loopback, true).is_ok(),
                "{loopback}"
            );
        }
    }

    #[test]
    fn refuses_templates_that_are_not_https_links_with_a_uuid() {
        for (raw, development, why) in [
            (
                "https://backup.example.eu/dpp/latest",
                false,
                "must contain {uuid}",
            ),
            (
                "https://backup.example.eu/{id}/{uuid}",
                false,
                "only placeholders",
            ),
            (
                "https://backup.example.eu/{uuid}}",
                false,
                "only placeholders",
            ),
            (
                "https://backup.example.eu/{UUID}",
                false,
                "only placeholders",
            ),
            (
                "http://backup.example.eu/{uuid}",
                false,
                "must use https://",
            ),
            ("http://backup.example.eu/{uuid}", true, "must use https://"),
            ("http://localhost/{uuid}", false, "must use https://"),
            (
                "http://localhost.evil.example/{uuid}",
                true,
                "must use https://",
            ),
            (
                "ftp://backup.example.eu/{uuid}",
                false,
                "absolute https:// URL",
            ),
            ("backup.example.eu/{uuid}", false, "absolute https:// URL"),
            ("https://{uuid}.example.eu/", false, "after the host"),
            ("https://backup.example.eu{uuid}", false, "after the host"),
            (
                "https://me@backup.example.eu/{uuid}",
                false,
                "user information",
            ),
            ("https://backup.example.eu:port/{uuid}", false, "not a host"),
            ("https:///{uuid}", false, "not a host"),
            (
                "https://backup.example.eu/a b/{uuid}",
                false,
                "not allowed in a URL",
            ),
            (
                "https://backup.example.eu/é/{uuid}",
                false,
                "not allowed in a URL",
            ),
        ] {
            let r = reason(raw, development);
            assert!(r.contains(why), "{raw}: {r}");
        }
        let long = format!("https://b.example/{}/{{uuid}}", "a".repeat(2048));
        assert!(reason(&long, false).contains("longer than 2048"));
        let edge = format!("https://b.example/{}{{uuid}}", "a".repeat(2048 - 24));
        assert_eq!(edge.len(), 2048);
        assert!(reason(&edge, false).contains("rendered link"));
    }
}
