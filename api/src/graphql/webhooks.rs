//! Webhook endpoints, their deliveries, and the mutations that manage them (company ADMIN and
//! OWNER, platform admins). Secrets are shown once: when created and when rotated.

use async_graphql::connection::{Connection, EmptyFields};
use async_graphql::{Context, Enum, ID, InputObject, MaybeUndefined, Object, Result, SimpleObject};
use chrono::{DateTime, Utc};
use hiregraph_domain::webhooks::{Delivery, DeliveryStatus, Endpoint};
use hiregraph_persistence::webhooks::Attempt;

use super::connection::{self, page_request};
use super::context::{state, viewer};
use super::ids::{self, Kind, encode};
use super::types::patch;
use crate::error::AppError;
use crate::services::webhooks as service;

fn endpoint_id(id: &ID, field: &str) -> Result<uuid::Uuid, AppError> {
    ids::decode(id, Kind::WebhookEndpoint, field)
}

/// Where a delivery stands.
#[derive(Enum, Clone, Copy, PartialEq, Eq)]
#[graphql(name = "WebhookDeliveryStatus")]
pub enum DeliveryStatusValue {
    /// Waiting for its first attempt or a retry.
    Pending,
    /// The receiver answered 2xx.
    Succeeded,
    /// Every attempt failed; `redeliverWebhook` queues it again.
    Failed,
}

impl From<DeliveryStatus> for DeliveryStatusValue {
    fn from(s: DeliveryStatus) -> Self {
        match s {
            DeliveryStatus::Pending => Self::Pending,
            DeliveryStatus::Succeeded => Self::Succeeded,
            DeliveryStatus::Failed => Self::Failed,
        }
    }
}

impl From<DeliveryStatusValue> for DeliveryStatus {
    fn from(s: DeliveryStatusValue) -> Self {
        match s {
            DeliveryStatusValue::Pending => Self::Pending,
            DeliveryStatusValue::Succeeded => Self::Succeeded,
            DeliveryStatusValue::Failed => Self::Failed,
        }
    }
}

/// A URL that receives a company's events, signed per Standard Webhooks.
pub struct WebhookEndpoint(pub Endpoint);

#[Object]
impl WebhookEndpoint {
    async fn id(&self) -> ID {
        encode(Kind::WebhookEndpoint, self.0.id)
    }

    async fn url(&self) -> &str {
        &self.0.url
    }

    async fn description(&self) -> Option<&str> {
        self.0.description.as_deref()
    }

    /// The event types delivered; empty means every type.
    async fn event_types(&self) -> Vec<&'static str> {
        self.0.event_types.iter().map(|t| t.as_str()).collect()
    }

    async fn enabled(&self) -> bool {
        self.0.enabled
    }

    /// Why it is disabled: by an admin, or after every delivery failed for 5 days.
    async fn disabled_reason(&self) -> Option<&str> {
        self.0.disabled_reason.as_deref()
    }

    /// Since when every attempt has failed; null once one succeeds.
    async fn failing_since(&self) -> Option<DateTime<Utc>> {
        self.0.failing_since
    }

    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }

    async fn updated_at(&self) -> DateTime<Utc> {
        self.0.updated_at
    }

    /// Deliveries to this endpoint, newest first.
    #[graphql(complexity = "connection::page_size(first, last) * child_complexity + 1")]
    async fn deliveries(
        &self,
        ctx: &Context<'_>,
        status: Option<DeliveryStatusValue>,
        first: Option<i32>,
        after: Option<String>,
        last: Option<i32>,
        before: Option<String>,
    ) -> Result<Connection<String, WebhookDelivery, EmptyFields, EmptyFields>> {
        let request = page_request(first, after, last, before)?;
        let page = service::deliveries(state(ctx), self.0.id, status.map(Into::into), &request).await?;
        Ok(connection::build(page.map(WebhookDelivery), EmptyFields))
    }
}

/// One event's delivery to one endpoint, with its latest attempt.
pub struct WebhookDelivery(pub Delivery);

