//! The hiregraph server: HTTP edge, GraphQL schema, authentication, use cases.

pub mod auth;
pub mod cli;
pub mod demo;
pub mod error;
pub mod graphiql;
pub mod graphql;
pub mod http;
pub mod metrics;
pub mod oauth;
pub mod services;
pub mod settings;
pub mod startup;
pub mod state;
pub mod worker;
pub mod ws;

/// Logs to stderr with the configured filter (`HIREGRAPH_LOG`).
pub fn init_tracing(filter: &str) {
    let filter =
        tracing_subscriber::EnvFilter::try_new(filter).unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let _ = tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr).try_init();
}
