//! Postings by the time they last changed: the semantic search index of every replica reads the
//! postings changed since its watermark once a second, which must not scan the table.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

const INDEX: &str = "idx_postings_updated_at_id";

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_index(Index::create().name(INDEX).table("postings").col("updated_at").col("id").to_owned()).await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_index(Index::drop().name(INDEX).table("postings").to_owned()).await
    }
}
