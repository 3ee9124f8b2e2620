//! Security events (authentication failures, throttles, admin logins) and where they go.
//!
//! The node hands every [`SecurityEvent`] to an [`AuditSink`]; the store persists them in
//! its audit log (`backing::StoreAudit`, behind `refusals::Refusals`, which aggregates the
//! events of refused requests), [`LogAudit`] writes them to the log, [`MemoryAudit`] keeps
//! them for tests. Events never contain secrets: no key secret, no password, not even a failed
//! admin user name (people type passwords into user name fields).

use hallmark_core::tlog::event::{Action, EventError};
use serde::Serialize;
use std::collections::BTreeMap;
use std::future::Future;
use std::net::IpAddr;
use std::pin::Pin;
use std::sync::Mutex;
use time::OffsetDateTime;

/// The JSON value an audit event of `action` stores as its `detail`, serialised from a typed
/// detail (objects keep their members in sorted order in this build, as every detail has
/// been written; the log leaf is canonical JSON anyway). Its error, never `null`, if the
/// detail does not serialise (a time outside RFC 3339, which the node never writes).
pub fn detail<T: Serialize + ?Sized>(
    action: Action,
    detail: &T,
) -> Result<serde_json::Value, EventError> {
    serde_json::to_value(detail).map_err(|e| EventError::Detail {
        action: action.as_str(),
        reason: e.to_string(),
    })
}

/// A boxed, sendable future (object-safe async trait methods without a macro).
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// Why authentication failed. Recorded in the audit log only; every failure gets the same
/// 401 response.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum AuthFailure {
    /// No `Authorization` header.
    Missing,
    /// A scheme other than Bearer or Basic.
    UnsupportedScheme,
    /// Not a well-formed key (prefix, length, charset, checksum) or unreadable header.
    Malformed,
    /// Well formed, but no key with that lookup id.
    UnknownKey,
    /// The lookup id exists but the secret does not match.
    WrongSecret,
    /// The scope letter in the key text differs from the stored scope.
    ScopeMismatch,
    /// The key was revoked.
    Revoked,
    /// The key has expired.
    Expired,
    /// Wrong admin user name or password (Basic).
    BadAdminCredentials,
}

/// The kinds of events about refused requests, which are aggregated per client address
/// (`refusals`); the audit action of each.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum RefusalKind {
    /// `auth.failed` (401).
    AuthFailed,
    /// `auth.throttled` (429).
    AuthThrottled,
    /// `rate.limited` (429).
    RateLimited,
}

impl RefusalKind {
    /// The audit action.
    pub fn action(self) -> Action {
        match self {
            RefusalKind::AuthFailed => Action::AuthFailed,
            RefusalKind::AuthThrottled => Action::AuthThrottled,
            RefusalKind::RateLimited => Action::RateLimited,
        }
    }
}

/// Why refusal counts were folded into one [`SecurityEvent::RefusalsFolded`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum FoldReason {
    /// The per-minute ceiling of refusal rows over all clients was reached.
    Ceiling,
    /// The node stopped with counts not yet written.
    Shutdown,
}

