//! A per-test PostgreSQL database with its own migration and application roles (the
//! production bootstrap SQL, `hallmark_store::postgres::bootstrap_sql`), created on a
//! superuser connection and dropped with its roles when the value is dropped.
//!
//! The server comes from `HALLMARK_TEST_PG_URL` (default
//! `postgres://postgres@127.0.0.1:5432/postgres`); if it is unreachable the test fails with
//! a message saying so.

use std::ops::Deref;
use std::str::FromStr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;

use hallmark_store::postgres::{self, bootstrap_sql};
use hallmark_store::PgStore;
use sqlx::postgres::PgConnectOptions;
use sqlx::{ConnectOptions, Connection, PgConnection};

/// The environment variable naming the superuser URL of the test server.
pub const PG_URL_VAR: &str = "HALLMARK_TEST_PG_URL";
const DEFAULT_PG_URL: &str = "postgres://postgres@127.0.0.1:5432/postgres";

static COUNTER: AtomicU64 = AtomicU64::new(1);

/// A name unique across processes and threads: pid, time, counter.
pub fn unique_suffix() -> String {
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .subsec_nanos();
    format!("{}_{:x}_{n}", std::process::id(), nanos)
}

/// The privileged (superuser) connection options the harness uses to create and drop
/// databases and roles.
pub fn admin_options() -> PgConnectOptions {
    let url = std::env::var(PG_URL_VAR).unwrap_or_else(|_| DEFAULT_PG_URL.to_owned());
    PgConnectOptions::from_str(&url)
        .unwrap_or_else(|e| panic!("{PG_URL_VAR}={url} is not a PostgreSQL URL: {e}"))
        .disable_statement_logging()
}

/// A superuser connection, to `database` or to the server's default one.
pub async fn admin_connect(database: Option<&str>) -> PgConnection {
    let mut opts = admin_options();
    if let Some(db) = database {
        opts = opts.database(db);
    }
    PgConnection::connect_with(&opts).await.unwrap_or_else(|e| {
        panic!(
            "PostgreSQL is required for these tests and is unreachable at {}:{} as `{}`: {e}. \
             Start it (e.g. `pg_ctlcluster --skip-systemctl-redirect 15 main start`) or point \
             {PG_URL_VAR} at a superuser URL.",
            opts.get_host(),
            opts.get_port(),
            opts.get_username()
        )
    })
}

/// One test's database: created with its own migration and application roles (random
/// suffix), set up by the bootstrap SQL, and dropped with its roles (and any
/// [`extra_role`](Self::extra_role)) when dropped. Migrations run when a store starts on it.
pub struct PgDb {
    /// The database's name.
    pub database: String,
    /// The role that owns the schema and runs migrations.
    pub migration_role: String,
    /// The role the node connects as.
    pub app_role: String,
    extra_roles: Mutex<Vec<String>>,
}

impl PgDb {
    /// Creates the database and its two roles.
    pub async fn new() -> PgDb {
        let suffix = unique_suffix();
        let database = format!("hm_test_{suffix}");
        let migration_role = format!("hm_mig_{suffix}");
        let app_role = format!("hm_app_{suffix}");
        let sql = bootstrap_sql(&database, &migration_role, None, &app_role, None).unwrap();
        let mut admin = admin_connect(None).await;
        for statement in &sql.server {
            sqlx::raw_sql(statement).execute(&mut admin).await.unwrap();
        }
        admin.close().await.unwrap();
        let mut admin_db = admin_connect(Some(&database)).await;
        for statement in &sql.database {
            sqlx::raw_sql(statement)
                .execute(&mut admin_db)
                .await
                .unwrap();
        }
        admin_db.close().await.unwrap();
        PgDb {
            database,
            migration_role,
            app_role,
            extra_roles: Mutex::new(Vec::new()),
        }
    }

