//! argon2id password hashing (OWASP parameters: 19 MiB, 2 passes, 1 lane) on blocking threads.
//!
//! One hash costs tens of milliseconds of a core and 19 MiB of memory. At most one hash per core
//! runs at a time (a burst of sign-ins queues here instead of starving every other request), and
//! each runs in a memory buffer kept for reuse: left to the allocator, every blocking thread kept
//! its own 19 MiB, and twenty sign-ins took a fresh server from 14 to 189 MiB. The buffers go
//! back once no hash has run for `KEEP_IDLE`: kept for good, one sign-in left a server 19–38 MiB
//! bigger for the rest of its life (a third of its memory under load).

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, OnceLock};
use std::time::Duration;

use argon2::password_hash::rand_core::OsRng;
use argon2::password_hash::{Output, ParamsString, PasswordHash, Salt, SaltString};
use argon2::{Algorithm, Argon2, Block, Params, Version};
use tokio::sync::Semaphore;

use crate::error::AppError;

/// How long the buffers outlive the last hash: a burst of sign-ins reuses them, and a server
/// that is not hashing gives the memory back.
const KEEP_IDLE: Duration = Duration::from_secs(2);

/// The hashing slots: one permit per core, and the buffers of the hashes not running.
struct Slots {
    cores: usize,
    permits: Semaphore,
    buffers: Mutex<Vec<Vec<Block>>>,
    /// Hashes ended so far.
    done: AtomicU64,
}

fn slots() -> &'static Slots {
    static SLOTS: OnceLock<Slots> = OnceLock::new();
    SLOTS.get_or_init(|| {
        let cores = std::thread::available_parallelism().map_or(2, usize::from);
        Slots { cores, permits: Semaphore::new(cores), buffers: Mutex::new(Vec::new()), done: AtomicU64::new(0) }
    })
}

/// Drops the kept buffers if no hash has ended since the `done`-th, nor is running, after
/// `KEEP_IDLE`: every hash schedules this, so the last of a burst gives them back.
async fn release_if_idle(slots: &'static Slots, done: u64) {
    tokio::time::sleep(KEEP_IDLE).await;
    if slots.done.load(Ordering::Acquire) == done
        && slots.permits.available_permits() == slots.cores
        && let Ok(mut buffers) = slots.buffers.lock()
    {
        *buffers = Vec::new();
    }
}

fn internal(e: impl std::fmt::Display) -> AppError {
    AppError::Internal(e.to_string().into())
}

/// Runs `work` on a blocking thread once a slot is free, lending it a block buffer.
async fn in_slot<T: Send + 'static>(
    work: impl FnOnce(&mut Vec<Block>) -> Result<T, AppError> + Send + 'static,
) -> Result<T, AppError> {
    let slots = slots();
    let permit = slots.permits.acquire().await.map_err(internal)?;
    let result = tokio::task::spawn_blocking(move || {
        let mut buffer = slots.buffers.lock().map_err(internal)?.pop().unwrap_or_default();
        let result = work(&mut buffer);
        slots.buffers.lock().map_err(internal)?.push(buffer);
        result
    })
    .await
    .map_err(AppError::internal)?;
    drop(permit);
    let done = slots.done.fetch_add(1, Ordering::AcqRel) + 1;
    tokio::spawn(release_if_idle(slots, done));
    result
}

/// The PHC string of `password` hashed with `salt` by `algorithm`, `version` and `params`, in
/// `buffer` (grown to the size the parameters need).
fn compute<'a>(
    password: &[u8],
    salt: Salt<'a>,
    algorithm: Algorithm,
    version: Version,
    params: Params,
    buffer: &mut Vec<Block>,
) -> Result<PasswordHash<'a>, argon2::password_hash::Error> {
    if buffer.len() < params.block_count() {
        buffer.resize(params.block_count(), Block::default());
    }
    let mut salt_bytes = [0u8; 64];
    let salt_bytes = salt.decode_b64(&mut salt_bytes)?;
    let argon2 = Argon2::new(algorithm, version, params.clone());
    let output = Output::init_with(params.output_len().unwrap_or(Params::DEFAULT_OUTPUT_LEN), |out| {
        Ok(argon2.hash_password_into_with_memory(password, salt_bytes, out, &mut buffer[..])?)
    })?;
    Ok(PasswordHash {
        algorithm: algorithm.ident(),
        version: Some(version.into()),
        params: ParamsString::try_from(&params)?,
        salt: Some(salt),
        hash: Some(output),
    })
}

