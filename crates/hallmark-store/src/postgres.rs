//! The PostgreSQL adapter, for production and scale-out: several stateless node processes
//! on one database.
//!
//! Two roles (created once by the operator, see [`bootstrap_sql`] and `docs/database.md`):
//!
//! - the **migration role** owns the database, the `hallmark` schema and every object in
//!   it. It is used only by [`migrate`], at start-up, over one unpooled connection that is
//!   closed before the node serves;
//! - the **application role** owns nothing. It may SELECT and INSERT, UPDATE only the
//!   columns meant to change, and nothing else: no DELETE, no TRUNCATE, no DDL. Because it
//!   owns nothing it cannot ALTER, DROP or DISABLE the triggers that enforce permanence.
//!   [`check_app_role`] refuses to serve with a role that has more.
//!
//! Concurrency: every write transaction locks the passport (or key) row it changes with
//! `SELECT … FOR UPDATE` before reading the state it checks, and claims its audit sequence
//! number from the single `audit_head` row as its last statement, so there are no
//! read-modify-write races between nodes.

use std::str::FromStr;
use std::time::Duration;

use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions};
use sqlx::{Connection, Executor as _, PgConnection};

use crate::error::{PrivilegeError, StoreError};
use crate::sql::{PgBackend, SqlStore};

/// The schema holding Hallmark's tables.
pub const SCHEMA: &str = "hallmark";

/// Placeholder in migration SQL replaced by the quoted application role name.
const APP_ROLE_PLACEHOLDER: &str = "__APP_ROLE__";

/// Key of the transaction-level advisory lock that serialises concurrent migrators.
const MIGRATION_LOCK: i64 = 0x4841_4c4c_4d41_524b; // "HALLMARK"

/// Versioned migrations, applied in order and recorded in `schema_migrations`.
pub const MIGRATIONS: &[(i32, &str, &str)] = &[
    (
        1,
        "init",
        include_str!("../migrations/postgres/0001_init.sql"),
    ),
    (
        2,
        "leaf_hash_index",
        include_str!("../migrations/postgres/0002_leaf_hash_index.sql"),
    ),
    (
        3,
        "lz4_toast",
        include_str!("../migrations/postgres/0003_lz4_toast.sql"),
    ),
    (
        4,
        "consistency_without_jsonb",
        include_str!("../migrations/postgres/0004_consistency_without_jsonb.sql"),
    ),
    (
        5,
        "row_authentication",
        include_str!("../migrations/postgres/0005_row_authentication.sql"),
    ),
    (
        6,
        "live_product_identifier",
        include_str!("../migrations/postgres/0006_live_product_identifier.sql"),
    ),
    (
        7,
        "product_links",
        include_str!("../migrations/postgres/0007_product_links.sql"),
    ),
    (
        8,
        "status_lists",
        include_str!("../migrations/postgres/0008_status_lists.sql"),
    ),
    (
        9,
        "external_refs",
        include_str!("../migrations/postgres/0009_external_refs.sql"),
    ),
    (
        10,
        "registry_registrations",
        include_str!("../migrations/postgres/0010_registry_registrations.sql"),
    ),
    (
        11,
        "readers",
        include_str!("../migrations/postgres/0011_readers.sql"),
    ),
    (
        12,
        "outbox_events",
        include_str!("../migrations/postgres/0012_outbox_events.sql"),
    ),
    (
        13,
        "webhooks",
        include_str!("../migrations/postgres/0013_webhooks.sql"),
    ),
];

/// Tables that are append-only: table-wide UPDATE on them is an excess privilege.
const APPEND_ONLY: &[&str] = &[
    "passport_versions",
    "audit_events",
    "log_leaves",
    "checkpoints",
    "schema_migrations",
    "log_integrity",
    "log_quarantine",
    "passport_status_indexes",
    "status_list_versions",
    "passport_external_refs",
    "registry_registrations",
    "request_nonces",
    "webhook_deliveries",
];

/// The PostgreSQL-backed store, holding a pool of application-role connections.
pub type PgStore = SqlStore<PgBackend>;

/// Checks that `name` is a plain lowercase SQL identifier and returns it double-quoted.
pub fn quote_ident(name: &str) -> Result<String, StoreError> {
    let ok = !name.is_empty()
        && name.len() <= 63
        && name.starts_with(|c: char| c.is_ascii_lowercase() || c == '_')
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
    if !ok {
        return Err(StoreError::Config(format!(
            "{name:?} is not a plain identifier ([a-z_][a-z0-9_]*, at most 63 characters)"
        )));
    }
    Ok(format!("\"{name}\""))
}

