//! Cache-aside reads of shared entities: look in the cache, load the misses from the database in
//! one batch, store them back. Concurrent misses of one key in this process load it once (single
//! flight). Authorization happens after this, on every read, so a cached value never widens what
//! a caller sees.

use std::any::Any;
use std::collections::HashMap;
use std::hash::{Hash, Hasher};
use std::sync::Arc;

use hiregraph_domain::accounts::User;
use hiregraph_domain::applications::{Application, ApplicationEvent, ApplicationNote, ApplicationStatus};
use hiregraph_domain::candidates::CandidateProfile;
use hiregraph_domain::companies::{Company, Membership};
use hiregraph_domain::postings::Posting;
use hiregraph_domain::{ApplicationId, CandidateId, CompanyId, PostingId, UserId};
use hiregraph_persistence::cache::{Cache, CacheKey, Claim, Generation, Landed};
use hiregraph_persistence::page::{Page, PageRequest};
use hiregraph_persistence::postings::{FeedHit, WithCompanies};
use hiregraph_persistence::{StoreError, applications, candidates, companies, postings, users};
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::error::AppResult;
use crate::state::{AppState, now};

/// How one entity kind is read through the cache.
struct Spec<K, T, L, P, C> {
    key: fn(K) -> CacheKey,
    id_of: fn(&T) -> K,
    load: L,
    /// What callers get from a database load (e.g. a profile without its contact fields).
    project: P,
    /// Whether a value may go into the shared cache.
    cacheable: C,
}

async fn read_through<K, T, L, Fut, P, C>(
    cache: &Cache,
    ids: &[K],
    spec: Spec<K, T, L, P, C>,
) -> AppResult<HashMap<K, Arc<T>>>
where
    K: Copy + Eq + Hash,
    T: Serialize + DeserializeOwned + Send + Sync + 'static,
    L: Fn(Vec<K>) -> Fut,
    Fut: std::future::Future<Output = Result<Vec<T>, StoreError>>,
    P: Fn(T) -> T,
    C: Fn(&T) -> bool,
{
    let mut unique: Vec<K> = Vec::with_capacity(ids.len());
    for id in ids {
        if !unique.contains(id) {
            unique.push(*id);
        }
    }
    let keys: Vec<CacheKey> = unique.iter().map(|id| (spec.key)(*id)).collect();
    let cached: Vec<Option<T>> = cache.get_many(&keys).await;
    let mut found: HashMap<K, Arc<T>> = HashMap::with_capacity(unique.len());
    let mut owned = Vec::new();
    let mut waiting = Vec::new();
    for (id, value) in unique.iter().zip(cached) {
        match value {
            Some(value) => {
                found.insert(*id, Arc::new(value));
            }
            None => match cache.claim((spec.key)(*id)) {
                Claim::Owner(guard) => owned.push((*id, guard)),
                Claim::Waiter(flight) => waiting.push((*id, flight)),
            },
        }
    }
    let load_and_store = |ids: Vec<K>| async {
        let loaded: Vec<T> = (spec.load)(ids).await?.into_iter().map(&spec.project).collect();
        let entries: Vec<(CacheKey, &T)> =
            loaded.iter().filter(|v| (spec.cacheable)(v)).map(|v| ((spec.key)((spec.id_of)(v)), v)).collect();
        cache.put_many(&entries).await;
        Ok::<_, StoreError>(loaded.into_iter().map(|v| ((spec.id_of)(&v), Arc::new(v))).collect::<HashMap<K, Arc<T>>>())
    };
    if !owned.is_empty() {
        // A failed load drops the guards, which tells waiters to load for themselves.
        let loaded = load_and_store(owned.iter().map(|(id, _)| *id).collect()).await?;
        for (id, guard) in owned {
            guard.land(match loaded.get(&id) {
                Some(value) => Landed::Found(value.clone() as Arc<dyn Any + Send + Sync>),
                None => Landed::Missing,
            });
        }
        found.extend(loaded);
    }
    let mut retry = Vec::new();
    for (id, flight) in waiting {
        match flight.wait().await {
            Landed::Found(value) => match value.downcast::<T>() {
                Ok(value) => {
                    found.insert(id, value);
                }
                Err(_) => retry.push(id),
            },
            Landed::Missing => {}
            Landed::Failed => retry.push(id),
        }
    }
    if !retry.is_empty() {
        found.extend(load_and_store(retry).await?);
    }
    Ok(found)
}

