//! The admin `/openapi.json` against the node that serves it, over real HTTP on SQLite and
//! PostgreSQL: every admin route is called with real requests (the submissions are the
//! document's own example battery draft), and each request body, success answer and problem
//! is validated against the schemas of the served document (`jsonschema`, formats checked).
//! Every route of `ROUTES` must have been answered with its documented success status. The
//! same validators refuse an answer with a member renamed, dropped or added.

use hallmark_testkit as kit;

use hallmark_keys::KeystoreCustody;
use hallmark_node::config::Profile;
use hallmark_node::node;
use hallmark_node::plugins::{builtin_sources, project_publisher_key, PluginGate};
use hallmark_node::routes::admin::ROUTES;
use kit::{basic, Backend, Data, Node, BASE_URL};
use kit::{both, Reply};
use reqwest::Method;
use serde_json::{json, Value};
use std::collections::BTreeSet;
use std::sync::Arc;

/// A validator for `schema` (a schema object from the document), with the document's
/// components to resolve its references.
fn validator(doc: &Value, schema: &Value) -> jsonschema::Validator {
    let mut root = schema.as_object().expect("a schema object").clone();
    root.insert("components".into(), doc["components"].clone());
    jsonschema::draft202012::options()
        .should_validate_formats(true)
        .build(&Value::Object(root))
        .unwrap()
}

fn errors(v: &jsonschema::Validator, instance: &Value) -> Vec<String> {
    v.iter_errors(instance)
        .map(|e| format!("{} at {}", e, e.instance_path()))
        .collect()
}

/// A node with the built-in battery plugin (as `hallmark serve` loads it), and its admin
/// document.
struct Api {
    node: Node,
    doc: Value,
    /// (method, route) answered with the documented success status and a valid body.
    covered: BTreeSet<(String, String)>,
}

impl Api {
    async fn start(data: &Data) -> Api {
        let gate = PluginGate::load_with_builtins(
            Vec::new(),
            builtin_sources(),
            vec![project_publisher_key().unwrap()],
            false,
            &["battery".to_string()],
            Profile::Development,
        )
        .unwrap();
        let signing = Arc::new(KeystoreCustody::new(data.keystore()));
        let app = node::build_app_with_plugins(data.store().await, signing, BASE_URL, gate)
            .await
            .unwrap();
        let backup = "https://backup.example.eu/dpp/{uuid}/versions/{version}";
        app.backup_link
            .set(hallmark_node::config::BackupLinkTemplate::parse(backup, false).unwrap())
            .unwrap();
        // Webhooks to one host nobody listens on (the subscription is exercised, not served).
        app.webhooks
            .set(hallmark_node::config::WebhookSettings {
                allowed_hosts: vec!["hooks.example.com".to_owned()],
                ..Default::default()
            })
            .unwrap();
        let node = Node::start(app).await;
        let r = node.admin(Method::GET, "/openapi.json").await;
        assert_eq!(r.status, 200);
        let doc = r.json();
        Api {
            node,
            doc,
            covered: BTreeSet::new(),
        }
    }

    fn operation(&self, method: &Method, route: &str) -> &Value {
        let op = &self.doc["paths"][route][method.as_str().to_ascii_lowercase()];
        assert!(op.is_object(), "{method} {route} is not in the document");
        op
    }

    /// The schema of `method route`'s answer with this status (its success status, or the
    /// problem schema of any other).
    fn response_schema(&self, method: &Method, route: &str, status: u16) -> (Value, bool) {
        let responses = &self.operation(method, route)["responses"];
        match responses.get(status.to_string()) {
            Some(r) => (r["content"]["application/json"]["schema"].clone(), true),
            None => (
                responses["default"]["content"]["application/problem+json"]["schema"].clone(),
                false,
            ),
        }
    }

