//! A reader's key file read back (`hallmark reader keygen` wrote it), the RFC 9421 signature
//! of its requests (docs/access.md, "What to sign"), and the registrations it holds on nodes,
//! recorded in a sidecar beside it (`<key file>.nodes.json`: nothing secret, `0644`).
//!
//! The secrets are held in zeroizing types from the moment they are read (the file's bytes,
//! the base64url strings, the decoded bytes, the keys) and never printed: no error message
//! quotes the file's content, and [`ReaderKey`]'s `Debug` shows its public half only.

use crate::fetch::Target;
use base64::{engine::general_purpose::URL_SAFE_NO_PAD, Engine as _};
use ed25519_dalek::SigningKey;
use hallmark_core::httpsig::{self, Covered, RequestParts, SignatureParams};
use hallmark_core::jwk::X25519PublicJwk;
use hallmark_core::reader::ReaderId;
use hyper::header::HeaderName;
use rand_core::{OsRng, RngCore};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use zeroize::Zeroizing;

/// The `format` member of a reader key file.
pub const FORMAT: &str = "hallmark-reader-key";
/// The `version` member of a reader key file.
pub const VERSION: u32 = 1;
/// How long a signature is valid: `expires` = `created` + this, in seconds (the node allows
/// at most 300).
pub const SIGNATURE_LIFETIME: i64 = 60;
/// The sidecar's name: the key file's name followed by this.
pub const SIDECAR_SUFFIX: &str = ".nodes.json";

/// Why a key file cannot be used. No variant quotes the file's content.
#[derive(Debug, thiserror::Error)]
pub enum KeyFileError {
    /// The file cannot be read.
    #[error("{}: cannot read the reader key file: {source}", path.display())]
    Read {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// Group or others can access it.
    #[error(
        "{}: the reader key file can be read by group or others (mode {mode:o}); \
         run chmod 600 on it", path.display()
    )]
    Permissions {
        /// The file.
        path: PathBuf,
        /// Its permission bits.
        mode: u32,
    },
    /// Not the JSON of a key file (where, never what).
    #[error("{}: not a reader key file (JSON {what} error at line {line}, column {column})", path.display())]
    Json {
        /// The file.
        path: PathBuf,
        /// The kind of error (syntax, data, …).
        what: String,
        /// Where.
        line: usize,
        /// Where.
        column: usize,
    },
    /// Another format or version.
    #[error(
        "{}: format {format:?} version {version} is not a reader key file this hallmark reads \
         ({FORMAT:?} version {VERSION})", path.display()
    )]
    Format {
        /// The file.
        path: PathBuf,
        /// Its `format`.
        format: String,
        /// Its `version`.
        version: u64,
    },
    /// A member is not 32 bytes in base64url.
    #[error("{}: {member} is not 32 bytes in base64url", path.display())]
    Encoding {
        /// The file.
        path: PathBuf,
        /// The member.
        member: &'static str,
    },
    /// A public member does not derive from the secret one.
    #[error(
        "{}: {public} does not match {secret} (the file is damaged or was edited)",
        path.display()
    )]
    Mismatch {
        /// The file.
        path: PathBuf,
        /// The public member.
        public: &'static str,
        /// The secret member it should derive from.
        secret: &'static str,
    },
}

/// Why a request could not be signed.
#[derive(Debug, thiserror::Error)]
pub enum SignError {
    /// The operating system's random generator failed (no nonce).
    #[error("the operating system's random generator failed")]
    Random,
    /// The signer refused the request (e.g. a component that does not serialise).
    #[error("cannot sign the request: {0}")]
    Sign(#[from] httpsig::HttpSigError),
}

/// The members of a key file this reads; others (`created`, `fingerprint`) are ignored.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct KeyFileIn {
    format: String,
    version: u64,
    ed25519_seed: Zeroizing<String>,
    x25519_secret: Zeroizing<String>,
    ed25519_public_key: String,
    x25519_public_jwk: Value,
}

/// A reader's keys, checked: the public members derive from the secrets.
pub struct ReaderKey {
    signing: SigningKey,
    x25519: x25519_dalek::StaticSecret,
    /// The raw Ed25519 public key, base64url: what registers the reader.
    pub ed25519_public_key: String,
    /// The X25519 public key: what answers are sealed to.
    pub x25519_public_jwk: X25519PublicJwk,
    /// `hallmark_core::httpsig::fingerprint` of the Ed25519 key.
    pub fingerprint: String,
}

impl std::fmt::Debug for ReaderKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ReaderKey")
            .field("ed25519_public_key", &self.ed25519_public_key)
            .field("fingerprint", &self.fingerprint)
            .finish_non_exhaustive()
    }
}

