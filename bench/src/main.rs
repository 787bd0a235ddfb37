//! `hiregraph-bench generate` fills Postgres with a realistic dataset (idempotent);
//! `hiregraph-bench load` drives a running server and reports requests/s, p50 and p99.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use hiregraph_migrations::{Migrator, MigratorTrait};
use hiregraph_persistence::{ConnectionTrait, Database};
use serde_json::{Value, json};

mod codec;
mod live;
mod partners;
mod peer;
mod semantic;
mod webhooks;

const USAGE: &str = "usage:
  hiregraph-bench generate --database-url URL [--companies N] [--postings N] [--candidates N] [--applications N]
  hiregraph-bench load --url http://127.0.0.1:8080 [--scenario by-id|feed|company|search|search-fresh|recommend|candidates] [--auth none|user|key] [--seconds N] [--concurrency N] [--label TEXT]
  hiregraph-bench upsert-batch --url URL [--rounds 20] [--size 100]
  hiregraph-bench codec --database-url URL [--postings 100] [--rounds 300]
  hiregraph-bench semantic --database-url URL [--rounds 2000]
  hiregraph-bench peer-check --url HIREGRAPH --peer-url POSTGRAPHILE --database-url URL
  hiregraph-bench peer-load --url URL --server hiregraph|postgraphile --query by-id|first-20|first-100|company-counts|company-pipeline|typename
      --database-url URL [--server-pid PID] [--clock-ticks N] [--seconds N] [--concurrency N] [--label TEXT]
  hiregraph-bench webhook-receiver --port N --out FILE
  hiregraph-bench webhook-load --a URL --b URL --receiver URL [--events 10000] [--concurrency 16]
  hiregraph-bench webhook-report --database-url URL --received FILE --company ID [--wait-secs 120]
  hiregraph-bench move-latency --url URL --receiver URL [--moves 400]
  hiregraph-bench subscribers --url URL --server-pid PID [--connections 5000] [--events 20] [--sustained 500] [--writers 8] [--seconds 10]";

/// Password of the bench owner, `bench-owner@bench.example`, who owns the first 50 companies.
pub(crate) const BENCH_PASSWORD: &str = "bench-password";

fn args() -> (String, HashMap<String, String>) {
    let mut raw = std::env::args().skip(1);
    let command = raw.next().unwrap_or_default();
    let mut flags = HashMap::new();
    while let Some(flag) = raw.next() {
        let value = raw.next().unwrap_or_default();
        flags.insert(flag.trim_start_matches("--").to_owned(), value);
    }
    (command, flags)
}

pub(crate) fn number(flags: &HashMap<String, String>, name: &str, default: u64) -> Result<u64, String> {
    flags.get(name).map_or(Ok(default), |v| v.parse().map_err(|_| format!("--{name} takes a whole number, not `{v}`")))
}

#[tokio::main]
async fn main() -> std::process::ExitCode {
    let (command, flags) = args();
    let result = match command.as_str() {
        "generate" => generate(&flags).await,
        "load" => load(&flags).await,
        "codec" => codec::run(&flags).await,
        "peer-check" => peer::check(&flags).await,
        "peer-load" => peer::load(&flags).await,
        "webhook-receiver" => webhooks::receiver(&flags).await,
        "webhook-load" => webhooks::load(&flags).await,
        "webhook-report" => webhooks::report(&flags).await,
        "move-latency" => webhooks::move_latency(&flags).await,
        "subscribers" => live::subscribers(&flags).await,
        "upsert-batch" => partners::batch(&flags).await,
        "semantic" => semantic::run(&flags).await,
        _ => Err(USAGE.to_owned()),
    };
    match result {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("hiregraph-bench: {e}");
            std::process::ExitCode::FAILURE
        }
    }
}

fn bar(step: usize, steps: usize, what: &str, started: Instant) {
    let filled = step * 30 / steps;
    println!(
        "[{}{}] {step}/{steps} {what} ({:.1}s)",
        "#".repeat(filled),
        ".".repeat(30 - filled),
        started.elapsed().as_secs_f64()
    );
}

