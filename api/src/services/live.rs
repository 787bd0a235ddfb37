//! Live events for subscriptions: every replica tails the outbox (positions are in commit order,
//! so the tail misses nothing and repeats nothing) and broadcasts each committed event to its own
//! subscribers, who authorize it one by one. Events committed by this replica wake the tail at
//! once; another replica's within one poll.

use std::sync::Arc;

use hiregraph_domain::events::Event;
use hiregraph_persistence::outbox::{self, EventFilter};
use tokio::sync::broadcast;

use crate::state::AppState;

/// Events held for subscribers that fall behind; one that falls further is told to resync.
const BUFFER: usize = 4096;
const BATCH: u64 = 500;

/// The in-process broadcast of committed events.
pub struct Live {
    sender: broadcast::Sender<Arc<Event>>,
    /// Woken by this replica's commits.
    pub wake: tokio::sync::Notify,
    /// Held while a subscriber joins and while the idle tail skips ahead, so the tail never skips
    /// past an event a subscriber that just joined is owed.
    gate: tokio::sync::Mutex<()>,
    /// Open WebSocket connections per account, on this replica.
    connections: std::sync::Mutex<std::collections::HashMap<UserId, usize>>,
}

/// One counted connection; dropping it gives its place back.
pub struct ConnectionGuard {
    live: Arc<Live>,
    user: UserId,
}

impl Drop for ConnectionGuard {
    fn drop(&mut self) {
        if let Ok(mut open) = self.live.connections.lock()
            && let Some(count) = open.get_mut(&self.user)
        {
            *count = count.saturating_sub(1);
            if *count == 0 {
                open.remove(&self.user);
            }
        }
    }
}

impl Default for Live {
    fn default() -> Self {
        Self {
            sender: broadcast::channel(BUFFER).0,
            wake: tokio::sync::Notify::new(),
            gate: Default::default(),
            connections: Default::default(),
        }
    }
}

impl Live {
    /// Joins the broadcast: the receiver, and the last event committed before joining (the
    /// subscriber is owed only what comes after it).
    pub async fn join(&self, state: &AppState) -> AppResult<(broadcast::Receiver<Arc<Event>>, i64)> {
        let _gate = self.gate.lock().await;
        let receiver = self.sender.subscribe();
        Ok((receiver, outbox::head(&state.db.conn).await?))
    }

    /// Subscribers listening now, on this replica.
    pub fn listeners(&self) -> usize {
        self.sender.receiver_count()
    }

    /// Counts a WebSocket connection of `user` on this replica; `None` when `limit` are already
    /// open. The guard gives the place back when the connection ends.
    pub fn admit_connection(self: &Arc<Self>, user: UserId, limit: usize) -> Option<ConnectionGuard> {
        let mut open = self.connections.lock().ok()?;
        let count = open.entry(user).or_insert(0);
        if *count >= limit {
            return None;
        }
        *count += 1;
        Some(ConnectionGuard { live: self.clone(), user })
    }
}

/// Tails the outbox from its head at start-up, on the background pool, until the runtime stops.
pub fn spawn_tail(state: Arc<AppState>) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut after = loop {
            match outbox::head(&state.work_db.conn).await {
                Ok(head) => break head,
                Err(err) => {
                    tracing::warn!(error = ?err, "the live tail cannot read the outbox head; retrying");
                    tokio::time::sleep(state.settings.worker_poll).await;
                }
            }
        };
        let mut failing = false;
        loop {
            if state.live.listeners() > 0 {
                let filter = EventFilter { after: Some(after), ..Default::default() };
                match outbox::list(&filter, BATCH, &state.work_db.conn).await {
                    Ok(events) => {
                        if failing {
                            tracing::info!("the live tail reads the outbox again");
                            failing = false;
                        }
                        let full = events.len() as u64 == BATCH;
                        for event in events {
                            after = event.position;
                            // No subscriber is not an error: the event is simply not wanted here.
                            let _ = state.live.sender.send(Arc::new(event));
                        }
                        if full {
                            continue;
                        }
                    }
                    Err(err) => {
                        if !failing {
                            tracing::warn!(error = ?err, "the live tail cannot read the outbox; retrying");
                            failing = true;
                        }
                    }
                }
            } else {
                // Nobody listens: skip ahead rather than replay old events to a later subscriber.
                let _gate = state.live.gate.lock().await;
                if state.live.listeners() == 0
                    && let Ok(head) = outbox::head(&state.work_db.conn).await
                {
                    after = head;
                }
            }
            tokio::select! {
                _ = state.live.wake.notified() => {}
                _ = tokio::time::sleep(state.settings.worker_poll) => {}
            }
        }
    })
}

// ---------------------------------------------------------------------------------------------
// What one subscriber may receive, decided per event with a fresh look at who they are now.

use hiregraph_domain::applications::Application;
use hiregraph_domain::events::EventType;
use hiregraph_domain::postings::Posting;
use hiregraph_domain::{ApplicationId, CandidateId, CompanyId, PostingId, Principal, UserId};

use crate::error::{AppError, AppResult};
use crate::state::Viewer;

/// The posting as it is now, if `principal` may see it now.
pub async fn posting_for(state: &AppState, principal: &Principal, id: PostingId) -> AppResult<Option<Arc<Posting>>> {
    let Some(posting) = hiregraph_persistence::postings::find_by_ids(&[id], &state.db.conn).await?.pop() else {
        return Ok(None);
    };
    let viewer = Viewer::new(principal.clone());
    Ok(crate::services::postings::may_read(state, &viewer, &posting).await?.then(|| Arc::new(posting)))
}

/// The posting, if it is in the public feed under `filter` now (the feed's own query).
pub async fn published_matching(
    state: &AppState,
    filter: &hiregraph_persistence::postings::FeedFilter,
    id: PostingId,
) -> AppResult<Option<Arc<Posting>>> {
    if !hiregraph_persistence::postings::in_feed(filter, id, crate::state::now(), &state.db.conn).await? {
        return Ok(None);
    }
    Ok(hiregraph_persistence::postings::find_by_ids(&[id], &state.db.conn).await?.pop().map(Arc::new))
}

/// The application as it is now, if `principal` may read it now.
pub async fn application_for(
    state: &AppState,
    principal: &Principal,
    id: ApplicationId,
) -> AppResult<Option<Arc<Application>>> {
    let viewer = Viewer::new(principal.clone());
    match crate::services::applications::read(state, &viewer, id).await {
        Ok((application, _)) => Ok(Some(application)),
        Err(AppError::NotFound(_)) => Ok(None),
        Err(other) => Err(other),
    }
}

/// Checks, at subscribe time, that the viewer may follow a company's applications: its members
/// and platform admins.
pub async fn may_follow_company(state: &AppState, viewer: &Viewer, company: CompanyId) -> AppResult<()> {
    crate::services::companies::signed_in(viewer)?;
    if viewer.principal.is_platform_admin() || viewer.role_in(state, company).await?.is_some() {
        return Ok(());
    }
    Err(AppError::Forbidden("only the company's members follow its applications".into()))
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
