//! Webhook endpoints and deliveries: the relay that turns outbox events into deliveries, claims
//! of due deliveries (`FOR UPDATE SKIP LOCKED` on Postgres, so any number of workers share them),
//! and the record of each attempt.

use chrono::{DateTime, Utc};
use hiregraph_domain::CompanyId;
use hiregraph_domain::events::{Event, EventType};
use hiregraph_domain::webhooks::{Delivery, DeliveryStatus, Endpoint, EndpointId, Secrets};
use sea_orm::ActiveValue::{Set, Unchanged};
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, ConnectionTrait, DbBackend, EntityTrait, QueryFilter, QueryOrder, QuerySelect, Statement};
use uuid::Uuid;

use crate::entities::{webhook_deliveries as deliveries, webhook_endpoints as endpoints};
use crate::error::StoreError;
use crate::outbox::{self, EventFilter};
use crate::page::{Cursor, Keyset, Page, PageRequest, SortKey};

fn types_text(types: &[EventType]) -> String {
    types.iter().map(|t| t.as_str()).collect::<Vec<_>>().join(",")
}

fn endpoint_from(row: endpoints::Model) -> Result<(Endpoint, Secrets), StoreError> {
    let mut event_types = Vec::new();
    for name in row.event_types.split(',').filter(|s| !s.is_empty()) {
        event_types.push(EventType::parse(name).ok_or_else(|| StoreError::corrupt(format!("event type {name}")))?);
    }
    let previous = match (row.previous_secret, row.previous_secret_until) {
        (Some(secret), Some(until)) => Some((secret, until)),
        _ => None,
    };
    Ok((
        Endpoint {
            id: row.id,
            company_id: CompanyId(row.company_id),
            url: row.url,
            description: row.description,
            event_types,
            enabled: row.enabled,
            disabled_reason: row.disabled_reason,
            failing_since: row.failing_since,
            created_at: row.created_at,
            updated_at: row.updated_at,
        },
        Secrets { current: row.secret, previous },
    ))
}

pub async fn insert_endpoint(endpoint: &Endpoint, secret: &str, conn: &impl ConnectionTrait) -> Result<(), StoreError> {
    let row = endpoints::ActiveModel {
        id: Set(endpoint.id),
        company_id: Set(endpoint.company_id.0),
        url: Set(endpoint.url.clone()),
        description: Set(endpoint.description.clone()),
        event_types: Set(types_text(&endpoint.event_types)),
        secret: Set(secret.to_owned()),
        previous_secret: Set(None),
        previous_secret_until: Set(None),
        enabled: Set(endpoint.enabled),
        disabled_reason: Set(None),
        failing_since: Set(None),
        created_at: Set(endpoint.created_at),
        updated_at: Set(endpoint.updated_at),
    };
    endpoints::Entity::insert(row).exec_without_returning(conn).await?;
    Ok(())
}

/// Writes an endpoint's URL, description, event types and state as `endpoint` holds them.
pub async fn update_endpoint(endpoint: &Endpoint, conn: &impl ConnectionTrait) -> Result<(), StoreError> {
    let row = endpoints::ActiveModel {
        id: Unchanged(endpoint.id),
        url: Set(endpoint.url.clone()),
        description: Set(endpoint.description.clone()),
        event_types: Set(types_text(&endpoint.event_types)),
        enabled: Set(endpoint.enabled),
        disabled_reason: Set(endpoint.disabled_reason.clone()),
        failing_since: Set(endpoint.failing_since),
        updated_at: Set(endpoint.updated_at),
        ..Default::default()
    };
    endpoints::Entity::update(row).exec(conn).await?;
    Ok(())
}

pub async fn set_secrets(
    id: EndpointId,
    secrets: &Secrets,
    now: DateTime<Utc>,
    conn: &impl ConnectionTrait,
) -> Result<(), StoreError> {
    let row = endpoints::ActiveModel {
        id: Unchanged(id),
        secret: Set(secrets.current.clone()),
        previous_secret: Set(secrets.previous.as_ref().map(|(s, _)| s.clone())),
        previous_secret_until: Set(secrets.previous.as_ref().map(|(_, until)| *until)),
        updated_at: Set(now),
        ..Default::default()
    };
    endpoints::Entity::update(row).exec(conn).await?;
    Ok(())
}

