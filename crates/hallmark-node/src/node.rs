//! Start-up and running. `serve` checks everything it can before it touches the database:
//! the configuration (validated by the caller), the sector plugins (refusing any that does
//! not verify), the keystore or HSM, both listeners. Only then does it open the store
//! (migrating PostgreSQL with the migration URL, then refusing an over-privileged app
//! role), refuse a log whose checkpoints name another origin, write (key metadata, the
//! `node.started` event) and serve; it stops gracefully.

use crate::app::{App, AppState};
use crate::audit::AuditSink;
use crate::auth::{AdminCredentials, AuthState, KeyLookup};
use crate::backing::{StoreAudit, StoreKeys};
use crate::config::{Database, Signing, ValidatedConfig};
use crate::edge::serve::{self, ConnLimits};
use crate::edge::{admin_router, observe, public_router, EdgeConfig};
use crate::metrics::Listener;
use crate::plugins::{PluginGate, PluginLoadError, PluginSettings};
use crate::profile::Profile;
use crate::refusals::Refusals;
use crate::routes;
use crate::transparency::{self, origin_for, TransparencyLog};
use axum::Router;
use hallmark_core::issue::Issuer;
use hallmark_core::sector::SectorRegistry;
use hallmark_keys::keystore::{KdfParams, Keystore};
use hallmark_keys::{Availability, HsmCustody, KeyCustody, KeysError, KeystoreCustody};
use hallmark_store::{PgStore, SqliteStore, Store, StoreError};
use secrecy::ExposeSecret;
use std::net::SocketAddr;
use std::sync::Arc;
use time::OffsetDateTime;
use tokio::sync::watch;
use tokio::task::JoinHandle;

