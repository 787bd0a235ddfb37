//! Job postings: reading, the public feed, writing, and the status machine.

use std::sync::Arc;

use async_graphql::connection::{Connection, Edge, EmptyFields};
use async_graphql::{Context, Enum, ID, InputObject, MaybeUndefined, Object, Result, SimpleObject};
use chrono::{DateTime, Utc};
use hiregraph_domain::postings::{
    Posting as DomainPosting, PostingAction, PostingContentInput, PostingSkill as DomainSkill,
    SalaryInput as DomainSalaryInput,
};
use hiregraph_domain::search::{TextQuery, parse_query};
use hiregraph_domain::{CompanyId, PostingId};
use hiregraph_persistence::page::Page;
use hiregraph_persistence::postings::{CompanyScope, FeedFilter, FeedOrder, WithCompanies};

use super::applications::{self, Application, ApplicationCount, ApplicationStatus, PipelineStage};
use super::candidates::CandidateProfile;
use super::companies::Company;
use super::connection::{self, page_request};
use super::context::{PipelineOf, loader, state, viewer};
use super::ids::encode_cursor;
use super::ids::{self, Kind};
use super::matching::CandidateMatch;
use super::types::{
    CountryCode, CurrencyCode, EmploymentType, Location, LocationInput, PostingStatus, SalaryPeriod, Seniority,
    Workplace, patch,
};
use crate::error::AppError;
use crate::services::postings::{self as service, PostingPatch};
use crate::services::{loading, matching};
use crate::state::now;

/// A job posting.
pub struct Posting(pub Arc<DomainPosting>);

/// A pay range in whole units of its currency.
#[derive(SimpleObject)]
pub struct SalaryRange {
    min: i64,
    max: i64,
    currency: CurrencyCode,
    period: SalaryPeriod,
}

impl From<hiregraph_domain::values::SalaryRange> for SalaryRange {
    fn from(s: hiregraph_domain::values::SalaryRange) -> Self {
        Self { min: s.min(), max: s.max(), currency: CurrencyCode(s.currency()), period: s.period().into() }
    }
}

/// A skill the job asks for.
#[derive(SimpleObject)]
pub struct PostingSkill {
    name: String,
    /// Required (true) or nice to have (false).
    required: bool,
}

