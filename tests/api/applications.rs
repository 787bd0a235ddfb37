use serde_json::{Value, json};

use crate::helpers::{Session, TestApp, complete_posting, error_code, spawn_app};

const APPLY: &str = "mutation($i: ApplyToPostingInput!) { applyToPosting(input: $i) { application { id status source { kind partnerName } } } }";
const MOVE: &str = "mutation($i: MoveApplicationInput!) { moveApplication(input: $i) { application { status } } }";
const WITHDRAW: &str =
    "mutation($i: WithdrawApplicationInput!) { withdrawApplication(input: $i) { application { status } } }";

async fn candidate(app: &TestApp, who: &str) -> Session {
    let session = app.register(who).await;
    app.upsert_profile(&session, json!({ "displayName": who, "visibility": "PUBLIC", "email": session.email })).await;
    session
}

async fn setup() -> (TestApp, Session, String, String) {
    let app = spawn_app().await;
    let owner = app.register("owner").await;
    let company = app.create_company(&owner, "Acme").await;
    let posting = app.published_posting(&owner, &company, "Backend Engineer").await;
    (app, owner, company, posting)
}

async fn apply(app: &TestApp, who: &Session, posting: &str) -> Value {
    app.graphql(APPLY, json!({ "i": { "postingId": posting, "coverLetter": "Hello" } }), Some(&who.access)).await
}

#[tokio::test]
async fn fifty_concurrent_applications_make_exactly_one() {
    let (app, _owner, _company, posting) = setup().await;
    let ada = candidate(&app, "ada").await;
    let attempts = (0..50).map(|_| apply(&app, &ada, &posting));
    let results = futures_util::future::join_all(attempts).await;
    let ok = results.iter().filter(|r| r.get("errors").is_none()).count();
    let conflicts = results.iter().filter(|r| error_code(r) == Some("CONFLICT")).count();
    assert_eq!(
        (ok, conflicts),
        (1, 49),
        "{:?}",
        results.iter().filter(|r| error_code(r) != Some("CONFLICT")).collect::<Vec<_>>()
    );
    let rows = hiregraph_persistence::applications::count_all(&app.app.db.conn).await.unwrap();
    assert_eq!(rows, 1);
}

#[tokio::test]
async fn applying_needs_a_profile_and_a_published_unexpired_posting() {
    let (app, owner, company, posting) = setup().await;
    let no_profile = app.register("no-profile").await;
    assert_eq!(error_code(&apply(&app, &no_profile, &posting).await), Some("FORBIDDEN"));
    let ada = candidate(&app, "ada").await;

    let draft = app.create_posting(&owner, complete_posting(&company, "Draft")).await;
    assert_eq!(error_code(&apply(&app, &ada, &draft).await), Some("NOT_FOUND"));

    for (mutation, status) in [("pausePosting", "PAUSED"), ("closePosting", "CLOSED")] {
        let id = app.published_posting(&owner, &company, status).await;
        app.transition(&owner, mutation, &id).await;
        let body = apply(&app, &ada, &id).await;
        assert_eq!(error_code(&body), Some("NOT_FOUND"), "{status}: a posting the public no longer sees is not found");
        // Members see it, and are told why it takes no applications.
        let _ = body;
    }

    let mut input = complete_posting(&company, "Expiring");
    input["expiresAt"] = json!((chrono::Utc::now() + chrono::Duration::seconds(2)).to_rfc3339());
    let expiring = app.create_posting(&owner, input).await;
    app.publish(&owner, &expiring).await;
    tokio::time::sleep(std::time::Duration::from_millis(2200)).await;
    let body = apply(&app, &ada, &expiring).await;
    assert_eq!(error_code(&body), Some("BAD_USER_INPUT"), "{body}");
    assert!(body["errors"][0]["message"].as_str().unwrap().contains("expired"));
    assert_eq!(body["errors"][0]["extensions"]["fields"][0]["path"], "input.postingId");

    let ok = apply(&app, &ada, &posting).await;
    assert_eq!(ok["data"]["applyToPosting"]["application"]["status"], "APPLIED", "{ok}");
    assert_eq!(ok["data"]["applyToPosting"]["application"]["source"]["kind"], "DIRECT");
    assert_eq!(error_code(&apply(&app, &ada, &posting).await), Some("CONFLICT"));
}

