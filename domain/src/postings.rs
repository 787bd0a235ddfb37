//! Job postings: their vocabulary, content rules and status machine.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::companies::LocationInput;
use crate::error::{FieldError, ValidationErrors};
use crate::values::{Location, SalaryPeriod, SalaryRange, bounded_text};

text_enum!(
    /// How a job is contracted.
    EmploymentType { FullTime => "FULL_TIME", PartTime => "PART_TIME", Contract => "CONTRACT", Internship => "INTERNSHIP", Temporary => "TEMPORARY" }
);
text_enum!(
    /// Career level.
    Seniority { Intern => "INTERN", Junior => "JUNIOR", Mid => "MID", Senior => "SENIOR", Staff => "STAFF", Principal => "PRINCIPAL" }
);
text_enum!(
    /// Where the work is done.
    Workplace { Onsite => "ONSITE", Hybrid => "HYBRID", Remote => "REMOTE" }
);
text_enum!(
    /// Lifecycle of a posting: `DRAFT → PUBLISHED ⇄ PAUSED → CLOSED → ARCHIVED`, and `DRAFT → ARCHIVED`.
    PostingStatus { Draft => "DRAFT", Published => "PUBLISHED", Paused => "PAUSED", Closed => "CLOSED", Archived => "ARCHIVED" }
);

/// What a hiring team does to a posting's status.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PostingAction {
    Publish,
    Pause,
    Close,
    Archive,
}

impl PostingAction {
    pub const ALL: [PostingAction; 4] = [Self::Publish, Self::Pause, Self::Close, Self::Archive];
}

/// A transition the status machine refuses.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("a {} posting cannot be {}", from.as_str(), action_verb(*action))]
pub struct InvalidTransition {
    pub from: PostingStatus,
    pub action: PostingAction,
}

fn action_verb(action: PostingAction) -> &'static str {
    match action {
        PostingAction::Publish => "published",
        PostingAction::Pause => "paused",
        PostingAction::Close => "closed",
        PostingAction::Archive => "archived",
    }
}

impl PostingAction {
    /// The status this action aims at.
    pub fn target(self) -> PostingStatus {
        match self {
            Self::Publish => PostingStatus::Published,
            Self::Pause => PostingStatus::Paused,
            Self::Close => PostingStatus::Closed,
            Self::Archive => PostingStatus::Archived,
        }
    }
}

impl PostingStatus {
    /// The one transition function of the status machine.
    pub fn apply(self, action: PostingAction) -> Result<PostingStatus, InvalidTransition> {
        use PostingAction as A;
        use PostingStatus as S;
        match (self, action) {
            (S::Draft | S::Paused, A::Publish)
            | (S::Published, A::Pause)
            | (S::Published | S::Paused, A::Close)
            | (S::Draft | S::Closed, A::Archive) => Ok(action.target()),
            _ => Err(InvalidTransition { from: self, action }),
        }
    }

    /// Whether the content may still be edited.
    pub fn is_editable(self) -> bool {
        matches!(self, Self::Draft | Self::Published | Self::Paused)
    }

    /// Whether the public sees a posting in this status.
    pub fn is_public(self) -> bool {
        self == Self::Published
    }
}

/// A skill a posting asks for.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PostingSkill {
    pub name: String,
    pub required: bool,
}

impl PostingSkill {
    /// The case-insensitive key that filters match on.
    pub fn key(name: &str) -> String {
        name.trim().to_lowercase()
    }
}

/// Everything a hiring team writes about a job, validated. Optional fields may be missing in a
/// draft; [`PostingContent::missing_for_publication`] says which ones publishing needs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PostingContent {
    pub title: String,
    pub summary: Option<String>,
    pub description: String,
    pub responsibilities: Vec<String>,
    pub required_qualifications: Vec<String>,
    pub preferred_qualifications: Vec<String>,
    pub employment_type: Option<EmploymentType>,
    pub seniority: Option<Seniority>,
    pub min_years_experience: Option<i32>,
    pub workplace: Option<Workplace>,
    pub locations: Vec<Location>,
    pub salary: Option<SalaryRange>,
    pub equity: bool,
    pub skills: Vec<PostingSkill>,
    pub benefits: Vec<String>,
    #[serde(default, with = "crate::values::timestamp::option")]
    pub expires_at: Option<DateTime<Utc>>,
}

/// A salary as a client sent it.
#[derive(Debug, Clone)]
pub struct SalaryInput {
    pub min: i64,
    pub max: i64,
    pub currency: String,
    pub period: SalaryPeriod,
}

