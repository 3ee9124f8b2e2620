//! C2SP `tlog-checkpoint` bodies carried in C2SP `signed-note`s, signed with Ed25519.
//!
//! A checkpoint body (the note text) is:
//!
//! ```text
//! <origin>\n
//! <tree size, ASCII decimal, no leading zeros>\n
//! <base64 (RFC 4648 §4, padded) of the 32-byte RFC 6962 root>\n
//! [<non-empty extension line>\n ...]
//! ```
//!
//! A signed note is the text, a blank line, then one or more signature lines
//! `— <key name> <base64(key ID ‖ signature)>\n` (em dash U+2014, space). For Ed25519 the
//! key ID is the first four bytes of `SHA-256(key name ‖ 0x0A ‖ 0x01 ‖ public key)` and the
//! signature is RFC 8032 Ed25519 over the note text (including its final newline, not the
//! blank line). A verifier key is shared as `<name>+<8 hex digits key ID>+<base64(0x01 ‖
//! public key)>`.
//!
//! Verifying: a verifier knows (key name, public key). It parses the note, ignores every
//! signature line whose (name, key ID) is not its key, verifies each that is, rejects the
//! note if any of those fails or if none is present, and only then parses the text as a
//! checkpoint. Hallmark names its log key after the log origin, so [`verify_checkpoint`]
//! also requires `origin == key name`.

use super::merkle::Hash;
use crate::keys::{Signer, SignerError};
use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine as _;
use ed25519_dalek::{Signature, VerifyingKey};
use sha2::{Digest, Sha256};
use std::fmt;

/// Largest note accepted, in bytes. The spec asks verifiers to accept at least 16
/// signatures, post-quantum ones included (~5 kB each); 256 KiB leaves ample room.
pub const MAX_NOTE_BYTES: usize = 256 * 1024;
/// Most signature lines accepted in one note (the spec's floor is 16).
pub const MAX_SIGNATURES: usize = 64;
/// Signature type byte for Ed25519 (c2sp.org/signed-note).
pub const ED25519_SIGNATURE_TYPE: u8 = 0x01;
const SIG_PREFIX: &str = "\u{2014} ";

