//! `HALLMARK_NATS_*`: where the outbox's events go (issue 21; docs/events.md, "Delivery to
//! NATS JetStream"). Optional: without `HALLMARK_NATS_URL` the node needs no broker and the
//! events stay in the outbox.

use super::ConfigError;
use std::path::PathBuf;

/// The default stream.
pub const DEFAULT_STREAM: &str = "HALLMARK_EVENTS";
/// The default subject prefix.
pub const DEFAULT_SUBJECT: &str = "hallmark.events";

/// The relay's broker, checked at start-up.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NatsSettings {
    /// `nats://…`, `tls://…` (comma-separated for several servers).
    pub url: String,
    /// A `.creds` file, if any.
    pub credentials: Option<PathBuf>,
    /// The stream's name.
    pub stream: String,
    /// The subject prefix.
    pub subject: String,
}

impl NatsSettings {
    /// Checks the settings: URL schemes, a stream name and subject prefix NATS accepts.
    ///
    /// # Errors
    /// [`ConfigError::Invalid`] naming the variable.
    pub fn parse(
        url: &str,
        credentials: Option<PathBuf>,
        stream: Option<&str>,
        subject: Option<&str>,
    ) -> Result<Self, ConfigError> {
        let invalid = |setting, reason: &str| ConfigError::Invalid {
            setting,
            reason: reason.to_owned(),
        };
        for server in url.split(',').map(str::trim) {
            let ok = ["nats://", "tls://"]
                .iter()
                .any(|p| server.strip_prefix(p).is_some_and(|rest| !rest.is_empty()));
            if !ok {
                return Err(invalid(
                    "HALLMARK_NATS_URL",
                    "each server must be nats://host:port or tls://host:port",
                ));
            }
        }
        let stream = stream.map_or(DEFAULT_STREAM, str::trim).to_owned();
        if stream.is_empty()
            || stream.len() > 64
            || !stream
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
        {
            return Err(invalid(
                "HALLMARK_NATS_STREAM",
                "1 to 64 characters of A-Z, a-z, 0-9, _ and -",
            ));
        }
        let subject = subject.map_or(DEFAULT_SUBJECT, str::trim).to_owned();
        let tokens_ok = subject.split('.').all(|t| {
            !t.is_empty()
                && t.chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
        });
        if subject.len() > 128 || !tokens_ok {
            return Err(invalid(
                "HALLMARK_NATS_SUBJECT",
                "dot-separated tokens of A-Z, a-z, 0-9, _ and - (no wildcards), at most 128 characters",
            ));
        }
        if let Some(path) = &credentials {
            if !path.is_file() {
                return Err(invalid(
                    "HALLMARK_NATS_CREDENTIALS",
                    "is not a readable file",
                ));
            }
        }
        Ok(NatsSettings {
            url: url.trim().to_owned(),
            credentials,
            stream,
            subject,
        })
    }

    /// The subject of an event of type `kind`.
    #[must_use]
    pub fn subject_of(&self, kind: &str) -> String {
        format!("{}.{kind}", self.subject)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn settings_are_checked_naming_the_variable() {
        let ok = NatsSettings::parse("nats://127.0.0.1:4222", None, None, None).unwrap();
        assert_eq!(ok.stream, DEFAULT_STREAM);
        assert_eq!(
            ok.subject_of("eu.dpp.passport.published"),
            "hallmark.events.eu.dpp.passport.published"
        );
        for (url, stream, subject, var) in [
            ("http://x:4222", None, None, "HALLMARK_NATS_URL"),
            ("nats://", None, None, "HALLMARK_NATS_URL"),
            ("nats://a:1,ftp://b", None, None, "HALLMARK_NATS_URL"),
            ("nats://a:1", Some("bad name"), None, "HALLMARK_NATS_STREAM"),
            (
                "nats://a:1",
                None,
                Some("events.>"),
                "HALLMARK_NATS_SUBJECT",
            ),
            ("nats://a:1", None, Some("a..b"), "HALLMARK_NATS_SUBJECT"),
        ] {
            let e = NatsSettings::parse(url, None, stream, subject).unwrap_err();
            assert!(e.to_string().starts_with(var), "{url}: {e}");
        }
        let e = NatsSettings::parse(
            "tls://a:1",
            Some(PathBuf::from("/nonexistent/x.creds")),
            None,
            None,
        )
        .unwrap_err();
        assert!(
            e.to_string().starts_with("HALLMARK_NATS_CREDENTIALS"),
            "{e}"
        );
    }
}
