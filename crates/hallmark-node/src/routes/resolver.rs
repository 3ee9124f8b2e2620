//! The GS1 Digital Link resolver on the public listener (no credential): a door onto
//! `Service::resolve`, with core's rules (`hallmark_core::resolver`). Operator view and the
//! conformance notes: `docs/resolver.md`.
//!
//! | Request | Answer |
//! |---|---|
//! | `GET <base>/01/{gtin}[/22/…][/10/{lot}][/21/{serial}]` or `/01/{gtin}/235/…` | 307 to the default link (or the `gs1:dpp` link whose media type `Accept` names) |
//! | … `?linkType=linkset` / `all`, `Accept: application/linkset+json` or a bare `application/json` | 200 `application/linkset+json` |
//! | … `?linkType={type}` (CURIE, any GS1 namespace, IANA name) | 307 to that link, 404 when there is none |
//! | a malformed path (syntax, check digit, character set) | 400 `invalid-digital-link` naming the element |
//! | a valid path no level answers for, of a GTIN with published passports (per item or batch) | the walk-up to the GTIN: the product's entry, default link `<base>/products/{gtin}` |
//! | a valid path of a GTIN with no published passport | 404 (the HTML notice page for a browser) |
//! | `OPTIONS` (plain or CORS preflight) | the CORS layer's answer, with `Allow` and the `Link` header ([`preflight_link`]) |
//! | `GET /.well-known/gs1resolver` (at the origin root) | the resolver description file |
//! | `GET <base>/resolver/linkset-context.jsonld` | GS1's linkset JSON-LD context, served locally |
//!
//! Paths are parsed from the raw request path, so `%2F` inside a serial stays inside it. The
//! query string is forwarded byte for byte on every redirect. Every answer for a valid path
//! carries `Link: <…?linkType=linkset>; rel="linkset"; type="application/linkset+json"`.

