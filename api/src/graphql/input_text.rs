//! Text hygiene at the edge: no string input, in a variable or written into the document, may
//! carry a NUL or another C0 control character other than tab and line breaks. Postgres refuses
//! NUL in text outright and SQLite would store it; both backends must answer alike, and before
//! anything runs, naming the input that held it. Search text (`filter.query`) is the exception:
//! it is never stored, and the search parser reads control characters as spaces between words.

use async_graphql::parser::types::{ExecutableDocument, Selection, SelectionSet};
use async_graphql::{Positioned, ServerError, Value, Variables};
use async_graphql_value::Value as Literal;

use crate::error::AppError;

/// The first character of `text` that no text input may hold, if any.
pub fn forbidden_char(text: &str) -> Option<char> {
    text.chars().find(|c| (c.is_control() && !matches!(c, '\t' | '\n' | '\r')) && (*c as u32) < 0x80)
}

fn refusal(path: &str, c: char) -> ServerError {
    let error = AppError::bad_input(
        path,
        format!("contains the control character U+{:04X}; only tab and line breaks are allowed", c as u32),
    );
    async_graphql::Error::from(error).into_server_error(async_graphql::Pos::default())
}

/// Checks every variable and every string written as an argument in the document.
pub fn check(doc: &ExecutableDocument, variables: &Variables) -> Result<(), ServerError> {
    let mut walk = Walk::default();
    for (_, op) in doc.operations.iter() {
        for variable in &op.node.variable_definitions {
            if let Some(default) = &variable.node.default_value {
                constant(&default.node, &mut format!("${}", variable.node.name.node), &walk)?;
            }
        }
        walk.selections(&op.node.selection_set)?;
    }
    for fragment in doc.fragments.values() {
        walk.selections(&fragment.node.selection_set)?;
    }
    for (name, value) in variables.iter() {
        constant(value, &mut format!("${name}"), &walk)?;
    }
    Ok(())
}

/// What the document's walk learnt about where variables are used.
#[derive(Default)]
struct Walk {
    /// Variables given as search text (`filter: { query: $q }`).
    search_text: Vec<String>,
    /// Variables given as a whole filter (`filter: $f`), whose `query` is search text.
    filters: Vec<String>,
}

/// Search text: the `query` of a `filter` argument.
fn is_search_text(path: &str) -> bool {
    path.ends_with(".filter.query")
}

impl Walk {
    fn exempt(&self, path: &str) -> bool {
        is_search_text(path)
            || path.strip_prefix('$').is_some_and(|var| {
                self.search_text.iter().any(|v| v == var)
                    || var.strip_suffix(".query").is_some_and(|f| self.filters.iter().any(|v| v == f))
            })
    }

    fn selections(&mut self, set: &Positioned<SelectionSet>) -> Result<(), ServerError> {
        for selection in &set.node.items {
            match &selection.node {
                Selection::Field(field) => {
                    for (name, value) in &field.node.arguments {
                        self.literal(&value.node, &mut format!("{}.{}", field.node.name.node, name.node))?;
                    }
                    self.selections(&field.node.selection_set)?;
                }
                Selection::InlineFragment(inline) => self.selections(&inline.node.selection_set)?,
                // Fragments are checked once each, from the document's list of them.
                Selection::FragmentSpread(_) => {}
            }
        }
        Ok(())
    }

    fn literal(&mut self, value: &Literal, path: &mut String) -> Result<(), ServerError> {
        match value {
            Literal::String(s) if !is_search_text(path) => forbidden_char(s).map_or(Ok(()), |c| Err(refusal(path, c))),
            Literal::Variable(name) if is_search_text(path) => {
                self.search_text.push(name.to_string());
                Ok(())
            }
            Literal::Variable(name) if path.ends_with(".filter") => {
                self.filters.push(name.to_string());
                Ok(())
            }
            Literal::List(items) => nested(items.iter().enumerate(), path, |v, p| self.literal(v, p)),
            Literal::Object(fields) => nested(fields.iter(), path, |v, p| self.literal(v, p)),
            _ => Ok(()),
        }
    }
}

fn constant(value: &Value, path: &mut String, walk: &Walk) -> Result<(), ServerError> {
    match value {
        Value::String(s) if !walk.exempt(path) => forbidden_char(s).map_or(Ok(()), |c| Err(refusal(path, c))),
        Value::List(items) => nested(items.iter().enumerate(), path, |v, p| constant(v, p, walk)),
        Value::Object(fields) => nested(fields.iter(), path, |v, p| constant(v, p, walk)),
        _ => Ok(()),
    }
}

/// Walks the members of a list or object, each under its own path segment.
fn nested<K: std::fmt::Display, V>(
    members: impl Iterator<Item = (K, V)>,
    path: &mut String,
    mut check: impl FnMut(V, &mut String) -> Result<(), ServerError>,
) -> Result<(), ServerError> {
    for (key, value) in members {
        let len = path.len();
        path.push('.');
        path.push_str(&key.to_string());
        check(value, path)?;
        path.truncate(len);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_tab_and_line_breaks_pass() {
        assert_eq!(forbidden_char("a\tb\nc\r\n"), None);
        assert_eq!(forbidden_char("naïve — 東京"), None);
        assert_eq!(forbidden_char("a\u{0}b"), Some('\u{0}'));
        assert_eq!(forbidden_char("\u{1b}[31m"), Some('\u{1b}'));
        assert_eq!(forbidden_char("\u{7f}"), Some('\u{7f}'));
    }

    #[test]
    fn the_refusal_names_the_input() {
        let doc = async_graphql::parser::parse_query(
            "mutation($input: CreatePostingInput!) { a: createPosting(input: $input) { posting { id } } company(slug: \"x\\u0000\") { id } }",
        )
        .unwrap();
        let none = Variables::default();
        let err = check(&doc, &none).unwrap_err();
        assert!(err.message.starts_with("company.slug:"), "{}", err.message);
        let vars = Variables::from_json(
            serde_json::json!({ "input": { "skills": [{ "name": "Go" }, { "name": "R\u{0}" }] } }),
        );
        let doc = async_graphql::parser::parse_query("query($input: X) { __typename }").unwrap();
        let err = check(&doc, &vars).unwrap_err();
        assert!(err.message.starts_with("$input.skills.1.name:"), "{}", err.message);
    }

    #[test]
    fn search_text_is_left_to_the_search_parser() {
        let parse = |q: &str| async_graphql::parser::parse_query(q).unwrap();
        let none = Variables::default();
        assert!(check(&parse("{ postings(filter: { query: \"go\\u0000lang\" }) { totalCount } }"), &none).is_ok());
        let vars = Variables::from_json(serde_json::json!({ "q": "go\u{0}lang", "f": { "query": "a\u{7}b" } }));
        let doc = parse(
            "query($q: String, $f: PostingFilter) { a: postings(filter: { query: $q }) { totalCount } b: postings(filter: $f) { totalCount } }",
        );
        assert!(check(&doc, &vars).is_ok());
        // Other strings in the same filter are still refused.
        let doc = parse("{ postings(filter: { query: \"go\", skills: [\"R\\u0000\"] }) { totalCount } }");
        assert!(check(&doc, &none).unwrap_err().message.starts_with("postings.filter.skills.0:"));
    }
}
