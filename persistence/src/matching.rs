//! What matching reads, in bulk: every published posting (or listed candidate) that shares a skill
//! with the other side, with just the columns scoring needs and the skill counts grouped in SQL.
//! Two queries per direction, whatever the number of rows.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use hiregraph_domain::candidates::Visibility;
use hiregraph_domain::matching::{CandidateFacts, DesiredSalary, PostingFacts, SkillCounts};
use hiregraph_domain::postings::{PostingStatus, Seniority, Workplace};
use hiregraph_domain::values::{Location, SalaryPeriod, SalaryRange};
use hiregraph_domain::{CandidateId, PostingId};
use sea_orm::sea_query::{Expr, ExprTrait, JoinType, Query, SelectStatement};
use sea_orm::{
    ColumnTrait, Condition, ConnectionTrait, DatabaseBackend, EntityTrait, QueryFilter, QueryOrder, QuerySelect,
    QueryTrait,
};
use uuid::Uuid;

use crate::entities::{
    applications, candidate_profiles as profiles, candidate_skills, posting_locations, posting_skills, postings,
};
use crate::error::StoreError;

/// A posting as ranking reads it: its facts without skill names, and the candidate's skill counts.
#[derive(Debug, Clone)]
pub struct PostingRow {
    pub id: PostingId,
    pub published_at: Option<DateTime<Utc>>,
    pub facts: PostingFacts,
    pub counts: SkillCounts,
}

/// `n` placeholders of a custom expression: `$1, $2…` on Postgres, `?, ?…` on SQLite.
fn placeholders(backend: DatabaseBackend, n: usize) -> String {
    let one = |i: usize| if backend == DatabaseBackend::Postgres { format!("${}", i + 1) } else { "?".to_owned() };
    (0..n).map(one).collect::<Vec<_>>().join(", ")
}

fn key_values(keys: &[String]) -> Vec<sea_orm::Value> {
    keys.iter().map(|k| sea_orm::Value::from(k.clone())).collect()
}

fn count(n: i64) -> usize {
    usize::try_from(n).unwrap_or(0)
}

/// Published, unexpired postings listing any of `keys` that `candidate` has not applied to: the
/// next `batch` of them by id after `after`.
fn eligible_postings(
    keys: &[String],
    candidate: Uuid,
    now: DateTime<Utc>,
    after: Option<PostingId>,
    batch: u64,
) -> SelectStatement {
    use postings::Column as C;
    let sharing = Query::select()
        .column(posting_skills::Column::PostingId)
        .from(posting_skills::Entity)
        .and_where(posting_skills::Column::SkillKey.is_in(keys.iter().cloned()))
        .to_owned();
    let applied = Query::select()
        .column(applications::Column::PostingId)
        .from(applications::Entity)
        .and_where(applications::Column::CandidateId.eq(candidate))
        .to_owned();
    let mut select = postings::Entity::find()
        .select_only()
        .column(C::Id)
        .filter(C::Status.eq(PostingStatus::Published.as_str()))
        .filter(Condition::any().add(C::ExpiresAt.is_null()).add(C::ExpiresAt.gt(now)))
        .filter(C::Id.in_subquery(sharing))
        .filter(C::Id.not_in_subquery(applied));
    if let Some(after) = after {
        select = select.filter(C::Id.gt(after.0));
    }
    select.order_by_asc(C::Id).limit(batch).into_query()
}

fn location(city: Option<String>, region: Option<String>, country: &str, remote: bool) -> Result<Location, StoreError> {
    Location::new(city.as_deref(), region.as_deref(), country, remote).map_err(StoreError::corrupt)
}

