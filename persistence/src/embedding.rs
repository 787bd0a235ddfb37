//! Text embeddings for semantic search: a static table of word vectors (`data/words.emb`, made
//! from all-MiniLM-L6-v2 by `tools/embeddings/build.sh`; its README says how) compiled into the
//! binary. A text's vector is the normalised sum of its known words' vectors, each already scaled
//! down by how common the word is, so "babysitter" and "nanny" land close and "senior" or "the"
//! barely move anything. Microseconds per text, nothing loaded at run time.

use std::sync::LazyLock;

const DATA: &[u8] = include_bytes!("../data/words.emb");

/// Dimensions of every vector.
pub const DIMS: usize = 160;

/// 97,000 words, found by binary search over numbers into the compiled-in data rather than by a
/// map of their own (which took 4.7 MiB of every replica's heap).
struct Table {
    /// Where each word starts in `DATA` (its length byte), in the table's order: the most
    /// frequent English words first.
    words: Vec<u32>,
    /// The words' numbers sorted by word (a word listed twice: its first number first).
    sorted: Vec<u32>,
    scales: Vec<f32>,
    data: &'static [u8],
    /// `count × DIMS` signed bytes, read in place from `DATA`.
    vectors: &'static [u8],
}

/// The table, read once. A malformed table is a build defect that the unit tests catch; at run
/// time it reads as empty, so search falls back to words alone.
static TABLE: LazyLock<Table> = LazyLock::new(|| {
    parse(DATA).unwrap_or_else(|why| {
        tracing::error!(why, "the word embedding table is malformed; semantic search is off");
        Table { words: Vec::new(), sorted: Vec::new(), scales: Vec::new(), data: &[], vectors: &[] }
    })
});

fn parse(data: &'static [u8]) -> Result<Table, &'static str> {
    let u32_at = |at: usize| -> Result<usize, &'static str> {
        let bytes = data.get(at..at + 4).ok_or("truncated header")?;
        Ok(u32::from_le_bytes([bytes[0], bytes[1], bytes[2], bytes[3]]) as usize)
    };
    if data.get(..4) != Some(b"HGWE".as_slice()) || u32_at(4)? != 1 {
        return Err("not a version 1 word table");
    }
    if u32_at(8)? != DIMS {
        return Err("the table's dimensions differ from DIMS");
    }
    let count = u32_at(12)?;
    let mut at = 16;
    let mut words = Vec::with_capacity(count);
    for _ in 0..count {
        let len = *data.get(at).ok_or("truncated words")? as usize;
        let word = data.get(at + 1..at + 1 + len).ok_or("truncated words")?;
        std::str::from_utf8(word).map_err(|_| "a word is not UTF-8")?;
        words.push(u32::try_from(at).map_err(|_| "the table is too large")?);
        at += 1 + len;
    }
    let mut sorted: Vec<u32> = (0..count as u32).collect();
    sorted.sort_by(|&a, &b| word_at(data, words[a as usize]).cmp(word_at(data, words[b as usize])).then(a.cmp(&b)));
    let scales = data
        .get(at..at + 4 * count)
        .ok_or("truncated scales")?
        .chunks_exact(4)
        .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
        .collect();
    at += 4 * count;
    let vectors = data.get(at..at + DIMS * count).ok_or("truncated vectors")?;
    if at + DIMS * count != data.len() {
        return Err("trailing bytes after the vectors");
    }
    Ok(Table { words, sorted, scales, data, vectors })
}

/// The word whose length byte is at `at` (checked UTF-8 by `parse`).
fn word_at(data: &'static [u8], at: u32) -> &'static str {
    let at = at as usize;
    let len = usize::from(data[at]);
    std::str::from_utf8(&data[at + 1..at + 1 + len]).unwrap_or("")
}

impl Table {
    fn word(&self, number: usize) -> &'static str {
        word_at(self.data, self.words[number])
    }

    /// A word's number (its first, if listed twice).
    fn find(&self, word: &str) -> Option<usize> {
        let at = self.sorted.partition_point(|&n| self.word(n as usize) < word);
        let number = *self.sorted.get(at)? as usize;
        (self.word(number) == word).then_some(number)
    }
}

