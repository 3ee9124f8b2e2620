//! `hallmark import …`: bulk import of CSV, XLSX and JSON Lines files, and the sector
//! templates (issue 18; docs/import.md).
//!
//! - `tabular` — header ↔ JSON Pointer, cell typing, rows ↔ submissions, pointer → column.
//! - `readers` — streaming CSV, XLSX and JSON Lines readers yielding [`readers::Row`]s.
//! - `template` — `import template SECTOR`: CSV/XLSX templates, column descriptions, demo rows.
//! - `report` — the streamed `<input>.report.csv`.
//! - `state` — the resume state `<input>.hallmark-import`.
//! - `pipeline` — rows → batches → a [`pipeline::BatchSender`], progress, Ctrl-C, resume.
//!
//! `import FILE` sends its batches to the node's `POST /api/v1/passports/batch` through the
//! control plane's [`crate::client::AdminClient`] (its credentials, retries and exit
//! codes: [`NodeSender`]), and when it has gone through the file, `POST
//! /api/v1/imports/{id}/finish` records the import (file name, size, SHA-256, counts) in the
//! node's audit trail. `--dry-run --offline` checks locally, without a node.

pub mod pipeline;
pub mod readers;
pub mod report;
pub mod state;
pub mod tabular;
pub mod template;

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;

use clap::{Args, Subcommand, ValueEnum};
use hallmark_core::sector::{Sector, SectorRegistry};

use pipeline::{Outcome, PipelineError, Stop};
use readers::{Format, ReadError, ReadOptions};

const EXIT_CODES: &str = "Exit codes: 0 every row done (created, updated, published, unchanged; \
valid in a dry run); 2 usage (arguments, unreadable file, header error: unknown, duplicate or \
doubly given column); 3 at least one row failed or was invalid (see <FILE>.report.csv); \
130 interrupted (run the same command again to resume). Details: docs/import.md.";

/// Arguments of `hallmark import`.
#[derive(Args)]
#[command(args_conflicts_with_subcommands = true, after_help = EXIT_CODES)]
pub struct ImportArgs {
    #[command(subcommand)]
    command: Option<ImportCommand>,
    #[command(flatten)]
    file: FileArgs,
    #[command(flatten)]
    node: crate::client::GlobalOpts,
}

#[derive(Subcommand)]
enum ImportCommand {
    /// Write a sector's template: the header row (every column the sector knows) and a
    /// description of each column; `--example` adds the three demo passports as rows.
    Template(TemplateArgs),
}

#[derive(Args)]
struct TemplateArgs {
    /// The sector, `ID` (its latest version) or `ID@VERSION`, e.g. `battery`.
    sector: String,
    /// The file format.
    #[arg(long, value_enum, default_value_t = TemplateFormat::Csv)]
    format: TemplateFormat,
    /// Add the demo passports as rows (externalRefs demo-ev, demo-industrial, demo-lmt).
    #[arg(long)]
    example: bool,
    /// Where to write it (default: `<sector>-<version>.csv|xlsx` here). A CSV template's
    /// column description goes beside it as `<name>.columns.csv`.
    #[arg(long, value_name = "PATH")]
    out: Option<PathBuf>,
}

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
enum TemplateFormat {
    Csv,
    Xlsx,
}

#[derive(Args)]
struct FileArgs {
    /// The file to import (`.csv`, `.xlsx`, `.jsonl`). A file named `template` must be given
    /// as `./template`.
    file: Option<PathBuf>,
    /// The file's format (default: from its extension).
    #[arg(long, value_enum)]
    format: Option<Format>,
    /// The XLSX sheet to read (default: the first).
    #[arg(long, value_name = "NAME")]
    sheet: Option<String>,
    /// The sector the columns belong to, `ID` or `ID@VERSION` (CSV and XLSX).
    #[arg(long, default_value = "battery")]
    sector: String,
    /// The CSV field delimiter (one ASCII character, e.g. `;`).
    #[arg(long, default_value_t = ',')]
    delimiter: char,
    /// Publish what is imported.
    #[arg(long)]
    publish: bool,
    /// Check without writing anything.
    #[arg(long)]
    dry_run: bool,
    /// With --dry-run: check here, without a node (typing, the envelope and the sector's
    /// schema; not the sector plugin, not what the node already holds).
    #[arg(long, requires = "dry_run")]
    offline: bool,
    /// Batches in flight at once.
    #[arg(long, default_value_t = 2, value_parser = clap::value_parser!(u16).range(1..=64))]
    concurrency: u16,
    /// Items per batch (at most 1000).
    #[arg(long, default_value_t = 200, value_parser = clap::value_parser!(u16).range(1..=1000))]
    batch_size: u16,
    /// Write the submissions to this JSON Lines file instead of sending them (no node:
    /// what would be sent, one object per row with its `externalRef`; rows that fail typing
    /// go to the report).
    #[arg(long, value_name = "PATH", conflicts_with_all = ["publish", "dry_run"])]
    to_jsonl: Option<PathBuf>,
    /// Neither resume from nor write the state file `<file>.hallmark-import`.
    #[arg(long)]
    no_resume: bool,
    /// No progress line.
    #[arg(long)]
    quiet: bool,
}

