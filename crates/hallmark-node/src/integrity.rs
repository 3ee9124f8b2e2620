//! What the node believes of its own database (docs/security.md, "The app role as an
//! attacker").
//!
//! The database is the source of truth for data, not for trust: whoever holds the app
//! role's credentials can insert rows. So the node trusts a security-relevant row only when
//! it carries the node's tag ([`hallmark_core::integrity`]) or comes from key custody:
//!
//! - **Signing keys** ([`trusted_keys`]): the DID document and the keys the read path
//!   verifies with are custody's keys merged with the *authenticated* rows (keys another
//!   node sharing this database rotated in); an untagged or mistagged row is ignored and
//!   reported.
//! - **Log leaves**: the checkpointer signs only over leaves whose hash matches their event
//!   and whose tag is the node's (`transparency`).
//! - **Served credentials**: a published version is verified against the trusted keys
//!   before it enters the read cache ([`verify_served`]); one that does not verify is
//!   withheld (a neutral 500) and reported.
//!
//! Every finding raises an [`Alarms`] entry: counted (shown in `/health`), logged once as an
//! error line, and recorded once as a private `integrity.alarm` audit event.

use hallmark_core::did::{DidDocument, KeyStatus, PublishedKey};
use hallmark_core::integrity::IntegrityKeys;
use hallmark_core::keys::decode_public_key_multibase;
use hallmark_core::tlog::event::Action;
use hallmark_keys::{KeyCustody, KeyInfo, Purpose};
use hallmark_store::{AuditEvent, SigningKeyRecord, SigningKeyStatus, Store};
use serde::Serialize;
use std::collections::HashSet;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;
use time::OffsetDateTime;

/// What the node's trust decisions read: key custody, the store, the row-authentication
/// keys and the [`Alarms`] they raise. The application state (`app::App`) is one; this module
/// never names it, so the state can hold the alarms without an import cycle.
pub trait Sources: Sync {
    /// Persistence.
    fn store(&self) -> &dyn Store;
    /// Key custody.
    fn custody(&self) -> &dyn KeyCustody;
    /// The node's row-authentication keys.
    fn integrity_keys(&self) -> &IntegrityKeys;
    /// The findings so far.
    fn alarms(&self) -> &Alarms;
}

/// What an alarm is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AlarmKind {
    /// A signing-key row without the node's valid tag.
    KeyRow,
    /// A log leaf that does not match its event or lacks the node's tag.
    Leaf,
    /// A stored checkpoint not signed by the node's log key.
    Checkpoint,
    /// A published version that does not verify against the node's keys.
    Version,
}

impl AlarmKind {
    /// Stable name (health, audit detail).
    pub fn as_str(self) -> &'static str {
        match self {
            AlarmKind::KeyRow => "unauthenticated-key-row",
            AlarmKind::Leaf => "unauthenticated-leaf",
            AlarmKind::Checkpoint => "ignored-checkpoint",
            AlarmKind::Version => "withheld-version",
        }
    }
}

/// Counters of distinct integrity findings since start-up.
#[derive(Debug, Default)]
pub struct Alarms {
    key_rows: AtomicU64,
    leaves: AtomicU64,
    checkpoints: AtomicU64,
    versions: AtomicU64,
    seen: Mutex<HashSet<(AlarmKind, String)>>,
}

/// The `/health` view of [`Alarms`].
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AlarmReport {
    /// Signing-key rows ignored.
    pub unauthenticated_key_rows: u64,
    /// Log leaves not signed over.
    pub unauthenticated_leaves: u64,
    /// Stored checkpoints ignored.
    pub ignored_checkpoints: u64,
    /// Published versions withheld.
    pub withheld_versions: u64,
}

impl AlarmReport {
    /// Whether nothing was found.
    pub fn is_clear(&self) -> bool {
        *self == AlarmReport::default()
    }
}

impl Alarms {
    fn counter(&self, kind: AlarmKind) -> &AtomicU64 {
        match kind {
            AlarmKind::KeyRow => &self.key_rows,
            AlarmKind::Leaf => &self.leaves,
            AlarmKind::Checkpoint => &self.checkpoints,
            AlarmKind::Version => &self.versions,
        }
    }