/// The postings `candidate` could be recommended — published, unexpired, sharing a skill (any
/// spelling in `keys`), not applied to — in batches: the next `batch` by id after `after`, in no
/// particular order. Skill counts are the candidate's against each posting. Fewer than `batch`
/// rows means there are no more. (Without the semantic index: see `services::matching`.)
pub async fn postings_sharing_skills(
    keys: &[String],
    candidate: CandidateId,
    now: DateTime<Utc>,
    after: Option<PostingId>,
    batch: u64,
    conn: &impl ConnectionTrait,
) -> Result<Vec<PostingRow>, StoreError> {
    use postings::Column as C;
    if keys.is_empty() {
        return Ok(Vec::new());
    }
    let eligible = eligible_postings(keys, candidate.0, now, after, batch);
    let backend = conn.get_database_backend();
    let matched = |required: bool| {
        let flag = if required { "" } else { "NOT " };
        Expr::cust_with_values(
            format!(
                "SUM(CASE WHEN {flag}posting_skills.required AND posting_skills.skill_key IN ({}) THEN 1 ELSE 0 END)",
                placeholders(backend, keys.len())
            ),
            key_values(keys),
        )
    };
    let columns = [
        C::Id,
        C::PublishedAt,
        C::Seniority,
        C::MinYearsExperience,
        C::Workplace,
        C::SalaryMin,
        C::SalaryMax,
        C::SalaryCurrency,
        C::SalaryPeriod,
    ];
    let mut select = Query::select();
    select
        .columns(columns.map(|c| (postings::Entity, c)))
        .expr_as(Expr::cust("SUM(CASE WHEN posting_skills.required THEN 1 ELSE 0 END)"), "required_total")
        .expr_as(Expr::cust("SUM(CASE WHEN posting_skills.required THEN 0 ELSE 1 END)"), "preferred_total")
        .expr_as(matched(true), "required_matched")
        .expr_as(matched(false), "preferred_matched")
        .from(postings::Entity)
        .join(
            JoinType::InnerJoin,
            posting_skills::Entity,
            Expr::col((posting_skills::Entity, posting_skills::Column::PostingId)).equals((postings::Entity, C::Id)),
        )
        .and_where(Expr::col((postings::Entity, C::Id)).in_subquery(eligible.clone()))
        .group_by_columns(columns.map(|c| (postings::Entity, c)));
    let rows = conn.query_all_raw(backend.build(&select)).await?;
    type Place = (Uuid, Option<String>, Option<String>, String, bool);
    let located: Vec<Place> = posting_locations::Entity::find()
        .select_only()
        .columns([
            posting_locations::Column::PostingId,
            posting_locations::Column::City,
            posting_locations::Column::Region,
            posting_locations::Column::Country,
            posting_locations::Column::Remote,
        ])
        .filter(posting_locations::Column::PostingId.in_subquery(eligible))
        .into_tuple()
        .all(conn)
        .await?;
    let mut locations: HashMap<Uuid, Vec<Location>> = HashMap::new();
    for (posting, city, region, country, remote) in located {
        locations.entry(posting).or_default().push(location(city, region, &country, remote)?);
    }
    let mut out = Vec::with_capacity(rows.len());
    for row in rows {
        let id: Uuid = row.try_get("", "id")?;
        let text = |column: &str| row.try_get::<Option<String>>("", column);
        let salary = match (
            row.try_get::<Option<i64>>("", "salary_min")?,
            row.try_get::<Option<i64>>("", "salary_max")?,
            text("salary_currency")?,
            text("salary_period")?.as_deref().and_then(SalaryPeriod::parse),
        ) {
            (Some(min), Some(max), Some(currency), Some(period)) => {
                Some(SalaryRange::new(min, max, &currency, period).map_err(StoreError::corrupt)?)
            }
            _ => None,
        };
        out.push(PostingRow {
            id: PostingId(id),
            published_at: row.try_get("", "published_at")?,
            facts: PostingFacts {
                title: String::new(),
                skills: Vec::new(),
                seniority: text("seniority")?.as_deref().and_then(Seniority::parse),
                min_years: row.try_get("", "min_years_experience")?,
                workplace: text("workplace")?.as_deref().and_then(Workplace::parse),
                locations: locations.remove(&id).unwrap_or_default(),
                salary,
            },
            counts: SkillCounts {
                required_total: count(row.try_get("", "required_total")?),
                required_matched: count(row.try_get("", "required_matched")?),
                preferred_total: count(row.try_get("", "preferred_total")?),
                preferred_matched: count(row.try_get("", "preferred_matched")?),
            },
        });
    }
    Ok(out)
}