#[Object]
impl Posting {
    /// Opaque global id.
    pub async fn id(&self) -> ID {
        ids::encode(Kind::Posting, self.0.id.0)
    }
    /// The company's own id for it (set by `upsertPostings`); for those who see the company's
    /// postings in every status, `FORBIDDEN` for others.
    async fn external_id(&self, ctx: &Context<'_>) -> Result<Option<String>> {
        let allowed = viewer(ctx)
            .may(state(ctx), self.0.company_id, hiregraph_domain::companies::CompanyAction::ReadPrivatePostings)
            .await?;
        if !allowed {
            return Err(AppError::Forbidden("only the company sees its external ids".into()).into());
        }
        Ok(loader(ctx).load_one(super::context::ExternalIdOf(self.0.id)).await?)
    }
    /// URL-safe unique name.
    async fn slug(&self) -> &str {
        &self.0.slug
    }
    async fn title(&self) -> &str {
        &self.0.content.title
    }
    /// One or two sentences for lists.
    async fn summary(&self) -> Option<&str> {
        self.0.content.summary.as_deref()
    }
    /// Markdown.
    async fn description(&self) -> &str {
        &self.0.content.description
    }
    async fn responsibilities(&self) -> &[String] {
        &self.0.content.responsibilities
    }
    async fn required_qualifications(&self) -> &[String] {
        &self.0.content.required_qualifications
    }
    async fn preferred_qualifications(&self) -> &[String] {
        &self.0.content.preferred_qualifications
    }
    async fn employment_type(&self) -> Option<EmploymentType> {
        self.0.content.employment_type.map(Into::into)
    }
    async fn seniority(&self) -> Option<Seniority> {
        self.0.content.seniority.map(Into::into)
    }
    async fn min_years_experience(&self) -> Option<i32> {
        self.0.content.min_years_experience
    }
    async fn workplace(&self) -> Option<Workplace> {
        self.0.content.workplace.map(Into::into)
    }
    async fn locations(&self) -> Vec<Location> {
        self.0.content.locations.iter().map(Into::into).collect()
    }
    async fn salary(&self) -> Option<SalaryRange> {
        self.0.content.salary.map(SalaryRange::from)
    }
    /// Whether the offer includes equity.
    async fn equity(&self) -> bool {
        self.0.content.equity
    }
    async fn skills(&self) -> Vec<PostingSkill> {
        self.0.content.skills.iter().map(|s| PostingSkill { name: s.name.clone(), required: s.required }).collect()
    }
    async fn benefits(&self) -> &[String] {
        &self.0.content.benefits
    }
    async fn status(&self) -> PostingStatus {
        self.0.status.into()
    }
    /// When it was first published.
    async fn published_at(&self) -> Option<DateTime<Utc>> {
        self.0.published_at
    }
    async fn expires_at(&self) -> Option<DateTime<Utc>> {
        self.0.content.expires_at
    }
    /// Past its expiry: it no longer appears in search and takes no applications.
    async fn is_expired(&self) -> bool {
        self.0.is_expired(Utc::now())
    }
    /// Pass it back as `expectedVersion` when updating.
    async fn version(&self) -> i32 {
        self.0.version
    }
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }
    async fn updated_at(&self) -> DateTime<Utc> {
        self.0.updated_at
    }
    /// Applications to this posting, newest first; for the company's members.
    #[graphql(complexity = "connection::page_size(first, last) * child_complexity + 1")]
    #[allow(clippy::too_many_arguments)]
    async fn applications(
        &self,
        ctx: &Context<'_>,
        filter: Option<ApplicationFilter>,
        first: Option<i32>,
        after: Option<String>,
        last: Option<i32>,
        before: Option<String>,
    ) -> Result<Option<Connection<String, Application, ApplicationCount, EmptyFields>>> {
        let request = page_request(first, after, last, before)?;
        let statuses = filter.and_then(|f| f.status).unwrap_or_default().into_iter().map(Into::into).collect();
        applications::for_posting(ctx, &self.0, statuses, request).await.map(Some)
    }

    /// Applications per status, every status listed; for the company's members.
    async fn pipeline(&self, ctx: &Context<'_>) -> Result<Option<Vec<PipelineStage>>> {
        crate::services::applications::may_list_for_posting(state(ctx), viewer(ctx), self.0.company_id).await?;
        let counts = loader(ctx).load_one(PipelineOf(self.0.id)).await?.unwrap_or_default();
        Ok(Some(applications::pipeline(&counts)))
    }

    /// Listed candidates (PUBLIC, and EMPLOYERS for a verified company) who fit this posting best, best first, leaving out
    /// those who applied; each with a score (0–100) and why. Salary is not weighed: desired
    /// salaries are private. For the company's RECRUITER, ADMIN and OWNER members.
    #[graphql(complexity = "super::matching::COST + usize::try_from(first).unwrap_or(0) * child_complexity")]
    async fn recommended_candidates(
        &self,
        ctx: &Context<'_>,
        #[graphql(default = 10, desc = "1 to 50.")] first: i32,
    ) -> Result<Vec<CandidateMatch>> {
        let first = matching::bound(first)?;
        let found = matching::candidates_for(state(ctx), viewer(ctx), &self.0, first).await?;
        Ok(found.into_iter().map(|(profile, m)| CandidateMatch::new(CandidateProfile(profile), m)).collect())
    }

    /// The employer.
    async fn company(&self, ctx: &Context<'_>) -> Result<Company> {
        let company = loader(ctx).load_one(self.0.company_id).await?;
        company.map(Company).ok_or_else(|| AppError::Internal("posting without company".into()).into())
    }
    /// The posting as schema.org `JobPosting` structured data (JSON-LD), as Google for Jobs and
    /// other job boards read it: put it in a `<script type="application/ld+json">` of the
    /// posting's page. `GET /postings/{slug}.jsonld` serves the same for published postings.
    async fn json_ld(&self, ctx: &Context<'_>) -> Result<async_graphql::Json<serde_json::Value>> {
        let company = loader(ctx)
            .load_one(self.0.company_id)
            .await?
            .ok_or_else(|| AppError::Internal("posting without company".into()))?;
        Ok(async_graphql::Json(crate::jsonld::job_posting(&self.0, &company)))
    }
}

