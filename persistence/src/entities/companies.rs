//! The `companies` table.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "companies")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub slug: String,
    pub name: String,
    pub description: Option<String>,
    pub website: Option<String>,
    pub logo_url: Option<String>,
    pub industry: Option<String>,
    pub size_band: Option<String>,
    pub hq_city: Option<String>,
    pub hq_region: Option<String>,
    pub hq_country: Option<String>,
    pub verified: bool,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

by_index!(
    id,
    slug,
    name,
    description,
    website,
    logo_url,
    industry,
    size_band,
    hq_city,
    hq_region,
    hq_country,
    verified,
    created_at,
    updated_at,
);