pub async fn postings_by_id(state: &AppState, ids: &[PostingId]) -> AppResult<HashMap<PostingId, Arc<Posting>>> {
    Ok(postings_with_companies(state, ids).await?.0)
}

/// Postings by id through the cache, and the companies of those the database read (joined in the
/// same statement), for the request to use rather than read again.
pub async fn postings_with_companies(
    state: &AppState,
    ids: &[PostingId],
) -> AppResult<(HashMap<PostingId, Arc<Posting>>, Vec<Company>)> {
    let companies = std::sync::Mutex::new(Vec::new());
    let spec = Spec {
        key: CacheKey::Posting,
        id_of: |p: &Posting| p.id,
        load: |missing: Vec<PostingId>| {
            let companies = &companies;
            async move {
                let found = postings::find_with_companies(&missing, &state.db.conn).await?;
                if let Ok(mut list) = companies.lock() {
                    list.extend(found.companies);
                }
                Ok(found.postings)
            }
        },
        project: |p| p,
        cacheable: |_: &Posting| true,
    };
    let found = read_through(&state.cache, ids, spec).await?;
    Ok((found, companies.into_inner().unwrap_or_default()))
}

pub async fn companies_by_id(state: &AppState, ids: &[CompanyId]) -> AppResult<HashMap<CompanyId, Arc<Company>>> {
    let spec = Spec {
        key: CacheKey::Company,
        id_of: |c: &Company| c.id,
        load: |missing: Vec<CompanyId>| async move { companies::find_by_ids(&missing, &state.db.conn).await },
        project: |c| c,
        cacheable: |_: &Company| true,
    };
    read_through(&state.cache, ids, spec).await
}

/// Profiles without their contact fields and desired salary, which are never cached and are read
/// on their own, after authorization (`contacts_by_id`). Only public profiles are cached.
pub async fn candidates_by_id(
    state: &AppState,
    ids: &[CandidateId],
) -> AppResult<HashMap<CandidateId, Arc<CandidateProfile>>> {
    let spec = Spec {
        key: CacheKey::Candidate,
        id_of: |c: &CandidateProfile| c.id,
        load: |missing: Vec<CandidateId>| async move { candidates::find_by_ids(&missing, &state.db.conn).await },
        project: |mut c: CandidateProfile| {
            c.content.contact_email = None;
            c.content.contact_phone = None;
            c.content.desired_salary = None;
            c
        },
        cacheable: |c: &CandidateProfile| c.content.visibility == hiregraph_domain::candidates::Visibility::Public,
    };
    read_through(&state.cache, ids, spec).await
}

/// The private fields of profiles, straight from the database; call only once authorized.
pub async fn contacts_by_id(
    state: &AppState,
    ids: &[CandidateId],
) -> AppResult<HashMap<CandidateId, Arc<CandidateProfile>>> {
    let list = candidates::find_by_ids(ids, &state.db.conn).await?;
    Ok(list.into_iter().map(|c| (c.id, Arc::new(c))).collect())
}

pub async fn posting(state: &AppState, id: PostingId) -> AppResult<Option<Arc<Posting>>> {
    Ok(postings_by_id(state, &[id]).await?.remove(&id))
}

pub async fn company(state: &AppState, id: CompanyId) -> AppResult<Option<Arc<Company>>> {
    Ok(companies_by_id(state, &[id]).await?.remove(&id))
}

/// A stable hash of a list query's shape, for its cache key.
pub fn shape_hash(shape: &impl std::fmt::Debug) -> u64 {
    let mut hasher = std::collections::hash_map::DefaultHasher::new();
    format!("{shape:?}").hash(&mut hasher);
    hasher.finish()
}

