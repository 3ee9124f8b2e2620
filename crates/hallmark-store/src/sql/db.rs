//! The seam between the generic operations and sqlx.
//!
//! The operations are written once over [`SqlDb`], which both sqlx databases Hallmark uses
//! implement. sqlx's own generic API needs a long list of bounds (`String: Encode<'q, DB>`,
//! `&mut DB::Connection: Executor`, …) that Rust does not carry from a trait to its users,
//! so they would have to be repeated on every generic function. Here they are stated once,
//! on the blanket implementation of [`SqlDb`] (and of [`Columns`] for rows); the operations
//! only see these small traits:
//!
//! - [`query`] builds a statement with `$n` placeholders (both backends accept them) and
//!   [`Query::bind`] binds an [`Arg`] — text, bytes, integers or a time, each possibly
//!   `NULL`, borrowed where the caller can lend it;
//! - [`Query::execute`], [`Query::fetch_all`], [`Query::fetch_optional`] and
//!   [`Query::fetch_one`] run it on anything that [`Executes`]: the pool, a transaction, or
//!   a write batch's transaction;
//! - [`Columns::col`] reads a column of a row by name as any [`FromColumn`] type.
//!
//! Every future handed back is boxed and `Send`, so the generic operations are `Send`
//! without proofs about sqlx's internals.

use std::borrow::Cow;
use std::future::Future;
use std::pin::Pin;

use sqlx::{ColumnIndex, Database, Decode, Encode, Executor, IntoArguments, Pool, Type};
use time::OffsetDateTime;

/// A boxed, `Send` future (what sqlx's executors return, too).
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// A value bound to a placeholder.
#[derive(Debug, Clone)]
pub enum Arg<'q> {
    /// `TEXT` (or `NULL`).
    Text(Option<Cow<'q, str>>),
    /// `BLOB` / `BYTEA` (or `NULL`).
    Bytes(Option<Cow<'q, [u8]>>),
    /// A 32-bit integer (`INTEGER` on PostgreSQL).
    Int(i32),
    /// A 32-bit integer or `NULL`.
    OptInt(Option<i32>),
    /// A 64-bit integer (`BIGINT` on PostgreSQL).
    BigInt(i64),
    /// A time (or `NULL`).
    Time(Option<OffsetDateTime>),
}

impl<'q> From<&'q str> for Arg<'q> {
    fn from(v: &'q str) -> Self {
        Arg::Text(Some(Cow::Borrowed(v)))
    }
}

impl<'q> From<&'q String> for Arg<'q> {
    fn from(v: &'q String) -> Self {
        Arg::Text(Some(Cow::Borrowed(v.as_str())))
    }
}

impl From<String> for Arg<'_> {
    fn from(v: String) -> Self {
        Arg::Text(Some(Cow::Owned(v)))
    }
}

impl From<Option<String>> for Arg<'_> {
    fn from(v: Option<String>) -> Self {
        Arg::Text(v.map(Cow::Owned))
    }
}

impl<'q> From<&'q Option<String>> for Arg<'q> {
    fn from(v: &'q Option<String>) -> Self {
        Arg::Text(v.as_deref().map(Cow::Borrowed))
    }
}

impl<'q> From<&'q [u8]> for Arg<'q> {
    fn from(v: &'q [u8]) -> Self {
        Arg::Bytes(Some(Cow::Borrowed(v)))
    }
}

impl<'q> From<&'q Vec<u8>> for Arg<'q> {
    fn from(v: &'q Vec<u8>) -> Self {
        Arg::Bytes(Some(Cow::Borrowed(v.as_slice())))
    }
}

impl From<Vec<u8>> for Arg<'_> {
    fn from(v: Vec<u8>) -> Self {
        Arg::Bytes(Some(Cow::Owned(v)))
    }
}

impl From<Option<Vec<u8>>> for Arg<'_> {
    fn from(v: Option<Vec<u8>>) -> Self {
        Arg::Bytes(v.map(Cow::Owned))
    }
}

