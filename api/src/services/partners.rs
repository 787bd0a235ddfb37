//! Partner apps and their credentials: creating apps (company ADMIN and OWNER, platform admins),
//! issuing and revoking API keys, rotating client secrets; and turning a presented credential into
//! the partner's `Principal` — read through the shared cache (Redis) when there is one, which
//! every write of credentials invalidates after its commit, and from the database otherwise, so
//! a revocation holds at once on every replica.

use std::sync::Arc;

use chrono::{DateTime, Utc};
use hiregraph_domain::companies::CompanyAction;
use hiregraph_domain::events::Change;
use hiregraph_domain::ids::{ApiKeyId, PartnerAppId};
use hiregraph_domain::partners::{self as domain, ApiKey, PartnerApp, Scope, Scopes};
use hiregraph_domain::{CompanyId, Principal, ValidationErrors};
use hiregraph_persistence::cache::CacheKey;
use hiregraph_persistence::partners as store;

use crate::auth::jwt::PartnerToken;
use crate::auth::keys::{self, Kind};
use crate::auth::refresh::digest;
use crate::error::{AppError, AppResult};
use crate::services::companies::{authorize, signed_in};
use crate::services::events;
use crate::state::{AppState, Viewer, now};

/// A key's use is written at most this often.
const TOUCH_EVERY: chrono::Duration = chrono::Duration::seconds(60);

fn app_not_found() -> AppError {
    AppError::NotFound("no partner app you may manage has this id".into())
}

/// An app the viewer manages; `NOT_FOUND` for everyone else (apps are not public).
async fn managed(state: &AppState, viewer: &Viewer, id: PartnerAppId) -> AppResult<PartnerApp> {
    signed_in(viewer)?;
    let app = store::find_app(id, &state.db.conn).await?.ok_or_else(app_not_found)?;
    if !viewer.may(state, app.company_id, CompanyAction::ManagePartnerApps).await? {
        if viewer.role_in(state, app.company_id).await?.is_some() {
            return Err(AppError::Forbidden("only the company's admins and owners manage its partner apps".into()));
        }
        return Err(app_not_found());
    }
    Ok(app)
}

fn scopes_of(raw: &[Scope]) -> AppResult<Scopes> {
    let scopes = Scopes::of(raw);
    if scopes.is_empty() {
        return Err(AppError::bad_input("input.scopes", "name at least one scope"));
    }
    Ok(scopes)
}

/// Creates an app of `company` with its client id; returns it with its client secret, which is
/// shown this once.
pub async fn create_app(
    state: &AppState,
    viewer: &Viewer,
    company: CompanyId,
    name: &str,
    scopes: &[Scope],
) -> AppResult<(PartnerApp, String)> {
    let creator = signed_in(viewer)?;
    authorize(state, viewer, company, CompanyAction::ManagePartnerApps).await?;
    let mut errors = ValidationErrors::new();
    let name = errors.take(domain::name("input.name", name));
    let scopes = match scopes_of(scopes) {
        Ok(s) => Some(s),
        Err(AppError::BadInput(_, fields)) => {
            fields.into_iter().for_each(|f| errors.push(f));
            None
        }
        Err(other) => return Err(other),
    };
    let (Some(name), Some(scopes)) = (name, scopes) else { return Err(AppError::invalid(errors)) };
    let secret = keys::generate(Kind::ClientSecret, &state.settings.key_environment);
    let at = now();
    let app = PartnerApp {
        id: PartnerAppId::generate(),
        company_id: company,
        name,
        scopes,
        client_id: keys::client_id(),
        secret_version: 1,
        created_by: creator,
        created_at: at,
        updated_at: at,
        cost_per_minute: None,
    };
    let mut unit = events::begin(state, viewer).await?;
    store::insert_app(&app, &digest(&secret), unit.conn()).await?;
    unit.record(Change::PartnerAccessChanged { app: app.id, company, revoked_key: None, app_keys: Vec::new() });
    unit.commit().await?;
    Ok((app, secret))
}

