//! [`Linkset`]: RFC 9264 linksets (`application/linkset+json`) in the shape GS1's linkset
//! schema allows, the link types a Hallmark resolver serves, and the entry of one passport.
//!
//! GS1's schema is stricter than RFC 9264: every entry has `anchor` and `itemDescription`;
//! link types are full URIs of `[A-Za-z0-9./]` (no `-`, no `#`, no `urn:`) or lower-case
//! IANA names; a link has `href` and `title`, optionally `type` and `hreflang` (`ll` or
//! `ll-CC`), nothing else. So Hallmark's own link types live in [`HALLMARK_VOC`], a fixed
//! namespace without a hyphen, never under the node's (possibly hyphenated) host.

use serde::ser::{SerializeMap, Serializer};
use serde::Serialize;

use crate::passport::Granularity;

use super::path::DigitalLinkPath;

/// The GS1 Web Vocabulary namespace link types are written in (`gs1:`).
pub const GS1_VOC: &str = "https://ref.gs1.org/voc/";
/// The other spellings of the GS1 namespace a `linkType` may use.
pub const GS1_VOC_ALIASES: [&str; 2] = ["https://gs1.org/voc/", "https://www.gs1.org/voc/"];
/// Hallmark's own link-type namespace (`hallmark:`): a fixed name, declared in
/// `/.well-known/gs1resolver`, for link types GS1 does not define.
pub const HALLMARK_VOC: &str = "https://w3id.org/hallmark/voc/";
/// `gs1:defaultLink`: where a request without `linkType` goes.
pub const DEFAULT_LINK: &str = "https://ref.gs1.org/voc/defaultLink";
/// `gs1:dpp`: the Digital Product Passport.
pub const DPP: &str = "https://ref.gs1.org/voc/dpp";
/// IANA `describedby`: here, the issuer's DID document.
pub const DESCRIBED_BY: &str = "describedby";
/// `hallmark:logInclusion`: the transparency-log inclusion proof of the passport's
/// publication.
pub const LOG_INCLUSION: &str = "https://w3id.org/hallmark/voc/logInclusion";
/// `hallmark:registryRegistration`: the passport's registrations in the EU DPP registry
/// (registration id, version, registered hash; docs/registry.md).
pub const REGISTRY_REGISTRATION: &str = "https://w3id.org/hallmark/voc/registryRegistration";
/// `hallmark:suspensionStatusList`: the passport's W3C Bitstring Status List of purpose
/// `suspension` (a set bit at its position: suspended). One link type per purpose, so that
/// no link type of the node's repeats a `(type, hreflang)` (a `linkType` request never has
/// to choose between two lists).
pub const SUSPENSION_STATUS_LIST: &str = "https://w3id.org/hallmark/voc/suspensionStatusList";
/// `hallmark:revocationStatusList`: the passport's status list of purpose `revocation` (a
/// set bit: revoked, for good).
pub const REVOCATION_STATUS_LIST: &str = "https://w3id.org/hallmark/voc/revocationStatusList";

/// The link type of a status list of `purpose`.
pub fn status_list_link_type(purpose: crate::status::StatusPurpose) -> &'static str {
    match purpose {
        crate::status::StatusPurpose::Suspension => SUSPENSION_STATUS_LIST,
        crate::status::StatusPurpose::Revocation => REVOCATION_STATUS_LIST,
    }
}
/// Media type of a linkset.
pub const LINKSET_MEDIA_TYPE: &str = "application/linkset+json";
/// Media type of the Data Integrity form of a credential as the linkset names it (VC 2.0's
/// registered `application/vc`; the node serves the same bytes as `application/vc+ld+json`).
pub const VC: &str = "application/vc";
/// Media type of the `vc+jwt` form.
pub const VC_JWT: &str = "application/vc+jwt";
/// Media type of the passport's web page.
pub const TEXT_HTML: &str = "text/html";

