//! Webhook subscriptions' bodies (issue 21; docs/events.md, "Webhooks"): the admin routes
//! under `/api/v1/webhooks` ([`crate::service::webhooks`]).

use super::Timestamp;
use hallmark_store::{WebhookDelivery, WebhookRecord};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// `POST /api/v1/webhooks`: a subscription.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct NewWebhook {
    /// Where deliveries go: `https://` to a host in `HALLMARK_WEBHOOK_ALLOWED_HOSTS` (plain
    /// `http://` only to a loopback address).
    pub url: String,
    /// The event types to receive (`eu.dpp.passport.published`, …), or `["*"]` for all.
    pub types: Vec<String>,
}

fn status(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
    super::names(["active", "disabled"])
}

/// A subscription (each item of `GET /api/v1/webhooks`, `GET /api/v1/webhooks/{id}`, and
/// the answer of every change). Never the secret.
#[derive(Debug, Clone, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
#[schemars(deny_unknown_fields)]
pub struct WebhookInfo {
    /// Its id (UUID): also what its secret is derived from.
    pub id: String,
    /// Where deliveries go.
    pub url: String,
    /// The event types it receives.
    pub types: Vec<String>,
    /// `active` or `disabled`.
    #[schemars(schema_with = "status")]
    pub status: &'static str,
    /// Why it is disabled (the operator's reason, or the node's after repeated failures).
    pub disabled_reason: Option<String>,
    /// The last outbox event it has handled (its `id` is the event's audit sequence; this
    /// is the outbox row number).
    pub cursor: u64,
    /// Consecutive failed attempts.
    pub failures: u32,
    /// The next attempt's earliest time.
    pub next_attempt_at: Timestamp,
    /// When it was created.
    pub created_at: Timestamp,
    /// When its status, cursor or failures last changed.
    pub changed_at: Timestamp,
}

impl From<&WebhookRecord> for WebhookInfo {
    fn from(h: &WebhookRecord) -> Self {
        WebhookInfo {
            id: h.id.clone(),
            url: h.url.clone(),
            types: h.types.clone(),
            status: h.status.as_str(),
            disabled_reason: h.disabled_reason.clone(),
            cursor: h.cursor,
            failures: h.failures,
            next_attempt_at: Timestamp(h.next_attempt_at),
            created_at: Timestamp(h.created_at),
            changed_at: Timestamp(h.changed_at),
        }
    }
}

/// `POST /api/v1/webhooks` 201: the subscription and its signing secret.
#[derive(Debug, Clone, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
#[schemars(deny_unknown_fields)]
pub struct WebhookCreated {
    /// The subscription.
    #[serde(flatten)]
    pub info: WebhookInfo,
    /// The signing secret (`whsec_…`, Standard Webhooks): shown once, not stored.
    pub secret: String,
    /// A reminder of that.
    pub note: &'static str,
}

/// `GET /api/v1/webhooks`: every subscription, oldest first.
#[derive(Debug, Clone, Serialize, JsonSchema)]
#[schemars(deny_unknown_fields)]
pub struct WebhookList {
    /// The subscriptions.
    pub items: Vec<WebhookInfo>,
}

/// One delivery attempt.
#[derive(Debug, Clone, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
#[schemars(deny_unknown_fields)]
pub struct DeliveryInfo {
    /// Its place in the delivery log.
    pub id: u64,
    /// The outbox row delivered.
    pub outbox_id: u64,
    /// 1 for the first attempt of this event, 2 for its first retry, …
    pub attempt: u32,
    /// When it started.
    pub at: Timestamp,
    /// The receiver's status code, if it answered.
    pub status_code: Option<u16>,
    /// Whether it was delivered (a 2xx answer).
    pub ok: bool,
    /// Why not, if it was not.
    pub error: Option<String>,
    /// How long it took (ms).
    pub duration_ms: u64,
}

impl From<&WebhookDelivery> for DeliveryInfo {
    fn from(d: &WebhookDelivery) -> Self {
        DeliveryInfo {
            id: d.id,
            outbox_id: d.attempt.outbox_id,
            attempt: d.attempt.attempt,
            at: Timestamp(d.attempt.at),
            status_code: d.attempt.status_code,
            ok: d.attempt.ok(),
            error: d.attempt.error.clone(),
            duration_ms: d.attempt.duration_ms,
        }
    }
}

/// `GET /api/v1/webhooks/{id}/deliveries`: one page of the delivery log, newest first.
#[derive(Debug, Clone, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
#[schemars(deny_unknown_fields)]
pub struct DeliveryList {
    /// The attempts.
    pub items: Vec<DeliveryInfo>,
    /// Pass as `before` for the next (older) page; `null` on the last.
    pub next: Option<u64>,
}