use crate::app::AppState;
use crate::problem::ApiError;
use crate::routes::public::{base_path, SHORT};
use crate::service::ResolvedLevel;
use crate::service::ServiceError;
use axum::extract::{Request, State};
use axum::http::header::{
    ACCEPT, ACCEPT_LANGUAGE, ALLOW, CACHE_CONTROL, CONTENT_TYPE, LINK, LOCATION, VARY,
};
use axum::http::{HeaderMap, HeaderName, HeaderValue, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use hallmark_core::resolver::{
    negotiate, passport_entry, product_entry, DigitalLinkPath, LinkTypeRequest, Linkset,
    PassportLinks, Preferences, DPP, GS1_VOC, HALLMARK_VOC, LINKSET_MEDIA_TYPE,
    RESERVED_LINK_TYPES, VC, VC_JWT,
};
use hallmark_core::status::{list_url, StatusPurpose};
use serde::Serialize;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

/// Where the resolver description file is, always at the origin root.
pub const DESCRIPTION_PATH: &str = "/.well-known/gs1resolver";
/// Where the linkset JSON-LD context is served, under the base path.
pub const CONTEXT_PATH: &str = "/resolver/linkset-context.jsonld";
/// GS1's linkset JSON-LD context (Apache-2.0; `assets/gs1/NOTICE.md`).
pub const LINKSET_CONTEXT: &str = include_str!("../../assets/gs1/linksetContext.jsonld");
/// Where a product's page is (`{PRODUCT_PATH}/{gtin14}`), under the base path: the
/// walk-up's answer for a GTIN whose passports are all per item or batch.
pub const PRODUCT_PATH: &str = "/products";
/// The languages of the passport's web page, as the linkset announces them (`hreflang`).
pub const PAGE_LANGUAGES: [&str; 3] = ["en", "de", "fr"];
/// The JSON-LD context link relation.
const JSONLD_CONTEXT_REL: &str = "http://www.w3.org/ns/json-ld#context";
/// `Vary` of every resolver answer that depends on the client's preferences.
const VARY_NEGOTIATED: &str = "Accept, Accept-Language";
/// The methods a Digital Link path answers.
const METHODS: &str = "GET, HEAD, OPTIONS";

/// The resolver's routes under the node's base path, and the description file at the
/// origin root (merged with `routes::public` into the public router, in `node::routers`).
pub fn routes(state: AppState) -> Router {
    let base = base_path(&state.issuer.base_url);
    Router::new()
        .route(&format!("{base}/01"), get(resolve))
        .route(&format!("{base}/01/"), get(resolve))
        .route(&format!("{base}/01/{{*rest}}"), get(resolve))
        .route(
            &format!("{base}{PRODUCT_PATH}/{{gtin}}"),
            get(super::page::product),
        )
        .route(DESCRIPTION_PATH, get(description))
        .route(&format!("{base}{CONTEXT_PATH}"), get(context))
        .with_state(state)
}

/// The resolver's routes as (method, path) pairs, for the public route table (OpenAPI).
pub fn route_table(base: &str) -> Vec<(&'static str, String)> {
    let mut table: Vec<(&'static str, String)> = [
        "/01/{gtin}",
        "/01/{gtin}/10/{lot}",
        "/01/{gtin}/21/{serial}",
        "/01/{gtin}/10/{lot}/21/{serial}",
    ]
    .iter()
    .flat_map(|p| {
        [
            ("GET", format!("{base}{p}")),
            ("OPTIONS", format!("{base}{p}")),
        ]
    })
    .collect();
    table.push(("GET", format!("{base}{PRODUCT_PATH}/{{gtin}}")));
    table.push(("GET", DESCRIPTION_PATH.to_string()));
    table.push(("GET", format!("{base}{CONTEXT_PATH}")));
    table
}

/// The OpenAPI summary of a resolver path, if `path` is one.
pub fn summary(method: &str, path: &str) -> Option<&'static str> {
    if path.ends_with(DESCRIPTION_PATH) {
        return Some("The GS1 resolver description file (supported keys and link types)");
    }
    if path.ends_with(CONTEXT_PATH) {
        return Some("GS1's JSON-LD context of linksets (served locally)");
    }
    if path.ends_with("/products/{gtin}") {
        return Some(
            "The page of a product whose passports are per item or batch (where the \
             resolver walks up to the GTIN); HTML, 404 for a product with none",
        );
    }
    if !path.contains("/01/{gtin}") {
        return None;
    }
    Some(match method {
        "OPTIONS" => "Allowed methods, CORS and the Link header to the linkset",
        _ => {
            "GS1 Digital Link: 307 to the passport (the link Accept names, or linkType), or \
             the linkset (linkType=linkset, Accept: application/linkset+json); 400 for a \
             malformed identifier, 404 for an unknown one"
        }
    })
}

/// The resolver root (`https://host[/path]`), its path stem and the origin, of a node.
struct Root<'a> {
    base_url: &'a str,
    base_path: String,
}

impl<'a> Root<'a> {
    fn of(app: &'a AppState) -> Self {
        Root {
            base_url: &app.issuer.base_url,
            base_path: base_path(&app.issuer.base_url),
        }
    }

    /// `https://host` of `https://host/path`.
    fn origin(&self) -> &str {
        self.base_url
            .strip_suffix(self.base_path.as_str())
            .unwrap_or(self.base_url)
    }

    /// The Digital Link path of a request path under this root.
    fn parse(&self, path: &str) -> Result<DigitalLinkPath, ApiError> {
        let below = path.strip_prefix(self.base_path.as_str()).unwrap_or(path);
        Ok(DigitalLinkPath::parse(below)?)
    }
}

/// `<{root}{path}?linkType=linkset>; rel="linkset"; type="application/linkset+json"`.
fn linkset_link(base_url: &str, path: &DigitalLinkPath) -> Option<HeaderValue> {
    HeaderValue::from_str(&format!(
        "<{base_url}{}?linkType=linkset>; rel=\"linkset\"; type=\"{LINKSET_MEDIA_TYPE}\"",
        path.canonical()
    ))
    .ok()
}

