//! Authentication for the admin listener, as a middleware layer.
//!
//! 1. A client address with too many recent failures is refused (429, `AuthThrottled`)
//!    before its credentials are even looked at.
//! 2. `Authorization: Bearer hmk_…` is parsed ([`crate::apikey::parse`]); a malformed key is
//!    refused without any lookup. A well-formed key is found by its lookup id through
//!    [`KeyLookup`], its hash compared in constant time, then revocation and expiry checked.
//! 3. `Authorization: Basic` is the admin login: user name and password from the
//!    configuration (never stored in the database), compared in constant time.
//! 4. Every failure — missing, malformed, unknown, wrong secret, revoked, expired, bad admin
//!    password — gets the *same* 401 body (no oracle), counts towards the throttle and is
//!    sent to the [`AuditSink`] with its real reason.
//! 5. Success puts a [`Principal`] into the request extensions; routes demand a scope with
//!    [`require`] (a layer) or the [`Principal`] extractor plus [`Principal::require`].

use crate::apikey::{self, KeyHash, Scope};
use crate::audit::{AuditSink, AuthFailure, BoxFuture, SecurityEvent};
use crate::edge::client::client_ip;
use crate::problem::ApiError;
use axum::extract::{FromRequestParts, Request, State};
use axum::http::header::AUTHORIZATION;
use axum::http::request::Parts;
use axum::http::HeaderMap;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use base64::Engine;
use secrecy::ExposeSecret;
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::convert::Infallible;
use std::net::IpAddr;
use std::num::NonZeroU32;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};
use subtle::ConstantTimeEq;
use time::OffsetDateTime;
use tower::{Layer, Service};
use uuid::Uuid;
use zeroize::Zeroizing;

/// The admin login (never stored in the database).
#[derive(Debug, Clone)]
pub struct AdminCredentials {
    /// User name.
    pub username: String,
    /// Password.
    pub password: secrecy::SecretString,
}

/// Who is calling, placed in the request extensions by [`authenticate`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Principal {
    /// An API key.
    ApiKey {
        /// The key's id in the store.
        key_id: Uuid,
        /// Its (stored) scope.
        scope: Scope,
    },
    /// The admin login (credentials from the configuration); has the admin scope.
    Admin {
        /// The configured user name.
        username: String,
    },
}

impl Principal {
    /// The effective scope.
    pub fn scope(&self) -> Scope {
        match self {
            Principal::ApiKey { scope, .. } => *scope,
            Principal::Admin { .. } => Scope::Admin,
        }
    }

    /// The API key id, if the principal is a key.
    pub fn key_id(&self) -> Option<Uuid> {
        match self {
            Principal::ApiKey { key_id, .. } => Some(*key_id),
            Principal::Admin { .. } => None,
        }
    }

    /// `Ok` if the principal's scope allows `required`, else 403.
    pub fn require(&self, required: Scope) -> Result<(), ApiError> {
        if self.scope().allows(required) {
            Ok(())
        } else {
            Err(ApiError::Forbidden { required })
        }
    }
}

impl<S: Send + Sync> FromRequestParts<S> for Principal {
    type Rejection = ApiError;
    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        parts
            .extensions
            .get::<Principal>()
            .cloned()
            .ok_or(ApiError::Unauthorized)
    }
}

/// A stored API key, as the store returns it.
#[derive(Debug, Clone)]
pub struct StoredKey {
    /// Its id.
    pub key_id: Uuid,
    /// The stored hash of the key (keyed, [`apikey::ApiKey::keyed_hash`], or legacy).
    pub hash: KeyHash,
    /// Its scope (authoritative).
    pub scope: Scope,
    /// When it stops working, if ever.
    pub expires_at: Option<OffsetDateTime>,
    /// When it was revoked, if it was.
    pub revoked_at: Option<OffsetDateTime>,
}

/// The store failed (answered 503, not counted as an authentication failure).
#[derive(Debug, Clone, thiserror::Error)]
#[error("API key lookup failed: {0}")]
pub struct LookupError(pub String);

