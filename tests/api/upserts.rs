//! `upsertPostings` and external ids against the real server: a batch of 100 with 3 bad items
//! applies 97 and names each bad field, a replay changes nothing, an update and a publish are
//! seen as such, and external ids are the company's own.

use serde_json::{Value, json};

use crate::helpers::{complete_posting, error_code, error_fields, spawn_app};

const UPSERT: &str = "mutation($i: UpsertPostingsInput!) { upsertPostings(input: $i) {
  results { externalId outcome errors { code field message } posting { id title status externalId } } } }";

/// A complete posting as an upsert item (no `companyId`, an `externalId`).
fn item(company: &str, external_id: &str, title: &str) -> Value {
    let mut posting = complete_posting(company, title);
    let fields = posting.as_object_mut().unwrap();
    fields.remove("companyId");
    fields.insert("externalId".into(), external_id.into());
    posting
}

fn outcomes(body: &Value) -> Vec<String> {
    body["upsertPostings"]["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["outcome"].as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test]
async fn a_batch_of_100_with_3_bad_items_applies_97_and_a_replay_changes_nothing() {
    let app = spawn_app().await;
    let owner = app.register("owner").await;
    let company = app.create_company(&owner, "Synced Jobs").await;
    let partner = app.create_partner_app(&owner, &company, &["POSTINGS_WRITE".into()]).await;
    let key = app.create_api_key(&owner, &partner.id).await;

    let mut items: Vec<Value> =
        (0..100).map(|i| item(&company, &format!("job-{i}"), &format!("Engineer {i}"))).collect();
    items[7]["title"] = "".into();
    items[42]["salary"] = json!({ "min": 90000, "max": 70000, "currency": "EUR", "period": "YEAR" });
    items[99]["externalId"] = "job-3".into();
    let input = json!({ "i": { "companyId": company, "postings": items, "publish": true } });
    let body = app.ok(UPSERT, input.clone(), Some(&key)).await;
    let results = body["upsertPostings"]["results"].as_array().unwrap();
    assert_eq!(results.len(), 100);
    let failed: Vec<usize> = (0..100).filter(|i| results[*i]["outcome"] == "FAILED").collect();
    assert_eq!(failed, [7, 42, 99], "{body}");
    assert!(results.iter().enumerate().all(|(i, r)| failed.contains(&i) || r["outcome"] == "CREATED"));
    assert_eq!(results[7]["errors"][0]["field"], "input.postings.7.title", "{}", results[7]);
    assert!(
        results[42]["errors"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["field"].as_str().unwrap().starts_with("input.postings.42.salary")),
        "{}",
        results[42]
    );
    assert_eq!(results[99]["errors"][0]["field"], "input.postings.99.externalId", "{}", results[99]);
    assert!(results[7]["posting"].is_null());
    assert_eq!(results[0]["posting"]["status"], "PUBLISHED");
    assert_eq!(results[0]["posting"]["externalId"], "job-0");
    let published = app
        .ok(
            "query($id: ID!) { node(id: $id) { ... on Company { postings(first: 1) { totalCount } } } }",
            json!({ "id": company }),
            None,
        )
        .await;
    assert_eq!(published["node"]["postings"]["totalCount"], 97);

    // A replay writes nothing; one changed item is an update.
    let body = app.ok(UPSERT, input.clone(), Some(&key)).await;
    let again = outcomes(&body);
    assert_eq!(again.iter().filter(|o| *o == "UNCHANGED").count(), 97, "{again:?}");
    let mut changed = input.clone();
    changed["i"]["postings"][5]["title"] = "Senior Engineer 5".into();
    let body = app.ok(UPSERT, changed, Some(&key)).await;
    assert_eq!(outcomes(&body)[5], "UPDATED");
    assert_eq!(body["upsertPostings"]["results"][5]["posting"]["title"], "Senior Engineer 5");
    assert_eq!(outcomes(&body).iter().filter(|o| *o == "UNCHANGED").count(), 96);

    // A posting by its external id: for the company, not for the public.
    let query = "query($e: String!, $c: ID!) { posting(externalId: $e, companyId: $c) { title externalId } }";
    let data = app.ok(query, json!({ "e": "job-5", "c": company }), Some(&owner.access)).await;
    assert_eq!(data["posting"], json!({ "title": "Senior Engineer 5", "externalId": "job-5" }));
    let body = app.graphql(query, json!({ "e": "job-5", "c": company }), None).await;
    assert_eq!(error_code(&body), Some("NOT_FOUND"), "{body}");
    let body = app.graphql(query, json!({ "e": "job-999", "c": company }), Some(&owner.access)).await;
    assert_eq!(error_code(&body), Some("NOT_FOUND"), "{body}");
    let id = data_id(&app, &company, "job-5", &owner.access).await;
    let body =
        app.graphql("query($id: ID!) { posting(id: $id) { title externalId } }", json!({ "id": id }), None).await;
    assert_eq!(body["data"]["posting"]["title"], "Senior Engineer 5");
    assert_eq!(
        error_code(&body),
        Some("FORBIDDEN"),
        "the public sees the posting, not the company's reference: {body}"
    );
}

async fn data_id(app: &crate::helpers::TestApp, company: &str, external: &str, token: &str) -> String {
    let query = "query($e: String!, $c: ID!) { posting(externalId: $e, companyId: $c) { id } }";
    app.ok(query, json!({ "e": external, "c": company }), Some(token)).await["posting"]["id"]
        .as_str()
        .unwrap()
        .to_owned()
}

#[tokio::test]
async fn upserts_need_postings_write_and_external_ids_are_each_companys_own() {
    let app = spawn_app().await;
    let owner = app.register("owner").await;
    let company = app.create_company(&owner, "First").await;
    let other_owner = app.register("other-owner").await;
    let other = app.create_company(&other_owner, "Second").await;
    let reader = app.create_partner_app(&owner, &company, &["POSTINGS_READ".into()]).await;
    let reader_key = app.create_api_key(&owner, &reader.id).await;

    let input =
        |company: &str| json!({ "i": { "companyId": company, "postings": [item(company, "req-1", "Designer")] } });
    let body = app.graphql(UPSERT, input(&company), Some(&reader_key)).await;
    assert_eq!(error_code(&body), Some("FORBIDDEN"), "{body}");
    let body = app.graphql(UPSERT, input(&other), Some(&owner.access)).await;
    assert_eq!(error_code(&body), Some("FORBIDDEN"), "{body}");

    // The same external id in two companies names two postings.
    let first = app.ok(UPSERT, input(&company), Some(&owner.access)).await;
    let second = app.ok(UPSERT, input(&other), Some(&other_owner.access)).await;
    assert_eq!(outcomes(&first), ["CREATED"]);
    assert_eq!(outcomes(&second), ["CREATED"]);
    let a = &first["upsertPostings"]["results"][0]["posting"]["id"];
    let b = &second["upsertPostings"]["results"][0]["posting"]["id"];
    assert_ne!(a, b);
    assert_eq!(first["upsertPostings"]["results"][0]["posting"]["status"], "DRAFT", "no publish: a draft");
    // The other company's owner cannot reach the first company's posting by its external id.
    let query = "query($e: String!, $c: ID!) { posting(externalId: $e, companyId: $c) { id } }";
    let body = app.graphql(query, json!({ "e": "req-1", "c": company }), Some(&other_owner.access)).await;
    assert_eq!(error_code(&body), Some("NOT_FOUND"), "{body}");
    let body = app.graphql(query, json!({ "e": "req-1", "c": company }), Some(&reader_key)).await;
    assert_eq!(body["data"]["posting"]["id"], *a, "postings:read finds it: {body}");
    let body =
        app.graphql("query($e: String!) { posting(externalId: $e) { id } }", json!({ "e": "req-1" }), None).await;
    assert_eq!(error_fields(&body), ["companyId"], "{body}");

    // More than 100 items are refused as a whole, before anything is written.
    let many: Vec<Value> = (0..101).map(|i| item(&company, &format!("bulk-{i}"), "Bulk")).collect();
    let body =
        app.graphql(UPSERT, json!({ "i": { "companyId": company, "postings": many } }), Some(&owner.access)).await;
    assert_eq!(error_fields(&body), ["input.postings"], "{body}");
}

/// Runs `upsertPostings` and counts the statements it sent, per table.
async fn counted(
    app: &crate::helpers::TestApp,
    owner: &crate::helpers::Session,
    company: &str,
    postings: Vec<Value>,
    publish: bool,
) -> (Value, std::collections::BTreeMap<String, u64>) {
    let before: std::collections::HashMap<String, u64> = app.app.db.stats.tables().into_iter().collect();
    let body = app
        .ok(
            "mutation($i: UpsertPostingsInput!) { upsertPostings(input: $i) { results { outcome posting { id version status updatedAt publishedAt title } } } }",
            json!({ "i": { "companyId": company, "postings": postings, "publish": publish } }),
            Some(&owner.access),
        )
        .await;
    let spent = app
        .app
        .db
        .stats
        .tables()
        .into_iter()
        .map(|(t, n)| (t.clone(), n - before.get(&t).copied().unwrap_or(0)))
        .filter(|(_, n)| *n > 0)
        .collect();
    (body, spent)
}

#[tokio::test]
async fn a_batch_reads_in_a_constant_number_of_statements_and_answers_what_was_stored() {
    let app = crate::helpers::spawn_app_with(&[("HIREGRAPH_CACHE", "off")]).await;
    let owner = app.register("owner").await;
    let company = app.create_company(&owner, "Batched").await;
    let batch = |n: usize, title: &str| -> Vec<Value> {
        (0..n).map(|i| item(&company, &format!("ext-{i}"), &format!("{title} {i}"))).collect()
    };
    let run = |postings: Vec<Value>, publish: bool| counted(&app, &owner, &company, postings, publish);
    let (created, _) = run(batch(40, "Job"), true).await;
    assert!(created["upsertPostings"]["results"].as_array().unwrap().iter().all(|r| r["outcome"] == "CREATED"));
    // Replays read the same whatever the size: one lookup of the external ids, one read of the postings.
    let (_, small) = run(batch(5, "Job"), true).await;
    let (_, large) = run(batch(40, "Job"), true).await;
    assert_eq!(small, large, "replays of 5 and of 40 items");
    assert_eq!(large.get("external_ids"), Some(&1), "{large:?}");
    // A batch of changes looks its external ids up once, and answers each posting as stored.
    let (changed, spent) = run(batch(40, "Changed"), true).await;
    assert_eq!(spent.get("external_ids"), Some(&1), "{spent:?}");
    for result in changed["upsertPostings"]["results"].as_array().unwrap() {
        assert_eq!(result["outcome"], "UPDATED");
        let id = &result["posting"]["id"];
        let stored = app
            .ok(
                "query($id: ID!) { posting(id: $id) { id version status updatedAt publishedAt title } }",
                json!({ "id": id }),
                Some(&owner.access),
            )
            .await;
        assert_eq!(stored["posting"], result["posting"], "the answer is what a read finds");
    }
    let first = &created["upsertPostings"]["results"][0]["posting"];
    assert_eq!(first["status"], "PUBLISHED");
    assert_eq!(first["version"], 2, "created as a draft and published: {first}");
}

const CHILD_TABLES: [&str; 4] = ["posting_locations", "posting_skills", "posting_benefits", "posting_items"];

fn child_statements(spent: &std::collections::BTreeMap<String, u64>) -> Vec<u64> {
    CHILD_TABLES.iter().map(|t| spent.get(*t).copied().unwrap_or(0)).collect()
}

/// Rows of one child table that belong to postings titled `Rows …`.
async fn child_rows(app: &crate::helpers::TestApp, table: &str) -> i64 {
    use hiregraph_persistence::ConnectionTrait;
    let backend = app.app.db.conn.get_database_backend();
    let row = app
        .app
        .db
        .conn
        .query_one_raw(hiregraph_persistence::Statement::from_string(
            backend,
            format!(
                "SELECT COUNT(*) AS n FROM {table} c JOIN postings p ON p.id = c.posting_id WHERE p.title LIKE 'Rows %'"
            ),
        ))
        .await
        .unwrap()
        .unwrap();
    row.try_get::<i64>("", "n").unwrap()
}

#[tokio::test]
async fn child_rows_are_written_in_one_statement_per_table_and_only_where_lists_changed() {
    let app = crate::helpers::spawn_app_with(&[("HIREGRAPH_CACHE", "off")]).await;
    let owner = app.register("owner").await;
    let company = app.create_company(&owner, "Rows").await;
    let batch = |prefix: &str, n: usize, summary: &str, changed_lists: bool| -> Vec<Value> {
        (0..n)
            .map(|i| {
                let mut posting = item(&company, &format!("{prefix}-{i}"), &format!("Rows {prefix} {i}"));
                posting["summary"] = summary.into();
                if changed_lists {
                    posting["skills"] = json!([{ "name": "Kafka", "required": true }]);
                    posting["locations"] = json!([{ "country": "FR", "remote": true }]);
                    posting["benefits"] = json!(["Gym", "Train pass"]);
                    posting["responsibilities"] = json!(["Run services", "Write docs", "Mentor"]);
                    posting["requiredQualifications"] = json!(["Kafka in production"]);
                    posting["preferredQualifications"] = json!(["Go"]);
                }
                posting
            })
            .collect()
    };
    let upsert = |postings: Vec<Value>| counted(&app, &owner, &company, postings, true);

    // New postings: one multi-row INSERT per table, for 5 as for 40 — creating a batch sends the
    // same statements whatever its size.
    let (_, small) = upsert(batch("a", 5, "First", false)).await;
    let (_, large) = upsert(batch("b", 40, "First", false)).await;
    assert_eq!(small, large, "creating 5 and 40");
    assert_eq!(child_statements(&small), [1, 1, 1, 1], "{small:?}");
    assert_eq!(child_statements(&large), [1, 1, 1, 1], "{large:?}");

    // Only the summary changes: no child table is touched.
    let (body, spent) = upsert(batch("b", 40, "Second", false)).await;
    assert!(outcomes(&body).iter().all(|o| o == "UPDATED"), "{body}");
    assert_eq!(child_statements(&spent), [0, 0, 0, 0], "{spent:?}");

    // Every list changes: one DELETE and one INSERT per child table, for 5 as for 40.
    let (_, small) = upsert(batch("a", 5, "Third", true)).await;
    let (body, large) = upsert(batch("b", 40, "Third", true)).await;
    assert!(outcomes(&body).iter().all(|o| o == "UPDATED"), "{body}");
    assert_eq!(child_statements(&small), [2, 2, 2, 2], "{small:?}");
    assert_eq!(child_statements(&large), [2, 2, 2, 2], "{large:?}");

    // What was written is what the filters and the read find.
    for (table, per_posting) in CHILD_TABLES.into_iter().zip([1, 1, 2, 5]) {
        assert_eq!(child_rows(&app, table).await, 45 * per_posting, "{table}");
    }
    let count = |filter: Value| {
        let app = &app;
        async move {
            app.ok("query($f: PostingFilter) { postings(filter: $f) { totalCount } }", json!({ "f": filter }), None)
                .await["postings"]["totalCount"]
                .as_i64()
                .unwrap()
        }
    };
    assert_eq!(count(json!({ "skills": ["Kafka"] })).await, 45);
    assert_eq!(count(json!({ "skills": ["Rust"] })).await, 0);
    assert_eq!(count(json!({ "countries": ["FR"] })).await, 45);
    assert_eq!(count(json!({ "countries": ["DE"] })).await, 0);
    let id = &body["upsertPostings"]["results"][7]["posting"]["id"];
    let read = app
        .ok(
            "query($id: ID!) { posting(id: $id) { summary skills { name required } benefits responsibilities locations { country remote } } }",
            json!({ "id": id }),
            Some(&owner.access),
        )
        .await;
    assert_eq!(
        read["posting"],
        json!({
            "summary": "Third",
            "skills": [{ "name": "Kafka", "required": true }],
            "benefits": ["Gym", "Train pass"],
            "responsibilities": ["Run services", "Write docs", "Mentor"],
            "locations": [{ "country": "FR", "remote": true }],
        })
    );
}

#[tokio::test]
async fn concurrent_batches_with_the_same_new_external_ids_create_each_posting_once() {
    let app = spawn_app().await;
    let owner = app.register("owner").await;
    let company = app.create_company(&owner, "Racing Sync").await;
    let items: Vec<Value> = (0..20).map(|i| item(&company, &format!("race-{i}"), &format!("Racer {i}"))).collect();
    let calls = (0..8).map(|_| {
        app.graphql(
            UPSERT,
            json!({ "i": { "companyId": company, "postings": items, "publish": true } }),
            Some(&owner.access),
        )
    });
    let bodies = futures_util::future::join_all(calls).await;
    let mut created = vec![0; 20];
    for body in &bodies {
        assert!(body.get("errors").is_none(), "no batch fails as a whole: {body}");
        for (i, result) in body["data"]["upsertPostings"]["results"].as_array().unwrap().iter().enumerate() {
            match result["outcome"].as_str() {
                Some("CREATED") => created[i] += 1,
                Some("UNCHANGED") => {}
                _ => assert_eq!(result["errors"][0]["code"], "CONFLICT", "{result}"),
            }
        }
    }
    assert_eq!(created, vec![1; 20], "each external id is created by exactly one batch");
    let listed = app
        .ok(
            "query($id: ID!) { node(id: $id) { ... on Company { postings(first: 100) { totalCount } } } }",
            json!({ "id": company }),
            Some(&owner.access),
        )
        .await;
    assert_eq!(listed["node"]["postings"]["totalCount"], 20, "{listed}");
}
