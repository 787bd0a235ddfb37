//! Full-text search of the public feed: what it finds, how it orders and pages, and that the
//! database keeps the search text in step with every edit. Same tests on SQLite and Postgres.
//! The word-matching tests turn semantic search off, so they see exactly what words find; the
//! last tests turn it on and check what meaning adds.

use serde_json::{Value, json};

use crate::helpers::{Session, TestApp, complete_posting, error_code, error_fields, spawn_app, spawn_app_with};

const SEARCH: &str = "query($f: PostingFilter, $o: PostingOrder, $first: Int, $after: String) {
  postings(filter: $f, orderBy: $o, first: $first, after: $after) {
    totalCount
    edges { cursor relevance node { id title } }
    pageInfo { hasNextPage endCursor }
    facets { workplaces { value count } skills { value count } }
  }
}";

struct Spec {
    title: &'static str,
    summary: &'static str,
    skills: &'static [&'static str],
    workplace: &'static str,
    salary: (i64, i64, &'static str),
}

const SPECS: &[Spec] = &[
    Spec {
        title: "Site Reliability Engineer",
        summary: "Keep our clusters healthy.",
        skills: &["Kubernetes", "Terraform"],
        workplace: "REMOTE",
        salary: (150_000, 190_000, "YEAR"),
    },
    Spec {
        title: "Backend Developer",
        summary: "Build payment APIs in Go.",
        skills: &["Go", "PostgreSQL"],
        workplace: "HYBRID",
        salary: (110_000, 130_000, "YEAR"),
    },
    Spec {
        title: "Frontend Engineer",
        summary: "Ship our design system.",
        skills: &["TypeScript", "React"],
        workplace: "REMOTE",
        salary: (9_000, 11_000, "MONTH"),
    },
    Spec {
        title: "Data Analyst",
        summary: "Answer questions with SQL.",
        skills: &["SQL"],
        workplace: "ONSITE",
        salary: (60, 80, "HOUR"),
    },
];

async fn setup() -> (TestApp, Session, String, Vec<String>) {
    setup_with(&[("HIREGRAPH_SEMANTIC_SEARCH", "false")]).await
}

async fn setup_with(settings: &[(&str, &str)]) -> (TestApp, Session, String, Vec<String>) {
    let app = spawn_app_with(settings).await;
    let owner = app.register("owner").await;
    let company = app.create_company(&owner, "Zephyrine Logistics").await;
    let mut ids = Vec::new();
    for spec in SPECS {
        let mut input = complete_posting(&company, spec.title);
        input["summary"] = json!(spec.summary);
        input["skills"] = json!(spec.skills.iter().map(|s| json!({ "name": s, "required": true })).collect::<Vec<_>>());
        input["workplace"] = json!(spec.workplace);
        input["locations"] = json!([{ "city": "Berlin", "country": "DE", "remote": spec.workplace == "REMOTE" }]);
        let (min, max, period) = spec.salary;
        input["salary"] = json!({ "min": min, "max": max, "currency": "EUR", "period": period });
        let id = app.create_posting(&owner, input).await;
        app.publish(&owner, &id).await;
        ids.push(id);
    }
    (app, owner, company, ids)
}

fn titles(data: &Value) -> Vec<String> {
    data["postings"]["edges"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["node"]["title"].as_str().unwrap().to_owned())
        .collect()
}

async fn rename(app: &TestApp, owner: &Session, company: &str, name: &str) {
    app.ok(
        "mutation($i: UpdateCompanyInput!) { updateCompany(input: $i) { company { name } } }",
        json!({ "i": { "id": company, "name": name } }),
        Some(&owner.access),
    )
    .await;
}

async fn search(app: &TestApp, query: &str) -> Vec<String> {
    titles(&app.ok(SEARCH, json!({ "f": { "query": query } }), None).await)
}

