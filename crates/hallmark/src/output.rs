//! What the control-plane commands print and how they end: the exit codes ([`Exit`], one
//! table: [`EXIT_CODES_HELP`]) and the one error type ([`CliError`]), key–value blocks
//! ([`Block`]) and aligned tables ([`Table`]) on stdout, a refusal spelled out on stderr
//! ([`problem_lines`], [`report`]), and [`run`], which drives a command on the async
//! runtime, stops it on Ctrl-C/SIGTERM (exit 130) and turns its error into its exit code.
//! (`client.rs` re-exports `Exit` and `CliError`.)

use crate::fetch::FetchError;
use hyper::body::Bytes;
use serde_json::Value;
use std::future::Future;
use std::process::ExitCode;

/// The exit codes of the control-plane commands (`passport`, `api-key`, `import`): one
/// table, in `--help` ([`EXIT_CODES_HELP`]) and docs/cli.md.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub enum Exit {
    /// Done.
    Ok = 0,
    /// An unexpected answer (not JSON, wrong shape, an unexpected status).
    Unexpected = 1,
    /// Usage: arguments, missing URL or key, unreadable file, a request the node found
    /// malformed (400 `bad-request`, 415).
    Usage = 2,
    /// Validation: the content was refused (400 content errors, 413, 422), or `passport
    /// validate` found the submission not publishable.
    Invalid = 3,
    /// Authentication or authorisation (401, 403, 429 `auth-throttled`).
    Auth = 4,
    /// State: not found, conflict, gone (404, 409, 410; 406 `aas-unsupported-sector`,
    /// `no-encryption-key`).
    State = 5,
    /// Server: 5xx (after retries), 429 `rate-limited` after retries.
    Server = 6,
    /// Network: connect, TLS, no answer in time.
    Network = 7,
    /// Interrupted (Ctrl-C, SIGTERM).
    Interrupted = 130,
}

impl Exit {
    /// The exit code of an answer with this status and problem slug (`type` after
    /// `urn:hallmark:problem:`).
    pub fn for_status(status: u16, slug: Option<&str>) -> Exit {
        match status {
            200..=299 => Exit::Ok,
            400 => match slug {
                Some("duplicate-member" | "forbidden-character" | "malformed-json") => {
                    Exit::Invalid
                }
                _ => Exit::Usage,
            },
            415 => Exit::Usage,
            413 | 422 => Exit::Invalid,
            401 | 403 => Exit::Auth,
            429 if slug == Some("auth-throttled") => Exit::Auth,
            429 => Exit::Server,
            404 | 409 | 410 => Exit::State,
            406 if matches!(slug, Some("aas-unsupported-sector" | "no-encryption-key")) => {
                Exit::State
            }
            500..=599 => Exit::Server,
            _ => Exit::Unexpected,
        }
    }

    /// The process exit code.
    pub fn code(self) -> u8 {
        self as u8
    }
}

impl From<Exit> for ExitCode {
    fn from(e: Exit) -> ExitCode {
        ExitCode::from(e.code())
    }
}

/// The exit-code table of `--help` (after the options).
pub const EXIT_CODES_HELP: &str = "\
Credentials (never on the command line; see docs/cli.md):
  admin URL  --admin-url, else HALLMARK_ADMIN_URL, else the profile's admin_url
  API key    HALLMARK_API_KEY, else HALLMARK_API_KEY_FILE, else the profile's api_key_file | api_key
  profile    ${XDG_CONFIG_HOME:-~/.config}/hallmark/cli.toml, [profiles.NAME], chosen with
             --profile or HALLMARK_PROFILE (else [profiles.default] if present)
  api-key commands without an API key use the admin login:
             HALLMARK_ADMIN_USERNAME + HALLMARK_ADMIN_PASSWORD (or HALLMARK_ADMIN_PASSWORD_FILE)

