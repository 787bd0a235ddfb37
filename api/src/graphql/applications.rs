//! Applications and the hiring pipeline.

use std::sync::Arc;

use crate::services::loading;
use async_graphql::connection::{Connection, EmptyFields};
use async_graphql::{Context, Enum, ID, InputObject, Object, Result, SimpleObject};
use chrono::{DateTime, Utc};
use hiregraph_domain::applications::{
    Answer, Application as DomainApplication, ApplicationAction, ApplicationEvent as DomainEvent,
    ApplicationNote as DomainNote, ApplicationStatus as DomainStatus, Source,
};
use hiregraph_domain::candidates::ApplicantInput;
use hiregraph_domain::{CandidateId, PostingId};
use hiregraph_persistence::page::Page;

use super::candidates::CandidateProfile;
use super::connection;
use super::context::{EventsOf, NotesOf, PipelineOf, loader, state, viewer};
use super::ids::{self, Kind};
use super::postings::Posting;
use super::types::LocationInput;
use crate::error::AppError;
use crate::services::applications as service;

pub use super::types::ApplicationStatus;

/// How an application reached the company.
#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug)]
pub enum SourceKind {
    Direct,
    Partner,
    Referral,
}

#[derive(SimpleObject)]
pub struct ApplicationSource {
    kind: SourceKind,
    /// The partner's name, for `PARTNER`.
    partner_name: Option<String>,
}

/// Who made a move.
#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug)]
pub enum ActorKind {
    Candidate,
    Company,
}

/// A candidate's application to a posting. Visible to the applicant, the posting company's
/// members and platform admins; `NOT_FOUND` for anyone else.
pub struct Application(pub Arc<DomainApplication>);

#[Object]
impl Application {
    /// Opaque global id.
    pub async fn id(&self) -> ID {
        ids::encode(Kind::Application, self.0.id.0)
    }
    async fn status(&self) -> ApplicationStatus {
        self.0.status.into()
    }
    async fn cover_letter(&self) -> Option<&str> {
        self.0.cover_letter.as_deref()
    }
    async fn source(&self) -> ApplicationSource {
        match &self.0.source {
            Source::Direct => ApplicationSource { kind: SourceKind::Direct, partner_name: None },
            Source::Referral => ApplicationSource { kind: SourceKind::Referral, partner_name: None },
            Source::Partner(name) => ApplicationSource { kind: SourceKind::Partner, partner_name: Some(name.clone()) },
        }
    }
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }
    async fn updated_at(&self) -> DateTime<Utc> {
        self.0.updated_at
    }
    /// A résumé as text, when a partner submitted it with the application.
    async fn resume_text(&self) -> Option<&str> {
        self.0.resume_text.as_deref()
    }
    /// The screening questions as answered, when a partner submitted them.
    async fn answers(&self) -> Vec<ApplicationAnswer> {
        self.0
            .answers
            .iter()
            .map(|a| ApplicationAnswer { question: a.question.clone(), answer: a.answer.clone() })
            .collect()
    }
    /// The partner's own reference for the application, for the partner app that submitted it
    /// (null for everyone else).
    async fn external_id(&self, ctx: &Context<'_>) -> Result<Option<String>> {
        Ok(service::external_ids_of(state(ctx), viewer(ctx), &[self.0.id]).await?.remove(&self.0.id))
    }
    /// The posting applied to.
    async fn posting(&self, ctx: &Context<'_>) -> Result<Option<Posting>> {
        Ok(loader(ctx).load_one(self.0.posting_id).await?.map(Posting))
    }
    /// The applicant. Contact fields follow the profile's own rules: the posting's company sees them.
    async fn candidate(&self, ctx: &Context<'_>) -> Result<Option<CandidateProfile>> {
        Ok(loader(ctx).load_one(self.0.candidate_id).await?.map(CandidateProfile))
    }
    /// Every move, oldest first, starting with the application itself.
    async fn events(&self, ctx: &Context<'_>) -> Result<Vec<ApplicationEvent>> {
        let events = loader(ctx).load_one(EventsOf(self.0.id)).await?.unwrap_or_default();
        Ok(events.iter().cloned().map(|e| ApplicationEvent { event: e, application: self.0.clone() }).collect())
    }
    /// The hiring team's notes, oldest first. Private to the company: the applicant gets `FORBIDDEN`.
    async fn notes(&self, ctx: &Context<'_>) -> Result<Option<Vec<ApplicationNote>>> {
        service::check(state(ctx), viewer(ctx), &self.0, ApplicationAction::ReadNotes).await?;
        let notes = loader(ctx).load_one(NotesOf(self.0.id)).await?.unwrap_or_default();
        Ok(Some(notes.iter().cloned().map(ApplicationNote).collect()))
    }
}

