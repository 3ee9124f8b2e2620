//! did:web identifiers and DID documents.
//!
//! The operator's DID is derived from the node's public base URL following the did:web
//! method specification: the host is the method-specific id, a port is percent-encoded
//! (`%3A`), and path segments become `:`-separated components.
//!
//! | base URL | DID | document URL |
//! |---|---|---|
//! | `https://example.com` | `did:web:example.com` | `https://example.com/.well-known/did.json` |
//! | `https://example.com:8443` | `did:web:example.com%3A8443` | `https://example.com:8443/.well-known/did.json` |
//! | `https://example.com/dpp/acme` | `did:web:example.com:dpp:acme` | `https://example.com/dpp/acme/did.json` |
//!
//! The DID document lists every key that is *current* or *retired* as a `Multikey`
//! verification method referenced from `assertionMethod`, so credentials signed before a
//! rotation keep verifying. A *revoked* key is absent: verifiers stop trusting it. The
//! fragment of each verification method is the key's Multikey encoding ([`KeyId`]), stable
//! across rotations.

use crate::keys::{decode_public_key_multibase, public_key_multibase, KeyError, KeyId};
use ed25519_dalek::VerifyingKey;
use serde::{Deserialize, Serialize};
use std::fmt;

/// JSON-LD context of DID documents.
pub const DID_CONTEXT: &str = "https://www.w3.org/ns/did/v1";
/// JSON-LD context of the Multikey verification method type.
pub const MULTIKEY_CONTEXT: &str = "https://w3id.org/security/multikey/v1";
/// The prefix of every did:web DID.
pub const DID_WEB_PREFIX: &str = "did:web:";

/// Errors building or parsing DIDs and DID documents.
#[derive(Debug, thiserror::Error, Clone, PartialEq, Eq)]
pub enum DidError {
    /// The base URL is not a usable did:web origin.
    #[error("invalid base URL {url:?}: {reason}")]
    BaseUrl {
        /// The offending URL.
        url: String,
        /// Why it is refused.
        reason: &'static str,
    },
    /// Not a `did:web:` identifier or malformed.
    #[error("invalid did:web identifier {did:?}: {reason}")]
    Did {
        /// The offending DID.
        did: String,
        /// Why it is refused.
        reason: &'static str,
    },
    /// A verification method's key could not be decoded.
    #[error("verification method {id}: {source}")]
    Key {
        /// The method id.
        id: String,
        /// The decoding error.
        source: KeyError,
    },
    /// A verification method of a type Hallmark does not accept.
    #[error("verification method {id}: unsupported type {kind:?}")]
    UnsupportedMethod {
        /// The method id.
        id: String,
        /// Its type.
        kind: String,
    },
}

/// The DID of a DID URL: everything before its path, query or fragment.
pub fn did_of(url: &str) -> &str {
    let end = url.find(['#', '?', '/']).unwrap_or(url.len());
    &url[..end]
}

/// A did:web identifier.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct DidWeb {
    did: String,
    host: String,
    port: Option<u16>,
    path: Vec<String>,
}

impl DidWeb {
    /// Derive the DID from the node's public base URL (`https://host[:port][/path]`).
    ///
    /// `http://` is accepted only for `localhost` and `127.0.0.1` (development); the did:web
    /// method itself always resolves over https, so such a DID is for local testing only.
    pub fn from_base_url(url: &str) -> Result<Self, DidError> {
        let bad = |reason| DidError::BaseUrl {
            url: url.to_string(),
            reason,
        };
        let (rest, secure) = if let Some(r) = url.strip_prefix("https://") {
            (r, true)
        } else if let Some(r) = url.strip_prefix("http://") {
            (r, false)
        } else {
            return Err(bad("must start with https://"));
        };
        let rest = rest.trim_end_matches('/');
        let (authority, path) = match rest.split_once('/') {
            Some((a, p)) => (a, p),
            None => (rest, ""),
        };
        if authority.contains('@') || rest.contains(['?', '#']) {
            return Err(bad("must not contain user info, query or fragment"));
        }
        let (host, port) = match authority.rsplit_once(':') {
            Some((h, p)) => {
                let port: u16 = p.parse().map_err(|_| bad("invalid port"))?;
                (h, Some(port))
            }
            None => (authority, None),
        };
        validate_host(host).map_err(bad)?;
        if !secure && host != "localhost" && host != "127.0.0.1" {
            return Err(bad("http:// is only allowed for localhost; use https://"));
        }
        let segments: Vec<String> = if path.is_empty() {
            Vec::new()
        } else {
            path.split('/').map(str::to_string).collect()
        };
        for s in &segments {
            if s.is_empty() || !s.bytes().all(is_path_char) {
                return Err(bad(
                    "path segments must be non-empty and use [A-Za-z0-9._~-]",
                ));
            }
        }
        Ok(Self::assemble(host.to_ascii_lowercase(), port, segments))
    }

