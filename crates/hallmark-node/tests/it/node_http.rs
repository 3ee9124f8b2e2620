//! The whole node over real HTTP (127.0.0.1:0), against SQLite and PostgreSQL: lifecycle,
//! scope matrix, key rejections, self-revocation, the public path, verification of every
//! published credential against the served DID document before and after a key rotation.

use hallmark_core::did::DidDocument;
use hallmark_core::verify::verify;
use hallmark_keys::hsm::{Hsm, HsmConfig};
use hallmark_keys::HsmCustody;
use hallmark_node::routes::admin::ROUTES;
use hallmark_node::routes::dpp::V1_ROUTES;
use hallmark_node::Scope;
use hallmark_testkit as kit;
use kit::{basic, Backend, Node, Reply, TestNode};
use reqwest::Method;
use secrecy::SecretString;
use serde_json::{json, Value};
use sha2::Digest as _;
use std::collections::BTreeSet;
use std::sync::Arc;

/// A node on fresh data of its own, with the defaults.
async fn start(backend: Backend) -> Node {
    TestNode::new(backend).start().await
}

/// Every JSON pointer to a leaf in `v`.
fn leaves(v: &Value, at: String, out: &mut BTreeSet<String>) {
    match v {
        Value::Object(m) => {
            for (k, x) in m {
                leaves(x, format!("{at}/{k}"), out);
            }
        }
        Value::Array(a) => {
            for (i, x) in a.iter().enumerate() {
                leaves(x, format!("{at}/{i}"), out);
            }
        }
        _ => {
            out.insert(at);
        }
    }
}

use kit::both;

both!(full_lifecycle);
both!(scope_matrix);
both!(unknown_revoked_expired_and_near_miss_keys_get_the_same_401);
both!(a_key_cannot_revoke_itself);
both!(credentials_verify_before_and_after_rotation);
both!(one_live_passport_per_product_identifier);