/// A platform admin sets an app's own query-cost budget in points per minute (`None`: the
/// server's default for partners; 0: unmetered). Keys already cached hold the old budget for at
/// most the cache's 30 s.
pub async fn set_cost_budget(
    state: &AppState,
    viewer: &Viewer,
    id: PartnerAppId,
    per_minute: Option<i32>,
) -> AppResult<PartnerApp> {
    if !viewer.principal.is_platform_admin() {
        crate::services::companies::authenticated(viewer)?;
        return Err(AppError::Forbidden("only platform admins set a partner app's budget".into()));
    }
    let minimum = state.settings.limits.max_complexity;
    let per_minute = match per_minute {
        None => None,
        Some(0) => Some(0),
        Some(n) if n > 0 && n as usize >= minimum => Some(n as u32),
        Some(n) => {
            return Err(AppError::bad_input(
                "input.pointsPerMinute",
                format!("must be 0 (unmetered) or at least the most a query may cost ({minimum}), was {n}"),
            ));
        }
    };
    let app = store::find_app(id, &state.db.conn)
        .await?
        .ok_or_else(|| AppError::NotFound("no partner app has this id".into()))?;
    let at = now();
    let mut unit = events::begin(state, viewer).await?;
    store::set_cost_budget(id, per_minute, at, unit.conn()).await?;
    // Cached keys hold their app: they are cleared with it.
    let app_keys = store::key_hashes_of(id, unit.conn()).await?;
    unit.record(Change::PartnerAccessChanged { app: id, company: app.company_id, revoked_key: None, app_keys });
    unit.commit().await?;
    Ok(PartnerApp { cost_per_minute: per_minute, updated_at: at, ..app })
}

/// A new client secret; the old one, and every access token issued under it, stop working.
pub async fn rotate_secret(state: &AppState, viewer: &Viewer, id: PartnerAppId) -> AppResult<(PartnerApp, String)> {
    let app = managed(state, viewer, id).await?;
    let secret = keys::generate(Kind::ClientSecret, &state.settings.key_environment);
    let at = now();
    let rotated = PartnerApp { secret_version: app.secret_version + 1, updated_at: at, ..app };
    let mut unit = events::begin(state, viewer).await?;
    store::rotate_secret(&rotated, &digest(&secret), at, unit.conn()).await?;
    unit.record(Change::PartnerAccessChanged {
        app: rotated.id,
        company: rotated.company_id,
        revoked_key: None,
        app_keys: Vec::new(),
    });
    unit.commit().await?;
    Ok((rotated, secret))
}

/// Issues an API key for an app; returns it with the key, which is shown this once.
pub async fn create_key(
    state: &AppState,
    viewer: &Viewer,
    app: PartnerAppId,
    name: &str,
    expires_at: Option<DateTime<Utc>>,
) -> AppResult<(ApiKey, String)> {
    let app = managed(state, viewer, app).await?;
    let name = domain::name("input.name", name).map_err(|e| AppError::invalid(e.into()))?;
    let at = now();
    if expires_at.is_some_and(|e| e <= at) {
        return Err(AppError::bad_input("input.expiresAt", "must lie in the future"));
    }
    let raw = keys::generate(Kind::ApiKey, &state.settings.key_environment);
    let key = ApiKey {
        id: ApiKeyId::generate(),
        partner_app_id: app.id,
        name,
        hint: keys::hint(&raw),
        created_at: at,
        expires_at,
        revoked_at: None,
        last_used_at: None,
    };
    let mut unit = events::begin(state, viewer).await?;
    store::insert_key(&key, &digest(&raw), unit.conn()).await?;
    unit.record(Change::PartnerAccessChanged {
        app: app.id,
        company: app.company_id,
        revoked_key: None,
        app_keys: Vec::new(),
    });
    unit.commit().await?;
    Ok((key, raw))
}

