//! Connecting to SQLite (embedded default) or Postgres, and applying migrations.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use sea_orm::sqlx::pool::PoolConnection;
use sea_orm::sqlx::postgres::PgRow;
use sea_orm::sqlx::sqlite::{SqliteJournalMode, SqliteSynchronous};
use sea_orm::sqlx::{Connection as _, PgPool, Postgres};
use sea_orm::{
    ConnAcquireErr, ConnectOptions, ConnectionTrait, DatabaseConnection, DatabaseTransaction, DbBackend, DbErr,
    ExecResult, QueryResult, RuntimeErr, SqliteTransactionMode, Statement, TransactionOptions, TransactionTrait,
};

/// Which engine a connection speaks to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// Bounds of the connection pool.
#[derive(Debug, Clone)]
pub struct PoolSettings {
    pub max_connections: u32,
    pub acquire_timeout: Duration,
    /// Postgres only: the longest a statement may run before the server cancels it.
    pub statement_timeout: Option<Duration>,
    /// Postgres only: plan each prepared statement once and reuse the plan
    /// (`plan_cache_mode = force_generic_plan`). Left to itself, Postgres re-plans a statement on
    /// every execution when its generic plan *looks* dearer than a custom one, which a `LIMIT $n`
    /// always does: the feed with its companies joined then spent 1.4 ms planning for 0.2 ms of
    /// work (bench/README.md). Every statement here is keyset- and index-shaped, so one plan fits
    /// all its values.
    pub generic_plans: bool,
}

impl Default for PoolSettings {
    fn default() -> Self {
        Self {
            max_connections: 10,
            acquire_timeout: Duration::from_secs(2),
            statement_timeout: None,
            generic_plans: true,
        }
    }
}

/// The connection pool plus what it is connected to.
#[derive(Debug, Clone)]
pub struct Database {
    pub conn: Pool,
    pub backend: Backend,
    /// Every statement this pool ran, counted (for `/metrics` and the tests that pin query counts).
    pub stats: Arc<SqlStats>,
}

/// Statement counters: in total, and by the table a statement reads or writes first.
#[derive(Debug, Default)]
pub struct SqlStats {
    pub statements: AtomicU64,
    pub failed: AtomicU64,
    pub micros: AtomicU64,
    by_table: Mutex<HashMap<String, u64>>,
}

impl SqlStats {
    fn record(&self, info: &sea_orm::metric::Info<'_>) {
        self.statements.fetch_add(1, Ordering::Relaxed);
        if info.failed {
            self.failed.fetch_add(1, Ordering::Relaxed);
        }
        self.micros.fetch_add(u64::try_from(info.elapsed.as_micros()).unwrap_or(u64::MAX), Ordering::Relaxed);
        let sql = &info.statement.sql;
        let table = ["FROM \"", "INTO \"", "UPDATE \""]
            .iter()
            .filter_map(|marker| sql.find(marker).map(|at| (at, &sql[at + marker.len()..])))
            .min_by_key(|(at, _)| *at)
            .and_then(|(_, rest)| rest.split('"').next())
            .unwrap_or("other");
        if let Ok(mut map) = self.by_table.lock() {
            *map.entry(table.to_owned()).or_default() += 1;
        }
        crate::telemetry::statement(info, table);
    }

    /// Statements so far, in total.
    pub fn total(&self) -> u64 {
        self.statements.load(Ordering::Relaxed)
    }

    /// Statements so far whose first table is `table`.
    pub fn on_table(&self, table: &str) -> u64 {
        self.by_table.lock().map(|m| m.get(table).copied().unwrap_or(0)).unwrap_or(0)
    }

    /// Every table with its count, for `/metrics`.
    pub fn tables(&self) -> Vec<(String, u64)> {
        let mut list: Vec<(String, u64)> =
            self.by_table.lock().map(|m| m.iter().map(|(k, v)| (k.clone(), *v)).collect()).unwrap_or_default();
        list.sort();
        list
    }
}

/// The pool's connections as `/metrics` reports them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PoolUsage {
    /// Connections checked out: running a statement or holding a transaction.
    pub in_use: usize,
    pub idle: usize,
    /// Statements and transactions waiting for a connection.
    pub waiting: usize,
}

