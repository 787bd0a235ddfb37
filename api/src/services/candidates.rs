//! Candidate profiles: editing one's own, and reading others' as visibility allows.

use std::sync::Arc;

use hiregraph_domain::candidates::{CandidateAccess, CandidateProfile, ProfileContent, ProfileInput, Visibility};
use hiregraph_domain::{CandidateId, UserId};
use hiregraph_persistence::candidates::{self as store, CandidateFilter};
use hiregraph_persistence::page::{Page, PageRequest};
use hiregraph_persistence::{StoreError, applications};

use crate::error::{AppError, AppResult};
use crate::services::companies::{authenticated, signed_in};
use crate::services::events;
use crate::state::{AppState, Viewer, now};

fn not_found() -> AppError {
    AppError::NotFound("no candidate you may see has this id".into())
}

/// How the viewer relates to this candidate. `applied` says whether the candidate applied to one
/// of the viewer's companies (batched by the caller when it can be).
pub async fn access(
    state: &AppState,
    viewer: &Viewer,
    profile: &CandidateProfile,
    applied: Option<bool>,
) -> AppResult<CandidateAccess> {
    let is_applied_company_member = match applied {
        Some(applied) => applied,
        None => {
            let companies = viewer.applicant_companies(state).await?;
            !companies.is_empty()
                && !applications::applied_to_any(&[profile.id], &companies, &state.db.conn).await?.is_empty()
        }
    };
    Ok(CandidateAccess {
        is_self: viewer.principal.user_id().is_some_and(|u| profile.user_id == Some(u)),
        is_platform_admin: viewer.principal.is_platform_admin(),
        is_applied_company_member,
        is_employer: viewer.is_employer(state).await?,
    })
}

/// A profile without its private fields (see `loading::candidates_by_id`).
pub async fn load(state: &AppState, id: CandidateId) -> AppResult<Option<Arc<CandidateProfile>>> {
    Ok(crate::services::loading::candidates_by_id(state, &[id]).await?.remove(&id))
}

/// A profile the viewer may see, or `NOT_FOUND`.
pub async fn read(state: &AppState, viewer: &Viewer, id: CandidateId) -> AppResult<Arc<CandidateProfile>> {
    let profile = load(state, id).await?.ok_or_else(not_found)?;
    if access(state, viewer, &profile, None).await?.may_see_profile(profile.content.visibility) {
        Ok(profile)
    } else {
        Err(not_found())
    }
}

/// The signed-in user's own profile, if they have one.
pub async fn own(state: &AppState, user: UserId) -> AppResult<Option<Arc<CandidateProfile>>> {
    match store::find_id_by_user(user, &state.db.conn).await? {
        Some(id) => load(state, id).await,
        None => Ok(None),
    }
}

/// Creates or replaces the signed-in user's profile.
pub async fn upsert(state: &AppState, viewer: &Viewer, input: ProfileInput) -> AppResult<Arc<CandidateProfile>> {
    let user = signed_in(viewer)?;
    let content = ProfileContent::try_from(input).map_err(|e| AppError::invalid_under(e, "input"))?;
    let at = now();
    let mut unit = events::begin(state, viewer).await?;
    let existing = store::find_id_by_user(user, unit.conn()).await?;
    let created_at = match existing {
        Some(id) => load(state, id).await?.map(|p| p.created_at).unwrap_or(at),
        None => at,
    };
    let profile = CandidateProfile {
        id: existing.unwrap_or_else(CandidateId::generate),
        user_id: Some(user),
        content,
        created_at,
        updated_at: at,
    };
    match existing {
        Some(_) => store::update(&profile, unit.conn()).await?,
        None => store::insert(&profile, unit.conn()).await.map_err(|e| match e {
            StoreError::Duplicate(_) => AppError::Conflict("your profile was created by another request; retry".into()),
            other => other.into(),
        })?,
    }
    unit.record(hiregraph_domain::events::Change::CandidateProfileUpdated(profile.clone()));
    unit.commit().await?;
    Ok(Arc::new(profile))
}

/// Listed profiles, never PRIVATE, for company members and admins: members of a verified company
/// and admins see PUBLIC and EMPLOYERS profiles, members of unverified ones PUBLIC only. Returns
/// the filter as applied, for the page's `totalCount`.
pub async fn search(
    state: &AppState,
    viewer: &Viewer,
    mut filter: CandidateFilter,
    request: &PageRequest,
) -> AppResult<(Page<CandidateId>, CandidateFilter)> {
    authenticated(viewer)?;
    if !viewer.principal.is_platform_admin() && viewer.memberships(state).await?.is_empty() {
        return Err(AppError::Forbidden("only members of a company may search candidates".into()));
    }
    filter.visibilities = if viewer.principal.is_platform_admin() || viewer.is_employer(state).await? {
        vec![Visibility::Public, Visibility::Employers]
    } else {
        vec![Visibility::Public]
    };
    let page = store::search(&filter, request, &state.db.conn).await?;
    Ok((page, filter))
}