/// Revokes a key: refused from the next request on, on every replica. Revoking it again is a
/// no-op that returns it as it stands.
pub async fn revoke_key(state: &AppState, viewer: &Viewer, id: ApiKeyId) -> AppResult<ApiKey> {
    let missing = || AppError::NotFound("no API key you may manage has this id".into());
    let key = store::find_key(id, &state.db.conn).await?.ok_or_else(missing)?;
    let app = match managed(state, viewer, key.partner_app_id).await {
        Err(AppError::NotFound(_)) => return Err(missing()),
        other => other?,
    };
    let at = now();
    let mut unit = events::begin(state, viewer).await?;
    if let Some(hash) = store::revoke_key(id, at, unit.conn()).await? {
        unit.record(Change::PartnerAccessChanged {
            app: app.id,
            company: app.company_id,
            revoked_key: Some(hash),
            app_keys: Vec::new(),
        });
    }
    unit.commit().await?;
    store::find_key(id, &state.db.conn).await?.ok_or_else(missing)
}

/// A company's apps, for its ADMINs and OWNERs and platform admins.
pub async fn apps_of(state: &AppState, viewer: &Viewer, company: CompanyId) -> AppResult<Vec<PartnerApp>> {
    authorize(state, viewer, company, CompanyAction::ManagePartnerApps).await?;
    Ok(store::apps_of(company, &state.db.conn).await?)
}

/// The keys of some apps, oldest first (the caller checked the apps).
pub async fn keys_of(state: &AppState, apps: &[PartnerAppId]) -> AppResult<Vec<ApiKey>> {
    Ok(store::keys_of(apps, &state.db.conn).await?)
}

// ---------------------------------------------------------------------------------------------
// Authentication

/// Why presented partner credentials were refused: the message names what is wrong, never which
/// part of a secret.
pub enum Refusal {
    Credentials(String),
    Unavailable(AppError),
}

impl From<hiregraph_persistence::StoreError> for Refusal {
    fn from(e: hiregraph_persistence::StoreError) -> Self {
        Refusal::Unavailable(e.into())
    }
}

fn principal_of(app: &PartnerApp, scopes: Scopes) -> Principal {
    Principal::Partner {
        app: app.id,
        company: app.company_id,
        scopes,
        on_behalf_of: app.created_by,
        cost_per_minute: app.cost_per_minute,
    }
}

/// The partner an API key belongs to. The checksum is checked before any lookup, so a mistyped
/// key is told apart from a revoked or unknown one, and garbage costs no query.
pub async fn principal_of_key(state: &Arc<AppState>, raw: &str) -> Result<Principal, Refusal> {
    keys::check(Kind::ApiKey, raw).map_err(|why| Refusal::Credentials(format!("the API key is malformed: {why}")))?;
    let hash = digest(raw);
    let cached = cached_key(state, &hash).await;
    let (mut key, app) = match cached.clone() {
        Some(found) => (found.key, found.app),
        None => {
            let (key, app) = store::find_by_key_hash(&hash, &state.db.conn)
                .await?
                .ok_or_else(|| Refusal::Credentials("the API key is not known".into()))?;
            (key, app)
        }
    };
    let at = now();
    if let Some(why) = key.refusal(at) {
        return Err(Refusal::Credentials(why.into()));
    }
    let touch = key.last_used_at.is_none_or(|last| last < at - TOUCH_EVERY);
    if touch {
        key.last_used_at = Some(at);
        // Off the request's path: the answer does not wait for the bookkeeping.
        let state = state.clone();
        let id = key.id;
        tokio::spawn(async move {
            if let Err(e) = store::touch_key(id, at, at - TOUCH_EVERY, &state.work_db.conn).await {
                tracing::warn!(error = %e, "could not record an API key's use");
            }
        });
    }
    if touch || cached.is_none() {
        remember_key(state, &hash, CachedKey { key_hash: hash.clone(), key: key.clone(), app: app.clone() }).await;
    }
    Ok(principal_of(&app, app.scopes))
}

/// An API key with its app as the shared cache holds it.
#[derive(Clone, serde::Serialize, serde::Deserialize)]
struct CachedKey {
    /// The full hash, checked on every read: the cache key holds only its first 128 bits.
    key_hash: String,
    key: ApiKey,
    app: PartnerApp,
}

async fn cached_key(state: &AppState, hash: &str) -> Option<CachedKey> {
    if !state.cache.is_shared() {
        return None;
    }
    let key = CacheKey::api_key(hash)?;
    state.cache.get_many::<CachedKey>(&[key]).await.pop().flatten().filter(|c| c.key_hash == hash)
}

