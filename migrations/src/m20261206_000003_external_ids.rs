//! External ids: a partner's own reference for an object ("job 4711"), unique per company and kind.

use sea_orm_migration::{prelude::*, schema::*};

use crate::helpers::fk;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table("external_ids")
                .col(uuid("company_id"))
                // `posting` (applications follow).
                .col(string_len("kind", 16))
                .col(string_len("external_id", 200))
                .col(uuid("object_id"))
                .primary_key(Index::create().col("company_id").col("kind").col("external_id"))
                .foreign_key(&mut fk("external_ids", "company_id", "companies"))
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("ux_external_ids_object")
                .table("external_ids")
                .col("kind")
                .col("object_id")
                .unique()
                .to_owned(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_table(Table::drop().table("external_ids").to_owned()).await
    }
}