impl<'q> From<&'q Option<Vec<u8>>> for Arg<'q> {
    fn from(v: &'q Option<Vec<u8>>) -> Self {
        Arg::Bytes(v.as_deref().map(Cow::Borrowed))
    }
}

impl From<i32> for Arg<'_> {
    fn from(v: i32) -> Self {
        Arg::Int(v)
    }
}

impl From<Option<i32>> for Arg<'_> {
    fn from(v: Option<i32>) -> Self {
        Arg::OptInt(v)
    }
}

impl From<i64> for Arg<'_> {
    fn from(v: i64) -> Self {
        Arg::BigInt(v)
    }
}

impl From<OffsetDateTime> for Arg<'_> {
    fn from(v: OffsetDateTime) -> Self {
        Arg::Time(Some(v))
    }
}

impl From<Option<OffsetDateTime>> for Arg<'_> {
    fn from(v: Option<OffsetDateTime>) -> Self {
        Arg::Time(v)
    }
}

/// A statement and its arguments, not yet run.
#[derive(Debug, Clone)]
pub struct Query<'q> {
    sql: &'q str,
    args: Vec<Arg<'q>>,
}

/// A statement with `$n` placeholders.
pub fn query(sql: &str) -> Query<'_> {
    Query {
        sql,
        args: Vec::new(),
    }
}

/// Where a statement runs: a pool (any connection) or one connection (a transaction's).
pub enum Conn<'e, DB: Database> {
    /// A connection of the pool.
    Pool(&'e Pool<DB>),
    /// This connection.
    One(&'e mut DB::Connection),
}

/// Something a statement can run on (see [`Conn`]).
pub trait Executes<'e>: Send {
    /// Its database.
    type Db: SqlDb;
    /// Where the statement runs.
    fn conn(self) -> Conn<'e, Self::Db>;
}

impl<'e, DB: SqlDb> Executes<'e> for &'e Pool<DB> {
    type Db = DB;
    fn conn(self) -> Conn<'e, DB> {
        Conn::Pool(self)
    }
}

impl<'e, DB: SqlDb> Executes<'e> for &'e mut sqlx::Transaction<'static, DB> {
    type Db = DB;
    fn conn(self) -> Conn<'e, DB> {
        Conn::One(&mut **self)
    }
}

/// A row of `E`'s database.
pub type RowOf<'e, E> = <<E as Executes<'e>>::Db as Database>::Row;

impl<'q> Query<'q> {
    /// Binds the next placeholder.
    pub fn bind(mut self, arg: impl Into<Arg<'q>>) -> Self {
        self.args.push(arg.into());
        self
    }

    /// Runs the statement; the number of rows it changed.
    pub fn execute<'e, E: Executes<'e>>(self, on: E) -> BoxFuture<'e, sqlx::Result<u64>>
    where
        'q: 'e,
    {
        E::Db::execute(on.conn(), self)
    }

    /// Runs the statement; every row.
    pub fn fetch_all<'e, E: Executes<'e>>(
        self,
        on: E,
    ) -> BoxFuture<'e, sqlx::Result<Vec<RowOf<'e, E>>>>
    where
        'q: 'e,
    {
        E::Db::fetch_all(on.conn(), self)
    }

    /// Runs the statement; its first row, if any.
    pub fn fetch_optional<'e, E: Executes<'e>>(
        self,
        on: E,
    ) -> BoxFuture<'e, sqlx::Result<Option<RowOf<'e, E>>>>
    where
        'q: 'e,
    {
        E::Db::fetch_optional(on.conn(), self)
    }

    /// Runs the statement; its first row (`RowNotFound` if none).
    pub fn fetch_one<'e, E: Executes<'e>>(self, on: E) -> BoxFuture<'e, sqlx::Result<RowOf<'e, E>>>
    where
        'q: 'e,
    {
        E::Db::fetch_one(on.conn(), self)
    }
}

