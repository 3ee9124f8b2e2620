//! The operator's own links per product identifier (manuals, safety data sheets, …), served
//! by the GS1 resolver in the linkset entry of their level. What a link may be is core's
//! rule (`hallmark_core::resolver::ProductLink`: GS1 or `hallmark:` link types, never one
//! the node owns; absolute https hrefs; …), checked before anything is looked up or written.
//! Adding and removing are audited (`link.added`, `link.removed`: public events, so the
//! transparency log proves what the resolver pointed to), each in the same transaction as
//! the row; a removal is final. Each row carries the node's tag, and the resolver serves only
//! rows whose tag verifies (docs/security.md, "The app role as an attacker").
//!
//! The resolver reads the active links of a request's levels from the store on every
//! linkset or `linkType` answer ([`Service::resolver_links`]; the default redirect never
//! reads them), so a change is served at once by every node sharing the database: there is
//! no cache to drop.

use super::{events, now, Reason, Service, ServiceError};
use crate::auth::Principal;
use hallmark_core::passport::{Gtin, ProductIdentifier};
use hallmark_core::resolver::{DigitalLinkPath, LinkField, ProductLink, ProductLinkError};
use hallmark_store::{LinkFilter, NewProductLink, ProductKey, ProductLinkRecord};
use uuid::Uuid;

/// A link to attach, as a door received it (checked by [`Service::add_link`]).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LinkInput {
    /// GTIN-8, -12, -13 or -14 with its check digit.
    pub gtin: String,
    /// A lot, for a batch-level link.
    pub lot: Option<String>,
    /// A serial, for an item-level link.
    pub serial: Option<String>,
    /// The link type (`gs1:…`, a GS1 namespace URI, `hallmark:…`).
    pub link_type: String,
    /// The target (absolute https URL).
    pub href: String,
    /// The title.
    pub title: String,
    /// The target's media type.
    pub media_type: Option<String>,
    /// The target's languages.
    pub hreflang: Vec<String>,
}

/// Which links to list: those of a GTIN, optionally of one lot and/or serial; removed ones
/// only when asked.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LinkQuery {
    /// GTIN-8, -12, -13 or -14 with its check digit.
    pub gtin: String,
    /// Only this lot's links.
    pub lot: Option<String>,
    /// Only this serial's links.
    pub serial: Option<String>,
    /// Removed links too.
    pub removed: bool,
}

/// The product identifier of a link, or the refusal naming `identifier`.
fn identifier(
    gtin: &str,
    lot: Option<String>,
    serial: Option<String>,
) -> Result<ProductIdentifier, ProductLinkError> {
    let refuse = |e: hallmark_core::passport::PassportError| ProductLinkError {
        field: LinkField::Identifier,
        reason: e.to_string(),
    };
    let gtin = Gtin::parse(gtin).map_err(refuse)?;
    ProductIdentifier::new(gtin, lot, serial).map_err(refuse)
}

/// A new link id: a UUIDv7 (ids sort in creation order), lowercase and hyphenated.
fn new_link_id() -> Result<String, ServiceError> {
    use rand_core::RngCore;
    let mut random = [0u8; 10];
    rand_core::OsRng
        .try_fill_bytes(&mut random)
        .map_err(|e| ServiceError::internal("no randomness for a link id", e))?;
    let millis = u64::try_from(now().unix_timestamp_nanos() / 1_000_000).unwrap_or(0);
    Ok(uuid::Builder::from_unix_timestamp_millis(millis, &random)
        .into_uuid()
        .hyphenated()
        .to_string())
}

/// A stored link as core's checked [`ProductLink`]; `None` (logged) for a row that does not
/// pass core's rules, which the resolver then does not serve (fail closed).
fn checked(record: &ProductLinkRecord) -> Option<ProductLink> {
    let key = &record.product;
    let link = identifier(&key.gtin, key.lot.clone(), key.serial.clone()).and_then(|product| {
        ProductLink::new(
            product,
            &record.link_type,
            &record.href,
            &record.title,
            record.media_type.as_deref(),
            record.hreflang.clone(),
        )
    });
    match link {
        Ok(link) if link.granularity() == key.granularity => Some(link),
        Ok(_) => {
            tracing::warn!(link = %record.id, "a stored link's level does not fit its identifier; not served");
            None
        }
        Err(e) => {
            tracing::warn!(link = %record.id, error = %e, "a stored link breaks the link rules; not served");
            None
        }
    }
}

