//! `hallmark verify`: a credential file against a DID document file, or — without one — a
//! credential whose key is a did:key against the document core resolves from the key itself
//! (no network); or a passport fetched from a node (`--from`) against its issuer's DID
//! document resolved by the did:web rules (https, from the DID's own host) — never from the
//! node being checked unless told so. `--allow-foreign-issuer` relaxes the issuer policy
//! (the issuer need not be the key's controller: the `issuer` check warns instead).
//!
//! A presentation file (type `VerifiablePresentation`) is verified as one: core's
//! `presentation::verify_presentation_with`, the holder's did:key resolved in core, the
//! credentials' keys as for a credential file (docs/verify.md, "Presentations").
//!
//! Status (W3C Bitstring Status List, `docs/status.md`): the credential's status lists come
//! from `--status-list` files and, with `--from`, from the `statusListCredential` URLs the
//! verified credential names; core's `check_status` checks them against the same DID
//! document. With `--log-key`, each fetched list's log inclusion is checked too
//! (`status-list-log`).
//!
//! Related resources (`relatedResource`, VC Data Model 2.0 §5.3): `--related-resource
//! URL=FILE` gives a resource's bytes, and the `related-resource` check compares the digests
//! the credential carries for that URL with them; nothing is fetched.

use crate::fetch::{self, Answer};
use hallmark_core::did::{DidDocument, DidWeb, DID_WEB_PREFIX};
use hallmark_core::did_key::{DidKey, DID_KEY_PREFIX};
use hallmark_core::did_resolver::{did_of, Resolver};
use hallmark_core::presentation::{
    is_presentation, presentation_dids, verify_presentation_with, PresentationReport,
};
use hallmark_core::status::status_entries;
use hallmark_core::tlog::{
    check_logged_credential, check_logged_status_list, InclusionProof, VerifierKey,
    STATUS_LIST_LOG_CHECK,
};
use hallmark_core::verify::{
    check_status, verify_resolving, verify_with, Check, IssuerPolicy, Outcome, Report, Verdict,
    VerifyOptions, STATUS_CHECK, STATUS_LIST_CHECK,
};
use hallmark_node::routes::public::{LOG_INDEX_HEADER, STATUS_HEADER, VC_JWT, VC_LD_JSON};
use serde_json::Value;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

/// Exit code: the credential verified (or was withheld) but the node serves the passport
/// as suspended, archived or deactivated, or its signed status list says suspended or
/// revoked.
pub const EXIT_NOT_IN_FORCE: u8 = 3;
/// Exit code: usage or I/O error (nothing was verified).
pub const EXIT_USAGE: u8 = 2;
/// Name of the check saying where the DID document came from.
pub const DID_DOCUMENT_CHECK: &str = "did-document";
const DID_ACCEPT: &str = "application/did+json, application/json";

/// What `hallmark verify` was asked (its command-line arguments).
#[derive(clap::Args)]
pub struct VerifyArgs {
    /// The credential file (JSON or compact JWS).
    #[arg(required_unless_present = "from", conflicts_with = "from")]
    pub credential: Option<PathBuf>,
    /// The issuer's DID document (did.json), as fetched from its did:web URL: the only
    /// document trusted. Not needed for a credential signed with a did:key (resolved from
    /// the key itself). One for a credential; repeatable for a presentation of credentials
    /// of several issuers.
    #[arg(long = "did-document", value_name = "FILE")]
    pub did_document: Vec<PathBuf>,
    /// With --from, development only: take the DID document from this URL instead of
    /// resolving the issuer's did:web (e.g. http://localhost:8080/.well-known/did.json
    /// for `hallmark demo`); the report carries a warning.
    #[arg(
        long = "did-document-from",
        value_name = "URL",
        requires = "from",
        conflicts_with = "did_document"
    )]
    pub did_document_from: Option<String>,
    /// Fetch the credential from this passport URL (a node's public listener).
    #[arg(long, value_name = "URL")]
    pub from: Option<String>,
    /// With --from: fetch the vc+jwt form instead of the Data Integrity JSON.
    #[arg(long, requires = "from")]
    pub jwt: bool,
    /// Do not check validFrom / validUntil against the current time.
    #[arg(long)]
    pub skip_validity_dates: bool,
    /// Accept an issuer that is not the controller of the signing key (issuer policy
    /// `any`; the `issuer` check warns). By default a passport's issuer must control it.
    #[arg(long)]
    pub allow_foreign_issuer: bool,
    /// Never use the network for a credential file: a did:web verification method then
    /// needs --did-document (by default its DID document is fetched from the did:web
    /// location over HTTPS, bounded in size and time).
    #[arg(long, conflicts_with = "from")]
    pub offline: bool,
    /// Print the report as JSON instead of text (with a `verdict`).
    #[arg(long)]
    pub json: bool,
    /// A transparency-log checkpoint (signed note) to check the credential against.
    #[arg(
        long,
        value_name = "FILE",
        requires_all = ["proof", "log_key"],
        conflicts_with = "from"
    )]
    pub checkpoint: Option<PathBuf>,
    /// The inclusion proof (JSON, as served by /log/proof/inclusion) of the publish event.
    #[arg(
        long,
        value_name = "FILE",
        requires_all = ["checkpoint", "log_key"],
        conflicts_with = "from"
    )]
    pub proof: Option<PathBuf>,
    /// The log's verifier key (`<name>+<key ID>+<base64 key>`), pinned out of band.
    #[arg(long = "log-key", value_name = "VKEY")]
    pub log_key: Option<String>,
    /// A status list credential (either form) for the credential's status entries: saved
    /// from its statusListCredential URL, or passed on by the holder. Repeatable (one per
    /// purpose); with --from, used besides the lists fetched.
    #[arg(long = "status-list", value_name = "FILE")]
    pub status_lists: Vec<PathBuf>,
    /// The challenge the proof must carry (`proof-challenge`): the one you gave the holder of
    /// a presentation. A presentation verified without it gets a warning (it may be a
    /// replay); a credential's proof rarely has one.
    #[arg(long, value_name = "TEXT")]
    pub challenge: Option<String>,
    /// The domain the proof must be bound to (`proof-domain`): its `domain` is it or an
    /// array including it.
    #[arg(long, value_name = "TEXT")]
    pub domain: Option<String>,
    /// A resource the credential's `relatedResource` names, for its digests: the entry's `id`
    /// URL, `=`, a file with the resource's bytes (split at the last `=`). Repeatable. The
    /// digests are computed and compared (`related-resource`); those of a resource not given
    /// are checked as written only (the check is then skipped, saying so).
    #[arg(long = "related-resource", value_name = "URL=FILE")]
    pub related_resources: Vec<String>,
}

