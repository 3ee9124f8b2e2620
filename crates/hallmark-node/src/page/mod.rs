//! The consumer page: a published passport for people, served on the passport's own URL to
//! clients that ask for `text/html` (`crate::routes::page` is the door).
//!
//! Server-rendered HTML (askama templates compiled into the binary, `templates/`), no
//! JavaScript, no external assets; one inline stylesheet allowed by its hash in the page's
//! own strict [`csp`]. The text comes from Fluent catalogues ([`lang`]); the facts from
//! core's `display` (the public tier in human terms); the status, history and the server's
//! verification from `Service::public_passport`. Pages are small (a budget of 50 KB, held by
//! a test) and cached by the door once rendered.

pub mod lang;

use crate::evidence::LogEvidence;
use crate::service::{ListedStatus, PublicPassport};
use askama::Template;
use axum::body::Bytes;
use axum::http::HeaderValue;
use hallmark_core::display::{public_facts, Fact, Shown};
use hallmark_core::passport::PassportStatus;
use hallmark_core::verify::Outcome;
use lang::{Lang, Tr};
use serde_json::Value;
use sha2::{Digest, Sha256};
use std::sync::LazyLock;

/// The page's stylesheet, inlined (allowed by its hash, [`csp`]).
pub const CSS: &str = include_str!("../../templates/page.css");

/// The page budget: bytes of HTML a page may weigh (it has no other resources).
pub const MAX_PAGE_BYTES: usize = 50 * 1024;

static CSP: LazyLock<HeaderValue> = LazyLock::new(|| {
    use base64::Engine as _;
    let hash = base64::engine::general_purpose::STANDARD.encode(Sha256::digest(CSS));
    let policy = format!(
        "default-src 'none'; style-src 'sha256-{hash}'; base-uri 'none'; form-action 'none'; \
         frame-ancestors 'none'"
    );
    HeaderValue::from_str(&policy).unwrap_or(HeaderValue::from_static(crate::edge::headers::CSP))
});

/// The page's `Content-Security-Policy`: nothing but its own inline stylesheet (by hash);
/// no script, image, font, frame, form target or base URL.
pub fn csp() -> HeaderValue {
    CSP.clone()
}

static VERIFY_CSP: LazyLock<HeaderValue> = LazyLock::new(|| {
    let page = CSP.to_str().unwrap_or_default();
    let policy = page.replace("form-action 'none'", "form-action 'self'");
    HeaderValue::from_str(&policy).unwrap_or(HeaderValue::from_static(crate::edge::headers::CSP))
});

/// The verification page's policy: the passport page's, but its form may post to this
/// origin (`form-action 'self'`). Still no script.
pub fn verify_csp() -> HeaderValue {
    VERIFY_CSP.clone()
}

/// Whether a request asks for the page rather than the credential: `text/html` (or XHTML)
/// with a higher q-value than every credential or JSON type it lists. `*/*` alone, JSON and
/// credential clients keep getting the credential.
///
/// `format=credential` in the query asks for the credential whatever the `Accept` (the
/// page's own link to the signed file, for browsers).
pub fn wants_html(accept: Option<&HeaderValue>, query: Option<&str>) -> bool {
    if query.is_some_and(|q| q.split('&').any(|p| p == "format=credential")) {
        return false;
    }
    let Some(accept) = accept.and_then(|a| a.to_str().ok()) else {
        return false;
    };
    let (mut html, mut data) = (0u16, 0u16);
    for range in accept.split(',') {
        let mut parts = range.split(';');
        let media = parts.next().unwrap_or("").trim().to_ascii_lowercase();
        let q = parts
            .filter_map(|p| p.trim().strip_prefix("q="))
            .next()
            .map_or(Some(1000), |q| {
                q.trim()
                    .parse::<f32>()
                    .ok()
                    .filter(|v| (0.0..=1.0).contains(v))
                    .map(|v| (v * 1000.0).round() as u16)
            })
            .unwrap_or(0);
        match media.as_str() {
            "text/html" | "application/xhtml+xml" => html = html.max(q),
            m if m.starts_with("application/") && (m.contains("json") || m.contains("vc")) => {
                data = data.max(q)
            }
            _ => {}
        }
    }
    html > 0 && html > data
}

