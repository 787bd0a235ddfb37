//! Partner apps, their API keys, and the mutations that manage them (company ADMIN and OWNER,
//! platform admins). Secrets and keys are shown once: when created and when rotated.

use async_graphql::{Context, Enum, ID, InputObject, Object, Result, SimpleObject};
use chrono::{DateTime, Utc};
use hiregraph_domain::ids::{ApiKeyId, PartnerAppId};
use hiregraph_domain::partners::{self as domain, Scope};

use super::companies::Company;
use super::context::{KeysOf, loader, state, viewer};
use super::ids::{self, Kind, encode};
use crate::services::partners as service;

/// What a partner app may do, always within its own company. Over OAuth the same scopes are
/// spelled `postings:read`, `postings:write`, and so on.
#[derive(Enum, Clone, Copy, PartialEq, Eq)]
pub enum PartnerScope {
    /// Read the company's postings in every status (`postings:read`).
    PostingsRead,
    /// Create, edit, publish and close the company's postings; includes `postings:read`.
    PostingsWrite,
    /// Read the company's applications with the applicants' contact data (`applications:read`).
    ApplicationsRead,
    /// Move and reject applications, write notes; includes `applications:read`.
    ApplicationsWrite,
    /// Submit applicants to any published posting on the platform (`applications:submit`), for
    /// job boards.
    ApplicationsSubmit,
    /// Read the company's `events` feed (`events:read`).
    EventsRead,
    /// Manage the company's webhook endpoints (`webhooks:manage`).
    WebhooksManage,
}

impl From<PartnerScope> for Scope {
    fn from(s: PartnerScope) -> Self {
        match s {
            PartnerScope::PostingsRead => Scope::PostingsRead,
            PartnerScope::PostingsWrite => Scope::PostingsWrite,
            PartnerScope::ApplicationsRead => Scope::ApplicationsRead,
            PartnerScope::ApplicationsWrite => Scope::ApplicationsWrite,
            PartnerScope::ApplicationsSubmit => Scope::ApplicationsSubmit,
            PartnerScope::EventsRead => Scope::EventsRead,
            PartnerScope::WebhooksManage => Scope::WebhooksManage,
        }
    }
}

impl From<Scope> for PartnerScope {
    fn from(s: Scope) -> Self {
        match s {
            Scope::PostingsRead => PartnerScope::PostingsRead,
            Scope::PostingsWrite => PartnerScope::PostingsWrite,
            Scope::ApplicationsRead => PartnerScope::ApplicationsRead,
            Scope::ApplicationsWrite => PartnerScope::ApplicationsWrite,
            Scope::ApplicationsSubmit => PartnerScope::ApplicationsSubmit,
            Scope::EventsRead => PartnerScope::EventsRead,
            Scope::WebhooksManage => PartnerScope::WebhooksManage,
        }
    }
}

/// An integration of one company: a job board or an applicant-tracking system, with its scopes,
/// its OAuth client id and its API keys.
pub struct PartnerApp(pub domain::PartnerApp);

#[Object]
impl PartnerApp {
    async fn id(&self) -> ID {
        encode(Kind::PartnerApp, self.0.id.0)
    }

    async fn name(&self) -> &str {
        &self.0.name
    }

    async fn company(&self, ctx: &Context<'_>) -> Result<Option<Company>> {
        Ok(loader(ctx).load_one(self.0.company_id).await?.map(Company))
    }

    /// The scopes granted, as created.
    async fn scopes(&self) -> Vec<PartnerScope> {
        self.0.scopes.list().into_iter().map(Into::into).collect()
    }

    /// Its query-cost budget in points per minute: its own, set by a platform admin, or the
    /// server's default for partners (0: unmetered). See `rateLimit` and `extensions.cost`.
    async fn cost_per_minute(&self, ctx: &Context<'_>) -> u32 {
        self.0.cost_per_minute.unwrap_or(state(ctx).settings.rate_limits.cost_partner_per_minute)
    }

    /// The OAuth 2.0 `client_id` for `POST /oauth/token` (public).
    async fn client_id(&self) -> &str {
        &self.0.client_id
    }

    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }

    async fn updated_at(&self) -> DateTime<Utc> {
        self.0.updated_at
    }

    /// The app's API keys, oldest first, revoked ones included.
    async fn api_keys(&self, ctx: &Context<'_>) -> Result<Vec<ApiKey>> {
        let keys = loader(ctx).load_one(KeysOf(self.0.id)).await?.unwrap_or_default();
        Ok(keys.iter().cloned().map(ApiKey).collect())
    }
}

/// An API key of a partner app. The key itself was shown once, when it was created.
pub struct ApiKey(pub domain::ApiKey);

#[Object]
impl ApiKey {
    async fn id(&self) -> ID {
        encode(Kind::ApiKey, self.0.id.0)
    }

    async fn name(&self) -> &str {
        &self.0.name
    }

    /// The key's environment prefix and last four characters (`hg_live_…x9Qz`).
    async fn hint(&self) -> &str {
        &self.0.hint
    }

    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }

    async fn expires_at(&self) -> Option<DateTime<Utc>> {
        self.0.expires_at
    }

    async fn revoked_at(&self) -> Option<DateTime<Utc>> {
        self.0.revoked_at
    }

    /// When it was last used, to the minute.
    async fn last_used_at(&self) -> Option<DateTime<Utc>> {
        self.0.last_used_at
    }
}

