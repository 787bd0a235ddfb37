//! Live events for subscriptions. The outbox relay publishes every event it relays on the bus
//! (`hiregraph_persistence::bus`: Redis pub/sub between replicas, in process in the embedded
//! default); each replica's tail hears them and broadcasts them to its own subscribers, who
//! authorize each one. Positions are gapless and in commit order, so the tail passes each event
//! on exactly once and in order: what it heard twice it drops, a gap (a message lost, Redis away,
//! a relay that died after committing) it reads from the outbox. While the bus is down the tail
//! polls the outbox, so connections stay open and nothing is missed.

use std::sync::Arc;
use std::time::Duration;

use argon2::password_hash::rand_core::{OsRng, RngCore};
use hiregraph_domain::events::Event;
use hiregraph_persistence::bus::{Bus, Heard, Listener};
use hiregraph_persistence::limiter::LimitKey;
use hiregraph_persistence::outbox::{self, EventFilter};
use tokio::sync::broadcast;

use crate::state::AppState;

/// Events held for subscribers that fall behind; one that falls further is told to resync.
const BUFFER: usize = 4096;
const BATCH: u64 = 500;
/// With a shared bus the outbox is still read this often, for the last event of a relay that
/// died between its commit and its publish; and the bus's connection is checked.
const SAFETY_POLL: Duration = Duration::from_secs(5);
/// Wait before listening again after the bus failed.
const RELISTEN: Duration = Duration::from_secs(1);

/// A committed event on its way to this replica's subscribers, with what they read about it
/// loaded once for all of them (each subscriber's authorization is still its own).
pub struct LiveEvent {
    pub event: Event,
    posting: tokio::sync::OnceCell<Option<Arc<Posting>>>,
    application: tokio::sync::OnceCell<Option<Arc<Application>>>,
}

impl std::ops::Deref for LiveEvent {
    type Target = Event;

    fn deref(&self) -> &Event {
        &self.event
    }
}

impl LiveEvent {
    fn new(event: Event) -> Self {
        Self { event, posting: Default::default(), application: Default::default() }
    }

    /// The posting the event is about, as it is now.
    async fn posting(&self, state: &AppState) -> AppResult<Option<Arc<Posting>>> {
        let id = [PostingId(self.event.subject)];
        let load = || async {
            Ok::<_, AppError>(
                hiregraph_persistence::postings::find_by_ids(&id, &state.db.conn).await?.pop().map(Arc::new),
            )
        };
        // Boxed, like every load below: only the one subscriber that runs it holds its state.
        Ok(self.posting.get_or_try_init(|| Box::pin(load())).await?.clone())
    }

    /// The application the event is about, as it is now.
    async fn application(&self, state: &AppState) -> AppResult<Option<Arc<Application>>> {
        let id = ApplicationId(self.event.subject);
        let load = || Box::pin(crate::services::applications::load(state, id));
        Ok(self.application.get_or_try_init(load).await?.clone())
    }
}

/// The in-process broadcast of committed events.
pub struct Live {
    sender: broadcast::Sender<Arc<LiveEvent>>,
    /// How events reach this replica.
    pub bus: Bus,
    /// Held while a subscriber joins and while the idle tail skips ahead, so the tail never skips
    /// past an event a subscriber that just joined is owed.
    gate: tokio::sync::Mutex<()>,
    /// Open WebSocket connections per account, on this replica.
    connections: std::sync::Mutex<std::collections::HashMap<uuid::Uuid, usize>>,
}

/// One counted connection; dropping it gives its place back (on this replica at once, in Redis
/// a moment later).
pub struct ConnectionGuard {
    state: Arc<AppState>,
    /// The account: a user's id, or a partner app's.
    user: uuid::Uuid,
    holder: u64,
}

impl ConnectionGuard {
    /// Renews the connection's place among its account's on every replica (a replica that dies
    /// holding places gives them back once `CONNECTION_HOLD` runs out).
    pub async fn renew(&self) {
        let key = LimitKey::ConnectionsOf(self.user);
        let limit = self.state.settings.websocket.max_connections as u64;
        let _ = self.state.limiter.hold(&key, self.holder, limit, connection_hold(&self.state)).await;
    }
}

impl Drop for ConnectionGuard {
    fn drop(&mut self) {
        if let Ok(mut open) = self.state.live.connections.lock()
            && let Some(count) = open.get_mut(&self.user)
        {
            *count = count.saturating_sub(1);
            if *count == 0 {
                open.remove(&self.user);
            }
        }
        let (state, key, holder) = (self.state.clone(), LimitKey::ConnectionsOf(self.user), self.holder);
        if let Ok(runtime) = tokio::runtime::Handle::try_current() {
            runtime.spawn(async move { state.limiter.release(&key, holder).await });
        }
    }
}

/// How long a connection's place is held without renewal: three keep-alive rounds.
fn connection_hold(state: &AppState) -> Duration {
    state.settings.websocket.keepalive * 3
}

impl Default for Live {
    fn default() -> Self {
        Self::new(Bus::local())
    }
}

