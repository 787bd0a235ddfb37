//! The HTTP edge: GraphQL over HTTP (POST and GET), GraphiQL, health and readiness.
//!
//! The GraphQL handler is our own rather than a framework adapter's, for two reasons the tests pin
//! down: the body limit must hold while streaming (an adapter was measured executing a 100 MiB
//! body despite a 64 KiB limit), and the status codes must follow the GraphQL-over-HTTP spec
//! (400 for a request that never executed, 405 for a mutation over GET, 413, 415).

use std::net::IpAddr;
use std::sync::Arc;
use std::time::Duration;

use actix_web::http::StatusCode;
use actix_web::http::header::{self, HeaderValue};
use actix_web::{HttpRequest, HttpResponse, web};
use async_graphql::parser::types::OperationType;
use async_graphql::{BatchRequest, BatchResponse, Request, Response, ServerError, Value};
use futures_util::StreamExt;
use hiregraph_domain::companies::CompanyRole;
use hiregraph_domain::{CompanyId, Principal};
use hiregraph_persistence::limiter::{ClientAddr, Decision, LimitKey, Quota, Spend};
use serde::Deserialize;
use tracing::Instrument;

use crate::graphql::AppSchema;
use crate::graphql::context::{new_loader, new_viewer_loader};
use crate::graphql::cost::{self, CostReport, Costing, ThrottleStatus};
use crate::graphql::limits;
use crate::state::{AppState, Viewer};

pub struct HttpContext {
    pub schema: AppSchema,
    pub state: Arc<AppState>,
    /// The schema's types, for costing requests before they run (`graphql::cost`).
    pub registry: Arc<async_graphql::registry::Registry>,
}

const GRAPHQL_RESPONSE: &str = "application/graphql-response+json";

/// Which media type the client wants; the legacy `application/json` mode answers 200 for
/// requests that reached GraphQL, as the spec asks.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Media {
    GraphqlResponse,
    Json,
}

fn media(req: &HttpRequest) -> Media {
    let accept = req.headers().get(header::ACCEPT).and_then(|v| v.to_str().ok()).unwrap_or("");
    if accept.is_empty()
        || accept.contains(GRAPHQL_RESPONSE)
        || accept.contains("*/*")
        || !accept.contains("application/json")
    {
        Media::GraphqlResponse
    } else {
        Media::Json
    }
}

fn error_body(message: &str, code: &str) -> serde_json::Value {
    serde_json::json!({ "errors": [{ "message": message, "extensions": { "code": code } }] })
}

/// A request that could not be turned into a GraphQL request at all.
fn refuse(req: &HttpRequest, status: StatusCode, message: &str, code: &str) -> HttpResponse {
    let content_type = match media(req) {
        Media::GraphqlResponse => GRAPHQL_RESPONSE,
        Media::Json => "application/json",
    };
    let mut response = HttpResponse::build(status).content_type(content_type).json(error_body(message, code));
    response.extensions_mut().insert(crate::access::Refusal(code.to_owned()));
    response
}

/// Why a request's credentials were refused.
pub enum Refused {
    /// A 401: a malformed or invalid token, or one whose account is gone or disabled.
    Credentials(String),
    /// The account could not be looked up (the database is down).
    Unavailable(crate::error::AppError),
}

/// The caller of the `Authorization` header: none is anonymous; a bad one is refused, never
/// silently downgraded to anonymous. A user token's subject is looked up for every request (its
/// role is the stored one, and a deleted or disabled account's token no longer works); so is a
/// partner's API key or access token (a revoked key or rotated secret stops working at once).
async fn caller(req: &HttpRequest, state: &Arc<AppState>) -> Result<Caller, Refused> {
    let Some(value) = req.headers().get(header::AUTHORIZATION) else {
        return Ok(Caller { principal: Principal::Anonymous, memberships: None });
    };
    let value = value.to_str().map_err(|_| Refused::Credentials("the Authorization header is not text".to_owned()))?;
    let token = value
        .strip_prefix("Bearer ")
        .or_else(|| value.strip_prefix("bearer "))
        .ok_or_else(|| Refused::Credentials("the Authorization header must be `Bearer <access token>`".to_owned()))?;
    caller_of_bearer(state, token.trim()).await
}

/// Who a bearer credential names, and for a user, the companies they belong to as read with the
/// account (one statement, or one cache entry, for both).
pub struct Caller {
    pub principal: Principal,
    pub memberships: Option<Vec<(CompanyId, CompanyRole)>>,
}

/// The principal of a bearer credential: a user's access token, a partner's API key
/// (`hg_<env>_…`) or a partner's OAuth access token. Shared by HTTP and WebSocket `connection_init`.
pub async fn principal_of_bearer(state: &Arc<AppState>, token: &str) -> Result<Principal, Refused> {
    caller_of_bearer(state, token).await.map(|caller| caller.principal)
}

