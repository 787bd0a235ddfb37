//! The semantic side of search: every published posting's embedding (title, skills, summary; see
//! `embedding`) held in memory by each replica, searched by brute force. A posting's vector is
//! derived from text the database already holds, so nothing is stored for it: the index reads
//! every posting once at start, then follows the outbox (the events every posting change writes
//! in its own transaction, in commit order) and reads again only the postings those events name.
//! Every replica converges on the same index without talking to the others, and a change is
//! never missed nor read twice for nothing.
//!
//! Beside each vector the index keeps what matching scores of the posting (skills, seniority,
//! experience, workplace, locations, salary), so recommendations for a candidate rank every
//! published posting in memory instead of reading them all from the database per request.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, RwLock};

use chrono::{DateTime, Utc};
use hiregraph_domain::PostingId;
use hiregraph_domain::events::EventType;
use hiregraph_domain::matching::{PostingFacts, SkillCounts};
use hiregraph_domain::postings::PostingSkill;
use hiregraph_domain::search::TextQuery;
use sea_orm::ConnectionTrait;
use uuid::Uuid;

use crate::embedding::{self, DIMS};
use crate::error::StoreError;
use crate::outbox;
use crate::postings;

/// Postings closer to the query than this (cosine) are candidates. Chosen on the job-title set
/// of tests/api/titles.rs: MAP 0.505 at 0.5, 0.591 at 0.35, 0.606 at 0.3, 0.613 at 0.25 (words
/// alone: 0.393); below 0.3 the gain is within noise and the candidates grow.
pub const MIN_SIMILARITY: f32 = 0.3;
/// At most this many semantic candidates per search; the lexical side adds its own.
pub const MAX_CANDIDATES: usize = 100;
/// Postings read per statement while building, and events per statement while following.
const BATCH: u64 = 2_000;

/// The posting events, whose subjects are the postings whose text or status changed.
const POSTING_EVENTS: [EventType; 7] = [
    EventType::PostingCreated,
    EventType::PostingUpdated,
    EventType::PostingPublished,
    EventType::PostingPaused,
    EventType::PostingClosed,
    EventType::PostingArchived,
    EventType::PostingExpired,
];

/// A posting close to the query, with its similarity mapped onto 0..1 above the threshold.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Near {
    pub id: PostingId,
    pub closeness: f64,
}

/// What matching reads of an indexed posting.
#[derive(Debug, Clone)]
pub struct Indexed {
    pub published_at: Option<DateTime<Utc>>,
    pub expires_at: Option<DateTime<Utc>>,
    /// The facts without title and skill names (`skills` has the skills).
    pub facts: PostingFacts,
    /// Each skill's key (numbered by `Entries::skill_keys`) and whether it is required.
    skills: Box<[(u32, bool)]>,
}

#[derive(Default)]
struct Entries {
    ids: Vec<Uuid>,
    /// `ids.len() × DIMS` quantised unit vectors.
    vectors: Vec<i8>,
    /// What matching reads, in the order of `ids`.
    postings: Vec<Indexed>,
    /// Skill keys numbered, so each posting keeps numbers, not strings.
    skill_keys: HashMap<String, u32>,
    slot: HashMap<Uuid, usize>,
    /// Bumped by every change of the entries, so a kept answer knows it is stale.
    version: u64,
    /// The outbox position the index is current with; `None` before the first build.
    position: Option<i64>,
}

impl Entries {
    fn key(&mut self, skill: &PostingSkill) -> (u32, bool) {
        let next = self.skill_keys.len() as u32;
        (*self.skill_keys.entry(PostingSkill::key(&skill.name)).or_insert(next), skill.required)
    }

    fn indexed(&mut self, row: postings::SearchText) -> Indexed {
        let skills = row.facts.skills.iter().map(|s| self.key(s)).collect();
        Indexed {
            published_at: row.published_at,
            expires_at: row.expires_at,
            facts: PostingFacts { title: String::new(), skills: Vec::new(), ..row.facts },
            skills,
        }
    }

