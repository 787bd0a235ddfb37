//! Partner applications and API keys. Only hashes of secrets are stored; a key is found by its
//! hash, together with its app, in one statement.

use chrono::{DateTime, Utc};
use hiregraph_domain::ids::{ApiKeyId, PartnerAppId};
use hiregraph_domain::partners::{ApiKey, PartnerApp, Scopes};
use hiregraph_domain::{CompanyId, UserId};
use sea_orm::ActiveValue::{Set, Unchanged};
use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder};

use crate::entities::{api_keys as keys, partner_apps as apps};
use crate::error::StoreError;

fn app_from(row: apps::Model) -> Result<PartnerApp, StoreError> {
    Ok(PartnerApp {
        id: PartnerAppId(row.id),
        company_id: CompanyId(row.company_id),
        name: row.name,
        scopes: Scopes::parse_text(&row.scopes).map_err(StoreError::corrupt)?,
        client_id: row.client_id,
        secret_version: row.secret_version,
        created_by: UserId(row.created_by),
        created_at: row.created_at,
        updated_at: row.updated_at,
        cost_per_minute: row.cost_per_minute.and_then(|n| u32::try_from(n).ok()),
    })
}

fn key_from(row: keys::Model) -> ApiKey {
    ApiKey {
        id: ApiKeyId(row.id),
        partner_app_id: PartnerAppId(row.partner_app_id),
        name: row.name,
        hint: row.hint,
        created_at: row.created_at,
        expires_at: row.expires_at,
        revoked_at: row.revoked_at,
        last_used_at: row.last_used_at,
    }
}

pub async fn insert_app(app: &PartnerApp, secret_hash: &str, conn: &impl ConnectionTrait) -> Result<(), StoreError> {
    let row = apps::ActiveModel {
        id: Set(app.id.0),
        company_id: Set(app.company_id.0),
        name: Set(app.name.clone()),
        scopes: Set(app.scopes.to_text()),
        client_id: Set(app.client_id.clone()),
        client_secret_hash: Set(secret_hash.to_owned()),
        secret_version: Set(app.secret_version),
        created_by: Set(app.created_by.0),
        created_at: Set(app.created_at),
        updated_at: Set(app.updated_at),
        cost_per_minute: Set(app.cost_per_minute.map(|n| i32::try_from(n).unwrap_or(i32::MAX))),
    };
    apps::Entity::insert(row).exec_without_returning(conn).await.map_err(|e| StoreError::on_write(e, "partner app"))?;
    Ok(())
}

/// Sets (or, with `None`, clears) an app's own query-cost budget.
pub async fn set_cost_budget(
    id: PartnerAppId,
    per_minute: Option<u32>,
    now: DateTime<Utc>,
    conn: &impl ConnectionTrait,
) -> Result<(), StoreError> {
    apps::Entity::update_many()
        .col_expr(apps::Column::CostPerMinute, Expr::value(per_minute.map(|n| i32::try_from(n).unwrap_or(i32::MAX))))
        .col_expr(apps::Column::UpdatedAt, Expr::value(now))
        .filter(apps::Column::Id.eq(id.0))
        .exec(conn)
        .await?;
    Ok(())
}

pub async fn find_app(id: PartnerAppId, conn: &impl ConnectionTrait) -> Result<Option<PartnerApp>, StoreError> {
    apps::Entity::find_by_id(id.0).one(conn).await?.map(app_from).transpose()
}

/// The app of an OAuth `client_id`, with its secret's hash.
pub async fn find_client(
    client_id: &str,
    conn: &impl ConnectionTrait,
) -> Result<Option<(PartnerApp, String)>, StoreError> {
    let Some(row) = apps::Entity::find().filter(apps::Column::ClientId.eq(client_id)).one(conn).await? else {
        return Ok(None);
    };
    let hash = row.client_secret_hash.clone();
    Ok(Some((app_from(row)?, hash)))
}

/// A company's apps, oldest first.
pub async fn apps_of(company: CompanyId, conn: &impl ConnectionTrait) -> Result<Vec<PartnerApp>, StoreError> {
    let rows = apps::Entity::find()
        .filter(apps::Column::CompanyId.eq(company.0))
        .order_by_asc(apps::Column::CreatedAt)
        .order_by_asc(apps::Column::Id)
        .all(conn)
        .await?;
    rows.into_iter().map(app_from).collect()
}

