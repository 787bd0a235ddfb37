//! Registering, signing in, rotating refresh tokens, signing out.

use chrono::Duration;
use hiregraph_domain::accounts::{Password, PlatformRole, User};
use hiregraph_domain::events::{Actor, Change};
use hiregraph_domain::ids::TokenFamilyId;
use hiregraph_domain::values::Email;
use hiregraph_domain::{UserId, ValidationErrors};
use hiregraph_persistence::cache::CacheKey;
use hiregraph_persistence::limiter::{Backoff, ClientAddr, Decision, LimitKey, Quota};
use hiregraph_persistence::{tokens, users};

use crate::auth::{password, refresh};
use crate::error::{AppError, AppResult};
use crate::services::events;
use crate::state::{AppState, Viewer, now};

/// What signing in gives: a short-lived access token and a rotating refresh token.
pub struct Session {
    pub access_token: String,
    pub refresh_token: String,
    pub user: User,
}

fn bad_credentials() -> AppError {
    AppError::Unauthenticated("the email or password is not correct".into())
}

fn disabled() -> AppError {
    AppError::Unauthenticated("this account is disabled".into())
}

fn bad_refresh() -> AppError {
    AppError::Unauthenticated("the refresh token is not valid; sign in again".into())
}

async fn open_session(
    state: &AppState,
    user: User,
    family: TokenFamilyId,
    conn: &impl hiregraph_persistence::ConnectionTrait,
) -> AppResult<Session> {
    let at = now();
    let refresh_token = refresh::generate();
    let ttl = Duration::from_std(state.settings.refresh_token_ttl).map_err(AppError::internal)?;
    tokens::insert(user.id, family, &refresh::digest(&refresh_token), at, at + ttl, conn).await?;
    let access_token = state.jwt.issue(&user, at).map_err(AppError::internal)?;
    Ok(Session { access_token, refresh_token, user })
}

/// The address a request came from, or the unspecified one for calls off the network (they
/// then share one budget).
fn address(client: Option<ClientAddr>) -> ClientAddr {
    client.unwrap_or_else(|| ClientAddr::new(std::net::IpAddr::from([0, 0, 0, 0])))
}

fn limited(what: &str, wait: std::time::Duration) -> AppError {
    AppError::RateLimited(format!("too many {what}; try again in {} s", crate::error::retry_after_secs(wait)), wait)
}

/// An account as rate limits name it: a digest of the email as typed (trimmed, lower-cased), so
/// unknown accounts are limited exactly like known ones and no email is written into Redis.
fn account_key(email: &str) -> String {
    use sha2::Digest;
    let digest = sha2::Sha256::digest(email.trim().to_lowercase().as_bytes());
    digest.iter().take(12).map(|b| format!("{b:02x}")).collect()
}

/// The keys one sign-in attempt counts against, with their thresholds (0 turns one off).
fn login_keys(state: &AppState, email: &str, from: ClientAddr) -> Vec<(LimitKey, u32)> {
    let limits = &state.settings.rate_limits;
    let account = account_key(email);
    [
        (LimitKey::LoginAccountFrom(account.clone(), from), limits.login_failures_account_from),
        (LimitKey::LoginAccount(account), limits.login_failures_account),
        (LimitKey::LoginFrom(from), limits.login_failures_from),
    ]
    .into_iter()
    .filter(|(_, threshold)| *threshold > 0)
    .collect()
}

fn backoff(state: &AppState) -> Backoff {
    let limits = &state.settings.rate_limits;
    Backoff { base: limits.login_backoff, max: limits.login_backoff_max }
}

pub async fn register(state: &AppState, client: Option<ClientAddr>, email: &str, password: &str) -> AppResult<Session> {
    let per_hour = state.settings.rate_limits.registrations_per_hour;
    if per_hour > 0 {
        let quota = Quota { burst: per_hour, per: std::time::Duration::from_secs(3600) };
        if let Decision::Limited(wait) = state.limiter.rate(&LimitKey::RegisterFrom(address(client)), quota, 1).await {
            return Err(limited("accounts registered from this address", wait));
        }
    }
    let mut errors = ValidationErrors::new();
    let (email_checked, password_checked) = (Email::parse(email), Password::parse(password, email));
    let email = errors.take(email_checked);
    let password = errors.take(password_checked);
    let (Some(email), Some(password)) = (email, password) else {
        return Err(AppError::invalid_under(errors, "input"));
    };
    let hash = password::hash(password.expose().to_owned()).await?;
    let unit = events::begin_as(state, Actor::System).await?;
    let user = users::insert(UserId::generate(), &email, &hash, PlatformRole::Member, now(), unit.conn())
        .await
        .map_err(|e| match e {
            hiregraph_persistence::StoreError::Duplicate(_) => {
                AppError::Conflict("an account with this email already exists".into())
            }
            other => other.into(),
        })?;
    let session = open_session(state, user, TokenFamilyId::generate(), unit.conn()).await?;
    unit.commit().await?;
    Ok(session)
}

/// Signs in. Every attempt counts against the account from this address, the account from
/// anywhere and the address for any account, before the password is checked (so parallel or
/// aliased attempts cannot slip past a threshold); a success lifts the first two and takes the
/// attempt back from the third.
pub async fn login(state: &AppState, client: Option<ClientAddr>, email: &str, password: &str) -> AppResult<Session> {
    let keys = login_keys(state, email, address(client));
    if let Decision::Limited(wait) = state.limiter.attempt(&keys, backoff(state)).await {
        return Err(limited("failed sign-ins", wait));
    }
    let session = check_credentials(state, email, password).await?;
    let (clear, forgive): (Vec<_>, Vec<_>) =
        keys.into_iter().partition(|(key, _)| !matches!(key, LimitKey::LoginFrom(_)));
    state.limiter.succeeded(&clear.into_iter().map(|(k, _)| k).collect::<Vec<_>>(), &forgive).await;
    Ok(session)
}

