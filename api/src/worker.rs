//! Background work every replica runs inside `hiregraph serve`: for now, pruning events past
//! their retention. Each job is safe to run on any number of replicas at once.

use std::sync::Arc;
use std::time::Duration;

use crate::services::events;
use crate::state::{AppState, now};

/// How often the outbox is pruned.
const PRUNE_EVERY: Duration = Duration::from_secs(3600);

/// Starts the background jobs on the current runtime; they stop with it.
pub fn spawn(state: Arc<AppState>) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(PRUNE_EVERY);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tick.tick().await;
            match events::prune(&state, now()).await {
                Ok(0) => {}
                Ok(n) => {
                    state.metrics.events_pruned(n);
                    tracing::info!(events = n, "pruned events past their retention");
                }
                Err(err) => tracing::warn!(error = ?err, "pruning events failed; retrying at the next tick"),
            }
        }
    })
}
