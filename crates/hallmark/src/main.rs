//! The `hallmark` command.
//!
//! Subcommands arrive with the issues that build them; today: `verify` (offline
//! verification of a passport credential against a DID document), `keys` (the encrypted
//! file keystore: see `keys.rs` and docs/keys.md) and a `demo` placeholder.

mod keys;
mod log;

use clap::{Parser, Subcommand};
use hallmark_core::did::DidDocument;
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
    Verify {
        /// The credential file (JSON or compact JWS).
        credential: PathBuf,
        /// The issuer's DID document (did.json), as fetched from its did:web URL.
        #[arg(long = "did-document", value_name = "FILE")]
        did_document: PathBuf,
        /// Also check the validity period against the current time.
        #[arg(long)]
        check_time: bool,
        /// Print the report as JSON instead of text.
        #[arg(long)]
        json: bool,
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
    /// Run a local demonstration node (arrives with the node).
    Demo,
}

fn main() -> ExitCode {
    match Cli::parse().command {
        Command::Verify {
            credential,
            did_document,
            check_time,
            json,
        } => verify_cmd(&credential, &did_document, check_time, json),
        Command::Keys { keystore, command } => keys::run(&keystore, command),
        Command::Log { command } => log::run(command),
        Command::Demo => {
            eprintln!(
                "hallmark demo: the node is not built yet; `hallmark verify` works offline today."
            );
            ExitCode::from(2)
        }
    }
}

fn verify_cmd(
    credential: &PathBuf,
    did_document: &PathBuf,
    check_time: bool,
    json: bool,
) -> ExitCode {
    let read = |p: &PathBuf| std::fs::read(p).map_err(|e| format!("{}: {e}", p.display()));
    let (cred, doc) = match (read(credential), read(did_document)) {
        (Ok(c), Ok(d)) => (c, d),
        (Err(e), _) | (_, Err(e)) => {
            eprintln!("hallmark verify: {e}");
            return ExitCode::from(2);
        }
    };
    let doc = match DidDocument::from_json(&doc) {
        Ok(d) => d,
        Err(e) => {
            eprintln!("hallmark verify: {}: {e}", did_document.display());
            return ExitCode::from(2);
        }
    };
    let options = VerifyOptions {
        now: check_time.then(time::OffsetDateTime::now_utc),
    };
    let report = verify_with(&cred, &doc, &options);
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
