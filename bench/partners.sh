#!/usr/bin/env bash
# Partner credentials and bulk upserts, in one run on the bench dataset (Postgres, Redis cache on):
# by-id and feed without credentials, with a user's access token and with a partner's API key,
# interleaved; then upsertPostings batches of 100 through an API key.
#   BENCH_DATABASE_URL (default postgres://postgres@127.0.0.1:5432/hg_bench)
#   BENCH_REDIS_URL    (default redis://127.0.0.1:6379)
#   BENCH_SECONDS (default 10, per run)  BENCH_CONCURRENCY (default 32)  BENCH_ROUNDS (default 2)
set -euo pipefail
cd "$(dirname "$0")/.."
DB=${BENCH_DATABASE_URL:-postgres://postgres@127.0.0.1:5432/hg_bench}
REDIS=${BENCH_REDIS_URL:-redis://127.0.0.1:6379}
SECS=${BENCH_SECONDS:-10}
CONC=${BENCH_CONCURRENCY:-32}
ROUNDS=${BENCH_ROUNDS:-2}
PORT=8093

cargo build --release -p hiregraph-api -p hiregraph-bench
psql "${DB%/*}/postgres" -qc "create database ${DB##*/}" 2>/dev/null || true
./target/release/hiregraph-bench generate --database-url "$DB"

DATABASE_URL="$DB" REDIS_URL="$REDIS" HIREGRAPH_CACHE_PREFIX="bench$$" HIREGRAPH_BIND=127.0.0.1:$PORT \
  HIREGRAPH_DEMO_DATA=off HIREGRAPH_LOG=warn HIREGRAPH_JWT_SECRET=bench-secret-bench-secret-bench-secret-0001 \
  HIREGRAPH_DB_MAX_CONNECTIONS=16 HIREGRAPH_ANONYMOUS_PER_MINUTE=0 HIREGRAPH_COST_ANONYMOUS_PER_MINUTE=4000000000 HIREGRAPH_COST_USER_PER_MINUTE=4000000000 HIREGRAPH_COST_PARTNER_PER_MINUTE=4000000000 ./target/release/hiregraph &
SERVER=$!
trap 'kill $SERVER 2>/dev/null || true' EXIT
for _ in $(seq 1 100); do curl -sf "http://127.0.0.1:$PORT/readyz" >/dev/null && break; sleep 0.1; done

echo "| credential | scenario | req/s | p50 ms | p99 ms | errors |"
echo "| --- | --- | --- | --- | --- | --- |"
for round in $(seq 1 "$ROUNDS"); do
  for scenario in by-id feed; do
    for auth in none user key; do
      ./target/release/hiregraph-bench load --url "http://127.0.0.1:$PORT" --scenario "$scenario" --auth "$auth" \
        --seconds "$SECS" --concurrency "$CONC" --label "$auth (round $round)"
    done
  done
done
echo
./target/release/hiregraph-bench upsert-batch --url "http://127.0.0.1:$PORT" --rounds 20 --size 100
