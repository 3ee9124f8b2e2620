//! The write queue: every audited write runs here, batched.
//!
//! Audited writes serialise on the audit head row until commit, so one transaction per
//! write would cap a node at one commit (one WAL flush) at a time. Instead each write is a
//! job on a queue; one task per store takes whatever is queued (up to [`MAX_BATCH`]), runs
//! the jobs in ONE transaction, each inside its own savepoint (a job that fails is rolled
//! back alone and gets its own error), and commits once. A job's caller hears back only
//! after that commit: nothing is acknowledged before it is durable. The batch claims the
//! audit head first, so every batch takes its locks in the same order (head, then rows) and
//! batches of several nodes sharing one PostgreSQL cannot deadlock.
//!
//! After each commit the writer publishes the batch's last audit sequence number on a
//! `watch` channel ([`crate::Store::committed`]): what wakes the node's checkpoint signer.
//!
//! Jobs are typed: a [`Write`] holds its operation, its result and the caller's
//! `oneshot` sender of that result's type; the queue holds them as `Box<dyn Job<B>>`, and
//! each job answers its own caller.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use hallmark_core::events::EventSource;
use hallmark_core::integrity::IntegrityKeys;
use sqlx::Pool;
use tokio::sync::{mpsc, oneshot, watch};

use super::db::{BoxFuture, Conn, Executes, SqlDb};
use super::Backend;
use crate::error::{Result, StoreError};

/// What every job gets from the store's configuration: the node's row-authentication keys,
/// if the store has been given them, to tag the leaves and key rows it writes; and the
/// node's event source, if given, to write the outbox events of the audit events it appends.
#[derive(Clone, Default)]
pub(crate) struct Tags {
    integrity: Option<Arc<IntegrityKeys>>,
    events: Option<Arc<EventSource>>,
}

impl Tags {
    /// The configuration now.
    pub(crate) fn new(
        integrity: Option<Arc<IntegrityKeys>>,
        events: Option<Arc<EventSource>>,
    ) -> Self {
        Tags { integrity, events }
    }

    /// The row-authentication keys, if set.
    pub(crate) fn as_ref(&self) -> Option<&Arc<IntegrityKeys>> {
        self.integrity.as_ref()
    }

    /// The event source, if set (no outbox rows without it).
    pub(crate) fn events(&self) -> Option<&EventSource> {
        self.events.as_deref()
    }
}

/// What a write operation returns: a boxed future borrowing the batch.
pub(crate) type OpFuture<'c, T> = Pin<Box<dyn Future<Output = Result<T>> + Send + 'c>>;

/// The most writes committed together.
pub(crate) const MAX_BATCH: usize = 64;

/// A write batch's transaction, as the jobs see it.
pub(crate) struct WriteTx<B: Backend> {
    tx: sqlx::Transaction<'static, B::Db>,
    /// The sequence number of the last audit event appended in this batch by a job that
    /// has not been rolled back.
    last_seq: Option<u64>,
}

impl<B: Backend> WriteTx<B> {
    /// Records that an audit event with this sequence number was appended.
    pub(crate) fn appended(&mut self, seq: u64) {
        self.last_seq = Some(seq);
    }
}

impl<'e, B: Backend> Executes<'e> for &'e mut WriteTx<B> {
    type Db = B::Db;
    fn conn(self) -> Conn<'e, B::Db> {
        Conn::One(&mut *self.tx)
    }
}

/// One queued write, as the writer sees it: it runs in the batch and answers its caller.
pub(crate) trait Job<B: Backend>: Send {
    /// Runs the write inside the batch (in its savepoint); `true` if it succeeded. The
    /// result is kept for [`answer`](Job::answer).
    fn run<'c>(&'c mut self, tx: &'c mut WriteTx<B>) -> BoxFuture<'c, bool>;
    /// Answers the caller once the batch has ended: the kept result if the batch committed
    /// (or the write's own error), else the batch's error.
    fn answer(self: Box<Self>, commit: std::result::Result<(), &StoreError>);
    /// Answers the caller with `error` without having run.
    fn refuse(self: Box<Self>, error: StoreError);
}

/// A typed write: the operation, its integrity keys, its result and its caller.
pub(crate) struct Write<T, F> {
    op: Option<(F, Tags)>,
    result: Option<Result<T>>,
    reply: oneshot::Sender<Result<T>>,
}

impl<B, T, F> Job<B> for Write<T, F>
where
    B: Backend,
    T: Send + 'static,
    F: for<'c> FnOnce(&'c mut WriteTx<B>, Tags) -> OpFuture<'c, T> + Send + 'static,
{
    fn run<'c>(&'c mut self, tx: &'c mut WriteTx<B>) -> BoxFuture<'c, bool> {
        let Some((op, tags)) = self.op.take() else {
            return Box::pin(async { false });
        };
        Box::pin(async move {
            let result = op(tx, tags).await;
            let ok = result.is_ok();
            self.result = Some(result);
            ok
        })
    }

    fn answer(self: Box<Self>, commit: std::result::Result<(), &StoreError>) {
        let reply = match (commit, self.result) {
            (_, Some(Err(e))) => Err(e),
            (Ok(()), Some(Ok(v))) => Ok(v),
            (Err(e), Some(Ok(_))) => Err(shared(e)),
            (_, None) => Err(StoreError::Database(
                "the write was not run in its batch".to_owned(),
            )),
        };
        let _ = self.reply.send(reply);
    }

    fn refuse(self: Box<Self>, error: StoreError) {
        let _ = self.reply.send(Err(error));
    }
}

