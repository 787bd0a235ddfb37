//! Persistence: the only place that speaks SQL. Repositories take the connection as their last
//! argument (`&impl ConnectionTrait`) so one function runs on the pool or inside a transaction;
//! use cases open the transaction, commit once, then invalidate the cache.

pub mod applications;
pub mod breaker;
pub mod bus;
pub mod cache;
pub mod candidates;
pub mod companies;
pub mod db;
mod entities;
pub mod error;
pub mod external_ids;
pub mod idempotency;
pub mod limiter;
pub mod matching;
pub mod outbox;
pub mod page;
pub mod partners;
pub mod postings;
pub mod tokens;
pub mod users;
pub mod webhooks;

pub use db::{Backend, Database, PoolSettings};
pub use error::{Fault, StoreError};
pub use sea_orm::{
    ConnectionTrait, DatabaseConnection, DatabaseTransaction, DbBackend, DbErr, Statement, TransactionTrait,
};
