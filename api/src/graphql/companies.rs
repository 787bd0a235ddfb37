//! Companies and their members.

use std::sync::Arc;

use async_graphql::connection::{Connection, EmptyFields};
use async_graphql::{Context, ID, InputObject, MaybeUndefined, Object, Result, SimpleObject};
use chrono::{DateTime, Utc};
use hiregraph_domain::companies::{Company as DomainCompany, CompanyAction, CompanyProfileInput, Membership};
use hiregraph_persistence::postings::{CompanyScope, WithCompanies};

use super::accounts::User;
use super::connection::{self, page_request};
use super::context::{PipelineOf, loader, state, viewer};
use super::ids::{self, Kind};
use super::postings::{PostingConnection, PostingCount, postings_page};
use super::types::{CompanyRole, CompanySize, Location, LocationInput, patch};
use crate::error::AppError;
use crate::services::companies::{self as service, CompanyPatch};
use crate::services::loading;

/// An employer on the marketplace.
pub struct Company(pub Arc<DomainCompany>);

#[Object]
impl Company {
    /// Opaque global id.
    pub async fn id(&self) -> ID {
        ids::encode(Kind::Company, self.0.id.0)
    }
    /// URL-safe unique name, as in `/companies/acme`.
    async fn slug(&self) -> &str {
        self.0.slug.as_str()
    }
    async fn name(&self) -> &str {
        &self.0.profile.name
    }
    /// Markdown.
    async fn description(&self) -> Option<&str> {
        self.0.profile.description.as_deref()
    }
    async fn website(&self) -> Option<&str> {
        self.0.profile.website.as_ref().map(|w| w.as_str())
    }

    /// An https image URL job boards show beside the company's postings (`logo` in a posting's
    /// JSON-LD).
    async fn logo_url(&self) -> Option<&str> {
        self.0.profile.logo.as_ref().map(|w| w.as_str())
    }
    async fn industry(&self) -> Option<&str> {
        self.0.profile.industry.as_deref()
    }
    async fn size(&self) -> Option<CompanySize> {
        self.0.profile.size.map(Into::into)
    }
    async fn headquarters(&self) -> Option<Location> {
        self.0.profile.headquarters.as_ref().map(Into::into)
    }
    /// Checked by the platform.
    async fn verified(&self) -> bool {
        self.0.verified
    }
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }
    async fn updated_at(&self) -> DateTime<Utc> {
        self.0.updated_at
    }

    /// The viewer's role here, or null when not a member.
    async fn viewer_role(&self, ctx: &Context<'_>) -> Result<Option<CompanyRole>> {
        Ok(viewer(ctx).role_in(state(ctx), self.0.id).await?.map(Into::into))
    }

    /// Where the company's events are delivered; its ADMINs and OWNERs (and platform admins) only.
    async fn webhook_endpoints(&self, ctx: &Context<'_>) -> Result<Vec<super::webhooks::WebhookEndpoint>> {
        let list = crate::services::webhooks::list(state(ctx), viewer(ctx), self.0.id).await?;
        Ok(list.into_iter().map(super::webhooks::WebhookEndpoint).collect())
    }

    /// The company's partner apps; its ADMINs and OWNERs (and platform admins) only.
    async fn partner_apps(&self, ctx: &Context<'_>) -> Result<Vec<super::partners::PartnerApp>> {
        let list = crate::services::partners::apps_of(state(ctx), viewer(ctx), self.0.id).await?;
        Ok(list.into_iter().map(super::partners::PartnerApp).collect())
    }

    /// The members; only members and platform admins may list them.
    async fn members(&self, ctx: &Context<'_>) -> Result<Vec<CompanyMember>> {
        let list = service::members(state(ctx), viewer(ctx), self.0.id).await?;
        Ok(list.into_iter().map(CompanyMember).collect())
    }

    /// This company's postings, newest first: every status for its members, published and
    /// unexpired ones for everyone else.
    #[graphql(complexity = "connection::page_size(first, last) * child_complexity + 1")]
    async fn postings(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
        last: Option<i32>,
        before: Option<String>,
    ) -> Result<PostingConnection> {
        let request = page_request(first, after, last, before)?;
        let state = state(ctx);
        let scope = if viewer(ctx).may(state, self.0.id, CompanyAction::ReadPrivatePostings).await? {
            CompanyScope::All
        } else {
            CompanyScope::Public
        };
        // A page that shows its postings' pipelines or application counts to a viewer who may see
        // them reads the per-status counts in the page's own statement, fed to the loader that
        // `pipeline` and `applications { totalCount }` read.
        let node = ctx.look_ahead();
        let shows_counts = [node.field("edges").field("node"), node.field("nodes")]
            .iter()
            .any(|posting| posting.field("pipeline").exists() || posting.field("applications").exists());
        let page = if shows_counts && viewer(ctx).may(state, self.0.id, CompanyAction::ReadApplications).await? {
            let page = loading::company_postings_with_pipelines(state, self.0.id, scope, &request).await?;
            let mut pipelines = Vec::with_capacity(page.items.len());
            let page = page.map(|(posting, counts)| {
                pipelines.push((PipelineOf(posting.id), Arc::new(counts)));
                posting
            });
            loader(ctx).feed_many(pipelines).await;
            page
        } else {
            loading::company_postings(state, self.0.id, scope, &request).await?
        };
        let mut postings = Vec::with_capacity(page.items.len());
        let page = page.map(|posting| {
            let id = posting.id;
            postings.push(posting);
            (id, None)
        });
        let preloaded = WithCompanies { postings, companies: Vec::new() };
        postings_page(ctx, page, PostingCount::Company(self.0.id, scope), preloaded).await
    }
}

