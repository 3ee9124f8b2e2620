//! The listeners' accept loop: what happens to a TCP connection before and between requests.
//!
//! Each listener (public, admin) serves HTTP/1.1 through hyper's connection builder with:
//!
//! - **a header-read timeout** (hyper's `header_read_timeout`): once a connection is ready
//!   for a request — accepted, or the previous response written — the whole request head
//!   must arrive within [`ConnLimits::header_read_timeout`], else the connection is closed
//!   without an answer (slowloris);
//! - **an idle timeout**: a connection with no request in flight on which no byte of a next
//!   request arrives within [`ConnLimits::idle_timeout`] is closed (a response the client
//!   stops reading counts as idle from its last written byte);
//! - **a cap per listener** ([`ConnLimits::max_connections`]): when it is reached, a new
//!   connection evicts the connection that has been without a request in flight the longest
//!   (idle or still sending its head); if every connection has a request in flight, the new
//!   one is closed at once. Idle sockets therefore cannot lock other clients out;
//! - **a cap per client address** ([`ConnLimits::max_connections_per_client`], the
//!   [`ClientAddr`] of the peer): a client's connection beyond it is closed at once; other
//!   clients are not affected.
//!
//! Every request carries `ConnectInfo<SocketAddr>` (the peer) and its [`ClientAddr`] as
//! extensions. A request in flight is bounded by the request timeout layer, so every phase
//! of a connection is bounded. Stopping (the node's watch channel) stops accepting, lets
//! requests in flight finish, closes idle connections, and returns when all have ended.

use crate::edge::client::{ClientAddr, TrustedProxies};
use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::response::Response;
use axum::routing::future::RouteFuture;
use axum::Router;
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper_util::rt::{TokioIo, TokioTimer};
use std::collections::HashMap;
use std::convert::Infallible;
use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::pin::{pin, Pin};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{watch, Notify};
use tokio::task::JoinSet;

/// Connection caps and timeouts of one listener.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ConnLimits {
    /// Time from a connection being ready for a request to its complete head.
    pub header_read_timeout: Duration,
    /// Time a connection without a request in flight may wait for the first byte of the next
    /// one (no longer than `header_read_timeout`, which runs at the same time).
    pub idle_timeout: Duration,
    /// Open connections per listener.
    pub max_connections: usize,
    /// Open connections per client address, per listener.
    pub max_connections_per_client: usize,
}

impl Default for ConnLimits {
    /// 10 s for a request head (a phone on a poor link sends a few hundred bytes well within
    /// it); 5 s idle (a scanner or verifier fetches a passport, the DID document and a log
    /// proof in one burst; an idle socket only holds a descriptor and a slot); 1024
    /// connections per listener, 64 per client address (a browser opens ≤ 6 per host).
    fn default() -> Self {
        ConnLimits {
            header_read_timeout: Duration::from_secs(10),
            idle_timeout: Duration::from_secs(5),
            max_connections: 1024,
            max_connections_per_client: 64,
        }
    }
}

/// File descriptors kept for everything but client connections (database pool, SQLite
/// files, keystore, plugins, the runtime) when the connection caps are fitted to the
/// process's open-file limit.
pub const RESERVED_FDS: u64 = 128;

/// The node's listeners (public and admin), which share the open-file limit.
const LISTENERS: u64 = 2;

/// Lowers the caps so that both listeners at their cap still leave [`RESERVED_FDS`]
/// descriptors under the open-file soft limit (`None`: unknown, caps kept). Without this, a
/// node whose limit is below its caps runs out of descriptors before the cap is reached, and
/// then neither listener can accept.
pub fn fit_to_open_files(limits: ConnLimits, soft_limit: Option<u64>) -> ConnLimits {
    let Some(soft) = soft_limit else {
        return limits;
    };
    let room = usize::try_from(soft.saturating_sub(RESERVED_FDS) / LISTENERS)
        .unwrap_or(usize::MAX)
        .max(1);
    if limits.max_connections <= room {
        return limits;
    }
    ConnLimits {
        max_connections: room,
        max_connections_per_client: limits.max_connections_per_client.min(room),
        ..limits
    }
}

/// The soft open-file limit of this process (Linux: `/proc/self/limits`; elsewhere or
/// unlimited: `None`).
pub fn open_files_soft_limit() -> Option<u64> {
    parse_open_files_limit(&std::fs::read_to_string("/proc/self/limits").ok()?)
}

