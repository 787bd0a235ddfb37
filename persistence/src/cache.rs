//! The read cache in front of the database: Redis when configured, in-process otherwise, both
//! behind one type. The cache is never the source of truth: every failure is a miss (plus a
//! counted error), never a request error. Keys are typed; each kind's TTL is decided in one match.

use std::collections::HashMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use hiregraph_domain::{CompanyId, PostingId};
use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use serde::Serialize;
use serde::de::DeserializeOwned;

/// Bumped whenever a cached type's layout changes, so old entries are never read as new ones.
const LAYOUT_VERSION: u32 = 1;

/// What can be cached.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CacheKey {
    Posting(PostingId),
    Company(CompanyId),
}

impl CacheKey {
    /// Every kind's time to live. Writes invalidate explicitly; the TTL bounds what a lost
    /// invalidation can cost.
    pub fn ttl(&self) -> Duration {
        match self {
            CacheKey::Posting(_) => Duration::from_secs(300),
            CacheKey::Company(_) => Duration::from_secs(600),
        }
    }

    /// The entity name, as metrics label it.
    pub fn kind(&self) -> &'static str {
        match self {
            CacheKey::Posting(_) => "posting",
            CacheKey::Company(_) => "company",
        }
    }

    fn render(&self, prefix: &str) -> String {
        match self {
            CacheKey::Posting(id) => format!("{prefix}:v{LAYOUT_VERSION}:posting:{id}"),
            CacheKey::Company(id) => format!("{prefix}:v{LAYOUT_VERSION}:company:{id}"),
        }
    }
}

/// Counters per outcome; read by `/metrics` and tests.
#[derive(Debug, Default)]
pub struct CacheStats {
    pub hits: AtomicU64,
    pub misses: AtomicU64,
    pub errors: AtomicU64,
}

/// The configured cache.
pub struct Cache {
    store: Store,
    prefix: String,
    pub stats: CacheStats,
}

enum Store {
    Memory(MemoryStore),
    Redis(RedisStore),
}

impl Cache {
    /// An in-process cache holding at most `capacity` entries.
    pub fn in_memory(prefix: &str, capacity: usize) -> Self {
        Self {
            store: Store::Memory(MemoryStore { entries: Mutex::new(HashMap::new()), capacity }),
            prefix: prefix.to_owned(),
            stats: CacheStats::default(),
        }
    }

    /// A Redis cache. Connects lazily, so start-up does not depend on Redis answering.
    pub fn redis(url: &str, prefix: &str) -> Result<Self, redis::RedisError> {
        let client = redis::Client::open(url)?;
        let config = ConnectionManagerConfig::new()
            .set_connection_timeout(Some(Duration::from_millis(500)))
            .set_response_timeout(Some(Duration::from_millis(250)))
            .set_number_of_retries(1);
        let manager = ConnectionManager::new_lazy_with_config(client, config)?;
        Ok(Self {
            store: Store::Redis(RedisStore { manager, breaker: Breaker::default() }),
            prefix: prefix.to_owned(),
            stats: CacheStats::default(),
        })
    }

