//! Postings and their child rows (locations, skills, benefits, responsibilities and
//! qualifications). Loads are batched: one query per table for any number of postings. Writes
//! are too: the child rows of any number of postings take at most one DELETE and one multi-row
//! INSERT per child table, and only tables whose lists changed are touched.

use chrono::{DateTime, Utc};
use hiregraph_domain::applications::ApplicationStatus;
use hiregraph_domain::matching::PostingFacts;
use hiregraph_domain::postings::{
    EmploymentType, Posting, PostingContent, PostingSkill, PostingStatus, Seniority, Workplace,
};
use hiregraph_domain::search::TextQuery;
use hiregraph_domain::values::{CountryCode, CurrencyCode, Location, SalaryPeriod, SalaryRange};
use hiregraph_domain::{CompanyId, PostingId};
use sea_orm::QueryTrait;
use sea_orm::sea_query::{Alias, Expr, ExprTrait, JoinType, Query};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, Condition, ConnectionTrait, DatabaseBackend, EntityTrait, PaginatorTrait,
    QueryFilter, QueryOrder, QuerySelect, Select, Statement,
};
use uuid::Uuid;

use crate::entities::{companies, posting_benefits, posting_items, posting_locations, posting_skills, postings};
use crate::error::StoreError;
use crate::page::{Cursor, Keyset, Page, PageRequest, SortKey};
use crate::semantic::Near;

const RESPONSIBILITY: &str = "RESPONSIBILITY";
const REQUIRED: &str = "REQUIRED";
const PREFERRED: &str = "PREFERRED";

fn parse_opt<T>(raw: Option<&str>, parse: impl Fn(&str) -> Option<T>, what: &str) -> Result<Option<T>, StoreError> {
    raw.map(|r| parse(r).ok_or_else(|| StoreError::corrupt(format!("{what} {r}")))).transpose()
}

/// A posting's child rows as `postings.children` holds them (the read model, written with the
/// child rows in one transaction; migration `m20261202_000001` describes the form): each list an
/// array of tuples starting with the row's position, booleans as 0/1.
#[derive(Default, serde::Serialize, serde::Deserialize)]
struct Children {
    locations: Vec<StoredLocation>,
    /// (position, name, required)
    skills: Vec<(i32, String, u8)>,
    /// (position, text)
    benefits: Vec<(i32, String)>,
    /// (kind, position, text)
    items: Vec<(String, i32, String)>,
}

impl Children {
    fn of(content: &PostingContent) -> Self {
        let n = |i: usize| position(i);
        let lists = [
            (RESPONSIBILITY, &content.responsibilities),
            (REQUIRED, &content.required_qualifications),
            (PREFERRED, &content.preferred_qualifications),
        ];
        Self {
            locations: content
                .locations
                .iter()
                .enumerate()
                .map(|(i, l)| {
                    let (city, region) = (l.city().map(str::to_owned), l.region().map(str::to_owned));
                    (n(i), city, region, l.country().as_str().to_owned(), u8::from(l.is_remote()))
                })
                .collect(),
            skills: content
                .skills
                .iter()
                .enumerate()
                .map(|(i, s)| (n(i), s.name.clone(), u8::from(s.required)))
                .collect(),
            benefits: content.benefits.iter().enumerate().map(|(i, b)| (n(i), b.clone())).collect(),
            items: lists
                .iter()
                .flat_map(|(kind, texts)| texts.iter().enumerate().map(|(i, t)| ((*kind).to_owned(), n(i), t.clone())))
                .collect(),
        }
    }

    fn encode(content: &PostingContent) -> String {
        serde_json::to_string(&Self::of(content)).unwrap_or_else(|_| "{}".to_owned())
    }

    fn decode(row: &postings::Model) -> Result<Self, StoreError> {
        let json = row
            .children
            .as_deref()
            .ok_or_else(|| StoreError::corrupt(format!("posting {} has no children document", row.id)))?;
        serde_json::from_str(json).map_err(|e| StoreError::corrupt(format!("posting {} children: {e}", row.id)))
    }
}

/// (position, city, region, country, remote)
type StoredLocation = (i32, Option<String>, Option<String>, String, u8);

/// A postings row as the domain posting, its child data from the read model.
fn decode(row: postings::Model) -> Result<Posting, StoreError> {
    let children = Children::decode(&row)?;
    assemble(row, children)
}

/// Maps a postings row and its child rows to the domain posting.
fn assemble(row: postings::Model, mut children: Children) -> Result<Posting, StoreError> {
    let salary = match (row.salary_min, row.salary_max, &row.salary_currency, &row.salary_period) {
        (Some(min), Some(max), Some(currency), Some(period)) => {
            let period = SalaryPeriod::parse(period).ok_or_else(|| StoreError::corrupt(format!("period {period}")))?;
            Some(SalaryRange::new(min, max, currency, period).map_err(StoreError::corrupt)?)
        }
        _ => None,
    };
    children.items.sort_by_key(|i| i.1);
    let texts = |kind: &str| children.items.iter().filter(|i| i.0 == kind).map(|i| i.2.clone()).collect::<Vec<_>>();
    children.locations.sort_by_key(|l| l.0);
    children.skills.sort_by_key(|s| s.0);
    children.benefits.sort_by_key(|b| b.0);
    let content = PostingContent {
        title: row.title,
        summary: row.summary,
        description: row.description,
        responsibilities: texts(RESPONSIBILITY),
        required_qualifications: texts(REQUIRED),
        preferred_qualifications: texts(PREFERRED),
        employment_type: parse_opt(row.employment_type.as_deref(), EmploymentType::parse, "employment type")?,
        seniority: parse_opt(row.seniority.as_deref(), Seniority::parse, "seniority")?,
        min_years_experience: row.min_years_experience,
        workplace: parse_opt(row.workplace.as_deref(), Workplace::parse, "workplace")?,
        locations: children
            .locations
            .into_iter()
            .map(|(_, city, region, country, remote)| {
                Location::new(city.as_deref(), region.as_deref(), &country, remote != 0).map_err(StoreError::corrupt)
            })
            .collect::<Result<_, _>>()?,
        salary,
        equity: row.equity,
        skills: children
            .skills
            .into_iter()
            .map(|(_, name, required)| PostingSkill { name, required: required != 0 })
            .collect(),
        benefits: children.benefits.into_iter().map(|(_, text)| text).collect(),
        expires_at: row.expires_at,
    };
    Ok(Posting {
        id: PostingId(row.id),
        company_id: CompanyId(row.company_id),
        slug: row.slug,
        content,
        status: PostingStatus::parse(&row.status)
            .ok_or_else(|| StoreError::corrupt(format!("status {}", row.status)))?,
        published_at: row.published_at,
        version: row.version,
        created_at: row.created_at,
        updated_at: row.updated_at,
    })
}

/// The prefix of a joined company's columns.
const COMPANY: &str = "company_";