/// Where the issuer's DID document comes from: a file (`--did-document`), a URL named
/// (`--did-document-from`, development only), else the did:web resolution of the
/// credential's issuer.
#[derive(Debug, Clone, Copy, Default)]
pub struct DidSource<'a> {
    /// `--did-document FILE`.
    pub file: Option<&'a Path>,
    /// `--did-document-from URL`.
    pub from: Option<&'a str>,
}

impl VerifyArgs {
    fn did_source(&self) -> DidSource<'_> {
        DidSource {
            file: self.did_document.first().map(PathBuf::as_path),
            from: self.did_document_from.as_deref(),
        }
    }
}

/// A checkpoint note and the inclusion proof of the publish event.
pub type Evidence = (String, InclusionProof);

/// Runs `hallmark verify`; exit 0 valid, 1 invalid, 2 usage or I/O error, 3 not in force.
/// A presentation file is verified as one ([`verify_presentation_file`]).
pub fn run(args: &VerifyArgs) -> ExitCode {
    let file = match (&args.credential, &args.from) {
        (Some(path), None) => match read(path) {
            Ok(bytes) => Some(bytes),
            Err(e) => {
                eprintln!("hallmark verify: {e}");
                return ExitCode::from(EXIT_USAGE);
            }
        },
        _ => None,
    };
    if let Some(bytes) = file.as_deref().filter(|b| is_presentation(b)) {
        return match verify_presentation_file(bytes, args) {
            Ok(report) => print_presentation(&report, args.json),
            Err(e) => {
                eprintln!("hallmark verify: {e}");
                ExitCode::from(EXIT_USAGE)
            }
        };
    }
    match report(args, file) {
        Ok(report) => print(&report, args.json),
        Err(e) => {
            eprintln!("hallmark verify: {e}");
            ExitCode::from(EXIT_USAGE)
        }
    }
}

/// The report of a credential: `cred`, the file's bytes as `run` read them, or with `--from`
/// fetched from the node.
fn report(args: &VerifyArgs, cred: Option<Vec<u8>>) -> Result<Report, String> {
    let log_key = args
        .log_key
        .as_deref()
        .map(VerifierKey::parse)
        .transpose()
        .map_err(|e| format!("--log-key: {e}"))?;
    if args.did_document.len() > 1 {
        return Err("one --did-document for a credential (several only for a presentation)".into());
    }
    let options = verify_options(args)?;
    if let Some(url) = &args.from {
        let rt = crate::runtime::runtime()?;
        return rt.block_on(from_node(url, args, log_key.as_ref(), &options));
    }
    let Some(cred) = cred else {
        return Err("a credential file, or --from, is required".into());
    };
    let lists = status_list_files(args)?;
    let (mut report, doc) = match args.did_document.first() {
        Some(did_document) => {
            let doc = parse_document(&read(did_document)?, &did_document.display().to_string())?;
            let mut report = verify_with(&cred, &doc, &options);
            report.checks.insert(0, given_file(did_document));
            (report, Some(doc))
        }
        None => match verification_method_of(&cred) {
            Some(vm) if !vm.starts_with(DID_KEY_PREFIX) && !args.offline => {
                let rt = crate::runtime::runtime()?;
                rt.block_on(verify_resolved(&cred, DidSource::default(), &options))?
            }
            _ => without_document(&cred, &options)?,
        },
    };
    match (&args.checkpoint, &args.proof, &log_key) {
        (Some(cp), Some(pr), Some(key)) => {
            let (note, proof) = read_evidence(cp, pr)?;
            report
                .checks
                .extend(check_logged_credential(&cred, &note, &proof, key));
        }
        (None, None, None) => {}
        _ => return Err("--log-key needs --checkpoint and --proof (or --from)".into()),
    }
    match doc {
        Some(doc) => check_status(&mut report, &lists, &doc, options.now),
        None => report.checks.push(Check {
            name: STATUS_CHECK,
            outcome: Outcome::Skipped("no controller document for the key".into()),
        }),
    }
    Ok(report)
}

