use serde_json::json;

use crate::helpers::{error_code, error_fields, spawn_app};

const IMPORT: &str = "mutation($i: ImportPostingInput!) { importPosting(input: $i) { warnings posting {
  id title status employmentType seniority minYearsExperience workplace equity
  salary { min max currency period } locations { city country remote } skills { name required }
  responsibilities requiredQualifications preferredQualifications benefits } } }";

#[tokio::test]
async fn a_markdown_job_description_becomes_a_structured_draft() {
    let app = spawn_app().await;
    let owner = app.register("owner").await;
    let company = app.create_company(&owner, "Northwind").await;
    let markdown = include_str!("../../domain/tests/data/senior-backend-infrastructure.md");
    let data =
        app.ok(IMPORT, json!({ "i": { "companyId": company, "markdown": markdown } }), Some(&owner.access)).await;
    let p = &data["importPosting"]["posting"];
    assert_eq!(p["title"], "Senior Software Engineer - Backend/Infrastructure");
    assert_eq!(p["status"], "DRAFT");
    assert_eq!(p["employmentType"], "FULL_TIME");
    assert_eq!(p["seniority"], "SENIOR");
    assert_eq!(p["minYearsExperience"], 6);
    assert_eq!(p["workplace"], "REMOTE");
    assert_eq!(p["equity"], true);
    assert_eq!(p["salary"], json!({ "min": 160000, "max": 240000, "currency": "USD", "period": "YEAR" }));
    assert_eq!(p["locations"][0], json!({ "city": null, "country": "US", "remote": true }));
    assert_eq!(p["locations"][1]["city"], "San Francisco Bay Area");
    let skills: Vec<&str> = p["skills"].as_array().unwrap().iter().map(|s| s["name"].as_str().unwrap()).collect();
    for skill in
        ["Python", "Java", "Go", "Scala", "AWS", "Kubernetes", "Docker", "Terraform", "PostgreSQL", "Redis", "Kafka"]
    {
        assert!(skills.contains(&skill), "{skill} missing: {skills:?}");
    }
    assert_eq!(p["responsibilities"].as_array().unwrap().len(), 20);
    assert_eq!(data["importPosting"]["warnings"], json!([]));
    // Complete as imported: it can be published straight away.
    app.publish(&owner, p["id"].as_str().unwrap()).await;
}

#[tokio::test]
async fn importing_needs_a_recruiter_and_some_markdown() {
    let app = spawn_app().await;
    let owner = app.register("owner").await;
    let stranger = app.register("stranger").await;
    let company = app.create_company(&owner, "Acme").await;
    let vars = json!({ "i": { "companyId": company, "markdown": "# Rust Engineer\n\nRemote (Germany). €70k–90k." } });
    assert_eq!(error_code(&app.graphql(IMPORT, vars.clone(), Some(&stranger.access)).await), Some("FORBIDDEN"));
    assert_eq!(error_code(&app.graphql(IMPORT, vars.clone(), None).await), Some("UNAUTHENTICATED"));
    let empty =
        app.graphql(IMPORT, json!({ "i": { "companyId": company, "markdown": "  " } }), Some(&owner.access)).await;
    assert_eq!(error_fields(&empty), ["input.markdown"]);
    let data = app.ok(IMPORT, vars, Some(&owner.access)).await;
    let warnings: Vec<&str> =
        data["importPosting"]["warnings"].as_array().unwrap().iter().map(|w| w.as_str().unwrap()).collect();
    assert!(warnings.iter().any(|w| w.contains("employment type")), "{warnings:?}");
    assert_eq!(data["importPosting"]["posting"]["salary"]["currency"], "EUR");
    assert_eq!(data["importPosting"]["posting"]["workplace"], "REMOTE");
    assert_eq!(data["importPosting"]["posting"]["locations"][0]["country"], "DE");
}