/// Joins each posting's company into a select over `postings`, its columns as `company_<column>`.
fn join_companies(select: &mut sea_orm::sea_query::SelectStatement) {
    use sea_orm::{IdenStatic, Iterable};
    select.join(
        JoinType::InnerJoin,
        companies::Entity,
        Expr::col((companies::Entity, companies::Column::Id)).equals((postings::Entity, postings::Column::CompanyId)),
    );
    for column in companies::Column::iter() {
        select.expr_as(Expr::col((companies::Entity, column)), Alias::new(format!("{COMPANY}{}", column.as_str())));
    }
}

/// Postings and the companies they belong to, as one statement returns them.
#[derive(Debug, Default)]
pub struct WithCompanies {
    pub postings: Vec<Posting>,
    /// One per posting, in the same order (a company of several postings comes several times).
    pub companies: Vec<hiregraph_domain::companies::Company>,
}

impl WithCompanies {
    /// Reads a row of `join_companies`, by position: the posting's columns, then the company's.
    fn push(&mut self, row: &sea_orm::QueryResult) -> Result<(), StoreError> {
        self.postings.push(decode(postings::by_index(row, 0)?)?);
        self.companies.push(crate::companies::to_domain(companies::by_index(row, postings::FIELDS.len())?)?);
        Ok(())
    }
}

/// Postings with all their child data and their companies, in no particular order: one statement
/// whatever the count.
pub async fn find_with_companies(ids: &[PostingId], conn: &impl ConnectionTrait) -> Result<WithCompanies, StoreError> {
    let mut found = WithCompanies::default();
    if ids.is_empty() {
        return Ok(found);
    }
    let backend = conn.get_database_backend();
    let mut select = postings::Entity::find().filter(postings::Column::Id.is_in(ids.iter().map(|i| i.0))).into_query();
    join_companies(&mut select);
    for row in conn.query_all_raw(backend.build(&select)).await? {
        found.push(&row)?;
    }
    Ok(found)
}

/// Postings with all their child data, in no particular order: one plain statement whatever the
/// count (the child data is the row's read model).
pub async fn find_by_ids(ids: &[PostingId], conn: &impl ConnectionTrait) -> Result<Vec<Posting>, StoreError> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let rows = postings::Entity::find().filter(postings::Column::Id.is_in(ids.iter().map(|i| i.0))).all(conn).await?;
    rows.into_iter().map(decode).collect()
}

/// Published postings whose expiry passed since the last call, up to `limit`, oldest expiry
/// first, in the caller's transaction: takes the announcement watermark (on Postgres skipping when
/// another worker holds it: `None`) and moves it past them. The first call ever only sets the
/// watermark to `now`.
pub async fn take_expired(
    now: DateTime<Utc>,
    limit: u64,
    conn: &impl ConnectionTrait,
) -> Result<Option<Vec<Posting>>, StoreError> {
    let backend = conn.get_database_backend();
    let (lock, p) = match backend {
        DatabaseBackend::Postgres => (" FOR UPDATE SKIP LOCKED", ["$1", "$2", "$3"]),
        _ => ("", ["?", "?", "?"]),
    };
    let select = format!("SELECT through_at, through_id FROM posting_expiry_watermark WHERE id = 1{lock}");
    let Some(row) = conn.query_one_raw(Statement::from_string(backend, select)).await? else { return Ok(None) };
    let through_at: Option<DateTime<Utc>> = row.try_get_by_index(0)?;
    let through_id: Option<Uuid> = row.try_get_by_index(1)?;
    let set = |at: DateTime<Utc>, id: Uuid| {
        Statement::from_sql_and_values(
            backend,
            format!("UPDATE posting_expiry_watermark SET through_at = {}, through_id = {} WHERE id = 1", p[0], p[1]),
            [at.into(), id.into()],
        )
    };
    let (Some(through_at), Some(through_id)) = (through_at, through_id) else {
        conn.execute_raw(set(now, Uuid::max())).await?;
        return Ok(Some(Vec::new()));
    };
    let rows = postings::Entity::find()
        .filter(postings::Column::Status.eq(PostingStatus::Published.as_str()))
        .filter(postings::Column::ExpiresAt.lte(now))
        .filter(Condition::any().add(postings::Column::ExpiresAt.gt(through_at)).add(
            Condition::all().add(postings::Column::ExpiresAt.eq(through_at)).add(postings::Column::Id.gt(through_id)),
        ))
        .order_by_asc(postings::Column::ExpiresAt)
        .order_by_asc(postings::Column::Id)
        .limit(limit)
        .all(conn)
        .await?;
    let next = match rows.last() {
        Some(last) if rows.len() as u64 == limit => (last.expires_at.unwrap_or(now), last.id),
        _ => (now, Uuid::max()),
    };
    conn.execute_raw(set(next.0, next.1)).await?;
    Ok(Some(rows.into_iter().map(decode).collect::<Result<_, _>>()?))
}

pub async fn find_id_by_slug(slug: &str, conn: &impl ConnectionTrait) -> Result<Option<PostingId>, StoreError> {
    let id: Option<Uuid> = postings::Entity::find()
        .select_only()
        .column(postings::Column::Id)
        .filter(postings::Column::Slug.eq(slug))
        .into_tuple()
        .one(conn)
        .await?;
    Ok(id.map(PostingId))
}

fn content_columns(row: &mut postings::ActiveModel, content: &PostingContent) {
    row.title = Set(content.title.clone());
    row.summary = Set(content.summary.clone());
    row.description = Set(content.description.clone());
    row.employment_type = Set(content.employment_type.map(|v| v.as_str().to_owned()));
    row.seniority = Set(content.seniority.map(|v| v.as_str().to_owned()));
    row.min_years_experience = Set(content.min_years_experience);
    row.workplace = Set(content.workplace.map(|v| v.as_str().to_owned()));
    row.salary_min = Set(content.salary.map(|s| s.min()));
    row.salary_max = Set(content.salary.map(|s| s.max()));
    row.salary_currency = Set(content.salary.map(|s| s.currency().as_str().to_owned()));
    row.salary_period = Set(content.salary.map(|s| s.period().as_str().to_owned()));
    row.equity = Set(content.equity);
    row.expires_at = Set(content.expires_at);
    row.children = Set(Some(Children::encode(content)));
}

fn position(i: usize) -> i32 {
    i32::try_from(i).unwrap_or(i32::MAX)
}

/// The most rows one multi-row INSERT carries (a child row binds at most 6 values, well inside
/// SQLite's and Postgres' parameter limits).
const ROWS_PER_INSERT: usize = 1000;

async fn insert_all<E>(rows: Vec<E::ActiveModel>, conn: &impl ConnectionTrait) -> Result<(), StoreError>
where
    E: EntityTrait,
    E::ActiveModel: sea_orm::ActiveModelTrait<Entity = E>,
{
    let mut rows = rows.into_iter().peekable();
    while rows.peek().is_some() {
        let chunk: Vec<_> = rows.by_ref().take(ROWS_PER_INSERT).collect();
        E::insert_many(chunk).exec_without_returning(conn).await?;
    }
    Ok(())
}

