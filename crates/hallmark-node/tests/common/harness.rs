//! A node on restartable data (SQLite or a per-test PostgreSQL database, and a file
//! keystore), started over real HTTP, with the requests the log and attack suites share.
#![allow(clippy::unwrap_used, clippy::expect_used, dead_code)]

use crate::common::{self, Reply};
use crate::pg;
use hallmark_core::tlog::VerifierKey;
use hallmark_keys::keystore::{KdfParams, Keystore};
use hallmark_keys::KeystoreCustody;
use hallmark_node::app::AppState;
use hallmark_node::config::AdminCredentials;
use hallmark_node::node::{self, Running};
use hallmark_store::{AuditRecord, SqliteStore, Store};
use reqwest::Method;
use secrecy::SecretString;
use serde_json::Value;
use sqlx::Connection;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

pub const ADMIN_USER: &str = "operator";
pub const ADMIN_PASS: &str = "test-admin-password-0123456789";
pub const PASSPHRASE: &str = "test keystore passphrase";
pub const BASE_URL: &str = "http://localhost:8080";

#[derive(Clone, Copy, Debug)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// Where a node's data lives, so that it can be restarted (or doubled) on the same data.
pub struct Data {
    pub dir: tempfile::TempDir,
    pub pg: Option<pg::PgDb>,
}

impl Data {
    pub async fn new(backend: Backend) -> Data {
        let dir = tempfile::tempdir().unwrap();
        Keystore::create(
            dir.path().join("keys.json"),
            &SecretString::from(PASSPHRASE),
            KdfParams::FLOOR,
            time::OffsetDateTime::now_utc(),
        )
        .unwrap();
        let pg = match backend {
            Backend::Sqlite => None,
            Backend::Postgres => Some(pg::PgDb::new().await),
        };
        Data { dir, pg }
    }

    pub fn keystore_path(&self) -> PathBuf {
        self.dir.path().join("keys.json")
    }

    pub fn sqlite_path(&self) -> PathBuf {
        self.dir.path().join("hallmark.db")
    }

    pub fn keystore(&self) -> Keystore {
        Keystore::open(self.keystore_path(), &SecretString::from(PASSPHRASE)).unwrap()
    }

    pub async fn store(&self) -> Arc<dyn Store> {
        match &self.pg {
            None => Arc::new(SqliteStore::open(self.sqlite_path()).await.unwrap()),
            Some(db) => Arc::new(db.store().await),
        }
    }

    /// Starts a node on this data (checkpoint interval 20 ms to keep tests short).
    pub async fn start(&self) -> Node {
        self.start_with(common::edge()).await
    }

    /// [`start`](Self::start) with these edge settings.
    pub async fn start_with(&self, edge: hallmark_node::edge::EdgeConfig) -> Node {
        let signing = Arc::new(KeystoreCustody::new(self.keystore()));
        let app = node::build_app(self.store().await, signing, BASE_URL)
            .await
            .unwrap();
        app.log.set_interval(Duration::from_millis(20));
        Node::start_with(app, &edge).await
    }

    /// Rewrites audit event `seq` and its leaf consistently, as a privileged database user
    /// with the guards bypassed would: the leaf matches its event, so only a checkpoint
    /// signed before the rewrite can expose it.
    pub async fn rewrite_event(&self, mut event: AuditRecord, actor: &str) {
        event.event.actor = actor.to_string();
        let hash = event.leaf_hash().unwrap();
        let hex: String = hash.iter().map(|b| format!("{b:02x}")).collect();
        let (seq, index) = (event.seq, event.seq - 1);
        match &self.pg {
            None => {
                let url = format!("sqlite://{}", self.sqlite_path().display());
                let mut c = sqlx::SqliteConnection::connect(&url).await.unwrap();
                sqlx::raw_sql(&format!(
                    "DROP TRIGGER IF EXISTS audit_no_update; \
                     DROP TRIGGER IF EXISTS log_leaves_no_update; \
                     UPDATE audit_events SET actor = '{actor}' WHERE seq = {seq}; \
                     UPDATE log_leaves SET leaf_hash = X'{hex}' WHERE leaf_index = {index};"
                ))
                .execute(&mut c)
                .await
                .unwrap();
                c.close().await.unwrap();
            }
            Some(db) => {
                let opts = pg::admin_options().database(&db.database);
                let mut c = sqlx::PgConnection::connect_with(&opts).await.unwrap();
                sqlx::raw_sql(&format!(
                    "SET session_replication_role = replica; \
                     UPDATE hallmark.audit_events SET actor = '{actor}' WHERE seq = {seq}; \
                     UPDATE hallmark.log_leaves SET leaf_hash = '\\x{hex}' \
                     WHERE leaf_index = {index};"
                ))
                .execute(&mut c)
                .await
                .unwrap();
                c.close().await.unwrap();
            }
        }
    }
}

