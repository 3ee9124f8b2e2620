//! The `hallmark` command.
//!
//! Subcommands: `verify` (offline verification of a passport credential against a DID
//! document and, with a log key, against the transparency log), `keys` (the encrypted file
//! keystore: see `keys.rs` and docs/keys.md), `log` (`log.rs`: fsck of the store's log,
//! consistency between two checkpoints), `serve` and `demo` (`node_cmd.rs`).

mod keys;
mod log;
mod node_cmd;

/// mimalloc instead of glibc's malloc: the node allocates and frees many short-lived
/// buffers per request (JSON, canonical forms, credentials), and glibc's allocator was
/// about a fifth of the node's CPU time on the publish path (BENCHMARKS.md).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

use clap::{Parser, Subcommand};
use hallmark_core::did::DidDocument;
use hallmark_core::tlog::{check_logged_credential, InclusionProof, VerifierKey};
use hallmark_core::verify::{verify_with, VerifyOptions};
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Parser)]
#[command(
    name = "hallmark",
    version,
    about = "Issue, sign, serve and prove Digital Product Passports"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Verify a passport credential offline against the issuer's DID document.
    ///
    /// Accepts either secured form: a Data Integrity JSON credential (eddsa-jcs-2022) or a
    /// compact vc+jwt. Prints every check; exits 0 when valid, 1 when not, 2 on usage or
    /// I/O errors.
    ///
    /// With --from <passport URL> the credential is fetched from a node (and, unless
    /// --did-document is given, the issuer's DID document from its did:web location; for an
    /// http://localhost or http://127.0.0.1 node — the demo — over http from that origin).
    /// This build fetches over plain http only; for https nodes download both files (e.g.
    /// with curl) and verify them offline.
    ///
    /// With --log-key (the log's verifier key, pinned out of band) it also checks that the
    /// credential was logged: `log-checkpoint` (the checkpoint is signed by that key),
    /// `log-leaf` (the proof's leaf is the passport.published event recording this
    /// credential's SHA-256) and `log-inclusion` (the leaf is in the checkpointed tree).
    /// The checkpoint and proof come from --checkpoint and --proof (files saved from the
    /// node's /log/checkpoint and /log/proof/inclusion endpoints), or with --from are
    /// fetched from the node.
    Verify {
        /// The credential file (JSON or compact JWS).
        #[arg(required_unless_present = "from", conflicts_with = "from")]
        credential: Option<PathBuf>,
        /// The issuer's DID document (did.json), as fetched from its did:web URL.
        #[arg(
            long = "did-document",
            value_name = "FILE",
            required_unless_present = "from"
        )]
        did_document: Option<PathBuf>,
        /// Fetch the credential from this passport URL (a node's public listener).
        #[arg(long, value_name = "URL")]
        from: Option<String>,
        /// With --from: fetch the vc+jwt form instead of the Data Integrity JSON.
        #[arg(long, requires = "from")]
        jwt: bool,
        /// Also check the validity period against the current time.
        #[arg(long)]
        check_time: bool,
        /// Print the report as JSON instead of text.
        #[arg(long)]
        json: bool,
        /// A transparency-log checkpoint (signed note) to check the credential against.
        #[arg(
            long,
            value_name = "FILE",
            requires_all = ["proof", "log_key"],
            conflicts_with = "from"
        )]
        checkpoint: Option<PathBuf>,
        /// The inclusion proof (JSON, as served by /log/proof/inclusion) of the publish event.
        #[arg(
            long,
            value_name = "FILE",
            requires_all = ["checkpoint", "log_key"],
            conflicts_with = "from"
        )]
        proof: Option<PathBuf>,
        /// The log's verifier key (`<name>+<key ID>+<base64 key>`), pinned out of band.
        #[arg(long = "log-key", value_name = "VKEY")]
        log_key: Option<String>,
    },
    /// Manage the node's signing keys (encrypted file keystore).
    ///
    /// The passphrase is read from the HALLMARK_KEYSTORE_PASSPHRASE environment variable,
    /// never from the command line. Lifecycle events are printed to stdout as JSON lines.
    /// Exits 0 on success, 1 when the operation fails, 2 on usage errors.
    Keys {
        /// The keystore file.
        #[arg(long, global = true, value_name = "PATH", default_value = keys::DEFAULT_KEYSTORE)]
        keystore: PathBuf,
        #[command(subcommand)]
        command: keys::KeysCommand,
    },
    /// Transparency-log maintenance (`log check`: recompute and compare, like fsck).
    Log {
        #[command(subcommand)]
        command: log::LogCommand,
    },
    /// Run the node (production profile by default).
    ///
    /// Configuration comes from HALLMARK_* environment variables and/or a TOML file (see
    /// docs/configuration.md; secrets also from <VAR>_FILE). In production the node refuses
    /// to start — exit 2 and one line naming the problem — when a setting is missing or
    /// unsafe; exit 1 when start-up fails (database, keystore, listeners).
    #[command(after_long_help = serve_settings_help())]
    Serve {
        /// TOML configuration file (default: $HALLMARK_CONFIG if set).
        #[arg(long, value_name = "FILE")]
        config: Option<PathBuf>,
        /// Safety profile: production (default) or development.
        #[arg(long, default_value = "production", value_parser = node_cmd::parse_profile)]
        profile: hallmark_node::Profile,
    },
    /// Run a local demonstration node: SQLite, a development keystore and development-only
    /// admin credentials in ./hallmark-demo, example battery passports published through the
    /// signed battery plugin (plugins/battery, built in), then serve on 127.0.0.1 until
    /// Ctrl-C. Re-running reuses the directory.
    Demo {
        /// Data directory (development only: `hallmark serve` refuses it).
        #[arg(long, value_name = "DIR", default_value = hallmark_node::config::DEMO_DATA_DIR)]
        dir: PathBuf,
        /// Set up, publish and write the files, then exit instead of serving.
        #[arg(long, alias = "once")]
        no_serve: bool,
        /// Public listener port on 127.0.0.1 (base URL http://localhost:<port>).
        #[arg(long, default_value_t = 8080)]
        public_port: u16,
        /// Admin listener port on 127.0.0.1.
        #[arg(long, default_value_t = 8081)]
        admin_port: u16,
    },
}