fn parse_open_files_limit(limits: &str) -> Option<u64> {
    let line = limits.lines().find(|l| l.starts_with("Max open files"))?;
    line.split_whitespace().nth(3)?.parse().ok()
}

/// What one connection is doing, seen by its I/O, its service and its watchdog (all in the
/// connection's task, hence relaxed atomics).
#[derive(Debug)]
pub(crate) struct Activity {
    origin: Instant,
    /// A request has been handed to the router and not answered.
    busy: AtomicBool,
    /// Bytes of a next request have been read while none was in flight.
    head: AtomicBool,
    /// When (ms after `origin`) the connection last had no request in flight: accepted, a
    /// response produced, or response bytes written.
    since_ms: AtomicU64,
    /// Set when the listener evicts the connection.
    evicted: Notify,
}

impl Activity {
    pub(crate) fn new() -> Self {
        Activity {
            origin: Instant::now(),
            busy: AtomicBool::new(false),
            head: AtomicBool::new(false),
            since_ms: AtomicU64::new(0),
            evicted: Notify::new(),
        }
    }

    fn mark_since(&self) {
        let ms = u64::try_from(self.origin.elapsed().as_millis()).unwrap_or(u64::MAX);
        self.since_ms.store(ms, Ordering::Relaxed);
    }

    fn on_read(&self) {
        if !self.busy.load(Ordering::Relaxed) {
            self.head.store(true, Ordering::Relaxed);
        }
    }

    fn on_write(&self) {
        if !self.busy.load(Ordering::Relaxed) {
            self.mark_since();
        }
    }

    pub(crate) fn request_started(&self) {
        self.busy.store(true, Ordering::Relaxed);
        self.head.store(false, Ordering::Relaxed);
    }

    pub(crate) fn request_finished(&self) {
        self.mark_since();
        self.busy.store(false, Ordering::Relaxed);
    }

    fn since(&self) -> Instant {
        self.origin + Duration::from_millis(self.since_ms.load(Ordering::Relaxed))
    }

    /// Since when the connection is idle (no request in flight, no byte of a next one).
    fn idle_since(&self) -> Option<Instant> {
        (!self.busy.load(Ordering::Relaxed) && !self.head.load(Ordering::Relaxed))
            .then(|| self.since())
    }

    /// Since when no request is in flight (the eviction order).
    fn free_since(&self) -> Option<Instant> {
        (!self.busy.load(Ordering::Relaxed)).then(|| self.since())
    }
}

/// Why a connection was not admitted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Refused {
    /// Its client address has `max_connections_per_client` open.
    PerClient,
    /// The listener is full and every connection has a request in flight.
    Full,
}

impl Refused {
    fn as_str(self) -> &'static str {
        match self {
            Refused::PerClient => "per-client connection cap",
            Refused::Full => "listener full, every connection busy",
        }
    }
}

/// The open connections of one listener.
#[derive(Debug)]
pub(crate) struct Slots {
    max: usize,
    per_client_max: usize,
    table: Mutex<Table>,
}

#[derive(Debug, Default)]
struct Table {
    next_id: u64,
    open: HashMap<u64, (ClientAddr, Arc<Activity>)>,
    per_client: HashMap<ClientAddr, usize>,
}

impl Table {
    fn forget(&mut self, id: u64) -> Option<Arc<Activity>> {
        let (client, activity) = self.open.remove(&id)?;
        if let Some(n) = self.per_client.get_mut(&client) {
            *n = n.saturating_sub(1);
            if *n == 0 {
                self.per_client.remove(&client);
            }
        }
        Some(activity)
    }
}

/// A connection's place in [`Slots`], given back when dropped.
#[derive(Debug)]
pub(crate) struct Slot {
    slots: Arc<Slots>,
    id: u64,
}

impl Drop for Slot {
    fn drop(&mut self) {
        self.slots.table().forget(self.id);
    }
}

impl Slots {
    pub(crate) fn new(max: usize, per_client_max: usize) -> Arc<Self> {
        Arc::new(Slots {
            max: max.max(1),
            per_client_max: per_client_max.max(1),
            table: Mutex::new(Table::default()),
        })
    }

