//! Webhook settings (issue 21; docs/events.md, "Webhooks"; docs/configuration.md,
//! "Events"): where deliveries may go (`HALLMARK_WEBHOOK_ALLOWED_HOSTS`) and the retry
//! schedule. The dispatcher and the use-cases are `crate::webhooks` and
//! `crate::service::webhooks`.

use crate::outbound::Target;
use hallmark_core::webhook::Schedule;

/// The webhooks' settings: the destinations allowed and the retry schedule.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WebhookSettings {
    /// Hosts deliveries may go to (lower case; names or IP literals, IPv6 bracketed as in
    /// URLs), any port.
    pub allowed_hosts: Vec<String>,
    /// Development: plain `http://` to a loopback host without listing it.
    pub allow_loopback: bool,
    /// Retries, the cap, the giving up and each attempt's time bound.
    pub schedule: Schedule,
}

impl Default for WebhookSettings {
    /// Nothing allowed (a node configured without `HALLMARK_WEBHOOK_ALLOWED_HOSTS` in
    /// production); the default schedule.
    fn default() -> Self {
        WebhookSettings {
            allowed_hosts: Vec::new(),
            allow_loopback: false,
            schedule: Schedule::default(),
        }
    }
}

/// Why a destination was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DestinationError {
    /// Not an absolute http(s) URL, or one with credentials or a fragment.
    #[error("`url` must be an absolute https:// URL without user name, password or fragment")]
    Url,
    /// Plain http to a host that is not loopback.
    #[error("`url` must be https:// (plain http:// only to a loopback address)")]
    PlainHttp,
    /// A host the operator did not allow.
    #[error("the host {host:?} is not in HALLMARK_WEBHOOK_ALLOWED_HOSTS (the hosts webhooks may be sent to)")]
    NotAllowed {
        /// The host.
        host: String,
    },
}

fn is_loopback(host: &str) -> bool {
    let bare = host.trim_start_matches('[').trim_end_matches(']');
    host == "localhost"
        || bare
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

impl WebhookSettings {
    /// Whether deliveries may go to `url`; the parsed target if so.
    pub fn check_destination(&self, url: &str) -> Result<Target, DestinationError> {
        let parsed = url::Url::parse(url).map_err(|_| DestinationError::Url)?;
        if !parsed.username().is_empty()
            || parsed.password().is_some()
            || parsed.fragment().is_some()
            || url.len() > 2048
        {
            return Err(DestinationError::Url);
        }
        let target = Target::parse(url).map_err(|_| DestinationError::Url)?;
        let loopback = is_loopback(&target.host);
        if !target.https && !loopback {
            return Err(DestinationError::PlainHttp);
        }
        let listed = self.allowed_hosts.contains(&target.host);
        if listed || (loopback && self.allow_loopback) {
            Ok(target)
        } else {
            Err(DestinationError::NotAllowed {
                host: target.host.clone(),
            })
        }
    }

    /// The allowed hosts from the setting's entries (trimmed, lower case); an entry that is
    /// not a bare host (a scheme, a path, a port, spaces) is refused by name.
    pub fn parse_hosts(entries: &[String]) -> Result<Vec<String>, String> {
        let mut hosts = Vec::new();
        for entry in entries {
            let e = entry.trim().to_ascii_lowercase();
            if e.is_empty() {
                continue;
            }
            let parsed = url::Url::parse(&format!("https://{e}/")).ok();
            let host = parsed
                .as_ref()
                .and_then(|u| u.host_str().map(str::to_owned));
            match (parsed.as_ref().and_then(url::Url::port), host) {
                (None, Some(h)) if h == e => hosts.push(h),
                _ => return Err(entry.clone()),
            }
        }
        Ok(hosts)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn settings(hosts: &[&str], allow_loopback: bool) -> WebhookSettings {
        WebhookSettings {
            allowed_hosts: hosts.iter().map(|h| (*h).to_owned()).collect(),
            allow_loopback,
            schedule: Schedule::default(),
        }
    }

    #[test]
    fn destinations_are_https_to_listed_hosts_or_loopback() {
        let prod = settings(&["erp.example.com", "127.0.0.1"], false);
        assert!(prod
            .check_destination("https://erp.example.com/hooks")
            .is_ok());
        assert!(prod
            .check_destination("https://ERP.example.com:8443/h?x=1")
            .is_ok());
        assert!(prod.check_destination("http://127.0.0.1:9000/h").is_ok());
        assert_eq!(
            prod.check_destination("http://erp.example.com/h")
                .unwrap_err(),
            DestinationError::PlainHttp
        );
        assert!(matches!(
            prod.check_destination("https://other.example.com/h")
                .unwrap_err(),
            DestinationError::NotAllowed { .. }
        ));
        assert!(matches!(
            prod.check_destination("http://localhost:9000/h")
                .unwrap_err(),
            DestinationError::NotAllowed { .. }
        ));
        for bad in [
            "https://user:pw@erp.example.com/h",
            "https://erp.example.com/h#x",
            "ftp://erp.example.com/h",
            "erp.example.com/h",
            "",
        ] {
            assert_eq!(
                prod.check_destination(bad).unwrap_err(),
                DestinationError::Url,
                "{bad}"
            );
        }
        let dev = settings(&[], true);
        assert!(dev.check_destination("http://localhost:9000/h").is_ok());
        assert!(dev.check_destination("http://[::1]:9000/h").is_ok());
        assert!(dev.check_destination("http://127.0.0.2/h").is_ok());
        assert!(dev.check_destination("https://erp.example.com/h").is_err());
        assert!(dev.check_destination("http://10.0.0.1/h").is_err());
        assert!(WebhookSettings::default()
            .check_destination("http://127.0.0.1/h")
            .is_err());
    }

    #[test]
    fn allowed_hosts_are_bare_hosts() {
        let ok = |e: &[&str]| {
            WebhookSettings::parse_hosts(&e.iter().map(|s| (*s).to_owned()).collect::<Vec<_>>())
        };
        assert_eq!(
            ok(&[" ERP.example.com ", "", "127.0.0.1", "[::1]"]).unwrap(),
            ["erp.example.com", "127.0.0.1", "[::1]"]
        );
        for bad in [
            "https://erp.example.com",
            "erp.example.com/x",
            "erp.example.com:443",
            "a b",
        ] {
            assert_eq!(ok(&[bad]).unwrap_err(), bad);
        }
    }
}
