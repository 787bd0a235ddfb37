//! Keyset pagination: `first`/`after` and `last`/`before` over a (sort key, id) pair, with one
//! row fetched beyond the page to learn whether there is more. No OFFSET, no count.

use chrono::{DateTime, Utc};
use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{ColumnTrait, Condition, EntityTrait, Order, QueryFilter, QueryOrder, QuerySelect, Select};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// The value a list is sorted by.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum SortKey {
    Time(DateTime<Utc>),
    Text(String),
    /// A relevance score (higher is better).
    Score(f64),
    /// A whole amount, such as a yearly salary.
    Amount(i64),
}

impl From<SortKey> for sea_orm::Value {
    fn from(key: SortKey) -> Self {
        match key {
            SortKey::Time(t) => t.into(),
            SortKey::Text(s) => s.into(),
            SortKey::Score(x) => x.into(),
            SortKey::Amount(n) => n.into(),
        }
    }
}

/// A position in a sorted list: the sort key and the id that breaks ties.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Cursor {
    pub key: SortKey,
    pub id: Uuid,
}

/// What a client asked for. `first` and `last` are already bounded by the API.
#[derive(Debug, Clone, Default)]
pub struct PageRequest {
    pub first: Option<u64>,
    pub after: Option<Cursor>,
    pub last: Option<u64>,
    pub before: Option<Cursor>,
}

/// One page, in display order, each item with its cursor.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Page<T> {
    pub items: Vec<(T, Cursor)>,
    pub has_next_page: bool,
    pub has_previous_page: bool,
}

impl<T> Page<T> {
    pub fn map<U>(self, mut f: impl FnMut(T) -> U) -> Page<U> {
        Page {
            items: self.items.into_iter().map(|(t, c)| (f(t), c)).collect(),
            has_next_page: self.has_next_page,
            has_previous_page: self.has_previous_page,
        }
    }
}

/// How a list is ordered: by `sort` then `id`, both ascending or both descending. `sort` may be
/// a column or any expression (a relevance score, a yearly salary).
pub struct Keyset {
    pub sort: Expr,
    pub id: Expr,
    pub ascending: bool,
}

/// What a request reads: its bounds, its order and how many rows to fetch (one beyond the page).
pub struct Window {
    pub bounds: Vec<Condition>,
    pub order: Order,
    /// The page size; fetch one more to learn whether there is more.
    pub limit: u64,
    /// Walking backwards (`last` without `first`): the query runs in reverse order.
    pub backwards: bool,
}

impl Keyset {
    pub fn by(sort: impl ColumnTrait, id: impl ColumnTrait, ascending: bool) -> Self {
        Self { sort: sort.into_expr(), id: id.into_expr(), ascending }
    }

    /// Rows strictly beyond `cursor` in the direction `ascending`.
    fn beyond(&self, cursor: &Cursor, ascending: bool) -> Condition {
        let key: sea_orm::Value = cursor.key.clone().into();
        let (sort, id) = (self.sort.clone(), self.id.clone());
        let (past_key, past_id) = if ascending {
            (sort.clone().gt(key.clone()), id.gt(cursor.id))
        } else {
            (sort.clone().lt(key.clone()), id.lt(cursor.id))
        };
        Condition::any().add(past_key).add(Condition::all().add(sort.eq(key)).add(past_id))
    }

    /// The bounds, order and limit of `request` over this ordering.
    pub fn window(&self, request: &PageRequest) -> Window {
        let mut bounds = Vec::new();
        if let Some(after) = &request.after {
            bounds.push(self.beyond(after, self.ascending));
        }
        if let Some(before) = &request.before {
            bounds.push(self.beyond(before, !self.ascending));
        }
        let backwards = request.first.is_none() && request.last.is_some();
        let limit = if backwards { request.last } else { request.first }.unwrap_or(20);
        let order = if self.ascending != backwards { Order::Asc } else { Order::Desc };
        Window { bounds, order, limit, backwards }
    }

    /// Applies bounds, order and limit to `select`; `fetch` runs it and gives (item, cursor) rows
    /// in query order. Returns the page in display order.
    pub async fn page<E, T, F, Fut, Err>(
        &self,
        mut select: Select<E>,
        request: &PageRequest,
        fetch: F,
    ) -> Result<Page<T>, Err>
    where
        E: EntityTrait,
        F: FnOnce(Select<E>) -> Fut,
        Fut: std::future::Future<Output = Result<Vec<(T, Cursor)>, Err>>,
    {
        let window = self.window(request);
        for bound in window.bounds.iter().cloned() {
            select = select.filter(bound);
        }
        select = select
            .order_by(self.sort.clone(), window.order.clone())
            .order_by(self.id.clone(), window.order.clone())
            .limit(window.limit + 1);
        Ok(window.finish(fetch(select).await?, request))
    }
}

impl Window {
    /// The page from rows fetched in query order (at most `limit + 1`), in display order.
    pub fn finish<T>(&self, mut rows: Vec<(T, Cursor)>, request: &PageRequest) -> Page<T> {
        let more = rows.len() as u64 > self.limit;
        rows.truncate(usize::try_from(self.limit).unwrap_or(usize::MAX));
        if self.backwards {
            rows.reverse();
            Page { items: rows, has_next_page: request.before.is_some(), has_previous_page: more }
        } else {
            Page { items: rows, has_next_page: more, has_previous_page: request.after.is_some() }
        }
    }
}
