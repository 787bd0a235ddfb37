//! Request limits enforced before the schema sees a request, and the codes of errors raised
//! before execution (so the HTTP layer can answer 400 for a request that never executed, as
//! GraphQL over HTTP asks).
//!
//! Every limit is measured in time linear in the document: the raw text is counted in tokens
//! before it is parsed, and each fragment is measured once and its size memoised, so a fragment
//! that spreads another twice, thirty levels down, costs thirty steps, not 2³⁰. A document is
//! refused before async-graphql's own walks (recursive depth, complexity, validation), which follow
//! every spread and would otherwise do the exponential work for us.

use std::collections::{HashMap, HashSet};

use async_graphql::parser::types::{Directive, ExecutableDocument, Selection, SelectionSet};
use async_graphql::{Name, Positioned, Request, Response, ServerError, ServerResult};

use crate::graphql::input_text;
use crate::settings;

/// The directives a client may write in an executable document.
const EXECUTABLE_DIRECTIVES: &[&str] = &["include", "skip"];

/// Nesting our own walk follows before it refuses (selection sets and fragment spreads alike);
/// far above any real query, far below what the stack holds.
const MAX_NESTING: usize = 128;

fn coded(mut error: ServerError, code: &str) -> ServerError {
    let mut ext = error.extensions.take().unwrap_or_default();
    if ext.get("code").is_none() {
        ext.set("code", code);
    }
    error.extensions = Some(ext);
    error
}

fn too_complex(message: String) -> ServerError {
    coded(ServerError::new(message, None), "QUERY_TOO_COMPLEX")
}

/// Checks a request before the schema sees it: tokens on the raw text, then the parsed
/// document's shape and its text inputs. The parsed document stays in the request, so the schema
/// does not parse it again, and a document admitted before is taken from `documents` instead of
/// parsed and measured again (its text inputs, which depend on the variables, are still checked).
///
/// This runs ahead of `Schema::execute` rather than as an extension: with any extension
/// registered, async-graphql sends every field of every response through the extension chain,
/// which cost a tenth of the CPU of a page of 100 postings (bench/README.md).
pub fn admit(request: &mut Request, limits: &settings::Limits, documents: &Documents) -> Result<(), ServerError> {
    if let Some(doc) = documents.get(&request.query) {
        input_text::check(&doc, &request.variables)?;
        request.set_parsed_query(ExecutableDocument::clone(&doc));
        return Ok(());
    }
    if let Err(seen) = count_tokens(&request.query, limits.max_tokens) {
        return Err(too_complex(format!(
            "the document has more than {seen} tokens; the limit is {}",
            limits.max_tokens
        )));
    }
    // The document borrows the request; its text and variables are lent out meanwhile.
    let variables = std::mem::take(&mut request.variables);
    let text = std::mem::take(&mut request.query);
    let doc =
        async_graphql::parser::parse_query(&text).map_err(|e| coded(ServerError::from(e), "GRAPHQL_PARSE_FAILED"));
    let checked = doc.and_then(|doc| {
        Shape::measure(&doc).and_then(|shape| shape.check(limits))?;
        documents.put(&text, &doc);
        let inputs = input_text::check(&doc, &variables);
        request.set_parsed_query(doc);
        inputs
    });
    request.query = text;
    request.variables = variables;
    checked
}

/// The documents this server admitted lately, parsed, by their text: clients send the same few
/// documents again and again, and parsing one cost a fifth of the CPU of a cached posting by id
/// (bench/README.md). Least recently used first out, within a count and a total of text, so
/// hostile documents can only push out others, never grow the heap.
pub struct Documents {
    kept: std::sync::Mutex<(lru::LruCache<String, std::sync::Arc<ExecutableDocument>>, usize)>,
    /// Requests that found their document kept.
    pub hits: std::sync::atomic::AtomicU64,
}

impl Documents {
    /// Documents kept at most.
    const COUNT: usize = 256;
    /// Bytes of document text kept at most (what the parsed documents take is a few times more).
    const TEXT: usize = 512 * 1024;
    /// A longer document is parsed each time: few clients send one, and it would push out many.
    const LONGEST: usize = 16 * 1024;

    fn get(&self, text: &str) -> Option<std::sync::Arc<ExecutableDocument>> {
        let doc = self.kept.lock().ok()?.0.get(text).cloned()?;
        self.hits.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        Some(doc)
    }