/// A product names one passport: a second create of the same identifier is a 409 naming
/// the passport that has it — also when many creates race — and an edit cannot move a
/// passport to another identifier. Deactivating the passport frees the identifier for a
/// successor.
async fn one_live_passport_per_product_identifier(backend: Backend) {
    let n = start(backend).await;
    let (w, _, _) = n.key("write").await;
    let create = |serial: &'static str| {
        let (n, w) = (&n, w.clone());
        async move {
            n.call(
                Method::POST,
                "/api/v1/passports",
                Some(&w),
                Some(&kit::battery_draft(serial)),
            )
            .await
        }
    };
    let first = create("NC-0001").await;
    assert_eq!(
        first.status,
        201,
        "{}",
        String::from_utf8_lossy(&first.body)
    );
    let first = first.json()["id"].as_str().unwrap().to_string();

    let again = create("NC-0001").await;
    let problem = again.problem(409, "identifier-in-use");
    assert_eq!(problem["existing_passport"], first.as_str());
    assert_eq!(
        problem["identifier"],
        "(01)09506000134352(21)NC-0001 at item level"
    );
    assert!(
        problem["detail"].as_str().unwrap().contains(&first),
        "{problem}"
    );

    // An edit naming another serial would move the passport to another product.
    let moved = n
        .call(
            Method::PUT,
            &format!("/api/v1/passports/{first}/draft"),
            Some(&w),
            Some(&kit::battery_draft("NC-0002")),
        )
        .await;
    moved.problem(409, "conflict");

    // Many concurrent creates over HTTP: exactly one passport.
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..12 {
        let (url, auth) = (format!("{}/api/v1/passports", n.admin), w.clone());
        tasks.spawn(async move {
            let r = kit::client()
                .post(url)
                .header("authorization", auth)
                .header("content-type", "application/json")
                .body(serde_json::to_vec(&kit::battery_draft("NC-RACE")).unwrap())
                .send()
                .await
                .unwrap();
            Reply::from(r).await
        });
    }
    let replies = tasks.join_all().await;
    let created: Vec<String> = replies
        .iter()
        .filter(|r| r.status == 201)
        .map(|r| r.json()["id"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(created.len(), 1, "exactly one create wins");
    for r in replies.iter().filter(|r| r.status != 201) {
        assert_eq!(
            r.problem(409, "identifier-in-use")["existing_passport"],
            created[0].as_str()
        );
    }

    // Deactivated: the identifier is free for a successor, which then holds it.
    let publish = |id: String| {
        let (n, w) = (&n, w.clone());
        async move {
            n.call(
                Method::POST,
                &format!("/api/v1/passports/{id}/publish"),
                Some(&w),
                None,
            )
            .await
        }
    };
    assert_eq!(publish(first.clone()).await.status, 200);
    let d = n
        .call(
            Method::POST,
            &format!("/api/v1/passports/{first}/deactivate"),
            Some(&w),
            Some(&json!({ "reason": "issued with the wrong cell chemistry" })),
        )
        .await;
    assert_eq!(d.status, 200, "{}", String::from_utf8_lossy(&d.body));
    let successor = create("NC-0001").await;
    assert_eq!(
        successor.status,
        201,
        "{}",
        String::from_utf8_lossy(&successor.body)
    );
    let successor = successor.json()["id"].as_str().unwrap().to_string();
    assert_ne!(successor, first);
    assert_eq!(publish(successor.clone()).await.status, 200);
    let third = create("NC-0001").await;
    assert_eq!(
        third.problem(409, "identifier-in-use")["existing_passport"],
        successor.as_str()
    );
}

async fn full_lifecycle(backend: Backend) {
    let n = start(backend).await;
    let (w, _, _) = n.key("write").await;
    let (r, _, _) = n.key("read").await;
    let id = step_draft_is_not_public(&n, &w).await;
    let bad = step_dry_run_validation(&n, &w).await;
    step_update_the_draft_and_publish(&n, &w, &id, &bad).await;
    let (did, one, cur) = step_public_read(&n, &r, &id).await;
    step_restricted_fields_never_public(&one, &cur);
    let cur2 = step_new_version(&n, &w, &id, &did, &cur).await;
    step_suspend_and_resume(&n, &w, &id).await;
    step_archive(&n, &w, &id, &cur2).await;
    step_deactivate_another(&n, &w).await;
    step_history(&n, &r, &id).await;
    step_list(&n, &w, &r, &id).await;
    step_whoami(&n, &r).await;
    n.running.stop();
}

async fn step_draft_is_not_public(n: &Node, w: &str) -> String {
    // Draft: not public; the same 404 as an unknown id.
    let created = n
        .call(
            Method::POST,
            "/api/v1/passports",
            Some(w),
            Some(&kit::battery_draft("SN-1")),
        )
        .await;
    assert_eq!(created.status, 201);
    let c = created.json();
    assert_eq!(c["status"], "draft");
    assert_eq!(c["validation"]["valid"], true);
    let id = c["id"].as_str().unwrap().to_string();
    let draft_404 = n.get_public(&format!("/passports/{id}"), None).await;
    draft_404.problem(404, "not-found");
    let unknown = n
        .get_public("/passports/01900000-0000-7000-8000-000000000000", None)
        .await;
    assert_eq!(draft_404.body, unknown.body);
    assert_eq!(
        n.get_public(&format!("/passports/{id}/versions/1"), None)
            .await
            .body,
        unknown.body
    );
    id
}

async fn step_dry_run_validation(n: &Node, w: &str) -> Value {
    // Dry-run validation reports issues without storing anything.
    let mut bad = kit::battery_draft("SN-1");
    bad["data"]["materialComposition"]["batteryMaterials"][0]["batteryMaterialIdentifier"] =
        json!("7439-93-2 ");
    let v = n
        .call(
            Method::POST,
            "/api/v1/passports/validate",
            Some(w),
            Some(&bad),
        )
        .await;
    assert_eq!(v.status, 200);
    assert_eq!(v.json()["valid"], false);
    assert!(!v.json()["issues"].as_array().unwrap().is_empty());
    bad
}

async fn step_update_the_draft_and_publish(n: &Node, w: &str, id: &str, bad: &Value) {
    // Update the draft (invalid data is reported, valid again afterwards), then publish.
    let u = n
        .call(
            Method::PUT,
            &format!("/api/v1/passports/{id}/draft"),
            Some(w),
            Some(bad),
        )
        .await;
    assert_eq!(u.status, 200);
    assert_eq!(u.json()["validation"]["valid"], false);
    let p = n
        .call(
            Method::POST,
            &format!("/api/v1/passports/{id}/publish"),
            Some(w),
            None,
        )
        .await;
    let problem = p.problem(422, "invalid-passport");
    assert!(problem["issues"][0]["pointer"]
        .as_str()
        .unwrap()
        .starts_with("/data/materialComposition"));
    let u = n
        .call(
            Method::PUT,
            &format!("/api/v1/passports/{id}/draft"),
            Some(w),
            Some(&kit::battery_draft("SN-1")),
        )
        .await;
    assert_eq!(u.status, 200);
    let p = n
        .call(
            Method::POST,
            &format!("/api/v1/passports/{id}/publish"),
            Some(w),
            None,
        )
        .await;
    assert_eq!(p.status, 200, "{}", String::from_utf8_lossy(&p.body));
    assert_eq!(p.json()["version"], 1);
}

async fn step_public_read(n: &Node, r: &str, id: &str) -> (DidDocument, Value, Reply) {
    // Public read: exactly the stored public credential, both forms, cache headers.
    let did = n.did().await;
    let one = n
        .call(
            Method::GET,
            &format!("/api/v1/passports/{id}"),
            Some(r),
            None,
        )
        .await;
    assert_eq!(one.status, 200);
    let one = one.json();
    let cur = n.get_public(&format!("/passports/{id}"), None).await;
    assert_eq!(cur.status, 200);
    assert_eq!(cur.header("content-type"), Some("application/vc+ld+json"));
    assert_eq!(cur.header("cache-control"), Some("public, max-age=60"));
    assert_eq!(cur.header("hallmark-passport-status"), Some("published"));
    assert!(cur.header("etag").unwrap().starts_with('"'));
    // A browser-based verifier may read the status and the log pointer.
    let cors = Reply::from(
        kit::client()
            .get(format!("{}/passports/{id}", n.public))
            .header("origin", "https://verifier.example")
            .send()
            .await
            .unwrap(),
    )
    .await;
    let exposed = cors
        .header("access-control-expose-headers")
        .unwrap()
        .to_ascii_lowercase();
    for h in [
        "hallmark-passport-status",
        "hallmark-log-index",
        "link",
        "etag",
    ] {
        assert!(exposed.contains(h), "{h} not exposed: {exposed}");
    }
    cur.assert_security_headers();
    assert_eq!(
        serde_json::from_slice::<Value>(&cur.body).unwrap(),
        one["current"]["credentials"]["public"]["dataIntegrity"]
    );
    assert!(verify(&cur.body, &did).is_valid());
    // Byte for byte what the store holds; ETag is the SHA-256 of those bytes.
    let pid = hallmark_core::passport::PassportId::from_uuid(id.parse().unwrap()).unwrap();
    let stored = n
        .running
        .app
        .store
        .get_version(&pid, Some(1))
        .await
        .unwrap();
    assert_eq!(stored.credentials.public.data_integrity, cur.body);
    {
        use sha2::Digest;
        assert_eq!(
            cur.header("etag").unwrap(),
            format!("\"{}\"", hex::encode(sha2::Sha256::digest(&cur.body)))
        );
    }
    let jwt = n
        .get_public(&format!("/passports/{id}"), Some("application/vc+jwt"))
        .await;
    assert_eq!(jwt.header("content-type"), Some("application/vc+jwt"));
    assert_eq!(
        String::from_utf8(jwt.body.clone()).unwrap(),
        one["current"]["credentials"]["public"]["jwt"]
            .as_str()
            .unwrap()
    );
    assert!(verify(&jwt.body, &did).is_valid());
    let v1 = n
        .get_public(&format!("/passports/{id}/versions/1"), None)
        .await;
    assert_eq!(v1.body, cur.body);
    assert_eq!(
        v1.header("cache-control"),
        Some("public, max-age=31536000, immutable")
    );
    let json_form = n
        .get_public(&format!("/passports/{id}"), Some("application/json"))
        .await;
    assert_eq!(json_form.body, cur.body);
    assert_eq!(json_form.header("content-type"), Some("application/json"));
    // Conditional GET.
    let etag = cur.header("etag").unwrap().to_string();
    let r304 = kit::client()
        .get(format!("{}/passports/{id}", n.public))
        .header("if-none-match", &etag)
        .send()
        .await
        .unwrap();
    assert_eq!(r304.status().as_u16(), 304);
    (did, one, cur)
}

fn step_restricted_fields_never_public(one: &Value, cur: &Reply) {
    // Restricted fields never on the public path.
    let public_subject = &serde_json::from_slice::<Value>(&cur.body).unwrap()["credentialSubject"];
    let authority: Value = one["current"]["credentials"]["authority"]["dataIntegrity"].clone();
    let (mut pub_leaves, mut auth_leaves) = (BTreeSet::new(), BTreeSet::new());
    leaves(&public_subject["data"], String::new(), &mut pub_leaves);
    leaves(
        &authority["credentialSubject"]["data"],
        String::new(),
        &mut auth_leaves,
    );
    let restricted: Vec<_> = auth_leaves.difference(&pub_leaves).collect();
    assert!(!restricted.is_empty(), "the samples have restricted fields");
    assert!(pub_leaves.is_subset(&auth_leaves));
    for cred in ["legitimateInterest", "authority"] {
        let restricted_form = one["current"]["credentials"][cred]["dataIntegrity"].to_string();
        assert_ne!(restricted_form.as_bytes(), &cur.body[..]);
    }
}

async fn step_new_version(n: &Node, w: &str, id: &str, did: &DidDocument, cur: &Reply) -> Reply {
    // A new version: v1 stays served unchanged at its URL.
    let mut v2 = kit::battery_draft("SN-1");
    v2["facilityId"] = json!("urn:gln:4012345000016");
    let s = n
        .call(
            Method::POST,
            &format!("/api/v1/passports/{id}/versions"),
            Some(w),
            Some(&v2),
        )
        .await;
    assert_eq!(s.status, 201, "{}", String::from_utf8_lossy(&s.body));
    assert_eq!(s.json()["draftVersion"], 2);
    // While v2 is a draft the public still sees v1.
    assert_eq!(
        n.get_public(&format!("/passports/{id}"), None).await.body,
        cur.body
    );
    n.get_public(&format!("/passports/{id}/versions/2"), None)
        .await
        .problem(404, "not-found");
    let p2 = n
        .call(
            Method::POST,
            &format!("/api/v1/passports/{id}/publish"),
            Some(w),
            None,
        )
        .await;
    assert_eq!(p2.status, 200, "{}", String::from_utf8_lossy(&p2.body));
    assert_eq!(p2.json()["version"], 2);
    let cur2 = n.get_public(&format!("/passports/{id}"), None).await;
    assert_ne!(cur2.body, cur.body);
    assert!(verify(&cur2.body, did).is_valid());
    assert_eq!(
        n.get_public(&format!("/passports/{id}/versions/1"), None)
            .await
            .body,
        cur.body
    );
    cur2
}

async fn step_suspend_and_resume(n: &Node, w: &str, id: &str) {
    // Suspend → 410 with the reason; resume → served again.
    n.call(
        Method::POST,
        &format!("/api/v1/passports/{id}/suspend"),
        Some(w),
        Some(&json!({})),
    )
    .await
    .problem(422, "unprocessable");
    let s = n
        .call(
            Method::POST,
            &format!("/api/v1/passports/{id}/suspend"),
            Some(w),
            Some(&json!({ "reason": "under investigation" })),
        )
        .await;
    assert_eq!(s.status, 200);
    let gone = n.get_public(&format!("/passports/{id}"), None).await;
    assert_eq!(gone.problem(410, "gone")["reason"], "under investigation");
    // The 410 says which status, and is cached no longer than a 200 of the current
    // version, so a CDN stops serving it within a minute of a resume (version URLs too).
    assert_eq!(gone.header("hallmark-passport-status"), Some("suspended"));
    assert_eq!(gone.header("cache-control"), Some("public, max-age=60"));
    let gone_v1 = n
        .get_public(&format!("/passports/{id}/versions/1"), None)
        .await;
    assert_eq!(gone_v1.status, 410);
    assert_eq!(gone_v1.header("cache-control"), Some("public, max-age=60"));
    let res = n
        .call(
            Method::POST,
            &format!("/api/v1/passports/{id}/resume"),
            Some(w),
            None,
        )
        .await;
    assert_eq!(res.status, 200);
    assert_eq!(
        n.get_public(&format!("/passports/{id}"), None).await.status,
        200
    );
}

async fn step_archive(n: &Node, w: &str, id: &str, cur2: &Reply) {
    // Archive: still served, same bytes, status beside them.
    let a = n
        .call(
            Method::POST,
            &format!("/api/v1/passports/{id}/archive"),
            Some(w),
            Some(&json!({})),
        )
        .await;
    assert_eq!(a.status, 200);
    let arch = n.get_public(&format!("/passports/{id}"), None).await;
    assert_eq!(arch.status, 200);
    assert_eq!(arch.body, cur2.body);
    assert_eq!(arch.header("hallmark-passport-status"), Some("archived"));
    // Terminal: no more transitions.
    n.call(
        Method::POST,
        &format!("/api/v1/passports/{id}/resume"),
        Some(w),
        None,
    )
    .await
    .problem(409, "conflict");
}

async fn step_deactivate_another(n: &Node, w: &str) {
    // Deactivate another one (reason required).
    let id2 = n.publish_new(w, "SN-2").await;
    let d = n
        .call(
            Method::POST,
            &format!("/api/v1/passports/{id2}/deactivate"),
            Some(w),
            Some(&json!({ "reason": "issued in error" })),
        )
        .await;
    assert_eq!(d.status, 200);
    let deact = n.get_public(&format!("/passports/{id2}"), None).await;
    assert_eq!(deact.status, 200);
    assert_eq!(
        deact.header("hallmark-passport-status"),
        Some("deactivated")
    );
}

async fn step_history(n: &Node, r: &str, id: &str) {
    // History: every write audited.
    let h = n
        .call(
            Method::GET,
            &format!("/api/v1/passports/{id}/history"),
            Some(r),
            None,
        )
        .await;
    assert_eq!(h.status, 200);
    let actions: Vec<String> = h.json()["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap().to_string())
        .collect();
    // The publish event (a transparency-log leaf) commits to the exact bytes served.
    let published = h.json()["events"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["action"] == "passport.published")
        .cloned()
        .unwrap();
    let served = n
        .get_public(&format!("/passports/{id}/versions/1"), None)
        .await;
    assert_eq!(
        published["detail"]["credentialSha256"]["public"],
        hex::encode(sha2::Sha256::digest(&served.body))
    );
    for a in [
        "passport.draft-created",
        "passport.draft-updated",
        "passport.published",
        "passport.version-started",
        "passport.suspended",
        "passport.resumed",
        "passport.archived",
    ] {
        assert!(
            actions.iter().any(|x| x == a),
            "{a} missing from {actions:?}"
        );
    }
}

async fn step_list(n: &Node, w: &str, r: &str, id: &str) {
    // List: filters and cursor pagination.
    let _id3 = n.publish_new(w, "SN-3").await;
    let all = n
        .call(Method::GET, "/api/v1/passports", Some(r), None)
        .await
        .json();
    assert_eq!(all["items"].as_array().unwrap().len(), 3);
    let archived = n
        .call(
            Method::GET,
            "/api/v1/passports?status=archived",
            Some(r),
            None,
        )
        .await
        .json();
    assert_eq!(archived["items"].as_array().unwrap().len(), 1);
    assert_eq!(archived["items"][0]["id"], id);
    let mut seen = Vec::new();
    let mut url = "/api/v1/passports?limit=1".to_string();
    loop {
        let page = n.call(Method::GET, &url, Some(r), None).await.json();
        for i in page["items"].as_array().unwrap() {
            seen.push(i["id"].as_str().unwrap().to_string());
        }
        match page["next"].as_str() {
            Some(next) => url = format!("/api/v1/passports?limit=1&after={next}"),
            None => break,
        }
    }
    assert_eq!(seen.len(), 3);
    n.call(Method::GET, "/api/v1/passports?status=bogus", Some(r), None)
        .await
        .problem(400, "bad-request");
}

async fn step_whoami(n: &Node, r: &str) {
    // whoami
    let who = n
        .call(Method::GET, "/api/v1/whoami", Some(r), None)
        .await
        .json();
    assert_eq!(who["scope"], "read");
}

fn concrete(path: &str) -> String {
    path.replace("{id}", "01900000-0000-7000-8000-000000000000")
}

async fn scope_matrix(backend: Backend) {
    let n = start(backend).await;
    let (r, _, _) = n.key("read").await;
    let (w, _, _) = n.key("write").await;
    let (a, _, _) = n.key("admin").await;
    let principals: [(Option<&str>, Option<Scope>); 4] = [
        (None, None),
        (Some(&r), Some(Scope::Read)),
        (Some(&w), Some(Scope::Write)),
        (Some(&a), Some(Scope::Admin)),
    ];
    for (method, path, required) in ROUTES {
        let m = Method::from_bytes(method.as_bytes()).unwrap();
        // A body so that only authorisation decides between 401/403 and "got through".
        let body = json!({});
        for (auth, scope) in &principals {
            let reply = n.call(m.clone(), &concrete(path), *auth, Some(&body)).await;
            match scope {
                None => {
                    reply.problem(401, "unauthorized");
                }
                Some(s) if !s.allows(*required) => {
                    reply.problem(403, "forbidden");
                }
                Some(_) => assert!(
                    ![401, 403, 405].contains(&reply.status),
                    "{method} {path} as {scope:?}: {}",
                    reply.status
                ),
            }
        }
        // Registered (an unused method gets 405 from the route, not the 404 fallback).
        n.call(Method::PATCH, &concrete(path), Some(&a), Some(&body))
            .await
            .problem(405, "method-not-allowed");
        // The public listener has no admin route.
        let p = n
            .call_raw(
                m.clone(),
                &format!("{}{}", n.public, concrete(path)),
                Some(&a),
                Some(&body),
                None,
            )
            .await;
        if *path != "/openapi.json" {
            assert!(
                [404, 405].contains(&p.status),
                "public listener answered {method} {path} with {}",
                p.status
            );
        }
    }
    // Every admin route is in the OpenAPI document, and so is every public route.
    let doc = n
        .call(Method::GET, "/openapi.json", Some(&r), None)
        .await
        .json();
    for (method, path, required) in ROUTES {
        let op = &doc["paths"][*path][method.to_ascii_lowercase()];
        assert!(op.is_object(), "{method} {path} undocumented");
        assert_eq!(op["x-required-scope"], required.as_str());
    }
    let public_doc = n.get_public("/openapi.json", None).await.json();
    for path in [
        "/health",
        "/.well-known/did.json",
        "/passports/{id}",
        "/passports/{id}/versions/{version}",
    ] {
        assert!(public_doc["paths"][path]["get"].is_object(), "{path}");
    }
    // A reader's registration (issue 20): its body and 201 answer documented.
    let register = &public_doc["paths"]["/readers"]["post"];
    assert!(register["requestBody"].is_object(), "{register}");
    assert!(register["responses"]["201"].is_object(), "{register}");
    assert!(register.get("security").is_none());
    assert!(public_doc["paths"]
        .as_object()
        .unwrap()
        .keys()
        .all(|p| !p.starts_with("/api")));
    // The EN 18222 routes (a sibling table): the same scopes on the admin listener, their
    // refusals as the spec's `Result`.
    for (method, path, required) in V1_ROUTES {
        // Listed in both documents, pointing at the spec rather than copying its schemas.
        let op = &doc["paths"][*path][method.to_ascii_lowercase()];
        assert_eq!(op["x-required-scope"], required.as_str(), "{method} {path}");
        assert!(op["externalDocs"]["url"].is_string(), "{method} {path}");
        let public_op = &public_doc["paths"][*path][method.to_ascii_lowercase()];
        assert!(public_op["externalDocs"].is_object(), "{method} {path}");
        assert!(public_op.get("security").is_none());
        let m = Method::from_bytes(method.as_bytes()).unwrap();
        let path = path
            .replace("{dppId}", "01900000-0000-7000-8000-000000000000")
            .replace("{productId}", "09506000134352")
            .replace("{elementIdPath}", "%24%5B%27a%27%5D");
        let body = json!({ "productIds": ["09506000134352"] });
        for (auth, scope) in &principals {
            let reply = n.call(m.clone(), &path, *auth, Some(&body)).await;
            match scope {
                None => {
                    assert_eq!(reply.status, 401, "{method} {path}");
                    assert_eq!(reply.json()["messages"][0]["code"], "unauthorized");
                }
                Some(s) if !s.allows(*required) => assert_eq!(reply.status, 403),
                Some(_) => assert!(
                    ![401, 403, 405].contains(&reply.status),
                    "{method} {path} as {scope:?}: {}",
                    reply.status
                ),
            }
        }
    }
    n.running.stop();
}

async fn unknown_revoked_expired_and_near_miss_keys_get_the_same_401(backend: Backend) {
    let n = start(backend).await;
    let (a, _, _) = n.key("admin").await;
    let (good, text, prefix) = n.key("read").await;
    assert_eq!(
        n.call(Method::GET, "/api/v1/whoami", Some(&good), None)
            .await
            .status,
        200
    );
    let reference = n.call(Method::GET, "/api/v1/whoami", None, None).await;
    reference.problem(401, "unauthorized");

    // Near miss: one character of the secret changed.
    let mut chars: Vec<char> = text.chars().collect();
    let i = 40;
    chars[i] = if chars[i] == 'a' { 'b' } else { 'a' };
    let near: String = chars.into_iter().collect();
    let r = n
        .call(
            Method::GET,
            "/api/v1/whoami",
            Some(&format!("Bearer {near}")),
            None,
        )
        .await;
    r.problem(401, "unauthorized");
    assert_eq!(r.body, reference.body);

    // Unknown (well-formed, never issued).
    let stranger = hallmark_node::ApiKey::generate_os(Scope::Read).unwrap();
    let r = n
        .call(
            Method::GET,
            "/api/v1/whoami",
            Some(&format!("Bearer {}", stranger.expose_secret())),
            None,
        )
        .await;
    assert_eq!(r.status, 401);
    assert_eq!(r.body, reference.body);

    // Expired.
    let soon = (time::OffsetDateTime::now_utc() + time::Duration::seconds(1))
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap();
    let (exp, _, _) = n.key_with("read", Some(soon)).await;
    assert_eq!(
        n.call(Method::GET, "/api/v1/whoami", Some(&exp), None)
            .await
            .status,
        200
    );
    tokio::time::sleep(std::time::Duration::from_millis(1600)).await;
    let r = n
        .call(Method::GET, "/api/v1/whoami", Some(&exp), None)
        .await;
    assert_eq!(r.status, 401);
    assert_eq!(r.body, reference.body);

    // Revoked.
    let rv = n
        .call(
            Method::POST,
            &format!("/api/v1/api-keys/{prefix}/revoke"),
            Some(&a),
            None,
        )
        .await;
    assert_eq!(rv.status, 200, "{}", String::from_utf8_lossy(&rv.body));
    let r = n
        .call(Method::GET, "/api/v1/whoami", Some(&good), None)
        .await;
    assert_eq!(r.status, 401);
    assert_eq!(r.body, reference.body);

    // The store holds prefix + hash only; the list never shows a secret.
    let list = n
        .call(Method::GET, "/api/v1/api-keys", Some(&a), None)
        .await;
    let text_list = String::from_utf8_lossy(&list.body).to_string();
    assert!(!text_list.contains(&text));
    assert!(text_list.contains(&prefix));
    // Every failure is an audit event in the store.
    let audit = n.running.app.store.list_audit(0, 1000).await.unwrap();
    let failures = audit
        .iter()
        .filter(|e| e.event.action == "auth.failed")
        .count();
    assert!(failures >= 4, "{failures}");
    assert!(audit.iter().any(|e| e.event.action == "api-key.revoked"));
    assert!(audit
        .iter()
        .all(|e| !e.event.detail.to_string().contains(&text)));
    n.running.stop();
}

async fn a_key_cannot_revoke_itself(backend: Backend) {
    let n = start(backend).await;
    let (a, _, prefix) = n.key("admin").await;
    let r = n
        .call(
            Method::POST,
            &format!("/api/v1/api-keys/{prefix}/revoke"),
            Some(&a),
            None,
        )
        .await;
    let p = r.problem(409, "conflict");
    assert!(p["detail"]
        .as_str()
        .unwrap()
        .contains("cannot revoke itself"));
    // Still usable; another admin key (or the admin login) may revoke it.
    assert_eq!(
        n.call(Method::GET, "/api/v1/whoami", Some(&a), None)
            .await
            .status,
        200
    );
    let r = n
        .call(
            Method::POST,
            &format!("/api/v1/api-keys/{prefix}/revoke"),
            Some(&basic()),
            None,
        )
        .await;
    assert_eq!(r.status, 200);
    n.running.stop();
}

async fn credentials_verify_before_and_after_rotation(backend: Backend) {
    let n = start(backend).await;
    let (w, _, _) = n.key("write").await;
    let (a, _, _) = n.key("admin").await;
    let before = n.publish_new(&w, "SN-R1").await;
    let did1 = n.did().await;
    assert_eq!(did1.verification_method.len(), 1);
    let b1 = n
        .get_public(&format!("/passports/{before}"), None)
        .await
        .body;
    assert!(verify(&b1, &did1).is_valid());

    let rot = n
        .call(Method::POST, "/api/v1/signing-keys/rotate", Some(&a), None)
        .await;
    assert_eq!(rot.status, 200, "{}", String::from_utf8_lossy(&rot.body));
    let after = n.publish_new(&w, "SN-R2").await;
    let did2 = n.did().await;
    assert_eq!(did2.verification_method.len(), 2);
    for id in [&before, &after] {
        for accept in ["application/vc+ld+json", "application/vc+jwt"] {
            let b = n
                .get_public(&format!("/passports/{id}"), Some(accept))
                .await
                .body;
            let report = verify(&b, &did2);
            assert!(report.is_valid(), "{id} {accept}: {report}");
        }
    }
    let keys = n
        .call(Method::GET, "/api/v1/signing-keys", Some(&a), None)
        .await
        .json();
    let statuses: Vec<&str> = keys["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|k| k["purpose"] == "passport-signing")
        .map(|k| k["status"].as_str().unwrap())
        .collect();
    assert_eq!(statuses.iter().filter(|s| **s == "current").count(), 1);
    assert_eq!(statuses.iter().filter(|s| **s == "retired").count(), 1);

    // Revoking the retired key removes it from the DID document: its credentials no longer verify.
    let retired = keys["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|k| k["status"] == "retired")
        .unwrap()["keyId"]
        .as_str()
        .unwrap()
        .to_string();
    let rv = n
        .call(
            Method::POST,
            &format!("/api/v1/signing-keys/{retired}/revoke"),
            Some(&a),
            Some(&json!({ "reason": "test compromise" })),
        )
        .await;
    assert_eq!(rv.status, 200, "{}", String::from_utf8_lossy(&rv.body));
    let did3 = n.did().await;
    assert_eq!(did3.verification_method.len(), 1);
    assert!(!verify(&b1, &did3).is_valid());
    let b2 = n
        .get_public(&format!("/passports/{after}"), None)
        .await
        .body;
    assert!(verify(&b2, &did3).is_valid());
    n.running.stop();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unavailable_hsm_serves_reads_and_refuses_signing_with_503() {
    let state = Hsm::connect(&HsmConfig {
        module_path: "/nonexistent/libpkcs11.so".into(),
        token_label: "none".into(),
        pin: SecretString::from("0000"),
        key_label_prefix: "hallmark".into(),
    });
    assert!(!state.is_ready());
    let integrity = Arc::new(hallmark_core::integrity::IntegrityKeys::derive(&[5; 32]).unwrap());
    let n = TestNode::new(Backend::Sqlite)
        .custody(Arc::new(HsmCustody::new(state, integrity)))
        .start()
        .await;
    let health = n.get_public("/health", None).await;
    assert_eq!(health.status, 200);
    assert_eq!(health.json()["signing"], "unavailable");
    assert_eq!(
        n.get_public("/.well-known/did.json", None).await.status,
        200
    );
    let (w, _, _) = n.key("write").await;
    let r = n
        .call(
            Method::POST,
            "/api/v1/passports",
            Some(&w),
            Some(&kit::battery_draft("SN-H")),
        )
        .await;
    assert_eq!(r.status, 201);
    let id = r.json()["id"].as_str().unwrap().to_string();
    let p = n
        .call(
            Method::POST,
            &format!("/api/v1/passports/{id}/publish"),
            Some(&w),
            None,
        )
        .await;
    let problem = p.problem(503, "signing-unavailable");
    assert_eq!(problem["detail"], "HSM unavailable");
    n.running.stop();
}
