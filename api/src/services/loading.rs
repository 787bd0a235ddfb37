//! Cache-aside reads of shared entities: look in the cache, load the misses from the database in
//! one batch, store them back. Authorization happens after this, on every read.

use std::collections::HashMap;
use std::hash::Hash;
use std::sync::Arc;

use hiregraph_domain::companies::Company;
use hiregraph_domain::postings::Posting;
use hiregraph_domain::{CompanyId, PostingId};
use hiregraph_persistence::cache::CacheKey;
use hiregraph_persistence::{StoreError, companies, postings};
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::error::AppResult;
use crate::state::AppState;

async fn read_through<K, T, Fut>(
    state: &AppState,
    ids: &[K],
    key: impl Fn(K) -> CacheKey,
    id_of: impl Fn(&T) -> K,
    load: impl FnOnce(Vec<K>) -> Fut,
) -> AppResult<HashMap<K, Arc<T>>>
where
    K: Copy + Eq + Hash,
    T: Serialize + DeserializeOwned,
    Fut: std::future::Future<Output = Result<Vec<T>, StoreError>>,
{
    let keys: Vec<CacheKey> = ids.iter().map(|id| key(*id)).collect();
    let cached: Vec<Option<T>> = state.cache.get_many(&keys).await;
    let mut found: HashMap<K, Arc<T>> = HashMap::with_capacity(ids.len());
    let mut missing = Vec::new();
    for (id, value) in ids.iter().zip(cached) {
        match value {
            Some(value) => {
                found.insert(*id, Arc::new(value));
            }
            None => missing.push(*id),
        }
    }
    if !missing.is_empty() {
        let loaded = load(missing).await?;
        let entries: Vec<(CacheKey, &T)> = loaded.iter().map(|v| (key(id_of(v)), v)).collect();
        state.cache.put_many(&entries).await;
        for value in loaded {
            found.insert(id_of(&value), Arc::new(value));
        }
    }
    Ok(found)
}

pub async fn postings_by_id(state: &AppState, ids: &[PostingId]) -> AppResult<HashMap<PostingId, Arc<Posting>>> {
    read_through(
        state,
        ids,
        CacheKey::Posting,
        |p: &Posting| p.id,
        |missing| async move { postings::find_by_ids(&missing, &state.db.conn).await },
    )
    .await
}

pub async fn companies_by_id(state: &AppState, ids: &[CompanyId]) -> AppResult<HashMap<CompanyId, Arc<Company>>> {
    read_through(
        state,
        ids,
        CacheKey::Company,
        |c: &Company| c.id,
        |missing| async move { companies::find_by_ids(&missing, &state.db.conn).await },
    )
    .await
}

pub async fn posting(state: &AppState, id: PostingId) -> AppResult<Option<Arc<Posting>>> {
    Ok(postings_by_id(state, &[id]).await?.remove(&id))
}

pub async fn company(state: &AppState, id: CompanyId) -> AppResult<Option<Arc<Company>>> {
    Ok(companies_by_id(state, &[id]).await?.remove(&id))
}