    fn put(&mut self, id: Uuid, vector: Option<([i8; DIMS], Indexed)>) {
        self.version += 1;
        match (self.slot.get(&id).copied(), vector) {
            (Some(at), Some((v, posting))) => {
                self.vectors[at * DIMS..(at + 1) * DIMS].copy_from_slice(&v);
                self.postings[at] = posting;
            }
            (None, Some((v, posting))) => {
                self.slot.insert(id, self.ids.len());
                self.ids.push(id);
                self.vectors.extend_from_slice(&v);
                self.postings.push(posting);
            }
            (Some(at), None) => {
                // Swap the last entry into the hole.
                let last = self.ids.len() - 1;
                self.slot.remove(&id);
                if at != last {
                    let moved = self.ids[last];
                    self.ids[at] = moved;
                    self.vectors.copy_within(last * DIMS..(last + 1) * DIMS, at * DIMS);
                    self.slot.insert(moved, at);
                }
                self.postings.swap_remove(at);
                self.ids.pop();
                self.vectors.truncate(last * DIMS);
            }
            (None, None) => {}
        }
    }
}

/// One replica's semantic index.
#[derive(Default)]
pub struct SemanticIndex {
    entries: RwLock<Entries>,
    /// Recent answers, by query, with the version of the entries they were computed from: one
    /// request asks for the same query's neighbours for its page, its count and its facets.
    answers: Mutex<HashMap<TextQuery, Answer>>,
}

/// The entries' version an answer was computed from, and the answer.
type Answer = (u64, Arc<[Near]>);

/// Answers kept at most; the map starts over when full.
const MAX_ANSWERS: usize = 1_000;

impl SemanticIndex {
    /// Brings the index up to date: the first time, every posting (from the outbox position
    /// before the read, so what commits meanwhile is read again from its events); afterwards the
    /// postings named by the posting events committed since. Returns how many postings it read.
    pub async fn refresh(&self, conn: &impl ConnectionTrait) -> Result<usize, StoreError> {
        let position = self.entries.read().map_err(|_| StoreError::corrupt("semantic index lock"))?.position;
        match position {
            None => self.build(conn).await,
            Some(position) => self.follow(position, conn).await,
        }
    }

    async fn build(&self, conn: &impl ConnectionTrait) -> Result<usize, StoreError> {
        let head = outbox::head(conn).await?;
        let mut read = 0;
        let mut after = None;
        loop {
            let rows = postings::search_texts(&[], after, BATCH, conn).await?;
            read += rows.len();
            let full = rows.len() as u64 == BATCH;
            after = rows.last().map(|row| row.id);
            self.put(rows, &[])?;
            if !full {
                break;
            }
        }
        self.entries.write().map_err(|_| StoreError::corrupt("semantic index lock"))?.position = Some(head);
        Ok(read)
    }

    async fn follow(&self, mut position: i64, conn: &impl ConnectionTrait) -> Result<usize, StoreError> {
        let mut read = 0;
        while let Some(changed) = outbox::changed_since(&POSTING_EVENTS, position, BATCH, conn).await? {
            let ids: Vec<PostingId> = changed.subjects.into_iter().map(PostingId).collect();
            let rows = postings::search_texts(&ids, None, ids.len() as u64, conn).await?;
            read += rows.len();
            self.put(rows, &ids)?;
            position = changed.last;
            self.entries.write().map_err(|_| StoreError::corrupt("semantic index lock"))?.position = Some(position);
            if !changed.more {
                break;
            }
        }
        Ok(read)
    }

    /// Embeds `rows` (published ones in, the others out), and takes out the `asked` postings that
    /// no longer exist.
    fn put(&self, rows: Vec<postings::SearchText>, asked: &[PostingId]) -> Result<(), StoreError> {
        let gone: Vec<Uuid> =
            asked.iter().map(|id| id.0).filter(|id| rows.binary_search_by_key(id, |row| row.id).is_err()).collect();
        let vectors: Vec<(postings::SearchText, Option<[i8; DIMS]>)> = rows
            .into_iter()
            .map(|row| {
                let skills: Vec<String> = row.facts.skills.iter().map(|s| s.name.clone()).collect();
                // A published posting without a known word is still there for matching, with a
                // vector close to nothing.
                let vector = row.published.then(|| {
                    embedding::embed_posting(&row.title, &skills, row.summary.as_deref())
                        .map_or([0; DIMS], |v| embedding::quantize(&v))
                });
                (row, vector)
            })
            .collect();
        let mut entries = self.entries.write().map_err(|_| StoreError::corrupt("semantic index lock"))?;
        for (row, vector) in vectors {
            let id = row.id;
            let indexed = vector.map(|v| (v, entries.indexed(row)));
            entries.put(id, indexed);
        }
        for id in gone {
            entries.put(id, None);
        }
        Ok(())
    }

