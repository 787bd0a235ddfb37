//! The occupation vocabulary: the abbreviations job titles use and what they stand for
//! (`domain/data/occupations.txt`, data rather than code). Search reads a query's abbreviation as
//! its full form too, and semantic search embeds titles and queries with their abbreviations
//! spelled out.

use std::collections::HashMap;
use std::sync::LazyLock;

const DATA: &str = include_str!("../data/occupations.txt");

/// Every abbreviation (lower case) to its full form.
static ABBREVIATIONS: LazyLock<HashMap<&'static str, &'static str>> = LazyLock::new(|| {
    let mut map = HashMap::new();
    for line in DATA.lines().map(str::trim).filter(|l| !l.is_empty() && !l.starts_with('#')) {
        let Some((full, abbreviations)) = line.split_once('|') else { continue };
        for abbreviation in abbreviations.split(',').map(str::trim).filter(|a| !a.is_empty()) {
            map.entry(abbreviation).or_insert(full.trim());
        }
    }
    map
});

/// The full form of an abbreviation ("sre" → "site reliability engineer"), given in lower case.
pub fn full_form(word: &str) -> Option<&'static str> {
    ABBREVIATIONS.get(word).copied()
}

/// A text with each abbreviation followed by its full form ("Senior SRE" → "Senior SRE site
/// reliability engineer"): what semantic search embeds, so both spellings land together.
pub fn spelled_out(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for word in text.split_whitespace() {
        if !out.is_empty() {
            out.push(' ');
        }
        out.push_str(word);
        let bare = word.trim_matches(|c: char| !(c.is_alphanumeric() || c == '&' || c == '-')).to_lowercase();
        if let Some(full) = full_form(&bare) {
            out.push(' ');
            out.push_str(full);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn abbreviations_stand_for_their_full_form() {
        assert_eq!(full_form("sre"), Some("site reliability engineer"));
        assert_eq!(full_form("vp"), Some("vice president"));
        assert_eq!(full_form("hr"), Some("human resources"));
        assert_eq!(full_form("engineer"), None);
        assert_eq!(spelled_out("Senior SRE (Berlin)"), "Senior SRE site reliability engineer (Berlin)");
        assert_eq!(spelled_out("VP, Sales"), "VP, vice president Sales");
    }

    #[test]
    fn every_line_is_well_formed_and_no_abbreviation_means_two_things() {
        let mut seen = HashMap::new();
        for line in DATA.lines().map(str::trim).filter(|l| !l.is_empty() && !l.starts_with('#')) {
            let (full, abbreviations) = line.split_once('|').unwrap_or_else(|| panic!("no `|` in {line}"));
            assert!(!full.trim().is_empty() && full.trim() == full.trim().to_lowercase(), "{line}");
            for a in abbreviations.split(',').map(str::trim) {
                assert!(!a.is_empty() && a == a.to_lowercase(), "{line}");
                assert!(seen.insert(a, full.trim()).is_none(), "{a} is listed twice");
            }
        }
        assert!(seen.len() >= 60, "{} abbreviations", seen.len());
    }
}
