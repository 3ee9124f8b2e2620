//! The EN 18222 operations over real HTTP, on both doors (public listener: anonymous,
//! public tier; admin listener: `read` scope, authority tier), on SQLite and PostgreSQL.
//! Every answer — successes and `Result` errors alike — is checked against the shared spec
//! (`../shared/specs/en18222-dpp-api.openapi.yaml`) by [`Spec::assert_conforms`]: its status
//! is one the operation documents and its body validates against that status's schema,
//! after the normalisation N1 (`nullable`) and N2 (errata S2/S4: `oneOf` → `anyOf`) of the
//! design note.

use hallmark_testkit as kit;

use kit::{basic, battery_draft, Backend, Node, Reply, TestNode};
use reqwest::Method;
use serde_json::{json, Value};
use std::collections::BTreeSet;
use std::sync::LazyLock;
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

const SPEC: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../../shared/specs/en18222-dpp-api.openapi.yaml"
);
const ELEMENT_OP: &str = "/v1/dpps/{dppId}/elements/{elementIdPath}";
const G: &str = "09506000134352";

/// The spec as JSON, normalised (N1, N2).
static DOC: LazyLock<Value> = LazyLock::new(|| {
    let text = std::fs::read_to_string(SPEC).unwrap();
    let mut doc: Value = serde_norway::from_str(&text).unwrap();
    // N2 (errata S2, S4): an integer is both `number` and `integer`, and every DataElement
    // is an object, so these `oneOf`s can never hold; `anyOf` says what was meant.
    one_of_to_any_of(&mut doc["components"]["schemas"]["CompressedDataElementValue"]);
    one_of_to_any_of(
        &mut doc["paths"][ELEMENT_OP]["get"]["responses"]["200"]["content"]["application/json"]
            ["schema"],
    );
    nullable(&mut doc);
    doc
});

fn one_of_to_any_of(schema: &mut Value) {
    let o = schema.as_object_mut().expect("a schema object");
    let branches = o.remove("oneOf").expect("a oneOf");
    o.insert("anyOf".into(), branches);
}

/// N1: `nullable: true` → `anyOf: [<schema without nullable>, {type: null}]`, everywhere.
fn nullable(v: &mut Value) {
    match v {
        Value::Object(o) => {
            for child in o.values_mut() {
                nullable(child);
            }
            if o.get("nullable") == Some(&Value::Bool(true)) {
                o.remove("nullable");
                let inner = Value::Object(std::mem::take(o));
                o.insert("anyOf".into(), json!([inner, { "type": "null" }]));
            } else {
                o.remove("nullable");
            }
        }
        Value::Array(a) => a.iter_mut().for_each(nullable),
        _ => {}
    }
}

/// Asserts that `status` is documented for `method spec_path` and that `body` validates
/// against its schema (with the spec's components at the schema root).
fn assert_conforms(method: &Method, spec_path: &str, status: u16, body: &Value) {
    let op = &DOC["paths"][spec_path][method.as_str().to_ascii_lowercase()];
    assert!(op.is_object(), "{method} {spec_path} is not in the spec");
    // D4 (docs/en18222.md): the writes' descriptions say `representation=full` answers
    // 501, which no operation lists; allowed for writes only, with the `Result` body.
    let d4 = json!({ "content": { "application/json": {
        "schema": { "$ref": "#/components/schemas/Result" } } } });
    let response = if status == 501 && *method != Method::GET && spec_path != IDS {
        &d4
    } else {
        &op["responses"][status.to_string()]
    };
    assert!(
        response.is_object(),
        "{method} {spec_path} does not document {status}: {body}"
    );
    let schema = &response["content"]["application/json"]["schema"];
    let mut root = schema.as_object().expect("a schema").clone();
    root.insert("components".into(), DOC["components"].clone());
    let validator = jsonschema::draft202012::options()
        .should_validate_formats(true)
        .build(&Value::Object(root))
        .unwrap();
    let errors: Vec<String> = validator
        .iter_errors(body)
        .map(|e| format!("{e} at {}", e.instance_path()))
        .collect();
    assert!(
        errors.is_empty(),
        "{method} {spec_path} {status}: {errors:?}\n{body}"
    );
}