    /// Whether the index has read every posting once (before that, it knows too little to rank).
    pub fn ready(&self) -> bool {
        self.entries.read().is_ok_and(|e| e.position.is_some())
    }

    /// Calls `each` for every indexed (published) posting with the candidate's skill counts
    /// against it (`keys`: every stored spelling of the candidate's skills) and the cosine of its
    /// vector with `headline`, under one read of the index.
    pub fn for_each_posting(
        &self,
        keys: &[String],
        headline: Option<&[i8; DIMS]>,
        mut each: impl FnMut(PostingId, &Indexed, SkillCounts, Option<f32>),
    ) {
        let Ok(entries) = self.entries.read() else { return };
        let own: Vec<u32> = keys.iter().filter_map(|k| entries.skill_keys.get(k).copied()).collect();
        for (at, posting) in entries.postings.iter().enumerate() {
            let mut counts = SkillCounts::default();
            for &(key, required) in &*posting.skills {
                let has = usize::from(own.contains(&key));
                if required {
                    counts.required_total += 1;
                    counts.required_matched += has;
                } else {
                    counts.preferred_total += 1;
                    counts.preferred_matched += has;
                }
            }
            let closeness = headline.map(|q| embedding::similarity(&entries.vectors[at * DIMS..(at + 1) * DIMS], q));
            each(PostingId(entries.ids[at]), posting, counts, closeness);
        }
    }

    /// How many postings the index holds, and the bytes their vectors take.
    pub fn size(&self) -> (usize, usize) {
        self.entries.read().map(|e| (e.ids.len(), e.vectors.len())).unwrap_or((0, 0))
    }

    /// The postings nearest to a text query, best first: at most `MAX_CANDIDATES`, none below
    /// `MIN_SIMILARITY`. Empty when the query has no word the embedding table knows.
    pub fn nearest(&self, query: &TextQuery) -> Arc<[Near]> {
        let Ok(entries) = self.entries.read() else { return Arc::from([]) };
        if let Ok(answers) = self.answers.lock()
            && let Some((version, near)) = answers.get(query)
            && *version == entries.version
        {
            return near.clone();
        }
        let near: Arc<[Near]> = Self::scan(&entries, query).into();
        if let Ok(mut answers) = self.answers.lock() {
            if answers.len() >= MAX_ANSWERS {
                answers.clear();
            }
            answers.insert(query.clone(), (entries.version, near.clone()));
        }
        near
    }

    /// `nearest` without the kept answers: the scan itself (for the benchmark).
    pub fn scan_now(&self, query: &TextQuery) -> Vec<Near> {
        self.entries.read().map(|entries| Self::scan(&entries, query)).unwrap_or_default()
    }

    fn scan(entries: &Entries, query: &TextQuery) -> Vec<Near> {
        let Some(vector) = query_vector(query) else { return Vec::new() };
        Self::closest(entries, &embedding::quantize(&vector), MIN_SIMILARITY, MAX_CANDIDATES)
            .into_iter()
            .map(|(id, similarity)| {
                let closeness = (f64::from(similarity) - f64::from(MIN_SIMILARITY)) / (1.0 - f64::from(MIN_SIMILARITY));
                Near { id, closeness: closeness.clamp(0.0, 1.0) }
            })
            .collect()
    }

    /// At most `max` postings whose cosine with `q` is at least `min`, closest first.
    fn closest(entries: &Entries, q: &[i8; DIMS], min: f32, max: usize) -> Vec<(PostingId, f32)> {
        let floor = (min * 127.0 * 127.0) as i32;
        let mut hits: Vec<(i32, usize)> = entries
            .vectors
            .chunks_exact(DIMS)
            .enumerate()
            .filter_map(|(i, row)| {
                let dot: i32 = row.iter().zip(q).map(|(&x, &y)| i32::from(x) * i32::from(y)).sum();
                (dot >= floor).then_some((dot, i))
            })
            .collect();
        if hits.len() > max {
            hits.select_nth_unstable_by(max, |a, b| b.0.cmp(&a.0));
            hits.truncate(max);
        }
        hits.sort_by_key(|hit| std::cmp::Reverse(hit.0));
        hits.into_iter().map(|(dot, i)| (PostingId(entries.ids[i]), dot as f32 / (127.0 * 127.0))).collect()
    }

