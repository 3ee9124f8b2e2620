//! The PKCS#11 backend against a real SoftHSM2 token.
//!
//! SoftHSM2 reads `SOFTHSM2_CONF` once, when the module is initialised, and a PKCS#11 module
//! is initialised once per process; so this test binary uses ONE token directory (created on
//! first use, under Cargo's target tmpdir) for all its tests, which keep apart by using
//! distinct key label prefixes on the shared token. The wrong-PIN test has a token of its
//! own, because PKCS#11 login state is shared by the whole process (a wrong PIN would look
//! accepted on a token another test is logged into).
//!
//! Tests also take a static lock for their whole run: SoftHSM2 is not reliably thread-safe
//! across sessions (concurrent EdDSA key generation fails with CKR_GENERAL_ERROR, and 2.6.1
//! can crash; SoftHSMv2 issues #485, #573, #688). The backend itself serialises its calls
//! per module, but these tests also use raw PKCS#11 sessions to inspect the token.
//!
//! SoftHSM2 must be installed (`apt-get install softhsm2`; `scripts/test` does it): without
//! it these tests fail, they do not skip.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use cryptoki::context::{CInitializeArgs, CInitializeFlags, Pkcs11};
use cryptoki::error::{Error as CkError, RvError};
use cryptoki::mechanism::eddsa::{EddsaParams, EddsaSignatureScheme};
use cryptoki::mechanism::Mechanism;
use cryptoki::object::{Attribute, AttributeInfo, AttributeType, KeyType, ObjectClass};
use cryptoki::session::{Session, UserType};
use ed25519_dalek::Verifier;
use hallmark_core::did::KeyStatus;
use hallmark_core::keys::{KeyId, Signer, SignerError};
use hallmark_keys::hsm::{cka_id, Hsm, HsmConfig, HsmState, ED25519_PARAMS_OID};
use hallmark_keys::{Backend, KeyEvent, KeysError, Purpose};
use secrecy::SecretString;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::{Mutex, MutexGuard, OnceLock, PoisonError};
use std::time::Instant;
use time::macros::datetime;

const MODULE: &str = "/usr/lib/softhsm/libsofthsm2.so";
const TOKEN: &str = "hallmark-test";
const PIN: &str = "user-pin-73021";
const SO_PIN: &str = "so-pin-88310";
const PIN_TOKEN: &str = "hallmark-pin-test";
const PIN_TOKEN_PIN: &str = "other-pin-51234";

/// The token directory and a raw PKCS#11 context (for inspecting what Hallmark created).
struct Fixture {
    ctx: Pkcs11,
}

static FIXTURE: OnceLock<Fixture> = OnceLock::new();
static SERIAL: Mutex<()> = Mutex::new(());

/// Run one test at a time (a failed test must not fail the others: ignore poisoning).
fn serial() -> MutexGuard<'static, ()> {
    SERIAL.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Create the token directory and tokens once per test binary; panics (fails the test)
/// with installation advice when SoftHSM2 is missing.
fn fixture() -> &'static Fixture {
    FIXTURE.get_or_init(|| {
        assert!(
            Path::new(MODULE).is_file(),
            "SoftHSM2 is not installed: {MODULE} is missing. Install the Debian package \
             `softhsm2` (apt-get install softhsm2), or run scripts/test, which installs it."
        );
        let dir = tempfile::Builder::new()
            .prefix("softhsm-")
            .tempdir_in(env!("CARGO_TARGET_TMPDIR"))
            .unwrap()
            .keep();
        let tokens = dir.join("tokens");
        std::fs::create_dir(&tokens).unwrap();
        let conf = dir.join("softhsm2.conf");
        std::fs::write(
            &conf,
            format!(
                "directories.tokendir = {}\nobjectstore.backend = file\nlog.level = ERROR\n",
                tokens.display()
            ),
        )
        .unwrap();
        // Before any test loads the module (all of them come through here first).
        std::env::set_var("SOFTHSM2_CONF", &conf);
        for (label, pin) in [(TOKEN, PIN), (PIN_TOKEN, PIN_TOKEN_PIN)] {
            let out = Command::new("softhsm2-util")
                .env("SOFTHSM2_CONF", &conf)
                .args(["--init-token", "--free", "--label", label])
                .args(["--pin", pin, "--so-pin", SO_PIN])
                .output()
                .expect("softhsm2-util is missing: install the Debian package `softhsm2`");
            assert!(
                out.status.success(),
                "softhsm2-util --init-token failed: {}",
                String::from_utf8_lossy(&out.stderr)
            );
        }
        // Load and initialise the module here, once, while no other test touches it.
        let ctx = Pkcs11::new(MODULE).unwrap();
        ctx.initialize(CInitializeArgs::new(CInitializeFlags::OS_LOCKING_OK))
            .unwrap();
        Fixture { ctx }
    })
}

