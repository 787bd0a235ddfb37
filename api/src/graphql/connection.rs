//! Relay connections over keyset pages: argument checks, cursors, and `pageInfo`.

use async_graphql::OutputType;
use async_graphql::connection::{Connection, Edge, EmptyFields};
use hiregraph_persistence::page::{Page, PageRequest};

use super::ids::{decode_cursor, encode_cursor};
use crate::error::AppError;

/// The most items one page may hold.
pub const MAX_PAGE: i32 = 100;
/// The page size when neither `first` nor `last` is given.
pub const DEFAULT_PAGE: i32 = 20;

/// Checks `first`/`after`/`last`/`before` and turns them into a keyset request.
pub fn page_request(
    first: Option<i32>,
    after: Option<String>,
    last: Option<i32>,
    before: Option<String>,
) -> Result<PageRequest, AppError> {
    if first.is_some() && last.is_some() {
        return Err(AppError::bad_input("last", "pass first or last, not both"));
    }
    let bound = |name: &str, n: Option<i32>| match n {
        Some(n) if !(0..=MAX_PAGE).contains(&n) => {
            Err(AppError::bad_input(name, format!("must be between 0 and {MAX_PAGE}, was {n}")))
        }
        Some(n) => Ok(Some(u64::try_from(n).unwrap_or(0))),
        None => Ok(None),
    };
    let mut request = PageRequest {
        first: bound("first", first)?,
        after: after.as_deref().map(|a| decode_cursor(a, "after")).transpose()?,
        last: bound("last", last)?,
        before: before.as_deref().map(|b| decode_cursor(b, "before")).transpose()?,
    };
    if request.first.is_none() && request.last.is_none() {
        request.first = Some(DEFAULT_PAGE as u64);
    }
    Ok(request)
}

/// The cost multiplier for a list field: how many items it may return.
pub fn page_size(first: Option<i32>, last: Option<i32>) -> usize {
    usize::try_from(first.or(last).unwrap_or(DEFAULT_PAGE).clamp(0, MAX_PAGE)).unwrap_or(0)
}

/// Builds a connection of `nodes` (in page order, missing ones dropped by the caller).
pub fn build<N: OutputType, F: async_graphql::ObjectType>(
    page: Page<N>,
    fields: F,
) -> Connection<String, N, F, EmptyFields> {
    let mut connection = Connection::with_additional_fields(page.has_previous_page, page.has_next_page, fields);
    connection.edges.extend(page.items.into_iter().map(|(node, cursor)| Edge::new(encode_cursor(&cursor), node)));
    connection
}
