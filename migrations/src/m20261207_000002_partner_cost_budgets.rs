//! A partner app's query-cost budget in points per minute, when a platform admin set one (the
//! server's `HIREGRAPH_COST_PARTNER_PER_MINUTE` otherwise).

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.alter_table(Table::alter().table("partner_apps").add_column(integer_null("cost_per_minute")).to_owned()).await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.alter_table(Table::alter().table("partner_apps").drop_column("cost_per_minute").to_owned()).await
    }
}
