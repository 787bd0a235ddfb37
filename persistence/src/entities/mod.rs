//! sea-orm entities, one per table. They never leave this crate: repositories map them to
//! domain types.

pub mod companies;
pub mod company_members;
pub mod posting_benefits;
pub mod posting_items;
pub mod posting_locations;
pub mod posting_skills;
pub mod postings;
pub mod refresh_tokens;
pub mod users;
