//! `spawn_app()` and a `TestApp` whose helpers are named after what users do.
//!
//! Each test gets its own server on a free port, built by the same `Application::build` as `main`,
//! and its own database: a temporary SQLite file, or — when `HIREGRAPH_TEST_DATABASE_URL` names a
//! Postgres server — a uniquely named database dropped afterwards. With `HIREGRAPH_TEST_REDIS_URL`
//! the cache is Redis, under a key prefix of its own.

use std::collections::HashMap;
use std::path::PathBuf;

use hiregraph_api::settings::Settings;
use hiregraph_api::startup::Application;
use hiregraph_persistence::ConnectionTrait;
use serde_json::{Value, json};

pub const JWT_SECRET: &str = "test-secret-test-secret-test-secret-0123456789";

pub struct TestApp {
    pub address: String,
    pub client: reqwest::Client,
    pub app: std::sync::Arc<hiregraph_api::state::AppState>,
    handle: actix_web::dev::ServerHandle,
    data_dir: PathBuf,
    postgres: Option<(String, String)>,
    vars: HashMap<String, String>,
    /// A replica shares its first server's database and folder and leaves them to it.
    is_replica: bool,
    /// The task running the server and its worker; `kill` aborts it.
    task: Option<tokio::task::JoinHandle<std::io::Result<()>>>,
}

/// The Postgres server to test against, if any: a URL to an existing database with the right to
/// create databases.
pub fn postgres_admin_url() -> Option<String> {
    std::env::var("HIREGRAPH_TEST_DATABASE_URL").ok().filter(|v| !v.is_empty())
}

pub fn redis_url() -> Option<String> {
    std::env::var("HIREGRAPH_TEST_REDIS_URL").ok().filter(|v| !v.is_empty())
}

fn with_database(url: &str, database: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((b, q)) => (b, format!("?{q}")),
        None => (url, String::new()),
    };
    let base = base.rsplit_once('/').map(|(host, _)| host).unwrap_or(base);
    format!("{base}/{database}{query}")
}

/// With Postgres: reach the test database through this local port (a `Forwarder`) instead of 5432.
pub const DATABASE_VIA_PORT: &str = "TEST_DATABASE_VIA_PORT";

/// A TCP proxy on a free port to a real server, that a test can cut (refusing new connections and
/// dropping open ones, as a dead database would) and restore on the same port.
pub struct Forwarder {
    pub port: u16,
    target: std::net::SocketAddr,
    tasks: std::sync::Arc<std::sync::Mutex<Vec<tokio::task::JoinHandle<()>>>>,
}

impl Forwarder {
    pub async fn start(target: std::net::SocketAddr) -> Self {
        let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let forwarder = Self { port, target, tasks: Default::default() };
        forwarder.restore().await;
        forwarder
    }

    pub async fn restore(&self) {
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", self.port)).await.unwrap();
        let (target, tasks) = (self.target, self.tasks.clone());
        let accept = tokio::spawn(async move {
            while let Ok((mut inbound, _)) = listener.accept().await {
                let pipe = tokio::spawn(async move {
                    if let Ok(mut outbound) = tokio::net::TcpStream::connect(target).await {
                        let _ = tokio::io::copy_bidirectional(&mut inbound, &mut outbound).await;
                    }
                });
                tasks.lock().unwrap().push(pipe);
            }
        });
        self.tasks.lock().unwrap().push(accept);
    }

    /// Closes the port and every connection through it.
    pub fn cut(&self) {
        for task in self.tasks.lock().unwrap().drain(..) {
            task.abort();
        }
    }
}

impl Drop for Forwarder {
    fn drop(&mut self) {
        self.cut();
    }
}

pub async fn spawn_app() -> TestApp {
    spawn_app_with(&[]).await
}