/// The connection pool, counting who holds or waits for one of its connections.
///
/// sqlx keeps its waiters private, so they are counted here: every statement run on the pool and
/// every transaction (`Database::write`) is a holder from the moment it asks for a connection
/// until it gives it back. Each holder either has a connection or waits for one, so the waiting
/// are the holders less the connections in use. Transactions exist only through
/// `Database::write`, which is why this type has no `TransactionTrait`.
#[derive(Debug, Clone)]
pub struct Pool {
    inner: DatabaseConnection,
    holders: Arc<AtomicUsize>,
    /// Postgres only: connections kept between reads (see `Kept`).
    kept: Option<Arc<Kept>>,
}

/// One holder of the pool, counted while it lives.
struct Held<'a>(&'a AtomicUsize);

impl<'a> Held<'a> {
    fn new(holders: &'a AtomicUsize) -> Self {
        holders.fetch_add(1, Ordering::Relaxed);
        Self(holders)
    }
}

impl Drop for Held<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::Relaxed);
    }
}

impl Pool {
    /// sea-orm's own connection, for the migrator (which only runs at start, before any request).
    pub fn sea_orm(&self) -> &DatabaseConnection {
        &self.inner
    }

    /// The backend, without `ConnectionTrait` in scope (as sea-orm's own connection offers it).
    pub fn get_database_backend(&self) -> DbBackend {
        self.inner.get_database_backend()
    }

    /// Postgres connections kept between reads, idle (0 on SQLite).
    pub fn kept_idle(&self) -> usize {
        self.kept.as_ref().map_or(0, |kept| kept.len())
    }

    fn usage(&self) -> PoolUsage {
        let (open, idle) = match self.inner.get_database_backend() {
            DbBackend::Postgres => {
                let pool = self.inner.get_postgres_connection_pool();
                (pool.size(), pool.num_idle())
            }
            _ => {
                let pool = self.inner.get_sqlite_connection_pool();
                (pool.size(), pool.num_idle())
            }
        };
        let idle = idle + self.kept_idle();
        let in_use = (open as usize).saturating_sub(idle);
        // A connection on its way back to the pool still counts as in use for a moment after its
        // holder left; the difference is then negative and nobody waits.
        let waiting = self.holders.load(Ordering::Relaxed).saturating_sub(in_use);
        PoolUsage { in_use, idle, waiting }
    }
}

#[async_trait::async_trait]
impl ConnectionTrait for Pool {
    fn get_database_backend(&self) -> DbBackend {
        self.inner.get_database_backend()
    }

    async fn execute_raw(&self, stmt: Statement) -> Result<ExecResult, DbErr> {
        let _held = Held::new(&self.holders);
        self.inner.execute_raw(stmt).await
    }

    async fn execute_unprepared(&self, sql: &str) -> Result<ExecResult, DbErr> {
        let _held = Held::new(&self.holders);
        self.inner.execute_unprepared(sql).await
    }

    async fn query_one_raw(&self, stmt: Statement) -> Result<Option<QueryResult>, DbErr> {
        let _held = Held::new(&self.holders);
        match &self.kept {
            Some(kept) => kept.query_one(self.inner.get_postgres_connection_pool(), &stmt).await,
            None => self.inner.query_one_raw(stmt).await,
        }
    }

    async fn query_all_raw(&self, stmt: Statement) -> Result<Vec<QueryResult>, DbErr> {
        let _held = Held::new(&self.holders);
        match &self.kept {
            Some(kept) => kept.query_all(self.inner.get_postgres_connection_pool(), &stmt).await,
            None => self.inner.query_all_raw(stmt).await,
        }
    }

    fn support_returning(&self) -> bool {
        self.inner.support_returning()
    }
}

