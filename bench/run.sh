#!/usr/bin/env bash
# Reproduces the table in bench/README.md: the same release server on the same Postgres dataset,
# with the Redis cache on and with caching off, in one run.
#   BENCH_DATABASE_URL (default postgres://postgres@127.0.0.1:5432/hg_bench)
#   BENCH_REDIS_URL    (default redis://127.0.0.1:6379)
#   BENCH_SECONDS      (default 15, per scenario)   BENCH_CONCURRENCY (default 32)
set -euo pipefail
cd "$(dirname "$0")/.."
DB=${BENCH_DATABASE_URL:-postgres://postgres@127.0.0.1:5432/hg_bench}
REDIS=${BENCH_REDIS_URL:-redis://127.0.0.1:6379}
SECS=${BENCH_SECONDS:-15}
CONC=${BENCH_CONCURRENCY:-32}
PORT=8091

cargo build --release -p hiregraph-api -p hiregraph-bench
psql "${DB%/*}/postgres" -qc "create database ${DB##*/}" 2>/dev/null || true
./target/release/hiregraph-bench generate --database-url "$DB"

serve() {
  env "$@" DATABASE_URL="$DB" HIREGRAPH_BIND=127.0.0.1:$PORT HIREGRAPH_DEMO_DATA=off HIREGRAPH_LOG=warn \
    HIREGRAPH_JWT_SECRET=bench-secret-bench-secret-bench-secret-0001 HIREGRAPH_DB_MAX_CONNECTIONS=16 \
    HIREGRAPH_ANONYMOUS_PER_MINUTE=0 HIREGRAPH_COST_ANONYMOUS_PER_MINUTE=0 HIREGRAPH_COST_USER_PER_MINUTE=0 HIREGRAPH_COST_PARTNER_PER_MINUTE=0 \
    ./target/release/hiregraph &
  SERVER=$!
  for _ in $(seq 1 100); do curl -sf "http://127.0.0.1:$PORT/readyz" >/dev/null && return; sleep 0.1; done
  echo "the server did not become ready" >&2; exit 1
}

measure() {
  local label=$1; shift
  serve "$@"
  for scenario in by-id feed company search; do
    ./target/release/hiregraph-bench load --url "http://127.0.0.1:$PORT" --scenario "$scenario" \
      --seconds "$SECS" --concurrency "$CONC" --label "$label"
  done
  # Latency alone: one client at a time.
  for scenario in search recommend candidates; do
    ./target/release/hiregraph-bench load --url "http://127.0.0.1:$PORT" --scenario "$scenario" \
      --seconds "$SECS" --concurrency 1 --label "$label, 1 client"
  done
  echo "|  $label: server RSS $(( $(ps -o rss= -p "$SERVER") / 1024 )) MiB | | | | | |"
  kill "$SERVER"; wait "$SERVER" 2>/dev/null || true
}

echo "| cache | scenario | req/s | p50 ms | p99 ms | errors |"
echo "| --- | --- | --- | --- | --- | --- |"
measure "on (Redis)" REDIS_URL="$REDIS" HIREGRAPH_CACHE_PREFIX="bench$$"
measure "off" HIREGRAPH_CACHE=off