pub async fn delete_endpoint(id: EndpointId, conn: &impl ConnectionTrait) -> Result<bool, StoreError> {
    Ok(endpoints::Entity::delete_by_id(id).exec(conn).await?.rows_affected == 1)
}

pub async fn find_endpoint(
    id: EndpointId,
    conn: &impl ConnectionTrait,
) -> Result<Option<(Endpoint, Secrets)>, StoreError> {
    endpoints::Entity::find_by_id(id).one(conn).await?.map(endpoint_from).transpose()
}

/// A company's endpoints, oldest first (a company has a handful).
pub async fn endpoints_of(company: CompanyId, conn: &impl ConnectionTrait) -> Result<Vec<Endpoint>, StoreError> {
    let rows = endpoints::Entity::find()
        .filter(endpoints::Column::CompanyId.eq(company.0))
        .order_by_asc(endpoints::Column::CreatedAt)
        .order_by_asc(endpoints::Column::Id)
        .all(conn)
        .await?;
    rows.into_iter().map(|r| endpoint_from(r).map(|(e, _)| e)).collect()
}

/// The most endpoints one company may register.
pub const MAX_ENDPOINTS: u64 = 20;

pub async fn count_endpoints(company: CompanyId, conn: &impl ConnectionTrait) -> Result<u64, StoreError> {
    use sea_orm::PaginatorTrait;
    Ok(endpoints::Entity::find().filter(endpoints::Column::CompanyId.eq(company.0)).count(conn).await?)
}

/// Whether the outbox holds events the relay has not turned into deliveries: a read, so idle
/// workers poll without taking any lock.
pub async fn relay_behind(conn: &impl ConnectionTrait) -> Result<bool, StoreError> {
    let backend = conn.get_database_backend();
    let sql =
        "SELECT (SELECT position FROM outbox_head WHERE id = 1) > (SELECT position FROM outbox_relay WHERE id = 1)";
    let row = conn.query_one_raw(Statement::from_string(backend, sql)).await?;
    Ok(row.map(|r| r.try_get_by_index::<bool>(0)).transpose()?.unwrap_or(false))
}

/// One relay step, in the caller's transaction: takes the relay's place in the outbox (on
/// Postgres skipping if another worker holds it), turns up to `batch` further events into one
/// delivery per endpoint that wants them (and existed when the event occurred), and
/// moves the place on. Returns the events relayed and the deliveries made; `None` when another
/// worker is relaying.
pub async fn relay(batch: u64, conn: &impl ConnectionTrait) -> Result<Option<(Vec<Event>, u64)>, StoreError> {
    let backend = conn.get_database_backend();
    let lock = match backend {
        DbBackend::Postgres => "SELECT position FROM outbox_relay WHERE id = 1 FOR UPDATE SKIP LOCKED",
        _ => "SELECT position FROM outbox_relay WHERE id = 1",
    };
    let Some(row) = conn.query_one_raw(Statement::from_string(backend, lock)).await? else {
        return Ok(None);
    };
    let after: i64 = row.try_get_by_index(0)?;
    let events = outbox::list(&EventFilter { after: Some(after), ..Default::default() }, batch, conn).await?;
    let Some(last) = events.last().map(|e| e.position) else { return Ok(Some((events, 0))) };
    let mut companies: Vec<Uuid> = events.iter().filter_map(|e| e.company_id.map(|c| c.0)).collect();
    companies.sort();
    companies.dedup();
    let targets = if companies.is_empty() {
        Vec::new()
    } else {
        // Disabled endpoints get their deliveries too: they wait, pending, until it is enabled.
        endpoints::Entity::find()
            .filter(endpoints::Column::CompanyId.is_in(companies))
            .all(conn)
            .await?
            .into_iter()
            .map(|r| endpoint_from(r).map(|(e, _)| e))
            .collect::<Result<Vec<_>, _>>()?
    };
    let mut rows = Vec::new();
    for event in &events {
        for endpoint in &targets {
            if Some(endpoint.company_id) == event.company_id
                && endpoint.wants(event.event_type)
                && endpoint.created_at <= event.occurred_at
            {
                rows.push(deliveries::ActiveModel {
                    id: Set(Uuid::now_v7()),
                    endpoint_id: Set(endpoint.id),
                    event_id: Set(event.id),
                    position: Set(event.position),
                    event_type: Set(event.event_type.as_str().to_owned()),
                    subject_id: Set(event.subject),
                    status: Set(DeliveryStatus::Pending.as_str().to_owned()),
                    attempts: Set(0),
                    next_attempt_at: Set(Some(event.occurred_at)),
                    lease_until: Set(None),
                    response_status: Set(None),
                    latency_ms: Set(None),
                    response_excerpt: Set(None),
                    error: Set(None),
                    created_at: Set(event.occurred_at),
                    delivered_at: Set(None),
                });
            }
        }
    }
    let made = rows.len() as u64;
    for chunk in rows.chunks(500) {
        deliveries::Entity::insert_many(chunk.to_vec()).exec_without_returning(conn).await?;
    }
    let placeholder = if backend == DbBackend::Postgres { "$1" } else { "?" };
    conn.execute_raw(Statement::from_sql_and_values(
        backend,
        format!("UPDATE outbox_relay SET position = {placeholder} WHERE id = 1"),
        [last.into()],
    ))
    .await?;
    Ok(Some((events, made)))
}

