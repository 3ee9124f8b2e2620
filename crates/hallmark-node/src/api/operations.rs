//! What each admin route takes and answers, as schemas for the OpenAPI document.

use super::labels::LabelPage;
use super::requests::{
    ImportFinish, NewApiKey, NewLink, PassportBatch, PassportSubmission, Reason,
};
use super::responses::{
    ApiKeyCreated, ApiKeyInfo, ApiKeyList, BatchAnswer, DraftCreated, DraftSaved, History,
    ImportFinished, KeyChange, LinkInfo, LinkList, PassportDetail, PassportPage, PassportSummary,
    Published, SigningKeyList, ValidationReport, Whoami,
};
use crate::problem::Problem;
use schemars::generate::{SchemaGenerator, SchemaSettings};
use schemars::JsonSchema;
use serde_json::{Map, Value};

/// One admin operation's bodies.
#[derive(Debug, Clone, PartialEq)]
pub struct Operation {
    /// The JSON request body's schema, for operations that read one.
    pub request: Option<Value>,
    /// Whether the request body is a passport submission (the battery example applies).
    pub submission: bool,
    /// The success status.
    pub status: u16,
    /// The success body's schema (`application/json`).
    pub response: Value,
}

/// Two components of the same name with different schemas (a request type and a response
/// type named alike): a bug, refused rather than served.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("two different schemas are both named {0:?}")]
pub struct NameClash(pub String);

/// The schemas of the admin API, collected as they are referenced: request bodies as they
/// are read (deserialised), responses as they are written (serialised).
pub struct Schemas {
    requests: SchemaGenerator,
    responses: SchemaGenerator,
}

impl Default for Schemas {
    fn default() -> Self {
        Self::new()
    }
}

impl Schemas {
    /// Generators whose references point at `#/components/schemas/<Name>` (JSON Schema
    /// 2020-12, the dialect of OpenAPI 3.1).
    pub fn new() -> Self {
        let settings = SchemaSettings::draft2020_12().with(|s| {
            s.definitions_path = "/components/schemas".into();
            s.meta_schema = None;
        });
        Schemas {
            requests: settings.clone().for_deserialize().into_generator(),
            responses: settings.for_serialize().into_generator(),
        }
    }

    fn request<T: JsonSchema>(&mut self) -> Value {
        self.requests.subschema_for::<T>().to_value()
    }

    fn response<T: JsonSchema>(&mut self) -> Value {
        self.responses.subschema_for::<T>().to_value()
    }

    /// The schema of an RFC 9457 problem (every error answer).
    pub fn problem(&mut self) -> Value {
        self.response::<Problem>()
    }

    /// A `reason` body; `required` for the routes that refuse one without it.
    fn reason(&mut self, required: bool) -> Value {
        let reason = self.request::<Reason>();
        if required {
            schemars::json_schema!({ "allOf": [reason], "required": ["reason"] }).to_value()
        } else {
            reason
        }
    }