    fn put(&self, text: &str, doc: &ExecutableDocument) {
        if text.len() > Self::LONGEST {
            return;
        }
        let Ok(mut kept) = self.kept.lock() else { return };
        let (lru, bytes) = &mut *kept;
        if lru.contains(text) {
            return;
        }
        while *bytes + text.len() > Self::TEXT
            && let Some((gone, _)) = lru.pop_lru()
        {
            *bytes -= gone.len();
        }
        if let Some((gone, _)) = lru.push(text.to_owned(), std::sync::Arc::new(doc.clone())) {
            *bytes -= gone.len();
        }
        *bytes += text.len();
    }

    /// How many documents are kept, and their text's bytes.
    pub fn size(&self) -> (usize, usize) {
        self.kept.lock().map(|kept| (kept.0.len(), kept.1)).unwrap_or_default()
    }
}

impl Default for Documents {
    fn default() -> Self {
        let count = std::num::NonZeroUsize::new(Self::COUNT).unwrap_or(std::num::NonZeroUsize::MIN);
        Self { kept: std::sync::Mutex::new((lru::LruCache::new(count), 0)), hits: Default::default() }
    }
}

/// Codes the errors of a response that never reached execution (validation, the operation's
/// choice): those have no path and leave no data. Says whether the response is one of those,
/// which GraphQL over HTTP answers with 400.
pub fn code_request_errors(response: &mut Response) -> bool {
    let before_execution = response.is_err()
        && response.data == async_graphql::Value::Null
        && response.errors.iter().all(|e| e.path.is_empty());
    if before_execution {
        for error in &mut response.errors {
            let code = if error.message.contains("too complex") {
                "QUERY_TOO_COMPLEX"
            } else if error.message.starts_with("Unknown operation")
                || error.message.starts_with("Operation name required")
            {
                "BAD_USER_INPUT"
            } else {
                "GRAPHQL_VALIDATION_FAILED"
            };
            *error = coded(std::mem::replace(error, ServerError::new("", None)), code);
        }
    }
    before_execution
}

/// Counts the lexical tokens of a GraphQL document (punctuators, names, numbers, strings),
/// stopping as soon as there are more than `max`: `Err(count)` then. Whitespace, commas and
/// comments are not tokens. Anything the lexer does not know counts as one token and is left to
/// the parser to refuse.
pub fn count_tokens(text: &str, max: usize) -> Result<usize, usize> {
    let bytes = text.as_bytes();
    let mut i = 0;
    let mut count = 0;
    while i < bytes.len() {
        let b = bytes[i];
        match b {
            b' ' | b'\t' | b'\n' | b'\r' | b',' => {
                i += 1;
                continue;
            }
            b'#' => {
                while i < bytes.len() && bytes[i] != b'\n' && bytes[i] != b'\r' {
                    i += 1;
                }
                continue;
            }
            b'"' if bytes[i..].starts_with(b"\"\"\"") => {
                i += 3;
                while i < bytes.len() && !bytes[i..].starts_with(b"\"\"\"") {
                    i += if bytes[i..].starts_with(b"\\\"\"\"") { 4 } else { 1 };
                }
                i += 3;
            }
            b'"' => {
                i += 1;
                while i < bytes.len() && bytes[i] != b'"' && bytes[i] != b'\n' {
                    i += if bytes[i] == b'\\' { 2 } else { 1 };
                }
                i += 1;
            }
            b'.' if bytes[i..].starts_with(b"...") => i += 3,
            b'_' | b'a'..=b'z' | b'A'..=b'Z' => {
                while i < bytes.len() && (bytes[i].is_ascii_alphanumeric() || bytes[i] == b'_') {
                    i += 1;
                }
            }
            b'-' | b'0'..=b'9' => {
                i += 1;
                while i < bytes.len() && (bytes[i].is_ascii_alphanumeric() || matches!(bytes[i], b'.' | b'+' | b'-')) {
                    i += 1;
                }
            }
            // A byte-order mark is ignored like white space.
            0xEF if bytes[i..].starts_with(&[0xEF, 0xBB, 0xBF]) => {
                i += 3;
                continue;
            }
            _ => i += 1,
        }
        count += 1;
        if count > max {
            return Err(count);
        }
    }
    Ok(count)
}

/// What a document asks for once its fragments are expanded.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Size {
    /// Fields selected, counting a fragment's fields at every place it is spread.
    pub selections: u64,
    pub aliases: u64,
    pub directives: u64,
    /// Deepest field nesting, introspection subtrees excepted (GraphiQL's own query must pass).
    pub depth: u64,
}

