//! Recommendations, both ways: postings for a candidate, candidates for a posting's hiring team.
//! The database hands over every pair that shares a skill, with skill counts grouped in SQL; the
//! domain scores them all from those counts, and explains the best `first` from the full records.
//!
//! Postings for a candidate are ranked in memory from the semantic index, which keeps every
//! published posting's vector and matching facts (one statement for the postings applied to,
//! then the best `first` loaded); before the index has read the catalogue once, or with
//! `HIREGRAPH_SEMANTIC_SEARCH=false`, grouped SQL hands them over in batches instead.
//!
//! The role part compares the candidate's headline with the posting by meaning, with the same
//! embeddings as search: postings whose title is related count even when no skill is shared.
//! Candidates for a posting embed their headlines, only for those whose score the role can still
//! lift into the best `first`. Without the index (or with meaning off) the role is unknown.

use std::collections::{HashMap, HashSet};
use std::hash::Hash;
use std::sync::Arc;

use chrono::{DateTime, Utc};

use hiregraph_domain::candidates::{CandidateProfile, Visibility};
use hiregraph_domain::companies::CompanyAction;
use hiregraph_domain::matching::{
    CandidateFacts, CandidateTraits, Closeness, Match, PostingFacts, ROLE_POINTS, SkillCounts, score, score_from_counts,
};
use hiregraph_domain::postings::Posting;
use hiregraph_domain::skills::equivalent_keys;
use hiregraph_domain::{CandidateId, PostingId, UserId};
use hiregraph_persistence::embedding::{self, DIMS};
use hiregraph_persistence::{applications, candidates, companies as company_store, matching};

use crate::error::{AppError, AppResult};
use crate::services::companies::authenticated;
use crate::services::{loading, postings as posting_service};
use crate::state::{AppState, Viewer, now};

/// The most recommendations one request returns.
pub const MAX_RECOMMENDATIONS: i32 = 50;

/// Postings scored per database round trip: each batch re-finds the eligible postings from the
/// start of its id range, so few large batches are faster (5,000 took 875 ms for the bench's
/// 30,000 eligible postings, one batch 281 ms), while the bound keeps a huge catalog from being
/// read into memory at once.
const BATCH: u64 = 50_000;

/// Checks a requested count.
pub fn bound(first: i32) -> AppResult<usize> {
    if (1..=MAX_RECOMMENDATIONS).contains(&first) {
        Ok(usize::try_from(first).unwrap_or(1))
    } else {
        Err(AppError::bad_input("first", format!("must be between 1 and {MAX_RECOMMENDATIONS}, was {first}")))
    }
}

/// Keeps the best `first` of `ranked` (score, then the tie-breaker, then id; all descending).
fn keep_best<S: Ord, K: Ord>(ranked: &mut Vec<(u8, S, K)>, first: usize) {
    ranked.sort_by(|a, b| b.cmp(a));
    ranked.truncate(first);
}

/// The ranked items as loaded, in rank order, each with its explanation; an item gone since it
/// was ranked is left out.
fn explained<S, K: Eq + Hash, T>(
    ranked: Vec<(u8, S, K)>,
    mut found: HashMap<K, Arc<T>>,
    explain: impl Fn(&T) -> Option<Match>,
) -> Vec<(Arc<T>, Match)> {
    ranked
        .into_iter()
        .filter_map(|(_, _, id)| {
            let item = found.remove(&id)?;
            let why = explain(&item)?;
            Some((item, why))
        })
        .collect()
}

/// A headline's vector for comparing roles; `None` without one, or with meaning turned off.
fn headline_vector(state: &AppState, headline: Option<&str>) -> Option<[i8; DIMS]> {
    state.settings.semantic_search.then_some(())?;
    embedding::embed_headline(headline?)
}

/// Every stored spelling of these skills, each once.
fn keys_of<'a>(names: impl Iterator<Item = &'a str>) -> Vec<String> {
    let mut seen = HashSet::new();
    names.flat_map(equivalent_keys).filter(|k| seen.insert(k.clone())).collect()
}

