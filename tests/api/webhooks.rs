//! Webhooks against a receiver the test runs: signatures checked with the Standard Webhooks
//! algorithm written out here, retries after 500s, order per object, secret rotation, redelivery,
//! exhaustion and auto-disable, SSRF refusals, and a replica killed mid-delivery.

use std::collections::{BTreeSet, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use hmac::{Hmac, Mac};
use serde_json::{Value, json};
use sha2::Sha256;

use crate::helpers::{Session, TestApp, error_code, spawn_app_with, spawn_replica};

const CREATE: &str = "mutation($i: CreateWebhookEndpointInput!) {
  createWebhookEndpoint(input: $i) { secret endpoint { id url eventTypes enabled } }
}";
const ENDPOINTS: &str = "query($slug: String!, $status: WebhookDeliveryStatus) {
  company(slug: $slug) { webhookEndpoints { id enabled disabledReason failingSince
    deliveries(first: 50, status: $status) { edges { node {
      id eventId eventType status attempts nextAttemptAt responseStatus latencyMs responseExcerpt error deliveredAt
    } } } } }
}";

/// Fast retries and polling, and private targets allowed: the receiver is on 127.0.0.1.
const FAST: &[(&str, &str)] = &[
    ("HIREGRAPH_WEBHOOK_ALLOW_PRIVATE", "true"),
    ("HIREGRAPH_WEBHOOK_RETRY_SECS", "1,1"),
    ("HIREGRAPH_WORKER_POLL_MS", "50"),
    ("HIREGRAPH_WEBHOOK_TIMEOUT_MS", "2000"),
];

#[derive(Debug, Clone)]
struct Received {
    id: String,
    timestamp: String,
    signature: String,
    body: Vec<u8>,
    json: Value,
}

#[derive(Default)]
struct Shared {
    received: Mutex<Vec<Received>>,
    /// Statuses to answer, in turn; 200 once used up.
    script: Mutex<VecDeque<u16>>,
    /// Answer every request with this status instead (when set).
    always: Mutex<Option<u16>>,
    delay: Mutex<Duration>,
    /// Requests that reached the receiver, answered or not yet.
    arrived: std::sync::atomic::AtomicUsize,
}

/// An HTTP receiver on a free port that records every POST and answers as scripted.
struct Receiver {
    port: u16,
    shared: Arc<Shared>,
    handle: actix_web::dev::ServerHandle,
}

impl Receiver {
    async fn start() -> Self {
        use actix_web::{App, HttpRequest, HttpResponse, HttpServer, web};
        let shared = Arc::new(Shared::default());
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let data = web::Data::from(shared.clone());
        let server = HttpServer::new(move || {
            App::new().app_data(data.clone()).default_service(web::to(
                |req: HttpRequest, body: web::Bytes, shared: web::Data<Shared>| async move {
                    let header = |name: &str| {
                        req.headers().get(name).and_then(|v| v.to_str().ok()).unwrap_or_default().to_owned()
                    };
                    let received = Received {
                        id: header("webhook-id"),
                        timestamp: header("webhook-timestamp"),
                        signature: header("webhook-signature"),
                        json: serde_json::from_slice(&body).unwrap_or(Value::Null),
                        body: body.to_vec(),
                    };
                    shared.arrived.fetch_add(1, std::sync::atomic::Ordering::AcqRel);
                    let delay = *shared.delay.lock().unwrap();
                    if !delay.is_zero() {
                        tokio::time::sleep(delay).await;
                    }
                    shared.received.lock().unwrap().push(received);
                    let status = match *shared.always.lock().unwrap() {
                        Some(status) => status,
                        None => shared.script.lock().unwrap().pop_front().unwrap_or(200),
                    };
                    HttpResponse::build(actix_web::http::StatusCode::from_u16(status).unwrap())
                        .body(format!("answered {status}"))
                },
            ))
        })
        .workers(1)
        .listen(listener)
        .unwrap()
        .run();
        let handle = server.handle();
        tokio::spawn(server);
        Self { port, shared, handle }
    }

    fn url(&self) -> String {
        format!("http://127.0.0.1:{}/hooks", self.port)
    }

