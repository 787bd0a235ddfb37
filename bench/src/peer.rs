//! The side-by-side comparison with PostGraphile: the same six requests written for each server,
//! a check that both answer them with the same data, and a load run that also measures the CPU
//! of the server, of Postgres and of this driver, and the server's memory, from `/proc`.

use std::collections::{BTreeMap, HashMap};

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hiregraph_persistence::{ConnectionTrait, Database};
use serde_json::{Value, json};

use crate::{BENCH_PASSWORD, number, sea_orm_stmt};

/// Which server a request is written for.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Server {
    Hiregraph,
    PostGraphile,
}

impl Server {
    fn parse(raw: &str) -> Result<Self, String> {
        match raw {
            "hiregraph" => Ok(Self::Hiregraph),
            "postgraphile" => Ok(Self::PostGraphile),
            other => Err(format!("--server is hiregraph or postgraphile, not `{other}`")),
        }
    }
}

pub const QUERIES: [&str; 6] = ["by-id", "first-20", "first-100", "company-counts", "company-pipeline", "typename"];

const STATUSES: [&str; 7] = ["APPLIED", "SCREENING", "INTERVIEW", "OFFER", "HIRED", "REJECTED", "WITHDRAWN"];

/// The document of `query` for `server`.
fn document(query: &str, server: Server) -> Result<String, String> {
    use Server::*;
    Ok(match (query, server) {
        ("by-id", Hiregraph) => "query($id: ID!) { posting(id: $id) { title summary description status seniority \
             workplace employmentType minYearsExperience equity salary { min max currency } company { name } } }"
            .into(),
        ("by-id", PostGraphile) => "query($id: UUID!) { posting(rowId: $id) { title summary description status \
             seniority workplace employmentType minYearsExperience equity salaryMin salaryMax salaryCurrency \
             company { name } } }"
            .into(),
        ("first-20" | "first-100", Hiregraph) => {
            "query($n: Int) { postings(first: $n) { edges { node { title salary { min max currency } company { name } } } } }"
                .into()
        }
        ("first-20" | "first-100", PostGraphile) => "query($n: Int) { postings(first: $n, condition: { status: \
             \"PUBLISHED\" }, orderBy: [PUBLISHED_AT_DESC, PRIMARY_KEY_DESC]) { nodes { title salaryMin salaryMax \
             salaryCurrency company { name } } } }"
            .into(),
        ("company-counts", Hiregraph) => "query($s: String!) { company(slug: $s) { name postings(first: 10) { edges \
             { node { title applications { totalCount } } } } } }"
            .into(),
        ("company-counts", PostGraphile) => "query($s: String!) { company: companyBySlug(slug: $s) { name \
             postings(first: 10, orderBy: [CREATED_AT_DESC, PRIMARY_KEY_DESC]) { nodes { title applications \
             { totalCount } } } } }"
            .into(),
        ("company-pipeline", Hiregraph) => "query($s: String!) { company(slug: $s) { name postings(first: 10) { \
             edges { node { title pipeline { status count } } } } } }"
            .into(),
        ("company-pipeline", PostGraphile) => {
            // Plain PostGraphile has no GROUP BY: one aliased count per status.
            let counts: Vec<String> = STATUSES
                .iter()
                .map(|s| format!("{}: applications(condition: {{ status: \"{s}\" }}) {{ totalCount }}", s.to_lowercase()))
                .collect();
            format!(
                "query($s: String!) {{ company: companyBySlug(slug: $s) {{ name postings(first: 10, orderBy: \
                 [CREATED_AT_DESC, PRIMARY_KEY_DESC]) {{ nodes {{ title {} }} }} }} }}",
                counts.join(" ")
            )
        }
        ("typename", _) => "{ __typename }".into(),
        (other, _) => return Err(format!("unknown query `{other}`; one of {}", QUERIES.join(", "))),
    })
}

/// What the requests vary over, read from the bench database.
pub struct Targets {
    postings: Vec<uuid::Uuid>,
    companies: Vec<String>,
}

