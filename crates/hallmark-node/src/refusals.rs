//! Refused requests leave bounded traces: the [`AuditSink`] decorator that aggregates the
//! security events of refused requests (`auth.failed`, `auth.throttled`, `rate.limited`)
//! before they become permanent audit rows (and transparency-log leaves).
//!
//! Time is cut into minutes (consecutive buckets of at least [`RefusalLimits::window`], 60 s
//! outside tests; a bucket ends when the flusher task closes it). With
//! G = [`RefusalLimits::per_window`] (`HALLMARK_REFUSAL_EVENTS_PER_MINUTE`):
//!
//! - the first refusal of a (client address, kind) in a minute is written at once, as
//!   itself (`count` 1), if the minute's budget of G rows is not spent (kinds:
//!   `auth.throttled`, `rate.limited`, and `auth.failed` once per failure reason — at most 9
//!   — so the first unknown key, wrong secret, revoked or expired key each keep their detail);
//! - the following ones of that (client, kind) in the minute are counted, and written as one
//!   [`SecurityEvent::Repeated`] with their count when the minute ends — charged to the next
//!   minute's budget, heaviest counts first;
//! - whatever finds the budget spent is counted instead into one
//!   [`SecurityEvent::RefusalsFolded`] (`refusals.folded`, reason `ceiling`) written when the
//!   minute ends, outside the budget;
//! - when the node stops, everything still counted is written as one more `refusals.folded`
//!   row (reason `shutdown`).
//!
//! **Bound:** per minute, at most 2 rows per (client address, kind) — the first refusal and
//! the previous minute's `Repeated` — hence at most 22 per client address (11 kinds; the
//! failed-auth throttle further caps `auth.failed` at `HALLMARK_AUTH_FAILURES_PER_MINUTE`),
//! and at most G + 1 rows over all clients (G refusal rows and one `refusals.folded`);
//! stopping the node adds one row. Every refusal is counted
//! exactly once: the sum of the `count`s of those rows is the number of refused requests.
//! Memory holds at most G (client, kind) entries. Authenticated, accountable events (the
//! admin login) pass through unchanged; so does everything that is not a refusal.

use crate::audit::{AuditSink, AuthFailure, BoxFuture, FoldReason, RefusalKind, SecurityEvent};
use std::collections::{BTreeMap, HashMap};
use std::net::IpAddr;
use std::num::NonZeroU32;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};
use time::OffsetDateTime;
use tokio::sync::watch;
use tokio::task::JoinHandle;

/// Default G: refusal rows per minute over all clients.
pub const DEFAULT_REFUSAL_EVENTS_PER_MINUTE: u32 = 120;

/// Most rate-limited API key ids listed in one [`SecurityEvent::Repeated`].
pub const MAX_KEY_IDS: usize = 8;

/// The aggregation's bounds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RefusalLimits {
    /// G: refusal rows per window over all clients (`HALLMARK_REFUSAL_EVENTS_PER_MINUTE`).
    pub per_window: NonZeroU32,
    /// The window: one minute (shorter only in tests).
    pub window: Duration,
}

impl Default for RefusalLimits {
    fn default() -> Self {
        RefusalLimits {
            per_window: NonZeroU32::new(DEFAULT_REFUSAL_EVENTS_PER_MINUTE)
                .unwrap_or(NonZeroU32::MIN),
            window: Duration::from_secs(60),
        }
    }
}

/// Refusals of one (client, kind) counted after its first in the current minute.
#[derive(Debug, Default)]
struct Pending {
    count: u64,
    first_at: Option<OffsetDateTime>,
    last_at: Option<OffsetDateTime>,
    reasons: BTreeMap<AuthFailure, u64>,
    key_ids: Vec<uuid::Uuid>,
}

impl Pending {
    fn add(&mut self, event: &SecurityEvent, at: OffsetDateTime) {
        self.count += 1;
        self.first_at.get_or_insert(at);
        self.last_at = Some(at);
        match event {
            SecurityEvent::AuthFailed { reason, .. } => {
                *self.reasons.entry(*reason).or_insert(0) += 1;
            }
            SecurityEvent::RateLimited {
                key_id: Some(id), ..
            } if self.key_ids.len() < MAX_KEY_IDS && !self.key_ids.contains(id) => {
                self.key_ids.push(*id);
            }
            _ => {}
        }
    }