/// Errors parsing, signing or verifying notes and checkpoints.
#[derive(Debug, thiserror::Error, Clone, PartialEq, Eq)]
pub enum CheckpointError {
    /// The note is larger than [`MAX_NOTE_BYTES`].
    #[error("note is {0} bytes, more than the {MAX_NOTE_BYTES} allowed")]
    NoteTooLarge(usize),
    /// The note has more than [`MAX_SIGNATURES`] signature lines.
    #[error("note has more than {MAX_SIGNATURES} signatures")]
    TooManySignatures,
    /// A control character other than newline.
    #[error("note contains a control character other than newline")]
    ControlCharacter,
    /// No blank line separating text and signatures, or the note does not end in newline.
    #[error("malformed note: {0}")]
    MalformedNote(&'static str),
    /// A signature line is malformed.
    #[error("malformed signature line: {0}")]
    MalformedSignature(&'static str),
    /// Key names are non-empty and contain no Unicode space and no '+'.
    #[error("invalid key name")]
    InvalidKeyName,
    /// A verifier key string is malformed.
    #[error("malformed verifier key: {0}")]
    MalformedVerifierKey(&'static str),
    /// The key ID in a verifier key does not match its name and key.
    #[error("verifier key ID does not match the key name and public key")]
    VerifierKeyIdMismatch,
    /// No signature from the expected key.
    #[error("no signature from key {0}")]
    NoKnownSignature(String),
    /// A signature from the expected key does not verify.
    #[error("signature from key {0} does not verify")]
    BadSignature(String),
    /// The checkpoint text is malformed.
    #[error("malformed checkpoint: {0}")]
    MalformedCheckpoint(&'static str),
    /// The checkpoint origin is not the expected log.
    #[error("checkpoint origin {found:?} is not the expected {expected:?}")]
    OriginMismatch {
        /// The expected origin (the key name).
        expected: String,
        /// The origin in the checkpoint.
        found: String,
    },
    /// The signer failed.
    #[error(transparent)]
    Signer(#[from] SignerError),
}

type Result<T> = std::result::Result<T, CheckpointError>;

/// A checkpoint: the log's origin, tree size and root, plus optional extension lines.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Checkpoint {
    /// The log identity, e.g. `passports.example.com/log`.
    pub origin: String,
    /// Number of leaves.
    pub size: u64,
    /// RFC 6962 root of the first `size` leaves.
    pub root: Hash,
    /// Opaque, non-empty extension lines (not recommended; Hallmark writes none).
    pub extensions: Vec<String>,
}

impl Checkpoint {
    /// A checkpoint without extension lines.
    pub fn new(origin: impl Into<String>, size: u64, root: Hash) -> Self {
        Self {
            origin: origin.into(),
            size,
            root,
            extensions: Vec::new(),
        }
    }

    /// The note text. Fails if the origin or an extension line is empty or contains a
    /// newline or control character.
    pub fn to_text(&self) -> Result<String> {
        let line_ok = |l: &str| !l.is_empty() && !l.chars().any(|c| c < ' ');
        if !line_ok(&self.origin) {
            return Err(CheckpointError::MalformedCheckpoint("invalid origin line"));
        }
        if !self.extensions.iter().all(|l| line_ok(l)) {
            return Err(CheckpointError::MalformedCheckpoint(
                "invalid extension line",
            ));
        }
        let mut s = format!(
            "{}\n{}\n{}\n",
            self.origin,
            self.size,
            B64.encode(self.root)
        );
        for l in &self.extensions {
            s.push_str(l);
            s.push('\n');
        }
        Ok(s)
    }

    /// Parse a note text as a checkpoint.
    pub fn parse_text(text: &str) -> Result<Self> {
        let body = text
            .strip_suffix('\n')
            .ok_or(CheckpointError::MalformedCheckpoint(
                "text must end in newline",
            ))?;
        let mut lines = body.split('\n');
        let origin = lines
            .next()
            .filter(|l| !l.is_empty())
            .ok_or(CheckpointError::MalformedCheckpoint("missing origin"))?;
        let size_line = lines
            .next()
            .ok_or(CheckpointError::MalformedCheckpoint("missing tree size"))?;
        if size_line.is_empty()
            || !size_line.bytes().all(|b| b.is_ascii_digit())
            || (size_line.len() > 1 && size_line.starts_with('0'))
        {
            return Err(CheckpointError::MalformedCheckpoint("invalid tree size"));
        }
        let size = size_line
            .parse::<u64>()
            .map_err(|_| CheckpointError::MalformedCheckpoint("tree size out of range"))?;
        let root_line = lines
            .next()
            .ok_or(CheckpointError::MalformedCheckpoint("missing root hash"))?;
        let root = B64
            .decode(root_line)
            .ok()
            .and_then(|b| Hash::try_from(b.as_slice()).ok())
            .ok_or(CheckpointError::MalformedCheckpoint("invalid root hash"))?;
        let extensions: Vec<String> = lines.map(str::to_owned).collect();
        if extensions.iter().any(String::is_empty) {
            return Err(CheckpointError::MalformedCheckpoint("empty extension line"));
        }
        Ok(Self {
            origin: origin.to_owned(),
            size,
            root,
            extensions,
        })
    }
}

/// One signature line of a note.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NoteSignature {
    /// The key name.
    pub name: String,
    /// The 32-bit key ID.
    pub key_id: u32,
    /// The signature bytes (after the key ID).
    pub signature: Vec<u8>,
}

impl NoteSignature {
    fn line(&self) -> String {
        let mut raw = Vec::with_capacity(4 + self.signature.len());
        raw.extend_from_slice(&self.key_id.to_be_bytes());
        raw.extend_from_slice(&self.signature);
        format!("{SIG_PREFIX}{} {}\n", self.name, B64.encode(raw))
    }
}

/// A parsed (not yet verified) signed note.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignedNote {
    /// The note text, including its final newline.
    pub text: String,
    /// The signature lines, in order.
    pub signatures: Vec<NoteSignature>,
}

impl SignedNote {
    /// Parse a signed note, enforcing the format and the size limits. Signatures are not
    /// verified here.
    pub fn parse(msg: &str) -> Result<Self> {
        if msg.len() > MAX_NOTE_BYTES {
            return Err(CheckpointError::NoteTooLarge(msg.len()));
        }
        if msg.chars().any(|c| c < ' ' && c != '\n') {
            return Err(CheckpointError::ControlCharacter);
        }
        let split = msg.rfind("\n\n").ok_or(CheckpointError::MalformedNote(
            "no blank line before signatures",
        ))?;
        let (text, sigs) = (&msg[..=split], &msg[split + 2..]);
        if sigs.is_empty() || !sigs.ends_with('\n') {
            return Err(CheckpointError::MalformedNote(
                "signature block must be non-empty and end in newline",
            ));
        }
        let mut signatures = Vec::new();
        for line in sigs[..sigs.len() - 1].split('\n') {
            if signatures.len() == MAX_SIGNATURES {
                return Err(CheckpointError::TooManySignatures);
            }
            let rest = line
                .strip_prefix(SIG_PREFIX)
                .ok_or(CheckpointError::MalformedSignature(
                    "missing em dash prefix",
                ))?;
            let (name, b64) = rest
                .split_once(' ')
                .ok_or(CheckpointError::MalformedSignature("missing signature"))?;
            check_key_name(name)?;
            let raw = B64
                .decode(b64)
                .map_err(|_| CheckpointError::MalformedSignature("invalid base64"))?;
            if raw.len() < 5 {
                return Err(CheckpointError::MalformedSignature("signature too short"));
            }
            let (id, sig) = raw.split_at(4);
            signatures.push(NoteSignature {
                name: name.to_owned(),
                key_id: u32::from_be_bytes([id[0], id[1], id[2], id[3]]),
                signature: sig.to_vec(),
            });
        }
        Ok(Self {
            text: text.to_owned(),
            signatures,
        })
    }

    /// Encode as a signed note.
    pub fn encode(&self) -> String {
        let mut s = String::with_capacity(self.text.len() + 1 + 128 * self.signatures.len());
        s.push_str(&self.text);
        s.push('\n');
        for sig in &self.signatures {
            s.push_str(&sig.line());
        }
        s
    }

    /// Verify the note against one trusted key: signatures from other keys are ignored,
    /// any signature from this key must verify, and at least one must be present.
    pub fn verify(&self, key: &VerifierKey) -> Result<()> {
        let mut found = false;
        for s in &self.signatures {
            if s.name != key.name || s.key_id != key.key_id {
                continue;
            }
            let sig = Signature::from_slice(&s.signature)
                .map_err(|_| CheckpointError::BadSignature(key.name.clone()))?;
            key.key
                .verify_strict(self.text.as_bytes(), &sig)
                .map_err(|_| CheckpointError::BadSignature(key.name.clone()))?;
            found = true;
        }
        if found {
            Ok(())
        } else {
            Err(CheckpointError::NoKnownSignature(key.name.clone()))
        }
    }

    /// Add (or replace) this signer's signature over the text.
    pub fn sign(&mut self, key_name: &str, signer: &dyn Signer) -> Result<()> {
        check_key_name(key_name)?;
        check_text(&self.text)?;
        let key_id = key_id(key_name, &signer.verifying_key());
        let sig = signer.sign(self.text.as_bytes())?;
        self.signatures
            .retain(|s| !(s.name == key_name && s.key_id == key_id));
        self.signatures.push(NoteSignature {
            name: key_name.to_owned(),
            key_id,
            signature: sig.to_bytes().to_vec(),
        });
        Ok(())
    }
}

fn check_key_name(name: &str) -> Result<()> {
    if name.is_empty() || name.contains('+') || name.chars().any(char::is_whitespace) {
        return Err(CheckpointError::InvalidKeyName);
    }
    Ok(())
}

fn check_text(text: &str) -> Result<()> {
    if text.is_empty() || !text.ends_with('\n') {
        return Err(CheckpointError::MalformedNote(
            "text must be non-empty and end in newline",
        ));
    }
    if text.chars().any(|c| c < ' ' && c != '\n') {
        return Err(CheckpointError::ControlCharacter);
    }
    Ok(())
}

/// The signed-note key ID of an Ed25519 key:
/// `SHA-256(name ‖ 0x0A ‖ 0x01 ‖ public key)[:4]`, big-endian.
pub fn key_id(name: &str, key: &VerifyingKey) -> u32 {
    let mut h = Sha256::new();
    h.update(name.as_bytes());
    h.update([b'\n', ED25519_SIGNATURE_TYPE]);
    h.update(key.as_bytes());
    let d = h.finalize();
    u32::from_be_bytes([d[0], d[1], d[2], d[3]])
}

/// A named Ed25519 verifier key, as shared in the signed-note vkey format
/// `<name>+<hex key ID>+<base64(0x01 ‖ public key)>`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifierKey {
    name: String,
    key_id: u32,
    key: VerifyingKey,
}

impl VerifierKey {
    /// The verifier key for a name and public key.
    pub fn new(name: &str, key: VerifyingKey) -> Result<Self> {
        check_key_name(name)?;
        Ok(Self {
            name: name.to_owned(),
            key_id: key_id(name, &key),
            key,
        })
    }

