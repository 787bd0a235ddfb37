//! Around every request: the request id every response carries (the caller's `x-request-id`
//! when it is sensible, else a new one), one access-log line, the HTTP counters of `/metrics`
//! (responses by status, refusals by reason), and compression (gzip or brotli, as the client
//! asks, for answers over 1 KiB).

use std::time::Instant;

use actix_web::body::{BodySize, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{CONTENT_ENCODING, HeaderName, HeaderValue};
use actix_web::middleware::Next;
use actix_web::{HttpMessage, HttpRequest, web};

use crate::http::HttpContext;

const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// The id of the request being served.
#[derive(Clone)]
pub struct RequestId(pub String);

/// What the GraphQL handler learned about a request, for its access-log line.
#[derive(Clone)]
pub struct Operation {
    /// The operation name (or names, for a batch), when the document gives one.
    pub name: Option<String>,
    /// `anonymous`, `user` or `partner`.
    pub principal: &'static str,
}

/// Why a request was refused before it ran: the error code of its answer.
#[derive(Clone)]
pub struct Refusal(pub String);

/// The caller's `x-request-id` when it is short printable ASCII, else a new UUIDv7.
fn incoming_id(req: &ServiceRequest) -> String {
    req.headers()
        .get(&REQUEST_ID)
        .and_then(|v| v.to_str().ok())
        .filter(|v| !v.is_empty() && v.len() <= 100 && v.chars().all(|c| c.is_ascii_graphic()))
        .map(str::to_owned)
        .unwrap_or_else(|| uuid::Uuid::now_v7().to_string())
}

/// The id `log` gave this request (a new one off the middleware, as in unit tests).
pub fn request_id(req: &HttpRequest) -> String {
    req.extensions().get::<RequestId>().map(|id| id.0.clone()).unwrap_or_else(|| uuid::Uuid::now_v7().to_string())
}

/// The reason a refusal without a code of ours is counted under.
fn reason_of_status(status: u16) -> String {
    match status {
        400 => "BAD_REQUEST".into(),
        401 => "UNAUTHENTICATED".into(),
        403 => "FORBIDDEN".into(),
        404 => "NOT_FOUND".into(),
        405 => "METHOD_NOT_ALLOWED".into(),
        413 => "PAYLOAD_TOO_LARGE".into(),
        415 => "UNSUPPORTED_MEDIA_TYPE".into(),
        429 => "RATE_LIMITED".into(),
        503 => "SERVICE_UNAVAILABLE".into(),
        other => format!("HTTP_{other}"),
    }
}

/// Answers this size or smaller are sent as they are: compressing them saves less than it costs.
pub const COMPRESS_ABOVE_BYTES: u64 = 1024;

/// Inside `Compress`: marks answers that should not be compressed (small ones, and streamed
/// ones such as a 413 that must not wait for its body) with `content-encoding: identity`, which
/// `Compress` leaves alone.
pub async fn small_as_is(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let mut res = next.call(req).await?;
    let large = matches!(res.response().body().size(), BodySize::Sized(n) if n > COMPRESS_ABOVE_BYTES);
    if !large && !res.headers().contains_key(CONTENT_ENCODING) {
        res.headers_mut().insert(CONTENT_ENCODING, HeaderValue::from_static("identity"));
    }
    Ok(res)
}

/// Outside `Compress`: takes the `identity` mark off again; it is no coding a client needs told.
pub async fn unmark(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let mut res = next.call(req).await?;
    if res.headers().get(CONTENT_ENCODING).is_some_and(|v| v.as_bytes() == b"identity") {
        res.headers_mut().remove(CONTENT_ENCODING);
    }
    Ok(res)
}

/// The middleware (`actix_web::middleware::from_fn`).
pub async fn log(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    use tracing::Instrument;
    let started = Instant::now();
    let id = incoming_id(&req);
    req.extensions_mut().insert(RequestId(id.clone()));
    let span = tracing::info_span!(
        "request",
        otel.name = %crate::telemetry::route_name(req.method().as_str(), req.path()),
        otel.kind = "server",
        http.request.method = %req.method(),
        url.path = req.path(),
        http.response.status_code = tracing::field::Empty,
        request_id = %id,
    );
    crate::telemetry::continue_trace(&span, req.headers());
    let mut res = next.call(req).instrument(span.clone()).await?;
    span.record("http.response.status_code", res.status().as_u16());
    if !res.headers().contains_key(&REQUEST_ID)
        && let Ok(value) = HeaderValue::from_str(&id)
    {
        res.headers_mut().insert(REQUEST_ID, value);
    }
    let status = res.status().as_u16();
    let refusal = (status >= 400).then(|| {
        res.response().extensions().get::<Refusal>().map_or_else(|| reason_of_status(status), |r| r.0.clone())
    });
    let request = res.request();
    if let Some(ctx) = request.app_data::<web::Data<HttpContext>>() {
        ctx.state.metrics.http_response(status, refusal.as_deref());
    }
    let operation = request.extensions().get::<Operation>().cloned();
    let bytes = match res.response().body().size() {
        BodySize::Sized(n) => Some(n),
        BodySize::None => Some(0),
        BodySize::Stream => None,
    };
    let millis = started.elapsed().as_secs_f64() * 1000.0;
    tracing::info!(
        target: "hiregraph::access",
        method = %request.method(),
        path = request.path(),
        status,
        duration_ms = (millis * 1000.0).round() / 1000.0,
        operation = operation.as_ref().and_then(|o| o.name.as_deref()),
        principal = operation.as_ref().map(|o| o.principal),
        refused = refusal.as_deref(),
        request_id = %id,
        bytes,
        "request"
    );
    Ok(res)
}
