//! Creating and editing companies, and managing their members.

use std::sync::Arc;

use hiregraph_domain::companies::{
    self as rules, Company, CompanyAction, CompanyProfile, CompanyProfileInput, CompanyRole, Membership, Standing,
    company_slug,
};
use hiregraph_domain::events::Change;
use hiregraph_domain::values::Email;
use hiregraph_domain::{CompanyId, Principal, UserId};
use hiregraph_persistence::{companies, users};

use crate::error::{AppError, AppResult};
use crate::services::{events, loading};
use crate::state::{AppState, Viewer, now};

/// The signed-in person, for what only a person does; a partner token is `FORBIDDEN` here.
pub fn signed_in(viewer: &Viewer) -> AppResult<UserId> {
    match &viewer.principal {
        Principal::User { id, .. } => Ok(*id),
        Principal::Partner { .. } => Err(AppError::Forbidden("a partner token cannot do this; only people can".into())),
        Principal::Anonymous => Err(AppError::Unauthenticated("sign in first".into())),
    }
}

/// Refuses anonymous callers: for what members and partner apps (within their scopes) both do.
pub fn authenticated(viewer: &Viewer) -> AppResult<()> {
    match viewer.principal {
        Principal::Anonymous => Err(AppError::Unauthenticated("sign in first".into())),
        _ => Ok(()),
    }
}

/// Whom a write is recorded under when it needs a person (an application's move, a note): the
/// signed-in person, or the member who created the partner app acting.
pub fn author(viewer: &Viewer) -> AppResult<UserId> {
    match &viewer.principal {
        Principal::User { id, .. } => Ok(*id),
        Principal::Partner { on_behalf_of, .. } => Ok(*on_behalf_of),
        Principal::Anonymous => Err(AppError::Unauthenticated("sign in first".into())),
    }
}

/// The company, if it exists, and whether the viewer may do `action` in it. Companies are public,
/// so a refusal is `FORBIDDEN` (or `UNAUTHENTICATED` for an anonymous caller).
pub async fn authorize(
    state: &AppState,
    viewer: &Viewer,
    id: CompanyId,
    action: CompanyAction,
) -> AppResult<(Arc<Company>, Option<CompanyRole>)> {
    let company =
        loading::company(state, id).await?.ok_or_else(|| AppError::NotFound("no company has this id".into()))?;
    let standing = viewer.standing_in(state, id).await?;
    if !rules::may(&viewer.principal, standing, action) {
        authenticated(viewer)?;
        return Err(AppError::Forbidden(match standing {
            Some(Standing::Partner(_)) => "this partner app's scopes do not allow this".to_owned(),
            _ => format!("your role in {} does not allow this", company.profile.name),
        }));
    }
    Ok((company, standing.and_then(Standing::role)))
}

pub async fn create(
    state: &AppState,
    viewer: &Viewer,
    slug: Option<&str>,
    input: CompanyProfileInput,
) -> AppResult<Arc<Company>> {
    let owner = signed_in(viewer)?;
    let name = input.name.clone();
    let profile = CompanyProfile::try_from(input).map_err(|e| AppError::invalid_under(e, "input"))?;
    let slug = company_slug(slug, &name).map_err(|e| AppError::invalid_under(e.into(), "input"))?;
    let id = CompanyId::generate();
    let at = now();
    let mut unit = events::begin(state, viewer).await?;
    companies::insert(id, &slug, &profile, at, unit.conn()).await.map_err(|e| match e {
        hiregraph_persistence::StoreError::Duplicate(_) => {
            AppError::Conflict(format!("the slug `{}` is taken", slug.as_str()))
        }
        other => other.into(),
    })?;
    let owner = Membership { company_id: id, user_id: owner, role: CompanyRole::Owner, created_at: at };
    companies::insert_member(&owner, unit.conn()).await?;
    unit.record(Change::CompanyCreated(Company { id, slug, profile, verified: false, created_at: at, updated_at: at }));
    unit.record(Change::MemberAdded(owner));
    unit.commit().await?;
    loading::company(state, id).await?.ok_or_else(|| AppError::Internal("created company vanished".into()))
}

/// Fields of an update: `None` keeps the stored value.
#[derive(Default)]
pub struct CompanyPatch {
    pub name: Option<String>,
    pub description: Option<Option<String>>,
    pub website: Option<Option<String>>,
    pub logo_url: Option<Option<String>>,
    pub industry: Option<Option<String>>,
    pub size: Option<Option<hiregraph_domain::companies::SizeBand>>,
    pub headquarters: Option<Option<hiregraph_domain::companies::LocationInput>>,
}

