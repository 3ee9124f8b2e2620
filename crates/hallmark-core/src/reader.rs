//! Readers: the organisations admitted to restricted passport data by the operator's
//! approval (issue 20). Pure: their registration input, purposes, tiers, grant scopes and
//! expiries, the status transitions, and the key fingerprint read over the phone.
//!
//! A reader registers with its Ed25519 public key (and optionally an X25519 encryption
//! key), organisation, contact and the purpose it claims ([`NewReader::parse`]); the
//! registration is inert until the operator approves it with a [`Grant`] — a
//! [`ReaderTier`], a [`GrantScope`] and an expiry. [`ReaderStatus::after`] is the one
//! place a status change is allowed or refused.

use std::fmt;
use std::str::FromStr;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use sha2::{Digest, Sha256};
use time::OffsetDateTime;

use crate::access::Audience;
use crate::passport::{Gtin, PassportId};

/// Longest organisation or contact, in characters.
pub const MAX_TEXT: usize = 200;
/// Most GTINs or passports one grant may list.
pub const MAX_SCOPE_ENTRIES: usize = 1000;
/// Longest grant: an expiry at most this far after approval (3 years of 365 days).
pub const MAX_GRANT: time::Duration = time::Duration::days(3 * 365);
/// Longest suspension or revocation reason, in characters.
pub const MAX_REASON: usize = 1000;
/// Longest sector id in a scope.
pub const MAX_SECTOR_ID: usize = 64;

/// A reader's id: a UUIDv7, written lowercase and hyphenated (no `urn:uuid:` prefix).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ReaderId(uuid::Uuid);

impl ReaderId {
    /// A UUIDv7 from a Unix timestamp in milliseconds and 10 caller-supplied random bytes;
    /// `None` if the timestamp does not fit 48 bits.
    pub fn from_parts(unix_millis: u64, random: [u8; 10]) -> Option<Self> {
        (unix_millis < 1 << 48).then(|| {
            ReaderId(uuid::Builder::from_unix_timestamp_millis(unix_millis, &random).into_uuid())
        })
    }

    /// Parses a lowercase, hyphenated UUIDv7.
    pub fn parse(s: &str) -> Result<Self, ReaderError> {
        let uuid = uuid::Uuid::try_parse(s)
            .ok()
            .filter(|u| {
                s.len() == 36
                    && u.hyphenated().to_string() == s
                    && u.get_version() == Some(uuid::Version::SortRand)
            })
            .ok_or_else(|| invalid("id", format!("{s:?} is not a lowercase UUIDv7")))?;
        Ok(ReaderId(uuid))
    }
}

impl fmt::Display for ReaderId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.0.hyphenated(), f)
    }
}

impl FromStr for ReaderId {
    type Err = ReaderError;
    fn from_str(s: &str) -> Result<Self, ReaderError> {
        Self::parse(s)
    }
}

impl Serialize for ReaderId {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for ReaderId {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        Self::parse(&s).map_err(serde::de::Error::custom)
    }
}

/// Why a reader's input or a change was refused; each names the field.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ReaderError {
    /// A field is missing, malformed or out of bounds.
    #[error("{field}: {reason}")]
    Invalid {
        /// The field (JSON member name).
        field: &'static str,
        /// What is wrong.
        reason: String,
    },
    /// The change is not allowed from the reader's status.
    #[error("a {from} reader cannot be {change}")]
    Transition {
        /// The reader's status.
        from: ReaderStatus,
        /// The change refused (past participle: `approved`, `suspended`, …).
        change: &'static str,
    },
}

fn invalid(field: &'static str, reason: impl Into<String>) -> ReaderError {
    ReaderError::Invalid {
        field,
        reason: reason.into(),
    }
}

/// The legal basis or purpose a reader claims.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Purpose {
    /// Repair.
    Repair,
    /// Remanufacturing.
    Remanufacture,
    /// Recycling.
    Recycling,
    /// Repurposing, second life.
    SecondLife,
    /// A market surveillance authority.
    MarketSurveillance,
    /// A notified body.
    NotifiedBody,
    /// The European Commission.
    Commission,
    /// Anything else (the operator decides).
    Other,
}