/// A candidate as ranking reads it: the public facts, and which of the posting's skills they list.
#[derive(Debug, Clone)]
pub struct CandidateRow {
    pub id: CandidateId,
    pub updated_at: DateTime<Utc>,
    /// As a hiring team sees them (see `hiring_team_facts`).
    pub facts: CandidateFacts,
    /// One flag per wanted skill, in the order asked: whether the candidate lists it.
    pub has: Vec<bool>,
}

/// Every candidate with one of `visibilities` who lists any of the `wanted` skills and has not
/// applied to `posting`. Each wanted skill is given as the stored keys that spell it; whether a
/// candidate lists it is grouped in SQL (one flag column per skill), so no skill rows are read.
pub async fn candidates_sharing_skills(
    wanted: &[Vec<String>],
    visibilities: &[Visibility],
    posting: PostingId,
    conn: &impl ConnectionTrait,
) -> Result<Vec<CandidateRow>, StoreError> {
    use profiles::Column as C;
    let keys: Vec<String> = wanted.iter().flatten().cloned().collect();
    if keys.is_empty() || visibilities.is_empty() || wanted.len() > 100 {
        return Ok(Vec::new());
    }
    let backend = conn.get_database_backend();
    let applied = Query::select()
        .column(applications::Column::CandidateId)
        .from(applications::Entity)
        .and_where(applications::Column::PostingId.eq(posting.0))
        .to_owned();
    let columns = [
        C::Id,
        C::UpdatedAt,
        C::Headline,
        C::Seniority,
        C::YearsExperience,
        C::City,
        C::Region,
        C::Country,
        C::OpenOnsite,
        C::OpenHybrid,
        C::OpenRemote,
    ];
    let mut select = Query::select();
    select
        .columns(columns.map(|c| (profiles::Entity, c)))
        .from(profiles::Entity)
        .join(
            JoinType::InnerJoin,
            candidate_skills::Entity,
            Expr::col((candidate_skills::Entity, candidate_skills::Column::CandidateId))
                .equals((profiles::Entity, C::Id)),
        )
        .and_where(Expr::col((candidate_skills::Entity, candidate_skills::Column::SkillKey)).is_in(keys))
        .and_where(Expr::col((profiles::Entity, C::Visibility)).is_in(visibilities.iter().map(|v| v.as_str())))
        .and_where(Expr::col((profiles::Entity, C::Id)).not_in_subquery(applied))
        .group_by_columns(columns.map(|c| (profiles::Entity, c)));
    for (i, spellings) in wanted.iter().enumerate() {
        select.expr_as(
            Expr::cust_with_values(
                format!(
                    "SUM(CASE WHEN candidate_skills.skill_key IN ({}) THEN 1 ELSE 0 END)",
                    placeholders(backend, spellings.len())
                ),
                key_values(spellings),
            ),
            format!("has_{i}"),
        );
    }
    let rows = conn.query_all_raw(backend.build(&select)).await?;
    let mut out = Vec::with_capacity(rows.len());
    for row in rows {
        let text = |column: &str| row.try_get::<Option<String>>("", column);
        let location = profile_location(text("city")?, text("region")?, text("country")?)?;
        let open_to = [
            ("open_onsite", Workplace::Onsite),
            ("open_hybrid", Workplace::Hybrid),
            ("open_remote", Workplace::Remote),
        ]
        .into_iter()
        .map(|(column, w)| row.try_get::<bool>("", column).map(|open| open.then_some(w)))
        .filter_map(Result::transpose)
        .collect::<Result<_, _>>()?;
        let has = (0..wanted.len())
            .map(|i| row.try_get::<i64>("", &format!("has_{i}")).map(|n| n > 0))
            .collect::<Result<_, _>>()?;
        out.push(CandidateRow {
            id: CandidateId(row.try_get("", "id")?),
            updated_at: row.try_get("", "updated_at")?,
            facts: hiring_team_facts(
                text("headline")?,
                text("seniority")?.as_deref().and_then(Seniority::parse),
                row.try_get("", "years_experience")?,
                open_to,
                location,
            ),
            has,
        });
    }
    Ok(out)
}

