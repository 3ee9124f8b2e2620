//! Hallmark's shared test kit: what the node, store and CLI test suites need to stand up
//! real infrastructure, written once.
//!
//! - [`pg`] — a per-test PostgreSQL database with its own migration and application roles
//!   (`HALLMARK_TEST_PG_URL`, default `postgres://postgres@127.0.0.1:5432/postgres`),
//!   dropped with its roles when the test ends; [`pg::PgHarness`] adds a started `PgStore`.
//! - [`store`] — [`SqliteHarness`] (a store on a per-test SQLite file) and
//!   [`StoreTestExt`], shorthands over the `Store` port that the node does not need.
//! - [`node`] — [`TestNode`], a builder for a node served over real HTTP on loopback
//!   (backend, keys, plugins, edge settings, checkpoint interval, an API key), [`Data`]
//!   for nodes restarted or doubled on the same data, and the requests the suites share
//!   (admin login, [`basic()`], JSON requests).
//! - [`http`] — serving a bare router, a client, [`Reply`] with its assertions, [`until`].
//! - [`both!`] — runs an `async fn(Backend)` test once on SQLite and once on PostgreSQL.
//!
//! Dev-only (`publish = false`): test crates take it as a dev-dependency; no production
//! crate depends on it. Helpers panic on failure — that is how a test fails.
#![allow(clippy::unwrap_used, clippy::expect_used)]

pub mod http;
pub mod nats;
pub mod node;
pub mod pg;
pub mod store;

pub use http::{client, serve, until, Reply};
pub use node::{
    basic, battery_data, battery_draft, edge, generic_draft, Data, Node, TestNode, ADMIN_PASS,
    ADMIN_USER, BASE_URL, PASSPHRASE,
};
pub use store::{SqliteHarness, StoreTestExt};

/// Where a test node keeps its data.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    /// A SQLite file in the node's temporary directory.
    Sqlite,
    /// A per-test PostgreSQL database with its own roles ([`pg::PgDb`]).
    Postgres,
}

/// `both!(case)`: runs `async fn case(Backend)` once on SQLite and once on PostgreSQL, as
/// the tests `case::sqlite` and `case::postgres` (multi-threaded runtime, two workers).
#[macro_export]
macro_rules! both {
    ($name:ident) => {
        mod $name {
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                super::$name($crate::Backend::Sqlite).await;
            }
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() {
                super::$name($crate::Backend::Postgres).await;
            }
        }
    };
}
