//! The `postings` table.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "postings")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub company_id: Uuid,
    pub slug: String,
    pub title: String,
    pub summary: Option<String>,
    pub description: String,
    pub employment_type: Option<String>,
    pub seniority: Option<String>,
    pub min_years_experience: Option<i32>,
    pub workplace: Option<String>,
    pub salary_min: Option<i64>,
    pub salary_max: Option<i64>,
    pub salary_currency: Option<String>,
    pub salary_period: Option<String>,
    pub equity: bool,
    pub status: String,
    pub published_at: Option<DateTimeUtc>,
    pub expires_at: Option<DateTimeUtc>,
    pub version: i32,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
    /// The child rows as one JSON document, kept in step in the same transaction (the read model
    /// `postings::find_by_ids` reads instead of the child tables).
    pub children: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

by_index!(
    id,
    company_id,
    slug,
    title,
    summary,
    description,
    employment_type,
    seniority,
    min_years_experience,
    workplace,
    salary_min,
    salary_max,
    salary_currency,
    salary_period,
    equity,
    status,
    published_at,
    expires_at,
    version,
    created_at,
    updated_at,
    children,
);
