//! Recommendations both ways, through the API: order, scores, explanations, who may ask, and
//! whose profiles may be recommended.

use serde_json::{Value, json};

use crate::helpers::{Session, TestApp, complete_posting, error_code, error_fields, spawn_app, spawn_app_with};

const FOR_ME: &str = "query($first: Int!) { viewer { recommendedPostings(first: $first) {
  score posting { id title }
  explanation { matchedRequiredSkills missingRequiredSkills matchedPreferredSkills role seniority experience salary workplace location notes }
} } }";

const FOR_POSTING: &str =
    "query($id: ID!, $first: Int!) { node(id: $id) { ... on Posting { recommendedCandidates(first: $first) {
  score candidate { id displayName }
  explanation { matchedRequiredSkills missingRequiredSkills role salary notes }
} } } }";

/// A remote US posting asking for `required` skills and nice to have `preferred` ones.
fn posting(company: &str, title: &str, required: &[&str], preferred: &[&str], seniority: &str) -> Value {
    let mut input = complete_posting(company, title);
    let skill = |name: &&str, required: bool| json!({ "name": name, "required": required });
    let skills: Vec<Value> =
        required.iter().map(|s| skill(s, true)).chain(preferred.iter().map(|s| skill(s, false))).collect();
    input["skills"] = json!(skills);
    input["seniority"] = json!(seniority);
    input["locations"] = json!([{ "country": "US", "remote": true }]);
    input["salary"] = json!({ "min": 150000, "max": 190000, "currency": "USD", "period": "YEAR" });
    input
}

fn profile(name: &str, skills: &[&str], visibility: &str) -> Value {
    json!({
        "displayName": name,
        "visibility": visibility,
        "seniority": "SENIOR",
        "yearsExperience": 8,
        "openTo": ["REMOTE"],
        "location": { "city": "Denver", "country": "US" },
        "desiredSalary": { "min": 170000, "max": 200000, "currency": "USD", "period": "YEAR" },
        "skills": skills.iter().map(|s| json!({ "name": s })).collect::<Vec<_>>(),
    })
}

async fn company_with_postings(app: &TestApp) -> (Session, String, [String; 3]) {
    let owner = app.register("owner").await;
    let company = app.create_company(&owner, "Matchworks").await;
    app.verify_company(&company).await;
    let mut ids = Vec::new();
    for (title, required, preferred, seniority) in [
        ("Go Platform Engineer", &["Go", "PostgreSQL", "Kubernetes"][..], &["Kafka"][..], "SENIOR"),
        ("Go Backend Engineer", &["Go", "MySQL"][..], &["Kafka"][..], "MID"),
        ("iOS Engineer", &["Swift"][..], &[][..], "SENIOR"),
    ] {
        let id = app.create_posting(&owner, posting(&company, title, required, preferred, seniority)).await;
        app.publish(&owner, &id).await;
        ids.push(id);
    }
    if app.app.settings.semantic_search {
        app.wait_for_semantic_index(3).await;
    }
    (owner, company, ids.try_into().unwrap())
}

/// Ranked in memory from the semantic index.
#[tokio::test]
async fn candidates_get_the_postings_that_fit_best_with_the_reasons() {
    postings_that_fit_best(true).await;
}

/// Ranked from grouped SQL, without the index: the same list, the same scores.
#[tokio::test]
async fn candidates_get_the_same_postings_without_the_semantic_index() {
    postings_that_fit_best(false).await;
}