    /// Records a finding about `subject`; answers whether it is new (first time since
    /// start-up), in which case it was counted and logged.
    pub fn raise(&self, kind: AlarmKind, subject: &str, detail: &str) -> bool {
        let new = self
            .seen
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .insert((kind, subject.to_string()));
        if new {
            self.counter(kind).fetch_add(1, Ordering::Relaxed);
            tracing::error!(
                target: "hallmark::integrity",
                alarm = kind.as_str(),
                subject,
                detail,
                "INTEGRITY ALARM: a database row the node did not write is ignored"
            );
        }
        new
    }

    /// The counts.
    pub fn report(&self) -> AlarmReport {
        AlarmReport {
            unauthenticated_key_rows: self.key_rows.load(Ordering::Relaxed),
            unauthenticated_leaves: self.leaves.load(Ordering::Relaxed),
            ignored_checkpoints: self.checkpoints.load(Ordering::Relaxed),
            withheld_versions: self.versions.load(Ordering::Relaxed),
        }
    }
}

/// The detail of `integrity.alarm`: which alarm, and what was found (one of the finding
/// types below).
#[derive(Debug, Clone, Serialize)]
pub struct AlarmDetail<'a, D> {
    /// The alarm's name ([`AlarmKind::as_str`]).
    pub alarm: &'static str,
    /// The finding.
    pub detail: &'a D,
}

/// A signing-key row that is not the node's (no tag or a wrong one, custody does not have
/// it as stored).
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct UnauthenticatedKeyRow<'a> {
    /// The row's key id.
    pub key_id: &'a str,
    /// Its purpose.
    pub purpose: &'a str,
    /// Its public key.
    pub public_key_multibase: &'a str,
    /// Its status.
    pub status: &'static str,
    /// Whether it carries a tag at all.
    pub tagged: bool,
}

/// A signing-key row under the id of one of custody's keys that says something else of it.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ForeignKeyRow<'a> {
    /// The key id.
    pub key_id: &'a str,
    /// What is wrong (`differs from custody`).
    pub reason: &'static str,
}

/// A signing-key row whose tag does not verify: both statuses.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct MistaggedKeyRow<'a> {
    /// The key id.
    pub key_id: &'a str,
    /// What is wrong.
    pub reason: &'static str,
    /// The row's status.
    pub stored: &'static str,
    /// Custody's status of the key.
    pub custody: &'static str,
}

/// A stored checkpoint the node ignores.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct IgnoredCheckpoint<'a> {
    /// Its tree size.
    pub tree_size: u64,
    /// SHA-256 of its note, hex.
    pub note_sha256: &'a str,
    /// Why it is ignored.
    pub reason: &'a str,
}

/// A log leaf the checkpointer stops before.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct UnauthenticatedLeaf<'a> {
    /// Its index.
    pub leaf_index: u64,
    /// Its hash, hex.
    pub leaf_hash: &'a str,
    /// Why.
    pub reason: &'static str,
}

/// A published version withheld from the read path.
#[derive(Debug, Clone, Serialize)]
pub struct WithheldVersion<'a> {
    /// The passport (`urn:uuid:…`).
    pub passport: &'a str,
    /// The version.
    pub version: u32,
    /// `jwt` or `data-integrity`.
    pub form: &'static str,
    /// Why it does not verify.
    pub reason: &'a str,
}

/// Raises an alarm and, the first time, records it as a private audit event (evidence in
/// the log; bounded by the number of distinct rows someone inserted).
pub async fn alarm<D: Serialize + Sync>(
    app: &(impl Sources + ?Sized),
    kind: AlarmKind,
    subject: &str,
    detail: &D,
) {
    let finding = crate::audit::detail(Action::IntegrityAlarm, detail);
    let text = match &finding {
        Ok(v) => v.to_string(),
        Err(e) => e.to_string(),
    };
    if !app.alarms().raise(kind, subject, &text) {
        return;
    }
    let wrapped = finding.and_then(|finding| {
        let detail = AlarmDetail {
            alarm: kind.as_str(),
            detail: &finding,
        };
        crate::audit::detail(Action::IntegrityAlarm, &detail)
    });
    let mut event = AuditEvent::of(OffsetDateTime::now_utc(), "node", Action::IntegrityAlarm);
    event.subject = Some(subject.chars().take(512).collect());
    event.detail = match wrapped {
        Ok(d) => d,
        Err(e) => {
            tracing::error!(target: "hallmark::integrity", error = %e, "could not write the integrity alarm");
            return;
        }
    };
    if let Err(e) = app.store().append_audit(event).await {
        tracing::error!(target: "hallmark::integrity", error = %e, "could not record the integrity alarm");
    }
}

