//! `POST /oauth/token`: the OAuth 2.0 client credentials grant (RFC 6749 §4.4) for partner apps.
//!
//! The body is `application/x-www-form-urlencoded` with `grant_type=client_credentials` and an
//! optional `scope` (space-separated, a subset of the app's). The client authenticates with HTTP
//! Basic (`client_id:client_secret`, each form-encoded, §2.3.1) or with `client_id` and
//! `client_secret` in the body — one way, not both. Errors are §5.2's bodies: `invalid_request`,
//! `invalid_client` (401 with `WWW-Authenticate`), `invalid_scope`, `unsupported_grant_type`.

use actix_web::http::StatusCode;
use actix_web::http::header::{self, HeaderValue};
use actix_web::{HttpRequest, HttpResponse, web};
use base64::Engine;
use futures_util::StreamExt;
use serde_json::json;

use hiregraph_persistence::limiter::{Backoff, Decision, LimitKey};

use crate::http::HttpContext;

/// A token request is a few hundred bytes; anything much larger is not one.
const MAX_BODY: usize = 8 * 1024;

fn answer(status: StatusCode, body: serde_json::Value) -> HttpResponse {
    // §5.1: token responses must not be cached.
    HttpResponse::build(status)
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .insert_header((header::PRAGMA, "no-cache"))
        .json(body)
}

fn error(status: StatusCode, code: &str, description: &str) -> HttpResponse {
    answer(status, json!({ "error": code, "error_description": description }))
}

fn invalid_request(description: &str) -> HttpResponse {
    error(StatusCode::BAD_REQUEST, "invalid_request", description)
}

fn invalid_client(description: &str) -> HttpResponse {
    let mut response = error(StatusCode::UNAUTHORIZED, "invalid_client", description);
    response.headers_mut().insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Basic realm=\"hiregraph\""));
    response
}

/// The client id and secret of an `Authorization: Basic` header.
fn basic(req: &HttpRequest) -> Option<Result<(String, String), &'static str>> {
    let value = req.headers().get(header::AUTHORIZATION)?;
    let parsed = (|| {
        let value = value.to_str().map_err(|_| "the Authorization header is not text")?;
        let (scheme, encoded) =
            value.split_once(' ').ok_or("the Authorization header must be `Basic <credentials>`")?;
        if !scheme.eq_ignore_ascii_case("basic") {
            return Err("client authentication takes the Basic scheme");
        }
        let decoded = base64::engine::general_purpose::STANDARD
            .decode(encoded.trim())
            .map_err(|_| "the Basic credentials are not base64")?;
        let text = String::from_utf8(decoded).map_err(|_| "the Basic credentials are not UTF-8")?;
        let (id, secret) = text.split_once(':').ok_or("the Basic credentials must be client_id:client_secret")?;
        // §2.3.1: both are form-encoded before they are joined.
        let decode = |s: &str| form_urlencoded::parse(format!("x={s}").as_bytes()).next().map(|(_, v)| v.into_owned());
        Ok((decode(id).unwrap_or_default(), decode(secret).unwrap_or_default()))
    })();
    Some(parsed)
}