fn location_rows(id: PostingId, content: &PostingContent) -> Vec<posting_locations::ActiveModel> {
    content
        .locations
        .iter()
        .enumerate()
        .map(move |(i, l)| posting_locations::ActiveModel {
            posting_id: Set(id.0),
            position: Set(position(i)),
            city: Set(l.city().map(str::to_owned)),
            region: Set(l.region().map(str::to_owned)),
            country: Set(l.country().as_str().to_owned()),
            remote: Set(l.is_remote()),
        })
        .collect()
}

fn skill_rows(id: PostingId, content: &PostingContent) -> Vec<posting_skills::ActiveModel> {
    content
        .skills
        .iter()
        .enumerate()
        .map(move |(i, s)| posting_skills::ActiveModel {
            posting_id: Set(id.0),
            skill_key: Set(PostingSkill::key(&s.name)),
            name: Set(s.name.clone()),
            required: Set(s.required),
            position: Set(position(i)),
        })
        .collect()
}

fn benefit_rows(id: PostingId, content: &PostingContent) -> Vec<posting_benefits::ActiveModel> {
    content
        .benefits
        .iter()
        .enumerate()
        .map(move |(i, text)| posting_benefits::ActiveModel {
            posting_id: Set(id.0),
            position: Set(position(i)),
            text: Set(text.clone()),
        })
        .collect()
}

fn item_rows(id: PostingId, content: &PostingContent) -> Vec<posting_items::ActiveModel> {
    [
        (RESPONSIBILITY, &content.responsibilities),
        (REQUIRED, &content.required_qualifications),
        (PREFERRED, &content.preferred_qualifications),
    ]
    .into_iter()
    .flat_map(move |(kind, texts)| {
        texts.iter().enumerate().map(move |(i, text)| posting_items::ActiveModel {
            posting_id: Set(id.0),
            kind: Set(kind.to_owned()),
            position: Set(position(i)),
            text: Set(text.clone()),
        })
    })
    .collect()
}

/// One posting's content as it was (`None` for a new posting) and as it is now, for
/// `write_children`.
#[derive(Debug, Clone, Copy)]
pub struct ChildWrite<'a> {
    pub id: PostingId,
    pub before: Option<&'a PostingContent>,
    pub after: &'a PostingContent,
}

/// Rewrites one child table for `writes`: the rows of the postings whose lists changed (`same`
/// says when they did not) go in one DELETE, and the rows of those and of new postings come back
/// in one multi-row INSERT.
async fn rewrite<E>(
    writes: &[ChildWrite<'_>],
    same: impl Fn(&PostingContent, &PostingContent) -> bool,
    posting_id: E::Column,
    rows: impl Fn(PostingId, &PostingContent) -> Vec<E::ActiveModel>,
    conn: &impl ConnectionTrait,
) -> Result<(), StoreError>
where
    E: EntityTrait,
    E::ActiveModel: sea_orm::ActiveModelTrait<Entity = E>,
{
    let mut delete = Vec::new();
    let mut insert = Vec::new();
    for w in writes {
        match w.before {
            Some(before) if same(before, w.after) => continue,
            Some(_) => delete.push(w.id.0),
            None => {}
        }
        insert.extend(rows(w.id, w.after));
    }
    if !delete.is_empty() {
        E::delete_many().filter(posting_id.is_in(delete)).exec(conn).await?;
    }
    insert_all::<E>(insert, conn).await
}

/// Brings the child rows of any number of postings in step with their content, rewriting only the
/// tables whose lists changed: at most one DELETE and one multi-row INSERT per child table,
/// whatever the number of postings. Call inside a transaction, after the postings' own rows.
pub async fn write_children(writes: &[ChildWrite<'_>], conn: &impl ConnectionTrait) -> Result<(), StoreError> {
    use crate::entities::{posting_benefits as b, posting_items as i, posting_locations as l, posting_skills as s};
    rewrite::<l::Entity>(writes, |x, y| x.locations == y.locations, l::Column::PostingId, location_rows, conn).await?;
    rewrite::<s::Entity>(writes, |x, y| x.skills == y.skills, s::Column::PostingId, skill_rows, conn).await?;
    rewrite::<b::Entity>(writes, |x, y| x.benefits == y.benefits, b::Column::PostingId, benefit_rows, conn).await?;
    let same_items = |x: &PostingContent, y: &PostingContent| {
        x.responsibilities == y.responsibilities
            && x.required_qualifications == y.required_qualifications
            && x.preferred_qualifications == y.preferred_qualifications
    };
    rewrite::<i::Entity>(writes, same_items, i::Column::PostingId, item_rows, conn).await
}

fn new_row(posting: &Posting) -> postings::ActiveModel {
    let mut row = postings::ActiveModel {
        id: Set(posting.id.0),
        company_id: Set(posting.company_id.0),
        slug: Set(posting.slug.clone()),
        status: Set(posting.status.as_str().to_owned()),
        published_at: Set(posting.published_at),
        version: Set(posting.version),
        created_at: Set(posting.created_at),
        updated_at: Set(posting.updated_at),
        ..Default::default()
    };
    content_columns(&mut row, &posting.content);
    row
}

/// Inserts a new posting with its children; call inside a transaction.
pub async fn insert(posting: &Posting, conn: &impl ConnectionTrait) -> Result<(), StoreError> {
    insert_many(std::slice::from_ref(posting), conn).await
}

/// Inserts new postings with their children, in one statement per table; call inside a
/// transaction.
pub async fn insert_many(new: &[Posting], conn: &impl ConnectionTrait) -> Result<(), StoreError> {
    if new.is_empty() {
        return Ok(());
    }
    for chunk in new.chunks(ROWS_PER_INSERT / 10) {
        postings::Entity::insert_many(chunk.iter().map(new_row))
            .exec_without_returning(conn)
            .await
            .map_err(|e| StoreError::on_write(e, "posting slug"))?;
    }
    let writes: Vec<ChildWrite<'_>> =
        new.iter().map(|p| ChildWrite { id: p.id, before: None, after: &p.content }).collect();
    write_children(&writes, conn).await
}

/// Replaces a posting's own row (its content columns) if the stored version is still
/// `expected_version`, and bumps it; the child rows are `write_children`'s. `StaleVersion` when
/// someone else wrote first. Call inside a transaction.
pub async fn update_row(
    id: PostingId,
    expected_version: i32,
    content: &PostingContent,
    now: DateTime<Utc>,
    conn: &impl ConnectionTrait,
) -> Result<i32, StoreError> {
    let mut row = postings::ActiveModel { updated_at: Set(now), ..Default::default() };
    content_columns(&mut row, content);
    let result = postings::Entity::update_many()
        .set(row)
        .col_expr(postings::Column::Version, Expr::value(expected_version + 1))
        .filter(postings::Column::Id.eq(id.0))
        .filter(postings::Column::Version.eq(expected_version))
        .exec(conn)
        .await?;
    if result.rows_affected != 1 {
        return Err(StoreError::StaleVersion);
    }
    Ok(expected_version + 1)
}

/// Replaces the content (`before` is what is stored) if the stored version is still
/// `expected_version`, and bumps it; child tables whose lists did not change are left alone.
/// `StaleVersion` when someone else wrote first. Call inside a transaction.
pub async fn update_content(
    id: PostingId,
    expected_version: i32,
    before: &PostingContent,
    after: &PostingContent,
    now: DateTime<Utc>,
    conn: &impl ConnectionTrait,
) -> Result<i32, StoreError> {
    let version = update_row(id, expected_version, after, now, conn).await?;
    write_children(&[ChildWrite { id, before: Some(before), after }], conn).await?;
    Ok(version)
}

/// Moves the status from `from` to `to` atomically (the row must still be in `from`), bumping the
/// version. `StaleVersion` when the status changed meanwhile.
pub async fn set_status(
    id: PostingId,
    from: PostingStatus,
    to: PostingStatus,
    published_at: Option<DateTime<Utc>>,
    now: DateTime<Utc>,
    conn: &impl ConnectionTrait,
) -> Result<(), StoreError> {
    let result = postings::Entity::update_many()
        .col_expr(postings::Column::Status, Expr::value(to.as_str()))
        .col_expr(postings::Column::PublishedAt, Expr::value(published_at))
        .col_expr(postings::Column::UpdatedAt, Expr::value(now))
        .col_expr(postings::Column::Version, Expr::col(postings::Column::Version).add(1))
        .filter(postings::Column::Id.eq(id.0))
        .filter(postings::Column::Status.eq(from.as_str()))
        .exec(conn)
        .await?;
    if result.rows_affected != 1 {
        return Err(StoreError::StaleVersion);
    }
    Ok(())
}

/// The public feed's filters. Every present filter must hold; lists mean "any of".
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct FeedFilter {
    /// Words to find in the title, skills, company name, summary or description; empty for none.
    pub text: TextQuery,
    pub company_ids: Vec<CompanyId>,
    /// Only these postings (a live alert checks one new posting against a filter).
    pub ids: Vec<PostingId>,
    pub workplaces: Vec<Workplace>,
    pub employment_types: Vec<EmploymentType>,
    pub seniorities: Vec<Seniority>,
    /// Postings with a location in any of these countries (remote-in-country counts).
    pub countries: Vec<CountryCode>,
    /// Postings in this currency and period whose range reaches at least this amount.
    pub min_salary: Option<(i64, CurrencyCode, SalaryPeriod)>,
    /// Postings that list every one of these skills (case-insensitive).
    pub skills: Vec<String>,
}

/// How the feed is ordered; every order breaks ties by id.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FeedOrder {
    Newest,
    Oldest,
    /// Best text match first; without search words, the same as `Newest`.
    Relevance,
    /// Highest maximum salary first, counted per year (a month is 12, an hour 2,080); postings
    /// without a salary last. Currencies are not converted.
    SalaryHigh,
}

impl FeedOrder {
    /// Whether a cursor's key belongs to this order (a cursor from another order is refused).
    pub fn accepts(self, key: &SortKey) -> bool {
        matches!(
            (self, key),
            (Self::Newest | Self::Oldest, SortKey::Time(_))
                | (Self::Relevance, SortKey::Score(_))
                | (Self::SalaryHigh, SortKey::Amount(_))
        )
    }
}

/// One posting of a feed page, with its relevance (0 to 1, higher is better) when words were
/// searched for.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct FeedHit {
    pub id: PostingId,
    pub relevance: Option<f64>,
}