/// Runs `hallmark import`.
pub fn run(args: &ImportArgs) -> ExitCode {
    match &args.command {
        Some(ImportCommand::Template(t)) => run_template(t),
        None => run_file(&args.file, &args.node),
    }
}

fn usage(message: impl std::fmt::Display) -> ExitCode {
    eprintln!("hallmark import: {message}");
    ExitCode::from(2)
}

/// `ID` (latest version) or `ID@VERSION`.
fn sector(spec: &str) -> Result<&'static Sector, String> {
    let registry = SectorRegistry::builtin();
    match spec.split_once('@') {
        Some((id, version)) => registry.get(id, version),
        None => registry.latest(spec),
    }
    .map_err(|e| e.to_string())
}

fn run_template(args: &TemplateArgs) -> ExitCode {
    let sector = match sector(&args.sector) {
        Ok(s) => s,
        Err(e) => return usage(e),
    };
    let template = match template::build(sector) {
        Ok(t) => t,
        Err(e) => {
            eprintln!("hallmark import template: {e}");
            return ExitCode::from(1);
        }
    };
    let ext = match args.format {
        TemplateFormat::Csv => "csv",
        TemplateFormat::Xlsx => "xlsx",
    };
    let out = args
        .out
        .clone()
        .unwrap_or_else(|| PathBuf::from(format!("{}-{}.{ext}", sector.id(), sector.version())));
    if args.example && template.examples.is_empty() {
        return usage(format!(
            "sector {}@{} has no demo passports for --example",
            sector.id(),
            sector.version()
        ));
    }
    let written = match args.format {
        TemplateFormat::Csv => template::write_csv(&template, &out, args.example),
        TemplateFormat::Xlsx => template::write_xlsx(&template, &out, args.example),
    };
    match written {
        Ok(files) => {
            for f in files {
                println!("{}", f.display());
            }
            eprintln!(
                "{} columns{}",
                template.header.len(),
                if args.example {
                    format!(", {} example rows", template.examples.len())
                } else {
                    String::new()
                }
            );
            ExitCode::SUCCESS
        }
        Err(e) => usage(e),
    }
}

fn run_file(args: &FileArgs, node: &crate::client::GlobalOpts) -> ExitCode {
    let Some(path) = &args.file else {
        return usage("give a file to import, or `import template SECTOR` (see --help)");
    };
    let Some(format) = args.format.or_else(|| Format::of_path(path)) else {
        return usage(format!(
            "cannot tell the format of {} from its name: give --format csv|xlsx|jsonl",
            path.display()
        ));
    };
    let sector = match sector(&args.sector) {
        Ok(s) => s,
        Err(e) => return usage(e),
    };
    let delimiter = match u8::try_from(args.delimiter) {
        Ok(d) if d.is_ascii() && d != b'"' && d != b'\n' && d != b'\r' => d,
        _ => {
            return usage("the delimiter must be one ASCII character other than a quote or newline")
        }
    };
    if !path.is_file() {
        return usage(format!("{} is not a readable file", path.display()));
    }
    let read_options = ReadOptions {
        sector,
        sheet: args.sheet.clone(),
        delimiter,
    };
    if let Some(out) = &args.to_jsonl {
        return to_jsonl(path, format, &read_options, out);
    }
    let input = pipeline::Input {
        path: path.clone(),
        format,
        options: read_options,
    };
    if args.offline {
        // A local check writes nothing anywhere, so it has nothing to resume.
        return run_pipeline(args, input, Arc::new(pipeline::OfflineCheck), false, None);
    }
    let client = match crate::client::AdminClient::from_env(node) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("hallmark import: {e}");
            return ExitCode::from(e.exit().code());
        }
    };
    let sender = Arc::new(NodeSender { client });
    run_pipeline(args, input, sender.clone(), !args.no_resume, Some(sender))
}

/// The node's batch route, through the control plane's client: retried on connect errors,
/// 429 and 503 (an import batch is idempotent by its externalRefs); any refusal of the
/// whole batch ends the import with the client's exit code (4 auth, 3 content, 6 server …).
pub struct NodeSender {
    client: crate::client::AdminClient,
}

