//! [`X25519PublicJwk`]: a reader's X25519 public key as a JWK (RFC 7517, RFC 8037 §2:
//! `{"kty":"OKP","crv":"X25519","x":"<base64url of 32 bytes>"}`), parsed and checked, and its
//! RFC 7638 thumbprint. The key sealed deliveries are encrypted to (issue 20,
//! `docs/access.md`, "Sealed delivery (JWE)").

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use serde_json::Value;
use sha2::{Digest as _, Sha256};

/// Why a JWK is not an X25519 public key.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum JwkError {
    /// Not a JSON object.
    #[error("a JWK must be a JSON object")]
    NotAnObject,
    /// A required member is missing or not a string.
    #[error("JWK member `{0}` is missing or not a string")]
    Missing(&'static str),
    /// `kty` is not `OKP`.
    #[error("JWK `kty` must be \"OKP\", got {0:?}")]
    KeyType(String),
    /// `crv` is not `X25519`.
    #[error("JWK `crv` must be \"X25519\", got {0:?}")]
    Curve(String),
    /// `x` is not unpadded base64url.
    #[error("JWK `x` is not base64url without padding")]
    Base64,
    /// `x` does not decode to 32 bytes.
    #[error("JWK `x` must be 32 bytes, got {0}")]
    Length(usize),
    /// A private key member (`d`) is present: a public key was expected.
    #[error("JWK carries a private key (`d`); give the public key only")]
    Private,
    /// `use` is present and is not `enc`.
    #[error("JWK `use` must be \"enc\" when present, got {0:?}")]
    Use(String),
    /// `alg` is present and is not `ECDH-ES`.
    #[error("JWK `alg` must be \"ECDH-ES\" when present, got {0:?}")]
    Alg(String),
}

/// An X25519 public key given as a JWK. Only the key is kept; `kid`, `use` and `alg` are
/// checked when present (`use` = `enc`, `alg` = `ECDH-ES`) and not kept.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct X25519PublicJwk {
    x: [u8; 32],
}

impl X25519PublicJwk {
    /// The key from its 32 raw bytes (RFC 7748 u-coordinate).
    #[must_use]
    pub fn from_bytes(x: [u8; 32]) -> Self {
        Self { x }
    }

    /// Parses a JWK from JSON text.
    ///
    /// # Errors
    /// [`JwkError`] naming the first member that is wrong.
    pub fn parse(text: &str) -> Result<Self, JwkError> {
        let value: Value = serde_json::from_str(text).map_err(|_| JwkError::NotAnObject)?;
        Self::from_value(&value)
    }

