//! Use cases: each checks who may act, validates through the domain, and writes through one unit
//! of work (`events::begin`): one transaction that records what changed, writes the events to the
//! outbox in that transaction and invalidates the cache after the commit.

pub mod accounts;
pub mod applications;
pub mod candidates;
pub mod companies;
pub mod events;
pub mod idempotency;
pub mod live;
pub mod loading;
pub mod matching;
pub mod partners;
pub mod postings;
pub mod semantic;
pub mod webhooks;
