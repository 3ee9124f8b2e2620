//! The DID resolution port: how the verifier obtains the controller document of a
//! verification method, without I/O.
//!
//! [`ResolveDid`] is the port; [`Resolver`] is the built-in adapter: `did:key`, when the
//! caller enables it, is resolved here from the identifier alone ([`crate::did_key`]); any
//! other DID (did:web) only from a document the caller supplies — a caller that fetches (the
//! CLI over HTTPS, the node from its store) does so before verifying and passes the result in.
//!
//! did:key is opt-in because any key is its own did:key: a caller that pins the issuer's
//! document (the node checking what it serves against its own keys, a verifier given
//! `--did-document`) must not accept a credential self-issued by an arbitrary did:key.

pub use crate::did::did_of;
use crate::did::DidDocument;
use crate::did_key::{DidKey, DidKeyError, DID_KEY_PREFIX};
use std::borrow::Cow;

/// Why no controller document was obtained for a DID.
#[derive(Debug, thiserror::Error, Clone, PartialEq, Eq)]
pub enum ResolveError {
    /// Not an absolute DID URL (e.g. a relative `#fragment` or an https URL).
    #[error("{0:?} is not a DID URL")]
    NotADid(String),
    /// A did:key that is not a valid Ed25519 did:key.
    #[error("{did}: {source}")]
    DidKey {
        /// The DID.
        did: String,
        /// What is wrong with it.
        source: DidKeyError,
    },
    /// A did:key, when the resolver was not asked to resolve did:key.
    #[error("{0}: did:key resolution is not enabled here (the issuer's document was pinned)")]
    DidKeyDisabled(String),
    /// A DID that is not resolved in core and whose document was not supplied.
    #[error("no DID document for {did} was supplied{}", given_note(supplied))]
    NotSupplied {
        /// The DID asked for.
        did: String,
        /// The ids of the documents that were supplied.
        supplied: Vec<String>,
    },
}

fn given_note(supplied: &[String]) -> String {
    if supplied.is_empty() {
        String::new()
    } else {
        format!(" (given: {})", supplied.join(", "))
    }
}

/// The port through which the verifier obtains a controller document.
pub trait ResolveDid {
    /// The DID document of `did` (a bare DID, no fragment).
    fn resolve(&self, did: &str) -> Result<Cow<'_, DidDocument>, ResolveError>;
}

/// did:key built in (when enabled); every other DID from the documents the caller supplied
/// (matched by their `id`).
#[derive(Debug, Clone, Copy, Default)]
pub struct Resolver<'a> {
    supplied: &'a [DidDocument],
    did_key: bool,
}

impl<'a> Resolver<'a> {
    /// A resolver of did:key only.
    pub fn did_key_only() -> Self {
        Resolver {
            supplied: &[],
            did_key: true,
        }
    }

    /// A resolver of the DIDs of these documents only (did:key not enabled).
    pub fn with_documents(supplied: &'a [DidDocument]) -> Self {
        Resolver {
            supplied,
            did_key: false,
        }
    }

    /// A resolver of this one document's DID only (did:key not enabled): what
    /// [`crate::verify::verify_with`] uses, so a pinned document stays the only trust root.
    pub fn with_document(document: &'a DidDocument) -> Self {
        Self::with_documents(std::slice::from_ref(document))
    }

    /// The same, also resolving did:key in core.
    pub fn and_did_key(self) -> Self {
        Resolver {
            did_key: true,
            ..self
        }
    }
}

impl ResolveDid for Resolver<'_> {
    fn resolve(&self, did: &str) -> Result<Cow<'_, DidDocument>, ResolveError> {
        if !did.starts_with("did:") || did.contains(['#', '?', '/']) {
            return Err(ResolveError::NotADid(did.to_string()));
        }
        if did.starts_with(DID_KEY_PREFIX) {
            if !self.did_key {
                return Err(ResolveError::DidKeyDisabled(did.to_string()));
            }
            return DidKey::parse(did)
                .map(|k| Cow::Owned(k.document()))
                .map_err(|source| ResolveError::DidKey {
                    did: did.to_string(),
                    source,
                });
        }
        self.supplied
            .iter()
            .find(|d| d.id == did)
            .map(Cow::Borrowed)
            .ok_or_else(|| ResolveError::NotSupplied {
                did: did.to_string(),
                supplied: self.supplied.iter().map(|d| d.id.clone()).collect(),
            })
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;
    use crate::did::{DidWeb, KeyStatus, PublishedKey};
    use ed25519_dalek::SigningKey;

    #[test]
    fn did_key_in_core_did_web_only_when_supplied() {
        let k = SigningKey::from_bytes(&[3; 32]).verifying_key();
        let dk = DidKey::of(&k);
        let r = Resolver::did_key_only();
        assert_eq!(r.resolve(dk.as_str()).unwrap().into_owned(), dk.document());
        let web = DidWeb::from_base_url("https://dpp.example.com").unwrap();
        let doc = DidDocument::build(
            &web,
            &[PublishedKey {
                public_key: k,
                status: KeyStatus::Current,
            }],
        );
        assert_eq!(
            r.resolve(web.as_str()),
            Err(ResolveError::NotSupplied {
                did: web.as_str().into(),
                supplied: vec![]
            })
        );
        let pinned = Resolver::with_document(&doc);
        assert_eq!(*pinned.resolve(web.as_str()).unwrap(), doc);
        assert_eq!(
            pinned.resolve(dk.as_str()),
            Err(ResolveError::DidKeyDisabled(dk.as_str().into()))
        );
        let r = Resolver::with_document(&doc).and_did_key();
        assert_eq!(*r.resolve(web.as_str()).unwrap(), doc);
        // A supplied document never answers for another DID, did:key still resolves.
        let err = r.resolve("did:web:evil.example").unwrap_err();
        assert_eq!(
            err.to_string(),
            "no DID document for did:web:evil.example was supplied (given: did:web:dpp.example.com)"
        );
        assert!(r.resolve(dk.as_str()).is_ok());
        for bad in ["#key-1", "https://dpp.example.com", ""] {
            assert!(
                matches!(r.resolve(bad), Err(ResolveError::NotADid(_))),
                "{bad}"
            );
        }
        assert!(matches!(
            r.resolve(&dk.method_id()),
            Err(ResolveError::NotADid(_))
        ));
        assert!(matches!(
            r.resolve("did:key:z123"),
            Err(ResolveError::DidKey { .. })
        ));
        assert_eq!(did_of(&dk.method_id()), dk.as_str());
        assert_eq!(did_of("did:web:a.example#k"), "did:web:a.example");
    }
}
