//! API keys: a recognisable, self-checking token format.
//!
//! ```text
//! hmk_w_0a1B2c3D4e5F6g7H8i9J0k M1n2O3p4Q5r6S7t8U9v0W1x2Y3z4A5b6 3kZ9aQ
//! └┬┘ │ └──── lookup id (22) ──┘└────────── secret (32) ─────────┘└crc┘
//!  │  └ scope letter: r (read) · w (write) · a (admin)
//!  └ fixed prefix "hmk_" (Hallmark key) — what secret scanners match on
//! ```
//!
//! (written without the spaces: 66 characters, `^hmk_[rwa]_[0-9A-Za-z]{60}$`).
//!
//! - **lookup id**: 22 random base62 characters (≈131 bits). Not secret; the store indexes
//!   keys by it, and logs and audit events may show it.
//! - **secret**: 32 random base62 characters (≈190 bits). Never stored, never logged.
//! - **checksum**: CRC-32 (IEEE) of everything before it (`hmk_w_<id><secret>`), as 6 base62
//!   digits, zero-padded. It lets [`parse`](ApiKey::parse) reject typos and truncated or
//!   mangled keys without a database lookup, and lets secret scanners validate candidates
//!   offline (as GitHub's token format does). It is not a MAC: it protects nothing against
//!   an attacker.
//!
//! The node stores the lookup id and [`KeyHash`] = HMAC-SHA256 under the node's API-key
//! subkey (`hallmark_core::integrity`, derived from key custody) of the key without its
//! checksum ([`KeyHash::keyed`]). The key matters: the database never holds it, so someone
//! who can insert rows (the app role's credentials) cannot store the hash of a key they made
//! up. Keys created before that are stored as SHA-256(`"hallmark-api-key-v1:"` ‖ the key
//! without its checksum) ([`KeyHash::legacy`]) and rehashed by the node on their next use.
//! A fast hash (no password hash) is enough here: the hashed input carries
//! ≈190 bits of fresh randomness, so neither a dictionary nor brute force helps an attacker
//! who steals the table, and a slow password hash would only make every request slower.
//! Binding the scope letter and lookup id into the hash means a row can match only the
//! exact key it was made for. Comparison is constant time ([`subtle`]).

use rand_core::{CryptoRng, OsRng, RngCore};
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::fmt;
use std::str::FromStr;
use subtle::ConstantTimeEq;
use zeroize::Zeroizing;

/// The fixed prefix of every key.
pub const PREFIX: &str = "hmk_";
/// Length of the lookup id.
pub const ID_LEN: usize = 22;
/// Length of the secret.
pub const SECRET_LEN: usize = 32;
/// Length of the checksum.
pub const CHECKSUM_LEN: usize = 6;
/// Total length of a key.
pub const KEY_LEN: usize = PREFIX.len() + 2 + ID_LEN + SECRET_LEN + CHECKSUM_LEN;
/// Domain separation for [`KeyHash`].
const HASH_DOMAIN: &[u8] = b"hallmark-api-key-v1:";

const BASE62: &[u8; 62] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

/// What a key may do. Ordered: `Read < Write < Admin`; a scope allows everything below it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Scope {
    /// Read passports (all tiers), history, key lists.
    Read,
    /// Create, edit and publish passports.
    Write,
    /// Manage API keys and signing keys.
    Admin,
}

impl Scope {
    /// Every scope, ascending.
    pub const ALL: [Scope; 3] = [Scope::Read, Scope::Write, Scope::Admin];

    /// Whether a key of this scope may do what `required` needs.
    pub fn allows(self, required: Scope) -> bool {
        self >= required
    }

