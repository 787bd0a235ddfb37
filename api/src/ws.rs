//! GraphQL over WebSocket on `/graphql`: the `graphql-transport-ws` protocol (the npm `graphql-ws`
//! client's), written out here so every limit and close code is ours:
//!
//! - `connection_init` within `HIREGRAPH_WS_INIT_TIMEOUT_MS` (else 4408), once (else 4429); its
//!   payload may carry `{"authorization": "Bearer <access token>"}` — a bad one is 4403, none is
//!   anonymous (public data only);
//! - the connection closes with 4401 when the access token expires, unless a `ping` carried a fresh
//!   token of the same account (`{"type":"ping","payload":{"authorization":"Bearer …"}}`);
//! - `subscribe` before the ack is 4401, a reused id 4409, a malformed or unknown message 4400, a
//!   message over `HIREGRAPH_WS_MAX_MESSAGE_BYTES` 1009; only subscription operations run here
//!   (queries and mutations go over HTTP), under the same document limits as HTTP, and each
//!   takes its requested cost from the caller's query-cost budget as it starts (over budget: an
//!   `error` with `RATE_LIMITED` and `retryAfter`);
//! - at most `HIREGRAPH_WS_MAX_SUBSCRIPTIONS` per connection (an `error` for the one too many),
//!   and `HIREGRAPH_WS_MAX_CONNECTIONS` signed-in connections per account on one replica (4430);
//! - each connection buffers at most `HIREGRAPH_WS_BUFFER` outgoing messages: a client that does not
//!   read is closed with 4420 once its buffer is full, so its backlog never grows the server.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use actix_web::{HttpRequest, HttpResponse, web};
use actix_ws::{AggregatedMessage, CloseCode, CloseReason, Session};
use async_graphql::parser::types::OperationType;
use async_graphql::{Request, Response};
use futures_util::StreamExt;
use hiregraph_domain::Principal;
use serde_json::{Value, json};
use tokio::sync::mpsc;

use crate::graphql::AppSchema;
use crate::graphql::context::{new_loader, new_viewer_loader};
use crate::graphql::limits;
use crate::http::HttpContext;
use crate::state::{AppState, Viewer};

pub const PROTOCOL: &str = "graphql-transport-ws";

/// How long one message may wait for a client's socket before the client counts as not reading.
const SEND_TIMEOUT: Duration = Duration::from_secs(10);

/// `GET /graphql` with `Upgrade: websocket`.
pub async fn upgrade(
    req: HttpRequest,
    body: web::Payload,
    ctx: web::Data<HttpContext>,
) -> actix_web::Result<HttpResponse> {
    let offered = req
        .headers()
        .get("sec-websocket-protocol")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.split(',').any(|p| p.trim() == PROTOCOL));
    let (response, session, stream) = actix_ws::handle_with_protocols(&req, body, &[PROTOCOL])?;
    let settings = &ctx.state.settings.websocket;
    let stream = stream
        .max_frame_size(settings.max_message_bytes)
        .aggregate_continuations()
        .max_continuation_size(settings.max_message_bytes);
    let (state, schema, registry) = (ctx.state.clone(), ctx.schema.clone(), ctx.registry.clone());
    let client = crate::http::client_addr(&req, &state);
    actix_web::rt::spawn(async move {
        if !offered {
            close(session, 4406, "Subprotocol not acceptable: use graphql-transport-ws").await;
            return;
        }
        Connection::new(state, schema, registry, client, session).run(stream).await;
    });
    Ok(response)
}

/// Whose connections count together against `HIREGRAPH_WS_MAX_CONNECTIONS`: a user's or a
/// partner app's; anonymous ones are not counted.
fn account_of(principal: &Principal) -> Option<uuid::Uuid> {
    match principal {
        Principal::User { id, .. } => Some(id.0),
        Principal::Partner { app, .. } => Some(app.0),
        Principal::Anonymous => None,
    }
}

async fn close(session: Session, code: u16, description: &str) {
    let _ = session
        .close(Some(CloseReason { code: CloseCode::Other(code), description: Some(description.to_owned()) }))
        .await;
}