Exit codes:
  0    done
  1    unexpected answer (not JSON, wrong shape, unexpected status)
  2    usage: arguments, missing URL or key, unreadable file, 400 bad-request, 415
  3    validation: content refused (400 duplicate-member/forbidden-character/malformed-json,
       413, 422); `passport validate` of a submission that is not publishable
  4    authentication or authorisation (401, 403, 429 auth-throttled)
  5    state: not found, conflict, gone (404, 409, 410; 406 aas-unsupported-sector,
       no-encryption-key)
  6    server: 5xx (after retries), 429 rate-limited (after retries)
  7    network: cannot connect, TLS, no answer within --timeout
  130  interrupted (Ctrl-C, SIGTERM)";

/// Why a control-plane command stopped. Each message is one line; [`CliError::exit`] is
/// its exit code, and `output::report` prints it (a problem answer spelled out).
#[derive(Debug, thiserror::Error)]
pub enum CliError {
    /// Arguments, missing URL or key, an unreadable file (exit 2).
    #[error("{0}")]
    Usage(String),
    /// The content was refused before anything was sent (exit 3).
    #[error("{0}")]
    Invalid(String),
    /// Connect, TLS, no answer in time (exit 7).
    #[error("{0}")]
    Network(String),
    /// The node answered with an error status.
    #[error("{url}: HTTP {status}{}: {summary}", slug.as_deref().map(|s| format!(" {s}")).unwrap_or_default())]
    Refused {
        /// The request's URL.
        url: String,
        /// The status.
        status: u16,
        /// The problem's slug, if the answer is a Hallmark problem.
        slug: Option<String>,
        /// The problem's title and detail, or the start of the body.
        summary: String,
        /// The answer's body (a problem object, as received).
        body: Bytes,
    },
    /// The answer is not what the route answers (exit 1).
    #[error("{url}: unexpected answer: {detail}")]
    Unexpected {
        /// The request's URL.
        url: String,
        /// What is wrong.
        detail: String,
    },
    /// Ctrl-C or SIGTERM (exit 130).
    #[error("interrupted")]
    Interrupted,
}

impl CliError {
    /// The exit code.
    pub fn exit(&self) -> Exit {
        match self {
            CliError::Usage(_) => Exit::Usage,
            CliError::Invalid(_) => Exit::Invalid,
            CliError::Network(_) => Exit::Network,
            CliError::Refused { status, slug, .. } => Exit::for_status(*status, slug.as_deref()),
            CliError::Unexpected { .. } => Exit::Unexpected,
            CliError::Interrupted => Exit::Interrupted,
        }
    }
}

impl From<FetchError> for CliError {
    fn from(e: FetchError) -> CliError {
        match e {
            FetchError::Url { .. } => CliError::Usage(e.to_string()),
            _ => CliError::Network(e.to_string()),
        }
    }
}

/// Runs `command` (named `name` in messages, e.g. `hallmark passport publish`) to its exit
/// code: errors are reported on stderr (and with `json` a refusal's problem object on
/// stdout); Ctrl-C or SIGTERM stops it with 130.
pub fn run<F>(name: &str, json: bool, command: F) -> ExitCode
where
    F: Future<Output = Result<Exit, CliError>>,
{
    let runtime = match crate::runtime::runtime() {
        Ok(r) => r,
        Err(e) => {
            eprintln!("{name}: {e}");
            return Exit::Unexpected.into();
        }
    };
    let result = runtime.block_on(async {
        // The handlers are installed before the command starts: a signal that arrives once
        // a request is under way always ends the command with 130.
        let stop = Interrupt::install();
        tokio::select! {
            r = command => r,
            () = stop.wait() => Err(CliError::Interrupted),
        }
    });
    match result {
        Ok(exit) => exit.into(),
        Err(e) => report(name, &e, json).into(),
    }
}

/// Ctrl-C (SIGINT) and, on Unix, SIGTERM, listened for from the moment of [`install`].
///
/// [`install`]: Interrupt::install
struct Interrupt {
    #[cfg(unix)]
    signals: Option<(tokio::signal::unix::Signal, tokio::signal::unix::Signal)>,
}

