//! The after-commit seam seen from outside: every mutation emits exactly its events, the `events`
//! feed shows each company only its own (notes and contact fields included), and a reader paging
//! during concurrent writes sees every event exactly once.

use std::collections::{BTreeSet, HashMap};

use serde_json::{Value, json};

use crate::helpers::{PASSWORD, Session, TestApp, complete_posting, error_code, spawn_app};

const EVENTS: &str = "query($after: String, $company: ID, $types: [String!]) {
  events(first: 100, after: $after, companyId: $company, types: $types) {
    edges { cursor node { id type version occurredAt actor { kind userId } company { id } payload } }
    pageInfo { hasNextPage endCursor }
  }
}";

/// What each mutation emits, in order. Every mutation of the schema has a row; one without fails
/// `every_mutation_has_a_row`, so a new mutation must say what it emits.
const EMITS: &[(&str, &[&str])] = &[
    ("register", &[]),
    ("login", &[]),
    ("refreshToken", &[]),
    ("logout", &[]),
    ("disableUser", &[]),
    ("createCompany", &["company.created", "company.member_added"]),
    ("updateCompany", &["company.updated"]),
    ("verifyCompany", &["company.updated"]),
    ("addCompanyMember", &["company.member_added"]),
    ("changeCompanyMemberRole", &["company.member_role_changed"]),
    ("removeCompanyMember", &["company.member_removed"]),
    ("createPosting", &["posting.created"]),
    ("importPosting", &["posting.created"]),
    ("upsertPostings", &["posting.created", "posting.published"]),
    ("updatePosting", &["posting.updated"]),
    ("publishPosting", &["posting.published"]),
    ("pausePosting", &["posting.paused"]),
    ("closePosting", &["posting.closed"]),
    ("archivePosting", &["posting.archived"]),
    ("upsertCandidateProfile", &["candidate.profile_updated"]),
    ("applyToPosting", &["application.created"]),
    ("submitApplication", &["application.created"]),
    // The profile that gained the applications (and, when two merge, the applicant record).
    ("claimApplications", &["candidate.profile_updated"]),
    ("moveApplication", &["application.moved"]),
    ("rejectApplication", &["application.rejected"]),
    ("withdrawApplication", &["application.withdrawn"]),
    ("addApplicationNote", &["application.note_added"]),
    ("createWebhookEndpoint", &[]),
    ("updateWebhookEndpoint", &[]),
    ("rotateWebhookSecret", &[]),
    ("disableWebhookEndpoint", &[]),
    ("enableWebhookEndpoint", &[]),
    ("deleteWebhookEndpoint", &[]),
    ("sendTestWebhook", &[]),
    ("redeliverWebhook", &[]),
    // Credentials are not events: they are read from the database on every request.
    ("createPartnerApp", &[]),
    ("rotatePartnerAppSecret", &[]),
    ("createApiKey", &[]),
    ("revokeApiKey", &[]),
    ("setPartnerAppCostBudget", &[]),
];

/// Every event `token` may read after `after`, paging to the end; returns them and the cursor to
/// resume from.
async fn read_all(
    app: &TestApp,
    token: &str,
    after: Option<String>,
    company: Option<&str>,
) -> (Vec<Value>, Option<String>) {
    let mut cursor = after;
    let mut all = Vec::new();
    loop {
        let data = app.ok(EVENTS, json!({ "after": cursor, "company": company }), Some(token)).await;
        let connection = &data["events"];
        for edge in connection["edges"].as_array().unwrap() {
            all.push(edge["node"].clone());
        }
        if let Some(end) = connection["pageInfo"]["endCursor"].as_str() {
            cursor = Some(end.to_owned());
        }
        if !connection["pageInfo"]["hasNextPage"].as_bool().unwrap() {
            return (all, cursor);
        }
    }
}

fn types(events: &[Value]) -> Vec<String> {
    events.iter().map(|e| e["type"].as_str().unwrap().to_owned()).collect()
}

