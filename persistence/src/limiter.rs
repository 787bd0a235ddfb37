//! The one rate limiter: GCRA budgets (`rate`) and failure back-off (`attempt` / `succeeded`),
//! kept in Redis — one atomic script per check, so every replica sees the same counts — or in
//! process in the embedded default. When Redis is down it falls back to a per-replica local
//! budget, never to "unlimited".

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use redis::aio::{ConnectionManager, ConnectionManagerConfig};

use crate::breaker::Breaker;

/// What is being limited, and for whom. Each kind is a separate budget.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum LimitKey {
    /// Sign-in failures for one account (a digest of its email) from one client address.
    LoginAccountFrom(String, ClientAddr),
    /// Sign-in failures for one account, from anywhere.
    LoginAccount(String),
    /// Sign-in failures from one client address, for any account.
    LoginFrom(ClientAddr),
    /// Refresh-token failures from one client address.
    RefreshFrom(ClientAddr),
    /// Failed partner-app authentications at the token endpoint from one client address.
    ClientAuthFrom(ClientAddr),
    /// Accounts registered from one client address.
    RegisterFrom(ClientAddr),
    /// Requests without credentials from one client address.
    AnonymousFrom(ClientAddr),
    /// Open WebSocket connections of one account, on every replica.
    ConnectionsOf(uuid::Uuid),
    /// The query-cost budget of one caller (`user:<id>`, `partner:<app>`, `anonymous:<address>`).
    CostOf(String),
}

/// A client address as limits count it: IPv4 whole, IPv6 by its /64 (one subscriber's block).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ClientAddr(IpAddr);

impl ClientAddr {
    pub fn new(ip: IpAddr) -> Self {
        match ip {
            IpAddr::V4(_) => Self(ip),
            IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
                Some(v4) => Self(IpAddr::V4(v4)),
                None => {
                    let s = v6.segments();
                    Self(IpAddr::V6(std::net::Ipv6Addr::new(s[0], s[1], s[2], s[3], 0, 0, 0, 0)))
                }
            },
        }
    }
}

impl std::fmt::Display for ClientAddr {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(f)
    }
}

impl LimitKey {
    fn render(&self, prefix: &str) -> String {
        match self {
            LimitKey::LoginAccountFrom(account, from) => format!("{prefix}:rl:login:{account}:{from}"),
            LimitKey::LoginAccount(account) => format!("{prefix}:rl:login:{account}"),
            LimitKey::LoginFrom(from) => format!("{prefix}:rl:login-from:{from}"),
            LimitKey::RefreshFrom(from) => format!("{prefix}:rl:refresh-from:{from}"),
            LimitKey::ClientAuthFrom(from) => format!("{prefix}:rl:client-auth-from:{from}"),
            LimitKey::RegisterFrom(from) => format!("{prefix}:rl:register-from:{from}"),
            LimitKey::AnonymousFrom(from) => format!("{prefix}:rl:anonymous:{from}"),
            LimitKey::ConnectionsOf(account) => format!("{prefix}:rl:connections:{account}"),
            LimitKey::CostOf(caller) => format!("{prefix}:rl:cost:{caller}"),
        }
    }
}

/// A budget: `burst` at once, refilled evenly over `per` (GCRA).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Quota {
    pub burst: u32,
    pub per: Duration,
}

impl Quota {
    fn interval_ms(&self) -> u64 {
        (self.per.as_millis() as u64 / u64::from(self.burst.max(1))).max(1)
    }
}

/// After `threshold` attempts without a success, further attempts wait `base`, then twice as
/// long after each further failure, up to `max`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Backoff {
    pub base: Duration,
    pub max: Duration,
}

/// What to do with a points budget.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Spend {
    /// Take the points, unless there are not that many.
    Take(u64),
    /// Give points back (a request that cost less than it asked for).
    GiveBack(u64),
    /// Only look.
    Look,
}

/// A points budget after a `spend`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Spent {
    /// False when the points were not there (and nothing was taken).
    pub allowed: bool,
    /// Points available now.
    pub available: u64,
    /// When refused, how long until the points asked for are there.
    pub wait: Duration,
}

/// A budget of `per_minute` points: all of them at once at most, restoring evenly over a minute.
fn points_budget(per_minute: u32) -> (u64, u64) {
    let interval = (60_000_000 / u64::from(per_minute.max(1))).max(1);
    (interval, interval * u64::from(per_minute.max(1)))
}