async fn check_credentials(state: &AppState, email: &str, password: &str) -> AppResult<Session> {
    let found = match Email::parse(email) {
        Ok(email) => users::find_credentials(&email, &state.db.conn).await?,
        Err(_) => None,
    };
    let (user, hash) = match found {
        Some((user, hash)) => (Some(user), Some(hash)),
        None => (None, None),
    };
    // Verify even without an account, so timing does not tell which part was wrong.
    let ok = password::verify(password.to_owned(), hash).await?;
    match user {
        Some(user) if ok && user.disabled => Err(disabled()),
        Some(user) if ok => {
            let unit = events::begin_as(state, Actor::User(user.id)).await?;
            let session = open_session(state, user, TokenFamilyId::generate(), unit.conn()).await?;
            unit.commit().await?;
            Ok(session)
        }
        _ => Err(bad_credentials()),
    }
}

/// Rotates a refresh token. A token used twice means it leaked: its whole family is revoked.
pub async fn refresh(state: &AppState, client: Option<ClientAddr>, token: &str) -> AppResult<Session> {
    let threshold = state.settings.rate_limits.refresh_failures_from;
    let keys: Vec<(LimitKey, u32)> =
        if threshold > 0 { vec![(LimitKey::RefreshFrom(address(client)), threshold)] } else { Vec::new() };
    if !keys.is_empty()
        && let Decision::Limited(wait) = state.limiter.attempt(&keys, backoff(state)).await
    {
        return Err(limited("failed refresh-token exchanges", wait));
    }
    let session = rotate(state, token).await?;
    if !keys.is_empty() {
        state.limiter.succeeded(&[], &keys).await;
    }
    Ok(session)
}

async fn rotate(state: &AppState, token: &str) -> AppResult<Session> {
    let at = now();
    let Some(stored) = tokens::find_by_hash(&refresh::digest(token), &state.db.conn).await? else {
        return Err(bad_refresh());
    };
    if stored.revoked_at.is_some() || stored.expires_at <= at {
        return Err(bad_refresh());
    }
    let unit = events::begin_as(state, Actor::User(stored.user_id)).await?;
    if stored.used_at.is_some() || !tokens::claim(stored.id, at, unit.conn()).await? {
        tokens::revoke_family(stored.family_id, at, unit.conn()).await?;
        unit.commit().await?;
        tracing::warn!(user = %stored.user_id, "a rotated refresh token was reused; its family is revoked");
        return Err(bad_refresh());
    }
    let user = users::find_by_ids(&[stored.user_id], unit.conn()).await?.pop().ok_or_else(bad_refresh)?;
    if user.disabled {
        return Err(disabled());
    }
    let session = open_session(state, user, stored.family_id, unit.conn()).await?;
    unit.commit().await?;
    Ok(session)
}

/// Revokes the family of this refresh token: that sign-in ends everywhere it was rotated to.
pub async fn logout(state: &AppState, token: &str) -> AppResult<bool> {
    let Some(stored) = tokens::find_by_hash(&refresh::digest(token), &state.db.conn).await? else {
        return Err(bad_refresh());
    };
    let unit = events::begin_as(state, Actor::User(stored.user_id)).await?;
    tokens::revoke_family(stored.family_id, now(), unit.conn()).await?;
    unit.commit().await?;
    Ok(true)
}

/// Whom an access token's subject names now: the account as the database holds it, with the
/// companies it belongs to (cached briefly, forgotten when either changes), so the role in force
/// is the stored one. `None` for an account that no longer exists or is disabled.
pub async fn access_of(state: &AppState, id: UserId) -> AppResult<Option<users::Access>> {
    let key = CacheKey::User(id);
    let access = match state.cache.get_many::<users::Access>(&[key]).await.pop().flatten() {
        Some(access) => Some(access),
        None => {
            let found = users::access_of(id, &state.db.conn).await?;
            if let Some(access) = &found {
                state.cache.put_many(&[(key, access)]).await;
            }
            found
        }
    };
    Ok(access.filter(|a| !a.user.disabled))
}

/// Disables an account, or enables it again (platform admins only). Disabling ends every
/// session at once: its refresh tokens are revoked and its access tokens stop working with the
/// next request.
pub async fn set_disabled(state: &AppState, viewer: &Viewer, id: UserId, disabled: bool) -> AppResult<User> {
    // Partner tokens never manage accounts.
    crate::services::companies::signed_in(viewer)?;
    match viewer.principal.user_id() {
        None => return Err(AppError::Unauthenticated("sign in to manage accounts".into())),
        Some(_) if !viewer.principal.is_platform_admin() => {
            return Err(AppError::Forbidden("only platform admins disable accounts".into()));
        }
        Some(me) if me == id && disabled => {
            return Err(AppError::bad_input("input.id", "you cannot disable your own account"));
        }
        Some(_) => {}
    }
    let at = now();
    let mut unit = events::begin(state, viewer).await?;
    if !users::set_disabled(id, disabled.then_some(at), at, unit.conn()).await? {
        return Err(AppError::NotFound("no such user".into()));
    }
    if disabled {
        tokens::revoke_user(id, at, unit.conn()).await?;
    }
    unit.record(Change::UserAccessChanged(id));
    unit.commit().await?;
    users::find_by_ids(&[id], &state.db.conn).await?.pop().ok_or_else(|| AppError::NotFound("no such user".into()))
}
