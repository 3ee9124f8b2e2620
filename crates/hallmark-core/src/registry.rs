//! EU DPP registry submissions (ESPR Art. 13; Implementing Regulation (EU) 2026/1778), as
//! pure data: the export file the operator uploads (at most [`MAX_ENTRIES`] passport
//! versions, the registry's upload limit) and the registry's answers the operator records.
//!
//! Both have a committed JSON Schema (draft 2020-12, `crates/hallmark-core/schemas/`,
//! [`EXPORT_SCHEMA`] and [`RECORD_SCHEMA`]); a file is checked against its schema before
//! it leaves the node ([`ExportFile::check`]) and before any answer is read
//! ([`RecordFile::parse`]). docs/registry.md explains every field.
//!
//! What the registry's hash covers is one decision, kept here: [`DPP_MEDIA_TYPE`] — the
//! SHA-256 of the exact bytes of the version's public Data Integrity credential, as the
//! version URL serves them (its `ETag`) and as the version's `passport.published` log leaf
//! commits to (`credentialSha256.public`). A verifier can check it without the node.

use crate::jcs::{self, JcsError};
use crate::passport::party::{Classified, PartyField, PartyId};
use crate::passport::{Granularity, PassportError, PassportId, ProductIdentifier};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::sync::LazyLock;
use thiserror::Error;
use uuid::Uuid;

/// The `schemaVersion` of both files.
pub const SCHEMA_VERSION: &str = "1.0.0";
/// The most entries of one export file (and registrations of one record file).
pub const MAX_ENTRIES: usize = 100;
/// The media type of the registered bytes: the public Data Integrity credential.
pub const DPP_MEDIA_TYPE: &str = "application/vc+ld+json";
/// The largest proof of registration kept (its bytes, as stored).
pub const MAX_PROOF_BYTES: usize = 64 * 1024;
/// The longest registration id.
pub const MAX_REGISTRATION_ID_CHARS: usize = 256;
/// The export file's JSON Schema.
pub const EXPORT_SCHEMA: &str = include_str!("../schemas/registry-export.schema.json");
/// The record file's JSON Schema.
pub const RECORD_SCHEMA: &str = include_str!("../schemas/registry-record.schema.json");

/// Why an export or record file, or one of its values, is not accepted.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum RegistryError {
    /// The file does not match its JSON Schema (each message names the instance path).
    #[error("the file does not match the {schema} schema: {}", .messages.join("; "))]
    Schema {
        /// `registry-export` or `registry-record`.
        schema: &'static str,
        /// One line per violation (at most 20).
        messages: Vec<String>,
    },
    /// Not JSON, or not strict JSON (duplicate names, …).
    #[error("the file is not valid JSON: {0}")]
    Json(#[from] JcsError),
    /// A hash that is not a SHA-256 in hex.
    #[error("`hash` must be 64 hexadecimal digits, optionally prefixed by `sha256:` (got `{0}`)")]
    Hash(String),
    /// A proof of registration that is empty or too large.
    #[error("`proofOfRegistration` {0}")]
    Proof(String),
    /// A registration id that is empty, too long or has control characters.
    #[error("`registrationId` {0}")]
    RegistrationId(String),
    /// The embedded schema does not compile (a build defect).
    #[error("the {0} schema does not compile: {1}")]
    SchemaDefect(&'static str, String),
}

/// One export file: the registration data of up to [`MAX_ENTRIES`] passport versions.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ExportFile {
    /// Always [`SCHEMA_VERSION`].
    pub schema_version: String,
    /// The export run; every part of one run carries it.
    pub export_id: Uuid,
    /// This file's number in the run, from 1.
    pub part: u32,
    /// When the file was made (RFC 3339).
    pub generated_at: String,
    /// The node that issued the passports.
    pub node: NodeRef,
    /// The passport versions, in passport id order.
    pub entries: Vec<Entry>,
}

/// The issuing node.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct NodeRef {
    /// Its `did:web`.
    pub did: String,
    /// Its public base URL.
    pub public_base_url: String,
}

