//! [`ProductLink`]: a link the operator attaches to a product identifier (a manual, a safety
//! data sheet, …), checked here so that the resolver only ever serves links GS1's linkset
//! schema accepts and an operator link can never stand in for a link the node owns, and
//! [`Linkset::add_product_links`], which appends such links to the entries of a resolved
//! linkset.
//!
//! Rules (each refusal names its [`LinkField`]):
//! - **identifier**: a GTIN alone (model), GTIN + lot (batch) or GTIN + serial (item). GS1
//!   keys an item's links on 01 + 21 only, so a lot beside a serial is refused, not dropped.
//! - **link type**: a GS1 Web Vocabulary type — `gs1:{name}` or `{namespace}{name}` in any of
//!   the three GS1 namespaces, stored as `https://ref.gs1.org/voc/{name}` — or one of
//!   Hallmark's own (`hallmark:{name}`, [`HALLMARK_VOC`]); `name` is 1–64 of `[A-Za-z0-9]`.
//!   The node's own link types ([`RESERVED_LINK_TYPES`]) are refused: an operator link never
//!   replaces the passport, the default link, the issuer's DID document or the log proof.
//! - **href**: an absolute `https://` URL of at most [`MAX_HREF_BYTES`] bytes: a DNS name,
//!   IPv4 address or bracketed IPv6 host, an optional port, no user info, only RFC 3986
//!   characters (no whitespace, no control characters) and well-formed `%` escapes.
//! - **title**: 1–[`MAX_TITLE_CHARS`] characters once trimmed, no control characters.
//! - **type** (optional): a media type `type/subtype` without parameters.
//! - **hreflang** (optional): at most [`MAX_HREFLANG`] distinct tags, each `ll` or `ll-CC`
//!   (what GS1's schema allows).
//!
//! At most [`MAX_LINKS_PER_IDENTIFIER`] links may be active per identifier (the store
//! refuses more).

use super::linkset::{
    Link, Linkset, DEFAULT_LINK, DESCRIBED_BY, DPP, GS1_VOC, GS1_VOC_ALIASES, HALLMARK_VOC,
    LOG_INCLUSION, REGISTRY_REGISTRATION, REVOCATION_STATUS_LIST, SUSPENSION_STATUS_LIST,
};
use super::path::DigitalLinkPath;
use crate::passport::{Granularity, ProductIdentifier};
use std::fmt;

/// The most links that may be active for one identifier (GTIN, GTIN + lot or GTIN + serial).
pub const MAX_LINKS_PER_IDENTIFIER: usize = 32;
/// The longest `href`, in bytes.
pub const MAX_HREF_BYTES: usize = 2048;
/// The longest `title`, in characters.
pub const MAX_TITLE_CHARS: usize = 200;
/// The most `hreflang` tags of one link.
pub const MAX_HREFLANG: usize = 16;
/// The longest name of a link type (after its namespace).
pub const MAX_LINK_TYPE_NAME: usize = 64;
/// `gs1:defaultLinkMulti`.
pub const DEFAULT_LINK_MULTI: &str = "https://ref.gs1.org/voc/defaultLinkMulti";
/// The link types the node owns, which no operator link may have: `gs1:defaultLink`,
/// `gs1:defaultLinkMulti`, `gs1:dpp`, `describedby`, `hallmark:logInclusion`,
/// `hallmark:suspensionStatusList`, `hallmark:revocationStatusList`,
/// `hallmark:registryRegistration` and `linkset`.
pub const RESERVED_LINK_TYPES: [&str; 9] = [
    DEFAULT_LINK,
    DEFAULT_LINK_MULTI,
    DPP,
    DESCRIBED_BY,
    LOG_INCLUSION,
    SUSPENSION_STATUS_LIST,
    REVOCATION_STATUS_LIST,
    REGISTRY_REGISTRATION,
    "linkset",
];

