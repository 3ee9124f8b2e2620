//! The JSON of Bitstring Status List v1.0: `BitstringStatusListEntry` entries in a
//! credential's `credentialStatus`, and the `BitstringStatusListCredential` of a list —
//! written by the node, read back by verifiers.
//!
//! Everything here uses the VC 2.0 context alone: the specification's terms are defined in
//! it.

use super::{
    BitstringStatusList, StatusError, StatusPurpose, StatusRef, LIST_SIZE, LIST_TTL_SECS,
    LIST_VALIDITY_SECS,
};
use crate::credential::{format_datetime, VC_V2_CONTEXT};
use crate::issue::Issuer;
use serde_json::{json, Map, Value};
use time::format_description::well_known::Rfc3339;
use time::{Duration, OffsetDateTime};

/// `type` of a credential's status entry.
pub const ENTRY_TYPE: &str = "BitstringStatusListEntry";
/// `type` (after `VerifiableCredential`) of a status list credential.
pub const LIST_CREDENTIAL_TYPE: &str = "BitstringStatusListCredential";
/// `credentialSubject.type` of a status list credential.
pub const LIST_TYPE: &str = "BitstringStatusList";

/// The URL of a list, which is also its credential's `id` and every entry's
/// `statusListCredential`: `{base_url}/status/{purpose}/{list}`.
pub fn list_url(base_url: &str, purpose: StatusPurpose, list: u32) -> String {
    format!(
        "{}/status/{}/{list}",
        base_url.trim_end_matches('/'),
        purpose.as_str()
    )
}

/// A credential's `credentialStatus`: two `BitstringStatusListEntry` entries at the same
/// position, `suspension` then `revocation`. Each entry's `id` is
/// `{statusListCredential}#{index}`; `statusListIndex` is the index in decimal, as a string.
pub fn credential_status(base_url: &str, r: StatusRef) -> Value {
    Value::Array(
        StatusPurpose::ALL
            .iter()
            .map(|&purpose| {
                let url = list_url(base_url, purpose, r.list);
                json!({
                    "id": format!("{url}#{}", r.index),
                    "type": ENTRY_TYPE,
                    "statusPurpose": purpose.as_str(),
                    "statusListIndex": r.index.to_string(),
                    "statusListCredential": url,
                })
            })
            .collect(),
    )
}

/// The unsigned `BitstringStatusListCredential` of one list, to be secured like a passport
/// credential ([`crate::credential::secure_document`]): `id` = the list URL, issuer = the
/// node's DID, `validFrom` = `valid_from` (the signing time, to the second), `validUntil` =
/// `validFrom` + [`LIST_VALIDITY_SECS`], and a `credentialSubject` with `id` = `{url}#list`,
/// the purpose, the `encodedList` and `ttl` ([`LIST_TTL_SECS`] in milliseconds).
pub fn list_credential(
    issuer: &Issuer,
    purpose: StatusPurpose,
    list: u32,
    bits: &BitstringStatusList,
    valid_from: OffsetDateTime,
) -> Result<Value, StatusError> {
    let valid_from = valid_from
        .replace_nanosecond(0)
        .map_err(|_| StatusError::Time)?;
    let valid_until = valid_from
        .checked_add(Duration::seconds(LIST_VALIDITY_SECS))
        .ok_or(StatusError::Time)?;
    let time = |t| format_datetime(t).map_err(|_| StatusError::Time);
    let url = list_url(&issuer.base_url, purpose, list);
    Ok(json!({
        "@context": [VC_V2_CONTEXT],
        "id": url,
        "type": ["VerifiableCredential", LIST_CREDENTIAL_TYPE],
        "issuer": issuer.did.as_str(),
        "validFrom": time(valid_from)?,
        "validUntil": time(valid_until)?,
        "credentialSubject": {
            "id": format!("{url}#list"),
            "type": LIST_TYPE,
            "statusPurpose": purpose.as_str(),
            "encodedList": bits.encode()?,
            "ttl": LIST_TTL_SECS * 1000,
        },
    }))
}

