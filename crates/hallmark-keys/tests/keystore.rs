#![allow(clippy::unwrap_used, clippy::expect_used)]
//! The file keystore through its public API: purposes, lifecycle, DID documents, on-disk
//! integrity errors, backups and the offline ceremony.

use base64::Engine as _;
use hallmark_core::did::{DidDocument, DidWeb, KeyStatus};
use hallmark_core::keys::{KeyId, Signer, SignerError};
use hallmark_keys::{
    generate_offline, BackupIdentity, KdfParams, KeyEvent, KeysError, Keystore, Purpose,
};
use secrecy::SecretString;
use serde_json::Value;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use time::macros::datetime;
use time::OffsetDateTime;

const T0: OffsetDateTime = datetime!(2025-03-01 10:00 UTC);
const T1: OffsetDateTime = datetime!(2025-06-01 10:00 UTC);
const T2: OffsetDateTime = datetime!(2025-09-01 10:00 UTC);
const PASS: &str = "correct horse battery staple";

fn pass() -> SecretString {
    SecretString::from(PASS.to_string())
}

fn new_store() -> (tempfile::TempDir, PathBuf, Keystore) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("keys.json");
    let (store, events) = Keystore::create(&path, &pass(), KdfParams::FLOOR, T0).unwrap();
    assert_eq!(events.len(), 3);
    (dir, path, store)
}

fn current_id(store: &Keystore, purpose: Purpose) -> KeyId {
    store
        .list()
        .into_iter()
        .find(|k| k.purpose == purpose && k.status == KeyStatus::Current)
        .unwrap()
        .id
}

fn mode(path: &Path) -> u32 {
    std::fs::metadata(path).unwrap().permissions().mode() & 0o777
}

#[test]
fn create_makes_one_current_key_per_purpose_in_a_0600_file() {
    let (dir, path, store) = new_store();
    let keys = store.list();
    assert_eq!(keys.len(), 3);
    for purpose in Purpose::ALL {
        let of_purpose: Vec<_> = keys.iter().filter(|k| k.purpose == purpose).collect();
        assert_eq!(of_purpose.len(), 1, "{purpose:?}");
        assert_eq!(of_purpose[0].status, KeyStatus::Current);
        assert_eq!(of_purpose[0].created_at, T0);
    }
    let mut ids: Vec<_> = keys.iter().map(|k| k.id.clone()).collect();
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), 3, "distinct keys per purpose");
    assert_eq!(mode(&path), 0o600);
    // No temporary file left behind.
    let names: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(names, vec![std::ffi::OsString::from("keys.json")]);
    assert!(store.node_recipient().starts_with("age1"));

    // Reopening gives the same keys.
    let reopened = Keystore::open(&path, &pass()).unwrap();
    assert_eq!(reopened.list(), keys);
    assert_eq!(reopened.node_recipient(), store.node_recipient());

    // Never over an existing file.
    let again = Keystore::create(&path, &pass(), KdfParams::FLOOR, T0).unwrap_err();
    assert!(matches!(again, KeysError::AlreadyExists { .. }), "{again}");
}

#[test]
fn create_refuses_weak_params_and_empty_passphrase() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("keys.json");
    let weak = KdfParams {
        memory_kib: 8 * 1024,
        ..KdfParams::FLOOR
    };
    let err = Keystore::create(&path, &pass(), weak, T0).unwrap_err();
    assert!(matches!(err, KeysError::KdfBelowFloor { .. }), "{err}");
    let err = Keystore::create(
        &path,
        &SecretString::from(String::new()),
        KdfParams::FLOOR,
        T0,
    )
    .unwrap_err();
    assert!(matches!(err, KeysError::EmptyPassphrase), "{err}");
    assert!(!path.exists());
}

#[test]
fn signers_are_bound_to_their_purpose() {
    let (_dir, _path, store) = new_store();
    let signers: Vec<_> = Purpose::ALL
        .iter()
        .map(|&p| store.signer(p).unwrap())
        .collect();
    for (signer, purpose) in signers.iter().zip(Purpose::ALL) {
        assert_eq!(signer.purpose(), purpose);
        assert_eq!(signer.backend(), hallmark_keys::Backend::File);
        assert_eq!(signer.key_id(), current_id(&store, purpose));
        let sig = signer.sign(b"message").unwrap();
        signer
            .verifying_key()
            .verify_strict(b"message", &sig)
            .unwrap();
        // Another purpose's key does not verify it: the keys really are distinct.
        for other in signers.iter().filter(|s| s.purpose() != purpose) {
            assert_ne!(other.key_id(), signer.key_id());
            assert!(other
                .verifying_key()
                .verify_strict(b"message", &sig)
                .is_err());
        }
    }
    // The only way to a signer is by purpose, and it yields that purpose's key.
    let passport_key = current_id(&store, Purpose::PassportSigning);
    assert_ne!(
        store.signer(Purpose::LogCheckpoint).unwrap().key_id(),
        passport_key
    );
}

