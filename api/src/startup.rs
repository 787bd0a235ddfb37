//! `Application::build`: the one way a server comes to life, for `main` and for the tests alike.

use std::net::TcpListener;
use std::path::Path;
use std::sync::Arc;

use actix_web::dev::Server;
use actix_web::{App, HttpServer, web};
use hiregraph_migrations::{Migrator, MigratorTrait};
use hiregraph_persistence::bus::Bus;
use hiregraph_persistence::cache::Cache;
use hiregraph_persistence::limiter::Limiter;
use hiregraph_persistence::{Backend, Database, PoolSettings};

use crate::auth::{JwtKeys, refresh};
use crate::demo;
use crate::graphql;
use crate::http::{self, HttpContext};
use crate::settings::{CorsOrigins, DemoData, Settings};
use crate::state::AppState;

/// Why the server could not start; each names what to fix.
#[derive(Debug, thiserror::Error)]
pub enum StartupError {
    #[error("cannot create the data folder {path}: {source}")]
    DataDir { path: String, source: std::io::Error },
    #[error("cannot connect to the database at {addr}: {reason}")]
    Unreachable { addr: String, reason: String },
    #[error("cannot connect to the database {url}: {source}")]
    Database { url: String, source: hiregraph_persistence::DbErr },
    #[error("migrations failed: {0}")]
    Migrate(hiregraph_persistence::DbErr),
    #[error("invalid setting REDIS_URL: {0}")]
    Redis(String),
    #[error("cannot read or write the JWT key file {path}: {source}")]
    KeyFile { path: String, source: std::io::Error },
    #[error("loading the demo data failed: {0}")]
    Demo(String),
    #[error("cannot listen on {addr}: {source}")]
    Bind { addr: String, source: std::io::Error },
}

pub struct Application {
    port: u16,
    server: Server,
    state: Arc<AppState>,
    worker: Option<crate::worker::Worker>,
    _tail: AbortOnDrop,
    _semantic: Option<AbortOnDrop>,
}