const SEARCH_IDS: &str = "posting_search_ids";
const FTS: &str = "posting_fts";

/// How the words of a query combine into a match: a search takes every posting that shares a
/// term with the query and ranks them; a live alert fires only for postings with every term.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Words {
    Any,
    All,
}

/// A term's tsquery: its spellings OR-ed, each through the English stemmer; values numbered on
/// from `values`.
fn pg_term(term: &hiregraph_domain::search::Term, values: &mut Vec<sea_orm::Value>) -> String {
    let alternatives: Vec<String> = term
        .spellings
        .iter()
        .map(|s| {
            values.push(sea_orm::Value::from(s.clone()));
            format!("plainto_tsquery('english', ${})", values.len())
        })
        .collect();
    format!("({})", alternatives.join(" || "))
}

/// The Postgres tsquery of a text query: the terms OR-ed (`Any`) or AND-ed (`All`); its values
/// are numbered `$1…` within the expression.
fn pg_tsquery(text: &TextQuery, words: Words) -> (String, Vec<sea_orm::Value>) {
    let mut values = Vec::new();
    let groups: Vec<String> = text.terms.iter().map(|term| pg_term(term, &mut values)).collect();
    let joiner = if words == Words::All { " && " } else { " || " };
    (groups.join(joiner), values)
}

/// Postgres: a one-row table `idf` with each term's inverse document frequency (`i1`, `i2`…),
/// BM25's `ln(1 + (N - df + 0.5) / (df + 0.5))` over all postings, joined once so every use of
/// the score reads it. `df` is an index count; `N` the planner's row estimate, counted exactly
/// while the table is small (an estimate of a table never analysed is no estimate).
fn pg_idf(text: &TextQuery) -> sea_orm::sea_query::SelectStatement {
    let mut select = Query::select();
    for (i, term) in text.terms.iter().enumerate() {
        let mut values = Vec::new();
        let q = pg_term(term, &mut values);
        let idf = format!(
            "(SELECT ln(1 + (greatest(n.c, d.c) - d.c + 0.5) / (d.c + 0.5)) \
             FROM (SELECT count(*)::float8 AS c FROM postings WHERE search_vector @@ {q}) d, \
             (SELECT CASE WHEN reltuples >= 1000 THEN reltuples::float8 \
                ELSE (SELECT count(*)::float8 FROM postings) END AS c \
              FROM pg_class WHERE oid = 'postings'::regclass) n)"
        );
        select.expr_as(Expr::cust_with_values(idf, values), Alias::new(format!("i{}", i + 1)));
    }
    select
}

/// Postgres' score of a posting for a text query, BM25-shaped: for each term it contains, the
/// term's IDF times one plus its field-weighted frequency (`ts_rank` with title and skills 1.0,
/// company 0.4, summary 0.2, description 0.1, which saturates); doubled when it contains every
/// term, and half again when its title and skills alone do. Needs `pg_idf` joined as `idf`.
fn pg_score(text: &TextQuery) -> (String, Vec<sea_orm::Value>) {
    let mut values = Vec::new();
    let terms: Vec<String> = text.terms.iter().map(|term| pg_term(term, &mut values)).collect();
    let all = terms.join(" && ");
    let sum: Vec<String> = terms
        .iter()
        .enumerate()
        .map(|(i, q)| {
            format!(
                "CASE WHEN postings.search_vector @@ {q} THEN idf.i{n} * \
                 (1 + ts_rank('{{0.1, 0.2, 0.4, 1.0}}', postings.search_vector, {q})) ELSE 0 END",
                n = i + 1
            )
        })
        .collect();
    let score = format!(
        "(({sum}) * (CASE WHEN postings.search_vector @@ ({all}) THEN 2 ELSE 1 END) \
         * (CASE WHEN ts_filter(postings.search_vector, '{{a}}') @@ ({all}) THEN 1.5 ELSE 1 END))::float8",
        sum = sum.join(" + ")
    );
    (score, values)
}