/// Whether an `Accept-Encoding` header accepts gzip (`gzip`, `x-gzip` or `*` with a
/// q-value above 0, unless gzip itself is refused with `q=0`).
pub fn accepts_gzip(accept_encoding: Option<&HeaderValue>) -> bool {
    let Some(header) = accept_encoding.and_then(|a| a.to_str().ok()) else {
        return false;
    };
    let (mut gzip, mut any) = (None, None);
    for item in header.split(',') {
        let mut parts = item.split(';');
        let coding = parts.next().unwrap_or("").trim().to_ascii_lowercase();
        let accepted = parts
            .filter_map(|p| p.trim().strip_prefix("q="))
            .next()
            .is_none_or(|q| q.trim().parse::<f32>().is_ok_and(|v| v > 0.0 && v <= 1.0));
        match coding.as_str() {
            "gzip" | "x-gzip" => gzip = Some(accepted),
            "*" => any = Some(accepted),
            _ => {}
        }
    }
    gzip.or(any).unwrap_or(false)
}

/// A page, gzip-compressed (as the page cache holds it).
pub fn gzip(html: &[u8]) -> std::io::Result<Bytes> {
    use std::io::Write as _;
    let mut enc = flate2::write::GzEncoder::new(
        Vec::with_capacity(html.len() / 3),
        flate2::Compression::default(),
    );
    enc.write_all(html)?;
    Ok(Bytes::from(enc.finish()?))
}

/// A held page, decompressed for a client that does not accept gzip.
pub fn gunzip(gz: &[u8]) -> std::io::Result<Bytes> {
    use std::io::Read as _;
    let mut out = Vec::with_capacity(gz.len() * 4);
    flate2::read::GzDecoder::new(gz).read_to_end(&mut out)?;
    Ok(Bytes::from(out))
}

/// One value as the template shows it: text, a link, or text in another language.
#[derive(Debug)]
pub struct ValueView {
    /// The text.
    pub text: String,
    /// A link target (http/https only).
    pub href: Option<String>,
    /// The text's language when it differs from the page's.
    pub lang: Option<String>,
}

/// A labelled row; `sub` holds the rows of a group (then `values` is empty).
#[derive(Debug)]
pub struct FactView {
    /// The label.
    pub label: String,
    /// The values.
    pub values: Vec<ValueView>,
    /// A group's rows.
    pub sub: Vec<FactView>,
}

/// A section of facts.
#[derive(Debug)]
pub struct SectionView {
    /// The element id suffix.
    pub id: &'static str,
    /// The heading.
    pub heading: String,
    /// The rows.
    pub facts: Vec<FactView>,
}

/// A switcher link.
#[derive(Debug)]
pub struct LangLink {
    /// The tag.
    pub tag: &'static str,
    /// The language's own name.
    pub name: &'static str,
    /// The page's language.
    pub current: bool,
}

/// A link to one version.
#[derive(Debug)]
pub struct HistoryView {
    /// Its URL (path).
    pub href: String,
    /// "Version n".
    pub text: String,
    /// Current / shown.
    pub note: Option<String>,
    /// The version on this page.
    pub shown: bool,
}

/// The language switcher of a page in `lang`.
fn lang_links(lang: Lang) -> Vec<LangLink> {
    Lang::ALL
        .into_iter()
        .map(|l| LangLink {
            tag: l.tag(),
            name: l.native_name(),
            current: l == lang,
        })
        .collect()
}

/// The page template (`templates/page.html`, in the frame of `templates/base.html`).
#[derive(Template)]
#[template(path = "page.html")]
pub struct PageTemplate {
    lang: &'static str,
    css: &'static str,
    tr: Tr,
    kicker: String,
    title: String,
    langs: Vec<LangLink>,
    identifiers: Vec<(String, String)>,
    status: &'static str,
    status_text: String,
    reason: Option<String>,
    version_text: String,
    current_link: Option<String>,
    withheld: bool,
    checks: Vec<(&'static str, String)>,
    sections: Vec<SectionView>,
    issuer: Vec<(String, String)>,
    history: Vec<HistoryView>,
    verify_command: Option<String>,
    files: Vec<(String, String)>,
    verify_href: String,
}

/// Where the page lives: the node's public base URL and its path part.
#[derive(Debug, Clone, Copy)]
pub struct Site<'a> {
    /// The public base URL (`https://dpp.example.com`), for the verify command.
    pub base_url: &'a str,
    /// Its path part (`""` or `/dpp`), for the page's own links.
    pub base_path: &'a str,
    /// The path of the node's DID document.
    pub did_path: &'a str,
}

