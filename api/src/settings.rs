//! Typed settings, loaded once from environment variables with defaults for the embedded mode.
//! An invalid value stops start-up with a message naming the variable.

use std::collections::HashMap;
use std::fmt;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

/// A value that must not reach logs.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: impl Into<String>) -> Self {
        Self(value.into())
    }
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[redacted]")
    }
}

/// A connection URL whose password is redacted when printed.
#[derive(Clone, PartialEq, Eq)]
pub struct DbUrl(String);

impl DbUrl {
    pub fn expose(&self) -> &str {
        &self.0
    }
    pub fn is_sqlite(&self) -> bool {
        self.0.starts_with("sqlite:")
    }
}

impl fmt::Debug for DbUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&redact_url(&self.0))
    }
}

/// `postgres://user:pw@host/db` → `postgres://user:[redacted]@host/db`.
pub fn redact_url(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else { return url.to_owned() };
    match rest.split_once('@') {
        Some((userinfo, host)) => match userinfo.split_once(':') {
            Some((user, _)) => format!("{scheme}://{user}:[redacted]@{host}"),
            None => url.to_owned(),
        },
        None => url.to_owned(),
    }
}

/// When to load the demo dataset into an empty database.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DemoData {
    /// Into an empty SQLite database (the embedded default); never into Postgres.
    Auto,
    /// Into any empty database.
    On,
    Off,
}

/// Bounds on what one request may ask for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Limits {
    pub max_depth: usize,
    pub max_complexity: usize,
    pub max_aliases: usize,
    /// Fields selected once fragments are expanded.
    pub max_selections: usize,
    /// Lexical tokens of the raw document, counted before it is parsed.
    pub max_tokens: usize,
    /// Fragment spreads written in one document.
    pub max_fragment_spreads: usize,
    /// Directives once fragments are expanded.
    pub max_directives: usize,
    pub max_body_bytes: usize,
    pub max_batch: usize,
}

/// What the one rate limiter allows (DESIGN §8). A count of 0 turns that limit off.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RateLimits {
    /// Sign-in attempts for one account from one address before it backs off.
    pub login_failures_account_from: u32,
    /// Sign-in attempts for one account from anywhere.
    pub login_failures_account: u32,
    /// Failed sign-ins from one address, for any account.
    pub login_failures_from: u32,
    /// The first wait once a threshold is reached; it doubles with every further failure.
    pub login_backoff: Duration,
    pub login_backoff_max: Duration,
    /// Failed refresh-token exchanges from one address.
    pub refresh_failures_from: u32,
    /// Failed client authentications at `/oauth/token` from one address.
    pub client_auth_failures_from: u32,
    pub registrations_per_hour: u32,
    /// Requests without credentials from one address, per minute (a minute's worth may come at once).
    pub anonymous_per_minute: u32,
    /// Take the client address from the last `X-Forwarded-For` entry (behind one trusted proxy).
    pub trust_forwarded_for: bool,
    /// Query-cost budgets in points per minute (at most a minute's worth at once, restoring
    /// evenly): per address without credentials, per user, per partner app (which a platform
    /// admin may set per app).
    pub cost_anonymous_per_minute: u32,
    pub cost_user_per_minute: u32,
    pub cost_partner_per_minute: u32,
}

#[derive(Debug, Clone)]
pub struct Settings {
    pub bind: SocketAddr,
    pub database_url: DbUrl,
    pub redis_url: Option<DbUrl>,
    /// PEM roots that verify a `rediss://` server instead of the system's.
    pub redis_ca: Option<Vec<u8>>,
    pub db_max_connections: u32,
    /// How long a request waits for a pooled connection before it is answered 503.
    pub db_acquire_timeout: Duration,
    /// Postgres cancels a statement running longer than this.
    pub statement_timeout: Duration,
    /// Postgres: reuse one plan per prepared statement (`plan_cache_mode = force_generic_plan`).
    pub generic_plans: bool,
    /// The longest one HTTP request may take, from start to answer.
    pub request_timeout: Duration,
    pub data_dir: PathBuf,
    /// The HS256 signing key; `None` means "generate one under `data_dir`" (SQLite only).
    pub jwt_secret: Option<Secret>,
    /// Keys that signed before the current one: tokens they signed still verify (rotation).
    pub jwt_previous_secrets: Vec<Secret>,
    pub access_token_ttl: Duration,
    pub refresh_token_ttl: Duration,
    pub migrate_on_start: bool,
    pub demo_data: DemoData,
    pub cache_prefix: String,
    /// `false` turns caching off entirely (benchmarks' baseline).
    pub cache_enabled: bool,
    pub workers: usize,
    pub log_filter: String,
    pub log_format: LogFormat,
    /// OpenTelemetry export; `None` (no endpoint set) turns traces off.
    pub otlp: Option<Otlp>,
    /// After SIGTERM: how long `/readyz` answers 503 while requests are still served, before the
    /// server stops taking new ones and finishes those in flight.
    pub shutdown_grace: Duration,
    pub limits: Limits,
    pub rate_limits: RateLimits,
    /// Events are kept at least this long in the outbox, then pruned.
    pub event_retention: Duration,
    /// `false`: this process runs no background work (event relay, webhook delivery, pruning).
    pub run_worker: bool,
    /// `false`: search matches words only; no semantic index is built or kept.
    pub semantic_search: bool,
    /// How often an idle worker looks for new events and due deliveries.
    pub worker_poll: Duration,
    /// Webhooks may target loopback and private addresses, over plain http (tests, local work).
    pub webhook_allow_private: bool,
    /// The wait before each retry of a failed delivery; then it is `FAILED`.
    pub webhook_retry_schedule: Vec<Duration>,
    /// The longest one delivery attempt may take, connection to response.
    pub webhook_timeout: Duration,
    pub websocket: WebSocketSettings,
    /// The `<env>` part of issued API keys and client secrets (`hg_<env>_…`), so a secret scanner
    /// and a reader tell a production key from a development one.
    pub key_environment: String,
    /// Origins whose browser apps may call `/graphql` (CORS).
    pub cors: CorsOrigins,
    /// Trusted-documents mode: only these documents run.
    pub trusted_documents: Option<std::sync::Arc<crate::persisted::TrustedDocuments>>,
    /// `max-age` of anonymous GET answers (`Cache-Control: public`); 0 makes caches revalidate.
    pub get_max_age: Duration,
}