    fn into_event(self, client: IpAddr, kind: RefusalKind) -> Option<SecurityEvent> {
        Some(SecurityEvent::Repeated {
            kind,
            client,
            count: self.count,
            first_at: self.first_at?,
            last_at: self.last_at?,
            reasons: self.reasons,
            key_ids: self.key_ids,
        })
    }
}

/// Refusals counted without a row of their own.
#[derive(Debug, Default)]
struct Folded {
    count: u64,
    by_kind: BTreeMap<RefusalKind, u64>,
    first_at: Option<OffsetDateTime>,
    last_at: Option<OffsetDateTime>,
}

impl Folded {
    fn add(
        &mut self,
        kind: RefusalKind,
        count: u64,
        first: Option<OffsetDateTime>,
        last: Option<OffsetDateTime>,
    ) {
        if count == 0 {
            return;
        }
        self.count += count;
        *self.by_kind.entry(kind).or_insert(0) += count;
        self.first_at = match (self.first_at, first) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
        self.last_at = self.last_at.max(last);
    }

    fn take(&mut self, reason: FoldReason) -> Option<SecurityEvent> {
        let f = std::mem::take(self);
        (f.count > 0).then_some(())?;
        Some(SecurityEvent::RefusalsFolded {
            count: f.count,
            by_kind: f.by_kind,
            first_at: f.first_at?,
            last_at: f.last_at?,
            reason,
        })
    }
}

/// What refusals are aggregated by: client address and kind, an authentication failure's
/// reason being part of its kind (the first failure of each reason — unknown key, wrong
/// secret of an existing key, revoked, expired… — keeps its own row with its detail).
type Key = (IpAddr, RefusalKind, Option<AuthFailure>);

/// The accounting (no I/O; time is an argument).
#[derive(Debug)]
struct State {
    per_window: u32,
    window: Duration,
    /// When the current minute may be closed.
    ends: Instant,
    /// Rows left in the current minute.
    budget: u32,
    /// (client, kind) whose first refusal this minute was written, with what followed.
    pending: HashMap<Key, Pending>,
    folded: Folded,
}

impl State {
    fn new(limits: RefusalLimits, now: Instant) -> Self {
        State {
            per_window: limits.per_window.get(),
            window: limits.window,
            ends: now + limits.window,
            budget: limits.per_window.get(),
            pending: HashMap::new(),
            folded: Folded::default(),
        }
    }

    /// Whether the event is written now (else it was counted).
    fn admit(&mut self, event: &SecurityEvent) -> bool {
        let Some((client, kind, at)) = event.refusal() else {
            return true;
        };
        let reason = match event {
            SecurityEvent::AuthFailed { reason, .. } => Some(*reason),
            _ => None,
        };
        let key = (client, kind, reason);
        if let Some(p) = self.pending.get_mut(&key) {
            p.add(event, at);
            return false;
        }
        if self.budget == 0 {
            self.folded.add(kind, 1, Some(at), Some(at));
            return false;
        }
        self.budget -= 1;
        self.pending.insert(key, Pending::default());
        true
    }

    /// If the minute may end at `now`: end it and return the rows it owes (its
    /// `refusals.folded`, then the `Repeated` counts charged to the new minute).
    fn roll(&mut self, now: Instant) -> Vec<SecurityEvent> {
        if now < self.ends {
            return Vec::new();
        }
        let mut rows: Vec<SecurityEvent> =
            self.folded.take(FoldReason::Ceiling).into_iter().collect();
        self.ends = now + self.window;
        self.budget = self.per_window;
        let mut pending: Vec<_> = self.pending.drain().filter(|(_, p)| p.count > 0).collect();
        pending.sort_by_key(|p| std::cmp::Reverse(p.1.count));
        for ((client, kind, _), p) in pending {
            if self.budget > 0 {
                if let Some(row) = p.into_event(client, kind) {
                    self.budget -= 1;
                    rows.push(row);
                }
            } else {
                self.folded.add(kind, p.count, p.first_at, p.last_at);
            }
        }
        rows
    }

