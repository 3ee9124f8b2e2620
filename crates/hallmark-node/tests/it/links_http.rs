//! The operator's own links per product identifier, over real HTTP on SQLite and
//! PostgreSQL: the admin API (`/api/v1/links`: add, list, remove; scopes; refusals naming
//! the field with nothing stored; the limit per identifier), the links in the resolver's
//! linkset at their level only (valid against GS1's linkset schema, after the node's own
//! links), `linkType` redirects to them (the query string forwarded, as on every resolver
//! redirect), and their audit events in the public log.

use crate::resolver_http::{
    assert_redirect, assert_valid, gs1_schema, no_redirects, publish, url, G,
};
use hallmark_testkit as kit;
use kit::{basic, Backend, Node, Reply, TestNode};
use reqwest::Method;
use serde_json::{json, Value};

const INSTRUCTIONS: &str = "https://ref.gs1.org/voc/instructions";
const SAFETY: &str = "https://ref.gs1.org/voc/safetyInfo";
const RECALL: &str = "https://ref.gs1.org/voc/recallStatus";
const REPAIR: &str = "https://w3id.org/hallmark/voc/repairGuide";
const DEFAULT_LINK: &str = "https://ref.gs1.org/voc/defaultLink";

/// A GET on the public listener, redirects not followed.
async fn public(node: &Node, path: &str) -> Reply {
    let r = no_redirects()
        .get(format!("{}{path}", node.public))
        .send()
        .await
        .unwrap();
    Reply::from(r).await
}

/// The linkset of `path`, checked against GS1's schema; with its raw text.
async fn linkset(node: &Node, path: &str) -> (Value, String) {
    let r = public(node, &format!("{path}?linkType=linkset")).await;
    assert_eq!(r.status, 200, "{}", String::from_utf8_lossy(&r.body));
    let v = r.json();
    assert_valid(&gs1_schema(), &v);
    (v, String::from_utf8(r.body).unwrap())
}

async fn add(node: &Node, auth: &str, body: &Value) -> Reply {
    node.call(Method::POST, "/api/v1/links", Some(auth), Some(body))
        .await
}

async fn added(node: &Node, body: Value) -> Value {
    let r = add(node, &basic(), &body).await;
    assert_eq!(r.status, 201, "{}", String::from_utf8_lossy(&r.body));
    let v = r.json();
    assert_eq!(
        r.header("location"),
        Some(format!("/api/v1/links/{}", v["id"].as_str().unwrap()).as_str())
    );
    assert_eq!(v["status"], "active");
    v
}

async fn remove(node: &Node, auth: &str, id: &str, body: &Value) -> Reply {
    node.call(
        Method::DELETE,
        &format!("/api/v1/links/{id}"),
        Some(auth),
        Some(body),
    )
    .await
}

/// The entry of `linkset` anchored at `path`.
fn entry<'a>(linkset: &'a Value, path: &str) -> &'a Value {
    let anchor = format!("{}{path}", kit::BASE_URL);
    linkset["linkset"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["anchor"] == anchor.as_str())
        .unwrap_or_else(|| panic!("no entry for {anchor}: {linkset:#}"))
}

/// The served leaf bytes of the audit event `action` whose subject is `subject`.
async fn public_leaf(node: &Node, action: &str, subject: &str) -> Value {
    node.checkpoint_covering_everything().await;
    let events = node.store().list_audit(1, 1000).await.unwrap();
    let e = events
        .iter()
        .find(|e| e.event.action == action && e.event.subject.as_deref() == Some(subject))
        .unwrap_or_else(|| panic!("no {action} event for {subject}"));
    let r = public(node, &format!("/log/entries/{}", e.seq - 1)).await;
    assert_eq!(r.status, 200);
    let leaf = r.json()["leaf"].as_str().map(str::to_owned);
    let leaf = leaf.unwrap_or_else(|| panic!("{action} is withheld from the public log"));
    use base64::Engine;
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(leaf)
        .unwrap();
    serde_json::from_slice(&bytes).unwrap()
}

