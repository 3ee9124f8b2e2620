//! Input is refused, not altered (issue 13.8), over real HTTP against a real node on SQLite
//! and PostgreSQL: U+0000 in query parameters, path parameters and body strings is 400
//! `forbidden-character` on both backends (PostgreSQL used to answer 500, SQLSTATE 22021);
//! duplicate member names are 400 `duplicate-member`; numbers that would be signed as a
//! different value are 422 `inexact-number`; each names the parameter or JSON Pointer, and
//! nothing is written (the audit log keeps its length). Numbers that are exact go through
//! and are signed exactly as sent.

use hallmark_core::did::DidDocument;
use hallmark_core::verify::verify;
use hallmark_testkit as kit;
use kit::{Backend, Reply, TestNode};
use reqwest::Method;
use serde_json::{json, Value};

/// A node with an admin-scope API key (Bearer): unlike the admin login, its use adds no
/// audit event.
struct Node(kit::Node);

impl std::ops::Deref for Node {
    type Target = kit::Node;

    fn deref(&self) -> &kit::Node {
        &self.0
    }
}

async fn start(backend: Backend) -> Node {
    Node(
        TestNode::new(backend)
            .api_key("admin", "input test")
            .start()
            .await,
    )
}

impl Node {
    /// A request to the admin listener; `body` is sent as JSON text exactly as given.
    async fn call(&self, method: Method, path: &str, body: Option<&str>) -> Reply {
        self.0
            .call_text(method, path, Some(self.bearer()), body)
            .await
    }

    async fn audit_len(&self) -> u64 {
        self.running.app.store.audit_len().await.unwrap()
    }

    async fn passports(&self) -> usize {
        let r = self.call(Method::GET, "/api/v1/passports", None).await;
        assert_eq!(r.status, 200);
        r.json()["items"].as_array().unwrap().len()
    }

    /// Creates and publishes a passport from `draft` (JSON text); returns its id.
    async fn publish(&self, draft: &str) -> String {
        let r = self
            .call(Method::POST, "/api/v1/passports", Some(draft))
            .await;
        assert_eq!(r.status, 201, "{}", String::from_utf8_lossy(&r.body));
        let id = r.json()["id"].as_str().unwrap().to_string();
        let p = self
            .call(
                Method::POST,
                &format!("/api/v1/passports/{id}/publish"),
                None,
            )
            .await;
        assert_eq!(p.status, 200, "{}", String::from_utf8_lossy(&p.body));
        id
    }
}

/// A `generic` 1.0.0 item passport whose public sector data is `public` (JSON text).
fn generic(serial: &str, public: &str) -> String {
    format!(
        r#"{{"uniqueProductIdentifier":{{"gtin":"09506000134352","serial":"{serial}"}},"granularity":"item","economicOperatorId":"urn:eori:DE123456789012345","sector":{{"id":"generic","schemaVersion":"1.0.0"}},"data":{{"public":{public}}}}}"#
    )
}

use kit::both;

both!(nul_is_refused_with_400_in_parameters_and_bodies);
both!(duplicate_member_names_are_refused_with_their_pointer);
both!(numbers_not_signed_as_written_are_refused_with_their_pointer);
both!(exact_numbers_are_signed_exactly_as_sent);

