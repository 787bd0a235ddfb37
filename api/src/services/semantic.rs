//! Keeping this replica's semantic search index fresh, and asking it.
//!
//! The index (`persistence::semantic`) starts empty and reads every posting at start; from then
//! on it reads the postings that the outbox's posting events name, as soon as this replica commits
//! a posting change and at least every `HIREGRAPH_WORKER_POLL_MS` for the other replicas' changes. It reads on the worker's pool, so
//! it never takes a connection from a request nor shows in a request's statement count.

use std::sync::Arc;

use hiregraph_domain::search::TextQuery;
use hiregraph_persistence::semantic::Near;

use crate::state::AppState;

/// Refreshes the index until the returned task is aborted.
pub fn spawn_refresher(state: Arc<AppState>) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut failing = false;
        loop {
            let started = std::time::Instant::now();
            match state.semantic.refresh(&state.work_db.conn).await {
                Ok(read) => {
                    if failing {
                        tracing::info!("the semantic search index reads postings again");
                        failing = false;
                    }
                    if read > 1_000 {
                        let (postings, bytes) = state.semantic.size();
                        tracing::info!(
                            read,
                            postings,
                            bytes,
                            millis = started.elapsed().as_millis() as u64,
                            "semantic search index refreshed"
                        );
                    }
                }
                Err(err) => {
                    if !failing {
                        tracing::warn!(error = ?err, "the semantic search index cannot read postings; search uses words alone until it can");
                        failing = true;
                    }
                }
            }
            tokio::select! {
                _ = state.search_wake.notified() => {}
                _ = tokio::time::sleep(state.settings.worker_poll) => {}
            }
        }
    })
}

/// The postings near a text query by meaning (none without words, or with
/// `HIREGRAPH_SEMANTIC_SEARCH=false`).
pub fn near(state: &AppState, text: &TextQuery) -> Arc<[Near]> {
    if text.is_empty() || !state.settings.semantic_search { Arc::from([]) } else { state.semantic.nearest(text) }
}
