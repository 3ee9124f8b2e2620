//! Defaults, file names and accepted ranges the validation applies (`validate`) and the
//! CLI shares (`keystore_in`).

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::path::{Path, PathBuf};

/// Minimum admin password length in production (characters).
pub const MIN_ADMIN_PASSWORD_CHARS: usize = 16;
/// Default public listener.
pub const DEFAULT_PUBLIC_LISTEN: SocketAddr =
    SocketAddr::new(IpAddr::V4(Ipv4Addr::UNSPECIFIED), 8080);
/// Default admin listener (loopback).
pub const DEFAULT_ADMIN_LISTEN: SocketAddr = SocketAddr::new(IpAddr::V4(Ipv4Addr::LOCALHOST), 8081);
/// Default production data directory.
pub const DEFAULT_DATA_DIR: &str = "/var/lib/hallmark";
/// Keystore file name inside the data directory (default keystore path).
pub const KEYSTORE_FILE: &str = "hallmark-keys.json";

/// The default keystore of a data directory, `<data dir>/hallmark-keys.json`: what `serve`
/// opens and `hallmark keys` manages unless `HALLMARK_KEYSTORE_PATH` says otherwise.
pub fn keystore_in(data_dir: &Path) -> PathBuf {
    data_dir.join(KEYSTORE_FILE)
}
/// SQLite file name inside the data directory (development default database).
pub const SQLITE_FILE: &str = "hallmark.db";
/// Default HSM object label prefix (as `hallmark keys hsm`).
pub const DEFAULT_HSM_KEY_PREFIX: &str = "hallmark";

/// Accepted `HALLMARK_HEADER_READ_TIMEOUT_MS` and `HALLMARK_IDLE_TIMEOUT_MS` (ms).
pub const CONNECTION_TIMEOUT_MS: std::ops::RangeInclusive<u64> = 100..=300_000;
/// Largest accepted `HALLMARK_MAX_CONNECTIONS`.
pub const MAX_CONNECTIONS_CEILING: usize = 1_000_000;
/// Largest accepted `HALLMARK_REFUSAL_EVENTS_PER_MINUTE`.
pub const MAX_REFUSAL_EVENTS_PER_MINUTE: u32 = 100_000;

/// Largest accepted `HALLMARK_READ_CACHE_MB` (64 GiB).
pub const MAX_READ_CACHE_MB: u64 = 65_536;
