//! GraphQL over HTTP: status codes, media types, limits. Never a 5xx, never a panic.

use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::helpers::{TestApp, error_code, spawn_app, spawn_app_with};

async fn raw_post(app: &TestApp, content_type: Option<&str>, body: Vec<u8>) -> (u16, String, Value) {
    let mut request = app.client.post(format!("{}/graphql", app.address)).body(body);
    if let Some(ct) = content_type {
        request = request.header("content-type", ct);
    }
    let response = request.send().await.unwrap();
    let status = response.status().as_u16();
    let media = response.headers().get("content-type").map(|v| v.to_str().unwrap().to_owned()).unwrap_or_default();
    (status, media, response.json().await.unwrap_or(Value::Null))
}

#[tokio::test]
async fn bad_bodies_get_4xx_graphql_errors_never_5xx() {
    let app = spawn_app().await;
    let json_type = Some("application/json");
    let cases: Vec<(&str, Option<&str>, Vec<u8>, u16)> = vec![
        ("malformed JSON", json_type, b"{\"query\": ".to_vec(), 400),
        ("not JSON at all", json_type, b"hello".to_vec(), 400),
        ("JSON but not a request", json_type, b"{\"foo\": 1}".to_vec(), 400),
        ("query is not a string", json_type, b"{\"query\": 42}".to_vec(), 400),
        ("variables not an object", json_type, b"{\"query\": \"{ viewer { id } }\", \"variables\": [1]}".to_vec(), 400),
        ("a bare number", json_type, b"7".to_vec(), 400),
        ("empty body", json_type, Vec::new(), 400),
        ("empty batch", json_type, b"[]".to_vec(), 400),
        ("unsupported media type", Some("text/plain"), b"{\"query\": \"{ viewer { id } }\"}".to_vec(), 415),
        ("form post", Some("application/x-www-form-urlencoded"), b"query=%7Bviewer%7Bid%7D%7D".to_vec(), 415),
        ("GraphQL syntax error", json_type, b"{\"query\": \"{ postings { \"}".to_vec(), 400),
        ("unknown field", json_type, b"{\"query\": \"{ nope }\"}".to_vec(), 400),
        (
            "wrong variable type",
            json_type,
            br#"{"query": "query($n: Int) { postings(first: $n) { totalCount } }", "variables": {"n": "ten"}}"#
                .to_vec(),
            400,
        ),
        (
            "missing required variable",
            json_type,
            br#"{"query": "query($id: ID!) { node(id: $id) { id } }"}"#.to_vec(),
            400,
        ),
        (
            "unknown operation name",
            json_type,
            br#"{"query": "query A { viewer { id } }", "operationName": "B"}"#.to_vec(),
            400,
        ),
    ];
    for (name, content_type, body, status) in cases {
        let (got, media, body) = raw_post(&app, content_type, body).await;
        assert_eq!(got, status, "{name}: {body}");
        assert!(media.starts_with("application/graphql-response+json"), "{name}: {media}");
        assert!(body["errors"][0]["message"].is_string(), "{name}: {body}");
        assert!(body.get("data").is_none(), "{name}: a request error has no data entry: {body}");
    }
}

#[tokio::test]
async fn legacy_json_clients_get_200_for_graphql_errors() {
    let app = spawn_app().await;
    let response = app
        .client
        .post(format!("{}/graphql", app.address))
        .header("accept", "application/json")
        .json(&json!({ "query": "{ nope }" }))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert!(response.headers()["content-type"].to_str().unwrap().starts_with("application/json"));
    let body: Value = response.json().await.unwrap();
    assert_eq!(error_code(&body), Some("GRAPHQL_VALIDATION_FAILED"));
}

