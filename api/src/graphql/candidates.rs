//! Candidate profiles. Contact fields (email, phone) and the desired salary are visible only to
//! the candidate, platform admins and members of companies the candidate applied to; anyone else
//! gets `null` with a `FORBIDDEN` error on that field, by every path.

use std::sync::Arc;

use async_graphql::connection::{Connection, EmptyFields};
use async_graphql::{Context, ID, InputObject, Object, Result, SimpleObject};
use chrono::{DateTime, Utc};
use hiregraph_domain::candidates::{
    CandidateProfile as DomainProfile, CandidateSkill, Education as DomainEducation, LinkInput, ProfileInput,
    WorkExperience as DomainWork,
};
use hiregraph_persistence::candidates::CandidateFilter as StoreFilter;
use hiregraph_persistence::page::Page;

use super::connection::{self, page_request};
use super::context::{AppliedToViewer, ContactOf, loader, state, viewer, viewer_loader};
use super::ids::{self, Kind};
use super::postings::{SalaryInput, SalaryRange};
use super::types::{CountryCode, Location, LocationInput, Seniority, Workplace};
use crate::error::AppError;
use crate::services::candidates as service;

pub use super::types::Visibility;

#[derive(SimpleObject, InputObject, Clone)]
#[graphql(input_name = "CandidateSkillInput")]
pub struct Skill {
    name: String,
    /// Years of practice.
    years: Option<i32>,
}

#[derive(SimpleObject, InputObject, Clone)]
#[graphql(input_name = "WorkExperienceInput")]
pub struct WorkExperience {
    company: String,
    title: String,
    /// `YYYY-MM`.
    start: String,
    /// `YYYY-MM`; none while current.
    end: Option<String>,
    description: Option<String>,
}

#[derive(SimpleObject, InputObject, Clone)]
#[graphql(input_name = "EducationInput")]
pub struct Education {
    institution: String,
    degree: Option<String>,
    field: Option<String>,
    end_year: Option<i32>,
}

#[derive(SimpleObject, InputObject, Clone)]
#[graphql(input_name = "ProfileLinkInput")]
pub struct ProfileLink {
    label: String,
    url: String,
}

/// A candidate's profile.
pub struct CandidateProfile(pub Arc<DomainProfile>);

impl CandidateProfile {
    /// The profile with its private fields, once the viewer may see them; `FORBIDDEN` otherwise.
    async fn private(&self, ctx: &Context<'_>) -> Result<Arc<DomainProfile>> {
        let applied = viewer_loader(ctx).load_one(AppliedToViewer(self.0.id)).await?.unwrap_or(false);
        let access = service::access(state(ctx), viewer(ctx), &self.0, Some(applied)).await?;
        if !access.may_see_contact() {
            return Err(AppError::Forbidden(
                "contact details are shown only to companies this candidate applied to".into(),
            )
            .into());
        }
        Ok(loader(ctx).load_one(ContactOf(self.0.id)).await?.unwrap_or_else(|| self.0.clone()))
    }
}

#[Object]
impl CandidateProfile {
    /// Opaque global id.
    pub async fn id(&self) -> ID {
        ids::encode(Kind::Candidate, self.0.id.0)
    }
    async fn display_name(&self) -> &str {
        &self.0.content.display_name
    }
    async fn headline(&self) -> Option<&str> {
        self.0.content.headline.as_deref()
    }
    async fn bio(&self) -> Option<&str> {
        self.0.content.bio.as_deref()
    }
    async fn location(&self) -> Option<Location> {
        self.0.content.location.as_ref().map(Into::into)
    }
    async fn years_experience(&self) -> Option<i32> {
        self.0.content.years_experience
    }
    async fn seniority(&self) -> Option<Seniority> {
        self.0.content.seniority.map(Into::into)
    }
    async fn skills(&self) -> Vec<Skill> {
        self.0.content.skills.iter().map(|s| Skill { name: s.name.clone(), years: s.years }).collect()
    }
    async fn work_history(&self) -> Vec<WorkExperience> {
        self.0
            .content
            .work_history
            .iter()
            .map(|w| WorkExperience {
                company: w.company.clone(),
                title: w.title.clone(),
                start: w.start.clone(),
                end: w.end.clone(),
                description: w.description.clone(),
            })
            .collect()
    }
    async fn education(&self) -> Vec<Education> {
        self.0
            .content
            .education
            .iter()
            .map(|e| Education {
                institution: e.institution.clone(),
                degree: e.degree.clone(),
                field: e.field.clone(),
                end_year: e.end_year,
            })
            .collect()
    }
    async fn links(&self) -> Vec<ProfileLink> {
        self.0
            .content
            .links
            .iter()
            .map(|l| ProfileLink { label: l.label.clone(), url: l.url.as_str().to_owned() })
            .collect()
    }
    /// Workplaces the candidate is open to.
    async fn open_to(&self) -> Vec<Workplace> {
        self.0.content.open_to.iter().map(|w| (*w).into()).collect()
    }
    async fn visibility(&self) -> Visibility {
        self.0.content.visibility.into()
    }
    /// Private: see the type's description.
    async fn email(&self, ctx: &Context<'_>) -> Result<Option<String>> {
        Ok(self.private(ctx).await?.content.contact_email.as_ref().map(|e| e.as_str().to_owned()))
    }
    /// Private: see the type's description.
    async fn phone(&self, ctx: &Context<'_>) -> Result<Option<String>> {
        Ok(self.private(ctx).await?.content.contact_phone.clone())
    }
    /// Private: see the type's description.
    async fn desired_salary(&self, ctx: &Context<'_>) -> Result<Option<SalaryRange>> {
        Ok(self.private(ctx).await?.content.desired_salary.map(SalaryRange::from))
    }
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }
    async fn updated_at(&self) -> DateTime<Utc> {
        self.0.updated_at
    }
}

