//! The GS1 Digital Link resolver over real HTTP: walk-up, redirects, linksets validated
//! against GS1's linkset schema (`../shared/specs/gs1-linkset`), link types, content
//! negotiation, malformed URIs, HEAD/OPTIONS/CORS, the description file, suspended and
//! deactivated passports. Tests named `ts_*` are the checks of GS1's resolver test suite
//! (research note §1c), written again here because the suite only runs online.

use hallmark_testkit as kit;
use kit::{basic, battery_data, Backend, Node, Reply, TestNode, BASE_URL};
use reqwest::Method;
use serde_json::{json, Value};
use std::path::Path;

/// The GTIN of every fixture passport.
pub(crate) const G: &str = "09506000134352";
/// A GTIN with a valid check digit that no passport has (GTIN-8 96385074 as 14 digits).
const UNKNOWN_GTIN: &str = "00000096385074";
const DEFAULT_LINK: &str = "https://ref.gs1.org/voc/defaultLink";
const DPP: &str = "https://ref.gs1.org/voc/dpp";
const LOG_INCLUSION: &str = "https://w3id.org/hallmark/voc/logInclusion";
const SUSPENSION_LIST: &str = "https://w3id.org/hallmark/voc/suspensionStatusList";
const REVOCATION_LIST: &str = "https://w3id.org/hallmark/voc/revocationStatusList";

/// A node with a model passport (GTIN), a batch passport (lot `L1`), an item passport
/// (lot `L1`, serial `S1`) and an item passport with a `/` in its serial (`S/2`), all
/// published.
struct Fixture {
    node: Node,
    model: String,
    batch: String,
    item: String,
    slash: String,
}

impl Fixture {
    async fn new(backend: Backend) -> Fixture {
        let node = TestNode::new(backend).start().await;
        let model = publish(&node, json!({ "gtin": G }), "model").await;
        let batch = publish(&node, json!({ "gtin": G, "lot": "L1" }), "batch").await;
        let item = publish(
            &node,
            json!({ "gtin": G, "lot": "L1", "serial": "S1" }),
            "item",
        )
        .await;
        let slash = publish(&node, json!({ "gtin": G, "serial": "S/2" }), "item").await;
        Fixture {
            node,
            model,
            batch,
            item,
            slash,
        }
    }

    /// A request to the public listener (redirects not followed).
    async fn req(&self, method: Method, path: &str, headers: &[(&str, &str)]) -> Reply {
        let mut req = no_redirects().request(method, format!("{}{path}", self.node.public));
        for (name, value) in headers {
            req = req.header(*name, *value);
        }
        Reply::from(req.send().await.unwrap()).await
    }

    async fn get(&self, path: &str) -> Reply {
        self.req(Method::GET, path, &[]).await
    }

    async fn get_as(&self, path: &str, accept: &str) -> Reply {
        self.req(Method::GET, path, &[("accept", accept)]).await
    }

    /// The linkset of `path` (`?linkType=linkset`), checked to be one.
    async fn linkset(&self, path: &str) -> Value {
        let sep = if path.contains('?') { '&' } else { '?' };
        let r = self.get(&format!("{path}{sep}linkType=linkset")).await;
        assert_eq!(r.status, 200, "{}", String::from_utf8_lossy(&r.body));
        assert!(r
            .header("content-type")
            .unwrap()
            .starts_with("application/linkset+json"));
        r.json()
    }
}

pub(crate) fn no_redirects() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

/// Creates and publishes a battery passport with this identifier and granularity.
pub(crate) async fn publish(node: &Node, identifier: Value, granularity: &str) -> String {
    let draft = json!({
        "uniqueProductIdentifier": identifier,
        "granularity": granularity,
        "economicOperatorId": "https://id.gs1.org/417/4012345000016",
        "facilityId": "https://id.gs1.org/414/4012345000016",
        "sector": { "id": "battery", "schemaVersion": "1.2.0" },
        "data": battery_data(),
    });
    let r = node
        .call(
            Method::POST,
            "/api/v1/passports",
            Some(&basic()),
            Some(&draft),
        )
        .await;
    assert_eq!(r.status, 201, "{}", String::from_utf8_lossy(&r.body));
    let id = r.json()["id"].as_str().unwrap().to_string();
    let p = node
        .admin(Method::POST, &format!("/api/v1/passports/{id}/publish"))
        .await;
    assert_eq!(p.status, 200, "{}", String::from_utf8_lossy(&p.body));
    id
}

/// The passport's public URL as the resolver links to it.
pub(crate) fn url(id: &str) -> String {
    format!("{BASE_URL}/passports/{id}")
}