/// A listed profile as the talent index keeps it (`talent::TalentIndex`).
#[derive(Debug, Clone)]
pub struct ListedRow {
    pub id: CandidateId,
    pub updated_at: DateTime<Utc>,
    pub visibility: Visibility,
    /// As a hiring team sees them (see `hiring_team_facts`).
    pub facts: CandidateFacts,
    /// The stored keys of the skills the profile lists.
    pub skill_keys: Vec<String>,
}

/// The listed (`PUBLIC`, `EMPLOYERS`) profiles among `ids`, or the first `limit` after the id
/// `after` in id order (`ids` empty), with their skill keys: two statements. The second value is
/// the last id read when `limit` were read (there may be more), `None` at the end.
pub async fn listed_candidates(
    ids: &[CandidateId],
    after: Option<CandidateId>,
    limit: u64,
    conn: &impl ConnectionTrait,
) -> Result<(Vec<ListedRow>, Option<CandidateId>), StoreError> {
    use profiles::Column as C;
    let mut select = profiles::Entity::find()
        .filter(C::Visibility.is_in([Visibility::Public.as_str(), Visibility::Employers.as_str()]))
        .order_by_asc(C::Id)
        .limit(limit);
    if !ids.is_empty() {
        select = select.filter(C::Id.is_in(ids.iter().map(|id| id.0)));
    }
    if let Some(after) = after {
        select = select.filter(C::Id.gt(after.0));
    }
    let found = select.all(conn).await?;
    let last = (found.len() as u64 == limit).then(|| found.last().map(|p| CandidateId(p.id))).flatten();
    let mut keys: HashMap<Uuid, Vec<String>> = HashMap::new();
    if !found.is_empty() {
        let pairs: Vec<(Uuid, String)> = candidate_skills::Entity::find()
            .select_only()
            .columns([candidate_skills::Column::CandidateId, candidate_skills::Column::SkillKey])
            .filter(candidate_skills::Column::CandidateId.is_in(found.iter().map(|p| p.id)))
            .into_tuple()
            .all(conn)
            .await?;
        for (candidate, key) in pairs {
            keys.entry(candidate).or_default().push(key);
        }
    }
    let mut rows = Vec::with_capacity(found.len());
    for p in found {
        let open_to = [
            (p.open_onsite, Workplace::Onsite),
            (p.open_hybrid, Workplace::Hybrid),
            (p.open_remote, Workplace::Remote),
        ]
        .into_iter()
        .filter_map(|(open, w)| open.then_some(w))
        .collect();
        rows.push(ListedRow {
            id: CandidateId(p.id),
            updated_at: p.updated_at,
            visibility: Visibility::parse(&p.visibility)
                .ok_or_else(|| StoreError::corrupt(format!("visibility {}", p.visibility)))?,
            facts: hiring_team_facts(
                p.headline,
                p.seniority.as_deref().and_then(Seniority::parse),
                p.years_experience,
                open_to,
                profile_location(p.city, p.region, p.country)?,
            ),
            skill_keys: keys.remove(&p.id).unwrap_or_default(),
        });
    }
    Ok((rows, last))
}

/// What matching weighs of a profile for a hiring team: no skill names (counted apart) and the
/// desired salary private.
fn hiring_team_facts(
    headline: Option<String>,
    seniority: Option<Seniority>,
    years: Option<i32>,
    open_to: Vec<Workplace>,
    location: Option<Location>,
) -> CandidateFacts {
    CandidateFacts {
        headline,
        skills: Vec::new(),
        seniority,
        years,
        desired_salary: DesiredSalary::Private,
        open_to,
        location,
    }
}

/// A profile's location from its columns: a city makes it an office place, a country alone a
/// remote one.
fn profile_location(
    city: Option<String>,
    region: Option<String>,
    country: Option<String>,
) -> Result<Option<Location>, StoreError> {
    let Some(country) = country else { return Ok(None) };
    let remote_only = city.is_none();
    location(city, region, &country, remote_only).map(Some)
}