/// The "checked by this server" line of the passport's status lists (the latest stored
/// versions): revoked before suspended, as a verifier reports them.
fn status_check(listed: Option<&ListedStatus>, tr: &Tr) -> (&'static str, String) {
    let Some(l) = listed else {
        return ("wait", tr.t("check-status-none"));
    };
    let list = l.at.list.to_string();
    let index = l.at.index.to_string();
    let args = [("list", list.as_str()), ("index", index.as_str())];
    match (l.suspended, l.revoked) {
        (_, Some(true)) => ("bad", tr.args("check-status-revoked", &args)),
        (Some(true), _) => ("bad", tr.args("check-status-suspended", &args)),
        (Some(false), Some(false)) => ("ok", tr.args("check-status-valid", &args)),
        _ => ("wait", tr.args("check-status-unknown", &args)),
    }
}

/// Renders the page of `p` in `lang` showing `credential` (its version's public credential,
/// `None` while suspended); `pinned` when the URL names the version; `listed`: what its
/// status lists say (`None`: it has no position, published before status lists).
pub fn render(
    p: &PublicPassport,
    credential: Option<&Value>,
    pinned: bool,
    lang: Lang,
    site: Site<'_>,
    listed: Option<&ListedStatus>,
) -> Result<String, askama::Error> {
    let tr = Tr { lang };
    let uuid = p.id.uuid().hyphenated().to_string();
    let passport_path = format!("{}/passports/{uuid}", site.base_path);
    let subject = credential.and_then(|c| c.get("credentialSubject"));
    let sector = subject
        .and_then(|s| s.pointer("/sector/id"))
        .and_then(Value::as_str)
        .unwrap_or("");
    let data = subject.and_then(|s| s.get("data"));
    let (kicker, title) = if sector == "battery" {
        let category = data
            .and_then(|d| d.pointer("/generalProductInformation/batteryCategory"))
            .and_then(Value::as_str)
            .and_then(|c| tr.get(&format!("category-{c}")));
        (
            tr.t("kicker-battery"),
            category.unwrap_or_else(|| tr.t("title-battery")),
        )
    } else if sector.is_empty() {
        (tr.t("kicker-generic"), tr.t("page-title"))
    } else {
        (tr.t("kicker-generic"), tr.t("title-generic"))
    };

    let mut identifiers = Vec::new();
    if let Some(upi) = subject.and_then(|s| s.get("uniqueProductIdentifier")) {
        for (key, id) in [
            ("gtin", "identifier-gtin"),
            ("lot", "identifier-lot"),
            ("serial", "identifier-serial"),
        ] {
            if let Some(v) = upi.get(key).and_then(Value::as_str) {
                identifiers.push((tr.t(id), v.to_string()));
            }
        }
    }

    let status = p.status.as_str();
    let reason = p
        .status_reason
        .as_deref()
        .filter(|_| p.status != PassportStatus::Published)
        .map(|r| tr.args("status-reason", &[("reason", r)]));
    let date = credential
        .and_then(|c| c.get("validFrom"))
        .and_then(Value::as_str)
        .map(|d| d.get(..10).unwrap_or(d).to_string())
        .unwrap_or_default();
    let mut version_text = tr.args(
        "version-of",
        &[
            ("version", p.version.to_string().as_str()),
            ("current", p.current_version.to_string().as_str()),
        ],
    );
    if !date.is_empty() {
        version_text.push(' ');
        version_text.push_str(&tr.args("signed-on", &[("date", date.as_str())]));
    }

    let mut checks = Vec::new();
    if let Some(e) = &p.evidence {
        if let Some(id) = &p.registration {
            checks.push(("ok", tr.args("check-registry", &[("id", id.as_str())])));
        }
        let key = e
            .verification_method
            .as_deref()
            .and_then(|vm| vm.rsplit_once('#').map(|(_, k)| k))
            .unwrap_or("?");
        checks.push(("ok", tr.args("check-signature", &[("key", key)])));
        checks.push(match &e.log {
            LogEvidence::Checked {
                leaf_index,
                tree_size,
                ..
            } if e.log.passed() => (
                "ok",
                tr.args(
                    "check-log-pass",
                    &[
                        ("index", leaf_index.to_string().as_str()),
                        ("size", tree_size.to_string().as_str()),
                    ],
                ),
            ),
            LogEvidence::Checked { checks: c, .. } => {
                let reason = c
                    .iter()
                    .find_map(|c| match &c.outcome {
                        Outcome::Fail(r) => Some(format!("{}: {r}", c.name)),
                        _ => None,
                    })
                    .unwrap_or_default();
                (
                    "bad",
                    tr.args("check-log-fail", &[("reason", reason.as_str())]),
                )
            }
            LogEvidence::Pending { .. } => ("wait", tr.t("check-log-pending")),
            LogEvidence::Unknown => ("wait", tr.t("check-log-unknown")),
        });
        checks.push(status_check(listed, &tr));
    }

    let sections = data
        .map(|d| public_facts(sector, d))
        .unwrap_or_default()
        .into_iter()
        .map(|s| SectionView {
            id: s.key,
            heading: tr.t(&format!("section-{}", s.key)),
            facts: s.facts.iter().map(|f| fact_view(f, sector, &tr)).collect(),
        })
        .collect();

    let mut issuer = Vec::new();
    if let Some(did) = credential
        .and_then(|c| c.get("issuer"))
        .and_then(Value::as_str)
    {
        issuer.push((tr.t("issuer-did"), did.to_string()));
    }
    for (key, label) in [
        ("economicOperatorId", "issuer-operator"),
        ("facilityId", "issuer-facility"),
        ("commodityCode", "issuer-commodity"),
    ] {
        if let Some(v) = subject.and_then(|s| s.get(key)).and_then(Value::as_str) {
            issuer.push((tr.t(label), v.to_string()));
        }
    }

    let q = format!("?lang={}", lang.tag());
    let history = (1..=p.current_version)
        .rev()
        .map(|n| HistoryView {
            href: format!("{passport_path}/versions/{n}{q}"),
            text: tr.args("history-version", &[("version", n.to_string().as_str())]),
            note: if n == p.version && pinned {
                Some(tr.t("history-shown"))
            } else if n == p.current_version {
                Some(tr.t("history-current"))
            } else {
                None
            },
            shown: n == p.version,
        })
        .collect();
    let current_link = (p.version != p.current_version).then(|| format!("{passport_path}{q}"));

    let version_url = format!("{}/passports/{uuid}/versions/{}", site.base_url, p.version);
    let (verify_command, files) = match &p.evidence {
        None => (None, Vec::new()),
        Some(e) => {
            let key = match &e.log {
                LogEvidence::Checked { .. } => e.log_key.clone(),
                _ => None,
            };
            let log_key = key.map_or_else(
                || format!("\"$(curl -fsS {}/log/key)\"", site.base_url),
                |k| format!("'{k}'"),
            );
            let cmd = format!("hallmark verify --from '{version_url}' --log-key {log_key}");
            let mut files = vec![
                (
                    format!("{passport_path}/versions/{}?format=credential", p.version),
                    tr.t("file-credential"),
                ),
                (site.did_path.to_string(), tr.t("file-did")),
            ];
            if let LogEvidence::Checked {
                leaf_index,
                tree_size,
                ..
            } = &e.log
            {
                files.push((
                    format!(
                        "{}/log/proof/inclusion?index={leaf_index}&size={tree_size}",
                        site.base_path
                    ),
                    tr.t("file-proof"),
                ));
            }
            files.push((
                format!("{}/log/checkpoint", site.base_path),
                tr.t("file-checkpoint"),
            ));
            files.push((format!("{}/log/key", site.base_path), tr.t("file-log-key")));
            (Some(cmd), files)
        }
    };

    let page = PageTemplate {
        lang: lang.tag(),
        css: CSS,
        tr,
        kicker,
        title,
        langs: lang_links(lang),
        identifiers,
        status,
        status_text: tr.t(&format!("status-{status}")),
        reason,
        version_text,
        current_link,
        withheld: p.evidence.is_none(),
        checks,
        sections,
        issuer,
        history,
        verify_command,
        files,
        verify_href: format!("{}/verify?lang={}", site.base_path, lang.tag()),
    };
    page.render()
}

