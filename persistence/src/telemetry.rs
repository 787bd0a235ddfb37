//! A span per SQL statement, child of the span it ran in (a request, a webhook delivery), when
//! traces are exported (`enable`, called by the server once its OpenTelemetry pipeline is set).
//! sea-orm reports a statement after it ran, with its duration: the span is written then, with
//! the start time put back by that duration.

use std::sync::atomic::{AtomicBool, Ordering};
use std::time::SystemTime;

use opentelemetry::KeyValue;
use opentelemetry::trace::{Span as _, SpanKind, Status, TraceContextExt, Tracer};
use tracing_opentelemetry::OpenTelemetrySpanExt;

static ENABLED: AtomicBool = AtomicBool::new(false);

/// The longest statement text a span carries.
const MAX_TEXT: usize = 2000;

/// Statements from now on are traced.
pub fn enable() {
    ENABLED.store(true, Ordering::Relaxed);
}

/// The current span's W3C `traceparent`, when traces are exported and there is a current span.
pub fn traceparent() -> Option<String> {
    if !ENABLED.load(Ordering::Relaxed) {
        return None;
    }
    let cx = tracing::Span::current().context();
    let span = cx.span();
    let sc = span.span_context();
    sc.is_valid().then(|| format!("00-{}-{}-{:02x}", sc.trace_id(), sc.span_id(), sc.trace_flags().to_u8()))
}

/// A span continuing the trace of `traceparent` (a stored one), or a span of its own without it.
pub fn continue_from(span: &tracing::Span, traceparent: Option<&str>) {
    use opentelemetry::trace::{SpanContext, SpanId, TraceFlags, TraceId, TraceState};
    if !ENABLED.load(Ordering::Relaxed) {
        return;
    }
    let Some(parts) = traceparent.map(|t| t.split('-').collect::<Vec<_>>()) else { return };
    let [_, trace, parent, flags] = parts.as_slice() else { return };
    let (Ok(trace), Ok(parent), Ok(flags)) =
        (TraceId::from_hex(trace), SpanId::from_hex(parent), u8::from_str_radix(flags, 16))
    else {
        return;
    };
    let remote = SpanContext::new(trace, parent, TraceFlags::new(flags), true, TraceState::default());
    let _ = span.set_parent(opentelemetry::Context::new().with_remote_span_context(remote));
}

pub(crate) fn statement(info: &sea_orm::metric::Info<'_>, table: &str) {
    if !ENABLED.load(Ordering::Relaxed) {
        return;
    }
    let parent = tracing::Span::current().context();
    // Only inside traced work: a pool's own housekeeping is nobody's child.
    if !parent.span().span_context().is_valid() {
        return;
    }
    let sql = &info.statement.sql;
    let verb = sql.split_whitespace().next().unwrap_or("SQL").to_ascii_uppercase();
    let system = match info.statement.db_backend {
        sea_orm::DbBackend::Postgres => "postgresql",
        sea_orm::DbBackend::Sqlite => "sqlite",
        _ => "other_sql",
    };
    let mut text = sql.as_str();
    if text.len() > MAX_TEXT {
        let mut cut = MAX_TEXT;
        while !text.is_char_boundary(cut) {
            cut -= 1;
        }
        text = &text[..cut];
    }
    let end = SystemTime::now();
    let start = end.checked_sub(info.elapsed).unwrap_or(end);
    let tracer = opentelemetry::global::tracer("hiregraph-persistence");
    let mut span = tracer
        .span_builder(format!("{verb} {table}"))
        .with_kind(SpanKind::Client)
        .with_start_time(start)
        .with_attributes([
            KeyValue::new("db.system.name", system),
            KeyValue::new("db.operation.name", verb),
            KeyValue::new("db.collection.name", table.to_owned()),
            KeyValue::new("db.query.text", text.to_owned()),
        ])
        .start_with_context(&tracer, &parent);
    if info.failed {
        span.set_status(Status::error("the statement failed"));
    }
    span.end_with_timestamp(end);
}
