//! The read cache in front of the database: Redis when configured, in-process otherwise, both
//! behind one type. The cache is never the source of truth: every failure is a miss (plus a
//! counted error), never a request error. Keys are typed; each kind's TTL is decided in one match.

use std::any::Any;
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use hiregraph_domain::ids::PartnerAppId;
use hiregraph_domain::{CandidateId, CompanyId, PostingId, UserId};
use redis::aio::{ConnectionManager, ConnectionManagerConfig};

use crate::breaker::Breaker;
use serde::Serialize;
use serde::de::DeserializeOwned;

/// Bumped whenever a cached type's layout changes, so old entries are never read as new ones.
const LAYOUT_VERSION: u32 = 7;

/// What can be cached. Shared entries hold only what every caller may see once authorized:
/// candidate profiles are cached only when public, and never with their contact fields.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CacheKey {
    Posting(PostingId),
    Company(CompanyId),
    /// Which company a slug names, under a hash of the slug; the entry holds the slug, checked
    /// when read. Slugs never change and companies are never deleted, so it is never invalidated.
    CompanySlug(u64),
    Candidate(CandidateId),
    /// An account as access tokens resolve it (role, disabled, memberships: `users::Access`);
    /// never shown to other callers.
    User(UserId),
    /// A partner app as its access tokens resolve it (scopes, secret version).
    PartnerApp(PartnerAppId),
    /// An API key with its app, under the first 128 bits of the SHA-256 the key is stored as
    /// (`CacheKey::api_key`); the entry is checked against the full hash when read.
    ApiKey(u128),
    /// One page of the public feed: (feed generation, hash of filter + order + page request).
    FeedPage(u64, u64),
    /// The feed's `totalCount`: (feed generation, hash of the filter).
    FeedCount(u64, u64),
    /// The feed's facet counts: (feed generation, hash of the filter).
    FeedFacets(u64, u64),
    /// A GraphQL document registered by automatic persisted queries, under the first 128 bits of
    /// its SHA-256; the entry holds the full hash, checked when read.
    PersistedQuery(u128),
}

/// How cached values are written. Entries are postcard: for a page of 100 cached postings it
/// decodes several times faster than JSON and takes less room (`hiregraph-bench codec` measures
/// both on the bench dataset; figures in bench/README.md). Keys carry `LAYOUT_VERSION`, so a
/// change here never reads an entry written the other way.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Codec {
    Json,
    Postcard,
}

impl Codec {
    pub const CACHE: Codec = Codec::Postcard;

    pub fn encode<T: Serialize + ?Sized>(self, value: &T) -> Option<Vec<u8>> {
        match self {
            Codec::Json => serde_json::to_vec(value).ok(),
            Codec::Postcard => postcard::to_allocvec(value).ok(),
        }
    }

    pub fn decode<T: DeserializeOwned>(self, bytes: &[u8]) -> Option<T> {
        match self {
            Codec::Json => serde_json::from_slice(bytes).ok(),
            Codec::Postcard => postcard::from_bytes(bytes).ok(),
        }
    }
}

/// A counter that writes bump, so every list result keyed under it is forgotten at once without
/// `KEYS`/`SCAN`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Generation {
    Feed,
}

/// The kinds metrics report on.
pub const KINDS: [&str; 7] = ["posting", "company", "candidate", "user", "partner", "feed", "persisted_query"];

impl CacheKey {
    /// The entry of the API key stored under this SHA-256 (64 hex digits).
    pub fn api_key(key_hash: &str) -> Option<CacheKey> {
        key_hash.get(..32).and_then(|prefix| u128::from_str_radix(prefix, 16).ok()).map(CacheKey::ApiKey)
    }

