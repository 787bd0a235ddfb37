//! Recommendations: a score from 0 to 100 and the reasons for it (see the README's "Matching").

use async_graphql::{Enum, SimpleObject};
use hiregraph_domain::matching::{Explanation, Fit, Match};

use super::candidates::CandidateProfile;
use super::postings::Posting;

/// The query cost of one recommendation list besides its items: it scores thousands of pairs, so
/// a query may ask for a few lists (the default limit of 5,000 allows at most 20), not one per
/// posting of a long page.
pub const COST: usize = 250;

/// How one part of a match fits.
#[derive(Enum, Copy, Clone, Eq, PartialEq)]
pub enum MatchFit {
    Match,
    Partial,
    Mismatch,
    /// One side does not say, the two are not comparable, or it is private.
    Unknown,
}

impl From<Fit> for MatchFit {
    fn from(fit: Fit) -> Self {
        match fit {
            Fit::Match => Self::Match,
            Fit::Partial => Self::Partial,
            Fit::Mismatch => Self::Mismatch,
            Fit::Unknown => Self::Unknown,
        }
    }
}

/// Why a pair scored what it did.
#[derive(SimpleObject)]
pub struct MatchExplanation {
    /// The posting's required skills the candidate has (any spelling: "Postgres" is PostgreSQL).
    matched_required_skills: Vec<String>,
    missing_required_skills: Vec<String>,
    matched_preferred_skills: Vec<String>,
    /// The candidate's headline against the posting's title, by meaning (the embeddings search
    /// uses): MATCH for the same job ("Site Reliability Engineer" and "SRE"), PARTIAL for related
    /// ones ("Platform Engineer"), UNKNOWN without a headline.
    role: MatchFit,
    seniority: MatchFit,
    /// Years of experience against the posting's minimum.
    experience: MatchFit,
    /// Overlap of the posting's range with the candidate's desired one, in the same currency and
    /// period; UNKNOWN when either is missing, they are not comparable, or it is private.
    salary: MatchFit,
    workplace: MatchFit,
    location: MatchFit,
    /// One sentence per part, for people.
    notes: Vec<String>,
}

impl From<Explanation> for MatchExplanation {
    fn from(e: Explanation) -> Self {
        Self {
            matched_required_skills: e.matched_required,
            missing_required_skills: e.missing_required,
            matched_preferred_skills: e.matched_preferred,
            role: e.role.into(),
            seniority: e.seniority.into(),
            experience: e.experience.into(),
            salary: e.salary.into(),
            workplace: e.workplace.into(),
            location: e.location.into(),
            notes: e.notes,
        }
    }
}

/// A posting recommended to a candidate.
#[derive(SimpleObject)]
pub struct PostingMatch {
    posting: Posting,
    /// 0 to 100.
    score: i32,
    explanation: MatchExplanation,
}

impl PostingMatch {
    pub fn new(posting: Posting, m: Match) -> Self {
        Self { posting, score: i32::from(m.score), explanation: m.explanation.into() }
    }
}

/// A candidate recommended for a posting.
#[derive(SimpleObject)]
pub struct CandidateMatch {
    candidate: CandidateProfile,
    /// 0 to 100.
    score: i32,
    explanation: MatchExplanation,
}

impl CandidateMatch {
    pub fn new(candidate: CandidateProfile, m: Match) -> Self {
        Self { candidate, score: i32::from(m.score), explanation: m.explanation.into() }
    }
}
