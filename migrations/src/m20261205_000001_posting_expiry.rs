//! How far the worker has announced expired postings (`posting.expired`): a keyset position over
//! (expires_at, id), in one row, and an index to scan postings by expiry from there. Empty until
//! the first worker run sets it to that moment, so postings that expired before are not announced.

use sea_orm_migration::{prelude::*, schema::*};

use crate::helpers::index;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_index(index("postings", "expiry", &["expires_at", "id"])).await?;
        m.create_table(
            Table::create()
                .table("posting_expiry_watermark")
                .col(integer("id").primary_key())
                .col(timestamp_with_time_zone_null("through_at"))
                .col(uuid_null("through_id"))
                .to_owned(),
        )
        .await?;
        m.exec_stmt(
            Query::insert().into_table("posting_expiry_watermark").columns(["id"]).values_panic([1.into()]).to_owned(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_table(Table::drop().table("posting_expiry_watermark").to_owned()).await?;
        m.drop_index(Index::drop().name("ix_postings_expiry").table("postings").to_owned()).await
    }
}
