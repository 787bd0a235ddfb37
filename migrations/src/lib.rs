//! Schema migrations. Every migration uses sea-query's portable schema builders and runs on SQLite
//! and on Postgres: UUIDs, UTC timestamps, statuses as text, no native enums. The one exception is
//! full-text search, which each backend does its own way (tsvector + GIN, FTS5).

pub use sea_orm_migration::prelude::*;

mod helpers;
mod m20261128_000001_foundation;
mod m20261128_000002_candidates_applications;
mod m20261128_000003_search;
mod m20261201_000001_disabled_users;
mod m20261202_000001_posting_children;
mod m20261203_000001_outbox;
mod m20261204_000001_webhooks;
mod m20261205_000001_posting_expiry;
mod m20261206_000001_partners;
mod m20261206_000002_idempotency;
mod m20261206_000003_external_ids;
mod m20261207_000001_partner_applicants;
mod m20261207_000002_partner_cost_budgets;
mod m20261208_000001_outbox_trace_context;
mod m20261209_000001_company_logo;

pub use m20261202_000001_posting_children::fill_children_sql;

pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(m20261128_000001_foundation::Migration),
            Box::new(m20261128_000002_candidates_applications::Migration),
            Box::new(m20261128_000003_search::Migration),
            Box::new(m20261201_000001_disabled_users::Migration),
            Box::new(m20261202_000001_posting_children::Migration),
            Box::new(m20261203_000001_outbox::Migration),
            Box::new(m20261204_000001_webhooks::Migration),
            Box::new(m20261205_000001_posting_expiry::Migration),
            Box::new(m20261206_000001_partners::Migration),
            Box::new(m20261206_000002_idempotency::Migration),
            Box::new(m20261206_000003_external_ids::Migration),
            Box::new(m20261207_000001_partner_applicants::Migration),
            Box::new(m20261207_000002_partner_cost_budgets::Migration),
            Box::new(m20261208_000001_outbox_trace_context::Migration),
            Box::new(m20261209_000001_company_logo::Migration),
        ]
    }
}
