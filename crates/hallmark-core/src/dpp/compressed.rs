//! The EN 18222 compressed `DigitalProductPassport` and Hallmark's passport model, both ways.
//!
//! # The document ([`compress`])
//!
//! | member | from the passport |
//! |---|---|
//! | `digitalProductPassportId` | `id`, `urn:uuid:<uuidv7>` |
//! | `uniqueProductIdentifier` | the GS1 Digital Link URI under the node's public base URL |
//! | `granularity` | `Item`, `Batch` or `Model` ([`granularity_name`]) |
//! | `dppSchemaVersion` | `<sector id>:<schemaVersion>`, e.g. `battery:1.2.0` ([`schema_version`]) |
//! | `dppStatus` | `Draft`, `Active`, `Suspended`, `Archived` or `Inactive` ([`dpp_status`]) |
//! | `lastUpdate` | `updatedAt`, RFC 3339 in UTC |
//! | `economicOperatorId`, `facilityId`, `commodityCode` | the same fields (the optional ones only when there is one) |
//! | `contentSpecificationIds` | the ids of the content sections present, in the sector's order |
//! | *one member per section* | named by the section id, holding its part of `data` |
//! | `versionNumber`, `createdAt`, `publishedAt` | `version`, `createdAt`, `publishedAt` (when published once) |
//! | `components` | `[{uri, sha256}]`, only when there are any |
//!
//! The last three rows are Hallmark members with no EN 18222 name; the schema's
//! `additionalProperties: true` allows them.
//!
//! # Content sections ([`Sector::content_sections`])
//!
//! - `battery`: one section per BatteryPass submodel, in [`battery::SUBMODELS`] order, named
//!   by the submodel schema's own `x-samm-aspect-model-urn` (for example
//!   `urn:samm:io.BatteryPass.GeneralProductInformation:1.2.0#GeneralProductInformation`) and
//!   holding `data.<submodel key>`.
//! - every other sector (`generic`): one section `urn:hallmark:sector:<id>:<version>` holding
//!   the whole `data` object.
//!
//! A section is *present* when its part of `data` is (a battery view without a submodel has
//! no section for it); the whole-data section is always present. The caller passes the
//! passport as the audience may see it (its `data` already a [`Sector::view`]);
//! nothing here filters. For a suspended passport, [`compress_header_only`] leaves every
//! section out (`contentSpecificationIds` is then `[]`).
//!
//! # Writes ([`decompress`])
//!
//! A POST body becomes a [`PassportDraft`]:
//! - `uniqueProductIdentifier`: a GS1 Digital Link URI with any resolver host
//!   ([`ProductIdentifier::parse_digital_link`]), or Hallmark's object form
//!   `{gtin, lot?, serial?}`;
//! - `granularity`: `Item`/`Batch`/`Model` in any case;
//! - `dppSchemaVersion`: must name a sector of the registry;
//! - each content section becomes its part of `data`, taken as it is (the sector schema is
//!   checked later, by whoever validates the draft); missing sections are left out; a member
//!   named like a section of another sector is refused;
//! - `economicOperatorId`, `facilityId`, `commodityCode` and `components` are read as in a
//!   Hallmark draft
//!   (`null` = absent for the optional ones).
//!
//! The members the node assigns ([`SERVER_ASSIGNED`]) are ignored, whatever their value.
//! `elements` (the full representation) and any other member are refused with a
//! [`DppError`] naming it: Hallmark refuses what it would not store rather than drop it, even
//! though the schema allows additional members.

use std::sync::LazyLock;

use serde_json::{json, Map, Value};
use time::format_description::well_known::Rfc3339;
use time::{OffsetDateTime, UtcOffset};

use crate::passport::{
    echo, Granularity, Passport, PassportDraft, PassportError, PassportStatus, ProductIdentifier,
    SectorRef,
};
use crate::sector::{battery, Sector, SectorRegistry};

/// Members a write reads (besides the content sections).
pub const WRITABLE: [&str; 7] = [
    "uniqueProductIdentifier",
    "granularity",
    "dppSchemaVersion",
    "economicOperatorId",
    "facilityId",
    "commodityCode",
    "components",
];

/// Members the node assigns: a write ignores them, whatever their value.
pub const SERVER_ASSIGNED: [&str; 7] = [
    "digitalProductPassportId",
    "dppStatus",
    "lastUpdate",
    "versionNumber",
    "createdAt",
    "publishedAt",
    "contentSpecificationIds",
];

/// The member of the full representation, refused on writes.
pub const ELEMENTS: &str = "elements";

/// One content section of a sector's passports.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ContentSection {
    /// The content specification id (a URN): the section's member name in the compressed
    /// document and its entry in `contentSpecificationIds`.
    pub id: String,
    /// The member of `data` the section holds, or `None` when it holds the whole `data`
    /// object (every sector but `battery`).
    pub data_key: Option<String>,
}

impl ContentSection {
    /// The `elementId` of the section in the full representation: the data key, or `data`
    /// for a whole-data section.
    pub fn element_id(&self) -> &str {
        self.data_key.as_deref().unwrap_or("data")
    }

    /// The section's part of `data`, if present.
    pub fn value_in<'a>(&self, data: &'a Value) -> Option<&'a Value> {
        match &self.data_key {
            Some(key) => data.get(key),
            None => Some(data),
        }
    }

    /// The RFC 6901 pointer of the section's part in a passport (`/data/<key>` or `/data`).
    pub fn data_pointer(&self) -> String {
        match &self.data_key {
            Some(key) => format!("/data/{}", escape_token(key)),
            None => "/data".to_owned(),
        }
    }
}

static BATTERY_SECTIONS: LazyLock<Vec<ContentSection>> = LazyLock::new(|| {
    battery::SUBMODELS
        .iter()
        .map(|(key, name, schema)| {
            let urn = serde_json::from_str::<Value>(schema)
                .ok()
                .and_then(|s| {
                    s.get("x-samm-aspect-model-urn")
                        .and_then(Value::as_str)
                        .map(str::to_owned)
                })
                // Only if an embedded schema lost its URN (tests hold that none has).
                .unwrap_or_else(|| format!("urn:hallmark:sector:battery:1.2.0#{name}"));
            ContentSection {
                id: urn,
                data_key: Some((*key).to_owned()),
            }
        })
        .collect()
});

