//! did:web resolution by the verification service (`crate::service::verification`;
//! docs/verify.md, "Verification service"; docs/configuration.md, "Verification service"):
//! which hosts the node may fetch a DID document from on a client's behalf
//! (`HALLMARK_VERIFY_DID_WEB_ALLOWED_HOSTS`), how long and how much. The fetching is
//! `crate::did_web`.

use super::WebhookSettings;
use std::time::Duration;

/// Bound on one DID document fetch (name lookup, connect, TLS, answer).
pub const DID_WEB_TIMEOUT: Duration = Duration::from_secs(5);
/// Largest DID document read (a document of a few keys is about a kilobyte).
pub const DID_WEB_MAX_BYTES: usize = 64 * 1024;

/// The verification service's did:web settings. With no host listed, did:web is not
/// fetched at all (only the node's own DID, from its own keys, and did:key resolve).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DidWebSettings {
    /// Hosts DID documents may be fetched from (lower case DNS names or IPv4 literals, as a
    /// did:web spells them), any port. Listing a host never admits an address that is not
    /// public: every address it resolves to is checked (`outbound::resolve_public`).
    pub allowed_hosts: Vec<String>,
    /// Bound on one fetch.
    pub timeout: Duration,
    /// Largest document read.
    pub max_bytes: usize,
}

impl Default for DidWebSettings {
    /// Nothing fetched.
    fn default() -> Self {
        DidWebSettings {
            allowed_hosts: Vec::new(),
            timeout: DID_WEB_TIMEOUT,
            max_bytes: DID_WEB_MAX_BYTES,
        }
    }
}

impl DidWebSettings {
    /// Settings fetching from these hosts, with the default bounds.
    pub fn allowing(hosts: &[&str]) -> DidWebSettings {
        DidWebSettings {
            allowed_hosts: hosts.iter().map(|h| h.to_ascii_lowercase()).collect(),
            ..DidWebSettings::default()
        }
    }

    /// Whether did:web documents are fetched at all.
    pub fn enabled(&self) -> bool {
        !self.allowed_hosts.is_empty()
    }

    /// Whether `host` (lower case) is listed.
    pub fn allows(&self, host: &str) -> bool {
        self.allowed_hosts.iter().any(|h| h == host)
    }

    /// The allowed hosts from the setting's entries: the same rule as
    /// `HALLMARK_WEBHOOK_ALLOWED_HOSTS` (bare hosts, trimmed, lower case); the entry that is
    /// not one is returned.
    pub fn parse_hosts(entries: &[String]) -> Result<Vec<String>, String> {
        WebhookSettings::parse_hosts(entries)
    }
}
