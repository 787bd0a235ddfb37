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
//!
//! It also keeps each published posting's words (`lexical`) and the feed's filter fields, so a
//! search of the feed (page, count and facets) is answered here as `postings::feed` would answer
//! it from the database, and the request reads only the page's rows.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, RwLock};

use chrono::{DateTime, Utc};
use hiregraph_domain::PostingId;
use hiregraph_domain::events::EventType;
use hiregraph_domain::matching::{PostingTraits, SkillCounts};
use hiregraph_domain::postings::{EmploymentType, PostingSkill, Seniority, Workplace};
use hiregraph_domain::search::TextQuery;
use hiregraph_domain::values::{CountryCode, Location, SalaryPeriod, SalaryRange};
use sea_orm::ConnectionTrait;
use uuid::Uuid;

use crate::embedding::{self, DIMS};
use crate::error::StoreError;
use crate::interned::{Interned, Lists, Span};
use crate::lexical::{self, Document, Lexical};
use crate::outbox;
use crate::page::{Cursor, Page, PageRequest, SortKey, Window};
use crate::postings::{self, Facets, FeedFilter, FeedHit, FeedOrder};

/// Postings closer to the query than this (cosine) are candidates. Chosen on the job-title set
/// of tests/api/titles.rs: MAP 0.505 at 0.5, 0.591 at 0.35, 0.606 at 0.3, 0.613 at 0.25 (words
/// alone: 0.393); below 0.3 the gain is within noise and the candidates grow.
pub const MIN_SIMILARITY: f32 = 0.3;
/// At most this many semantic candidates per search; the lexical side adds its own.
pub const MAX_CANDIDATES: usize = 100;
/// Postings read per statement while building, and events per statement while following. Small
/// enough that what a batch holds in passing (descriptions, stems) stays a few MiB: the heap a
/// replica grows to while building is the heap it keeps.
const BATCH: u64 = 500;

/// The posting events, whose subjects are the postings whose text or status changed, and the
/// company event that names a company whose name may have changed.
const POSTING_EVENTS: [EventType; 8] = [
    EventType::PostingCreated,
    EventType::PostingUpdated,
    EventType::PostingPublished,
    EventType::PostingPaused,
    EventType::PostingClosed,
    EventType::PostingArchived,
    EventType::PostingExpired,
    EventType::CompanyUpdated,
];

/// A posting close to the query, with its similarity mapped onto 0..1 above the threshold.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Near {
    pub id: PostingId,
    pub closeness: f64,
}

/// What matching, filters and facets read of an indexed posting: no title nor skill names
/// (`skills` has the skills as numbers), and its locations as the number of a set the index
/// keeps once for every posting with the same places.
#[derive(Debug, Clone)]
pub struct Indexed {
    pub published_at: Option<DateTime<Utc>>,
    pub expires_at: Option<DateTime<Utc>>,
    pub company_id: Uuid,
    pub salary: Option<SalaryRange>,
    pub min_years: Option<i32>,
    pub seniority: Option<Seniority>,
    pub workplace: Option<Workplace>,
    pub employment_type: Option<EmploymentType>,
    locations: u32,
    /// Each skill's key (numbered by `Entries::skill_keys`) and whether it is required.
    skills: Span,
    /// Its number in the lexical index.
    doc: u32,
}

#[derive(Default)]
struct Entries {
    ids: Vec<Uuid>,
    /// `ids.len() × DIMS` quantised unit vectors.
    vectors: Vec<i8>,
    /// What matching reads, in the order of `ids`.
    postings: Vec<Indexed>,
    /// Skill keys numbered, so each posting keeps numbers, not strings; `key_names` by number.
    skill_keys: HashMap<String, u32>,
    key_names: Vec<String>,
    /// Each posting's skills (key number, required), and each distinct set of places postings name.
    skills: Lists<(u32, bool)>,
    locations: Interned<[Location]>,
    slot: HashMap<Uuid, usize>,
    /// The words of every posting, and each lexical document's slot (`GONE` once removed).
    lexical: Lexical,
    doc_slot: Vec<u32>,
    /// Bumped by every change of the entries, so a kept answer knows it is stale.
    version: u64,
    /// The outbox position the index is current with; `None` before the first build.
    position: Option<i64>,
}

const GONE: u32 = u32::MAX;

/// What a published posting's texts become: its quantized vector and its lexical document.
type Embedded = ([i8; DIMS], Document);