    pub fn backend_name(&self) -> &'static str {
        match self.store {
            Store::Memory(_) => "memory",
            Store::Redis(_) => "redis",
        }
    }

    /// Looks up several keys at once (one MGET on Redis); absent, undecodable or failed lookups
    /// are `None`.
    pub async fn get_many<T: DeserializeOwned>(&self, keys: &[CacheKey]) -> Vec<Option<T>> {
        if keys.is_empty() {
            return Vec::new();
        }
        let rendered: Vec<String> = keys.iter().map(|k| k.render(&self.prefix)).collect();
        let raw = match &self.store {
            Store::Memory(m) => Ok(m.get_many(&rendered)),
            Store::Redis(r) => r.get_many(&rendered).await,
        };
        let raw = match raw {
            Ok(raw) => raw,
            Err(err) => {
                self.stats.errors.fetch_add(1, Ordering::Relaxed);
                tracing::warn!(error = %err, "cache read failed; reading the database");
                vec![None; keys.len()]
            }
        };
        let values: Vec<Option<T>> =
            raw.into_iter().map(|bytes| bytes.and_then(|b| serde_json::from_slice(&b).ok())).collect();
        let hits = values.iter().filter(|v| v.is_some()).count() as u64;
        self.stats.hits.fetch_add(hits, Ordering::Relaxed);
        self.stats.misses.fetch_add(values.len() as u64 - hits, Ordering::Relaxed);
        values
    }

    /// Stores several values, each with its key's TTL.
    pub async fn put_many<T: Serialize>(&self, entries: &[(CacheKey, &T)]) {
        let encoded: Vec<(String, Vec<u8>, Duration)> = entries
            .iter()
            .filter_map(|(key, value)| {
                serde_json::to_vec(value).ok().map(|bytes| (key.render(&self.prefix), bytes, key.ttl()))
            })
            .collect();
        if encoded.is_empty() {
            return;
        }
        let result = match &self.store {
            Store::Memory(m) => {
                m.put_many(encoded);
                Ok(())
            }
            Store::Redis(r) => r.put_many(encoded).await,
        };
        if let Err(err) = result {
            self.stats.errors.fetch_add(1, Ordering::Relaxed);
            tracing::warn!(error = %err, "cache write failed");
        }
    }

    /// Forgets keys after a committed write.
    pub async fn invalidate(&self, keys: &[CacheKey]) {
        if keys.is_empty() {
            return;
        }
        let rendered: Vec<String> = keys.iter().map(|k| k.render(&self.prefix)).collect();
        let result = match &self.store {
            Store::Memory(m) => {
                m.delete(&rendered);
                Ok(())
            }
            Store::Redis(r) => r.delete(&rendered).await,
        };
        if let Err(err) = result {
            self.stats.errors.fetch_add(1, Ordering::Relaxed);
            tracing::warn!(error = %err, "cache invalidation failed; entries expire by TTL");
        }
    }

    /// Whether the cache answers (for `/readyz`); the in-process one always does.
    pub async fn ping(&self) -> Result<(), String> {
        match &self.store {
            Store::Memory(_) => Ok(()),
            Store::Redis(r) => r.ping().await,
        }
    }
}

struct MemoryStore {
    entries: Mutex<HashMap<String, (Instant, Vec<u8>)>>,
    capacity: usize,
}

impl MemoryStore {
    fn get_many(&self, keys: &[String]) -> Vec<Option<Vec<u8>>> {
        let now = Instant::now();
        let Ok(entries) = self.entries.lock() else { return vec![None; keys.len()] };
        keys.iter().map(|k| entries.get(k).filter(|(expires, _)| *expires > now).map(|(_, v)| v.clone())).collect()
    }

    fn put_many(&self, values: Vec<(String, Vec<u8>, Duration)>) {
        let now = Instant::now();
        let Ok(mut entries) = self.entries.lock() else { return };
        if entries.len() + values.len() > self.capacity {
            entries.retain(|_, (expires, _)| *expires > now);
            // Still full: drop an arbitrary share rather than grow without bound.
            let excess = (entries.len() + values.len()).saturating_sub(self.capacity);
            let victims: Vec<String> = entries.keys().take(excess.max(self.capacity / 10)).cloned().collect();
            for victim in victims {
                entries.remove(&victim);
            }
        }
        for (key, value, ttl) in values {
            entries.insert(key, (now + ttl, value));
        }
    }

    fn delete(&self, keys: &[String]) {
        if let Ok(mut entries) = self.entries.lock() {
            for key in keys {
                entries.remove(key);
            }
        }
    }
}

/// Opens after consecutive failures, so a sick Redis costs one timeout, not one per request.
#[derive(Default)]
struct Breaker {
    failures: AtomicU32,
    open_until: Mutex<Option<Instant>>,
}

impl Breaker {
    const THRESHOLD: u32 = 3;
    const COOL_DOWN: Duration = Duration::from_secs(2);

    fn allows(&self) -> bool {
        match self.open_until.lock() {
            Ok(guard) => guard.is_none_or(|until| Instant::now() >= until),
            Err(_) => true,
        }
    }

    fn record(&self, ok: bool) {
        if ok {
            self.failures.store(0, Ordering::Relaxed);
            if let Ok(mut guard) = self.open_until.lock() {
                *guard = None;
            }
        } else if self.failures.fetch_add(1, Ordering::Relaxed) + 1 >= Self::THRESHOLD
            && let Ok(mut guard) = self.open_until.lock()
        {
            *guard = Some(Instant::now() + Self::COOL_DOWN);
        }
    }
}