fn decode_32(
    path: &Path,
    member: &'static str,
    text: &str,
) -> Result<Zeroizing<[u8; 32]>, KeyFileError> {
    let bad = || KeyFileError::Encoding {
        path: path.to_path_buf(),
        member,
    };
    let bytes = Zeroizing::new(URL_SAFE_NO_PAD.decode(text.trim()).map_err(|_| bad())?);
    let mut out = Zeroizing::new([0u8; 32]);
    if bytes.len() != 32 {
        return Err(bad());
    }
    out.copy_from_slice(&bytes);
    Ok(out)
}

impl ReaderKey {
    /// Reads and checks the key file at `path`: readable by its owner only, format
    /// `hallmark-reader-key` version 1, and public keys that derive from its secrets.
    ///
    /// # Errors
    /// [`KeyFileError`], naming the file and the member at fault, never a value.
    pub fn load(path: &Path) -> Result<ReaderKey, KeyFileError> {
        let meta = std::fs::metadata(path).map_err(|source| KeyFileError::Read {
            path: path.to_path_buf(),
            source,
        })?;
        let mode = meta.permissions().mode() & 0o777;
        if mode & 0o077 != 0 {
            return Err(KeyFileError::Permissions {
                path: path.to_path_buf(),
                mode,
            });
        }
        let bytes = Zeroizing::new(std::fs::read(path).map_err(|source| KeyFileError::Read {
            path: path.to_path_buf(),
            source,
        })?);
        Self::from_json(path, &bytes)
    }

    /// [`load`](Self::load) of bytes already read (`path` names them in errors).
    fn from_json(path: &Path, bytes: &[u8]) -> Result<ReaderKey, KeyFileError> {
        let file: KeyFileIn = serde_json::from_slice(bytes).map_err(|e| KeyFileError::Json {
            path: path.to_path_buf(),
            what: format!("{:?}", e.classify()).to_lowercase(),
            line: e.line(),
            column: e.column(),
        })?;
        if file.format != FORMAT || file.version != u64::from(VERSION) {
            return Err(KeyFileError::Format {
                path: path.to_path_buf(),
                format: file.format,
                version: file.version,
            });
        }
        let mismatch = |public, secret| KeyFileError::Mismatch {
            path: path.to_path_buf(),
            public,
            secret,
        };
        let seed = decode_32(path, "ed25519Seed", &file.ed25519_seed)?;
        let signing = SigningKey::from_bytes(&seed);
        let public = decode_32(path, "ed25519PublicKey", &file.ed25519_public_key)?;
        if signing.verifying_key().as_bytes() != &*public {
            return Err(mismatch("ed25519PublicKey", "ed25519Seed"));
        }
        let secret = decode_32(path, "x25519Secret", &file.x25519_secret)?;
        let x25519 = x25519_dalek::StaticSecret::from(*secret);
        let jwk = X25519PublicJwk::from_value(&file.x25519_public_jwk)
            .map_err(|_| mismatch("x25519PublicJwk", "x25519Secret"))?;
        if x25519_dalek::PublicKey::from(&x25519).as_bytes() != jwk.as_bytes() {
            return Err(mismatch("x25519PublicJwk", "x25519Secret"));
        }
        Ok(ReaderKey {
            fingerprint: httpsig::fingerprint(&signing.verifying_key()),
            ed25519_public_key: URL_SAFE_NO_PAD.encode(signing.verifying_key().as_bytes()),
            x25519_public_jwk: jwk,
            signing,
            x25519,
        })
    }

    /// The Ed25519 key, as the signer of a presentation's proof (`hallmark present`). It
    /// stays in this struct (zeroized on drop); nothing prints it.
    pub fn signing_key(&self) -> &SigningKey {
        &self.signing
    }

    /// The X25519 secret that opens sealed answers.
    pub fn x25519_secret(&self) -> &x25519_dalek::StaticSecret {
        &self.x25519
    }

    /// The header fields that sign `method target` (with `body`, its `Content-Digest` too)
    /// as reader `reader`, created now, valid [`SIGNATURE_LIFETIME`] seconds, with a fresh
    /// 128-bit nonce: `Signature-Input` and `Signature` over `"@method" "@target-uri"`
    /// (and `"content-digest"`), tag `hallmark-reader` (docs/access.md, "What to sign").
    ///
    /// # Errors
    /// [`SignError`].
    pub fn sign(
        &self,
        method: &str,
        target: &Target,
        reader: &ReaderId,
        body: Option<&[u8]>,
    ) -> Result<Vec<(HeaderName, String)>, SignError> {
        let created = time::OffsetDateTime::now_utc().unix_timestamp();
        self.sign_at(method, target, reader, body, created, &nonce()?)
    }

