//! Webhook subscriptions (issue 21; docs/events.md, "Webhooks"): the operator subscribes a
//! URL to event types and gets the signing secret once; lists them, reads each one's
//! delivery log, disables and enables them. Every change is a `webhook.*` audit event in
//! the same transaction (private: it names the operator's systems). Delivery is the
//! dispatcher's (`crate::webhooks`).

use super::{actor, now, Service, ServiceError};
use crate::auth::Principal;
use hallmark_core::events::EVENT_TYPES;
use hallmark_core::tlog::event::{Action, Detail, WebhookChanged, WebhookCreated};
use hallmark_core::webhook::secret_text;
use hallmark_store::{AuditEvent, NewWebhook, WebhookChange, WebhookDelivery, WebhookRecord};
use zeroize::Zeroizing;

/// Most subscriptions a node keeps active at once.
pub const MAX_ACTIVE: usize = 50;
/// Most delivery log rows one page answers.
pub const MAX_DELIVERIES_PAGE: u32 = 200;

/// A new subscription as a door received it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WebhookInput {
    /// Where deliveries go.
    pub url: String,
    /// Event types (`EVENT_TYPES`), or `*` for all.
    pub types: Vec<String>,
}

/// A subscription just created, with its secret (shown once).
pub struct CreatedWebhook {
    /// The subscription.
    pub webhook: WebhookRecord,
    /// `whsec_<base64>`.
    pub secret: Zeroizing<String>,
}

/// A subscription id from a path; anything else is not found.
pub fn parse_webhook_id(s: &str) -> Result<String, ServiceError> {
    uuid::Uuid::parse_str(s)
        .map(|u| u.hyphenated().to_string())
        .map_err(|_| ServiceError::NotFound)
}

fn event(actor: &str, action: Action, detail: &impl Detail) -> Result<AuditEvent, ServiceError> {
    let mut e = AuditEvent::of(now(), actor, action);
    e.detail = detail.to_value()?;
    Ok(e)
}

fn new_webhook_id() -> Result<String, ServiceError> {
    use rand_core::RngCore;
    let mut random = [0u8; 16];
    rand_core::OsRng
        .try_fill_bytes(&mut random)
        .map_err(|e| ServiceError::internal("no randomness for a webhook id", e))?;
    Ok(uuid::Builder::from_random_bytes(random)
        .into_uuid()
        .hyphenated()
        .to_string())
}

fn checked_types(types: &[String]) -> Result<Vec<String>, ServiceError> {
    let mut out: Vec<String> = Vec::new();
    for t in types {
        let t = t.trim();
        if t != "*" && !EVENT_TYPES.contains(&t) {
            return Err(ServiceError::Unprocessable(format!(
                "`types`: {t:?} is not an event type (one of {}, or \"*\" for all)",
                EVENT_TYPES.join(", ")
            )));
        }
        if !out.iter().any(|o| o == t) {
            out.push(t.to_owned());
        }
    }
    if out.is_empty() {
        return Err(ServiceError::Unprocessable(
            "`types` must name at least one event type (or \"*\" for all)".into(),
        ));
    }
    Ok(out)
}