#[tokio::test]
async fn every_mutation_has_a_row() {
    let app = spawn_app().await;
    let data = app.ok("{ __schema { mutationType { fields { name } } } }", json!({}), None).await;
    let in_schema: BTreeSet<String> = data["__schema"]["mutationType"]["fields"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["name"].as_str().unwrap().to_owned())
        .collect();
    let in_table: BTreeSet<String> = EMITS.iter().map(|(m, _)| (*m).to_owned()).collect();
    assert_eq!(
        in_schema.difference(&in_table).collect::<Vec<_>>(),
        Vec::<&String>::new(),
        "mutations without a row in EMITS: say which events they emit"
    );
    assert_eq!(in_table.difference(&in_schema).collect::<Vec<_>>(), Vec::<&String>::new(), "rows for no mutation");
}

/// Runs one mutation and checks the events it added, as a platform admin reads them.
struct Recorder<'a> {
    app: &'a TestApp,
    admin: Session,
    cursor: Option<String>,
    seen: HashMap<&'static str, Vec<Value>>,
}

impl Recorder<'_> {
    async fn run(&mut self, mutation: &'static str, input: Value, token: Option<&str>) -> Value {
        let selection = match mutation {
            "register" | "login" | "refreshToken" => "accessToken refreshToken",
            "logout" => "success",
            "disableUser" => "user { id }",
            "createCompany" | "updateCompany" | "verifyCompany" => "company { id }",
            "addCompanyMember" | "changeCompanyMemberRole" => "member { role }",
            "removeCompanyMember" => "removedUserId",
            "importPosting" => "posting { id version }",
            "createPosting" | "updatePosting" | "publishPosting" | "pausePosting" | "closePosting"
            | "archivePosting" => "posting { id version }",
            "upsertCandidateProfile" => "profile { id }",
            "addApplicationNote" => "note { body }",
            "createWebhookEndpoint" | "rotateWebhookSecret" => "secret endpoint { id }",
            "updateWebhookEndpoint" | "disableWebhookEndpoint" | "enableWebhookEndpoint" => "endpoint { id }",
            "deleteWebhookEndpoint" => "deletedId",
            "sendTestWebhook" => "succeeded",
            "redeliverWebhook" => "delivery { id }",
            "upsertPostings" => "results { outcome posting { id } }",
            "createPartnerApp" => "clientSecret partnerApp { id }",
            "submitApplication" => "result claimToken",
            "claimApplications" => "claimedCount",
            "rotatePartnerAppSecret" => "clientSecret",
            "createApiKey" => "key apiKey { id }",
            "revokeApiKey" => "apiKey { revokedAt }",
            "setPartnerAppCostBudget" => "partnerApp { costPerMinute }",
            _ => "application { id status }",
        };
        let input_type = input_type(mutation);
        let body = self
            .app
            .ok(
                &format!("mutation($i: {input_type}!) {{ {mutation}(input: $i) {{ {selection} }} }}"),
                json!({ "i": input }),
                token,
            )
            .await;
        let (events, cursor) = read_all(self.app, &self.admin.access, self.cursor.clone(), None).await;
        self.cursor = cursor;
        let expected = EMITS.iter().find(|(m, _)| *m == mutation).map(|(_, e)| *e).unwrap();
        assert_eq!(types(&events), expected, "{mutation} emitted {events:#?}");
        self.seen.entry(mutation).or_default().extend(events);
        body[mutation].clone()
    }
}

fn input_type(mutation: &str) -> String {
    match mutation {
        "refreshToken" => "RefreshTokenInput".into(),
        "verifyCompany" => "VerifyCompanyInput".into(),
        "publishPosting" | "pausePosting" | "closePosting" | "archivePosting" => "PostingStatusInput".into(),
        "applyToPosting" => "ApplyToPostingInput".into(),
        "rotateWebhookSecret"
        | "disableWebhookEndpoint"
        | "enableWebhookEndpoint"
        | "deleteWebhookEndpoint"
        | "sendTestWebhook" => "WebhookEndpointInput".into(),
        other => {
            let mut chars = other.chars();
            let first = chars.next().unwrap().to_ascii_uppercase();
            format!("{first}{}Input", chars.as_str())
        }
    }
}