/// One key the node trusts, with where the trust comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TrustedKey {
    /// Key id.
    pub key_id: String,
    /// Purpose (`passport-signing`, …).
    pub purpose: String,
    /// Multikey.
    pub public_key_multibase: String,
    /// Status (the most advanced of custody's and the authenticated row's).
    pub status: SigningKeyStatus,
}

fn rank(s: SigningKeyStatus) -> u8 {
    match s {
        SigningKeyStatus::Current => 0,
        SigningKeyStatus::Retired => 1,
        SigningKeyStatus::Revoked => 2,
    }
}

fn from_core(s: KeyStatus) -> SigningKeyStatus {
    match s {
        KeyStatus::Current => SigningKeyStatus::Current,
        KeyStatus::Retired => SigningKeyStatus::Retired,
        KeyStatus::Revoked => SigningKeyStatus::Revoked,
    }
}

/// Merges custody's keys (`None`: custody unreachable, e.g. the HSM is down) with the
/// stored rows: custody's keys always count; a row counts only if it carries the node's
/// valid tag; for a key in both, the more advanced status wins (a revocation made by a
/// sibling node is honoured, a row cannot bring a key back). Rows that fail are returned
/// separately, for reporting.
pub fn merge_keys(
    custody: Option<&[KeyInfo]>,
    rows: &[SigningKeyRecord],
    keys: &hallmark_core::integrity::IntegrityKeys,
) -> (Vec<TrustedKey>, Vec<SigningKeyRecord>) {
    let mut out: Vec<TrustedKey> = custody
        .unwrap_or_default()
        .iter()
        .map(|k| TrustedKey {
            key_id: k.id.to_string(),
            purpose: k.purpose.as_str().to_string(),
            public_key_multibase: k.public_key_multibase.clone(),
            status: from_core(k.status),
        })
        .collect();
    let mut rejected = Vec::new();
    for row in rows {
        if !row.is_authentic(keys) {
            // A legacy row (no tag) that custody agrees with is harmless: custody already
            // supplies the key. Anything else is reported.
            let agrees = row.tag.is_none()
                && out.iter().any(|k| {
                    k.key_id == row.key_id
                        && k.public_key_multibase == row.public_key_multibase
                        && k.purpose == row.purpose
                });
            if !agrees {
                rejected.push(row.clone());
            }
            continue;
        }
        match out.iter_mut().find(|k| k.key_id == row.key_id) {
            Some(k) if k.public_key_multibase == row.public_key_multibase => {
                if rank(row.status) > rank(k.status) {
                    k.status = row.status;
                }
            }
            // The same id for another key cannot be the node's own row.
            Some(_) => rejected.push(row.clone()),
            None => out.push(TrustedKey {
                key_id: row.key_id.clone(),
                purpose: row.purpose.clone(),
                public_key_multibase: row.public_key_multibase.clone(),
                status: row.status,
            }),
        }
    }
    (out, rejected)
}

/// The trusted keys of the node ([`merge_keys`] over custody and the store), reporting
/// every rejected row.
pub async fn trusted_keys(
    app: &(impl Sources + ?Sized),
) -> Result<Vec<TrustedKey>, hallmark_store::StoreError> {
    let custody = app.custody().list().ok();
    let rows = app.store().list_signing_keys().await?;
    let (trusted, rejected) = merge_keys(custody.as_deref(), &rows, app.integrity_keys());
    for row in rejected {
        alarm(
            app,
            AlarmKind::KeyRow,
            &row.key_id,
            &UnauthenticatedKeyRow {
                key_id: &row.key_id,
                purpose: &row.purpose,
                public_key_multibase: &row.public_key_multibase,
                status: row.status.as_str(),
                tagged: row.tag.is_some(),
            },
        )
        .await;
    }
    Ok(trusted)
}

