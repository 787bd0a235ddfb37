//! Black-box tests of hiregraph: the real server over HTTP, on SQLite by default and on Postgres +
//! Redis when `HIREGRAPH_TEST_DATABASE_URL` and `HIREGRAPH_TEST_REDIS_URL` are set.

// A failed expectation in a test is the point: it panics with the body that was wrong.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod accounts;
mod applications;
mod authorization;
mod backend;
mod budgets;
mod cache;
mod candidates;
mod companies;
mod demo;
mod events;
mod feed;
mod fuzz;
mod graphiql;
mod helpers;
mod hostile;
mod http;
mod idempotency;
mod import;
mod jsonld;
mod matching;
mod migrations;
mod nulls;
mod partners;
mod persisted;
mod postings;
mod relevance;
mod schema;
mod search;
mod submissions;
mod subscriptions;
mod titles;
mod tls;
mod upserts;
mod webhooks;
