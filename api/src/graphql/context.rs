//! What resolvers take from the context: the shared state, the viewer, the per-request loaders.

use std::collections::HashMap;
use std::sync::Arc;

use async_graphql::Context;
use async_graphql::dataloader::{DataLoader, HashMapCache, Loader};
use hiregraph_domain::accounts::User;
use hiregraph_domain::applications::{Application, ApplicationEvent, ApplicationNote, ApplicationStatus};
use hiregraph_domain::candidates::CandidateProfile;
use hiregraph_domain::companies::Company;
use hiregraph_domain::ids::PartnerAppId;
use hiregraph_domain::partners::ApiKey;
use hiregraph_domain::postings::Posting;
use hiregraph_domain::{ApplicationId, CandidateId, CompanyId, PostingId, UserId};

use crate::error::AppError;
use crate::services::loading;
use crate::state::{AppState, Viewer};

pub fn state<'a>(ctx: &Context<'a>) -> &'a Arc<AppState> {
    ctx.data_unchecked::<Arc<AppState>>()
}

pub fn viewer<'a>(ctx: &Context<'a>) -> &'a Arc<Viewer> {
    ctx.data_unchecked::<Arc<Viewer>>()
}

pub fn loader<'a>(ctx: &Context<'a>) -> &'a DataLoader<EntityLoader, HashMapCache> {
    ctx.data_unchecked::<DataLoader<EntityLoader, HashMapCache>>()
}

/// Batches by-id loads within one request. Built per request, so nothing is shared between
/// callers beyond the cache, whose entries are checked for visibility on every read. In a query
/// it also remembers what it loaded (and what a list fed it), so one entity is read once per
/// request; in a mutation it does not, so a field after a write never sees the value before it.
pub struct EntityLoader {
    pub state: Arc<AppState>,
    /// Whether this request may reuse what it read (queries; see `new_loader`).
    remember: bool,
    /// Companies read along with postings in this request (a join), found here before the
    /// company loader reads any.
    companies: std::sync::Mutex<HashMap<CompanyId, Arc<Company>>>,
}

impl EntityLoader {
    /// Keeps companies the request read with something else, for its company loads.
    pub fn prime_companies(&self, list: impl IntoIterator<Item = Company>) {
        if !self.remember {
            return;
        }
        if let Ok(mut primed) = self.companies.lock() {
            for company in list {
                primed.entry(company.id).or_insert_with(|| Arc::new(company));
            }
        }
    }
}

/// Loader errors must be `Clone`; this carries the rendered `AppError`.
#[derive(Clone, Debug)]
pub struct LoadError(pub Arc<async_graphql::Error>);

impl From<AppError> for LoadError {
    fn from(err: AppError) -> Self {
        Self(Arc::new(err.into()))
    }
}

impl From<LoadError> for async_graphql::Error {
    fn from(err: LoadError) -> Self {
        (*err.0).clone()
    }
}

impl Loader<PostingId> for EntityLoader {
    type Value = Arc<Posting>;
    type Error = LoadError;

    async fn load(&self, keys: &[PostingId]) -> Result<HashMap<PostingId, Self::Value>, Self::Error> {
        let (found, companies) = loading::postings_with_companies(&self.state, keys).await?;
        self.prime_companies(companies);
        Ok(found)
    }
}

impl Loader<CompanyId> for EntityLoader {
    type Value = Arc<Company>;
    type Error = LoadError;

    async fn load(&self, keys: &[CompanyId]) -> Result<HashMap<CompanyId, Self::Value>, Self::Error> {
        let mut found = HashMap::with_capacity(keys.len());
        let mut missing = Vec::new();
        if let Ok(primed) = self.companies.lock() {
            for key in keys {
                match primed.get(key) {
                    Some(company) => {
                        found.insert(*key, company.clone());
                    }
                    None => missing.push(*key),
                }
            }
        }
        if !missing.is_empty() {
            found.extend(loading::companies_by_id(&self.state, &missing).await?);
        }
        Ok(found)
    }
}

