//! The `hiregraph` binary as an operator runs it: SIGTERM drains, `healthcheck` answers for a
//! container, the usual start-up mistakes are named, and logs are JSON lines with one access
//! line per request. (The rest of the suite drives the server in process: tests/api.)

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_hiregraph");
const KEY: &str = "process-test-key-process-test-key-0123456789";

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()).map(|a| a.port()).expect("a free port")
}

/// A data folder of its own, removed afterwards.
struct Scratch(PathBuf);

impl Scratch {
    fn new() -> Self {
        let dir = std::env::temp_dir().join(format!("hiregraph-process-{}", uuid::Uuid::now_v7().simple()));
        std::fs::create_dir_all(&dir).expect("scratch folder");
        Self(dir)
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// The binary with a clean environment of its own: no variable of the caller leaks in.
fn hiregraph(data: &Scratch, port: u16, vars: &[(&str, &str)]) -> Command {
    let mut command = Command::new(BIN);
    command
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("HIREGRAPH_BIND", format!("127.0.0.1:{port}"))
        .env("HIREGRAPH_DATA_DIR", &data.0)
        .env("HIREGRAPH_DEMO_DATA", "off")
        .env("HIREGRAPH_WORKERS", "1")
        .env("HIREGRAPH_LOG", "info");
    for (k, v) in vars {
        command.env(k, v);
    }
    command
}

fn run(mut command: Command) -> (Output, Duration) {
    let started = Instant::now();
    let output = command.output().expect("run hiregraph");
    (output, started.elapsed())
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

/// One plain HTTP/1.1 exchange on a new connection: the status and the body.
fn http(port: u16, request: &str) -> std::io::Result<(u16, String)> {
    let mut stream = TcpStream::connect(("127.0.0.1", port))?;
    stream.set_read_timeout(Some(Duration::from_secs(10)))?;
    stream.write_all(request.as_bytes())?;
    read_response(&mut stream)
}

fn read_response(stream: &mut TcpStream) -> std::io::Result<(u16, String)> {
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw)?;
    let text = String::from_utf8_lossy(&raw).into_owned();
    let status = text.split_whitespace().nth(1).and_then(|s| s.parse().ok()).unwrap_or(0);
    let body = text.split_once("\r\n\r\n").map(|(_, b)| b.to_owned()).unwrap_or_default();
    Ok((status, body))
}

fn get(port: u16, path: &str) -> std::io::Result<(u16, String)> {
    http(port, &format!("GET {path} HTTP/1.1\r\nhost: 127.0.0.1\r\nconnection: close\r\n\r\n"))
}

fn post_query(port: u16, query: &str) -> std::io::Result<(u16, String)> {
    let body = serde_json::json!({ "query": query }).to_string();
    http(
        port,
        &format!(
            "POST /graphql HTTP/1.1\r\nhost: 127.0.0.1\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
            body.len()
        ),
    )
}

/// A server process, killed if the test ends early.
struct Server(Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn wait_ready(port: u16, server: &mut Server) {
    let deadline = Instant::now() + Duration::from_secs(60);
    while Instant::now() < deadline {
        if let Ok((200, _)) = get(port, "/readyz") {
            return;
        }
        if let Ok(Some(status)) = server.0.try_wait() {
            panic!("the server exited before it was ready: {status}");
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    panic!("the server did not become ready within 60 s");
}

fn sigterm(child: &Child) {
    let status = Command::new("kill").args(["-TERM", &child.id().to_string()]).status().expect("run kill");
    assert!(status.success());
}

#[test]
fn sigterm_turns_readiness_off_serves_through_the_grace_period_then_finishes_what_is_in_flight() {
    let data = Scratch::new();
    let port = free_port();
    let mut command =
        hiregraph(&data, port, &[("HIREGRAPH_SHUTDOWN_GRACE_SECS", "2"), ("HIREGRAPH_LOG_FORMAT", "json")]);
    let mut server = Server(command.stderr(Stdio::piped()).stdout(Stdio::null()).spawn().expect("start hiregraph"));
    wait_ready(port, &mut server);

    // The container healthcheck, live and ready, and against nothing.
    let check = |args: &[&str], port: u16| {
        let mut command = hiregraph(&data, port, &[]);
        command.arg("healthcheck").args(args);
        run(command).0
    };
    assert!(check(&[], port).status.success());
    assert!(check(&["--ready"], port).status.success());
    let dead = check(&[], free_port());
    assert!(!dead.status.success());
    assert!(stderr(&dead).contains("cannot reach http://127.0.0.1:"), "{}", stderr(&dead));

    // A request that is in flight when the grace period ends: its body is still coming.
    let body = serde_json::json!({ "query": "{ __typename }" }).to_string();
    let mut slow = TcpStream::connect(("127.0.0.1", port)).expect("connect");
    slow.set_read_timeout(Some(Duration::from_secs(20))).expect("timeout");
    write!(
        slow,
        "POST /graphql HTTP/1.1\r\nhost: 127.0.0.1\r\ncontent-type: application/json\r\ncontent-length: {}\r\nx-request-id: slow-one\r\nconnection: close\r\n\r\n{}",
        body.len(),
        &body[..5]
    )
    .expect("send the start");

    let signalled = Instant::now();
    sigterm(&server.0);
    std::thread::sleep(Duration::from_millis(300));
    let (status, readiness) = get(port, "/readyz").expect("still listening during the grace period");
    assert_eq!(status, 503, "{readiness}");
    assert!(readiness.contains("draining"), "{readiness}");
    assert_eq!(get(port, "/livez").expect("alive").0, 200, "a draining server is still alive");
    let (status, answer) = post_query(port, "{ __typename }").expect("served during the grace period");
    assert_eq!((status, answer.contains("\"__typename\":\"Query\"")), (200, true), "{answer}");

    // Past the grace period no connection is taken, and the slow request still completes.
    let past_grace = Duration::from_millis(2600);
    std::thread::sleep(past_grace.saturating_sub(signalled.elapsed()));
    assert!(get(port, "/livez").is_err(), "after the grace period the listener is closed");
    slow.write_all(&body.as_bytes()[5..]).expect("send the rest");
    let (status, answer) = read_response(&mut slow).expect("the in-flight request is answered");
    assert_eq!(status, 200, "{answer}");
    assert!(answer.contains("Query"), "{answer}");

    let deadline = Instant::now() + Duration::from_secs(20);
    let exit = loop {
        if let Some(status) = server.0.try_wait().expect("wait") {
            break status;
        }
        assert!(Instant::now() < deadline, "the server did not exit after draining");
        std::thread::sleep(Duration::from_millis(50));
    };
    assert!(exit.success(), "{exit}");

    // The log: JSON lines, no colours, one access line per request with what an operator needs.
    let mut log = String::new();
    server.0.stderr.take().expect("stderr").read_to_string(&mut log).expect("read the log");
    assert!(!log.contains('\u{1b}'), "ANSI escapes in a log that is not a terminal");
    let lines: Vec<serde_json::Value> =
        log.lines().map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON ({e}): {l}"))).collect();
    let access: Vec<&serde_json::Value> = lines.iter().filter(|l| l["target"] == "hiregraph::access").collect();
    let slow_line = access.iter().find(|l| l["request_id"] == "slow-one").expect("the slow request's access line");
    assert_eq!(slow_line["method"], "POST");
    assert_eq!(slow_line["path"], "/graphql");
    assert_eq!(slow_line["status"], 200);
    assert_eq!(slow_line["principal"], "anonymous");
    assert!(slow_line["duration_ms"].as_f64().is_some_and(|ms| ms > 2000.0), "{slow_line}");
    assert!(slow_line["bytes"].as_u64().is_some_and(|b| b > 0), "{slow_line}");
    let refused = access.iter().find(|l| l["path"] == "/readyz" && l["status"] == 503).expect("the 503 is logged");
    assert_eq!(refused["refused"], "SERVICE_UNAVAILABLE");
    assert!(lines.iter().any(|l| l["fields"]["message"].as_str().is_some_and(|m| m.contains("grace period over"))
        || l["message"].as_str().is_some_and(|m| m.contains("grace period over"))));
}

#[test]
fn postgres_without_a_shared_signing_key_does_not_start() {
    let data = Scratch::new();
    let (output, _) = run(hiregraph(&data, free_port(), &[("DATABASE_URL", "postgres://postgres@127.0.0.1:1/x")]));
    assert!(!output.status.success());
    let message = stderr(&output);
    assert!(
        message.contains("invalid setting HIREGRAPH_JWT_SECRET: is required with a Postgres DATABASE_URL"),
        "{message}"
    );
}

#[test]
fn an_unreachable_database_is_named_within_two_seconds() {
    let data = Scratch::new();
    let port = free_port();
    let url = format!("postgres://postgres@127.0.0.1:{port}/x");
    let mut command = hiregraph(&data, free_port(), &[("DATABASE_URL", &url), ("HIREGRAPH_JWT_SECRET", KEY)]);
    command.arg("migrate");
    let (output, took) = run(command);
    assert!(!output.status.success());
    let message = stderr(&output);
    assert!(
        message.contains(&format!("cannot connect to the database at 127.0.0.1:{port}: connection refused")),
        "{message}"
    );
    assert!(took < Duration::from_secs(2), "took {took:?}");
}

#[test]
fn the_usual_mistakes_name_their_variable_and_help_needs_no_configuration() {
    let data = Scratch::new();
    for (name, value) in
        [("HIREGRAPH_LOG", "info,["), ("HIREGRAPH_BIND", "localhost"), ("HIREGRAPH_CACHE", "sometimes")]
    {
        let (output, _) = run(hiregraph(&data, free_port(), &[(name, value)]));
        assert!(!output.status.success());
        assert!(stderr(&output).contains(&format!("invalid setting {name}")), "{name}: {}", stderr(&output));
    }
    let mut help = hiregraph(&data, 1, &[("HIREGRAPH_LOG", "info,[")]);
    help.args(["help", "import-posting"]);
    let (output, _) = run(help);
    assert!(output.status.success());
    assert!(String::from_utf8_lossy(&output.stdout).starts_with("usage: hiregraph import-posting FILE --company SLUG"));
}

/// A small HTTP receiver (OTLP/HTTP, webhooks): every request POSTed to it, its head (lower-cased)
/// and its body parsed as JSON.
struct Receiver {
    port: u16,
    bodies: std::sync::Arc<std::sync::Mutex<Vec<(String, serde_json::Value)>>>,
}

fn otlp_receiver() -> Receiver {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind the receiver");
    let port = listener.local_addr().expect("address").port();
    let bodies = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let store = bodies.clone();
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            let store = store.clone();
            std::thread::spawn(move || serve_otlp(stream, &store));
        }
    });
    Receiver { port, bodies }
}

/// Requests on one keep-alive connection: headers, a Content-Length body, a 200 answer.
fn serve_otlp(mut stream: TcpStream, store: &std::sync::Mutex<Vec<(String, serde_json::Value)>>) {
    let mut buffer = Vec::new();
    let mut chunk = [0u8; 16 * 1024];
    loop {
        let Some(end) = buffer.windows(4).position(|w| w == b"\r\n\r\n") else {
            match stream.read(&mut chunk) {
                Ok(0) | Err(_) => return,
                Ok(n) => buffer.extend_from_slice(&chunk[..n]),
            }
            continue;
        };
        let head = String::from_utf8_lossy(&buffer[..end]).to_ascii_lowercase();
        let length: usize = head
            .lines()
            .find_map(|l| l.strip_prefix("content-length:").map(|v| v.trim().parse().unwrap_or(0)))
            .unwrap_or(0);
        while buffer.len() < end + 4 + length {
            match stream.read(&mut chunk) {
                Ok(0) | Err(_) => return,
                Ok(n) => buffer.extend_from_slice(&chunk[..n]),
            }
        }
        let body: Vec<u8> = buffer.drain(..end + 4 + length).skip(end + 4).collect();
        if let Ok(json) = serde_json::from_slice(&body) {
            store.lock().expect("lock").push((head, json));
        }
        let reply = "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 2\r\n\r\n{}";
        if stream.write_all(reply.as_bytes()).is_err() {
            return;
        }
    }
}

#[test]
fn traces_are_exported_over_otlp_continuing_the_callers_traceparent() {
    let receiver = otlp_receiver();
    let data = Scratch::new();
    let port = free_port();
    let endpoint = format!("http://127.0.0.1:{}", receiver.port);
    let mut command = hiregraph(
        &data,
        port,
        &[
            ("OTEL_EXPORTER_OTLP_ENDPOINT", &endpoint),
            ("OTEL_BSP_SCHEDULE_DELAY", "100"),
            ("HIREGRAPH_SHUTDOWN_GRACE_SECS", "0"),
            ("HIREGRAPH_DEMO_DATA", "on"),
            ("HIREGRAPH_WEBHOOK_ALLOW_PRIVATE", "true"),
            ("HIREGRAPH_WORKER_POLL_MS", "100"),
            ("HIREGRAPH_REGISTRATIONS_PER_HOUR", "100"),
        ],
    );
    let mut server = Server(command.stdout(Stdio::null()).stderr(Stdio::null()).spawn().expect("start hiregraph"));
    wait_ready(port, &mut server);

    let (trace, caller) = ("4bf92f3577b34da6a3ce929d0e0e4736", "00f067aa0ba902b7");
    let body = serde_json::json!({ "query": "query Feed { postings(first: 2) { totalCount edges { node { title company { name } } } } }" })
        .to_string();
    let (status, answer) = http(
        port,
        &format!(
            "POST /graphql HTTP/1.1\r\nhost: 127.0.0.1\r\ncontent-type: application/json\r\ntraceparent: 00-{trace}-{caller}-01\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
            body.len()
        ),
    )
    .expect("query");
    assert_eq!(status, 200, "{answer}");
    assert!(answer.contains("\"totalCount\""), "{answer}");

    // A webhook continues the trace of the request whose write it reports.
    let hooks = otlp_receiver();
    let gql = |query: &str, variables: serde_json::Value, token: Option<&str>, traceparent: Option<&str>| {
        let body = serde_json::json!({ "query": query, "variables": variables }).to_string();
        let mut head =
            "POST /graphql HTTP/1.1\r\nhost: 127.0.0.1\r\ncontent-type: application/json\r\nconnection: close\r\n"
                .to_owned();
        if let Some(token) = token {
            head.push_str(&format!("authorization: Bearer {token}\r\n"));
        }
        if let Some(traceparent) = traceparent {
            head.push_str(&format!("traceparent: {traceparent}\r\n"));
        }
        let (status, answer) =
            http(port, &format!("{head}content-length: {}\r\n\r\n{body}", body.len())).expect("graphql");
        let answer: serde_json::Value = serde_json::from_str(&answer).unwrap_or_else(|e| panic!("{e}: {answer}"));
        assert!(status == 200 && answer.get("errors").is_none(), "{status} {answer}");
        answer["data"].clone()
    };
    let owner = gql(
        "mutation($i: RegisterInput!) { register(input: $i) { accessToken } }",
        serde_json::json!({ "i": { "email": "owner@traced.example", "password": "a long enough password" } }),
        None,
        None,
    )["register"]["accessToken"]
        .as_str()
        .expect("a token")
        .to_owned();
    let company = gql(
        "mutation($i: CreateCompanyInput!) { createCompany(input: $i) { company { id } } }",
        serde_json::json!({ "i": { "name": "Traced", "slug": "traced" } }),
        Some(&owner),
        None,
    )["createCompany"]["company"]["id"]
        .as_str()
        .expect("a company")
        .to_owned();
    gql(
        "mutation($i: CreateWebhookEndpointInput!) { createWebhookEndpoint(input: $i) { secret } }",
        serde_json::json!({ "i": { "companyId": company, "url": format!("http://127.0.0.1:{}/hook", hooks.port),
            "eventTypes": ["posting.published"] } }),
        Some(&owner),
        None,
    );
    let posting = gql(
        "mutation($i: CreatePostingInput!) { createPosting(input: $i) { posting { id } } }",
        serde_json::json!({ "i": { "companyId": company, "title": "Traced engineer",
            "summary": "Follow the trace.", "description": "You will follow requests from the edge to the database and back.",
            "employmentType": "FULL_TIME", "seniority": "SENIOR", "workplace": "REMOTE",
            "locations": [{ "country": "DE", "remote": true }], "skills": [{ "name": "Rust", "required": true }] } }),
        Some(&owner),
        None,
    )["createPosting"]["posting"]["id"]
        .as_str()
        .expect("a posting")
        .to_owned();
    let (publish_trace, publish_caller) = ("0af7651916cd43dd8448eb211c80319c", "b7ad6b7169203331");
    gql(
        "mutation($i: PostingStatusInput!) { publishPosting(input: $i) { posting { status } } }",
        serde_json::json!({ "i": { "id": posting } }),
        Some(&owner),
        Some(&format!("00-{publish_trace}-{publish_caller}-01")),
    );
    let deadline = Instant::now() + Duration::from_secs(15);
    let hook_head = loop {
        if let Some((head, _)) = hooks.bodies.lock().expect("lock").first().cloned() {
            break head;
        }
        assert!(Instant::now() < deadline, "no webhook arrived");
        std::thread::sleep(Duration::from_millis(50));
    };
    let traceparent = hook_head
        .lines()
        .find_map(|l| l.strip_prefix("traceparent:").map(|v| v.trim().to_owned()))
        .unwrap_or_else(|| panic!("the webhook has no traceparent: {hook_head}"));
    let parts: Vec<&str> = traceparent.split('-').collect();
    assert_eq!(parts.len(), 4, "{traceparent}");
    assert_eq!(parts[1], publish_trace, "the webhook is in the publishing request's trace");
    assert_ne!(parts[2], publish_caller, "its parent is the delivery span, not the caller");
    std::thread::sleep(Duration::from_millis(300));

    sigterm(&server.0);
    let deadline = Instant::now() + Duration::from_secs(20);
    while server.0.try_wait().expect("wait").is_none() {
        assert!(Instant::now() < deadline, "the server did not exit");
        std::thread::sleep(Duration::from_millis(50));
    }

    let bodies: Vec<serde_json::Value> = receiver.bodies.lock().expect("lock").iter().map(|(_, b)| b.clone()).collect();
    let all_spans: Vec<serde_json::Value> = bodies
        .iter()
        .flat_map(|b| b["resourceSpans"].as_array().cloned().unwrap_or_default())
        .inspect(|rs| {
            let service = rs["resource"]["attributes"].as_array().and_then(|a| {
                a.iter().find(|kv| kv["key"] == "service.name").map(|kv| kv["value"]["stringValue"].clone())
            });
            assert_eq!(service, Some(serde_json::json!("hiregraph")), "{rs}");
        })
        .flat_map(|rs| rs["scopeSpans"].as_array().cloned().unwrap_or_default())
        .flat_map(|ss| ss["spans"].as_array().cloned().unwrap_or_default())
        .collect();
    let spans: Vec<serde_json::Value> = all_spans.iter().filter(|s| s["traceId"] == trace).cloned().collect();
    let named = |name: &str| spans.iter().find(|s| s["name"] == name).cloned();
    let request = named("POST /graphql").unwrap_or_else(|| panic!("no request span in {bodies:?}"));
    assert_eq!(request["parentSpanId"], caller, "the caller's span is the parent");
    assert_eq!(request["kind"], 2, "a server span");
    let operation = named("graphql Feed").unwrap_or_else(|| panic!("no operation span in {spans:?}"));
    assert_eq!(operation["parentSpanId"], request["spanId"]);
    // The feed's companies come through a data-loader batch, a span of its own below the operation.
    let batches: Vec<&serde_json::Value> = spans.iter().filter(|s| s["name"] == "dataloader batch").collect();
    assert!(!batches.is_empty(), "no batch span in {spans:?}");
    let ids: Vec<&serde_json::Value> = spans.iter().map(|s| &s["spanId"]).collect();
    assert!(batches.iter().all(|b| ids.contains(&&b["parentSpanId"])), "{batches:?}");
    let statements: Vec<&serde_json::Value> =
        spans.iter().filter(|s| s["name"].as_str().is_some_and(|n| n.starts_with("SELECT "))).collect();
    assert!(!statements.is_empty(), "no SQL spans in {spans:?}");
    for statement in &statements {
        assert_eq!(statement["kind"], 3, "a client span");
        assert!(ids.contains(&&statement["parentSpanId"]), "a statement belongs to the request's spans: {statement}");
        let system = statement["attributes"]
            .as_array()
            .and_then(|a| a.iter().find(|kv| kv["key"] == "db.system.name"))
            .map(|kv| kv["value"]["stringValue"].clone());
        assert_eq!(system, Some(serde_json::json!("sqlite")));
    }
    assert!(statements.iter().any(|s| s["name"] == "SELECT postings"), "{statements:?}");

    let delivery = all_spans
        .iter()
        .find(|s| s["name"] == "POST webhook")
        .unwrap_or_else(|| panic!("no delivery span in {all_spans:?}"));
    assert_eq!(delivery["traceId"], publish_trace);
    assert_eq!(delivery["spanId"], parts[2], "the receiver's parent is the delivery span");
    assert_eq!(delivery["kind"], 3, "a client span");
    let publishing: Vec<&serde_json::Value> = all_spans.iter().filter(|s| s["traceId"] == publish_trace).collect();
    assert!(
        publishing.iter().any(|s| s["spanId"] == delivery["parentSpanId"]),
        "the delivery's parent is a span of the publishing request: {publishing:?}"
    );
}