/// A passport's sector and schema version.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SectorRef {
    /// The sector id (`battery`, `generic`).
    pub id: String,
    /// The sector's schema version.
    pub schema_version: String,
}

/// One passport version to register.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Entry {
    /// `urn:uuid:…`.
    pub passport_id: String,
    /// Its sector.
    pub sector: SectorRef,
    /// The unique product identifier at the passport's granularity.
    pub unique_product_identifier: ProductRef,
    /// Model, batch or item.
    pub granularity: Granularity,
    /// The model (GTIN alone) of a batch or item passport.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub model_identifier: Option<ProductRef>,
    /// The batch (GTIN + lot) of an item passport that names a lot.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub batch_identifier: Option<ProductRef>,
    /// The economic operator (ISO/IEC 15459).
    pub unique_operator_identifier: PartyRef,
    /// The facility (ISO/IEC 15459), when the passport names one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unique_facility_identifier: Option<PartyRef>,
    /// HS (6), CN (8) or TARIC (10) digits.
    pub commodity_code: String,
    /// Where the back-up copy of this version is.
    pub backup_link: String,
    /// The passport's URL.
    pub dpp_url: String,
    /// The EN 18222 read of this passport.
    pub dpp_api_endpoint: String,
    /// The version registered.
    pub dpp_version: u32,
    /// The immutable URL of that version.
    pub dpp_version_url: String,
    /// Always [`DPP_MEDIA_TYPE`].
    pub dpp_media_type: String,
    /// SHA-256 (hex) of the version's public credential bytes.
    pub dpp_sha256: String,
    /// The version's signed `updatedAt`.
    pub published_at: String,
    /// The registration of the passport's latest registered earlier version, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub previous_registration: Option<PreviousRegistration>,
}

/// A GS1 product identifier as registered.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ProductRef {
    /// Its GS1 Digital Link URI under the node's public base URL (as on the QR code).
    pub digital_link: String,
    /// `(01)…[(10)…][(21)…]`.
    pub element_string: String,
    /// GTIN-14.
    pub gtin: String,
    /// Lot (AI 10).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lot: Option<String>,
    /// Serial (AI 21).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub serial: Option<String>,
    /// The live passport at this level, when there is one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub passport_id: Option<String>,
}

impl ProductRef {
    /// `product` as registered, its Digital Link under `base` (the public base URL).
    pub fn of(
        product: &ProductIdentifier,
        base: &str,
        passport: Option<&PassportId>,
    ) -> Result<Self, PassportError> {
        Ok(ProductRef {
            digital_link: product.digital_link(base)?,
            element_string: product.element_string(),
            gtin: product.gtin().as_gtin14().to_owned(),
            lot: product.lot().map(str::to_owned),
            serial: product.serial().map(str::to_owned),
            passport_id: passport.map(ToString::to_string),
        })
    }
}

/// The identifier scheme of a [`PartyRef`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum PartyScheme {
    /// A GS1 Global Location Number (GS1 is the issuing agency, codes `0`–`9`).
    #[serde(rename = "gs1-gln")]
    Gs1Gln,
    /// Another ISO/IEC 15459 issuing agency's identifier.
    #[serde(rename = "iso15459")]
    Iso15459,
}

/// An ISO/IEC 15459 operator or facility identifier as registered.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PartyRef {
    /// GS1 GLN or another agency.
    pub scheme: PartyScheme,
    /// The ISO/IEC 15459 issuing agency code (GS1: the GLN's first digit).
    pub issuing_agency: String,
    /// The canonical value (a GLN's 13 digits).
    pub value: String,
    /// Its resolvable URI (GS1: `https://id.gs1.org/417|414/<gln>`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub uri: Option<String>,
    /// As the passport carries it.
    pub as_written: String,
}

