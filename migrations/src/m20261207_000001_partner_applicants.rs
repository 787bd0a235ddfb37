//! Applicants a partner submits: a candidate profile that belongs to no user account (its
//! `user_id` becomes nullable), found again by its normalised email (`applicant_email`, unique, set
//! only while the profile has no account); what was submitted with an application (`resume_text`,
//! `answers`); and the one-time claim tokens with which the person attaches the applications to
//! the account they register later.

use sea_orm_migration::sea_orm::{ConnectionTrait, DbBackend, Statement};
use sea_orm_migration::{prelude::*, schema::*};

use crate::helpers::{fk, index};

#[derive(DeriveMigrationName)]
pub struct Migration;

/// SQLite cannot `ALTER COLUMN … DROP NOT NULL`. Its documented way to remove a NOT NULL
/// constraint, which changes nothing on disk, is to edit the table's definition in `sqlite_schema`
/// and bump `schema_version` in one transaction (sqlite.org/lang_altertable.html, "making other
/// kinds of table schema changes"). It runs as one batch, so on one pooled connection.
async fn drop_not_null_on_sqlite(m: &SchemaManager<'_>, table: &str, column: &str, from: &str) -> Result<(), DbErr> {
    let conn = m.get_connection();
    let row = conn
        .query_one_raw(Statement::from_string(DbBackend::Sqlite, "PRAGMA schema_version"))
        .await?
        .ok_or_else(|| DbErr::Custom("PRAGMA schema_version answered nothing".into()))?;
    let version: i64 = row.try_get_by_index(0)?;
    let row = conn
        .query_one_raw(Statement::from_sql_and_values(
            DbBackend::Sqlite,
            "SELECT sql FROM sqlite_schema WHERE type = 'table' AND name = ?",
            [table.into()],
        ))
        .await?
        .ok_or_else(|| DbErr::Custom(format!("no table {table}")))?;
    let sql: String = row.try_get_by_index(0)?;
    let nullable = from.replace(" NOT NULL", "");
    if !sql.contains(from) && sql.contains(&nullable) {
        return Ok(());
    }
    if !sql.contains(from) {
        return Err(DbErr::Custom(format!("{table}.{column} is not declared as `{from}`: {sql}")));
    }
    let changed = sql.replacen(from, &nullable, 1).replace('\'', "''");
    conn.execute_unprepared(&format!(
        "BEGIN IMMEDIATE; PRAGMA writable_schema = ON; \
         UPDATE sqlite_schema SET sql = '{changed}' WHERE type = 'table' AND name = '{table}'; \
         PRAGMA schema_version = {}; PRAGMA writable_schema = OFF; COMMIT;",
        version + 1
    ))
    .await?;
    let check = conn
        .query_one_raw(Statement::from_string(DbBackend::Sqlite, "PRAGMA integrity_check"))
        .await?
        .map(|row| row.try_get_by_index::<String>(0))
        .transpose()?;
    match check.as_deref() {
        Some("ok") => Ok(()),
        other => Err(DbErr::Custom(format!("integrity check after changing {table}.{column}: {other:?}"))),
    }
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        match m.get_database_backend() {
            DbBackend::Sqlite => {
                drop_not_null_on_sqlite(m, "candidate_profiles", "user_id", "\"user_id\" uuid_text NOT NULL").await?
            }
            _ => {
                m.get_connection()
                    .execute_unprepared("ALTER TABLE candidate_profiles ALTER COLUMN user_id DROP NOT NULL")
                    .await?;
            }
        }
        m.alter_table(
            Table::alter().table("candidate_profiles").add_column(string_len_null("applicant_email", 254)).to_owned(),
        )
        .await?;
        m.create_index(index("candidate_profiles", "applicant_email", &["applicant_email"]).unique().to_owned())
            .await?;
        m.alter_table(Table::alter().table("applications").add_column(text_null("resume_text")).to_owned()).await?;
        m.alter_table(Table::alter().table("applications").add_column(text_null("answers")).to_owned()).await?;
        m.create_table(
            Table::create()
                .table("applicant_claims")
                .col(string_len("token_hash", 64).primary_key())
                .col(uuid("candidate_id"))
                .col(timestamp_with_time_zone("created_at"))
                .col(timestamp_with_time_zone("expires_at"))
                .foreign_key(&mut fk("applicant_claims", "candidate_id", "candidate_profiles"))
                .to_owned(),
        )
        .await?;
        m.create_index(index("applicant_claims", "candidate", &["candidate_id"])).await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_table(Table::drop().table("applicant_claims").to_owned()).await?;
        m.alter_table(Table::alter().table("applications").drop_column("answers").to_owned()).await?;
        m.alter_table(Table::alter().table("applications").drop_column("resume_text").to_owned()).await?;
        m.drop_index(
            Index::drop().name("ix_candidate_profiles_applicant_email").table("candidate_profiles").to_owned(),
        )
        .await?;
        m.alter_table(Table::alter().table("candidate_profiles").drop_column("applicant_email").to_owned()).await
    }
}
