//! GraphiQL as the binary serves it: its own files under a strict Content-Security-Policy, and a
//! real Chromium (Debian's, headless, driven by playwright-core from tests/clients/graphiql) that
//! renders it with every other origin cut off, runs a typed query and a typed subscription.

use std::path::Path;

use crate::helpers::{spawn_app, spawn_app_with};

#[tokio::test]
async fn the_page_and_its_files_come_from_the_server_under_a_strict_policy() {
    let app = spawn_app().await;
    let page = app.client.get(format!("{}/", app.address)).send().await.unwrap();
    assert_eq!(page.status(), 200);
    let policy = page.headers()["content-security-policy"].to_str().unwrap().to_owned();
    for directive in ["default-src 'none'", "script-src 'self'", "worker-src 'self'", "frame-ancestors 'none'"] {
        assert!(policy.contains(directive), "{directive} missing from {policy}");
    }
    assert!(!policy.contains("script-src 'self' 'unsafe"), "{policy}");
    let html = page.text().await.unwrap();
    assert!(!html.contains("https://"), "the page loads nothing from elsewhere: {html}");
    assert!(html.contains(r#"<script type="module" src="graphiql/graphiql.js"#), "{html}");
    // A browser asking for /graphql without a query gets the same page.
    let from_graphql = app.client.get(format!("{}/graphql", app.address)).header("accept", "text/html").send().await;
    assert!(from_graphql.unwrap().text().await.unwrap().contains("graphiql/graphiql.js"));

    for (file, content_type) in [
        ("graphiql.js", "text/javascript"),
        ("graphiql.css", "text/css"),
        ("editor.worker.js", "text/javascript"),
        ("graphql.worker.js", "text/javascript"),
        ("json.worker.js", "text/javascript"),
        ("codicon.ttf", "font/ttf"),
        ("LICENSES.txt", "text/plain"),
    ] {
        let res = app.client.get(format!("{}/graphiql/{file}", app.address)).send().await.unwrap();
        assert_eq!(res.status(), 200, "{file}");
        assert!(res.headers()["content-type"].to_str().unwrap().starts_with(content_type), "{file}");
        assert!(res.bytes().await.unwrap().len() > 1000, "{file} has content");
    }
    let gzip = app
        .client
        .get(format!("{}/graphiql/graphiql.js", app.address))
        .header("accept-encoding", "gzip")
        .send()
        .await
        .unwrap();
    assert_eq!(gzip.headers().get("content-encoding").map(|v| v.to_str().unwrap()), Some("gzip"));
    let missing = app.client.get(format!("{}/graphiql/../Cargo.toml", app.address)).send().await.unwrap();
    assert_eq!(missing.status(), 404);
    let licences = app.client.get(format!("{}/graphiql/LICENSES.txt", app.address)).send().await.unwrap();
    let licences = licences.text().await.unwrap();
    for package in ["graphiql 5.", "react 19.", "monaco-editor", "graphql-ws 6."] {
        assert!(licences.contains(package), "LICENSES.txt names {package}");
    }
}

/// Debian's Chromium and playwright-core: installed here (apt-get, npm ci) when missing. Outside
/// CI a machine that cannot install them skips the browser test, saying so.
fn browser_ready(dir: &Path) -> bool {
    let ci = std::env::var("CI").is_ok_and(|v| v == "true");
    let chromium = Path::new("/usr/bin/chromium");
    if !chromium.exists() {
        let installed = std::process::Command::new("apt-get")
            .args(["install", "-y", "-q", "--no-install-recommends", "chromium"])
            .env("DEBIAN_FRONTEND", "noninteractive")
            .status()
            .is_ok_and(|s| s.success());
        if !installed || !chromium.exists() {
            assert!(!ci, "CI needs Debian's chromium for the GraphiQL test: apt-get install chromium");
            eprintln!("skipped: Chromium is not installed and apt-get could not install it");
            return false;
        }
    }
    if !dir.join("node_modules/playwright-core").exists() {
        let status = std::process::Command::new("npm")
            .args(["ci", "--no-audit", "--no-fund", "--loglevel=error"])
            .current_dir(dir)
            .status()
            .expect("npm (Node.js) is needed for this test: apt-get install nodejs npm");
        assert!(status.success(), "npm ci in {} failed", dir.display());
    }
    true
}

#[tokio::test]
async fn chromium_renders_graphiql_offline_and_runs_a_typed_query_and_subscription() {
    let dir = Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/clients/graphiql"));
    if !browser_ready(dir) {
        return;
    }
    let app = spawn_app_with(&[("HIREGRAPH_WORKER_POLL_MS", "200")]).await;
    let owner = app.register("owner").await;
    let company = app.create_company(&owner, "Browsed").await;
    let posting = app.published_posting(&owner, &company, "Seen in a browser").await;
    let draft = app.create_posting(&owner, crate::helpers::complete_posting(&company, "A draft")).await;
    let run = tokio::process::Command::new("node")
        .args(["check.mjs", &app.address, &owner.access, &posting, &draft])
        .current_dir(dir)
        .kill_on_drop(true)
        .output();
    let output = tokio::time::timeout(std::time::Duration::from_secs(120), run)
        .await
        .expect("the browser check finished within 2 minutes")
        .expect("node (Node.js) is needed for this test");
    let (stdout, stderr) = (String::from_utf8_lossy(&output.stdout), String::from_utf8_lossy(&output.stderr));
    assert!(output.status.success(), "the browser check failed:\n{stdout}\n{stderr}");
    for step in ["rendered:", "query:", "headers:", "docs:", "subscription:", "signed-in subscription:"] {
        assert!(stdout.contains(step), "{step} missing from:\n{stdout}");
    }
}
