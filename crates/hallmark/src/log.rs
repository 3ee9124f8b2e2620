//! `hallmark log …`: the transparency log, seen from the store.

use clap::Subcommand;
use hallmark_core::tlog::VerifierKey;
use hallmark_store::logcheck::check_log;
use hallmark_store::{PgStore, SqliteStore, Store, StoreError};
use std::process::ExitCode;

#[derive(Subcommand)]
pub enum LogCommand {
    /// Recompute the whole log from the audit events and compare it with every stored leaf
    /// and checkpoint; report the first divergence (fsck). Exits 0 when consistent, 1 on a
    /// divergence, 2 on usage or connection errors.
    Check {
        /// The database: `sqlite:PATH` (or a file path) or a `postgres://` URL of the
        /// application role. May also come from HALLMARK_DATABASE_URL.
        #[arg(long, env = "HALLMARK_DATABASE_URL", hide_env_values = true)]
        database: String,
        /// The log's verifier key (`<name>+<keyhash>+<base64 key>`, as published by the
        /// node); when given, every checkpoint's signature is checked too.
        #[arg(long = "log-key", value_name = "VKEY")]
        log_key: Option<String>,
    },
}

/// Run a `log` subcommand.
pub fn run(command: LogCommand) -> ExitCode {
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("hallmark log: {e}");
            return ExitCode::from(2);
        }
    };
    match command {
        LogCommand::Check { database, log_key } => runtime.block_on(check(&database, log_key)),
    }
}

async fn open(database: &str) -> Result<Box<dyn Store>, StoreError> {
    if database.starts_with("postgres://") || database.starts_with("postgresql://") {
        let options = database
            .parse()
            .map_err(|e| StoreError::Config(format!("database URL: {e}")))?;
        Ok(Box::new(PgStore::connect_with(options, 2).await?))
    } else {
        let path = database
            .strip_prefix("sqlite://")
            .or_else(|| database.strip_prefix("sqlite:"))
            .unwrap_or(database);
        if !std::path::Path::new(path).is_file() {
            return Err(StoreError::Config(format!("no database file at {path}")));
        }
        Ok(Box::new(SqliteStore::open(path).await?))
    }
}

async fn check(database: &str, log_key: Option<String>) -> ExitCode {
    let verifier = match log_key.as_deref().map(VerifierKey::parse).transpose() {
        Ok(v) => v,
        Err(e) => {
            eprintln!("hallmark log check: --log-key: {e}");
            return ExitCode::from(2);
        }
    };
    let store = match open(database).await {
        Ok(s) => s,
        Err(e) => {
            eprintln!("hallmark log check: {e}");
            return ExitCode::from(2);
        }
    };
    match check_log(store.as_ref(), verifier.as_ref()).await {
        Ok(report) => {
            println!(
                "leaves {}  checkpoints {}  root {}",
                report.leaves,
                report.checkpoints,
                hex(&report.root)
            );
            if verifier.is_none() && report.checkpoints > 0 {
                println!("note: checkpoint signatures not checked (no --log-key)");
            }
            match report.divergence {
                None => {
                    println!("OK: every leaf matches its audit event and every checkpoint matches the log");
                    ExitCode::SUCCESS
                }
                Some(d) => {
                    println!("DIVERGENCE: {d}");
                    ExitCode::from(1)
                }
            }
        }
        Err(e) => {
            eprintln!("hallmark log check: {e}");
            ExitCode::from(2)
        }
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
