//! Short-lived HS256 access tokens. The algorithm is pinned; `iss`, `aud`, `sub`, `exp` and `nbf`
//! are required and checked, with at most 30 s of leeway.

use std::time::Duration;

use chrono::{DateTime, Utc};
use hiregraph_domain::UserId;
use hiregraph_domain::accounts::User;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};

pub const ISSUER: &str = "hiregraph";
pub const AUDIENCE: &str = "hiregraph-api";
const LEEWAY_SECS: u64 = 30;

#[derive(Debug, Serialize, Deserialize)]
struct Claims {
    sub: String,
    role: String,
    iss: String,
    aud: String,
    exp: i64,
    nbf: i64,
    iat: i64,
}

pub struct JwtKeys {
    encoding: EncodingKey,
    decoding: DecodingKey,
    validation: Validation,
    pub ttl: Duration,
}

impl JwtKeys {
    pub fn new(secret: &[u8], ttl: Duration) -> Self {
        let mut validation = Validation::new(Algorithm::HS256);
        validation.set_issuer(&[ISSUER]);
        validation.set_audience(&[AUDIENCE]);
        validation.set_required_spec_claims(&["exp", "nbf", "iss", "aud", "sub"]);
        validation.validate_exp = true;
        validation.validate_nbf = true;
        validation.leeway = LEEWAY_SECS;
        Self { encoding: EncodingKey::from_secret(secret), decoding: DecodingKey::from_secret(secret), validation, ttl }
    }

    /// An access token for `user`, valid from `now` for the configured lifetime.
    pub fn issue(&self, user: &User, now: DateTime<Utc>) -> Result<String, jsonwebtoken::errors::Error> {
        let claims = Claims {
            sub: user.id.to_string(),
            role: user.role.as_str().to_owned(),
            iss: ISSUER.to_owned(),
            aud: AUDIENCE.to_owned(),
            iat: now.timestamp(),
            nbf: now.timestamp(),
            exp: now.timestamp() + i64::try_from(self.ttl.as_secs()).unwrap_or(i64::MAX / 2),
        };
        jsonwebtoken::encode(&Header::new(Algorithm::HS256), &claims, &self.encoding)
    }

    /// The user a token names, or why it is refused. The `role` claim is informational: the
    /// role in force is read from the database for every request, like the account itself.
    pub fn verify(&self, token: &str) -> Result<UserId, String> {
        self.verify_until(token).map(|(id, _)| id)
    }

    /// The user a token names and when it expires (Unix seconds), or why it is refused.
    pub fn verify_until(&self, token: &str) -> Result<(UserId, i64), String> {
        let data =
            jsonwebtoken::decode::<Claims>(token, &self.decoding, &self.validation).map_err(|e| e.to_string())?;
        let id = uuid::Uuid::parse_str(&data.claims.sub).map_err(|_| "sub is not a user id".to_owned())?;
        Ok((UserId(id), data.claims.exp))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use hiregraph_domain::accounts::PlatformRole;
    use hiregraph_domain::values::Email;

    fn user() -> User {
        User {
            id: UserId::generate(),
            email: Email::parse("a@b.co").unwrap(),
            role: PlatformRole::Member,
            created_at: Utc::now(),
            disabled: false,
        }
    }

    #[test]
    fn a_token_round_trips() {
        let keys = JwtKeys::new(&[7; 32], Duration::from_secs(60));
        let user = user();
        let token = keys.issue(&user, Utc::now()).unwrap();
        assert_eq!(keys.verify(&token), Ok(user.id));
    }

    #[test]
    fn expired_future_and_foreign_tokens_are_refused() {
        let keys = JwtKeys::new(&[7; 32], Duration::from_secs(60));
        let user = user();
        let old = keys.issue(&user, Utc::now() - chrono::Duration::seconds(200)).unwrap();
        assert!(keys.verify(&old).is_err());
        let future = keys.issue(&user, Utc::now() + chrono::Duration::seconds(120)).unwrap();
        assert!(keys.verify(&future).is_err(), "a token whose nbf lies ahead must be refused");
        let other = JwtKeys::new(&[8; 32], Duration::from_secs(60)).issue(&user, Utc::now()).unwrap();
        assert!(keys.verify(&other).is_err());
    }
}