fn spent(ahead: u64, interval: u64, limit: u64, how: Spend) -> Spent {
    if ahead > limit {
        let Spend::Take(points) = how else { unreachable!("only taking can go past the limit") };
        let before = ahead.saturating_sub(interval * points);
        return Spent {
            allowed: false,
            available: (limit - before.min(limit)) / interval,
            wait: Duration::from_micros(ahead - limit),
        };
    }
    Spent { allowed: true, available: (limit - ahead) / interval, wait: Duration::ZERO }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    Allowed,
    /// Refused; try again after this long.
    Limited(Duration),
}

/// Counters for `/metrics`.
#[derive(Debug, Default)]
pub struct LimiterStats {
    pub allowed: AtomicU64,
    pub limited: AtomicU64,
    /// Checks that Redis could not answer, decided by the local fallback instead.
    pub fallbacks: AtomicU64,
}

pub struct Limiter {
    prefix: String,
    redis: Option<(ConnectionManager, Breaker)>,
    local: Mutex<Local>,
    pub stats: LimiterStats,
}

/// How long a back-off record is kept after the last attempt.
const ATTEMPTS_KEPT: Duration = Duration::from_secs(24 * 3600);
const REDIS_TIMEOUT: Duration = Duration::from_millis(250);

/// Places held under a key, as a sorted set of holders scored by when their hold runs out.
/// ARGV: holder, limit, hold (ms). 1 when held (or renewed), 0 when every place is taken.
const HOLD: &str = r"
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
if not redis.call('ZSCORE', KEYS[1], ARGV[1]) and redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[2]) then
  return 0
end
redis.call('ZADD', KEYS[1], now + tonumber(ARGV[3]), ARGV[1])
redis.call('PEXPIRE', KEYS[1], ARGV[3])
return 1
";

/// A points budget (GCRA in microseconds): ARGV interval per point, limit, points, and 1 to give
/// points back (0 to spend them; spending 0 only looks). Returns how far ahead of now the budget
/// is after the change — or, past the limit, would have been, and then nothing changed.
const SPEND: &str = r"
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local interval, limit, points, back = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4])
local tat = tonumber(redis.call('GET', KEYS[1]) or '0')
if tat < now then tat = now end
local new_tat = tat + interval * points
if back == 1 then
  new_tat = tat - interval * points
  if new_tat < now then new_tat = now end
end
if new_tat - now > limit then return new_tat - now end
if points > 0 then
  if new_tat > now then
    redis.call('SET', KEYS[1], string.format('%d', new_tat), 'PX', math.ceil((new_tat - now) / 1000) + 1)
  else
    redis.call('DEL', KEYS[1])
  end
end
return new_tat - now
";

const RELEASE: &str = r"
redis.call('ZREM', KEYS[1], ARGV[1])
return 0
";

const GCRA: &str = r"
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local interval, limit, cost = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
local tat = tonumber(redis.call('GET', KEYS[1]) or '0')
if tat < now then tat = now end
local new_tat = tat + interval * cost
if new_tat - now > limit then return new_tat - now - limit end
redis.call('SET', KEYS[1], new_tat, 'PX', new_tat - now)
return 0
";

// ARGV: base ms, max ms, keep ms, then one threshold per key. Refuses (returning the wait) while
// any key is locked; otherwise counts the attempt on every key and locks those at their threshold.
const ATTEMPT: &str = r"
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local base, max, keep = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
local wait = 0
for i, key in ipairs(KEYS) do
  local locked = tonumber(redis.call('HGET', key, 'until') or '0')
  if locked - now > wait then wait = locked - now end
end
if wait > 0 then return wait end
for i, key in ipairs(KEYS) do
  local n = redis.call('HINCRBY', key, 'n', 1)
  local threshold = tonumber(ARGV[3 + i])
  if n >= threshold then
    local lock = base
    for _ = threshold + 1, n do
      lock = lock * 2
      if lock >= max then break end
    end
    if lock > max then lock = max end
    redis.call('HSET', key, 'until', now + lock)
  end
  redis.call('PEXPIRE', key, keep)
end
return 0
";

// KEYS: first ARGV[1] keys to clear, then keys whose last attempt is forgiven; ARGV[2..]: their
// thresholds.
const SUCCEEDED: &str = r"
local clear = tonumber(ARGV[1])
for i, key in ipairs(KEYS) do
  if i <= clear then
    redis.call('DEL', key)
  else
    local n = redis.call('HINCRBY', key, 'n', -1)
    if n < tonumber(ARGV[1 + i - clear]) then redis.call('HDEL', key, 'until') end
    if n <= 0 then redis.call('DEL', key) end
  end