    /// Parse a `did:web:` identifier.
    pub fn parse(did: &str) -> Result<Self, DidError> {
        let bad = |reason| DidError::Did {
            did: did.to_string(),
            reason,
        };
        let msid = did
            .strip_prefix(DID_WEB_PREFIX)
            .ok_or(bad("must start with did:web:"))?;
        let mut parts = msid.split(':');
        let authority = parts.next().unwrap_or_default();
        let (host, port) = match authority
            .split_once("%3A")
            .or_else(|| authority.split_once("%3a"))
        {
            Some((h, p)) => (h, Some(p.parse::<u16>().map_err(|_| bad("invalid port"))?)),
            None => (authority, None),
        };
        validate_host(host).map_err(bad)?;
        if host.bytes().any(|b| b.is_ascii_uppercase()) {
            return Err(bad("host must be lowercase"));
        }
        let segments: Vec<String> = parts.map(str::to_string).collect();
        for s in &segments {
            if s.is_empty() || !s.bytes().all(is_path_char) {
                return Err(bad("invalid path component"));
            }
        }
        Ok(Self::assemble(host.to_string(), port, segments))
    }

    fn assemble(host: String, port: Option<u16>, path: Vec<String>) -> Self {
        let mut did = format!("did:web:{host}");
        if let Some(p) = port {
            did.push_str(&format!("%3A{p}"));
        }
        for s in &path {
            did.push(':');
            did.push_str(s);
        }
        DidWeb {
            did,
            host,
            port,
            path,
        }
    }

    /// The DID as text.
    pub fn as_str(&self) -> &str {
        &self.did
    }

    /// Where the did:web method resolves this DID's document (always https).
    pub fn document_url(&self) -> String {
        let mut url = format!("https://{}", self.host);
        if let Some(p) = self.port {
            url.push_str(&format!(":{p}"));
        }
        if self.path.is_empty() {
            url.push_str("/.well-known/did.json");
        } else {
            for s in &self.path {
                url.push('/');
                url.push_str(s);
            }
            url.push_str("/did.json");
        }
        url
    }

    /// The HTTP path (below the origin) where the node serves the document.
    pub fn document_path(&self) -> String {
        if self.path.is_empty() {
            "/.well-known/did.json".to_string()
        } else {
            format!("/{}/did.json", self.path.join("/"))
        }
    }

    /// The DID URL of a key: `<did>#<key id>`.
    pub fn key_url(&self, key: &KeyId) -> String {
        format!("{}#{}", self.did, key)
    }
}

impl fmt::Display for DidWeb {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.did)
    }
}

impl TryFrom<String> for DidWeb {
    type Error = DidError;
    fn try_from(s: String) -> Result<Self, DidError> {
        DidWeb::parse(&s)
    }
}

impl From<DidWeb> for String {
    fn from(d: DidWeb) -> String {
        d.did
    }
}

fn is_path_char(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~')
}

fn validate_host(host: &str) -> Result<(), &'static str> {
    if host.is_empty() || host.len() > 253 {
        return Err("host must be 1 to 253 characters");
    }
    let ok = host.split('.').all(|label| {
        !label.is_empty()
            && label.len() <= 63
            && !label.starts_with('-')
            && !label.ends_with('-')
            && label
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-')
    });
    if ok {
        Ok(())
    } else {
        Err("host must be a DNS name or IPv4 address")
    }
}

/// Lifecycle status of a signing key, as far as verifiers are concerned.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum KeyStatus {
    /// Signs new credentials.
    Current,
    /// No longer signs; credentials it signed still verify.
    Retired,
    /// Compromised or withdrawn: no longer trusted for anything.
    Revoked,
}

/// A public key and its status, input to [`DidDocument::build`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PublishedKey {
    /// The Ed25519 public key.
    pub public_key: VerifyingKey,
    /// Its status.
    pub status: KeyStatus,
}

/// A verification method in a DID document.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct VerificationMethod {
    /// DID URL of the method.
    pub id: String,
    /// `Multikey` (what Hallmark publishes) or `JsonWebKey` (accepted when verifying).
    #[serde(rename = "type")]
    pub kind: String,
    /// The DID controlling the key.
    pub controller: String,
    /// Multikey encoding of the public key.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub public_key_multibase: Option<String>,
    /// JWK of the public key (`OKP`/`Ed25519`), for documents published by others.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub public_key_jwk: Option<serde_json::Value>,
}