    /// `read`, `write` or `admin`.
    pub fn as_str(self) -> &'static str {
        match self {
            Scope::Read => "read",
            Scope::Write => "write",
            Scope::Admin => "admin",
        }
    }

    /// The letter in the key text.
    pub fn letter(self) -> char {
        match self {
            Scope::Read => 'r',
            Scope::Write => 'w',
            Scope::Admin => 'a',
        }
    }

    fn from_letter(c: u8) -> Option<Scope> {
        match c {
            b'r' => Some(Scope::Read),
            b'w' => Some(Scope::Write),
            b'a' => Some(Scope::Admin),
            _ => None,
        }
    }
}

impl fmt::Display for Scope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Scope {
    type Err = UnknownScope;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "read" => Ok(Scope::Read),
            "write" => Ok(Scope::Write),
            "admin" => Ok(Scope::Admin),
            _ => Err(UnknownScope),
        }
    }
}

/// Not `read`, `write` or `admin`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown scope (expected read, write or admin)")]
pub struct UnknownScope;

/// Why a presented string is not a well-formed key. Never contains the key text.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MalformedKey {
    /// Does not start with `hmk_`.
    #[error("API key must start with hmk_")]
    WrongPrefix,
    /// Not exactly [`KEY_LEN`] bytes.
    #[error("API key must be {KEY_LEN} characters, got {0}")]
    WrongLength(usize),
    /// The scope letter is not r, w or a (or is not followed by `_`).
    #[error("API key has an invalid scope marker")]
    BadScope,
    /// A character outside `[0-9A-Za-z]` in the id, secret or checksum.
    #[error("API key has an invalid character at position {0}")]
    BadCharacter(usize),
    /// The checksum does not match.
    #[error("API key checksum mismatch")]
    BadChecksum,
}

/// Failure to generate a key.
#[derive(Debug, thiserror::Error)]
#[error("no randomness available: {0}")]
pub struct RandomnessError(String);

/// SHA-256 of a key (see the module docs): what the store keeps.
#[derive(Clone, Copy, Eq)]
pub struct KeyHash([u8; 32]);

impl KeyHash {
    /// From stored bytes.
    pub fn from_bytes(bytes: [u8; 32]) -> Self {
        KeyHash(bytes)
    }

    /// The bytes to store.
    pub fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }

    /// Lower-case hex.
    pub fn to_hex(&self) -> String {
        hex::encode(self.0)
    }

    /// From lower- or upper-case hex.
    pub fn from_hex(s: &str) -> Option<Self> {
        let mut out = [0u8; 32];
        hex::decode_to_slice(s, &mut out).ok()?;
        Some(KeyHash(out))
    }

    /// The stored hash of a key body under the node's API-key subkey.
    pub fn keyed(keys: &hallmark_core::integrity::IntegrityKeys, body: &[u8]) -> Self {
        KeyHash(keys.api_key_hash(body))
    }

    /// The unkeyed hash keys created before row authentication were stored under.
    pub fn legacy(body: &[u8]) -> Self {
        Self::of(body)
    }

    fn of(body: &[u8]) -> Self {
        let mut h = Sha256::new();
        h.update(HASH_DOMAIN);
        h.update(body);
        KeyHash(h.finalize().into())
    }
}

impl ConstantTimeEq for KeyHash {
    fn ct_eq(&self, other: &Self) -> subtle::Choice {
        self.0.ct_eq(&other.0)
    }
}

/// Equality is constant time.
impl PartialEq for KeyHash {
    fn eq(&self, other: &Self) -> bool {
        self.ct_eq(other).into()
    }
}

impl fmt::Debug for KeyHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "KeyHash({})", self.to_hex())
    }
}

/// A freshly generated key. The full text is shown to its owner once
/// ([`expose_secret`](ApiKey::expose_secret)) and then only its lookup id and hash are kept.
pub struct ApiKey {
    text: SecretString,
    scope: Scope,
}