/// Every `Link` header value, joined as a client sees them.
fn links(r: &Reply) -> String {
    r.headers
        .get_all("link")
        .iter()
        .map(|v| v.to_str().unwrap())
        .collect::<Vec<_>>()
        .join(", ")
}

fn linkset_header(path: &str) -> String {
    format!(
        "<{BASE_URL}{path}?linkType=linkset>; rel=\"linkset\"; type=\"application/linkset+json\""
    )
}

pub(crate) fn assert_redirect(r: &Reply, location: &str) {
    assert_eq!(r.status, 307, "{}", String::from_utf8_lossy(&r.body));
    assert_eq!(r.header("location"), Some(location));
}

/// GS1's linkset schema, compiled (the key pattern needs a look-ahead).
pub(crate) fn gs1_schema() -> jsonschema::Validator {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared/specs/gs1-linkset/gs1-linkset-schema.json");
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| {
        panic!(
            "{}: {e} (../shared is required, see README)",
            path.display()
        )
    });
    jsonschema::draft7::new(&serde_json::from_str(&text).unwrap()).unwrap()
}

fn shared_example(name: &str) -> Value {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared/specs/gs1-linkset")
        .join(name);
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

pub(crate) fn assert_valid(schema: &jsonschema::Validator, linkset: &Value) {
    let errors: Vec<String> = schema.iter_errors(linkset).map(|e| e.to_string()).collect();
    assert!(errors.is_empty(), "{errors:#?}\n{linkset:#}");
}

// ---- walk-up ---------------------------------------------------------------------------

kit::both!(every_level_resolves_and_walks_up);

/// Item → batch → model within one request; each answer redirects to the passport that
/// answered and its linkset has one entry per level that exists.
async fn every_level_resolves_and_walks_up(backend: Backend) {
    let f = Fixture::new(backend).await;
    let cases = [
        (format!("/01/{G}"), &f.model),
        (format!("/01/{G}/10/L1"), &f.batch),
        (format!("/01/{G}/21/S1"), &f.item),
        (format!("/01/{G}/10/L1/21/S1"), &f.item),
        (format!("/01/{G}/10/OTHER/21/S1"), &f.item),
        (format!("/01/{G}/10/L1/21/NOPE"), &f.batch),
        (format!("/01/{G}/21/NOPE"), &f.model),
        (format!("/01/{G}/10/KL8G"), &f.model),
        (format!("/01/{G}/22/V1"), &f.model),
        (format!("/01/{G}/22/V1/10/L1"), &f.batch),
        (format!("/01/{G}/235/TPX1"), &f.model),
        (format!("/01/{G}/21/S%2F2"), &f.slash),
        (format!("/01/{G}/21/S%2f2"), &f.slash),
        ("/01/9506000134352/21/S1".to_string(), &f.item),
    ];
    for (path, id) in cases {
        let r = f.get(&path).await;
        assert_redirect(&r, &url(id));
        assert!(links(&r).contains("rel=\"linkset\""), "{path}");
    }
    // The GTIN-13 form answers in place, with the 14-digit form in the Link header.
    let r = f.get("/01/9506000134352/21/S1").await;
    assert_eq!(links(&r), linkset_header(&format!("/01/{G}/21/S1")));

    // The linkset has every level that exists, most specific first, and says which
    // answered.
    let ls = f.linkset(&format!("/01/{G}/10/L1/21/S1")).await;
    let entries = ls["linkset"].as_array().unwrap();
    let anchors: Vec<&str> = entries
        .iter()
        .map(|e| e["anchor"].as_str().unwrap())
        .collect();
    assert_eq!(
        anchors,
        [
            format!("{BASE_URL}/01/{G}/10/L1/21/S1"),
            format!("{BASE_URL}/01/{G}/10/L1"),
            format!("{BASE_URL}/01/{G}"),
        ]
    );
    let defaults: Vec<&str> = entries
        .iter()
        .map(|e| e[DEFAULT_LINK][0]["href"].as_str().unwrap())
        .collect();
    assert_eq!(defaults, [url(&f.item), url(&f.batch), url(&f.model)]);
    let ls = f.linkset(&format!("/01/{G}/21/NOPE")).await;
    let entries = ls["linkset"].as_array().unwrap();
    assert_eq!(entries.len(), 1);
    assert_eq!(entries[0]["anchor"], format!("{BASE_URL}/01/{G}"));
    let description = entries[0]["itemDescription"].as_str().unwrap();
    assert!(
        description.contains("no item passport was found, so the model passport answers"),
        "{description}"
    );
    assert_valid(&gs1_schema(), &ls);

    // A valid identifier nothing answers for: 404, still with the Link header.
    let r = f.get(&format!("/01/{UNKNOWN_GTIN}/21/S1")).await;
    r.problem(404, "not-found");
    assert_eq!(
        links(&r),
        linkset_header(&format!("/01/{UNKNOWN_GTIN}/21/S1"))
    );
    f.node.stop().await;
}

/// GS1 test suite `basicWalkUp`: an unknown lot under a known GTIN is not a 404.
#[tokio::test]
async fn ts_basic_walk_up() {
    let f = Fixture::new(Backend::Sqlite).await;
    let r = f.get(&format!("/01/{G}/10/KL8G")).await;
    assert_ne!(r.status, 404);
    assert_redirect(&r, &url(&f.model));
    f.node.stop().await;
}

kit::both!(a_gtin_with_only_item_passports_walks_up_to_its_product_page);

/// GS1 test suite `basicWalkUp` for a product whose passports are all per item: an unknown
/// serial, an unknown lot and the bare GTIN answer with the product (its page, a linkset
/// valid against GS1's schema with one default link), not a 404; the product page in the
/// asked language; an unknown GTIN stays 404, as an HTML page for a browser; the walk-up
/// stops once the product's last passport is deactivated.
async fn a_gtin_with_only_item_passports_walks_up_to_its_product_page(backend: Backend) {
    let node = TestNode::new(backend).start().await;
    let item = publish(&node, json!({ "gtin": G, "serial": "S1" }), "item").await;
    let f = Fixture {
        model: String::new(),
        batch: String::new(),
        item: item.clone(),
        slash: String::new(),
        node,
    };
    let product_page = format!("{BASE_URL}/products/{G}");
    assert_redirect(&f.get(&format!("/01/{G}/21/S1")).await, &url(&item));
    for path in [
        format!("/01/{G}/21/NOPE"),
        format!("/01/{G}/10/KL8G"),
        format!("/01/{G}"),
        "/01/9506000134352/10/KL8G/21/NOPE".to_string(),
    ] {
        let r = f.get(&path).await;
        assert_redirect(&r, &product_page);
        assert!(links(&r).contains("rel=\"linkset\""), "{path}");
    }
    let ls = f.linkset(&format!("/01/{G}/21/NOPE")).await;
    assert_valid(&gs1_schema(), &ls);
    let entries = ls["linkset"].as_array().unwrap();
    assert_eq!(entries.len(), 1);
    assert_eq!(entries[0]["anchor"], format!("{BASE_URL}/01/{G}"));
    assert_eq!(entries[0][DEFAULT_LINK].as_array().unwrap().len(), 1);
    assert_eq!(entries[0][DEFAULT_LINK][0]["href"], product_page.as_str());
    let description = entries[0]["itemDescription"].as_str().unwrap();
    assert!(
        description.contains("no passport answers for serial NOPE"),
        "{description}"
    );
    assert_redirect(
        &f.get(&format!("/01/{G}/21/NOPE?linkType=gs1:pip")).await,
        &format!("{product_page}?linkType=gs1:pip"),
    );
    f.get(&format!("/01/{G}/21/NOPE?linkType=gs1:dpp"))
        .await
        .problem(404, "not-found");

    // The product page, in the asked language, under the page's policy.
    let r = f
        .req(
            Method::GET,
            &format!("/products/{G}"),
            &[("accept", "text/html"), ("accept-language", "de")],
        )
        .await;
    assert_eq!(r.status, 200);
    assert_eq!(r.header("content-type"), Some("text/html; charset=utf-8"));
    assert_eq!(r.header("content-language"), Some("de"));
    assert!(r
        .header("content-security-policy")
        .unwrap()
        .starts_with("default-src 'none'"));
    let html = String::from_utf8_lossy(&r.body);
    assert!(
        html.contains("Produktinformation") && html.contains(G),
        "{html}"
    );
    let r = f.get("/products/9506000134352?lang=fr").await;
    assert_eq!(r.status, 200);
    assert!(String::from_utf8_lossy(&r.body).contains("Informations sur le produit"));
    let r = f.get(&format!("/products/{UNKNOWN_GTIN}")).await;
    assert_eq!(r.status, 404);
    assert!(String::from_utf8_lossy(&r.body).contains("Passport not found"));
    f.get("/products/09506000134353")
        .await
        .problem(400, "bad-request");

    // An unknown GTIN: 404 — problem+json for a client, a page for a browser.
    let dl = format!("/01/{UNKNOWN_GTIN}/21/S1");
    f.get(&dl).await.problem(404, "not-found");
    let browser = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8";
    let r = f
        .req(
            Method::GET,
            &dl,
            &[("accept", browser), ("accept-language", "fr-FR,fr;q=0.9")],
        )
        .await;
    assert_eq!(r.status, 404);
    assert_eq!(r.header("content-type"), Some("text/html; charset=utf-8"));
    assert!(String::from_utf8_lossy(&r.body).contains("Passeport introuvable"));
    assert_eq!(links(&r), linkset_header(&dl));
    let r = f
        .get_as("/passports/0190d5a4-0000-7000-8000-000000000000", browser)
        .await;
    assert_eq!(r.status, 404);
    assert!(String::from_utf8_lossy(&r.body).contains("Nothing is published at this address"));

    // Deactivated, the product is no longer known.
    let r = f
        .node
        .call(
            Method::POST,
            &format!("/api/v1/passports/{item}/deactivate"),
            Some(&basic()),
            Some(&json!({ "reason": "battery destroyed" })),
        )
        .await;
    assert_eq!(r.status, 200, "{}", String::from_utf8_lossy(&r.body));
    f.get(&format!("/01/{G}/21/NOPE"))
        .await
        .problem(404, "not-found");
    assert_eq!(f.get(&format!("/products/{G}")).await.status, 404);
    f.node.stop().await;
}

// ---- linksets ----------------------------------------------------------------------------

/// GS1 test suite `ltLinksetNoRedirect`, `ltAllNoRedirect`, `ltAcceptHeader`,
/// `validLinkset`, `declaredContentType`, `linksetJsonldCheck`: every way of asking gets
/// 200 with a linkset valid against GS1's schema, the context link and the linkset link.
#[tokio::test]
async fn ts_linkset_requests_validate_against_the_gs1_schema() {
    let f = Fixture::new(Backend::Sqlite).await;
    let schema = gs1_schema();
    // The schema is the strict one: GS1's own invalid example fails, the valid one passes.
    assert!(schema.is_valid(&shared_example("valid-gs1-example.json")));
    assert!(!schema.is_valid(&shared_example("invalid-gs1-example.json")));
    let mut hyphen = shared_example("valid-gs1-example.json");
    hyphen["linkset"][0]["https://my-node.example/voc/x"] =
        json!([{"href": "https://a.example", "title": "t"}]);
    assert!(
        !schema.is_valid(&hyphen),
        "a hyphenated link type must fail"
    );

    for dl in [
        format!("/01/{G}"),
        format!("/01/{G}/10/L1"),
        format!("/01/{G}/21/S1"),
        format!("/01/{G}/10/L1/21/S1"),
        format!("/01/{G}/10/L1/21/NOPE"),
        format!("/01/{G}/21/S%2F2"),
    ] {
        for (query, accept) in [
            ("?linkType=linkset", None),
            ("?linkType=all", None),
            ("?linkType=all", Some("application/linkset+json")),
            ("", Some("application/linkset+json")),
            ("", Some("application/json")),
        ] {
            let mut headers = vec![];
            if let Some(a) = accept {
                headers.push(("accept", a));
            }
            let r = f.req(Method::GET, &format!("{dl}{query}"), &headers).await;
            assert_eq!(r.status, 200, "{dl}{query} {accept:?}");
            assert_eq!(r.header("location"), None);
            assert!(r
                .header("content-type")
                .unwrap()
                .starts_with("application/linkset+json"));
            let link = links(&r);
            assert!(link.contains(&linkset_header(&dl)), "{link}");
            assert!(
                link.contains(&format!(
                    "<{BASE_URL}/resolver/linkset-context.jsonld>; \
                     rel=\"http://www.w3.org/ns/json-ld#context\"; type=\"application/ld+json\""
                )),
                "{link}"
            );
            assert_valid(&schema, &r.json());
        }
    }
    // The context is served by the node itself, GS1's file unchanged.
    let r = f.get("/resolver/linkset-context.jsonld").await;
    assert_eq!(r.status, 200);
    assert_eq!(r.header("content-type"), Some("application/ld+json"));
    assert_eq!(r.json(), shared_example("linksetContext.jsonld"));
    f.node.stop().await;
}

/// GS1 test suite `defaultLinkExists`, `singleDefaulLink`, `defaultTarget`: every entry
/// has exactly one default link with `href` and `title` only, its href is also a `gs1:dpp`
/// link, and a request with `Accept: */*` redirects exactly to it. Every link has a title
/// and a type; no `(type, hreflang)` repeats within a link type.
#[tokio::test]
async fn ts_one_default_link_per_entry_and_the_default_target() {
    let f = Fixture::new(Backend::Sqlite).await;
    for dl in [
        format!("/01/{G}"),
        format!("/01/{G}/10/L1"),
        format!("/01/{G}/10/L1/21/S1"),
        format!("/01/{G}/21/NOPE"),
    ] {
        let ls = f.linkset(&dl).await;
        for entry in ls["linkset"].as_array().unwrap() {
            let defaults = entry[DEFAULT_LINK].as_array().unwrap();
            assert_eq!(defaults.len(), 1, "{entry:#}");
            let keys: Vec<&String> = defaults[0].as_object().unwrap().keys().collect();
            assert_eq!(keys, ["href", "title"]);
            let href = defaults[0]["href"].as_str().unwrap();
            assert!(entry[DPP]
                .as_array()
                .unwrap()
                .iter()
                .any(|l| l["href"] == href));
            for (rel, links) in entry.as_object().unwrap() {
                if rel == "anchor" || rel == "itemDescription" || rel == DEFAULT_LINK {
                    continue;
                }
                let mut seen = std::collections::BTreeSet::new();
                for l in links.as_array().unwrap() {
                    assert!(
                        l["title"].is_string() && l["type"].is_string(),
                        "{rel}: {l}"
                    );
                    assert!(seen.insert((l["type"].to_string(), l["hreflang"].to_string())));
                }
            }
        }
        let first_default = ls["linkset"][0][DEFAULT_LINK][0]["href"].as_str().unwrap();
        let r = f.get_as(&dl, "*/*").await;
        assert_redirect(&r, first_default);
        let r = f.get(&dl).await;
        assert_redirect(&r, first_default);
    }
    f.node.stop().await;
}

/// The links of a passport: the three forms as `gs1:dpp` (the page with its languages),
/// the DID document as `describedby`, the log inclusion proof in Hallmark's namespace.
#[tokio::test]
async fn the_linkset_links_every_form_the_did_document_and_the_log_proof() {
    let f = Fixture::new(Backend::Sqlite).await;
    let ls = f.linkset(&format!("/01/{G}/21/S1")).await;
    let item = &ls["linkset"][0];
    assert_eq!(item["anchor"], format!("{BASE_URL}/01/{G}/21/S1"));
    let desc = item["itemDescription"].as_str().unwrap();
    assert!(
        desc.contains("item") && desc.contains("status: published"),
        "{desc}"
    );
    let dpp = item[DPP].as_array().unwrap();
    let types: Vec<&str> = dpp.iter().map(|l| l["type"].as_str().unwrap()).collect();
    assert_eq!(types, ["text/html", "application/vc", "application/vc+jwt"]);
    assert_eq!(dpp[0]["hreflang"], json!(["en", "de", "fr"]));
    assert!(dpp.iter().all(|l| l["href"] == url(&f.item)));
    assert_eq!(
        item["describedby"][0]["href"],
        format!("{BASE_URL}/.well-known/did.json")
    );
    assert_eq!(item["describedby"][0]["type"], "application/did+json");
    let proof = item[LOG_INCLUSION][0]["href"].as_str().unwrap();
    assert!(proof.starts_with(&format!("{BASE_URL}/log/proof/inclusion?index=")));
    // The proof the link names is the one the passport's own Link header names.
    let own = f.node.get(&format!("/passports/{}", f.item)).await;
    let index = own.header("hallmark-log-index").unwrap();
    assert_eq!(
        proof,
        format!("{BASE_URL}/log/proof/inclusion?index={index}")
    );
    // The passport's status lists, suspension then revocation, each served.
    let lists: Vec<&Value> = [SUSPENSION_LIST, REVOCATION_LIST]
        .iter()
        .map(|t| {
            let links = item[*t].as_array().unwrap();
            assert_eq!(links.len(), 1);
            &links[0]
        })
        .collect();
    let hrefs: Vec<&str> = lists.iter().map(|l| l["href"].as_str().unwrap()).collect();
    let own: Value = serde_json::from_slice(&own.body).unwrap();
    let named: Vec<&str> = own["credentialStatus"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["statusListCredential"].as_str().unwrap())
        .collect();
    assert_eq!(hrefs, named);
    assert!(hrefs[0].starts_with(&format!("{BASE_URL}/status/suspension/")));
    assert!(lists.iter().all(|l| l["type"] == "application/vc"));
    // The links the linkset names are served (the node's own URLs, on its listener).
    for href in [url(&f.item), format!("{BASE_URL}/.well-known/did.json")]
        .into_iter()
        .chain(hrefs.iter().map(|h| h.to_string()))
    {
        let path = href.strip_prefix(BASE_URL).unwrap();
        assert_eq!(f.node.get(path).await.status, 200, "{path}");
    }
    f.node.stop().await;
}

// ---- link types and negotiation --------------------------------------------------------

/// GS1 test suite `loFor{type}` and `specificLinkTypeNotFound`: `linkType` as a CURIE, in
/// each GS1 namespace, percent-encoded or not, as an IANA name, redirects to that link with
/// the query string forwarded; an absent type is 404.
#[tokio::test]
async fn ts_link_types_redirect_to_their_link_or_404() {
    let f = Fixture::new(Backend::Sqlite).await;
    let dl = format!("/01/{G}/21/S1");
    let passport = url(&f.item);
    for lt in [
        "gs1:dpp",
        "gs1%3Adpp",
        "dpp",
        "https://gs1.org/voc/dpp",
        "https%3A%2F%2Fgs1.org%2Fvoc%2Fdpp",
        "https://www.gs1.org/voc/dpp",
        "https://ref.gs1.org/voc/dpp",
        "gs1:defaultLink",
    ] {
        let r = f.get(&format!("{dl}?linkType={lt}")).await;
        assert_redirect(&r, &format!("{passport}?linkType={lt}"));
        assert!(links(&r).contains(&linkset_header(&dl)));
    }
    let r = f.get(&format!("{dl}?linkType=describedby")).await;
    assert_redirect(
        &r,
        &format!("{BASE_URL}/.well-known/did.json?linkType=describedby"),
    );
    let r = f.get(&format!("{dl}?linkType=hallmark:logInclusion")).await;
    let location = r.header("location").unwrap();
    assert!(
        location.starts_with(&format!("{BASE_URL}/log/proof/inclusion?index="))
            && location.ends_with("&linkType=hallmark:logInclusion"),
        "{location}"
    );
    // Accept chooses among several links of one type (here all the same passport URL).
    for accept in ["text/html", "application/vc", "application/vc+jwt"] {
        let r = f
            .req(
                Method::GET,
                &format!("{dl}?linkType=gs1:dpp"),
                &[("accept", accept), ("accept-language", "de")],
            )
            .await;
        assert_redirect(&r, &format!("{passport}?linkType=gs1:dpp"));
    }
    for missing in ["gs1:nosuchlt", "gs1:pip", "https://example.org/voc/x"] {
        let r = f.get(&format!("{dl}?linkType={missing}")).await;
        r.problem(404, "not-found");
        assert!(links(&r).contains(&linkset_header(&dl)));
    }
    f.node.stop().await;
}

/// No `linkType`: a browser and a VC client are sent to the passport (the same URL, which
/// negotiates the page or the credential); the redirect varies on `Accept` and
/// `Accept-Language`.
#[tokio::test]
async fn accept_chooses_the_default_redirect() {
    let f = Fixture::new(Backend::Sqlite).await;
    let dl = format!("/01/{G}/21/S1");
    for accept in [
        "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8",
        "application/vc+jwt",
        "application/vc+ld+json",
        "application/vc",
        "image/png",
        "*/*",
    ] {
        let r = f.get_as(&dl, accept).await;
        assert_redirect(&r, &url(&f.item));
        assert_eq!(r.header("vary"), Some("Accept, Accept-Language"));
        assert!(r.body.is_empty());
    }
    f.node.stop().await;
}

/// GS1 test suite `qsPassedOn` (and the standard's "the entire query string"): the query
/// string arrives byte for byte, data attributes and unknown parameters included.
#[tokio::test]
async fn ts_query_strings_are_passed_on_byte_for_byte() {
    let f = Fixture::new(Backend::Sqlite).await;
    let dl = format!("/01/{G}/21/S1");
    for query in [
        "foo=bar",
        "17=261231&foo=bar",
        "a=%2F%20x;b=%7e&c",
        "linkType=gs1:dpp&x=%C3%A9",
    ] {
        let r = f.get(&format!("{dl}?{query}")).await;
        assert_redirect(&r, &format!("{}?{query}", url(&f.item)));
    }
    // The passport URL ignores the parameters it does not know.
    let r = f
        .node
        .get(&format!("/passports/{}?foo=bar&17=261231", f.item))
        .await;
    assert_eq!(r.status, 200);
    f.node.stop().await;
}

// ---- malformed URIs ------------------------------------------------------------------------

/// GS1 test suite `reportWith400`, `noErrorWith200`: a malformed Digital Link is a 400
/// naming the element — never a 404, a 500 or a 200.
#[tokio::test]
async fn ts_malformed_digital_links_are_400_naming_the_element() {
    let f = Fixture::new(Backend::Sqlite).await;
    for (path, element) in [
        (format!("/01/{G}/foo"), "path"),
        (format!("/01/{G}/21/S1/foo"), "path"),
        (format!("/01/{G}/10/L1/foo"), "path"),
        (format!("/01/{G}/17/261231"), "path"),
        (format!("/01/{G}//21/S1"), "path"),
        (format!("/01/{G}/21/S1/10/L1"), "10"),
        (format!("/01/{G}/10/L1/10/L2"), "10"),
        (format!("/01/{G}/21/S1/22/V"), "22"),
        (format!("/01/{G}/21/S1/235/T"), "235"),
        (format!("/01/{G}/21"), "21"),
        (format!("/01/{G}/21/A%20B"), "21"),
        (format!("/01/{G}/21/A%ZZ"), "21"),
        (format!("/01/{G}/21/A%2"), "21"),
        (format!("/01/{G}/21/%C3%A9"), "21"),
        (format!("/01/{G}/21/A@B"), "21"),
        (format!("/01/{G}/21/A~B"), "21"),
        (format!("/01/{G}/21/{}", "S".repeat(21)), "21"),
        (format!("/01/{G}/10/{}", "L".repeat(21)), "10"),
        (format!("/01/{G}/235/{}", "T".repeat(29)), "235"),
        ("/01/09506000134353".to_string(), "01"),
        ("/01/0950600013435A".to_string(), "01"),
        ("/01/12345".to_string(), "01"),
        ("/01/".to_string(), "01"),
        ("/01".to_string(), "01"),
    ] {
        for method in [Method::GET, Method::HEAD] {
            let r = f.req(method.clone(), &path, &[]).await;
            assert_eq!(r.status, 400, "{method} {path}");
            if method == Method::GET {
                let p = r.problem(400, "invalid-digital-link");
                assert_eq!(p["element"], element, "{path}: {p}");
                assert!(p["detail"].as_str().unwrap().len() > 10);
            }
        }
    }
    // The check digit error says what it should be.
    let p = f
        .get("/01/09506000134353")
        .await
        .problem(400, "invalid-digital-link");
    assert!(
        p["reason"].as_str().unwrap().contains("check digit is 2"),
        "{p}"
    );
    f.node.stop().await;
}

/// GS1 test suite `trailingSlash`: the same status and `Location` with or without it.
#[tokio::test]
async fn ts_a_trailing_slash_gets_the_same_answer() {
    let f = Fixture::new(Backend::Sqlite).await;
    for dl in [
        format!("/01/{G}"),
        format!("/01/{G}/21/S1"),
        format!("/01/{G}/21/NOPE?x=1"),
        format!("/01/{UNKNOWN_GTIN}"),
        format!("/01/{G}/foo"),
    ] {
        let (path, query) = dl.split_once('?').unwrap_or((&dl, ""));
        let query = if query.is_empty() {
            String::new()
        } else {
            format!("?{query}")
        };
        let a = f.get(&format!("{path}{query}")).await;
        let b = f.get(&format!("{path}/{query}")).await;
        assert_eq!(a.status, b.status, "{dl}");
        assert_eq!(a.header("location"), b.header("location"), "{dl}");
        assert_eq!(links(&a), links(&b), "{dl}");
    }
    f.node.stop().await;
}

// ---- methods and CORS -------------------------------------------------------------------------

/// GS1 test suite `corsCheck`, `methodsCheck`, `linkOnRedirect`, `legacyLinkHeaders`:
/// HEAD answers as GET without a body; a CORS preflight and a plain OPTIONS (both answered
/// by the CORS layer) carry the methods and the `Link` to the linkset; a cross-origin GET may
/// read `Location` and `Link`; no `rel="gs1:…"` link in any header.
#[tokio::test]
async fn ts_head_options_and_cors() {
    let f = Fixture::new(Backend::Sqlite).await;
    let dl = format!("/01/{G}/21/S1");
    let get = f.get(&dl).await;
    let head = f.req(Method::HEAD, &dl, &[]).await;
    assert_eq!(head.status, 307);
    assert_eq!(head.header("location"), get.header("location"));
    assert_eq!(links(&head), links(&get));
    assert!(head.body.is_empty());

    let preflight = f
        .req(
            Method::OPTIONS,
            &dl,
            &[
                ("origin", "https://tester.example"),
                ("access-control-request-method", "GET,HEAD,OPTIONS"),
            ],
        )
        .await;
    assert!(preflight.status < 300, "{}", preflight.status);
    assert_eq!(preflight.header("access-control-allow-origin"), Some("*"));
    let methods = preflight.header("access-control-allow-methods").unwrap();
    for m in ["GET", "HEAD", "OPTIONS"] {
        assert!(methods.contains(m), "{methods}");
    }
    assert_eq!(links(&preflight), linkset_header(&dl));

    assert_eq!(preflight.header("allow"), Some("GET, HEAD, OPTIONS"));

    let plain = f.req(Method::OPTIONS, &dl, &[]).await;
    assert!(plain.status < 300, "{}", plain.status);
    assert_eq!(plain.header("allow"), Some("GET, HEAD, OPTIONS"));
    assert_eq!(links(&plain), linkset_header(&dl));

    let cors = f
        .req(Method::GET, &dl, &[("origin", "https://tester.example")])
        .await;
    assert_eq!(cors.header("access-control-allow-origin"), Some("*"));
    let exposed = cors
        .header("access-control-expose-headers")
        .unwrap()
        .to_ascii_lowercase();
    assert!(
        exposed.contains("location") && exposed.contains("link"),
        "{exposed}"
    );

    for r in [&get, &head, &preflight, &plain, &cors] {
        assert!(!links(r).contains("rel=\"gs1:"));
        r.assert_security_headers();
    }
    f.node.stop().await;
}

// ---- the description file ---------------------------------------------------------------------

/// GS1 test suite `rdFile`: `/.well-known/gs1resolver` is JSON with the required members
/// of the description-file schema (`resolverRoot`, `supportedPrimaryKeys`) and well-formed
/// optional ones.
#[tokio::test]
async fn ts_the_resolver_description_file() {
    let f = Fixture::new(Backend::Sqlite).await;
    let r = f.get("/.well-known/gs1resolver").await;
    assert_eq!(r.status, 200);
    assert!(r
        .header("content-type")
        .unwrap()
        .starts_with("application/json"));
    let d = r.json();
    assert_eq!(d["resolverRoot"], BASE_URL);
    assert_eq!(d["supportedPrimaryKeys"], json!(["01"]));
    assert_eq!(d["linkTypeDefaultCanBeLinkset"], false);
    assert_eq!(
        d["jsonLdContextLocation"],
        format!("{BASE_URL}/resolver/linkset-context.jsonld")
    );
    let namespaces = d["supportedLinkType"].as_array().unwrap();
    assert_eq!(
        namespaces[0],
        json!({"namespace": "https://ref.gs1.org/voc/", "prefix": "gs1:"})
    );
    for ns in namespaces {
        let prefix = ns["prefix"].as_str().unwrap();
        let mut chars = prefix.chars();
        assert!(chars.next().unwrap().is_ascii_alphabetic());
        assert!(prefix.ends_with(':'));
        assert!(prefix[..prefix.len() - 1]
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-'));
        let namespace = ns["namespace"].as_str().unwrap();
        assert!(namespace.starts_with("https://") && !namespace.contains('-'));
    }
    f.node.stop().await;
}

// ---- lifecycle ------------------------------------------------------------------------------------

/// Suspended passports still resolve (their URL answers 410 with the reason, the linkset
/// names the status); deactivated ones do not answer (the request walks up); drafts are
/// unknown.
#[tokio::test]
async fn suspended_deactivated_and_draft_passports() {
    let f = Fixture::new(Backend::Sqlite).await;
    let dl = format!("/01/{G}/21/S1");
    let r = f
        .node
        .call(
            Method::POST,
            &format!("/api/v1/passports/{}/suspend", f.item),
            Some(&basic()),
            Some(&json!({ "reason": "recall under investigation" })),
        )
        .await;
    assert_eq!(r.status, 200, "{}", String::from_utf8_lossy(&r.body));
    assert_redirect(&f.get(&dl).await, &url(&f.item));
    let ls = f.linkset(&dl).await;
    let desc = ls["linkset"][0]["itemDescription"].as_str().unwrap();
    assert!(desc.contains("status: suspended"), "{desc}");
    let target = f.node.get(&format!("/passports/{}", f.item)).await;
    target.problem(410, "gone");

    let r = f
        .node
        .call(
            Method::POST,
            &format!("/api/v1/passports/{}/deactivate", f.item),
            Some(&basic()),
            Some(&json!({ "reason": "battery destroyed" })),
        )
        .await;
    assert_eq!(r.status, 200, "{}", String::from_utf8_lossy(&r.body));
    assert_redirect(&f.get(&dl).await, &url(&f.model));
    let ls = f.linkset(&dl).await;
    assert_eq!(ls["linkset"][0]["anchor"], format!("{BASE_URL}/01/{G}"));

    // A draft is unknown.
    let draft = json!({
        "uniqueProductIdentifier": { "gtin": UNKNOWN_GTIN },
        "granularity": "model",
        "economicOperatorId": "https://id.gs1.org/417/4012345000016",
        "facilityId": "https://id.gs1.org/414/4012345000016",
        "sector": { "id": "battery", "schemaVersion": "1.2.0" },
        "data": battery_data(),
    });
    let r = f
        .node
        .call(
            Method::POST,
            "/api/v1/passports",
            Some(&basic()),
            Some(&draft),
        )
        .await;
    assert_eq!(r.status, 201);
    f.get(&format!("/01/{UNKNOWN_GTIN}"))
        .await
        .problem(404, "not-found");
    f.node.stop().await;
}