impl PartyRef {
    /// `as_written` (the passport's operator or facility identifier) as registered, or why
    /// it cannot be: it is not an ISO/IEC 15459 identifier (an EORI number, a free string),
    /// or a malformed one.
    pub fn of(as_written: &str, field: PartyField) -> Result<PartyRef, String> {
        match PartyId::classify(as_written, field) {
            Classified::Iso15459(p) => Ok(PartyRef {
                scheme: if p.scheme() == "gs1-gln" {
                    PartyScheme::Gs1Gln
                } else {
                    PartyScheme::Iso15459
                },
                issuing_agency: p.issuing_agency().to_owned(),
                value: p.value().to_owned(),
                uri: p.uri(),
                as_written: as_written.to_owned(),
            }),
            Classified::NotIso15459(_) => Err(format!(
                "`{}` {as_written:?} is not an ISO/IEC 15459 identifier (e.g. a GS1 GLN); the \
                 registry needs one",
                field.wire_name()
            )),
            Classified::Malformed(problem) => Err(problem.to_string()),
        }
    }
}

/// The registration of an earlier version.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PreviousRegistration {
    /// That version.
    pub version: u32,
    /// The registry's id for it.
    pub registration_id: String,
}

static EXPORT_VALIDATOR: LazyLock<Result<jsonschema::Validator, String>> =
    LazyLock::new(|| compile(EXPORT_SCHEMA));
static RECORD_VALIDATOR: LazyLock<Result<jsonschema::Validator, String>> =
    LazyLock::new(|| compile(RECORD_SCHEMA));

fn compile(schema: &str) -> Result<jsonschema::Validator, String> {
    let schema: Value = serde_json::from_str(schema).map_err(|e| e.to_string())?;
    jsonschema::draft202012::options()
        .should_validate_formats(true)
        .build(&schema)
        .map_err(|e| e.to_string())
}

fn check_against(
    name: &'static str,
    validator: &'static LazyLock<Result<jsonschema::Validator, String>>,
    value: &Value,
) -> Result<(), RegistryError> {
    let validator = validator
        .as_ref()
        .map_err(|e| RegistryError::SchemaDefect(name, e.clone()))?;
    let messages: Vec<String> = validator
        .iter_errors(value)
        .take(20)
        .map(|e| {
            let at = e.instance_path().to_string();
            let at = if at.is_empty() { "/".to_owned() } else { at };
            format!("{at}: {e}")
        })
        .collect();
    if messages.is_empty() {
        Ok(())
    } else {
        Err(RegistryError::Schema {
            schema: name,
            messages,
        })
    }
}

impl ExportFile {
    /// Checks the file against [`EXPORT_SCHEMA`] (entry count included).
    pub fn check(&self) -> Result<(), RegistryError> {
        let value = serde_json::to_value(self).map_err(|e| RegistryError::Schema {
            schema: "registry-export",
            messages: vec![e.to_string()],
        })?;
        check_against("registry-export", &EXPORT_VALIDATOR, &value)
    }
}

/// A file of the registry's answers to record.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct RecordFile {
    /// Always [`SCHEMA_VERSION`].
    pub schema_version: String,
    /// 1 to [`MAX_ENTRIES`] answers.
    pub registrations: Vec<RegistrationAnswer>,
}

impl RecordFile {
    /// Reads a record file: strict JSON, checked against [`RECORD_SCHEMA`], then typed.
    pub fn parse(bytes: &[u8]) -> Result<RecordFile, RegistryError> {
        Self::from_value(jcs::parse_strict(bytes)?)
    }

    /// A record file from JSON already read (strictly): checked against [`RECORD_SCHEMA`],
    /// then typed.
    pub fn from_value(value: Value) -> Result<RecordFile, RegistryError> {
        check_against("registry-record", &RECORD_VALIDATOR, &value)?;
        serde_json::from_value(value).map_err(|e| RegistryError::Schema {
            schema: "registry-record",
            messages: vec![e.to_string()],
        })
    }
}

