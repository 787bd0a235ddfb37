//! The lexical side of in-memory search: an inverted index from word stems to the published
//! postings whose title, skills, company name, summary or description hold them, ranked the way
//! the databases' own full-text search ranks (`postings::feed`): BM25 over field-weighted term
//! frequencies, doubled for a posting with every term and half again when its title and skills
//! alone hold them. A search then reads no rows to rank: the databases' floor is reading every
//! matching posting's text (about 45,000 for "data engineer" on the bench dataset).
//!
//! Documents are numbered in the order they are added; a changed posting is added again under a
//! new number and its old number is marked removed, so the lists stay sorted by number without
//! being searched for removals. `compact` renumbers when removed documents pile up.

use std::collections::HashMap;

use hiregraph_domain::search::{self, TextQuery};

/// How much a word counts in each field, as FTS5's column weights on SQLite.
pub const TITLE: u32 = 10;
pub const SKILLS: u32 = 8;
pub const COMPANY: u32 = 4;
pub const SUMMARY: u32 = 2;
pub const DESCRIPTION: u32 = 1;

/// BM25's term-frequency saturation and length normalisation.
const K1: f32 = 1.2;
const B: f32 = 0.5;

/// Documents are numbered below this (24 bits); `compact` renumbers well before.
const MAX_DOCS: usize = 1 << 24;
/// The field-weighted frequency kept per entry (7 bits); beyond it the saturation is flat.
const MAX_WEIGHT: u32 = 127;
const TITLED: u32 = 1 << 7;

/// A text's stems with their field-weighted frequencies, made outside the index's lock.
#[derive(Debug, Default)]
pub struct Document {
    /// Each distinct stem, its weighted frequency, and whether the title or skills hold it.
    stems: Vec<(String, u32, bool)>,
    length: u32,
}

/// The document of a posting's fields, each text with its weight.
pub fn document(fields: &[(&str, u32)]) -> Document {
    let mut at: HashMap<String, usize> = HashMap::new();
    let mut doc = Document::default();
    for &(text, weight) in fields {
        for stem in search::stems(text) {
            doc.length += weight;
            let titled = weight >= SKILLS;
            match at.get(&stem) {
                Some(&i) => {
                    doc.stems[i].1 += weight;
                    doc.stems[i].2 |= titled;
                }
                None => {
                    at.insert(stem.clone(), doc.stems.len());
                    doc.stems.push((stem, weight, titled));
                }
            }
        }
    }
    doc
}

/// The inverted index. Each list entry is a document number (high 24 bits), whether the word is in
/// the title or skills (bit 7) and its weighted frequency (low 7 bits): four bytes.
#[derive(Default)]
pub struct Lexical {
    stems: HashMap<Box<str>, u32>,
    lists: Vec<Vec<u32>>,
    /// Each document's weighted length; 0 once removed.
    lengths: Vec<u32>,
    live: usize,
    total_length: u64,
}

impl Lexical {
    /// Adds a document; returns its number.
    pub fn add(&mut self, doc: Document) -> u32 {
        let number = self.lengths.len() as u32;
        for (stem, weight, titled) in doc.stems {
            let list = match self.stems.get(stem.as_str()) {
                Some(&i) => i,
                None => {
                    let i = self.lists.len() as u32;
                    self.stems.insert(stem.into_boxed_str(), i);
                    self.lists.push(Vec::new());
                    i
                }
            };
            self.lists[list as usize].push((number << 8) | (u32::from(titled) * TITLED) | weight.min(MAX_WEIGHT));
        }
        let length = doc.length.max(1);
        self.lengths.push(length);
        self.live += 1;
        self.total_length += u64::from(length);
        number
    }

    /// Marks a document removed.
    pub fn remove(&mut self, number: u32) {
        if let Some(length) = self.lengths.get_mut(number as usize)
            && *length > 0
        {
            self.total_length -= u64::from(*length);
            self.live -= 1;
            *length = 0;
        }
    }