/// The part of a link a [`ProductLinkError`] names (its member in the admin API's body).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum LinkField {
    /// The product identifier (`gtin`, `lot`, `serial`).
    Identifier,
    /// `linkType`.
    LinkType,
    /// `href`.
    Href,
    /// `title`.
    Title,
    /// `type`, the media type.
    MediaType,
    /// `hreflang`.
    Hreflang,
}

impl LinkField {
    /// The member name: `identifier`, `linkType`, `href`, `title`, `type`, `hreflang`.
    pub fn as_str(self) -> &'static str {
        match self {
            LinkField::Identifier => "identifier",
            LinkField::LinkType => "linkType",
            LinkField::Href => "href",
            LinkField::Title => "title",
            LinkField::MediaType => "type",
            LinkField::Hreflang => "hreflang",
        }
    }
}

impl fmt::Display for LinkField {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Why a link was refused: the field and what is wrong with it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{field}`: {reason}")]
pub struct ProductLinkError {
    /// The offending field.
    pub field: LinkField,
    /// What is wrong, for people.
    pub reason: String,
}

impl ProductLinkError {
    fn new(field: LinkField, reason: impl Into<String>) -> Self {
        ProductLinkError {
            field,
            reason: reason.into(),
        }
    }
}

/// A link the operator attached to a product identifier, checked (see the module
/// documentation): what the resolver serves in the linkset entry of that identifier's level.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProductLink {
    product: ProductIdentifier,
    link_type: String,
    link: Link,
}

impl ProductLink {
    /// Checks every part and builds the link. `link_type` is normalised (a CURIE or any GS1
    /// namespace → the full URI), `title` trimmed; nothing else is altered.
    pub fn new(
        product: ProductIdentifier,
        link_type: &str,
        href: &str,
        title: &str,
        media_type: Option<&str>,
        hreflang: Vec<String>,
    ) -> Result<Self, ProductLinkError> {
        if product.lot().is_some() && product.serial().is_some() {
            return Err(ProductLinkError::new(
                LinkField::Identifier,
                "give a lot (batch) or a serial (item), not both: GS1 keys an item's links on \
                 the GTIN and serial only",
            ));
        }
        let link_type = link_type_uri(link_type)?;
        check_href(href).map_err(|r| ProductLinkError::new(LinkField::Href, r))?;
        let title = check_title(title)?;
        if let Some(t) = media_type {
            check_media_type(t).map_err(|r| ProductLinkError::new(LinkField::MediaType, r))?;
        }
        check_hreflang(&hreflang)?;
        Ok(ProductLink {
            product,
            link_type,
            link: Link {
                href: href.to_owned(),
                title,
                media_type: media_type.map(str::to_owned),
                hreflang,
            },
        })
    }

    /// The product identifier it is attached to.
    pub fn product(&self) -> &ProductIdentifier {
        &self.product
    }

    /// The level it is served at: item (serial), batch (lot) or model (GTIN alone).
    pub fn granularity(&self) -> Granularity {
        self.product.implied_granularity()
    }

    /// The link type, a full URI (`https://ref.gs1.org/voc/…` or `https://w3id.org/hallmark/voc/…`).
    pub fn link_type(&self) -> &str {
        &self.link_type
    }

    /// The link as the linkset serves it (`href`, `title`, `type`, `hreflang`).
    pub fn link(&self) -> &Link {
        &self.link
    }
}

