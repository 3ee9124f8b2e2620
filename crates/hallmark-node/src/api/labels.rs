//! `GET /api/v1/labels`: what `hallmark labels` prints — published passports' GS1 Digital
//! Link URIs and element strings ([`crate::service::labels`]).

use crate::service::Label;
use hallmark_store::Page;
use schemars::JsonSchema;
use serde::Serialize;
use uuid::Uuid;

/// A published passport's label: the URI its QR code encodes and the text that names it.
#[derive(Debug, Clone, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
#[schemars(deny_unknown_fields)]
pub struct LabelInfo {
    /// The passport id (UUIDv7).
    pub id: Uuid,
    /// Lifecycle status (`published`).
    #[schemars(schema_with = "super::wire::passport_status")]
    pub status: &'static str,
    /// Model, batch or item.
    #[schemars(schema_with = "super::wire::granularity")]
    pub granularity: &'static str,
    /// The GS1 element string, `(01)<gtin14>[(10)<lot>][(21)<serial>]`.
    pub element_string: String,
    /// The GS1 Digital Link URI under the node's public base URL (what the QR code encodes).
    pub digital_link: String,
}

/// `GET /api/v1/labels`: one page of labels, in passport id order.
#[derive(Debug, Clone, Serialize, JsonSchema)]
#[schemars(deny_unknown_fields)]
pub struct LabelPage {
    /// The labels of the passports on this page that match the filters.
    pub items: Vec<LabelInfo>,
    /// The cursor of the next page (`after=`), `null` on the last page.
    pub next: Option<Uuid>,
}

impl From<&Label> for LabelInfo {
    fn from(l: &Label) -> Self {
        LabelInfo {
            id: l.id.uuid(),
            status: l.status.as_str(),
            granularity: l.granularity.as_str(),
            element_string: l.element_string.clone(),
            digital_link: l.digital_link.clone(),
        }
    }
}

impl From<Page<Label>> for LabelPage {
    fn from(page: Page<Label>) -> Self {
        LabelPage {
            items: page.items.iter().map(LabelInfo::from).collect(),
            next: page.next.map(|n| n.uuid()),
        }
    }
}
