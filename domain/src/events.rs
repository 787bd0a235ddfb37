//! What a write changed, as its unit of work records it, and the domain events partners see.
//!
//! Every write use case records one `Change` per thing it changed. Three exhaustive matches read
//! them — the event each kind becomes (here), the payload it carries (`api`), the cache entries it
//! invalidates (`persistence`) — so a new kind compiles only once all three say what it does.

use chrono::{DateTime, Utc};

use crate::applications::{Application, ApplicationNote, ApplicationStatus};
use crate::candidates::CandidateProfile;
use crate::companies::{Company, CompanyRole, Membership};
use crate::ids::{CompanyId, UserId};
use crate::postings::{Posting, PostingStatus};
use crate::webhooks::Endpoint;

/// Who made a change.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Actor {
    User(UserId),
    /// A partner application, by its credentials.
    Partner(crate::ids::PartnerAppId),
    /// The platform itself (expiry, maintenance).
    System,
}

impl Actor {
    /// The stored spelling of the kind.
    pub fn kind(self) -> &'static str {
        match self {
            Actor::User(_) => "user",
            Actor::Partner(_) => "partner",
            Actor::System => "system",
        }
    }

    pub fn id(self) -> Option<uuid::Uuid> {
        match self {
            Actor::User(id) => Some(id.0),
            Actor::Partner(id) => Some(id.0),
            Actor::System => None,
        }
    }
}

/// One thing a write changed, with the object as it is after the change.
#[derive(Debug, Clone)]
pub enum Change {
    PostingCreated(Posting),
    PostingUpdated(Posting),
    PostingStatusChanged {
        posting: Posting,
        from: PostingStatus,
    },
    /// A published posting reached its `expires_at` (found by the worker; the status stays).
    PostingExpired(Posting),
    CompanyCreated(Company),
    /// The profile or the verification changed; `renamed` when the name did (it is in the search
    /// text of the company's postings).
    CompanyUpdated {
        company: Company,
        renamed: bool,
    },
    MemberAdded(Membership),
    MemberRoleChanged {
        membership: Membership,
        from: CompanyRole,
    },
    MemberRemoved(Membership),
    ApplicationCreated(Application),
    ApplicationMoved {
        application: Application,
        from: ApplicationStatus,
        note: Option<String>,
    },
    NoteAdded {
        note: ApplicationNote,
        company: CompanyId,
    },
    CandidateProfileUpdated(CandidateProfile),
    /// An account was disabled or re-enabled: no event, but access tokens must see it at once.
    UserAccessChanged(UserId),
    /// A partner app was created, its secret rotated, or a key of it issued or revoked: no event,
    /// but the credentials' cached entries must go at once — the app's, and the revoked key's
    /// (named by the SHA-256 it is stored under).
    PartnerAccessChanged {
        app: crate::ids::PartnerAppId,
        company: CompanyId,
        revoked_key: Option<String>,
        /// The hashes of the app's keys, when what changed is held in their cached entries too
        /// (its budget).
        app_keys: Vec<String>,
    },
    /// A webhook endpoint was turned off after failing every attempt for days.
    WebhookEndpointDisabled(Endpoint),
}

text_enum!(
    /// The stable names of domain events.
    EventType {
        PostingCreated => "posting.created",
        PostingUpdated => "posting.updated",
        PostingPublished => "posting.published",
        PostingPaused => "posting.paused",
        PostingClosed => "posting.closed",
        PostingArchived => "posting.archived",
        PostingExpired => "posting.expired",
        CompanyCreated => "company.created",
        CompanyUpdated => "company.updated",
        CompanyMemberAdded => "company.member_added",
        CompanyMemberRemoved => "company.member_removed",
        CompanyMemberRoleChanged => "company.member_role_changed",
        ApplicationCreated => "application.created",
        ApplicationMoved => "application.moved",
        ApplicationRejected => "application.rejected",
        ApplicationWithdrawn => "application.withdrawn",
        ApplicationNoteAdded => "application.note_added",
        CandidateProfileUpdated => "candidate.profile_updated",
        WebhookEndpointDisabled => "webhook_endpoint.disabled",
    }
);

/// The payload layout every event type is written with now. A change of layout is a new version,
/// so a reader can tell old payloads from new ones.
pub const PAYLOAD_VERSION: i32 = 1;

