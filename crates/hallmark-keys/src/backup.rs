//! Backups and the offline key ceremony, encrypted with age (X25519 recipients).
//!
//! * A **backup** is an age file encrypted to an operator-held recipient (`age1…`) whose
//!   plaintext is JSON `{"format":"hallmark-keystore-backup","version":1,…}` carrying every
//!   key's metadata and 32-byte Ed25519 seed (base64) plus the node's age identity.
//!   [`crate::keystore::Keystore::restore`] rebuilds a keystore from it and refuses any key
//!   whose seed does not derive its recorded public key.
//! * **Offline generation** ([`generate_offline`]) runs on an air-gapped machine without a
//!   keystore: it generates a key and returns it as an age file encrypted to the node's
//!   recipient (`hallmark keys recipient`), plaintext
//!   `{"format":"hallmark-offline-key","version":1,…}`, together with its public data.
//!   [`crate::keystore::Keystore::import`] installs it.
//!
//! Plaintext key material exists only in memory, in buffers that are zeroized on drop
//! (`Zeroizing`), sized up front so they do not reallocate and leave copies behind. It is
//! never written to disk: only age ciphertexts are.

use crate::keystore::plain::{new_info, utc, PlainKey};
use crate::random::random_seed;
use crate::{KeysError, Purpose};
use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine as _;
use ed25519_dalek::SigningKey;
use hallmark_core::did::KeyStatus;
use hallmark_core::keys::{decode_public_key_multibase, KeyId};
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};
use std::fmt;
use std::io::Read;
use std::str::FromStr;
use time::OffsetDateTime;
use zeroize::Zeroizing;

/// `format` of a backup's plaintext.
pub const BACKUP_FORMAT: &str = "hallmark-keystore-backup";
/// `format` of an offline-generated key's plaintext.
pub const OFFLINE_FORMAT: &str = "hallmark-offline-key";
const PAYLOAD_VERSION: u32 = 1;

/// An age X25519 identity (private key): the node's, or the operator's backup identity.
/// Its `Debug` output shows only the public recipient.
#[derive(Clone)]
pub struct BackupIdentity(age::x25519::Identity);

impl BackupIdentity {
    /// A fresh identity.
    pub fn generate() -> Self {
        BackupIdentity(age::x25519::Identity::generate())
    }

    /// Parse an age identity file: the first line that is not empty or a `#` comment must
    /// be an `AGE-SECRET-KEY-1…` key.
    pub fn parse(text: &str) -> Result<Self, KeysError> {
        let line = text
            .lines()
            .map(str::trim)
            .find(|l| !l.is_empty() && !l.starts_with('#'))
            .ok_or(KeysError::BadIdentity)?;
        age::x25519::Identity::from_str(line)
            .map(BackupIdentity)
            .map_err(|_| KeysError::BadIdentity)
    }

    /// The matching recipient (`age1…`).
    pub fn recipient(&self) -> String {
        self.0.to_public().to_string()
    }

    /// The identity as `AGE-SECRET-KEY-1…` (for writing an identity file).
    pub fn to_secret(&self) -> SecretString {
        self.0.to_string()
    }
}

impl fmt::Debug for BackupIdentity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BackupIdentity")
            .field("recipient", &self.recipient())
            .finish_non_exhaustive()
    }
}

/// Public data of a key generated offline.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OfflineKey {
    /// Its id.
    pub id: KeyId,
    /// Its purpose.
    pub purpose: Purpose,
    /// The public key as Multikey.
    pub public_key_multibase: String,
    /// When it was generated.
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
}

fn parse_recipient(recipient: &str) -> Result<age::x25519::Recipient, KeysError> {
    age::x25519::Recipient::from_str(recipient.trim())
        .map_err(|e| KeysError::BadRecipient(e.to_string()))
}

