//! Rows → batches → a [`BatchSender`] with bounded concurrency → the report, the progress
//! line and the resume state (design note §6; docs/import.md).
//!
//! A reader thread types each row and hands it through a bounded channel. Rows that failed
//! typing go straight to the report (`invalid`) and are never sent. The others are cut into
//! batches of at most `batch_items` items or `batch_bytes` bytes of JSON; at most
//! `concurrency` batches are in flight. Answers are written in completion order.
//!
//! Ctrl-C or SIGTERM: reading stops, the batch being filled is not sent, in-flight batches
//! finish and are reported, the state is written, and the run ends
//! [`Outcome::Interrupted`] (exit 130). A second signal exits at once (safe: the import is
//! idempotent by externalRef).

use std::collections::VecDeque;
use std::future::Future;
use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::{json, Value};
use tokio::sync::mpsc;
use tokio::task::JoinSet;

use super::readers::{self, Flow, Format, ReadError, ReadOptions, Row};
use super::report::{Counts, Report};
use super::state::{InputStamp, State};
use super::tabular::Header;

/// Items per batch by default.
pub const BATCH_ITEMS: usize = 200;
/// Bytes of item JSON per batch by default.
pub const BATCH_BYTES: usize = 4 * 1024 * 1024;

/// Why a batch could not be sent (the HTTP client decides; see docs/import.md for codes).
#[derive(Debug, Clone, thiserror::Error)]
#[error("{message}")]
pub struct SendError {
    /// The exit code the import ends with (the CLI's table: 1, 2, 4, 5, 6, 7).
    pub exit: u8,
    /// What went wrong.
    pub message: String,
}

/// Sends one batch request `{importId, publish, dryRun, items:[{externalRef, passport}]}`
/// and returns the node's answer `{items:[{index, externalRef, result, id?, version?,
/// problem?}], counts}` (design note §4). Retries are the sender's business.
pub trait BatchSender: Send + Sync + 'static {
    /// Sends one batch.
    fn send(&self, batch: Value) -> impl Future<Output = Result<Value, SendError>> + Send;
}

/// How a run is done.
#[derive(Debug, Clone)]
pub struct Options {
    /// Sent with every batch.
    pub import_id: String,
    /// Publish what is imported.
    pub publish: bool,
    /// Ask the node to check without writing.
    pub dry_run: bool,
    /// Batches in flight at once (≥ 1).
    pub concurrency: usize,
    /// Items per batch (≥ 1).
    pub batch_items: usize,
    /// Bytes of item JSON per batch.
    pub batch_bytes: usize,
}

impl Options {
    /// The defaults for an import id.
    pub fn new(import_id: String) -> Self {
        Options {
            import_id,
            publish: false,
            dry_run: false,
            concurrency: 2,
            batch_items: BATCH_ITEMS,
            batch_bytes: BATCH_BYTES,
        }
    }
}

/// How a run ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Every row was read and answered.
    Done,
    /// Stopped by a signal; the state file says where to resume.
    Interrupted,
}

/// What a run did.
#[derive(Debug, Clone)]
pub struct Summary {
    /// How it ended.
    pub outcome: Outcome,
    /// Results, including those of earlier runs of a resumed import.
    pub counts: Counts,
    /// Rows skipped because an earlier run finished them.
    pub skipped: u64,
    /// The highest row such that every row up to it is finished.
    pub high_water: u64,
    /// The import's id (a resumed import keeps the first run's).
    pub import_id: String,
}

