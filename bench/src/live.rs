//! `subscribers`: the subscription benchmark's client (`bench/subscriptions.sh` runs it against
//! a release server). It opens `--connections` WebSocket connections, each with one anonymous
//! `postingChanged` subscription to one published posting, and measures:
//!
//! - the server's resident memory before and with every subscription idle (`--server-pid`);
//! - fan-out latency: for each of `--events` changes, from sending the `updatePosting` request
//!   (the commit is inside it; the version read before it is not counted) to each subscriber's
//!   `next` message; p50/p99 over every delivery and over the last subscriber of each event;
//! - sustained events per second to `--sustained` subscribers (the first ones kept open), each
//!   holding one subscription per writer's posting: `--writers` clients change their own posting
//!   in a loop for `--seconds`, and every subscriber must receive every event.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tokio::sync::mpsc;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;

use crate::number;
use crate::webhooks::{Api, flag, owner_with_company, published_posting};

const SUBSCRIPTION: &str = "subscription($id: ID!) { postingChanged(id: $id) { type posting { id title } } }";

/// One `next` message: which subscriber, which title, when.
struct Arrival {
    title: String,
    at: Instant,
}

fn rss_kib(pid: u32) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|s| s.lines().find(|l| l.starts_with("VmRSS:"))?.split_whitespace().nth(1)?.parse().ok())
        .unwrap_or(0)
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    sorted[((sorted.len() as f64 * p).ceil() as usize).clamp(1, sorted.len()) - 1]
}

/// Changes a posting's title (reading its version first); returns when the write was sent, its
/// commit being inside that request.
async fn retitle(api: &Api, url: &str, token: &str, posting: &str, title: &str) -> Result<Instant, String> {
    let data = api
        .call(url, "query($id: ID!) { posting(id: $id) { version } }", json!({ "id": posting }), Some(token))
        .await?;
    let sent = Instant::now();
    api.call(
        url,
        "mutation($i: UpdatePostingInput!) { updatePosting(input: $i) { posting { version } } }",
        json!({ "i": { "id": posting, "expectedVersion": data["posting"]["version"], "title": title } }),
        Some(token),
    )
    .await?;
    Ok(sent)
}

/// Opens one connection with one subscription per posting and forwards every `next` title; the
/// connection closes when `stop` is dropped.
async fn subscriber(
    url: String,
    postings: Vec<String>,
    arrivals: mpsc::UnboundedSender<(usize, Arrival)>,
    index: usize,
    ready: Arc<AtomicU64>,
    mut go: tokio::sync::watch::Receiver<bool>,
    mut stop: tokio::sync::oneshot::Receiver<()>,
) -> Result<(), String> {
    let ws = url.replacen("http://", "ws://", 1) + "/graphql";
    let mut request = ws.into_client_request().map_err(|e| e.to_string())?;
    request.headers_mut().insert("sec-websocket-protocol", "graphql-transport-ws".parse().map_err(|_| "header")?);
    let (mut stream, _) = tokio_tungstenite::connect_async(request).await.map_err(|e| format!("connect: {e}"))?;
    stream
        .send(Message::Text(json!({ "type": "connection_init", "payload": {} }).to_string().into()))
        .await
        .map_err(|e| e.to_string())?;
    loop {
        match stream.next().await {
            Some(Ok(Message::Text(text))) if text.contains("connection_ack") => break,
            Some(Ok(_)) => continue,
            other => return Err(format!("no connection_ack: {other:?}")),
        }
    }
    ready.fetch_add(1, Ordering::Relaxed);
    // Connected and idle until every connection is, so their memory is read apart.
    go.wait_for(|go| *go).await.map_err(|e| e.to_string())?;
    for (n, posting) in postings.iter().enumerate() {
        let message = json!({ "id": n.to_string(), "type": "subscribe",
            "payload": { "query": SUBSCRIPTION, "variables": { "id": posting } } });
        stream.send(Message::Text(message.to_string().into())).await.map_err(|e| e.to_string())?;
    }
    ready.fetch_add(1, Ordering::Relaxed);
    loop {
        tokio::select! {
            _ = &mut stop => {
                let _ = stream.close(None).await;
                return Ok(());
            }
            next = stream.next() => match next {
                Some(Ok(Message::Text(text))) => {
                    let at = Instant::now();
                    let Ok(value) = serde_json::from_str::<Value>(&text) else { continue };
                    if value["type"] == "next" {
                        let title = value["payload"]["data"]["postingChanged"]["posting"]["title"]
                            .as_str()
                            .unwrap_or_default()
                            .to_owned();
                        let _ = arrivals.send((index, Arrival { title, at }));
                    } else if value["type"] == "error" {
                        return Err(format!("subscription error: {value}"));
                    }
                }
                Some(Ok(Message::Close(frame))) => return Err(format!("closed by the server: {frame:?}")),
                Some(Ok(_)) => {}
                Some(Err(e)) => return Err(e.to_string()),
                None => return Err("connection ended".into()),
            }
        }
    }
}