impl Interrupt {
    fn install() -> Interrupt {
        #[cfg(unix)]
        {
            use tokio::signal::unix::{signal, SignalKind};
            let signals = signal(SignalKind::interrupt())
                .and_then(|int| Ok((int, signal(SignalKind::terminate())?)))
                .ok();
            Interrupt { signals }
        }
        #[cfg(not(unix))]
        {
            Interrupt {}
        }
    }

    async fn wait(self) {
        #[cfg(unix)]
        if let Some((mut int, mut term)) = self.signals {
            tokio::select! {
                _ = int.recv() => {}
                _ = term.recv() => {}
            }
            return;
        }
        let _ = tokio::signal::ctrl_c().await;
    }
}

/// Prints `error` for `name` on stderr — a refusal as its problem spelled out — and with
/// `json` a refusal's problem object (as received) on stdout; returns its exit code.
pub fn report(name: &str, error: &CliError, json: bool) -> Exit {
    match error {
        CliError::Refused {
            url, status, body, ..
        } => match serde_json::from_slice::<Value>(body)
            .ok()
            .filter(Value::is_object)
        {
            Some(problem) => {
                let mut lines = problem_lines(&problem).into_iter();
                let first = lines.next().unwrap_or_default();
                eprintln!("{name}: {first}");
                for line in lines {
                    eprintln!("{line}");
                }
                if json {
                    println!("{}", String::from_utf8_lossy(body).trim_end());
                }
            }
            None => eprintln!("{name}: {url}: HTTP {status}: {}", error_summary(error)),
        },
        _ => eprintln!("{name}: {error}"),
    }
    error.exit()
}

fn error_summary(e: &CliError) -> String {
    match e {
        CliError::Refused { summary, .. } => summary.clone(),
        other => other.to_string(),
    }
}

/// A problem+json object in lines: `Title (status slug): detail`, then one indented line per
/// extension member — each `issues` entry as `pointer: message`, each plugin finding as
/// `severity pointer: message (plugin name version)`, the identifier in use and its
/// passport, `retry after N s`, the scope needed, limits, and any other member as compact
/// JSON.
pub fn problem_lines(problem: &Value) -> Vec<String> {
    let title = problem["title"].as_str().unwrap_or("Problem");
    let status = problem["status"]
        .as_u64()
        .map(|s| s.to_string())
        .unwrap_or_default();
    let slug = problem["type"]
        .as_str()
        .map(|t| t.strip_prefix("urn:hallmark:problem:").unwrap_or(t))
        .unwrap_or("");
    let mut head = format!("{title} ({})", [status.as_str(), slug].join(" ").trim());
    if let Some(d) = problem["detail"].as_str() {
        head.push_str(": ");
        head.push_str(d);
    }
    let mut lines = vec![head];
    let Some(members) = problem.as_object() else {
        return lines;
    };
    let plugin = plugin_name(&problem["plugin"]);
    for (key, value) in members {
        match key.as_str() {
            "type" | "title" | "status" | "detail" | "plugin" => {}
            "issues" => {
                for issue in value.as_array().into_iter().flatten() {
                    lines.push(format!("  {}", issue_line(issue)));
                }
            }
            "findings" => {
                for f in value.as_array().into_iter().flatten() {
                    let mut line = format!("  {}", finding_line(f));
                    if let Some(p) = &plugin {
                        line.push_str(&format!(" (plugin {p})"));
                    }
                    lines.push(line);
                }
            }
            "identifier" => {
                let id = members.get("existing_passport").and_then(Value::as_str);
                lines.push(match id {
                    Some(id) => format!("  {} is passport {id}", text(value)),
                    None => format!("  identifier: {}", text(value)),
                });
            }
            "existing_passport" if members.contains_key("identifier") => {}
            "retry_after" => lines.push(format!("  retry after {} s", text(value))),
            "required_scope" => lines.push(format!("  needs the {} scope", text(value))),
            "limit" => lines.push(format!("  limit: {}", text(value))),
            "max" => lines.push(format!("  max: {}", text(value))),
            "reason" => lines.push(format!("  reason: {}", text(value))),
            "pointer" => lines.push(format!("  at {}", pointer(value))),
            _ => lines.push(format!("  {key}: {}", text(value))),
        }
    }
    if members.contains_key("plugin") && !members.contains_key("findings") {
        if let Some(p) = plugin {
            lines.push(format!("  plugin: {p}"));
        }
    }
    lines
}

