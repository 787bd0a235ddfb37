//! Candidate profiles and their skills.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use hiregraph_domain::candidates::{CandidateProfile, CandidateSkill, ProfileContent, Visibility};
use hiregraph_domain::postings::{PostingSkill, Seniority, Workplace};
use hiregraph_domain::values::{CountryCode, Email, Location, SalaryPeriod, SalaryRange};
use hiregraph_domain::{CandidateId, UserId};
use sea_orm::sea_query::Query;
use sea_orm::{
    ActiveValue::Set, ColumnTrait, Condition, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter, QuerySelect,
    Select,
};
use uuid::Uuid;

use crate::entities::{candidate_profiles as profiles, candidate_skills as skills};
use crate::error::StoreError;
use crate::page::{Cursor, Keyset, Page, PageRequest, SortKey};

fn json<T: serde::de::DeserializeOwned>(raw: &str, what: &str) -> Result<T, StoreError> {
    serde_json::from_str(raw).map_err(|e| StoreError::corrupt(format!("{what}: {e}")))
}

fn to_domain(row: profiles::Model, mut skill_rows: Vec<skills::Model>) -> Result<CandidateProfile, StoreError> {
    skill_rows.sort_by_key(|s| s.position);
    let location = match &row.country {
        Some(country) => Some(
            Location::new(row.city.as_deref(), row.region.as_deref(), country, row.city.is_none())
                .map_err(StoreError::corrupt)?,
        ),
        None => None,
    };
    let desired_salary = match (row.desired_min, row.desired_max, &row.desired_currency, &row.desired_period) {
        (Some(min), Some(max), Some(currency), Some(period)) => {
            let period = SalaryPeriod::parse(period).ok_or_else(|| StoreError::corrupt(format!("period {period}")))?;
            Some(SalaryRange::new(min, max, currency, period).map_err(StoreError::corrupt)?)
        }
        _ => None,
    };
    let mut open_to = Vec::new();
    for (flag, workplace) in [
        (row.open_onsite, Workplace::Onsite),
        (row.open_hybrid, Workplace::Hybrid),
        (row.open_remote, Workplace::Remote),
    ] {
        if flag {
            open_to.push(workplace);
        }
    }
    Ok(CandidateProfile {
        id: CandidateId(row.id),
        user_id: row.user_id.map(UserId),
        content: ProfileContent {
            display_name: row.display_name,
            headline: row.headline,
            bio: row.bio,
            location,
            years_experience: row.years_experience,
            seniority: row
                .seniority
                .as_deref()
                .map(|s| Seniority::parse(s).ok_or_else(|| StoreError::corrupt(format!("seniority {s}"))))
                .transpose()?,
            skills: skill_rows.into_iter().map(|s| CandidateSkill { name: s.name, years: s.years }).collect(),
            work_history: json(&row.work_history, "work history")?,
            education: json(&row.education, "education")?,
            links: json(&row.links, "links")?,
            desired_salary,
            open_to,
            visibility: Visibility::parse(&row.visibility)
                .ok_or_else(|| StoreError::corrupt(format!("visibility {}", row.visibility)))?,
            contact_email: row.contact_email.as_deref().map(Email::parse).transpose().map_err(StoreError::corrupt)?,
            contact_phone: row.contact_phone,
        },
        created_at: row.created_at,
        updated_at: row.updated_at,
    })
}

