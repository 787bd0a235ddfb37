//! User accounts: platform roles and the password policy.

use serde::{Deserialize, Serialize};

use crate::error::FieldError;

/// A user's role on the whole platform (company roles are separate).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
pub enum PlatformRole {
    #[default]
    Member,
    Admin,
}

impl PlatformRole {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Member => "MEMBER",
            Self::Admin => "ADMIN",
        }
    }

    pub fn parse(raw: &str) -> Option<Self> {
        match raw {
            "MEMBER" => Some(Self::Member),
            "ADMIN" => Some(Self::Admin),
            _ => None,
        }
    }
}

/// A stored user account (the password hash stays in persistence).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct User {
    pub id: crate::UserId,
    pub email: crate::values::Email,
    pub role: PlatformRole,
    pub created_at: chrono::DateTime<chrono::Utc>,
    /// Disabled by a platform admin: no sign-in, and its tokens no longer work.
    pub disabled: bool,
}

/// A password that meets the policy (NIST 800-63B: length, not composition rules).
/// Deliberately without `Debug` output of its content.
pub struct Password(String);

impl Password {
    pub const MIN_LEN: usize = 10;
    pub const MAX_LEN: usize = 128;

    pub fn parse(raw: &str) -> Result<Self, FieldError> {
        let len = raw.chars().count();
        if len < Self::MIN_LEN {
            return Err(FieldError::new("password", format!("must be at least {} characters", Self::MIN_LEN)));
        }
        if len > Self::MAX_LEN {
            return Err(FieldError::new("password", format!("must be at most {} characters", Self::MAX_LEN)));
        }
        if raw.trim().is_empty() {
            return Err(FieldError::new("password", "must not be only spaces"));
        }
        Ok(Self(raw.to_owned()))
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for Password {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Password([redacted])")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_need_length_not_tricks() {
        assert!(Password::parse("correct horse").is_ok());
        assert!(Password::parse("short").is_err());
        assert!(Password::parse(&"x".repeat(129)).is_err());
        assert!(Password::parse("            ").is_err());
        assert_eq!(format!("{:?}", Password::parse("correct horse").unwrap()), "Password([redacted])");
    }
}
