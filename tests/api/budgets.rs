//! Query-cost budgets: `extensions.cost` on every response, 429 with `Retry-After` over budget,
//! `rateLimit(dryRun:)`, per-app budgets, and one budget shared by two replicas through Redis.

use serde_json::{Value, json};

use crate::helpers::{TestApp, error_code, redis_url, spawn_app_with, spawn_replica};

/// 11 points: posting (1) + 10 scalar fields.
const BY_ID: &str = "query($id: ID!) { posting(id: $id) { id title summary description status slug version createdAt updatedAt publishedAt } }";

/// A POST answered with its status, `Retry-After` and body.
async fn post(app: &TestApp, query: &str, variables: Value, token: &str) -> (u16, Option<u64>, Value) {
    let response = app
        .client
        .post(format!("{}/graphql", app.address))
        .bearer_auth(token)
        .json(&json!({ "query": query, "variables": variables }))
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    let retry = response.headers().get("retry-after").and_then(|v| v.to_str().ok()).and_then(|v| v.parse().ok());
    (status, retry, response.json().await.unwrap())
}

#[tokio::test]
async fn every_response_reports_what_it_asked_for_what_it_cost_and_the_budget_left() {
    let app = spawn_app_with(&[("HIREGRAPH_COST_USER_PER_MINUTE", "6000")]).await;
    let owner = app.register("owner").await;
    let company = app.create_company(&owner, "Costed").await;
    for title in ["One", "Two"] {
        app.published_posting(&owner, &company, title).await;
    }
    let left = |body: &Value| body["extensions"]["cost"]["throttleStatus"]["currentlyAvailable"].as_u64().unwrap();
    let (_, _, first) = post(&app, "{ rateLimit { requestedQueryCost } }", json!({}), &owner.access).await;
    assert_eq!(first["data"]["rateLimit"]["requestedQueryCost"], 2, "rateLimit and requestedQueryCost: {first}");
    let before = left(&first);
    let (status, _, body) =
        post(&app, "{ postings(first: 10) { nodes { id title } } }", json!({}), &owner.access).await;
    assert_eq!(status, 200, "{body}");
    let cost = &body["extensions"]["cost"];
    // 10 × (nodes, id, title) + 1 asked for; 2 postings came back.
    assert_eq!(cost["requestedQueryCost"], 31, "{body}");
    assert_eq!(cost["actualQueryCost"], 7, "{body}");
    let throttle = &cost["throttleStatus"];
    assert_eq!(throttle["maximumAvailable"], 6000);
    assert_eq!(throttle["restoreRate"], 100.0);
    // 31 were taken, the 24 not used given back before the answer (and 100 a second restore).
    let after = left(&body);
    assert!(after + 7 >= before && after <= 6000, "{before} then {body}");
    // A request refused before it ran costs nothing.
    let (_, _, invalid) = post(&app, "{ postings(first: 10) { nope } }", json!({}), &owner.access).await;
    assert_eq!(invalid["extensions"]["cost"]["actualQueryCost"], 0, "{invalid}");
}