/// A member of a company.
pub struct CompanyMember(pub Membership);

#[Object]
impl CompanyMember {
    async fn user(&self, ctx: &Context<'_>) -> Result<Option<User>> {
        Ok(loader(ctx).load_one(self.0.user_id).await?.map(User))
    }
    async fn role(&self) -> CompanyRole {
        self.0.role.into()
    }
    /// When they joined.
    async fn since(&self) -> DateTime<Utc> {
        self.0.created_at
    }
}

/// One company a user belongs to, seen from the user.
pub struct CompanyMembership(pub Membership);

#[Object]
impl CompanyMembership {
    async fn company(&self, ctx: &Context<'_>) -> Result<Option<Company>> {
        Ok(loader(ctx).load_one(self.0.company_id).await?.map(Company))
    }
    async fn role(&self) -> CompanyRole {
        self.0.role.into()
    }
}

/// How many companies there are (asked for only when wanted).
pub struct CompanyCount;

#[Object]
impl CompanyCount {
    /// Every company; counted only when this field is selected.
    async fn total_count(&self, ctx: &Context<'_>) -> Result<u64> {
        Ok(loading::companies_count(state(ctx)).await?)
    }
}

#[derive(InputObject)]
pub struct CreateCompanyInput {
    /// Made from the name when not given.
    slug: Option<String>,
    name: String,
    description: Option<String>,
    website: Option<String>,
    /// An https image URL: square, at least 112×112 pixels, as job boards ask.
    logo_url: Option<String>,
    industry: Option<String>,
    size: Option<CompanySize>,
    headquarters: Option<LocationInput>,
}

/// Omitted fields keep their value; `null` clears an optional one.
#[derive(InputObject)]
pub struct UpdateCompanyInput {
    id: ID,
    name: Option<String>,
    description: MaybeUndefined<String>,
    website: MaybeUndefined<String>,
    logo_url: MaybeUndefined<String>,
    industry: MaybeUndefined<String>,
    size: MaybeUndefined<CompanySize>,
    headquarters: MaybeUndefined<LocationInput>,
}

#[derive(InputObject)]
pub struct VerifyCompanyInput {
    id: ID,
    #[graphql(default = true)]
    verified: bool,
}

#[derive(InputObject)]
pub struct AddCompanyMemberInput {
    company_id: ID,
    /// The email of a registered user.
    email: String,
    role: CompanyRole,
}

#[derive(InputObject)]
pub struct ChangeCompanyMemberRoleInput {
    company_id: ID,
    user_id: ID,
    role: CompanyRole,
}

#[derive(InputObject)]
pub struct RemoveCompanyMemberInput {
    company_id: ID,
    /// Yourself to leave the company.
    user_id: ID,
}

#[derive(SimpleObject)]
pub struct CompanyPayload {
    company: Company,
}

#[derive(SimpleObject)]
pub struct CompanyMemberPayload {
    member: CompanyMember,
}

#[derive(SimpleObject)]
pub struct RemoveCompanyMemberPayload {
    /// The id of the user who is no longer a member.
    removed_user_id: ID,
}

#[derive(Default)]
pub struct CompanyQuery;

#[Object]
impl CompanyQuery {
    /// A company by its slug.
    async fn company(&self, ctx: &Context<'_>, slug: String) -> Result<Option<Company>> {
        let Some(company) = loading::company_by_slug(state(ctx), slug.trim()).await? else {
            return Err(AppError::NotFound(format!("no company has the slug `{slug}`")).into());
        };
        // Whoever else asks for it in this request (a posting's `company`) finds it loaded.
        loader(ctx).feed_one(company.id, company.clone()).await;
        Ok(Some(Company(company)))
    }

