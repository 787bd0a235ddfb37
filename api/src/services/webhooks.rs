//! Webhooks: endpoints a company's admins register, signed per Standard Webhooks
//! (<https://www.standardwebhooks.com>), and the delivery of each event to them — at least once,
//! in order per object, retried with back-off, never to a private network address.

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::{Duration, Instant};

use argon2::password_hash::rand_core::{OsRng, RngCore};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use chrono::{DateTime, Utc};
use hiregraph_domain::CompanyId;
use hiregraph_domain::companies::{self as rules, CompanyAction};
use hiregraph_domain::events::{Actor, Change, Event, EventType};
use hiregraph_domain::webhooks::{
    self as domain, Delivery, DeliveryStatus, Endpoint, EndpointId, ROTATION_OVERLAP, Secrets, is_forbidden_target,
};
use hiregraph_persistence::page::{Page, PageRequest};
use hiregraph_persistence::webhooks::{self as store, Attempt, Claimed};
use hmac::{Hmac, Mac};
use serde_json::json;
use sha2::Sha256;

use crate::error::{AppError, AppResult};
use crate::graphql::ids::{Kind, encode};
use crate::services::companies::authenticated;
use crate::services::events;
use crate::state::{AppState, Viewer, now};

/// The most of a response body read, and the most of it kept as the delivery's excerpt.
const MAX_RESPONSE_READ: usize = 64 * 1024;
const MAX_EXCERPT: usize = 1024;

/// A new signing secret: `whsec_` and 24 random bytes in base64, as Standard Webhooks libraries
/// expect (they base64-decode what follows the prefix and use it as the HMAC key).
pub fn generate_secret() -> String {
    let mut bytes = [0u8; 24];
    OsRng.fill_bytes(&mut bytes);
    format!("whsec_{}", STANDARD.encode(bytes))
}

/// `v1,<base64 HMAC-SHA256 of "id.timestamp.body">` under one secret.
pub fn sign(secret: &str, id: &str, timestamp: i64, body: &[u8]) -> Option<String> {
    let key = STANDARD.decode(secret.strip_prefix("whsec_")?).ok()?;
    let mut mac = Hmac::<Sha256>::new_from_slice(&key).ok()?;
    mac.update(format!("{id}.{timestamp}.").as_bytes());
    mac.update(body);
    Some(format!("v1,{}", STANDARD.encode(mac.finalize().into_bytes())))
}

/// Resolves webhook hosts, dropping forbidden addresses, so a name that points at a private
/// network (or is re-pointed there after the endpoint was checked) is never connected to.
struct GuardedResolver {
    allow_private: bool,
}

impl reqwest::dns::Resolve for GuardedResolver {
    fn resolve(&self, name: reqwest::dns::Name) -> reqwest::dns::Resolving {
        let allow_private = self.allow_private;
        Box::pin(async move {
            let host = name.as_str().to_owned();
            let found: Vec<SocketAddr> = tokio::net::lookup_host((host.as_str(), 0)).await?.collect();
            let allowed: Vec<SocketAddr> =
                found.into_iter().filter(|a| allow_private || !is_forbidden_target(a.ip())).collect();
            if allowed.is_empty() {
                let refused: Box<dyn std::error::Error + Send + Sync> =
                    format!("{host} resolves only to loopback, private or reserved addresses").into();
                return Err(refused);
            }
            Ok(Box::new(allowed.into_iter()) as reqwest::dns::Addrs)
        })
    }
}

/// The outbound HTTP client: rustls, no redirects, a time limit per attempt, guarded DNS.
#[derive(Clone)]
pub struct Sender {
    client: reqwest::Client,
    allow_private: bool,
}

impl Sender {
    pub fn new(timeout: Duration, allow_private: bool) -> Self {
        let client = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .timeout(timeout)
            .connect_timeout(timeout.min(Duration::from_secs(5)))
            .user_agent(concat!("hiregraph-webhooks/", env!("CARGO_PKG_VERSION")))
            .dns_resolver(Arc::new(GuardedResolver { allow_private }))
            .build()
            .unwrap_or_default();
        Self { client, allow_private }
    }

