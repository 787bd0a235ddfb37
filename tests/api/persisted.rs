//! Persisted documents and HTTP caching: Apollo's automatic persisted queries over POST and GET,
//! shared by replicas through Redis; the trusted-documents mode; `Cache-Control` and ETags on
//! anonymous GETs, never on a signed-in caller's.

use serde_json::{Value, json};
use sha2::Digest;

use crate::helpers::{TestApp, error_code, spawn_app, spawn_app_with, spawn_replica};

fn sha256(text: &str) -> String {
    sha2::Sha256::digest(text.as_bytes()).iter().map(|b| format!("{b:02x}")).collect()
}

fn persisted(hash: &str) -> Value {
    json!({ "persistedQuery": { "version": 1, "sha256Hash": hash } })
}

async fn post(app: &TestApp, body: Value, accept: &str) -> (u16, Value) {
    let response =
        app.client.post(format!("{}/graphql", app.address)).header("accept", accept).json(&body).send().await.unwrap();
    (response.status().as_u16(), response.json().await.unwrap())
}

async fn get(app: &TestApp, params: &[(&str, String)], headers: &[(&str, &str)]) -> reqwest::Response {
    let mut request = app.client.get(format!("{}/graphql", app.address)).query(params);
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    request.send().await.unwrap()
}

const JSON: &str = "application/json";
const GRAPHQL: &str = "application/graphql-response+json";

#[tokio::test]
async fn a_persisted_query_is_registered_once_then_runs_by_its_hash_over_post_and_get() {
    let app = spawn_app().await;
    let query = "query Total { postings(first: 1) { totalCount } }";
    let hash = sha256(query);

    // Unknown: Apollo's clients read this message and code, then send the query with its hash.
    for (accept, status) in [(JSON, 200), (GRAPHQL, 400)] {
        let (got, body) = post(&app, json!({ "extensions": persisted(&hash) }), accept).await;
        assert_eq!(got, status, "{body}");
        assert_eq!(body["errors"][0]["message"], "PersistedQueryNotFound", "{body}");
        assert_eq!(error_code(&body), Some("PERSISTED_QUERY_NOT_FOUND"));
        assert!(body.get("data").is_none());
    }
    let (status, body) = post(&app, json!({ "query": query, "extensions": persisted(&hash) }), JSON).await;
    assert_eq!((status, &body["data"]["postings"]["totalCount"]), (200, &json!(0)), "{body}");
    let (status, body) = post(&app, json!({ "extensions": persisted(&hash) }), JSON).await;
    assert_eq!((status, &body["data"]["postings"]["totalCount"]), (200, &json!(0)), "{body}");

    // A hash that is not the query's is refused, and registers nothing.
    let other = "{ __typename }";
    let (_, body) = post(&app, json!({ "query": other, "extensions": persisted(&"ab".repeat(32)) }), JSON).await;
    assert_eq!(error_code(&body), Some("PERSISTED_QUERY_HASH_MISMATCH"), "{body}");
    let (_, body) = post(&app, json!({ "extensions": persisted(&"ab".repeat(32)) }), JSON).await;
    assert_eq!(error_code(&body), Some("PERSISTED_QUERY_NOT_FOUND"));
    for bad in [json!({ "version": 2, "sha256Hash": hash }), json!({ "version": 1, "sha256Hash": "xyz" }), json!(7)] {
        let (status, body) = post(&app, json!({ "extensions": { "persistedQuery": bad } }), GRAPHQL).await;
        assert_eq!(status, 400, "{body}");
        assert!(error_code(&body).is_some_and(|c| c.starts_with("PERSISTED_QUERY") || c == "BAD_REQUEST"), "{body}");
    }

    // Over GET, as CDNs cache it: the hash alone, and an ETag to revalidate with.
    let extensions = persisted(&hash).to_string();
    let first = get(&app, &[("extensions", extensions.clone())], &[]).await;
    assert_eq!(first.status(), 200);
    assert_eq!(first.headers()["cache-control"], "public, max-age=60");
    assert_eq!(first.headers()["vary"], "accept, authorization");
    let etag = first.headers()["etag"].to_str().unwrap().to_owned();
    assert!(etag.starts_with("W/\"") && etag.len() == 36, "a weak tag: the body may be sent compressed; {etag}");
    assert_eq!(first.json::<Value>().await.unwrap()["data"]["postings"]["totalCount"], 0);
    let again = get(&app, &[("extensions", extensions.clone())], &[("if-none-match", &etag)]).await;
    assert_eq!(again.status(), 304);
    assert_eq!(again.headers()["etag"].to_str().unwrap(), etag);
    assert!(again.bytes().await.unwrap().is_empty());
    let strong = etag.trim_start_matches("W/").to_owned();
    let again = get(&app, &[("extensions", extensions.clone())], &[("if-none-match", &strong)]).await;
    assert_eq!(again.status(), 304, "If-None-Match compares weakly");
    let stale = get(&app, &[("extensions", extensions.clone())], &[("if-none-match", "W/\"0000\", \"1\"")]).await;
    assert_eq!(stale.status(), 200, "another tag gets the body");

    // The document a hash names decides what it is: a persisted mutation is no GET.
    let mutation = "mutation { logout(input: { refreshToken: \"x\" }) { success } }";
    let mutation_hash = sha256(mutation);
    let _ = post(&app, json!({ "query": mutation, "extensions": persisted(&mutation_hash) }), JSON).await;
    let refused = get(&app, &[("extensions", persisted(&mutation_hash).to_string())], &[]).await;
    assert_eq!(refused.status(), 405);

    // Replicas share registrations through Redis; in process each keeps its own.
    let replica = spawn_replica(&app).await;
    let (_, body) = post(&replica, json!({ "extensions": persisted(&hash) }), JSON).await;
    if app.app.cache.is_shared() {
        assert_eq!(body["data"]["postings"]["totalCount"], 0, "{body}");
    } else {
        assert_eq!(error_code(&body), Some("PERSISTED_QUERY_NOT_FOUND"), "{body}");
    }
}

