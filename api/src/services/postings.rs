//! Writing postings and moving them through their status machine; reading them with visibility.

use std::sync::Arc;

use hiregraph_domain::companies::{CompanyAction, LocationInput};
use hiregraph_domain::events::Change;
use hiregraph_domain::postings::{
    Posting, PostingAction, PostingContent, PostingContentInput, PostingStatus, SalaryInput,
};
use hiregraph_domain::values::Slug;
use hiregraph_domain::{CompanyId, PostingId, ValidationErrors};
use hiregraph_persistence::postings;

use crate::error::{AppError, AppResult};
use crate::services::companies::{authenticated, authorize};
use crate::services::{events, loading};
use crate::state::{AppState, Viewer, now};

fn not_found() -> AppError {
    AppError::NotFound("no posting has this id".into())
}

/// Whether the viewer may see this posting: the public sees published ones; the company's
/// members and platform admins see every status.
pub async fn may_read(state: &AppState, viewer: &Viewer, posting: &Posting) -> AppResult<bool> {
    if readable_by_anyone(posting) {
        return Ok(true);
    }
    viewer.may(state, posting.company_id, CompanyAction::ReadPrivatePostings).await
}

/// Whether everyone, signed in or not, may read the posting (what `may_read` decides first).
pub fn readable_by_anyone(posting: &Posting) -> bool {
    posting.status.is_public()
}

/// A posting the viewer may see, or `NOT_FOUND` (whether it does not exist or is hidden).
pub async fn read(state: &AppState, viewer: &Viewer, id: PostingId) -> AppResult<Arc<Posting>> {
    let posting = loading::posting(state, id).await?.ok_or_else(not_found)?;
    if may_read(state, viewer, &posting).await? { Ok(posting) } else { Err(not_found()) }
}

/// Loads a posting for a write: hidden ones are `NOT_FOUND`, visible ones the viewer may not
/// manage are `FORBIDDEN`. Reads the database, not the cache, since a write follows.
async fn for_write(state: &AppState, viewer: &Viewer, id: PostingId) -> AppResult<Posting> {
    authenticated(viewer)?;
    let posting = postings::find_by_ids(&[id], &state.db.conn).await?.pop().ok_or_else(not_found)?;
    if !may_read(state, viewer, &posting).await? {
        return Err(not_found());
    }
    if !viewer.may(state, posting.company_id, CompanyAction::ManagePostings).await? {
        return Err(AppError::Forbidden(
            "only the company's recruiters, admins and owners may change its postings".into(),
        ));
    }
    Ok(posting)
}

/// The posting as the write left it, read inside the write's transaction.
async fn reread(id: PostingId, conn: &impl hiregraph_persistence::ConnectionTrait) -> AppResult<Posting> {
    postings::find_by_ids(&[id], conn).await?.pop().ok_or_else(not_found)
}

fn posting_slug(title: &str, id: PostingId) -> String {
    let base = Slug::from_text(title).map(|s| s.as_str().to_owned()).unwrap_or_else(|| "job".to_owned());
    let base: String = base.chars().take(100).collect();
    let suffix: String = id.0.simple().to_string().chars().rev().take(8).collect();
    format!("{}-{suffix}", base.trim_end_matches('-'))
}

pub async fn create(
    state: &AppState,
    viewer: &Viewer,
    company: CompanyId,
    input: PostingContentInput,
) -> AppResult<Arc<Posting>> {
    authorize(state, viewer, company, CompanyAction::ManagePostings).await?;
    let content = PostingContent::try_from(input).map_err(|e| AppError::invalid_under(e, "input"))?;
    let at = now();
    let id = PostingId::generate();
    let posting = Posting {
        id,
        company_id: company,
        slug: posting_slug(&content.title, id),
        content,
        status: PostingStatus::Draft,
        published_at: None,
        version: 1,
        created_at: at,
        updated_at: at,
    };
    let mut unit = events::begin(state, viewer).await?;
    postings::insert(&posting, unit.conn()).await?;
    unit.record(Change::PostingCreated(posting.clone()));
    unit.commit().await?;
    Ok(Arc::new(posting))
}

