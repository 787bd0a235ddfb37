//! Companies, their members' roles, and what each role may do.

use serde::{Deserialize, Serialize};

use crate::error::{FieldError, ValidationErrors};
use crate::partners::{Scope, Scopes};
use crate::principal::Principal;
use crate::values::{Location, Slug, WebUrl, bounded_text};

/// A member's role in one company, from least to most powerful.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum CompanyRole {
    Viewer,
    Recruiter,
    Admin,
    Owner,
}

impl CompanyRole {
    pub const ALL: [CompanyRole; 4] = [Self::Viewer, Self::Recruiter, Self::Admin, Self::Owner];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Viewer => "VIEWER",
            Self::Recruiter => "RECRUITER",
            Self::Admin => "ADMIN",
            Self::Owner => "OWNER",
        }
    }

    pub fn parse(raw: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|r| r.as_str() == raw)
    }
}

/// Something done to or within a company.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CompanyAction {
    /// See postings in every status (drafts, paused, closed, archived).
    ReadPrivatePostings,
    /// Create, edit, publish, pause, close and archive postings.
    ManagePostings,
    /// See the applications of the company's postings and their pipeline counts.
    ReadApplications,
    /// Read the company's event feed.
    ReadEvents,
    /// List the company's members.
    ReadMembers,
    /// See recommended candidates for a posting (profiles beyond those who applied).
    SourceCandidates,
    /// Edit the company's profile.
    EditCompany,
    /// Add, re-role or remove members (owners only for owners: see [`may_manage_member`]).
    ManageMembers,
    /// Mark the company as verified.
    Verify,
    /// Register, change and remove webhook endpoints; read their deliveries and secrets.
    ManageWebhooks,
    /// Create partner applications, issue and revoke their credentials.
    ManagePartnerApps,
}

/// How a caller stands in one company: a member with a role, or a partner app of it with scopes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Standing {
    Member(CompanyRole),
    Partner(Scopes),
}

impl Standing {
    pub fn role(self) -> Option<CompanyRole> {
        match self {
            Standing::Member(role) => Some(role),
            Standing::Partner(_) => None,
        }
    }
}

/// Whether `principal`, standing in a company as `standing` (or not at all), may do `action`
/// there. A partner may do exactly what its scopes say, and never manage the company itself.
pub fn may(principal: &Principal, standing: Option<Standing>, action: CompanyAction) -> bool {
    if principal.is_platform_admin() {
        return true;
    }
    match standing {
        None => false,
        Some(Standing::Member(role)) => match action {
            CompanyAction::ReadPrivatePostings
            | CompanyAction::ReadApplications
            | CompanyAction::ReadEvents
            | CompanyAction::ReadMembers => true,
            CompanyAction::ManagePostings | CompanyAction::SourceCandidates => role >= CompanyRole::Recruiter,
            CompanyAction::EditCompany
            | CompanyAction::ManageMembers
            | CompanyAction::ManageWebhooks
            | CompanyAction::ManagePartnerApps => role >= CompanyRole::Admin,
            CompanyAction::Verify => false,
        },
        Some(Standing::Partner(scopes)) => match action {
            CompanyAction::ReadPrivatePostings => scopes.allows(Scope::PostingsRead),
            CompanyAction::ManagePostings => scopes.allows(Scope::PostingsWrite),
            CompanyAction::ReadApplications => scopes.allows(Scope::ApplicationsRead),
            CompanyAction::ReadEvents => scopes.allows(Scope::EventsRead),
            CompanyAction::ManageWebhooks => scopes.allows(Scope::WebhooksManage),
            CompanyAction::SourceCandidates
            | CompanyAction::ReadMembers
            | CompanyAction::EditCompany
            | CompanyAction::ManageMembers
            | CompanyAction::Verify
            | CompanyAction::ManagePartnerApps => false,
        },
    }
}

/// Whether an actor with `actor` role may give a member `to` who now has `from` (`None`: not yet a
/// member; for removal, `to` is `None`). Only owners touch owners; admins manage everyone else.
pub fn may_manage_member(
    principal: &Principal,
    actor: Option<CompanyRole>,
    from: Option<CompanyRole>,
    to: Option<CompanyRole>,
) -> bool {
    if principal.is_platform_admin() {
        return true;
    }
    match actor {
        Some(CompanyRole::Owner) => true,
        Some(CompanyRole::Admin) => from != Some(CompanyRole::Owner) && to != Some(CompanyRole::Owner),
        _ => false,
    }
}