fn test_slot(ctx: &Pkcs11) -> cryptoki::slot::Slot {
    ctx.get_slots_with_token()
        .unwrap()
        .into_iter()
        .find(|s| ctx.get_token_info(*s).unwrap().label().trim_end() == TOKEN)
        .unwrap()
}

fn config(prefix: &str) -> HsmConfig {
    fixture();
    HsmConfig {
        module_path: MODULE.into(),
        token_label: TOKEN.into(),
        pin: SecretString::from(PIN),
        key_label_prefix: prefix.into(),
    }
}

fn connect(prefix: &str) -> Hsm {
    match Hsm::connect(&config(prefix)) {
        HsmState::Ready(h) => h,
        HsmState::Unavailable(u) => panic!("SoftHSM token should be usable: {u}"),
    }
}

const T0: time::OffsetDateTime = datetime!(2026-03-01 10:00 UTC);
const T1: time::OffsetDateTime = datetime!(2026-04-01 10:00 UTC);
const T2: time::OffsetDateTime = datetime!(2026-05-01 10:00 UTC);

/// A raw PKCS#11 session on the shared token, to inspect what Hallmark created.
fn raw_session() -> Session {
    let ctx = &fixture().ctx;
    let s = ctx.open_ro_session(test_slot(ctx)).unwrap();
    match s.login(UserType::User, Some(&SecretString::from(PIN))) {
        Ok(()) | Err(CkError::Pkcs11(RvError::UserAlreadyLoggedIn, _)) => {}
        Err(e) => panic!("{e}"),
    }
    s
}

fn objects(s: &Session, class: ObjectClass, label: &str) -> Vec<cryptoki::object::ObjectHandle> {
    s.find_objects(&[
        Attribute::Class(class),
        Attribute::Label(label.as_bytes().to_vec()),
    ])
    .unwrap()
}

fn assert_no_secret(text: &str) {
    for pin in [PIN, SO_PIN, PIN_TOKEN_PIN, "wrong-pin-00000"] {
        assert!(!text.contains(pin), "PIN leaked into: {text}");
    }
}