/// The options of `hallmark verify`: the current time unless `--skip-validity-dates`, the
/// issuer policy, the expected `--challenge` and `--domain`, the `--related-resource` files.
fn verify_options(args: &VerifyArgs) -> Result<VerifyOptions, String> {
    Ok(VerifyOptions {
        now: (!args.skip_validity_dates).then(time::OffsetDateTime::now_utc),
        issuer_policy: if args.allow_foreign_issuer {
            IssuerPolicy::Any
        } else {
            IssuerPolicy::MustBeController
        },
        expected_domain: args.domain.clone(),
        expected_challenge: args.challenge.clone(),
        related_resources: related_resource_files(&args.related_resources)?,
    })
}

/// A presentation file: the holder's key resolved as a did:key (or from a `--did-document`),
/// the credentials' keys as for a credential file — from the `--did-document` files alone
/// when given (then a did:key issuer is not resolved), else as did:keys. Each credential report gets
/// the `did-document` check first and its `status` checks (`--status-list`) last.
///
/// # Errors
/// A message for a usage or I/O error: log evidence (it is for one credential), an
/// unreadable file, a did:web key without `--did-document`.
pub fn verify_presentation_file(
    bytes: &[u8],
    args: &VerifyArgs,
) -> Result<PresentationReport, String> {
    if args.checkpoint.is_some() || args.proof.is_some() || args.log_key.is_some() {
        return Err(
            "--checkpoint, --proof and --log-key are for one credential, not a presentation".into(),
        );
    }
    let options = verify_options(args)?;
    let lists = status_list_files(args)?;
    let pinned = args
        .did_document
        .iter()
        .map(|path| parse_document(&read(path)?, &path.display().to_string()))
        .collect::<Result<Vec<DidDocument>, String>>()?;
    // Without --did-document, each did:web the presentation needs is resolved at its did:web
    // location (unless --offline); the `did-document` check of each credential says how.
    let mut resolved: Vec<(String, Check)> = Vec::new();
    let mut fetched: Vec<DidDocument> = Vec::new();
    if pinned.is_empty() {
        let webs: Vec<String> = presentation_dids(bytes)
            .into_iter()
            .filter(|d| !d.starts_with(DID_KEY_PREFIX))
            .collect();
        if let Some(did) = webs.first().filter(|_| args.offline) {
            return Err(format!(
                "--did-document FILE is required: the presentation needs the DID document of \
                 {did:?}, which is not a did:key (a did:key is resolved from the key itself; \
                 a did:web document is fetched from its did:web location unless --offline)"
            ));
        }
        if !webs.is_empty() {
            let rt = crate::runtime::runtime()?;
            for did in webs {
                let outcome = match DidWeb::parse(&did) {
                    Ok(web) => rt.block_on(resolve_did_web(&web)),
                    Err(e) => Err(Check {
                        name: DID_DOCUMENT_CHECK,
                        outcome: Outcome::Fail(format!("{did} cannot be resolved: {e}")),
                    }),
                };
                match outcome {
                    Ok((doc, check)) => {
                        resolved.push((did, check));
                        fetched.push(doc);
                    }
                    Err(check) => resolved.push((did, check)),
                }
            }
        }
    }
    let docs = if pinned.is_empty() { &fetched } else { &pinned };
    let (holders, credentials) = if pinned.is_empty() {
        (
            Resolver::with_documents(docs).and_did_key(),
            Resolver::with_documents(docs).and_did_key(),
        )
    } else {
        (
            Resolver::with_documents(docs).and_did_key(),
            Resolver::with_documents(docs),
        )
    };
    let mut report = verify_presentation_with(bytes, &holders, &credentials, &options);
    let holder = report
        .presentation
        .verification_method
        .as_deref()
        .map(did_of);
    if let Some((_, check)) = resolved.iter().find(|(d, _)| Some(d.as_str()) == holder) {
        report.presentation.checks.insert(0, check.clone());
    }
    for r in &mut report.credentials {
        let did = r.verification_method.as_deref().map(did_of);
        // The document the key was checked against: the file naming its DID, or its did:key.
        let (source, doc) =
            if let Some((_, check)) = resolved.iter().find(|(d, _)| Some(d.as_str()) == did) {
                let doc = docs.iter().find(|d| Some(d.id.as_str()) == did).cloned();
                (Some(check.clone()), doc)
            } else if pinned.is_empty() {
                match did.and_then(|d| DidKey::parse(d).ok()) {
                    Some(k) => (
                        Some(Check {
                            name: DID_DOCUMENT_CHECK,
                            outcome: Outcome::Pass(format!(
                                "{k} (did:key, resolved from the key; no network)"
                            )),
                        }),
                        Some(k.document()),
                    ),
                    None => (None, None),
                }
            } else {
                match docs.iter().position(|d| Some(d.id.as_str()) == did) {
                    Some(i) => (
                        args.did_document.get(i).map(|p| given_file(p)),
                        docs.get(i).cloned(),
                    ),
                    None => (None, None),
                }
            };
        if let Some(check) = source {
            r.checks.insert(0, check);
        }
        match doc {
            Some(d) => check_status(r, &lists, &d, options.now),
            None => r.checks.push(Check {
                name: STATUS_CHECK,
                outcome: Outcome::Skipped("no controller document for the key".into()),
            }),
        }
    }
    Ok(report)
}

