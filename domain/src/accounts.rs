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
    #[serde(with = "crate::values::timestamp")]
    pub created_at: chrono::DateTime<chrono::Utc>,
    /// Disabled by a platform admin: no sign-in, and its tokens no longer work.
    pub disabled: bool,
}

/// A password that meets the policy (NIST 800-63B: length and a blocklist, not composition
/// rules): 12 to 128 characters, not one of the 10,000 most common passwords, not made of four
/// characters or fewer repeated, and not containing the account's own email name.
/// Deliberately without `Debug` output of its content.
pub struct Password(String);

/// The 10,000 most common passwords, most common first (Royce Williams' list of 2017, as
/// Django ships it in `contrib/auth`).
const COMMON: &str = include_str!("common-passwords.txt");

fn is_common(password: &str) -> bool {
    static SET: std::sync::OnceLock<std::collections::HashSet<&'static str>> = std::sync::OnceLock::new();
    SET.get_or_init(|| COMMON.lines().collect()).contains(password.to_lowercase().as_str())
}

/// Mostly a run of neighbouring or repeated characters ("123456789012", "abcdefgfedcba").
fn is_sequence(raw: &str) -> bool {
    let codes: Vec<i64> = raw.chars().map(|c| i64::from(u32::from(c))).collect();
    let steps = codes.windows(2).filter(|w| (w[1] - w[0]).abs() <= 1).count();
    steps * 3 > (codes.len() - 1) * 2
}

impl Password {
    pub const MIN_LEN: usize = 12;
    pub const MAX_LEN: usize = 128;

    /// Checks a new password for the account with this email (as typed: the email may itself be
    /// invalid, and the password is still judged).
    pub fn parse(raw: &str, email: &str) -> Result<Self, FieldError> {
        let bad = |why: String| Err(FieldError::new("password", why));
        let len = raw.chars().count();
        if len < Self::MIN_LEN {
            return bad(format!("must be at least {} characters", Self::MIN_LEN));
        }
        if len > Self::MAX_LEN {
            return bad(format!("must be at most {} characters", Self::MAX_LEN));
        }
        if raw.trim().is_empty() {
            return bad("must not be only spaces".into());
        }
        if is_common(raw) {
            return bad("is one of the most common passwords; choose another".into());
        }
        let distinct: std::collections::HashSet<char> = raw.chars().collect();
        if distinct.len() <= 4 || is_sequence(raw) {
            return bad("is too predictable (a few characters repeated, or a run like 1234 or abcd)".into());
        }
        let email = email.trim().to_lowercase();
        let local = email.split('@').next().unwrap_or_default();
        if local.chars().count() >= 3 && raw.to_lowercase().contains(local) {
            return bad("must not contain your email address".into());
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
        let email = "Ada.Lovelace@example.com";
        let ok = |p: &str| Password::parse(p, email).is_ok();
        assert!(ok("correct horse battery"));
        assert!(!ok("short words"), "11 characters");
        assert!(!ok(&"x".repeat(129)));
        assert!(!ok("              "));
        for weak in ["aaaaaaaaaaaa", "123412341234", "abababababab", "123456789012", "abcdefghijklmn"] {
            assert!(!ok(weak), "{weak} is too repetitive or too common");
        }
        // From the list, in any case.
        assert!(is_common("password1") && is_common("PASSWORD1") && is_common("iloveyou"));
        assert_eq!(COMMON.lines().count(), 10_000);
        let listed_long = COMMON.lines().find(|p| p.chars().count() >= 12).unwrap();
        assert!(!ok(listed_long), "{listed_long} is on the list");
        assert!(!ok("my ada.lovelace secret"), "contains the email name");
        assert_eq!(format!("{:?}", Password::parse("correct horse battery", email).unwrap()), "Password([redacted])");
    }
}