fn quote_literal(s: &str) -> String {
    format!("'{}'", s.replace('\'', "''"))
}

/// The one-time set-up an operator runs as a superuser (see `docs/database.md`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BootstrapSql {
    /// Run connected to any database (e.g. `postgres`), one statement at a time
    /// (`CREATE DATABASE` cannot run inside a transaction).
    pub server: Vec<String>,
    /// Then run connected to the new database.
    pub database: Vec<String>,
    /// The database name, for `\connect`.
    pub database_name: String,
}

impl BootstrapSql {
    /// As a `psql` script.
    pub fn to_psql_script(&self) -> String {
        let mut out = String::new();
        for s in &self.server {
            out.push_str(s);
            out.push_str(";\n");
        }
        out.push_str(&format!("\\connect {}\n", self.database_name));
        for s in &self.database {
            out.push_str(s);
            out.push_str(";\n");
        }
        out
    }
}

/// The SQL creating the database, the migration role (owner of everything) and the
/// application role (owner of nothing). Passwords are optional (e.g. trust or peer auth).
pub fn bootstrap_sql(
    database: &str,
    migration_role: &str,
    migration_password: Option<&str>,
    app_role: &str,
    app_password: Option<&str>,
) -> Result<BootstrapSql, StoreError> {
    let db = quote_ident(database)?;
    let mig = quote_ident(migration_role)?;
    let app = quote_ident(app_role)?;
    let password = |p: Option<&str>| {
        p.map(|p| format!(" PASSWORD {}", quote_literal(p)))
            .unwrap_or_default()
    };
    Ok(BootstrapSql {
        server: vec![
            format!(
                "CREATE ROLE {mig} LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOBYPASSRLS NOREPLICATION{}",
                password(migration_password)
            ),
            format!(
                "CREATE ROLE {app} LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOBYPASSRLS NOREPLICATION NOINHERIT{}",
                password(app_password)
            ),
            format!("CREATE DATABASE {db} OWNER {mig}"),
            format!("REVOKE ALL ON DATABASE {db} FROM PUBLIC"),
            format!("GRANT CONNECT ON DATABASE {db} TO {app}"),
        ],
        database: vec![
            // Nobody but the owner (the migration role, as database owner) uses `public`.
            "REVOKE ALL ON SCHEMA public FROM PUBLIC".to_owned(),
        ],
        database_name: database.to_owned(),
    })
}

/// Applies pending migrations as the migration role, over ONE connection that is closed
/// before returning (never pooled). Concurrent starters serialise on an advisory lock;
/// each migration runs in the same transaction as its `schema_migrations` row.
/// `app_role` is the role the migrations grant the application privileges to.
pub async fn migrate(migration: &PgConnectOptions, app_role: &str) -> Result<(), StoreError> {
    let app = quote_ident(app_role)?;
    let schema = quote_ident(SCHEMA)?;
    let mut conn = PgConnection::connect_with(migration)
        .await
        .map_err(|e| connect_error("migration", migration, e))?;
    let result = apply_migrations(&mut conn, &app, &schema).await;
    let closed = conn.close().await;
    result?;
    closed?;
    Ok(())
}

async fn apply_migrations(
    conn: &mut PgConnection,
    app: &str,
    schema: &str,
) -> Result<(), StoreError> {
    let mut tx = conn.begin().await?;
    // `… IF NOT EXISTS` answers an existing schema or table with a NOTICE, which sqlx logs
    // at INFO on every start: only warnings and errors are wanted from migrating.
    (&mut *tx)
        .execute("SET LOCAL client_min_messages = warning")
        .await?;
    sqlx::query("SELECT pg_advisory_xact_lock($1)")
        .bind(MIGRATION_LOCK)
        .execute(&mut *tx)
        .await?;
    let bootstrap = format!(
        "CREATE SCHEMA IF NOT EXISTS {schema}; \
         SET LOCAL search_path = {schema}; \
         CREATE TABLE IF NOT EXISTS schema_migrations (\
           version INTEGER PRIMARY KEY, name TEXT NOT NULL, \
           applied_at TIMESTAMPTZ NOT NULL DEFAULT now())"
    );
    (&mut *tx).execute(bootstrap.as_str()).await?;
    let applied: Vec<i32> = sqlx::query_scalar("SELECT version FROM schema_migrations")
        .fetch_all(&mut *tx)
        .await?;
    for (version, name, sql) in MIGRATIONS {
        if applied.contains(version) {
            continue;
        }
        let sql = sql.replace(APP_ROLE_PLACEHOLDER, app);
        (&mut *tx)
            .execute(sql.as_str())
            .await
            .map_err(|e| StoreError::Migration(format!("{version} {name}: {e}")))?;
        sqlx::query("INSERT INTO schema_migrations (version, name) VALUES ($1, $2)")
            .bind(version)
            .bind(name)
            .execute(&mut *tx)
            .await?;
    }
    tx.commit().await?;
    Ok(())
}