fn delivery_from(row: deliveries::Model) -> Result<Delivery, StoreError> {
    Ok(Delivery {
        id: row.id,
        endpoint_id: row.endpoint_id,
        event_id: row.event_id,
        event_type: EventType::parse(&row.event_type)
            .ok_or_else(|| StoreError::corrupt(format!("delivery event type {}", row.event_type)))?,
        position: row.position,
        subject: row.subject_id,
        status: DeliveryStatus::parse(&row.status)
            .ok_or_else(|| StoreError::corrupt(format!("delivery status {}", row.status)))?,
        attempts: row.attempts,
        next_attempt_at: row.next_attempt_at,
        response_status: row.response_status,
        latency_ms: row.latency_ms,
        response_excerpt: row.response_excerpt,
        error: row.error,
        created_at: row.created_at,
        delivered_at: row.delivered_at,
    })
}

/// A due delivery with what attempting it needs.
#[derive(Debug, Clone)]
pub struct Claimed {
    pub delivery: Delivery,
    pub endpoint: Endpoint,
    pub secrets: Secrets,
    /// `None` when the event was pruned meanwhile.
    pub event: Option<Event>,
    /// The `traceparent` of the request that committed the event, when traces are exported.
    pub trace_context: Option<String>,
}

/// Claims up to `limit` due deliveries until `lease_until`: pending, due, not claimed by a live
/// lease, of an enabled endpoint, and the earliest pending one of their (endpoint, object), so
/// one object's events reach an endpoint in order. Other workers skip rows being claimed.
pub async fn claim(
    now: DateTime<Utc>,
    lease_until: DateTime<Utc>,
    limit: u64,
    conn: &impl ConnectionTrait,
) -> Result<Vec<Claimed>, StoreError> {
    let backend = conn.get_database_backend();
    let (p, lock) = match backend {
        DbBackend::Postgres => (["$1", "$2", "$3"], "FOR UPDATE OF d SKIP LOCKED"),
        _ => (["?", "?", "?"], ""),
    };
    let sql = format!(
        "UPDATE webhook_deliveries SET lease_until = {lease} WHERE id IN (
           SELECT d.id FROM webhook_deliveries d
           JOIN webhook_endpoints e ON e.id = d.endpoint_id AND e.enabled
           WHERE d.status = 'PENDING' AND d.next_attempt_at <= {now}
             AND (d.lease_until IS NULL OR d.lease_until < {now})
             AND NOT EXISTS (SELECT 1 FROM webhook_deliveries b
                             WHERE b.endpoint_id = d.endpoint_id AND b.subject_id = d.subject_id
                               AND b.status = 'PENDING' AND b.position < d.position)
           ORDER BY d.next_attempt_at, d.position
           LIMIT {limit} {lock}
         ) RETURNING id",
        lease = p[0],
        now = p[1],
        limit = p[2],
    );
    // SQLite numbers `?` by position: the second `now` needs its own value.
    let values: Vec<sea_orm::Value> = match backend {
        DbBackend::Postgres => vec![lease_until.into(), now.into(), (limit as i64).into()],
        _ => vec![lease_until.into(), now.into(), now.into(), (limit as i64).into()],
    };
    // A read first: idle workers then poll without writing (on SQLite a write takes the lock).
    let due = deliveries::Entity::find()
        .select_only()
        .column(deliveries::Column::Id)
        .filter(deliveries::Column::Status.eq(DeliveryStatus::Pending.as_str()))
        .filter(deliveries::Column::NextAttemptAt.lte(now))
        .limit(1)
        .into_tuple::<Uuid>()
        .one(conn)
        .await?;
    if due.is_none() {
        return Ok(Vec::new());
    }
    let ids: Vec<Uuid> = conn
        .query_all_raw(Statement::from_sql_and_values(backend, sql, values))
        .await?
        .into_iter()
        .map(|row| row.try_get_by_index::<Uuid>(0))
        .collect::<Result<_, _>>()?;
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let rows = deliveries::Entity::find().filter(deliveries::Column::Id.is_in(ids)).all(conn).await?;
    let mut endpoint_ids: Vec<Uuid> = rows.iter().map(|r| r.endpoint_id).collect();
    endpoint_ids.sort();
    endpoint_ids.dedup();
    let endpoint_rows = endpoints::Entity::find().filter(endpoints::Column::Id.is_in(endpoint_ids)).all(conn).await?;
    let mut targets = std::collections::HashMap::new();
    for row in endpoint_rows {
        let (endpoint, secrets) = endpoint_from(row)?;
        targets.insert(endpoint.id, (endpoint, secrets));
    }
    let events = outbox::find_traced_by_ids(&rows.iter().map(|r| r.event_id).collect::<Vec<_>>(), conn).await?;
    let mut claimed = Vec::new();
    for row in rows {
        let delivery = delivery_from(row)?;
        let Some((endpoint, secrets)) = targets.get(&delivery.endpoint_id).cloned() else { continue };
        let found = events.iter().find(|(e, _)| e.id == delivery.event_id).cloned();
        let (event, trace_context) = found.map_or((None, None), |(e, t)| (Some(e), t));
        claimed.push(Claimed { delivery, endpoint, secrets, event, trace_context });
    }
    claimed.sort_by_key(|c| c.delivery.position);
    Ok(claimed)
}