/// Finds API keys by lookup id (the store implements it).
pub trait KeyLookup: Send + Sync + 'static {
    /// The key with this lookup id, if any.
    fn find<'a>(
        &'a self,
        lookup_id: &'a str,
    ) -> BoxFuture<'a, Result<Option<StoredKey>, LookupError>>;
    /// Whether `presented` is the key `stored` was made for, in constant time. The default
    /// compares the unkeyed hash (in-memory lookups); the store-backed lookup compares the
    /// keyed hash the node stores.
    fn verify(&self, stored: &StoredKey, presented: &apikey::ParsedKey) -> bool {
        presented.verify(&stored.hash)
    }
    /// Record a successful use (`last_used_at`).
    fn mark_used(&self, key_id: Uuid, at: OffsetDateTime)
        -> BoxFuture<'_, Result<(), LookupError>>;
}

/// An in-memory [`KeyLookup`] (tests, examples).
#[derive(Debug, Default)]
pub struct MemoryKeys {
    keys: Mutex<HashMap<String, StoredKey>>,
    used: Mutex<Vec<(Uuid, OffsetDateTime)>>,
}

impl MemoryKeys {
    /// Add (or replace) a key under its lookup id.
    pub fn insert(&self, lookup_id: &str, key: StoredKey) {
        lock(&self.keys).insert(lookup_id.to_string(), key);
    }

    /// The `mark_used` calls so far.
    pub fn uses(&self) -> Vec<(Uuid, OffsetDateTime)> {
        lock(&self.used).clone()
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    match m.lock() {
        Ok(g) => g,
        Err(p) => p.into_inner(),
    }
}

impl KeyLookup for MemoryKeys {
    fn find<'a>(
        &'a self,
        lookup_id: &'a str,
    ) -> BoxFuture<'a, Result<Option<StoredKey>, LookupError>> {
        Box::pin(async move { Ok(lock(&self.keys).get(lookup_id).cloned()) })
    }

    fn mark_used(
        &self,
        key_id: Uuid,
        at: OffsetDateTime,
    ) -> BoxFuture<'_, Result<(), LookupError>> {
        Box::pin(async move {
            lock(&self.used).push((key_id, at));
            Ok(())
        })
    }
}

/// Fixed-window counter of failed authentications per key: a client address, or (for the
/// admin login) the digest of the user name tried.
#[derive(Debug)]
pub struct FailureThrottle<K = IpAddr> {
    max: u32,
    window: Duration,
    windows: Mutex<HashMap<K, (Instant, u32)>>,
}

/// Above this many tracked addresses, expired windows are pruned.
const THROTTLE_PRUNE_AT: usize = 10_000;

impl<K: std::hash::Hash + Eq + Copy> FailureThrottle<K> {
    /// Allow `max` failures per `window` per key.
    pub fn new(max: NonZeroU32, window: Duration) -> Self {
        FailureThrottle {
            max: max.get(),
            window,
            windows: Mutex::new(HashMap::new()),
        }
    }

    /// `Err(seconds)` if `ip` has used up its failures in the current window.
    pub fn check(&self, ip: K, now: Instant) -> Result<(), u64> {
        let mut w = lock(&self.windows);
        match w.get(&ip) {
            Some(&(start, n)) if now.duration_since(start) < self.window => {
                if n >= self.max {
                    let left = self.window.saturating_sub(now.duration_since(start));
                    Err((left.as_secs() + u64::from(left.subsec_nanos() > 0)).max(1))
                } else {
                    Ok(())
                }
            }
            Some(_) => {
                w.remove(&ip);
                Ok(())
            }
            None => Ok(()),
        }
    }

    /// Count a failure for `ip`.
    pub fn record(&self, ip: K, now: Instant) {
        let mut w = lock(&self.windows);
        if w.len() >= THROTTLE_PRUNE_AT {
            let window = self.window;
            w.retain(|_, (start, _)| now.duration_since(*start) < window);
        }
        let entry = w.entry(ip).or_insert((now, 0));
        if now.duration_since(entry.0) >= self.window {
            *entry = (now, 0);
        }
        entry.1 = entry.1.saturating_add(1);
    }
}