/// A security-relevant event.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "event", rename_all = "kebab-case")]
pub enum SecurityEvent {
    /// A request failed authentication (answered 401).
    AuthFailed {
        /// When.
        #[serde(with = "time::serde::rfc3339")]
        at: OffsetDateTime,
        /// Client address (IPv6 reduced to /64).
        client: IpAddr,
        /// Why.
        reason: AuthFailure,
        /// The presented key's lookup id, when the key was well formed (not secret).
        #[serde(skip_serializing_if = "Option::is_none")]
        key_lookup_id: Option<String>,
        /// HTTP method.
        method: String,
        /// Request path (no query string).
        path: String,
    },
    /// A client address was refused for too many failed authentications (answered 429).
    AuthThrottled {
        /// When.
        #[serde(with = "time::serde::rfc3339")]
        at: OffsetDateTime,
        /// Client address.
        client: IpAddr,
        /// Seconds until it may try again.
        retry_after_secs: u64,
    },
    /// An authenticated principal exceeded its rate limit (answered 429).
    RateLimited {
        /// When.
        #[serde(with = "time::serde::rfc3339")]
        at: OffsetDateTime,
        /// Client address.
        client: IpAddr,
        /// The API key (none for the admin login).
        #[serde(skip_serializing_if = "Option::is_none")]
        key_id: Option<uuid::Uuid>,
        /// Seconds until it may try again.
        retry_after_secs: u64,
    },
    /// The admin login (Basic, credentials from the environment) was used successfully.
    AdminLogin {
        /// When.
        #[serde(with = "time::serde::rfc3339")]
        at: OffsetDateTime,
        /// Client address.
        client: IpAddr,
        /// The configured admin user name.
        username: String,
    },
    /// More refusals of one kind from one client in one minute after the first (which was
    /// recorded as itself): their number, written when the minute ends.
    Repeated {
        /// Which refusals.
        kind: RefusalKind,
        /// Client address.
        client: IpAddr,
        /// How many (not counting the first, recorded before).
        count: u64,
        /// The first of them.
        #[serde(with = "time::serde::rfc3339")]
        first_at: OffsetDateTime,
        /// The last of them.
        #[serde(with = "time::serde::rfc3339")]
        last_at: OffsetDateTime,
        /// Authentication failures by reason.
        #[serde(skip_serializing_if = "BTreeMap::is_empty")]
        reasons: BTreeMap<AuthFailure, u64>,
        /// Rate-limited API keys (at most `refusals::MAX_KEY_IDS`).
        #[serde(skip_serializing_if = "Vec::is_empty")]
        key_ids: Vec<uuid::Uuid>,
    },
    /// Refusals that got no row of their own (over the ceiling, or pending at shutdown),
    /// counted.
    RefusalsFolded {
        /// How many refused requests.
        count: u64,
        /// Of which, by audit action.
        by_kind: BTreeMap<RefusalKind, u64>,
        /// The earliest of them.
        #[serde(with = "time::serde::rfc3339")]
        first_at: OffsetDateTime,
        /// The latest of them.
        #[serde(with = "time::serde::rfc3339")]
        last_at: OffsetDateTime,
        /// Why they were folded.
        reason: FoldReason,
    },
}

impl SecurityEvent {
    /// For the event of a refused request: its client, kind and time (what `refusals`
    /// aggregates). `None` for accountable events (admin login) and aggregates.
    pub fn refusal(&self) -> Option<(IpAddr, RefusalKind, OffsetDateTime)> {
        match self {
            SecurityEvent::AuthFailed { at, client, .. } => {
                Some((*client, RefusalKind::AuthFailed, *at))
            }
            SecurityEvent::AuthThrottled { at, client, .. } => {
                Some((*client, RefusalKind::AuthThrottled, *at))
            }
            SecurityEvent::RateLimited { at, client, .. } => {
                Some((*client, RefusalKind::RateLimited, *at))
            }
            SecurityEvent::AdminLogin { .. }
            | SecurityEvent::Repeated { .. }
            | SecurityEvent::RefusalsFolded { .. } => None,
        }
    }
}

/// Where security events go. Implementations must not fail the request: they log their own
/// errors.
pub trait AuditSink: Send + Sync + 'static {
    /// Record one event.
    fn record(&self, event: SecurityEvent) -> BoxFuture<'_, ()>;
}

/// Writes events to the log (target `hallmark::audit`) as JSON.
#[derive(Debug, Default, Clone, Copy)]
pub struct LogAudit;

impl AuditSink for LogAudit {
    fn record(&self, event: SecurityEvent) -> BoxFuture<'_, ()> {
        Box::pin(async move {
            match serde_json::to_string(&event) {
                Ok(json) => tracing::warn!(target: "hallmark::audit", event = %json),
                Err(e) => {
                    tracing::error!(target: "hallmark::audit", error = %e, "unserialisable event")
                }
            }
        })
    }
}

/// Keeps events in memory (tests, demo).
#[derive(Debug, Default)]
pub struct MemoryAudit {
    events: Mutex<Vec<SecurityEvent>>,
}

impl MemoryAudit {
    /// A copy of the events so far.
    pub fn events(&self) -> Vec<SecurityEvent> {
        match self.events.lock() {
            Ok(g) => g.clone(),
            Err(p) => p.into_inner().clone(),
        }
    }
}

impl AuditSink for MemoryAudit {
    fn record(&self, event: SecurityEvent) -> BoxFuture<'_, ()> {
        Box::pin(async move {
            match self.events.lock() {
                Ok(mut g) => g.push(event),
                Err(p) => p.into_inner().push(event),
            }
        })
    }
}
