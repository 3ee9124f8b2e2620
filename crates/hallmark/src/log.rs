//! `hallmark log …`: the transparency log, seen from the store (`check`) or, with public data
//! only, between two checkpoints (`verify-consistency`).

use clap::Subcommand;
use hallmark_core::integrity::IntegrityKeys;
use hallmark_core::tlog::{check_consistency, ConsistencyProof, VerifierKey};
use hallmark_core::verify::Outcome;
use hallmark_store::logcheck::{check_integrity, check_log};
use hallmark_store::{PgStore, QuarantineRecord, SqliteStore, Store, StoreError};
use secrecy::SecretString;
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
        /// The node's file keystore (its passphrase from HALLMARK_KEYSTORE_PASSPHRASE): with
        /// it (or --node-secret), every row the node trusts is cross-checked against the
        /// node's authenticated log, and each forgery is named (forged leaf, forged version,
        /// foreign key, unauthenticated row).
        #[arg(long, env = "HALLMARK_KEYSTORE_PATH", value_name = "FILE")]
        keystore: Option<PathBuf>,
        /// HSM nodes: the node secret (base64), as configured for the node.
        #[arg(
            long = "node-secret",
            env = "HALLMARK_NODE_SECRET",
            hide_env_values = true
        )]
        node_secret: Option<String>,
    },
    /// Quarantine a log leaf the node did not write, so that the node signs over it and the
    /// log continues (docs/transparency-log.md, "A leaf the node did not write"). Runs under
    /// the migration (owner) role: the node's own role cannot. Records the leaf's stored hash;
    /// the node then appends a `log.leaf-quarantined` event naming it. Exits 0 when recorded,
    /// 1 when refused, 2 on usage or connection errors.
    Quarantine {
        /// The database as its owner: `sqlite:PATH` or the migration `postgres://` URL. May
        /// also come from HALLMARK_DATABASE_MIGRATION_URL.
        #[arg(long, env = "HALLMARK_DATABASE_MIGRATION_URL", hide_env_values = true)]
        database: String,
        /// The leaf index (as the node's alarm and `hallmark log check` name it).
        #[arg(long)]
        index: u64,
        /// The leaf's hash as you inspected it (hex); refused if the stored one differs.
        #[arg(long = "leaf-hash", value_name = "HEX")]
        leaf_hash: Option<String>,
        /// Why (kept in the log).
        #[arg(long)]
        reason: String,
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
        LogCommand::Check {
            database,
            log_key,
            keystore,
            node_secret,
        } => block_on(check(&database, log_key, keystore, node_secret)),
        LogCommand::Quarantine {
            database,
            index,
            leaf_hash,
            reason,
        } => block_on(quarantine(&database, index, leaf_hash, reason)),
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

fn block_on(f: impl std::future::Future<Output = ExitCode>) -> ExitCode {
    match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt.block_on(f),
        Err(e) => {
            eprintln!("hallmark log: {e}");
            ExitCode::from(2)
        }
    }
}

/// The node's row-authentication keys from its custody: the keystore (passphrase from the
/// environment) or the HSM node's secret.
fn integrity_keys(
    keystore: Option<PathBuf>,
    node_secret: Option<String>,
) -> Result<Option<IntegrityKeys>, String> {
    match (keystore, node_secret) {
        (Some(_), Some(_)) => Err("give --keystore or --node-secret, not both".into()),
        (None, None) => Ok(None),
        (None, Some(secret)) => {
            let keys = hallmark_node::config::node_integrity_keys(&SecretString::from(secret))
                .map_err(|e| e.to_string())?;
            std::sync::Arc::try_unwrap(keys)
                .map(Some)
                .map_err(|_| "node secret: internal error".to_string())
        }
        (Some(path), None) => {
            let passphrase = std::env::var("HALLMARK_KEYSTORE_PASSPHRASE")
                .map_err(|_| "HALLMARK_KEYSTORE_PASSPHRASE is not set".to_string())?;
            let ks =
                hallmark_keys::keystore::Keystore::open(&path, &SecretString::from(passphrase))
                    .map_err(|e| format!("{}: {e}", path.display()))?;
            ks.integrity_keys().map(Some).map_err(|e| e.to_string())
        }
    }
}

