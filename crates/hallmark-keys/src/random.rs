//! The operating system's randomness: the one source of every seed, salt and nonce.

use crate::KeysError;
use rand_core::{OsRng, RngCore};
use zeroize::Zeroizing;

/// Fill `buf` from the operating system's random generator.
pub(crate) fn fill_random(buf: &mut [u8]) -> Result<(), KeysError> {
    OsRng
        .try_fill_bytes(buf)
        .map_err(|_| KeysError::Crypto("the operating system's random generator failed"))
}

/// A fresh random Ed25519 seed, zeroized on drop.
pub(crate) fn random_seed() -> Result<Zeroizing<[u8; 32]>, KeysError> {
    let mut seed = Zeroizing::new([0u8; 32]);
    fill_random(&mut seed[..])?;
    Ok(seed)
}

/// A uniformly random `u32` from the operating system (the node's draw of a passport's
/// status list position).
pub fn random_u32() -> Result<u32, KeysError> {
    let mut b = [0u8; 4];
    fill_random(&mut b)?;
    Ok(u32::from_le_bytes(b))
}