/// Headcount bands, as job boards show them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum SizeBand {
    S1To10,
    S11To50,
    S51To200,
    S201To1000,
    S1001To5000,
    S5001Plus,
}

impl SizeBand {
    pub const ALL: [SizeBand; 6] =
        [Self::S1To10, Self::S11To50, Self::S51To200, Self::S201To1000, Self::S1001To5000, Self::S5001Plus];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::S1To10 => "SIZE_1_10",
            Self::S11To50 => "SIZE_11_50",
            Self::S51To200 => "SIZE_51_200",
            Self::S201To1000 => "SIZE_201_1000",
            Self::S1001To5000 => "SIZE_1001_5000",
            Self::S5001Plus => "SIZE_5001_PLUS",
        }
    }

    pub fn parse(raw: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|r| r.as_str() == raw)
    }
}

/// A company's editable profile, validated.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CompanyProfile {
    pub name: String,
    pub description: Option<String>,
    pub website: Option<WebUrl>,
    /// An https image URL, shown by job boards beside the company's postings.
    pub logo: Option<WebUrl>,
    pub industry: Option<String>,
    pub size: Option<SizeBand>,
    pub headquarters: Option<Location>,
}

/// A stored company.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Company {
    pub id: crate::CompanyId,
    pub slug: Slug,
    pub profile: CompanyProfile,
    pub verified: bool,
    #[serde(with = "crate::values::timestamp")]
    pub created_at: chrono::DateTime<chrono::Utc>,
    #[serde(with = "crate::values::timestamp")]
    pub updated_at: chrono::DateTime<chrono::Utc>,
}

/// One user's membership of one company.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Membership {
    pub company_id: crate::CompanyId,
    pub user_id: crate::UserId,
    pub role: CompanyRole,
    pub created_at: chrono::DateTime<chrono::Utc>,
}

/// The raw profile as a client sent it.
#[derive(Debug, Clone, Default)]
pub struct CompanyProfileInput {
    pub name: String,
    pub description: Option<String>,
    pub website: Option<String>,
    pub logo_url: Option<String>,
    pub industry: Option<String>,
    pub size: Option<SizeBand>,
    pub headquarters: Option<LocationInput>,
}

/// A location as a client sent it.
#[derive(Debug, Clone, Default)]
pub struct LocationInput {
    pub city: Option<String>,
    pub region: Option<String>,
    pub country: String,
    pub remote: bool,
}

impl LocationInput {
    pub fn parse(&self) -> Result<Location, ValidationErrors> {
        Location::new(self.city.as_deref(), self.region.as_deref(), &self.country, self.remote)
    }
}

impl TryFrom<CompanyProfileInput> for CompanyProfile {
    type Error = ValidationErrors;

    fn try_from(input: CompanyProfileInput) -> Result<Self, Self::Error> {
        let mut errors = ValidationErrors::new();
        let name = errors.take(bounded_text("name", &input.name, 1, 120));
        let description = input.description.map(|d| bounded_text("description", &d, 0, 20_000)).transpose();
        let description = errors.take(description).flatten().filter(|d| !d.is_empty());
        let website =
            errors.take(input.website.filter(|w| !w.trim().is_empty()).map(|w| WebUrl::parse(&w)).transpose());
        let logo = input.logo_url.filter(|l| !l.trim().is_empty()).map(|l| WebUrl::parse_image("logoUrl", &l));
        let logo = errors.take(logo.transpose());
        let industry = input.industry.map(|i| bounded_text("industry", &i, 0, 80)).transpose();
        let industry = errors.take(industry).flatten().filter(|i| !i.is_empty());
        let headquarters = match input.headquarters.as_ref().map(LocationInput::parse).transpose() {
            Ok(hq) => hq,
            Err(inner) => {
                errors.0.extend(inner.0.into_iter().map(|e| e.under("headquarters")));
                None
            }
        };
        match (name, website, logo) {
            (Some(name), Some(website), Some(logo)) if errors.is_empty() => {
                Ok(Self { name, description, website, logo, industry, size: input.size, headquarters })
            }
            _ => Err(errors),
        }
    }
}

