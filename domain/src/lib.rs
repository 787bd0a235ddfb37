//! The language of the hiring business. Pure: no I/O, no async runtime, no ORM, no GraphQL.
//!
//! Values are parsed at the edge (`Email::parse`, `Slug::parse`, `SalaryRange::new`) and carry
//! their invariants in their type, so use cases only ever see valid data.

pub mod accounts;
pub mod applications;
pub mod candidates;
pub mod companies;
pub mod error;
pub mod events;
pub mod ids;
pub mod import;
pub mod matching;
pub mod postings;
pub mod principal;
pub mod search;
pub mod skills;
pub mod values;
pub mod webhooks;

pub use error::{FieldError, ValidationErrors};
pub use ids::{ApplicationId, CandidateId, CompanyId, PostingId, UserId};
pub use principal::Principal;
