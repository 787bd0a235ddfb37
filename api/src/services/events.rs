//! The after-commit seam as use cases see it (`Unit`), the payload each event carries, and the
//! `events` feed.
//!
//! Payloads use the API's own names and global ids, so a partner can pass an id from an event to
//! `node(id:)`. They hold what the event's company members may see of the object at event time and
//! nothing more: no candidate contact fields, and notes only in events of the note's company.

use chrono::{DateTime, Utc};
use hiregraph_domain::applications::{Application, Source};
use hiregraph_domain::candidates::CandidateProfile;
use hiregraph_domain::companies::{Company, CompanyAction, Membership};
use hiregraph_domain::events::{Actor, Change, Event, EventType};
use hiregraph_domain::postings::Posting;
use hiregraph_domain::values::Location;
use hiregraph_domain::{CompanyId, Principal};
use hiregraph_persistence::DatabaseTransaction;
use hiregraph_persistence::outbox::{self, EventFilter, UnitOfWork};
use serde_json::{Value, json};

use crate::error::{AppError, AppResult};
use crate::graphql::ids::{Kind, encode};
use crate::services::companies::authenticated;
use crate::state::{AppState, Viewer};

/// One write use case: run statements on `conn()`, `record` what changed, `commit`.
pub struct Unit<'s> {
    state: &'s AppState,
    inner: UnitOfWork,
}

pub fn actor_of(principal: &Principal) -> Actor {
    match principal {
        Principal::User { id, .. } => Actor::User(*id),
        Principal::Partner { app, .. } => Actor::Partner(*app),
        Principal::Anonymous => Actor::System,
    }
}

/// Begins a unit of work on behalf of the viewer.
pub async fn begin<'s>(state: &'s AppState, viewer: &Viewer) -> AppResult<Unit<'s>> {
    begin_as(state, actor_of(&viewer.principal)).await
}

pub async fn begin_as(state: &AppState, actor: Actor) -> AppResult<Unit<'_>> {
    begin_on(state, &state.db, actor).await
}

/// A unit of work on another pool of the same database (the worker's).
pub async fn begin_on<'s>(
    state: &'s AppState,
    db: &hiregraph_persistence::Database,
    actor: Actor,
) -> AppResult<Unit<'s>> {
    Ok(Unit { state, inner: UnitOfWork::begin(db, actor).await? })
}

impl Unit<'_> {
    pub fn conn(&self) -> &DatabaseTransaction {
        self.inner.conn()
    }

    pub fn record(&mut self, change: Change) {
        self.inner.record(change);
    }

    /// Commits the writes with their events, then invalidates what they touched.
    pub async fn commit(self) -> AppResult<Vec<Event>> {
        let events = self.inner.commit(&self.state.cache, payload).await?;
        if !events.is_empty() {
            self.state.metrics.events_written(events.len() as u64);
            self.state.relay_wake.notify_one();
        }
        // The searches of this replica go to the database until its index has read these.
        let searched = |e: &&Event| hiregraph_persistence::semantic::SemanticIndex::follows(e.event_type);
        if let Some(last) = events.iter().filter(searched).map(|e| e.position).max() {
            self.state.search_written.fetch_max(last, std::sync::atomic::Ordering::AcqRel);
        }
        if events.iter().any(|e| {
            let kind = e.event_type.as_str();
            kind.starts_with("posting.") || kind.starts_with("candidate.") || kind == "company.updated"
        }) {
            self.state.search_wake.notify_one();
        }
        Ok(events)
    }
}

fn time(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(chrono::SecondsFormat::Micros, true)
}

fn location(l: &Location) -> Value {
    json!({ "city": l.city(), "region": l.region(), "country": l.country().as_str(), "remote": l.is_remote() })
}

fn posting(p: &Posting) -> Value {
    let c = &p.content;
    json!({
        "id": encode(Kind::Posting, p.id.0).0,
        "companyId": encode(Kind::Company, p.company_id.0).0,
        "slug": p.slug,
        "status": p.status.as_str(),
        "version": p.version,
        "title": c.title,
        "summary": c.summary,
        "description": c.description,
        "responsibilities": c.responsibilities,
        "requiredQualifications": c.required_qualifications,
        "preferredQualifications": c.preferred_qualifications,
        "employmentType": c.employment_type.map(|v| v.as_str()),
        "seniority": c.seniority.map(|v| v.as_str()),
        "minYearsExperience": c.min_years_experience,
        "workplace": c.workplace.map(|v| v.as_str()),
        "locations": c.locations.iter().map(location).collect::<Vec<_>>(),
        "salary": c.salary.map(|s| json!({
            "min": s.min(), "max": s.max(), "currency": s.currency().as_str(), "period": s.period().as_str(),
        })),
        "equity": c.equity,
        "skills": c.skills.iter().map(|s| json!({ "name": s.name, "required": s.required })).collect::<Vec<_>>(),
        "benefits": c.benefits,
        "expiresAt": c.expires_at.map(time),
        "publishedAt": p.published_at.map(time),
        "createdAt": time(p.created_at),
        "updatedAt": time(p.updated_at),
    })
}

fn company(c: &Company) -> Value {
    let p = &c.profile;
    json!({
        "id": encode(Kind::Company, c.id.0).0,
        "slug": c.slug.as_str(),
        "name": p.name,
        "description": p.description,
        "website": p.website.as_ref().map(|w| w.as_str()),
        "logoUrl": p.logo.as_ref().map(|w| w.as_str()),
        "industry": p.industry,
        "size": p.size.map(|s| s.as_str()),
        "headquarters": p.headquarters.as_ref().map(location),
        "verified": c.verified,
        "createdAt": time(c.created_at),
        "updatedAt": time(c.updated_at),
    })
}