#[tokio::test]
async fn search_finds_words_in_every_field_in_any_form() {
    let (app, _, _, _) = setup().await;
    // Stemming: "engineers" finds "Engineer"; a skill through its alias; a typo of a known word.
    let mut engineers = search(&app, "engineers").await;
    engineers.sort();
    assert_eq!(engineers, ["Frontend Engineer", "Site Reliability Engineer"]);
    assert_eq!(search(&app, "k8s").await, ["Site Reliability Engineer"]);
    assert_eq!(search(&app, "kubernetse").await, ["Site Reliability Engineer"]);
    assert_eq!(search(&app, "golang").await, ["Backend Developer"]);
    // Summary, skills and the company's name are searched too. Every posting that shares a word
    // is found, and one with every word ranks first.
    assert_eq!(search(&app, "payment").await, ["Backend Developer"]);
    assert_eq!(search(&app, "typescript engineer").await, ["Frontend Engineer", "Site Reliability Engineer"]);
    assert_eq!(search(&app, "zephyrine").await.len(), SPECS.len());
    let mut either = search(&app, "typescript analyst").await;
    either.sort();
    assert_eq!(either, ["Data Analyst", "Frontend Engineer"]);
    // A word nobody uses does not hide the postings that share the others.
    assert_eq!(search(&app, "xylophone reliability").await, ["Site Reliability Engineer"]);
    assert!(search(&app, "xylophone").await.is_empty());
    // Stop words and numbers only: as if no words were given, not an error.
    let data = app.ok(SEARCH, json!({ "f": { "query": "the and of 2026" } }), None).await;
    assert_eq!(data["postings"]["totalCount"], SPECS.len());
    assert!(data["postings"]["edges"].as_array().unwrap().iter().all(|e| e["relevance"].is_null()));
}

#[tokio::test]
async fn results_carry_a_relevance_and_combine_with_filters_counts_and_facets() {
    let (app, _, _, _) = setup().await;
    // Scores lie between 0 and 1, best first.
    let data = app.ok(SEARCH, json!({ "f": { "query": "engineer" } }), None).await;
    let edges = data["postings"]["edges"].as_array().unwrap();
    let scores: Vec<f64> = edges.iter().map(|e| e["relevance"].as_f64().unwrap()).collect();
    assert!(scores.iter().all(|s| (0.0..1.0).contains(s) && *s > 0.0), "{scores:?}");
    assert!(scores.windows(2).all(|w| w[0] >= w[1]), "best first: {scores:?}");

    let filtered = json!({ "f": { "query": "engineer", "workplaces": ["REMOTE"], "skills": ["react"] } });
    let data = app.ok(SEARCH, filtered, None).await;
    assert_eq!(titles(&data), ["Frontend Engineer"]);
    assert_eq!(data["postings"]["totalCount"], 1);
    assert_eq!(data["postings"]["facets"]["workplaces"], json!([{ "value": "REMOTE", "count": 1 }]));

    let data = app.ok(SEARCH, json!({ "f": { "query": "zephyrine" } }), None).await;
    assert_eq!(data["postings"]["totalCount"], 4);
    let workplaces = &data["postings"]["facets"]["workplaces"];
    assert_eq!(workplaces[0], json!({ "value": "REMOTE", "count": 2 }), "{workplaces}");
}

#[tokio::test]
async fn relevance_and_salary_orders_page_through_every_hit_once() {
    page_through_every_hit_once(false).await;
}

/// The same pages, answered by the in-memory index (meaning on, the index caught up): every hit
/// once, as many as `totalCount`, forwards and backwards.
#[tokio::test]
async fn the_in_memory_index_pages_through_every_hit_once() {
    page_through_every_hit_once(true).await;
}