impl ApiKey {
    /// Generate a key from a cryptographic RNG.
    pub fn generate<R: RngCore + CryptoRng>(
        scope: Scope,
        rng: &mut R,
    ) -> Result<ApiKey, RandomnessError> {
        let mut text = Zeroizing::new(String::with_capacity(KEY_LEN));
        text.push_str(PREFIX);
        text.push(scope.letter());
        text.push('_');
        let mut buf = Zeroizing::new([0u8; 64]);
        let mut needed = ID_LEN + SECRET_LEN;
        while needed > 0 {
            rng.try_fill_bytes(buf.as_mut())
                .map_err(|e| RandomnessError(e.to_string()))?;
            for &b in buf.iter() {
                // Rejection sampling: 248 = 4 × 62, so `b % 62` is uniform below it.
                if b < 248 && needed > 0 {
                    text.push(char::from(BASE62[usize::from(b % 62)]));
                    needed -= 1;
                }
            }
        }
        let sum = crc32fast::hash(text.as_bytes());
        text.push_str(&encode_checksum(sum));
        Ok(ApiKey {
            text: SecretString::from(text.as_str()),
            scope,
        })
    }

    /// Generate a key from the operating system's RNG.
    pub fn generate_os(scope: Scope) -> Result<ApiKey, RandomnessError> {
        Self::generate(scope, &mut OsRng)
    }

    /// The full key text, to show once to its owner.
    pub fn expose_secret(&self) -> &str {
        self.text.expose_secret()
    }

    /// The scope.
    pub fn scope(&self) -> Scope {
        self.scope
    }

    /// The lookup id (not secret).
    pub fn lookup_id(&self) -> &str {
        let t = self.text.expose_secret();
        let start = PREFIX.len() + 2;
        t.get(start..start + ID_LEN).unwrap_or_default()
    }

    /// The unkeyed (legacy) hash of this key; what the node stores is [`Self::keyed_hash`].
    pub fn hash(&self) -> KeyHash {
        KeyHash::of(self.body())
    }

    /// The hash to store: keyed with the node's API-key subkey.
    pub fn keyed_hash(&self, keys: &hallmark_core::integrity::IntegrityKeys) -> KeyHash {
        KeyHash::keyed(keys, self.body())
    }

    fn body(&self) -> &[u8] {
        let t = self.text.expose_secret().as_bytes();
        &t[..KEY_LEN - CHECKSUM_LEN]
    }

    /// Parse and check a presented key: format and checksum, no database lookup.
    pub fn parse(presented: &str) -> Result<ParsedKey, MalformedKey> {
        parse(presented)
    }
}

impl fmt::Debug for ApiKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ApiKey")
            .field("scope", &self.scope)
            .field("lookup_id", &self.lookup_id())
            .field("secret", &"[REDACTED]")
            .finish()
    }
}

/// A presented key that is well formed and whose checksum matches.
pub struct ParsedKey {
    scope: Scope,
    lookup_id: String,
    /// `hmk_<s>_<id><secret>` (no checksum): what is hashed.
    body: Zeroizing<String>,
}

impl ParsedKey {
    /// The scope letter in the key text (the stored scope is authoritative).
    pub fn scope(&self) -> Scope {
        self.scope
    }

    /// The lookup id: find the stored key by it.
    pub fn lookup_id(&self) -> &str {
        &self.lookup_id
    }

    /// The secret part (32 base62 characters).
    pub fn secret(&self) -> &str {
        self.body
            .get(KEY_LEN - CHECKSUM_LEN - SECRET_LEN..)
            .unwrap_or_default()
    }

    /// Its hash, to compare with the stored one.
    pub fn hash(&self) -> KeyHash {
        KeyHash::of(self.body.as_bytes())
    }

    /// Its keyed hash, to compare with a stored keyed hash.
    pub fn keyed_hash(&self, keys: &hallmark_core::integrity::IntegrityKeys) -> KeyHash {
        KeyHash::keyed(keys, self.body.as_bytes())
    }

    /// Whether this key matches a stored hash, in constant time.
    pub fn verify(&self, stored: &KeyHash) -> bool {
        verify(stored, self)
    }
}

impl fmt::Debug for ParsedKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ParsedKey")
            .field("scope", &self.scope)
            .field("lookup_id", &self.lookup_id)
            .field("secret", &"[REDACTED]")
            .finish()
    }
}

