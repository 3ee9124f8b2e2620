//! `hallmark passport …`: the passport control plane over a running node's admin API, one
//! command per admin route (`hallmark_node::routes::admin::ROUTES`):
//!
//! | command | route |
//! |---|---|
//! | `create FILE\|-` | `POST /api/v1/passports` |
//! | `validate FILE\|-` | `POST /api/v1/passports/validate` (exit 3 when not publishable) |
//! | `update ID FILE\|-` | `PUT /api/v1/passports/{id}/draft` |
//! | `new-version ID FILE\|-` | `POST /api/v1/passports/{id}/versions` |
//! | `publish ID` | `POST /api/v1/passports/{id}/publish` |
//! | `suspend ID --reason T` · `resume ID` · `archive ID [--reason T]` · `deactivate ID --reason T` | `POST /api/v1/passports/{id}/{…}` |
//! | `get ID` | `GET /api/v1/passports/{id}` |
//! | `list [--status --sector --gtin --limit --after --all]` | `GET /api/v1/passports` |
//! | `history ID` | `GET /api/v1/passports/{id}/history` |
//!
//! A submission file is sent as its bytes (after checking that it is JSON), so the node's
//! strict input rules see what was written. Human output by default; `--json` prints the
//! node's JSON as received.

use crate::client::{AdminClient, Answer, CliError, Exit, GlobalOpts, Method};
use crate::output::{self, finding_line, issue_line, text, Block, Table};
use clap::{Args, Subcommand};
use hyper::body::Bytes;
use serde_json::{json, Value};
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

/// Arguments of `hallmark passport`.
#[derive(Args)]
#[command(after_long_help = crate::client::EXIT_CODES_HELP)]
pub struct PassportArgs {
    #[command(flatten)]
    global: GlobalOpts,
    #[command(subcommand)]
    command: PassportCommand,
}

/// The `passport` subcommands.
#[derive(Subcommand)]
enum PassportCommand {
    /// Create a passport from a submission (a JSON file, or - for stdin): prints its id,
    /// draft version and whether the draft is publishable (an invalid draft is still saved).
    Create {
        /// The submission (uniqueProductIdentifier, granularity, economicOperatorId, sector,
        /// data, …), or - to read stdin.
        file: PathBuf,
    },
    /// Check a submission without saving anything: exit 0 if publishable, 3 if not.
    Validate {
        /// The submission, or - to read stdin.
        file: PathBuf,
    },
    /// Replace a passport's pending draft.
    Update {
        /// The passport id.
        id: String,
        /// The submission, or - to read stdin.
        file: PathBuf,
    },
    /// Start the next version of a published passport (a new draft).
    NewVersion {
        /// The passport id.
        id: String,
        /// The submission, or - to read stdin.
        file: PathBuf,
    },
    /// Publish the pending draft: sign, store, log; prints the version, its URLs and its
    /// transparency-log index.
    Publish {
        /// The passport id.
        id: String,
    },
    /// Suspend a published passport (its page and credentials answer 410 until resumed).
    Suspend {
        /// The passport id.
        id: String,
        /// Why (required; shown with the passport's public status).
        #[arg(long)]
        reason: String,
    },
    /// Resume a suspended passport.
    Resume {
        /// The passport id.
        id: String,
    },
    /// Archive a passport (it stays served, marked archived).
    Archive {
        /// The passport id.
        id: String,
        /// Why (optional).
        #[arg(long)]
        reason: Option<String>,
    },
    /// Deactivate a passport for good (its product identifier is freed for a successor).
    Deactivate {
        /// The passport id.
        id: String,
        /// Why (required).
        #[arg(long)]
        reason: String,
    },
    /// Show a passport: its record, pending draft and current version — by id, or by the
    /// economic operator's own reference (`--external-ref R --operator EORI`, as given at
    /// import).
    Get {
        /// The passport id.
        #[arg(
            required_unless_present = "external_ref",
            conflicts_with = "external_ref"
        )]
        id: Option<String>,
        /// The passport's external reference (see `hallmark import`).
        #[arg(long, value_name = "REF", requires = "operator")]
        external_ref: Option<String>,
        /// The economic operator the reference belongs to, as written in its passports
        /// (e.g. https://id.gs1.org/417/4012345000016).
        #[arg(long, value_name = "ID", requires = "external_ref")]
        operator: Option<String>,
    },
    /// List passports, oldest first (by id; one page unless --all).
    List {
        /// Only this status: draft, published, suspended, archived or deactivated.
        #[arg(long)]
        status: Option<String>,
        /// Only this sector (e.g. battery).
        #[arg(long)]
        sector: Option<String>,
        /// Only this GTIN.
        #[arg(long)]
        gtin: Option<String>,
        /// Page size (the node caps it).
        #[arg(long)]
        limit: Option<u32>,
        /// Start after this passport id (the `next` of a previous page).
        #[arg(long, value_name = "ID")]
        after: Option<String>,
        /// Follow `next` to the last page (with --json: one item per line, JSON Lines).
        #[arg(long)]
        all: bool,
    },
    /// Show a passport's audit events (oldest first).
    History {
        /// The passport id.
        id: String,
    },
}

