//! The AAS export over HTTP (issue 19 item 4; `docs/aas.md`): the public door
//! (`<base>/passports/{id}/aas`, and `Accept: application/aas+json` on the passport URL),
//! built from the verified public credential; the admin door
//! (`/api/v1/passports/{id}/aas?audience=…`, read scope) per audience; the refusals (unknown
//! and draft 404, suspended 410 on the public door, a sector without a mapping 406
//! `aas-unsupported-sector`), on SQLite and PostgreSQL.

use hallmark_testkit as kit;

use kit::{basic, Backend, Node, TestNode};
use reqwest::Method;
use serde_json::{json, Value};

/// The test report URL of the demo battery: authority tier only.
const TEST_REPORT: &str = "https://www.example.com/batteries/ax77/test-report.pdf";
const TEST_REPORTS_ELEMENT: &str = "ResultsOfTestReportsProvingCompliance";

/// The idShorts of an environment's submodels.
fn submodels(env: &Value) -> Vec<String> {
    env["submodels"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["idShort"].as_str().unwrap().to_string())
        .collect()
}

async fn admin_aas(node: &Node, key: &str, id: &str, query: &str) -> kit::Reply {
    node.call(
        Method::GET,
        &format!("/api/v1/passports/{id}/aas{query}"),
        Some(key),
        None,
    )
    .await
}