/// Where traces go (`OTEL_EXPORTER_OTLP_ENDPOINT`, `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Otlp {
    /// The full URL spans are POSTed to (`…/v1/traces`).
    pub traces_url: String,
    pub service_name: String,
}

/// `HIREGRAPH_LOG_FORMAT`: how log lines are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogFormat {
    /// One JSON object a line (the default when stderr is not a terminal).
    Json,
    /// Human-readable lines, coloured only on a terminal.
    Text,
}

/// `HIREGRAPH_CORS_ORIGINS`: which other origins' browser apps may call `/graphql`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CorsOrigins {
    /// None (the default): only pages served by this server, and non-browser clients.
    Off,
    /// `*`: any origin. Safe for an API whose credentials are bearer tokens, never cookies.
    Any,
    /// These exact origins (`https://app.example.com`).
    Listed(Vec<String>),
}

/// An origin as browsers send it: `http` or `https`, a host, an optional port, nothing else.
fn cors_origins(raw: Option<String>) -> Result<CorsOrigins, SettingsError> {
    const NAME: &str = "HIREGRAPH_CORS_ORIGINS";
    let Some(raw) = raw else { return Ok(CorsOrigins::Off) };
    if raw == "*" {
        return Ok(CorsOrigins::Any);
    }
    let mut origins = Vec::new();
    for part in raw.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        let rest = part.strip_prefix("https://").or_else(|| part.strip_prefix("http://"));
        let valid = rest.is_some_and(|host| {
            !host.is_empty()
                && host.bytes().all(|b| b.is_ascii_alphanumeric() || b".-:[]".contains(&b))
                && !host.starts_with(':')
        });
        if !valid {
            return Err(err(
                NAME,
                format!("`{part}` is not an origin: write scheme://host[:port] (`https://app.example.com`), no path"),
            ));
        }
        origins.push(part.to_ascii_lowercase());
    }
    Ok(if origins.is_empty() { CorsOrigins::Off } else { CorsOrigins::Listed(origins) })
}

/// Bounds of GraphQL over WebSocket (`crate::ws`).
#[derive(Debug, Clone)]
pub struct WebSocketSettings {
    /// `connection_init` must come within this long.
    pub init_timeout: Duration,
    /// How often the server pings an idle connection.
    pub keepalive: Duration,
    pub max_subscriptions: usize,
    /// Signed-in connections one account may hold open on one replica.
    pub max_connections: usize,
    /// The largest message a client may send.
    pub max_message_bytes: usize,
    /// Outgoing messages one connection may have queued before it is closed as too slow.
    pub buffer: usize,
}

/// A setting that could not be used; the message names the variable.
#[derive(Debug, thiserror::Error)]
#[error("invalid setting {name}: {message}")]
pub struct SettingsError {
    pub name: &'static str,
    pub message: String,
}

fn err(name: &'static str, message: impl Into<String>) -> SettingsError {
    SettingsError { name, message: message.into() }
}