impl Size {
    fn absorb(&mut self, other: Size, depth_offset: u64) {
        self.selections = self.selections.saturating_add(other.selections);
        self.aliases = self.aliases.saturating_add(other.aliases);
        self.directives = self.directives.saturating_add(other.directives);
        self.depth = self.depth.max(other.depth.saturating_add(depth_offset));
    }
}

/// The expanded size of a whole document (every operation), and what measuring it cost.
#[derive(Debug)]
pub struct Shape {
    pub size: Size,
    /// Fragment spreads written in the document.
    pub spreads: u64,
    /// Selections our walk visited: at most the number written, whatever the expansion.
    pub visits: u64,
}

impl Shape {
    /// Measures a document, refusing unknown directives and fragment cycles on the way.
    pub fn measure(doc: &ExecutableDocument) -> ServerResult<Shape> {
        let mut walk = Walk { doc, memo: HashMap::new(), open: HashSet::new(), spreads: 0, visits: 0 };
        let mut size = Size::default();
        for (_, op) in doc.operations.iter() {
            walk.directives(&op.node.directives)?;
            for variable in &op.node.variable_definitions {
                walk.directives(&variable.node.directives)?;
            }
            size.absorb(walk.set(&op.node.selection_set, 0)?, 0);
            size.directives = size.directives.saturating_add(op.node.directives.len() as u64);
        }
        // Fragments no operation spreads are refused by validation; they are still checked here.
        for name in doc.fragments.keys() {
            walk.fragment(name, 0)?;
        }
        Ok(Shape { size, spreads: walk.spreads, visits: walk.visits })
    }

    /// Refuses a document over any limit, naming the count, the limit and the setting.
    pub fn check(&self, limits: &settings::Limits) -> ServerResult<()> {
        let size = &self.size;
        let checks = [
            ("spreads fragments", self.spreads, limits.max_fragment_spreads, "HIREGRAPH_MAX_FRAGMENT_SPREADS"),
            (
                "selects, once its fragments are expanded, fields numbering",
                size.selections,
                limits.max_selections,
                "HIREGRAPH_MAX_SELECTIONS",
            ),
            ("is nested levels deep:", size.depth, limits.max_depth, "HIREGRAPH_MAX_DEPTH"),
            ("uses aliases numbering", size.aliases, limits.max_aliases, "HIREGRAPH_MAX_ALIASES"),
            ("uses directives numbering", size.directives, limits.max_directives, "HIREGRAPH_MAX_DIRECTIVES"),
        ];
        match checks.into_iter().find(|(_, value, limit, _)| *value > *limit as u64) {
            Some((what, value, limit, setting)) => {
                Err(too_complex(format!("the query {what} {value}; the limit is {limit} ({setting})")))
            }
            None => Ok(()),
        }
    }
}

struct Walk<'d> {
    doc: &'d ExecutableDocument,
    memo: HashMap<&'d Name, Size>,
    /// Fragments being measured: meeting one again is a cycle.
    open: HashSet<&'d Name>,
    spreads: u64,
    visits: u64,
}

fn invalid(message: String) -> ServerError {
    coded(ServerError::new(message, None), "GRAPHQL_VALIDATION_FAILED")
}

impl<'d> Walk<'d> {
    fn directives(&self, list: &[Positioned<Directive>]) -> ServerResult<()> {
        for directive in list {
            let name = directive.node.name.node.as_str();
            if !EXECUTABLE_DIRECTIVES.contains(&name) {
                return Err(coded(
                    ServerError::new(format!("unknown directive @{name}"), Some(directive.pos)),
                    "GRAPHQL_VALIDATION_FAILED",
                ));
            }
        }
        Ok(())
    }

