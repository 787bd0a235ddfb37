//! The semantic side of search: every published posting's embedding (title, skills, summary; see
//! `embedding`) held in memory by each replica, searched by brute force. A posting's vector is
//! derived from text the database already holds, so nothing is stored for it: the index reads
//! every posting once at start, then follows the outbox (the events every posting change writes
//! in its own transaction, in commit order) and reads again only the postings those events name.
//! Every replica converges on the same index without talking to the others, and a change is
//! never missed nor read twice for nothing.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, RwLock};

use hiregraph_domain::PostingId;
use hiregraph_domain::events::EventType;
use hiregraph_domain::search::TextQuery;
use sea_orm::ConnectionTrait;
use uuid::Uuid;

use crate::embedding::{self, DIMS};
use crate::error::StoreError;
use crate::outbox::{self, EventFilter};
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

#[derive(Default)]
struct Entries {
    ids: Vec<Uuid>,
    /// `ids.len() × DIMS` quantised unit vectors.
    vectors: Vec<i8>,
    slot: HashMap<Uuid, usize>,
    /// Bumped by every change of the entries, so a kept answer knows it is stale.
    version: u64,
    /// The outbox position the index is current with; `None` before the first build.
    position: Option<i64>,
}

impl Entries {
    fn put(&mut self, id: Uuid, vector: Option<[i8; DIMS]>) {
        self.version += 1;
        match (self.slot.get(&id).copied(), vector) {
            (Some(at), Some(v)) => self.vectors[at * DIMS..(at + 1) * DIMS].copy_from_slice(&v),
            (None, Some(v)) => {
                self.slot.insert(id, self.ids.len());
                self.ids.push(id);
                self.vectors.extend_from_slice(&v);
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
        loop {
            let filter = EventFilter { companies: None, types: POSTING_EVENTS.to_vec(), after: Some(position) };
            let events = outbox::list(&filter, BATCH, conn).await?;
            let Some(last) = events.last().map(|e| e.position) else { break };
            let mut ids: Vec<PostingId> = events.iter().map(|e| PostingId(e.subject)).collect();
            ids.sort_by_key(|id| id.0);
            ids.dedup();
            let rows = postings::search_texts(&ids, None, ids.len() as u64, conn).await?;
            read += rows.len();
            self.put(rows, &ids)?;
            position = last;
            self.entries.write().map_err(|_| StoreError::corrupt("semantic index lock"))?.position = Some(position);
            if (events.len() as u64) < BATCH {
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
        let vectors: Vec<(Uuid, Option<[i8; DIMS]>)> = rows
            .into_iter()
            .map(|row| {
                let vector = row
                    .published
                    .then(|| embedding::embed_posting(&row.title, &row.skills, row.summary.as_deref()))
                    .flatten()
                    .map(|v| embedding::quantize(&v));
                (row.id, vector)
            })
            .chain(gone.into_iter().map(|id| (id, None)))
            .collect();
        let mut entries = self.entries.write().map_err(|_| StoreError::corrupt("semantic index lock"))?;
        for (id, vector) in vectors {
            entries.put(id, vector);
        }
        Ok(())
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
            skills: Vec::new(),
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
}