/// Postgres connections kept out of sqlx's pool between reads.
///
/// sqlx pings every connection that goes back to its pool (a Sync message and Postgres's answer,
/// in a task of its own) so that one left half-way through a statement is cleaned or closed
/// before anyone gets it. For a read that ran to its end, that ping is a second round trip as dear
/// as the statement: with it, an uncached posting by id cost 160 µs of server CPU and 91 µs of
/// Postgres CPU; without it 124 and 57 (bench/README.md). So a connection whose statement
/// succeeded is kept here, and the next read takes it (rows a read left unread are drained by
/// sqlx before the next statement). Everything else goes back to sqlx as before, which pings it:
/// a failed statement, a read dropped half-way (its connection is dropped with it), a connection
/// kept for longer than `KEPT_FOR`. Transactions and writes take theirs from sqlx.
///
/// Readers take turns, first come first served: at most the pool's size less two (less one in a
/// pool of two or three) read at once, so however many connections readers keep, writers find
/// one with sqlx. A pool of one keeps none.
///
/// Like sqlx's own idle connections, one idle for a second or more is pinged before its next
/// statement. One that fails anyway (Postgres restarted under it) costs its read one retry on a
/// connection from sqlx, as a read is safe to repeat, and sends every other kept connection back
/// to sqlx to be pinged.
#[derive(Debug)]
struct Kept {
    idle: Mutex<Vec<Spare>>,
    /// One turn per connection readers may hold at once: fewer than the pool has, so writers
    /// always find one with sqlx, and no more are ever kept.
    turns: tokio::sync::Semaphore,
    /// How long a reader waits for its turn (the pool's acquire timeout).
    wait: Duration,
    stats: Arc<SqlStats>,
}

#[derive(Debug)]
struct Spare {
    conn: PoolConnection<Postgres>,
    /// When it left sqlx's pool: after `KEPT_FOR` it goes back, where sqlx checks its lifetime.
    taken: Instant,
    idle_since: Instant,
}

/// How long a connection is kept out of sqlx's pool before it goes back for sqlx's checks
/// (`max_lifetime`, the idle reaper).
const KEPT_FOR: Duration = Duration::from_secs(60);

/// A kept connection idle this long is pinged before it runs a statement (as sqlx's
/// `test_before_acquire_if_idle_for` does in `Database::connect_with`).
const PING_IF_IDLE_FOR: Duration = Duration::from_secs(1);

impl Kept {
    /// `None` for a pool too small to set connections aside for readers.
    fn new(pool: &PoolSettings, stats: Arc<SqlStats>) -> Option<Self> {
        // Two connections stay with sqlx for writers (one, in a pool of two or three).
        let max = pool.max_connections as usize;
        let turns = max.saturating_sub(if max >= 4 { 2 } else { 1 });
        (turns > 0).then(|| Self {
            idle: Mutex::new(Vec::new()),
            turns: tokio::sync::Semaphore::new(turns),
            wait: pool.acquire_timeout,
            stats,
        })
    }

    fn len(&self) -> usize {
        self.idle.lock().map_or(0, |idle| idle.len())
    }

    /// A turn to read, then a kept connection, the most recently used first (its Postgres backend
    /// is the warmest), or one from sqlx when none is kept. Readers wait for their turn first in,
    /// first served. The `bool` says whether the connection was kept.
    async fn take(
        &self,
        pool: &PgPool,
    ) -> Result<(tokio::sync::SemaphorePermit<'_>, PoolConnection<Postgres>, Instant, bool), DbErr> {
        let turn = match tokio::time::timeout(self.wait, self.turns.acquire()).await {
            Ok(Ok(turn)) => turn,
            Ok(Err(_closed)) => return Err(DbErr::ConnectionAcquire(ConnAcquireErr::ConnectionClosed)),
            Err(_elapsed) => return Err(DbErr::ConnectionAcquire(ConnAcquireErr::Timeout)),
        };
        loop {
            let Some(mut spare) = self.idle.lock().ok().and_then(|mut idle| idle.pop()) else { break };
            if spare.taken.elapsed() >= KEPT_FOR {
                continue; // dropped: back to sqlx, which checks its lifetime
            }
            if spare.idle_since.elapsed() >= PING_IF_IDLE_FOR && spare.conn.ping().await.is_err() {
                spare.conn.close_on_drop();
                continue;
            }
            return Ok((turn, spare.conn, spare.taken, true));
        }
        let conn = pool.acquire().await.map_err(|err| match err {
            sea_orm::sqlx::Error::PoolTimedOut => DbErr::ConnectionAcquire(ConnAcquireErr::Timeout),
            sea_orm::sqlx::Error::PoolClosed => DbErr::ConnectionAcquire(ConnAcquireErr::ConnectionClosed),
            other => DbErr::Conn(RuntimeErr::SqlxError(Arc::new(other))),
        })?;
        Ok((turn, conn, Instant::now(), false))
    }