async fn operator_links_are_served_at_their_level_and_removed_for_good(backend: Backend) {
    let n = TestNode::new(backend).start().await;
    // A model passport and an item passport (S1); no batch passport.
    let model = publish(&n, json!({ "gtin": G }), "model").await;
    let item = publish(&n, json!({ "gtin": G, "serial": "S1" }), "item").await;

    let manual = added(
        &n,
        json!({
            "gtin": G, "linkType": "gs1:instructions", "href": "https://example.com/manual.pdf",
            "title": "User manual", "type": "application/pdf", "hreflang": ["en", "de"],
        }),
    )
    .await;
    assert_eq!(manual["linkType"], INSTRUCTIONS);
    assert_eq!(manual["level"], "model");
    // A GTIN-13 is the same GTIN; a GS1 namespace URI is the same link type.
    let sds = added(
        &n,
        json!({
            "gtin": &G[1..], "serial": "S1", "linkType": "https://gs1.org/voc/safetyInfo",
            "href": "https://example.com/s1/sds.pdf", "title": "Safety data sheet",
        }),
    )
    .await;
    assert_eq!(
        (sds["gtin"].as_str(), sds["level"].as_str()),
        (Some(G), Some("item"))
    );
    assert_eq!(sds["linkType"], SAFETY);
    // A batch without a passport, and another item: not served for S1.
    added(
        &n,
        json!({ "gtin": G, "lot": "L1", "linkType": "gs1:recallStatus",
                "href": "https://example.com/recall", "title": "Recall status" }),
    )
    .await;
    added(
        &n,
        json!({ "gtin": G, "serial": "S9", "linkType": "hallmark:repairGuide",
                "href": "https://example.com/s9/repair", "title": "Repair guide" }),
    )
    .await;

    // The linkset: each link in its level's entry, after the node's own links; valid.
    let path = format!("/01/{G}/10/L1/21/S1");
    let (ls, text) = linkset(&n, &path).await;
    let entries = ls["linkset"].as_array().unwrap();
    assert_eq!(entries.len(), 2, "{ls:#}");
    let item_entry = entry(&ls, &path);
    let model_entry = entry(&ls, &format!("/01/{G}"));
    assert_eq!(
        item_entry[SAFETY],
        json!([{ "href": "https://example.com/s1/sds.pdf", "title": "Safety data sheet" }])
    );
    assert!(item_entry.get(INSTRUCTIONS).is_none());
    assert_eq!(
        model_entry[INSTRUCTIONS],
        json!([{ "href": "https://example.com/manual.pdf", "title": "User manual",
                 "type": "application/pdf", "hreflang": ["en", "de"] }])
    );
    assert!(model_entry.get(SAFETY).is_none());
    for e in entries {
        assert!(e.get(RECALL).is_none() && e.get(REPAIR).is_none(), "{e:#}");
        assert_eq!(e[DEFAULT_LINK].as_array().unwrap().len(), 1);
    }
    assert!(text.find(DEFAULT_LINK).unwrap() < text.find(SAFETY).unwrap());
    // S9's own linkset (it has no passport, the model answers): its link is not served
    // either, as its level has no entry.
    let (s9, _) = linkset(&n, &format!("/01/{G}/21/S9")).await;
    assert!(!s9.to_string().contains(REPAIR));

    // linkType: the most specific entry that has it.
    assert_redirect(
        &public(&n, &format!("{path}?linkType=gs1:safetyInfo")).await,
        "https://example.com/s1/sds.pdf?linkType=gs1:safetyInfo",
    );
    assert_redirect(
        &public(&n, &format!("/01/{G}/21/S1?linkType=gs1:instructions")).await,
        "https://example.com/manual.pdf?linkType=gs1:instructions",
    );
    assert_redirect(
        &public(
            &n,
            &format!("/01/{G}?linkType=https%3A%2F%2Fwww.gs1.org%2Fvoc%2Finstructions"),
        )
        .await,
        "https://example.com/manual.pdf?linkType=https%3A%2F%2Fwww.gs1.org%2Fvoc%2Finstructions",
    );
    assert_eq!(
        public(&n, &format!("/01/{G}?linkType=gs1:safetyInfo"))
            .await
            .status,
        404
    );
    // The passport stays the default: no operator link replaces it.
    assert_redirect(&public(&n, &format!("/01/{G}/21/S1")).await, &url(&item));
    assert_redirect(&public(&n, &format!("/01/{G}")).await, &url(&model));

    // The admin list.
    let list = |q: &str| {
        let path = format!("/api/v1/links?{q}");
        let n = &n;
        async move { n.call(Method::GET, &path, Some(&basic()), None).await }
    };
    let all = list(&format!("gtin={G}")).await;
    assert_eq!(all.status, 200);
    assert_eq!(all.json()["items"].as_array().unwrap().len(), 4);
    let s1 = list(&format!("gtin={}&serial=S1", &G[1..])).await.json();
    assert_eq!(s1["items"][0]["id"], sds["id"]);
    assert_eq!(s1["items"].as_array().unwrap().len(), 1);
    list("serial=S1").await.problem(400, "bad-request");
    list("gtin=09506000134353")
        .await
        .problem(422, "unprocessable");

    // Both events are public in the transparency log.
    let leaf = public_leaf(&n, "link.added", manual["id"].as_str().unwrap()).await;
    assert_eq!(leaf["detail"]["href"], "https://example.com/manual.pdf");
    assert_eq!(leaf["detail"]["linkType"], INSTRUCTIONS);
    assert_eq!(leaf["detail"]["lot"], Value::Null);

    // Removal: the reason is required; then gone from the linkset and linkType, for good.
    let id = manual["id"].as_str().unwrap();
    remove(&n, &basic(), id, &json!({}))
        .await
        .problem(422, "unprocessable");
    let r = remove(
        &n,
        &basic(),
        id,
        &json!({ "reason": "replaced by the 2026 edition" }),
    )
    .await;
    assert_eq!(r.status, 200, "{}", String::from_utf8_lossy(&r.body));
    let gone = r.json();
    assert_eq!(gone["status"], "removed");
    assert_eq!(gone["removedReason"], "replaced by the 2026 edition");
    let (ls, _) = linkset(&n, &path).await;
    assert!(entry(&ls, &format!("/01/{G}")).get(INSTRUCTIONS).is_none());
    assert!(entry(&ls, &path).get(SAFETY).is_some());
    assert_eq!(
        public(&n, &format!("{path}?linkType=gs1:instructions"))
            .await
            .status,
        404
    );
    remove(&n, &basic(), id, &json!({ "reason": "again" }))
        .await
        .problem(409, "conflict");
    remove(
        &n,
        &basic(),
        "0190f5a8-8c3b-7000-8000-000000000000",
        &json!({ "reason": "x" }),
    )
    .await
    .problem(404, "not-found");
    remove(&n, &basic(), "not-a-uuid", &json!({ "reason": "x" }))
        .await
        .problem(404, "not-found");
    assert_eq!(
        list(&format!("gtin={G}")).await.json()["items"]
            .as_array()
            .unwrap()
            .len(),
        3
    );
    let with_removed = list(&format!("gtin={G}&removed=true")).await.json();
    assert_eq!(with_removed["items"].as_array().unwrap().len(), 4);
    let leaf = public_leaf(&n, "link.removed", id).await;
    assert_eq!(leaf["detail"]["reason"], "replaced by the 2026 edition");
    assert_eq!(leaf["detail"]["href"], "https://example.com/manual.pdf");
    n.stop().await;
}