/// `name version` of a plugin object.
fn plugin_name(plugin: &Value) -> Option<String> {
    let name = plugin["name"].as_str()?;
    Some(match plugin["version"].as_str() {
        Some(v) => format!("{name} {v}"),
        None => name.to_owned(),
    })
}

/// A JSON Pointer as shown (`(document)` for the empty pointer).
fn pointer(v: &Value) -> String {
    match v.as_str() {
        Some("") | None => "(document)".into(),
        Some(p) => p.into(),
    }
}

/// `pointer: message` of an `issues` entry.
pub fn issue_line(issue: &Value) -> String {
    format!(
        "{}: {}",
        pointer(&issue["pointer"]),
        issue["message"].as_str().unwrap_or("")
    )
}

/// `severity pointer: message` of a plugin finding.
pub fn finding_line(f: &Value) -> String {
    format!(
        "{} {}: {}",
        f["severity"].as_str().unwrap_or("?"),
        pointer(&f["pointer"]),
        f["message"].as_str().unwrap_or("")
    )
}

/// A value as text: strings bare, `null` as `-`, anything else as compact JSON.
pub fn text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Null => "-".into(),
        other => other.to_string(),
    }
}

/// A key–value block, keys aligned: `key   value`, with indented lines after any pair.
#[derive(Default)]
pub struct Block {
    rows: Vec<(String, String)>,
}

impl Block {
    /// An empty block.
    pub fn new() -> Block {
        Block::default()
    }

    /// A pair.
    pub fn kv(mut self, key: &str, value: impl Into<String>) -> Block {
        self.rows.push((key.to_owned(), value.into()));
        self
    }

    /// `key` with member `member` of `v` as [`text`], if present.
    pub fn field(self, key: &str, v: &Value, member: &str) -> Block {
        match v.get(member) {
            Some(value) => self.kv(key, text(value)),
            None => self,
        }
    }

    /// A line printed as it is (e.g. an indented issue).
    pub fn line(mut self, line: impl Into<String>) -> Block {
        self.rows.push((String::new(), line.into()));
        self
    }

    /// The block as text.
    pub fn render(&self) -> String {
        let width = self
            .rows
            .iter()
            .map(|(k, _)| k.chars().count())
            .max()
            .unwrap_or(0);
        let mut out = String::new();
        for (k, v) in &self.rows {
            if k.is_empty() {
                out.push_str(v);
            } else {
                out.push_str(&format!("{k:width$}  {v}"));
            }
            out.push('\n');
        }
        out
    }

    /// Prints the block to stdout.
    pub fn print(&self) {
        print!("{}", self.render());
    }
}

/// A table with a header row, columns aligned.
pub struct Table {
    header: Vec<String>,
    rows: Vec<Vec<String>>,
}

impl Table {
    /// A table with these column titles.
    pub fn new(header: &[&str]) -> Table {
        Table {
            header: header.iter().map(|h| (*h).to_owned()).collect(),
            rows: Vec::new(),
        }
    }

    /// A row.
    pub fn row(&mut self, cells: Vec<String>) {
        self.rows.push(cells);
    }

    /// The table as text (trailing spaces trimmed).
    pub fn render(&self) -> String {
        let mut widths: Vec<usize> = self.header.iter().map(|h| h.chars().count()).collect();
        for row in &self.rows {
            for (i, cell) in row.iter().enumerate() {
                let w = cell.chars().count();
                match widths.get_mut(i) {
                    Some(x) => *x = (*x).max(w),
                    None => widths.push(w),
                }
            }
        }
        let line = |cells: &[String]| {
            let mut s = String::new();
            for (i, cell) in cells.iter().enumerate() {
                let w = widths.get(i).copied().unwrap_or(0);
                s.push_str(&format!("{cell:w$}  "));
            }
            s.trim_end().to_owned() + "\n"
        };
        let mut out = line(&self.header);
        for row in &self.rows {
            out.push_str(&line(row));
        }
        out
    }

