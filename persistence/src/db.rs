//! Connecting to SQLite (embedded default) or Postgres, and applying migrations.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use sea_orm::sqlx::sqlite::{SqliteJournalMode, SqliteSynchronous};
use sea_orm::{
    ConnectOptions, DatabaseConnection, DatabaseTransaction, DbBackend, DbErr, SqliteTransactionMode,
    TransactionOptions, TransactionTrait,
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
    pub conn: DatabaseConnection,
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

impl Database {
    /// The pool's open connections and how many of them are idle.
    pub fn pool_usage(&self) -> (u32, usize) {
        match self.backend {
            Backend::Postgres => {
                let pool = self.conn.get_postgres_connection_pool();
                (pool.size(), pool.num_idle())
            }
            Backend::Sqlite => {
                let pool = self.conn.get_sqlite_connection_pool();
                (pool.size(), pool.num_idle())
            }
        }
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
        Ok(Self { conn, backend, stats })
    }

    /// Begins a transaction that will write. On SQLite it takes the write lock at once (`BEGIN
    /// IMMEDIATE`), so concurrent writers queue on the busy timeout instead of failing when a
    /// read inside the transaction (the search index's triggers read) would need upgrading.
    pub async fn write(&self) -> Result<DatabaseTransaction, DbErr> {
        self.conn
            .begin_with_options(TransactionOptions {
                sqlite_transaction_mode: Some(SqliteTransactionMode::Immediate),
                ..Default::default()
            })
            .await
    }

    /// Answers when the database does (for `/readyz`).
    pub async fn ping(&self) -> Result<(), DbErr> {
        self.conn.ping().await
    }
}
