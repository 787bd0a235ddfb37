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
pub mod embedding;
mod entities;
pub mod error;
pub mod external_ids;
pub mod idempotency;
pub mod interned;
pub mod lexical;
pub mod limiter;
pub mod matching;
pub mod outbox;
pub mod page;
pub mod partners;
pub mod postings;
pub mod semantic;
pub mod talent;
pub mod tokens;
pub mod users;
pub mod webhooks;

pub mod telemetry;
pub use db::{Backend, Database, Pool, PoolSettings, PoolUsage, Transaction};

/// A Redis client for `url`. `rediss://` is verified against `root_cert` (PEM) when given, else
/// against the system's roots.
pub fn redis_client(url: &str, root_cert: Option<&[u8]>) -> redis::RedisResult<redis::Client> {
    match root_cert {
        Some(pem) => redis::Client::build_with_tls(
            url,
            redis::TlsCertificates { client_tls: None, root_cert: Some(pem.to_vec()) },
        ),
        None => redis::Client::open(url),
    }
}
pub use error::{Fault, StoreError};
pub use sea_orm::{
    ConnectionTrait, DatabaseConnection, DatabaseTransaction, DbBackend, DbErr, Statement, TransactionTrait,
};
