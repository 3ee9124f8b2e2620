//! Signed webhooks (issue 21; docs/events.md, "Webhooks"): the operator's subscriptions
//! receive the outbox's CloudEvents over HTTP(S), signed in the Standard Webhooks format
//! (`hallmark_core::webhook`).
//!
//! - **Where to.** [`WebhookSettings::check_destination`] (`crate::config::webhooks`): `https://` to a host the operator
//!   listed (`HALLMARK_WEBHOOK_ALLOWED_HOSTS`), plain `http://` only to a loopback host
//!   (listed, or any in development) — the node does not become a probe into the operator's
//!   network for whoever holds an admin key.
//! - **The secret** of a subscription is derived from the node secret and its id
//!   (`IntegrityKeys::webhook_secret`), shown once at creation, never stored.
//! - **The dispatcher** ([`spawn`]): one per database at a time (the `webhooks` lease). It
//!   looks for the active subscriptions that are due every [`IDLE`] and runs one delivery
//!   task per subscription, independently (a slow or failing receiver holds up no other
//!   subscription's deliveries), which delivers its next outbox events in order:
//!   rows of types it does not receive move its cursor on; a 2xx answer logs the attempt and
//!   moves the cursor past the event; anything else logs the attempt, counts a consecutive
//!   failure and waits ([`webhook::Schedule::retry_delay`]: 5 s doubling to 1 h) before trying the
//!   same event again; after [`webhook::Schedule::max_failures`] in a row the subscription is
//!   disabled (audited, actor `node`). Enabling it again resumes from its cursor: nothing
//!   that happened meanwhile is skipped.
//! - **At least once.** The cursor moves after the receiver's answer is logged; a node that
//!   dies in between sends that event again (same `webhook-id`: receivers de-duplicate by
//!   it).

use crate::app::AppState;
pub use crate::config::WebhookSettings;
use crate::outbound::{self, FetchError, Outgoing};
use hallmark_core::tlog::event::{Action, Detail, WebhookChanged};
use hallmark_core::webhook;
use hallmark_store::{AuditEvent, OutboxRecord, WebhookAttempt, WebhookProgress, WebhookRecord};
use hallmark_store::{StoreError, WebhookStatus};
use hyper::header::{HeaderName, CONTENT_TYPE};
use hyper::Method;
use std::collections::HashMap;
use std::time::{Duration, Instant};
use time::OffsetDateTime;
use tokio::sync::watch;
use tokio::task::JoinHandle;

/// How long the dispatcher's lease lasts; renewed once half of it has passed.
pub const LEASE: Duration = Duration::from_secs(30);
/// Pause between rounds when nothing was due.
pub const IDLE: Duration = Duration::from_millis(500);
/// Pause when another node holds the lease.
pub const STANDBY: Duration = Duration::from_secs(2);
/// Outbox rows one subscription handles per round.
pub const BATCH: u32 = 100;
/// The actor of an automatic disabling.
pub const NODE_ACTOR: &str = "node";

/// Whether a subscription receives events of type `topic`.
pub fn receives(hook: &WebhookRecord, topic: &str) -> bool {
    hook.types.iter().any(|t| t == topic || t == "*")
}