impl PassportCommand {
    fn name(&self) -> &'static str {
        match self {
            PassportCommand::Create { .. } => "create",
            PassportCommand::Validate { .. } => "validate",
            PassportCommand::Update { .. } => "update",
            PassportCommand::NewVersion { .. } => "new-version",
            PassportCommand::Publish { .. } => "publish",
            PassportCommand::Suspend { .. } => "suspend",
            PassportCommand::Resume { .. } => "resume",
            PassportCommand::Archive { .. } => "archive",
            PassportCommand::Deactivate { .. } => "deactivate",
            PassportCommand::Get { .. } => "get",
            PassportCommand::List { .. } => "list",
            PassportCommand::History { .. } => "history",
        }
    }
}

/// Runs `hallmark passport` (exit codes: [`crate::client::EXIT_CODES_HELP`]).
pub fn run(args: &PassportArgs) -> ExitCode {
    let name = format!("hallmark passport {}", args.command.name());
    output::run(&name, args.global.json, execute(args))
}

async fn execute(args: &PassportArgs) -> Result<Exit, CliError> {
    let json = args.global.json;
    // Files are read before the credentials are looked for: a bad path is the first error.
    let body = match &args.command {
        PassportCommand::Create { file }
        | PassportCommand::Validate { file }
        | PassportCommand::Update { file, .. }
        | PassportCommand::NewVersion { file, .. } => Some(read_submission(file)?),
        _ => None,
    };
    let client = AdminClient::from_env(&args.global)?;
    let c = &client;
    match &args.command {
        PassportCommand::Create { .. } => {
            let a = c
                .send_bytes(Method::POST, "/api/v1/passports", body, false)
                .await?
                .ok()?;
            show(&a, json, draft_block)
        }
        PassportCommand::Validate { .. } => {
            // A dry run: nothing is written, so it may be retried.
            let a = c
                .send_bytes(Method::POST, "/api/v1/passports/validate", body, true)
                .await?
                .ok()?;
            let v: Value = object(&a)?;
            if json {
                print_raw(&a);
            } else {
                validation_block(Block::new(), &v).print();
            }
            Ok(if v["valid"] == json!(true) {
                Exit::Ok
            } else {
                Exit::Invalid
            })
        }
        PassportCommand::Update { id, .. } => {
            // PUT: the same draft again is the same result.
            let path = format!("{}/draft", passport_path(id));
            let a = c.send_bytes(Method::PUT, &path, body, true).await?.ok()?;
            show(&a, json, draft_block)
        }
        PassportCommand::NewVersion { id, .. } => {
            let path = format!("{}/versions", passport_path(id));
            let a = c.send_bytes(Method::POST, &path, body, false).await?.ok()?;
            show(&a, json, draft_block)
        }
        PassportCommand::Publish { id } => {
            let path = format!("{}/publish", passport_path(id));
            let a = c.send(Method::POST, &path, None).await?.ok()?;
            show(&a, json, published_block)
        }
        PassportCommand::Suspend { id, reason } => {
            status_change(c, id, "suspend", Some(reason), json).await
        }
        PassportCommand::Resume { id } => {
            let path = format!("{}/resume", passport_path(id));
            let a = c.send(Method::POST, &path, None).await?.ok()?;
            show(&a, json, summary_block)
        }
        PassportCommand::Archive { id, reason } => {
            status_change(c, id, "archive", reason.as_ref(), json).await
        }
        PassportCommand::Deactivate { id, reason } => {
            status_change(c, id, "deactivate", Some(reason), json).await
        }
        PassportCommand::Get {
            id,
            external_ref,
            operator,
        } => {
            let id = match (id, external_ref, operator) {
                (Some(id), _, _) => id.clone(),
                (None, Some(r), Some(op)) => by_external_ref(c, r, op).await?,
                _ => {
                    return Err(CliError::Usage(
                        "give a passport id, or --external-ref with --operator".into(),
                    ))
                }
            };
            let a = c.send(Method::GET, &passport_path(&id), None).await?.ok()?;
            show(&a, json, detail_block)
        }
        PassportCommand::List {
            status,
            sector,
            gtin,
            limit,
            after,
            all,
        } => {
            let mut query: Vec<(&str, String)> = Vec::new();
            for (k, v) in [("status", status), ("sector", sector), ("gtin", gtin)] {
                if let Some(v) = v {
                    query.push((k, v.clone()));
                }
            }
            if let Some(l) = limit {
                query.push(("limit", l.to_string()));
            }
            list(c, &query, after.clone(), *all, json).await
        }
        PassportCommand::History { id } => {
            let path = format!("{}/history", passport_path(id));
            let a = c.send(Method::GET, &path, None).await?.ok()?;
            show(&a, json, history_table)
        }
    }
}

