//! The passport model: what a Digital Product Passport *is*, independent of sector.
//!
//! A [`Passport`] is the sector-neutral envelope around sector data. Its fields are aligned
//! with the DPP information model of EN 18223 ("DPP — System interoperability") and the
//! identifier rules of EN 18219 ("DPP — Unique identifiers"). *Aligned* means the names and
//! meanings follow those standards as published in 2025/26 drafts and final texts; this
//! module has not been certified against them and the mapping below is approximate.
//!
//! | Field (wire name)          | EN 18223 / EN 18219 concept (approximate)                    |
//! |----------------------------|--------------------------------------------------------------|
//! | `id`                       | DPP identifier (`digitalProductPassportId`), here a UUIDv7 URN |
//! | `uniqueProductIdentifier`  | unique product identifier (UPI), here GS1 GTIN + AI 10/21    |
//! | `granularity`              | granularity level: model / batch / item                      |
//! | `economicOperatorId`       | unique economic operator identifier (EOI)                    |
//! | `facilityId`               | unique facility identifier (optional)                        |
//! | `commodityCode`            | commodity code (HS / CN / TARIC, optional; ESPR Annex III)   |
//! | `sector`                   | DPP schema / content specification id and its version (`dppSchemaVersion`) |
//! | `status`                   | DPP status (`dppStatus`)                                     |
//! | `version`                  | version number of the passport content (`versionNumber`)    |
//! | `createdAt`                | creation date                                                |
//! | `updatedAt`                | last update (`lastUpdate`)                                   |
//! | `publishedAt`              | first publication date (Hallmark addition)                  |
//! | `components`               | links to component passports, pinned by SHA-256 (Hallmark's form of DPP-to-DPP references) |
//! | `data`                     | the sector-specific data elements, validated elsewhere by [`crate::sector`] |
//!
//! Invariants enforced on construction *and* on deserialisation:
//! - the [`Granularity`] matches the identifier (model: no lot, no serial; batch: lot, no
//!   serial; item: serial, lot optional);
//! - `version >= 1`; `createdAt <= publishedAt <= updatedAt`; `publishedAt` is absent exactly
//!   while the status is `draft`; all timestamps are representable in RFC 3339;
//! - identifier strings are non-empty, at most [`MAX_ID_CHARS`] characters, without control
//!   characters; component URIs are absolute and at most [`MAX_URI_CHARS`];
//! - `commodityCode`, when present, is 6, 8 or 10 ASCII digits;
//! - at most [`MAX_COMPONENTS`] components; `data` is a JSON object;
//! - unknown fields are rejected at every level.
//!
//! JSON input goes through [`Passport::from_json_slice`] / [`PassportDraft::from_json_slice`],
//! which bound the input to [`MAX_INPUT_BYTES`] and turn every problem into a typed
//! [`PassportError`] naming the offending field; a client's draft is also parsed under the
//! strict input rules of [`crate::input`]. The `Deserialize` impls use the same code
//! path (via `serde_json::Value`), so they are JSON-only.
//!
//! The model is pure: ids and times are passed in by the caller ([`PassportId::from_parts`],
//! [`Passport::new_draft`], [`Passport::transition`]).

mod digest;
mod error;
mod granularity;
mod gs1;
mod gtin;
mod id;
pub(crate) mod json;
pub mod party;
mod product;
mod status;
mod submission;

use serde::{Deserialize, Deserializer, Serialize};
use serde_json::Value;
use time::format_description::well_known::Rfc3339;
use time::{OffsetDateTime, UtcOffset};

pub use digest::Sha256Digest;
pub(crate) use error::echo;
pub use error::PassportError;
pub use granularity::Granularity;
pub use gs1::{Gln, GlnRef, GlnRole};
pub use gtin::Gtin;
pub use id::PassportId;
pub use party::{
    Classified, IdentifierError, IdentifierProblem, Iso15459Party, PartyField, PartyId,
};
pub(crate) use product::{is_cs82, percent_decode, percent_encode_into};
pub use product::{ProductIdentifier, MAX_AI_VALUE_CHARS};
pub use status::{PassportStatus, PublishRefused};

use json::Obj;

/// Largest JSON document accepted by the `from_json_slice` functions (1 MiB).
pub const MAX_INPUT_BYTES: usize = 1 << 20;
/// Most component references a passport may carry.
pub const MAX_COMPONENTS: usize = 1_000;
/// Longest identifier string (operator, facility, sector id, schema version), in characters.
pub const MAX_ID_CHARS: usize = 256;
/// Longest component URI, in characters.
pub const MAX_URI_CHARS: usize = 2_048;