#[test]
fn generates_non_extractable_ed25519_key_in_token() {
    let _serial = serial();
    let hsm = connect("t-gen");
    let ev = hsm.generate(Purpose::PassportSigning, T0).unwrap();
    let KeyEvent::Generated {
        key,
        purpose,
        backend,
        at,
    } = ev
    else {
        panic!("{ev:?}")
    };
    assert_eq!(
        (purpose, backend, at),
        (Purpose::PassportSigning, Backend::Pkcs11, T0)
    );
    let info = hsm.find(Purpose::PassportSigning).unwrap().unwrap();
    assert_eq!(info.id, key);
    assert_eq!(info.status, KeyStatus::Current);
    assert_eq!(info.backend, Backend::Pkcs11);
    assert_eq!(info.public_key_multibase, key.as_str());

    let label = "t-gen:passport-signing:1";
    let s = raw_session();
    let [private] = objects(&s, ObjectClass::PRIVATE_KEY, label)[..] else {
        panic!("one private key expected")
    };
    let [public] = objects(&s, ObjectClass::PUBLIC_KEY, label)[..] else {
        panic!("one public key expected")
    };
    let attrs = s
        .get_attributes(
            private,
            &[
                AttributeType::KeyType,
                AttributeType::Token,
                AttributeType::Sensitive,
                AttributeType::Extractable,
                AttributeType::AlwaysSensitive,
                AttributeType::NeverExtractable,
                AttributeType::Sign,
                AttributeType::Id,
            ],
        )
        .unwrap();
    let vk = hallmark_core::keys::decode_public_key_multibase(key.as_str()).unwrap();
    for a in &attrs {
        match a {
            Attribute::KeyType(t) => assert_eq!(*t, KeyType::EC_EDWARDS),
            Attribute::Token(b) | Attribute::Sensitive(b) | Attribute::Sign(b) => assert!(b),
            Attribute::AlwaysSensitive(b) | Attribute::NeverExtractable(b) => assert!(b),
            Attribute::Extractable(b) => assert!(!b, "private key must not be extractable"),
            Attribute::Id(id) => assert_eq!(id, &cka_id(&vk)),
            other => panic!("unexpected {other:?}"),
        }
    }
    assert_eq!(attrs.len(), 8, "{attrs:?}");
    // The private value cannot be read.
    assert!(matches!(
        s.get_attribute_info(private, &[AttributeType::Value])
            .unwrap()[..],
        [AttributeInfo::Sensitive]
    ));
    assert!(s
        .get_attributes(private, &[AttributeType::Value])
        .unwrap()
        .is_empty());
    // Public half: the curve as the DER OID, the point as a DER OCTET STRING.
    let pubattrs = s
        .get_attributes(
            public,
            &[
                AttributeType::EcParams,
                AttributeType::EcPoint,
                AttributeType::Id,
            ],
        )
        .unwrap();
    let mut wrapped = vec![0x04, 0x20];
    wrapped.extend_from_slice(vk.as_bytes());
    assert_eq!(
        pubattrs,
        vec![
            Attribute::EcParams(ED25519_PARAMS_OID.to_vec()),
            Attribute::EcPoint(wrapped),
            Attribute::Id(cka_id(&vk)),
        ]
    );
    // Found by id, too.
    let by_id = s
        .find_objects(&[
            Attribute::Class(ObjectClass::PRIVATE_KEY),
            Attribute::Id(cka_id(&vk)),
        ])
        .unwrap();
    assert_eq!(by_id, vec![private]);
    // A second generate for the same purpose is refused.
    assert!(matches!(
        hsm.generate(Purpose::PassportSigning, T1),
        Err(KeysError::CurrentKeyExists(Purpose::PassportSigning, ref k)) if *k == key
    ));
}

#[test]
fn token_signatures_verify_strict() {
    let _serial = serial();
    let hsm = connect("t-sign");
    hsm.generate(Purpose::PassportSigning, T0).unwrap();
    hsm.generate(Purpose::LogCheckpoint, T0).unwrap();
    let signer = hsm.signer(Purpose::PassportSigning).unwrap();
    assert_eq!(signer.purpose(), Purpose::PassportSigning);
    assert_eq!(signer.label(), Some("t-sign:passport-signing:1"));
    let vk = signer.verifying_key();
    assert_eq!(
        signer.key_id(),
        hsm.find(Purpose::PassportSigning).unwrap().unwrap().id
    );
    let big = vec![0xa5u8; 100_000];
    for msg in [&b""[..], b"hello passport", &big] {
        let sig = signer.sign(msg).unwrap();
        vk.verify_strict(msg, &sig).unwrap();
        vk.verify(msg, &sig).unwrap();
        // Ed25519 is deterministic: the token implements plain RFC 8032.
        assert_eq!(signer.sign(msg).unwrap(), sig);
    }
    // The other purpose has a different key; its signatures don't verify under this one.
    let other = hsm.signer(Purpose::LogCheckpoint).unwrap();
    assert_ne!(other.verifying_key(), vk);
    let sig = other.sign(b"hello passport").unwrap();
    assert!(vk.verify_strict(b"hello passport", &sig).is_err());
    // No key for a purpose never generated.
    assert!(matches!(
        hsm.signer(Purpose::NodeRequest),
        Err(KeysError::NoCurrentKey(
            Purpose::NodeRequest,
            Backend::Pkcs11
        ))
    ));
}

