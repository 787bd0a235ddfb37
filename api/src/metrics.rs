//! `/metrics` in the Prometheus text format: GraphQL requests and latency per operation name,
//! cache hits, misses and errors per entity kind, SQL statements per table.

use std::collections::HashMap;
use std::fmt::Write;
use std::sync::Mutex;
use std::sync::atomic::Ordering;
use std::time::Duration;

use hiregraph_persistence::cache::KINDS;

use crate::state::AppState;

/// Latency buckets, in seconds, up to the request timeout's order.
const BUCKETS: [f64; 14] = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0];
/// Distinct operation names tracked; more are counted as `other`, so clients cannot blow up the
/// number of series.
const MAX_OPERATIONS: usize = 200;

#[derive(Default)]
struct Operation {
    count: u64,
    errors: u64,
    seconds: f64,
    buckets: [u64; BUCKETS.len()],
}

#[derive(Default)]
pub struct RequestMetrics {
    operations: Mutex<HashMap<String, Operation>>,
    events_written: std::sync::atomic::AtomicU64,
    events_pruned: std::sync::atomic::AtomicU64,
    deliveries_queued: std::sync::atomic::AtomicU64,
    webhooks: Mutex<Webhooks>,
    http: Mutex<Http>,
}

/// HTTP answers: by status, and refusals by reason (both from small fixed sets of values).
#[derive(Default)]
struct Http {
    by_status: std::collections::BTreeMap<u16, u64>,
    refused: std::collections::BTreeMap<String, u64>,
}

/// Reasons tracked; more are counted as `other`.
const MAX_REASONS: usize = 50;

/// Delivery latency buckets (event committed to receiver answering 2xx), in seconds.
const DELIVERY_BUCKETS: [f64; 10] = [0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 60.0, 600.0];

#[derive(Default)]
struct Webhooks {
    /// Attempts by outcome: succeeded, retrying, failed.
    attempts: HashMap<&'static str, u64>,
    latency_buckets: [u64; DELIVERY_BUCKETS.len()],
    latency_count: u64,
    latency_sum: f64,
    backlog: hiregraph_persistence::webhooks::Backlog,
}

impl RequestMetrics {
    /// Events committed to the outbox by this process.
    pub fn events_written(&self, n: u64) {
        self.events_written.fetch_add(n, Ordering::Relaxed);
    }

    /// Deliveries the relay queued.
    pub fn deliveries_queued(&self, n: u64) {
        self.deliveries_queued.fetch_add(n, Ordering::Relaxed);
    }

    /// One delivery attempt's outcome, and for a success the time since the event committed.
    pub fn delivery_attempted(&self, outcome: &'static str, latency: Option<Duration>) {
        let Ok(mut w) = self.webhooks.lock() else { return };
        *w.attempts.entry(outcome).or_default() += 1;
        if let Some(latency) = latency {
            let secs = latency.as_secs_f64();
            w.latency_count += 1;
            w.latency_sum += secs;
            for (bucket, bound) in w.latency_buckets.iter_mut().zip(DELIVERY_BUCKETS) {
                if secs <= bound {
                    *bucket += 1;
                }
            }
        }
    }

    /// The outbox and delivery backlog, as the worker last read it.
    pub fn set_backlog(&self, backlog: hiregraph_persistence::webhooks::Backlog) {
        if let Ok(mut w) = self.webhooks.lock() {
            w.backlog = backlog;
        }
    }

    /// One HTTP answer, and why it was refused when it was.
    pub fn http_response(&self, status: u16, refused: Option<&str>) {
        let Ok(mut http) = self.http.lock() else { return };
        *http.by_status.entry(status).or_default() += 1;
        if let Some(reason) = refused {
            let known = http.refused.contains_key(reason) || http.refused.len() < MAX_REASONS;
            let reason = if known { reason } else { "other" };
            *http.refused.entry(reason.to_owned()).or_default() += 1;
        }
    }

