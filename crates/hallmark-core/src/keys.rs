//! Public-key encodings, stable key ids and the signing port.
//!
//! Keys are Ed25519. A public key is published as a W3C Multikey: `z` + base58btc of the
//! multicodec `ed25519-pub` (0xed 0x01) followed by the 32 key bytes. The key id used in
//! verification-method URLs is that Multikey string itself, so it is derived from the key
//! and never shifts when other keys are added, rotated or revoked.
//!
//! [`Signer`] is how the rest of Hallmark asks for a signature without ever holding private
//! key bytes: the key-custody crate implements it over an encrypted keystore or an HSM.

use ed25519_dalek::{Signature, SigningKey, VerifyingKey};
use std::cell::RefCell;
use std::collections::VecDeque;
use std::fmt;

const ED25519_PUB_MULTICODEC: [u8; 2] = [0xed, 0x01];
const ED25519_PRIV_MULTICODEC: [u8; 2] = [0x80, 0x26];

/// Errors decoding keys and signatures.
#[derive(Debug, thiserror::Error, Clone, PartialEq, Eq)]
pub enum KeyError {
    /// Multibase strings must use base58btc (prefix `z`).
    #[error("multibase value must start with 'z' (base58btc)")]
    NotBase58Btc,
    /// Not valid base58.
    #[error("invalid base58btc encoding")]
    Base58,
    /// The multicodec header is not Ed25519.
    #[error("not an Ed25519 {0} key (wrong multicodec header)")]
    WrongCodec(&'static str),
    /// Wrong number of key bytes.
    #[error("an Ed25519 key has 32 bytes, found {0}")]
    Length(usize),
    /// Bytes that are not a valid Ed25519 point.
    #[error("not a valid Ed25519 public key")]
    InvalidPoint,
    /// A signature is 64 bytes.
    #[error("an Ed25519 signature has 64 bytes, found {0}")]
    SignatureLength(usize),
}

/// Encode an Ed25519 public key as a Multikey `publicKeyMultibase`.
pub fn public_key_multibase(key: &VerifyingKey) -> String {
    let mut bytes = Vec::with_capacity(34);
    bytes.extend_from_slice(&ED25519_PUB_MULTICODEC);
    bytes.extend_from_slice(key.as_bytes());
    format!("z{}", bs58::encode(bytes).into_string())
}

/// How many decoded public keys each thread remembers ([`decode_public_key_multibase`]).
const RECENT_KEYS: usize = 8;

thread_local! {
    /// The public keys this thread decoded last, by their Multikey string, most recent
    /// first. Decoding a key is a curve point decompression (a field exponentiation, some
    /// microseconds, a tenth of a signature verification) and a verifier decodes the same
    /// few issuer keys for every credential. A pure memo: the key is a function of the
    /// string, and only successful decodings are kept.
    static RECENT: RefCell<VecDeque<(Box<str>, VerifyingKey)>> =
        const { RefCell::new(VecDeque::new()) };
}

/// Decode a Multikey `publicKeyMultibase` into an Ed25519 public key (the last few keys
/// decoded on this thread are remembered).
pub fn decode_public_key_multibase(s: &str) -> Result<VerifyingKey, KeyError> {
    let recent = RECENT
        .try_with(|r| {
            let r = r.try_borrow().ok()?;
            r.iter().find(|(k, _)| &**k == s).map(|(_, key)| *key)
        })
        .ok()
        .flatten();
    if let Some(key) = recent {
        return Ok(key);
    }
    let raw = decode_multicodec(s, ED25519_PUB_MULTICODEC, "public")?;
    let key = VerifyingKey::from_bytes(&raw).map_err(|_| KeyError::InvalidPoint)?;
    // Not remembering (the thread is ending, or a borrow is held) only costs speed.
    let _ = RECENT.try_with(|r| {
        if let Ok(mut r) = r.try_borrow_mut() {
            r.truncate(RECENT_KEYS - 1);
            r.push_front((s.into(), key));
        }
    });
    Ok(key)
}

/// Decode a Multikey `secretKeyMultibase` (used by the W3C test vectors) into a signing key.
///
/// Hallmark never writes private keys in this form; it exists so tests can load the
/// published vector key pair.
pub fn decode_secret_key_multibase(s: &str) -> Result<SigningKey, KeyError> {
    let raw = decode_multicodec(s, ED25519_PRIV_MULTICODEC, "secret")?;
    Ok(SigningKey::from_bytes(&raw))
}

fn decode_multicodec(s: &str, codec: [u8; 2], what: &'static str) -> Result<[u8; 32], KeyError> {
    let body = s.strip_prefix('z').ok_or(KeyError::NotBase58Btc)?;
    let bytes = bs58::decode(body)
        .into_vec()
        .map_err(|_| KeyError::Base58)?;
    let rest = bytes
        .strip_prefix(&codec)
        .ok_or(KeyError::WrongCodec(what))?;
    <[u8; 32]>::try_from(rest).map_err(|_| KeyError::Length(rest.len()))
}

/// Encode a signature as multibase base58btc (a Data Integrity `proofValue`).
///
/// Uses `five8` (Firedancer's fixed-size base58, as used by Solana) for the 64-byte case:
/// the general-purpose `bs58` encoder costs ~8 µs per signature, a fifth of the signing
/// budget. The decode side stays on `bs58` (tests check both agree).
pub fn signature_multibase(sig: &Signature) -> String {
    let mut buf = [0u8; 88];
    let len = usize::from(five8::encode_64(&sig.to_bytes(), &mut buf));
    let mut out = String::with_capacity(len + 1);
    out.push('z');
    // base58 output is ASCII by construction.
    out.extend(buf.iter().take(len).map(|&b| char::from(b)));
    out
}

/// Decode a multibase base58btc signature.
pub fn decode_signature_multibase(s: &str) -> Result<Signature, KeyError> {
    let body = s.strip_prefix('z').ok_or(KeyError::NotBase58Btc)?;
    // Fast path: `five8` decodes exactly the base58 strings of 64 bytes (as many leading
    // '1's as leading zero bytes), which are the strings `bs58` decodes to 64 bytes; any
    // other string takes the `bs58` path below, which names the error.
    let mut raw = [0u8; 64];
    if five8::decode_64(body, &mut raw).is_ok() {
        return Ok(Signature::from_bytes(&raw));
    }
    let bytes = bs58::decode(body)
        .into_vec()
        .map_err(|_| KeyError::Base58)?;
    Signature::from_slice(&bytes).map_err(|_| KeyError::SignatureLength(bytes.len()))
}

/// A stable key id: the key's Multikey encoding. Used as the DID URL fragment.
#[derive(
    Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize,
)]
#[serde(transparent)]
pub struct KeyId(String);