pub async fn update(state: &AppState, viewer: &Viewer, id: CompanyId, patch: CompanyPatch) -> AppResult<Arc<Company>> {
    let (company, _) = authorize(state, viewer, id, CompanyAction::EditCompany).await?;
    let p = &company.profile;
    let current_hq = p.headquarters.as_ref().map(|l| hiregraph_domain::companies::LocationInput {
        city: l.city().map(str::to_owned),
        region: l.region().map(str::to_owned),
        country: l.country().as_str().to_owned(),
        remote: l.is_remote(),
    });
    let input = CompanyProfileInput {
        name: patch.name.unwrap_or_else(|| p.name.clone()),
        description: patch.description.unwrap_or_else(|| p.description.clone()),
        website: patch.website.unwrap_or_else(|| p.website.as_ref().map(|w| w.as_str().to_owned())),
        logo_url: patch.logo_url.unwrap_or_else(|| p.logo.as_ref().map(|w| w.as_str().to_owned())),
        industry: patch.industry.unwrap_or_else(|| p.industry.clone()),
        size: patch.size.unwrap_or(p.size),
        headquarters: patch.headquarters.unwrap_or(current_hq),
    };
    let profile = CompanyProfile::try_from(input).map_err(|e| AppError::invalid_under(e, "input"))?;
    let renamed = profile.name != p.name;
    let at = now();
    let mut unit = events::begin(state, viewer).await?;
    companies::update_profile(id, &profile, at, unit.conn()).await?;
    let updated = reread(id, unit.conn()).await?;
    unit.record(Change::CompanyUpdated { company: updated.clone(), renamed });
    unit.commit().await?;
    Ok(Arc::new(updated))
}

pub async fn set_verified(state: &AppState, viewer: &Viewer, id: CompanyId, verified: bool) -> AppResult<Arc<Company>> {
    let (company, _) = authorize(state, viewer, id, CompanyAction::Verify).await?;
    let at = now();
    let mut unit = events::begin(state, viewer).await?;
    companies::set_verified(id, verified, at, unit.conn()).await?;
    let updated = reread(id, unit.conn()).await?;
    if company.verified != verified {
        unit.record(Change::CompanyUpdated { company: updated.clone(), renamed: false });
    }
    unit.commit().await?;
    Ok(Arc::new(updated))
}

/// The company as the write left it, read inside the write's transaction (the snapshot its event
/// carries and what the mutation answers).
async fn reread(id: CompanyId, conn: &impl hiregraph_persistence::ConnectionTrait) -> AppResult<Company> {
    companies::find_by_ids(&[id], conn).await?.pop().ok_or_else(|| AppError::NotFound("no company has this id".into()))
}

fn member_refused() -> AppError {
    AppError::Forbidden("only owners may give, change or remove the OWNER role".into())
}

pub async fn add_member(
    state: &AppState,
    viewer: &Viewer,
    id: CompanyId,
    email: &str,
    role: CompanyRole,
) -> AppResult<Membership> {
    let (_, actor) = authorize(state, viewer, id, CompanyAction::ManageMembers).await?;
    if !rules::may_manage_member(&viewer.principal, actor, None, Some(role)) {
        return Err(member_refused());
    }
    let email = Email::parse(email).map_err(|e| AppError::invalid_under(e.into(), "input"))?;
    let user = users::find_by_email(&email, &state.db.conn)
        .await?
        .ok_or_else(|| AppError::NotFound(format!("no account uses {}; ask them to register first", email.as_str())))?;
    let member = Membership { company_id: id, user_id: user.id, role, created_at: now() };
    let mut unit = events::begin(state, viewer).await?;
    companies::insert_member(&member, unit.conn()).await.map_err(|e| match e {
        hiregraph_persistence::StoreError::Duplicate(_) => AppError::Conflict("this user is already a member".into()),
        other => other.into(),
    })?;
    unit.record(Change::MemberAdded(member.clone()));
    unit.commit().await?;
    Ok(member)
}

/// Changes a role (`Some`) or removes the member (`None`). Both keep at least one owner, checked
/// under the company's write lock so two concurrent demotions cannot leave none.
pub async fn change_member(
    state: &AppState,
    viewer: &Viewer,
    id: CompanyId,
    user: UserId,
    to: Option<CompanyRole>,
) -> AppResult<Option<Membership>> {
    let me = signed_in(viewer)?;
    let actor = viewer.role_in(state, id).await?;
    let leaving = to.is_none() && user == me && actor.is_some();
    if !leaving {
        authorize(state, viewer, id, CompanyAction::ManageMembers).await?;
    }
    let at = now();
    let mut unit = events::begin(state, viewer).await?;
    let txn = unit.conn();
    if !companies::lock(id, at, txn).await? {
        return Err(AppError::NotFound("no company has this id".into()));
    }
    let current = companies::find_member(id, user, txn)
        .await?
        .ok_or_else(|| AppError::NotFound("this user is not a member of the company".into()))?;
    if !leaving && !rules::may_manage_member(&viewer.principal, actor, Some(current.role), to) {
        return Err(member_refused());
    }
    if current.role == CompanyRole::Owner
        && to != Some(CompanyRole::Owner)
        && companies::count_owners(id, txn).await? <= 1
    {
        return Err(AppError::Conflict("a company keeps at least one owner: make someone else owner first".into()));
    }
    let result = match to {
        Some(role) => {
            companies::set_member_role(id, user, role, txn).await?;
            let changed = Membership { role, ..current.clone() };
            if role != current.role {
                unit.record(Change::MemberRoleChanged { membership: changed.clone(), from: current.role });
            }
            Some(changed)
        }
        None => {
            companies::delete_member(id, user, txn).await?;
            unit.record(Change::MemberRemoved(current));
            None
        }
    };
    unit.commit().await?;
    Ok(result)
}

/// The members, visible to members and platform admins only.
pub async fn members(state: &AppState, viewer: &Viewer, id: CompanyId) -> AppResult<Vec<Membership>> {
    authorize(state, viewer, id, CompanyAction::ReadMembers).await?;
    Ok(companies::members_of(&[id], &state.db.conn).await?)
}
