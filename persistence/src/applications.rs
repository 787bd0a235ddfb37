//! Applications, their events and the hiring team's notes.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use hiregraph_domain::applications::{Application, ApplicationEvent, ApplicationNote, ApplicationStatus, Source};
use hiregraph_domain::{ApplicationId, CandidateId, CompanyId, PostingId, UserId};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder, QuerySelect,
    Select,
};
use uuid::Uuid;

use crate::entities::{application_events as events, application_notes as notes, applications};
use crate::error::StoreError;
use crate::page::{Cursor, Keyset, Page, PageRequest, SortKey};

fn status(raw: &str) -> Result<ApplicationStatus, StoreError> {
    ApplicationStatus::parse(raw).ok_or_else(|| StoreError::corrupt(format!("application status {raw}")))
}

fn to_domain(row: applications::Model) -> Result<Application, StoreError> {
    let source = match (row.source.as_str(), row.source_name) {
        ("DIRECT", _) => Source::Direct,
        ("REFERRAL", _) => Source::Referral,
        ("PARTNER", Some(name)) => Source::Partner(name),
        (other, _) => return Err(StoreError::corrupt(format!("source {other}"))),
    };
    Ok(Application {
        id: ApplicationId(row.id),
        posting_id: PostingId(row.posting_id),
        company_id: CompanyId(row.company_id),
        candidate_id: CandidateId(row.candidate_id),
        cover_letter: row.cover_letter,
        source,
        status: status(&row.status)?,
        created_at: row.created_at,
        updated_at: row.updated_at,
        resume_text: row.resume_text,
        answers: match row.answers.as_deref() {
            None => Vec::new(),
            Some(raw) => serde_json::from_str(raw).map_err(|e| StoreError::corrupt(format!("answers: {e}")))?,
        },
    })
}

/// Inserts an application with the event that created it. A second application of the same
/// candidate to the same posting is `Duplicate("application")`, enforced by a unique index.
pub async fn insert(application: &Application, actor: UserId, conn: &impl ConnectionTrait) -> Result<(), StoreError> {
    let (source, source_name) = match &application.source {
        Source::Direct => ("DIRECT", None),
        Source::Referral => ("REFERRAL", None),
        Source::Partner(name) => ("PARTNER", Some(name.clone())),
    };
    let row = applications::ActiveModel {
        id: Set(application.id.0),
        posting_id: Set(application.posting_id.0),
        company_id: Set(application.company_id.0),
        candidate_id: Set(application.candidate_id.0),
        cover_letter: Set(application.cover_letter.clone()),
        source: Set(source.to_owned()),
        source_name: Set(source_name),
        status: Set(application.status.as_str().to_owned()),
        created_at: Set(application.created_at),
        updated_at: Set(application.updated_at),
        resume_text: Set(application.resume_text.clone()),
        answers: Set(if application.answers.is_empty() {
            None
        } else {
            Some(serde_json::to_string(&application.answers).map_err(StoreError::corrupt)?)
        }),
    };
    applications::Entity::insert(row)
        .exec_without_returning(conn)
        .await
        .map_err(|e| StoreError::on_write(e, "application"))?;
    insert_event(
        &ApplicationEvent {
            id: Uuid::now_v7(),
            application_id: application.id,
            from: None,
            to: application.status,
            actor,
            note: None,
            at: application.created_at,
        },
        conn,
    )
    .await
}

pub async fn insert_event(event: &ApplicationEvent, conn: &impl ConnectionTrait) -> Result<(), StoreError> {
    let row = events::ActiveModel {
        id: Set(event.id),
        application_id: Set(event.application_id.0),
        from_status: Set(event.from.map(|s| s.as_str().to_owned())),
        to_status: Set(event.to.as_str().to_owned()),
        actor_id: Set(event.actor.0),
        note: Set(event.note.clone()),
        created_at: Set(event.at),
    };
    events::Entity::insert(row).exec_without_returning(conn).await?;
    Ok(())
}

/// Moves an application from `from` to `to` only if it is still in `from` (`StaleVersion`
/// otherwise), so concurrent moves cannot both succeed.
pub async fn set_status(
    id: ApplicationId,
    from: ApplicationStatus,
    to: ApplicationStatus,
    now: DateTime<Utc>,
    conn: &impl ConnectionTrait,
) -> Result<(), StoreError> {
    let result = applications::Entity::update_many()
        .col_expr(applications::Column::Status, Expr::value(to.as_str()))
        .col_expr(applications::Column::UpdatedAt, Expr::value(now))
        .filter(applications::Column::Id.eq(id.0))
        .filter(applications::Column::Status.eq(from.as_str()))
        .exec(conn)
        .await?;
    if result.rows_affected != 1 {
        return Err(StoreError::StaleVersion);
    }
    Ok(())
}

pub async fn find_by_ids(ids: &[ApplicationId], conn: &impl ConnectionTrait) -> Result<Vec<Application>, StoreError> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let rows =
        applications::Entity::find().filter(applications::Column::Id.is_in(ids.iter().map(|i| i.0))).all(conn).await?;
    rows.into_iter().map(to_domain).collect()
}