async fn postings_that_fit_best(semantic: bool) {
    let app = spawn_app_with(&[("HIREGRAPH_SEMANTIC_SEARCH", if semantic { "true" } else { "false" })]).await;
    let (_, _, [platform, backend, ios]) = company_with_postings(&app).await;
    let ada = app.register("ada").await;
    // Aliases count: golang is Go, postgres is PostgreSQL, k8s is Kubernetes.
    app.upsert_profile(&ada, profile("Ada", &["golang", "postgres", "k8s", "Kafka"], "PUBLIC")).await;

    let data = app.ok(FOR_ME, json!({ "first": 10 }), Some(&ada.access)).await;
    let list = data["viewer"]["recommendedPostings"].as_array().unwrap();
    let ids: Vec<&str> = list.iter().map(|m| m["posting"]["id"].as_str().unwrap()).collect();
    assert_eq!(ids, [platform.as_str(), backend.as_str()], "no shared skill, no iOS job: {data}");
    assert!(!ids.contains(&ios.as_str()));
    let best = &list[0];
    // Everything but the role, which a profile without a headline leaves unknown (half of 10).
    assert_eq!(best["score"], 95, "{best}");
    assert_eq!(best["explanation"]["role"], "UNKNOWN");
    assert_eq!(best["explanation"]["matchedRequiredSkills"], json!(["Go", "PostgreSQL", "Kubernetes"]));
    assert_eq!(best["explanation"]["matchedPreferredSkills"], json!(["Kafka"]));
    assert_eq!(best["explanation"]["salary"], "MATCH");
    assert_eq!(best["explanation"]["location"], "MATCH");
    // Half the required skills (20) + Kafka (10) + role unknown (5) + one level apart (5) + 10 + 10 + 5 + 5.
    let second = &list[1];
    assert_eq!(second["score"], 70, "{second}");
    assert_eq!(second["explanation"]["missingRequiredSkills"], json!(["MySQL"]));
    assert_eq!(second["explanation"]["seniority"], "PARTIAL");
    assert!(second["explanation"]["notes"][0].as_str().unwrap().contains("missing MySQL"), "{second}");

    // `first` bounds the list; an applied-to posting is no longer recommended.
    let data = app.ok(FOR_ME, json!({ "first": 1 }), Some(&ada.access)).await;
    assert_eq!(data["viewer"]["recommendedPostings"].as_array().unwrap().len(), 1);
    app.apply(&ada, &platform).await;
    let data = app.ok(FOR_ME, json!({ "first": 10 }), Some(&ada.access)).await;
    assert_eq!(data["viewer"]["recommendedPostings"][0]["posting"]["id"], json!(backend));
    assert_eq!(data["viewer"]["recommendedPostings"].as_array().unwrap().len(), 1);

    let body = app.graphql(FOR_ME, json!({ "first": 0 }), Some(&ada.access)).await;
    assert_eq!((error_code(&body), error_fields(&body)), (Some("BAD_USER_INPUT"), vec!["first".to_owned()]));
    // No profile: nothing to recommend yet.
    let newcomer = app.register("newcomer").await;
    let data = app.ok(FOR_ME, json!({ "first": 5 }), Some(&newcomer.access)).await;
    assert_eq!(data["viewer"]["recommendedPostings"], json!([]));
}

/// Ranked in memory from the talent index.
#[tokio::test]
async fn hiring_teams_get_listed_candidates_without_their_salary() {
    listed_candidates_without_their_salary(true).await;
}

/// Ranked from grouped SQL, without the indexes: the same list, the same scores.
#[tokio::test]
async fn hiring_teams_get_the_same_candidates_without_the_talent_index() {
    listed_candidates_without_their_salary(false).await;
}

async fn listed_candidates_without_their_salary(semantic: bool) {
    let app = spawn_app_with(&[("HIREGRAPH_SEMANTIC_SEARCH", if semantic { "true" } else { "false" })]).await;
    let (owner, company, [platform, _, _]) = company_with_postings(&app).await;
    let mut names = Vec::new();
    for (name, skills, visibility) in [
        ("Public Full", &["Go", "PostgreSQL", "Kubernetes"][..], "PUBLIC"),
        ("Employers Half", &["golang"][..], "EMPLOYERS"),
        ("Private Full", &["Go", "PostgreSQL", "Kubernetes"][..], "PRIVATE"),
        ("Public Unrelated", &["Figma"][..], "PUBLIC"),
        ("Public Applied", &["Go", "PostgreSQL"][..], "PUBLIC"),
    ] {
        let who = app.register("candidate").await;
        app.upsert_profile(&who, profile(name, skills, visibility)).await;
        if name == "Public Applied" {
            app.apply(&who, &platform).await;
        }
        names.push(name);
    }
    if semantic {
        // Public Full, Employers Half, Public Unrelated, Public Applied; not the private one.
        app.wait_for_talent_index(4).await;
    }
    let recruiter = app.register("recruiter").await;
    let viewer = app.register("viewer").await;
    app.add_member(&owner, &company, &recruiter, "RECRUITER").await;
    app.add_member(&owner, &company, &viewer, "VIEWER").await;

    let data = app.ok(FOR_POSTING, json!({ "id": platform, "first": 10 }), Some(&recruiter.access)).await;
    let list = data["node"]["recommendedCandidates"].as_array().unwrap();
    let shown: Vec<&str> = list.iter().map(|m| m["candidate"]["displayName"].as_str().unwrap()).collect();
    assert_eq!(shown, ["Public Full", "Employers Half"], "{data}");
    // Salary is never weighed for a hiring team: 40 + 0 (no Kafka) + 5 (no headline) + 10 + 10 + 5
    // (unknown) + 5 + 5.
    assert_eq!(list[0]["score"], 80, "{data}");
    // "golang" is Go: a third of the required skills, 13.3 + 0 + 5 + 10 + 10 + 5 + 5 + 5.
    assert_eq!(list[1]["score"], 53, "{data}");
    assert_eq!(list[1]["explanation"]["matchedRequiredSkills"], json!(["Go"]), "{data}");
    assert_eq!(list[0]["explanation"]["salary"], "UNKNOWN");
    assert!(!list[0].to_string().contains("170000"), "the desired salary stays private: {data}");

    for (who, code) in [(Some(&viewer), "FORBIDDEN"), (None, "UNAUTHENTICATED")] {
        let body =
            app.graphql(FOR_POSTING, json!({ "id": platform, "first": 5 }), who.map(|s| s.access.as_str())).await;
        assert_eq!(error_code(&body), Some(code), "{body}");
    }
    let outsider = app.register("outsider").await;
    let other = app.create_company(&outsider, "Elsewhere").await;
    assert!(!other.is_empty());
    let body = app.graphql(FOR_POSTING, json!({ "id": platform, "first": 5 }), Some(&outsider.access)).await;
    assert_eq!(error_code(&body), Some("FORBIDDEN"), "{body}");

    // Each list scores every listed candidate: a query may ask for a few, not one per posting.
    let each = "{ postings(first: 50) { edges { node { recommendedCandidates(first: 1) { score } } } } }";
    let (_, body) = app.post(each, json!({}), Some(&recruiter.access)).await;
    assert_eq!(error_code(&body), Some("QUERY_TOO_COMPLEX"), "{body}");
    let few = "{ postings(first: 5) { edges { node { recommendedCandidates(first: 3) { score } } } } }";
    let (_, body) = app.post(few, json!({}), Some(&recruiter.access)).await;
    assert_ne!(error_code(&body), Some("QUERY_TOO_COMPLEX"), "{body}");
}