/// A public list result through the cache, keyed under the feed generation, so any posting write
/// forgets every cached page at once. Without a generation (the cache is down) it reads the
/// database and caches nothing.
pub async fn feed_cached<T, Fut>(
    state: &AppState,
    key: impl Fn(u64) -> CacheKey,
    fresh: impl Fn(&T) -> bool,
    load: impl FnOnce() -> Fut,
) -> AppResult<T>
where
    T: Serialize + DeserializeOwned,
    Fut: std::future::Future<Output = Result<T, StoreError>>,
{
    let Some(generation) = state.cache.generation(Generation::Feed).await else {
        return Ok(load().await?);
    };
    let key = key(generation);
    if let Some(Some(hit)) = state.cache.get_many::<T>(&[key]).await.pop()
        && fresh(&hit)
    {
        return Ok(hit);
    }
    let value = load().await?;
    state.cache.put_many(&[(key, &value)]).await;
    Ok(value)
}

/// A page of feed hits (ids with their relevance) through the cache, and the postings the
/// database returned with them when the page was not cached (they go into the cache too, so the
/// next reader of the page finds them there).
pub async fn feed_page(
    state: &AppState,
    shape: u64,
    load: impl std::future::Future<Output = Result<(Page<FeedHit>, WithCompanies), StoreError>>,
) -> AppResult<(Page<FeedHit>, WithCompanies)> {
    let mut rows = WithCompanies::default();
    let loaded = &mut rows;
    // A page whose postings expired meanwhile is still a valid keyset page: lists drop expired
    // postings as they show them.
    let page = feed_cached(
        state,
        |g| CacheKey::FeedPage(g, shape),
        |_| true,
        move || async move {
            let (page, postings) = load.await?;
            *loaded = postings;
            Ok(page)
        },
    )
    .await?;
    if !rows.postings.is_empty() {
        let entries: Vec<(CacheKey, &Posting)> = rows.postings.iter().map(|p| (CacheKey::Posting(p.id), p)).collect();
        state.cache.put_many(&entries).await;
    }
    Ok((page, rows))
}

// ---------------------------------------------------------------------------------------------
// Batched reads behind the per-request loaders and the lists' counts: the GraphQL layer reads
// through these, never through a connection of its own.

pub async fn users_by_id(state: &AppState, ids: &[UserId]) -> AppResult<Vec<User>> {
    Ok(users::find_by_ids(ids, &state.db.conn).await?)
}

pub async fn applications_by_id(state: &AppState, ids: &[ApplicationId]) -> AppResult<Vec<Application>> {
    Ok(applications::find_by_ids(ids, &state.db.conn).await?)
}

pub async fn application_events(
    state: &AppState,
    ids: &[ApplicationId],
) -> AppResult<HashMap<ApplicationId, Vec<ApplicationEvent>>> {
    Ok(applications::events_of(ids, &state.db.conn).await?)
}

pub async fn application_notes(
    state: &AppState,
    ids: &[ApplicationId],
) -> AppResult<HashMap<ApplicationId, Vec<ApplicationNote>>> {
    Ok(applications::notes_of(ids, &state.db.conn).await?)
}

/// Applications per status of each posting, in one grouped statement.
pub async fn pipeline_counts(
    state: &AppState,
    ids: &[PostingId],
) -> AppResult<HashMap<PostingId, Vec<(ApplicationStatus, u64)>>> {
    Ok(applications::pipeline_counts(ids, &state.db.conn).await?)
}

/// Which of `candidates` applied to one of `companies`.
pub async fn applied_to_any(
    state: &AppState,
    candidates: &[CandidateId],
    companies: &[CompanyId],
) -> AppResult<Vec<CandidateId>> {
    Ok(applications::applied_to_any(candidates, companies, &state.db.conn).await?)
}

/// One page of the public feed (cached by `shape`), with its companies.
pub async fn feed(
    state: &AppState,
    shape: u64,
    filter: &postings::FeedFilter,
    order: postings::FeedOrder,
    request: &PageRequest,
) -> AppResult<(Page<FeedHit>, WithCompanies)> {
    let read = async {
        let near = crate::services::semantic::near(state, &filter.text);
        if crate::services::semantic::answers(state, filter)
            && let Some(page) = state.semantic.feed_page(filter, &near, order, request, now())
        {
            let ids: Vec<PostingId> = page.items.iter().map(|(hit, _)| hit.id).collect();
            return Ok((page, postings::find_with_companies(&ids, &state.db.conn).await?));
        }
        postings::feed(filter, &near, order, request, now(), &state.db.conn).await
    };
    feed_page(state, shape, read).await
}