async fn page_through_every_hit_once(semantic: bool) {
    let (app, owner, company, _) =
        setup_with(&[("HIREGRAPH_SEMANTIC_SEARCH", if semantic { "true" } else { "false" })]).await;
    // Seven more postings that all match "platform" equally: ties break by id.
    for i in 0..7 {
        app.published_posting(&owner, &company, &format!("Platform Engineer {i}")).await;
    }
    if semantic {
        app.wait_for_semantic_index(SPECS.len() + 7).await;
    }
    for (query, order, expected) in [
        ("platform", "RELEVANCE", 7),
        ("engineer", "SALARY_HIGH", 9),
        ("", "SALARY_HIGH", 11),
        ("engineer", "NEWEST", 9),
        ("platform engineer", "OLDEST", 9),
    ] {
        let total = app.ok(SEARCH, json!({ "f": { "query": query }, "o": order }), None).await["postings"]["totalCount"]
            .as_u64()
            .unwrap() as usize;
        if !semantic {
            assert_eq!(total, expected, "{query} {order}");
        }
        let mut seen: Vec<String> = Vec::new();
        let mut after: Option<String> = None;
        loop {
            let vars = json!({ "f": { "query": query }, "o": order, "first": 2, "after": after });
            let data = app.ok(SEARCH, vars, None).await;
            seen.extend(titles(&data));
            let info = &data["postings"]["pageInfo"];
            if !info["hasNextPage"].as_bool().unwrap() {
                break;
            }
            after = Some(info["endCursor"].as_str().unwrap().to_owned());
        }
        let mut unique = seen.clone();
        unique.sort();
        unique.dedup();
        assert_eq!((unique.len(), seen.len()), (total, total), "{query} {order}: {seen:?}");
        // Backwards from the end: the same hits in the same order.
        let mut back: Vec<String> = Vec::new();
        let mut before: Option<String> = None;
        loop {
            let vars = json!({ "f": { "query": query }, "o": order, "last": 3, "before": before });
            let query_back = SEARCH
                .replace("$first: Int, $after: String", "$last: Int, $before: String")
                .replace("first: $first, after: $after", "last: $last, before: $before");
            let data =
                app.ok(&query_back.replace("hasNextPage endCursor", "hasPreviousPage startCursor"), vars, None).await;
            let mut page = titles(&data);
            page.extend(back);
            back = page;
            let info = &data["postings"]["pageInfo"];
            if !info["hasPreviousPage"].as_bool().unwrap() {
                break;
            }
            before = Some(info["startCursor"].as_str().unwrap().to_owned());
        }
        assert_eq!(back, seen, "{query} {order} backwards");
    }
    // Per year: 190,000 a year; 11,000 a month is 132,000; 80 an hour is 166,400.
    let data = app.ok(SEARCH, json!({ "o": "SALARY_HIGH", "first": 4 }), None).await;
    assert_eq!(&titles(&data)[..3], ["Site Reliability Engineer", "Data Analyst", "Frontend Engineer"], "{data}");

    // A cursor from one order does not fit another.
    let data = app.ok(SEARCH, json!({ "o": "NEWEST", "first": 1 }), None).await;
    let cursor = data["postings"]["pageInfo"]["endCursor"].clone();
    let body = app.graphql(SEARCH, json!({ "o": "SALARY_HIGH", "after": cursor }), None).await;
    assert_eq!((error_code(&body), error_fields(&body)), (Some("BAD_USER_INPUT"), vec!["after".to_owned()]));
}