fn member(m: &Membership) -> Value {
    json!({
        "companyId": encode(Kind::Company, m.company_id.0).0,
        "userId": encode(Kind::User, m.user_id.0).0,
        "role": m.role.as_str(),
        "createdAt": time(m.created_at),
    })
}

/// An application as its company's members see it, without the candidate's contact fields (they
/// are read from the profile, by whoever may).
fn application(a: &Application) -> Value {
    let (source, partner) = match &a.source {
        Source::Direct => ("DIRECT", None),
        Source::Referral => ("REFERRAL", None),
        Source::Partner(name) => ("PARTNER", Some(name.as_str())),
    };
    json!({
        "id": encode(Kind::Application, a.id.0).0,
        "postingId": encode(Kind::Posting, a.posting_id.0).0,
        "companyId": encode(Kind::Company, a.company_id.0).0,
        "candidateId": encode(Kind::Candidate, a.candidate_id.0).0,
        "status": a.status.as_str(),
        "source": source,
        "partnerName": partner,
        "coverLetter": a.cover_letter,
        "createdAt": time(a.created_at),
        "updatedAt": time(a.updated_at),
    })
}

/// A profile's public face: what any reader of a platform event may see.
fn candidate(p: &CandidateProfile) -> Value {
    json!({
        "id": encode(Kind::Candidate, p.id.0).0,
        "displayName": p.content.display_name,
        "headline": p.content.headline,
        "visibility": p.content.visibility.as_str(),
        "updatedAt": time(p.updated_at),
    })
}

/// The object an event carries. Exhaustive: a new kind of change must say what it shows.
pub fn payload(change: &Change) -> Value {
    match change {
        Change::PostingCreated(p) | Change::PostingUpdated(p) | Change::PostingExpired(p) => {
            json!({ "posting": posting(p) })
        }
        Change::PostingStatusChanged { posting: p, from } => {
            json!({ "posting": posting(p), "previousStatus": from.as_str() })
        }
        Change::CompanyCreated(c) => json!({ "company": company(c) }),
        Change::CompanyUpdated { company: c, .. } => json!({ "company": company(c) }),
        Change::MemberAdded(m) | Change::MemberRemoved(m) => json!({ "member": member(m) }),
        Change::MemberRoleChanged { membership, from } => {
            json!({ "member": member(membership), "previousRole": from.as_str() })
        }
        Change::ApplicationCreated(a) => json!({ "application": application(a) }),
        Change::ApplicationMoved { application: a, from, note } => {
            json!({ "application": application(a), "previousStatus": from.as_str(), "note": note })
        }
        Change::NoteAdded { note, .. } => json!({
            "note": {
                "id": note.id.to_string(),
                "applicationId": encode(Kind::Application, note.application_id.0).0,
                "authorId": encode(Kind::User, note.author.0).0,
                "body": note.body,
                "createdAt": time(note.at),
            }
        }),
        Change::CandidateProfileUpdated(p) => json!({ "candidate": candidate(p) }),
        Change::UserAccessChanged(id) => json!({ "userId": encode(Kind::User, id.0).0 }),
        Change::PartnerAccessChanged { app, .. } => json!({ "partnerAppId": encode(Kind::PartnerApp, app.0).0 }),
        Change::WebhookEndpointDisabled(e) => json!({
            "webhookEndpoint": {
                "id": encode(Kind::WebhookEndpoint, e.id).0,
                "companyId": encode(Kind::Company, e.company_id.0).0,
                "url": e.url,
                "enabled": e.enabled,
                "disabledReason": e.disabled_reason,
                "failingSince": e.failing_since.map(time),
            }
        }),
    }
}

/// The most events one page returns.
pub const MAX_PAGE: u64 = 100;

/// Events the viewer may read after `after`, oldest first: a company's to its members, every
/// event to platform admins. With `company`, only that company's (which the viewer must belong to).
pub async fn list(
    state: &AppState,
    viewer: &Viewer,
    company: Option<CompanyId>,
    types: Vec<EventType>,
    after: Option<i64>,
    limit: u64,
) -> AppResult<Vec<Event>> {
    authenticated(viewer)?;
    let companies = match (company, &viewer.principal) {
        (Some(id), _) => {
            if !viewer.may(state, id, CompanyAction::ReadEvents).await? {
                return Err(AppError::Forbidden(
                    "only the company's members and partner apps with events:read read its events".into(),
                ));
            }
            Some(vec![id])
        }
        (None, principal) if principal.is_platform_admin() => None,
        (None, Principal::Partner { company, .. }) => {
            if !viewer.may(state, *company, CompanyAction::ReadEvents).await? {
                return Err(AppError::Forbidden("this partner app's scopes do not include events:read".into()));
            }
            Some(vec![*company])
        }
        (None, _) => {
            let mine: Vec<CompanyId> = viewer.memberships(state).await?.keys().copied().collect();
            if mine.is_empty() {
                return Err(AppError::Forbidden("only members of a company read events".into()));
            }
            Some(mine)
        }
    };
    let filter = EventFilter { companies, types, after };
    Ok(outbox::list(&filter, limit, &state.db.conn).await?)
}

/// Deletes events older than the retention; returns how many.
pub async fn prune(state: &AppState, now: DateTime<Utc>) -> AppResult<u64> {
    let retention = chrono::Duration::from_std(state.settings.event_retention).map_err(AppError::internal)?;
    Ok(outbox::prune(now - retention, &state.work_db.conn).await?)
}