/// The full URI of an operator's link type, or why it cannot be one (see the module
/// documentation): `gs1:instructions`, `https://gs1.org/voc/instructions` and
/// `https://ref.gs1.org/voc/instructions` are all `https://ref.gs1.org/voc/instructions`.
pub fn link_type_uri(value: &str) -> Result<String, ProductLinkError> {
    let err = |reason: String| ProductLinkError::new(LinkField::LinkType, reason);
    let reserved = |uri: &str| {
        err(format!(
            "{uri:?} is a link type the node serves itself (the passport, its default link, \
             the issuer's DID document, the log proof, the linkset); choose another"
        ))
    };
    if RESERVED_LINK_TYPES.contains(&value) || value == "all" {
        return Err(reserved(value));
    }
    let (namespace, name) = if let Some(name) = value.strip_prefix("gs1:") {
        (GS1_VOC, name)
    } else if let Some(name) = value.strip_prefix("hallmark:") {
        (HALLMARK_VOC, name)
    } else if let Some(name) = value.strip_prefix(HALLMARK_VOC) {
        (HALLMARK_VOC, name)
    } else if let Some(name) = std::iter::once(GS1_VOC)
        .chain(GS1_VOC_ALIASES)
        .find_map(|ns| value.strip_prefix(ns))
    {
        (GS1_VOC, name)
    } else {
        return Err(err(
            "must be a GS1 Web Vocabulary link type (`gs1:{name}` or \
             `https://ref.gs1.org/voc/{name}`) or one of Hallmark's (`hallmark:{name}`)"
                .to_owned(),
        ));
    };
    if name.is_empty()
        || name.len() > MAX_LINK_TYPE_NAME
        || !name.bytes().all(|b| b.is_ascii_alphanumeric())
    {
        return Err(err(format!(
            "the name after the namespace must be 1 to {MAX_LINK_TYPE_NAME} letters and digits \
             (e.g. `gs1:instructions`)"
        )));
    }
    let uri = format!("{namespace}{name}");
    if RESERVED_LINK_TYPES.contains(&uri.as_str()) {
        return Err(reserved(&uri));
    }
    Ok(uri)
}

/// Whether `b` may appear in a URI as written (RFC 3986 unreserved, gen-delims, sub-delims
/// and `%`).
fn uri_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"-._~:/?#[]@!$&'()*+,;=%".contains(&b)
}

fn check_href(href: &str) -> Result<(), String> {
    if href.len() > MAX_HREF_BYTES {
        return Err(format!("is limited to {MAX_HREF_BYTES} bytes"));
    }
    if let Some((i, c)) = href
        .char_indices()
        .find(|(_, c)| !c.is_ascii() || !uri_byte(*c as u8))
    {
        return Err(format!(
            "character {c:?} at byte {i} is not allowed in a URL (no whitespace, no control \
             characters; other characters percent-encoded)"
        ));
    }
    let bytes = href.as_bytes();
    for (i, _) in href.match_indices('%') {
        let escape = bytes.get(i + 1..i + 3);
        if !escape.is_some_and(|h| h.iter().all(u8::is_ascii_hexdigit)) {
            return Err(format!("`%` at byte {i} does not start a `%XX` escape"));
        }
    }
    let Some(rest) = href.strip_prefix("https://") else {
        return Err("must be an absolute `https://` URL".to_owned());
    };
    let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let authority = &rest[..end];
    if authority.contains('@') {
        return Err("must not contain user info (`user@`)".to_owned());
    }
    let (host, port) = if let Some(v6) = authority.strip_prefix('[') {
        let Some((inner, after)) = v6.split_once(']') else {
            return Err("an IPv6 host must be closed with `]`".to_owned());
        };
        if inner.is_empty() || !inner.bytes().all(|b| b.is_ascii_hexdigit() || b == b':') {
            return Err("the IPv6 host is malformed".to_owned());
        }
        match after {
            "" => (inner, None),
            p => match p.strip_prefix(':') {
                Some(p) => (inner, Some(p)),
                None => return Err("the host is malformed".to_owned()),
            },
        }
    } else {
        match authority.split_once(':') {
            Some((h, p)) => (h, Some(p)),
            None => (authority, None),
        }
    };
    let label_ok = |l: &str| {
        (1..=63).contains(&l.len())
            && l.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
            && !l.starts_with('-')
            && !l.ends_with('-')
    };
    let bracketed = authority.starts_with('[');
    if !bracketed && (host.is_empty() || host.len() > 253 || !host.split('.').all(label_ok)) {
        return Err("the host must be a DNS name or an IP address".to_owned());
    }
    if let Some(p) = port {
        let valid = !p.is_empty()
            && p.len() <= 5
            && p.bytes().all(|b| b.is_ascii_digit())
            && p.parse::<u32>().is_ok_and(|n| (1..=65535).contains(&n));
        if !valid {
            return Err("the port must be a number from 1 to 65535".to_owned());
        }
    }
    Ok(())
}

