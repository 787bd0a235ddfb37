use std::collections::{HashMap, HashSet};

use serde_json::{Value, json};

use crate::helpers::{Session, TestApp, complete_posting, error_code, spawn_app};

const PAGE: &str =
    "query($f: PostingFilter, $o: PostingOrder, $first: Int, $after: String, $last: Int, $before: String) {
  postings(filter: $f, orderBy: $o, first: $first, after: $after, last: $last, before: $before) {
    totalCount
    edges { cursor node { id title } }
    pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
  }
}";

async fn setup(n: usize) -> (TestApp, Session, String, Vec<String>) {
    let app = spawn_app().await;
    let owner = app.register("owner").await;
    let company = app.create_company(&owner, "Acme").await;
    let mut ids = Vec::new();
    for i in 0..n {
        ids.push(app.published_posting(&owner, &company, &format!("Job {i}")).await);
    }
    (app, owner, company, ids)
}

fn edge_ids(page: &Value) -> Vec<String> {
    page["postings"]["edges"].as_array().unwrap().iter().map(|e| e["node"]["id"].as_str().unwrap().to_owned()).collect()
}

#[tokio::test]
async fn walking_every_page_gives_each_posting_once_even_while_new_ones_arrive() {
    let (app, owner, company, ids) = setup(13).await;
    for order in ["NEWEST", "OLDEST"] {
        let mut seen: Vec<String> = Vec::new();
        let mut after: Option<String> = None;
        let mut added = Vec::new();
        loop {
            let page = app.ok(PAGE, json!({ "o": order, "first": 4, "after": after }), None).await;
            seen.extend(edge_ids(&page));
            // Someone publishes between two pages.
            added.push(app.published_posting(&owner, &company, &format!("Arrived during {order} walk")).await);
            let info = &page["postings"]["pageInfo"];
            if !info["hasNextPage"].as_bool().unwrap() {
                break;
            }
            after = Some(info["endCursor"].as_str().unwrap().to_owned());
        }
        let unique: HashSet<&String> = seen.iter().collect();
        assert_eq!(unique.len(), seen.len(), "{order}: a posting came twice");
        for id in &ids {
            assert!(unique.contains(id), "{order}: {id} was skipped");
        }
        // Newest-first walks never see later arrivals; oldest-first walks see them at the end.
        let late: Vec<&String> = seen.iter().filter(|id| added.contains(id)).collect();
        if order == "NEWEST" {
            assert!(late.is_empty(), "{late:?}");
        }
    }
}

#[tokio::test]
async fn walking_backwards_with_last_and_before_mirrors_the_forward_walk() {
    let (app, _owner, _company, _ids) = setup(9).await;
    let forward = app.ok(PAGE, json!({ "first": 100 }), None).await;
    let all = edge_ids(&forward);
    assert_eq!(all.len(), 9);
    assert_eq!(forward["postings"]["totalCount"], 9);
    let mut seen: Vec<String> = Vec::new();
    let mut before: Option<String> = None;
    loop {
        let page = app.ok(PAGE, json!({ "last": 4, "before": before }), None).await;
        let mut ids = edge_ids(&page);
        ids.extend(seen);
        seen = ids;
        let info = &page["postings"]["pageInfo"];
        if !info["hasPreviousPage"].as_bool().unwrap() {
            break;
        }
        before = Some(info["startCursor"].as_str().unwrap().to_owned());
    }
    assert_eq!(seen, all);
}

#[tokio::test]
async fn page_arguments_are_checked() {
    let app = spawn_app().await;
    for (vars, field) in [
        (json!({ "first": 101 }), "first"),
        (json!({ "first": -1 }), "first"),
        (json!({ "last": 500 }), "last"),
        (json!({ "first": 1, "last": 1 }), "last"),
        (json!({ "first": 1, "after": "garbage" }), "after"),
    ] {
        let body = app.graphql(PAGE, vars.clone(), None).await;
        assert_eq!(error_code(&body), Some("BAD_USER_INPUT"), "{vars}");
        assert_eq!(body["errors"][0]["extensions"]["fields"][0]["path"], field, "{vars}");
    }
}

/// A posting's filterable facts, as the test created them.
struct Facts {
    company: String,
    workplace: &'static str,
    employment: &'static str,
    seniority: &'static str,
    countries: Vec<&'static str>,
    salary: Option<(i64, &'static str, &'static str)>,
    skills: Vec<&'static str>,
}

