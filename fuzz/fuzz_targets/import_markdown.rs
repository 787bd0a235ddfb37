//! Any text imports as a draft without panicking, and the draft it yields is either within the
//! posting's own bounds or refused by them with field errors, never a panic.
#![no_main]

use hiregraph_domain::import::import_markdown;
use hiregraph_domain::postings::PostingContent;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let imported = import_markdown(text);
    if let Some(salary) = &imported.content.salary {
        assert!(salary.min <= salary.max, "the importer produced {salary:?} from {text:?}");
    }
    let _ = PostingContent::try_from(imported.content);
});
