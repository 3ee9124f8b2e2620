//! The audit log as this node's change feed.
//!
//! Every change is an audit event, numbered gaplessly in commit order (the store's audit
//! head). A node sees its own changes at once (the handlers drop the cache entries they
//! touch after the commit); this task makes it see the changes of *other* nodes sharing the
//! database: once per [`FOLLOW_INTERVAL`] it reads the audit events appended since it last
//! looked and drops what they touch from the read-path caches:
//!
//! - an event naming a passport → that passport's cached status and current version;
//! - `api-key.revoked` → that key's cached lookup;
//! - `signing-key.*` → the cached DID document;
//! - `status-list.published` → the cached latest status lists.
//!
//! So a suspension or new version made through another node is served here within about
//! one interval, and the caches can keep entries long ([`crate::cache::PASSPORT_STATE_TTL`]
//! is only the bound for when the store cannot be read). An idle node pays one small query
//! per interval (`audit_len`).

use crate::app::App;
use hallmark_core::tlog::event::Action;
use hallmark_store::{AuditEvent, StoreError};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::watch;
use tokio::task::JoinHandle;

/// How often the node looks for audit events appended by other nodes.
pub const FOLLOW_INTERVAL: Duration = Duration::from_secs(1);
/// Audit events read per query.
const PAGE: u64 = 1_000;
/// Beyond this many new events at once, the caches are emptied instead of read through.
const MAX_FOLLOW: u64 = 50_000;

/// Where the feed has been applied up to (the audit sequence number of the last event).
pub struct Follower {
    seen: u64,
}

impl Follower {
    /// Starts at the store's current end. Whatever the caches hold was read before now, so
    /// they are emptied once: an event committed between such a read and this start would
    /// otherwise never be applied.
    pub async fn start(app: &App) -> Result<Follower, StoreError> {
        let seen = app.store.audit_len().await?;
        clear(app);
        Ok(Follower { seen })
    }

    /// Applies the events appended since the last call; returns how many there were.
    pub async fn step(&mut self, app: &App) -> Result<u64, StoreError> {
        let end = app.store.audit_len().await?;
        if end <= self.seen {
            return Ok(0);
        }
        let new = end - self.seen;
        if new > MAX_FOLLOW {
            clear(app);
            self.seen = end;
            return Ok(new);
        }
        while self.seen < end {
            let limit = u32::try_from((end - self.seen).min(PAGE)).unwrap_or(u32::MAX);
            let page = app.store.list_audit(self.seen + 1, limit).await?;
            let Some(last) = page.last().map(|r| r.seq) else {
                break;
            };
            for record in &page {
                apply(app, &record.event);
            }
            self.seen = last;
        }
        Ok(new)
    }
}

fn clear(app: &App) {
    app.passport_states.clear();
    app.resolves.clear();
    app.api_keys.clear();
    app.did_document_cache.invalidate();
    app.status_list_changed();
}

/// Drops what one event may have changed.
fn apply(app: &App, event: &AuditEvent) {
    // A restricted read changes nothing a cache holds.
    if event.known_action() == Some(Action::PassportRead) {
        return;
    }
    if let Some(id) = &event.passport {
        app.passport_changed(id);
    }
    match event.known_action() {
        Some(Action::ApiKeyRevoked | Action::ApiKeyRehashed) => {
            if let Some(prefix) = &event.subject {
                app.api_keys.invalidate(prefix);
            }
        }
        Some(Action::StatusListPublished) => app.status_list_changed(),
        Some(a) if a.is_signing_key() => app.did_document_cache.invalidate(),
        _ => {}
    }
}

/// Starts the follower; it stops when `stop` becomes true (or its sender is dropped). A
/// store error is logged and retried next interval (meanwhile the caches' own lifetimes
/// bound what they serve).
pub fn spawn(app: Arc<App>, mut stop: watch::Receiver<bool>) -> JoinHandle<std::io::Result<()>> {
    tokio::spawn(async move {
        let mut follower = None;
        loop {
            match &mut follower {
                None => match Follower::start(&app).await {
                    Ok(f) => follower = Some(f),
                    Err(e) => tracing::warn!(error = %e, "change feed: cannot read the store"),
                },
                Some(f) => {
                    if let Err(e) = f.step(&app).await {
                        tracing::warn!(error = %e, "change feed: cannot read the store");
                    }
                }
            }
            tokio::select! {
                _ = tokio::time::sleep(FOLLOW_INTERVAL) => {}
                _ = stop.wait_for(|s| *s) => break,
            }
        }
        Ok(())
    })
}
