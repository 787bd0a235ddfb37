//! A field whose resolver fails is `null` in `data`, never missing, and a failed non-null field
//! makes its nearest nullable parent `null` (the specification's "Handling Field Errors"), on
//! several shapes: lists, aliases, named and inline fragments, nesting, batches.

use serde_json::{Value, json};

use crate::helpers::spawn_app;

fn error_paths(body: &Value) -> Vec<Value> {
    body["errors"].as_array().map(|e| e.iter().map(|e| e["path"].clone()).collect()).unwrap_or_default()
}

#[tokio::test]
async fn failed_nullable_fields_are_null_and_non_null_failures_null_their_parent() {
    let app = spawn_app().await;
    let owner = app.register("owner").await;
    let company = app.create_company(&owner, "Nulls").await;
    let posting = app.published_posting(&owner, &company, "Null safety").await;

    // In a list of edges: the member-only `pipeline` is null for anyone else, its siblings stay.
    let body = app
        .graphql("{ postings(first: 5) { edges { node { title pipeline { status count } } } } }", json!({}), None)
        .await;
    let node = &body["data"]["postings"]["edges"][0]["node"];
    assert_eq!(node["title"], "Null safety", "{body}");
    assert!(node.as_object().unwrap().contains_key("pipeline"), "the failed field is present: {body}");
    assert_eq!(node["pipeline"], Value::Null);
    assert_eq!(error_paths(&body), vec![json!(["postings", "edges", 0, "node", "pipeline"])]);
    assert_eq!(body["errors"][0]["extensions"]["code"], "UNAUTHENTICATED");

    // Aliases, a named fragment and an inline one.
    let body = app
        .graphql(
            "query($id: ID!) { p: posting(id: $id) { ...F ... on Posting { counts: pipeline { count } } } }
             fragment F on Posting { name: title ext: externalId }",
            json!({ "id": posting }),
            None,
        )
        .await;
    let p = &body["data"]["p"];
    assert_eq!(p["name"], "Null safety", "{body}");
    assert!(p.as_object().unwrap().contains_key("ext") && p["ext"].is_null(), "{body}");
    assert!(p.as_object().unwrap().contains_key("counts") && p["counts"].is_null(), "{body}");
    assert_eq!(body["errors"].as_array().unwrap().len(), 2);

    // `members` is non-null: its failure nulls the company, which is nullable.
    let slug = app.slug_of(&company).await;
    let body = app
        .graphql("query($s: String!) { company(slug: $s) { name members { role } } }", json!({ "s": slug }), None)
        .await;
    assert_eq!(body["data"], json!({ "company": null }), "{body}");
    assert_eq!(error_paths(&body), vec![json!(["company", "members"])]);
    // Two levels: Posting.company is non-null too, so the posting is what becomes null.
    let body = app
        .graphql(
            "query($id: ID!) { posting(id: $id) { title company { name members { role } } } }",
            json!({ "id": posting }),
            None,
        )
        .await;
    assert_eq!(body["data"], json!({ "posting": null }), "{body}");

    // Members see everything, with no errors and nothing added.
    let body = app
        .graphql(
            "query($id: ID!) { posting(id: $id) { pipeline { count } company { members { role } } } }",
            json!({ "id": posting }),
            Some(&owner.access),
        )
        .await;
    assert!(body.get("errors").is_none(), "{body}");
    assert!(body["data"]["posting"]["pipeline"].is_array());

    // In a batch, each operation is completed on its own.
    let batch = json!([
        { "query": "{ postings(first: 1) { edges { node { pipeline { count } } } } }" },
        { "query": "query Two { postings(first: 1) { totalCount } }" }
    ]);
    let response = app.client.post(format!("{}/graphql", app.address)).json(&batch).send().await.unwrap();
    let answers: Value = response.json().await.unwrap();
    assert_eq!(answers[0]["data"]["postings"]["edges"][0]["node"]["pipeline"], Value::Null, "{answers}");
    assert_eq!(answers[1]["data"]["postings"]["totalCount"], 1, "{answers}");
}
