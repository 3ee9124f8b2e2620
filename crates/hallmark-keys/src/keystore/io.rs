//! The keystore's file I/O: the owner-only permission check on open, atomic `0600` writes
//! (temporary file in the same directory, fsync, rename, fsync of the directory) and new
//! private files for backups and offline keys.

use crate::random::fill_random;
use crate::KeysError;
use std::io::Write;
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

/// Refuse a keystore that is not a regular file or that group or others can access.
pub(super) fn check_permissions(path: &Path) -> Result<(), KeysError> {
    let meta = std::fs::metadata(path).map_err(|e| KeysError::io(path, e))?;
    if !meta.is_file() {
        return Err(KeysError::Malformed {
            path: path.to_path_buf(),
            reason: "not a regular file".to_string(),
        });
    }
    let mode = meta.permissions().mode() & 0o777;
    if mode & 0o077 != 0 {
        return Err(KeysError::InsecurePermissions {
            path: path.to_path_buf(),
            mode,
        });
    }
    Ok(())
}

/// Write `bytes` to `path` atomically: a `0600` temporary file in the same directory,
/// fsynced, renamed over `path`, then the directory fsynced. With `create`, refuses to
/// replace an existing file.
pub(super) fn atomic_write(path: &Path, bytes: &[u8], create: bool) -> Result<(), KeysError> {
    write_atomically(path, bytes, create, 0o600)
}

/// Replace (or create) a file that holds nothing secret, readable by everyone (`0644`),
/// atomically as the keystore is written: readers of `path` see the old content or the new,
/// never a part. Used for the reader's registrations sidecar (`hallmark reader register`).
pub fn write_public_file_atomically(path: &Path, bytes: &[u8]) -> Result<(), KeysError> {
    write_atomically(path, bytes, false, 0o644)
}

/// [`atomic_write`] with the file's `mode` (set explicitly, whatever the umask).
fn write_atomically(path: &Path, bytes: &[u8], create: bool, mode: u32) -> Result<(), KeysError> {
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let name = path
        .file_name()
        .ok_or_else(|| KeysError::io(path, std::io::Error::other("not a file path")))?
        .to_string_lossy()
        .into_owned();
    let mut suffix = [0u8; 8];
    fill_random(&mut suffix)?;
    let tmp = dir.join(format!(
        ".{name}.tmp-{}",
        suffix
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect::<String>()
    ));
    let result = (|| {
        let mut f = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(mode)
            .open(&tmp)
            .map_err(|e| KeysError::io(&tmp, e))?;
        // The umask may have taken bits away: the mode is what was asked.
        f.set_permissions(std::fs::Permissions::from_mode(mode))
            .map_err(|e| KeysError::io(&tmp, e))?;
        f.write_all(bytes).map_err(|e| KeysError::io(&tmp, e))?;
        f.sync_all().map_err(|e| KeysError::io(&tmp, e))?;
        drop(f);
        if create && path.exists() {
            return Err(KeysError::AlreadyExists {
                path: path.to_path_buf(),
            });
        }
        std::fs::rename(&tmp, path).map_err(|e| KeysError::io(path, e))?;
        std::fs::File::open(&dir)
            .and_then(|d| d.sync_all())
            .map_err(|e| KeysError::io(&dir, e))
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result
}

/// Write a new file readable by its owner only (`0600`), refusing to overwrite. Used for
/// backups and offline-generated keys (which are age ciphertexts).
pub fn write_new_private_file(path: impl AsRef<Path>, bytes: &[u8]) -> Result<(), KeysError> {
    let path = path.as_ref();
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
        .map_err(|e| {
            if e.kind() == std::io::ErrorKind::AlreadyExists {
                KeysError::AlreadyExists {
                    path: path.to_path_buf(),
                }
            } else {
                KeysError::io(path, e)
            }
        })?;
    f.write_all(bytes)
        .and_then(|()| f.sync_all())
        .map_err(|e| KeysError::io(path, e))
}

/// Read the whole keystore file.
pub(super) fn read_file(path: &Path) -> Result<Vec<u8>, KeysError> {
    std::fs::read(path).map_err(|e| KeysError::io(path, e))
}
