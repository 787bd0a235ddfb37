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