    /// Events this process deleted past their retention.
    pub fn events_pruned(&self, n: u64) {
        self.events_pruned.fetch_add(n, Ordering::Relaxed);
    }

    pub fn record(&self, operation: Option<&str>, elapsed: Duration, failed: bool) {
        let Ok(mut ops) = self.operations.lock() else { return };
        let mut name = operation.filter(|n| !n.is_empty() && n.len() <= 100).unwrap_or("anonymous");
        if !ops.contains_key(name) && ops.len() >= MAX_OPERATIONS {
            name = "other";
        }
        let op = ops.entry(name.to_owned()).or_default();
        let secs = elapsed.as_secs_f64();
        op.count += 1;
        op.errors += u64::from(failed);
        op.seconds += secs;
        for (bucket, bound) in op.buckets.iter_mut().zip(BUCKETS) {
            if secs <= bound {
                *bucket += 1;
            }
        }
    }
}

fn label(value: &str) -> String {
    value.replace('\\', "\\\\").replace('"', "\\\"").replace('\n', " ")
}

/// The whole exposition.
pub fn render(state: &AppState) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "# HELP hiregraph_graphql_requests_total GraphQL operations served, by operation name.");
    let _ = writeln!(out, "# TYPE hiregraph_graphql_requests_total counter");
    let _ = writeln!(out, "# HELP hiregraph_graphql_errors_total GraphQL operations that answered with errors.");
    let _ = writeln!(out, "# TYPE hiregraph_graphql_errors_total counter");
    let _ = writeln!(out, "# HELP hiregraph_graphql_request_duration_seconds Time to execute a GraphQL operation.");
    let _ = writeln!(out, "# TYPE hiregraph_graphql_request_duration_seconds histogram");
    if let Ok(ops) = state.metrics.operations.lock() {
        let mut names: Vec<&String> = ops.keys().collect();
        names.sort();
        for name in names {
            let op = &ops[name];
            let l = label(name);
            let _ = writeln!(out, "hiregraph_graphql_requests_total{{operation=\"{l}\"}} {}", op.count);
            let _ = writeln!(out, "hiregraph_graphql_errors_total{{operation=\"{l}\"}} {}", op.errors);
            for (bound, n) in BUCKETS.iter().zip(op.buckets) {
                let _ = writeln!(
                    out,
                    "hiregraph_graphql_request_duration_seconds_bucket{{operation=\"{l}\",le=\"{bound}\"}} {n}"
                );
            }
            let _ = writeln!(
                out,
                "hiregraph_graphql_request_duration_seconds_bucket{{operation=\"{l}\",le=\"+Inf\"}} {}",
                op.count
            );
            let _ = writeln!(out, "hiregraph_graphql_request_duration_seconds_sum{{operation=\"{l}\"}} {}", op.seconds);
            let _ = writeln!(out, "hiregraph_graphql_request_duration_seconds_count{{operation=\"{l}\"}} {}", op.count);
        }
    }
    for (metric, help) in [
        ("hits", "Cache lookups answered by the cache."),
        ("misses", "Cache lookups that went to the database."),
        ("errors", "Cache calls that failed (each is also a miss)."),
    ] {
        let _ = writeln!(out, "# HELP hiregraph_cache_{metric}_total {help}");
        let _ = writeln!(out, "# TYPE hiregraph_cache_{metric}_total counter");
        for kind in KINDS {
            let stats = state.cache.stats.kind(kind);
            let n = match metric {
                "hits" => stats.hits.load(Ordering::Relaxed),
                "misses" => stats.misses.load(Ordering::Relaxed),
                _ => stats.errors.load(Ordering::Relaxed),
            };
            let _ = writeln!(
                out,
                "hiregraph_cache_{metric}_total{{entity=\"{kind}\",backend=\"{}\"}} {n}",
                state.cache.backend_name()
            );
        }
    }
    let _ = writeln!(
        out,
        "# HELP hiregraph_redis_breaker_openings_total Times a Redis client stopped calling Redis for a cool-down after failures."
    );
    let _ = writeln!(out, "# TYPE hiregraph_redis_breaker_openings_total counter");
    let _ =
        writeln!(out, "hiregraph_redis_breaker_openings_total{{client=\"cache\"}} {}", state.cache.breaker_openings());
    let _ = writeln!(
        out,
        "hiregraph_redis_breaker_openings_total{{client=\"rate_limiter\"}} {}",
        state.limiter.breaker_openings()
    );
    let limits = &state.limiter.stats;
    for (metric, help, n) in [
        ("allowed", "Rate-limit checks that let the request through.", &limits.allowed),
        ("limited", "Rate-limit checks that refused (HTTP 429).", &limits.limited),
        ("fallbacks", "Rate-limit checks decided by the local budget because Redis did not answer.", &limits.fallbacks),
    ] {
        let _ = writeln!(out, "# HELP hiregraph_rate_limit_{metric}_total {help}");
        let _ = writeln!(out, "# TYPE hiregraph_rate_limit_{metric}_total counter");
        let _ = writeln!(out, "hiregraph_rate_limit_{metric}_total {}", n.load(Ordering::Relaxed));
    }
    for (metric, help, n) in [
        ("written", "Events committed to the outbox by this process.", &state.metrics.events_written),
        ("pruned", "Events this process deleted past their retention.", &state.metrics.events_pruned),
    ] {
        let _ = writeln!(out, "# HELP hiregraph_events_{metric}_total {help}");
        let _ = writeln!(out, "# TYPE hiregraph_events_{metric}_total counter");
        let _ = writeln!(out, "hiregraph_events_{metric}_total {}", n.load(Ordering::Relaxed));
    }
    let _ = writeln!(
        out,
        "# HELP hiregraph_webhook_deliveries_queued_total Deliveries the relay queued (one per event and endpoint)."
    );
    let _ = writeln!(out, "# TYPE hiregraph_webhook_deliveries_queued_total counter");
    let _ = writeln!(
        out,
        "hiregraph_webhook_deliveries_queued_total {}",
        state.metrics.deliveries_queued.load(Ordering::Relaxed)
    );
    if let Ok(w) = state.metrics.webhooks.lock() {
        let _ = writeln!(out, "# HELP hiregraph_webhook_attempts_total Delivery attempts by outcome.");
        let _ = writeln!(out, "# TYPE hiregraph_webhook_attempts_total counter");
        for outcome in ["succeeded", "retrying", "failed"] {
            let n = w.attempts.get(outcome).copied().unwrap_or(0);
            let _ = writeln!(out, "hiregraph_webhook_attempts_total{{outcome=\"{outcome}\"}} {n}");
        }
        let _ = writeln!(
            out,
            "# HELP hiregraph_webhook_delivery_latency_seconds From an event's commit to its receiver's 2xx answer."
        );
        let _ = writeln!(out, "# TYPE hiregraph_webhook_delivery_latency_seconds histogram");
        for (bound, n) in DELIVERY_BUCKETS.iter().zip(w.latency_buckets) {
            let _ = writeln!(out, "hiregraph_webhook_delivery_latency_seconds_bucket{{le=\"{bound}\"}} {n}");
        }
        let _ = writeln!(out, "hiregraph_webhook_delivery_latency_seconds_bucket{{le=\"+Inf\"}} {}", w.latency_count);
        let _ = writeln!(out, "hiregraph_webhook_delivery_latency_seconds_sum {}", w.latency_sum);
        let _ = writeln!(out, "hiregraph_webhook_delivery_latency_seconds_count {}", w.latency_count);
        let oldest = w
            .backlog
            .oldest_pending
            .map_or(0.0, |at| (chrono::Utc::now() - at).to_std().map(|d| d.as_secs_f64()).unwrap_or(0.0));
        for (metric, help, value) in [
            ("webhook_deliveries_pending", "Deliveries waiting for an attempt or a retry.", w.backlog.pending as f64),
            ("webhook_oldest_pending_seconds", "Age of the oldest pending delivery.", oldest),
            ("outbox_unrelayed_events", "Committed events not yet turned into deliveries.", w.backlog.unrelayed as f64),
        ] {
            let _ = writeln!(out, "# HELP hiregraph_{metric} {help}");
            let _ = writeln!(out, "# TYPE hiregraph_{metric} gauge");
            let _ = writeln!(out, "hiregraph_{metric} {value}");
        }
    }
    render_http(&mut out, state);
    render_process(&mut out);
    let sql = &state.db.stats;
    let _ = writeln!(out, "# HELP hiregraph_sql_statements_total SQL statements run, by the first table they touch.");
    let _ = writeln!(out, "# TYPE hiregraph_sql_statements_total counter");
    for (table, n) in sql.tables() {
        let _ = writeln!(out, "hiregraph_sql_statements_total{{table=\"{}\"}} {n}", label(&table));
    }
    let _ = writeln!(out, "# HELP hiregraph_sql_seconds_total Time spent in SQL statements.");
    let _ = writeln!(out, "# TYPE hiregraph_sql_seconds_total counter");
    let _ = writeln!(out, "hiregraph_sql_seconds_total {}", sql.micros.load(Ordering::Relaxed) as f64 / 1e6);
    out
}