impl VerificationMethod {
    /// The Ed25519 public key this method publishes.
    pub fn public_key(&self) -> Result<VerifyingKey, DidError> {
        let key_err = |source| DidError::Key {
            id: self.id.clone(),
            source,
        };
        match (
            self.kind.as_str(),
            &self.public_key_multibase,
            &self.public_key_jwk,
        ) {
            ("Multikey" | "Ed25519VerificationKey2020", Some(mb), _) => {
                decode_public_key_multibase(mb).map_err(key_err)
            }
            ("JsonWebKey" | "JsonWebKey2020", _, Some(jwk)) => {
                let field = |k: &str| jwk.get(k).and_then(|v| v.as_str());
                if field("kty") != Some("OKP") || field("crv") != Some("Ed25519") {
                    return Err(key_err(KeyError::WrongCodec("public")));
                }
                use base64::Engine as _;
                let x = field("x").unwrap_or_default();
                let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
                    .decode(x)
                    .map_err(|_| key_err(KeyError::Base58))?;
                let raw: [u8; 32] = bytes
                    .as_slice()
                    .try_into()
                    .map_err(|_| key_err(KeyError::Length(bytes.len())))?;
                VerifyingKey::from_bytes(&raw).map_err(|_| key_err(KeyError::InvalidPoint))
            }
            (kind, _, _) => Err(DidError::UnsupportedMethod {
                id: self.id.clone(),
                kind: kind.to_string(),
            }),
        }
    }
}

/// A DID document (the subset Hallmark publishes and reads).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DidDocument {
    /// JSON-LD contexts.
    #[serde(rename = "@context")]
    pub context: Vec<String>,
    /// The DID.
    pub id: String,
    /// Every trusted key.
    #[serde(default)]
    pub verification_method: Vec<VerificationMethod>,
    /// Methods authorised to issue credentials (references by DID URL).
    #[serde(default)]
    pub assertion_method: Vec<serde_json::Value>,
    /// Methods authorised to authenticate as the DID (did:key documents list their key;
    /// Hallmark's did:web documents leave it out).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub authentication: Vec<serde_json::Value>,
    /// Methods authorised to invoke capabilities (as `authentication`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub capability_invocation: Vec<serde_json::Value>,
    /// Methods authorised to delegate capabilities (as `authentication`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub capability_delegation: Vec<serde_json::Value>,
}

impl DidDocument {
    /// Build the operator's DID document: current keys first, then retired ones, each in the
    /// order given; revoked keys are left out.
    pub fn build(did: &DidWeb, keys: &[PublishedKey]) -> Self {
        let ordered = keys
            .iter()
            .filter(|k| k.status == KeyStatus::Current)
            .chain(keys.iter().filter(|k| k.status == KeyStatus::Retired));
        let mut methods: Vec<VerificationMethod> = Vec::new();
        for k in ordered {
            let id = did.key_url(&KeyId::of(&k.public_key));
            if methods.iter().any(|m| m.id == id) {
                continue;
            }
            methods.push(VerificationMethod {
                id,
                kind: "Multikey".to_string(),
                controller: did.as_str().to_string(),
                public_key_multibase: Some(public_key_multibase(&k.public_key)),
                public_key_jwk: None,
            });
        }
        DidDocument {
            context: vec![DID_CONTEXT.to_string(), MULTIKEY_CONTEXT.to_string()],
            id: did.as_str().to_string(),
            assertion_method: methods
                .iter()
                .map(|m| serde_json::Value::String(m.id.clone()))
                .collect(),
            verification_method: methods,
            authentication: Vec::new(),
            capability_invocation: Vec::new(),
            capability_delegation: Vec::new(),
        }
    }

    /// Parse a DID document from JSON (strict: duplicate member names refused).
    pub fn from_json(bytes: &[u8]) -> Result<Self, String> {
        let v = crate::jcs::parse_strict(bytes).map_err(|e| e.to_string())?;
        serde_json::from_value(v).map_err(|e| format!("not a DID document: {e}"))
    }

    /// Find a verification method by its DID URL (absolute, or relative `#fragment`).
    pub fn verification_method(&self, id: &str) -> Option<&VerificationMethod> {
        self.verification_method
            .iter()
            .find(|m| self.absolute(&m.id) == self.absolute(id))
    }

    /// Whether a method is referenced (or embedded) in `assertionMethod`.
    pub fn is_assertion_method(&self, id: &str) -> bool {
        self.references(&self.assertion_method, id)
    }

    /// Whether a method is referenced (or embedded) in `authentication` (what a
    /// presentation's proof needs).
    pub fn is_authentication(&self, id: &str) -> bool {
        self.references(&self.authentication, id)
    }

