//! Subscriptions over `graphql-transport-ws` with a real WebSocket client: the handshake and its
//! close codes, delivery across replicas, and authorization of every event for every subscriber.

use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;

use crate::helpers::{
    JWT_SECRET, OwnRedis, Session, TestApp, complete_posting, redis_url, spawn_app, spawn_app_with, spawn_replica,
};

type Stream = tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

#[derive(Debug, PartialEq)]
enum Got {
    Text(Value),
    Close(u16, String),
    Nothing,
}

struct Ws(Stream);

async fn connect_with(app: &TestApp, protocol: Option<&str>) -> Ws {
    let url = app.address.replacen("http://", "ws://", 1) + "/graphql";
    let mut request = url.into_client_request().unwrap();
    if let Some(protocol) = protocol {
        request.headers_mut().insert("sec-websocket-protocol", protocol.parse().unwrap());
    }
    let (stream, _) = tokio_tungstenite::connect_async(request).await.expect("WebSocket upgrade");
    Ws(stream)
}

async fn connect(app: &TestApp) -> Ws {
    connect_with(app, Some("graphql-transport-ws")).await
}

impl Ws {
    async fn send(&mut self, message: Value) {
        self.0.send(Message::Text(message.to_string().into())).await.unwrap();
    }

    /// The next text or close within `wait`, skipping pings.
    async fn recv(&mut self, wait: Duration) -> Got {
        let deadline = tokio::time::Instant::now() + wait;
        loop {
            let Ok(next) = tokio::time::timeout_at(deadline, self.0.next()).await else { return Got::Nothing };
            match next {
                Some(Ok(Message::Text(text))) => return Got::Text(serde_json::from_str(&text).unwrap()),
                Some(Ok(Message::Close(frame))) => {
                    return frame
                        .map_or(Got::Close(1005, String::new()), |f| Got::Close(f.code.into(), f.reason.to_string()));
                }
                Some(Ok(_)) => continue,
                Some(Err(_)) | None => return Got::Close(1006, String::new()),
            }
        }
    }

    async fn init(&mut self, token: Option<&str>) {
        let payload = token.map_or(json!({}), |t| json!({ "authorization": format!("Bearer {t}") }));
        self.send(json!({ "type": "connection_init", "payload": payload })).await;
        match self.recv(Duration::from_secs(5)).await {
            Got::Text(v) if v["type"] == "connection_ack" => {}
            other => panic!("expected connection_ack, got {other:?}"),
        }
    }

    async fn subscribe(&mut self, id: &str, query: &str, variables: Value) {
        self.send(json!({ "id": id, "type": "subscribe", "payload": { "query": query, "variables": variables } }))
            .await;
    }

    /// The next `next` payload for `id` within `wait` (other messages fail the test).
    async fn next(&mut self, id: &str, wait: Duration) -> Option<Value> {
        match self.recv(wait).await {
            Got::Text(v) if v["type"] == "next" && v["id"] == id => Some(v["payload"].clone()),
            Got::Nothing => None,
            other => panic!("expected next for {id}, got {other:?}"),
        }
    }
}

const POSTING_CHANGED: &str = "subscription($id: ID!) { postingChanged(id: $id) { type posting { title status } } }";
const APPLICATION_CHANGED: &str =
    "subscription($c: ID!) { applicationChanged(companyId: $c) { type application { status } } }";
const MINE: &str = "subscription { myApplicationChanged { type application { status } } }";

async fn update_title(app: &TestApp, owner: &Session, posting: &str, title: &str) {
    let data =
        app.ok("query($id: ID!) { posting(id: $id) { version } }", json!({ "id": posting }), Some(&owner.access)).await;
    app.ok(
        "mutation($i: UpdatePostingInput!) { updatePosting(input: $i) { posting { title } } }",
        json!({ "i": { "id": posting, "expectedVersion": data["posting"]["version"], "title": title } }),
        Some(&owner.access),
    )
    .await;
}

async fn candidate(app: &TestApp, who: &str) -> Session {
    let session = app.register(who).await;
    app.upsert_profile(&session, json!({ "displayName": who, "visibility": "PUBLIC" })).await;
    session
}