/// Every variable `Settings` reads, with its default and meaning (the README's table).
pub const VARIABLES: &[(&str, &str, &str)] = &[
    ("DATABASE_URL", "sqlite://<HIREGRAPH_DATA_DIR>/hiregraph.db", "SQLite file or postgres:// URL"),
    ("REDIS_URL", "(none: in-process cache)", "redis:// URL of the shared cache"),
    (
        "HIREGRAPH_BIND",
        "127.0.0.1:8080",
        "address the server listens on (a host name such as localhost:8080 is resolved)",
    ),
    ("HIREGRAPH_REDIS_CA_FILE", "(none: the system's roots)", "PEM certificate(s) that verify a rediss:// server"),
    ("HIREGRAPH_DATA_DIR", "./data", "folder for the SQLite file and the generated JWT key"),
    (
        "HIREGRAPH_JWT_SECRET",
        "(SQLite: generated once into the data folder; Postgres: required)",
        "HS256 signing key, at least 32 bytes; every replica needs the same one",
    ),
    ("HIREGRAPH_JWT_SECRET_FILE", "(none)", "file holding the signing key, instead of the variable"),
    (
        "HIREGRAPH_JWT_PREVIOUS_SECRETS",
        "(none)",
        "earlier signing keys, comma-separated: tokens they signed still verify while a rotation rolls out",
    ),
    ("HIREGRAPH_JWT_PREVIOUS_SECRETS_FILE", "(none)", "file holding the earlier keys, one a line"),
    ("HIREGRAPH_ACCESS_TOKEN_TTL_SECS", "900", "lifetime of an access token"),
    ("HIREGRAPH_REFRESH_TOKEN_TTL_SECS", "2592000", "lifetime of a refresh token (30 days)"),
    ("HIREGRAPH_MIGRATE", "true", "apply migrations at start-up"),
    ("HIREGRAPH_DEMO_DATA", "auto", "auto (empty SQLite only), on (any empty database), off"),
    ("HIREGRAPH_DB_MAX_CONNECTIONS", "10", "database pool size"),
    ("HIREGRAPH_DB_ACQUIRE_TIMEOUT_MS", "2000", "wait for a pooled connection before answering 503"),
    ("HIREGRAPH_STATEMENT_TIMEOUT_MS", "5000", "Postgres statement_timeout"),
    ("HIREGRAPH_DB_GENERIC_PLANS", "true", "Postgres plans each prepared statement once (plan_cache_mode)"),
    ("HIREGRAPH_REQUEST_TIMEOUT_MS", "15000", "longest time one request may take"),
    ("HIREGRAPH_CACHE_PREFIX", "hg", "prefix of every cache key"),
    ("HIREGRAPH_CACHE", "on", "off disables caching (to measure the database path alone)"),
    ("HIREGRAPH_WORKERS", "(number of cores)", "HTTP worker threads"),
    ("HIREGRAPH_LOG", "info", "log filter, e.g. info,hiregraph_api=debug"),
    (
        "HIREGRAPH_LOG_FORMAT",
        "json when stderr is not a terminal, else text",
        "json (one object a line) or text; never colours into a file",
    ),
    (
        "OTEL_EXPORTER_OTLP_ENDPOINT",
        "(none: no traces)",
        "OTLP/HTTP collector base URL (http://collector:4318); traces go to its /v1/traces as JSON",
    ),
    ("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "(none)", "the full traces URL, instead of the base one"),
    ("OTEL_SERVICE_NAME", "hiregraph", "service.name of the exported spans"),
    (
        "HIREGRAPH_SHUTDOWN_GRACE_SECS",
        "10",
        "after SIGTERM, /readyz answers 503 while requests are still served this long; then in-flight ones finish",
    ),
    ("HIREGRAPH_MAX_DEPTH", "12", "deepest selection nesting (introspection excepted)"),
    ("HIREGRAPH_MAX_COMPLEXITY", "5000", "query cost; list fields cost first × their selection"),
    ("HIREGRAPH_MAX_ALIASES", "30", "aliases in one operation"),
    ("HIREGRAPH_MAX_SELECTIONS", "1000", "fields selected once fragments are expanded"),
    ("HIREGRAPH_MAX_TOKENS", "2000", "lexical tokens of a document, counted before parsing"),
    ("HIREGRAPH_MAX_FRAGMENT_SPREADS", "100", "fragment spreads written in a document"),
    ("HIREGRAPH_MAX_DIRECTIVES", "50", "directives once fragments are expanded"),
    ("HIREGRAPH_MAX_BODY_BYTES", "1048576", "largest request body"),
    ("HIREGRAPH_MAX_BATCH", "10", "operations in one batched request"),
    ("HIREGRAPH_LOGIN_MAX_FAILURES", "5", "sign-in attempts per account and address before backing off"),
    ("HIREGRAPH_LOGIN_ACCOUNT_MAX_FAILURES", "20", "sign-in attempts per account from anywhere"),
    ("HIREGRAPH_LOGIN_ADDRESS_MAX_FAILURES", "50", "failed sign-ins per address, any account"),
    ("HIREGRAPH_LOGIN_BACKOFF_SECS", "30", "first wait after too many failures; doubles after each further one"),
    ("HIREGRAPH_LOGIN_BACKOFF_MAX_SECS", "3600", "longest wait"),
    ("HIREGRAPH_REFRESH_MAX_FAILURES", "20", "failed refresh-token exchanges per address"),
    ("HIREGRAPH_CLIENT_AUTH_MAX_FAILURES", "20", "failed client authentications at /oauth/token per address"),
    ("HIREGRAPH_REGISTRATIONS_PER_HOUR", "20", "accounts registered per address"),
    ("HIREGRAPH_ANONYMOUS_PER_MINUTE", "600", "requests without credentials per address"),
    ("HIREGRAPH_COST_ANONYMOUS_PER_MINUTE", "10000", "query-cost points per minute per address without credentials"),
    ("HIREGRAPH_COST_USER_PER_MINUTE", "50000", "query-cost points per minute per signed-in user"),
    (
        "HIREGRAPH_COST_PARTNER_PER_MINUTE",
        "100000",
        "query-cost points per minute per partner app, unless set for the app",
    ),
    ("HIREGRAPH_TRUST_FORWARDED_FOR", "false", "client address from the last X-Forwarded-For entry"),
    ("HIREGRAPH_EVENT_RETENTION_DAYS", "30", "days the `events` feed keeps an event before pruning it"),
    ("HIREGRAPH_WORKER", "true", "run background work (event relay, webhook delivery, pruning) in this process"),
    ("HIREGRAPH_WORKER_POLL_MS", "500", "how often an idle worker looks for new events and due deliveries"),
    ("HIREGRAPH_WEBHOOK_ALLOW_PRIVATE", "false", "let webhooks target loopback and private addresses, over http"),
    (
        "HIREGRAPH_WEBHOOK_RETRY_SECS",
        "5,300,1800,7200,18000,36000,36000",
        "waits before each retry of a failed delivery (±20 % jitter); then it is FAILED",
    ),
    ("HIREGRAPH_WEBHOOK_TIMEOUT_MS", "10000", "longest one delivery attempt may take"),
    ("HIREGRAPH_WS_INIT_TIMEOUT_MS", "10000", "WebSocket: connection_init must come within this long (else 4408)"),
    ("HIREGRAPH_WS_KEEPALIVE_SECS", "30", "WebSocket: how often the server pings a connection"),
    ("HIREGRAPH_WS_MAX_SUBSCRIPTIONS", "20", "WebSocket: subscriptions one connection may hold"),
    (
        "HIREGRAPH_WS_MAX_CONNECTIONS",
        "10",
        "WebSocket: connections one account may hold open on one replica (else 4430)",
    ),
    ("HIREGRAPH_WS_MAX_MESSAGE_BYTES", "65536", "WebSocket: largest message a client may send (else 1009)"),
    (
        "HIREGRAPH_KEY_ENV",
        "dev",
        "the <env> of issued partner credentials (hg_<env>_…): 1 to 8 of a-z, 0-9; live in production",
    ),
    ("HIREGRAPH_WS_BUFFER", "256", "WebSocket: queued messages before a client that does not read is closed (4420)"),
    (
        "HIREGRAPH_TRUSTED_DOCUMENTS",
        "(none)",
        "a persisted-documents manifest (Apollo's or hash-to-document JSON): only its documents run",
    ),
    (
        "HIREGRAPH_GET_MAX_AGE_SECS",
        "60",
        "Cache-Control max-age of successful anonymous GET /graphql answers (0: revalidate by ETag)",
    ),
    (
        "HIREGRAPH_CORS_ORIGINS",
        "(none)",
        "origins whose browser apps may call /graphql, comma-separated (https://app.example.com), or *",
    ),
];

/// `HIREGRAPH_WEBHOOK_RETRY_SECS`: comma-separated waits in seconds, 1 to 20 of them.
fn retry_schedule(raw: Option<String>) -> Result<Vec<Duration>, SettingsError> {
    const NAME: &str = "HIREGRAPH_WEBHOOK_RETRY_SECS";
    let Some(raw) = raw else {
        return Ok(hiregraph_domain::webhooks::RETRY_AFTER.to_vec());
    };
    let mut schedule = Vec::new();
    for part in raw.split(',') {
        let secs: u64 = part
            .trim()
            .parse()
            .map_err(|_| err(NAME, format!("`{}` is not a whole number of seconds", part.trim())))?;
        if !(1..=7 * 24 * 3600).contains(&secs) {
            return Err(err(NAME, format!("each wait must be 1 to 604800 seconds, was {secs}")));
        }
        schedule.push(Duration::from_secs(secs));
    }
    if schedule.len() > 20 {
        return Err(err(NAME, format!("at most 20 retries, had {}", schedule.len())));
    }
    Ok(schedule)
}

impl Settings {
    /// From the process environment.
    pub fn from_env() -> Result<Self, SettingsError> {
        Self::from_map(&std::env::vars().collect())
    }

    /// From any map of variables (tests use this instead of mutating the process environment).
    pub fn from_map(vars: &HashMap<String, String>) -> Result<Self, SettingsError> {
        let get = |name: &str| vars.get(name).map(|v| v.trim().to_owned()).filter(|v| !v.is_empty());
        fn number<T>(name: &'static str, raw: Option<String>, default: T, min: T) -> Result<T, SettingsError>
        where
            T: std::str::FromStr + PartialOrd + fmt::Display + Copy,
        {
            match raw {
                None => Ok(default),
                Some(raw) => match raw.parse::<T>() {
                    Ok(v) if v >= min => Ok(v),
                    Ok(v) => Err(err(name, format!("must be at least {min}, was {v}"))),
                    Err(_) => Err(err(name, format!("`{raw}` is not a whole number"))),
                },
            }
        }
        let max_complexity: usize = number("HIREGRAPH_MAX_COMPLEXITY", get("HIREGRAPH_MAX_COMPLEXITY"), 5000, 10)?;
        let cost_budget = |name: &'static str, default: u32| -> Result<u32, SettingsError> {
            let value: u32 = number(name, get(name), default, 0)?;
            if value != 0 && (value as usize) < max_complexity {
                return Err(err(
                    name,
                    format!(
                        "must be 0 (off) or at least HIREGRAPH_MAX_COMPLEXITY ({max_complexity}), or the costliest allowed query could never run; was {value}"
                    ),
                ));
            }
            Ok(value)
        };
        let boolean = |name: &'static str, default: bool| match get(name).as_deref() {
            None => Ok(default),
            Some("1" | "true" | "yes" | "on") => Ok(true),
            Some("0" | "false" | "no" | "off") => Ok(false),
            Some(other) => Err(err(name, format!("`{other}` is not true or false"))),
        };

        let bind = match get("HIREGRAPH_BIND") {
            None => SocketAddr::from(([127, 0, 0, 1], 8080)),
            Some(raw) => bind_address(&raw)?,
        };
        let data_dir = PathBuf::from(get("HIREGRAPH_DATA_DIR").unwrap_or_else(|| "./data".to_owned()));
        let database_url = match get("DATABASE_URL") {
            None => format!("sqlite://{}/hiregraph.db?mode=rwc", data_dir.display()),
            Some(url) => check_database_url(&url)?,
        };
        let redis_url = match get("REDIS_URL") {
            None => None,
            Some(url) if url.starts_with("redis://") || url.starts_with("rediss://") => {
                redis_url_valid(&url)?;
                Some(DbUrl(url))
            }
            Some(url) => return Err(err("REDIS_URL", format!("`{}` is not a redis:// URL", redact_url(&url)))),
        };
        let database_url = DbUrl(database_url);
        let redis_ca = match get("HIREGRAPH_REDIS_CA_FILE") {
            None => None,
            Some(_) if !redis_url.as_ref().is_some_and(|u| u.expose().starts_with("rediss://")) => {
                return Err(err("HIREGRAPH_REDIS_CA_FILE", "applies to a rediss:// REDIS_URL only"));
            }
            Some(path) => {
                let pem = std::fs::read(&path)
                    .map_err(|e| err("HIREGRAPH_REDIS_CA_FILE", format!("cannot read {path}: {e}")))?;
                if !pem.windows(27).any(|w| w == b"-----BEGIN CERTIFICATE-----") {
                    return Err(err("HIREGRAPH_REDIS_CA_FILE", format!("{path} holds no PEM certificate")));
                }
                Some(pem)
            }
        };
        let jwt_secret = match (get("HIREGRAPH_JWT_SECRET"), get("HIREGRAPH_JWT_SECRET_FILE")) {
            (Some(_), Some(_)) => {
                return Err(err("HIREGRAPH_JWT_SECRET", "set it or HIREGRAPH_JWT_SECRET_FILE, not both"));
            }
            (Some(secret), None) => Some(check_secret("HIREGRAPH_JWT_SECRET", secret)?),
            (None, Some(path)) => {
                let secret = std::fs::read_to_string(&path)
                    .map_err(|e| err("HIREGRAPH_JWT_SECRET_FILE", format!("cannot read {path}: {e}")))?;
                Some(check_secret("HIREGRAPH_JWT_SECRET_FILE", secret.trim().to_owned())?)
            }
            (None, None) if database_url.is_sqlite() => None,
            (None, None) => {
                return Err(err(
                    "HIREGRAPH_JWT_SECRET",
                    "is required with a Postgres DATABASE_URL, so that every replica signs and verifies with the same key: set it (at least 32 random bytes, e.g. `openssl rand -base64 48`) or HIREGRAPH_JWT_SECRET_FILE",
                ));
            }
        };
        let jwt_previous_secrets =
            match (get("HIREGRAPH_JWT_PREVIOUS_SECRETS"), get("HIREGRAPH_JWT_PREVIOUS_SECRETS_FILE")) {
                (Some(_), Some(_)) => {
                    return Err(err(
                        "HIREGRAPH_JWT_PREVIOUS_SECRETS",
                        "set it or HIREGRAPH_JWT_PREVIOUS_SECRETS_FILE, not both",
                    ));
                }
                (Some(list), None) => previous_secrets("HIREGRAPH_JWT_PREVIOUS_SECRETS", list.split(','))?,
                (None, Some(path)) => {
                    let text = std::fs::read_to_string(&path)
                        .map_err(|e| err("HIREGRAPH_JWT_PREVIOUS_SECRETS_FILE", format!("cannot read {path}: {e}")))?;
                    previous_secrets("HIREGRAPH_JWT_PREVIOUS_SECRETS_FILE", text.lines())?
                }
                (None, None) => Vec::new(),
            };
        let log_filter = get("HIREGRAPH_LOG").unwrap_or_else(|| "info".to_owned());
        if let Err(e) = tracing_subscriber::EnvFilter::try_new(&log_filter) {
            return Err(err(
                "HIREGRAPH_LOG",
                format!("`{log_filter}` is not a log filter ({e}); e.g. info or warn,hiregraph_api=debug"),
            ));
        }
        let log_format = match get("HIREGRAPH_LOG_FORMAT").as_deref() {
            None => {
                use std::io::IsTerminal;
                if std::io::stderr().is_terminal() { LogFormat::Text } else { LogFormat::Json }
            }
            Some("json") => LogFormat::Json,
            Some("text") => LogFormat::Text,
            Some(other) => return Err(err("HIREGRAPH_LOG_FORMAT", format!("`{other}` is not json or text"))),
        };
        let demo_data = match get("HIREGRAPH_DEMO_DATA").as_deref() {
            None | Some("auto") => DemoData::Auto,
            Some("on" | "true" | "1") => DemoData::On,
            Some("off" | "false" | "0") => DemoData::Off,
            Some(other) => return Err(err("HIREGRAPH_DEMO_DATA", format!("`{other}` is not auto, on or off"))),
        };
        let cache_prefix = get("HIREGRAPH_CACHE_PREFIX").unwrap_or_else(|| "hg".to_owned());
        if !cache_prefix.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_') {
            return Err(err("HIREGRAPH_CACHE_PREFIX", "may contain only letters, digits, - and _"));
        }
        let cores = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(2);
        Ok(Self {
            bind,
            database_url,
            redis_url,
            redis_ca,
            db_max_connections: number("HIREGRAPH_DB_MAX_CONNECTIONS", get("HIREGRAPH_DB_MAX_CONNECTIONS"), 10, 1)?,
            db_acquire_timeout: Duration::from_millis(number(
                "HIREGRAPH_DB_ACQUIRE_TIMEOUT_MS",
                get("HIREGRAPH_DB_ACQUIRE_TIMEOUT_MS"),
                2000,
                10,
            )?),
            statement_timeout: Duration::from_millis(number(
                "HIREGRAPH_STATEMENT_TIMEOUT_MS",
                get("HIREGRAPH_STATEMENT_TIMEOUT_MS"),
                5000,
                10,
            )?),
            generic_plans: boolean("HIREGRAPH_DB_GENERIC_PLANS", true)?,
            request_timeout: Duration::from_millis(number(
                "HIREGRAPH_REQUEST_TIMEOUT_MS",
                get("HIREGRAPH_REQUEST_TIMEOUT_MS"),
                15_000,
                10,
            )?),
            data_dir,
            jwt_secret,
            jwt_previous_secrets,
            access_token_ttl: Duration::from_secs(number(
                "HIREGRAPH_ACCESS_TOKEN_TTL_SECS",
                get("HIREGRAPH_ACCESS_TOKEN_TTL_SECS"),
                900,
                30,
            )?),
            refresh_token_ttl: Duration::from_secs(number(
                "HIREGRAPH_REFRESH_TOKEN_TTL_SECS",
                get("HIREGRAPH_REFRESH_TOKEN_TTL_SECS"),
                30 * 24 * 3600,
                60,
            )?),
            migrate_on_start: boolean("HIREGRAPH_MIGRATE", true)?,
            demo_data,
            cache_prefix,
            cache_enabled: boolean("HIREGRAPH_CACHE", true)?,
            workers: number("HIREGRAPH_WORKERS", get("HIREGRAPH_WORKERS"), cores, 1)?,
            log_filter,
            log_format,
            otlp: otlp(
                get("OTEL_EXPORTER_OTLP_ENDPOINT"),
                get("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"),
                get("OTEL_SERVICE_NAME"),
            )?,
            shutdown_grace: Duration::from_secs(number(
                "HIREGRAPH_SHUTDOWN_GRACE_SECS",
                get("HIREGRAPH_SHUTDOWN_GRACE_SECS"),
                10,
                0,
            )?),
            event_retention: Duration::from_secs(
                24 * 3600
                    * number::<u64>("HIREGRAPH_EVENT_RETENTION_DAYS", get("HIREGRAPH_EVENT_RETENTION_DAYS"), 30, 1)?
                        .min(36_500),
            ),
            run_worker: boolean("HIREGRAPH_WORKER", true)?,
            semantic_search: boolean("HIREGRAPH_SEMANTIC_SEARCH", true)?,
            worker_poll: Duration::from_millis(number(
                "HIREGRAPH_WORKER_POLL_MS",
                get("HIREGRAPH_WORKER_POLL_MS"),
                500,
                10,
            )?),
            webhook_allow_private: boolean("HIREGRAPH_WEBHOOK_ALLOW_PRIVATE", false)?,
            websocket: WebSocketSettings {
                init_timeout: Duration::from_millis(number(
                    "HIREGRAPH_WS_INIT_TIMEOUT_MS",
                    get("HIREGRAPH_WS_INIT_TIMEOUT_MS"),
                    10_000,
                    50,
                )?),
                keepalive: Duration::from_secs(number(
                    "HIREGRAPH_WS_KEEPALIVE_SECS",
                    get("HIREGRAPH_WS_KEEPALIVE_SECS"),
                    30,
                    1,
                )?),
                max_subscriptions: number(
                    "HIREGRAPH_WS_MAX_SUBSCRIPTIONS",
                    get("HIREGRAPH_WS_MAX_SUBSCRIPTIONS"),
                    20,
                    1,
                )?,
                max_connections: number("HIREGRAPH_WS_MAX_CONNECTIONS", get("HIREGRAPH_WS_MAX_CONNECTIONS"), 10, 1)?,
                max_message_bytes: number(
                    "HIREGRAPH_WS_MAX_MESSAGE_BYTES",
                    get("HIREGRAPH_WS_MAX_MESSAGE_BYTES"),
                    65_536,
                    1024,
                )?,
                buffer: number("HIREGRAPH_WS_BUFFER", get("HIREGRAPH_WS_BUFFER"), 256, 1)?,
            },
            webhook_retry_schedule: retry_schedule(get("HIREGRAPH_WEBHOOK_RETRY_SECS"))?,
            webhook_timeout: Duration::from_millis(number(
                "HIREGRAPH_WEBHOOK_TIMEOUT_MS",
                get("HIREGRAPH_WEBHOOK_TIMEOUT_MS"),
                10_000,
                100,
            )?),
            cors: cors_origins(get("HIREGRAPH_CORS_ORIGINS"))?,
            trusted_documents: match get("HIREGRAPH_TRUSTED_DOCUMENTS") {
                None => None,
                Some(path) => {
                    let text = std::fs::read_to_string(&path)
                        .map_err(|e| err("HIREGRAPH_TRUSTED_DOCUMENTS", format!("cannot read {path}: {e}")))?;
                    let documents = crate::persisted::TrustedDocuments::parse(&text)
                        .map_err(|e| err("HIREGRAPH_TRUSTED_DOCUMENTS", format!("{path} is not a manifest: {e}")))?;
                    Some(std::sync::Arc::new(documents))
                }
            },
            get_max_age: Duration::from_secs(number(
                "HIREGRAPH_GET_MAX_AGE_SECS",
                get("HIREGRAPH_GET_MAX_AGE_SECS"),
                60,
                0,
            )?),
            key_environment: match get("HIREGRAPH_KEY_ENV") {
                None => "dev".to_owned(),
                Some(env)
                    if (1..=8).contains(&env.len())
                        && env.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit()) =>
                {
                    env
                }
                Some(env) => return Err(err("HIREGRAPH_KEY_ENV", format!("`{env}` must be 1 to 8 of a-z and 0-9"))),
            },
            limits: Limits {
                max_depth: number("HIREGRAPH_MAX_DEPTH", get("HIREGRAPH_MAX_DEPTH"), 12, 2)?,
                max_complexity,
                max_aliases: number("HIREGRAPH_MAX_ALIASES", get("HIREGRAPH_MAX_ALIASES"), 30, 0)?,
                max_selections: number("HIREGRAPH_MAX_SELECTIONS", get("HIREGRAPH_MAX_SELECTIONS"), 1000, 10)?,
                max_tokens: number("HIREGRAPH_MAX_TOKENS", get("HIREGRAPH_MAX_TOKENS"), 2000, 10)?,
                max_fragment_spreads: number(
                    "HIREGRAPH_MAX_FRAGMENT_SPREADS",
                    get("HIREGRAPH_MAX_FRAGMENT_SPREADS"),
                    100,
                    0,
                )?,
                max_directives: number("HIREGRAPH_MAX_DIRECTIVES", get("HIREGRAPH_MAX_DIRECTIVES"), 50, 0)?,
                max_body_bytes: number("HIREGRAPH_MAX_BODY_BYTES", get("HIREGRAPH_MAX_BODY_BYTES"), 1 << 20, 1024)?,
                max_batch: number("HIREGRAPH_MAX_BATCH", get("HIREGRAPH_MAX_BATCH"), 10, 1)?,
            },
            rate_limits: RateLimits {
                login_failures_account_from: number(
                    "HIREGRAPH_LOGIN_MAX_FAILURES",
                    get("HIREGRAPH_LOGIN_MAX_FAILURES"),
                    5,
                    0,
                )?,
                login_failures_account: number(
                    "HIREGRAPH_LOGIN_ACCOUNT_MAX_FAILURES",
                    get("HIREGRAPH_LOGIN_ACCOUNT_MAX_FAILURES"),
                    20,
                    0,
                )?,
                login_failures_from: number(
                    "HIREGRAPH_LOGIN_ADDRESS_MAX_FAILURES",
                    get("HIREGRAPH_LOGIN_ADDRESS_MAX_FAILURES"),
                    50,
                    0,
                )?,
                login_backoff: Duration::from_secs(number(
                    "HIREGRAPH_LOGIN_BACKOFF_SECS",
                    get("HIREGRAPH_LOGIN_BACKOFF_SECS"),
                    30,
                    1,
                )?),
                login_backoff_max: Duration::from_secs(number(
                    "HIREGRAPH_LOGIN_BACKOFF_MAX_SECS",
                    get("HIREGRAPH_LOGIN_BACKOFF_MAX_SECS"),
                    3600,
                    1,
                )?),
                refresh_failures_from: number(
                    "HIREGRAPH_REFRESH_MAX_FAILURES",
                    get("HIREGRAPH_REFRESH_MAX_FAILURES"),
                    20,
                    0,
                )?,
                client_auth_failures_from: number(
                    "HIREGRAPH_CLIENT_AUTH_MAX_FAILURES",
                    get("HIREGRAPH_CLIENT_AUTH_MAX_FAILURES"),
                    20,
                    0,
                )?,
                registrations_per_hour: number(
                    "HIREGRAPH_REGISTRATIONS_PER_HOUR",
                    get("HIREGRAPH_REGISTRATIONS_PER_HOUR"),
                    20,
                    0,
                )?,
                anonymous_per_minute: number(
                    "HIREGRAPH_ANONYMOUS_PER_MINUTE",
                    get("HIREGRAPH_ANONYMOUS_PER_MINUTE"),
                    600,
                    0,
                )?,
                trust_forwarded_for: boolean("HIREGRAPH_TRUST_FORWARDED_FOR", false)?,
                cost_anonymous_per_minute: cost_budget("HIREGRAPH_COST_ANONYMOUS_PER_MINUTE", 10_000)?,
                cost_user_per_minute: cost_budget("HIREGRAPH_COST_USER_PER_MINUTE", 50_000)?,
                cost_partner_per_minute: cost_budget("HIREGRAPH_COST_PARTNER_PER_MINUTE", 100_000)?,
            },
        })
    }
}