kit::both!(operator_links_are_served_at_their_level_and_removed_for_good);

async fn bad_links_are_refused_naming_the_field_and_nothing_is_stored(backend: Backend) {
    let n = TestNode::new(backend).start().await;
    publish(&n, json!({ "gtin": G }), "model").await;
    let good = json!({ "gtin": G, "linkType": "gs1:instructions",
                       "href": "https://example.com/m.pdf", "title": "Manual" });
    let with = |member: &str, value: Value| {
        let mut b = good.clone();
        b[member] = value;
        b
    };
    let cases = [
        (with("linkType", json!("gs1:dpp")), "linkType"),
        (with("linkType", json!("gs1:defaultLink")), "linkType"),
        (
            with("linkType", json!("https://gs1.org/voc/defaultLinkMulti")),
            "linkType",
        ),
        (with("linkType", json!("describedby")), "linkType"),
        (with("linkType", json!("hallmark:logInclusion")), "linkType"),
        (with("linkType", json!("linkset")), "linkType"),
        (
            with("linkType", json!("https://my-node.example/voc/x")),
            "linkType",
        ),
        (with("linkType", json!("gs1:safety-info")), "linkType"),
        (with("href", json!("http://example.com/m.pdf")), "href"),
        (
            with("href", json!("https://example.com/a manual.pdf")),
            "href",
        ),
        (with("href", json!("https://user:pw@example.com/")), "href"),
        (with("href", json!("javascript:alert(1)")), "href"),
        (with("title", json!("  ")), "title"),
        (with("title", json!("two\nlines")), "title"),
        (with("type", json!("pdf")), "type"),
        (with("hreflang", json!(["EN"])), "hreflang"),
        (with("gtin", json!("09506000134353")), "identifier"),
        (with("serial", json!("S 1")), "identifier"),
    ];
    for (body, field) in &cases {
        let p = add(&n, &basic(), body).await.problem(422, "invalid-link");
        assert_eq!(p["field"], *field, "{body}: {p}");
        assert!(p["reason"].is_string());
    }
    let mut both = with("lot", json!("L1"));
    both["serial"] = json!("S1");
    let p = add(&n, &basic(), &both).await.problem(422, "invalid-link");
    assert_eq!(p["field"], "identifier");
    // A member the API does not know is refused too.
    add(&n, &basic(), &with("rel", json!("x")))
        .await
        .problem(422, "unprocessable");
    // Nothing stored, nothing audited (the admin logins themselves are audited).
    let events = n.store().list_audit(1, 1000).await.unwrap();
    assert!(!events.iter().any(|e| e.event.action.starts_with("link.")));
    let list = n
        .call(
            Method::GET,
            &format!("/api/v1/links?gtin={G}&removed=true"),
            Some(&basic()),
            None,
        )
        .await
        .json();
    assert_eq!(list["items"], json!([]));
    let (ls, _) = linkset(&n, &format!("/01/{G}")).await;
    assert!(ls["linkset"][0].get(INSTRUCTIONS).is_none(), "{ls:#}");

    // Scopes: reading needs `read`, adding and removing `write`.
    let (read, _, _) = n.key("read").await;
    let (write, _, _) = n.key("write").await;
    add(&n, &read, &good).await.problem(403, "forbidden");
    n.call(Method::POST, "/api/v1/links", None, Some(&good))
        .await
        .problem(401, "unauthorized");
    let link = add(&n, &write, &good).await;
    assert_eq!(link.status, 201);
    let id = link.json()["id"].as_str().unwrap().to_string();
    let listed = n
        .call(
            Method::GET,
            &format!("/api/v1/links?gtin={G}"),
            Some(&read),
            None,
        )
        .await;
    assert_eq!(listed.status, 200);
    remove(&n, &read, &id, &json!({ "reason": "x" }))
        .await
        .problem(403, "forbidden");
    assert_eq!(
        remove(&n, &write, &id, &json!({ "reason": "x" }))
            .await
            .status,
        200
    );

    // At most 32 active links per identifier; a removal frees a place.
    let numbered = |i: usize| with("href", json!(format!("https://example.com/{i}.pdf")));
    let mut ids = Vec::new();
    for i in 0..32 {
        let r = add(&n, &write, &numbered(i)).await;
        assert_eq!(r.status, 201, "{}", String::from_utf8_lossy(&r.body));
        ids.push(r.json()["id"].as_str().unwrap().to_string());
    }
    let before = n.store().audit_len().await.unwrap();
    let p = add(&n, &write, &numbered(32))
        .await
        .problem(409, "conflict");
    assert!(p["detail"].as_str().unwrap().contains("32"), "{p}");
    assert_eq!(n.store().audit_len().await.unwrap(), before);
    remove(&n, &write, &ids[0], &json!({ "reason": "make room" })).await;
    assert_eq!(add(&n, &write, &numbered(32)).await.status, 201);
    // The linkset with 32 operator links of one type still validates.
    let (ls, _) = linkset(&n, &format!("/01/{G}")).await;
    assert_eq!(ls["linkset"][0][INSTRUCTIONS].as_array().unwrap().len(), 32);
    n.stop().await;
}

kit::both!(bad_links_are_refused_naming_the_field_and_nothing_is_stored);
