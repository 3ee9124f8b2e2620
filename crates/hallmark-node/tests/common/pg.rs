//! A per-test PostgreSQL database with its own migration and application roles (as in
//! crates/hallmark-store/tests/common), dropped with its roles at the end of the test.
#![allow(clippy::unwrap_used, clippy::expect_used, dead_code)]

use hallmark_store::postgres::bootstrap_sql;
use hallmark_store::PgStore;
use sqlx::postgres::PgConnectOptions;
use sqlx::{ConnectOptions, Connection, PgConnection};
use std::str::FromStr;
use std::sync::atomic::{AtomicU64, Ordering};

static COUNTER: AtomicU64 = AtomicU64::new(1);
const PG_URL_VAR: &str = "HALLMARK_TEST_PG_URL";
const DEFAULT_PG_URL: &str = "postgres://postgres@127.0.0.1:5432/postgres";

pub fn unique_suffix() -> String {
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .subsec_nanos();
    format!("{}_{:x}_{n}", std::process::id(), nanos)
}

pub fn admin_options() -> PgConnectOptions {
    let url = std::env::var(PG_URL_VAR).unwrap_or_else(|_| DEFAULT_PG_URL.to_owned());
    PgConnectOptions::from_str(&url)
        .unwrap()
        .disable_statement_logging()
}

async fn admin_connect(database: Option<&str>) -> PgConnection {
    let mut opts = admin_options();
    if let Some(db) = database {
        opts = opts.database(db);
    }
    PgConnection::connect_with(&opts)
        .await
        .unwrap_or_else(|e| panic!("PostgreSQL is required for these tests ({PG_URL_VAR}): {e}"))
}

pub struct PgDb {
    pub database: String,
    pub migration_role: String,
    pub app_role: String,
}

impl PgDb {
    pub async fn new() -> PgDb {
        let suffix = unique_suffix();
        let database = format!("hm_node_{suffix}");
        let migration_role = format!("hm_nmig_{suffix}");
        let app_role = format!("hm_napp_{suffix}");
        let sql = bootstrap_sql(&database, &migration_role, None, &app_role, None).unwrap();
        let mut admin = admin_connect(None).await;
        for s in &sql.server {
            sqlx::raw_sql(s).execute(&mut admin).await.unwrap();
        }
        admin.close().await.unwrap();
        let mut admin_db = admin_connect(Some(&database)).await;
        for s in &sql.database {
            sqlx::raw_sql(s).execute(&mut admin_db).await.unwrap();
        }
        admin_db.close().await.unwrap();
        PgDb {
            database,
            migration_role,
            app_role,
        }
    }

    pub fn options(&self, role: &str) -> PgConnectOptions {
        admin_options()
            .username(role)
            .database(&self.database)
            .disable_statement_logging()
    }

    pub async fn store(&self) -> PgStore {
        PgStore::start_with(
            self.options(&self.migration_role),
            self.options(&self.app_role),
            5,
        )
        .await
        .unwrap()
    }
}

impl Drop for PgDb {
    fn drop(&mut self) {
        let database = self.database.clone();
        let roles = vec![self.app_role.clone(), self.migration_role.clone()];
        let cleanup = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap();
            rt.block_on(async move {
                let mut admin = admin_connect(None).await;
                let _ = sqlx::raw_sql(&format!(
                    "DROP DATABASE IF EXISTS \"{database}\" WITH (FORCE)"
                ))
                .execute(&mut admin)
                .await;
                for role in roles {
                    let _ = sqlx::raw_sql(&format!("DROP ROLE IF EXISTS \"{role}\""))
                        .execute(&mut admin)
                        .await;
                }
                let _ = admin.close().await;
            });
        });
        let _ = cleanup.join();
    }
}