/// The feed's `totalCount`, cached until the next counted posting expires.
pub async fn feed_count(state: &AppState, filter: &postings::FeedFilter) -> AppResult<u64> {
    let shape = shape_hash(filter);
    let (count, _) = feed_cached(
        state,
        |g| CacheKey::FeedCount(g, shape),
        |(_, next): &(u64, Option<chrono::DateTime<chrono::Utc>>)| next.is_none_or(|at| at > now()),
        || async {
            let near = crate::services::semantic::near(state, &filter.text);
            if crate::services::semantic::answers(state, filter)
                && let Some(counted) = state.semantic.feed_count(filter, &near, now())
            {
                return Ok(counted);
            }
            postings::feed_count(filter, &near, now(), &state.db.conn).await
        },
    )
    .await?;
    Ok(count)
}

/// When a search of the feed finds nothing: up to three other queries that would find something,
/// each with one word nobody uses corrected to the closest known word, or with one word left out;
/// checked by counting, so only queries with results are offered. Empty when the search finds
/// postings or has no words. At most eight counts, and only on the way to an empty result.
pub async fn feed_suggestions(state: &AppState, filter: &postings::FeedFilter) -> AppResult<Vec<String>> {
    if filter.text.is_empty() || feed_count(state, filter).await? > 0 {
        return Ok(Vec::new());
    }
    let words: Vec<&str> = filter.text.terms.iter().filter_map(|t| t.spellings.first()).map(String::as_str).collect();
    let mut tries: Vec<String> = Vec::new();
    for (i, word) in words.iter().enumerate() {
        for fixed in hiregraph_persistence::embedding::closest_known(word, 3) {
            let mut query = words.clone();
            query[i] = fixed;
            tries.push(query.join(" "));
        }
    }
    if words.len() > 1 {
        for i in 0..words.len() {
            let mut query = words.clone();
            query.remove(i);
            tries.push(query.join(" "));
        }
    }
    let mut found: Vec<String> = Vec::new();
    for query in tries.into_iter().take(8) {
        let Ok(text) = hiregraph_domain::search::parse_query(&query) else { continue };
        if text.is_empty() || found.contains(&query) {
            continue;
        }
        if feed_count(state, &postings::FeedFilter { text, ..filter.clone() }).await? > 0 {
            found.push(query);
            if found.len() == 3 {
                break;
            }
        }
    }
    Ok(found)
}

/// The feed's facet counts, cached like its count.
pub async fn feed_facets(state: &AppState, filter: &postings::FeedFilter) -> AppResult<postings::Facets> {
    let shape = shape_hash(filter);
    let (facets, _) = feed_cached(
        state,
        |g| CacheKey::FeedFacets(g, shape),
        |(_, next): &(postings::Facets, Option<chrono::DateTime<chrono::Utc>>)| next.is_none_or(|at| at > now()),
        || async {
            let near = crate::services::semantic::near(state, &filter.text);
            if crate::services::semantic::answers(state, filter)
                && let Some(facets) = state.semantic.feed_facets(filter, &near, now())
            {
                return Ok(facets);
            }
            postings::feed_facets(filter, &near, now(), &state.db.conn).await
        },
    )
    .await?;
    Ok(facets)
}

/// A company's postings in `scope` (the caller decided the scope from the viewer's role).
pub async fn company_postings(
    state: &AppState,
    id: CompanyId,
    scope: postings::CompanyScope,
    request: &PageRequest,
) -> AppResult<Page<Posting>> {
    Ok(postings::company_postings(id, scope, request, now(), &state.db.conn).await?)
}

/// `company_postings`, each posting with its applications per status, in the same statement (the
/// caller checked the viewer may see the company's applications).
pub async fn company_postings_with_pipelines(
    state: &AppState,
    id: CompanyId,
    scope: postings::CompanyScope,
    request: &PageRequest,
) -> AppResult<Page<(Posting, postings::Pipeline)>> {
    Ok(postings::company_postings_with_pipelines(id, scope, request, now(), &state.db.conn).await?)
}

pub async fn company_postings_count(state: &AppState, id: CompanyId, scope: postings::CompanyScope) -> AppResult<u64> {
    Ok(postings::company_postings_count(id, scope, now(), &state.db.conn).await?)
}

pub async fn posting_id_by_slug(state: &AppState, slug: &str) -> AppResult<Option<PostingId>> {
    Ok(postings::find_id_by_slug(slug, &state.db.conn).await?)
}