impl Live {
    pub fn new(bus: Bus) -> Self {
        Self { sender: broadcast::channel(BUFFER).0, bus, gate: Default::default(), connections: Default::default() }
    }

    /// Joins the broadcast: the receiver, and the last event committed before joining (the
    /// subscriber is owed only what comes after it).
    pub async fn join(&self, state: &AppState) -> AppResult<(broadcast::Receiver<Arc<LiveEvent>>, i64)> {
        let _gate = self.gate.lock().await;
        let receiver = self.sender.subscribe();
        Ok((receiver, outbox::head(&state.db.conn).await?))
    }

    /// Subscribers listening now, on this replica.
    pub fn listeners(&self) -> usize {
        self.sender.receiver_count()
    }
}

/// Counts a WebSocket connection of `user`: at most `HIREGRAPH_WS_MAX_CONNECTIONS` on this
/// replica and, through Redis, on all of them together (without Redis, or while it does not
/// answer, each replica counts alone). `None` when that many are already open. The guard gives
/// the place back when the connection ends.
pub async fn admit_connection(state: &Arc<AppState>, user: uuid::Uuid) -> Option<ConnectionGuard> {
    let limit = state.settings.websocket.max_connections;
    {
        let mut open = state.live.connections.lock().ok()?;
        let count = open.entry(user).or_insert(0);
        if *count >= limit {
            return None;
        }
        *count += 1;
    }
    // From here the guard undoes the local count, whatever happens.
    let guard = ConnectionGuard { state: state.clone(), user, holder: OsRng.next_u64() };
    let key = LimitKey::ConnectionsOf(user);
    match state.limiter.hold(&key, guard.holder, limit as u64, connection_hold(state)).await {
        Some(false) => None,
        Some(true) | None => Some(guard),
    }
}

/// The replica's place in the event sequence: the last position passed on to subscribers.
struct Tail {
    state: Arc<AppState>,
    after: i64,
}

impl Tail {
    /// Passes on what the bus brought, each position once and in order; a gap is read from the
    /// outbox first.
    async fn heard(&mut self, events: &[Event]) -> Result<(), hiregraph_persistence::StoreError> {
        for event in events {
            if event.position <= self.after {
                continue;
            }
            if event.position > self.after + 1 {
                self.catch_up().await?;
                if event.position <= self.after {
                    continue;
                }
            }
            self.pass_on(event.clone());
        }
        Ok(())
    }

    /// Reads the outbox past `after` (or, with nobody listening, skips to its head: a later
    /// subscriber is owed only what commits after it joins).
    async fn catch_up(&mut self) -> Result<(), hiregraph_persistence::StoreError> {
        let live = &self.state.live;
        if live.listeners() == 0 {
            let _gate = live.gate.lock().await;
            if live.listeners() == 0 {
                self.after = self.after.max(outbox::head(&self.state.work_db.conn).await?);
                return Ok(());
            }
        }
        loop {
            let filter = EventFilter { after: Some(self.after), ..Default::default() };
            let events = outbox::list(&filter, BATCH, &self.state.work_db.conn).await?;
            let full = events.len() as u64 == BATCH;
            for event in events {
                self.pass_on(event);
            }
            if !full {
                return Ok(());
            }
        }
    }

    fn pass_on(&mut self, event: Event) {
        self.after = event.position;
        // Nobody listening is not an error: whoever joins later starts past this event.
        let _ = self.state.live.sender.send(Arc::new(LiveEvent::new(event)));
    }
}

/// Hears the bus and tails the outbox from its head at start-up, on the background pool, until
/// the runtime stops.
pub fn spawn_tail(state: Arc<AppState>) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let after = loop {
            match outbox::head(&state.work_db.conn).await {
                Ok(head) => break head,
                Err(err) => {
                    tracing::warn!(error = ?err, "the live tail cannot read the outbox head; retrying");
                    tokio::time::sleep(state.settings.worker_poll).await;
                }
            }
        };
        let mut tail = Tail { state: state.clone(), after };
        let mut listener: Option<Listener> = None;
        let mut bus_down = false;
        let mut outbox_down = false;
        // A ping can miss its second under a burst of load; two in a row mean the bus is gone.
        let mut missed_pings = 0;
        loop {
            if listener.is_none() {
                match state.live.bus.listen().await {
                    Ok(heard) => {
                        listener = Some(heard);
                        if bus_down {
                            tracing::info!("the live tail hears the event bus again");
                            bus_down = false;
                        }
                    }
                    Err(err) => {
                        if !bus_down {
                            tracing::warn!(error = %err, "the live tail cannot hear the event bus; polling the outbox until it can");
                            bus_down = true;
                        }
                    }
                }
            }
            // A local bus hears only this process's relay, so other replicas' events come by poll.
            let poll =
                if listener.is_some() && state.live.bus.is_shared() { SAFETY_POLL } else { state.settings.worker_poll };
            let result = tokio::select! {
                heard = hear(&mut listener) => match heard {
                    Heard::Events(events) => tail.heard(&events).await,
                    Heard::Missed => tail.catch_up().await,
                    Heard::Lost => {
                        tracing::warn!("the live tail lost the event bus; polling the outbox until it is back");
                        listener = None;
                        bus_down = true;
                        tokio::time::sleep(RELISTEN).await;
                        tail.catch_up().await
                    }
                },
                _ = tokio::time::sleep(poll) => {
                    if let Some(heard) = listener.as_mut() {
                        missed_pings = if heard.alive().await { 0 } else { missed_pings + 1 };
                        if missed_pings >= 2 {
                            tracing::warn!("the event bus stopped answering; polling the outbox until it is back");
                            listener = None;
                            bus_down = true;
                            missed_pings = 0;
                        }
                    }
                    tail.catch_up().await
                }
            };
            match result {
                Ok(()) if outbox_down => {
                    tracing::info!("the live tail reads the outbox again");
                    outbox_down = false;
                }
                Ok(()) => {}
                Err(err) if !outbox_down => {
                    tracing::warn!(error = ?err, "the live tail cannot read the outbox; retrying");
                    outbox_down = true;
                }
                Err(_) => {}
            }
        }
    })
}