/// One `BitstringStatusListEntry` read from a credential.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatusEntry {
    /// Its purpose.
    pub purpose: StatusPurpose,
    /// `statusListIndex`.
    pub index: u32,
    /// `statusListCredential`: the URL (and `id`) of the list credential that holds the bit.
    pub list_credential: String,
}

fn malformed(what: impl Into<String>) -> StatusError {
    StatusError::Malformed(what.into())
}

/// The status entries of a credential (unsecured JSON, or a Data Integrity credential: the
/// proof is ignored). No `credentialStatus` gives no entries: a credential issued before
/// status lists. Hallmark's profile of the specification: each entry is a
/// `BitstringStatusListEntry` with purpose `suspension` or `revocation`, a `statusListIndex`
/// of decimal digits below [`LIST_SIZE`], a `statusListCredential` URL, and no `statusSize`
/// other than 1; at most one entry per purpose. Anything else is refused, naming the member.
pub fn status_entries(credential: &Value) -> Result<Vec<StatusEntry>, StatusError> {
    let entries = match credential.get("credentialStatus") {
        None => return Ok(Vec::new()),
        Some(Value::Array(a)) if !a.is_empty() => a.iter().collect::<Vec<_>>(),
        Some(o @ Value::Object(_)) => vec![o],
        Some(_) => {
            return Err(malformed(
                "credentialStatus must be an object or a non-empty array of objects",
            ))
        }
    };
    let mut out: Vec<StatusEntry> = Vec::with_capacity(entries.len());
    for (n, e) in entries.iter().enumerate() {
        let Value::Object(e) = e else {
            return Err(malformed(format!("credentialStatus[{n}] is not an object")));
        };
        let at = |k: &str| format!("credentialStatus[{n}].{k}");
        let s = |k: &str| {
            e.get(k)
                .and_then(Value::as_str)
                .ok_or_else(|| malformed(format!("{} must be a string", at(k))))
        };
        let ty = s("type")?;
        if ty != ENTRY_TYPE {
            return Err(malformed(format!(
                "{}: unsupported status type {ty:?} (expected {ENTRY_TYPE})",
                at("type")
            )));
        }
        let purpose = StatusPurpose::parse(s("statusPurpose")?)?;
        let index = s("statusListIndex")?;
        let index = parse_index(index)
            .map_err(|why| malformed(format!("{} {index:?}: {why}", at("statusListIndex"))))?;
        let list_credential = s("statusListCredential")?.to_string();
        if !(list_credential.starts_with("https://") || list_credential.starts_with("http://")) {
            return Err(malformed(format!(
                "{} must be an http(s) URL",
                at("statusListCredential")
            )));
        }
        match e.get("statusSize") {
            None => {}
            Some(v) if v.as_u64() == Some(1) => {}
            Some(_) => {
                return Err(malformed(format!(
                    "{}: only single-bit entries are supported",
                    at("statusSize")
                )))
            }
        }
        if out.iter().any(|o| o.purpose == purpose) {
            return Err(malformed(format!(
                "credentialStatus has more than one {purpose} entry"
            )));
        }
        out.push(StatusEntry {
            purpose,
            index,
            list_credential,
        });
    }
    Ok(out)
}

/// A `statusListIndex`: base-10 digits (no sign, no spaces), below [`LIST_SIZE`].
fn parse_index(s: &str) -> Result<u32, String> {
    if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
        return Err("not a base-10 integer".into());
    }
    let digits = s.trim_start_matches('0');
    let n: u64 = match digits.len() {
        0 => 0,
        1..=10 => digits.parse().unwrap_or(u64::MAX),
        _ => u64::MAX,
    };
    u32::try_from(n)
        .ok()
        .filter(|&i| i < LIST_SIZE)
        .ok_or_else(|| format!("beyond the list (0..{LIST_SIZE})"))
}

