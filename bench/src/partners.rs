//! Partner credentials and bulk upserts: the API key a load run can use instead of a user token,
//! and `upsert-batch`, which times `upsertPostings` batches of 100 as a sync client sends them.

use std::collections::HashMap;
use std::time::Instant;

use serde_json::{Value, json};

use crate::{BENCH_PASSWORD, graphql, number};

/// The bench owner's access token.
pub(crate) async fn owner_token(client: &reqwest::Client, url: &str) -> Result<String, String> {
    let login = graphql(
        client,
        url,
        "mutation($i: LoginInput!) { login(input: $i) { accessToken } }",
        json!({ "i": { "email": "bench-owner@bench.example", "password": BENCH_PASSWORD } }),
        None,
    )
    .await?;
    Ok(login["data"]["login"]["accessToken"].as_str().unwrap_or_default().to_owned())
}

/// The id of the bench owner's first company.
async fn first_company(client: &reqwest::Client, url: &str, token: &str) -> Result<String, String> {
    let data = graphql(client, url, r#"{ company(slug: "bench-co-1") { id } }"#, json!({}), Some(token)).await?;
    data["data"]["company"]["id"].as_str().map(str::to_owned).ok_or_else(|| format!("no bench-co-1: {data}"))
}

/// A new API key of a new partner app of the bench owner's first company, with `scopes`.
pub(crate) async fn api_key(client: &reqwest::Client, url: &str, scopes: &[&str]) -> Result<String, String> {
    let token = owner_token(client, url).await?;
    let company = first_company(client, url, &token).await?;
    let app = graphql(
        client,
        url,
        "mutation($i: CreatePartnerAppInput!) { createPartnerApp(input: $i) { partnerApp { id } } }",
        json!({ "i": { "companyId": company, "name": "Bench partner", "scopes": scopes } }),
        Some(&token),
    )
    .await?;
    let key = graphql(
        client,
        url,
        "mutation($i: CreateApiKeyInput!) { createApiKey(input: $i) { key } }",
        json!({ "i": { "partnerAppId": app["data"]["createPartnerApp"]["partnerApp"]["id"], "name": "Bench" } }),
        Some(&token),
    )
    .await?;
    key["data"]["createApiKey"]["key"].as_str().map(str::to_owned).ok_or_else(|| format!("no key: {key}"))
}

/// Which lists round `round` sends: they change every second round.
fn lists_of(round: usize) -> usize {
    round - round % 2
}

/// Item `i` of a batch as round `round` sends it: every round changes the summary; when
/// `lists_of` changes, every list changes too (responsibilities, locations, skills, benefits).
fn item(run: &str, i: usize, round: usize) -> Value {
    let lists = lists_of(round);
    let (country, skill) = if (lists / 2) % 2 == 1 { ("AT", "Redis") } else { ("DE", "PostgreSQL") };
    json!({
        "externalId": format!("{run}-{i}"),
        "title": format!("Bench sync engineer {i}"),
        "summary": format!("Round {round}"),
        "description": "Build the services that match candidates with companies, in Rust, with a small team.",
        "responsibilities": ["Design services", "Review code", format!("Ship release {lists}")],
        "employmentType": "FULL_TIME",
        "seniority": "SENIOR",
        "workplace": "REMOTE",
        "locations": [{ "country": country, "remote": true }],
        "salary": { "min": 70000, "max": 90000, "currency": "EUR", "period": "YEAR" },
        "skills": [{ "name": "Rust", "required": true }, { "name": skill, "required": false }],
        "benefits": [format!("Learning budget {lists}")],
    })
}

/// `upsert-batch`: `--rounds` batches of 100 postings through a partner's API key, one at a time:
/// the first creates and publishes them, then each round changes every posting (100 updates: the
/// summary, and every second round every list too), and every fifth replays the one before. Prints p50 and p99 per kind.
pub(crate) async fn batch(flags: &HashMap<String, String>) -> Result<(), String> {
    let url = flags.get("url").cloned().unwrap_or_else(|| "http://127.0.0.1:8080".to_owned());
    let rounds = usize::try_from(number(flags, "rounds", 20)?).unwrap_or(20);
    let size = usize::try_from(number(flags, "size", 100)?).unwrap_or(100);
    let client = reqwest::Client::new();
    let key = api_key(&client, &url, &["POSTINGS_WRITE"]).await?;
    let token = owner_token(&client, &url).await?;
    let company = first_company(&client, &url, &token).await?;
    let run = format!("bench-{}", std::process::id());
    let query = "mutation($i: UpsertPostingsInput!) { upsertPostings(input: $i) { results { outcome } } }";
    let mut timings: HashMap<&str, Vec<f64>> = HashMap::new();
    let mut stored_lists = 0;
    for round in 0..rounds {
        // Round 0 creates; later rounds update; every fifth round replays the one before.
        let (label, outcome, content_round) = match round {
            0 => ("created and published", "CREATED", 0),
            r if r % 5 == 4 => ("replayed, unchanged", "UNCHANGED", r - 1),
            r if lists_of(r) == stored_lists => ("summary changed", "UPDATED", r),
            r => ("summary and every list changed", "UPDATED", r),
        };
        stored_lists = lists_of(content_round);
        let items: Vec<Value> = (0..size).map(|i| item(&run, i, content_round)).collect();
        let vars = json!({ "i": { "companyId": company, "postings": items, "publish": true } });
        let started = Instant::now();
        let body = graphql(&client, &url, query, vars, Some(&key)).await?;
        let took = started.elapsed().as_secs_f64() * 1000.0;
        let results = body["data"]["upsertPostings"]["results"].as_array().cloned().unwrap_or_default();
        if results.len() != size || results.iter().any(|r| r["outcome"] != outcome) {
            return Err(format!("round {round}: expected {size} × {outcome}, got {body}"));
        }
        timings.entry(label).or_default().push(took);
    }
    println!("| batch of {size} | calls | p50 ms | p99 ms |");
    println!("| --- | --- | --- | --- |");
    for label in ["created and published", "summary changed", "summary and every list changed", "replayed, unchanged"] {
        let Some(list) = timings.get_mut(label) else { continue };
        list.sort_by(f64::total_cmp);
        let at = |p: f64| list[((list.len() as f64 * p) as usize).min(list.len() - 1)];
        println!("| {label} | {} | {:.0} | {:.0} |", list.len(), at(0.5), at(0.99));
    }
    Ok(())
}
