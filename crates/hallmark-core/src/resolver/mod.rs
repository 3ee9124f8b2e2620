//! GS1 Digital Link resolution, the pure part: what a request path identifies
//! ([`DigitalLinkPath`]: GS1 Digital Link URI syntax 1.7, from the raw path, with the levels it
//! walks up), what the answer links to ([`Linkset`]: RFC 9264 in the shape of GS1's linkset
//! schema, one [`LinksetEntry`] per level found), which link a request asks for
//! ([`LinkTypeRequest`]) and which of several links of one type a client prefers
//! ([`negotiate::choose`], by `Accept` and `Accept-Language`); the links an operator attaches
//! to a product identifier ([`ProductLink`], checked, and appended to the resolved entries by
//! [`Linkset::add_product_links`]).
//!
//! The node's resolver (`hallmark-node`'s `routes::resolver` over `service::resolver`) does the
//! lookups and the HTTP; the rules are here, without I/O. Operator view: `docs/resolver.md`.

mod links;
mod linkset;
pub mod negotiate;
mod path;

pub use links::{
    link_type_uri, LinkField, ProductLink, ProductLinkError, DEFAULT_LINK_MULTI, MAX_HREFLANG,
    MAX_HREF_BYTES, MAX_LINKS_PER_IDENTIFIER, MAX_LINK_TYPE_NAME, MAX_TITLE_CHARS,
    RESERVED_LINK_TYPES,
};
pub use linkset::status_list_link_type;
pub use linkset::{
    passport_entry, product_entry, Link, LinkTypeRequest, Linkset, LinksetEntry, PassportLinks,
    DEFAULT_LINK, DESCRIBED_BY, DPP, GS1_VOC, GS1_VOC_ALIASES, HALLMARK_VOC, LINKSET_MEDIA_TYPE,
    LOG_INCLUSION, PIP, REVOCATION_STATUS_LIST, SUSPENSION_STATUS_LIST, TEXT_HTML, VC, VC_JWT,
};
pub use negotiate::Preferences;
pub use path::{DigitalLinkError, DigitalLinkPath, Element};
