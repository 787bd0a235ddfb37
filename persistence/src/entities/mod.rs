//! sea-orm entities, one per table. They never leave this crate: repositories map them to
//! domain types.

pub mod api_keys;
pub mod applicant_claims;
pub mod application_events;
pub mod application_notes;
pub mod applications;
pub mod candidate_profiles;
pub mod candidate_skills;
pub mod companies;
pub mod company_members;
pub mod external_ids;
pub mod idempotency_keys;
pub mod outbox;
pub mod partner_apps;
pub mod posting_benefits;
pub mod posting_items;
pub mod posting_locations;
pub mod posting_skills;
pub mod postings;
pub mod refresh_tokens;
pub mod users;
pub mod webhook_deliveries;
pub mod webhook_endpoints;