    /// Keeps a connection whose statement ran to its end (there is room: no more are kept than
    /// there are turns, and its reader still holds one).
    fn keep(&self, conn: PoolConnection<Postgres>, taken: Instant) {
        if let Ok(mut idle) = self.idle.lock() {
            idle.push(Spare { conn, taken, idle_since: Instant::now() });
        }
    }

    async fn query_all(&self, pool: &PgPool, stmt: &Statement) -> Result<Vec<QueryResult>, DbErr> {
        Ok(self.run(pool, stmt, Fetch::All).await?.into_iter().map(QueryResult::from).collect())
    }

    async fn query_one(&self, pool: &PgPool, stmt: &Statement) -> Result<Option<QueryResult>, DbErr> {
        Ok(self.run(pool, stmt, Fetch::First).await?.into_iter().next().map(QueryResult::from))
    }

    /// Runs the statement on a kept connection (once more on one from sqlx when a kept one turns
    /// out broken), counting it as sea-orm counts its own statements, and keeps the connection
    /// when the statement succeeded.
    async fn run(&self, pool: &PgPool, stmt: &Statement, fetch: Fetch) -> Result<Vec<PgRow>, DbErr> {
        loop {
            let (_turn, mut conn, taken, was_kept) = self.take(pool).await?;
            let start = Instant::now();
            let result = match fetch {
                Fetch::All => bind(stmt).fetch_all(&mut *conn).await,
                Fetch::First => bind(stmt).fetch_optional(&mut *conn).await.map(|row| row.into_iter().collect()),
            };
            let failed = result.is_err();
            self.stats.record(&sea_orm::metric::Info { elapsed: start.elapsed(), statement: stmt, failed });
            match result {
                Ok(value) => {
                    self.keep(conn, taken);
                    return Ok(value);
                }
                // A kept connection whose Postgres went away: so did the other kept ones, most
                // likely (a restart, a failover). They all go back to sqlx, which pings each and
                // closes the dead; the read runs again on a connection from sqlx, or fails with
                // its error if that one fails too.
                Err(err) if was_kept && gone(&err) => {
                    conn.close_on_drop();
                    let others = self.idle.lock().map(|mut idle| std::mem::take(&mut *idle)).unwrap_or_default();
                    drop(others);
                }
                Err(err) => return Err(DbErr::Query(RuntimeErr::SqlxError(Arc::new(err)))),
            }
        }
    }
}

/// Whether the connection's Postgres backend is gone: the socket failed, or Postgres said it
/// ended the session (SQLSTATE class 57P: an administrator, a crash, a shutdown).
fn gone(err: &sea_orm::sqlx::Error) -> bool {
    use sea_orm::sqlx::Error;
    match err {
        Error::Io(_) | Error::Protocol(_) => true,
        Error::Database(db) => db.code().is_some_and(|code| code.starts_with("57P")),
        _ => false,
    }
}

/// What a read takes of its rows.
#[derive(Clone, Copy)]
enum Fetch {
    All,
    /// The first row, if any (the rest are not read).
    First,
}

/// The statement with its values bound for sqlx, as sea-orm binds them.
fn bind(stmt: &Statement) -> sea_orm::sqlx::query::Query<'_, Postgres, sea_query_sqlx::SqlxValues> {
    let values = stmt.values.clone().unwrap_or_else(|| sea_orm::Values(Vec::new()));
    sea_orm::sqlx::query_with(sea_orm::sqlx::AssertSqlSafe(stmt.sql.as_str()), sea_query_sqlx::SqlxValues(values))
}

/// A holder that outlives a borrow: a transaction's.
struct HeldOwned(Arc<AtomicUsize>);

impl HeldOwned {
    fn new(holders: &Arc<AtomicUsize>) -> Self {
        holders.fetch_add(1, Ordering::Relaxed);
        Self(holders.clone())
    }
}

impl Drop for HeldOwned {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::Relaxed);
    }
}

/// A transaction begun by `Database::write`, counted as a holder of the pool until it ends
/// (committed, or rolled back as it drops).
pub struct Transaction {
    txn: DatabaseTransaction,
    _held: HeldOwned,
}