#[tokio::test]
async fn the_handshake_and_its_errors_close_with_the_protocols_codes() {
    let app = spawn_app_with(&[("HIREGRAPH_WS_INIT_TIMEOUT_MS", "300")]).await;
    let mut ws = connect_with(&app, None).await;
    assert_eq!(
        ws.recv(Duration::from_secs(2)).await,
        Got::Close(4406, "Subprotocol not acceptable: use graphql-transport-ws".into())
    );

    let mut ws = connect(&app).await;
    ws.subscribe("1", "subscription { myApplicationChanged { type } }", json!({})).await;
    assert!(matches!(ws.recv(Duration::from_secs(2)).await, Got::Close(4401, _)), "subscribe before connection_init");

    let mut ws = connect(&app).await;
    ws.send(json!({ "type": "connection_init", "payload": { "authorization": "Bearer not-a-token" } })).await;
    assert!(matches!(ws.recv(Duration::from_secs(2)).await, Got::Close(4403, _)), "a bad token");

    let mut ws = connect(&app).await;
    ws.init(None).await;
    ws.send(json!({ "type": "shout" })).await;
    assert_eq!(ws.recv(Duration::from_secs(2)).await, Got::Close(4400, "Unknown message type `shout`".into()));

    let mut ws = connect(&app).await;
    ws.send(json!("not an object")).await;
    assert!(matches!(ws.recv(Duration::from_secs(2)).await, Got::Close(4400, _)));

    let mut ws = connect(&app).await;
    assert!(matches!(ws.recv(Duration::from_secs(2)).await, Got::Close(4408, _)), "no connection_init in time");

    let owner = app.register("owner").await;
    let company = app.create_company(&owner, "Live").await;
    let posting = app.published_posting(&owner, &company, "Live Engineer").await;
    let mut ws = connect(&app).await;
    ws.init(None).await;
    ws.subscribe("a", POSTING_CHANGED, json!({ "id": posting })).await;
    ws.subscribe("a", POSTING_CHANGED, json!({ "id": posting })).await;
    assert_eq!(ws.recv(Duration::from_secs(2)).await, Got::Close(4409, "Subscriber for a already exists".into()));

    let mut ws = connect(&app).await;
    ws.init(None).await;
    ws.subscribe("q", "{ __typename }", json!({})).await;
    match ws.recv(Duration::from_secs(2)).await {
        Got::Text(v) => {
            assert_eq!(v["type"], "error");
            assert!(v["payload"][0]["message"].as_str().unwrap().contains("POST /graphql"), "{v}");
        }
        other => panic!("{other:?}"),
    }
    ws.init_again_is_refused().await;
}

impl Ws {
    async fn init_again_is_refused(&mut self) {
        self.send(json!({ "type": "connection_init" })).await;
        assert!(matches!(self.recv(Duration::from_secs(2)).await, Got::Close(4429, _)));
    }
}

#[tokio::test]
async fn a_change_through_one_replica_reaches_a_subscriber_on_another_within_a_second() {
    let first = spawn_app_with(&[("HIREGRAPH_WORKER_POLL_MS", "200")]).await;
    let second = spawn_replica(&first).await;
    let owner = first.register("owner").await;
    let company = first.create_company(&owner, "Replicated").await;
    let posting = first.published_posting(&owner, &company, "Before").await;
    let mut ws = connect(&second).await;
    ws.init(None).await;
    ws.subscribe("p", POSTING_CHANGED, json!({ "id": posting })).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    let started = std::time::Instant::now();
    update_title(&first, &owner, &posting, "After").await;
    let got = ws.next("p", Duration::from_secs(3)).await.expect("the change arrives");
    let took = started.elapsed();
    assert_eq!(
        got["data"]["postingChanged"],
        json!({ "type": "posting.updated", "posting": { "title": "After", "status": "PUBLISHED" } })
    );
    assert!(took < Duration::from_secs(1), "took {took:?}");
    ws.send(json!({ "id": "p", "type": "complete" })).await;
    update_title(&first, &owner, &posting, "Unheard").await;
    assert_eq!(ws.next("p", Duration::from_millis(800)).await, None, "complete stops the subscription");
}