async fn caller_of_bearer(state: &Arc<AppState>, token: &str) -> Result<Caller, Refused> {
    use crate::services::partners::{self, Refusal};
    let partner = |result: Result<Principal, Refusal>| {
        result.map(|principal| Caller { principal, memberships: None }).map_err(|r| match r {
            Refusal::Credentials(why) => Refused::Credentials(why),
            Refusal::Unavailable(err) => Refused::Unavailable(err),
        })
    };
    if crate::auth::keys::looks_like(crate::auth::keys::Kind::ApiKey, token) {
        return partner(partners::principal_of_key(state, token).await);
    }
    let bearer = state
        .jwt
        .verify_bearer(token)
        .map_err(|why| Refused::Credentials(format!("the access token is not valid ({why})")))?;
    let id = match bearer {
        crate::auth::jwt::Bearer::User(id) => id,
        crate::auth::jwt::Bearer::Partner(token) => return partner(partners::principal_of_token(state, &token).await),
    };
    match crate::services::accounts::access_of(state, id).await {
        Ok(Some(access)) => Ok(Caller {
            principal: Principal::User { id: access.user.id, role: access.user.role },
            memberships: Some(access.memberships),
        }),
        Ok(None) => {
            Err(Refused::Credentials("the access token names an account that does not exist or is disabled".to_owned()))
        }
        Err(err) => Err(Refused::Unavailable(err)),
    }
}

/// The client's address as rate limits count it: the peer, or — behind a trusted proxy — the last
/// `X-Forwarded-For` entry, the one that proxy appended (earlier ones are the client's to forge).
pub(crate) fn client_addr(req: &HttpRequest, state: &AppState) -> ClientAddr {
    let forwarded = state
        .settings
        .rate_limits
        .trust_forwarded_for
        .then(|| req.headers().get("x-forwarded-for")?.to_str().ok()?.rsplit(',').next()?.trim().parse::<IpAddr>().ok())
        .flatten();
    let peer = req.peer_addr().map(|a| a.ip());
    ClientAddr::new(forwarded.or(peer).unwrap_or(IpAddr::from([0, 0, 0, 0])))
}

/// The status of a response whose errors ask the client to come back later, with the longest
/// `retryAfter` among them: 503 when the database did not answer in time, else 429 for a rate
/// limit; `None` when no error is of either kind.
fn retry_status(errors: &[ServerError]) -> Option<(StatusCode, u64)> {
    errors
        .iter()
        .filter_map(|e| e.extensions.as_ref())
        .filter_map(|ext| {
            let status = match ext.get("code") {
                Some(Value::String(code)) if code == "SERVICE_UNAVAILABLE" || code == "TIMEOUT" => {
                    StatusCode::SERVICE_UNAVAILABLE
                }
                Some(Value::String(code)) if code == "RATE_LIMITED" => StatusCode::TOO_MANY_REQUESTS,
                _ => return None,
            };
            let secs = match ext.get("retryAfter") {
                Some(Value::Number(n)) => n.as_u64().unwrap_or(1),
                _ => 1,
            };
            Some((status, secs))
        })
        // 503 outranks 429 (StatusCode orders by number), then the longest wait.
        .max_by_key(|(status, secs)| (status.as_u16(), *secs))
}

fn request_id(req: &HttpRequest) -> String {
    crate::access::request_id(req)
}

/// Codes the errors that came without one, and marks `INTERNAL` ones with the request id under
/// which the log holds the detail. Every error our resolvers raise carries a code; one without is
/// async-graphql refusing an argument or variable value while executing (a missing variable, a
/// scalar that does not parse): the client's input, so `BAD_USER_INPUT`. Returns whether every
/// error was of that kind.
fn code_errors(errors: &mut [ServerError], request_id: &str) -> bool {
    let mut all_input = !errors.is_empty();
    for error in errors {
        let ext = error.extensions.get_or_insert_with(Default::default);
        match ext.get("code") {
            None => ext.set("code", "BAD_USER_INPUT"),
            Some(Value::String(code)) if code == "INTERNAL" => {
                ext.set("requestId", request_id);
                all_input = false;
            }
            Some(_) => all_input = false,
        }
    }
    all_input
}

/// The name of a document's leading operation (`query FeedPage { … }` → `FeedPage`), for metrics
/// when the client sent no `operationName`.
fn operation_name_of(query: &str) -> Option<String> {
    let mut rest = query.trim_start();
    while let Some(comment) = rest.strip_prefix('#') {
        rest = comment.split_once('\n').map_or("", |(_, r)| r).trim_start();
    }
    let rest = ["query", "mutation", "subscription"].iter().find_map(|kw| rest.strip_prefix(kw))?;
    let name: String = rest.trim_start().chars().take_while(|c| c.is_ascii_alphanumeric() || *c == '_').collect();
    (!name.is_empty()).then_some(name)
}

/// The span of a GraphQL request, named after its operation (a trace's readers search by it).
fn operation_span(batch: &BatchRequest, request_id: &str, method: &'static str) -> tracing::Span {
    let name = operation_names(batch);
    tracing::info_span!(
        "graphql",
        otel.name = %format!("graphql {}", name.as_deref().unwrap_or("anonymous")),
        graphql.operation.name = name.as_deref(),
        request_id,
        method,
    )
}

/// The operation names of a request, for its access-log line (a batch's joined by commas).
fn operation_names(batch: &BatchRequest) -> Option<String> {
    let name = |r: &Request| r.operation_name.clone().or_else(|| operation_name_of(&r.query));
    match batch {
        BatchRequest::Single(request) => name(request),
        BatchRequest::Batch(list) => {
            let names: Vec<String> = list.iter().map(|r| name(r).unwrap_or_else(|| "-".into())).collect();
            Some(names.join(","))
        }
    }
}