    /// Connection options for `role` in `database` (no password: the test server trusts).
    pub fn role_options(database: &str, role: &str) -> PgConnectOptions {
        admin_options()
            .username(role)
            .database(database)
            .disable_statement_logging()
    }

    /// Connection options for `role` in this database.
    pub fn options(&self, role: &str) -> PgConnectOptions {
        Self::role_options(&self.database, role)
    }

    /// Starts a store on this database (migrating as the migration role, serving as the app
    /// role, pool of 5).
    pub async fn store(&self) -> PgStore {
        PgStore::start_with(
            self.options(&self.migration_role),
            self.options(&self.app_role),
            5,
        )
        .await
        .unwrap()
    }

    /// A plain connection as the application role, schema on the search path.
    pub async fn app_connection(&self) -> PgConnection {
        let opts = postgres::app_options(self.options(&self.app_role));
        PgConnection::connect_with(&opts).await.unwrap()
    }

    /// A plain connection as the migration role (owner of everything).
    pub async fn migration_connection(&self) -> PgConnection {
        let opts = postgres::app_options(self.options(&self.migration_role));
        PgConnection::connect_with(&opts).await.unwrap()
    }

    /// Runs statements as superuser in this database.
    pub async fn admin_exec(&self, statements: &[String]) {
        let mut admin = admin_connect(Some(&self.database)).await;
        for s in statements {
            sqlx::raw_sql(s).execute(&mut admin).await.unwrap();
        }
        admin.close().await.unwrap();
    }

    /// Creates an extra login role (dropped with the database), member of the app role.
    pub async fn extra_role(&self, name: &str, attributes: &str) -> String {
        let role = format!("hm_x{name}_{}", unique_suffix());
        let mut admin = admin_connect(None).await;
        sqlx::raw_sql(&format!(
            "CREATE ROLE \"{role}\" LOGIN {attributes} IN ROLE \"{}\"",
            self.app_role
        ))
        .execute(&mut admin)
        .await
        .unwrap();
        admin.close().await.unwrap();
        self.extra_roles.lock().unwrap().push(role.clone());
        role
    }
}

impl Drop for PgDb {
    fn drop(&mut self) {
        let database = self.database.clone();
        let mut roles = std::mem::take(&mut *self.extra_roles.lock().unwrap());
        roles.push(self.app_role.clone());
        roles.push(self.migration_role.clone());
        // Drop cannot be async: clean up on a fresh runtime in a thread, and wait for it.
        let cleanup = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap();
            rt.block_on(async move {
                let mut admin = admin_connect(None).await;
                sqlx::raw_sql(&format!(
                    "DROP DATABASE IF EXISTS \"{database}\" WITH (FORCE)"
                ))
                .execute(&mut admin)
                .await
                .unwrap();
                for role in roles {
                    sqlx::raw_sql(&format!("DROP ROLE IF EXISTS \"{role}\""))
                        .execute(&mut admin)
                        .await
                        .unwrap();
                }
                admin.close().await.unwrap();
            });
        });
        if cleanup.join().is_err() && !std::thread::panicking() {
            panic!("PostgreSQL test cleanup failed for {}", self.database);
        }
    }
}

/// A [`PgDb`] with a store started on it (the store suites' harness); derefs to the
/// database.
pub struct PgHarness {
    /// The store, started on [`db`](Self::db).
    pub store: PgStore,
    /// The database and its roles.
    pub db: PgDb,
}

impl PgHarness {
    /// A fresh database and a store started on it.
    pub async fn new() -> PgHarness {
        let db = PgDb::new().await;
        let store = db.store().await;
        PgHarness { store, db }
    }

    /// The store.
    pub fn store(&self) -> &PgStore {
        &self.store
    }

    /// [`PgDb::role_options`].
    pub fn role_options(database: &str, role: &str) -> PgConnectOptions {
        PgDb::role_options(database, role)
    }
}

impl Deref for PgHarness {
    type Target = PgDb;

    fn deref(&self) -> &PgDb {
        &self.db
    }
}
