//! The keystore's cryptography, composed from RustCrypto primitives only: Argon2id cost
//! parameters ([`KdfParams`]) and the passphrase → Argon2id → HKDF-SHA256 subkeys
//! ([`Subkeys`]), AES-256-GCM sealing of private keys and of the node identity under
//! associated data that binds them to their record, HMAC-SHA256 over key metadata and over
//! the key list (with the unambiguous [`Fields`] encoding), the node's integrity secret,
//! and the operating system's randomness. See the module docs of [`super`] for the scheme.

use crate::backup::BackupIdentity;
use crate::random::fill_random;
use crate::{KeyInfo, KeysError, Purpose};
use aes_gcm::aead::{Aead, KeyInit, Payload};
use aes_gcm::{Aes256Gcm, Nonce};
use ed25519_dalek::VerifyingKey;
use hallmark_core::did::KeyStatus;
use hallmark_core::integrity::IntegrityKeys;
use hallmark_core::keys::KeyId;
use hmac::{Hmac, Mac};
use secrecy::{ExposeSecret, SecretString};
use sha2::Sha256;
use subtle::ConstantTimeEq;
use time::OffsetDateTime;
use zeroize::Zeroizing;

/// The `format` value of a keystore file (bound into the file MAC with [`VERSION`]).
pub const FORMAT: &str = "hallmark-keystore";
/// The keystore file format version this build reads and writes.
pub const VERSION: u32 = 1;

/// Length of the Argon2id salt.
pub(super) const SALT_LEN: usize = 16;
/// Length of an AES-256-GCM nonce.
pub(super) const NONCE_LEN: usize = 12;
const KIND_SIGNING_KEY: &str = "signing-key";
const KIND_AGE_IDENTITY: &str = "age-identity";

type HmacSha256 = Hmac<Sha256>;

/// Argon2id cost parameters.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KdfParams {
    /// Memory cost in KiB.
    pub memory_kib: u32,
    /// Number of passes.
    pub iterations: u32,
    /// Lanes.
    pub parallelism: u32,
}

impl KdfParams {
    /// The default for new keystores: 64 MiB, 5 passes, 1 lane (see docs/keys.md for the
    /// measured unlock time).
    pub const RECOMMENDED: KdfParams = KdfParams {
        memory_kib: 64 * 1024,
        iterations: 5,
        parallelism: 1,
    };
    /// The weakest parameters Hallmark accepts (OWASP's Argon2id minimum: 19 MiB, 2 passes,
    /// 1 lane). Files with weaker parameters are refused.
    pub const FLOOR: KdfParams = KdfParams {
        memory_kib: 19 * 1024,
        iterations: 2,
        parallelism: 1,
    };
    const MAX_MEMORY_KIB: u32 = 4 * 1024 * 1024;
    const MAX_ITERATIONS: u32 = 64;
    const MAX_PARALLELISM: u32 = 16;

    /// Refuse parameters below [`KdfParams::FLOOR`] or absurdly expensive ones.
    pub fn check(&self) -> Result<(), KeysError> {
        if self.memory_kib < Self::FLOOR.memory_kib
            || self.iterations < Self::FLOOR.iterations
            || self.parallelism < 1
        {
            return Err(KeysError::KdfBelowFloor {
                memory_kib: self.memory_kib,
                iterations: self.iterations,
                parallelism: self.parallelism,
                min_memory_kib: Self::FLOOR.memory_kib,
                min_iterations: Self::FLOOR.iterations,
            });
        }
        if self.memory_kib > Self::MAX_MEMORY_KIB
            || self.iterations > Self::MAX_ITERATIONS
            || self.parallelism > Self::MAX_PARALLELISM
        {
            return Err(KeysError::KdfParams(format!(
                "m={} KiB, t={}, p={} exceed the maximum (m<={} KiB, t<={}, p<={})",
                self.memory_kib,
                self.iterations,
                self.parallelism,
                Self::MAX_MEMORY_KIB,
                Self::MAX_ITERATIONS,
                Self::MAX_PARALLELISM
            )));
        }
        Ok(())
    }
}

