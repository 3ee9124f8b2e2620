//! Row authentication: the node's proof, to itself and to its operator's tools, that a
//! security-relevant database row was written by the node and not by someone holding only
//! the database's credentials.
//!
//! The threat (docs/security.md, "The app role as an attacker"): whoever holds the
//! application role's PostgreSQL password can insert and update the rows the node reads —
//! signing-key metadata, API-key hashes, audit events and their log leaves, the operator's
//! resolver links. Triggers keep
//! those rows permanent, but cannot tell who wrote them. So every such row carries a tag
//! made with a secret the database never sees:
//!
//! - the **node secret** comes from key custody: derived from the file keystore's sealed
//!   node identity (so it survives backup/restore and passphrase changes) or, with an HSM,
//!   from the `HALLMARK_NODE_SECRET` setting;
//! - [`IntegrityKeys::derive`] turns it into one independent subkey per use with
//!   HKDF-SHA256 (RFC 5869), and every tag is HMAC-SHA256 (RFC 2104) under that subkey.
//!
//! Tags are checked in constant time. Nothing here is a new primitive or protocol: HKDF and
//! HMAC from the RustCrypto crates, with a distinct `info` label per use.

use hmac::{Hmac, Mac};
use sha2::Sha256;
use subtle::ConstantTimeEq;
use zeroize::Zeroizing;

type HmacSha256 = Hmac<Sha256>;

/// Length of every tag.
pub const TAG_LEN: usize = 32;

/// Shortest node secret accepted (bytes).
pub const MIN_SECRET_LEN: usize = 32;

const SALT: &[u8] = b"hallmark-integrity/v1";
const INFO_LEAF: &[u8] = b"hallmark-integrity/v1 log-leaf";
const INFO_KEY_ROW: &[u8] = b"hallmark-integrity/v1 signing-key-row";
const INFO_API_KEY: &[u8] = b"hallmark-integrity/v1 api-key-hash";
const INFO_LINK_ROW: &[u8] = b"hallmark-integrity/v1 product-link-row";
const INFO_WEBHOOK: &[u8] = b"hallmark-integrity/v1 webhook-secret";

/// Why a node secret was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IntegrityError {
    /// Fewer than [`MIN_SECRET_LEN`] bytes.
    #[error("the node secret must be at least {MIN_SECRET_LEN} bytes, got {0}")]
    TooShort(usize),
}

/// The subkeys derived from the node secret. `Debug` shows nothing secret; the bytes are
/// zeroized on drop.
pub struct IntegrityKeys {
    leaf: Zeroizing<[u8; 32]>,
    key_row: Zeroizing<[u8; 32]>,
    api_key: Zeroizing<[u8; 32]>,
    link_row: Zeroizing<[u8; 32]>,
    webhook: Zeroizing<[u8; 32]>,
}

impl std::fmt::Debug for IntegrityKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("IntegrityKeys([REDACTED])")
    }
}

fn tag(key: &[u8; 32], parts: &[&[u8]]) -> [u8; TAG_LEN] {
    // HMAC accepts keys of any length: `new_from_slice` cannot fail.
    let mut mac = match HmacSha256::new_from_slice(key) {
        Ok(m) => m,
        Err(_) => unreachable_hmac(),
    };
    for p in parts {
        mac.update(p);
    }
    mac.finalize().into_bytes().into()
}

#[cold]
fn unreachable_hmac() -> ! {
    // `Hmac::new_from_slice` only fails for fixed-size-key MACs; HMAC takes any length.
    panic!("HMAC refused a 32-byte key")
}

fn same(expected: &[u8; TAG_LEN], given: &[u8]) -> bool {
    given.len() == TAG_LEN && bool::from(expected.ct_eq(given))
}

impl IntegrityKeys {
    /// Derives the subkeys from a node secret of at least [`MIN_SECRET_LEN`] bytes.
    pub fn derive(secret: &[u8]) -> Result<Self, IntegrityError> {
        if secret.len() < MIN_SECRET_LEN {
            return Err(IntegrityError::TooShort(secret.len()));
        }
        let hk = hkdf::Hkdf::<Sha256>::new(Some(SALT), secret);
        let mut out = [
            Zeroizing::new([0u8; 32]),
            Zeroizing::new([0u8; 32]),
            Zeroizing::new([0u8; 32]),
            Zeroizing::new([0u8; 32]),
            Zeroizing::new([0u8; 32]),
        ];
        for (info, o) in [
            INFO_LEAF,
            INFO_KEY_ROW,
            INFO_API_KEY,
            INFO_LINK_ROW,
            INFO_WEBHOOK,
        ]
        .into_iter()
        .zip(out.iter_mut())
        {
            // 32 bytes is far below HKDF-SHA256's limit (255 × 32): cannot fail.
            if hk.expand(info, &mut o[..]).is_err() {
                return Err(IntegrityError::TooShort(0));
            }
        }
        let [leaf, key_row, api_key, link_row, webhook] = out;
        Ok(IntegrityKeys {
            leaf,
            key_row,
            api_key,
            link_row,
            webhook,
        })
    }

