//! The connection to a token: the PKCS#11 module, loaded and `C_Initialize`d once per
//! process and never unloaded ([`load_module`]), the process-wide lock that serialises every
//! call into one module, and the one logged-in read/write session per [`Hsm`](super::Hsm)
//! behind its own lock, re-established once when it is lost ([`Inner::with_session`]).

use super::HsmConfig;
use crate::KeysError;
use cryptoki::context::{CInitializeArgs, CInitializeFlags, Pkcs11};
use cryptoki::error::{Error as CkError, RvError};
use cryptoki::mechanism::MechanismType;
use cryptoki::session::{Session, UserType};
use cryptoki::slot::Slot;
use secrecy::SecretString;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard, OnceLock, PoisonError};

/// The shared state of an [`Hsm`](super::Hsm) and its clones and signers.
pub(super) struct Inner {
    ctx: Pkcs11,
    /// Held for every call into the module; shared by all `Hsm`s on the same module.
    calls: Arc<Mutex<()>>,
    slot: Slot,
    pin: SecretString,
    /// Label of the token.
    pub(super) token_label: String,
    /// Prefix of every object label (`<prefix>:<purpose>:<n>`).
    pub(super) prefix: String,
    session: Mutex<Option<Session>>,
}

impl Inner {
    /// Load the module, find the token, check it has Ed25519, open a session and log in.
    pub(super) fn connect(config: &HsmConfig) -> Result<Inner, KeysError> {
        if config.key_label_prefix.is_empty() {
            return Err(KeysError::Config(
                "key_label_prefix must not be empty".into(),
            ));
        }
        let path = &config.module_path;
        if !path.is_file() {
            return Err(KeysError::unavailable(format!(
                "PKCS#11 module not found at {}",
                path.display()
            )));
        }
        let Module { ctx, calls } = load_module(path)?;
        let module_lock = Arc::clone(&calls);
        let _module = module_lock.lock().unwrap_or_else(PoisonError::into_inner);
        let slots = ctx
            .get_slots_with_token()
            .map_err(|e| KeysError::unavailable(format!("cannot list tokens: {e}")))?;
        let mut seen = Vec::new();
        let mut found = None;
        for slot in slots {
            let Ok(info) = ctx.get_token_info(slot) else {
                continue;
            };
            let label = info.label().trim_end().to_string();
            if label == config.token_label {
                found = Some(slot);
                break;
            }
            seen.push(label);
        }
        let slot = found.ok_or_else(|| {
            KeysError::unavailable(format!(
                "no token labelled {:?} (tokens present: {:?})",
                config.token_label, seen
            ))
        })?;
        let mechanisms = ctx
            .get_mechanism_list(slot)
            .map_err(|e| KeysError::unavailable(format!("cannot list mechanisms: {e}")))?;
        for needed in [
            MechanismType::ECC_EDWARDS_KEY_PAIR_GEN,
            MechanismType::EDDSA,
        ] {
            if !mechanisms.contains(&needed) {
                return Err(KeysError::unavailable(format!(
                    "token {:?} does not support {needed} (Ed25519)",
                    config.token_label
                )));
            }
        }
        let inner = Inner {
            ctx,
            calls,
            slot,
            pin: config.pin.clone(),
            token_label: config.token_label.clone(),
            prefix: config.key_label_prefix.clone(),
            session: Mutex::new(None),
        };
        let session = inner.open_session()?;
        *inner.lock() = Some(session);
        Ok(inner)
    }

    fn lock(&self) -> MutexGuard<'_, Option<Session>> {
        match self.session.lock() {
            Ok(g) => g,
            Err(poisoned) => {
                // A panic mid-call: the session may be in any state; start a fresh one.
                let mut g = poisoned.into_inner();
                *g = None;
                g
            }
        }
    }

    fn open_session(&self) -> Result<Session, KeysError> {
        let session = self.ctx.open_rw_session(self.slot).map_err(|e| {
            KeysError::unavailable(format!(
                "cannot open a session on token {:?}: {e}",
                self.token_label
            ))
        })?;
        match session.login(UserType::User, Some(&self.pin)) {
            // Login state is per application: another session of this process is logged in.
            Ok(()) | Err(CkError::Pkcs11(RvError::UserAlreadyLoggedIn, _)) => Ok(session),
            Err(CkError::Pkcs11(rv @ (RvError::PinIncorrect | RvError::PinInvalid), _)) => {
                Err(KeysError::unavailable(format!(
                    "login to token {:?} failed: {rv}",
                    self.token_label
                )))
            }
            Err(e) => Err(KeysError::unavailable(format!(
                "login to token {:?} failed: {e}",
                self.token_label
            ))),
        }
    }

    /// Run `f` on the shared session, reconnecting once if the session was lost.
    pub(super) fn with_session<T>(
        &self,
        mut f: impl FnMut(&Session) -> Result<T, KeysError>,
    ) -> Result<T, KeysError> {
        // Module lock first, then this connection's session: always in this order.
        let _module = self.calls.lock().unwrap_or_else(PoisonError::into_inner);
        let mut guard = self.lock();
        for attempt in 0..2 {
            if guard.is_none() {
                *guard = Some(self.open_session()?);
            }
            let Some(session) = guard.as_ref() else {
                continue;
            };
            match f(session) {
                Err(e) if e.is_connection_lost() => {
                    *guard = None;
                    if attempt == 1 {
                        return Err(KeysError::unavailable(e.to_string()));
                    }
                }
                other => return other,
            }
        }
        Err(KeysError::unavailable(
            "session could not be re-established",
        ))
    }
}

/// Modules loaded by this process, by path. A PKCS#11 module is loaded and initialised
/// once per process and then kept: `C_Initialize` is process-wide, and loading, initialising
/// or unloading it concurrently from several threads is not safe with every module.
static MODULES: OnceLock<Mutex<HashMap<PathBuf, Module>>> = OnceLock::new();

/// A loaded module, and the lock that serialises all calls into it from this process.
/// SoftHSM2 is not reliably thread-safe across sessions: concurrent key generation or
/// object creation fails with `CKR_GENERAL_ERROR` (SoftHSMv2 issues #485, #573) and 2.6.1
/// can crash under concurrent load (#688); we saw both in this crate's tests.
#[derive(Clone)]
struct Module {
    ctx: Pkcs11,
    calls: Arc<Mutex<()>>,
}

fn load_module(path: &Path) -> Result<Module, KeysError> {
    let key = path.canonicalize().unwrap_or_else(|_| path.to_path_buf());
    let mut modules = MODULES
        .get_or_init(Mutex::default)
        .lock()
        .unwrap_or_else(PoisonError::into_inner);
    if let Some(module) = modules.get(&key) {
        return Ok(module.clone());
    }
    let ctx = Pkcs11::new(&key).map_err(|e| {
        KeysError::unavailable(format!(
            "cannot load PKCS#11 module {}: {e}",
            path.display()
        ))
    })?;
    match ctx.initialize(CInitializeArgs::new(CInitializeFlags::OS_LOCKING_OK)) {
        // Something else in this process initialised the module already: it is shared.
        Ok(()) | Err(CkError::Pkcs11(RvError::CryptokiAlreadyInitialized, _)) => {}
        Err(e) => {
            return Err(KeysError::unavailable(format!(
                "cannot initialise PKCS#11 module {}: {e}",
                path.display()
            )))
        }
    }
    let module = Module {
        ctx,
        calls: Arc::default(),
    };
    modules.insert(key, module.clone());
    Ok(module)
}