#[test]
fn rotation_keeps_old_signatures_verifiable_and_revocation_removes_the_key() {
    let (_dir, path, mut store) = new_store();
    let did = DidWeb::from_base_url("https://dpp.example.com").unwrap();
    let old = store.signer(Purpose::PassportSigning).unwrap();
    let old_sig = old.sign(b"passport v1").unwrap();

    let event = store.rotate(Purpose::PassportSigning, T1).unwrap();
    let KeyEvent::Rotated {
        retired, current, ..
    } = event.clone()
    else {
        panic!("{event:?}")
    };
    assert_eq!(retired, old.key_id());
    let new = store.signer(Purpose::PassportSigning).unwrap();
    assert_eq!(new.key_id(), current);
    assert_ne!(new.key_id(), old.key_id());
    // The retired key is still listed, with its retirement time, and no longer signs.
    let info = store.list().into_iter().find(|k| k.id == retired).unwrap();
    assert_eq!(info.status, KeyStatus::Retired);
    assert_eq!(info.retired_at, Some(T1));
    assert!(matches!(old.sign(b"x"), Err(SignerError::NotUsable(_))));
    // Other purposes are untouched.
    assert_eq!(store.list().len(), 4);

    // The DID document lists both; the old signature verifies through it.
    let doc = DidDocument::build(&did, &store.published_keys(Purpose::PassportSigning));
    let method = doc.verification_method(&did.key_url(&retired)).unwrap();
    method
        .public_key()
        .unwrap()
        .verify_strict(b"passport v1", &old_sig)
        .unwrap();
    assert!(doc.is_assertion_method(&did.key_url(&current)));
    // Keys of other purposes are never published as passport keys.
    let log_key = current_id(&store, Purpose::LogCheckpoint);
    assert!(doc.verification_method(&did.key_url(&log_key)).is_none());

    // Revoke the retired key: it leaves the DID document.
    let event = store.revoke(&retired, "laptop stolen", T2).unwrap();
    assert_eq!(
        event,
        KeyEvent::Revoked {
            key: retired.clone(),
            purpose: Purpose::PassportSigning,
            reason: "laptop stolen".into(),
            at: T2
        }
    );
    let doc = DidDocument::build(&did, &store.published_keys(Purpose::PassportSigning));
    assert!(doc.verification_method(&did.key_url(&retired)).is_none());
    assert!(doc.verification_method(&did.key_url(&current)).is_some());

    // Persisted, with status, time and reason.
    let reopened = Keystore::open(&path, &pass()).unwrap();
    let info = reopened
        .list()
        .into_iter()
        .find(|k| k.id == retired)
        .unwrap();
    assert_eq!(info.status, KeyStatus::Revoked);
    assert_eq!(info.revoked_at, Some(T2));
    assert_eq!(info.retired_at, Some(T1));
    assert_eq!(info.revocation_reason.as_deref(), Some("laptop stolen"));
    assert_eq!(reopened.list(), store.list());
    assert_eq!(mode(&path), 0o600);
}

#[test]
fn revoking_the_current_key_leaves_the_purpose_without_one_until_rotate() {
    let (_dir, path, mut store) = new_store();
    let signer = store.signer(Purpose::PassportSigning).unwrap();
    let id = signer.key_id();
    store.revoke(&id, "compromised", T1).unwrap();
    assert!(matches!(signer.sign(b"x"), Err(SignerError::NotUsable(_))));
    let err = store.signer(Purpose::PassportSigning).unwrap_err();
    assert!(matches!(
        err,
        KeysError::NoCurrentKey(Purpose::PassportSigning, hallmark_keys::Backend::File)
    ));
    assert!(err
        .to_string()
        .contains("hallmark keys rotate --purpose passport-signing"));
    // Still true after reopening.
    let mut store = Keystore::open(&path, &pass()).unwrap();
    assert!(store.signer(Purpose::PassportSigning).is_err());
    // Other purposes still sign.
    store
        .signer(Purpose::LogCheckpoint)
        .unwrap()
        .sign(b"x")
        .unwrap();
    // Rotate with no current key generates one.
    let event = store.rotate(Purpose::PassportSigning, T2).unwrap();
    let KeyEvent::Generated { key, .. } = event else {
        panic!("{event:?}")
    };
    assert_eq!(
        store.signer(Purpose::PassportSigning).unwrap().key_id(),
        key
    );
    // The revoked key stays revoked (not retired).
    let info = store.list().into_iter().find(|k| k.id == id).unwrap();
    assert_eq!(info.status, KeyStatus::Revoked);
    assert_eq!(info.retired_at, None);
}