    /// Prints the table to stdout.
    pub fn print(&self) {
        print!("{}", self.render());
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;
    use serde_json::json;

    #[test]
    fn statuses_map_to_the_documented_exit_codes() {
        let cases: &[(u16, Option<&str>, Exit)] = &[
            (200, None, Exit::Ok),
            (201, None, Exit::Ok),
            (400, Some("bad-request"), Exit::Usage),
            (400, Some("duplicate-member"), Exit::Invalid),
            (415, Some("unsupported-media-type"), Exit::Usage),
            (413, Some("body-too-large"), Exit::Invalid),
            (422, Some("invalid-passport"), Exit::Invalid),
            (401, Some("unauthorized"), Exit::Auth),
            (403, Some("forbidden"), Exit::Auth),
            (429, Some("auth-throttled"), Exit::Auth),
            (429, Some("rate-limited"), Exit::Server),
            (404, Some("not-found"), Exit::State),
            (409, Some("conflict"), Exit::State),
            (410, Some("gone"), Exit::State),
            (500, Some("internal"), Exit::Server),
            (503, Some("signing-unavailable"), Exit::Server),
            (302, None, Exit::Unexpected),
        ];
        for (status, slug, exit) in cases {
            assert_eq!(Exit::for_status(*status, *slug), *exit, "{status} {slug:?}");
        }
        assert_eq!(Exit::Interrupted.code(), 130);
        assert_eq!(Exit::Network.code(), 7);
    }

    #[test]
    fn an_invalid_passport_problem_is_spelled_out() {
        let p = json!({
            "type": "urn:hallmark:problem:invalid-passport",
            "title": "Invalid passport",
            "status": 422,
            "detail": "the passport is invalid (2 issue(s))",
            "issues": [
                {"pointer": "/generalProductInformation/weight", "message": "-1 is less than 0"},
                {"pointer": "", "message": "missing field `data`"}
            ]
        });
        assert_eq!(
            problem_lines(&p),
            vec![
                "Invalid passport (422 invalid-passport): the passport is invalid (2 issue(s))",
                "  /generalProductInformation/weight: -1 is less than 0",
                "  (document): missing field `data`",
            ]
        );
    }

    #[test]
    fn plugin_findings_identifiers_and_unknown_members_get_a_line_each() {
        let p = json!({
            "type": "urn:hallmark:problem:plugin-findings",
            "title": "Rejected by the sector plugin",
            "status": 422,
            "plugin": {"name": "battery", "version": "0.2.0", "sha256": "ab"},
            "findings": [{"pointer": "/data/x", "severity": "error", "message": "too heavy"}],
            "somethingNew": {"a": 1}
        });
        let lines = problem_lines(&p);
        assert_eq!(
            lines[0],
            "Rejected by the sector plugin (422 plugin-findings)"
        );
        assert!(lines.contains(&"  error /data/x: too heavy (plugin battery 0.2.0)".to_owned()));
        assert!(lines.contains(&"  somethingNew: {\"a\":1}".to_owned()));
        let p = json!({
            "type": "urn:hallmark:problem:identifier-in-use", "title": "Product identifier in use",
            "status": 409, "identifier": "(01)09506000134352(21)A item", "existing_passport": "0190"
        });
        assert_eq!(
            problem_lines(&p)[1],
            "  (01)09506000134352(21)A item is passport 0190"
        );
    }

    #[test]
    fn blocks_and_tables_align() {
        let b = Block::new()
            .kv("id", "x")
            .kv("draft version", "1")
            .line("  a: b");
        assert_eq!(b.render(), "id             x\ndraft version  1\n  a: b\n");
        let mut t = Table::new(&["ID", "STATUS"]);
        t.row(vec!["abc".into(), "draft".into()]);
        t.row(vec!["a".into(), "published".into()]);
        assert_eq!(t.render(), "ID   STATUS\nabc  draft\na    published\n");
    }
}
