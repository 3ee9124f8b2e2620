//! `hallmark fetch`: a passport credential read from a node as a reader (issue 20,
//! docs/access.md, "Tools for readers"), verified, printed.
//!
//! With `--reader-key` the GET of the passport URL is signed (RFC 9421, `reader_key.rs`) and
//! asks for a sealed answer (`Accept: application/jose, …;q=0.5`; `--plain` does not): the
//! compact JWE is opened with the key file's X25519 secret (`hallmark_node::seal::open`, which
//! refuses a token for another passport or version). A reader the node has not approved yet
//! (`403 reader-not-approved`) is shown the public tier, said so on stderr. Without a key the
//! public tier is read. Whatever came, the credential is verified with `hallmark verify
//! --from`'s machinery (`verify_cmd::verify_served`, `check_status_lists`: the issuer's
//! did:web DID document, the signature, the dates, the served status, the status lists) and
//! its `id` must be the passport version asked for, in the tier served
//! (`<base>/passports/<uuid>/versions/<n>[?audience=<tier>]`). Only then is it printed on
//! stdout (the Data Integrity JSON, or the vc+jwt's payload, pretty); a summary goes to
//! stderr. A credential that does not verify prints nothing on stdout.

use crate::client::{self, CliError, Exit};
use crate::fetch::{self, Outgoing, Target};
use crate::output;
use crate::reader_cmd::{load_key, parse_reader_id};
use crate::reader_key::Sidecar;
use crate::verify_cmd::{check_status_lists, verify_served, DidSource};
use base64::{engine::general_purpose::URL_SAFE_NO_PAD, Engine as _};
use hallmark_core::passport::PassportId;
use hallmark_core::reader::ReaderId;
use hallmark_core::verify::{Check, IssuerPolicy, Outcome, Report, Verdict, VerifyOptions};
use hallmark_node::routes::public::{STATUS_HEADER, VC_JWT, VC_LD_JSON};
use hallmark_node::routes::restricted::TIER_HEADER;
use hallmark_node::seal::{self, HEADER_VERSION};
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

/// The media type of a sealed answer (a compact JWE).
pub const JOSE: &str = "application/jose";
/// The check of the credential's `id` against the URL asked and the tier served.
pub const CREDENTIAL_ID_CHECK: &str = "credential-id";
const NAME: &str = "hallmark fetch";

/// The exit codes of `hallmark fetch` (`--help`, docs/access.md).
pub const FETCH_EXIT_CODES: &str = "\
Exit codes:
  0    the credential verified; printed on stdout
  1    the credential did not verify, or a sealed answer did not open (nothing on stdout;
       the checks on stderr); an unexpected answer
  2    usage: arguments, an unreadable or invalid key file, no reader id for the URL
       (register first, or pass --reader-id), an unreadable --did-document
  3    the credential verified but is not in force (its status list says suspended or
       revoked, or the node serves the passport archived or deactivated); printed
  4    refused: 401 (unsigned-request, bad-signature, unknown-reader, replayed-request,
       signature-expired, …), 403 (reader-suspended, reader-revoked, grant-expired,
       out-of-scope)
  5    state: 404 (no such version), 410 (the passport is suspended), 406
       no-encryption-key (the reader registered no X25519 key: use --plain)
  6    server: 5xx, 429 rate-limited
  7    network: cannot connect, TLS, no answer within 30 s
  130  interrupted (Ctrl-C, SIGTERM)";