impl pipeline::BatchSender for NodeSender {
    async fn send(
        &self,
        batch: serde_json::Value,
    ) -> Result<serde_json::Value, pipeline::SendError> {
        let answer = self
            .client
            .retrying(
                crate::client::Method::POST,
                "/api/v1/passports/batch",
                Some(&batch),
            )
            .await
            .and_then(crate::client::Answer::ok)
            .map_err(send_error)?;
        answer.json::<serde_json::Value>().map_err(send_error)
    }
}

impl NodeSender {
    /// `POST /api/v1/imports/{id}/finish`: one `import.completed` audit event with the
    /// file's name, size and SHA-256 and the counts (the node's own, else these).
    async fn finish(
        &self,
        import_id: &str,
        path: &Path,
        counts: &report::Counts,
        interrupted: bool,
    ) -> Result<(), String> {
        let (bytes, sha256) = file_digest(path).map_err(|e| format!("{}: {e}", path.display()))?;
        let file_name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| "-".to_owned());
        let rows = counts.created
            + counts.updated
            + counts.published
            + counts.unchanged
            + counts.failed
            + counts.invalid
            + counts.valid;
        let body = serde_json::json!({
            "fileName": file_name,
            "bytes": bytes,
            "sha256": sha256,
            "rows": rows,
            "interrupted": interrupted,
            "counts": {
                "created": counts.created,
                "updated": counts.updated,
                "published": counts.published,
                "unchanged": counts.unchanged,
                "failed": counts.failed + counts.invalid,
            },
        });
        self.client
            .retrying(
                crate::client::Method::POST,
                &format!("/api/v1/imports/{import_id}/finish"),
                Some(&body),
            )
            .await
            .and_then(crate::client::Answer::ok)
            .map(|_| ())
            .map_err(|e| e.to_string())
    }
}

fn send_error(e: crate::client::CliError) -> pipeline::SendError {
    pipeline::SendError {
        exit: e.exit().code(),
        message: e.to_string(),
    }
}

/// The input's size and SHA-256 (lowercase hex), read again once the import is done.
fn file_digest(path: &Path) -> std::io::Result<(u64, String)> {
    use sha2::Digest;
    let mut file = std::fs::File::open(path)?;
    let mut hasher = sha2::Sha256::new();
    let bytes = std::io::copy(&mut file, &mut hasher)?;
    Ok((bytes, hex::encode(hasher.finalize())))
}

/// Runs the pipeline over `input` with `sender`: the report beside the input, the state file
/// when `resume`, Ctrl-C/SIGTERM watched, the summary and exit code at the end.
fn run_pipeline<S: pipeline::BatchSender>(
    args: &FileArgs,
    input: pipeline::Input,
    sender: Arc<S>,
    resume: bool,
    node: Option<Arc<NodeSender>>,
) -> ExitCode {
    let path = input.path.clone();
    let outputs = pipeline::Outputs {
        report: report::report_path(&input.path),
        state: resume.then(|| state::state_path(&input.path)),
    };
    let mut options = pipeline::Options::new(new_import_id());
    options.publish = args.publish;
    options.dry_run = args.dry_run;
    options.concurrency = usize::from(args.concurrency);
    options.batch_items = usize::from(args.batch_size);
    let progress = pipeline::Progress::new(
        match input.format {
            Format::Xlsx => 0,
            _ => pipeline::input_size(&input.path),
        },
        args.quiet,
    );
    let rt = match crate::runtime::runtime() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("hallmark import: {e}");
            return ExitCode::from(1);
        }
    };
    let stop = Stop::default();
    let result = rt.block_on(async {
        watch_signals(stop.clone());
        let result = pipeline::run(sender, input, &outputs, &options, stop, progress).await;
        // The import's audit event: once the file has been gone through (or the run was
        // interrupted), not for a dry run. The passports are in either way; a failure here
        // is reported, and the import's exit code stands.
        if let (Some(node), Ok(summary)) = (&node, &result) {
            if !options.dry_run {
                let interrupted = matches!(summary.outcome, Outcome::Interrupted);
                if let Err(e) = node
                    .finish(&summary.import_id, &path, &summary.counts, interrupted)
                    .await
                {
                    eprintln!("hallmark import: the import's audit event was not recorded: {e}");
                }
            }
        }
        result
    });
    finish(result, &outputs.report)
}