pub async fn token(req: HttpRequest, mut payload: web::Payload, ctx: web::Data<HttpContext>) -> HttpResponse {
    let content_type = req.headers().get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or("");
    let essence = content_type.split(';').next().unwrap_or("").trim().to_ascii_lowercase();
    if essence != "application/x-www-form-urlencoded" {
        return invalid_request("send the parameters as application/x-www-form-urlencoded");
    }
    let mut body = web::BytesMut::new();
    while let Some(chunk) = payload.next().await {
        let Ok(chunk) = chunk else { return invalid_request("the request body could not be read") };
        if body.len() + chunk.len() > MAX_BODY {
            return invalid_request("the request body is larger than a token request can be");
        }
        body.extend_from_slice(&chunk);
    }
    let mut params: Vec<(String, String)> = Vec::new();
    for (name, value) in form_urlencoded::parse(&body) {
        // §3.2: a parameter may not appear twice.
        if params.iter().any(|(n, _)| *n == name) {
            return invalid_request(&format!("the parameter `{name}` appears more than once"));
        }
        params.push((name.into_owned(), value.into_owned()));
    }
    let param = |name: &str| params.iter().find(|(n, _)| n == name).map(|(_, v)| v.as_str());
    let Some(grant) = param("grant_type") else { return invalid_request("the grant_type parameter is missing") };
    if grant != "client_credentials" {
        return error(
            StatusCode::BAD_REQUEST,
            "unsupported_grant_type",
            &format!("`{grant}` is not supported; this server issues client_credentials grants only"),
        );
    }
    let in_body = (param("client_id"), param("client_secret"));
    let (client_id, secret) = match (basic(&req), in_body) {
        (Some(_), (Some(_), _) | (_, Some(_))) => {
            return invalid_request("authenticate the client one way: HTTP Basic or body parameters, not both");
        }
        (Some(Err(why)), _) => return invalid_client(why),
        (Some(Ok(pair)), _) => pair,
        (None, (Some(id), Some(secret))) => (id.to_owned(), secret.to_owned()),
        (None, (Some(_), None)) => return invalid_client("the client_secret parameter is missing"),
        (None, _) => return invalid_client("authenticate the client with HTTP Basic or client_id and client_secret"),
    };
    let scope = param("scope");
    // Failed client authentications from one address back off like failed sign-ins: counted
    // before the attempt, taken back when the client authenticated.
    let threshold = ctx.state.settings.rate_limits.client_auth_failures_from;
    let keys = if threshold > 0 {
        vec![(LimitKey::ClientAuthFrom(crate::http::client_addr(&req, &ctx.state)), threshold)]
    } else {
        Vec::new()
    };
    if !keys.is_empty() {
        let limits = &ctx.state.settings.rate_limits;
        let backoff = Backoff { base: limits.login_backoff, max: limits.login_backoff_max };
        if let Decision::Limited(wait) = ctx.state.limiter.attempt(&keys, backoff).await {
            let secs = crate::error::retry_after_secs(wait);
            let mut response = error(
                StatusCode::TOO_MANY_REQUESTS,
                "temporarily_unavailable",
                &format!("too many failed client authentications from this address; try again in {secs} s"),
            );
            response.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from(secs));
            return response;
        }
    }
    let exchanged = crate::services::partners::exchange(&ctx.state, &client_id, &secret, scope).await;
    let failed = matches!(&exchanged, Ok(Err(refused)) if refused.error == "invalid_client");
    if !keys.is_empty() && !failed {
        ctx.state.limiter.succeeded(&[], &keys).await;
    }
    match exchanged {
        Ok(Ok((access_token, scopes))) => answer(
            StatusCode::OK,
            json!({
                "access_token": access_token,
                "token_type": "Bearer",
                "expires_in": crate::auth::jwt::PARTNER_TOKEN_TTL.as_secs(),
                "scope": scopes.to_text(),
            }),
        ),
        Ok(Err(refused)) if refused.error == "invalid_client" => invalid_client(&refused.description),
        Ok(Err(refused)) => error(StatusCode::BAD_REQUEST, refused.error, &refused.description),
        Err(err) => {
            tracing::error!(error = ?err, "the token endpoint could not answer");
            let mut response =
                error(StatusCode::SERVICE_UNAVAILABLE, "temporarily_unavailable", "try again in a moment");
            response.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
            response
        }
    }
}

/// Any other method on `/oauth/token`.
pub async fn method_not_allowed() -> HttpResponse {
    let mut response = invalid_request("the token endpoint takes POST");
    *response.status_mut() = StatusCode::METHOD_NOT_ALLOWED;
    response.headers_mut().insert(header::ALLOW, HeaderValue::from_static("POST"));
    response
}