#[test]
fn rotate_retires_old_key_and_keeps_it_in_token() {
    let _serial = serial();
    let hsm = connect("t-rot");
    hsm.generate(Purpose::PassportSigning, T0).unwrap();
    let old_signer = hsm.signer(Purpose::PassportSigning).unwrap();
    let old_id = old_signer.key_id();
    // A second connection (think: the CLI while the node runs) rotates.
    let other = connect("t-rot");
    let ev = other.rotate(Purpose::PassportSigning, T1).unwrap();
    let KeyEvent::Rotated {
        retired,
        current,
        purpose,
        at,
    } = ev
    else {
        panic!("{ev:?}")
    };
    assert_eq!(
        (&retired, purpose, at),
        (&old_id, Purpose::PassportSigning, T1)
    );
    assert_ne!(current, old_id);
    // The old signer notices at once.
    assert!(matches!(
        old_signer.sign(b"m"),
        Err(SignerError::NotUsable(_))
    ));
    let new_signer = hsm.signer(Purpose::PassportSigning).unwrap();
    assert_eq!(new_signer.key_id(), current);
    assert_eq!(new_signer.label(), Some("t-rot:passport-signing:2"));
    let sig = new_signer.sign(b"m").unwrap();
    new_signer
        .verifying_key()
        .verify_strict(b"m", &sig)
        .unwrap();

    let list = hsm.list().unwrap();
    assert_eq!(list.len(), 2);
    assert_eq!(list[0].id, old_id);
    assert_eq!(list[0].status, KeyStatus::Retired);
    assert_eq!(list[0].retired_at, Some(T1));
    assert_eq!(list[1].id, current);
    assert_eq!(list[1].status, KeyStatus::Current);
    assert!(list.iter().all(|k| k.backend == Backend::Pkcs11));
    // The retired key's objects are still in the token, for the records.
    let s = raw_session();
    assert_eq!(
        objects(&s, ObjectClass::PRIVATE_KEY, "t-rot:passport-signing:1").len(),
        1
    );
    assert_eq!(
        objects(&s, ObjectClass::PUBLIC_KEY, "t-rot:passport-signing:1").len(),
        1
    );
    // Status survives a reconnect: it lives in the token.
    drop((hsm, other));
    let again = connect("t-rot");
    assert_eq!(again.list().unwrap(), list);
    // Rotating twice.
    again.rotate(Purpose::PassportSigning, T2).unwrap();
    let list = again.list().unwrap();
    assert_eq!(
        list.iter().map(|k| k.status).collect::<Vec<_>>(),
        [KeyStatus::Retired, KeyStatus::Retired, KeyStatus::Current]
    );
    // Nothing to rotate for an ungenerated purpose.
    assert!(matches!(
        again.rotate(Purpose::NodeRequest, T2),
        Err(KeysError::NoCurrentKey(
            Purpose::NodeRequest,
            Backend::Pkcs11
        ))
    ));
}

#[test]
fn revoked_key_never_signs_again() {
    let _serial = serial();
    let hsm = connect("t-rev");
    hsm.generate(Purpose::PassportSigning, T0).unwrap();
    let signer = hsm.signer(Purpose::PassportSigning).unwrap();
    let id = signer.key_id();
    signer.sign(b"before").unwrap();

    let ev = hsm.revoke(&id, "key compromise", T1).unwrap();
    assert_eq!(
        ev,
        KeyEvent::Revoked {
            key: id.clone(),
            purpose: Purpose::PassportSigning,
            reason: "key compromise".into(),
            at: T1,
        }
    );
    // The signer obtained before revocation refuses ...
    let err = signer.sign(b"after").unwrap_err();
    assert!(matches!(err, SignerError::NotUsable(_)), "{err:?}");
    assert!(err.to_string().contains("revoked"), "{err}");
    // ... no new signer can be had ...
    assert!(matches!(
        hsm.signer(Purpose::PassportSigning),
        Err(KeysError::NoCurrentKey(
            Purpose::PassportSigning,
            Backend::Pkcs11
        ))
    ));
    // ... and the private key is gone from the token: even a raw PKCS#11 client can't sign.
    let s = raw_session();
    assert!(objects(&s, ObjectClass::PRIVATE_KEY, "t-rev:passport-signing:1").is_empty());
    assert_eq!(
        objects(&s, ObjectClass::PUBLIC_KEY, "t-rev:passport-signing:1").len(),
        1
    );
    let list = hsm.list().unwrap();
    assert_eq!(list.len(), 1);
    assert_eq!(list[0].status, KeyStatus::Revoked);
    assert_eq!(list[0].revoked_at, Some(T1));
    assert_eq!(list[0].revocation_reason.as_deref(), Some("key compromise"));
    // Revoking twice is reported; unknown keys too.
    assert!(
        matches!(hsm.revoke(&id, "again", T2), Err(KeysError::AlreadyRevoked(ref k)) if *k == id)
    );
    let stranger = KeyId::of(&ed25519_dalek::SigningKey::from_bytes(&[3; 32]).verifying_key());
    assert!(matches!(
        hsm.revoke(&stranger, "x", T2),
        Err(KeysError::UnknownKey(_, Backend::Pkcs11))
    ));
    // A fresh key can be generated; the revoked one stays revoked.
    hsm.generate(Purpose::PassportSigning, T2).unwrap();
    let fresh = hsm.signer(Purpose::PassportSigning).unwrap();
    assert_ne!(fresh.key_id(), id);
    assert_eq!(fresh.label(), Some("t-rev:passport-signing:2"));
    fresh.sign(b"new").unwrap();
    assert!(signer.sign(b"after").is_err());
}

