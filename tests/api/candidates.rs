use serde_json::{Value, json};

use crate::helpers::{error_code, error_fields, spawn_app};

const UPSERT: &str = "mutation($i: UpsertCandidateProfileInput!) { upsertCandidateProfile(input: $i) { profile { id displayName visibility skills { name years } openTo } } }";

#[tokio::test]
async fn a_candidate_creates_and_replaces_their_profile() {
    let app = spawn_app().await;
    let ada = app.register("ada").await;
    let first = app
        .ok(
            UPSERT,
            json!({ "i": { "displayName": "Ada", "skills": [{ "name": "Rust", "years": 4 }], "openTo": ["REMOTE"],
                "workHistory": [{ "company": "Acme", "title": "Engineer", "start": "2020-01", "end": "2023-06" }],
                "links": [{ "label": "Code", "url": "https://code.example/ada" }],
                "location": { "city": "Berlin", "country": "DE" } } }),
            Some(&ada.access),
        )
        .await;
    let id = first["upsertCandidateProfile"]["profile"]["id"].clone();
    assert_eq!(first["upsertCandidateProfile"]["profile"]["visibility"], "EMPLOYERS", "the default visibility");
    let second =
        app.ok(UPSERT, json!({ "i": { "displayName": "Ada L.", "visibility": "PUBLIC" } }), Some(&ada.access)).await;
    assert_eq!(second["upsertCandidateProfile"]["profile"]["id"], id, "one profile per user");
    assert_eq!(second["upsertCandidateProfile"]["profile"]["skills"], json!([]));
    let mine = app.ok("{ viewer { candidateProfile { displayName email } } }", json!({}), Some(&ada.access)).await;
    assert_eq!(mine["viewer"]["candidateProfile"]["displayName"], "Ada L.");
}

#[tokio::test]
async fn bad_profile_input_names_each_field() {
    let app = spawn_app().await;
    let ada = app.register("ada").await;
    let body = app
        .graphql(
            UPSERT,
            json!({ "i": { "displayName": "", "email": "nope", "phone": "call me",
                "workHistory": [{ "company": "Acme", "title": "Engineer", "start": "2020-13" }],
                "links": [{ "label": "x", "url": "ftp://x" }] } }),
            Some(&ada.access),
        )
        .await;
    assert_eq!(error_code(&body), Some("BAD_USER_INPUT"));
    let fields = error_fields(&body);
    assert_eq!(
        fields,
        [
            "input.displayName",
            "input.workHistory.0.start",
            "input.links.0.url",
            "input.contactEmail",
            "input.contactPhone"
        ]
    );
    let anon = app.graphql(UPSERT, json!({ "i": { "displayName": "X" } }), None).await;
    assert_eq!(error_code(&anon), Some("UNAUTHENTICATED"));
}

/// Contact fields reach a company only through an application, whatever the query shape.
#[tokio::test]
async fn contact_fields_are_hidden_on_every_path_until_the_candidate_applies() {
    let app = spawn_app().await;
    let owner = app.register("owner").await;
    let company = app.create_company(&owner, "Acme").await;
    let posting = app.published_posting(&owner, &company, "Job").await;
    let ada = app.register("ada").await;
    let profile = app
        .upsert_profile(
            &ada,
            json!({ "displayName": "Ada", "visibility": "PUBLIC", "email": "ada@contact.example", "phone": "+1 555 0100",
                "desiredSalary": { "min": 100, "max": 200, "currency": "EUR", "period": "YEAR" }, "skills": [{ "name": "Rust" }] }),
        )
        .await;
    let paths = [
        ("candidate", "query($id: ID!) { candidate(id: $id) { email phone desiredSalary { min } } }".to_owned()),
        (
            "node",
            "query($id: ID!) { node(id: $id) { ... on CandidateProfile { email phone desiredSalary { min } } } }"
                .to_owned(),
        ),
        (
            "nodes",
            "query($id: ID!) { nodes(ids: [$id]) { ... on CandidateProfile { email phone desiredSalary { min } } } }"
                .to_owned(),
        ),
        (
            "candidates",
            "{ candidates(first: 100) { edges { node { id email phone desiredSalary { min } } } } }".to_owned(),
        ),
    ];
    let leaked =
        |body: &Value| body.to_string().contains("ada@contact.example") || body.to_string().contains("555 0100");
    for (name, query) in &paths {
        let body = app.graphql(query, json!({ "id": profile }), Some(&owner.access)).await;
        assert!(!leaked(&body), "{name} leaked contact details before applying: {body}");
        let codes: Vec<&str> =
            body["errors"].as_array().unwrap().iter().filter_map(|e| e["extensions"]["code"].as_str()).collect();
        assert!(!codes.is_empty() && codes.iter().all(|c| *c == "FORBIDDEN"), "{name}: {body}");
        let anon = app.graphql(query, json!({ "id": profile }), None).await;
        assert!(!leaked(&anon), "{name} leaked to anonymous: {anon}");
    }
    app.apply(&ada, &posting).await;
    for (name, query) in &paths {
        let body = app.graphql(query, json!({ "id": profile }), Some(&owner.access)).await;
        assert!(
            body.to_string().contains("ada@contact.example"),
            "{name} hides contact details from the company applied to: {body}"
        );
        assert!(body.get("errors").is_none(), "{name}: {body}");
        let anon = app.graphql(query, json!({ "id": profile }), None).await;
        assert!(!leaked(&anon), "{name} leaked to anonymous after applying: {anon}");
    }
    let through_posting = app
        .ok(
            "query($id: ID!) { posting(id: $id) { applications { edges { node { candidate { email phone } } } } } }",
            json!({ "id": posting }),
            Some(&owner.access),
        )
        .await;
    assert_eq!(
        through_posting["posting"]["applications"]["edges"][0]["node"]["candidate"]["email"],
        "ada@contact.example"
    );
}

