//! OpenTelemetry traces, exported over OTLP/HTTP (JSON) when `OTEL_EXPORTER_OTLP_ENDPOINT` is
//! set and off otherwise: a server span per request (continuing the caller's W3C `traceparent`),
//! a span per GraphQL operation named after it, and a client span per SQL statement
//! (`hiregraph_persistence::telemetry`). The SDK's batch processor exports from a thread of its
//! own; its `OTEL_BSP_*` variables apply.

use actix_web::http::header::HeaderMap;
use opentelemetry::KeyValue;
use opentelemetry::propagation::Extractor;
use opentelemetry::trace::TracerProvider as _;
use opentelemetry_otlp::{Protocol, WithExportConfig};
use opentelemetry_sdk::trace::SdkTracerProvider;

use crate::settings::Otlp;

/// The running pipeline; `shutdown` sends what is still buffered.
pub struct Telemetry {
    provider: SdkTracerProvider,
}

impl Telemetry {
    pub fn shutdown(self) {
        if let Err(e) = self.provider.shutdown() {
            eprintln!("hiregraph: exporting the last traces failed: {e}");
        }
    }
}

static ENABLED: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

/// Whether traces are exported.
pub fn enabled() -> bool {
    ENABLED.load(std::sync::atomic::Ordering::Relaxed)
}

/// Builds the exporter and the tracer provider, and installs them (and the W3C trace-context
/// propagator) globally. The tracer feeds `tracing_opentelemetry`'s layer.
pub fn start(otlp: &Otlp) -> Result<(Telemetry, opentelemetry_sdk::trace::Tracer), String> {
    let exporter = opentelemetry_otlp::SpanExporter::builder()
        .with_http()
        .with_protocol(Protocol::HttpJson)
        .with_endpoint(otlp.traces_url.clone())
        .build()
        .map_err(|e| format!("cannot set up the OTLP exporter for {}: {e}", otlp.traces_url))?;
    let resource = opentelemetry_sdk::Resource::builder()
        .with_service_name(otlp.service_name.clone())
        .with_attribute(KeyValue::new("service.version", env!("CARGO_PKG_VERSION")))
        .build();
    let provider = SdkTracerProvider::builder().with_batch_exporter(exporter).with_resource(resource).build();
    let tracer = provider.tracer("hiregraph");
    opentelemetry::global::set_tracer_provider(provider.clone());
    opentelemetry::global::set_text_map_propagator(opentelemetry_sdk::propagation::TraceContextPropagator::new());
    ENABLED.store(true, std::sync::atomic::Ordering::Relaxed);
    hiregraph_persistence::telemetry::enable();
    Ok((Telemetry { provider }, tracer))
}

struct Headers<'a>(&'a HeaderMap);

impl Extractor for Headers<'_> {
    fn get(&self, key: &str) -> Option<&str> {
        self.0.get(key).and_then(|v| v.to_str().ok())
    }

    fn keys(&self) -> Vec<&str> {
        self.0.keys().map(|k| k.as_str()).collect()
    }
}

/// Continues the caller's trace (`traceparent`, `tracestate`) in `span`.
pub fn continue_trace(span: &tracing::Span, headers: &HeaderMap) {
    use tracing_opentelemetry::OpenTelemetrySpanExt;
    if !enabled() {
        return;
    }
    let parent = opentelemetry::global::get_text_map_propagator(|p| p.extract(&Headers(headers)));
    let _ = span.set_parent(parent);
}

/// The span name of a request: method and route, never the raw path of an unknown one (span
/// names must stay few).
pub fn route_name(method: &str, path: &str) -> String {
    let route = match path {
        "/" | "/graphql" | "/oauth/token" | "/healthz" | "/livez" | "/readyz" | "/metrics" => path,
        p if p.starts_with("/graphiql/") => "/graphiql/{file}",
        p if p.starts_with("/postings/") => "/postings/{slug}.jsonld",
        _ => "unknown route",
    };
    format!("{method} {route}")
}
