//! The listed candidates (`PUBLIC` and `EMPLOYERS` profiles) as matching scores them, held in
//! memory by each replica, so ranking candidates for a posting reads no profile from the database.
//! Like the semantic index of postings, it reads every listed profile once at start, then follows
//! the outbox's `candidate.profile_updated` events (written in the transaction of every profile
//! change) and reads again only the profiles they name: a profile made private, or gone, leaves.

use std::collections::HashMap;
use std::sync::RwLock;

use chrono::{DateTime, Utc};
use hiregraph_domain::CandidateId;
use hiregraph_domain::candidates::Visibility;
use hiregraph_domain::events::EventType;
use hiregraph_domain::matching::{CandidateTraits, DesiredSalary};
use hiregraph_domain::postings::{Seniority, Workplace};
use hiregraph_domain::values::Location;
use sea_orm::ConnectionTrait;
use uuid::Uuid;

use crate::error::StoreError;
use crate::interned::{Interned, Lists, Span};
use crate::matching;
use crate::outbox;

/// Profiles read per statement while building, and events per statement while following (small,
/// as the semantic index's: a build's passing rows are heap a replica keeps).
const BATCH: u64 = 1_000;

/// A listed candidate as matching reads it: 60 bytes, with headline, location and workplaces as
/// numbers of the values the index keeps once (133,242 bench profiles share a few hundred of
/// each). No skill names (see `skills`) and no desired salary: a hiring team may not see it.
#[derive(Debug, Clone, Copy)]
pub struct Listed {
    pub id: CandidateId,
    pub updated_at: DateTime<Utc>,
    pub visibility: Visibility,
    seniority: Option<Seniority>,
    years: Option<i32>,
    headline: u32,
    /// A location is kept as a set of one, as postings keep theirs.
    location: u32,
    open_to: u32,
    /// The candidate's skill keys, numbered by the index, in `Entries::skills`.
    skills: Span,
}

#[derive(Default)]
struct Entries {
    /// Sorted by id: a candidate is found by binary search, with no id map beside it (a
    /// `HashMap<Uuid, u32>` of 133,242 profiles took 5.5 MiB).
    listed: Vec<Listed>,
    keys: HashMap<String, u32>,
    skills: Lists<u32>,
    headlines: Interned<str>,
    locations: Interned<[Location]>,
    workplaces: Interned<[Workplace]>,
    /// The outbox position the index is current with; `None` before the first build.
    position: Option<i64>,
}

impl Entries {
    fn entry(&mut self, row: matching::ListedRow) -> Listed {
        let keys = &mut self.keys;
        let skills = self.skills.add(row.skill_keys.into_iter().map(|key| {
            let next = keys.len() as u32;
            *keys.entry(key).or_insert(next)
        }));
        let facts = row.facts;
        Listed {
            id: row.id,
            updated_at: row.updated_at,
            visibility: row.visibility,
            seniority: facts.seniority,
            years: facts.years,
            headline: self.headlines.hold_some(facts.headline.as_deref()),
            location: self.locations.hold_some(facts.location.as_ref().map(std::slice::from_ref)),
            open_to: self.workplaces.hold(&facts.open_to),
            skills,
        }
    }

    fn release(&mut self, old: &Listed) {
        self.skills.release(old.skills);
        self.headlines.release(old.headline);
        self.locations.release(old.location);
        self.workplaces.release(old.open_to);
    }

    fn at(&self, id: Uuid) -> Result<usize, usize> {
        self.listed.binary_search_by(|l| l.id.0.cmp(&id))
    }