/// Constant-time check of a presented key against a stored hash.
pub fn verify(stored: &KeyHash, presented: &ParsedKey) -> bool {
    presented.hash().ct_eq(stored).into()
}

/// Parse and check a presented key: format and checksum, no database lookup.
pub fn parse(presented: &str) -> Result<ParsedKey, MalformedKey> {
    let b = presented.as_bytes();
    if !b.starts_with(PREFIX.as_bytes()) {
        return Err(MalformedKey::WrongPrefix);
    }
    if b.len() != KEY_LEN {
        return Err(MalformedKey::WrongLength(b.len()));
    }
    let scope = Scope::from_letter(b[PREFIX.len()]).ok_or(MalformedKey::BadScope)?;
    if b[PREFIX.len() + 1] != b'_' {
        return Err(MalformedKey::BadScope);
    }
    let start = PREFIX.len() + 2;
    if let Some(pos) = b[start..].iter().position(|c| !c.is_ascii_alphanumeric()) {
        return Err(MalformedKey::BadCharacter(start + pos));
    }
    let split = KEY_LEN - CHECKSUM_LEN;
    let claimed = decode_checksum(&b[split..]).ok_or(MalformedKey::BadChecksum)?;
    if crc32fast::hash(&b[..split]) != claimed {
        return Err(MalformedKey::BadChecksum);
    }
    // All bytes are ASCII here, so these slices are on char boundaries.
    Ok(ParsedKey {
        scope,
        lookup_id: presented[start..start + ID_LEN].to_string(),
        body: Zeroizing::new(presented[..split].to_string()),
    })
}

fn encode_checksum(mut v: u32) -> String {
    let mut out = [b'0'; CHECKSUM_LEN];
    for slot in out.iter_mut().rev() {
        *slot = BASE62[(v % 62) as usize];
        v /= 62;
    }
    out.iter().map(|&c| char::from(c)).collect()
}

