//! `hallmark keys …`: thin wrappers over `hallmark_keys`. Reads files and the passphrase,
//! prints public data and lifecycle events (JSON lines on stdout); never prints secrets.

use clap::{Args, Subcommand};
use hallmark_core::keys::KeyId;
use hallmark_keys::hsm::{Hsm, HsmConfig};
use hallmark_keys::{
    generate_offline, BackupIdentity, KdfParams, KeyEvent, KeyInfo, KeysError, Keystore, Purpose,
};
use secrecy::SecretString;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;
use zeroize::Zeroizing;

/// Where the passphrase comes from.
pub const PASSPHRASE_ENV: &str = "HALLMARK_KEYSTORE_PASSPHRASE";
/// PKCS#11 module path.
pub const HSM_MODULE_ENV: &str = "HALLMARK_HSM_MODULE";
/// Token label.
pub const HSM_TOKEN_ENV: &str = "HALLMARK_HSM_TOKEN";
/// User PIN.
pub const HSM_PIN_ENV: &str = "HALLMARK_HSM_PIN";
/// Object label prefix.
pub const HSM_PREFIX_ENV: &str = "HALLMARK_HSM_KEY_PREFIX";

#[derive(Subcommand)]
pub enum KeysCommand {
    /// Create a keystore with one current key per purpose and a node age identity.
    Init(KdfArgs),
    /// List keys: id, purpose, status, backend and times (never secrets).
    List(ListArgs),
    /// Replace the current key of a purpose; the old one is retired (still published).
    Rotate(RotateArgs),
    /// Revoke a key: it stops signing and leaves the DID document.
    Revoke(RevokeArgs),
    /// Write an age-encrypted backup of every key to a new file.
    Backup {
        /// The operator's age recipient (age1…).
        #[arg(long)]
        recipient: String,
        /// The backup file to create (never overwritten; created 0600).
        #[arg(long, value_name = "FILE")]
        out: PathBuf,
    },
    /// Rebuild a keystore at --keystore from a backup, under the current passphrase.
    Restore {
        /// The age identity file (AGE-SECRET-KEY-1…) the backup was encrypted to.
        #[arg(long, value_name = "FILE")]
        identity: PathBuf,
        /// The backup file.
        #[arg(long = "in", value_name = "FILE")]
        input: PathBuf,
        #[command(flatten)]
        kdf: KdfArgs,
    },
    /// Generate a key on an air-gapped machine, encrypted to the node's recipient.
    Generate {
        /// Required: keys are only generated this way offline (init and rotate make the
        /// node's own keys).
        #[arg(long)]
        offline: bool,
        /// passport-signing, log-checkpoint or node-request.
        #[arg(long, value_parser = parse_purpose)]
        purpose: Purpose,
        /// The node's age recipient, from `hallmark keys recipient`.
        #[arg(long)]
        recipient: String,
        /// The encrypted key file to create (never overwritten; created 0600).
        #[arg(long, value_name = "FILE")]
        out: PathBuf,
    },
    /// Install an offline-generated key as the current key of its purpose.
    Import {
        /// The encrypted key file from `generate --offline`.
        #[arg(long = "in", value_name = "FILE")]
        input: PathBuf,
    },
    /// Print the node's age recipient (age1…), for `generate --offline`.
    Recipient,
    /// Manage keys held in a PKCS#11 token (HSM). Configured by environment variables:
    /// HALLMARK_HSM_MODULE (module path), HALLMARK_HSM_TOKEN (token label), HALLMARK_HSM_PIN
    /// (user PIN, never on the command line) and HALLMARK_HSM_KEY_PREFIX (default
    /// `hallmark`). The --keystore option is not used.
    Hsm {
        #[command(subcommand)]
        command: HsmCommand,
    },
}