/// What `hallmark fetch` was asked.
#[derive(clap::Args)]
#[command(after_long_help = FETCH_EXIT_CODES)]
pub struct FetchArgs {
    /// The passport URL on the node's public listener: <base>/passports/<uuid> (the current
    /// version) or <base>/passports/<uuid>/versions/<n>.
    pub url: String,
    /// Read as this reader (the key file of `hallmark reader keygen`): the request is
    /// signed, and the answer sealed to the key unless --plain. Without it, the public tier.
    #[arg(long, value_name = "FILE")]
    pub reader_key: Option<PathBuf>,
    /// The reader id (else the registration recorded in <FILE>.nodes.json for the node
    /// whose base URL the URL starts with).
    #[arg(long, value_name = "UUID", requires = "reader_key", value_parser = parse_reader_id)]
    pub reader_id: Option<ReaderId>,
    /// Ask for the credential unsealed (no application/jose).
    #[arg(long, requires = "reader_key")]
    pub plain: bool,
    /// Ask for the vc+jwt form instead of the Data Integrity JSON.
    #[arg(long)]
    pub jwt: bool,
    /// The issuer's DID document (did.json) from a file instead of its did:web location.
    #[arg(long = "did-document", value_name = "FILE")]
    pub did_document: Option<PathBuf>,
    /// Development only: take the DID document from this URL instead of resolving the
    /// issuer's did:web (e.g. http://localhost:8080/.well-known/did.json for `hallmark
    /// demo`).
    #[arg(
        long = "did-document-from",
        value_name = "URL",
        conflicts_with = "did_document"
    )]
    pub did_document_from: Option<String>,
    /// Do not check validFrom / validUntil against the current time.
    #[arg(long)]
    pub skip_validity_dates: bool,
    /// Accept an issuer that is not the controller of the signing key (issuer policy
    /// `any`; the `issuer` check warns). By default a passport's issuer must control it.
    #[arg(long)]
    pub allow_foreign_issuer: bool,
}

/// Runs `hallmark fetch` (exit codes: [`FETCH_EXIT_CODES`]).
pub fn run(args: &FetchArgs) -> ExitCode {
    output::run(NAME, false, execute(args))
}

/// A passport URL taken apart.
#[derive(Debug, Clone, PartialEq, Eq)]
struct PassportUrl {
    target: Target,
    /// The node's public base URL (before `/passports/`).
    base: String,
    passport: PassportId,
    /// The version of a `…/versions/<n>` URL.
    version: Option<u32>,
}

impl PassportUrl {
    fn parse(url: &str) -> Result<PassportUrl, CliError> {
        let target = Target::parse(url.trim())?;
        let usage = |why: &str| {
            CliError::Usage(format!(
                "{url}: {why}; give <base>/passports/<uuid> or <base>/passports/<uuid>/versions/<n>"
            ))
        };
        let at = target
            .path
            .rfind("/passports/")
            .ok_or_else(|| usage("not a passport URL"))?;
        let rest = &target.path[at + "/passports/".len()..];
        let (id, version) = match rest.split('/').collect::<Vec<_>>().as_slice() {
            [id] => (*id, None),
            [id, "versions", n] => {
                let n = n
                    .parse::<u32>()
                    .ok()
                    .filter(|n| *n > 0)
                    .ok_or_else(|| usage("the version is not a positive number"))?;
                (*id, Some(n))
            }
            _ => return Err(usage("not a passport URL")),
        };
        let uuid = id.strip_prefix("urn:uuid:").unwrap_or(id);
        let passport = PassportId::parse(&format!("urn:uuid:{}", uuid.to_ascii_lowercase()))
            .map_err(|e| usage(&format!("the passport id: {e}")))?;
        let base = format!(
            "{}://{}{}",
            target.scheme(),
            target.authority,
            &target.path[..at]
        );
        Ok(PassportUrl {
            target,
            base,
            passport,
            version,
        })
    }
}

/// How the credential came.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Delivery {
    /// A JWE sealed to the reader's key, opened.
    Sealed,
    /// Signed request, plain answer.
    Plain,
    /// Unsigned request: the public tier.
    Public,
}

/// A credential as served, before verification.
#[derive(Debug)]
struct Served {
    bytes: Vec<u8>,
    /// `public`, `legitimateInterest` or `authority`.
    tier: String,
    delivery: Delivery,
    /// The version, when the URL or the sealed header says it.
    version: Option<u32>,
    /// `Hallmark-Passport-Status`.
    status: Option<String>,
}