#[tokio::test]
async fn the_search_text_follows_edits_of_postings_skills_and_company_names() {
    let (app, owner, company, ids) = setup().await;
    app.ok(
        "mutation($i: UpdatePostingInput!) { updatePosting(input: $i) { posting { version } } }",
        json!({ "i": { "id": ids[3], "expectedVersion": 2, "title": "Business Intelligence Analyst",
            "summary": "Dashboards for everyone.", "skills": [{ "name": "Tableau", "required": true }] } }),
        Some(&owner.access),
    )
    .await;
    assert_eq!(search(&app, "intelligence").await, ["Business Intelligence Analyst"]);
    assert_eq!(search(&app, "tableau").await, ["Business Intelligence Analyst"]);
    assert!(search(&app, "sql").await.is_empty(), "the old skill is gone from the search text");
    assert!(search(&app, "data").await.is_empty(), "the old title is gone from the search text");
    // Searched (and cached) before the rename, forgotten after it.
    assert_eq!(search(&app, "zephyrine").await.len(), SPECS.len());
    rename(&app, &owner, &company, "Quillfeather Freight").await;
    assert_eq!(search(&app, "quillfeather").await.len(), SPECS.len());
    assert!(search(&app, "zephyrine").await.is_empty());
    // A paused posting leaves the results; published again, it is back.
    app.transition(&owner, "pausePosting", &ids[0]).await;
    assert!(search(&app, "reliability").await.is_empty());
    app.publish(&owner, &ids[0]).await;
    assert_eq!(search(&app, "reliability").await, ["Site Reliability Engineer"]);
}

#[tokio::test]
async fn a_bad_query_is_refused_with_the_field_named() {
    let app = spawn_app().await;
    let long = "word ".repeat(50);
    let body = app.graphql(SEARCH, json!({ "f": { "query": long } }), None).await;
    assert_eq!(error_code(&body), Some("BAD_USER_INPUT"));
    assert_eq!(error_fields(&body), ["filter.query"]);
    assert!(body["errors"][0]["message"].as_str().unwrap().contains("at most 200 characters"), "{body}");
    // Quotes and operators are words, not syntax.
    let data = app.ok(SEARCH, json!({ "f": { "query": "\"rust\" OR (NOT go) * : ^ -" } }), None).await;
    assert_eq!(data["postings"]["totalCount"], 0);
}

#[tokio::test]
async fn meaning_adds_related_postings_below_those_that_share_the_words() {
    let (app, owner, company, _) = setup_with(&[]).await;
    let mut input = complete_posting(&company, "Nanny");
    input["summary"] = json!("Look after two children after school and in the holidays.");
    input["description"] =
        json!("A family in Berlin looks for a warm, reliable person to care for their two children.");
    input["skills"] = json!([{ "name": "First aid", "required": true }]);
    let nanny = app.create_posting(&owner, input).await;
    app.publish(&owner, &nanny).await;
    app.wait_for_semantic_index(SPECS.len() + 1).await;
    // Words first: the two engineers share the word; whatever meaning adds ranks below them.
    let data = app.ok(SEARCH, json!({ "f": { "query": "engineers" }, "first": 10 }), None).await;
    let found = titles(&data);
    let mut top = found[..2].to_vec();
    top.sort();
    assert_eq!(top, ["Frontend Engineer", "Site Reliability Engineer"], "{found:?}");
    let scores: Vec<f64> =
        data["postings"]["edges"].as_array().unwrap().iter().map(|e| e["relevance"].as_f64().unwrap()).collect();
    assert!(scores[2..].iter().all(|s| *s < scores[1]), "related postings rank below: {scores:?}");
    assert!(!found.contains(&"Nanny".to_owned()), "unrelated postings stay out: {found:?}");
    assert_eq!(data["postings"]["totalCount"], found.len(), "totalCount counts the related ones too");
    // No shared word at all: found by meaning alone.
    let babysitter = app.ok(SEARCH, json!({ "f": { "query": "babysitter" } }), None).await;
    assert_eq!(titles(&babysitter), ["Nanny"], "{babysitter}");
    let relevance = babysitter["postings"]["edges"][0]["relevance"].as_f64().unwrap();
    assert!(relevance > 0.0 && relevance < 0.7, "meaning alone scores below words: {relevance}");
    // An abbreviation finds its full form by words and by meaning.
    assert_eq!(search(&app, "sre").await[0], "Site Reliability Engineer");
    // A closed posting leaves the semantic results as it leaves the others.
    let closed = app.transition(&owner, "closePosting", &nanny).await;
    assert_eq!(closed["data"]["closePosting"]["posting"]["status"], "CLOSED", "{closed}");
    assert!(search(&app, "babysitter").await.is_empty());
}

