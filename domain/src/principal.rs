//! Who is asking.

use crate::accounts::PlatformRole;
use crate::ids::UserId;

/// The caller of one request, extracted by the API's authentication.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum Principal {
    #[default]
    Anonymous,
    User {
        id: UserId,
        role: PlatformRole,
    },
}

impl Principal {
    pub fn user_id(&self) -> Option<UserId> {
        match self {
            Principal::User { id, .. } => Some(*id),
            Principal::Anonymous => None,
        }
    }

    pub fn is_platform_admin(&self) -> bool {
        matches!(self, Principal::User { role: PlatformRole::Admin, .. })
    }
}
