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

// Each subscription keeps its resolver's future for as long as it runs (async-graphql streams
// from inside it), so what the resolver awaits once, at subscribe time, is boxed: the idle
// subscription does not keep room for it.

/// The events of this replica's broadcast committed after the subscription began, skipping none
/// silently: a subscriber that fell too far behind gets an error and the subscription ends
/// (resubscribe and reload).
async fn events(
    state: &Arc<AppState>,
) -> Result<impl Stream<Item = Result<Arc<LiveEvent>, AppError>> + use<>, AppError> {
    let (receiver, start) = Box::pin(state.live.join(state)).await?;
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

/// The events of this replica's broadcast, each turned by `deliver` into what the subscriber gets:
/// `None` at once for an event that is not the subscription's, else the work that decides (it
/// may still find nothing to send). That work is boxed, so an idle subscription holds only its
/// place in the broadcast, not the largest state of a delivery (bench/README.md).
async fn deliveries<T, F, Fut>(
    state: Arc<AppState>,
    deliver: F,
) -> Result<impl Stream<Item = Result<T>> + use<T, F, Fut>, AppError>
where
    T: Send + 'static,
    F: Fn(&Arc<AppState>, Arc<LiveEvent>) -> Option<Fut> + Send + 'static,
    Fut: std::future::Future<Output = Option<Result<T>>> + Send + 'static,
{
    Ok(futures_util::StreamExt::filter_map(
        events(&state).await?,
        move |event| -> futures_util::future::BoxFuture<'static, Option<Result<T>>> {
            match event.map(|event| deliver(&state, event)) {
                Ok(Some(work)) => Box::pin(work),
                Ok(None) => Box::pin(std::future::ready(None)),
                Err(err) => Box::pin(std::future::ready(Some(Err(err.into())))),
            }
        },
    ))
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
        Box::pin(crate::services::postings::read(&state, viewer(ctx), id)).await?;
        Ok(deliveries(state, move |state, event| {
            if event.subject != id.0 || !event.event_type.as_str().starts_with("posting.") {
                return None;
            }
            let (state, principal) = (state.clone(), principal.clone());
            Some(async move {
                match live::posting_for(&state, &principal, &event).await {
                    Ok(Some(posting)) => {
                        Some(Ok(PostingChange { event_type: event.event_type.as_str(), posting: Posting(posting) }))
                    }
                    Ok(None) => None,
                    Err(err) => Some(Err(err.into())),
                }
            })
        })
        .await?)
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
        Ok(deliveries(state, move |state, event| {
            if event.event_type != EventType::PostingPublished {
                return None;
            }
            let (state, filter) = (state.clone(), filter.clone());
            Some(async move {
                match live::published_matching(&state, &filter, &event).await {
                    Ok(Some(posting)) => Some(Ok(Posting(posting))),
                    Ok(None) => None,
                    Err(err) => Some(Err(err.into())),
                }
            })
        })
        .await?)
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
                (Box::pin(live::company_of_posting(&state, viewer(ctx), posting)).await?, Some(posting))
            }
            _ => return Err(AppError::bad_input("companyId", "give exactly one of companyId and postingId").into()),
        };
        Box::pin(live::may_follow_company(&state, viewer(ctx), company)).await?;
        let principal = viewer(ctx).principal.clone();
        Ok(deliveries(state, move |state, event| {
            if event.company_id != Some(company) || !live::APPLICATION_MOVES.contains(&event.event_type) {
                return None;
            }
            let (state, principal) = (state.clone(), principal.clone());
            Some(async move {
                let wanted =
                    |a: &hiregraph_domain::applications::Application| posting.is_none_or(|p| p == a.posting_id);
                match live::application_for(&state, &principal, &event, wanted).await {
                    Ok(Some(application)) => Some(Ok(change(&event, application))),
                    Ok(None) => None,
                    Err(err) => Some(Err(err.into())),
                }
            })
        })
        .await?)
    }

    /// Status changes of the signed-in candidate's own applications (never the company's notes).
    async fn my_application_changed(
        &self,
        ctx: &Context<'_>,
    ) -> Result<impl Stream<Item = Result<ApplicationChange>> + use<>> {
        let state = state(ctx).clone();
        let candidate = Box::pin(live::own_candidate(&state, viewer(ctx))).await?;
        let principal = viewer(ctx).principal.clone();
        Ok(deliveries(state, move |state, event| {
            if !live::APPLICATION_MOVES.contains(&event.event_type) {
                return None;
            }
            let (state, principal) = (state.clone(), principal.clone());
            Some(async move {
                let wanted = |a: &hiregraph_domain::applications::Application| a.candidate_id == candidate;
                match live::application_for(&state, &principal, &event, wanted).await {
                    Ok(Some(application)) => Some(Ok(change(&event, application))),
                    Ok(None) => None,
                    Err(err) => Some(Err(err.into())),
                }
            })
        })
        .await?)
    }
}

fn change(event: &Event, application: Arc<hiregraph_domain::applications::Application>) -> ApplicationChange {
    let event_type: EventType = event.event_type;
    ApplicationChange { event_type: event_type.as_str(), application: Application(application) }
}
