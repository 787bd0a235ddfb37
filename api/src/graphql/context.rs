//! What resolvers take from the context: the shared state, the viewer, the per-request loaders.

use std::collections::HashMap;
use std::sync::Arc;

use async_graphql::Context;
use async_graphql::dataloader::{DataLoader, Loader};
use hiregraph_domain::accounts::User;
use hiregraph_domain::companies::Company;
use hiregraph_domain::postings::Posting;
use hiregraph_domain::{CompanyId, PostingId, UserId};
use hiregraph_persistence::users;

use crate::error::AppError;
use crate::services::loading;
use crate::state::{AppState, Viewer};

pub fn state<'a>(ctx: &Context<'a>) -> &'a Arc<AppState> {
    ctx.data_unchecked::<Arc<AppState>>()
}

pub fn viewer<'a>(ctx: &Context<'a>) -> &'a Arc<Viewer> {
    ctx.data_unchecked::<Arc<Viewer>>()
}

pub fn loader<'a>(ctx: &Context<'a>) -> &'a DataLoader<EntityLoader> {
    ctx.data_unchecked::<DataLoader<EntityLoader>>()
}

/// Batches by-id loads within one request. Built per request, so nothing is shared between
/// callers beyond the cache, whose entries are checked for visibility on every read.
pub struct EntityLoader {
    pub state: Arc<AppState>,
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
        Ok(loading::postings_by_id(&self.state, keys).await?)
    }
}

impl Loader<CompanyId> for EntityLoader {
    type Value = Arc<Company>;
    type Error = LoadError;

    async fn load(&self, keys: &[CompanyId]) -> Result<HashMap<CompanyId, Self::Value>, Self::Error> {
        Ok(loading::companies_by_id(&self.state, keys).await?)
    }
}

impl Loader<UserId> for EntityLoader {
    type Value = Arc<User>;
    type Error = LoadError;

    async fn load(&self, keys: &[UserId]) -> Result<HashMap<UserId, Self::Value>, Self::Error> {
        let list = users::find_by_ids(keys, &self.state.db.conn).await.map_err(AppError::from)?;
        Ok(list.into_iter().map(|u| (u.id, Arc::new(u))).collect())
    }
}

pub fn new_loader(state: Arc<AppState>) -> DataLoader<EntityLoader> {
    DataLoader::new(EntityLoader { state }, tokio::spawn)
}
