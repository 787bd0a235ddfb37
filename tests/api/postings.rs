use serde_json::{Value, json};

use crate::helpers::{complete_posting, error_code, error_fields, spawn_app};

const UPDATE: &str = "mutation($i: UpdatePostingInput!) { updatePosting(input: $i) { posting { id title summary version salary { min max currency period } } } }";

#[tokio::test]
async fn a_posting_walks_its_lifecycle_and_refuses_every_other_transition() {
    let app = spawn_app().await;
    let owner = app.register("owner").await;
    let company = app.create_company(&owner, "Acme").await;
    let id = app.create_posting(&owner, complete_posting(&company, "Backend Engineer")).await;

    let allowed = [
        ("publishPosting", "PUBLISHED"),
        ("pausePosting", "PAUSED"),
        ("publishPosting", "PUBLISHED"),
        ("closePosting", "CLOSED"),
        ("archivePosting", "ARCHIVED"),
    ];
    let all = ["publishPosting", "pausePosting", "closePosting", "archivePosting"];
    let mut status = "DRAFT";
    for (mutation, to) in allowed {
        // Every move this status does not allow is refused, naming from and to.
        for refused in all.iter().filter(|m| **m != mutation) {
            let legal_from_here = matches!(
                (status, *refused),
                ("DRAFT", "archivePosting")
                    | ("PUBLISHED", "pausePosting" | "closePosting")
                    | ("PAUSED", "publishPosting" | "closePosting")
            );
            if legal_from_here {
                continue;
            }
            let body = app.transition(&owner, refused, &id).await;
            assert_eq!(error_code(&body), Some("BAD_USER_INPUT"), "{status} via {refused}: {body}");
            assert!(body["errors"][0]["message"].as_str().unwrap().contains(status), "{body}");
        }
        let body = app.transition(&owner, mutation, &id).await;
        assert_eq!(body["data"][mutation]["posting"]["status"], to, "{status} via {mutation}: {body}");
        status = to;
    }
    for mutation in all {
        assert_eq!(
            error_code(&app.transition(&owner, mutation, &id).await),
            Some("BAD_USER_INPUT"),
            "ARCHIVED via {mutation}"
        );
    }
}

#[tokio::test]
async fn a_draft_can_be_archived_and_a_closed_posting_cannot_be_edited() {
    let app = spawn_app().await;
    let owner = app.register("owner").await;
    let company = app.create_company(&owner, "Acme").await;
    let draft = app.create_posting(&owner, complete_posting(&company, "Draft")).await;
    assert_eq!(
        app.transition(&owner, "archivePosting", &draft).await["data"]["archivePosting"]["posting"]["status"],
        "ARCHIVED"
    );
    let job = app.published_posting(&owner, &company, "Job").await;
    let closed = app.transition(&owner, "closePosting", &job).await;
    let version = closed["data"]["closePosting"]["posting"]["version"].clone();
    let body = app
        .graphql(
            UPDATE,
            json!({ "i": { "id": job, "expectedVersion": version, "title": "Changed" } }),
            Some(&owner.access),
        )
        .await;
    assert_eq!(error_code(&body), Some("BAD_USER_INPUT"));
}

#[tokio::test]
async fn publishing_an_incomplete_draft_names_the_missing_fields() {
    let app = spawn_app().await;
    let owner = app.register("owner").await;
    let company = app.create_company(&owner, "Acme").await;
    let id = app.create_posting(&owner, json!({ "companyId": company, "title": "Mystery job" })).await;
    let body = app.transition(&owner, "publishPosting", &id).await;
    assert_eq!(error_code(&body), Some("BAD_USER_INPUT"));
    let fields = error_fields(&body);
    assert_eq!(fields, ["description", "employmentType", "seniority", "workplace", "skills"]);
    let message = body["errors"][0]["message"].as_str().unwrap();
    assert!(message.contains("employmentType") && message.contains("skills"), "{message}");
}

