//! Any string decodes as a global id or a cursor, or is refused; whatever decodes encodes back to
//! something that decodes to the same thing.
#![no_main]

use hiregraph_api::graphql::ids::{decode_any, decode_cursor, encode, encode_cursor};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    if let Some((kind, uuid)) = decode_any(text) {
        assert_eq!(decode_any(&encode(kind, uuid)), Some((kind, uuid)));
    }
    if let Ok(cursor) = decode_cursor(text, "after") {
        let again = encode_cursor(&cursor);
        let decoded = decode_cursor(&again, "after").expect("a cursor we wrote must decode");
        assert_eq!(encode_cursor(&decoded), again);
    }
});