#[tokio::test]
async fn batches_of_candidate_postings_cover_every_eligible_posting_once() {
    use hiregraph_api::graphql::ids::decode_any;
    use hiregraph_domain::{CandidateId, PostingId};
    use hiregraph_persistence::matching::postings_sharing_skills;

    let app = spawn_app().await;
    let owner = app.register("owner").await;
    let company = app.create_company(&owner, "Batchworks").await;
    let mut eligible = Vec::new();
    for i in 0..7 {
        let id = app.create_posting(&owner, posting(&company, &format!("Go job {i}"), &["Go"], &[], "SENIOR")).await;
        app.publish(&owner, &id).await;
        eligible.push(decode_any(&id).unwrap().1);
    }
    let unrelated = app.create_posting(&owner, posting(&company, "Swift job", &["Swift"], &[], "SENIOR")).await;
    app.publish(&owner, &unrelated).await;
    let draft = app.create_posting(&owner, posting(&company, "Go draft", &["Go"], &[], "SENIOR")).await;
    let ada = app.register("ada").await;
    let profile = app.upsert_profile(&ada, profile("Ada", &["golang"], "PUBLIC")).await;
    let applied = eligible.pop().unwrap();
    app.apply(&ada, &hiregraph_api::graphql::ids::encode(hiregraph_api::graphql::ids::Kind::Posting, applied)).await;

    let candidate = CandidateId(decode_any(&profile).unwrap().1);
    let keys = vec!["golang".to_owned(), "go".to_owned()];
    let mut seen = Vec::new();
    let mut after: Option<PostingId> = None;
    loop {
        let rows =
            postings_sharing_skills(&keys, candidate, chrono::Utc::now(), after, 2, &app.app.db.conn).await.unwrap();
        assert!(rows.len() <= 2 && seen.len() < 20, "batches must move on: {seen:?}");
        seen.extend(rows.iter().map(|r| r.id.0));
        after = rows.iter().map(|r| r.id).max();
        if rows.len() < 2 {
            break;
        }
    }
    seen.sort();
    eligible.sort();
    assert_eq!(seen, eligible, "every published Go posting not applied to, once; no Swift job, no draft ({draft})");
}