impl Purpose {
    /// Every purpose.
    pub const ALL: [Purpose; 8] = [
        Purpose::Repair,
        Purpose::Remanufacture,
        Purpose::Recycling,
        Purpose::SecondLife,
        Purpose::MarketSurveillance,
        Purpose::NotifiedBody,
        Purpose::Commission,
        Purpose::Other,
    ];

    /// The wire name, e.g. `second-life`.
    pub const fn as_str(self) -> &'static str {
        match self {
            Purpose::Repair => "repair",
            Purpose::Remanufacture => "remanufacture",
            Purpose::Recycling => "recycling",
            Purpose::SecondLife => "second-life",
            Purpose::MarketSurveillance => "market-surveillance",
            Purpose::NotifiedBody => "notified-body",
            Purpose::Commission => "commission",
            Purpose::Other => "other",
        }
    }
}

impl fmt::Display for Purpose {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Purpose {
    type Err = ReaderError;
    fn from_str(s: &str) -> Result<Self, ReaderError> {
        Purpose::ALL
            .into_iter()
            .find(|p| p.as_str() == s)
            .ok_or_else(|| {
                invalid(
                    "purpose",
                    format!(
                        "{s:?} is not one of {}",
                        Purpose::ALL.map(Purpose::as_str).join(", ")
                    ),
                )
            })
    }
}

/// The tier a reader is approved for: what it reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum ReaderTier {
    /// Sees the legitimate-interest view.
    LegitimateInterest,
    /// Sees everything (authorities, notified bodies, the Commission).
    Authority,
}

impl ReaderTier {
    /// The wire name.
    pub const fn as_str(self) -> &'static str {
        match self {
            ReaderTier::LegitimateInterest => "legitimateInterest",
            ReaderTier::Authority => "authority",
        }
    }

    /// The audience whose credential the reader is served.
    pub const fn audience(self) -> Audience {
        match self {
            ReaderTier::LegitimateInterest => Audience::LegitimateInterest,
            ReaderTier::Authority => Audience::Authority,
        }
    }
}

impl FromStr for ReaderTier {
    type Err = ReaderError;
    fn from_str(s: &str) -> Result<Self, ReaderError> {
        match s {
            "legitimateInterest" => Ok(ReaderTier::LegitimateInterest),
            "authority" => Ok(ReaderTier::Authority),
            other => Err(invalid(
                "tier",
                format!("{other:?} is not legitimateInterest or authority"),
            )),
        }
    }
}

/// Which passports a grant covers. Wire: `{"kind":"all"}`, `{"kind":"sector","sector":
/// "battery"}`, `{"kind":"gtins","gtins":["…"]}`, `{"kind":"passports","passports":["…"]}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "camelCase")]
pub enum GrantScope {
    /// Every passport of the node.
    All,
    /// The passports of one sector.
    Sector {
        /// The sector id, e.g. `battery`.
        sector: String,
    },
    /// The passports of these products (GTIN-14).
    Gtins {
        /// The GTINs.
        gtins: Vec<Gtin>,
    },
    /// These passports.
    Passports {
        /// The passport ids.
        passports: Vec<PassportId>,
    },
}

impl GrantScope {
    /// Whether a passport of sector `sector`, product `gtin` and id `id` is covered.
    pub fn covers(&self, sector: &str, gtin: &Gtin, id: &PassportId) -> bool {
        match self {
            GrantScope::All => true,
            GrantScope::Sector { sector: s } => s == sector,
            GrantScope::Gtins { gtins } => gtins.contains(gtin),
            GrantScope::Passports { passports } => passports.contains(id),
        }
    }