    /// Reads a JWK already parsed as JSON.
    ///
    /// # Errors
    /// [`JwkError`] naming the first member that is wrong.
    pub fn from_value(value: &Value) -> Result<Self, JwkError> {
        let obj = value.as_object().ok_or(JwkError::NotAnObject)?;
        let member = |name: &'static str| {
            obj.get(name)
                .and_then(Value::as_str)
                .ok_or(JwkError::Missing(name))
        };
        let kty = member("kty")?;
        if kty != "OKP" {
            return Err(JwkError::KeyType(kty.to_owned()));
        }
        let crv = member("crv")?;
        if crv != "X25519" {
            return Err(JwkError::Curve(crv.to_owned()));
        }
        if obj.contains_key("d") {
            return Err(JwkError::Private);
        }
        if let Some(u) = obj.get("use") {
            match u.as_str() {
                Some("enc") => {}
                _ => return Err(JwkError::Use(u.to_string())),
            }
        }
        if let Some(a) = obj.get("alg") {
            match a.as_str() {
                Some("ECDH-ES") => {}
                _ => return Err(JwkError::Alg(a.to_string())),
            }
        }
        let bytes = URL_SAFE_NO_PAD
            .decode(member("x")?)
            .map_err(|_| JwkError::Base64)?;
        let x: [u8; 32] = bytes
            .as_slice()
            .try_into()
            .map_err(|_| JwkError::Length(bytes.len()))?;
        Ok(Self { x })
    }

    /// The 32 raw bytes.
    #[must_use]
    pub fn as_bytes(&self) -> &[u8; 32] {
        &self.x
    }

    /// `x`: the key as base64url without padding.
    #[must_use]
    pub fn x(&self) -> String {
        URL_SAFE_NO_PAD.encode(self.x)
    }

    /// The public JWK `{"crv":"X25519","kty":"OKP","x":…}`.
    #[must_use]
    pub fn to_value(&self) -> Value {
        serde_json::json!({"kty": "OKP", "crv": "X25519", "x": self.x()})
    }

    /// The RFC 7638 JWK thumbprint (SHA-256 over the required members `crv`, `kty`, `x` in
    /// lexicographic order, no whitespace; RFC 8037 §2), base64url without padding.
    #[must_use]
    pub fn thumbprint(&self) -> String {
        let canonical = format!(r#"{{"crv":"X25519","kty":"OKP","x":"{}"}}"#, self.x());
        URL_SAFE_NO_PAD.encode(Sha256::digest(canonical.as_bytes()))
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    // RFC 8037 Appendix A.6: Bob's X25519 public key (RFC 7748 §6.1).
    const BOB_X: &str = "3p7bfXt9wbTTW2HC7OQ1Nz-DQ8hbeGdNrfx-FG-IK08";

    #[test]
    fn parses_rfc8037_key() {
        let jwk = X25519PublicJwk::parse(&format!(
            r#"{{"kty":"OKP","crv":"X25519","x":"{BOB_X}","use":"enc","alg":"ECDH-ES","kid":"b"}}"#
        ))
        .unwrap();
        assert_eq!(jwk.x(), BOB_X);
        assert_eq!(jwk.as_bytes()[0], 0xde);
    }

    #[test]
    fn thumbprint_follows_rfc7638() {
        // RFC 8037 Appendix A.3 gives the Ed25519 example; the same construction over X25519.
        let jwk =
            X25519PublicJwk::parse(&format!(r#"{{"kty":"OKP","crv":"X25519","x":"{BOB_X}"}}"#))
                .unwrap();
        let expected = URL_SAFE_NO_PAD.encode(Sha256::digest(
            format!(r#"{{"crv":"X25519","kty":"OKP","x":"{BOB_X}"}}"#).as_bytes(),
        ));
        assert_eq!(jwk.thumbprint(), expected);
        assert_eq!(jwk.thumbprint().len(), 43);
    }

    #[test]
    fn rfc8037_ed25519_thumbprint_construction() {
        // RFC 8037 A.3: the thumbprint of its Ed25519 key; same canonical form as ours.
        let canonical =
            r#"{"crv":"Ed25519","kty":"OKP","x":"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"}"#;
        assert_eq!(
            URL_SAFE_NO_PAD.encode(Sha256::digest(canonical.as_bytes())),
            "kPrK_qmxVWaYVA9wwBF6Iuo3vVzz7TxHCTwXBygrS4k"
        );
    }

    #[test]
    fn refusals_name_the_member() {
        let cases = [
            ("[]", JwkError::NotAnObject),
            ("{}", JwkError::Missing("kty")),
            (
                r#"{"kty":"EC","crv":"X25519","x":""}"#,
                JwkError::KeyType("EC".into()),
            ),
            (
                r#"{"kty":"OKP","crv":"Ed25519","x":""}"#,
                JwkError::Curve("Ed25519".into()),
            ),
            (r#"{"kty":"OKP","crv":"X25519"}"#, JwkError::Missing("x")),
            (
                r#"{"kty":"OKP","crv":"X25519","x":"AAAA"}"#,
                JwkError::Length(3),
            ),
            (
                r#"{"kty":"OKP","crv":"X25519","x":"AA=="}"#,
                JwkError::Base64,
            ),
            (
                &format!(r#"{{"kty":"OKP","crv":"X25519","x":"{BOB_X}","d":"x"}}"#),
                JwkError::Private,
            ),
            (
                &format!(r#"{{"kty":"OKP","crv":"X25519","x":"{BOB_X}","use":"sig"}}"#),
                JwkError::Use("\"sig\"".into()),
            ),
            (
                &format!(r#"{{"kty":"OKP","crv":"X25519","x":"{BOB_X}","alg":"RSA-OAEP"}}"#),
                JwkError::Alg("\"RSA-OAEP\"".into()),
            ),
        ];
        for (text, want) in cases {
            assert_eq!(X25519PublicJwk::parse(text), Err(want), "{text}");
        }
    }
}