impl Targets {
    pub async fn read(database_url: &str) -> Result<Self, String> {
        let db = Database::connect(database_url, 1).await.map_err(|e| format!("cannot connect: {e}"))?;
        let rows = db
            .conn
            .query_all_raw(sea_orm_stmt(
                "SELECT id FROM postings WHERE status = 'PUBLISHED' AND slug LIKE 'bench-job-%' ORDER BY slug LIMIT 1000",
            ))
            .await
            .map_err(|e| e.to_string())?;
        let postings: Vec<uuid::Uuid> = rows.iter().filter_map(|r| r.try_get("", "id").ok()).collect();
        if postings.is_empty() {
            return Err("the bench database has no postings: run `generate` first".into());
        }
        Ok(Self { postings, companies: (1..=50).map(|i| format!("bench-co-{i}")).collect() })
    }

    fn variables(&self, query: &str, server: Server, n: usize) -> Value {
        match query {
            "by-id" => {
                let id = self.postings[n % self.postings.len()];
                match server {
                    Server::Hiregraph => json!({ "id": URL_SAFE_NO_PAD.encode(format!("Posting:{id}")) }),
                    Server::PostGraphile => json!({ "id": id }),
                }
            }
            "first-20" => json!({ "n": 20 }),
            "first-100" => json!({ "n": 100 }),
            "company-counts" | "company-pipeline" => json!({ "s": self.companies[n % self.companies.len()] }),
            _ => json!({}),
        }
    }
}

fn int(v: &Value) -> Value {
    match v {
        Value::String(s) => s.parse::<i64>().map_or(Value::Null, Value::from),
        other => other.clone(),
    }
}

/// The data of an answer in one form for both servers, to compare them.
fn normalize(query: &str, server: Server, data: &Value) -> Value {
    let posting = |p: &Value| match server {
        Server::Hiregraph => json!([
            p["title"],
            int(&p["salary"]["min"]),
            int(&p["salary"]["max"]),
            p["salary"]["currency"],
            p["company"]["name"]
        ]),
        Server::PostGraphile => {
            json!([p["title"], int(&p["salaryMin"]), int(&p["salaryMax"]), p["salaryCurrency"], p["company"]["name"]])
        }
    };
    let nodes = |connection: &Value| -> Vec<Value> {
        match server {
            Server::Hiregraph => {
                connection["edges"].as_array().into_iter().flatten().map(|e| e["node"].clone()).collect()
            }
            Server::PostGraphile => connection["nodes"].as_array().cloned().unwrap_or_default(),
        }
    };
    match query {
        "by-id" => {
            let p = &data["posting"];
            let fields = ["title", "summary", "description", "status", "seniority", "workplace", "employmentType"];
            let mut out: Vec<Value> = fields.iter().map(|f| p[*f].clone()).collect();
            out.push(int(&p["minYearsExperience"]));
            out.push(p["equity"].clone());
            out.push(posting(p));
            Value::Array(out)
        }
        "first-20" | "first-100" => Value::Array(nodes(&data["postings"]).iter().map(posting).collect()),
        "company-counts" => {
            let c = &data["company"];
            let list: Vec<Value> = nodes(&c["postings"])
                .iter()
                .map(|p| json!([p["title"], int(&p["applications"]["totalCount"])]))
                .collect();
            json!([c["name"], list])
        }
        "company-pipeline" => {
            let c = &data["company"];
            let list: Vec<Value> = nodes(&c["postings"])
                .iter()
                .map(|p| {
                    let mut counts = BTreeMap::new();
                    match server {
                        Server::Hiregraph => {
                            for stage in p["pipeline"].as_array().into_iter().flatten() {
                                counts.insert(
                                    stage["status"].as_str().unwrap_or_default().to_owned(),
                                    int(&stage["count"]),
                                );
                            }
                        }
                        Server::PostGraphile => {
                            for status in STATUSES {
                                counts.insert(status.to_owned(), int(&p[status.to_lowercase()]["totalCount"]));
                            }
                        }
                    }
                    counts.retain(|_, n| n.as_i64().unwrap_or(0) != 0);
                    json!([p["title"], counts])
                })
                .collect();
            json!([c["name"], list])
        }
        _ => data.clone(),
    }
}

