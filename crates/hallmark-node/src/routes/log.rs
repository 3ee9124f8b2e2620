//! The public transparency-log endpoints, under `<base path>/log` (the log's origin is
//! `<host>[/path]/log`). Everything is answered from the in-memory tree and the latest
//! trusted checkpoint; only leaf bytes are read from the store. Nothing beyond the latest
//! signed checkpoint is served. Auditor guide with examples: `docs/transparency-log.md`.
//!
//! | Path | Answer |
//! |---|---|
//! | `GET …/log/checkpoint` | the latest signed checkpoint (text/plain signed note) |
//! | `GET …/log/key` | the log's verifier key (text/plain, signed-note vkey) |
//! | `GET …/log/entries/{index}` | one entry: index, leaf hash, leaf bytes (base64) |
//! | `GET …/log/entries?start=i&end=j` | entries `i..j` (at most [`MAX_ENTRIES`]) |
//! | `GET …/log/proof/inclusion?index=i[&size=n]` | [`InclusionProof`] |
//! | `GET …/log/proof/inclusion?hash=h[&size=n]` | [`InclusionProof`] of the leaf with hash `h` |
//! | `GET …/log/proof/consistency?old=m[&new=n]` | [`ConsistencyProof`] |
//!
//! `size` and `new` default to the latest checkpoint's size. Leaves of non-public events
//! ([`is_public_action`]) are served as hash only (`withheld`).

use crate::app::AppState;
use crate::problem::{ApiError, Problem};
use crate::transparency::keys::current_verifier_key;
use crate::transparency::{is_public_action, SignedCheckpoint, MAX_ENTRIES};
use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use axum::http::header::{CACHE_CONTROL, CONTENT_TYPE};
use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine as _;
use hallmark_core::tlog::evidence::decode_hash;
use hallmark_core::tlog::{B64Hash, ConsistencyProof, Hash, InclusionProof};
use serde::{Deserialize, Serialize};
use std::sync::Arc;

/// Media type of the checkpoint and the key.
pub const TEXT_PLAIN: &str = "text/plain; charset=utf-8";
/// Cache-Control of answers that never change (proofs for an explicit size, entries).
const IMMUTABLE: &str = "public, max-age=31536000, immutable";
/// Cache-Control of answers that follow the latest checkpoint.
const FRESH: &str = "no-cache";

/// The log's paths under a base path, with a summary each (router, route table, OpenAPI).
pub fn paths(base: &str) -> Vec<(String, &'static str)> {
    vec![
        (
            format!("{base}/log/checkpoint"),
            "The latest signed checkpoint of the transparency log (C2SP signed note)",
        ),
        (
            format!("{base}/log/key"),
            "The log's verifier key (signed-note vkey); pin it out of band",
        ),
        (
            format!("{base}/log/entries"),
            "Log entries start..end (exclusive, at most 256): leaf hash and, for public events, leaf bytes",
        ),
        (
            format!("{base}/log/entries/{{index}}"),
            "One log entry: leaf hash and, for public events, the leaf bytes (canonical audit event)",
        ),
        (
            format!("{base}/log/proof/inclusion"),
            "Inclusion proof of a leaf (by index or leaf hash) in the tree of a checkpointed size",
        ),
        (
            format!("{base}/log/proof/consistency"),
            "Consistency proof between two checkpointed tree sizes",
        ),
    ]
}

/// The log routes (merged into the public router).
pub fn routes(base: &str) -> Router<AppState> {
    let p = paths(base);
    let path = |i: usize| p.get(i).map(|(p, _)| p.as_str()).unwrap_or("/log");
    Router::new()
        .route(path(0), get(checkpoint))
        .route(path(1), get(key))
        .route(path(2), get(entries))
        .route(path(3), get(entry))
        .route(path(4), get(inclusion))
        .route(path(5), get(consistency))
}

