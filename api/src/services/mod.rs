//! Use cases: each checks who may act, validates through the domain, writes in one transaction,
//! then invalidates the cache after the commit.

pub mod accounts;
pub mod applications;
pub mod candidates;
pub mod companies;
pub mod loading;
pub mod matching;
pub mod postings;