impl Transaction {
    /// The transaction, for repository calls.
    pub fn conn(&self) -> &DatabaseTransaction {
        &self.txn
    }

    pub async fn commit(self) -> Result<(), DbErr> {
        self.txn.commit().await
    }
}

impl Database {
    /// The pool's connections: in use, idle, and how many callers wait for one.
    pub fn pool_usage(&self) -> PoolUsage {
        self.conn.usage()
    }

    /// Connects with settings fit for the backend: SQLite gets WAL, a busy timeout and foreign keys
    /// on every pooled connection; Postgres gets a bounded pool.
    pub async fn connect(url: &str, max_connections: u32) -> Result<Self, DbErr> {
        Self::connect_with(url, &PoolSettings { max_connections, ..PoolSettings::default() }).await
    }

    /// Connects with explicit pool bounds. Waiting for a connection gives up after
    /// `acquire_timeout` (a dead or saturated database answers fast, not after minutes), and on
    /// Postgres every statement is cancelled after `statement_timeout`.
    pub async fn connect_with(url: &str, pool: &PoolSettings) -> Result<Self, DbErr> {
        let mut url = url.to_owned();
        if url.starts_with("postgres") {
            let mut option = |name: &str, value: String| {
                let joiner = if url.contains('?') { '&' } else { '?' };
                url = format!("{url}{joiner}options[{name}]={value}");
            };
            if let Some(limit) = pool.statement_timeout {
                option("statement_timeout", limit.as_millis().to_string());
            }
            if pool.generic_plans {
                option("plan_cache_mode", "force_generic_plan".to_owned());
            }
        }
        let mut options = ConnectOptions::new(url);
        options
            .max_connections(pool.max_connections)
            .min_connections(1)
            .connect_timeout(pool.acquire_timeout)
            .acquire_timeout(pool.acquire_timeout)
            // sqlx pings a connection when it goes back to the pool, and by default again when it
            // is handed out: with both, each statement cost three round trips to Postgres. A
            // connection is pinged when handed out only after a second or more idle; the ping on
            // return stays for transactions and for reads that did not end cleanly, while a read
            // that did keeps its connection for the next (`Kept`).
            .test_before_acquire_if_idle_for(Duration::from_secs(1))
            .sqlx_logging(false)
            .map_sqlx_sqlite_opts(|o| {
                o.journal_mode(SqliteJournalMode::Wal)
                    .synchronous(SqliteSynchronous::Normal)
                    .busy_timeout(Duration::from_secs(10))
                    .foreign_keys(true)
                    .create_if_missing(true)
            });
        let mut conn = sea_orm::Database::connect(options).await?;
        let stats = Arc::new(SqlStats::default());
        let recorder = stats.clone();
        conn.set_metric_callback(move |info| recorder.record(info));
        let backend = match conn.get_database_backend() {
            DbBackend::Postgres => Backend::Postgres,
            DbBackend::Sqlite => Backend::Sqlite,
            other => return Err(DbErr::Custom(format!("unsupported database backend {other:?}"))),
        };
        let kept = match backend {
            Backend::Postgres => Kept::new(pool, stats.clone()).map(Arc::new),
            Backend::Sqlite => None,
        };
        Ok(Self { conn: Pool { inner: conn, holders: Arc::default(), kept }, backend, stats })
    }

    /// Begins a transaction that will write. On SQLite it takes the write lock at once (`BEGIN
    /// IMMEDIATE`), so concurrent writers queue on the busy timeout instead of failing when a
    /// read inside the transaction (the search index's triggers read) would need upgrading.
    pub async fn write(&self) -> Result<Transaction, DbErr> {
        let held = HeldOwned::new(&self.conn.holders);
        let txn = self
            .conn
            .inner
            .begin_with_options(TransactionOptions {
                sqlite_transaction_mode: Some(SqliteTransactionMode::Immediate),
                ..Default::default()
            })
            .await?;
        Ok(Transaction { txn, _held: held })
    }

    /// Answers when the database does (for `/readyz`).
    pub async fn ping(&self) -> Result<(), DbErr> {
        let _held = Held::new(&self.conn.holders);
        self.conn.inner.ping().await
    }
}