/// Which sector schema the passport's `data` follows. Wire: `{"id":"battery","schemaVersion":"1.2.0"}`.
///
/// Only shape is checked here (non-empty, bounded, no control characters); whether the
/// sector and version exist is decided by [`crate::sector`].
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SectorRef {
    /// Sector id, e.g. `battery`.
    pub id: String,
    /// Version of the sector schema, e.g. `1.2.0`.
    pub schema_version: String,
}

impl SectorRef {
    fn from_value(v: &Value, path: &str) -> Result<Self, PassportError> {
        let obj = Obj::new(v, path, &["id", "schemaVersion"])?;
        Ok(Self {
            id: obj.req_str("id")?.to_owned(),
            schema_version: obj.req_str("schemaVersion")?.to_owned(),
        })
    }

    fn validate(&self, path: &str) -> Result<(), PassportError> {
        check_id(&json::join(path, "id"), &self.id)?;
        check_id(&json::join(path, "schemaVersion"), &self.schema_version)
    }
}

/// A reference to another passport or document (e.g. a component's passport), pinned by
/// the SHA-256 of the referenced bytes so that a verifier can detect substitution.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ComponentReference {
    /// Absolute URI of the referenced resource.
    pub uri: String,
    /// SHA-256 of the referenced resource; lowercase hex on the wire.
    pub sha256: Sha256Digest,
}

impl ComponentReference {
    fn from_value(v: &Value, path: &str) -> Result<Self, PassportError> {
        let obj = Obj::new(v, path, &["uri", "sha256"])?;
        Ok(Self {
            uri: obj.req_str("uri")?.to_owned(),
            sha256: Sha256Digest::from_hex(obj.req_str("sha256")?)?,
        })
    }

    fn validate(&self, path: &str) -> Result<(), PassportError> {
        let field = json::join(path, "uri");
        check_text(&field, &self.uri, MAX_URI_CHARS)?;
        if let Some((position, character)) = self
            .uri
            .chars()
            .enumerate()
            .find(|(_, c)| c.is_whitespace())
        {
            return Err(PassportError::ForbiddenCharacter {
                field,
                position,
                character,
            });
        }
        let scheme = self.uri.split_once(':').map(|(s, _)| s).unwrap_or_default();
        let scheme_ok = scheme.starts_with(|c: char| c.is_ascii_alphabetic())
            && scheme
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'));
        if !scheme_ok {
            return Err(PassportError::InvalidUri {
                field,
                reason: "missing or malformed scheme",
            });
        }
        Ok(())
    }
}

/// What a client submits to create a passport: everything except the fields the node
/// assigns (`id`, `status`, `version`, timestamps).
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PassportDraft {
    /// Unique product identifier (wire: `uniqueProductIdentifier`).
    #[serde(rename = "uniqueProductIdentifier")]
    pub product: ProductIdentifier,
    /// Model, batch or item.
    pub granularity: Granularity,
    /// Unique economic operator identifier.
    pub economic_operator_id: String,
    /// Unique facility identifier, if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub facility_id: Option<String>,
    /// Customs commodity code (HS / CN / TARIC: 6, 8 or 10 digits), if any. Absent from the
    /// serialised form when `None`, so passports without one keep their digests.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub commodity_code: Option<String>,
    /// Sector schema the `data` follows.
    pub sector: SectorRef,
    /// Component references (optional on input, defaults to empty).
    pub components: Vec<ComponentReference>,
    /// Sector-specific data; must be a JSON object.
    pub data: Value,
}

const DRAFT_FIELDS: &[&str] = &[
    "uniqueProductIdentifier",
    "granularity",
    "economicOperatorId",
    "facilityId",
    "commodityCode",
    "sector",
    "components",
    "data",
];

impl PassportDraft {
    /// Parses and validates a client submission. Never panics; see [`PassportError`]. The
    /// text is parsed under the strict input rules of [`crate::input`] (a duplicate member
    /// name, a number that would not be signed as written or U+0000 is refused).
    pub fn from_json_slice(bytes: &[u8]) -> Result<Self, PassportError> {
        Self::from_json_value(&json::parse_input(bytes)?)
    }

    /// Reads and validates a draft from an already-parsed JSON value.
    pub fn from_json_value(v: &Value) -> Result<Self, PassportError> {
        let obj = Obj::new(v, "", DRAFT_FIELDS)?;
        let common = Common::read(&obj, false)?;
        let draft = Self {
            product: common.product,
            granularity: common.granularity,
            economic_operator_id: common.economic_operator_id,
            facility_id: common.facility_id,
            commodity_code: common.commodity_code,
            sector: common.sector,
            components: common.components,
            data: common.data,
        };
        draft.validate()?;
        Ok(draft)
    }

