//! The EU DPP registry's admin routes (docs/registry.md): `GET /api/v1/registry/export`,
//! `POST /api/v1/registry/registrations`, `GET /api/v1/passports/{id}/registrations`
//! ([`crate::service::registry`]), and the public list of a passport's registrations.

use super::Timestamp;
use crate::service::registry::{ExportPage, RecordOutcome, Skipped};
use hallmark_core::registry::Proof;
use hallmark_store::RegistrationRecord;
use schemars::JsonSchema;
use serde::Serialize;
use serde_json::Value;
use sha2::{Digest, Sha256};
use uuid::Uuid;

/// A pending passport that cannot be registered as it is.
#[derive(Debug, Clone, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
#[schemars(deny_unknown_fields)]
pub struct RegistrySkipped {
    /// `urn:uuid:…`.
    pub passport_id: String,
    /// Its current version.
    pub version: u32,
    /// Every reason (an identifier that is not ISO/IEC 15459, no commodity code, …).
    pub reasons: Vec<String>,
}

/// `GET /api/v1/registry/export`: one page of the export.
#[derive(Debug, Clone, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
#[schemars(deny_unknown_fields)]
pub struct RegistryExport {
    /// The export run (pass it back as `exportId` with the next `part`).
    pub export_id: Uuid,
    /// The export file of this page (1–100 entries; schema `registry-export.schema.json`),
    /// `null` when no pending passport of this page can be registered.
    #[schemars(with = "Option<serde_json::Map<String, Value>>")]
    pub file: Option<Value>,
    /// Pending passports of this page that cannot be registered yet, with every reason.
    pub skipped: Vec<RegistrySkipped>,
    /// The cursor of the next page (`after=`), `null` on the last page.
    pub next: Option<Uuid>,
}

impl TryFrom<ExportPage> for RegistryExport {
    type Error = serde_json::Error;

    fn try_from(page: ExportPage) -> Result<Self, Self::Error> {
        Ok(RegistryExport {
            export_id: page.export_id,
            file: page.file.as_ref().map(serde_json::to_value).transpose()?,
            skipped: page.skipped.iter().map(RegistrySkipped::from).collect(),
            next: page.next.map(|n| n.uuid()),
        })
    }
}

impl From<&Skipped> for RegistrySkipped {
    fn from(s: &Skipped) -> Self {
        RegistrySkipped {
            passport_id: s.passport.to_string(),
            version: s.version,
            reasons: s.reasons.clone(),
        }
    }
}

/// A recorded registration of a passport version.
#[derive(Debug, Clone, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
#[schemars(deny_unknown_fields)]
pub struct RegistrationInfo {
    /// `urn:uuid:…`.
    pub passport_id: String,
    /// The version registered.
    pub dpp_version: u32,
    /// The registry's id for it.
    pub registration_id: String,
    /// SHA-256 (hex) of the version's public credential: the registry's hash.
    pub dpp_sha256: String,
    /// SHA-256 (hex) of the proof of registration's stored bytes.
    pub proof_sha256: String,
    /// The proof of registration as given (admin answers only).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schemars(with = "Option<Value>")]
    pub proof_of_registration: Option<Value>,
    /// When it was recorded.
    pub recorded_at: Timestamp,
    /// The transparency-log index of its `registry.recorded` event.
    pub log_index: u64,
}

impl RegistrationInfo {
    /// A registration as the admin API shows it (`with_proof`) or the public (without).
    pub fn of(r: &RegistrationRecord, with_proof: bool) -> Self {
        let proof = with_proof.then(|| {
            Proof {
                bytes: r.proof.clone(),
                media_type: r.proof_media_type,
            }
            .to_value()
        });
        RegistrationInfo {
            passport_id: r.passport.to_string(),
            dpp_version: r.version,
            registration_id: r.registration_id.clone(),
            dpp_sha256: hex::encode(r.dpp_sha256),
            proof_sha256: hex::encode(Sha256::digest(&r.proof)),
            proof_of_registration: proof,
            recorded_at: Timestamp(r.recorded_at),
            log_index: r.seq.saturating_sub(1),
        }
    }
}

/// One answer's outcome in `POST /api/v1/registry/registrations`.
#[derive(Debug, Clone, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
#[schemars(deny_unknown_fields)]
pub struct RecordedRegistration {
    /// `recorded` (written now) or `unchanged` (the same registration was recorded before).
    #[schemars(schema_with = "outcome")]
    pub outcome: &'static str,
    /// The registration as stored.
    pub registration: RegistrationInfo,
}

fn outcome(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
    schemars::json_schema!({"type": "string", "enum": ["recorded", "unchanged"]})
}

/// `POST /api/v1/registry/registrations`: one result per answer, in the file's order.
#[derive(Debug, Clone, Serialize, JsonSchema)]
#[schemars(deny_unknown_fields)]
pub struct RegistrationsRecorded {
    /// The answers' outcomes.
    pub results: Vec<RecordedRegistration>,
}

impl From<&[RecordOutcome]> for RegistrationsRecorded {
    fn from(outcomes: &[RecordOutcome]) -> Self {
        RegistrationsRecorded {
            results: outcomes
                .iter()
                .map(|o| RecordedRegistration {
                    outcome: if o.created { "recorded" } else { "unchanged" },
                    registration: RegistrationInfo::of(&o.registration, true),
                })
                .collect(),
        }
    }
}

/// A passport's registrations (admin: with proofs; public: without).
#[derive(Debug, Clone, Serialize, JsonSchema)]
#[schemars(deny_unknown_fields)]
pub struct RegistrationList {
    /// Oldest version first.
    pub items: Vec<RegistrationInfo>,
}