    /// POSTs `body` signed with every secret in `secrets`; never fails, the attempt says how it went.
    pub async fn send(
        &self,
        url: &str,
        secrets: &[&str],
        id: &str,
        body: Vec<u8>,
        traceparent: Option<&str>,
    ) -> Attempt {
        let at = now();
        let started = Instant::now();
        let finish = |response_status: Option<i32>, excerpt: Option<String>, error: Option<String>| Attempt {
            at,
            response_status,
            latency_ms: i32::try_from(started.elapsed().as_millis()).unwrap_or(i32::MAX),
            response_excerpt: excerpt,
            error,
        };
        if let Err(refused) = self.check_literal_host(url) {
            return finish(None, None, Some(refused));
        }
        let timestamp = at.timestamp();
        let signatures: Vec<String> = secrets.iter().filter_map(|s| sign(s, id, timestamp, &body)).collect();
        let mut request = self
            .client
            .post(url)
            .header("content-type", "application/json")
            .header("webhook-id", id)
            .header("webhook-timestamp", timestamp.to_string())
            .header("webhook-signature", signatures.join(" "))
            .body(body);
        if let Some(traceparent) = traceparent {
            request = request.header("traceparent", traceparent);
        }
        let mut response = match request.send().await {
            Ok(response) => response,
            Err(err) => return finish(None, None, Some(describe(&err))),
        };
        let status = i32::from(response.status().as_u16());
        let mut read = Vec::new();
        loop {
            match response.chunk().await {
                Ok(Some(chunk)) => {
                    let room = MAX_RESPONSE_READ.saturating_sub(read.len());
                    read.extend_from_slice(&chunk[..chunk.len().min(room)]);
                    if read.len() >= MAX_RESPONSE_READ {
                        break;
                    }
                }
                Ok(None) => break,
                Err(err) => return finish(Some(status), excerpt(&read), Some(describe(&err))),
            }
        }
        finish(Some(status), excerpt(&read), None)
    }

    /// A URL whose host is an address literal is not resolved, so the guard checks it here.
    fn check_literal_host(&self, url: &str) -> Result<(), String> {
        if self.allow_private {
            return Ok(());
        }
        let parsed = reqwest::Url::parse(url).map_err(|e| format!("invalid URL: {e}"))?;
        let host = parsed.host_str().unwrap_or_default().trim_start_matches('[').trim_end_matches(']');
        let Ok(ip) = host.parse::<IpAddr>() else { return Ok(()) };
        if is_forbidden_target(ip) {
            return Err(format!("{ip} is a loopback, private or reserved address"));
        }
        Ok(())
    }
}

fn describe(err: &reqwest::Error) -> String {
    use std::error::Error;
    let kind = if err.is_timeout() {
        "timed out"
    } else if err.is_connect() {
        "could not connect"
    } else {
        "request failed"
    };
    let mut detail = String::new();
    let mut source = err.source();
    while let Some(cause) = source {
        detail = cause.to_string();
        source = cause.source();
    }
    if detail.is_empty() { kind.to_owned() } else { format!("{kind}: {detail}") }
}

fn excerpt(read: &[u8]) -> Option<String> {
    if read.is_empty() {
        return None;
    }
    let text = String::from_utf8_lossy(&read[..read.len().min(MAX_EXCERPT)]);
    Some(text.into_owned())
}

/// The body every delivery of `event` carries.
pub fn body_of(event: &Event) -> Vec<u8> {
    let data: serde_json::Value = serde_json::from_str(&event.payload).unwrap_or(serde_json::Value::Null);
    let actor = match event.actor {
        Actor::User(id) => json!({ "kind": "USER", "userId": encode(Kind::User, id.0).0 }),
        Actor::Partner(id) => json!({ "kind": "PARTNER", "partnerAppId": encode(Kind::PartnerApp, id.0).0 }),
        Actor::System => json!({ "kind": "SYSTEM" }),
    };
    let body = json!({
        "id": event.id.to_string(),
        "type": event.event_type.as_str(),
        "version": event.version,
        "timestamp": event.occurred_at.to_rfc3339_opts(chrono::SecondsFormat::Micros, true),
        "companyId": event.company_id.map(|c| encode(Kind::Company, c.0).0),
        "actor": actor,
        "data": data,
    });
    body.to_string().into_bytes()
}