#[Object]
impl WebhookDelivery {
    async fn id(&self) -> ID {
        encode(Kind::WebhookDelivery, self.0.id)
    }

    /// The event's id, as sent in the `webhook-id` header (the same on every attempt).
    async fn event_id(&self) -> ID {
        ID(self.0.event_id.to_string())
    }

    async fn event_type(&self) -> &'static str {
        self.0.event_type.as_str()
    }

    async fn status(&self) -> DeliveryStatusValue {
        self.0.status.into()
    }

    /// Attempts made so far.
    async fn attempts(&self) -> i32 {
        self.0.attempts
    }

    /// When the next attempt is due, while `PENDING`.
    async fn next_attempt_at(&self) -> Option<DateTime<Utc>> {
        service::next_attempt(&self.0)
    }

    /// The HTTP status of the latest attempt's answer; null when there was none.
    async fn response_status(&self) -> Option<i32> {
        self.0.response_status
    }

    /// How long the latest attempt took.
    async fn latency_ms(&self) -> Option<i32> {
        self.0.latency_ms
    }

    /// The first KiB of the latest answer's body.
    async fn response_excerpt(&self) -> Option<&str> {
        self.0.response_excerpt.as_deref()
    }

    /// Why the latest attempt failed without an answer (timeout, refused connection, refused
    /// address).
    async fn error(&self) -> Option<&str> {
        self.0.error.as_deref()
    }

    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }

    async fn delivered_at(&self) -> Option<DateTime<Utc>> {
        self.0.delivered_at
    }
}

#[derive(InputObject)]
pub struct CreateWebhookEndpointInput {
    company_id: ID,
    /// An https URL whose host resolves to public addresses.
    url: String,
    /// Event types to deliver (`application.moved`, …); empty or omitted for every type.
    #[graphql(default)]
    event_types: Vec<String>,
    description: Option<String>,
}

#[derive(InputObject)]
pub struct UpdateWebhookEndpointInput {
    id: ID,
    url: Option<String>,
    event_types: Option<Vec<String>>,
    description: MaybeUndefined<String>,
}

#[derive(InputObject)]
pub struct WebhookEndpointInput {
    id: ID,
}

#[derive(InputObject)]
pub struct RedeliverWebhookInput {
    delivery_id: ID,
}

#[derive(SimpleObject)]
pub struct CreateWebhookEndpointPayload {
    endpoint: WebhookEndpoint,
    /// The signing secret (`whsec_…`), shown only now.
    secret: String,
}

#[derive(SimpleObject)]
pub struct RotateWebhookSecretPayload {
    endpoint: WebhookEndpoint,
    /// The new signing secret, shown only now; the old one keeps signing alongside it for 24 h.
    secret: String,
}

#[derive(SimpleObject)]
pub struct WebhookEndpointPayload {
    endpoint: WebhookEndpoint,
}

#[derive(SimpleObject)]
pub struct DeleteWebhookEndpointPayload {
    deleted_id: ID,
}

#[derive(SimpleObject)]
pub struct RedeliverWebhookPayload {
    delivery: WebhookDelivery,
}

/// How a test delivery went.
#[derive(SimpleObject)]
pub struct SendTestWebhookPayload {
    /// The receiver answered 2xx.
    succeeded: bool,
    response_status: Option<i32>,
    latency_ms: i32,
    response_excerpt: Option<String>,
    error: Option<String>,
}

impl From<Attempt> for SendTestWebhookPayload {
    fn from(a: Attempt) -> Self {
        Self {
            succeeded: a.error.is_none() && a.response_status.is_some_and(|s| (200..300).contains(&s)),
            response_status: a.response_status,
            latency_ms: a.latency_ms,
            response_excerpt: a.response_excerpt,
            error: a.error,
        }
    }
}

#[derive(Default)]
pub struct WebhookMutation;

