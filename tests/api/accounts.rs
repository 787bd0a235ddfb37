use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde_json::json;

use crate::helpers::{JWT_SECRET, PASSWORD, error_code, error_fields, spawn_app, unique_email};

const VIEWER: &str = "{ viewer { id email } }";
const REFRESH: &str =
    "mutation($i: RefreshTokenInput!) { refreshToken(input: $i) { accessToken refreshToken user { id } } }";

#[tokio::test]
async fn registering_signs_in_and_the_viewer_is_the_new_user() {
    let app = spawn_app().await;
    let me = app.register("ada").await;
    let data = app.ok(VIEWER, json!({}), Some(&me.access)).await;
    assert_eq!(data["viewer"]["id"], me.user_id);
    assert_eq!(data["viewer"]["email"], me.email);
    assert_eq!(app.ok(VIEWER, json!({}), None).await["viewer"], serde_json::Value::Null);
}

#[tokio::test]
async fn registering_an_email_twice_is_a_conflict_whatever_its_case() {
    let app = spawn_app().await;
    let me = app.register("ada").await;
    let body = app
        .graphql(
            "mutation($i: RegisterInput!) { register(input: $i) { user { id } } }",
            json!({ "i": { "email": me.email.to_uppercase(), "password": PASSWORD } }),
            None,
        )
        .await;
    assert_eq!(error_code(&body), Some("CONFLICT"), "{body}");
}

#[tokio::test]
async fn registering_with_bad_input_names_each_field() {
    let app = spawn_app().await;
    let body = app
        .graphql(
            "mutation($i: RegisterInput!) { register(input: $i) { user { id } } }",
            json!({ "i": { "email": "not-an-email", "password": "short" } }),
            None,
        )
        .await;
    assert_eq!(error_code(&body), Some("BAD_USER_INPUT"));
    let fields = error_fields(&body);
    assert_eq!(fields, ["input.email", "input.password"]);
}

#[tokio::test]
async fn login_works_and_bad_credentials_do_not_say_which_part_was_wrong() {
    let app = spawn_app().await;
    let me = app.register("ada").await;
    let login = "mutation($i: LoginInput!) { login(input: $i) { accessToken user { id } } }";
    let data = app.ok(login, json!({ "i": { "email": me.email, "password": PASSWORD } }), None).await;
    assert_eq!(data["login"]["user"]["id"], me.user_id);

    let wrong_password =
        app.graphql(login, json!({ "i": { "email": me.email, "password": "not the password" } }), None).await;
    let no_account =
        app.graphql(login, json!({ "i": { "email": unique_email("nobody"), "password": PASSWORD } }), None).await;
    assert_eq!(error_code(&wrong_password), Some("UNAUTHENTICATED"));
    assert_eq!(error_code(&no_account), Some("UNAUTHENTICATED"));
    assert_eq!(wrong_password["errors"][0]["message"], no_account["errors"][0]["message"]);
}

#[tokio::test]
async fn refresh_tokens_rotate_and_a_reused_one_revokes_the_whole_family() {
    let app = spawn_app().await;
    let me = app.register("ada").await;
    let first = app.ok(REFRESH, json!({ "i": { "refreshToken": me.refresh } }), None).await;
    let second_token = first["refreshToken"]["refreshToken"].as_str().unwrap().to_owned();
    assert_ne!(second_token, me.refresh);
    let access = first["refreshToken"]["accessToken"].as_str().unwrap();
    assert_eq!(app.ok(VIEWER, json!({}), Some(access)).await["viewer"]["id"], me.user_id);

    // The first token was rotated: using it again is theft, and ends the family.
    let reuse = app.graphql(REFRESH, json!({ "i": { "refreshToken": me.refresh } }), None).await;
    assert_eq!(error_code(&reuse), Some("UNAUTHENTICATED"));
    let after = app.graphql(REFRESH, json!({ "i": { "refreshToken": second_token } }), None).await;
    assert_eq!(error_code(&after), Some("UNAUTHENTICATED"), "the newest token of a revoked family must not work");
}

#[tokio::test]
async fn logout_ends_the_session_but_not_other_sign_ins() {
    let app = spawn_app().await;
    let me = app.register("ada").await;
    let other = app
        .ok(
            "mutation($i: LoginInput!) { login(input: $i) { refreshToken } }",
            json!({ "i": { "email": me.email, "password": PASSWORD } }),
            None,
        )
        .await["login"]["refreshToken"]
        .as_str()
        .unwrap()
        .to_owned();
    let out = app
        .ok(
            "mutation($i: LogoutInput!) { logout(input: $i) { success } }",
            json!({ "i": { "refreshToken": me.refresh } }),
            None,
        )
        .await;
    assert_eq!(out["logout"]["success"], true);
    let refused = app.graphql(REFRESH, json!({ "i": { "refreshToken": me.refresh } }), None).await;
    assert_eq!(error_code(&refused), Some("UNAUTHENTICATED"));
    app.ok(REFRESH, json!({ "i": { "refreshToken": other } }), None).await;
}

