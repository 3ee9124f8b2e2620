//! `hallmark reader …`: a restricted-tier reader's own key material (issue 20, docs/access.md
//! "Signed requests (RFC 9421)"). `keygen` writes a new reader key file (0600, never
//! overwritten) and prints its public half — what the reader registers with a node, and the
//! fingerprint the operator confirms over the phone. Never prints a secret.

use base64::{engine::general_purpose::URL_SAFE_NO_PAD, Engine as _};
use clap::Subcommand;
use ed25519_dalek::SigningKey;
use rand_core::{OsRng, RngCore};
use serde::Serialize;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;
use zeroize::Zeroizing;

/// The `format` member of a reader key file.
pub const FORMAT: &str = "hallmark-reader-key";
/// The `version` member of a reader key file.
pub const VERSION: u32 = 1;

#[derive(Subcommand)]
pub enum ReaderCommand {
    /// Generate a reader key file: an Ed25519 signing key (RFC 9421 request signatures) and
    /// an X25519 key (responses encrypted to the reader), with their public keys and the
    /// Ed25519 key's fingerprint.
    ///
    /// The file is JSON, created 0600, never overwritten (exit 1 if it exists). The public
    /// half is printed on stdout as JSON: register it with the node's operator and confirm
    /// the fingerprint with them out of band (docs/access.md).
    Keygen {
        /// The key file to create.
        #[arg(long, value_name = "FILE")]
        out: PathBuf,
    },
}

#[derive(Debug, thiserror::Error)]
enum ReaderError {
    #[error("the operating system's random generator failed")]
    Random,
    #[error("{0}")]
    Write(#[from] hallmark_keys::KeysError),
    #[error("cannot encode the key file: {0}")]
    Encode(#[from] serde_json::Error),
    #[error("cannot read the clock: {0}")]
    Clock(#[from] time::error::Format),
}

/// The X25519 public key as a JWK (RFC 8037).
#[derive(Serialize)]
struct X25519Jwk {
    kty: &'static str,
    crv: &'static str,
    x: String,
}

/// The public half: printed, and repeated in the file.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct PublicPart {
    /// Raw 32-byte Ed25519 public key, base64url without padding.
    ed25519_public_key: String,
    /// `hallmark_core::httpsig::fingerprint` of it.
    fingerprint: String,
    x25519_public_jwk: X25519Jwk,
}

/// The file. Secrets are 32-byte values, base64url without padding, in zeroizing strings.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct KeyFile<'a> {
    format: &'static str,
    version: u32,
    created: String,
    /// The Ed25519 seed (RFC 8032 private key).
    ed25519_seed: Zeroizing<String>,
    /// The X25519 static secret (RFC 7748 scalar, before clamping).
    x25519_secret: Zeroizing<String>,
    #[serde(flatten)]
    public: &'a PublicPart,
}

fn random_32() -> Result<Zeroizing<[u8; 32]>, ReaderError> {
    let mut b = Zeroizing::new([0u8; 32]);
    OsRng
        .try_fill_bytes(&mut b[..])
        .map_err(|_| ReaderError::Random)?;
    Ok(b)
}

fn keygen(out: &Path) -> Result<PublicPart, ReaderError> {
    if out.exists() {
        return Err(hallmark_keys::KeysError::AlreadyExists {
            path: out.to_path_buf(),
        }
        .into());
    }
    let seed = random_32()?;
    let signing = SigningKey::from_bytes(&seed);
    let verifying = signing.verifying_key();
    let x_bytes = random_32()?;
    let x_secret = x25519_dalek::StaticSecret::from(*x_bytes);
    let x_public = x25519_dalek::PublicKey::from(&x_secret);

    let public = PublicPart {
        ed25519_public_key: URL_SAFE_NO_PAD.encode(verifying.as_bytes()),
        fingerprint: hallmark_core::httpsig::fingerprint(&verifying),
        x25519_public_jwk: X25519Jwk {
            kty: "OKP",
            crv: "X25519",
            x: URL_SAFE_NO_PAD.encode(x_public.as_bytes()),
        },
    };
    let file = KeyFile {
        format: FORMAT,
        version: VERSION,
        created: OffsetDateTime::now_utc().format(&Rfc3339)?,
        ed25519_seed: Zeroizing::new(URL_SAFE_NO_PAD.encode(&seed[..])),
        x25519_secret: Zeroizing::new(URL_SAFE_NO_PAD.encode(x_secret.as_bytes())),
        public: &public,
    };
    // Room for the whole document up front, so the buffer holding secrets never reallocates
    // (a reallocation would leave a copy behind that is not zeroized).
    let mut bytes = Zeroizing::new(Vec::with_capacity(4096));
    serde_json::to_writer_pretty(&mut *bytes, &file)?;
    bytes.push(b'\n');
    hallmark_keys::keystore::write_new_private_file(out, &bytes)?;
    Ok(public)
}

pub fn run(command: ReaderCommand) -> ExitCode {
    match command {
        ReaderCommand::Keygen { out } => match keygen(&out) {
            Ok(public) => match serde_json::to_string_pretty(&public) {
                Ok(json) => {
                    println!("{json}");
                    eprintln!(
                        "hallmark reader keygen: wrote {} (keep it secret); fingerprint {}",
                        out.display(),
                        public.fingerprint
                    );
                    ExitCode::SUCCESS
                }
                Err(e) => {
                    eprintln!("hallmark reader keygen: {e}");
                    ExitCode::from(1)
                }
            },
            Err(e) => {
                eprintln!("hallmark reader keygen: {e}");
                ExitCode::from(1)
            }
        },
    }
}
