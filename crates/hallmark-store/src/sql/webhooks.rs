//! Webhook subscriptions and their delivery log (issue 21; docs/events.md, "Webhooks";
//! docs/database.md, "Webhooks"). Creating, disabling and enabling a subscription are
//! audited writes (`webhook.*`, through the writer); a delivery attempt's log row and its
//! subscription's progress are one plain transaction (no audit head: delivery is not a
//! change of the node's state), unless the attempt disables the subscription — then it is
//! an audited write too. No secret is stored.

use hallmark_core::tlog::event::Action;
use time::OffsetDateTime;

use super::audit::append_audit_tx;
use super::db::{query, Columns, SqlDb};
use super::rows::{seq_i64, seq_u64, utc};
use super::writer::{OpFuture, Tags, WriteTx};
use super::{Backend, SqlStore};
use crate::error::{Result, StoreError};
use crate::model::{
    AuditEvent, NewWebhook, WebhookAttempt, WebhookChange, WebhookDelivery, WebhookProgress,
    WebhookRecord, WebhookStatus,
};

const COLS: &str = "id, url, types, status, disabled_reason, cursor, failures, \
     next_attempt_at, created_at, changed_at";
const DELIVERY_COLS: &str = "id, webhook_id, outbox_id, attempt, at, status_code, error, \
     duration_ms";

/// The only lease name.
pub const LEASES: &[&str] = &["webhooks"];

fn corrupt(what: &str, e: impl std::fmt::Display) -> StoreError {
    StoreError::Corrupt(format!("webhook {what}: {e}"))
}

fn record(row: &impl Columns) -> Result<WebhookRecord> {
    let types: String = row.col("types")?;
    let status: String = row.col("status")?;
    let failures: i32 = row.col("failures")?;
    Ok(WebhookRecord {
        id: row.col("id")?,
        url: row.col("url")?,
        types: serde_json::from_str(&types).map_err(|e| corrupt("types", e))?,
        status: match status.as_str() {
            "active" => WebhookStatus::Active,
            "disabled" => WebhookStatus::Disabled,
            other => return Err(corrupt("status", other)),
        },
        disabled_reason: row.col("disabled_reason")?,
        cursor: seq_u64(row.col("cursor")?)?,
        failures: u32::try_from(failures).map_err(|e| corrupt("failures", e))?,
        next_attempt_at: row.col("next_attempt_at")?,
        created_at: row.col("created_at")?,
        changed_at: row.col("changed_at")?,
    })
}

fn delivery(row: &impl Columns) -> Result<WebhookDelivery> {
    let attempt: i32 = row.col("attempt")?;
    let status_code: Option<i32> = row.col("status_code")?;
    let duration: i64 = row.col("duration_ms")?;
    Ok(WebhookDelivery {
        id: seq_u64(row.col("id")?)?,
        attempt: WebhookAttempt {
            webhook_id: row.col("webhook_id")?,
            outbox_id: seq_u64(row.col("outbox_id")?)?,
            attempt: u32::try_from(attempt).map_err(|e| corrupt("attempt", e))?,
            at: row.col("at")?,
            status_code: status_code
                .map(u16::try_from)
                .transpose()
                .map_err(|e| corrupt("status code", e))?,
            error: row.col("error")?,
            duration_ms: u64::try_from(duration).map_err(|e| corrupt("duration", e))?,
        },
    })
}

fn check_event(event: &AuditEvent, action: Action) -> Result<()> {
    if event.known_action() != Some(action) {
        return Err(StoreError::Constraint(format!(
            "a webhook's audit event is {action}, not {:?}",
            event.action
        )));
    }
    if event.passport.is_some() {
        return Err(StoreError::Constraint(
            "a webhook's audit event names no passport".to_owned(),
        ));
    }
    Ok(())
}

fn small(v: u32, what: &str) -> Result<i32> {
    i32::try_from(v).map_err(|_| StoreError::Constraint(format!("{what} out of range")))
}

async fn select<B: Backend>(tx: &mut WriteTx<B>, id: &str) -> Result<WebhookRecord> {
    let sql = format!("SELECT {COLS} FROM webhooks WHERE id = $1{}", B::FOR_UPDATE);
    query(&sql)
        .bind(id)
        .fetch_optional(&mut *tx)
        .await?
        .as_ref()
        .map(record)
        .transpose()?
        .ok_or_else(|| StoreError::NotFound(format!("webhook {id}")))
}