    /// Everything still counted, as one row (the node is stopping).
    fn close(&mut self) -> Option<SecurityEvent> {
        for ((_, kind, _), p) in self.pending.drain() {
            self.folded.add(kind, p.count, p.first_at, p.last_at);
        }
        self.folded.take(FoldReason::Shutdown)
    }
}

/// The aggregating sink in front of the store's (see the module documentation).
pub struct Refusals {
    inner: Arc<dyn AuditSink>,
    state: Mutex<State>,
}

impl Refusals {
    /// Aggregates refusals before `inner`.
    pub fn new(inner: Arc<dyn AuditSink>, limits: RefusalLimits) -> Arc<Self> {
        Arc::new(Refusals {
            inner,
            state: Mutex::new(State::new(limits, Instant::now())),
        })
    }

    fn state(&self) -> MutexGuard<'_, State> {
        match self.state.lock() {
            Ok(g) => g,
            Err(p) => p.into_inner(),
        }
    }

    /// Ends the minute if it is over and writes what it owes.
    pub async fn flush_due(&self) {
        let rows = self.state().roll(Instant::now());
        for row in rows {
            self.inner.record(row).await;
        }
    }

    /// Writes everything still counted as one `refusals.folded` row (when the node stops,
    /// after the listeners have ended).
    pub async fn close(&self) {
        let row = self.state().close();
        if let Some(row) = row {
            self.inner.record(row).await;
        }
    }

    /// The task that ends each minute (until `stop`).
    pub fn spawn_flusher(
        self: Arc<Self>,
        mut stop: watch::Receiver<bool>,
    ) -> JoinHandle<std::io::Result<()>> {
        tokio::spawn(async move {
            loop {
                let ends = self.state().ends;
                tokio::select! {
                    () = async { let _ = stop.wait_for(|s| *s).await; } => return Ok(()),
                    () = tokio::time::sleep_until(ends.into()) => self.flush_due().await,
                }
            }
        })
    }
}

impl AuditSink for Refusals {
    fn record(&self, event: SecurityEvent) -> BoxFuture<'_, ()> {
        Box::pin(async move {
            let write = self.state().admit(&event);
            if write {
                self.inner.record(event).await;
            } else if let Some((client, kind, _)) = event.refusal() {
                tracing::debug!(target: "hallmark::audit", %client, action = kind.action().as_str(), "refusal counted");
            }
        })
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;
    use time::macros::datetime;

    const T: OffsetDateTime = datetime!(2026-11-22 10:00 UTC);

    fn failed(last: u8) -> SecurityEvent {
        SecurityEvent::AuthFailed {
            at: T,
            client: IpAddr::from([192, 0, 2, last]),
            reason: AuthFailure::UnknownKey,
            key_lookup_id: None,
            method: "GET".into(),
            path: "/api/v1/whoami".into(),
        }
    }

    fn throttled(last: u8) -> SecurityEvent {
        SecurityEvent::AuthThrottled {
            at: T,
            client: IpAddr::from([192, 0, 2, last]),
            retry_after_secs: 5,
        }
    }

    fn count(row: &SecurityEvent) -> u64 {
        match row {
            SecurityEvent::Repeated { count, .. } | SecurityEvent::RefusalsFolded { count, .. } => {
                *count
            }
            _ => 1,
        }
    }

    fn limits(g: u32) -> RefusalLimits {
        RefusalLimits {
            per_window: NonZeroU32::new(g).unwrap(),
            window: Duration::from_secs(60),
        }
    }

    #[test]
    fn one_client_one_kind_is_one_row_now_and_one_count_later() {
        let t0 = Instant::now();
        let mut s = State::new(limits(10), t0);
        assert!(s.admit(&failed(1)));
        for _ in 0..999 {
            assert!(!s.admit(&failed(1)));
        }
        // Another kind from the same client is its own key.
        assert!(s.admit(&throttled(1)));
        assert!(s.roll(t0 + Duration::from_secs(59)).is_empty());
        let rows = s.roll(t0 + Duration::from_secs(60));
        assert_eq!(rows.len(), 1);
        match &rows[0] {
            SecurityEvent::Repeated {
                kind,
                count,
                reasons,
                ..
            } => {
                assert_eq!(*kind, RefusalKind::AuthFailed);
                assert_eq!(*count, 999);
                assert_eq!(reasons.get(&AuthFailure::UnknownKey), Some(&999));
            }
            other => panic!("{other:?}"),
        }
        // The next minute starts afresh; its first refusal is written again.
        assert!(s.admit(&failed(1)));
        assert_eq!(s.close(), None);
    }