#[tokio::test]
async fn candidate_search_filters_and_never_lists_private_profiles() {
    let app = spawn_app().await;
    let owner = app.register("owner").await;
    let company = app.create_company(&owner, "Acme").await;
    let people = [
        ("rusty", "PUBLIC", "SENIOR", "DE", vec!["Rust", "Go"], vec!["REMOTE"]),
        ("gopher", "EMPLOYERS", "MID", "US", vec!["Go"], vec!["ONSITE"]),
        ("hidden", "PRIVATE", "SENIOR", "DE", vec!["Rust"], vec!["REMOTE"]),
        ("pythonista", "PUBLIC", "JUNIOR", "GB", vec!["Python"], vec!["HYBRID", "REMOTE"]),
    ];
    let mut gopher = String::new();
    for (name, visibility, seniority, country, skills, open_to) in &people {
        let s = app.register(name).await;
        let data = app
            .ok(
                UPSERT,
                json!({ "i": { "displayName": name, "visibility": visibility, "seniority": seniority,
                "location": { "city": "X", "country": country },
                "skills": skills.iter().map(|k| json!({ "name": k })).collect::<Vec<_>>(), "openTo": open_to } }),
                Some(&s.access),
            )
            .await;
        if *name == "gopher" {
            gopher = data["upsertCandidateProfile"]["profile"]["id"].as_str().unwrap().to_owned();
        }
    }
    let search = |filter: Value| {
        let app = &app;
        let token = owner.access.clone();
        async move {
            let data = app
                .ok("query($f: CandidateFilter) { candidates(filter: $f, first: 100) { totalCount edges { node { displayName } } } }", json!({ "f": filter }), Some(&token))
                .await;
            let mut names: Vec<String> = data["candidates"]["edges"]
                .as_array()
                .unwrap()
                .iter()
                .map(|e| e["node"]["displayName"].as_str().unwrap().to_owned())
                .collect();
            names.sort();
            assert_eq!(data["candidates"]["totalCount"].as_u64().unwrap() as usize, names.len());
            names
        }
    };
    // Anyone can create a company: until it is verified, its members see PUBLIC profiles only.
    assert_eq!(search(json!({})).await, ["pythonista", "rusty"]);
    let body = app
        .graphql("query($id: ID!) { candidate(id: $id) { displayName } }", json!({ "id": gopher }), Some(&owner.access))
        .await;
    assert_eq!(error_code(&body), Some("NOT_FOUND"), "{body}");
    app.verify_company(&company).await;
    app.ok("query($id: ID!) { candidate(id: $id) { displayName } }", json!({ "id": gopher }), Some(&owner.access))
        .await;
    assert_eq!(search(json!({})).await, ["gopher", "pythonista", "rusty"]);
    assert_eq!(search(json!({ "skills": ["rust"] })).await, ["rusty"]);
    assert_eq!(search(json!({ "skills": ["go", "RUST"] })).await, ["rusty"]);
    assert_eq!(search(json!({ "seniorities": ["SENIOR", "MID"] })).await, ["gopher", "rusty"]);
    assert_eq!(search(json!({ "countries": ["DE"] })).await, ["rusty"]);
    assert_eq!(search(json!({ "openTo": ["REMOTE"] })).await, ["pythonista", "rusty"]);
    assert_eq!(search(json!({ "openTo": ["ONSITE", "HYBRID"] })).await, ["gopher", "pythonista"]);
}