/// A company by its slug. The cache keeps which company a slug names (slugs never change and
/// companies are never deleted) beside the company's own entry, so a company page read twice
/// costs no statement for its company.
pub async fn company_by_slug(state: &AppState, slug: &str) -> AppResult<Option<Arc<Company>>> {
    let key = CacheKey::CompanySlug({
        let mut hasher = std::collections::hash_map::DefaultHasher::new();
        slug.hash(&mut hasher);
        hasher.finish()
    });
    if let Some(Some((named, id))) = state.cache.get_many::<(String, CompanyId)>(&[key]).await.pop()
        && named == slug
        && let Some(company) = company(state, id).await?
    {
        return Ok(Some(company));
    }
    let Some(found) = companies::find_by_slug(slug, &state.db.conn).await? else { return Ok(None) };
    state.cache.put_many(&[(key, &(slug, found.id))]).await;
    state.cache.put_many(&[(CacheKey::Company(found.id), &found)]).await;
    Ok(Some(Arc::new(found)))
}

pub async fn companies_page(state: &AppState, request: &PageRequest) -> AppResult<Page<CompanyId>> {
    Ok(companies::list(request, &state.db.conn).await?)
}

pub async fn companies_count(state: &AppState) -> AppResult<u64> {
    Ok(companies::count(&state.db.conn).await?)
}

/// A user's memberships (the caller checked it is the viewer or an admin).
pub async fn memberships_of(state: &AppState, user: UserId) -> AppResult<Vec<Membership>> {
    Ok(companies::memberships_of(user, &state.db.conn).await?)
}

/// A posting's applications, newest first (the caller checked the viewer may list them).
pub async fn posting_applications(
    state: &AppState,
    posting: PostingId,
    statuses: &[ApplicationStatus],
    request: &PageRequest,
) -> AppResult<Page<ApplicationId>> {
    Ok(applications::for_posting(posting, statuses, request, &state.db.conn).await?)
}

/// A candidate's applications, newest first (the caller checked it is the candidate).
pub async fn candidate_applications(
    state: &AppState,
    candidate: CandidateId,
    request: &PageRequest,
) -> AppResult<Page<ApplicationId>> {
    Ok(applications::for_candidate(candidate, request, &state.db.conn).await?)
}

pub async fn candidate_applications_count(state: &AppState, candidate: CandidateId) -> AppResult<u64> {
    Ok(applications::count_for_candidate(candidate, &state.db.conn).await?)
}

/// One move of an application (the caller checks the application).
pub async fn application_event(state: &AppState, id: uuid::Uuid) -> AppResult<Option<ApplicationEvent>> {
    Ok(applications::find_event(id, &state.db.conn).await?)
}

/// How many listed profiles match a search the service already scoped.
pub async fn candidates_count(state: &AppState, filter: &candidates::CandidateFilter) -> AppResult<u64> {
    Ok(candidates::search_count(filter, &state.db.conn).await?)
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};

    use super::*;

    #[tokio::test]
    async fn concurrent_misses_of_one_key_load_it_once() {
        let cache = Cache::in_memory("t", 100);
        let loads = AtomicUsize::new(0);
        let id = CompanyId::generate();
        let ids = [id, id];
        let read = || {
            let spec = Spec {
                key: CacheKey::Company,
                id_of: |c: &(CompanyId, String)| c.0,
                load: |ids: Vec<CompanyId>| {
                    let loads = &loads;
                    async move {
                        loads.fetch_add(1, Ordering::SeqCst);
                        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
                        Ok(ids.into_iter().map(|i| (i, "loaded".to_owned())).collect())
                    }
                },
                project: |c| c,
                cacheable: |_: &(CompanyId, String)| false,
            };
            read_through(&cache, &ids, spec)
        };
        let results = futures_util::future::join_all((0..10).map(|_| read())).await;
        assert_eq!(loads.load(Ordering::SeqCst), 1, "ten concurrent misses, one load");
        for result in results {
            assert_eq!(result.unwrap()[&id].1, "loaded");
        }
        // Nothing is in flight any more: the next miss loads again (the value was not cacheable).
        read().await.unwrap();
        assert_eq!(loads.load(Ordering::SeqCst), 2);
    }
}
