//! Hallmark's key-status records in the token: one `CKO_DATA` object per key
//! (`CKA_APPLICATION = "hallmark"`, label `<prefix>:<purpose>:<n>`, the key's [`KeyInfo`]
//! as JSON in `CKA_VALUE`), read back with interrupted operations resolved, and replaced
//! create-first.

use super::objects::{cka_id, generate_pair, public_key_of, read_public_key};
use super::session::Inner;
use crate::{Backend, KeyInfo, KeysError, Purpose};
use cryptoki::error::{Error as CkError, RvError};
use cryptoki::object::{Attribute, AttributeType, ObjectClass, ObjectHandle};
use cryptoki::session::Session;
use hallmark_core::did::KeyStatus;
use hallmark_core::keys::{public_key_multibase, KeyId};
use time::OffsetDateTime;

/// `CKA_APPLICATION` of Hallmark's key-status records.
const APPLICATION: &[u8] = b"hallmark";

/// One key as found in the token.
#[derive(Debug, Clone)]
pub(super) struct Record {
    /// The `n` of `<prefix>:<purpose>:<n>`.
    pub(super) seq: u64,
    pub(super) label: String,
    /// The record object(s): more than one only if a record update was interrupted.
    pub(super) data: Vec<ObjectHandle>,
    pub(super) info: KeyInfo,
}

impl Inner {
    pub(super) fn label(&self, purpose: Purpose, seq: u64) -> String {
        format!("{}:{}:{seq}", self.prefix, purpose.as_str())
    }

    /// Parse `<prefix>:<purpose>:<n>`.
    fn parse_label(&self, label: &str) -> Option<(Purpose, u64)> {
        parse_label(&self.prefix, label)
    }

    /// Every key record of this prefix, sorted by purpose and sequence number, with an
    /// interrupted rotation (several current keys) resolved in favour of the newest.
    pub(super) fn records(&self, s: &Session) -> Result<Vec<Record>, KeysError> {
        let mut out: Vec<Record> = Vec::new();
        for rec in self.read_records(s)? {
            // The record must describe the public key stored under the same label.
            let public = read_public_key(s, &rec.label)?;
            if KeyId::of(&public) != rec.info.id {
                return Err(KeysError::Token(format!(
                    "record {:?} names {} but the token's public key is {}",
                    rec.label,
                    rec.info.id,
                    KeyId::of(&public)
                )));
            }
            out.push(rec);
        }
        Ok(out)
    }

    /// The status records of this prefix, one per label, sorted by purpose and sequence
    /// number, with interrupted operations resolved:
    ///
    /// * A record is replaced by creating the new version and then destroying the old one;
    ///   if that was interrupted, the version with the most advanced status (current <
    ///   retired < revoked) wins, since status only ever moves forward.
    /// * A key marked current while a newer key of its purpose exists (a rotation that
    ///   stopped before retiring it; `generate` refuses while a key is current, so rotation
    ///   is the only way a newer key appears) is treated as retired.
    pub(super) fn read_records(&self, s: &Session) -> Result<Vec<Record>, KeysError> {
        // Another session (another process, or another prefix) may replace a record between
        // our C_FindObjects and C_GetAttributeValue: scan again.
        let mut attempts = 0;
        loop {
            match self.read_records_once(s) {
                Err(e) if e.is_vanished_object() && attempts < 5 => attempts += 1,
                other => return other,
            }
        }
    }

    fn read_records_once(&self, s: &Session) -> Result<Vec<Record>, KeysError> {
        let handles = s
            .find_objects(&[
                Attribute::Class(ObjectClass::DATA),
                Attribute::Application(APPLICATION.to_vec()),
            ])
            .map_err(KeysError::ck("C_FindObjects"))?;
        let mut out: Vec<Record> = Vec::new();
        for h in handles {
            let attrs = s
                .get_attributes(h, &[AttributeType::Label, AttributeType::Value])
                .map_err(KeysError::ck("C_GetAttributeValue"))?;
            let mut label = None;
            let mut value = None;
            for a in attrs {
                match a {
                    Attribute::Label(l) => label = String::from_utf8(l).ok(),
                    Attribute::Value(v) => value = Some(v),
                    _ => {}
                }
            }
            let (Some(label), Some(value)) = (label, value) else {
                continue;
            };
            let Some((purpose, seq)) = self.parse_label(&label) else {
                continue;
            };
            let info: KeyInfo = serde_json::from_slice(&value)
                .map_err(|e| KeysError::Token(format!("record {label:?} is not valid: {e}")))?;
            if info.purpose != purpose || info.backend != Backend::Pkcs11 {
                return Err(KeysError::Token(format!(
                    "record {label:?} does not match its label"
                )));
            }
            if let Some(prev) = out.iter_mut().find(|r| r.label == label) {
                if prev.info.id != info.id {
                    return Err(KeysError::Token(format!(
                        "records labelled {label:?} name different keys"
                    )));
                }
                prev.data.push(h);
                if rank(info.status) > rank(prev.info.status) {
                    prev.info = info;
                }
                continue;
            }
            out.push(Record {
                seq,
                label,
                data: vec![h],
                info,
            });
        }
        out.sort_by_key(|r| (r.info.purpose, r.seq));
        for i in 0..out.len() {
            let next = out
                .get(i + 1)
                .filter(|n| n.info.purpose == out[i].info.purpose)
                .map(|n| n.info.created_at);
            if let (Some(at), KeyStatus::Current) = (next, out[i].info.status) {
                out[i].info.status = KeyStatus::Retired;
                out[i].info.retired_at = Some(at);
            }
        }
        Ok(out)
    }