    /// At most `max` postings whose cosine with the quantised unit vector `q` is at least `min`,
    /// closest first: what matching asks with a candidate's headline.
    pub fn closest_to(&self, q: &[i8; DIMS], min: f32, max: usize) -> Vec<(PostingId, f32)> {
        self.entries.read().map(|entries| Self::closest(&entries, q, min, max)).unwrap_or_default()
    }

    /// The cosine of each posting's vector with `q`, in the order asked; `None` for a posting the
    /// index does not hold (not published, or not read yet).
    pub fn similarities(&self, ids: &[PostingId], q: &[i8; DIMS]) -> Vec<Option<f32>> {
        let Ok(entries) = self.entries.read() else { return vec![None; ids.len()] };
        ids.iter()
            .map(|id| {
                let at = *entries.slot.get(&id.0)?;
                Some(embedding::similarity(&entries.vectors[at * DIMS..(at + 1) * DIMS], q))
            })
            .collect()
    }
}

/// A query's vector from its words: each term by the first of its spellings the table knows (a
/// typo stands for its correction), with an abbreviation's full form beside it.
fn query_vector(query: &TextQuery) -> Option<[f32; DIMS]> {
    let mut words: Vec<&str> = Vec::new();
    for term in &query.terms {
        if let Some(word) = term.spellings.iter().find(|s| embedding::embed(s).is_some()).or(term.spellings.first()) {
            words.push(word);
        }
        words.extend(term.spellings.iter().filter(|s| s.contains(' ')).map(String::as_str));
    }
    embedding::embed(&words.join(" "))
}

#[cfg(test)]
mod tests {
    use super::*;
    use hiregraph_domain::search::parse_query;

    fn posting(id: u128, title: &str, published: bool) -> postings::SearchText {
        postings::SearchText {
            id: Uuid::from_u128(id),
            published,
            title: title.to_owned(),
            summary: None,
            facts: PostingFacts {
                title: title.to_owned(),
                skills: vec![PostingSkill { name: "Go".into(), required: true }],
                seniority: None,
                min_years: None,
                workplace: None,
                locations: Vec::new(),
                salary: None,
            },
            published_at: None,
            expires_at: None,
        }
    }

    #[test]
    fn a_kept_answer_is_dropped_when_the_postings_change() {
        let index = SemanticIndex::default();
        let query = parse_query("babysitter").unwrap();
        index.put(vec![posting(1, "Nanny", true), posting(2, "Welder", true)], &[]).unwrap();
        let first = index.nearest(&query);
        assert_eq!(first.iter().map(|n| n.id.0.as_u128()).collect::<Vec<_>>(), [1]);
        assert!(Arc::ptr_eq(&first, &index.nearest(&query)), "asked again, the kept answer");
        // Unpublished, it leaves the index, and the next answer knows.
        index.put(vec![posting(1, "Nanny", false)], &[]).unwrap();
        assert!(index.nearest(&query).is_empty());
        // Gone from the database altogether: asked for and not found.
        index.put(vec![posting(3, "Babysitter", true)], &[]).unwrap();
        index.put(Vec::new(), &[PostingId(Uuid::from_u128(3))]).unwrap();
        assert!(index.nearest(&query).is_empty());
        assert_eq!(index.size().0, 1);
    }

    #[test]
    fn matching_reads_every_indexed_posting_with_its_skill_counts_and_closeness() {
        let index = SemanticIndex::default();
        index
            .put(vec![posting(1, "Nanny", true), posting(2, "Welder", true), posting(3, "Draft", false)], &[])
            .unwrap();
        let headline = embedding::embed_headline("Babysitter").unwrap();
        let mut seen = Vec::new();
        index.for_each_posting(&["golang".to_owned(), "go".to_owned()], Some(&headline), |id, _, counts, closeness| {
            seen.push((id.0.as_u128(), counts.required_matched, counts.required_total, closeness.unwrap() > 0.5));
        });
        seen.sort_by_key(|s| s.0);
        assert_eq!(seen, [(1, 1, 1, true), (2, 1, 1, false)], "published ones only; Go is theirs; a nanny is close");
        let mut none = 0;
        index.for_each_posting(&["rust".to_owned()], None, |_, _, counts, closeness| {
            none += usize::from(counts.required_matched == 0 && closeness.is_none());
        });
        assert_eq!(none, 2);
    }
}