/// Fields of an update: `None` keeps the stored value; `Some(None)` clears an optional one.
#[derive(Default)]
pub struct PostingPatch {
    pub title: Option<String>,
    pub summary: Option<Option<String>>,
    pub description: Option<String>,
    pub responsibilities: Option<Vec<String>>,
    pub required_qualifications: Option<Vec<String>>,
    pub preferred_qualifications: Option<Vec<String>>,
    pub employment_type: Option<Option<hiregraph_domain::postings::EmploymentType>>,
    pub seniority: Option<Option<hiregraph_domain::postings::Seniority>>,
    pub min_years_experience: Option<Option<i32>>,
    pub workplace: Option<Option<hiregraph_domain::postings::Workplace>>,
    pub locations: Option<Vec<LocationInput>>,
    pub salary: Option<Option<SalaryInput>>,
    pub equity: Option<bool>,
    pub skills: Option<Vec<hiregraph_domain::postings::PostingSkill>>,
    pub benefits: Option<Vec<String>>,
    pub expires_at: Option<Option<chrono::DateTime<chrono::Utc>>>,
}

fn as_input(content: &PostingContent) -> PostingContentInput {
    PostingContentInput {
        title: content.title.clone(),
        summary: content.summary.clone(),
        description: content.description.clone(),
        responsibilities: content.responsibilities.clone(),
        required_qualifications: content.required_qualifications.clone(),
        preferred_qualifications: content.preferred_qualifications.clone(),
        employment_type: content.employment_type,
        seniority: content.seniority,
        min_years_experience: content.min_years_experience,
        workplace: content.workplace,
        locations: content
            .locations
            .iter()
            .map(|l| LocationInput {
                city: l.city().map(str::to_owned),
                region: l.region().map(str::to_owned),
                country: l.country().as_str().to_owned(),
                remote: l.is_remote(),
            })
            .collect(),
        salary: content.salary.map(|s| SalaryInput {
            min: s.min(),
            max: s.max(),
            currency: s.currency().as_str().to_owned(),
            period: s.period(),
        }),
        equity: content.equity,
        skills: content.skills.clone(),
        benefits: content.benefits.clone(),
        expires_at: content.expires_at,
    }
}

fn stale(current: i32, expected: i32) -> AppError {
    AppError::Conflict(format!(
        "the posting is at version {current}, not {expected}: reload it and apply your change again"
    ))
}

pub async fn update(
    state: &AppState,
    viewer: &Viewer,
    id: PostingId,
    expected_version: i32,
    patch: PostingPatch,
) -> AppResult<Arc<Posting>> {
    let current = for_write(state, viewer, id).await?;
    if current.version != expected_version {
        return Err(stale(current.version, expected_version));
    }
    if !current.status.is_editable() {
        return Err(AppError::bad_input(
            "input.id",
            format!("a {} posting can no longer be edited", current.status.as_str()),
        ));
    }
    let mut input = as_input(&current.content);
    macro_rules! apply {
        ($($field:ident),+) => { $(if let Some(v) = patch.$field { input.$field = v; })+ };
    }
    apply!(
        title,
        summary,
        description,
        responsibilities,
        required_qualifications,
        preferred_qualifications,
        employment_type,
        seniority,
        min_years_experience,
        workplace,
        locations,
        salary,
        equity,
        skills,
        benefits,
        expires_at
    );
    let content = PostingContent::try_from(input).map_err(|e| AppError::invalid_under(e, "input"))?;
    if matches!(current.status, PostingStatus::Published | PostingStatus::Paused) {
        let missing = content.missing_for_publication(now());
        if !missing.is_empty() {
            let errors = ValidationErrors(missing);
            return Err(AppError::BadInput(
                format!("a {} posting must stay complete: {errors}", current.status.as_str()),
                errors.0.into_iter().map(|e| e.under("input")).collect(),
            ));
        }
    }
    let mut unit = events::begin(state, viewer).await?;
    match postings::update_content(id, expected_version, &content, now(), unit.conn()).await {
        Ok(_) => {}
        Err(hiregraph_persistence::StoreError::StaleVersion) => {
            let version = postings::current_version(id, unit.conn()).await?.unwrap_or(expected_version);
            return Err(stale(version, expected_version));
        }
        Err(other) => return Err(other.into()),
    }
    let updated = reread(id, unit.conn()).await?;
    unit.record(Change::PostingUpdated(updated.clone()));
    unit.commit().await?;
    Ok(Arc::new(updated))
}

