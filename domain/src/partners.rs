//! Partner integrations: applications a company registers for a job board or an applicant-tracking
//! system, the scopes they hold, and the credentials (API keys, OAuth client secrets) they use.

use chrono::{DateTime, Utc};

use crate::FieldError;
use crate::ids::{ApiKeyId, CompanyId, PartnerAppId, UserId};

text_enum!(
    /// What a partner application may do, always within its own company.
    Scope {
        PostingsRead => "postings:read",
        PostingsWrite => "postings:write",
        ApplicationsRead => "applications:read",
        ApplicationsWrite => "applications:write",
        ApplicationsSubmit => "applications:submit",
        EventsRead => "events:read",
        WebhooksManage => "webhooks:manage",
    }
);

impl Scope {
    fn bit(self) -> u8 {
        1 << (self as u8)
    }

    /// The scope a write scope includes: moving an application or editing a posting needs to
    /// read it, as with GitHub's and Google's write scopes.
    fn implied(self) -> Option<Scope> {
        match self {
            Scope::PostingsWrite => Some(Scope::PostingsRead),
            Scope::ApplicationsWrite => Some(Scope::ApplicationsRead),
            _ => None,
        }
    }
}

/// A set of scopes, as granted (`granted`, what an app was given) and as in force (`allows`,
/// which follows the implications of write scopes).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, serde::Serialize, serde::Deserialize)]
pub struct Scopes(u8);

impl Scopes {
    pub const NONE: Scopes = Scopes(0);

    pub fn of(scopes: &[Scope]) -> Self {
        Scopes(scopes.iter().fold(0, |bits, s| bits | s.bit()))
    }

    /// Whether `scope` is in force: granted, or implied by a granted write scope.
    pub fn allows(self, scope: Scope) -> bool {
        Scope::ALL.iter().any(|s| self.0 & s.bit() != 0 && (*s == scope || s.implied() == Some(scope)))
    }

    /// Whether every scope of `other` was granted here (narrowing, not implication).
    pub fn contains(self, other: Scopes) -> bool {
        self.0 & other.0 == other.0
    }

    pub fn intersect(self, other: Scopes) -> Scopes {
        Scopes(self.0 & other.0)
    }

    pub fn is_empty(self) -> bool {
        self.0 == 0
    }

    /// The granted scopes, in declaration order.
    pub fn list(self) -> Vec<Scope> {
        Scope::ALL.iter().copied().filter(|s| self.0 & s.bit() != 0).collect()
    }

    /// The space-separated spelling of OAuth's `scope` parameter and of the stored column.
    pub fn to_text(self) -> String {
        self.list().iter().map(|s| s.as_str()).collect::<Vec<_>>().join(" ")
    }

    /// Parses a space-separated list (RFC 6749 §3.3); names the first unknown scope.
    pub fn parse_text(raw: &str) -> Result<Scopes, String> {
        let mut scopes = Vec::new();
        for name in raw.split([' ', ',']).filter(|s| !s.is_empty()) {
            scopes.push(Scope::parse(name).ok_or_else(|| {
                let known: Vec<&str> = Scope::ALL.iter().map(|s| s.as_str()).collect();
                format!("`{name}` is not a scope; known: {}", known.join(", "))
            })?);
        }
        Ok(Scopes::of(&scopes))
    }
}

/// A company's partner application.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct PartnerApp {
    pub id: PartnerAppId,
    pub company_id: CompanyId,
    pub name: String,
    pub scopes: Scopes,
    /// The OAuth `client_id` (public).
    pub client_id: String,
    /// Bumped by every secret rotation; access tokens carry it, so a rotation ends the tokens
    /// issued under the old secret.
    pub secret_version: i32,
    /// The member who created it; writes that need a person's name (an application's move, a
    /// note) are recorded on their behalf, and the event's actor is the app.
    pub created_by: UserId,
    #[serde(with = "crate::values::timestamp")]
    pub created_at: DateTime<Utc>,
    #[serde(with = "crate::values::timestamp")]
    pub updated_at: DateTime<Utc>,
    /// Its query-cost budget in points per minute, when a platform admin set one.
    pub cost_per_minute: Option<u32>,
}

/// An API key of a partner application; the key itself is shown once and stored as a hash.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ApiKey {
    pub id: ApiKeyId,
    pub partner_app_id: PartnerAppId,
    pub name: String,
    /// The key's start and end, enough to recognise it in a list (`hg_live_Ab…x9Qz`).
    pub hint: String,
    pub created_at: DateTime<Utc>,
    pub expires_at: Option<DateTime<Utc>>,
    pub revoked_at: Option<DateTime<Utc>>,
    pub last_used_at: Option<DateTime<Utc>>,
}

impl ApiKey {
    /// Why the key no longer works at `now`, if it does not.
    pub fn refusal(&self, now: DateTime<Utc>) -> Option<&'static str> {
        if self.revoked_at.is_some() {
            Some("the API key was revoked")
        } else if self.expires_at.is_some_and(|at| at <= now) {
            Some("the API key has expired")
        } else {
            None
        }
    }
}

/// A partner app's or key's name: 1 to 100 characters after trimming.
pub fn name(field: &str, raw: &str) -> Result<String, FieldError> {
    let trimmed = raw.trim();
    let length = trimmed.chars().count();
    if length == 0 || length > 100 || trimmed.chars().any(char::is_control) {
        return Err(FieldError::new(field, "must be 1 to 100 characters, without control characters"));
    }
    Ok(trimmed.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn write_scopes_imply_their_read_and_nothing_else() {
        let write = Scopes::of(&[Scope::PostingsWrite]);
        assert!(write.allows(Scope::PostingsRead));
        assert!(write.allows(Scope::PostingsWrite));
        assert!(!write.allows(Scope::ApplicationsRead));
        let read = Scopes::of(&[Scope::ApplicationsRead]);
        assert!(!read.allows(Scope::ApplicationsWrite));
        assert!(!Scopes::NONE.allows(Scope::EventsRead));
    }

    #[test]
    fn scope_text_round_trips_and_names_what_is_unknown() {
        let all = Scopes::of(Scope::ALL);
        assert_eq!(Scopes::parse_text(&all.to_text()), Ok(all));
        assert_eq!(Scopes::parse_text("  "), Ok(Scopes::NONE));
        let err = Scopes::parse_text("postings:read candidates:read").unwrap_err();
        assert!(err.contains("`candidates:read`"), "{err}");
        assert!(all.contains(Scopes::of(&[Scope::EventsRead])));
        assert!(!Scopes::of(&[Scope::EventsRead]).contains(all));
    }
}