/// Replaces the client secret and bumps the version that access tokens carry.
pub async fn rotate_secret(
    app: &PartnerApp,
    secret_hash: &str,
    at: DateTime<Utc>,
    conn: &impl ConnectionTrait,
) -> Result<(), StoreError> {
    let row = apps::ActiveModel {
        id: Unchanged(app.id.0),
        client_secret_hash: Set(secret_hash.to_owned()),
        secret_version: Set(app.secret_version),
        updated_at: Set(at),
        ..Default::default()
    };
    apps::Entity::update(row).exec(conn).await?;
    Ok(())
}

pub async fn insert_key(key: &ApiKey, key_hash: &str, conn: &impl ConnectionTrait) -> Result<(), StoreError> {
    let row = keys::ActiveModel {
        id: Set(key.id.0),
        partner_app_id: Set(key.partner_app_id.0),
        name: Set(key.name.clone()),
        key_hash: Set(key_hash.to_owned()),
        hint: Set(key.hint.clone()),
        created_at: Set(key.created_at),
        expires_at: Set(key.expires_at),
        revoked_at: Set(None),
        last_used_at: Set(None),
    };
    keys::Entity::insert(row).exec_without_returning(conn).await.map_err(|e| StoreError::on_write(e, "API key"))?;
    Ok(())
}

pub async fn find_key(id: ApiKeyId, conn: &impl ConnectionTrait) -> Result<Option<ApiKey>, StoreError> {
    Ok(keys::Entity::find_by_id(id.0).one(conn).await?.map(key_from))
}

/// The keys of some apps, oldest first.
/// The hashes of an app's keys that still work (whose cached entries a change of the app clears).
pub async fn key_hashes_of(app: PartnerAppId, conn: &impl ConnectionTrait) -> Result<Vec<String>, StoreError> {
    use sea_orm::QuerySelect;
    let hashes: Vec<String> = keys::Entity::find()
        .select_only()
        .column(keys::Column::KeyHash)
        .filter(keys::Column::PartnerAppId.eq(app.0))
        .filter(keys::Column::RevokedAt.is_null())
        .into_tuple()
        .all(conn)
        .await?;
    Ok(hashes)
}

pub async fn keys_of(apps: &[PartnerAppId], conn: &impl ConnectionTrait) -> Result<Vec<ApiKey>, StoreError> {
    if apps.is_empty() {
        return Ok(Vec::new());
    }
    let rows = keys::Entity::find()
        .filter(keys::Column::PartnerAppId.is_in(apps.iter().map(|a| a.0)))
        .order_by_asc(keys::Column::CreatedAt)
        .order_by_asc(keys::Column::Id)
        .all(conn)
        .await?;
    Ok(rows.into_iter().map(key_from).collect())
}

/// The key with this hash and its app, in one statement.
pub async fn find_by_key_hash(
    key_hash: &str,
    conn: &impl ConnectionTrait,
) -> Result<Option<(ApiKey, PartnerApp)>, StoreError> {
    let found = keys::Entity::find()
        .filter(keys::Column::KeyHash.eq(key_hash))
        .find_also_related(apps::Entity)
        .one(conn)
        .await?;
    match found {
        Some((key, Some(app))) => Ok(Some((key_from(key), app_from(app)?))),
        Some((_, None)) => Err(StoreError::corrupt("an API key without its app")),
        None => Ok(None),
    }
}

/// Revokes a key; returns the hash it is stored under, or `None` when it was revoked already.
pub async fn revoke_key(
    id: ApiKeyId,
    at: DateTime<Utc>,
    conn: &impl ConnectionTrait,
) -> Result<Option<String>, StoreError> {
    let done = keys::Entity::update_many()
        .col_expr(keys::Column::RevokedAt, Expr::value(at))
        .filter(keys::Column::Id.eq(id.0))
        .filter(keys::Column::RevokedAt.is_null())
        .exec(conn)
        .await?;
    if done.rows_affected != 1 {
        return Ok(None);
    }
    Ok(keys::Entity::find_by_id(id.0).one(conn).await?.map(|row| row.key_hash))
}

/// Records a key's use at `at` unless one was recorded since `since` (so a busy key writes at
/// most once a minute).
pub async fn touch_key(
    id: ApiKeyId,
    at: DateTime<Utc>,
    since: DateTime<Utc>,
    conn: &impl ConnectionTrait,
) -> Result<(), StoreError> {
    keys::Entity::update_many()
        .col_expr(keys::Column::LastUsedAt, Expr::value(at))
        .filter(keys::Column::Id.eq(id.0))
        .filter(keys::Column::LastUsedAt.is_null().or(keys::Column::LastUsedAt.lt(since)))
        .exec(conn)
        .await?;
    Ok(())
}
