//! The transactional outbox: every event a write produced, in the write's own transaction, with a
//! position assigned in commit order from the single-row counter `outbox_head`.

use sea_orm_migration::{prelude::*, schema::*};

use crate::helpers::index;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table("outbox")
                .col(big_integer("position").primary_key())
                .col(uuid_uniq("id"))
                .col(string_len("event_type", 48))
                .col(integer("version"))
                .col(timestamp_with_time_zone("occurred_at"))
                .col(uuid_null("company_id"))
                .col(string_len("actor_kind", 16))
                .col(uuid_null("actor_id"))
                .col(uuid("subject_id"))
                .col(text("payload"))
                .to_owned(),
        )
        .await?;
        m.create_index(index("outbox", "company", &["company_id", "position"])).await?;
        m.create_index(index("outbox", "occurred", &["occurred_at"])).await?;
        // One row, locked by each committing writer for the instant between taking its positions
        // and committing: positions are handed out in the order writers commit.
        m.create_table(
            Table::create()
                .table("outbox_head")
                .col(integer("id").primary_key())
                .col(big_integer("position"))
                .to_owned(),
        )
        .await?;
        m.exec_stmt(
            Query::insert()
                .into_table("outbox_head")
                .columns(["id", "position"])
                .values_panic([1.into(), 0.into()])
                .to_owned(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_table(Table::drop().table("outbox_head").to_owned()).await?;
        m.drop_table(Table::drop().table("outbox").to_owned()).await
    }
}