    /// Calls `method path` (an instance of `route`) with `auth` and `body`: the body is
    /// checked against the route's request schema, the answer against its response schema.
    async fn call(
        &mut self,
        method: Method,
        path: &str,
        auth: &str,
        body: Option<&Value>,
    ) -> Reply {
        let route = route_of(&method, path);
        let route = route.as_str();
        let op = self.operation(&method, route).clone();
        // Whether the request fits its schema; the node must not accept one that does not.
        let fits = match body {
            Some(body) => {
                let schema = &op["requestBody"]["content"]["application/json"]["schema"];
                assert!(
                    schema.is_object(),
                    "{method} {route} documents no request body"
                );
                let v = validator(&self.doc, schema);
                let e = errors(&v, body);
                if e.is_empty() {
                    Ok(())
                } else {
                    Err(e)
                }
            }
            None if op["requestBody"]["required"] == true => {
                Err(vec![format!("{method} {route} requires a body")])
            }
            None => Ok(()),
        };
        let mut req = kit::client()
            .request(method.clone(), format!("{}{path}", self.node.admin))
            .header("authorization", auth);
        if let Some(body) = body {
            req = req
                .header("content-type", "application/json")
                .body(serde_json::to_vec(body).unwrap());
        }
        let reply = Reply::from(req.send().await.unwrap()).await;
        let (schema, success) = self.response_schema(&method, route, reply.status);
        let content_type = if success {
            "application/json"
        } else {
            "application/problem+json"
        };
        assert_eq!(
            reply.header("content-type"),
            Some(content_type),
            "{method} {path}: {}",
            reply.status
        );
        let answer = reply.json();
        let v = validator(&self.doc, &schema);
        assert!(
            v.is_valid(&answer),
            "{method} {path} answered {} not as documented: {:?}\n{answer:#}",
            reply.status,
            errors(&v, &answer)
        );
        if success {
            assert!(
                fits.is_ok(),
                "{method} {path} accepted a request its schema refuses: {fits:?}"
            );
            self.covered.insert((method.to_string(), route.to_string()));
        }
        reply
    }

    /// [`call`](Self::call), expecting `status`; returns the answer.
    async fn expect(
        &mut self,
        status: u16,
        method: Method,
        path: &str,
        auth: &str,
        body: Option<&Value>,
    ) -> Value {
        let r = self.call(method.clone(), path, auth, body).await;
        assert_eq!(
            r.status,
            status,
            "{method} {path}: {}",
            String::from_utf8_lossy(&r.body)
        );
        r.json()
    }

    /// A validator of `method route`'s success answer.
    fn success_validator(&self, method: Method, route: &str, status: u16) -> jsonschema::Validator {
        let (schema, success) = self.response_schema(&method, route, status);
        assert!(success);
        validator(&self.doc, &schema)
    }
}

/// The row of `ROUTES` that `method path` is an instance of (`{id}` stands for one segment;
/// a literal segment wins over `{id}`).
fn route_of(method: &Method, path: &str) -> String {
    let path = path.split('?').next().unwrap();
    let segments: Vec<&str> = path.split('/').collect();
    let mut candidates: Vec<&str> = ROUTES
        .iter()
        .filter(|(m, route, _)| {
            let r: Vec<&str> = route.split('/').collect();
            *m == method.as_str()
                && r.len() == segments.len()
                && r.iter().zip(&segments).all(|(a, b)| a == b || *a == "{id}")
        })
        .map(|(_, route, _)| *route)
        .collect();
    candidates.sort_by_key(|r| r.matches("{id}").count());
    candidates
        .first()
        .unwrap_or_else(|| panic!("{method} {path} is no admin route"))
        .to_string()
}

fn renamed(v: &Value, from: &str, to: &str) -> Value {
    let mut v = v.clone();
    let m = v.as_object_mut().unwrap();
    let x = m.remove(from).unwrap();
    m.insert(to.into(), x);
    v
}