pub async fn subscribers(flags: &HashMap<String, String>) -> Result<(), String> {
    let url = flag(flags, "url")?.to_owned();
    let pid = number(flags, "server-pid", 0)? as u32;
    let connections = number(flags, "connections", 5000)? as usize;
    let events = number(flags, "events", 20)? as usize;
    let sustained = (number(flags, "sustained", 500)? as usize).min(connections);
    let writers = number(flags, "writers", 8)? as usize;
    let seconds = number(flags, "seconds", 10)?;
    let api =
        Api { client: reqwest::Client::builder().timeout(Duration::from_secs(30)).build().map_err(|e| e.to_string())? };
    let (token, company) = owner_with_company(&api, &url, "live").await?;
    let fanned = published_posting(&api, &url, &token, &company, "Live bench 0").await?;
    let mut written = Vec::new();
    for n in 0..writers {
        written.push(published_posting(&api, &url, &token, &company, &format!("Live bench {}", n + 1)).await?);
    }

    tokio::time::sleep(Duration::from_secs(1)).await;
    let rss_before = rss_kib(pid);
    let (arrivals, mut heard) = mpsc::unbounded_channel();
    let ready = Arc::new(AtomicU64::new(0));
    let (go, gone) = tokio::sync::watch::channel(false);
    let mut stops = Vec::new();
    let mut tasks = Vec::new();
    let started = Instant::now();
    for index in 0..connections {
        // The first `sustained` subscribers also follow every writer's posting.
        let mut postings = vec![fanned.clone()];
        if index < sustained {
            postings.extend(written.iter().cloned());
        }
        let (stop, stopped) = tokio::sync::oneshot::channel();
        stops.push(Some(stop));
        tasks.push(tokio::spawn(subscriber(
            url.clone(),
            postings,
            arrivals.clone(),
            index,
            ready.clone(),
            gone.clone(),
            stopped,
        )));
        if index % 250 == 249 {
            // Open in waves, as reconnecting clients would, not as one SYN flood.
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
    let all_ready = |target: usize, what: &'static str| {
        let (ready, started) = (ready.clone(), started);
        async move {
            while (ready.load(Ordering::Relaxed) as usize) < target {
                if started.elapsed() > Duration::from_secs(180) {
                    return Err(format!("only {} of {connections} {what} in time", ready.load(Ordering::Relaxed)));
                }
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            Ok(())
        }
    };
    all_ready(connections, "connected").await?;
    let connected = started.elapsed();
    // Let the server settle before reading its memory.
    tokio::time::sleep(Duration::from_secs(3)).await;
    let rss_connected = rss_kib(pid);
    let _ = go.send(true);
    all_ready(2 * connections, "subscribed").await?;
    if let Some(failed) = tasks.iter().position(|t| t.is_finished()) {
        let task = tasks.remove(failed);
        return Err(format!("a subscriber failed: {:?}", task.await));
    }
    let opened = started.elapsed();
    tokio::time::sleep(Duration::from_secs(3)).await;
    let rss_idle = rss_kib(pid);
    let per = |kib: u64| kib as f64 / connections as f64;
    println!(
        "{connections} connections in {:.1}s, subscribed by {:.1}s; server RSS {:.1} MiB before, {:.1} MiB connected, {:.1} MiB subscribed and idle: {:.1} KiB per idle subscriber ({:.1} the connection, {:.1} its subscription)",
        connected.as_secs_f64(),
        opened.as_secs_f64(),
        rss_before as f64 / 1024.0,
        rss_connected as f64 / 1024.0,
        rss_idle as f64 / 1024.0,
        per(rss_idle.saturating_sub(rss_before)),
        per(rss_connected.saturating_sub(rss_before)),
        per(rss_idle.saturating_sub(rss_connected)),
    );

    // Fan-out latency, one event at a time.
    let mut every = Vec::new();
    let mut last = Vec::new();
    for n in 0..events {
        let title = format!("Fan-out {n}");
        let sent = retitle(&api, &url, &token, &fanned, &title).await?;
        let mut got = 0;
        let mut slowest = 0.0f64;
        let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
        while got < connections {
            let Ok(Some((_, arrival))) = tokio::time::timeout_at(deadline, heard.recv()).await else {
                return Err(format!("event {n}: only {got} of {connections} subscribers heard it within 30 s"));
            };
            if arrival.title != title {
                continue;
            }
            let ms = arrival.at.duration_since(sent).as_secs_f64() * 1000.0;
            every.push(ms);
            slowest = slowest.max(ms);
            got += 1;
        }
        last.push(slowest);
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    every.sort_by(f64::total_cmp);
    last.sort_by(f64::total_cmp);
    println!(
        "fan-out to {connections}: every delivery p50 {:.1} ms p99 {:.1} ms; last subscriber of each of {events} events p50 {:.1} ms p99 {:.1} ms max {:.1} ms",
        percentile(&every, 0.5),
        percentile(&every, 0.99),
        percentile(&last, 0.5),
        percentile(&last, 0.99),
        last.last().copied().unwrap_or(f64::NAN)
    );

    // Down to `sustained` subscribers, then as many events as the writers can make.
    for stop in stops.iter_mut().skip(sustained) {
        drop(stop.take());
    }
    tokio::time::sleep(Duration::from_secs(2)).await;
    while heard.try_recv().is_ok() {}
    let counts = Arc::new((0..sustained).map(|_| AtomicU64::new(0)).collect::<Vec<_>>());
    let counter = {
        let counts = counts.clone();
        tokio::spawn(async move {
            while let Some((index, arrival)) = heard.recv().await {
                if arrival.title.starts_with("Sustained") && index < counts.len() {
                    counts[index].fetch_add(1, Ordering::Relaxed);
                }
            }
        })
    };
    let made = Arc::new(AtomicU64::new(0));
    let began = Instant::now();
    let mut loops = Vec::new();
    for posting in written.clone() {
        let (api, url, token, made) = (Api { client: api.client.clone() }, url.clone(), token.clone(), made.clone());
        loops.push(tokio::spawn(async move {
            let mut n = 0;
            while began.elapsed() < Duration::from_secs(seconds) {
                if retitle(&api, &url, &token, &posting, &format!("Sustained {n}")).await.is_ok() {
                    made.fetch_add(1, Ordering::Relaxed);
                }
                n += 1;
            }
        }));
    }
    for l in loops {
        let _ = l.await;
    }
    let wrote = made.load(Ordering::Relaxed);
    let elapsed = began.elapsed().as_secs_f64();
    let deadline = Instant::now() + Duration::from_secs(30);
    while counts.iter().any(|c| c.load(Ordering::Relaxed) < wrote) && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let drained = began.elapsed().as_secs_f64();
    let short = counts.iter().filter(|c| c.load(Ordering::Relaxed) < wrote).count();
    println!(
        "sustained: {wrote} events in {elapsed:.1}s ({:.0} events/s) by {writers} writers, each delivered to {sustained} subscribers ({:.0} messages/s), all delivered after {drained:.1}s; subscribers missing some: {short}",
        wrote as f64 / elapsed,
        (wrote as usize * sustained) as f64 / drained
    );
    counter.abort();
    drop(stops);
    if short > 0 {
        return Err(format!("{short} subscribers did not receive every event"));
    }
    Ok(())
}