#[test]
fn revoking_a_retired_key() {
    let _serial = serial();
    let hsm = connect("t-revret");
    hsm.generate(Purpose::LogCheckpoint, T0).unwrap();
    let old = hsm.find(Purpose::LogCheckpoint).unwrap().unwrap().id;
    hsm.rotate(Purpose::LogCheckpoint, T1).unwrap();
    hsm.revoke(&old, "superseded, withdrawn", T2).unwrap();
    let list = hsm.list().unwrap();
    assert_eq!(list[0].status, KeyStatus::Revoked);
    assert_eq!(list[0].retired_at, Some(T1));
    assert_eq!(list[1].status, KeyStatus::Current);
    hsm.signer(Purpose::LogCheckpoint)
        .unwrap()
        .sign(b"x")
        .unwrap();
}

#[test]
fn prefixes_keep_nodes_apart() {
    let _serial = serial();
    let a = connect("t-sep-a");
    let b = connect("t-sep-b");
    a.generate(Purpose::NodeRequest, T0).unwrap();
    assert!(b.find(Purpose::NodeRequest).unwrap().is_none());
    assert!(b.list().unwrap().is_empty());
    assert_eq!(a.list().unwrap().len(), 1);
}

fn assert_unavailable(state: &HsmState, expect_in_reason: &str) {
    let reason = state.unavailable_reason().expect("must be unavailable");
    assert!(
        reason.contains(expect_in_reason),
        "reason {reason:?} should mention {expect_in_reason:?}"
    );
    assert!(!state.is_ready() && state.ready().is_none());
    assert_no_secret(&format!("{state:?}"));
    // Without a known public key there is no signer at all ...
    let err = state.signer(Purpose::PassportSigning, None).unwrap_err();
    assert!(err.to_string().starts_with("HSM unavailable: "), "{err}");
    assert_no_secret(&format!("{err} {err:?}"));
    // ... and with one, every signature fails clearly. There is no software fallback.
    let published = ed25519_dalek::SigningKey::from_bytes(&[5; 32]).verifying_key();
    let signer = state
        .signer(Purpose::PassportSigning, Some(published))
        .unwrap();
    assert_eq!(signer.verifying_key(), published);
    let err = signer.sign(b"passport").unwrap_err();
    let SignerError::Unavailable(msg) = &err else {
        panic!("{err:?}")
    };
    assert_eq!(msg, &format!("HSM unavailable: {reason}"));
    assert_no_secret(&format!("{err} {err:?} {signer:?}"));
}

#[test]
fn wrong_pin_fails_closed() {
    let _serial = serial();
    fixture();
    let cfg = HsmConfig {
        module_path: MODULE.into(),
        token_label: PIN_TOKEN.into(),
        pin: SecretString::from("wrong-pin-00000"),
        key_label_prefix: "t-pin".into(),
    };
    let state = Hsm::connect(&cfg);
    assert_unavailable(&state, "login to token");
    assert_unavailable(&state, "PIN");
    // The right PIN works on that token, so it really was the PIN.
    let ok = HsmConfig {
        pin: SecretString::from(PIN_TOKEN_PIN),
        ..cfg
    };
    assert!(Hsm::connect(&ok).is_ready());
}

#[test]
fn missing_module_fails_closed() {
    let _serial = serial();
    let mut cfg = config("t-nomod");
    cfg.module_path = PathBuf::from("/nonexistent/libpkcs11-vendor.so");
    assert_unavailable(&Hsm::connect(&cfg), "PKCS#11 module not found");
    // A file that is not a PKCS#11 module.
    let not_a_module = tempfile::NamedTempFile::new().unwrap();
    cfg.module_path = not_a_module.path().to_path_buf();
    assert_unavailable(&Hsm::connect(&cfg), "cannot load PKCS#11 module");
}

#[test]
fn unknown_token_fails_closed() {
    let _serial = serial();
    let mut cfg = config("t-notoken");
    cfg.token_label = "no-such-token".into();
    assert_unavailable(&Hsm::connect(&cfg), "no token labelled \"no-such-token\"");
}

