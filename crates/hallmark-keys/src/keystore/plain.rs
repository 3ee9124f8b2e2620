//! Key material in memory, as restore, import and the offline ceremony handle it: a
//! private key with its metadata ([`PlainKey`]), a new key's metadata, times as stored.

use crate::{Backend, KeyInfo, Purpose};
use ed25519_dalek::VerifyingKey;
use hallmark_core::did::KeyStatus;
use hallmark_core::keys::KeyId;
use time::OffsetDateTime;
use zeroize::Zeroizing;

/// A private key in memory, with the public metadata it is stored under. Used by restore
/// and import; the seed is zeroized on drop.
pub(crate) struct PlainKey {
    pub(crate) info: KeyInfo,
    pub(crate) seed: Zeroizing<[u8; 32]>,
}

/// Metadata of a new current file-backend key.
pub(crate) fn new_info(public: &VerifyingKey, purpose: Purpose, now: OffsetDateTime) -> KeyInfo {
    KeyInfo {
        id: KeyId::of(public),
        purpose,
        status: KeyStatus::Current,
        backend: Backend::File,
        public_key_multibase: hallmark_core::keys::public_key_multibase(public),
        created_at: now,
        retired_at: None,
        revoked_at: None,
        revocation_reason: None,
    }
}

/// `t` in UTC (how times are stored).
pub(crate) fn utc(t: OffsetDateTime) -> OffsetDateTime {
    t.to_offset(time::UtcOffset::UTC)
}
