//! Opaque global ids (`Node.id`) and connection cursors. Both are base64url text that clients
//! must not parse; a malformed one is `BAD_USER_INPUT` naming the argument.

use async_graphql::ID;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hiregraph_domain::{CompanyId, PostingId, UserId};
use hiregraph_persistence::page::Cursor;
use uuid::Uuid;

use crate::error::AppError;

/// The kinds of object a global id can name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    User,
    Company,
    Posting,
    Candidate,
    Application,
    ApplicationEvent,
    WebhookEndpoint,
    WebhookDelivery,
    PartnerApp,
    ApiKey,
}

impl Kind {
    fn name(self) -> &'static str {
        match self {
            Kind::User => "User",
            Kind::Company => "Company",
            Kind::Posting => "Posting",
            Kind::Candidate => "CandidateProfile",
            Kind::Application => "Application",
            Kind::ApplicationEvent => "ApplicationEvent",
            Kind::WebhookEndpoint => "WebhookEndpoint",
            Kind::WebhookDelivery => "WebhookDelivery",
            Kind::PartnerApp => "PartnerApp",
            Kind::ApiKey => "ApiKey",
        }
    }

    fn parse(raw: &str) -> Option<Self> {
        [
            Kind::User,
            Kind::Company,
            Kind::Posting,
            Kind::Candidate,
            Kind::Application,
            Kind::ApplicationEvent,
            Kind::WebhookEndpoint,
            Kind::WebhookDelivery,
            Kind::PartnerApp,
            Kind::ApiKey,
        ]
        .into_iter()
        .find(|k| k.name() == raw)
    }
}

pub fn encode(kind: Kind, id: Uuid) -> ID {
    ID(URL_SAFE_NO_PAD.encode(format!("{}:{}", kind.name(), id)))
}

/// Any global id: its kind and uuid, or `None` when it is not one of ours.
pub fn decode_any(id: &str) -> Option<(Kind, Uuid)> {
    let bytes = URL_SAFE_NO_PAD.decode(id.trim()).ok()?;
    let text = String::from_utf8(bytes).ok()?;
    let (kind, uuid) = text.split_once(':')?;
    Some((Kind::parse(kind)?, Uuid::parse_str(uuid).ok()?))
}

/// A global id that must be of `kind`; `field` names the argument in the error.
pub fn decode(id: &ID, kind: Kind, field: &str) -> Result<Uuid, AppError> {
    match decode_any(id) {
        Some((k, uuid)) if k == kind => Ok(uuid),
        Some((k, _)) => Err(AppError::bad_input(field, format!("is a {} id, not a {} id", k.name(), kind.name()))),
        None => Err(AppError::bad_input(field, format!("`{}` is not an id from this API", id.as_str()))),
    }
}

pub fn posting_id(id: &ID, field: &str) -> Result<PostingId, AppError> {
    decode(id, Kind::Posting, field).map(PostingId)
}

pub fn company_id(id: &ID, field: &str) -> Result<CompanyId, AppError> {
    decode(id, Kind::Company, field).map(CompanyId)
}

pub fn candidate_id(id: &ID, field: &str) -> Result<hiregraph_domain::CandidateId, AppError> {
    decode(id, Kind::Candidate, field).map(hiregraph_domain::CandidateId)
}

pub fn application_id(id: &ID, field: &str) -> Result<hiregraph_domain::ApplicationId, AppError> {
    decode(id, Kind::Application, field).map(hiregraph_domain::ApplicationId)
}

pub fn user_id(id: &ID, field: &str) -> Result<UserId, AppError> {
    decode(id, Kind::User, field).map(UserId)
}

pub fn encode_cursor(cursor: &Cursor) -> String {
    URL_SAFE_NO_PAD.encode(serde_json::to_vec(cursor).unwrap_or_default())
}

pub fn decode_cursor(raw: &str, field: &str) -> Result<Cursor, AppError> {
    URL_SAFE_NO_PAD
        .decode(raw.trim())
        .ok()
        .and_then(|bytes| serde_json::from_slice(&bytes).ok())
        .ok_or_else(|| AppError::bad_input(field, "is not a cursor from this connection"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_round_trip_and_keep_their_kind() {
        let uuid = Uuid::now_v7();
        let id = encode(Kind::Posting, uuid);
        assert_eq!(decode_any(&id), Some((Kind::Posting, uuid)));
        assert!(posting_id(&id, "id").is_ok());
        assert!(company_id(&id, "id").is_err());
        assert!(posting_id(&ID("nonsense".into()), "id").is_err());
    }
}