async fn nul_is_refused_with_400_in_parameters_and_bodies(backend: Backend) {
    let n = start(backend).await;
    let id = n.publish(&generic("NUL-1", r#"{"material":"oak"}"#)).await;
    let before = n.audit_len().await;

    // Query parameters of the admin list route (PostgreSQL answered 500 here).
    for (query, name) in [
        ("sector=%00", "sector"),
        ("gtin=%00", "gtin"),
        ("status=draft&gtin=09506000134352%00", "gtin"),
    ] {
        let p = n
            .call(Method::GET, &format!("/api/v1/passports?{query}"), None)
            .await
            .problem(400, "forbidden-character");
        assert_eq!(p["parameter"], name, "{query}");
        assert_eq!(p["in"], "query", "{query}");
    }
    // A `%` escape that is not NUL is left alone.
    let r = n
        .call(Method::GET, "/api/v1/passports?sector=%2500", None)
        .await;
    assert_eq!(r.status, 200, "{}", String::from_utf8_lossy(&r.body));
    assert_eq!(r.json()["items"], json!([]));

    // Path parameters.
    for (method, path) in [
        (Method::GET, "/api/v1/passports/%00".to_string()),
        (Method::POST, format!("/api/v1/passports/{id}%00/resume")),
        (Method::POST, "/api/v1/api-keys/x%00/revoke".to_string()),
    ] {
        let p = n
            .call(method, &path, None)
            .await
            .problem(400, "forbidden-character");
        assert_eq!(p["parameter"], "id", "{path}");
        assert_eq!(p["in"], "path", "{path}");
    }

    // Body strings: a status-change reason, an API-key label, sector data, a member name.
    let suspend = format!("/api/v1/passports/{id}/suspend");
    for (path, body, pointer) in [
        (suspend.as_str(), r#"{"reason":"recall\u0000"}"#, "/reason"),
        (
            "/api/v1/api-keys",
            r#"{"scope":"read","label":"ci\u0000"}"#,
            "/label",
        ),
        (
            "/api/v1/passports",
            &*generic("NUL-2", r#"{"material":"o\u0000ak"}"#),
            "/data/public/material",
        ),
        (
            "/api/v1/passports",
            &*generic("NUL-3", r#"{"mat\u0000erial":"oak"}"#),
            "/data/public/mat\u{0}erial",
        ),
    ] {
        let p = n
            .call(Method::POST, path, Some(body))
            .await
            .problem(400, "forbidden-character");
        assert_eq!(p["pointer"], pointer, "{body}");
    }

    // Nothing was written, and the passport was not suspended.
    assert_eq!(n.audit_len().await, before);
    assert_eq!(n.passports().await, 1);
    let one = n
        .call(Method::GET, &format!("/api/v1/passports/{id}"), None)
        .await;
    assert_eq!(one.json()["status"], "published");
    // The same requests without NUL go through.
    let r = n
        .call(Method::POST, &suspend, Some(r#"{"reason":"recall"}"#))
        .await;
    assert_eq!(r.status, 200, "{}", String::from_utf8_lossy(&r.body));
}

async fn duplicate_member_names_are_refused_with_their_pointer(backend: Backend) {
    let n = start(backend).await;
    let id = n.publish(&generic("DUP-1", r#"{"material":"oak"}"#)).await;
    let before = n.audit_len().await;
    let top = generic("DUP-2", r#"{"a":1}"#).replacen(
        r#""granularity":"item","#,
        r#""granularity":"item","granularity":"batch","#,
        1,
    );
    for (method, path, body, pointer) in [
        (
            Method::POST,
            "/api/v1/passports".to_string(),
            generic("DUP-2", r#"{"carbon":60.5,"carbon":0.01}"#),
            "/data/public/carbon",
        ),
        (
            Method::POST,
            "/api/v1/passports".to_string(),
            generic("DUP-2", r#"{"parts":[{"x":{"y":1,"y":1}}]}"#),
            "/data/public/parts/0/x/y",
        ),
        (
            Method::POST,
            "/api/v1/passports".to_string(),
            top,
            "/granularity",
        ),
        (
            Method::POST,
            "/api/v1/passports/validate".to_string(),
            generic("DUP-2", r#"{"a\u0062":1,"ab":2}"#),
            "/data/public/ab",
        ),
        (
            Method::POST,
            format!("/api/v1/passports/{id}/versions"),
            generic("DUP-1", r#"{"a/b":1,"a/b":2}"#),
            "/data/public/a~1b",
        ),
        (
            Method::POST,
            format!("/api/v1/passports/{id}/suspend"),
            r#"{"reason":"a","reason":"b"}"#.to_string(),
            "/reason",
        ),
    ] {
        let p = n
            .call(method, &path, Some(&body))
            .await
            .problem(400, "duplicate-member");
        assert_eq!(p["pointer"], pointer, "{body}");
    }
    assert_eq!(n.audit_len().await, before);
    assert_eq!(n.passports().await, 1);
}

async fn numbers_not_signed_as_written_are_refused_with_their_pointer(backend: Backend) {
    let n = start(backend).await;
    let id = n.publish(&generic("NUM-1", r#"{"material":"oak"}"#)).await;
    let draft_path = format!("/api/v1/passports/{id}/versions");
    let before = n.audit_len().await;
    for (number, reason) in [
        ("18446744073709551616", "unsafe-integer"),
        ("-9007199254740993", "unsafe-integer"),
        ("123456789012345678901234567890", "unsafe-integer"),
        ("1e400", "overflow"),
        ("-1e400", "overflow"),
        ("1e-400", "underflow"),
        ("0.30000000000000001", "inexact"),
    ] {
        for path in [
            "/api/v1/passports",
            "/api/v1/passports/validate",
            &draft_path,
        ] {
            let body = generic("NUM-2", &format!(r#"{{"ok":1.5,"cycles":[3,{number}]}}"#));
            let p = n
                .call(Method::POST, path, Some(&body))
                .await
                .problem(422, "inexact-number");
            assert_eq!(p["pointer"], "/data/public/cycles/1", "{number} {path}");
            assert_eq!(p["reason"], reason, "{number} {path}");
        }
    }
    assert_eq!(n.audit_len().await, before);
    assert_eq!(n.passports().await, 1);
}

/// Finds the first member named `name` anywhere in `v`.
fn find<'v>(v: &'v Value, name: &str) -> Option<&'v Value> {
    match v {
        Value::Object(m) => m
            .get(name)
            .or_else(|| m.values().find_map(|x| find(x, name))),
        Value::Array(a) => a.iter().find_map(|x| find(x, name)),
        _ => None,
    }
}

async fn exact_numbers_are_signed_exactly_as_sent(backend: Backend) {
    let n = start(backend).await;
    let data = r#"{"maxSafe":9007199254740991,"minSafe":-9007199254740991,"huge":1.5e300,"tiny":5e-324,"one":1.0,"tenth":0.10,"carbon":60.5}"#;
    let id = n.publish(&generic("EXACT-1", data)).await;
    let did = Reply::from(
        kit::client()
            .get(format!("{}/.well-known/did.json", n.public))
            .send()
            .await
            .unwrap(),
    )
    .await;
    let did = DidDocument::from_json(&did.body).unwrap();
    let cred = Reply::from(
        kit::client()
            .get(format!("{}/passports/{id}", n.public))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(cred.status, 200);
    assert!(verify(&cred.body, &did).is_valid());
    let v = cred.json();
    let sent: Value = serde_json::from_str(data).unwrap();
    for name in [
        "maxSafe", "minSafe", "huge", "tiny", "one", "tenth", "carbon",
    ] {
        let signed = find(&v, name).unwrap_or_else(|| panic!("{name} not in {v}"));
        // Same value (`1.0` is served as `1`: one number, two spellings).
        assert_eq!(signed.as_f64(), sent[name].as_f64(), "{name}");
    }
    assert_eq!(
        find(&v, "maxSafe").unwrap().as_u64(),
        Some(9007199254740991)
    );
    assert_eq!(
        find(&v, "minSafe").unwrap().as_i64(),
        Some(-9007199254740991)
    );
    assert_eq!(find(&v, "huge").unwrap().as_f64(), Some(1.5e300));
    assert_eq!(find(&v, "tiny").unwrap().as_f64(), Some(5e-324));
    // The signed (RFC 8785) form writes each with the decimal value sent.
    let canonical = String::from_utf8(hallmark_core::jcs::canonicalize(&v).unwrap()).unwrap();
    for written in [
        r#""maxSafe":9007199254740991"#,
        r#""minSafe":-9007199254740991"#,
        r#""huge":1.5e+300"#,
        r#""tiny":5e-324"#,
        r#""one":1"#,
        r#""tenth":0.1"#,
        r#""carbon":60.5"#,
    ] {
        assert!(canonical.contains(written), "{written} in {canonical}");
    }
}
