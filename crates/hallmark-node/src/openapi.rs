//! OpenAPI 3.1 documents for both listeners, generated from the same route tables that the
//! routers and the scope-matrix tests use (so a route cannot exist undocumented). The admin
//! document carries every route's request and response schemas, derived from the types the
//! handlers read and write ([`crate::api`]); errors reference the `Problem` schema, derived
//! from [`crate::problem::Problem`].

use crate::api::example;
use crate::api::operations::{NameClash, Operation, Schemas};
use crate::app::App;
use crate::problem::ApiError;
use crate::routes::{admin, public};
use hallmark_core::sector::SectorRegistry;
use serde_json::{json, Map, Value};

fn summary(method: &str, path: &str) -> &'static str {
    if let Some(s) = log_route(path).map(|(_, s)| s) {
        return s;
    }
    let tail = path.trim_start_matches("/api/v1");
    match (method, tail) {
        ("GET", "/whoami") => "Who am I: the authenticated principal and its scope",
        ("GET", "/passports") => "List passports (filters: status, sector, gtin; cursor: after, limit)",
        ("POST", "/passports") => "Create a draft passport (envelope validated; sector issues reported)",
        ("POST", "/passports/validate") => "Validate a passport submission (dry run)",
        ("GET", "/passports/{id}") => "Read one passport: record, pending draft, current version (all tiers)",
        ("PUT", "/passports/{id}/draft") => "Replace the pending draft",
        ("POST", "/passports/{id}/publish") => "Validate, sign (every audience, both forms) and publish the pending draft",
        ("POST", "/passports/{id}/versions") => "Start a new version of a published passport",
        ("POST", "/passports/{id}/suspend") => "Suspend (reason required); the public URL answers 410",
        ("POST", "/passports/{id}/resume") => "Resume a suspended passport",
        ("POST", "/passports/{id}/archive") => "Archive (terminal; still served with its status)",
        ("POST", "/passports/{id}/deactivate") => "Deactivate (terminal, reason required; still served with its status)",
        ("GET", "/passports/{id}/history") => "The passport's audit events",
        ("GET", "/api-keys") => "List API keys (never the secret)",
        ("POST", "/api-keys") => "Create an API key (the key is shown once)",
        ("POST", "/api-keys/{id}/revoke") => "Revoke an API key (a key cannot revoke itself: 409)",
        ("GET", "/signing-keys") => "List signing keys",
        ("POST", "/signing-keys/rotate") => "Rotate the passport-signing key (old key stays in the DID document as retired)",
        ("POST", "/signing-keys/{id}/revoke") => "Revoke a signing key (leaves the DID document)",
        ("GET", "/openapi.json") => "This document",
        ("GET", "/health") => "Health: database, signing and transparency-log signer status",
        _ if path.ends_with("did.json") => "The node's did:web DID document (current and retired keys)",
        ("GET", p) if p.ends_with("/versions/{version}") => {
            "A published version's public credential, exactly as signed (immutable)"
        }
        ("GET", p) if p.ends_with("/passports/{id}") => {
            "The current published version's public credential (Accept: application/vc+jwt for the JWT form)"
        }
        _ => "",
    }
}

/// The transparency-log route this path is (its path under the base, and its summary).
fn log_route(path: &str) -> Option<(String, &'static str)> {
    crate::routes::log::paths("")
        .into_iter()
        .find(|(p, _)| path.ends_with(p.as_str()))
}

