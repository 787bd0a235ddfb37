//! The skills vocabulary: canonical names with the aliases people write ("Postgres" is
//! PostgreSQL, "k8s" is Kubernetes, "Golang" is Go). The importer finds skills with it, search
//! widens a query word to its aliases, and matching counts "Postgres" and "PostgreSQL" as one skill.
//! The vocabulary is data, `domain/data/skills.txt`, compiled into the binary: one line per skill.

use std::collections::HashMap;
use std::sync::LazyLock;

/// One skill of the vocabulary.
#[derive(Debug)]
pub struct Skill {
    /// The name postings and profiles store.
    pub name: &'static str,
    /// Every spelling that stands for the skill in text, the name's own first unless it is too
    /// ambiguous to match on its own (`~` in the data file).
    pub aliases: Vec<Alias>,
}

/// A spelling of a skill, normalised like the text it is looked for in (see [`normalize`]).
#[derive(Debug)]
pub struct Alias {
    pub text: String,
    /// Matched only with this exact case: "Go", "Rust", "Excel" are also English words.
    pub cased: bool,
}

const DATA: &str = include_str!("../data/skills.txt");

static VOCABULARY: LazyLock<Vec<Skill>> = LazyLock::new(|| {
    DATA.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .map(|line| {
            let (head, rest) = line.split_once('|').unwrap_or((line, ""));
            let head = head.trim();
            let name = head.trim_start_matches(['=', '~']);
            let mut aliases = Vec::new();
            if !head.starts_with('~') {
                aliases.push(alias(head));
            }
            aliases.extend(rest.split(',').map(str::trim).filter(|a| !a.is_empty()).map(alias));
            Skill { name, aliases }
        })
        .collect()
});

fn alias(raw: &'static str) -> Alias {
    match raw.strip_prefix('=') {
        Some(cased) => Alias { text: normalize(cased, true), cased: true },
        None => Alias { text: normalize(raw, false), cased: false },
    }
}

/// Every skill of the vocabulary, in the order of the data file.
pub fn vocabulary() -> &'static [Skill] {
    &VOCABULARY
}

/// Text as skills are looked for in it: words of letters, digits and `+ # / . &` ("c++", "ci/cd",
/// "node.js", "r&d"), joined by single spaces, lower case unless `keep_case`; a word's trailing
/// dots go (the end of a sentence).
pub fn normalize(text: &str, keep_case: bool) -> String {
    let spaced: String =
        text.chars().map(|c| if c.is_alphanumeric() || "+#/.&".contains(c) { c } else { ' ' }).collect();
    let words: Vec<&str> =
        spaced.split_whitespace().map(|w| w.trim_end_matches('.')).filter(|w| !w.is_empty()).collect();
    let joined = words.join(" ");
    if keep_case { joined } else { joined.to_lowercase() }
}

/// Every lower-case name and alias, to the first skill in the vocabulary that has it. Matching
/// looks a skill up for every skill of every posting it scores, so this is a hash lookup, not a
/// walk over the ~700 entries and their aliases.
static INDEX: LazyLock<HashMap<String, &'static Skill>> = LazyLock::new(|| {
    let mut index = HashMap::new();
    for skill in vocabulary() {
        for key in std::iter::once(skill.name.to_lowercase()).chain(skill.aliases.iter().map(|a| a.text.to_lowercase()))
        {
            index.entry(key).or_insert(skill);
        }
    }
    index
});

/// The vocabulary entry a skill name or alias stands for, by case-insensitive whole match.
pub fn canonical(name: &str) -> Option<&'static str> {
    INDEX.get(&normalize(name, false)).map(|skill| skill.name)
}

/// The key two skills are compared by: the canonical name's, lower case, or the name's own key
/// when it is not in the vocabulary.
pub fn match_key(name: &str) -> String {
    canonical(name).map_or_else(|| name.trim().to_lowercase(), str::to_lowercase)
}

/// Every stored skill key that means the same skill as `name` (itself included), for finding
/// postings or candidates that list it under another spelling.
pub fn equivalent_keys(name: &str) -> Vec<String> {
    let own = name.trim().to_lowercase();
    let mut keys = vec![own.clone()];
    if let Some(skill) = INDEX.get(&normalize(name, false)) {
        for key in std::iter::once(skill.name.to_lowercase()).chain(skill.aliases.iter().map(|a| a.text.to_lowercase()))
        {
            if !keys.contains(&key) {
                keys.push(key);
            }
        }
    }
    keys
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn aliases_lead_to_the_canonical_skill() {
        assert_eq!(canonical("Postgres"), Some("PostgreSQL"));
        assert_eq!(canonical(" k8s "), Some("Kubernetes"));
        assert_eq!(canonical("GOLANG"), Some("Go"));
        assert_eq!(canonical("scikit-learn"), Some("scikit-learn"));
        assert_eq!(canonical("Spring Boot"), Some("Spring Boot"));
        assert_eq!(canonical("Fortranx"), None);
        assert_eq!(match_key("postgres"), match_key("PostgreSQL"));
        assert_eq!(match_key("Fortranx"), "fortranx");
    }

    #[test]
    fn equivalent_keys_cover_every_spelling_once() {
        assert_eq!(equivalent_keys("k8s"), ["k8s", "kubernetes", "kubectl"]);
        assert_eq!(equivalent_keys("Go"), ["go", "golang"]);
        assert_eq!(equivalent_keys("Fortranx"), ["fortranx"]);
    }

    #[test]
    fn the_vocabulary_is_broad_and_every_line_is_well_formed() {
        let skills = vocabulary();
        assert!(skills.len() >= 500, "{} skills", skills.len());
        let mut seen = std::collections::HashSet::new();
        for skill in skills {
            assert!(!skill.aliases.is_empty(), "{} has no spelling to be found by", skill.name);
            assert!(seen.insert(skill.name.to_lowercase()), "{} is listed twice", skill.name);
            assert!(skill.aliases.iter().all(|a| !a.text.is_empty()), "{} has an empty alias", skill.name);
        }
        for common in ["HTML", "CSS", "Next.js", "CMake", "PL/SQL", "Pandas", "JUnit", "Spring Boot"] {
            assert!(canonical(common).is_some(), "{common} is missing");
        }
    }
}