/// The words of a text as the table knows them: lower case, letters and digits with `+ # / . &`
/// kept ("c++", "node.js", "ci/cd"), trailing dots dropped; the same split as the build script's.
pub fn words(text: &str) -> impl Iterator<Item = String> + '_ {
    text.split(|c: char| !(c.is_alphanumeric() || "+#/.&".contains(c)))
        .map(|w| w.trim_end_matches('.'))
        .filter(|w| !w.is_empty())
        .map(str::to_lowercase)
}

/// Whether the table knows a word (lower case).
pub fn knows(word: &str) -> bool {
    TABLE.find(word).is_some()
}

/// The known words closest to an unknown one, for "did you mean": within one edit for words of
/// up to five letters, two for longer ones (swaps of neighbours count one), nearest first and
/// then the more common; at most `max`. Empty for a known word.
pub fn closest_known(word: &str, max: usize) -> Vec<&'static str> {
    let table = &*TABLE;
    if table.find(word).is_some() {
        return Vec::new();
    }
    let len = word.chars().count();
    let limit = if len <= 5 { 1 } else { 2 };
    let mut found: Vec<(usize, usize, &'static str)> = (0..table.words.len())
        .map(|rank| (rank, table.word(rank)))
        .filter(|(_, w)| w.len().abs_diff(word.len()) <= limit && w.chars().all(char::is_alphanumeric))
        .filter_map(|(rank, w)| {
            let d = hiregraph_domain::search::edit_distance(word, w);
            (d <= limit).then_some((d, rank, w))
        })
        .collect();
    found.sort_unstable();
    found.into_iter().take(max).map(|(_, _, w)| w).collect()
}

/// Adds `weight` × the text's word vectors to `sum`; returns whether any word was known.
fn accumulate(text: &str, weight: f32, sum: &mut [f32; DIMS]) -> bool {
    let table = &*TABLE;
    let mut known = false;
    for word in words(text) {
        let Some(i) = table.find(&word) else { continue };
        known = true;
        let scale = table.scales[i] * weight;
        let row = &table.vectors[i * DIMS..(i + 1) * DIMS];
        for (s, &q) in sum.iter_mut().zip(row) {
            *s += f32::from(q as i8) * scale;
        }
    }
    known
}

fn normalized(mut v: [f32; DIMS]) -> Option<[f32; DIMS]> {
    let norm = v.iter().map(|x| x * x).sum::<f32>().sqrt();
    if norm <= f32::EPSILON {
        return None;
    }
    v.iter_mut().for_each(|x| *x /= norm);
    Some(v)
}

/// The unit vector of a text, or `None` when it has no word the table knows.
pub fn embed(text: &str) -> Option<[f32; DIMS]> {
    let mut sum = [0.0; DIMS];
    accumulate(text, 1.0, &mut sum).then_some(())?;
    normalized(sum)
}

/// A posting's vector: its title (abbreviations spelled out), skills and summary, each normalised on its own and weighted
/// (title 1, skills 0.2, summary 0.2), so a long summary cannot outvote the title: people search
/// for what a job is called (on tests/api/titles.rs, 0.2 each gave MAP 0.609 against 0.606 with
/// 0.5 each and 0.609 with 0.05 each).
pub fn embed_posting(title: &str, skills: &[String], summary: Option<&str>) -> Option<[f32; DIMS]> {
    let mut sum = [0.0; DIMS];
    let title = hiregraph_domain::occupations::spelled_out(title);
    let parts = [(title, 1.0), (skills.join(" , "), 0.2), (summary.unwrap_or("").to_owned(), 0.2)];
    let mut any = false;
    for (text, weight) in parts {
        if let Some(v) = embed(&text) {
            any = true;
            sum.iter_mut().zip(v).for_each(|(s, x)| *s += x * weight);
        }
    }
    any.then_some(())?;
    normalized(sum)
}