/// Shared state of the authentication layer.
#[derive(Clone)]
pub struct AuthState {
    inner: Arc<Inner>,
}

struct Inner {
    keys: Arc<dyn KeyLookup>,
    audit: Arc<dyn AuditSink>,
    admin_username: String,
    admin_username_digest: [u8; 32],
    admin_password_digest: Zeroizing<[u8; 32]>,
    throttle: FailureThrottle,
    /// Failed admin logins per user name tried (digest), wherever they come from.
    user_throttle: FailureThrottle<[u8; 32]>,
    /// Compared against when no key matches, so unknown and known ids cost the same.
    dummy_hash: KeyHash,
}

fn digest(bytes: &[u8]) -> [u8; 32] {
    Sha256::digest(bytes).into()
}

impl AuthState {
    /// The layer's state: key lookup, audit sink, admin login, failures allowed per minute.
    pub fn new(
        keys: Arc<dyn KeyLookup>,
        audit: Arc<dyn AuditSink>,
        admin: &AdminCredentials,
        failures_per_minute: NonZeroU32,
    ) -> Self {
        Self::with_window(
            keys,
            audit,
            admin,
            failures_per_minute,
            Duration::from_secs(60),
        )
    }

    /// As [`new`](Self::new) with another throttle window (tests).
    pub fn with_window(
        keys: Arc<dyn KeyLookup>,
        audit: Arc<dyn AuditSink>,
        admin: &AdminCredentials,
        failures: NonZeroU32,
        window: Duration,
    ) -> Self {
        AuthState {
            inner: Arc::new(Inner {
                keys,
                audit,
                admin_username: admin.username.clone(),
                admin_username_digest: digest(admin.username.as_bytes()),
                admin_password_digest: Zeroizing::new(digest(
                    admin.password.expose_secret().as_bytes(),
                )),
                throttle: FailureThrottle::new(failures, window),
                user_throttle: FailureThrottle::new(failures, window),
                dummy_hash: KeyHash::from_bytes([0u8; 32]),
            }),
        }
    }

    /// The audit sink.
    pub fn audit(&self) -> Arc<dyn AuditSink> {
        Arc::clone(&self.inner.audit)
    }
}

/// Outcome of checking the credentials of one request.
enum Checked {
    Ok(Principal),
    Failed(AuthFailure, Option<String>),
    Unavailable(LookupError),
}

async fn check_credentials(state: &Inner, headers: &HeaderMap, now: OffsetDateTime) -> Checked {
    let Some(value) = headers.get(AUTHORIZATION) else {
        return Checked::Failed(AuthFailure::Missing, None);
    };
    let Ok(value) = value.to_str() else {
        return Checked::Failed(AuthFailure::Malformed, None);
    };
    let (scheme, credentials) = value.trim().split_once(' ').unwrap_or((value, ""));
    let credentials = credentials.trim();
    if scheme.eq_ignore_ascii_case("bearer") {
        check_bearer(state, credentials, now).await
    } else if scheme.eq_ignore_ascii_case("basic") {
        check_basic(state, credentials)
    } else {
        Checked::Failed(AuthFailure::UnsupportedScheme, None)
    }
}

async fn check_bearer(state: &Inner, token: &str, now: OffsetDateTime) -> Checked {
    let parsed = match apikey::parse(token) {
        Ok(p) => p,
        Err(_) => return Checked::Failed(AuthFailure::Malformed, None),
    };
    let id = Some(parsed.lookup_id().to_string());
    let stored = match state.keys.find(parsed.lookup_id()).await {
        Ok(s) => s,
        Err(e) => return Checked::Unavailable(e),
    };
    let Some(stored) = stored else {
        // Same work as for a known id.
        let dummy = StoredKey {
            key_id: Uuid::nil(),
            hash: state.dummy_hash,
            scope: parsed.scope(),
            expires_at: None,
            revoked_at: None,
        };
        let _ = state.keys.verify(&dummy, &parsed);
        return Checked::Failed(AuthFailure::UnknownKey, id);
    };
    if !state.keys.verify(&stored, &parsed) {
        return Checked::Failed(AuthFailure::WrongSecret, id);
    }
    if stored.scope != parsed.scope() {
        return Checked::Failed(AuthFailure::ScopeMismatch, id);
    }
    if stored.revoked_at.is_some() {
        return Checked::Failed(AuthFailure::Revoked, id);
    }
    if stored.expires_at.is_some_and(|exp| exp <= now) {
        return Checked::Failed(AuthFailure::Expired, id);
    }
    Checked::Ok(Principal::ApiKey {
        key_id: stored.key_id,
        scope: stored.scope,
    })
}