#[test]
fn pin_never_printed() {
    let _serial = serial();
    let cfg = config("t-print");
    let shown = format!("{cfg:?} {cfg:#?}");
    assert_no_secret(&shown);
    assert!(shown.contains("REDACTED"));
    let hsm = connect("t-print");
    hsm.generate(Purpose::NodeRequest, T0).unwrap();
    let signer = hsm.signer(Purpose::NodeRequest).unwrap();
    assert_no_secret(&format!("{hsm:?} {signer:?}"));
    assert_no_secret(&format!("{:?}", Hsm::connect(&cfg)));
}

#[test]
fn empty_prefix_is_refused() {
    let _serial = serial();
    let cfg = config("");
    assert_unavailable(&Hsm::connect(&cfg), "key_label_prefix");
}

/// Signing from several threads through one signer (one shared, mutex-guarded session),
/// compared with opening a session per signature. Prints rough timings.
#[test]
fn concurrent_signing() {
    let _serial = serial();
    let hsm = connect("t-conc");
    hsm.generate(Purpose::PassportSigning, T0).unwrap();
    let signer = hsm.signer(Purpose::PassportSigning).unwrap();
    let vk = signer.verifying_key();
    const THREADS: usize = 4;
    // Few: in debug builds the ed25519-dalek verification dominates (~10 ms each).
    const PER_THREAD: usize = 10;

    let start = Instant::now();
    std::thread::scope(|scope| {
        for t in 0..THREADS {
            let signer = &signer;
            scope.spawn(move || {
                for i in 0..PER_THREAD {
                    let msg = format!("thread {t} message {i}");
                    let sig = signer.sign(msg.as_bytes()).unwrap();
                    vk.verify_strict(msg.as_bytes(), &sig).unwrap();
                }
            });
        }
    });
    let threaded = start.elapsed() / (THREADS * PER_THREAD) as u32;

    // The alternative to one shared session: a session per signature (login state is per
    // process, so a new session is logged in while the Hsm's own session lives). Compare
    // bare C_Sign on one session with open + find + C_Sign + close per signature.
    let label = signer.label().unwrap().to_string();
    let ctx = &fixture().ctx;
    let slot = test_slot(ctx);
    let eddsa = Mechanism::Eddsa(EddsaParams::new(EddsaSignatureScheme::Pure));
    const N: u32 = 100;
    let s = ctx.open_ro_session(slot).unwrap();
    let [key] = objects(&s, ObjectClass::PRIVATE_KEY, &label)[..] else {
        panic!("key")
    };
    let start = Instant::now();
    for i in 0..N {
        s.sign(&eddsa, key, &i.to_be_bytes()).unwrap();
    }
    let one_session = start.elapsed() / N;
    drop(s);
    let start = Instant::now();
    for i in 0..N {
        let s = ctx.open_ro_session(slot).unwrap();
        let [key] = objects(&s, ObjectClass::PRIVATE_KEY, &label)[..] else {
            panic!("key")
        };
        s.sign(&eddsa, key, &i.to_be_bytes()).unwrap();
    }
    let per_call = start.elapsed() / N;
    // And the full HsmSigner path (status check in the token + C_Sign + verify_strict;
    // the verification dominates in debug builds).
    let start = Instant::now();
    for i in 0..N {
        signer.sign(&i.to_be_bytes()).unwrap();
    }
    let full = start.elapsed() / N;
    eprintln!(
        "SoftHSM2 Ed25519 per signature: C_Sign on one session {one_session:?}; \
         session per call {per_call:?}; HsmSigner::sign {full:?}; \
         {THREADS} threads through one HsmSigner {threaded:?}"
    );
}