/// `hallmark keys hsm …`: key lifecycle inside the token.
#[derive(Subcommand)]
pub enum HsmCommand {
    /// Generate, inside the token, a current key for every purpose that has none.
    Init,
    /// List the token's keys (never secrets).
    List(ListArgs),
    /// Generate a new current key in the token; the old one is retired.
    Rotate(RotateArgs),
    /// Revoke a key: it is marked revoked and its private object is destroyed.
    Revoke(RevokeArgs),
}

/// Arguments of `list`.
#[derive(Args)]
pub struct ListArgs {
    /// Print the key metadata as a JSON array.
    #[arg(long)]
    json: bool,
}

/// Arguments of `rotate`.
#[derive(Args)]
pub struct RotateArgs {
    /// passport-signing, log-checkpoint or node-request.
    #[arg(long, value_parser = parse_purpose)]
    purpose: Purpose,
}

/// Arguments of `revoke`.
#[derive(Args)]
pub struct RevokeArgs {
    /// The key id (z6Mk…), as shown by `list`.
    key: String,
    /// Why (recorded with the key and in the event).
    #[arg(long)]
    reason: String,
}

impl RevokeArgs {
    fn key_id(&self) -> Result<KeyId, Failure> {
        KeyId::parse(&self.key)
            .map_err(|e| Failure::Usage(format!("{:?} is not a key id: {e}", self.key)))
    }
}

/// Print keys as a table or JSON.
fn print_keys(keys: &[KeyInfo], json: bool) -> Result<(), Failure> {
    if json {
        let text = serde_json::to_string_pretty(keys).map_err(|e| Failure::Usage(e.to_string()))?;
        println!("{text}");
    } else {
        print_table(keys);
    }
    Ok(())
}

/// Argon2id cost of a new keystore.
#[derive(Args)]
pub struct KdfArgs {
    /// Argon2id memory in MiB (at least 19).
    #[arg(long, default_value_t = KdfParams::RECOMMENDED.memory_kib / 1024)]
    kdf_memory_mib: u32,
    /// Argon2id passes (at least 2).
    #[arg(long, default_value_t = KdfParams::RECOMMENDED.iterations)]
    kdf_iterations: u32,
    /// Argon2id lanes.
    #[arg(long, default_value_t = KdfParams::RECOMMENDED.parallelism)]
    kdf_parallelism: u32,
}

impl KdfArgs {
    fn params(&self) -> KdfParams {
        KdfParams {
            memory_kib: self.kdf_memory_mib.saturating_mul(1024),
            iterations: self.kdf_iterations,
            parallelism: self.kdf_parallelism,
        }
    }
}

fn parse_purpose(s: &str) -> Result<Purpose, String> {
    Purpose::ALL
        .into_iter()
        .find(|p| p.as_str() == s)
        .ok_or_else(|| "expected passport-signing, log-checkpoint or node-request".to_string())
}

enum Failure {
    Usage(String),
    /// A keystore operation failed.
    Keys(KeysError),
    /// A token operation failed (`hallmark keys hsm`).
    Hsm(KeysError),
    Missing(PathBuf),
}

impl From<KeysError> for Failure {
    fn from(e: KeysError) -> Self {
        Failure::Keys(e)
    }
}

/// Run a `keys` subcommand.
pub fn run(keystore: &Path, command: KeysCommand) -> ExitCode {
    match run_inner(keystore, command) {
        Ok(()) => ExitCode::SUCCESS,
        Err(Failure::Usage(msg)) => {
            eprintln!("hallmark keys: {msg}");
            ExitCode::from(2)
        }
        Err(Failure::Keys(e)) => {
            eprintln!("hallmark keys: {e}");
            ExitCode::from(1)
        }
        Err(Failure::Hsm(e)) => {
            eprintln!("hallmark keys hsm: {e}");
            ExitCode::from(1)
        }
        Err(Failure::Missing(path)) => {
            let p = path.display();
            eprintln!(
                "hallmark keys: no keystore at {p}: create it with `hallmark keys init \
                 --keystore {p}`, or point --keystore (or HALLMARK_KEYSTORE_PATH) at the \
                 node's keystore"
            );
            ExitCode::from(1)
        }
    }
}