/// Generate a key for `purpose` on an air-gapped machine and encrypt it to `recipient`
/// (the node's `age1…`). Returns the age ciphertext and the key's public data.
pub fn generate_offline(
    purpose: Purpose,
    recipient: &str,
    now: OffsetDateTime,
) -> Result<(Vec<u8>, OfflineKey), KeysError> {
    let recipient = parse_recipient(recipient)?;
    let now = utc(now);
    let seed = random_seed()?;
    let public = SigningKey::from_bytes(&seed).verifying_key();
    let info = new_info(&public, purpose, now);
    let payload = OfflinePayload {
        format: OFFLINE_FORMAT.to_string(),
        version: PAYLOAD_VERSION,
        purpose,
        created_at: now,
        public_key_multibase: info.public_key_multibase.clone(),
        secret_key: encode_seed(&seed),
    };
    let plain = to_secret_json(&payload, 1024, "offline key")?;
    let ciphertext = age_encrypt(&recipient, &plain)?;
    Ok((
        ciphertext,
        OfflineKey {
            id: info.id,
            purpose,
            public_key_multibase: info.public_key_multibase,
            created_at: now,
        },
    ))
}

pub(crate) fn open_offline(
    ciphertext: &[u8],
    identity: &BackupIdentity,
) -> Result<PlainKey, KeysError> {
    let plain = age_decrypt(ciphertext, identity)?;
    let bad = |reason: String| KeysError::BadPayload {
        what: "offline key",
        reason,
    };
    let payload: OfflinePayload = serde_json::from_slice(&plain).map_err(|e| bad(e.to_string()))?;
    if payload.format != OFFLINE_FORMAT || payload.version != PAYLOAD_VERSION {
        return Err(bad(format!(
            "format {:?} version {}",
            payload.format, payload.version
        )));
    }
    let seed = decode_seed(&payload.secret_key).map_err(|r| bad(r.to_string()))?;
    let public = SigningKey::from_bytes(&seed).verifying_key();
    let recorded = decode_public_key_multibase(&payload.public_key_multibase)
        .map_err(|e| bad(e.to_string()))?;
    if public != recorded {
        return Err(KeysError::KeyMismatch {
            id: payload.public_key_multibase,
        });
    }
    Ok(PlainKey {
        info: new_info(&public, payload.purpose, payload.created_at),
        seed,
    })
}

pub(crate) fn seal_backup(
    keys: &[PlainKey],
    node_identity: &BackupIdentity,
    recipient: &str,
    now: OffsetDateTime,
) -> Result<Vec<u8>, KeysError> {
    let recipient = parse_recipient(recipient)?;
    let node_secret = node_identity.to_secret();
    let payload = BackupPayload {
        format: BACKUP_FORMAT.to_string(),
        version: PAYLOAD_VERSION,
        created_at: now,
        node_identity: Zeroizing::new(node_secret.expose_secret().to_string()),
        keys: keys
            .iter()
            .map(|k| BackupKey {
                id: k.info.id.clone(),
                purpose: k.info.purpose,
                status: k.info.status,
                created_at: k.info.created_at,
                retired_at: k.info.retired_at,
                revoked_at: k.info.revoked_at,
                revocation_reason: k.info.revocation_reason.clone(),
                public_key_multibase: k.info.public_key_multibase.clone(),
                secret_key: encode_seed(&k.seed),
            })
            .collect(),
    };
    let plain = to_secret_json(&payload, 4096 + 2048 * keys.len(), "backup")?;
    age_encrypt(&recipient, &plain)
}

pub(crate) fn open_backup(
    ciphertext: &[u8],
    identity: &BackupIdentity,
) -> Result<(Vec<PlainKey>, BackupIdentity), KeysError> {
    let plain = age_decrypt(ciphertext, identity)?;
    let bad = |reason: String| KeysError::BadPayload {
        what: "backup",
        reason,
    };
    let payload: BackupPayload = serde_json::from_slice(&plain).map_err(|e| bad(e.to_string()))?;
    if payload.format != BACKUP_FORMAT || payload.version != PAYLOAD_VERSION {
        return Err(bad(format!(
            "format {:?} version {}",
            payload.format, payload.version
        )));
    }
    let node_identity = BackupIdentity::parse(&payload.node_identity)?;
    let mut keys = Vec::with_capacity(payload.keys.len());
    for k in payload.keys {
        let seed = decode_seed(&k.secret_key).map_err(|r| bad(format!("key {}: {r}", k.id)))?;
        let public = SigningKey::from_bytes(&seed).verifying_key();
        let recorded = decode_public_key_multibase(&k.public_key_multibase)
            .map_err(|e| bad(format!("key {}: {e}", k.id)))?;
        if public != recorded || KeyId::of(&public) != k.id {
            return Err(KeysError::KeyMismatch {
                id: k.id.to_string(),
            });
        }
        let mut info = new_info(&public, k.purpose, k.created_at);
        info.status = k.status;
        info.retired_at = k.retired_at;
        info.revoked_at = k.revoked_at;
        info.revocation_reason = k.revocation_reason;
        keys.push(PlainKey { info, seed });
    }
    Ok((keys, node_identity))
}

