//! Candidate profiles with their skills; applications, their events and hiring-team notes.

use sea_orm_migration::{prelude::*, schema::*};

use crate::helpers::{fk, index};

#[derive(DeriveMigrationName)]
pub struct Migration;

const TABLES: [&str; 5] =
    ["candidate_profiles", "candidate_skills", "applications", "application_events", "application_notes"];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table("candidate_profiles")
                .col(uuid("id").primary_key())
                .col(uuid_uniq("user_id"))
                .col(string_len("display_name", 80))
                .col(string_len_null("headline", 150))
                .col(text_null("bio"))
                .col(string_len_null("city", 100))
                .col(string_len_null("region", 100))
                .col(string_len_null("country", 2))
                .col(integer_null("years_experience"))
                .col(string_len_null("seniority", 16))
                .col(big_integer_null("desired_min"))
                .col(big_integer_null("desired_max"))
                .col(string_len_null("desired_currency", 3))
                .col(string_len_null("desired_period", 8))
                .col(boolean("open_onsite").default(false))
                .col(boolean("open_hybrid").default(false))
                .col(boolean("open_remote").default(false))
                .col(string_len("visibility", 16))
                .col(string_len_null("contact_email", 254))
                .col(string_len_null("contact_phone", 40))
                // Shown whole, never filtered on: JSON in portable text columns.
                .col(text("work_history"))
                .col(text("education"))
                .col(text("links"))
                .col(timestamp_with_time_zone("created_at"))
                .col(timestamp_with_time_zone("updated_at"))
                .foreign_key(&mut fk("candidate_profiles", "user_id", "users"))
                .to_owned(),
        )
        .await?;
        m.create_index(index("candidate_profiles", "listing", &["visibility", "created_at", "id"])).await?;
        m.create_index(index("candidate_profiles", "country", &["country"])).await?;

        m.create_table(
            Table::create()
                .table("candidate_skills")
                .col(uuid("candidate_id"))
                .col(string_len("skill_key", 60))
                .col(string_len("name", 60))
                .col(integer_null("years"))
                .col(integer("position"))
                .primary_key(Index::create().col("candidate_id").col("skill_key"))
                .foreign_key(&mut fk("candidate_skills", "candidate_id", "candidate_profiles"))
                .to_owned(),
        )
        .await?;
        m.create_index(index("candidate_skills", "key", &["skill_key", "candidate_id"])).await?;

        m.create_table(
            Table::create()
                .table("applications")
                .col(uuid("id").primary_key())
                .col(uuid("posting_id"))
                .col(uuid("company_id"))
                .col(uuid("candidate_id"))
                .col(text_null("cover_letter"))
                .col(string_len("source", 16))
                .col(string_len_null("source_name", 120))
                .col(string_len("status", 16))
                .col(timestamp_with_time_zone("created_at"))
                .col(timestamp_with_time_zone("updated_at"))
                .foreign_key(&mut fk("applications", "posting_id", "postings"))
                .foreign_key(&mut fk("applications", "company_id", "companies"))
                .foreign_key(&mut fk("applications", "candidate_id", "candidate_profiles"))
                .to_owned(),
        )
        .await?;
        // One application per candidate and posting, whatever the race.
        m.create_index(index("applications", "once", &["posting_id", "candidate_id"]).unique().to_owned()).await?;
        m.create_index(index("applications", "posting", &["posting_id", "status", "created_at", "id"])).await?;
        m.create_index(index("applications", "candidate", &["candidate_id", "created_at", "id"])).await?;
        m.create_index(index("applications", "company", &["company_id", "candidate_id"])).await?;

        m.create_table(
            Table::create()
                .table("application_events")
                .col(uuid("id").primary_key())
                .col(uuid("application_id"))
                .col(string_len_null("from_status", 16))
                .col(string_len("to_status", 16))
                .col(uuid("actor_id"))
                .col(text_null("note"))
                .col(timestamp_with_time_zone("created_at"))
                .foreign_key(&mut fk("application_events", "application_id", "applications"))
                .to_owned(),
        )
        .await?;
        m.create_index(index("application_events", "application", &["application_id", "created_at", "id"])).await?;

        m.create_table(
            Table::create()
                .table("application_notes")
                .col(uuid("id").primary_key())
                .col(uuid("application_id"))
                .col(uuid("author_id"))
                .col(text("body"))
                .col(timestamp_with_time_zone("created_at"))
                .foreign_key(&mut fk("application_notes", "application_id", "applications"))
                .to_owned(),
        )
        .await?;
        m.create_index(index("application_notes", "application", &["application_id", "created_at", "id"])).await?;
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        for table in TABLES.iter().rev() {
            m.drop_table(Table::drop().table(*table).if_exists().to_owned()).await?;
        }
        Ok(())
    }
}
