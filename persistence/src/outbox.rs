//! The transactional outbox and the unit of work that writes it.
//!
//! A write use case begins a `UnitOfWork`, runs its statements on `unit.conn()`, records what it
//! changed, and commits: the changes that are events become outbox rows in the same transaction,
//! and after the commit the cache forgets what they touched. Nothing else writes the outbox or
//! invalidates the cache after a write.

use chrono::{DateTime, Utc};
use hiregraph_domain::events::{Actor, Change, Event, EventType, PAYLOAD_VERSION};
use hiregraph_domain::{CompanyId, UserId};
use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseTransaction, EntityTrait, QueryFilter, QueryOrder, QuerySelect, Statement,
};
use uuid::Uuid;

use crate::cache::{Cache, CacheKey, Generation};
use crate::db::{Database, Transaction};
use crate::entities::outbox;
use crate::error::StoreError;

/// One write use case: a transaction and the changes it made.
pub struct UnitOfWork {
    txn: Transaction,
    actor: Actor,
    changes: Vec<Change>,
}

impl UnitOfWork {
    /// Begins the transaction (on SQLite holding the write lock at once, see `Database::write`).
    pub async fn begin(db: &Database, actor: Actor) -> Result<Self, StoreError> {
        Ok(Self { txn: db.write().await?, actor, changes: Vec::new() })
    }

    /// The transaction, for repository calls.
    pub fn conn(&self) -> &DatabaseTransaction {
        self.txn.conn()
    }

    /// Records what the write changed, with the object as it is after the change.
    pub fn record(&mut self, change: Change) {
        self.changes.push(change);
    }

    /// Writes the events (`payload` renders each one's object) in the transaction, commits, then
    /// invalidates the cache. Returns the events written.
    pub async fn commit(
        self,
        cache: &Cache,
        payload: impl Fn(&Change) -> serde_json::Value,
    ) -> Result<Vec<Event>, StoreError> {
        let Self { txn, actor, changes } = self;
        let occurred_at = Utc::now();
        let pending: Vec<(&Change, EventType)> =
            changes.iter().filter_map(|c| c.event_type().map(|t| (c, t))).collect();
        let mut events = Vec::with_capacity(pending.len());
        if !pending.is_empty() {
            // Last statement before COMMIT: the head row stays locked only for the commit itself,
            // and the next writer takes its positions after this one is visible.
            let last = take_positions(pending.len() as i64, txn.conn()).await?;
            let first = last - pending.len() as i64 + 1;
            for (offset, (change, event_type)) in pending.into_iter().enumerate() {
                events.push(Event {
                    position: first + offset as i64,
                    id: Uuid::now_v7(),
                    event_type,
                    version: PAYLOAD_VERSION,
                    occurred_at: occurred_at.trunc_micros(),
                    company_id: change.company(),
                    actor,
                    subject: change.subject(),
                    payload: payload(change).to_string(),
                });
            }
            insert(&events, txn.conn()).await?;
        }
        txn.commit().await?;
        invalidate(cache, &changes).await;
        Ok(events)
    }
}

trait TruncMicros {
    fn trunc_micros(self) -> Self;
}

impl TruncMicros for DateTime<Utc> {
    fn trunc_micros(self) -> Self {
        use chrono::SubsecRound;
        self.trunc_subsecs(6)
    }
}