impl Sector {
    /// The content sections of this sector's passports, in document order (see the
    /// [`dpp::compressed`](crate::dpp::compressed) module docs).
    pub fn content_sections(&self) -> Vec<ContentSection> {
        if self.id() == "battery" {
            BATTERY_SECTIONS.clone()
        } else {
            vec![ContentSection {
                id: format!("urn:hallmark:sector:{}:{}", self.id(), self.version()),
                data_key: None,
            }]
        }
    }
}

/// The EN 18222 `dppStatus` of a Hallmark status: draft → `Draft`, published → `Active`,
/// suspended → `Suspended`, archived → `Archived`, deactivated → `Inactive`.
pub fn dpp_status(status: PassportStatus) -> &'static str {
    match status {
        PassportStatus::Draft => "Draft",
        PassportStatus::Published => "Active",
        PassportStatus::Suspended => "Suspended",
        PassportStatus::Archived => "Archived",
        PassportStatus::Deactivated => "Inactive",
    }
}

/// The EN 18222 `granularity` (`Item`, `Batch`, `Model`).
pub fn granularity_name(granularity: Granularity) -> &'static str {
    match granularity {
        Granularity::Model => "Model",
        Granularity::Batch => "Batch",
        Granularity::Item => "Item",
    }
}

/// Reads an EN 18222 `granularity`, in any case (`Item`, `item`, `ITEM`).
pub fn parse_granularity(value: &str) -> Option<Granularity> {
    Granularity::ALL
        .into_iter()
        .find(|g| g.as_str().eq_ignore_ascii_case(value))
}

/// The `dppSchemaVersion` of a sector reference: `<id>:<schemaVersion>`.
pub fn schema_version(sector: &SectorRef) -> String {
    format!("{}:{}", sector.id, sector.schema_version)
}

/// Splits a `dppSchemaVersion` into sector id and version at its last `:`; both must be
/// non-empty.
pub fn parse_schema_version(value: &str) -> Option<(&str, &str)> {
    value
        .rsplit_once(':')
        .filter(|(id, version)| !id.is_empty() && !version.is_empty())
}

/// Why a passport cannot be written as an EN 18222 document (compressed or full). These are
/// the node's own problems (configuration, stored data), not the client's.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum RenderError {
    /// The sector given is not the passport's.
    #[error("the passport is of sector {passport}, not {sector}")]
    SectorMismatch {
        /// The passport's `dppSchemaVersion`.
        passport: String,
        /// The sector's.
        sector: String,
    },
    /// The base URL does not make a GS1 Digital Link.
    #[error("cannot write uniqueProductIdentifier as a GS1 Digital Link: {0}")]
    BaseUrl(#[source] PassportError),
    /// A timestamp cannot be written as RFC 3339 in UTC.
    #[error("`{field}` cannot be written as an RFC 3339 timestamp in UTC")]
    Timestamp {
        /// The passport field.
        field: &'static str,
    },
    /// The sector splits `data` by member, and `data` is not an object.
    #[error(
        "the data of a {sector} passport must be a JSON object to be split into content sections"
    )]
    DataNotObject {
        /// The sector's `dppSchemaVersion`.
        sector: String,
    },
    /// A member of `data` belongs to no content section; it is not dropped silently.
    #[error("data member {key:?} belongs to no content section of {sector}")]
    UnmappedData {
        /// The member name (truncated to 80 characters).
        key: String,
        /// The sector's `dppSchemaVersion`.
        sector: String,
    },
    /// An empty member name cannot be an `elementId` (the full representation).
    #[error("the member at {pointer} has an empty name, which cannot be an EN 18222 elementId")]
    EmptyMemberName {
        /// Where, as an RFC 6901 pointer into the passport.
        pointer: String,
    },
}

/// The compressed document of `passport` (see the module docs), its sections from `data`.
/// `sector` must be the passport's; `base_url` is the node's public base URL, under which
/// the GS1 Digital Link is written.
pub fn compress(
    passport: &Passport,
    sector: &Sector,
    base_url: &str,
) -> Result<Value, RenderError> {
    let sections = present_sections(passport, sector)?;
    let ids: Vec<&str> = sections.iter().map(|(s, _)| s.id.as_str()).collect();
    let mut doc = header(passport, base_url, &ids)?;
    for (section, value) in sections {
        doc.insert(section.id, value.clone());
    }
    Ok(Value::Object(doc))
}

/// The compressed document of `passport` without any content section
/// (`contentSpecificationIds: []`): what a suspended passport shows, in either
/// representation.
pub fn compress_header_only(passport: &Passport, base_url: &str) -> Result<Value, RenderError> {
    header(passport, base_url, &[]).map(Value::Object)
}

/// The sections of `sector` present in `passport`, with their values, in order. Checks that
/// the sector is the passport's and that every member of `data` has a section.
pub(super) fn present_sections<'p>(
    passport: &'p Passport,
    sector: &Sector,
) -> Result<Vec<(ContentSection, &'p Value)>, RenderError> {
    let theirs = schema_version(&passport.sector);
    let ours = format!("{}:{}", sector.id(), sector.version());
    if passport.sector.id != sector.id() || passport.sector.schema_version != sector.version() {
        return Err(RenderError::SectorMismatch {
            passport: theirs,
            sector: ours,
        });
    }
    let sections = sector.content_sections();
    let keyed = sections.iter().any(|s| s.data_key.is_some());
    if keyed {
        let Some(data) = passport.data.as_object() else {
            return Err(RenderError::DataNotObject { sector: ours });
        };
        if let Some(key) = data
            .keys()
            .find(|k| !sections.iter().any(|s| s.data_key.as_deref() == Some(k)))
        {
            return Err(RenderError::UnmappedData {
                key: echo(key),
                sector: ours,
            });
        }
    }
    Ok(sections
        .into_iter()
        .filter_map(|s| {
            let value = s.value_in(&passport.data)?;
            Some((s, value))
        })
        .collect())
}