    /// Parse `<name>+<hex key ID>+<base64(0x01 ‖ public key)>`, checking the key ID.
    pub fn parse(s: &str) -> Result<Self> {
        // Only the first two '+' separate fields: the base64 key may itself contain '+'.
        let mut parts = s.splitn(3, '+');
        let (Some(name), Some(id), Some(b64)) = (parts.next(), parts.next(), parts.next()) else {
            return Err(CheckpointError::MalformedVerifierKey(
                "expected name+keyid+key",
            ));
        };
        check_key_name(name)?;
        if id.len() != 8 || !id.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(CheckpointError::MalformedVerifierKey(
                "key ID must be 8 hex digits",
            ));
        }
        let id = u32::from_str_radix(id, 16)
            .map_err(|_| CheckpointError::MalformedVerifierKey("invalid key ID"))?;
        let raw = B64
            .decode(b64)
            .map_err(|_| CheckpointError::MalformedVerifierKey("invalid base64"))?;
        let Some((&ED25519_SIGNATURE_TYPE, key)) = raw.split_first() else {
            return Err(CheckpointError::MalformedVerifierKey(
                "not an Ed25519 (0x01) key",
            ));
        };
        let key = <[u8; 32]>::try_from(key)
            .ok()
            .and_then(|k| VerifyingKey::from_bytes(&k).ok())
            .ok_or(CheckpointError::MalformedVerifierKey(
                "invalid Ed25519 public key",
            ))?;
        let vk = Self::new(name, key)?;
        if vk.key_id != id {
            return Err(CheckpointError::VerifierKeyIdMismatch);
        }
        Ok(vk)
    }