/// A background task that ends with its owner (a killed server's tail must not outlive it).
struct AbortOnDrop(tokio::task::JoinHandle<()>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// Whether a request asks to upgrade to a WebSocket.
/// CORS on `/graphql` for the configured origins. Pages of this server (GraphiQL) stay allowed:
/// browsers send `Origin` with their own POSTs too. Preflights are answered for a day; the
/// request id and `Retry-After` are readable by the page.
fn cors(origins: &CorsOrigins) -> actix_cors::Cors {
    use actix_web::http::header;
    let cors = actix_cors::Cors::default()
        .allowed_methods(["GET", "POST"])
        .allowed_headers([header::AUTHORIZATION, header::CONTENT_TYPE, header::ACCEPT])
        .allowed_header("idempotency-key")
        .allowed_header("x-request-id")
        .allowed_header("traceparent")
        .expose_headers(["x-request-id", "retry-after"])
        .max_age(86_400);
    let listed = match origins {
        CorsOrigins::Any => return cors.allow_any_origin(),
        CorsOrigins::Listed(list) => list.clone(),
        CorsOrigins::Off => Vec::new(),
    };
    cors.allowed_origin_fn(move |origin, head| {
        let Ok(origin) = origin.to_str() else { return false };
        let origin = origin.to_ascii_lowercase();
        let own = head.headers().get(header::HOST).and_then(|h| h.to_str().ok()).is_some_and(|host| {
            let host = host.to_ascii_lowercase();
            origin.strip_prefix("http://").or_else(|| origin.strip_prefix("https://")) == Some(host.as_str())
        });
        own || listed.contains(&origin)
    })
}

fn is_upgrade(ctx: &actix_web::guard::GuardContext<'_>) -> bool {
    ctx.head()
        .headers()
        .get(actix_web::http::header::UPGRADE)
        .is_some_and(|v| v.as_bytes().eq_ignore_ascii_case(b"websocket"))
}

/// After the grace period, how long requests in flight may take to finish.
const SHUTDOWN_TIMEOUT_SECS: u64 = 30;

/// Connections of the background worker's own pool.
const WORKER_POOL: u32 = 3;

/// Connects to the configured database, creating the SQLite folder first.
pub async fn connect(settings: &Settings) -> Result<Database, StartupError> {
    connect_pool(settings, settings.db_max_connections).await
}

/// Connects a pool of `max_connections`.
pub async fn connect_pool(settings: &Settings, max_connections: u32) -> Result<Database, StartupError> {
    if settings.database_url.is_sqlite()
        && settings.database_url.expose().contains(&*settings.data_dir.to_string_lossy())
    {
        std::fs::create_dir_all(&settings.data_dir)
            .map_err(|source| StartupError::DataDir { path: settings.data_dir.display().to_string(), source })?;
    }
    if !settings.database_url.is_sqlite() {
        probe_database(settings.database_url.expose(), settings.db_acquire_timeout).await?;
    }
    let pool = PoolSettings {
        max_connections,
        acquire_timeout: settings.db_acquire_timeout,
        statement_timeout: Some(settings.statement_timeout),
        generic_plans: settings.generic_plans,
    };
    Database::connect_with(settings.database_url.expose(), &pool)
        .await
        .map_err(|source| StartupError::Database { url: format!("{:?}", settings.database_url), source })
}

/// The host and port of a `postgres://` URL (`None` for a Unix socket or a URL without a host).
fn database_address(url: &str) -> Option<(String, u16)> {
    let rest = url.split_once("://")?.1;
    let authority = rest.split(['/', '?']).next()?;
    let host_port = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
    if host_port.is_empty() || host_port.contains(',') {
        return None;
    }
    let (host, port) = if let Some(bracketed) = host_port.strip_prefix('[') {
        let (host, after) = bracketed.split_once(']')?;
        (host, after.strip_prefix(':').map_or(Some(5432), |p| p.parse().ok())?)
    } else {
        match host_port.rsplit_once(':') {
            Some((host, port)) => (host, port.parse().ok()?),
            None => (host_port, 5432),
        }
    };
    (!host.is_empty() && !host.starts_with('%')).then(|| (host.to_owned(), port))
}

/// Opens one TCP connection to the database's address first, so that an unreachable database is
/// named plainly and at once ("connection refused"), not after the pool's acquire timeout as a
/// "pool timed out".
async fn probe_database(url: &str, wait: std::time::Duration) -> Result<(), StartupError> {
    let Some((host, port)) = database_address(url) else { return Ok(()) };
    let addr = format!("{host}:{port}");
    let unreachable = |reason: String| StartupError::Unreachable { addr: addr.clone(), reason };
    match tokio::time::timeout(wait, tokio::net::TcpStream::connect((host.as_str(), port))).await {
        Ok(Ok(_)) => Ok(()),
        Ok(Err(e)) => Err(unreachable(match e.kind() {
            std::io::ErrorKind::ConnectionRefused => {
                "connection refused (is Postgres running, on that port?)".to_owned()
            }
            _ if e.to_string().contains("lookup") || e.to_string().contains("resolve") => {
                format!("the host name does not resolve ({e})")
            }
            _ => e.to_string(),
        })),
        Err(_) => Err(unreachable(format!("no answer within {} ms", wait.as_millis()))),
    }
}

/// A client for the configured Redis, with `HIREGRAPH_REDIS_CA_FILE`'s roots for `rediss://`.
fn redis_client(settings: &Settings, url: &crate::settings::DbUrl) -> Result<redis::Client, StartupError> {
    hiregraph_persistence::redis_client(url.expose(), settings.redis_ca.as_deref())
        .map_err(|e| StartupError::Redis(e.to_string()))
}

/// The configured cache: Redis, in-process, or none.
pub fn cache_for(settings: &Settings) -> Result<Cache, StartupError> {
    Ok(match &settings.redis_url {
        _ if !settings.cache_enabled => Cache::off(),
        Some(url) => Cache::redis_with(redis_client(settings, url)?, &settings.cache_prefix)
            .map_err(|e| StartupError::Redis(e.to_string()))?,
        None => Cache::in_memory(&settings.cache_prefix, 50_000),
    })
}

/// The live bus: Redis pub/sub when Redis is configured (with or without the cache), else in
/// process.
pub fn bus_for(settings: &Settings) -> Result<Bus, StartupError> {
    Ok(match &settings.redis_url {
        Some(url) => Bus::redis_with(redis_client(settings, url)?, &settings.cache_prefix)
            .map_err(|e| StartupError::Redis(e.to_string()))?,
        None => Bus::local(),
    })
}

/// `hiregraph worker`: the background work alone, without the HTTP server, until SIGTERM or
/// Ctrl-C; in-flight deliveries then finish.
pub async fn run_worker(settings: Settings) -> Result<(), StartupError> {
    let db = connect(&settings).await?;
    if settings.migrate_on_start {
        migrate(&db).await?;
    }
    let cache = cache_for(&settings)?;
    let limiter = Limiter::local(&settings.cache_prefix);
    // The worker signs no tokens; the key only completes the state.
    let jwt = JwtKeys::new(refresh::random_key().as_bytes(), settings.access_token_ttl);
    let grace = settings.webhook_timeout + std::time::Duration::from_secs(1);
    let bus = bus_for(&settings)?;
    let state = Arc::new(AppState::new(db, cache, limiter, jwt, settings).with_bus(bus));
    let worker = crate::worker::Worker::spawn(state);
    tracing::info!("worker running: relaying events and delivering webhooks");
    shutdown_signal().await;
    tracing::info!("stopping: finishing deliveries in flight");
    worker.stop(grace).await;
    Ok(())
}

async fn shutdown_signal() {
    #[cfg(unix)]
    {
        let mut term = match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(term) => term,
            Err(_) => {
                let _ = tokio::signal::ctrl_c().await;
                return;
            }
        };
        tokio::select! {
            _ = term.recv() => {}
            _ = tokio::signal::ctrl_c() => {}
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}

pub async fn migrate(db: &Database) -> Result<(), StartupError> {
    Migrator::up(db.conn.sea_orm(), None).await.map_err(StartupError::Migrate)
}

/// The configured signing key, or one generated once and kept in the data folder.
fn jwt_secret(settings: &Settings) -> Result<String, StartupError> {
    if let Some(secret) = &settings.jwt_secret {
        return Ok(secret.expose().to_owned());
    }
    let path = settings.data_dir.join("jwt-secret");
    let key_error = |source| StartupError::KeyFile { path: path.display().to_string(), source };
    if path.exists() {
        return Ok(std::fs::read_to_string(&path).map_err(key_error)?.trim().to_owned());
    }
    std::fs::create_dir_all(&settings.data_dir).map_err(key_error)?;
    let secret = refresh::random_key();
    write_private(&path, &secret).map_err(key_error)?;
    tracing::warn!(path = %path.display(), "no HIREGRAPH_JWT_SECRET set: generated a signing key into the data folder; set one in production");
    Ok(secret)
}

fn write_private(path: &Path, content: &str) -> std::io::Result<()> {
    use std::io::Write;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    options.open(path)?.write_all(content.as_bytes())
}

impl Application {
    /// Connects, migrates, seeds, builds the schema once and binds the listener (port 0 picks a
    /// free port). The server runs once `run_until_stopped` is awaited.
    pub async fn build(settings: Settings) -> Result<Self, StartupError> {
        let db = connect(&settings).await?;
        if settings.migrate_on_start {
            migrate(&db).await?;
        }
        let cache = cache_for(&settings)?;
        let limiter = match &settings.redis_url {
            Some(url) => Limiter::redis_with(redis_client(&settings, url)?, &settings.cache_prefix)
                .map_err(|e| StartupError::Redis(e.to_string()))?,
            None => Limiter::local(&settings.cache_prefix),
        };
        let secret = jwt_secret(&settings)?;
        let previous: Vec<&[u8]> = settings.jwt_previous_secrets.iter().map(|s| s.expose().as_bytes()).collect();
        let jwt = JwtKeys::rotating(secret.as_bytes(), &previous, settings.access_token_ttl);
        let seed = match settings.demo_data {
            DemoData::Off => false,
            DemoData::On => true,
            DemoData::Auto => db.backend == Backend::Sqlite,
        };
        if seed {
            demo::load_if_empty(&db).await.map_err(|e| StartupError::Demo(format!("{e:?}")))?;
        }
        let listener = TcpListener::bind(settings.bind)
            .map_err(|source| StartupError::Bind { addr: settings.bind.to_string(), source })?;
        let port = listener
            .local_addr()
            .map_err(|source| StartupError::Bind { addr: settings.bind.to_string(), source })?
            .port();
        let workers = settings.workers;
        // The worker and the live tail run on a pool of their own.
        let work_db = connect_pool(&settings, WORKER_POOL).await?;
        let bus = bus_for(&settings)?;
        let state = Arc::new(AppState::new(db, cache, limiter, jwt, settings).with_work_db(work_db).with_bus(bus));
        let context = web::Data::new(HttpContext {
            schema: graphql::build(state.clone()),
            state: state.clone(),
            registry: Arc::new(graphql::cost::registry()),
        });
        let server = HttpServer::new(move || {
            App::new()
                .app_data(context.clone())
                .route("/", web::get().to(crate::graphiql::page))
                .route("/graphiql/{file}", web::get().to(crate::graphiql::asset))
                .service(
                    web::resource("/graphql")
                        .wrap(actix_web::middleware::Condition::new(
                            context.state.settings.cors != CorsOrigins::Off,
                            cors(&context.state.settings.cors),
                        ))
                        .route(web::get().guard(actix_web::guard::fn_guard(is_upgrade)).to(crate::ws::upgrade))
                        .route(web::post().to(http::graphql_post))
                        .route(web::get().to(http::graphql_get))
                        .default_service(web::to(http::method_not_allowed)),
                )
                .service(
                    web::resource("/oauth/token")
                        .route(web::post().to(crate::oauth::token))
                        .default_service(web::to(crate::oauth::method_not_allowed)),
                )
                .route("/postings/{slug}.jsonld", web::get().to(crate::jsonld::posting))
                .route("/healthz", web::get().to(http::healthz))
                .route("/livez", web::get().to(http::healthz))
                .route("/readyz", web::get().to(http::readyz))
                .route("/metrics", web::get().to(http::metrics))
                // From the inside out: small answers are marked to go uncompressed; every answer,
                // refusals and preflights included, is logged and counted (with its size before
                // compression); gzip or brotli as the client accepts; the mark comes off.
                .wrap(actix_web::middleware::from_fn(crate::access::small_as_is))
                .wrap(actix_web::middleware::from_fn(crate::access::log))
                .wrap(actix_web::middleware::Compress::default())
                .wrap(actix_web::middleware::from_fn(crate::access::unmark))
        })
        .workers(workers)
        // SIGTERM and Ctrl-C are `drain_on_signal`'s: actix's own handling would stop at once.
        .disable_signals()
        .shutdown_timeout(SHUTDOWN_TIMEOUT_SECS)
        // Close at once after a refused body instead of lingering to read (and discard) the rest.
        .client_disconnect_timeout(std::time::Duration::ZERO)
        .listen(listener)
        .map_err(|source| StartupError::Bind { addr: "listener".into(), source })?
        .run();
        let worker = state.settings.run_worker.then(|| crate::worker::Worker::spawn(state.clone()));
        let tail = crate::services::live::spawn_tail(state.clone());
        let semantic = state
            .settings
            .semantic_search
            .then(|| AbortOnDrop(crate::services::semantic::spawn_refresher(state.clone())));
        Ok(Self { port, server, state, worker, _tail: AbortOnDrop(tail), _semantic: semantic })
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    pub fn state(&self) -> Arc<AppState> {
        self.state.clone()
    }

    /// A handle that stops the server.
    pub fn handle(&self) -> actix_web::dev::ServerHandle {
        self.server.handle()
    }

    /// Serves until SIGTERM or Ctrl-C, then drains: `/readyz` answers 503 at once (so the load
    /// balancer stops sending), requests are still served for the grace period (while it
    /// notices), then no new connection is taken, requests in flight finish and this returns.
    pub async fn run_until_signalled(self) -> std::io::Result<()> {
        let handle = self.handle();
        let state = self.state.clone();
        let _drain = AbortOnDrop(tokio::spawn(async move {
            shutdown_signal().await;
            state.draining.store(true, std::sync::atomic::Ordering::SeqCst);
            let grace = state.settings.shutdown_grace;
            tracing::info!(
                grace_secs = grace.as_secs(),
                "stopping: /readyz answers 503; serving through the grace period"
            );
            tokio::time::sleep(grace).await;
            tracing::info!("grace period over: finishing requests in flight");
            handle.stop(true).await;
        }));
        let result = self.run_until_stopped().await;
        tracing::info!("stopped");
        result
    }

    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        let result = self.server.await;
        if let Some(worker) = self.worker {
            worker.stop(self.state.settings.webhook_timeout + std::time::Duration::from_secs(1)).await;
        }
        result
    }
}

#[cfg(test)]
mod tests {
    use super::database_address;

    #[test]
    fn the_database_address_is_read_from_its_url() {
        let at = |url: &str| database_address(url);
        assert_eq!(at("postgres://u:p@db.example:6543/x?sslmode=require"), Some(("db.example".into(), 6543)));
        assert_eq!(at("postgres://db/x"), Some(("db".into(), 5432)));
        assert_eq!(at("postgresql://u@[::1]:5433/x"), Some(("::1".into(), 5433)));
        assert_eq!(at("postgres://u@[::1]/x"), Some(("::1".into(), 5432)));
        assert_eq!(at("postgres:///x?host=/var/run/postgresql"), None);
    }
}