fn check_title(title: &str) -> Result<String, ProductLinkError> {
    let err = |r: &str| ProductLinkError::new(LinkField::Title, r);
    let title = title.trim();
    if title.is_empty() {
        return Err(err("must not be empty"));
    }
    if title.chars().count() > MAX_TITLE_CHARS {
        return Err(ProductLinkError::new(
            LinkField::Title,
            format!("is limited to {MAX_TITLE_CHARS} characters"),
        ));
    }
    if title.chars().any(char::is_control) {
        return Err(err(
            "must not contain control characters (line breaks, tabs, …)",
        ));
    }
    Ok(title.to_owned())
}

/// `type/subtype` (RFC 6838 names; the type letters only), no parameters.
fn check_media_type(value: &str) -> Result<(), String> {
    let refuse = || {
        format!(
            "{value:?} is not a media type `type/subtype` (e.g. `application/pdf`; no parameters)"
        )
    };
    let (kind, subtype) = value.split_once('/').ok_or_else(refuse)?;
    let kind_ok = (1..=127).contains(&kind.len()) && kind.bytes().all(|b| b.is_ascii_alphabetic());
    let subtype_ok = (1..=127).contains(&subtype.len())
        && subtype.as_bytes()[0].is_ascii_alphanumeric()
        && subtype
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"!#$&^_.+-".contains(&b));
    if kind_ok && subtype_ok {
        Ok(())
    } else {
        Err(refuse())
    }
}

fn check_hreflang(tags: &[String]) -> Result<(), ProductLinkError> {
    let err = |r: String| ProductLinkError::new(LinkField::Hreflang, r);
    if tags.len() > MAX_HREFLANG {
        return Err(err(format!("at most {MAX_HREFLANG} languages")));
    }
    for (i, tag) in tags.iter().enumerate() {
        let b = tag.as_bytes();
        let lower2 = |s: &[u8]| s.len() == 2 && s.iter().all(u8::is_ascii_lowercase);
        let upper2 = |s: &[u8]| s.len() == 2 && s.iter().all(u8::is_ascii_uppercase);
        let ok = match b.len() {
            2 => lower2(b),
            5 => lower2(&b[..2]) && b[2] == b'-' && upper2(&b[3..]),
            _ => false,
        };
        if !ok {
            return Err(err(format!(
                "{tag:?} is not a language tag `ll` or `ll-CC` (e.g. `en`, `de-AT`)"
            )));
        }
        if tags[..i].contains(tag) {
            return Err(err(format!("{tag:?} is given twice")));
        }
    }
    Ok(())
}

