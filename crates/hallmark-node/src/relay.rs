//! The outbox relay (issue 21; `docs/events.md`, "Delivery to NATS JetStream"): a background
//! task that delivers the outbox's events, in order, to a JetStream stream, and marks each
//! delivered once the server acknowledged it.
//!
//! - **Never in the write path.** Writes only insert outbox rows (in their transaction); the
//!   relay reads them afterwards. A broker that is down, slow or misconfigured delays
//!   delivery, never a publish.
//! - **One relay at a time** among the nodes sharing a database: the one holding the lease
//!   (`Store::claim_relay`, [`LEASE`] long, renewed once half of it has passed). Another node takes over
//!   when a lease expires (a node that died).
//! - **At least once, de-duplicated.** Each message carries `Nats-Msg-Id: <DID>#<audit seq>`;
//!   JetStream drops a second copy within the stream's de-duplication window (two minutes),
//!   so a batch re-sent after a lost acknowledgement, a crash before marking, or a lease
//!   handed over mid-batch is stored once. Outside that window a re-sent event is a
//!   duplicate a consumer recognises by its CloudEvents `id`.
//! - **Order.** Rows go in outbox order (= audit order); a batch is published in order on one
//!   connection and marked delivered only up to the first message not acknowledged.
//! - **Retries** with exponential backoff (250 ms doubling to 30 s) while the broker is down.

use crate::app::AppState;
use crate::config::NatsSettings;
use async_nats::jetstream::{self, stream};
use std::time::Duration;
use time::OffsetDateTime;
use tokio::sync::watch;
use tokio::task::JoinHandle;

/// How long a relay's lease lasts; renewed once half of it has passed.
pub const LEASE: Duration = Duration::from_secs(30);
/// Rows delivered per round.
pub const BATCH: u32 = 200;
/// Pause when the outbox is empty.
pub const IDLE: Duration = Duration::from_millis(200);
/// Pause when another node holds the lease.
pub const STANDBY: Duration = Duration::from_secs(2);
/// JetStream's de-duplication window of the stream the relay creates.
pub const DUPLICATE_WINDOW: Duration = Duration::from_secs(120);
/// First and last retry delays while the broker is unreachable.
const BACKOFF: (Duration, Duration) = (Duration::from_millis(250), Duration::from_secs(30));