fn kind_of(principal: &Principal) -> &'static str {
    match principal {
        Principal::Anonymous => "anonymous",
        Principal::User { .. } => "user",
        Principal::Partner { .. } => "partner",
    }
}

/// Runs one request. The flag says whether it failed as a whole (never executed, or its
/// variables could not be coerced): GraphQL over HTTP answers those with 400 and no `data`.
async fn execute(ctx: &HttpContext, viewer: &Arc<Viewer>, mut request: Request, request_id: &str) -> (Response, bool) {
    let started = std::time::Instant::now();
    if let Err(refused) = crate::persisted::resolve(&ctx.state, &mut request).await {
        ctx.state.metrics.record(request.operation_name.as_deref(), started.elapsed(), true);
        return (Response::from_errors(vec![refused]), true);
    }
    let operation = request.operation_name.clone().or_else(|| operation_name_of(&request.query));
    if let Err(refused) = limits::admit(&mut request, &ctx.state.settings.limits, &ctx.state.documents) {
        ctx.state.metrics.record(operation.as_deref(), started.elapsed(), true);
        return (Response::from_errors(vec![refused]), true);
    }
    let costing = costing(&ctx.registry, &mut request);
    let budget = budget_of(viewer, &ctx.state.settings.rate_limits);
    let mut throttle = None;
    if let (Some(costing), Some((key, per_minute))) = (&costing, &budget) {
        let how = if costing.dry_run { Spend::Look } else { Spend::Take(costing.requested) };
        let spent = ctx.state.limiter.spend(key, *per_minute, how).await;
        throttle = Some(throttle_status(*per_minute, spent.available));
        if !spent.allowed {
            ctx.state.metrics.record(operation.as_deref(), started.elapsed(), true);
            return (over_budget(costing, throttle, spent.wait), true);
        }
    }
    // A dry run executes only its `rateLimit` fields.
    if costing.as_ref().is_some_and(|c| c.dry_run) {
        let name = request.operation_name.clone();
        if let Some(cut) = request.parsed_query().ok().and_then(|doc| cost::dry_run_document(doc, name.as_deref())) {
            request.set_parsed_query(cut);
        }
    }
    let remember = reads_only(&mut request);
    if !remember {
        viewer.reread_memberships();
    }
    let mut request = request
        .data(viewer.clone())
        .data(new_loader(ctx.state.clone(), remember))
        .data(new_viewer_loader(ctx.state.clone(), viewer.clone()));
    if let Some(costing) = &costing {
        request = request.data(CostReport { requested: costing.requested, throttle });
    }
    // Kept to complete failed fields with `null` afterwards (`graphql::nulls`); a copy of the text
    // is cheaper than of the parsed document, and only a response with errors parses it again.
    let (document, operation_name) = (request.query.clone(), request.operation_name.clone());
    let mut response = ctx.schema.execute(request).await;
    if !response.errors.is_empty()
        && let Ok(doc) = async_graphql::parser::parse_query(&document)
    {
        crate::graphql::nulls::complete(&ctx.registry, &doc, operation_name.as_deref(), &mut response);
    }
    let never_executed = limits::code_request_errors(&mut response);
    let only_input_errors = code_errors(&mut response.errors, request_id);
    let failed_whole = never_executed || (only_input_errors && response.data == Value::Null);
    if let Some(costing) = &costing {
        let actual = if costing.dry_run { 0 } else { costing.actual(&response.data) };
        if let (Some((key, per_minute)), false) = (&budget, costing.dry_run)
            && actual < costing.requested
        {
            let spent = ctx.state.limiter.spend(key, *per_minute, Spend::GiveBack(costing.requested - actual)).await;
            throttle = Some(throttle_status(*per_minute, spent.available));
        }
        response.extensions.insert("cost".into(), cost_extension(costing.requested, actual, throttle));
    }
    ctx.state.metrics.record(operation.as_deref(), started.elapsed(), response.is_err());
    (response, failed_whole)
}

/// Costs a parsed request (see `graphql::cost`).
fn costing(registry: &async_graphql::registry::Registry, request: &mut Request) -> Option<Costing> {
    let variables = std::mem::take(&mut request.variables);
    let name = request.operation_name.clone();
    let costing = match request.parsed_query() {
        Ok(doc) => cost::of(registry, doc, name.as_deref(), &variables),
        Err(_) => None,
    };
    request.variables = variables;
    costing
}

/// Takes a subscription's requested cost from its caller's budget as it starts, as a query's is;
/// the events it then delivers are bounded by the connection and subscription limits, not
/// metered. The answer to send instead when the budget cannot pay.
pub(crate) async fn charge_subscription(
    state: &AppState,
    registry: &async_graphql::registry::Registry,
    viewer: &Viewer,
    request: &mut Request,
) -> Option<Response> {
    let costing = costing(registry, request)?;
    let (key, per_minute) = budget_of(viewer, &state.settings.rate_limits)?;
    let spent = state.limiter.spend(&key, per_minute, Spend::Take(costing.requested)).await;
    (!spent.allowed).then(|| over_budget(&costing, Some(throttle_status(per_minute, spent.available)), spent.wait))
}