#[test]
fn revoke_errors() {
    let (_dir, path, mut store) = new_store();
    let id = current_id(&store, Purpose::NodeRequest);
    let before = std::fs::read(&path).unwrap();
    assert!(matches!(
        store.revoke(&id, "  ", T1),
        Err(KeysError::EmptyReason)
    ));
    let stranger = KeyId::of(&ed25519_dalek::SigningKey::from_bytes(&[9; 32]).verifying_key());
    assert!(matches!(
        store.revoke(&stranger, "x", T1),
        Err(KeysError::UnknownKey(_, hallmark_keys::Backend::File))
    ));
    assert_eq!(std::fs::read(&path).unwrap(), before);
    store.revoke(&id, "x", T1).unwrap();
    assert!(matches!(
        store.revoke(&id, "again", T2),
        Err(KeysError::AlreadyRevoked(_))
    ));
}

// -- on-disk integrity ------------------------------------------------------------------

/// Edit the keystore JSON, then check that opening fails with the expected error and leaves
/// the file byte-for-byte as it was.
fn open_edited(edit: impl FnOnce(&mut Value)) -> (KeysError, PathBuf, tempfile::TempDir) {
    let (dir, path, mut store) = new_store();
    store.rotate(Purpose::PassportSigning, T1).unwrap();
    drop(store);
    let mut v: Value = serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
    edit(&mut v);
    std::fs::write(&path, serde_json::to_vec_pretty(&v).unwrap()).unwrap();
    let before = std::fs::read(&path).unwrap();
    let err = Keystore::open(&path, &pass()).unwrap_err();
    assert_eq!(
        std::fs::read(&path).unwrap(),
        before,
        "file modified on {err}"
    );
    (err, path, dir)
}

#[test]
fn wrong_passphrase_is_reported_and_file_untouched() {
    let (_dir, path, _store) = new_store();
    let before = std::fs::read(&path).unwrap();
    let err = Keystore::open(&path, &SecretString::from("wrong".to_string())).unwrap_err();
    assert!(matches!(err, KeysError::WrongPassphrase), "{err}");
    assert_eq!(std::fs::read(&path).unwrap(), before);
}

#[test]
fn tampered_ciphertext_is_detected() {
    let (err, ..) = open_edited(|v| {
        let ct = v["keys"][1]["ciphertext"].as_str().unwrap();
        let mut bytes = base64::engine::general_purpose::STANDARD
            .decode(ct)
            .unwrap();
        bytes[0] ^= 1;
        v["keys"][1]["ciphertext"] = base64::engine::general_purpose::STANDARD
            .encode(bytes)
            .into();
    });
    assert!(
        matches!(&err, KeysError::Tampered { what } if what.contains("ciphertext")),
        "{err}"
    );
}

#[test]
fn edited_status_is_detected() {
    // Un-retire the rotated-out key (record 0 is the first passport key).
    let (err, ..) = open_edited(|v| {
        assert_eq!(v["keys"][0]["status"], "retired");
        v["keys"][0]["status"] = "current".into();
        v["keys"][0]["retiredAt"] = Value::Null;
    });
    assert!(
        matches!(&err, KeysError::Tampered { what } if what.contains("metadata")),
        "{err}"
    );
    // Re-dating a key is caught the same way.
    let (err, ..) = open_edited(|v| {
        v["keys"][1]["createdAt"] = "2020-01-01T00:00:00Z".into();
    });
    assert!(matches!(&err, KeysError::Tampered { what } if what.contains("metadata")));
}

#[test]
fn removed_record_is_detected() {
    let (err, ..) = open_edited(|v| {
        v["keys"].as_array_mut().unwrap().remove(0);
    });
    assert!(
        matches!(&err, KeysError::Tampered { what } if what.contains("list of keys")),
        "{err}"
    );
}

