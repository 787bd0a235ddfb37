//! Candidate profiles: what a candidate shows, to whom, and which fields are private.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::companies::LocationInput;
use crate::error::{FieldError, ValidationErrors};
use crate::ids::{CandidateId, UserId};
use crate::postings::{Seniority, Workplace};
use crate::values::{Email, Location, SalaryRange, WebUrl, bounded_text};

/// Who may see a profile at all.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Visibility {
    /// Anyone, signed in or not.
    Public,
    /// Members of any company (and the companies the candidate applied to).
    Employers,
    /// Only the candidate, platform admins and companies the candidate applied to.
    Private,
}

impl Visibility {
    pub const ALL: [Visibility; 3] = [Self::Public, Self::Employers, Self::Private];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Public => "PUBLIC",
            Self::Employers => "EMPLOYERS",
            Self::Private => "PRIVATE",
        }
    }

    pub fn parse(raw: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|v| v.as_str() == raw)
    }
}

/// How the viewer relates to a candidate, which decides what they see.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CandidateAccess {
    /// The candidate themselves.
    pub is_self: bool,
    pub is_platform_admin: bool,
    /// A member of a company the candidate applied to.
    pub is_applied_company_member: bool,
    /// A member of any company.
    pub is_employer: bool,
}

impl CandidateAccess {
    /// Whether the profile is visible at all.
    pub fn may_see_profile(&self, visibility: Visibility) -> bool {
        self.may_see_contact()
            || match visibility {
                Visibility::Public => true,
                Visibility::Employers => self.is_employer,
                Visibility::Private => false,
            }
    }

    /// Whether the contact fields (email, phone) and desired salary are visible: to the candidate,
    /// platform admins and members of companies the candidate applied to — nobody else.
    pub fn may_see_contact(&self) -> bool {
        self.is_self || self.is_platform_admin || self.is_applied_company_member
    }
}

/// A skill with the candidate's years of practice.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CandidateSkill {
    pub name: String,
    pub years: Option<i32>,
}

/// One job in the work history.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WorkExperience {
    pub company: String,
    pub title: String,
    /// `YYYY-MM`.
    pub start: String,
    /// `YYYY-MM`, or none while current.
    pub end: Option<String>,
    pub description: Option<String>,
}

/// One degree or course.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Education {
    pub institution: String,
    pub degree: Option<String>,
    pub field: Option<String>,
    pub end_year: Option<i32>,
}

/// A link, e.g. to a portfolio or code.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProfileLink {
    pub label: String,
    pub url: WebUrl,
}

/// A profile's content, validated.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ProfileContent {
    pub display_name: String,
    pub headline: Option<String>,
    pub bio: Option<String>,
    pub location: Option<Location>,
    pub years_experience: Option<i32>,
    pub seniority: Option<Seniority>,
    pub skills: Vec<CandidateSkill>,
    pub work_history: Vec<WorkExperience>,
    pub education: Vec<Education>,
    pub links: Vec<ProfileLink>,
    pub desired_salary: Option<SalaryRange>,
    pub open_to: Vec<Workplace>,
    pub visibility: Visibility,
    pub contact_email: Option<Email>,
    pub contact_phone: Option<String>,
}

/// A stored profile.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CandidateProfile {
    pub id: CandidateId,
    /// The account it belongs to; none for an applicant a partner submitted who has not claimed
    /// it yet.
    pub user_id: Option<UserId>,
    pub content: ProfileContent,
    #[serde(with = "crate::values::timestamp")]
    pub created_at: DateTime<Utc>,
    #[serde(with = "crate::values::timestamp")]
    pub updated_at: DateTime<Utc>,
}

/// A person a partner submits with an application, as sent.
#[derive(Debug, Clone, Default)]
pub struct ApplicantInput {
    pub name: String,
    pub email: String,
    pub phone: Option<String>,
    pub headline: Option<String>,
    pub location: Option<LocationInput>,
    pub profile_url: Option<String>,
}

