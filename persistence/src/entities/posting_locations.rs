//! The `posting_locations` table.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "posting_locations")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub posting_id: Uuid,
    #[sea_orm(primary_key, auto_increment = false)]
    pub position: i32,
    pub city: Option<String>,
    pub region: Option<String>,
    pub country: String,
    pub remote: bool,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
