//! Accounts: registering, signing in and out, and the signed-in viewer.

use std::sync::Arc;

use async_graphql::{Context, ID, InputObject, Object, Result, SimpleObject};
use chrono::{DateTime, Utc};
use hiregraph_domain::accounts::User as DomainUser;

use async_graphql::connection::{Connection, EmptyFields};

use super::applications::{self, Application, ApplicationCount};
use super::candidates::CandidateProfile;
use super::companies::CompanyMembership;
use super::context::{loader, state, viewer};
use super::ids::{self, Kind};
use super::matching::PostingMatch;
use super::postings::Posting;
use super::types::PlatformRole;
use crate::error::AppError;
use crate::services::accounts::{self, Session};
use crate::services::candidates as candidate_service;
use crate::services::matching;

/// A user account. Reachable only by the user themselves, platform admins, and fellow members of
/// a company (through `Company.members`).
pub struct User(pub Arc<DomainUser>);

#[Object]
impl User {
    /// Opaque global id.
    pub async fn id(&self) -> ID {
        ids::encode(Kind::User, self.0.id.0)
    }

    /// Sign-in email, lower-cased.
    async fn email(&self) -> &str {
        self.0.email.as_str()
    }

    /// Role on the whole platform.
    async fn role(&self) -> PlatformRole {
        self.0.role.into()
    }

    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }

    /// Disabled by a platform admin: the account cannot sign in.
    async fn disabled(&self) -> bool {
        self.0.disabled
    }

    /// The user's candidate profile: for the user themselves and platform admins (others read
    /// profiles through `candidate(id)`).
    async fn candidate_profile(&self, ctx: &Context<'_>) -> Result<Option<CandidateProfile>> {
        let viewer = viewer(ctx);
        if viewer.principal.user_id() != Some(self.0.id) && !viewer.principal.is_platform_admin() {
            return Err(AppError::Forbidden("only you see your own profile here".into()).into());
        }
        Ok(candidate_service::own(state(ctx), self.0.id).await?.map(CandidateProfile))
    }

    /// The user's applications, newest first: for the user themselves.
    #[graphql(complexity = "super::connection::page_size(first, last) * child_complexity + 1")]
    async fn applications(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
        last: Option<i32>,
        before: Option<String>,
    ) -> Result<Option<Connection<String, Application, ApplicationCount, EmptyFields>>> {
        let viewer = viewer(ctx);
        if viewer.principal.user_id() != Some(self.0.id) && !viewer.principal.is_platform_admin() {
            return Err(AppError::Forbidden("only you see your own applications".into()).into());
        }
        let request = super::connection::page_request(first, after, last, before)?;
        let Some(profile) = candidate_service::own(state(ctx), self.0.id).await? else {
            return Ok(Some(Connection::with_additional_fields(false, false, ApplicationCount::None)));
        };
        applications::for_candidate(ctx, profile.id, request).await.map(Some)
    }

    /// Published postings that fit this user's candidate profile best, best first, leaving out
    /// those already applied to; each with a score (0–100) and why. Empty without a profile or
    /// skills. For the user themselves.
    #[graphql(complexity = "super::matching::COST + usize::try_from(first).unwrap_or(0) * child_complexity")]
    async fn recommended_postings(
        &self,
        ctx: &Context<'_>,
        #[graphql(default = 10, desc = "1 to 50.")] first: i32,
    ) -> Result<Vec<PostingMatch>> {
        let viewer = viewer(ctx);
        if viewer.principal.user_id() != Some(self.0.id) && !viewer.principal.is_platform_admin() {
            return Err(AppError::Forbidden("only you see your own recommendations".into()).into());
        }
        let first = matching::bound(first)?;
        let found = matching::postings_for(state(ctx), self.0.id, first).await?;
        Ok(found.into_iter().map(|(posting, m)| PostingMatch::new(Posting(posting), m)).collect())
    }

    /// The companies this user belongs to, with the role in each. Only for the user themselves and
    /// platform admins; empty for anyone else.
    async fn memberships(&self, ctx: &Context<'_>) -> Result<Vec<CompanyMembership>> {
        let viewer = viewer(ctx);
        if viewer.principal.user_id() != Some(self.0.id) && !viewer.principal.is_platform_admin() {
            return Ok(Vec::new());
        }
        let list = crate::services::loading::memberships_of(state(ctx), self.0.id).await?;
        Ok(list.into_iter().map(CompanyMembership).collect())
    }
}