impl ApplicantInput {
    /// The profile of an applicant without an account: `PRIVATE` (never listed; the companies
    /// they apply to see it whole), the email as its contact. Errors name the input's fields.
    pub fn content(self) -> Result<(ProfileContent, Email), ValidationErrors> {
        let mut errors = ValidationErrors::new();
        let name = errors.take(bounded_text("name", &self.name, 1, 80));
        let email = errors.take(Email::parse(&self.email));
        let phone = errors
            .take(
                self.phone
                    .filter(|p| !p.trim().is_empty())
                    .map(|p| phone(&p).map_err(|e| FieldError::new("phone", e.message)))
                    .transpose(),
            )
            .flatten();
        let headline = errors
            .take(self.headline.map(|h| bounded_text("headline", &h, 0, 150)).transpose())
            .flatten()
            .filter(|h| !h.is_empty());
        let location = match self.location.as_ref().map(LocationInput::parse).transpose() {
            Ok(l) => l,
            Err(inner) => {
                errors.0.extend(inner.0.into_iter().map(|e| e.under("location")));
                None
            }
        };
        let profile_url = errors
            .take(
                self.profile_url
                    .filter(|u| !u.trim().is_empty())
                    .map(|u| WebUrl::parse(&u).map_err(|e| FieldError::new("profileUrl", e.message)))
                    .transpose(),
            )
            .flatten();
        if !errors.is_empty() {
            return Err(errors);
        }
        let (Some(display_name), Some(email)) = (name, email) else { return Err(errors) };
        let content = ProfileContent {
            display_name,
            headline,
            bio: None,
            location,
            years_experience: None,
            seniority: None,
            skills: Vec::new(),
            work_history: Vec::new(),
            education: Vec::new(),
            links: profile_url.map(|url| ProfileLink { label: "Profile".into(), url }).into_iter().collect(),
            desired_salary: None,
            open_to: Vec::new(),
            visibility: Visibility::Private,
            contact_email: Some(email.clone()),
            contact_phone: phone,
        };
        Ok((content, email))
    }
}

/// Links as sent.
#[derive(Debug, Clone, Default)]
pub struct LinkInput {
    pub label: String,
    pub url: String,
}

/// The profile as a client sent it.
#[derive(Debug, Clone)]
pub struct ProfileInput {
    pub display_name: String,
    pub headline: Option<String>,
    pub bio: Option<String>,
    pub location: Option<LocationInput>,
    pub years_experience: Option<i32>,
    pub seniority: Option<Seniority>,
    pub skills: Vec<CandidateSkill>,
    pub work_history: Vec<WorkExperience>,
    pub education: Vec<Education>,
    pub links: Vec<LinkInput>,
    pub desired_salary: Option<crate::postings::SalaryInput>,
    pub open_to: Vec<Workplace>,
    pub visibility: Visibility,
    pub contact_email: Option<String>,
    pub contact_phone: Option<String>,
}

fn year_month(field: &str, raw: &str) -> Result<String, FieldError> {
    let ok = raw.len() == 7
        && raw.as_bytes()[4] == b'-'
        && raw[..4].parse::<u16>().is_ok_and(|y| (1900..=2100).contains(&y))
        && raw[5..].parse::<u8>().is_ok_and(|m| (1..=12).contains(&m));
    if ok { Ok(raw.to_owned()) } else { Err(FieldError::new(field, format!("`{raw}` is not a month like 2024-03"))) }
}

fn phone(raw: &str) -> Result<String, FieldError> {
    let value = raw.trim();
    let digits = value.chars().filter(char::is_ascii_digit).count();
    let allowed = value.chars().all(|c| c.is_ascii_digit() || " +-().".contains(c));
    if allowed && (6..=20).contains(&digits) {
        Ok(value.to_owned())
    } else {
        Err(FieldError::new("contactPhone", "must be 6 to 20 digits, with + - ( ) . or spaces"))
    }
}

const MAX_ITEMS: usize = 50;