/// Which applications to list.
#[derive(InputObject, Default)]
pub struct ApplicationFilter {
    /// Any of these statuses.
    status: Option<Vec<ApplicationStatus>>,
}

/// What a posting list counts when `totalCount` is asked for.
pub enum PostingCount {
    Feed(FeedFilter),
    Company(CompanyId, CompanyScope),
}

#[Object]
impl PostingCount {
    /// How many postings match; counted only when this field is selected.
    async fn total_count(&self, ctx: &Context<'_>) -> Result<u64> {
        Ok(match self {
            // Cached with the moment the next counted posting expires: no longer fresh after it.
            PostingCount::Feed(filter) => loading::feed_count(state(ctx), filter).await?,
            PostingCount::Company(id, scope) => loading::company_postings_count(state(ctx), *id, *scope).await?,
        })
    }

    /// When a search of the public feed finds nothing: up to three other queries that would find
    /// something, each with one word nobody uses corrected to the closest known word ("recepcionist"
    /// → "receptionist") or with one word left out. Empty when the search finds postings, when no
    /// words were searched for, and on other lists; computed only when selected.
    async fn suggestions(&self, ctx: &Context<'_>) -> Result<Vec<String>> {
        let PostingCount::Feed(filter) = self else { return Ok(Vec::new()) };
        Ok(loading::feed_suggestions(state(ctx), filter).await?)
    }

    /// Facet counts of the public feed for these filters (null on other lists); computed only
    /// when selected.
    async fn facets(&self, ctx: &Context<'_>) -> Result<Option<PostingFacets>> {
        let PostingCount::Feed(filter) = self else { return Ok(None) };
        let facets = loading::feed_facets(state(ctx), filter).await?;
        Ok(Some(PostingFacets {
            workplaces: facet_values(facets.workplaces),
            employment_types: facet_values(facets.employment_types),
            seniorities: facet_values(facets.seniorities),
            countries: facet_values(facets.countries),
            skills: facet_values(facets.skills),
        }))
    }
}

/// How many postings of the current list have one value of a facet.
#[derive(SimpleObject)]
pub struct FacetValue {
    /// The enum name (`REMOTE`, `FULL_TIME`, `SENIOR`), country code, or lower-case skill.
    value: String,
    count: u64,
}

/// Counts per value of each filterable field for the current query and filters, most frequent
/// first: enough to draw a filter sidebar in the same round trip.
#[derive(SimpleObject)]
pub struct PostingFacets {
    workplaces: Vec<FacetValue>,
    employment_types: Vec<FacetValue>,
    seniorities: Vec<FacetValue>,
    countries: Vec<FacetValue>,
    /// The 20 most listed skills.
    skills: Vec<FacetValue>,
}

fn facet_values(list: Vec<(String, u64)>) -> Vec<FacetValue> {
    list.into_iter().map(|(value, count)| FacetValue { value, count }).collect()
}

/// What an edge of a posting list adds to its node.
#[derive(SimpleObject)]
pub struct PostingEdgeFields {
    /// How well the posting matches the search, by its words and by meaning, from 0 to 1 (higher
    /// is better; a posting found by meaning alone scores at most 0.7); comparable within one
    /// result list only. Null when no words were searched for.
    relevance: Option<f64>,
}

/// A list of postings, each with its relevance when words were searched for.
pub type PostingConnection = Connection<String, Posting, PostingCount, PostingEdgeFields>;