    /// The kind's wire name.
    pub const fn kind(&self) -> &'static str {
        match self {
            GrantScope::All => "all",
            GrantScope::Sector { .. } => "sector",
            GrantScope::Gtins { .. } => "gtins",
            GrantScope::Passports { .. } => "passports",
        }
    }

    /// Checks the bounds: a sector id of 1–64 lowercase letters, digits and `-`; 1–1000
    /// GTINs or passports, none twice.
    pub fn check(&self) -> Result<(), ReaderError> {
        fn entries<T: PartialEq>(list: &[T], what: &str) -> Result<(), ReaderError> {
            if list.is_empty() || list.len() > MAX_SCOPE_ENTRIES {
                return Err(invalid(
                    "scope",
                    format!("lists 1 to {MAX_SCOPE_ENTRIES} {what}, not {}", list.len()),
                ));
            }
            if list.iter().enumerate().any(|(i, x)| list[..i].contains(x)) {
                return Err(invalid("scope", format!("lists one of its {what} twice")));
            }
            Ok(())
        }
        match self {
            GrantScope::All => Ok(()),
            GrantScope::Sector { sector } => {
                if sector.is_empty()
                    || sector.len() > MAX_SECTOR_ID
                    || !sector
                        .bytes()
                        .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
                {
                    return Err(invalid(
                        "scope",
                        format!(
                            "sector {sector:?} is not 1 to {MAX_SECTOR_ID} lowercase letters, \
                             digits and '-'"
                        ),
                    ));
                }
                Ok(())
            }
            GrantScope::Gtins { gtins } => entries(gtins, "GTINs"),
            GrantScope::Passports { passports } => entries(passports, "passports"),
        }
    }
}

/// What the operator grants a reader on approval.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Grant {
    /// What the reader reads.
    pub tier: ReaderTier,
    /// Which passports.
    pub scope: GrantScope,
    /// Until when (RFC 3339).
    #[serde(with = "time::serde::rfc3339")]
    pub expires_at: OffsetDateTime,
}

impl Grant {
    /// Checks a grant given at `now`: the scope's bounds, and an expiry after `now` and at
    /// most [`MAX_GRANT`] after it.
    pub fn check(&self, now: OffsetDateTime) -> Result<(), ReaderError> {
        self.scope.check()?;
        if self.expires_at <= now {
            return Err(invalid("expiresAt", "is not in the future"));
        }
        if self.expires_at - now > MAX_GRANT {
            return Err(invalid(
                "expiresAt",
                format!("is more than {} days away", MAX_GRANT.whole_days()),
            ));
        }
        Ok(())
    }

    /// Whether the grant is in force at `now`.
    pub fn in_force(&self, now: OffsetDateTime) -> bool {
        now < self.expires_at
    }
}

/// A reader's status.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum ReaderStatus {
    /// Registered, not yet approved: inert.
    Registered,
    /// Approved: reads what its grant allows until it expires.
    Approved,
    /// Suspended by the operator: reads nothing until resumed.
    Suspended,
    /// Revoked: terminal.
    Revoked,
}

impl ReaderStatus {
    /// Every status.
    pub const ALL: [ReaderStatus; 4] = [
        ReaderStatus::Registered,
        ReaderStatus::Approved,
        ReaderStatus::Suspended,
        ReaderStatus::Revoked,
    ];

    /// The stored and wire name.
    pub const fn as_str(self) -> &'static str {
        match self {
            ReaderStatus::Registered => "registered",
            ReaderStatus::Approved => "approved",
            ReaderStatus::Suspended => "suspended",
            ReaderStatus::Revoked => "revoked",
        }
    }

    /// The status after `change`: registered → approved, approved → approved (a new
    /// grant), approved ↔ suspended, any but revoked → revoked; anything else is refused.
    pub fn after(self, change: &ReaderChange) -> Result<ReaderStatus, ReaderError> {
        use ReaderStatus::*;
        let next = match (self, change) {
            (Registered | Approved, ReaderChange::Approve(_)) => Approved,
            (Approved, ReaderChange::Suspend { .. }) => Suspended,
            (Suspended, ReaderChange::Resume) => Approved,
            (Registered | Approved | Suspended, ReaderChange::Revoke { .. }) => Revoked,
            _ => {
                return Err(ReaderError::Transition {
                    from: self,
                    change: change.past(),
                })
            }
        };
        Ok(next)
    }
}