/// A posting as the index takes it in: its vector, what matching reads, and its words.
type Entry = ([i8; DIMS], Indexed, Document);

impl Entries {
    fn key(&mut self, skill: &PostingSkill) -> (u32, bool) {
        let next = self.skill_keys.len() as u32;
        let key = PostingSkill::key(&skill.name);
        if let Some(&number) = self.skill_keys.get(&key) {
            return (number, skill.required);
        }
        self.key_names.push(key.clone());
        self.skill_keys.insert(key, next);
        (next, skill.required)
    }

    fn indexed(&mut self, row: postings::SearchText) -> Indexed {
        let skills: Vec<(u32, bool)> = row.facts.skills.iter().map(|s| self.key(s)).collect();
        let skills = self.skills.add(skills);
        let facts = row.facts;
        Indexed {
            published_at: row.published_at,
            expires_at: row.expires_at,
            company_id: row.company_id,
            salary: facts.salary,
            min_years: facts.min_years,
            seniority: facts.seniority,
            workplace: facts.workplace,
            employment_type: row.employment_type,
            locations: self.locations.hold(&facts.locations),
            skills,
            doc: GONE,
        }
    }

    /// The places `posting` names.
    fn locations_of(&self, posting: &Indexed) -> &[Location] {
        self.locations.get(posting.locations).unwrap_or(&[])
    }

