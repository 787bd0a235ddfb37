//! Applying, and moving applications through the pipeline.

use std::sync::Arc;

use hiregraph_domain::applications::{
    self as rules, Answer, Application, ApplicationAction, ApplicationEvent, ApplicationNote, ApplicationStatus, Mover,
    Relation, Source,
};
use hiregraph_domain::candidates::{ApplicantInput, CandidateProfile};
use hiregraph_domain::companies::{CompanyAction, Standing};
use hiregraph_domain::events::Change;
use hiregraph_domain::{ApplicationId, CandidateId, CompanyId, FieldError, PostingId, Principal, ValidationErrors};
use hiregraph_persistence::external_ids::{self, ExternalKind};
use hiregraph_persistence::{StoreError, applications as store, candidates};

use crate::error::{AppError, AppResult};
use crate::services::companies::{authenticated, author, signed_in};
use crate::services::events;
use crate::state::{AppState, Viewer, now};

fn not_found() -> AppError {
    AppError::NotFound("no application you may see has this id".into())
}

/// How the viewer relates to an application.
pub async fn relation(state: &AppState, viewer: &Viewer, application: &Application) -> AppResult<Relation> {
    match viewer.standing_in(state, application.company_id).await? {
        Some(Standing::Member(role)) => return Ok(Relation::Member(role)),
        Some(Standing::Partner(scopes)) => return Ok(Relation::Partner(scopes)),
        None => {}
    }
    if let Some(user) = viewer.principal.user_id()
        && candidates::find_id_by_user(user, &state.db.conn).await? == Some(application.candidate_id)
    {
        return Ok(Relation::Applicant);
    }
    Ok(Relation::Stranger)
}

pub async fn load(state: &AppState, id: ApplicationId) -> AppResult<Option<Arc<Application>>> {
    Ok(store::find_by_ids(&[id], &state.db.conn).await?.pop().map(Arc::new))
}

/// An application the viewer may see, with how they relate to it; `NOT_FOUND` otherwise.
pub async fn read(state: &AppState, viewer: &Viewer, id: ApplicationId) -> AppResult<(Arc<Application>, Relation)> {
    let application = load(state, id).await?.ok_or_else(not_found)?;
    let relation = relation(state, viewer, &application).await?;
    if rules::may(&viewer.principal, relation, ApplicationAction::Read) {
        Ok((application, relation))
    } else {
        Err(not_found())
    }
}

/// Whether the viewer may do `action` with `application` (which they may read).
pub async fn check(
    state: &AppState,
    viewer: &Viewer,
    application: &Application,
    action: ApplicationAction,
) -> AppResult<()> {
    let relation = relation(state, viewer, application).await?;
    if rules::may(&viewer.principal, relation, action) {
        return Ok(());
    }
    authenticated(viewer)?;
    if !rules::may(&viewer.principal, relation, ApplicationAction::Read) {
        return Err(not_found());
    }
    Err(AppError::Forbidden(match action {
        ApplicationAction::ReadNotes | ApplicationAction::WriteNotes if relation == Relation::Applicant => {
            "hiring-team notes are private to the company".into()
        }
        ApplicationAction::Withdraw => "only the candidate may withdraw an application".into(),
        _ => "only the company's recruiters, admins and owners may do this".into(),
    }))
}

/// Refuses a posting that is not published or has expired, naming `input.postingId`.
fn takes_applications(
    posting: &hiregraph_domain::postings::Posting,
    at: chrono::DateTime<chrono::Utc>,
) -> AppResult<()> {
    if !posting.status.is_public() {
        return Err(AppError::bad_input(
            "input.postingId",
            format!("the posting is {} and takes no applications", posting.status.as_str()),
        ));
    }
    if posting.is_expired(at) {
        return Err(AppError::bad_input("input.postingId", "the posting has expired and takes no applications"));
    }
    Ok(())
}