/// A server with extra settings (e.g. tighter limits).
pub async fn spawn_app_with(extra: &[(&str, &str)]) -> TestApp {
    let unique = uuid::Uuid::now_v7().simple().to_string();
    let data_dir = std::env::temp_dir().join(format!("hiregraph-test-{unique}"));
    let mut vars: HashMap<String, String> = HashMap::new();
    vars.insert("HIREGRAPH_BIND".into(), "127.0.0.1:0".into());
    vars.insert("HIREGRAPH_DATA_DIR".into(), data_dir.display().to_string());
    vars.insert("HIREGRAPH_JWT_SECRET".into(), JWT_SECRET.into());
    vars.insert("HIREGRAPH_DEMO_DATA".into(), "off".into());
    vars.insert("HIREGRAPH_WORKERS".into(), "1".into());
    vars.insert("HIREGRAPH_DB_MAX_CONNECTIONS".into(), "5".into());
    vars.insert("HIREGRAPH_CACHE_PREFIX".into(), format!("t{unique}"));
    // Tests register many accounts from 127.0.0.1; the limit itself is tested on its own.
    vars.insert("HIREGRAPH_REGISTRATIONS_PER_HOUR".into(), "10000".into());
    // Likewise query-cost budgets: tests/api/budgets.rs sets its own.
    for kind in ["ANONYMOUS", "USER", "PARTNER"] {
        vars.insert(format!("HIREGRAPH_COST_{kind}_PER_MINUTE"), "100000000".into());
    }
    let mut postgres = None;
    if let Some(admin) = postgres_admin_url() {
        let name = format!("hgt_{unique}");
        let conn =
            hiregraph_persistence::Database::connect(&admin, 1).await.expect("connect to the Postgres test server");
        conn.conn.execute_unprepared(&format!("CREATE DATABASE {name}")).await.expect("create the test database");
        let mut url = with_database(&admin, &name);
        // A test may reach its database through a proxy of its own (to cut the line).
        if let Some((_, port)) = extra.iter().find(|(k, _)| *k == DATABASE_VIA_PORT) {
            url = url.replacen("127.0.0.1:5432", &format!("127.0.0.1:{port}"), 1);
        }
        vars.insert("DATABASE_URL".into(), url);
        postgres = Some((admin, name));
    }
    if let Some(redis) = redis_url() {
        vars.insert("REDIS_URL".into(), redis);
    }
    for (k, v) in extra {
        vars.insert((*k).to_owned(), (*v).to_owned());
    }
    start(vars, data_dir, postgres, false).await
}

async fn start(
    vars: HashMap<String, String>,
    data_dir: PathBuf,
    postgres: Option<(String, String)>,
    is_replica: bool,
) -> TestApp {
    let settings = Settings::from_map(&vars).expect("test settings");
    let app = Application::build(settings).await.expect("build the application");
    let address = format!("http://127.0.0.1:{}", app.port());
    let handle = app.handle();
    let state = app.state();
    let task = Some(tokio::spawn(app.run_until_stopped()));
    TestApp { address, client: reqwest::Client::new(), app: state, handle, data_dir, postgres, vars, is_replica, task }
}

/// A second server on the same database and cache, as another replica behind a load balancer.
pub async fn spawn_replica(first: &TestApp) -> TestApp {
    start(first.vars.clone(), first.data_dir.clone(), None, true).await
}

/// A Redis server of the test's own, on a free port, that the test may kill, pause and restart.
pub struct OwnRedis {
    pub port: u16,
    child: Option<std::process::Child>,
}