fn columns(profile: &CandidateProfile) -> Result<profiles::ActiveModel, StoreError> {
    let c = &profile.content;
    let json = |v: serde_json::Result<String>| v.map_err(StoreError::corrupt);
    Ok(profiles::ActiveModel {
        id: Set(profile.id.0),
        user_id: Set(profile.user_id.map(|u| u.0)),
        display_name: Set(c.display_name.clone()),
        headline: Set(c.headline.clone()),
        bio: Set(c.bio.clone()),
        city: Set(c.location.as_ref().and_then(|l| l.city().map(str::to_owned))),
        region: Set(c.location.as_ref().and_then(|l| l.region().map(str::to_owned))),
        country: Set(c.location.as_ref().map(|l| l.country().as_str().to_owned())),
        years_experience: Set(c.years_experience),
        seniority: Set(c.seniority.map(|s| s.as_str().to_owned())),
        desired_min: Set(c.desired_salary.map(|s| s.min())),
        desired_max: Set(c.desired_salary.map(|s| s.max())),
        desired_currency: Set(c.desired_salary.map(|s| s.currency().as_str().to_owned())),
        desired_period: Set(c.desired_salary.map(|s| s.period().as_str().to_owned())),
        open_onsite: Set(c.open_to.contains(&Workplace::Onsite)),
        open_hybrid: Set(c.open_to.contains(&Workplace::Hybrid)),
        open_remote: Set(c.open_to.contains(&Workplace::Remote)),
        visibility: Set(c.visibility.as_str().to_owned()),
        contact_email: Set(c.contact_email.as_ref().map(|e| e.as_str().to_owned())),
        contact_phone: Set(c.contact_phone.clone()),
        work_history: Set(json(serde_json::to_string(&c.work_history))?),
        education: Set(json(serde_json::to_string(&c.education))?),
        links: Set(json(serde_json::to_string(&c.links))?),
        // An applicant without an account is found again by this (unique) email.
        applicant_email: Set(match profile.user_id {
            Some(_) => None,
            None => c.contact_email.as_ref().map(|e| e.as_str().to_owned()),
        }),
        created_at: Set(profile.created_at),
        updated_at: Set(profile.updated_at),
    })
}

async fn replace_skills(
    id: CandidateId,
    list: &[CandidateSkill],
    conn: &impl ConnectionTrait,
) -> Result<(), StoreError> {
    skills::Entity::delete_many().filter(skills::Column::CandidateId.eq(id.0)).exec(conn).await?;
    let rows: Vec<_> = list
        .iter()
        .enumerate()
        .map(|(i, s)| skills::ActiveModel {
            candidate_id: Set(id.0),
            skill_key: Set(PostingSkill::key(&s.name)),
            name: Set(s.name.clone()),
            years: Set(s.years),
            position: Set(i32::try_from(i).unwrap_or(i32::MAX)),
        })
        .collect();
    if !rows.is_empty() {
        skills::Entity::insert_many(rows).exec_without_returning(conn).await?;
    }
    Ok(())
}

/// Inserts a profile; a user who already has one is `Duplicate("candidate profile")`.
pub async fn insert(profile: &CandidateProfile, conn: &impl ConnectionTrait) -> Result<(), StoreError> {
    profiles::Entity::insert(columns(profile)?)
        .exec_without_returning(conn)
        .await
        .map_err(|e| StoreError::on_write(e, "candidate profile"))?;
    replace_skills(profile.id, &profile.content.skills, conn).await
}

/// Replaces a profile's content (its id, owner and creation time stay).
pub async fn update(profile: &CandidateProfile, conn: &impl ConnectionTrait) -> Result<(), StoreError> {
    let mut row = columns(profile)?;
    row.id = sea_orm::ActiveValue::Unchanged(profile.id.0);
    row.user_id = sea_orm::ActiveValue::NotSet;
    row.applicant_email = sea_orm::ActiveValue::NotSet;
    row.created_at = sea_orm::ActiveValue::NotSet;
    profiles::Entity::update(row).exec(conn).await?;
    replace_skills(profile.id, &profile.content.skills, conn).await
}

/// The applicant without an account who has this email: the one `profile` describes, inserted
/// unless one exists (then that one is kept as it is, whatever `profile` says). Concurrent calls
/// with one email find one record: the unique index decides and the losers read the winner's.
pub async fn find_or_insert_applicant(
    profile: &CandidateProfile,
    email: &Email,
    conn: &impl ConnectionTrait,
) -> Result<(CandidateId, bool), StoreError> {
    use sea_orm::TryInsertResult;
    use sea_orm::sea_query::OnConflict;
    if let Some(id) = find_applicant(email, conn).await? {
        return Ok((id, false));
    }
    let inserted = profiles::Entity::insert(columns(profile)?)
        .on_conflict(OnConflict::column(profiles::Column::ApplicantEmail).do_nothing().to_owned())
        .try_insert()
        .exec_without_returning(conn)
        .await;
    match inserted {
        Ok(TryInsertResult::Inserted(1)) => return Ok((profile.id, true)),
        Ok(_) | Err(sea_orm::DbErr::RecordNotInserted) => {}
        Err(e) => return Err(e.into()),
    }
    let id = find_applicant(email, conn).await?;
    id.map(|id| (id, false)).ok_or_else(|| StoreError::corrupt("an applicant's email conflicted but is not found"))
}