#[test]
fn swapped_records_are_named() {
    let mut ids = (String::new(), String::new());
    let (err, ..) = open_edited(|v| {
        let keys = v["keys"].as_array_mut().unwrap();
        ids = (
            keys[1]["id"].as_str().unwrap().to_string(),
            keys[2]["id"].as_str().unwrap().to_string(),
        );
        for field in ["nonce", "ciphertext"] {
            let a = keys[1][field].clone();
            keys[1][field] = keys[2][field].clone();
            keys[2][field] = a;
        }
    });
    match err {
        KeysError::SwappedRecords { record, belongs_to } => {
            assert_eq!(record.as_str(), ids.0);
            assert_eq!(belongs_to.as_str(), ids.1);
        }
        other => panic!("{other}"),
    }
}

#[test]
fn truncated_file_is_reported() {
    let (_dir, path, _store) = new_store();
    let bytes = std::fs::read(&path).unwrap();
    std::fs::write(&path, &bytes[..bytes.len() / 2]).unwrap();
    let before = std::fs::read(&path).unwrap();
    let err = Keystore::open(&path, &pass()).unwrap_err();
    assert!(matches!(err, KeysError::Truncated { .. }), "{err}");
    assert_eq!(std::fs::read(&path).unwrap(), before);
}

#[test]
fn unknown_version_and_format_are_refused() {
    let (err, ..) = open_edited(|v| v["version"] = 2.into());
    assert!(
        matches!(
            err,
            KeysError::UnsupportedVersion {
                found: 2,
                supported: 1,
                ..
            }
        ),
        "{err}"
    );
    let (err, ..) = open_edited(|v| v["format"] = "something-else".into());
    assert!(matches!(err, KeysError::UnknownFormat { .. }), "{err}");
}

#[test]
fn kdf_params_below_floor_are_refused() {
    let (err, ..) = open_edited(|v| v["kdf"]["memoryKib"] = 8192.into());
    assert!(
        matches!(
            err,
            KeysError::KdfBelowFloor {
                memory_kib: 8192,
                ..
            }
        ),
        "{err}"
    );
    let (err, ..) = open_edited(|v| v["kdf"]["iterations"] = 1.into());
    assert!(
        matches!(err, KeysError::KdfBelowFloor { iterations: 1, .. }),
        "{err}"
    );
}

#[test]
fn group_or_world_accessible_file_is_refused() {
    let (_dir, path, _store) = new_store();
    let before = std::fs::read(&path).unwrap();
    for bad in [0o640, 0o604, 0o660] {
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(bad)).unwrap();
        let err = Keystore::open(&path, &pass()).unwrap_err();
        assert!(
            matches!(err, KeysError::InsecurePermissions { .. }),
            "{err}"
        );
        let msg = err.to_string();
        assert!(
            msg.contains(&format!("chmod 600 {}", path.display())),
            "{msg}"
        );
        assert_eq!(std::fs::read(&path).unwrap(), before);
        assert_eq!(mode(&path), bad, "permissions left as they were");
    }
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).unwrap();
    Keystore::open(&path, &pass()).unwrap();
}

// -- secrets never shown ------------------------------------------------------------------

/// Every private key (seed) of a keystore, recovered from a backup to our own identity.
fn secrets_of(store: &Keystore) -> Vec<String> {
    let me = BackupIdentity::generate();
    let (ct, _) = store.backup(&me.recipient(), T1).unwrap();
    let plain = age::decrypt(&age_identity(&me), &ct).unwrap();
    let v: Value = serde_json::from_slice(&plain).unwrap();
    let mut out = vec![v["nodeIdentity"].as_str().unwrap().to_string()];
    for k in v["keys"].as_array().unwrap() {
        let b64 = k["secretKey"].as_str().unwrap();
        let seed = base64::engine::general_purpose::STANDARD
            .decode(b64)
            .unwrap();
        assert_eq!(seed.len(), 32);
        out.push(b64.to_string());
        out.push(hex::encode(&seed));
        out.push(hex::encode_upper(&seed));
        out.push(bs58::encode(&seed).into_string());
        out.push(format!("{:?}", seed));
    }
    out
}

fn age_identity(id: &BackupIdentity) -> age::x25519::Identity {
    use secrecy::ExposeSecret;
    id.to_secret().expose_secret().parse().unwrap()
}

