//! Companies and their members.

use chrono::{DateTime, Utc};
use hiregraph_domain::companies::{Company, CompanyProfile, CompanyRole, Membership, SizeBand};
use hiregraph_domain::values::{Location, Slug, WebUrl};
use hiregraph_domain::{CompanyId, UserId};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveValue::{Set, Unchanged},
    ColumnTrait, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter,
};

use crate::entities::{companies, company_members};
use crate::error::StoreError;
use crate::page::{Cursor, Keyset, Page, PageRequest, SortKey};

/// A company from its row.
pub(crate) fn to_domain(row: companies::Model) -> Result<Company, StoreError> {
    let headquarters = match &row.hq_country {
        Some(country) => Some(
            Location::new(row.hq_city.as_deref(), row.hq_region.as_deref(), country, row.hq_city.is_none())
                .map_err(StoreError::corrupt)?,
        ),
        None => None,
    };
    Ok(Company {
        id: CompanyId(row.id),
        slug: Slug::parse(&row.slug).map_err(StoreError::corrupt)?,
        profile: CompanyProfile {
            name: row.name,
            description: row.description,
            website: row.website.as_deref().map(WebUrl::parse).transpose().map_err(StoreError::corrupt)?,
            logo: row.logo_url.as_deref().map(WebUrl::parse).transpose().map_err(StoreError::corrupt)?,
            industry: row.industry,
            size: row.size_band.as_deref().and_then(SizeBand::parse),
            headquarters,
        },
        verified: row.verified,
        created_at: row.created_at,
        updated_at: row.updated_at,
    })
}

fn profile_columns(row: &mut companies::ActiveModel, profile: &CompanyProfile) {
    let hq = profile.headquarters.as_ref();
    row.name = Set(profile.name.clone());
    row.description = Set(profile.description.clone());
    row.website = Set(profile.website.as_ref().map(|w| w.as_str().to_owned()));
    row.logo_url = Set(profile.logo.as_ref().map(|w| w.as_str().to_owned()));
    row.industry = Set(profile.industry.clone());
    row.size_band = Set(profile.size.map(|s| s.as_str().to_owned()));
    row.hq_city = Set(hq.and_then(|l| l.city().map(str::to_owned)));
    row.hq_region = Set(hq.and_then(|l| l.region().map(str::to_owned)));
    row.hq_country = Set(hq.map(|l| l.country().as_str().to_owned()));
}

/// Inserts a company; a taken slug is `Duplicate("slug")`.
pub async fn insert(
    id: CompanyId,
    slug: &Slug,
    profile: &CompanyProfile,
    now: DateTime<Utc>,
    conn: &impl ConnectionTrait,
) -> Result<(), StoreError> {
    let mut row = companies::ActiveModel {
        id: Set(id.0),
        slug: Set(slug.as_str().to_owned()),
        verified: Set(false),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    };
    profile_columns(&mut row, profile);
    companies::Entity::insert(row).exec_without_returning(conn).await.map_err(|e| StoreError::on_write(e, "slug"))?;
    Ok(())
}

pub async fn update_profile(
    id: CompanyId,
    profile: &CompanyProfile,
    now: DateTime<Utc>,
    conn: &impl ConnectionTrait,
) -> Result<(), StoreError> {
    let mut row = companies::ActiveModel { id: Unchanged(id.0), updated_at: Set(now), ..Default::default() };
    profile_columns(&mut row, profile);
    companies::Entity::update(row).exec(conn).await?;
    Ok(())
}

pub async fn set_verified(
    id: CompanyId,
    verified: bool,
    now: DateTime<Utc>,
    conn: &impl ConnectionTrait,
) -> Result<(), StoreError> {
    let row = companies::ActiveModel {
        id: Unchanged(id.0),
        verified: Set(verified),
        updated_at: Set(now),
        ..Default::default()
    };
    companies::Entity::update(row).exec(conn).await?;
    Ok(())
}

/// Takes the company's write lock for the rest of the transaction (a row lock on Postgres, the
/// database write lock on SQLite), so member changes of one company happen one at a time.
pub async fn lock(id: CompanyId, now: DateTime<Utc>, conn: &impl ConnectionTrait) -> Result<bool, StoreError> {
    let result = companies::Entity::update_many()
        .col_expr(companies::Column::UpdatedAt, Expr::value(now))
        .filter(companies::Column::Id.eq(id.0))
        .exec(conn)
        .await?;
    Ok(result.rows_affected == 1)
}

pub async fn find_by_ids(ids: &[CompanyId], conn: &impl ConnectionTrait) -> Result<Vec<Company>, StoreError> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let rows = companies::Entity::find().filter(companies::Column::Id.is_in(ids.iter().map(|i| i.0))).all(conn).await?;
    rows.into_iter().map(to_domain).collect()
}

/// A company by its slug, whole: one statement (slugs never change, so this is the same row the
/// cache holds under its id).
pub async fn find_by_slug(slug: &str, conn: &impl ConnectionTrait) -> Result<Option<Company>, StoreError> {
    companies::Entity::find().filter(companies::Column::Slug.eq(slug)).one(conn).await?.map(to_domain).transpose()
}

