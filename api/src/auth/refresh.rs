//! Refresh tokens: 256 random bits shown once to the client, stored only as a SHA-256 hash.

use argon2::password_hash::rand_core::{OsRng, RngCore};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use sha2::{Digest, Sha256};

/// A new token, as the client will hold it.
pub fn generate() -> String {
    let mut bytes = [0u8; 32];
    OsRng.fill_bytes(&mut bytes);
    URL_SAFE_NO_PAD.encode(bytes)
}

/// The stored form: hex SHA-256. A fast hash is right here: the token has full entropy.
pub fn digest(token: &str) -> String {
    let hash = Sha256::digest(token.as_bytes());
    hash.iter().map(|b| format!("{b:02x}")).collect()
}

/// Random bytes for a generated signing key.
pub fn random_key() -> String {
    let mut bytes = [0u8; 48];
    OsRng.fill_bytes(&mut bytes);
    URL_SAFE_NO_PAD.encode(bytes)
}

#[cfg(test)]
mod tests {
    #[test]
    fn tokens_are_unique_and_digests_stable() {
        let a = super::generate();
        assert_ne!(a, super::generate());
        assert_eq!(a.len(), 43);
        assert_eq!(super::digest("x"), super::digest("x"));
        assert_eq!(super::digest("x").len(), 64);
    }
}