/// The postings that fit `user`'s candidate profile best, best first (newest first among equal
/// scores), leaving out those already applied to. Empty without a profile or skills.
pub async fn postings_for(state: &AppState, user: UserId, first: usize) -> AppResult<Vec<(Arc<Posting>, Match)>> {
    let conn = &state.db.conn;
    let Some(id) = candidates::find_id_by_user(user, conn).await? else { return Ok(Vec::new()) };
    let Some(profile) = candidates::find_by_ids(&[id], conn).await?.pop() else { return Ok(Vec::new()) };
    // The candidate asks for themselves: their desired salary counts.
    let facts = CandidateFacts::of(&profile.content, true);
    let keys = keys_of(facts.skills.iter().map(String::as_str));
    let at = now();
    let mut ranked = Vec::new();
    let mut near: HashMap<PostingId, Closeness> = HashMap::new();
    if state.settings.semantic_search && state.semantic.ready() {
        let headline = headline_vector(state, facts.headline.as_deref());
        let applied: HashSet<PostingId> = applications::postings_of_candidate(id, conn).await?.into_iter().collect();
        state.semantic.for_each_posting(&keys, headline.as_ref(), |posting, indexed, traits, counts, closeness| {
            if applied.contains(&posting) || indexed.expires_at.is_some_and(|expires| expires <= at) {
                return;
            }
            if let Some(s) = score_from_counts(facts.traits(), traits, counts, closeness) {
                ranked.push((s, indexed.published_at, posting));
            }
        });
        keep_best(&mut ranked, first);
        if let Some(q) = &headline {
            let ids: Vec<PostingId> = ranked.iter().map(|(_, _, id)| *id).collect();
            near = ids.iter().copied().zip(state.semantic.similarities(&ids, q)).collect();
        }
    } else {
        // In batches, keeping only the best `first`: memory stays flat however many postings fit.
        let mut after = None;
        loop {
            let rows = matching::postings_sharing_skills(&keys, id, at, after, BATCH, conn).await?;
            let full = rows.len() as u64 == BATCH;
            after = rows.iter().map(|row| row.id).max();
            ranked.extend(rows.into_iter().filter_map(|row| {
                score_from_counts(facts.traits(), row.facts.traits(), row.counts, None)
                    .map(|s| (s, row.published_at, row.id))
            }));
            keep_best(&mut ranked, first);
            if !full {
                break;
            }
        }
    }
    let ids: Vec<PostingId> = ranked.iter().map(|(_, _, id)| *id).collect();
    let found = loading::postings_by_id(state, &ids).await?;
    Ok(explained(ranked, found, |posting| {
        score(&facts, &PostingFacts::of(&posting.content), near.get(&posting.id).copied().flatten())
    }))
}

/// The listed candidates (PUBLIC or EMPLOYERS) who fit a posting best, for its hiring team
/// (RECRUITER, ADMIN, OWNER) and platform admins; best first, most recently updated first among
/// equal scores, leaving out those who applied. Desired salaries are private to the candidate, so
/// salary is not weighed (it counts as unknown for everyone alike).
pub async fn candidates_for(
    state: &AppState,
    viewer: &Viewer,
    posting: &Posting,
    first: usize,
) -> AppResult<Vec<(Arc<CandidateProfile>, Match)>> {
    authenticated(viewer)?;
    if !posting_service::may_read(state, viewer, posting).await? {
        return Err(AppError::NotFound("no posting has this id".into()));
    }
    if !viewer.may(state, posting.company_id, CompanyAction::SourceCandidates).await? {
        return Err(AppError::Forbidden(
            "only the company's recruiters, admins and owners see recommended candidates".into(),
        ));
    }
    let facts = PostingFacts::of(&posting.content);
    let wanted: Vec<Vec<String>> = facts.skills.iter().map(|s| equivalent_keys(&s.name)).collect();
    // EMPLOYERS profiles are for verified companies only.
    let verified = viewer.principal.is_platform_admin()
        || !company_store::verified_among(&[posting.company_id], &state.db.conn).await?.is_empty();
    let listed: &[Visibility] =
        if verified { &[Visibility::Public, Visibility::Employers] } else { &[Visibility::Public] };
    let bare = PostingFacts { skills: Vec::new(), ..facts.clone() };
    let posting_vector = state
        .settings
        .semantic_search
        .then(|| {
            let skills: Vec<String> = facts.skills.iter().map(|s| s.name.clone()).collect();
            embedding::embed_posting(&facts.title, &skills, posting.content.summary.as_deref())
        })
        .flatten()
        .map(|v| embedding::quantize(&v));
    let counts_of = |has: &mut dyn Iterator<Item = bool>| {
        facts.skills.iter().zip(has).fold(SkillCounts::default(), |mut c, (skill, has)| {
            let has = usize::from(has);
            if skill.required {
                c.required_total += 1;
                c.required_matched += has;
            } else {
                c.preferred_total += 1;
                c.preferred_matched += has;
            }
            c
        })
    };
    let mut ranked: Vec<(u8, DateTime<Utc>, CandidateId)> = Vec::with_capacity(first + 1);
    let mut near: HashMap<CandidateId, Closeness> = HashMap::new();
    if state.settings.semantic_search && state.talent.ready() {
        // In memory: every listed candidate the index holds, less those who applied.
        let applied: HashSet<CandidateId> =
            applications::candidates_of_posting(posting.id, &state.db.conn).await?.into_iter().collect();
        state.talent.read(|view| {
            let spellings = view.numbered(&wanted);
            let all = view.listed();
            let counts_at = |at: u32| counts_of(&mut spellings.iter().map(|s| view.has(&all[at as usize], s)));
            let bounded = (0..all.len() as u32)
                .filter(|&at| {
                    let c = &all[at as usize];
                    listed.contains(&c.visibility) && !applied.contains(&c.id)
                })
                .filter_map(|at| {
                    let counts = counts_at(at);
                    if counts.required_matched + counts.preferred_matched == 0 {
                        return None;
                    }
                    let c = &all[at as usize];
                    let floor = score_from_counts(view.traits(c), bare.traits(), counts, Some(0.0))?;
                    Some((floor, c.updated_at, at))
                })
                .collect();
            let weighed = Weighed {
                id_of: &|at| all[at as usize].id,
                weigh: &|at| (view.traits(&all[at as usize]), counts_at(at)),
            };
            rank_candidates(bounded, &weighed, posting_vector.as_ref(), &bare, first, &mut ranked, &mut near);
        });
    } else {
        let rows = matching::candidates_sharing_skills(&wanted, listed, posting.id, &state.db.conn).await?;
        let counts_at = |at: u32| counts_of(&mut rows[at as usize].has.iter().copied());
        let bounded = (0..rows.len() as u32)
            .filter_map(|at| {
                let row = &rows[at as usize];
                let floor = score_from_counts(row.facts.traits(), bare.traits(), counts_at(at), Some(0.0))?;
                Some((floor, row.updated_at, at))
            })
            .collect();
        let weighed = Weighed {
            id_of: &|at| rows[at as usize].id,
            weigh: &|at| (rows[at as usize].facts.traits(), counts_at(at)),
        };
        rank_candidates(bounded, &weighed, posting_vector.as_ref(), &bare, first, &mut ranked, &mut near);
    }
    let ids: Vec<_> = ranked.iter().map(|(_, _, id)| *id).collect();
    let found = loading::candidates_by_id(state, &ids).await?;
    Ok(explained(ranked, found, |profile| {
        score(&CandidateFacts::of(&profile.content, false), &facts, near.get(&profile.id).copied().flatten())
    }))
}