/// Whose query-cost budget a request spends, and how many points a minute it holds; `None` when
/// budgets are off for this kind of caller.
fn budget_of(viewer: &Viewer, limits: &crate::settings::RateLimits) -> Option<(LimitKey, u32)> {
    let (key, per_minute) = match &viewer.principal {
        Principal::Anonymous => (format!("anonymous:{}", viewer.client?), limits.cost_anonymous_per_minute),
        Principal::User { id, .. } => (format!("user:{id}"), limits.cost_user_per_minute),
        Principal::Partner { app, cost_per_minute, .. } => {
            (format!("partner:{app}"), cost_per_minute.unwrap_or(limits.cost_partner_per_minute))
        }
    };
    (per_minute > 0).then_some((LimitKey::CostOf(key), per_minute))
}

fn throttle_status(per_minute: u32, available: u64) -> ThrottleStatus {
    ThrottleStatus {
        maximum_available: u64::from(per_minute),
        currently_available: available,
        restore_rate: f64::from(per_minute) / 60.0,
    }
}

/// `extensions.cost`, as Shopify reports it.
fn cost_extension(requested: u64, actual: u64, throttle: Option<ThrottleStatus>) -> Value {
    #[derive(serde::Serialize)]
    #[serde(rename_all = "camelCase")]
    struct Cost {
        requested_query_cost: u64,
        actual_query_cost: u64,
        throttle_status: Option<ThrottleStatus>,
    }
    async_graphql::to_value(Cost {
        requested_query_cost: requested,
        actual_query_cost: actual,
        throttle_status: throttle,
    })
    .unwrap_or(Value::Null)
}

/// The answer to a request its caller's budget cannot pay for: 429 with how long until it can.
fn over_budget(costing: &Costing, throttle: Option<ThrottleStatus>, wait: Duration) -> Response {
    let secs = crate::error::retry_after_secs(wait);
    let available = throttle.map_or(0, |t| t.currently_available);
    let mut error = ServerError::new(
        format!(
            "this query costs {} points and {available} are available; they are restored in {secs} s (see rateLimit and extensions.cost)",
            costing.requested
        ),
        None,
    );
    let mut ext = async_graphql::ErrorExtensionValues::default();
    ext.set("code", "RATE_LIMITED");
    ext.set("retryAfter", secs);
    error.extensions = Some(ext);
    let mut response = Response::from_errors(vec![error]);
    response.extensions.insert("cost".into(), cost_extension(costing.requested, 0, throttle));
    response
}

/// Whether the operation a request runs is a query (its document is parsed by now).
fn reads_only(request: &mut Request) -> bool {
    use async_graphql::parser::types::{DocumentOperations, OperationType};
    let name = request.operation_name.clone();
    let Ok(doc) = request.parsed_query() else { return false };
    let operation = match (&doc.operations, name) {
        (DocumentOperations::Single(op), _) => Some(op),
        (DocumentOperations::Multiple(ops), Some(name)) => ops.get(name.as_str()),
        (DocumentOperations::Multiple(ops), None) if ops.len() == 1 => ops.values().next(),
        _ => None,
    };
    operation.is_some_and(|op| op.node.ty == OperationType::Query)
}

/// The request's `Idempotency-Key`, if it sent one: 1 to 255 visible ASCII characters.
fn idempotency_key(req: &HttpRequest) -> Option<Result<String, &'static str>> {
    let value = req.headers().get("idempotency-key")?;
    Some(match value.to_str() {
        Ok(key) if !key.is_empty() && key.len() <= 255 && key.bytes().all(|b| b.is_ascii_graphic()) => {
            Ok(key.to_owned())
        }
        _ => Err("the Idempotency-Key header must be 1 to 255 visible ASCII characters (a UUID is a good one)"),
    })
}

/// An answer to a request: a status, the body, and how long to wait before a retry.
fn answer(
    req: &HttpRequest,
    status: StatusCode,
    retry_after: Option<u64>,
    body: Vec<u8>,
    request_id: String,
) -> HttpResponse {
    let content_type = if media(req) == Media::GraphqlResponse { GRAPHQL_RESPONSE } else { "application/json" };
    let mut response = HttpResponse::build(status);
    response.content_type(content_type).insert_header(("x-request-id", request_id));
    if let Some(secs) = retry_after {
        response.insert_header((header::RETRY_AFTER, secs.to_string()));
    }
    response.body(body)
}

