//! Test harness shared by the SQLite and PostgreSQL test binaries: fixtures, a
//! per-test SQLite file, and a per-test PostgreSQL database with its own roles.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

pub mod suite;

use std::str::FromStr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;

use hallmark_core::passport::{Granularity, PassportId};
use hallmark_store::postgres::{self, bootstrap_sql};
use hallmark_store::{
    AuditEvent, Credentials, NewPassport, NewVersion, PgStore, ProductKey, SignedForms, SqliteStore,
};
use sqlx::postgres::PgConnectOptions;
use sqlx::{ConnectOptions, Connection, PgConnection};
use time::OffsetDateTime;

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

/// A fresh UUIDv7 passport id; ids made later sort later.
pub fn new_id() -> PassportId {
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    let millis = 1_750_000_000_000 + n;
    let mut random = [0u8; 10];
    random[..8].copy_from_slice(&(n ^ u64::from(std::process::id())).to_be_bytes());
    PassportId::from_parts(millis, random).unwrap()
}

/// A fixed, microsecond-precision UTC time plus `secs`.
pub fn at(secs: i64) -> OffsetDateTime {
    OffsetDateTime::from_unix_timestamp(1_750_000_000 + secs).unwrap()
}

pub fn audit(secs: i64, action: &str) -> AuditEvent {
    let mut e = AuditEvent::new(at(secs), "test-operator", action);
    e.detail = serde_json::json!({ "note": action });
    e
}

/// An item-level passport of `gtin` with a serial number no other test passport has.
pub fn new_passport(gtin: &str, sector: &str) -> NewPassport {
    let serial = format!("SN-{}", COUNTER.fetch_add(1, Ordering::Relaxed));
    new_passport_for(item(gtin, &serial), sector)
}

/// The item-level key `gtin` + `serial`.
pub fn item(gtin: &str, serial: &str) -> ProductKey {
    ProductKey {
        gtin: gtin.to_owned(),
        granularity: Granularity::Item,
        lot: None,
        serial: Some(serial.to_owned()),
    }
}

/// A passport for exactly this product key.
pub fn new_passport_for(product: ProductKey, sector: &str) -> NewPassport {
    NewPassport {
        id: new_id(),
        product,
        sector_id: sector.to_owned(),
        economic_operator_id: "operator-1".to_owned(),
        content: br#"{"data":{"v":1}}"#.to_vec(),
    }
}

pub fn new_version(version: u32, secs: i64) -> NewVersion {
    let forms = |aud: &str| SignedForms {
        data_integrity: format!(r#"{{"aud":"{aud}","v":{version},"proof":{{}}}}"#).into_bytes(),
        jwt: format!("eyJhbGciOiJFZERTQSJ9.{aud}-{version}.c2ln"),
    };
    NewVersion {
        version,
        content: format!(r#"{{"version":{version}}}"#).into_bytes(),
        key_id: "z6MkKey".to_owned(),
        signed_at: at(secs),
        credentials: Credentials {
            public: forms("public"),
            legitimate_interest: forms("legitimateInterest"),
            authority: forms("authority"),
        },
    }
}

// ---------------------------------------------------------------------------------------
// SQLite
// ---------------------------------------------------------------------------------------

pub struct SqliteHarness {
    pub store: SqliteStore,
    pub dir: tempfile::TempDir,
}

impl SqliteHarness {
    pub async fn new() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let store = SqliteStore::open(dir.path().join("hallmark.db"))
            .await
            .unwrap();
        SqliteHarness { store, dir }
    }

    pub fn store(&self) -> &SqliteStore {
        &self.store
    }
}

// ---------------------------------------------------------------------------------------
// PostgreSQL
// ---------------------------------------------------------------------------------------

pub const PG_URL_VAR: &str = "HALLMARK_TEST_PG_URL";
const DEFAULT_PG_URL: &str = "postgres://postgres@127.0.0.1:5432/postgres";

/// The privileged (superuser) connection options the harness uses to create and drop
/// databases and roles.
pub fn admin_options() -> PgConnectOptions {
    let url = std::env::var(PG_URL_VAR).unwrap_or_else(|_| DEFAULT_PG_URL.to_owned());
    PgConnectOptions::from_str(&url)
        .unwrap_or_else(|e| panic!("{PG_URL_VAR}={url} is not a PostgreSQL URL: {e}"))
        .disable_statement_logging()
}

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
/// suffix), migrated, and dropped with its roles when the harness is dropped.
pub struct PgHarness {
    pub store: PgStore,
    pub database: String,
    pub migration_role: String,
    pub app_role: String,
    extra_roles: Mutex<Vec<String>>,
}

impl PgHarness {
    pub async fn new() -> Self {
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
        let harness_roles = Mutex::new(Vec::new());
        let store = PgStore::start_with(
            Self::role_options(&database, &migration_role),
            Self::role_options(&database, &app_role),
            5,
        )
        .await
        .unwrap();
        PgHarness {
            store,
            database,
            migration_role,
            app_role,
            extra_roles: harness_roles,
        }
    }

    pub fn store(&self) -> &PgStore {
        &self.store
    }

    pub fn role_options(database: &str, role: &str) -> PgConnectOptions {
        admin_options()
            .username(role)
            .database(database)
            .disable_statement_logging()
    }

    /// A plain connection as the application role, schema on the search path.
    pub async fn app_connection(&self) -> PgConnection {
        let opts = postgres::app_options(Self::role_options(&self.database, &self.app_role));
        PgConnection::connect_with(&opts).await.unwrap()
    }

    /// A plain connection as the migration role (owner of everything).
    pub async fn migration_connection(&self) -> PgConnection {
        let opts = postgres::app_options(Self::role_options(&self.database, &self.migration_role));
        PgConnection::connect_with(&opts).await.unwrap()
    }

    /// Runs statements as superuser in this test's database.
    pub async fn admin_exec(&self, statements: &[String]) {
        let mut admin = admin_connect(Some(&self.database)).await;
        for s in statements {
            sqlx::raw_sql(s).execute(&mut admin).await.unwrap();
        }
        admin.close().await.unwrap();
    }

    /// Creates an extra login role (dropped with the harness), member of the app role.
    pub async fn extra_role(&self, name: &str, attributes: &str) -> String {
        let role = format!("hm_x{name}_{}", unique_suffix());
        {
            let mut admin = admin_connect(None).await;
            sqlx::raw_sql(&format!(
                "CREATE ROLE \"{role}\" LOGIN {attributes} IN ROLE \"{}\"",
                self.app_role
            ))
            .execute(&mut admin)
            .await
            .unwrap();
            admin.close().await.unwrap();
        }
        self.extra_roles.lock().unwrap().push(role.clone());
        role
    }
}

impl Drop for PgHarness {
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
        let result = cleanup.join();
        if result.is_err() && !std::thread::panicking() {
            panic!("PostgreSQL test cleanup failed for {}", self.database);
        }
    }
}