    /// What scoring reads of `posting`, without its title (ranking explains nothing).
    fn traits<'a>(&'a self, posting: &Indexed) -> PostingTraits<'a> {
        PostingTraits {
            title: "",
            seniority: posting.seniority,
            min_years: posting.min_years,
            workplace: posting.workplace,
            locations: self.locations_of(posting),
            salary: posting.salary,
        }
    }

    fn put(&mut self, id: Uuid, entry: Option<Entry>) {
        self.version += 1;
        let at = self.slot.get(&id).copied();
        if let Some(at) = at {
            let old = self.postings[at].doc;
            let (places, skills) = (self.postings[at].locations, self.postings[at].skills);
            self.locations.release(places);
            self.skills.release(skills);
            self.lexical.remove(old);
            self.doc_slot[old as usize] = GONE;
        }
        match (at, entry) {
            (Some(at), Some((v, mut posting, words))) => {
                posting.doc = self.lexical.add(words);
                self.doc_slot.push(at as u32);
                self.vectors[at * DIMS..(at + 1) * DIMS].copy_from_slice(&v);
                self.postings[at] = posting;
            }
            (None, Some((v, mut posting, words))) => {
                posting.doc = self.lexical.add(words);
                self.doc_slot.push(self.ids.len() as u32);
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
                    self.doc_slot[self.postings[last].doc as usize] = at as u32;
                }
                self.postings.swap_remove(at);
                self.ids.pop();
                self.vectors.truncate(last * DIMS);
            }
            (None, None) => {}
        }
        if self.lexical.wants_compacting() {
            let renumbered = self.lexical.compact();
            self.doc_slot = vec![GONE; self.postings.len()];
            for (at, posting) in self.postings.iter_mut().enumerate() {
                posting.doc = renumbered[posting.doc as usize];
                self.doc_slot[posting.doc as usize] = at as u32;
            }
        }
        if self.skills.wants_compacting() {
            self.skills.compact(self.postings.iter_mut().map(|p| &mut p.skills));
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
    /// Recent findings of searches of the feed, by filter.
    found: Mutex<HashMap<FeedFilter, Arc<Found>>>,
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
        let mut entries = self.entries.write().map_err(|_| StoreError::corrupt("semantic index lock"))?;
        // Built by pushing: give back what growing by doubling left over.
        entries.ids.shrink_to_fit();
        entries.vectors.shrink_to_fit();
        entries.postings.shrink_to_fit();
        entries.doc_slot.shrink_to_fit();
        entries.slot.shrink_to_fit();
        entries.lexical.shrink_to_fit();
        entries.skills.shrink_to_fit();
        entries.position = Some(head);
        Ok(read)
    }

    async fn follow(&self, mut position: i64, conn: &impl ConnectionTrait) -> Result<usize, StoreError> {
        let mut read = 0;
        while let Some(changed) = outbox::changed_since(&POSTING_EVENTS, position, BATCH, conn).await? {
            let rows = postings::search_texts(&changed.subjects, None, 0, conn).await?;
            read += rows.len();
            self.put(rows, &changed.subjects)?;
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
    fn put(&self, rows: Vec<postings::SearchText>, asked: &[Uuid]) -> Result<(), StoreError> {
        let gone: Vec<Uuid> =
            asked.iter().copied().filter(|id| rows.binary_search_by_key(id, |row| row.id).is_err()).collect();
        let vectors: Vec<(postings::SearchText, Option<Embedded>)> = rows
            .into_iter()
            .map(|row| {
                let skills: Vec<String> = row.facts.skills.iter().map(|s| s.name.clone()).collect();
                // A published posting without a known word is still there for matching, with a
                // vector close to nothing.
                let indexed = row.published.then(|| {
                    let vector = embedding::embed_posting(&row.title, &skills, row.summary.as_deref())
                        .map_or([0; DIMS], |v| embedding::quantize(&v));
                    let words = lexical::document(&[
                        (&row.title, lexical::TITLE),
                        (&skills.join(" "), lexical::SKILLS),
                        (&row.company_name, lexical::COMPANY),
                        (row.summary.as_deref().unwrap_or(""), lexical::SUMMARY),
                        (&row.description, lexical::DESCRIPTION),
                    ]);
                    (vector, words)
                });
                (row, indexed)
            })
            .collect();
        let mut entries = self.entries.write().map_err(|_| StoreError::corrupt("semantic index lock"))?;
        for (row, indexed) in vectors {
            let id = row.id;
            let entry = indexed.map(|(v, words)| (v, entries.indexed(row), words));
            entries.put(id, entry);
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

    /// Calls `each` for every indexed (published) posting with what scoring reads of it, the
    /// candidate's skill counts against it (`keys`: every stored spelling of the candidate's
    /// skills) and the cosine of its vector with `headline`, under one read of the index.
    pub fn for_each_posting(
        &self,
        keys: &[String],
        headline: Option<&[i8; DIMS]>,
        mut each: impl FnMut(PostingId, &Indexed, PostingTraits<'_>, SkillCounts, Option<f32>),
    ) {
        let Ok(entries) = self.entries.read() else { return };
        let own: Vec<u32> = keys.iter().filter_map(|k| entries.skill_keys.get(k).copied()).collect();
        for (at, posting) in entries.postings.iter().enumerate() {
            let mut counts = SkillCounts::default();
            for &(key, required) in entries.skills.get(posting.skills) {
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
            each(PostingId(entries.ids[at]), posting, entries.traits(posting), counts, closeness);
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

    /// A search of the feed without the kept findings: the ranking itself, with `near` from a
    /// fresh scan; the number of hits (for the benchmark).
    pub fn search_now(&self, filter: &FeedFilter, now: DateTime<Utc>) -> usize {
        self.entries
            .read()
            .map(|entries| Self::search(&entries, filter, &Self::scan(&entries, &filter.text), now).hits.len())
            .unwrap_or(0)
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

/// What a search of the feed finds in memory, kept per filter while the entries and the hits
/// last: a request's page, count and facets read one finding.
struct Found {
    version: u64,
    /// When the first hit expires; the finding is stale from then on.
    next_expiry: Option<DateTime<Utc>>,
    /// Each hit's slot and relevance (0..1).
    hits: Vec<(u32, f64)>,
}

/// Hits kept at most over all findings (16 bytes each); the map starts over beyond.
const MAX_KEPT_HITS: usize = 1_000_000;

/// `SortKey`s of one kind in order.
fn compare(a: &SortKey, b: &SortKey) -> std::cmp::Ordering {
    match (a, b) {
        (SortKey::Score(x), SortKey::Score(y)) => x.total_cmp(y),
        (SortKey::Time(x), SortKey::Time(y)) => x.cmp(y),
        (SortKey::Amount(x), SortKey::Amount(y)) => x.cmp(y),
        (SortKey::Text(x), SortKey::Text(y)) => x.cmp(y),
        _ => std::cmp::Ordering::Equal,
    }
}

/// A posting's maximum salary per year (`postings::feed`'s `SALARY_HIGH` key), -1 without one.
fn yearly(posting: &Indexed) -> i64 {
    posting.salary.map_or(-1, |s| match s.period() {
        SalaryPeriod::Year => s.max(),
        SalaryPeriod::Month => s.max() * 12,
        SalaryPeriod::Hour => s.max() * 2_080,
    })
}

impl SemanticIndex {
    /// Whether the index follows events of this type (a replica's searches wait for it to read
    /// them).
    pub fn follows(event_type: EventType) -> bool {
        POSTING_EVENTS.contains(&event_type)
    }

    /// The outbox position the index is current with; `None` before the first build.
    pub fn position(&self) -> Option<i64> {
        self.entries.read().ok()?.position
    }

    /// The bytes of the lexical index's lists.
    pub fn lexical_bytes(&self) -> usize {
        self.entries.read().map(|e| e.lexical.bytes()).unwrap_or(0)
    }

    /// One page of a search of the feed, as `postings::feed` reads it from the database: the same
    /// candidates (every posting sharing a term with the query, and `near`), filters, relevance,
    /// orders and cursors. `None` before the first build.
    pub fn feed_page(
        &self,
        filter: &FeedFilter,
        near: &[Near],
        order: FeedOrder,
        request: &PageRequest,
        now: DateTime<Utc>,
    ) -> Option<Page<FeedHit>> {
        let entries = self.entries.read().ok()?;
        entries.position?;
        let found = self.find(&entries, filter, near, now);
        let order = if order == FeedOrder::Relevance && filter.text.is_empty() { FeedOrder::Newest } else { order };
        let ascending = order == FeedOrder::Oldest;
        let in_order = |a: &(SortKey, Uuid), b: &(SortKey, Uuid)| {
            let o = compare(&a.0, &b.0).then(a.1.cmp(&b.1));
            if ascending { o } else { o.reverse() }
        };
        // Each hit's sort key, made when compared: a page of a search that finds 45,000 postings
        // then sorts 4 bytes a hit, not a key and an id.
        let row = |hit: u32| {
            let (at, relevance) = found.hits[hit as usize];
            let posting = &entries.postings[at as usize];
            let key = match order {
                FeedOrder::Relevance => SortKey::Score(relevance),
                FeedOrder::Newest | FeedOrder::Oldest => {
                    SortKey::Time(posting.published_at.unwrap_or(DateTime::UNIX_EPOCH))
                }
                FeedOrder::SalaryHigh => SortKey::Amount(yearly(posting)),
            };
            (key, entries.ids[at as usize])
        };
        let past = |c: &Cursor| (c.key.clone(), c.id);
        let after = request.after.as_ref().map(past);
        let before = request.before.as_ref().map(past);
        let mut rows: Vec<u32> = (0..found.hits.len() as u32)
            .filter(|&hit| {
                let (after, before) = (after.as_ref(), before.as_ref());
                after.is_none_or(|c| in_order(&row(hit), c).is_gt())
                    && before.is_none_or(|c| in_order(&row(hit), c).is_lt())
            })
            .collect();
        let backwards = request.first.is_none() && request.last.is_some();
        let limit = if backwards { request.last } else { request.first }.unwrap_or(20);
        let query_order = |a: &u32, b: &u32| {
            if backwards { in_order(&row(*b), &row(*a)) } else { in_order(&row(*a), &row(*b)) }
        };
        let take = usize::try_from(limit).unwrap_or(usize::MAX).saturating_add(1);
        if take < rows.len() {
            rows.select_nth_unstable_by(take, query_order);
            rows.truncate(take);
        }
        rows.sort_unstable_by(query_order);
        let items = rows
            .into_iter()
            .map(|hit| {
                let (key, id) = row(hit);
                (FeedHit { id: PostingId(id), relevance: Some(found.hits[hit as usize].1) }, Cursor { key, id })
            })
            .collect();
        let window = Window { bounds: Vec::new(), order: sea_orm::Order::Asc, limit, backwards };
        Some(window.finish(items, request))
    }

    /// How many postings a search of the feed finds, and when the first of them expires.
    pub fn feed_count(
        &self,
        filter: &FeedFilter,
        near: &[Near],
        now: DateTime<Utc>,
    ) -> Option<(u64, Option<DateTime<Utc>>)> {
        let entries = self.entries.read().ok()?;
        entries.position?;
        let found = self.find(&entries, filter, near, now);
        Some((found.hits.len() as u64, found.next_expiry))
    }

    /// The facets of what a search of the feed finds, as `postings::feed_facets` counts them.
    pub fn feed_facets(
        &self,
        filter: &FeedFilter,
        near: &[Near],
        now: DateTime<Utc>,
    ) -> Option<(Facets, Option<DateTime<Utc>>)> {
        let entries = self.entries.read().ok()?;
        entries.position?;
        let found = self.find(&entries, filter, near, now);
        let mut workplaces: HashMap<&'static str, u64> = HashMap::new();
        let mut employment: HashMap<&'static str, u64> = HashMap::new();
        let mut seniorities: HashMap<&'static str, u64> = HashMap::new();
        let mut countries: HashMap<String, u64> = HashMap::new();
        let mut skills = vec![0u64; entries.key_names.len()];
        let mut seen: Vec<CountryCode> = Vec::new();
        for &(at, _) in &found.hits {
            let posting = &entries.postings[at as usize];
            if let Some(w) = posting.workplace {
                *workplaces.entry(w.as_str()).or_default() += 1;
            }
            if let Some(e) = posting.employment_type {
                *employment.entry(e.as_str()).or_default() += 1;
            }
            if let Some(s) = posting.seniority {
                *seniorities.entry(s.as_str()).or_default() += 1;
            }
            seen.clear();
            for location in entries.locations_of(posting) {
                let country = location.country();
                if !seen.contains(&country) {
                    *countries.entry(country.as_str().to_owned()).or_default() += 1;
                    seen.push(country);
                }
            }
            for &(key, _) in entries.skills.get(posting.skills) {
                skills[key as usize] += 1;
            }
        }
        fn listed<K: ToString>(counts: impl IntoIterator<Item = (K, u64)>) -> Vec<(String, u64)> {
            let mut list: Vec<(String, u64)> =
                counts.into_iter().filter(|(_, n)| *n > 0).map(|(k, n)| (k.to_string(), n)).collect();
            list.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
            list
        }
        let mut facets = Facets {
            workplaces: listed(workplaces),
            employment_types: listed(employment),
            seniorities: listed(seniorities),
            countries: listed(countries),
            skills: listed(entries.key_names.iter().zip(skills)),
        };
        facets.skills.truncate(20);
        Some((facets, found.next_expiry))
    }

    /// The kept finding for `filter`, or a new one.
    fn find(&self, entries: &Entries, filter: &FeedFilter, near: &[Near], now: DateTime<Utc>) -> Arc<Found> {
        if let Ok(kept) = self.found.lock()
            && let Some(found) = kept.get(filter)
            && found.version == entries.version
            && found.next_expiry.is_none_or(|at| at > now)
        {
            return found.clone();
        }
        let found = Arc::new(Self::search(entries, filter, near, now));
        if let Ok(mut kept) = self.found.lock() {
            let held: usize = kept.values().map(|f| f.hits.len()).sum();
            if held + found.hits.len() > MAX_KEPT_HITS || kept.len() >= MAX_ANSWERS {
                kept.clear();
            }
            kept.insert(filter.clone(), found.clone());
        }
        found
    }

    /// Every published, unexpired posting under `filter` that shares a term with its query or is
    /// `near` it, with the relevance `postings::feed` gives it.
    fn search(entries: &Entries, filter: &FeedFilter, near: &[Near], now: DateTime<Utc>) -> Found {
        let mut found = Found { version: entries.version, next_expiry: None, hits: Vec::new() };
        let Some(skills) = filter
            .skills
            .iter()
            .map(|s| entries.skill_keys.get(&PostingSkill::key(s)).copied())
            .collect::<Option<Vec<u32>>>()
        else {
            return found;
        };
        let passes = |at: usize| {
            let p = &entries.postings[at];
            p.expires_at.is_none_or(|t| t > now)
                && (filter.company_ids.is_empty() || filter.company_ids.iter().any(|c| c.0 == p.company_id))
                && (filter.ids.is_empty() || filter.ids.iter().any(|i| i.0 == entries.ids[at]))
                && (filter.workplaces.is_empty() || p.workplace.is_some_and(|w| filter.workplaces.contains(&w)))
                && (filter.employment_types.is_empty()
                    || p.employment_type.is_some_and(|e| filter.employment_types.contains(&e)))
                && (filter.seniorities.is_empty() || p.seniority.is_some_and(|s| filter.seniorities.contains(&s)))
                && (filter.countries.is_empty()
                    || entries.locations_of(p).iter().any(|l| filter.countries.contains(&l.country())))
                && filter.min_salary.as_ref().is_none_or(|(amount, currency, period)| {
                    p.salary.is_some_and(|s| s.currency() == *currency && s.period() == *period && s.max() >= *amount)
                })
                && skills.iter().all(|k| entries.skills.get(p.skills).iter().any(|(key, _)| key == k))
        };
        let fuse = |x: f32, c: f64| {
            (1.0 - (1.0 - postings::SEMANTIC_WEIGHT * c) / (1.0 + f64::from(x).max(0.0))).clamp(0.0, 1.0)
        };
        let mut closeness: HashMap<u32, f64> =
            near.iter().filter_map(|n| Some((*entries.slot.get(&n.id.0)? as u32, n.closeness))).collect();
        for (doc, x) in entries.lexical.score(&filter.text) {
            let at = entries.doc_slot[doc as usize];
            if at == GONE || !passes(at as usize) {
                continue;
            }
            let c = closeness.remove(&at).unwrap_or(0.0);
            found.hits.push((at, fuse(x, c)));
        }
        for (at, c) in closeness {
            if passes(at as usize) {
                found.hits.push((at, fuse(0.0, c)));
            }
        }
        found.next_expiry = found.hits.iter().filter_map(|&(at, _)| entries.postings[at as usize].expires_at).min();
        found
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
    use hiregraph_domain::matching::PostingFacts;
    use hiregraph_domain::search::parse_query;

    fn posting(id: u128, title: &str, published: bool) -> postings::SearchText {
        postings::SearchText {
            id: Uuid::from_u128(id),
            published,
            company_id: Uuid::from_u128(1000),
            company_name: "Acme".to_owned(),
            title: title.to_owned(),
            summary: None,
            description: String::new(),
            employment_type: None,
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
        index.put(Vec::new(), &[Uuid::from_u128(3)]).unwrap();
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
        index.for_each_posting(
            &["golang".to_owned(), "go".to_owned()],
            Some(&headline),
            |id, _, _, counts, closeness| {
                seen.push((id.0.as_u128(), counts.required_matched, counts.required_total, closeness.unwrap() > 0.5));
            },
        );
        seen.sort_by_key(|s| s.0);
        assert_eq!(seen, [(1, 1, 1, true), (2, 1, 1, false)], "published ones only; Go is theirs; a nanny is close");
        let mut none = 0;
        index.for_each_posting(&["rust".to_owned()], None, |_, _, _, counts, closeness| {
            none += usize::from(counts.required_matched == 0 && closeness.is_none());
        });
        assert_eq!(none, 2);
    }

    #[test]
    fn an_indexed_posting_stays_small() {
        // Was 176 bytes with its facts inline, locations boxed apart.
        assert!(std::mem::size_of::<Indexed>() <= 96, "{} bytes", std::mem::size_of::<Indexed>());
    }

    #[test]
    fn postings_naming_the_same_places_share_one_set_until_the_last_leaves() {
        let index = SemanticIndex::default();
        let berlin = Location::new(Some("Berlin"), None, "DE", false).unwrap();
        let placed = |id, places: Vec<Location>| {
            let mut p = posting(id, "Go Engineer", true);
            p.facts.locations = places;
            p.facts.seniority = Some(Seniority::Senior);
            p
        };
        index
            .put(vec![placed(1, vec![berlin.clone()]), placed(2, vec![berlin.clone()]), placed(3, Vec::new())], &[])
            .unwrap();
        let sets = |index: &SemanticIndex| index.entries.read().unwrap().locations.len();
        assert_eq!(sets(&index), 2, "Berlin once, and no place");
        let mut seen = Vec::new();
        index.for_each_posting(&[], None, |id, _, traits, _, _| {
            seen.push((id.0.as_u128(), traits.locations.to_vec(), traits.seniority));
        });
        seen.sort_by_key(|s| s.0);
        let senior = Some(Seniority::Senior);
        assert_eq!(
            seen,
            [(1, vec![berlin.clone()], senior), (2, vec![berlin.clone()], senior), (3, Vec::new(), senior)]
        );
        // Moved, then gone: Berlin stays while one posting names it.
        index.put(vec![placed(1, Vec::new())], &[]).unwrap();
        assert_eq!(sets(&index), 2);
        index.put(Vec::new(), &[Uuid::from_u128(2)]).unwrap();
        assert_eq!(sets(&index), 1, "only the empty set is left");
    }
}