fn check_secret(name: &'static str, secret: String) -> Result<Secret, SettingsError> {
    if secret.len() < 32 {
        return Err(err(name, format!("must be at least 32 bytes, was {}", secret.len())));
    }
    // The placeholder of examples, copied as it is, would sign every token with a public key.
    let lower = secret.to_ascii_lowercase();
    if ["change-me", "changeme", "replace-me", "placeholder"].iter().any(|p| lower.contains(p)) {
        return Err(err(name, "is a placeholder from an example: generate one, e.g. `openssl rand -base64 48`"));
    }
    Ok(Secret(secret))
}

/// The OTLP/HTTP traces URL: the traces endpoint as given, or the base endpoint + `/v1/traces`
/// (the OpenTelemetry specification's rule).
fn otlp(base: Option<String>, traces: Option<String>, service: Option<String>) -> Result<Option<Otlp>, SettingsError> {
    let (name, url) = match (traces, base) {
        (Some(url), _) => ("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", url),
        (None, Some(base)) => ("OTEL_EXPORTER_OTLP_ENDPOINT", format!("{}/v1/traces", base.trim_end_matches('/'))),
        (None, None) => return Ok(None),
    };
    if !(url.starts_with("http://") || url.starts_with("https://")) || url.len() < 10 {
        return Err(err(name, format!("`{url}` is not an http:// or https:// URL (OTLP over HTTP)")));
    }
    Ok(Some(Otlp { traces_url: url, service_name: service.unwrap_or_else(|| "hiregraph".to_owned()) }))
}

