//! The `hallmark` command.
//!
//! Subcommands arrive with the issues that build them; today: `verify` (offline
//! verification of a passport credential against a DID document), `keys` (the encrypted
//! file keystore: see `keys.rs` and docs/keys.md) and a `demo` placeholder.

mod keys;
mod node_cmd;

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
    /// admin credentials in ./hallmark-demo, example battery passports published, then serve
    /// on 127.0.0.1 until Ctrl-C. Re-running reuses the directory.
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
            check_time,
            json,
        } => verify_cmd(&credential, &did_document, check_time, json),
        Command::Keys { keystore, command } => keys::run(&keystore, command),
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
