//! Any document is counted, parsed and measured without panicking, in steps bounded by its
//! length: the walk visits each written selection once, however fragments multiply it.
#![no_main]

use hiregraph_api::graphql::limits::{Shape, count_tokens};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let Ok(tokens) = count_tokens(text, 10_000) else { return };
    let Ok(doc) = async_graphql_parser::parse_query(text) else { return };
    if let Ok(shape) = Shape::measure(&doc) {
        assert!(shape.visits <= tokens as u64, "{} visits for {tokens} tokens", shape.visits);
    }
});