end
return 0
";

impl Limiter {
    /// In process only: the embedded default.
    pub fn local(prefix: &str) -> Self {
        Self { prefix: prefix.to_owned(), redis: None, local: Mutex::default(), stats: LimiterStats::default() }
    }

    /// Shared through Redis, with the local fallback. Connects lazily.
    pub fn redis(url: &str, prefix: &str) -> Result<Self, redis::RedisError> {
        Self::redis_with(redis::Client::open(url)?, prefix)
    }

    /// Shared through Redis on a client of the caller's (TLS roots of its own).
    pub fn redis_with(client: redis::Client, prefix: &str) -> Result<Self, redis::RedisError> {
        let config = ConnectionManagerConfig::new()
            .set_connection_timeout(Some(Duration::from_millis(500)))
            .set_response_timeout(Some(REDIS_TIMEOUT))
            .set_number_of_retries(1);
        let manager = ConnectionManager::new_lazy_with_config(client, config)?;
        Ok(Self {
            prefix: prefix.to_owned(),
            redis: Some((manager, Breaker::new("redis rate limiter"))),
            local: Mutex::default(),
            stats: LimiterStats::default(),
        })
    }

    /// Spends `cost` of `key`'s budget.
    pub async fn rate(&self, key: &LimitKey, quota: Quota, cost: u32) -> Decision {
        let rendered = key.render(&self.prefix);
        let interval = quota.interval_ms();
        let limit = interval * u64::from(quota.burst.max(1));
        let shared = self.script(GCRA, std::slice::from_ref(&rendered), &[interval, limit, u64::from(cost)]).await;
        let decision = match shared {
            Some(wait) => decision(wait),
            None => self.with_local(|local| local.rate(&rendered, interval, limit, cost)),
        };
        self.count(decision)
    }

    /// Spends (or gives back, or looks at) points of a `per_minute` budget under `key`: the
    /// query-cost budgets, shared by every replica through Redis.
    pub async fn spend(&self, key: &LimitKey, per_minute: u32, how: Spend) -> Spent {
        let rendered = key.render(&self.prefix);
        let (interval, limit) = points_budget(per_minute);
        let (points, back) = match how {
            Spend::Take(points) => (points, 0),
            Spend::GiveBack(points) => (points, 1),
            Spend::Look => (0, 0),
        };
        let ahead = match self.script(SPEND, std::slice::from_ref(&rendered), &[interval, limit, points, back]).await {
            Some(ahead) => ahead,
            None => match self.local.lock() {
                Ok(mut local) => local.spend(&rendered, interval, limit, how),
                Err(poisoned) => poisoned.into_inner().spend(&rendered, interval, limit, how),
            },
        };
        let result = spent(ahead, interval, limit, how);
        if matches!(how, Spend::Take(_)) {
            self.count(if result.allowed { Decision::Allowed } else { Decision::Limited(result.wait) });
        }
        result
    }

    /// One attempt at something that may fail (signing in): refused while any key is backing
    /// off; otherwise counted on every key before the attempt is made, so concurrent attempts
    /// cannot slip past a threshold together.
    pub async fn attempt(&self, keys: &[(LimitKey, u32)], backoff: Backoff) -> Decision {
        let rendered: Vec<String> = keys.iter().map(|(k, _)| k.render(&self.prefix)).collect();
        let mut args =
            vec![backoff.base.as_millis() as u64, backoff.max.as_millis() as u64, ATTEMPTS_KEPT.as_millis() as u64];
        args.extend(keys.iter().map(|(_, threshold)| u64::from(*threshold)));
        let decision = match self.script(ATTEMPT, &rendered, &args).await {
            Some(wait) => decision(wait),
            None => {
                let thresholds: Vec<u32> = keys.iter().map(|(_, t)| *t).collect();
                self.with_local(|local| local.attempt(&rendered, &thresholds, backoff))
            }
        };
        self.count(decision)
    }

    /// The attempt succeeded: `clear` start afresh (the back-off is lifted), and the attempt is
    /// taken back from `forgive` (broad keys, such as an address many people share).
    pub async fn succeeded(&self, clear: &[LimitKey], forgive: &[(LimitKey, u32)]) {
        let mut rendered: Vec<String> = clear.iter().map(|k| k.render(&self.prefix)).collect();
        rendered.extend(forgive.iter().map(|(k, _)| k.render(&self.prefix)));
        let mut args = vec![clear.len() as u64];
        args.extend(forgive.iter().map(|(_, t)| u64::from(*t)));
        if self.script(SUCCEEDED, &rendered, &args).await.is_none() {
            let thresholds: Vec<u32> = forgive.iter().map(|(_, t)| *t).collect();
            self.with_local(|local| {
                local.succeeded(&rendered[..clear.len()], &rendered[clear.len()..], &thresholds);
                Decision::Allowed
            });
        }
    }

