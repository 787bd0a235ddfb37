//! Any search text parses or is refused with a field error; what parses is within the limits,
//! with no empty word and nothing a query language would read as syntax.
#![no_main]

use hiregraph_domain::search::{MAX_TERMS, parse_query};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let Ok(query) = parse_query(text) else { return };
    assert!(query.terms.len() <= MAX_TERMS);
    for term in &query.terms {
        assert!(!term.spellings.is_empty());
        for spelling in &term.spellings {
            assert!(!spelling.is_empty(), "an empty spelling from {text:?}");
            assert!(
                spelling.chars().all(|c| c.is_alphanumeric() || matches!(c, '+' | '#' | '.' | '-' | '_' | ' ')),
                "{spelling:?} from {text:?}"
            );
        }
    }
});