#[tokio::test]
async fn anonymous_subscribers_never_see_a_posting_that_is_not_published() {
    let app = spawn_app().await;
    let owner = app.register("owner").await;
    let company = app.create_company(&owner, "Careful").await;
    let draft = app.create_posting(&owner, complete_posting(&company, "Draft")).await;
    let mut ws = connect(&app).await;
    ws.init(None).await;
    ws.subscribe("d", POSTING_CHANGED, json!({ "id": draft })).await;
    match ws.recv(Duration::from_secs(2)).await {
        Got::Text(v) => {
            assert_eq!(v["type"], "error", "{v}");
            assert_eq!(v["payload"][0]["extensions"]["code"], "NOT_FOUND", "{v}");
        }
        other => panic!("{other:?}"),
    }
    let posting = app.published_posting(&owner, &company, "Public").await;
    ws.subscribe("p", POSTING_CHANGED, json!({ "id": posting })).await;
    tokio::time::sleep(Duration::from_millis(200)).await;
    app.transition(&owner, "pausePosting", &posting).await;
    update_title(&app, &owner, &posting, "Paused and renamed").await;
    assert_eq!(ws.next("p", Duration::from_millis(1500)).await, None, "a paused posting is not public");
    app.publish(&owner, &posting).await;
    let got = ws.next("p", Duration::from_secs(3)).await.expect("published again");
    assert_eq!(got["data"]["postingChanged"]["type"], "posting.published");
    assert_eq!(got["data"]["postingChanged"]["posting"]["title"], "Paused and renamed");
}

#[tokio::test]
async fn a_member_removed_mid_stream_stops_receiving_and_a_candidate_sees_moves_not_notes() {
    let app = spawn_app().await;
    let owner = app.register("owner").await;
    let company = app.create_company(&owner, "Pipeline").await;
    let posting = app.published_posting(&owner, &company, "Pipeline Engineer").await;
    let recruiter = app.register("recruiter").await;
    app.add_member(&owner, &company, &recruiter, "RECRUITER").await;
    let ada = candidate(&app, "ada").await;

    let mut team = connect(&app).await;
    team.init(Some(&recruiter.access)).await;
    team.subscribe("t", APPLICATION_CHANGED, json!({ "c": company })).await;
    let mut mine = connect(&app).await;
    mine.init(Some(&ada.access)).await;
    mine.subscribe("m", MINE, json!({})).await;
    tokio::time::sleep(Duration::from_millis(300)).await;

    let application = app.apply(&ada, &posting).await;
    let got = team.next("t", Duration::from_secs(3)).await.expect("the team sees the application");
    assert_eq!(got["data"]["applicationChanged"]["type"], "application.created");
    let got = mine.next("m", Duration::from_secs(3)).await.expect("the candidate sees it too");
    assert_eq!(got["data"]["myApplicationChanged"]["application"]["status"], "APPLIED");

    app.ok(
        "mutation($i: AddApplicationNoteInput!) { addApplicationNote(input: $i) { note { body } } }",
        json!({ "i": { "applicationId": application, "body": "private" } }),
        Some(&owner.access),
    )
    .await;
    assert_eq!(mine.next("m", Duration::from_millis(1000)).await, None, "a note never reaches the candidate");

    app.ok(
        "mutation($i: RemoveCompanyMemberInput!) { removeCompanyMember(input: $i) { removedUserId } }",
        json!({ "i": { "companyId": company, "userId": recruiter.user_id } }),
        Some(&owner.access),
    )
    .await;
    app.ok(
        "mutation($i: MoveApplicationInput!) { moveApplication(input: $i) { application { status } } }",
        json!({ "i": { "id": application, "to": "SCREENING" } }),
        Some(&owner.access),
    )
    .await;
    let got = mine.next("m", Duration::from_secs(3)).await.expect("the candidate sees the move");
    assert_eq!(
        got["data"]["myApplicationChanged"],
        json!({ "type": "application.moved", "application": { "status": "SCREENING" } })
    );
    assert_eq!(team.next("t", Duration::from_millis(1000)).await, None, "a removed member hears nothing more");

    let bob = candidate(&app, "bob").await;
    app.apply(&bob, &posting).await;
    assert_eq!(mine.next("m", Duration::from_millis(800)).await, None, "another candidate's application is not ada's");

    // Only members follow a company's applications.
    let mut stranger = connect(&app).await;
    stranger.init(Some(&bob.access)).await;
    stranger.subscribe("s", APPLICATION_CHANGED, json!({ "c": company })).await;
    match stranger.recv(Duration::from_secs(2)).await {
        Got::Text(v) => assert_eq!(v["payload"][0]["extensions"]["code"], "FORBIDDEN", "{v}"),
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn a_connection_closes_with_4401_when_its_token_expires() {
    let app = spawn_app().await;
    let who = app.register("short-lived").await;
    let id = app.app.jwt.verify(&who.access).unwrap();
    let now = chrono::Utc::now().timestamp();
    let claims = json!({ "sub": id.to_string(), "role": "MEMBER", "iss": "hiregraph", "aud": "hiregraph-api",
        "iat": now, "nbf": now, "exp": now + 2 });
    let token = jsonwebtoken::encode(
        &jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS256),
        &claims,
        &jsonwebtoken::EncodingKey::from_secret(JWT_SECRET.as_bytes()),
    )
    .unwrap();
    let mut ws = connect(&app).await;
    ws.init(Some(&token)).await;
    match ws.recv(Duration::from_secs(6)).await {
        Got::Close(4401, reason) => assert!(reason.contains("expired"), "{reason}"),
        other => panic!("expected 4401, got {other:?}"),
    }

    // A fresh token sent in a ping keeps the connection open past the first one's expiry.
    let claims = json!({ "sub": id.to_string(), "role": "MEMBER", "iss": "hiregraph", "aud": "hiregraph-api",
        "iat": now, "nbf": now, "exp": chrono::Utc::now().timestamp() + 2 });
    let short = jsonwebtoken::encode(
        &jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS256),
        &claims,
        &jsonwebtoken::EncodingKey::from_secret(JWT_SECRET.as_bytes()),
    )
    .unwrap();
    let mut ws = connect(&app).await;
    ws.init(Some(&short)).await;
    ws.send(json!({ "type": "ping", "payload": { "authorization": format!("Bearer {}", who.access) } })).await;
    assert!(matches!(ws.recv(Duration::from_secs(2)).await, Got::Text(v) if v["type"] == "pong"));
    assert_eq!(ws.recv(Duration::from_secs(4)).await, Got::Nothing, "still open after the first token expired");
}