    fn table(&self) -> MutexGuard<'_, Table> {
        match self.table.lock() {
            Ok(g) => g,
            Err(p) => p.into_inner(),
        }
    }

    /// Admits a connection of `client`, evicting the connection longest without a request
    /// in flight if the listener is full.
    pub(crate) fn admit(
        self: &Arc<Self>,
        client: ClientAddr,
        capped: bool,
        activity: Arc<Activity>,
    ) -> Result<Slot, Refused> {
        let mut t = self.table();
        if capped && t.per_client.get(&client).copied().unwrap_or(0) >= self.per_client_max {
            return Err(Refused::PerClient);
        }
        if t.open.len() >= self.max {
            let victim = t
                .open
                .iter()
                .filter_map(|(id, (_, a))| a.free_since().map(|since| (since, *id)))
                .min()
                .map(|(_, id)| id);
            let Some(victim) = victim.and_then(|id| t.forget(id)) else {
                return Err(Refused::Full);
            };
            victim.evicted.notify_one();
        }
        let id = t.next_id;
        t.next_id += 1;
        t.open.insert(id, (client, activity));
        *t.per_client.entry(client).or_insert(0) += 1;
        Ok(Slot {
            slots: Arc::clone(self),
            id,
        })
    }

    #[cfg(test)]
    fn open(&self) -> usize {
        self.table().open.len()
    }
}

/// The socket, telling the connection's [`Activity`] when bytes move.
struct Watched {
    io: TcpStream,
    activity: Arc<Activity>,
}

impl AsyncRead for Watched {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        let before = buf.filled().len();
        let r = Pin::new(&mut this.io).poll_read(cx, buf);
        if buf.filled().len() > before {
            this.activity.on_read();
        }
        r
    }
}

impl AsyncWrite for Watched {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        data: &[u8],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        let r = Pin::new(&mut this.io).poll_write(cx, data);
        if matches!(r, Poll::Ready(Ok(n)) if n > 0) {
            this.activity.on_write();
        }
        r
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        let r = Pin::new(&mut this.io).poll_write_vectored(cx, bufs);
        if matches!(r, Poll::Ready(Ok(n)) if n > 0) {
            this.activity.on_write();
        }
        r
    }

    fn is_write_vectored(&self) -> bool {
        self.io.is_write_vectored()
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().io).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().io).poll_shutdown(cx)
    }
}

/// The per-connection service: resolves the client, marks the request in flight, runs the
/// router.
#[derive(Clone)]
struct ConnService {
    router: Router,
    peer: SocketAddr,
    proxies: Arc<TrustedProxies>,
    activity: Arc<Activity>,
}

impl hyper::service::Service<hyper::Request<Incoming>> for ConnService {
    type Response = Response;
    type Error = Infallible;
    type Future = Tracked;

    fn call(&self, req: hyper::Request<Incoming>) -> Tracked {
        self.activity.request_started();
        let mut req = req.map(Body::new);
        let client = ClientAddr::for_request(self.peer, req.headers(), &self.proxies);
        req.extensions_mut().insert(ConnectInfo(self.peer));
        req.extensions_mut().insert(client);
        Tracked {
            inner: tower::Service::call(&mut self.router.clone(), req),
            activity: Arc::clone(&self.activity),
        }
    }
}

/// The router's future; the connection is free again once it has the response.
struct Tracked {
    inner: RouteFuture<Infallible>,
    activity: Arc<Activity>,
}

impl Future for Tracked {
    type Output = Result<Response, Infallible>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.get_mut();
        let r = Pin::new(&mut this.inner).poll(cx);
        if r.is_ready() {
            this.activity.request_finished();
        }
        r
    }
}