/// A screening question and its answer.
#[derive(SimpleObject)]
pub struct ApplicationAnswer {
    question: String,
    answer: String,
}

/// One move of an application.
pub struct ApplicationEvent {
    pub event: DomainEvent,
    pub application: Arc<DomainApplication>,
}

#[Object]
impl ApplicationEvent {
    /// Opaque global id.
    pub async fn id(&self) -> ID {
        ids::encode(Kind::ApplicationEvent, self.event.id)
    }
    /// Null for the event that created the application.
    async fn from(&self) -> Option<ApplicationStatus> {
        self.event.from.map(Into::into)
    }
    async fn to(&self) -> ApplicationStatus {
        self.event.to.into()
    }
    /// Whether the candidate or the company made the move.
    async fn actor(&self, ctx: &Context<'_>) -> Result<ActorKind> {
        let candidate = loader(ctx).load_one(self.application.candidate_id).await?;
        Ok(if candidate.is_some_and(|c| c.user_id == Some(self.event.actor)) {
            ActorKind::Candidate
        } else {
            ActorKind::Company
        })
    }
    /// A company's note on its move is private to the company; the candidate's own note is theirs.
    async fn note(&self, ctx: &Context<'_>) -> Result<Option<&str>> {
        let own = viewer(ctx).principal.user_id() == Some(self.event.actor);
        if !own {
            service::check(state(ctx), viewer(ctx), &self.application, ApplicationAction::ReadNotes).await?;
        }
        Ok(self.event.note.as_deref())
    }
    async fn at(&self) -> DateTime<Utc> {
        self.event.at
    }
}

/// A hiring-team note.
pub struct ApplicationNote(DomainNote);

#[Object]
impl ApplicationNote {
    async fn body(&self) -> &str {
        &self.0.body
    }
    /// The author's user id.
    async fn author_id(&self) -> ID {
        ids::encode(Kind::User, self.0.author.0)
    }
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.at
    }
}

/// How many applications a posting has in one status.
#[derive(SimpleObject)]
pub struct PipelineStage {
    status: ApplicationStatus,
    count: u64,
}

/// Every status with its count, in pipeline order (zeros included).
pub fn pipeline(counts: &[(DomainStatus, u64)]) -> Vec<PipelineStage> {
    DomainStatus::ALL
        .into_iter()
        .map(|s| PipelineStage { status: s.into(), count: counts.iter().find(|(k, _)| *k == s).map_or(0, |(_, n)| *n) })
        .collect()
}

/// What an application list counts when `totalCount` is asked for.
pub enum ApplicationCount {
    Posting(PostingId, Vec<DomainStatus>),
    Candidate(CandidateId),
    /// A user without a candidate profile has no applications.
    None,
}

#[Object]
impl ApplicationCount {
    async fn total_count(&self, ctx: &Context<'_>) -> Result<u64> {
        Ok(match self {
            // From the per-status counts, grouped in one statement for every posting on the page
            // (and shared with `pipeline` when both are asked for).
            ApplicationCount::Posting(p, statuses) => {
                let counts = loader(ctx).load_one(PipelineOf(*p)).await?.unwrap_or_default();
                return Ok(counts
                    .iter()
                    .filter(|(status, _)| statuses.is_empty() || statuses.contains(status))
                    .map(|(_, n)| n)
                    .sum());
            }
            ApplicationCount::Candidate(c) => loading::candidate_applications_count(state(ctx), *c).await?,
            ApplicationCount::None => 0,
        })
    }
}

/// Loads a page of applications through the loader.
pub async fn applications_page(
    ctx: &Context<'_>,
    page: Page<hiregraph_domain::ApplicationId>,
    count: ApplicationCount,
) -> Result<Connection<String, Application, ApplicationCount, EmptyFields>> {
    let found = loader(ctx).load_many(page.items.iter().map(|(id, _)| *id)).await?;
    let page = Page {
        items: page
            .items
            .into_iter()
            .filter_map(|(id, c)| found.get(&id).map(|a| (Application(a.clone()), c)))
            .collect(),
        has_next_page: page.has_next_page,
        has_previous_page: page.has_previous_page,
    };
    Ok(connection::build(page, count))
}