/// The slug for a new company: the one asked for, or one made from its name.
pub fn company_slug(requested: Option<&str>, name: &str) -> Result<Slug, FieldError> {
    match requested {
        Some(raw) => Slug::parse(raw),
        None => Slug::from_text(name).ok_or_else(|| FieldError::new("slug", "cannot be made from the name: give one")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::accounts::PlatformRole;
    use crate::ids::UserId;

    fn user() -> Principal {
        Principal::User { id: UserId::generate(), role: PlatformRole::Member }
    }

    #[test]
    fn every_role_and_action_pair_is_decided() {
        use CompanyAction::*;
        // (role, action, allowed) for every pair.
        let table = [
            (None, ReadPrivatePostings, false),
            (None, ManagePostings, false),
            (None, EditCompany, false),
            (None, ManageMembers, false),
            (None, Verify, false),
            (Some(CompanyRole::Viewer), ReadPrivatePostings, true),
            (Some(CompanyRole::Viewer), ManagePostings, false),
            (Some(CompanyRole::Viewer), EditCompany, false),
            (Some(CompanyRole::Viewer), ManageMembers, false),
            (Some(CompanyRole::Viewer), Verify, false),
            (Some(CompanyRole::Recruiter), ReadPrivatePostings, true),
            (Some(CompanyRole::Recruiter), ManagePostings, true),
            (Some(CompanyRole::Recruiter), EditCompany, false),
            (Some(CompanyRole::Recruiter), ManageMembers, false),
            (Some(CompanyRole::Recruiter), Verify, false),
            (Some(CompanyRole::Admin), ReadPrivatePostings, true),
            (Some(CompanyRole::Admin), ManagePostings, true),
            (Some(CompanyRole::Admin), EditCompany, true),
            (Some(CompanyRole::Admin), ManageMembers, true),
            (Some(CompanyRole::Admin), Verify, false),
            (Some(CompanyRole::Owner), ReadPrivatePostings, true),
            (Some(CompanyRole::Owner), ManagePostings, true),
            (Some(CompanyRole::Owner), EditCompany, true),
            (Some(CompanyRole::Owner), ManageMembers, true),
            (Some(CompanyRole::Owner), Verify, false),
        ];
        for (role, action, allowed) in table {
            assert_eq!(may(&user(), role.map(Standing::Member), action), allowed, "{role:?} {action:?}");
        }
        let reader = Some(Standing::Partner(Scopes::of(&[Scope::PostingsRead, Scope::EventsRead])));
        assert!(may(&user(), reader, ReadPrivatePostings));
        assert!(may(&user(), reader, ReadEvents));
        assert!(!may(&user(), reader, ManagePostings));
        assert!(!may(&user(), reader, ReadApplications));
        let everything = Some(Standing::Partner(Scopes::of(Scope::ALL)));
        for action in [ReadMembers, EditCompany, ManageMembers, Verify, ManagePartnerApps, SourceCandidates] {
            assert!(!may(&user(), everything, action), "a partner never may {action:?}");
        }
        let admin = Principal::User { id: UserId::generate(), role: PlatformRole::Admin };
        assert!(may(&admin, None, Verify));
        assert!(!may(&Principal::Anonymous, None, ReadPrivatePostings));
    }

    #[test]
    fn only_owners_manage_owners() {
        use CompanyRole::*;
        let p = user();
        assert!(may_manage_member(&p, Some(Owner), Some(Owner), None));
        assert!(may_manage_member(&p, Some(Owner), None, Some(Owner)));
        assert!(may_manage_member(&p, Some(Admin), None, Some(Recruiter)));
        assert!(may_manage_member(&p, Some(Admin), Some(Viewer), Some(Admin)));
        assert!(!may_manage_member(&p, Some(Admin), Some(Owner), Some(Viewer)));
        assert!(!may_manage_member(&p, Some(Admin), Some(Admin), Some(Owner)));
        assert!(!may_manage_member(&p, Some(Recruiter), None, Some(Viewer)));
        assert!(!may_manage_member(&p, None, None, Some(Viewer)));
    }

    #[test]
    fn company_profiles_name_every_bad_field() {
        let input = CompanyProfileInput {
            name: " ".into(),
            website: Some("acme".into()),
            logo_url: Some("http://acme.example/logo.png".into()),
            headquarters: Some(LocationInput { country: "XX".into(), ..Default::default() }),
            ..Default::default()
        };
        let errors = CompanyProfile::try_from(input).unwrap_err();
        let fields: Vec<&str> = errors.0.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, ["name", "website", "logoUrl", "headquarters.city", "headquarters.country"]);
    }

    #[test]
    fn company_slugs_come_from_the_name_when_not_given() {
        assert_eq!(company_slug(None, "Acme Robotics").unwrap().as_str(), "acme-robotics");
        assert!(company_slug(Some("Bad Slug"), "x").is_err());
    }
}
