//! Request bodies of the admin API.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use uuid::Uuid;

/// A passport submission: the body of `POST /api/v1/passports`, `POST
/// /api/v1/passports/validate`, `PUT /api/v1/passports/{id}/draft` and `POST
/// /api/v1/passports/{id}/versions`. Everything but what the node assigns (`id`, `status`,
/// `version`, timestamps). Unknown members are refused at every level of the envelope.
///
/// The node reads it with hallmark-core's `PassportDraft` (refusals name the field); this
/// type is that reading's schema, held to it by a unit test.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PassportSubmission {
    /// The product this passport is for: a GS1 GTIN, with a lot (batch granularity) or a
    /// serial number (item granularity).
    pub unique_product_identifier: UniqueProductIdentifier,
    /// `model` (no lot, no serial), `batch` (a lot, no serial) or `item` (a serial, lot
    /// optional); must match the identifier.
    #[schemars(schema_with = "super::wire::granularity")]
    pub granularity: String,
    /// Unique economic operator identifier, ISO/IEC 15459: a GS1 GLN, preferably
    /// `https://id.gs1.org/417/<gln>` (docs/identifiers.md lists every accepted spelling).
    /// Required to be one for `battery`; other strings (e.g. an EORI `urn:eori:…`) are
    /// accepted with a "not ISO/IEC 15459" warning for `generic`.
    #[schemars(length(min = 1, max = 256))]
    pub economic_operator_id: String,
    /// Unique facility identifier, ISO/IEC 15459: a GS1 GLN, preferably
    /// `https://id.gs1.org/414/<gln>`. Required for `battery`; optional (warned when not
    /// ISO/IEC 15459) for `generic`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1, max = 256))]
    pub facility_id: Option<String>,
    /// Customs commodity code: HS (6 digits), CN (8) or TARIC (10), without spaces or dots,
    /// e.g. `85076000`. Optional; a `battery` passport without one gets a warning.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(pattern(r"^[0-9]{6}([0-9]{2}([0-9]{2})?)?$"))]
    pub commodity_code: Option<String>,
    /// The sector data model (and its version) that `data` follows.
    pub sector: SectorReference,
    /// Component passports, each pinned by the SHA-256 of its bytes (default: none).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(max = 1000))]
    pub components: Option<Vec<ComponentReference>>,
    /// The sector data: a JSON object, validated against the JSON Schema of the sector
    /// version named in `sector` (see `x-hallmark-sectors`: for `battery` 1.2.0 the seven
    /// BatteryPass submodels, every one required), then by the sector's plugin, whose
    /// findings a validation report carries.
    pub data: Map<String, Value>,
}

/// GS1 keys of the product: GTIN (AI 01), lot (AI 10), serial (AI 21).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct UniqueProductIdentifier {
    /// GTIN-8, -12, -13 or -14 with a valid check digit.
    #[schemars(pattern(r"^([0-9]{8}|[0-9]{12,14})$"))]
    pub gtin: String,
    /// Lot / batch number: 1 to 20 characters of GS1 character set 82.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(pattern(r#"^[A-Za-z0-9!"%&'()*+,\-./:;<=>?_]{1,20}$"#))]
    pub lot: Option<String>,
    /// Serial number: 1 to 20 characters of GS1 character set 82.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(pattern(r#"^[A-Za-z0-9!"%&'()*+,\-./:;<=>?_]{1,20}$"#))]
    pub serial: Option<String>,
}

/// Which sector data model, at which version.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SectorReference {
    /// Sector id, e.g. `battery`.
    #[schemars(length(min = 1, max = 256))]
    pub id: String,
    /// Version of the sector's schema, e.g. `1.2.0`.
    #[schemars(length(min = 1, max = 256))]
    pub schema_version: String,
}

/// A component's passport (or other document), pinned by the SHA-256 of its bytes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ComponentReference {
    /// Absolute URI (a scheme, no whitespace; at most 2048 characters).
    #[schemars(length(min = 1, max = 2048))]
    pub uri: String,
    /// SHA-256 of the referenced bytes, lowercase hex.
    #[schemars(pattern(r"^[0-9a-f]{64}$"))]
    pub sha256: String,
}

/// The body of a status change (`suspend`, `archive`, `deactivate`) or of a signing key's
/// revocation. `reason` is required (non-empty once trimmed) to suspend, deactivate and
/// revoke, optional to archive.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Reason {
    /// Why, for the audit log and (suspend, deactivate) the passport's public status; at
    /// most 1000 characters.
    #[serde(default)]
    #[schemars(length(max = 1000))]
    pub reason: Option<String>,
}

/// The body of `POST /api/v1/api-keys`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct NewApiKey {
    /// What the key may do: `read` (GETs), `write` (passport writes), `admin` (keys).
    #[schemars(schema_with = "super::wire::scope")]
    pub scope: String,
    /// A name for people (1 to 200 characters once trimmed).
    #[schemars(length(min = 1, max = 200))]
    pub label: String,
    /// When the key stops working (RFC 3339, in the future); never, if absent.
    #[serde(default)]
    #[schemars(extend("format" = "date-time"))]
    pub expires_at: Option<String>,
}

