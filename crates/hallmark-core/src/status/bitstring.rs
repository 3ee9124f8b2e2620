//! The bits of one status list and their `encodedList` form.

use super::{StatusError, LIST_SIZE};
use base64::Engine as _;
use flate2::read::GzDecoder;
use flate2::write::GzEncoder;
use flate2::Compression;
use std::fmt;
use std::io::{Read as _, Write as _};

/// Bytes in one list: [`LIST_SIZE`] / 8 = 16,384.
pub const LIST_BYTES: usize = (LIST_SIZE / 8) as usize;

/// The longest `encodedList` read, in characters. A list of random bits compresses to a
/// little over [`LIST_BYTES`] (GZIP stores incompressible data with a few bytes of framing),
/// which base64 makes about 21,900 characters; anything longer is refused unread.
pub const MAX_ENCODED_LEN: usize = 32_768;

/// The [`LIST_SIZE`] bits of one status list. Bit `i` is bit `7 − i mod 8` of byte `i / 8`:
/// index 0 is the left-most (most significant) bit of the first byte, as the specification
/// lays the bitstring out (§2.2, §7.1).
#[derive(Clone, PartialEq, Eq)]
pub struct BitstringStatusList {
    bytes: Vec<u8>,
}

impl fmt::Debug for BitstringStatusList {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BitstringStatusList")
            .field("set", &self.count_set())
            .finish()
    }
}

impl Default for BitstringStatusList {
    fn default() -> Self {
        Self::new()
    }
}

fn position(index: u32) -> Result<(usize, u8), StatusError> {
    if index >= LIST_SIZE {
        return Err(StatusError::IndexOutOfRange(index.into()));
    }
    Ok(((index / 8) as usize, 0x80 >> (index % 8)))
}

impl BitstringStatusList {
    /// A list with every bit clear.
    pub fn new() -> Self {
        BitstringStatusList {
            bytes: vec![0; LIST_BYTES],
        }
    }

    /// A list from its raw bytes (exactly [`LIST_BYTES`]).
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, StatusError> {
        if bytes.len() != LIST_BYTES {
            return Err(StatusError::Length(Some(bytes.len())));
        }
        Ok(BitstringStatusList {
            bytes: bytes.to_vec(),
        })
    }

    /// The raw bytes ([`LIST_BYTES`] of them).
    pub fn as_bytes(&self) -> &[u8] {
        &self.bytes
    }

    /// The bit at `index`.
    pub fn get(&self, index: u32) -> Result<bool, StatusError> {
        let (byte, mask) = position(index)?;
        Ok(self.bytes.get(byte).is_some_and(|b| b & mask != 0))
    }

    /// Sets or clears the bit at `index`.
    pub fn set(&mut self, index: u32, value: bool) -> Result<(), StatusError> {
        let (byte, mask) = position(index)?;
        let b = self
            .bytes
            .get_mut(byte)
            .ok_or(StatusError::IndexOutOfRange(index.into()))?;
        if value {
            *b |= mask;
        } else {
            *b &= !mask;
        }
        Ok(())
    }

    /// How many bits are set.
    pub fn count_set(&self) -> u32 {
        self.bytes.iter().map(|b| b.count_ones()).sum()
    }

    /// The `encodedList` value: `u` + base64url (no padding) of the GZIP (RFC 1952) of the
    /// bytes. Deterministic: the GZIP header carries no time or name.
    pub fn encode(&self) -> Result<String, StatusError> {
        let mut gz = GzEncoder::new(Vec::new(), Compression::best());
        gz.write_all(&self.bytes)
            .map_err(|e| StatusError::Compress(e.to_string()))?;
        let compressed = gz
            .finish()
            .map_err(|e| StatusError::Compress(e.to_string()))?;
        let mut out = String::with_capacity(1 + compressed.len().div_ceil(3) * 4);
        out.push('u');
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode_string(&compressed, &mut out);
        Ok(out)
    }