struct Connection {
    state: Arc<AppState>,
    schema: AppSchema,
    /// The schema's types, for costing subscriptions as they start.
    registry: Arc<async_graphql::registry::Registry>,
    /// The client's address, for the budget of anonymous connections.
    client: hiregraph_persistence::limiter::ClientAddr,
    session: Session,
    viewer: Option<Arc<Viewer>>,
    /// What every subscription of the connection reads from its context: the viewer and the
    /// loaders (without caches: each event is loaded fresh). One per connection, not per
    /// subscription.
    session_data: Arc<async_graphql::Data>,
    /// When the access token expires (none for anonymous connections and API keys).
    expires: Option<tokio::time::Instant>,
    /// The partner API key the connection authenticated with, checked again at every keepalive.
    api_key: Option<String>,
    subscriptions: HashMap<String, tokio::task::AbortHandle>,
    /// This connection's place among its account's (`HIREGRAPH_WS_MAX_CONNECTIONS`), renewed
    /// with every keep-alive.
    place: Option<crate::services::live::ConnectionGuard>,
    outgoing: mpsc::Sender<Outgoing>,
    incoming_outgoing: Option<mpsc::Receiver<Outgoing>>,
    /// Raised by a subscription whose messages no longer fit the buffer.
    overflow: Arc<tokio::sync::Notify>,
}

/// What subscription tasks hand to the connection.
enum Outgoing {
    /// A protocol message, serialized by the subscription's own task.
    Text(String),
    /// The subscription ended (its `complete` or `error` was sent before this).
    Done(String),
}

/// A close of the connection: code and reason.
struct Close(u16, String);

impl Connection {
    fn new(
        state: Arc<AppState>,
        schema: AppSchema,
        registry: Arc<async_graphql::registry::Registry>,
        client: hiregraph_persistence::limiter::ClientAddr,
        session: Session,
    ) -> Self {
        let (outgoing, receiver) = mpsc::channel(state.settings.websocket.buffer);
        Self {
            state,
            schema,
            registry,
            client,
            session,
            viewer: None,
            session_data: Default::default(),
            expires: None,
            api_key: None,
            subscriptions: HashMap::new(),
            place: None,
            outgoing,
            incoming_outgoing: Some(receiver),
            overflow: Arc::new(tokio::sync::Notify::new()),
        }
    }

    async fn run(mut self, mut stream: actix_ws::AggregatedMessageStream) {
        let Some(mut from_tasks) = self.incoming_outgoing.take() else { return };
        let settings = self.state.settings.websocket.clone();
        let init_deadline = tokio::time::Instant::now() + settings.init_timeout;
        let mut keepalive = tokio::time::interval(settings.keepalive);
        keepalive.tick().await;
        let outcome: Close = loop {
            let expiry = self.expires;
            tokio::select! {
                message = stream.next() => {
                    let close = match message {
                        None => break Close(1000, String::new()),
                        Some(Err(err)) => Some(Close(protocol_code(&err), err.to_string())),
                        // Boxed: an idle connection then holds only this loop's small state, not
                        // the largest message handler's (authentication, subscribing) inline.
                        Some(Ok(AggregatedMessage::Text(text))) => Box::pin(self.on_text(&text)).await.err(),
                        Some(Ok(AggregatedMessage::Binary(_))) => Some(Close(4400, "binary messages are not GraphQL".into())),
                        Some(Ok(AggregatedMessage::Ping(bytes))) => {
                            let _ = self.session.pong(&bytes).await;
                            None
                        }
                        Some(Ok(AggregatedMessage::Pong(_))) => None,
                        Some(Ok(AggregatedMessage::Close(_))) => break Close(1000, String::new()),
                    };
                    if let Some(close) = close {
                        break close;
                    }
                }
                Some(out) = from_tasks.recv() => match out {
                    Outgoing::Text(text) => {
                        // A client that does not read blocks the socket: give it a while, then cut it off.
                        match tokio::time::timeout(SEND_TIMEOUT, self.session.text(text)).await {
                            Ok(Ok(())) => {}
                            Ok(Err(_)) => break Close(1000, String::new()),
                            Err(_) => break Close(4420, "Too slow: the client stopped reading".into()),
                        }
                    }
                    Outgoing::Done(id) => {
                        self.subscriptions.remove(&id);
                    }
                },
                _ = self.overflow.notified() => break Close(4420, "Too slow: the subscription buffer is full".into()),
                _ = tokio::time::sleep_until(init_deadline), if self.viewer.is_none() => {
                    break Close(4408, "Connection initialisation timeout".into());
                }
                _ = sleep_until(expiry), if expiry.is_some() => {
                    break Close(4401, "Unauthorized: the access token expired; reconnect with a fresh one".into());
                }
                _ = keepalive.tick() => {
                    if self.session.ping(b"").await.is_err() {
                        break Close(1000, String::new());
                    }
                    if let Some(place) = &self.place {
                        place.renew().await;
                    }
                    if let Some(key) = &self.api_key
                        && let Err(crate::http::Refused::Credentials(why)) =
                            crate::http::principal_of_bearer(&self.state, key).await
                    {
                        break Close(4403, format!("Forbidden: {why}"));
                    }
                }
            }
        };
        for (_, task) in self.subscriptions.drain() {
            task.abort();
        }
        if outcome.0 != 1000 || !outcome.1.is_empty() {
            close(self.session, outcome.0, &outcome.1).await;
        } else {
            let _ = self.session.close(None).await;
        }
    }