/// Runs statements without parameters, possibly several in one round trip: a plain string
/// has no arguments, so PostgreSQL runs it with the simple query protocol (which allows
/// several statements) and SQLite runs each in turn.
pub fn execute_batch<'e, E: Executes<'e>>(on: E, sql: &'e str) -> BoxFuture<'e, sqlx::Result<()>> {
    E::Db::execute_batch(on.conn(), sql)
}

/// A sqlx database the operations can run on (SQLite and PostgreSQL; see the module docs).
pub trait SqlDb: Database<Row: Columns> {
    /// See [`Query::execute`].
    fn execute<'e>(on: Conn<'e, Self>, q: Query<'e>) -> BoxFuture<'e, sqlx::Result<u64>>;
    /// See [`Query::fetch_all`].
    fn fetch_all<'e>(
        on: Conn<'e, Self>,
        q: Query<'e>,
    ) -> BoxFuture<'e, sqlx::Result<Vec<Self::Row>>>;
    /// See [`Query::fetch_optional`].
    fn fetch_optional<'e>(
        on: Conn<'e, Self>,
        q: Query<'e>,
    ) -> BoxFuture<'e, sqlx::Result<Option<Self::Row>>>;
    /// See [`Query::fetch_one`].
    fn fetch_one<'e>(on: Conn<'e, Self>, q: Query<'e>) -> BoxFuture<'e, sqlx::Result<Self::Row>>;
    /// See [`execute_batch`].
    fn execute_batch<'e>(on: Conn<'e, Self>, sql: &'e str) -> BoxFuture<'e, sqlx::Result<()>>;
    /// Begins a transaction with `statement` (e.g. `BEGIN IMMEDIATE`).
    fn begin_with(
        pool: &Pool<Self>,
        statement: &'static str,
    ) -> BoxFuture<'static, sqlx::Result<sqlx::Transaction<'static, Self>>>;
    /// Commits `tx`.
    fn commit(tx: sqlx::Transaction<'static, Self>) -> BoxFuture<'static, sqlx::Result<()>>;
    /// Rolls `tx` back.
    fn rollback(tx: sqlx::Transaction<'static, Self>) -> BoxFuture<'static, sqlx::Result<()>>;
}

/// The sqlx query of `q` for `DB`.
fn build<'q, DB>(q: Query<'q>) -> sqlx::query::Query<'q, DB, DB::Arguments<'q>>
where
    DB: Database,
    for<'a> &'a str: Encode<'a, DB> + Type<DB>,
    for<'a> Option<&'a str>: Encode<'a, DB>,
    String: for<'a> Encode<'a, DB> + Type<DB>,
    for<'a> &'a [u8]: Encode<'a, DB> + Type<DB>,
    for<'a> Option<&'a [u8]>: Encode<'a, DB>,
    Vec<u8>: for<'a> Encode<'a, DB> + Type<DB>,
    i32: for<'a> Encode<'a, DB> + Type<DB>,
    Option<i32>: for<'a> Encode<'a, DB>,
    i64: for<'a> Encode<'a, DB> + Type<DB>,
    OffsetDateTime: for<'a> Encode<'a, DB> + Type<DB>,
    Option<OffsetDateTime>: for<'a> Encode<'a, DB>,
{
    let mut out = sqlx::query::<DB>(q.sql);
    for arg in q.args {
        out = match arg {
            Arg::Text(None) => out.bind(None::<&str>),
            Arg::Text(Some(Cow::Borrowed(v))) => out.bind(v),
            Arg::Text(Some(Cow::Owned(v))) => out.bind(v),
            Arg::Bytes(None) => out.bind(None::<&[u8]>),
            Arg::Bytes(Some(Cow::Borrowed(v))) => out.bind(v),
            Arg::Bytes(Some(Cow::Owned(v))) => out.bind(v),
            Arg::Int(v) => out.bind(v),
            Arg::OptInt(v) => out.bind(v),
            Arg::BigInt(v) => out.bind(v),
            Arg::Time(v) => out.bind(v),
        };
    }
    out
}

