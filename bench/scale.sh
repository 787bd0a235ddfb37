#!/usr/bin/env bash
# The dataset-size curve: the same release server, caching off, on datasets of 10,000, 50,000,
# 100,000 and 1,000,000 postings (each its own database, made once by `generate` and kept; 1,000
# companies, 20,000 candidates and 50,000 applications in each, so only the postings grow). Per
# size: by-id, feed and search with 32 clients, then search and recommendations with one.
#   BENCH_POSTGRES (default postgres://postgres@127.0.0.1:5432)   BENCH_SIZES (default "10000 50000 100000 1000000")
#   BENCH_SECONDS (default 10)   BENCH_CONCURRENCY (default 32)
set -euo pipefail
cd "$(dirname "$0")/.."
PG=${BENCH_POSTGRES:-postgres://postgres@127.0.0.1:5432}
SIZES=${BENCH_SIZES:-10000 50000 100000 1000000}
SECS=${BENCH_SECONDS:-10}
CONC=${BENCH_CONCURRENCY:-32}
PORT=8092

cargo build --release -p hiregraph-api -p hiregraph-bench
for size in $SIZES; do
  db="hg_scale_$size"
  psql "$PG/postgres" -qc "create database $db" 2>/dev/null || true
  started=$(date +%s)
  ./target/release/hiregraph-bench generate --database-url "$PG/$db" --postings "$size" --companies 1000 \
    --candidates 20000 --applications 50000 | tail -1
  echo "$size postings: generated (or found) in $(( $(date +%s) - started )) s, $(psql "$PG/$db" -Atc "select pg_size_pretty(pg_database_size('$db'))")"
done

echo "| postings | scenario | req/s | p50 ms | p99 ms | errors |"
echo "| --- | --- | --- | --- | --- | --- |"
for size in $SIZES; do
  DATABASE_URL="$PG/hg_scale_$size" HIREGRAPH_BIND=127.0.0.1:$PORT HIREGRAPH_DEMO_DATA=off HIREGRAPH_LOG=warn \
    HIREGRAPH_JWT_SECRET=bench-secret-bench-secret-bench-secret-0001 HIREGRAPH_DB_MAX_CONNECTIONS=10 \
    HIREGRAPH_ANONYMOUS_PER_MINUTE=0 HIREGRAPH_COST_ANONYMOUS_PER_MINUTE=0 HIREGRAPH_COST_USER_PER_MINUTE=0 HIREGRAPH_COST_PARTNER_PER_MINUTE=0 HIREGRAPH_CACHE=off ./target/release/hiregraph &
  server=$!
  for _ in $(seq 1 100); do curl -sf "http://127.0.0.1:$PORT/readyz" >/dev/null && break; sleep 0.1; done
  for scenario in by-id feed search; do
    ./target/release/hiregraph-bench load --url "http://127.0.0.1:$PORT" --scenario "$scenario" \
      --seconds "$SECS" --concurrency "$CONC" --label "$size"
  done
  for scenario in search recommend; do
    ./target/release/hiregraph-bench load --url "http://127.0.0.1:$PORT" --scenario "$scenario" \
      --seconds "$SECS" --concurrency 1 --label "$size, 1 client"
  done
  kill "$server"; wait "$server" 2>/dev/null || true
done