#[test]
fn debug_output_and_files_never_contain_secrets() {
    let (_dir, path, store) = new_store();
    let secrets = secrets_of(&store);
    assert_eq!(secrets.len(), 1 + 3 * 5);
    let signer = store.signer(Purpose::PassportSigning).unwrap();
    let shown = [
        format!("{store:?}"),
        format!("{store:#?}"),
        format!("{signer:?}"),
        format!("{:?}", BackupIdentity::generate()),
        serde_json::to_string(&store.list()).unwrap(),
        String::from_utf8(std::fs::read(&path).unwrap()).unwrap(),
    ];
    // The Debug output does show public data.
    assert!(shown[0].contains(signer.key_id().as_str()));
    for text in &shown {
        for secret in &secrets {
            assert!(!text.contains(secret.as_str()), "secret leaked in {text}");
        }
        assert!(!text.contains(PASS));
    }
}

// -- backups and the offline ceremony ---------------------------------------------------

#[test]
fn backup_and_restore_round_trip() {
    let (dir, _path, mut store) = new_store();
    store.rotate(Purpose::LogCheckpoint, T1).unwrap();
    let revoked = current_id(&store, Purpose::NodeRequest);
    store.revoke(&revoked, "retired node", T1).unwrap();
    let operator = BackupIdentity::generate();
    let (ct, event) = store.backup(&operator.recipient(), T2).unwrap();
    let KeyEvent::BackedUp {
        keys,
        recipient,
        at,
    } = event
    else {
        panic!()
    };
    assert_eq!(keys.len(), 4);
    assert_eq!(recipient, operator.recipient());
    assert_eq!(at, T2);
    assert!(ct.starts_with(b"age-encryption.org/v1"));

    let restored_path = dir.path().join("restored.json");
    let new_pass = SecretString::from("a different passphrase".to_string());
    let (restored, event) = Keystore::restore(
        &restored_path,
        &new_pass,
        KdfParams::FLOOR,
        &ct,
        &operator,
        T2,
    )
    .unwrap();
    assert_eq!(
        event,
        KeyEvent::Restored {
            keys: keys.clone(),
            at: T2
        }
    );
    assert_eq!(restored.list(), store.list());
    assert_eq!(restored.node_recipient(), store.node_recipient());
    for purpose in [Purpose::PassportSigning, Purpose::LogCheckpoint] {
        let a = store.signer(purpose).unwrap();
        let b = restored.signer(purpose).unwrap();
        assert_eq!(a.key_id(), b.key_id());
        // Same private key: Ed25519 signatures are deterministic.
        assert_eq!(a.sign(b"m").unwrap(), b.sign(b"m").unwrap());
    }
    assert!(restored.signer(Purpose::NodeRequest).is_err());
    assert_eq!(mode(&restored_path), 0o600);
    // It opens with the new passphrase only.
    Keystore::open(&restored_path, &new_pass).unwrap();
    assert!(matches!(
        Keystore::open(&restored_path, &pass()),
        Err(KeysError::WrongPassphrase)
    ));

    // Never over an existing file; never with the wrong identity.
    let err = Keystore::restore(
        &restored_path,
        &new_pass,
        KdfParams::FLOOR,
        &ct,
        &operator,
        T2,
    )
    .unwrap_err();
    assert!(matches!(err, KeysError::AlreadyExists { .. }), "{err}");
    let other = dir.path().join("other.json");
    let err = Keystore::restore(
        &other,
        &new_pass,
        KdfParams::FLOOR,
        &ct,
        &BackupIdentity::generate(),
        T2,
    )
    .unwrap_err();
    assert!(matches!(err, KeysError::Age(_)), "{err}");
    assert!(!other.exists());
    assert!(matches!(
        store.backup("age1notarecipient", T2),
        Err(KeysError::BadRecipient(_))
    ));
}