/// Subkeys derived from the passphrase. Zeroized on drop.
pub(super) struct Subkeys {
    enc: Zeroizing<[u8; 32]>,
    mac: Zeroizing<[u8; 32]>,
    check: [u8; 32],
}

impl Subkeys {
    /// `KEK = Argon2id(passphrase, salt)`, then the HKDF-SHA256 subkeys of the KEK.
    pub(super) fn derive(
        passphrase: &SecretString,
        params: &KdfParams,
        salt: &[u8; SALT_LEN],
    ) -> Result<Subkeys, KeysError> {
        derive(passphrase, params, salt)
    }

    /// The passphrase check value stored in the file.
    pub(super) fn check_value(&self) -> &[u8; 32] {
        &self.check
    }

    /// Whether these subkeys come from the passphrase the file was sealed with
    /// (constant-time).
    pub(super) fn passphrase_matches(&self, stored_check: &[u8; 32]) -> bool {
        bool::from(self.check.ct_eq(stored_check))
    }

    fn cipher(&self) -> Aes256Gcm {
        Aes256Gcm::new((&*self.enc).into())
    }

    /// Encrypt a private key's seed under a fresh random nonce, bound to its id, purpose and
    /// public key.
    pub(super) fn seal_key(
        &self,
        id: &KeyId,
        purpose: Purpose,
        public_key: &VerifyingKey,
        seed: &[u8; 32],
    ) -> Result<([u8; NONCE_LEN], Vec<u8>), KeysError> {
        let mut nonce = [0u8; NONCE_LEN];
        fill_random(&mut nonce)?;
        let ad = key_ad(id, purpose, public_key);
        let ciphertext = self
            .cipher()
            .encrypt(
                Nonce::from_slice(&nonce),
                Payload {
                    msg: &seed[..],
                    aad: &ad,
                },
            )
            .map_err(|_| KeysError::Crypto("AES-GCM encryption failed"))?;
        Ok((nonce, ciphertext))
    }

    /// Decrypt a private key's seed under the associated data of (`id`, `purpose`,
    /// `public_key`); `None` if it does not open under it.
    pub(super) fn open_key(
        &self,
        id: &KeyId,
        purpose: Purpose,
        public_key: &VerifyingKey,
        nonce: &[u8; NONCE_LEN],
        ciphertext: &[u8],
    ) -> Option<Zeroizing<[u8; 32]>> {
        open_seed(
            &self.cipher(),
            nonce,
            ciphertext,
            &key_ad(id, purpose, public_key),
        )
    }

    /// Encrypt the node's age identity, bound to its recipient.
    pub(super) fn seal_identity(
        &self,
        identity: &BackupIdentity,
    ) -> Result<([u8; NONCE_LEN], Vec<u8>), KeysError> {
        let recipient = identity.recipient();
        let secret = identity.to_secret();
        let mut nonce = [0u8; NONCE_LEN];
        fill_random(&mut nonce)?;
        let ciphertext = self
            .cipher()
            .encrypt(
                Nonce::from_slice(&nonce),
                Payload {
                    msg: secret.expose_secret().as_bytes(),
                    aad: &identity_ad(&recipient),
                },
            )
            .map_err(|_| KeysError::Crypto("AES-GCM encryption failed"))?;
        Ok((nonce, ciphertext))
    }

    /// Decrypt the node's age identity sealed for `recipient`; `None` if it does not open
    /// or is not the identity of that recipient.
    pub(super) fn open_identity(
        &self,
        recipient: &str,
        nonce: &[u8; NONCE_LEN],
        ciphertext: &[u8],
    ) -> Option<BackupIdentity> {
        let plain = self
            .cipher()
            .decrypt(
                Nonce::from_slice(nonce),
                Payload {
                    msg: ciphertext,
                    aad: &identity_ad(recipient),
                },
            )
            .map(Zeroizing::new)
            .ok()?;
        std::str::from_utf8(&plain)
            .ok()
            .and_then(|s| BackupIdentity::parse(s).ok())
            .filter(|id| id.recipient() == recipient)
    }