    async fn on_text(&mut self, text: &str) -> Result<(), Close> {
        let message: Value = serde_json::from_str(text).map_err(|e| Close(4400, format!("Invalid message: {e}")))?;
        let kind = message["type"].as_str().unwrap_or_default();
        match kind {
            "connection_init" => {
                if self.viewer.is_some() {
                    return Err(Close(4429, "Too many initialisation requests".into()));
                }
                let (principal, expires) = self.authenticate(&message["payload"]).await?;
                if let Some(user) = account_of(&principal) {
                    let limit = self.state.settings.websocket.max_connections;
                    let place = crate::services::live::admit_connection(&self.state, user).await.ok_or_else(|| {
                        Close(
                            4430,
                            format!("Too many connections: at most {limit} per account (HIREGRAPH_WS_MAX_CONNECTIONS)"),
                        )
                    })?;
                    self.place = Some(place);
                }
                let viewer = Viewer::from_client(principal, Some(self.client));
                let mut data = async_graphql::Data::default();
                data.insert(viewer.clone());
                data.insert(new_loader(self.state.clone(), false));
                let applied = new_viewer_loader(self.state.clone(), viewer.clone());
                applied.enable_all_cache(false);
                data.insert(applied);
                self.session_data = Arc::new(data);
                self.viewer = Some(viewer);
                self.expires = expires;
                self.send(json!({ "type": "connection_ack" })).await
            }
            "ping" => {
                if self.viewer.is_some() && message["payload"].get("authorization").is_some() {
                    let (principal, expires) = self.authenticate(&message["payload"]).await?;
                    if account_of(&principal) != self.viewer.as_ref().and_then(|v| account_of(&v.principal)) {
                        return Err(Close(4403, "Forbidden: a fresh token must name the same account".into()));
                    }
                    self.expires = expires;
                }
                self.send(json!({ "type": "pong" })).await
            }
            "pong" => Ok(()),
            "subscribe" => self.subscribe(&message).await,
            "complete" => {
                let id = message["id"].as_str().ok_or_else(|| Close(4400, "complete needs an id".into()))?;
                if let Some(task) = self.subscriptions.remove(id) {
                    task.abort();
                }
                Ok(())
            }
            other => Err(Close(4400, format!("Unknown message type `{other}`"))),
        }
    }

    async fn send(&mut self, message: Value) -> Result<(), Close> {
        self.session.text(message.to_string()).await.map_err(|_| Close(1000, String::new()))
    }

    /// The principal of a `connection_init` (or `ping`) payload, and when its token expires: a
    /// user's or partner's access token, or a partner's API key (which is checked again at every
    /// keepalive, so a revoked key ends the connection).
    async fn authenticate(&mut self, payload: &Value) -> Result<(Principal, Option<tokio::time::Instant>), Close> {
        let Some(header) = payload.get("authorization").or_else(|| payload.get("Authorization")) else {
            return Ok((Principal::Anonymous, None));
        };
        let refused = |why: String| Close(4403, format!("Forbidden: {why}"));
        let token = header
            .as_str()
            .and_then(|v| v.strip_prefix("Bearer ").or_else(|| v.strip_prefix("bearer ")))
            .ok_or_else(|| refused("authorization must be `Bearer <access token>`".into()))?
            .trim();
        let principal = match crate::http::principal_of_bearer(&self.state, token).await {
            Ok(principal) => principal,
            Err(crate::http::Refused::Credentials(why)) => return Err(refused(why)),
            Err(crate::http::Refused::Unavailable(_)) => {
                return Err(Close(1011, "the database is not answering; reconnect shortly".into()));
            }
        };
        if crate::auth::keys::looks_like(crate::auth::keys::Kind::ApiKey, token) {
            self.api_key = Some(token.to_owned());
            return Ok((principal, None));
        }
        self.api_key = None;
        let exp = crate::auth::jwt::expiry_of(token).unwrap_or(0);
        let left = Duration::from_secs(u64::try_from(exp - chrono::Utc::now().timestamp()).unwrap_or(0));
        Ok((principal, Some(tokio::time::Instant::now() + left)))
    }