/// Why a run failed.
#[derive(Debug, thiserror::Error)]
pub enum PipelineError {
    /// The input could not be read (a header error is a usage error).
    #[error(transparent)]
    Read(#[from] ReadError),
    /// A batch could not be sent; the state is written, the import can be run again.
    #[error("a batch could not be sent: {0}")]
    Send(SendError),
    /// The report or the state file could not be written.
    #[error("cannot write {what}: {message}")]
    Write {
        /// Which file.
        what: String,
        /// Why.
        message: String,
    },
    /// The node's answer did not have the agreed shape.
    #[error("unexpected answer from the node: {0}")]
    Answer(String),
}

fn write_err(what: &str, e: impl std::fmt::Display) -> PipelineError {
    PipelineError::Write {
        what: what.to_owned(),
        message: e.to_string(),
    }
}

/// The input of a run.
pub struct Input {
    /// The file.
    pub path: PathBuf,
    /// Its format.
    pub format: Format,
    /// The sector (CSV, XLSX) and reading options.
    pub options: ReadOptions<'static>,
}

/// Where a run reports.
pub struct Outputs {
    /// The report (appended to when resuming).
    pub report: PathBuf,
    /// The resume state file, if resuming is on.
    pub state: Option<PathBuf>,
}

/// A signal to stop, shared with whoever watches for Ctrl-C.
#[derive(Debug, Clone, Default)]
pub struct Stop(Arc<AtomicBool>);

impl Stop {
    /// Asks the run to stop.
    pub fn request(&self) {
        self.0.store(true, Ordering::SeqCst);
    }

    /// Whether a stop was asked for.
    pub fn requested(&self) -> bool {
        self.0.load(Ordering::SeqCst)
    }
}

/// One unit of progress in row order: a batch (finished when answered) or an invalid row.
struct Unit {
    last_row: u64,
    done: bool,
    counts: Counts,
}

/// Contiguous finished rows, for the resume high-water mark, and their results (what a
/// resumed run starts from: results of rows beyond the mark are reported again by it).
struct Ledger {
    units: VecDeque<(u64, Unit)>,
    next: u64,
    high_water: u64,
    retired: Counts,
}

impl Ledger {
    fn new(high_water: u64) -> Self {
        Ledger {
            units: VecDeque::new(),
            next: 0,
            high_water,
            retired: Counts::default(),
        }
    }

    fn open(&mut self, row: u64) -> u64 {
        let id = self.next;
        self.next += 1;
        self.units.push_back((
            id,
            Unit {
                last_row: row,
                done: false,
                counts: Counts::default(),
            },
        ));
        id
    }

    fn extend(&mut self, id: u64, row: u64) {
        if let Some((_, u)) = self.units.iter_mut().find(|(i, _)| *i == id) {
            u.last_row = row;
        }
    }

    fn finish(&mut self, id: u64, counts: Counts) {
        if let Some((_, u)) = self.units.iter_mut().find(|(i, _)| *i == id) {
            u.done = true;
            u.counts = counts;
        }
        while self.units.front().is_some_and(|(_, u)| u.done) {
            if let Some((_, u)) = self.units.pop_front() {
                self.high_water = u.last_row;
                self.retired.merge(&u.counts);
            }
        }
    }
}

struct Pending {
    unit: u64,
    rows: Vec<(u64, String)>,
    items: Vec<Value>,
    bytes: usize,
}

/// The progress line on stderr: redrawn ≤ 10 times a second on a terminal, else a plain line
/// every 10 s or 10,000 rows.
pub struct Progress {
    tty: bool,
    quiet: bool,
    start: Instant,
    last: Instant,
    last_rows: u64,
    /// Read so far / total (bytes of the file, or rows of a sheet), updated by the reader.
    done: Arc<AtomicU64>,
    total: Arc<AtomicU64>,
}

impl Progress {
    /// A progress line for an input of `total` units (0: unknown).
    pub fn new(total: u64, quiet: bool) -> Self {
        let now = Instant::now();
        Progress {
            tty: std::io::stderr().is_terminal(),
            quiet,
            start: now,
            last: now,
            last_rows: 0,
            done: Arc::new(AtomicU64::new(0)),
            total: Arc::new(AtomicU64::new(total)),
        }
    }

    fn line(&self, counts: &Counts) -> String {
        let secs = self.start.elapsed().as_secs_f64();
        let rows = counts.total();
        let rate = if secs > 0.0 { rows as f64 / secs } else { 0.0 };
        let done = self.done.load(Ordering::Relaxed);
        let total = self.total.load(Ordering::Relaxed);
        let eta = if total > 0 && done > 0 && done < total {
            let left = secs * (total - done) as f64 / done as f64;
            format!(", ETA {}", clock(left))
        } else {
            String::new()
        };
        format!(
            "{rows} rows, {rate:.0}/s{eta} — created {}, updated {}, published {}, unchanged {}, valid {}, failed {}, invalid {}",
            counts.created, counts.updated, counts.published, counts.unchanged, counts.valid, counts.failed, counts.invalid
        )
    }