pub(super) async fn create<B: Backend>(
    s: &SqlStore<B>,
    new: NewWebhook,
    mut audit: AuditEvent,
) -> Result<WebhookRecord> {
    check_event(&audit, Action::WebhookCreated)?;
    if new.id.len() != 36 || new.types.is_empty() {
        return Err(StoreError::Constraint(
            "a webhook has a UUID and at least one event type".to_owned(),
        ));
    }
    audit.subject = Some(new.id.clone());
    let types =
        serde_json::to_string(&new.types).map_err(|e| StoreError::Constraint(e.to_string()))?;
    s.write(
        move |tx: &mut WriteTx<B>, tags: Tags| -> OpFuture<'_, WebhookRecord> {
            Box::pin(async move {
                let now = utc(audit.at)?;
                let last = query("SELECT max(id) AS last FROM outbox")
                    .fetch_one(&mut *tx)
                    .await?;
                let last: Option<i64> = last.col("last")?;
                let cursor = last.unwrap_or(0);
                query(
                    "INSERT INTO webhooks (id, url, types, status, disabled_reason, cursor, \
                     failures, next_attempt_at, created_at, changed_at) \
                     VALUES ($1, $2, $3, 'active', NULL, $4, 0, $5, $5, $5)",
                )
                .bind(new.id.as_str())
                .bind(new.url.as_str())
                .bind(types)
                .bind(cursor)
                .bind(now)
                .execute(&mut *tx)
                .await?;
                append_audit_tx(tx, &tags, &audit, None).await?;
                Ok(WebhookRecord {
                    id: new.id,
                    url: new.url,
                    types: new.types,
                    status: WebhookStatus::Active,
                    disabled_reason: None,
                    cursor: seq_u64(cursor)?,
                    failures: 0,
                    next_attempt_at: now,
                    created_at: now,
                    changed_at: now,
                })
            })
        },
    )
    .await
}

pub(super) async fn one<B: Backend>(s: &SqlStore<B>, id: &str) -> Result<Option<WebhookRecord>> {
    query(&format!("SELECT {COLS} FROM webhooks WHERE id = $1"))
        .bind(id)
        .fetch_optional(&s.pool)
        .await?
        .as_ref()
        .map(record)
        .transpose()
}

pub(super) async fn all<B: Backend>(s: &SqlStore<B>) -> Result<Vec<WebhookRecord>> {
    query(&format!(
        "SELECT {COLS} FROM webhooks ORDER BY created_at, id"
    ))
    .fetch_all(&s.pool)
    .await?
    .iter()
    .map(record)
    .collect()
}

pub(super) async fn change<B: Backend>(
    s: &SqlStore<B>,
    id: &str,
    change: WebhookChange,
    mut audit: AuditEvent,
) -> Result<WebhookRecord> {
    let action = match &change {
        WebhookChange::Disable { .. } => Action::WebhookDisabled,
        WebhookChange::Enable => Action::WebhookEnabled,
    };
    check_event(&audit, action)?;
    audit.subject = Some(id.to_owned());
    let id = id.to_owned();
    s.write(
        move |tx: &mut WriteTx<B>, tags: Tags| -> OpFuture<'_, WebhookRecord> {
            Box::pin(async move {
                let now = utc(audit.at)?;
                let mut hook = select(tx, &id).await?;
                match &change {
                    WebhookChange::Disable { reason } => {
                        if hook.status == WebhookStatus::Disabled {
                            return Err(StoreError::Conflict(format!(
                                "webhook {id} is already disabled"
                            )));
                        }
                        hook.status = WebhookStatus::Disabled;
                        hook.disabled_reason = Some(reason.clone());
                    }
                    WebhookChange::Enable => {
                        if hook.status == WebhookStatus::Active {
                            return Err(StoreError::Conflict(format!(
                                "webhook {id} is already active"
                            )));
                        }
                        hook.status = WebhookStatus::Active;
                        hook.disabled_reason = None;
                        hook.failures = 0;
                        hook.next_attempt_at = now;
                    }
                }
                hook.changed_at = now;
                query(
                    "UPDATE webhooks SET status = $1, disabled_reason = $2, failures = $3, \
                     next_attempt_at = $4, changed_at = $5 WHERE id = $6",
                )
                .bind(hook.status.as_str())
                .bind(hook.disabled_reason.clone())
                .bind(small(hook.failures, "failures")?)
                .bind(utc(hook.next_attempt_at)?)
                .bind(now)
                .bind(id.as_str())
                .execute(&mut *tx)
                .await?;
                append_audit_tx(tx, &tags, &audit, None).await?;
                Ok(hook)
            })
        },
    )
    .await
}