    #[test]
    fn many_clients_are_held_to_the_ceiling_and_every_refusal_is_counted_once() {
        let g = 5;
        let t0 = Instant::now();
        let mut s = State::new(limits(g), t0);
        let mut written = Vec::new();
        let mut refused = 0u64;
        let mut now = t0;
        for minute in 0..3u64 {
            let mut rows_this_minute = s.roll(now);
            for client in 0..50u8 {
                for _ in 0..(u64::from(client) % 4 + 1) {
                    refused += 1;
                    let e = if client % 2 == 0 {
                        failed(client)
                    } else {
                        throttled(client)
                    };
                    if s.admit(&e) {
                        rows_this_minute.push(e);
                    }
                }
            }
            assert!(
                rows_this_minute.len() <= g as usize + 1,
                "minute {minute}: {}",
                rows_this_minute.len()
            );
            let per_client = rows_this_minute
                .iter()
                .filter(|r| matches!(r, SecurityEvent::Repeated { client, .. } | SecurityEvent::AuthFailed { client, .. } | SecurityEvent::AuthThrottled { client, .. } if *client == IpAddr::from([192, 0, 2, 3])))
                .count();
            assert!(per_client <= 2);
            written.extend(rows_this_minute);
            now += Duration::from_secs(60);
        }
        let mut last = s.roll(now);
        assert!(last.len() <= g as usize + 1);
        written.append(&mut last);
        written.extend(s.close());
        assert_eq!(written.iter().map(count).sum::<u64>(), refused);
        assert!(written.iter().any(|r| matches!(
            r,
            SecurityEvent::RefusalsFolded {
                reason: FoldReason::Ceiling,
                ..
            }
        )));
        // Memory: at most G keys tracked.
        assert!(s.pending.is_empty());
    }

    #[test]
    fn heaviest_repeats_get_their_own_rows() {
        let t0 = Instant::now();
        let mut s = State::new(limits(2), t0);
        assert!(s.admit(&failed(1)));
        assert!(s.admit(&failed(2)));
        for _ in 0..3 {
            s.admit(&failed(1));
        }
        for _ in 0..7 {
            s.admit(&failed(2));
        }
        // Over the ceiling: folded.
        assert!(!s.admit(&failed(3)));
        let rows = s.roll(t0 + Duration::from_secs(60));
        assert_eq!(rows.iter().map(count).collect::<Vec<_>>(), vec![1, 7, 3]);
        assert!(matches!(
            rows[0],
            SecurityEvent::RefusalsFolded {
                reason: FoldReason::Ceiling,
                ..
            }
        ));
    }

    #[test]
    fn each_failure_reason_keeps_its_first_row() {
        let mut s = State::new(limits(100), Instant::now());
        let with = |reason| SecurityEvent::AuthFailed {
            at: T,
            client: IpAddr::from([192, 0, 2, 1]),
            reason,
            key_lookup_id: Some("abcd1234".into()),
            method: "GET".into(),
            path: "/".into(),
        };
        for reason in [
            AuthFailure::WrongSecret,
            AuthFailure::Revoked,
            AuthFailure::Expired,
        ] {
            assert!(s.admit(&with(reason)), "{reason:?}");
            assert!(!s.admit(&with(reason)), "{reason:?} repeated");
        }
    }

    #[test]
    fn accountable_events_pass_through() {
        let mut s = State::new(limits(1), Instant::now());
        for _ in 0..5 {
            assert!(s.admit(&SecurityEvent::AdminLogin {
                at: T,
                client: IpAddr::from([192, 0, 2, 1]),
                username: "operator".into(),
            }));
        }
        assert_eq!(s.budget, 1);
    }
}