// ---------------------------------------------------------------------------------------------
// Managing endpoints

fn not_found() -> AppError {
    AppError::NotFound("no webhook endpoint you may manage has this id".into())
}

/// Whether the viewer manages `company`'s webhooks: its ADMINs and OWNERs, and platform admins.
pub async fn authorize(state: &AppState, viewer: &Viewer, company: CompanyId) -> AppResult<()> {
    crate::services::companies::authorize(state, viewer, company, CompanyAction::ManageWebhooks).await?;
    Ok(())
}

/// An endpoint the viewer manages; `NOT_FOUND` for strangers to its company.
async fn managed(state: &AppState, viewer: &Viewer, id: EndpointId) -> AppResult<(Endpoint, Secrets)> {
    authenticated(viewer)?;
    let (endpoint, secrets) = store::find_endpoint(id, &state.db.conn).await?.ok_or_else(not_found)?;
    let standing = viewer.standing_in(state, endpoint.company_id).await?;
    if standing.is_none() && !viewer.principal.is_platform_admin() {
        return Err(not_found());
    }
    if !rules::may(&viewer.principal, standing, CompanyAction::ManageWebhooks) {
        return Err(AppError::Forbidden("only the company's admins and owners manage its webhooks".into()));
    }
    Ok((endpoint, secrets))
}

fn event_types(raw: &[String]) -> AppResult<Vec<EventType>> {
    let mut types = Vec::new();
    for (i, name) in raw.iter().enumerate() {
        let Some(t) = EventType::parse(name.trim()) else {
            let known: Vec<&str> = EventType::ALL.iter().map(|t| t.as_str()).collect();
            return Err(AppError::bad_input(
                &format!("input.eventTypes.{i}"),
                format!("`{name}` is not an event type; known: {}", known.join(", ")),
            ));
        };
        if !types.contains(&t) {
            types.push(t);
        }
    }
    Ok(types)
}

fn description(raw: Option<String>) -> AppResult<Option<String>> {
    raw.map(|d| hiregraph_domain::values::bounded_text("description", &d, 0, 500))
        .transpose()
        .map(|d| d.filter(|d| !d.is_empty()))
        .map_err(|e| AppError::invalid_under(e.into(), "input"))
}

/// Checks a target URL: shape, and that its host resolves to public addresses only (unless
/// private targets are allowed). Returns it normalised.
pub async fn check_url(state: &AppState, raw: &str) -> AppResult<String> {
    let allow_private = state.settings.webhook_allow_private;
    let parsed = reqwest::Url::parse(raw.trim())
        .map_err(|e| AppError::bad_input("input.url", format!("is not an absolute URL: {e}")))?;
    let credentials = !parsed.username().is_empty() || parsed.password().is_some();
    domain::check_url_shape(parsed.scheme(), parsed.host_str(), credentials, raw.len(), allow_private)
        .map_err(|e| AppError::BadInput(format!("{}: {}", e.field, e.message), vec![e]))?;
    if !allow_private {
        let host = parsed.host_str().unwrap_or_default().trim_start_matches('[').trim_end_matches(']').to_owned();
        let port = parsed.port_or_known_default().unwrap_or(443);
        let resolved: Vec<IpAddr> = match host.parse::<IpAddr>() {
            Ok(ip) => vec![ip],
            Err(_) => tokio::net::lookup_host((host.as_str(), port))
                .await
                .map_err(|_| AppError::bad_input("input.url", format!("the host {host} does not resolve")))?
                .map(|a| a.ip())
                .collect(),
        };
        if let Some(ip) = resolved.iter().find(|ip| is_forbidden_target(**ip)) {
            return Err(AppError::bad_input(
                "input.url",
                format!("{host} points at {ip}, a loopback, private or reserved address"),
            ));
        }
    }
    Ok(parsed.to_string())
}