impl Change {
    /// The event this change is published as, if any.
    pub fn event_type(&self) -> Option<EventType> {
        Some(match self {
            Change::PostingCreated(_) => EventType::PostingCreated,
            Change::PostingUpdated(_) => EventType::PostingUpdated,
            Change::PostingStatusChanged { posting, .. } => match posting.status {
                PostingStatus::Published => EventType::PostingPublished,
                PostingStatus::Paused => EventType::PostingPaused,
                PostingStatus::Closed => EventType::PostingClosed,
                PostingStatus::Archived => EventType::PostingArchived,
                PostingStatus::Draft => EventType::PostingUpdated,
            },
            Change::PostingExpired(_) => EventType::PostingExpired,
            Change::CompanyCreated(_) => EventType::CompanyCreated,
            Change::CompanyUpdated { .. } => EventType::CompanyUpdated,
            Change::MemberAdded(_) => EventType::CompanyMemberAdded,
            Change::MemberRoleChanged { .. } => EventType::CompanyMemberRoleChanged,
            Change::MemberRemoved(_) => EventType::CompanyMemberRemoved,
            Change::ApplicationCreated(_) => EventType::ApplicationCreated,
            Change::ApplicationMoved { application, .. } => match application.status {
                ApplicationStatus::Rejected => EventType::ApplicationRejected,
                ApplicationStatus::Withdrawn => EventType::ApplicationWithdrawn,
                _ => EventType::ApplicationMoved,
            },
            Change::NoteAdded { .. } => EventType::ApplicationNoteAdded,
            Change::CandidateProfileUpdated(_) => EventType::CandidateProfileUpdated,
            Change::UserAccessChanged(_) | Change::PartnerAccessChanged { .. } => return None,
            Change::WebhookEndpointDisabled(_) => EventType::WebhookEndpointDisabled,
        })
    }

    /// The company whose members may read the event; `None` for platform-wide ones (platform
    /// admins only).
    pub fn company(&self) -> Option<CompanyId> {
        match self {
            Change::PostingCreated(p) | Change::PostingUpdated(p) | Change::PostingExpired(p) => Some(p.company_id),
            Change::PostingStatusChanged { posting, .. } => Some(posting.company_id),
            Change::CompanyCreated(c) | Change::CompanyUpdated { company: c, .. } => Some(c.id),
            Change::MemberAdded(m) | Change::MemberRemoved(m) => Some(m.company_id),
            Change::MemberRoleChanged { membership, .. } => Some(membership.company_id),
            Change::ApplicationCreated(a) => Some(a.company_id),
            Change::ApplicationMoved { application, .. } => Some(application.company_id),
            Change::NoteAdded { company, .. } => Some(*company),
            Change::CandidateProfileUpdated(_) | Change::UserAccessChanged(_) => None,
            Change::PartnerAccessChanged { company, .. } => Some(*company),
            Change::WebhookEndpointDisabled(e) => Some(e.company_id),
        }
    }

    /// The object the change is about: deliveries keep the order of events per object.
    pub fn subject(&self) -> uuid::Uuid {
        match self {
            Change::PostingCreated(p) | Change::PostingUpdated(p) | Change::PostingExpired(p) => p.id.0,
            Change::PostingStatusChanged { posting, .. } => posting.id.0,
            Change::CompanyCreated(c) | Change::CompanyUpdated { company: c, .. } => c.id.0,
            // Membership changes of one company are ordered among themselves.
            Change::MemberAdded(m) | Change::MemberRemoved(m) => m.company_id.0,
            Change::MemberRoleChanged { membership, .. } => membership.company_id.0,
            Change::ApplicationCreated(a) => a.id.0,
            Change::ApplicationMoved { application, .. } => application.id.0,
            // A note is ordered with the moves of its application.
            Change::NoteAdded { note, .. } => note.application_id.0,
            Change::CandidateProfileUpdated(p) => p.id.0,
            Change::UserAccessChanged(id) => id.0,
            Change::PartnerAccessChanged { app, .. } => app.0,
            Change::WebhookEndpointDisabled(e) => e.id,
        }
    }
}

/// An event as the outbox holds it.
#[derive(Debug, Clone, PartialEq)]
pub struct Event {
    /// Assigned in commit order: a reader paging by position never misses one that commits late.
    pub position: i64,
    pub id: uuid::Uuid,
    pub event_type: EventType,
    pub version: i32,
    pub occurred_at: DateTime<Utc>,
    pub company_id: Option<CompanyId>,
    pub actor: Actor,
    pub subject: uuid::Uuid,
    /// JSON text: the object as the company's members may see it at event time.
    pub payload: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_event_type_reads_back_from_its_name() {
        for t in EventType::ALL {
            assert_eq!(EventType::parse(t.as_str()), Some(*t));
        }
        assert_eq!(EventType::parse("posting.deleted"), None);
    }
}