/// A new hash of `password` (argon2id, v19, `Params::DEFAULT`: OWASP's m=19456 KiB, t=2, p=1).
pub async fn hash(password: String) -> Result<String, AppError> {
    in_slot(move |buffer| fresh_hash(password.as_bytes(), buffer)).await
}

fn fresh_hash(password: &[u8], buffer: &mut Vec<Block>) -> Result<String, AppError> {
    let salt = SaltString::generate(&mut OsRng);
    compute(password, salt.as_salt(), Algorithm::Argon2id, Version::V0x13, Params::DEFAULT, buffer)
        .map(|h| h.to_string())
        .map_err(internal)
}

/// Whether `password` matches `hash`. Without a stored hash it still does the work of one, so a
/// missing account takes as long to refuse as a wrong password.
pub async fn verify(password: String, hash: Option<String>) -> Result<bool, AppError> {
    in_slot(move |buffer| {
        let known = hash.is_some();
        let stored = match hash {
            Some(hash) => hash,
            None => dummy_hash(buffer)?,
        };
        let parsed = PasswordHash::new(&stored).map_err(internal)?;
        let (Some(salt), Some(expected)) = (parsed.salt, parsed.hash) else { return Ok(false) };
        let algorithm = Algorithm::try_from(parsed.algorithm).map_err(internal)?;
        let version = parsed.version.map(Version::try_from).transpose().map_err(internal)?.unwrap_or_default();
        let params = Params::try_from(&parsed).map_err(internal)?;
        let computed = compute(password.as_bytes(), salt, algorithm, version, params, buffer).map_err(internal)?;
        // `Output` compares in constant time.
        Ok(known && computed.hash == Some(expected))
    })
    .await
}

/// The hash of a random string nobody knows, made once, for timing parity.
fn dummy_hash(buffer: &mut Vec<Block>) -> Result<String, AppError> {
    static DUMMY: OnceLock<String> = OnceLock::new();
    if let Some(hash) = DUMMY.get() {
        return Ok(hash.clone());
    }
    let hash = fresh_hash(super::refresh::generate().as_bytes(), buffer)?;
    Ok(DUMMY.get_or_init(|| hash).clone())
}

#[cfg(test)]
mod tests {
    use argon2::password_hash::{PasswordHasher, PasswordVerifier};

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

    #[tokio::test]
    async fn hashes_agree_with_the_argon2_crate_both_ways() {
        let standard = Argon2::new(Algorithm::Argon2id, Version::V0x13, Params::DEFAULT);
        // A hash the crate made (as stored before the buffer pool) verifies here…
        let salt = SaltString::generate(&mut OsRng);
        let theirs = standard.hash_password(b"pool party", &salt).unwrap().to_string();
        assert!(verify("pool party".into(), Some(theirs.clone())).await.unwrap());
        assert!(!verify("pool part".into(), Some(theirs)).await.unwrap());
        // …and a hash made here verifies with the crate.
        let ours = hash("pool party".into()).await.unwrap();
        assert!(standard.verify_password(b"pool party", &PasswordHash::new(&ours).unwrap()).is_ok());
        // Other parameters in a stored hash are honoured (the buffer grows to fit).
        let bigger = Argon2::new(Algorithm::Argon2id, Version::V0x13, Params::new(32 * 1024, 1, 1, None).unwrap());
        let stored = bigger.hash_password(b"roomy", &salt).unwrap().to_string();
        assert!(verify("roomy".into(), Some(stored)).await.unwrap());
    }

    #[tokio::test]
    async fn the_buffers_go_back_once_nothing_hashes() {
        let kept = || slots().buffers.lock().unwrap().iter().map(Vec::capacity).sum::<usize>();
        // Other tests of this module hash meanwhile, and their runtimes end with the tasks they
        // scheduled: the last hash must be this test's, so try until it is.
        let mut freed = false;
        for _ in 0..10 {
            hash("kept for the next".into()).await.unwrap();
            assert!(kept() > 0, "kept right after a hash");
            tokio::time::sleep(KEEP_IDLE + Duration::from_millis(500)).await;
            if kept() == 0 {
                freed = true;
                break;
            }
        }
        assert!(freed, "the buffers are still kept");
        // And hashing still works after, in a fresh buffer.
        assert!(hash("fresh".into()).await.unwrap().starts_with("$argon2id$"));
    }
}