async fn hear(listener: &mut Option<Listener>) -> Heard {
    match listener {
        Some(listener) => listener.next().await,
        None => std::future::pending().await,
    }
}

// ---------------------------------------------------------------------------------------------
// What one subscriber may receive, decided per event with a fresh look at who they are now.

use hiregraph_domain::applications::Application;
use hiregraph_domain::events::EventType;
use hiregraph_domain::postings::Posting;
use hiregraph_domain::{ApplicationId, CandidateId, CompanyId, PostingId, Principal};

use hiregraph_domain::applications::{self as rules, ApplicationAction};

use crate::error::{AppError, AppResult};
use crate::state::Viewer;

/// The event's posting as it is now, if `principal` may see it now.
pub async fn posting_for(
    state: &AppState,
    principal: &Principal,
    event: &LiveEvent,
) -> AppResult<Option<Arc<Posting>>> {
    let Some(posting) = event.posting(state).await? else { return Ok(None) };
    if crate::services::postings::readable_by_anyone(&posting) {
        return Ok(Some(posting));
    }
    let viewer = Viewer::new(principal.clone());
    Ok(Box::pin(crate::services::postings::may_read(state, &viewer, &posting)).await?.then_some(posting))
}

/// The event's posting, if it is in the public feed under `filter` now (the feed's own query).
pub async fn published_matching(
    state: &AppState,
    filter: &hiregraph_persistence::postings::FeedFilter,
    event: &LiveEvent,
) -> AppResult<Option<Arc<Posting>>> {
    let id = PostingId(event.subject);
    if !Box::pin(hiregraph_persistence::postings::in_feed(filter, id, crate::state::now(), &state.db.conn)).await? {
        return Ok(None);
    }
    event.posting(state).await
}

/// The event's application as it is now, if `principal` may read it now and `wanted` says it
/// is theirs to follow (checked first, so a subscriber pays only for its own applications).
pub async fn application_for(
    state: &AppState,
    principal: &Principal,
    event: &LiveEvent,
    wanted: impl FnOnce(&Application) -> bool,
) -> AppResult<Option<Arc<Application>>> {
    let Some(application) = event.application(state).await? else { return Ok(None) };
    if !wanted(&application) {
        return Ok(None);
    }
    let viewer = Viewer::new(principal.clone());
    let relation = Box::pin(crate::services::applications::relation(state, &viewer, &application)).await?;
    Ok(rules::may(principal, relation, ApplicationAction::Read).then_some(application))
}

/// Checks, at subscribe time, that the viewer may follow a company's applications: its members
/// and platform admins.
pub async fn may_follow_company(state: &AppState, viewer: &Viewer, company: CompanyId) -> AppResult<()> {
    crate::services::companies::authenticated(viewer)?;
    if viewer.may(state, company, hiregraph_domain::companies::CompanyAction::ReadApplications).await? {
        return Ok(());
    }
    Err(AppError::Forbidden(
        "only the company's members and partner apps with applications:read follow its applications".into(),
    ))
}

/// The company of a posting the viewer may see.
pub async fn company_of_posting(state: &AppState, viewer: &Viewer, id: PostingId) -> AppResult<CompanyId> {
    Ok(crate::services::postings::read(state, viewer, id).await?.company_id)
}

/// The signed-in viewer's candidate profile id, or `FORBIDDEN` for someone without one.
pub async fn own_candidate(state: &AppState, viewer: &Viewer) -> AppResult<CandidateId> {
    let user = crate::services::companies::signed_in(viewer)?;
    hiregraph_persistence::candidates::find_id_by_user(user, &state.db.conn)
        .await?
        .ok_or_else(|| AppError::Forbidden("only candidates follow their applications".into()))
}

/// The event types that change an application's status.
pub const APPLICATION_MOVES: [EventType; 4] = [
    EventType::ApplicationCreated,
    EventType::ApplicationMoved,
    EventType::ApplicationRejected,
    EventType::ApplicationWithdrawn,
];