    /// The MAC over a key's mutable metadata (status, times, reason).
    pub(super) fn metadata_mac(&self, info: &KeyInfo) -> [u8; 32] {
        mac(&self.mac, &metadata_fields(info))
    }

    /// Whether `tag` is the MAC of `info`'s metadata (constant-time).
    pub(super) fn metadata_mac_ok(&self, info: &KeyInfo, tag: &[u8; 32]) -> bool {
        verify_mac(&self.mac, &metadata_fields(info), tag)
    }

    /// The MAC over the file: KDF parameters, salt, check value, the sorted key ids and the
    /// node recipient (so no key can be added or removed).
    pub(super) fn file_mac<'a>(
        &self,
        kdf: &KdfParams,
        salt: &[u8; SALT_LEN],
        ids: impl Iterator<Item = &'a KeyId>,
        recipient: &str,
    ) -> [u8; 32] {
        mac(
            &self.mac,
            &file_fields(kdf, salt, &self.check, ids, recipient),
        )
    }

    /// Whether `tag` is the file MAC (constant-time).
    pub(super) fn file_mac_ok<'a>(
        &self,
        kdf: &KdfParams,
        salt: &[u8; SALT_LEN],
        ids: impl Iterator<Item = &'a KeyId>,
        recipient: &str,
        tag: &[u8; 32],
    ) -> bool {
        bool::from(self.file_mac(kdf, salt, ids, recipient).ct_eq(tag))
    }
}

/// The node's row-authentication subkeys ([`hallmark_core::integrity`]), derived from its
/// sealed age identity: `HKDF-SHA256(identity, "hallmark-keystore/v1 node-secret")`
/// expanded to the node secret.
pub(super) fn node_integrity_keys(identity: &BackupIdentity) -> Result<IntegrityKeys, KeysError> {
    let secret = identity.to_secret();
    let hk = hkdf::Hkdf::<Sha256>::new(
        Some(b"hallmark-keystore/v1 node-secret"),
        secret.expose_secret().as_bytes(),
    );
    let mut node_secret = Zeroizing::new([0u8; 32]);
    hk.expand(b"hallmark-keystore/v1 node-integrity", &mut node_secret[..])
        .map_err(|_| KeysError::Crypto("HKDF output length"))?;
    IntegrityKeys::derive(&node_secret[..]).map_err(|_| KeysError::Crypto("node secret length"))
}

fn file_fields<'a>(
    kdf: &KdfParams,
    salt: &[u8; SALT_LEN],
    check: &[u8; 32],
    ids: impl Iterator<Item = &'a KeyId>,
    recipient: &str,
) -> Vec<u8> {
    let mut ids: Vec<&str> = ids.map(KeyId::as_str).collect();
    ids.sort_unstable();
    let mut f = Fields::new("file");
    f.put(b"argon2id")
        .put(&kdf.memory_kib.to_be_bytes())
        .put(&kdf.iterations.to_be_bytes())
        .put(&kdf.parallelism.to_be_bytes())
        .put(salt)
        .put(check)
        .put(&(ids.len() as u64).to_be_bytes());
    for id in ids {
        f.put(id.as_bytes());
    }
    f.put(recipient.as_bytes());
    f.0
}

/// Unambiguous field encoding for associated data and MAC input.
struct Fields(Vec<u8>);

impl Fields {
    fn new(kind: &str) -> Self {
        let mut f = Fields(Vec::with_capacity(256));
        f.put(FORMAT.as_bytes())
            .put(&VERSION.to_be_bytes())
            .put(kind.as_bytes());
        f
    }
    fn put(&mut self, bytes: &[u8]) -> &mut Self {
        self.0
            .extend_from_slice(&(bytes.len() as u64).to_be_bytes());
        self.0.extend_from_slice(bytes);
        self
    }
    fn opt(&mut self, bytes: Option<&[u8]>) -> &mut Self {
        match bytes {
            None => {
                self.0.push(0);
                self
            }
            Some(b) => {
                self.0.push(1);
                self.put(b)
            }
        }
    }
}

fn time_bytes(t: OffsetDateTime) -> [u8; 16] {
    t.unix_timestamp_nanos().to_be_bytes()
}

