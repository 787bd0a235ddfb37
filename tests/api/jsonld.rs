//! schema.org `JobPosting` for job boards: `Posting.jsonLd` and `GET /postings/{slug}.jsonld`,
//! checked for every published demo posting against a JSON Schema of what Google for Jobs
//! requires and recommends (tests/schemas/job-posting.schema.json), with a real validator
//! (check-jsonschema from PyPI, installed by tools/pytools.sh).

use std::path::{Path, PathBuf};

use serde_json::{Value, json};

use crate::helpers::{complete_posting, spawn_app, spawn_app_with};

const ROOT: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/..");

/// The folder of check-jsonschema, installed when missing. Outside CI a machine without Python's
/// venv and pip skips the schema check, saying so.
fn validator() -> Option<PathBuf> {
    let ci = std::env::var("CI").is_ok_and(|v| v == "true");
    let output = std::process::Command::new("bash").arg(format!("{ROOT}/tools/pytools.sh")).output();
    match output {
        Ok(out) if out.status.success() => Some(PathBuf::from(String::from_utf8_lossy(&out.stdout).trim())),
        other => {
            let why = match other {
                Ok(out) => String::from_utf8_lossy(&out.stderr).into_owned(),
                Err(e) => e.to_string(),
            };
            assert!(!ci, "CI needs tools/pytools.sh (python3 -m venv, pip): {why}");
            eprintln!("skipped the JSON Schema check: tools/pytools.sh failed: {why}");
            None
        }
    }
}

/// Every document in `docs`, written to files, validated in one run of check-jsonschema. It runs
/// off the test's runtime, which also runs the server: a first run installs the validator, and a
/// server that stood still meanwhile would drop the test client's kept-alive connections.
async fn validate(docs: Vec<(String, Value)>) {
    if let Err(failed) = tokio::task::spawn_blocking(move || validate_now(&docs)).await {
        std::panic::resume_unwind(failed.into_panic());
    }
}

fn validate_now(docs: &[(String, Value)]) {
    let Some(bin) = validator() else { return };
    let dir = std::env::temp_dir().join(format!("hiregraph-jsonld-{}", uuid::Uuid::now_v7().simple()));
    std::fs::create_dir_all(&dir).unwrap();
    let mut files = Vec::new();
    for (slug, doc) in docs {
        let file = dir.join(format!("{slug}.json"));
        std::fs::write(&file, serde_json::to_vec_pretty(doc).unwrap()).unwrap();
        files.push(file);
    }
    let output = std::process::Command::new(bin.join("check-jsonschema"))
        .arg("--schemafile")
        .arg(Path::new(ROOT).join("tests/schemas/job-posting.schema.json"))
        .args(&files)
        .output()
        .expect("run check-jsonschema");
    let _ = std::fs::remove_dir_all(&dir);
    assert!(
        output.status.success(),
        "JobPosting documents fail the schema:\n{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
}

#[tokio::test]
async fn every_published_demo_posting_is_a_valid_job_posting_for_google_for_jobs() {
    let app = spawn_app_with(&[("HIREGRAPH_DEMO_DATA", "on")]).await;
    let mut docs = Vec::new();
    let mut after: Option<String> = None;
    loop {
        let data = app
            .ok(
                "query($after: String) { postings(first: 50, after: $after) { totalCount
                   pageInfo { hasNextPage endCursor } edges { node { id slug title jsonLd } } } }",
                json!({ "after": after }),
                None,
            )
            .await;
        let page = &data["postings"];
        for edge in page["edges"].as_array().unwrap() {
            let node = &edge["node"];
            let slug = node["slug"].as_str().unwrap().to_owned();
            let ld = node["jsonLd"].clone();
            assert_eq!(ld["title"], node["title"]);
            assert_eq!(ld["identifier"]["value"], node["id"], "the identifier is the API id");
            let served = app.client.get(format!("{}/postings/{slug}.jsonld", app.address)).send().await.unwrap();
            assert_eq!(served.status(), 200, "{slug}");
            assert_eq!(served.headers()["content-type"], "application/ld+json");
            assert_eq!(served.headers()["cache-control"], "public, max-age=300");
            assert_eq!(served.json::<Value>().await.unwrap(), ld, "the endpoint and the field agree for {slug}");
            docs.push((slug, ld));
        }
        if page["pageInfo"]["hasNextPage"] != true {
            assert_eq!(page["totalCount"].as_u64().unwrap() as usize, docs.len());
            break;
        }
        after = page["pageInfo"]["endCursor"].as_str().map(str::to_owned);
    }
    assert!(docs.len() >= 50, "the demo data publishes at least 50 postings, found {}", docs.len());
    // The demo data covers both kinds of location: offices and remote work.
    assert!(docs.iter().any(|(_, d)| d["jobLocation"].is_array()));
    assert!(docs.iter().any(|(_, d)| d["jobLocationType"] == "TELECOMMUTE"));
    assert!(docs.iter().any(|(_, d)| d["baseSalary"].is_object()));
    let mut organizations = docs.iter().map(|(_, d)| &d["hiringOrganization"]);
    assert!(organizations.clone().all(|o| o["logo"].as_str().is_some_and(|l| l.starts_with("https://"))));
    assert!(organizations.all(|o| o["sameAs"].is_string()), "every demo company has a website");
    validate(docs).await;
}