/// Statements run by one request, caching off.
async fn statements(app: &TestApp, vars: Value) -> (u64, Value) {
    let total = |tables: Vec<(String, u64)>| tables.iter().map(|(_, n)| n).sum::<u64>();
    let before = total(app.app.db.stats.tables());
    let data = app.ok(SEARCH, vars, None).await;
    (total(app.app.db.stats.tables()) - before, data)
}

#[tokio::test]
async fn the_in_memory_index_answers_a_search_with_one_statement_and_follows_every_edit() {
    let (app, owner, company, ids) = setup_with(&[("HIREGRAPH_CACHE", "off")]).await;
    app.wait_for_semantic_index(SPECS.len()).await;
    // Page, totalCount and facets come from the index; only the page's rows are read.
    let (spent, data) = statements(&app, json!({ "f": { "query": "zephyrine" } })).await;
    assert_eq!(spent, 1, "{data}");
    assert_eq!(data["postings"]["totalCount"], SPECS.len());
    assert_eq!(data["postings"]["facets"]["workplaces"][0], json!({ "value": "REMOTE", "count": 2 }), "{data}");
    let (_, data) = statements(&app, json!({ "f": { "query": "engineer", "skills": ["react"] } })).await;
    assert_eq!((titles(&data), &data["postings"]["totalCount"]), (vec!["Frontend Engineer".to_owned()], &json!(1)));
    // A write is found at once (the database answers until the index has read it), then by the
    // index.
    rename(&app, &owner, &company, "Quillfeather Freight").await;
    assert_eq!(search(&app, "quillfeather").await.len(), SPECS.len());
    app.wait_for_semantic_index(SPECS.len()).await;
    let (spent, data) = statements(&app, json!({ "f": { "query": "quillfeather" } })).await;
    assert_eq!((spent, data["postings"]["totalCount"].as_u64()), (1, Some(SPECS.len() as u64)), "{data}");
    assert!(search(&app, "zephyrine").await.is_empty());
    app.transition(&owner, "pausePosting", &ids[0]).await;
    assert!(!search(&app, "reliability").await.contains(&"Site Reliability Engineer".to_owned()));
    app.wait_for_semantic_index(SPECS.len() - 1).await;
    let (spent, data) = statements(&app, json!({ "f": { "query": "reliability" } })).await;
    assert!(spent <= 1 && !titles(&data).contains(&"Site Reliability Engineer".to_owned()), "{spent} {data}");
}

#[tokio::test]
async fn a_search_that_finds_nothing_suggests_queries_that_would() {
    let (app, _, _, _) = setup().await;
    let query = "query($f: PostingFilter) { postings(filter: $f) { totalCount suggestions } }";
    let ask = |q: &str| app.ok(query, json!({ "f": { "query": q } }), None);
    // A misspelt word (two letters swapped): the closest word the postings use is offered.
    let data = ask("clustres").await;
    assert_eq!(data["postings"]["totalCount"], 0, "{data}");
    assert_eq!(data["postings"]["suggestions"][0], "clusters", "{data}");
    let fixed = ask("clusters").await;
    assert_eq!(fixed["postings"]["totalCount"], 1, "the suggestion finds what it promised: {fixed}");
    // Found something, or nothing close to offer: no suggestions.
    assert_eq!(ask("engineer").await["postings"]["suggestions"], json!([]));
    assert_eq!(ask("qqqqzzzz").await["postings"]["suggestions"], json!([]));
    let none = app.ok(query, json!({ "f": { "workplaces": ["ONSITE"] } }), None).await;
    assert_eq!(none["postings"]["suggestions"], json!([]), "no words, nothing to suggest");
}
