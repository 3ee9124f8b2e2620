//! Sealed delivery (issue 20; reader guide: `docs/access.md`, "Sealed delivery (JWE)"): a
//! credential encrypted to a reader's X25519 key as a standard compact JWE — `ECDH-ES`
//! (X25519, RFC 8037) with `A256GCM` — with the passport id and version in the protected
//! header, which compact serialization authenticates as the AEAD's additional data.
//!
//! All cryptography is `picky`'s (the JOSE layer, X25519 and AES-GCM); the ephemeral key and
//! the IV come from the operating system's generator inside it. This module writes the header
//! members and checks them on the way back.
//!
//! ECDH-ES does not authenticate the sender: anyone with the reader's public key can make a
//! JWE. What is sealed is the node's signed credential, which does.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use hallmark_core::jwk::X25519PublicJwk;
use hallmark_core::passport::PassportId;
use picky::jose::jwe::{Jwe, JweAlg, JweEnc, JweError, RawJwe};
use picky::key::{EdAlgorithm, PrivateKey, PublicKey};
use rand_core::OsRng;
use zeroize::Zeroizing;

/// `apu` (Agreement PartyUInfo, RFC 7518 §4.6.1.2), before base64url: the sender.
pub const APU: &str = "hallmark";
/// Protected header member: the passport id (`urn:uuid:…`).
pub const HEADER_PASSPORT: &str = "dpp_id";
/// Protected header member: the passport version (a JSON number).
pub const HEADER_VERSION: &str = "dpp_ver";

/// Why a credential could not be sealed or opened.
#[derive(Debug, thiserror::Error)]
pub enum SealError {
    /// The recipient key is a low-order point: every shared secret would be zero.
    #[error("the recipient's X25519 key is a low-order point (no shared secret)")]
    LowOrderKey,
    /// The JOSE library could not encrypt.
    #[error("JWE encryption failed: {0}")]
    Encrypt(#[source] JweError),
    /// Not a compact JWE (five base64url segments, a JSON protected header).
    #[error("not a compact JWE: {0}")]
    Malformed(#[source] JweError),
    /// Another algorithm than `ECDH-ES` / `A256GCM`.
    #[error("JWE uses alg {alg} / enc {enc}; only ECDH-ES / A256GCM is accepted")]
    Algorithm {
        /// The header's `alg`.
        alg: String,
        /// The header's `enc`.
        enc: String,
    },
    /// The header names another passport, or none.
    #[error("JWE is sealed for passport {got:?}, expected {expected}")]
    WrongPassport {
        /// The passport asked for.
        expected: String,
        /// The header's `dpp_id`, if any.
        got: Option<String>,
    },
    /// The header names another version, or none.
    #[error("JWE is sealed for version {got:?}, expected {expected}")]
    WrongVersion {
        /// The version asked for.
        expected: u32,
        /// The header's `dpp_ver`, if a number.
        got: Option<u64>,
    },
    /// `apu` / `apv` are not the ones this passport and version give.
    #[error("JWE key agreement info (apu/apv) does not match the passport and version")]
    PartyInfo,
    /// Decryption failed: another key, or the token was altered (header or ciphertext).
    #[error("JWE does not decrypt with this key (wrong key, or the token was altered)")]
    Decrypt,
}

/// `apv` (Agreement PartyVInfo) before base64url: the passport id and version, e.g.
/// `urn:uuid:…#3`. In the Concat KDF too, so the key itself depends on them.
#[must_use]
pub fn party_v_info(passport: &PassportId, version: u32) -> String {
    format!("{passport}#{version}")
}

/// Seals `credential` (the bytes of a secured credential, of media type `media_type`, which
/// becomes `cty`) to `recipient` as a compact JWE with protected header
/// `{alg: ECDH-ES, enc: A256GCM, cty, kid: RFC 7638 thumbprint of the recipient, apu, apv,
/// dpp_id, dpp_ver, epk}`.
///
/// # Errors
/// [`SealError::LowOrderKey`] for a key no secret can be agreed with;
/// [`SealError::Encrypt`] if the library fails (e.g. no operating-system randomness).
pub fn seal(
    credential: &[u8],
    recipient: &X25519PublicJwk,
    passport: &PassportId,
    version: u32,
    media_type: &str,
) -> Result<String, SealError> {
    let point = x25519_dalek::PublicKey::from(*recipient.as_bytes());
    if !x25519_dalek::EphemeralSecret::random_from_rng(OsRng)
        .diffie_hellman(&point)
        .was_contributory()
    {
        return Err(SealError::LowOrderKey);
    }
    let key =
        PublicKey::from_ed_encoded_components(&EdAlgorithm::X25519.into(), recipient.as_bytes());
    let mut jwe = Jwe::new(JweAlg::EcdhEs, JweEnc::Aes256Gcm, credential.to_vec());
    jwe.header.cty = Some(media_type.to_owned());
    jwe.header.kid = Some(recipient.thumbprint());
    jwe.header.apu = Some(URL_SAFE_NO_PAD.encode(APU));
    jwe.header.apv = Some(URL_SAFE_NO_PAD.encode(party_v_info(passport, version)));
    jwe.header
        .additional
        .insert(HEADER_PASSPORT.into(), passport.to_string().into());
    jwe.header
        .additional
        .insert(HEADER_VERSION.into(), version.into());
    jwe.encode(&key).map_err(SealError::Encrypt)
}

/// Opens a sealed credential with the reader's X25519 secret, refusing a token for another
/// passport or version (checked in the protected header before decrypting; decryption then
/// authenticates that header).
///
/// # Errors
/// [`SealError::Malformed`], [`SealError::Algorithm`], [`SealError::WrongPassport`],
/// [`SealError::WrongVersion`], [`SealError::PartyInfo`], then [`SealError::Decrypt`].
pub fn open(
    jwe: &str,
    recipient: &x25519_dalek::StaticSecret,
    passport: &PassportId,
    version: u32,
) -> Result<Vec<u8>, SealError> {
    let raw = RawJwe::decode(jwe.trim()).map_err(SealError::Malformed)?;
    let header = &raw.header;
    if header.alg != JweAlg::EcdhEs || header.enc != JweEnc::Aes256Gcm {
        return Err(SealError::Algorithm {
            alg: format!("{:?}", header.alg),
            enc: format!("{:?}", header.enc),
        });
    }
    let got_id = header
        .additional
        .get(HEADER_PASSPORT)
        .and_then(serde_json::Value::as_str);
    if got_id != Some(passport.to_string().as_str()) {
        return Err(SealError::WrongPassport {
            expected: passport.to_string(),
            got: got_id.map(str::to_owned),
        });
    }
    let got_ver = header
        .additional
        .get(HEADER_VERSION)
        .and_then(serde_json::Value::as_u64);
    if got_ver != Some(u64::from(version)) {
        return Err(SealError::WrongVersion {
            expected: version,
            got: got_ver,
        });
    }
    let apv = URL_SAFE_NO_PAD.encode(party_v_info(passport, version));
    if header.apu.as_deref() != Some(URL_SAFE_NO_PAD.encode(APU).as_str())
        || header.apv.as_deref() != Some(apv.as_str())
    {
        return Err(SealError::PartyInfo);
    }
    let secret = Zeroizing::new(recipient.to_bytes());
    let public = x25519_dalek::PublicKey::from(recipient);
    let key = PrivateKey::from_ed_encoded_components(
        EdAlgorithm::X25519.into(),
        &secret[..],
        Some(public.as_bytes()),
    );
    let opened = raw.decrypt(&key).map_err(|_| SealError::Decrypt)?;
    Ok(opened.payload)
}