/// A connection's URL for messages: user, host, port and database, never the password.
pub fn redacted_url(options: &PgConnectOptions) -> String {
    format!(
        "postgres://{}@{}:{}/{}",
        options.get_username(),
        options.get_host(),
        options.get_port(),
        options.get_database().unwrap_or_default()
    )
}

fn connect_error(which: &'static str, options: &PgConnectOptions, e: sqlx::Error) -> StoreError {
    StoreError::Connect {
        which,
        url: redacted_url(options),
        detail: e.to_string(),
    }
}

/// Connection options for the application role: `search_path` pinned to [`SCHEMA`].
pub fn app_options(app: PgConnectOptions) -> PgConnectOptions {
    app.options([("search_path", SCHEMA)])
}

impl PgStore {
    /// Start-up: migrate with the privileged URL (connection closed afterwards), then
    /// connect the application pool and refuse an over-privileged application role.
    pub async fn start(migration_url: &str, app_url: &str) -> Result<Self, StoreError> {
        let migration = PgConnectOptions::from_str(migration_url)
            .map_err(|e| StoreError::Config(format!("migration URL: {e}")))?;
        let app = PgConnectOptions::from_str(app_url)
            .map_err(|e| StoreError::Config(format!("application URL: {e}")))?;
        Self::start_with(migration, app, 16).await
    }

    /// [`start`](Self::start) with parsed options and a pool size.
    pub async fn start_with(
        migration: PgConnectOptions,
        app: PgConnectOptions,
        max_connections: u32,
    ) -> Result<Self, StoreError> {
        let role = app.get_username().to_owned();
        migrate(&migration, &role).await?;
        Self::connect_with(app, max_connections).await
    }

    /// Connects as the migration (owner) role, without [`check_app_role`]: for the
    /// operator's repair tools (`hallmark log quarantine`), never for a node.
    pub async fn connect_privileged(owner: PgConnectOptions) -> Result<Self, StoreError> {
        let pool = PgPoolOptions::new()
            .max_connections(1)
            .acquire_timeout(Duration::from_secs(30))
            .connect_with(app_options(owner))
            .await?;
        SqlStore::from_pool(pool, PgBackend).await
    }

    /// Connects the application pool (no migrations) and runs [`check_app_role`].
    pub async fn connect_with(
        app: PgConnectOptions,
        max_connections: u32,
    ) -> Result<Self, StoreError> {
        let pool = PgPoolOptions::new()
            .max_connections(max_connections)
            .acquire_timeout(Duration::from_secs(30))
            // sqlx pings every connection it hands out by default: one more round trip per
            // query. Only a connection that sat idle (when the server may have restarted
            // or a network path dropped it) is checked first; a busy pool's connections
            // are known to be alive.
            .test_before_acquire(false)
            .before_acquire(|conn, meta| {
                Box::pin(async move {
                    if meta.idle_for < IDLE_BEFORE_PING {
                        return Ok(true);
                    }
                    Ok(sqlx::Connection::ping(conn).await.is_ok())
                })
            })
            .connect_with(app_options(app.clone()))
            .await
            .map_err(|e| connect_error("application", &app, e))?;
        if let Err(e) = check_app_role(&pool).await {
            pool.close().await;
            return Err(e);
        }
        SqlStore::from_pool(pool, PgBackend).await
    }
}

/// A pooled connection idle for longer than this is pinged before it is used.
const IDLE_BEFORE_PING: Duration = Duration::from_secs(1);