impl Loader<UserId> for EntityLoader {
    type Value = Arc<User>;
    type Error = LoadError;

    async fn load(&self, keys: &[UserId]) -> Result<HashMap<UserId, Self::Value>, Self::Error> {
        let list = loading::users_by_id(&self.state, keys).await?;
        Ok(list.into_iter().map(|u| (u.id, Arc::new(u))).collect())
    }
}

impl Loader<CandidateId> for EntityLoader {
    type Value = Arc<CandidateProfile>;
    type Error = LoadError;

    async fn load(&self, keys: &[CandidateId]) -> Result<HashMap<CandidateId, Self::Value>, Self::Error> {
        Ok(loading::candidates_by_id(&self.state, keys).await?)
    }
}

/// A profile with its private fields, from the database: load only once authorized.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct ContactOf(pub CandidateId);

impl Loader<ContactOf> for EntityLoader {
    type Value = Arc<CandidateProfile>;
    type Error = LoadError;

    async fn load(&self, keys: &[ContactOf]) -> Result<HashMap<ContactOf, Self::Value>, Self::Error> {
        let ids: Vec<CandidateId> = keys.iter().map(|k| k.0).collect();
        Ok(loading::contacts_by_id(&self.state, &ids).await?.into_iter().map(|(id, p)| (ContactOf(id), p)).collect())
    }
}

impl Loader<ApplicationId> for EntityLoader {
    type Value = Arc<Application>;
    type Error = LoadError;

    async fn load(&self, keys: &[ApplicationId]) -> Result<HashMap<ApplicationId, Self::Value>, Self::Error> {
        let list = loading::applications_by_id(&self.state, keys).await?;
        Ok(list.into_iter().map(|a| (a.id, Arc::new(a))).collect())
    }
}

/// The events of an application.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct EventsOf(pub ApplicationId);

impl Loader<EventsOf> for EntityLoader {
    type Value = Arc<Vec<ApplicationEvent>>;
    type Error = LoadError;

    async fn load(&self, keys: &[EventsOf]) -> Result<HashMap<EventsOf, Self::Value>, Self::Error> {
        let ids: Vec<ApplicationId> = keys.iter().map(|k| k.0).collect();
        let map = loading::application_events(&self.state, &ids).await?;
        Ok(map.into_iter().map(|(id, list)| (EventsOf(id), Arc::new(list))).collect())
    }
}

/// The hiring team's notes on an application.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct NotesOf(pub ApplicationId);

impl Loader<NotesOf> for EntityLoader {
    type Value = Arc<Vec<ApplicationNote>>;
    type Error = LoadError;

    async fn load(&self, keys: &[NotesOf]) -> Result<HashMap<NotesOf, Self::Value>, Self::Error> {
        let ids: Vec<ApplicationId> = keys.iter().map(|k| k.0).collect();
        let map = loading::application_notes(&self.state, &ids).await?;
        Ok(map.into_iter().map(|(id, list)| (NotesOf(id), Arc::new(list))).collect())
    }
}

/// A partner app's API keys, oldest first.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct KeysOf(pub PartnerAppId);

impl Loader<KeysOf> for EntityLoader {
    type Value = Arc<Vec<ApiKey>>;
    type Error = LoadError;

    async fn load(&self, keys: &[KeysOf]) -> Result<HashMap<KeysOf, Self::Value>, Self::Error> {
        let apps: Vec<PartnerAppId> = keys.iter().map(|k| k.0).collect();
        let mut by_app: HashMap<KeysOf, Vec<ApiKey>> = keys.iter().map(|k| (*k, Vec::new())).collect();
        for key in crate::services::partners::keys_of(&self.state, &apps).await? {
            by_app.entry(KeysOf(key.partner_app_id)).or_default().push(key);
        }
        Ok(by_app.into_iter().map(|(app, list)| (app, Arc::new(list))).collect())
    }
}

