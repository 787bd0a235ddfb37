//! Short-lived HS256 access tokens. The algorithm is pinned; `iss`, `aud`, `sub`, `exp` and `nbf`
//! are required and checked, with at most 30 s of leeway.

use std::time::Duration;

use chrono::{DateTime, Utc};
use hiregraph_domain::accounts::User;
use hiregraph_domain::ids::PartnerAppId;
use hiregraph_domain::partners::{PartnerApp, Scopes};
use hiregraph_domain::{CompanyId, UserId};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};

pub const ISSUER: &str = "hiregraph";
pub const AUDIENCE: &str = "hiregraph-api";
/// The audience of partner access tokens (OAuth client credentials): a user token is never one.
pub const PARTNER_AUDIENCE: &str = "hiregraph-partner";
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

/// A partner access token's claims (RFC 9068's names where it has them).
#[derive(Debug, Serialize, Deserialize)]
struct PartnerClaims {
    /// The partner app.
    sub: String,
    client_id: String,
    company: String,
    scope: String,
    /// The app's secret version when issued: a rotation ends older tokens.
    ver: i32,
    iss: String,
    aud: String,
    exp: i64,
    nbf: i64,
    iat: i64,
}

/// What a valid partner access token says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PartnerToken {
    pub app: PartnerAppId,
    pub company: CompanyId,
    pub scopes: Scopes,
    pub secret_version: i32,
}

/// Whom a bearer JWT names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Bearer {
    User(UserId),
    Partner(PartnerToken),
}

/// The signing keys: the current one signs, with its `kid` in the header; it and the previous
/// ones verify. A key's id is derived from the key (the first 8 bytes of its SHA-256, hex), so
/// every replica names a key alike without configuring ids.
pub struct JwtKeys {
    kid: String,
    encoding: EncodingKey,
    /// The current key first, then the previous ones.
    decoding: Vec<(String, DecodingKey)>,
    validation: Validation,
    partner_validation: Validation,
    pub ttl: Duration,
}

/// How long a partner access token lives (RFC 6749 `expires_in`).
pub const PARTNER_TOKEN_TTL: Duration = Duration::from_secs(3600);

/// The id of a signing key.
pub fn key_id(secret: &[u8]) -> String {
    use sha2::Digest;
    sha2::Sha256::digest(secret)[..8].iter().map(|b| format!("{b:02x}")).collect()
}

impl JwtKeys {
    pub fn new(secret: &[u8], ttl: Duration) -> Self {
        Self::rotating(secret, &[], ttl)
    }

    /// `secret` signs; `previous` keys still verify the tokens they signed.
    pub fn rotating(secret: &[u8], previous: &[&[u8]], ttl: Duration) -> Self {
        let mut validation = Validation::new(Algorithm::HS256);
        validation.set_issuer(&[ISSUER]);
        validation.set_audience(&[AUDIENCE]);
        validation.set_required_spec_claims(&["exp", "nbf", "iss", "aud", "sub"]);
        validation.validate_exp = true;
        validation.validate_nbf = true;
        validation.leeway = LEEWAY_SECS;
        let mut partner_validation = validation.clone();
        partner_validation.set_audience(&[PARTNER_AUDIENCE]);
        let decoding = std::iter::once(secret)
            .chain(previous.iter().copied())
            .map(|key| (key_id(key), DecodingKey::from_secret(key)))
            .collect();
        Self {
            kid: key_id(secret),
            encoding: EncodingKey::from_secret(secret),
            decoding,
            validation,
            partner_validation,
            ttl,
        }
    }

    /// A partner access token for `app`, narrowed to `scopes`, valid for an hour from `now`.
    pub fn issue_partner(
        &self,
        app: &PartnerApp,
        scopes: Scopes,
        now: DateTime<Utc>,
    ) -> Result<String, jsonwebtoken::errors::Error> {
        let claims = PartnerClaims {
            sub: app.id.to_string(),
            client_id: app.client_id.clone(),
            company: app.company_id.to_string(),
            scope: scopes.to_text(),
            ver: app.secret_version,
            iss: ISSUER.to_owned(),
            aud: PARTNER_AUDIENCE.to_owned(),
            iat: now.timestamp(),
            nbf: now.timestamp(),
            exp: now.timestamp() + PARTNER_TOKEN_TTL.as_secs() as i64,
        };
        jsonwebtoken::encode(&self.header(), &claims, &self.encoding)
    }

    fn header(&self) -> Header {
        let mut header = Header::new(Algorithm::HS256);
        header.kid = Some(self.kid.clone());
        header
    }

    /// Verifies with the key the header's `kid` names; a token without one (signed before key
    /// ids) is tried with each key. An unknown `kid` is refused without trying any.
    fn decode<T: serde::de::DeserializeOwned>(&self, token: &str, validation: &Validation) -> Result<T, String> {
        let header = jsonwebtoken::decode_header(token).map_err(|e| e.to_string())?;
        let mut last = None;
        for (kid, key) in &self.decoding {
            if header.kid.as_ref().is_some_and(|named| named != kid) {
                continue;
            }
            match jsonwebtoken::decode::<T>(token, key, validation) {
                Ok(data) => return Ok(data.claims),
                Err(e) => last = Some(e.to_string()),
            }
        }
        Err(last
            .unwrap_or_else(|| "the token was signed with a key this server does not hold (unknown kid)".to_owned()))
    }

