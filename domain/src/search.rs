//! What a free-text posting search means: the words that count, the spellings each word also
//! stands for (skill aliases, a likely typo's correction), and the words that do not count (stop
//! words, "job", bare numbers). Both storage backends search for exactly these terms, so a query
//! finds the same postings on SQLite and on Postgres; stemming ("engineers" finds "engineer") is
//! left to the database's English stemmer, or done by [`stems`] for the in-memory index.

use crate::error::FieldError;
use crate::skills::{equivalent_keys, vocabulary};

/// The longest query accepted, in characters.
pub const MAX_QUERY_CHARS: usize = 200;
/// The most words a query may have once stop words are gone.
pub const MAX_TERMS: usize = 12;

/// A parsed query: every term must match (AND); a term matches through any of its spellings (OR).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default, serde::Serialize, serde::Deserialize)]
pub struct TextQuery {
    pub terms: Vec<Term>,
}

/// One word of the query and the other spellings it stands for, the word itself first.
#[derive(Debug, Clone, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub struct Term {
    pub spellings: Vec<String>,
}

impl TextQuery {
    /// Whether nothing is left to search for (an empty query, or stop words only): the search then
    /// lists postings as if no text had been given.
    pub fn is_empty(&self) -> bool {
        self.terms.is_empty()
    }
}

/// English stop words (the list Postgres' `english` configuration drops), plus words every
/// posting is about anyway.
const STOP_WORDS: &str = "i me my myself we our ours ourselves you your yours yourself yourselves he him his himself she her \
     hers herself it its itself they them their theirs themselves what which who whom this that these \
     those am is are was were be been being have has had having do does did doing a an the and but if or \
     because as until while of at by for with about against between into through during before after \
     above below to from up down in out on off over under again further then once here there when where \
     why how all any both each few more most other some such no nor not only own same so than too very s \
     t can will just don should now job jobs position positions role roles opening openings vacancy \
     vacancies";

static STOP: std::sync::LazyLock<std::collections::HashSet<&'static str>> =
    std::sync::LazyLock::new(|| STOP_WORDS.split_whitespace().collect());

static STEMMER: std::sync::LazyLock<rust_stemmers::Stemmer> =
    std::sync::LazyLock::new(|| rust_stemmers::Stemmer::create(rust_stemmers::Algorithm::English));

/// A word's stem by Snowball's English algorithm (the one Postgres' `english` configuration
/// uses): "engineers" and "engineering" are "engin". Words with `+`, `#` or `.` ("c++", "c#",
/// "node.js") are names and stay whole.
pub fn stem(word: &str) -> String {
    if word.contains(['+', '#', '.']) { word.to_owned() } else { STEMMER.stem(word).into_owned() }
}

/// The stems a text is searched by, in order: its words as a query reads them, stop words and
/// numbers left out, each stemmed.
pub fn stems(text: &str) -> impl Iterator<Item = String> {
    words(text).into_iter().filter(|w| !STOP.contains(w.as_str()) && !is_amount(w)).map(|w| stem(&w))
}

/// Words job seekers type, beyond skill names, for correcting typos.
const COMMON_WORDS: &str = "engineer engineering developer development software backend frontend fullstack infrastructure \
     platform reliability security mobile android data analyst analytics scientist science machine \
     learning designer design product manager management marketing sales support customer success \
     operations devops cloud architect consultant director lead senior junior staff principal intern \
     internship remote hybrid onsite contract freelance part-time full-time startup fintech healthcare \
     payments embedded systems distributed database network quality testing automation research \
     recruiter writer technical accountant finance legal people growth";