#[tokio::test]
async fn a_body_over_the_limit_is_413_by_header_and_while_streaming() {
    let app = spawn_app_with(&[("HIREGRAPH_MAX_BODY_BYTES", "65536")]).await;
    let big = format!("{{\"query\": \"{{ viewer {{ id }} }}\", \"x\": \"{}\"}}", "a".repeat(100_000));
    let (status, _, body) = raw_post(&app, Some("application/json"), big.into_bytes()).await;
    assert_eq!(status, 413, "{body}");

    // Chunked, no Content-Length, 100 MiB offered: refused after the limit, not read to the end.
    let addr = app.address.trim_start_matches("http://").to_owned();
    let mut stream = tokio::net::TcpStream::connect(&addr).await.unwrap();
    let head = format!(
        "POST /graphql HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n"
    );
    stream.write_all(head.as_bytes()).await.unwrap();
    let chunk = vec![b' '; 64 * 1024];
    let mut framed = format!("{:x}\r\n", chunk.len()).into_bytes();
    framed.extend_from_slice(&chunk);
    framed.extend_from_slice(b"\r\n");
    let (mut reader, mut writer) = stream.into_split();
    let writing = tokio::spawn(async move {
        let mut sent = 0usize;
        while sent < 100 * 1024 * 1024 {
            if writer.write_all(&framed).await.is_err() {
                break;
            }
            sent += chunk.len();
        }
        sent
    });
    let mut response = Vec::new();
    let mut buf = [0u8; 4096];
    let read = tokio::time::timeout(std::time::Duration::from_secs(30), async {
        loop {
            match reader.read(&mut buf).await {
                Ok(0) | Err(_) => break,
                Ok(n) => {
                    response.extend_from_slice(&buf[..n]);
                    if response.windows(4).any(|w| w == b"\r\n\r\n") {
                        break;
                    }
                }
            }
        }
    })
    .await;
    assert!(read.is_ok(), "no answer within 30 s");
    let text = String::from_utf8_lossy(&response);
    assert!(text.starts_with("HTTP/1.1 413"), "{text}");
    drop(reader);
    let sent = tokio::time::timeout(std::time::Duration::from_secs(30), writing).await.unwrap().unwrap();
    assert!(sent < 100 * 1024 * 1024, "the server read the whole 100 MiB body ({sent} bytes sent)");
}

#[tokio::test]
async fn batches_run_each_operation_and_are_capped() {
    let app = spawn_app().await;
    let two = json!([{ "query": "{ viewer { id } }" }, { "query": "{ nope }" }]);
    let (status, _, body) = raw_post(&app, Some("application/json"), two.to_string().into_bytes()).await;
    assert_eq!(status, 200);
    assert_eq!(body[0]["data"]["viewer"], Value::Null);
    assert_eq!(error_code(&body[1]), Some("GRAPHQL_VALIDATION_FAILED"));
    let eleven: Vec<Value> = (0..11).map(|_| json!({ "query": "{ viewer { id } }" })).collect();
    let (status, _, body) = raw_post(&app, Some("application/json"), serde_json::to_vec(&eleven).unwrap()).await;
    assert_eq!(status, 400, "{body}");
    assert!(body["errors"][0]["message"].as_str().unwrap().contains("at most 10"));
}

#[tokio::test]
async fn get_serves_queries_and_refuses_mutations() {
    let app = spawn_app().await;
    let url = format!("{}/graphql", app.address);
    let ok = app.client.get(&url).query(&[("query", "{ postings(first: 1) { totalCount } }")]).send().await.unwrap();
    assert_eq!(ok.status(), 200);
    let body: Value = ok.json().await.unwrap();
    assert_eq!(body["data"]["postings"]["totalCount"], 0);
    let with_vars = app
        .client
        .get(&url)
        .query(&[("query", "query($n: Int) { postings(first: $n) { totalCount } }"), ("variables", "{\"n\": 2}")])
        .send()
        .await
        .unwrap();
    assert_eq!(with_vars.status(), 200);
    let mutation = app
        .client
        .get(&url)
        .query(&[("query", "mutation { logout(input: { refreshToken: \"x\" }) { success } }")])
        .send()
        .await
        .unwrap();
    assert_eq!(mutation.status(), 405);
    assert_eq!(mutation.headers()["allow"], "POST");
    let put = app.client.put(&url).body("{}").send().await.unwrap();
    assert_eq!(put.status(), 405);
}