/// The FTS5 query of a text query: each spelling a quoted string, so no word is read as syntax;
/// the terms OR-ed or AND-ed.
fn fts5_query(text: &TextQuery, words: Words) -> String {
    let groups: Vec<String> = text
        .terms
        .iter()
        .map(|term| {
            let alternatives: Vec<String> =
                term.spellings.iter().map(|s| format!("\"{}\"", s.replace('"', "\"\""))).collect();
            format!("({})", alternatives.join(" OR "))
        })
        .collect();
    groups.join(if words == Words::All { " AND " } else { " OR " })
}

/// SQLite's score of a posting for a text query: FTS5's BM25 over the terms it contains (column
/// weights title 10, skills 8, company 4, summary 2, description 1), doubled when it contains
/// every term, and half again when its title and skills alone do, as on Postgres.
fn fts5_score(text: &TextQuery) -> Expr {
    let all = fts5_query(text, Words::All);
    let titled = format!("{{title skills}} : ({all})");
    Expr::cust_with_values(
        format!(
            "((-{FTS}.rank) \
             * (CASE WHEN {FTS}.rowid IN (SELECT rowid FROM {FTS} WHERE {FTS} MATCH ?) THEN 2 ELSE 1 END) \
             * (CASE WHEN {FTS}.rowid IN (SELECT rowid FROM {FTS} WHERE {FTS} MATCH ?) THEN 1.5 ELSE 1 END))"
        ),
        [all, titled],
    )
}

/// The ids of postings whose search text matches (SQLite), as a subquery.
fn fts5_matches(text: &TextQuery, words: Words) -> sea_orm::sea_query::SelectStatement {
    Query::select()
        .column((Alias::new(SEARCH_IDS), Alias::new("posting_id")))
        .from(Alias::new(SEARCH_IDS))
        .join(
            JoinType::InnerJoin,
            Alias::new(FTS),
            Expr::col((Alias::new(FTS), Alias::new("rowid"))).equals((Alias::new(SEARCH_IDS), Alias::new("id"))),
        )
        .and_where(Expr::cust_with_values(format!("{FTS} MATCH ?"), [fts5_query(text, words)]))
        .to_owned()
}

/// SQLite: the search's candidates as a table `(pid, lex)`: the postings whose text matches a
/// term, with their lexical score, and the postings near the query with 0.
fn fts5_hits(text: &TextQuery, near: &[Near]) -> sea_orm::sea_query::SelectStatement {
    let mut lexical = fts5_matches(text, Words::Any);
    lexical.clear_selects();
    lexical
        .expr_as(Expr::col((Alias::new(SEARCH_IDS), Alias::new("posting_id"))), Alias::new("pid"))
        .expr_as(fts5_score(text), Alias::new("lex"));
    if !near.is_empty() {
        let semantic = Query::select()
            .expr(Expr::col((postings::Entity, postings::Column::Id)))
            .expr(Expr::value(0.0))
            .from(postings::Entity)
            .and_where(Expr::col((postings::Entity, postings::Column::Id)).is_in(near.iter().map(|n| n.id.0)))
            .to_owned();
        lexical.union(sea_orm::sea_query::UnionType::All, semantic);
    }
    Query::select()
        .column(Alias::new("pid"))
        .expr_as(Expr::cust("max(lex)"), Alias::new("lex"))
        .from_subquery(lexical, Alias::new("u"))
        .group_by_col(Alias::new("pid"))
        .to_owned()
}

/// The fused relevance, 0..1, of a lexical score `x` and a semantic closeness `c` (see `feed`).
/// Both engines' BM25 can dip below 0 for a term in most postings; that counts as 0.
fn fuse(x: Expr, closeness: Option<Expr>, backend: DatabaseBackend) -> Expr {
    // sea-query's placeholders for other expressions: numbered on Postgres, in order on SQLite.
    let (first, second, greatest) =
        if backend == DatabaseBackend::Postgres { ("$1", "$2", "greatest") } else { ("?", "?", "max") };
    let semantic = match closeness {
        Some(c) => Expr::cust_with_exprs(format!("(1.0 - {SEMANTIC_WEIGHT:.3} * {first})"), [c]),
        None => Expr::cust("1.0"),
    };
    Expr::cust_with_exprs(
        format!("CAST((1.0 - {first} / (1.0 + {greatest}({second}, 0.0))) AS DOUBLE PRECISION)"),
        [semantic, x],
    )
}

/// How much a perfect semantic match counts against a perfect lexical one (which reaches 1).
pub(crate) const SEMANTIC_WEIGHT: f64 = 0.7;

/// The feed's postings matching `filter`, without the text search.
fn filtered(filter: &FeedFilter, now: DateTime<Utc>) -> Select<postings::Entity> {
    use postings::Column as C;
    let mut select = postings::Entity::find()
        .filter(C::Status.eq(PostingStatus::Published.as_str()))
        .filter(Condition::any().add(C::ExpiresAt.is_null()).add(C::ExpiresAt.gt(now)));
    if !filter.company_ids.is_empty() {
        select = select.filter(C::CompanyId.is_in(filter.company_ids.iter().map(|c| c.0)));
    }
    if !filter.ids.is_empty() {
        select = select.filter(C::Id.is_in(filter.ids.iter().map(|i| i.0)));
    }
    if !filter.workplaces.is_empty() {
        select = select.filter(C::Workplace.is_in(filter.workplaces.iter().map(|v| v.as_str())));
    }
    if !filter.employment_types.is_empty() {
        select = select.filter(C::EmploymentType.is_in(filter.employment_types.iter().map(|v| v.as_str())));
    }
    if !filter.seniorities.is_empty() {
        select = select.filter(C::Seniority.is_in(filter.seniorities.iter().map(|v| v.as_str())));
    }
    if !filter.countries.is_empty() {
        let sub = Query::select()
            .column(posting_locations::Column::PostingId)
            .from(posting_locations::Entity)
            .and_where(posting_locations::Column::Country.is_in(filter.countries.iter().map(|c| c.as_str())))
            .to_owned();
        select = select.filter(C::Id.in_subquery(sub));
    }
    if let Some((amount, currency, period)) = filter.min_salary {
        select = select
            .filter(C::SalaryCurrency.eq(currency.as_str()))
            .filter(C::SalaryPeriod.eq(period.as_str()))
            .filter(C::SalaryMax.gte(amount));
    }
    for skill in &filter.skills {
        let sub = Query::select()
            .column(posting_skills::Column::PostingId)
            .from(posting_skills::Entity)
            .and_where(posting_skills::Column::SkillKey.eq(PostingSkill::key(skill)))
            .to_owned();
        select = select.filter(C::Id.in_subquery(sub));
    }
    select
}