/// The npm `graphql-ws` client (tests/clients/graphql-ws, installed here from its lock file when
/// missing) subscribes with the machine's Node, receives an event and completes.
#[tokio::test]
async fn the_npm_graphql_ws_client_subscribes_receives_an_event_and_completes() {
    let dir = std::path::Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/clients/graphql-ws"));
    if !dir.join("node_modules/graphql-ws").exists() {
        let status = std::process::Command::new("npm")
            .args(["ci", "--no-audit", "--no-fund", "--loglevel=error"])
            .current_dir(dir)
            .status()
            .expect("npm (Node.js) is needed for this test: apt-get install nodejs npm");
        assert!(status.success(), "npm ci in {} failed", dir.display());
    }
    let app = spawn_app().await;
    let owner = app.register("owner").await;
    let company = app.create_company(&owner, "Npm").await;
    let posting = app.published_posting(&owner, &company, "Watched").await;
    let url = app.address.replacen("http://", "ws://", 1) + "/graphql";
    let mut child = tokio::process::Command::new("node")
        .arg("subscribe.mjs")
        .arg(&url)
        .arg(&posting)
        .current_dir(dir)
        .stdout(std::process::Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("node (Node.js) is needed for this test");
    let stdout = child.stdout.take().unwrap();
    let mut lines = tokio::io::AsyncBufReadExt::lines(tokio::io::BufReader::new(stdout));
    let ready = tokio::time::timeout(Duration::from_secs(20), lines.next_line()).await.unwrap().unwrap();
    assert_eq!(ready.as_deref(), Some("ready"));
    // Change the posting until the client has its event (its subscribe may land a moment after
    // the connection's ack).
    let mut n = 0;
    let event = loop {
        n += 1;
        update_title(&app, &owner, &posting, &format!("Watched {n}")).await;
        match tokio::time::timeout(Duration::from_millis(700), lines.next_line()).await {
            Ok(line) => break line.unwrap().expect("the client printed its event"),
            Err(_) if n < 20 => continue,
            Err(_) => panic!("the npm client received nothing"),
        }
    };
    let event: Value = serde_json::from_str(&event).unwrap();
    assert_eq!(event["data"]["postingChanged"]["type"], "posting.updated", "{event}");
    let status = tokio::time::timeout(Duration::from_secs(10), child.wait()).await.unwrap().unwrap();
    assert!(status.success(), "the client completed and exited: {status}");
}

#[tokio::test]
async fn a_live_job_alert_delivers_new_postings_that_match_its_filter() {
    let app = spawn_app().await;
    let owner = app.register("owner").await;
    let company = app.create_company(&owner, "Alerting").await;
    let mut ws = connect(&app).await;
    ws.init(None).await;
    ws.subscribe(
        "alert",
        "subscription($f: PostingFilter) { postingPublished(filter: $f) { title workplace } }",
        json!({ "f": { "query": "rust engineer", "workplaces": ["REMOTE"], "skills": ["Rust"] } }),
    )
    .await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    // Onsite: the filter wants remote.
    let mut onsite = complete_posting(&company, "Rust Engineer in the office");
    onsite["workplace"] = json!("ONSITE");
    onsite["locations"] = json!([{ "city": "Berlin", "country": "DE", "remote": false }]);
    let id = app.create_posting(&owner, onsite).await;
    app.publish(&owner, &id).await;
    // Remote, but neither the words nor the skill match.
    let mut kotlin = complete_posting(&company, "Kotlin Developer");
    kotlin["summary"] = json!("Build Android apps.");
    kotlin["description"] =
        json!("You will build Android applications in Kotlin with a small, friendly team of mobile people.");
    kotlin["skills"] = json!([{ "name": "Kotlin", "required": true }]);
    let id = app.create_posting(&owner, kotlin).await;
    app.publish(&owner, &id).await;
    // A draft is never announced.
    app.create_posting(&owner, complete_posting(&company, "Rust Engineer draft")).await;
    app.published_posting(&owner, &company, "Senior Rust Engineer").await;
    let got = ws.next("alert", Duration::from_secs(3)).await.expect("the matching posting");
    assert_eq!(got["data"]["postingPublished"], json!({ "title": "Senior Rust Engineer", "workplace": "REMOTE" }));
    assert_eq!(ws.next("alert", Duration::from_millis(800)).await, None, "nothing else matched");

    let mut bad = connect(&app).await;
    bad.init(None).await;
    bad.subscribe("b", "subscription { postingPublished(filter: { skills: [\"\"], minSalary: { amount: -1, currency: \"EUR\" } }) { title } }", json!({})).await;
    match bad.recv(Duration::from_secs(2)).await {
        Got::Text(v) => assert_eq!(v["payload"][0]["extensions"]["code"], "BAD_USER_INPUT", "{v}"),
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn an_account_holds_at_most_its_connections_and_a_closed_one_frees_its_place() {
    let app = spawn_app_with(&[("HIREGRAPH_WS_MAX_CONNECTIONS", "2")]).await;
    let who = app.register("busy").await;
    let mut first = connect(&app).await;
    first.init(Some(&who.access)).await;
    let mut second = connect(&app).await;
    second.init(Some(&who.access)).await;
    let mut third = connect(&app).await;
    third
        .send(json!({ "type": "connection_init", "payload": { "authorization": format!("Bearer {}", who.access) } }))
        .await;
    match third.recv(Duration::from_secs(2)).await {
        Got::Close(4430, reason) => assert!(reason.contains("HIREGRAPH_WS_MAX_CONNECTIONS"), "{reason}"),
        other => panic!("expected 4430, got {other:?}"),
    }
    // Anonymous connections are not the account's.
    let mut anonymous = connect(&app).await;
    anonymous.init(None).await;
    first.0.close(None).await.unwrap();
    let mut again = None;
    for _ in 0..40 {
        tokio::time::sleep(Duration::from_millis(50)).await;
        let mut ws = connect(&app).await;
        ws.send(json!({ "type": "connection_init", "payload": { "authorization": format!("Bearer {}", who.access) } }))
            .await;
        if let Got::Text(v) = ws.recv(Duration::from_secs(2)).await {
            assert_eq!(v["type"], "connection_ack");
            again = Some(ws);
            break;
        }
    }
    assert!(again.is_some(), "a closed connection gives its place back");
    drop(second);
}

#[tokio::test]
async fn between_replicas_events_travel_through_redis_not_by_polling() {
    let own = if redis_url().is_none() { OwnRedis::start() } else { None };
    let Some(redis) = redis_url().or_else(|| own.as_ref().map(OwnRedis::url)) else { return };
    // Polls five seconds apart cannot deliver within one: only the bus can.
    let first = spawn_app_with(&[("REDIS_URL", &redis), ("HIREGRAPH_WORKER_POLL_MS", "5000")]).await;
    let second = spawn_replica(&first).await;
    let owner = first.register("owner").await;
    let company = first.create_company(&owner, "Fanned").await;
    let posting = first.published_posting(&owner, &company, "Before").await;
    let mut ws = connect(&second).await;
    ws.init(None).await;
    ws.subscribe("p", POSTING_CHANGED, json!({ "id": posting })).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    for title in ["One", "Two", "Three"] {
        let started = std::time::Instant::now();
        update_title(&first, &owner, &posting, title).await;
        let got = ws.next("p", Duration::from_secs(3)).await.expect("the change arrives");
        assert_eq!(got["data"]["postingChanged"]["posting"]["title"], title);
        let took = started.elapsed();
        assert!(took < Duration::from_secs(1), "took {took:?}");
    }
    assert_eq!(ws.next("p", Duration::from_millis(500)).await, None, "each event once");
}

#[tokio::test]
async fn a_replica_that_loses_redis_keeps_its_subscribers_and_misses_nothing() {
    let Some(mut redis) = OwnRedis::start() else { return };
    let first = spawn_app_with(&[("REDIS_URL", &redis.url()), ("HIREGRAPH_WORKER_POLL_MS", "200")]).await;
    let second = spawn_replica(&first).await;
    let owner = first.register("owner").await;
    let company = first.create_company(&owner, "Unplugged").await;
    let posting = first.published_posting(&owner, &company, "Before").await;
    let mut ws = connect(&second).await;
    ws.init(None).await;
    ws.subscribe("p", POSTING_CHANGED, json!({ "id": posting })).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    let mut heard = Vec::new();
    let mut expect = |ws_title: Option<Value>, title: &str| {
        let got = ws_title.unwrap_or_else(|| panic!("the change to {title} arrives"));
        heard.push(got["data"]["postingChanged"]["posting"]["title"].as_str().unwrap().to_owned());
    };

    update_title(&first, &owner, &posting, "Bus").await;
    expect(ws.next("p", Duration::from_secs(3)).await, "Bus");
    redis.kill();
    update_title(&first, &owner, &posting, "Polled").await;
    expect(ws.next("p", Duration::from_secs(5)).await, "Polled");
    update_title(&first, &owner, &posting, "Polled again").await;
    expect(ws.next("p", Duration::from_secs(5)).await, "Polled again");
    assert!(redis.restart(), "redis comes back");
    tokio::time::sleep(Duration::from_millis(2500)).await;
    update_title(&first, &owner, &posting, "Bus again").await;
    expect(ws.next("p", Duration::from_secs(5)).await, "Bus again");
    assert_eq!(ws.next("p", Duration::from_millis(1000)).await, None, "nothing twice");
    assert_eq!(heard, ["Bus", "Polled", "Polled again", "Bus again"]);
}

/// Resident memory of this process, where the servers under test run.
fn rss_bytes() -> u64 {
    let statm = std::fs::read_to_string("/proc/self/statm").unwrap_or_default();
    statm.split_whitespace().nth(1).and_then(|p| p.parse::<u64>().ok()).unwrap_or(0) * 4096
}

#[tokio::test]
async fn a_client_that_stops_reading_is_cut_off_and_the_server_does_not_grow() {
    let app = spawn_app_with(&[("HIREGRAPH_WS_BUFFER", "8"), ("HIREGRAPH_WORKER_POLL_MS", "100")]).await;
    let owner = app.register("owner").await;
    let company = app.create_company(&owner, "Flooded").await;
    let posting = app.published_posting(&owner, &company, "Heavy").await;
    // 50,000 characters in every message, twenty subscriptions: a megabyte per change.
    let data =
        app.ok("query($id: ID!) { posting(id: $id) { version } }", json!({ "id": posting }), Some(&owner.access)).await;
    app.ok(
        "mutation($i: UpdatePostingInput!) { updatePosting(input: $i) { posting { version } } }",
        json!({ "i": { "id": posting, "expectedVersion": data["posting"]["version"], "description": "x".repeat(50_000) } }),
        Some(&owner.access),
    )
    .await;
    let mut ws = connect(&app).await;
    ws.init(None).await;
    for i in 0..20 {
        ws.subscribe(
            &format!("s{i}"),
            "subscription($id: ID!) { postingChanged(id: $id) { posting { description } } }",
            json!({ "id": posting }),
        )
        .await;
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(app.app.live.listeners(), 20);
    let before = rss_bytes();
    // The client reads nothing from here on, while 150 changes (150 MB to send) commit.
    for i in 0..150 {
        update_title(&app, &owner, &posting, &format!("Change {i}")).await;
        if app.app.live.listeners() == 0 {
            break;
        }
    }
    let mut cut_off = false;
    for _ in 0..100 {
        if app.app.live.listeners() == 0 {
            cut_off = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let grown = rss_bytes().saturating_sub(before);
    eprintln!("slow client: the test process grew by {} KiB while it was flooded", grown >> 10);
    assert!(cut_off, "the server ends the subscriptions of a client that stopped reading");
    assert!(grown < 40 << 20, "the server grew by {} MiB", grown >> 20);
    // What the client finds when it reads again: what fitted, then the close.
    loop {
        match ws.recv(Duration::from_secs(5)).await {
            Got::Text(_) => continue,
            Got::Close(code, reason) => {
                assert_eq!(code, 4420, "{reason}");
                break;
            }
            Got::Nothing => panic!("the connection was not closed"),
        }
    }
}

#[tokio::test]
async fn an_accounts_connection_limit_holds_across_replicas() {
    let own = if redis_url().is_none() { OwnRedis::start() } else { None };
    let Some(redis) = redis_url().or_else(|| own.as_ref().map(OwnRedis::url)) else { return };
    let first = spawn_app_with(&[("REDIS_URL", &redis), ("HIREGRAPH_WS_MAX_CONNECTIONS", "2")]).await;
    let second = spawn_replica(&first).await;
    let who = first.register("everywhere").await;
    let init = json!({ "type": "connection_init", "payload": { "authorization": format!("Bearer {}", who.access) } });
    let mut on_first = connect(&first).await;
    on_first.init(Some(&who.access)).await;
    let mut on_second = connect(&second).await;
    on_second.init(Some(&who.access)).await;
    // Each replica holds one: alone, either would take a second.
    for app in [&first, &second] {
        let mut one_more = connect(app).await;
        one_more.send(init.clone()).await;
        match one_more.recv(Duration::from_secs(2)).await {
            Got::Close(4430, _) => {}
            other => panic!("expected 4430 across replicas, got {other:?}"),
        }
    }
    on_second.0.close(None).await.unwrap();
    let mut again = None;
    for _ in 0..40 {
        tokio::time::sleep(Duration::from_millis(50)).await;
        let mut ws = connect(&first).await;
        ws.send(init.clone()).await;
        if let Got::Text(v) = ws.recv(Duration::from_secs(2)).await {
            assert_eq!(v["type"], "connection_ack");
            again = Some(ws);
            break;
        }
    }
    assert!(again.is_some(), "a connection closed on one replica frees its place on the others");
    drop(on_first);
}

#[tokio::test]
async fn a_partner_follows_its_companys_applications_only_with_applications_read_and_a_revoked_key_is_cut_off() {
    let app = crate::helpers::spawn_app_with(&[("HIREGRAPH_WS_KEEPALIVE_SECS", "1")]).await;
    let owner = app.register("owner").await;
    let company = app.create_company(&owner, "Synced").await;
    let posting = app.published_posting(&owner, &company, "Synced Engineer").await;
    let reader = app.create_partner_app(&owner, &company, &["APPLICATIONS_READ".into()]).await;
    let reader_key = app.create_api_key(&owner, &reader.id).await;
    let reader_token = app.partner_token(&reader, None).await;
    let events_only = app.create_partner_app(&owner, &company, &["EVENTS_READ".into()]).await;
    let events_key = app.create_api_key(&owner, &events_only.id).await;

    let mut by_key = connect(&app).await;
    by_key.init(Some(&reader_key)).await;
    by_key.subscribe("k", APPLICATION_CHANGED, json!({ "c": company })).await;
    let mut by_token = connect(&app).await;
    by_token.init(Some(&reader_token)).await;
    by_token.subscribe("t", APPLICATION_CHANGED, json!({ "c": company })).await;
    let mut unscoped = connect(&app).await;
    unscoped.init(Some(&events_key)).await;
    unscoped.subscribe("u", APPLICATION_CHANGED, json!({ "c": company })).await;
    match unscoped.recv(Duration::from_secs(2)).await {
        Got::Text(v) => assert_eq!(v["payload"][0]["extensions"]["code"], "FORBIDDEN", "{v}"),
        other => panic!("{other:?}"),
    }
    tokio::time::sleep(Duration::from_millis(300)).await;

    let ada = candidate(&app, "ada").await;
    app.apply(&ada, &posting).await;
    for (ws, id) in [(&mut by_key, "k"), (&mut by_token, "t")] {
        let got = ws.next(id, Duration::from_secs(3)).await.expect("the partner sees the application");
        assert_eq!(got["data"]["applicationChanged"]["type"], "application.created");
    }

    // A bad key is refused at connection_init.
    let mut bad = connect(&app).await;
    bad.send(json!({ "type": "connection_init", "payload": { "authorization": "Bearer hg_dev_nope_000000" } })).await;
    assert!(matches!(bad.recv(Duration::from_secs(2)).await, Got::Close(4403, _)));

    // Revoking the key ends its connection at the next keepalive.
    let keys = app
        .ok(
            "query($c: ID!) { node(id: $c) { ... on Company { partnerApps { id apiKeys { id } } } } }",
            json!({ "c": company }),
            Some(&owner.access),
        )
        .await;
    let key_id = keys["node"]["partnerApps"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["id"] == reader.id.as_str())
        .and_then(|a| a["apiKeys"][0]["id"].as_str())
        .unwrap()
        .to_owned();
    app.ok(
        "mutation($i: RevokeApiKeyInput!) { revokeApiKey(input: $i) { apiKey { revokedAt } } }",
        json!({ "i": { "apiKeyId": key_id } }),
        Some(&owner.access),
    )
    .await;
    match by_key.recv(Duration::from_secs(4)).await {
        Got::Close(4403, reason) => assert!(reason.contains("revoked"), "{reason}"),
        other => panic!("expected 4403 after the revocation, got {other:?}"),
    }
}

/// The live tail pings its subscribed Redis connection when no event came for a while; a
/// subscribed connection answers `["pong", ""]`, which once read as a failure, so every replica
/// dropped and re-subscribed the bus every 10 seconds.
#[tokio::test]
async fn a_subscribed_bus_connection_answers_its_ping_until_redis_goes() {
    use hiregraph_persistence::bus::Bus;
    let Some(mut redis) = crate::helpers::OwnRedis::start() else { return };
    let bus = Bus::redis(&redis.url(), "ping-test").unwrap();
    let mut listener = bus.listen().await.unwrap();
    for _ in 0..3 {
        assert!(listener.alive().await, "a live Redis answers the ping");
    }
    redis.kill();
    assert!(!listener.alive().await, "a killed Redis does not");
}

#[tokio::test]
async fn a_subscription_takes_its_cost_from_the_budget_as_it_starts_and_is_refused_over_budget() {
    let app = spawn_app_with(&[
        ("HIREGRAPH_MAX_COMPLEXITY", "120"),
        ("HIREGRAPH_COST_USER_PER_MINUTE", "120"),
        ("HIREGRAPH_WS_MAX_SUBSCRIPTIONS", "500"),
    ])
    .await;
    let owner = app.register("owner").await;
    let company = app.create_company(&owner, "Metered").await;
    let posting = app.published_posting(&owner, &company, "Watched").await;
    let watcher = candidate(&app, "watcher").await;
    let mut ws = connect(&app).await;
    ws.init(Some(&watcher.access)).await;
    let mut accepted = 0;
    let refusal = loop {
        assert!(accepted < 200, "200 subscriptions of a few points each never ran out of a 120-point budget");
        ws.subscribe(&format!("s{accepted}"), POSTING_CHANGED, json!({ "id": posting })).await;
        match ws.recv(Duration::from_millis(150)).await {
            Got::Nothing => accepted += 1,
            Got::Text(v) if v["type"] == "error" => break v,
            other => panic!("{other:?}"),
        }
    };
    assert!(accepted >= 10, "a few-point subscription fits a 120-point budget many times: {accepted}");
    assert_eq!(refusal["id"], format!("s{accepted}"), "{refusal}");
    assert_eq!(refusal["payload"][0]["extensions"]["code"], "RATE_LIMITED", "{refusal}");
    assert!(refusal["payload"][0]["extensions"]["retryAfter"].as_u64().is_some_and(|s| s >= 1), "{refusal}");
    // The subscriptions taken before still deliver.
    update_title(&app, &owner, &posting, "Watched, renamed").await;
    let mut delivered = std::collections::HashSet::new();
    while delivered.len() < accepted {
        match ws.recv(Duration::from_secs(3)).await {
            Got::Text(v) if v["type"] == "next" => {
                assert_eq!(v["payload"]["data"]["postingChanged"]["posting"]["title"], "Watched, renamed", "{v}");
                delivered.insert(v["id"].as_str().unwrap().to_owned());
            }
            other => panic!("every accepted subscription delivers, {} did: {other:?}", delivered.len()),
        }
    }
}