/// One link of a linkset entry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Link {
    /// The target (absolute `http(s)` URL).
    pub href: String,
    /// What the target is, for people.
    pub title: String,
    /// The target's media type.
    #[serde(rename = "type", skip_serializing_if = "Option::is_none")]
    pub media_type: Option<String>,
    /// The target's languages (`ll` or `ll-CC`), if it has any.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub hreflang: Vec<String>,
}

impl Link {
    /// A link with a media type and no language.
    pub fn new(href: impl Into<String>, title: impl Into<String>, media_type: &str) -> Self {
        Link {
            href: href.into(),
            title: title.into(),
            media_type: Some(media_type.to_owned()),
            hreflang: Vec::new(),
        }
    }
}

/// The links of one anchor (an identified thing): `anchor`, `itemDescription`, and the
/// links by type, in order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LinksetEntry {
    /// The link context: the Digital Link URI of the level these links belong to.
    pub anchor: String,
    /// What the anchor is (and which level answered), for people.
    pub item_description: String,
    /// `(link type, links)` pairs; a type appears once.
    pub links: Vec<(String, Vec<Link>)>,
}

impl LinksetEntry {
    /// The links of type `rel` (a full URI or an IANA name), none if it has none.
    pub fn links_of(&self, rel: &str) -> &[Link] {
        self.links
            .iter()
            .find(|(r, _)| r == rel)
            .map_or(&[], |(_, links)| links.as_slice())
    }

    /// The `gs1:defaultLink`.
    pub fn default_link(&self) -> Option<&Link> {
        self.links_of(DEFAULT_LINK).first()
    }
}

impl Serialize for LinksetEntry {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(self.links.len() + 2))?;
        map.serialize_entry("anchor", &self.anchor)?;
        map.serialize_entry("itemDescription", &self.item_description)?;
        for (rel, links) in &self.links {
            map.serialize_entry(rel, links)?;
        }
        map.end()
    }
}

/// A linkset: `{"linkset": [entry, …]}`, most specific anchor first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Linkset {
    /// The entries.
    pub linkset: Vec<LinksetEntry>,
}

impl Linkset {
    /// The links of type `rel` of the most specific entry that has any (GS1: if a link
    /// type appears at several levels, only the most granular applies).
    pub fn links_of(&self, rel: &str) -> &[Link] {
        self.linkset
            .iter()
            .map(|e| e.links_of(rel))
            .find(|links| !links.is_empty())
            .unwrap_or(&[])
    }
}

/// What a `linkType` query parameter asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LinkTypeRequest {
    /// The linkset itself (`linkset`, or the deprecated `all`).
    Linkset,
    /// Links of this type: a full URI (GS1 types always in [`GS1_VOC`]) or an IANA name.
    Type(String),
}

impl LinkTypeRequest {
    /// Reads a (percent-decoded) `linkType` value: `linkset` and `all`; a CURIE (`gs1:dpp`,
    /// `hallmark:logInclusion`); a GS1 type in any of its three namespaces
    /// (`https://gs1.org/voc/`, `https://www.gs1.org/voc/`, `https://ref.gs1.org/voc/`),
    /// all read as [`GS1_VOC`]; `dpp` (the IANA relation requested for it) as `gs1:dpp`;
    /// anything else as written (an IANA name such as `describedby`, or another URI).
    pub fn parse(value: &str) -> LinkTypeRequest {
        let value = value.trim();
        if value == "linkset" || value == "all" {
            return LinkTypeRequest::Linkset;
        }
        if value == "dpp" {
            return LinkTypeRequest::Type(DPP.to_owned());
        }
        if let Some(name) = value.strip_prefix("gs1:") {
            return LinkTypeRequest::Type(format!("{GS1_VOC}{name}"));
        }
        if let Some(name) = value.strip_prefix("hallmark:") {
            return LinkTypeRequest::Type(format!("{HALLMARK_VOC}{name}"));
        }
        for alias in GS1_VOC_ALIASES {
            if let Some(name) = value.strip_prefix(alias) {
                return LinkTypeRequest::Type(format!("{GS1_VOC}{name}"));
            }
        }
        LinkTypeRequest::Type(value.to_owned())
    }
}