impl KeyId {
    /// The key id of a public key.
    pub fn of(key: &VerifyingKey) -> Self {
        KeyId(public_key_multibase(key))
    }
    /// The id as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
    /// Parse a key id, checking it decodes to a valid Ed25519 key.
    pub fn parse(s: &str) -> Result<Self, KeyError> {
        decode_public_key_multibase(s).map(|k| KeyId::of(&k))
    }
}

impl fmt::Display for KeyId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Why a signer could not sign. Deliberately carries no key material.
#[derive(Debug, thiserror::Error, Clone, PartialEq, Eq)]
pub enum SignerError {
    /// The backend holding the key cannot be reached (e.g. HSM unavailable).
    #[error("signing backend unavailable: {0}")]
    Unavailable(String),
    /// The key may not be used for this purpose or is not active.
    #[error("key not usable: {0}")]
    NotUsable(String),
    /// Any other backend failure.
    #[error("signing failed: {0}")]
    Failed(String),
}

/// The signing port: produce Ed25519 signatures without exposing the private key.
pub trait Signer: Send + Sync {
    /// The public half of the signing key.
    fn verifying_key(&self) -> VerifyingKey;
    /// Sign a message (pure Ed25519, RFC 8032).
    fn sign(&self, message: &[u8]) -> Result<Signature, SignerError>;
    /// The stable id of the key.
    fn key_id(&self) -> KeyId {
        KeyId::of(&self.verifying_key())
    }
}

