//! The language of the hiring business. Pure: no I/O, no async runtime, no ORM, no GraphQL.
//!
//! Values are parsed at the edge (`Email::parse`, `Slug::parse`, `SalaryRange::new`) and carry
//! their invariants in their type, so use cases only ever see valid data.

/// An enum of unit variants with a stored and wire spelling each (`as_str`, `parse`, `ALL`).
macro_rules! text_enum {
    ($(#[$doc:meta])* $name:ident { $($variant:ident => $text:literal),+ $(,)? }) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
        pub enum $name { $($variant),+ }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            /// The stored and wire spelling.
            pub fn as_str(self) -> &'static str {
                match self { $($name::$variant => $text),+ }
            }

            pub fn parse(raw: &str) -> Option<Self> {
                match raw { $($text => Some($name::$variant),)+ _ => None }
            }
        }
    };
}

pub mod accounts;
pub mod applications;
pub mod candidates;
pub mod companies;
pub mod error;
pub mod events;
pub mod ids;
pub mod import;
pub mod matching;
pub mod occupations;
pub mod partners;
pub mod postings;
pub mod principal;
pub mod search;
pub mod skills;
pub mod values;
pub mod webhooks;

pub use error::{FieldError, ValidationErrors};
pub use ids::{ApplicationId, CandidateId, CompanyId, PostingId, UserId};
pub use principal::Principal;