/// Loads a page of posting ids through the loader (fed first with the postings the page's own
/// statement returned, if any) and keeps those the viewer may read. When the list shows each
/// posting's company, the companies are loaded here in one batch, so each posting finds its own
/// in the request's loader.
pub async fn postings_page(
    ctx: &Context<'_>,
    page: Page<(PostingId, Option<f64>)>,
    count: PostingCount,
    preloaded: WithCompanies,
) -> Result<PostingConnection> {
    let loader = loader(ctx);
    loader.loader().prime_companies(preloaded.companies);
    loader.feed_many(preloaded.postings.into_iter().map(|p| (p.id, Arc::new(p)))).await;
    let ids: Vec<PostingId> = page.items.iter().map(|((id, _), _)| *id).collect();
    let found = loader.load_many(ids).await?;
    if ctx.look_ahead().field("edges").field("node").field("company").exists() {
        loader.load_many(found.values().map(|p| p.company_id)).await?;
    }
    let mut connection = Connection::with_additional_fields(page.has_previous_page, page.has_next_page, count);
    for ((id, relevance), cursor) in page.items {
        // A cached page may lag behind an expiry by its TTL: expired postings never show in lists.
        if let Some(posting) = found.get(&id)
            && !posting.is_expired(now())
            && service::may_read(state(ctx), viewer(ctx), posting).await?
        {
            connection.edges.push(Edge::with_additional_fields(
                encode_cursor(&cursor),
                Posting(posting.clone()),
                PostingEdgeFields { relevance },
            ));
        }
    }
    Ok(connection)
}

/// A salary floor: postings in this currency and period whose range reaches the amount.
#[derive(InputObject)]
pub struct MinSalaryInput {
    amount: i64,
    currency: CurrencyCode,
    #[graphql(default_with = "SalaryPeriod::Year")]
    period: SalaryPeriod,
}

/// Filters of the public feed. Every given filter must hold; a list matches any of its values
/// (except `skills`, where a posting must list every one).
#[derive(InputObject, Default)]
pub struct PostingFilter {
    company_ids: Option<Vec<ID>>,
    workplaces: Option<Vec<Workplace>>,
    employment_types: Option<Vec<EmploymentType>>,
    seniorities: Option<Vec<Seniority>>,
    /// A location in any of these countries; remote-in-country counts.
    countries: Option<Vec<CountryCode>>,
    min_salary: Option<MinSalaryInput>,
    /// Skill names, case-insensitive; each must be listed by the posting.
    skills: Option<Vec<String>>,
    /// Words to find in the title, skills, company name, summary and description: a posting with
    /// any of them (in any form: "engineers" finds "engineer") or close to them in meaning
    /// ("babysitter" finds "Nanny") is found, those with every word first. A skill's aliases count
    /// ("k8s" finds Kubernetes), so does a job title's abbreviation ("sre"), a likely typo also
    /// searches for the word it resembles, and stop words and bare numbers are left out. At most 200
    /// characters.
    query: Option<String>,
}

impl PostingFilter {
    pub(crate) fn into_feed_filter(self) -> Result<FeedFilter, AppError> {
        let company_ids = self
            .company_ids
            .unwrap_or_default()
            .iter()
            .enumerate()
            .map(|(i, id)| ids::company_id(id, &format!("filter.companyIds.{i}")))
            .collect::<Result<Vec<_>, _>>()?;
        let min_salary = match self.min_salary {
            Some(m) if m.amount < 0 => {
                return Err(AppError::bad_input("filter.minSalary.amount", "must not be negative"));
            }
            Some(m) => Some((m.amount, m.currency.0, m.period.into())),
            None => None,
        };
        let skills: Vec<String> = self
            .skills
            .unwrap_or_default()
            .into_iter()
            .map(|s| s.trim().to_owned())
            .filter(|s| !s.is_empty())
            .collect();
        if skills.len() > 20 {
            return Err(AppError::bad_input("filter.skills", "may name at most 20 skills"));
        }
        let text = match self.query.as_deref() {
            Some(raw) => parse_query(raw).map_err(|e| AppError::bad_input("filter.query", e.message))?,
            None => TextQuery::default(),
        };
        Ok(FeedFilter {
            text,
            company_ids,
            ids: Vec::new(),
            workplaces: self.workplaces.unwrap_or_default().into_iter().map(Into::into).collect(),
            employment_types: self.employment_types.unwrap_or_default().into_iter().map(Into::into).collect(),
            seniorities: self.seniorities.unwrap_or_default().into_iter().map(Into::into).collect(),
            countries: self.countries.unwrap_or_default().into_iter().map(|c| c.0).collect(),
            min_salary,
            skills,
        })
    }
}

