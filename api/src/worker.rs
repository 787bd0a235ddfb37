//! Background work every replica runs inside `hiregraph serve` (or alone as `hiregraph worker`):
//! relaying committed events into webhook deliveries and onto the live bus, attempting due deliveries, announcing
//! postings that expired (`posting.expired`), reading the backlog for `/metrics`, pruning events
//! past their retention. Every job is safe on any number of
//! replicas at once: the relay's place and each delivery are claimed in the database (`FOR UPDATE
//! SKIP LOCKED` on Postgres), and a killed replica's claims expire for another to take.

use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::sync::watch;

use crate::services::{events, postings, webhooks};
use crate::state::{AppState, now};

/// How often the outbox is pruned and the backlog read.
const PRUNE_EVERY: Duration = Duration::from_secs(3600);
const BACKLOG_EVERY: Duration = Duration::from_secs(5);
/// Expired postings are looked for every this many polls (10 s at the default poll).
const EXPIRY_EVERY_POLLS: u32 = 20;
/// Deliveries attempted at once by one worker.
const CONCURRENT_DELIVERIES: u64 = 16;

/// A running worker; `stop` lets in-flight deliveries finish, then ends it.
/// Dropped without `stop` (the process is going down hard), it ends at once, as a killed
/// replica's would: its claims expire and another worker retries them.
pub struct Worker {
    stop: watch::Sender<bool>,
    task: Option<tokio::task::JoinHandle<()>>,
    relay: Option<tokio::task::JoinHandle<()>>,
}

impl Worker {
    pub fn spawn(state: Arc<AppState>) -> Self {
        let (stop, stopped) = watch::channel(false);
        // The relay runs apart, so live events never wait behind a slow webhook receiver.
        let relay = tokio::spawn(relay(state.clone(), stopped.clone()));
        let task = tokio::spawn(run(state, stopped));
        Self { stop, task: Some(task), relay: Some(relay) }
    }

    /// Stops claiming work and waits (at most `grace`) for the attempts in flight; an attempt
    /// cut off then is retried by any worker once its lease runs out.
    pub async fn stop(mut self, grace: Duration) {
        let _ = self.stop.send(true);
        for mut task in [self.relay.take(), self.task.take()].into_iter().flatten() {
            if tokio::time::timeout(grace, &mut task).await.is_err() {
                task.abort();
            }
        }
    }
}

impl Drop for Worker {
    fn drop(&mut self) {
        for task in [self.relay.take(), self.task.take()].into_iter().flatten() {
            task.abort();
        }
    }
}

/// Relays committed events into deliveries and onto the live bus: at once when this process
/// commits, and every poll for the other replicas' commits.
async fn relay(state: Arc<AppState>, mut stopped: watch::Receiver<bool>) {
    let mut quiet_errors = QuietErrors::default();
    loop {
        if *stopped.borrow() {
            return;
        }
        match webhooks::relay(&state).await {
            Ok(_) => quiet_errors.ok("relaying events"),
            Err(err) => quiet_errors.report("relaying events", &err),
        }
        tokio::select! {
            _ = stopped.changed() => return,
            _ = state.relay_wake.notified() => {}
            _ = tokio::time::sleep(state.settings.worker_poll) => {}
        }
    }
}

async fn run(state: Arc<AppState>, mut stopped: watch::Receiver<bool>) {
    let mut last_prune: Option<Instant> = None;
    let mut last_backlog: Option<Instant> = None;
    let mut last_expiry: Option<Instant> = None;
    let mut quiet_errors = QuietErrors::default();
    loop {
        if *stopped.borrow() {
            return;
        }
        let attempted = match webhooks::deliver_due(&state, CONCURRENT_DELIVERIES).await {
            Ok(n) => {
                quiet_errors.ok("delivering webhooks");
                n
            }
            Err(err) => {
                quiet_errors.report("delivering webhooks", &err);
                0
            }
        };
        if last_backlog.is_none_or(|at| at.elapsed() >= BACKLOG_EVERY) {
            last_backlog = Some(Instant::now());
            match hiregraph_persistence::webhooks::backlog(&state.work_db.conn).await {
                Ok(backlog) => state.metrics.set_backlog(backlog),
                Err(err) => quiet_errors.report("reading the webhook backlog", &err.into()),
            }
        }
        if last_expiry.is_none_or(|at| at.elapsed() >= state.settings.worker_poll * EXPIRY_EVERY_POLLS) {
            last_expiry = Some(Instant::now());
            match postings::announce_expired(&state).await {
                Ok(_) => quiet_errors.ok("announcing expired postings"),
                Err(err) => quiet_errors.report("announcing expired postings", &err),
            }
        }
        if last_prune.is_none_or(|at| at.elapsed() >= PRUNE_EVERY) {
            last_prune = Some(Instant::now());
            match events::prune(&state, now()).await {
                Ok(0) => {}
                Ok(n) => {
                    state.metrics.events_pruned(n);
                    tracing::info!(events = n, "pruned events past their retention");
                }
                Err(err) => quiet_errors.report("pruning events", &err),
            }
            match crate::services::idempotency::prune(&state).await {
                Ok(n) if n > 0 => tracing::info!(keys = n, "pruned idempotency keys past 24 hours"),
                Ok(_) => {}
                Err(err) => quiet_errors.report("pruning idempotency keys", &err),
            }
        }
        if attempted as u64 == CONCURRENT_DELIVERIES {
            continue; // more may be due at once
        }
        tokio::select! {
            _ = stopped.changed() => return,
            _ = state.wake.notified() => {}
            _ = tokio::time::sleep(state.settings.worker_poll) => {}
        }
    }
}

/// Logs a failing job once, and again when it recovers, not on every poll.
#[derive(Default)]
struct QuietErrors {
    failing: std::collections::HashSet<&'static str>,
}

impl QuietErrors {
    fn report(&mut self, job: &'static str, err: &crate::error::AppError) {
        if self.failing.insert(job) {
            tracing::warn!(error = ?err, "{job} failed; the worker keeps retrying");
        }
    }

    fn ok(&mut self, job: &'static str) {
        if self.failing.remove(job) {
            tracing::info!("{job} works again");
        }
    }
}