/// Refuses an application role with more privilege than it needs. The first problem
/// found is returned as [`StoreError::Privilege`] naming it; query failures are other
/// [`StoreError`]s.
pub async fn check_app_role(pool: &PgPool) -> Result<(), StoreError> {
    let (role, superuser, createrole, bypassrls): (String, bool, bool, bool) = sqlx::query_as(
        "SELECT rolname::text, rolsuper, rolcreaterole, rolbypassrls \
         FROM pg_roles WHERE rolname = current_user",
    )
    .fetch_one(pool)
    .await?;
    if superuser {
        return Err(PrivilegeError::Superuser { role }.into());
    }
    if createrole {
        return Err(PrivilegeError::CreateRole { role }.into());
    }
    if bypassrls {
        return Err(PrivilegeError::BypassRls { role }.into());
    }
    let (database, owns_db): (String, bool) = sqlx::query_as(
        "SELECT datname::text, pg_has_role(current_user, datdba, 'MEMBER') \
         FROM pg_database WHERE datname = current_database()",
    )
    .fetch_one(pool)
    .await?;
    if owns_db {
        return Err(PrivilegeError::OwnsDatabase { database }.into());
    }
    let schema: Option<(bool, bool)> = sqlx::query_as(
        "SELECT pg_has_role(current_user, nspowner, 'MEMBER'), \
                has_schema_privilege(current_user, oid, 'CREATE') \
         FROM pg_namespace WHERE nspname = $1",
    )
    .bind(SCHEMA)
    .fetch_optional(pool)
    .await?;
    let schema_name = SCHEMA.to_owned();
    match schema {
        None => {
            return Err(PrivilegeError::NotMigrated {
                schema: schema_name,
            }
            .into())
        }
        Some((true, _)) => {
            return Err(PrivilegeError::OwnsSchema {
                schema: schema_name,
            }
            .into())
        }
        Some((_, true)) => {
            return Err(PrivilegeError::CanCreateInSchema {
                schema: schema_name,
            }
            .into())
        }
        Some(_) => {}
    }
    type TableRow = (String, bool, bool, bool, bool, bool);
    let tables: Vec<TableRow> = sqlx::query_as(
        "SELECT c.relname::text, pg_has_role(current_user, c.relowner, 'MEMBER'), \
                has_table_privilege(current_user, c.oid, 'DELETE'), \
                has_table_privilege(current_user, c.oid, 'TRUNCATE'), \
                has_table_privilege(current_user, c.oid, 'TRIGGER'), \
                has_table_privilege(current_user, c.oid, 'UPDATE') \
         FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace \
         WHERE n.nspname = $1 AND c.relkind IN ('r', 'p', 'v', 'm', 'f') \
         ORDER BY c.relname",
    )
    .bind(SCHEMA)
    .fetch_all(pool)
    .await?;
    if !tables.iter().any(|t| t.0 == "passport_versions") {
        return Err(PrivilegeError::NotMigrated {
            schema: schema_name,
        }
        .into());
    }
    for (table, owns, delete, truncate, trigger, update) in tables {
        let err = if owns {
            PrivilegeError::OwnsTable { table }
        } else if delete {
            PrivilegeError::HasDelete { table }
        } else if truncate {
            PrivilegeError::HasTruncate { table }
        } else if trigger {
            PrivilegeError::HasTrigger { table }
        } else if update && APPEND_ONLY.contains(&table.as_str()) {
            PrivilegeError::HasUpdate { table }
        } else {
            continue;
        };
        return Err(err.into());
    }
    Ok(())
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    fn assert_send<T: Send>(_: &T) {}

    #[test]
    fn start_up_futures_are_send() {
        let opts = PgConnectOptions::new();
        assert_send(&migrate(&opts, "app"));
        assert_send(&PgStore::start("postgres://a@h/d", "postgres://b@h/d"));
    }

    #[test]
    fn bootstrap_script_matches_the_documented_one() {
        let sql = bootstrap_sql(
            "hallmark",
            "hallmark_migrator",
            Some("change-me-1"),
            "hallmark_app",
            Some("change-me-2"),
        )
        .unwrap();
        let doc = include_str!("../../../docs/database.md");
        for line in sql.to_psql_script().lines() {
            assert!(doc.contains(line), "docs/database.md lacks: {line}");
        }
    }

    #[test]
    fn identifiers_are_checked() {
        assert!(quote_ident("hm_app_1").is_ok());
        for bad in ["", "Robert", "a\"b", "a;drop", "1abc", &"a".repeat(64)] {
            assert!(quote_ident(bad).is_err(), "{bad}");
        }
        assert_eq!(quote_literal("it's"), "'it''s'");
    }
}
