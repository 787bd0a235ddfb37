//! Idempotency keys (Stripe's semantics): the first request a caller sends with a key runs, and
//! its answer is stored in the database for 24 hours; a retry with the same key and the same body
//! gets that answer again without running anything. The same key with another body is refused,
//! and a retry that arrives while the first still runs waits for its answer (at most `WAIT`).

use std::time::Duration;

use chrono::Utc;
use hiregraph_domain::Principal;
use hiregraph_persistence::idempotency as store;

use crate::error::AppResult;
use crate::state::{AppState, now};

/// How long a stored answer is replayed.
pub const RETENTION: chrono::Duration = chrono::Duration::hours(24);
/// How long a retry waits for the first request's answer before it is told `IN_PROGRESS`.
const WAIT: Duration = Duration::from_secs(5);
const POLL: Duration = Duration::from_millis(20);

/// A key the caller holds for this request: the answer is stored under it.
pub struct Claim {
    principal: String,
    key: String,
}

/// What to do with a request that carries a key.
pub enum Begun {
    /// Run it, then `finish` (or `abandon`).
    Run(Claim),
    /// It ran before: send this answer again.
    Replay { status: u16, body: String },
    /// The key was used for a different request.
    Reused,
    /// The first request with this key is still running.
    InProgress,
}

/// Whose keys these are: every caller has their own (anonymous callers have none).
pub fn owner(principal: &Principal) -> Option<String> {
    match principal {
        Principal::User { id, .. } => Some(format!("user:{id}")),
        Principal::Partner { app, .. } => Some(format!("partner:{app}")),
        Principal::Anonymous => None,
    }
}

/// Claims `key` for a request whose body hashes to `hash`, or says why it must not run.
pub async fn begin(state: &AppState, owner: String, key: &str, hash: &str) -> AppResult<Begun> {
    let db = &state.db.conn;
    let lease = chrono::Duration::from_std(state.settings.request_timeout + Duration::from_secs(5))
        .unwrap_or(chrono::Duration::seconds(60));
    let waited_until = tokio::time::Instant::now() + WAIT;
    loop {
        let at = now();
        if store::claim(&owner, key, hash, at, at + lease, db).await? {
            return Ok(Begun::Run(Claim { principal: owner, key: key.to_owned() }));
        }
        let Some(stored) = store::find(&owner, key, db).await? else { continue };
        if stored.created_at < at - RETENTION {
            // Past its 24 hours: the key is free again.
            store::release(&owner, key, db).await?;
            continue;
        }
        if stored.request_hash != hash {
            return Ok(Begun::Reused);
        }
        if let Some((status, body)) = stored.response {
            return Ok(Begun::Replay { status, body });
        }
        if stored.locked_until < Utc::now() {
            // Its first request stopped without an answer (its replica died): run it here.
            if store::take_over(&owner, key, stored.locked_until, at + lease, db).await? {
                return Ok(Begun::Run(Claim { principal: owner, key: key.to_owned() }));
            }
            continue;
        }
        if tokio::time::Instant::now() >= waited_until {
            return Ok(Begun::InProgress);
        }
        tokio::time::sleep(POLL).await;
    }
}

/// Stores the answer of a claimed request.
pub async fn finish(state: &AppState, claim: Claim, status: u16, body: &str) -> AppResult<()> {
    Ok(store::finish(&claim.principal, &claim.key, status, body, &state.db.conn).await?)
}

/// Frees a claim without an answer to replay (the request was not run to an end: over a rate
/// limit, out of time, the database away), so a retry runs it.
pub async fn abandon(state: &AppState, claim: Claim) -> AppResult<()> {
    Ok(store::release(&claim.principal, &claim.key, &state.db.conn).await?)
}

/// Deletes keys past their retention; returns how many.
pub async fn prune(state: &AppState) -> AppResult<u64> {
    Ok(store::prune(now() - RETENTION, &state.work_db.conn).await?)
}