pub struct Node {
    pub running: Running,
    pub public: String,
    pub admin: String,
}

/// Polls `f` until it returns `Some` (no timing assertion: the cap only ends a hung test).
pub async fn until<T, F, Fut>(what: &str, mut f: F) -> T
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Option<T>>,
{
    for _ in 0..6_000 {
        if let Some(t) = f().await {
            return t;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    panic!("gave up waiting for {what}");
}

pub fn basic() -> String {
    use base64::Engine;
    format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(format!("{ADMIN_USER}:{ADMIN_PASS}"))
    )
}

impl Node {
    pub async fn start(app: AppState) -> Node {
        Self::start_with(app, &common::edge()).await
    }

    pub async fn start_with(app: AppState, edge: &hallmark_node::edge::EdgeConfig) -> Node {
        let admin = AdminCredentials {
            username: ADMIN_USER.into(),
            password: SecretString::from(ADMIN_PASS),
        };
        let any: SocketAddr = "127.0.0.1:0".parse().unwrap();
        let running = node::start(app, edge, &admin, any, any).await.unwrap();
        Node {
            public: format!("http://{}", running.public_addr),
            admin: format!("http://{}", running.admin_addr),
            running,
        }
    }

    pub fn app(&self) -> &AppState {
        &self.running.app
    }

    pub async fn stop(self) {
        self.running.stop();
        self.running.wait().await.unwrap();
    }

    pub async fn get(&self, path: &str) -> Reply {
        let r = common::client()
            .get(format!("{}{path}", self.public))
            .send()
            .await
            .unwrap();
        Reply::from(r).await
    }

    pub async fn admin(&self, method: Method, path: &str) -> Reply {
        let r = common::client()
            .request(method, format!("{}{path}", self.admin))
            .header("authorization", basic())
            .send()
            .await
            .unwrap();
        Reply::from(r).await
    }

    /// Creates and publishes a passport (admin login); returns (id, publish response).
    pub async fn publish(&self, serial: &str) -> (String, Value) {
        let r = common::client()
            .post(format!("{}/api/v1/passports", self.admin))
            .header("authorization", basic())
            .header("content-type", "application/json")
            .body(serde_json::to_vec(&common::battery_draft(serial)).unwrap())
            .send()
            .await
            .unwrap();
        let r = Reply::from(r).await;
        assert_eq!(r.status, 201, "{}", String::from_utf8_lossy(&r.body));
        let id = r.json()["id"].as_str().unwrap().to_string();
        let p = self
            .admin(Method::POST, &format!("/api/v1/passports/{id}/publish"))
            .await;
        assert_eq!(p.status, 200, "{}", String::from_utf8_lossy(&p.body));
        (id, p.json())
    }

    /// The log key as published by the node.
    pub async fn log_key(&self) -> VerifierKey {
        let r = self.get("/log/key").await;
        assert_eq!(r.status, 200);
        assert_eq!(r.header("content-type"), Some("text/plain; charset=utf-8"));
        VerifierKey::parse(String::from_utf8(r.body).unwrap().trim_end()).unwrap()
    }

    /// Waits until the served checkpoint covers every leaf in the store; returns its note.
    pub async fn checkpoint_covering_everything(&self) -> String {
        let store = Arc::clone(&self.app().store);
        until("a checkpoint covering every leaf", || {
            let store = Arc::clone(&store);
            async move {
                let n = store.audit_len().await.unwrap();
                let r = self.get("/log/checkpoint").await;
                if r.status != 200 {
                    return None;
                }
                let note = String::from_utf8(r.body).unwrap();
                let size: u64 = note.lines().nth(1).unwrap().parse().unwrap();
                (size >= n).then_some(note)
            }
        })
        .await
    }
}
