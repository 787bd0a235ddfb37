//! The webhook benchmark's parts (`bench/webhooks.sh` runs them together):
//!
//! - `webhook-receiver`: a minimal HTTP/1.1 server (keep-alive) that answers 204 and appends
//!   `webhook-id`, event type, event timestamp and arrival time (µs since the epoch) per request
//!   to a file;
//! - `webhook-load`: sets up a company with an endpoint, then creates postings (one
//!   `posting.created` event each) through two replicas at once, retrying a request on the other
//!   replica when one is down;
//! - `webhook-report`: compares the receiver's file with the outbox: lost, duplicated, latency;
//! - `move-latency`: p50/p99 of `moveApplication` without and then with an endpoint configured.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use serde_json::{Value, json};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};

use crate::number;

pub(crate) fn flag<'a>(flags: &'a HashMap<String, String>, name: &str) -> Result<&'a str, String> {
    flags.get(name).map(String::as_str).ok_or_else(|| format!("--{name} is required"))
}

fn epoch_micros() -> i64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_micros() as i64).unwrap_or(0)
}

/// Serves until killed.
pub async fn receiver(flags: &HashMap<String, String>) -> Result<(), String> {
    let port = number(flags, "port", 9900)?;
    let out = flag(flags, "out")?.to_owned();
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", port as u16)).await.map_err(|e| e.to_string())?;
    let file = tokio::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(&out)
        .await
        .map_err(|e| format!("cannot open {out}: {e}"))?;
    let file = Arc::new(tokio::sync::Mutex::new(file));
    eprintln!("webhook receiver on 127.0.0.1:{port}, writing {out}");
    loop {
        let Ok((stream, _)) = listener.accept().await else { continue };
        let file = file.clone();
        tokio::spawn(async move {
            let (read, mut write) = stream.into_split();
            let mut reader = BufReader::new(read);
            loop {
                let mut length = 0usize;
                let mut id = String::new();
                let mut line = String::new();
                // Request line, then headers up to the blank line.
                match reader.read_line(&mut line).await {
                    Ok(0) | Err(_) => return,
                    Ok(_) => {}
                }
                loop {
                    line.clear();
                    if reader.read_line(&mut line).await.unwrap_or(0) == 0 {
                        return;
                    }
                    let header = line.trim_end();
                    if header.is_empty() {
                        break;
                    }
                    if let Some((name, value)) = header.split_once(':') {
                        match name.trim().to_ascii_lowercase().as_str() {
                            "content-length" => length = value.trim().parse().unwrap_or(0),
                            "webhook-id" => id = value.trim().to_owned(),
                            _ => {}
                        }
                    }
                }
                let mut body = vec![0u8; length];
                if reader.read_exact(&mut body).await.is_err() {
                    return;
                }
                let arrived = epoch_micros();
                let parsed: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
                let record = format!(
                    "{id}\t{}\t{}\t{arrived}\n",
                    parsed["type"].as_str().unwrap_or("?"),
                    parsed["timestamp"].as_str().unwrap_or("?")
                );
                file.lock().await.write_all(record.as_bytes()).await.ok();
                if write.write_all(b"HTTP/1.1 204 No Content\r\ncontent-length: 0\r\n\r\n").await.is_err() {
                    return;
                }
            }
        });
    }
}

pub(crate) struct Api {
    pub(crate) client: reqwest::Client,
}

impl Api {
    pub(crate) async fn call(
        &self,
        url: &str,
        query: &str,
        variables: Value,
        token: Option<&str>,
    ) -> Result<Value, String> {
        let mut request =
            self.client.post(format!("{url}/graphql")).json(&json!({ "query": query, "variables": variables }));
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        let body: Value = request.send().await.map_err(|e| e.to_string())?.json().await.map_err(|e| e.to_string())?;
        if body.get("errors").is_some() {
            return Err(body.to_string());
        }
        Ok(body["data"].clone())
    }

