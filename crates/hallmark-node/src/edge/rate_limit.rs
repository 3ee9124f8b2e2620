//! Rate limits: per client address on the public listener, per principal (API key or admin
//! login) on the admin listener. GCRA token buckets from `governor`; 429 problem+json with
//! `Retry-After` when exhausted.

use crate::audit::{AuditSink, SecurityEvent};
use crate::auth::Principal;
use crate::edge::client::client_ip;
use crate::problem::ApiError;
use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};
use std::hash::Hash;
use std::net::IpAddr;
use std::num::NonZeroU32;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use time::OffsetDateTime;

/// Forget idle keys every this many checks, so the table cannot grow without bound.
const PRUNE_EVERY: u64 = 4096;

/// A keyed token bucket.
pub struct KeyedLimiter<K: Hash + Eq + Clone> {
    limiter: DefaultKeyedRateLimiter<K>,
    clock: DefaultClock,
    checks: AtomicU64,
}

impl<K: Hash + Eq + Clone> KeyedLimiter<K> {
    /// `per_second` sustained, bursts of `burst`.
    pub fn new(per_second: NonZeroU32, burst: NonZeroU32) -> Self {
        KeyedLimiter {
            limiter: RateLimiter::keyed(Quota::per_second(per_second).allow_burst(burst)),
            clock: DefaultClock::default(),
            checks: AtomicU64::new(0),
        }
    }

    /// Take one token for `key`; `Err(seconds)` to wait (at least 1) when exhausted.
    pub fn check(&self, key: &K) -> Result<(), u64> {
        if self.checks.fetch_add(1, Ordering::Relaxed) % PRUNE_EVERY == PRUNE_EVERY - 1 {
            self.limiter.retain_recent();
        }
        self.limiter
            .check_key(key)
            .map_err(|not_until| {
                let wait = not_until.wait_time_from(self.clock.now());
                wait.as_secs() + u64::from(wait.subsec_nanos() > 0)
            })
            .map_err(|s| s.max(1))
    }

    /// Number of keys currently tracked.
    pub fn len(&self) -> usize {
        self.limiter.len()
    }

    /// Whether no key is tracked.
    pub fn is_empty(&self) -> bool {
        self.limiter.is_empty()
    }
}

/// The public listener's limit per client address (run by `edge::public_checks`).
pub fn per_client(limiter: &KeyedLimiter<IpAddr>, req: &Request) -> Result<(), ApiError> {
    let ip = client_ip(req);
    limiter.check(&ip).map_err(|retry_after_secs| {
        tracing::debug!(client = %ip, "public rate limit");
        ApiError::RateLimited { retry_after_secs }
    })
}

/// What the admin limiter keys on.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum PrincipalKey {
    /// An API key, by id.
    Key(uuid::Uuid),
    /// The admin login, per client address.
    Admin(IpAddr),
}

/// The admin listener's limiter and where its throttles are reported.
pub struct PrincipalLimiter {
    /// Buckets per principal.
    pub limiter: KeyedLimiter<PrincipalKey>,
    /// Audit sink for `RateLimited` events.
    pub audit: Arc<dyn AuditSink>,
}

/// Middleware (admin listener, after authentication): limit per principal.
pub async fn per_principal(
    State(state): State<Arc<PrincipalLimiter>>,
    req: Request,
    next: Next,
) -> Response {
    let ip = client_ip(&req);
    let Some(principal) = req.extensions().get::<Principal>().cloned() else {
        // Authentication must run first; without a principal, fail closed.
        return ApiError::Unauthorized.into_response();
    };
    let key = match &principal {
        Principal::ApiKey { key_id, .. } => PrincipalKey::Key(*key_id),
        Principal::Admin { .. } => PrincipalKey::Admin(ip),
    };
    match state.limiter.check(&key) {
        Ok(()) => next.run(req).await,
        Err(retry_after_secs) => {
            state
                .audit
                .record(SecurityEvent::RateLimited {
                    at: OffsetDateTime::now_utc(),
                    client: ip,
                    key_id: principal.key_id(),
                    retry_after_secs,
                })
                .await;
            ApiError::RateLimited { retry_after_secs }.into_response()
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;

    #[test]
    fn burst_then_refuse_per_key() {
        let l = KeyedLimiter::<u8>::new(NonZeroU32::new(1).unwrap(), NonZeroU32::new(3).unwrap());
        for _ in 0..3 {
            assert_eq!(l.check(&1), Ok(()));
        }
        let wait = l.check(&1).unwrap_err();
        assert!((1..=2).contains(&wait), "{wait}");
        // Another key has its own bucket.
        assert_eq!(l.check(&2), Ok(()));
        assert_eq!(l.len(), 2);
    }
}
