//! Who is asking.

use crate::accounts::PlatformRole;
use crate::ids::{CompanyId, PartnerAppId, UserId};
use crate::partners::{Scope, Scopes};

/// The caller of one request, extracted by the API's authentication.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum Principal {
    #[default]
    Anonymous,
    User {
        id: UserId,
        role: PlatformRole,
    },
    /// A partner application, by API key or OAuth access token: exactly its scopes, within its
    /// company.
    Partner {
        app: PartnerAppId,
        company: CompanyId,
        scopes: Scopes,
        /// The member who created the app, on whose behalf authored writes are recorded.
        on_behalf_of: UserId,
        /// The app's own query-cost budget (points per minute), when one was set for it.
        cost_per_minute: Option<u32>,
    },
}

impl Principal {
    /// The signed-in person, if any (a partner is not one).
    pub fn user_id(&self) -> Option<UserId> {
        match self {
            Principal::User { id, .. } => Some(*id),
            Principal::Anonymous | Principal::Partner { .. } => None,
        }
    }

    pub fn is_platform_admin(&self) -> bool {
        matches!(self, Principal::User { role: PlatformRole::Admin, .. })
    }

    /// Whether a partner holds `scope` in `company` (always false for anyone else).
    pub fn partner_may(&self, company: CompanyId, scope: Scope) -> bool {
        matches!(self, Principal::Partner { company: c, scopes, .. } if *c == company && scopes.allows(scope))
    }
}