/// Why a round of delivery stopped.
#[derive(Debug, thiserror::Error)]
enum RelayError {
    #[error("cannot connect to NATS: {0}")]
    Connect(String),
    #[error("the JetStream stream: {0}")]
    Stream(String),
    #[error("publishing: {0}")]
    Publish(String),
    #[error("the store: {0}")]
    Store(#[from] hallmark_store::StoreError),
}

/// Starts the relay for `app`'s outbox to `settings`' broker; it ends when `stop` turns
/// true.
pub fn spawn(
    app: AppState,
    settings: NatsSettings,
    mut stop: watch::Receiver<bool>,
) -> JoinHandle<std::io::Result<()>> {
    tokio::spawn(async move {
        let holder = holder_name();
        let mut delay = BACKOFF.0;
        tracing::info!(url = %settings.url, stream = %settings.stream, %holder, "event relay starting");
        loop {
            let round = async {
                let js = connect(&settings).await?;
                deliver(&app, &js, &settings, &holder, &mut delay).await
            };
            let outcome = tokio::select! {
                r = round => r,
                _ = stop.wait_for(|s| *s) => return Ok(()),
            };
            if let Err(e) = outcome {
                tracing::warn!(error = %e, retry_in_ms = delay.as_millis() as u64, "event relay");
            }
            tokio::select! {
                () = tokio::time::sleep(delay) => {}
                _ = stop.wait_for(|s| *s) => return Ok(()),
            }
            delay = (delay * 2).min(BACKOFF.1);
        }
    })
}

/// A lease holder's name (this relay's, the webhook dispatcher's): the host and a random
/// suffix (unique per call).
pub fn holder_name() -> String {
    let host = std::env::var("HOSTNAME").unwrap_or_else(|_| "node".to_owned());
    let host: String = host.chars().take(64).collect();
    let mut random = [0u8; 8];
    // A fixed suffix is still a valid name; two relays with one name would only share a
    // lease, which JetStream's de-duplication covers.
    let _ = rand_core::RngCore::try_fill_bytes(&mut rand_core::OsRng, &mut random);
    format!("{host}-{}", hex::encode(random))
}

/// Connects and finds (or creates) the stream.
async fn connect(settings: &NatsSettings) -> Result<jetstream::Context, RelayError> {
    let mut options = async_nats::ConnectOptions::new()
        .name("hallmark-node")
        .connection_timeout(Duration::from_secs(5));
    if let Some(path) = &settings.credentials {
        options = options
            .credentials_file(path)
            .await
            .map_err(|e| RelayError::Connect(format!("credentials file: {e}")))?;
    }
    let client = options
        .connect(settings.url.as_str())
        .await
        .map_err(|e| RelayError::Connect(e.to_string()))?;
    let mut js = jetstream::new(client);
    js.set_timeout(Duration::from_secs(10));
    js.get_or_create_stream(stream::Config {
        name: settings.stream.clone(),
        subjects: vec![format!("{}.>", settings.subject)],
        duplicate_window: DUPLICATE_WINDOW,
        storage: stream::StorageType::File,
        ..Default::default()
    })
    .await
    .map_err(|e| RelayError::Stream(e.to_string()))?;
    Ok(js)
}

/// Delivers rounds until an error: claim the lease, take the oldest undelivered rows,
/// publish them in order, mark the acknowledged prefix delivered.
async fn deliver(
    app: &AppState,
    js: &jetstream::Context,
    settings: &NatsSettings,
    holder: &str,
    delay: &mut Duration,
) -> Result<(), RelayError> {
    let source = app.issuer.did.to_string();
    let lease = time::Duration::try_from(LEASE).unwrap_or(time::Duration::seconds(30));
    // Until when this relay holds the lease; renewed once half of it has passed, not every
    // round (an idle relay would otherwise write the lease row five times a second).
    let mut held_until = OffsetDateTime::UNIX_EPOCH;
    loop {
        let now = OffsetDateTime::now_utc();
        if held_until - now < lease / 2 {
            if !app.store.claim_relay(holder, now, now + lease).await? {
                held_until = OffsetDateTime::UNIX_EPOCH;
                tokio::time::sleep(STANDBY).await;
                continue;
            }
            held_until = now + lease;
        }
        let rows = app.store.undelivered(BATCH).await?;
        if rows.is_empty() {
            tokio::time::sleep(IDLE).await;
            continue;
        }
        let mut pending = Vec::with_capacity(rows.len());
        let mut failure = None;
        for row in &rows {
            let mut headers = async_nats::HeaderMap::new();
            headers.insert(
                async_nats::header::NATS_MESSAGE_ID,
                format!("{source}#{}", row.audit_seq).as_str(),
            );
            headers.insert("Content-Type", "application/cloudevents+json");
            match js
                .publish_with_headers(
                    settings.subject_of(&row.topic),
                    headers,
                    row.payload.clone().into(),
                )
                .await
            {
                Ok(ack) => pending.push((row.id, ack)),
                Err(e) => {
                    failure = Some(RelayError::Publish(e.to_string()));
                    break;
                }
            }
        }
        let mut delivered = Vec::with_capacity(pending.len());
        for (id, ack) in pending {
            match ack.await {
                Ok(_) => delivered.push(id),
                Err(e) => {
                    failure.get_or_insert(RelayError::Publish(e.to_string()));
                    break;
                }
            }
        }
        if !delivered.is_empty() {
            app.store
                .mark_delivered(&delivered, OffsetDateTime::now_utc())
                .await?;
            *delay = BACKOFF.0;
        }
        if let Some(e) = failure {
            return Err(e);
        }
    }
}