/// The feed's postings matching `filter`, the text search included: with `Words::Any`, the
/// postings that share a term with the query or that the semantic index found near it.
fn feed_select(
    filter: &FeedFilter,
    words: Words,
    near: &[Near],
    now: DateTime<Utc>,
    backend: DatabaseBackend,
) -> Select<postings::Entity> {
    let select = filtered(filter, now);
    if filter.text.is_empty() {
        return select;
    }
    let lexical = match backend {
        DatabaseBackend::Postgres => {
            let (tsquery, values) = pg_tsquery(&filter.text, words);
            Expr::cust_with_values(format!("postings.search_vector @@ ({tsquery})"), values)
        }
        _ => postings::Column::Id.in_subquery(fts5_matches(&filter.text, words)),
    };
    if near.is_empty() || words == Words::All {
        return select.filter(lexical);
    }
    select.filter(Condition::any().add(lexical).add(postings::Column::Id.is_in(near.iter().map(|n| n.id.0))))
}

/// How close the semantic index found each posting (0 for the others), as an SQL expression.
/// Closeness values are the index's own numbers, written as literals; ids are bound.
fn closeness(near: &[Near], backend: DatabaseBackend) -> Option<Expr> {
    if near.is_empty() {
        return None;
    }
    let mut values = Vec::with_capacity(near.len());
    let mut arms = String::new();
    for (i, n) in near.iter().enumerate() {
        values.push(sea_orm::Value::from(n.id.0));
        let placeholder = if backend == DatabaseBackend::Postgres { format!("${}", i + 1) } else { "?".to_owned() };
        arms.push_str(&format!(" WHEN {placeholder} THEN {:.6}", n.closeness.clamp(0.0, 1.0)));
    }
    Some(Expr::cust_with_values(format!("(CASE postings.id{arms} ELSE 0.0 END)"), values))
}

/// A yearly amount from a posting's maximum salary, -1 without one: the `SALARY_HIGH` key.
fn yearly_salary() -> Expr {
    Expr::cust(
        "COALESCE(CASE postings.salary_period WHEN 'YEAR' THEN postings.salary_max \
         WHEN 'MONTH' THEN postings.salary_max * 12 WHEN 'HOUR' THEN postings.salary_max * 2080 END, -1)",
    )
}

/// One page of the public feed (published, unexpired): the hits (ids, with their relevance when
/// words were searched for) and the postings themselves with all their child data and their
/// companies, in one statement. Ordered by `order` then id, by keyset.
pub async fn feed(
    filter: &FeedFilter,
    near: &[Near],
    order: FeedOrder,
    request: &PageRequest,
    now: DateTime<Utc>,
    conn: &impl ConnectionTrait,
) -> Result<(Page<FeedHit>, WithCompanies), StoreError> {
    let backend = conn.get_database_backend();
    let searching = !filter.text.is_empty();
    let order = if order == FeedOrder::Relevance && !searching { FeedOrder::Newest } else { order };
    let mut select = filtered(filter, now).into_query();
    join_companies(&mut select);
    // Every posting sharing a term with the query, or near it by meaning, is a candidate. The
    // lexical score x (BM25-shaped, 0 without a shared term) and the semantic closeness c
    // (0..1) fuse as 1 - (1 - W c) / (1 + x): x / (1 + x) alone without c, W c alone without x,
    // more than either with both.
    let near_closeness = closeness(near, backend);
    let score = if !searching {
        None
    } else if backend == DatabaseBackend::Postgres {
        let (tsquery, values) = pg_tsquery(&filter.text, Words::Any);
        let lexical = Expr::cust_with_values(format!("postings.search_vector @@ ({tsquery})"), values);
        match near {
            [] => select.and_where(lexical),
            _ => select.cond_where(
                Condition::any()
                    .add(lexical)
                    .add(Expr::col((postings::Entity, postings::Column::Id)).is_in(near.iter().map(|n| n.id.0))),
            ),
        };
        select.join_subquery(JoinType::InnerJoin, pg_idf(&filter.text), Alias::new("idf"), Expr::cust("TRUE"));
        let (score, values) = pg_score(&filter.text);
        Some(fuse(Expr::cust_with_values(score, values), near_closeness, backend))
    } else {
        select.join_subquery(
            JoinType::InnerJoin,
            fts5_hits(&filter.text, near),
            Alias::new("hit"),
            Expr::col((Alias::new("hit"), Alias::new("pid"))).equals((postings::Entity, postings::Column::Id)),
        );
        Some(fuse(Expr::col((Alias::new("hit"), Alias::new("lex"))), near_closeness, backend))
    };
    let (sort, ascending) = match order {
        FeedOrder::Newest => (Expr::col((postings::Entity, postings::Column::PublishedAt)), false),
        FeedOrder::Oldest => (Expr::col((postings::Entity, postings::Column::PublishedAt)), true),
        FeedOrder::Relevance => (score.clone().unwrap_or_else(|| Expr::value(0.0)), false),
        FeedOrder::SalaryHigh => (yearly_salary(), false),
    };
    select.expr_as(sort.clone(), Alias::new("sort_key"));
    if let Some(score) = &score {
        select.expr_as(score.clone(), Alias::new("score"));
    }
    let keyset = Keyset { sort, id: Expr::col((postings::Entity, postings::Column::Id)), ascending };
    let window = keyset.window(request);
    for bound in window.bounds.iter().cloned() {
        select.cond_where(bound);
    }
    select
        .order_by_expr(keyset.sort, window.order.clone())
        .order_by_expr(keyset.id, window.order.clone())
        .limit(window.limit + 1);
    let rows = conn.query_all_raw(backend.build(&select)).await?;
    let mut items = Vec::with_capacity(rows.len());
    let mut loaded = WithCompanies::default();
    for row in rows {
        loaded.push(&row)?;
        let posting = loaded.postings.last().map(|p| p.id.0).unwrap_or_default();
        let key = match order {
            FeedOrder::Newest | FeedOrder::Oldest => SortKey::Time(row.try_get("", "sort_key")?),
            FeedOrder::Relevance => SortKey::Score(row.try_get("", "sort_key")?),
            FeedOrder::SalaryHigh => SortKey::Amount(row.try_get("", "sort_key")?),
        };
        let relevance = match score {
            Some(_) => Some(row.try_get::<f64>("", "score")?.clamp(0.0, 1.0)),
            None => None,
        };
        items.push((FeedHit { id: PostingId(posting), relevance }, Cursor { key, id: posting }));
    }
    let page = window.finish(items, request);
    Ok((page, loaded))
}

/// How many postings the feed holds for this filter, and when the next of them expires (the
/// moment a cached count goes stale), in one statement. Run only when a client asks.
pub async fn feed_count(
    filter: &FeedFilter,
    near: &[Near],
    now: DateTime<Utc>,
    conn: &impl ConnectionTrait,
) -> Result<(u64, Option<DateTime<Utc>>), StoreError> {
    count_matching(filter, Words::Any, near, now, conn).await
}