    fn sign_at(
        &self,
        method: &str,
        target: &Target,
        reader: &ReaderId,
        body: Option<&[u8]>,
        created: i64,
        nonce: &str,
    ) -> Result<Vec<(HeaderName, String)>, SignError> {
        let mut parts = RequestParts::new(
            method,
            target.scheme(),
            &target.authority,
            &target.path,
            target.query.as_deref(),
        );
        let mut headers = Vec::with_capacity(3);
        if let Some(body) = body {
            let digest = httpsig::content_digest(body);
            parts = parts.with_header("content-digest", &digest).with_body(body);
            headers.push((HeaderName::from_static("content-digest"), digest));
        }
        let params = SignatureParams::hallmark(
            created,
            created + SIGNATURE_LIFETIME,
            nonce,
            &reader.to_string(),
        );
        let signed = httpsig::sign(
            &parts,
            &Covered::for_request(&parts),
            &params,
            &self.signing,
        )?;
        headers.push((
            HeaderName::from_static("signature-input"),
            signed.signature_input,
        ));
        headers.push((HeaderName::from_static("signature"), signed.signature));
        Ok(headers)
    }
}

/// 16 random bytes, base64url (22 characters).
fn nonce() -> Result<String, SignError> {
    let mut bytes = [0u8; 16];
    OsRng
        .try_fill_bytes(&mut bytes)
        .map_err(|_| SignError::Random)?;
    Ok(URL_SAFE_NO_PAD.encode(bytes))
}

/// A node's public base URL as recorded and compared: scheme, host (lower case), a port
/// only when not the default, the path without a trailing `/`.
///
/// # Errors
/// A message when `url` is not an http(s) URL, or has a user name, a query or a fragment.
pub fn normalise_node(url: &str) -> Result<String, String> {
    let parsed =
        reqwest::Url::parse(url.trim()).map_err(|e| format!("{url:?}: not a URL ({e})"))?;
    if !parsed.username().is_empty() || parsed.password().is_some() {
        return Err("the node URL holds a user name or password; give its public base URL".into());
    }
    if parsed.query().is_some() || parsed.fragment().is_some() {
        return Err(format!(
            "{url:?}: give the node's public base URL, without a query or fragment"
        ));
    }
    let target = Target::parse(url.trim()).map_err(|e| e.to_string())?;
    Ok(format!(
        "{}://{}{}",
        target.scheme(),
        target.authority,
        target.path.trim_end_matches('/')
    ))
}

/// One registration of the key with a node.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Registration {
    /// The node's public base URL ([`normalise_node`]).
    pub node: String,
    /// The reader id the node gave.
    pub reader_id: String,
    /// When (RFC 3339).
    pub registered_at: String,
}

/// The sidecar: the nodes the key is registered with.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Sidecar {
    /// One entry per node.
    pub nodes: Vec<Registration>,
}

