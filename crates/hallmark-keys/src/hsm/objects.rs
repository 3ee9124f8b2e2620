//! Key objects in the token: Ed25519 key-pair generation (non-extractable, sensitive,
//! sign-only private keys), finding and destroying objects by label, and reading public
//! keys (`CKA_EC_POINT`).

use crate::KeysError;
use cryptoki::error::{Error as CkError, RvError};
use cryptoki::mechanism::Mechanism;
use cryptoki::object::{Attribute, AttributeType, KeyType, ObjectClass, ObjectHandle};
use cryptoki::session::Session;
use ed25519_dalek::VerifyingKey;
use sha2::{Digest, Sha256};

/// `CKA_EC_PARAMS` for Ed25519 as the DER OID 1.3.101.112 (RFC 8410), the preferred form.
pub const ED25519_PARAMS_OID: [u8; 5] = [0x06, 0x03, 0x2b, 0x65, 0x70];
/// `CKA_EC_PARAMS` for Ed25519 as the DER PrintableString `"edwards25519"`, the older form
/// some tokens (and `pkcs11-tool`) use.
pub const ED25519_PARAMS_NAME: [u8; 14] = [
    0x13, 0x0c, b'e', b'd', b'w', b'a', b'r', b'd', b's', b'2', b'5', b'5', b'1', b'9',
];

pub(super) fn find_one(
    s: &Session,
    template: &[Attribute],
) -> Result<Option<ObjectHandle>, KeysError> {
    let found = s
        .find_objects(template)
        .map_err(KeysError::ck("C_FindObjects"))?;
    match found.as_slice() {
        [] => Ok(None),
        [one] => Ok(Some(*one)),
        _ => Err(KeysError::Token(format!(
            "{} objects match one label",
            found.len()
        ))),
    }
}

pub(super) fn destroy_private(s: &Session, label: &str) -> Result<(), KeysError> {
    let handles = s
        .find_objects(&[
            Attribute::Class(ObjectClass::PRIVATE_KEY),
            Attribute::Label(label.as_bytes().to_vec()),
        ])
        .map_err(KeysError::ck("C_FindObjects"))?;
    for h in handles {
        s.destroy_object(h)
            .map_err(KeysError::ck("C_DestroyObject(private key)"))?;
    }
    Ok(())
}

/// `C_GenerateKeyPair` for Ed25519, trying the OID form of the curve parameters first.
pub(super) fn generate_pair(
    s: &Session,
    label: &str,
) -> Result<(ObjectHandle, ObjectHandle), KeysError> {
    let private = [
        Attribute::Token(true),
        Attribute::Private(true),
        Attribute::Sensitive(true),
        Attribute::Extractable(false),
        Attribute::Sign(true),
        Attribute::Derive(false),
        Attribute::Decrypt(false),
        Attribute::Unwrap(false),
        Attribute::Label(label.as_bytes().to_vec()),
    ];
    let mut last = None;
    for params in [&ED25519_PARAMS_OID[..], &ED25519_PARAMS_NAME[..]] {
        let public = [
            Attribute::Token(true),
            Attribute::Private(false),
            Attribute::Verify(true),
            Attribute::Encrypt(false),
            Attribute::Wrap(false),
            Attribute::EcParams(params.to_vec()),
            Attribute::Label(label.as_bytes().to_vec()),
        ];
        match s.generate_key_pair(&Mechanism::EccEdwardsKeyPairGen, &public, &private) {
            Ok(pair) => return Ok(pair),
            Err(
                e @ CkError::Pkcs11(
                    RvError::CurveNotSupported
                    | RvError::DomainParamsInvalid
                    | RvError::AttributeValueInvalid
                    | RvError::TemplateInconsistent,
                    _,
                ),
            ) => last = Some(e),
            Err(e) => return Err(KeysError::ck("C_GenerateKeyPair")(e)),
        }
    }
    Err(KeysError::Pkcs11 {
        op: "C_GenerateKeyPair",
        source: last.unwrap_or(CkError::NotSupported),
    })
}

pub(super) fn read_public_key(s: &Session, label: &str) -> Result<VerifyingKey, KeysError> {
    let h = find_one(
        s,
        &[
            Attribute::Class(ObjectClass::PUBLIC_KEY),
            Attribute::KeyType(KeyType::EC_EDWARDS),
            Attribute::Label(label.as_bytes().to_vec()),
        ],
    )?
    .ok_or_else(|| KeysError::Token(format!("public key {label:?} is missing")))?;
    public_key_of(s, h)
}

pub(super) fn public_key_of(s: &Session, public: ObjectHandle) -> Result<VerifyingKey, KeysError> {
    let attrs = s
        .get_attributes(public, &[AttributeType::EcPoint])
        .map_err(KeysError::ck("C_GetAttributeValue(CKA_EC_POINT)"))?;
    let Some(Attribute::EcPoint(point)) = attrs.into_iter().next() else {
        return Err(KeysError::Token("public key has no CKA_EC_POINT".into()));
    };
    let raw = ec_point_bytes(&point).ok_or_else(|| {
        KeysError::Token(format!(
            "CKA_EC_POINT is not an Ed25519 point ({} bytes)",
            point.len()
        ))
    })?;
    VerifyingKey::from_bytes(&raw)
        .map_err(|_| KeysError::Token("CKA_EC_POINT is not a valid Ed25519 key".into()))
}

/// The 32 key bytes of a `CKA_EC_POINT`: a DER OCTET STRING (`04 20 …`, what the spec and
/// SoftHSM2 use) or the raw bytes (what some tokens return).
pub fn ec_point_bytes(point: &[u8]) -> Option<[u8; 32]> {
    match point {
        [0x04, 0x20, rest @ ..] if rest.len() == 32 => <[u8; 32]>::try_from(rest).ok(),
        raw if raw.len() == 32 => <[u8; 32]>::try_from(raw).ok(),
        _ => None,
    }
}

/// `CKA_ID` of a key: the first 16 bytes of SHA-256 of the 32-byte public key.
pub fn cka_id(key: &VerifyingKey) -> Vec<u8> {
    Sha256::digest(key.as_bytes())[..16].to_vec()
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;
    #[test]
    fn ec_point_wrapped_and_raw() {
        let raw = [9u8; 32];
        let mut wrapped = vec![0x04, 0x20];
        wrapped.extend_from_slice(&raw);
        assert_eq!(ec_point_bytes(&wrapped), Some(raw));
        assert_eq!(ec_point_bytes(&raw), Some(raw));
        assert_eq!(ec_point_bytes(&wrapped[..33]), None);
        assert_eq!(ec_point_bytes(&[0x04, 0x21, 0]), None);
        assert_eq!(ec_point_bytes(&[]), None);
    }

    #[test]
    fn curve_params_are_der() {
        // OID 1.3.101.112 = 06 03 2B 65 70; PrintableString "edwards25519".
        assert_eq!(ED25519_PARAMS_OID, [0x06, 0x03, 0x2b, 0x65, 0x70]);
        assert_eq!(ED25519_PARAMS_NAME[0], 0x13);
        assert_eq!(usize::from(ED25519_PARAMS_NAME[1]), b"edwards25519".len());
        assert_eq!(&ED25519_PARAMS_NAME[2..], b"edwards25519");
    }
}