/// The whole profile; `upsertCandidateProfile` replaces what was there.
#[derive(InputObject)]
pub struct UpsertCandidateProfileInput {
    display_name: String,
    headline: Option<String>,
    bio: Option<String>,
    location: Option<LocationInput>,
    years_experience: Option<i32>,
    seniority: Option<Seniority>,
    #[graphql(default)]
    skills: Vec<Skill>,
    #[graphql(default)]
    work_history: Vec<WorkExperience>,
    #[graphql(default)]
    education: Vec<Education>,
    #[graphql(default)]
    links: Vec<ProfileLink>,
    desired_salary: Option<SalaryInput>,
    #[graphql(default)]
    open_to: Vec<Workplace>,
    #[graphql(default_with = "Visibility::Employers")]
    visibility: Visibility,
    email: Option<String>,
    phone: Option<String>,
}

impl From<UpsertCandidateProfileInput> for ProfileInput {
    fn from(i: UpsertCandidateProfileInput) -> Self {
        Self {
            display_name: i.display_name,
            headline: i.headline,
            bio: i.bio,
            location: i.location.map(Into::into),
            years_experience: i.years_experience,
            seniority: i.seniority.map(Into::into),
            skills: i.skills.into_iter().map(|s| CandidateSkill { name: s.name, years: s.years }).collect(),
            work_history: i
                .work_history
                .into_iter()
                .map(|w| DomainWork {
                    company: w.company,
                    title: w.title,
                    start: w.start,
                    end: w.end,
                    description: w.description,
                })
                .collect(),
            education: i
                .education
                .into_iter()
                .map(|e| DomainEducation {
                    institution: e.institution,
                    degree: e.degree,
                    field: e.field,
                    end_year: e.end_year,
                })
                .collect(),
            links: i.links.into_iter().map(|l| LinkInput { label: l.label, url: l.url }).collect(),
            desired_salary: i.desired_salary.map(Into::into),
            open_to: i.open_to.into_iter().map(Into::into).collect(),
            visibility: i.visibility.into(),
            contact_email: i.email,
            contact_phone: i.phone,
        }
    }
}

#[derive(SimpleObject)]
pub struct CandidateProfilePayload {
    profile: CandidateProfile,
}

/// Candidate search filters; lists match any value, except `skills` (all of them).
#[derive(InputObject, Default)]
pub struct CandidateFilter {
    skills: Option<Vec<String>>,
    seniorities: Option<Vec<Seniority>>,
    countries: Option<Vec<CountryCode>>,
    open_to: Option<Vec<Workplace>>,
}

/// How many candidates match (counted only when asked for).
pub struct CandidateCount(StoreFilter);

#[Object]
impl CandidateCount {
    async fn total_count(&self, ctx: &Context<'_>) -> Result<u64> {
        Ok(crate::services::loading::candidates_count(state(ctx), &self.0).await?)
    }
}

#[derive(Default)]
pub struct CandidateQuery;

#[Object]
impl CandidateQuery {
    /// A candidate by id, as their visibility allows; `NOT_FOUND` when hidden.
    async fn candidate(&self, ctx: &Context<'_>, id: ID) -> Result<Option<CandidateProfile>> {
        let id = ids::candidate_id(&id, "id")?;
        Ok(Some(CandidateProfile(service::read(state(ctx), viewer(ctx), id).await?)))
    }

    /// Searchable profiles, newest first, never PRIVATE: PUBLIC and EMPLOYERS for members of a
    /// verified company and platform admins, PUBLIC only for members of unverified companies.
    #[graphql(complexity = "connection::page_size(first, last) * child_complexity + 1")]
    async fn candidates(
        &self,
        ctx: &Context<'_>,
        filter: Option<CandidateFilter>,
        first: Option<i32>,
        after: Option<String>,
        last: Option<i32>,
        before: Option<String>,
    ) -> Result<Connection<String, CandidateProfile, CandidateCount, EmptyFields>> {
        let request = page_request(first, after, last, before)?;
        let f = filter.unwrap_or_default();
        let filter = StoreFilter {
            skills: f
                .skills
                .unwrap_or_default()
                .into_iter()
                .map(|s| s.trim().to_owned())
                .filter(|s| !s.is_empty())
                .collect(),
            seniorities: f.seniorities.unwrap_or_default().into_iter().map(Into::into).collect(),
            countries: f.countries.unwrap_or_default().into_iter().map(|c| c.0).collect(),
            open_to: f.open_to.unwrap_or_default().into_iter().map(Into::into).collect(),
            visibilities: Vec::new(),
        };
        let (page, filter) = service::search(state(ctx), viewer(ctx), filter, &request).await?;
        let found = loader(ctx).load_many(page.items.iter().map(|(id, _)| *id)).await?;
        let page = Page {
            items: page
                .items
                .into_iter()
                .filter_map(|(id, c)| found.get(&id).map(|p| (CandidateProfile(p.clone()), c)))
                .collect(),
            has_next_page: page.has_next_page,
            has_previous_page: page.has_previous_page,
        };
        Ok(connection::build(page, CandidateCount(filter)))
    }
}

#[derive(Default)]
pub struct CandidateMutation;

#[Object]
impl CandidateMutation {
    /// Creates or replaces the signed-in user's candidate profile.
    async fn upsert_candidate_profile(
        &self,
        ctx: &Context<'_>,
        input: UpsertCandidateProfileInput,
    ) -> Result<CandidateProfilePayload> {
        let profile = service::upsert(state(ctx), viewer(ctx), input.into()).await?;
        Ok(CandidateProfilePayload { profile: CandidateProfile(profile) })
    }
}