    /// Takes one of at most `limit` places under `key` for `holder`, for `hold`; holding again
    /// renews it, so a holder that dies gives its place back when the hold runs out. `None`
    /// when there is no Redis or it did not answer: the caller decides alone.
    pub async fn hold(&self, key: &LimitKey, holder: u64, limit: u64, hold: Duration) -> Option<bool> {
        let rendered = key.render(&self.prefix);
        let held = self.script(HOLD, &[rendered], &[holder, limit, hold.as_millis() as u64]).await?;
        Some(held == 1)
    }

    /// Gives a place back.
    pub async fn release(&self, key: &LimitKey, holder: u64) {
        let _ = self.script(RELEASE, &[key.render(&self.prefix)], &[holder]).await;
    }

    /// How often the Redis breaker opened (0 without Redis).
    pub fn breaker_openings(&self) -> u64 {
        self.redis.as_ref().map_or(0, |(_, breaker)| breaker.openings.load(Ordering::Relaxed))
    }

    /// Whether the Redis breaker is open now, so limits are decided locally (`None` without Redis).
    pub fn breaker_open(&self) -> Option<bool> {
        self.redis.as_ref().map(|(_, breaker)| !breaker.allows())
    }

    /// Whether the shared store answers (`None` without Redis).
    pub fn shared_healthy(&self) -> Option<bool> {
        self.redis.as_ref().map(|(_, breaker)| breaker.healthy())
    }

    /// Runs a script on Redis; `None` when there is no Redis or it did not answer.
    async fn script(&self, source: &str, keys: &[String], args: &[u64]) -> Option<u64> {
        let (manager, breaker) = self.redis.as_ref()?;
        if !breaker.allows() {
            self.stats.fallbacks.fetch_add(1, Ordering::Relaxed);
            return None;
        }
        let script = redis::Script::new(source);
        let mut invocation = script.prepare_invoke();
        for key in keys {
            invocation.key(key);
        }
        for arg in args {
            invocation.arg(*arg);
        }
        let mut conn = manager.clone();
        let result = match tokio::time::timeout(REDIS_TIMEOUT, invocation.invoke_async::<u64>(&mut conn)).await {
            Ok(Ok(value)) => Ok(value),
            Ok(Err(err)) => Err(err.to_string()),
            Err(_) => Err("timed out".to_owned()),
        };
        breaker.record(result.as_ref().map(|_| ()).map_err(String::as_str));
        match result {
            Ok(value) => Some(value),
            Err(_) => {
                self.stats.fallbacks.fetch_add(1, Ordering::Relaxed);
                None
            }
        }
    }

    fn with_local(&self, f: impl FnOnce(&mut Local) -> Decision) -> Decision {
        match self.local.lock() {
            Ok(mut local) => f(&mut local),
            // A poisoned lock must not turn into "unlimited".
            Err(poisoned) => f(&mut poisoned.into_inner()),
        }
    }

    fn count(&self, decision: Decision) -> Decision {
        let counter = match decision {
            Decision::Allowed => &self.stats.allowed,
            Decision::Limited(_) => &self.stats.limited,
        };
        counter.fetch_add(1, Ordering::Relaxed);
        decision
    }
}

fn decision(wait_ms: u64) -> Decision {
    if wait_ms == 0 { Decision::Allowed } else { Decision::Limited(Duration::from_millis(wait_ms)) }
}

/// The in-process store: the same arithmetic as the scripts, against this process's clock.
#[derive(Default)]
struct Local {
    /// GCRA: the theoretical arrival time of the next request.
    tats: HashMap<String, Instant>,
    /// Back-off: attempts counted and the lock, with when the record is dropped.
    attempts: HashMap<String, Attempts>,
    checks: u64,
}

struct Attempts {
    n: u32,
    locked_until: Option<Instant>,
    kept_until: Instant,
}

/// Records of a store that grows past this are swept of expired ones.
const LOCAL_SWEEP_AT: usize = 10_000;

