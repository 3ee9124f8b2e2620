//! The admin API's bodies as Rust types: what each route takes ([`requests`]) and answers
//! ([`responses`]), with JSON Schemas derived from the same types (`schemars`), so the admin
//! `/openapi.json` cannot drift from what the handlers read and write.
//!
//! - [`operations`] maps every row of [`crate::routes::admin::ROUTES`] to its request body,
//!   success status and response body, and collects the schemas as OpenAPI components
//!   (`#/components/schemas/<Name>`, JSON Schema 2020-12, the OpenAPI 3.1 dialect).
//! - [`labels`] is `GET /api/v1/labels`'s answer (published passports' Digital Link URIs
//!   and element strings, for `hallmark labels`).
//! - [`example`] is the example battery draft of the document, composed at run time from the
//!   demo's embedded BatteryPass samples (`crates/hallmark/demo/`), the data the tests and
//!   `hallmark demo` publish.
//!
//! Handlers build the response types and answer them with [`reply`]. The passport
//! submission is still parsed by hallmark-core's `PassportDraft` (typed errors naming the
//! field); [`requests::PassportSubmission`] is its schema, and a unit test holds the two
//! together. `tests/openapi_http.rs` validates real requests and responses of every admin
//! route against the served document.

pub mod example;
pub mod labels;
pub mod operations;
pub mod readers;
pub mod registry;
pub mod requests;
pub mod responses;
#[cfg(test)]
mod tests;
pub mod vc;
pub mod webhooks;

use crate::problem::ApiError;
use axum::Json;
use schemars::{JsonSchema, Schema, SchemaGenerator};
use serde::{Serialize, Serializer};
use serde_json::Value;
use std::borrow::Cow;
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

/// A handler's JSON answer, serialised from its response type. It goes through
/// `serde_json::Value`, whose objects keep their members in sorted order in this build, so
/// the bytes are those the node wrote before the types existed, whatever the field order of
/// a type (or a `#[serde(flatten)]`) is.
pub fn reply<T: Serialize>(body: &T) -> Result<Json<Value>, ApiError> {
    serde_json::to_value(body).map(Json).map_err(|e| {
        tracing::error!(error = %e, "a response body did not serialise");
        ApiError::Internal
    })
}

/// An RFC 3339 timestamp in a response. One that cannot be formatted (a year outside
/// 0..=9999, which the store's rows never hold) fails the answer — a logged 500 — rather than
/// becoming `null`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Timestamp(pub OffsetDateTime);

impl Serialize for Timestamp {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self.0.format(&Rfc3339) {
            Ok(s) => serializer.serialize_str(&s),
            Err(e) => Err(serde::ser::Error::custom(format!(
                "timestamp not representable in RFC 3339: {e}"
            ))),
        }
    }
}

impl JsonSchema for Timestamp {
    fn inline_schema() -> bool {
        true
    }

    fn schema_name() -> Cow<'static, str> {
        "Timestamp".into()
    }

    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        schemars::json_schema!({ "type": "string", "format": "date-time" })
    }
}

/// The schema of a string that is one of `names`.
fn names<'a>(names: impl IntoIterator<Item = &'a str>) -> Schema {
    let names: Vec<Value> = names.into_iter().map(Value::from).collect();
    schemars::json_schema!({ "type": "string", "enum": names })
}

/// Schemas of the wire names of the node's enumerations, taken from the enumerations
/// themselves (their `ALL` lists, or an exhaustive `match`), for `#[schemars(schema_with)]`.
pub(crate) mod wire {
    use super::names;
    use crate::apikey::Scope;
    use hallmark_core::passport::{Granularity, PassportStatus};
    use hallmark_keys::{Backend, Purpose};
    use hallmark_sandbox::Severity;
    use hallmark_store::SigningKeyStatus;
    use schemars::{Schema, SchemaGenerator};

    /// `draft`, `published`, `suspended`, `archived`, `deactivated`.
    pub fn passport_status(_: &mut SchemaGenerator) -> Schema {
        names(PassportStatus::ALL.map(PassportStatus::as_str))
    }

    /// `model`, `batch`, `item`.
    pub fn granularity(_: &mut SchemaGenerator) -> Schema {
        names(Granularity::ALL.map(Granularity::as_str))
    }

    /// `read`, `write`, `admin`.
    pub fn scope(_: &mut SchemaGenerator) -> Schema {
        names(Scope::ALL.map(Scope::as_str))
    }

    /// `passport-signing`, `log-checkpoint`, `node-request`.
    pub fn purpose(_: &mut SchemaGenerator) -> Schema {
        names(Purpose::ALL.map(Purpose::as_str))
    }

    /// `file`, `pkcs11` (as `App::sync_signing_keys` stores them).
    pub fn backend(_: &mut SchemaGenerator) -> Schema {
        let name = |b: Backend| match b {
            Backend::File => "file",
            Backend::Pkcs11 => "pkcs11",
        };
        names([Backend::File, Backend::Pkcs11].map(name))
    }

    /// `current`, `retired`, `revoked`.
    pub fn signing_key_status(_: &mut SchemaGenerator) -> Schema {
        let all = |s: SigningKeyStatus| match s {
            SigningKeyStatus::Current | SigningKeyStatus::Retired | SigningKeyStatus::Revoked => {
                s.as_str()
            }
        };
        names(
            [
                SigningKeyStatus::Current,
                SigningKeyStatus::Retired,
                SigningKeyStatus::Revoked,
            ]
            .map(all),
        )
    }

    /// `error`, `warning`, `info` (a sector plugin's finding).
    pub fn severity(_: &mut SchemaGenerator) -> Schema {
        let name = |s: Severity| match s {
            Severity::Error => "error",
            Severity::Warning => "warning",
            Severity::Info => "info",
        };
        names([Severity::Error, Severity::Warning, Severity::Info].map(name))
    }
}