/// Errors of the log endpoints, as problem+json.
#[derive(Debug, thiserror::Error)]
pub enum LogError {
    /// A missing, malformed or contradictory parameter.
    #[error("{0}")]
    BadRequest(String),
    /// No checkpoint has been signed yet.
    #[error("no checkpoint has been signed yet; retry shortly")]
    NoCheckpoint,
    /// A tree size beyond the latest signed checkpoint.
    #[error("tree size {size} is beyond the latest signed checkpoint (size {latest})")]
    BeyondCheckpoint {
        /// The size asked for.
        size: u64,
        /// The latest checkpoint's size.
        latest: u64,
    },
    /// A leaf that is not in the tree of the size asked for.
    #[error("{0}")]
    NoSuchLeaf(String),
    /// The log has no current key.
    #[error("the log has no current key")]
    NoKey,
    /// Anything else.
    #[error(transparent)]
    Api(#[from] ApiError),
}

impl From<hallmark_store::StoreError> for LogError {
    fn from(e: hallmark_store::StoreError) -> Self {
        LogError::Api(e.into())
    }
}

impl IntoResponse for LogError {
    fn into_response(self) -> Response {
        let detail = self.to_string();
        match self {
            LogError::BadRequest(_) => {
                Problem::new("bad-request", "Bad request", StatusCode::BAD_REQUEST).detail(detail)
            }
            LogError::NoCheckpoint => {
                Problem::new("no-checkpoint", "No checkpoint yet", StatusCode::NOT_FOUND)
                    .detail(detail)
            }
            LogError::BeyondCheckpoint { latest, .. } => Problem::new(
                "beyond-checkpoint",
                "Beyond the latest checkpoint",
                StatusCode::BAD_REQUEST,
            )
            .detail(detail)
            .with("checkpointSize", latest),
            LogError::NoSuchLeaf(_) | LogError::NoKey => {
                Problem::new("not-found", "Not found", StatusCode::NOT_FOUND).detail(detail)
            }
            LogError::Api(e) => return e.into_response(),
        }
        .into_response()
    }
}

fn latest(app: &AppState) -> Result<Arc<SignedCheckpoint>, LogError> {
    app.log.latest().ok_or(LogError::NoCheckpoint)
}

/// `size` if given (and within the latest checkpoint), else the latest checkpoint's size.
fn tree_size(app: &AppState, size: Option<u64>) -> Result<u64, LogError> {
    let latest = latest(app)?.size;
    match size {
        None => Ok(latest),
        Some(s) if s > latest => Err(LogError::BeyondCheckpoint { size: s, latest }),
        Some(s) => Ok(s),
    }
}

fn query<T>(q: Result<Query<T>, QueryRejection>) -> Result<T, LogError> {
    q.map(|Query(t)| t)
        .map_err(|e| LogError::BadRequest(e.body_text()))
}

fn text(body: String, cache: &'static str) -> Response {
    let mut r = (StatusCode::OK, body).into_response();
    r.headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static(TEXT_PLAIN));
    r.headers_mut()
        .insert(CACHE_CONTROL, HeaderValue::from_static(cache));
    r
}

fn json(body: &impl Serialize, cache: &'static str) -> Result<Response, LogError> {
    let mut r = axum::Json(body).into_response();
    r.headers_mut()
        .insert(CACHE_CONTROL, HeaderValue::from_static(cache));
    Ok(r)
}

async fn checkpoint(State(app): State<AppState>) -> Result<Response, LogError> {
    Ok(text(latest(&app)?.note.clone(), FRESH))
}

async fn key(State(app): State<AppState>) -> Result<Response, LogError> {
    let vkey = current_verifier_key(app.as_ref(), app.log.origin())
        .await?
        .ok_or(LogError::NoKey)?;
    Ok(text(format!("{vkey}\n"), "public, max-age=300"))
}

/// One log entry as served.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Entry {
    /// Leaf index.
    pub index: u64,
    /// Leaf hash (from the tree the checkpoints commit to).
    pub leaf_hash: B64Hash,
    /// The leaf bytes (canonical audit event), base64; absent when withheld.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub leaf: Option<String>,
    /// Why the bytes are not served, when withheld.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub withheld: Option<&'static str>,
}

/// `GET …/log/entries`: the entries asked for.
#[derive(Debug, Serialize)]
struct Entries {
    entries: Vec<Entry>,
}

const WITHHELD: &str = "not a public event (drafts, authentication, API keys): hash only";