/// Earlier signing keys, empty entries skipped, each checked as the current one is.
fn previous_secrets<'a>(
    name: &'static str,
    entries: impl Iterator<Item = &'a str>,
) -> Result<Vec<Secret>, SettingsError> {
    let keys = entries
        .map(str::trim)
        .filter(|e| !e.is_empty())
        .map(|e| check_secret(name, e.to_owned()))
        .collect::<Result<Vec<_>, _>>()?;
    if keys.len() > 8 {
        return Err(err(name, format!("at most 8 earlier keys, had {}", keys.len())));
    }
    Ok(keys)
}

/// `HIREGRAPH_BIND`: an address, or a host name and port resolved once (IPv4 preferred).
fn bind_address(raw: &str) -> Result<SocketAddr, SettingsError> {
    use std::net::ToSocketAddrs;
    if let Ok(addr) = raw.parse() {
        return Ok(addr);
    }
    let invalid = |why: String| err("HIREGRAPH_BIND", format!("`{raw}` {why}; write host:port, e.g. 127.0.0.1:8080"));
    if raw.rsplit_once(':').is_none_or(|(host, port)| host.is_empty() || port.parse::<u16>().is_err()) {
        return Err(invalid("is not an address with a port".into()));
    }
    let addrs: Vec<SocketAddr> =
        raw.to_socket_addrs().map_err(|e| invalid(format!("does not resolve ({e})")))?.collect();
    addrs
        .iter()
        .find(|a| a.is_ipv4())
        .or(addrs.first())
        .copied()
        .ok_or_else(|| invalid("resolves to no address".into()))
}