/// The DID document from the trusted keys: current and retired passport-signing keys,
/// never revoked ones.
pub fn did_document(did: &hallmark_core::did::DidWeb, keys: &[TrustedKey]) -> DidDocument {
    let mut published = Vec::new();
    for k in keys {
        if k.purpose != Purpose::PassportSigning.as_str() {
            continue;
        }
        let status = match k.status {
            SigningKeyStatus::Current => KeyStatus::Current,
            SigningKeyStatus::Retired => KeyStatus::Retired,
            SigningKeyStatus::Revoked => continue,
        };
        match decode_public_key_multibase(&k.public_key_multibase) {
            Ok(public_key) => published.push(PublishedKey { public_key, status }),
            Err(e) => {
                tracing::error!(key = %k.key_id, error = %e, "unreadable trusted key");
            }
        }
    }
    DidDocument::build(did, &published)
}

/// Whether bytes about to be served verify against the node's trusted keys *and* are the
/// credential of the version they are served as (`expected_id`: a genuine credential of
/// another passport or version copied into this row is refused too).
pub fn verify_served(bytes: &[u8], doc: &DidDocument, expected_id: &str) -> Result<(), String> {
    verify_served_report(bytes, doc, expected_id).map(drop)
}

/// [`verify_served`], answering the verification report of bytes that may be served (its
/// named checks, for a page that shows them).
pub fn verify_served_report(
    bytes: &[u8],
    doc: &DidDocument,
    expected_id: &str,
) -> Result<hallmark_core::verify::Report, String> {
    let report = hallmark_core::verify::verify(bytes, doc);
    if report.is_valid() {
        let id = report
            .credential
            .as_ref()
            .and_then(|c| c.get("id"))
            .and_then(|v| v.as_str());
        return match id {
            Some(id) if id == expected_id => Ok(report),
            other => Err(format!(
                "the credential is {other:?}, not the one of this version ({expected_id})"
            )),
        };
    }
    Err(report
        .checks
        .iter()
        .find(|c| matches!(c.outcome, hallmark_core::verify::Outcome::Fail(_)))
        .map_or_else(
            || "the credential does not verify".to_string(),
            |c| format!("{}: {:?}", c.name, c.outcome),
        ))
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use hallmark_core::integrity::IntegrityKeys;
    use time::macros::datetime;

    fn row(id: &str, key: &str, status: SigningKeyStatus) -> SigningKeyRecord {
        SigningKeyRecord {
            key_id: id.into(),
            purpose: "passport-signing".into(),
            backend: "file".into(),
            public_key_multibase: key.into(),
            status,
            created_at: datetime!(2026-12-01 10:00 UTC),
            retired_at: None,
            revoked_at: None,
            revocation_reason: None,
            tag: None,
        }
    }

    fn tagged(keys: &IntegrityKeys, mut r: SigningKeyRecord) -> SigningKeyRecord {
        r.tag = Some(keys.key_row_tag(&r.authenticated_bytes().unwrap()).to_vec());
        r
    }

    #[test]
    fn only_tagged_rows_add_keys_and_a_row_cannot_undo_a_revocation() {
        let keys = IntegrityKeys::derive(&[3; 32]).unwrap();
        let other = IntegrityKeys::derive(&[4; 32]).unwrap();
        let good = tagged(&keys, row("a", "z6MkA", SigningKeyStatus::Current));
        let forged = tagged(&other, row("b", "z6MkB", SigningKeyStatus::Retired));
        let untagged = row("c", "z6MkC", SigningKeyStatus::Retired);
        // A tagged row whose status was changed afterwards no longer verifies.
        let mut altered = tagged(&keys, row("d", "z6MkD", SigningKeyStatus::Current));
        altered.status = SigningKeyStatus::Revoked;
        let (trusted, rejected) = merge_keys(None, &[good, forged, untagged, altered], &keys);
        assert_eq!(
            trusted
                .iter()
                .map(|k| k.key_id.as_str())
                .collect::<Vec<_>>(),
            ["a"]
        );
        assert_eq!(
            rejected
                .iter()
                .map(|k| k.key_id.as_str())
                .collect::<Vec<_>>(),
            ["b", "c", "d"]
        );
    }
}