impl OwnRedis {
    /// `None` when `redis-server` is not installed and this is not CI, where it must be.
    pub fn start() -> Option<Self> {
        let port = std::net::TcpListener::bind("127.0.0.1:0").ok()?.local_addr().ok()?.port();
        let mut redis = Self { port, child: None };
        if !redis.restart() {
            let required = std::env::var("CI").is_ok_and(|v| v == "true") || postgres_admin_url().is_some();
            assert!(!required, "redis-server must be installed to run the cache failure tests");
            eprintln!("skipped: redis-server is not installed");
            return None;
        }
        Some(redis)
    }

    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}", self.port)
    }

    /// Starts (again) on the same port; false when `redis-server` cannot run.
    pub fn restart(&mut self) -> bool {
        let Ok(child) = std::process::Command::new("redis-server")
            .args(["--port", &self.port.to_string(), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"])
            .stdout(std::process::Stdio::null())
            .spawn()
        else {
            return false;
        };
        self.child = Some(child);
        for _ in 0..100 {
            if self.command("PING").is_some_and(|r| r.starts_with("+PONG")) {
                return true;
            }
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
        false
    }

    pub fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Sends one inline command; the raw reply.
    pub fn command(&self, line: &str) -> Option<String> {
        use std::io::{Read, Write};
        let mut stream = std::net::TcpStream::connect(("127.0.0.1", self.port)).ok()?;
        stream.set_read_timeout(Some(std::time::Duration::from_secs(1))).ok()?;
        stream.write_all(format!("{line}\r\n").as_bytes()).ok()?;
        let mut buf = [0u8; 256];
        let n = stream.read(&mut buf).ok()?;
        Some(String::from_utf8_lossy(&buf[..n]).into_owned())
    }
}

impl Drop for OwnRedis {
    fn drop(&mut self) {
        self.kill();
    }
}

impl TestApp {
    /// Ends the server and its worker at once, as a killed process would: nothing in flight is
    /// finished or released.
    pub fn kill(&mut self) {
        drop(self.handle.stop(false));
        if let Some(task) = self.task.take() {
            task.abort();
        }
    }
}

impl Drop for TestApp {
    fn drop(&mut self) {
        // Sends the stop command now; awaiting it here would block the runtime that must run it.
        drop(self.handle.stop(false));
        if self.is_replica {
            return;
        }
        let postgres = self.postgres.take();
        let data_dir = self.data_dir.clone();
        // Drop runs outside any runtime we may block: clean up on a thread of its own.
        let cleanup = std::thread::spawn(move || {
            let Ok(runtime) = tokio::runtime::Builder::new_current_thread().enable_all().build() else { return };
            runtime.block_on(async move {
                if let Some((admin, name)) = postgres
                    && let Ok(conn) = hiregraph_persistence::Database::connect(&admin, 1).await
                {
                    let _ = conn.conn.execute_unprepared(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)")).await;
                }
            });
            let _ = std::fs::remove_dir_all(data_dir);
        });
        let _ = cleanup.join();
    }
}

/// A partner app as created: its id, OAuth client id and client secret.
#[derive(Debug, Clone)]
pub struct PartnerApp {
    pub id: String,
    pub client_id: String,
    pub client_secret: String,
}

/// A signed-in user.
#[derive(Debug, Clone)]
pub struct Session {
    pub access: String,
    pub refresh: String,
    pub user_id: String,
    pub email: String,
}

/// Percent-encodes a form value (RFC 3986 unreserved characters pass).
pub fn urlencode(raw: &str) -> String {
    raw.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => char::from(b).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

pub fn unique_email(who: &str) -> String {
    format!("{who}-{}@example.com", &uuid::Uuid::now_v7().simple().to_string()[20..])
}

pub const PASSWORD: &str = "a long enough password";

/// The input of a posting that can be published as it is.
pub fn complete_posting(company_id: &str, title: &str) -> Value {
    json!({
        "companyId": company_id,
        "title": title,
        "summary": "Build the matching engine.",
        "description": "You will build the services that match candidates with companies, in Rust, with a small team.",
        "responsibilities": ["Design services", "Review code"],
        "requiredQualifications": ["3 years of backend work"],
        "employmentType": "FULL_TIME",
        "seniority": "SENIOR",
        "minYearsExperience": 5,
        "workplace": "REMOTE",
        "locations": [{ "country": "DE", "remote": true }],
        "salary": { "min": 70000, "max": 90000, "currency": "EUR", "period": "YEAR" },
        "skills": [{ "name": "Rust", "required": true }, { "name": "PostgreSQL", "required": false }],
        "benefits": ["Learning budget"]
    })
}

/// The input paths the first error names in `extensions.fields`.
pub fn error_fields(response: &Value) -> Vec<String> {
    response["errors"][0]["extensions"]["fields"]
        .as_array()
        .map(|fields| fields.iter().filter_map(|f| f["path"].as_str().map(str::to_owned)).collect())
        .unwrap_or_default()
}

/// The `extensions.code` of the first error, if any.
pub fn error_code(response: &Value) -> Option<&str> {
    response["errors"][0]["extensions"]["code"].as_str()
}

impl TestApp {
    /// POSTs a GraphQL request; returns the HTTP status and the JSON body.
    pub async fn post(&self, query: &str, variables: Value, token: Option<&str>) -> (u16, Value) {
        let mut request = self
            .client
            .post(format!("{}/graphql", self.address))
            .json(&json!({ "query": query, "variables": variables }));
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        let response = request.send().await.expect("request");
        let status = response.status().as_u16();
        (status, response.json().await.unwrap_or(Value::Null))
    }

    /// A GraphQL request whose HTTP status must be 200; returns the body.
    pub async fn graphql(&self, query: &str, variables: Value, token: Option<&str>) -> Value {
        let (status, body) = self.post(query, variables, token).await;
        assert_eq!(status, 200, "unexpected status for {query}: {body}");
        body
    }

    /// Like `graphql`, but the response must have no errors.
    pub async fn ok(&self, query: &str, variables: Value, token: Option<&str>) -> Value {
        let body = self.graphql(query, variables, token).await;
        assert!(body.get("errors").is_none(), "unexpected errors for {query}: {body}");
        body["data"].clone()
    }

    /// A partner app of `company` with `scopes` (GraphQL spellings, `POSTINGS_READ`), by `owner`.
    pub async fn create_partner_app(&self, owner: &Session, company: &str, scopes: &[String]) -> PartnerApp {
        let data = self
            .ok(
                "mutation($i: CreatePartnerAppInput!) { createPartnerApp(input: $i) { clientSecret partnerApp { id clientId } } }",
                json!({ "i": { "companyId": company, "name": "Integration", "scopes": scopes } }),
                Some(&owner.access),
            )
            .await;
        let created = &data["createPartnerApp"];
        PartnerApp {
            id: created["partnerApp"]["id"].as_str().unwrap().to_owned(),
            client_id: created["partnerApp"]["clientId"].as_str().unwrap().to_owned(),
            client_secret: created["clientSecret"].as_str().unwrap().to_owned(),
        }
    }

    /// `POST /oauth/token` with a form body and, when given, HTTP Basic client credentials.
    pub async fn oauth(
        &self,
        form: &[(&str, &str)],
        basic: Option<(&str, &str)>,
    ) -> (u16, reqwest::header::HeaderMap, Value) {
        let body: String =
            form.iter().map(|(k, v)| format!("{}={}", urlencode(k), urlencode(v))).collect::<Vec<_>>().join("&");
        let mut request = self
            .client
            .post(format!("{}/oauth/token", self.address))
            .header("content-type", "application/x-www-form-urlencoded")
            .body(body);
        if let Some((id, secret)) = basic {
            request = request.basic_auth(id, Some(secret));
        }
        let response = request.send().await.expect("token request");
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        (status, headers, response.json().await.unwrap_or(Value::Null))
    }

    /// An access token for a partner app by the client credentials grant.
    pub async fn partner_token(&self, app: &PartnerApp, scope: Option<&str>) -> String {
        let mut form = vec![("grant_type", "client_credentials")];
        if let Some(scope) = scope {
            form.push(("scope", scope));
        }
        let (status, _, body) = self.oauth(&form, Some((&app.client_id, &app.client_secret))).await;
        assert_eq!(status, 200, "{body}");
        body["access_token"].as_str().unwrap().to_owned()
    }

    /// A new API key of a partner app.
    pub async fn create_api_key(&self, owner: &Session, app: &str) -> String {
        let data = self
            .ok(
                "mutation($i: CreateApiKeyInput!) { createApiKey(input: $i) { key } }",
                json!({ "i": { "partnerAppId": app, "name": "Sync" } }),
                Some(&owner.access),
            )
            .await;
        data["createApiKey"]["key"].as_str().unwrap().to_owned()
    }

    pub async fn register(&self, who: &str) -> Session {
        let email = unique_email(who);
        let data = self
            .ok(
                "mutation($i: RegisterInput!) { register(input: $i) { accessToken refreshToken user { id email } } }",
                json!({ "i": { "email": email, "password": PASSWORD } }),
                None,
            )
            .await;
        let r = &data["register"];
        Session {
            access: r["accessToken"].as_str().unwrap().to_owned(),
            refresh: r["refreshToken"].as_str().unwrap().to_owned(),
            user_id: r["user"]["id"].as_str().unwrap().to_owned(),
            email,
        }
    }

    /// A new account made platform admin in the database; its token carries the role at once,
    /// since every request reads the role from there.
    pub async fn platform_admin(&self) -> Session {
        let admin = self.register("platform-admin").await;
        let id = self.app.jwt.verify(&admin.access).unwrap();
        hiregraph_persistence::users::set_role(
            id,
            hiregraph_domain::accounts::PlatformRole::Admin,
            chrono::Utc::now(),
            &self.app.db.conn,
        )
        .await
        .unwrap();
        admin
    }

    /// A platform admin verifies the company: its members become employers.
    pub async fn verify_company(&self, company: &str) {
        let admin = self.platform_admin().await;
        self.ok(
            "mutation($i: VerifyCompanyInput!) { verifyCompany(input: $i) { company { verified } } }",
            json!({ "i": { "id": company } }),
            Some(&admin.access),
        )
        .await;
    }

    /// Creates a company owned by `owner`; returns its id.
    pub async fn create_company(&self, owner: &Session, name: &str) -> String {
        let data = self
            .ok(
                "mutation($i: CreateCompanyInput!) { createCompany(input: $i) { company { id } } }",
                json!({ "i": { "name": name, "slug": format!("c-{}", &uuid::Uuid::now_v7().simple().to_string()[18..]) } }),
                Some(&owner.access),
            )
            .await;
        data["createCompany"]["company"]["id"].as_str().unwrap().to_owned()
    }

    /// A company's slug, by its global id (read anonymously: companies are public).
    pub async fn slug_of(&self, company: &str) -> String {
        let data = self
            .ok("query($id: ID!) { node(id: $id) { ... on Company { slug } } }", json!({ "id": company }), None)
            .await;
        data["node"]["slug"].as_str().unwrap().to_owned()
    }

    pub async fn add_member(&self, owner: &Session, company: &str, member: &Session, role: &str) {
        self.ok(
            "mutation($i: AddCompanyMemberInput!) { addCompanyMember(input: $i) { member { role } } }",
            json!({ "i": { "companyId": company, "email": member.email, "role": role } }),
            Some(&owner.access),
        )
        .await;
    }

    /// Creates a draft from `input`; returns the posting's id.
    pub async fn create_posting(&self, token: &Session, input: Value) -> String {
        self.create_posting_as(&token.access, input).await
    }

    /// Creates a posting with any bearer credential (a user's token, a partner's key or token).
    pub async fn create_posting_as(&self, bearer: &str, input: Value) -> String {
        let data = self
            .ok(
                "mutation($i: CreatePostingInput!) { createPosting(input: $i) { posting { id status } } }",
                json!({ "i": input }),
                Some(bearer),
            )
            .await;
        data["createPosting"]["posting"]["id"].as_str().unwrap().to_owned()
    }

    /// Runs one of publishPosting, pausePosting, closePosting, archivePosting; returns the body.
    pub async fn transition(&self, token: &Session, mutation: &str, id: &str) -> Value {
        self.graphql(
            &format!(
                "mutation($i: PostingStatusInput!) {{ {mutation}(input: $i) {{ posting {{ id status version }} }} }}"
            ),
            json!({ "i": { "id": id } }),
            Some(&token.access),
        )
        .await
    }

    /// Waits until this replica's semantic search index holds at least `n` postings and has read
    /// every posting change this replica committed (it reads them off the request path, moments
    /// after each commit), so that searches are answered from it rather than from SQL.
    pub async fn wait_for_semantic_index(&self, n: usize) {
        for _ in 0..400 {
            let written = self.app.search_written.load(std::sync::atomic::Ordering::Acquire);
            if self.app.semantic.size().0 >= n && self.app.semantic.position().is_some_and(|at| at >= written) {
                return;
            }
            tokio::time::sleep(std::time::Duration::from_millis(25)).await;
        }
        panic!("the semantic index holds {:?}, not {n}", self.app.semantic.size());
    }

    /// Waits until this replica's talent index holds `n` listed candidates.
    pub async fn wait_for_talent_index(&self, n: usize) {
        for _ in 0..400 {
            if self.app.talent.ready() && self.app.talent.size() >= n {
                return;
            }
            tokio::time::sleep(std::time::Duration::from_millis(25)).await;
        }
        panic!("the talent index holds {}, not {n}", self.app.talent.size());
    }

    pub async fn publish(&self, token: &Session, id: &str) {
        let body = self.transition(token, "publishPosting", id).await;
        assert_eq!(body["data"]["publishPosting"]["posting"]["status"], "PUBLISHED", "{body}");
    }

    /// Creates or replaces `who`'s candidate profile from `input`; returns the profile's id.
    pub async fn upsert_profile(&self, who: &Session, input: Value) -> String {
        let data = self
            .ok(
                "mutation($i: UpsertCandidateProfileInput!) { upsertCandidateProfile(input: $i) { profile { id } } }",
                json!({ "i": input }),
                Some(&who.access),
            )
            .await;
        data["upsertCandidateProfile"]["profile"]["id"].as_str().unwrap().to_owned()
    }

    /// `who` applies to `posting`; returns the application's id.
    pub async fn apply(&self, who: &Session, posting: &str) -> String {
        let data = self
            .ok(
                "mutation($i: ApplyToPostingInput!) { applyToPosting(input: $i) { application { id } } }",
                json!({ "i": { "postingId": posting } }),
                Some(&who.access),
            )
            .await;
        data["applyToPosting"]["application"]["id"].as_str().unwrap().to_owned()
    }

    /// Creates and publishes a complete posting; returns its id.
    pub async fn published_posting(&self, token: &Session, company: &str, title: &str) -> String {
        let id = self.create_posting(token, complete_posting(company, title)).await;
        self.publish(token, &id).await;
        id
    }
}