#[tokio::test]
async fn invalid_posting_input_names_nested_paths() {
    let app = spawn_app().await;
    let owner = app.register("owner").await;
    let company = app.create_company(&owner, "Acme").await;
    let mut input = complete_posting(&company, "Job");
    input["salary"] = json!({ "min": 90000, "max": 70000, "currency": "EUR", "period": "YEAR" });
    input["locations"] = json!([{ "country": "DE" }]);
    let body = app
        .graphql(
            "mutation($i: CreatePostingInput!) { createPosting(input: $i) { posting { id } } }",
            json!({ "i": input }),
            Some(&owner.access),
        )
        .await;
    assert_eq!(error_code(&body), Some("BAD_USER_INPUT"));
    let fields = error_fields(&body);
    assert_eq!(fields, ["input.locations.0.city", "input.salary.max"]);

    // A currency that is not ISO 4217 never reaches the resolver.
    input = complete_posting(&company, "Job");
    input["salary"]["currency"] = json!("EURO");
    let (status, body) = app
        .post(
            "mutation($i: CreatePostingInput!) { createPosting(input: $i) { posting { id } } }",
            json!({ "i": input }),
            Some(&owner.access),
        )
        .await;
    assert_eq!(status, 400, "{body}");
    assert!(body["errors"][0]["message"].as_str().unwrap().contains("ISO 4217"), "{body}");
}

#[tokio::test]
async fn a_stale_update_is_a_conflict_and_changes_nothing() {
    let app = spawn_app().await;
    let owner = app.register("owner").await;
    let company = app.create_company(&owner, "Acme").await;
    let id = app.create_posting(&owner, complete_posting(&company, "Backend Engineer")).await;
    let first = app
        .ok(
            UPDATE,
            json!({ "i": { "id": id, "expectedVersion": 1, "title": "Senior Backend Engineer" } }),
            Some(&owner.access),
        )
        .await;
    assert_eq!(first["updatePosting"]["posting"]["version"], 2);
    let stale = app
        .graphql(
            UPDATE,
            json!({ "i": { "id": id, "expectedVersion": 1, "title": "Lost update" } }),
            Some(&owner.access),
        )
        .await;
    assert_eq!(error_code(&stale), Some("CONFLICT"), "{stale}");
    let now = app
        .ok("query($id: ID!) { posting(id: $id) { title version summary } }", json!({ "id": id }), Some(&owner.access))
        .await;
    assert_eq!(now["posting"]["title"], "Senior Backend Engineer");
    assert_eq!(now["posting"]["version"], 2);
    assert_eq!(now["posting"]["summary"], "Build the matching engine.", "omitted fields keep their value");
}

#[tokio::test]
async fn concurrent_updates_with_one_version_let_exactly_one_win() {
    let app = spawn_app().await;
    let owner = app.register("owner").await;
    let company = app.create_company(&owner, "Acme").await;
    let id = app.create_posting(&owner, complete_posting(&company, "Backend Engineer")).await;
    let attempts = (0..8).map(|n| {
        let (app, owner, id) = (&app, &owner, &id);
        async move {
            app.graphql(
                UPDATE,
                json!({ "i": { "id": id, "expectedVersion": 1, "title": format!("Title {n}") } }),
                Some(&owner.access),
            )
            .await
        }
    });
    let results = futures_util::future::join_all(attempts).await;
    let wins = results.iter().filter(|r| r.get("errors").is_none()).count();
    let conflicts = results.iter().filter(|r| error_code(r) == Some("CONFLICT")).count();
    assert_eq!((wins, conflicts), (1, 7), "{results:?}");
}