#[tokio::test]
async fn every_mutation_emits_exactly_its_events_and_payloads_show_what_members_may_see() {
    let app = crate::helpers::spawn_app_with(&[("HIREGRAPH_WEBHOOK_ALLOW_PRIVATE", "true")]).await;
    let admin = app.platform_admin().await;
    let (_, start) = read_all(&app, &admin.access, None, None).await;
    let mut r = Recorder { app: &app, admin: admin.clone(), cursor: start, seen: HashMap::new() };

    let email = crate::helpers::unique_email("owner");
    let owner = r.run("register", json!({ "email": email, "password": PASSWORD }), None).await;
    let owner_token = owner["accessToken"].as_str().unwrap().to_owned();
    let owner = Some(owner_token.as_str());
    let login = r.run("login", json!({ "email": email, "password": PASSWORD }), None).await;
    let refreshed = r.run("refreshToken", json!({ "refreshToken": login["refreshToken"] }), None).await;
    r.run("logout", json!({ "refreshToken": refreshed["refreshToken"] }), None).await;

    let company = r
        .run(
            "createCompany",
            json!({ "name": "Evented", "slug": format!("ev-{}", &uuid::Uuid::now_v7().simple().to_string()[20..]) }),
            owner,
        )
        .await;
    let company = company["company"]["id"].as_str().unwrap().to_owned();
    r.run("updateCompany", json!({ "id": company, "name": "Evented Inc" }), owner).await;
    r.run("verifyCompany", json!({ "id": company }), Some(&admin.access)).await;

    let recruiter = app.register("recruiter").await;
    let viewer = app.register("viewer").await;
    r.run("addCompanyMember", json!({ "companyId": company, "email": recruiter.email, "role": "VIEWER" }), owner).await;
    r.run(
        "changeCompanyMemberRole",
        json!({ "companyId": company, "userId": recruiter.user_id, "role": "RECRUITER" }),
        owner,
    )
    .await;
    r.run("addCompanyMember", json!({ "companyId": company, "email": viewer.email, "role": "VIEWER" }), owner).await;
    r.run("removeCompanyMember", json!({ "companyId": company, "userId": viewer.user_id }), owner).await;
    let posting = r.run("createPosting", complete_posting(&company, "Evented Engineer"), Some(&recruiter.access)).await;
    let posting = posting["posting"]["id"].as_str().unwrap().to_owned();
    r.run(
        "importPosting",
        json!({ "companyId": company, "markdown": "# Data Engineer\n\nWe build pipelines in Rust." }),
        Some(&recruiter.access),
    )
    .await;
    r.run(
        "updatePosting",
        json!({ "id": posting, "expectedVersion": 1, "title": "Evented Engineer II" }),
        Some(&recruiter.access),
    )
    .await;
    r.run("publishPosting", json!({ "id": posting }), Some(&recruiter.access)).await;
    r.run("pausePosting", json!({ "id": posting }), Some(&recruiter.access)).await;
    r.run("publishPosting", json!({ "id": posting }), Some(&recruiter.access)).await;

    let ada = app.register("ada").await;
    let secret = format!("contact-{}@example.com", uuid::Uuid::now_v7().simple());
    r.run(
        "upsertCandidateProfile",
        json!({ "displayName": "Ada", "visibility": "EMPLOYERS", "email": secret, "phone": "+44 20 7946 0000" }),
        Some(&ada.access),
    )
    .await;
    let first =
        r.run("applyToPosting", json!({ "postingId": posting, "coverLetter": "Hello" }), Some(&ada.access)).await;
    let first = first["application"]["id"].as_str().unwrap().to_owned();
    r.run("moveApplication", json!({ "id": first, "to": "SCREENING", "note": "strong" }), Some(&recruiter.access))
        .await;
    r.run(
        "addApplicationNote",
        json!({ "applicationId": first, "body": "private to Evented" }),
        Some(&recruiter.access),
    )
    .await;
    r.run("rejectApplication", json!({ "id": first }), Some(&recruiter.access)).await;

    let bob = app.register("bob").await;
    app.upsert_profile(&bob, json!({ "displayName": "Bob", "visibility": "PUBLIC" })).await;
    let second = app.apply(&bob, &posting).await;
    r.cursor = read_all(&app, &admin.access, r.cursor.clone(), None).await.1;
    r.run("withdrawApplication", json!({ "id": second }), Some(&bob.access)).await;
    r.run("closePosting", json!({ "id": posting }), Some(&recruiter.access)).await;
    r.run("archivePosting", json!({ "id": posting }), Some(&recruiter.access)).await;
    r.run("disableUser", json!({ "id": bob.user_id }), Some(&admin.access)).await;

    // Managing webhooks changes no domain object: no events.
    let hook = r
        .run(
            "createWebhookEndpoint",
            json!({ "companyId": company, "url": "http://127.0.0.1:9/hooks", "eventTypes": ["posting.created"] }),
            owner,
        )
        .await;
    let hook = hook["endpoint"]["id"].as_str().unwrap().to_owned();
    r.run("updateWebhookEndpoint", json!({ "id": hook, "description": "test" }), owner).await;
    r.run("rotateWebhookSecret", json!({ "id": hook }), owner).await;
    r.run("sendTestWebhook", json!({ "id": hook }), owner).await;
    app.create_posting(&recruiter, complete_posting(&company, "Hooked")).await;
    r.cursor = read_all(&app, &admin.access, r.cursor.clone(), None).await.1;
    let slug = app
        .ok("query($id: ID!) { node(id: $id) { ... on Company { slug } } }", json!({ "id": company }), owner)
        .await["node"]["slug"]
        .as_str()
        .unwrap()
        .to_owned();
    let mut delivery = Value::Null;
    for _ in 0..200 {
        let data = app
            .ok(
                "query($s: String!) { company(slug: $s) { webhookEndpoints { deliveries(first: 1) { edges { node { id } } } } } }",
                json!({ "s": slug }),
                owner,
            )
            .await;
        delivery = data["company"]["webhookEndpoints"][0]["deliveries"]["edges"][0]["node"]["id"].clone();
        if !delivery.is_null() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    r.run("redeliverWebhook", json!({ "deliveryId": delivery }), owner).await;
    r.run("disableWebhookEndpoint", json!({ "id": hook }), owner).await;
    r.run("enableWebhookEndpoint", json!({ "id": hook }), owner).await;
    r.run("deleteWebhookEndpoint", json!({ "id": hook }), owner).await;
    let mut synced = complete_posting(&company, "Synced");
    synced.as_object_mut().unwrap().remove("companyId");
    synced["externalId"] = "ext-1".into();
    let upserted =
        r.run("upsertPostings", json!({ "companyId": company, "postings": [synced], "publish": true }), owner).await;
    assert_eq!(upserted["results"][0]["outcome"], "CREATED", "{upserted}");
    let partner = r
        .run("createPartnerApp", json!({ "companyId": company, "name": "Board", "scopes": ["POSTINGS_READ"] }), owner)
        .await;
    let partner = partner["partnerApp"]["id"].as_str().unwrap().to_owned();
    r.run("rotatePartnerAppSecret", json!({ "partnerAppId": partner }), owner).await;
    let key = r.run("createApiKey", json!({ "partnerAppId": partner, "name": "Sync" }), owner).await;
    r.run("revokeApiKey", json!({ "apiKeyId": key["apiKey"]["id"] }), owner).await;
    // A job board submits an applicant, who claims the application after signing up.
    let board = r
        .run(
            "createPartnerApp",
            json!({ "companyId": company, "name": "Board", "scopes": ["APPLICATIONS_SUBMIT"] }),
            owner,
        )
        .await;
    let board = board["partnerApp"]["id"].as_str().unwrap().to_owned();
    let budget = r
        .run("setPartnerAppCostBudget", json!({ "partnerAppId": board, "pointsPerMinute": 20000 }), Some(&admin.access))
        .await;
    assert_eq!(budget["partnerApp"]["costPerMinute"], 20000);
    let board_key = r.run("createApiKey", json!({ "partnerAppId": board, "name": "Apply" }), owner).await;
    let board_key = board_key["key"].as_str().unwrap().to_owned();
    let carla = app.register("carla").await;
    let submitted = r
        .run(
            "submitApplication",
            json!({ "postingId": upserted["results"][0]["posting"]["id"], "candidate": { "name": "Carla", "email": carla.email } }),
            Some(&board_key),
        )
        .await;
    assert_eq!(submitted["result"], "CREATED", "{submitted}");
    let claimed = r.run("claimApplications", json!({ "token": submitted["claimToken"] }), Some(&carla.access)).await;
    assert_eq!(claimed["claimedCount"], 1);

    for (mutation, _) in EMITS {
        assert!(r.seen.contains_key(mutation), "{mutation} was not exercised");
    }

    // Shapes: a posting's payload names it by global id and carries its status and version.
    let published = &r.seen["publishPosting"][0];
    assert_eq!(published["payload"]["posting"]["id"], posting.as_str());
    assert_eq!(published["payload"]["posting"]["status"], "PUBLISHED");
    assert_eq!(published["payload"]["previousStatus"], "DRAFT");
    assert_eq!(published["company"]["id"], company.as_str());
    assert_eq!(published["actor"], json!({ "kind": "USER", "userId": recruiter.user_id }));
    assert_eq!(published["version"], 1);
    let moved = &r.seen["moveApplication"][0];
    assert_eq!(moved["payload"]["application"]["status"], "SCREENING");
    assert_eq!(moved["payload"]["previousStatus"], "APPLIED");
    assert_eq!(moved["payload"]["note"], "strong");

    // Contact fields appear in no event, to anyone.
    let (everything, _) = read_all(&app, &admin.access, None, None).await;
    let text = serde_json::to_string(&everything).unwrap();
    assert!(!text.contains(&secret) && !text.contains("7946 0000"), "contact fields leaked into events");

    // Members read their company's events, notes included; the candidate and outsiders do not.
    let (mine, _) = read_all(&app, &recruiter.access, None, None).await;
    assert!(mine.iter().all(|e| e["company"]["id"] == company.as_str()), "{mine:#?}");
    assert!(types(&mine).contains(&"application.note_added".to_owned()));
    assert!(!types(&mine).contains(&"candidate.profile_updated".to_owned()), "platform events are for admins");
    let denied = app.graphql(EVENTS, json!({}), Some(&ada.access)).await;
    assert_eq!(error_code(&denied), Some("FORBIDDEN"), "{denied}");
    let outsider = app.register("outsider").await;
    let other = app.create_company(&outsider, "Elsewhere").await;
    let (theirs, _) = read_all(&app, &outsider.access, None, None).await;
    assert!(theirs.iter().all(|e| e["company"]["id"] == other.as_str()), "{theirs:#?}");
    let refused = app.graphql(EVENTS, json!({ "company": company }), Some(&outsider.access)).await;
    assert_eq!(error_code(&refused), Some("FORBIDDEN"), "{refused}");
    // The removed member no longer reads the company's events.
    let removed = app.graphql(EVENTS, json!({ "company": company }), Some(&viewer.access)).await;
    assert_eq!(error_code(&removed), Some("FORBIDDEN"), "{removed}");
    let anonymous = app.graphql(EVENTS, json!({}), None).await;
    assert_eq!(error_code(&anonymous), Some("UNAUTHENTICATED"), "{anonymous}");

    // Filtering by type, and a type that does not exist named in the error.
    let data = app.ok(EVENTS, json!({ "types": ["posting.published"] }), Some(&recruiter.access)).await;
    // The two published earlier, and the one upsertPostings published.
    assert_eq!(data["events"]["edges"].as_array().unwrap().len(), 3);
    let bad = app.graphql(EVENTS, json!({ "types": ["posting.deleted"] }), Some(&recruiter.access)).await;
    assert_eq!(error_code(&bad), Some("BAD_USER_INPUT"));
    assert!(bad["errors"][0]["message"].as_str().unwrap().contains("posting.deleted"), "{bad}");
    let bad = app.graphql(EVENTS, json!({ "after": "nonsense" }), Some(&recruiter.access)).await;
    assert_eq!(error_code(&bad), Some("BAD_USER_INPUT"));
}

#[tokio::test]
async fn a_failed_write_emits_nothing() {
    let app = spawn_app().await;
    let owner = app.register("owner").await;
    let company = app.create_company(&owner, "Acme").await;
    let posting = app.create_posting(&owner, complete_posting(&company, "Draft")).await;
    let (before, _) = read_all(&app, &owner.access, None, None).await;
    // A stale version and a refused transition both fail inside or before the unit of work.
    let stale = app
        .graphql(
            "mutation($i: UpdatePostingInput!) { updatePosting(input: $i) { posting { id } } }",
            json!({ "i": { "id": posting, "expectedVersion": 7, "title": "Nope" } }),
            Some(&owner.access),
        )
        .await;
    assert_eq!(error_code(&stale), Some("CONFLICT"));
    let refused = app.transition(&owner, "pausePosting", &posting).await;
    assert_eq!(error_code(&refused), Some("BAD_USER_INPUT"));
    let (after, _) = read_all(&app, &owner.access, None, None).await;
    assert_eq!(before.len(), after.len(), "{after:#?}");
}

/// Four writers add notes while a reader pages with `after`: the union of its pages is every
/// event, each once, in position order — also for events that committed after a later-begun one.
#[tokio::test]
async fn a_reader_paging_during_concurrent_writes_sees_every_event_once() {
    let app = spawn_app().await;
    let owner = app.register("owner").await;
    let company = app.create_company(&owner, "Busy").await;
    let posting = app.published_posting(&owner, &company, "Busy Engineer").await;
    let mut applications = Vec::new();
    for who in ["w1", "w2", "w3", "w4"] {
        let candidate = app.register(who).await;
        app.upsert_profile(&candidate, json!({ "displayName": who, "visibility": "PUBLIC" })).await;
        applications.push(app.apply(&candidate, &posting).await);
    }
    let (_, start) = read_all(&app, &owner.access, None, None).await;
    let done = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    const NOTES: usize = 25;
    let writers = applications.iter().map(|application| {
        let (app, token) = (&app, owner.access.clone());
        async move {
            for n in 0..NOTES {
                app.ok(
                    "mutation($i: AddApplicationNoteInput!) { addApplicationNote(input: $i) { note { body } } }",
                    json!({ "i": { "applicationId": application, "body": format!("note {n}") } }),
                    Some(&token),
                )
                .await;
            }
        }
    });
    let reader = {
        let (app, token, done, start) = (&app, owner.access.clone(), done.clone(), start.clone());
        async move {
            let mut cursor = start;
            let mut seen = Vec::new();
            loop {
                let finished = done.load(std::sync::atomic::Ordering::Acquire);
                let data = app.ok(EVENTS, json!({ "after": cursor }), Some(&token)).await;
                for edge in data["events"]["edges"].as_array().unwrap() {
                    seen.push(edge["node"]["id"].as_str().unwrap().to_owned());
                }
                if let Some(end) = data["events"]["pageInfo"]["endCursor"].as_str() {
                    cursor = Some(end.to_owned());
                }
                let more = data["events"]["pageInfo"]["hasNextPage"].as_bool().unwrap();
                if finished && !more {
                    return seen;
                }
                if !more {
                    tokio::time::sleep(std::time::Duration::from_millis(5)).await;
                }
            }
        }
    };
    let writing = async {
        futures_util::future::join_all(writers).await;
        done.store(true, std::sync::atomic::Ordering::Release);
    };
    let ((), seen) = tokio::join!(writing, reader);
    let (all, _) = read_all(&app, &owner.access, start, None).await;
    let all: Vec<String> = all.iter().map(|e| e["id"].as_str().unwrap().to_owned()).collect();
    assert_eq!(all.len(), 4 * NOTES, "the outbox holds one event per note");
    let unique: BTreeSet<&String> = seen.iter().collect();
    assert_eq!(unique.len(), seen.len(), "an event was read twice");
    assert_eq!(seen, all, "the pages read during the writes are the outbox, in order");
}

#[tokio::test]
async fn a_published_posting_that_expires_is_announced_once() {
    let app = crate::helpers::spawn_app_with(&[("HIREGRAPH_WORKER_POLL_MS", "50")]).await;
    let owner = app.register("owner").await;
    let company = app.create_company(&owner, "Expiring").await;
    let mut input = complete_posting(&company, "Short-lived");
    let soon = chrono::Utc::now() + chrono::Duration::seconds(2);
    input["expiresAt"] = json!(soon.to_rfc3339());
    let posting = app.create_posting(&owner, input).await;
    app.publish(&owner, &posting).await;
    let expired = || async {
        let data =
            app.ok(EVENTS, json!({ "types": ["posting.expired"], "company": company }), Some(&owner.access)).await;
        data["events"]["edges"].as_array().unwrap().clone()
    };
    let mut found = Vec::new();
    for _ in 0..200 {
        found = expired().await;
        if !found.is_empty() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert_eq!(found.len(), 1, "posting.expired within 10 s");
    let event = &found[0]["node"];
    assert_eq!(event["payload"]["posting"]["id"], posting.as_str());
    assert_eq!(event["actor"]["kind"], "SYSTEM");
    assert!(chrono::Utc::now() >= soon, "not before its time");
    tokio::time::sleep(std::time::Duration::from_millis(1500)).await;
    assert_eq!(expired().await.len(), 1, "announced once");
}