pub async fn create(
    state: &AppState,
    viewer: &Viewer,
    company: CompanyId,
    url: &str,
    types: &[String],
    description_text: Option<String>,
) -> AppResult<(Endpoint, String)> {
    authorize(state, viewer, company).await?;
    let event_types = event_types(types)?;
    let description = description(description_text)?;
    let url = check_url(state, url).await?;
    if store::count_endpoints(company, &state.db.conn).await? >= store::MAX_ENDPOINTS {
        return Err(AppError::Conflict(format!("a company has at most {} webhook endpoints", store::MAX_ENDPOINTS)));
    }
    let at = now();
    let endpoint = Endpoint {
        id: uuid::Uuid::now_v7(),
        company_id: company,
        url,
        description,
        event_types,
        enabled: true,
        disabled_reason: None,
        failing_since: None,
        created_at: at,
        updated_at: at,
    };
    let secret = generate_secret();
    let unit = events::begin(state, viewer).await?;
    store::insert_endpoint(&endpoint, &secret, unit.conn()).await?;
    unit.commit().await?;
    Ok((endpoint, secret))
}

/// Fields of an update: `None` keeps the stored value.
#[derive(Default)]
pub struct EndpointPatch {
    pub url: Option<String>,
    pub event_types: Option<Vec<String>>,
    pub description: Option<Option<String>>,
}

pub async fn update(state: &AppState, viewer: &Viewer, id: EndpointId, patch: EndpointPatch) -> AppResult<Endpoint> {
    let (mut endpoint, _) = managed(state, viewer, id).await?;
    if let Some(url) = patch.url {
        endpoint.url = check_url(state, &url).await?;
    }
    if let Some(types) = patch.event_types {
        endpoint.event_types = event_types(&types)?;
    }
    if let Some(text) = patch.description {
        endpoint.description = description(text)?;
    }
    endpoint.updated_at = now();
    let unit = events::begin(state, viewer).await?;
    store::update_endpoint(&endpoint, unit.conn()).await?;
    unit.commit().await?;
    Ok(endpoint)
}

/// A new secret; the old one keeps signing (alongside) for `ROTATION_OVERLAP`.
pub async fn rotate_secret(state: &AppState, viewer: &Viewer, id: EndpointId) -> AppResult<(Endpoint, String)> {
    let (endpoint, secrets) = managed(state, viewer, id).await?;
    let at = now();
    let overlap = chrono::Duration::from_std(ROTATION_OVERLAP).map_err(AppError::internal)?;
    let secret = generate_secret();
    let rotated = Secrets { current: secret.clone(), previous: Some((secrets.current, at + overlap)) };
    let unit = events::begin(state, viewer).await?;
    store::set_secrets(id, &rotated, at, unit.conn()).await?;
    unit.commit().await?;
    Ok((Endpoint { updated_at: at, ..endpoint }, secret))
}

pub async fn set_enabled(state: &AppState, viewer: &Viewer, id: EndpointId, enabled: bool) -> AppResult<Endpoint> {
    let (mut endpoint, _) = managed(state, viewer, id).await?;
    endpoint.enabled = enabled;
    endpoint.disabled_reason = (!enabled).then(|| "disabled by a company admin".to_owned());
    if enabled {
        endpoint.failing_since = None;
    }
    endpoint.updated_at = now();
    let unit = events::begin(state, viewer).await?;
    store::update_endpoint(&endpoint, unit.conn()).await?;
    unit.commit().await?;
    Ok(endpoint)
}

pub async fn delete(state: &AppState, viewer: &Viewer, id: EndpointId) -> AppResult<EndpointId> {
    managed(state, viewer, id).await?;
    let unit = events::begin(state, viewer).await?;
    if !store::delete_endpoint(id, unit.conn()).await? {
        return Err(not_found());
    }
    unit.commit().await?;
    Ok(id)
}