/// Feed order; ties are broken the same way every time, so pages never overlap.
#[derive(Enum, Copy, Clone, Eq, PartialEq)]
pub enum PostingOrder {
    /// Most recently published first.
    Newest,
    /// Least recently published first.
    Oldest,
    /// Best match for `filter.query` first; the same as NEWEST without search words.
    Relevance,
    /// Highest maximum salary first, counted per year (a month is 12, an hour 2,080); postings
    /// without a salary last. Currencies are not converted: filter by `minSalary` to compare like
    /// with like.
    SalaryHigh,
}

#[derive(InputObject)]
pub struct SalaryInput {
    min: i64,
    max: i64,
    currency: CurrencyCode,
    period: SalaryPeriod,
}

impl From<SalaryInput> for DomainSalaryInput {
    fn from(s: SalaryInput) -> Self {
        Self { min: s.min, max: s.max, currency: s.currency.0.as_str().to_owned(), period: s.period.into() }
    }
}

#[derive(InputObject)]
pub struct PostingSkillInput {
    name: String,
    #[graphql(default = true)]
    required: bool,
}

impl From<PostingSkillInput> for DomainSkill {
    fn from(s: PostingSkillInput) -> Self {
        Self { name: s.name, required: s.required }
    }
}

/// A new posting; it starts as a DRAFT. Publishing needs a description of 50+ characters,
/// employment type, seniority, workplace, a location and a required skill.
#[derive(InputObject)]
pub struct CreatePostingInput {
    company_id: ID,
    #[graphql(flatten)]
    content: PostingContentFields,
}

/// What a posting says: the fields of `createPosting`, and of each `upsertPostings` item.
#[derive(InputObject)]
pub struct PostingContentFields {
    title: String,
    summary: Option<String>,
    #[graphql(default)]
    description: String,
    #[graphql(default)]
    responsibilities: Vec<String>,
    #[graphql(default)]
    required_qualifications: Vec<String>,
    #[graphql(default)]
    preferred_qualifications: Vec<String>,
    employment_type: Option<EmploymentType>,
    seniority: Option<Seniority>,
    min_years_experience: Option<i32>,
    workplace: Option<Workplace>,
    #[graphql(default)]
    locations: Vec<LocationInput>,
    salary: Option<SalaryInput>,
    #[graphql(default)]
    equity: bool,
    #[graphql(default)]
    skills: Vec<PostingSkillInput>,
    #[graphql(default)]
    benefits: Vec<String>,
    expires_at: Option<DateTime<Utc>>,
}

impl From<PostingContentFields> for PostingContentInput {
    fn from(input: PostingContentFields) -> Self {
        PostingContentInput {
            title: input.title,
            summary: input.summary,
            description: input.description,
            responsibilities: input.responsibilities,
            required_qualifications: input.required_qualifications,
            preferred_qualifications: input.preferred_qualifications,
            employment_type: input.employment_type.map(Into::into),
            seniority: input.seniority.map(Into::into),
            min_years_experience: input.min_years_experience,
            workplace: input.workplace.map(Into::into),
            locations: input.locations.into_iter().map(Into::into).collect(),
            salary: input.salary.map(Into::into),
            equity: input.equity,
            skills: input.skills.into_iter().map(Into::into).collect(),
            benefits: input.benefits,
            expires_at: input.expires_at,
        }
    }
}

/// One posting of an `upsertPostings` batch: the whole content (omitted fields are empty, as in
/// `createPosting`), under the company's own id for it.
#[derive(InputObject)]
pub struct UpsertPostingItemInput {
    /// Your reference for the posting ("job 4711"): 1 to 200 characters, unique in the company.
    external_id: String,
    #[graphql(flatten)]
    content: PostingContentFields,
}

#[derive(InputObject)]
pub struct UpsertPostingsInput {
    company_id: ID,
    /// At most 100.
    postings: Vec<UpsertPostingItemInput>,
    /// Publish the drafts among them too (each must then be complete).
    #[graphql(default)]
    publish: bool,
}