impl Local {
    fn sweep(&mut self, now: Instant) {
        self.checks += 1;
        if self.tats.len() + self.attempts.len() > LOCAL_SWEEP_AT && self.checks.is_multiple_of(64) {
            self.tats.retain(|_, tat| *tat > now);
            self.attempts.retain(|_, a| a.kept_until > now);
        }
    }

    fn rate(&mut self, key: &str, interval_ms: u64, limit_ms: u64, cost: u32) -> Decision {
        let now = Instant::now();
        self.sweep(now);
        let tat = self.tats.get(key).copied().filter(|tat| *tat > now).unwrap_or(now);
        let new_tat = tat + Duration::from_millis(interval_ms * u64::from(cost));
        let ahead = new_tat - now;
        let limit = Duration::from_millis(limit_ms);
        if ahead > limit {
            return Decision::Limited(ahead - limit);
        }
        self.tats.insert(key.to_owned(), new_tat);
        Decision::Allowed
    }

    /// `SPEND`'s arithmetic: how far ahead of now the budget is after the change (or would be).
    fn spend(&mut self, key: &str, interval_us: u64, limit_us: u64, how: Spend) -> u64 {
        let now = Instant::now();
        self.sweep(now);
        let tat = self.tats.get(key).copied().filter(|tat| *tat > now).unwrap_or(now);
        let ahead = (tat - now).as_micros() as u64;
        let new_ahead = match how {
            Spend::Take(points) => ahead + interval_us * points,
            Spend::GiveBack(points) => ahead.saturating_sub(interval_us * points),
            Spend::Look => ahead,
        };
        if new_ahead <= limit_us && how != Spend::Look {
            self.tats.insert(key.to_owned(), now + Duration::from_micros(new_ahead));
        }
        new_ahead
    }

    fn attempt(&mut self, keys: &[String], thresholds: &[u32], backoff: Backoff) -> Decision {
        let now = Instant::now();
        self.sweep(now);
        let wait = keys
            .iter()
            .filter_map(|k| self.attempts.get(k).filter(|a| a.kept_until > now)?.locked_until)
            .filter(|until| *until > now)
            .map(|until| until - now)
            .max();
        if let Some(wait) = wait {
            return Decision::Limited(wait);
        }
        for (key, threshold) in keys.iter().zip(thresholds) {
            let record =
                self.attempts.entry(key.clone()).or_insert(Attempts { n: 0, locked_until: None, kept_until: now });
            if record.kept_until <= now {
                *record = Attempts { n: 0, locked_until: None, kept_until: now };
            }
            record.n += 1;
            record.kept_until = now + ATTEMPTS_KEPT;
            if record.n >= *threshold {
                let doublings = (record.n - threshold).min(31);
                let lock = backoff.base.saturating_mul(1 << doublings).min(backoff.max);
                record.locked_until = Some(now + lock);
            }
        }
        Decision::Allowed
    }