/// Serves `router` on `listener` with `limits` until `stop` turns true (or its sender is
/// dropped), then stops accepting and returns once every connection has ended (requests in
/// flight finish; idle connections close at once).
pub async fn serve(
    listener: TcpListener,
    router: Router,
    limits: ConnLimits,
    proxies: Arc<TrustedProxies>,
    mut stop: watch::Receiver<bool>,
) -> io::Result<()> {
    let slots = Slots::new(limits.max_connections, limits.max_connections_per_client);
    let mut http = http1::Builder::new();
    http.timer(TokioTimer::new())
        .header_read_timeout(limits.header_read_timeout)
        .keep_alive(true);
    let conn_stop = stop.clone();
    let mut conns = JoinSet::new();
    loop {
        tokio::select! {
            biased;
            () = stopped(&mut stop) => break,
            Some(_) = conns.join_next(), if !conns.is_empty() => {}
            accepted = listener.accept() => match accepted {
                Ok((stream, peer)) => {
                    let client = ClientAddr::from_peer(peer);
                    let activity = Arc::new(Activity::new());
                    // A trusted proxy carries many clients: only the listener's cap applies.
                    let capped = !proxies.contains(peer.ip());
                    match slots.admit(client, capped, Arc::clone(&activity)) {
                        Ok(slot) => {
                            let service = ConnService {
                                router: router.clone(),
                                peer,
                                proxies: Arc::clone(&proxies),
                                activity: Arc::clone(&activity),
                            };
                            let io = TokioIo::new(Watched {
                                io: stream,
                                activity: Arc::clone(&activity),
                            });
                            let conn = http.serve_connection(io, service);
                            conns.spawn(connection(
                                conn,
                                activity,
                                limits.idle_timeout,
                                conn_stop.clone(),
                                slot,
                            ));
                        }
                        Err(why) => {
                            tracing::debug!(%client, reason = why.as_str(), "connection refused");
                            drop(stream);
                        }
                    }
                }
                Err(e) => accept_failed(e).await,
            },
        }
    }
    drop(listener);
    while conns.join_next().await.is_some() {}
    Ok(())
}

/// Resolves once `stop` is true or its sender is gone.
pub(crate) async fn stopped(stop: &mut watch::Receiver<bool>) {
    let _ = stop.wait_for(|s| *s).await;
}

/// One connection until it ends, is evicted, idles out, or finishes after `stop`.
async fn connection(
    conn: http1::Connection<TokioIo<Watched>, ConnService>,
    activity: Arc<Activity>,
    idle: Duration,
    mut stop: watch::Receiver<bool>,
    _slot: Slot,
) {
    let mut conn = pin!(conn);
    let mut stopping = *stop.borrow();
    if stopping {
        conn.as_mut().graceful_shutdown();
    }
    loop {
        let wake = activity
            .idle_since()
            .map_or_else(|| Instant::now() + idle, |since| since + idle);
        tokio::select! {
            ended = conn.as_mut() => {
                if let Err(e) = ended {
                    tracing::debug!(error = %e, "connection closed");
                }
                return;
            }
            _ = stop.changed(), if !stopping => {
                stopping = true;
                conn.as_mut().graceful_shutdown();
            }
            () = activity.evicted.notified() => {
                tracing::debug!("connection evicted: listener full");
                return;
            }
            () = tokio::time::sleep_until(wake.into()) => {
                if activity.idle_since().is_some_and(|since| since.elapsed() >= idle) {
                    tracing::debug!("idle connection closed");
                    return;
                }
            }
        }
    }
}