/// What an upsert did with one item.
#[derive(Enum, Clone, Copy, PartialEq, Eq)]
pub enum UpsertOutcome {
    Created,
    Updated,
    /// The stored posting already said this: nothing was written.
    Unchanged,
    /// The item was refused (see `errors`); nothing of it was written.
    Failed,
}

/// Why an item was refused.
#[derive(SimpleObject)]
pub struct UpsertError {
    message: String,
    /// `BAD_USER_INPUT` or `CONFLICT`.
    code: String,
    /// The input path, e.g. `input.postings.3.title`; null when the item as a whole is refused.
    field: Option<String>,
}

#[derive(SimpleObject)]
pub struct UpsertPostingResult {
    external_id: String,
    outcome: UpsertOutcome,
    /// The posting as it now stands; null when the item failed.
    posting: Option<Posting>,
    errors: Vec<UpsertError>,
}

#[derive(SimpleObject)]
pub struct UpsertPostingsPayload {
    /// One per item, in the order given.
    results: Vec<UpsertPostingResult>,
}

fn upsert_result(external_id: String, result: service::ItemResult) -> UpsertPostingResult {
    match result {
        Ok((done, posting)) => UpsertPostingResult {
            external_id,
            outcome: match done {
                service::Upserted::Created => UpsertOutcome::Created,
                service::Upserted::Updated => UpsertOutcome::Updated,
                service::Upserted::Unchanged => UpsertOutcome::Unchanged,
            },
            posting: Some(Posting(posting)),
            errors: Vec::new(),
        },
        Err(error) => {
            let errors = match error {
                AppError::BadInput(message, fields) if fields.is_empty() => {
                    vec![UpsertError { message, code: "BAD_USER_INPUT".into(), field: None }]
                }
                AppError::BadInput(_, fields) => fields
                    .into_iter()
                    .map(|f| UpsertError { message: f.message, code: "BAD_USER_INPUT".into(), field: Some(f.field) })
                    .collect(),
                AppError::Conflict(message) => vec![UpsertError { message, code: "CONFLICT".into(), field: None }],
                other => {
                    let error = async_graphql::Error::from(other);
                    let code = match error.extensions.as_ref().and_then(|e| e.get("code")) {
                        Some(async_graphql::Value::String(code)) => code.clone(),
                        _ => "INTERNAL".into(),
                    };
                    vec![UpsertError { message: error.message, code, field: None }]
                }
            };
            UpsertPostingResult { external_id, outcome: UpsertOutcome::Failed, posting: None, errors }
        }
    }
}

/// Changes to a posting. Omitted fields keep their value; `null` clears an optional one.
/// Fails with `CONFLICT` when `expectedVersion` is not the stored version.
#[derive(InputObject)]
pub struct UpdatePostingInput {
    id: ID,
    expected_version: i32,
    title: Option<String>,
    summary: MaybeUndefined<String>,
    description: Option<String>,
    responsibilities: Option<Vec<String>>,
    required_qualifications: Option<Vec<String>>,
    preferred_qualifications: Option<Vec<String>>,
    employment_type: MaybeUndefined<EmploymentType>,
    seniority: MaybeUndefined<Seniority>,
    min_years_experience: MaybeUndefined<i32>,
    workplace: MaybeUndefined<Workplace>,
    locations: Option<Vec<LocationInput>>,
    salary: MaybeUndefined<SalaryInput>,
    equity: Option<bool>,
    skills: Option<Vec<PostingSkillInput>>,
    benefits: Option<Vec<String>>,
    expires_at: MaybeUndefined<DateTime<Utc>>,
}

/// Names the posting a status change applies to.
#[derive(InputObject)]
pub struct PostingStatusInput {
    id: ID,
}

#[derive(SimpleObject)]
pub struct PostingPayload {
    posting: Posting,
}

/// A job description to turn into a draft.
#[derive(InputObject)]
pub struct ImportPostingInput {
    company_id: ID,
    /// The description in Markdown (at most 100,000 bytes).
    markdown: String,
}