// -- payloads -----------------------------------------------------------------------------

#[derive(Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub(crate) struct BackupPayload {
    pub(crate) format: String,
    pub(crate) version: u32,
    #[serde(with = "time::serde::rfc3339")]
    pub(crate) created_at: OffsetDateTime,
    pub(crate) node_identity: Zeroizing<String>,
    pub(crate) keys: Vec<BackupKey>,
}

#[derive(Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub(crate) struct BackupKey {
    pub(crate) id: KeyId,
    pub(crate) purpose: Purpose,
    pub(crate) status: KeyStatus,
    #[serde(with = "time::serde::rfc3339")]
    pub(crate) created_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339::option")]
    pub(crate) retired_at: Option<OffsetDateTime>,
    #[serde(with = "time::serde::rfc3339::option")]
    pub(crate) revoked_at: Option<OffsetDateTime>,
    pub(crate) revocation_reason: Option<String>,
    pub(crate) public_key_multibase: String,
    pub(crate) secret_key: Zeroizing<String>,
}

#[derive(Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct OfflinePayload {
    format: String,
    version: u32,
    purpose: Purpose,
    #[serde(with = "time::serde::rfc3339")]
    created_at: OffsetDateTime,
    public_key_multibase: String,
    secret_key: Zeroizing<String>,
}

// -- helpers ------------------------------------------------------------------------------

fn encode_seed(seed: &[u8; 32]) -> Zeroizing<String> {
    let mut s = Zeroizing::new(String::with_capacity(64));
    B64.encode_string(seed, &mut s);
    s
}

fn decode_seed(s: &str) -> Result<Zeroizing<[u8; 32]>, &'static str> {
    let mut buf = Zeroizing::new(Vec::with_capacity(64));
    B64.decode_vec(s, &mut buf)
        .map_err(|_| "secret key is not base64")?;
    let mut seed = Zeroizing::new([0u8; 32]);
    if buf.len() != 32 {
        return Err("secret key is not 32 bytes");
    }
    seed.copy_from_slice(&buf);
    Ok(seed)
}

/// Serialize into a zeroized buffer allocated once (`capacity` must exceed the output so
/// no reallocation leaves a copy behind).
pub(crate) fn to_secret_json<T: Serialize>(
    value: &T,
    capacity: usize,
    what: &'static str,
) -> Result<Zeroizing<Vec<u8>>, KeysError> {
    let mut buf = Zeroizing::new(Vec::with_capacity(capacity));
    serde_json::to_writer(&mut *buf, value).map_err(|e| KeysError::BadPayload {
        what,
        reason: e.to_string(),
    })?;
    Ok(buf)
}

fn age_encrypt(recipient: &age::x25519::Recipient, plain: &[u8]) -> Result<Vec<u8>, KeysError> {
    age::encrypt(recipient, plain).map_err(|e| KeysError::Age(e.to_string()))
}

