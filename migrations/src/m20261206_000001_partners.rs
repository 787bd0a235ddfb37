//! Partner applications and their API keys. Secrets are stored as SHA-256 hashes only.

use sea_orm_migration::{prelude::*, schema::*};

use crate::helpers::{fk, index};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table("partner_apps")
                .col(uuid("id").primary_key())
                .col(uuid("company_id"))
                .col(string_len("name", 200))
                // Scope names, space-separated.
                .col(text("scopes"))
                .col(string_len("client_id", 64).unique_key())
                .col(string_len("client_secret_hash", 64))
                .col(integer("secret_version"))
                .col(uuid("created_by"))
                .col(timestamp_with_time_zone("created_at"))
                .col(timestamp_with_time_zone("updated_at"))
                .foreign_key(&mut fk("partner_apps", "company_id", "companies"))
                .foreign_key(&mut fk("partner_apps", "created_by", "users"))
                .to_owned(),
        )
        .await?;
        m.create_index(index("partner_apps", "company", &["company_id", "created_at"])).await?;

        m.create_table(
            Table::create()
                .table("api_keys")
                .col(uuid("id").primary_key())
                .col(uuid("partner_app_id"))
                .col(string_len("name", 200))
                .col(string_len("key_hash", 64).unique_key())
                .col(string_len("hint", 40))
                .col(timestamp_with_time_zone("created_at"))
                .col(timestamp_with_time_zone_null("expires_at"))
                .col(timestamp_with_time_zone_null("revoked_at"))
                .col(timestamp_with_time_zone_null("last_used_at"))
                .foreign_key(&mut fk("api_keys", "partner_app_id", "partner_apps"))
                .to_owned(),
        )
        .await?;
        m.create_index(index("api_keys", "app", &["partner_app_id", "created_at"])).await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_table(Table::drop().table("api_keys").to_owned()).await?;
        m.drop_table(Table::drop().table("partner_apps").to_owned()).await
    }
}
