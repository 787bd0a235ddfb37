//! The hiregraph server: HTTP edge, GraphQL schema, authentication, use cases.

pub mod access;
pub mod auth;
pub mod cli;
pub mod demo;
pub mod error;
pub mod graphiql;
pub mod graphql;
pub mod http;
pub mod jsonld;
pub mod metrics;
pub mod oauth;
pub mod persisted;
pub mod services;
pub mod settings;
pub mod startup;
pub mod state;
pub mod worker;
pub mod ws;

/// Logs to stderr with the configured filter (`HIREGRAPH_LOG`, checked by `Settings`) and format
/// (`HIREGRAPH_LOG_FORMAT`): JSON lines, or text coloured only on a terminal.
pub fn init_tracing(settings: &settings::Settings) {
    use std::io::IsTerminal;
    let filter = tracing_subscriber::EnvFilter::try_new(&settings.log_filter)
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr);
    let _ = match settings.log_format {
        settings::LogFormat::Json => builder.json().flatten_event(true).with_current_span(false).try_init(),
        settings::LogFormat::Text => builder.with_ansi(std::io::stderr().is_terminal()).try_init(),
    };
}