async fn check(
    database: &str,
    log_key: Option<String>,
    keystore: Option<PathBuf>,
    node_secret: Option<String>,
) -> ExitCode {
    let verifier = match log_key.as_deref().map(VerifierKey::parse).transpose() {
        Ok(v) => v,
        Err(e) => {
            eprintln!("hallmark log check: --log-key: {e}");
            return ExitCode::from(2);
        }
    };
    let keys = match integrity_keys(keystore, node_secret) {
        Ok(k) => k,
        Err(e) => {
            eprintln!("hallmark log check: {e}");
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
    let mut forged = false;
    match &keys {
        None => println!(
            "note: rows not cross-checked against the node's authenticated log (no --keystore or --node-secret)"
        ),
        Some(keys) => match check_integrity(store.as_ref(), keys).await {
            Ok(report) => {
                println!(
                    "authenticated: leaves {} (written before row authentication: {})  versions {}",
                    report.leaves, report.legacy_leaves, report.versions
                );
                for f in &report.forgeries {
                    println!("FORGERY: {f}");
                }
                forged = !report.forgeries.is_empty();
            }
            Err(e) => {
                eprintln!("hallmark log check: {e}");
                return ExitCode::from(2);
            }
        },
    }
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
                None if forged => {
                    println!("NOT OK: the log is consistent, but rows the node did not write are named above");
                    ExitCode::from(1)
                }
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

async fn quarantine(
    database: &str,
    index: u64,
    leaf_hash: Option<String>,
    reason: String,
) -> ExitCode {
    let fail = |code: u8, e: &dyn std::fmt::Display| {
        eprintln!("hallmark log quarantine: {e}");
        ExitCode::from(code)
    };
    if reason.trim().is_empty() {
        return fail(2, &"--reason must not be empty");
    }
    let store: Box<dyn Store> =
        if database.starts_with("postgres://") || database.starts_with("postgresql://") {
            let options = match database.parse() {
                Ok(o) => o,
                Err(e) => return fail(2, &format!("database URL: {e}")),
            };
            match PgStore::connect_privileged(options).await {
                Ok(s) => Box::new(s),
                Err(e) => return fail(2, &e),
            }
        } else {
            match open(database).await {
                Ok(s) => s,
                Err(e) => return fail(2, &e),
            }
        };
    let leaf = match store.list_leaves(index, 1).await {
        Ok(mut l) if l.first().is_some_and(|l| l.index == index) => l.remove(0),
        Ok(_) => return fail(1, &format!("there is no leaf {index}")),
        Err(e) => return fail(2, &e),
    };
    let stored = hex(&leaf.leaf_hash);
    if let Some(expected) = leaf_hash {
        if !expected.eq_ignore_ascii_case(&stored) {
            return fail(
                1,
                &format!("leaf {index} has hash {stored}, not {expected}: nothing recorded"),
            );
        }
    }
    let record = QuarantineRecord {
        leaf_index: index,
        leaf_hash: leaf.leaf_hash,
        reason,
        created_at: time::OffsetDateTime::now_utc(),
    };
    match store.quarantine_leaf(record).await {
        Ok(()) => {
            println!(
                "quarantined leaf {index} (audit event {}, {}, hash {stored}); the node records it in the log and signs on",
                leaf.event.seq, leaf.event.event.action
            );
            ExitCode::SUCCESS
        }
        Err(e) => fail(1, &e),
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
        ok &= matches!(c.outcome, Outcome::Pass(_) | Outcome::Warn(_));
        println!(
            "{}  {:<18} {}",
            c.outcome.mark(),
            c.name,
            c.outcome.detail()
        );
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