/// Connection-level accept errors are the peer's business; others (typically the open-file
/// limit) are logged and retried after a pause, as `axum::serve` does.
async fn accept_failed(e: io::Error) {
    if matches!(
        e.kind(),
        io::ErrorKind::ConnectionRefused
            | io::ErrorKind::ConnectionAborted
            | io::ErrorKind::ConnectionReset
    ) {
        return;
    }
    tracing::error!(error = %e, "cannot accept a connection; retrying in 100 ms");
    tokio::time::sleep(Duration::from_millis(100)).await;
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;

    fn client(last: u8) -> ClientAddr {
        ClientAddr::from_peer(SocketAddr::from(([192, 0, 2, last], 1000)))
    }

    #[test]
    fn per_client_cap_refuses_only_that_client() {
        let slots = Slots::new(10, 2);
        let a = Arc::new(Activity::new());
        let _s1 = slots.admit(client(1), true, Arc::clone(&a)).unwrap();
        let s2 = slots.admit(client(1), true, Arc::clone(&a)).unwrap();
        assert_eq!(
            slots.admit(client(1), true, Arc::clone(&a)).unwrap_err(),
            Refused::PerClient
        );
        let _other = slots.admit(client(2), true, Arc::clone(&a)).unwrap();
        drop(s2);
        let _s3 = slots.admit(client(1), true, a).unwrap();
        assert_eq!(slots.open(), 3);
        // A trusted proxy's connections are not held to the per-client cap.
        let proxy: Vec<_> = (0..5)
            .map(|_| {
                slots
                    .admit(client(7), false, Arc::new(Activity::new()))
                    .unwrap()
            })
            .collect();
        assert_eq!(proxy.len(), 5);
        assert_eq!(slots.open(), 8);
    }

    #[tokio::test]
    async fn a_full_listener_evicts_the_longest_free_connection_never_a_busy_one() {
        let slots = Slots::new(3, 10);
        let acts: Vec<Arc<Activity>> = (0..3).map(|_| Arc::new(Activity::new())).collect();
        let mut held: Vec<Slot> = acts
            .iter()
            .enumerate()
            .map(|(i, a)| slots.admit(client(i as u8), true, Arc::clone(a)).unwrap())
            .collect();
        // 0 and 2 busy; 1 free since its last response.
        acts[0].request_started();
        acts[2].request_started();
        tokio::time::sleep(Duration::from_millis(5)).await;
        acts[1].request_started();
        acts[1].request_finished();
        let newcomer = Arc::new(Activity::new());
        let s = slots.admit(client(9), true, Arc::clone(&newcomer)).unwrap();
        // Connection 1 was told to go and no longer counts.
        tokio::time::timeout(Duration::from_secs(1), acts[1].evicted.notified())
            .await
            .unwrap();
        assert_eq!(slots.open(), 3);
        // Its slot's later drop does not free a second place.
        held.remove(1);
        assert_eq!(slots.open(), 3);
        // Every remaining connection busy: refused.
        newcomer.request_started();
        assert_eq!(
            slots
                .admit(client(8), true, Arc::new(Activity::new()))
                .unwrap_err(),
            Refused::Full
        );
        drop(s);
        assert!(slots
            .admit(client(8), true, Arc::new(Activity::new()))
            .is_ok());
    }

    #[test]
    fn eviction_prefers_the_longest_without_a_request() {
        let slots = Slots::new(2, 10);
        let old = Arc::new(Activity::new());
        let young = Arc::new(Activity::new());
        let _a = slots.admit(client(1), true, Arc::clone(&old)).unwrap();
        let _b = slots.admit(client(2), true, Arc::clone(&young)).unwrap();
        young.since_ms.store(50, Ordering::Relaxed);
        // A slow head still counts as free (no request in flight).
        old.on_read();
        assert_eq!(old.idle_since(), None);
        assert!(old.free_since().is_some());
        let _c = slots
            .admit(client(3), true, Arc::new(Activity::new()))
            .unwrap();
        let t = slots.table();
        assert!(t.open.values().any(|(_, a)| Arc::ptr_eq(a, &young)));
        assert!(!t.open.values().any(|(_, a)| Arc::ptr_eq(a, &old)));
        assert_eq!(t.per_client.get(&client(1)), None);
    }

    #[test]
    fn activity_phases() {
        let a = Activity::new();
        assert!(a.idle_since().is_some());
        a.on_read();
        assert!(a.idle_since().is_none(), "a head is arriving");
        a.request_started();
        assert!(a.free_since().is_none());
        a.on_read();
        a.on_write();
        assert!(a.free_since().is_none(), "busy until the response");
        a.request_finished();
        assert!(a.idle_since().is_some(), "idle again after the response");
    }

    #[test]
    fn caps_fit_the_open_file_limit() {
        let d = ConnLimits::default();
        assert_eq!(fit_to_open_files(d, None), d);
        assert_eq!(fit_to_open_files(d, Some(1_000_000)), d);
        // The reported attack: a node limited to 256 descriptors.
        let f = fit_to_open_files(d, Some(256));
        assert_eq!(f.max_connections, 64);
        assert_eq!(f.max_connections_per_client, 64);
        assert!(2 * f.max_connections as u64 + RESERVED_FDS <= 256);
        let f = fit_to_open_files(d, Some(1024));
        assert_eq!(f.max_connections, 448);
        assert_eq!(fit_to_open_files(d, Some(10)).max_connections, 1);
        let text = "Limit                     Soft Limit           Hard Limit           Units     \n\
                    Max cpu time              unlimited            unlimited            seconds   \n\
                    Max open files            1024                 524288               files     \n";
        assert_eq!(parse_open_files_limit(text), Some(1024));
        assert_eq!(
            parse_open_files_limit("Max open files  unlimited  unlimited  files"),
            None
        );
    }
}