    /// Reads an `encodedList`. Refuses, each with its own [`StatusError`]: another
    /// multibase prefix than `u`, more than [`MAX_ENCODED_LEN`] characters, anything but
    /// base64url without padding, data that is not one valid GZIP member (header, deflate
    /// data, CRC-32 and length trailer), and a list that inflates to another size than
    /// [`LIST_BYTES`] — inflating stops one byte past a list, so a small input cannot make
    /// it allocate more.
    pub fn decode(encoded: &str) -> Result<Self, StatusError> {
        let Some(b64) = encoded.strip_prefix('u') else {
            return Err(StatusError::Multibase);
        };
        if encoded.len() > MAX_ENCODED_LEN {
            return Err(StatusError::EncodedTooLong(encoded.len()));
        }
        let compressed = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(b64)
            .map_err(|_| StatusError::Base64)?;
        let mut bytes = Vec::with_capacity(LIST_BYTES);
        GzDecoder::new(compressed.as_slice())
            .take(LIST_BYTES as u64 + 1)
            .read_to_end(&mut bytes)
            .map_err(|e| StatusError::Gzip(e.to_string()))?;
        if bytes.len() > LIST_BYTES {
            return Err(StatusError::Length(None));
        }
        if bytes.len() != LIST_BYTES {
            return Err(StatusError::Length(Some(bytes.len())));
        }
        Ok(BitstringStatusList { bytes })
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;

    fn gzip_b64(data: &[u8]) -> String {
        let mut gz = GzEncoder::new(Vec::new(), Compression::best());
        gz.write_all(data).unwrap();
        format!(
            "u{}",
            base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(gz.finish().unwrap())
        )
    }

    #[test]
    fn bit_zero_is_the_most_significant_bit_of_byte_zero() {
        let mut l = BitstringStatusList::new();
        l.set(0, true).unwrap();
        assert_eq!(l.as_bytes()[0], 0x80);
        l.set(7, true).unwrap();
        assert_eq!(l.as_bytes()[0], 0x81);
        l.set(8, true).unwrap();
        assert_eq!(l.as_bytes()[1], 0x80);
        l.set(LIST_SIZE - 1, true).unwrap();
        assert_eq!(l.as_bytes()[LIST_BYTES - 1], 0x01);
        assert_eq!(l.count_set(), 4);
        l.set(0, false).unwrap();
        assert_eq!(l.as_bytes()[0], 0x01);
        assert!(!l.get(0).unwrap());
        assert!(l.get(7).unwrap());
        assert_eq!(
            l.set(LIST_SIZE, true),
            Err(StatusError::IndexOutOfRange(LIST_SIZE.into()))
        );
        assert_eq!(
            l.get(u32::MAX),
            Err(StatusError::IndexOutOfRange(u32::MAX.into()))
        );
    }

    #[test]
    fn from_bytes_wants_exactly_one_list() {
        assert!(BitstringStatusList::from_bytes(&[0; LIST_BYTES]).is_ok());
        assert_eq!(
            BitstringStatusList::from_bytes(&[0; 10]),
            Err(StatusError::Length(Some(10)))
        );
        let mut raw = vec![0u8; LIST_BYTES];
        raw[2] = 0b0010_0000;
        assert!(BitstringStatusList::from_bytes(&raw)
            .unwrap()
            .get(18)
            .unwrap());
    }

    #[test]
    fn encode_is_deterministic_and_decodes() {
        let mut l = BitstringStatusList::new();
        l.set(94_567, true).unwrap();
        let a = l.encode().unwrap();
        assert_eq!(a, l.encode().unwrap());
        assert!(a.starts_with("uH4sI"), "{a}");
        assert!(a.len() < 200, "a sparse list compresses well: {}", a.len());
        assert_eq!(BitstringStatusList::decode(&a).unwrap(), l);
    }

    #[test]
    fn a_list_of_random_bits_still_fits_the_encoded_cap() {
        // A simple LCG: compressible by no one.
        let mut x = 0x2545_f491_4f6c_dd1du64;
        let bytes: Vec<u8> = (0..LIST_BYTES)
            .map(|_| {
                x = x.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1);
                (x >> 56) as u8
            })
            .collect();
        let l = BitstringStatusList::from_bytes(&bytes).unwrap();
        let e = l.encode().unwrap();
        assert!(e.len() < MAX_ENCODED_LEN, "{}", e.len());
        assert_eq!(BitstringStatusList::decode(&e).unwrap(), l);
    }

