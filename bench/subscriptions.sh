#!/usr/bin/env bash
# The subscription benchmark (bench/README.md, "Subscriptions"): one release server on Postgres
# and Redis (the bus and cache of a real deployment), 5,000 WebSocket subscribers on the same
# machine; server memory per idle subscription, fan-out latency from commit to every subscriber,
# and events per second sustained to 500 subscribers.
#   BENCH_LIVE_DATABASE_URL (default postgres://postgres@127.0.0.1:5432/hg_live, recreated)
#   BENCH_REDIS_URL (default redis://127.0.0.1:6379)   BENCH_CONNECTIONS (default 5000)
set -euo pipefail
cd "$(dirname "$0")/.."
DB=${BENCH_LIVE_DATABASE_URL:-postgres://postgres@127.0.0.1:5432/hg_live}
REDIS=${BENCH_REDIS_URL:-redis://127.0.0.1:6379}
CONNECTIONS=${BENCH_CONNECTIONS:-5000}
PORT=8096
# Each connection is a socket on both sides.
ulimit -n "$(ulimit -Hn)"
PIDS=()
cleanup() { for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done; }
trap cleanup EXIT

cargo build --release -p hiregraph-api -p hiregraph-bench
psql "${DB%/*}/postgres" -qc "drop database if exists ${DB##*/} with (force)" -c "create database ${DB##*/}"

DATABASE_URL="$DB" REDIS_URL="$REDIS" HIREGRAPH_CACHE_PREFIX="livebench$$" HIREGRAPH_BIND=127.0.0.1:$PORT \
  HIREGRAPH_DEMO_DATA=off HIREGRAPH_LOG=warn HIREGRAPH_JWT_SECRET=bench-secret-bench-secret-bench-secret-0001 \
  HIREGRAPH_ANONYMOUS_PER_MINUTE=0 HIREGRAPH_COST_ANONYMOUS_PER_MINUTE=0 HIREGRAPH_COST_USER_PER_MINUTE=0 HIREGRAPH_COST_PARTNER_PER_MINUTE=0 HIREGRAPH_REGISTRATIONS_PER_HOUR=0 ./target/release/hiregraph &
SERVER=$!
PIDS+=($SERVER)
for _ in $(seq 1 100); do curl -sf "http://127.0.0.1:$PORT/readyz" >/dev/null && break; sleep 0.1; done

./target/release/hiregraph-bench subscribers --url "http://127.0.0.1:$PORT" --server-pid "$SERVER" \
  --connections "$CONNECTIONS" --events "${BENCH_EVENTS:-20}" --sustained "${BENCH_SUSTAINED:-500}" \
  --writers "${BENCH_WRITERS:-8}" --seconds "${BENCH_SECONDS:-10}"
echo "server RSS at the end: $(awk '/VmRSS/ {print $2/1024 " MiB"}' /proc/$SERVER/status)"