pub async fn find_id_by_slug(slug: &str, conn: &impl ConnectionTrait) -> Result<Option<CompanyId>, StoreError> {
    use sea_orm::QuerySelect;
    let id: Option<uuid::Uuid> = companies::Entity::find()
        .select_only()
        .column(companies::Column::Id)
        .filter(companies::Column::Slug.eq(slug))
        .into_tuple()
        .one(conn)
        .await?;
    Ok(id.map(CompanyId))
}

/// Companies by name, keyset-paginated; ids only (the entities come through the cache).
pub async fn list(request: &PageRequest, conn: &impl ConnectionTrait) -> Result<Page<CompanyId>, StoreError> {
    use sea_orm::QuerySelect;
    let keyset = Keyset::by(companies::Column::Name, companies::Column::Id, true);
    let select = companies::Entity::find().select_only().column(companies::Column::Id).column(companies::Column::Name);
    keyset
        .page(select, request, |select| async move {
            let rows: Vec<(uuid::Uuid, String)> = select.into_tuple().all(conn).await?;
            Ok::<_, StoreError>(
                rows.into_iter().map(|(id, name)| (CompanyId(id), Cursor { key: SortKey::Text(name), id })).collect(),
            )
        })
        .await
}

pub async fn count(conn: &impl ConnectionTrait) -> Result<u64, StoreError> {
    Ok(companies::Entity::find().count(conn).await?)
}

fn member_to_domain(row: company_members::Model) -> Result<Membership, StoreError> {
    Ok(Membership {
        company_id: CompanyId(row.company_id),
        user_id: UserId(row.user_id),
        role: CompanyRole::parse(&row.role).ok_or_else(|| StoreError::corrupt(format!("company role {}", row.role)))?,
        created_at: row.created_at,
    })
}

/// Adds a member; one who already is one is `Duplicate("member")`.
pub async fn insert_member(member: &Membership, conn: &impl ConnectionTrait) -> Result<(), StoreError> {
    let row = company_members::ActiveModel {
        company_id: Set(member.company_id.0),
        user_id: Set(member.user_id.0),
        role: Set(member.role.as_str().to_owned()),
        created_at: Set(member.created_at),
    };
    company_members::Entity::insert(row)
        .exec_without_returning(conn)
        .await
        .map_err(|e| StoreError::on_write(e, "member"))?;
    Ok(())
}

pub async fn set_member_role(
    company: CompanyId,
    user: UserId,
    role: CompanyRole,
    conn: &impl ConnectionTrait,
) -> Result<(), StoreError> {
    company_members::Entity::update_many()
        .col_expr(company_members::Column::Role, Expr::value(role.as_str()))
        .filter(company_members::Column::CompanyId.eq(company.0))
        .filter(company_members::Column::UserId.eq(user.0))
        .exec(conn)
        .await?;
    Ok(())
}

pub async fn delete_member(company: CompanyId, user: UserId, conn: &impl ConnectionTrait) -> Result<(), StoreError> {
    company_members::Entity::delete_many()
        .filter(company_members::Column::CompanyId.eq(company.0))
        .filter(company_members::Column::UserId.eq(user.0))
        .exec(conn)
        .await?;
    Ok(())
}

pub async fn find_member(
    company: CompanyId,
    user: UserId,
    conn: &impl ConnectionTrait,
) -> Result<Option<Membership>, StoreError> {
    let row = company_members::Entity::find_by_id((company.0, user.0)).one(conn).await?;
    row.map(member_to_domain).transpose()
}

/// Every company this user belongs to, with the role.
pub async fn memberships_of(user: UserId, conn: &impl ConnectionTrait) -> Result<Vec<Membership>, StoreError> {
    let rows = company_members::Entity::find().filter(company_members::Column::UserId.eq(user.0)).all(conn).await?;
    rows.into_iter().map(member_to_domain).collect()
}

/// The members of several companies, for one batched load.
pub async fn members_of(companies: &[CompanyId], conn: &impl ConnectionTrait) -> Result<Vec<Membership>, StoreError> {
    use sea_orm::QueryOrder;
    if companies.is_empty() {
        return Ok(Vec::new());
    }
    let rows = company_members::Entity::find()
        .filter(company_members::Column::CompanyId.is_in(companies.iter().map(|c| c.0)))
        .order_by_asc(company_members::Column::CreatedAt)
        .order_by_asc(company_members::Column::UserId)
        .all(conn)
        .await?;
    rows.into_iter().map(member_to_domain).collect()
}

/// Which of these companies are verified.
pub async fn verified_among(ids: &[CompanyId], conn: &impl ConnectionTrait) -> Result<Vec<CompanyId>, StoreError> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    use sea_orm::QuerySelect;
    let rows: Vec<uuid::Uuid> = companies::Entity::find()
        .select_only()
        .column(companies::Column::Id)
        .filter(companies::Column::Id.is_in(ids.iter().map(|c| c.0)))
        .filter(companies::Column::Verified.eq(true))
        .into_tuple()
        .all(conn)
        .await?;
    Ok(rows.into_iter().map(CompanyId).collect())
}

pub async fn count_owners(company: CompanyId, conn: &impl ConnectionTrait) -> Result<u64, StoreError> {
    Ok(company_members::Entity::find()
        .filter(company_members::Column::CompanyId.eq(company.0))
        .filter(company_members::Column::Role.eq(CompanyRole::Owner.as_str()))
        .count(conn)
        .await?)
}