    fn received(&self) -> Vec<Received> {
        self.shared.received.lock().unwrap().clone()
    }

    /// Waits (up to 30 s) until `enough` holds of what was received.
    async fn wait_for(&self, what: &str, enough: impl Fn(&[Received]) -> bool) -> Vec<Received> {
        for _ in 0..600 {
            let received = self.received();
            if enough(&received) {
                return received;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("the receiver never got {what}: {:#?}", self.received());
    }
}

impl Drop for Receiver {
    fn drop(&mut self) {
        drop(self.handle.stop(false));
    }
}

/// The Standard Webhooks check, written from the spec: HMAC-SHA256 keyed with the base64 after
/// `whsec_`, over `id.timestamp.body`, base64, compared with each `v1,` entry.
fn verifies(secret: &str, r: &Received) -> bool {
    let key = STANDARD.decode(secret.strip_prefix("whsec_").expect("whsec_ prefix")).expect("base64 secret");
    let mut mac = Hmac::<Sha256>::new_from_slice(&key).unwrap();
    mac.update(format!("{}.{}.", r.id, r.timestamp).as_bytes());
    mac.update(&r.body);
    let expected = STANDARD.encode(mac.finalize().into_bytes());
    let fresh = r.timestamp.parse::<i64>().is_ok_and(|t| (chrono::Utc::now().timestamp() - t).abs() < 300);
    fresh && r.signature.split(' ').any(|entry| entry.strip_prefix("v1,") == Some(expected.as_str()))
}

async fn slug_of(app: &TestApp, company: &str, token: &str) -> String {
    let data = app
        .ok("query($id: ID!) { node(id: $id) { ... on Company { slug } } }", json!({ "id": company }), Some(token))
        .await;
    data["node"]["slug"].as_str().unwrap().to_owned()
}

async fn create_endpoint(app: &TestApp, owner: &Session, company: &str, url: &str, types: Value) -> (String, String) {
    let data = app
        .ok(CREATE, json!({ "i": { "companyId": company, "url": url, "eventTypes": types } }), Some(&owner.access))
        .await;
    let created = &data["createWebhookEndpoint"];
    assert!(created["secret"].as_str().unwrap().starts_with("whsec_"), "{created}");
    (created["endpoint"]["id"].as_str().unwrap().to_owned(), created["secret"].as_str().unwrap().to_owned())
}

async fn endpoints(app: &TestApp, slug: &str, token: &str, status: Option<&str>) -> Vec<Value> {
    let data = app.ok(ENDPOINTS, json!({ "slug": slug, "status": status }), Some(token)).await;
    data["company"]["webhookEndpoints"].as_array().unwrap().clone()
}

fn deliveries(endpoint: &Value) -> Vec<Value> {
    endpoint["deliveries"]["edges"].as_array().unwrap().iter().map(|e| e["node"].clone()).collect()
}

async fn candidate(app: &TestApp, who: &str) -> Session {
    let session = app.register(who).await;
    app.upsert_profile(&session, json!({ "displayName": who, "visibility": "PUBLIC" })).await;
    session
}

async fn move_to(app: &TestApp, token: &Session, application: &str, to: &str) {
    app.ok(
        "mutation($i: MoveApplicationInput!) { moveApplication(input: $i) { application { status } } }",
        json!({ "i": { "id": application, "to": to } }),
        Some(&token.access),
    )
    .await;
}

#[tokio::test]
async fn a_receiver_verifies_each_event_sees_the_retry_after_a_500_and_gets_one_objects_events_in_order() {
    let app = spawn_app_with(FAST).await;
    let receiver = Receiver::start().await;
    let owner = app.register("owner").await;
    let company = app.create_company(&owner, "Hooked").await;
    let posting = app.published_posting(&owner, &company, "Hooked Engineer").await;
    let (_, secret) =
        create_endpoint(&app, &owner, &company, &receiver.url(), json!(["application.created", "application.moved"]))
            .await;
    receiver.shared.script.lock().unwrap().push_back(500);
    let ada = candidate(&app, "ada").await;
    let application = app.apply(&ada, &posting).await;
    move_to(&app, &owner, &application, "SCREENING").await;
    move_to(&app, &owner, &application, "INTERVIEW").await;
    app.transition(&owner, "closePosting", &posting).await; // not subscribed

    let got = receiver.wait_for("four requests", |r| r.len() >= 4).await;
    assert!(got.iter().all(|r| verifies(&secret, r)), "a signature did not verify: {got:#?}");
    let types: Vec<&str> = got.iter().map(|r| r.json["type"].as_str().unwrap()).collect();
    assert_eq!(types, ["application.created", "application.created", "application.moved", "application.moved"]);
    assert_eq!(got[0].id, got[1].id, "a retry carries the same webhook-id");
    assert_eq!(got[0].json["id"], got[0].id.as_str(), "the body names the event it carries");
    let statuses: Vec<&str> =
        got[2..].iter().map(|r| r.json["data"]["application"]["status"].as_str().unwrap()).collect();
    assert_eq!(statuses, ["SCREENING", "INTERVIEW"], "one object's events arrive in order");
    assert_eq!(got[2].json["data"]["previousStatus"], "APPLIED");
    assert_eq!(got[0].json["companyId"], company.as_str());

    let slug = slug_of(&app, &company, &owner.access).await;
    let list = endpoints(&app, &slug, &owner.access, None).await;
    let list = deliveries(&list[0]);
    assert_eq!(list.len(), 3, "{list:#?}");
    assert!(list.iter().all(|d| d["status"] == "SUCCEEDED" && d["responseStatus"] == 200), "{list:#?}");
    let created = list.iter().find(|d| d["eventType"] == "application.created").unwrap();
    assert_eq!(created["attempts"], 2);
    assert_eq!(created["nextAttemptAt"], Value::Null);
    assert_eq!(created["responseExcerpt"], "answered 200");
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(receiver.received().len(), 4, "nothing else was delivered");
    let metrics = app.client.get(format!("{}/metrics", app.address)).send().await.unwrap().text().await.unwrap();
    assert!(metrics.contains("hiregraph_webhook_attempts_total{outcome=\"retrying\"} 1"), "{metrics}");
    assert!(metrics.contains("hiregraph_webhook_attempts_total{outcome=\"succeeded\"} 3"), "{metrics}");
}

#[tokio::test]
async fn a_rotated_secret_signs_alongside_the_new_one_and_a_delivery_can_be_sent_again() {
    let app = spawn_app_with(FAST).await;
    let receiver = Receiver::start().await;
    let owner = app.register("owner").await;
    let company = app.create_company(&owner, "Rotating").await;
    let (endpoint, old) = create_endpoint(&app, &owner, &company, &receiver.url(), json!(["posting.created"])).await;
    app.create_posting(&owner, crate::helpers::complete_posting(&company, "First")).await;
    let first = receiver.wait_for("the first event", |r| r.len() == 1).await;
    assert!(verifies(&old, &first[0]));

    let data = app
        .ok(
            "mutation($i: WebhookEndpointInput!) { rotateWebhookSecret(input: $i) { secret endpoint { id } } }",
            json!({ "i": { "id": endpoint } }),
            Some(&owner.access),
        )
        .await;
    let new = data["rotateWebhookSecret"]["secret"].as_str().unwrap().to_owned();
    assert_ne!(new, old);
    app.create_posting(&owner, crate::helpers::complete_posting(&company, "Second")).await;
    let got = receiver.wait_for("the second event", |r| r.len() == 2).await;
    assert_eq!(got[1].signature.split(' ').count(), 2, "{:?}", got[1].signature);
    assert!(verifies(&new, &got[1]) && verifies(&old, &got[1]), "both secrets sign during the overlap");

    let slug = slug_of(&app, &company, &owner.access).await;
    let list = deliveries(&endpoints(&app, &slug, &owner.access, None).await[0]);
    let oldest = list.last().unwrap();
    let again = app
        .ok(
            "mutation($i: RedeliverWebhookInput!) { redeliverWebhook(input: $i) { delivery { status eventId } } }",
            json!({ "i": { "deliveryId": oldest["id"] } }),
            Some(&owner.access),
        )
        .await;
    assert_eq!(again["redeliverWebhook"]["delivery"]["status"], "PENDING");
    let got = receiver.wait_for("the redelivery", |r| r.len() == 3).await;
    assert_eq!(got[2].id, got[0].id, "a redelivery keeps the event's id");
    assert!(verifies(&new, &got[2]));

    let test = app
        .ok(
            "mutation($i: WebhookEndpointInput!) { sendTestWebhook(input: $i) { succeeded responseStatus error } }",
            json!({ "i": { "id": endpoint } }),
            Some(&owner.access),
        )
        .await;
    assert_eq!(test["sendTestWebhook"], json!({ "succeeded": true, "responseStatus": 200, "error": null }));
    let got = receiver.received();
    assert_eq!(got[3].json["type"], "webhook.test");
    assert!(verifies(&new, &got[3]));
}

#[tokio::test]
async fn a_delivery_that_keeps_failing_ends_failed_and_an_endpoint_failing_for_days_is_disabled() {
    let app = spawn_app_with(FAST).await;
    let receiver = Receiver::start().await;
    *receiver.shared.always.lock().unwrap() = Some(503);
    let owner = app.register("owner").await;
    let company = app.create_company(&owner, "Failing").await;
    let (endpoint, _) = create_endpoint(&app, &owner, &company, &receiver.url(), json!([])).await;
    app.create_posting(&owner, crate::helpers::complete_posting(&company, "Doomed")).await;
    receiver.wait_for("three attempts", |r| r.len() >= 3).await;
    let slug = slug_of(&app, &company, &owner.access).await;
    let mut failed = Vec::new();
    for _ in 0..100 {
        failed = deliveries(&endpoints(&app, &slug, &owner.access, Some("FAILED")).await[0]);
        if !failed.is_empty() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(failed.len(), 1, "the schedule (two retries) is used up");
    assert_eq!(failed[0]["attempts"], 3);
    assert_eq!(failed[0]["responseStatus"], 503);
    assert_eq!(failed[0]["nextAttemptAt"], Value::Null);
    assert_eq!(receiver.received().len(), 3);

    // Failing since six days: the next failure disables it, with an event.
    let id = uuid::Uuid::parse_str(
        std::str::from_utf8(&base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(&endpoint).unwrap())
            .unwrap()
            .split_once(':')
            .unwrap()
            .1,
    )
    .unwrap();
    let backend = app.app.db.conn.get_database_backend();
    let six_days_ago = chrono::Utc::now() - chrono::Duration::days(6);
    let placeholder = if backend == hiregraph_persistence::DbBackend::Postgres { ["$1", "$2"] } else { ["?", "?"] };
    hiregraph_persistence::ConnectionTrait::execute_raw(
        &app.app.db.conn,
        hiregraph_persistence::Statement::from_sql_and_values(
            backend,
            format!("UPDATE webhook_endpoints SET failing_since = {} WHERE id = {}", placeholder[0], placeholder[1]),
            [six_days_ago.into(), id.into()],
        ),
    )
    .await
    .unwrap();
    app.create_posting(&owner, crate::helpers::complete_posting(&company, "Last straw")).await;
    let mut endpoint_now = Value::Null;
    for _ in 0..100 {
        endpoint_now = endpoints(&app, &slug, &owner.access, None).await[0].clone();
        if endpoint_now["enabled"] == false {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(endpoint_now["enabled"], false, "{endpoint_now}");
    assert_eq!(endpoint_now["disabledReason"], "every delivery failed for 5 days");
    let events = app
        .ok(
            "{ events(types: [\"webhook_endpoint.disabled\"]) { edges { node { payload } } } }",
            json!({}),
            Some(&owner.access),
        )
        .await;
    assert_eq!(events["events"]["edges"][0]["node"]["payload"]["webhookEndpoint"]["id"], endpoint.as_str());

    // Disabled endpoints get nothing; enabling resumes the pending deliveries.
    let seen = receiver.received().len();
    *receiver.shared.always.lock().unwrap() = None;
    app.create_posting(&owner, crate::helpers::complete_posting(&company, "While disabled")).await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(receiver.received().len(), seen, "a disabled endpoint is not called");
    app.ok(
        "mutation($i: WebhookEndpointInput!) { enableWebhookEndpoint(input: $i) { endpoint { enabled failingSince } } }",
        json!({ "i": { "id": endpoint } }),
        Some(&owner.access),
    )
    .await;
    receiver
        .wait_for("the deliveries held while disabled", |r| {
            r.iter().any(|x| x.json["data"]["posting"]["title"] == "While disabled")
        })
        .await;
    let deleted = app
        .ok(
            "mutation($i: WebhookEndpointInput!) { deleteWebhookEndpoint(input: $i) { deletedId } }",
            json!({ "i": { "id": endpoint } }),
            Some(&owner.access),
        )
        .await;
    assert_eq!(deleted["deleteWebhookEndpoint"]["deletedId"], endpoint.as_str());
    assert!(endpoints(&app, &slug, &owner.access, None).await.is_empty());
}

#[tokio::test]
async fn private_loopback_and_metadata_targets_are_refused_at_creation_and_at_delivery() {
    let app = spawn_app_with(&[("HIREGRAPH_WORKER_POLL_MS", "50")]).await;
    let owner = app.register("owner").await;
    let company = app.create_company(&owner, "Careful").await;
    for (url, says) in [
        ("http://93.184.216.34/hook", "https"),
        ("https://127.0.0.1/hook", "127.0.0.1"),
        ("https://localhost:8443/hook", "loopback"),
        ("https://169.254.169.254/latest/meta-data", "169.254.169.254"),
        ("https://[::1]/hook", "::1"),
        ("https://10.0.0.8/hook", "10.0.0.8"),
        ("https://user:pw@93.184.216.34/hook", "password"),
        ("ftp://93.184.216.34/hook", "https"),
        ("not a url", "absolute URL"),
    ] {
        let body = app.graphql(CREATE, json!({ "i": { "companyId": company, "url": url } }), Some(&owner.access)).await;
        assert_eq!(error_code(&body), Some("BAD_USER_INPUT"), "{url}: {body}");
        let message = body["errors"][0]["message"].as_str().unwrap();
        assert!(message.contains("input.url") && message.contains(says), "{url}: {message}");
    }
    let unknown = app
        .graphql(CREATE, json!({ "i": { "companyId": company, "url": "https://93.184.216.34/", "eventTypes": ["posting.deleted"] } }), Some(&owner.access))
        .await;
    assert_eq!(error_code(&unknown), Some("BAD_USER_INPUT"));
    assert!(unknown["errors"][0]["message"].as_str().unwrap().contains("posting.deleted"));

    // An endpoint whose address turned private (written here as DNS rebinding would make it) is
    // refused when delivering: the receiver hears nothing.
    let receiver = Receiver::start().await;
    let endpoint = hiregraph_domain::webhooks::Endpoint {
        id: uuid::Uuid::now_v7(),
        company_id: hiregraph_domain::CompanyId(
            uuid::Uuid::parse_str(
                std::str::from_utf8(&base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(&company).unwrap())
                    .unwrap()
                    .split_once(':')
                    .unwrap()
                    .1,
            )
            .unwrap(),
        ),
        url: receiver.url(),
        description: None,
        event_types: vec![],
        enabled: true,
        disabled_reason: None,
        failing_since: None,
        created_at: chrono::Utc::now() - chrono::Duration::seconds(1),
        updated_at: chrono::Utc::now(),
    };
    hiregraph_persistence::webhooks::insert_endpoint(
        &endpoint,
        "whsec_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
        &app.app.db.conn,
    )
    .await
    .unwrap();
    app.create_posting(&owner, crate::helpers::complete_posting(&company, "Unreachable")).await;
    let slug = slug_of(&app, &company, &owner.access).await;
    let mut list = Vec::new();
    for _ in 0..100 {
        list = deliveries(&endpoints(&app, &slug, &owner.access, None).await[0]);
        if list.first().is_some_and(|d| d["attempts"] == 1) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(list[0]["attempts"], 1, "{list:#?}");
    assert!(list[0]["error"].as_str().unwrap().contains("loopback"), "{list:#?}");
    assert_eq!(list[0]["responseStatus"], Value::Null);
    assert!(receiver.received().is_empty());
}

#[tokio::test]
async fn only_admins_and_owners_manage_webhooks() {
    let app = spawn_app_with(FAST).await;
    let owner = app.register("owner").await;
    let company = app.create_company(&owner, "Guarded").await;
    let (endpoint, _) = create_endpoint(&app, &owner, &company, "http://127.0.0.1:9/", json!([])).await;
    let recruiter = app.register("recruiter").await;
    app.add_member(&owner, &company, &recruiter, "RECRUITER").await;
    let outsider = app.register("outsider").await;
    let create = json!({ "i": { "companyId": company, "url": "http://127.0.0.1:9/" } });
    assert_eq!(error_code(&app.graphql(CREATE, create.clone(), Some(&recruiter.access)).await), Some("FORBIDDEN"));
    assert_eq!(error_code(&app.graphql(CREATE, create.clone(), Some(&outsider.access)).await), Some("FORBIDDEN"));
    assert_eq!(error_code(&app.graphql(CREATE, create, None).await), Some("UNAUTHENTICATED"));
    let disable = "mutation($i: WebhookEndpointInput!) { disableWebhookEndpoint(input: $i) { endpoint { enabled } } }";
    let id = json!({ "i": { "id": endpoint } });
    assert_eq!(error_code(&app.graphql(disable, id.clone(), Some(&recruiter.access)).await), Some("FORBIDDEN"));
    assert_eq!(error_code(&app.graphql(disable, id.clone(), Some(&outsider.access)).await), Some("NOT_FOUND"));
    let slug = slug_of(&app, &company, &owner.access).await;
    let listed = app.graphql(ENDPOINTS, json!({ "slug": slug }), Some(&recruiter.access)).await;
    assert_eq!(error_code(&listed), Some("FORBIDDEN"), "{listed}");
    let admin = app.platform_admin().await;
    let data = app.ok(disable, id, Some(&admin.access)).await;
    assert_eq!(data["disableWebhookEndpoint"]["endpoint"]["enabled"], false);
}

/// A replica holding deliveries in flight is killed (the receiver answers slowly, so none is
/// answered yet); a replacement replica on the same database takes them over once their leases
/// expire, and every delivery ends `SUCCEEDED`.
#[tokio::test]
async fn a_replica_killed_mid_delivery_loses_no_event() {
    let mut first = spawn_app_with(FAST).await;
    let receiver = Receiver::start().await;
    *receiver.shared.delay.lock().unwrap() = Duration::from_millis(1500);
    let owner = first.register("owner").await;
    let company = first.create_company(&owner, "Replicated").await;
    let slug = slug_of(&first, &company, &owner.access).await;
    create_endpoint(&first, &owner, &company, &receiver.url(), json!(["posting.created"])).await;
    let mut postings = BTreeSet::new();
    for n in 0..12 {
        postings.insert(
            first.create_posting(&owner, crate::helpers::complete_posting(&company, &format!("Job {n}"))).await,
        );
    }
    for _ in 0..200 {
        if receiver.shared.arrived.load(std::sync::atomic::Ordering::Acquire) > 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    first.kill();
    let in_flight = receiver.received().len();
    let second = spawn_replica(&first).await;
    let mut list = Vec::new();
    for _ in 0..600 {
        list = deliveries(&endpoints(&second, &slug, &owner.access, None).await[0]);
        if list.len() == 12 && list.iter().all(|d| d["status"] == "SUCCEEDED") {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(in_flight, 0, "the kill came before any answer");
    assert!(list.len() == 12 && list.iter().all(|d| d["status"] == "SUCCEEDED"), "{list:#?}");
    let got = receiver.received();
    let delivered: BTreeSet<&str> = got.iter().filter_map(|x| x.json["data"]["posting"]["id"].as_str()).collect();
    assert!(postings.iter().all(|p| delivered.contains(p.as_str())), "every posting reached the receiver");
}