    #[test]
    fn decode_refuses_what_is_not_one_list() {
        let good = BitstringStatusList::new().encode().unwrap();
        // Another multibase base (z = base58btc, m = base64 with padding) or none.
        assert_eq!(
            BitstringStatusList::decode(&format!("z{}", &good[1..])),
            Err(StatusError::Multibase)
        );
        assert_eq!(
            BitstringStatusList::decode(&good[1..]),
            Err(StatusError::Multibase)
        );
        assert_eq!(BitstringStatusList::decode(""), Err(StatusError::Multibase));
        // Not base64url: standard alphabet, padding, stray characters.
        for bad in ["uH4sI+AAA", "uH4sIAA==", "uH4s IAAA", "uH4sI/AAA"] {
            assert_eq!(
                BitstringStatusList::decode(bad),
                Err(StatusError::Base64),
                "{bad}"
            );
        }
        // Base64url, but not GZIP.
        assert!(matches!(
            BitstringStatusList::decode("uAAAAAAAAAAAAAAAAAAA"),
            Err(StatusError::Gzip(_))
        ));
        // GZIP cut short (no trailer).
        let cut = {
            let raw = base64::engine::general_purpose::URL_SAFE_NO_PAD
                .decode(&good[1..])
                .unwrap();
            format!(
                "u{}",
                base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(&raw[..raw.len() - 6])
            )
        };
        assert!(matches!(
            BitstringStatusList::decode(&cut),
            Err(StatusError::Gzip(_))
        ));
        // Valid GZIP of the wrong size: one byte short, one byte over, the old 16 KB minimum
        // doubled.
        assert_eq!(
            BitstringStatusList::decode(&gzip_b64(&[0; LIST_BYTES - 1])),
            Err(StatusError::Length(Some(LIST_BYTES - 1)))
        );
        assert_eq!(
            BitstringStatusList::decode(&gzip_b64(&[0; LIST_BYTES + 1])),
            Err(StatusError::Length(None))
        );
        assert_eq!(
            BitstringStatusList::decode(&gzip_b64(&[])),
            Err(StatusError::Length(Some(0)))
        );
        // Too long to read at all.
        let long = format!("u{}", "A".repeat(MAX_ENCODED_LEN));
        assert_eq!(
            BitstringStatusList::decode(&long),
            Err(StatusError::EncodedTooLong(MAX_ENCODED_LEN + 1))
        );
    }

    #[test]
    fn a_decompression_bomb_stops_one_byte_past_a_list() {
        // 32 MiB of zeros compress to about 32 KiB; the cap on the encoded length refuses it
        // unread, and a smaller bomb inflates no more than one list plus a byte.
        let bomb = gzip_b64(&vec![0u8; 32 << 20]);
        assert!(matches!(
            BitstringStatusList::decode(&bomb),
            Err(StatusError::EncodedTooLong(_))
        ));
        let small_bomb = gzip_b64(&vec![0u8; 8 << 20]);
        assert!(small_bomb.len() < MAX_ENCODED_LEN, "{}", small_bomb.len());
        assert_eq!(
            BitstringStatusList::decode(&small_bomb),
            Err(StatusError::Length(None))
        );
    }

    #[test]
    fn a_gzip_checksum_mismatch_is_refused() {
        let mut l = BitstringStatusList::new();
        l.set(1, true).unwrap();
        let e = l.encode().unwrap();
        let mut raw = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(&e[1..])
            .unwrap();
        let n = raw.len();
        raw[n - 8] ^= 0x01; // CRC-32 trailer
        let bad = format!(
            "u{}",
            base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(&raw)
        );
        assert!(matches!(
            BitstringStatusList::decode(&bad),
            Err(StatusError::Gzip(_))
        ));
    }
}