/// A submission's bytes from a file or stdin (`-`), checked to be one JSON value: exit 2 if
/// unreadable, 3 if not JSON.
fn read_submission(file: &Path) -> Result<Bytes, CliError> {
    let (bytes, shown) = if file == Path::new("-") {
        let mut buf = Vec::new();
        std::io::stdin()
            .read_to_end(&mut buf)
            .map_err(|e| CliError::Usage(format!("stdin: {e}")))?;
        (buf, "stdin".to_string())
    } else {
        let bytes =
            std::fs::read(file).map_err(|e| CliError::Usage(format!("{}: {e}", file.display())))?;
        (bytes, file.display().to_string())
    };
    serde_json::from_slice::<serde::de::IgnoredAny>(&bytes)
        .map_err(|e| CliError::Invalid(format!("{shown}: not JSON: {e}")))?;
    Ok(Bytes::from(bytes))
}

/// `/api/v1/passports/{id}`, the id escaped as one path segment.
fn passport_path(id: &str) -> String {
    format!("/api/v1/passports/{}", escape(id.trim()))
}

/// Percent-encoding of everything but letters, digits, `-`, `_`, `~` and `:` (a path
/// segment that cannot be `..`, or a query value).
pub(crate) fn escape(v: &str) -> String {
    let mut out = String::with_capacity(v.len());
    for b in v.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'~' | b':') {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

async fn status_change(
    c: &AdminClient,
    id: &str,
    action: &str,
    reason: Option<&String>,
    json: bool,
) -> Result<Exit, CliError> {
    let path = format!("{}/{action}", passport_path(id));
    let body = json!({ "reason": reason });
    let a = c.send(Method::POST, &path, Some(&body)).await?.ok()?;
    show(&a, json, summary_block)
}

/// Every page (or one), as a table or as JSON (one page as received; with --all, JSON
/// Lines of the items).
async fn list(
    c: &AdminClient,
    query: &[(&str, String)],
    mut after: Option<String>,
    all: bool,
    json: bool,
) -> Result<Exit, CliError> {
    let mut table = Table::new(&["ID", "STATUS", "VERSION", "GTIN", "SECTOR", "UPDATED"]);
    loop {
        let mut q: Vec<String> = query
            .iter()
            .map(|(k, v)| format!("{k}={}", escape(v)))
            .collect();
        if let Some(a) = &after {
            q.push(format!("after={}", escape(a)));
        }
        let mut path = "/api/v1/passports".to_string();
        if !q.is_empty() {
            path.push('?');
            path.push_str(&q.join("&"));
        }
        let a = c.send(Method::GET, &path, None).await?.ok()?;
        let page: Value = object(&a)?;
        let items = page["items"]
            .as_array()
            .ok_or_else(|| CliError::Unexpected {
                url: a.url.clone(),
                detail: "no `items` array".into(),
            })?;
        if json && !all {
            print_raw(&a);
            return Ok(Exit::Ok);
        }
        for item in items {
            if json {
                println!("{item}");
            } else {
                table.row(vec![
                    text(&item["id"]),
                    text(&item["status"]),
                    text(&item["currentVersion"]),
                    text(&item["gtin"]),
                    text(&item["sector"]),
                    text(&item["updatedAt"]),
                ]);
            }
        }
        let next = page["next"].as_str().map(str::to_owned);
        match next {
            Some(n) if all && Some(&n) != after.as_ref() => after = Some(n),
            Some(n) if !all && !json => {
                table.print();
                eprintln!("(more: --after {n}, or --all)");
                return Ok(Exit::Ok);
            }
            _ => break,
        }
    }
    if !json {
        table.print();
    }
    Ok(Exit::Ok)
}

/// The answer's JSON object (exit 1 if it is not one).
fn object(a: &Answer) -> Result<Value, CliError> {
    let v: Value = a.json()?;
    if !v.is_object() {
        return Err(CliError::Unexpected {
            url: a.url.clone(),
            detail: "not a JSON object".into(),
        });
    }
    Ok(v)
}

fn print_raw(a: &Answer) {
    println!("{}", String::from_utf8_lossy(&a.body).trim_end());
}

/// Prints the answer: as received with --json, else through `human`.
/// The id of the passport an operator's external reference names (`GET
/// /api/v1/passports?externalRef=…&economicOperatorId=…`); none is a 404 (exit 5).
async fn by_external_ref(c: &AdminClient, r: &str, operator: &str) -> Result<String, CliError> {
    let path = format!(
        "/api/v1/passports?externalRef={}&economicOperatorId={}",
        escape(r),
        escape(operator)
    );
    let a = c.send(Method::GET, &path, None).await?.ok()?;
    let page = object(&a)?;
    match page["items"].as_array().and_then(|i| i.first()) {
        Some(item) => item["id"]
            .as_str()
            .map(str::to_owned)
            .ok_or_else(|| CliError::Unexpected {
                url: a.url.clone(),
                detail: "a passport without an id".into(),
            }),
        None => Err(CliError::Refused {
            url: a.url.clone(),
            status: 404,
            slug: Some("not-found".into()),
            summary: format!("no passport has the external reference {r:?} of {operator}"),
            body: Default::default(),
        }),
    }
}

fn show(a: &Answer, json: bool, human: fn(&Value) -> String) -> Result<Exit, CliError> {
    let v = object(a)?;
    if json {
        print_raw(a);
    } else {
        print!("{}", human(&v));
    }
    Ok(Exit::Ok)
}

/// A draft write: id, (record), draft version, validation.
fn draft_block(v: &Value) -> String {
    let b = Block::new()
        .field("id", v, "id")
        .field("status", v, "status")
        .field("gtin", v, "gtin")
        .field("sector", v, "sector")
        .field("draft version", v, "draftVersion");
    validation_block(b, &v["validation"]).render()
}

/// `valid yes|no`, then each issue and the plugin's verdict.
fn validation_block(mut b: Block, v: &Value) -> Block {
    let valid = v["valid"] == json!(true);
    b = b.kv(
        "valid",
        if valid {
            "yes"
        } else {
            "no (not publishable as it stands)"
        },
    );
    if let Some(issues) = v["issues"].as_array().filter(|i| !i.is_empty()) {
        b = b.kv("issues", issues.len().to_string());
        for issue in issues {
            b = b.line(format!("  {}", issue_line(issue)));
        }
    }
    plugin_lines(b, &v["plugin"])
}

fn plugin_lines(mut b: Block, plugin: &Value) -> Block {
    if plugin.is_null() {
        return b;
    }
    let name = format!(
        "{} {}",
        plugin["name"].as_str().unwrap_or("?"),
        plugin["version"].as_str().unwrap_or("")
    );
    if let Some(failed) = plugin.get("failed") {
        return b.kv(
            "plugin",
            format!(
                "{} gave no verdict ({}): {}",
                name.trim(),
                text(&failed["reason"]),
                text(&failed["detail"])
            ),
        );
    }
    let findings = plugin["findings"].as_array().cloned().unwrap_or_default();
    b = b.kv(
        "plugin",
        format!("{}: {} finding(s)", name.trim(), findings.len()),
    );
    for f in &findings {
        b = b.line(format!("  {}", finding_line(f)));
    }
    b
}

fn published_block(v: &Value) -> String {
    let b = Block::new()
        .field("id", v, "id")
        .field("version", v, "version")
        .field("status", v, "status")
        .field("signed by", v, "keyId")
        .field("url", v, "url")
        .field("version url", v, "versionUrl")
        .field("log index", v, "logIndex")
        .field("inclusion proof", v, "logInclusionUrl")
        .field("checkpoint", v, "logCheckpointUrl");
    plugin_lines(b, &v["plugin"]).render()
}

fn summary(v: &Value) -> Block {
    let mut b = Block::new()
        .field("id", v, "id")
        .field("status", v, "status");
    if !v["statusReason"].is_null() {
        b = b.field("reason", v, "statusReason");
    }
    b.field("gtin", v, "gtin")
        .field("sector", v, "sector")
        .field("operator", v, "economicOperatorId")
        .field("version", v, "currentVersion")
        .field("created", v, "createdAt")
        .field("updated", v, "updatedAt")
        .field("published", v, "publishedAt")
}

fn summary_block(v: &Value) -> String {
    summary(v).render()
}

fn detail_block(v: &Value) -> String {
    let mut b = summary(v);
    if let Some(d) = v.get("draft") {
        b = b
            .field("draft version", d, "version")
            .field("draft updated", d, "updatedAt");
        if let Some(upi) = d["passport"].get("uniqueProductIdentifier") {
            b = b.kv("identifier", text(upi));
        }
    }
    if let Some(c) = v.get("current") {
        b = b
            .field("current version", c, "version")
            .field("signed by", c, "keyId")
            .field("signed at", c, "signedAt");
    }
    b.render()
}

fn history_table(v: &Value) -> String {
    let mut t = Table::new(&["SEQ", "AT", "ACTOR", "ACTION", "SUBJECT"]);
    for e in v["events"].as_array().into_iter().flatten() {
        t.row(vec![
            text(&e["seq"]),
            text(&e["at"]),
            text(&e["actor"]),
            text(&e["action"]),
            text(&e["subject"]),
        ]);
    }
    t.render()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_cannot_leave_their_path_segment() {
        assert_eq!(
            passport_path("../api-keys"),
            "/api/v1/passports/%2E%2E%2Fapi-keys"
        );
        assert_eq!(
            passport_path("urn:uuid:0190a-b"),
            "/api/v1/passports/urn:uuid:0190a-b"
        );
        assert_eq!(escape("a b&c"), "a%20b%26c");
    }
}