/// A posting's content as a client sent it.
#[derive(Debug, Clone, Default)]
pub struct PostingContentInput {
    pub title: String,
    pub summary: Option<String>,
    pub description: String,
    pub responsibilities: Vec<String>,
    pub required_qualifications: Vec<String>,
    pub preferred_qualifications: Vec<String>,
    pub employment_type: Option<EmploymentType>,
    pub seniority: Option<Seniority>,
    pub min_years_experience: Option<i32>,
    pub workplace: Option<Workplace>,
    pub locations: Vec<LocationInput>,
    pub salary: Option<SalaryInput>,
    pub equity: bool,
    pub skills: Vec<PostingSkill>,
    pub benefits: Vec<String>,
    pub expires_at: Option<DateTime<Utc>>,
}

const MAX_LIST: usize = 50;

fn text_list(errors: &mut ValidationErrors, field: &str, items: Vec<String>, max_len: usize) -> Vec<String> {
    if items.len() > MAX_LIST {
        errors.push(FieldError::new(field, format!("must have at most {MAX_LIST} items, had {}", items.len())));
        return Vec::new();
    }
    let mut out = Vec::with_capacity(items.len());
    for (i, item) in items.iter().enumerate() {
        if let Some(text) = errors.take(bounded_text(&format!("{field}.{i}"), item, 1, max_len)) {
            out.push(text);
        }
    }
    out
}

impl TryFrom<PostingContentInput> for PostingContent {
    type Error = ValidationErrors;

    fn try_from(input: PostingContentInput) -> Result<Self, Self::Error> {
        let mut errors = ValidationErrors::new();
        let title = errors.take(bounded_text("title", &input.title, 3, 150)).unwrap_or_default();
        let summary = input.summary.map(|s| bounded_text("summary", &s, 0, 500)).transpose();
        let summary = errors.take(summary).flatten().filter(|s| !s.is_empty());
        let description = errors.take(bounded_text("description", &input.description, 0, 50_000)).unwrap_or_default();
        let responsibilities = text_list(&mut errors, "responsibilities", input.responsibilities, 500);
        let required_qualifications =
            text_list(&mut errors, "requiredQualifications", input.required_qualifications, 500);
        let preferred_qualifications =
            text_list(&mut errors, "preferredQualifications", input.preferred_qualifications, 500);
        let benefits = text_list(&mut errors, "benefits", input.benefits, 200);
        if let Some(years) = input.min_years_experience
            && !(0..=50).contains(&years)
        {
            errors.push(FieldError::new("minYearsExperience", format!("must be between 0 and 50, was {years}")));
        }
        if input.locations.len() > MAX_LIST {
            errors.push(FieldError::new("locations", format!("must have at most {MAX_LIST} items")));
        }
        let mut locations = Vec::new();
        for (i, location) in input.locations.iter().take(MAX_LIST).enumerate() {
            match location.parse() {
                Ok(l) => locations.push(l),
                Err(inner) => errors.0.extend(inner.0.into_iter().map(|e| e.under(&format!("locations.{i}")))),
            }
        }
        let salary = match input.salary {
            None => None,
            Some(s) => match SalaryRange::new(s.min, s.max, &s.currency, s.period) {
                Ok(range) => Some(range),
                Err(inner) => {
                    errors.0.extend(inner.0.into_iter().map(|e| e.under("salary")));
                    None
                }
            },
        };
        if input.skills.len() > MAX_LIST {
            errors.push(FieldError::new("skills", format!("must have at most {MAX_LIST} items")));
        }
        let mut skills: Vec<PostingSkill> = Vec::new();
        for (i, skill) in input.skills.into_iter().take(MAX_LIST).enumerate() {
            let Some(name) = errors.take(bounded_text(&format!("skills.{i}.name"), &skill.name, 1, 60)) else {
                continue;
            };
            if skills.iter().any(|s| PostingSkill::key(&s.name) == PostingSkill::key(&name)) {
                errors.push(FieldError::new(format!("skills.{i}.name"), format!("`{name}` is listed twice")));
                continue;
            }
            skills.push(PostingSkill { name, required: skill.required });
        }
        errors.finish(|| Self {
            title,
            summary,
            description,
            responsibilities,
            required_qualifications,
            preferred_qualifications,
            employment_type: input.employment_type,
            seniority: input.seniority,
            min_years_experience: input.min_years_experience,
            workplace: input.workplace,
            locations,
            salary,
            equity: input.equity,
            skills,
            benefits,
            expires_at: input.expires_at,
        })
    }
}