fn redis_url_valid(url: &str) -> Result<(), SettingsError> {
    let rest = url.split_once("://").map(|(_, r)| r).unwrap_or_default();
    if rest.is_empty() || rest.starts_with('/') {
        return Err(err("REDIS_URL", "names no host"));
    }
    Ok(())
}

/// Accepts `sqlite:` and `postgres(ql)://` URLs. Postgres' `sslmode` is libpq's: `disable` (the
/// default here, written into the URL when it names none), `allow`, `prefer`, `require`
/// (encrypted, not verified), `verify-ca` (the chain, against `sslrootcert` or the bundled Mozilla
/// roots) and `verify-full` (the chain and the host name). A `sslrootcert` file that is not there
/// is named now rather than at the first connection.
fn check_database_url(url: &str) -> Result<String, SettingsError> {
    if url.starts_with("sqlite:") {
        return Ok(url.to_owned());
    }
    if !(url.starts_with("postgres://") || url.starts_with("postgresql://")) {
        return Err(err("DATABASE_URL", format!("`{}` is neither sqlite: nor postgres://", redact_url(url))));
    }
    let query = url.split_once('?').map(|(_, q)| q).unwrap_or_default();
    let param = |name: &str| query.split('&').find_map(|kv| kv.strip_prefix(name)?.strip_prefix('='));
    let mut url = url.to_owned();
    match param("sslmode") {
        // Said, not guessed: libpq's `prefer` would encrypt a loopback connection to a server
        // that happens to have TLS on (Debian's has), for a fifth more database CPU per
        // statement (bench/README.md), and verify nothing on any other.
        None => url.push_str(if url.contains('?') { "&sslmode=disable" } else { "?sslmode=disable" }),
        Some("disable" | "allow" | "prefer" | "require" | "verify-ca" | "verify-full") => {}
        Some(other) => {
            return Err(err(
                "DATABASE_URL",
                format!("sslmode={other} is not one of disable, allow, prefer, require, verify-ca, verify-full"),
            ));
        }
    }
    if let Some(path) = param("sslrootcert") {
        let path = form_urlencoded::parse(format!("p={path}").as_bytes()).next().map(|(_, v)| v.into_owned());
        let path = path.unwrap_or_default();
        if !std::path::Path::new(&path).is_file() {
            return Err(err("DATABASE_URL", format!("sslrootcert={path}: no such file")));
        }
    }
    Ok(url)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with(pairs: &[(&str, &str)]) -> Result<Settings, SettingsError> {
        Settings::from_map(&pairs.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect())
    }

    #[test]
    fn defaults_serve_the_embedded_mode() {
        let s = with(&[]).unwrap();
        assert_eq!(s.bind.to_string(), "127.0.0.1:8080");
        assert!(s.database_url.is_sqlite());
        assert!(s.redis_url.is_none());
        assert_eq!(s.limits.max_body_bytes, 1 << 20);
        assert_eq!(s.demo_data, DemoData::Auto);
    }

    #[test]
    fn invalid_values_name_their_variable() {
        for (name, value) in [
            ("HIREGRAPH_BIND", "localhost"),
            ("DATABASE_URL", "mysql://x"),
            ("REDIS_URL", "http://x"),
            ("HIREGRAPH_JWT_SECRET", "short"),
            ("HIREGRAPH_MAX_DEPTH", "deep"),
            ("HIREGRAPH_MIGRATE", "maybe"),
            ("HIREGRAPH_DEMO_DATA", "sometimes"),
            ("HIREGRAPH_LOG", "info,=x=y"),
            ("HIREGRAPH_LOG_FORMAT", "xml"),
            ("HIREGRAPH_SHUTDOWN_GRACE_SECS", "-1"),
            ("HIREGRAPH_JWT_PREVIOUS_SECRETS", "short"),
        ] {
            let e = with(&[(name, value)]).unwrap_err();
            assert_eq!(e.name, name);
            assert!(e.to_string().contains(name));
        }
    }

    const KEY: &str = "0123456789abcdef0123456789abcdef-key";

    #[test]
    fn postgres_takes_libpqs_ssl_modes_and_names_a_missing_ca_file() {
        let url = |u: &str| with(&[("DATABASE_URL", u), ("HIREGRAPH_JWT_SECRET", KEY)]);
        let s = url("postgres://u:pw@db/x?sslmode=verify-full").unwrap();
        assert_eq!(s.database_url.expose(), "postgres://u:pw@db/x?sslmode=verify-full");
        assert_eq!(format!("{:?}", s.database_url), "postgres://u:[redacted]@db/x?sslmode=verify-full");
        assert_eq!(url("postgres://db/x").unwrap().database_url.expose(), "postgres://db/x?sslmode=disable");
        let e = url("postgres://db/x?sslmode=always").unwrap_err();
        assert!(e.message.contains("sslmode=always is not one of"), "{e}");
        let e = url("postgres://db/x?sslmode=verify-ca&sslrootcert=/nonexistent/ca.pem").unwrap_err();
        assert_eq!(e.message, "sslrootcert=/nonexistent/ca.pem: no such file");
    }

    #[test]
    fn postgres_needs_a_shared_signing_key_and_placeholders_are_refused() {
        let e = with(&[("DATABASE_URL", "postgres://db/x")]).unwrap_err();
        assert_eq!(e.name, "HIREGRAPH_JWT_SECRET");
        assert!(e.message.contains("required with a Postgres DATABASE_URL"), "{e}");
        assert!(with(&[]).unwrap().jwt_secret.is_none(), "SQLite alone may generate its key");
        let e = with(&[("HIREGRAPH_JWT_SECRET", "change-me-change-me-change-me-change-me")]).unwrap_err();
        assert!(e.message.contains("placeholder"), "{e}");
        let previous = format!("{KEY}1, {KEY}2,");
        let s = with(&[("HIREGRAPH_JWT_SECRET", KEY), ("HIREGRAPH_JWT_PREVIOUS_SECRETS", &previous)]).unwrap();
        assert_eq!(s.jwt_previous_secrets.len(), 2);
        assert_eq!(s.jwt_previous_secrets[1].expose(), format!("{KEY}2"));
    }

    #[test]
    fn a_bind_address_may_name_a_host_and_a_log_filter_is_checked() {
        let s = with(&[("HIREGRAPH_BIND", "localhost:8081")]).unwrap();
        assert_eq!(s.bind.port(), 8081);
        assert!(s.bind.ip().is_loopback());
        assert_eq!(with(&[("HIREGRAPH_BIND", "0.0.0.0:80")]).unwrap().bind.to_string(), "0.0.0.0:80");
        assert!(with(&[("HIREGRAPH_BIND", "localhost:http")]).is_err());
        assert_eq!(with(&[("HIREGRAPH_LOG_FORMAT", "text")]).unwrap().log_format, LogFormat::Text);
        assert_eq!(with(&[("HIREGRAPH_SHUTDOWN_GRACE_SECS", "0")]).unwrap().shutdown_grace, Duration::ZERO);
    }

    #[test]
    fn secrets_never_print() {
        let s = with(&[("HIREGRAPH_JWT_SECRET", &"k".repeat(40))]).unwrap();
        assert!(!format!("{s:?}").contains("kkkk"));
    }
}