/// Applies the signed-in candidate to a posting: refused for a posting that is not published or has
/// expired, and a second time (`CONFLICT`, also under concurrent requests: a unique index decides).
pub async fn apply(
    state: &AppState,
    viewer: &Viewer,
    posting_id: PostingId,
    cover_letter: Option<String>,
    source: Source,
) -> AppResult<Arc<Application>> {
    let user = signed_in(viewer)?;
    let candidate = candidates::find_id_by_user(user, &state.db.conn).await?.ok_or_else(|| {
        AppError::Forbidden("only candidates may apply: create your profile with upsertCandidateProfile first".into())
    })?;
    let posting = crate::services::postings::read(state, viewer, posting_id).await?;
    let at = now();
    takes_applications(&posting, at)?;
    let cover_letter =
        match cover_letter.map(|c| hiregraph_domain::values::bounded_text("coverLetter", &c, 0, 10_000)).transpose() {
            Ok(c) => c.filter(|c| !c.is_empty()),
            Err(e) => return Err(AppError::invalid_under(e.into(), "input")),
        };
    if let Source::Partner(name) = &source
        && (name.trim().is_empty() || name.len() > 120)
    {
        return Err(AppError::BadInput(
            "input.source.partnerName: must be 1 to 120 characters".into(),
            vec![FieldError::new("input.source.partnerName", "must be 1 to 120 characters")],
        ));
    }
    let duplicate = || AppError::Conflict("you have already applied to this posting".into());
    if store::find_id(posting_id, candidate, &state.db.conn).await?.is_some() {
        return Err(duplicate());
    }
    let application = Application {
        id: ApplicationId::generate(),
        posting_id,
        company_id: posting.company_id,
        candidate_id: candidate,
        cover_letter,
        source,
        status: ApplicationStatus::Applied,
        created_at: at,
        updated_at: at,
        resume_text: None,
        answers: Vec::new(),
    };
    let mut unit = events::begin(state, viewer).await?;
    store::insert(&application, user, unit.conn()).await.map_err(|e| match e {
        StoreError::Duplicate(_) => duplicate(),
        other => other.into(),
    })?;
    unit.record(Change::ApplicationCreated(application.clone()));
    unit.commit().await?;
    Ok(Arc::new(application))
}

/// Moves an application: the company forward or to REJECTED, the candidate to WITHDRAWN. Every
/// move is recorded as an event in the same transaction.
pub async fn move_to(
    state: &AppState,
    viewer: &Viewer,
    id: ApplicationId,
    to: ApplicationStatus,
    note: Option<String>,
) -> AppResult<Arc<Application>> {
    let actor = author(viewer)?;
    let (application, _) = read(state, viewer, id).await?;
    let (mover, action) = if to == ApplicationStatus::Withdrawn {
        (Mover::Candidate, ApplicationAction::Withdraw)
    } else {
        (Mover::Company, ApplicationAction::Move)
    };
    check(state, viewer, &application, action).await?;
    let note = match note.map(|n| hiregraph_domain::values::bounded_text("note", &n, 0, 5_000)).transpose() {
        Ok(n) => n.filter(|n| !n.is_empty()),
        Err(e) => return Err(AppError::invalid_under(e.into(), "input")),
    };
    let from = application.status;
    from.move_to(to, mover).map_err(|e| {
        AppError::BadInput(
            format!("{e}{}", if from.is_terminal() { " (it is final)" } else { "" }),
            vec![FieldError::new("input.to", format!("{} cannot become {}", e.from.as_str(), e.to.as_str()))],
        )
    })?;
    let at = now();
    let mut unit = events::begin(state, viewer).await?;
    store::set_status(id, from, to, at, unit.conn()).await.map_err(|e| match e {
        StoreError::StaleVersion => {
            AppError::Conflict("the application moved meanwhile: reload it and try again".into())
        }
        other => other.into(),
    })?;
    let event = ApplicationEvent {
        id: uuid::Uuid::now_v7(),
        application_id: id,
        from: Some(from),
        to,
        actor,
        note: note.clone(),
        at,
    };
    store::insert_event(&event, unit.conn()).await?;
    // `set_status` moved it from `from` or failed, so this is the row as it now stands.
    let moved = Application { status: to, updated_at: at, ..(*application).clone() };
    unit.record(Change::ApplicationMoved { application: moved.clone(), from, note });
    unit.commit().await?;
    Ok(Arc::new(moved))
}

pub async fn add_note(state: &AppState, viewer: &Viewer, id: ApplicationId, body: &str) -> AppResult<ApplicationNote> {
    let author = author(viewer)?;
    let (application, _) = read(state, viewer, id).await?;
    check(state, viewer, &application, ApplicationAction::WriteNotes).await?;
    let body = hiregraph_domain::values::bounded_text("body", body, 1, 10_000)
        .map_err(|e| AppError::invalid_under(e.into(), "input"))?;
    let note = ApplicationNote { id: uuid::Uuid::now_v7(), application_id: id, author, body, at: now() };
    let mut unit = events::begin(state, viewer).await?;
    store::insert_note(&note, unit.conn()).await?;
    unit.record(Change::NoteAdded { note: note.clone(), company: application.company_id });
    unit.commit().await?;
    Ok(note)
}

/// Whether the viewer may see the applications and pipeline of a posting of `company`: its members
/// and platform admins. Takes the company the caller already holds, so a page of postings checks
/// without loading anything again.
pub async fn may_list_for_posting(state: &AppState, viewer: &Viewer, company: CompanyId) -> AppResult<()> {
    if viewer.may(state, company, CompanyAction::ReadApplications).await? {
        return Ok(());
    }
    authenticated(viewer)?;
    Err(AppError::Forbidden("only the company's members see a posting's applications".into()))
}