/// What the verification page shows above its form.
#[derive(Debug, Clone, Copy)]
pub enum VerifyShown<'a> {
    /// The form was sent empty.
    Empty,
    /// The text was not a credential in any form (why).
    Unreadable(&'a str),
    /// The service's report.
    Report(&'a hallmark_core::verify::Report),
}

/// The verification page template (`templates/verify.html`, in the frame of
/// `templates/base.html`).
#[derive(Template)]
#[template(path = "verify.html")]
struct VerifyTemplate {
    lang: &'static str,
    css: &'static str,
    tr: Tr,
    kicker: String,
    title: String,
    langs: Vec<LangLink>,
    identifiers: Vec<(String, String)>,
    action: String,
    pasted: String,
    verdict: Option<(&'static str, String)>,
    checks: Vec<(&'static str, &'static str, String)>,
}

/// Renders the verification page in `lang` (`base_path`: the public base URL's path) with
/// the text `pasted` in its form and, after a check, what `shown` says: the verdict and
/// every check of the report (skipped ones left out).
pub fn render_verify(
    lang: Lang,
    base_path: &str,
    pasted: &str,
    shown: Option<VerifyShown<'_>>,
) -> Result<String, askama::Error> {
    use hallmark_core::verify::Verdict;
    let tr = Tr { lang };
    let (verdict, checks) = match shown {
        None => (None, Vec::new()),
        Some(VerifyShown::Empty) => (Some(("suspended", tr.t("verify-empty"))), Vec::new()),
        Some(VerifyShown::Unreadable(why)) => (
            Some((
                "suspended",
                tr.args("verify-unreadable", &[("reason", why)]),
            )),
            Vec::new(),
        ),
        Some(VerifyShown::Report(report)) => {
            let verdict = match report.verdict() {
                Verdict::Valid => ("published", tr.t("verify-valid")),
                Verdict::NotInForce(s) => (
                    "archived",
                    tr.args("verify-not-in-force", &[("status", s.as_str())]),
                ),
                Verdict::Invalid => ("suspended", tr.t("verify-invalid")),
            };
            let checks = report
                .checks
                .iter()
                .filter_map(|c| {
                    let tone = match &c.outcome {
                        Outcome::Pass(_) => "ok",
                        Outcome::Fail(_) => "bad",
                        Outcome::Warn(_) => "wait",
                        Outcome::Skipped(_) => return None,
                    };
                    Some((tone, c.name, c.outcome.detail().to_owned()))
                })
                .collect();
            (Some(verdict), checks)
        }
    };
    VerifyTemplate {
        lang: lang.tag(),
        css: CSS,
        tr,
        kicker: tr.t("kicker-generic"),
        title: tr.t("verify-title"),
        langs: lang_links(lang),
        identifiers: Vec::new(),
        action: format!("{base_path}/verify?lang={}", lang.tag()),
        pasted: pasted.to_owned(),
        verdict,
        checks,
    }
    .render()
}

/// A short page that is not a passport, in the passport page's style and policy.
#[derive(Debug, Clone, Copy)]
pub enum Notice<'a> {
    /// Nothing published under the address (the page of a 404 for a browser).
    NotFound,
    /// A product (`gtin`, GTIN-14) whose passports are issued per item or batch, none for
    /// the level a Digital Link named: where the resolver's walk-up to the GTIN leads
    /// (`gs1:pip`). `issuer` is the node's DID.
    Product {
        /// The GTIN-14.
        gtin: &'a str,
        /// The issuer's DID.
        issuer: &'a str,
    },
}

/// The notice template (`templates/notice.html`, in the frame of `templates/base.html`).
#[derive(Template)]
#[template(path = "notice.html")]
struct NoticeTemplate {
    lang: &'static str,
    css: &'static str,
    tr: Tr,
    kicker: String,
    title: String,
    langs: Vec<LangLink>,
    identifiers: Vec<(String, String)>,
    tone: &'static str,
    heading: String,
    paragraphs: Vec<String>,
    issuer: Vec<(String, String)>,
}

/// Renders a [`Notice`] in `lang`.
pub fn render_notice(notice: Notice<'_>, lang: Lang) -> Result<String, askama::Error> {
    let tr = Tr { lang };
    let (prefix, identifiers, issuer) = match notice {
        Notice::NotFound => ("notfound", Vec::new(), Vec::new()),
        Notice::Product { gtin, issuer } => (
            "product",
            vec![(tr.t("identifier-gtin"), gtin.to_owned())],
            vec![(tr.t("issuer-did"), issuer.to_owned())],
        ),
    };
    NoticeTemplate {
        lang: lang.tag(),
        css: CSS,
        tr,
        kicker: tr.t("kicker-generic"),
        title: tr.t(&format!("{prefix}-title")),
        langs: lang_links(lang),
        identifiers,
        tone: "archived",
        heading: tr.t(&format!("{prefix}-heading")),
        paragraphs: vec![
            tr.t(&format!("{prefix}-text")),
            tr.t(&format!("{prefix}-hint")),
        ],
        issuer,
    }
    .render()
}

fn value_views(v: &Shown, tr: &Tr, out: &mut Vec<ValueView>) {
    let text = |s: String| ValueView {
        text: s,
        href: None,
        lang: None,
    };
    match v {
        Shown::Text(s) => out.push(text(s.clone())),
        Shown::Number(n) => out.push(text(tr.number(*n))),
        Shown::Quantity(n, unit) => {
            let n = tr.number(*n);
            out.push(text(
                tr.args(&format!("unit-{}", unit.key()), &[("n", n.as_str())]),
            ));
        }
        Shown::Term(set, code) => out.push(text(
            tr.get(&format!("{set}-{code}"))
                .unwrap_or_else(|| code.clone()),
        )),
        Shown::Link(url) => out.push(ValueView {
            text: url.clone(),
            href: Some(url.clone()),
            lang: None,
        }),
        Shown::Localised(pairs) => {
            let page = tr.lang;
            let pick = pairs
                .iter()
                .find(|(l, _)| Lang::from_tag(l) == Some(page))
                .or_else(|| pairs.iter().find(|(l, _)| l == "en"))
                .or_else(|| pairs.first());
            if let Some((l, s)) = pick {
                out.push(ValueView {
                    text: s.clone(),
                    href: None,
                    lang: (Lang::from_tag(l) != Some(page)).then(|| l.clone()),
                });
            }
        }
        Shown::List(items) => {
            for i in items {
                value_views(i, tr, out);
            }
        }
        // A group inside a group: its title only (groups are one level deep).
        Shown::Group(title, _) => value_views(title, tr, out),
    }
}

fn fact_view(f: &Fact, sector: &str, tr: &Tr) -> FactView {
    let label = if sector == "battery" {
        tr.get(&format!("field-{}", f.label))
            .unwrap_or_else(|| f.label.clone())
    } else {
        f.label.clone()
    };
    match &f.value {
        Shown::Group(title, facts) => {
            let mut t = Vec::new();
            value_views(title, tr, &mut t);
            FactView {
                label: t.into_iter().map(|v| v.text).collect::<Vec<_>>().join(" "),
                values: Vec::new(),
                sub: facts.iter().map(|f| fact_view(f, sector, tr)).collect(),
            }
        }
        v => {
            let mut values = Vec::new();
            value_views(v, tr, &mut values);
            FactView {
                label,
                values,
                sub: Vec::new(),
            }
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn html(accept: &str) -> bool {
        wants_html(Some(&HeaderValue::from_str(accept).unwrap()), None)
    }

    #[test]
    fn the_page_only_when_html_is_preferred_over_every_data_type() {
        assert!(html(
            "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"
        ));
        assert!(html("application/xhtml+xml"));
        assert!(html("TEXT/HTML; charset=utf-8"));
        assert!(html("application/json;q=0.5, text/html"));
        assert!(!html("*/*"));
        assert!(!html("text/html, application/json"));
        assert!(!html("text/html;q=0.8, application/vc+jwt"));
        assert!(!html("text/html;q=0"));
        assert!(!html("text/html;q=2"));
        assert!(!html("application/vc"));
        assert!(!wants_html(None, None));
        // The page's own link to the signed file.
        assert!(!wants_html(
            Some(&HeaderValue::from_static("text/html")),
            Some("lang=de&format=credential")
        ));
        assert!(wants_html(
            Some(&HeaderValue::from_static("text/html")),
            Some("lang=de")
        ));
    }

    #[test]
    fn gzip_is_used_when_the_client_accepts_it() {
        let ae = |v: &str| accepts_gzip(Some(&HeaderValue::from_str(v).unwrap()));
        assert!(ae("gzip, deflate, br, zstd"));
        assert!(ae("br;q=1.0, GZIP;q=0.5"));
        assert!(ae("x-gzip"));
        assert!(ae("*"));
        assert!(!ae("gzip;q=0, *"));
        assert!(!ae("br, deflate"));
        assert!(!ae("identity"));
        assert!(!ae("*;q=0"));
        assert!(!accepts_gzip(None));
        let html = "<!DOCTYPE html><p>Batterie</p>".repeat(50);
        let gz = gzip(html.as_bytes()).unwrap();
        assert!(gz.len() < html.len() / 4);
        assert_eq!(gunzip(&gz).unwrap(), html.as_bytes());
    }

    #[test]
    fn notices_render_in_every_language_with_their_own_words() {
        for lang in Lang::ALL {
            let tr = Tr { lang };
            let html = render_notice(Notice::NotFound, lang).unwrap();
            assert!(html.contains(&format!("<html lang=\"{}\">", lang.tag())));
            assert!(html.contains(&tr.t("notfound-heading")), "{html}");
            let html = render_notice(
                Notice::Product {
                    gtin: "09506000134352",
                    issuer: "did:web:n.example",
                },
                lang,
            )
            .unwrap();
            assert!(html.contains("09506000134352") && html.contains("did:web:n.example"));
            assert!(html.contains(&tr.t("product-hint")), "{html}");
            assert!(!html.contains("notfound-") && !html.contains("product-title"));
        }
    }

    #[test]
    fn the_verification_page_posts_to_itself_and_shows_each_check() {
        let csp = verify_csp();
        let csp = csp.to_str().unwrap();
        assert!(csp.contains("form-action 'self'") && !csp.contains("script"));
        for lang in Lang::ALL {
            let html = render_verify(lang, "/dpp", "", None).unwrap();
            assert!(html.contains("action=\"/dpp/verify?lang="), "{html}");
            assert!(html.contains("<textarea id=\"credential\" name=\"credential\""));
        }
        let mut report = hallmark_core::verify::Report::default();
        report.checks.push(hallmark_core::verify::Check {
            name: "signature",
            outcome: Outcome::Fail("does <not> match".into()),
        });
        let html = render_verify(Lang::En, "", "<x>", Some(VerifyShown::Report(&report))).unwrap();
        assert!(
            html.contains("<strong>signature</strong> does &#60;not&#62; match")
                || html.contains("does &lt;not&gt; match"),
            "{html}"
        );
        assert!(html.contains(&Tr { lang: Lang::En }.t("verify-invalid")));
        assert!(!html.contains("<x>"));
    }

    #[test]
    fn the_policy_allows_the_stylesheet_by_its_hash_and_nothing_else() {
        use base64::Engine as _;
        let hash = base64::engine::general_purpose::STANDARD.encode(Sha256::digest(CSS));
        let csp = csp();
        let csp = csp.to_str().unwrap();
        assert!(csp.contains(&format!("style-src 'sha256-{hash}'")));
        assert!(csp.starts_with("default-src 'none';"));
        assert!(!csp.contains("unsafe") && !csp.contains("script") && !csp.contains("img-src"));
    }
}