    /// Whether a verification relationship references (or embeds) the method `id`.
    fn references(&self, relationship: &[serde_json::Value], id: &str) -> bool {
        let want = self.absolute(id);
        relationship.iter().any(|entry| match entry {
            serde_json::Value::String(s) => self.absolute(s) == want,
            serde_json::Value::Object(o) => o
                .get("id")
                .and_then(|v| v.as_str())
                .is_some_and(|s| self.absolute(s) == want),
            _ => false,
        })
    }

    fn absolute(&self, id: &str) -> String {
        if id.starts_with('#') {
            format!("{}{}", self.id, id)
        } else {
            id.to_string()
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;
    use ed25519_dalek::SigningKey;

    #[test]
    fn did_web_from_base_urls() {
        let cases = [
            (
                "https://example.com",
                "did:web:example.com",
                "https://example.com/.well-known/did.json",
            ),
            (
                "https://Example.COM/",
                "did:web:example.com",
                "https://example.com/.well-known/did.json",
            ),
            (
                "https://example.com:8443",
                "did:web:example.com%3A8443",
                "https://example.com:8443/.well-known/did.json",
            ),
            (
                "https://example.com/dpp/acme",
                "did:web:example.com:dpp:acme",
                "https://example.com/dpp/acme/did.json",
            ),
            (
                "http://localhost:8080",
                "did:web:localhost%3A8080",
                "https://localhost:8080/.well-known/did.json",
            ),
        ];
        for (url, did, doc) in cases {
            let d = DidWeb::from_base_url(url).unwrap();
            assert_eq!(d.as_str(), did, "{url}");
            assert_eq!(d.document_url(), doc, "{url}");
            assert_eq!(DidWeb::parse(did).unwrap(), d, "{did}");
        }
        assert_eq!(
            DidWeb::from_base_url("https://example.com/dpp")
                .unwrap()
                .document_path(),
            "/dpp/did.json"
        );
    }

    #[test]
    fn did_web_rejects_bad_input() {
        for url in [
            "ftp://example.com",
            "http://example.com",
            "https://",
            "https://user@example.com",
            "https://example.com:99999",
            "https://exa mple.com",
            "https://example.com/a//b",
            "https://example.com/a?b",
            "https://-bad.com",
        ] {
            assert!(DidWeb::from_base_url(url).is_err(), "{url}");
        }
        for did in [
            "did:key:z6Mk",
            "did:web:",
            "did:web:Example.com",
            "did:web:a.com%3Ax",
            "did:web:a.com::b",
        ] {
            assert!(DidWeb::parse(did).is_err(), "{did}");
        }
    }

    #[test]
    fn document_lists_current_and_retired_but_not_revoked() {
        let did = DidWeb::from_base_url("https://example.com").unwrap();
        let k = |b: u8| SigningKey::from_bytes(&[b; 32]).verifying_key();
        let doc = DidDocument::build(
            &did,
            &[
                PublishedKey {
                    public_key: k(1),
                    status: KeyStatus::Retired,
                },
                PublishedKey {
                    public_key: k(2),
                    status: KeyStatus::Revoked,
                },
                PublishedKey {
                    public_key: k(3),
                    status: KeyStatus::Current,
                },
            ],
        );
        let ids: Vec<_> = doc
            .verification_method
            .iter()
            .map(|m| m.id.clone())
            .collect();
        assert_eq!(
            ids,
            vec![
                did.key_url(&KeyId::of(&k(3))),
                did.key_url(&KeyId::of(&k(1)))
            ]
        );
        assert!(doc.is_assertion_method(&ids[0]));
        assert!(doc.is_assertion_method(&ids[1]));
        assert!(doc
            .verification_method(&did.key_url(&KeyId::of(&k(2))))
            .is_none());
        assert_eq!(
            doc.verification_method(&ids[1])
                .unwrap()
                .public_key()
                .unwrap(),
            k(1)
        );
        // Stable ids: rotating in a new key does not change existing ids.
        let doc2 = DidDocument::build(
            &did,
            &[
                PublishedKey {
                    public_key: k(1),
                    status: KeyStatus::Retired,
                },
                PublishedKey {
                    public_key: k(3),
                    status: KeyStatus::Retired,
                },
                PublishedKey {
                    public_key: k(4),
                    status: KeyStatus::Current,
                },
            ],
        );
        assert!(doc2.verification_method(&ids[0]).is_some());
        assert!(doc2.verification_method(&ids[1]).is_some());
        let json = serde_json::to_vec(&doc).unwrap();
        assert_eq!(DidDocument::from_json(&json).unwrap(), doc);
    }
}
