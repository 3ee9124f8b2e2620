//! The status of a credential from its signed status lists (W3C Bitstring Status List v1.0).
//!
//! [`check_status`] adds to a [`Report`], for each status list credential used:
//!
//! | check | what it asserts |
//! |---|---|
//! | `status-list-signature` | the list credential verifies like a passport credential (either form, same DID document, every check of [`verify_with`] but dates) |
//! | `status-list` | it is a `BitstringStatusListCredential` of the entry's purpose from the credential's issuer, its `encodedList` decodes to one list, and `validFrom` ≤ now; past `validUntil` it is a WARN (the status shown is as of the list's `validFrom`) |
//!
//! and then one `status` check: `valid` (every entry's bit clear), FAIL `suspended` or
//! `revoked` (the verdict is then [`Verdict::NotInForce`](super::Verdict::NotInForce)),
//! skipped with `no status entry` for a credential issued before status lists, skipped when
//! a list did not verify or could not be read at all (that check already failed), a WARN
//! when no list was supplied for an entry. A list is matched to an entry by its signed `id`,
//! never by where it came from; a list that verifies but names another `id` is ignored
//! with a WARN.

use super::{verify_with, Outcome, Report, VerifyOptions, STATUS_CHECK};
use crate::credential::format_datetime;
use crate::did::DidDocument;
use crate::status::{status_entries, ListCredential, StatusEntry, StatusPurpose};
use serde_json::Value;
use time::OffsetDateTime;

/// Name of the check that a status list credential's proof verified (one per list used).
pub const STATUS_LIST_SIGNATURE_CHECK: &str = "status-list-signature";
/// Name of the check of a status list credential's content and dates (one per list used).
pub const STATUS_LIST_CHECK: &str = "status-list";

/// What one entry's list says.
enum Bit {
    /// A verified list gives the bit.
    Known { set: bool, signed: OffsetDateTime },
    /// A list was supplied but did not verify (its check failed).
    Failed,
    /// No list with the entry's `statusListCredential` as its `id` was supplied.
    Missing,
}

fn time(t: OffsetDateTime) -> String {
    format_datetime(t).unwrap_or_else(|_| t.to_string())
}

/// Checks the status of the credential in `report` (its unsecured JSON, as [`verify_with`]
/// left it) against status list credentials: `lists` holds each list's source (the URL it
/// was fetched from, or a file name: only for the report) and its bytes (either secured
/// form). Each list is verified against `did`; `now` checks the lists' dates (`None` skips
/// them, as [`VerifyOptions::now`] does). See the module documentation for the checks.
pub fn check_status(
    report: &mut Report,
    lists: &[(String, Vec<u8>)],
    did: &DidDocument,
    now: Option<OffsetDateTime>,
) {
    let Some(credential) = report.credential.clone() else {
        report.push(
            STATUS_CHECK,
            Outcome::Skipped("no credential was read".into()),
        );
        return;
    };
    let entries = match status_entries(&credential) {
        Ok(e) => e,
        Err(e) => {
            report.push(STATUS_CHECK, Outcome::Fail(e.to_string()));
            return;
        }
    };
    let issuer = match credential.get("issuer") {
        Some(Value::String(s)) => Some(s.as_str()),
        Some(Value::Object(o)) => o.get("id").and_then(Value::as_str),
        _ => None,
    };
    let read: Vec<(&str, Report)> = lists
        .iter()
        .map(|(source, bytes)| {
            (
                source.as_str(),
                verify_with(bytes, did, &VerifyOptions::default()),
            )
        })
        .collect();
    let id_of = |r: &Report| {
        r.credential
            .as_ref()
            .and_then(|c| c.get("id"))
            .and_then(Value::as_str)
            .map(str::to_string)
    };
    let mut used = vec![false; read.len()];
    let mut bits: Vec<(&StatusEntry, Bit)> = Vec::with_capacity(entries.len());
    for entry in &entries {
        let mut bit = Bit::Missing;
        for (i, (source, list)) in read.iter().enumerate() {
            if id_of(list).as_deref() != Some(entry.list_credential.as_str()) {
                continue;
            }
            if let Some(u) = used.get_mut(i) {
                *u = true;
            }
            let found = check_list(report, entry, source, list, issuer, now);
            // The newest copy that verified wins; a copy that failed does not hide one that
            // verified (its failed check still makes the report invalid).
            bit = match (bit, found) {
                (Bit::Known { set, signed }, Some((_, t))) if t <= signed => {
                    Bit::Known { set, signed }
                }
                (_, Some((set, signed))) => Bit::Known { set, signed },
                (known @ Bit::Known { .. }, None) => known,
                (_, None) => Bit::Failed,
            };
        }
        bits.push((entry, bit));
    }
    let mut unreadable = false;
    for ((source, list), used) in read.iter().zip(&used) {
        if *used {
            continue;
        }
        match id_of(list) {
            Some(id) => report.push(
                STATUS_LIST_CHECK,
                Outcome::Warn(format!(
                    "{source}: not a status list this credential names ({id}); ignored"
                )),
            ),
            // Nothing to match it by: it cannot be set aside as another list's.
            None => {
                unreadable = true;
                report.push(
                    STATUS_LIST_SIGNATURE_CHECK,
                    Outcome::Fail(format!("{source}: {}", first_failure(list))),
                )
            }
        };
    }
    let outcome = if unreadable && !bits.is_empty() {
        Outcome::Skipped("a status list could not be read".into())
    } else {
        status_outcome(&bits, report)
    };
    report.push(STATUS_CHECK, outcome);
}