async fn post(client: &reqwest::Client, url: &str, body: &Value, token: Option<&str>) -> Result<Vec<u8>, String> {
    let mut request = client.post(format!("{url}/graphql")).json(body);
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    let response = request.send().await.map_err(|e| e.to_string())?;
    let status = response.status();
    let bytes = response.bytes().await.map_err(|e| e.to_string())?;
    // Every body is checked, cheaply: a 200 with data and no errors.
    if !status.is_success() || !bytes.starts_with(b"{\"data\":") || contains(&bytes, b"\"errors\"") {
        return Err(format!("{status}: {}", String::from_utf8_lossy(&bytes[..bytes.len().min(400)])));
    }
    Ok(bytes.to_vec())
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

/// The bench owner's token on hiregraph (the company requests read as the owner; PostGraphile
/// has no authorization to pass).
async fn owner_token(client: &reqwest::Client, url: &str) -> Result<String, String> {
    let body = json!({ "query": "mutation($i: LoginInput!) { login(input: $i) { accessToken } }",
        "variables": { "i": { "email": "bench-owner@bench.example", "password": BENCH_PASSWORD } } });
    let answer: Value = serde_json::from_slice(&post(client, url, &body, None).await?).map_err(|e| e.to_string())?;
    answer["data"]["login"]["accessToken"].as_str().map(str::to_owned).ok_or_else(|| "no access token".into())
}

/// `peer-check`: every query on a handful of targets, on both servers; fails on any difference.
/// Also prints the SQL statements hiregraph ran per request (meaningful with its cache off).
pub async fn check(flags: &HashMap<String, String>) -> Result<(), String> {
    let url = flags.get("url").ok_or("--url (hiregraph) is required")?;
    let peer = flags.get("peer-url").ok_or("--peer-url (PostGraphile) is required")?;
    let targets = Targets::read(flags.get("database-url").ok_or("--database-url is required")?).await?;
    let client = reqwest::Client::new();
    let token = owner_token(&client, url).await?;
    let mut differences = 0;
    for query in QUERIES {
        let targets_used = [0, 1, 7, 23];
        let mut statements = 0;
        for n in targets_used {
            let mut answers = Vec::new();
            // As in `load`: only the company requests are the owner's.
            let ours = query.starts_with("company").then_some(token.as_str());
            for (server, base, token) in [(Server::Hiregraph, url, ours), (Server::PostGraphile, peer, None)] {
                let body =
                    json!({ "query": document(query, server)?, "variables": targets.variables(query, server, n) });
                let before = if server == Server::Hiregraph { statements_run(&client, url).await? } else { 0 };
                let raw = post(&client, base, &body, token).await?;
                if server == Server::Hiregraph {
                    statements += statements_run(&client, url).await? - before;
                }
                let answer: Value = serde_json::from_slice(&raw).map_err(|e| e.to_string())?;
                answers.push(normalize(query, server, &answer["data"]));
            }
            let empty = answers[0] == Value::Array(vec![]) || answers[0].is_null();
            if answers[0] != answers[1] || (empty && query != "typename") {
                differences += 1;
                eprintln!("{query} #{n} differs:\n  hiregraph:    {}\n  postgraphile: {}", answers[0], answers[1]);
            }
        }
        println!(
            "{query}: the same data from both servers; hiregraph ran {} SQL statements per request",
            statements as f64 / targets_used.len() as f64
        );
    }
    if differences > 0 {
        return Err(format!("{differences} answers differ"));
    }
    Ok(())
}

/// How many SQL statements the hiregraph server has run (its `/metrics`, every table summed).
async fn statements_run(client: &reqwest::Client, url: &str) -> Result<u64, String> {
    let text = client.get(format!("{url}/metrics")).send().await.map_err(|e| e.to_string())?;
    let text = text.text().await.map_err(|e| e.to_string())?;
    Ok(text
        .lines()
        .filter(|l| l.starts_with("hiregraph_sql_statements_total{"))
        .filter_map(|l| l.rsplit(' ').next()?.parse::<u64>().ok())
        .sum())
}

/// CPU time of a set of processes, in clock ticks, by pid.
fn cpu_ticks(pids: &[u32]) -> HashMap<u32, u64> {
    pids.iter().filter_map(|pid| Some((*pid, stat(*pid)?.1))).collect()
}

/// (parent pid, utime + stime, name) of a process.
fn stat(pid: u32) -> Option<(u32, u64, String)> {
    let raw = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let open = raw.find('(')?;
    let close = raw.rfind(')')?;
    let name = raw[open + 1..close].to_owned();
    let fields: Vec<&str> = raw[close + 2..].split(' ').collect();
    let parent = fields.get(1)?.parse().ok()?;
    let ticks = fields.get(11)?.parse::<u64>().ok()? + fields.get(12)?.parse::<u64>().ok()?;
    Some((parent, ticks, name))
}

fn all_processes() -> Vec<(u32, u32, String)> {
    std::fs::read_dir("/proc")
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|e| e.file_name().to_str()?.parse::<u32>().ok())
        .filter_map(|pid| stat(pid).map(|(parent, _, name)| (pid, parent, name)))
        .collect()
}

