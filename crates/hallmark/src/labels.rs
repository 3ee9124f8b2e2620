//! `hallmark labels`: QR codes of many published passports, for printing, into a folder or
//! a ZIP file.
//!
//! The labels come from a running node's admin API (`GET /api/v1/labels`, an API key of
//! `read` scope), through the control plane's client and credentials (`client.rs`,
//! `creds.rs`: `HALLMARK_API_KEY`, `HALLMARK_API_KEY_FILE` or a profile): the node
//! is the one that knows its public base URL, so the Digital Link URIs are the ones it
//! resolves, and the operator needs no database credentials on the machine that prints.
//! Each URI is checked as a GS1 Digital Link and drawn locally with the node's own
//! renderer (`hallmark_node::qr`), so a file is byte for byte what the node's public
//! `/passports/{id}/qr.png|svg` serves with the same options.

use crate::client::{AdminClient, CliError, Exit, GlobalOpts, Method};
use clap::{Args, ValueEnum};
use hallmark_core::passport::ProductIdentifier;
use hallmark_node::qr::{self, Format, Options, ParamError, QrError};
use serde::Deserialize;
use std::collections::BTreeSet;
use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

/// `hallmark labels` options.
#[derive(Debug, Args)]
pub struct LabelsArgs {
    /// The node's admin API, e.g. https://admin.example:8081 (with or without /api/v1).
    /// Else HALLMARK_ADMIN_URL, else the profile's admin_url.
    #[arg(
        long,
        visible_alias = "admin-url",
        env = "HALLMARK_ADMIN_URL",
        value_name = "URL"
    )]
    node: Option<String>,
    /// The profile of ${XDG_CONFIG_HOME:-~/.config}/hallmark/cli.toml to use (see
    /// `hallmark passport --help`).
    #[arg(long, env = "HALLMARK_PROFILE", value_name = "NAME")]
    profile: Option<String>,
    /// Only passports of this GTIN (GTIN-8/12/13/14).
    #[arg(long)]
    gtin: Option<String>,
    /// Only passports whose identifier carries this lot / batch number (AI 10).
    #[arg(long)]
    lot: Option<String>,
    /// A folder (created if missing; files in it are replaced) or a file ending in .zip.
    #[arg(long, value_name = "PATH")]
    out: PathBuf,
    /// Which drawings to write for each passport.
    #[arg(long, value_enum, default_value_t = Formats::Png)]
    format: Formats,
    /// Error correction: L, M, Q or H.
    #[arg(long, default_value = "M")]
    ec: String,
    /// X-dimension (module size) in mm, 0.396 to 0.990 (GS1).
    #[arg(long, default_value = "0.5")]
    x: String,
    /// PNG resolution in dots per inch, 72 to 1200 (written into the PNG).
    #[arg(long, default_value = "600")]
    dpi: String,
}

/// The drawings `hallmark labels` writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Formats {
    /// PNG only.
    Png,
    /// SVG only.
    Svg,
    /// PNG and SVG.
    Both,
}

impl Formats {
    fn list(self) -> &'static [Format] {
        match self {
            Formats::Png => &[Format::Png],
            Formats::Svg => &[Format::Svg],
            Formats::Both => &[Format::Png, Format::Svg],
        }
    }
}