#[tokio::test]
async fn a_partner_budget_drains_refuses_with_retry_after_and_restores_and_replicas_share_it() {
    // 120 points a minute (2 a second); a query may cost at most 120.
    let app =
        spawn_app_with(&[("HIREGRAPH_MAX_COMPLEXITY", "120"), ("HIREGRAPH_COST_PARTNER_PER_MINUTE", "120")]).await;
    let owner = app.register("owner").await;
    let company = app.create_company(&owner, "Metered").await;
    let posting = app.published_posting(&owner, &company, "Metered job").await;
    let partner = app.create_partner_app(&owner, &company, &["POSTINGS_READ".into()]).await;
    let key = app.create_api_key(&owner, &partner.id).await;
    // With Redis, a second replica spends from the same budget; without, one server does.
    let replica = if redis_url().is_some() { Some(spawn_replica(&app).await) } else { None };
    let servers: Vec<&TestApp> = std::iter::once(&app).chain(replica.as_ref()).collect();

    let mut allowed = 0;
    let mut refused = None;
    for i in 0..30 {
        let (status, retry, body) = post(servers[i % servers.len()], BY_ID, json!({ "id": posting }), &key).await;
        if status == 429 {
            refused = Some((retry, body));
            break;
        }
        assert_eq!(status, 200, "{body}");
        assert_eq!(body["extensions"]["cost"]["actualQueryCost"], 11, "{body}");
        allowed += 1;
    }
    let (retry, body) = refused.expect("the budget ran out");
    // 120 points pay for 10 requests of 11 (and the 2 a second restored meanwhile for one more at most).
    assert!((10..=11).contains(&allowed), "{allowed} requests passed: one budget across {} servers", servers.len());
    assert_eq!(error_code(&body), Some("RATE_LIMITED"), "{body}");
    assert!(body.get("data").is_none(), "{body}");
    let throttle = &body["extensions"]["cost"]["throttleStatus"];
    assert!(throttle["currentlyAvailable"].as_u64().unwrap() < 11, "{body}");
    let retry = retry.expect("Retry-After");
    assert!((1..=6).contains(&retry), "retry after {retry} s");
    assert_eq!(body["errors"][0]["extensions"]["retryAfter"], retry);

    // A dry run tells the cost of the whole document (rateLimit 3, posting 3) without running
    // the rest, and spends nothing.
    let dry = "query($id: ID!) { rateLimit(dryRun: true) { requestedQueryCost dryRun } posting(id: $id) { id title } }";
    let (status, _, answer) = post(servers[0], dry, json!({ "id": posting }), &key).await;
    assert_eq!(status, 200, "{answer}");
    assert_eq!(answer["data"]["rateLimit"], json!({ "requestedQueryCost": 6, "dryRun": true }), "{answer}");
    assert!(answer["data"].get("posting").is_none(), "a dry run runs nothing else: {answer}");

    // Others are not affected by this app's budget.
    let (status, _, mine) = post(&app, BY_ID, json!({ "id": posting }), &owner.access).await;
    assert_eq!(status, 200, "{mine}");

    // After the wait it asked for, the request passes again, on any replica.
    tokio::time::sleep(std::time::Duration::from_secs(retry)).await;
    let (status, _, body) = post(servers[servers.len() - 1], BY_ID, json!({ "id": posting }), &key).await;
    assert_eq!(status, 200, "{body}");
}

#[tokio::test]
async fn a_platform_admin_sets_an_apps_budget_which_holds_at_once_for_its_keys() {
    let app = spawn_app_with(&[("HIREGRAPH_COST_PARTNER_PER_MINUTE", "6000")]).await;
    let owner = app.register("owner").await;
    let company = app.create_company(&owner, "Budgeted").await;
    let partner = app.create_partner_app(&owner, &company, &["POSTINGS_READ".into()]).await;
    let key = app.create_api_key(&owner, &partner.id).await;
    let maximum = |body: &Value| body["extensions"]["cost"]["throttleStatus"]["maximumAvailable"].clone();
    let (_, _, before) = post(&app, "{ __typename }", json!({}), &key).await;
    assert_eq!(maximum(&before), 6000, "{before}");

    let set = "mutation($i: SetPartnerAppCostBudgetInput!) { setPartnerAppCostBudget(input: $i) { partnerApp { costPerMinute } } }";
    let refused = app
        .graphql(set, json!({ "i": { "partnerAppId": partner.id, "pointsPerMinute": 50000 } }), Some(&owner.access))
        .await;
    assert_eq!(error_code(&refused), Some("FORBIDDEN"), "a company owner does not set budgets: {refused}");
    let admin = app.platform_admin().await;
    let low = app
        .graphql(set, json!({ "i": { "partnerAppId": partner.id, "pointsPerMinute": 10 } }), Some(&admin.access))
        .await;
    assert_eq!(crate::helpers::error_fields(&low), ["input.pointsPerMinute"], "{low}");
    let set_to = app
        .ok(set, json!({ "i": { "partnerAppId": partner.id, "pointsPerMinute": 50000 } }), Some(&admin.access))
        .await;
    assert_eq!(set_to["setPartnerAppCostBudget"]["partnerApp"]["costPerMinute"], 50000);
    let (_, _, after) = post(&app, "{ __typename }", json!({}), &key).await;
    assert_eq!(maximum(&after), 50000, "the key's cached app is cleared with the change: {after}");
    // 0: unmetered, reported without a throttle status.
    app.ok(set, json!({ "i": { "partnerAppId": partner.id, "pointsPerMinute": 0 } }), Some(&admin.access)).await;
    let (_, _, free) = post(&app, "{ __typename }", json!({}), &key).await;
    assert!(free["extensions"]["cost"]["throttleStatus"].is_null(), "{free}");
    assert_eq!(free["extensions"]["cost"]["requestedQueryCost"], 0);
}
