//! The log-checkpoint key (`Purpose::LogCheckpoint`) in key custody, whichever backend. It is never
//! the passport-signing key: a signer bound to this purpose cannot sign for another.

use crate::integrity::Sources;
use ed25519_dalek::VerifyingKey;
use hallmark_core::keys::{decode_public_key_multibase, Signer};
use hallmark_core::tlog::VerifierKey;
use hallmark_keys::{KeyCustody, KeyEvent, KeysError, Purpose};
use hallmark_store::SigningKeyStatus;
use time::OffsetDateTime;

/// Why the log key cannot be used or created.
#[derive(Debug, thiserror::Error)]
pub enum LogKeyError {
    /// The backend cannot sign now (HSM unavailable, no current log key).
    #[error("log-checkpoint key unavailable: {0}")]
    Unavailable(String),
    /// The keystore or token failed.
    #[error("log-checkpoint key: {0}")]
    Backend(String),
}

/// Creates the log-checkpoint key if custody has no current one (a keystore or token
/// set up before the log existed, or after the log key was revoked). Returns the
/// `Generated` event, or `None` when a current key exists or custody is unavailable (the
/// node then starts without signing, as for passports). The new key's metadata reaches
/// the store, audited, through `App::sync_signing_keys`.
pub fn ensure_log_key(
    custody: &dyn KeyCustody,
    now: OffsetDateTime,
) -> Result<Option<KeyEvent>, LogKeyError> {
    custody
        .ensure_current(Purpose::LogCheckpoint, now)
        .map_err(|e| LogKeyError::Backend(e.to_string()))
}

/// A signer for the current log-checkpoint key.
pub fn log_signer(custody: &dyn KeyCustody) -> Result<Box<dyn Signer>, LogKeyError> {
    custody
        .signer(Purpose::LogCheckpoint, None)
        .map_err(|e| match e {
            KeysError::Unavailable { .. } | KeysError::NoCurrentKey(..) => {
                LogKeyError::Unavailable(e.to_string())
            }
            other => LogKeyError::Backend(other.to_string()),
        })
}

/// The public keys a stored checkpoint may be signed with: this node's current and retired
/// (never revoked) log-checkpoint keys, from custody merged with the signing-key rows that
/// carry the node's tag (`crate::integrity`), so that nothing written to the database by
/// anyone else can add a trusted key. With the HSM unavailable, from the tagged rows alone
/// (the node cannot sign then, it only chooses what to serve).
pub async fn trusted_log_keys(app: &(impl Sources + ?Sized)) -> Vec<VerifyingKey> {
    match crate::integrity::trusted_keys(app).await {
        Ok(keys) => keys
            .iter()
            .filter(|k| {
                k.purpose == Purpose::LogCheckpoint.as_str()
                    && k.status != SigningKeyStatus::Revoked
            })
            .filter_map(|k| decode_public_key_multibase(&k.public_key_multibase).ok())
            .collect(),
        Err(_) => Vec::new(),
    }
}

/// The verifier key (signed-note form) of the current log-checkpoint key, from the trusted
/// keys (so it is served with the HSM down, and no inserted row can name another key).
pub async fn current_verifier_key(
    app: &(impl Sources + ?Sized),
    origin: &str,
) -> Result<Option<VerifierKey>, hallmark_store::StoreError> {
    let keys = crate::integrity::trusted_keys(app).await?;
    Ok(keys
        .iter()
        .find(|k| {
            k.purpose == Purpose::LogCheckpoint.as_str() && k.status == SigningKeyStatus::Current
        })
        .and_then(|k| decode_public_key_multibase(&k.public_key_multibase).ok())
        .and_then(|key| VerifierKey::new(origin, key).ok()))
}