#[tokio::test]
async fn a_paused_posting_the_candidate_can_see_refuses_with_its_status() {
    let (app, owner, company, _) = setup().await;
    let ada = candidate(&app, "ada").await;
    // Ada is also a viewer of the company, so she can see the paused posting.
    app.add_member(&owner, &company, &ada, "VIEWER").await;
    let id = app.published_posting(&owner, &company, "Paused job").await;
    app.transition(&owner, "pausePosting", &id).await;
    let body = apply(&app, &ada, &id).await;
    assert_eq!(error_code(&body), Some("BAD_USER_INPUT"), "{body}");
    assert!(body["errors"][0]["message"].as_str().unwrap().contains("PAUSED"), "{body}");
}

#[tokio::test]
async fn the_full_pipeline_records_every_move_in_order() {
    let (app, owner, _company, posting) = setup().await;
    let ada = candidate(&app, "ada").await;
    let id =
        apply(&app, &ada, &posting).await["data"]["applyToPosting"]["application"]["id"].as_str().unwrap().to_owned();
    for to in ["SCREENING", "INTERVIEW", "OFFER", "HIRED"] {
        let body = app
            .graphql(MOVE, json!({ "i": { "id": id, "to": to, "note": format!("to {to}") } }), Some(&owner.access))
            .await;
        assert_eq!(body["data"]["moveApplication"]["application"]["status"], to, "{body}");
    }
    let data = app
        .ok(
            "query($id: ID!) { application(id: $id) { status events { from to actor note } } }",
            json!({ "id": id }),
            Some(&owner.access),
        )
        .await;
    let events: Vec<(Value, Value, Value)> = data["application"]["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| (e["from"].clone(), e["to"].clone(), e["actor"].clone()))
        .collect();
    assert_eq!(
        events,
        vec![
            (Value::Null, json!("APPLIED"), json!("CANDIDATE")),
            (json!("APPLIED"), json!("SCREENING"), json!("COMPANY")),
            (json!("SCREENING"), json!("INTERVIEW"), json!("COMPANY")),
            (json!("INTERVIEW"), json!("OFFER"), json!("COMPANY")),
            (json!("OFFER"), json!("HIRED"), json!("COMPANY")),
        ]
    );
    // Each event is a Node too, visible exactly as its application is.
    let events = app
        .ok("query($id: ID!) { application(id: $id) { events { id } } }", json!({ "id": id }), Some(&owner.access))
        .await;
    let event_id = events["application"]["events"][1]["id"].clone();
    let node = app
        .ok(
            "query($id: ID!) { node(id: $id) { ... on ApplicationEvent { from to } } }",
            json!({ "id": event_id }),
            Some(&ada.access),
        )
        .await;
    assert_eq!(node["node"], json!({ "from": "APPLIED", "to": "SCREENING" }));
    let hidden = app.graphql("query($id: ID!) { node(id: $id) { id } }", json!({ "id": event_id }), None).await;
    assert_eq!(error_code(&hidden), Some("NOT_FOUND"));
    // The candidate sees the moves but not the company's notes on them.
    let mine = app
        .graphql(
            "query($id: ID!) { application(id: $id) { events { to note } } }",
            json!({ "id": id }),
            Some(&ada.access),
        )
        .await;
    assert_eq!(mine["data"]["application"]["events"][4]["to"], "HIRED");
    assert_eq!(mine["data"]["application"]["events"][4]["note"], Value::Null);
    assert!(mine["errors"].as_array().unwrap().iter().all(|e| e["extensions"]["code"] == "FORBIDDEN"));
}

#[tokio::test]
async fn every_refused_move_names_from_and_to() {
    let (app, owner, _company, posting) = setup().await;
    let ada = candidate(&app, "ada").await;
    let id =
        apply(&app, &ada, &posting).await["data"]["applyToPosting"]["application"]["id"].as_str().unwrap().to_owned();
    app.ok(MOVE, json!({ "i": { "id": id, "to": "INTERVIEW" } }), Some(&owner.access)).await;
    // Backwards, to the same status, and the candidate's exit are all refused for the company.
    for to in ["APPLIED", "SCREENING", "INTERVIEW", "WITHDRAWN"] {
        let body = app.graphql(MOVE, json!({ "i": { "id": id, "to": to } }), Some(&owner.access)).await;
        let code = error_code(&body);
        if to == "WITHDRAWN" {
            assert_eq!(code, Some("FORBIDDEN"), "{body}");
        } else {
            assert_eq!(code, Some("BAD_USER_INPUT"), "{to}: {body}");
            let message = body["errors"][0]["message"].as_str().unwrap();
            assert!(message.contains("INTERVIEW") && message.contains(to), "{message}");
        }
    }
    // The candidate may only withdraw; once withdrawn nothing moves it again.
    let body = app.graphql(MOVE, json!({ "i": { "id": id, "to": "OFFER" } }), Some(&ada.access)).await;
    assert_eq!(error_code(&body), Some("FORBIDDEN"));
    let out = app.ok(WITHDRAW, json!({ "i": { "id": id, "note": "Took another offer" } }), Some(&ada.access)).await;
    assert_eq!(out["withdrawApplication"]["application"]["status"], "WITHDRAWN");
    for to in ["OFFER", "HIRED", "REJECTED"] {
        let body = app.graphql(MOVE, json!({ "i": { "id": id, "to": to } }), Some(&owner.access)).await;
        assert_eq!(error_code(&body), Some("BAD_USER_INPUT"), "{to}");
        assert!(body["errors"][0]["message"].as_str().unwrap().contains("final"), "{body}");
    }
    assert_eq!(
        error_code(&app.graphql(WITHDRAW, json!({ "i": { "id": id } }), Some(&ada.access)).await),
        Some("BAD_USER_INPUT")
    );
    let reject = "mutation($i: RejectApplicationInput!) { rejectApplication(input: $i) { application { status } } }";
    assert_eq!(
        error_code(&app.graphql(reject, json!({ "i": { "id": id } }), Some(&owner.access)).await),
        Some("BAD_USER_INPUT")
    );
}

#[tokio::test]
async fn the_pipeline_counts_each_status_and_lists_filter_by_status() {
    let (app, owner, _company, posting) = setup().await;
    let mut ids = Vec::new();
    for who in ["a", "b", "c", "d"] {
        let c = candidate(&app, who).await;
        ids.push(
            apply(&app, &c, &posting).await["data"]["applyToPosting"]["application"]["id"].as_str().unwrap().to_owned(),
        );
    }
    app.ok(MOVE, json!({ "i": { "id": ids[0], "to": "SCREENING" } }), Some(&owner.access)).await;
    app.ok(MOVE, json!({ "i": { "id": ids[1], "to": "SCREENING" } }), Some(&owner.access)).await;
    app.ok(MOVE, json!({ "i": { "id": ids[2], "to": "REJECTED" } }), Some(&owner.access)).await;
    let data = app
        .ok(
            "query($id: ID!) { posting(id: $id) { pipeline { status count }
                screening: applications(filter: { status: [SCREENING] }) { totalCount edges { node { id } } }
                all: applications { totalCount } } }",
            json!({ "id": posting }),
            Some(&owner.access),
        )
        .await;
    let pipeline: Vec<(String, u64)> = data["posting"]["pipeline"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| (s["status"].as_str().unwrap().to_owned(), s["count"].as_u64().unwrap()))
        .collect();
    assert_eq!(
        pipeline,
        [
            ("APPLIED", 1),
            ("SCREENING", 2),
            ("INTERVIEW", 0),
            ("OFFER", 0),
            ("HIRED", 0),
            ("REJECTED", 1),
            ("WITHDRAWN", 0)
        ]
        .map(|(s, n)| (s.to_owned(), n))
    );
    assert_eq!(data["posting"]["screening"]["totalCount"], 2);
    assert_eq!(data["posting"]["all"]["totalCount"], 4);
}

#[tokio::test]
async fn a_candidate_sees_their_own_applications_and_no_one_elses() {
    let (app, _owner, _company, posting) = setup().await;
    let ada = candidate(&app, "ada").await;
    let bob = candidate(&app, "bob").await;
    apply(&app, &ada, &posting).await;
    let query = "{ viewer { applications { totalCount edges { node { status posting { title } } } } } }";
    let mine = app.ok(query, json!({}), Some(&ada.access)).await;
    assert_eq!(mine["viewer"]["applications"]["totalCount"], 1);
    assert_eq!(mine["viewer"]["applications"]["edges"][0]["node"]["posting"]["title"], "Backend Engineer");
    let bobs = app.ok(query, json!({}), Some(&bob.access)).await;
    assert_eq!(bobs["viewer"]["applications"]["totalCount"], 0);
}