#[tokio::test]
async fn only_anonymous_answers_without_errors_are_cacheable() {
    let app = spawn_app_with(&[("HIREGRAPH_GET_MAX_AGE_SECS", "0")]).await;
    let query = "{ postings(first: 1) { totalCount } }".to_owned();
    let anonymous = get(&app, &[("query", query.clone())], &[]).await;
    assert_eq!(anonymous.headers()["cache-control"], "public, no-cache", "max-age 0: revalidate every time");
    assert!(anonymous.headers().contains_key("etag"));

    let user = app.register("reader").await;
    let bearer = format!("Bearer {}", user.access);
    let signed_in = get(&app, &[("query", query.clone())], &[("authorization", &bearer)]).await;
    assert_eq!(signed_in.status(), 200);
    assert_eq!(signed_in.headers()["cache-control"], "private, no-store");
    assert!(!signed_in.headers().contains_key("etag"));

    let failing = get(&app, &[("query", "{ posting(id: \"nope\") { id } }".to_owned())], &[]).await;
    assert_eq!(failing.headers()["cache-control"], "no-store", "an answer with errors is not kept");
    assert!(!failing.headers().contains_key("etag"));
}

#[tokio::test]
async fn in_trusted_documents_mode_only_the_manifests_documents_run() {
    let trusted = "query Total { postings(first: 1) { totalCount } }";
    let hash = sha256(trusted);
    let manifest = json!({ "format": "apollo-persisted-query-manifest", "version": 1,
        "operations": [{ "id": hash, "name": "Total", "type": "query", "body": trusted }] });
    let path = std::env::temp_dir().join(format!("hiregraph-manifest-{}.json", uuid::Uuid::now_v7().simple()));
    std::fs::write(&path, manifest.to_string()).unwrap();
    let app = spawn_app_with(&[("HIREGRAPH_TRUSTED_DOCUMENTS", path.to_str().unwrap())]).await;
    let _ = std::fs::remove_file(&path);

    let (status, body) = post(&app, json!({ "extensions": persisted(&hash) }), JSON).await;
    assert_eq!((status, &body["data"]["postings"]["totalCount"]), (200, &json!(0)), "{body}");
    let (_, body) = post(&app, json!({ "query": trusted }), JSON).await;
    assert_eq!(body["data"]["postings"]["totalCount"], 0, "a trusted document sent in full runs: {body}");

    let other = "{ __typename }";
    let (status, body) = post(&app, json!({ "query": other }), GRAPHQL).await;
    assert_eq!(status, 400, "{body}");
    assert_eq!(error_code(&body), Some("TRUSTED_DOCUMENT_REQUIRED"));
    let (_, body) = post(&app, json!({ "query": other, "extensions": persisted(&sha256(other)) }), JSON).await;
    assert_eq!(error_code(&body), Some("TRUSTED_DOCUMENT_REQUIRED"), "nothing registers: {body}");
    let (_, body) = post(&app, json!({ "extensions": persisted(&sha256(other)) }), JSON).await;
    assert_eq!(error_code(&body), Some("PERSISTED_QUERY_NOT_FOUND"));
    let refused = get(&app, &[("query", other.to_owned())], &[]).await;
    assert_eq!(refused.json::<Value>().await.unwrap()["errors"][0]["extensions"]["code"], "TRUSTED_DOCUMENT_REQUIRED");

    // A manifest whose hash is not its document's stops start-up, naming the variable.
    let bad = std::env::temp_dir().join(format!("hiregraph-manifest-{}.json", uuid::Uuid::now_v7().simple()));
    std::fs::write(&bad, json!({ "0".repeat(64): trusted }).to_string()).unwrap();
    let vars = [("HIREGRAPH_TRUSTED_DOCUMENTS".to_owned(), bad.to_str().unwrap().to_owned())].into_iter().collect();
    let refused = hiregraph_api::settings::Settings::from_map(&vars).unwrap_err();
    let _ = std::fs::remove_file(&bad);
    assert_eq!(refused.name, "HIREGRAPH_TRUSTED_DOCUMENTS");
    assert!(refused.message.contains("is not the SHA-256 of its document"), "{refused}");
}