    /// The next sequence number for `purpose`, counting every object with such a label
    /// (including orphans), so labels are never reused.
    pub(super) fn next_seq(&self, s: &Session, purpose: Purpose) -> Result<u64, KeysError> {
        let mut max = 0;
        for class in [
            ObjectClass::DATA,
            ObjectClass::PUBLIC_KEY,
            ObjectClass::PRIVATE_KEY,
        ] {
            for h in s
                .find_objects(&[Attribute::Class(class)])
                .map_err(KeysError::ck("C_FindObjects"))?
            {
                let attrs = match s.get_attributes(h, &[AttributeType::Label]) {
                    Ok(attrs) => attrs,
                    // Destroyed meanwhile by another session: it held a record we will see
                    // again under its replacement, or a key of another prefix.
                    Err(CkError::Pkcs11(RvError::ObjectHandleInvalid, _)) => continue,
                    Err(e) => return Err(KeysError::ck("C_GetAttributeValue")(e)),
                };
                for a in attrs {
                    if let Attribute::Label(l) = a {
                        if let Some((p, n)) = std::str::from_utf8(&l)
                            .ok()
                            .and_then(|l| self.parse_label(l))
                        {
                            if p == purpose {
                                max = max.max(n);
                            }
                        }
                    }
                }
            }
        }
        Ok(max + 1)
    }
}

pub(super) fn parse_label(prefix: &str, label: &str) -> Option<(Purpose, u64)> {
    let rest = label.strip_prefix(prefix)?.strip_prefix(':')?;
    let (purpose, n) = rest.rsplit_once(':')?;
    let purpose = Purpose::ALL.into_iter().find(|p| p.as_str() == purpose)?;
    if n.is_empty() || !n.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    Some((purpose, n.parse().ok()?))
}

pub(super) fn current_of(records: &[Record], purpose: Purpose) -> Option<&Record> {
    records
        .iter()
        .rev()
        .find(|r| r.info.purpose == purpose && r.info.status == KeyStatus::Current)
}

fn record_json(info: &KeyInfo) -> Result<Vec<u8>, KeysError> {
    serde_json::to_vec(info).map_err(|e| KeysError::Token(format!("cannot encode record: {e}")))
}

fn rank(status: KeyStatus) -> u8 {
    match status {
        KeyStatus::Current => 0,
        KeyStatus::Retired => 1,
        KeyStatus::Revoked => 2,
    }
}

pub(super) fn create_record(s: &Session, label: &str, info: &KeyInfo) -> Result<(), KeysError> {
    s.create_object(&[
        Attribute::Class(ObjectClass::DATA),
        Attribute::Token(true),
        Attribute::Private(true),
        Attribute::Label(label.as_bytes().to_vec()),
        Attribute::Application(APPLICATION.to_vec()),
        Attribute::Value(record_json(info)?),
    ])
    .map_err(KeysError::ck("C_CreateObject(record)"))?;
    Ok(())
}

/// Replace a record: tokens (SoftHSM2 among them) keep `CKA_VALUE` of data objects
/// read-only, so the new version is created first and the old one destroyed after.
pub(super) fn write_record(s: &Session, old: &Record, info: &KeyInfo) -> Result<(), KeysError> {
    create_record(s, &old.label, info)?;
    for h in &old.data {
        s.destroy_object(*h)
            .map_err(KeysError::ck("C_DestroyObject(record)"))?;
    }
    Ok(())
}

impl Inner {
    /// Generate a key pair in the token and record it as current.
    pub(super) fn generate_in(
        &self,
        s: &Session,
        purpose: Purpose,
        now: OffsetDateTime,
    ) -> Result<KeyInfo, KeysError> {
        let seq = self.next_seq(s, purpose)?;
        let label = self.label(purpose, seq);
        let (public, private) = generate_pair(s, &label)?;
        let key = public_key_of(s, public)?;
        let id = KeyId::of(&key);
        let ck_id = cka_id(&key);
        for h in [public, private] {
            s.update_attributes(h, &[Attribute::Id(ck_id.clone())])
                .map_err(KeysError::ck("C_SetAttributeValue(CKA_ID)"))?;
        }
        let info = KeyInfo {
            id,
            purpose,
            status: KeyStatus::Current,
            backend: Backend::Pkcs11,
            public_key_multibase: public_key_multibase(&key),
            created_at: now,
            retired_at: None,
            revoked_at: None,
            revocation_reason: None,
        };
        create_record(s, &label, &info)?;
        Ok(info)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;
    #[test]
    fn labels_round_trip() {
        assert_eq!(
            parse_label("node-a", "node-a:passport-signing:12"),
            Some((Purpose::PassportSigning, 12))
        );
        assert_eq!(
            parse_label("a:b", "a:b:log-checkpoint:1"),
            Some((Purpose::LogCheckpoint, 1))
        );
        assert_eq!(parse_label("node-a", "node-ab:passport-signing:1"), None);
        assert_eq!(parse_label("node-a", "node-a:passport-signing:"), None);
        assert_eq!(parse_label("node-a", "node-a:passport-signing:+1"), None);
        assert_eq!(parse_label("node-a", "node-a:other:1"), None);
    }
}