struct RedisStore {
    manager: ConnectionManager,
    breaker: Breaker,
}

/// Every Redis call gives up after this long; the database is the fallback.
const REDIS_TIMEOUT: Duration = Duration::from_millis(250);

impl RedisStore {
    async fn run<T: redis::FromRedisValue>(&self, cmd: impl FnOnce(&mut redis::Pipeline)) -> Result<T, String> {
        if !self.breaker.allows() {
            return Err("breaker open".to_owned());
        }
        let mut pipe = redis::pipe();
        cmd(&mut pipe);
        let mut conn = self.manager.clone();
        let result = match tokio::time::timeout(REDIS_TIMEOUT, pipe.query_async::<T>(&mut conn)).await {
            Ok(Ok(value)) => Ok(value),
            Ok(Err(err)) => Err(err.to_string()),
            Err(_) => Err("timed out".to_owned()),
        };
        self.breaker.record(result.is_ok());
        result
    }

    async fn get_many(&self, keys: &[String]) -> Result<Vec<Option<Vec<u8>>>, String> {
        let (values,): (Vec<Option<Vec<u8>>>,) = self
            .run(|p| {
                p.cmd("MGET").arg(keys);
            })
            .await?;
        Ok(values)
    }

    async fn put_many(&self, values: Vec<(String, Vec<u8>, Duration)>) -> Result<(), String> {
        self.run::<()>(|p| {
            for (key, value, ttl) in &values {
                p.cmd("SET").arg(key).arg(value).arg("PX").arg(ttl.as_millis() as u64).ignore();
            }
        })
        .await
    }

    async fn delete(&self, keys: &[String]) -> Result<(), String> {
        self.run::<()>(|p| {
            p.cmd("DEL").arg(keys).ignore();
        })
        .await
    }

    async fn ping(&self) -> Result<(), String> {
        let mut conn = self.manager.clone();
        match tokio::time::timeout(REDIS_TIMEOUT, redis::cmd("PING").query_async::<String>(&mut conn)).await {
            Ok(Ok(_)) => Ok(()),
            Ok(Err(err)) => Err(err.to_string()),
            Err(_) => Err("timed out".to_owned()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn memory_cache_round_trips_and_invalidates() {
        let cache = Cache::in_memory("t", 100);
        let key = CacheKey::Posting(PostingId::generate());
        assert_eq!(cache.get_many::<String>(&[key]).await, vec![None]);
        cache.put_many(&[(key, &"hello".to_owned())]).await;
        assert_eq!(cache.get_many::<String>(&[key]).await, vec![Some("hello".to_owned())]);
        cache.invalidate(&[key]).await;
        assert_eq!(cache.get_many::<String>(&[key]).await, vec![None]);
        assert_eq!(cache.stats.hits.load(Ordering::Relaxed), 1);
        assert_eq!(cache.stats.misses.load(Ordering::Relaxed), 2);
    }

    #[tokio::test]
    async fn memory_cache_stays_within_capacity() {
        let cache = Cache::in_memory("t", 10);
        for _ in 0..50 {
            cache.put_many(&[(CacheKey::Company(CompanyId::generate()), &1)]).await;
        }
        let Store::Memory(m) = &cache.store else { unreachable!() };
        assert!(m.entries.lock().unwrap().len() <= 10);
    }

    #[tokio::test]
    async fn an_unreachable_redis_is_a_miss_not_an_error() {
        // Port 1 is never a Redis; the lookup must come back empty and quickly.
        let cache = Cache::redis("redis://127.0.0.1:1/", "t").unwrap();
        let key = CacheKey::Posting(PostingId::generate());
        let started = Instant::now();
        for _ in 0..5 {
            assert_eq!(cache.get_many::<String>(&[key]).await, vec![None]);
            cache.put_many(&[(key, &"x".to_owned())]).await;
        }
        assert!(started.elapsed() < Duration::from_secs(5), "took {:?}", started.elapsed());
        assert!(cache.stats.errors.load(Ordering::Relaxed) >= 1);
    }
}