#[tokio::test]
async fn a_published_posting_must_stay_complete() {
    let app = spawn_app().await;
    let owner = app.register("owner").await;
    let company = app.create_company(&owner, "Acme").await;
    let id = app.published_posting(&owner, &company, "Backend Engineer").await;
    let body = app
        .graphql(UPDATE, json!({ "i": { "id": id, "expectedVersion": 2, "workplace": null } }), Some(&owner.access))
        .await;
    assert_eq!(error_code(&body), Some("BAD_USER_INPUT"));
    assert_eq!(body["errors"][0]["extensions"]["fields"][0]["path"], "input.workplace");
    let data = app
        .ok(UPDATE, json!({ "i": { "id": id, "expectedVersion": 2, "salary": { "min": 1, "max": 2, "currency": "USD", "period": "HOUR" } } }), Some(&owner.access))
        .await;
    assert_eq!(
        data["updatePosting"]["posting"]["salary"],
        json!({ "min": 1, "max": 2, "currency": "USD", "period": "HOUR" })
    );
}

#[tokio::test]
async fn postings_are_found_by_id_slug_and_node_and_drafts_stay_hidden() {
    let app = spawn_app().await;
    let owner = app.register("owner").await;
    let company = app.create_company(&owner, "Acme").await;
    let id = app.published_posting(&owner, &company, "Backend Engineer").await;
    let data = app.ok("query($id: ID!) { posting(id: $id) { slug title company { name } locations { country remote } skills { name required } } }", json!({ "id": id }), None).await;
    let slug = data["posting"]["slug"].as_str().unwrap().to_owned();
    assert!(slug.starts_with("backend-engineer-"), "{slug}");
    assert_eq!(data["posting"]["company"]["name"], "Acme");
    assert_eq!(data["posting"]["locations"], json!([{ "country": "DE", "remote": true }]));
    let by_slug = app.ok("query($s: String!) { posting(slug: $s) { id } }", json!({ "s": slug }), None).await;
    assert_eq!(by_slug["posting"]["id"], id);
    let node = app
        .ok("query($id: ID!) { node(id: $id) { __typename id ... on Posting { title } } }", json!({ "id": id }), None)
        .await;
    assert_eq!(node["node"], json!({ "__typename": "Posting", "id": id, "title": "Backend Engineer" }));

    let draft = app.create_posting(&owner, complete_posting(&company, "Secret")).await;
    for query in ["query($id: ID!) { posting(id: $id) { id } }", "query($id: ID!) { node(id: $id) { id } }"] {
        assert_eq!(error_code(&app.graphql(query, json!({ "id": draft }), None).await), Some("NOT_FOUND"));
    }
    let both = app.graphql("query($id: ID!) { posting(id: $id, slug: \"x\") { id } }", json!({ "id": id }), None).await;
    assert_eq!(error_code(&both), Some("BAD_USER_INPUT"));
    let wrong_kind = app.graphql("query($id: ID!) { posting(id: $id) { id } }", json!({ "id": company }), None).await;
    assert_eq!(error_code(&wrong_kind), Some("BAD_USER_INPUT"));
}

#[tokio::test]
async fn an_expired_posting_leaves_the_feed_but_can_still_be_read() {
    let app = spawn_app().await;
    let owner = app.register("owner").await;
    let company = app.create_company(&owner, "Acme").await;
    let mut input = complete_posting(&company, "Short-lived");
    input["expiresAt"] = json!((chrono::Utc::now() + chrono::Duration::seconds(2)).to_rfc3339());
    let id = app.create_posting(&owner, input).await;
    app.publish(&owner, &id).await;
    let query = "query($c: [ID!]) { postings(filter: { companyIds: $c }) { totalCount edges { node { id } } } }";
    let vars = json!({ "c": [company.clone()] });
    assert_eq!(app.ok(query, vars.clone(), None).await["postings"]["totalCount"], 1);
    tokio::time::sleep(std::time::Duration::from_millis(2500)).await;
    let after = app.ok(query, vars, None).await;
    assert_eq!(after["postings"]["totalCount"], 0);
    assert_eq!(after["postings"]["edges"], json!([]));
    let direct = app.ok("query($id: ID!) { posting(id: $id) { isExpired } }", json!({ "id": id }), None).await;
    assert_eq!(direct["posting"]["isExpired"], Value::Bool(true));
}