/// Starts the dispatcher; it ends when `stop` turns true.
pub fn spawn(app: AppState, mut stop: watch::Receiver<bool>) -> JoinHandle<std::io::Result<()>> {
    tokio::spawn(async move {
        let holder = crate::relay::holder_name();
        let lease = time::Duration::try_from(LEASE).unwrap_or(time::Duration::seconds(30));
        let mut held_until = OffsetDateTime::UNIX_EPOCH;
        // The deliveries under way, one task per subscription at most: a subscription whose
        // task ended (delivered its batch, or failed and now waits) is taken up again by a
        // later look, independently of the others still under way.
        let mut tasks = tokio::task::JoinSet::new();
        let mut in_flight: HashMap<tokio::task::Id, String> = HashMap::new();
        loop {
            let look = async {
                let now = OffsetDateTime::now_utc();
                if held_until - now < lease / 2 {
                    if !app
                        .store
                        .claim_lease("webhooks", &holder, now, now + lease)
                        .await?
                    {
                        held_until = OffsetDateTime::UNIX_EPOCH;
                        return Ok::<Duration, StoreError>(STANDBY);
                    }
                    held_until = now + lease;
                }
                for hook in due(&app, now).await? {
                    if in_flight.values().any(|id| *id == hook.id) {
                        continue;
                    }
                    let id = hook.id.clone();
                    let app = app.clone();
                    let task = tasks.spawn(async move { deliver(&app, hook).await });
                    in_flight.insert(task.id(), id);
                }
                Ok(IDLE)
            };
            let pause = tokio::select! {
                r = look => r.unwrap_or_else(|e| {
                    tracing::warn!(error = %e, "webhook dispatcher");
                    STANDBY
                }),
                _ = stop.wait_for(|s| *s) => return Ok(()),
            };
            // Wait for the pause, the end of a delivery task (look again at once when it has
            // more to send), or the stop.
            let deadline = tokio::time::Instant::now() + pause;
            loop {
                tokio::select! {
                    () = tokio::time::sleep_until(deadline) => break,
                    Some(done) = tasks.join_next_with_id(), if !tasks.is_empty() => {
                        let (task, more) = match done {
                            Ok((task, Ok(more))) => (task, more),
                            Ok((task, Err(e))) => {
                                tracing::warn!(error = %e, "webhook delivery");
                                (task, false)
                            }
                            Err(e) => {
                                tracing::error!(error = %e, "webhook delivery task");
                                (e.id(), false)
                            }
                        };
                        in_flight.remove(&task);
                        if more {
                            break;
                        }
                    }
                    _ = stop.wait_for(|s| *s) => {
                        tasks.abort_all();
                        return Ok(());
                    }
                }
            }
        }
    })
}

/// The active subscriptions whose next attempt is due at `now`.
async fn due(app: &AppState, now: OffsetDateTime) -> Result<Vec<WebhookRecord>, StoreError> {
    Ok(app
        .store
        .webhooks()
        .await?
        .into_iter()
        .filter(|h| h.status == WebhookStatus::Active && h.next_attempt_at <= now)
        .collect())
}

/// Delivers one subscription's next events; `true` when it may have more right away.
async fn deliver(app: &AppState, mut hook: WebhookRecord) -> Result<bool, StoreError> {
    let settings = app.webhooks.get().cloned().unwrap_or_default();
    let rows = app.store.outbox(hook.cursor, BATCH).await?;
    let full = rows.len() == BATCH as usize;
    let mut handled = hook.cursor;
    for row in rows {
        if !receives(&hook, &row.topic) {
            handled = row.id;
            continue;
        }
        let started = OffsetDateTime::now_utc();
        let clock = Instant::now();
        let outcome = send(app, &settings, &hook, &row, started).await;
        let mut attempt = WebhookAttempt {
            webhook_id: hook.id.clone(),
            outbox_id: row.id,
            attempt: hook.failures.saturating_add(1),
            at: started,
            status_code: None,
            error: None,
            duration_ms: u64::try_from(clock.elapsed().as_millis()).unwrap_or(u64::MAX),
        };
        let slug = match outcome {
            Ok(status) => {
                attempt.status_code = Some(status);
                None
            }
            Err((slug, e)) => {
                attempt.error = Some(e);
                Some(slug)
            }
        };
        let now = OffsetDateTime::now_utc();
        if attempt.ok() {
            handled = row.id;
            hook.failures = 0;
            let progress = WebhookProgress {
                cursor: handled,
                failures: 0,
                next_attempt_at: now,
            };
            app.store
                .record_webhook_attempt(attempt, progress, None)
                .await?;
            continue;
        }
        let reason = match (slug, attempt.status_code) {
            (Some(slug), _) => slug,
            (_, Some(c)) if (400..500).contains(&c) => "status-4xx",
            (_, Some(c)) if (500..600).contains(&c) => "status-5xx",
            _ => "status-other",
        };
        if attempt.error.is_none() {
            attempt.error = attempt.status_code.map(|c| format!("answered HTTP {c}"));
        }
        app.metrics.webhook_failure(reason);
        let failures = hook.failures.saturating_add(1);
        let wait = time::Duration::try_from(settings.schedule.retry_delay(failures))
            .unwrap_or(time::Duration::HOUR);
        let progress = WebhookProgress {
            cursor: handled,
            failures,
            next_attempt_at: now + wait,
        };
        let disable = if settings.schedule.gives_up(failures) {
            let why = format!(
                "disabled by the node after {failures} consecutive failed deliveries (last: {})",
                attempt.error.as_deref().unwrap_or(reason)
            );
            let detail = WebhookChanged {
                webhook_id: hook.id.clone(),
                reason: Some(why.clone()),
                failures,
            };
            let mut event = AuditEvent::of(now, NODE_ACTOR, Action::WebhookDisabled);
            event.detail = detail
                .to_value()
                .map_err(|e| StoreError::Constraint(e.to_string()))?;
            tracing::warn!(target: "hallmark::audit", action = %Action::WebhookDisabled,
                webhook = %hook.id, failures, "webhook subscription disabled");
            Some((why.chars().take(1000).collect(), event))
        } else {
            tracing::info!(webhook = %hook.id, failures, reason, "webhook delivery failed");
            None
        };
        app.store
            .record_webhook_attempt(attempt, progress, disable)
            .await?;
        return Ok(false);
    }
    if handled > hook.cursor {
        app.store.advance_webhook(&hook.id, handled).await?;
    }
    Ok(full)
}

