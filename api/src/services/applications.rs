//! Applying, and moving applications through the pipeline.

use std::sync::Arc;

use hiregraph_domain::applications::{
    self as rules, Application, ApplicationAction, ApplicationEvent, ApplicationNote, ApplicationStatus, Mover,
    Relation, Source,
};
use hiregraph_domain::companies::{CompanyAction, Standing};
use hiregraph_domain::events::Change;
use hiregraph_domain::{ApplicationId, CompanyId, FieldError, PostingId};
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
    if !posting.status.is_public() {
        return Err(AppError::bad_input(
            "input.postingId",
            format!("the posting is {} and takes no applications", posting.status.as_str()),
        ));
    }
    if posting.is_expired(at) {
        return Err(AppError::bad_input("input.postingId", "the posting has expired and takes no applications"));
    }
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
