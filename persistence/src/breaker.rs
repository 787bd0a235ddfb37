//! A circuit breaker for Redis calls: after a few failures in a row it opens for a short while,
//! so a sick Redis costs one timeout, not one per request. It logs once per transition (not once
//! per failed call) and counts its openings for `/metrics`.

use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, Ordering};
use std::time::{Duration, Instant};

pub struct Breaker {
    /// What it guards, for the log.
    name: &'static str,
    failures: AtomicU32,
    open_until: Mutex<Option<Instant>>,
    /// Whether the last call failed; a change is a transition, logged once.
    failing: AtomicBool,
    /// Times it opened, for `/metrics`.
    pub openings: AtomicU64,
}

impl Breaker {
    const THRESHOLD: u32 = 3;
    const COOL_DOWN: Duration = Duration::from_secs(2);

    pub fn new(name: &'static str) -> Self {
        Self {
            name,
            failures: AtomicU32::new(0),
            open_until: Mutex::new(None),
            failing: AtomicBool::new(false),
            openings: AtomicU64::new(0),
        }
    }

    /// Whether a call may be tried now.
    pub fn allows(&self) -> bool {
        match self.open_until.lock() {
            Ok(guard) => guard.is_none_or(|until| Instant::now() >= until),
            Err(_) => true,
        }
    }

    /// Whether the guarded service answered its last call.
    pub fn healthy(&self) -> bool {
        !self.failing.load(Ordering::Relaxed)
    }

    pub fn record(&self, result: Result<(), &str>) {
        match result {
            Ok(()) => {
                self.failures.store(0, Ordering::Relaxed);
                if let Ok(mut guard) = self.open_until.lock() {
                    *guard = None;
                }
                if self.failing.swap(false, Ordering::Relaxed) {
                    tracing::info!(service = self.name, "answering again");
                }
            }
            Err(why) => {
                if !self.failing.swap(true, Ordering::Relaxed) {
                    tracing::warn!(service = self.name, error = why, "failing; degraded until it answers again");
                }
                if self.failures.fetch_add(1, Ordering::Relaxed) + 1 >= Self::THRESHOLD
                    && let Ok(mut guard) = self.open_until.lock()
                {
                    if guard.is_none_or(|until| Instant::now() >= until) {
                        self.openings.fetch_add(1, Ordering::Relaxed);
                    }
                    *guard = Some(Instant::now() + Self::COOL_DOWN);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn opens_after_three_failures_and_closes_on_success() {
        let breaker = Breaker::new("test");
        for _ in 0..2 {
            breaker.record(Err("down"));
        }
        assert!(breaker.allows() && !breaker.healthy());
        breaker.record(Err("down"));
        assert!(!breaker.allows());
        assert_eq!(breaker.openings.load(Ordering::Relaxed), 1);
        breaker.record(Ok(()));
        assert!(breaker.allows() && breaker.healthy());
    }
}