pub async fn transition(
    state: &AppState,
    viewer: &Viewer,
    id: PostingId,
    action: PostingAction,
) -> AppResult<Arc<Posting>> {
    let current = for_write(state, viewer, id).await?;
    let to = current.status.apply(action).map_err(|e| {
        AppError::BadInput(
            format!("{e} (from {} to {} is not allowed)", e.from.as_str(), action.target().as_str()),
            vec![hiregraph_domain::FieldError::new(
                "input.id",
                format!("status {} cannot become {}", e.from.as_str(), action.target().as_str()),
            )],
        )
    })?;
    let at = now();
    if action == PostingAction::Publish {
        let missing = current.content.missing_for_publication(at);
        if !missing.is_empty() {
            let names: Vec<&str> = missing.iter().map(|e| e.field.as_str()).collect();
            return Err(AppError::BadInput(
                format!("the posting cannot be published until these are filled: {}", names.join(", ")),
                missing,
            ));
        }
    }
    let published_at = match to {
        PostingStatus::Published => Some(current.published_at.unwrap_or(at)),
        _ => current.published_at,
    };
    let mut unit = events::begin(state, viewer).await?;
    postings::set_status(id, current.status, to, published_at, at, unit.conn()).await.map_err(|e| match e {
        hiregraph_persistence::StoreError::StaleVersion => {
            AppError::Conflict("the posting's status changed meanwhile: reload it and try again".into())
        }
        other => other.into(),
    })?;
    let updated = reread(id, unit.conn()).await?;
    unit.record(Change::PostingStatusChanged { posting: updated.clone(), from: current.status });
    unit.commit().await?;
    Ok(Arc::new(updated))
}

/// The largest job description `import` reads.
pub const MAX_IMPORT_BYTES: usize = 100_000;

/// Creates a DRAFT from a job description in Markdown; returns it with what could not be
/// determined (those fields stay empty, the text stays in the description).
pub async fn import(
    state: &AppState,
    viewer: &Viewer,
    company: CompanyId,
    markdown: &str,
) -> AppResult<(Arc<Posting>, Vec<String>)> {
    if markdown.trim().is_empty() {
        return Err(AppError::bad_input("input.markdown", "must not be empty"));
    }
    if markdown.len() > MAX_IMPORT_BYTES {
        return Err(AppError::bad_input("input.markdown", format!("must be at most {MAX_IMPORT_BYTES} bytes")));
    }
    let imported = hiregraph_domain::import::import_markdown(markdown);
    let posting = create(state, viewer, company, imported.content).await?;
    Ok((posting, imported.warnings))
}

/// Announces postings whose expiry passed (`posting.expired`), each once, in one unit of work
/// with the watermark that says so; returns how many.
pub async fn announce_expired(state: &AppState) -> AppResult<usize> {
    let mut unit = events::begin_on(state, &state.work_db, hiregraph_domain::events::Actor::System).await?;
    let Some(expired) = postings::take_expired(now(), 500, unit.conn()).await? else { return Ok(0) };
    let count = expired.len();
    for posting in expired {
        unit.record(Change::PostingExpired(posting));
    }
    unit.commit().await?;
    Ok(count)
}
