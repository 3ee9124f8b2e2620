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