    fn tick(&mut self, counts: &Counts) {
        if self.quiet {
            return;
        }
        let now = Instant::now();
        let rows = counts.total();
        if self.tty {
            if now.duration_since(self.last) >= Duration::from_millis(100) {
                eprint!("\r\x1b[2K{}", self.line(counts));
                self.last = now;
            }
        } else if now.duration_since(self.last) >= Duration::from_secs(10)
            || rows >= self.last_rows + 10_000
        {
            eprintln!("{}", self.line(counts));
            self.last = now;
            self.last_rows = rows;
        }
    }

    fn finish(&mut self, counts: &Counts) {
        if self.quiet {
            return;
        }
        if self.tty {
            eprintln!("\r\x1b[2K{}", self.line(counts));
        } else {
            eprintln!("{}", self.line(counts));
        }
    }
}

fn clock(secs: f64) -> String {
    let s = secs.max(0.0).round() as u64;
    format!("{}:{:02}:{:02}", s / 3600, s / 60 % 60, s % 60)
}

type Answer = (u64, Vec<(u64, String)>, Result<Value, SendError>);

/// Runs an import: reads `input`, sends its rows through `sender`, and writes the report and
/// the resume state.
pub async fn run<S: BatchSender>(
    sender: Arc<S>,
    input: Input,
    outputs: &Outputs,
    options: &Options,
    stop: Stop,
    mut progress: Progress,
) -> Result<Summary, PipelineError> {
    let stamp = match &outputs.state {
        Some(_) => {
            Some(InputStamp::of(&input.path).map_err(|e| write_err("the input's stamp", e))?)
        }
        None => None,
    };
    // A matching state resumes: earlier rows are skipped, the report appended to.
    let resumed = match (&outputs.state, &stamp) {
        (Some(path), Some(stamp)) => State::load(path)
            .ok()
            .flatten()
            .filter(|s| s.matches(stamp, options.publish, options.dry_run)),
        _ => None,
    };
    let skip_to = resumed.as_ref().map_or(0, |s| s.high_water);
    let import_id = resumed
        .as_ref()
        .map_or_else(|| options.import_id.clone(), |s| s.import_id.clone());
    let earlier = resumed.as_ref().map(|s| s.counts).unwrap_or_default();
    let mut report = Report::open(&outputs.report, resumed.as_ref().map(|s| s.high_water))
        .map_err(|e| write_err("the report", e))?;

    let concurrency = options.concurrency.max(1);
    let batch_items = options.batch_items.max(1);
    let (tx, mut rx) = mpsc::channel::<Row>(2 * batch_items);
    let (header_tx, header_rx) = std::sync::mpsc::sync_channel::<Header>(1);
    let reader_stop = stop.clone();
    let done = progress.done.clone();
    let total = progress.total.clone();
    let Input {
        path,
        format,
        options: read_options,
    } = input;
    let reader = tokio::task::spawn_blocking(move || {
        readers::read(
            &path,
            format,
            &read_options,
            &mut |h, size| {
                if size > 0 {
                    total.store(size, Ordering::Relaxed);
                }
                let _ = header_tx.try_send(h.clone());
            },
            &mut |row, position| {
                done.store(position, Ordering::Relaxed);
                if reader_stop.requested() || tx.blocking_send(row).is_err() {
                    Flow::Stop
                } else {
                    Flow::Continue
                }
            },
        )
    });

    let mut header: Option<Header> = None;
    let mut ledger = Ledger::new(skip_to);
    let mut inflight: JoinSet<Answer> = JoinSet::new();
    let mut pending: Option<Pending> = None;
    let mut reading = true;
    let mut skipped = 0u64;
    let mut failure: Option<PipelineError> = None;
    let current = |report: &Report<std::fs::File>| {
        let mut c = earlier;
        c.merge(&report.counts());
        c
    };
    let state_path = outputs.state.clone();
    let save = |ledger: &Ledger| -> Result<(), PipelineError> {
        if let (Some(path), Some(stamp)) = (&state_path, &stamp) {
            let mut counts = earlier;
            counts.merge(&ledger.retired);
            State {
                version: super::state::VERSION,
                input: stamp.clone(),
                import_id: import_id.clone(),
                publish: options.publish,
                dry_run: options.dry_run,
                high_water: ledger.high_water,
                counts,
                report: outputs.report.display().to_string(),
            }
            .save(path)
            .map_err(|e| write_err("the state file", e))?;
        }
        Ok(())
    };

    let dispatch = |batch: Pending, inflight: &mut JoinSet<Answer>| {
        let sender = sender.clone();
        let body = json!({
            "importId": import_id,
            "publish": options.publish,
            "dryRun": options.dry_run,
            "items": batch.items,
        });
        let (unit, rows) = (batch.unit, batch.rows);
        inflight.spawn(async move { (unit, rows, sender.send(body).await) });
    };

    loop {
        if header.is_none() {
            header = header_rx.try_recv().ok();
        }
        let stopping = stop.requested() || failure.is_some();
        if stopping {
            reading = false;
            pending = None;
            rx.close();
        }
        if !reading && !stopping {
            if let Some(batch) = pending.take() {
                dispatch(batch, &mut inflight);
            }
        }
        if !reading && inflight.is_empty() {
            break;
        }
        let can_read = reading && inflight.len() < concurrency;
        tokio::select! {
            answer = inflight.join_next(), if !inflight.is_empty() => {
                let Some(answer) = answer else { continue };
                let (unit, rows, result) = answer.map_err(|e| PipelineError::Answer(e.to_string()))?;
                match result {
                    Ok(body) => {
                        let before = report.counts();
                        let items = body.get("items").and_then(Value::as_array)
                            .ok_or_else(|| PipelineError::Answer("no items".to_owned()))?;
                        if items.len() != rows.len() {
                            return Err(PipelineError::Answer(format!(
                                "{} items answered for {} sent", items.len(), rows.len())));
                        }
                        for item in items {
                            let index = item.get("index").and_then(Value::as_u64)
                                .and_then(|i| usize::try_from(i).ok())
                                .filter(|i| *i < rows.len())
                                .ok_or_else(|| PipelineError::Answer("an item without a valid index".to_owned()))?;
                            report.outcome(rows[index].0, item, header.as_ref())
                                .map_err(|e| write_err("the report", e))?;
                        }
                        report.flush().map_err(|e| write_err("the report", e))?;
                        ledger.finish(unit, report.counts().since(&before));
                        save(&ledger)?;
                        progress.tick(&current(&report));
                    }
                    Err(e) => {
                        if failure.is_none() {
                            failure = Some(PipelineError::Send(e));
                        }
                    }
                }
            }
            row = rx.recv(), if can_read => {
                let Some(row) = row else {
                    reading = false;
                    continue;
                };
                if row.number <= skip_to {
                    skipped += 1;
                    continue;
                }
                match &row.submission {
                    Err(errors) => {
                        let unit = ledger.open(row.number);
                        let before = report.counts();
                        report.invalid(&row, errors).map_err(|e| write_err("the report", e))?;
                        ledger.finish(unit, report.counts().since(&before));
                        progress.tick(&current(&report));
                    }
                    Ok(passport) => {
                        let external_ref = row.external_ref.clone().unwrap_or_default();
                        let item = json!({"externalRef": external_ref, "passport": passport});
                        let size = item.to_string().len();
                        if pending.as_ref().is_some_and(|p| p.bytes + size > options.batch_bytes && !p.items.is_empty()) {
                            if let Some(batch) = pending.take() {
                                dispatch(batch, &mut inflight);
                            }
                        }
                        let batch = pending.get_or_insert_with(|| Pending {
                            unit: ledger.open(row.number),
                            rows: Vec::new(),
                            items: Vec::new(),
                            bytes: 0,
                        });
                        ledger.extend(batch.unit, row.number);
                        batch.rows.push((row.number, external_ref));
                        batch.items.push(item);
                        batch.bytes += size;
                        if batch.items.len() >= batch_items {
                            if let Some(batch) = pending.take() {
                                dispatch(batch, &mut inflight);
                            }
                        }
                    }
                }
            }
            _ = tokio::time::sleep(Duration::from_millis(200)) => {
                // Wakes the loop to notice a stop request.
            }
        }
    }
    drop(rx);
    let read_result = reader
        .await
        .map_err(|e| PipelineError::Answer(format!("the reader stopped: {e}")))?;
    report.flush().map_err(|e| write_err("the report", e))?;
    let counts = current(&report);
    progress.finish(&counts);
    if let Some(e) = failure {
        save(&ledger)?;
        return Err(e);
    }
    read_result?;
    let outcome = if stop.requested() {
        save(&ledger)?;
        Outcome::Interrupted
    } else {
        if let Some(path) = &outputs.state {
            let _ = std::fs::remove_file(path);
        }
        Outcome::Done
    };
    Ok(Summary {
        outcome,
        counts,
        skipped,
        high_water: ledger.high_water,
        import_id: import_id.clone(),
    })
}

/// Checks batches locally instead of sending them (`--dry-run --offline`): each item's
/// envelope is parsed as the node parses it and its data validated against the sector's
/// schema; the sector plugin and the node's state are not consulted. Answers `valid` or
/// `failed` with an `invalid-passport`-shaped problem.
pub struct OfflineCheck;

impl BatchSender for OfflineCheck {
    fn send(&self, batch: Value) -> impl Future<Output = Result<Value, SendError>> + Send {
        let answer = check_batch(&batch);
        async move { Ok(answer) }
    }
}

fn check_batch(batch: &Value) -> Value {
    use hallmark_core::passport::PassportDraft;
    use hallmark_core::sector::SectorRegistry;
    let items = batch
        .get("items")
        .and_then(Value::as_array)
        .map(Vec::as_slice)
        .unwrap_or_default();
    let answers: Vec<Value> = items
        .iter()
        .enumerate()
        .map(|(index, item)| {
            let external_ref = item.get("externalRef").cloned().unwrap_or(Value::Null);
            let passport = item.get("passport").cloned().unwrap_or(Value::Null);
            let issues: Vec<Value> = match PassportDraft::from_json_value(&passport) {
                Err(e) => vec![json!({"pointer": "", "message": e.to_string()})],
                Ok(draft) => match SectorRegistry::builtin()
                    .get(&draft.sector.id, &draft.sector.schema_version)
                {
                    Err(e) => vec![json!({"pointer": "/sector", "message": e.to_string()})],
                    Ok(sector) => match sector.validate(&draft.data) {
                        Ok(()) => Vec::new(),
                        Err(found) => found
                            .into_iter()
                            .map(|i| json!({"pointer": i.pointer, "message": i.message}))
                            .collect(),
                    },
                },
            };
            if issues.is_empty() {
                json!({"index": index, "externalRef": external_ref, "result": "valid"})
            } else {
                json!({"index": index, "externalRef": external_ref, "result": "failed",
                       "problem": {"title": "Invalid passport",
                                   "detail": format!("{} issue(s), checked locally", issues.len()),
                                   "issues": issues}})
            }
        })
        .collect();
    json!({ "items": answers })
}

/// The input's size for progress (bytes; 0 when unknown).
pub fn input_size(path: &Path) -> u64 {
    std::fs::metadata(path).map(|m| m.len()).unwrap_or(0)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;
    use hallmark_core::sector::SectorRegistry;
    use std::sync::Mutex;

    /// Answers every item `created`, recording the batches; fails the nth batch if asked.
    struct Recorder {
        batches: Mutex<Vec<Value>>,
        fail_at: Option<usize>,
        stop_after: Option<(usize, Stop)>,
    }

    impl BatchSender for Recorder {
        fn send(&self, batch: Value) -> impl Future<Output = Result<Value, SendError>> + Send {
            let n = {
                let mut b = self.batches.lock().unwrap();
                b.push(batch.clone());
                b.len()
            };
            if let Some((after, stop)) = &self.stop_after {
                if n >= *after {
                    stop.request();
                }
            }
            let fail = self.fail_at == Some(n);
            async move {
                if fail {
                    return Err(SendError {
                        exit: 6,
                        message: "node unavailable".into(),
                    });
                }
                let items: Vec<Value> = batch["items"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .enumerate()
                    .map(|(i, it)| json!({"index": i, "externalRef": it["externalRef"],
                                         "result": "created", "id": format!("id-{i}"), "version": 1}))
                    .collect();
                Ok(json!({"items": items}))
            }
        }
    }

    fn csv_input(dir: &Path, rows: usize, bad_every: usize) -> Input {
        let path = dir.join("in.csv");
        let mut text =
            String::from("externalRef,granularity,data.generalProductInformation.batteryMass\n");
        for i in 0..rows {
            let mass = if bad_every > 0 && i % bad_every == 0 {
                "x"
            } else {
                "1"
            };
            text.push_str(&format!("r{i},item,{mass}\n"));
        }
        std::fs::write(&path, text).unwrap();
        same_input(dir)
    }

    /// The input `csv_input` wrote, not written again (its modification time is part of the
    /// resume stamp).
    fn same_input(dir: &Path) -> Input {
        let path = dir.join("in.csv");
        Input {
            path,
            format: Format::Csv,
            options: ReadOptions {
                sector: SectorRegistry::builtin().get("battery", "1.2.0").unwrap(),
                sheet: None,
                delimiter: b',',
            },
        }
    }

    fn outputs(dir: &Path) -> Outputs {
        Outputs {
            report: dir.join("in.csv.report.csv"),
            state: Some(dir.join("in.csv.hallmark-import")),
        }
    }

    fn options(items: usize) -> Options {
        let mut o = Options::new("import-1".into());
        o.batch_items = items;
        o
    }

    fn recorder(fail_at: Option<usize>, stop_after: Option<(usize, Stop)>) -> Arc<Recorder> {
        Arc::new(Recorder {
            batches: Mutex::new(Vec::new()),
            fail_at,
            stop_after,
        })
    }

    #[tokio::test]
    async fn rows_are_batched_and_invalid_rows_never_sent() {
        let dir = tempfile::tempdir().unwrap();
        let sender = recorder(None, None);
        let summary = run(
            sender.clone(),
            csv_input(dir.path(), 25, 10),
            &outputs(dir.path()),
            &options(10),
            Stop::default(),
            Progress::new(0, true),
        )
        .await
        .unwrap();
        assert_eq!(summary.outcome, Outcome::Done);
        assert_eq!(summary.counts.created, 22);
        assert_eq!(summary.counts.invalid, 3);
        assert_eq!(summary.high_water, 26);
        let batches = sender.batches.lock().unwrap();
        assert_eq!(batches.len(), 3, "22 items in batches of 10");
        assert_eq!(batches[0]["importId"], "import-1");
        assert_eq!(batches[0]["publish"], false);
        assert_eq!(batches[0]["items"][0]["externalRef"], "r1");
        assert_eq!(batches[0]["items"][0]["passport"]["granularity"], "item");
        let report = std::fs::read_to_string(dir.path().join("in.csv.report.csv")).unwrap();
        assert_eq!(report.lines().count(), 26);
        assert!(report.contains("2,r0,invalid,,,data.generalProductInformation.batteryMass"));
        assert!(
            !dir.path().join("in.csv.hallmark-import").exists(),
            "state removed when done"
        );
    }

    #[tokio::test]
    async fn batches_are_cut_by_bytes_too() {
        let dir = tempfile::tempdir().unwrap();
        let sender = recorder(None, None);
        let mut o = options(1000);
        o.batch_bytes = 300;
        run(
            sender.clone(),
            csv_input(dir.path(), 10, 0),
            &outputs(dir.path()),
            &o,
            Stop::default(),
            Progress::new(0, true),
        )
        .await
        .unwrap();
        let batches = sender.batches.lock().unwrap();
        assert!(batches.len() > 1);
        assert!(batches
            .iter()
            .all(|b| b["items"].to_string().len() <= 300 + 200));
    }

    #[tokio::test]
    async fn an_interrupted_run_resumes_where_it_stopped() {
        let dir = tempfile::tempdir().unwrap();
        let stop = Stop::default();
        let first = recorder(None, Some((2, stop.clone())));
        let mut o = options(5);
        o.concurrency = 1;
        let summary = run(
            first.clone(),
            csv_input(dir.path(), 40, 0),
            &outputs(dir.path()),
            &o,
            stop,
            Progress::new(0, true),
        )
        .await
        .unwrap();
        assert_eq!(summary.outcome, Outcome::Interrupted);
        let sent_first = first.batches.lock().unwrap().len();
        assert!(summary.counts.created >= 10 && summary.counts.created < 40);
        let state = State::load(&dir.path().join("in.csv.hallmark-import"))
            .unwrap()
            .unwrap();
        assert_eq!(state.high_water, summary.high_water);
        assert_eq!(state.high_water, 1 + summary.counts.created);

        // The same command again: only the rest is sent, the report appended to.
        let second = recorder(None, None);
        let summary = run(
            second.clone(),
            same_input(dir.path()),
            &outputs(dir.path()),
            &options(5),
            Stop::default(),
            Progress::new(0, true),
        )
        .await
        .unwrap();
        assert_eq!(summary.outcome, Outcome::Done);
        assert_eq!(summary.counts.created, 40);
        let resent: usize = second
            .batches
            .lock()
            .unwrap()
            .iter()
            .map(|b| b["items"].as_array().unwrap().len())
            .sum();
        assert_eq!(resent as u64, 40 - state.counts.created);
        assert!(sent_first >= 2);
        let report = std::fs::read_to_string(dir.path().join("in.csv.report.csv")).unwrap();
        assert_eq!(report.lines().count(), 41, "one header, one line per row");
        // The resumed run keeps the import id.
        assert_eq!(second.batches.lock().unwrap()[0]["importId"], "import-1");
    }

    #[tokio::test]
    async fn a_send_failure_stops_the_run_with_its_exit_code() {
        let dir = tempfile::tempdir().unwrap();
        let mut o = options(5);
        o.concurrency = 1;
        let err = run(
            recorder(Some(2), None),
            csv_input(dir.path(), 30, 0),
            &outputs(dir.path()),
            &o,
            Stop::default(),
            Progress::new(0, true),
        )
        .await
        .unwrap_err();
        match err {
            PipelineError::Send(e) => assert_eq!(e.exit, 6),
            other => panic!("{other}"),
        }
        let state = State::load(&dir.path().join("in.csv.hallmark-import"))
            .unwrap()
            .unwrap();
        assert_eq!(
            state.high_water, 6,
            "the first batch (rows 2–6) is finished"
        );
    }

    #[tokio::test]
    async fn offline_check_validates_locally() {
        let answer = check_batch(&json!({"items": [
            {"externalRef": "a", "passport": serde_json::from_str::<Value>(
                super::super::template::DEMOS[0].1).unwrap()},
            {"externalRef": "b", "passport": {"granularity": "item"}},
        ]}));
        assert_eq!(answer["items"][0]["result"], "valid");
        assert_eq!(answer["items"][1]["result"], "failed");
    }

    #[test]
    fn the_ledger_keeps_a_contiguous_high_water_mark() {
        let one = |created| Counts {
            created,
            ..Counts::default()
        };
        let mut l = Ledger::new(1);
        let a = l.open(2);
        l.extend(a, 5);
        let b = l.open(6);
        let c = l.open(7);
        l.finish(b, one(1));
        assert_eq!((l.high_water, l.retired.created), (1, 0));
        l.finish(a, one(4));
        assert_eq!((l.high_water, l.retired.created), (6, 5));
        l.finish(c, one(1));
        assert_eq!((l.high_water, l.retired.created), (7, 6));
    }
}
