//! [`PassportId`]: a UUIDv7 written as `urn:uuid:<lowercase uuid>`.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use uuid::{Builder, Uuid, Variant, Version};

use super::error::{echo, PassportError};

const URN_PREFIX: &str = "urn:uuid:";
const MAX_UNIX_MILLIS: u64 = (1 << 48) - 1;

/// The passport's own identifier (EN 18223 / ESPR "unique DPP identifier").
///
/// Always a UUIDv7 so that ids sort by creation time; always written in the canonical
/// lowercase `urn:uuid:` form so that signed bytes are stable. The crate is pure, so the
/// caller supplies both the timestamp and the random bits.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct PassportId(Uuid);

impl PassportId {
    /// Builds a UUIDv7 from a Unix timestamp in milliseconds and 10 caller-supplied random
    /// bytes (74 of their bits are used; version and variant bits are overwritten).
    ///
    /// Fails if `unix_millis` does not fit the 48-bit timestamp field.
    pub fn from_parts(unix_millis: u64, random: [u8; 10]) -> Result<Self, PassportError> {
        if unix_millis > MAX_UNIX_MILLIS {
            return Err(PassportError::PassportIdTimestampOutOfRange {
                millis: unix_millis,
            });
        }
        Ok(Self(
            Builder::from_unix_timestamp_millis(unix_millis, &random).into_uuid(),
        ))
    }

    /// Parses `urn:uuid:<uuid>`; the UUID must be lowercase, hyphenated and version 7.
    pub fn parse(s: &str) -> Result<Self, PassportError> {
        let Some(rest) = s.strip_prefix(URN_PREFIX) else {
            return Err(PassportError::PassportIdPrefix { value: echo(s) });
        };
        if rest.len() != 36 {
            return Err(PassportError::PassportIdMalformed {
                detail: format!(
                    "expected 36 characters after `urn:uuid:`, got {}",
                    rest.len()
                ),
            });
        }
        let uuid = Uuid::try_parse(rest).map_err(|e| PassportError::PassportIdMalformed {
            detail: e.to_string(),
        })?;
        if uuid.hyphenated().to_string() != rest {
            return Err(PassportError::PassportIdMalformed {
                detail: "hex digits must be lowercase".to_owned(),
            });
        }
        Self::from_uuid(uuid)
    }

    /// Wraps an existing UUID, checking that it is a version 7, RFC 9562-variant UUID.
    pub fn from_uuid(uuid: Uuid) -> Result<Self, PassportError> {
        if uuid.get_variant() != Variant::RFC4122 {
            return Err(PassportError::PassportIdNotV7 { version: 0 });
        }
        if uuid.get_version() != Some(Version::SortRand) {
            return Err(PassportError::PassportIdNotV7 {
                version: uuid.get_version_num(),
            });
        }
        Ok(Self(uuid))
    }

    /// The underlying UUID.
    pub fn uuid(&self) -> Uuid {
        self.0
    }

    /// The Unix timestamp (milliseconds) embedded in the UUIDv7.
    pub fn unix_millis(&self) -> u64 {
        let b = self.0.as_bytes();
        b[..6]
            .iter()
            .fold(0u64, |acc, byte| (acc << 8) | u64::from(*byte))
    }
}

impl fmt::Display for PassportId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{URN_PREFIX}{}", self.0.hyphenated())
    }
}

impl FromStr for PassportId {
    type Err = PassportError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

impl Serialize for PassportId {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for PassportId {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let s = String::deserialize(deserializer)?;
        Self::parse(&s).map_err(serde::de::Error::custom)
    }
}
