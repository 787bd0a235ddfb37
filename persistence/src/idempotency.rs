//! Idempotency keys: claiming a key for one execution, storing its answer, reading it back.
//! The primary key (caller, key) decides between concurrent first requests.

use chrono::{DateTime, Utc};
use sea_orm::ActiveValue::Set;
use sea_orm::sea_query::{Expr, OnConflict};
use sea_orm::{ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, TryInsertResult};

use crate::entities::idempotency_keys as keys;
use crate::error::StoreError;

/// A stored key as another request finds it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Stored {
    pub request_hash: String,
    /// The answer, once the first request finished.
    pub response: Option<(u16, String)>,
    pub locked_until: DateTime<Utc>,
    pub created_at: DateTime<Utc>,
}

/// Claims `(principal, key)` for this request; false when a row exists already.
pub async fn claim(
    principal: &str,
    key: &str,
    request_hash: &str,
    now: DateTime<Utc>,
    locked_until: DateTime<Utc>,
    conn: &impl ConnectionTrait,
) -> Result<bool, StoreError> {
    let row = keys::ActiveModel {
        principal: Set(principal.to_owned()),
        key: Set(key.to_owned()),
        request_hash: Set(request_hash.to_owned()),
        response_status: Set(None),
        response_body: Set(None),
        locked_until: Set(locked_until),
        created_at: Set(now),
    };
    let inserted = keys::Entity::insert(row)
        .on_conflict(OnConflict::columns([keys::Column::Principal, keys::Column::Key]).do_nothing().to_owned())
        .try_insert()
        .exec_without_returning(conn)
        .await;
    match inserted {
        Ok(TryInsertResult::Inserted(n)) => Ok(n == 1),
        Ok(TryInsertResult::Conflicted | TryInsertResult::Empty) | Err(DbErr::RecordNotInserted) => Ok(false),
        Err(e) => Err(e.into()),
    }
}

pub async fn find(principal: &str, key: &str, conn: &impl ConnectionTrait) -> Result<Option<Stored>, StoreError> {
    let row = keys::Entity::find_by_id((principal.to_owned(), key.to_owned())).one(conn).await?;
    Ok(row.map(|r| Stored {
        request_hash: r.request_hash,
        response: match (r.response_status, r.response_body) {
            (Some(status), Some(body)) => Some((u16::try_from(status).unwrap_or(500), body)),
            _ => None,
        },
        locked_until: r.locked_until,
        created_at: r.created_at,
    }))
}

/// Takes over a claim whose holder stopped (its lease ran out before it answered); false when
/// someone else took it first or it was answered meanwhile.
pub async fn take_over(
    principal: &str,
    key: &str,
    expired: DateTime<Utc>,
    locked_until: DateTime<Utc>,
    conn: &impl ConnectionTrait,
) -> Result<bool, StoreError> {
    let done = keys::Entity::update_many()
        .col_expr(keys::Column::LockedUntil, Expr::value(locked_until))
        .filter(keys::Column::Principal.eq(principal))
        .filter(keys::Column::Key.eq(key))
        .filter(keys::Column::LockedUntil.eq(expired))
        .filter(keys::Column::ResponseStatus.is_null())
        .exec(conn)
        .await?;
    Ok(done.rows_affected == 1)
}

/// Stores the answer of the claimed request.
pub async fn finish(
    principal: &str,
    key: &str,
    status: u16,
    body: &str,
    conn: &impl ConnectionTrait,
) -> Result<(), StoreError> {
    keys::Entity::update_many()
        .col_expr(keys::Column::ResponseStatus, Expr::value(i32::from(status)))
        .col_expr(keys::Column::ResponseBody, Expr::value(body.to_owned()))
        .filter(keys::Column::Principal.eq(principal))
        .filter(keys::Column::Key.eq(key))
        .exec(conn)
        .await?;
    Ok(())
}

/// Drops a claim (an answer that must not be replayed, or an expired key about to be reused).
pub async fn release(principal: &str, key: &str, conn: &impl ConnectionTrait) -> Result<(), StoreError> {
    keys::Entity::delete_many()
        .filter(keys::Column::Principal.eq(principal))
        .filter(keys::Column::Key.eq(key))
        .exec(conn)
        .await?;
    Ok(())
}

/// Deletes keys created before `before`; returns how many.
pub async fn prune(before: DateTime<Utc>, conn: &impl ConnectionTrait) -> Result<u64, StoreError> {
    Ok(keys::Entity::delete_many().filter(keys::Column::CreatedAt.lt(before)).exec(conn).await?.rows_affected)
}
