//! The refusals of a signed restricted read (`docs/access.md`, "Restricted reads"): each its
//! own problem type, none saying anything about a passport. Signature problems are 401 (the
//! request does not prove a reader), reader-state and scope problems 403 (the reader is known
//! but may not read this).

use axum::http::StatusCode;
use hallmark_core::httpsig::HttpSigError;

/// Why a signed request was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ReaderRefusal {
    /// The signature does not hold (`hallmark_core::httpsig`'s refusal, by its slug).
    #[error("{0}")]
    Signature(HttpSigError),
    /// No reader is registered under the signature's `keyid`.
    #[error("no reader is registered under this keyid")]
    UnknownReader,
    /// The reader is registered but not (yet) approved.
    #[error("the reader is not approved")]
    NotApproved,
    /// The reader is suspended.
    #[error("the reader is suspended")]
    Suspended,
    /// The reader is revoked.
    #[error("the reader is revoked")]
    Revoked,
    /// The reader's grant has expired.
    #[error("the reader's grant has expired")]
    GrantExpired,
    /// The (reader, nonce) pair was used before.
    #[error("this nonce was already used by this reader")]
    Replayed,
    /// The passport asked for is not in the reader's grant (or does not exist: the same
    /// answer).
    #[error("the reader's grant does not cover this request")]
    OutOfScope,
    /// A sealed answer is asked for (or the operator seals this tier always), but the reader
    /// registered no X25519 key to seal it to.
    #[error(
        "a sealed answer needs the reader's X25519 key, and none was registered (register a \
         new key with x25519PublicKey, or ask without application/jose)"
    )]
    NoEncryptionKey,
    /// The operator delivers this tier only sealed, and the door asked through has no
    /// sealed form (the EN 18222 reads).
    #[error(
        "this node delivers the reader's tier only sealed; read the passport URL with \
         Accept: application/jose"
    )]
    SealedOnly,
}

impl ReaderRefusal {
    /// The problem type's slug (`urn:hallmark:problem:<slug>`).
    pub fn slug(&self) -> &'static str {
        match self {
            ReaderRefusal::Signature(e) => e.slug(),
            ReaderRefusal::UnknownReader => "unknown-reader",
            ReaderRefusal::NotApproved => "reader-not-approved",
            ReaderRefusal::Suspended => "reader-suspended",
            ReaderRefusal::Revoked => "reader-revoked",
            ReaderRefusal::GrantExpired => "grant-expired",
            ReaderRefusal::Replayed => "replayed-request",
            ReaderRefusal::OutOfScope => "out-of-scope",
            ReaderRefusal::NoEncryptionKey => "no-encryption-key",
            ReaderRefusal::SealedOnly => "sealed-delivery-required",
        }
    }

    /// The problem's title.
    pub fn title(&self) -> &'static str {
        match self {
            ReaderRefusal::Signature(_) => "Request signature refused",
            ReaderRefusal::UnknownReader => "Unknown reader",
            ReaderRefusal::NotApproved => "Reader not approved",
            ReaderRefusal::Suspended => "Reader suspended",
            ReaderRefusal::Revoked => "Reader revoked",
            ReaderRefusal::GrantExpired => "Grant expired",
            ReaderRefusal::Replayed => "Replayed request",
            ReaderRefusal::OutOfScope => "Out of scope",
            ReaderRefusal::NoEncryptionKey => "No encryption key",
            ReaderRefusal::SealedOnly => "Sealed delivery required",
        }
    }

    /// 401 when the request does not prove a reader (signature, unknown key, replay), 403
    /// when the reader is known but may not read.
    pub fn status(&self) -> StatusCode {
        match self {
            ReaderRefusal::Signature(_)
            | ReaderRefusal::UnknownReader
            | ReaderRefusal::Replayed => StatusCode::UNAUTHORIZED,
            ReaderRefusal::NotApproved
            | ReaderRefusal::Suspended
            | ReaderRefusal::Revoked
            | ReaderRefusal::GrantExpired
            | ReaderRefusal::OutOfScope => StatusCode::FORBIDDEN,
            ReaderRefusal::NoEncryptionKey | ReaderRefusal::SealedOnly => {
                StatusCode::NOT_ACCEPTABLE
            }
        }
    }
}