async fn count_matching(
    filter: &FeedFilter,
    words: Words,
    near: &[Near],
    now: DateTime<Utc>,
    conn: &impl ConnectionTrait,
) -> Result<(u64, Option<DateTime<Utc>>), StoreError> {
    let row: Option<(i64, Option<DateTime<Utc>>)> = feed_select(filter, words, near, now, conn.get_database_backend())
        .select_only()
        .column_as(postings::Column::Id.count(), "n")
        .column_as(postings::Column::ExpiresAt.min(), "next")
        .into_tuple()
        .one(conn)
        .await?;
    let (n, next) = row.unwrap_or((0, None));
    Ok((u64::try_from(n).unwrap_or(0), next))
}

/// Whether a posting is in the feed under `filter` now (filters, published, unexpired) and has
/// every word of its query: the feed's own query restricted to it, so a live alert fires for what
/// a search ranks in its top tier, not for every posting that shares one word.
pub async fn in_feed(
    filter: &FeedFilter,
    id: PostingId,
    now: DateTime<Utc>,
    conn: &impl ConnectionTrait,
) -> Result<bool, StoreError> {
    let only = FeedFilter { ids: vec![id], ..filter.clone() };
    Ok(count_matching(&only, Words::All, &[], now, conn).await?.0 > 0)
}

/// Counts of the feed's postings per value of each facet, for the current filter: what a filter
/// sidebar shows. Top skills are the 20 most listed.
#[derive(Debug, Clone, Default, serde::Serialize, serde::Deserialize)]
pub struct Facets {
    pub workplaces: Vec<(String, u64)>,
    pub employment_types: Vec<(String, u64)>,
    pub seniorities: Vec<(String, u64)>,
    pub countries: Vec<(String, u64)>,
    pub skills: Vec<(String, u64)>,
}

/// The facets and the moment the next counted posting expires, in one statement: the matching
/// postings are found once (a materialized CTE) and grouped five ways.
pub async fn feed_facets(
    filter: &FeedFilter,
    near: &[Near],
    now: DateTime<Utc>,
    conn: &impl ConnectionTrait,
) -> Result<(Facets, Option<DateTime<Utc>>), StoreError> {
    use postings::Column as C;
    let backend = conn.get_database_backend();
    let hits = feed_select(filter, Words::Any, near, now, backend)
        .select_only()
        .columns([C::Id, C::Workplace, C::EmploymentType, C::Seniority, C::ExpiresAt])
        .into_query();
    let inner = backend.build(&hits);
    // Child rows of the hits: Postgres would hash the whole child table when it overestimates
    // the hits, so a fenced LATERAL makes it look each hit up by index; SQLite does so anyway.
    let (no_time, locations, skills) = if backend == DatabaseBackend::Postgres {
        (
            "CAST(NULL AS timestamptz)",
            "hits h CROSS JOIN LATERAL (SELECT country, posting_id FROM posting_locations x WHERE x.posting_id = h.id OFFSET 0) c",
            "hits h CROSS JOIN LATERAL (SELECT skill_key FROM posting_skills x WHERE x.posting_id = h.id OFFSET 0) c",
        )
    } else {
        (
            "NULL",
            "hits h JOIN posting_locations c ON c.posting_id = h.id",
            "hits h JOIN posting_skills c ON c.posting_id = h.id",
        )
    };
    let sql = format!(
        "WITH hits AS MATERIALIZED ({inner})
         SELECT 'workplace' AS facet, workplace AS value, count(*) AS n, {no_time} AS next FROM hits GROUP BY workplace
         UNION ALL SELECT 'employment', employment_type, count(*), {no_time} FROM hits GROUP BY employment_type
         UNION ALL SELECT 'seniority', seniority, count(*), {no_time} FROM hits GROUP BY seniority
         UNION ALL SELECT 'country', c.country, count(DISTINCT c.posting_id), {no_time} FROM {locations} GROUP BY c.country
         UNION ALL SELECT 'skill', c.skill_key, count(*), {no_time} FROM {skills} GROUP BY c.skill_key
         UNION ALL SELECT 'next', NULL, 0, min(expires_at) FROM hits",
        inner = inner.sql
    );
    let values = inner.values.map(|v| v.0).unwrap_or_default();
    let rows = conn.query_all_raw(sea_orm::Statement::from_sql_and_values(backend, sql, values)).await?;
    let mut facets = Facets::default();
    let mut next = None;
    for row in rows {
        let facet: String = row.try_get("", "facet")?;
        if facet == "next" {
            next = row.try_get("", "next")?;
            continue;
        }
        let Some(value) = row.try_get::<Option<String>>("", "value")? else { continue };
        let n = u64::try_from(row.try_get::<i64>("", "n")?).unwrap_or(0);
        let list = match facet.as_str() {
            "workplace" => &mut facets.workplaces,
            "employment" => &mut facets.employment_types,
            "seniority" => &mut facets.seniorities,
            "country" => &mut facets.countries,
            _ => &mut facets.skills,
        };
        list.push((value, n));
    }
    for list in [
        &mut facets.workplaces,
        &mut facets.employment_types,
        &mut facets.seniorities,
        &mut facets.countries,
        &mut facets.skills,
    ] {
        list.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    }
    facets.skills.truncate(20);
    Ok((facets, next))
}

/// What the search index keeps of a posting (`semantic::SemanticIndex::refresh`): the text it
/// embeds and searches, and for a published posting what filters, facets and matching read.
#[derive(Debug, Clone)]
pub struct SearchText {
    pub id: Uuid,
    /// Only published postings are searched; the others leave the index.
    pub published: bool,
    pub company_id: Uuid,
    /// The company's name, which a search finds postings by.
    pub company_name: String,
    pub title: String,
    pub summary: Option<String>,
    pub description: String,
    pub employment_type: Option<EmploymentType>,
    /// Title, skills (in the posting's order), seniority, experience, workplace, locations and
    /// salary; empty skills for a posting that is not published.
    pub facts: PostingFacts,
    pub published_at: Option<DateTime<Utc>>,
    pub expires_at: Option<DateTime<Utc>>,
}