impl fmt::Display for ReaderStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for ReaderStatus {
    type Err = ReaderError;
    fn from_str(s: &str) -> Result<Self, ReaderError> {
        ReaderStatus::ALL
            .into_iter()
            .find(|x| x.as_str() == s)
            .ok_or_else(|| {
                invalid(
                    "status",
                    format!("{s:?} is not registered, approved, suspended or revoked"),
                )
            })
    }
}

/// An operator's change to a reader.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReaderChange {
    /// Approve (or re-grant) with this grant.
    Approve(Grant),
    /// Suspend at once.
    Suspend {
        /// Why (1–1000 characters).
        reason: String,
    },
    /// Resume a suspended reader under its grant.
    Resume,
    /// Revoke for good.
    Revoke {
        /// Why (1–1000 characters).
        reason: String,
    },
}

impl ReaderChange {
    /// The audit action of the change.
    pub const fn action(&self) -> crate::tlog::event::Action {
        use crate::tlog::event::Action;
        match self {
            ReaderChange::Approve(_) => Action::ReaderApproved,
            ReaderChange::Suspend { .. } => Action::ReaderSuspended,
            ReaderChange::Resume => Action::ReaderResumed,
            ReaderChange::Revoke { .. } => Action::ReaderRevoked,
        }
    }

    /// The change as a past participle (`approved`, …).
    pub const fn past(&self) -> &'static str {
        match self {
            ReaderChange::Approve(_) => "approved",
            ReaderChange::Suspend { .. } => "suspended",
            ReaderChange::Resume => "resumed",
            ReaderChange::Revoke { .. } => "revoked",
        }
    }

    /// The reason given, if the change carries one.
    pub fn reason(&self) -> Option<&str> {
        match self {
            ReaderChange::Suspend { reason } | ReaderChange::Revoke { reason } => Some(reason),
            _ => None,
        }
    }

    /// Checks the change's input given at `now` (the grant; a reason of 1–1000 characters
    /// without control characters).
    pub fn check(&self, now: OffsetDateTime) -> Result<(), ReaderError> {
        match self {
            ReaderChange::Approve(grant) => grant.check(now),
            ReaderChange::Suspend { reason } | ReaderChange::Revoke { reason } => {
                check_text("reason", reason, MAX_REASON)
            }
            ReaderChange::Resume => Ok(()),
        }
    }
}

fn check_text(field: &'static str, value: &str, max: usize) -> Result<(), ReaderError> {
    let n = value.chars().count();
    if n == 0 || n > max {
        return Err(invalid(field, format!("is 1 to {max} characters, not {n}")));
    }
    if value.trim().is_empty() {
        return Err(invalid(field, "is blank"));
    }
    if value.chars().any(char::is_control) {
        return Err(invalid(field, "contains a control character"));
    }
    Ok(())
}

/// A registration as the reader sends it (JSON, camelCase), before checking.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ReaderRegistration {
    /// The Ed25519 public key, 32 bytes base64url (no padding).
    pub ed25519_public_key: String,
    /// An X25519 public key for encrypted answers: a JWK `{"kty":"OKP","crv":"X25519",
    /// "x":…}` or 32 bytes base64url.
    #[serde(default)]
    pub x25519_public_key: Option<Value>,
    /// The organisation's name.
    pub organisation: String,
    /// How the operator reaches the reader (a person, phone, e-mail).
    pub contact: String,
    /// The legal basis or purpose claimed (wire name).
    pub purpose: String,
}

/// A checked registration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewReader {
    /// The Ed25519 public key (a valid curve point).
    pub ed25519: [u8; 32],
    /// The X25519 public key, if given.
    pub x25519: Option<[u8; 32]>,
    /// The organisation (1–200 characters, no control character).
    pub organisation: String,
    /// The contact (1–200 characters, no control character).
    pub contact: String,
    /// The purpose claimed.
    pub purpose: Purpose,
}

