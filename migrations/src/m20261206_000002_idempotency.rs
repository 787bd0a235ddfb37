//! Idempotency keys: the first answer to a mutation request sent with an `Idempotency-Key`,
//! stored for 24 hours and replayed to retries of the same request by the same caller.

use sea_orm_migration::{prelude::*, schema::*};

use crate::helpers::index;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table("idempotency_keys")
                // Who sent it: `user:<id>` or `partner:<app id>`; a key is the caller's own.
                .col(string_len("principal", 80))
                .col(string_len("key", 255))
                // SHA-256 of the request (operations and variables), hex.
                .col(string_len("request_hash", 64))
                .col(integer_null("response_status"))
                .col(text_null("response_body"))
                // While the first request runs: nobody else executes it before this time.
                .col(timestamp_with_time_zone("locked_until"))
                .col(timestamp_with_time_zone("created_at"))
                .primary_key(Index::create().col("principal").col("key"))
                .to_owned(),
        )
        .await?;
        m.create_index(index("idempotency_keys", "age", &["created_at"])).await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_table(Table::drop().table("idempotency_keys").to_owned()).await
    }
}