/// What each kind of change makes the cache forget, after the commit.
async fn invalidate(cache: &Cache, changes: &[Change]) {
    let mut keys = Vec::new();
    let mut feed = false;
    for change in changes {
        match change {
            Change::PostingCreated(p) => keys.push(CacheKey::Posting(p.id)),
            Change::PostingUpdated(p) | Change::PostingStatusChanged { posting: p, .. } | Change::PostingExpired(p) => {
                keys.push(CacheKey::Posting(p.id));
                feed = true;
            }
            Change::CompanyCreated(c) => keys.push(CacheKey::Company(c.id)),
            Change::CompanyUpdated { company, renamed } => {
                keys.push(CacheKey::Company(company.id));
                // The name is in the search text of the company's postings.
                feed |= *renamed;
            }
            // An account's cached access holds its memberships.
            Change::MemberAdded(m) | Change::MemberRemoved(m) | Change::MemberRoleChanged { membership: m, .. } => {
                keys.push(CacheKey::Company(m.company_id));
                keys.push(CacheKey::User(m.user_id));
            }
            // Applications, their events and notes are never cached.
            Change::ApplicationCreated(_) | Change::ApplicationMoved { .. } | Change::NoteAdded { .. } => {}
            Change::CandidateProfileUpdated(p) => keys.push(CacheKey::Candidate(p.id)),
            Change::UserAccessChanged(id) => keys.push(CacheKey::User(*id)),
            // Endpoints are read from the database by the worker, never cached.
            Change::WebhookEndpointDisabled(_) => {}
            Change::PartnerAccessChanged { app, revoked_key, app_keys, .. } => {
                keys.push(CacheKey::PartnerApp(*app));
                keys.extend(revoked_key.as_deref().and_then(CacheKey::api_key));
                keys.extend(app_keys.iter().filter_map(|hash| CacheKey::api_key(hash)));
            }
        }
    }
    keys.sort_by_key(|k| format!("{k:?}"));
    keys.dedup();
    cache.invalidate(&keys).await;
    if feed {
        cache.bump(Generation::Feed).await;
    }
}

async fn take_positions(count: i64, conn: &impl ConnectionTrait) -> Result<i64, StoreError> {
    let backend = conn.get_database_backend();
    let sql = match backend {
        sea_orm::DbBackend::Postgres => {
            "UPDATE outbox_head SET position = position + $1 WHERE id = 1 RETURNING position"
        }
        _ => "UPDATE outbox_head SET position = position + ? WHERE id = 1 RETURNING position",
    };
    let row = conn
        .query_one_raw(Statement::from_sql_and_values(backend, sql, [count.into()]))
        .await?
        .ok_or_else(|| StoreError::corrupt("outbox_head has no row"))?;
    Ok(row.try_get_by_index::<i64>(0)?)
}

async fn insert(events: &[Event], conn: &impl ConnectionTrait) -> Result<(), StoreError> {
    // Every column is written: reset marks the converted values as set.
    let rows = events
        .iter()
        .map(|e| sea_orm::ActiveModelTrait::reset_all(sea_orm::IntoActiveModel::into_active_model(to_row(e))));
    outbox::Entity::insert_many(rows).exec_without_returning(conn).await?;
    Ok(())
}

/// The event as its outbox row (also its form on the live bus).
pub(crate) fn to_row(e: &Event) -> outbox::Model {
    outbox::Model {
        position: e.position,
        id: e.id,
        event_type: e.event_type.as_str().to_owned(),
        version: e.version,
        occurred_at: e.occurred_at,
        company_id: e.company_id.map(|c| c.0),
        actor_kind: e.actor.kind().to_owned(),
        actor_id: e.actor.id(),
        subject_id: e.subject,
        payload: e.payload.clone(),
        trace_context: crate::telemetry::traceparent(),
    }
}

pub(crate) fn from_row(row: outbox::Model) -> Result<Event, StoreError> {
    let event_type = EventType::parse(&row.event_type)
        .ok_or_else(|| StoreError::corrupt(format!("outbox event type {}", row.event_type)))?;
    let actor = match (row.actor_kind.as_str(), row.actor_id) {
        ("user", Some(id)) => Actor::User(UserId(id)),
        ("partner", Some(id)) => Actor::Partner(hiregraph_domain::ids::PartnerAppId(id)),
        ("system", _) => Actor::System,
        (kind, _) => return Err(StoreError::corrupt(format!("outbox actor {kind}"))),
    };
    Ok(Event {
        position: row.position,
        id: row.id,
        event_type,
        version: row.version,
        occurred_at: row.occurred_at,
        company_id: row.company_id.map(CompanyId),
        actor,
        subject: row.subject_id,
        payload: row.payload,
    })
}