fn print_presentation(report: &PresentationReport, json: bool) -> ExitCode {
    if json {
        match serde_json::to_string_pretty(report) {
            Ok(s) => println!("{s}"),
            Err(e) => {
                eprintln!("hallmark verify: {e}");
                return ExitCode::from(EXIT_USAGE);
            }
        }
    } else {
        println!("{report}");
    }
    exit_code(&report.verdict())
}

fn exit_code(verdict: &Verdict) -> ExitCode {
    match verdict {
        Verdict::Valid => ExitCode::SUCCESS,
        Verdict::Invalid => ExitCode::from(1),
        Verdict::NotInForce(_) => ExitCode::from(EXIT_NOT_IN_FORCE),
    }
}

/// A credential file without `--did-document`: its verification method must be a did:key,
/// resolved in core (no network). Answers the report (with the `did-document` check first)
/// and the did:key's document, for the status lists (`None` for an invalid did:key, which
/// the `key` check reports); any other DID is a usage error asking for the document.
fn without_document(
    cred: &[u8],
    options: &VerifyOptions,
) -> Result<(Report, Option<DidDocument>), String> {
    let mut report = verify_resolving(cred, &Resolver::did_key_only(), options);
    let vm = report.verification_method.clone().unwrap_or_default();
    if !vm.starts_with(DID_KEY_PREFIX) {
        if report.verification_method.is_none() && !report.is_valid() {
            // Unreadable, or no proof at all: the report says what is wrong.
            return Ok((report, None));
        }
        return Err(format!(
            "--did-document FILE is required: the verification method {vm:?} is not a did:key \
             (a did:key is resolved from the key itself; a did:web document is fetched from \
             its did:web location unless --offline)"
        ));
    }
    let key = DidKey::of_did_url(&vm).ok();
    report.checks.insert(
        0,
        Check {
            name: DID_DOCUMENT_CHECK,
            outcome: match &key {
                Some(k) => {
                    Outcome::Pass(format!("{k} (did:key, resolved from the key; no network)"))
                }
                None => Outcome::Fail(format!("{vm} is not a valid did:key (see key)")),
            },
        },
    );
    Ok((report, key.map(|k| k.document())))
}

/// The `id` a status list credential file names (either form), unverified: only to know
/// which lists need no fetching; the lists themselves are verified by `check_status`.
fn list_id(bytes: &[u8]) -> Option<String> {
    use base64::Engine as _;
    let text = std::str::from_utf8(bytes).ok()?.trim();
    let json: serde_json::Value = if text.starts_with('{') {
        serde_json::from_str(text).ok()?
    } else {
        let payload = text.split('.').nth(1)?;
        let raw = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(payload)
            .ok()?;
        serde_json::from_slice(&raw).ok()?
    };
    json.get("id")
        .or_else(|| json.pointer("/vc/id"))
        .and_then(serde_json::Value::as_str)
        .map(str::to_owned)
}

/// The `--status-list` files, each with its path as its source.
fn status_list_files(args: &VerifyArgs) -> Result<Vec<(String, Vec<u8>)>, String> {
    args.status_lists
        .iter()
        .map(|path| Ok((path.display().to_string(), read(path)?)))
        .collect()
}

fn print(report: &Report, json: bool) -> ExitCode {
    let verdict = report.verdict();
    if json {
        let mut value = match serde_json::to_value(report) {
            Ok(v) => v,
            Err(e) => {
                eprintln!("hallmark verify: {e}");
                return ExitCode::from(EXIT_USAGE);
            }
        };
        if let (Value::Object(map), Ok(v)) = (&mut value, serde_json::to_value(&verdict)) {
            map.insert("verdict".into(), v);
        }
        match serde_json::to_string_pretty(&value) {
            Ok(s) => println!("{s}"),
            Err(e) => {
                eprintln!("hallmark verify: {e}");
                return ExitCode::from(EXIT_USAGE);
            }
        }
    } else {
        println!("{report}");
    }
    exit_code(&verdict)
}