#[tokio::test]
async fn every_filter_agrees_with_a_brute_force_filter_of_the_same_data() {
    let app = spawn_app().await;
    let owner = app.register("owner").await;
    let companies = [app.create_company(&owner, "Alpha").await, app.create_company(&owner, "Beta").await];
    let workplaces = ["REMOTE", "HYBRID", "ONSITE"];
    let employment = ["FULL_TIME", "CONTRACT", "PART_TIME", "FULL_TIME"];
    let seniority = ["JUNIOR", "MID", "SENIOR", "STAFF", "SENIOR"];
    let countries = [vec!["DE"], vec!["US"], vec!["DE", "GB"], vec!["FR"]];
    let currencies = [("EUR", "YEAR"), ("USD", "YEAR"), ("EUR", "HOUR")];
    let skill_sets = [vec!["Rust", "PostgreSQL"], vec!["Go"], vec!["rust", "Kafka", "Go"], vec!["Python"]];
    let mut facts: HashMap<String, Facts> = HashMap::new();
    for i in 0..24usize {
        let company = companies[i % 2].clone();
        let workplace = workplaces[i % 3];
        let c = countries[i % 4].clone();
        let locations: Vec<Value> = c
            .iter()
            .map(|country| {
                if workplace == "REMOTE" {
                    json!({ "country": country, "remote": true })
                } else {
                    json!({ "city": "Somewhere", "country": country })
                }
            })
            .collect();
        let salary = (i % 5 != 4).then(|| {
            let (currency, period) = currencies[i % 3];
            let max = 40_000 + (i as i64) * 5_000;
            (max, currency, period)
        });
        let skills = skill_sets[i % 4].clone();
        let mut input = complete_posting(&company, &format!("Posting {i}"));
        input["workplace"] = json!(workplace);
        input["employmentType"] = json!(employment[i % 4]);
        input["seniority"] = json!(seniority[i % 5]);
        input["locations"] = json!(locations);
        input["salary"] = match salary {
            Some((max, currency, period)) => {
                json!({ "min": max - 10_000, "max": max, "currency": currency, "period": period })
            }
            None => Value::Null,
        };
        input["skills"] =
            json!(skills.iter().enumerate().map(|(n, s)| json!({ "name": s, "required": n == 0 })).collect::<Vec<_>>());
        let id = app.create_posting(&owner, input).await;
        if i != 23 {
            app.publish(&owner, &id).await;
        }
        let fact = Facts {
            company,
            workplace,
            employment: employment[i % 4],
            seniority: seniority[i % 5],
            countries: c,
            salary,
            skills,
        };
        if i != 23 {
            facts.insert(id, fact);
        }
    }

    let filters = vec![
        json!({}),
        json!({ "companyIds": [companies[0]] }),
        json!({ "workplaces": ["REMOTE"] }),
        json!({ "workplaces": ["REMOTE", "HYBRID"] }),
        json!({ "employmentTypes": ["CONTRACT", "PART_TIME"] }),
        json!({ "seniorities": ["SENIOR"] }),
        json!({ "countries": ["GB"] }),
        json!({ "countries": ["DE", "FR"] }),
        json!({ "minSalary": { "amount": 100000, "currency": "EUR" } }),
        json!({ "minSalary": { "amount": 50000, "currency": "EUR", "period": "HOUR" } }),
        json!({ "minSalary": { "amount": 1, "currency": "USD" } }),
        json!({ "skills": ["RUST"] }),
        json!({ "skills": ["rust", "go"] }),
        json!({ "skills": ["Cobol"] }),
        json!({ "companyIds": [companies[1]], "workplaces": ["ONSITE", "HYBRID"], "countries": ["DE"] }),
        json!({ "seniorities": ["SENIOR", "STAFF"], "skills": ["Go"], "minSalary": { "amount": 60000, "currency": "EUR" } }),
    ];
    for filter in filters {
        let expected: HashSet<&String> = facts
            .iter()
            .filter(|(_, f)| {
                let list = |key: &str| {
                    filter
                        .get(key)
                        .and_then(Value::as_array)
                        .map(|a| a.iter().map(|v| v.as_str().unwrap().to_owned()).collect::<Vec<_>>())
                };
                list("companyIds").is_none_or(|l| l.contains(&f.company))
                    && list("workplaces").is_none_or(|l| l.iter().any(|w| w == f.workplace))
                    && list("employmentTypes").is_none_or(|l| l.iter().any(|w| w == f.employment))
                    && list("seniorities").is_none_or(|l| l.iter().any(|w| w == f.seniority))
                    && list("countries").is_none_or(|l| l.iter().any(|c| f.countries.contains(&c.as_str())))
                    && list("skills")
                        .is_none_or(|l| l.iter().all(|s| f.skills.iter().any(|k| k.eq_ignore_ascii_case(s))))
                    && filter.get("minSalary").is_none_or(|m| {
                        let period = m.get("period").and_then(Value::as_str).unwrap_or("YEAR");
                        f.salary.is_some_and(|(max, currency, p)| {
                            currency == m["currency"].as_str().unwrap()
                                && p == period
                                && max >= m["amount"].as_i64().unwrap()
                        })
                    })
            })
            .map(|(id, _)| id)
            .collect();
        let page = app.ok(PAGE, json!({ "f": filter, "first": 100 }), None).await;
        let got: Vec<String> = edge_ids(&page);
        let got_set: HashSet<&String> = got.iter().collect();
        assert_eq!(got_set, expected, "filter {filter}");
        assert_eq!(got.len(), got_set.len(), "filter {filter}: duplicates");
        assert_eq!(
            page["postings"]["totalCount"].as_u64().unwrap() as usize,
            expected.len(),
            "filter {filter}: totalCount"
        );
    }
}