/// Entries `start..end` (both within the tree); leaf bytes from the store.
async fn read_entries(app: &AppState, start: u64, end: u64) -> Result<Vec<Entry>, LogError> {
    let count = u32::try_from(end - start).map_err(|_| ApiError::Internal)?;
    let events = app.store.list_audit(start + 1, count).await?;
    let mut out = Vec::with_capacity(events.len());
    for index in start..end {
        let hash = app.log.leaf_hash(index).ok_or(ApiError::Internal)?;
        let event = events.iter().find(|e| e.seq == index + 1);
        let public = event.filter(|e| is_public_action(&e.event.action));
        let leaf = match public {
            Some(e) => Some(B64.encode(e.leaf_bytes()?)),
            None => None,
        };
        out.push(Entry {
            index,
            leaf_hash: B64Hash(hash),
            withheld: leaf.is_none().then_some(WITHHELD),
            leaf,
        });
    }
    Ok(out)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Range {
    start: u64,
    end: u64,
}

async fn entries(
    State(app): State<AppState>,
    q: Result<Query<Range>, QueryRejection>,
) -> Result<Response, LogError> {
    let Range { start, end } = query(q)?;
    if start >= end || end - start > MAX_ENTRIES {
        return Err(LogError::BadRequest(format!(
            "need start < end and at most {MAX_ENTRIES} entries (end is exclusive)"
        )));
    }
    tree_size(&app, Some(end))?;
    let entries = read_entries(&app, start, end).await?;
    // Through `serde_json::Value` (sorted members), as the entries were always answered.
    let body = crate::api::reply(&Entries { entries })?;
    json(&body.0, IMMUTABLE)
}

async fn entry(
    State(app): State<AppState>,
    Path(index): Path<String>,
) -> Result<Response, LogError> {
    let index: u64 = index
        .parse()
        .map_err(|_| LogError::BadRequest("the index is a non-negative integer".into()))?;
    let size = latest(&app)?.size;
    if index >= size {
        return Err(LogError::NoSuchLeaf(format!(
            "leaf {index} is not in the latest signed checkpoint (size {size})"
        )));
    }
    let mut one = read_entries(&app, index, index + 1).await?;
    let e = one.pop().ok_or(ApiError::Internal)?;
    json(&e, IMMUTABLE)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct InclusionQuery {
    index: Option<u64>,
    hash: Option<String>,
    size: Option<u64>,
}

async fn inclusion(
    State(app): State<AppState>,
    q: Result<Query<InclusionQuery>, QueryRejection>,
) -> Result<Response, LogError> {
    let q = query(q)?;
    let size = tree_size(&app, q.size)?;
    let index = match (q.index, q.hash.as_deref()) {
        (Some(i), None) => i,
        (None, Some(h)) => {
            // A '+' of standard base64 arrives as a space when not percent-encoded.
            let hash: Hash = decode_hash(&h.replace(' ', "+")).ok_or_else(|| {
                LogError::BadRequest("hash must be a SHA-256 leaf hash (base64 or hex)".into())
            })?;
            app.store
                .find_leaf(&hash)
                .await?
                .filter(|&i| i < size)
                .ok_or_else(|| {
                    LogError::NoSuchLeaf(format!(
                        "no leaf with this hash in the tree of size {size}"
                    ))
                })?
        }
        _ => {
            return Err(LogError::BadRequest(
                "give exactly one of index and hash".into(),
            ))
        }
    };
    if index >= size {
        return Err(LogError::NoSuchLeaf(format!(
            "leaf {index} is not in the tree of size {size}"
        )));
    }
    let hashes = app
        .log
        .inclusion_proof(index, size)
        .map_err(|e| LogError::BadRequest(e.to_string()))?;
    let mut entry = read_entries(&app, index, index + 1).await?;
    let e = entry.pop().ok_or(ApiError::Internal)?;
    let proof = InclusionProof {
        leaf_index: index,
        tree_size: size,
        leaf_hash: e.leaf_hash,
        leaf: e.leaf,
        hashes: hashes.into_iter().map(B64Hash).collect(),
    };
    json(&proof, if q.size.is_some() { IMMUTABLE } else { FRESH })
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ConsistencyQuery {
    old: u64,
    new: Option<u64>,
}

async fn consistency(
    State(app): State<AppState>,
    q: Result<Query<ConsistencyQuery>, QueryRejection>,
) -> Result<Response, LogError> {
    let q = query(q)?;
    let new = tree_size(&app, q.new)?;
    if q.old == 0 {
        return Err(LogError::BadRequest(
            "every tree extends the empty tree: no proof is needed from size 0".into(),
        ));
    }
    if q.old > new {
        return Err(LogError::BadRequest(format!(
            "old size {} is larger than new size {new}",
            q.old
        )));
    }
    let hashes = app
        .log
        .consistency_proof(q.old, new)
        .map_err(|e| LogError::BadRequest(e.to_string()))?;
    let proof = ConsistencyProof {
        old_size: q.old,
        new_size: new,
        hashes: hashes.into_iter().map(B64Hash).collect(),
    };
    json(&proof, if q.new.is_some() { IMMUTABLE } else { FRESH })
}