/// A candidate's headline as the index compares it with postings (abbreviations spelled out, as
/// in posting titles), quantised; `None` without a known word.
pub fn embed_headline(headline: &str) -> Option<[i8; DIMS]> {
    embed(&hiregraph_domain::occupations::spelled_out(headline)).map(|v| quantize(&v))
}

/// A unit vector as signed bytes (×127), the form the index keeps and compares.
pub fn quantize(v: &[f32; DIMS]) -> [i8; DIMS] {
    let mut out = [0i8; DIMS];
    for (o, x) in out.iter_mut().zip(v) {
        *o = (x * 127.0).round().clamp(-127.0, 127.0) as i8;
    }
    out
}

/// Cosine similarity of two quantised unit vectors.
pub fn similarity(a: &[i8], b: &[i8]) -> f32 {
    let dot: i32 = a.iter().zip(b).map(|(&x, &y)| i32::from(x) * i32::from(y)).sum();
    dot as f32 / (127.0 * 127.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cosine(a: &[f32], b: &[f32]) -> f32 {
        a.iter().zip(b).map(|(x, y)| x * y).sum()
    }

    #[test]
    fn the_table_reads_whole() {
        let table = parse(DATA).unwrap();
        assert!(table.words.len() > 50_000, "{} words", table.words.len());
        assert!(table.find("babysitter").is_some() && table.find("kubernetes").is_some());
        assert_eq!(table.find("babysitterz"), None);
        // Every word is found under its own number, or its first one if listed twice.
        for number in (0..table.words.len()).step_by(97) {
            let found = table.find(table.word(number)).map(|n| table.word(n));
            assert_eq!(found, Some(table.word(number)));
        }
    }

    /// The build script's own pooling over the stored table, for the texts it wrote down.
    #[test]
    fn texts_embed_as_the_build_script_embeds_them() {
        let reference: Vec<serde_json::Value> =
            serde_json::from_str(include_str!("../data/words.reference.json")).unwrap();
        for case in reference {
            let text = case["text"].as_str().unwrap();
            let want: Vec<f32> =
                case["vector"].as_array().unwrap().iter().map(|x| x.as_f64().unwrap() as f32).collect();
            match embed(text) {
                Some(got) => assert!(cosine(&got, &want) > 0.9999, "{text}: {}", cosine(&got, &want)),
                None => assert!(want.iter().all(|x| *x == 0.0), "{text} has known words"),
            }
        }
    }

    #[test]
    fn related_occupations_are_closer_than_unrelated_ones() {
        let sim = |a: &str, b: &str| cosine(&embed(a).unwrap(), &embed(b).unwrap());
        assert!(sim("Nanny", "Babysitter") > sim("Nanny", "Backend Engineer") + 0.2);
        assert!(sim("Veterinarian", "Veterinary Technician") > sim("Veterinarian", "Accountant"));
        assert!(sim("Mediator", "Arbitrator") > sim("Mediator", "Welder"));
        assert!(embed("qwertyuiopasdf").is_none(), "no known word, no vector");
    }

    #[test]
    fn unknown_words_meet_their_closest_known_ones() {
        assert_eq!(closest_known("recepcionist", 1), ["receptionist"]);
        assert!(closest_known("nany", 5).contains(&"nanny"));
        assert!(closest_known("nanny", 3).is_empty(), "a known word needs no correction");
        assert!(closest_known("qqqqqqqqqqqq", 3).is_empty());
    }

    #[test]
    fn quantised_similarity_follows_the_float_one() {
        let (a, b) = (embed("Site Reliability Engineer").unwrap(), embed("Platform Engineer").unwrap());
        let exact = cosine(&a, &b);
        let approx = similarity(&quantize(&a), &quantize(&b));
        assert!((exact - approx).abs() < 0.02, "{exact} vs {approx}");
    }
}