    /// Every kind's time to live. Writes invalidate explicitly; the TTL bounds what a lost
    /// invalidation can cost (and how long an expired posting may linger in a cached page).
    pub fn ttl(&self) -> Duration {
        match self {
            CacheKey::Posting(_) => Duration::from_secs(300),
            CacheKey::Company(_) => Duration::from_secs(600),
            CacheKey::CompanySlug(_) => Duration::from_secs(3600),
            CacheKey::Candidate(_) => Duration::from_secs(300),
            // Short: a disabled account or a changed role must not wait on a lost invalidation.
            CacheKey::User(_) => Duration::from_secs(30),
            // As short, for what a lost invalidation of a revoked key could cost.
            CacheKey::PartnerApp(_) | CacheKey::ApiKey(_) => Duration::from_secs(30),
            CacheKey::FeedPage(..) | CacheKey::FeedCount(..) | CacheKey::FeedFacets(..) => Duration::from_secs(30),
            // A document never changes under its hash; a forgotten one is registered again.
            CacheKey::PersistedQuery(_) => Duration::from_secs(7 * 24 * 3600),
        }
    }

    /// The entity name, as metrics label it.
    pub fn kind(&self) -> &'static str {
        match self {
            CacheKey::Posting(_) => "posting",
            CacheKey::Company(_) | CacheKey::CompanySlug(_) => "company",
            CacheKey::Candidate(_) => "candidate",
            CacheKey::User(_) => "user",
            CacheKey::PartnerApp(_) | CacheKey::ApiKey(_) => "partner",
            CacheKey::FeedPage(..) | CacheKey::FeedCount(..) | CacheKey::FeedFacets(..) => "feed",
            CacheKey::PersistedQuery(_) => "persisted_query",
        }
    }

    fn render(&self, prefix: &str) -> String {
        match self {
            CacheKey::Posting(id) => format!("{prefix}:v{LAYOUT_VERSION}:posting:{id}"),
            CacheKey::Company(id) => format!("{prefix}:v{LAYOUT_VERSION}:company:{id}"),
            CacheKey::CompanySlug(hash) => format!("{prefix}:v{LAYOUT_VERSION}:company-slug:{hash:x}"),
            CacheKey::Candidate(id) => format!("{prefix}:v{LAYOUT_VERSION}:candidate:{id}"),
            CacheKey::User(id) => format!("{prefix}:v{LAYOUT_VERSION}:user:{id}"),
            CacheKey::PartnerApp(id) => format!("{prefix}:v{LAYOUT_VERSION}:partner-app:{id}"),
            CacheKey::ApiKey(hash) => format!("{prefix}:v{LAYOUT_VERSION}:api-key:{hash:032x}"),
            CacheKey::FeedPage(generation, hash) => {
                format!("{prefix}:v{LAYOUT_VERSION}:feed:{generation}:page:{hash:x}")
            }
            CacheKey::FeedCount(generation, hash) => {
                format!("{prefix}:v{LAYOUT_VERSION}:feed:{generation}:count:{hash:x}")
            }
            CacheKey::PersistedQuery(hash) => format!("{prefix}:v{LAYOUT_VERSION}:apq:{hash:032x}"),
            CacheKey::FeedFacets(generation, hash) => {
                format!("{prefix}:v{LAYOUT_VERSION}:feed:{generation}:facets:{hash:x}")
            }
        }
    }

    /// The TTL with up to 10% jitter, so entries written together do not expire together.
    fn ttl_with_jitter(&self, rendered: &str) -> Duration {
        use std::hash::{Hash, Hasher};
        let mut h = std::collections::hash_map::DefaultHasher::new();
        rendered.hash(&mut h);
        Instant::now().hash(&mut h);
        let ttl = self.ttl();
        ttl + ttl.mul_f64((h.finish() % 1000) as f64 / 10_000.0)
    }
}

impl Generation {
    fn render(&self, prefix: &str) -> String {
        match self {
            Generation::Feed => format!("{prefix}:v{LAYOUT_VERSION}:gen:feed"),
        }
    }
}

/// Counters per outcome and kind; read by `/metrics` and tests.
#[derive(Debug, Default)]
pub struct CacheStats {
    pub hits: AtomicU64,
    pub misses: AtomicU64,
    pub errors: AtomicU64,
    by_kind: [KindStats; KINDS.len()],
}

/// One kind's counters.
#[derive(Debug, Default)]
pub struct KindStats {
    pub hits: AtomicU64,
    pub misses: AtomicU64,
    pub errors: AtomicU64,
}