#[test]
fn offline_generated_key_is_imported_as_current() {
    let (_dir, path, mut store) = new_store();
    let old = current_id(&store, Purpose::PassportSigning);
    let (ct, public) =
        generate_offline(Purpose::PassportSigning, store.node_recipient(), T1).unwrap();
    assert_eq!(public.purpose, Purpose::PassportSigning);
    assert_eq!(public.id.as_str(), public.public_key_multibase);
    let event = store.import(&ct, T2).unwrap();
    assert_eq!(
        event,
        KeyEvent::Imported {
            key: public.id.clone(),
            purpose: Purpose::PassportSigning,
            at: T2,
            retired: Some(old.clone()),
        }
    );
    let signer = store.signer(Purpose::PassportSigning).unwrap();
    assert_eq!(signer.key_id(), public.id);
    let sig = signer.sign(b"m").unwrap();
    hallmark_core::keys::decode_public_key_multibase(&public.public_key_multibase)
        .unwrap()
        .verify_strict(b"m", &sig)
        .unwrap();
    let info = store.list().into_iter().find(|k| k.id == old).unwrap();
    assert_eq!(
        (info.status, info.retired_at),
        (KeyStatus::Retired, Some(T2))
    );
    // Persisted.
    let mut store = Keystore::open(&path, &pass()).unwrap();
    assert_eq!(
        store.signer(Purpose::PassportSigning).unwrap().key_id(),
        public.id
    );
    // Not twice; not a key encrypted to someone else.
    assert!(matches!(
        store.import(&ct, T2),
        Err(KeysError::DuplicateKey(_))
    ));
    let (foreign, _) = generate_offline(
        Purpose::LogCheckpoint,
        &BackupIdentity::generate().recipient(),
        T1,
    )
    .unwrap();
    let before = std::fs::read(&path).unwrap();
    assert!(matches!(store.import(&foreign, T2), Err(KeysError::Age(_))));
    assert_eq!(std::fs::read(&path).unwrap(), before);
    assert!(matches!(
        generate_offline(Purpose::LogCheckpoint, "not-a-recipient", T1),
        Err(KeysError::BadRecipient(_))
    ));
}

#[test]
fn keystore_custody_is_the_keystore_behind_the_port() {
    use hallmark_keys::{Availability, Backend, KeyCustody, KeystoreCustody};
    let (_dir, path, store) = new_store();
    let passport = current_id(&store, Purpose::PassportSigning);
    let integrity = store.integrity_keys().unwrap();
    let published = store.published_keys(Purpose::PassportSigning);
    let custody: std::sync::Arc<dyn KeyCustody> = std::sync::Arc::new(KeystoreCustody::new(store));
    assert_eq!(custody.backend(), Backend::File);
    assert_eq!(custody.availability(), Availability::Available);
    assert!(format!("{custody:?}").contains("keys.json"));
    // The signer of a purpose is its current key; `last_known` plays no part.
    let other = ed25519_dalek::SigningKey::from_bytes(&[9; 32]).verifying_key();
    let signer = custody
        .signer(Purpose::PassportSigning, Some(other))
        .unwrap();
    assert_eq!(signer.key_id(), passport);
    assert!(signer.sign(b"x").is_ok());
    assert_eq!(custody.list().unwrap().len(), 3);
    assert_eq!(
        custody.published_keys(Purpose::PassportSigning).unwrap(),
        published
    );
    // The row-authentication keys are the keystore's.
    let from_custody = custody.integrity_keys().unwrap();
    assert_eq!(
        from_custody.key_row_tag(b"row").to_vec(),
        integrity.key_row_tag(b"row").to_vec()
    );
    // A current key exists: nothing to ensure.
    assert_eq!(
        custody.ensure_current(Purpose::LogCheckpoint, T1).unwrap(),
        None
    );
    // Rotation and revocation go to the file.
    let KeyEvent::Rotated { current, .. } = custody.rotate(Purpose::PassportSigning, T1).unwrap()
    else {
        panic!("rotate")
    };
    assert!(matches!(signer.sign(b"x"), Err(SignerError::NotUsable(_))));
    custody.revoke(&current, "compromise", T2).unwrap();
    assert!(matches!(
        custody.signer(Purpose::PassportSigning, None),
        Err(KeysError::NoCurrentKey(
            Purpose::PassportSigning,
            Backend::File
        ))
    ));
    assert!(matches!(
        custody.revoke(&current, "again", T2),
        Err(KeysError::AlreadyRevoked(_))
    ));
    // With the current key revoked, ensure_current makes a new one.
    let Some(KeyEvent::Generated { key, purpose, .. }) = custody
        .ensure_current(Purpose::PassportSigning, T2)
        .unwrap()
    else {
        panic!("ensure_current")
    };
    assert_eq!(purpose, Purpose::PassportSigning);
    let reopened = Keystore::open(&path, &pass()).unwrap();
    assert_eq!(current_id(&reopened, Purpose::PassportSigning), key);
    assert_eq!(reopened.list().len(), 5);
}