fn forge(claims: serde_json::Value, secret: &[u8], alg: Algorithm) -> String {
    jsonwebtoken::encode(&Header::new(alg), &claims, &EncodingKey::from_secret(secret)).unwrap()
}

#[tokio::test]
async fn tampered_tokens_are_refused_with_401() {
    let app = spawn_app().await;
    let me = app.register("ada").await;
    let sub = app.app.jwt.verify(&me.access).unwrap().to_string();
    let now = chrono::Utc::now().timestamp();
    let good = json!({ "sub": sub, "role": "ADMIN", "iss": "hiregraph", "aud": "hiregraph-api", "exp": now + 300, "nbf": now, "iat": now });
    let secret = JWT_SECRET.as_bytes();
    let with = |key: &str, value: serde_json::Value| {
        let mut claims = good.clone();
        claims[key] = value;
        claims
    };
    let without = |key: &str| {
        let mut claims = good.clone();
        claims.as_object_mut().unwrap().remove(key);
        claims
    };
    // Sanity: a correctly signed token with these claims is accepted.
    app.ok(VIEWER, json!({}), Some(&forge(good.clone(), secret, Algorithm::HS256))).await;

    use base64::Engine;
    let b64 = |v: &serde_json::Value| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(v.to_string());
    let alg_none = format!("{}.{}.", b64(&json!({ "alg": "none", "typ": "JWT" })), b64(&good));
    let mut flipped = me.access.clone();
    let last = flipped.pop().unwrap();
    flipped.push(if last == 'A' { 'B' } else { 'A' });
    let cases = [
        ("alg none", alg_none),
        ("wrong key", forge(good.clone(), b"another-secret-another-secret-another-secret", Algorithm::HS256)),
        ("other HMAC algorithm", forge(good.clone(), secret, Algorithm::HS512)),
        ("expired", forge(with("exp", json!(now - 120)), secret, Algorithm::HS256)),
        ("not yet valid", forge(with("nbf", json!(now + 120)), secret, Algorithm::HS256)),
        ("wrong audience", forge(with("aud", json!("someone-else")), secret, Algorithm::HS256)),
        ("wrong issuer", forge(with("iss", json!("mallory")), secret, Algorithm::HS256)),
        ("no audience", forge(without("aud"), secret, Algorithm::HS256)),
        ("no issuer", forge(without("iss"), secret, Algorithm::HS256)),
        ("no expiry", forge(without("exp"), secret, Algorithm::HS256)),
        ("flipped signature", flipped),
        ("garbage", "not-a-jwt".to_owned()),
    ];
    for (name, token) in cases {
        let (status, body) = app.post(VIEWER, json!({}), Some(&token)).await;
        assert_eq!(status, 401, "{name}: {body}");
        assert_eq!(error_code(&body), Some("UNAUTHENTICATED"), "{name}");
    }
}

#[tokio::test]
async fn a_signed_token_for_an_account_that_does_not_exist_is_refused() {
    let app = spawn_app().await;
    let now = chrono::Utc::now().timestamp();
    let ghost = json!({ "sub": uuid::Uuid::now_v7().to_string(), "role": "ADMIN", "iss": "hiregraph",
        "aud": "hiregraph-api", "exp": now + 300, "nbf": now, "iat": now });
    let token = forge(ghost, JWT_SECRET.as_bytes(), Algorithm::HS256);
    let (status, body) = app
        .post("mutation { createCompany(input: { name: \"Ghost Inc\" }) { company { id } } }", json!({}), Some(&token))
        .await;
    assert_eq!((status, error_code(&body)), (401, Some("UNAUTHENTICATED")), "{body}");
}

#[tokio::test]
async fn the_platform_role_comes_from_the_database_not_the_token() {
    let app = spawn_app().await;
    let me = app.register("mallory").await;
    let owner = app.register("owner").await;
    let company = app.create_company(&owner, "Acme").await;
    // A token signed with the right key whose role claim says ADMIN, for a member.
    let now = chrono::Utc::now().timestamp();
    let claims = json!({ "sub": app.app.jwt.verify(&me.access).unwrap().to_string(), "role": "ADMIN",
        "iss": "hiregraph", "aud": "hiregraph-api", "exp": now + 300, "nbf": now, "iat": now });
    let token = forge(claims, JWT_SECRET.as_bytes(), Algorithm::HS256);
    const VERIFY: &str = "mutation($i: VerifyCompanyInput!) { verifyCompany(input: $i) { company { verified } } }";
    let body = app.graphql(VERIFY, json!({ "i": { "id": company } }), Some(&token)).await;
    assert_eq!(error_code(&body), Some("FORBIDDEN"), "{body}");
    // Made admin in the database, the same old token now carries the role.
    let admin = app.platform_admin().await;
    let data = app.ok(VERIFY, json!({ "i": { "id": company } }), Some(&admin.access)).await;
    assert_eq!(data["verifyCompany"]["company"]["verified"], true);
}