async fn respond(
    req: &HttpRequest,
    ctx: &HttpContext,
    batch: BatchRequest,
    request_id: String,
    body_hash: Option<String>,
) -> HttpResponse {
    let client = client_addr(req, &ctx.state);
    let viewer = match caller(req, &ctx.state).await {
        Ok(caller) => {
            let name = operation_names(&batch);
            actix_web::HttpMessage::extensions_mut(req)
                .insert(crate::access::Operation { name, principal: kind_of(&caller.principal) });
            Viewer::from_caller(caller, Some(client))
        }
        Err(Refused::Credentials(why)) => {
            let mut response = refuse(req, StatusCode::UNAUTHORIZED, &why, "UNAUTHENTICATED");
            response.headers_mut().insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
            return response;
        }
        Err(Refused::Unavailable(err)) => {
            let err = async_graphql::Error::from(err);
            let code = match err.extensions.as_ref().and_then(|e| e.get("code")) {
                Some(Value::String(code)) => code.clone(),
                _ => "INTERNAL".to_owned(),
            };
            let mut response = match code.as_str() {
                "SERVICE_UNAVAILABLE" | "TIMEOUT" => refuse(req, StatusCode::SERVICE_UNAVAILABLE, &err.message, &code),
                _ => refuse(req, StatusCode::INTERNAL_SERVER_ERROR, &err.message, &code),
            };
            response.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
            return response;
        }
    };
    let per_minute = ctx.state.settings.rate_limits.anonymous_per_minute;
    if viewer.principal == Principal::Anonymous && per_minute > 0 {
        let operations = match &batch {
            BatchRequest::Single(_) => 1,
            BatchRequest::Batch(list) => list.len() as u32,
        };
        let quota = Quota { burst: per_minute, per: Duration::from_secs(60) };
        if let Decision::Limited(wait) =
            ctx.state.limiter.rate(&LimitKey::AnonymousFrom(client), quota, operations).await
        {
            let secs = crate::error::retry_after_secs(wait);
            let mut body = error_body(
                &format!("too many requests without credentials from this address; try again in {secs} s, or sign in"),
                "RATE_LIMITED",
            );
            body["errors"][0]["extensions"]["retryAfter"] = secs.into();
            return HttpResponse::TooManyRequests()
                .content_type(if media(req) == Media::GraphqlResponse { GRAPHQL_RESPONSE } else { "application/json" })
                .insert_header((header::RETRY_AFTER, secs.to_string()))
                .json(body);
        }
    }
    use crate::services::idempotency::{self, Begun};
    let claim = match (idempotency_key(req), body_hash) {
        (None, _) | (Some(_), None) => None,
        (Some(Err(why)), _) => return refuse(req, StatusCode::BAD_REQUEST, why, "BAD_REQUEST"),
        (Some(Ok(key)), Some(hash)) => {
            let Some(owner) = idempotency::owner(&viewer.principal) else {
                return refuse(
                    req,
                    StatusCode::BAD_REQUEST,
                    "an Idempotency-Key belongs to a caller: send it with credentials",
                    "BAD_REQUEST",
                );
            };
            match idempotency::begin(&ctx.state, owner, &key, &hash).await {
                Ok(Begun::Run(claim)) => Some(claim),
                Ok(Begun::Replay { status, body }) => {
                    let status = StatusCode::from_u16(status).unwrap_or(StatusCode::OK);
                    let mut response = answer(req, status, None, body.into_bytes(), request_id);
                    response.headers_mut().insert(
                        header::HeaderName::from_static("idempotent-replayed"),
                        HeaderValue::from_static("true"),
                    );
                    return response;
                }
                Ok(Begun::Reused) => {
                    let mut body = error_body(
                        "this Idempotency-Key was used for a different request; use a new key for a new request",
                        "CONFLICT",
                    );
                    body["errors"][0]["extensions"]["reason"] = "IDEMPOTENCY_KEY_REUSED".into();
                    return answer(req, StatusCode::CONFLICT, None, body.to_string().into_bytes(), request_id);
                }
                Ok(Begun::InProgress) => {
                    let mut body = error_body(
                        "the first request with this Idempotency-Key is still running; retry in a moment",
                        "CONFLICT",
                    );
                    body["errors"][0]["extensions"]["reason"] = "IN_PROGRESS".into();
                    return answer(req, StatusCode::CONFLICT, Some(1), body.to_string().into_bytes(), request_id);
                }
                Err(err) => {
                    tracing::warn!(error = ?err, "idempotency keys are unavailable");
                    let mut response = refuse(
                        req,
                        StatusCode::SERVICE_UNAVAILABLE,
                        "the request could not be made idempotent now; retry with the same key",
                        "SERVICE_UNAVAILABLE",
                    );
                    response.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
                    return response;
                }
            }
        }
    };
    let mode = media(req);
    let limit = ctx.state.settings.request_timeout;
    let answered = tokio::time::timeout(limit, run(ctx, &viewer, batch, mode, &request_id)).await;
    let Ok((status, retry_after, body)) = answered else {
        if let Some(claim) = claim
            && let Err(err) = idempotency::abandon(&ctx.state, claim).await
        {
            tracing::warn!(error = ?err, "could not free an idempotency key");
        }
        tracing::warn!(limit_ms = limit.as_millis() as u64, "a request ran out of time");
        let mut response = refuse(
            req,
            StatusCode::SERVICE_UNAVAILABLE,
            &format!("the request took longer than {} ms and was stopped; try again", limit.as_millis()),
            "TIMEOUT",
        );
        response.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
        return response;
    };
    match body {
        Ok(body) => {
            if let Some(claim) = claim {
                // An answer that asks to come back later is not one to replay.
                let stored = if retry_after.is_some() {
                    idempotency::abandon(&ctx.state, claim).await
                } else {
                    idempotency::finish(&ctx.state, claim, status.as_u16(), &String::from_utf8_lossy(&body)).await
                };
                if let Err(err) = stored {
                    tracing::warn!(error = ?err, "could not store an idempotent answer");
                }
            }
            answer(req, status, retry_after, body, request_id)
        }
        Err(err) => {
            if let Some(claim) = claim {
                let _ = idempotency::abandon(&ctx.state, claim).await;
            }
            tracing::error!(error = %err, "could not serialise a response");
            refuse(req, StatusCode::INTERNAL_SERVER_ERROR, "internal error", "INTERNAL")
        }
    }
}