/// One attempt: the receiver's status code, or why there is none (a metrics slug and the
/// text for the log).
async fn send(
    app: &AppState,
    settings: &WebhookSettings,
    hook: &WebhookRecord,
    row: &OutboxRecord,
    at: OffsetDateTime,
) -> Result<u16, (&'static str, String)> {
    // The destination is checked again: the allow-list may have shrunk since creation.
    let target = settings
        .check_destination(&hook.url)
        .map_err(|e| ("not-allowed", e.to_string()))?;
    let id = format!("{}#{}", app.issuer.did, row.audit_seq);
    let timestamp = at.unix_timestamp();
    let secret = app.integrity.webhook_secret(hook.id.as_bytes());
    let signature = webhook::signature(&secret[..], &id, timestamp, &row.payload);
    let request = Outgoing {
        method: Method::POST,
        target: &target,
        accept: "*/*",
        headers: vec![
            (CONTENT_TYPE, "application/cloudevents+json".to_owned()),
            (HeaderName::from_static(webhook::HEADER_ID), id),
            (
                HeaderName::from_static(webhook::HEADER_TIMESTAMP),
                timestamp.to_string(),
            ),
            (
                HeaderName::from_static(webhook::HEADER_SIGNATURE),
                signature,
            ),
        ],
        body: Some(row.payload.clone()),
    };
    match outbound::send_within(&request, settings.schedule.timeout).await {
        Ok(answer) => Ok(answer.status),
        Err(e) => {
            let slug = match &e {
                FetchError::Url { .. } | FetchError::Refused { .. } => "not-allowed",
                FetchError::Connect { .. } => "connect",
                FetchError::Tls { .. } | FetchError::Roots(_) => "tls",
                FetchError::Http { .. } => "http",
                FetchError::Timeout { .. } => "timeout",
            };
            Err((slug, e.to_string()))
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn receives_its_types_or_all() {
        let mut hook = WebhookRecord {
            id: "x".into(),
            url: "https://h.example/".into(),
            types: vec!["eu.dpp.key.revoked".into()],
            status: WebhookStatus::Active,
            disabled_reason: None,
            cursor: 0,
            failures: 0,
            next_attempt_at: OffsetDateTime::UNIX_EPOCH,
            created_at: OffsetDateTime::UNIX_EPOCH,
            changed_at: OffsetDateTime::UNIX_EPOCH,
        };
        assert!(receives(&hook, "eu.dpp.key.revoked"));
        assert!(!receives(&hook, "eu.dpp.key.retired"));
        hook.types = vec!["*".into()];
        assert!(receives(&hook, "eu.dpp.key.retired"));
    }
}
