//! `hallmark present`: a verifiable presentation of passport credentials (or of none: a
//! reader proving possession of its key), signed by the holder with an `eddsa-jcs-2022`
//! proof for `authentication`, bound to the verifier's `--challenge` and `--domain`
//! (core's `presentation` module; docs/verify.md, "Presentations").
//!
//! The holder's key is a reader key file (`hallmark reader keygen`, read by `reader_key.rs`:
//! mode 0600, secrets in zeroizing types, never printed); the holder is the key's did:key
//! unless `--holder` names another DID whose document lists the key.

use crate::reader_key::ReaderKey;
use hallmark_core::credential::{format_datetime, ProofExtras, ProofOptions};
use hallmark_core::did_key::{DidKey, DID_KEY_PREFIX};
use hallmark_core::jcs;
use hallmark_core::presentation::{sign_presentation, Contained, UnsignedPresentation};
use serde_json::Value;
use std::path::PathBuf;
use std::process::ExitCode;

/// Exit code: usage or I/O error on the inputs (nothing signed).
const EXIT_USAGE: u8 = 2;

/// What `hallmark present` was asked (its command-line arguments).
#[derive(clap::Args)]
pub struct PresentArgs {
    /// The holder's key file: a reader key file written by `hallmark reader keygen` (mode
    /// 0600). Its Ed25519 key signs the presentation.
    #[arg(long, value_name = "FILE")]
    pub key: PathBuf,
    /// The holder's DID. Default: the did:key of the key (verification method
    /// did:key:z…#z…). Another DID signs with the method <DID>#<publicKeyMultibase>, which
    /// its DID document must list under `authentication`.
    #[arg(long, value_name = "DID")]
    pub holder: Option<String>,
    /// The challenge the verifier gave (a nonce): it binds the presentation to that one
    /// verification. Without it the presentation can be replayed.
    #[arg(long, value_name = "TEXT")]
    pub challenge: Option<String>,
    /// The domain the verifier gave (e.g. its origin, https://verifier.example).
    #[arg(long, value_name = "TEXT")]
    pub domain: Option<String>,
    /// The presentation's `id` (a URL, e.g. urn:uuid:…).
    #[arg(long, value_name = "URL")]
    pub id: Option<String>,
    /// Write the presentation to this file instead of stdout.
    #[arg(long, short, value_name = "FILE")]
    pub out: Option<PathBuf>,
    /// The credentials to present: Data Integrity JSON files (embedded) and compact vc+jwt
    /// files (enveloped). None: the presentation only proves possession of the key.
    #[arg(value_name = "CRED_FILE")]
    pub credentials: Vec<PathBuf>,
}

/// Why `hallmark present` did not write a presentation.
#[derive(Debug, thiserror::Error)]
enum PresentError {
    /// The inputs (key file, credential files, --holder) are unusable.
    #[error("{0}")]
    Usage(String),
    /// Signing or writing failed.
    #[error("{0}")]
    Failed(String),
}

/// Runs `hallmark present`; exit 0 written, 1 signing or writing failed, 2 usage or I/O
/// error on the inputs.
pub fn run(args: &PresentArgs) -> ExitCode {
    match present(args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("hallmark present: {e}");
            ExitCode::from(match e {
                PresentError::Usage(_) => EXIT_USAGE,
                PresentError::Failed(_) => 1,
            })
        }
    }
}

fn present(args: &PresentArgs) -> Result<(), PresentError> {
    let usage = |e: String| PresentError::Usage(e);
    let key = ReaderKey::load(&args.key).map_err(|e| usage(e.to_string()))?;
    let mut credentials = Vec::with_capacity(args.credentials.len());
    for path in &args.credentials {
        let bytes = std::fs::read(path).map_err(|e| usage(format!("{}: {e}", path.display())))?;
        let c = Contained::parse(&bytes).map_err(|e| usage(format!("{}: {e}", path.display())))?;
        credentials.push(c);
    }
    let signer = key.signing_key();
    let did_key = DidKey::of(&signer.verifying_key());
    let (holder, method) = match &args.holder {
        None => (did_key.as_str().to_string(), did_key.method_id()),
        Some(h) if h == did_key.as_str() => (h.clone(), did_key.method_id()),
        Some(h) if h.starts_with(DID_KEY_PREFIX) => {
            return Err(usage(format!(
                "--holder {h} is a did:key of another key; this key's is {did_key}"
            )))
        }
        Some(h) if h.starts_with("did:") && !h.contains(['#', '?', '/']) => {
            (h.clone(), format!("{h}#{}", did_key.multibase()))
        }
        Some(h) => return Err(usage(format!("--holder {h:?} is not a DID"))),
    };
    let unsigned = UnsignedPresentation {
        id: args.id.clone(),
        holder: Some(holder.clone()),
        credentials,
    };
    let created = format_datetime(time::OffsetDateTime::now_utc())
        .map_err(|e| PresentError::Failed(e.to_string()))?;
    let options = ProofOptions {
        verification_method: method.clone(),
        created,
    };
    let extras = ProofExtras {
        challenge: args.challenge.clone(),
        domain: args.domain.clone().map(Value::String),
        ..ProofExtras::default()
    };
    let signed = sign_presentation(&unsigned.to_value(), &options, &extras, signer)
        .map_err(|e| PresentError::Failed(e.to_string()))?;
    let mut bytes = jcs::canonicalize(&signed).map_err(|e| PresentError::Failed(e.to_string()))?;
    bytes.push(b'\n');
    match &args.out {
        Some(path) => std::fs::write(path, &bytes)
            .map_err(|e| PresentError::Failed(format!("{}: {e}", path.display())))?,
        None => {
            use std::io::Write as _;
            std::io::stdout()
                .write_all(&bytes)
                .map_err(|e| PresentError::Failed(format!("stdout: {e}")))?;
        }
    }
    eprintln!(
        "presented {} credential(s) as {holder} (verification method {method})",
        args.credentials.len()
    );
    if args.challenge.is_none() {
        eprintln!(
            "warning: no --challenge: nothing binds this presentation to one verification (it can be replayed)"
        );
    }
    Ok(())
}