    fn set(&mut self, set: &'d Positioned<SelectionSet>, nesting: usize) -> ServerResult<Size> {
        if nesting > MAX_NESTING {
            return Err(too_complex(format!("the query nests selections more than {MAX_NESTING} levels deep")));
        }
        let mut size = Size::default();
        for selection in &set.node.items {
            self.visits += 1;
            match &selection.node {
                Selection::Field(field) => {
                    let field = &field.node;
                    self.directives(&field.directives)?;
                    let below = self.set(&field.selection_set, nesting + 1)?;
                    let introspection = matches!(field.name.node.as_str(), "__schema" | "__type");
                    let own = Size {
                        selections: 1,
                        aliases: u64::from(field.alias.is_some()),
                        directives: field.directives.len() as u64,
                        depth: 1,
                    };
                    size.absorb(own, 0);
                    size.absorb(Size { depth: if introspection { 0 } else { below.depth }, ..below }, 1);
                }
                Selection::InlineFragment(inline) => {
                    self.directives(&inline.node.directives)?;
                    let below = self.set(&inline.node.selection_set, nesting + 1)?;
                    size.absorb(below, 0);
                    size.directives = size.directives.saturating_add(inline.node.directives.len() as u64);
                }
                Selection::FragmentSpread(spread) => {
                    self.spreads += 1;
                    self.directives(&spread.node.directives)?;
                    let below = self.fragment(&spread.node.fragment_name.node, nesting + 1)?;
                    size.absorb(below, 0);
                    size.directives = size.directives.saturating_add(spread.node.directives.len() as u64);
                }
            }
        }
        Ok(size)
    }