/// The number of rows a statement changed (inherent on each backend's query result).
pub trait RowsAffected {
    /// The number of rows changed.
    fn rows_affected(&self) -> u64;
}

impl RowsAffected for sqlx::sqlite::SqliteQueryResult {
    fn rows_affected(&self) -> u64 {
        sqlx::sqlite::SqliteQueryResult::rows_affected(self)
    }
}

impl RowsAffected for sqlx::postgres::PgQueryResult {
    fn rows_affected(&self) -> u64 {
        sqlx::postgres::PgQueryResult::rows_affected(self)
    }
}

impl<DB> SqlDb for DB
where
    DB: Database<Row: Columns, QueryResult: RowsAffected>,
    for<'c> &'c mut DB::Connection: Executor<'c, Database = DB>,
    for<'q> DB::Arguments<'q>: IntoArguments<'q, DB>,
    for<'a> &'a str: Encode<'a, DB> + Type<DB>,
    for<'a> Option<&'a str>: Encode<'a, DB>,
    String: for<'a> Encode<'a, DB> + Type<DB>,
    for<'a> &'a [u8]: Encode<'a, DB> + Type<DB>,
    for<'a> Option<&'a [u8]>: Encode<'a, DB>,
    Vec<u8>: for<'a> Encode<'a, DB> + Type<DB>,
    i32: for<'a> Encode<'a, DB> + Type<DB>,
    Option<i32>: for<'a> Encode<'a, DB>,
    i64: for<'a> Encode<'a, DB> + Type<DB>,
    OffsetDateTime: for<'a> Encode<'a, DB> + Type<DB>,
    Option<OffsetDateTime>: for<'a> Encode<'a, DB>,
{
    fn execute<'e>(on: Conn<'e, Self>, q: Query<'e>) -> BoxFuture<'e, sqlx::Result<u64>> {
        let q = build::<DB>(q);
        let done = match on {
            Conn::Pool(pool) => pool.execute(q),
            Conn::One(conn) => conn.execute(q),
        };
        Box::pin(async move { Ok(RowsAffected::rows_affected(&done.await?)) })
    }

    fn fetch_all<'e>(
        on: Conn<'e, Self>,
        q: Query<'e>,
    ) -> BoxFuture<'e, sqlx::Result<Vec<Self::Row>>> {
        let q = build::<DB>(q);
        match on {
            Conn::Pool(pool) => pool.fetch_all(q),
            Conn::One(conn) => conn.fetch_all(q),
        }
    }

    fn fetch_optional<'e>(
        on: Conn<'e, Self>,
        q: Query<'e>,
    ) -> BoxFuture<'e, sqlx::Result<Option<Self::Row>>> {
        let q = build::<DB>(q);
        match on {
            Conn::Pool(pool) => pool.fetch_optional(q),
            Conn::One(conn) => conn.fetch_optional(q),
        }
    }

    fn fetch_one<'e>(on: Conn<'e, Self>, q: Query<'e>) -> BoxFuture<'e, sqlx::Result<Self::Row>> {
        let q = build::<DB>(q);
        match on {
            Conn::Pool(pool) => pool.fetch_one(q),
            Conn::One(conn) => conn.fetch_one(q),
        }
    }

    fn execute_batch<'e>(on: Conn<'e, Self>, sql: &'e str) -> BoxFuture<'e, sqlx::Result<()>> {
        let done = match on {
            Conn::Pool(pool) => pool.execute(sql),
            Conn::One(conn) => conn.execute(sql),
        };
        Box::pin(async move {
            done.await?;
            Ok(())
        })
    }

    fn begin_with(
        pool: &Pool<Self>,
        statement: &'static str,
    ) -> BoxFuture<'static, sqlx::Result<sqlx::Transaction<'static, Self>>> {
        let pool = pool.clone();
        Box::pin(async move { pool.begin_with(statement).await })
    }

    fn commit(tx: sqlx::Transaction<'static, Self>) -> BoxFuture<'static, sqlx::Result<()>> {
        Box::pin(tx.commit())
    }

    fn rollback(tx: sqlx::Transaction<'static, Self>) -> BoxFuture<'static, sqlx::Result<()>> {
        Box::pin(tx.rollback())
    }
}

/// Typed reads of a row's columns by name (see [`FromColumn`] for the types).
pub trait Columns {
    /// The column `name` as `T`.
    fn col<T: FromColumn>(&self, name: &str) -> sqlx::Result<T>
    where
        Self: Sized,
    {
        T::from_column(self, name)
    }
    #[doc(hidden)]
    fn text(&self, name: &str) -> sqlx::Result<Option<String>>;
    #[doc(hidden)]
    fn bytes(&self, name: &str) -> sqlx::Result<Option<Vec<u8>>>;
    #[doc(hidden)]
    fn int(&self, name: &str) -> sqlx::Result<Option<i32>>;
    #[doc(hidden)]
    fn big_int(&self, name: &str) -> sqlx::Result<Option<i64>>;
    #[doc(hidden)]
    fn time(&self, name: &str) -> sqlx::Result<Option<OffsetDateTime>>;
    #[doc(hidden)]
    fn boolean(&self, name: &str) -> sqlx::Result<Option<bool>>;
}

impl<R> Columns for R
where
    R: sqlx::Row,
    for<'a> &'a str: ColumnIndex<R>,
    String: for<'r> Decode<'r, R::Database> + Type<R::Database>,
    Vec<u8>: for<'r> Decode<'r, R::Database> + Type<R::Database>,
    i32: for<'r> Decode<'r, R::Database> + Type<R::Database>,
    i64: for<'r> Decode<'r, R::Database> + Type<R::Database>,
    OffsetDateTime: for<'r> Decode<'r, R::Database> + Type<R::Database>,
    bool: for<'r> Decode<'r, R::Database> + Type<R::Database>,
{
    fn text(&self, name: &str) -> sqlx::Result<Option<String>> {
        self.try_get(name)
    }
    fn bytes(&self, name: &str) -> sqlx::Result<Option<Vec<u8>>> {
        self.try_get(name)
    }
    fn int(&self, name: &str) -> sqlx::Result<Option<i32>> {
        self.try_get(name)
    }
    fn big_int(&self, name: &str) -> sqlx::Result<Option<i64>> {
        self.try_get(name)
    }
    fn time(&self, name: &str) -> sqlx::Result<Option<OffsetDateTime>> {
        self.try_get(name)
    }
    fn boolean(&self, name: &str) -> sqlx::Result<Option<bool>> {
        self.try_get(name)
    }
}

/// A Rust type a column decodes to: the SQL type's value, or `None` for `NULL` with
/// `Option<T>` (a `NULL` read as a plain `T` is sqlx's `UnexpectedNullError`).
pub trait FromColumn: Sized {
    /// Reads the column `name` of `row`.
    fn from_column<R: Columns + ?Sized>(row: &R, name: &str) -> sqlx::Result<Self>;
}

/// Refuses a `NULL` where the column must have a value, as sqlx does.
fn not_null<T>(v: Option<T>, name: &str) -> sqlx::Result<T> {
    v.ok_or_else(|| sqlx::Error::ColumnDecode {
        index: format!("{name:?}"),
        source: Box::new(sqlx::error::UnexpectedNullError),
    })
}

macro_rules! from_column {
    ($($ty:ty => $read:ident),* $(,)?) => {$(
        impl FromColumn for $ty {
            fn from_column<R: Columns + ?Sized>(row: &R, name: &str) -> sqlx::Result<Self> {
                not_null(row.$read(name)?, name)
            }
        }
        impl FromColumn for Option<$ty> {
            fn from_column<R: Columns + ?Sized>(row: &R, name: &str) -> sqlx::Result<Self> {
                row.$read(name)
            }
        }
    )*};
}

from_column! {
    String => text,
    Vec<u8> => bytes,
    i32 => int,
    i64 => big_int,
    OffsetDateTime => time,
    bool => boolean,
}
