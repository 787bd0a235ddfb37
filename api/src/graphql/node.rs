//! Global object identification: `Node`, `node(id)`, `nodes(ids)`.

use async_graphql::{Context, ID, Interface, Object, Result};

use super::accounts::User;
use super::applications::{Application, ApplicationEvent};
use super::candidates::CandidateProfile;
use super::companies::Company;
use super::context::{AppliedToViewer, loader, state, viewer, viewer_loader};
use super::ids::{self, Kind};
use super::postings::Posting;
use crate::error::AppError;
use crate::services::applications as application_service;
use crate::services::candidates as candidate_service;
use crate::services::postings as posting_rules;

/// An object with a global id.
#[derive(Interface)]
#[graphql(field(name = "id", ty = "ID", desc = "Opaque global id."))]
pub enum Node {
    User(User),
    Company(Company),
    Posting(Posting),
    CandidateProfile(CandidateProfile),
    Application(Application),
    ApplicationEvent(ApplicationEvent),
}

fn not_found() -> async_graphql::Error {
    AppError::NotFound("nothing you may see has this id".into()).into()
}

/// The object behind `id`, or `None` when it does not exist or the viewer may not see it.
async fn resolve(ctx: &Context<'_>, id: &ID) -> Result<Option<Node>> {
    let Some((kind, uuid)) = ids::decode_any(id) else {
        return Err(AppError::bad_input("id", format!("`{}` is not an id from this API", id.as_str())).into());
    };
    let viewer = viewer(ctx);
    Ok(match kind {
        Kind::User => {
            let user_id = hiregraph_domain::UserId(uuid);
            if viewer.principal.user_id() != Some(user_id) && !viewer.principal.is_platform_admin() {
                return Ok(None);
            }
            loader(ctx).load_one(user_id).await?.map(|u| Node::User(User(u)))
        }
        Kind::Company => {
            loader(ctx).load_one(hiregraph_domain::CompanyId(uuid)).await?.map(|c| Node::Company(Company(c)))
        }
        Kind::Posting => match loader(ctx).load_one(hiregraph_domain::PostingId(uuid)).await? {
            Some(p) if posting_rules::may_read(state(ctx), viewer, &p).await? => Some(Node::Posting(Posting(p))),
            _ => None,
        },
        // Through the loaders, so `nodes` reads every profile, and whether the viewer's companies
        // were applied to, in one batch.
        Kind::Candidate => {
            let id = hiregraph_domain::CandidateId(uuid);
            let Some(profile) = loader(ctx).load_one(id).await? else { return Ok(None) };
            let applied = viewer_loader(ctx).load_one(AppliedToViewer(id)).await?.unwrap_or(false);
            let access = candidate_service::access(state(ctx), viewer, &profile, Some(applied)).await?;
            access
                .may_see_profile(profile.content.visibility)
                .then_some(Node::CandidateProfile(CandidateProfile(profile)))
        }
        Kind::Application => {
            match application_service::read(state(ctx), viewer, hiregraph_domain::ApplicationId(uuid)).await {
                Ok((application, _)) => Some(Node::Application(Application(application))),
                Err(AppError::NotFound(_)) => None,
                Err(other) => return Err(other.into()),
            }
        }
        // Read through `Company.webhookEndpoints`, where their managers are checked.
        Kind::WebhookEndpoint | Kind::WebhookDelivery => None,
        // Read through `Company.partnerApps`, where their managers are checked.
        Kind::PartnerApp | Kind::ApiKey => None,
        Kind::ApplicationEvent => {
            let Some(event) = crate::services::loading::application_event(state(ctx), uuid).await? else {
                return Ok(None);
            };
            match application_service::read(state(ctx), viewer, event.application_id).await {
                Ok((application, _)) => Some(Node::ApplicationEvent(ApplicationEvent { event, application })),
                Err(AppError::NotFound(_)) => None,
                Err(other) => return Err(other.into()),
            }
        }
    })
}

#[derive(Default)]
pub struct NodeQuery;

#[Object]
impl NodeQuery {
    /// Any object by its global id; `NOT_FOUND` when it does not exist or is not yours to see.
    async fn node(&self, ctx: &Context<'_>, id: ID) -> Result<Option<Node>> {
        match resolve(ctx, &id).await? {
            Some(node) => Ok(Some(node)),
            None => Err(not_found()),
        }
    }

    /// Several objects by global id, in the same order; null where one is missing or hidden.
    #[graphql(complexity = "ids.len() * child_complexity + 1")]
    async fn nodes(&self, ctx: &Context<'_>, ids: Vec<ID>) -> Result<Vec<Option<Node>>> {
        if ids.len() > 100 {
            return Err(AppError::bad_input("ids", format!("may hold at most 100 ids, had {}", ids.len())).into());
        }
        // All at once, so the loaders batch them: one statement per table, not one per id.
        futures_util::future::try_join_all(ids.iter().map(|id| resolve(ctx, id))).await
    }
}
