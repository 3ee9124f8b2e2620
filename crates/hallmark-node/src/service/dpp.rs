//! The EN 18222 DPP API's reads (`docs/en18222.md`; the door is `crate::routes::dpp`):
//! a passport as the compressed or full `DigitalProductPassport` of core's `dpp` module, by
//! id, by id and date, by product identifier; passport ids by product identifiers; one data
//! element.
//!
//! Two doors, one set of use-cases; the [`Door`] decides the tier:
//! - [`Door::Public`] (the public listener, anonymous): the **public tier**, built from the
//!   version's public credential exactly as the passport URL serves it
//!   ([`Service::public_bytes`]: the credential cache, or the store and
//!   `integrity::verify_served`), read back with `issue::passport_from_credential`. Drafts
//!   are unknown, as on the passport URL.
//! - [`Door::Authority`] (the admin listener, `read` scope): the **full content** of the
//!   stored version (`VersionRecord.content`), as `GET /api/v1/passports/{id}` shows it. A
//!   passport never published is served from its draft (`dppStatus: Draft`); once a
//!   version exists the current version is served, never a pending draft over it.
//!
//! On both doors the status is the passport's current status (a version's content says
//! `published`), and a suspended passport shows its header only
//! (`compress_header_only`, `contentSpecificationIds: []`) in either representation.

use super::restricted::{AdmittedReader, Delivery, RestrictedError};
use super::{Service, ServiceError};
use crate::cache::Form;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64URL;
use base64::Engine as _;
use hallmark_core::dpp::compressed::{compress, compress_header_only, RenderError};
use hallmark_core::dpp::full::{self, SINGLE_VALUED};
use hallmark_core::dpp::path::{ElementPath, PathError, Segment};
use hallmark_core::passport::{Passport, PassportId, PassportStatus, ProductIdentifier};
use hallmark_core::resolver::DigitalLinkPath;
use hallmark_core::sector::Sector;
use serde_json::{json, Value};
use time::OffsetDateTime;

/// Which door a read came through: it decides the tier served.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Door {
    /// The public listener: the public tier of published passports.
    Public,
    /// The admin listener with the `read` scope: the full content (authority tier).
    Authority,
    /// The public listener, signed by an admitted reader: its grant's tier, for passports
    /// its grant covers, each read audited (`Service::restricted_read`).
    Reader(AdmittedReader),
}

/// `representation`: `compressed` (the default) or `full`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Representation {
    /// Header and one member per content section.
    #[default]
    Compressed,
    /// Header and `elements` (`DataElement`s).
    Full,
}

/// The most product identifiers one `readDPPIdsByProductIds` request may name (pages of
/// `limit` are looked up, but every page request parses them all).
pub const MAX_PRODUCT_IDS: usize = 5_000;
/// The default page size of `readDPPIdsByProductIds`.
pub const DEFAULT_IDS_LIMIT: usize = 100;
/// The largest page size of `readDPPIdsByProductIds` (a larger `limit` is capped).
pub const MAX_IDS_LIMIT: usize = 1000;

/// One page of `readDPPIdsByProductIds`: the ids found and, when product ids are left, the
/// cursor to go on with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DppIds {
    /// `urn:uuid:<uuid>` of the passports found, in the order of the product ids asked for.
    pub items: Vec<String>,
    /// Opaque; absent on the last page.
    pub cursor: Option<String>,
}

/// A passport as a door may see it, with its sector.
pub(super) struct Shown {
    pub(super) passport: Passport,
    pub(super) sector: &'static Sector,
}

impl Shown {
    pub(super) fn render(
        &self,
        representation: Representation,
        base_url: &str,
    ) -> Result<Value, ServiceError> {
        let rendered = if self.passport.status == PassportStatus::Suspended {
            compress_header_only(&self.passport, base_url)
        } else {
            match representation {
                Representation::Compressed => compress(&self.passport, self.sector, base_url),
                Representation::Full => full::full(&self.passport, self.sector, base_url),
            }
        };
        rendered.map_err(render_failed)
    }
}

pub(super) fn render_failed(e: RenderError) -> ServiceError {
    ServiceError::internal(
        "a stored passport cannot be written as an EN 18222 document",
        e,
    )
}

