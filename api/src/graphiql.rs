//! GraphiQL, served by the binary itself: the page at `/` (and at `GET /graphql` for a browser)
//! and its bundle under `/graphiql/`, built from npm by `tools/graphiql/build.sh` and checked in
//! (`api/assets/graphiql`, with `LICENSES.txt`). Nothing is fetched from another origin, so it
//! works offline and under the strict Content-Security-Policy it is served with.

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, web};

macro_rules! asset {
    ($name:literal, $type:literal) => {
        ($name, $type, include_bytes!(concat!(env!("CARGO_MANIFEST_DIR"), "/assets/graphiql/", $name)).as_slice())
    };
}

/// The bundle's files: name, content type, bytes.
const ASSETS: [(&str, &str, &[u8]); 7] = [
    asset!("graphiql.js", "text/javascript; charset=utf-8"),
    asset!("graphiql.css", "text/css; charset=utf-8"),
    asset!("editor.worker.js", "text/javascript; charset=utf-8"),
    asset!("json.worker.js", "text/javascript; charset=utf-8"),
    asset!("graphql.worker.js", "text/javascript; charset=utf-8"),
    asset!("codicon.ttf", "font/ttf"),
    asset!("LICENSES.txt", "text/plain; charset=utf-8"),
];

/// Scripts, styles, workers and fonts from this origin only; the API over HTTP and WebSocket on
/// this origin. Monaco sets styles at run time, hence `'unsafe-inline'` for styles (never for
/// scripts).
const POLICY: &str = "default-src 'none'; script-src 'self'; worker-src 'self'; style-src 'self' 'unsafe-inline'; \
    font-src 'self' data:; img-src 'self' data:; connect-src 'self'; base-uri 'none'; form-action 'none'; \
    frame-ancestors 'none'";

const PAGE: &str = r#"<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <title>hiregraph · GraphiQL</title>
  <link rel="stylesheet" href="graphiql/graphiql.css?v=VERSION">
  <style>body { margin: 0; } #graphiql { height: 100vh; }</style>
</head>
<body>
  <div id="graphiql">Loading GraphiQL… (it needs JavaScript; the API itself is at <code>POST /graphql</code>)</div>
  <script type="module" src="graphiql/graphiql.js?v=VERSION"></script>
</body>
</html>
"#;

/// The page.
pub async fn page(req: HttpRequest) -> HttpResponse {
    // `'self'` covers ws: and wss: of this origin in current browsers; older ones need it named.
    let host = req.connection_info().host().to_owned();
    let policy = if host.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | ':' | '[' | ']')) {
        POLICY.replace("connect-src 'self'", &format!("connect-src 'self' ws://{host} wss://{host}"))
    } else {
        POLICY.to_owned()
    };
    HttpResponse::Ok()
        .content_type("text/html; charset=utf-8")
        .insert_header((header::CONTENT_SECURITY_POLICY, policy))
        .insert_header((header::X_CONTENT_TYPE_OPTIONS, "nosniff"))
        .insert_header((header::REFERRER_POLICY, "no-referrer"))
        .insert_header((header::CACHE_CONTROL, "no-cache"))
        .body(PAGE.replace("VERSION", env!("CARGO_PKG_VERSION")))
}

/// `GET /graphiql/{file}`.
pub async fn asset(file: web::Path<String>) -> HttpResponse {
    let Some((_, content_type, bytes)) = ASSETS.iter().find(|(name, _, _)| *name == file.as_str()) else {
        return HttpResponse::NotFound().content_type("text/plain").body("no such GraphiQL file");
    };
    HttpResponse::Ok()
        .content_type(*content_type)
        .insert_header((header::X_CONTENT_TYPE_OPTIONS, "nosniff"))
        // A new release of the server brings a new `?v=` for the page's two files; the workers
        // and the font are revalidated within the hour.
        .insert_header((header::CACHE_CONTROL, "public, max-age=3600"))
        .body(*bytes)
}