fn finish(result: Result<pipeline::Summary, PipelineError>, report: &Path) -> ExitCode {
    match result {
        Ok(summary) => {
            let c = summary.counts;
            eprintln!(
                "report: {} (created {}, updated {}, published {}, unchanged {}, valid {}, failed {}, invalid {}{})",
                report.display(),
                c.created,
                c.updated,
                c.published,
                c.unchanged,
                c.valid,
                c.failed,
                c.invalid,
                if summary.skipped > 0 {
                    format!("; {} rows done by an earlier run", summary.skipped)
                } else {
                    String::new()
                }
            );
            match summary.outcome {
                Outcome::Interrupted => {
                    eprintln!(
                        "interrupted at row {}; run the same command again to resume",
                        summary.high_water
                    );
                    ExitCode::from(130)
                }
                Outcome::Done if c.failed + c.invalid > 0 => ExitCode::from(3),
                Outcome::Done => ExitCode::SUCCESS,
            }
        }
        Err(PipelineError::Read(ReadError::Header(e))) => usage(e),
        Err(PipelineError::Read(e)) => usage(e),
        Err(PipelineError::Send(e)) => {
            eprintln!("hallmark import: {e}; run the same command again to resume");
            ExitCode::from(e.exit)
        }
        Err(e) => {
            eprintln!("hallmark import: {e}");
            ExitCode::from(1)
        }
    }
}

/// `import FILE --to-jsonl OUT`: every well-typed row as one JSON Lines object, in row
/// order; the others to the report.
fn to_jsonl(path: &Path, format: Format, options: &ReadOptions<'_>, out: &Path) -> ExitCode {
    use std::io::Write;
    let report_path = report::report_path(path);
    let mut report = match report::Report::open(&report_path, None) {
        Ok(r) => r,
        Err(e) => return usage(format!("cannot write {}: {e}", report_path.display())),
    };
    let file = match std::fs::File::create(out) {
        Ok(f) => f,
        Err(e) => return usage(format!("cannot write {}: {e}", out.display())),
    };
    let mut w = std::io::BufWriter::new(file);
    let mut written = 0u64;
    let mut failure: Option<std::io::Error> = None;
    let read = readers::read(path, format, options, &mut |_, _| {}, &mut |row, _| {
        let result = match &row.submission {
            Ok(serde_json::Value::Object(map)) => {
                let mut line = serde_json::Map::new();
                line.insert(
                    tabular::EXTERNAL_REF.to_owned(),
                    serde_json::Value::String(row.external_ref.clone().unwrap_or_default()),
                );
                line.extend(map.clone());
                written += 1;
                serde_json::to_writer(&mut w, &line)
                    .map_err(std::io::Error::other)
                    .and_then(|()| w.write_all(b"\n"))
            }
            Ok(_) => report.invalid(&row, &[tabular::CellError::row("not a JSON object")]),
            Err(errors) => report.invalid(&row, errors),
        };
        match result {
            Ok(()) => readers::Flow::Continue,
            Err(e) => {
                failure = Some(e);
                readers::Flow::Stop
            }
        }
    });
    if let Err(e) = read {
        return usage(e);
    }
    if let Some(e) = failure
        .or_else(|| w.flush().err())
        .or_else(|| report.flush().err())
    {
        eprintln!("hallmark import: cannot write: {e}");
        return ExitCode::from(1);
    }
    let invalid = report.counts().invalid;
    eprintln!(
        "{written} rows written to {}; {invalid} invalid (report: {})",
        out.display(),
        report_path.display()
    );
    if invalid > 0 {
        ExitCode::from(3)
    } else {
        ExitCode::SUCCESS
    }
}

/// Ctrl-C or SIGTERM asks the run to stop; a second one exits at once.
fn watch_signals(stop: Stop) {
    tokio::spawn(async move {
        #[cfg(unix)]
        let mut term =
            tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()).ok();
        loop {
            #[cfg(unix)]
            let got = match term.as_mut() {
                Some(term) => tokio::select! {
                    r = tokio::signal::ctrl_c() => r.is_ok(),
                    r = term.recv() => r.is_some(),
                },
                None => tokio::signal::ctrl_c().await.is_ok(),
            };
            #[cfg(not(unix))]
            let got = tokio::signal::ctrl_c().await.is_ok();
            if !got {
                return;
            }
            if stop.requested() {
                std::process::exit(130);
            }
            eprintln!("\nstopping: finishing the batches in flight (Ctrl-C again to quit now)");
            stop.request();
        }
    });
}

/// A fresh import id: a UUIDv7 from the clock and the operating system's randomness.
fn new_import_id() -> String {
    let millis = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX));
    let mut random = [0u8; 10];
    for chunk in random.chunks_mut(4) {
        let r = hallmark_keys::random_u32().unwrap_or(0).to_le_bytes();
        chunk.copy_from_slice(&r[..chunk.len()]);
    }
    hallmark_core::passport::PassportId::from_parts(millis, random)
        .map(|id| id.to_string())
        .unwrap_or_else(|_| format!("import-{millis}"))
}