    /// The key name.
    pub fn name(&self) -> &str {
        &self.name
    }
    /// The key ID.
    pub fn key_id(&self) -> u32 {
        self.key_id
    }
    /// The public key.
    pub fn verifying_key(&self) -> &VerifyingKey {
        &self.key
    }
}

impl fmt::Display for VerifierKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut raw = Vec::with_capacity(33);
        raw.push(ED25519_SIGNATURE_TYPE);
        raw.extend_from_slice(self.key.as_bytes());
        write!(f, "{}+{:08x}+{}", self.name, self.key_id, B64.encode(raw))
    }
}

/// Sign arbitrary note text: returns the signed note.
pub fn sign_note(text: &str, key_name: &str, signer: &dyn Signer) -> Result<String> {
    let mut note = SignedNote {
        text: text.to_owned(),
        signatures: Vec::new(),
    };
    note.sign(key_name, signer)?;
    Ok(note.encode())
}

/// Open a signed note with one trusted key; returns the verified text.
pub fn open_note(msg: &str, key: &VerifierKey) -> Result<String> {
    let note = SignedNote::parse(msg)?;
    note.verify(key)?;
    Ok(note.text)
}

/// Sign a checkpoint with the log key, producing a signed note. Hallmark uses the origin
/// as the key name.
pub fn sign_checkpoint(
    checkpoint: &Checkpoint,
    key_name: &str,
    signer: &dyn Signer,
) -> Result<String> {
    sign_note(&checkpoint.to_text()?, key_name, signer)
}

/// Verify a signed checkpoint against the log key `(key_name, key)` and parse it. The
/// checkpoint's origin must equal `key_name`.
pub fn verify_checkpoint(note: &str, key_name: &str, key: &VerifyingKey) -> Result<Checkpoint> {
    let vk = VerifierKey::new(key_name, *key)?;
    let text = open_note(note, &vk)?;
    let cp = Checkpoint::parse_text(&text)?;
    if cp.origin != key_name {
        return Err(CheckpointError::OriginMismatch {
            expected: key_name.to_owned(),
            found: cp.origin,
        });
    }
    Ok(cp)
}