    /// A user's or a partner's access token, or why it is refused.
    pub fn verify_bearer(&self, token: &str) -> Result<Bearer, String> {
        match self.verify_until(token) {
            Ok((id, _)) => Ok(Bearer::User(id)),
            Err(_) if looks_partner(token) => {
                let c: PartnerClaims = self.decode(token, &self.partner_validation)?;
                let uuid =
                    |raw: &str, what: &str| uuid::Uuid::parse_str(raw).map_err(|_| format!("{what} is not an id"));
                Ok(Bearer::Partner(PartnerToken {
                    app: PartnerAppId(uuid(&c.sub, "sub")?),
                    company: CompanyId(uuid(&c.company, "company")?),
                    scopes: Scopes::parse_text(&c.scope)?,
                    secret_version: c.ver,
                }))
            }
            Err(why) => Err(why),
        }
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
        jsonwebtoken::encode(&self.header(), &claims, &self.encoding)
    }

    /// The user a token names, or why it is refused. The `role` claim is informational: the
    /// role in force is read from the database for every request, like the account itself.
    pub fn verify(&self, token: &str) -> Result<UserId, String> {
        self.verify_until(token).map(|(id, _)| id)
    }

    /// The user a token names and when it expires (Unix seconds), or why it is refused.
    pub fn verify_until(&self, token: &str) -> Result<(UserId, i64), String> {
        let claims: Claims = self.decode(token, &self.validation)?;
        let id = uuid::Uuid::parse_str(&claims.sub).map_err(|_| "sub is not a user id".to_owned())?;
        Ok((UserId(id), claims.exp))
    }
}

/// The claims that pick a token's validation and tell its end, read without verifying: only for a
/// token that is verified as well, or to choose how to verify it.
#[derive(Deserialize)]
struct Unverified {
    aud: Option<String>,
    exp: Option<i64>,
}

fn unverified(token: &str) -> Option<Unverified> {
    use base64::Engine;
    let payload = token.split('.').nth(1)?;
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(payload).ok()?;
    serde_json::from_slice(&bytes).ok()
}

/// Whether a token's (unverified) audience is the partner one, to pick its validation.
fn looks_partner(token: &str) -> bool {
    unverified(token).is_some_and(|c| c.aud.as_deref() == Some(PARTNER_AUDIENCE))
}

/// When a token that was verified expires (Unix seconds).
pub fn expiry_of(token: &str) -> Option<i64> {
    unverified(token)?.exp
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

    #[test]
    fn a_rotated_key_still_verifies_until_it_is_dropped() {
        let (old, new) = ([7; 32], [9; 32]);
        let user = user();
        let before = JwtKeys::new(&old, Duration::from_secs(60)).issue(&user, Utc::now()).unwrap();
        let header = jsonwebtoken::decode_header(&before).unwrap();
        assert_eq!(header.kid.as_deref(), Some(key_id(&old).as_str()));
        let rotating = JwtKeys::rotating(&new, &[&old], Duration::from_secs(60));
        assert_eq!(rotating.verify(&before), Ok(user.id), "a token of the previous key still verifies");
        let after = rotating.issue(&user, Utc::now()).unwrap();
        assert_eq!(jsonwebtoken::decode_header(&after).unwrap().kid, Some(key_id(&new)));
        assert_eq!(rotating.verify(&after), Ok(user.id));
        let rotated = JwtKeys::new(&new, Duration::from_secs(60));
        assert!(
            rotated.verify(&before).unwrap_err().contains("unknown kid"),
            "once dropped, the old key verifies nothing"
        );
        assert_eq!(rotated.verify(&after), Ok(user.id));
        // A token from before key ids (no kid) is tried with every key.
        let claims = serde_json::json!({ "sub": user.id.to_string(), "role": "MEMBER", "iss": ISSUER, "aud": AUDIENCE,
            "iat": Utc::now().timestamp(), "nbf": Utc::now().timestamp(), "exp": Utc::now().timestamp() + 60 });
        let plain =
            jsonwebtoken::encode(&Header::new(Algorithm::HS256), &claims, &EncodingKey::from_secret(&old)).unwrap();
        assert_eq!(rotating.verify(&plain), Ok(user.id));
        // A kid naming the current key does not let another key's signature through.
        let mut forged = Header::new(Algorithm::HS256);
        forged.kid = Some(key_id(&new));
        let forged = jsonwebtoken::encode(&forged, &claims, &EncodingKey::from_secret(&[1; 32])).unwrap();
        assert!(rotating.verify(&forged).is_err());
    }

    #[test]
    fn a_partner_token_is_never_a_user_token() {
        use hiregraph_domain::partners::Scope;
        let keys = JwtKeys::new(&[7; 32], Duration::from_secs(60));
        let app = PartnerApp {
            id: PartnerAppId::generate(),
            company_id: CompanyId::generate(),
            name: "Board".into(),
            scopes: Scopes::of(Scope::ALL),
            client_id: "hgapp_x".into(),
            secret_version: 3,
            created_by: UserId::generate(),
            created_at: Utc::now(),
            updated_at: Utc::now(),
            cost_per_minute: None,
        };
        let scopes = Scopes::of(&[Scope::PostingsRead]);
        let token = keys.issue_partner(&app, scopes, Utc::now()).unwrap();
        assert!(keys.verify(&token).is_err(), "a partner token must not pass as a user's");
        let expected = PartnerToken { app: app.id, company: app.company_id, scopes, secret_version: 3 };
        assert_eq!(keys.verify_bearer(&token), Ok(Bearer::Partner(expected)));
        let user = keys.issue(&user(), Utc::now()).unwrap();
        assert!(matches!(keys.verify_bearer(&user), Ok(Bearer::User(_))));
        let foreign = JwtKeys::new(&[8; 32], Duration::from_secs(60)).issue_partner(&app, scopes, Utc::now()).unwrap();
        assert!(keys.verify_bearer(&foreign).is_err());
    }
}