pub async fn find_id(
    posting: PostingId,
    candidate: CandidateId,
    conn: &impl ConnectionTrait,
) -> Result<Option<ApplicationId>, StoreError> {
    let id: Option<Uuid> = applications::Entity::find()
        .select_only()
        .column(applications::Column::Id)
        .filter(applications::Column::PostingId.eq(posting.0))
        .filter(applications::Column::CandidateId.eq(candidate.0))
        .into_tuple()
        .one(conn)
        .await?;
    Ok(id.map(ApplicationId))
}

fn posting_select(posting: PostingId, statuses: &[ApplicationStatus]) -> Select<applications::Entity> {
    let mut select = applications::Entity::find().filter(applications::Column::PostingId.eq(posting.0));
    if !statuses.is_empty() {
        select = select.filter(applications::Column::Status.is_in(statuses.iter().map(|s| s.as_str())));
    }
    select
}

async fn page_of(
    select: Select<applications::Entity>,
    request: &PageRequest,
    conn: &impl ConnectionTrait,
) -> Result<Page<ApplicationId>, StoreError> {
    let keyset = Keyset::by(applications::Column::CreatedAt, applications::Column::Id, false);
    let select = select.select_only().column(applications::Column::Id).column(applications::Column::CreatedAt);
    keyset
        .page(select, request, |select| async move {
            let rows: Vec<(Uuid, DateTime<Utc>)> = select.into_tuple().all(conn).await?;
            Ok::<_, StoreError>(
                rows.into_iter().map(|(id, at)| (ApplicationId(id), Cursor { key: SortKey::Time(at), id })).collect(),
            )
        })
        .await
}

/// A posting's applications, newest first, optionally by status.
pub async fn for_posting(
    posting: PostingId,
    statuses: &[ApplicationStatus],
    request: &PageRequest,
    conn: &impl ConnectionTrait,
) -> Result<Page<ApplicationId>, StoreError> {
    page_of(posting_select(posting, statuses), request, conn).await
}

/// A candidate's applications, newest first.
pub async fn for_candidate(
    candidate: CandidateId,
    request: &PageRequest,
    conn: &impl ConnectionTrait,
) -> Result<Page<ApplicationId>, StoreError> {
    page_of(applications::Entity::find().filter(applications::Column::CandidateId.eq(candidate.0)), request, conn).await
}

pub async fn count_for_candidate(candidate: CandidateId, conn: &impl ConnectionTrait) -> Result<u64, StoreError> {
    Ok(applications::Entity::find().filter(applications::Column::CandidateId.eq(candidate.0)).count(conn).await?)
}

/// Applications per status for several postings, in one grouped query.
pub async fn pipeline_counts(
    postings: &[PostingId],
    conn: &impl ConnectionTrait,
) -> Result<HashMap<PostingId, Vec<(ApplicationStatus, u64)>>, StoreError> {
    if postings.is_empty() {
        return Ok(HashMap::new());
    }
    let rows: Vec<(Uuid, String, i64)> = applications::Entity::find()
        .select_only()
        .column(applications::Column::PostingId)
        .column(applications::Column::Status)
        .column_as(applications::Column::Id.count(), "n")
        .filter(applications::Column::PostingId.is_in(postings.iter().map(|p| p.0)))
        .group_by(applications::Column::PostingId)
        .group_by(applications::Column::Status)
        .into_tuple()
        .all(conn)
        .await?;
    let mut out: HashMap<PostingId, Vec<(ApplicationStatus, u64)>> = HashMap::new();
    for (posting, raw, n) in rows {
        out.entry(PostingId(posting)).or_default().push((status(&raw)?, u64::try_from(n).unwrap_or(0)));
    }
    Ok(out)
}

/// Which of `candidates` applied to any of `companies`: decides who sees contact fields.
pub async fn applied_to_any(
    candidates: &[CandidateId],
    companies: &[CompanyId],
    conn: &impl ConnectionTrait,
) -> Result<Vec<CandidateId>, StoreError> {
    if candidates.is_empty() || companies.is_empty() {
        return Ok(Vec::new());
    }
    let rows: Vec<Uuid> = applications::Entity::find()
        .select_only()
        .column(applications::Column::CandidateId)
        .distinct()
        .filter(applications::Column::CandidateId.is_in(candidates.iter().map(|c| c.0)))
        .filter(applications::Column::CompanyId.is_in(companies.iter().map(|c| c.0)))
        .into_tuple()
        .all(conn)
        .await?;
    Ok(rows.into_iter().map(CandidateId).collect())
}

/// The events of several applications, oldest first within each.
pub async fn events_of(
    ids: &[ApplicationId],
    conn: &impl ConnectionTrait,
) -> Result<HashMap<ApplicationId, Vec<ApplicationEvent>>, StoreError> {
    if ids.is_empty() {
        return Ok(HashMap::new());
    }
    let rows = events::Entity::find()
        .filter(events::Column::ApplicationId.is_in(ids.iter().map(|i| i.0)))
        .order_by_asc(events::Column::CreatedAt)
        .order_by_asc(events::Column::Id)
        .all(conn)
        .await?;
    let mut out: HashMap<ApplicationId, Vec<ApplicationEvent>> = HashMap::new();
    for r in rows {
        let event = event_to_domain(r)?;
        out.entry(event.application_id).or_default().push(event);
    }
    Ok(out)
}