    async fn subscribe(&mut self, message: &Value) -> Result<(), Close> {
        let Some(viewer) = self.viewer.clone() else {
            return Err(Close(4401, "Unauthorized: send connection_init first".into()));
        };
        let id = message["id"]
            .as_str()
            .filter(|id| !id.is_empty())
            .ok_or_else(|| Close(4400, "subscribe needs an id".into()))?;
        if self.subscriptions.contains_key(id) {
            return Err(Close(4409, format!("Subscriber for {id} already exists")));
        }
        let id = id.to_owned();
        let mut request: Request = serde_json::from_value(message["payload"].clone())
            .map_err(|e| Close(4400, format!("Invalid subscribe payload: {e}")))?;
        let refuse = |message: String| json!({ "id": id, "type": "error", "payload": [{ "message": message }] });
        if self.subscriptions.len() >= self.state.settings.websocket.max_subscriptions {
            let limit = self.state.settings.websocket.max_subscriptions;
            return self
                .send(refuse(format!("at most {limit} subscriptions per connection (HIREGRAPH_WS_MAX_SUBSCRIPTIONS)")))
                .await;
        }
        if let Err(error) = limits::admit(&mut request, &self.state.settings.limits, &self.state.documents) {
            let response = Response::from_errors(vec![error]);
            return self.send(json!({ "id": id, "type": "error", "payload": response.errors })).await;
        }
        if !is_subscription(&mut request) {
            return self
                .send(refuse(
                    "only subscriptions run over WebSocket; send queries and mutations to POST /graphql".into(),
                ))
                .await;
        }
        if let Some(refused) =
            crate::http::charge_subscription(&self.state, &self.registry, &viewer, &mut request).await
        {
            return self.send(json!({ "id": id, "type": "error", "payload": refused.errors })).await;
        }
        let mut responses = self.schema.execute_stream_with_session_data(request, self.session_data.clone());
        let outgoing = self.outgoing.clone();
        let overflow = self.overflow.clone();
        let task_id = id.clone();
        let task = tokio::spawn(async move {
            while let Some(mut response) = responses.next().await {
                limits::code_request_errors(&mut response);
                // Errors before any data (validation, an unauthorized subscribe): one `error`.
                if response.data == async_graphql::Value::Null && !response.errors.is_empty() {
                    let errors = json!({ "id": task_id, "type": "error", "payload": response.errors });
                    let _ = push(&outgoing, Outgoing::Text(errors.to_string()));
                    let _ = outgoing.send(Outgoing::Done(task_id)).await;
                    return;
                }
                // Written straight from the response, without building a JSON tree first: this
                // runs once per subscriber and event.
                let next = Next { id: &task_id, kind: "next", payload: &response };
                let Ok(message) = serde_json::to_string(&next) else { continue };
                if push(&outgoing, Outgoing::Text(message)).is_err() {
                    overflow.notify_one();
                    return;
                }
            }
            let _ = push(&outgoing, Outgoing::Text(json!({ "id": task_id, "type": "complete" }).to_string()));
            let _ = outgoing.send(Outgoing::Done(task_id)).await;
        });
        self.subscriptions.insert(id, task.abort_handle());
        Ok(())
    }
}

/// Queues without waiting: a full buffer is the client's failure to read.
/// A `next` message.
#[derive(serde::Serialize)]
struct Next<'a> {
    id: &'a str,
    #[serde(rename = "type")]
    kind: &'static str,
    payload: &'a async_graphql::Response,
}

fn push(outgoing: &mpsc::Sender<Outgoing>, message: Outgoing) -> Result<(), ()> {
    outgoing.try_send(message).map_err(|_| ())
}

fn is_subscription(request: &mut Request) -> bool {
    use async_graphql::parser::types::DocumentOperations;
    let name = request.operation_name.clone();
    let Ok(doc) = request.parsed_query() else { return true };
    let operation = match (&doc.operations, name) {
        (DocumentOperations::Single(op), _) => Some(op),
        (DocumentOperations::Multiple(ops), Some(name)) => ops.get(name.as_str()),
        (DocumentOperations::Multiple(ops), None) if ops.len() == 1 => ops.values().next(),
        // Let execution name the problem (unknown or missing operation name).
        _ => return true,
    };
    operation.is_none_or(|op| op.node.ty == OperationType::Subscription)
}

fn protocol_code(err: &actix_ws::ProtocolError) -> u16 {
    match err {
        actix_ws::ProtocolError::Overflow => 1009,
        _ => 1002,
    }
}

async fn sleep_until(at: Option<tokio::time::Instant>) {
    match at {
        Some(at) => tokio::time::sleep_until(at).await,
        None => std::future::pending().await,
    }
}