impl TryFrom<ProfileInput> for ProfileContent {
    type Error = ValidationErrors;

    fn try_from(input: ProfileInput) -> Result<Self, Self::Error> {
        let mut errors = ValidationErrors::new();
        let display_name = errors.take(bounded_text("displayName", &input.display_name, 1, 80)).unwrap_or_default();
        let opt = |errors: &mut ValidationErrors, field: &str, v: Option<String>, max: usize| {
            let r = v.map(|v| bounded_text(field, &v, 0, max)).transpose();
            errors.take(r).flatten().filter(|v| !v.is_empty())
        };
        let headline = opt(&mut errors, "headline", input.headline, 150);
        let bio = opt(&mut errors, "bio", input.bio, 5000);
        let location = match input.location.as_ref().map(LocationInput::parse).transpose() {
            Ok(l) => l,
            Err(inner) => {
                errors.0.extend(inner.0.into_iter().map(|e| e.under("location")));
                None
            }
        };
        if input.years_experience.is_some_and(|y| !(0..=60).contains(&y)) {
            errors.push(FieldError::new("yearsExperience", "must be between 0 and 60"));
        }
        for (name, len) in [
            ("skills", input.skills.len()),
            ("workHistory", input.work_history.len()),
            ("education", input.education.len()),
            ("links", input.links.len()),
        ] {
            if len > MAX_ITEMS {
                errors.push(FieldError::new(name, format!("must have at most {MAX_ITEMS} items")));
            }
        }
        let mut skills: Vec<CandidateSkill> = Vec::new();
        for (i, s) in input.skills.into_iter().take(MAX_ITEMS).enumerate() {
            let Some(name) = errors.take(bounded_text(&format!("skills.{i}.name"), &s.name, 1, 60)) else { continue };
            if s.years.is_some_and(|y| !(0..=60).contains(&y)) {
                errors.push(FieldError::new(format!("skills.{i}.years"), "must be between 0 and 60"));
            }
            if skills.iter().any(|k| k.name.to_lowercase() == name.to_lowercase()) {
                errors.push(FieldError::new(format!("skills.{i}.name"), format!("`{name}` is listed twice")));
                continue;
            }
            skills.push(CandidateSkill { name, years: s.years });
        }
        let mut work_history = Vec::new();
        for (i, w) in input.work_history.into_iter().take(MAX_ITEMS).enumerate() {
            let p = |f: &str| format!("workHistory.{i}.{f}");
            let company = errors.take(bounded_text(&p("company"), &w.company, 1, 120));
            let title = errors.take(bounded_text(&p("title"), &w.title, 1, 120));
            let start = errors.take(year_month(&p("start"), &w.start));
            let end = errors.take(w.end.as_deref().map(|e| year_month(&p("end"), e)).transpose()).flatten();
            if let (Some(s), Some(e)) = (&start, &end)
                && e < s
            {
                errors.push(FieldError::new(p("end"), "must not be before start"));
            }
            let description =
                errors.take(w.description.map(|d| bounded_text(&p("description"), &d, 0, 2000)).transpose()).flatten();
            if let (Some(company), Some(title), Some(start)) = (company, title, start) {
                work_history.push(WorkExperience { company, title, start, end, description });
            }
        }
        let mut education = Vec::new();
        for (i, e) in input.education.into_iter().take(MAX_ITEMS).enumerate() {
            let institution = errors.take(bounded_text(&format!("education.{i}.institution"), &e.institution, 1, 150));
            if e.end_year.is_some_and(|y| !(1900..=2100).contains(&y)) {
                errors.push(FieldError::new(format!("education.{i}.endYear"), "must be a year between 1900 and 2100"));
            }
            if let Some(institution) = institution {
                education.push(Education { institution, degree: e.degree, field: e.field, end_year: e.end_year });
            }
        }
        let mut links = Vec::new();
        for (i, l) in input.links.into_iter().take(MAX_ITEMS).enumerate() {
            let label = errors.take(bounded_text(&format!("links.{i}.label"), &l.label, 1, 60));
            let url =
                errors.take(WebUrl::parse(&l.url).map_err(|e| FieldError::new(format!("links.{i}.url"), e.message)));
            if let (Some(label), Some(url)) = (label, url) {
                links.push(ProfileLink { label, url });
            }
        }
        let desired_salary = match input.desired_salary {
            None => None,
            Some(s) => match SalaryRange::new(s.min, s.max, &s.currency, s.period) {
                Ok(r) => Some(r),
                Err(inner) => {
                    errors.0.extend(inner.0.into_iter().map(|e| e.under("desiredSalary")));
                    None
                }
            },
        };
        let contact_email = errors
            .take(
                input
                    .contact_email
                    .filter(|e| !e.trim().is_empty())
                    .map(|e| Email::parse(&e).map_err(|err| FieldError::new("contactEmail", err.message)))
                    .transpose(),
            )
            .flatten();
        let contact_phone =
            errors.take(input.contact_phone.filter(|p| !p.trim().is_empty()).map(|p| phone(&p)).transpose()).flatten();
        let mut open_to = input.open_to;
        open_to.dedup();
        errors.finish(|| Self {
            display_name,
            headline,
            bio,
            location,
            years_experience: input.years_experience,
            seniority: input.seniority,
            skills,
            work_history,
            education,
            links,
            desired_salary,
            open_to,
            visibility: input.visibility,
            contact_email,
            contact_phone,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn input() -> ProfileInput {
        ProfileInput {
            display_name: "Ada".into(),
            headline: None,
            bio: None,
            location: None,
            years_experience: Some(5),
            seniority: Some(Seniority::Senior),
            skills: vec![CandidateSkill { name: "Rust".into(), years: Some(4) }],
            work_history: vec![],
            education: vec![],
            links: vec![],
            desired_salary: None,
            open_to: vec![Workplace::Remote],
            visibility: Visibility::Public,
            contact_email: Some("ada@example.com".into()),
            contact_phone: Some("+49 30 1234567".into()),
        }
    }

    #[test]
    fn a_valid_profile_parses() {
        assert!(ProfileContent::try_from(input()).is_ok());
    }

    #[test]
    fn bad_profile_fields_are_named() {
        let mut bad = input();
        bad.display_name = " ".into();
        bad.contact_phone = Some("call me".into());
        bad.work_history = vec![WorkExperience {
            company: "Acme".into(),
            title: "Engineer".into(),
            start: "2024-05".into(),
            end: Some("2023-01".into()),
            description: None,
        }];
        bad.skills.push(CandidateSkill { name: "rust".into(), years: Some(99) });
        let errors = ProfileContent::try_from(bad).unwrap_err();
        let fields: Vec<&str> = errors.0.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, ["displayName", "skills.1.years", "skills.1.name", "workHistory.0.end", "contactPhone"]);
    }

    #[test]
    fn every_relation_and_visibility_pair_is_decided() {
        let none = CandidateAccess {
            is_self: false,
            is_platform_admin: false,
            is_applied_company_member: false,
            is_employer: false,
        };
        let employer = CandidateAccess { is_employer: true, ..none };
        let applied = CandidateAccess { is_employer: true, is_applied_company_member: true, ..none };
        let me = CandidateAccess { is_self: true, ..none };
        let admin = CandidateAccess { is_platform_admin: true, ..none };
        // (access, [PUBLIC, EMPLOYERS, PRIVATE] visible, contact visible)
        let table = [
            (none, [true, false, false], false),
            (employer, [true, true, false], false),
            (applied, [true, true, true], true),
            (me, [true, true, true], true),
            (admin, [true, true, true], true),
        ];
        for (access, visible, contact) in table {
            for (v, expected) in Visibility::ALL.into_iter().zip(visible) {
                assert_eq!(access.may_see_profile(v), expected, "{access:?} {v:?}");
            }
            assert_eq!(access.may_see_contact(), contact, "{access:?}");
        }
    }
}