#[test]
fn hsm_custody_is_the_token_behind_the_port() {
    use hallmark_keys::{Availability, HsmCustody, KeyCustody};
    let _serial = serial();
    let integrity =
        std::sync::Arc::new(hallmark_core::integrity::IntegrityKeys::derive(&[7; 32]).unwrap());
    let custody: std::sync::Arc<dyn KeyCustody> = std::sync::Arc::new(HsmCustody::connect(
        &config("custody-port"),
        std::sync::Arc::clone(&integrity),
    ));
    assert_eq!(custody.backend(), Backend::Pkcs11);
    assert_eq!(custody.availability(), Availability::Available);
    assert_no_secret(&format!("{custody:?}"));
    // A fresh prefix has no keys: ensure_current generates one, then nothing.
    let Some(KeyEvent::Generated { key, backend, .. }) =
        custody.ensure_current(Purpose::LogCheckpoint, T0).unwrap()
    else {
        panic!("ensure_current")
    };
    assert_eq!(backend, Backend::Pkcs11);
    assert_eq!(
        custody.ensure_current(Purpose::LogCheckpoint, T1).unwrap(),
        None
    );
    let signer = custody.signer(Purpose::LogCheckpoint, None).unwrap();
    assert_eq!(signer.key_id(), key);
    let sig = signer.sign(b"note").unwrap();
    assert!(signer.verifying_key().verify_strict(b"note", &sig).is_ok());
    // The token refuses to rotate a purpose without a current key.
    assert!(matches!(
        custody.rotate(Purpose::NodeRequest, T1),
        Err(KeysError::NoCurrentKey(
            Purpose::NodeRequest,
            Backend::Pkcs11
        ))
    ));
    let KeyEvent::Rotated {
        retired, current, ..
    } = custody.rotate(Purpose::LogCheckpoint, T1).unwrap()
    else {
        panic!("rotate")
    };
    assert_eq!(retired, key);
    // Published keys: the retired one and the current one, from the token's records.
    let published = custody.published_keys(Purpose::LogCheckpoint).unwrap();
    assert_eq!(published.len(), 2);
    assert_eq!(
        published
            .iter()
            .map(|p| (KeyId::of(&p.public_key), p.status))
            .collect::<Vec<_>>(),
        vec![
            (key, KeyStatus::Retired),
            (current.clone(), KeyStatus::Current)
        ]
    );
    custody.revoke(&current, "compromise", T2).unwrap();
    assert_eq!(custody.list().unwrap().len(), 2);
    assert!(matches!(
        custody.signer(Purpose::LogCheckpoint, None),
        Err(KeysError::NoCurrentKey(
            Purpose::LogCheckpoint,
            Backend::Pkcs11
        ))
    ));
    // The integrity keys are the configured ones.
    assert!(std::sync::Arc::ptr_eq(
        &custody.integrity_keys().unwrap(),
        &integrity
    ));
}

#[test]
fn unavailable_hsm_custody_reports_it_and_never_signs() {
    use hallmark_keys::{Availability, HsmCustody, KeyCustody};
    let mut cfg = config("custody-down");
    cfg.module_path = "/nonexistent/libpkcs11.so".into();
    let integrity =
        std::sync::Arc::new(hallmark_core::integrity::IntegrityKeys::derive(&[8; 32]).unwrap());
    let custody = HsmCustody::connect(&cfg, std::sync::Arc::clone(&integrity));
    let Availability::Unavailable { reason } = custody.availability() else {
        panic!("must be unavailable")
    };
    assert!(reason.contains("PKCS#11 module not found"), "{reason}");
    // Every operation reports the unavailability; nothing is created.
    for err in [
        custody.list().unwrap_err(),
        custody.rotate(Purpose::PassportSigning, T0).unwrap_err(),
        custody
            .revoke(
                &KeyId::of(&ed25519_dalek::SigningKey::from_bytes(&[3; 32]).verifying_key()),
                "x",
                T0,
            )
            .unwrap_err(),
        custody
            .signer(Purpose::PassportSigning, None)
            .err()
            .expect("no signer without a known key"),
    ] {
        assert!(err.is_unavailable(), "{err}");
        assert_eq!(err.to_string(), format!("HSM unavailable: {reason}"));
    }
    assert_eq!(
        custody.ensure_current(Purpose::LogCheckpoint, T0).unwrap(),
        None
    );
    // Given the last published key, a signer that names it and refuses to sign.
    let published = ed25519_dalek::SigningKey::from_bytes(&[5; 32]).verifying_key();
    let signer = custody
        .signer(Purpose::PassportSigning, Some(published))
        .unwrap();
    assert_eq!(signer.verifying_key(), published);
    assert_eq!(
        signer.sign(b"passport"),
        Err(SignerError::Unavailable(format!(
            "HSM unavailable: {reason}"
        )))
    );
    // The node can still authenticate its rows.
    assert!(std::sync::Arc::ptr_eq(
        &custody.integrity_keys().unwrap(),
        &integrity
    ));
}
