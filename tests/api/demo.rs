use serde_json::json;

use crate::helpers::spawn_app_with;

/// What a newcomer sees on the first `cargo run`: the demo data, including the fixture posting.
#[tokio::test]
async fn the_demo_data_holds_fifty_public_postings_and_the_fixture_posting() {
    let app = spawn_app_with(&[("HIREGRAPH_DEMO_DATA", "on")]).await;
    let data = app
        .ok("{ postings(first: 5) { totalCount edges { node { title company { name } } } } }", json!({}), None)
        .await;
    assert!(data["postings"]["totalCount"].as_u64().unwrap() >= 50, "{data}");
    assert_eq!(data["postings"]["edges"].as_array().unwrap().len(), 5);
    assert!(data["postings"]["edges"][0]["node"]["company"]["name"].is_string());

    let found = app
        .ok(
            "{ postings(first: 100, filter: { skills: [\"Kafka\", \"Terraform\"], minSalary: { amount: 200000, currency: \"USD\" } }) {
                edges { node { title employmentType seniority minYearsExperience workplace equity
                  salary { min max currency period } locations { city region country remote } skills { name required } } } } }",
            json!({}),
            None,
        )
        .await;
    let fixture = found["postings"]["edges"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| &e["node"])
        .find(|n| n["title"] == "Senior Software Engineer - Backend/Infrastructure")
        .expect("the fixture posting is public and matches its own skills and salary");
    assert_eq!(fixture["employmentType"], "FULL_TIME");
    assert_eq!(fixture["seniority"], "SENIOR");
    assert_eq!(fixture["minYearsExperience"], 6);
    assert_eq!(fixture["workplace"], "REMOTE");
    assert_eq!(fixture["equity"], true);
    assert_eq!(fixture["salary"], json!({ "min": 160000, "max": 240000, "currency": "USD", "period": "YEAR" }));
    assert_eq!(fixture["locations"][0], json!({ "city": null, "region": null, "country": "US", "remote": true }));
    assert_eq!(fixture["locations"][1]["city"], "San Francisco Bay Area");

    // The demo accounts can sign in and see their company's drafts.
    let login = app
        .ok(
            "mutation { login(input: { email: \"recruiter@solstice-energy.example\", password: \"hiregraph-demo-password\" }) { accessToken } }",
            json!({}),
            None,
        )
        .await;
    let token = login["login"]["accessToken"].as_str().unwrap();
    let own = app
        .ok(
            "{ company(slug: \"solstice-energy\") { viewerRole postings(first: 100) { edges { node { status } } } } }",
            json!({}),
            Some(token),
        )
        .await;
    assert_eq!(own["company"]["viewerRole"], "RECRUITER");
    let statuses: Vec<&str> = own["company"]["postings"]["edges"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["node"]["status"].as_str().unwrap())
        .collect();
    assert!(statuses.contains(&"DRAFT"), "{statuses:?}");

    // Issue 3's acceptance: a living pipeline for the hiring team, nothing for anonymous callers.
    let recruiter = app
        .ok(
            "mutation { login(input: { email: \"recruiter@northwind-systems.example\", password: \"hiregraph-demo-password\" }) { accessToken } }",
            json!({}),
            None,
        )
        .await["login"]["accessToken"]
        .as_str()
        .unwrap()
        .to_owned();
    let fixture_id =
        app.ok("{ postings(first: 100) { edges { node { id title } } } }", json!({}), None).await["postings"]["edges"]
            .as_array()
            .unwrap()
            .iter()
            .find(|e| e["node"]["title"] == "Senior Software Engineer - Backend/Infrastructure")
            .map(|e| e["node"]["id"].as_str().unwrap().to_owned())
            .unwrap();
    let query = "query($id: ID!) { posting(id: $id) { pipeline { status count } applications(first: 10) { edges { node { status candidate { displayName email } events { to } } } } } }";
    let team = app.ok(query, json!({ "id": fixture_id }), Some(&recruiter)).await;
    let edges = team["posting"]["applications"]["edges"].as_array().unwrap();
    assert!(!edges.is_empty(), "{team}");
    assert!(edges.iter().all(|e| e["node"]["candidate"]["email"].as_str().is_some_and(|m| m.contains('@'))), "{team}");
    let total: u64 = team["posting"]["pipeline"].as_array().unwrap().iter().map(|s| s["count"].as_u64().unwrap()).sum();
    assert_eq!(total as usize, edges.len());
    let anonymous = app.graphql(query, json!({ "id": fixture_id }), None).await;
    assert!(anonymous["data"]["posting"]["applications"].is_null(), "{anonymous}");
    assert!(!anonymous.to_string().contains("@hiregraph.example"), "{anonymous}");
}