/// The first failed check of a list's report, as `name: detail`.
fn first_failure(list: &Report) -> String {
    list.checks
        .iter()
        .find(|c| matches!(c.outcome, Outcome::Fail(_)))
        .map(|c| format!("{}: {}", c.name, c.outcome.detail()))
        .unwrap_or_else(|| "the signature was not verified".into())
}

/// Verifies one supplied list for `entry`, recording its two checks; the entry's bit and the
/// list's `validFrom` when both checks allow reading it.
fn check_list(
    report: &mut Report,
    entry: &StatusEntry,
    source: &str,
    list: &Report,
    issuer: Option<&str>,
    now: Option<OffsetDateTime>,
) -> Option<(bool, OffsetDateTime)> {
    let purpose = entry.purpose;
    if !list.is_valid() {
        let why = first_failure(list);
        report.push(
            STATUS_LIST_SIGNATURE_CHECK,
            Outcome::Fail(format!("{purpose} list from {source}: {why}")),
        );
        return None;
    }
    let how = list
        .check("signature")
        .map(|o| o.detail().to_string())
        .unwrap_or_default();
    report.push(
        STATUS_LIST_SIGNATURE_CHECK,
        Outcome::Pass(format!("{purpose} list from {source}: {how}")),
    );
    let Some(doc) = &list.credential else {
        report.push(
            STATUS_LIST_CHECK,
            Outcome::Fail(format!("{purpose} list from {source}: no credential read")),
        );
        return None;
    };
    let content = match ListCredential::parse(doc) {
        Ok(c) => c,
        Err(e) => {
            report.push(
                STATUS_LIST_CHECK,
                Outcome::Fail(format!("{purpose} list from {source}: {e}")),
            );
            return None;
        }
    };
    let fail = |report: &mut Report, why: String| {
        report.push(
            STATUS_LIST_CHECK,
            Outcome::Fail(format!("{purpose} list {}: {why}", content.id)),
        );
        None
    };
    if Some(content.issuer.as_str()) != issuer {
        return fail(
            report,
            format!(
                "issued by {}, not by the credential's issuer {}",
                content.issuer,
                issuer.unwrap_or("(none)")
            ),
        );
    }
    if !content.has_purpose(purpose) {
        return fail(
            report,
            format!(
                "its statusPurpose is {:?}, the entry's is {purpose}",
                content.purposes
            ),
        );
    }
    let set = match content.bits.get(entry.index) {
        Ok(b) => b,
        Err(e) => return fail(report, e.to_string()),
    };
    let signed = content.valid_from;
    let until = content
        .valid_until
        .map(|u| format!(", valid until {}", time(u)))
        .unwrap_or_default();
    let outcome = match now {
        Some(now) if now < signed => {
            return fail(report, format!("not valid before {}", time(signed)));
        }
        Some(now) if content.valid_until.is_some_and(|u| now >= u) => Outcome::Warn(format!(
            "{purpose} list {}: expired at {}; it shows the status as of {}; fetch it again for the current status",
            content.id,
            content.valid_until.map(time).unwrap_or_default(),
            time(signed)
        )),
        Some(_) => Outcome::Pass(format!(
            "{purpose} list {}, signed {}{until}",
            content.id,
            time(signed)
        )),
        None => Outcome::Pass(format!(
            "{purpose} list {}, signed {}{until} (dates not checked)",
            content.id,
            time(signed)
        )),
    };
    report.push(STATUS_LIST_CHECK, outcome);
    Some((set, signed))
}

/// The `status` check from every entry's bit; sets [`Report::list_status`] when a bit is set.
fn status_outcome(bits: &[(&StatusEntry, Bit)], report: &mut Report) -> Outcome {
    if bits.is_empty() {
        return Outcome::Skipped("no status entry".into());
    }
    for purpose in [StatusPurpose::Revocation, StatusPurpose::Suspension] {
        for (entry, bit) in bits {
            if let (true, Bit::Known { set: true, signed }) = (entry.purpose == purpose, bit) {
                let word = purpose.set_means();
                report.list_status = Some(word.to_string());
                return Outcome::Fail(format!(
                    "{word}: bit {} of {} (signed {}) is set",
                    entry.index,
                    entry.list_credential,
                    time(*signed)
                ));
            }
        }
    }
    if bits.iter().any(|(_, b)| matches!(b, Bit::Failed)) {
        return Outcome::Skipped("a status list did not verify".into());
    }
    let missing: Vec<String> = bits
        .iter()
        .filter(|(_, b)| matches!(b, Bit::Missing))
        .map(|(e, _)| format!("{} ({})", e.purpose, e.list_credential))
        .collect();
    if !missing.is_empty() {
        return Outcome::Warn(format!(
            "not checked: no status list supplied for {}",
            missing.join(", ")
        ));
    }
    let oldest = bits
        .iter()
        .filter_map(|(_, b)| match b {
            Bit::Known { signed, .. } => Some(*signed),
            _ => None,
        })
        .min();
    Outcome::Pass(match oldest {
        Some(t) => format!("valid (status lists signed {} or later)", time(t)),
        None => "valid".into(),
    })
}