/// Why `hallmark labels` stopped. Each message is one line.
#[derive(Debug, thiserror::Error)]
pub enum LabelsError {
    /// A drawing option is out of range (exit 2).
    #[error("{0}")]
    Option(#[from] ParamError),
    /// No admin URL or API key (exit 2), or the admin API could not be reached.
    #[error(transparent)]
    Client(#[from] CliError),
    /// The admin API refused the request.
    #[error("{url}: HTTP {status}: {detail}")]
    Refused {
        /// The URL.
        url: String,
        /// The status.
        status: u16,
        /// The problem's detail or title, or the body.
        detail: String,
    },
    /// The answer is not the label listing.
    #[error("{url}: unexpected answer: {detail}")]
    Answer {
        /// The URL.
        url: String,
        /// What is wrong.
        detail: String,
    },
    /// The node named a URI that is not a GS1 Digital Link without a query.
    #[error("passport {id}: {uri:?} is not a GS1 Digital Link URI: {detail}")]
    NotDigitalLink {
        /// The passport.
        id: String,
        /// The URI.
        uri: String,
        /// Why.
        detail: String,
    },
    /// Two passports would write the same file (never expected: live identifiers are
    /// unique).
    #[error("two passports have the element string {0}")]
    Duplicate(String),
    /// No published passport matches.
    #[error("no published passport matches")]
    Nothing,
    /// A symbol could not be drawn.
    #[error(transparent)]
    Qr(#[from] QrError),
    /// Writing the output failed.
    #[error("{}: {source}", path.display())]
    Write {
        /// The file or folder.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// Writing the ZIP file failed.
    #[error("{}: {source}", path.display())]
    Zip {
        /// The file.
        path: PathBuf,
        /// Why.
        source: zip::result::ZipError,
    },
    /// The async runtime did not start.
    #[error("{0}")]
    Runtime(String),
}

impl LabelsError {
    fn exit_code(&self) -> u8 {
        match self {
            LabelsError::Option(_) => 2,
            LabelsError::Client(e) if e.exit() == Exit::Usage => 2,
            _ => 1,
        }
    }
}

/// One label as the admin API lists it.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Label {
    id: String,
    digital_link: String,
}

#[derive(Debug, Deserialize)]
struct LabelPage {
    items: Vec<Label>,
    next: Option<String>,
}

/// Run `hallmark labels`: exit 0 when every file was written, 1 when the node or the
/// output failed (or nothing matched), 2 on a usage error.
pub fn run(args: &LabelsArgs) -> ExitCode {
    match run_inner(args) {
        Ok(summary) => {
            println!("{summary}");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("hallmark labels: {e}");
            ExitCode::from(e.exit_code())
        }
    }
}

fn run_inner(args: &LabelsArgs) -> Result<String, LabelsError> {
    let options = Options::from_params(Some(&args.ec), Some(&args.x), Some(&args.dpi))?;
    let client = AdminClient::from_env(&GlobalOpts {
        admin_url: args.node.clone(),
        profile: args.profile.clone(),
        timeout: crate::fetch::TIMEOUT.as_secs(),
        json: false,
    })?;
    let runtime = crate::runtime::runtime().map_err(LabelsError::Runtime)?;
    let labels = runtime.block_on(list(args, &client))?;
    if labels.is_empty() {
        return Err(LabelsError::Nothing);
    }
    let files = draw_all(&labels, args.format.list(), &options)?;
    let count = files.len();
    if is_zip(&args.out) {
        write_zip(&args.out, &files)?;
    } else {
        write_folder(&args.out, &files)?;
    }
    Ok(format!(
        "wrote {count} file(s) for {} passport(s) to {}",
        labels.len(),
        args.out.display()
    ))
}

/// Every page of the node's label listing: (Digital Link URI, element string).
async fn list(
    args: &LabelsArgs,
    client: &AdminClient,
) -> Result<Vec<(String, String)>, LabelsError> {
    let mut query = vec![("limit", "1000".to_string())];
    if let Some(g) = &args.gtin {
        query.push(("gtin", g.clone()));
    }
    if let Some(l) = &args.lot {
        query.push(("lot", l.clone()));
    }
    let mut out = Vec::new();
    let mut after: Option<String> = None;
    loop {
        let mut q = query.clone();
        if let Some(a) = &after {
            q.push(("after", a.clone()));
        }
        let q: Vec<String> = q
            .iter()
            .map(|(k, v)| format!("{k}={}", query_escape(v)))
            .collect();
        let path = format!("/api/v1/labels?{}", q.join("&"));
        let answer = client.send(Method::GET, &path, None).await?;
        let url = answer.url.clone();
        if answer.status != 200 {
            let detail = serde_json::from_slice::<serde_json::Value>(&answer.body)
                .ok()
                .and_then(|p| {
                    p["detail"]
                        .as_str()
                        .or(p["title"].as_str())
                        .map(str::to_owned)
                })
                .unwrap_or_else(|| String::from_utf8_lossy(&answer.body).into_owned());
            return Err(LabelsError::Refused {
                url,
                status: answer.status,
                detail,
            });
        }
        let page: LabelPage =
            serde_json::from_slice(&answer.body).map_err(|e| LabelsError::Answer {
                url: url.clone(),
                detail: e.to_string(),
            })?;
        for label in page.items {
            let not_dl = |detail: String| LabelsError::NotDigitalLink {
                id: label.id.clone(),
                uri: label.digital_link.clone(),
                detail,
            };
            if label.digital_link.contains(['?', '#']) {
                return Err(not_dl("a label carries no query or fragment".into()));
            }
            let product = ProductIdentifier::parse_digital_link(&label.digital_link)
                .map_err(|e| not_dl(e.to_string()))?;
            out.push((label.digital_link, product.element_string()));
        }
        match page.next {
            Some(n) if Some(&n) != after.as_ref() => after = Some(n),
            _ => break,
        }
    }
    Ok(out)
}

/// The files: name (the element string made safe, [`qr::file_name`]) and bytes, drawn with a
/// progress bar on stderr when it is a terminal.
fn draw_all(
    labels: &[(String, String)],
    formats: &[Format],
    options: &Options,
) -> Result<Vec<(String, Vec<u8>)>, LabelsError> {
    let mut progress = Progress::new(labels.len());
    let mut names = BTreeSet::new();
    let mut files = Vec::with_capacity(labels.len() * formats.len());
    for (uri, element_string) in labels {
        if !names.insert(element_string.clone()) {
            return Err(LabelsError::Duplicate(element_string.clone()));
        }
        let symbol = qr::Symbol::encode(uri, options.ec)?;
        for format in formats {
            let bytes = match format {
                Format::Png => symbol.png(options.x_mm, options.dpi)?,
                Format::Svg => symbol.svg(options.x_mm).into_bytes(),
            };
            files.push((qr::file_name(element_string, *format), bytes));
        }
        progress.step(element_string);
    }
    progress.done();
    Ok(files)
}

fn is_zip(path: &Path) -> bool {
    path.extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("zip"))
}

fn write_folder(dir: &Path, files: &[(String, Vec<u8>)]) -> Result<(), LabelsError> {
    let err = |path: &Path| {
        let path = path.to_path_buf();
        move |source| LabelsError::Write { path, source }
    };
    std::fs::create_dir_all(dir).map_err(err(dir))?;
    for (name, bytes) in files {
        let path = dir.join(name);
        std::fs::write(&path, bytes).map_err(err(&path))?;
    }
    Ok(())
}

/// A ZIP of stored entries (the PNGs are already deflated), written beside the target and
/// renamed over it once complete.
fn write_zip(path: &Path, files: &[(String, Vec<u8>)]) -> Result<(), LabelsError> {
    let io = |source| LabelsError::Write {
        path: path.to_path_buf(),
        source,
    };
    let zip_err = |source| LabelsError::Zip {
        path: path.to_path_buf(),
        source,
    };
    let mut partial = path.as_os_str().to_owned();
    partial.push(".partial");
    let partial = PathBuf::from(partial);
    let file = std::fs::File::create(&partial).map_err(io)?;
    let mut zip = zip::ZipWriter::new(file);
    let stored =
        zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Stored);
    for (name, bytes) in files {
        zip.start_file(name.as_str(), stored).map_err(zip_err)?;
        zip.write_all(bytes).map_err(io)?;
    }
    let file = zip.finish().map_err(zip_err)?;
    file.sync_all().map_err(io)?;
    std::fs::rename(&partial, path).map_err(io)
}

/// `application/x-www-form-urlencoded` escaping of a query value.
fn query_escape(v: &str) -> String {
    let mut out = String::with_capacity(v.len());
    for b in v.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// A progress bar on stderr, drawn only when stderr is a terminal (`[####----] n/N name`).
struct Progress {
    total: usize,
    done: usize,
    tty: bool,
}

impl Progress {
    fn new(total: usize) -> Progress {
        Progress {
            total,
            done: 0,
            tty: std::io::stderr().is_terminal(),
        }
    }

    fn step(&mut self, name: &str) {
        self.done += 1;
        if self.tty {
            const WIDTH: usize = 30;
            let filled = self.done * WIDTH / self.total.max(1);
            eprint!(
                "\r\x1b[2K[{}{}] {}/{} {name}",
                "#".repeat(filled),
                "-".repeat(WIDTH - filled),
                self.done,
                self.total
            );
        }
    }

    fn done(&self) {
        if self.tty {
            eprintln!();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn query_values_are_escaped() {
        assert_eq!(query_escape("LOT 1/2&x"), "LOT%201%2F2%26x");
        assert_eq!(query_escape("09506000134352"), "09506000134352");
    }

    #[test]
    fn zip_is_chosen_by_extension() {
        assert!(is_zip(Path::new("labels.zip")));
        assert!(is_zip(Path::new("out/Labels.ZIP")));
        assert!(!is_zip(Path::new("labels")));
        assert!(!is_zip(Path::new("labels.zip/x")));
    }
}