/// Percent-encodes everything but RFC 3986 unreserved characters.
fn enc(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// The JSON Pointers of every scalar leaf of `v`.
fn leaves(v: &Value, at: String, out: &mut BTreeSet<String>) {
    match v {
        Value::Object(o) => o.iter().for_each(|(k, c)| {
            leaves(
                c,
                format!("{at}/{}", k.replace('~', "~0").replace('/', "~1")),
                out,
            )
        }),
        Value::Array(a) => a
            .iter()
            .enumerate()
            .for_each(|(i, c)| leaves(c, format!("{at}/{i}"), out)),
        _ => {
            out.insert(at);
        }
    }
}

/// A JSON Pointer as the Normalized Path of the same node (indexes as such).
fn normalized(doc: &Value, pointer: &str) -> String {
    let mut out = "$".to_string();
    let mut node = doc;
    for token in pointer.split('/').skip(1) {
        let token = token.replace("~1", "/").replace("~0", "~");
        match node {
            Value::Array(a) => {
                let i: usize = token.parse().unwrap();
                out.push_str(&format!("[{i}]"));
                node = &a[i];
            }
            _ => {
                out.push_str(&format!(
                    "['{}']",
                    token.replace('\\', "\\\\").replace('\'', "\\'")
                ));
                node = &node[token.as_str()];
            }
        }
    }
    out
}

/// One node and its two doors.
struct Doors {
    node: Node,
    read: String,
}

impl Doors {
    /// `method path` on the admin door (with the read key unless `anonymous`), checked
    /// against `spec_path`.
    async fn admin(
        &self,
        method: Method,
        path: &str,
        spec_path: &str,
        body: Option<&Value>,
    ) -> Reply {
        let r = self
            .node
            .call(method.clone(), path, Some(&self.read), body)
            .await;
        check(&method, spec_path, &r);
        assert_eq!(r.header("hallmark-access-tier"), Some("authority"));
        r
    }

    /// `method path` on the public door, checked against `spec_path`.
    async fn public(
        &self,
        method: Method,
        path: &str,
        spec_path: &str,
        body: Option<&Value>,
    ) -> Reply {
        let url = format!("{}{path}", self.node.public);
        let r = self
            .node
            .call_raw(method.clone(), &url, None, body, None)
            .await;
        check(&method, spec_path, &r);
        assert_eq!(r.header("hallmark-access-tier"), Some("public"));
        r
    }

    /// `method path` on both doors; both answer `status`; (admin, public) bodies.
    async fn both(
        &self,
        method: Method,
        path: &str,
        spec_path: &str,
        body: Option<&Value>,
        status: u16,
    ) -> (Value, Value) {
        let a = self.admin(method.clone(), path, spec_path, body).await;
        assert_eq!(
            a.status,
            status,
            "admin {path}: {}",
            String::from_utf8_lossy(&a.body)
        );
        let p = self.public(method, path, spec_path, body).await;
        assert_eq!(
            p.status,
            status,
            "public {path}: {}",
            String::from_utf8_lossy(&p.body)
        );
        (a.json(), p.json())
    }
}

fn check(method: &Method, spec_path: &str, r: &Reply) {
    if r.status == 204 {
        let op = &DOC["paths"][spec_path][method.as_str().to_ascii_lowercase()];
        assert!(
            op["responses"]["204"].is_object(),
            "{method} {spec_path} does not document 204"
        );
        assert!(r.body.is_empty(), "a 204 with a body");
        return;
    }
    assert_eq!(
        r.header("content-type"),
        Some("application/json"),
        "{method} {spec_path} {}",
        r.status
    );
    assert_conforms(method, spec_path, r.status, &r.json());
}

async fn suspend(node: &Node, id: &str) {
    let r = node
        .call(
            Method::POST,
            &format!("/api/v1/passports/{id}/suspend"),
            Some(&basic()),
            Some(&json!({ "reason": "recall under investigation" })),
        )
        .await;
    assert_eq!(r.status, 200, "{}", String::from_utf8_lossy(&r.body));
}

const BY_ID: &str = "/v1/dpps/{dppId}";
const BY_DATE: &str = "/v1/dppsByIdAndDate/{dppId}";
const BY_PRODUCT: &str = "/v1/dppsByProductId/{productId}";
const IDS: &str = "/v1/dppsByProductIds";

async fn read_dpp_by_id_on_both_doors(backend: Backend) {
    let node = TestNode::new(backend).start().await;
    let (read, _, _) = node.key("read").await;
    let (id, _) = node.publish("S1").await;
    let d = Doors { node, read };
    let path = format!("/v1/dpps/{id}");

    // Compressed (the default) on both doors; the public door shows less, never more.
    let (authority, public) = d.both(Method::GET, &path, BY_ID, None, 200).await;
    for doc in [&authority, &public] {
        assert_eq!(doc["dppStatus"], "Active");
        assert_eq!(doc["granularity"], "Item");
        assert!(doc["digitalProductPassportId"]
            .as_str()
            .unwrap()
            .starts_with("urn:uuid:"));
        assert!(!doc["contentSpecificationIds"]
            .as_array()
            .unwrap()
            .is_empty());
    }
    let (mut a, mut p) = (BTreeSet::new(), BTreeSet::new());
    leaves(&authority, String::new(), &mut a);
    leaves(&public, String::new(), &mut p);
    let authority_only: Vec<&String> = a.difference(&p).collect();
    assert!(
        !authority_only.is_empty(),
        "the public tier shows every leaf"
    );
    assert!(
        p.is_subset(&a),
        "public leaves not in the authority view: {:?}",
        p.difference(&a).collect::<Vec<_>>()
    );
    let explicit = format!("{path}?representation=compressed");
    let (a2, _) = d.both(Method::GET, &explicit, BY_ID, None, 200).await;
    assert_eq!(a2, authority);

    // Full.
    let (full_a, full_p) = d
        .both(
            Method::GET,
            &format!("{path}?representation=full"),
            BY_ID,
            None,
            200,
        )
        .await;
    assert!(!full_a["elements"].as_array().unwrap().is_empty());
    assert!(full_p["elements"].is_array());
    assert!(full_a.to_string().len() > full_p.to_string().len());

    // The id's other forms: urn:uuid and the public URL, percent-encoded.
    let uuid = authority["digitalProductPassportId"]
        .as_str()
        .unwrap()
        .trim_start_matches("urn:uuid:")
        .to_string();
    let urn = format!("/v1/dpps/{}", enc(&format!("urn:uuid:{uuid}")));
    d.both(Method::GET, &urn, BY_ID, None, 200).await;
    let url = format!(
        "/v1/dpps/{}",
        enc(&format!("{}/passports/{uuid}", kit::BASE_URL))
    );
    let (by_url, _) = d.both(Method::GET, &url, BY_ID, None, 200).await;
    assert_eq!(by_url, authority);

    // 400, 401, 404.
    for q in [
        "?representation=fancy",
        "?representation=null&representation=null",
        "?representation=FULL",
    ] {
        d.both(Method::GET, &format!("{path}{q}"), BY_ID, None, 400)
            .await;
    }
    // Unknown query parameters are ignored.
    let (a, _) = d
        .both(Method::GET, &format!("{path}?lang=de"), BY_ID, None, 200)
        .await;
    assert_eq!(a, authority);
    let anonymous = d.node.call(Method::GET, &path, None, None).await;
    assert_eq!(anonymous.status, 401);
    check(&Method::GET, BY_ID, &anonymous);
    let unknown = "/v1/dpps/01900000-0000-7000-8000-000000000000";
    d.both(Method::GET, unknown, BY_ID, None, 404).await;
    d.both(Method::GET, "/v1/dpps/not-an-id", BY_ID, None, 404)
        .await;

    // A draft: unknown on the public door, served from the draft on the admin door.
    let r = d
        .node
        .call(
            Method::POST,
            "/api/v1/passports",
            Some(&basic()),
            Some(&battery_draft("D1")),
        )
        .await;
    assert_eq!(r.status, 201);
    let draft = r.json()["id"].as_str().unwrap().to_string();
    let draft_path = format!("/v1/dpps/{draft}");
    let a = d.admin(Method::GET, &draft_path, BY_ID, None).await;
    assert_eq!(a.status, 200);
    assert_eq!(a.json()["dppStatus"], "Draft");
    let p = d.public(Method::GET, &draft_path, BY_ID, None).await;
    assert_eq!(p.status, 404);

    // Suspended: the header only, in either representation, on both doors.
    suspend(&d.node, &id).await;
    for q in ["", "?representation=full"] {
        let (a, p) = d
            .both(Method::GET, &format!("{path}{q}"), BY_ID, None, 200)
            .await;
        for doc in [a, p] {
            assert_eq!(doc["dppStatus"], "Suspended");
            assert_eq!(doc["contentSpecificationIds"], json!([]));
            assert!(doc.get("elements").is_none());
            assert!(doc
                .as_object()
                .unwrap()
                .keys()
                .all(|k| !k.starts_with("urn:")));
        }
    }
    d.node.running.stop();
}
kit::both!(read_dpp_by_id_on_both_doors);

async fn read_dpp_by_id_and_date_picks_the_version_in_force(backend: Backend) {
    let node = TestNode::new(backend).start().await;
    let (read, _, _) = node.key("read").await;
    let (id, _) = node.publish("S1").await;
    let d = Doors { node, read };
    let v1 = d
        .admin(Method::GET, &format!("/v1/dpps/{id}"), BY_ID, None)
        .await
        .json();
    let t1 = OffsetDateTime::parse(v1["lastUpdate"].as_str().unwrap(), &Rfc3339).unwrap();

    let mut second = battery_draft("S1");
    second["facilityId"] = json!("https://id.gs1.org/414/4000001000005");
    let r = d
        .node
        .call(
            Method::POST,
            &format!("/api/v1/passports/{id}/versions"),
            Some(&basic()),
            Some(&second),
        )
        .await;
    assert!(r.status < 300, "{}", String::from_utf8_lossy(&r.body));
    let r = d
        .node
        .admin(Method::POST, &format!("/api/v1/passports/{id}/publish"))
        .await;
    assert_eq!(r.status, 200, "{}", String::from_utf8_lossy(&r.body));
    let v2 = d
        .admin(Method::GET, &format!("/v1/dpps/{id}"), BY_ID, None)
        .await
        .json();
    assert_eq!(v2["versionNumber"], 2);
    let t2 = OffsetDateTime::parse(v2["lastUpdate"].as_str().unwrap(), &Rfc3339).unwrap();
    assert!(t1 < t2);

    let at = |t: OffsetDateTime| {
        format!(
            "/v1/dppsByIdAndDate/{id}?date={}",
            enc(&t.format(&Rfc3339).unwrap())
        )
    };
    let between = t1 + (t2 - t1) / 2;
    for (t, version) in [
        (t1, 1),
        (between, 1),
        (t2, 2),
        (t2 + time::Duration::days(365), 2),
    ] {
        let (a, p) = d.both(Method::GET, &at(t), BY_DATE, None, 200).await;
        assert_eq!(a["versionNumber"], version, "{t}");
        assert_eq!(p["versionNumber"], version, "{t}");
    }
    let (a, _) = d.both(Method::GET, &at(between), BY_DATE, None, 200).await;
    assert_eq!(
        a["facilityId"], "https://id.gs1.org/414/4012345000016",
        "v1 has the first facility"
    );
    // Any offset is read as the same instant.
    let offset = between.to_offset(time::macros::offset!(+02:00));
    let (a, _) = d.both(Method::GET, &at(offset), BY_DATE, None, 200).await;
    assert_eq!(a["versionNumber"], 1);
    let (f, _) = d
        .both(
            Method::GET,
            &format!("{}&representation=full", at(between)),
            BY_DATE,
            None,
            200,
        )
        .await;
    assert!(f["elements"].is_array());

    // Before the first version: 404. Malformed or missing date: 400. Unknown id: 404.
    d.both(
        Method::GET,
        &at(t1 - time::Duration::seconds(1)),
        BY_DATE,
        None,
        404,
    )
    .await;
    for q in [
        "?date=yesterday",
        "?date=2026-01-01",
        "",
        "?date=2026-01-01T00:00:00Z&representation=x",
    ] {
        d.both(
            Method::GET,
            &format!("/v1/dppsByIdAndDate/{id}{q}"),
            BY_DATE,
            None,
            400,
        )
        .await;
    }
    d.both(
        Method::GET,
        "/v1/dppsByIdAndDate/01900000-0000-7000-8000-000000000000?date=2030-01-01T00:00:00Z",
        BY_DATE,
        None,
        404,
    )
    .await;
    let anonymous = d.node.call(Method::GET, &at(t2), None, None).await;
    assert_eq!(anonymous.status, 401);
    check(&Method::GET, BY_DATE, &anonymous);
    d.node.running.stop();
}
kit::both!(read_dpp_by_id_and_date_picks_the_version_in_force);

async fn read_dpp_by_product_id_and_ids_by_product_ids(backend: Backend) {
    let node = TestNode::new(backend).start().await;
    let (read, _, _) = node.key("read").await;
    let (id, _) = node.publish("S1").await;
    let d = Doors { node, read };
    let item = d
        .admin(Method::GET, &format!("/v1/dpps/{id}"), BY_ID, None)
        .await
        .json();
    let dpp_id = item["digitalProductPassportId"].clone();

    // A Digital Link URI with any host, a path, a GS1 element string (HRI; a lot the
    // passport does not carry walks up to the item as in the URI), each percent-encoded once.
    for product in [
        format!("https://id.gs1.org/01/{G}/21/S1"),
        format!("https://resolver.example.com/some/stem/01/{G}/10/L9/21/S1?linkType=all"),
        format!("/01/{G}/21/S1"),
        format!("(01){G}(21)S1"),
        format!("(01){G}(10)L9(21)S1"),
        "(01)9506000134352(21)S1".to_string(),
    ] {
        let path = format!("/v1/dppsByProductId/{}", enc(&product));
        let (a, p) = d.both(Method::GET, &path, BY_PRODUCT, None, 200).await;
        assert_eq!(a["digitalProductPassportId"], dpp_id, "{product}");
        assert_eq!(p["digitalProductPassportId"], dpp_id, "{product}");
        assert_eq!(a, item);
    }
    let full = format!(
        "/v1/dppsByProductId/{}?representation=full",
        enc(&format!("/01/{G}/21/S1"))
    );
    d.both(Method::GET, &full, BY_PRODUCT, None, 200).await;
    // Nothing at the model level, an unknown serial (walks up to nothing): 404.
    for unknown in [G.to_string(), format!("/01/{G}/21/S9")] {
        let path = format!("/v1/dppsByProductId/{}", enc(&unknown));
        d.both(Method::GET, &path, BY_PRODUCT, None, 404).await;
    }
    for bad in [
        "abc",
        "09506000134353",
        "https://id.gs1.org/",
        "(01)09506000134353(21)S1",
        "(01)09506000134352(17)270101(21)S1",
        "(01)09506000134352(21)",
    ] {
        let path = format!("/v1/dppsByProductId/{}", enc(bad));
        d.both(Method::GET, &path, BY_PRODUCT, None, 400).await;
    }
    let anonymous = d
        .node
        .call(Method::GET, &format!("/v1/dppsByProductId/{G}"), None, None)
        .await;
    assert_eq!(anonymous.status, 401);
    check(&Method::GET, BY_PRODUCT, &anonymous);

    // readDPPIdsByProductIds: input order, not-found skipped, pages by cursor.
    let body = json!({ "productIds": [
        format!("https://id.gs1.org/01/{G}/21/S1"),
        format!("/01/{G}/21/S9"),
        G,
        format!("(01){G}(21)S1"),
    ]});
    let (a, p) = d.both(Method::POST, IDS, IDS, Some(&body), 200).await;
    assert_eq!(a, json!({ "items": [dpp_id, dpp_id] }));
    assert_eq!(p, a);
    let mut items = Vec::new();
    let mut cursor: Option<String> = None;
    let mut pages = 0;
    loop {
        let q = match &cursor {
            None => "/v1/dppsByProductIds?limit=3".to_string(),
            Some(c) => format!("/v1/dppsByProductIds?limit=3&cursor={c}"),
        };
        let (page, _) = d.both(Method::POST, &q, IDS, Some(&body), 200).await;
        pages += 1;
        items.extend(page["items"].as_array().unwrap().clone());
        match page.get("cursor") {
            Some(c) => cursor = Some(c.as_str().unwrap().to_string()),
            None => break,
        }
    }
    assert_eq!(pages, 2);
    assert_eq!(items, vec![dpp_id.clone(), dpp_id.clone()]);
    for q in ["?cursor=%21%21", "?cursor=OTk", "?limit=0", "?limit=many"] {
        d.both(Method::POST, &format!("{IDS}{q}"), IDS, Some(&body), 400)
            .await;
    }
    for bad in [
        json!({ "productIds": [] }),
        json!({ "productIds": ["abc"] }),
        json!({ "productIds": [G], "more": 1 }),
        json!({ "productIds": vec![G; 5_001] }),
    ] {
        d.both(Method::POST, IDS, IDS, Some(&bad), 400).await;
    }
    let bad_hri = json!({ "productIds": [G, format!("(01){G}(10)")] });
    let (a, _) = d.both(Method::POST, IDS, IDS, Some(&bad_hri), 400).await;
    let text = a["messages"][0]["text"].as_str().unwrap();
    assert!(
        text.contains("productIds[1]") && text.contains("(10) has no value"),
        "{text}"
    );
    let anonymous = d.node.call(Method::POST, IDS, None, Some(&body)).await;
    assert_eq!(anonymous.status, 401);
    check(&Method::POST, IDS, &anonymous);

    // A deactivated passport does not answer by product.
    let r = d
        .node
        .call(
            Method::POST,
            &format!("/api/v1/passports/{id}/deactivate"),
            Some(&basic()),
            Some(&json!({ "reason": "end of life" })),
        )
        .await;
    assert_eq!(r.status, 200, "{}", String::from_utf8_lossy(&r.body));
    let path = format!("/v1/dppsByProductId/{}", enc(&format!("/01/{G}/21/S1")));
    d.both(Method::GET, &path, BY_PRODUCT, None, 404).await;
    let (a, _) = d.both(Method::POST, IDS, IDS, Some(&body), 200).await;
    assert_eq!(a, json!({ "items": [] }));
    let (a, _) = d
        .both(Method::GET, &format!("/v1/dpps/{id}"), BY_ID, None, 200)
        .await;
    assert_eq!(a["dppStatus"], "Inactive");
    d.node.running.stop();
}
kit::both!(read_dpp_by_product_id_and_ids_by_product_ids);

/// How many passports the cursor paging test publishes (issue 19: "cursor paging over
/// 2,500 passports").
const MANY: usize = 2_500;

async fn dpps_by_product_ids_pages_through_2500_passports(backend: Backend) {
    let node = TestNode::new(backend).start().await;
    let (read, _, _) = node.key("read").await;
    // 2,500 generic passports, published by the bulk import's batch route (1,000 a batch).
    let drafts: Vec<Value> = (0..MANY)
        .map(|i| kit::generic_draft(&format!("P{i}")))
        .collect();
    let ids: Vec<String> = node
        .publish_batch("page", &drafts, 1_000)
        .await
        .into_iter()
        .map(|id| format!("urn:uuid:{id}"))
        .collect();
    assert_eq!(ids.len(), MANY);
    // Asked in another order than created (7 is prime to 2,500: a permutation), in two of
    // the accepted forms; the answer must follow the input.
    let order: Vec<usize> = (0..MANY).map(|i| (i * 7) % MANY).collect();
    let product_ids: Vec<String> = order
        .iter()
        .map(|&i| match i % 2 {
            0 => format!("/01/{G}/21/P{i}"),
            _ => format!("https://id.example.com/01/{G}/21/P{i}"),
        })
        .collect();
    let expected: Vec<Value> = order.iter().map(|&i| json!(ids[i])).collect();
    let body = json!({ "productIds": product_ids });
    let d = Doors { node, read };
    let mut seen = Vec::new();
    let mut cursor: Option<String> = None;
    let mut pages = 0;
    loop {
        let q = match &cursor {
            None => format!("{IDS}?limit=300"),
            Some(c) => format!("{IDS}?limit=300&cursor={c}"),
        };
        let (page, public) = d.both(Method::POST, &q, IDS, Some(&body), 200).await;
        assert_eq!(page, public, "both doors see published passports alike");
        pages += 1;
        let items = page["items"].as_array().unwrap();
        assert_eq!(items.len(), 300.min(MANY - seen.len()), "page {pages}");
        seen.extend(items.iter().cloned());
        match page.get("cursor") {
            Some(c) => cursor = Some(c.as_str().unwrap().to_string()),
            None => break,
        }
        assert!(pages < 100, "the cursor never ends");
    }
    assert_eq!(pages, MANY.div_ceil(300));
    assert_eq!(seen.len(), MANY);
    assert_eq!(
        seen.iter()
            .map(Value::to_string)
            .collect::<BTreeSet<_>>()
            .len(),
        MANY,
        "an id came twice"
    );
    assert_eq!(seen, expected, "ids in input order");
    // A cursor this node did not give: garbage, past the end, or another request's shape.
    for c in ["not-a-cursor", "MjUwMA", "MDMwMA"] {
        let (a, p) = d
            .both(
                Method::POST,
                &format!("{IDS}?cursor={c}"),
                IDS,
                Some(&body),
                400,
            )
            .await;
        for r in [a, p] {
            assert_eq!(r["messages"][0]["messageType"], "Error", "{r}");
        }
    }
    d.node.running.stop();
}
kit::both!(dpps_by_product_ids_pages_through_2500_passports);

async fn read_data_element_on_both_doors(backend: Backend) {
    let node = TestNode::new(backend).start().await;
    let (read, _, _) = node.key("read").await;
    let (id, _) = node.publish("S1").await;
    let d = Doors { node, read };
    let authority = d
        .admin(Method::GET, &format!("/v1/dpps/{id}"), BY_ID, None)
        .await
        .json();
    let public = d
        .public(Method::GET, &format!("/v1/dpps/{id}"), BY_ID, None)
        .await
        .json();
    let el = |path: &str| format!("/v1/dpps/{id}/elements/{}", enc(path));

    // A content section, compressed and full.
    let section = authority["contentSpecificationIds"][0]
        .as_str()
        .unwrap()
        .to_string();
    let section_path = normalized(
        &authority,
        &format!("/{}", section.replace('~', "~0").replace('/', "~1")),
    );
    let (a, p) = d
        .both(Method::GET, &el(&section_path), ELEMENT_OP, None, 200)
        .await;
    assert_eq!(a, authority[&section]);
    assert_eq!(p, public[&section]);
    let (a, _) = d
        .both(
            Method::GET,
            &format!("{}?representation=full", el(&section_path)),
            ELEMENT_OP,
            None,
            200,
        )
        .await;
    assert_eq!(a["objectType"], "DataElementCollection");
    assert_eq!(a["dictionaryReference"], section);

    // A leaf inside the section, full: a SingleValuedDataElement (or the element there).
    let mut all = BTreeSet::new();
    leaves(&public, String::new(), &mut all);
    let leaf = all
        .iter()
        .find(|l| {
            l.starts_with(&format!(
                "/{}/",
                section.replace('~', "~0").replace('/', "~1")
            ))
        })
        .unwrap();
    let leaf_path = normalized(&public, leaf);
    let (a, p) = d
        .both(Method::GET, &el(&leaf_path), ELEMENT_OP, None, 200)
        .await;
    assert_eq!(&a, public.pointer(leaf).unwrap());
    assert_eq!(a, p);
    let (a, _) = d
        .both(
            Method::GET,
            &format!("{}?representation=full", el(&leaf_path)),
            ELEMENT_OP,
            None,
            200,
        )
        .await;
    assert_eq!(a["objectType"], "SingleValuedDataElement");
    assert_eq!(&a["value"], public.pointer(leaf).unwrap());

    // A header member: its value; full: a SingleValuedDataElement.
    let (a, _) = d
        .both(
            Method::GET,
            &el("$['economicOperatorId']"),
            ELEMENT_OP,
            None,
            200,
        )
        .await;
    assert_eq!(a, "https://id.gs1.org/417/4012345000016");
    let (a, _) = d
        .both(
            Method::GET,
            &format!("{}?representation=full", el("$['economicOperatorId']")),
            ELEMENT_OP,
            None,
            200,
        )
        .await;
    assert_eq!(a["objectType"], "SingleValuedDataElement");
    assert_eq!(a["valueDataType"], "xsd:string");
    // Header members with no element in the full representation: 400.
    d.both(
        Method::GET,
        &format!("{}?representation=full", el("$['contentSpecificationIds']")),
        ELEMENT_OP,
        None,
        400,
    )
    .await;

    // An authority-only leaf: found on the admin door, unknown on the public one.
    let mut auth_leaves = BTreeSet::new();
    leaves(&authority, String::new(), &mut auth_leaves);
    let hidden = auth_leaves.difference(&all).next().unwrap();
    let hidden_path = normalized(&authority, hidden);
    let a = d
        .admin(Method::GET, &el(&hidden_path), ELEMENT_OP, None)
        .await;
    assert_eq!(a.status, 200, "{hidden_path}");
    assert_eq!(&a.json(), authority.pointer(hidden).unwrap());
    let p = d
        .public(Method::GET, &el(&hidden_path), ELEMENT_OP, None)
        .await;
    assert_eq!(p.status, 404, "{hidden_path}");

    // Not a Normalized Path, several nodes, bad representation: 400. Nothing there: 404.
    for bad in [
        "$.economicOperatorId",
        "$.a",
        "$..*",
        "economicOperatorId",
        "$['a'",
    ] {
        d.both(Method::GET, &el(bad), ELEMENT_OP, None, 400).await;
    }
    d.both(
        Method::GET,
        &format!("{}?representation=x", el("$['economicOperatorId']")),
        ELEMENT_OP,
        None,
        400,
    )
    .await;
    // The path is percent-decoded once: encoded twice, it is not a path.
    let twice = format!(
        "/v1/dpps/{id}/elements/{}",
        enc(&enc("$['economicOperatorId']"))
    );
    d.both(Method::GET, &twice, ELEMENT_OP, None, 400).await;
    // A member name with `/`, `%` and a quote is addressable (its one encoding decoded once).
    d.both(Method::GET, &el("$['a/b%2F\\'c']"), ELEMENT_OP, None, 404)
        .await;
    d.both(Method::GET, &el("$['nope']"), ELEMENT_OP, None, 404)
        .await;
    let unknown = format!(
        "/v1/dpps/01900000-0000-7000-8000-000000000000/elements/{}",
        enc("$['economicOperatorId']")
    );
    d.both(Method::GET, &unknown, ELEMENT_OP, None, 404).await;
    let anonymous = d
        .node
        .call(Method::GET, &el("$['economicOperatorId']"), None, None)
        .await;
    assert_eq!(anonymous.status, 401);
    check(&Method::GET, ELEMENT_OP, &anonymous);

    // Suspended: only the header can be read.
    suspend(&d.node, &id).await;
    d.both(Method::GET, &el(&leaf_path), ELEMENT_OP, None, 404)
        .await;
    let (a, _) = d
        .both(Method::GET, &el("$['dppStatus']"), ELEMENT_OP, None, 200)
        .await;
    assert_eq!(a, "Suspended");
    d.node.running.stop();
}
kit::both!(read_data_element_on_both_doors);

// ---------------------------------------------------------------------------------------
// Writes (admin door, `write` scope; the public door answers 401).

const CREATE: &str = "/v1/dpps";

/// A node with a published passport (serial S1) and its keys.
struct Writer {
    node: Node,
    read: String,
    write: String,
    /// The published passport's id.
    id: String,
}

impl Writer {
    async fn new(backend: Backend) -> Writer {
        let node = TestNode::new(backend).start().await;
        let (read, _, _) = node.key("read").await;
        let (write, _, _) = node.key("write").await;
        let (id, _) = node.publish("S1").await;
        Writer {
            node,
            read,
            write,
            id,
        }
    }

    /// `method path` on the admin door as `auth` (a JSON body as `application/json`),
    /// checked against `spec_path`.
    async fn call(
        &self,
        method: Method,
        path: &str,
        auth: Option<&str>,
        body: Option<&Value>,
        spec_path: &str,
    ) -> Reply {
        let r = self.node.call(method.clone(), path, auth, body).await;
        check(&method, spec_path, &r);
        r
    }

    /// `call` with the write key, asserting `status`.
    async fn write(
        &self,
        method: Method,
        path: &str,
        body: Option<&Value>,
        spec_path: &str,
        status: u16,
    ) -> Reply {
        let r = self
            .call(method.clone(), path, Some(&self.write), body, spec_path)
            .await;
        assert_eq!(
            r.status,
            status,
            "{method} {path}: {}",
            String::from_utf8_lossy(&r.body)
        );
        r
    }

    /// `PATCH path` with the write key and `Content-Type: application/merge-patch+json`.
    async fn merge(&self, path: &str, patch: &Value, status: u16) -> Reply {
        let r = kit::client()
            .request(Method::PATCH, format!("{}{path}", self.node.admin))
            .header("authorization", &self.write)
            .header("content-type", "application/merge-patch+json")
            .body(serde_json::to_vec(patch).unwrap())
            .send()
            .await
            .unwrap();
        let r = Reply::from(r).await;
        check(&Method::PATCH, BY_ID, &r);
        assert_eq!(
            r.status,
            status,
            "PATCH {path}: {}",
            String::from_utf8_lossy(&r.body)
        );
        r
    }

    /// The authority document of passport `id` (read key).
    async fn doc(&self, id: &str) -> Value {
        let r = self
            .call(
                Method::GET,
                &format!("/v1/dpps/{id}"),
                Some(&self.read),
                None,
                BY_ID,
            )
            .await;
        assert_eq!(r.status, 200);
        r.json()
    }

    /// The audit actions of passport `id`, oldest first.
    async fn actions(&self, id: &str) -> Vec<String> {
        let h = self
            .node
            .call(
                Method::GET,
                &format!("/api/v1/passports/{id}/history"),
                Some(&self.read),
                None,
            )
            .await;
        assert_eq!(h.status, 200);
        h.json()["events"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["action"].as_str().unwrap().to_string())
            .collect()
    }

    /// The public door refuses the write with 401 `Result`.
    async fn public_refuses(&self, method: Method, path: &str, spec_path: &str, body: &Value) {
        let url = format!("{}{path}", self.node.public);
        let r = self
            .node
            .call_raw(method.clone(), &url, Some(&self.write), Some(body), None)
            .await;
        check(&method, spec_path, &r);
        assert_eq!(r.status, 401, "public {method} {path}");
        assert_eq!(r.json()["messages"][0]["code"], "unauthorized");
        assert!(r.json()["messages"][0]["text"]
            .as_str()
            .unwrap()
            .contains("admin listener"));
        assert_eq!(r.header("www-authenticate"), None);
    }

    /// No key → 401, the read key → 403.
    async fn refuses_without_write(
        &self,
        method: Method,
        path: &str,
        spec_path: &str,
        body: &Value,
    ) {
        let r = self
            .call(method.clone(), path, None, Some(body), spec_path)
            .await;
        assert_eq!(r.status, 401);
        let r = self
            .call(method, path, Some(&self.read), Some(body), spec_path)
            .await;
        assert_eq!(r.status, 403);
        assert_eq!(r.json()["messages"][0]["code"], "forbidden");
    }
}

/// A compressed document for a new battery passport with `serial`, made from `doc` (an
/// authority document of a serial-S1 passport).
fn new_serial(doc: &Value, serial: &str) -> Value {
    let mut d = doc.clone();
    let uri = d["uniqueProductIdentifier"].as_str().unwrap().to_string();
    assert!(uri.ends_with("/21/S1"), "{uri}");
    d["uniqueProductIdentifier"] = json!(uri.replace("/21/S1", &format!("/21/{serial}")));
    d
}

/// The id of the content section whose URN contains `name`.
fn section(doc: &Value, name: &str) -> String {
    doc["contentSpecificationIds"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s.as_str().unwrap().to_string())
        .find(|s| s.contains(name))
        .unwrap()
}

async fn create_dpp_publishes_in_one_job(backend: Backend) {
    let w = Writer::new(backend).await;
    let base = w.doc(&w.id).await;
    let body = new_serial(&base, "N1");

    w.refuses_without_write(Method::POST, CREATE, CREATE, &body)
        .await;
    w.public_refuses(Method::POST, CREATE, CREATE, &body).await;
    // 501 before anything else (even before the body is read).
    w.write(
        Method::POST,
        "/v1/dpps?representation=full",
        Some(&json!("not a document")),
        CREATE,
        501,
    )
    .await;
    // 400: not a document, an unknown member, the full representation's member, an
    // invalid passport, a bad `publish`.
    w.write(Method::POST, CREATE, Some(&json!([1])), CREATE, 400)
        .await;
    let mut unknown = body.clone();
    unknown["colour"] = json!("red");
    let r = w
        .write(Method::POST, CREATE, Some(&unknown), CREATE, 400)
        .await;
    assert!(r.json().to_string().contains("colour"), "{}", r.json());
    let mut elements = body.clone();
    elements["elements"] = json!([]);
    w.write(Method::POST, CREATE, Some(&elements), CREATE, 400)
        .await;
    let mut invalid = body.clone();
    let general = section(&base, "GeneralProductInformation");
    invalid[&general]["batteryMass"] = json!("heavy");
    let r = w
        .write(Method::POST, CREATE, Some(&invalid), CREATE, 400)
        .await;
    assert_eq!(r.json()["messages"][0]["code"], "invalid-passport");
    w.write(
        Method::POST,
        "/v1/dpps?publish=maybe",
        Some(&body),
        CREATE,
        400,
    )
    .await;
    // Nothing of the refusals was written: N1 is still free.

    // 201: created and published; the server-assigned members sent were ignored.
    let r = w
        .write(Method::POST, CREATE, Some(&body), CREATE, 201)
        .await;
    let id = r.json()["digitalProductPassportId"]
        .as_str()
        .unwrap()
        .to_string();
    let uuid = id.trim_start_matches("urn:uuid:").to_string();
    assert_ne!(uuid, w.id);
    assert_eq!(
        r.header("location"),
        Some(format!("/v1/dpps/{uuid}").as_str())
    );
    let created = w.doc(&uuid).await;
    assert_eq!(created["dppStatus"], "Active");
    assert_eq!(created["versionNumber"], 1);
    assert_eq!(created["digitalProductPassportId"], id);
    assert_eq!(created[&general], base[&general]);
    let public = w
        .node
        .call_raw(
            Method::GET,
            &format!("{}/v1/dpps/{uuid}", w.node.public),
            None,
            None,
            None,
        )
        .await;
    assert_eq!(public.status, 200);
    assert_eq!(
        w.actions(&uuid).await,
        ["passport.draft-created", "passport.published"]
    );

    // 409: the identifier is in use.
    let r = w
        .write(Method::POST, CREATE, Some(&body), CREATE, 409)
        .await;
    assert_eq!(r.json()["messages"][0]["code"], "identifier-in-use");

    // publish=false: a draft only, unknown on the public door.
    let r = w
        .write(
            Method::POST,
            "/v1/dpps?publish=false",
            Some(&new_serial(&base, "N2")),
            CREATE,
            201,
        )
        .await;
    let draft = r.json()["digitalProductPassportId"]
        .as_str()
        .unwrap()
        .trim_start_matches("urn:uuid:")
        .to_string();
    assert_eq!(w.doc(&draft).await["dppStatus"], "Draft");
    let public = w
        .node
        .call_raw(
            Method::GET,
            &format!("{}/v1/dpps/{draft}", w.node.public),
            None,
            None,
            None,
        )
        .await;
    assert_eq!(public.status, 404);
    assert_eq!(w.actions(&draft).await, ["passport.draft-created"]);
    w.node.running.stop();
}
kit::both!(create_dpp_publishes_in_one_job);

async fn delete_dpp_deactivates_and_deletes_nothing(backend: Backend) {
    let w = Writer::new(backend).await;
    let path = format!("/v1/dpps/{}", w.id);
    let none = json!({});
    w.refuses_without_write(Method::DELETE, &path, BY_ID, &none)
        .await;
    w.public_refuses(Method::DELETE, &path, BY_ID, &none).await;
    w.write(
        Method::DELETE,
        "/v1/dpps/01900000-0000-7000-8000-000000000000",
        None,
        BY_ID,
        404,
    )
    .await;

    let before = w.actions(&w.id).await;
    let r = w.write(Method::DELETE, &path, None, BY_ID, 204).await;
    assert_eq!(r.header("hallmark-passport-status"), Some("deactivated"));
    let after = w.actions(&w.id).await;
    assert_eq!(after.len(), before.len() + 1);
    assert_eq!(after.last().unwrap(), "passport.deactivated");
    // Audited as the caller, with the fixed reason.
    let h = w
        .node
        .call(
            Method::GET,
            &format!("/api/v1/passports/{}/history", w.id),
            Some(&w.read),
            None,
        )
        .await
        .json();
    let event = h["events"].as_array().unwrap().last().unwrap().to_string();
    assert!(event.contains("api-key:"), "{event}");
    assert!(
        event.contains("deactivated through EN 18222 DELETE; nothing is deleted"),
        "{event}"
    );
    // Nothing is deleted: by id it answers, Inactive; by product nothing answers.
    assert_eq!(w.doc(&w.id).await["dppStatus"], "Inactive");
    let r = w
        .call(
            Method::GET,
            &format!("/v1/dppsByProductId/{}", enc(&format!("/01/{G}/21/S1"))),
            Some(&w.read),
            None,
            BY_PRODUCT,
        )
        .await;
    assert_eq!(r.status, 404);
    // Again: 204, no new event.
    let r = w.write(Method::DELETE, &path, None, BY_ID, 204).await;
    assert_eq!(r.header("hallmark-passport-status"), Some("deactivated"));
    assert_eq!(w.actions(&w.id).await, after);
    // Terminal: a change is a conflict.
    let r = w
        .write(
            Method::PATCH,
            &path,
            Some(&json!({ "facilityId": "https://id.gs1.org/414/4000001000012" })),
            BY_ID,
            409,
        )
        .await;
    assert_eq!(r.json()["messages"][0]["code"], "conflict");

    // An archived passport cannot be deactivated: 409.
    let (archived, _) = w.node.publish("S2").await;
    let r = w
        .node
        .call(
            Method::POST,
            &format!("/api/v1/passports/{archived}/archive"),
            Some(&w.write),
            Some(&json!({})),
        )
        .await;
    assert_eq!(r.status, 200);
    w.write(
        Method::DELETE,
        &format!("/v1/dpps/{archived}"),
        None,
        BY_ID,
        409,
    )
    .await;

    // A draft cannot be deactivated: 409.
    let r = w
        .node
        .call(
            Method::POST,
            "/api/v1/passports",
            Some(&basic()),
            Some(&battery_draft("D1")),
        )
        .await;
    assert_eq!(r.status, 201);
    let draft = r.json()["id"].as_str().unwrap().to_string();
    w.write(
        Method::DELETE,
        &format!("/v1/dpps/{draft}"),
        None,
        BY_ID,
        409,
    )
    .await;
    w.node.running.stop();
}
kit::both!(delete_dpp_deactivates_and_deletes_nothing);

async fn update_dpp_merges_into_one_new_version(backend: Backend) {
    let w = Writer::new(backend).await;
    let path = format!("/v1/dpps/{}", w.id);
    let base = w.doc(&w.id).await;
    let patch = json!({ "facilityId": "https://id.gs1.org/414/4000001000029" });

    w.refuses_without_write(Method::PATCH, &path, BY_ID, &patch)
        .await;
    w.public_refuses(Method::PATCH, &path, BY_ID, &patch).await;
    w.merge(&format!("{path}?representation=full"), &patch, 501)
        .await;
    w.merge("/v1/dpps/01900000-0000-7000-8000-000000000000", &patch, 404)
        .await;
    // The edge's JSON checks run on application/merge-patch+json too: malformed JSON and a
    // duplicate member are 400, as is a body of another media type (415 → 400, D2).
    for (content_type, bytes) in [
        ("application/merge-patch+json", &b"{\"facilityId\": "[..]),
        (
            "application/merge-patch+json",
            &b"{\"facilityId\": \"a\", \"facilityId\": \"b\"}"[..],
        ),
        ("text/plain", &b"{}"[..]),
    ] {
        let r = kit::client()
            .request(Method::PATCH, format!("{}{path}", w.node.admin))
            .header("authorization", &w.write)
            .header("content-type", content_type)
            .body(bytes.to_vec())
            .send()
            .await
            .unwrap();
        let r = Reply::from(r).await;
        check(&Method::PATCH, BY_ID, &r);
        assert_eq!(
            r.status,
            400,
            "{content_type} {}",
            String::from_utf8_lossy(&r.body)
        );
    }
    // 400: an unknown member, an invalid passport; 409: another product.
    w.merge(&path, &json!({ "colour": "red" }), 400).await;
    let general = section(&base, "GeneralProductInformation");
    let r = w
        .merge(&path, &json!({ &general: { "batteryMass": "heavy" } }), 400)
        .await;
    assert_eq!(r.json()["messages"][0]["code"], "invalid-passport");
    let other = new_serial(&base, "X9")["uniqueProductIdentifier"].clone();
    w.merge(&path, &json!({ "uniqueProductIdentifier": other }), 409)
        .await;
    let history = w.actions(&w.id).await;
    assert_eq!(
        w.doc(&w.id).await["versionNumber"],
        1,
        "refusals wrote nothing"
    );

    // 200: exactly one new version, published, audited.
    let r = w.merge(&path, &patch, 200).await;
    let doc = r.json();
    assert_eq!(doc["versionNumber"], 2);
    assert_eq!(doc["dppStatus"], "Active");
    assert_eq!(doc["facilityId"], "https://id.gs1.org/414/4000001000029");
    assert_eq!(doc, w.doc(&w.id).await);
    let after = w.actions(&w.id).await;
    assert_eq!(
        after[history.len()..],
        ["passport.version-started", "passport.published"]
    );
    // Unchanged (the same patch again, or an empty one): the current document, no version.
    for same in [&patch, &json!({})] {
        let r = w.merge(&path, same, 200).await;
        assert_eq!(r.json()["versionNumber"], 2);
    }
    assert_eq!(w.actions(&w.id).await, after);
    // The plain JSON media type is taken too.
    let r = w
        .write(
            Method::PATCH,
            &path,
            Some(&json!({ "facilityId": "https://id.gs1.org/414/4000001000036" })),
            BY_ID,
            200,
        )
        .await;
    assert_eq!(r.json()["versionNumber"], 3);

    // publish=false: a draft; with a draft pending, publishing is a conflict.
    let r = w
        .merge(
            &format!("{path}?publish=false"),
            &json!({ "facilityId": "https://id.gs1.org/414/4000001000043" }),
            200,
        )
        .await;
    assert_eq!(r.json()["dppStatus"], "Draft");
    assert_eq!(r.json()["versionNumber"], 4);
    assert_eq!(w.doc(&w.id).await["versionNumber"], 3);
    // Changes to the pending draft accumulate (its base is the draft).
    let supply = section(&base, "SupplyChainDueDiligence");
    let r = w
        .merge(
            &format!("{path}?publish=false"),
            &json!({ &supply: { "supplyChainIndicies": 71.5 } }),
            200,
        )
        .await;
    let d = r.json();
    assert_eq!(
        (
            &d["versionNumber"],
            &d["facilityId"],
            &d[&supply]["supplyChainIndicies"]
        ),
        (
            &json!(4),
            &json!("https://id.gs1.org/414/4000001000043"),
            &json!(71.5)
        )
    );
    let r = w
        .merge(
            &path,
            &json!({ "facilityId": "https://id.gs1.org/414/4000001000050" }),
            409,
        )
        .await;
    assert!(r.json()["messages"][0]["text"]
        .as_str()
        .unwrap()
        .contains("draft is pending"));

    // A passport never published: its draft is the base, and the patch publishes it.
    let r = w
        .write(
            Method::POST,
            "/v1/dpps?publish=false",
            Some(&new_serial(&base, "N3")),
            CREATE,
            201,
        )
        .await;
    let fresh = r.json()["digitalProductPassportId"]
        .as_str()
        .unwrap()
        .trim_start_matches("urn:uuid:")
        .to_string();
    let r = w.merge(&format!("/v1/dpps/{fresh}"), &patch, 200).await;
    assert_eq!(r.json()["dppStatus"], "Active");
    assert_eq!(r.json()["versionNumber"], 1);
    assert_eq!(
        r.json()["facilityId"],
        "https://id.gs1.org/414/4000001000029"
    );
    assert_eq!(
        w.actions(&fresh).await,
        [
            "passport.draft-created",
            "passport.draft-updated",
            "passport.published"
        ]
    );

    // Suspended: 409.
    let (id2, _) = w.node.publish("S2").await;
    suspend(&w.node, &id2).await;
    w.merge(&format!("/v1/dpps/{id2}"), &patch, 409).await;
    w.node.running.stop();
}
kit::both!(update_dpp_merges_into_one_new_version);

async fn update_data_element_replaces_one_node(backend: Backend) {
    let w = Writer::new(backend).await;
    let base = w.doc(&w.id).await;
    let supply = section(&base, "SupplyChainDueDiligence");
    let leaf = format!("$['{supply}']['supplyChainIndicies']");
    let el = |id: &str, p: &str| format!("/v1/dpps/{id}/elements/{}", enc(p));
    let path = el(&w.id, &leaf);
    let value = json!(73.5);

    w.refuses_without_write(Method::PATCH, &path, ELEMENT_OP, &value)
        .await;
    w.public_refuses(Method::PATCH, &path, ELEMENT_OP, &value)
        .await;
    w.write(
        Method::PATCH,
        &format!("{path}?representation=full"),
        Some(&value),
        ELEMENT_OP,
        501,
    )
    .await;
    // 404: no passport, no node there (an element write never adds one).
    w.write(
        Method::PATCH,
        &el("01900000-0000-7000-8000-000000000000", &leaf),
        Some(&value),
        ELEMENT_OP,
        404,
    )
    .await;
    w.write(
        Method::PATCH,
        &el(&w.id, &format!("$['{supply}']['nothingHere']")),
        Some(&value),
        ELEMENT_OP,
        404,
    )
    .await;
    // 400: not a Normalized Path, a read-only header member, an invalid value; 409: the
    // identity.
    w.write(
        Method::PATCH,
        &el(&w.id, "$.economicOperatorId"),
        Some(&json!("x")),
        ELEMENT_OP,
        400,
    )
    .await;
    w.write(
        Method::PATCH,
        &el(&w.id, "$['lastUpdate']"),
        Some(&json!("2020-01-01T00:00:00Z")),
        ELEMENT_OP,
        400,
    )
    .await;
    w.write(
        Method::PATCH,
        &el(&w.id, &leaf),
        Some(&json!("many")),
        ELEMENT_OP,
        400,
    )
    .await;
    w.write(
        Method::PATCH,
        &el(&w.id, "$['granularity']"),
        Some(&json!("Batch")),
        ELEMENT_OP,
        409,
    )
    .await;
    let history = w.actions(&w.id).await;

    // 200: the value read back, one new version.
    let r = w
        .write(Method::PATCH, &path, Some(&value), ELEMENT_OP, 200)
        .await;
    assert_eq!(r.json(), value);
    let doc = w.doc(&w.id).await;
    assert_eq!(doc["versionNumber"], 2);
    assert_eq!(doc[&supply]["supplyChainIndicies"], value);
    let after = w.actions(&w.id).await;
    assert_eq!(
        after[history.len()..],
        ["passport.version-started", "passport.published"]
    );
    // The same value again: no version.
    let r = w
        .write(Method::PATCH, &path, Some(&value), ELEMENT_OP, 200)
        .await;
    assert_eq!(r.json(), value);
    assert_eq!(w.actions(&w.id).await, after);
    // A writable header member.
    let r = w
        .write(
            Method::PATCH,
            &el(&w.id, "$['economicOperatorId']"),
            Some(&json!("https://id.gs1.org/417/4000001000005")),
            ELEMENT_OP,
            200,
        )
        .await;
    assert_eq!(r.json(), "https://id.gs1.org/417/4000001000005");
    assert_eq!(w.doc(&w.id).await["versionNumber"], 3);
    // The commodity code (the EU registry's customs link) is writable too; a bad one is 400.
    let code = el(&w.id, "$['commodityCode']");
    let r = w
        .write(
            Method::PATCH,
            &code,
            Some(&json!("85076090")),
            ELEMENT_OP,
            200,
        )
        .await;
    assert_eq!(r.json(), "85076090");
    let doc = w.doc(&w.id).await;
    assert_eq!(
        (&doc["commodityCode"], &doc["versionNumber"]),
        (&json!("85076090"), &json!(4))
    );
    w.write(
        Method::PATCH,
        &code,
        Some(&json!("8507.60")),
        ELEMENT_OP,
        400,
    )
    .await;
    w.node.running.stop();
}
kit::both!(update_data_element_replaces_one_node);