impl Service<'_> {
    /// Subscribes `input.url` to `input.types`: the destination and types are checked
    /// before anything is written (`Unprocessable` naming the field); at most
    /// [`MAX_ACTIVE`] active subscriptions (`Conflict`). The answer carries the secret,
    /// derived from the node secret and the new id — it is not stored, and not shown again.
    pub async fn create_webhook(
        &self,
        who: &Principal,
        input: &WebhookInput,
    ) -> Result<CreatedWebhook, ServiceError> {
        let settings = self.app.webhooks.get().cloned().unwrap_or_default();
        settings
            .check_destination(input.url.trim())
            .map_err(|e| ServiceError::Unprocessable(e.to_string()))?;
        let types = checked_types(&input.types)?;
        let active = self
            .app
            .store
            .webhooks()
            .await?
            .iter()
            .filter(|h| h.status == hallmark_store::WebhookStatus::Active)
            .count();
        if active >= MAX_ACTIVE {
            return Err(ServiceError::Conflict(format!(
                "{MAX_ACTIVE} webhook subscriptions are active already; disable one first"
            )));
        }
        let id = new_webhook_id()?;
        let url = input.url.trim().to_owned();
        let detail = WebhookCreated {
            webhook_id: id.clone(),
            url: url.clone(),
            types: types.clone(),
        };
        let audit = event(&actor(who), Action::WebhookCreated, &detail)?;
        let webhook = self
            .app
            .store
            .create_webhook(NewWebhook { id, url, types }, audit)
            .await?;
        tracing::info!(target: "hallmark::audit", action = %Action::WebhookCreated,
            webhook = %webhook.id, actor = %actor(who));
        let secret = self.app.integrity.webhook_secret(webhook.id.as_bytes());
        Ok(CreatedWebhook {
            secret: Zeroizing::new(secret_text(&secret[..])),
            webhook,
        })
    }

    /// Every subscription, oldest first.
    pub async fn webhooks(&self) -> Result<Vec<WebhookRecord>, ServiceError> {
        Ok(self.app.store.webhooks().await?)
    }

    /// One subscription; `NotFound` for an unknown id.
    pub async fn webhook(&self, id: &str) -> Result<WebhookRecord, ServiceError> {
        self.app
            .store
            .webhook(id)
            .await?
            .ok_or(ServiceError::NotFound)
    }

    /// A subscription's delivery log, newest first (below `before`, at most `limit`, 1 to
    /// [`MAX_DELIVERIES_PAGE`]); `NotFound` for an unknown id.
    pub async fn webhook_deliveries(
        &self,
        id: &str,
        before: Option<u64>,
        limit: u32,
    ) -> Result<Vec<WebhookDelivery>, ServiceError> {
        self.webhook(id).await?;
        let limit = limit.clamp(1, MAX_DELIVERIES_PAGE);
        Ok(self.app.store.webhook_deliveries(id, before, limit).await?)
    }

    /// Disables a subscription (reason required); `Conflict` when it is disabled already.
    pub async fn disable_webhook(
        &self,
        who: &Principal,
        id: &str,
        reason: super::Reason,
    ) -> Result<WebhookRecord, ServiceError> {
        let reason = reason.into_inner().ok_or_else(|| {
            ServiceError::Unprocessable("a non-empty `reason` is required".into())
        })?;
        let hook = self.webhook(id).await?;
        let detail = WebhookChanged {
            webhook_id: id.to_owned(),
            reason: Some(reason.clone()),
            failures: hook.failures,
        };
        let audit = event(&actor(who), Action::WebhookDisabled, &detail)?;
        let hook = self
            .app
            .store
            .change_webhook(id, WebhookChange::Disable { reason }, audit)
            .await?;
        tracing::info!(target: "hallmark::audit", action = %Action::WebhookDisabled,
            webhook = %hook.id, actor = %actor(who));
        Ok(hook)
    }

    /// Enables a disabled subscription: deliveries resume from its cursor (nothing that
    /// happened meanwhile is skipped), failures reset. `Conflict` when it is active.
    pub async fn enable_webhook(
        &self,
        who: &Principal,
        id: &str,
    ) -> Result<WebhookRecord, ServiceError> {
        let hook = self.webhook(id).await?;
        let detail = WebhookChanged {
            webhook_id: id.to_owned(),
            reason: None,
            failures: hook.failures,
        };
        let audit = event(&actor(who), Action::WebhookEnabled, &detail)?;
        let hook = self
            .app
            .store
            .change_webhook(id, WebhookChange::Enable, audit)
            .await?;
        tracing::info!(target: "hallmark::audit", action = %Action::WebhookEnabled,
            webhook = %hook.id, actor = %actor(who));
        Ok(hook)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn types_are_known_deduplicated_and_not_empty() {
        let t = |v: &[&str]| checked_types(&v.iter().map(|s| (*s).to_owned()).collect::<Vec<_>>());
        assert_eq!(
            t(&[
                "eu.dpp.passport.published",
                " eu.dpp.passport.published",
                "*"
            ])
            .unwrap(),
            ["eu.dpp.passport.published", "*"]
        );
        assert!(t(&[]).is_err());
        assert!(t(&["eu.dpp.passport.read"]).is_err());
    }

    #[test]
    fn ids_are_uuids() {
        assert_eq!(
            parse_webhook_id("0190C2F4-8D3E-7B1A-9C4D-2E5F6A7B8C9D").unwrap(),
            "0190c2f4-8d3e-7b1a-9c4d-2e5f6a7b8c9d"
        );
        assert_eq!(parse_webhook_id("x").unwrap_err(), ServiceError::NotFound);
    }
}