/// Why the node did not start (each message is one line naming the problem).
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    /// The database could not be opened, migrated or is unsafe.
    #[error("database: {0}")]
    Store(#[from] StoreError),
    /// The keystore could not be unlocked.
    #[error("keystore: {0}")]
    Keystore(#[from] KeysError),
    /// The keystore file does not exist (production; development creates one).
    #[error(
        "keystore: {} does not exist: create it with `hallmark keys init --keystore {}` \
         (HALLMARK_KEYSTORE_PASSPHRASE set to the node's passphrase), or set \
         HALLMARK_KEYSTORE_PATH to the keystore the node should use",
        path.display(),
        path.display()
    )]
    KeystoreMissing {
        /// Where the node looked (HALLMARK_KEYSTORE_PATH, default `<data dir>/hallmark-keys.json`).
        path: std::path::PathBuf,
    },
    /// Development: the data directory could not be created.
    #[error("cannot create the data directory {}: {source}", path.display())]
    DataDir {
        /// The directory.
        path: std::path::PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// The stored log's checkpoints are signed for another origin: the public base URL
    /// changed.
    #[error(
        "transparency log: the origin changed from {stored:?} to {configured:?}: the stored \
         checkpoints are signed by this node's log key for {stored:?}, which verifiers have \
         pinned, so the log cannot continue under another name (the passports' issuer DID \
         names the old base URL too); start with the HALLMARK_PUBLIC_BASE_URL that gives \
         {stored:?}, or start a new node with a new database and keystore for the new URL"
    )]
    LogOriginChanged {
        /// The origin the stored checkpoints name.
        stored: String,
        /// The origin of the configured public base URL.
        configured: String,
    },
    /// The public base URL cannot be an issuer.
    #[error("public base URL: {0}")]
    Issuer(String),
    /// A listener could not be bound.
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        /// The address.
        addr: SocketAddr,
        /// Why.
        source: std::io::Error,
    },
    /// A listener failed while serving.
    #[error("listener failed: {0}")]
    Serve(String),
    /// Signing-key metadata could not be synchronised into the store.
    #[error("signing-key metadata: {0}")]
    Keys(String),
    /// A sector plugin did not load or verify (the message names the file).
    #[error("{0}")]
    Plugins(#[from] PluginLoadError),
    /// An OpenAPI document could not be built (a bug: a unit test builds both).
    #[error("OpenAPI document: {0}")]
    OpenApi(#[from] crate::openapi::DocumentError),
    /// The `node.started` detail did not serialise (never expected).
    #[error("node.started: {0}")]
    Started(hallmark_core::tlog::event::EventError),
}

impl From<crate::started::StartedError> for StartError {
    fn from(e: crate::started::StartedError) -> Self {
        match e {
            crate::started::StartedError::Store(e) => StartError::Store(e),
            crate::started::StartedError::Event(e) => StartError::Started(e),
        }
    }
}

/// Opens the store. PostgreSQL: migrations with the migration URL (one privileged
/// connection, closed afterwards), then the app pool, refused if the role is over-privileged.
pub async fn open_store(db: &Database) -> Result<Arc<dyn Store>, StartError> {
    match db {
        Database::Sqlite { path } => Ok(Arc::new(SqliteStore::open(path).await?)),
        Database::Postgres {
            app_url,
            migration_url,
        } => Ok(Arc::new(
            PgStore::start(migration_url.expose_secret(), app_url.expose_secret()).await?,
        )),
    }
}

/// Opens key custody as configured: unlocks the keystore or connects the HSM (the one
/// place the node chooses a backend). Unavailable custody (an unreachable HSM) is not an
/// error: the node starts, serves public reads, and signing answers 503 "HSM unavailable".
/// A missing keystore file is [`StartError::KeystoreMissing`] (saying how to create one).
pub fn open_signing(signing: &Signing) -> Result<Arc<dyn KeyCustody>, StartError> {
    let custody: Arc<dyn KeyCustody> = match signing {
        Signing::Keystore { path, .. } if !path.exists() => {
            return Err(StartError::KeystoreMissing { path: path.clone() })
        }
        Signing::Keystore { path, passphrase } => {
            Arc::new(KeystoreCustody::new(Keystore::open(path, passphrase)?))
        }
        Signing::Hsm(cfg, integrity) => Arc::new(HsmCustody::connect(cfg, Arc::clone(integrity))),
    };
    if let Availability::Unavailable { reason } = custody.availability() {
        tracing::error!(%reason, "HSM unavailable: serving reads, signing will fail with 503");
    }
    Ok(custody)
}

/// Development profile: creates the data directory and, when the keystore file does not
/// exist, a keystore (Argon2id at the floor for the demo passphrase, with the
/// `DEVELOPMENT-ONLY` marker beside it, so production refuses it). Production creates
/// nothing.
pub fn prepare_development(config: &ValidatedConfig) -> Result<(), StartError> {
    if config.profile != Profile::Development {
        return Ok(());
    }
    let dir = |path: &std::path::Path| {
        std::fs::create_dir_all(path).map_err(|source| StartError::DataDir {
            path: path.to_path_buf(),
            source,
        })
    };
    dir(&config.data_dir)?;
    let Signing::Keystore { path, passphrase } = &config.signing else {
        return Ok(());
    };
    if path.exists() {
        return Ok(());
    }
    let parent = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(std::path::Path::new("."));
    dir(parent)?;
    let demo = passphrase.expose_secret() == crate::config::DEMO_KEYSTORE_PASSPHRASE;
    let kdf = if demo {
        KdfParams::FLOOR
    } else {
        KdfParams::RECOMMENDED
    };
    Keystore::create(path, passphrase, kdf, OffsetDateTime::now_utc())?;
    if demo {
        crate::config::write_development_marker(parent).map_err(|source| StartError::DataDir {
            path: parent.to_path_buf(),
            source,
        })?;
    }
    tracing::warn!(keystore = %path.display(), "development: created a keystore");
    Ok(())
}

/// Loads the configured sector plugins on the blocking pool (reading and compiling is
/// CPU-bound); any plugin that does not load and verify is a start-up error naming its file.
pub async fn open_plugins(
    settings: &PluginSettings,
    profile: Profile,
) -> Result<PluginGate, StartError> {
    let settings = settings.clone();
    let gate = tokio::task::spawn_blocking(move || PluginGate::open(&settings, profile))
        .await
        .map_err(|e| {
            PluginLoadError::Host(hallmark_sandbox::SandboxError::Host(format!(
                "plugin loading did not complete: {e}"
            )))
        })??;
    gate.log_coverage(SectorRegistry::builtin());
    Ok(gate)
}

/// [`build_app_with_plugins`] without sector plugins: every sector publishes on JSON Schema
/// validation alone (tests and tools; `serve` and `demo` pass their plugins).
pub async fn build_app(
    store: Arc<dyn Store>,
    custody: Arc<dyn KeyCustody>,
    public_base_url: &str,
) -> Result<AppState, StartError> {
    build_app_with_plugins(store, custody, public_base_url, PluginGate::none()).await
}

/// Builds the application state: hands the store its row-authentication keys, refuses a log
/// whose checkpoints are signed for another origin ([`StartError::LogOriginChanged`];
/// nothing written), then creates the log-checkpoint key if custody has none and copies
/// the signing keys' public metadata into the store (so the DID document is served even when
/// the HSM is down). The checkpoint signer is woken by the store itself
/// ([`Store::committed`]).
pub async fn build_app_with_plugins(
    store: Arc<dyn Store>,
    custody: Arc<dyn KeyCustody>,
    public_base_url: &str,
    plugins: PluginGate,
) -> Result<AppState, StartError> {
    let issuer =
        Issuer::from_base_url(public_base_url).map_err(|e| StartError::Issuer(e.to_string()))?;
    let log = TransparencyLog::new(origin_for(&issuer.base_url).map_err(StartError::Issuer)?);
    // Every leaf and signing-key row the store writes from now on carries the node's tag:
    // the keys are set before anything below can write.
    let integrity = custody.integrity_keys()?;
    if !store.set_integrity(Arc::clone(&integrity)) {
        tracing::warn!("the store already had row-authentication keys; keeping them");
    }
    // Every audit event outsiders hear about gets its CloudEvent in the outbox, in its
    // transaction (docs/events.md); set before anything below can write.
    if !store.set_event_source(hallmark_core::events::EventSource::new(
        issuer.did.to_string(),
        issuer.base_url.clone(),
    )) {
        tracing::warn!("the store already had an event source; keeping it");
    }
    let app = Arc::new(App {
        store,
        issuer,
        custody,
        registry: SectorRegistry::builtin(),
        log,
        plugins,
        credentials: crate::cache::CredentialCache::new(
            crate::cache::DEFAULT_CREDENTIAL_CACHE_BYTES,
        ),
        did_document_cache: crate::cache::DidDocumentCache::default(),
        passport_states: crate::cache::PassportStateCache::new(100_000),
        resolves: crate::cache::ResolveCache::new(100_000),
        api_keys: Arc::new(crate::cache::ApiKeyCache::new(10_000)),
        integrity,
        alarms: crate::integrity::Alarms::default(),
        evidence: crate::evidence::EvidenceCache::new(crate::evidence::DEFAULT_BYTES),
        pages: crate::evidence::PageCache::new(crate::evidence::DEFAULT_PAGE_BYTES),
        status_list_writes: tokio::sync::Mutex::new(()),
        backup_link: std::sync::OnceLock::new(),
        seal_authority: std::sync::atomic::AtomicBool::new(false),
        nats: std::sync::OnceLock::new(),
        webhooks: std::sync::OnceLock::new(),
        did_web: std::sync::OnceLock::new(),
        status_positions: crate::positions::StatusPositions::default(),
        status_lists: crate::cache::StatusListCache::default(),
        imports: crate::imports::ImportSessions::default(),
        metrics: Arc::new(crate::metrics::Metrics::new()),
    });
    // Read-only: a log signed for another origin stops start-up before any write.
    if let Some(stored) = transparency::stored_origin(app.as_ref(), app.log.origin()).await? {
        return Err(StartError::LogOriginChanged {
            stored,
            configured: app.log.origin().to_string(),
        });
    }
    transparency::keys::ensure_log_key(app.custody.as_ref(), OffsetDateTime::now_utc())
        .map_err(|e| StartError::Keys(e.to_string()))?;
    app.sync_signing_keys("node:start-up", OffsetDateTime::now_utc())
        .await
        .map_err(|e| StartError::Keys(e.to_string()))?;
    // Every list in use has a signed version for both purposes. Custody that cannot sign
    // now (an HSM down) does not stop start-up: the re-signer tries again every minute.
    if let Err(e) = app.service().ensure_status_lists().await {
        tracing::warn!(error = %e, "status lists: the first versions could not be signed yet");
    }
    Ok(app)
}

/// The sink of the node's security events: the store's audit log, behind the aggregation
/// of refused requests ([`Refusals`]: bounded rows per client and per minute).
pub fn security_audit(app: &AppState, edge: &EdgeConfig) -> Arc<Refusals> {
    Refusals::new(
        Arc::new(StoreAudit::new(Arc::clone(&app.store))),
        edge.refusals,
    )
}

/// The two routers, fully layered: (public, admin), each serving its OpenAPI document, built
/// here once ([`crate::openapi::documents`]), each with the request metrics of its listener
/// outermost ([`crate::edge::observe`]). Security events go to `audit`.
pub fn routers(
    app: &AppState,
    edge: &EdgeConfig,
    admin: &AdminCredentials,
    audit: Arc<dyn AuditSink>,
) -> Result<(Router, Router), StartError> {
    let docs = crate::openapi::documents(&app.issuer, app.registry)?;
    let keys: Arc<dyn KeyLookup> = Arc::new(StoreKeys::with_cache(
        Arc::clone(&app.store),
        Arc::clone(&app.api_keys),
        Arc::clone(&app.integrity),
    ));
    let auth = AuthState::new(
        keys,
        audit,
        admin,
        edge.rate_limits.auth_failures_per_minute,
    );
    // The status lists' routes use the passports' negotiation and log headers
    // (`routes::public`), so they are merged here, not by `routes::public`.
    let status = routes::status::routes(&routes::public::base_path(&app.issuer.base_url))
        .with_state(Arc::clone(app));
    // One reader authentication for the listener: one per-reader rate limit over the
    // passport URLs and the EN 18222 reads.
    let readers = Arc::new(crate::edge::reader_auth::ReaderAuth::new(Arc::clone(app)));
    let public = routes::public::routes(Arc::clone(app), docs.public, Arc::clone(&readers))
        .merge(status)
        .merge(routes::resolver::routes(Arc::clone(app)))
        .merge(routes::dpp::public_routes(Arc::clone(app), readers));
    let public = observe::layer(
        routes::resolver::preflight_link(public_router(public, edge), &app.issuer.base_url),
        Arc::clone(&app.metrics),
        Listener::Public,
    );
    let admin = admin_router(
        routes::admin::routes(Arc::clone(app), docs.admin)
            .merge(routes::dpp::admin_routes(Arc::clone(app)))
            .merge(routes::ops::admin_routes(Arc::clone(app))),
        edge,
        auth,
    );
    let admin = observe::layer(admin, Arc::clone(&app.metrics), Listener::Admin);
    Ok((public, admin))
}

/// A running node.
pub struct Running {
    /// Where the public listener is bound.
    pub public_addr: SocketAddr,
    /// Where the admin listener is bound.
    pub admin_addr: SocketAddr,
    /// The application state.
    pub app: AppState,
    stop: watch::Sender<bool>,
    /// The two listeners.
    listeners: Vec<JoinHandle<std::io::Result<()>>>,
    /// Counts of refused requests not yet written, flushed once the listeners have ended.
    refusals: Arc<Refusals>,
    /// Background tasks (checkpoint signer, change feed, status list re-signer, refusal
    /// flusher).
    tasks: Vec<JoinHandle<std::io::Result<()>>>,
}

/// Both listeners, bound (before the database is touched: a port in use stops start-up
/// with nothing written).
pub struct Listeners {
    public: tokio::net::TcpListener,
    admin: tokio::net::TcpListener,
    /// Where the public listener is bound.
    pub public_addr: SocketAddr,
    /// Where the admin listener is bound.
    pub admin_addr: SocketAddr,
}

impl Listeners {
    /// Binds the public and the admin listener.
    pub async fn bind(public: SocketAddr, admin: SocketAddr) -> Result<Self, StartError> {
        let bind = |addr: SocketAddr| async move {
            let listener = tokio::net::TcpListener::bind(addr)
                .await
                .map_err(|source| StartError::Bind { addr, source })?;
            let local = listener
                .local_addr()
                .map_err(|source| StartError::Bind { addr, source })?;
            Ok::<_, StartError>((listener, local))
        };
        let (public, public_addr) = bind(public).await?;
        let (admin, admin_addr) = bind(admin).await?;
        Ok(Listeners {
            public,
            admin,
            public_addr,
            admin_addr,
        })
    }
}

fn spawn(
    listener: tokio::net::TcpListener,
    router: Router,
    limits: ConnLimits,
    proxies: Arc<crate::edge::TrustedProxies>,
    stop: watch::Receiver<bool>,
) -> JoinHandle<std::io::Result<()>> {
    tokio::spawn(crate::edge::serve::serve(
        listener, router, limits, proxies, stop,
    ))
}

/// The connection caps of `edge`, lowered if the process's open-file limit cannot hold both
/// listeners at their caps (logged).
fn connection_limits(edge: &EdgeConfig) -> ConnLimits {
    let soft = serve::open_files_soft_limit();
    let fitted = serve::fit_to_open_files(edge.connections, soft);
    if fitted != edge.connections {
        tracing::warn!(
            open_files = soft,
            configured = edge.connections.max_connections,
            effective = fitted.max_connections,
            "HALLMARK_MAX_CONNECTIONS lowered to fit the open-file limit (two listeners + {} reserved); raise the limit (e.g. LimitNOFILE) to use the configured cap",
            serve::RESERVED_FDS,
        );
    }
    fitted
}

/// Binds both listeners, starts the checkpoint signer, and serves until [`Running::stop`].
pub async fn start(
    app: AppState,
    edge: &EdgeConfig,
    admin: &AdminCredentials,
    public_listen: SocketAddr,
    admin_listen: SocketAddr,
) -> Result<Running, StartError> {
    let listeners = Listeners::bind(public_listen, admin_listen).await?;
    start_on(app, edge, admin, listeners).await
}

/// [`start`] on listeners already bound.
pub async fn start_on(
    app: AppState,
    edge: &EdgeConfig,
    admin: &AdminCredentials,
    bound: Listeners,
) -> Result<Running, StartError> {
    let refusals = security_audit(&app, edge);
    let (public, admin_r) = routers(&app, edge, admin, refusals.clone())?;
    let limits = connection_limits(edge);
    let (public_addr, admin_addr) = (bound.public_addr, bound.admin_addr);
    let (stop, rx) = watch::channel(false);
    let listeners = vec![
        spawn(
            bound.public,
            public,
            limits,
            Arc::clone(&edge.trusted_proxies),
            rx.clone(),
        ),
        spawn(
            bound.admin,
            admin_r,
            limits,
            Arc::clone(&edge.trusted_proxies),
            rx.clone(),
        ),
    ];
    let mut tasks = vec![
        transparency::checkpointer::spawn(Arc::clone(&app), rx.clone()),
        crate::changes::spawn(Arc::clone(&app), rx.clone()),
        crate::service::status_lists::spawn_refresher(Arc::clone(&app), rx.clone()),
    ];
    if let Some(nats) = app.nats.get() {
        tasks.push(crate::relay::spawn(
            Arc::clone(&app),
            nats.clone(),
            rx.clone(),
        ));
    }
    tasks.push(crate::webhooks::spawn(Arc::clone(&app), rx.clone()));
    tasks.push(Arc::clone(&refusals).spawn_flusher(rx));
    tracing::info!(%public_addr, %admin_addr, "listening");
    Ok(Running {
        public_addr,
        admin_addr,
        app,
        stop,
        listeners,
        refusals,
        tasks,
    })
}

impl Running {
    /// Asks both listeners to finish in-flight requests and stop (and the background tasks).
    pub fn stop(&self) {
        let _ = self.stop.send(true);
    }

    /// Waits for both listeners to end, writes the refusal counts still pending, and waits
    /// for the background tasks.
    pub async fn wait(self) -> Result<(), StartError> {
        let mut first_error = None;
        for t in self.listeners {
            let ended = match t.await {
                Ok(Ok(())) => continue,
                Ok(Err(e)) => e.to_string(),
                Err(e) => e.to_string(),
            };
            first_error.get_or_insert(StartError::Serve(ended));
        }
        self.refusals.close().await;
        if let Some(e) = first_error {
            return Err(e);
        }
        for t in self.tasks {
            match t.await {
                Ok(Ok(())) => {}
                Ok(Err(e)) => return Err(StartError::Serve(e.to_string())),
                Err(e) => return Err(StartError::Serve(e.to_string())),
            }
        }
        Ok(())
    }

    /// Serves until Ctrl-C or SIGTERM, then shuts down gracefully.
    pub async fn run_until_signal(self) -> Result<(), StartError> {
        shutdown_signal().await;
        let pages = self.app.pages.stats();
        tracing::info!(
            page_cache_hits = pages.hits,
            page_cache_misses = pages.misses,
            page_cache_pages = pages.pages,
            page_cache_bytes = pages.bytes,
            "shutting down"
        );
        self.stop();
        self.wait().await
    }
}

/// Resolves on Ctrl-C or (Unix) SIGTERM.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = term => {},
    }
}

