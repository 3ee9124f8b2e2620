//! `hallmark registry export --out DIR` and `hallmark registry record FILE`: EU DPP registry
//! submissions through a running node's admin API (docs/registry.md).
//!
//! - `export` pages `GET /api/v1/registry/export` (read scope) and writes each page as
//!   `registry-<exportId>-<part>.json` (at most 100 entries, the registry's upload limit),
//!   each checked against the committed schema before it is written. Passports that cannot
//!   be registered yet are listed with their reasons on stderr (and in `--json`).
//! - `record` checks a file of the registry's answers against its schema and sends it to
//!   `POST /api/v1/registry/registrations` (write scope). The node checks every answer
//!   before it records any: a hash that is not the version's is refused (exit 5) and
//!   nothing is recorded.
//!
//! Credentials and exit codes as for `hallmark passport`.

use crate::client::{AdminClient, CliError, Exit, GlobalOpts, Method};
use clap::{Args, Subcommand};
use hallmark_core::registry::{ExportFile, RecordFile, MAX_ENTRIES};
use serde::Deserialize;
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

/// Arguments of `hallmark registry`.
#[derive(Args)]
#[command(after_long_help = crate::client::EXIT_CODES_HELP)]
pub struct RegistryArgs {
    #[command(flatten)]
    global: GlobalOpts,
    #[command(subcommand)]
    command: RegistryCommand,
}

/// The `registry` subcommands.
#[derive(Subcommand)]
enum RegistryCommand {
    /// Writes the registration data of every published passport version not yet registered
    /// as JSON files of at most 100 entries (registry-<exportId>-<part>.json) into DIR.
    Export {
        /// The folder to write into (created if missing).
        #[arg(long, value_name = "DIR")]
        out: PathBuf,
        /// Entries per file, 1 to 100.
        #[arg(long, default_value_t = MAX_ENTRIES as u32,
              value_parser = clap::value_parser!(u32).range(1..=MAX_ENTRIES as i64))]
        limit: u32,
    },
    /// Records the registry's answers (registration id, proof of registration, the hash it
    /// carries) from a JSON file against the passport versions (docs/registry.md).
    Record {
        /// The answers file (schema: registry-record.schema.json).
        file: PathBuf,
    },
}

/// Runs `hallmark registry` (exit codes: [`crate::client::EXIT_CODES_HELP`]).
pub fn run(args: &RegistryArgs) -> ExitCode {
    let name = match args.command {
        RegistryCommand::Export { .. } => "hallmark registry export",
        RegistryCommand::Record { .. } => "hallmark registry record",
    };
    crate::output::run(name, args.global.json, execute(args))
}

async fn execute(args: &RegistryArgs) -> Result<Exit, CliError> {
    match &args.command {
        RegistryCommand::Export { out, limit } => export(&args.global, out, *limit).await,
        RegistryCommand::Record { file } => record(&args.global, file).await,
    }
}

/// One page of the export.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ExportPage {
    export_id: String,
    file: Option<ExportFile>,
    #[serde(default)]
    skipped: Vec<Value>,
    next: Option<String>,
}

async fn export(global: &GlobalOpts, out: &Path, limit: u32) -> Result<Exit, CliError> {
    let client = AdminClient::from_env(global)?;
    std::fs::create_dir_all(out).map_err(|e| CliError::Usage(format!("{}: {e}", out.display())))?;
    let mut export_id: Option<String> = None;
    let mut after: Option<String> = None;
    let mut part = 1u32;
    let mut written = Vec::new();
    let mut entries = 0usize;
    let mut skipped = Vec::new();
    loop {
        let mut path = format!("/api/v1/registry/export?limit={limit}&part={part}");
        if let Some(id) = &export_id {
            path.push_str(&format!("&exportId={id}"));
        }
        if let Some(a) = &after {
            path.push_str(&format!("&after={}", crate::passport_cmd::escape(a)));
        }
        let answer = client.send(Method::GET, &path, None).await?.ok()?;
        let url = answer.url.clone();
        let page: ExportPage = answer.json()?;
        export_id = Some(page.export_id.clone());
        skipped.extend(page.skipped);
        if let Some(file) = page.file {
            file.check().map_err(|e| CliError::Unexpected {
                url: url.clone(),
                detail: e.to_string(),
            })?;
            let name = format!("registry-{}-{:03}.json", page.export_id, file.part);
            let target = out.join(&name);
            let mut text =
                serde_json::to_string_pretty(&file).map_err(|e| CliError::Unexpected {
                    url: url.clone(),
                    detail: e.to_string(),
                })?;
            text.push('\n');
            std::fs::write(&target, text)
                .map_err(|e| CliError::Usage(format!("{}: {e}", target.display())))?;
            entries += file.entries.len();
            written.push(target);
            part += 1;
        }
        match page.next {
            Some(n) => after = Some(n),
            None => break,
        }
    }
    if global.json {
        let summary = serde_json::json!({
            "exportId": export_id,
            "files": written.iter().map(|p| p.display().to_string()).collect::<Vec<_>>(),
            "entries": entries,
            "skipped": skipped,
        });
        println!("{summary}");
    } else {
        for p in &written {
            println!("{}", p.display());
        }
        println!(
            "{entries} passport version(s) in {} file(s); {} skipped",
            written.len(),
            skipped.len()
        );
        for s in &skipped {
            let id = s["passportId"].as_str().unwrap_or("?");
            let reasons: Vec<&str> = s["reasons"]
                .as_array()
                .map(|r| r.iter().filter_map(Value::as_str).collect())
                .unwrap_or_default();
            eprintln!("skipped {id}: {}", reasons.join("; "));
        }
    }
    Ok(Exit::Ok)
}

async fn record(global: &GlobalOpts, file: &Path) -> Result<Exit, CliError> {
    let bytes =
        std::fs::read(file).map_err(|e| CliError::Usage(format!("{}: {e}", file.display())))?;
    let parsed = RecordFile::parse(&bytes)
        .map_err(|e| CliError::Usage(format!("{}: {e}", file.display())))?;
    let body = serde_json::to_value(&parsed).map_err(|e| CliError::Usage(e.to_string()))?;
    let client = AdminClient::from_env(global)?;
    let answer = client
        .retrying(Method::POST, "/api/v1/registry/registrations", Some(&body))
        .await?
        .ok()?;
    let result: Value = answer.json()?;
    if global.json {
        println!("{result}");
    } else {
        for item in result["results"].as_array().into_iter().flatten() {
            let r = &item["registration"];
            println!(
                "{} version {}: {} ({})",
                r["passportId"].as_str().unwrap_or("?"),
                r["dppVersion"],
                item["outcome"].as_str().unwrap_or("?"),
                r["registrationId"].as_str().unwrap_or("?"),
            );
        }
    }
    Ok(Exit::Ok)
}