/// Executes a request or batch: the status, how long to wait before a retry (for 429 and 503),
/// and the serialised body.
async fn run(
    ctx: &HttpContext,
    viewer: &Arc<Viewer>,
    batch: BatchRequest,
    mode: Media,
    request_id: &str,
) -> (StatusCode, Option<u64>, Result<Vec<u8>, serde_json::Error>) {
    let mut retry_after = None;
    let (status, body) = match batch {
        BatchRequest::Single(request) => {
            let (response, failed_whole) = execute(ctx, viewer, request, request_id).await;
            retry_after = retry_status(&response.errors);
            if failed_whole {
                // A request error carries no `data` entry at all, as the spec asks.
                let mut body = serde_json::json!({ "errors": response.errors });
                if !response.extensions.is_empty() {
                    body["extensions"] = serde_json::to_value(&response.extensions).unwrap_or_default();
                }
                let status = if mode == Media::GraphqlResponse { StatusCode::BAD_REQUEST } else { StatusCode::OK };
                (status, serde_json::to_vec(&body))
            } else {
                (StatusCode::OK, serde_json::to_vec(&BatchResponse::Single(response)))
            }
        }
        BatchRequest::Batch(requests) => {
            let mut responses = Vec::with_capacity(requests.len());
            for request in requests {
                let response = execute(ctx, viewer, request, request_id).await.0;
                retry_after = retry_after.max(retry_status(&response.errors));
                responses.push(response);
            }
            (StatusCode::OK, serde_json::to_vec(&BatchResponse::Batch(responses)))
        }
    };
    match retry_after {
        Some((status, secs)) => (status, Some(secs), body),
        None => (status, None, body),
    }
}

/// A response body that holds the request's unread payload until the response is sent.
struct HoldingPayload {
    body: Option<web::Bytes>,
    _unread: web::Payload,
}

impl actix_web::body::MessageBody for HoldingPayload {
    type Error = std::convert::Infallible;

    fn size(&self) -> actix_web::body::BodySize {
        actix_web::body::BodySize::Sized(self.body.as_ref().map_or(0, |b| b.len() as u64))
    }