/// The `--related-resource URL=FILE` arguments: each URL with its file's bytes.
fn related_resource_files(args: &[String]) -> Result<BTreeMap<String, Vec<u8>>, String> {
    let mut out = BTreeMap::new();
    for arg in args {
        let (url, file) = arg
            .rsplit_once('=')
            .filter(|(u, f)| !u.is_empty() && !f.is_empty())
            .ok_or_else(|| format!("--related-resource {arg:?}: expected URL=FILE"))?;
        let bytes = read(Path::new(file))?;
        if out.insert(url.to_string(), bytes).is_some() {
            return Err(format!("--related-resource: {url} is given twice"));
        }
    }
    Ok(out)
}

fn read(path: &Path) -> Result<Vec<u8>, String> {
    std::fs::read(path).map_err(|e| format!("{}: {e}", path.display()))
}

fn parse_document(bytes: &[u8], origin: &str) -> Result<DidDocument, String> {
    DidDocument::from_json(bytes).map_err(|e| format!("{origin}: {e}"))
}

fn given_file(path: &Path) -> Check {
    Check {
        name: DID_DOCUMENT_CHECK,
        outcome: Outcome::Pass(format!("{} (given with --did-document)", path.display())),
    }
}

fn read_evidence(checkpoint: &Path, proof: &Path) -> Result<Evidence, String> {
    let note = std::fs::read_to_string(checkpoint)
        .map_err(|e| format!("{}: {e}", checkpoint.display()))?;
    let proof = serde_json::from_slice(&read(proof)?)
        .map_err(|e| format!("{}: not an inclusion proof: {e}", proof.display()))?;
    Ok((note, proof))
}

/// A GET that must answer 200 (anything else is an error naming the URL and the problem's
/// detail, if any).
pub async fn get_ok(url: &str, accept: &str) -> Result<Answer, String> {
    let answer = fetch::get(url, accept).await.map_err(|e| e.to_string())?;
    if answer.status != 200 {
        return Err(format!(
            "{url}: HTTP {}{}",
            answer.status,
            problem_detail(&answer)
        ));
    }
    Ok(answer)
}

fn problem_detail(answer: &Answer) -> String {
    serde_json::from_slice::<Value>(&answer.body)
        .ok()
        .and_then(|v| v["detail"].as_str().map(|d| format!(": {d}")))
        .unwrap_or_default()
}

async fn from_node(
    url: &str,
    args: &VerifyArgs,
    log_key: Option<&VerifierKey>,
    options: &VerifyOptions,
) -> Result<Report, String> {
    let accept = if args.jwt { VC_JWT } else { VC_LD_JSON };
    let answer = fetch::get(url, accept).await.map_err(|e| e.to_string())?;
    let served = answer.header(STATUS_HEADER).map(str::to_string);
    if answer.status == 410 {
        // Suspended: the node withholds the credential; the status is the whole answer.
        let mut report = Report::default();
        report.checks.push(Check {
            name: "signature",
            outcome: Outcome::Skipped(
                "the node withholds the credential of a passport it serves as gone".into(),
            ),
        });
        report.record_status(
            Some(served.as_deref().unwrap_or("suspended")),
            &format!("HTTP 410 from {url}{}", problem_detail(&answer)),
        );
        return Ok(report);
    }
    if answer.status != 200 {
        return Err(format!(
            "{url}: HTTP {}{}",
            answer.status,
            problem_detail(&answer)
        ));
    }
    let cred = answer.body.as_slice();
    let (mut report, doc) =
        verify_served(cred, url, served.as_deref(), args.did_source(), options).await?;
    let Some(doc) = doc else {
        return Ok(report);
    };
    if let Some(key) = log_key {
        let (note, proof) = log_evidence_for(url, &answer).await?;
        report
            .checks
            .extend(check_logged_credential(cred, &note, &proof, key));
    }
    let lists = status_list_files(args)?;
    let fetched = check_status_lists(&mut report, lists, args.jwt, &doc, options.now).await;
    if let Some(key) = log_key {
        let mut logged = Vec::with_capacity(fetched.len());
        for (url, answer) in &fetched {
            logged.push(status_list_log(url, answer, key).await);
        }
        // Before the final `status` check, beside the lists' own checks.
        let at = report
            .checks
            .iter()
            .rposition(|c| c.name == STATUS_CHECK)
            .unwrap_or(report.checks.len());
        report.checks.splice(at..at, logged);
    }
    Ok(report)
}

/// `hallmark verify --from`'s checks of a credential a node served at `url`, shared with
/// `hallmark fetch`: the issuer's DID document (from `did`: the `did-document` check), the
/// signature and validity dates, and the passport status the node served with it
/// (`served`: the `served-status` check). The DID document is `None` when it could not be
/// had: the report then says why, and nothing else can be checked.
///
/// # Errors
/// A message for an I/O or usage error (an unreadable `--did-document`, a
/// `--did-document-from` that does not answer).
pub async fn verify_served(
    cred: &[u8],
    url: &str,
    served: Option<&str>,
    did: DidSource<'_>,
    options: &VerifyOptions,
) -> Result<(Report, Option<DidDocument>), String> {
    let (mut report, doc) = verify_resolved(cred, did, options).await?;
    report.record_status(served, &status_note(url));
    Ok((report, doc))
}

