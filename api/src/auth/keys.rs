//! Partner credentials as text: API keys `hg_<env>_<random>_<checksum>`, client secrets
//! `hgcs_<env>_<random>_<checksum>` and client ids `hgapp_<random>`.
//!
//! The random part is 32 base62 characters (190 bits, so a fast hash at rest is right); the
//! checksum is the CRC-32 of everything before it, in 6 base62 characters. A fixed prefix lets
//! secret scanners find a leaked key, and the checksum tells a mistyped or truncated key from an
//! unknown one without a database lookup.

use argon2::password_hash::rand_core::{OsRng, RngCore};

const ALPHABET: &[u8; 62] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
const RANDOM_LEN: usize = 32;
const CHECKSUM_LEN: usize = 6;

/// What a credential is, by its prefix.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    ApiKey,
    ClientSecret,
}

impl Kind {
    fn prefix(self) -> &'static str {
        match self {
            Kind::ApiKey => "hg",
            Kind::ClientSecret => "hgcs",
        }
    }
}

fn random(len: usize) -> String {
    let mut out = String::with_capacity(len);
    let mut bytes = [0u8; 64];
    while out.len() < len {
        OsRng.fill_bytes(&mut bytes);
        // 248 = 4 × 62: rejecting the rest keeps every character equally likely.
        for b in bytes.iter().filter(|b| **b < 248) {
            if out.len() == len {
                break;
            }
            out.push(char::from(ALPHABET[usize::from(*b % 62)]));
        }
    }
    out
}

fn checksum(body: &str) -> String {
    let mut n = u64::from(crc32fast::hash(body.as_bytes()));
    let mut digits = [b'0'; CHECKSUM_LEN];
    for d in digits.iter_mut().rev() {
        *d = ALPHABET[(n % 62) as usize];
        n /= 62;
    }
    digits.iter().map(|b| char::from(*b)).collect()
}

/// A new credential of `kind` for the environment `env`.
pub fn generate(kind: Kind, env: &str) -> String {
    let body = format!("{}_{env}_{}", kind.prefix(), random(RANDOM_LEN));
    let sum = checksum(&body);
    format!("{body}_{sum}")
}

/// A new public OAuth client id.
pub fn client_id() -> String {
    format!("hgapp_{}", random(24))
}

/// Whether `raw` looks like a credential of `kind` (its prefix), before checking it.
pub fn looks_like(kind: Kind, raw: &str) -> bool {
    raw.strip_prefix(kind.prefix()).is_some_and(|rest| rest.starts_with('_'))
}

/// Checks a credential's shape and checksum offline; says what is wrong with it.
pub fn check(kind: Kind, raw: &str) -> Result<(), &'static str> {
    let (body, sum) = raw.rsplit_once('_').ok_or("it is not of the form prefix_env_random_checksum")?;
    let mut parts = body.split('_');
    let (Some(prefix), Some(env), Some(random), None) = (parts.next(), parts.next(), parts.next(), parts.next()) else {
        return Err("it is not of the form prefix_env_random_checksum");
    };
    let alnum = |s: &str| s.bytes().all(|b| b.is_ascii_alphanumeric());
    if prefix != kind.prefix() || env.is_empty() || !alnum(env) || random.len() != RANDOM_LEN || !alnum(random) {
        return Err("it is not of the form prefix_env_random_checksum");
    }
    if sum.len() != CHECKSUM_LEN || checksum(body) != sum {
        return Err("its checksum does not match: it was mistyped or cut short");
    }
    Ok(())
}

/// What the hint of a key shows: its environment prefix and last four characters.
pub fn hint(raw: &str) -> String {
    let head: String = raw.split('_').take(2).collect::<Vec<_>>().join("_");
    let tail: String = raw.chars().rev().take(4).collect::<Vec<_>>().into_iter().rev().collect();
    format!("{head}_…{tail}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_credentials_check_and_a_typo_does_not() {
        let key = generate(Kind::ApiKey, "live");
        assert!(key.starts_with("hg_live_"), "{key}");
        assert_eq!(key.len(), "hg_live_".len() + RANDOM_LEN + 1 + CHECKSUM_LEN);
        assert_eq!(check(Kind::ApiKey, &key), Ok(()));
        assert!(looks_like(Kind::ApiKey, &key));
        assert!(!looks_like(Kind::ClientSecret, &key));
        assert!(check(Kind::ClientSecret, &key).is_err(), "a key is not a client secret");
        for i in [8, 20, key.len() - 1] {
            let mut typo: Vec<u8> = key.clone().into_bytes();
            typo[i] = if typo[i] == b'a' { b'b' } else { b'a' };
            let typo = String::from_utf8(typo).unwrap_or_default();
            assert!(check(Kind::ApiKey, &typo).is_err(), "{typo}");
        }
        assert!(check(Kind::ApiKey, &key[..key.len() - 1]).is_err());
        assert_ne!(generate(Kind::ApiKey, "live"), key);
        let secret = generate(Kind::ClientSecret, "dev");
        assert_eq!(check(Kind::ClientSecret, &secret), Ok(()));
        assert_eq!(hint("hg_live_abcdefgh_123456"), "hg_live_…3456");
    }
}