fn params(path: &str) -> Value {
    let mut out = Vec::new();
    for name in ["id", "version", "index"] {
        if path.contains(&format!("{{{name}}}")) {
            out.push(json!({ "name": name, "in": "path", "required": true, "schema": { "type": "string" } }));
        }
    }
    let query: &[(&str, bool)] = match log_route(path).map(|(p, _)| p).as_deref() {
        Some("/log/entries") => &[("start", true), ("end", true)],
        Some("/log/proof/inclusion") => &[("index", false), ("hash", false), ("size", false)],
        Some("/log/proof/consistency") => &[("old", true), ("new", false)],
        _ => &[],
    };
    for (name, required) in query {
        let schema = if *name == "hash" {
            json!({ "type": "string", "description": "leaf hash, base64 or hex" })
        } else {
            json!({ "type": "integer", "minimum": 0 })
        };
        out.push(json!({ "name": name, "in": "query", "required": required, "schema": schema }));
    }
    Value::Array(out)
}

fn problem_response(desc: &str) -> Value {
    json!({ "description": desc, "content": { "application/problem+json": { "schema": { "$ref": "#/components/schemas/Problem" } } } })
}

/// Why a document could not be built (a bug: a unit test builds both).
#[derive(Debug, thiserror::Error)]
pub enum DocumentError {
    /// Two schemas share a component name.
    #[error(transparent)]
    Clash(#[from] NameClash),
    /// The embedded example draft does not parse.
    #[error("the example battery draft: {0}")]
    Example(#[from] serde_json::Error),
}

/// A document as an answer (a document that cannot be built is logged, and a 500).
pub fn answer(doc: Result<Value, DocumentError>) -> Result<axum::Json<Value>, ApiError> {
    doc.map(axum::Json).map_err(|e| {
        tracing::error!(error = %e, "OpenAPI document");
        ApiError::Internal
    })
}

/// An operation's request body and success answer, from [`crate::api::operations`].
fn bodies(op: &mut Value, bodies: Operation) {
    if let Some(schema) = bodies.request {
        let mut media = json!({ "schema": schema });
        if bodies.submission {
            media["examples"] = json!({
                "battery": { "$ref": "#/components/examples/BatteryDraft" },
            });
        }
        op["requestBody"] = json!({
            "required": true,
            "content": { "application/json": media },
        });
    }
    let description = if bodies.status == 201 {
        "Created"
    } else {
        "Success"
    };
    let mut responses = Map::new();
    responses.insert(
        bodies.status.to_string(),
        json!({
            "description": description,
            "content": { "application/json": { "schema": bodies.response } },
        }),
    );
    responses.insert("default".into(), problem_response("An RFC 9457 problem"));
    op["responses"] = Value::Object(responses);
}

/// A document of `routes`; admin routes (with a scope) get their bodies from `schemas`.
fn document(
    title: &str,
    routes: &[(String, String, Option<&str>)],
    schemas: &mut Schemas,
) -> Result<Value, DocumentError> {
    let mut paths = Map::new();
    let mut secured = false;
    for (method, path, scope) in routes {
        let entry = paths
            .entry(path.clone())
            .or_insert_with(|| Value::Object(Map::new()));
        let mut op = json!({
            "summary": summary(method, path),
            "parameters": params(path),
            "responses": {
                "200": { "description": "Success" },
                "default": problem_response("An RFC 9457 problem"),
            },
        });
        if let Some(scope) = scope {
            secured = true;
            op["x-required-scope"] = json!(scope);
            op["security"] = json!([{ "bearer": [] }, { "adminLogin": [] }]);
            if let Some(b) = schemas.operation(method, path) {
                bodies(&mut op, b);
            }
        }
        if let Value::Object(m) = entry {
            m.insert(method.to_ascii_lowercase(), op);
        }
    }
    schemas.problem();
    let mut doc = json!({
        "openapi": "3.1.0",
        "info": { "title": title, "version": env!("CARGO_PKG_VERSION") },
        "paths": paths,
        "components": { "schemas": {} },
    });
    if secured {
        doc["components"]["securitySchemes"] = json!({
            "bearer": { "type": "http", "scheme": "bearer", "description": "hmk_<r|w|a>_… API key" },
            "adminLogin": { "type": "http", "scheme": "basic", "description": "Admin login from the environment (first setup and recovery)" },
        });
    }
    Ok(doc)
}

/// The public listener's document.
pub fn public_document(app: &App) -> Result<Value, DocumentError> {
    let routes: Vec<_> = public::route_table_for(&app.issuer)
        .into_iter()
        .map(|(m, p)| (m.to_string(), p, None))
        .collect();
    let mut schemas = Schemas::new();
    let mut doc = document("Hallmark public API", &routes, &mut schemas)?;
    doc["components"]["schemas"] = Value::Object(schemas.into_components()?);
    Ok(doc)
}

/// The admin listener's document: every route's request and response schemas
/// (`components.schemas`, derived from [`crate::api`]'s types), the example battery draft
/// (`components.examples.BatteryDraft`) and, on the submission's `data`, the sectors this
/// node validates (`x-hallmark-sectors`).
pub fn admin_document(app: &App) -> Result<Value, DocumentError> {
    admin_document_for(app.registry)
}

/// [`admin_document`] for a node with these sectors.
pub fn admin_document_for(registry: &SectorRegistry) -> Result<Value, DocumentError> {
    let routes: Vec<_> = admin::ROUTES
        .iter()
        .map(|(m, p, s)| (m.to_string(), p.to_string(), Some(s.as_str())))
        .collect();
    let mut schemas = Schemas::new();
    let mut doc = document("Hallmark admin API", &routes, &mut schemas)?;
    let mut components = schemas.into_components()?;
    let sectors: Vec<Value> = registry
        .iter()
        .map(|s| json!({ "id": s.id(), "schemaVersion": s.version(), "title": s.title() }))
        .collect();
    if let Some(data) = components
        .get_mut("PassportSubmission")
        .and_then(|s| s.pointer_mut("/properties/data"))
    {
        data["x-hallmark-sectors"] = Value::Array(sectors);
    }
    doc["components"]["schemas"] = Value::Object(components);
    doc["components"]["examples"] = json!({
        "BatteryDraft": {
            "summary": "An item-level battery passport (the demo's BatteryPass 1.2.0 data)",
            "value": example::battery_draft()?,
        },
    });
    Ok(doc)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;

    /// Every admin operation has a success answer with a schema, every reference resolves
    /// to a component, and the submissions carry the example.
    #[test]
    fn the_admin_document_documents_every_body() {
        let doc = admin_document_for(SectorRegistry::builtin()).unwrap();
        let text = doc.to_string();
        for (method, path, _) in admin::ROUTES {
            let op = &doc["paths"][*path][method.to_ascii_lowercase()];
            let responses = op["responses"].as_object().unwrap();
            let success: Vec<_> = responses.keys().filter(|k| *k != "default").collect();
            assert_eq!(success.len(), 1, "{method} {path}");
            let schema = &responses[success[0].as_str()]["content"]["application/json"]["schema"];
            assert!(schema.is_object(), "{method} {path}");
        }
        let mut rest = text.as_str();
        while let Some(i) = rest.find("\"#/components/") {
            let tail = &rest[i + 2..];
            let end = tail.find('"').unwrap();
            let pointer = &tail[..end];
            assert!(doc.pointer(pointer).is_some(), "dangling $ref #{pointer}");
            rest = &tail[end..];
        }
        let create = &doc["paths"]["/api/v1/passports"]["post"]["requestBody"]["content"]
            ["application/json"];
        assert_eq!(
            create["examples"]["battery"]["$ref"],
            "#/components/examples/BatteryDraft"
        );
        assert_eq!(
            doc["components"]["examples"]["BatteryDraft"]["value"],
            example::battery_draft().unwrap()
        );
        let sectors = &doc["components"]["schemas"]["PassportSubmission"]["properties"]["data"]
            ["x-hallmark-sectors"];
        assert!(sectors
            .as_array()
            .unwrap()
            .contains(&json!({ "id": "battery", "schemaVersion": "1.2.0", "title": SectorRegistry::builtin().get("battery", "1.2.0").unwrap().title() })));
    }
}