/// One answer of the registry for one passport version.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct RegistrationAnswer {
    /// The passport (`urn:uuid:…` or the bare UUID).
    pub passport_id: String,
    /// Its version.
    pub dpp_version: u32,
    /// The registry's id for it.
    pub registration_id: String,
    /// The proof of registration, as the registry gave it.
    pub proof_of_registration: Value,
    /// The hash the proof carries.
    pub hash: String,
}

/// How a proof of registration is kept.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ProofMediaType {
    /// A JSON value, kept as its RFC 8785 bytes.
    Json,
    /// A string, kept as UTF-8 text.
    Text,
}

impl ProofMediaType {
    /// Its media type.
    pub const fn as_str(self) -> &'static str {
        match self {
            ProofMediaType::Json => "application/json",
            ProofMediaType::Text => "text/plain",
        }
    }

    /// From a stored media type.
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "application/json" => Some(ProofMediaType::Json),
            "text/plain" => Some(ProofMediaType::Text),
            _ => None,
        }
    }
}

impl std::fmt::Display for ProofMediaType {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A proof of registration as stored: bytes and how to read them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Proof {
    /// The stored bytes.
    pub bytes: Vec<u8>,
    /// Their media type.
    pub media_type: ProofMediaType,
}

impl Proof {
    /// A proof as given: a string is kept as its UTF-8 text; any other JSON value as its
    /// RFC 8785 bytes. Refused: an empty string, `null`, more than [`MAX_PROOF_BYTES`].
    pub fn of(value: &Value) -> Result<Proof, RegistryError> {
        let (bytes, media_type) = match value {
            Value::Null => return Err(RegistryError::Proof("must not be null".into())),
            Value::String(s) if s.trim().is_empty() => {
                return Err(RegistryError::Proof("must not be empty".into()))
            }
            Value::String(s) => (s.as_bytes().to_vec(), ProofMediaType::Text),
            other => (jcs::canonicalize(other)?, ProofMediaType::Json),
        };
        if bytes.len() > MAX_PROOF_BYTES {
            return Err(RegistryError::Proof(format!(
                "is {} bytes; at most {MAX_PROOF_BYTES} are kept",
                bytes.len()
            )));
        }
        Ok(Proof { bytes, media_type })
    }

    /// The proof as JSON again (a string for text).
    pub fn to_value(&self) -> Value {
        match self.media_type {
            ProofMediaType::Text => Value::String(String::from_utf8_lossy(&self.bytes).into()),
            ProofMediaType::Json => serde_json::from_slice(&self.bytes)
                .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&self.bytes).into())),
        }
    }
}

/// A hash as the registry may write it: 64 hex digits in either case, optionally prefixed
/// `sha256:`.
pub fn parse_hash(s: &str) -> Result<[u8; 32], RegistryError> {
    let hex_part = s.trim().strip_prefix("sha256:").unwrap_or(s.trim());
    let mut out = [0u8; 32];
    if hex_part.len() != 64 || hex::decode_to_slice(hex_part, &mut out).is_err() {
        return Err(RegistryError::Hash(s.chars().take(80).collect()));
    }
    Ok(out)
}