#[tokio::test]
async fn a_headline_meets_the_titles_that_mean_the_same_job() {
    let app = spawn_app().await;
    let owner = app.register("owner").await;
    let company = app.create_company(&owner, "Reliable").await;
    app.verify_company(&company).await;
    let mut ids = std::collections::HashMap::new();
    for (title, skills) in [
        ("SRE", &["Go", "Kubernetes"][..]),
        ("Platform Engineer", &["Go"][..]),
        ("Registered Nurse", &["Patient Care"][..]),
        ("Accountant", &["Excel"][..]),
        ("Pastry Chef", &["Terraform"][..]),
    ] {
        let id = app.create_posting(&owner, posting(&company, title, skills, &[], "SENIOR")).await;
        app.publish(&owner, &id).await;
        ids.insert(title, id);
    }
    app.wait_for_semantic_index(5).await;
    let sam = app.register("sam").await;
    let mut me = profile("Sam", &["Terraform"], "PUBLIC");
    me["headline"] = json!("Site Reliability Engineer");
    app.upsert_profile(&sam, me).await;

    let data = app.ok(FOR_ME, json!({ "first": 10 }), Some(&sam.access)).await;
    let list = data["viewer"]["recommendedPostings"].as_array().unwrap();
    let titles: Vec<&str> = list.iter().map(|m| m["posting"]["title"].as_str().unwrap()).collect();
    // No shared skill with the SRE and Platform Engineer postings: the headline brings them in.
    // The pastry chef shares the skill but not the job; the nurse and accountant share neither.
    assert_eq!(titles, ["Pastry Chef", "SRE", "Platform Engineer"], "{data}");
    let fit = |title: &str| {
        let m = list.iter().find(|m| m["posting"]["title"] == title).unwrap();
        (m["explanation"]["role"].as_str().unwrap().to_owned(), m["score"].as_i64().unwrap())
    };
    // 0 skills + 10 (same job) + 10 + 10 + 10 + 5 + 5; the chef: 40 + 10 + 0 + 40; related: 5 less.
    assert_eq!(fit("SRE"), ("MATCH".to_owned(), 60));
    assert_eq!(fit("Pastry Chef"), ("MISMATCH".to_owned(), 90));
    assert_eq!(fit("Platform Engineer"), ("PARTIAL".to_owned(), 55));
    let sre = &list.iter().find(|m| m["posting"]["title"] == "SRE").unwrap()["explanation"];
    let note = sre["notes"].as_array().unwrap().iter().find_map(|n| n.as_str().filter(|n| n.starts_with("Role:")));
    assert!(
        note.is_some_and(|n| n.contains("\"Site Reliability Engineer\" and \"SRE\" are the same job by meaning")),
        "{sre}"
    );
    assert_eq!(sre["missingRequiredSkills"], json!(["Go", "Kubernetes"]));

    // The other way: for the SRE posting, a site reliability engineer before a nurse who also
    // lists Go, the role telling them apart.
    let mut nina = None;
    for (name, headline) in [("Nina", "Registered Nurse"), ("Sid", "Site Reliability Engineer"), ("Nobody", "")] {
        let who = app.register(name).await;
        let mut p = profile(name, &["Go"], "PUBLIC");
        if !headline.is_empty() {
            p["headline"] = json!(headline);
        }
        app.upsert_profile(&who, p.clone()).await;
        if name == "Nina" {
            nina = Some((who, p));
        }
    }
    app.wait_for_talent_index(4).await;
    let data = app.ok(FOR_POSTING, json!({ "id": ids["SRE"], "first": 10 }), Some(&owner.access)).await;
    let list = data["node"]["recommendedCandidates"].as_array().unwrap();
    let shown: Vec<(&str, &str, i64)> = list
        .iter()
        .map(|m| {
            (
                m["candidate"]["displayName"].as_str().unwrap(),
                m["explanation"]["role"].as_str().unwrap(),
                m["score"].as_i64().unwrap(),
            )
        })
        .collect();
    // Half the required skills (20) + 10 (no preferred ones listed) + 10 + 10 + 5 (salary private)
    // + 5 + 5, and the role: 10, 5 or 0.
    assert_eq!(shown, [("Sid", "MATCH", 75), ("Nobody", "UNKNOWN", 70), ("Nina", "MISMATCH", 65)], "{data}");

    // The best `first` alone is the same list cut short: the role is weighed before cutting.
    let data = app.ok(FOR_POSTING, json!({ "id": ids["SRE"], "first": 1 }), Some(&owner.access)).await;
    assert_eq!(data["node"]["recommendedCandidates"][0]["candidate"]["displayName"], "Sid", "{data}");

    // A profile made private leaves the list as soon as the index has read the change.
    let (who, mut p) = nina.unwrap();
    p["visibility"] = json!("PRIVATE");
    app.upsert_profile(&who, p).await;
    let mut shown = Vec::new();
    for _ in 0..200 {
        let data = app.ok(FOR_POSTING, json!({ "id": ids["SRE"], "first": 10 }), Some(&owner.access)).await;
        shown = data["node"]["recommendedCandidates"]
            .as_array()
            .unwrap()
            .iter()
            .map(|m| m["candidate"]["displayName"].as_str().unwrap().to_owned())
            .collect::<Vec<_>>();
        if !shown.contains(&"Nina".to_owned()) {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(25)).await;
    }
    assert_eq!(shown, ["Sid", "Nobody"]);
}
