#!/usr/bin/env bash
# The webhook benchmark (bench/README.md, "Webhooks"): two release replicas on one Postgres and
# Redis, a local receiver, 10,000 posting.created events made through both replicas while the
# second replica is killed (SIGKILL) and restarted twice; then lost and duplicated deliveries,
# delivery latency, and what a configured endpoint adds to moveApplication.
#   BENCH_WEBHOOK_DATABASE_URL (default postgres://postgres@127.0.0.1:5432/hg_webhooks, recreated)
#   BENCH_REDIS_URL (default redis://127.0.0.1:6379)   BENCH_EVENTS (default 10000)
set -euo pipefail
cd "$(dirname "$0")/.."
DB=${BENCH_WEBHOOK_DATABASE_URL:-postgres://postgres@127.0.0.1:5432/hg_webhooks}
REDIS=${BENCH_REDIS_URL:-redis://127.0.0.1:6379}
EVENTS=${BENCH_EVENTS:-10000}
A=8093 B=8094 RECEIVER=8095
OUT=$(mktemp -d)
PIDS=()
cleanup() { for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done; rm -rf "$OUT"; }
trap cleanup EXIT

cargo build --release -p hiregraph-api -p hiregraph-bench
psql "${DB%/*}/postgres" -qc "drop database if exists ${DB##*/} with (force)" -c "create database ${DB##*/}"

./target/release/hiregraph-bench webhook-receiver --port $RECEIVER --out "$OUT/received.tsv" &
PIDS+=($!)

serve() { # port
  DATABASE_URL="$DB" REDIS_URL="$REDIS" HIREGRAPH_CACHE_PREFIX="whbench$$" HIREGRAPH_BIND=127.0.0.1:$1 \
    HIREGRAPH_DEMO_DATA=off HIREGRAPH_LOG=warn HIREGRAPH_JWT_SECRET=bench-secret-bench-secret-bench-secret-0001 \
    HIREGRAPH_DB_MAX_CONNECTIONS=16 HIREGRAPH_ANONYMOUS_PER_MINUTE=0 HIREGRAPH_COST_ANONYMOUS_PER_MINUTE=0 HIREGRAPH_COST_USER_PER_MINUTE=0 HIREGRAPH_COST_PARTNER_PER_MINUTE=0 HIREGRAPH_REGISTRATIONS_PER_HOUR=0 \
    HIREGRAPH_WEBHOOK_ALLOW_PRIVATE=true ./target/release/hiregraph &
  LAST=$!
  for _ in $(seq 1 100); do curl -sf "http://127.0.0.1:$1/readyz" >/dev/null && return; sleep 0.1; done
  echo "the server on $1 did not become ready" >&2; exit 1
}
serve $A; PIDS+=($LAST)
serve $B; SECOND=$LAST

events() { psql "$DB" -tAc "select count(*) from outbox where event_type = 'posting.created'"; }

./target/release/hiregraph-bench webhook-load --a http://127.0.0.1:$A --b http://127.0.0.1:$B \
  --receiver "http://127.0.0.1:$RECEIVER/hooks" --events "$EVENTS" > "$OUT/company" &
LOAD=$!
for cut in $((EVENTS / 3)) $((2 * EVENTS / 3)); do
  until [ "$(events)" -ge "$cut" ]; do sleep 0.2; done
  kill -9 "$SECOND"; wait "$SECOND" 2>/dev/null || true
  echo "killed the second replica at $(events) events" >&2
  sleep 2
  serve $B; SECOND=$LAST
  echo "restarted it at $(events) events" >&2
done
wait $LOAD
PIDS+=($SECOND)
./target/release/hiregraph-bench webhook-report --database-url "$DB" --received "$OUT/received.tsv" \
  --company "$(head -1 "$OUT/company")"
./target/release/hiregraph-bench move-latency --url http://127.0.0.1:$A --receiver "http://127.0.0.1:$RECEIVER/hooks"