/// A credential's checks against the controller document of its verification method,
/// obtained as [`did_document`] says (the `did-document` check first). The DID document is
/// `None` when it could not be had: the report then says why.
async fn verify_resolved(
    cred: &[u8],
    did: DidSource<'_>,
    options: &VerifyOptions,
) -> Result<(Report, Option<DidDocument>), String> {
    let (doc, source) = match did_document(cred, did).await? {
        Ok(found) => found,
        Err(failed) => {
            let mut report = Report::default();
            report.checks.push(failed);
            report.checks.push(Check {
                name: "signature",
                outcome: Outcome::Skipped("no DID document for the issuer".into()),
            });
            return Ok((report, None));
        }
    };
    let mut report = if doc.id.starts_with(DID_KEY_PREFIX) {
        // Every did:key of a proof set resolves from itself, not only the first one's.
        verify_resolving(cred, &Resolver::did_key_only(), options)
    } else {
        verify_with(cred, &doc, options)
    };
    report.checks.insert(0, source);
    Ok((report, Some(doc)))
}

/// The status checks of the credential in `report` (`status-list…`, `status`): against the
/// lists given (`lists`, each with where it came from) and those the credential names,
/// fetched in the form `jwt` says — a list given is not fetched again (e.g. saved from the
/// node's loopback before its public host resolves, as the DID document is with
/// `--did-document`). Returns the lists fetched.
pub async fn check_status_lists(
    report: &mut Report,
    mut lists: Vec<(String, Vec<u8>)>,
    jwt: bool,
    doc: &DidDocument,
    now: Option<time::OffsetDateTime>,
) -> Vec<(String, Answer)> {
    let given: Vec<String> = lists.iter().filter_map(|(_, b)| list_id(b)).collect();
    let fetched = fetch_status_lists(report, jwt, &given).await;
    lists.extend(fetched.iter().map(|(url, a)| (url.clone(), a.body.clone())));
    check_status(report, &lists, doc, now);
    fetched
}

/// Fetches the status lists the credential in `report` names (each `statusListCredential`
/// once), in the form asked for the credential. Only a credential whose signature verified
/// is followed; a list that cannot be fetched is a failed `status-list` check (the status
/// is then unknown: fail closed), and is left out.
async fn fetch_status_lists(
    report: &mut Report,
    jwt: bool,
    given: &[String],
) -> Vec<(String, Answer)> {
    let signed = matches!(report.check("signature"), Some(Outcome::Pass(_)));
    let Some(credential) = report.credential.as_ref().filter(|_| signed) else {
        return Vec::new();
    };
    // A malformed credentialStatus is check_status's to report.
    let Ok(entries) = status_entries(credential) else {
        return Vec::new();
    };
    let mut urls: Vec<String> = entries.into_iter().map(|e| e.list_credential).collect();
    urls.sort();
    urls.dedup();
    urls.retain(|u| !given.contains(u));
    let accept = if jwt { VC_JWT } else { VC_LD_JSON };
    let mut fetched = Vec::with_capacity(urls.len());
    for url in urls {
        match get_ok(&url, accept).await {
            Ok(answer) => fetched.push((url, answer)),
            Err(e) => report.checks.push(Check {
                name: STATUS_LIST_CHECK,
                outcome: Outcome::Fail(format!("cannot fetch the status list: {e}")),
            }),
        }
    }
    fetched
}

/// The `status-list-log` check of a fetched status list: its `Hallmark-Log-Index`, the latest
/// checkpoint and the inclusion proof from the log of the node that served it (`<base>/log`,
/// `<base>` being the list URL up to `/status/`). Evidence that cannot be had fails the check.
async fn status_list_log(url: &str, answer: &Answer, key: &VerifierKey) -> Check {
    let failed = |why: String| Check {
        name: STATUS_LIST_LOG_CHECK,
        outcome: Outcome::Fail(format!("{url}: {why}")),
    };
    let Some(base) = url.rfind("/status/").map(|at| &url[..at]) else {
        return failed("not a status list URL (…/status/<purpose>/<list>)".into());
    };
    let Ok(index) = log_index(url, &answer.headers) else {
        return failed("no Hallmark-Log-Index header in the response".into());
    };
    let (note, proof) = match log_evidence(base, index).await {
        Ok(found) => found,
        Err(e) => return failed(e),
    };
    match serde_json::from_slice::<InclusionProof>(&proof) {
        Ok(proof) => check_logged_status_list(&answer.body, &note, &proof, key),
        Err(e) => failed(format!("{base}/log/proof/inclusion: {e}")),
    }
}

fn status_note(url: &str) -> String {
    format!("Hallmark-Passport-Status from {url}")
}

