//! Development-only values and the directories `hallmark demo` marks: production refuses
//! all of them.

use std::path::{Component, Path};

/// The demo's data directory (development only; refused in production).
pub const DEMO_DATA_DIR: &str = "./hallmark-demo";
/// Name of the demo data directory (any path with this component is a demo path).
pub const DEMO_DIR_NAME: &str = "hallmark-demo";
/// The marker file `hallmark demo` writes into its data directory (beside the keystore and
/// database). Production refuses any data dir, keystore or SQLite file in a directory
/// holding it.
pub const DEVELOPMENT_MARKER: &str = "DEVELOPMENT-ONLY";
/// The demo keystore passphrase (development only; refused in production).
pub const DEMO_KEYSTORE_PASSPHRASE: &str = "hallmark-demo-DEVELOPMENT-ONLY-passphrase";
/// The demo admin user name.
pub const DEMO_ADMIN_USERNAME: &str = "admin";
/// The demo admin password (development only; refused in production).
pub const DEMO_ADMIN_PASSWORD: &str = "hallmark-demo-DEVELOPMENT-ONLY-admin";

/// Whether `dir` is a development-only directory: named `hallmark-demo` (anywhere in the
/// path) or holding the [`DEVELOPMENT_MARKER`] file.
pub fn is_development_dir(dir: &Path) -> bool {
    dir.components()
        .any(|c| matches!(c, Component::Normal(n) if n == DEMO_DIR_NAME))
        || dir.join(DEVELOPMENT_MARKER).exists()
}

/// Whether `file` lives in a development-only directory (see [`is_development_dir`]).
pub fn is_development_file(file: &Path) -> bool {
    let parent = match file.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    is_development_dir(parent)
}

/// Write the [`DEVELOPMENT_MARKER`] into `dir` (for `hallmark demo`): production then refuses
/// the directory and anything in it.
pub fn write_development_marker(dir: &Path) -> std::io::Result<()> {
    std::fs::write(
        dir.join(DEVELOPMENT_MARKER),
        "Created by `hallmark demo`. Everything in this directory (keystore, database, \
         credentials) is for local development only; `hallmark serve` refuses to use it.\n",
    )
}
