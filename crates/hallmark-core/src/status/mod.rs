//! W3C Bitstring Status List v1.0: where a credential says its status can be checked, and
//! the signed lists that say it (verifier guide: `docs/status.md`).
//!
//! Every passport gets one [`StatusRef`] when it is first published — a list number and a
//! position drawn at random within the list (the caller draws; this crate takes the random
//! number) — kept for all its versions and audiences. Its credentials carry two
//! `BitstringStatusListEntry` entries at that position ([`credential_status`]): one in the
//! `suspension` list (bit set while suspended) and one in the `revocation` list (bit set
//! when deactivated, never cleared).
//!
//! - [`BitstringStatusList`]: the [`LIST_SIZE`] bits of one list (bit 0 is the most
//!   significant bit of byte 0), and its `encodedList` form: multibase base64url (`u`, no
//!   padding) of the GZIP of the bytes. Decoding refuses anything that is not exactly one
//!   list, and never inflates more than one list's bytes (a decompression bomb stops there).
//! - [`list_url`], [`credential_status`], [`list_credential`]: the entries of a credential
//!   and the unsigned `BitstringStatusListCredential` of a list, valid for
//!   [`LIST_VALIDITY_SECS`] from the time it is signed, cacheable for [`LIST_TTL_SECS`].
//! - [`status_entries`] and [`ListCredential::parse`]: the same read back by a verifier;
//!   [`crate::verify::check_status`] puts them together as named checks.

mod bitstring;
mod document;

pub use bitstring::{BitstringStatusList, LIST_BYTES, MAX_ENCODED_LEN};
pub use document::{
    credential_status, list_credential, list_url, status_entries, ListCredential, StatusEntry,
    ENTRY_TYPE, LIST_CREDENTIAL_TYPE, LIST_TYPE,
};

use serde::{Deserialize, Serialize};
use std::fmt;

/// Bits in every status list: the specification's minimum (16 KiB uncompressed), which is
/// also its herd-privacy floor.
pub const LIST_SIZE: u32 = 131_072;

/// How long a signed list is valid (`validUntil` − `validFrom`), in seconds: 24 hours. The
/// node re-signs a list well before it expires; a verifier holding an expired copy is warned
/// (its status is "as of `validFrom`"), not failed.
pub const LIST_VALIDITY_SECS: i64 = 86_400;

/// How long a cache may hold a list before fetching it again, in seconds (5 minutes); the
/// list's `credentialSubject.ttl` says the same in milliseconds.
pub const LIST_TTL_SECS: i64 = 300;

/// Why a status list or a status entry cannot be built or read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StatusError {
    /// A purpose Hallmark does not use (only `suspension` and `revocation`).
    #[error("unsupported status purpose {0:?} (expected \"suspension\" or \"revocation\")")]
    UnknownPurpose(String),
    /// A position outside the list.
    #[error("status list index {0} is outside the list (0..{LIST_SIZE})")]
    IndexOutOfRange(u64),
    /// `encodedList` does not start with the multibase base64url prefix `u`.
    #[error("encodedList must be multibase base64url (prefix 'u')")]
    Multibase,
    /// `encodedList` is longer than any list Hallmark reads.
    #[error("encodedList is {0} characters; at most {MAX_ENCODED_LEN} are read")]
    EncodedTooLong(usize),
    /// `encodedList` is not base64url without padding.
    #[error("encodedList is not base64url without padding")]
    Base64,
    /// The decoded bytes are not a valid GZIP stream (header, data or checksum).
    #[error("encodedList is not GZIP data: {0}")]
    Gzip(String),
    /// The list inflates to another size than one list (`None`: more than one list's bytes,
    /// where inflating stopped).
    #[error("the status list is {} bytes; expected exactly {LIST_BYTES}", .0.map_or_else(|| format!("more than {LIST_BYTES}"), |n| n.to_string()))]
    Length(Option<usize>),
    /// Compressing the list failed (not expected: it is compressed in memory).
    #[error("compressing the status list: {0}")]
    Compress(String),
    /// A timestamp could not be formatted or is out of range.
    #[error("status list timestamp out of range")]
    Time,
    /// A `credentialStatus` or a status list credential that is not what the specification
    /// (or Hallmark's profile of it) requires; the message names the member.
    #[error("{0}")]
    Malformed(String),
}

/// What a status list's bit means. Hallmark uses two of the specification's purposes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum StatusPurpose {
    /// Set while the passport is suspended; cleared when it is resumed.
    Suspension,
    /// Set when the passport is deactivated; never cleared.
    Revocation,
}

impl StatusPurpose {
    /// Both purposes, in the order a credential lists its entries.
    pub const ALL: [StatusPurpose; 2] = [StatusPurpose::Suspension, StatusPurpose::Revocation];

    /// The `statusPurpose` value (and the path segment of the list URL).
    pub fn as_str(self) -> &'static str {
        match self {
            StatusPurpose::Suspension => "suspension",
            StatusPurpose::Revocation => "revocation",
        }
    }

    /// Reads a `statusPurpose` value.
    pub fn parse(s: &str) -> Result<Self, StatusError> {
        match s {
            "suspension" => Ok(StatusPurpose::Suspension),
            "revocation" => Ok(StatusPurpose::Revocation),
            other => Err(StatusError::UnknownPurpose(other.to_string())),
        }
    }

    /// What a set bit says about the credential: `suspended` or `revoked`.
    pub fn set_means(self) -> &'static str {
        match self {
            StatusPurpose::Suspension => "suspended",
            StatusPurpose::Revocation => "revoked",
        }
    }
}

impl fmt::Display for StatusPurpose {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for StatusPurpose {
    type Err = StatusError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        StatusPurpose::parse(s)
    }
}

/// A passport's place in the status lists: list number and bit position, the same in the
/// suspension and the revocation list.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct StatusRef {
    /// The list (0, 1, 2, …).
    pub list: u32,
    /// The bit within the list, `< LIST_SIZE`.
    pub index: u32,
}

impl StatusRef {
    /// A position drawn from a uniformly random `u32` (the caller's randomness): `random mod
    /// LIST_SIZE`, which stays uniform because [`LIST_SIZE`] divides 2³².
    pub fn from_random(list: u32, random: u32) -> StatusRef {
        StatusRef {
            list,
            index: random % LIST_SIZE,
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;

    #[test]
    fn purposes_round_trip_and_refuse_others() {
        for p in StatusPurpose::ALL {
            assert_eq!(StatusPurpose::parse(p.as_str()), Ok(p));
            assert_eq!(p.to_string().parse::<StatusPurpose>(), Ok(p));
            assert_eq!(serde_json::to_value(p).unwrap(), p.as_str());
        }
        for bad in ["refresh", "message", "Suspension", "", "revocation "] {
            assert_eq!(
                StatusPurpose::parse(bad),
                Err(StatusError::UnknownPurpose(bad.into()))
            );
        }
        assert_eq!(StatusPurpose::Suspension.set_means(), "suspended");
        assert_eq!(StatusPurpose::Revocation.set_means(), "revoked");
    }

    #[test]
    fn from_random_stays_in_the_list() {
        assert_eq!(StatusRef::from_random(3, 5).index, 5);
        assert_eq!(StatusRef::from_random(3, LIST_SIZE).index, 0);
        assert_eq!(StatusRef::from_random(3, u32::MAX).index, LIST_SIZE - 1);
        assert_eq!(StatusRef::from_random(3, u32::MAX).list, 3);
        assert_eq!(
            serde_json::to_value(StatusRef { list: 1, index: 2 }).unwrap(),
            serde_json::json!({"list": 1, "index": 2})
        );
    }
}