#[tokio::test]
async fn graphiql_health_and_readiness_are_served() {
    let app = spawn_app().await;
    let page = app.client.get(format!("{}/", app.address)).send().await.unwrap();
    assert_eq!(page.status(), 200);
    assert!(page.text().await.unwrap().contains("graphiql"));
    for live in ["healthz", "livez"] {
        assert_eq!(app.client.get(format!("{}/{live}", app.address)).send().await.unwrap().status(), 200, "{live}");
    }
    let ready = app.client.get(format!("{}/readyz", app.address)).send().await.unwrap();
    assert_eq!(ready.status(), 200);
    let body: Value = ready.json().await.unwrap();
    assert_eq!(body["database"], "ok");
    assert_eq!(body["cache"], "ok");
    // The indexes of an empty database are read within moments of the start.
    let mut indexes = body["indexes"].clone();
    for _ in 0..100 {
        if indexes != "building" {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        let body: Value = app.client.get(format!("{}/readyz", app.address)).send().await.unwrap().json().await.unwrap();
        indexes = body["indexes"].clone();
    }
    assert!(indexes == "ready" || indexes == "off", "{indexes}");
}

const INTROSPECTION: &str = "query IntrospectionQuery { __schema { queryType { name } mutationType { name } subscriptionType { name } types { ...FullType } directives { name description locations args { ...InputValue } } } } fragment FullType on __Type { kind name description fields(includeDeprecated: true) { name description args { ...InputValue } type { ...TypeRef } isDeprecated deprecationReason } inputFields { ...InputValue } interfaces { ...TypeRef } enumValues(includeDeprecated: true) { name description isDeprecated deprecationReason } possibleTypes { ...TypeRef } } fragment InputValue on __InputValue { name description type { ...TypeRef } defaultValue } fragment TypeRef on __Type { kind name ofType { kind name ofType { kind name ofType { kind name ofType { kind name ofType { kind name ofType { kind name ofType { kind name } } } } } } } }";

#[tokio::test]
async fn graphiqls_introspection_passes_the_default_limits() {
    let app = spawn_app().await;
    let data = app.ok(INTROSPECTION, json!({}), None).await;
    assert_eq!(data["__schema"]["queryType"]["name"], "Query");
}

#[tokio::test]
async fn deep_complex_or_alias_heavy_queries_are_refused_before_running() {
    let app = spawn_app().await;
    let deep = "{ postings { edges { node { company { postings { edges { node { company { postings { edges { node { company { name } } } } } } } } } } } } }";
    let costly =
        "{ postings(first: 100) { edges { node { company { postings(first: 100) { edges { node { title } } } } } } } }";
    let aliases: String =
        format!("{{ {} }}", (0..31).map(|i| format!("a{i}: viewer {{ id }}")).collect::<Vec<_>>().join(" "));
    for (name, query) in [("deep", deep.to_owned()), ("costly", costly.to_owned()), ("aliases", aliases)] {
        let (status, body) = app.post(&query, json!({}), None).await;
        assert_eq!(status, 400, "{name}: {body}");
        assert_eq!(error_code(&body), Some("QUERY_TOO_COMPLEX"), "{name}: {body}");
    }
    // The limits are configurable.
    let loose = spawn_app_with(&[("HIREGRAPH_MAX_DEPTH", "30")]).await;
    loose.ok(&deep.replace("postings {", "postings(first: 1) {"), json!({}), None).await;
}

#[tokio::test]
async fn a_bad_authorization_header_is_refused_not_ignored() {
    let app = spawn_app().await;
    for header in ["Basic dXNlcjpwYXNz", "Bearer", "Bearer not.a.jwt"] {
        let response = app
            .client
            .post(format!("{}/graphql", app.address))
            .header("authorization", header)
            .json(&json!({ "query": "{ viewer { id } }" }))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 401, "{header}");
        let body: Value = response.json().await.unwrap();
        assert_eq!(error_code(&body), Some("UNAUTHENTICATED"));
    }
}

#[tokio::test]
async fn metrics_report_operations_cache_and_sql_in_prometheus_text() {
    let app = spawn_app().await;
    for _ in 0..2 {
        app.ok("query FeedPage { postings(first: 3) { totalCount } }", json!({}), None).await;
    }
    let response = app.client.get(format!("{}/metrics", app.address)).send().await.unwrap();
    assert_eq!(response.status(), 200);
    assert!(response.headers()["content-type"].to_str().unwrap().starts_with("text/plain"));
    let text = response.text().await.unwrap();
    assert!(text.contains("hiregraph_graphql_requests_total{operation=\"FeedPage\"} 2"), "{text}");
    assert!(text.contains("hiregraph_graphql_request_duration_seconds_count{operation=\"FeedPage\"} 2"), "{text}");
    assert!(text.contains("hiregraph_cache_hits_total{entity=\"feed\""), "{text}");
    assert!(text.contains("hiregraph_cache_misses_total{entity=\"posting\""), "{text}");
    assert!(text.contains("hiregraph_sql_statements_total{table=\"postings\"}"), "{text}");
}

