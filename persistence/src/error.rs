//! The persistence error: what callers must tell apart, and the database error for the rest.

use sea_orm::{DbErr, SqlErr};

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