    /// Tries each URL in turn until one answers without error.
    async fn call_any(&self, urls: &[&str], query: &str, variables: Value, token: &str) -> Result<Value, String> {
        let mut last = String::new();
        for attempt in 0..40 {
            let url = urls[attempt % urls.len()];
            match self.call(url, query, variables.clone(), Some(token)).await {
                Ok(data) => return Ok(data),
                Err(e) => last = e,
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        Err(last)
    }
}

pub(crate) async fn owner_with_company(api: &Api, url: &str, label: &str) -> Result<(String, String), String> {
    let email = format!("{label}-{}@bench.example", uuid::Uuid::now_v7().simple());
    let data = api
        .call(
            url,
            "mutation($i: RegisterInput!) { register(input: $i) { accessToken } }",
            json!({ "i": { "email": email, "password": "a long bench password" } }),
            None,
        )
        .await?;
    let token = data["register"]["accessToken"].as_str().unwrap_or_default().to_owned();
    let slug = format!("wh-{}", &uuid::Uuid::now_v7().simple().to_string()[18..]);
    let data = api
        .call(
            url,
            "mutation($i: CreateCompanyInput!) { createCompany(input: $i) { company { id } } }",
            json!({ "i": { "name": format!("Webhook bench {label}"), "slug": slug } }),
            Some(&token),
        )
        .await?;
    Ok((token, data["createCompany"]["company"]["id"].as_str().unwrap_or_default().to_owned()))
}

async fn add_endpoint(api: &Api, url: &str, token: &str, company: &str, receiver: &str) -> Result<(), String> {
    api.call(
        url,
        "mutation($i: CreateWebhookEndpointInput!) { createWebhookEndpoint(input: $i) { endpoint { id } } }",
        json!({ "i": { "companyId": company, "url": receiver, "eventTypes": [] } }),
        Some(token),
    )
    .await?;
    Ok(())
}

/// Creates a complete posting and publishes it; its id.
pub(crate) async fn published_posting(
    api: &Api,
    url: &str,
    token: &str,
    company: &str,
    title: &str,
) -> Result<String, String> {
    let input = json!({ "i": {
        "companyId": company, "title": title, "summary": "A bench posting.",
        "description": "A posting made by the bench, complete enough to publish and to apply to.",
        "responsibilities": ["Bench"], "requiredQualifications": ["None"],
        "employmentType": "FULL_TIME", "seniority": "MID", "minYearsExperience": 2, "workplace": "REMOTE",
        "locations": [{ "country": "US", "remote": true }],
        "salary": { "min": 100000, "max": 120000, "currency": "USD", "period": "YEAR" },
        "skills": [{ "name": "Rust", "required": true }], "benefits": ["Bench"],
    } });
    let data = api.call(url, CREATE_POSTING, input, Some(token)).await?;
    let posting = data["createPosting"]["posting"]["id"].as_str().unwrap_or_default().to_owned();
    api.call(
        url,
        "mutation($i: PostingStatusInput!) { publishPosting(input: $i) { posting { id } } }",
        json!({ "i": { "id": posting } }),
        Some(token),
    )
    .await?;
    Ok(posting)
}

const CREATE_POSTING: &str = "mutation($i: CreatePostingInput!) { createPosting(input: $i) { posting { id } } }";

/// Creates `--events` postings through `--a` and `--b` with `--concurrency` clients; prints the
/// company id (for the report) and progress every second to stderr.
pub async fn load(flags: &HashMap<String, String>) -> Result<(), String> {
    let (a, b) = (flag(flags, "a")?.to_owned(), flag(flags, "b")?.to_owned());
    let receiver = flag(flags, "receiver")?.to_owned();
    let events = number(flags, "events", 10_000)?;
    let concurrency = number(flags, "concurrency", 16)?;
    let api =
        Api { client: reqwest::Client::builder().timeout(Duration::from_secs(10)).build().map_err(|e| e.to_string())? };
    let (token, company) = owner_with_company(&api, &a, "load").await?;
    add_endpoint(&api, &a, &token, &company, &receiver).await?;
    println!("{company}");
    let next = AtomicU64::new(0);
    let done = AtomicU64::new(0);
    let started = Instant::now();
    let clients = (0..concurrency).map(|c| {
        let (api, a, b, token, company, next, done) =
            (&api, a.as_str(), b.as_str(), token.as_str(), company.as_str(), &next, &done);
        async move {
            loop {
                let n = next.fetch_add(1, Ordering::Relaxed);
                if n >= events {
                    return Ok::<_, String>(());
                }
                let urls = if (n + c) % 2 == 0 { [a, b] } else { [b, a] };
                let input = json!({ "i": { "companyId": company, "title": format!("Webhook bench posting {n}") } });
                api.call_any(&urls, CREATE_POSTING, input, token).await?;
                let finished = done.fetch_add(1, Ordering::Relaxed) + 1;
                if finished % 1000 == 0 {
                    eprintln!("{finished} postings in {:.1} s", started.elapsed().as_secs_f64());
                }
            }
        }
    });
    for result in futures_util::future::join_all(clients).await {
        result?;
    }
    eprintln!("{events} postings in {:.1} s", started.elapsed().as_secs_f64());
    Ok(())
}

/// Reads the receiver's file against the outbox's events of `--company`; waits (up to
/// `--wait-secs`) for deliveries still under way.
pub async fn report(flags: &HashMap<String, String>) -> Result<(), String> {
    let database_url = flag(flags, "database-url")?;
    let received_path = flag(flags, "received")?;
    let company = flag(flags, "company")?;
    let wait = Duration::from_secs(number(flags, "wait-secs", 120)?);
    let uuid = {
        use base64::Engine;
        let raw = base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(company).map_err(|e| e.to_string())?;
        let text = String::from_utf8(raw).map_err(|e| e.to_string())?;
        text.split_once(':').map(|(_, u)| u.to_owned()).ok_or("not a company id")?
    };
    let db = hiregraph_persistence::Database::connect(database_url, 2).await.map_err(|e| e.to_string())?;
    let sql = format!("SELECT id::text FROM outbox WHERE company_id = '{uuid}' AND event_type = 'posting.created'");
    let rows = hiregraph_persistence::ConnectionTrait::query_all_raw(
        &db.conn,
        hiregraph_persistence::Statement::from_string(
            hiregraph_persistence::ConnectionTrait::get_database_backend(&db.conn),
            sql,
        ),
    )
    .await
    .map_err(|e| e.to_string())?;
    let expected: HashSet<String> = rows.iter().filter_map(|r| r.try_get_by_index::<String>(0).ok()).collect();
    let deadline = Instant::now() + wait;
    let (mut seen, mut latencies) = (HashSet::new(), Vec::new());
    let mut total;
    loop {
        let text = std::fs::read_to_string(received_path).unwrap_or_default();
        seen.clear();
        latencies.clear();
        total = 0usize;
        for line in text.lines() {
            let fields: Vec<&str> = line.split('\t').collect();
            let [id, kind, timestamp, arrived] = fields[..] else { continue };
            if kind != "posting.created" || !expected.contains(id) {
                continue;
            }
            total += 1;
            if seen.insert(id.to_owned())
                && let (Ok(at), Ok(arrived)) = (chrono_micros(timestamp), arrived.parse::<i64>())
            {
                latencies.push((arrived - at) as f64 / 1000.0);
            }
        }
        if seen.len() == expected.len() || Instant::now() >= deadline {
            break;
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    latencies.sort_by(f64::total_cmp);
    let at = |p: f64| {
        latencies
            .get(((latencies.len() as f64 * p) as usize).min(latencies.len().saturating_sub(1)))
            .copied()
            .unwrap_or(0.0)
    };
    let lost = expected.len() - seen.len();
    let duplicates = total - seen.len();
    println!("events in the outbox: {}", expected.len());
    println!(
        "delivered (distinct): {}  lost: {lost}  duplicate deliveries: {duplicates} ({:.2} %)",
        seen.len(),
        100.0 * duplicates as f64 / expected.len().max(1) as f64
    );
    println!(
        "delivery latency, commit to receiver (first delivery): p50 {:.0} ms  p99 {:.0} ms  max {:.0} ms",
        at(0.5),
        at(0.99),
        at(1.0)
    );
    Ok(())
}

/// RFC 3339 (as the body's `timestamp`) to µs since the epoch.
fn chrono_micros(text: &str) -> Result<i64, String> {
    // `2026-12-02T10:00:00.123456Z`: parsed by hand to keep the bench free of chrono.
    let (date, time) = text.trim_end_matches('Z').split_once('T').ok_or("no T")?;
    let d: Vec<i64> = date.split('-').filter_map(|p| p.parse().ok()).collect();
    let (hms, frac) = time.split_once('.').unwrap_or((time, "0"));
    let t: Vec<i64> = hms.split(':').filter_map(|p| p.parse().ok()).collect();
    let [y, m, day] = d[..] else { return Err("bad date".into()) };
    let [h, min, s] = t[..] else { return Err("bad time".into()) };
    // Days from the civil date (Howard Hinnant's algorithm).
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    let micros: i64 = format!("{frac:0<6}")[..6].parse().map_err(|_| "bad fraction")?;
    Ok(((days * 86_400 + h * 3600 + min * 60 + s) * 1_000_000) + micros)
}

const MOVE: &str = "mutation($i: MoveApplicationInput!) { moveApplication(input: $i) { application { status } } }";

/// p50/p99 of `moveApplication` run one after another: `--moves` without any webhook endpoint on
/// the company, then as many with one.
pub async fn move_latency(flags: &HashMap<String, String>) -> Result<(), String> {
    let url = flag(flags, "url")?.to_owned();
    let receiver = flag(flags, "receiver")?.to_owned();
    let moves = number(flags, "moves", 400)?;
    let api = Api { client: reqwest::Client::new() };
    let (token, company) = owner_with_company(&api, &url, "moves").await?;
    let email = format!("mover-{}@bench.example", uuid::Uuid::now_v7().simple());
    let data = api
        .call(
            &url,
            "mutation($i: RegisterInput!) { register(input: $i) { accessToken } }",
            json!({ "i": { "email": email, "password": "a long bench password" } }),
            None,
        )
        .await?;
    let candidate = data["register"]["accessToken"].as_str().unwrap_or_default().to_owned();
    api.call(
        &url,
        "mutation($i: UpsertCandidateProfileInput!) { upsertCandidateProfile(input: $i) { profile { id } } }",
        json!({ "i": { "displayName": "Mover", "visibility": "PUBLIC" } }),
        Some(&candidate),
    )
    .await?;
    // Four moves per application: APPLIED → SCREENING → INTERVIEW → OFFER → HIRED.
    let per_phase = moves.div_ceil(4);
    let mut applications = Vec::new();
    for n in 0..per_phase * 2 {
        let posting = published_posting(&api, &url, &token, &company, &format!("Move bench {n}")).await?;
        let data = api
            .call(
                &url,
                "mutation($i: ApplyToPostingInput!) { applyToPosting(input: $i) { application { id } } }",
                json!({ "i": { "postingId": posting } }),
                Some(&candidate),
            )
            .await?;
        applications.push(data["applyToPosting"]["application"]["id"].as_str().unwrap_or_default().to_owned());
    }
    let (without, with) = applications.split_at(per_phase as usize);
    let phase = |list: &[String]| {
        let (api, url, token) = (&api, url.as_str(), token.as_str());
        let list = list.to_vec();
        async move {
            let mut latencies = Vec::new();
            for to in ["SCREENING", "INTERVIEW", "OFFER", "HIRED"] {
                for application in &list {
                    let started = Instant::now();
                    api.call(url, MOVE, json!({ "i": { "id": application, "to": to } }), Some(token)).await?;
                    latencies.push(started.elapsed().as_secs_f64() * 1000.0);
                }
            }
            latencies.sort_by(f64::total_cmp);
            Ok::<_, String>(latencies)
        }
    };
    let at = |l: &[f64], p: f64| {
        l.get(((l.len() as f64 * p) as usize).min(l.len().saturating_sub(1))).copied().unwrap_or(0.0)
    };
    let plain = phase(without).await?;
    add_endpoint(&api, &url, &token, &company, &receiver).await?;
    let hooked = phase(with).await?;
    println!(
        "moveApplication without webhooks: p50 {:.2} ms  p99 {:.2} ms  ({} moves)",
        at(&plain, 0.5),
        at(&plain, 0.99),
        plain.len()
    );
    println!(
        "moveApplication with an endpoint: p50 {:.2} ms  p99 {:.2} ms  ({} moves)",
        at(&hooked, 0.5),
        at(&hooked, 0.99),
        hooked.len()
    );
    Ok(())
}