    /// The bodies of the admin route `method path` (a row of
    /// [`crate::routes::admin::ROUTES`]); `None` for a route it does not know (a unit test
    /// checks every row has one).
    pub fn operation(&mut self, method: &str, path: &str) -> Option<Operation> {
        let tail = path.strip_prefix("/api/v1").unwrap_or(path);
        let submission = matches!(
            (method, tail),
            ("POST", "/passports")
                | ("POST", "/passports/validate")
                | ("PUT", "/passports/{id}/draft")
                | ("POST", "/passports/{id}/versions")
        );
        let request = match (method, tail) {
            _ if submission => Some(self.request::<PassportSubmission>()),
            ("POST", "/passports/{id}/archive") => Some(self.reason(false)),
            ("POST", "/passports/{id}/suspend")
            | ("POST", "/passports/{id}/deactivate")
            | ("POST", "/signing-keys/{id}/revoke")
            | ("DELETE", "/links/{id}")
            | ("POST", "/readers/{id}/suspend")
            | ("POST", "/readers/{id}/revoke")
            | ("POST", "/webhooks/{id}/disable") => Some(self.reason(true)),
            ("POST", "/webhooks") => Some(self.request::<super::webhooks::NewWebhook>()),
            ("POST", "/readers/{id}/approve") => {
                Some(self.request::<super::readers::ApproveReader>())
            }
            ("POST", "/api-keys") => Some(self.request::<NewApiKey>()),
            ("POST", "/passports/batch") => Some(self.request::<PassportBatch>()),
            ("POST", "/imports/{id}/finish") => Some(self.request::<ImportFinish>()),
            ("POST", "/links") => Some(self.request::<NewLink>()),
            ("POST", "/credentials/issue") => Some(
                schemars::json_schema!({
                    "type": "object",
                    "description": "VC API issueCredential, passports only: an unsecured credential whose credentialSubject is a passport submission (the body of POST /api/v1/passports) and whose issuer, if given, is this node's DID; no options (docs/verify.md)",
                    "required": ["credential"],
                    "properties": {
                        "credential": {
                            "type": "object",
                            "required": ["credentialSubject"],
                            "properties": {
                                "@context": {},
                                "type": {},
                                "issuer": {},
                                "credentialSubject": { "type": "object" }
                            },
                            "additionalProperties": false
                        },
                        "options": { "type": "object", "maxProperties": 0 }
                    },
                    "additionalProperties": false
                })
                .to_value(),
            ),
            ("POST", "/registry/registrations") => Some(
                schemars::json_schema!({
                    "type": "object",
                    "description": "The EU DPP registry's answers: a registry-record file (schemaVersion 1.0.0, 1 to 100 registrations of passportId, dppVersion, registrationId, proofOfRegistration, hash)",
                    "required": ["schemaVersion", "registrations"],
                    "externalDocs": {
                        "description": "EU DPP registry submissions and the record file's JSON Schema",
                        "url": concat!(env!("CARGO_PKG_REPOSITORY"), "/blob/main/docs/registry.md"),
                    },
                })
                .to_value(),
            ),
            _ => None,
        };
        let (status, response) = match (method, tail) {
            ("GET", "/whoami") => (200, self.response::<Whoami>()),
            ("GET", "/passports") => (200, self.response::<PassportPage>()),
            ("POST", "/passports") => (201, self.response::<DraftCreated>()),
            ("POST", "/passports/validate") => (200, self.response::<ValidationReport>()),
            ("POST", "/passports/batch") => (200, self.response::<BatchAnswer>()),
            ("POST", "/imports/{id}/finish") => (200, self.response::<ImportFinished>()),
            ("GET", "/passports/{id}") => (200, self.response::<PassportDetail>()),
            ("PUT", "/passports/{id}/draft") => (200, self.response::<DraftSaved>()),
            ("POST", "/passports/{id}/publish") => (200, self.response::<Published>()),
            ("POST", "/passports/{id}/versions") => (201, self.response::<DraftSaved>()),
            ("POST", "/passports/{id}/suspend")
            | ("POST", "/passports/{id}/resume")
            | ("POST", "/passports/{id}/archive")
            | ("POST", "/passports/{id}/deactivate") => (200, self.response::<PassportSummary>()),
            ("GET", "/passports/{id}/history") => (200, self.response::<History>()),
            ("GET", "/labels") => (200, self.response::<LabelPage>()),
            ("GET", "/links") => (200, self.response::<LinkList>()),
            ("POST", "/links") => (201, self.response::<LinkInfo>()),
            ("DELETE", "/links/{id}") => (200, self.response::<LinkInfo>()),
            ("GET", "/readers") => (200, self.response::<super::readers::ReaderList>()),
            ("GET", "/readers/{id}")
            | ("POST", "/readers/{id}/approve")
            | ("POST", "/readers/{id}/suspend")
            | ("POST", "/readers/{id}/resume")
            | ("POST", "/readers/{id}/revoke") => {
                (200, self.response::<super::readers::ReaderInfo>())
            }
            ("GET", "/webhooks") => (200, self.response::<super::webhooks::WebhookList>()),
            ("POST", "/webhooks") => (201, self.response::<super::webhooks::WebhookCreated>()),
            ("GET", "/webhooks/{id}")
            | ("POST", "/webhooks/{id}/disable")
            | ("POST", "/webhooks/{id}/enable") => {
                (200, self.response::<super::webhooks::WebhookInfo>())
            }
            ("GET", "/webhooks/{id}/deliveries") => {
                (200, self.response::<super::webhooks::DeliveryList>())
            }
            ("GET", "/api-keys") => (200, self.response::<ApiKeyList>()),
            ("POST", "/api-keys") => (201, self.response::<ApiKeyCreated>()),
            ("POST", "/api-keys/{id}/revoke") => (200, self.response::<ApiKeyInfo>()),
            ("GET", "/signing-keys") => (200, self.response::<SigningKeyList>()),
            ("POST", "/signing-keys/rotate") | ("POST", "/signing-keys/{id}/revoke") => {
                (200, self.response::<KeyChange>())
            }
            ("GET", "/passports/{id}/aas") => (
                200,
                schemars::json_schema!({
                    "type": "object",
                    "description": "An AAS V3.0 Environment (JSON serialisation) with the IDTA 02035 Digital Battery Passport submodels, holding what the audience's credential holds; not signed",
                    "required": ["assetAdministrationShells", "submodels"],
                    "externalDocs": {
                        "description": "AAS export: identifiers, submodels, mapping, limits",
                        "url": concat!(env!("CARGO_PKG_REPOSITORY"), "/blob/main/docs/aas.md"),
                    },
                })
                .to_value(),
            ),
            ("GET", "/passports/{id}/registrations") => {
                (200, self.response::<super::registry::RegistrationList>())
            }
            ("GET", "/registry/export") => (200, self.response::<super::registry::RegistryExport>()),
            ("POST", "/registry/registrations") => {
                (200, self.response::<super::registry::RegistrationsRecorded>())
            }
            ("POST", "/credentials/issue") => (
                201,
                schemars::json_schema!({
                    "type": "object",
                    "description": "The new passport's public Data Integrity credential, as its URL serves it",
                    "required": ["verifiableCredential"],
                    "properties": { "verifiableCredential": { "type": "object" } },
                    "additionalProperties": false
                })
                .to_value(),
            ),
            ("GET", "/openapi.json") => (
                200,
                schemars::json_schema!({
                    "type": "object",
                    "description": "This OpenAPI 3.1 document",
                    "required": ["openapi", "info", "paths", "components"],
                })
                .to_value(),
            ),
            _ => return None,
        };
        Some(Operation {
            request,
            submission,
            status,
            response,
        })
    }