/// `GET`/`HEAD` on a Digital Link path.
async fn resolve(
    State(app): State<AppState>,
    uri: Uri,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let root = Root::of(&app);
    let path = root.parse(uri.path())?;
    let mut response = match answer(&app, &root, &path, uri.query(), &headers).await {
        Ok(r) => r,
        // A browser that scanned an unknown code gets a page it can read.
        Err(ApiError::NotFound) if crate::page::wants_html(headers.get(ACCEPT), uri.query()) => {
            super::page::not_found(&headers, uri.query())
        }
        Err(e) => e.into_response(),
    };
    if let Some(link) = linkset_link(root.base_url, &path) {
        response.headers_mut().append(LINK, link);
    }
    Ok(response)
}

/// What the request asks for, from its `linkType` and `Accept`.
enum Ask {
    /// The linkset, 200.
    Linkset,
    /// A redirect to the links of this type.
    Type(String),
    /// A redirect to the default link (or the `gs1:dpp` link `Accept` names).
    Default,
}

fn ask(query: Option<&str>, prefs: &Preferences) -> Ask {
    match query
        .and_then(|q| query_param(q, "linkType"))
        .filter(|v| !v.is_empty())
    {
        Some(value) => match LinkTypeRequest::parse(&value) {
            LinkTypeRequest::Linkset => Ask::Linkset,
            LinkTypeRequest::Type(rel) => Ask::Type(rel),
        },
        None if prefs.names_exactly(LINKSET_MEDIA_TYPE)
            || (prefs.names_exactly("application/json")
                && !prefs.names(VC)
                && !prefs.names(VC_JWT)) =>
        {
            Ask::Linkset
        }
        None => Ask::Default,
    }
}

async fn answer(
    app: &AppState,
    root: &Root<'_>,
    path: &DigitalLinkPath,
    query: Option<&str>,
    headers: &HeaderMap,
) -> Result<Response, ApiError> {
    let text = |name: HeaderName| headers.get(name).and_then(|v| v.to_str().ok());
    let prefs = Preferences::parse(text(ACCEPT), text(ACCEPT_LANGUAGE));
    let wanted = ask(query, &prefs);
    let service = app.service();
    let mut linkset = match service.resolve(path, !matches!(wanted, Ask::Default)).await {
        Ok(levels) => linkset(root, path, &levels, app),
        // Nothing at any level of the path, but the product has passports (per item or
        // batch): walk up to the GTIN and answer with the product (GS1 resolver 2.5.9).
        Err(ServiceError::NotFound) if service.product_known(path.gtin().as_gtin14()).await? => {
            product_linkset(root, path, app)
        }
        Err(e) => return Err(e.into()),
    };
    add_operator_links(app, root, path, &wanted, &mut linkset).await?;
    let href = match &wanted {
        Ask::Linkset => return linkset_response(root, &linkset),
        Ask::Type(rel) => negotiate::choose(linkset.links_of(rel), &prefs)
            .ok_or(ApiError::NotFound)?
            .href
            .clone(),
        Ask::Default => {
            let entry = linkset.linkset.first().ok_or(ApiError::NotFound)?;
            negotiate::choose_named(entry.links_of(DPP), &prefs)
                .or_else(|| entry.default_link())
                .ok_or(ApiError::Internal)?
                .href
                .clone()
        }
    };
    redirect(&href, query)
}

/// The operator's links (`Service::resolver_links`) appended to the entries of their levels
/// (core's `Linkset::add_product_links`: after the node's own, never replacing one; a level
/// without an entry serves none). Only for a linkset or a `linkType` the node does not serve
/// itself: the default redirect, and `linkType=gs1:dpp` and the other reserved types, make no
/// extra query.
async fn add_operator_links(
    app: &AppState,
    root: &Root<'_>,
    path: &DigitalLinkPath,
    wanted: &Ask,
    linkset: &mut Linkset,
) -> Result<(), ApiError> {
    match wanted {
        Ask::Default => return Ok(()),
        Ask::Type(rel) if RESERVED_LINK_TYPES.contains(&rel.as_str()) => return Ok(()),
        Ask::Type(_) | Ask::Linkset => {}
    }
    let links = app.service().resolver_links(path).await?;
    linkset.add_product_links(root.base_url, path, &links);
    Ok(())
}

