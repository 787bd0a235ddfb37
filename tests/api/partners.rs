//! Partner apps and their credentials against the real server: the OAuth 2.0 token endpoint case
//! by case (RFC 6749 §4.4 and §5.2), API keys (format, checksum, revocation seen at once by a second
//! replica, expiry, last use), secret rotation, and who may manage apps.

use std::time::Duration;

use serde_json::{Value, json};

use crate::helpers::{PartnerApp, Session, TestApp, error_code, spawn_app, spawn_replica};

const DRAFT: &str = "query($id: ID!) { posting(id: $id) { title status } }";
const EVENTS: &str = "query($c: ID!) { events(companyId: $c, first: 5) { edges { node { type } } } }";

struct Fixture {
    app: TestApp,
    owner: Session,
    company: String,
    draft: String,
    partner: PartnerApp,
}

async fn fixture(app: TestApp) -> Fixture {
    let owner = app.register("owner").await;
    let company = app.create_company(&owner, "Partnered").await;
    let draft = app.create_posting(&owner, crate::helpers::complete_posting(&company, "Draft job")).await;
    let scopes = ["POSTINGS_READ".to_owned(), "EVENTS_READ".to_owned()];
    let partner = app.create_partner_app(&owner, &company, &scopes).await;
    Fixture { app, owner, company, draft, partner }
}

fn assert_no_store(headers: &reqwest::header::HeaderMap) {
    assert_eq!(headers.get("cache-control").and_then(|v| v.to_str().ok()), Some("no-store"));
}

#[tokio::test]
async fn the_token_endpoint_follows_rfc_6749_case_by_case() {
    let f = fixture(spawn_app().await).await;
    let (app, p) = (&f.app, &f.partner);
    let id_secret = Some((p.client_id.as_str(), p.client_secret.as_str()));
    let grant = [("grant_type", "client_credentials")];

    // HTTP Basic: a token for every scope of the app, an hour long, never cached.
    let (status, headers, body) = app.oauth(&grant, id_secret).await;
    assert_eq!(status, 200, "{body}");
    assert_no_store(&headers);
    assert_eq!(body["token_type"], "Bearer");
    assert_eq!(body["expires_in"], 3600);
    assert_eq!(body["scope"], "postings:read events:read");
    let token = body["access_token"].as_str().unwrap().to_owned();
    assert_eq!(app.ok(DRAFT, json!({ "id": f.draft }), Some(&token)).await["posting"]["status"], "DRAFT");
    assert!(app.ok(EVENTS, json!({ "c": f.company }), Some(&token)).await["events"].is_object());

    // Body parameters, narrowed to one scope: the other is no longer in force.
    let form = [
        ("grant_type", "client_credentials"),
        ("client_id", p.client_id.as_str()),
        ("client_secret", p.client_secret.as_str()),
        ("scope", "postings:read"),
    ];
    let (status, _, body) = app.oauth(&form, None).await;
    assert_eq!((status, body["scope"].as_str()), (200, Some("postings:read")), "{body}");
    let narrow = body["access_token"].as_str().unwrap().to_owned();
    assert_eq!(error_code(&app.graphql(EVENTS, json!({ "c": f.company }), Some(&narrow)).await), Some("FORBIDDEN"));
    assert!(app.ok(DRAFT, json!({ "id": f.draft }), Some(&narrow)).await["posting"].is_object());

    // §5.2, one error at a time.
    type Case<'a> = (&'a str, Vec<(&'a str, &'a str)>, Option<(&'a str, &'a str)>, u16, &'a str);
    let cases: Vec<Case> = vec![
        (
            "a scope the app lacks",
            vec![("grant_type", "client_credentials"), ("scope", "webhooks:manage")],
            id_secret,
            400,
            "invalid_scope",
        ),
        (
            "an unknown scope",
            vec![("grant_type", "client_credentials"), ("scope", "everything")],
            id_secret,
            400,
            "invalid_scope",
        ),
        (
            "a wrong secret",
            grant.to_vec(),
            Some((p.client_id.as_str(), "hgcs_dev_00000000000000000000000000000000_000000")),
            401,
            "invalid_client",
        ),
        ("an unknown client", grant.to_vec(), Some(("hgapp_nobody", p.client_secret.as_str())), 401, "invalid_client"),
        ("no client authentication", grant.to_vec(), None, 401, "invalid_client"),
        ("another grant type", vec![("grant_type", "password")], id_secret, 400, "unsupported_grant_type"),
        ("no grant type", vec![("scope", "postings:read")], id_secret, 400, "invalid_request"),
        (
            "a repeated parameter",
            vec![("grant_type", "client_credentials"), ("grant_type", "client_credentials")],
            id_secret,
            400,
            "invalid_request",
        ),
        (
            "two ways of client authentication",
            vec![
                ("grant_type", "client_credentials"),
                ("client_id", p.client_id.as_str()),
                ("client_secret", p.client_secret.as_str()),
            ],
            id_secret,
            400,
            "invalid_request",
        ),
    ];
    for (case, form, basic, want_status, want_error) in cases {
        let (status, headers, body) = app.oauth(&form, basic).await;
        assert_eq!((status, body["error"].as_str()), (want_status, Some(want_error)), "{case}: {body}");
        assert!(body["error_description"].as_str().is_some_and(|d| !d.is_empty()), "{case}: {body}");
        assert_no_store(&headers);
        if want_status == 401 {
            let challenge = headers.get("www-authenticate").and_then(|v| v.to_str().ok()).unwrap_or("");
            assert!(challenge.starts_with("Basic"), "{case}: WWW-Authenticate `{challenge}`");
        }
    }
    // Not a form at all, and not POST.
    let response = app
        .client
        .post(format!("{}/oauth/token", app.address))
        .json(&json!({ "grant_type": "client_credentials" }))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 400);
    assert_eq!(response.json::<Value>().await.unwrap()["error"], "invalid_request");
    let response = app.client.get(format!("{}/oauth/token", app.address)).send().await.unwrap();
    assert_eq!(response.status(), 405);

    // Rotating the secret ends the old secret and every token issued under it, at once.
    let rotated = app
        .ok(
            "mutation($i: RotatePartnerAppSecretInput!) { rotatePartnerAppSecret(input: $i) { clientSecret } }",
            json!({ "i": { "partnerAppId": p.id } }),
            Some(&f.owner.access),
        )
        .await["rotatePartnerAppSecret"]["clientSecret"]
        .as_str()
        .unwrap()
        .to_owned();
    let (status, _, body) = app.oauth(&grant, id_secret).await;
    assert_eq!((status, body["error"].as_str()), (401, Some("invalid_client")));
    let (status, body) = app.post(DRAFT, json!({ "id": f.draft }), Some(&token)).await;
    assert_eq!((status, error_code(&body)), (401, Some("UNAUTHENTICATED")), "{body}");
    let fresh = PartnerApp { client_secret: rotated, ..p.clone() };
    let token = app.partner_token(&fresh, None).await;
    assert!(app.ok(DRAFT, json!({ "id": f.draft }), Some(&token)).await["posting"].is_object());
}