    /// Checks every invariant that does not involve node-assigned fields.
    pub fn validate(&self) -> Result<(), PassportError> {
        validate_common(
            &self.product,
            self.granularity,
            &self.economic_operator_id,
            self.facility_id.as_deref(),
            self.commodity_code.as_deref(),
            &self.sector,
            &self.components,
            &self.data,
        )
    }
}

impl<'de> Deserialize<'de> for PassportDraft {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let v = Value::deserialize(deserializer)?;
        Self::from_json_value(&v).map_err(serde::de::Error::custom)
    }
}

/// A Digital Product Passport as stored, signed and served by the node.
///
/// Fields are public for reading and for building responses; after mutating them, call
/// [`validate`](Self::validate) (the constructors, [`transition`](Self::transition) and
/// all deserialisation paths do so already).
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Passport {
    /// The passport's own id, `urn:uuid:<uuidv7>`.
    pub id: PassportId,
    /// Unique product identifier (wire: `uniqueProductIdentifier`).
    #[serde(rename = "uniqueProductIdentifier")]
    pub product: ProductIdentifier,
    /// Model, batch or item; consistent with `product`.
    pub granularity: Granularity,
    /// Unique economic operator identifier.
    pub economic_operator_id: String,
    /// Unique facility identifier, if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub facility_id: Option<String>,
    /// Customs commodity code (HS / CN / TARIC: 6, 8 or 10 digits), if any. Absent from the
    /// serialised form when `None`, so passports without one keep their digests.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub commodity_code: Option<String>,
    /// Sector schema the `data` follows.
    pub sector: SectorRef,
    /// Lifecycle status.
    pub status: PassportStatus,
    /// Content version, starting at 1.
    pub version: u32,
    /// When the passport was created (RFC 3339).
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    /// When the passport last changed (RFC 3339).
    #[serde(with = "time::serde::rfc3339")]
    pub updated_at: OffsetDateTime,
    /// When the passport was first published (RFC 3339); absent while a draft.
    #[serde(
        with = "time::serde::rfc3339::option",
        skip_serializing_if = "Option::is_none"
    )]
    pub published_at: Option<OffsetDateTime>,
    /// Component references.
    pub components: Vec<ComponentReference>,
    /// Sector-specific data (a JSON object).
    pub data: Value,
}

const PASSPORT_FIELDS: &[&str] = &[
    "id",
    "uniqueProductIdentifier",
    "granularity",
    "economicOperatorId",
    "facilityId",
    "commodityCode",
    "sector",
    "status",
    "version",
    "createdAt",
    "updatedAt",
    "publishedAt",
    "components",
    "data",
];

impl Passport {
    /// Creates a new passport in status `draft`, version 1, from a client submission.
    ///
    /// The caller supplies the id and the current time; `now` is normalised to UTC and
    /// becomes both `createdAt` and `updatedAt`.
    pub fn new_draft(
        input: PassportDraft,
        id: PassportId,
        now: OffsetDateTime,
    ) -> Result<Passport, PassportError> {
        let now = to_utc(now, "createdAt")?;
        let passport = Passport {
            id,
            product: input.product,
            granularity: input.granularity,
            economic_operator_id: input.economic_operator_id,
            facility_id: input.facility_id,
            commodity_code: input.commodity_code,
            sector: input.sector,
            status: PassportStatus::Draft,
            version: 1,
            created_at: now,
            updated_at: now,
            published_at: None,
            components: input.components,
            data: input.data,
        };
        passport.validate()?;
        Ok(passport)
    }

    /// Moves the passport to `next` at time `now` (normalised to UTC), if the lifecycle
    /// allows it. Sets `updatedAt`, and `publishedAt` on first publication. The content
    /// `version` is not changed: it counts content revisions, not status changes.
    pub fn transition(
        &mut self,
        next: PassportStatus,
        now: OffsetDateTime,
    ) -> Result<(), PassportError> {
        if !self.status.can_transition_to(next) {
            return Err(PassportError::InvalidTransition {
                from: self.status.as_str(),
                to: next.as_str(),
            });
        }
        let now = to_utc(now, "updatedAt")?;
        if now < self.updated_at {
            return Err(PassportError::TimestampOrder {
                earlier: "updatedAt",
                later: "transition time",
            });
        }
        let mut next_state = self.clone();
        next_state.status = next;
        next_state.updated_at = now;
        if next == PassportStatus::Published && next_state.published_at.is_none() {
            next_state.published_at = Some(now);
        }
        next_state.validate()?;
        *self = next_state;
        Ok(())
    }