/// A process and all its descendants (node:cluster workers).
fn tree(root: u32) -> Vec<u32> {
    let processes = all_processes();
    let mut found = vec![root];
    let mut i = 0;
    while i < found.len() {
        let parent = found[i];
        found.extend(processes.iter().filter(|(_, p, _)| *p == parent).map(|(pid, _, _)| *pid));
        i += 1;
    }
    found
}

fn postgres_processes() -> Vec<u32> {
    all_processes().into_iter().filter(|(_, _, name)| name.starts_with("postgres")).map(|(pid, _, _)| pid).collect()
}

fn rss_mib(pids: &[u32]) -> f64 {
    let kib: u64 = pids
        .iter()
        .filter_map(|pid| {
            let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
            let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
            line.split_whitespace().nth(1)?.parse::<u64>().ok()
        })
        .sum();
    kib as f64 / 1024.0
}

/// Ticks spent since `before` by the processes now in `pids` (new ones count from zero).
fn spent(before: &HashMap<u32, u64>, pids: &[u32]) -> u64 {
    cpu_ticks(pids).iter().map(|(pid, t)| t.saturating_sub(before.get(pid).copied().unwrap_or(0))).sum()
}

/// `peer-load`: one query against one server for a while; prints a table row with requests/s,
/// p50, p99, CPU per request of the server, of Postgres and of this driver, the server's RSS.
pub async fn load(flags: &HashMap<String, String>) -> Result<(), String> {
    let url = flags.get("url").ok_or("--url is required")?.clone();
    let server = Server::parse(flags.get("server").map_or("hiregraph", String::as_str))?;
    let query = flags.get("query").ok_or("--query is required")?.clone();
    let seconds = number(flags, "seconds", 10)?;
    let concurrency = number(flags, "concurrency", 32)?;
    let server_pid: u32 = number(flags, "server-pid", 0)?.try_into().map_err(|_| "--server-pid is too large")?;
    let tick_micros = 1_000_000 / number(flags, "clock-ticks", 100)?.max(1);
    let label = flags.get("label").cloned().unwrap_or_default();
    let targets = Targets::read(flags.get("database-url").ok_or("--database-url is required")?).await?;
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(usize::try_from(concurrency).unwrap_or(32))
        .build()
        .map_err(|e| e.to_string())?;
    let token = match server {
        Server::Hiregraph if query.starts_with("company") => Some(owner_token(&client, &url).await?),
        _ => None,
    };
    let doc = document(&query, server)?;
    // The bodies, made up front so building them costs the driver nothing while measuring.
    let bodies: Vec<Value> =
        (0..1000).map(|n| json!({ "query": doc, "variables": targets.variables(&query, server, n) })).collect();
    for body in bodies.iter().take(200) {
        post(&client, &url, body, token.as_deref()).await?;
    }
    let servers = if server_pid == 0 { Vec::new() } else { tree(server_pid) };
    let databases = postgres_processes();
    let me = vec![std::process::id()];
    let (server_before, database_before, me_before) = (cpu_ticks(&servers), cpu_ticks(&databases), cpu_ticks(&me));
    let run = crate::drive(concurrency, seconds, |n| {
        let (client, url, body) = (&client, &url, &bodies[n % bodies.len()]);
        let token = token.as_deref();
        async move { post(client, url, body, token).await.map(|_| ()) }
    })
    .await;
    // Read right away: the pools' connections are still open, so their CPU is all counted.
    let servers_now = if server_pid == 0 { Vec::new() } else { tree(server_pid) };
    let server_ticks = spent(&server_before, &servers_now);
    let database_ticks = spent(&database_before, &postgres_processes());
    let me_ticks = spent(&me_before, &me);
    let rss = rss_mib(&servers_now);
    let requests = run.answered().max(1) as f64;
    let per_request = |ticks: u64| (ticks * tick_micros) as f64 / requests;
    println!(
        "| {label} | {query} | {:.0} | {:.2} | {:.2} | {:.0} | {:.0} | {:.0} | {:.0} | {} |",
        run.rate(),
        run.percentile(0.50),
        run.percentile(0.99),
        per_request(server_ticks),
        per_request(database_ticks),
        per_request(me_ticks),
        rss,
        run.errors,
    );
    Ok(())
}
