//! did:key identifiers (Ed25519 only) resolved to their DID documents, without I/O.
//!
//! Follows the W3C CCG did:key method v0.7 in its Multikey form: the method-specific id is
//! the multibase base58btc (`z…`) encoding of the multicodec `ed25519-pub` header
//! (`0xed 0x01`) followed by the 32 bytes of the public key, and the document is generated
//! from the identifier alone:
//!
//! ```json
//! {
//!   "@context": ["https://www.w3.org/ns/did/v1", "https://w3id.org/security/multikey/v1"],
//!   "id": "did:key:z6Mk…",
//!   "verificationMethod": [{
//!     "id": "did:key:z6Mk…#z6Mk…", "type": "Multikey",
//!     "controller": "did:key:z6Mk…", "publicKeyMultibase": "z6Mk…"
//!   }],
//!   "authentication": ["did:key:z6Mk…#z6Mk…"],
//!   "assertionMethod": ["did:key:z6Mk…#z6Mk…"],
//!   "capabilityInvocation": ["did:key:z6Mk…#z6Mk…"],
//!   "capabilityDelegation": ["did:key:z6Mk…#z6Mk…"]
//! }
//! ```
//!
//! The spec's optional X25519 key agreement method derived from the Ed25519 key is not
//! generated (Hallmark only verifies assertions with it).

use crate::did::{DidDocument, VerificationMethod, DID_CONTEXT, MULTIKEY_CONTEXT};
use ed25519_dalek::VerifyingKey;
use serde_json::Value;
use std::fmt;

/// The did:key method prefix.
pub const DID_KEY_PREFIX: &str = "did:key:";
/// Multicodec header of an Ed25519 public key (`ed25519-pub`, 0xed as varint).
pub const ED25519_PUB_HEADER: [u8; 2] = [0xed, 0x01];

/// Why a did:key identifier is refused.
#[derive(Debug, thiserror::Error, Clone, PartialEq, Eq)]
pub enum DidKeyError {
    /// Not a `did:key:` identifier.
    #[error("not a did:key identifier (must start with did:key:)")]
    NotDidKey,
    /// A DID URL (path, query or fragment) where a bare DID was expected.
    #[error("a did:key DID has no path, query or fragment; found {0:?}")]
    NotBareDid(char),
    /// The multibase prefix is not `z` (base58btc).
    #[error("wrong multibase: expected 'z' (base58btc), found {0:?}")]
    Multibase(char),
    /// Empty method-specific id.
    #[error("empty did:key method-specific id")]
    Empty,
    /// The value is not base58 (Bitcoin alphabet).
    #[error("invalid base58btc encoding")]
    Base58,
    /// The multicodec header is not `ed25519-pub` (0xed 0x01).
    #[error("unknown multicodec header {0}: only ed25519-pub (0xed01) is supported")]
    UnknownMulticodec(String),
    /// The key after the header is not 32 bytes.
    #[error("wrong length: an Ed25519 public key has 32 bytes, found {0}")]
    Length(usize),
    /// 32 bytes that are not a valid Ed25519 point.
    #[error("not a valid Ed25519 public key")]
    InvalidPoint,
}

/// A did:key identifier of an Ed25519 key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DidKey {
    did: String,
    key: VerifyingKey,
}

impl DidKey {
    /// Parse a bare `did:key:z…` DID (no fragment: see [`DidKey::of_did_url`]).
    pub fn parse(did: &str) -> Result<Self, DidKeyError> {
        let msid = did
            .strip_prefix(DID_KEY_PREFIX)
            .ok_or(DidKeyError::NotDidKey)?;
        if let Some(c) = msid.chars().find(|c| matches!(c, '#' | '?' | '/')) {
            return Err(DidKeyError::NotBareDid(c));
        }
        let mut chars = msid.chars();
        match chars.next() {
            None => return Err(DidKeyError::Empty),
            Some('z') => {}
            Some(other) => return Err(DidKeyError::Multibase(other)),
        }
        let bytes = bs58::decode(chars.as_str())
            .into_vec()
            .map_err(|_| DidKeyError::Base58)?;
        let raw = bytes.strip_prefix(&ED25519_PUB_HEADER).ok_or_else(|| {
            DidKeyError::UnknownMulticodec(format!(
                "0x{}",
                hex::encode(bytes.get(..2).unwrap_or(&bytes))
            ))
        })?;
        let raw: [u8; 32] = raw.try_into().map_err(|_| DidKeyError::Length(raw.len()))?;
        let key = VerifyingKey::from_bytes(&raw).map_err(|_| DidKeyError::InvalidPoint)?;
        Ok(DidKey {
            did: did.to_string(),
            key,
        })
    }