/// Parses a query as typed. Errors name the problem: too long, or too many words.
pub fn parse_query(raw: &str) -> Result<TextQuery, FieldError> {
    let chars = raw.chars().count();
    if chars > MAX_QUERY_CHARS {
        return Err(FieldError::new("query", format!("must be at most {MAX_QUERY_CHARS} characters, was {chars}")));
    }
    let mut terms: Vec<Term> = Vec::new();
    for word in words(raw) {
        if STOP.contains(word.as_str()) || is_amount(&word) || terms.iter().any(|t| t.spellings[0] == word) {
            continue;
        }
        let mut spellings = equivalent_keys(&word);
        spellings.retain(|s| is_single_word(s));
        if spellings.first() != Some(&word) {
            spellings.insert(0, word.clone());
        }
        if spellings.len() == 1
            && let Some(fixed) = correction(&word)
        {
            for key in equivalent_keys(fixed) {
                if is_single_word(&key) && !spellings.contains(&key) {
                    spellings.push(key);
                }
            }
        }
        // An abbreviation also finds its full form ("sre": "site reliability engineer"), as a
        // phrase: both engines match a spelling of several words only with all of them.
        if let Some(full) = crate::occupations::full_form(&word)
            && !spellings.iter().any(|s| s == full)
        {
            spellings.push(full.to_owned());
        }
        terms.push(Term { spellings });
    }
    if terms.len() > MAX_TERMS {
        return Err(FieldError::new(
            "query",
            format!("must have at most {MAX_TERMS} words besides stop words, had {}", terms.len()),
        ));
    }
    Ok(TextQuery { terms })
}

/// Lower-case words; `+`, `#` and `.` stay inside a word ("c++", "c#", "node.js").
fn words(text: &str) -> Vec<String> {
    text.to_lowercase()
        .split(|c: char| !(c.is_alphanumeric() || "+#.".contains(c)))
        .map(|w| w.trim_matches('.'))
        .filter(|w| !w.is_empty())
        .map(str::to_owned)
        .collect()
}

fn is_single_word(s: &str) -> bool {
    !s.contains(' ') && !s.contains('/')
}

/// Numbers and amounts ("180k", "5+", "2026") carry no text to search for: salary and years have
/// filters of their own.
fn is_amount(word: &str) -> bool {
    let digits = word.trim_start_matches(['$', '€', '£']).trim_end_matches('+');
    let digits = digits.strip_suffix('k').or_else(|| digits.strip_suffix('m')).unwrap_or(digits);
    !digits.is_empty() && digits.chars().all(|c| c.is_ascii_digit() || c == '.' || c == ',')
        || !word.chars().any(char::is_alphabetic)
}

/// The words a typo may be corrected to, in order, each lower-cased once with its length in
/// letters: skill spellings of five letters or more (shorter ones, "bash" or "dart", sit one edit
/// away from too many ordinary words), then the common job words.
static CORRECTABLE: std::sync::LazyLock<Vec<(String, usize, &'static str)>> = std::sync::LazyLock::new(|| {
    vocabulary()
        .iter()
        .flat_map(|skill| skill.aliases.iter().map(|a| a.text.as_str()).chain(std::iter::once(skill.name)))
        .filter(|w| w.chars().count() >= 5)
        .chain(COMMON_WORDS.split_whitespace())
        .filter(|w| w.chars().count() >= 4 && w.chars().all(char::is_alphabetic))
        .map(|w| {
            let lower = w.to_lowercase();
            let letters = lower.chars().count();
            (lower, letters, w)
        })
        .collect()
});

/// The known word a likely typo stands for: a skill or common word within one edit (two for
/// words of eight letters or more), the closest first, ties to the earlier-listed. Known words
/// and short words are left alone.
fn correction(word: &str) -> Option<&'static str> {
    if word.chars().count() < 4 || !word.chars().all(char::is_alphabetic) {
        return None;
    }
    let length = word.chars().count();
    let limit = if length >= 8 { 2 } else { 1 };
    let mut best: Option<(usize, &'static str)> = None;
    // Words more than `limit` letters longer or shorter are further than `limit` edits away.
    for (lower, _, candidate) in CORRECTABLE.iter().filter(|(_, letters, _)| letters.abs_diff(length) <= limit) {
        let distance = edit_distance(word, lower);
        if distance == 0 {
            return None;
        }
        if distance <= limit && best.is_none_or(|(d, _)| distance < d) {
            best = Some((distance, candidate));
        }
    }
    best.map(|(_, w)| w)
}