    /// This draft's content as version `version` of a published passport, at `now`: status
    /// `published`, the content `version`, `publishedAt` the passport's first publication
    /// (`first_published`, or `now` for the first version) and `updatedAt` no earlier than
    /// `now`. The envelope invariants are checked; the sector schema is not (that is
    /// [`crate::sector::SectorRegistry::validate`]'s).
    pub fn publish(
        mut self,
        version: u32,
        first_published: Option<OffsetDateTime>,
        now: OffsetDateTime,
    ) -> Result<Passport, PassportError> {
        self.status = PassportStatus::Published;
        self.version = version;
        self.published_at = Some(first_published.unwrap_or(now));
        self.updated_at = now.max(self.updated_at);
        self.validate()?;
        Ok(self)
    }

    /// Parses and validates a stored passport. Never panics: oversize input, truncated or
    /// malformed JSON, wrong types, missing or unknown fields and every model violation
    /// come back as a typed [`PassportError`].
    pub fn from_json_slice(bytes: &[u8]) -> Result<Passport, PassportError> {
        Self::from_json_value(&json::parse_bounded(bytes)?)
    }

    /// Reads and validates a passport from an already-parsed JSON value.
    pub fn from_json_value(v: &Value) -> Result<Passport, PassportError> {
        let obj = Obj::new(v, "", PASSPORT_FIELDS)?;
        let id = PassportId::parse(obj.req_str("id")?)?;
        let common = Common::read(&obj, true)?;
        let status_path = obj.path("status");
        let status: PassportStatus = obj.req_str("status")?.parse().map_err(|e| match e {
            PassportError::InvalidEnumValue {
                value, expected, ..
            } => PassportError::InvalidEnumValue {
                path: status_path,
                value,
                expected,
            },
            other => other,
        })?;
        let passport = Passport {
            id,
            product: common.product,
            granularity: common.granularity,
            economic_operator_id: common.economic_operator_id,
            facility_id: common.facility_id,
            commodity_code: common.commodity_code,
            sector: common.sector,
            status,
            version: obj.req_u32("version")?,
            created_at: obj.req_time("createdAt")?,
            updated_at: obj.req_time("updatedAt")?,
            published_at: obj.opt_time("publishedAt")?,
            components: common.components,
            data: common.data,
        };
        passport.validate()?;
        Ok(passport)
    }

    /// Checks every invariant listed in the [module docs](self).
    pub fn validate(&self) -> Result<(), PassportError> {
        validate_common(
            &self.product,
            self.granularity,
            &self.economic_operator_id,
            self.facility_id.as_deref(),
            self.commodity_code.as_deref(),
            &self.sector,
            &self.components,
            &self.data,
        )?;
        if self.version == 0 {
            return Err(PassportError::VersionZero);
        }
        check_rfc3339(self.created_at, "createdAt")?;
        check_rfc3339(self.updated_at, "updatedAt")?;
        if self.updated_at < self.created_at {
            return Err(PassportError::TimestampOrder {
                earlier: "createdAt",
                later: "updatedAt",
            });
        }
        match (self.status, self.published_at) {
            (PassportStatus::Draft, Some(_)) => Err(PassportError::PublishedAtMismatch {
                status: self.status.as_str(),
                expected: "absent",
            }),
            (PassportStatus::Draft, None) => Ok(()),
            (_, None) => Err(PassportError::PublishedAtMismatch {
                status: self.status.as_str(),
                expected: "present",
            }),
            (_, Some(published_at)) => {
                check_rfc3339(published_at, "publishedAt")?;
                if published_at < self.created_at {
                    return Err(PassportError::TimestampOrder {
                        earlier: "createdAt",
                        later: "publishedAt",
                    });
                }
                if self.updated_at < published_at {
                    return Err(PassportError::TimestampOrder {
                        earlier: "publishedAt",
                        later: "updatedAt",
                    });
                }
                Ok(())
            }
        }
    }
}

impl<'de> Deserialize<'de> for Passport {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let v = Value::deserialize(deserializer)?;
        Self::from_json_value(&v).map_err(serde::de::Error::custom)
    }
}

/// Fields shared by [`Passport`] and [`PassportDraft`].
struct Common {
    product: ProductIdentifier,
    granularity: Granularity,
    economic_operator_id: String,
    facility_id: Option<String>,
    commodity_code: Option<String>,
    sector: SectorRef,
    components: Vec<ComponentReference>,
    data: Value,
}

