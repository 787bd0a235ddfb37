//! Idempotency keys against the real server: concurrent duplicates run once and all get the same
//! answer, a retry is replayed from the database (by another replica too), a key reused for
//! another request is refused, and keys are each caller's own.

use serde_json::{Value, json};

use crate::helpers::{TestApp, complete_posting, spawn_app, spawn_replica};

const CREATE: &str = "mutation($i: CreatePostingInput!) { createPosting(input: $i) { posting { id title } } }";
const COUNT: &str = "query($id: ID!) { node(id: $id) { ... on Company { postings(first: 1) { totalCount } } } }";

/// POSTs a GraphQL request with an `Idempotency-Key`: status, whether it was a replay, body.
async fn post_with_key(
    app: &TestApp,
    key: &str,
    query: &str,
    variables: Value,
    bearer: Option<&str>,
) -> (u16, bool, Value) {
    let mut request = app
        .client
        .post(format!("{}/graphql", app.address))
        .header("idempotency-key", key)
        .json(&json!({ "query": query, "variables": variables }));
    if let Some(bearer) = bearer {
        request = request.bearer_auth(bearer);
    }
    let response = request.send().await.unwrap();
    let status = response.status().as_u16();
    let replayed = response.headers().get("idempotent-replayed").is_some_and(|v| v == "true");
    (status, replayed, response.json().await.unwrap_or(Value::Null))
}

async fn postings_of(app: &TestApp, company: &str, bearer: &str) -> u64 {
    app.ok(COUNT, json!({ "id": company }), Some(bearer)).await["node"]["postings"]["totalCount"].as_u64().unwrap()
}

#[tokio::test]
async fn twenty_concurrent_requests_with_one_key_run_once_and_get_one_answer() {
    let app = spawn_app().await;
    let owner = app.register("owner").await;
    let company = app.create_company(&owner, "Once").await;
    let key = uuid::Uuid::now_v7().to_string();
    let input = json!({ "i": complete_posting(&company, "Exactly once") });
    let requests = (0..20).map(|_| post_with_key(&app, &key, CREATE, input.clone(), Some(&owner.access)));
    let answers = futures_util::future::join_all(requests).await;
    let first = &answers[0].2;
    assert!(first["data"]["createPosting"]["posting"]["id"].is_string(), "{first}");
    for (status, _, body) in &answers {
        assert_eq!((*status, body), (200, first), "every duplicate gets the first answer");
    }
    assert_eq!(answers.iter().filter(|(_, replayed, _)| !replayed).count(), 1, "one execution, the rest replays");
    assert_eq!(postings_of(&app, &company, &owner.access).await, 1);

    // A retry later, through another replica, is answered from the database.
    let replica = spawn_replica(&app).await;
    let (status, replayed, body) = post_with_key(&replica, &key, CREATE, input.clone(), Some(&owner.access)).await;
    assert_eq!((status, replayed, &body), (200, true, first));
    assert_eq!(postings_of(&app, &company, &owner.access).await, 1);

    // The same key with another body is refused, and runs nothing.
    let other = json!({ "i": complete_posting(&company, "Something else") });
    let (status, _, body) = post_with_key(&app, &key, CREATE, other, Some(&owner.access)).await;
    assert_eq!(status, 409, "{body}");
    assert_eq!(body["errors"][0]["extensions"]["code"], "CONFLICT");
    assert_eq!(body["errors"][0]["extensions"]["reason"], "IDEMPOTENCY_KEY_REUSED");
    assert_eq!(postings_of(&app, &company, &owner.access).await, 1);

    // Field order does not make a different request.
    let mut reordered = serde_json::Map::new();
    reordered.insert("variables".into(), input.clone());
    reordered.insert("query".into(), CREATE.into());
    let response = app
        .client
        .post(format!("{}/graphql", app.address))
        .header("idempotency-key", &key)
        .bearer_auth(&owner.access)
        .body(Value::Object(reordered).to_string())
        .header("content-type", "application/json")
        .send()
        .await
        .unwrap();
    assert_eq!(response.headers().get("idempotent-replayed").map(|v| v.to_str().unwrap()), Some("true"));
}

#[tokio::test]
async fn keys_are_each_callers_own_and_bad_ones_are_refused() {
    let app = spawn_app().await;
    let owner = app.register("owner").await;
    let company = app.create_company(&owner, "Keyed").await;
    let admin = app.register("admin").await;
    app.add_member(&owner, &company, &admin, "ADMIN").await;
    let key = "retry-4711";
    let input = |title: &str| json!({ "i": complete_posting(&company, title) });

    let (status, replayed, _) = post_with_key(&app, key, CREATE, input("Mine"), Some(&owner.access)).await;
    assert_eq!((status, replayed), (200, false));
    // Another caller's same key is theirs: it runs.
    let (status, replayed, body) = post_with_key(&app, key, CREATE, input("Mine"), Some(&admin.access)).await;
    assert_eq!((status, replayed), (200, false), "{body}");
    // So is a partner's.
    let partner = app.create_partner_app(&owner, &company, &["POSTINGS_WRITE".into()]).await;
    let partner_key = app.create_api_key(&owner, &partner.id).await;
    let (status, replayed, body) = post_with_key(&app, key, CREATE, input("Mine"), Some(&partner_key)).await;
    assert_eq!((status, replayed), (200, false), "{body}");
    let (status, replayed, again) = post_with_key(&app, key, CREATE, input("Mine"), Some(&partner_key)).await;
    assert_eq!((status, replayed, &again), (200, true, &body));
    assert_eq!(postings_of(&app, &company, &owner.access).await, 3);

    // An answer with errors is an answer: replayed too, not run again.
    let bad = json!({ "i": { "companyId": company, "title": "" } });
    let (_, _, first) = post_with_key(&app, "bad-input", CREATE, bad.clone(), Some(&owner.access)).await;
    assert_eq!(first["errors"][0]["extensions"]["code"], "BAD_USER_INPUT", "{first}");
    let (_, replayed, second) = post_with_key(&app, "bad-input", CREATE, bad, Some(&owner.access)).await;
    assert_eq!((replayed, &second), (true, &first));

    // Anonymous callers have no keys; a malformed key is refused before anything runs.
    let register = "mutation($i: RegisterInput!) { register(input: $i) { user { id } } }";
    let vars = json!({ "i": { "email": crate::helpers::unique_email("anon"), "password": crate::helpers::PASSWORD } });
    let (status, _, body) = post_with_key(&app, "anon", register, vars, None).await;
    assert_eq!(status, 400, "{body}");
    let (status, _, body) = post_with_key(&app, &"k".repeat(256), CREATE, input("Long key"), Some(&owner.access)).await;
    assert_eq!(status, 400, "{body}");
    assert!(body.to_string().contains("Idempotency-Key"), "{body}");
    assert_eq!(postings_of(&app, &company, &owner.access).await, 3);
}
