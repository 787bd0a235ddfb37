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
pub mod telemetry;
pub mod worker;
pub mod ws;

/// Logs to stderr with the configured filter (`HIREGRAPH_LOG`, checked by `Settings`) and format
/// (`HIREGRAPH_LOG_FORMAT`): JSON lines, or text coloured only on a terminal. With
/// `OTEL_EXPORTER_OTLP_ENDPOINT` set, spans of this crate and the persistence layer are exported
/// as traces too; keep the returned pipeline and shut it down on exit.
pub fn init_tracing(settings: &settings::Settings) -> Result<Option<telemetry::Telemetry>, String> {
    use std::io::IsTerminal;
    use tracing_subscriber::Layer;
    use tracing_subscriber::layer::SubscriberExt;
    use tracing_subscriber::util::SubscriberInitExt;
    let filter = tracing_subscriber::EnvFilter::try_new(&settings.log_filter)
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let fmt = tracing_subscriber::fmt::layer().with_writer(std::io::stderr);
    let logs = match settings.log_format {
        settings::LogFormat::Json => fmt.json().flatten_event(true).with_span_list(false).with_filter(filter).boxed(),
        settings::LogFormat::Text => fmt.with_ansi(std::io::stderr().is_terminal()).with_filter(filter).boxed(),
    };
    let (telemetry, traces) = match &settings.otlp {
        None => (None, None),
        Some(otlp) => {
            let (telemetry, tracer) = telemetry::start(otlp)?;
            let ours = tracing_subscriber::filter::Targets::new()
                .with_target("hiregraph_api", tracing::Level::INFO)
                .with_target("hiregraph_persistence", tracing::Level::INFO);
            (Some(telemetry), Some(tracing_opentelemetry::layer().with_tracer(tracer).with_filter(ours)))
        }
    };
    let _ = tracing_subscriber::registry().with(logs).with(traces).try_init();
    Ok(telemetry)
}
