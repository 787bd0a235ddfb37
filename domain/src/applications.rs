//! Applications and their pipeline: `APPLIED → SCREENING → INTERVIEW → OFFER → HIRED`, forward
//! moves may skip stages, any open status may become `REJECTED` (by the company) or `WITHDRAWN`
//! (by the candidate); terminal statuses are final.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::ids::{ApplicationId, CandidateId, CompanyId, PostingId, UserId};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum ApplicationStatus {
    Applied,
    Screening,
    Interview,
    Offer,
    Hired,
    Rejected,
    Withdrawn,
}

impl ApplicationStatus {
    pub const ALL: [ApplicationStatus; 7] =
        [Self::Applied, Self::Screening, Self::Interview, Self::Offer, Self::Hired, Self::Rejected, Self::Withdrawn];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Applied => "APPLIED",
            Self::Screening => "SCREENING",
            Self::Interview => "INTERVIEW",
            Self::Offer => "OFFER",
            Self::Hired => "HIRED",
            Self::Rejected => "REJECTED",
            Self::Withdrawn => "WITHDRAWN",
        }
    }

    pub fn parse(raw: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|s| s.as_str() == raw)
    }

    /// Hired, rejected and withdrawn applications never move again.
    pub fn is_terminal(self) -> bool {
        matches!(self, Self::Hired | Self::Rejected | Self::Withdrawn)
    }

    /// The position on the forward pipeline (terminal exits have none).
    fn stage(self) -> Option<u8> {
        match self {
            Self::Applied => Some(0),
            Self::Screening => Some(1),
            Self::Interview => Some(2),
            Self::Offer => Some(3),
            Self::Hired => Some(4),
            Self::Rejected | Self::Withdrawn => None,
        }
    }
}

/// Who moves an application.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mover {
    /// The hiring team.
    Company,
    /// The applicant.
    Candidate,
}

/// A move the pipeline refuses.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("an application cannot move from {} to {}", from.as_str(), to.as_str())]
pub struct InvalidMove {
    pub from: ApplicationStatus,
    pub to: ApplicationStatus,
}

impl ApplicationStatus {
    /// The one transition function: whether `mover` may take an application from `self` to `to`.
    pub fn move_to(self, to: ApplicationStatus, mover: Mover) -> Result<ApplicationStatus, InvalidMove> {
        let refused = Err(InvalidMove { from: self, to });
        if self.is_terminal() || self == to {
            return refused;
        }
        match (mover, to) {
            (Mover::Candidate, ApplicationStatus::Withdrawn) => Ok(to),
            (Mover::Candidate, _) => refused,
            (Mover::Company, ApplicationStatus::Rejected) => Ok(to),
            (Mover::Company, ApplicationStatus::Withdrawn) => refused,
            (Mover::Company, _) => match (self.stage(), to.stage()) {
                (Some(from), Some(target)) if target > from => Ok(to),
                _ => refused,
            },
        }
    }
}

/// Where an application came from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Source {
    Direct,
    Partner(String),
    Referral,
}

/// A stored application.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Application {
    pub id: ApplicationId,
    pub posting_id: PostingId,
    pub company_id: CompanyId,
    pub candidate_id: CandidateId,
    pub cover_letter: Option<String>,
    pub source: Source,
    pub status: ApplicationStatus,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// A résumé as text, when a partner sent one with the application.
    #[serde(default)]
    pub resume_text: Option<String>,
    /// The posting's screening questions as answered, when a partner sent them.
    #[serde(default)]
    pub answers: Vec<Answer>,
}

/// A screening question and its answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Answer {
    pub question: String,
    pub answer: String,
}

/// At most this many answers per application.
pub const MAX_ANSWERS: usize = 50;

/// What a partner sends with an application besides the person.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SubmittedTexts {
    pub cover_letter: Option<String>,
    pub resume_text: Option<String>,
    pub answers: Vec<Answer>,
}

/// A submission's texts, validated; errors name the input's fields (`coverLetter`, `resumeText`,
/// `answers.<i>.question`).
pub fn submission(
    cover_letter: Option<String>,
    resume_text: Option<String>,
    answers: Vec<Answer>,
) -> Result<SubmittedTexts, crate::ValidationErrors> {
    use crate::values::bounded_text;
    let mut errors = crate::ValidationErrors::new();
    let mut optional = |field: &str, value: Option<String>, max: usize| {
        errors.take(value.map(|v| bounded_text(field, &v, 0, max)).transpose()).flatten().filter(|v| !v.is_empty())
    };
    let cover_letter = optional("coverLetter", cover_letter, 10_000);
    let resume_text = optional("resumeText", resume_text, 100_000);
    if answers.len() > MAX_ANSWERS {
        errors.push(crate::FieldError::new("answers", format!("must have at most {MAX_ANSWERS} items")));
    }
    let mut kept = Vec::new();
    for (i, a) in answers.into_iter().take(MAX_ANSWERS).enumerate() {
        let question = errors.take(bounded_text(&format!("answers.{i}.question"), &a.question, 1, 500));
        let answer = errors.take(bounded_text(&format!("answers.{i}.answer"), &a.answer, 0, 10_000));
        if let (Some(question), Some(answer)) = (question, answer) {
            kept.push(Answer { question, answer });
        }
    }
    errors.finish(|| SubmittedTexts { cover_letter, resume_text, answers: kept })
}