#[derive(InputObject)]
pub struct SetPartnerAppCostBudgetInput {
    partner_app_id: ID,
    /// Points per minute: at least `HIREGRAPH_MAX_COMPLEXITY`, 0 for unmetered, null for the
    /// server's default.
    points_per_minute: Option<i32>,
}

#[derive(SimpleObject)]
pub struct PartnerAppPayload {
    partner_app: PartnerApp,
}

#[derive(InputObject)]
pub struct CreatePartnerAppInput {
    company_id: ID,
    /// 1 to 100 characters, shown to the company's admins.
    name: String,
    /// At least one.
    scopes: Vec<PartnerScope>,
}

#[derive(SimpleObject)]
pub struct CreatePartnerAppPayload {
    partner_app: PartnerApp,
    /// The OAuth client secret (`hgcs_<env>_…`), shown only now.
    client_secret: String,
}

#[derive(InputObject)]
pub struct RotatePartnerAppSecretInput {
    partner_app_id: ID,
}

#[derive(SimpleObject)]
pub struct RotatePartnerAppSecretPayload {
    partner_app: PartnerApp,
    /// The new client secret, shown only now. The old one and every access token issued under it
    /// stop working at once.
    client_secret: String,
}

#[derive(InputObject)]
pub struct CreateApiKeyInput {
    partner_app_id: ID,
    /// 1 to 100 characters, to tell keys apart.
    name: String,
    /// When the key stops working; never, if omitted.
    expires_at: Option<DateTime<Utc>>,
}

#[derive(SimpleObject)]
pub struct CreateApiKeyPayload {
    api_key: ApiKey,
    /// The key (`hg_<env>_<random>_<checksum>`), shown only now: send it as
    /// `Authorization: Bearer <key>`.
    key: String,
}

#[derive(InputObject)]
pub struct RevokeApiKeyInput {
    api_key_id: ID,
}

#[derive(SimpleObject)]
pub struct RevokeApiKeyPayload {
    api_key: ApiKey,
}

#[derive(Default)]
pub struct PartnerMutation;

#[Object]
impl PartnerMutation {
    /// Registers a partner app of a company (ADMIN or OWNER) with the scopes it may use. Returns
    /// its OAuth client secret once.
    async fn create_partner_app(
        &self,
        ctx: &Context<'_>,
        input: CreatePartnerAppInput,
    ) -> Result<CreatePartnerAppPayload> {
        let company = ids::company_id(&input.company_id, "input.companyId")?;
        let scopes: Vec<Scope> = input.scopes.into_iter().map(Into::into).collect();
        let (app, secret) = service::create_app(state(ctx), viewer(ctx), company, &input.name, &scopes).await?;
        Ok(CreatePartnerAppPayload { partner_app: PartnerApp(app), client_secret: secret })
    }

    /// A new client secret for an app, shown once.
    async fn rotate_partner_app_secret(
        &self,
        ctx: &Context<'_>,
        input: RotatePartnerAppSecretInput,
    ) -> Result<RotatePartnerAppSecretPayload> {
        let id = PartnerAppId(ids::decode(&input.partner_app_id, Kind::PartnerApp, "input.partnerAppId")?);
        let (app, secret) = service::rotate_secret(state(ctx), viewer(ctx), id).await?;
        Ok(RotatePartnerAppSecretPayload { partner_app: PartnerApp(app), client_secret: secret })
    }

    /// A platform admin sets an app's query-cost budget (points per minute; null: the server's
    /// default for partners, 0: unmetered).
    async fn set_partner_app_cost_budget(
        &self,
        ctx: &Context<'_>,
        input: SetPartnerAppCostBudgetInput,
    ) -> Result<PartnerAppPayload> {
        let id = PartnerAppId(ids::decode(&input.partner_app_id, Kind::PartnerApp, "input.partnerAppId")?);
        let app = service::set_cost_budget(state(ctx), viewer(ctx), id, input.points_per_minute).await?;
        Ok(PartnerAppPayload { partner_app: PartnerApp(app) })
    }

    /// Issues an API key for an app; the key is in the payload, once.
    async fn create_api_key(&self, ctx: &Context<'_>, input: CreateApiKeyInput) -> Result<CreateApiKeyPayload> {
        let app = PartnerAppId(ids::decode(&input.partner_app_id, Kind::PartnerApp, "input.partnerAppId")?);
        let (key, raw) = service::create_key(state(ctx), viewer(ctx), app, &input.name, input.expires_at).await?;
        Ok(CreateApiKeyPayload { api_key: ApiKey(key), key: raw })
    }

    /// Revokes an API key: refused from the next request on, on every replica.
    async fn revoke_api_key(&self, ctx: &Context<'_>, input: RevokeApiKeyInput) -> Result<RevokeApiKeyPayload> {
        let id = ApiKeyId(ids::decode(&input.api_key_id, Kind::ApiKey, "input.apiKeyId")?);
        let key = service::revoke_key(state(ctx), viewer(ctx), id).await?;
        Ok(RevokeApiKeyPayload { api_key: ApiKey(key) })
    }
}