/// What one attempt gave.
#[derive(Debug, Clone)]
pub struct Attempt {
    pub at: DateTime<Utc>,
    pub response_status: Option<i32>,
    pub latency_ms: i32,
    pub response_excerpt: Option<String>,
    pub error: Option<String>,
}

/// Records an attempt: `next` is when to try again (still `PENDING`), `None` with `succeeded`
/// false for `FAILED`. Releases the lease. Updates the endpoint's failing streak.
pub async fn record_attempt(
    delivery: &Delivery,
    attempt: &Attempt,
    succeeded: bool,
    next: Option<DateTime<Utc>>,
    conn: &impl ConnectionTrait,
) -> Result<(), StoreError> {
    let status = match (succeeded, next) {
        (true, _) => DeliveryStatus::Succeeded,
        (false, Some(_)) => DeliveryStatus::Pending,
        (false, None) => DeliveryStatus::Failed,
    };
    let row = deliveries::ActiveModel {
        id: Unchanged(delivery.id),
        status: Set(status.as_str().to_owned()),
        attempts: Set(delivery.attempts + 1),
        next_attempt_at: Set(if succeeded { None } else { next }),
        lease_until: Set(None),
        response_status: Set(attempt.response_status),
        latency_ms: Set(Some(attempt.latency_ms)),
        response_excerpt: Set(attempt.response_excerpt.clone()),
        error: Set(attempt.error.clone()),
        delivered_at: Set(succeeded.then_some(attempt.at)),
        ..Default::default()
    };
    deliveries::Entity::update(row).exec(conn).await?;
    let streak = endpoints::Entity::update_many().filter(endpoints::Column::Id.eq(delivery.endpoint_id));
    if succeeded {
        streak
            .col_expr(endpoints::Column::FailingSince, Expr::value(Option::<DateTime<Utc>>::None))
            .filter(endpoints::Column::FailingSince.is_not_null())
            .exec(conn)
            .await?;
    } else {
        streak
            .col_expr(endpoints::Column::FailingSince, Expr::value(attempt.at))
            .filter(endpoints::Column::FailingSince.is_null())
            .exec(conn)
            .await?;
    }
    Ok(())
}