#[derive(SimpleObject)]
pub struct ImportPostingPayload {
    /// The new DRAFT.
    posting: Posting,
    /// What the importer could not determine; those fields are empty in the draft.
    warnings: Vec<String>,
}

#[derive(Default)]
pub struct PostingQuery;

#[Object]
impl PostingQuery {
    /// A posting by `id`, by `slug`, or by `externalId` with `companyId` (the company's own id
    /// for it; for those who see its postings in every status). Published postings are public;
    /// others only for the company's members and partners. One you may not see is `NOT_FOUND`.
    async fn posting(
        &self,
        ctx: &Context<'_>,
        id: Option<ID>,
        slug: Option<String>,
        external_id: Option<String>,
        company_id: Option<ID>,
    ) -> Result<Option<Posting>> {
        let state = state(ctx);
        let id = match (id, slug, external_id, company_id) {
            (Some(id), None, None, None) => ids::posting_id(&id, "id")?,
            (None, Some(slug), None, None) => loading::posting_id_by_slug(state, slug.trim())
                .await?
                .ok_or_else(|| AppError::NotFound(format!("no posting has the slug `{slug}`")))?,
            (None, None, Some(external), Some(company)) => {
                let company = ids::company_id(&company, "companyId")?;
                service::id_by_external(state, viewer(ctx), company, &external).await?
            }
            (None, None, Some(_), None) => {
                return Err(
                    AppError::bad_input("companyId", "an externalId is the company's own: name the company").into()
                );
            }
            _ => return Err(AppError::bad_input("id", "give exactly one of id, slug and externalId").into()),
        };
        let posting =
            loader(ctx).load_one(id).await?.ok_or_else(|| AppError::NotFound("no posting has this id".into()))?;
        if !service::may_read(state, viewer(ctx), &posting).await? {
            return Err(AppError::NotFound("no posting has this id".into()).into());
        }
        Ok(Some(Posting(posting)))
    }

    /// Published, unexpired postings, filtered and paginated by keyset cursors.
    #[graphql(complexity = "connection::page_size(first, last) * child_complexity + 1")]
    #[allow(clippy::too_many_arguments)]
    async fn postings(
        &self,
        ctx: &Context<'_>,
        filter: Option<PostingFilter>,
        #[graphql(desc = "Defaults to RELEVANCE when `filter.query` has search words, NEWEST otherwise.")]
        order_by: Option<PostingOrder>,
        first: Option<i32>,
        after: Option<String>,
        last: Option<i32>,
        before: Option<String>,
    ) -> Result<PostingConnection> {
        let request = page_request(first, after, last, before)?;
        let filter = filter.unwrap_or_default().into_feed_filter()?;
        let searching = !filter.text.is_empty();
        let order = match order_by {
            Some(PostingOrder::Newest) => FeedOrder::Newest,
            Some(PostingOrder::Oldest) => FeedOrder::Oldest,
            Some(PostingOrder::Relevance) | None if searching => FeedOrder::Relevance,
            Some(PostingOrder::Relevance) | None => FeedOrder::Newest,
            Some(PostingOrder::SalaryHigh) => FeedOrder::SalaryHigh,
        };
        for (name, cursor) in [("after", &request.after), ("before", &request.before)] {
            if cursor.as_ref().is_some_and(|c| !order.accepts(&c.key)) {
                return Err(AppError::bad_input(name, "this cursor belongs to a list in another order").into());
            }
        }
        let state = state(ctx);
        let shape = loading::shape_hash(&(&filter, order, &request));
        let (page, preloaded) = loading::feed(state, shape, &filter, order, &request).await?;
        postings_page(ctx, page.map(|hit| (hit.id, hit.relevance)), PostingCount::Feed(filter), preloaded).await
    }
}

#[derive(Default)]
pub struct PostingMutation;

#[Object]
impl PostingMutation {
    /// Creates a DRAFT posting (RECRUITER, ADMIN or OWNER of the company).
    async fn create_posting(&self, ctx: &Context<'_>, input: CreatePostingInput) -> Result<PostingPayload> {
        let company = ids::company_id(&input.company_id, "input.companyId")?;
        let content = input.content.into();
        let posting = service::create(state(ctx), viewer(ctx), company, content).await?;
        Ok(PostingPayload { posting: Posting(posting) })
    }