/// Sends a `webhook.test` event to the endpoint now and answers how it went; nothing is stored.
pub async fn send_test(state: &AppState, viewer: &Viewer, id: EndpointId) -> AppResult<Attempt> {
    let (endpoint, secrets) = managed(state, viewer, id).await?;
    let message = uuid::Uuid::now_v7().to_string();
    let body = json!({
        "id": message,
        "type": "webhook.test",
        "version": hiregraph_domain::events::PAYLOAD_VERSION,
        "timestamp": now().to_rfc3339_opts(chrono::SecondsFormat::Micros, true),
        "companyId": encode(Kind::Company, endpoint.company_id.0).0,
        "data": { "webhookEndpoint": { "id": encode(Kind::WebhookEndpoint, endpoint.id).0, "url": endpoint.url } },
    });
    let signing = secrets.signing(now());
    let traceparent = hiregraph_persistence::telemetry::traceparent();
    Ok(state
        .outbound
        .send(&endpoint.url, &signing, &message, body.to_string().into_bytes(), traceparent.as_deref())
        .await)
}

/// A company's endpoints (the caller holds the company, so only the viewer's role is checked).
pub async fn list(state: &AppState, viewer: &Viewer, company: CompanyId) -> AppResult<Vec<Endpoint>> {
    if !viewer.may(state, company, CompanyAction::ManageWebhooks).await? {
        authenticated(viewer)?;
        return Err(AppError::Forbidden("only the company's admins and owners manage its webhooks".into()));
    }
    Ok(store::endpoints_of(company, &state.db.conn).await?)
}

/// An endpoint's deliveries, newest first (the caller checked the endpoint).
pub async fn deliveries(
    state: &AppState,
    endpoint: EndpointId,
    status: Option<DeliveryStatus>,
    request: &PageRequest,
) -> AppResult<Page<Delivery>> {
    Ok(store::deliveries_of(endpoint, status, request, &state.db.conn).await?)
}

/// Queues a delivery again at once.
pub async fn redeliver(state: &AppState, viewer: &Viewer, id: uuid::Uuid) -> AppResult<Delivery> {
    authenticated(viewer)?;
    let missing = || AppError::NotFound("no webhook delivery you may manage has this id".into());
    let delivery = store::find_delivery(id, &state.db.conn).await?.ok_or_else(missing)?;
    match managed(state, viewer, delivery.endpoint_id).await {
        Err(AppError::NotFound(_)) => return Err(missing()),
        other => other?,
    };
    let at = now();
    let unit = events::begin(state, viewer).await?;
    store::redeliver(id, at, unit.conn()).await?;
    unit.commit().await?;
    state.wake.notify_one();
    Ok(Delivery { status: DeliveryStatus::Pending, next_attempt_at: Some(at), ..delivery })
}

// ---------------------------------------------------------------------------------------------
// The worker's side

/// Turns new outbox events into deliveries and publishes them on the live bus, until none are
/// left; returns how many events.
pub async fn relay(state: &AppState) -> AppResult<usize> {
    const BATCH: u64 = 500;
    let mut relayed = 0;
    // Until caught up: a writer whose relay found this one holding the place counts on it to
    // look again after its commit.
    while store::relay_behind(&state.work_db.conn).await? {
        let unit = events::begin_on(state, &state.work_db, Actor::System).await?;
        let Some((events, made)) = store::relay(BATCH, unit.conn()).await? else { return Ok(relayed) };
        unit.commit().await?;
        relayed += events.len();
        if made > 0 {
            state.metrics.deliveries_queued(made);
            state.wake.notify_one();
        }
        // Lost on the way is not lost: every replica's live tail reads a gap from the outbox.
        if let Err(err) = state.live.bus.publish(&events).await {
            tracing::debug!(error = %err, "events relayed but not published on the bus");
        }
    }
    Ok(relayed)
}

/// Claims due deliveries and attempts them concurrently; returns how many were attempted.
pub async fn deliver_due(state: &AppState, limit: u64) -> AppResult<usize> {
    let at = now();
    let lease = chrono::Duration::from_std(state.settings.webhook_timeout + Duration::from_secs(5))
        .map_err(AppError::internal)?;
    let claimed = store::claim(at, at + lease, limit, &state.work_db.conn).await?;
    let count = claimed.len();
    futures_util::future::join_all(claimed.into_iter().map(|c| attempt(state, c))).await;
    Ok(count)
}