/// The header and Hallmark's extra members, with `contentSpecificationIds` = `section_ids`.
pub(super) fn header(
    passport: &Passport,
    base_url: &str,
    section_ids: &[&str],
) -> Result<Map<String, Value>, RenderError> {
    let link = passport
        .product
        .digital_link(base_url)
        .map_err(RenderError::BaseUrl)?;
    let mut doc = Map::new();
    let mut put = |name: &str, value: Value| {
        doc.insert(name.to_owned(), value);
    };
    put("digitalProductPassportId", json!(passport.id.to_string()));
    put("uniqueProductIdentifier", json!(link));
    put("granularity", json!(granularity_name(passport.granularity)));
    put("dppSchemaVersion", json!(schema_version(&passport.sector)));
    put("dppStatus", json!(dpp_status(passport.status)));
    put("lastUpdate", json!(utc(passport.updated_at, "updatedAt")?));
    put("economicOperatorId", json!(passport.economic_operator_id));
    if let Some(facility) = &passport.facility_id {
        put("facilityId", json!(facility));
    }
    if let Some(code) = &passport.commodity_code {
        put("commodityCode", json!(code));
    }
    put("contentSpecificationIds", json!(section_ids));
    put("versionNumber", json!(passport.version));
    put("createdAt", json!(utc(passport.created_at, "createdAt")?));
    if let Some(published) = passport.published_at {
        put("publishedAt", json!(utc(published, "publishedAt")?));
    }
    if !passport.components.is_empty() {
        let components: Vec<Value> = passport
            .components
            .iter()
            .map(|c| json!({"uri": c.uri, "sha256": c.sha256.to_hex()}))
            .collect();
        put("components", Value::Array(components));
    }
    Ok(doc)
}

fn utc(t: OffsetDateTime, field: &'static str) -> Result<String, RenderError> {
    t.checked_to_offset(UtcOffset::UTC)
        .and_then(|t| t.format(&Rfc3339).ok())
        .ok_or(RenderError::Timestamp { field })
}

/// Why a compressed document cannot become a passport draft: the client's input is wrong.
/// Messages name the member; [`pointer`](Self::pointer) gives it as an RFC 6901 pointer.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum DppError {
    /// The document is not a JSON object.
    #[error("a DigitalProductPassport must be a JSON object, found {found}")]
    NotAnObject {
        /// The JSON type found.
        found: &'static str,
    },
    /// A required member is missing or `null`.
    #[error("missing required member `{name}`")]
    MissingMember {
        /// The member.
        name: &'static str,
    },
    /// A member has the wrong JSON type.
    #[error("`{name}` must be {expected}, found {found}")]
    WrongType {
        /// The member.
        name: &'static str,
        /// What it must be.
        expected: &'static str,
        /// The JSON type found.
        found: &'static str,
    },
    /// `dppSchemaVersion` is not `<sector>:<version>`.
    #[error(
        "`dppSchemaVersion` must be `<sector>:<version>` (e.g. `battery:1.2.0`), found {value:?}"
    )]
    SchemaVersionSyntax {
        /// The value (truncated to 80 characters).
        value: String,
    },
    /// `dppSchemaVersion` names no sector of the registry.
    #[error("`dppSchemaVersion` {value:?} is not a known sector; known: {known}")]
    UnknownSector {
        /// The value (truncated to 80 characters).
        value: String,
        /// The registry's sectors, as `dppSchemaVersion` values.
        known: String,
    },
    /// `granularity` is not `Item`, `Batch` or `Model`.
    #[error("`granularity` must be `Item`, `Batch` or `Model` (any case), found {value:?}")]
    Granularity {
        /// The value (truncated to 80 characters).
        value: String,
    },
    /// The `uniqueProductIdentifier` string is not an acceptable GS1 Digital Link URI.
    #[error("`uniqueProductIdentifier`: {0}")]
    ProductIdentifier(#[source] PassportError),
    /// A member named like a content section (it has a `:`) that the sector does not have.
    #[error("unknown content section {name:?} for dppSchemaVersion {schema_version:?}; its sections are: {known}")]
    UnknownSection {
        /// The member (truncated to 80 characters).
        name: String,
        /// The document's `dppSchemaVersion`.
        schema_version: String,
        /// The sector's section ids.
        known: String,
    },
    /// A member that is neither a header member nor a content section.
    #[error(
        "unknown member {name:?}: a DigitalProductPassport write takes the header members \
         and the content sections of its dppSchemaVersion"
    )]
    UnknownMember {
        /// The member (truncated to 80 characters).
        name: String,
    },
    /// The full representation was sent.
    #[error("`elements` (the full representation) cannot be written; send the compressed representation, one member per content section")]
    FullRepresentation,
    /// A whole-data section is not a JSON object.
    #[error("content section {section:?} must be a JSON object, found {found}")]
    SectionNotObject {
        /// The section id.
        section: String,
        /// The JSON type found.
        found: &'static str,
    },
    /// The draft the document maps to breaks the passport model (paths are a Hallmark
    /// draft's, which for these members are the EN 18222 names).
    #[error(transparent)]
    Passport(PassportError),
}

impl DppError {
    /// Where the problem is, as an RFC 6901 pointer into the document, when it is one member
    /// (`None` for [`DppError::Passport`], whose message names the field).
    pub fn pointer(&self) -> Option<String> {
        let member = |name: &str| Some(format!("/{}", escape_token(name)));
        match self {
            DppError::NotAnObject { .. } => Some(String::new()),
            DppError::MissingMember { name } | DppError::WrongType { name, .. } => member(name),
            DppError::SchemaVersionSyntax { .. } | DppError::UnknownSector { .. } => {
                member("dppSchemaVersion")
            }
            DppError::Granularity { .. } => member("granularity"),
            DppError::ProductIdentifier(_) => member("uniqueProductIdentifier"),
            DppError::UnknownSection { name, .. } | DppError::UnknownMember { name } => {
                member(name)
            }
            DppError::FullRepresentation => member(ELEMENTS),
            DppError::SectionNotObject { section, .. } => member(section),
            DppError::Passport(_) => None,
        }
    }
}