/// A posting's external id, if its company gave it one.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct ExternalIdOf(pub PostingId);

impl Loader<ExternalIdOf> for EntityLoader {
    type Value = String;
    type Error = LoadError;

    async fn load(&self, keys: &[ExternalIdOf]) -> Result<HashMap<ExternalIdOf, Self::Value>, Self::Error> {
        let ids: Vec<PostingId> = keys.iter().map(|k| k.0).collect();
        let map = crate::services::postings::external_ids_of(&self.state, &ids).await?;
        Ok(map.into_iter().map(|(id, ext)| (ExternalIdOf(id), ext)).collect())
    }
}

/// The applications per status of a posting.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct PipelineOf(pub PostingId);

impl Loader<PipelineOf> for EntityLoader {
    type Value = Arc<Vec<(ApplicationStatus, u64)>>;
    type Error = LoadError;

    async fn load(&self, keys: &[PipelineOf]) -> Result<HashMap<PipelineOf, Self::Value>, Self::Error> {
        let ids: Vec<PostingId> = keys.iter().map(|k| k.0).collect();
        let map = loading::pipeline_counts(&self.state, &ids).await?;
        Ok(map.into_iter().map(|(id, list)| (PipelineOf(id), Arc::new(list))).collect())
    }
}

/// Loads that depend on who is asking: built per request with the viewer.
pub struct ViewerLoader {
    pub state: Arc<AppState>,
    pub viewer: Arc<Viewer>,
}

/// "Did this candidate apply to one of the viewer's companies?" — decides contact fields.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct AppliedToViewer(pub CandidateId);

impl Loader<AppliedToViewer> for ViewerLoader {
    type Value = bool;
    type Error = LoadError;

    async fn load(&self, keys: &[AppliedToViewer]) -> Result<HashMap<AppliedToViewer, bool>, Self::Error> {
        let companies: Vec<CompanyId> = self.viewer.applicant_companies(&self.state).await?;
        let ids: Vec<CandidateId> = keys.iter().map(|k| k.0).collect();
        let applied = loading::applied_to_any(&self.state, &ids, &companies).await?;
        Ok(keys.iter().map(|k| (*k, applied.contains(&k.0))).collect())
    }
}

pub fn viewer_loader<'a>(ctx: &Context<'a>) -> &'a DataLoader<ViewerLoader, HashMapCache> {
    ctx.data_unchecked::<DataLoader<ViewerLoader, HashMapCache>>()
}

/// Batches run as tasks of their own, each in a span of its own below the field that started it,
/// so a trace shows the batched loads and their SQL statements inside the request.
fn spawn_in_span<F>(batch: F) -> tokio::task::JoinHandle<F::Output>
where
    F: std::future::Future + Send + 'static,
    F::Output: Send + 'static,
{
    use tracing::Instrument;
    tokio::spawn(batch.instrument(tracing::info_span!("dataloader batch")))
}

/// How long a loader waits for more keys before it reads a batch. async-graphql's default, 1 ms,
/// was most of a cached request's latency (a posting and then its company: two windows). A zero
/// window still batches every key asked for before the request's task yields: the fields of a
/// list resolve together, each registering its key, and the batch runs once they all wait.
const BATCH_WINDOW: std::time::Duration = std::time::Duration::ZERO;

pub fn new_loader(state: Arc<AppState>, remember: bool) -> DataLoader<EntityLoader, HashMapCache> {
    let entities = EntityLoader { state, remember, companies: Default::default() };
    let loader = DataLoader::with_cache(entities, spawn_in_span, HashMapCache::default()).delay(BATCH_WINDOW);
    loader.enable_all_cache(remember);
    loader
}

pub fn new_viewer_loader(state: Arc<AppState>, viewer: Arc<Viewer>) -> DataLoader<ViewerLoader, HashMapCache> {
    DataLoader::with_cache(ViewerLoader { state, viewer }, spawn_in_span, HashMapCache::default()).delay(BATCH_WINDOW)
}