/// What a partner submits: a person and their application to a posting.
pub struct Submission {
    pub posting_id: PostingId,
    /// The partner's own reference for the application, unique in the partner's company.
    pub external_id: Option<String>,
    pub applicant: ApplicantInput,
    pub cover_letter: Option<String>,
    pub resume_text: Option<String>,
    pub answers: Vec<Answer>,
}

/// What a submission did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Submitted {
    Created,
    /// The external id already names this application, to this posting: a replay, nothing written.
    Unchanged,
}

/// How long a claim token holds.
const CLAIM_DAYS: i64 = 30;

/// A job board submits an applicant (`applications:submit`) to any published, unexpired posting:
/// the person is found by email among applicants without an account, or recorded as a new one
/// (never attached to a user's account: the person claims with the returned token), and applies
/// once per posting, also under concurrent submissions (unique indexes decide, the losers get
/// `CONFLICT`). Source `PARTNER` with the app's name. A replay with the same `externalId` returns
/// the application it named and writes nothing. The claim token is returned with a new
/// application only.
pub async fn submit(
    state: &AppState,
    viewer: &Viewer,
    submission: Submission,
) -> AppResult<(Arc<Application>, Submitted, Option<String>)> {
    use hiregraph_domain::partners::Scope;
    let (app, company, scopes) = match &viewer.principal {
        Principal::Partner { app, company, scopes, .. } => (*app, *company, *scopes),
        Principal::User { .. } => {
            return Err(AppError::Forbidden(
                "only partner apps submit applicants; a signed-in candidate uses applyToPosting".into(),
            ));
        }
        Principal::Anonymous => return Err(AppError::Unauthenticated("sign in first".into())),
    };
    if !scopes.allows(Scope::ApplicationsSubmit) {
        return Err(AppError::Forbidden("this partner app's scopes do not allow this (applications:submit)".into()));
    }
    let mut errors = ValidationErrors::new();
    let external = errors
        .take(
            submission
                .external_id
                .as_deref()
                .map(|e| hiregraph_domain::values::external_id("externalId", e))
                .transpose(),
        )
        .flatten();
    let content = match submission.applicant.content() {
        Ok(content) => Some(content),
        Err(e) => {
            errors.0.extend(e.0.into_iter().map(|e| e.under("candidate")));
            None
        }
    };
    let texts = match rules::submission(submission.cover_letter, submission.resume_text, submission.answers) {
        Ok(texts) => Some(texts),
        Err(e) => {
            errors.0.extend(e.0);
            None
        }
    };
    let (Some((content, email)), Some(texts)) = (content, texts) else {
        return Err(AppError::invalid_under(errors, "input"));
    };
    if !errors.is_empty() {
        return Err(AppError::invalid_under(errors, "input"));
    }
    let posting = crate::services::postings::read(state, viewer, submission.posting_id).await?;
    let at = now();
    takes_applications(&posting, at)?;
    let taken = |ext: &str| {
        AppError::BadInput(
            format!("input.externalId: `{ext}` already names another application of this partner's company"),
            vec![FieldError::new("input.externalId", "already names another application")],
        )
    };
    if let Some(ext) = &external
        && let Some(id) = external_ids::find(company, ExternalKind::Application, ext, &state.db.conn).await?
    {
        return match load(state, ApplicationId(id)).await? {
            Some(existing) if existing.posting_id == posting.id => Ok((existing, Submitted::Unchanged, None)),
            _ => Err(taken(ext)),
        };
    }
    let partner_name = crate::services::partners::app_name(state, app).await?;
    let applicant =
        CandidateProfile { id: CandidateId::generate(), user_id: None, content, created_at: at, updated_at: at };
    let actor = author(viewer)?;
    let mut unit = events::begin(state, viewer).await?;
    let (candidate, _) = candidates::find_or_insert_applicant(&applicant, &email, unit.conn()).await?;
    let application = Application {
        id: ApplicationId::generate(),
        posting_id: posting.id,
        company_id: posting.company_id,
        candidate_id: candidate,
        cover_letter: texts.cover_letter,
        source: Source::Partner(partner_name),
        status: ApplicationStatus::Applied,
        created_at: at,
        updated_at: at,
        resume_text: texts.resume_text,
        answers: texts.answers,
    };
    store::insert(&application, actor, unit.conn()).await.map_err(|e| match e {
        StoreError::Duplicate(_) => AppError::Conflict("this applicant has already applied to this posting".into()),
        other => other.into(),
    })?;
    if let Some(ext) = &external {
        external_ids::insert(company, ExternalKind::Application, ext, application.id.0, unit.conn()).await.map_err(
            |e| match e {
                StoreError::Duplicate(_) => taken(ext),
                other => other.into(),
            },
        )?;
    }
    let token = format!("hgclaim_{}", crate::auth::refresh::generate());
    let expires = at + chrono::Duration::days(CLAIM_DAYS);
    candidates::insert_claim(&crate::auth::refresh::digest(&token), candidate, at, expires, unit.conn()).await?;
    unit.record(Change::ApplicationCreated(application.clone()));
    unit.commit().await?;
    Ok((Arc::new(application), Submitted::Created, Some(token)))
}