fn render_http(out: &mut String, state: &AppState) {
    let _ = writeln!(out, "# HELP hiregraph_http_responses_total HTTP answers, by status.");
    let _ = writeln!(out, "# TYPE hiregraph_http_responses_total counter");
    let _ =
        writeln!(out, "# HELP hiregraph_http_refused_total Requests answered 4xx or 5xx, by reason (the error code).");
    let _ = writeln!(out, "# TYPE hiregraph_http_refused_total counter");
    if let Ok(http) = state.metrics.http.lock() {
        for (status, n) in &http.by_status {
            let _ = writeln!(out, "hiregraph_http_responses_total{{status=\"{status}\"}} {n}");
        }
        for (reason, n) in &http.refused {
            let _ = writeln!(out, "hiregraph_http_refused_total{{reason=\"{}\"}} {n}", label(reason));
        }
    }
    let pool = state.db.pool_usage();
    let _ = writeln!(out, "# HELP hiregraph_db_pool_connections Connections of the request pool, by state.");
    let _ = writeln!(out, "# TYPE hiregraph_db_pool_connections gauge");
    let _ = writeln!(out, "hiregraph_db_pool_connections{{state=\"in_use\"}} {}", pool.in_use);
    let _ = writeln!(out, "hiregraph_db_pool_connections{{state=\"idle\"}} {}", pool.idle);
    let _ = writeln!(
        out,
        "# HELP hiregraph_db_pool_waiting Statements and transactions waiting for a connection of the request pool."
    );
    let _ = writeln!(out, "# TYPE hiregraph_db_pool_waiting gauge");
    let _ = writeln!(out, "hiregraph_db_pool_waiting {}", pool.waiting);
    let _ = writeln!(out, "# HELP hiregraph_db_pool_max_connections The request pool's bound.");
    let _ = writeln!(out, "# TYPE hiregraph_db_pool_max_connections gauge");
    let _ = writeln!(out, "hiregraph_db_pool_max_connections {}", state.settings.db_max_connections);
    let _ =
        writeln!(out, "# HELP hiregraph_redis_up Whether Redis answered a client's last call (absent without Redis).");
    let _ = writeln!(out, "# TYPE hiregraph_redis_up gauge");
    for (client, healthy) in [("cache", state.cache.shared_healthy()), ("rate_limiter", state.limiter.shared_healthy())]
    {
        if let Some(healthy) = healthy {
            let _ = writeln!(out, "hiregraph_redis_up{{client=\"{client}\"}} {}", u8::from(healthy));
        }
    }
    let _ = writeln!(
        out,
        "# HELP hiregraph_redis_breaker_open Whether a client's Redis breaker is open: calls skip Redis for a cool-down (absent without Redis)."
    );
    let _ = writeln!(out, "# TYPE hiregraph_redis_breaker_open gauge");
    for (client, open) in [("cache", state.cache.breaker_open()), ("rate_limiter", state.limiter.breaker_open())] {
        if let Some(open) = open {
            let _ = writeln!(out, "hiregraph_redis_breaker_open{{client=\"{client}\"}} {}", u8::from(open));
        }
    }
    let _ = writeln!(out, "# HELP hiregraph_build_info The running build.");
    let _ = writeln!(out, "# TYPE hiregraph_build_info gauge");
    let _ = writeln!(out, "hiregraph_build_info{{version=\"{}\"}} 1", env!("CARGO_PKG_VERSION"));
    let _ = writeln!(out, "# HELP hiregraph_draining Whether this process got SIGTERM and is draining.");
    let _ = writeln!(out, "# TYPE hiregraph_draining gauge");
    let _ = writeln!(out, "hiregraph_draining {}", u8::from(state.draining.load(std::sync::atomic::Ordering::Relaxed)));
}

