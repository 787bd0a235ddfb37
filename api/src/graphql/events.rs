//! `events`: what changed, in commit order, for the members of a company and platform admins.

use async_graphql::connection::{Connection, Edge, EmptyFields};
use async_graphql::{Context, Enum, ID, Json, Object, Result, SimpleObject};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, Utc};
use hiregraph_domain::events::{Actor, Event as DomainEvent, EventType};

use super::companies::Company;
use super::connection::{DEFAULT_PAGE, MAX_PAGE};
use super::context::{loader, state, viewer};
use super::ids::{Kind, company_id, encode};
use crate::error::AppError;
use crate::services::events as service;

/// A cursor names an outbox position; clients must not parse it.
fn encode_position(position: i64) -> String {
    URL_SAFE_NO_PAD.encode(format!("event:{position}"))
}

fn decode_position(raw: &str) -> Result<i64, AppError> {
    URL_SAFE_NO_PAD
        .decode(raw.trim())
        .ok()
        .and_then(|bytes| String::from_utf8(bytes).ok())
        .and_then(|text| text.strip_prefix("event:").and_then(|n| n.parse::<i64>().ok()))
        .filter(|n| *n >= 0)
        .ok_or_else(|| AppError::bad_input("after", "is not a cursor from the events connection"))
}

/// Who made a change.
#[derive(Enum, Clone, Copy, PartialEq, Eq)]
pub enum EventActorKind {
    /// A signed-in user.
    User,
    /// A partner app, by its API key or access token.
    Partner,
    /// The platform itself (expiry, maintenance).
    System,
}

#[derive(SimpleObject)]
pub struct EventActor {
    kind: EventActorKind,
    /// The user's id, for `USER`.
    user_id: Option<ID>,
    /// The partner app's id, for `PARTNER`.
    partner_app_id: Option<ID>,
}

/// A domain event: a change to one object, with the object as the company's members could see
/// it when it happened. The same events are delivered to webhooks.
pub struct Event(pub DomainEvent);

#[Object]
impl Event {
    /// The event's own id: stable across redeliveries, so a receiver can drop duplicates.
    async fn id(&self) -> ID {
        ID(self.0.id.to_string())
    }

    /// The stable name, such as `application.moved`.
    #[graphql(name = "type")]
    async fn event_type(&self) -> &'static str {
        self.0.event_type.as_str()
    }

    /// The payload's layout version.
    async fn version(&self) -> i32 {
        self.0.version
    }

    async fn occurred_at(&self) -> DateTime<Utc> {
        self.0.occurred_at
    }

    async fn actor(&self) -> EventActor {
        match self.0.actor {
            Actor::User(id) => {
                EventActor { kind: EventActorKind::User, user_id: Some(encode(Kind::User, id.0)), partner_app_id: None }
            }
            Actor::Partner(id) => EventActor {
                kind: EventActorKind::Partner,
                user_id: None,
                partner_app_id: Some(encode(Kind::PartnerApp, id.0)),
            },
            Actor::System => EventActor { kind: EventActorKind::System, user_id: None, partner_app_id: None },
        }
    }

    /// The company the event belongs to; null for platform events (candidate profiles).
    async fn company(&self, ctx: &Context<'_>) -> Result<Option<Company>> {
        let Some(id) = self.0.company_id else { return Ok(None) };
        Ok(loader(ctx).load_one(id).await?.map(Company))
    }

    /// The object at event time, named by its kind (`posting`, `application`, `note`, …), in the
    /// API's field names and ids.
    async fn payload(&self) -> Result<Json<serde_json::Value>> {
        let value = serde_json::from_str(&self.0.payload)
            .map_err(|e| AppError::Internal(format!("stored event payload is not JSON: {e}").into()))?;
        Ok(Json(value))
    }
}

fn event_types(types: Option<Vec<String>>) -> Result<Vec<EventType>, AppError> {
    let mut parsed = Vec::new();
    for (i, raw) in types.unwrap_or_default().iter().enumerate() {
        match EventType::parse(raw.trim()) {
            Some(t) => parsed.push(t),
            None => {
                let known: Vec<&str> = EventType::ALL.iter().map(|t| t.as_str()).collect();
                return Err(AppError::bad_input(
                    &format!("types.{i}"),
                    format!("`{raw}` is not an event type; known: {}", known.join(", ")),
                ));
            }
        }
    }
    Ok(parsed)
}

#[derive(Default)]
pub struct EventQuery;

#[Object]
impl EventQuery {
    /// Events in commit order, oldest first: a reader that pages with `after` (keeping the last
    /// `endCursor` it saw, also across empty pages) sees every event exactly once, even one that
    /// committed late with an earlier `occurredAt`. Members see their companies' events (narrow
    /// with `companyId`), platform admins every event. Events are kept 30 days by default.
    #[graphql(complexity = "super::connection::page_size(first, None) * child_complexity + 1")]
    async fn events(
        &self,
        ctx: &Context<'_>,
        company_id: Option<ID>,
        #[graphql(desc = "Only these types, e.g. `[\"application.moved\"]`; all when omitted.")] types: Option<
            Vec<String>,
        >,
        first: Option<i32>,
        after: Option<String>,
    ) -> Result<Connection<String, Event, EmptyFields, EmptyFields>> {
        let first = match first {
            Some(n) if !(0..=MAX_PAGE).contains(&n) => {
                return Err(AppError::bad_input("first", format!("must be between 0 and {MAX_PAGE}, was {n}")).into());
            }
            Some(n) => n,
            None => DEFAULT_PAGE,
        } as u64;
        let company = company_id.as_ref().map(|id| self::company_id(id, "companyId")).transpose()?;
        let types = event_types(types)?;
        let after = after.as_deref().map(decode_position).transpose()?;
        let mut list =
            service::list(state(ctx), viewer(ctx), company, types, after, first.min(service::MAX_PAGE) + 1).await?;
        let has_next = list.len() as u64 > first;
        list.truncate(first as usize);
        let mut connection = Connection::new(after.is_some(), has_next);
        connection.edges.extend(list.into_iter().map(|e| Edge::new(encode_position(e.position), Event(e))));
        Ok(connection)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_round_trip_and_refuse_others() {
        assert_eq!(decode_position(&encode_position(42)).unwrap(), 42);
        assert!(decode_position("bm9wZQ").is_err());
        assert!(decode_position(&URL_SAFE_NO_PAD.encode("event:-1")).is_err());
    }
}