/// A published passport found for a level of a Digital Link request, as its linkset entry
/// needs it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PassportLinks<'a> {
    /// The level it answers for.
    pub granularity: Granularity,
    /// Its lifecycle status (wire name: `published`, `suspended`, `archived`).
    pub status: &'a str,
    /// Its public URL (`<base>/passports/<uuid>`): the credential by content negotiation
    /// and the web page for `text/html`.
    pub passport_url: String,
    /// The languages of its web page.
    pub page_languages: &'a [&'a str],
    /// The issuer's DID document URL.
    pub did_document_url: String,
    /// The inclusion proof of its publication in the transparency log, when logged.
    pub log_inclusion_url: Option<String>,
    /// Its EU DPP registry registrations (`<base>/passports/<uuid>/registrations`), when it
    /// has any and they were asked for.
    pub registrations_url: Option<String>,
    /// Its status lists (purpose, list URL), when it has a status list position and they
    /// were asked for.
    pub status_lists: Vec<(crate::status::StatusPurpose, String)>,
}

/// The linkset entry of one passport level of `request`, anchored at `resolver_root` +
/// the level's path ([`DigitalLinkPath::level_path`]). `answers_for` is the most specific
/// level the request asked for: an entry for a coarser level says that none was found
/// below it when it is the first entry (`first`), so the linkset says which level answered.
///
/// Links: exactly one `gs1:defaultLink` (the passport URL, `title` only), `gs1:dpp` in each
/// form (web page with its languages, `application/vc`, `application/vc+jwt`; the same URL,
/// negotiated), `describedby` (the DID document), `hallmark:logInclusion` when logged and
/// `hallmark:registryRegistration` when it is registered in the EU DPP registry, and
/// `hallmark:suspensionStatusList` and `hallmark:revocationStatusList` (its status lists,
/// Data Integrity JSON) when it has them.
pub fn passport_entry(
    resolver_root: &str,
    request: &DigitalLinkPath,
    passport: &PassportLinks<'_>,
    first: bool,
) -> LinksetEntry {
    let level = passport.granularity;
    let anchor = format!("{resolver_root}{}", request.level_path(level));
    let mut description = format!(
        "Digital product passport of the {} GTIN {}",
        level.as_str(),
        request.gtin().as_gtin14()
    );
    match level {
        Granularity::Item => {
            description.push_str(&format!(" serial {}", request.serial().unwrap_or_default()));
        }
        Granularity::Batch => {
            description.push_str(&format!(" lot {}", request.lot().unwrap_or_default()));
        }
        Granularity::Model => {}
    }
    description.push_str(&format!(" (status: {})", passport.status));
    let asked = request.granularity();
    if first && asked != level {
        description.push_str(&format!(
            "; no {} passport was found, so the {} passport answers",
            asked.as_str(),
            level.as_str()
        ));
    }
    let url = &passport.passport_url;
    let mut page = Link::new(
        url.clone(),
        "Digital product passport (web page)",
        TEXT_HTML,
    );
    page.hreflang = passport
        .page_languages
        .iter()
        .map(|l| (*l).to_owned())
        .collect();
    let mut links = vec![
        (
            DEFAULT_LINK.to_owned(),
            vec![Link {
                href: url.clone(),
                title: "Digital product passport".to_owned(),
                media_type: None,
                hreflang: Vec::new(),
            }],
        ),
        (
            DPP.to_owned(),
            vec![
                page,
                Link::new(
                    url.clone(),
                    "Digital product passport (signed credential, Data Integrity JSON)",
                    VC,
                ),
                Link::new(
                    url.clone(),
                    "Digital product passport (signed credential, vc+jwt)",
                    VC_JWT,
                ),
            ],
        ),
        (
            DESCRIBED_BY.to_owned(),
            vec![Link::new(
                passport.did_document_url.clone(),
                "DID document of the issuer (the keys that verify the passport)",
                "application/did+json",
            )],
        ),
    ];
    if let Some(proof) = &passport.log_inclusion_url {
        links.push((
            LOG_INCLUSION.to_owned(),
            vec![Link::new(
                proof.clone(),
                "Inclusion proof of the passport's publication in the node's transparency log",
                "application/json",
            )],
        ));
    }
    if let Some(url) = &passport.registrations_url {
        links.push((
            REGISTRY_REGISTRATION.to_owned(),
            vec![Link::new(
                url.clone(),
                "Registrations of the passport in the EU digital product passport registry",
                "application/json",
            )],
        ));
    }
    for (purpose, url) in &passport.status_lists {
        links.push((
            status_list_link_type(*purpose).to_owned(),
            vec![Link::new(
                url.clone(),
                format!(
                    "Status list ({}, W3C Bitstring Status List): a set bit at the passport's position means {}",
                    purpose.as_str(),
                    purpose.set_means()
                ),
                VC,
            )],
        ));
    }
    LinksetEntry {
        anchor,
        item_description: description,
        links,
    }
}

