//! Connecting to SQLite (embedded default) or Postgres, and applying migrations.

use std::time::Duration;

use sea_orm::sqlx::sqlite::{SqliteJournalMode, SqliteSynchronous};
use sea_orm::{ConnectOptions, DatabaseConnection, DbBackend, DbErr};

/// Which engine a connection speaks to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// The connection pool plus what it is connected to.
#[derive(Debug, Clone)]
pub struct Database {
    pub conn: DatabaseConnection,
    pub backend: Backend,
}

impl Database {
    /// Connects with settings fit for the backend: SQLite gets WAL, a busy timeout and foreign keys
    /// on every pooled connection; Postgres gets a bounded pool.
    pub async fn connect(url: &str, max_connections: u32) -> Result<Self, DbErr> {
        let mut options = ConnectOptions::new(url.to_owned());
        options
            .max_connections(max_connections)
            .min_connections(1)
            .connect_timeout(Duration::from_secs(5))
            .acquire_timeout(Duration::from_secs(10))
            .sqlx_logging(false)
            .map_sqlx_sqlite_opts(|o| {
                o.journal_mode(SqliteJournalMode::Wal)
                    .synchronous(SqliteSynchronous::Normal)
                    .busy_timeout(Duration::from_secs(10))
                    .foreign_keys(true)
                    .create_if_missing(true)
            });
        let conn = sea_orm::Database::connect(options).await?;
        let backend = match conn.get_database_backend() {
            DbBackend::Postgres => Backend::Postgres,
            DbBackend::Sqlite => Backend::Sqlite,
            other => return Err(DbErr::Custom(format!("unsupported database backend {other:?}"))),
        };
        Ok(Self { conn, backend })
    }

    /// Answers when the database does (for `/readyz`).
    pub async fn ping(&self) -> Result<(), DbErr> {
        self.conn.ping().await
    }
}