/// The issuer's DID document and the `did-document` check saying where it came from; the
/// inner `Err` is a failed check (the credential cannot be verified), the outer one an
/// I/O or usage error.
async fn did_document(
    cred: &[u8],
    did: DidSource<'_>,
) -> Result<Result<(DidDocument, Check), Check>, String> {
    let check = |outcome| Check {
        name: DID_DOCUMENT_CHECK,
        outcome,
    };
    if let Some(path) = did.file {
        let doc = parse_document(&read(path)?, &path.display().to_string())?;
        return Ok(Ok((doc, given_file(path))));
    }
    let from = did.from;
    let method = verification_method_of(cred);
    if from.is_none() {
        if let Some(vm) = method.as_deref().filter(|m| m.starts_with(DID_KEY_PREFIX)) {
            return Ok(match DidKey::of_did_url(vm) {
                Ok(key) => Ok((
                    key.document(),
                    check(Outcome::Pass(format!(
                        "{key} (did:key, resolved from the key; no network)"
                    ))),
                )),
                Err(e) => Err(check(Outcome::Fail(format!(
                    "{vm} is not a valid did:key: {e}"
                )))),
            });
        }
    }
    // The controller of the verification method when it is a did:web (Data Integrity: the
    // method's controller document), else the issuer's (a passport: the same DID).
    let issuer = method
        .as_deref()
        .map(did_of)
        .filter(|d| d.starts_with(DID_WEB_PREFIX))
        .map(str::to_string)
        .or_else(|| issuer_of(cred));
    let did = issuer.as_deref().map(DidWeb::parse);
    if let Some(url) = from {
        let doc = parse_document(&get_ok(url, DID_ACCEPT).await?.body, url)?;
        let proper = match &did {
            Some(Ok(did)) => format!(", not from {}", did.document_url()),
            _ => String::new(),
        };
        return Ok(Ok((
            doc,
            check(Outcome::Warn(format!(
                "{url} (--did-document-from{proper}): development only — the issuer's own \
                 did:web location was not consulted"
            ))),
        )));
    }
    let did = match (issuer, did) {
        (Some(_), Some(Ok(did))) => did,
        (Some(issuer), Some(Err(e))) => {
            return Ok(Err(check(Outcome::Fail(format!(
                "the issuer {issuer} cannot be resolved: {e}; pass its DID document with \
                 --did-document"
            )))))
        }
        _ => {
            return Ok(Err(check(Outcome::Fail(
                "no issuer in the credential".into(),
            ))))
        }
    };
    Ok(resolve_did_web(&did).await)
}

/// The did:web resolution of `did`: its DID document fetched over https from the DID's own
/// location (bounded in size and time by the fetch client), and the `did-document` check
/// naming the URL; a location that does not answer a DID document is a failed check.
async fn resolve_did_web(did: &DidWeb) -> Result<(DidDocument, Check), Check> {
    let check = |outcome| Check {
        name: DID_DOCUMENT_CHECK,
        outcome,
    };
    let doc_url = did.document_url();
    let failed = |why: String| {
        Err(check(Outcome::Fail(format!(
            "{doc_url} (did:web resolution of {did}): {why}"
        ))))
    };
    let answer = match fetch::get(&doc_url, DID_ACCEPT).await {
        Ok(a) => a,
        Err(e) => return failed(e.to_string()),
    };
    if answer.status != 200 {
        return failed(format!("HTTP {}", answer.status));
    }
    match DidDocument::from_json(&answer.body) {
        Ok(doc) => Ok((
            doc,
            check(Outcome::Pass(format!(
                "{doc_url} (did:web resolution of {did})"
            ))),
        )),
        Err(e) => failed(format!("not a DID document: {e}")),
    }
}

/// The verification method of a credential in either form (unverified: only to find its
/// DID document): the proof's `verificationMethod` (a proof set's first proof), or the
/// JWS header's `kid`.
fn verification_method_of(cred: &[u8]) -> Option<String> {
    let text = std::str::from_utf8(cred).ok()?.trim();
    if text.starts_with('{') {
        let value: Value = serde_json::from_str(text).ok()?;
        let proof = match &value["proof"] {
            Value::Array(proofs) => proofs.first()?,
            proof => proof,
        };
        return proof["verificationMethod"].as_str().map(str::to_string);
    }
    use base64::Engine;
    let header = text.split('.').next()?;
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(header)
        .ok()?;
    let header: Value = serde_json::from_slice(&bytes).ok()?;
    header["kid"].as_str().map(str::to_string)
}

/// The issuer of a credential in either form (unverified: only to find the DID document).
fn issuer_of(cred: &[u8]) -> Option<String> {
    let text = std::str::from_utf8(cred).ok()?.trim();
    let value: Value = if text.starts_with('{') {
        serde_json::from_str(text).ok()?
    } else {
        use base64::Engine;
        let payload = text.split('.').nth(1)?;
        let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(payload)
            .ok()?;
        serde_json::from_slice(&bytes).ok()?
    };
    match &value["issuer"] {
        Value::String(s) => Some(s.clone()),
        Value::Object(o) => o.get("id")?.as_str().map(str::to_string),
        _ => value["iss"].as_str().map(str::to_string),
    }
}