/// Reads a compressed document (a POST /v1/dpps body) into a passport draft; see the module
/// docs. The sector schema is not checked here.
pub fn decompress(doc: &Value, registry: &SectorRegistry) -> Result<PassportDraft, DppError> {
    let Value::Object(members) = doc else {
        return Err(DppError::NotAnObject {
            found: type_name(doc),
        });
    };
    let version_text = required_str(members, "dppSchemaVersion")?;
    let (id, version) =
        parse_schema_version(version_text).ok_or_else(|| DppError::SchemaVersionSyntax {
            value: echo(version_text),
        })?;
    let sector = registry
        .get(id, version)
        .map_err(|_| DppError::UnknownSector {
            value: echo(version_text),
            known: registry
                .iter()
                .map(|s| format!("{}:{}", s.id(), s.version()))
                .collect::<Vec<_>>()
                .join(", "),
        })?;
    let sections = sector.content_sections();

    let mut keyed = Map::new();
    let mut whole = None;
    for (name, value) in members {
        if WRITABLE.contains(&name.as_str()) || SERVER_ASSIGNED.contains(&name.as_str()) {
            continue;
        }
        if name == ELEMENTS {
            return Err(DppError::FullRepresentation);
        }
        match sections.iter().find(|s| s.id == *name) {
            Some(ContentSection {
                data_key: Some(key),
                ..
            }) => {
                keyed.insert(key.clone(), value.clone());
            }
            Some(ContentSection { data_key: None, .. }) => whole = Some((name, value)),
            None if name.contains(':') => {
                return Err(DppError::UnknownSection {
                    name: echo(name),
                    schema_version: echo(version_text),
                    known: sections
                        .iter()
                        .map(|s| s.id.as_str())
                        .collect::<Vec<_>>()
                        .join(", "),
                })
            }
            None => return Err(DppError::UnknownMember { name: echo(name) }),
        }
    }
    let data = match whole {
        None => Value::Object(keyed),
        Some((_, value @ Value::Object(_))) => value.clone(),
        Some((name, value)) => {
            return Err(DppError::SectionNotObject {
                section: name.clone(),
                found: type_name(value),
            })
        }
    };

    let product = match present(members, "uniqueProductIdentifier") {
        None => {
            return Err(DppError::MissingMember {
                name: "uniqueProductIdentifier",
            })
        }
        Some(Value::String(uri)) => product_value(
            &ProductIdentifier::parse_digital_link(uri).map_err(DppError::ProductIdentifier)?,
        ),
        // Hallmark's own form; the draft reader checks it.
        Some(object @ Value::Object(_)) => object.clone(),
        Some(other) => {
            return Err(DppError::WrongType {
                name: "uniqueProductIdentifier",
                expected: "a GS1 Digital Link URI (a string) or an object {gtin, lot, serial}",
                found: type_name(other),
            })
        }
    };
    let granularity_text = required_str(members, "granularity")?;
    let granularity = parse_granularity(granularity_text).ok_or_else(|| DppError::Granularity {
        value: echo(granularity_text),
    })?;

    let mut draft = Map::new();
    draft.insert("uniqueProductIdentifier".to_owned(), product);
    draft.insert("granularity".to_owned(), json!(granularity.as_str()));
    draft.insert(
        "sector".to_owned(),
        json!({"id": sector.id(), "schemaVersion": sector.version()}),
    );
    for name in [
        "economicOperatorId",
        "facilityId",
        "commodityCode",
        "components",
    ] {
        if let Some(value) = members.get(name) {
            draft.insert(name.to_owned(), value.clone());
        }
    }
    draft.insert("data".to_owned(), data);
    PassportDraft::from_json_value(&Value::Object(draft)).map_err(DppError::Passport)
}

/// A member that is there and not `null`.
fn present<'a>(members: &'a Map<String, Value>, name: &str) -> Option<&'a Value> {
    members.get(name).filter(|v| !v.is_null())
}

fn required_str<'a>(
    members: &'a Map<String, Value>,
    name: &'static str,
) -> Result<&'a str, DppError> {
    match present(members, name) {
        None => Err(DppError::MissingMember { name }),
        Some(Value::String(s)) => Ok(s),
        Some(other) => Err(DppError::WrongType {
            name,
            expected: "a string",
            found: type_name(other),
        }),
    }
}

/// Hallmark's object form of a product identifier.
fn product_value(product: &ProductIdentifier) -> Value {
    let mut object = Map::new();
    object.insert("gtin".to_owned(), json!(product.gtin().as_gtin14()));
    if let Some(lot) = product.lot() {
        object.insert("lot".to_owned(), json!(lot));
    }
    if let Some(serial) = product.serial() {
        object.insert("serial".to_owned(), json!(serial));
    }
    Value::Object(object)
}

pub(super) use crate::passport::json::type_name;

/// One RFC 6901 reference token.
pub(super) fn escape_token(token: &str) -> String {
    token.replace('~', "~0").replace('/', "~1")
}