fn check_basic(state: &Inner, encoded: &str) -> Checked {
    let Ok(decoded) = base64::engine::general_purpose::STANDARD.decode(encoded) else {
        return Checked::Failed(AuthFailure::Malformed, None);
    };
    let decoded = Zeroizing::new(decoded);
    let Some(colon) = decoded.iter().position(|&b| b == b':') else {
        return Checked::Failed(AuthFailure::Malformed, None);
    };
    let (user, pass) = (&decoded[..colon], &decoded[colon + 1..]);
    let user_ok = digest(user).ct_eq(&state.admin_username_digest);
    let pass_digest = Zeroizing::new(digest(pass));
    let pass_ok = pass_digest.ct_eq(&*state.admin_password_digest);
    if bool::from(user_ok & pass_ok) {
        Checked::Ok(Principal::Admin {
            username: state.admin_username.clone(),
        })
    } else {
        Checked::Failed(AuthFailure::BadAdminCredentials, None)
    }
}

/// The digest of the user name of an `Authorization: Basic` header, if that is the scheme.
fn basic_user(headers: &HeaderMap) -> Option<[u8; 32]> {
    let value = headers.get(AUTHORIZATION)?.to_str().ok()?.trim();
    let (scheme, encoded) = value.split_once(' ')?;
    if !scheme.eq_ignore_ascii_case("basic") {
        return None;
    }
    let decoded = Zeroizing::new(
        base64::engine::general_purpose::STANDARD
            .decode(encoded.trim())
            .ok()?,
    );
    let colon = decoded.iter().position(|&b| b == b':')?;
    Some(digest(&decoded[..colon]))
}

/// Middleware: authenticate the request or answer 401/429/503.
///
/// Failed attempts are throttled per client address, and admin logins also per user name.
/// The throttle slows *guessing*, it does not lock out a valid credential: while an address
/// is throttled, an API key presented from it is still checked — a valid one passes (a
/// 190-bit key cannot be guessed, so this gives a guesser nothing), a wrong one gets 429. A
/// password login is not checked at all while its address or its user name is throttled.
pub async fn authenticate(
    State(state): State<AuthState>,
    mut req: Request,
    next: Next,
) -> Response {
    let s = &*state.inner;
    let ip = client_ip(&req);
    let user = basic_user(req.headers());
    let throttled = s
        .throttle
        .check(ip, Instant::now())
        .and_then(|()| user.map_or(Ok(()), |u| s.user_throttle.check(u, Instant::now())));
    let refuse = |retry_after_secs: u64| async move {
        s.audit
            .record(SecurityEvent::AuthThrottled {
                at: OffsetDateTime::now_utc(),
                client: ip,
                retry_after_secs,
            })
            .await;
        ApiError::AuthThrottled { retry_after_secs }.into_response()
    };
    if let (Err(retry_after_secs), Some(_)) = (throttled, user) {
        return refuse(retry_after_secs).await;
    }
    let now = OffsetDateTime::now_utc();
    match check_credentials(s, req.headers(), now).await {
        Checked::Ok(principal) => {
            match &principal {
                Principal::ApiKey { key_id, .. } => {
                    if let Err(e) = s.keys.mark_used(*key_id, now).await {
                        tracing::warn!(error = %e, "could not record API key use");
                    }
                }
                Principal::Admin { username } => {
                    s.audit
                        .record(SecurityEvent::AdminLogin {
                            at: now,
                            client: ip,
                            username: username.clone(),
                        })
                        .await;
                }
            }
            req.extensions_mut().insert(principal);
            next.run(req).await
        }
        Checked::Failed(reason, key_lookup_id) => {
            if let Err(retry_after_secs) = throttled {
                return refuse(retry_after_secs).await;
            }
            s.throttle.record(ip, Instant::now());
            if let Some(u) = user {
                s.user_throttle.record(u, Instant::now());
            }
            s.audit
                .record(SecurityEvent::AuthFailed {
                    at: now,
                    client: ip,
                    reason,
                    key_lookup_id,
                    method: req.method().to_string(),
                    path: req.uri().path().to_string(),
                })
                .await;
            ApiError::Unauthorized.into_response()
        }
        Checked::Unavailable(e) => {
            tracing::error!(error = %e, "authentication backend unavailable");
            ApiError::Unavailable.into_response()
        }
    }
}