async fn the_aas_on_both_doors(backend: Backend) {
    let node = TestNode::new(backend).start().await;
    let (read, _, _) = node.key("read").await;
    let (id, _) = node.publish("S1").await;
    let path = format!("/passports/{id}/aas");

    // The public door: the documented path, as application/json.
    let p = node.get_public(&path, None).await;
    assert_eq!(p.status, 200, "{}", String::from_utf8_lossy(&p.body));
    assert_eq!(p.header("content-type"), Some("application/json"));
    assert_eq!(p.header("vary"), Some("Accept"));
    assert_eq!(p.header("cache-control"), Some("public, max-age=60"));
    assert_eq!(p.header("hallmark-passport-status"), Some("published"));
    let etag = p.header("etag").unwrap().to_string();
    let public = p.json();
    let uuid = id.trim_start_matches("urn:uuid:");
    assert_eq!(
        public["assetAdministrationShells"][0]["id"],
        format!("{}/passports/{uuid}/aas", kit::BASE_URL)
    );
    let public_text = public.to_string();
    assert!(!public_text.contains(TEST_REPORTS_ELEMENT));
    assert!(!public_text.contains(TEST_REPORT));
    assert!(!submodels(&public).contains(&"ProductCondition".to_string()));

    // Asked for by media type: the same environment as application/aas+json, on the /aas
    // path and on the passport URL (before the credential), which still negotiates.
    for url in [path.clone(), format!("/passports/{id}")] {
        let r = node.get_public(&url, Some("application/aas+json")).await;
        assert_eq!(r.status, 200, "{url}");
        assert_eq!(r.header("content-type"), Some("application/aas+json"));
        assert_eq!(r.header("vary"), Some("Accept"));
        assert_eq!(r.header("etag"), Some(etag.as_str()));
        assert_eq!(r.json(), public, "{url}");
    }
    let credential = node.get_public(&format!("/passports/{id}"), None).await;
    assert_eq!(credential.status, 200);
    assert_eq!(
        credential.header("content-type"),
        Some("application/vc+ld+json")
    );
    // The ETag revalidates.
    let r = node
        .call_raw(
            Method::GET,
            &format!("{}{path}", node.public),
            None,
            None,
            None,
        )
        .await;
    assert_eq!(r.header("etag"), Some(etag.as_str()));
    let not_modified = kit::client()
        .get(format!("{}{path}", node.public))
        .header("if-none-match", &etag)
        .send()
        .await
        .unwrap();
    assert_eq!(not_modified.status(), 304);

    // The admin door: authority by default; each audience sees its tier.
    let authority = admin_aas(&node, &read, &id, "").await;
    assert_eq!(
        authority.status,
        200,
        "{}",
        String::from_utf8_lossy(&authority.body)
    );
    assert_eq!(authority.header("content-type"), Some("application/json"));
    let authority = authority.json();
    let authority_text = authority.to_string();
    assert!(authority_text.contains(TEST_REPORTS_ELEMENT));
    assert!(authority_text.contains(TEST_REPORT));
    assert_eq!(
        admin_aas(&node, &read, &id, "?audience=authority")
            .await
            .json(),
        authority
    );
    let li = admin_aas(&node, &read, &id, "?audience=legitimateInterest").await;
    assert_eq!(li.status, 200);
    let li = li.json();
    assert!(submodels(&li).contains(&"ProductCondition".to_string()));
    assert!(!li.to_string().contains(TEST_REPORT));
    // The public audience on the admin door is the public door's environment.
    let admin_public = admin_aas(&node, &read, &id, "?audience=public").await;
    assert_eq!(admin_public.status, 200);
    assert_eq!(admin_public.json(), public);
    assert!(public_text.len() < li.to_string().len());
    assert!(li.to_string().len() < authority_text.len());

    // Refusals on the admin door: an audience that is none, no key.
    admin_aas(&node, &read, &id, "?audience=legitimate-interest")
        .await
        .problem(400, "bad-request");
    admin_aas(&node, &read, &id, "?lang=de")
        .await
        .problem(400, "bad-request");
    let anonymous = node
        .call(
            Method::GET,
            &format!("/api/v1/passports/{id}/aas"),
            None,
            None,
        )
        .await;
    assert_eq!(anonymous.status, 401);

    // Unknown ids and drafts: 404 on both doors.
    let unknown = "01900000-0000-7000-8000-000000000000";
    node.get_public(&format!("/passports/{unknown}/aas"), None)
        .await
        .problem(404, "not-found");
    node.get_public(
        &format!("/passports/{unknown}"),
        Some("application/aas+json"),
    )
    .await
    .problem(404, "not-found");
    node.get_public("/passports/not-an-id/aas", None)
        .await
        .problem(404, "not-found");
    admin_aas(&node, &read, unknown, "")
        .await
        .problem(404, "not-found");
    let r = node
        .call(
            Method::POST,
            "/api/v1/passports",
            Some(&basic()),
            Some(&kit::battery_draft("D1")),
        )
        .await;
    assert_eq!(r.status, 201);
    let draft = r.json()["id"].as_str().unwrap().to_string();
    node.get_public(&format!("/passports/{draft}/aas"), None)
        .await
        .problem(404, "not-found");
    admin_aas(&node, &read, &draft, "")
        .await
        .problem(404, "not-found");

    // Suspended: 410 on the public door, as the passport URL answers; the admin door shows it.
    let r = node
        .call(
            Method::POST,
            &format!("/api/v1/passports/{id}/suspend"),
            Some(&basic()),
            Some(&json!({ "reason": "recall under investigation" })),
        )
        .await;
    assert_eq!(r.status, 200);
    for (url, accept) in [
        (path.clone(), None),
        (format!("/passports/{id}"), Some("application/aas+json")),
    ] {
        let gone = node.get_public(&url, accept).await;
        let problem = gone.problem(410, "gone");
        assert_eq!(problem["reason"], "recall under investigation");
        assert_eq!(gone.header("hallmark-passport-status"), Some("suspended"));
    }
    assert_eq!(admin_aas(&node, &read, &id, "").await.json(), authority);
    node.running.stop();
}
kit::both!(the_aas_on_both_doors);

async fn a_sector_without_a_mapping_is_406(backend: Backend) {
    let node = TestNode::new(backend).start().await;
    let (read, _, _) = node.key("read").await;
    let id = node
        .publish_draft_as(&basic(), &kit::generic_draft("CHAIR-7"))
        .await;

    for r in [
        node.get_public(&format!("/passports/{id}/aas"), None).await,
        node.get_public(&format!("/passports/{id}"), Some("application/aas+json"))
            .await,
        admin_aas(&node, &read, &id, "").await,
        admin_aas(&node, &read, &id, "?audience=public").await,
    ] {
        let problem = r.problem(406, "aas-unsupported-sector");
        assert_eq!(problem["sector"], "generic");
        assert_eq!(problem["schemaVersion"], "1.0.0");
    }
    // The credential is still served as before.
    let c = node.get_public(&format!("/passports/{id}"), None).await;
    assert_eq!(c.status, 200);
    node.running.stop();
}
kit::both!(a_sector_without_a_mapping_is_406);