    fn poll_next(
        self: std::pin::Pin<&mut Self>,
        _: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Option<Result<web::Bytes, Self::Error>>> {
        std::task::Poll::Ready(self.get_mut().body.take().map(Ok))
    }
}

/// `POST /graphql`: a JSON body of one request or a batch (an array).
pub async fn graphql_post(req: HttpRequest, mut payload: web::Payload, ctx: web::Data<HttpContext>) -> HttpResponse {
    let limits = &ctx.state.settings.limits;
    let content_type = req.headers().get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or("");
    let essence = content_type.split(';').next().unwrap_or("").trim().to_ascii_lowercase();
    if !(essence.is_empty() || essence == "application/json" || essence == GRAPHQL_RESPONSE) {
        return refuse(
            &req,
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            &format!("send the request as application/json, not `{essence}`"),
            "BAD_REQUEST",
        );
    }
    // A 413 must not drain the rest of the body: actix drains an unread chunked body once its
    // payload is dropped, without bound. The response body keeps the payload alive until it has
    // been sent, so the server closes the connection instead.
    let too_large = |payload: web::Payload| {
        let body = error_body(
            &format!("the request body is larger than {} bytes", limits.max_body_bytes),
            "PAYLOAD_TOO_LARGE",
        );
        HttpResponse::build(StatusCode::PAYLOAD_TOO_LARGE)
            .content_type(match media(&req) {
                Media::GraphqlResponse => GRAPHQL_RESPONSE,
                Media::Json => "application/json",
            })
            .force_close()
            .body(HoldingPayload { body: Some(web::Bytes::from(body.to_string())), _unread: payload })
    };
    let declared =
        req.headers().get(header::CONTENT_LENGTH).and_then(|v| v.to_str().ok()).and_then(|v| v.parse::<usize>().ok());
    if declared.is_some_and(|len| len > limits.max_body_bytes) {
        return too_large(payload);
    }
    // Read at most the limit, chunk by chunk: a lying or absent Content-Length changes nothing.
    let mut body = web::BytesMut::with_capacity(declared.unwrap_or(1024).min(limits.max_body_bytes));
    while let Some(chunk) = payload.next().await {
        let Ok(chunk) = chunk else {
            return refuse(&req, StatusCode::BAD_REQUEST, "the request body could not be read", "BAD_REQUEST");
        };
        if body.len() + chunk.len() > limits.max_body_bytes {
            return too_large(payload);
        }
        body.extend_from_slice(&chunk);
    }
    let value = match serde_json::from_slice::<serde_json::Value>(&body) {
        Ok(value) => value,
        Err(err) => {
            return refuse(&req, StatusCode::BAD_REQUEST, &format!("the body is not valid JSON: {err}"), "BAD_REQUEST");
        }
    };
    // Object keys serialise sorted: the same request hashes the same however its fields are ordered.
    let body_hash =
        req.headers().contains_key("idempotency-key").then(|| crate::auth::refresh::digest(&value.to_string()));
    let batch: BatchRequest = match serde_json::from_value(value) {
        Ok(batch) => batch,
        Err(err) => {
            return refuse(
                &req,
                StatusCode::BAD_REQUEST,
                &format!(
                    "the body is not a GraphQL request (an object with a string `query`, optional `variables` object and `operationName`): {err}"
                ),
                "BAD_REQUEST",
            );
        }
    };
    if let BatchRequest::Batch(list) = &batch {
        if list.is_empty() {
            return refuse(&req, StatusCode::BAD_REQUEST, "an empty batch holds nothing to run", "BAD_REQUEST");
        }
        if list.len() > limits.max_batch {
            return refuse(
                &req,
                StatusCode::BAD_REQUEST,
                &format!("a batch may hold at most {} operations, this one holds {}", limits.max_batch, list.len()),
                "BATCH_TOO_LARGE",
            );
        }
    }
    let id = request_id(&req);
    let span = operation_span(&batch, &id, "POST");
    respond(&req, &ctx, batch, id, body_hash).instrument(span).await
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GetParams {
    query: Option<String>,
    variables: Option<String>,
    operation_name: Option<String>,
    extensions: Option<String>,
}

/// A JSON object from a query-string parameter, or why not.
fn json_object(raw: &str, name: &str) -> Result<serde_json::Value, String> {
    match serde_json::from_str::<serde_json::Value>(raw) {
        Ok(value @ serde_json::Value::Object(_)) => Ok(value),
        _ => Err(format!("`{name}` must be a JSON object")),
    }
}

/// `GET /graphql?query=…` (or `?extensions={"persistedQuery":…}`): queries only; a mutation is
/// 405, as mutations must not be cached or prefetched. Without a query, a browser gets GraphiQL.
/// A successful anonymous answer may be cached by anyone (`Cache-Control: public`) and carries an
/// ETag (`If-None-Match` gets a 304); a signed-in caller's is `private, no-store`.
pub async fn graphql_get(req: HttpRequest, ctx: web::Data<HttpContext>) -> HttpResponse {
    let params = match web::Query::<GetParams>::from_query(req.query_string()) {
        Ok(p) => p.into_inner(),
        Err(err) => return refuse(&req, StatusCode::BAD_REQUEST, &format!("bad query string: {err}"), "BAD_REQUEST"),
    };
    if params.query.is_none() && params.extensions.is_none() {
        let wants_html =
            req.headers().get(header::ACCEPT).and_then(|v| v.to_str().ok()).is_some_and(|a| a.contains("text/html"));
        if wants_html {
            return crate::graphiql::page(req).await;
        }
        return refuse(&req, StatusCode::BAD_REQUEST, "a GET request needs a `query` parameter", "BAD_REQUEST");
    }
    let mut request = Request::new(params.query.unwrap_or_default());
    if let Some(name) = &params.operation_name {
        request = request.operation_name(name.clone());
    }
    if let Some(variables) = params.variables.as_deref().filter(|v| !v.is_empty()) {
        match json_object(variables, "variables") {
            Ok(value) => request = request.variables(async_graphql::Variables::from_json(value)),
            Err(why) => return refuse(&req, StatusCode::BAD_REQUEST, &why, "BAD_REQUEST"),
        }
    }
    if let Some(extensions) = params.extensions.as_deref().filter(|v| !v.is_empty()) {
        match json_object(extensions, "extensions").map(Value::from_json) {
            Ok(Ok(Value::Object(map))) => {
                request.extensions.0 = map.into_iter().map(|(k, v)| (k.to_string(), v)).collect();
            }
            _ => return refuse(&req, StatusCode::BAD_REQUEST, "`extensions` must be a JSON object", "BAD_REQUEST"),
        }
    }
    // The document a persisted query names, before deciding what it is.
    if let Err(refused) = crate::persisted::resolve(&ctx.state, &mut request).await {
        let code = refused.extensions.as_ref().and_then(|e| e.get("code")).and_then(|c| match c {
            Value::String(code) => Some(code.clone()),
            _ => None,
        });
        let status = if media(&req) == Media::GraphqlResponse { StatusCode::BAD_REQUEST } else { StatusCode::OK };
        return refuse(&req, status, &refused.message, code.as_deref().unwrap_or("BAD_REQUEST"));
    }
    if request.query.is_empty() {
        return refuse(&req, StatusCode::BAD_REQUEST, "a GET request needs a `query` parameter", "BAD_REQUEST");
    }
    if let Ok(doc) = async_graphql::parser::parse_query(&request.query) {
        let is_mutation = doc.operations.iter().any(|(name, op)| {
            let selected = match (&params.operation_name, name) {
                (Some(wanted), Some(name)) => wanted.as_str() == name.as_str(),
                (None, _) => true,
                (Some(_), None) => false,
            };
            selected && op.node.ty != OperationType::Query
        });
        if is_mutation {
            let mut response = refuse(
                &req,
                StatusCode::METHOD_NOT_ALLOWED,
                "mutations and subscriptions need POST",
                "METHOD_NOT_ALLOWED",
            );
            response.headers_mut().insert(header::ALLOW, HeaderValue::from_static("POST"));
            return response;
        }
    }
    let id = request_id(&req);
    let batch = BatchRequest::Single(request);
    let span = operation_span(&batch, &id, "GET");
    let response = respond(&req, &ctx, batch, id, None).instrument(span).await;
    http_caching(&req, &ctx.state, response)
}

/// `Cache-Control` and `ETag` for a GET answer: public and revalidatable when anonymous and free
/// of errors, never stored otherwise.
fn http_caching(req: &HttpRequest, state: &AppState, response: HttpResponse) -> HttpResponse {
    use actix_web::HttpMessage;
    let anonymous = req.extensions().get::<crate::access::Operation>().is_some_and(|o| o.principal == "anonymous");
    let (mut response, body) = response.into_parts();
    let bytes = match actix_web::body::MessageBody::try_into_bytes(body) {
        Ok(bytes) => bytes,
        Err(body) => return response.set_body(body),
    };
    #[derive(Deserialize)]
    struct Outcome {
        errors: Option<serde::de::IgnoredAny>,
    }
    let clean = response.status() == StatusCode::OK
        && serde_json::from_slice::<Outcome>(&bytes).is_ok_and(|outcome| outcome.errors.is_none());
    let headers = response.headers_mut();
    if !(anonymous && clean) {
        let value = if anonymous { "no-store" } else { "private, no-store" };
        headers.insert(header::CACHE_CONTROL, HeaderValue::from_static(value));
        return response.set_body(actix_web::body::BoxBody::new(bytes));
    }
    use sha2::Digest;
    let digest = sha2::Sha256::digest(&bytes);
    let tag: String = digest[..16].iter().map(|b| format!("{b:02x}")).collect();
    // Weak: the same answer is sent gzip, brotli or as it is, byte for byte different.
    let etag = format!("W/\"{tag}\"");
    let max_age = state.settings.get_max_age.as_secs();
    let control = if max_age == 0 { "public, no-cache".to_owned() } else { format!("public, max-age={max_age}") };
    if let Ok(value) = HeaderValue::from_str(&control) {
        headers.insert(header::CACHE_CONTROL, value);
    }
    if let Ok(value) = HeaderValue::from_str(&etag) {
        headers.insert(header::ETAG, value);
    }
    headers.insert(header::VARY, HeaderValue::from_static("accept, authorization"));
    let matches = req
        .headers()
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.split(',').map(str::trim).any(|t| t == "*" || t.trim_start_matches("W/") == &etag[2..]));
    if matches {
        let mut not_modified = HttpResponse::NotModified();
        for (name, value) in response.headers() {
            if name != header::CONTENT_TYPE && name != header::CONTENT_LENGTH {
                not_modified.insert_header((name.clone(), value.clone()));
            }
        }
        return not_modified.finish();
    }
    response.set_body(actix_web::body::BoxBody::new(bytes))
}

/// Any other method on `/graphql`.
pub async fn method_not_allowed(req: HttpRequest) -> HttpResponse {
    let mut response = refuse(
        &req,
        StatusCode::METHOD_NOT_ALLOWED,
        &format!("{} is not supported; use POST or GET", req.method()),
        "METHOD_NOT_ALLOWED",
    );
    response.headers_mut().insert(header::ALLOW, HeaderValue::from_static("GET, POST"));
    response
}

/// `GET /healthz` and `GET /livez`: the process is up.
pub async fn healthz() -> HttpResponse {
    HttpResponse::Ok().content_type("text/plain").body("ok")
}

/// `GET /metrics`: Prometheus text format.
pub async fn metrics(ctx: web::Data<HttpContext>) -> HttpResponse {
    HttpResponse::Ok().content_type("text/plain; version=0.0.4").body(crate::metrics::render(&ctx.state))
}

/// `GET /readyz`: ready while the database answers. Redis is never the source of truth (a Redis
/// outage degrades the cache and rate limits to their local fallbacks, and every request still
/// succeeds), so it is reported, not required: on Kubernetes a Redis outage must not take every
/// replica out of service.
pub async fn readyz(ctx: web::Data<HttpContext>) -> HttpResponse {
    let state = &ctx.state;
    if state.draining.load(std::sync::atomic::Ordering::SeqCst) {
        return HttpResponse::ServiceUnavailable()
            .insert_header((header::RETRY_AFTER, "1"))
            .json(serde_json::json!({ "status": "draining" }));
    }
    let db = match tokio::time::timeout(Duration::from_secs(2), state.db.ping()).await {
        Ok(Ok(())) => "ok".to_owned(),
        Ok(Err(_)) => "not answering".to_owned(),
        Err(_) => "timed out".to_owned(),
    };
    let cache = match state.cache.ping().await {
        Ok(()) => "ok",
        Err(_) => "degraded",
    };
    let ready = db == "ok";
    let mut response = if ready { HttpResponse::Ok() } else { HttpResponse::ServiceUnavailable() };
    if !ready {
        response.insert_header((header::RETRY_AFTER, "1"));
    }
    response.json(serde_json::json!({
        "status": if ready { "ready" } else { "unavailable" },
        "database": db,
        "cache": cache,
        "cacheBackend": state.cache.backend_name(),
        // Until the in-memory search and talent indexes have read the database once, searches and
        // matching go to the database: slower, never wrong.
        "indexes": if !state.settings.semantic_search {
            "off"
        } else if state.semantic.position().is_some() && state.talent.ready() {
            "ready"
        } else {
            "building"
        },
        "rateLimits": match state.limiter.shared_healthy() {
            None => "local",
            Some(true) => "ok",
            Some(false) => "degraded",
        },
    }))
}
