//! A company's logo: the URL of an image job boards show beside its postings (schema.org
//! `Organization.logo` in a posting's JSON-LD).

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.alter_table(Table::alter().table("companies").add_column(string_len_null("logo_url", 2048)).to_owned()).await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.alter_table(Table::alter().table("companies").drop_column("logo_url").to_owned()).await
    }
}
