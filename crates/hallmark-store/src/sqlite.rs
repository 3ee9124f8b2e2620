//! The embedded SQLite adapter: one file, WAL, created (mode 0600) on first open, no
//! server. Writes run in `BEGIN IMMEDIATE` transactions, so there is one writer at a time
//! (also across processes sharing the file); readers are never blocked by WAL.
//!
//! Every connection runs with `foreign_keys = ON` and `recursive_triggers = ON` (so that
//! `INSERT OR REPLACE`, which deletes the row it replaces, fires the delete guards).

use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::time::Duration;

use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous,
};
use sqlx::Executor as _;

use crate::error::StoreError;
use crate::sql::{SqlStore, SqliteBackend};

/// Versioned migrations, applied in order and recorded in `schema_migrations`.
pub const MIGRATIONS: &[(i64, &str, &str)] = &[
    (
        1,
        "init",
        include_str!("../migrations/sqlite/0001_init.sql"),
    ),
    (
        2,
        "leaf_hash_index",
        include_str!("../migrations/sqlite/0002_leaf_hash_index.sql"),
    ),
    (
        3,
        "row_authentication",
        include_str!("../migrations/sqlite/0003_row_authentication.sql"),
    ),
    (
        4,
        "live_product_identifier",
        include_str!("../migrations/sqlite/0004_live_product_identifier.sql"),
    ),
    (
        5,
        "product_links",
        include_str!("../migrations/sqlite/0005_product_links.sql"),
    ),
    (
        6,
        "status_lists",
        include_str!("../migrations/sqlite/0006_status_lists.sql"),
    ),
    (
        7,
        "external_refs",
        include_str!("../migrations/sqlite/0007_external_refs.sql"),
    ),
    (
        8,
        "registry_registrations",
        include_str!("../migrations/sqlite/0008_registry_registrations.sql"),
    ),
    (
        9,
        "readers",
        include_str!("../migrations/sqlite/0009_readers.sql"),
    ),
    (
        10,
        "outbox_events",
        include_str!("../migrations/sqlite/0010_outbox_events.sql"),
    ),
    (
        11,
        "webhooks",
        include_str!("../migrations/sqlite/0011_webhooks.sql"),
    ),
];

/// The SQLite-backed store.
pub type SqliteStore = SqlStore<SqliteBackend>;

/// Connection options every Hallmark SQLite connection uses.
pub fn connect_options(path: &Path) -> SqliteConnectOptions {
    SqliteConnectOptions::new()
        .filename(path)
        .create_if_missing(false)
        .journal_mode(SqliteJournalMode::Wal)
        .synchronous(SqliteSynchronous::Full)
        .foreign_keys(true)
        .busy_timeout(Duration::from_secs(10))
        .pragma("recursive_triggers", "ON")
}

impl SqliteStore {
    /// Opens (creating it with mode 0600 if missing) the database file and applies
    /// pending migrations.
    pub async fn open(path: impl AsRef<Path>) -> Result<Self, StoreError> {
        let path = path.as_ref().to_path_buf();
        create_private_file(&path)?;
        let pool = SqlitePoolOptions::new()
            .max_connections(4)
            // An embedded file connection does not go away: no ping (a hop to the
            // connection's worker thread) before every query.
            .test_before_acquire(false)
            .connect_with(connect_options(&path))
            .await?;
        migrate(&pool).await?;
        SqlStore::from_pool(pool, SqliteBackend { path }).await
    }

    /// Opens from a `sqlite://path` URL or a plain path.
    pub async fn open_url(url: &str) -> Result<Self, StoreError> {
        let path = url
            .strip_prefix("sqlite://")
            .or_else(|| url.strip_prefix("sqlite:"))
            .unwrap_or(url);
        // Reject option strings: the file's options are fixed here.
        let path = PathBuf::from_str(path.split('?').next().unwrap_or(path))
            .map_err(|e| StoreError::Config(format!("sqlite path: {e}")))?;
        Self::open(path).await
    }

    /// The database file.
    pub fn path(&self) -> &Path {
        &self.backend.path
    }
}

#[cfg(unix)]
fn create_private_file(path: &Path) -> Result<(), StoreError> {
    use std::os::unix::fs::OpenOptionsExt;
    match std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
    {
        Ok(_) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Ok(()),
        Err(e) => Err(StoreError::Config(format!(
            "cannot create {}: {e}",
            path.display()
        ))),
    }
}

#[cfg(not(unix))]
fn create_private_file(path: &Path) -> Result<(), StoreError> {
    match std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(path)
    {
        Ok(_) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Ok(()),
        Err(e) => Err(StoreError::Config(format!(
            "cannot create {}: {e}",
            path.display()
        ))),
    }
}

/// Applies pending migrations in one `BEGIN IMMEDIATE` transaction (so concurrent
/// starters serialise and the second sees the first's work).
async fn migrate(pool: &SqlitePool) -> Result<(), StoreError> {
    let mut tx = pool.begin_with("BEGIN IMMEDIATE").await?;
    (&mut *tx)
        .execute(
            "CREATE TABLE IF NOT EXISTS schema_migrations (\
               version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL) STRICT",
        )
        .await?;
    let applied: Vec<i64> = sqlx::query_scalar("SELECT version FROM schema_migrations")
        .fetch_all(&mut *tx)
        .await?;
    for (version, name, sql) in MIGRATIONS {
        if applied.contains(version) {
            continue;
        }
        (&mut *tx)
            .execute(*sql)
            .await
            .map_err(|e| StoreError::Migration(format!("{version} {name}: {e}")))?;
        sqlx::query(
            "INSERT INTO schema_migrations (version, name, applied_at) \
             VALUES ($1, $2, strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))",
        )
        .bind(version)
        .bind(name)
        .execute(&mut *tx)
        .await?;
    }
    tx.commit().await?;
    Ok(())
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    fn assert_send<T: Send>(_: &T) {}

    #[test]
    fn open_future_is_send() {
        assert_send(&SqliteStore::open("/nonexistent/x.db"));
    }
}
