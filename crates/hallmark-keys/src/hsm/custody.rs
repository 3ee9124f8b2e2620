//! [`KeyCustody`] over a PKCS#11 token: the state [`Hsm::connect`] returned (possibly
//! unavailable, for the life of the process) and the row-authentication keys, which come
//! from the configured node secret so that the node can check its own rows with the token
//! down.

use super::{Hsm, HsmConfig, HsmState};
use crate::{Availability, Backend, KeyCustody, KeyEvent, KeyInfo, KeysError, Purpose};
use ed25519_dalek::VerifyingKey;
use hallmark_core::integrity::IntegrityKeys;
use hallmark_core::keys::{KeyId, Signer};
use std::sync::Arc;
use time::OffsetDateTime;

/// A token (ready or unavailable) as the node's key custody.
#[derive(Debug)]
pub struct HsmCustody {
    state: HsmState,
    integrity: Arc<IntegrityKeys>,
}

impl HsmCustody {
    /// Custody over `state`, with the row-authentication keys derived from the node secret.
    pub fn new(state: HsmState, integrity: Arc<IntegrityKeys>) -> Self {
        HsmCustody { state, integrity }
    }

    /// [`Hsm::connect`] (never fails: an unreachable token gives unavailable custody).
    pub fn connect(config: &HsmConfig, integrity: Arc<IntegrityKeys>) -> Self {
        Self::new(Hsm::connect(config), integrity)
    }

    /// The connection state.
    pub fn state(&self) -> &HsmState {
        &self.state
    }

    fn ready(&self) -> Result<&Hsm, KeysError> {
        match &self.state {
            HsmState::Ready(h) => Ok(h),
            HsmState::Unavailable(u) => Err(u.error()),
        }
    }
}

impl KeyCustody for HsmCustody {
    fn backend(&self) -> Backend {
        Backend::Pkcs11
    }

    fn availability(&self) -> Availability {
        match self.state.unavailable_reason() {
            None => Availability::Available,
            Some(reason) => Availability::Unavailable {
                reason: reason.to_string(),
            },
        }
    }

    fn signer(
        &self,
        purpose: Purpose,
        last_known: Option<VerifyingKey>,
    ) -> Result<Box<dyn Signer>, KeysError> {
        Ok(Box::new(self.state.signer(purpose, last_known)?))
    }

    fn list(&self) -> Result<Vec<KeyInfo>, KeysError> {
        self.ready()?.list()
    }

    fn ensure_current(
        &self,
        purpose: Purpose,
        now: OffsetDateTime,
    ) -> Result<Option<KeyEvent>, KeysError> {
        let HsmState::Ready(hsm) = &self.state else {
            return Ok(None);
        };
        match hsm.find(purpose)? {
            Some(_) => Ok(None),
            None => hsm.generate(purpose, now).map(Some),
        }
    }

    fn rotate(&self, purpose: Purpose, now: OffsetDateTime) -> Result<KeyEvent, KeysError> {
        self.ready()?.rotate(purpose, now)
    }

    fn revoke(&self, id: &KeyId, reason: &str, now: OffsetDateTime) -> Result<KeyEvent, KeysError> {
        self.ready()?.revoke(id, reason, now)
    }

    fn integrity_keys(&self) -> Result<Arc<IntegrityKeys>, KeysError> {
        Ok(Arc::clone(&self.integrity))
    }
}