/// A route layer demanding a scope: `route("/x", post(h).route_layer(require(Scope::Write)))`.
/// Answers 403 (or 401 without a principal) before the handler runs.
pub fn require(scope: Scope) -> RequireScope {
    RequireScope(scope)
}

/// See [`require`].
#[derive(Debug, Clone, Copy)]
pub struct RequireScope(Scope);

impl<S> Layer<S> for RequireScope {
    type Service = RequireScopeService<S>;
    fn layer(&self, inner: S) -> Self::Service {
        RequireScopeService {
            inner,
            scope: self.0,
        }
    }
}

/// The service of [`RequireScope`].
#[derive(Debug, Clone)]
pub struct RequireScopeService<S> {
    inner: S,
    scope: Scope,
}

impl<S> Service<Request> for RequireScopeService<S>
where
    S: Service<Request, Response = Response, Error = Infallible> + Send + 'static,
    S::Future: Send + 'static,
{
    type Response = Response;
    type Error = Infallible;
    type Future = BoxFuture<'static, Result<Response, Infallible>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, req: Request) -> Self::Future {
        let verdict = match req.extensions().get::<Principal>() {
            Some(p) => p.require(self.scope),
            None => Err(ApiError::Unauthorized),
        };
        match verdict {
            Ok(()) => Box::pin(self.inner.call(req)),
            Err(e) => Box::pin(async move { Ok(e.into_response()) }),
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;

    #[test]
    fn throttle_counts_failures_in_a_window() {
        let t = FailureThrottle::new(NonZeroU32::new(3).unwrap(), Duration::from_secs(60));
        let ip: IpAddr = "192.0.2.1".parse().unwrap();
        let other: IpAddr = "192.0.2.2".parse().unwrap();
        let t0 = Instant::now();
        for _ in 0..3 {
            assert_eq!(t.check(ip, t0), Ok(()));
            t.record(ip, t0);
        }
        let wait = t.check(ip, t0 + Duration::from_secs(10)).unwrap_err();
        assert_eq!(wait, 50);
        assert_eq!(t.check(other, t0), Ok(()));
        // The window ends: allowed again, counting restarts.
        assert_eq!(t.check(ip, t0 + Duration::from_secs(60)), Ok(()));
        t.record(ip, t0 + Duration::from_secs(61));
        assert_eq!(t.check(ip, t0 + Duration::from_secs(62)), Ok(()));
    }

    #[test]
    fn principal_scopes() {
        let read = Principal::ApiKey {
            key_id: Uuid::nil(),
            scope: Scope::Read,
        };
        assert_eq!(read.require(Scope::Read), Ok(()));
        assert_eq!(
            read.require(Scope::Write),
            Err(ApiError::Forbidden {
                required: Scope::Write
            })
        );
        let admin = Principal::Admin {
            username: "root".into(),
        };
        assert_eq!(admin.scope(), Scope::Admin);
        assert_eq!(admin.require(Scope::Admin), Ok(()));
        assert_eq!(admin.key_id(), None);
    }
}