/// `hallmark serve`: everything from a validated configuration. Checks before it touches
/// the database — plugins, keystore or HSM, both listeners bound —, then opens (migrates)
/// the store, refuses a log signed for another origin, records `node.started` (the
/// effective configuration without secrets) and serves. A failure before the store is
/// opened leaves the database as it was.
pub async fn serve(config: &ValidatedConfig) -> Result<Running, StartError> {
    // Plugins first: a plugin that does not verify stops the node before anything is opened.
    let plugins = open_plugins(&config.plugins, config.profile).await?;
    prepare_development(config)?;
    let signing = open_signing(&config.signing)?;
    let listeners = Listeners::bind(config.public_listen, config.admin_listen).await?;
    // Only now the database.
    let store = open_store(&config.database).await?;
    let app = build_app_with_plugins(store, signing, &config.public_base_url, plugins).await?;
    app.log.set_interval(config.checkpoint_interval);
    app.credentials.resize(config.read_cache_bytes);
    app.pages.resize(config.page_cache_bytes);
    apply_policies(&app, config);
    crate::started::record_started(&app, config).await?;
    start_on(app, &config.edge(), &config.admin, listeners).await
}

/// Hands `app` the configuration's policies that live on it: sealing of authority answers,
/// the EU registry's back-up link, the NATS relay, the webhooks' destinations and the verification service's did:web hosts. One place
/// for `run` and `hallmark demo`.
pub fn apply_policies(app: &App, config: &ValidatedConfig) {
    app.seal_authority
        .store(config.seal_authority, std::sync::atomic::Ordering::Relaxed);
    if let Some(template) = &config.backup_link_template {
        let _ = app.backup_link.set(template.clone());
    }
    if let Some(nats) = &config.nats {
        let _ = app.nats.set(nats.clone());
    }
    let _ = app.webhooks.set(config.webhooks.clone());
    let _ = app.did_web.set(config.did_web.clone());
}
