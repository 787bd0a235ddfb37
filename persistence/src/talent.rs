//! The listed candidates (`PUBLIC` and `EMPLOYERS` profiles) as matching scores them, held in
//! memory by each replica, so ranking candidates for a posting reads no profile from the database.
//! Like the semantic index of postings, it reads every listed profile once at start, then follows
//! the outbox's `candidate.profile_updated` events (written in the transaction of every profile
//! change) and reads again only the profiles they name: a profile made private, or gone, leaves.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, RwLock};

use chrono::{DateTime, Utc};
use hiregraph_domain::CandidateId;
use hiregraph_domain::candidates::Visibility;
use hiregraph_domain::events::EventType;
use hiregraph_domain::matching::CandidateFacts;
use hiregraph_domain::postings::Workplace;
use hiregraph_domain::values::Location;
use sea_orm::ConnectionTrait;
use uuid::Uuid;

use crate::error::StoreError;
use crate::matching;
use crate::outbox;

/// Profiles read per statement while building, and events per statement while following.
const BATCH: u64 = 5_000;

/// A listed candidate as matching reads it.
#[derive(Debug, Clone)]
pub struct Listed {
    pub id: CandidateId,
    pub updated_at: DateTime<Utc>,
    pub visibility: Visibility,
    /// Headline, seniority, years, workplaces and location; no skill names (see `skills`) and
    /// the desired salary private, as a hiring team sees it.
    pub facts: CandidateFacts,
    /// The candidate's skill keys, numbered by the index.
    skills: Box<[u32]>,
}

/// The copy of `value` the map already holds, or `value`, kept from now on.
fn shared<T: std::hash::Hash + Eq + ?Sized>(kept: &mut HashSet<Arc<T>>, value: Arc<T>) -> Arc<T> {
    if let Some(same) = kept.get(&value) {
        return same.clone();
    }
    kept.insert(value.clone());
    value
}

#[derive(Default)]
struct Entries {
    listed: Vec<Listed>,
    slot: HashMap<Uuid, usize>,
    /// Skill keys numbered, and headlines, locations and workplaces shared, so each candidate
    /// keeps numbers and pointers (133,242 bench profiles share a few hundred of each).
    keys: HashMap<String, u32>,
    headlines: HashMap<String, Arc<str>>,
    locations: HashSet<Arc<Location>>,
    workplaces: HashSet<Arc<[Workplace]>>,
    /// The outbox position the index is current with; `None` before the first build.
    position: Option<i64>,
}

impl Entries {
    fn put(&mut self, id: Uuid, row: Option<matching::ListedRow>) {
        let listed = row.map(|row| {
            let skills = row
                .skill_keys
                .into_iter()
                .map(|key| {
                    let next = self.keys.len() as u32;
                    *self.keys.entry(key).or_insert(next)
                })
                .collect();
            let mut facts = row.facts;
            // One allocation per distinct headline, however many candidates share it.
            facts.headline =
                facts.headline.map(|h| self.headlines.entry(h.to_string()).or_insert_with(|| h.clone()).clone());
            facts.location = facts.location.map(|l| shared(&mut self.locations, l));
            facts.open_to = shared(&mut self.workplaces, facts.open_to);
            Listed { id: row.id, updated_at: row.updated_at, visibility: row.visibility, facts, skills }
        });
        match (self.slot.get(&id).copied(), listed) {
            (Some(at), Some(listed)) => self.listed[at] = listed,
            (None, Some(listed)) => {
                self.slot.insert(id, self.listed.len());
                self.listed.push(listed);
            }
            (Some(at), None) => {
                self.slot.remove(&id);
                self.listed.swap_remove(at);
                if let Some(moved) = self.listed.get(at) {
                    self.slot.insert(moved.id.0, at);
                }
            }
            (None, None) => {}
        }
    }
}

/// One replica's index of listed candidates.
#[derive(Default)]
pub struct TalentIndex {
    entries: RwLock<Entries>,
}

/// What ranking sees of the index under one read: the listed candidates, and whether each has a
/// skill.
pub struct TalentView<'a> {
    entries: &'a Entries,
}

impl TalentView<'_> {
    pub fn listed(&self) -> &[Listed] {
        &self.entries.listed
    }

    /// Each wanted skill (given as every stored spelling of it) as the index's numbers.
    pub fn numbered(&self, wanted: &[Vec<String>]) -> Vec<Vec<u32>> {
        wanted
            .iter()
            .map(|spellings| spellings.iter().filter_map(|k| self.entries.keys.get(k).copied()).collect())
            .collect()
    }

    /// Whether `candidate` lists the skill spelled `spellings` (numbers from `numbered`).
    pub fn has(candidate: &Listed, spellings: &[u32]) -> bool {
        candidate.skills.iter().any(|k| spellings.contains(k))
    }
}

impl TalentIndex {
    /// Brings the index up to date: the first time, every listed profile (from the outbox
    /// position before the read); afterwards the profiles named by the events committed since.
    /// Returns how many profiles it read.
    pub async fn refresh(&self, conn: &impl ConnectionTrait) -> Result<usize, StoreError> {
        let position = self.entries.read().map_err(|_| StoreError::corrupt("talent index lock"))?.position;
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
            let (rows, last) = matching::listed_candidates(&[], after, BATCH, conn).await?;
            read += rows.len();
            self.put(rows, &[])?;
            match last {
                Some(last) => after = Some(last),
                None => break,
            }
        }
        self.entries.write().map_err(|_| StoreError::corrupt("talent index lock"))?.position = Some(head);
        Ok(read)
    }

    async fn follow(&self, mut position: i64, conn: &impl ConnectionTrait) -> Result<usize, StoreError> {
        let mut read = 0;
        while let Some(changed) =
            outbox::changed_since(&[EventType::CandidateProfileUpdated], position, BATCH, conn).await?
        {
            let ids: Vec<CandidateId> = changed.subjects.into_iter().map(CandidateId).collect();
            let (rows, _) = matching::listed_candidates(&ids, None, ids.len() as u64, conn).await?;
            read += rows.len();
            self.put(rows, &ids)?;
            position = changed.last;
            self.entries.write().map_err(|_| StoreError::corrupt("talent index lock"))?.position = Some(position);
            if !changed.more {
                break;
            }
        }
        Ok(read)
    }

    /// Puts the listed `rows` in, and takes out the `asked` profiles not among them (private now,
    /// or gone).
    fn put(&self, rows: Vec<matching::ListedRow>, asked: &[CandidateId]) -> Result<(), StoreError> {
        let mut entries = self.entries.write().map_err(|_| StoreError::corrupt("talent index lock"))?;
        let gone: Vec<Uuid> =
            asked.iter().map(|id| id.0).filter(|id| !rows.iter().any(|row| row.id.0 == *id)).collect();
        for row in rows {
            let id = row.id.0;
            entries.put(id, Some(row));
        }
        for id in gone {
            entries.put(id, None);
        }
        Ok(())
    }

    /// Whether the index has read every listed profile once.
    pub fn ready(&self) -> bool {
        self.entries.read().is_ok_and(|e| e.position.is_some())
    }

    /// How many candidates the index holds.
    pub fn size(&self) -> usize {
        self.entries.read().map(|e| e.listed.len()).unwrap_or(0)
    }

    /// Runs `f` over the index under one read; `None` if the lock is poisoned.
    pub fn read<R>(&self, f: impl FnOnce(TalentView<'_>) -> R) -> Option<R> {
        let entries = self.entries.read().ok()?;
        Some(f(TalentView { entries: &entries }))
    }
}