impl Service<'_> {
    /// Attaches a link to a product identifier: checked by core (every refusal names its
    /// field, nothing is written), stored with its `link.added` event. `Conflict` when the
    /// identifier already has `MAX_LINKS_PER_IDENTIFIER` active links.
    pub async fn add_link(
        &self,
        who: &Principal,
        input: LinkInput,
    ) -> Result<ProductLinkRecord, ServiceError> {
        let product = identifier(&input.gtin, input.lot, input.serial)?;
        let link = ProductLink::new(
            product,
            &input.link_type,
            &input.href,
            &input.title,
            input.media_type.as_deref(),
            input.hreflang,
        )?;
        let new = NewProductLink {
            id: new_link_id()?,
            product: ProductKey::new(link.product(), link.granularity()),
            link_type: link.link_type().to_owned(),
            href: link.link().href.clone(),
            title: link.link().title.clone(),
            media_type: link.link().media_type.clone(),
            hreflang: link.link().hreflang.clone(),
        };
        let event = events::link_added(who, &new)?;
        Ok(self.app.store.add_link(new, event).await?)
    }

    /// Removes a link for good, with a reason (required), and its `link.removed` event.
    /// `NotFound` for an unknown id; `Conflict` when it is already removed.
    pub async fn remove_link(
        &self,
        who: &Principal,
        id: &str,
        reason: Reason,
    ) -> Result<ProductLinkRecord, ServiceError> {
        let reason = reason.into_inner().ok_or_else(|| {
            ServiceError::Unprocessable("a non-empty `reason` is required".into())
        })?;
        let id = Uuid::try_parse(id)
            .map_err(|_| ServiceError::NotFound)?
            .hyphenated()
            .to_string();
        let store = &self.app.store;
        let link = store.get_link(&id).await?.ok_or(ServiceError::NotFound)?;
        if link.removed_at.is_some() {
            return Err(ServiceError::Conflict(format!(
                "link {id} is already removed; removal is final"
            )));
        }
        let event = events::link_removed(who, &link, &reason)?;
        Ok(store.remove_link(&id, &reason, event).await?)
    }

    /// The links of a GTIN (optionally one lot and/or serial), in the order they were added,
    /// at most `hallmark_store::MAX_PAGE`.
    pub async fn links(&self, query: LinkQuery) -> Result<Vec<ProductLinkRecord>, ServiceError> {
        let gtin = Gtin::parse(&query.gtin)
            .map_err(|e| ServiceError::Unprocessable(format!("`gtin`: {e}")))?;
        // Lot and serial are checked one at a time (both may be given to narrow a listing).
        for (lot, serial) in [(query.lot.clone(), None), (None, query.serial.clone())] {
            ProductIdentifier::new(gtin, lot, serial)
                .map_err(|e| ServiceError::Unprocessable(e.to_string()))?;
        }
        let filter = LinkFilter {
            gtin: gtin.as_gtin14().to_owned(),
            lot: query.lot,
            serial: query.serial,
            removed: query.removed,
        };
        Ok(self.app.store.list_links(&filter).await?)
    }

    /// The active operator links of the levels of `path` (item, batch, model) that carry the
    /// node's tag (`hallmark_core::integrity`: a row written with only the database's
    /// credentials is not served) and pass core's rules again: one store query, for the
    /// resolver's linkset and `linkType` answers. A public read: no principal, no event.
    pub async fn resolver_links(
        &self,
        path: &DigitalLinkPath,
    ) -> Result<Vec<ProductLink>, ServiceError> {
        let keys: Vec<ProductKey> = path
            .levels()
            .iter()
            .map(|(granularity, product)| ProductKey::new(product, *granularity))
            .collect();
        let records = self.app.store.links_for(&keys).await?;
        let integrity = &self.app.integrity;
        Ok(records
            .iter()
            .filter(|r| {
                let authentic = r.is_authentic(integrity);
                if !authentic {
                    tracing::warn!(link = %r.id, "a stored link without the node's tag; not served");
                }
                authentic
            })
            .filter_map(checked)
            .collect())
    }
}