impl PostingContent {
    /// The fields (as input paths) that must be filled before this content can be published;
    /// empty when it is complete.
    pub fn missing_for_publication(&self, now: DateTime<Utc>) -> Vec<FieldError> {
        let mut missing = Vec::new();
        let mut need = |field: &str, why: &str| missing.push(FieldError::new(field, why));
        if self.description.trim().chars().count() < 50 {
            need("description", "needs at least 50 characters to publish");
        }
        if self.employment_type.is_none() {
            need("employmentType", "is required to publish");
        }
        if self.seniority.is_none() {
            need("seniority", "is required to publish");
        }
        match self.workplace {
            None => need("workplace", "is required to publish"),
            Some(Workplace::Remote) => {
                if self.locations.is_empty() {
                    need("locations", "needs at least one location (a remote country counts) to publish");
                }
            }
            Some(Workplace::Onsite | Workplace::Hybrid) => {
                if !self.locations.iter().any(|l| !l.is_remote()) {
                    need("locations", "needs at least one office location for an onsite or hybrid job");
                }
            }
        }
        if !self.skills.iter().any(|s| s.required) {
            need("skills", "needs at least one required skill to publish");
        }
        if self.expires_at.is_some_and(|at| at <= now) {
            need("expiresAt", "must be in the future to publish");
        }
        missing
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_status_machine_decides_every_pair() {
        use PostingAction as A;
        use PostingStatus as S;
        let allowed = [
            (S::Draft, A::Publish, S::Published),
            (S::Draft, A::Archive, S::Archived),
            (S::Published, A::Pause, S::Paused),
            (S::Published, A::Close, S::Closed),
            (S::Paused, A::Publish, S::Published),
            (S::Paused, A::Close, S::Closed),
            (S::Closed, A::Archive, S::Archived),
        ];
        for &from in S::ALL {
            for action in A::ALL {
                let expected = allowed.iter().find(|(f, a, _)| *f == from && *a == action).map(|(_, _, to)| *to);
                match expected {
                    Some(to) => assert_eq!(from.apply(action), Ok(to), "{from:?} {action:?}"),
                    None => {
                        assert_eq!(from.apply(action), Err(InvalidTransition { from, action }), "{from:?} {action:?}")
                    }
                }
            }
        }
    }

    #[test]
    fn refused_transitions_say_from_and_to() {
        let err = PostingStatus::Archived.apply(PostingAction::Publish).unwrap_err();
        assert_eq!(err.to_string(), "a ARCHIVED posting cannot be published");
    }

    fn complete() -> PostingContentInput {
        PostingContentInput {
            title: "Backend Engineer".into(),
            description: "Build the services that match candidates with companies, in Rust.".into(),
            employment_type: Some(EmploymentType::FullTime),
            seniority: Some(Seniority::Mid),
            workplace: Some(Workplace::Remote),
            locations: vec![LocationInput { country: "DE".into(), remote: true, ..Default::default() }],
            skills: vec![PostingSkill { name: "Rust".into(), required: true }],
            ..Default::default()
        }
    }

    #[test]
    fn a_complete_posting_misses_nothing() {
        let content = PostingContent::try_from(complete()).unwrap();
        assert!(content.missing_for_publication(Utc::now()).is_empty());
    }

    #[test]
    fn publishing_names_each_missing_field() {
        let content =
            PostingContent::try_from(PostingContentInput { title: "Engineer".into(), ..Default::default() }).unwrap();
        let missing: Vec<String> = content.missing_for_publication(Utc::now()).into_iter().map(|e| e.field).collect();
        assert_eq!(missing, ["description", "employmentType", "seniority", "workplace", "skills"]);
    }

    #[test]
    fn onsite_jobs_need_an_office() {
        let mut input = complete();
        input.workplace = Some(Workplace::Onsite);
        let content = PostingContent::try_from(input).unwrap();
        let missing: Vec<String> = content.missing_for_publication(Utc::now()).into_iter().map(|e| e.field).collect();
        assert_eq!(missing, ["locations"]);
    }

    #[test]
    fn bad_content_names_nested_paths() {
        let mut input = complete();
        input.salary = Some(SalaryInput { min: 200, max: 100, currency: "USD".into(), period: SalaryPeriod::Year });
        input.locations.push(LocationInput { country: "Germany".into(), ..Default::default() });
        input.skills.push(PostingSkill { name: "rust".into(), required: false });
        input.min_years_experience = Some(99);
        let errors = PostingContent::try_from(input).unwrap_err();
        let fields: Vec<&str> = errors.0.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(
            fields,
            ["minYearsExperience", "locations.1.city", "locations.1.country", "salary.max", "skills.1.name"]
        );
    }
}

/// A stored posting.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Posting {
    pub id: crate::PostingId,
    pub company_id: crate::CompanyId,
    pub slug: String,
    pub content: PostingContent,
    pub status: PostingStatus,
    #[serde(default, with = "crate::values::timestamp::option")]
    pub published_at: Option<DateTime<Utc>>,
    pub version: i32,
    #[serde(with = "crate::values::timestamp")]
    pub created_at: DateTime<Utc>,
    #[serde(with = "crate::values::timestamp")]
    pub updated_at: DateTime<Utc>,
}

impl Posting {
    /// Whether an expired posting is past its date: it then behaves as closed for search.
    pub fn is_expired(&self, now: DateTime<Utc>) -> bool {
        self.content.expires_at.is_some_and(|at| at <= now)
    }

    /// Whether anyone, signed in or not, may see it.
    pub fn is_publicly_visible(&self, now: DateTime<Utc>) -> bool {
        self.status.is_public() && !self.is_expired(now)
    }
}
