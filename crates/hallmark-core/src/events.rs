//! The node's events for outsiders (issue 21; `docs/events.md`): CloudEvents 1.0 in the JSON
//! format, one per audit event that matters outside the node — a passport published, a new
//! version, a status change, a signing key registered / retired / revoked, a status list
//! version, an import finished. The store writes the event into its outbox in the same
//! transaction as the audit event (so an event exists if and only if the change committed);
//! relays deliver the stored bytes as they are.
//!
//! Every event is a pure function of its audit event and the node's identity
//! ([`EventSource`]): `id` is the audit sequence number (stable, gapless, the log index + 1),
//! `source` the node's DID, `subject` the passport (`urn:uuid:…`) or key id. `data` carries
//! ids, version, status, URLs and the log index — never a field of a passport, never the
//! operator's reasons or file names, nothing the public log does not already say.

use crate::passport::PassportId;
use crate::tlog::event::Action;
use serde_json::{json, Map, Value};
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

/// CloudEvents `specversion`.
pub const SPEC_VERSION: &str = "1.0";

/// A version 1 was published (the passport is new to the world).
pub const PASSPORT_PUBLISHED: &str = "eu.dpp.passport.published";
/// A version after the first was published.
pub const PASSPORT_VERSION_PUBLISHED: &str = "eu.dpp.passport.version.published";
/// The passport's status changed (suspended, resumed → published, archived, deactivated).
pub const PASSPORT_STATUS_CHANGED: &str = "eu.dpp.passport.status.changed";
/// A signing key was registered (a new key, e.g. by a rotation).
pub const KEY_REGISTERED: &str = "eu.dpp.key.registered";
/// A signing key was retired (still verifies old credentials).
pub const KEY_RETIRED: &str = "eu.dpp.key.retired";
/// A signing key was revoked.
pub const KEY_REVOKED: &str = "eu.dpp.key.revoked";
/// A new version of a status list was signed.
pub const STATUS_LIST_UPDATED: &str = "eu.dpp.statuslist.updated";
/// An import run finished (or was interrupted).
pub const IMPORT_FINISHED: &str = "eu.dpp.import.finished";

/// Every event type, for documentation and subscription checks.
pub const EVENT_TYPES: &[&str] = &[
    PASSPORT_PUBLISHED,
    PASSPORT_VERSION_PUBLISHED,
    PASSPORT_STATUS_CHANGED,
    KEY_REGISTERED,
    KEY_RETIRED,
    KEY_REVOKED,
    STATUS_LIST_UPDATED,
    IMPORT_FINISHED,
];

/// Who emits the events: the node's DID (`source`) and public base URL (the URLs in `data`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EventSource {
    did: String,
    base_url: String,
}

impl EventSource {
    /// The source `did` (e.g. `did:web:dpp.example.com`) serving under `base_url`.
    #[must_use]
    pub fn new(did: impl Into<String>, base_url: impl Into<String>) -> Self {
        EventSource {
            did: did.into(),
            base_url: base_url.into().trim_end_matches('/').to_owned(),
        }
    }

    /// The DID.
    #[must_use]
    pub fn did(&self) -> &str {
        &self.did
    }
}

/// An audit event as the outbox sees it.
#[derive(Debug, Clone, Copy)]
pub struct Audited<'a> {
    /// Its sequence number (the log index + 1).
    pub seq: u64,
    /// Its action.
    pub action: Action,
    /// When it happened.
    pub at: OffsetDateTime,
    /// The passport it concerns, if any.
    pub passport: Option<&'a PassportId>,
    /// Its subject (a key id, …), if any.
    pub subject: Option<&'a str>,
    /// Its detail.
    pub detail: &'a Value,
}

/// Why an event could not be written.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EventError {
    /// The time is not representable in RFC 3339.
    #[error("event time: {0}")]
    Time(String),
    /// The audit event lacks what its event needs (a passport, a version).
    #[error("audit event {seq} ({action}) lacks {what}")]
    Missing {
        /// The sequence number.
        seq: u64,
        /// The action.
        action: &'static str,
        /// What is missing.
        what: &'static str,
    },
}

