//! `hallmark log …`: the transparency log, seen from the store (`check`) or, with public data
//! only, between two checkpoints (`verify-consistency`).

use clap::Subcommand;
use hallmark_core::tlog::{check_consistency, ConsistencyProof, VerifierKey};
use hallmark_core::verify::Outcome;
use hallmark_store::logcheck::check_log;
use hallmark_store::{PgStore, SqliteStore, Store, StoreError};
use std::path::{Path, PathBuf};
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
    /// Check that a newer checkpoint extends an older one (the log was not rewritten), with
    /// public data only: both checkpoints (signed notes, e.g. saved from /log/checkpoint),
    /// the consistency proof between their sizes (JSON, as served by
    /// /log/proof/consistency?old=<m>&new=<n>) and the pinned log key. Prints the checks
    /// `log-checkpoint-old`, `log-checkpoint-new`, `log-consistency`; exits 0 when the new
    /// checkpoint extends the old one, 1 when not, 2 on usage or I/O errors.
    VerifyConsistency {
        /// The older checkpoint (the one you verified before).
        #[arg(long, value_name = "FILE")]
        old: PathBuf,
        /// The newer checkpoint.
        #[arg(long, value_name = "FILE")]
        new: PathBuf,
        /// The consistency proof from the old size to the new size.
        #[arg(long, value_name = "FILE")]
        proof: PathBuf,
        /// The log's verifier key (`<name>+<key ID>+<base64 key>`), pinned out of band.
        #[arg(long = "log-key", value_name = "VKEY")]
        log_key: String,
    },
}

/// Run a `log` subcommand.
pub fn run(command: LogCommand) -> ExitCode {
    match command {
        LogCommand::Check { database, log_key } => {
            match tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
            {
                Ok(rt) => rt.block_on(check(&database, log_key)),
                Err(e) => {
                    eprintln!("hallmark log: {e}");
                    ExitCode::from(2)
                }
            }
        }
        LogCommand::VerifyConsistency {
            old,
            new,
            proof,
            log_key,
        } => verify_consistency(&old, &new, &proof, &log_key),
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

fn verify_consistency(old: &Path, new: &Path, proof: &Path, log_key: &str) -> ExitCode {
    let inputs = (|| -> Result<_, String> {
        let key = VerifierKey::parse(log_key).map_err(|e| format!("--log-key: {e}"))?;
        let read = |p: &Path| std::fs::read(p).map_err(|e| format!("{}: {e}", p.display()));
        let text = |p: &Path| {
            String::from_utf8(read(p)?).map_err(|_| format!("{}: not UTF-8", p.display()))
        };
        let proof: ConsistencyProof = serde_json::from_slice(&read(proof)?)
            .map_err(|e| format!("{}: not a consistency proof: {e}", proof.display()))?;
        Ok((key, text(old)?, text(new)?, proof))
    })();
    let (key, old, new, proof) = match inputs {
        Ok(i) => i,
        Err(e) => {
            eprintln!("hallmark log verify-consistency: {e}");
            return ExitCode::from(2);
        }
    };
    let checks = check_consistency(&old, &new, &proof, &key);
    let mut ok = true;
    for c in &checks {
        let (mark, text) = match &c.outcome {
            Outcome::Pass(t) => ("pass", t),
            Outcome::Fail(t) => {
                ok = false;
                ("FAIL", t)
            }
            Outcome::Skipped(t) => {
                ok = false;
                ("skip", t)
            }
        };
        println!("{mark}  {:<18} {text}", c.name);
    }
    if ok {
        println!("CONSISTENT");
        ExitCode::SUCCESS
    } else {
        println!("NOT CONSISTENT");
        ExitCode::from(1)
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
