//! did:web resolution for the verification service (docs/verify.md, "Verification
//! service"): a DID document fetched from the DID's own https location, only from a host the
//! operator listed (`HALLMARK_VERIFY_DID_WEB_ALLOWED_HOSTS`, [`DidWebSettings`]), never from
//! an address that is not public.
//!
//! The node fetches on an anonymous client's behalf, so the fetch is a request-forgery
//! surface and is held to:
//!
//! - **the allow-list**, checked on the DID's host before any name lookup;
//! - **public addresses only**: every address the host resolves to is checked
//!   (`outbound::resolve_public`: loopback, private, link-local, unspecified, multicast,
//!   reserved and IPv4-embedding IPv6 forms refused), and the connection goes to the checked
//!   address, never to a second lookup's (DNS rebinding);
//! - **https, no redirects** (a 3xx answer is a failure), a time bound and a size bound
//!   on the answer, and at most [`CONCURRENT_FETCHES`] fetches at a time on the node.

use crate::config::DidWebSettings;
use crate::outbound::{self, FetchError, Outgoing, Target};
use hallmark_core::did::{DidDocument, DidWeb};
use tokio::sync::Semaphore;

/// Fetches under way at once, over all requests.
pub const CONCURRENT_FETCHES: usize = 16;

static FETCHES: Semaphore = Semaphore::const_new(CONCURRENT_FETCHES);

/// Why no DID document was obtained for a did:web.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DidWebError {
    /// The node fetches no did:web document (no host configured).
    #[error("{did}: did:web resolution is not enabled on this node (HALLMARK_VERIFY_DID_WEB_ALLOWED_HOSTS is empty)")]
    Disabled {
        /// The DID.
        did: String,
    },
    /// Not a valid did:web.
    #[error("{did}: not a valid did:web ({reason})")]
    Invalid {
        /// The DID.
        did: String,
        /// What is wrong.
        reason: String,
    },
    /// The DID's host is not listed.
    #[error("{did}: the host {host:?} is not in HALLMARK_VERIFY_DID_WEB_ALLOWED_HOSTS")]
    NotAllowed {
        /// The DID.
        did: String,
        /// Its host.
        host: String,
    },
    /// The fetch was refused (an address that is not public) or failed.
    #[error("{did}: {detail}")]
    Fetch {
        /// The DID.
        did: String,
        /// What happened (the URL and why).
        detail: String,
    },
    /// The answer is not the DID's document.
    #[error("{did}: {url} did not answer its DID document: {detail}")]
    Document {
        /// The DID.
        did: String,
        /// Where it was fetched from.
        url: String,
        /// What is wrong.
        detail: String,
    },
}

/// The DID document of `did` (a did:web) under `settings`, with the URL it came from.
pub async fn fetch(
    settings: &DidWebSettings,
    did: &str,
) -> Result<(DidDocument, String), DidWebError> {
    if !settings.enabled() {
        return Err(DidWebError::Disabled { did: did.into() });
    }
    let web = DidWeb::parse(did).map_err(|e| DidWebError::Invalid {
        did: did.into(),
        reason: e.to_string(),
    })?;
    let url = web.document_url();
    let target = Target::parse(&url).map_err(|e| DidWebError::Invalid {
        did: did.into(),
        reason: e.to_string(),
    })?;
    if !settings.allows(&target.host) {
        return Err(DidWebError::NotAllowed {
            did: did.into(),
            host: target.host.clone(),
        });
    }
    let failed = |e: FetchError| DidWebError::Fetch {
        did: did.into(),
        detail: e.to_string(),
    };
    let _permit = FETCHES.acquire().await.map_err(|e| DidWebError::Fetch {
        did: did.into(),
        detail: e.to_string(),
    })?;
    let addr = outbound::resolve_public(&target, settings.timeout)
        .await
        .map_err(failed)?;
    let request = Outgoing::get(&target, "application/did+json, application/json");
    let answer = outbound::send_to(&request, addr, settings.timeout, settings.max_bytes)
        .await
        .map_err(failed)?;
    let document = |detail: String| DidWebError::Document {
        did: did.into(),
        url: url.clone(),
        detail,
    };
    match answer.status {
        200 => {}
        300..=399 => {
            return Err(document(format!(
                "answered HTTP {} (redirects are not followed)",
                answer.status
            )))
        }
        s => return Err(document(format!("answered HTTP {s}"))),
    }
    let doc = DidDocument::from_json(&answer.body).map_err(document)?;
    if doc.id != did {
        return Err(document(format!("its id is {:?}", doc.id)));
    }
    Ok((doc, url))
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn rt() -> tokio::runtime::Runtime {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap()
    }

    #[test]
    fn refused_before_any_connection() {
        let rt = rt();
        let off = DidWebSettings::default();
        assert!(matches!(
            rt.block_on(fetch(&off, "did:web:example.com")),
            Err(DidWebError::Disabled { .. })
        ));
        let on = DidWebSettings::allowing(&["issuer.example", "127.0.0.1", "localhost"]);
        assert!(matches!(
            rt.block_on(fetch(&on, "did:web:other.example")),
            Err(DidWebError::NotAllowed { .. })
        ));
        assert!(matches!(
            rt.block_on(fetch(&on, "did:key:z6Mk")),
            Err(DidWebError::Invalid { .. })
        ));
        for did in ["did:web:127.0.0.1", "did:web:localhost%3A8443"] {
            let e = rt.block_on(fetch(&on, did)).unwrap_err();
            assert!(e.to_string().contains("not a public address"), "{did}: {e}");
        }
    }
}