async fn remember_key(state: &AppState, hash: &str, entry: CachedKey) {
    if let (true, Some(key)) = (state.cache.is_shared(), CacheKey::api_key(hash)) {
        state.cache.put_many(&[(key, &entry)]).await;
    }
}

/// An app as its access tokens resolve it: through the shared cache when there is one.
async fn app_of_token(state: &AppState, id: PartnerAppId) -> Result<Option<PartnerApp>, Refusal> {
    let shared = state.cache.is_shared();
    let key = CacheKey::PartnerApp(id);
    if shared && let Some(app) = state.cache.get_many::<PartnerApp>(&[key]).await.pop().flatten() {
        return Ok(Some(app));
    }
    let found = store::find_app(id, &state.db.conn).await?;
    if let (true, Some(app)) = (shared, &found) {
        state.cache.put_many(&[(key, app)]).await;
    }
    Ok(found)
}

/// The partner an access token names, if its app still exists and its secret was not rotated
/// since; the scopes in force are the token's within the app's current ones.
pub async fn principal_of_token(state: &AppState, token: &PartnerToken) -> Result<Principal, Refusal> {
    let app = app_of_token(state, token.app)
        .await?
        .filter(|app| app.company_id == token.company)
        .ok_or_else(|| Refusal::Credentials("the access token names a partner app that no longer exists".into()))?;
    if app.secret_version != token.secret_version {
        return Err(Refusal::Credentials(
            "the access token was issued under a client secret that has been rotated; request a new one".into(),
        ));
    }
    Ok(principal_of(&app, token.scopes.intersect(app.scopes)))
}

/// An OAuth error of RFC 6749 §5.2.
#[derive(Debug)]
pub struct OAuthError {
    pub error: &'static str,
    pub description: String,
}

fn oauth(error: &'static str, description: impl Into<String>) -> OAuthError {
    OAuthError { error, description: description.into() }
}

/// The client credentials grant (RFC 6749 §4.4): an access token for the app whose id and secret
/// these are, narrowed to `scope` when given. Returns the token and the scopes it carries.
pub async fn exchange(
    state: &AppState,
    client_id: &str,
    secret: &str,
    scope: Option<&str>,
) -> Result<Result<(String, Scopes), OAuthError>, AppError> {
    let refused = || oauth("invalid_client", "the client id or secret is not valid");
    if keys::check(Kind::ClientSecret, secret).is_err() || client_id.len() > 64 {
        return Ok(Err(refused()));
    }
    let Some((app, hash)) = store::find_client(client_id, &state.db.conn).await? else { return Ok(Err(refused())) };
    if !constant_time_eq(hash.as_bytes(), digest(secret).as_bytes()) {
        return Ok(Err(refused()));
    }
    let scopes = match scope {
        None => app.scopes,
        Some(raw) => match Scopes::parse_text(raw) {
            Err(why) => return Ok(Err(oauth("invalid_scope", why))),
            Ok(asked) if asked.is_empty() => return Ok(Err(oauth("invalid_scope", "the scope parameter is empty"))),
            Ok(asked) if !app.scopes.contains(asked) => {
                return Ok(Err(oauth(
                    "invalid_scope",
                    format!("the app holds only `{}`; ask for those or fewer", app.scopes.to_text()),
                )));
            }
            Ok(asked) => asked,
        },
    };
    let token = state
        .jwt
        .issue_partner(&app, scopes, now())
        .map_err(|e| AppError::Internal(format!("could not sign a partner token: {e}").into()))?;
    Ok(Ok((token, scopes)))
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// A partner app's name, as the applications it submits are labelled.
pub async fn app_name(state: &AppState, id: PartnerAppId) -> AppResult<String> {
    match app_of_token(state, id).await {
        Ok(Some(app)) => Ok(app.name),
        Ok(None) => Err(AppError::Unauthenticated("the partner app no longer exists".into())),
        Err(Refusal::Credentials(why)) => Err(AppError::Unauthenticated(why)),
        Err(Refusal::Unavailable(e)) => Err(e),
    }
}