    /// Creates or updates up to 100 of a company's postings by their external ids, each on its
    /// own: a refused item leaves the others applied. Replaying a batch changes nothing.
    async fn upsert_postings(&self, ctx: &Context<'_>, input: UpsertPostingsInput) -> Result<UpsertPostingsPayload> {
        let company = ids::company_id(&input.company_id, "input.companyId")?;
        let items = input.postings.into_iter().map(|item| (item.external_id, item.content.into())).collect();
        let results = service::upsert_many(state(ctx), viewer(ctx), company, items, input.publish).await?;
        Ok(UpsertPostingsPayload { results: results.into_iter().map(|(ext, r)| upsert_result(ext, r)).collect() })
    }

    /// Creates a DRAFT from a job description in Markdown: title, employment type, seniority,
    /// minimum years, workplace and locations, salary, equity, skills, responsibilities,
    /// qualifications and benefits; the rest stays in the description.
    async fn import_posting(&self, ctx: &Context<'_>, input: ImportPostingInput) -> Result<ImportPostingPayload> {
        let company = ids::company_id(&input.company_id, "input.companyId")?;
        let (posting, warnings) = service::import(state(ctx), viewer(ctx), company, &input.markdown).await?;
        Ok(ImportPostingPayload { posting: Posting(posting), warnings })
    }

    /// Edits a posting that is not closed or archived. A published one must stay complete.
    async fn update_posting(&self, ctx: &Context<'_>, input: UpdatePostingInput) -> Result<PostingPayload> {
        let id = ids::posting_id(&input.id, "input.id")?;
        let patch = PostingPatch {
            title: input.title,
            summary: patch(input.summary, |v| v),
            description: input.description,
            responsibilities: input.responsibilities,
            required_qualifications: input.required_qualifications,
            preferred_qualifications: input.preferred_qualifications,
            employment_type: patch(input.employment_type, Into::into),
            seniority: patch(input.seniority, Into::into),
            min_years_experience: patch(input.min_years_experience, |v| v),
            workplace: patch(input.workplace, Into::into),
            locations: input.locations.map(|l| l.into_iter().map(Into::into).collect()),
            salary: patch(input.salary, Into::into),
            equity: input.equity,
            skills: input.skills.map(|s| s.into_iter().map(Into::into).collect()),
            benefits: input.benefits,
            expires_at: patch(input.expires_at, |v| v),
        };
        let posting = service::update(state(ctx), viewer(ctx), id, input.expected_version, patch).await?;
        Ok(PostingPayload { posting: Posting(posting) })
    }

    /// DRAFT or PAUSED → PUBLISHED. Refused, naming the missing fields, when incomplete.
    async fn publish_posting(&self, ctx: &Context<'_>, input: PostingStatusInput) -> Result<PostingPayload> {
        transition(ctx, input, PostingAction::Publish).await
    }

    /// PUBLISHED → PAUSED: hidden from the public until published again.
    async fn pause_posting(&self, ctx: &Context<'_>, input: PostingStatusInput) -> Result<PostingPayload> {
        transition(ctx, input, PostingAction::Pause).await
    }

    /// PUBLISHED or PAUSED → CLOSED.
    async fn close_posting(&self, ctx: &Context<'_>, input: PostingStatusInput) -> Result<PostingPayload> {
        transition(ctx, input, PostingAction::Close).await
    }

    /// DRAFT or CLOSED → ARCHIVED.
    async fn archive_posting(&self, ctx: &Context<'_>, input: PostingStatusInput) -> Result<PostingPayload> {
        transition(ctx, input, PostingAction::Archive).await
    }
}

async fn transition(ctx: &Context<'_>, input: PostingStatusInput, action: PostingAction) -> Result<PostingPayload> {
    let id = ids::posting_id(&input.id, "input.id")?;
    let posting = service::transition(state(ctx), viewer(ctx), id, action).await?;
    Ok(PostingPayload { posting: Posting(posting) })
}
