//! OpenAPI 3.1 documents for both listeners, generated from the same route tables that the
//! routers and the scope-matrix tests use (so a route cannot exist undocumented).

use crate::app::App;
use crate::routes::{admin, public};
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

fn document(title: &str, routes: &[(String, String, Option<&str>)], secured: bool) -> Value {
    let mut paths = Map::new();
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
            op["x-required-scope"] = json!(scope);
            op["security"] = json!([{ "bearer": [] }, { "adminLogin": [] }]);
        }
        if let Value::Object(m) = entry {
            m.insert(method.to_ascii_lowercase(), op);
        }
    }
    let mut doc = json!({
        "openapi": "3.1.0",
        "info": { "title": title, "version": env!("CARGO_PKG_VERSION") },
        "paths": paths,
        "components": {
            "schemas": {
                "Problem": {
                    "type": "object",
                    "required": ["type", "title", "status"],
                    "properties": {
                        "type": { "type": "string" },
                        "title": { "type": "string" },
                        "status": { "type": "integer" },
                        "detail": { "type": "string" },
                    },
                },
            },
        },
    });
    if secured {
        doc["components"]["securitySchemes"] = json!({
            "bearer": { "type": "http", "scheme": "bearer", "description": "hmk_<r|w|a>_… API key" },
            "adminLogin": { "type": "http", "scheme": "basic", "description": "Admin login from the environment (first setup and recovery)" },
        });
    }
    doc
}

/// The public listener's document.
pub fn public_document(app: &App) -> Value {
    let routes: Vec<_> = public::route_table_for(&app.issuer)
        .into_iter()
        .map(|(m, p)| (m.to_string(), p, None))
        .collect();
    document("Hallmark public API", &routes, false)
}

/// The admin listener's document.
pub fn admin_document(_app: &App) -> Value {
    let routes: Vec<_> = admin::ROUTES
        .iter()
        .map(|(m, p, s)| (m.to_string(), p.to_string(), Some(s.as_str())))
        .collect();
    document("Hallmark admin API", &routes, true)
}