#[Object]
impl WebhookMutation {
    /// Registers a URL for the company's events (ADMIN or OWNER). Returns the signing secret once.
    async fn create_webhook_endpoint(
        &self,
        ctx: &Context<'_>,
        input: CreateWebhookEndpointInput,
    ) -> Result<CreateWebhookEndpointPayload> {
        let company = ids::company_id(&input.company_id, "input.companyId")?;
        let (endpoint, secret) =
            service::create(state(ctx), viewer(ctx), company, &input.url, &input.event_types, input.description)
                .await?;
        Ok(CreateWebhookEndpointPayload { endpoint: WebhookEndpoint(endpoint), secret })
    }

    /// Changes an endpoint's URL, event types or description.
    async fn update_webhook_endpoint(
        &self,
        ctx: &Context<'_>,
        input: UpdateWebhookEndpointInput,
    ) -> Result<WebhookEndpointPayload> {
        let id = endpoint_id(&input.id, "input.id")?;
        let changes = service::EndpointPatch {
            url: input.url,
            event_types: input.event_types,
            description: patch(input.description, |v| v),
        };
        let endpoint = service::update(state(ctx), viewer(ctx), id, changes).await?;
        Ok(WebhookEndpointPayload { endpoint: WebhookEndpoint(endpoint) })
    }

    /// A new signing secret, shown once; deliveries carry both signatures for 24 h.
    async fn rotate_webhook_secret(
        &self,
        ctx: &Context<'_>,
        input: WebhookEndpointInput,
    ) -> Result<RotateWebhookSecretPayload> {
        let id = endpoint_id(&input.id, "input.id")?;
        let (endpoint, secret) = service::rotate_secret(state(ctx), viewer(ctx), id).await?;
        Ok(RotateWebhookSecretPayload { endpoint: WebhookEndpoint(endpoint), secret })
    }

    /// Stops deliveries to the endpoint; they wait, pending, until it is enabled again.
    async fn disable_webhook_endpoint(
        &self,
        ctx: &Context<'_>,
        input: WebhookEndpointInput,
    ) -> Result<WebhookEndpointPayload> {
        let id = endpoint_id(&input.id, "input.id")?;
        let endpoint = service::set_enabled(state(ctx), viewer(ctx), id, false).await?;
        Ok(WebhookEndpointPayload { endpoint: WebhookEndpoint(endpoint) })
    }

    /// Resumes deliveries, pending ones first.
    async fn enable_webhook_endpoint(
        &self,
        ctx: &Context<'_>,
        input: WebhookEndpointInput,
    ) -> Result<WebhookEndpointPayload> {
        let id = endpoint_id(&input.id, "input.id")?;
        let endpoint = service::set_enabled(state(ctx), viewer(ctx), id, true).await?;
        Ok(WebhookEndpointPayload { endpoint: WebhookEndpoint(endpoint) })
    }

    /// Removes the endpoint and its deliveries.
    async fn delete_webhook_endpoint(
        &self,
        ctx: &Context<'_>,
        input: WebhookEndpointInput,
    ) -> Result<DeleteWebhookEndpointPayload> {
        let id = endpoint_id(&input.id, "input.id")?;
        service::delete(state(ctx), viewer(ctx), id).await?;
        Ok(DeleteWebhookEndpointPayload { deleted_id: input.id })
    }

    /// Sends a signed `webhook.test` event now and answers how the receiver replied.
    async fn send_test_webhook(
        &self,
        ctx: &Context<'_>,
        input: WebhookEndpointInput,
    ) -> Result<SendTestWebhookPayload> {
        let id = endpoint_id(&input.id, "input.id")?;
        Ok(service::send_test(state(ctx), viewer(ctx), id).await?.into())
    }

    /// Queues a delivery again now (any status); it keeps its event id.
    async fn redeliver_webhook(
        &self,
        ctx: &Context<'_>,
        input: RedeliverWebhookInput,
    ) -> Result<RedeliverWebhookPayload> {
        let id = ids::decode(&input.delivery_id, Kind::WebhookDelivery, "input.deliveryId")?;
        let delivery = service::redeliver(state(ctx), viewer(ctx), id).await?;
        Ok(RedeliverWebhookPayload { delivery: WebhookDelivery(delivery) })
    }
}
