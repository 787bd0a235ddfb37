//! What every request shares: the database, the cache, the token keys, the settings.

use std::collections::HashMap;
use std::sync::Arc;

use chrono::{DateTime, SubsecRound, Utc};
use hiregraph_domain::companies::{self as companies_rules, CompanyAction, CompanyRole, Standing};
use hiregraph_domain::partners::Scope;
use hiregraph_domain::{CompanyId, Principal};
use hiregraph_persistence::cache::Cache;
use hiregraph_persistence::limiter::{ClientAddr, Limiter};
use hiregraph_persistence::{Database, companies};
use tokio::sync::OnceCell;

use crate::auth::JwtKeys;
use crate::error::AppResult;
use crate::settings::Settings;

pub struct AppState {
    pub db: Database,
    /// The background worker's own pool (the request pool unless `startup` opened one), so
    /// background work neither starves requests nor shows in their statement counts.
    pub work_db: Database,
    pub cache: Cache,
    pub limiter: Limiter,
    pub jwt: JwtKeys,
    pub settings: Settings,
    pub metrics: crate::metrics::RequestMetrics,
    /// Webhook deliveries' HTTP client.
    pub outbound: crate::services::webhooks::Sender,
    /// Woken when this process queues a delivery, so its worker need not wait for its next poll.
    pub wake: Arc<tokio::sync::Notify>,
    /// Woken when this process commits events, so its relay publishes them at once.
    pub relay_wake: Arc<tokio::sync::Notify>,
    /// Committed events broadcast to this replica's subscriptions.
    pub live: Arc<crate::services::live::Live>,
    /// Set on SIGTERM: `/readyz` answers 503 while requests are still served.
    pub draining: std::sync::atomic::AtomicBool,
    /// This replica's semantic search index (`services::semantic`).
    pub semantic: Arc<hiregraph_persistence::semantic::SemanticIndex>,
    /// This replica's index of listed candidates, for ranking them (`services::matching`), kept
    /// fresh by the same task as `semantic`.
    pub talent: Arc<hiregraph_persistence::talent::TalentIndex>,
    /// Woken when this process commits a posting change, so the index reads it at once.
    pub search_wake: Arc<tokio::sync::Notify>,
    /// The outbox position of the last posting or company change this process committed: a
    /// search is answered from the index only once the index has read that far, so a client
    /// finds what it has just written.
    pub search_written: std::sync::atomic::AtomicI64,
    /// The documents this replica admitted lately, parsed (`graphql::limits::Documents`).
    pub documents: crate::graphql::limits::Documents,
}

impl AppState {
    pub fn new(db: Database, cache: Cache, limiter: Limiter, jwt: JwtKeys, settings: Settings) -> Self {
        let outbound = crate::services::webhooks::Sender::new(settings.webhook_timeout, settings.webhook_allow_private);
        Self {
            work_db: db.clone(),
            db,
            cache,
            limiter,
            jwt,
            settings,
            metrics: Default::default(),
            outbound,
            wake: Arc::new(tokio::sync::Notify::new()),
            relay_wake: Arc::new(tokio::sync::Notify::new()),
            live: Default::default(),
            draining: Default::default(),
            semantic: Default::default(),
            talent: Default::default(),
            search_wake: Arc::new(tokio::sync::Notify::new()),
            search_written: Default::default(),
            documents: Default::default(),
        }
    }

    /// Fans events out on `bus` (the in-process one unless this is called).
    pub fn with_bus(mut self, bus: hiregraph_persistence::bus::Bus) -> Self {
        self.live = Arc::new(crate::services::live::Live::new(bus));
        self
    }

    /// Gives the worker a pool of its own.
    pub fn with_work_db(mut self, work_db: Database) -> Self {
        self.work_db = work_db;
        self
    }
}

/// The current time at the precision both databases store (microseconds), so a value read back
/// equals the value written.
pub fn now() -> DateTime<Utc> {
    Utc::now().trunc_subsecs(6)
}

/// The caller of one request and, loaded at most once, the companies they belong to.
pub struct Viewer {
    pub principal: Principal,
    /// Where the request came from, as rate limits count it (`None` off the network).
    pub client: Option<ClientAddr>,
    memberships: OnceCell<HashMap<CompanyId, CompanyRole>>,
    /// The memberships read with the account, for `memberships` to take instead of a statement
    /// (dropped for a mutation, which may change them before it first asks).
    read_with_account: std::sync::Mutex<Option<HashMap<CompanyId, CompanyRole>>>,
    employer: OnceCell<bool>,
}