/// The attempt's log row and the subscription's progress, on any executor.
macro_rules! write_attempt {
    ($tx:expr, $attempt:expr, $progress:expr) => {{
        let a: &WebhookAttempt = $attempt;
        let p: &WebhookProgress = $progress;
        let error = a.error.as_ref().map(|e| {
            let mut e = e.clone();
            if e.len() > 1000 {
                let mut cut = 1000;
                while !e.is_char_boundary(cut) {
                    cut -= 1;
                }
                e.truncate(cut);
            }
            e
        });
        let at = utc(a.at)?;
        let updated = query(
            "UPDATE webhooks SET cursor = CASE WHEN $1 > cursor THEN $1 ELSE cursor END, \
             failures = $2, next_attempt_at = $3, changed_at = $4 WHERE id = $5",
        )
        .bind(seq_i64(p.cursor))
        .bind(small(p.failures, "failures")?)
        .bind(utc(p.next_attempt_at)?)
        .bind(at)
        .bind(a.webhook_id.as_str())
        .execute(&mut *$tx)
        .await?;
        if updated != 1 {
            return Err(StoreError::NotFound(format!("webhook {}", a.webhook_id)));
        }
        query(
            "INSERT INTO webhook_deliveries (webhook_id, outbox_id, attempt, at, status_code, \
             error, duration_ms) VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(a.webhook_id.as_str())
        .bind(seq_i64(a.outbox_id))
        .bind(small(a.attempt, "attempt")?)
        .bind(at)
        .bind(a.status_code.map(i32::from))
        .bind(error)
        .bind(seq_i64(a.duration_ms))
        .execute(&mut *$tx)
        .await?;
    }};
}

pub(super) async fn record_attempt<B: Backend>(
    s: &SqlStore<B>,
    attempt: WebhookAttempt,
    progress: WebhookProgress,
    disable: Option<(String, AuditEvent)>,
) -> Result<()> {
    let Some((reason, mut audit)) = disable else {
        let mut tx = B::Db::begin_with(&s.pool, B::BEGIN_PLAIN).await?;
        write_attempt!(&mut tx, &attempt, &progress);
        B::Db::commit(tx).await?;
        return Ok(());
    };
    check_event(&audit, Action::WebhookDisabled)?;
    audit.subject = Some(attempt.webhook_id.clone());
    s.write(move |tx: &mut WriteTx<B>, tags: Tags| -> OpFuture<'_, ()> {
        Box::pin(async move {
            let hook = select(tx, &attempt.webhook_id).await?;
            write_attempt!(tx, &attempt, &progress);
            if hook.status == WebhookStatus::Active {
                query(
                    "UPDATE webhooks SET status = 'disabled', disabled_reason = $1 \
                         WHERE id = $2",
                )
                .bind(reason.as_str())
                .bind(attempt.webhook_id.as_str())
                .execute(&mut *tx)
                .await?;
                append_audit_tx(tx, &tags, &audit, None).await?;
            }
            Ok(())
        })
    })
    .await
}

pub(super) async fn advance<B: Backend>(s: &SqlStore<B>, id: &str, cursor: u64) -> Result<()> {
    let done =
        query("UPDATE webhooks SET cursor = $1, changed_at = $2 WHERE id = $3 AND cursor < $1")
            .bind(seq_i64(cursor))
            .bind(utc(OffsetDateTime::now_utc())?)
            .bind(id)
            .execute(&s.pool)
            .await?;
    if done == 0 && one(s, id).await?.is_none() {
        return Err(StoreError::NotFound(format!("webhook {id}")));
    }
    Ok(())
}

pub(super) async fn deliveries<B: Backend>(
    s: &SqlStore<B>,
    id: &str,
    before: Option<u64>,
    limit: u32,
) -> Result<Vec<WebhookDelivery>> {
    let before = before.map_or(i64::MAX, seq_i64);
    query(&format!(
        "SELECT {DELIVERY_COLS} FROM webhook_deliveries WHERE webhook_id = $1 AND id < $2 \
         ORDER BY id DESC LIMIT $3"
    ))
    .bind(id)
    .bind(before)
    .bind(i64::from(limit.clamp(1, 1000)))
    .fetch_all(&s.pool)
    .await?
    .iter()
    .map(delivery)
    .collect()
}

pub(super) async fn claim_lease<B: Backend>(
    s: &SqlStore<B>,
    name: &str,
    holder: &str,
    now: OffsetDateTime,
    until: OffsetDateTime,
) -> Result<bool> {
    if !LEASES.contains(&name) {
        return Err(StoreError::Constraint(format!("no lease named {name:?}")));
    }
    if holder.is_empty() || holder.len() > 128 {
        return Err(StoreError::Constraint(
            "a lease holder is 1 to 128 bytes".to_owned(),
        ));
    }
    let done = query(
        "UPDATE leases SET holder = $1, lease_until = $2 \
         WHERE name = $3 AND (holder IS NULL OR holder = $1 OR lease_until IS NULL \
         OR lease_until < $4)",
    )
    .bind(holder)
    .bind(utc(until)?)
    .bind(name)
    .bind(utc(now)?)
    .execute(&s.pool)
    .await?;
    Ok(done == 1)
}