/// What the search index keeps of these postings and of every posting of these companies
/// (`subjects` holds posting and company ids alike: a renamed company's postings are found by its
/// new name), or of the first `limit` postings after the id `after` in id order (`subjects`
/// empty). Two statements by primary key: the postings, then their companies' names.
pub async fn search_texts(
    subjects: &[Uuid],
    after: Option<Uuid>,
    limit: u64,
    conn: &impl ConnectionTrait,
) -> Result<Vec<SearchText>, StoreError> {
    use postings::Column as C;
    let mut select = postings::Entity::find().order_by_asc(C::Id);
    if subjects.is_empty() {
        select = select.limit(limit);
    } else {
        select = select.filter(
            Condition::any()
                .add(C::Id.is_in(subjects.iter().copied()))
                .add(C::CompanyId.is_in(subjects.iter().copied())),
        );
    }
    if let Some(after) = after {
        select = select.filter(C::Id.gt(after));
    }
    let rows = select.all(conn).await?;
    let mut company_ids: Vec<Uuid> = rows.iter().map(|row| row.company_id).collect();
    company_ids.sort_unstable();
    company_ids.dedup();
    let names: std::collections::HashMap<Uuid, String> = if company_ids.is_empty() {
        Default::default()
    } else {
        companies::Entity::find()
            .select_only()
            .columns([companies::Column::Id, companies::Column::Name])
            .filter(companies::Column::Id.is_in(company_ids))
            .into_tuple::<(Uuid, String)>()
            .all(conn)
            .await?
            .into_iter()
            .collect()
    };
    rows.into_iter()
        .map(|row| {
            let (id, company_id, published_at, expires_at) = (row.id, row.company_id, row.published_at, row.expires_at);
            let company_name = names.get(&company_id).cloned().unwrap_or_default();
            if row.status != PostingStatus::Published.as_str() {
                let facts = PostingFacts {
                    title: String::new(),
                    skills: Vec::new(),
                    seniority: None,
                    min_years: None,
                    workplace: None,
                    locations: Vec::new(),
                    salary: None,
                };
                return Ok(SearchText {
                    id,
                    published: false,
                    company_id,
                    company_name,
                    title: row.title,
                    summary: row.summary,
                    description: String::new(),
                    employment_type: None,
                    facts,
                    published_at,
                    expires_at,
                });
            }
            let posting = decode(row)?;
            let facts = PostingFacts::of(&posting.content);
            let content = posting.content;
            Ok(SearchText {
                id,
                published: true,
                company_id,
                company_name,
                title: content.title,
                summary: content.summary,
                description: content.description,
                employment_type: content.employment_type,
                facts,
                published_at,
                expires_at,
            })
        })
        .collect()
}

/// Which postings of one company a caller may list.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CompanyScope {
    /// Published and unexpired only.
    Public,
    /// Every status (members of the company).
    All,
}

fn company_select(company: CompanyId, scope: CompanyScope, now: DateTime<Utc>) -> Select<postings::Entity> {
    match scope {
        CompanyScope::Public => filtered(&FeedFilter { company_ids: vec![company], ..Default::default() }, now),
        CompanyScope::All => postings::Entity::find().filter(postings::Column::CompanyId.eq(company.0)),
    }
}

/// A company's postings, newest first by creation, each with all its child data: one statement.
pub async fn company_postings(
    company: CompanyId,
    scope: CompanyScope,
    request: &PageRequest,
    now: DateTime<Utc>,
    conn: &impl ConnectionTrait,
) -> Result<Page<Posting>, StoreError> {
    let keyset = Keyset::by(postings::Column::CreatedAt, postings::Column::Id, false);
    keyset
        .page(company_select(company, scope, now), request, |select| async move {
            let rows = select.all(conn).await?;
            rows.into_iter()
                .map(|row| {
                    let cursor = Cursor { key: SortKey::Time(row.created_at), id: row.id };
                    Ok((decode(row)?, cursor))
                })
                .collect::<Result<Vec<_>, StoreError>>()
        })
        .await
}

/// Per status, how many applications each posting of a company page has: `company_postings`
/// with one more column, so a page that shows its postings' pipelines (or application counts)
/// costs one statement, not a page and a grouped count. The column is a correlated subquery over
/// the `(posting_id, status)` index, as `STATUS:n` pairs joined by commas (`string_agg` on
/// Postgres, `group_concat` on SQLite), null when there are none.
pub async fn company_postings_with_pipelines(
    company: CompanyId,
    scope: CompanyScope,
    request: &PageRequest,
    now: DateTime<Utc>,
    conn: &impl ConnectionTrait,
) -> Result<Page<(Posting, Pipeline)>, StoreError> {
    let concat = match conn.get_database_backend() {
        DatabaseBackend::Postgres => "string_agg",
        _ => "group_concat",
    };
    let counts = Expr::cust(format!(
        "(SELECT {concat}(c.status || ':' || CAST(c.n AS TEXT), ',') FROM (SELECT a.status, COUNT(*) AS n \
         FROM applications a WHERE a.posting_id = postings.id GROUP BY a.status) c)"
    ));
    let keyset = Keyset::by(postings::Column::CreatedAt, postings::Column::Id, false);
    keyset
        .page(company_select(company, scope, now), request, |select| async move {
            let rows = select.column_as(counts, "pipeline").into_model::<WithPipeline>().all(conn).await?;
            rows.into_iter()
                .map(|WithPipeline { row, pipeline }| {
                    let cursor = Cursor { key: SortKey::Time(row.created_at), id: row.id };
                    let pipeline = parse_pipeline(row.id, pipeline.as_deref())?;
                    Ok(((decode(row)?, pipeline), cursor))
                })
                .collect::<Result<Vec<_>, StoreError>>()
        })
        .await
}

/// How many applications a posting has in each status that has any.
pub type Pipeline = Vec<(ApplicationStatus, u64)>;

/// A posting row with its pipeline column.
struct WithPipeline {
    row: postings::Model,
    pipeline: Option<String>,
}

impl sea_orm::FromQueryResult for WithPipeline {
    fn from_query_result(res: &sea_orm::QueryResult, pre: &str) -> Result<Self, sea_orm::DbErr> {
        debug_assert!(pre.is_empty(), "a posting row with its pipeline is never nested");
        Ok(Self { row: postings::by_index(res, 0)?, pipeline: res.try_get_by_index(postings::FIELDS.len())? })
    }
}

fn parse_pipeline(posting: Uuid, raw: Option<&str>) -> Result<Pipeline, StoreError> {
    let corrupt = |part: &str| StoreError::corrupt(format!("posting {posting} pipeline count {part:?}"));
    raw.into_iter()
        .flat_map(|raw| raw.split(','))
        .map(|part| {
            let (status, n) = part.rsplit_once(':').ok_or_else(|| corrupt(part))?;
            let status = ApplicationStatus::parse(status).ok_or_else(|| corrupt(part))?;
            Ok((status, n.parse().map_err(|_| corrupt(part))?))
        })
        .collect()
}

pub async fn company_postings_count(
    company: CompanyId,
    scope: CompanyScope,
    now: DateTime<Utc>,
    conn: &impl ConnectionTrait,
) -> Result<u64, StoreError> {
    Ok(company_select(company, scope, now).count(conn).await?)
}

/// How many postings exist in any status (for the command line and the demo loader).
pub async fn count_all(conn: &impl ConnectionTrait) -> Result<u64, StoreError> {
    Ok(postings::Entity::find().count(conn).await?)
}

/// The stored version, or `None` when the posting does not exist: tells a stale write from a
/// missing row.
pub async fn current_version(id: PostingId, conn: &impl ConnectionTrait) -> Result<Option<i32>, StoreError> {
    let version: Option<i32> = postings::Entity::find_by_id(id.0)
        .select_only()
        .column(postings::Column::Version)
        .into_tuple()
        .one(conn)
        .await?;
    Ok(version)
}