/// The queue of a store's writer.
pub(crate) type Queue<B> = mpsc::Sender<Box<dyn Job<B>>>;

/// Queues `op` (with `tags`) and waits for its result, which comes after its batch ended.
pub(crate) async fn submit<B, T, F>(queue: &Queue<B>, tags: Tags, op: F) -> Result<T>
where
    B: Backend,
    T: Send + 'static,
    F: for<'c> FnOnce(&'c mut WriteTx<B>, Tags) -> OpFuture<'c, T> + Send + 'static,
{
    let (reply, result) = oneshot::channel();
    let job: Box<dyn Job<B>> = Box::new(Write {
        op: Some((op, tags)),
        result: None,
        reply,
    });
    let stopped = || StoreError::Database("the store's writer has stopped".to_owned());
    queue.send(job).await.map_err(|_| stopped())?;
    result.await.map_err(|_| stopped())?
}

/// Starts the writer of a store; it ends when the returned queue is dropped. After each
/// commit it sends the batch's last audit sequence number on `committed`.
///
/// The writer runs on its own thread (a current-thread runtime): every write of the node
/// passes through it one after another, so it must not wait for a turn on the node's
/// workers while they sign and validate (measured: BENCHMARKS.md, bulk import). Where no
/// thread or runtime can be made, it runs as a task of the caller's runtime.
pub(crate) fn spawn<B: Backend>(pool: Pool<B::Db>, committed: watch::Sender<u64>) -> Queue<B> {
    let (tx, rx) = mpsc::channel(4 * MAX_BATCH);
    let writer = run_writer::<B>(pool, rx, committed);
    match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => {
            // A thread that cannot start drops the queue's receiver with the closure: every
            // write then fails closed ("the store's writer has stopped").
            let _ = std::thread::Builder::new()
                .name("hallmark-writer".into())
                .spawn(move || rt.block_on(writer));
        }
        Err(_) => {
            tokio::spawn(writer);
        }
    }
    tx
}

async fn run_writer<B: Backend>(
    pool: Pool<B::Db>,
    mut rx: mpsc::Receiver<Box<dyn Job<B>>>,
    committed: watch::Sender<u64>,
) {
    while let Some(first) = rx.recv().await {
        let mut batch = Vec::with_capacity(MAX_BATCH);
        batch.push(first);
        while batch.len() < MAX_BATCH {
            match rx.try_recv() {
                Ok(job) => batch.push(job),
                Err(_) => break,
            }
        }
        run_batch::<B>(&pool, batch, &committed).await;
    }
}

fn shared(e: &StoreError) -> StoreError {
    StoreError::Database(format!("the batch this write was in did not commit: {e}"))
}

/// The savepoint each job runs in. The batch's first one is set by [`Backend::BEGIN_WRITE`]
/// (in the same round trip as `BEGIN`); after a job succeeds, releasing it and setting the
/// next is one round trip; after a job fails, `ROLLBACK TO` keeps it set for the next job.
/// `COMMIT` releases the last.
const NEXT_SAVEPOINT: &str = "RELEASE SAVEPOINT hallmark_write; SAVEPOINT hallmark_write";
const UNDO_JOB: &str = "ROLLBACK TO SAVEPOINT hallmark_write";

async fn exec<B: Backend>(tx: &mut WriteTx<B>, sql: &'static str) -> Result<()> {
    super::db::execute_batch(tx, sql).await?;
    Ok(())
}

/// Runs one batch, publishes the last audit sequence number it committed (if any) on
/// `committed`, then answers its jobs.
async fn run_batch<B: Backend>(
    pool: &Pool<B::Db>,
    batch: Vec<Box<dyn Job<B>>>,
    committed: &watch::Sender<u64>,
) {
    let mut tx = match B::Db::begin_with(pool, B::BEGIN_WRITE).await {
        Ok(tx) => WriteTx::<B> { tx, last_seq: None },
        Err(e) => {
            let e = StoreError::from(e);
            for job in batch {
                job.refuse(shared(&e));
            }
            return;
        }
    };
    let mut done: Vec<Box<dyn Job<B>>> = Vec::with_capacity(batch.len());
    let mut broken: Option<StoreError> = None;
    let mut savepoint_set = true;
    for mut job in batch {
        if let Some(e) = &broken {
            job.refuse(shared(e));
            continue;
        }
        if !savepoint_set {
            if let Err(e) = exec(&mut tx, NEXT_SAVEPOINT).await {
                job.refuse(shared(&e));
                broken = Some(e);
                continue;
            }
            savepoint_set = true;
        }
        let before = tx.last_seq;
        if job.run(&mut tx).await {
            savepoint_set = false;
        } else {
            // Its audit event, if it appended one, is rolled back with it.
            tx.last_seq = before;
            if let Err(e) = exec(&mut tx, UNDO_JOB).await {
                broken = Some(e);
            }
        }
        done.push(job);
    }
    let last_seq = tx.last_seq;
    let commit = match broken {
        Some(e) => {
            let _ = B::Db::rollback(tx.tx).await;
            Err(e)
        }
        None => B::Db::commit(tx.tx).await.map_err(StoreError::from),
    };
    if let (Ok(()), Some(seq)) = (&commit, last_seq) {
        // Before any caller hears back: a caller that waited for its write sees it here.
        committed.send_if_modified(|last| {
            let newer = seq > *last;
            if newer {
                *last = seq;
            }
            newer
        });
    }
    for job in done {
        job.answer(commit.as_ref().map(|_| ()));
    }
}
