//! GS1 keys shared by the product and party identifiers: the GS1 mod-10 check digit and the
//! Global Location Number ([`Gln`]), read from the spellings listed in
//! [`crate::passport::party`].

use std::fmt;

use super::error::IdentifierError;

/// GS1 mod-10 check digit of `body` (ASCII digits): weights 3,1,3,1,… from the rightmost body
/// digit. Shared by GTIN (13-digit body), GLN (12-digit body) and the other GS1 keys.
pub(crate) fn mod10_check_digit(body: &[u8]) -> u8 {
    let sum: u32 = body
        .iter()
        .rev()
        .enumerate()
        .map(|(i, d)| u32::from(d - b'0') * if i % 2 == 0 { 3 } else { 1 })
        .sum();
    // `sum % 10` is < 10, so the result fits in u8.
    ((10 - sum % 10) % 10) as u8
}

/// A GS1 Global Location Number: 13 digits (GS1 Company Prefix, location reference, check
/// digit), the GS1 mod-10 check digit verified. A GLN is an ISO/IEC 15459 identifier: GS1
/// holds the issuing agency codes `0`–`9`, and a GLN starts with its GS1 prefix digit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Gln([u8; 13]);

impl Gln {
    /// Parses exactly 13 ASCII digits and checks the GS1 mod-10 check digit.
    pub fn parse(s: &str) -> Result<Self, IdentifierError> {
        if let Some((position, character)) =
            s.chars().enumerate().find(|(_, c)| !c.is_ascii_digit())
        {
            return Err(IdentifierError::GlnNonDigit {
                position,
                character,
            });
        }
        let digits = s.as_bytes();
        if digits.len() != 13 {
            return Err(IdentifierError::GlnLength { len: digits.len() });
        }
        let mut out = [0u8; 13];
        out.copy_from_slice(digits);
        let expected = mod10_check_digit(&out[..12]);
        let found = out[12] - b'0';
        if expected != found {
            return Err(IdentifierError::GlnCheckDigit { expected, found });
        }
        Ok(Self(out))
    }

    /// The GLN of a 12-digit body (company prefix + reference), with the check digit
    /// computed — how an EPC URI (which has no check digit) becomes a GLN.
    pub fn from_body(body: &str) -> Result<Self, IdentifierError> {
        if let Some((position, character)) =
            body.chars().enumerate().find(|(_, c)| !c.is_ascii_digit())
        {
            return Err(IdentifierError::GlnNonDigit {
                position,
                character,
            });
        }
        if body.len() != 12 {
            return Err(IdentifierError::GlnLength {
                len: body.len() + 1,
            });
        }
        let mut out = [0u8; 13];
        out[..12].copy_from_slice(body.as_bytes());
        out[12] = b'0' + mod10_check_digit(body.as_bytes());
        Ok(Self(out))
    }

    /// The 13 digits.
    pub fn as_str(&self) -> &str {
        // Only ASCII digits are ever stored.
        std::str::from_utf8(&self.0).unwrap_or_default()
    }

    /// The ISO/IEC 15459 issuing agency code of this key: its first digit (GS1 holds `0`–`9`).
    pub fn issuing_agency_code(&self) -> &str {
        &self.as_str()[..1]
    }
}

impl fmt::Display for Gln {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What a GLN spelling says the GLN identifies.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum GlnRole {
    /// A party (GS1 AI 417, EPC `pgln`): fits an economic operator.
    Party,
    /// A physical location (GS1 AI 414, EPC `sgln`): fits a facility.
    Location,
    /// A plain GLN or `urn:gln:`: fits either.
    Unspecified,
}

/// A GLN as read from one spelling: the key, the role the spelling gives it and, for a
/// location, the GS1 AI 254 extension (1–20 characters of GS1 set 82).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct GlnRef {
    /// The GLN.
    pub gln: Gln,
    /// The role named by the spelling.
    pub role: GlnRole,
    /// GS1 AI 254 (GLN extension component), only with [`GlnRole::Location`].
    pub extension: Option<String>,
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
    use super::*;

    #[test]
    fn check_digits_of_the_repo_glns() {
        for gln in ["4012345000016", "4012345000009", "4000001000005"] {
            assert_eq!(Gln::parse(gln).unwrap().as_str(), gln);
            assert_eq!(Gln::from_body(&gln[..12]).unwrap().as_str(), gln);
        }
        assert_eq!(
            Gln::parse("4012345000017"),
            Err(IdentifierError::GlnCheckDigit {
                expected: 6,
                found: 7
            })
        );
        assert_eq!(
            Gln::parse("401234500001"),
            Err(IdentifierError::GlnLength { len: 12 })
        );
        assert_eq!(
            Gln::parse("40123450000x6"),
            Err(IdentifierError::GlnNonDigit {
                position: 11,
                character: 'x'
            })
        );
        assert_eq!(
            Gln::parse("4012345000016").unwrap().issuing_agency_code(),
            "4"
        );
    }

    proptest::proptest! {
        /// Exactly one check digit is accepted per 12-digit body, and it round-trips.
        #[test]
        fn one_check_digit_per_body(body in "[0-9]{12}") {
            let accepted: Vec<u8> = (0..10u8)
                .filter(|d| Gln::parse(&format!("{body}{d}")).is_ok())
                .collect();
            proptest::prop_assert_eq!(accepted.len(), 1);
            let gln = Gln::from_body(&body).unwrap();
            proptest::prop_assert_eq!(Gln::parse(gln.as_str()).unwrap(), gln);
            proptest::prop_assert_eq!(gln.as_str().as_bytes()[12] - b'0', accepted[0]);
        }
    }
}
