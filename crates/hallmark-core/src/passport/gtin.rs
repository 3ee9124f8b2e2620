//! [`Gtin`]: GS1 Global Trade Item Number with check-digit validation.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use super::error::PassportError;
use super::gs1::mod10_check_digit;

/// A GS1 GTIN (AI 01), validated and normalised to 14 digits.
///
/// Accepts GTIN-8, GTIN-12 (UPC-A), GTIN-13 (EAN-13) and GTIN-14; shorter forms are
/// left-padded with zeros, which is how GS1 embeds them in AI 01 and Digital Link URIs.
/// Serialised as the 14-digit string.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Gtin([u8; 14]);

impl Gtin {
    /// Parses a GTIN-8/12/13/14 and checks its GS1 mod-10 check digit.
    pub fn parse(s: &str) -> Result<Self, PassportError> {
        if let Some((position, character)) =
            s.chars().enumerate().find(|(_, c)| !c.is_ascii_digit())
        {
            return Err(PassportError::GtinNonDigit {
                position,
                character,
            });
        }
        let digits = s.as_bytes();
        if !matches!(digits.len(), 8 | 12 | 13 | 14) {
            return Err(PassportError::GtinLength { len: digits.len() });
        }
        let mut out = [b'0'; 14];
        out[14 - digits.len()..].copy_from_slice(digits);
        let expected = mod10_check_digit(&out[..13]);
        let found = out[13] - b'0';
        if expected != found {
            return Err(PassportError::GtinCheckDigit { expected, found });
        }
        Ok(Self(out))
    }

    /// The 14-digit form (GTIN-14, as used in AI 01).
    pub fn as_gtin14(&self) -> &str {
        // Only ASCII digits are ever stored.
        std::str::from_utf8(&self.0).unwrap_or_default()
    }
}

impl fmt::Display for Gtin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_gtin14())
    }
}

impl FromStr for Gtin {
    type Err = PassportError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

impl Serialize for Gtin {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_gtin14())
    }
}

impl<'de> Deserialize<'de> for Gtin {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let s = String::deserialize(deserializer)?;
        Self::parse(&s).map_err(serde::de::Error::custom)
    }
}
