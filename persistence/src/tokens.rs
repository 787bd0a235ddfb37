//! Refresh tokens: stored as hashes, rotated on every use, revoked by family.

use chrono::{DateTime, Utc};
use hiregraph_domain::UserId;
use hiregraph_domain::ids::TokenFamilyId;
use sea_orm::sea_query::Expr;
use sea_orm::{ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter};
use uuid::Uuid;

use crate::entities::refresh_tokens;
use crate::error::StoreError;

/// A stored refresh token (never the token itself: only its hash).
#[derive(Debug, Clone)]
pub struct StoredRefreshToken {
    pub id: Uuid,
    pub user_id: UserId,
    pub family_id: TokenFamilyId,
    pub expires_at: DateTime<Utc>,
    pub used_at: Option<DateTime<Utc>>,
    pub revoked_at: Option<DateTime<Utc>>,
}

pub async fn insert(
    user_id: UserId,
    family_id: TokenFamilyId,
    token_hash: &str,
    now: DateTime<Utc>,
    expires_at: DateTime<Utc>,
    conn: &impl ConnectionTrait,
) -> Result<(), StoreError> {
    let row = refresh_tokens::ActiveModel {
        id: Set(Uuid::now_v7()),
        user_id: Set(user_id.0),
        family_id: Set(family_id.0),
        token_hash: Set(token_hash.to_owned()),
        created_at: Set(now),
        expires_at: Set(expires_at),
        used_at: Set(None),
        revoked_at: Set(None),
    };
    refresh_tokens::Entity::insert(row)
        .exec_without_returning(conn)
        .await
        .map_err(|e| StoreError::on_write(e, "refresh token"))?;
    Ok(())
}

pub async fn find_by_hash(
    token_hash: &str,
    conn: &impl ConnectionTrait,
) -> Result<Option<StoredRefreshToken>, StoreError> {
    let row = refresh_tokens::Entity::find().filter(refresh_tokens::Column::TokenHash.eq(token_hash)).one(conn).await?;
    Ok(row.map(|r| StoredRefreshToken {
        id: r.id,
        user_id: UserId(r.user_id),
        family_id: TokenFamilyId(r.family_id),
        expires_at: r.expires_at,
        used_at: r.used_at,
        revoked_at: r.revoked_at,
    }))
}

/// Marks a token used, only if it was still fresh. `false` means someone used or revoked it first:
/// two concurrent refreshes with one token cannot both win.
pub async fn claim(id: Uuid, now: DateTime<Utc>, conn: &impl ConnectionTrait) -> Result<bool, StoreError> {
    let result = refresh_tokens::Entity::update_many()
        .col_expr(refresh_tokens::Column::UsedAt, Expr::value(now))
        .filter(refresh_tokens::Column::Id.eq(id))
        .filter(refresh_tokens::Column::UsedAt.is_null())
        .filter(refresh_tokens::Column::RevokedAt.is_null())
        .exec(conn)
        .await?;
    Ok(result.rows_affected == 1)
}

/// Revokes every token of a family (sign-out, or reuse of a rotated token).
pub async fn revoke_family(
    family_id: TokenFamilyId,
    now: DateTime<Utc>,
    conn: &impl ConnectionTrait,
) -> Result<u64, StoreError> {
    revoke(refresh_tokens::Column::FamilyId.eq(family_id.0), now, conn).await
}

/// Revokes every refresh token of a user: each of their sign-ins ends.
pub async fn revoke_user(user_id: UserId, now: DateTime<Utc>, conn: &impl ConnectionTrait) -> Result<u64, StoreError> {
    revoke(refresh_tokens::Column::UserId.eq(user_id.0), now, conn).await
}

async fn revoke(
    which: sea_orm::sea_query::SimpleExpr,
    now: DateTime<Utc>,
    conn: &impl ConnectionTrait,
) -> Result<u64, StoreError> {
    let result = refresh_tokens::Entity::update_many()
        .col_expr(refresh_tokens::Column::RevokedAt, Expr::value(now))
        .filter(which)
        .filter(refresh_tokens::Column::RevokedAt.is_null())
        .exec(conn)
        .await?;
    Ok(result.rows_affected)
}