fn unit_random() -> f64 {
    f64::from(OsRng.next_u32()) / (f64::from(u32::MAX) + 1.0)
}

async fn attempt(state: &AppState, claimed: Claimed) {
    use tracing::Instrument;
    let Claimed { delivery, endpoint, secrets, event, trace_context } = claimed;
    // A client span in the trace of the request that committed the event; the receiver gets it
    // as its parent in `traceparent`.
    let span = tracing::info_span!(
        "webhook delivery",
        otel.name = "POST webhook",
        otel.kind = "client",
        delivery = %delivery.id,
        attempt = delivery.attempts + 1,
    );
    hiregraph_persistence::telemetry::continue_from(&span, trace_context.as_deref());
    let attempt = match &event {
        Some(event) => {
            let signing = secrets.signing(now());
            let id = event.id.to_string();
            async {
                let traceparent = hiregraph_persistence::telemetry::traceparent();
                state.outbound.send(&endpoint.url, &signing, &id, body_of(event), traceparent.as_deref()).await
            }
            .instrument(span)
            .await
        }
        None => Attempt {
            at: now(),
            response_status: None,
            latency_ms: 0,
            response_excerpt: None,
            error: Some("the event is past its retention and was pruned".into()),
        },
    };
    let succeeded = attempt.response_status.is_some_and(|s| (200..300).contains(&s)) && attempt.error.is_none();
    let attempts = u32::try_from(delivery.attempts + 1).unwrap_or(u32::MAX);
    let next = if succeeded || event.is_none() {
        None
    } else {
        domain::retry_delay(&state.settings.webhook_retry_schedule, attempts, unit_random())
            .and_then(|d| chrono::Duration::from_std(d).ok())
            .map(|d| attempt.at + d)
    };
    let outcome = if succeeded {
        "succeeded"
    } else if next.is_some() {
        "retrying"
    } else {
        "failed"
    };
    let failing_for = endpoint.failing_since.map(|since| attempt.at - since);
    let disable = !succeeded && failing_for.is_some_and(|f| f.to_std().is_ok_and(|f| f >= domain::DISABLE_AFTER));
    let result = async {
        let mut unit = events::begin_on(state, &state.work_db, Actor::System).await?;
        store::record_attempt(&delivery, &attempt, succeeded, next, unit.conn()).await?;
        if disable {
            let disabled = Endpoint {
                enabled: false,
                disabled_reason: Some("every delivery failed for 5 days".into()),
                updated_at: attempt.at,
                ..endpoint.clone()
            };
            store::update_endpoint(&disabled, unit.conn()).await?;
            unit.record(Change::WebhookEndpointDisabled(disabled));
        }
        unit.commit().await?;
        Ok::<_, AppError>(())
    }
    .await;
    match result {
        Ok(()) => {
            let since_event = event.as_ref().map(|e| (attempt.at - e.occurred_at).to_std().unwrap_or_default());
            state.metrics.delivery_attempted(outcome, succeeded.then_some(since_event).flatten());
            if disable {
                tracing::warn!(endpoint = %endpoint.id, url = %endpoint.url, "webhook endpoint disabled after failing for 5 days");
            }
        }
        Err(err) => {
            // The lease runs out and another attempt follows; the receiver may see it twice.
            tracing::warn!(error = ?err, delivery = %delivery.id, "recording a webhook attempt failed");
        }
    }
}

/// Gives back claims not attempted (at shutdown); they are retried by any worker at once.
pub async fn release(state: &AppState, ids: &[uuid::Uuid]) {
    for id in ids {
        if let Err(err) = store::release(*id, &state.work_db.conn).await {
            tracing::debug!(error = ?err, "releasing a webhook claim failed; its lease expires");
        }
    }
}

/// When a delivery's next attempt is due, for display.
pub fn next_attempt(delivery: &Delivery) -> Option<DateTime<Utc>> {
    (delivery.status == DeliveryStatus::Pending).then_some(delivery.next_attempt_at).flatten()
}