    /// Whether renumbering would pay: a fifth of the numbers are removed documents, or numbers
    /// run out.
    pub fn wants_compacting(&self) -> bool {
        let dead = self.lengths.len() - self.live;
        dead > 1_000 && dead * 5 > self.lengths.len() || self.lengths.len() + 1 >= MAX_DOCS
    }

    /// Drops removed documents and renumbers the others in order. Returns each old number's new
    /// one (`u32::MAX` for a removed document).
    pub fn compact(&mut self) -> Vec<u32> {
        let mut renumbered = vec![u32::MAX; self.lengths.len()];
        let mut next = 0;
        for (old, &length) in self.lengths.iter().enumerate() {
            if length > 0 {
                renumbered[old] = next;
                next += 1;
            }
        }
        self.lengths.retain(|&length| length > 0);
        let mut stems = HashMap::with_capacity(self.stems.len());
        let mut lists = Vec::with_capacity(self.lists.len());
        for (stem, i) in std::mem::take(&mut self.stems) {
            let list: Vec<u32> = std::mem::take(&mut self.lists[i as usize])
                .into_iter()
                .filter_map(|entry| {
                    let new = renumbered[(entry >> 8) as usize];
                    (new != u32::MAX).then_some(new << 8 | entry & 0xff)
                })
                .collect();
            if !list.is_empty() {
                stems.insert(stem, lists.len() as u32);
                lists.push(list);
            }
        }
        self.stems = stems;
        self.lists = lists;
        renumbered
    }

    /// The bytes the lists take (entries only).
    /// Gives back what growing the lists by doubling left over (after a build).
    pub fn shrink_to_fit(&mut self) {
        self.lists.iter_mut().for_each(Vec::shrink_to_fit);
        self.lists.shrink_to_fit();
        self.lengths.shrink_to_fit();
        self.stems.shrink_to_fit();
    }

    pub fn bytes(&self) -> usize {
        self.lists.iter().map(|l| l.len() * 4).sum::<usize>() + self.lengths.len() * 4
    }

    /// Every live document sharing a term with the query, with its score (above 0), by number.
    pub fn score(&self, query: &TextQuery) -> Vec<(u32, f32)> {
        let terms = query.terms.len().min(16);
        if terms == 0 || self.live == 0 {
            return Vec::new();
        }
        let n = self.live as f32;
        let average = self.total_length as f32 / n;
        let mut scores = vec![0f32; self.lengths.len()];
        let mut held = vec![0u16; self.lengths.len()];
        let mut titled = vec![0u16; self.lengths.len()];
        let mut touched: Vec<u32> = Vec::new();
        for (i, term) in query.terms.iter().take(terms).enumerate() {
            let list = self.term_list(&term.spellings);
            let df = list.len() as f32;
            let idf = (1.0 + (n - df + 0.5) / (df + 0.5)).ln();
            for entry in list {
                let doc = (entry >> 8) as usize;
                let weight = (entry & MAX_WEIGHT) as f32;
                let norm = K1 * (1.0 - B + B * self.lengths[doc] as f32 / average);
                if held[doc] == 0 {
                    touched.push(doc as u32);
                }
                scores[doc] += idf * weight * (K1 + 1.0) / (weight + norm);
                held[doc] |= 1 << i;
                if entry & TITLED != 0 {
                    titled[doc] |= 1 << i;
                }
            }
        }
        let all = (1u32 << terms) - 1;
        touched
            .into_iter()
            .map(|doc| {
                let d = doc as usize;
                let mut x = scores[d];
                if u32::from(held[d]) == all {
                    x *= 2.0;
                    if u32::from(titled[d]) == all {
                        x *= 1.5;
                    }
                }
                (doc, x)
            })
            .collect()
    }