/// An in-memory key signs directly. Used by tests, benchmarks and the keystore backend once
/// a key has been decrypted.
impl Signer for SigningKey {
    fn verifying_key(&self) -> VerifyingKey {
        SigningKey::verifying_key(self)
    }
    fn sign(&self, message: &[u8]) -> Result<Signature, SignerError> {
        Ok(ed25519_dalek::Signer::sign(self, message))
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;

    #[test]
    fn fast_signature_encoding_agrees_with_bs58() {
        for seed in 0u8..64 {
            let sk = SigningKey::from_bytes(&[seed; 32]);
            let sig = ed25519_dalek::Signer::sign(&sk, &[seed; 10]);
            let mut bytes = sig.to_bytes();
            // Leading zero bytes are the tricky case for base58.
            for b in bytes.iter_mut().take(usize::from(seed % 4)) {
                *b = 0;
            }
            let sig = Signature::from_bytes(&bytes);
            let want = format!("z{}", bs58::encode(sig.to_bytes()).into_string());
            assert_eq!(signature_multibase(&sig), want);
            assert_eq!(decode_signature_multibase(&want).unwrap(), sig);
        }
    }

    /// The per-thread memo of decoded keys returns each string's own key, past its
    /// capacity too, and never remembers a refusal.
    #[test]
    fn remembered_keys_are_each_strings_own() {
        let keys: Vec<VerifyingKey> = (0u8..3 * RECENT_KEYS as u8)
            .map(|n| SigningKey::from_bytes(&[n; 32]).verifying_key())
            .collect();
        for _ in 0..2 {
            for (i, vk) in keys.iter().enumerate() {
                let mb = public_key_multibase(vk);
                assert_eq!(decode_public_key_multibase(&mb).unwrap(), *vk, "key {i}");
                assert_eq!(
                    decode_public_key_multibase(&mb).unwrap(),
                    *vk,
                    "key {i} again"
                );
                // A neighbour that was remembered a moment ago is still its own key.
                if i > 0 {
                    let prev = public_key_multibase(&keys[i - 1]);
                    assert_eq!(decode_public_key_multibase(&prev).unwrap(), keys[i - 1]);
                }
            }
        }
        // Not a point on the curve (y = 2): refused every time, not remembered.
        let mut raw = vec![0xed, 0x01, 2];
        raw.extend([0u8; 31]);
        let bad = format!("z{}", bs58::encode(raw).into_string());
        for _ in 0..2 {
            assert_eq!(
                decode_public_key_multibase(&bad),
                Err(KeyError::InvalidPoint)
            );
        }
    }

    #[test]
    fn multikey_round_trip_and_errors() {
        let sk = SigningKey::from_bytes(&[7u8; 32]);
        let vk = sk.verifying_key();
        let mb = public_key_multibase(&vk);
        assert!(mb.starts_with("z6Mk"), "{mb}");
        assert_eq!(decode_public_key_multibase(&mb).unwrap(), vk);
        assert_eq!(KeyId::parse(&mb).unwrap(), KeyId::of(&vk));
        assert_eq!(
            decode_public_key_multibase("u6Mk"),
            Err(KeyError::NotBase58Btc)
        );
        assert_eq!(decode_public_key_multibase("z0OIl"), Err(KeyError::Base58));
        let short = format!("z{}", bs58::encode([0xed, 0x01, 1, 2]).into_string());
        assert_eq!(
            decode_public_key_multibase(&short),
            Err(KeyError::Length(2))
        );
        let wrong = format!("z{}", bs58::encode([0xe7, 0x01, 1, 2]).into_string());
        assert_eq!(
            decode_public_key_multibase(&wrong),
            Err(KeyError::WrongCodec("public"))
        );
    }
}