    /// The tag of a transparency-log leaf: HMAC over its RFC 6962 leaf hash (which commits
    /// to the event's canonical bytes, sequence number included).
    pub fn leaf_tag(&self, leaf_hash: &[u8; 32]) -> [u8; TAG_LEN] {
        tag(&self.leaf, &[leaf_hash])
    }

    /// Whether `given` is the tag of this leaf hash (constant time).
    pub fn verify_leaf(&self, leaf_hash: &[u8; 32], given: &[u8]) -> bool {
        same(&self.leaf_tag(leaf_hash), given)
    }

    /// The tag of a signing-key row: HMAC over its canonical bytes (the store defines them,
    /// `SigningKeyRecord::authenticated_bytes`).
    pub fn key_row_tag(&self, canonical: &[u8]) -> [u8; TAG_LEN] {
        tag(&self.key_row, &[canonical])
    }

    /// Whether `given` is the tag of these key-row bytes (constant time).
    pub fn verify_key_row(&self, canonical: &[u8], given: &[u8]) -> bool {
        same(&self.key_row_tag(canonical), given)
    }

    /// The tag of an operator link row (the resolver's own links): HMAC over its canonical
    /// bytes (the store defines them, `ProductLinkRecord::authenticated_bytes`).
    pub fn link_row_tag(&self, canonical: &[u8]) -> [u8; TAG_LEN] {
        tag(&self.link_row, &[canonical])
    }

    /// Whether `given` is the tag of these link-row bytes (constant time).
    pub fn verify_link_row(&self, canonical: &[u8], given: &[u8]) -> bool {
        same(&self.link_row_tag(canonical), given)
    }

    /// The keyed hash an API key is stored under: HMAC over the key's body. Without the
    /// node secret nobody can compute the hash of a key they made up.
    pub fn api_key_hash(&self, body: &[u8]) -> [u8; TAG_LEN] {
        tag(&self.api_key, &[body])
    }

    /// The signing secret of a webhook subscription: HMAC over its id. Derived whenever it
    /// is needed and never stored, so the database (or a dump of it) holds nothing that
    /// would let anyone sign a delivery.
    pub fn webhook_secret(&self, subscription: &[u8]) -> Zeroizing<[u8; TAG_LEN]> {
        Zeroizing::new(tag(&self.webhook, &[subscription]))
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn short_secrets_are_refused() {
        assert_eq!(
            IntegrityKeys::derive(&[7; 31]).unwrap_err(),
            IntegrityError::TooShort(31)
        );
        assert!(IntegrityKeys::derive(&[7; 32]).is_ok());
    }

    #[test]
    fn subkeys_are_independent_and_secret_bound() {
        let a = IntegrityKeys::derive(&[1; 32]).unwrap();
        let b = IntegrityKeys::derive(&[2; 32]).unwrap();
        let h = [9u8; 32];
        assert_ne!(a.leaf_tag(&h), b.leaf_tag(&h));
        // The same input under two uses gives unrelated tags.
        assert_ne!(a.leaf_tag(&h), a.key_row_tag(&h));
        assert_ne!(a.key_row_tag(&h), a.api_key_hash(&h));
        assert_ne!(a.key_row_tag(&h), a.link_row_tag(&h));
        assert_ne!(a.link_row_tag(&h), a.api_key_hash(&h));
        assert_ne!(*a.webhook_secret(&h), a.api_key_hash(&h));
        assert_ne!(*a.webhook_secret(&h), a.link_row_tag(&h));
        assert_ne!(*a.webhook_secret(&h), *b.webhook_secret(&h));
        assert_ne!(*a.webhook_secret(b"one"), *a.webhook_secret(b"two"));
        assert!(a.verify_link_row(&h, &a.link_row_tag(&h)));
        assert!(!a.verify_link_row(&h, &b.link_row_tag(&h)));
        assert!(!a.verify_link_row(&h, &a.key_row_tag(&h)));
        assert!(a.verify_leaf(&h, &a.leaf_tag(&h)));
        assert!(!a.verify_leaf(&h, &b.leaf_tag(&h)));
        assert!(!a.verify_leaf(&h, &a.leaf_tag(&h)[..31]));
        let mut other = h;
        other[0] ^= 1;
        assert!(!a.verify_leaf(&other, &a.leaf_tag(&h)));
        assert!(format!("{a:?}").contains("REDACTED"));
    }

    /// RFC 4231 test case 2 through the same HMAC path (the subkey replaced by the
    /// vector's key, zero-padded as HMAC does for short keys).
    #[test]
    fn hmac_matches_rfc4231_case_2() {
        let mut key = [0u8; 32];
        key[..4].copy_from_slice(b"Jefe");
        let t = tag(&key, &[b"what do ya want ", b"for nothing?"]);
        assert_eq!(
            hex::encode(t),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
    }
}
