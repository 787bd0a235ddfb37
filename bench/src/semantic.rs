//! `hiregraph-bench semantic`: the semantic index as one replica builds and asks it, without the
//! HTTP server around it: how long reading every posting takes, the memory its vectors hold, and
//! the time to embed a query and to find its nearest postings; and how long the talent index
//! (listed candidates, for matching) takes to read.

use std::collections::HashMap;
use std::time::Instant;

use hiregraph_domain::search::parse_query;
use hiregraph_persistence::Database;
use hiregraph_persistence::embedding::embed;
use hiregraph_persistence::semantic::SemanticIndex;

const QUERIES: &[&str] = &[
    "backend",
    "frontend",
    "data engineer",
    "platform",
    "mobile",
    "security",
    "ml engineer",
    "site reliability",
    "senior rust developer berlin",
    "nanny",
    "sre",
    "registered nurse",
];

/// This process's resident memory, from `/proc` (0 where there is none).
fn rss_mib() -> f64 {
    let pages = std::fs::read_to_string("/proc/self/statm")
        .ok()
        .and_then(|s| s.split_whitespace().nth(1).and_then(|n| n.parse::<f64>().ok()))
        .unwrap_or(0.0);
    pages * 4096.0 / (1024.0 * 1024.0)
}

fn percentiles(mut micros: Vec<f64>) -> (f64, f64) {
    micros.sort_by(f64::total_cmp);
    let at = |p: f64| micros[((micros.len() as f64 * p) as usize).min(micros.len() - 1)];
    (at(0.5), at(0.99))
}

pub async fn run(flags: &HashMap<String, String>) -> Result<(), String> {
    let url = flags.get("database-url").ok_or("--database-url is required")?;
    let rounds = crate::number(flags, "rounds", 2_000)? as usize;
    let db = Database::connect(url, 2).await.map_err(|e| format!("cannot connect: {e}"))?;
    let index = SemanticIndex::default();
    let before = rss_mib();
    let started = Instant::now();
    let read = index.refresh(&db.conn).await.map_err(|e| e.to_string())?;
    let build = started.elapsed();
    let (postings, bytes) = index.size();
    println!(
        "| build | {read} postings read, {postings} published indexed in {:.0} ms; vectors {:.1} MiB |",
        build.as_secs_f64() * 1000.0,
        bytes as f64 / (1024.0 * 1024.0)
    );
    let built = rss_mib();
    println!("| RSS of this process | {before:.0} MiB before, {built:.0} MiB with the posting index |");
    let started = Instant::now();
    let again = index.refresh(&db.conn).await.map_err(|e| e.to_string())?;
    println!(
        "| refresh, nothing new | {again} postings read again, in {:.2} ms (one outbox read) |",
        started.elapsed().as_secs_f64() * 1000.0
    );
    let talent = hiregraph_persistence::talent::TalentIndex::default();
    let started = Instant::now();
    let read = talent.refresh(&db.conn).await.map_err(|e| e.to_string())?;
    println!(
        "| talent index build | {read} listed candidates read and indexed in {:.0} ms |",
        started.elapsed().as_secs_f64() * 1000.0
    );
    println!("| RSS of this process | {:.0} MiB with the talent index too |", rss_mib());
    drop(talent);
    let parsed: Vec<_> =
        QUERIES.iter().map(|q| parse_query(q).map_err(|e| format!("{q}: {e:?}"))).collect::<Result<_, _>>()?;
    let (mut embedding, mut nearest, mut found) = (Vec::new(), Vec::new(), 0usize);
    for n in 0..rounds {
        let text = QUERIES[n % QUERIES.len()];
        let started = Instant::now();
        std::hint::black_box(embed(text));
        embedding.push(started.elapsed().as_secs_f64() * 1e6);
        let started = Instant::now();
        found += std::hint::black_box(index.scan_now(&parsed[n % parsed.len()])).len();
        nearest.push(started.elapsed().as_secs_f64() * 1e6);
    }
    // The whole in-memory search of the feed: words ranked BM25-style over the inverted index,
    // fused with the nearest by meaning, every hit found (what a page, its count and its facets
    // read), without the findings each replica keeps per filter.
    let filters: Vec<_> = parsed
        .iter()
        .map(|text| hiregraph_persistence::postings::FeedFilter { text: text.clone(), ..Default::default() })
        .collect();
    let (mut searching, mut hits) = (Vec::new(), 0usize);
    for n in 0..rounds.min(500) {
        let started = Instant::now();
        hits += std::hint::black_box(index.search_now(&filters[n % filters.len()], chrono::Utc::now()));
        searching.push(started.elapsed().as_secs_f64() * 1e6);
    }
    let (e50, e99) = percentiles(embedding);
    let (n50, n99) = percentiles(nearest);
    println!("| embed a query | p50 {e50:.1} µs | p99 {e99:.1} µs |");
    println!(
        "| embed and find the nearest among {postings} | p50 {:.2} ms | p99 {:.2} ms | {:.0} candidates on average |",
        n50 / 1000.0,
        n99 / 1000.0,
        found as f64 / rounds as f64
    );
    let (s50, s99) = percentiles(searching.clone());
    println!(
        "| search the feed in memory, every hit | p50 {:.2} ms | p99 {:.2} ms | {:.0} hits on average; lexical lists {:.1} MiB |",
        s50 / 1000.0,
        s99 / 1000.0,
        hits as f64 / searching.len() as f64,
        index.lexical_bytes() as f64 / (1024.0 * 1024.0)
    );
    Ok(())
}
