//! The `api_keys` table.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "api_keys")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub partner_app_id: Uuid,
    pub name: String,
    pub key_hash: String,
    pub hint: String,
    pub created_at: DateTimeUtc,
    pub expires_at: Option<DateTimeUtc>,
    pub revoked_at: Option<DateTimeUtc>,
    pub last_used_at: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    #[sea_orm(
        belongs_to = "super::partner_apps::Entity",
        from = "Column::PartnerAppId",
        to = "super::partner_apps::Column::Id"
    )]
    PartnerApp,
}

impl Related<super::partner_apps::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::PartnerApp.def()
    }
}

impl ActiveModelBehavior for ActiveModel {}