/// A status list credential's content, read back by a verifier (after its proof verified).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListCredential {
    /// Its `id`: the URL that entries name in `statusListCredential`.
    pub id: String,
    /// Its issuer.
    pub issuer: String,
    /// The purposes in `credentialSubject.statusPurpose` (the specification allows several).
    pub purposes: Vec<String>,
    /// `validFrom`.
    pub valid_from: OffsetDateTime,
    /// `validUntil`, when given.
    pub valid_until: Option<OffsetDateTime>,
    /// The bits.
    pub bits: BitstringStatusList,
}

impl ListCredential {
    /// Reads an unsecured status list credential (a verified credential's JSON; a `proof`
    /// member is ignored). Requires `type` to include `BitstringStatusListCredential`, a
    /// string `id`, `validFrom` (and `validUntil` if present) as date-times, one
    /// `credentialSubject` of type `BitstringStatusList` with `statusPurpose` (a string or
    /// strings) and an `encodedList` that [`BitstringStatusList::decode`] accepts.
    pub fn parse(credential: &Value) -> Result<Self, StatusError> {
        let has_type = |v: Option<&Value>, t: &str| match v {
            Some(Value::String(s)) => s == t,
            Some(Value::Array(a)) => a.iter().any(|x| x == t),
            _ => false,
        };
        if !has_type(credential.get("type"), LIST_CREDENTIAL_TYPE) {
            return Err(malformed(format!(
                "type does not include {LIST_CREDENTIAL_TYPE}"
            )));
        }
        let id = credential
            .get("id")
            .and_then(Value::as_str)
            .ok_or_else(|| malformed("a status list credential needs an id"))?
            .to_string();
        let issuer = match credential.get("issuer") {
            Some(Value::String(s)) => s.clone(),
            Some(Value::Object(o)) => o
                .get("id")
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_string(),
            _ => String::new(),
        };
        if issuer.is_empty() {
            return Err(malformed("issuer must be a URL or an object with an id"));
        }
        let time = |k: &str| -> Result<Option<OffsetDateTime>, StatusError> {
            credential
                .get(k)
                .map(|v| {
                    v.as_str()
                        .and_then(|s| OffsetDateTime::parse(s, &Rfc3339).ok())
                        .ok_or_else(|| malformed(format!("{k} is not an RFC 3339 date-time")))
                })
                .transpose()
        };
        let valid_from = time("validFrom")?
            .ok_or_else(|| malformed("a status list credential needs validFrom"))?;
        let valid_until = time("validUntil")?;
        let subject: &Map<String, Value> = match credential.get("credentialSubject") {
            Some(Value::Object(o)) => o,
            Some(Value::Array(a)) if a.len() == 1 => a
                .first()
                .and_then(Value::as_object)
                .ok_or_else(|| malformed("credentialSubject must be an object"))?,
            _ => return Err(malformed("credentialSubject must be one object")),
        };
        if !has_type(subject.get("type"), LIST_TYPE) {
            return Err(malformed(format!(
                "credentialSubject.type must be {LIST_TYPE}"
            )));
        }
        let purposes = match subject.get("statusPurpose") {
            Some(Value::String(s)) => vec![s.clone()],
            Some(Value::Array(a)) if !a.is_empty() && a.iter().all(Value::is_string) => a
                .iter()
                .filter_map(Value::as_str)
                .map(str::to_string)
                .collect(),
            _ => {
                return Err(malformed(
                    "credentialSubject.statusPurpose must be a string or strings",
                ))
            }
        };
        let encoded = subject
            .get("encodedList")
            .and_then(Value::as_str)
            .ok_or_else(|| malformed("credentialSubject.encodedList must be a string"))?;
        let bits = BitstringStatusList::decode(encoded)?;
        Ok(ListCredential {
            id,
            issuer,
            purposes,
            valid_from,
            valid_until,
            bits,
        })
    }