fn age_decrypt(
    ciphertext: &[u8],
    identity: &BackupIdentity,
) -> Result<Zeroizing<Vec<u8>>, KeysError> {
    let decryptor = age::Decryptor::new(ciphertext).map_err(|e| KeysError::Age(e.to_string()))?;
    let mut reader = decryptor
        .decrypt(std::iter::once(&identity.0 as &dyn age::Identity))
        .map_err(|e| KeysError::Age(e.to_string()))?;
    // The plaintext is shorter than the ciphertext: one allocation, zeroized on drop.
    let mut plain = Zeroizing::new(Vec::with_capacity(ciphertext.len() + 64));
    reader
        .read_to_end(&mut plain)
        .map_err(|e| KeysError::Age(e.to_string()))?;
    Ok(plain)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;
    use crate::{KdfParams, Keystore};
    use time::macros::datetime;

    const T: OffsetDateTime = datetime!(2025-01-01 00:00 UTC);

    #[test]
    fn restore_refuses_a_key_that_does_not_derive_its_public_key() {
        let operator = BackupIdentity::generate();
        let seed = Zeroizing::new([1u8; 32]);
        let other = SigningKey::from_bytes(&[2u8; 32]).verifying_key();
        let mut info = new_info(&other, Purpose::PassportSigning, T);
        info.status = KeyStatus::Current;
        let ct = seal_backup(
            &[PlainKey { info, seed }],
            &BackupIdentity::generate(),
            &operator.recipient(),
            T,
        )
        .unwrap();
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("k.json");
        let pass = SecretString::from("pw".to_string());
        let err = Keystore::restore(&path, &pass, KdfParams::FLOOR, &ct, &operator, T).unwrap_err();
        assert!(matches!(err, KeysError::KeyMismatch { .. }), "{err}");
        assert!(!path.exists());
    }

    #[test]
    fn import_refuses_a_key_that_does_not_derive_its_public_key() {
        let node = BackupIdentity::generate();
        let payload = OfflinePayload {
            format: OFFLINE_FORMAT.to_string(),
            version: 1,
            purpose: Purpose::LogCheckpoint,
            created_at: T,
            public_key_multibase: hallmark_core::keys::public_key_multibase(
                &SigningKey::from_bytes(&[2u8; 32]).verifying_key(),
            ),
            secret_key: encode_seed(&[1u8; 32]),
        };
        let plain = to_secret_json(&payload, 1024, "offline key").unwrap();
        let recipient = parse_recipient(&node.recipient()).unwrap();
        let ct = age_encrypt(&recipient, &plain).unwrap();
        assert!(matches!(
            open_offline(&ct, &node),
            Err(KeysError::KeyMismatch { .. })
        ));
        // A backup is not an offline key.
        let backup = seal_backup(&[], &node, &node.recipient(), T).unwrap();
        assert!(matches!(
            open_offline(&backup, &node),
            Err(KeysError::BadPayload {
                what: "offline key",
                ..
            })
        ));
    }

    #[test]
    fn identity_files_parse_with_comments() {
        let id = BackupIdentity::generate();
        use secrecy::ExposeSecret;
        let text = format!(
            "# created: now\n# public key: {}\n{}\n",
            id.recipient(),
            id.to_secret().expose_secret()
        );
        assert_eq!(
            BackupIdentity::parse(&text).unwrap().recipient(),
            id.recipient()
        );
        assert!(matches!(
            BackupIdentity::parse("# nothing\n"),
            Err(KeysError::BadIdentity)
        ));
        assert!(matches!(
            BackupIdentity::parse("AGE-SECRET-KEY-1XYZ"),
            Err(KeysError::BadIdentity)
        ));
    }

    #[test]
    fn secret_json_buffer_does_not_reallocate() {
        let keys: Vec<PlainKey> = (0..20u8)
            .map(|i| {
                let seed = Zeroizing::new([i; 32]);
                let public = SigningKey::from_bytes(&seed).verifying_key();
                let mut info = new_info(&public, Purpose::PassportSigning, T);
                info.revocation_reason = Some("a fairly long reason ".repeat(10));
                PlainKey { info, seed }
            })
            .collect();
        let payload = BackupPayload {
            format: BACKUP_FORMAT.to_string(),
            version: 1,
            created_at: T,
            node_identity: Zeroizing::new(
                BackupIdentity::generate()
                    .to_secret()
                    .expose_secret()
                    .to_string(),
            ),
            keys: keys
                .iter()
                .map(|k| BackupKey {
                    id: k.info.id.clone(),
                    purpose: k.info.purpose,
                    status: k.info.status,
                    created_at: T,
                    retired_at: Some(T),
                    revoked_at: Some(T),
                    revocation_reason: k.info.revocation_reason.clone(),
                    public_key_multibase: k.info.public_key_multibase.clone(),
                    secret_key: encode_seed(&k.seed),
                })
                .collect(),
        };
        let capacity = 4096 + 2048 * keys.len();
        let buf = to_secret_json(&payload, capacity, "backup").unwrap();
        assert_eq!(buf.capacity(), capacity, "buffer grew: copies left behind");
    }
}
