//! argon2id password hashing (OWASP parameters: 19 MiB, 2 passes, 1 lane), always on a blocking
//! thread: one hash costs tens of milliseconds of a core.

use argon2::password_hash::rand_core::OsRng;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};

use crate::error::AppError;

fn argon2() -> Argon2<'static> {
    // Params::DEFAULT is OWASP's first recommendation: m=19456 KiB, t=2, p=1.
    Argon2::new(Algorithm::Argon2id, Version::V0x13, Params::DEFAULT)
}

pub async fn hash(password: String) -> Result<String, AppError> {
    tokio::task::spawn_blocking(move || {
        let salt = SaltString::generate(&mut OsRng);
        argon2().hash_password(password.as_bytes(), &salt).map(|h| h.to_string())
    })
    .await
    .map_err(AppError::internal)?
    .map_err(|e| AppError::Internal(e.to_string().into()))
}

/// Whether `password` matches `hash`. Without a stored hash it still does the work of one, so a
/// missing account takes as long to refuse as a wrong password.
pub async fn verify(password: String, hash: Option<String>) -> Result<bool, AppError> {
    tokio::task::spawn_blocking(move || {
        let known = hash.is_some();
        let stored = match hash {
            Some(hash) => hash,
            None => dummy_hash()?,
        };
        let parsed = PasswordHash::new(&stored).map_err(|e| AppError::Internal(e.to_string().into()))?;
        let ok = argon2().verify_password(password.as_bytes(), &parsed).is_ok();
        Ok(ok && known)
    })
    .await
    .map_err(AppError::internal)?
}

/// The hash of a random string nobody knows, made once, for timing parity.
fn dummy_hash() -> Result<String, AppError> {
    static DUMMY: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    if let Some(hash) = DUMMY.get() {
        return Ok(hash.clone());
    }
    let salt = SaltString::generate(&mut OsRng);
    let hash = argon2()
        .hash_password(super::refresh::generate().as_bytes(), &salt)
        .map_err(|e| AppError::Internal(e.to_string().into()))?
        .to_string();
    Ok(DUMMY.get_or_init(|| hash).clone())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn hashes_verify_and_differ_by_salt() {
        let a = hash("correct horse battery".into()).await.unwrap();
        let b = hash("correct horse battery".into()).await.unwrap();
        assert_ne!(a, b);
        assert!(a.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"));
        assert!(verify("correct horse battery".into(), Some(a.clone())).await.unwrap());
        assert!(!verify("wrong horse battery".into(), Some(a)).await.unwrap());
        assert!(!verify("anything at all".into(), None).await.unwrap());
    }
}