/// Fills the database with SQL that runs inside Postgres (`generate_series`), so 500,000 rows take
/// seconds. Idempotent: a dataset already there (the marker company exists) is left alone.
async fn generate(flags: &HashMap<String, String>) -> Result<(), String> {
    let url = flags.get("database-url").ok_or("--database-url is required")?;
    let companies = number(flags, "companies", 1_000)?;
    let postings = number(flags, "postings", 50_000)?;
    let candidates = number(flags, "candidates", 200_000)?;
    let applications = number(flags, "applications", 500_000)?;
    if applications > candidates * 3 || companies < 50 {
        return Err("--applications may be at most 3 × --candidates, and --companies at least 50".into());
    }
    let db = Database::connect(url, 2).await.map_err(|e| format!("cannot connect: {e}"))?;
    if db.backend != hiregraph_persistence::Backend::Postgres {
        return Err("the generator fills Postgres; give a postgres:// URL".into());
    }
    Migrator::up(db.conn.sea_orm(), None).await.map_err(|e| format!("migrations: {e}"))?;
    let present = db
        .conn
        .query_one_raw(sea_orm_stmt("SELECT count(*)::bigint AS n FROM companies WHERE slug LIKE 'bench-co-%'"))
        .await
        .map_err(|e| e.to_string())?
        .and_then(|row| row.try_get::<i64>("", "n").ok())
        .unwrap_or(0);
    if present > 0 {
        println!("the bench dataset is already there ({present} companies)");
        compact_postings(&db).await?;
        return candidate_skills(&db).await;
    }
    let children =
        hiregraph_migrations::fill_children_sql(hiregraph_persistence::DbBackend::Postgres, "slug LIKE 'bench-job-%'");
    let hash = {
        use argon2::password_hash::rand_core::OsRng;
        use argon2::password_hash::{PasswordHasher, SaltString};
        argon2::Argon2::default()
            .hash_password(BENCH_PASSWORD.as_bytes(), &SaltString::generate(&mut OsRng))
            .map_err(|e| e.to_string())?
            .to_string()
    };
    let steps: Vec<(&str, String)> = vec![
        ("users", format!(
            "INSERT INTO users (id, email, password_hash, role, created_at, updated_at)
             SELECT gen_random_uuid(), 'bench-cand-' || i || '@bench.example', '{hash}', 'MEMBER', now(), now() FROM generate_series(1, {candidates}) i
             UNION ALL SELECT gen_random_uuid(), 'bench-owner@bench.example', '{hash}', 'MEMBER', now(), now()")),
        ("companies", format!(
            "INSERT INTO companies (id, slug, name, description, website, industry, size_band, hq_city, hq_country, verified, created_at, updated_at)
             SELECT gen_random_uuid(), 'bench-co-' || i, 'Bench Company ' || i, 'A company of the benchmark.', 'https://bench-co-' || i || '.example',
               (ARRAY['Software','Finance','Health','Logistics','Energy'])[1 + i % 5], 'SIZE_51_200',
               (ARRAY['Berlin','London','Austin','Toronto','Paris'])[1 + i % 5], (ARRAY['DE','GB','US','CA','FR'])[1 + i % 5], i % 2 = 0, now(), now()
             FROM generate_series(1, {companies}) i")),
        ("company members", "INSERT INTO company_members (company_id, user_id, role, created_at)
             SELECT c.id, u.id, 'OWNER', now() FROM companies c, users u
             WHERE u.email = 'bench-owner@bench.example' AND c.slug LIKE 'bench-co-%' AND substring(c.slug from 10)::int <= 50".to_owned()),
        ("postings", format!(
            "INSERT INTO postings (id, company_id, slug, title, summary, description, employment_type, seniority, min_years_experience, workplace,
               salary_min, salary_max, salary_currency, salary_period, equity, status, published_at, expires_at, version, created_at, updated_at)
             SELECT gen_random_uuid(), c.id, 'bench-job-' || i,
               (ARRAY['Backend','Frontend','Data','Platform','Mobile','Security','ML','Site Reliability'])[1 + i % 8] || ' Engineer ' || i,
               'A job of the benchmark.', repeat('We build things that matter. ', 20),
               (ARRAY['FULL_TIME','FULL_TIME','CONTRACT','PART_TIME'])[1 + i % 4], (ARRAY['JUNIOR','MID','SENIOR','STAFF'])[1 + (i / 3) % 4],
               i % 10, (ARRAY['REMOTE','HYBRID','ONSITE'])[1 + i % 3],
               50000 + (i % 100) * 1000, 70000 + (i % 100) * 1500, (ARRAY['EUR','GBP','USD','USD','EUR'])[1 + i % 5], 'YEAR', i % 3 = 0,
               CASE WHEN i % 10 = 0 THEN 'DRAFT' ELSE 'PUBLISHED' END,
               CASE WHEN i % 10 = 0 THEN NULL ELSE now() - (i || ' minutes')::interval END, NULL, 1, now() - (i || ' minutes')::interval, now()
             FROM generate_series(1, {postings}) i
             JOIN (SELECT id, row_number() OVER (ORDER BY id) - 1 AS rn FROM companies WHERE slug LIKE 'bench-co-%') c ON c.rn = i % {companies}")),
        ("posting locations", "INSERT INTO posting_locations (posting_id, position, city, region, country, remote)
             SELECT id, 0, CASE WHEN workplace = 'REMOTE' THEN NULL ELSE 'City' END, NULL,
               (ARRAY['DE','GB','US','CA','FR','NL'])[1 + abs(hashtext(slug)) % 6], workplace = 'REMOTE'
             FROM postings WHERE slug LIKE 'bench-job-%'".to_owned()),
        ("posting skills", "INSERT INTO posting_skills (posting_id, skill_key, name, required, position)
             SELECT p.id, lower(s.name), s.name, s.n = 1, s.n FROM postings p
             CROSS JOIN LATERAL (SELECT n, (ARRAY['Rust','Go','Python','TypeScript','PostgreSQL','Kubernetes','AWS','Kafka','React','Terraform'])[1 + (abs(hashtext(p.slug)) + n * 3) % 10] AS name
                                 FROM generate_series(1, 3) n) s
             WHERE p.slug LIKE 'bench-job-%' ON CONFLICT DO NOTHING".to_owned()),
        ("posting read models", children),
        ("candidate profiles", format!("INSERT INTO candidate_profiles (id, user_id, display_name, headline, bio, city, region, country, years_experience, seniority,
               open_onsite, open_hybrid, open_remote, visibility, contact_email, contact_phone, work_history, education, links, created_at, updated_at)
             SELECT gen_random_uuid(), u.id, 'Candidate ' || substring(u.email from 12 for 8), {HEADLINE}, NULL, 'City', NULL,
               (ARRAY['DE','GB','US','CA','FR','NL'])[1 + abs(hashtext(u.email)) % 6], abs(hashtext(u.email)) % 20,
               (ARRAY['JUNIOR','MID','SENIOR','STAFF'])[1 + abs(hashtext(u.email)) % 4], true, true, abs(hashtext(u.email)) % 2 = 0,
               (ARRAY['PUBLIC','EMPLOYERS','PRIVATE'])[1 + abs(hashtext(u.email)) % 3], u.email, '+1 555 0100', '[]', '[]', '[]', now(), now()
             FROM users u WHERE u.email LIKE 'bench-cand-%'")),
        ("applications", format!(
            "INSERT INTO applications (id, posting_id, company_id, candidate_id, cover_letter, source, source_name, status, created_at, updated_at)
             SELECT gen_random_uuid(), p.id, p.company_id, c.id, NULL, 'DIRECT', NULL,
               (ARRAY['APPLIED','APPLIED','SCREENING','INTERVIEW','OFFER','HIRED','REJECTED','WITHDRAWN'])[1 + i % 8], now(), now()
             FROM generate_series(0, {applications} - 1) i
             JOIN (SELECT id, row_number() OVER (ORDER BY id) - 1 AS rn FROM candidate_profiles) c ON c.rn = i % {candidates}
             JOIN (SELECT id, company_id, row_number() OVER (ORDER BY id) - 1 AS rn FROM postings WHERE status = 'PUBLISHED' AND slug LIKE 'bench-job-%') p
               ON p.rn = ((i % {candidates}) * 31 + (i / {candidates}) * 12345) % (SELECT count(*) FROM postings WHERE status = 'PUBLISHED' AND slug LIKE 'bench-job-%')
             ON CONFLICT DO NOTHING")),
        ("application events", "INSERT INTO application_events (id, application_id, from_status, to_status, actor_id, note, created_at)
             SELECT gen_random_uuid(), a.id, NULL, 'APPLIED', p.user_id, NULL, a.created_at
             FROM applications a JOIN candidate_profiles p ON p.id = a.candidate_id".to_owned()),
        // The skills' search-text trigger rewrote every posting once: compact the table as a
        // steady state (autovacuum) would have it, then gather statistics.
        ("compacting postings", "VACUUM (FULL, ANALYZE) postings".to_owned()),
        ("statistics", "VACUUM ANALYZE".to_owned()),
    ];
    let started = Instant::now();
    for (n, (what, sql)) in steps.iter().enumerate() {
        db.conn.execute_unprepared(sql).await.map_err(|e| format!("{what}: {e}"))?;
        bar(n + 1, steps.len(), what, started);
    }
    println!("generated in {:.1}s", started.elapsed().as_secs_f64());
    candidate_skills(&db).await
}

/// Compacts `postings` when a migration rewrote its rows since it was generated (filling a new
/// column leaves one dead row per posting, and this Postgres may run without autovacuum), so the
/// figures measure the table a steady state would have.
async fn compact_postings(db: &Database) -> Result<(), String> {
    let dead = db
        .conn
        .query_one_raw(sea_orm_stmt(
            "SELECT (n_dead_tup > n_live_tup / 10) AS bloated FROM pg_stat_user_tables WHERE relname = 'postings'",
        ))
        .await
        .map_err(|e| e.to_string())?
        .and_then(|row| row.try_get::<bool>("", "bloated").ok())
        .unwrap_or(false);
    if dead {
        let started = Instant::now();
        db.conn.execute_unprepared("VACUUM (FULL, ANALYZE) postings").await.map_err(|e| e.to_string())?;
        println!("compacted postings (rewritten by a migration) in {:.1}s", started.elapsed().as_secs_f64());
    }
    Ok(())
}

/// A candidate's headline from their user's email: one of twelve, the postings' eight kinds of
/// engineer among them under other names, and jobs that are no engineer's, so that matching's
/// role part has something to tell apart.
const HEADLINE: &str = "(ARRAY['Backend Engineer','Frontend Developer','Data Engineer','Platform Engineer','iOS Developer',
    'Security Engineer','Machine Learning Engineer','SRE','Product Designer','Registered Nurse','Accountant','Sales Manager'])
    [1 + abs(hashtext(u.email || 'headline')) % 12]";

/// Three or four skills per candidate from the postings' vocabulary (added to a dataset made
/// before candidates had skills, too), so recommendations have something to match.
async fn candidate_skills(db: &Database) -> Result<(), String> {
    let has = db
        .conn
        .query_one_raw(sea_orm_stmt("SELECT EXISTS (SELECT 1 FROM candidate_skills) AS has"))
        .await
        .map_err(|e| e.to_string())?
        .and_then(|row| row.try_get::<bool>("", "has").ok())
        .unwrap_or(false);
    // A dataset made when every headline was "Engineer" gets the varied ones.
    let sql = format!(
        "UPDATE candidate_profiles c SET headline = {HEADLINE} FROM users u WHERE u.id = c.user_id AND c.headline = 'Engineer'"
    );
    let changed = db.conn.execute_unprepared(&sql).await.map_err(|e| format!("headlines: {e}"))?.rows_affected();
    if changed > 0 {
        println!("gave {changed} candidates varied headlines");
    }
    if has {
        println!("candidate skills are there; nothing to do");
        return Ok(());
    }
    let started = Instant::now();
    let sql = "INSERT INTO candidate_skills (candidate_id, skill_key, name, years, position)
        SELECT c.id, lower(s.name), s.name, 1 + (abs(hashtext(c.display_name)) + s.n) % 8, s.n FROM candidate_profiles c
        CROSS JOIN LATERAL (SELECT n, (ARRAY['Rust','Go','Python','TypeScript','PostgreSQL','Kubernetes','AWS','Kafka','React','Terraform'])[1 + (abs(hashtext(c.user_id::text)) + n * 7) % 10] AS name
                            FROM generate_series(1, 3 + abs(hashtext(c.user_id::text)) % 2) n) s
        ON CONFLICT DO NOTHING;
        ANALYZE candidate_skills";
    db.conn.execute_unprepared(sql).await.map_err(|e| format!("candidate skills: {e}"))?;
    println!("candidate skills added in {:.1}s", started.elapsed().as_secs_f64());
    Ok(())
}

pub(crate) fn sea_orm_stmt(sql: &str) -> hiregraph_persistence::Statement {
    hiregraph_persistence::Statement::from_string(hiregraph_persistence::DbBackend::Postgres, sql.to_owned())
}

async fn graphql(
    client: &reqwest::Client,
    url: &str,
    query: &str,
    vars: Value,
    token: Option<&str>,
) -> Result<Value, String> {
    let mut request = client.post(format!("{url}/graphql")).json(&json!({ "query": query, "variables": vars }));
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    let response = request.send().await.map_err(|e| e.to_string())?;
    let status = response.status();
    let body: Value = response.json().await.map_err(|e| e.to_string())?;
    if !status.is_success() || body.get("errors").is_some() {
        return Err(format!("{status}: {body}"));
    }
    Ok(body)
}

/// Runs one scenario for a while with many concurrent clients; prints one result line.
async fn load(flags: &HashMap<String, String>) -> Result<(), String> {
    let url = flags.get("url").cloned().unwrap_or_else(|| "http://127.0.0.1:8080".to_owned());
    let scenario = flags.get("scenario").cloned().unwrap_or_else(|| "by-id".to_owned());
    let seconds = number(flags, "seconds", 15)?;
    let concurrency = number(flags, "concurrency", 32)?;
    let label = flags.get("label").cloned().unwrap_or_default();
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(usize::try_from(concurrency).unwrap_or(32))
        .build()
        .map_err(|e| e.to_string())?;

    // Targets: posting ids from the feed, and the companies the bench owner belongs to.
    let mut ids = Vec::new();
    let mut after = Value::Null;
    while ids.len() < 1000 {
        let page = graphql(&client, &url, "query($a: String) { postings(first: 100, after: $a) { edges { node { id } } pageInfo { endCursor hasNextPage } } }", json!({ "a": after }), None).await?;
        let p = &page["data"]["postings"];
        ids.extend(
            p["edges"].as_array().into_iter().flatten().filter_map(|e| e["node"]["id"].as_str().map(str::to_owned)),
        );
        if p["pageInfo"]["hasNextPage"] != true {
            break;
        }
        after = p["pageInfo"]["endCursor"].clone();
    }
    let token = partners::owner_token(&client, &url).await?;
    // Public reads carry no credential unless `--auth` asks for the owner's token or a partner key
    // (to measure what looking a credential up costs).
    let public = match flags.get("auth").map(String::as_str).unwrap_or("none") {
        "none" => None,
        "user" => Some(token.clone()),
        "key" => Some(partners::api_key(&client, &url, &["POSTINGS_READ"]).await?),
        other => return Err(format!("--auth takes none, user or key, not `{other}`")),
    };
    let (query, token): (&str, Option<String>) = match scenario.as_str() {
        "by-id" => (
            "query($id: ID!) { posting(id: $id) { title salary { min max currency } company { name } } }",
            public.clone(),
        ),
        "feed" => (
            "query($c: [CountryCode!]) { postings(first: 20, filter: { workplaces: [REMOTE, HYBRID], countries: $c }) { edges { node { title salary { min max currency } company { name } } } } }",
            public.clone(),
        ),
        "company" => (
            "query($s: String!) { company(slug: $s) { name postings(first: 10) { edges { node { title pipeline { status count } } } } } }",
            Some(token),
        ),
        // `search-fresh` asks each query once (one unknown word more), so no replica has kept
        // what it finds: the cost of the search itself.
        "search" | "search-fresh" => (
            "query($q: String!, $c: [CountryCode!]) { postings(first: 20, filter: { query: $q, workplaces: [REMOTE, HYBRID], countries: $c }) {
               totalCount edges { relevance node { title salary { min max currency } company { name } } }
               facets { workplaces { value count } employmentTypes { value count } seniorities { value count } countries { value count } skills { value count } } } }",
            None,
        ),
        "recommend" => (
            "{ viewer { recommendedPostings(first: 10) { score posting { title company { name } } explanation { matchedRequiredSkills missingRequiredSkills notes } } } }",
            None,
        ),
        "candidates" => (
            "query($s: String!) { company(slug: $s) { postings(first: 1) { edges { node { title
               recommendedCandidates(first: 10) { score candidate { displayName } explanation { notes } } } } } } }",
            Some(token),
        ),
        other => return Err(format!("unknown scenario `{other}`")),
    };
    // Recommendations are per candidate: 20 bench candidates, signed in once each.
    let mut candidates = Vec::new();
    if scenario == "recommend" {
        for i in 1..=20 {
            let login = graphql(
                &client,
                &url,
                "mutation($i: LoginInput!) { login(input: $i) { accessToken } }",
                json!({ "i": { "email": format!("bench-cand-{i}@bench.example"), "password": BENCH_PASSWORD } }),
                None,
            )
            .await?;
            candidates.push(login["data"]["login"]["accessToken"].as_str().unwrap_or_default().to_owned());
        }
    }
    let countries = ["DE", "GB", "US", "CA", "FR", "NL"];
    let words =
        ["backend", "frontend", "data engineer", "platform", "mobile", "security", "ml engineer", "site reliability"];
    // A word no run has asked before, for `search-fresh`.
    let fresh = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_millis());
    let vars_for = |n: usize| match scenario.as_str() {
        "by-id" => json!({ "id": ids[n % ids.len()] }),
        "feed" => json!({ "c": [countries[n % countries.len()]] }),
        "search" => json!({ "q": words[n % words.len()], "c": [countries[(n / words.len()) % countries.len()]] }),
        "search-fresh" => json!({
            "q": format!("{} zz{fresh}q{n}", words[n % words.len()]),
            "c": [countries[(n / words.len()) % countries.len()]]
        }),
        "recommend" => json!({}),
        _ => json!({ "s": format!("bench-co-{}", 1 + n % 50) }),
    };
    let token_for =
        |n: usize| if candidates.is_empty() { token.clone() } else { Some(candidates[n % candidates.len()].clone()) };
    if ids.is_empty() {
        return Err("the server has no postings: run `generate` first".into());
    }
    // Warm up, then measure.
    let warm_up = if scenario == "recommend" || scenario == "candidates" { 20 } else { 200 };
    for n in 0..warm_up {
        // Counted down from the top, so `search-fresh` warms up on words the run does not ask.
        graphql(&client, &url, query, vars_for(usize::MAX - n), token_for(n).as_deref()).await?;
    }
    let run = drive(concurrency, seconds, |n| {
        let (client, url, vars, token) = (&client, &url, vars_for(n), token_for(n));
        async move { graphql(client, url, query, vars, token.as_deref()).await.map(|_| ()) }
    })
    .await;
    println!(
        "| {label} | {scenario} | {:.0} | {:.2} | {:.2} | {} |",
        run.rate(),
        run.percentile(0.50),
        run.percentile(0.99),
        run.errors
    );
    Ok(())
}

/// What a load run measured: the latency of every answered request (sorted), the failures, and
/// how long it ran.
pub(crate) struct Run {
    latencies: Vec<Duration>,
    pub(crate) errors: u64,
    elapsed: f64,
}

impl Run {
    pub(crate) fn answered(&self) -> usize {
        self.latencies.len()
    }

    pub(crate) fn rate(&self) -> f64 {
        self.latencies.len() as f64 / self.elapsed
    }

    /// The latency at `p` (0 to 1), in milliseconds.
    pub(crate) fn percentile(&self, p: f64) -> f64 {
        let at = ((self.latencies.len() as f64 * p) as usize).min(self.latencies.len().saturating_sub(1));
        self.latencies.get(at).map_or(0.0, |d| d.as_secs_f64() * 1000.0)
    }
}

/// `concurrency` clients, each sending requests one after another for `seconds`: client `w`
/// sends `send(n)` for n = w × 7919, w × 7919 + 1, … Prints each client's first failure.
pub(crate) async fn drive<F, Fut>(concurrency: u64, seconds: u64, send: F) -> Run
where
    F: Fn(usize) -> Fut,
    Fut: std::future::Future<Output = Result<(), String>>,
{
    let deadline = Instant::now() + Duration::from_secs(seconds);
    let workers = (0..concurrency).map(|w| {
        let send = &send;
        async move {
            let mut latencies = Vec::new();
            let mut errors = 0u64;
            let mut first_error: Option<String> = None;
            let mut n = usize::try_from(w).unwrap_or(0) * 7919;
            while Instant::now() < deadline {
                let started = Instant::now();
                match send(n).await {
                    Ok(()) => latencies.push(started.elapsed()),
                    Err(e) => {
                        errors += 1;
                        first_error.get_or_insert(e);
                    }
                }
                n += 1;
            }
            if let Some(e) = first_error {
                eprintln!("a failed request: {e}");
            }
            (latencies, errors)
        }
    });
    let started = Instant::now();
    let results = futures_util::future::join_all(workers).await;
    let elapsed = started.elapsed().as_secs_f64();
    let mut latencies: Vec<Duration> = results.iter().flat_map(|(l, _)| l.iter().copied()).collect();
    latencies.sort();
    Run { latencies, errors: results.iter().map(|(_, e)| e).sum(), elapsed }
}