/// A registration id: 1 to [`MAX_REGISTRATION_ID_CHARS`] characters, no control
/// characters, no leading or trailing space.
pub fn check_registration_id(s: &str) -> Result<(), RegistryError> {
    if s.is_empty() {
        return Err(RegistryError::RegistrationId("must not be empty".into()));
    }
    if s.chars().count() > MAX_REGISTRATION_ID_CHARS {
        return Err(RegistryError::RegistrationId(format!(
            "is limited to {MAX_REGISTRATION_ID_CHARS} characters"
        )));
    }
    if s.chars().any(char::is_control) || s.trim() != s {
        return Err(RegistryError::RegistrationId(
            "must not contain control characters or leading or trailing spaces".into(),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;
    use serde_json::json;

    fn sample_entry(i: u32) -> Entry {
        Entry {
            passport_id: format!("urn:uuid:0190f0a1-0000-7000-8000-{i:012}"),
            sector: SectorRef {
                id: "battery".into(),
                schema_version: "1.2.0".into(),
            },
            unique_product_identifier: ProductRef {
                digital_link: "https://dpp.example.com/01/04012345000016/21/SN1".into(),
                element_string: "(01)04012345000016(21)SN1".into(),
                gtin: "04012345000016".into(),
                lot: None,
                serial: Some("SN1".into()),
                passport_id: None,
            },
            granularity: Granularity::Item,
            model_identifier: Some(ProductRef {
                digital_link: "https://dpp.example.com/01/04012345000016".into(),
                element_string: "(01)04012345000016".into(),
                gtin: "04012345000016".into(),
                lot: None,
                serial: None,
                passport_id: None,
            }),
            batch_identifier: None,
            unique_operator_identifier: PartyRef {
                scheme: PartyScheme::Gs1Gln,
                issuing_agency: "4".into(),
                value: "4012345000016".into(),
                uri: Some("https://id.gs1.org/417/4012345000016".into()),
                as_written: "urn:gln:4012345000016".into(),
            },
            unique_facility_identifier: None,
            commodity_code: "85076000".into(),
            backup_link: "https://backup.example.eu/dpp/x/versions/1".into(),
            dpp_url: "https://dpp.example.com/passports/x".into(),
            dpp_api_endpoint: "https://dpp.example.com/v1/dpps/x".into(),
            dpp_version: 1,
            dpp_version_url: "https://dpp.example.com/passports/x/versions/1".into(),
            dpp_media_type: DPP_MEDIA_TYPE.into(),
            dpp_sha256: "ab".repeat(32),
            published_at: "2026-12-06T12:00:00Z".into(),
            previous_registration: None,
        }
    }

    fn file(n: u32) -> ExportFile {
        ExportFile {
            schema_version: SCHEMA_VERSION.into(),
            export_id: Uuid::from_u128(7),
            part: 1,
            generated_at: "2026-12-06T12:00:00Z".into(),
            node: NodeRef {
                did: "did:web:dpp.example.com".into(),
                public_base_url: "https://dpp.example.com".into(),
            },
            entries: (0..n).map(sample_entry).collect(),
        }
    }

    #[test]
    fn an_export_file_of_one_to_a_hundred_entries_matches_the_schema() {
        file(1).check().expect("one entry");
        file(100).check().expect("a hundred entries");
    }

    #[test]
    fn the_schema_refuses_what_the_registry_would_refuse() {
        let err = file(101).check().expect_err("101 entries");
        assert!(err.to_string().contains("/entries"), "{err}");
        assert!(file(0).check().is_err(), "no entries");

        let mut f = file(1);
        f.entries[0].model_identifier = None;
        let err = f.check().expect_err("item without its model");
        assert!(err.to_string().contains("modelIdentifier"), "{err}");

        let mut f = file(1);
        f.entries[0].commodity_code = "8507.60".into();
        assert!(f.check().is_err(), "dotted commodity code");

        let mut f = file(1);
        f.entries[0].unique_operator_identifier.value = "401234500001".into();
        assert!(f.check().is_err(), "a GLN of 12 digits");

        let mut f = file(1);
        f.entries[0].unique_operator_identifier.uri = None;
        assert!(f.check().is_err(), "a GLN without its URI");

        let mut f = file(1);
        let op = &mut f.entries[0].unique_operator_identifier;
        op.scheme = PartyScheme::Iso15459;
        op.issuing_agency = "UN".into();
        op.value = "123456789".into();
        op.uri = None;
        f.check().expect("another agency: no URI needed");

        let mut f = file(1);
        f.entries[0].dpp_sha256 = "AB".repeat(32);
        assert!(f.check().is_err(), "upper-case hash");
    }

    #[test]
    fn record_files_are_strict_json_checked_against_their_schema() {
        let ok = json!({"schemaVersion": "1.0.0", "registrations": [{
            "passportId": "urn:uuid:0190f0a1-0000-7000-8000-000000000001",
            "dppVersion": 1, "registrationId": "EU-DPP-1",
            "proofOfRegistration": {"receipt": "x"}, "hash": format!("sha256:{}", "AB".repeat(32))
        }]});
        let parsed = RecordFile::parse(ok.to_string().as_bytes()).expect("valid");
        assert_eq!(parsed.registrations[0].registration_id, "EU-DPP-1");

        let mut extra = ok.clone();
        extra["registrations"][0]["note"] = json!("x");
        let err = RecordFile::parse(extra.to_string().as_bytes()).expect_err("unknown member");
        assert!(err.to_string().contains("registry-record"), "{err}");

        let dup = br#"{"schemaVersion":"1.0.0","schemaVersion":"1.0.0","registrations":[]}"#;
        assert!(matches!(
            RecordFile::parse(dup),
            Err(RegistryError::Json(_))
        ));
        let mut bad_hash = ok;
        bad_hash["registrations"][0]["hash"] = json!("abc");
        assert!(RecordFile::parse(bad_hash.to_string().as_bytes()).is_err());
    }

    #[test]
    fn operators_and_facilities_register_in_their_canonical_forms() {
        let op = PartyRef::of("urn:gln:4012345000016", PartyField::Operator).unwrap();
        assert_eq!(op.scheme, PartyScheme::Gs1Gln);
        assert_eq!(op.value, "4012345000016");
        assert_eq!(op.issuing_agency, "4");
        assert_eq!(
            op.uri.as_deref(),
            Some("https://id.gs1.org/417/4012345000016")
        );
        assert_eq!(op.as_written, "urn:gln:4012345000016");
        let fac =
            PartyRef::of("https://id.gs1.org/414/4012345000016", PartyField::Facility).unwrap();
        assert_eq!(
            fac.uri.as_deref(),
            Some("https://id.gs1.org/414/4012345000016")
        );
        let eori = PartyRef::of("urn:eori:DE123456789012345", PartyField::Operator).unwrap_err();
        assert!(eori.contains("not an ISO/IEC 15459"), "{eori}");
        let bad = PartyRef::of("urn:gln:4012345000017", PartyField::Operator).unwrap_err();
        assert!(bad.contains("check digit"), "{bad}");
    }

    #[test]
    fn hashes_parse_in_either_case_with_or_without_a_prefix() {
        let lower = parse_hash(&"ab".repeat(32)).expect("lower");
        assert_eq!(lower, [0xab; 32]);
        assert_eq!(
            parse_hash(&format!("sha256:{}", "AB".repeat(32))).unwrap(),
            lower
        );
        for bad in ["", "ab", &"zz".repeat(32), &"ab".repeat(33), "sha512:00"] {
            assert!(parse_hash(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn proofs_keep_text_as_text_and_json_as_canonical_bytes() {
        let text = Proof::of(&json!("signed receipt 42")).unwrap();
        assert_eq!(text.media_type, ProofMediaType::Text);
        assert_eq!(text.bytes, b"signed receipt 42");
        assert_eq!(text.to_value(), json!("signed receipt 42"));

        let json = Proof::of(&json!({"b": 1, "a": [true]})).unwrap();
        assert_eq!(json.media_type, ProofMediaType::Json);
        assert_eq!(json.bytes, br#"{"a":[true],"b":1}"#);
        assert_eq!(json.to_value(), json!({"a": [true], "b": 1}));

        assert!(Proof::of(&json!(null)).is_err());
        assert!(Proof::of(&json!("  ")).is_err());
        assert!(Proof::of(&json!("x".repeat(MAX_PROOF_BYTES + 1))).is_err());
    }

    #[test]
    fn registration_ids_are_printable_and_bounded() {
        check_registration_id("EU-DPP-2026-000001").unwrap();
        for bad in ["", " x", "x\n", &"x".repeat(257)] {
            assert!(check_registration_id(bad).is_err(), "{bad:?}");
        }
    }
}