impl CacheStats {
    pub fn kind(&self, kind: &str) -> &KindStats {
        let i = KINDS.iter().position(|k| *k == kind).unwrap_or(0);
        &self.by_kind[i]
    }
}

/// What a single-flight load left for those who waited on it.
#[derive(Clone)]
pub enum Landed {
    Found(Arc<dyn Any + Send + Sync>),
    Missing,
    /// The loader failed or gave up: waiters load for themselves.
    Failed,
}

/// One load in flight.
pub struct Flight {
    value: OnceLock<Landed>,
    done: tokio::sync::Notify,
}

impl Flight {
    /// Waits for the owner of this flight to land it.
    pub async fn wait(&self) -> Landed {
        loop {
            let notified = self.done.notified();
            tokio::pin!(notified);
            notified.as_mut().enable();
            if let Some(value) = self.value.get() {
                return value.clone();
            }
            notified.await;
        }
    }
}

/// Whoever claims a key first loads it; the guard lands the result (or `Failed` when dropped).
pub struct FlightGuard<'a> {
    cache: &'a Cache,
    key: CacheKey,
    flight: Arc<Flight>,
}

impl FlightGuard<'_> {
    pub fn land(self, value: Landed) {
        let _ = self.flight.value.set(value);
    }
}

impl Drop for FlightGuard<'_> {
    fn drop(&mut self) {
        let _ = self.flight.value.set(Landed::Failed);
        self.flight.done.notify_waiters();
        if let Ok(mut map) = self.cache.flights.lock() {
            map.remove(&self.key);
        }
    }
}

/// Either this caller loads the key, or it waits for the one who does.
pub enum Claim<'a> {
    Owner(FlightGuard<'a>),
    Waiter(Arc<Flight>),
}

/// The configured cache.
pub struct Cache {
    store: Store,
    prefix: String,
    pub stats: CacheStats,
    flights: Mutex<HashMap<CacheKey, Arc<Flight>>>,
    /// The in-process stand-in for Redis generation counters.
    local_generations: AtomicU64,
}

enum Store {
    Memory(MemoryStore),
    Redis(RedisStore),
    /// No caching at all (benchmarks' baseline): every lookup misses, nothing is stored.
    Off,
}

impl Cache {
    /// An in-process cache holding at most `capacity` entries.
    pub fn in_memory(prefix: &str, capacity: usize) -> Self {
        Self {
            store: Store::Memory(MemoryStore { entries: Mutex::new(HashMap::new()), capacity }),
            prefix: prefix.to_owned(),
            stats: CacheStats::default(),
            flights: Mutex::new(HashMap::new()),
            local_generations: AtomicU64::new(0),
        }
    }

    /// A Redis cache. Connects lazily, so start-up does not depend on Redis answering.
    pub fn redis(url: &str, prefix: &str) -> Result<Self, redis::RedisError> {
        Self::redis_with(redis::Client::open(url)?, prefix)
    }

    /// A Redis cache on a client of the caller's (TLS roots of its own).
    pub fn redis_with(client: redis::Client, prefix: &str) -> Result<Self, redis::RedisError> {
        let config = ConnectionManagerConfig::new()
            .set_connection_timeout(Some(Duration::from_millis(500)))
            .set_response_timeout(Some(Duration::from_millis(250)))
            .set_number_of_retries(1);
        let manager = ConnectionManager::new_lazy_with_config(client, config)?;
        Ok(Self {
            store: Store::Redis(RedisStore { manager, breaker: Breaker::new("redis cache") }),
            prefix: prefix.to_owned(),
            stats: CacheStats::default(),
            flights: Mutex::new(HashMap::new()),
            local_generations: AtomicU64::new(0),
        })
    }

    /// A cache that caches nothing, to measure the database path alone.
    pub fn off() -> Self {
        Self {
            store: Store::Off,
            prefix: String::new(),
            stats: CacheStats::default(),
            flights: Mutex::new(HashMap::new()),
            local_generations: AtomicU64::new(0),
        }
    }