fn event_to_domain(r: events::Model) -> Result<ApplicationEvent, StoreError> {
    Ok(ApplicationEvent {
        id: r.id,
        application_id: ApplicationId(r.application_id),
        from: r.from_status.as_deref().map(status).transpose()?,
        to: status(&r.to_status)?,
        actor: UserId(r.actor_id),
        note: r.note,
        at: r.created_at,
    })
}

/// One event by id, for `node(id)`.
pub async fn find_event(id: Uuid, conn: &impl ConnectionTrait) -> Result<Option<ApplicationEvent>, StoreError> {
    events::Entity::find_by_id(id).one(conn).await?.map(event_to_domain).transpose()
}

pub async fn insert_note(note: &ApplicationNote, conn: &impl ConnectionTrait) -> Result<(), StoreError> {
    let row = notes::ActiveModel {
        id: Set(note.id),
        application_id: Set(note.application_id.0),
        author_id: Set(note.author.0),
        body: Set(note.body.clone()),
        created_at: Set(note.at),
    };
    notes::Entity::insert(row).exec_without_returning(conn).await?;
    Ok(())
}

/// The notes of applications, oldest first per application, in one statement.
pub async fn notes_of(
    ids: &[ApplicationId],
    conn: &impl ConnectionTrait,
) -> Result<HashMap<ApplicationId, Vec<ApplicationNote>>, StoreError> {
    if ids.is_empty() {
        return Ok(HashMap::new());
    }
    let rows = notes::Entity::find()
        .filter(notes::Column::ApplicationId.is_in(ids.iter().map(|i| i.0)))
        .order_by_asc(notes::Column::CreatedAt)
        .order_by_asc(notes::Column::Id)
        .all(conn)
        .await?;
    let mut out: HashMap<ApplicationId, Vec<ApplicationNote>> = HashMap::new();
    for r in rows {
        out.entry(ApplicationId(r.application_id)).or_default().push(ApplicationNote {
            id: r.id,
            application_id: ApplicationId(r.application_id),
            author: UserId(r.author_id),
            body: r.body,
            at: r.created_at,
        });
    }
    Ok(out)
}

/// Gives `to` the applications of `from` to every posting `to` has not applied to yet, and says
/// how many moved; the others (one person applied twice, once with each profile) stay with `from`.
pub async fn reassign(from: CandidateId, to: CandidateId, conn: &impl ConnectionTrait) -> Result<u64, StoreError> {
    let applied = sea_orm::sea_query::Query::select()
        .column(applications::Column::PostingId)
        .from(applications::Entity)
        .and_where(applications::Column::CandidateId.eq(to.0))
        .to_owned();
    let result = applications::Entity::update_many()
        .col_expr(applications::Column::CandidateId, Expr::value(to.0))
        .filter(applications::Column::CandidateId.eq(from.0))
        .filter(applications::Column::PostingId.not_in_subquery(applied))
        .exec(conn)
        .await?;
    Ok(result.rows_affected)
}

/// The ids of a candidate's applications (a claim moves a handful, never a page's worth).
pub async fn ids_of_candidate(
    candidate: CandidateId,
    conn: &impl ConnectionTrait,
) -> Result<Vec<ApplicationId>, StoreError> {
    let ids: Vec<Uuid> = applications::Entity::find()
        .select_only()
        .column(applications::Column::Id)
        .filter(applications::Column::CandidateId.eq(candidate.0))
        .into_tuple()
        .all(conn)
        .await?;
    Ok(ids.into_iter().map(ApplicationId).collect())
}

/// The candidates who applied to a posting (recommendations leave them out).
pub async fn candidates_of_posting(
    posting: PostingId,
    conn: &impl ConnectionTrait,
) -> Result<Vec<CandidateId>, StoreError> {
    let ids: Vec<Uuid> = applications::Entity::find()
        .select_only()
        .column(applications::Column::CandidateId)
        .filter(applications::Column::PostingId.eq(posting.0))
        .into_tuple()
        .all(conn)
        .await?;
    Ok(ids.into_iter().map(CandidateId).collect())
}

/// The postings a candidate has applied to (recommendations leave them out).
pub async fn postings_of_candidate(
    candidate: CandidateId,
    conn: &impl ConnectionTrait,
) -> Result<Vec<PostingId>, StoreError> {
    let ids: Vec<Uuid> = applications::Entity::find()
        .select_only()
        .column(applications::Column::PostingId)
        .filter(applications::Column::CandidateId.eq(candidate.0))
        .into_tuple()
        .all(conn)
        .await?;
    Ok(ids.into_iter().map(PostingId).collect())
}

/// How many applications exist (for the demo loader).
pub async fn count_all(conn: &impl ConnectionTrait) -> Result<u64, StoreError> {
    Ok(applications::Entity::find().count(conn).await?)
}
