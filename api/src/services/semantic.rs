//! Keeping this replica's semantic search index and talent index (listed candidates, for
//! matching) fresh, and asking the first.
//!
//! The index (`persistence::semantic`) starts empty and reads every posting at start; from then
//! on it reads the postings that the outbox's posting events name, as soon as this replica commits
//! a posting change (the talent index likewise with profiles) and at least every `HIREGRAPH_WORKER_POLL_MS` for the other replicas' changes. It reads on the worker's pool, so
//! it never takes a connection from a request nor shows in a request's statement count.

use std::sync::Arc;
use std::sync::atomic::Ordering;

use hiregraph_domain::search::TextQuery;
use hiregraph_persistence::postings::FeedFilter;
use hiregraph_persistence::semantic::Near;

use crate::state::AppState;

/// Refreshes the index until the returned task is aborted.
pub fn spawn_refresher(state: Arc<AppState>) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut failing = false;
        loop {
            let started = std::time::Instant::now();
            let refreshed = match state.semantic.refresh(&state.work_db.conn).await {
                Ok(postings) => state.talent.refresh(&state.work_db.conn).await.map(|candidates| postings + candidates),
                Err(err) => Err(err),
            };
            match refreshed {
                Ok(read) => {
                    if failing {
                        tracing::info!("the semantic search and talent indexes read again");
                        failing = false;
                    }
                    if read > 1_000 {
                        let (postings, bytes) = state.semantic.size();
                        tracing::info!(
                            read,
                            postings,
                            bytes,
                            candidates = state.talent.size(),
                            millis = started.elapsed().as_millis() as u64,
                            "semantic search index refreshed"
                        );
                    }
                }
                Err(err) => {
                    if !failing {
                        tracing::warn!(error = ?err, "the semantic search or talent index cannot read; search uses words alone and matching the database until it can");
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

/// Whether a search of the feed is answered from this replica's index rather than the
/// database: it has words, meaning is on, and the index has read every posting change this
/// replica committed (other replicas' changes arrive within `HIREGRAPH_WORKER_POLL_MS`, as they
/// do in the cache).
pub fn answers(state: &AppState, filter: &FeedFilter) -> bool {
    !filter.text.is_empty()
        && state.settings.semantic_search
        && state.semantic.position().is_some_and(|at| at >= state.search_written.load(Ordering::Acquire))
}

/// The postings near a text query by meaning (none without words, or with
/// `HIREGRAPH_SEMANTIC_SEARCH=false`).
pub fn near(state: &AppState, text: &TextQuery) -> Arc<[Near]> {
    if text.is_empty() || !state.settings.semantic_search { Arc::from([]) } else { state.semantic.nearest(text) }
}