/// The event type of an audit action, or `None` when outsiders are not told about it.
/// A publication's type depends on its version (1: [`PASSPORT_PUBLISHED`]).
#[must_use]
pub fn event_type(action: Action, detail: &Value) -> Option<&'static str> {
    Some(match action {
        Action::PassportPublished => match detail.get("version").and_then(Value::as_u64) {
            Some(1) => PASSPORT_PUBLISHED,
            _ => PASSPORT_VERSION_PUBLISHED,
        },
        Action::PassportSuspended
        | Action::PassportResumed
        | Action::PassportArchived
        | Action::PassportDeactivated => PASSPORT_STATUS_CHANGED,
        Action::SigningKeyRegistered => KEY_REGISTERED,
        Action::SigningKeyRetired => KEY_RETIRED,
        Action::SigningKeyRevoked => KEY_REVOKED,
        Action::StatusListPublished => STATUS_LIST_UPDATED,
        Action::ImportCompleted => IMPORT_FINISHED,
        _ => return None,
    })
}

/// The CloudEvent of `e` from `source` (JSON format, members in a fixed order), or `None`
/// when its action is not told to outsiders ([`event_type`]).
///
/// # Errors
/// [`EventError`] when the audit event lacks what its event needs.
pub fn cloud_event(source: &EventSource, e: &Audited<'_>) -> Result<Option<Value>, EventError> {
    let Some(kind) = event_type(e.action, e.detail) else {
        return Ok(None);
    };
    let missing = |what| EventError::Missing {
        seq: e.seq,
        action: e.action.as_str(),
        what,
    };
    let time =
        e.at.format(&Rfc3339)
            .map_err(|x| EventError::Time(x.to_string()))?;
    let log_index = e.seq.saturating_sub(1);
    let base = &source.base_url;
    let detail = |k: &str| e.detail.get(k).cloned().unwrap_or(Value::Null);
    let mut data = Map::new();
    let subject = match e.action {
        Action::PassportPublished
        | Action::PassportSuspended
        | Action::PassportResumed
        | Action::PassportArchived
        | Action::PassportDeactivated => {
            let id = e.passport.ok_or_else(|| missing("a passport"))?;
            let uuid = id.uuid();
            let urn = id.to_string();
            data.insert("passportId".into(), json!(urn));
            data.insert(
                "passportUrl".into(),
                json!(format!("{base}/passports/{uuid}")),
            );
            if e.action == Action::PassportPublished {
                let version = e
                    .detail
                    .get("version")
                    .and_then(Value::as_u64)
                    .ok_or_else(|| missing("a version"))?;
                data.insert("version".into(), json!(version));
                data.insert(
                    "versionUrl".into(),
                    json!(format!("{base}/passports/{uuid}/versions/{version}")),
                );
            }
            let status = match e.action {
                Action::PassportSuspended => "suspended",
                Action::PassportArchived => "archived",
                Action::PassportDeactivated => "deactivated",
                _ => "published",
            };
            data.insert("status".into(), json!(status));
            urn
        }
        Action::SigningKeyRegistered | Action::SigningKeyRetired | Action::SigningKeyRevoked => {
            let key = e.subject.ok_or_else(|| missing("a key id"))?;
            data.insert("keyId".into(), json!(key));
            data.insert("purpose".into(), detail("purpose"));
            let status = match e.action {
                Action::SigningKeyRegistered => detail("status"),
                _ => detail("to"),
            };
            data.insert("status".into(), status);
            key.to_owned()
        }
        Action::StatusListPublished => {
            data.insert("purpose".into(), detail("purpose"));
            data.insert("list".into(), detail("list"));
            data.insert("version".into(), detail("version"));
            format!(
                "{}/{}",
                e.detail
                    .get("purpose")
                    .and_then(Value::as_str)
                    .unwrap_or("status"),
                e.detail.get("list").and_then(Value::as_u64).unwrap_or(0)
            )
        }
        _ => {
            // Import: its id and counts, never the file's name.
            let import = e
                .detail
                .get("importId")
                .and_then(Value::as_str)
                .ok_or_else(|| missing("an import id"))?;
            data.insert("importId".into(), json!(import));
            data.insert("rows".into(), detail("rows"));
            data.insert("counts".into(), detail("counts"));
            data.insert("interrupted".into(), detail("interrupted"));
            import.to_owned()
        }
    };
    data.insert("logIndex".into(), json!(log_index));
    Ok(Some(json!({
        "specversion": SPEC_VERSION,
        "id": e.seq.to_string(),
        "source": source.did,
        "type": kind,
        "subject": subject,
        "time": time,
        "datacontenttype": "application/json",
        "data": Value::Object(data),
    })))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;
    use std::str::FromStr;
    use time::macros::datetime;

    fn source() -> EventSource {
        EventSource::new("did:web:dpp.example.com", "https://dpp.example.com/")
    }

    #[test]
    fn a_first_publication_is_a_published_event_with_urls_and_log_index() {
        let id = PassportId::from_str("urn:uuid:0190c8a8-0000-7000-8000-000000000001").unwrap();
        let detail = json!({ "version": 1, "keyId": "k1" });
        let e = Audited {
            seq: 42,
            action: Action::PassportPublished,
            at: datetime!(2026-12-06 12:00:00 UTC),
            passport: Some(&id),
            subject: None,
            detail: &detail,
        };
        let ev = cloud_event(&source(), &e).unwrap().unwrap();
        assert_eq!(
            ev,
            json!({
                "specversion": "1.0",
                "id": "42",
                "source": "did:web:dpp.example.com",
                "type": "eu.dpp.passport.published",
                "subject": "urn:uuid:0190c8a8-0000-7000-8000-000000000001",
                "time": "2026-12-06T12:00:00Z",
                "datacontenttype": "application/json",
                "data": {
                    "passportId": "urn:uuid:0190c8a8-0000-7000-8000-000000000001",
                    "passportUrl": "https://dpp.example.com/passports/0190c8a8-0000-7000-8000-000000000001",
                    "version": 1,
                    "versionUrl": "https://dpp.example.com/passports/0190c8a8-0000-7000-8000-000000000001/versions/1",
                    "status": "published",
                    "logIndex": 41,
                }
            })
        );
        let detail = json!({ "version": 3 });
        let e = Audited {
            detail: &detail,
            ..e
        };
        assert_eq!(
            cloud_event(&source(), &e).unwrap().unwrap()["type"],
            PASSPORT_VERSION_PUBLISHED
        );
    }

    #[test]
    fn only_the_actions_outsiders_need_make_events_and_never_reasons_or_file_names() {
        let id = PassportId::from_str("urn:uuid:0190c8a8-0000-7000-8000-000000000001").unwrap();
        let reason = json!({ "reason": "recall 2026-17: internal memo" });
        let e = Audited {
            seq: 7,
            action: Action::PassportSuspended,
            at: datetime!(2026-12-06 12:00:00 UTC),
            passport: Some(&id),
            subject: None,
            detail: &reason,
        };
        let ev = cloud_event(&source(), &e).unwrap().unwrap();
        assert_eq!(ev["type"], PASSPORT_STATUS_CHANGED);
        assert_eq!(ev["data"]["status"], "suspended");
        assert!(!ev.to_string().contains("memo"));

        let import = json!({ "importId": "imp-1", "fileName": "secret-plan.csv", "rows": 3,
            "counts": { "published": 3 }, "interrupted": false });
        let e = Audited {
            action: Action::ImportCompleted,
            passport: None,
            detail: &import,
            ..e
        };
        let ev = cloud_event(&source(), &e).unwrap().unwrap();
        assert_eq!(ev["type"], IMPORT_FINISHED);
        assert!(!ev.to_string().contains("secret-plan"));

        for action in Action::ALL {
            let made = event_type(*action, &json!({ "version": 1 })).is_some();
            let expected = matches!(
                action,
                Action::PassportPublished
                    | Action::PassportSuspended
                    | Action::PassportResumed
                    | Action::PassportArchived
                    | Action::PassportDeactivated
                    | Action::SigningKeyRegistered
                    | Action::SigningKeyRetired
                    | Action::SigningKeyRevoked
                    | Action::StatusListPublished
                    | Action::ImportCompleted
            );
            assert_eq!(made, expected, "{}", action.as_str());
        }
        // A publication without its passport is refused, not emitted half-empty.
        let v1 = json!({ "version": 1 });
        let e = Audited {
            action: Action::PassportPublished,
            passport: None,
            detail: &v1,
            ..e
        };
        assert!(cloud_event(&source(), &e).is_err());
    }
}