/// The body of `POST /api/v1/links`: a link to attach to a product identifier — the GTIN
/// alone (model level), with a lot (batch level) or with a serial (item level; not both) —,
/// served in the resolver's linkset entry of that level. Unknown members are refused.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct NewLink {
    /// GTIN-8, -12, -13 or -14 with a valid check digit.
    #[schemars(pattern(r"^([0-9]{8}|[0-9]{12,14})$"))]
    pub gtin: String,
    /// Lot / batch number (batch level): 1 to 20 characters of GS1 character set 82.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(pattern(r#"^[A-Za-z0-9!"%&'()*+,\-./:;<=>?_]{1,20}$"#))]
    pub lot: Option<String>,
    /// Serial number (item level): 1 to 20 characters of GS1 character set 82.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(pattern(r#"^[A-Za-z0-9!"%&'()*+,\-./:;<=>?_]{1,20}$"#))]
    pub serial: Option<String>,
    /// A GS1 Web Vocabulary link type (`gs1:instructions`, or in any GS1 namespace, e.g.
    /// `https://gs1.org/voc/safetyInfo`) or one of Hallmark's (`hallmark:{name}`); never one
    /// the node serves itself (`gs1:defaultLink`, `gs1:defaultLinkMulti`, `gs1:dpp`,
    /// `describedby`, `hallmark:logInclusion`, `linkset`).
    #[schemars(length(min = 1, max = 512))]
    pub link_type: String,
    /// The target: an absolute `https://` URL, RFC 3986 characters only, no user info.
    #[schemars(length(min = 9, max = 2048), pattern(r"^https://"))]
    pub href: String,
    /// What the target is, for people (1 to 200 characters once trimmed, no control
    /// characters).
    #[schemars(length(min = 1, max = 200))]
    pub title: String,
    /// The target's media type, `type/subtype` (e.g. `application/pdf`), if known.
    #[serde(rename = "type", default, skip_serializing_if = "Option::is_none")]
    #[schemars(pattern(r"^[A-Za-z]+/[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]*$"))]
    pub media_type: Option<String>,
    /// The target's languages, each `ll` or `ll-CC` (e.g. `en`, `de-AT`), at most 16.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(length(max = 16), inner(pattern(r"^[a-z]{2}(-[A-Z]{2})?$")))]
    pub hreflang: Vec<String>,
}

/// The body of `POST /api/v1/passports/batch`: up to 1,000 submissions, each with the
/// economic operator's own reference, made the latest content of the passport that
/// reference names (created, updated, published or left unchanged; docs/import.md).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PassportBatch {
    /// The import this batch belongs to (a UUID the client makes, the same for every
    /// batch of one run): the node counts its outcomes for `POST
    /// /api/v1/imports/{id}/finish`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub import_id: Option<Uuid>,
    /// Publish each created or changed item (and pending drafts already holding the
    /// content) as its next version.
    #[serde(default)]
    pub publish: bool,
    /// Decide and check only: nothing is written (results `create`, `update`, `publish`,
    /// `unchanged`, `failed`).
    #[serde(default)]
    pub dry_run: bool,
    /// The items, at most 1,000, each `externalRef` at most once.
    #[schemars(length(max = 1000))]
    pub items: Vec<BatchItem>,
}

/// One item of a batch.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct BatchItem {
    /// The economic operator's reference for the passport (e.g. its ERP key): 1 to 256
    /// characters, no control characters, no surrounding whitespace; unique per economic
    /// operator and naming one passport for life.
    #[schemars(length(min = 1, max = 256))]
    pub external_ref: String,
    /// The submission, as `POST /api/v1/passports` takes it. An item that does not read
    /// fails alone.
    #[schemars(with = "PassportSubmission")]
    pub passport: Value,
}

/// Outcome counts (`{"created","updated","published","unchanged","failed"}`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct BatchCounts {
    /// New passports.
    pub created: u64,
    /// Changed passports (a draft edited or a version started; published with `publish`).
    pub updated: u64,
    /// Pending drafts already holding the content, published.
    pub published: u64,
    /// Items whose content was the latest already.
    pub unchanged: u64,
    /// Items refused (nothing written for them).
    pub failed: u64,
}

/// The body of `POST /api/v1/imports/{id}/finish`: the end of an import run, as the client
/// read its input (never the input itself).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ImportFinish {
    /// The input's file name without its directory (1 to 256 characters).
    #[schemars(length(min = 1, max = 256))]
    pub file_name: String,
    /// The input's size in bytes.
    pub bytes: u64,
    /// SHA-256 of the input's bytes, lowercase hex.
    #[schemars(pattern(r"^[0-9a-f]{64}$"))]
    pub sha256: String,
    /// Rows read (header excluded).
    pub rows: u64,
    /// Whether the run stopped before the end of its input (a re-run resumes it).
    #[serde(default)]
    pub interrupted: bool,
    /// The client's own counts: recorded when the node did not count this import (it
    /// restarted meanwhile, or another node answered its batches).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub counts: Option<BatchCounts>,
}