    /// The did:key of a DID URL such as a verification method id (`did:key:z…#z…`): the
    /// part before any fragment, query or path.
    pub fn of_did_url(url: &str) -> Result<Self, DidKeyError> {
        Self::parse(crate::did::did_of(url))
    }

    /// The did:key of an Ed25519 public key.
    pub fn of(key: &VerifyingKey) -> Self {
        DidKey {
            did: format!("{DID_KEY_PREFIX}{}", crate::keys::public_key_multibase(key)),
            key: *key,
        }
    }

    /// The DID as text.
    pub fn as_str(&self) -> &str {
        &self.did
    }

    /// The public key.
    pub fn public_key(&self) -> VerifyingKey {
        self.key
    }

    /// The multibase value (`z…`), i.e. the method-specific id and `publicKeyMultibase`.
    pub fn multibase(&self) -> &str {
        &self.did[DID_KEY_PREFIX.len()..]
    }

    /// The id of the one verification method: `did:key:z…#z…`.
    pub fn method_id(&self) -> String {
        format!("{}#{}", self.did, self.multibase())
    }

    /// The DID document the did:key method generates from the identifier.
    pub fn document(&self) -> DidDocument {
        let id = self.method_id();
        let refs = || vec![Value::String(id.clone())];
        DidDocument {
            context: vec![DID_CONTEXT.to_string(), MULTIKEY_CONTEXT.to_string()],
            id: self.did.clone(),
            verification_method: vec![VerificationMethod {
                id: id.clone(),
                kind: "Multikey".to_string(),
                controller: self.did.clone(),
                public_key_multibase: Some(self.multibase().to_string()),
                public_key_jwk: None,
            }],
            authentication: refs(),
            assertion_method: refs(),
            capability_invocation: refs(),
            capability_delegation: refs(),
        }
    }
}