/// Which events a reader asks for.
#[derive(Debug, Clone, Default)]
pub struct EventFilter {
    /// `None`: every company's and the platform's (platform admins); otherwise only these.
    pub companies: Option<Vec<CompanyId>>,
    /// Empty: every type.
    pub types: Vec<EventType>,
    /// Only events after this position.
    pub after: Option<i64>,
}

/// Up to `limit` events in position order.
pub async fn list(filter: &EventFilter, limit: u64, conn: &impl ConnectionTrait) -> Result<Vec<Event>, StoreError> {
    let mut query = outbox::Entity::find().order_by_asc(outbox::Column::Position).limit(limit);
    if let Some(companies) = &filter.companies {
        query = query.filter(outbox::Column::CompanyId.is_in(companies.iter().map(|c| c.0)));
    }
    if !filter.types.is_empty() {
        query = query.filter(outbox::Column::EventType.is_in(filter.types.iter().map(|t| t.as_str())));
    }
    if let Some(after) = filter.after {
        query = query.filter(outbox::Column::Position.gt(after));
    }
    query.all(conn).await?.into_iter().map(from_row).collect()
}

/// Events by id (those still kept).
pub async fn find_by_ids(ids: &[Uuid], conn: &impl ConnectionTrait) -> Result<Vec<Event>, StoreError> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let rows = outbox::Entity::find().filter(outbox::Column::Id.is_in(ids.iter().copied())).all(conn).await?;
    rows.into_iter().map(from_row).collect()
}

/// Events by id, each with the trace context of the request that committed it.
pub async fn find_traced_by_ids(
    ids: &[Uuid],
    conn: &impl ConnectionTrait,
) -> Result<Vec<(Event, Option<String>)>, StoreError> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let rows = outbox::Entity::find().filter(outbox::Column::Id.is_in(ids.iter().copied())).all(conn).await?;
    rows.into_iter()
        .map(|row| {
            let trace = row.trace_context.clone();
            from_row(row).map(|event| (event, trace))
        })
        .collect()
}

/// Deletes the events that occurred before `before`; returns how many.
pub async fn prune(before: DateTime<Utc>, conn: &impl ConnectionTrait) -> Result<u64, StoreError> {
    let result = outbox::Entity::delete_many().filter(outbox::Column::OccurredAt.lt(before)).exec(conn).await?;
    Ok(result.rows_affected)
}

/// Changed objects since `position`, for an in-memory index that follows the outbox.
pub struct Changed {
    /// The distinct subjects of the events read, sorted.
    pub subjects: Vec<Uuid>,
    /// The position of the last event read: where the next read starts.
    pub last: i64,
    /// Whether a full batch was read, so more may follow.
    pub more: bool,
}

/// The subjects of at most `limit` events of `types` committed after `position`, in commit
/// order; `None` when there is none.
pub async fn changed_since(
    types: &[EventType],
    position: i64,
    limit: u64,
    conn: &impl ConnectionTrait,
) -> Result<Option<Changed>, StoreError> {
    let filter = EventFilter { companies: None, types: types.to_vec(), after: Some(position) };
    let events = list(&filter, limit, conn).await?;
    let Some(last) = events.last().map(|e| e.position) else { return Ok(None) };
    let mut subjects: Vec<Uuid> = events.iter().map(|e| e.subject).collect();
    subjects.sort_unstable();
    subjects.dedup();
    Ok(Some(Changed { subjects, last, more: events.len() as u64 == limit }))
}

/// The last position handed out (0 before the first event).
pub async fn head(conn: &impl ConnectionTrait) -> Result<i64, StoreError> {
    let sql = "SELECT position FROM outbox_head WHERE id = 1";
    let row = conn
        .query_one_raw(Statement::from_string(conn.get_database_backend(), sql))
        .await?
        .ok_or_else(|| StoreError::corrupt("outbox_head has no row"))?;
    Ok(row.try_get_by_index::<i64>(0)?)
}
