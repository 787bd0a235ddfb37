//! Users, refresh tokens, companies, members, postings and their child data.

use sea_orm_migration::{prelude::*, schema::*};

use crate::helpers::{fk, index};

#[derive(DeriveMigrationName)]
pub struct Migration;

fn created_updated(table: &mut TableCreateStatement) -> &mut TableCreateStatement {
    table.col(timestamp_with_time_zone("created_at")).col(timestamp_with_time_zone("updated_at"))
}

/// Tables in creation order; dropped in reverse.
const TABLES: [&str; 9] = [
    "users",
    "refresh_tokens",
    "companies",
    "company_members",
    "postings",
    "posting_locations",
    "posting_skills",
    "posting_benefits",
    "posting_items",
];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            created_updated(
                Table::create()
                    .table("users")
                    .col(uuid("id").primary_key())
                    .col(string_len_uniq("email", 254))
                    .col(string("password_hash"))
                    .col(string_len("role", 16)),
            )
            .to_owned(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table("refresh_tokens")
                .col(uuid("id").primary_key())
                .col(uuid("user_id"))
                .col(uuid("family_id"))
                .col(string_len_uniq("token_hash", 64))
                .col(timestamp_with_time_zone("created_at"))
                .col(timestamp_with_time_zone("expires_at"))
                .col(timestamp_with_time_zone_null("used_at"))
                .col(timestamp_with_time_zone_null("revoked_at"))
                .foreign_key(&mut fk("refresh_tokens", "user_id", "users"))
                .to_owned(),
        )
        .await?;
        m.create_index(index("refresh_tokens", "family", &["family_id"])).await?;
        m.create_index(index("refresh_tokens", "user", &["user_id"])).await?;

        m.create_table(
            created_updated(
                Table::create()
                    .table("companies")
                    .col(uuid("id").primary_key())
                    .col(string_len_uniq("slug", 80))
                    .col(string_len("name", 120))
                    .col(text_null("description"))
                    .col(string_len_null("website", 2048))
                    .col(string_len_null("industry", 80))
                    .col(string_len_null("size_band", 20))
                    .col(string_len_null("hq_city", 100))
                    .col(string_len_null("hq_region", 100))
                    .col(string_len_null("hq_country", 2))
                    .col(boolean("verified").default(false)),
            )
            .to_owned(),
        )
        .await?;
        m.create_index(index("companies", "name", &["name", "id"])).await?;

        m.create_table(
            Table::create()
                .table("company_members")
                .col(uuid("company_id"))
                .col(uuid("user_id"))
                .col(string_len("role", 16))
                .col(timestamp_with_time_zone("created_at"))
                .primary_key(Index::create().col("company_id").col("user_id"))
                .foreign_key(&mut fk("company_members", "company_id", "companies"))
                .foreign_key(&mut fk("company_members", "user_id", "users"))
                .to_owned(),
        )
        .await?;
        m.create_index(index("company_members", "user", &["user_id"])).await?;

        m.create_table(
            created_updated(
                Table::create()
                    .table("postings")
                    .col(uuid("id").primary_key())
                    .col(uuid("company_id"))
                    .col(string_len_uniq("slug", 120))
                    .col(string_len("title", 150))
                    .col(string_len_null("summary", 500))
                    .col(text("description"))
                    .col(string_len_null("employment_type", 16))
                    .col(string_len_null("seniority", 16))
                    .col(integer_null("min_years_experience"))
                    .col(string_len_null("workplace", 16))
                    .col(big_integer_null("salary_min"))
                    .col(big_integer_null("salary_max"))
                    .col(string_len_null("salary_currency", 3))
                    .col(string_len_null("salary_period", 8))
                    .col(boolean("equity").default(false))
                    .col(string_len("status", 16))
                    .col(timestamp_with_time_zone_null("published_at"))
                    .col(timestamp_with_time_zone_null("expires_at"))
                    .col(integer("version").default(1))
                    .foreign_key(&mut fk("postings", "company_id", "companies")),
            )
            .to_owned(),
        )
        .await?;
        // The public feed: published, newest first, keyset on (published_at, id).
        m.create_index(index("postings", "feed", &["status", "published_at", "id"])).await?;
        m.create_index(index("postings", "company", &["company_id", "created_at", "id"])).await?;
        m.create_index(index("postings", "salary", &["salary_currency", "salary_max"])).await?;

        m.create_table(
            Table::create()
                .table("posting_locations")
                .col(uuid("posting_id"))
                .col(integer("position"))
                .col(string_len_null("city", 100))
                .col(string_len_null("region", 100))
                .col(string_len("country", 2))
                .col(boolean("remote"))
                .primary_key(Index::create().col("posting_id").col("position"))
                .foreign_key(&mut fk("posting_locations", "posting_id", "postings"))
                .to_owned(),
        )
        .await?;
        m.create_index(index("posting_locations", "country", &["country", "posting_id"])).await?;

        m.create_table(
            Table::create()
                .table("posting_skills")
                .col(uuid("posting_id"))
                .col(string_len("skill_key", 60))
                .col(string_len("name", 60))
                .col(boolean("required"))
                .col(integer("position"))
                .primary_key(Index::create().col("posting_id").col("skill_key"))
                .foreign_key(&mut fk("posting_skills", "posting_id", "postings"))
                .to_owned(),
        )
        .await?;
        m.create_index(index("posting_skills", "key", &["skill_key", "posting_id"])).await?;

        m.create_table(
            Table::create()
                .table("posting_benefits")
                .col(uuid("posting_id"))
                .col(integer("position"))
                .col(string_len("text", 200))
                .primary_key(Index::create().col("posting_id").col("position"))
                .foreign_key(&mut fk("posting_benefits", "posting_id", "postings"))
                .to_owned(),
        )
        .await?;

        // Responsibilities and required/preferred qualifications: ordered text items by kind.
        m.create_table(
            Table::create()
                .table("posting_items")
                .col(uuid("posting_id"))
                .col(string_len("kind", 16))
                .col(integer("position"))
                .col(string_len("text", 500))
                .primary_key(Index::create().col("posting_id").col("kind").col("position"))
                .foreign_key(&mut fk("posting_items", "posting_id", "postings"))
                .to_owned(),
        )
        .await?;
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        for table in TABLES.iter().rev() {
            m.drop_table(Table::drop().table(*table).if_exists().to_owned()).await?;
        }
        Ok(())
    }
}