/// A signed-in session.
#[derive(SimpleObject)]
pub struct AuthPayload {
    /// Bearer token for `Authorization: Bearer …`; short-lived.
    access_token: String,
    /// Exchange with `refreshToken` for a new pair; each one works once.
    refresh_token: String,
    user: User,
}

impl From<Session> for AuthPayload {
    fn from(s: Session) -> Self {
        Self { access_token: s.access_token, refresh_token: s.refresh_token, user: User(Arc::new(s.user)) }
    }
}

#[derive(InputObject)]
pub struct RegisterInput {
    email: String,
    /// 12 to 128 characters; not one of the 10,000 most common passwords, not a few characters
    /// repeated, and not containing the email's name.
    password: String,
}

#[derive(InputObject)]
pub struct LoginInput {
    email: String,
    password: String,
}

#[derive(InputObject)]
pub struct RefreshTokenInput {
    refresh_token: String,
}

#[derive(InputObject)]
pub struct LogoutInput {
    refresh_token: String,
}

#[derive(InputObject)]
pub struct DisableUserInput {
    id: ID,
    /// `false` enables the account again.
    #[graphql(default = true)]
    disabled: bool,
}

#[derive(SimpleObject)]
pub struct UserPayload {
    user: User,
}

#[derive(SimpleObject)]
pub struct LogoutPayload {
    /// True when the session (every token rotated from this sign-in) is now revoked.
    success: bool,
}

#[derive(Default)]
pub struct AccountQuery;

#[Object]
impl AccountQuery {
    /// The signed-in user, or null when anonymous.
    async fn viewer(&self, ctx: &Context<'_>) -> Result<Option<User>> {
        let Some(id) = viewer(ctx).principal.user_id() else { return Ok(None) };
        Ok(loader(ctx).load_one(id).await?.map(User))
    }
}

#[derive(Default)]
pub struct AccountMutation;

#[Object]
impl AccountMutation {
    /// Creates an account and signs it in.
    async fn register(&self, ctx: &Context<'_>, input: RegisterInput) -> Result<AuthPayload> {
        Ok(accounts::register(state(ctx), viewer(ctx).client, &input.email, &input.password).await?.into())
    }

    /// Signs in. A wrong email or password is `UNAUTHENTICATED`, without saying which. Too many
    /// failures for an account or from an address are `RATE_LIMITED` (with `retryAfter`), each
    /// aliased or batched `login` counting as one attempt.
    async fn login(&self, ctx: &Context<'_>, input: LoginInput) -> Result<AuthPayload> {
        Ok(accounts::login(state(ctx), viewer(ctx).client, &input.email, &input.password).await?.into())
    }

    /// Exchanges a refresh token for a new pair. Reusing an exchanged token revokes the session.
    async fn refresh_token(&self, ctx: &Context<'_>, input: RefreshTokenInput) -> Result<AuthPayload> {
        Ok(accounts::refresh(state(ctx), viewer(ctx).client, &input.refresh_token).await?.into())
    }

    /// Disables an account, or enables it again (platform admins): a disabled account cannot sign
    /// in, and every session it had ends at once.
    async fn disable_user(&self, ctx: &Context<'_>, input: DisableUserInput) -> Result<UserPayload> {
        let id = ids::user_id(&input.id, "input.id")?;
        let user = accounts::set_disabled(state(ctx), viewer(ctx), id, input.disabled).await?;
        Ok(UserPayload { user: User(Arc::new(user)) })
    }

    /// Ends the session this refresh token belongs to.
    async fn logout(&self, ctx: &Context<'_>, input: LogoutInput) -> Result<LogoutPayload> {
        Ok(LogoutPayload { success: accounts::logout(state(ctx), &input.refresh_token).await? })
    }
}