/// The linkset of the levels found, most specific first.
fn linkset(
    root: &Root<'_>,
    path: &DigitalLinkPath,
    levels: &[ResolvedLevel],
    app: &AppState,
) -> Linkset {
    let did_document_url = format!("{}{}", root.origin(), app.issuer.did.document_path());
    let entries = levels
        .iter()
        .enumerate()
        .map(|(i, level)| {
            passport_entry(
                root.base_url,
                path,
                &PassportLinks {
                    granularity: level.granularity,
                    status: level.record.status.as_str(),
                    passport_url: format!("{}/passports/{}", root.base_url, level.record.id.uuid()),
                    page_languages: &PAGE_LANGUAGES,
                    did_document_url: did_document_url.clone(),
                    log_inclusion_url: level.log_index.map(|index| {
                        format!("{}/log/proof/inclusion?index={index}", root.base_url)
                    }),
                    registrations_url: level.registered.then(|| {
                        format!(
                            "{}/passports/{}/registrations",
                            root.base_url,
                            level.record.id.uuid()
                        )
                    }),
                    status_lists: level.status_ref.map_or_else(Vec::new, |r| {
                        StatusPurpose::ALL
                            .iter()
                            .map(|&p| (p, list_url(root.base_url, p, r.list)))
                            .collect()
                    }),
                },
                i == 0,
            )
        })
        .collect();
    Linkset { linkset: entries }
}

/// The linkset of a product with passports, none of which answers for `path`'s levels.
fn product_linkset(root: &Root<'_>, path: &DigitalLinkPath, app: &AppState) -> Linkset {
    Linkset {
        linkset: vec![product_entry(
            root.base_url,
            path,
            &format!(
                "{}{PRODUCT_PATH}/{}",
                root.base_url,
                path.gtin().as_gtin14()
            ),
            &PAGE_LANGUAGES,
            &format!("{}{}", root.origin(), app.issuer.did.document_path()),
        )],
    }
}

fn linkset_response(root: &Root<'_>, linkset: &Linkset) -> Result<Response, ApiError> {
    let body = serde_json::to_vec(linkset).map_err(|_| ApiError::Internal)?;
    let context = HeaderValue::from_str(&format!(
        "<{}{CONTEXT_PATH}>; rel=\"{JSONLD_CONTEXT_REL}\"; type=\"application/ld+json\"",
        root.base_url
    ))
    .map_err(|_| ApiError::Internal)?;
    let mut r = (StatusCode::OK, body).into_response();
    let h = r.headers_mut();
    h.insert(CONTENT_TYPE, HeaderValue::from_static(LINKSET_MEDIA_TYPE));
    h.insert(CACHE_CONTROL, HeaderValue::from_static(SHORT));
    h.insert(VARY, HeaderValue::from_static(VARY_NEGOTIATED));
    h.append(LINK, context);
    Ok(r)
}

/// 307 to `href` with the request's query string appended as it came (before a fragment).
fn redirect(href: &str, query: Option<&str>) -> Result<Response, ApiError> {
    let location = with_query(href, query);
    let location = HeaderValue::from_str(&location).map_err(|_| ApiError::BadRequest {
        detail: "the query string cannot be forwarded".into(),
    })?;
    let mut r = StatusCode::TEMPORARY_REDIRECT.into_response();
    let h = r.headers_mut();
    h.insert(LOCATION, location);
    h.insert(CACHE_CONTROL, HeaderValue::from_static(SHORT));
    h.insert(VARY, HeaderValue::from_static(VARY_NEGOTIATED));
    Ok(r)
}

/// `href` with `query` (raw) appended: `?query`, or `&query` when `href` has a query,
/// inserted before a `#fragment`.
fn with_query(href: &str, query: Option<&str>) -> String {
    let Some(query) = query.filter(|q| !q.is_empty()) else {
        return href.to_string();
    };
    let (target, fragment) = match href.find('#') {
        Some(i) => href.split_at(i),
        None => (href, ""),
    };
    let sep = if target.contains('?') { '&' } else { '?' };
    format!("{target}{sep}{query}{fragment}")
}

/// The first value of `name` in a raw query string (`&` or `;` between parameters),
/// percent-decoded (`%XX`; a malformed escape is kept as written).
fn query_param(query: &str, name: &str) -> Option<String> {
    query.split(['&', ';']).find_map(|pair| {
        let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
        (key == name).then(|| percent_decode_lossy(value))
    })
}