fn serve_settings_help() -> String {
    let mut s = String::from(
        "Settings (environment variable = TOML key; [secret] also from <VAR>_FILE; details in docs/configuration.md):\n",
    );
    for setting in hallmark_node::config::SETTINGS {
        s.push_str(&format!(
            "  {} = {}{}\n",
            setting.env,
            setting.key,
            if setting.secret { "  [secret]" } else { "" }
        ));
    }
    s
}

fn main() -> ExitCode {
    match Cli::parse().command {
        Command::Verify {
            credential,
            did_document,
            from,
            jwt,
            check_time,
            json,
            checkpoint,
            proof,
            log_key,
        } => {
            let log_key = match log_key.as_deref().map(VerifierKey::parse).transpose() {
                Ok(k) => k,
                Err(e) => {
                    eprintln!("hallmark verify: --log-key: {e}");
                    return ExitCode::from(2);
                }
            };
            let inputs = match (from, credential) {
                (Some(url), _) => node_cmd::fetch_for_verify(&url, jwt, did_document.as_deref())
                    .and_then(|(cred, doc, name)| {
                        let evidence = match &log_key {
                            Some(_) => Some(node_cmd::fetch_log_evidence(&url)?),
                            None => None,
                        };
                        Ok((cred, doc, name, evidence))
                    }),
                (None, Some(c)) => match did_document {
                    Some(d) => read_inputs(&c, &d).and_then(|(cred, doc, name)| {
                        let evidence = match (&checkpoint, &proof, &log_key) {
                            (Some(cp), Some(pr), Some(_)) => Some(read_evidence(cp, pr)?),
                            (None, None, None) => None,
                            _ => {
                                return Err(
                                    "--log-key needs --checkpoint and --proof (or --from)".into()
                                )
                            }
                        };
                        Ok((cred, doc, name, evidence))
                    }),
                    None => Err("--did-document is required".to_string()),
                },
                (None, None) => Err("a credential file or --from is required".to_string()),
            };
            match inputs {
                Ok((cred, doc, doc_name, evidence)) => {
                    let log = match (evidence, &log_key) {
                        (Some((note, proof)), Some(key)) => Some((note, proof, key)),
                        _ => None,
                    };
                    verify_bytes(&cred, &doc, &doc_name, check_time, json, log)
                }
                Err(e) => {
                    eprintln!("hallmark verify: {e}");
                    ExitCode::from(2)
                }
            }
        }
        Command::Keys { keystore, command } => keys::run(&keystore, command),
        Command::Log { command } => log::run(command),
        Command::Serve { config, profile } => node_cmd::serve(config.as_deref(), profile),
        Command::Demo {
            dir,
            no_serve,
            public_port,
            admin_port,
        } => node_cmd::demo(&node_cmd::DemoOptions {
            dir,
            no_serve,
            public_port,
            admin_port,
        }),
    }
}

type Inputs = (Vec<u8>, Vec<u8>, String);

/// A checkpoint note and the inclusion proof of the publish event.
pub type Evidence = (String, InclusionProof);

fn read_evidence(checkpoint: &PathBuf, proof: &PathBuf) -> Result<Evidence, String> {
    let note = std::fs::read_to_string(checkpoint)
        .map_err(|e| format!("{}: {e}", checkpoint.display()))?;
    let bytes = std::fs::read(proof).map_err(|e| format!("{}: {e}", proof.display()))?;
    let proof = serde_json::from_slice(&bytes)
        .map_err(|e| format!("{}: not an inclusion proof: {e}", proof.display()))?;
    Ok((note, proof))
}

fn read_inputs(credential: &PathBuf, did_document: &PathBuf) -> Result<Inputs, String> {
    let read = |p: &PathBuf| std::fs::read(p).map_err(|e| format!("{}: {e}", p.display()));
    Ok((
        read(credential)?,
        read(did_document)?,
        did_document.display().to_string(),
    ))
}

fn verify_bytes(
    cred: &[u8],
    doc: &[u8],
    doc_name: &str,
    check_time: bool,
    json: bool,
    log: Option<(String, InclusionProof, &VerifierKey)>,
) -> ExitCode {
    let doc = match DidDocument::from_json(doc) {
        Ok(d) => d,
        Err(e) => {
            eprintln!("hallmark verify: {doc_name}: {e}");
            return ExitCode::from(2);
        }
    };
    let options = VerifyOptions {
        now: check_time.then(time::OffsetDateTime::now_utc),
    };
    let mut report = verify_with(cred, &doc, &options);
    if let Some((note, proof, key)) = log {
        report
            .checks
            .extend(check_logged_credential(cred, &note, &proof, key));
    }
    if json {
        match serde_json::to_string_pretty(&report) {
            Ok(s) => println!("{s}"),
            Err(e) => {
                eprintln!("hallmark verify: {e}");
                return ExitCode::from(2);
            }
        }
    } else {
        println!("{report}");
    }
    if report.is_valid() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    }
}