    /// The live entries of one term: any of its spellings, a spelling of several words only where
    /// all of them are (with the least of their weights), the best spelling per document.
    fn term_list(&self, spellings: &[String]) -> Vec<u32> {
        let mut merged: Vec<u32> = Vec::new();
        let mut several = false;
        for spelling in spellings {
            let stems: Vec<String> = search::stems(spelling).collect();
            let Some(lists) = stems.iter().map(|s| self.stems.get(s.as_str())).collect::<Option<Vec<_>>>() else {
                continue;
            };
            let Some((first, rest)) = lists.split_first() else { continue };
            let mut list: Vec<u32> =
                self.lists[**first as usize].iter().copied().filter(|&e| self.lengths[(e >> 8) as usize] > 0).collect();
            for other in rest {
                list = intersect(&list, &self.lists[**other as usize]);
            }
            several |= !merged.is_empty();
            merged.extend(list);
        }
        if several {
            // The highest entry of a document has its best flag and weight.
            merged.sort_unstable();
            merged.dedup_by(|later, kept| {
                let same = *later >> 8 == *kept >> 8;
                if same {
                    *kept = (*kept).max(*later);
                }
                same
            });
        }
        merged
    }
}

/// The documents of `a` also in `b` (both sorted), with the lesser weight and both flags.
fn intersect(a: &[u32], b: &[u32]) -> Vec<u32> {
    let (mut i, mut j) = (0, 0);
    let mut out = Vec::new();
    while i < a.len() && j < b.len() {
        match (a[i] >> 8).cmp(&(b[j] >> 8)) {
            std::cmp::Ordering::Less => i += 1,
            std::cmp::Ordering::Greater => j += 1,
            std::cmp::Ordering::Equal => {
                let weight = (a[i] & MAX_WEIGHT).min(b[j] & MAX_WEIGHT);
                out.push(a[i] >> 8 << 8 | a[i] & b[j] & TITLED | weight);
                i += 1;
                j += 1;
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use hiregraph_domain::search::parse_query;

    fn add(index: &mut Lexical, title: &str, description: &str) -> u32 {
        index.add(document(&[(title, TITLE), (description, DESCRIPTION)]))
    }

    fn ranked(index: &Lexical, query: &str) -> Vec<u32> {
        let mut hits = index.score(&parse_query(query).unwrap());
        hits.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
        hits.into_iter().map(|(doc, _)| doc).collect()
    }

    #[test]
    fn every_posting_sharing_a_stem_is_found_and_the_title_with_all_words_leads() {
        let mut index = Lexical::default();
        let data = add(&mut index, "Data Engineer", "Pipelines.");
        let engineers = add(&mut index, "Platform Engineers", "We build data tools.");
        let analyst = add(&mut index, "Analyst", "Data, data and more data.");
        let nurse = add(&mut index, "Nurse", "Care.");
        let found = ranked(&index, "data engineering");
        assert_eq!(found[0], data, "both words in the title");
        assert_eq!(found[1], engineers, "both words, one in the description");
        assert_eq!(found[2], analyst);
        assert!(!found.contains(&nurse));
    }

    #[test]
    fn a_spelling_of_several_words_needs_all_of_them() {
        let mut index = Lexical::default();
        let sre = add(&mut index, "Site Reliability Engineer", "");
        let site = add(&mut index, "Site Manager", "");
        assert_eq!(ranked(&index, "sre"), [sre], "the abbreviation's full form, every word of it");
        assert!(ranked(&index, "site").contains(&site));
    }

    #[test]
    fn removed_documents_are_not_found_and_compacting_renumbers_the_rest() {
        let mut index = Lexical::default();
        let first = add(&mut index, "Rust Engineer", "");
        let second = add(&mut index, "Rust Developer", "");
        index.remove(first);
        assert_eq!(ranked(&index, "rust"), [second]);
        let renumbered = index.compact();
        assert_eq!(renumbered, [u32::MAX, 0]);
        assert_eq!(ranked(&index, "rust developer"), [0]);
        assert!(ranked(&index, "engineer").is_empty(), "the removed document's words are gone");
    }
}