fn percent_decode_lossy(value: &str) -> String {
    let bytes = value.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let escaped = (bytes[i] == b'%')
            .then(|| bytes.get(i + 1..i + 3))
            .flatten()
            .and_then(|h| std::str::from_utf8(h).ok())
            .and_then(|h| u8::from_str_radix(h, 16).ok());
        match escaped {
            Some(b) => {
                out.push(b);
                i += 3;
            }
            None => {
                out.push(bytes[i]);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// `/.well-known/gs1resolver`: the resolver description file (GS1 resolver standard
/// section 3; `resolverRoot` and `supportedPrimaryKeys` are required).
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct Description {
    name: &'static str,
    resolver_root: String,
    supported_primary_keys: [&'static str; 1],
    supported_link_type: [LinkTypeNamespace; 2],
    link_type_default_can_be_linkset: bool,
    json_ld_context_location: String,
}

#[derive(Debug, Serialize)]
struct LinkTypeNamespace {
    namespace: &'static str,
    prefix: &'static str,
}

async fn description(State(app): State<AppState>) -> Result<Response, ApiError> {
    let root = Root::of(&app);
    let body = Description {
        name: "Hallmark digital product passport node",
        resolver_root: root.base_url.to_string(),
        supported_primary_keys: ["01"],
        supported_link_type: [
            LinkTypeNamespace {
                namespace: GS1_VOC,
                prefix: "gs1:",
            },
            LinkTypeNamespace {
                namespace: HALLMARK_VOC,
                prefix: "hallmark:",
            },
        ],
        link_type_default_can_be_linkset: false,
        json_ld_context_location: format!("{}{CONTEXT_PATH}", root.base_url),
    };
    let mut r = crate::api::reply(&body)?.into_response();
    r.headers_mut().insert(
        CACHE_CONTROL,
        HeaderValue::from_static("public, max-age=3600"),
    );
    Ok(r)
}

async fn context() -> Response {
    (
        [
            (
                CONTENT_TYPE,
                HeaderValue::from_static("application/ld+json"),
            ),
            (
                CACHE_CONTROL,
                HeaderValue::from_static("public, max-age=86400"),
            ),
        ],
        LINKSET_CONTEXT,
    )
        .into_response()
}

/// Wraps the public router so that `OPTIONS` on a Digital Link path — answered by the CORS
/// layer (tower-http answers every `OPTIONS` as a preflight) without reaching the routes —
/// carries `Allow: GET, HEAD, OPTIONS` and the `Link` header to the linkset (GS1's test
/// suite reads it from that answer). Only `OPTIONS` requests are looked at.
pub fn preflight_link(router: Router, base_url: &str) -> Router {
    router.layer(PreflightLinkLayer {
        base_url: Arc::from(base_url),
        base_path: Arc::from(base_path(base_url)),
    })
}

/// The layer of [`preflight_link`].
#[derive(Debug, Clone)]
pub struct PreflightLinkLayer {
    base_url: Arc<str>,
    base_path: Arc<str>,
}

impl<S> tower::Layer<S> for PreflightLinkLayer {
    type Service = PreflightLink<S>;

    fn layer(&self, inner: S) -> Self::Service {
        PreflightLink {
            inner,
            layer: self.clone(),
        }
    }
}

/// The service of [`PreflightLinkLayer`].
#[derive(Debug, Clone)]
pub struct PreflightLink<S> {
    inner: S,
    layer: PreflightLinkLayer,
}

impl<S> tower::Service<Request> for PreflightLink<S>
where
    S: tower::Service<Request, Response = Response>,
    S::Future: Unpin,
{
    type Response = Response;
    type Error = S::Error;
    type Future = LinkFuture<S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, req: Request) -> Self::Future {
        let link = if req.method() == Method::OPTIONS {
            let path = req.uri().path();
            path.strip_prefix(&*self.layer.base_path)
                .and_then(|below| DigitalLinkPath::parse(below).ok())
                .and_then(|dl| linkset_link(&self.layer.base_url, &dl))
        } else {
            None
        };
        LinkFuture {
            inner: self.inner.call(req),
            link,
        }
    }
}

/// The response future of [`PreflightLink`]: the inner one, plus the `Link` and `Allow`
/// headers when it has none.
#[derive(Debug)]
pub struct LinkFuture<F> {
    inner: F,
    link: Option<HeaderValue>,
}

impl<F, E> Future for LinkFuture<F>
where
    F: Future<Output = Result<Response, E>> + Unpin,
{
    type Output = Result<Response, E>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = &mut *self;
        match Pin::new(&mut this.inner).poll(cx) {
            Poll::Ready(Ok(mut response)) => {
                if let Some(link) = this.link.take() {
                    let h = response.headers_mut();
                    if !h.contains_key(LINK) {
                        h.insert(LINK, link);
                    }
                    if !h.contains_key(ALLOW) {
                        h.insert(ALLOW, HeaderValue::from_static(METHODS));
                    }
                }
                Poll::Ready(Ok(response))
            }
            other => other,
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;

    #[test]
    fn the_query_is_forwarded_as_written() {
        assert_eq!(with_query("https://n/p", None), "https://n/p");
        assert_eq!(with_query("https://n/p", Some("")), "https://n/p");
        assert_eq!(
            with_query("https://n/p", Some("a=%2F&b=c;d")),
            "https://n/p?a=%2F&b=c;d"
        );
        assert_eq!(
            with_query("https://n/p?index=1", Some("x=y")),
            "https://n/p?index=1&x=y"
        );
        assert_eq!(
            with_query("https://n/p#f", Some("x=y")),
            "https://n/p?x=y#f"
        );
    }

    #[test]
    fn link_type_is_read_from_the_query_decoded() {
        assert_eq!(
            query_param("a=1&linkType=gs1%3Adpp", "linkType").as_deref(),
            Some("gs1:dpp")
        );
        assert_eq!(
            query_param("linkType=https%3A%2F%2Fgs1.org%2Fvoc%2Fpip;x", "linkType").as_deref(),
            Some("https://gs1.org/voc/pip")
        );
        assert_eq!(query_param("linktype=x", "linkType"), None);
        assert_eq!(
            query_param("linkType=%zz", "linkType").as_deref(),
            Some("%zz")
        );
    }

    #[test]
    fn accept_decides_between_linkset_and_redirect() {
        let ask = |accept: &str| ask(None, &Preferences::parse(Some(accept), None));
        assert!(matches!(ask("application/linkset+json"), Ask::Linkset));
        assert!(matches!(ask("application/json"), Ask::Linkset));
        assert!(matches!(
            ask("application/json, application/vc+jwt"),
            Ask::Default
        ));
        assert!(matches!(ask("*/*"), Ask::Default));
        assert!(matches!(ask("text/html"), Ask::Default));
        let p = Preferences::parse(Some("application/linkset+json"), None);
        assert!(matches!(ask_q("linkType=gs1:dpp", &p), Ask::Type(_)));
        assert!(matches!(ask_q("linkType=all", &p), Ask::Linkset));
    }

    #[test]
    fn a_base_path_stem_comes_before_01_and_the_origin_is_without_it() {
        let root = Root {
            base_url: "https://node.example/dpp",
            base_path: base_path("https://node.example/dpp"),
        };
        assert_eq!(root.origin(), "https://node.example");
        let path = root.parse("/dpp/01/9506000134352/21/S%2F1/").unwrap();
        assert_eq!(path.canonical(), "/01/09506000134352/21/S%2F1");
        assert_eq!(
            linkset_link(root.base_url, &path).unwrap(),
            "<https://node.example/dpp/01/09506000134352/21/S%2F1?linkType=linkset>; \
             rel=\"linkset\"; type=\"application/linkset+json\""
        );
        assert!(matches!(
            root.parse("/dpp/01/09506000134353"),
            Err(ApiError::InvalidDigitalLink(_))
        ));
        let root = Root {
            base_url: "https://node.example",
            base_path: base_path("https://node.example"),
        };
        assert_eq!(root.origin(), "https://node.example");
        assert!(root.parse("/01/09506000134352").is_ok());
    }

    fn ask_q(q: &str, p: &Preferences) -> Ask {
        ask(Some(q), p)
    }
}