fn key_ad(id: &KeyId, purpose: Purpose, public_key: &VerifyingKey) -> Vec<u8> {
    let mut f = Fields::new(KIND_SIGNING_KEY);
    f.put(id.as_str().as_bytes())
        .put(purpose.as_str().as_bytes())
        .put(public_key.as_bytes());
    f.0
}

fn identity_ad(recipient: &str) -> Vec<u8> {
    let mut f = Fields::new(KIND_AGE_IDENTITY);
    f.put(recipient.as_bytes());
    f.0
}

fn status_str(status: KeyStatus) -> &'static str {
    match status {
        KeyStatus::Current => "current",
        KeyStatus::Retired => "retired",
        KeyStatus::Revoked => "revoked",
    }
}

fn metadata_fields(info: &KeyInfo) -> Vec<u8> {
    let mut f = Fields::new("key-metadata");
    f.put(info.id.as_str().as_bytes())
        .put(info.purpose.as_str().as_bytes())
        .put(status_str(info.status).as_bytes())
        .put(&time_bytes(info.created_at))
        .opt(info.retired_at.map(time_bytes).as_ref().map(|b| &b[..]))
        .opt(info.revoked_at.map(time_bytes).as_ref().map(|b| &b[..]))
        .opt(info.revocation_reason.as_deref().map(str::as_bytes));
    f.0
}

fn mac(key: &[u8; 32], data: &[u8]) -> [u8; 32] {
    // HMAC accepts keys of any length; this cannot fail.
    let mut m = <HmacSha256 as Mac>::new_from_slice(key).unwrap_or_else(|_| unreachable!());
    m.update(data);
    m.finalize().into_bytes().into()
}

fn verify_mac(key: &[u8; 32], data: &[u8], tag: &[u8; 32]) -> bool {
    bool::from(mac(key, data).ct_eq(tag))
}

fn derive(
    passphrase: &SecretString,
    params: &KdfParams,
    salt: &[u8; SALT_LEN],
) -> Result<Subkeys, KeysError> {
    let argon_params = argon2::Params::new(
        params.memory_kib,
        params.iterations,
        params.parallelism,
        Some(32),
    )
    .map_err(|e| KeysError::KdfParams(e.to_string()))?;
    let argon = argon2::Argon2::new(
        argon2::Algorithm::Argon2id,
        argon2::Version::V0x13,
        argon_params,
    );
    let mut kek = Zeroizing::new([0u8; 32]);
    argon
        .hash_password_into(passphrase.expose_secret().as_bytes(), salt, &mut kek[..])
        .map_err(|e| KeysError::KdfParams(e.to_string()))?;
    let hk = hkdf::Hkdf::<Sha256>::new(Some(salt), &kek[..]);
    let mut enc = Zeroizing::new([0u8; 32]);
    let mut mac_key = Zeroizing::new([0u8; 32]);
    let mut check = [0u8; 32];
    for (info, out) in [
        (&b"hallmark-keystore/v1 encryption"[..], &mut enc[..]),
        (&b"hallmark-keystore/v1 metadata-mac"[..], &mut mac_key[..]),
        (
            &b"hallmark-keystore/v1 passphrase-check"[..],
            &mut check[..],
        ),
    ] {
        hk.expand(info, out)
            .map_err(|_| KeysError::Crypto("HKDF output length"))?;
    }
    Ok(Subkeys {
        enc,
        mac: mac_key,
        check,
    })
}

fn open_seed(
    cipher: &Aes256Gcm,
    nonce: &[u8; NONCE_LEN],
    ciphertext: &[u8],
    ad: &[u8],
) -> Option<Zeroizing<[u8; 32]>> {
    let plain = Zeroizing::new(
        cipher
            .decrypt(
                Nonce::from_slice(nonce),
                Payload {
                    msg: ciphertext,
                    aad: ad,
                },
            )
            .ok()?,
    );
    let mut seed = Zeroizing::new([0u8; 32]);
    if plain.len() != 32 {
        return None;
    }
    seed.copy_from_slice(&plain);
    Some(seed)
}