    /// Whether Redis answered the cache's last call (`None` without Redis).
    pub fn shared_healthy(&self) -> Option<bool> {
        match &self.store {
            Store::Redis(r) => Some(r.breaker.healthy()),
            _ => None,
        }
    }

    /// Whether the Redis breaker is open now, so calls go straight to the database (`None`
    /// without Redis).
    pub fn breaker_open(&self) -> Option<bool> {
        match &self.store {
            Store::Redis(r) => Some(!r.breaker.allows()),
            _ => None,
        }
    }

    /// How often the Redis breaker opened (0 without Redis).
    pub fn breaker_openings(&self) -> u64 {
        match &self.store {
            Store::Redis(r) => r.breaker.openings.load(Ordering::Relaxed),
            _ => 0,
        }
    }

    /// Whether every replica reads and invalidates the same entries (Redis). Credentials are
    /// cached only then: a revocation must hold on every replica from the next request on, and
    /// an in-process cache forgets only on the replica that wrote.
    pub fn is_shared(&self) -> bool {
        matches!(self.store, Store::Redis(_))
    }

    pub fn backend_name(&self) -> &'static str {
        match self.store {
            Store::Memory(_) => "memory",
            Store::Redis(_) => "redis",
            Store::Off => "off",
        }
    }

    /// Looks up several keys at once (one MGET on Redis); absent, undecodable or failed lookups
    /// are `None`.
    pub async fn get_many<T: DeserializeOwned>(&self, keys: &[CacheKey]) -> Vec<Option<T>> {
        if keys.is_empty() {
            return Vec::new();
        }
        if matches!(self.store, Store::Off) {
            for key in keys {
                self.stats.misses.fetch_add(1, Ordering::Relaxed);
                self.stats.kind(key.kind()).misses.fetch_add(1, Ordering::Relaxed);
            }
            return keys.iter().map(|_| None).collect();
        }
        let rendered: Vec<String> = keys.iter().map(|k| k.render(&self.prefix)).collect();
        let raw = match &self.store {
            Store::Memory(m) => Ok(m.get_many(&rendered)),
            Store::Redis(r) => r.get_many(&rendered).await,
            Store::Off => Ok(vec![None; rendered.len()]),
        };
        let raw = match raw {
            Ok(raw) => raw,
            Err(err) => {
                self.stats.errors.fetch_add(1, Ordering::Relaxed);
                self.stats.kind(keys[0].kind()).errors.fetch_add(1, Ordering::Relaxed);
                tracing::debug!(error = %err, "cache read failed; reading the database");
                vec![None; keys.len()]
            }
        };
        let values: Vec<Option<T>> = raw.into_iter().map(|bytes| bytes.and_then(|b| Codec::CACHE.decode(&b))).collect();
        for (key, value) in keys.iter().zip(&values) {
            let kind = self.stats.kind(key.kind());
            if value.is_some() {
                self.stats.hits.fetch_add(1, Ordering::Relaxed);
                kind.hits.fetch_add(1, Ordering::Relaxed);
            } else {
                self.stats.misses.fetch_add(1, Ordering::Relaxed);
                kind.misses.fetch_add(1, Ordering::Relaxed);
            }
        }
        values
    }

    /// Stores several values, each with its key's TTL.
    pub async fn put_many<T: Serialize>(&self, entries: &[(CacheKey, &T)]) {
        // Nothing to encode for a cache that keeps nothing (an uncached page of 100 postings spent
        // 6 % of its time encoding them for it).
        if matches!(self.store, Store::Off) {
            return;
        }
        let encoded: Vec<(String, Vec<u8>, Duration)> = entries
            .iter()
            .filter_map(|(key, value)| {
                let rendered = key.render(&self.prefix);
                let ttl = key.ttl_with_jitter(&rendered);
                Codec::CACHE.encode(value).map(|bytes| (rendered, bytes, ttl))
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
            Store::Off => Ok(()),
        };
        if let Err(err) = result {
            self.stats.errors.fetch_add(1, Ordering::Relaxed);
            tracing::debug!(error = %err, "cache write failed");
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
            Store::Off => Ok(()),
        };
        if let Err(err) = result {
            self.stats.errors.fetch_add(1, Ordering::Relaxed);
            tracing::debug!(error = %err, "cache invalidation failed; entries expire by TTL");
        }
    }

    /// The current value of a generation counter; `None` when the cache cannot say (then list
    /// results are neither read from nor written to the cache).
    pub async fn generation(&self, generation: Generation) -> Option<u64> {
        match &self.store {
            Store::Off => None,
            Store::Memory(_) => Some(self.local_generations.load(Ordering::Acquire)),
            Store::Redis(r) => {
                let key = generation.render(&self.prefix);
                match r
                    .run::<(Option<u64>,)>(|p| {
                        p.cmd("GET").arg(&key);
                    })
                    .await
                {
                    Ok((value,)) => Some(value.unwrap_or(0)),
                    Err(err) => {
                        self.stats.errors.fetch_add(1, Ordering::Relaxed);
                        tracing::debug!(error = %err, "cache generation read failed");
                        None
                    }
                }
            }
        }
    }

    /// Bumps a generation after a committed write: every list keyed under the old one is gone.
    pub async fn bump(&self, generation: Generation) {
        match &self.store {
            Store::Off => {}
            Store::Memory(_) => {
                self.local_generations.fetch_add(1, Ordering::AcqRel);
            }
            Store::Redis(r) => {
                let key = generation.render(&self.prefix);
                if let Err(err) = r
                    .run::<()>(|p| {
                        p.cmd("INCR").arg(&key).ignore();
                    })
                    .await
                {
                    self.stats.errors.fetch_add(1, Ordering::Relaxed);
                    tracing::debug!(error = %err, "cache generation bump failed; cached lists expire by TTL");
                }
            }
        }
    }

    /// Claims the load of `key` in this process: the first caller owns it, later ones wait.
    pub fn claim(&self, key: CacheKey) -> Claim<'_> {
        let Ok(mut map) = self.flights.lock() else {
            let flight = Arc::new(Flight { value: OnceLock::new(), done: tokio::sync::Notify::new() });
            return Claim::Owner(FlightGuard { cache: self, key, flight });
        };
        if let Some(flight) = map.get(&key) {
            return Claim::Waiter(flight.clone());
        }
        let flight = Arc::new(Flight { value: OnceLock::new(), done: tokio::sync::Notify::new() });
        map.insert(key, flight.clone());
        Claim::Owner(FlightGuard { cache: self, key, flight })
    }

    /// Whether the cache answers (for `/readyz`); the in-process one always does.
    pub async fn ping(&self) -> Result<(), String> {
        match &self.store {
            Store::Memory(_) | Store::Off => Ok(()),
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
        self.breaker.record(result.as_ref().map(|_| ()).map_err(String::as_str));
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

    #[test]
    fn timestamps_are_text_in_json_and_numbers_in_the_cache() {
        use chrono::{DateTime, Utc};
        #[derive(Debug, PartialEq, Serialize, serde::Deserialize)]
        struct Stamped {
            #[serde(with = "hiregraph_domain::values::timestamp")]
            at: DateTime<Utc>,
            #[serde(default, with = "hiregraph_domain::values::timestamp::option")]
            until: Option<DateTime<Utc>>,
        }
        let at = DateTime::from_timestamp_micros(1_796_000_000_123_456).unwrap();
        for value in [Stamped { at, until: Some(at) }, Stamped { at, until: None }] {
            let json = serde_json::to_value(&value).unwrap();
            assert_eq!(json["at"], "2026-11-30T00:53:20.123456Z", "JSON keeps RFC 3339: {json}");
            assert_eq!(serde_json::from_value::<Stamped>(json).unwrap(), value);
            let bytes = Codec::CACHE.encode(&value).unwrap();
            assert!(bytes.len() <= 18, "{} bytes", bytes.len());
            assert_eq!(Codec::CACHE.decode::<Stamped>(&bytes), Some(value));
        }
        // An optional timestamp may be absent from JSON.
        let read: Stamped = serde_json::from_str(r#"{"at": "2026-11-30T00:53:20.123456Z"}"#).unwrap();
        assert_eq!(read.until, None);
    }
}
