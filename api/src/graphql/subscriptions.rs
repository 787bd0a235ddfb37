//! Subscriptions: live changes over WebSocket (`graphql-transport-ws`, see `crate::ws`). Every
//! event is authorized for each subscriber when it is delivered, with the same rules as the
//! queries and a fresh look at the subscriber's memberships: a member removed from a company
//! stops receiving its events with the next one.

use std::sync::Arc;

use async_graphql::{Context, ID, Result, SimpleObject, Subscription};
use futures_util::Stream;
use hiregraph_domain::events::{Event, EventType};
use tokio::sync::broadcast::error::RecvError;

use super::applications::Application;
use super::context::{state, viewer};
use super::ids;
use super::postings::Posting;
use crate::error::AppError;
use crate::services::live::{self, LiveEvent};
use crate::state::AppState;

/// A change to a posting.
#[derive(SimpleObject)]
pub struct PostingChange {
    /// The event's type, such as `posting.updated` or `posting.closed`.
    #[graphql(name = "type")]
    event_type: &'static str,
    posting: Posting,
}

/// A change to an application's status.
#[derive(SimpleObject)]
pub struct ApplicationChange {
    /// `application.created`, `application.moved`, `application.rejected` or `application.withdrawn`.
    #[graphql(name = "type")]
    event_type: &'static str,
    application: Application,
}

/// The events of this replica's broadcast committed after the subscription began, skipping none
/// silently: a subscriber that fell too far behind gets an error and the subscription ends
/// (resubscribe and reload).
async fn events(
    state: &Arc<AppState>,
) -> Result<impl Stream<Item = Result<Arc<LiveEvent>, AppError>> + use<>, AppError> {
    let (receiver, start) = state.live.join(state).await?;
    Ok(futures_util::stream::unfold(Some(receiver), move |receiver| async move {
        let mut receiver = receiver?;
        loop {
            return match receiver.recv().await {
                Ok(event) if event.position <= start => continue,
                Ok(event) => Some((Ok(event), Some(receiver))),
                Err(RecvError::Lagged(missed)) => Some((
                    Err(AppError::Lagged(format!(
                        "this subscription fell {missed} events behind and ended; subscribe again and reload"
                    ))),
                    None,
                )),
                Err(RecvError::Closed) => None,
            };
        }
    }))
}

#[derive(Default)]
pub struct SubscriptionRoot;

#[Subscription]
impl SubscriptionRoot {
    /// Every change to one posting, while the subscriber may see it (the public: while it is
    /// published).
    async fn posting_changed(
        &self,
        ctx: &Context<'_>,
        id: ID,
    ) -> Result<impl Stream<Item = Result<PostingChange>> + use<>> {
        let id = ids::posting_id(&id, "id")?;
        let (state, principal) = (state(ctx).clone(), viewer(ctx).principal.clone());
        crate::services::postings::read(&state, viewer(ctx), id).await?;
        Ok(futures_util::StreamExt::filter_map(events(&state).await?, move |event| {
            let (state, principal) = (state.clone(), principal.clone());
            async move {
                let event = match event {
                    Ok(event) => event,
                    Err(err) => return Some(Err(err.into())),
                };
                if event.subject != id.0 || !event.event_type.as_str().starts_with("posting.") {
                    return None;
                }
                match live::posting_for(&state, &principal, &event).await {
                    Ok(Some(posting)) => {
                        Some(Ok(PostingChange { event_type: event.event_type.as_str(), posting: Posting(posting) }))
                    }
                    Ok(None) => None,
                    Err(err) => Some(Err(err.into())),
                }
            }
        }))
    }

    /// A live job alert: each posting published from now on that matches `filter` — the same
    /// filter, words included, as the `postings` query. Public.
    async fn posting_published(
        &self,
        ctx: &Context<'_>,
        filter: Option<super::postings::PostingFilter>,
    ) -> Result<impl Stream<Item = Result<Posting>> + use<>> {
        let filter = Arc::new(filter.unwrap_or_default().into_feed_filter()?);
        let state = state(ctx).clone();
        Ok(futures_util::StreamExt::filter_map(events(&state).await?, move |event| {
            let (state, filter) = (state.clone(), filter.clone());
            async move {
                let event = match event {
                    Ok(event) => event,
                    Err(err) => return Some(Err(err.into())),
                };
                if event.event_type != EventType::PostingPublished {
                    return None;
                }
                match live::published_matching(&state, &filter, &event).await {
                    Ok(Some(posting)) => Some(Ok(Posting(posting))),
                    Ok(None) => None,
                    Err(err) => Some(Err(err.into())),
                }
            }
        }))
    }

    /// Status changes of a company's applications, or of one posting's (members of the company
    /// and platform admins).
    async fn application_changed(
        &self,
        ctx: &Context<'_>,
        company_id: Option<ID>,
        posting_id: Option<ID>,
    ) -> Result<impl Stream<Item = Result<ApplicationChange>> + use<>> {
        let state = state(ctx).clone();
        let (company, posting) = match (company_id, posting_id) {
            (Some(c), None) => (ids::company_id(&c, "companyId")?, None),
            (None, Some(p)) => {
                let posting = ids::posting_id(&p, "postingId")?;
                (live::company_of_posting(&state, viewer(ctx), posting).await?, Some(posting))
            }
            _ => return Err(AppError::bad_input("companyId", "give exactly one of companyId and postingId").into()),
        };
        live::may_follow_company(&state, viewer(ctx), company).await?;
        let principal = viewer(ctx).principal.clone();
        Ok(futures_util::StreamExt::filter_map(events(&state).await?, move |event| {
            let (state, principal) = (state.clone(), principal.clone());
            async move {
                let event = match event {
                    Ok(event) => event,
                    Err(err) => return Some(Err(err.into())),
                };
                if event.company_id != Some(company) || !live::APPLICATION_MOVES.contains(&event.event_type) {
                    return None;
                }
                let wanted =
                    |a: &hiregraph_domain::applications::Application| posting.is_none_or(|p| p == a.posting_id);
                match live::application_for(&state, &principal, &event, wanted).await {
                    Ok(Some(application)) => Some(Ok(change(&event, application))),
                    Ok(None) => None,
                    Err(err) => Some(Err(err.into())),
                }
            }
        }))
    }

    /// Status changes of the signed-in candidate's own applications (never the company's notes).
    async fn my_application_changed(
        &self,
        ctx: &Context<'_>,
    ) -> Result<impl Stream<Item = Result<ApplicationChange>> + use<>> {
        let state = state(ctx).clone();
        let candidate = live::own_candidate(&state, viewer(ctx)).await?;
        let principal = viewer(ctx).principal.clone();
        Ok(futures_util::StreamExt::filter_map(events(&state).await?, move |event| {
            let (state, principal) = (state.clone(), principal.clone());
            async move {
                let event = match event {
                    Ok(event) => event,
                    Err(err) => return Some(Err(err.into())),
                };
                if !live::APPLICATION_MOVES.contains(&event.event_type) {
                    return None;
                }
                let wanted = |a: &hiregraph_domain::applications::Application| a.candidate_id == candidate;
                match live::application_for(&state, &principal, &event, wanted).await {
                    Ok(Some(application)) => Some(Ok(change(&event, application))),
                    Ok(None) => None,
                    Err(err) => Some(Err(err.into())),
                }
            }
        }))
    }
}

fn change(event: &Event, application: Arc<hiregraph_domain::applications::Application>) -> ApplicationChange {
    let event_type: EventType = event.event_type;
    ApplicationChange { event_type: event_type.as_str(), application: Application(application) }
}