/// A candidate as ranking first orders it: the score with the role a mismatch, when the profile
/// changed, and its place in the list weighed (20 bytes for each of the ~100,000 a posting may
/// weigh; the rest is looked up for the few ranking reaches).
type Bounded = (u8, DateTime<Utc>, u32);

/// What ranking looks up of a candidate by its place: its id (the last tie-breaker), and its
/// facts with the skill counts.
struct Weighed<'w, 'a> {
    id_of: &'w dyn Fn(u32) -> CandidateId,
    weigh: &'w dyn Fn(u32) -> (CandidateTraits<'a>, SkillCounts),
}

/// Keeps the best `first` of `bounded` in `ranked` with their role closeness in `near`: in order
/// of the score with the role a mismatch, working out the role (embedding each distinct headline
/// once) only while its points can still lift a candidate into the best `first`.
fn rank_candidates<'a>(
    mut bounded: Vec<Bounded>,
    weighed: &Weighed<'_, 'a>,
    posting_vector: Option<&[i8; DIMS]>,
    posting: &PostingFacts,
    first: usize,
    ranked: &mut Vec<(u8, DateTime<Utc>, CandidateId)>,
    near: &mut HashMap<CandidateId, Closeness>,
) {
    // Best first: by score, then the most recently changed, then the highest id.
    bounded.sort_unstable_by(|a, b| {
        (b.0, b.1).cmp(&(a.0, a.1)).then_with(|| (weighed.id_of)(b.2).cmp(&(weighed.id_of)(a.2)))
    });
    // Headlines repeat ("Software Engineer"): each is embedded once per request.
    let mut embedded: HashMap<&'a str, Option<[i8; DIMS]>> = HashMap::new();
    for (floor, updated_at, at) in bounded {
        let worst = ranked.last().map(|(s, _, _)| *s);
        if ranked.len() == first && worst.is_some_and(|worst| floor.saturating_add(ROLE_POINTS as u8) < worst) {
            break;
        }
        let (id, (candidate, counts)) = ((weighed.id_of)(at), (weighed.weigh)(at));
        let headline = match (posting_vector, candidate.headline) {
            (Some(_), Some(h)) => *embedded.entry(h).or_insert_with(|| embedding::embed_headline(h)),
            _ => None,
        };
        let closeness = posting_vector.zip(headline).map(|(p, h)| embedding::similarity(p, &h));
        if let Some(s) = score_from_counts(candidate, posting.traits(), counts, closeness) {
            near.insert(id, closeness);
            ranked.push((s, updated_at, id));
            keep_best(ranked, first);
        }
    }
}