async fn every_admin_route_answers_as_its_served_document_says(backend: Backend) {
    use Method as M;
    let data = Data::new(backend).await;
    let mut api = Api::start(&data).await;
    let admin = basic();
    let doc = api.doc.clone();

    // The document's example is the demo's battery data, as the tests compose it.
    let example = doc["components"]["examples"]["BatteryDraft"]["value"].clone();
    assert_eq!(example["data"], kit::battery_data());

    api.expect(200, M::GET, "/openapi.json", &admin, None).await;
    let me = api
        .expect(200, M::GET, "/api/v1/whoami", &admin, None)
        .await;
    assert_eq!(me["kind"], "admin");

    // API keys.
    let expires = (time::OffsetDateTime::now_utc() + time::Duration::days(1))
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap();
    let new_key = json!({ "scope": "write", "label": "openapi check", "expiresAt": expires });
    let key = api
        .expect(201, M::POST, "/api/v1/api-keys", &admin, Some(&new_key))
        .await;
    let writer = format!("Bearer {}", key["key"].as_str().unwrap());
    let me = api
        .expect(200, M::GET, "/api/v1/whoami", &writer, None)
        .await;
    assert_eq!(me["kind"], "api-key");
    assert_eq!(me["keyId"], key["id"]);
    api.expect(200, M::GET, "/api/v1/api-keys", &admin, None)
        .await;

    // Dry runs: valid; refused by the plugin; schema issues; an envelope refusal.
    let mut over_recycled = example.clone();
    let share = &mut over_recycled["data"]["circularity"]["recycledContent"][0];
    share["preConsumerShare"] = json!(60.0);
    share["postConsumerShare"] = json!(50.0);
    let mut no_labels = example.clone();
    no_labels["data"]
        .as_object_mut()
        .unwrap()
        .remove("labeling");
    let mut bad_check_digit = example.clone();
    bad_check_digit["uniqueProductIdentifier"]["gtin"] = json!("09506000134353");
    let mut reports = Vec::new();
    for body in [&example, &over_recycled, &no_labels, &bad_check_digit] {
        let validate = "/api/v1/passports/validate";
        reports.push(
            api.expect(200, M::POST, validate, &writer, Some(body))
                .await,
        );
    }
    let valid: Vec<_> = reports.iter().map(|r| r["valid"].clone()).collect();
    assert_eq!(valid, [true, false, false, false], "{reports:#?}");
    assert_eq!(reports[0]["plugin"]["name"], "hallmark-battery");
    assert!(!reports[1]["plugin"]["findings"]
        .as_array()
        .unwrap()
        .is_empty());
    assert!(!reports[2]["issues"].as_array().unwrap().is_empty());
    assert!(reports[2]["plugin"].is_null());

    // A passport through its lifecycle.
    let created = api
        .expect(201, M::POST, "/api/v1/passports", &writer, Some(&example))
        .await;
    assert_eq!(created["validation"]["valid"], true, "{created}");
    let id = created["id"].as_str().unwrap().to_string();
    let p = |tail: &str| format!("/api/v1/passports/{id}{tail}");
    api.expect(200, M::PUT, &p("/draft"), &writer, Some(&example))
        .await;
    let detail = api.expect(200, M::GET, &p(""), &writer, None).await;
    assert!(detail["draft"].is_object() && detail.get("current").is_none());
    let published = api
        .expect(200, M::POST, &p("/publish"), &writer, None)
        .await;
    let detail = api.expect(200, M::GET, &p(""), &writer, None).await;
    assert!(detail["current"]["credentials"]["public"]["dataIntegrity"].is_object());
    let labels = api
        .expect(200, M::GET, "/api/v1/labels?limit=10", &writer, None)
        .await;
    assert_eq!(labels["items"][0]["id"], id.as_str(), "{labels}");
    // The AAS Environment (docs/aas.md), per audience; an audience that is none: 400.
    let aas = api.expect(200, M::GET, &p("/aas"), &writer, None).await;
    assert!(aas["assetAdministrationShells"].is_array(), "{aas}");
    api.expect(200, M::GET, &p("/aas?audience=public"), &writer, None)
        .await;
    api.expect(400, M::GET, &p("/aas?audience=everyone"), &writer, None)
        .await;
    api.expect(201, M::POST, &p("/versions"), &writer, Some(&example))
        .await;

    // Operator links: add, list, remove; a reserved link type is a problem.
    let gtin = example["uniqueProductIdentifier"]["gtin"].as_str().unwrap();
    let link = json!({
        "gtin": gtin, "linkType": "gs1:instructions", "href": "https://example.com/manual.pdf",
        "title": "User manual", "type": "application/pdf", "hreflang": ["en", "de-AT"],
    });
    let added = api
        .expect(201, M::POST, "/api/v1/links", &writer, Some(&link))
        .await;
    let mut reserved = link.clone();
    reserved["linkType"] = json!("gs1:dpp");
    let refused = api
        .expect(422, M::POST, "/api/v1/links", &writer, Some(&reserved))
        .await;
    assert_eq!(refused["field"], "linkType");
    let links = api
        .expect(
            200,
            M::GET,
            &format!("/api/v1/links?gtin={gtin}"),
            &writer,
            None,
        )
        .await;
    assert_eq!(links["items"][0]["id"], added["id"], "{links}");
    let remove = format!("/api/v1/links/{}", added["id"].as_str().unwrap());
    let removed = api
        .expect(
            200,
            M::DELETE,
            &remove,
            &writer,
            Some(&json!({ "reason": "superseded" })),
        )
        .await;
    assert_eq!(removed["status"], "removed");
    api.expect(
        409,
        M::DELETE,
        &remove,
        &writer,
        Some(&json!({ "reason": "again" })),
    )
    .await;
    let reason = json!({ "reason": "under investigation" });
    let summary = api
        .expect(200, M::POST, &p("/suspend"), &writer, Some(&reason))
        .await;
    assert_eq!(summary["status"], "suspended");
    api.expect(200, M::POST, &p("/resume"), &writer, None).await;
    api.expect(200, M::POST, &p("/archive"), &writer, Some(&json!({})))
        .await;
    api.expect(200, M::GET, &p("/history"), &writer, None).await;

    // A second passport, deactivated.
    let mut second = example.clone();
    second["uniqueProductIdentifier"]["serial"] = json!("EXAMPLE-0002");
    let created = api
        .expect(201, M::POST, "/api/v1/passports", &writer, Some(&second))
        .await;
    let p2 = |tail: &str| {
        format!(
            "/api/v1/passports/{}{tail}",
            created["id"].as_str().unwrap()
        )
    };
    api.expect(200, M::POST, &p2("/publish"), &writer, None)
        .await;
    let gone = json!({ "reason": "issued in error" });
    let summary = api
        .expect(200, M::POST, &p2("/deactivate"), &writer, Some(&gone))
        .await;
    assert_eq!(summary["status"], "deactivated");
    let page = api
        .expect(200, M::GET, "/api/v1/passports?limit=1", &writer, None)
        .await;
    assert!(page["next"].is_string(), "{page}");

    // A batch (bulk import): one item created and published, then the import finished and
    // the passport found by its reference; a reference given twice is a problem.
    let mut third = example.clone();
    third["uniqueProductIdentifier"]["serial"] = json!("EXAMPLE-0003");
    let import_id = "0193a1c2-0000-7000-8000-000000000001";
    let batch = json!({
        "importId": import_id, "publish": true, "dryRun": false,
        "items": [{ "externalRef": "ERP-000123", "passport": third }],
    });
    let answer = api
        .expect(
            200,
            M::POST,
            "/api/v1/passports/batch",
            &writer,
            Some(&batch),
        )
        .await;
    assert_eq!(answer["items"][0]["result"], "created", "{answer}");
    assert_eq!(answer["counts"]["created"], 1);
    let finish = json!({
        "fileName": "erp.csv", "bytes": 4096, "rows": 1, "interrupted": false,
        "sha256": "0".repeat(64),
    });
    let finished = api
        .expect(
            200,
            M::POST,
            &format!("/api/v1/imports/{import_id}/finish"),
            &writer,
            Some(&finish),
        )
        .await;
    assert_eq!(finished["countedBy"], "node");
    let operator = example["economicOperatorId"].as_str().unwrap();
    let found = api
        .expect(
            200,
            M::GET,
            &format!("/api/v1/passports?externalRef=ERP-000123&economicOperatorId={operator}"),
            &writer,
            None,
        )
        .await;
    assert_eq!(found["items"][0]["id"], answer["items"][0]["id"], "{found}");
    assert_eq!(found["items"][0]["externalRef"], "ERP-000123");
    let twice = json!({
        "items": [
            { "externalRef": "ERP-1", "passport": example },
            { "externalRef": "ERP-1", "passport": example },
        ],
    });
    let dup = api
        .expect(
            422,
            M::POST,
            "/api/v1/passports/batch",
            &writer,
            Some(&twice),
        )
        .await;
    assert_eq!(dup["type"], "urn:hallmark:problem:duplicate-external-ref");

    // The EU registry: the batch's published passport is pending; its answer is recorded.
    let export = api
        .expect(200, M::GET, "/api/v1/registry/export", &writer, None)
        .await;
    let entry = export["file"]["entries"][0].clone();
    assert!(entry.is_object(), "{export}");
    let answers = json!({"schemaVersion": "1.0.0", "registrations": [{
        "passportId": entry["passportId"], "dppVersion": entry["dppVersion"],
        "registrationId": "EU-OPENAPI-1", "proofOfRegistration": "receipt",
        "hash": entry["dppSha256"],
    }]});
    let recorded = api
        .expect(
            200,
            M::POST,
            "/api/v1/registry/registrations",
            &writer,
            Some(&answers),
        )
        .await;
    assert_eq!(recorded["results"][0]["outcome"], "recorded");
    let registrations = format!(
        "/api/v1/passports/{}/registrations",
        entry["passportId"]
            .as_str()
            .unwrap()
            .trim_start_matches("urn:uuid:")
    );
    api.expect(200, M::GET, &registrations, &writer, None).await;

    // Readers: registered on the public listener, then listed, shown, approved, suspended,
    // resumed and revoked on the admin listener.
    let reader_key = ed25519_dalek::SigningKey::from_bytes(&[5; 32])
        .verifying_key()
        .to_bytes();
    let registration = json!({
        "ed25519PublicKey": hallmark_core::reader::key_text(&reader_key),
        "organisation": "OpenAPI Repairs", "contact": "ops@example.org", "purpose": "repair",
    });
    let reg = api
        .node
        .call_raw(
            M::POST,
            &format!("{}/readers", api.node.public),
            None,
            Some(&registration),
            None,
        )
        .await;
    assert_eq!(reg.status, 201, "{}", String::from_utf8_lossy(&reg.body));
    let reader = reg.json()["id"].as_str().unwrap().to_string();
    let r = |tail: &str| format!("/api/v1/readers/{reader}{tail}");
    api.expect(200, M::GET, "/api/v1/readers", &admin, None)
        .await;
    api.expect(200, M::GET, &r(""), &admin, None).await;
    let grant =
        json!({"tier": "legitimateInterest", "scope": {"kind": "all"}, "expiresAt": expires});
    api.expect(200, M::POST, &r("/approve"), &admin, Some(&grant))
        .await;
    let why = json!({ "reason": "openapi check" });
    api.expect(200, M::POST, &r("/suspend"), &admin, Some(&why))
        .await;
    api.expect(200, M::POST, &r("/resume"), &admin, None).await;
    api.expect(200, M::POST, &r("/revoke"), &admin, Some(&why))
        .await;
    api.expect(409, M::POST, &r("/approve"), &admin, Some(&grant))
        .await;

    // Webhooks: subscribe (the secret once), list, read, the delivery log, disable, enable.
    let sub = json!({ "url": "https://hooks.example.com/h", "types": ["eu.dpp.key.revoked"] });
    let created = api
        .expect(201, M::POST, "/api/v1/webhooks", &admin, Some(&sub))
        .await;
    assert!(created["secret"].as_str().unwrap().starts_with("whsec_"));
    let w = |tail: &str| format!("/api/v1/webhooks/{}{tail}", created["id"].as_str().unwrap());
    api.expect(200, M::GET, "/api/v1/webhooks", &admin, None)
        .await;
    api.expect(200, M::GET, &w(""), &admin, None).await;
    api.expect(200, M::GET, &w("/deliveries"), &admin, None)
        .await;
    api.expect(200, M::POST, &w("/disable"), &admin, Some(&why))
        .await;
    api.expect(200, M::POST, &w("/enable"), &admin, None).await;
    api.expect(409, M::POST, &w("/enable"), &admin, None).await;
    api.expect(
        422,
        M::POST,
        "/api/v1/webhooks",
        &admin,
        Some(&json!({ "url": "https://other.example.com/h", "types": ["*"] })),
    )
    .await;

    // Problems are problems.
    let unknown = "/api/v1/passports/0190f5a8-8c3b-7000-8000-000000000000";
    api.expect(404, M::GET, unknown, &writer, None).await;
    api.expect(422, M::POST, &p("/suspend"), &writer, Some(&json!({})))
        .await;

    // Keys: revoke the API key; list, rotate and revoke signing keys.
    let revoke_key = format!("/api/v1/api-keys/{}/revoke", key["id"].as_str().unwrap());
    api.expect(200, M::POST, &revoke_key, &admin, None).await;
    api.expect(200, M::GET, "/api/v1/signing-keys", &admin, None)
        .await;
    let rotated = api
        .expect(200, M::POST, "/api/v1/signing-keys/rotate", &admin, None)
        .await;
    let retired = rotated["event"]["retired"].as_str().unwrap();
    let revoke = format!("/api/v1/signing-keys/{retired}/revoke");
    let ceremony = json!({ "reason": "key ceremony test" });
    let revoked = api
        .expect(200, M::POST, &revoke, &admin, Some(&ceremony))
        .await;
    assert_eq!(revoked["event"]["event"], "revoked");

    // VC API issueCredential: a passport published through the publish path.
    let mut third = example.clone();
    third["uniqueProductIdentifier"]["serial"] = json!("EXAMPLE-VC-0001");
    let issued = api
        .expect(
            201,
            M::POST,
            "/credentials/issue",
            &admin,
            Some(&json!({ "credential": { "credentialSubject": third }, "options": {} })),
        )
        .await;
    assert!(
        issued["verifiableCredential"]["proof"].is_object(),
        "{issued}"
    );

    // Every admin route was answered as documented.
    let all: BTreeSet<(String, String)> = ROUTES
        .iter()
        .map(|(m, p, _)| (m.to_string(), p.to_string()))
        .collect();
    let missing: Vec<_> = all.difference(&api.covered).collect();
    assert!(missing.is_empty(), "not exercised: {missing:?}");

    // The same schemas refuse an answer or a request that differs from them.
    let publish = api.success_validator(Method::POST, "/api/v1/passports/{id}/publish", 200);
    assert!(publish.is_valid(&published));
    assert!(!publish.is_valid(&renamed(&published, "logIndex", "logIdx")));
    let mut dropped = published.clone();
    dropped.as_object_mut().unwrap().remove("versionUrl");
    assert!(!publish.is_valid(&dropped));
    let mut added = published.clone();
    added["signature"] = json!("…");
    assert!(!publish.is_valid(&added));
    let mut wrong = published.clone();
    wrong["status"] = json!("suspended");
    assert!(!publish.is_valid(&wrong));
    let detail_schema = api.success_validator(Method::GET, "/api/v1/passports/{id}", 200);
    assert!(detail_schema.is_valid(&detail));
    let mut inner = detail.clone();
    inner["current"]["passport"] =
        renamed(&detail["current"]["passport"], "version", "versionNumber");
    assert!(!detail_schema.is_valid(&inner));
    let suspend = &doc["paths"]["/api/v1/passports/{id}/suspend"]["post"]["requestBody"]["content"]
        ["application/json"]["schema"];
    assert!(!validator(&doc, suspend).is_valid(&json!({})));
    assert!(validator(&doc, suspend).is_valid(&reason));
    let submission = &doc["paths"]["/api/v1/passports"]["post"]["requestBody"]["content"]
        ["application/json"]["schema"];
    let submission = validator(&doc, submission);
    assert!(submission.is_valid(&example));
    assert!(!submission.is_valid(&renamed(&example, "economicOperatorId", "operatorId")));

    api.node.stop().await;
}

both!(every_admin_route_answers_as_its_served_document_says);