impl Linkset {
    /// Appends the operator's `links` to the entries of the levels of `request` they are
    /// attached to: a link at the item, batch or model identifier of the request goes to the
    /// entry anchored at that level (`resolver_root` + [`DigitalLinkPath::level_path`]), if
    /// the linkset has one; links of any other identifier, and links of a level without an
    /// entry, are not served. Within an entry they come after the node's own links, grouped
    /// by link type (in the order of `links`); a link whose type the entry already has from
    /// the node, or a reserved type, is skipped, so an operator link never replaces one of
    /// the node's. Returns how many links were added.
    pub fn add_product_links(
        &mut self,
        resolver_root: &str,
        request: &DigitalLinkPath,
        links: &[ProductLink],
    ) -> usize {
        let mut added = 0;
        for (level, product) in request.levels() {
            let anchor = format!("{resolver_root}{}", request.level_path(level));
            let Some(entry) = self.linkset.iter_mut().find(|e| e.anchor == anchor) else {
                continue;
            };
            let own: Vec<String> = entry.links.iter().map(|(t, _)| t.clone()).collect();
            for link in links
                .iter()
                .filter(|l| l.granularity() == level && *l.product() == product)
            {
                let rel = link.link_type();
                if own.iter().any(|t| t == rel) || RESERVED_LINK_TYPES.contains(&rel) {
                    continue;
                }
                match entry.links.iter_mut().find(|(t, _)| t == rel) {
                    Some((_, group)) => group.push(link.link().clone()),
                    None => entry
                        .links
                        .push((rel.to_owned(), vec![link.link().clone()])),
                }
                added += 1;
            }
        }
        added
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;
    use crate::passport::Gtin;
    use crate::resolver::{passport_entry, PassportLinks};

    const G: &str = "09506000134352";
    const INSTRUCTIONS: &str = "https://ref.gs1.org/voc/instructions";

    fn product(lot: Option<&str>, serial: Option<&str>) -> ProductIdentifier {
        ProductIdentifier::new(
            Gtin::parse(G).unwrap(),
            lot.map(str::to_owned),
            serial.map(str::to_owned),
        )
        .unwrap()
    }

    fn link(p: ProductIdentifier, rel: &str, href: &str) -> Result<ProductLink, ProductLinkError> {
        ProductLink::new(p, rel, href, "Manual", Some("application/pdf"), vec![])
    }

    fn field(r: Result<ProductLink, ProductLinkError>) -> LinkField {
        r.unwrap_err().field
    }

    #[test]
    fn link_types_are_normalised_and_reserved_ones_refused() {
        for v in [
            "gs1:instructions",
            "https://gs1.org/voc/instructions",
            "https://www.gs1.org/voc/instructions",
            "https://ref.gs1.org/voc/instructions",
        ] {
            assert_eq!(link_type_uri(v).unwrap(), INSTRUCTIONS, "{v}");
        }
        assert_eq!(
            link_type_uri("hallmark:repairGuide").unwrap(),
            "https://w3id.org/hallmark/voc/repairGuide"
        );
        assert_eq!(
            link_type_uri("https://w3id.org/hallmark/voc/repairGuide").unwrap(),
            "https://w3id.org/hallmark/voc/repairGuide"
        );
        for v in [
            "gs1:defaultLink",
            "gs1:defaultLinkMulti",
            "gs1:dpp",
            "https://gs1.org/voc/dpp",
            "https://www.gs1.org/voc/defaultLink",
            "describedby",
            "hallmark:logInclusion",
            "linkset",
            "all",
        ] {
            let e = link_type_uri(v).unwrap_err();
            assert_eq!(e.field, LinkField::LinkType, "{v}");
            assert!(e.reason.contains("serves itself"), "{v}: {e}");
        }
        for v in [
            "",
            "gs1:",
            "gs1:safety-info",
            "gs1:a/b",
            "pip",
            "https://example.com/voc/x",
            "http://gs1.org/voc/pip",
            "urn:x:y",
            "GS1:pip",
        ] {
            assert_eq!(
                link_type_uri(v).unwrap_err().field,
                LinkField::LinkType,
                "{v}"
            );
        }
        let long = format!("gs1:{}", "a".repeat(MAX_LINK_TYPE_NAME + 1));
        assert!(link_type_uri(&long).is_err());
    }

    #[test]
    fn hrefs_are_absolute_https_urls() {
        let p = || product(None, None);
        for ok in [
            "https://example.com",
            "https://example.com/manual.pdf",
            "https://docs.example.com:8443/a/b?x=1&y=%C3%A9#p2",
            "https://192.0.2.1/x",
            "https://[2001:db8::1]:443/x",
            "https://my-company.example/x_(1)~!$'*+,;=:@",
        ] {
            link(p(), "gs1:instructions", ok).unwrap();
        }
        for bad in [
            "http://example.com/manual.pdf",
            "ftp://example.com/x",
            "javascript:alert(1)",
            "/relative",
            "https://",
            "https:///x",
            "https://user:pw@example.com/",
            "https://exa mple.com/",
            "https://example.com/a b",
            "https://example.com/\u{7}",
            "https://example.com/\n",
            "https://example.com/é",
            "https://example.com/%zz",
            "https://example.com/%4",
            "https://example.com:0/",
            "https://example.com:99999/",
            "https://example.com:/",
            "https://-bad-.example/",
            "https://[::1/",
            "https://example.com/<script>",
            "HTTPS://example.com/",
        ] {
            assert_eq!(
                field(link(p(), "gs1:instructions", bad)),
                LinkField::Href,
                "{bad}"
            );
        }
        let long = format!("https://example.com/{}", "a".repeat(MAX_HREF_BYTES));
        assert_eq!(field(link(p(), "gs1:pip", &long)), LinkField::Href);
    }

    #[test]
    fn titles_media_types_languages_and_identifiers_are_checked() {
        let p = || product(Some("L1"), None);
        let new = |title: &str, t: Option<&str>, langs: &[&str]| {
            ProductLink::new(
                p(),
                "gs1:safetyInfo",
                "https://example.com/sds.pdf",
                title,
                t,
                langs.iter().map(|s| (*s).to_owned()).collect(),
            )
        };
        let ok = new(
            "  Safety data sheet ",
            Some("application/pdf"),
            &["en", "de-AT"],
        )
        .unwrap();
        assert_eq!(ok.link().title, "Safety data sheet");
        assert_eq!(ok.granularity(), Granularity::Batch);
        assert_eq!(ok.link_type(), "https://ref.gs1.org/voc/safetyInfo");
        new("x", Some("application/vnd.ms-excel"), &[]).unwrap();
        new("x", Some("image/svg+xml"), &[]).unwrap();
        new("x", None, &[]).unwrap();
        new(&"é".repeat(MAX_TITLE_CHARS), None, &[]).unwrap();

        assert_eq!(field(new("   ", None, &[])), LinkField::Title);
        assert_eq!(field(new("a\nb", None, &[])), LinkField::Title);
        assert_eq!(
            field(new(&"x".repeat(MAX_TITLE_CHARS + 1), None, &[])),
            LinkField::Title
        );
        for t in [
            "pdf",
            "application/",
            "/pdf",
            "application/pdf; q=1",
            "text/ html",
            "app1/x",
        ] {
            assert_eq!(field(new("x", Some(t), &[])), LinkField::MediaType, "{t}");
        }
        for l in ["EN", "eng", "en-us", "en_US", "e", "en-USA", ""] {
            assert_eq!(field(new("x", None, &[l])), LinkField::Hreflang, "{l}");
        }
        assert_eq!(field(new("x", None, &["en", "en"])), LinkField::Hreflang);
        let many: Vec<String> = (0..=MAX_HREFLANG)
            .map(|i| format!("a{}", (b'a' + i as u8) as char))
            .collect();
        let many: Vec<&str> = many.iter().map(String::as_str).collect();
        assert_eq!(field(new("x", None, &many)), LinkField::Hreflang);

        let both = product(Some("L1"), Some("S1"));
        assert_eq!(
            field(link(both, "gs1:pip", "https://example.com")),
            LinkField::Identifier
        );
        let item = link(product(None, Some("S1")), "gs1:pip", "https://example.com").unwrap();
        assert_eq!(item.granularity(), Granularity::Item);
        let e = link(product(None, None), "gs1:dpp", "https://example.com").unwrap_err();
        assert_eq!(e.to_string().split(':').next(), Some("`linkType`"));
    }

    fn entry_for(request: &DigitalLinkPath, level: Granularity) -> crate::resolver::LinksetEntry {
        passport_entry(
            "https://node.example",
            request,
            &PassportLinks {
                granularity: level,
                status: "published",
                passport_url: format!("https://node.example/passports/{}", level.as_str()),
                page_languages: &["en"],
                did_document_url: "https://node.example/.well-known/did.json".into(),
                log_inclusion_url: None,
                registrations_url: None,
                status_lists: Vec::new(),
            },
            level == Granularity::Item,
        )
    }

    #[test]
    fn links_go_to_their_level_after_the_node_s_own_grouped_by_type() {
        let request = DigitalLinkPath::parse("/01/09506000134352/10/L1/21/S1").unwrap();
        // Item and model entries; no batch passport.
        let mut linkset = Linkset {
            linkset: vec![
                entry_for(&request, Granularity::Item),
                entry_for(&request, Granularity::Model),
            ],
        };
        let own_item = linkset.linkset[0].links.clone();
        let links = vec![
            link(
                product(None, Some("S1")),
                "gs1:instructions",
                "https://e.example/item.pdf",
            )
            .unwrap(),
            link(
                product(None, None),
                "gs1:instructions",
                "https://e.example/model.pdf",
            )
            .unwrap(),
            link(
                product(None, None),
                "gs1:safetyInfo",
                "https://e.example/sds.pdf",
            )
            .unwrap(),
            link(
                product(None, None),
                "gs1:instructions",
                "https://e.example/model-de.pdf",
            )
            .unwrap(),
            // Another serial, and a batch with no entry: not served.
            link(product(None, Some("S2")), "gs1:pip", "https://e.example/s2").unwrap(),
            link(
                product(Some("L1"), None),
                "gs1:recallStatus",
                "https://e.example/l1",
            )
            .unwrap(),
        ];
        assert_eq!(
            linkset.add_product_links("https://node.example", &request, &links),
            4
        );
        let item = &linkset.linkset[0];
        assert_eq!(item.links[..own_item.len()], own_item[..]);
        assert_eq!(item.links.len(), own_item.len() + 1);
        assert_eq!(
            item.links_of(INSTRUCTIONS)[0].href,
            "https://e.example/item.pdf"
        );
        let model = &linkset.linkset[1];
        let types: Vec<&str> = model.links.iter().map(|(t, _)| t.as_str()).collect();
        assert_eq!(
            types[types.len() - 2..],
            [INSTRUCTIONS, "https://ref.gs1.org/voc/safetyInfo"]
        );
        let hrefs: Vec<&str> = model
            .links_of(INSTRUCTIONS)
            .iter()
            .map(|l| l.href.as_str())
            .collect();
        assert_eq!(
            hrefs,
            [
                "https://e.example/model.pdf",
                "https://e.example/model-de.pdf"
            ]
        );
        // The most specific entry with the type answers a linkType request.
        assert_eq!(
            linkset.links_of(INSTRUCTIONS)[0].href,
            "https://e.example/item.pdf"
        );
        assert_eq!(
            linkset.links_of("https://ref.gs1.org/voc/safetyInfo")[0].href,
            "https://e.example/sds.pdf"
        );
        assert!(linkset
            .links_of("https://ref.gs1.org/voc/recallStatus")
            .is_empty());
        assert!(linkset.links_of("https://ref.gs1.org/voc/pip").is_empty());
        // The default link and the passport are the node's, untouched.
        assert_eq!(
            linkset.linkset[0].default_link().unwrap().href,
            "https://node.example/passports/item"
        );
        // Serialised: the link object has only the members GS1 allows.
        let json = serde_json::to_value(&linkset).unwrap();
        assert_eq!(
            json["linkset"][1]["https://ref.gs1.org/voc/safetyInfo"],
            serde_json::json!([{"href": "https://e.example/sds.pdf", "title": "Manual", "type": "application/pdf"}])
        );
    }

    #[test]
    fn a_type_the_node_already_has_is_never_added() {
        let request = DigitalLinkPath::parse("/01/09506000134352").unwrap();
        let mut linkset = Linkset {
            linkset: vec![entry_for(&request, Granularity::Model)],
        };
        linkset.linkset[0].links.push((
            INSTRUCTIONS.to_owned(),
            vec![Link::new("https://node.example/own", "own", "text/html")],
        ));
        let before = linkset.clone();
        let links = vec![link(
            product(None, None),
            "gs1:instructions",
            "https://e.example/x",
        )
        .unwrap()];
        assert_eq!(
            linkset.add_product_links("https://node.example", &request, &links),
            0
        );
        assert_eq!(linkset, before);
    }
}