/// The transparency-log index of a passport response (`Hallmark-Log-Index`).
pub fn log_index(url: &str, headers: &hyper::header::HeaderMap) -> Result<u64, String> {
    headers
        .get(LOG_INDEX_HEADER)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse().ok())
        .ok_or_else(|| format!("{url}: no Hallmark-Log-Index header in the response"))
}

/// The checkpoint and inclusion proof of the publish event of the passport `url` answered
/// with: the log lives at `<base>/log`, `<base>` being the passport URL up to `/passports/`.
async fn log_evidence_for(url: &str, answer: &Answer) -> Result<Evidence, String> {
    let (base, _) = url
        .split_once("/passports/")
        .ok_or_else(|| format!("{url}: not a passport URL (…/passports/<id>)"))?;
    let index = log_index(url, &answer.headers)?;
    let (note, proof) = log_evidence(base, index).await?;
    let proof =
        serde_json::from_slice(&proof).map_err(|e| format!("{base}/log/proof/inclusion: {e}"))?;
    Ok((note, proof))
}

/// The latest checkpoint of the log under `base` and the inclusion proof (raw JSON, at that
/// checkpoint's size) of leaf `index`.
pub async fn log_evidence(base: &str, index: u64) -> Result<(String, Vec<u8>), String> {
    let url = format!("{base}/log/checkpoint");
    let note = String::from_utf8(get_ok(&url, "text/plain").await?.body)
        .map_err(|_| format!("{url}: not UTF-8"))?;
    // Not verified here: only to ask for a proof at that size (the verifier checks the note).
    let size = hallmark_core::tlog::SignedNote::parse(&note)
        .and_then(|n| hallmark_core::tlog::Checkpoint::parse_text(&n.text))
        .map(|c| c.size)
        .map_err(|e| format!("{url}: {e}"))?;
    if index >= size {
        return Err(format!(
            "leaf {index} is not yet in the latest checkpoint (size {size}); retry in a moment"
        ));
    }
    let url = format!("{base}/log/proof/inclusion?index={index}&size={size}");
    Ok((note, get_ok(&url, "application/json").await?.body))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;

    #[test]
    fn a_given_list_is_known_by_its_id_in_either_form() {
        use base64::Engine as _;
        let doc = br#"{"id":"https://n.example/status/suspension/0","type":["x"]}"#;
        assert_eq!(
            list_id(doc).as_deref(),
            Some("https://n.example/status/suspension/0")
        );
        let b64 = |v: &[u8]| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(v);
        let jwt = format!("{}.{}.{}", b64(b"{}"), b64(doc), b64(b"sig"));
        assert_eq!(
            list_id(jwt.as_bytes()).as_deref(),
            Some("https://n.example/status/suspension/0")
        );
        assert_eq!(list_id(b"not a list"), None);
        assert_eq!(list_id(br#"{"type":"no id"}"#), None);
    }

    #[test]
    fn the_issuer_is_read_from_either_form() {
        assert_eq!(
            issuer_of(br#"{"issuer":"did:web:a.example"}"#).as_deref(),
            Some("did:web:a.example")
        );
        assert_eq!(
            issuer_of(br#"{"issuer":{"id":"did:web:b.example"}}"#).as_deref(),
            Some("did:web:b.example")
        );
        use base64::Engine;
        let payload = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .encode(br#"{"iss":"did:web:c.example"}"#);
        assert_eq!(
            issuer_of(format!("e30.{payload}.c2ln").as_bytes()).as_deref(),
            Some("did:web:c.example")
        );
    }

    /// did:web resolves from the DID's own host over https, never from where the
    /// credential came from; a DID with a port or a path keeps them.
    #[test]
    fn did_web_resolution_urls_follow_the_method() {
        for (did, url) in [
            (
                "did:web:dpp.example.com",
                "https://dpp.example.com/.well-known/did.json",
            ),
            (
                "did:web:localhost%3A8080",
                "https://localhost:8080/.well-known/did.json",
            ),
            (
                "did:web:dpp.example.com:acme:dpp",
                "https://dpp.example.com/acme/dpp/did.json",
            ),
        ] {
            assert_eq!(DidWeb::parse(did).unwrap().document_url(), url);
        }
    }

    /// A credential whose issuer is not did:web cannot be resolved: a failed check naming
    /// the way out (no network).
    #[test]
    fn an_issuer_that_is_not_did_web_is_a_failed_check() {
        let rt = crate::runtime::runtime().unwrap();
        let failed = rt
            .block_on(did_document(
                br#"{"issuer":"did:key:z6Mk"}"#,
                DidSource::default(),
            ))
            .unwrap()
            .unwrap_err();
        assert_eq!(failed.name, DID_DOCUMENT_CHECK);
        assert!(
            matches!(&failed.outcome, Outcome::Fail(m) if m.contains("--did-document")),
            "{failed:?}"
        );
    }
}