#[cfg(test)]
pub(super) mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use std::collections::BTreeSet;

    use super::*;
    use crate::access::{Audience, Tier};
    use crate::passport::{ComponentReference, Gtin, PassportId, Sha256Digest};
    use time::macros::datetime;

    pub(crate) const BASE: &str = "https://dpp.example.com";
    pub(crate) const DEMOS: [&str; 3] = ["ev-battery", "industrial-battery", "lmt-battery"];

    /// The seven BatteryPass 1.2.0 section ids, as the schemas name their aspects.
    const BATTERY_URNS: [&str; 7] = [
        "urn:samm:io.BatteryPass.GeneralProductInformation:1.2.0#GeneralProductInformation",
        "urn:samm:io.BatteryPass.CarbonFootprint:1.2.0#CarbonFootprintForBatteries",
        "urn:samm:io.BatteryPass.SupplyChainDueDiligence:1.2.0#SupplyChainDueDiligence",
        "urn:samm:io.BatteryPass.MaterialComposition:1.2.0#MaterialComposition",
        "urn:samm:io.BatteryPass.Circularity:1.2.0#Circularity",
        "urn:samm:io.BatteryPass.Performance:1.2.0#PerformanceAndDurability",
        "urn:samm:io.BatteryPass.Labels:1.2.0#Labeling",
    ];

    /// The shared EN 18222 OpenAPI document, beside the checkout.
    fn spec_text() -> &'static str {
        static TEXT: std::sync::LazyLock<String> = std::sync::LazyLock::new(|| {
            let path = concat!(
                env!("CARGO_MANIFEST_DIR"),
                "/../../../shared/specs/en18222-dpp-api.openapi.yaml"
            );
            std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{path}: {e}"))
        });
        &TEXT
    }

    fn indent(line: &str) -> usize {
        line.len() - line.trim_start().len()
    }

    /// The lines below `components.schemas.<schema>.<path…>` (block YAML, two-space indent,
    /// as the spec is written) and the key's indent.
    fn spec_block(schema: &str, path: &[&str]) -> (usize, Vec<String>) {
        let lines: Vec<&str> = spec_text().lines().collect();
        let mut start = lines
            .iter()
            .position(|l| *l == format!("    {schema}:"))
            .unwrap_or_else(|| panic!("no schema {schema}"));
        let mut at = 4;
        let block_end = |start: usize, at: usize| {
            lines[start + 1..]
                .iter()
                .position(|l| {
                    !l.trim().is_empty()
                        && (indent(l) < at
                            || (indent(l) == at && !l.trim_start().starts_with("- ")))
                })
                .map_or(lines.len(), |n| start + 1 + n)
        };
        for key in path {
            let end = block_end(start, at);
            let want = format!("{}{key}:", " ".repeat(at + 2));
            start = (start + 1..end)
                .find(|i| lines[*i] == want || lines[*i].starts_with(&format!("{want} ")))
                .unwrap_or_else(|| panic!("no {key} in {schema} {path:?}"));
            at += 2;
        }
        let end = block_end(start, at);
        (
            at,
            lines[start + 1..end]
                .iter()
                .map(|l| (*l).to_owned())
                .collect(),
        )
    }

    /// The items of the YAML list at `components.schemas.<schema>.<path…>`.
    pub(crate) fn spec_list(schema: &str, path: &[&str]) -> Vec<String> {
        let (_, block) = spec_block(schema, path);
        let items: Vec<String> = block
            .iter()
            .filter_map(|l| l.trim_start().strip_prefix("- "))
            .map(|s| s.trim().trim_matches('"').to_owned())
            .collect();
        assert!(!items.is_empty(), "{schema} {path:?}");
        items
    }

    /// The member names of the mapping at `components.schemas.<schema>.<path…>`.
    pub(crate) fn spec_keys(schema: &str, path: &[&str]) -> BTreeSet<String> {
        let (at, block) = spec_block(schema, path);
        block
            .iter()
            .filter(|l| indent(l) == at + 2 && !l.trim_start().starts_with('-'))
            .filter_map(|l| l.trim().split_once(':').map(|(k, _)| k.to_owned()))
            .collect()
    }

    pub(crate) fn registry() -> &'static SectorRegistry {
        SectorRegistry::builtin()
    }

    pub(crate) fn battery() -> &'static Sector {
        registry().get("battery", "1.2.0").unwrap()
    }

    pub(crate) fn generic() -> &'static Sector {
        registry().get("generic", "1.0.0").unwrap()
    }

    /// A demo draft of the CLI (`crates/hallmark/demo/<name>.json`).
    pub(crate) fn demo_draft(name: &str) -> PassportDraft {
        let path = format!(
            "{}/../hallmark/demo/{name}.json",
            env!("CARGO_MANIFEST_DIR")
        );
        PassportDraft::from_json_slice(&std::fs::read(path).unwrap()).unwrap()
    }

    /// `draft` as version 3 of a passport, published at 10:00 and last changed at 11:30.
    pub(crate) fn published(draft: PassportDraft) -> Passport {
        let id = PassportId::from_parts(1_793_000_000_000, [7; 10]).unwrap();
        Passport::new_draft(draft, id, datetime!(2026-10-30 09:00 UTC))
            .unwrap()
            .publish(
                3,
                Some(datetime!(2026-10-30 10:00 UTC)),
                datetime!(2026-10-30 11:30 UTC),
            )
            .unwrap()
    }

    /// A generic batch-level draft with a lot that needs percent-encoding and a component.
    pub(crate) fn generic_draft() -> PassportDraft {
        PassportDraft {
            product: ProductIdentifier::new(
                Gtin::parse("09506000134352").unwrap(),
                Some("L/7%a b".replace(' ', "_")),
                None,
            )
            .unwrap(),
            granularity: Granularity::Batch,
            economic_operator_id: "urn:eori:DE123456789012345".into(),
            facility_id: None,
            commodity_code: None,
            sector: SectorRef {
                id: "generic".into(),
                schema_version: "1.0.0".into(),
            },
            components: vec![ComponentReference {
                uri: "https://dpp.example.com/passports/x".into(),
                sha256: Sha256Digest::of(b"component"),
            }],
            data: json!({
                "public": {"name": "Chair", "legs": 4, "weightKg": 7.5, "tags": ["oak", "FSC"],
                           "foldable": false, "note": null},
                "authority": {"supplier": {"name": "Oak & Co", "sites": [{"city": "Porto"}]}}
            }),
        }
    }

    fn ev() -> Passport {
        published(demo_draft("ev-battery"))
    }

    fn members(doc: &Value) -> Vec<&str> {
        doc.as_object()
            .unwrap()
            .keys()
            .map(String::as_str)
            .collect()
    }

    #[test]
    fn battery_sections_are_the_submodel_aspects_in_submodel_order() {
        let sections = battery().content_sections();
        let ids: Vec<&str> = sections.iter().map(|s| s.id.as_str()).collect();
        assert_eq!(ids, BATTERY_URNS);
        let keys: Vec<&str> = sections
            .iter()
            .map(|s| s.data_key.as_deref().unwrap())
            .collect();
        let submodel_keys: Vec<&str> = battery::SUBMODELS.iter().map(|(k, ..)| *k).collect();
        assert_eq!(keys, submodel_keys);
        assert_eq!(sections[3].element_id(), "materialComposition");
        assert_eq!(sections[3].data_pointer(), "/data/materialComposition");
    }

    #[test]
    fn generic_has_one_section_holding_all_data() {
        let sections = generic().content_sections();
        assert_eq!(
            sections,
            [ContentSection {
                id: "urn:hallmark:sector:generic:1.0.0".into(),
                data_key: None
            }]
        );
        assert_eq!(sections[0].element_id(), "data");
        assert_eq!(sections[0].data_pointer(), "/data");
        let data = json!({"public": {}});
        assert_eq!(sections[0].value_in(&data), Some(&data));
    }

    #[test]
    fn statuses_granularities_and_schema_versions_map() {
        let statuses: Vec<&str> = PassportStatus::ALL.into_iter().map(dpp_status).collect();
        assert_eq!(
            statuses,
            ["Draft", "Active", "Suspended", "Archived", "Inactive"]
        );
        for g in Granularity::ALL {
            let name = granularity_name(g);
            assert_eq!(parse_granularity(name), Some(g));
            assert_eq!(parse_granularity(&name.to_uppercase()), Some(g));
            assert_eq!(parse_granularity(g.as_str()), Some(g));
        }
        assert_eq!(granularity_name(Granularity::Item), "Item");
        assert_eq!(parse_granularity("Items"), None);
        assert_eq!(parse_granularity(""), None);
        assert_eq!(
            parse_schema_version("battery:1.2.0"),
            Some(("battery", "1.2.0"))
        );
        assert_eq!(parse_schema_version("a:b:1.0"), Some(("a:b", "1.0")));
        assert_eq!(parse_schema_version("battery"), None);
        assert_eq!(parse_schema_version("battery:"), None);
        assert_eq!(parse_schema_version(":1.2.0"), None);
    }

    #[test]
    fn the_ev_battery_compresses_to_header_and_seven_sections() {
        let passport = ev();
        let doc = compress(&passport, battery(), BASE).unwrap();
        let header = json!({
            "digitalProductPassportId": passport.id.to_string(),
            "uniqueProductIdentifier": "https://dpp.example.com/01/09506000134369/21/EV77-2025-000184",
            "granularity": "Item",
            "dppSchemaVersion": "battery:1.2.0",
            "dppStatus": "Active",
            "lastUpdate": "2026-10-30T11:30:00Z",
            "economicOperatorId": "https://id.gs1.org/417/4012345000016",
            "facilityId": "https://id.gs1.org/414/4012345000016",
            "commodityCode": "85076000",
            "contentSpecificationIds": BATTERY_URNS,
            "versionNumber": 3,
            "createdAt": "2026-10-30T09:00:00Z",
            "publishedAt": "2026-10-30T10:00:00Z",
        });
        for (name, value) in header.as_object().unwrap() {
            assert_eq!(&doc[name], value, "{name}");
        }
        assert!(doc["digitalProductPassportId"]
            .as_str()
            .unwrap()
            .starts_with("urn:uuid:"));
        // No components: no member. Header + extras + one member per section, nothing else.
        assert_eq!(doc.get("components"), None);
        assert_eq!(members(&doc).len(), header.as_object().unwrap().len() + 7);
        for (urn, (key, ..)) in BATTERY_URNS.iter().zip(battery::SUBMODELS) {
            assert_eq!(doc[*urn], passport.data[key], "{urn}");
        }
        // Every member the spec names is there (`elements` only in the full representation).
        let named = spec_keys("DigitalProductPassport", &["properties"]);
        assert_eq!(named.len(), 10);
        for name in named {
            assert_eq!(doc.get(&name).is_some(), name != "elements", "{name}");
        }
        // The spec's required members are all there, as non-empty strings.
        for name in spec_list("DigitalProductPassport", &["required"]) {
            let value = doc[&name].as_str().unwrap_or_default();
            assert!(!value.is_empty(), "{name}");
        }
    }

    #[test]
    fn demo_batteries_and_generic_round_trip() {
        let mut drafts: Vec<PassportDraft> = DEMOS.iter().map(|n| demo_draft(n)).collect();
        drafts.push(generic_draft());
        for draft in drafts {
            let sector = registry()
                .get(&draft.sector.id, &draft.sector.schema_version)
                .unwrap();
            let passport = published(draft.clone());
            let doc = compress(&passport, sector, BASE).unwrap();
            let back = decompress(&doc, registry()).unwrap();
            assert_eq!(back, passport.draft());
            assert_eq!(back, draft);
            // Also as a draft (dppStatus Draft, no publishedAt) and as written back by a
            // client that dropped every server-assigned member.
            let as_draft =
                Passport::new_draft(draft.clone(), passport.id, passport.created_at).unwrap();
            let mut doc = compress(&as_draft, sector, BASE).unwrap();
            assert_eq!(doc["dppStatus"], "Draft");
            assert_eq!(doc.get("publishedAt"), None);
            for name in SERVER_ASSIGNED {
                doc.as_object_mut().unwrap().remove(name);
            }
            assert_eq!(decompress(&doc, registry()).unwrap(), draft);
        }
    }

    #[test]
    fn generic_compresses_to_one_section_with_components() {
        let passport = published(generic_draft());
        let doc = compress(&passport, generic(), BASE).unwrap();
        let urn = "urn:hallmark:sector:generic:1.0.0";
        assert_eq!(doc["contentSpecificationIds"], json!([urn]));
        assert_eq!(doc[urn], passport.data);
        assert_eq!(doc["granularity"], "Batch");
        assert_eq!(doc["dppSchemaVersion"], "generic:1.0.0");
        assert_eq!(doc.get("facilityId"), None);
        // The lot is percent-encoded in the link.
        assert_eq!(
            doc["uniqueProductIdentifier"],
            "https://dpp.example.com/01/09506000134352/10/L%2F7%25a_b"
        );
        assert_eq!(
            doc["components"],
            json!([{"uri": "https://dpp.example.com/passports/x",
                    "sha256": Sha256Digest::of(b"component").to_hex()}])
        );
    }

    #[test]
    fn statuses_show_in_the_document_and_suspended_has_no_sections() {
        let mut passport = ev();
        passport
            .transition(PassportStatus::Suspended, datetime!(2026-11-01 08:00 UTC))
            .unwrap();
        let doc = compress_header_only(&passport, BASE).unwrap();
        assert_eq!(doc["dppStatus"], "Suspended");
        assert_eq!(doc["lastUpdate"], "2026-11-01T08:00:00Z");
        assert_eq!(doc["contentSpecificationIds"], json!([]));
        assert!(members(&doc).iter().all(|m| !m.contains(':')), "{doc}");
        let full = compress(&passport, battery(), BASE).unwrap();
        assert_eq!(members(&full).len(), members(&doc).len() + 7);
        passport
            .transition(PassportStatus::Deactivated, datetime!(2026-11-02 08:00 UTC))
            .unwrap();
        let doc = compress(&passport, battery(), BASE).unwrap();
        assert_eq!(doc["dppStatus"], "Inactive");
    }

    #[test]
    fn a_view_shows_only_its_sections_and_leaves() {
        let mut passport = ev();
        passport.data = battery().view(&passport.data, Audience::Public);
        passport.data.as_object_mut().unwrap().remove("labeling");
        let doc = compress(&passport, battery(), BASE).unwrap();
        assert_eq!(doc["contentSpecificationIds"], json!(BATTERY_URNS[..6]));
        assert_eq!(doc.get(BATTERY_URNS[6]), None);
        // Every leaf served is public.
        let mut leaves = Vec::new();
        for section in battery().content_sections() {
            if let Some(v) = doc.get(&section.id) {
                leaf_pointers(v, format!("/{}", section.data_key.unwrap()), &mut leaves);
            }
        }
        assert!(leaves.len() > 20, "{}", leaves.len());
        for pointer in &leaves {
            assert_eq!(battery().tier_of(pointer), Tier::Public, "{pointer}");
        }
        // The authority document would have shown a restricted leaf.
        assert_ne!(
            battery().tier_of("/performanceAndDurability/batteryCondition/stateOfCharge"),
            Tier::Public
        );
        assert!(ev()
            .data
            .pointer("/performanceAndDurability/batteryCondition")
            .is_some());
        // A missing section is fine on the way back.
        let back = decompress(&doc, registry()).unwrap();
        assert_eq!(back.data.get("labeling"), None);
        assert_eq!(back.data, passport.data);
    }

    fn leaf_pointers(v: &Value, at: String, out: &mut Vec<String>) {
        match v {
            Value::Object(m) => {
                for (k, c) in m {
                    leaf_pointers(c, format!("{at}/{}", escape_token(k)), out);
                }
            }
            Value::Array(a) => {
                for (i, c) in a.iter().enumerate() {
                    leaf_pointers(c, format!("{at}/{i}"), out);
                }
            }
            _ => out.push(at),
        }
    }

    #[test]
    fn render_errors() {
        let passport = ev();
        assert_eq!(
            compress(&passport, generic(), BASE),
            Err(RenderError::SectorMismatch {
                passport: "battery:1.2.0".into(),
                sector: "generic:1.0.0".into()
            })
        );
        assert!(matches!(
            compress(&passport, battery(), "ftp://x.example"),
            Err(RenderError::BaseUrl(PassportError::InvalidResolver { .. }))
        ));
        let mut odd = passport.clone();
        odd.data
            .as_object_mut()
            .unwrap()
            .insert("extra".into(), json!(1));
        let err = compress(&odd, battery(), BASE).unwrap_err();
        assert_eq!(
            err,
            RenderError::UnmappedData {
                key: "extra".into(),
                sector: "battery:1.2.0".into()
            }
        );
        assert!(err.to_string().contains("\"extra\""), "{err}");
        odd.data = json!([]);
        assert!(matches!(
            compress(&odd, battery(), BASE),
            Err(RenderError::DataNotObject { .. })
        ));
    }

    /// The EV document, to be broken by a test.
    fn ev_doc() -> Value {
        compress(&ev(), battery(), BASE).unwrap()
    }

    fn decompress_with(
        change: impl FnOnce(&mut Map<String, Value>),
    ) -> Result<PassportDraft, DppError> {
        let mut doc = ev_doc();
        change(doc.as_object_mut().unwrap());
        decompress(&doc, registry())
    }

    #[test]
    fn server_assigned_members_are_ignored_whatever_they_say() {
        let draft = decompress_with(|m| {
            m.insert(
                "digitalProductPassportId".into(),
                json!("urn:uuid:not-this-one"),
            );
            m.insert("dppStatus".into(), json!(42));
            m.insert("lastUpdate".into(), json!("yesterday"));
            m.insert("versionNumber".into(), json!(-1));
            m.insert("createdAt".into(), json!(null));
            m.insert("publishedAt".into(), json!({}));
            m.insert("contentSpecificationIds".into(), json!(["urn:x:unknown"]));
        })
        .unwrap();
        assert_eq!(draft, demo_draft("ev-battery"));
    }

    #[test]
    fn product_identifiers_in_either_form_and_from_any_host() {
        let draft = decompress_with(|m| {
            m.insert(
                "uniqueProductIdentifier".into(),
                json!("https://id.other-resolver.example/01/9506000134369/21/EV77-2025-000184?17=270101"),
            );
            m.insert("granularity".into(), json!("iTeM"));
        })
        .unwrap();
        assert_eq!(draft, demo_draft("ev-battery"));
        let draft = decompress_with(|m| {
            m.insert(
                "uniqueProductIdentifier".into(),
                json!({"gtin": "09506000134369", "serial": "EV77-2025-000184"}),
            );
        })
        .unwrap();
        assert_eq!(draft, demo_draft("ev-battery"));
    }

    #[test]
    fn unknown_members_sections_and_the_full_representation_are_refused() {
        let err = decompress_with(|m| {
            m.insert("colour".into(), json!("red"));
        })
        .unwrap_err();
        assert_eq!(
            err,
            DppError::UnknownMember {
                name: "colour".into()
            }
        );
        assert_eq!(err.pointer().as_deref(), Some("/colour"));
        assert!(err.to_string().contains("\"colour\""), "{err}");

        let urn = "urn:samm:io.BatteryPass.Nameplate:1.2.0#Nameplate";
        let err = decompress_with(|m| {
            m.insert(urn.into(), json!({}));
        })
        .unwrap_err();
        assert!(
            matches!(&err, DppError::UnknownSection { name, .. } if name == urn),
            "{err:?}"
        );
        assert!(err.to_string().contains(BATTERY_URNS[0]), "{err}");
        // A section of another sector is unknown too.
        let err = decompress_with(|m| {
            m.insert("urn:hallmark:sector:generic:1.0.0".into(), json!({}));
        })
        .unwrap_err();
        assert!(matches!(err, DppError::UnknownSection { .. }), "{err:?}");

        let err = decompress_with(|m| {
            m.insert("a/b~c".into(), json!(1));
        })
        .unwrap_err();
        assert_eq!(err.pointer().as_deref(), Some("/a~1b~0c"));

        let err = decompress_with(|m| {
            m.insert("elements".into(), json!([]));
        })
        .unwrap_err();
        assert_eq!(err, DppError::FullRepresentation);
        assert_eq!(err.pointer().as_deref(), Some("/elements"));
    }

    #[test]
    fn sectors_must_be_known_and_well_written() {
        let err = decompress_with(|m| {
            m.insert("dppSchemaVersion".into(), json!("battery:9.9.9"));
        })
        .unwrap_err();
        assert!(
            matches!(&err, DppError::UnknownSector { value, known }
                if value == "battery:9.9.9" && known == "battery:1.2.0, generic:1.0.0"),
            "{err:?}"
        );
        assert_eq!(err.pointer().as_deref(), Some("/dppSchemaVersion"));
        let err = decompress_with(|m| {
            m.insert("dppSchemaVersion".into(), json!("textile:1.0.0"));
        })
        .unwrap_err();
        assert!(matches!(err, DppError::UnknownSector { .. }), "{err:?}");
        let err = decompress_with(|m| {
            m.insert("dppSchemaVersion".into(), json!("battery"));
        })
        .unwrap_err();
        assert_eq!(
            err,
            DppError::SchemaVersionSyntax {
                value: "battery".into()
            }
        );
        let err = decompress_with(|m| {
            m.remove("dppSchemaVersion");
        })
        .unwrap_err();
        assert_eq!(
            err,
            DppError::MissingMember {
                name: "dppSchemaVersion"
            }
        );
        // The battery sections under the generic sector are unknown sections.
        let err = decompress_with(|m| {
            m.insert("dppSchemaVersion".into(), json!("generic:1.0.0"));
        })
        .unwrap_err();
        assert!(matches!(err, DppError::UnknownSection { .. }), "{err:?}");
    }

    #[test]
    fn header_members_are_checked() {
        let err = decompress_with(|m| {
            m.insert("granularity".into(), json!("Items"));
        })
        .unwrap_err();
        assert_eq!(
            err,
            DppError::Granularity {
                value: "Items".into()
            }
        );
        assert_eq!(err.pointer().as_deref(), Some("/granularity"));
        let err = decompress_with(|m| {
            m.insert("granularity".into(), json!(1));
        })
        .unwrap_err();
        assert_eq!(
            err,
            DppError::WrongType {
                name: "granularity",
                expected: "a string",
                found: "a number"
            }
        );
        // The identifier says item; the granularity says model.
        let err = decompress_with(|m| {
            m.insert("granularity".into(), json!("Model"));
        })
        .unwrap_err();
        assert!(
            matches!(
                err,
                DppError::Passport(PassportError::GranularityMismatch { .. })
            ),
            "{err:?}"
        );
        assert_eq!(err.pointer(), None);
        let err = decompress_with(|m| {
            m.insert(
                "uniqueProductIdentifier".into(),
                json!("https://x.example/gtin/1"),
            );
        })
        .unwrap_err();
        assert!(matches!(err, DppError::ProductIdentifier(_)), "{err:?}");
        assert_eq!(err.pointer().as_deref(), Some("/uniqueProductIdentifier"));
        let err = decompress_with(|m| {
            m.insert("uniqueProductIdentifier".into(), json!(["x"]));
        })
        .unwrap_err();
        assert!(matches!(
            err,
            DppError::WrongType {
                name: "uniqueProductIdentifier",
                ..
            }
        ));
        let err = decompress_with(|m| {
            m.insert(
                "uniqueProductIdentifier".into(),
                json!({"gtin": "09506000134369", "x": 1}),
            );
        })
        .unwrap_err();
        assert!(
            matches!(err, DppError::Passport(PassportError::UnknownField { .. })),
            "{err:?}"
        );
        let err = decompress_with(|m| {
            m.remove("economicOperatorId");
        })
        .unwrap_err();
        assert_eq!(
            err.to_string(),
            "missing required field `economicOperatorId`"
        );
        let err = decompress_with(|m| {
            m.insert("components".into(), json!([{"uri": "x"}]));
        })
        .unwrap_err();
        assert!(err.to_string().contains("components[0]"), "{err}");
        // An optional member written as null is absent.
        let draft = decompress_with(|m| {
            m.insert("facilityId".into(), Value::Null);
        })
        .unwrap();
        assert_eq!(draft.facility_id, None);
        let err = decompress(&json!([1]), registry()).unwrap_err();
        assert_eq!(err, DppError::NotAnObject { found: "an array" });
        assert_eq!(err.pointer().as_deref(), Some(""));
    }

    #[test]
    fn sections_are_taken_as_they_are() {
        // A battery section is not checked here (the sector schema is, later), not even null.
        let draft = decompress_with(|m| {
            m.insert(BATTERY_URNS[6].into(), Value::Null);
        })
        .unwrap();
        assert_eq!(draft.data["labeling"], Value::Null);
        assert!(battery().validate(&draft.data).is_err());
        // The whole-data section must be an object.
        let mut doc = compress(&published(generic_draft()), generic(), BASE).unwrap();
        let urn = "urn:hallmark:sector:generic:1.0.0";
        doc[urn] = json!("text");
        let err = decompress(&doc, registry()).unwrap_err();
        assert_eq!(
            err,
            DppError::SectionNotObject {
                section: urn.into(),
                found: "a string"
            }
        );
        assert_eq!(err.pointer().as_deref(), Some(&*format!("/{urn}")));
        doc.as_object_mut().unwrap().remove(urn);
        assert_eq!(decompress(&doc, registry()).unwrap().data, json!({}));
    }
}