/// One move of an application: every move is recorded.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ApplicationEvent {
    pub id: uuid::Uuid,
    pub application_id: ApplicationId,
    /// `None` for the event that created the application.
    pub from: Option<ApplicationStatus>,
    pub to: ApplicationStatus,
    pub actor: UserId,
    pub note: Option<String>,
    pub at: DateTime<Utc>,
}

/// A hiring-team note: private to the company.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ApplicationNote {
    pub id: uuid::Uuid,
    pub application_id: ApplicationId,
    pub author: UserId,
    pub body: String,
    pub at: DateTime<Utc>,
}

/// How a viewer relates to one application.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Relation {
    /// The candidate who applied.
    Applicant,
    /// A member of the posting's company, with their role.
    Member(crate::companies::CompanyRole),
    /// A partner app of the posting's company, with its scopes.
    Partner(crate::partners::Scopes),
    /// Anyone else.
    Stranger,
}

/// What can be done with an application.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ApplicationAction {
    /// See it, its status and its events.
    Read,
    /// See the hiring team's private notes.
    ReadNotes,
    /// Write a note.
    WriteNotes,
    /// Move it through the pipeline or reject it.
    Move,
    /// Withdraw it (the candidate's act).
    Withdraw,
}

/// DESIGN §4 for applications: the applicant reads and withdraws; every company member reads,
/// notes included; recruiters and up move and write notes; platform admins may do everything.
pub fn may(principal: &crate::Principal, relation: Relation, action: ApplicationAction) -> bool {
    use crate::companies::CompanyRole;
    if principal.is_platform_admin() {
        return true;
    }
    match (relation, action) {
        (Relation::Applicant, ApplicationAction::Read | ApplicationAction::Withdraw) => true,
        (Relation::Member(_), ApplicationAction::Read | ApplicationAction::ReadNotes) => true,
        (Relation::Member(role), ApplicationAction::WriteNotes | ApplicationAction::Move) => {
            role >= CompanyRole::Recruiter
        }
        (Relation::Partner(scopes), ApplicationAction::Read | ApplicationAction::ReadNotes) => {
            scopes.allows(crate::partners::Scope::ApplicationsRead)
        }
        (Relation::Partner(scopes), ApplicationAction::WriteNotes | ApplicationAction::Move) => {
            scopes.allows(crate::partners::Scope::ApplicationsWrite)
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::ApplicationStatus as S;
    use super::*;

    #[test]
    fn the_pipeline_decides_every_status_target_and_mover() {
        use Mover::*;
        let forward = [S::Applied, S::Screening, S::Interview, S::Offer, S::Hired];
        for from in S::ALL {
            for to in S::ALL {
                for mover in [Company, Candidate] {
                    let expected = if from.is_terminal() || from == to {
                        false
                    } else {
                        match (mover, to) {
                            (Candidate, S::Withdrawn) => true,
                            (Candidate, _) => false,
                            (Company, S::Rejected) => true,
                            (Company, S::Withdrawn) => false,
                            (Company, _) => {
                                let pos = |s| forward.iter().position(|f| *f == s);
                                matches!((pos(from), pos(to)), (Some(a), Some(b)) if b > a)
                            }
                        }
                    };
                    assert_eq!(from.move_to(to, mover).is_ok(), expected, "{from:?} → {to:?} by {mover:?}");
                }
            }
        }
    }

    #[test]
    fn every_relation_and_action_pair_is_decided() {
        use crate::accounts::PlatformRole;
        use crate::companies::CompanyRole as R;
        use ApplicationAction::*;
        let user = crate::Principal::User { id: UserId::generate(), role: PlatformRole::Member };
        let admin = crate::Principal::User { id: UserId::generate(), role: PlatformRole::Admin };
        let actions = [Read, ReadNotes, WriteNotes, Move, Withdraw];
        let table = [
            (Relation::Applicant, [true, false, false, false, true]),
            (Relation::Member(R::Viewer), [true, true, false, false, false]),
            (Relation::Member(R::Recruiter), [true, true, true, true, false]),
            (Relation::Member(R::Admin), [true, true, true, true, false]),
            (Relation::Member(R::Owner), [true, true, true, true, false]),
            (Relation::Stranger, [false, false, false, false, false]),
        ];
        for (relation, allowed) in table {
            for (action, expected) in actions.into_iter().zip(allowed) {
                assert_eq!(may(&user, relation, action), expected, "{relation:?} {action:?}");
                assert!(may(&admin, relation, action));
            }
        }
    }

    #[test]
    fn forward_moves_may_skip_stages_but_never_go_back() {
        assert_eq!(S::Applied.move_to(S::Offer, Mover::Company), Ok(S::Offer));
        assert!(S::Interview.move_to(S::Screening, Mover::Company).is_err());
        assert_eq!(
            S::Hired.move_to(S::Rejected, Mover::Company).unwrap_err().to_string(),
            "an application cannot move from HIRED to REJECTED"
        );
    }
}