    /// The bodies of a public route that reads one (`POST <base>/readers`); `None` for the
    /// others.
    pub fn public_operation(&mut self, method: &str, path: &str) -> Option<Operation> {
        if method != "POST" {
            return None;
        }
        if path.ends_with("/credentials/verify") || path.ends_with("/presentations/verify") {
            let member = if path.ends_with("/credentials/verify") {
                "verifiableCredential"
            } else {
                "verifiablePresentation"
            };
            return Some(Operation {
                request: Some(
                    schemars::json_schema!({
                        "type": "object",
                        "required": [member],
                        "properties": {
                            member: { "type": ["object", "string"] },
                            "options": { "type": "object" }
                        },
                        "additionalProperties": false
                    })
                    .to_value(),
                ),
                submission: false,
                status: 200,
                response: schemars::json_schema!({
                    "type": "object",
                    "description": "VC API verification result: verified, checks, errors, warnings, problemDetails (VC API problem details with the Hallmark check), credential (returnCredential), hallmark (every check and the verdict); 400 with the same body when not verified (docs/verify.md)",
                    "required": ["verified", "checks", "errors", "warnings", "problemDetails", "hallmark"]
                })
                .to_value(),
            });
        }
        path.ends_with("/readers").then(|| Operation {
            request: Some(self.request::<super::readers::NewReader>()),
            submission: false,
            status: 201,
            response: self.response::<super::readers::ReaderRegistered>(),
        })
    }

    /// Every schema referenced so far, by name (for `components.schemas`).
    pub fn into_components(mut self) -> Result<Map<String, Value>, NameClash> {
        let mut all = self.responses.take_definitions(true);
        for (name, schema) in self.requests.take_definitions(true) {
            match all.get(&name) {
                Some(existing) if *existing != schema => return Err(NameClash(name)),
                _ => {
                    all.insert(name, schema);
                }
            }
        }
        Ok(all)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;
    use crate::routes::admin::ROUTES;

    #[test]
    fn every_admin_route_has_its_bodies_and_every_name_is_one_schema() {
        let mut s = Schemas::new();
        for (method, path, _) in ROUTES {
            let op = s.operation(method, path);
            assert!(op.is_some(), "{method} {path} has no documented bodies");
        }
        s.problem();
        let components = s.into_components().unwrap();
        for name in [
            "PassportSubmission",
            "Reason",
            "NewApiKey",
            "Problem",
            "Published",
        ] {
            assert!(components.contains_key(name), "{name}");
        }
    }
}