/// Optimal string alignment distance: insertions, deletions, substitutions and swaps of two
/// neighbouring letters each cost one.
pub fn edit_distance(a: &str, b: &str) -> usize {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    let mut rows = vec![vec![0usize; b.len() + 1]; a.len() + 1];
    for (i, row) in rows.iter_mut().enumerate() {
        row[0] = i;
    }
    for (j, cell) in rows[0].iter_mut().enumerate() {
        *cell = j;
    }
    for i in 1..=a.len() {
        for j in 1..=b.len() {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            let mut d = (rows[i - 1][j] + 1).min(rows[i][j - 1] + 1).min(rows[i - 1][j - 1] + cost);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                d = d.min(rows[i - 2][j - 2] + 1);
            }
            rows[i][j] = d;
        }
    }
    rows[a.len()][b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spellings(q: &str) -> Vec<Vec<String>> {
        parse_query(q).unwrap_or_default().terms.into_iter().map(|t| t.spellings).collect()
    }

    #[test]
    fn texts_are_searched_by_their_stems() {
        let found: Vec<String> = stems("Senior Engineers: engineering C++ and Node.js for 5 teams").collect();
        assert_eq!(found, ["senior", "engin", "engin", "c++", "node.js", "team"]);
        assert_eq!(stem("strategies"), stem("strategy"));
        assert_ne!(stem("strategic"), stem("strategy"), "a derivation the stemmer does not join");
    }

    #[test]
    fn stop_words_numbers_and_repeats_do_not_count() {
        assert_eq!(spellings("the senior engineer over $180k, 5+ years"), [["senior"], ["engineer"], ["years"]]);
        assert!(parse_query("the and of").unwrap_or_default().is_empty());
        assert!(parse_query("  ").unwrap_or_default().is_empty());
        assert_eq!(spellings("Rust rust RUST jobs"), [["rust", "rustlang"]]);
    }

    #[test]
    fn skill_words_stand_for_their_aliases() {
        assert_eq!(spellings("k8s"), [["k8s", "kubernetes", "kubectl"]]);
        assert_eq!(spellings("Postgres"), [["postgres", "postgresql", "psql"]]);
        assert_eq!(spellings("golang"), [["golang", "go"]]);
        assert_eq!(
            spellings("node.js c++"),
            [vec!["node.js", "nodejs", "node"], vec!["c++", "cpp", "c++11", "c++14", "c++17", "c++20"]]
        );
    }

    #[test]
    fn likely_typos_also_search_for_the_known_word() {
        assert_eq!(spellings("kubernetse"), [["kubernetse", "kubernetes", "k8s", "kubectl"]]);
        assert_eq!(spellings("pyhton"), [["pyhton", "python", "python3"]]);
        assert_eq!(spellings("enginer"), [["enginer", "engineer"]]);
        // Known and short words stay as they are.
        assert_eq!(spellings("engineer"), [["engineer"]]);
        assert_eq!(spellings("gox"), [["gox"]]);
        // Too far from anything known: searched as typed.
        assert_eq!(spellings("zebra"), [["zebra"]]);
    }

    #[test]
    fn limits_are_named() {
        let long = "a".repeat(MAX_QUERY_CHARS + 1);
        assert!(parse_query(&long).is_err_and(|e| e.message.contains("at most 200 characters")));
        let many = (0..13).map(|i| format!("word{i}x")).collect::<Vec<_>>().join(" ");
        assert!(parse_query(&many).is_err_and(|e| e.message.contains("at most 12 words")));
    }

    #[test]
    fn edit_distance_counts_swaps_as_one() {
        assert_eq!(edit_distance("pyhton", "python"), 1);
        assert_eq!(edit_distance("kitten", "sitting"), 3);
        assert_eq!(edit_distance("", "go"), 2);
    }
}