impl fmt::Display for DidKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.did)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;
    use ed25519_dalek::SigningKey;

    /// The key of the W3C vc-di-eddsa vectors (keyPair.json).
    const VECTOR: &str = "did:key:z6MkrJVnaZkeFzdQyMZu1cgjg7k1pZZ6pvBQ7XJPt4swbTQ2";
    const VECTOR_MB: &str = "z6MkrJVnaZkeFzdQyMZu1cgjg7k1pZZ6pvBQ7XJPt4swbTQ2";

    fn z(bytes: &[u8]) -> String {
        format!("did:key:z{}", bs58::encode(bytes).into_string())
    }

    #[test]
    fn the_vector_key_resolves_to_its_document() {
        let d = DidKey::parse(VECTOR).unwrap();
        assert_eq!(d.as_str(), VECTOR);
        assert_eq!(d.multibase(), VECTOR_MB);
        assert_eq!(
            crate::keys::public_key_multibase(&d.public_key()),
            VECTOR_MB
        );
        let doc = d.document();
        let vm = format!("{VECTOR}#{VECTOR_MB}");
        let expected = serde_json::json!({
            "@context": ["https://www.w3.org/ns/did/v1", "https://w3id.org/security/multikey/v1"],
            "id": VECTOR,
            "verificationMethod": [{
                "id": vm, "type": "Multikey", "controller": VECTOR, "publicKeyMultibase": VECTOR_MB
            }],
            "authentication": [vm],
            "assertionMethod": [vm],
            "capabilityInvocation": [vm],
            "capabilityDelegation": [vm],
        });
        assert_eq!(serde_json::to_value(&doc).unwrap(), expected);
        assert!(doc.is_assertion_method(&vm));
        assert!(doc.is_assertion_method(&format!("#{VECTOR_MB}")));
        assert_eq!(
            doc.verification_method(&vm).unwrap().public_key().unwrap(),
            d.public_key()
        );
        // A key's own did:key round-trips.
        assert_eq!(DidKey::of(&d.public_key()), d);
        let k = SigningKey::from_bytes(&[7; 32]).verifying_key();
        assert_eq!(
            DidKey::parse(DidKey::of(&k).as_str()).unwrap().public_key(),
            k
        );
    }

    #[test]
    fn a_method_id_names_its_did() {
        let vm = format!("{VECTOR}#{VECTOR_MB}");
        assert_eq!(DidKey::of_did_url(&vm).unwrap().as_str(), VECTOR);
        assert_eq!(DidKey::of_did_url(VECTOR).unwrap().as_str(), VECTOR);
    }

    #[test]
    fn bad_identifiers_are_refused_with_what_is_wrong() {
        let key = *SigningKey::from_bytes(&[7; 32]).verifying_key().as_bytes();
        let with = |header: &[u8], body: &[u8]| {
            let mut v = header.to_vec();
            v.extend_from_slice(body);
            z(&v)
        };
        let upper_z = format!("did:key:Z{}", &VECTOR_MB[1..]);
        let cases: Vec<(String, DidKeyError)> = vec![
            ("did:web:example.com".into(), DidKeyError::NotDidKey),
            (VECTOR_MB.into(), DidKeyError::NotDidKey),
            ("did:key:".into(), DidKeyError::Empty),
            (upper_z, DidKeyError::Multibase('Z')),
            (
                format!("did:key:u{}", &VECTOR_MB[1..]),
                DidKeyError::Multibase('u'),
            ),
            ("did:key:z0OIl".into(), DidKeyError::Base58),
            (
                format!("{VECTOR}#{VECTOR_MB}"),
                DidKeyError::NotBareDid('#'),
            ),
            (format!("{VECTOR}/path"), DidKeyError::NotBareDid('/')),
            // X25519 (0xec01), secp256k1 (0xe701), the Ed25519 *private* header (0x8026).
            (
                with(&[0xec, 0x01], &key),
                DidKeyError::UnknownMulticodec("0xec01".into()),
            ),
            (
                with(&[0xe7, 0x01], &[2; 33]),
                DidKeyError::UnknownMulticodec("0xe701".into()),
            ),
            (
                with(&[0x80, 0x26], &key),
                DidKeyError::UnknownMulticodec("0x8026".into()),
            ),
            (
                with(&[0xed], &[]),
                DidKeyError::UnknownMulticodec("0xed".into()),
            ),
            // Truncated and over-long keys.
            (with(&[0xed, 0x01], &key[..31]), DidKeyError::Length(31)),
            (with(&[0xed, 0x01], &[]), DidKeyError::Length(0)),
            (
                with(&[0xed, 0x01], &[key.as_slice(), &[0]].concat()),
                DidKeyError::Length(33),
            ),
            // The vector's key with its last 3 bytes cut off.
            (
                z(&bs58::decode(&VECTOR_MB[1..]).into_vec().unwrap()[..31]),
                DidKeyError::Length(29),
            ),
        ];
        for (did, want) in cases {
            assert_eq!(DidKey::parse(&did), Err(want.clone()), "{did}");
            assert!(!DidKey::parse(&did).unwrap_err().to_string().is_empty());
        }
        // A point that does not decompress (y = 2 is not on the curve).
        let mut bad = [0u8; 32];
        bad[0] = 2;
        assert_eq!(
            DidKey::parse(&with(&[0xed, 0x01], &bad)),
            Err(DidKeyError::InvalidPoint)
        );
    }
}