/// `Posting.applications`, for the company's members.
pub async fn for_posting(
    ctx: &Context<'_>,
    posting: &hiregraph_domain::postings::Posting,
    statuses: Vec<DomainStatus>,
    request: hiregraph_persistence::page::PageRequest,
) -> Result<Connection<String, Application, ApplicationCount, EmptyFields>> {
    service::may_list_for_posting(state(ctx), viewer(ctx), posting.company_id).await?;
    let posting = posting.id;
    let count = ApplicationCount::Posting(posting, statuses.clone());
    // Only `totalCount` asked for: no page to read.
    let selection = ctx.look_ahead();
    if !["edges", "nodes", "pageInfo"].iter().any(|f| selection.field(f).exists()) {
        return Ok(Connection::with_additional_fields(false, false, count));
    }
    let page = loading::posting_applications(state(ctx), posting, &statuses, &request).await?;
    applications_page(ctx, page, count).await
}

/// `User.applications`: the viewer's own.
pub async fn for_candidate(
    ctx: &Context<'_>,
    candidate: CandidateId,
    request: hiregraph_persistence::page::PageRequest,
) -> Result<Connection<String, Application, ApplicationCount, EmptyFields>> {
    let page = loading::candidate_applications(state(ctx), candidate, &request).await?;
    applications_page(ctx, page, ApplicationCount::Candidate(candidate)).await
}

#[derive(InputObject)]
pub struct ApplicationSourceInput {
    kind: SourceKind,
    /// Required for `PARTNER`.
    partner_name: Option<String>,
}

#[derive(InputObject)]
pub struct ApplyToPostingInput {
    posting_id: ID,
    cover_letter: Option<String>,
    /// Defaults to `DIRECT`.
    source: Option<ApplicationSourceInput>,
}

#[derive(InputObject)]
pub struct WithdrawApplicationInput {
    id: ID,
    note: Option<String>,
}

#[derive(InputObject)]
pub struct MoveApplicationInput {
    id: ID,
    to: ApplicationStatus,
    /// Private to the company.
    note: Option<String>,
}

#[derive(InputObject)]
pub struct RejectApplicationInput {
    id: ID,
    /// Private to the company.
    note: Option<String>,
}

#[derive(InputObject)]
pub struct AddApplicationNoteInput {
    application_id: ID,
    body: String,
}

/// The person a job board submits.
#[derive(InputObject)]
pub struct SubmittedCandidateInput {
    /// 1 to 80 characters.
    name: String,
    /// Matches an earlier submission of the same person (never a user's account).
    email: String,
    phone: Option<String>,
    /// Up to 150 characters.
    headline: Option<String>,
    location: Option<LocationInput>,
    /// An http(s) link to a profile or portfolio.
    profile_url: Option<String>,
    /// The résumé as text, up to 100,000 characters; stored with the application.
    resume_text: Option<String>,
}

#[derive(InputObject)]
pub struct AnswerInput {
    /// 1 to 500 characters.
    question: String,
    /// Up to 10,000 characters.
    answer: String,
}

#[derive(InputObject)]
pub struct SubmitApplicationInput {
    posting_id: ID,
    /// The job board's own reference for this application, unique in its company: a retry with
    /// it returns the application it names (`UNCHANGED`) instead of failing.
    external_id: Option<String>,
    candidate: SubmittedCandidateInput,
    cover_letter: Option<String>,
    /// At most 50.
    answers: Option<Vec<AnswerInput>>,
}

/// What a submission did.
#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug)]
pub enum SubmitApplicationResult {
    Created,
    /// The external id already named this application: nothing was written.
    Unchanged,
}

#[derive(SimpleObject)]
pub struct SubmitApplicationPayload {
    application: Application,
    result: SubmitApplicationResult,
    /// For `CREATED` only, shown once: pass it on to the applicant, who claims their applications
    /// with `claimApplications` after signing up with the same email. Valid for 30 days.
    claim_token: Option<String>,
}

#[derive(InputObject)]
pub struct ClaimApplicationsInput {
    /// The claim token a job board passed on.
    token: String,
}

#[derive(SimpleObject)]
pub struct ClaimApplicationsPayload {
    /// The viewer's profile, holding the claimed applications.
    candidate_profile: CandidateProfile,
    /// How many applications moved to the profile.
    claimed_count: u64,
}

#[derive(SimpleObject)]
pub struct ApplicationPayload {
    application: Application,
}

#[derive(SimpleObject)]
pub struct AddApplicationNotePayload {
    note: ApplicationNote,
    application: Application,
}

#[derive(Default)]
pub struct ApplicationQuery;

#[Object]
impl ApplicationQuery {
    /// An application you may see; `NOT_FOUND` otherwise.
    async fn application(&self, ctx: &Context<'_>, id: ID) -> Result<Option<Application>> {
        let id = ids::application_id(&id, "id")?;
        let (application, _) = service::read(state(ctx), viewer(ctx), id).await?;
        Ok(Some(Application(application)))
    }
}

#[derive(Default)]
pub struct ApplicationMutation;