async fn find_applicant(email: &Email, conn: &impl ConnectionTrait) -> Result<Option<CandidateId>, StoreError> {
    let id: Option<Uuid> = profiles::Entity::find()
        .select_only()
        .column(profiles::Column::Id)
        .filter(profiles::Column::ApplicantEmail.eq(email.as_str()))
        .into_tuple()
        .one(conn)
        .await?;
    Ok(id.map(CandidateId))
}

/// Gives an applicant's profile to `user`, if it still has no account (`StaleVersion` if another
/// claim took it first).
pub async fn attach_to_user(
    id: CandidateId,
    user: UserId,
    now: DateTime<Utc>,
    conn: &impl ConnectionTrait,
) -> Result<(), StoreError> {
    use sea_orm::sea_query::Expr;
    let result = profiles::Entity::update_many()
        .col_expr(profiles::Column::UserId, Expr::value(user.0))
        .col_expr(profiles::Column::ApplicantEmail, Expr::value(Option::<String>::None))
        .col_expr(profiles::Column::UpdatedAt, Expr::value(now))
        .filter(profiles::Column::Id.eq(id.0))
        .filter(profiles::Column::UserId.is_null())
        .exec(conn)
        .await?;
    if result.rows_affected != 1 {
        return Err(StoreError::StaleVersion);
    }
    Ok(())
}

/// A claim token (its hash) for an applicant, valid until `expires_at`.
pub async fn insert_claim(
    token_hash: &str,
    candidate: CandidateId,
    now: DateTime<Utc>,
    expires_at: DateTime<Utc>,
    conn: &impl ConnectionTrait,
) -> Result<(), StoreError> {
    use crate::entities::applicant_claims as claims;
    let row = claims::ActiveModel {
        token_hash: Set(token_hash.to_owned()),
        candidate_id: Set(candidate.0),
        created_at: Set(now),
        expires_at: Set(expires_at),
    };
    claims::Entity::insert(row).exec_without_returning(conn).await?;
    Ok(())
}

/// The applicant a claim token names and until when it holds.
pub async fn find_claim(
    token_hash: &str,
    conn: &impl ConnectionTrait,
) -> Result<Option<(CandidateId, DateTime<Utc>)>, StoreError> {
    use crate::entities::applicant_claims as claims;
    let row = claims::Entity::find_by_id(token_hash.to_owned()).one(conn).await?;
    Ok(row.map(|r| (CandidateId(r.candidate_id), r.expires_at)))
}

/// Ends every claim token of an applicant (a claim spends them all).
pub async fn delete_claims(candidate: CandidateId, conn: &impl ConnectionTrait) -> Result<(), StoreError> {
    use crate::entities::applicant_claims as claims;
    claims::Entity::delete_many().filter(claims::Column::CandidateId.eq(candidate.0)).exec(conn).await?;
    Ok(())
}

/// Removes a profile (an applicant record whose applications all moved to an account).
pub async fn delete(id: CandidateId, conn: &impl ConnectionTrait) -> Result<(), StoreError> {
    skills::Entity::delete_many().filter(skills::Column::CandidateId.eq(id.0)).exec(conn).await?;
    profiles::Entity::delete_by_id(id.0).exec(conn).await?;
    Ok(())
}