#[tokio::test]
async fn markdown_becomes_html_raw_html_is_escaped_and_only_published_postings_are_served() {
    let app = spawn_app().await;
    let owner = app.register("owner").await;
    let company = app.create_company(&owner, "Escaping").await;
    let mut input = complete_posting(&company, "Backend <Engineer>");
    input["description"] = json!(
        "We build **search**.\n\n<script>alert('x')</script>\n\n- Rust\n- Postgres\n\n<img src=x onerror=alert(1)>"
    );
    input["workplace"] = json!("HYBRID");
    input["locations"] = json!([{ "city": "Berlin", "country": "DE", "remote": false }]);
    let id = app.create_posting(&owner, input).await;
    let read = "query($id: ID!) { posting(id: $id) { slug jsonLd } }";
    let draft = app.ok(read, json!({ "id": id }), Some(&owner.access)).await;
    let slug = draft["posting"]["slug"].as_str().unwrap().to_owned();
    let url = format!("{}/postings/{slug}.jsonld", app.address);
    assert_eq!(app.client.get(&url).send().await.unwrap().status(), 404, "a draft is not served");
    assert_eq!(draft["posting"]["jsonLd"]["title"], "Backend <Engineer>", "members preview a draft's");

    app.publish(&owner, &id).await;
    let served: Value = app.client.get(&url).send().await.unwrap().json().await.unwrap();
    let html = served["description"].as_str().unwrap();
    assert!(html.starts_with("<p>We build <strong>search</strong>.</p>"), "{html}");
    assert!(html.contains("<ul>\n<li>Rust</li>"), "{html}");
    assert!(!html.contains("<script") && !html.contains("<img"), "raw HTML passes through: {html}");
    assert!(html.contains("&lt;script&gt;"), "{html}");
    assert!(html.contains("<h2>Responsibilities</h2>\n<ul>\n<li>Design services</li>"), "{html}");
    assert_eq!(served["jobLocation"][0]["address"]["addressLocality"], "Berlin");
    assert_eq!(served["jobLocation"][0]["address"]["addressCountry"], "DE");
    assert!(served.get("jobLocationType").is_none(), "a hybrid job has an office");
    assert_eq!(served["baseSalary"]["value"]["unitText"], "YEAR");
    assert_eq!(served["experienceRequirements"]["monthsOfExperience"], 60);
    validate(vec![(slug.clone(), served)]).await;

    let closed = app.transition(&owner, "closePosting", &id).await;
    assert_eq!(closed["data"]["closePosting"]["posting"]["status"], "CLOSED", "{closed}");
    let gone = app.client.get(&url).send().await.unwrap();
    assert_eq!(gone.status(), 410, "a closed posting tells job boards to drop it");
    let missing = app.client.get(format!("{}/postings/no-such-posting.jsonld", app.address)).send().await.unwrap();
    assert_eq!(missing.status(), 404);
    assert!(missing.text().await.unwrap().contains("no published posting has the slug `no-such-posting`"));
}
