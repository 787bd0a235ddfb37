#!/usr/bin/env bash
# Search and matching on the 50,000-posting bench dataset, uncached, with meaning on and off in
# one sitting: search requests/s, p50 and p99 at one client and at 32, recommendations both ways
# at one client (meaning weighs matching's role part), the server's RSS, and the semantic index
# alone (build time, vector memory, time to embed a query and to find its nearest postings).
#   BENCH_DATABASE_URL (default postgres://postgres@127.0.0.1:5432/hg_bench)
#   BENCH_SECONDS      (default 15, per run)   BENCH_ROUNDS (default 2: on, off, on, off)
set -euo pipefail
cd "$(dirname "$0")/.."
DB=${BENCH_DATABASE_URL:-postgres://postgres@127.0.0.1:5432/hg_bench}
SECS=${BENCH_SECONDS:-15}
ROUNDS=${BENCH_ROUNDS:-2}
PORT=8093

cargo build --release -p hiregraph-api -p hiregraph-bench
psql "${DB%/*}/postgres" -qc "create database ${DB##*/}" 2>/dev/null || true
./target/release/hiregraph-bench generate --database-url "$DB"
./target/release/hiregraph-bench semantic --database-url "$DB"

serve() {
  env "$@" DATABASE_URL="$DB" HIREGRAPH_BIND=127.0.0.1:$PORT HIREGRAPH_DEMO_DATA=off HIREGRAPH_LOG=warn \
    HIREGRAPH_JWT_SECRET=bench-secret-bench-secret-bench-secret-0001 HIREGRAPH_DB_MAX_CONNECTIONS=16 \
    HIREGRAPH_CACHE=off HIREGRAPH_ANONYMOUS_PER_MINUTE=0 HIREGRAPH_COST_ANONYMOUS_PER_MINUTE=0 HIREGRAPH_COST_USER_PER_MINUTE=0 \
    ./target/release/hiregraph &
  SERVER=$!
  for _ in $(seq 1 300); do curl -sf "http://127.0.0.1:$PORT/readyz" >/dev/null && return; sleep 0.1; done
  echo "the server did not become ready" >&2; exit 1
}

measure() {
  local label=$1; shift
  serve "$@"
  # Let the indexes read every posting and listed profile before the clock starts (about 1 s and
  # 3 s here).
  sleep 5
  # `search` repeats 48 queries (a replica keeps what each finds until a posting changes);
  # `search-fresh` never repeats one, so every request searches.
  for scenario in search search-fresh; do
    ./target/release/hiregraph-bench load --url "http://127.0.0.1:$PORT" --scenario "$scenario" \
      --seconds "$SECS" --concurrency 1 --label "$label, 1 client"
    ./target/release/hiregraph-bench load --url "http://127.0.0.1:$PORT" --scenario "$scenario" \
      --seconds "$SECS" --concurrency 32 --label "$label, 32 clients"
  done
  for scenario in recommend candidates; do
    ./target/release/hiregraph-bench load --url "http://127.0.0.1:$PORT" --scenario "$scenario" \
      --seconds "$SECS" --concurrency 1 --label "$label, 1 client"
  done
  echo "| $label: server RSS $(( $(ps -o rss= -p "$SERVER") / 1024 )) MiB | | | | |"
  kill "$SERVER"; wait "$SERVER" 2>/dev/null || true
}

echo "| uncached | scenario | req/s | p50 ms | p99 ms | errors |"
echo "| --- | --- | --- | --- | --- | --- |"
for _ in $(seq 1 "$ROUNDS"); do
  measure "meaning on" HIREGRAPH_SEMANTIC_SEARCH=true
  measure "words only" HIREGRAPH_SEMANTIC_SEARCH=false
done