    /// Puts `rows` in (replacing a candidate already listed) and takes `gone` out, keeping the
    /// list sorted: replacements in place, removals in one pass, and new candidates merged in
    /// one pass from the back (a build's batches arrive in id order and are only appended).
    fn put(&mut self, rows: Vec<matching::ListedRow>, gone: &[Uuid]) {
        let mut fresh = Vec::new();
        for row in rows {
            let at = self.at(row.id.0);
            let listed = self.entry(row);
            match at {
                Ok(at) => {
                    let old = std::mem::replace(&mut self.listed[at], listed);
                    self.release(&old);
                }
                Err(_) => fresh.push(listed),
            }
        }
        let mut leaving: Vec<usize> = gone.iter().filter_map(|id| self.at(*id).ok()).collect();
        leaving.sort_unstable();
        leaving.dedup();
        if !leaving.is_empty() {
            for &at in &leaving {
                let old = self.listed[at];
                self.release(&old);
            }
            let (mut at, mut next) = (0, leaving.iter().peekable());
            self.listed.retain(|_| {
                let keep = next.next_if_eq(&&at).is_none();
                at += 1;
                keep
            });
        }
        // One row per candidate: the last one given wins.
        fresh.reverse();
        fresh.sort_by_key(|l| l.id.0);
        let mut unique: Vec<Listed> = Vec::with_capacity(fresh.len());
        for listed in fresh {
            match unique.last() {
                Some(last) if last.id == listed.id => self.release(&listed),
                _ => unique.push(listed),
            }
        }
        self.merge(unique);
        if self.skills.wants_compacting() {
            self.skills.compact(self.listed.iter_mut().map(|l| &mut l.skills));
        }
    }

