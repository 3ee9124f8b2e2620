//! `hallmark reader …`: a restricted-tier reader's own side (issue 20, docs/access.md,
//! "Tools for readers"). `keygen` writes a new reader key file (0600, never overwritten) and
//! prints its public half — what the reader registers with a node, and the fingerprint the
//! operator confirms over the phone. `register` sends that public half to a node
//! (`POST <base>/readers`, unsigned) and records the reader id it gets in the key file's
//! sidecar (`reader_key.rs`); `status` asks the node what it holds about the reader
//! (`GET <base>/readers/me`, signed). Never prints a secret.

use crate::client::{self, CliError, Exit};
use crate::fetch::{self, Outgoing, Target};
use crate::output::{self, text, Block};
use crate::reader_key::{normalise_node, ReaderKey, Registration, Sidecar};
use base64::{engine::general_purpose::URL_SAFE_NO_PAD, Engine as _};
use clap::builder::{PossibleValuesParser, TypedValueParser as _};
use clap::{Args, Subcommand};
use ed25519_dalek::SigningKey;
use hallmark_core::reader::{Purpose, ReaderId};
use hyper::header::CONTENT_TYPE;
use hyper::Method;
use rand_core::{OsRng, RngCore};
use serde::Serialize;
use serde_json::{json, Value};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;
use zeroize::Zeroizing;

pub use crate::reader_key::{FORMAT, VERSION};

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
    /// Register the key with a node (POST <URL>/readers, unsigned) and record the reader id
    /// it gives in <FILE>.nodes.json.
    ///
    /// Sends the key file's public half (Ed25519 key, X25519 JWK) with the organisation,
    /// the contact and the purpose claimed. Prints the reader id and the key's fingerprint:
    /// read the fingerprint to the node's operator over a channel you both already trust;
    /// they approve the reader after comparing it. Until then the reader is inert (it reads
    /// the public tier only). The registration is recorded in <FILE>.nodes.json beside the
    /// key file (nothing secret in it, mode 0644); the key file is never rewritten.
    #[command(after_long_help = READER_EXIT_CODES)]
    Register(RegisterArgs),
    /// What the node holds about the reader (GET <URL>/readers/me, signed with the key):
    /// status, purpose, grant (tier, scope, expiry), and the reason of a suspension or
    /// revocation.
    ///
    /// The reader id is --reader-id, else the registration with this node recorded in
    /// <FILE>.nodes.json.
    #[command(after_long_help = READER_EXIT_CODES)]
    Status(StatusArgs),
}

/// The exit codes of `reader register` and `reader status` (`--help`, docs/access.md).
pub const READER_EXIT_CODES: &str = "\
Exit codes:
  0    done
  1    unexpected answer (not JSON, wrong shape); register: the node's fingerprint is not
       the key's (do not have the reader approved)
  2    usage: arguments, an unreadable or invalid key file or sidecar, no registration with
       the node (register first, or pass --reader-id), 400
  3    register: refused for its content (422, naming the field)
  4    refused: 401 (unsigned-request, bad-signature, unknown-reader, replayed-request,
       signature-expired, …), 403
  5    state: 409 (register: the key is registered with the node already), 404
  6    server: 5xx, 429 rate-limited
  7    network: cannot connect, TLS, no answer within 30 s
  130  interrupted (Ctrl-C, SIGTERM)";

/// `Accept` of the JSON routes (`/readers`, `/readers/me`).
const JSON_ACCEPT: &str = "application/json, application/problem+json";

/// The purposes (`hallmark_core::reader::Purpose`), by wire name.
fn purpose_parser() -> impl clap::builder::TypedValueParser<Value = Purpose> {
    PossibleValuesParser::new(Purpose::ALL.map(Purpose::as_str)).try_map(|s| s.parse::<Purpose>())
}

/// A reader id (lower-case UUIDv7).
pub fn parse_reader_id(s: &str) -> Result<ReaderId, String> {
    ReaderId::parse(s.trim()).map_err(|e| e.to_string())
}