#[Object]
impl ApplicationMutation {
    /// Applies the signed-in candidate to a published, unexpired posting, once.
    async fn apply_to_posting(&self, ctx: &Context<'_>, input: ApplyToPostingInput) -> Result<ApplicationPayload> {
        let posting = ids::posting_id(&input.posting_id, "input.postingId")?;
        let source = match input.source {
            None => Source::Direct,
            Some(ApplicationSourceInput { kind: SourceKind::Direct, .. }) => Source::Direct,
            Some(ApplicationSourceInput { kind: SourceKind::Referral, .. }) => Source::Referral,
            Some(ApplicationSourceInput { kind: SourceKind::Partner, partner_name }) => {
                Source::Partner(partner_name.unwrap_or_default())
            }
        };
        let application = service::apply(state(ctx), viewer(ctx), posting, input.cover_letter, source).await?;
        Ok(ApplicationPayload { application: Application(application) })
    }

    /// A job board submits an applicant to any published, unexpired posting
    /// (`applications:submit`): one application per person and posting, source `PARTNER` with the
    /// app's name.
    async fn submit_application(
        &self,
        ctx: &Context<'_>,
        input: SubmitApplicationInput,
    ) -> Result<SubmitApplicationPayload> {
        let posting_id = ids::posting_id(&input.posting_id, "input.postingId")?;
        let c = input.candidate;
        let submission = service::Submission {
            posting_id,
            external_id: input.external_id,
            applicant: ApplicantInput {
                name: c.name,
                email: c.email,
                phone: c.phone,
                headline: c.headline,
                location: c.location.map(Into::into),
                profile_url: c.profile_url,
            },
            cover_letter: input.cover_letter,
            resume_text: c.resume_text,
            answers: input
                .answers
                .unwrap_or_default()
                .into_iter()
                .map(|a| Answer { question: a.question, answer: a.answer })
                .collect(),
        };
        let (application, result, claim_token) = service::submit(state(ctx), viewer(ctx), submission).await?;
        Ok(SubmitApplicationPayload {
            application: Application(application),
            result: match result {
                service::Submitted::Created => SubmitApplicationResult::Created,
                service::Submitted::Unchanged => SubmitApplicationResult::Unchanged,
            },
            claim_token,
        })
    }

    /// The signed-in person claims the applications a job board submitted for them, with the
    /// token it passed on; the account's email must be the one they were submitted under.
    async fn claim_applications(
        &self,
        ctx: &Context<'_>,
        input: ClaimApplicationsInput,
    ) -> Result<ClaimApplicationsPayload> {
        let (profile, claimed_count) = service::claim(state(ctx), viewer(ctx), &input.token).await?;
        Ok(ClaimApplicationsPayload { candidate_profile: CandidateProfile(profile), claimed_count })
    }

    /// The candidate withdraws an open application.
    async fn withdraw_application(
        &self,
        ctx: &Context<'_>,
        input: WithdrawApplicationInput,
    ) -> Result<ApplicationPayload> {
        let id = ids::application_id(&input.id, "input.id")?;
        let application = service::move_to(state(ctx), viewer(ctx), id, DomainStatus::Withdrawn, input.note).await?;
        Ok(ApplicationPayload { application: Application(application) })
    }

    /// The hiring team moves an application forward (stages may be skipped) or to REJECTED.
    async fn move_application(&self, ctx: &Context<'_>, input: MoveApplicationInput) -> Result<ApplicationPayload> {
        let id = ids::application_id(&input.id, "input.id")?;
        let application = service::move_to(state(ctx), viewer(ctx), id, input.to.into(), input.note).await?;
        Ok(ApplicationPayload { application: Application(application) })
    }

    /// The hiring team rejects an open application.
    async fn reject_application(&self, ctx: &Context<'_>, input: RejectApplicationInput) -> Result<ApplicationPayload> {
        let id = ids::application_id(&input.id, "input.id")?;
        let application = service::move_to(state(ctx), viewer(ctx), id, DomainStatus::Rejected, input.note).await?;
        Ok(ApplicationPayload { application: Application(application) })
    }

    /// Adds a note only the company sees.
    async fn add_application_note(
        &self,
        ctx: &Context<'_>,
        input: AddApplicationNoteInput,
    ) -> Result<AddApplicationNotePayload> {
        let id = ids::application_id(&input.application_id, "input.applicationId")?;
        let note = service::add_note(state(ctx), viewer(ctx), id, &input.body).await?;
        let application = service::load(state(ctx), id)
            .await?
            .ok_or_else(|| AppError::NotFound("no application has this id".into()))?;
        Ok(AddApplicationNotePayload { note: ApplicationNote(note), application: Application(application) })
    }
}