impl Common {
    fn read(obj: &Obj<'_>, components_required: bool) -> Result<Self, PassportError> {
        let product = ProductIdentifier::from_value(
            obj.req("uniqueProductIdentifier")?,
            "uniqueProductIdentifier",
        )?;
        let granularity_path = obj.path("granularity");
        let granularity: Granularity =
            obj.req_str("granularity")?.parse().map_err(|e| match e {
                PassportError::InvalidEnumValue {
                    value, expected, ..
                } => PassportError::InvalidEnumValue {
                    path: granularity_path,
                    value,
                    expected,
                },
                other => other,
            })?;
        let components = match obj.opt("components") {
            None if components_required => {
                return Err(PassportError::MissingField {
                    path: "components".to_owned(),
                })
            }
            None => Vec::new(),
            Some(v) => {
                let Some(items) = v.as_array() else {
                    return Err(PassportError::WrongType {
                        path: "components".to_owned(),
                        expected: "an array",
                        found: json::type_name(v),
                    });
                };
                if items.len() > MAX_COMPONENTS {
                    return Err(PassportError::TooManyComponents {
                        count: items.len(),
                        max: MAX_COMPONENTS,
                    });
                }
                items
                    .iter()
                    .enumerate()
                    .map(|(i, item)| {
                        ComponentReference::from_value(item, &format!("components[{i}]"))
                    })
                    .collect::<Result<Vec<_>, _>>()?
            }
        };
        Ok(Self {
            product,
            granularity,
            economic_operator_id: obj.req_str("economicOperatorId")?.to_owned(),
            facility_id: obj.opt_str("facilityId")?.map(str::to_owned),
            commodity_code: obj.opt_str("commodityCode")?.map(str::to_owned),
            sector: SectorRef::from_value(obj.req("sector")?, "sector")?,
            components,
            data: obj.req("data")?.clone(),
        })
    }
}

// One parameter per shared field: `Passport` and `PassportDraft` each pass their own.
#[allow(clippy::too_many_arguments)]
fn validate_common(
    product: &ProductIdentifier,
    granularity: Granularity,
    economic_operator_id: &str,
    facility_id: Option<&str>,
    commodity_code: Option<&str>,
    sector: &SectorRef,
    components: &[ComponentReference],
    data: &Value,
) -> Result<(), PassportError> {
    granularity.check(product)?;
    check_id("economicOperatorId", economic_operator_id)?;
    if let Some(facility_id) = facility_id {
        check_id("facilityId", facility_id)?;
    }
    if let Some(code) = commodity_code {
        if !(matches!(code.len(), 6 | 8 | 10) && code.bytes().all(|b| b.is_ascii_digit())) {
            return Err(PassportError::CommodityCode { value: echo(code) });
        }
    }
    sector.validate("sector")?;
    if components.len() > MAX_COMPONENTS {
        return Err(PassportError::TooManyComponents {
            count: components.len(),
            max: MAX_COMPONENTS,
        });
    }
    for (i, component) in components.iter().enumerate() {
        component.validate(&format!("components[{i}]"))?;
    }
    if !data.is_object() {
        return Err(PassportError::WrongType {
            path: "data".to_owned(),
            expected: "an object",
            found: json::type_name(data),
        });
    }
    Ok(())
}

fn check_id(field: &str, value: &str) -> Result<(), PassportError> {
    check_text(field, value, MAX_ID_CHARS)
}

fn check_text(field: &str, value: &str, max: usize) -> Result<(), PassportError> {
    if value.is_empty() {
        return Err(PassportError::EmptyField {
            field: field.to_owned(),
        });
    }
    let len = value.chars().count();
    if len > max {
        return Err(PassportError::FieldTooLong {
            field: field.to_owned(),
            len,
            max,
        });
    }
    if let Some((position, character)) = value.chars().enumerate().find(|(_, c)| c.is_control()) {
        return Err(PassportError::ForbiddenCharacter {
            field: field.to_owned(),
            position,
            character,
        });
    }
    Ok(())
}

fn to_utc(t: OffsetDateTime, field: &'static str) -> Result<OffsetDateTime, PassportError> {
    let utc = t
        .checked_to_offset(UtcOffset::UTC)
        .ok_or(PassportError::TimestampOutOfRange { field })?;
    check_rfc3339(utc, field)?;
    Ok(utc)
}

fn check_rfc3339(t: OffsetDateTime, field: &'static str) -> Result<(), PassportError> {
    t.format(&Rfc3339)
        .map(|_| ())
        .map_err(|_| PassportError::TimestampOutOfRange { field })
}