/// Opens the keystore (passphrase from the environment); a missing file says what to do.
fn open(keystore: &Path) -> Result<Keystore, Failure> {
    if !keystore.exists() {
        return Err(Failure::Missing(keystore.to_path_buf()));
    }
    Ok(Keystore::open(keystore, &passphrase()?)?)
}

/// The default `--keystore`: the file `hallmark serve` opens by default,
/// `<HALLMARK_DATA_DIR>/hallmark-keys.json` (data directory `/var/lib/hallmark` unless set).
/// `HALLMARK_KEYSTORE_PATH`, when set, comes before it (clap reads it).
pub fn default_keystore() -> PathBuf {
    let data_dir = std::env::var_os("HALLMARK_DATA_DIR")
        .filter(|d| !d.is_empty())
        .map_or_else(
            || PathBuf::from(hallmark_node::config::DEFAULT_DATA_DIR),
            PathBuf::from,
        );
    hallmark_node::config::keystore_in(&data_dir)
}

fn passphrase() -> Result<SecretString, Failure> {
    match std::env::var(PASSPHRASE_ENV) {
        Ok(p) if !p.is_empty() => Ok(SecretString::from(p)),
        Ok(_) => Err(Failure::Usage(format!(
            "{PASSPHRASE_ENV} is empty; refusing to use an empty passphrase"
        ))),
        Err(_) => Err(Failure::Usage(format!(
            "set the keystore passphrase in the {PASSPHRASE_ENV} environment variable"
        ))),
    }
}

fn read(path: &Path) -> Result<Vec<u8>, Failure> {
    std::fs::read(path).map_err(|source| {
        Failure::Keys(KeysError::Io {
            path: path.to_path_buf(),
            source,
        })
    })
}

fn emit(event: &KeyEvent) {
    match serde_json::to_string(event) {
        Ok(line) => println!("{line}"),
        Err(e) => eprintln!("hallmark keys: cannot print event: {e}"),
    }
}

fn run_inner(keystore: &Path, command: KeysCommand) -> Result<(), Failure> {
    let now = OffsetDateTime::now_utc();
    match command {
        KeysCommand::Init(kdf) => {
            let pass = passphrase()?;
            let (store, events) = Keystore::create(keystore, &pass, kdf.params(), now)?;
            events.iter().for_each(emit);
            eprintln!(
                "created {} (node recipient {})",
                keystore.display(),
                store.node_recipient()
            );
        }
        KeysCommand::List(args) => {
            let store = open(keystore)?;
            print_keys(&store.list(), args.json)?;
        }
        KeysCommand::Rotate(args) => {
            let mut store = open(keystore)?;
            emit(&store.rotate(args.purpose, now)?);
        }
        KeysCommand::Revoke(args) => {
            let id = args.key_id()?;
            let mut store = open(keystore)?;
            emit(&store.revoke(&id, &args.reason, now)?);
        }
        KeysCommand::Backup { recipient, out } => {
            if out.exists() {
                return Err(KeysError::AlreadyExists { path: out }.into());
            }
            let store = open(keystore)?;
            let (ciphertext, event) = store.backup(&recipient, now)?;
            hallmark_keys::keystore::write_new_private_file(&out, &ciphertext)?;
            emit(&event);
        }
        KeysCommand::Restore {
            identity,
            input,
            kdf,
        } => {
            let pass = passphrase()?;
            let text = Zeroizing::new(read(&identity)?);
            let text = std::str::from_utf8(&text).map_err(|_| KeysError::BadIdentity)?;
            let identity = BackupIdentity::parse(text)?;
            let backup = read(&input)?;
            let (_, event) =
                Keystore::restore(keystore, &pass, kdf.params(), &backup, &identity, now)?;
            emit(&event);
        }
        KeysCommand::Generate {
            offline,
            purpose,
            recipient,
            out,
        } => {
            if !offline {
                return Err(Failure::Usage(
                    "only `generate --offline` exists: the node's own keys are made by \
                     `init` and `rotate`"
                        .to_string(),
                ));
            }
            if out.exists() {
                return Err(KeysError::AlreadyExists { path: out }.into());
            }
            let (ciphertext, public) = generate_offline(purpose, &recipient, now)?;
            hallmark_keys::keystore::write_new_private_file(&out, &ciphertext)?;
            println!("{}", public.public_key_multibase);
        }
        KeysCommand::Import { input } => {
            let ciphertext = read(&input)?;
            let mut store = open(keystore)?;
            emit(&store.import(&ciphertext, now)?);
        }
        KeysCommand::Recipient => {
            let store = open(keystore)?;
            println!("{}", store.node_recipient());
        }
        KeysCommand::Hsm { command } => run_hsm(command, now)?,
    }
    Ok(())
}

