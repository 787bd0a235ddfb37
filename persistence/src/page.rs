//! Keyset pagination: `first`/`after` and `last`/`before` over a (sort key, id) pair, with one
//! row fetched beyond the page to learn whether there is more. No OFFSET, no count.

use chrono::{DateTime, Utc};
use sea_orm::sea_query::IntoCondition;
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
    pub fn map<U>(self, f: impl Fn(T) -> U) -> Page<U> {
        Page {
            items: self.items.into_iter().map(|(t, c)| (f(t), c)).collect(),
            has_next_page: self.has_next_page,
            has_previous_page: self.has_previous_page,
        }
    }
}

/// How a list is ordered: by `sort` then `id`, both ascending or both descending.
pub struct Keyset<C> {
    pub sort: C,
    pub id: C,
    pub ascending: bool,
}

impl<C: ColumnTrait> Keyset<C> {
    /// Rows strictly beyond `cursor` in the direction `ascending`.
    fn beyond(&self, cursor: &Cursor, ascending: bool) -> Condition {
        let key: sea_orm::Value = cursor.key.clone().into();
        let (past_key, past_id) = if ascending {
            (self.sort.gt(key.clone()), self.id.gt(cursor.id))
        } else {
            (self.sort.lt(key.clone()), self.id.lt(cursor.id))
        };
        Condition::any().add(past_key).add(Condition::all().add(self.sort.eq(key)).add(past_id).into_condition())
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
        if let Some(after) = &request.after {
            select = select.filter(self.beyond(after, self.ascending));
        }
        if let Some(before) = &request.before {
            select = select.filter(self.beyond(before, !self.ascending));
        }
        // Walking backwards (`last` without `first`) reverses the query order, then the rows.
        let backwards = request.first.is_none() && request.last.is_some();
        let limit = if backwards { request.last } else { request.first }.unwrap_or(20);
        let ascending = self.ascending != backwards;
        let order = if ascending { Order::Asc } else { Order::Desc };
        select = select.order_by(self.sort, order.clone()).order_by(self.id, order).limit(limit + 1);
        let mut rows = fetch(select).await?;
        let more = rows.len() as u64 > limit;
        rows.truncate(usize::try_from(limit).unwrap_or(usize::MAX));
        if backwards {
            rows.reverse();
            Ok(Page { items: rows, has_next_page: request.before.is_some(), has_previous_page: more })
        } else {
            Ok(Page { items: rows, has_next_page: more, has_previous_page: request.after.is_some() })
        }
    }
}
