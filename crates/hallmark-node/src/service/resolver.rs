//! Resolving a GS1 Digital Link: the published passports that answer for a request path,
//! walking up from the item to the batch to the model (GS1 resolver 2.5.9: every qualifier
//! of a supported key is supported, levels resolved within one request). The path rules are
//! core's (`hallmark_core::resolver`); this is the lookup. A public read: no principal, no
//! audit event.

use super::{Service, ServiceError};
use hallmark_core::passport::{Granularity, PassportStatus};
use hallmark_core::resolver::DigitalLinkPath;
use hallmark_store::{PassportRecord, ProductKey};

/// A published passport found for one level of a request.
#[derive(Debug, Clone, PartialEq)]
pub struct ResolvedLevel {
    /// The level it answers for.
    pub granularity: Granularity,
    /// Its index row (status, current version).
    pub record: PassportRecord,
    /// The transparency-log index of its current version's publication, when asked for and
    /// logged.
    pub log_index: Option<u64>,
    /// Its status list position, when asked for and it has one.
    pub status_ref: Option<hallmark_core::status::StatusRef>,
    /// Whether it has EU DPP registry registrations (when asked for).
    pub registered: bool,
}

impl Service<'_> {
    /// The passports that answer for `path`, most specific first: the item (GTIN + serial),
    /// the batch (GTIN + lot), the model (GTIN) — each the live passport at that level
    /// (`Store::find_live`: deactivated passports do not answer) that has been published
    /// (drafts are unknown, as on the public read path). Suspended and archived passports
    /// answer: their URL says what they are (410 with the reason; the archived credential).
    /// With `log` (a linkset or `linkType` request; the default redirect makes no extra
    /// query), each carries the log index of its current version's publication and its
    /// status list position.
    /// `NotFound` when no level has one.
    pub async fn resolve(
        &self,
        path: &DigitalLinkPath,
        log: bool,
    ) -> Result<Vec<ResolvedLevel>, ServiceError> {
        let app = self.app;
        let store = &app.store;
        let mut found = Vec::with_capacity(3);
        for (granularity, product) in path.levels() {
            let key = ProductKey::new(&product, granularity);
            // The lookup, from the resolver's cache while it stands (any passport change
            // drops it whole: `crate::cache::ResolveCache`).
            let record = match app.resolves.get(&key) {
                Some(r) => r,
                None => {
                    let generation = app.resolves.generation();
                    let r = store.find_live(&key).await?;
                    app.resolves.insert(key, r.clone(), generation);
                    r
                }
            };
            let Some(record) = record else {
                continue;
            };
            if record.status == PassportStatus::Draft || record.current_version == 0 {
                continue;
            }
            let (log_index, status_ref, registered) = if log {
                let index = store
                    .publish_seq(&record.id, record.current_version)
                    .await?
                    .map(|seq| seq.saturating_sub(1));
                let registered = !self
                    .passport_state(record.id)
                    .await?
                    .registrations
                    .is_empty();
                (index, store.status_index(&record.id).await?, registered)
            } else {
                (None, None, false)
            };
            found.push(ResolvedLevel {
                granularity,
                record,
                log_index,
                status_ref,
                registered,
            });
        }
        if found.is_empty() {
            return Err(ServiceError::NotFound);
        }
        Ok(found)
    }

    /// Whether the product of `gtin` (GTIN-14) has any published passport that is not
    /// deactivated, at whatever level: when nothing answers for the level a Digital Link
    /// names, the resolver walks up to the GTIN and answers with the product (GS1 resolver
    /// 2.5.9), not with a 404. Cached like the level lookups.
    pub async fn product_known(&self, gtin: &str) -> Result<bool, ServiceError> {
        let cache = &self.app.resolves;
        if let Some(known) = cache.gtin(gtin) {
            return Ok(known);
        }
        let generation = cache.gtin_generation();
        let known = self.app.store.gtin_published(gtin).await?;
        cache.insert_gtin(gtin.to_owned(), known, generation);
        Ok(known)
    }
}