/// The partner's own references for some applications, in the partner's company; none for anyone
/// else.
pub async fn external_ids_of(
    state: &AppState,
    viewer: &Viewer,
    ids: &[ApplicationId],
) -> AppResult<std::collections::HashMap<ApplicationId, String>> {
    let Principal::Partner { company, .. } = viewer.principal else { return Ok(Default::default()) };
    let uuids: Vec<uuid::Uuid> = ids.iter().map(|id| id.0).collect();
    let found = external_ids::of_objects(Some(company), ExternalKind::Application, &uuids, &state.db.conn).await?;
    Ok(found.into_iter().map(|(id, ext)| (ApplicationId(id), ext)).collect())
}

/// The signed-in person claims what a partner submitted for them, with the token the partner
/// passed on and an account under the same email: the applicant record becomes their profile, or,
/// when they have one, its applications move to it (those to postings they applied to themselves
/// stay behind). Every token of that applicant is spent. Returns the profile and how many
/// applications it gained.
pub async fn claim(state: &AppState, viewer: &Viewer, token: &str) -> AppResult<(Arc<CandidateProfile>, u64)> {
    let user = signed_in(viewer)?;
    let refused = |why: &str| AppError::bad_input("input.token", why.to_owned());
    let token = token.trim();
    if token.is_empty() || token.len() > 200 {
        return Err(refused("is not a claim token"));
    }
    let at = now();
    let Some((applicant_id, expires_at)) =
        candidates::find_claim(&crate::auth::refresh::digest(token), &state.db.conn).await?
    else {
        return Err(refused("is unknown or was already used"));
    };
    if expires_at <= at {
        return Err(refused("has expired: ask the job board to send the application again"));
    }
    let account = hiregraph_persistence::users::find_by_ids(&[user], &state.db.conn)
        .await?
        .pop()
        .ok_or_else(|| AppError::Unauthenticated("the account no longer exists".into()))?;
    let mut unit = events::begin(state, viewer).await?;
    let applicant = candidates::find_by_ids(&[applicant_id], unit.conn())
        .await?
        .pop()
        .filter(|p| p.user_id.is_none())
        .ok_or_else(|| refused("is unknown or was already used"))?;
    if applicant.content.contact_email.as_ref().map(|e| e.as_str()) != Some(account.email.as_str()) {
        return Err(AppError::Forbidden(
            "the applications were submitted for another email address: sign in with that address to claim them".into(),
        ));
    }
    let stale = |e: StoreError| match e {
        StoreError::StaleVersion => AppError::Conflict("the applications were claimed meanwhile".into()),
        other => other.into(),
    };
    let (profile, moved) = match candidates::find_id_by_user(user, unit.conn()).await? {
        None => {
            let moved = store::ids_of_candidate(applicant.id, unit.conn()).await?.len() as u64;
            candidates::attach_to_user(applicant.id, user, at, unit.conn()).await.map_err(stale)?;
            candidates::delete_claims(applicant.id, unit.conn()).await?;
            let profile = CandidateProfile { user_id: Some(user), updated_at: at, ..applicant };
            unit.record(Change::CandidateProfileUpdated(profile.clone()));
            (profile, moved)
        }
        Some(own) => {
            let moved = store::reassign(applicant.id, own, unit.conn()).await?;
            candidates::delete_claims(applicant.id, unit.conn()).await?;
            if store::ids_of_candidate(applicant.id, unit.conn()).await?.is_empty() {
                candidates::delete(applicant.id, unit.conn()).await?;
            }
            let profile = candidates::find_by_ids(&[own], unit.conn())
                .await?
                .pop()
                .ok_or_else(|| AppError::Conflict("your profile was removed meanwhile".into()))?;
            unit.record(Change::CandidateProfileUpdated(applicant));
            unit.record(Change::CandidateProfileUpdated(profile.clone()));
            (profile, moved)
        }
    };
    unit.commit().await?;
    Ok((Arc::new(profile), moved))
}