    /// Every company, by name.
    #[graphql(complexity = "connection::page_size(first, last) * child_complexity + 1")]
    async fn companies(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
        last: Option<i32>,
        before: Option<String>,
    ) -> Result<Connection<String, Company, CompanyCount, EmptyFields>> {
        let request = page_request(first, after, last, before)?;
        let page = loading::companies_page(state(ctx), &request).await?;
        let ids: Vec<_> = page.items.iter().map(|(id, _)| *id).collect();
        let found = loader(ctx).load_many(ids).await?;
        let page = hiregraph_persistence::page::Page {
            items: page
                .items
                .into_iter()
                .filter_map(|(id, c)| found.get(&id).map(|v| (Company(v.clone()), c)))
                .collect(),
            has_next_page: page.has_next_page,
            has_previous_page: page.has_previous_page,
        };
        Ok(connection::build(page, CompanyCount))
    }
}

#[derive(Default)]
pub struct CompanyMutation;

#[Object]
impl CompanyMutation {
    /// Creates a company; the caller becomes its OWNER.
    async fn create_company(&self, ctx: &Context<'_>, input: CreateCompanyInput) -> Result<CompanyPayload> {
        let profile = CompanyProfileInput {
            name: input.name,
            description: input.description,
            website: input.website,
            logo_url: input.logo_url,
            industry: input.industry,
            size: input.size.map(Into::into),
            headquarters: input.headquarters.map(Into::into),
        };
        let company = service::create(state(ctx), viewer(ctx), input.slug.as_deref(), profile).await?;
        Ok(CompanyPayload { company: Company(company) })
    }

    /// Edits a company's profile (ADMIN or OWNER).
    async fn update_company(&self, ctx: &Context<'_>, input: UpdateCompanyInput) -> Result<CompanyPayload> {
        let id = ids::company_id(&input.id, "input.id")?;
        let patch = CompanyPatch {
            name: input.name,
            description: patch(input.description, |v| v),
            website: patch(input.website, |v| v),
            logo_url: patch(input.logo_url, |v| v),
            industry: patch(input.industry, |v| v),
            size: patch(input.size, Into::into),
            headquarters: patch(input.headquarters, Into::into),
        };
        let company = service::update(state(ctx), viewer(ctx), id, patch).await?;
        Ok(CompanyPayload { company: Company(company) })
    }

    /// Marks a company verified or not (platform admins).
    async fn verify_company(&self, ctx: &Context<'_>, input: VerifyCompanyInput) -> Result<CompanyPayload> {
        let id = ids::company_id(&input.id, "input.id")?;
        let company = service::set_verified(state(ctx), viewer(ctx), id, input.verified).await?;
        Ok(CompanyPayload { company: Company(company) })
    }

    /// Adds a registered user to a company (ADMIN or OWNER; only owners add owners).
    async fn add_company_member(
        &self,
        ctx: &Context<'_>,
        input: AddCompanyMemberInput,
    ) -> Result<CompanyMemberPayload> {
        let id = ids::company_id(&input.company_id, "input.companyId")?;
        let member = service::add_member(state(ctx), viewer(ctx), id, &input.email, input.role.into()).await?;
        Ok(CompanyMemberPayload { member: CompanyMember(member) })
    }

    /// Changes a member's role (ADMIN or OWNER; only owners touch owners; the last owner stays).
    async fn change_company_member_role(
        &self,
        ctx: &Context<'_>,
        input: ChangeCompanyMemberRoleInput,
    ) -> Result<CompanyMemberPayload> {
        let company = ids::company_id(&input.company_id, "input.companyId")?;
        let user = ids::user_id(&input.user_id, "input.userId")?;
        let member = service::change_member(state(ctx), viewer(ctx), company, user, Some(input.role.into()))
            .await?
            .ok_or_else(|| AppError::Internal("role change removed the member".into()))?;
        Ok(CompanyMemberPayload { member: CompanyMember(member) })
    }

    /// Removes a member, or leaves when it is yourself. The last owner cannot be removed.
    async fn remove_company_member(
        &self,
        ctx: &Context<'_>,
        input: RemoveCompanyMemberInput,
    ) -> Result<RemoveCompanyMemberPayload> {
        let company = ids::company_id(&input.company_id, "input.companyId")?;
        let user = ids::user_id(&input.user_id, "input.userId")?;
        service::change_member(state(ctx), viewer(ctx), company, user, None).await?;
        Ok(RemoveCompanyMemberPayload { removed_user_id: input.user_id })
    }
}
