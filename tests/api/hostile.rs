//! Hostile documents and inputs: each is refused fast, cheaply and with a clear code.

use std::time::{Duration, Instant};

use serde_json::json;

use crate::helpers::{error_code, spawn_app, spawn_app_with};

/// `query { ...Fn }` where every fragment spreads the one below it twice: 2ⁿ fields if expanded.
fn fragment_bomb(levels: usize) -> String {
    let mut doc = format!("query {{ ...F{levels} }} fragment F0 on Query {{ __typename }}");
    for i in 1..=levels {
        doc.push_str(&format!(" fragment F{i} on Query {{ ...F{p} ...F{p} }}", p = i - 1));
    }
    doc
}

#[tokio::test]
async fn fragment_bombs_are_refused_before_any_expansion() {
    let app = spawn_app().await;
    let started = Instant::now();
    for levels in 10..=40 {
        let (status, body) = app.post(&fragment_bomb(levels), json!({}), None).await;
        assert_eq!(status, 400, "{levels} levels: {body}");
        assert_eq!(error_code(&body), Some("QUERY_TOO_COMPLEX"), "{levels} levels: {body}");
        assert!(body.get("data").is_none(), "{body}");
    }
    // Expanded, level 30 alone would be 2³⁰ visits: minutes of CPU and gigabytes. Measured, all
    // 31 documents take milliseconds; the bound only has to tell linear from exponential.
    let elapsed = started.elapsed();
    assert!(elapsed < Duration::from_secs(5), "31 bombs took {elapsed:?}");
    // The message says what was counted and which setting bounds it.
    let (_, body) = app.post(&fragment_bomb(30), json!({}), None).await;
    let message = body["errors"][0]["message"].as_str().unwrap();
    assert!(message.contains("1073741824") && message.contains("HIREGRAPH_MAX_SELECTIONS"), "{message}");
    // A small fragment tree is fine.
    app.ok(&fragment_bomb(3), json!({}), None).await;
}

#[tokio::test]
async fn long_documents_unknown_directives_and_spread_floods_are_refused() {
    let app = spawn_app().await;
    let long = format!("{{ {} }}", (0..700).map(|i| format!("f{i}: __typename")).collect::<Vec<_>>().join(" "));
    let (status, body) = app.post(&long, json!({}), None).await;
    assert_eq!((status, error_code(&body)), (400, Some("QUERY_TOO_COMPLEX")), "{body}");
    assert!(body["errors"][0]["message"].as_str().unwrap().contains("tokens"), "{body}");

    let directives = format!("{{ __typename {} }}", "@aa ".repeat(10_000));
    let (status, body) = app.post(&directives, json!({}), None).await;
    assert_eq!((status, error_code(&body)), (400, Some("QUERY_TOO_COMPLEX")), "{body}");
    for unknown in ["{ __typename @aa }", "query Q @aa { __typename }", "query Q($x: Int @aa) { __typename }"] {
        let (status, body) = app.post(unknown, json!({}), None).await;
        assert_eq!((status, error_code(&body)), (400, Some("GRAPHQL_VALIDATION_FAILED")), "{unknown}: {body}");
        assert!(body["errors"][0]["message"].as_str().unwrap().contains("unknown directive @aa"), "{body}");
    }

    let spreads = format!("{{ {} }} fragment T on Query {{ __typename }}", "...T ".repeat(101));
    let (status, body) = app.post(&spreads, json!({}), None).await;
    assert_eq!((status, error_code(&body)), (400, Some("QUERY_TOO_COMPLEX")), "{body}");
    assert!(body["errors"][0]["message"].as_str().unwrap().contains("HIREGRAPH_MAX_FRAGMENT_SPREADS"), "{body}");

    let cycle = "{ ...A } fragment A on Query { ...B } fragment B on Query { ...A }";
    let (status, body) = app.post(cycle, json!({}), None).await;
    assert_eq!((status, error_code(&body)), (400, Some("GRAPHQL_VALIDATION_FAILED")), "{body}");

    // Every one of them is configurable.
    let loose = spawn_app_with(&[("HIREGRAPH_MAX_TOKENS", "5000"), ("HIREGRAPH_MAX_ALIASES", "1000")]).await;
    loose.ok(&long, json!({}), None).await;
}

#[tokio::test]
async fn control_characters_in_any_string_input_are_bad_input_naming_it_and_store_nothing() {
    let app = spawn_app().await;
    let owner = app.register("nul-owner").await;
    let company = app.create_company(&owner, "Nul Industries").await;
    let mut posting = crate::helpers::complete_posting(&company, "Rust\u{0}Engineer");
    let cases: Vec<(&str, serde_json::Value, Option<&str>, &str)> = vec![
        ("{ company(slug: \"\\u0000\") { id } }", json!({}), None, "company.slug"),
        ("query($s: String!) { company(slug: $s) { id } }", json!({ "s": "a\u{0}b" }), None, "$s"),
        (
            "mutation($i: CreatePostingInput!) { createPosting(input: $i) { posting { id } } }",
            json!({ "i": posting.clone() }),
            Some(&owner.access),
            "$i.title",
        ),
        (
            "mutation($i: UpsertCandidateProfileInput!) { upsertCandidateProfile(input: $i) { profile { id } } }",
            json!({ "i": { "displayName": "Ada\u{1b}[2J", "visibility": "PUBLIC" } }),
            Some(&owner.access),
            "$i.displayName",
        ),
        (
            "{ postings(filter: { skills: [\"Go\", \"Rust\\u0007\"] }) { totalCount } }",
            json!({}),
            None,
            "postings.filter.skills.1",
        ),
    ];
    for (query, variables, token, field) in cases {
        let (status, body) = app.post(query, variables, token).await;
        assert_eq!((status, error_code(&body)), (400, Some("BAD_USER_INPUT")), "{query}: {body}");
        assert_eq!(crate::helpers::error_fields(&body), vec![field.to_owned()], "{body}");
    }
    // Nothing was stored; the same posting without the NUL is fine, and tab and newlines pass.
    let count = app
        .ok("{ viewer { memberships { company { postings { totalCount } } } } }", json!({}), Some(&owner.access))
        .await;
    assert_eq!(count["viewer"]["memberships"][0]["company"]["postings"]["totalCount"], 0, "{count}");
    posting["title"] = json!("Rust Engineer");
    posting["description"] = json!("Line one\n\tLine two, indented.");
    app.create_posting(&owner, posting).await;
}