pub async fn find_by_ids(
    ids: &[CandidateId],
    conn: &impl ConnectionTrait,
) -> Result<Vec<CandidateProfile>, StoreError> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let uuids: Vec<Uuid> = ids.iter().map(|i| i.0).collect();
    let rows = profiles::Entity::find().filter(profiles::Column::Id.is_in(uuids.clone())).all(conn).await?;
    let mut by_candidate: HashMap<Uuid, Vec<skills::Model>> = HashMap::new();
    for s in skills::Entity::find().filter(skills::Column::CandidateId.is_in(uuids)).all(conn).await? {
        by_candidate.entry(s.candidate_id).or_default().push(s);
    }
    rows.into_iter()
        .map(|row| {
            let s = by_candidate.remove(&row.id).unwrap_or_default();
            to_domain(row, s)
        })
        .collect()
}

pub async fn find_id_by_user(user: UserId, conn: &impl ConnectionTrait) -> Result<Option<CandidateId>, StoreError> {
    let id: Option<Uuid> = profiles::Entity::find()
        .select_only()
        .column(profiles::Column::Id)
        .filter(profiles::Column::UserId.eq(user.0))
        .into_tuple()
        .one(conn)
        .await?;
    Ok(id.map(CandidateId))
}

/// Filters of the candidate search. Lists mean "any of", except `skills` (all of them).
#[derive(Debug, Clone, Default)]
pub struct CandidateFilter {
    pub skills: Vec<String>,
    pub seniorities: Vec<Seniority>,
    pub countries: Vec<CountryCode>,
    pub open_to: Vec<Workplace>,
    /// Which listed visibilities the caller may see (`PUBLIC`, and `EMPLOYERS` for employers);
    /// `PRIVATE` is never listed, whatever this holds.
    pub visibilities: Vec<Visibility>,
}

fn search_select(filter: &CandidateFilter) -> Select<profiles::Entity> {
    use profiles::Column as C;
    // PRIVATE profiles are never listed, whoever asks.
    let listed = filter.visibilities.iter().filter(|v| **v != Visibility::Private).map(|v| v.as_str());
    let mut select = profiles::Entity::find().filter(C::Visibility.is_in(listed));
    if !filter.seniorities.is_empty() {
        select = select.filter(C::Seniority.is_in(filter.seniorities.iter().map(|s| s.as_str())));
    }
    if !filter.countries.is_empty() {
        select = select.filter(C::Country.is_in(filter.countries.iter().map(|c| c.as_str())));
    }
    if !filter.open_to.is_empty() {
        let mut any = Condition::any();
        for w in &filter.open_to {
            any = any.add(match w {
                Workplace::Onsite => C::OpenOnsite.eq(true),
                Workplace::Hybrid => C::OpenHybrid.eq(true),
                Workplace::Remote => C::OpenRemote.eq(true),
            });
        }
        select = select.filter(any);
    }
    for skill in &filter.skills {
        let sub = Query::select()
            .column(skills::Column::CandidateId)
            .from(skills::Entity)
            .and_where(skills::Column::SkillKey.eq(PostingSkill::key(skill)))
            .to_owned();
        select = select.filter(C::Id.in_subquery(sub));
    }
    select
}

/// Listed (PUBLIC and EMPLOYERS) profiles, newest first; ids only.
pub async fn search(
    filter: &CandidateFilter,
    request: &PageRequest,
    conn: &impl ConnectionTrait,
) -> Result<Page<CandidateId>, StoreError> {
    let keyset = Keyset::by(profiles::Column::CreatedAt, profiles::Column::Id, false);
    let select = search_select(filter).select_only().column(profiles::Column::Id).column(profiles::Column::CreatedAt);
    keyset
        .page(select, request, |select| async move {
            let rows: Vec<(Uuid, DateTime<Utc>)> = select.into_tuple().all(conn).await?;
            Ok::<_, StoreError>(
                rows.into_iter().map(|(id, at)| (CandidateId(id), Cursor { key: SortKey::Time(at), id })).collect(),
            )
        })
        .await
}

pub async fn search_count(filter: &CandidateFilter, conn: &impl ConnectionTrait) -> Result<u64, StoreError> {
    Ok(search_select(filter).count(conn).await?)
}