fn env_required(name: &str) -> Result<String, Failure> {
    match std::env::var(name) {
        Ok(v) if !v.is_empty() => Ok(v),
        _ => Err(Failure::Usage(format!("set {name}"))),
    }
}

/// The HSM configuration from the environment.
fn hsm_config() -> Result<HsmConfig, Failure> {
    Ok(HsmConfig {
        module_path: PathBuf::from(env_required(HSM_MODULE_ENV)?),
        token_label: env_required(HSM_TOKEN_ENV)?,
        pin: SecretString::from(env_required(HSM_PIN_ENV)?),
        key_label_prefix: std::env::var(HSM_PREFIX_ENV)
            .ok()
            .filter(|p| !p.is_empty())
            .unwrap_or_else(|| "hallmark".to_string()),
    })
}

fn run_hsm(command: HsmCommand, now: OffsetDateTime) -> Result<(), Failure> {
    run_hsm_inner(command, now).map_err(|e| match e {
        Failure::Keys(e) => Failure::Hsm(e),
        other => other,
    })
}

fn run_hsm_inner(command: HsmCommand, now: OffsetDateTime) -> Result<(), Failure> {
    // Fails closed: an unreachable token is an error here, never a software fallback.
    let hsm = Hsm::try_connect(&hsm_config()?)?;
    match command {
        HsmCommand::Init => {
            for purpose in Purpose::ALL {
                if hsm.find(purpose)?.is_none() {
                    emit(&hsm.generate(purpose, now)?);
                }
            }
        }
        HsmCommand::List(args) => print_keys(&hsm.list()?, args.json)?,
        HsmCommand::Rotate(args) => emit(&hsm.rotate(args.purpose, now)?),
        HsmCommand::Revoke(args) => emit(&hsm.revoke(&args.key_id()?, &args.reason, now)?),
    }
    Ok(())
}

fn print_table(keys: &[KeyInfo]) {
    let t = |t: Option<OffsetDateTime>| {
        t.and_then(|t| t.format(&Rfc3339).ok())
            .unwrap_or_else(|| "-".to_string())
    };
    println!("ID\tPURPOSE\tSTATUS\tBACKEND\tCREATED\tRETIRED\tREVOKED\tREASON");
    for k in keys {
        let status = match k.status {
            hallmark_core::did::KeyStatus::Current => "current",
            hallmark_core::did::KeyStatus::Retired => "retired",
            hallmark_core::did::KeyStatus::Revoked => "revoked",
        };
        let backend = k.backend.as_str();
        println!(
            "{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}",
            k.id,
            k.purpose.as_str(),
            status,
            backend,
            t(Some(k.created_at)),
            t(k.retired_at),
            t(k.revoked_at),
            k.revocation_reason.as_deref().unwrap_or("-")
        );
    }
}