    /// Whether the list is for `purpose`.
    pub fn has_purpose(&self, purpose: StatusPurpose) -> bool {
        self.purposes.iter().any(|p| p == purpose.as_str())
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;
    use time::macros::datetime;

    fn issuer() -> Issuer {
        Issuer::from_base_url("https://dpp.example.com/").unwrap()
    }

    #[test]
    fn entries_name_both_lists_at_one_position() {
        let r = StatusRef {
            list: 2,
            index: 94_567,
        };
        let v = credential_status("https://dpp.example.com/", r);
        assert_eq!(
            v,
            json!([
                {
                    "id": "https://dpp.example.com/status/suspension/2#94567",
                    "type": "BitstringStatusListEntry",
                    "statusPurpose": "suspension",
                    "statusListIndex": "94567",
                    "statusListCredential": "https://dpp.example.com/status/suspension/2"
                },
                {
                    "id": "https://dpp.example.com/status/revocation/2#94567",
                    "type": "BitstringStatusListEntry",
                    "statusPurpose": "revocation",
                    "statusListIndex": "94567",
                    "statusListCredential": "https://dpp.example.com/status/revocation/2"
                }
            ])
        );
        let cred = json!({"credentialStatus": v});
        let entries = status_entries(&cred).unwrap();
        assert_eq!(
            entries,
            vec![
                StatusEntry {
                    purpose: StatusPurpose::Suspension,
                    index: 94_567,
                    list_credential: "https://dpp.example.com/status/suspension/2".into()
                },
                StatusEntry {
                    purpose: StatusPurpose::Revocation,
                    index: 94_567,
                    list_credential: "https://dpp.example.com/status/revocation/2".into()
                },
            ]
        );
        assert_eq!(status_entries(&json!({"id": "x"})).unwrap(), vec![]);
    }

    #[test]
    fn list_credential_has_the_specified_shape() {
        let mut bits = BitstringStatusList::new();
        bits.set(5, true).unwrap();
        let v = list_credential(
            &issuer(),
            StatusPurpose::Revocation,
            0,
            &bits,
            datetime!(2026-11-01 10:00:00.75 UTC),
        )
        .unwrap();
        assert_eq!(
            v,
            json!({
                "@context": ["https://www.w3.org/ns/credentials/v2"],
                "id": "https://dpp.example.com/status/revocation/0",
                "type": ["VerifiableCredential", "BitstringStatusListCredential"],
                "issuer": "did:web:dpp.example.com",
                "validFrom": "2026-11-01T10:00:00Z",
                "validUntil": "2026-11-02T10:00:00Z",
                "credentialSubject": {
                    "id": "https://dpp.example.com/status/revocation/0#list",
                    "type": "BitstringStatusList",
                    "statusPurpose": "revocation",
                    "encodedList": bits.encode().unwrap(),
                    "ttl": 300_000
                }
            })
        );
        let back = ListCredential::parse(&v).unwrap();
        assert_eq!(back.id, "https://dpp.example.com/status/revocation/0");
        assert_eq!(back.issuer, "did:web:dpp.example.com");
        assert!(back.has_purpose(StatusPurpose::Revocation));
        assert!(!back.has_purpose(StatusPurpose::Suspension));
        assert_eq!(back.valid_from, datetime!(2026-11-01 10:00:00 UTC));
        assert_eq!(back.valid_until, Some(datetime!(2026-11-02 10:00:00 UTC)));
        assert!(back.bits.get(5).unwrap());
        assert_eq!(back.bits.count_set(), 1);
    }

    #[test]
    fn malformed_entries_are_refused_by_name() {
        let entry = |patch: Value| {
            let mut e = json!({
                "id": "https://h/status/revocation/0#1",
                "type": "BitstringStatusListEntry",
                "statusPurpose": "revocation",
                "statusListIndex": "1",
                "statusListCredential": "https://h/status/revocation/0"
            });
            for (k, v) in patch.as_object().unwrap() {
                if v.is_null() {
                    e.as_object_mut().unwrap().remove(k);
                } else {
                    e[k] = v.clone();
                }
            }
            status_entries(&json!({ "credentialStatus": e }))
        };
        assert!(entry(json!({})).is_ok());
        assert_eq!(
            entry(json!({"statusListIndex": "007"})).unwrap()[0].index,
            7
        );
        assert_eq!(entry(json!({"statusListIndex": "0"})).unwrap()[0].index, 0);
        assert_eq!(entry(json!({"statusSize": 1})).unwrap()[0].index, 1);
        let refused = |patch: Value, needle: &str| {
            let err = entry(patch.clone()).unwrap_err().to_string();
            assert!(err.contains(needle), "{patch}: {err}");
        };
        refused(
            json!({"type": "StatusList2021Entry"}),
            "unsupported status type",
        );
        refused(json!({"type": null}), "credentialStatus[0].type");
        refused(
            json!({"statusPurpose": "message"}),
            "unsupported status purpose",
        );
        refused(
            json!({"statusListIndex": 1}),
            "statusListIndex must be a string",
        );
        refused(json!({"statusListIndex": "-1"}), "not a base-10 integer");
        refused(json!({"statusListIndex": " 1"}), "not a base-10 integer");
        refused(json!({"statusListIndex": ""}), "not a base-10 integer");
        refused(json!({"statusListIndex": "131072"}), "beyond the list");
        refused(
            json!({"statusListIndex": "99999999999999999999999"}),
            "beyond the list",
        );
        refused(json!({"statusListCredential": "ftp://h/x"}), "http(s) URL");
        refused(json!({"statusSize": 2}), "single-bit");
        for bad in [json!("x"), json!([]), json!([1]), json!(7)] {
            assert!(status_entries(&json!({ "credentialStatus": bad })).is_err());
        }
        let twice = json!({"credentialStatus": [
            {"type": "BitstringStatusListEntry", "statusPurpose": "suspension",
             "statusListIndex": "1", "statusListCredential": "https://h/a"},
            {"type": "BitstringStatusListEntry", "statusPurpose": "suspension",
             "statusListIndex": "2", "statusListCredential": "https://h/b"}
        ]});
        assert!(status_entries(&twice)
            .unwrap_err()
            .to_string()
            .contains("more than one suspension"));
    }

    #[test]
    fn malformed_list_credentials_are_refused_by_name() {
        let good = list_credential(
            &issuer(),
            StatusPurpose::Suspension,
            1,
            &BitstringStatusList::new(),
            datetime!(2026-11-01 10:00:00 UTC),
        )
        .unwrap();
        let refused = |f: &dyn Fn(&mut Value), needle: &str| {
            let mut v = good.clone();
            f(&mut v);
            let err = ListCredential::parse(&v).unwrap_err().to_string();
            assert!(err.contains(needle), "{err}");
        };
        refused(
            &|v| v["type"] = json!(["VerifiableCredential"]),
            "type does not include",
        );
        refused(&|v| v["id"] = json!(null), "needs an id");
        refused(&|v| v["issuer"] = json!(7), "issuer");
        refused(&|v| v["validFrom"] = json!("yesterday"), "validFrom");
        refused(&|v| v["validUntil"] = json!(5), "validUntil");
        refused(
            &|v| v["credentialSubject"]["type"] = json!("StatusList2021"),
            "credentialSubject.type",
        );
        refused(
            &|v| v["credentialSubject"]["statusPurpose"] = json!([]),
            "statusPurpose",
        );
        refused(
            &|v| v["credentialSubject"]["encodedList"] = json!("zabc"),
            "multibase",
        );
        refused(&|v| v["credentialSubject"] = json!([]), "credentialSubject");
        let mut multi = good.clone();
        multi["credentialSubject"]["statusPurpose"] = json!(["revocation", "suspension"]);
        let l = ListCredential::parse(&multi).unwrap();
        assert!(
            l.has_purpose(StatusPurpose::Suspension) && l.has_purpose(StatusPurpose::Revocation)
        );
    }
}
