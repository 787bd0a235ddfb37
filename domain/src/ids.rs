//! One id newtype per entity, so a company id can never be passed where a posting id is meant.

use serde::{Deserialize, Serialize};
use uuid::Uuid;

macro_rules! id_type {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $name(pub Uuid);

        impl $name {
            /// A new, time-ordered (UUIDv7) id.
            pub fn generate() -> Self {
                Self(Uuid::now_v7())
            }

            pub fn as_uuid(&self) -> Uuid {
                self.0
            }
        }

        impl From<Uuid> for $name {
            fn from(value: Uuid) -> Self {
                Self(value)
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                self.0.fmt(f)
            }
        }
    };
}

id_type!(
    /// A user account.
    UserId
);
id_type!(
    /// A company.
    CompanyId
);
id_type!(
    /// A job posting.
    PostingId
);
id_type!(
    /// A refresh-token family: every token rotated from one sign-in.
    TokenFamilyId
);
id_type!(
    /// A candidate profile.
    CandidateId
);
id_type!(
    /// An application of a candidate to a posting.
    ApplicationId
);
id_type!(
    /// A partner application: an integration of one company, holding scopes and credentials.
    PartnerAppId
);
id_type!(
    /// An API key of a partner application.
    ApiKeyId
);