    fn succeeded(&mut self, clear: &[String], forgive: &[String], thresholds: &[u32]) {
        for key in clear {
            self.attempts.remove(key);
        }
        for (key, threshold) in forgive.iter().zip(thresholds) {
            if let Some(record) = self.attempts.get_mut(key) {
                record.n = record.n.saturating_sub(1);
                if record.n < *threshold {
                    record.locked_until = None;
                }
                if record.n == 0 {
                    self.attempts.remove(key);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn addr() -> ClientAddr {
        ClientAddr::new("203.0.113.7".parse().unwrap())
    }

    const BACKOFF: Backoff = Backoff { base: Duration::from_secs(30), max: Duration::from_secs(3600) };

    #[tokio::test]
    async fn a_budget_allows_its_burst_then_refuses_with_the_wait() {
        let limiter = Limiter::local("t");
        let quota = Quota { burst: 3, per: Duration::from_secs(60) };
        let key = LimitKey::RegisterFrom(addr());
        for _ in 0..3 {
            assert_eq!(limiter.rate(&key, quota, 1).await, Decision::Allowed);
        }
        let Decision::Limited(wait) = limiter.rate(&key, quota, 1).await else { panic!("the 4th was allowed") };
        assert!(wait > Duration::from_secs(15) && wait <= Duration::from_secs(20), "{wait:?}");
        // Another address has its own budget.
        let other = LimitKey::RegisterFrom(ClientAddr::new("203.0.113.8".parse().unwrap()));
        assert_eq!(limiter.rate(&other, quota, 1).await, Decision::Allowed);
    }

    #[tokio::test]
    async fn failures_back_off_exponentially_and_a_success_lifts_it() {
        let limiter = Limiter::local("t");
        let key = LimitKey::LoginAccountFrom("acct".into(), addr());
        let keys = [(key.clone(), 5)];
        for _ in 0..5 {
            assert_eq!(limiter.attempt(&keys, BACKOFF).await, Decision::Allowed);
        }
        let Decision::Limited(wait) = limiter.attempt(&keys, BACKOFF).await else { panic!("the 6th was allowed") };
        assert!(wait > Duration::from_secs(29) && wait <= Duration::from_secs(30), "{wait:?}");
        limiter.succeeded(&[key], &[]).await;
        assert_eq!(limiter.attempt(&keys, BACKOFF).await, Decision::Allowed);
    }

    #[test]
    fn each_failure_past_the_threshold_doubles_the_wait_up_to_the_maximum() {
        let mut local = Local::default();
        let keys = ["k".to_owned()];
        let waits: Vec<Duration> = (0..12)
            .map(|_| {
                local.attempt(&keys, &[3], BACKOFF);
                let record = local.attempts.get_mut("k").unwrap();
                let wait = record.locked_until.map(|u| u - Instant::now()).unwrap_or_default();
                record.locked_until = None; // as if the wait had passed
                wait
            })
            .collect();
        let secs: Vec<u64> = waits.iter().map(|w| (w.as_millis() as u64).div_ceil(1000)).collect();
        assert_eq!(secs, [0, 0, 30, 60, 120, 240, 480, 960, 1920, 3600, 3600, 3600]);
    }

    #[tokio::test]
    async fn a_forgiven_attempt_unlocks_a_shared_address() {
        let limiter = Limiter::local("t");
        let from = (LimitKey::LoginFrom(addr()), 2);
        limiter.attempt(std::slice::from_ref(&from), BACKOFF).await;
        limiter.attempt(std::slice::from_ref(&from), BACKOFF).await;
        assert!(matches!(limiter.attempt(std::slice::from_ref(&from), BACKOFF).await, Decision::Limited(_)));
        limiter.succeeded(&[], std::slice::from_ref(&from)).await;
        assert_eq!(limiter.attempt(std::slice::from_ref(&from), BACKOFF).await, Decision::Allowed);
    }

    #[tokio::test]
    async fn without_redis_the_local_budget_still_refuses() {
        let limiter = Limiter::redis("redis://127.0.0.1:1", "t").unwrap();
        let quota = Quota { burst: 2, per: Duration::from_secs(60) };
        let key = LimitKey::AnonymousFrom(addr());
        assert_eq!(limiter.rate(&key, quota, 1).await, Decision::Allowed);
        assert_eq!(limiter.rate(&key, quota, 1).await, Decision::Allowed);
        assert!(matches!(limiter.rate(&key, quota, 1).await, Decision::Limited(_)));
        assert!(limiter.stats.fallbacks.load(Ordering::Relaxed) >= 3);
        assert_eq!(limiter.shared_healthy(), Some(false));
    }

    #[tokio::test]
    async fn a_points_budget_drains_refuses_with_the_wait_and_takes_points_back() {
        let limiter = Limiter::local("t");
        let key = LimitKey::CostOf("partner:x".into());
        // 600 points a minute: 10 a second.
        let first = limiter.spend(&key, 600, Spend::Take(500)).await;
        assert!(first.allowed && first.available == 100, "{first:?}");
        let refused = limiter.spend(&key, 600, Spend::Take(200)).await;
        assert!(!refused.allowed, "{refused:?}");
        assert_eq!(refused.available, 100);
        assert!(refused.wait > Duration::from_millis(9_900) && refused.wait <= Duration::from_secs(10), "{refused:?}");
        let back = limiter.spend(&key, 600, Spend::GiveBack(300)).await;
        assert!(back.allowed && back.available >= 400, "{back:?}");
        assert_eq!(limiter.spend(&key, 600, Spend::Look).await.available, back.available);
        // Giving back never makes more than the maximum.
        let full = limiter.spend(&key, 600, Spend::GiveBack(10_000)).await;
        assert_eq!(full.available, 600);
    }

    #[test]
    fn ipv6_clients_count_by_their_64_block() {
        let a = ClientAddr::new("2001:db8:1:2:aaaa::1".parse().unwrap());
        let b = ClientAddr::new("2001:db8:1:2:bbbb::9".parse().unwrap());
        assert_eq!(a, b);
        assert_eq!(ClientAddr::new("::ffff:192.0.2.1".parse().unwrap()), ClientAddr::new("192.0.2.1".parse().unwrap()));
    }
}
