//! Labels: what a printed QR code of a passport carries — its product identifier as a GS1
//! Digital Link URI under the node's public base URL (never an internal URL, no query
//! string) — and the GS1 element string that names it. Read doors: the public listener's
//! `/passports/{id}/qr.svg|png` ([`Service::label`]) and the admin API's `/api/v1/labels`,
//! which `hallmark labels` reads ([`Service::labels`]).

use super::{Service, ServiceError};
use hallmark_core::passport::{Granularity, Gtin, PassportId, PassportStatus, ProductIdentifier};
use hallmark_store::{Page, PassportFilter, PassportRecord, MAX_PAGE};

/// A published passport's label.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Label {
    /// The passport.
    pub id: PassportId,
    /// Its lifecycle status (never `draft`).
    pub status: PassportStatus,
    /// The reason given for that status, if any.
    pub status_reason: Option<String>,
    /// Model, batch or item.
    pub granularity: Granularity,
    /// The GS1 element string, `(01)<gtin14>[(10)<lot>][(21)<serial>]`.
    pub element_string: String,
    /// The GS1 Digital Link URI the QR code encodes.
    pub digital_link: String,
}

/// Which labels to list: published passports, optionally of one GTIN and one lot, after a
/// cursor, at most `limit` (default 100, clamped to 1..=`MAX_PAGE`) passports examined.
#[derive(Debug, Clone, Default)]
pub struct LabelQuery {
    /// Only this GTIN (normalised to 14 digits).
    pub gtin: Option<Gtin>,
    /// Only passports whose identifier carries this lot (AI 10).
    pub lot: Option<String>,
    /// After this passport (the previous page's `next`).
    pub after: Option<PassportId>,
    /// Page size.
    pub limit: Option<u32>,
}

impl Service<'_> {
    /// The label of passport `id`, as the public listener may show it: not found for an
    /// unknown id, a draft never published, or a passport without a product identifier
    /// (a row from before identifiers were recorded). A suspended passport's label is
    /// returned with its status; the door decides (the public listener answers 410).
    pub async fn label(&self, id: PassportId) -> Result<Label, ServiceError> {
        let record = self.app.store.get_passport(&id).await?;
        if record.status == PassportStatus::Draft || record.current_version == 0 {
            return Err(ServiceError::NotFound);
        }
        self.label_of(&record)?.ok_or(ServiceError::NotFound)
    }

    /// A page of labels of published passports (`status` published; suspended, archived
    /// and deactivated passports get no new labels), filtered by GTIN and lot. `next` is the
    /// cursor of the passports examined, so a page may hold fewer labels than `limit` (even
    /// none) and still have a next one.
    pub async fn labels(&self, q: LabelQuery) -> Result<Page<Label>, ServiceError> {
        let limit = q.limit.unwrap_or(100).clamp(1, MAX_PAGE);
        let filter = PassportFilter {
            status: Some(PassportStatus::Published),
            sector_id: None,
            gtin: q.gtin.map(|g| g.as_gtin14().to_owned()),
        };
        let page = self
            .app
            .store
            .list_passports(&filter, q.after.as_ref(), limit)
            .await?;
        let mut items = Vec::with_capacity(page.items.len());
        for record in &page.items {
            let lot = record.product.as_ref().and_then(|p| p.lot.as_deref());
            if q.lot.is_some() && lot != q.lot.as_deref() {
                continue;
            }
            if let Some(label) = self.label_of(record)? {
                items.push(label);
            }
        }
        Ok(Page {
            items,
            next: page.next,
        })
    }

    /// The label of a record with a product identifier.
    fn label_of(&self, record: &PassportRecord) -> Result<Option<Label>, ServiceError> {
        let Some(key) = &record.product else {
            return Ok(None);
        };
        let gtin = Gtin::parse(&key.gtin)
            .map_err(|e| ServiceError::internal("a stored GTIN does not parse", e))?;
        let product = ProductIdentifier::new(gtin, key.lot.clone(), key.serial.clone())
            .map_err(|e| ServiceError::internal("a stored product identifier is invalid", e))?;
        let digital_link = product
            .digital_link(&self.app.issuer.base_url)
            .map_err(|e| {
                ServiceError::internal("the public base URL cannot form a Digital Link", e)
            })?;
        Ok(Some(Label {
            id: record.id,
            status: record.status,
            status_reason: record.status_reason.clone(),
            granularity: key.granularity,
            element_string: product.element_string(),
            digital_link,
        }))
    }
}