/// GS1 `pip`: product information page.
pub const PIP: &str = "https://ref.gs1.org/voc/pip";

/// The linkset entry of a product (GTIN) that has published passports, none of which
/// answers for any level of `request` — its passports are issued per item or per batch,
/// and none for the model (GS1 resolver 2.5.9: the resolver walks up to the GTIN instead of
/// answering 404). Anchored at the GTIN; `gs1:defaultLink` and `gs1:pip` name the product
/// page (`product_page_url`, in `page_languages`), `describedby` the issuer's DID document.
pub fn product_entry(
    resolver_root: &str,
    request: &DigitalLinkPath,
    product_page_url: &str,
    page_languages: &[&str],
    did_document_url: &str,
) -> LinksetEntry {
    let gtin = request.gtin().as_gtin14();
    let mut description = format!(
        "Product GTIN {gtin}: its passports are issued per item or per batch; no passport \
         answers for "
    );
    match request.granularity() {
        Granularity::Item => {
            description.push_str(&format!("serial {}", request.serial().unwrap_or_default()))
        }
        Granularity::Batch => {
            description.push_str(&format!("lot {}", request.lot().unwrap_or_default()))
        }
        Granularity::Model => description.push_str("the product as a whole"),
    }
    let mut page = Link::new(
        product_page_url,
        "Product information (web page)",
        TEXT_HTML,
    );
    page.hreflang = page_languages.iter().map(|l| (*l).to_owned()).collect();
    LinksetEntry {
        anchor: format!("{resolver_root}{}", request.level_path(Granularity::Model)),
        item_description: description,
        links: vec![
            (
                DEFAULT_LINK.to_owned(),
                vec![Link {
                    href: product_page_url.to_owned(),
                    title: "Product information".to_owned(),
                    media_type: None,
                    hreflang: Vec::new(),
                }],
            ),
            (PIP.to_owned(), vec![page]),
            (
                DESCRIBED_BY.to_owned(),
                vec![Link::new(
                    did_document_url,
                    "DID document of the issuer (the keys that verify its passports)",
                    "application/did+json",
                )],
            ),
        ],
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;

    #[test]
    fn link_types_in_every_spelling() {
        let dpp = LinkTypeRequest::Type(DPP.to_owned());
        for v in [
            "gs1:dpp",
            "dpp",
            "https://gs1.org/voc/dpp",
            "https://www.gs1.org/voc/dpp",
            "https://ref.gs1.org/voc/dpp",
        ] {
            assert_eq!(LinkTypeRequest::parse(v), dpp, "{v}");
        }
        assert_eq!(LinkTypeRequest::parse("linkset"), LinkTypeRequest::Linkset);
        assert_eq!(LinkTypeRequest::parse("all"), LinkTypeRequest::Linkset);
        assert_eq!(
            LinkTypeRequest::parse("hallmark:logInclusion"),
            LinkTypeRequest::Type(LOG_INCLUSION.to_owned())
        );
        assert_eq!(
            LinkTypeRequest::parse("describedby"),
            LinkTypeRequest::Type(DESCRIBED_BY.to_owned())
        );
    }

    #[test]
    fn a_product_entry_anchors_at_the_gtin_with_one_default_link() {
        let request = DigitalLinkPath::parse("/01/09506000134352/10/L1/21/S1").unwrap();
        let entry = product_entry(
            "https://node.example",
            &request,
            "https://node.example/products/09506000134352",
            &["en", "de"],
            "https://node.example/.well-known/did.json",
        );
        assert_eq!(entry.anchor, "https://node.example/01/09506000134352");
        assert!(entry
            .item_description
            .contains("no passport answers for serial S1"));
        assert_eq!(entry.links_of(DEFAULT_LINK).len(), 1);
        assert_eq!(
            entry.default_link().unwrap().href,
            entry.links_of(PIP)[0].href,
            "the default link also appears under a descriptive type"
        );
        assert!(
            entry.links_of(DPP).is_empty(),
            "a product page is not a passport"
        );
        let model = DigitalLinkPath::parse("/01/09506000134352").unwrap();
        let entry = product_entry("https://n", &model, "https://n/p", &[], "https://n/d");
        assert!(entry.item_description.ends_with("the product as a whole"));
    }

    #[test]
    fn an_entry_serialises_anchor_description_then_links_in_order() {
        let request = DigitalLinkPath::parse("/01/09506000134352/21/S1").unwrap();
        let entry = passport_entry(
            "https://node.example",
            &request,
            &PassportLinks {
                granularity: Granularity::Model,
                status: "published",
                passport_url: "https://node.example/passports/x".into(),
                page_languages: &["en", "de"],
                did_document_url: "https://node.example/.well-known/did.json".into(),
                log_inclusion_url: None,
                registrations_url: None,
                status_lists: Vec::new(),
            },
            true,
        );
        assert_eq!(entry.anchor, "https://node.example/01/09506000134352");
        assert!(entry
            .item_description
            .contains("no item passport was found"));
        let json = serde_json::to_string(&entry).unwrap();
        assert!(json.starts_with(
            r#"{"anchor":"https://node.example/01/09506000134352","itemDescription":"#
        ));
        let v: serde_json::Value = serde_json::from_str(&json).unwrap();
        assert_eq!(
            v[DEFAULT_LINK],
            serde_json::json!([{"href": "https://node.example/passports/x", "title": "Digital product passport"}])
        );
        assert_eq!(v[DPP][0]["hreflang"], serde_json::json!(["en", "de"]));
        assert!(v.get(LOG_INCLUSION).is_none());
        assert!(v.get(SUSPENSION_STATUS_LIST).is_none());
        assert!(v.get(REVOCATION_STATUS_LIST).is_none());
    }

    #[test]
    fn status_lists_are_linked_one_per_purpose() {
        use crate::status::StatusPurpose;
        let request = DigitalLinkPath::parse("/01/09506000134352").unwrap();
        let entry = passport_entry(
            "https://n",
            &request,
            &PassportLinks {
                granularity: Granularity::Model,
                status: "published",
                passport_url: "https://n/passports/x".into(),
                page_languages: &["en"],
                did_document_url: "https://n/.well-known/did.json".into(),
                log_inclusion_url: None,
                registrations_url: None,
                status_lists: vec![
                    (
                        StatusPurpose::Suspension,
                        "https://n/status/suspension/0".into(),
                    ),
                    (
                        StatusPurpose::Revocation,
                        "https://n/status/revocation/0".into(),
                    ),
                ],
            },
            true,
        );
        let s = entry.links_of(SUSPENSION_STATUS_LIST);
        assert_eq!(s.len(), 1);
        assert_eq!(s[0].href, "https://n/status/suspension/0");
        assert!(s[0].title.contains("suspended"));
        let r = entry.links_of(REVOCATION_STATUS_LIST);
        assert_eq!(r.len(), 1);
        assert_eq!(r[0].href, "https://n/status/revocation/0");
        assert!(r[0].title.contains("revoked"));
        assert_eq!(r[0].media_type.as_deref(), Some(VC));
        assert_eq!(
            LinkTypeRequest::parse("hallmark:revocationStatusList"),
            LinkTypeRequest::Type(REVOCATION_STATUS_LIST.to_owned())
        );
    }
}
