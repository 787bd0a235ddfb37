//! The persistence error: what callers must tell apart, and the database error for the rest.

use sea_orm::{DbErr, RuntimeErr, SqlErr};

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// A unique constraint refused the write; the payload names what was duplicated.
    #[error("{0} already exists")]
    Duplicate(&'static str),
    /// An optimistic-concurrency check failed: someone else changed the row first.
    #[error("the record was changed since it was read")]
    StaleVersion,
    /// A stored value no longer parses as its domain type.
    #[error("stored data is invalid: {0}")]
    Corrupt(String),
    #[error("database error: {0}")]
    Db(#[from] DbErr),
}

impl StoreError {
    /// Classifies a write error: a unique violation becomes `Duplicate(what)`.
    pub fn on_write(err: DbErr, what: &'static str) -> Self {
        match err.sql_err() {
            Some(SqlErr::UniqueConstraintViolation(_)) => Self::Duplicate(what),
            _ => Self::Db(err),
        }
    }

    pub fn corrupt(what: impl std::fmt::Display) -> Self {
        Self::Corrupt(what.to_string())
    }
}

/// What a failed database call means for the caller.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    /// The database did not answer: refused or lost connections, an exhausted pool, a server
    /// shutting down. Worth retrying shortly.
    Unavailable,
    /// A statement ran past its time limit and was cancelled.
    Timeout,
    /// Anything else: a bug or bad data, not the client's to retry.
    Other,
}

impl Fault {
    pub fn of(err: &DbErr) -> Self {
        match err {
            DbErr::ConnectionAcquire(_) | DbErr::Conn(_) => Self::Unavailable,
            DbErr::Exec(RuntimeErr::SqlxError(e)) | DbErr::Query(RuntimeErr::SqlxError(e)) => Self::of_sqlx(e),
            _ => Self::Other,
        }
    }

    fn of_sqlx(err: &sea_orm::sqlx::Error) -> Self {
        use sea_orm::sqlx::Error as E;
        match err {
            E::Io(_) | E::PoolTimedOut | E::PoolClosed | E::WorkerCrashed | E::Tls(_) => Self::Unavailable,
            E::Database(db) => match db.code().as_deref() {
                // Postgres query_canceled: statement_timeout fired.
                Some("57014") => Self::Timeout,
                // Connection exceptions, shutdowns, too many connections; SQLite busy or locked.
                Some(code)
                    if code.starts_with("08")
                        || matches!(code, "57P01" | "57P02" | "57P03" | "53300" | "5" | "6" | "517") =>
                {
                    Self::Unavailable
                }
                _ => Self::Other,
            },
            _ => Self::Other,
        }
    }
}

impl StoreError {
    /// The fault behind a database error (`Other` for the rest).
    pub fn fault(&self) -> Fault {
        match self {
            Self::Db(err) => Fault::of(err),
            _ => Fault::Other,
        }
    }
}