/// The standard process metrics (Prometheus client conventions), from `/proc` on Linux.
fn render_process(out: &mut String) {
    let Ok(stat) = std::fs::read_to_string("/proc/self/stat") else { return };
    // Fields after the command name, which is in parentheses and may hold spaces.
    let Some((_, rest)) = stat.rsplit_once(')') else { return };
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let field = |n: usize| fields.get(n - 3).and_then(|v| v.parse::<f64>().ok()).unwrap_or(0.0);
    // Linux reports CPU in clock ticks (100 a second on every platform Rust targets) and RSS in pages.
    let (ticks, page) = (100.0, 4096.0);
    let cpu = (field(14) + field(15)) / ticks;
    let rss = field(24) * page;
    let boot = std::fs::read_to_string("/proc/stat")
        .ok()
        .and_then(|s| s.lines().find_map(|l| l.strip_prefix("btime ").and_then(|v| v.trim().parse::<f64>().ok())));
    let fds = std::fs::read_dir("/proc/self/fd").map(|d| d.count()).unwrap_or(0);
    let max_fds = std::fs::read_to_string("/proc/self/limits").ok().and_then(|s| {
        s.lines()
            .find(|l| l.starts_with("Max open files"))
            .and_then(|l| l.split_whitespace().nth(3).and_then(|v| v.parse::<f64>().ok()))
    });
    let mut gauge = |name: &str, kind: &str, help: &str, value: f64| {
        let _ = writeln!(out, "# HELP {name} {help}");
        let _ = writeln!(out, "# TYPE {name} {kind}");
        let _ = writeln!(out, "{name} {value}");
    };
    gauge("process_cpu_seconds_total", "counter", "User and system CPU time spent, in seconds.", cpu);
    gauge("process_resident_memory_bytes", "gauge", "Resident memory size in bytes.", rss);
    gauge("process_open_fds", "gauge", "Open file descriptors.", fds as f64);
    if let Some(max) = max_fds {
        gauge("process_max_fds", "gauge", "The most file descriptors this process may open.", max);
    }
    if let Some(boot) = boot {
        gauge(
            "process_start_time_seconds",
            "gauge",
            "Start time since the Unix epoch, in seconds.",
            boot + field(22) / ticks,
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn operations_are_bucketed_and_capped() {
        let m = RequestMetrics::default();
        m.record(Some("Feed"), Duration::from_millis(3), false);
        m.record(Some("Feed"), Duration::from_millis(300), true);
        for i in 0..300 {
            m.record(Some(&format!("op{i}")), Duration::from_millis(1), false);
        }
        let ops = m.operations.lock().unwrap();
        assert_eq!(ops["Feed"].count, 2);
        assert_eq!(ops["Feed"].errors, 1);
        assert_eq!(ops["Feed"].buckets[3], 1, "3 ms falls in the 5 ms bucket");
        assert!(ops.len() <= MAX_OPERATIONS + 1);
        assert!(ops["other"].count > 0);
    }
}