/// Gives back a claim without attempting it (shutdown, or an endpoint gone meanwhile).
pub async fn release(id: Uuid, conn: &impl ConnectionTrait) -> Result<(), StoreError> {
    deliveries::Entity::update_many()
        .col_expr(deliveries::Column::LeaseUntil, Expr::value(Option::<DateTime<Utc>>::None))
        .filter(deliveries::Column::Id.eq(id))
        .exec(conn)
        .await?;
    Ok(())
}

/// An endpoint's deliveries, newest first, optionally of one status.
pub async fn deliveries_of(
    endpoint: EndpointId,
    status: Option<DeliveryStatus>,
    request: &PageRequest,
    conn: &impl ConnectionTrait,
) -> Result<Page<Delivery>, StoreError> {
    let mut select = deliveries::Entity::find().filter(deliveries::Column::EndpointId.eq(endpoint));
    if let Some(status) = status {
        select = select.filter(deliveries::Column::Status.eq(status.as_str()));
    }
    let keyset = Keyset::by(deliveries::Column::CreatedAt, deliveries::Column::Id, false);
    keyset
        .page(select, request, |select| async move {
            let rows = select.all(conn).await?;
            rows.into_iter()
                .map(|r| {
                    let cursor = Cursor { key: SortKey::Time(r.created_at), id: r.id };
                    delivery_from(r).map(|d| (d, cursor))
                })
                .collect::<Result<Vec<_>, StoreError>>()
        })
        .await
}

pub async fn find_delivery(id: Uuid, conn: &impl ConnectionTrait) -> Result<Option<Delivery>, StoreError> {
    deliveries::Entity::find_by_id(id).one(conn).await?.map(delivery_from).transpose()
}

/// Queues a delivery again now, whatever it ended as; its attempts keep counting.
pub async fn redeliver(id: Uuid, now: DateTime<Utc>, conn: &impl ConnectionTrait) -> Result<(), StoreError> {
    let row = deliveries::ActiveModel {
        id: Unchanged(id),
        status: Set(DeliveryStatus::Pending.as_str().to_owned()),
        next_attempt_at: Set(Some(now)),
        lease_until: Set(None),
        ..Default::default()
    };
    deliveries::Entity::update(row).exec(conn).await?;
    Ok(())
}

/// For `/metrics`: pending deliveries, the oldest one's creation, and how far the relay trails the
/// outbox (events not yet turned into deliveries).
#[derive(Debug, Clone, Default)]
pub struct Backlog {
    pub pending: u64,
    pub oldest_pending: Option<DateTime<Utc>>,
    pub unrelayed: i64,
}

pub async fn backlog(conn: &impl ConnectionTrait) -> Result<Backlog, StoreError> {
    use sea_orm::PaginatorTrait;
    let pending_filter = deliveries::Column::Status.eq(DeliveryStatus::Pending.as_str());
    let pending = deliveries::Entity::find().filter(pending_filter.clone()).count(conn).await?;
    let oldest: Option<DateTime<Utc>> = deliveries::Entity::find()
        .select_only()
        .column(deliveries::Column::CreatedAt)
        .filter(pending_filter)
        .order_by_asc(deliveries::Column::CreatedAt)
        .limit(1)
        .into_tuple()
        .one(conn)
        .await?;
    let backend = conn.get_database_backend();
    let row = conn
        .query_one_raw(Statement::from_string(backend, "SELECT position FROM outbox_relay WHERE id = 1"))
        .await?
        .ok_or_else(|| StoreError::corrupt("outbox_relay has no row"))?;
    let relayed: i64 = row.try_get_by_index(0)?;
    Ok(Backlog { pending, oldest_pending: oldest, unrelayed: outbox::head(conn).await? - relayed })
}