/// Arguments of `reader register`.
#[derive(Args)]
pub struct RegisterArgs {
    /// The reader key file (`hallmark reader keygen`).
    #[arg(long, value_name = "FILE")]
    reader_key: PathBuf,
    /// The node's public base URL, e.g. https://dpp.example.com (the passport URLs are
    /// under it: <URL>/passports/…).
    #[arg(long, value_name = "URL")]
    node: String,
    /// Your organisation's name (1–200 characters).
    #[arg(long)]
    organisation: String,
    /// How the operator reaches you: a person, a phone number, an e-mail address (1–200
    /// characters).
    #[arg(long)]
    contact: String,
    /// The legal basis or purpose claimed (the operator decides the tier).
    #[arg(long, value_parser = purpose_parser())]
    purpose: Purpose,
    /// Print the node's JSON answer as received instead of text.
    #[arg(long)]
    json: bool,
}

/// Arguments of `reader status`.
#[derive(Args)]
pub struct StatusArgs {
    /// The reader key file (`hallmark reader keygen`).
    #[arg(long, value_name = "FILE")]
    reader_key: PathBuf,
    /// The node's public base URL, as registered.
    #[arg(long, value_name = "URL")]
    node: String,
    /// The reader id (else the one recorded in <FILE>.nodes.json for this node).
    #[arg(long, value_name = "UUID", value_parser = parse_reader_id)]
    reader_id: Option<ReaderId>,
    /// Print the node's JSON answer as received instead of text.
    #[arg(long)]
    json: bool,
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
        ReaderCommand::Register(args) => {
            output::run("hallmark reader register", args.json, register(&args))
        }
        ReaderCommand::Status(args) => {
            output::run("hallmark reader status", args.json, status(&args))
        }
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

/// The key file, or exit 2.
pub fn load_key(path: &Path) -> Result<ReaderKey, CliError> {
    ReaderKey::load(path).map_err(|e| CliError::Usage(e.to_string()))
}

async fn register(args: &RegisterArgs) -> Result<Exit, CliError> {
    let key = load_key(&args.reader_key)?;
    let node = normalise_node(&args.node).map_err(CliError::Usage)?;
    let url = format!("{node}/readers");
    let target = Target::parse(&url)?;
    let body = json!({
        "ed25519PublicKey": key.ed25519_public_key,
        "x25519PublicKey": key.x25519_public_jwk.to_value(),
        "organisation": args.organisation,
        "contact": args.contact,
        "purpose": args.purpose.as_str(),
    });
    let body = serde_json::to_vec(&body)
        .map_err(|e| CliError::Usage(format!("cannot serialise the registration: {e}")))?;
    let request = Outgoing {
        method: Method::POST,
        target: &target,
        accept: JSON_ACCEPT,
        headers: vec![(CONTENT_TYPE, "application/json".into())],
        body: Some(body),
    };
    let answer = client::Answer::from_fetch(&url, fetch::send(&request).await?);
    let answer = match answer.ok() {
        Ok(a) => a,
        Err(e) => {
            let exit = output::report("hallmark reader register", &e, args.json);
            if matches!(&e, CliError::Refused { status: 409, .. }) {
                eprintln!(
                    "This key is registered with {node} already (a key registers once, and a \
                     revoked one never again). Its reader id is in {} if it was registered from \
                     here; else ask the operator for it and pass --reader-id.",
                    Sidecar::path_for(&args.reader_key).display()
                );
            }
            return Ok(exit);
        }
    };
    let v: Value = answer.json()?;
    let unexpected = |detail: String| CliError::Unexpected {
        url: url.clone(),
        detail,
    };
    let id = v["id"]
        .as_str()
        .and_then(|s| ReaderId::parse(s).ok())
        .ok_or_else(|| unexpected("no reader `id` (a UUIDv7) in the answer".into()))?;
    let fingerprint = v["fingerprint"].as_str().unwrap_or_default();
    if fingerprint != key.fingerprint {
        return Err(unexpected(format!(
            "the node answered the fingerprint {fingerprint:?}, but the key's is {}: the node \
             did not register this key (a proxy in between?). Do not have reader {id} \
             approved; tell the operator",
            key.fingerprint
        )));
    }
    let sidecar = Sidecar::path_for(&args.reader_key);
    let entry = Registration {
        node: node.clone(),
        reader_id: id.to_string(),
        registered_at: OffsetDateTime::now_utc()
            .format(&Rfc3339)
            .map_err(|e| CliError::Usage(format!("cannot read the clock: {e}")))?,
    };
    let recorded = Sidecar::record(&sidecar, entry);
    if args.json {
        println!("{}", String::from_utf8_lossy(&answer.body).trim_end());
    } else {
        Block::new()
            .kv("reader id", id.to_string())
            .kv("fingerprint", key.fingerprint.as_str())
            .field("status", &v, "status")
            .kv("node", node.as_str())
            .print();
    }
    if let Err(e) = recorded {
        return Err(CliError::Usage(format!(
            "registered as reader {id}, but {e}; pass --reader-id {id} to `hallmark reader \
             status` and `hallmark fetch`"
        )));
    }
    let advice = format!(
        "Read the fingerprint {} to the operator of {node} over a channel you both already \
         trust (e.g. call them on a number you know): they approve the reader after comparing \
         it. Until then it reads the public tier only. Recorded in {}.",
        key.fingerprint,
        sidecar.display()
    );
    if args.json {
        eprintln!("{advice}");
    } else {
        println!("\n{advice}");
    }
    Ok(Exit::Ok)
}

/// The reader id of `key_file` with `node`: `given`, else the sidecar's entry for the
/// node; exit 2 when there is none.
fn reader_id_for_node(
    given: Option<ReaderId>,
    key_file: &Path,
    node: &str,
) -> Result<ReaderId, CliError> {
    if let Some(id) = given {
        return Ok(id);
    }
    let path = Sidecar::path_for(key_file);
    let sidecar = Sidecar::load(&path).map_err(|e| CliError::Usage(e.to_string()))?;
    let entry = sidecar.for_node(node).ok_or_else(|| {
        CliError::Usage(format!(
            "{} records no registration with {node}: register first (hallmark reader register \
             --reader-key {} --node {node} …) or pass --reader-id",
            path.display(),
            key_file.display()
        ))
    })?;
    parse_reader_id(&entry.reader_id)
        .map_err(|e| CliError::Usage(format!("{}: readerId: {e}", path.display())))
}

async fn status(args: &StatusArgs) -> Result<Exit, CliError> {
    let key = load_key(&args.reader_key)?;
    let node = normalise_node(&args.node).map_err(CliError::Usage)?;
    let id = reader_id_for_node(args.reader_id, &args.reader_key, &node)?;
    let url = format!("{node}/readers/me");
    let target = Target::parse(&url)?;
    let mut request = Outgoing::get(&target, JSON_ACCEPT);
    request.headers = key
        .sign("GET", &target, &id, None)
        .map_err(|e| CliError::Usage(e.to_string()))?;
    let answer = client::Answer::from_fetch(&url, fetch::send(&request).await?).ok()?;
    if args.json {
        println!("{}", String::from_utf8_lossy(&answer.body).trim_end());
        return Ok(Exit::Ok);
    }
    let v: Value = answer.json()?;
    if !v.is_object() {
        return Err(CliError::Unexpected {
            url,
            detail: "not a JSON object".into(),
        });
    }
    status_block(&v, &node).print();
    Ok(Exit::Ok)
}

/// A grant's scope in words.
fn scope_text(scope: &Value) -> String {
    let list = |member: &str| {
        scope[member]
            .as_array()
            .map(|a| a.iter().map(text).collect::<Vec<_>>().join(", "))
            .unwrap_or_default()
    };
    match scope["kind"].as_str() {
        Some("all") => "every passport".into(),
        Some("sector") => format!("the {} sector", text(&scope["sector"])),
        Some("gtins") => format!("GTINs {}", list("gtins")),
        Some("passports") => format!("passports {}", list("passports")),
        _ => text(scope),
    }
}

/// `reader status` as text.
fn status_block(v: &Value, node: &str) -> Block {
    let mut b = Block::new()
        .field("reader id", v, "id")
        .kv("node", node)
        .field("fingerprint", v, "fingerprint")
        .field("status", v, "status")
        .field("purpose", v, "purpose");
    b = match v["encryptionKey"].as_bool() {
        Some(true) => b.kv("encryption", "X25519 key registered: answers can be sealed"),
        Some(false) => b.kv(
            "encryption",
            "no X25519 key registered: plain answers only (hallmark fetch --plain)",
        ),
        None => b,
    };
    let admitted = v["admitted"].as_bool();
    let grant = &v["grant"];
    if grant.is_object() {
        let expires = match (grant["inForce"].as_bool(), admitted, v["status"].as_str()) {
            (Some(false), _, _) | (None, Some(false), Some("approved")) => {
                format!("{} (expired)", text(&grant["expiresAt"]))
            }
            _ => text(&grant["expiresAt"]),
        };
        b = b
            .kv("tier", text(&grant["tier"]))
            .kv("scope", scope_text(&grant["scope"]))
            .kv("expires", expires);
    }
    b = match admitted {
        Some(true) => b.kv("admitted", "yes: it reads its grant now"),
        Some(false) => b.kv("admitted", "no: it reads the public tier only"),
        None => b,
    };
    if let Some(reason) = v["reason"].as_str() {
        b = b.kv("reason", reason);
    }
    match v["status"].as_str() {
        Some("registered") => b.line(
            "\nNot approved yet: the operator approves the reader after comparing its \
             fingerprint with you (read it to them). Until then it reads the public tier only.",
        ),
        Some("suspended") => b.line("\nSuspended by the operator: it reads nothing until resumed."),
        Some("revoked") => {
            b.line("\nRevoked for good: this key cannot be approved again (generate a new one).")
        }
        _ => b,
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;

    #[test]
    fn a_status_reads_as_text() {
        let v = json!({
            "id": "0193a7c2-5f10-7d2e-9a41-3b5c6d7e8f90",
            "fingerprint": "FDXD-9D1N-427Q-SY6A",
            "status": "approved",
            "purpose": "recycling",
            "encryptionKey": true,
            "grant": {
                "tier": "legitimateInterest",
                "scope": {"kind": "gtins", "gtins": ["09506000134352", "04006381333931"]},
                "expiresAt": "2027-01-01T00:00:00Z"
            },
            "admitted": true,
            "reason": null
        });
        let t = status_block(&v, "https://dpp.example.com").render();
        for want in [
            "approved",
            "legitimateInterest",
            "GTINs 09506000134352, 04006381333931",
            "2027-01-01T00:00:00Z",
            "yes: it reads its grant now",
            "answers can be sealed",
            "https://dpp.example.com",
        ] {
            assert!(t.contains(want), "{want} in\n{t}");
        }
        let v = json!({"id": "x", "status": "revoked", "reason": "ended", "encryptionKey": false});
        let t = status_block(&v, "https://n").render();
        assert!(
            t.contains("ended") && t.contains("Revoked") && t.contains("--plain"),
            "{t}"
        );
        assert!(!t.contains("tier"), "{t}");
        assert_eq!(scope_text(&json!({"kind": "all"})), "every passport");
        assert_eq!(
            scope_text(&json!({"kind": "sector", "sector": "battery"})),
            "the battery sector"
        );
    }

    #[test]
    fn purposes_are_the_core_ones() {
        use clap::builder::TypedValueParser;
        let cmd = clap::Command::new("t");
        let p = purpose_parser();
        for purpose in Purpose::ALL {
            let got = p
                .parse_ref(&cmd, None, std::ffi::OsStr::new(purpose.as_str()))
                .unwrap();
            assert_eq!(got, purpose);
        }
        assert!(p
            .parse_ref(&cmd, None, std::ffi::OsStr::new("curiosity"))
            .is_err());
    }
}