const KEYS: &str = "query($c: ID!) { node(id: $c) { ... on Company { partnerApps { name scopes clientId
  apiKeys { id name hint expiresAt revokedAt lastUsedAt } } } } }";

#[tokio::test]
async fn an_api_key_works_until_it_is_revoked_and_a_second_replica_refuses_it_at_once() {
    let f = fixture(spawn_app().await).await;
    let replica = spawn_replica(&f.app).await;
    let created = f
        .app
        .ok(
            "mutation($i: CreateApiKeyInput!) { createApiKey(input: $i) { key apiKey { id hint revokedAt } } }",
            json!({ "i": { "partnerAppId": f.partner.id, "name": "Nightly sync" } }),
            Some(&f.owner.access),
        )
        .await;
    let key = created["createApiKey"]["key"].as_str().unwrap().to_owned();
    let key_id = created["createApiKey"]["apiKey"]["id"].as_str().unwrap().to_owned();
    // hg_<env>_<32 base62>_<6 base62>
    let parts: Vec<&str> = key.split('_').collect();
    assert_eq!(parts.len(), 4, "{key}");
    assert_eq!((parts[0], parts[1]), ("hg", "dev"));
    assert!(parts[2].len() == 32 && parts[3].len() == 6, "{key}");
    assert!(parts[2].bytes().chain(parts[3].bytes()).all(|b| b.is_ascii_alphanumeric()), "{key}");
    let hint = created["createApiKey"]["apiKey"]["hint"].as_str().unwrap();
    assert!(hint.starts_with("hg_dev_") && hint.ends_with(&key[key.len() - 4..]), "{hint}");

    for server in [&f.app, &replica] {
        let data = server.ok(DRAFT, json!({ "id": f.draft }), Some(&key)).await;
        assert_eq!(data["posting"]["status"], "DRAFT");
    }
    // A mistyped key is told apart without a lookup; an unknown one is refused as unknown.
    let mut typo = key.clone().into_bytes();
    typo[12] = if typo[12] == b'x' { b'y' } else { b'x' };
    let (status, body) = f.app.post(DRAFT, json!({ "id": f.draft }), Some(&String::from_utf8(typo).unwrap())).await;
    assert_eq!((status, error_code(&body)), (401, Some("UNAUTHENTICATED")));
    assert!(body.to_string().contains("checksum"), "{body}");

    // The key's use is recorded; the listing never shows the key or the secret.
    let mut listed = Value::Null;
    for _ in 0..50 {
        listed = f.app.ok(KEYS, json!({ "c": f.company }), Some(&f.owner.access)).await;
        if !listed["node"]["partnerApps"][0]["apiKeys"][0]["lastUsedAt"].is_null() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(!listed["node"]["partnerApps"][0]["apiKeys"][0]["lastUsedAt"].is_null(), "{listed}");
    assert_eq!(listed["node"]["partnerApps"][0]["scopes"], json!(["POSTINGS_READ", "EVENTS_READ"]));
    assert!(!listed.to_string().contains(&key) && !listed.to_string().contains(&f.partner.client_secret));

    // Revoked through the first replica, refused by the second on its very next request.
    let revoked = f
        .app
        .ok(
            "mutation($i: RevokeApiKeyInput!) { revokeApiKey(input: $i) { apiKey { revokedAt } } }",
            json!({ "i": { "apiKeyId": key_id } }),
            Some(&f.owner.access),
        )
        .await;
    assert!(!revoked["revokeApiKey"]["apiKey"]["revokedAt"].is_null());
    let (status, body) = replica.post(DRAFT, json!({ "id": f.draft }), Some(&key)).await;
    assert_eq!((status, error_code(&body)), (401, Some("UNAUTHENTICATED")), "{body}");
    assert!(body.to_string().contains("revoked"), "{body}");

    // A key past its expiry stops working; one cannot be issued already expired.
    let soon = (chrono::Utc::now() + chrono::Duration::seconds(2)).to_rfc3339();
    let expiring = f
        .app
        .ok(
            "mutation($i: CreateApiKeyInput!) { createApiKey(input: $i) { key } }",
            json!({ "i": { "partnerAppId": f.partner.id, "name": "Short", "expiresAt": soon } }),
            Some(&f.owner.access),
        )
        .await["createApiKey"]["key"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(f.app.ok(DRAFT, json!({ "id": f.draft }), Some(&expiring)).await["posting"].is_object());
    tokio::time::sleep(Duration::from_millis(2500)).await;
    let (status, body) = f.app.post(DRAFT, json!({ "id": f.draft }), Some(&expiring)).await;
    assert_eq!(status, 401, "{body}");
    assert!(body.to_string().contains("expired"), "{body}");
    let past = (chrono::Utc::now() - chrono::Duration::seconds(5)).to_rfc3339();
    let body = f
        .app
        .graphql(
            "mutation($i: CreateApiKeyInput!) { createApiKey(input: $i) { key } }",
            json!({ "i": { "partnerAppId": f.partner.id, "name": "Late", "expiresAt": past } }),
            Some(&f.owner.access),
        )
        .await;
    assert_eq!(crate::helpers::error_fields(&body), ["input.expiresAt"], "{body}");
}

/// Statements on the credentials' tables since `before`.
fn credential_statements(app: &TestApp, before: &[(String, u64)]) -> u64 {
    let earlier: std::collections::HashMap<&str, u64> = before.iter().map(|(t, n)| (t.as_str(), *n)).collect();
    app.app
        .db
        .stats
        .tables()
        .iter()
        .filter(|(t, _)| t == "api_keys" || t == "partner_apps")
        .map(|(t, n)| n - earlier.get(t.as_str()).copied().unwrap_or(0))
        .sum()
}

#[tokio::test]
async fn a_known_credential_is_read_from_the_shared_cache_and_a_revocation_still_holds_at_once() {
    let f = fixture(spawn_app().await).await;
    let shared = crate::helpers::redis_url().is_some();
    let key = f.app.create_api_key(&f.owner, &f.partner.id).await;
    let token = f.app.partner_token(&f.partner, None).await;
    // The first use reads the database and records the key's use; wait for that to land.
    f.app.ok(DRAFT, json!({ "id": f.draft }), Some(&key)).await;
    f.app.ok(DRAFT, json!({ "id": f.draft }), Some(&token)).await;
    for _ in 0..50 {
        let listed = f.app.ok(KEYS, json!({ "c": f.company }), Some(&f.owner.access)).await;
        if !listed["node"]["partnerApps"][0]["apiKeys"][0]["lastUsedAt"].is_null() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    // Shared by every replica (Redis), the cache answers; in process, every request asks the
    // database (one statement), so a revocation through another replica is never missed.
    for credential in [&key, &token] {
        let before = f.app.app.db.stats.tables();
        for _ in 0..3 {
            f.app.ok(DRAFT, json!({ "id": f.draft }), Some(credential)).await;
        }
        let expected = if shared { 0 } else { 3 };
        assert_eq!(credential_statements(&f.app, &before), expected, "shared cache: {shared}");
    }

    // Revoking the key and rotating the secret make the cache forget both at once.
    let key_id =
        f.app.ok(KEYS, json!({ "c": f.company }), Some(&f.owner.access)).await["node"]["partnerApps"][0]["apiKeys"][0]
            ["id"]
            .as_str()
            .unwrap()
            .to_owned();
    f.app
        .ok(
            "mutation($i: RevokeApiKeyInput!) { revokeApiKey(input: $i) { apiKey { revokedAt } } }",
            json!({ "i": { "apiKeyId": key_id } }),
            Some(&f.owner.access),
        )
        .await;
    let (status, body) = f.app.post(DRAFT, json!({ "id": f.draft }), Some(&key)).await;
    assert_eq!((status, error_code(&body)), (401, Some("UNAUTHENTICATED")), "{body}");
    f.app
        .ok(
            "mutation($i: RotatePartnerAppSecretInput!) { rotatePartnerAppSecret(input: $i) { clientSecret } }",
            json!({ "i": { "partnerAppId": f.partner.id } }),
            Some(&f.owner.access),
        )
        .await;
    let (status, body) = f.app.post(DRAFT, json!({ "id": f.draft }), Some(&token)).await;
    assert_eq!((status, error_code(&body)), (401, Some("UNAUTHENTICATED")), "{body}");
    assert!(body.to_string().contains("rotated"), "{body}");
}

#[tokio::test]
async fn only_a_companys_admins_manage_its_partner_apps_and_bad_input_names_its_field() {
    let f = fixture(spawn_app().await).await;
    let app = &f.app;
    let recruiter = app.register("recruiter").await;
    app.add_member(&f.owner, &f.company, &recruiter, "RECRUITER").await;
    let create = "mutation($i: CreatePartnerAppInput!) { createPartnerApp(input: $i) { partnerApp { id } } }";
    let input = |name: &str, scopes: Value| json!({ "i": { "companyId": f.company, "name": name, "scopes": scopes } });

    let body = app.graphql(create, input("Board", json!(["POSTINGS_READ"])), Some(&recruiter.access)).await;
    assert_eq!(error_code(&body), Some("FORBIDDEN"), "{body}");
    let body = app.graphql(create, input("   ", json!([])), Some(&f.owner.access)).await;
    assert_eq!(error_code(&body), Some("BAD_USER_INPUT"), "{body}");
    let mut fields = crate::helpers::error_fields(&body);
    fields.sort();
    assert_eq!(fields, ["input.name", "input.scopes"], "{body}");
    let (status, body) = app.post(create, input("Board", json!(["EVERYTHING"])), Some(&f.owner.access)).await;
    assert_eq!(status, 400, "an unknown scope is refused before anything runs: {body}");
    assert!(body["errors"][0]["message"].as_str().unwrap().contains("input.scopes.0"), "{body}");

    // A partner's own credentials never manage partner apps, not even its own.
    let key = app.create_api_key(&f.owner, &f.partner.id).await;
    let body = app.graphql(create, input("Self-made", json!(["POSTINGS_READ"])), Some(&key)).await;
    assert_eq!(error_code(&body), Some("FORBIDDEN"), "{body}");
    let body = app
        .graphql(
            "mutation($i: CreateApiKeyInput!) { createApiKey(input: $i) { key } }",
            json!({ "i": { "partnerAppId": f.partner.id, "name": "More" } }),
            Some(&key),
        )
        .await;
    assert_eq!(error_code(&body), Some("FORBIDDEN"), "{body}");
    // A stranger cannot even learn the app exists.
    let stranger = app.register("stranger").await;
    let body = app
        .graphql(
            "mutation($i: RotatePartnerAppSecretInput!) { rotatePartnerAppSecret(input: $i) { clientSecret } }",
            json!({ "i": { "partnerAppId": f.partner.id } }),
            Some(&stranger.access),
        )
        .await;
    assert_eq!(error_code(&body), Some("NOT_FOUND"), "{body}");
    // A write by a partner is the app's in the event feed.
    let writer = app.create_partner_app(&f.owner, &f.company, &["POSTINGS_WRITE".into(), "EVENTS_READ".into()]).await;
    let token = app.partner_token(&writer, None).await;
    let posting = app.create_posting_as(&token, crate::helpers::complete_posting(&f.company, "By a partner")).await;
    assert!(!posting.is_empty());
    let events = app
        .ok(
            "query($c: ID!) { events(companyId: $c, first: 50) { edges { node { type actor { kind partnerAppId userId } } } } }",
            json!({ "c": f.company }),
            Some(&token),
        )
        .await;
    let created: Vec<&Value> = events["events"]["edges"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["node"]["actor"]["kind"] == "PARTNER")
        .collect();
    assert_eq!(created.len(), 1, "{events}");
    assert_eq!(created[0]["node"]["actor"]["partnerAppId"], writer.id.as_str());
    assert_eq!(created[0]["node"]["type"], "posting.created");
}

/// The shell blocks of docs/partners.md, in order: (whether it shows an error, its text).
fn guide_blocks() -> Vec<(bool, String)> {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../docs/partners.md");
    let text = std::fs::read_to_string(path).expect("docs/partners.md");
    let mut blocks = Vec::new();
    let mut current: Option<(bool, String)> = None;
    for line in text.lines() {
        match (&mut current, line.trim_end()) {
            (None, "```sh") => current = Some((false, String::new())),
            (None, "```sh error") => current = Some((true, String::new())),
            (Some(_), "```") => blocks.extend(current.take()),
            (Some((_, body)), line) => {
                body.push_str(line);
                body.push('\n');
            }
            (None, _) => {}
        }
    }
    blocks
}

#[tokio::test]
async fn the_partner_guides_curl_examples_run_in_order_against_the_server() {
    for tool in ["curl", "jq"] {
        let found = std::process::Command::new(tool).arg("--version").output().is_ok_and(|o| o.status.success());
        assert!(found, "docs/partners.md's examples need `{tool}` (.ci/run installs it)");
    }
    let app = crate::helpers::spawn_app_with(&[("HIREGRAPH_WEBHOOK_ALLOW_PRIVATE", "true")]).await;
    let owner = app.register("owner").await;
    let company = app.create_company(&owner, "Guided").await;
    let draft = app.create_posting(&owner, crate::helpers::complete_posting(&company, "Guide job")).await;
    let blocks = guide_blocks();
    assert!(blocks.len() >= 7, "the guide has {} shell examples", blocks.len());
    let mut script = String::from("set -euo pipefail\n");
    for (i, (error, body)) in blocks.iter().enumerate() {
        script.push_str(&format!("echo '@@block {i}'\n"));
        if *error {
            script.push_str(&format!("( {body} ) || true\n"));
        } else {
            script.push_str(body);
        }
    }
    let dir = std::env::temp_dir().join(format!("hiregraph-guide-{}", uuid::Uuid::now_v7()));
    std::fs::create_dir_all(&dir).unwrap();
    let output = tokio::process::Command::new("bash")
        .arg("-c")
        .arg(&script)
        .current_dir(&dir)
        .env("HG", &app.address)
        .env("ADMIN_TOKEN", &owner.access)
        .env("COMPANY_ID", &company)
        .env("POSTING_ID", &draft)
        .env("HOOK_URL", "http://127.0.0.1:9/hooks")
        .output()
        .await
        .unwrap();
    let _ = std::fs::remove_dir_all(&dir);
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "the guide's examples failed:\n{stdout}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let outputs: Vec<&str> = stdout.split("@@block ").skip(1).collect();
    assert_eq!(outputs.len(), blocks.len(), "{stdout}");
    for ((error, body), out) in blocks.iter().zip(&outputs) {
        if *error {
            assert!(out.contains("IDEMPOTENCY_KEY_REUSED"), "an error example shows its error:\n{body}\n{out}");
        } else {
            // Every GraphQL error of this API carries `extensions.code`; an upsert item's errors do not.
            assert!(!out.contains("\"code\""), "an example answered with errors:\n{body}\n{out}");
        }
    }
    // The dry run priced its whole document: rateLimit 5, postings(first: 50) 50 × 3 + 1.
    assert!(outputs.last().unwrap().contains("\"requestedQueryCost\": 156"), "{}", outputs.last().unwrap());
    // What the walk-through did is there: the posting was published once, by the replayed call.
    let data = app.ok(DRAFT, json!({ "id": draft }), None).await;
    assert_eq!(data["posting"]["status"], "PUBLISHED");
    // The submitted applicant reached posting 4711, with the app's name as its source.
    let submitted = app
        .ok(
            "query($c: ID!) { posting(externalId: \"4711\", companyId: $c) { applications(first: 5) { totalCount edges { node { source { partnerName } candidate { email } } } } } }",
            json!({ "c": company }),
            Some(&owner.access),
        )
        .await;
    let applications = &submitted["posting"]["applications"];
    assert_eq!(applications["totalCount"], 1, "{submitted}");
    assert_eq!(applications["edges"][0]["node"]["source"]["partnerName"], "Acme Job Board");
    assert_eq!(applications["edges"][0]["node"]["candidate"]["email"], "ada@example.com");
}

#[tokio::test]
async fn listing_partner_apps_with_their_keys_reads_the_keys_once_for_all_apps() {
    let app = crate::helpers::spawn_app_with(&[("HIREGRAPH_CACHE", "off")]).await;
    let owner = app.register("owner").await;
    let company = app.create_company(&owner, "Many Apps").await;
    let keys_read = |apps: usize| {
        let (app, owner, company) = (&app, &owner, &company);
        async move {
            while app.ok(KEYS, json!({ "c": company }), Some(&owner.access)).await["node"]["partnerApps"]
                .as_array()
                .unwrap()
                .len()
                < apps
            {
                let partner = app.create_partner_app(owner, company, &["POSTINGS_READ".into()]).await;
                app.create_api_key(owner, &partner.id).await;
                app.create_api_key(owner, &partner.id).await;
            }
            let before = app.app.db.stats.on_table("api_keys");
            let listed = app.ok(KEYS, json!({ "c": company }), Some(&owner.access)).await;
            let apps_listed = listed["node"]["partnerApps"].as_array().unwrap();
            assert_eq!(apps_listed.len(), apps);
            assert!(apps_listed.iter().all(|a| a["apiKeys"].as_array().unwrap().len() == 2), "{listed}");
            app.app.db.stats.on_table("api_keys") - before
        }
    };
    assert_eq!(keys_read(1).await, 1);
    assert_eq!(keys_read(6).await, 1, "one statement for the keys of 6 apps");
}

#[tokio::test]
async fn failed_client_authentications_back_off_by_address_and_good_ones_never_count() {
    let app = crate::helpers::spawn_app_with(&[("HIREGRAPH_CLIENT_AUTH_MAX_FAILURES", "3")]).await;
    let owner = app.register("owner").await;
    let company = app.create_company(&owner, "Guarded Tokens").await;
    let partner = app.create_partner_app(&owner, &company, &["POSTINGS_READ".into()]).await;
    let grant = [("grant_type", "client_credentials")];
    // Good exchanges are taken back: ten in a row never reach a threshold of three.
    for _ in 0..10 {
        app.partner_token(&partner, None).await;
    }
    for _ in 0..3 {
        let (status, _, body) = app.oauth(&grant, Some((&partner.client_id, "not-the-secret"))).await;
        assert_eq!((status, body["error"].as_str()), (401, Some("invalid_client")), "{body}");
    }
    // The fourth failure from this address waits, and so does the right secret meanwhile.
    for secret in ["not-the-secret", partner.client_secret.as_str()] {
        let (status, headers, body) = app.oauth(&grant, Some((&partner.client_id, secret))).await;
        assert_eq!(status, 429, "{body}");
        assert_eq!(body["error"], "temporarily_unavailable");
        assert!(body["error_description"].as_str().unwrap().contains("failed client authentications"), "{body}");
        let wait: u64 = headers["retry-after"].to_str().unwrap().parse().unwrap();
        assert!((1..=30).contains(&wait), "{wait}");
    }
}