/// Why a sealed answer could not be opened.
#[derive(Debug, thiserror::Error)]
pub enum SealedError {
    /// The protected header cannot be read.
    #[error("the sealed answer's protected header is not base64url JSON")]
    Header,
    /// Neither the URL nor the header gives the version.
    #[error("the sealed answer's protected header has no {HEADER_VERSION} (a version number)")]
    NoVersion,
    /// `open` refused it.
    #[error("the sealed answer does not open: {0}")]
    Open(#[from] seal::SealError),
}

/// A sealed answer opened: the credential's bytes, its media type (`cty`) and version.
#[derive(Debug)]
struct Opened {
    bytes: Vec<u8>,
    cty: Option<String>,
    version: u32,
}

/// Opens the compact JWE `jwe` sealed to `secret` for `passport`: at `version` when the
/// URL named one, else at the version its protected header names (`dpp_ver`; decryption
/// authenticates the header, and `open` refuses one for another passport).
fn open_sealed(
    jwe: &str,
    secret: &x25519_dalek::StaticSecret,
    passport: &PassportId,
    version: Option<u32>,
) -> Result<Opened, SealedError> {
    let first = jwe.trim().split('.').next().unwrap_or_default();
    let header: Value = URL_SAFE_NO_PAD
        .decode(first)
        .ok()
        .and_then(|b| serde_json::from_slice(&b).ok())
        .ok_or(SealedError::Header)?;
    let version = match version {
        Some(v) => v,
        None => header[HEADER_VERSION]
            .as_u64()
            .and_then(|v| u32::try_from(v).ok())
            .ok_or(SealedError::NoVersion)?,
    };
    let bytes = seal::open(jwe, secret, passport, version)?;
    Ok(Opened {
        bytes,
        cty: header["cty"].as_str().map(str::to_owned),
        version,
    })
}

/// The media type of an answer, without parameters, lower case.
fn media_type(answer: &client::Answer) -> String {
    answer
        .header("content-type")
        .unwrap_or_default()
        .split(';')
        .next()
        .unwrap_or_default()
        .trim()
        .to_ascii_lowercase()
}

/// The reader id for `url`: `given`, else the sidecar's registration with the node whose
/// base URL `url` lies under; exit 2 when there is none.
fn reader_id_for_url(
    given: Option<ReaderId>,
    key_file: &Path,
    url: &PassportUrl,
) -> Result<ReaderId, CliError> {
    if let Some(id) = given {
        return Ok(id);
    }
    let path = Sidecar::path_for(key_file);
    let sidecar = Sidecar::load(&path).map_err(|e| CliError::Usage(e.to_string()))?;
    let entry = sidecar.for_url(&url.target.target_uri()).ok_or_else(|| {
        CliError::Usage(format!(
            "{} records no registration with a node that {} lies under: register first \
             (hallmark reader register --reader-key {} --node {} …) or pass --reader-id",
            path.display(),
            url.target.url,
            key_file.display(),
            url.base
        ))
    })?;
    parse_reader_id(&entry.reader_id)
        .map_err(|e| CliError::Usage(format!("{}: readerId: {e}", path.display())))
}

/// The public tier: an unsigned GET.
async fn public(url: &PassportUrl, accept: &str) -> Result<Served, CliError> {
    let answer = fetch::send(&Outgoing::get(&url.target, accept)).await?;
    let answer = client::Answer::from_fetch(&url.target.url, answer).ok()?;
    Ok(Served {
        bytes: answer.body.to_vec(),
        tier: "public".into(),
        delivery: Delivery::Public,
        version: url.version,
        status: answer.header(STATUS_HEADER).map(str::to_owned),
    })
}

/// The signed GET as reader `reader`, sealed unless `plain`; the public tier when the node
/// says the reader is not approved yet.
async fn signed(
    url: &PassportUrl,
    key_file: &Path,
    reader: Option<ReaderId>,
    form: &str,
    plain: bool,
) -> Result<Served, CliError> {
    let key = load_key(key_file)?;
    let reader = reader_id_for_url(reader, key_file, url)?;
    let accept = if plain {
        form.to_owned()
    } else {
        format!("{JOSE}, {form};q=0.5")
    };
    let mut request = Outgoing::get(&url.target, &accept);
    request.headers = key
        .sign("GET", &url.target, &reader, None)
        .map_err(|e| CliError::Usage(e.to_string()))?;
    let answer = client::Answer::from_fetch(&url.target.url, fetch::send(&request).await?);
    if answer.status == 403 && answer.slug().as_deref() == Some("reader-not-approved") {
        eprintln!(
            "{NAME}: reader {reader} is registered with {} but not approved yet \
             (reader-not-approved): the public tier is shown",
            url.base
        );
        return public(url, form).await;
    }
    let answer = answer.ok()?;
    let status = answer.header(STATUS_HEADER).map(str::to_owned);
    let tier = match answer.header(TIER_HEADER) {
        Some(t) => t.to_owned(),
        None => {
            eprintln!(
                "{NAME}: the answer names no tier (no Hallmark-Access-Tier): a shared cache in \
                 front of the node may have answered with the public credential"
            );
            "public".to_owned()
        }
    };
    let unexpected = |detail: String| CliError::Unexpected {
        url: url.target.url.clone(),
        detail,
    };
    match media_type(&answer).as_str() {
        JOSE => {
            let jwe = std::str::from_utf8(&answer.body)
                .map_err(|_| unexpected("the sealed answer is not text".into()))?;
            let opened = open_sealed(jwe, key.x25519_secret(), &url.passport, url.version)
                .map_err(|e| unexpected(e.to_string()))?;
            let expected = if form == VC_JWT { VC_JWT } else { VC_LD_JSON };
            if let Some(cty) = opened.cty.as_deref().filter(|c| *c != expected) {
                eprintln!("{NAME}: the sealed credential is {cty}, not {expected}");
            }
            Ok(Served {
                bytes: opened.bytes,
                tier,
                delivery: Delivery::Sealed,
                version: Some(opened.version),
                status,
            })
        }
        VC_LD_JSON | VC_JWT | "application/json" => {
            if !plain {
                eprintln!(
                    "{NAME}: the node answered unsealed (it does not seal, or not to this reader)"
                );
            }
            Ok(Served {
                bytes: answer.body.to_vec(),
                tier,
                delivery: Delivery::Plain,
                version: url.version,
                status,
            })
        }
        other => Err(unexpected(format!(
            "a 200 answer of media type {other:?}, not a credential"
        ))),
    }
}

/// The `credential-id` check: the credential is passport `url`'s version `version` (any
/// when `None`), in `tier`'s audience, issued under the URL's base. Also returns the
/// version the id names.
fn id_check(
    credential: Option<&Value>,
    url: &PassportUrl,
    tier: &str,
    version: Option<u32>,
) -> (Check, Option<u32>) {
    let check = |outcome| Check {
        name: CREDENTIAL_ID_CHECK,
        outcome,
    };
    let id = credential.and_then(|c| c.get("id").or_else(|| c.pointer("/vc/id")));
    let Some(id) = id.and_then(Value::as_str) else {
        return (
            check(Outcome::Fail("the credential has no id".into())),
            None,
        );
    };
    let prefix = format!(
        "{}/passports/{}/versions/",
        url.base,
        url.passport.uuid().hyphenated()
    );
    let audience = match tier {
        "public" => None,
        t => Some(format!("audience={t}")),
    };
    let expected = format!(
        "{prefix}{}{}",
        version.map_or_else(|| "<n>".to_owned(), |v| v.to_string()),
        audience
            .as_deref()
            .map(|a| format!("?{a}"))
            .unwrap_or_default()
    );
    let named = id.strip_prefix(prefix.as_str()).and_then(|rest| {
        let (n, query) = match rest.split_once('?') {
            Some((n, q)) => (n, Some(q)),
            None => (rest, None),
        };
        let n = n.parse::<u32>().ok().filter(|n| *n > 0)?;
        (query == audience.as_deref() && version.is_none_or(|v| v == n)).then_some(n)
    });
    match named {
        Some(n) => (
            check(Outcome::Pass(format!(
                "{id} (version {n}, {tier} tier, as asked)"
            ))),
            Some(n),
        ),
        None => (
            check(Outcome::Fail(format!(
                "the credential is {id}, not {expected}"
            ))),
            None,
        ),
    }
}

/// The credential as printed: the Data Integrity JSON, or the vc+jwt's payload, pretty.
fn printable(bytes: &[u8], report: &Report) -> Option<String> {
    let value = serde_json::from_slice::<Value>(bytes)
        .ok()
        .filter(Value::is_object)
        .or_else(|| report.credential.clone())?;
    serde_json::to_string_pretty(&value).ok()
}

async fn execute(args: &FetchArgs) -> Result<Exit, CliError> {
    let url = PassportUrl::parse(&args.url)?;
    let form = if args.jwt { VC_JWT } else { VC_LD_JSON };
    let served = match &args.reader_key {
        Some(key_file) => signed(&url, key_file, args.reader_id, form, args.plain).await,
        None => public(&url, form).await,
    };
    let served = match served {
        Ok(s) => s,
        Err(e) => {
            let exit = output::report(NAME, &e, false);
            if matches!(&e, CliError::Refused { slug: Some(s), .. } if s == "no-encryption-key") {
                eprintln!(
                    "The reader registered no X25519 key, so nothing can be sealed to it: \
                     fetch with --plain."
                );
            }
            return Ok(exit);
        }
    };
    let options = VerifyOptions {
        now: (!args.skip_validity_dates).then(time::OffsetDateTime::now_utc),
        issuer_policy: if args.allow_foreign_issuer {
            IssuerPolicy::Any
        } else {
            IssuerPolicy::MustBeController
        },
        ..VerifyOptions::default()
    };
    let did = DidSource {
        file: args.did_document.as_deref(),
        from: args.did_document_from.as_deref(),
    };
    let (mut report, doc) = verify_served(
        &served.bytes,
        &url.target.url,
        served.status.as_deref(),
        did,
        &options,
    )
    .await
    .map_err(CliError::Usage)?;
    if let Some(doc) = &doc {
        check_status_lists(&mut report, Vec::new(), args.jwt, doc, options.now).await;
    }
    let (check, version) = id_check(
        report.credential.as_ref(),
        &url,
        &served.tier,
        served.version,
    );
    report.checks.push(check);
    let verdict = report.verdict();
    let printed = match (&verdict, printable(&served.bytes, &report)) {
        (Verdict::Invalid, _) | (_, None) => {
            eprintln!("{report}");
            eprintln!("{NAME}: the credential did not verify: nothing printed");
            return Ok(Exit::Unexpected);
        }
        (_, Some(text)) => text,
    };
    println!("{printed}");
    let delivery = match served.delivery {
        Delivery::Sealed => "sealed to the reader's key",
        Delivery::Plain => "signed request, unsealed answer",
        Delivery::Public => "unsigned request",
    };
    let signer = report
        .verification_method
        .as_deref()
        .map(|m| format!(" by {m}"))
        .unwrap_or_default();
    let version = version.map_or_else(|| "?".to_owned(), |v| v.to_string());
    match verdict {
        Verdict::NotInForce(status) => {
            eprintln!(
                "{NAME}: {} tier, version {version}, {delivery}; verified{signer}, but NOT IN \
                 FORCE: {status}",
                served.tier
            );
            Ok(Exit::Invalid)
        }
        _ => {
            eprintln!(
                "{NAME}: {} tier, version {version}, {delivery}; verified{signer}",
                served.tier
            );
            Ok(Exit::Ok)
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;
    use serde_json::json;

    const UUID: &str = "0190f1d2-7c3e-7a4b-9c1d-2e3f4a5b6c7d";

    fn passport() -> PassportId {
        PassportId::parse(&format!("urn:uuid:{UUID}")).unwrap()
    }

    #[test]
    fn passport_urls_give_base_id_and_version() {
        let u = PassportUrl::parse(&format!(
            "HTTPS://Dpp.Example.com:443/dpp/passports/{UUID}/versions/3"
        ))
        .unwrap();
        assert_eq!(u.base, "https://dpp.example.com/dpp");
        assert_eq!(u.passport, passport());
        assert_eq!(u.version, Some(3));
        let u = PassportUrl::parse(&format!("http://127.0.0.1:8080/passports/urn:uuid:{UUID}"))
            .unwrap();
        assert_eq!(u.base, "http://127.0.0.1:8080");
        assert_eq!(u.version, None);
        for bad in [
            format!("https://x/passport/{UUID}"),
            format!("https://x/passports/{UUID}/versions/0"),
            format!("https://x/passports/{UUID}/versions/x"),
            format!("https://x/passports/{UUID}/aas"),
            "https://x/passports/not-a-uuid".to_owned(),
            format!("ftp://x/passports/{UUID}"),
        ] {
            assert!(
                matches!(PassportUrl::parse(&bad), Err(CliError::Usage(_))),
                "{bad}"
            );
        }
    }

    #[test]
    fn the_credential_id_must_be_the_version_and_tier_asked() {
        let url = PassportUrl::parse(&format!("https://n.example/passports/{UUID}")).unwrap();
        let id = |s: &str| json!({ "id": s });
        let v1 = format!("https://n.example/passports/{UUID}/versions/1");
        let pass = |c: &Value, tier, version| {
            let (check, n) = id_check(Some(c), &url, tier, version);
            matches!(check.outcome, Outcome::Pass(_)).then_some(n)
        };
        assert_eq!(pass(&id(&v1), "public", None), Some(Some(1)));
        assert_eq!(pass(&id(&v1), "public", Some(1)), Some(Some(1)));
        assert_eq!(pass(&id(&v1), "public", Some(2)), None);
        let li = format!("{v1}?audience=legitimateInterest");
        assert_eq!(pass(&id(&li), "legitimateInterest", Some(1)), Some(Some(1)));
        // The public credential where a tier was served, and the other way round.
        assert_eq!(pass(&id(&v1), "legitimateInterest", None), None);
        assert_eq!(pass(&id(&li), "public", None), None);
        assert_eq!(pass(&id(&li), "authority", None), None);
        // Another passport, another node, a JWT payload in the VC 1.1 shape.
        let other = "https://n.example/passports/0190f1d2-7c3e-7a4b-9c1d-2e3f4a5b6c7e/versions/1";
        assert_eq!(pass(&id(other), "public", None), None);
        assert_eq!(
            pass(&id(&v1.replace("n.example", "m.example")), "public", None),
            None
        );
        assert_eq!(
            pass(&json!({ "vc": { "id": v1 } }), "public", None),
            Some(Some(1))
        );
        assert_eq!(pass(&json!({}), "public", None), None);
    }

    /// A sealed answer opens with the reader's secret only, for the passport and version
    /// asked, and not at all once a byte of it changed.
    #[test]
    fn a_tampered_or_misaddressed_sealed_answer_does_not_open() {
        use hallmark_core::jwk::X25519PublicJwk;
        let secret = x25519_dalek::StaticSecret::from([5u8; 32]);
        let public =
            X25519PublicJwk::from_bytes(*x25519_dalek::PublicKey::from(&secret).as_bytes());
        let credential = br#"{"id":"x"}"#;
        let jwe = seal::seal(credential, &public, &passport(), 2, VC_LD_JSON).unwrap();

        // The current-version URL: the version comes from the header.
        let opened = open_sealed(&jwe, &secret, &passport(), None).unwrap();
        assert_eq!(opened.bytes, credential);
        assert_eq!(opened.version, 2);
        assert_eq!(opened.cty.as_deref(), Some(VC_LD_JSON));
        assert!(open_sealed(&jwe, &secret, &passport(), Some(2)).is_ok());

        // Another version, another passport, another key.
        assert!(matches!(
            open_sealed(&jwe, &secret, &passport(), Some(1)),
            Err(SealedError::Open(seal::SealError::WrongVersion { .. }))
        ));
        let other = PassportId::parse("urn:uuid:0190f1d2-7c3e-7a4b-9c1d-2e3f4a5b6c7e").unwrap();
        assert!(matches!(
            open_sealed(&jwe, &secret, &other, None),
            Err(SealedError::Open(seal::SealError::WrongPassport { .. }))
        ));
        let stranger = x25519_dalek::StaticSecret::from([6u8; 32]);
        assert!(matches!(
            open_sealed(&jwe, &stranger, &passport(), None),
            Err(SealedError::Open(seal::SealError::Decrypt))
        ));

        // A byte of the ciphertext or of the tag changed.
        let segments: Vec<&str> = jwe.split('.').collect();
        for at in [3usize, 4] {
            let mut raw = URL_SAFE_NO_PAD.decode(segments[at]).unwrap();
            raw[0] ^= 1;
            let mut s: Vec<String> = segments.iter().map(|s| (*s).to_owned()).collect();
            s[at] = URL_SAFE_NO_PAD.encode(raw);
            let tampered = s.join(".");
            assert!(matches!(
                open_sealed(&tampered, &secret, &passport(), None),
                Err(SealedError::Open(seal::SealError::Decrypt))
            ));
        }
        // The header's version changed (it is the AEAD's additional data).
        let mut header: Value =
            serde_json::from_slice(&URL_SAFE_NO_PAD.decode(segments[0]).unwrap()).unwrap();
        header["dpp_ver"] = json!(3);
        let mut s: Vec<String> = segments.iter().map(|s| (*s).to_owned()).collect();
        s[0] = URL_SAFE_NO_PAD.encode(serde_json::to_vec(&header).unwrap());
        assert!(open_sealed(&s.join("."), &secret, &passport(), None).is_err());
        assert!(matches!(
            open_sealed("not a jwe", &secret, &passport(), None),
            Err(SealedError::Header)
        ));
    }
}