/// Why the sidecar cannot be read or written.
#[derive(Debug, thiserror::Error)]
pub enum SidecarError {
    /// It exists but cannot be read.
    #[error("{}: cannot read: {source}", path.display())]
    Read {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// It is not a sidecar.
    #[error("{}: not a registrations file ({source})", path.display())]
    Json {
        /// The file.
        path: PathBuf,
        /// Why.
        source: serde_json::Error,
    },
    /// It cannot be written.
    #[error("cannot record the registration: {0}")]
    Write(#[from] hallmark_keys::KeysError),
}

impl Sidecar {
    /// The sidecar of the key file `key`: `<key>.nodes.json`.
    pub fn path_for(key: &Path) -> PathBuf {
        let mut name = key.as_os_str().to_owned();
        name.push(SIDECAR_SUFFIX);
        PathBuf::from(name)
    }

    /// Reads the sidecar at `path`; none yet is an empty one.
    ///
    /// # Errors
    /// [`SidecarError::Read`], [`SidecarError::Json`].
    pub fn load(path: &Path) -> Result<Sidecar, SidecarError> {
        match std::fs::read(path) {
            Ok(bytes) => serde_json::from_slice(&bytes).map_err(|source| SidecarError::Json {
                path: path.to_path_buf(),
                source,
            }),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Sidecar::default()),
            Err(source) => Err(SidecarError::Read {
                path: path.to_path_buf(),
                source,
            }),
        }
    }

    /// Records `entry` (replacing the entry of the same node) and writes the sidecar at
    /// `path` atomically, `0644`.
    ///
    /// # Errors
    /// [`SidecarError`].
    pub fn record(path: &Path, entry: Registration) -> Result<Sidecar, SidecarError> {
        let mut sidecar = Sidecar::load(path)?;
        sidecar.nodes.retain(|r| r.node != entry.node);
        sidecar.nodes.push(entry);
        let mut bytes =
            serde_json::to_vec_pretty(&sidecar).map_err(|source| SidecarError::Json {
                path: path.to_path_buf(),
                source,
            })?;
        bytes.push(b'\n');
        hallmark_keys::keystore::write_public_file_atomically(path, &bytes)?;
        Ok(sidecar)
    }

    /// The registration with the node whose base URL is `node` (normalised).
    pub fn for_node(&self, node: &str) -> Option<&Registration> {
        self.nodes.iter().find(|r| r.node == node)
    }

    /// The registration with the node under whose base URL `url` (normalised: a
    /// [`Target::target_uri`]) lies; the longest base URL wins.
    pub fn for_url(&self, url: &str) -> Option<&Registration> {
        self.nodes
            .iter()
            .filter(|r| {
                url.strip_prefix(r.node.as_str())
                    .is_some_and(|rest| rest.starts_with('/'))
            })
            .max_by_key(|r| r.node.len())
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;
    use serde_json::json;

    fn file(seed: [u8; 32], x: [u8; 32]) -> Value {
        let signing = SigningKey::from_bytes(&seed);
        let xs = x25519_dalek::StaticSecret::from(x);
        let xp = x25519_dalek::PublicKey::from(&xs);
        json!({
            "format": FORMAT,
            "version": VERSION,
            "created": "2026-01-01T00:00:00Z",
            "ed25519Seed": URL_SAFE_NO_PAD.encode(seed),
            "x25519Secret": URL_SAFE_NO_PAD.encode(x),
            "ed25519PublicKey": URL_SAFE_NO_PAD.encode(signing.verifying_key().as_bytes()),
            "fingerprint": httpsig::fingerprint(&signing.verifying_key()),
            "x25519PublicJwk": {"kty": "OKP", "crv": "X25519", "x": URL_SAFE_NO_PAD.encode(xp.as_bytes())},
        })
    }

    fn load(v: &Value) -> Result<ReaderKey, KeyFileError> {
        ReaderKey::from_json(Path::new("k.json"), &serde_json::to_vec(v).unwrap())
    }

    #[test]
    fn a_key_file_is_read_and_checked_and_no_error_quotes_a_secret() {
        let good = file([7; 32], [8; 32]);
        let key = load(&good).unwrap();
        assert_eq!(key.ed25519_public_key, good["ed25519PublicKey"]);
        assert_eq!(key.fingerprint, good["fingerprint"]);
        let seed = good["ed25519Seed"].as_str().unwrap().to_owned();
        let secret = good["x25519Secret"].as_str().unwrap().to_owned();
        assert!(!format!("{key:?}").contains(&seed));

        let mut cases = Vec::new();
        let mut v = good.clone();
        v["format"] = json!("age");
        cases.push((v, "format"));
        let mut v = good.clone();
        v["version"] = json!(2);
        cases.push((v, "version 2"));
        let mut v = good.clone();
        v["ed25519PublicKey"] = file([9; 32], [8; 32])["ed25519PublicKey"].clone();
        cases.push((v, "ed25519PublicKey does not match ed25519Seed"));
        let mut v = good.clone();
        v["x25519PublicJwk"] = file([7; 32], [1; 32])["x25519PublicJwk"].clone();
        cases.push((v, "x25519PublicJwk does not match x25519Secret"));
        let mut v = good.clone();
        v["ed25519Seed"] = json!(format!("{seed}AA"));
        cases.push((v, "ed25519Seed is not 32 bytes"));
        // A secret where a number belongs: the error says where, not what.
        let mut v = good.clone();
        v["version"] = json!(secret.clone());
        cases.push((v, "line 1"));
        let mut v = good.clone();
        v.as_object_mut().unwrap().remove("x25519Secret");
        cases.push((v, "data error"));
        for (v, want) in cases {
            let e = load(&v).unwrap_err().to_string();
            assert!(e.contains(want), "{e} (want {want})");
            assert!(!e.contains(&seed) && !e.contains(&secret), "{e}");
        }
    }

    #[test]
    fn signatures_cover_the_method_and_the_target_uri_as_sent() {
        let key = load(&file([7; 32], [8; 32])).unwrap();
        let reader: ReaderId = "0193a7c2-5f10-7d2e-9a41-3b5c6d7e8f90".parse().unwrap();
        let target = Target::parse("HTTPS://DPP.Example.com:443/dpp/passports/x?a=b#frag").unwrap();
        assert_eq!(
            target.target_uri(),
            "https://dpp.example.com/dpp/passports/x?a=b"
        );
        let headers = key
            .sign_at(
                "GET",
                &target,
                &reader,
                None,
                1_800_000_000,
                "tDq0xJ7yQ2mZ9kLr5vW8cA",
            )
            .unwrap();
        let input = &headers[0].1;
        assert_eq!(
            input,
            "hallmark=(\"@method\" \"@target-uri\");created=1800000000;expires=1800000060;\
             nonce=\"tDq0xJ7yQ2mZ9kLr5vW8cA\";keyid=\"0193a7c2-5f10-7d2e-9a41-3b5c6d7e8f90\";\
             alg=\"ed25519\";tag=\"hallmark-reader\""
        );
        // The node's view of the same request verifies it.
        let parts = RequestParts::new(
            "GET",
            "https",
            "dpp.example.com",
            "/dpp/passports/x",
            Some("a=b"),
        )
        .with_header("signature-input", input)
        .with_header("signature", &headers[1].1);
        httpsig::parse(&parts)
            .unwrap()
            .verify(
                &parts,
                &SigningKey::from_bytes(&[7; 32]).verifying_key(),
                1_800_000_010,
                &httpsig::Policy::default(),
            )
            .unwrap();
        // With a body: its digest, covered.
        let headers = key
            .sign_at(
                "POST",
                &target,
                &reader,
                Some(&b"{}"[..]),
                1_800_000_000,
                "n".repeat(22).as_str(),
            )
            .unwrap();
        assert_eq!(headers[0].0.as_str(), "content-digest");
        assert!(headers[1].1.contains("\"content-digest\""));
        let n1 = nonce().unwrap();
        assert_eq!(n1.len(), 22);
        assert_ne!(n1, nonce().unwrap());
    }

    #[test]
    fn node_urls_are_normalised_and_urls_find_their_node() {
        assert_eq!(
            normalise_node("HTTPS://Dpp.Example.com:443/dpp/").unwrap(),
            "https://dpp.example.com/dpp"
        );
        assert_eq!(
            normalise_node("http://127.0.0.1:8080").unwrap(),
            "http://127.0.0.1:8080"
        );
        for bad in [
            "ftp://x",
            "https://u:p@x",
            "https://x/?q=1",
            "https://x/#f",
            "x",
        ] {
            assert!(normalise_node(bad).is_err(), "{bad}");
        }
        let entry = |node: &str, id: &str| Registration {
            node: node.into(),
            reader_id: id.into(),
            registered_at: "2026-01-01T00:00:00Z".into(),
        };
        let sidecar = Sidecar {
            nodes: vec![
                entry("https://a.example", "1"),
                entry("https://a.example/dpp", "2"),
                entry("https://a.example/dp", "3"),
            ],
        };
        let id = |url: &str| sidecar.for_url(url).map(|r| r.reader_id.as_str());
        assert_eq!(id("https://a.example/dpp/passports/x"), Some("2"));
        assert_eq!(id("https://a.example/passports/x"), Some("1"));
        assert_eq!(id("https://a.example.org/passports/x"), None);
        assert_eq!(
            sidecar
                .for_node("https://a.example")
                .map(|r| r.reader_id.as_str()),
            Some("1")
        );
    }

    #[test]
    fn the_sidecar_is_written_atomically_world_readable_and_updated_per_node() {
        let dir = tempfile::tempdir().unwrap();
        let key = dir.path().join("reader.json");
        let path = Sidecar::path_for(&key);
        assert_eq!(path, dir.path().join("reader.json.nodes.json"));
        assert_eq!(Sidecar::load(&path).unwrap(), Sidecar::default());
        let entry = |node: &str, id: &str| Registration {
            node: node.into(),
            reader_id: id.into(),
            registered_at: "2026-01-01T00:00:00Z".into(),
        };
        Sidecar::record(&path, entry("https://a.example", "1")).unwrap();
        Sidecar::record(&path, entry("https://b.example", "2")).unwrap();
        let s = Sidecar::record(&path, entry("https://a.example", "3")).unwrap();
        assert_eq!(s, Sidecar::load(&path).unwrap());
        assert_eq!(
            s.nodes,
            vec![
                entry("https://b.example", "2"),
                entry("https://a.example", "3")
            ]
        );
        let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o644);
        let v: Value = serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
        assert_eq!(v["nodes"][1]["readerId"], "3");
        assert_eq!(v["nodes"][1]["registeredAt"], "2026-01-01T00:00:00Z");
        // Nothing else is left in the directory (no temporary file).
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
    }
}
