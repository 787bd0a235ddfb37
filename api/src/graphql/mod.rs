//! The GraphQL schema: one area per module, merged at the root.

pub mod accounts;
pub mod applications;
pub mod candidates;
pub mod companies;
pub mod connection;
pub mod context;
pub mod cost;
pub mod events;
pub mod ids;
pub mod input_text;
pub mod limits;
pub mod matching;
pub mod node;
pub mod nulls;
pub mod partners;
pub mod postings;
pub mod subscriptions;
pub mod types;
pub mod webhooks;

use std::sync::Arc;

use async_graphql::{MergedObject, Schema, SchemaBuilder};

use crate::state::AppState;

/// Reads.
#[derive(MergedObject, Default)]
#[graphql(name = "Query")]
pub struct QueryRoot(
    accounts::AccountQuery,
    companies::CompanyQuery,
    postings::PostingQuery,
    candidates::CandidateQuery,
    applications::ApplicationQuery,
    events::EventQuery,
    node::NodeQuery,
    cost::CostQuery,
);

/// Writes: each takes one input object and returns a payload with the changed object.
#[derive(MergedObject, Default)]
#[graphql(name = "Mutation")]
pub struct MutationRoot(
    accounts::AccountMutation,
    companies::CompanyMutation,
    postings::PostingMutation,
    candidates::CandidateMutation,
    applications::ApplicationMutation,
    webhooks::WebhookMutation,
    partners::PartnerMutation,
);

pub type AppSchema = Schema<QueryRoot, MutationRoot, subscriptions::SubscriptionRoot>;

fn builder() -> SchemaBuilder<QueryRoot, MutationRoot, subscriptions::SubscriptionRoot> {
    Schema::build(QueryRoot::default(), MutationRoot::default(), subscriptions::SubscriptionRoot)
}

/// The schema with its limits, built once at start-up and shared by every worker. The limits of
/// `limits` run before it, on every request (`limits::admit`); it has no extensions, so fields
/// resolve on async-graphql's fast path.
pub fn build(state: Arc<AppState>) -> AppSchema {
    let max_complexity = state.settings.limits.max_complexity;
    builder().limit_complexity(max_complexity).limit_recursive_depth(64).data(state).finish()
}

/// The schema as SDL; `schema.graphql` at the repository root must equal it.
pub fn sdl() -> String {
    builder().finish().sdl()
}
