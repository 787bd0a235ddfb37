//! `hiregraph-bench codec`: how the cache's encodings compare on real postings from the bench
//! database — bytes per posting, and the time to encode and to decode a page of them.

use std::collections::HashMap;
use std::time::Instant;

use hiregraph_domain::PostingId;
use hiregraph_domain::postings::Posting;
use hiregraph_persistence::cache::Codec;
use hiregraph_persistence::{ConnectionTrait, Database, postings};

use crate::{number, sea_orm_stmt};

pub async fn run(flags: &HashMap<String, String>) -> Result<(), String> {
    let url = flags.get("database-url").ok_or("--database-url is required")?;
    let page = usize::try_from(number(flags, "postings", 100)?).map_err(|_| "--postings is too large")?;
    let rounds = number(flags, "rounds", 300)?.max(1);
    let db = Database::connect(url, 1).await.map_err(|e| format!("cannot connect: {e}"))?;
    let sql = format!("SELECT id FROM postings WHERE status = 'PUBLISHED' ORDER BY published_at DESC LIMIT {page}");
    let rows = db.conn.query_all_raw(sea_orm_stmt(&sql)).await.map_err(|e| e.to_string())?;
    let ids: Vec<PostingId> = rows.iter().filter_map(|r| r.try_get("", "id").ok()).map(PostingId).collect();
    let list = postings::find_by_ids(&ids, &db.conn).await.map_err(|e| e.to_string())?;
    if list.is_empty() {
        return Err("the database has no published postings: run `generate` first".into());
    }
    println!("| encoding | bytes per posting | encode µs per posting | decode µs per posting |");
    println!("| --- | --- | --- | --- |");
    for (name, codec) in [("JSON (serde_json)", Codec::Json), ("postcard", Codec::Postcard)] {
        let encoded: Vec<Vec<u8>> = list.iter().filter_map(|p| codec.encode(p)).collect();
        let bytes: usize = encoded.iter().map(Vec::len).sum();
        let started = Instant::now();
        for _ in 0..rounds {
            for p in &list {
                std::hint::black_box(codec.encode(std::hint::black_box(p)));
            }
        }
        let encode = started.elapsed().as_secs_f64() * 1e6 / (rounds as f64 * list.len() as f64);
        let started = Instant::now();
        for _ in 0..rounds {
            for b in &encoded {
                let decoded: Option<Posting> = codec.decode(std::hint::black_box(b));
                std::hint::black_box(decoded.ok_or("a posting did not decode")?);
            }
        }
        let decode = started.elapsed().as_secs_f64() * 1e6 / (rounds as f64 * list.len() as f64);
        println!("| {name} | {} | {encode:.2} | {decode:.2} |", bytes / list.len());
    }
    Ok(())
}
