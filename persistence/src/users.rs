//! User accounts.

use chrono::{DateTime, Utc};
use hiregraph_domain::accounts::{PlatformRole, User};
use hiregraph_domain::companies::CompanyRole;
use hiregraph_domain::values::Email;
use hiregraph_domain::{CompanyId, UserId};
use sea_orm::sea_query::{Alias, Expr, ExprTrait, JoinType, Query};
use sea_orm::{ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter};
use serde::{Deserialize, Serialize};

use crate::entities::{company_members, users};
use crate::error::StoreError;

fn to_domain(row: users::Model) -> Result<User, StoreError> {
    Ok(User {
        id: UserId(row.id),
        email: Email::parse(&row.email).map_err(StoreError::corrupt)?,
        role: PlatformRole::parse(&row.role).ok_or_else(|| StoreError::corrupt(format!("role {}", row.role)))?,
        created_at: row.created_at,
        disabled: row.disabled_at.is_some(),
    })
}

/// An account as its access tokens resolve it, with the companies it belongs to: what every
/// signed-in request needs before its first resolver runs. Cached under `CacheKey::User`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Access {
    pub user: User,
    /// Each company the account is a member of, with its role there.
    pub memberships: Vec<(CompanyId, CompanyRole)>,
}

/// The account `id` and its memberships, in one statement (the account's row once per
/// membership, by a left join); `None` when there is no such account.
pub async fn access_of(id: UserId, conn: &impl ConnectionTrait) -> Result<Option<Access>, StoreError> {
    use users::Column as U;
    let mut select = Query::select();
    select
        .columns([U::Id, U::Email, U::Role, U::CreatedAt, U::DisabledAt].map(|c| (users::Entity, c)))
        .expr_as(Expr::col((company_members::Entity, company_members::Column::CompanyId)), Alias::new("member_of"))
        .expr_as(Expr::col((company_members::Entity, company_members::Column::Role)), Alias::new("member_role"))
        .from(users::Entity)
        .join(
            JoinType::LeftJoin,
            company_members::Entity,
            Expr::col((company_members::Entity, company_members::Column::UserId)).equals((users::Entity, U::Id)),
        )
        .and_where(Expr::col((users::Entity, U::Id)).eq(id.0));
    let backend = conn.get_database_backend();
    let rows = conn.query_all_raw(backend.build(&select)).await?;
    let Some(first) = rows.first() else { return Ok(None) };
    let role: String = first.try_get("", "role")?;
    let disabled_at: Option<DateTime<Utc>> = first.try_get("", "disabled_at")?;
    let email: String = first.try_get("", "email")?;
    let user = User {
        id,
        email: Email::parse(&email).map_err(StoreError::corrupt)?,
        role: PlatformRole::parse(&role).ok_or_else(|| StoreError::corrupt(format!("role {role}")))?,
        created_at: first.try_get("", "created_at")?,
        disabled: disabled_at.is_some(),
    };
    let mut memberships = Vec::with_capacity(rows.len());
    for row in &rows {
        let Some(company) = row.try_get::<Option<uuid::Uuid>>("", "member_of")? else { continue };
        let raw: String = row.try_get("", "member_role")?;
        let role = CompanyRole::parse(&raw).ok_or_else(|| StoreError::corrupt(format!("company role {raw}")))?;
        memberships.push((CompanyId(company), role));
    }
    Ok(Some(Access { user, memberships }))
}

/// Inserts a new account; a taken email is `Duplicate("email")`.
pub async fn insert(
    id: UserId,
    email: &Email,
    password_hash: &str,
    role: PlatformRole,
    now: DateTime<Utc>,
    conn: &impl ConnectionTrait,
) -> Result<User, StoreError> {
    let row = users::ActiveModel {
        id: Set(id.0),
        email: Set(email.as_str().to_owned()),
        password_hash: Set(password_hash.to_owned()),
        role: Set(role.as_str().to_owned()),
        created_at: Set(now),
        updated_at: Set(now),
        disabled_at: Set(None),
    };
    users::Entity::insert(row).exec_without_returning(conn).await.map_err(|e| StoreError::on_write(e, "email"))?;
    Ok(User { id, email: email.clone(), role, created_at: now, disabled: false })
}

/// The account and its password hash, for signing in.
pub async fn find_credentials(
    email: &Email,
    conn: &impl ConnectionTrait,
) -> Result<Option<(User, String)>, StoreError> {
    let row = users::Entity::find().filter(users::Column::Email.eq(email.as_str())).one(conn).await?;
    row.map(|row| {
        let hash = row.password_hash.clone();
        to_domain(row).map(|user| (user, hash))
    })
    .transpose()
}

pub async fn find_by_ids(ids: &[UserId], conn: &impl ConnectionTrait) -> Result<Vec<User>, StoreError> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let rows = users::Entity::find().filter(users::Column::Id.is_in(ids.iter().map(|i| i.0))).all(conn).await?;
    rows.into_iter().map(to_domain).collect()
}

pub async fn find_by_email(email: &Email, conn: &impl ConnectionTrait) -> Result<Option<User>, StoreError> {
    Ok(find_credentials(email, conn).await?.map(|(user, _)| user))
}

/// Makes a user a platform admin (used by the command line and the demo data).
pub async fn set_role(
    id: UserId,
    role: PlatformRole,
    now: DateTime<Utc>,
    conn: &impl ConnectionTrait,
) -> Result<(), StoreError> {
    let row = users::ActiveModel {
        id: sea_orm::ActiveValue::Unchanged(id.0),
        role: Set(role.as_str().to_owned()),
        updated_at: Set(now),
        ..Default::default()
    };
    users::Entity::update(row).exec(conn).await?;
    Ok(())
}

/// Disables an account (`Some(when)`) or enables it again (`None`); `false` when there is no such
/// account.
pub async fn set_disabled(
    id: UserId,
    disabled_at: Option<DateTime<Utc>>,
    now: DateTime<Utc>,
    conn: &impl ConnectionTrait,
) -> Result<bool, StoreError> {
    let result = users::Entity::update_many()
        .col_expr(users::Column::DisabledAt, sea_orm::sea_query::Expr::value(disabled_at))
        .col_expr(users::Column::UpdatedAt, sea_orm::sea_query::Expr::value(now))
        .filter(users::Column::Id.eq(id.0))
        .exec(conn)
        .await?;
    Ok(result.rows_affected == 1)
}