    /// A fragment's size, measured the first time it is met and remembered after.
    fn fragment(&mut self, name: &'d Name, nesting: usize) -> ServerResult<Size> {
        if let Some(size) = self.memo.get(name) {
            return Ok(*size);
        }
        // An unknown fragment is left to validation, which names it.
        let Some((name, fragment)) = self.doc.fragments.get_key_value(name) else { return Ok(Size::default()) };
        if !self.open.insert(name) {
            return Err(invalid(format!("fragment {name} spreads itself")));
        }
        self.directives(&fragment.node.directives)?;
        let mut size = self.set(&fragment.node.selection_set, nesting)?;
        size.directives = size.directives.saturating_add(fragment.node.directives.len() as u64);
        self.open.remove(name);
        self.memo.insert(name, size);
        Ok(size)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use async_graphql::Variables;

    fn bomb(levels: usize) -> String {
        let mut doc = format!("query {{ ...F{levels} }} fragment F0 on Query {{ __typename }}");
        for i in 1..=levels {
            doc.push_str(&format!(" fragment F{i} on Query {{ ...F{p} ...F{p} }}", p = i - 1));
        }
        doc
    }

    fn shape(doc: &str) -> Shape {
        Shape::measure(&async_graphql::parser::parse_query(doc).unwrap()).unwrap()
    }

    #[test]
    fn a_fragment_bomb_is_measured_in_steps_linear_in_its_text() {
        for levels in [10, 30, 40, 62] {
            let doc = bomb(levels);
            let shape = shape(&doc);
            assert_eq!(shape.size.selections, 1u64 << levels, "{levels} levels");
            // Each selection written is visited once (the operation's, and each fragment's two).
            assert_eq!(shape.visits, 1 + 1 + 2 * levels as u64, "{levels} levels");
            let tokens = count_tokens(&doc, usize::MAX).unwrap();
            assert!(shape.visits < tokens as u64, "{} visits for {tokens} tokens", shape.visits);
        }
        // Past 2⁶⁴ the count saturates instead of wrapping round to something small.
        assert_eq!(shape(&bomb(70)).size.selections, u64::MAX);
    }

    #[test]
    fn sizes_follow_fragments_as_the_executor_would() {
        let s = shape(
            "{ a: postings { edges { node { ...P } } } b: postings { edges { node { ...P } } } } fragment P on Posting { id t: title company { name } }",
        );
        // 2 × (postings, edges, node) + 2 × (id, title, company, name)
        assert_eq!(s.size.selections, 6 + 8);
        assert_eq!(s.size.aliases, 2 + 2);
        assert_eq!(s.size.depth, 5);
        assert_eq!(s.spreads, 2);
        let introspection = shape("{ __schema { types { fields { type { ofType { ofType { name } } } } } } }");
        assert_eq!(introspection.size.depth, 1, "introspection subtrees do not count towards depth");
    }

    #[test]
    fn unknown_directives_and_fragment_cycles_are_refused() {
        for doc in [
            "{ viewer @aa { id } }",
            "query Q @aa { viewer { id } }",
            "query Q($x: Int @aa) { viewer { id } }",
            "{ ...F } fragment F on Query @aa { viewer { id } }",
            "{ ...F @deprecated }  fragment F on Query { viewer { id } }",
        ] {
            let doc = async_graphql::parser::parse_query(doc).unwrap();
            let err = Shape::measure(&doc).unwrap_err();
            assert!(err.message.contains("unknown directive"), "{}", err.message);
        }
        let cycle =
            async_graphql::parser::parse_query("{ ...A } fragment A on Query { ...B } fragment B on Query { ...A }")
                .unwrap();
        assert!(Shape::measure(&cycle).unwrap_err().message.contains("spreads itself"));
        assert!(shape("{ viewer @include(if: true) { id @skip(if: false) } }").size.directives == 2);
    }

    #[test]
    fn tokens_are_counted_as_graphql_lexes_them() {
        assert_eq!(count_tokens("{ a(b: \"x, y { }\") }", 100), Ok(8));
        assert_eq!(count_tokens("# a comment { { {\n{ a, b, c }", 100), Ok(5));
        assert_eq!(count_tokens(r#"{ a(b: """block \""" { } """, c: -1.5e3) ...F }"#, 100), Ok(13));
        assert_eq!(count_tokens(&"{ a ".repeat(1001), 2000), Err(2001), "counting stops past the limit");
    }

    fn limits() -> settings::Limits {
        settings::Limits {
            max_depth: 12,
            max_complexity: 1000,
            max_aliases: 30,
            max_selections: 1000,
            max_tokens: 2000,
            max_fragment_spreads: 100,
            max_directives: 50,
            max_body_bytes: 1 << 20,
            max_batch: 10,
        }
    }

    #[test]
    fn an_admitted_document_is_parsed_once_and_its_inputs_checked_every_time() {
        let documents = Documents::default();
        let text = "query($s: String!) { company(slug: $s) { name } }";
        let request = |slug: &str| Request::new(text).variables(Variables::from_json(serde_json::json!({ "s": slug })));
        let mut first = request("acme");
        admit(&mut first, &limits(), &documents).unwrap();
        assert_eq!(documents.size(), (1, text.len()));
        let mut again = request("globex");
        admit(&mut again, &limits(), &documents).unwrap();
        assert_eq!(documents.size(), (1, text.len()));
        assert_eq!(documents.hits.load(std::sync::atomic::Ordering::Relaxed), 1, "the second request found it kept");
        assert_eq!(
            format!("{:?}", again.parsed_query().unwrap()),
            format!("{:?}", first.parsed_query().unwrap()),
            "and runs the same document"
        );
        // Kept, the document still checks what varies: a NUL in a variable is refused.
        let err = admit(&mut request("a\u{0}b"), &limits(), &documents).unwrap_err();
        assert!(err.message.starts_with("$s:"), "{}", err.message);
        // A document refused is not kept, and is refused again.
        let mut strict = limits();
        strict.max_depth = 2;
        let deep = "{ company(slug: \"x\") { postings { edges { node { title } } } } }";
        assert!(admit(&mut Request::new(deep), &strict, &documents).is_err());
        assert!(admit(&mut Request::new(deep), &strict, &documents).is_err());
        assert_eq!(documents.size().0, 1);
        // Nor is a document that does not parse.
        let err = admit(&mut Request::new("{ company("), &limits(), &documents).unwrap_err();
        assert_eq!(
            err.extensions.and_then(|e| e.get("code").cloned()),
            Some(async_graphql::Value::from("GRAPHQL_PARSE_FAILED"))
        );
        assert_eq!(documents.size().0, 1);
    }

    #[test]
    fn kept_documents_stay_within_their_count_and_text() {
        let documents = Documents::default();
        // Many distinct documents, as a hostile client would send: the oldest make room.
        for n in 0..2000 {
            let text = format!("{{ a{n}: __typename }}");
            admit(&mut Request::new(text), &limits(), &documents).unwrap();
        }
        assert_eq!(documents.size().0, Documents::COUNT);
        // Long ones: the total text stays bounded too, and the longest are never kept.
        let long = |n: usize, fields: usize| {
            let mut text = format!("{{ x{n}: __typename");
            for i in 0..fields {
                text.push_str(&format!(" f{i}_{}: __typename", "y".repeat(20)));
            }
            text + " }"
        };
        let mut lax = limits();
        (lax.max_aliases, lax.max_selections, lax.max_tokens) = (10_000, 10_000, 10_000);
        for n in 0..200 {
            admit(&mut Request::new(long(n, 120)), &lax, &documents).unwrap();
        }
        let (count, bytes) = documents.size();
        assert!(bytes <= Documents::TEXT && count < Documents::COUNT, "{count} documents, {bytes} bytes");
        let longest = long(0, 700);
        assert!(longest.len() > Documents::LONGEST);
        admit(&mut Request::new(longest), &lax, &documents).unwrap();
        assert_eq!(documents.size(), (count, bytes));
    }
}