    /// Merges `fresh` (sorted, none listed yet) into the sorted list.
    fn merge(&mut self, fresh: Vec<Listed>) {
        let Some(first) = fresh.first() else { return };
        if self.listed.last().is_none_or(|last| last.id.0 < first.id.0) {
            self.listed.extend(fresh);
            return;
        }
        let old = self.listed.len();
        self.listed.extend_from_slice(&fresh);
        let (mut i, mut j, mut k) = (old, fresh.len(), self.listed.len());
        while j > 0 {
            k -= 1;
            if i > 0 && self.listed[i - 1].id.0 > fresh[j - 1].id.0 {
                i -= 1;
                self.listed[k] = self.listed[i];
            } else {
                j -= 1;
                self.listed[k] = fresh[j];
            }
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

impl<'a> TalentView<'a> {
    pub fn listed(&self) -> &'a [Listed] {
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
    pub fn has(&self, candidate: &Listed, spellings: &[u32]) -> bool {
        self.entries.skills.get(candidate.skills).iter().any(|k| spellings.contains(k))
    }

    /// What scoring reads of `candidate`, lent from the values the index keeps; the desired
    /// salary private, as a hiring team sees it.
    pub fn traits(&self, candidate: &Listed) -> CandidateTraits<'a> {
        let e = self.entries;
        CandidateTraits {
            headline: e.headlines.get(candidate.headline),
            seniority: candidate.seniority,
            years: candidate.years,
            desired_salary: DesiredSalary::Private,
            open_to: e.workplaces.get(candidate.open_to).unwrap_or(&[]),
            location: e.locations.get(candidate.location).and_then(|l| l.first()),
        }
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
        let mut entries = self.entries.write().map_err(|_| StoreError::corrupt("talent index lock"))?;
        // Built by pushing: give back what growing by doubling left over.
        entries.listed.shrink_to_fit();
        entries.skills.shrink_to_fit();
        entries.position = Some(head);
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
        entries.put(rows, &gone);
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

#[cfg(test)]
mod tests {
    use super::*;
    use hiregraph_domain::matching::CandidateFacts;

    fn row(id: u128, headline: &str, skills: &[&str]) -> matching::ListedRow {
        matching::ListedRow {
            id: CandidateId(Uuid::from_u128(id)),
            updated_at: DateTime::UNIX_EPOCH,
            visibility: Visibility::Public,
            facts: CandidateFacts {
                headline: Some(headline.into()),
                skills: Vec::new(),
                seniority: Some(Seniority::Senior),
                years: Some(4),
                desired_salary: DesiredSalary::NotGiven,
                open_to: vec![Workplace::Remote],
                location: Location::new(Some("Berlin"), None, "DE", false).ok(),
            },
            skill_keys: skills.iter().map(|s| (*s).to_owned()).collect(),
        }
    }

    #[test]
    fn a_listed_candidate_stays_small() {
        // 133,242 bench profiles: every byte here is 130 KB of each replica's memory.
        assert!(std::mem::size_of::<Listed>() <= 60, "{} bytes", std::mem::size_of::<Listed>());
    }

    #[test]
    fn candidates_lend_their_traits_and_shared_values_leave_with_the_last_holder() {
        let index = TalentIndex::default();
        index.put(vec![row(1, "SRE", &["go", "k8s"]), row(2, "SRE", &["rust"])], &[]).unwrap();
        index
            .read(|view| {
                let [one, two] = view.listed() else { panic!("two listed") };
                let traits = view.traits(one);
                assert_eq!(traits.headline, Some("SRE"));
                assert_eq!(traits.open_to, [Workplace::Remote]);
                assert_eq!(traits.location.and_then(|l| l.city()), Some("Berlin"));
                assert_eq!((traits.seniority, traits.years), (Some(Seniority::Senior), Some(4)));
                // A hiring team never weighs the desired salary.
                assert_eq!(traits.desired_salary, DesiredSalary::Private);
                let go = view.numbered(&[vec!["go".to_owned()]]);
                assert!(view.has(one, &go[0]) && !view.has(two, &go[0]));
            })
            .unwrap();
        let headlines = |index: &TalentIndex| index.entries.read().unwrap().headlines.len();
        assert_eq!(headlines(&index), 1);
        // One changes headline, the other leaves: only the new headline is kept.
        index.put(vec![row(1, "Platform Engineer", &["go"])], &[CandidateId(Uuid::from_u128(1))]).unwrap();
        assert_eq!(headlines(&index), 2);
        index.put(Vec::new(), &[CandidateId(Uuid::from_u128(2))]).unwrap();
        assert_eq!(headlines(&index), 1);
        index.read(|view| assert_eq!(view.traits(&view.listed()[0]).headline, Some("Platform Engineer"))).unwrap();
    }

    #[test]
    fn batches_merge_into_one_list_sorted_by_id() {
        // A model to check against: which candidates are listed, and under which headline.
        let index = TalentIndex::default();
        let mut model = std::collections::BTreeMap::new();
        let mut seed = 7u64;
        let mut next = || {
            seed = seed.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            (seed >> 33) as u128
        };
        for round in 0..60 {
            // Every third batch is a build's (it names nobody as gone), the others a follow's.
            let follow = round % 3 != 0;
            let mut rows = Vec::new();
            let mut asked = Vec::new();
            for _ in 0..(next() % 40) {
                let id = next() % 300;
                let headline = format!("h{}", next() % 5);
                model.insert(id, headline.clone());
                rows.push(row(id, &headline, &["go"]));
                asked.push(CandidateId(Uuid::from_u128(id)));
            }
            for _ in 0..(next() % 10) {
                let id = next() % 300;
                if follow && !rows.iter().any(|r| r.id.0.as_u128() == id) {
                    model.remove(&id);
                    asked.push(CandidateId(Uuid::from_u128(id)));
                }
            }
            let asked = if follow { asked } else { Vec::new() };
            index.put(rows, &asked).unwrap();
            let listed: Vec<(u128, String)> = index
                .read(|view| {
                    view.listed()
                        .iter()
                        .map(|l| (l.id.0.as_u128(), view.traits(l).headline.unwrap_or_default().to_owned()))
                        .collect()
                })
                .unwrap();
            assert_eq!(listed, model.iter().map(|(k, v)| (*k, v.clone())).collect::<Vec<_>>(), "round {round}");
        }
        // Every headline still held is one some candidate has.
        let held = index.entries.read().unwrap().headlines.len();
        assert_eq!(held, model.values().collect::<std::collections::BTreeSet<_>>().len());
    }
}