impl Service<'_> {
    /// `readDPPById`: passport `id` through `door`, in `representation`. Unknown passports
    /// (and drafts on the public door) are [`ServiceError::NotFound`].
    pub async fn dpp(
        &self,
        id: PassportId,
        door: Door,
        representation: Representation,
    ) -> Result<Value, ServiceError> {
        let shown = self.shown(id, None, &door).await?;
        shown.render(representation, &self.app.issuer.base_url)
    }

    /// `readDPPVersionByIdAndDate`: the version of `id` in force at `at` — the one with the
    /// latest signing time not after `at` — through `door`. A date before the first version
    /// (or a passport never published) is [`ServiceError::NotFound`]; a date in the future
    /// gives the current version. Drafts are never served by date.
    pub async fn dpp_at(
        &self,
        id: PassportId,
        at: OffsetDateTime,
        door: Door,
        representation: Representation,
    ) -> Result<Value, ServiceError> {
        let times = self.app.store.version_times(&id).await?;
        let version = times
            .iter()
            .filter(|(_, signed)| *signed <= at)
            .map(|(n, _)| *n)
            .max()
            .ok_or(ServiceError::NotFound)?;
        let shown = self.shown(id, Some(version), &door).await?;
        shown.render(representation, &self.app.issuer.base_url)
    }

    /// `readDPPByProductId`: the passport that answers for `product` as the GS1 resolver
    /// finds it (`Service::resolve`: item → batch → model, the most specific level first;
    /// drafts unknown, deactivated passports not answering — on both doors), through
    /// `door`.
    pub async fn dpp_by_product(
        &self,
        product: &DigitalLinkPath,
        door: Door,
        representation: Representation,
    ) -> Result<Value, ServiceError> {
        let id = self
            .product_passport(product)
            .await?
            .ok_or(ServiceError::NotFound)?;
        self.dpp(id, door, representation).await
    }

    /// `readDPPIdsByProductIds`: the ids of the passports that answer for `product_ids`
    /// (each read as [`product_path`]; one that is not a product identifier refuses the
    /// request), in their order, skipping those nothing answers for; `limit` product ids per
    /// page (1 ..= [`MAX_IDS_LIMIT`]), from `cursor` (a previous page's). The lookup is the
    /// resolver's, so both doors answer alike.
    pub async fn dpp_ids(
        &self,
        product_ids: &[String],
        limit: usize,
        cursor: Option<&str>,
    ) -> Result<DppIds, ServiceError> {
        if product_ids.is_empty() || product_ids.len() > MAX_PRODUCT_IDS {
            return Err(ServiceError::Unprocessable(format!(
                "productIds must name 1 to {MAX_PRODUCT_IDS} product identifiers"
            )));
        }
        let start = match cursor {
            None => 0,
            Some(c) => decode_cursor(c)
                .filter(|i| *i < product_ids.len())
                .ok_or_else(|| {
                    ServiceError::Unprocessable(
                        "cursor is not one this node gave for these productIds".into(),
                    )
                })?,
        };
        let paths = product_ids
            .iter()
            .enumerate()
            .map(|(i, p)| {
                product_path(p).map_err(|e| match e {
                    ServiceError::Unprocessable(why) => {
                        ServiceError::Unprocessable(format!("productIds[{i}]: {why}"))
                    }
                    other => other,
                })
            })
            .collect::<Result<Vec<_>, _>>()?;
        let end = start
            .saturating_add(limit.clamp(1, MAX_IDS_LIMIT))
            .min(paths.len());
        let mut items = Vec::with_capacity(end - start);
        for path in &paths[start..end] {
            if let Some(id) = self.product_passport(path).await? {
                items.push(id.to_string());
            }
        }
        Ok(DppIds {
            items,
            cursor: (end < paths.len()).then(|| encode_cursor(end)),
        })
    }

    /// `readDataElement`: the element at `path` (an RFC 9535 Normalized Path, as the
    /// client wrote it) of the compressed document `door` may see of passport `id`.
    /// `compressed` answers the value there. `full` answers it as a `DataElement`
    /// (`full::element_at`) for a path at or inside a content section; a header member with a
    /// scalar value as a `SingleValuedDataElement`; any other header path is refused (400:
    /// the full representation has no element for it).
    ///
    /// Errors: not a Normalized Path, or one that selects several elements →
    /// [`ServiceError::Unprocessable`] (400 on `/v1`); no element there →
    /// [`ServiceError::NotFound`].
    pub async fn dpp_element(
        &self,
        id: PassportId,
        door: Door,
        path: &str,
        representation: Representation,
    ) -> Result<Value, ServiceError> {
        let base_url = &self.app.issuer.base_url;
        let shown = self.shown(id, None, &door).await?;
        let doc = shown.render(Representation::Compressed, base_url)?;
        let located = ElementPath::locate(path, &doc).map_err(|e| match e {
            PathError::NotFound => ServiceError::NotFound,
            other => ServiceError::Unprocessable(other.to_string()),
        })?;
        let value = located.get(&doc).cloned().ok_or(ServiceError::NotFound)?;
        if representation == Representation::Compressed {
            return Ok(value);
        }
        let segments = located.segments();
        let Some(Segment::Name(first)) = segments.first() else {
            return Err(ServiceError::Unprocessable(
                "the full representation has no element for the whole document; \
                 ask for a content section or an element inside one"
                    .into(),
            ));
        };
        if let Some(section) = shown
            .sector
            .content_sections()
            .into_iter()
            .find(|s| &s.id == first)
        {
            // The section's pointer into the passport is `/data…`; `element_at` takes one
            // into `data`.
            let section_pointer = section.data_pointer();
            let in_data = section_pointer.strip_prefix("/data").unwrap_or_default();
            let inner = ElementPath::new(segments[1..].to_vec()).to_json_pointer();
            let element =
                full::element_at(&shown.passport, shown.sector, &format!("{in_data}{inner}"))
                    .map_err(render_failed)?;
            return element.ok_or(ServiceError::NotFound);
        }
        match (&value, segments.len()) {
            (Value::Array(_) | Value::Object(_), _) | (_, 2..) => {
                Err(ServiceError::Unprocessable(format!(
                    "the full representation has no element for the header member {}; \
                     ask for it with representation=compressed",
                    located.format()
                )))
            }
            _ => Ok(json!({
                "elementId": first,
                "objectType": SINGLE_VALUED,
                "valueDataType": full::value_data_type(&value, None, None),
                "value": value,
            })),
        }
    }

    /// The live, published passport that answers for `product` (the resolver's walk-up,
    /// most specific level first), if any.
    async fn product_passport(
        &self,
        product: &DigitalLinkPath,
    ) -> Result<Option<PassportId>, ServiceError> {
        match self.resolve(product, false).await {
            Ok(levels) => Ok(levels.first().map(|l| l.record.id)),
            Err(ServiceError::NotFound) => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// Passport `id` (version `version`, or the current one) as `door` may see it.
    pub(super) async fn shown(
        &self,
        id: PassportId,
        version: Option<u32>,
        door: &Door,
    ) -> Result<Shown, ServiceError> {
        let app = self.app;
        // A version's content says `published`; the status shown is today's.
        let passport = match door {
            Door::Reader(reader) => {
                // The reader's tier as signed for it, within its scope, audited; a suspended
                // passport in scope shows its header only, as on the other doors.
                let read = self
                    .restricted_read(
                        reader,
                        Some(id),
                        version,
                        Form::DataIntegrity,
                        Delivery::Content,
                    )
                    .await;
                let read = match read {
                    Ok(read) => read,
                    Err(RestrictedError::Suspended(_)) => {
                        return Box::pin(self.shown(id, version, &Door::Public)).await
                    }
                    Err(RestrictedError::Refused(r)) => return Err(r.into()),
                    Err(RestrictedError::Service(e)) => return Err(e),
                };
                passport_of(&read.bytes, read.status)?
            }
            Door::Public => {
                // Drafts, unknown passports and versions beyond the current one: not found.
                let shown = self.public_state(id, version).await?;
                let bytes = self
                    .public_bytes(id, shown.version, crate::cache::Form::DataIntegrity)
                    .await?;
                passport_of(&bytes.bytes, shown.state.status)?
            }
            Door::Authority => {
                let (record, draft) = app.store.get_pending(&id).await?;
                let content = match (version, record.current_version, draft) {
                    (Some(n), _, _) => app.store.get_version(&id, Some(n)).await?.content,
                    // Never published: the draft (see the module docs).
                    (None, 0, Some(d)) => d.content,
                    (None, 0, None) => return Err(ServiceError::NotFound),
                    (None, _, _) => app.store.get_version(&id, None).await?.content,
                };
                let value: Value = serde_json::from_slice(&content)
                    .map_err(|e| ServiceError::internal("stored passport does not parse", e))?;
                let mut p = Passport::from_json_value(&value)
                    .map_err(|e| ServiceError::internal("stored passport does not read", e))?;
                p.status = record.status;
                p
            }
        };
        let sector = app
            .registry
            .get(&passport.sector.id, &passport.sector.schema_version)
            .map_err(|e| ServiceError::internal("a stored passport's sector is not loaded", e))?;
        Ok(Shown { passport, sector })
    }
}

/// The passport a verified Data Integrity credential carries, with today's `status` (a
/// version's content says `published`).
fn passport_of(credential: &[u8], status: PassportStatus) -> Result<Passport, ServiceError> {
    let credential: Value = serde_json::from_slice(credential)
        .map_err(|e| ServiceError::internal("verified credential does not parse", e))?;
    let mut p = hallmark_core::issue::passport_from_credential(&credential)
        .map_err(|e| ServiceError::internal("verified credential holds no passport", e))?;
    p.status = status;
    Ok(p)
}

/// A `productId` (percent-decoded once by the door) as the GS1 Digital Link path to
/// resolve: a GS1 Digital Link URI with any host (the path from its `/01/` on), a path
/// `/01/…`, a GS1 element string `(01)<gtin>[(10)<lot>][(21)<serial>]` (HRI form), or a
/// bare GTIN-8/12/13/14 (the model level). Anything else is
/// [`ServiceError::Unprocessable`] (400 on `/v1`).
pub fn product_path(product_id: &str) -> Result<DigitalLinkPath, ServiceError> {
    let refused = |why: String| {
        ServiceError::Unprocessable(format!(
            "not a product identifier (a GS1 Digital Link URI, a /01/… path, a GS1 element \
             string or a GTIN): {why}"
        ))
    };
    if product_id.starts_with('(') {
        return ProductIdentifier::parse_element_string(product_id)
            .map(|p| DigitalLinkPath::from(&p))
            .map_err(|e| refused(e.to_string()));
    }
    let path = if product_id.starts_with('/') {
        product_id.to_owned()
    } else if let Some((_, rest)) = product_id.split_once("://") {
        let rest = rest.split(['?', '#']).next().unwrap_or_default();
        let path = rest.find('/').map_or("", |i| &rest[i..]);
        match path.find("/01/") {
            Some(i) => path[i..].to_owned(),
            None => return Err(refused("no `/01/` and GTIN in the URI's path".into())),
        }
    } else if !product_id.is_empty() && product_id.bytes().all(|b| b.is_ascii_digit()) {
        format!("/01/{product_id}")
    } else {
        return Err(refused("neither a URI, a path nor digits".into()));
    };
    DigitalLinkPath::parse(&path).map_err(|e| refused(e.to_string()))
}

/// The opaque cursor of the next product id index (base64url of its decimal digits).
fn encode_cursor(next: usize) -> String {
    B64URL.encode(next.to_string())
}

/// The index a cursor names, if it is one [`encode_cursor`] writes.
fn decode_cursor(cursor: &str) -> Option<usize> {
    let bytes = B64URL.decode(cursor).ok()?;
    let text = std::str::from_utf8(&bytes).ok()?;
    let n: usize = text.parse().ok()?;
    (encode_cursor(n) == cursor).then_some(n)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;

    #[test]
    fn cursors_round_trip_and_refuse_anything_else() {
        for n in [0, 1, 99, 100_000] {
            assert_eq!(decode_cursor(&encode_cursor(n)), Some(n));
        }
        for bad in ["", "!!", "eA", "MDE", "LTE", "MQ=="] {
            assert_eq!(decode_cursor(bad), None, "{bad}");
        }
    }

    #[test]
    fn product_ids_in_their_four_forms() {
        let uri = product_path("https://id.example.com/x/01/09506000134352/21/S1").unwrap();
        assert_eq!(uri.serial(), Some("S1"));
        let path = product_path("/01/09506000134352/10/L1").unwrap();
        assert_eq!(path.lot(), Some("L1"));
        let hri = product_path("(01)09506000134352(10)L(1)(21)S/1").unwrap();
        assert_eq!(
            (hri.lot(), hri.serial()),
            (Some("L(1)"), Some("S/1")),
            "an element string"
        );
        let gtin = product_path("9506000134352").unwrap();
        assert_eq!(gtin.gtin().as_gtin14(), "09506000134352");
        for bad in [
            "",
            "abc",
            "https://id.example.com/",
            "09506000134353",
            "urn:x",
            "(01)09506000134353",
            "(01)09506000134352(17)270101",
            "(01)09506000134352(21)",
        ] {
            assert!(product_path(bad).is_err(), "{bad}");
        }
    }
}
