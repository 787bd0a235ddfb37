//! Writing postings and moving them through their status machine; reading them with visibility.

use std::sync::Arc;

use hiregraph_domain::companies::{CompanyAction, LocationInput};
use hiregraph_domain::events::Change;
use hiregraph_domain::postings::{
    Posting, PostingAction, PostingContent, PostingContentInput, PostingStatus, SalaryInput,
};
use hiregraph_domain::values::Slug;
use hiregraph_domain::{CompanyId, PostingId, ValidationErrors};
use hiregraph_persistence::external_ids::{self, ExternalKind};
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

/// A new posting of `company`: a draft at version 1, its slug from its title.
fn new_draft(id: PostingId, company: CompanyId, content: PostingContent, at: chrono::DateTime<chrono::Utc>) -> Posting {
    Posting {
        id,
        company_id: company,
        slug: posting_slug(&content.title, id),
        content,
        status: PostingStatus::Draft,
        published_at: None,
        version: 1,
        created_at: at,
        updated_at: at,
    }
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
    let posting = new_draft(PostingId::generate(), company, content, now());
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
    match postings::update_content(id, expected_version, &current.content, &content, now(), unit.conn()).await {
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

// ---------------------------------------------------------------------------------------------
// External ids and bulk upserts

/// The most postings one `upsertPostings` takes.
pub const MAX_UPSERT: usize = 100;

/// What an upsert did with one item.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Upserted {
    Created,
    Updated,
    Unchanged,
}

/// One item's outcome: the posting as it now stands, or why the item was refused (nothing of it
/// was written).
pub type ItemResult = Result<(Upserted, Arc<Posting>), AppError>;

/// A company's own reference for a posting: 1 to 200 characters, no control characters.
fn external_id(field: &str, raw: &str) -> AppResult<String> {
    hiregraph_domain::values::external_id(field, raw).map_err(|e| AppError::bad_input(&e.field, e.message))
}

/// The posting a company calls `external`, for those who see the company's postings in every
/// status (its members, its partners with `postings:read`); `NOT_FOUND` for everyone else.
pub async fn id_by_external(
    state: &AppState,
    viewer: &Viewer,
    company: CompanyId,
    external: &str,
) -> AppResult<PostingId> {
    let missing = || AppError::NotFound(format!("no posting of this company has the external id `{external}`"));
    if !viewer.may(state, company, CompanyAction::ReadPrivatePostings).await? {
        return Err(missing());
    }
    let found = external_ids::find(company, ExternalKind::Posting, external.trim(), &state.db.conn).await?;
    found.map(PostingId).ok_or_else(missing)
}

/// The external ids of some postings (the caller checked the viewer may see them).
pub async fn external_ids_of(
    state: &AppState,
    ids: &[PostingId],
) -> AppResult<std::collections::HashMap<PostingId, String>> {
    let uuids: Vec<uuid::Uuid> = ids.iter().map(|id| id.0).collect();
    let found = external_ids::of_objects(None, ExternalKind::Posting, &uuids, &state.db.conn).await?;
    Ok(found.into_iter().map(|(id, ext)| (PostingId(id), ext)).collect())
}

/// Creates or updates a company's postings by their external ids, in one unit of work: every item
/// is checked first, and one that fails (its error names `input.postings.<i>.<field>`) is refused
/// alone while the others are applied. With `publish`, drafts are published too. Replaying a batch
/// changes nothing (`UNCHANGED`). The external ids are looked up, and the existing postings read,
/// in one statement each; the new external ids are taken in one statement, then each changed
/// posting's row is updated against its version, then the new postings and the child rows of
/// every posting whose lists changed are written in one statement per table. Everything is
/// written in external-id order, so two batches never wait on each other in a cycle; nothing is
/// read back. A database failure fails the whole call, and nothing of it is written: a replay
/// picks up from there.
pub async fn upsert_many(
    state: &AppState,
    viewer: &Viewer,
    company: CompanyId,
    items: Vec<(String, PostingContentInput)>,
    publish: bool,
) -> AppResult<Vec<(String, ItemResult)>> {
    authorize(state, viewer, company, CompanyAction::ManagePostings).await?;
    if items.len() > MAX_UPSERT {
        return Err(AppError::bad_input(
            "input.postings",
            format!("at most {MAX_UPSERT} postings per call, this one has {}", items.len()),
        ));
    }
    let at = now();
    let under = |i: usize, e: AppError| match e {
        AppError::BadInput(message, fields) => {
            let path = format!("input.postings.{i}");
            AppError::BadInput(format!("{path}: {message}"), fields.into_iter().map(|f| f.under(&path)).collect())
        }
        other => other,
    };
    let mut results: Vec<Option<ItemResult>> = (0..items.len()).map(|_| None).collect();
    let mut seen = std::collections::HashSet::new();
    let mut valid: Vec<(usize, String, PostingContent)> = Vec::new();
    let mut raw_ids = Vec::with_capacity(items.len());
    for (i, (raw_id, input)) in items.into_iter().enumerate() {
        let checked = external_id(&format!("input.postings.{i}.externalId"), &raw_id).and_then(|ext| {
            if !seen.insert(ext.clone()) {
                return Err(AppError::bad_input(
                    &format!("input.postings.{i}.externalId"),
                    "appears more than once in this batch",
                ));
            }
            prepare(input, publish, at).map(|content| (ext, content)).map_err(|e| under(i, e))
        });
        raw_ids.push(raw_id);
        match checked {
            Ok((ext, content)) => valid.push((i, ext, content)),
            Err(e) => results[i] = Some(Err(e)),
        }
    }
    valid.sort_by(|a, b| a.1.cmp(&b.1));
    let exts: Vec<&str> = valid.iter().map(|(_, ext, _)| ext.as_str()).collect();
    let known = external_ids::find_many(company, ExternalKind::Posting, &exts, &state.db.conn).await?;
    let ids: Vec<PostingId> = known.values().map(|id| PostingId(*id)).collect();
    let current: std::collections::HashMap<PostingId, Posting> =
        postings::find_by_ids(&ids, &state.db.conn).await?.into_iter().map(|p| (p.id, p)).collect();

    let mut unit = events::begin(state, viewer).await?;
    // Postings' own rows are written item by item (each update checks its version); the new
    // postings and every child row are written after the loop, in one statement per table.
    // The new items' external ids first, all at once: one that a concurrent batch took makes its
    // item a conflict before anything of it is written.
    let fresh: std::collections::HashMap<String, PostingId> = valid
        .iter()
        .filter(|(_, ext, _)| !known.contains_key(ext))
        .map(|(_, ext, _)| (ext.clone(), PostingId::generate()))
        .collect();
    let names: Vec<(&str, uuid::Uuid)> =
        valid.iter().filter_map(|(_, ext, _)| fresh.get(ext).map(|id| (ext.as_str(), id.0))).collect();
    let taken = external_ids::insert_all_absent(company, ExternalKind::Posting, &names, unit.conn()).await?;
    let mut created: Vec<Arc<Posting>> = Vec::new();
    let mut rewritten: Vec<Arc<Posting>> = Vec::new();
    for (i, ext, content) in valid {
        let outcome = match known.get(&ext).map(|id| PostingId(*id)) {
            None => {
                let Some(id) = fresh.get(&ext).copied().filter(|_| taken.contains(&ext)) else {
                    results[i] = Some(Err(AppError::Conflict(format!(
                        "`{ext}` was created by another request meanwhile; replay the item"
                    ))));
                    continue;
                };
                let draft = new_draft(id, company, content, at);
                let stored = if publish {
                    Posting { status: PostingStatus::Published, published_at: Some(at), version: 2, ..draft.clone() }
                } else {
                    draft.clone()
                };
                let stored = Arc::new(stored);
                created.push(stored.clone());
                unit.record(Change::PostingCreated(draft));
                if publish {
                    unit.record(Change::PostingStatusChanged {
                        posting: stored.as_ref().clone(),
                        from: PostingStatus::Draft,
                    });
                }
                Ok((Upserted::Created, stored))
            }
            Some(id) => match current.get(&id) {
                None => Err(not_found()),
                Some(current) => match update_item(&mut unit, current, content, publish, at).await {
                    Err(AppError::Internal(e)) => return Err(AppError::Internal(e)),
                    Ok((outcome, posting, content_changed)) => {
                        if content_changed {
                            rewritten.push(posting.clone());
                        }
                        Ok((outcome, posting))
                    }
                    Err(e) => Err(under(i, e)),
                },
            },
        };
        results[i] = Some(outcome);
    }
    let new: Vec<Posting> = created.iter().map(|p| p.as_ref().clone()).collect();
    postings::insert_many(&new, unit.conn()).await?;
    let writes: Vec<postings::ChildWrite<'_>> = rewritten
        .iter()
        .map(|p| postings::ChildWrite { id: p.id, before: current.get(&p.id).map(|c| &c.content), after: &p.content })
        .collect();
    postings::write_children(&writes, unit.conn()).await?;
    unit.commit().await?;
    Ok(raw_ids
        .into_iter()
        .zip(results)
        .map(|(raw, result)| {
            (raw, result.unwrap_or_else(|| Err(AppError::Conflict("the item was not written; replay it".into()))))
        })
        .collect())
}

/// An item's content, validated, and complete enough to publish when `publish` asks for it.
fn prepare(
    mut input: PostingContentInput,
    publish: bool,
    at: chrono::DateTime<chrono::Utc>,
) -> AppResult<PostingContent> {
    use chrono::SubsecRound;
    input.expires_at = input.expires_at.map(|t| t.trunc_subsecs(6));
    let content = PostingContent::try_from(input).map_err(AppError::invalid)?;
    if publish {
        let missing = content.missing_for_publication(at);
        if !missing.is_empty() {
            let names: Vec<&str> = missing.iter().map(|e| e.field.as_str()).collect();
            return Err(AppError::BadInput(
                format!("cannot be published until these are filled: {}", names.join(", ")),
                missing,
            ));
        }
    }
    Ok(content)
}

/// Updates (and with `publish`, publishes) an existing posting's own row inside the batch's unit
/// of work, and says whether its content changed (its child rows are then the caller's to write);
/// the posting as it now stands is built from what was written, not read back.
async fn update_item(
    unit: &mut events::Unit<'_>,
    current: &Posting,
    content: PostingContent,
    publish: bool,
    at: chrono::DateTime<chrono::Utc>,
) -> AppResult<(Upserted, Arc<Posting>, bool)> {
    let publishing = publish && current.status == PostingStatus::Draft;
    let changes = current.content != content;
    if !changes && !publishing {
        return Ok((Upserted::Unchanged, Arc::new(current.clone()), false));
    }
    let mut updated = current.clone();
    if changes {
        if !current.status.is_editable() {
            return Err(AppError::bad_input(
                "externalId",
                format!("the posting is {} and can no longer be edited", current.status.as_str()),
            ));
        }
        if matches!(current.status, PostingStatus::Published | PostingStatus::Paused) {
            let missing = content.missing_for_publication(at);
            if !missing.is_empty() {
                return Err(AppError::invalid(ValidationErrors(missing)));
            }
        }
        let version = postings::update_row(current.id, current.version, &content, at, unit.conn()).await.map_err(
            |e| match e {
                hiregraph_persistence::StoreError::StaleVersion => {
                    AppError::Conflict("the posting changed meanwhile; replay the item".into())
                }
                other => other.into(),
            },
        )?;
        updated = Posting { content, version, updated_at: at, ..updated };
        unit.record(Change::PostingUpdated(updated.clone()));
    }
    if publishing {
        postings::set_status(current.id, PostingStatus::Draft, PostingStatus::Published, Some(at), at, unit.conn())
            .await
            .map_err(|e| match e {
                hiregraph_persistence::StoreError::StaleVersion => {
                    AppError::Conflict("the posting changed meanwhile; replay the item".into())
                }
                other => other.into(),
            })?;
        updated = Posting {
            status: PostingStatus::Published,
            published_at: Some(at),
            version: updated.version + 1,
            updated_at: at,
            ..updated
        };
        unit.record(Change::PostingStatusChanged { posting: updated.clone(), from: PostingStatus::Draft });
    }
    Ok((Upserted::Updated, Arc::new(updated), changes))
}