fn key32(field: &'static str, text: &str) -> Result<[u8; 32], ReaderError> {
    let bytes = URL_SAFE_NO_PAD
        .decode(text.trim_end_matches('='))
        .map_err(|_| invalid(field, "is not base64url"))?;
    <[u8; 32]>::try_from(bytes.as_slice())
        .map_err(|_| invalid(field, format!("is {} bytes, not 32", bytes.len())))
}

impl NewReader {
    /// Checks a registration: the keys (a valid Ed25519 point; an X25519 key as a JWK or
    /// base64url, 32 bytes), organisation and contact, the purpose.
    pub fn parse(input: &ReaderRegistration) -> Result<NewReader, ReaderError> {
        let ed25519 = key32("ed25519PublicKey", &input.ed25519_public_key)?;
        if ed25519_dalek::VerifyingKey::from_bytes(&ed25519).is_err() {
            return Err(invalid("ed25519PublicKey", "is not an Ed25519 public key"));
        }
        let x25519 = match &input.x25519_public_key {
            None | Some(Value::Null) => None,
            Some(Value::String(s)) => Some(key32("x25519PublicKey", s)?),
            Some(Value::Object(jwk)) => {
                let member = |name: &str| jwk.get(name).and_then(Value::as_str);
                if member("kty") != Some("OKP") || member("crv") != Some("X25519") {
                    return Err(invalid(
                        "x25519PublicKey",
                        "a JWK has kty \"OKP\" and crv \"X25519\"",
                    ));
                }
                if jwk.contains_key("d") {
                    return Err(invalid(
                        "x25519PublicKey",
                        "holds a private key (\"d\"); send the public key only",
                    ));
                }
                let x = member("x").ok_or_else(|| invalid("x25519PublicKey", "has no \"x\""))?;
                Some(key32("x25519PublicKey", x)?)
            }
            Some(_) => {
                return Err(invalid(
                    "x25519PublicKey",
                    "is a JWK object or a base64url string",
                ))
            }
        };
        check_text("organisation", &input.organisation, MAX_TEXT)?;
        check_text("contact", &input.contact, MAX_TEXT)?;
        Ok(NewReader {
            ed25519,
            x25519,
            organisation: input.organisation.clone(),
            contact: input.contact.clone(),
            purpose: input.purpose.parse()?,
        })
    }

    /// The key's fingerprint ([`fingerprint`]).
    pub fn fingerprint(&self) -> String {
        fingerprint(&self.ed25519)
    }
}

/// A public key in base64url without padding (how keys are written on the wire).
pub fn key_text(key: &[u8; 32]) -> String {
    URL_SAFE_NO_PAD.encode(key)
}

const CROCKFORD: &[u8; 32] = b"0123456789ABCDEFGHJKMNPQRSTVWXYZ";

/// The short fingerprint of an Ed25519 public key, read over the phone: the first 10 bytes
/// of the SHA-256 of the raw key in Crockford base32, 16 characters grouped 4-4-4-4 with
/// `-` (`XXXX-XXXX-XXXX-XXXX`).
pub fn fingerprint(ed25519_public: &[u8; 32]) -> String {
    let digest = Sha256::digest(ed25519_public);
    let mut bits = 0u128;
    for b in &digest[..10] {
        bits = (bits << 8) | u128::from(*b);
    }
    let mut out = String::with_capacity(19);
    for i in 0..16 {
        if i > 0 && i % 4 == 0 {
            out.push('-');
        }
        let shift = 75 - 5 * i;
        let index = ((bits >> shift) & 0x1f) as usize;
        out.push(char::from(CROCKFORD[index]));
    }
    out
}

/// SHA-256 of a text in lowercase hex: how a reader's organisation and contact appear in its
/// log leaf.
pub fn text_sha256(text: &str) -> String {
    hex::encode(Sha256::digest(text.as_bytes()))
}

#[cfg(test)]
mod tests;