fn decode_checksum(digits: &[u8]) -> Option<u32> {
    let mut v: u64 = 0;
    for &c in digits {
        let d = match c {
            b'0'..=b'9' => c - b'0',
            b'A'..=b'Z' => c - b'A' + 10,
            b'a'..=b'z' => c - b'a' + 36,
            _ => return None,
        };
        v = v * 62 + u64::from(d);
    }
    u32::try_from(v).ok()
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;
    use proptest::prelude::*;

    /// Deterministic test RNG (xorshift); marked CryptoRng only for tests.
    struct TestRng(u64);
    impl rand_core::RngCore for TestRng {
        fn next_u32(&mut self) -> u32 {
            self.next_u64() as u32
        }
        fn next_u64(&mut self) -> u64 {
            self.0 ^= self.0 << 13;
            self.0 ^= self.0 >> 7;
            self.0 ^= self.0 << 17;
            self.0
        }
        fn fill_bytes(&mut self, dest: &mut [u8]) {
            for b in dest {
                *b = self.next_u64() as u8;
            }
        }
        fn try_fill_bytes(&mut self, dest: &mut [u8]) -> Result<(), rand_core::Error> {
            self.fill_bytes(dest);
            Ok(())
        }
    }
    impl rand_core::CryptoRng for TestRng {}

    fn key(seed: u64, scope: Scope) -> ApiKey {
        ApiKey::generate(scope, &mut TestRng(seed | 1)).unwrap()
    }

    #[test]
    fn round_trip_every_scope() {
        for (i, scope) in Scope::ALL.into_iter().enumerate() {
            let k = key(i as u64 + 7, scope);
            let text = k.expose_secret();
            assert_eq!(text.len(), KEY_LEN);
            assert!(text.starts_with(&format!("hmk_{}_", scope.letter())));
            let p = parse(text).unwrap();
            assert_eq!(p.scope(), scope);
            assert_eq!(p.lookup_id(), k.lookup_id());
            assert_eq!(p.lookup_id().len(), ID_LEN);
            assert_eq!(p.secret().len(), SECRET_LEN);
            assert_eq!(&text[28..60], p.secret());
            assert!(verify(&k.hash(), &p));
            assert_eq!(p.hash(), k.hash());
        }
    }

    #[test]
    fn os_rng_keys_differ() {
        let a = ApiKey::generate_os(Scope::Read).unwrap();
        let b = ApiKey::generate_os(Scope::Read).unwrap();
        assert_ne!(a.expose_secret(), b.expose_secret());
        assert_ne!(a.lookup_id(), b.lookup_id());
        assert!(parse(a.expose_secret()).is_ok());
    }

    #[test]
    fn every_single_character_mutation_is_rejected() {
        let k = key(42, Scope::Write);
        let text = k.expose_secret().to_string();
        let alphabet: Vec<char> = BASE62
            .iter()
            .map(|&c| char::from(c))
            .chain(['_', '-', ' ', '+', '/', '=', 'é'])
            .collect();
        let mut tried = 0;
        for (i, orig) in text.char_indices() {
            for &c in &alphabet {
                if c == orig {
                    continue;
                }
                let mut m = String::new();
                m.push_str(&text[..i]);
                m.push(c);
                m.push_str(&text[i + 1..]);
                assert!(parse(&m).is_err(), "mutation at {i} to {c:?} accepted");
                tried += 1;
            }
        }
        assert!(tried > 60 * 60);
    }

    #[test]
    fn checksum_mutations_report_bad_checksum() {
        let text = key(3, Scope::Read).expose_secret().to_string();
        // change one secret character (to another base62 char)
        let mut b = text.clone().into_bytes();
        b[40] = if b[40] == b'x' { b'y' } else { b'x' };
        let m = String::from_utf8(b).unwrap();
        assert_eq!(parse(&m).err(), Some(MalformedKey::BadChecksum));
        // checksum above u32::MAX
        let m = format!("{}zzzzzz", &text[..KEY_LEN - CHECKSUM_LEN]);
        assert_eq!(parse(&m).err(), Some(MalformedKey::BadChecksum));
    }

    #[test]
    fn wrong_prefix_length_charset_scope() {
        let text = key(5, Scope::Admin).expose_secret().to_string();
        assert_eq!(
            parse(&text.replacen("hmk_", "ghp_", 1)).err(),
            Some(MalformedKey::WrongPrefix)
        );
        assert_eq!(parse("").err(), Some(MalformedKey::WrongPrefix));
        assert_eq!(
            parse(&text[..KEY_LEN - 1]).err(),
            Some(MalformedKey::WrongLength(KEY_LEN - 1))
        );
        assert_eq!(
            parse(&format!("{text}0")).err(),
            Some(MalformedKey::WrongLength(KEY_LEN + 1))
        );
        let mut b = text.clone().into_bytes();
        b[4] = b'x';
        assert_eq!(
            parse(&String::from_utf8(b).unwrap()).err(),
            Some(MalformedKey::BadScope)
        );
        let mut b = text.clone().into_bytes();
        b[10] = b'-';
        assert_eq!(
            parse(&String::from_utf8(b).unwrap()).err(),
            Some(MalformedKey::BadCharacter(10))
        );
        // a multi-byte character keeping the byte length: rejected, no panic
        let m = format!("{}é{}", &text[..20], &text[22..]);
        assert_eq!(m.len(), KEY_LEN);
        assert!(parse(&m).is_err());
    }

    #[test]
    fn verify_rejects_a_difference_in_any_hash_byte() {
        let k = key(9, Scope::Read);
        let p = parse(k.expose_secret()).unwrap();
        let good = k.hash();
        assert!(verify(&good, &p));
        for i in 0..32 {
            for bit in [0x01u8, 0x80] {
                let mut bytes = *good.as_bytes();
                bytes[i] ^= bit;
                assert!(!verify(&KeyHash::from_bytes(bytes), &p), "byte {i}");
            }
        }
        // Comparison goes through subtle's ConstantTimeEq (compile-time check).
        fn uses_ct<T: ConstantTimeEq>(_: &T) {}
        uses_ct(&good);
        assert!(bool::from(
            good.ct_eq(&KeyHash::from_bytes(*good.as_bytes()))
        ));
    }

    #[test]
    fn different_keys_do_not_verify_against_each_other() {
        let a = key(11, Scope::Admin);
        let b = key(13, Scope::Admin);
        assert!(!verify(&a.hash(), &parse(b.expose_secret()).unwrap()));
    }

    #[test]
    fn hash_binds_scope_and_id() {
        let a = key(17, Scope::Read);
        let t = a.expose_secret();
        // Same id and secret with another scope letter (and a recomputed checksum).
        let body = format!("hmk_a_{}", &t[6..KEY_LEN - CHECKSUM_LEN]);
        let forged = format!(
            "{body}{}",
            encode_checksum(crc32fast::hash(body.as_bytes()))
        );
        let p = parse(&forged).unwrap();
        assert_eq!(p.lookup_id(), a.lookup_id());
        assert!(!verify(&a.hash(), &p));
    }

    #[test]
    fn debug_redacts_the_secret() {
        let k = key(21, Scope::Write);
        let p = parse(k.expose_secret()).unwrap();
        for s in [format!("{k:?}"), format!("{p:?}")] {
            assert!(!s.contains(p.secret()), "{s}");
            assert!(!s.contains(k.expose_secret()));
            assert!(s.contains("REDACTED"));
            assert!(s.contains(k.lookup_id()));
        }
    }

    #[test]
    fn hash_hex_round_trip() {
        let h = key(23, Scope::Read).hash();
        assert_eq!(KeyHash::from_hex(&h.to_hex()), Some(h));
        assert_eq!(KeyHash::from_hex("00"), None);
    }

    #[test]
    fn scope_order() {
        assert!(Scope::Admin.allows(Scope::Write));
        assert!(Scope::Admin.allows(Scope::Read));
        assert!(Scope::Write.allows(Scope::Read));
        assert!(Scope::Write.allows(Scope::Write));
        assert!(!Scope::Write.allows(Scope::Admin));
        assert!(!Scope::Read.allows(Scope::Write));
        for s in Scope::ALL {
            assert_eq!(s.as_str().parse::<Scope>(), Ok(s));
        }
        assert!("root".parse::<Scope>().is_err());
    }

    #[test]
    fn checksum_codec() {
        for v in [0u32, 1, 61, 62, 12345, u32::MAX] {
            let e = encode_checksum(v);
            assert_eq!(e.len(), CHECKSUM_LEN);
            assert_eq!(decode_checksum(e.as_bytes()), Some(v));
        }
    }

    proptest! {
        #[test]
        fn prop_generated_keys_round_trip(seed in any::<u64>(), s in 0usize..3) {
            let scope = Scope::ALL[s];
            let k = key(seed, scope);
            let p = parse(k.expose_secret()).unwrap();
            prop_assert_eq!(p.scope(), scope);
            prop_assert!(verify(&k.hash(), &p));
        }

        #[test]
        fn prop_arbitrary_strings_never_panic(s in ".{0,80}") {
            let _ = parse(&s);
        }

        #[test]
        fn prop_random_well_shaped_strings_rarely_pass(body in "[0-9A-Za-z]{60}") {
            let s = format!("hmk_r_{body}");
            if let Ok(p) = parse(&s) {
                // Only if the random checksum happens to match.
                let split = KEY_LEN - CHECKSUM_LEN;
                prop_assert_eq!(
                    decode_checksum(&s.as_bytes()[split..]),
                    Some(crc32fast::hash(&s.as_bytes()[..split]))
                );
                prop_assert_eq!(p.scope(), Scope::Read);
            }
        }
    }
}