impl Viewer {
    pub fn new(principal: Principal) -> Arc<Self> {
        Self::from_client(principal, None)
    }

    pub fn from_client(principal: Principal, client: Option<ClientAddr>) -> Arc<Self> {
        Self::from_caller(crate::http::Caller { principal, memberships: None }, client)
    }

    /// The viewer of one HTTP request, with the memberships read with the account when there are.
    pub fn from_caller(caller: crate::http::Caller, client: Option<ClientAddr>) -> Arc<Self> {
        Arc::new(Self {
            principal: caller.principal,
            client,
            memberships: OnceCell::new(),
            read_with_account: std::sync::Mutex::new(caller.memberships.map(|list| list.into_iter().collect())),
            employer: OnceCell::new(),
        })
    }

    /// Forgets the memberships read with the account: a mutation reads them when it first asks,
    /// so one that creates a company sees itself its owner afterwards.
    pub fn reread_memberships(&self) {
        if let Ok(mut read) = self.read_with_account.lock() {
            *read = None;
        }
    }

    /// Every company the viewer belongs to, with the role; loaded once per request.
    pub async fn memberships(&self, state: &AppState) -> AppResult<&HashMap<CompanyId, CompanyRole>> {
        static NONE: std::sync::OnceLock<HashMap<CompanyId, CompanyRole>> = std::sync::OnceLock::new();
        let Some(user) = self.principal.user_id() else { return Ok(NONE.get_or_init(HashMap::new)) };
        self.memberships
            .get_or_try_init(|| async {
                if let Some(read) = self.read_with_account.lock().ok().and_then(|mut read| read.take()) {
                    return Ok(read);
                }
                let list = companies::memberships_of(user, &state.db.conn).await?;
                Ok::<_, crate::error::AppError>(list.into_iter().map(|m| (m.company_id, m.role)).collect())
            })
            .await
    }

    /// The viewer's role in `company`, if they are a member.
    pub async fn role_in(&self, state: &AppState, company: CompanyId) -> AppResult<Option<CompanyRole>> {
        Ok(self.memberships(state).await?.get(&company).copied())
    }

    /// How the viewer stands in `company`: a member with a role, a partner app of it with its
    /// scopes, or not at all.
    pub async fn standing_in(&self, state: &AppState, company: CompanyId) -> AppResult<Option<Standing>> {
        match &self.principal {
            Principal::Partner { company: own, scopes, .. } => {
                Ok((*own == company).then_some(Standing::Partner(*scopes)))
            }
            _ => Ok(self.role_in(state, company).await?.map(Standing::Member)),
        }
    }

    /// Whether the viewer may do `action` in `company` (DESIGN §4).
    pub async fn may(&self, state: &AppState, company: CompanyId, action: CompanyAction) -> AppResult<bool> {
        if self.principal.is_platform_admin() {
            return Ok(true);
        }
        Ok(companies_rules::may(&self.principal, self.standing_in(state, company).await?, action))
    }

    /// The companies whose applicants' contact data the viewer sees: every company of a member,
    /// a partner's own with `applications:read`.
    pub async fn applicant_companies(&self, state: &AppState) -> AppResult<Vec<CompanyId>> {
        match &self.principal {
            Principal::Partner { company, scopes, .. } => {
                Ok(if scopes.allows(Scope::ApplicationsRead) { vec![*company] } else { Vec::new() })
            }
            _ => Ok(self.memberships(state).await?.keys().copied().collect()),
        }
    }

    /// Whether the viewer is an employer: a member of at least one *verified* company. Anyone
    /// may create a company; only verified ones see `EMPLOYERS` profiles.
    pub async fn is_employer(&self, state: &AppState) -> AppResult<bool> {
        let memberships = self.memberships(state).await?;
        if memberships.is_empty() {
            return Ok(false);
        }
        self.employer
            .get_or_try_init(|| async {
                let ids: Vec<CompanyId> = memberships.keys().copied().collect();
                Ok::<_, crate::error::AppError>(!companies::verified_among(&ids, &state.db.conn).await?.is_empty())
            })
            .await
            .copied()
    }
}