#[tokio::test]
async fn a_disabled_account_loses_every_session_at_once_and_cannot_sign_in() {
    let app = spawn_app().await;
    let admin = app.platform_admin().await;
    let me = app.register("disabled").await;
    app.ok(VIEWER, json!({}), Some(&me.access)).await;
    const DISABLE: &str = "mutation($i: DisableUserInput!) { disableUser(input: $i) { user { id disabled } } }";
    // Only platform admins may, and not on themselves.
    let body = app.graphql(DISABLE, json!({ "i": { "id": me.user_id } }), Some(&me.access)).await;
    assert_eq!(error_code(&body), Some("FORBIDDEN"), "{body}");
    let body = app.graphql(DISABLE, json!({ "i": { "id": admin.user_id } }), Some(&admin.access)).await;
    assert_eq!((error_code(&body), error_fields(&body)), (Some("BAD_USER_INPUT"), vec!["input.id".to_owned()]));

    let data = app.ok(DISABLE, json!({ "i": { "id": me.user_id } }), Some(&admin.access)).await;
    assert_eq!(data["disableUser"]["user"]["disabled"], true);
    let (status, body) = app.post(VIEWER, json!({}), Some(&me.access)).await;
    assert_eq!((status, error_code(&body)), (401, Some("UNAUTHENTICATED")), "the access token still worked: {body}");
    let body = app.graphql(REFRESH, json!({ "i": { "refreshToken": me.refresh } }), None).await;
    assert_eq!(error_code(&body), Some("UNAUTHENTICATED"), "{body}");
    const LOGIN: &str = "mutation($i: LoginInput!) { login(input: $i) { accessToken } }";
    let body = app.graphql(LOGIN, json!({ "i": { "email": me.email, "password": PASSWORD } }), None).await;
    assert_eq!(error_code(&body), Some("UNAUTHENTICATED"), "{body}");
    assert!(body["errors"][0]["message"].as_str().unwrap().contains("disabled"), "{body}");

    // Enabled again, the account signs in; the old sessions stay ended.
    app.ok(DISABLE, json!({ "i": { "id": me.user_id, "disabled": false } }), Some(&admin.access)).await;
    app.ok(LOGIN, json!({ "i": { "email": me.email, "password": PASSWORD } }), None).await;
    let body = app.graphql(REFRESH, json!({ "i": { "refreshToken": me.refresh } }), None).await;
    assert_eq!(error_code(&body), Some("UNAUTHENTICATED"), "{body}");
}

#[tokio::test]
async fn weak_passwords_are_refused_naming_the_field_and_old_hashes_keep_working() {
    let app = spawn_app().await;
    const REGISTER: &str = "mutation($i: RegisterInput!) { register(input: $i) { user { id } } }";
    let email = unique_email("grace.hopper");
    let local = email.split('@').next().unwrap().to_owned();
    for weak in ["aaaaaaaaaaaa", "1234567890", "123456789012", "1qaz2wsx3edc", &format!("my {local} pass")] {
        let body = app.graphql(REGISTER, json!({ "i": { "email": email, "password": weak } }), None).await;
        assert_eq!(error_code(&body), Some("BAD_USER_INPUT"), "{weak}: {body}");
        assert_eq!(error_fields(&body), ["input.password"], "{weak}");
    }
    app.ok(REGISTER, json!({ "i": { "email": email, "password": PASSWORD } }), None).await;
    // A hash stored under the old policy (10 characters) still signs in.
    let old = unique_email("old-policy");
    let hash = hiregraph_api::auth::password::hash("tenchars!!".to_owned()).await.unwrap();
    hiregraph_persistence::users::insert(
        hiregraph_domain::UserId::generate(),
        &hiregraph_domain::values::Email::parse(&old).unwrap(),
        &hash,
        hiregraph_domain::accounts::PlatformRole::Member,
        chrono::Utc::now(),
        &app.app.db.conn,
    )
    .await
    .unwrap();
    app.ok(
        "mutation($i: LoginInput!) { login(input: $i) { accessToken } }",
        json!({ "i": { "email": old, "password": "tenchars!!" } }),
        None,
    )
    .await;
}