#[tokio::test]
async fn configured_origins_pass_cors_preflights_and_others_do_not() {
    let app = spawn_app_with(&[("HIREGRAPH_CORS_ORIGINS", "https://app.example, http://localhost:3000")]).await;
    let url = format!("{}/graphql", app.address);
    let preflight = |origin: &str| {
        app.client
            .request(reqwest::Method::OPTIONS, &url)
            .header("origin", origin)
            .header("access-control-request-method", "POST")
            .header("access-control-request-headers", "authorization, content-type, idempotency-key")
            .send()
    };
    let allowed = preflight("https://app.example").await.unwrap();
    assert!(allowed.status().is_success(), "{}", allowed.status());
    let h = allowed.headers();
    assert_eq!(h["access-control-allow-origin"], "https://app.example");
    let headers = h["access-control-allow-headers"].to_str().unwrap().to_ascii_lowercase();
    for wanted in ["authorization", "content-type", "idempotency-key"] {
        assert!(headers.contains(wanted), "{headers}");
    }
    assert!(h["access-control-allow-methods"].to_str().unwrap().contains("POST"));
    assert_eq!(h["access-control-max-age"], "86400");

    let refused = preflight("https://evil.example").await.unwrap();
    assert!(refused.status().is_client_error(), "{}", refused.status());
    assert!(refused.headers().get("access-control-allow-origin").is_none());

    // The request itself: the allowed origin reads the answer and its request id.
    let post = |origin: &str| {
        app.client
            .post(&url)
            .header("origin", origin)
            .header("content-type", "application/json")
            .body(r#"{"query":"{ __typename }"}"#)
            .send()
    };
    let answer = post("http://localhost:3000").await.unwrap();
    assert_eq!(answer.status(), 200);
    assert_eq!(answer.headers()["access-control-allow-origin"], "http://localhost:3000");
    let exposed = answer.headers()["access-control-expose-headers"].to_str().unwrap().to_ascii_lowercase();
    assert!(exposed.contains("x-request-id"), "{exposed}");
    // A page of this server (GraphiQL) sends its own origin and is not a cross-origin caller.
    let own = post(&app.address).await.unwrap();
    assert_eq!(own.status(), 200, "same origin");
    assert_eq!(own.json::<Value>().await.unwrap()["data"]["__typename"], "Query");
}

#[tokio::test]
async fn without_configured_origins_no_cors_headers_are_sent_and_a_bad_origin_list_stops_start_up() {
    let app = spawn_app().await;
    let answer = app
        .client
        .post(format!("{}/graphql", app.address))
        .header("origin", "https://app.example")
        .header("content-type", "application/json")
        .body(r#"{"query":"{ __typename }"}"#)
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status(), 200, "non-browser clients are not refused");
    assert!(answer.headers().get("access-control-allow-origin").is_none());
    let vars: std::collections::HashMap<String, String> =
        [("HIREGRAPH_CORS_ORIGINS".to_owned(), "app.example/path".to_owned())].into_iter().collect();
    let refused = hiregraph_api::settings::Settings::from_map(&vars).unwrap_err();
    assert_eq!(refused.name, "HIREGRAPH_CORS_ORIGINS");
    assert!(refused.message.contains("scheme://host"), "{}", refused.message);
}

#[tokio::test]
async fn every_answer_carries_a_request_id_and_refusals_are_counted_by_reason() {
    let app = spawn_app_with(&[("HIREGRAPH_MAX_BODY_BYTES", "4096")]).await;
    let id_of = |response: &reqwest::Response| {
        response.headers().get("x-request-id").map(|v| v.to_str().unwrap().to_owned()).unwrap_or_default()
    };
    let graphql = format!("{}/graphql", app.address);
    let refused = app
        .client
        .post(&graphql)
        .header("authorization", "Bearer not-a-token")
        .header("x-request-id", "req-401")
        .json(&json!({ "query": "{ __typename }" }))
        .send()
        .await
        .unwrap();
    assert_eq!((refused.status().as_u16(), id_of(&refused)), (401, "req-401".to_owned()));
    let too_large = app.client.post(&graphql).header("content-type", "application/json").body("x".repeat(5000));
    let too_large = too_large.send().await.unwrap();
    assert_eq!(too_large.status(), 413);
    assert_eq!(id_of(&too_large).len(), 36, "a new UUID when the caller sent none");
    let hostile = app.client.get(format!("{}/nowhere", app.address)).header("x-request-id", "a b c").send();
    let hostile = hostile.await.unwrap();
    assert_eq!(hostile.status(), 404);
    assert_eq!(id_of(&hostile).len(), 36, "an id with spaces is replaced");
    for path in ["/healthz", "/readyz", "/metrics"] {
        let response = app.client.get(format!("{}{path}", app.address)).send().await.unwrap();
        assert_eq!(id_of(&response).len(), 36, "{path}");
    }

    let text = app.client.get(format!("{}/metrics", app.address)).send().await.unwrap().text().await.unwrap();
    for expected in [
        "hiregraph_http_refused_total{reason=\"UNAUTHENTICATED\"} 1",
        "hiregraph_http_refused_total{reason=\"PAYLOAD_TOO_LARGE\"} 1",
        "hiregraph_http_refused_total{reason=\"NOT_FOUND\"} 1",
        "hiregraph_http_responses_total{status=\"401\"} 1",
        "hiregraph_http_responses_total{status=\"200\"}",
        "hiregraph_db_pool_connections{state=\"idle\"}",
        "hiregraph_db_pool_max_connections 5",
        "hiregraph_draining 0",
        "process_resident_memory_bytes ",
        "process_cpu_seconds_total ",
        "process_open_fds ",
        &format!("hiregraph_build_info{{version=\"{}\"}} 1", env!("CARGO_PKG_VERSION")),
    ] {
        assert!(text.contains(expected), "missing {expected}:\n{text}");
    }
    // Prometheus text format: every sample belongs to a family with HELP and TYPE, and is a number.
    let typed: std::collections::HashSet<&str> =
        text.lines().filter_map(|l| l.strip_prefix("# TYPE ")).filter_map(|l| l.split(' ').next()).collect();
    for line in text.lines().filter(|l| !l.starts_with('#') && !l.is_empty()) {
        let (series, value) = line.rsplit_once(' ').unwrap();
        assert!(value.parse::<f64>().is_ok(), "{line}");
        let name = series.split('{').next().unwrap();
        let family = ["_bucket", "_sum", "_count"].iter().find_map(|s| name.strip_suffix(s)).unwrap_or(name);
        assert!(typed.contains(name) || typed.contains(family), "no TYPE for {line}");
    }
    assert!(text.contains("le=\"10\""), "latency buckets reach 10 s");
}

#[tokio::test]
async fn answers_over_a_kibibyte_are_compressed_as_the_client_asks_and_small_ones_never() {
    let app = spawn_app().await;
    let post = |query: &'static str, encoding: Option<&'static str>| {
        let mut request = app.client.post(format!("{}/graphql", app.address)).json(&json!({ "query": query }));
        if let Some(encoding) = encoding {
            request = request.header("accept-encoding", encoding);
        }
        request.send()
    };
    let large = "{ __schema { types { name description } } }";
    let plain = post(large, None).await.unwrap();
    assert!(plain.headers().get("content-encoding").is_none());
    let plain_len = plain.bytes().await.unwrap().len();
    assert!(plain_len > 10_000, "{plain_len}");
    for (asked, expected) in [("gzip", "gzip"), ("br", "br"), ("gzip;q=0.5, br", "br")] {
        let response = post(large, Some(asked)).await.unwrap();
        assert_eq!(response.headers().get("content-encoding").map(|v| v.to_str().unwrap()), Some(expected), "{asked}");
        assert!(response.headers().contains_key("x-request-id"));
        let bytes = response.bytes().await.unwrap();
        assert!(bytes.len() * 2 < plain_len, "{asked}: {} of {plain_len} bytes", bytes.len());
        if expected == "gzip" {
            assert_eq!(&bytes[..2], &[0x1f, 0x8b], "a gzip stream");
        }
    }
    let small = post("{ __typename }", Some("gzip, br")).await.unwrap();
    assert!(small.headers().get("content-encoding").is_none(), "a small answer goes as it is, unmarked");
    assert_eq!(small.json::<Value>().await.unwrap()["data"]["__typename"], "Query");
}
