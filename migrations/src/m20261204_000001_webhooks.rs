//! Webhook endpoints, one delivery per (event, endpoint), and the relay's place in the outbox.

use sea_orm_migration::{prelude::*, schema::*};

use crate::helpers::{fk, index};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table("webhook_endpoints")
                .col(uuid("id").primary_key())
                .col(uuid("company_id"))
                .col(string_len("url", 2048))
                .col(text_null("description"))
                // Event type names, comma-separated; empty for every type.
                .col(text("event_types"))
                .col(string_len("secret", 80))
                .col(string_len_null("previous_secret", 80))
                .col(timestamp_with_time_zone_null("previous_secret_until"))
                .col(boolean("enabled"))
                .col(string_len_null("disabled_reason", 200))
                .col(timestamp_with_time_zone_null("failing_since"))
                .col(timestamp_with_time_zone("created_at"))
                .col(timestamp_with_time_zone("updated_at"))
                .foreign_key(&mut fk("webhook_endpoints", "company_id", "companies"))
                .to_owned(),
        )
        .await?;
        m.create_index(index("webhook_endpoints", "company", &["company_id", "created_at"])).await?;

        m.create_table(
            Table::create()
                .table("webhook_deliveries")
                .col(uuid("id").primary_key())
                .col(uuid("endpoint_id"))
                .col(uuid("event_id"))
                .col(big_integer("position"))
                .col(string_len("event_type", 48))
                .col(uuid("subject_id"))
                .col(string_len("status", 16))
                .col(integer("attempts"))
                .col(timestamp_with_time_zone_null("next_attempt_at"))
                // A worker's claim: nobody else attempts it before this time.
                .col(timestamp_with_time_zone_null("lease_until"))
                .col(integer_null("response_status"))
                .col(integer_null("latency_ms"))
                .col(text_null("response_excerpt"))
                .col(text_null("error"))
                .col(timestamp_with_time_zone("created_at"))
                .col(timestamp_with_time_zone_null("delivered_at"))
                .foreign_key(&mut fk("webhook_deliveries", "endpoint_id", "webhook_endpoints"))
                .to_owned(),
        )
        .await?;
        m.create_index(index("webhook_deliveries", "due", &["status", "next_attempt_at"])).await?;
        m.create_index(index("webhook_deliveries", "order", &["endpoint_id", "subject_id", "position"])).await?;
        m.create_index(index("webhook_deliveries", "listing", &["endpoint_id", "created_at", "id"])).await?;
        m.create_index(
            Index::create()
                .name("ux_webhook_deliveries_event_endpoint")
                .table("webhook_deliveries")
                .col("event_id")
                .col("endpoint_id")
                .unique()
                .to_owned(),
        )
        .await?;

        // The last outbox position the relay has turned into deliveries; one row, locked by the
        // relaying worker.
        m.create_table(
            Table::create()
                .table("outbox_relay")
                .col(integer("id").primary_key())
                .col(big_integer("position"))
                .to_owned(),
        )
        .await?;
        m.exec_stmt(
            Query::insert()
                .into_table("outbox_relay")
                .columns(["id", "position"])
                .values_panic([1.into(), 0.into()])
                .to_owned(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_table(Table::drop().table("outbox_relay").to_owned()).await?;
        m.drop_table(Table::drop().table("webhook_deliveries").to_owned()).await?;
        m.drop_table(Table::drop().table("webhook_endpoints").to_owned()).await
    }
}
