#!/usr/bin/env bash
# Before and after in one sitting: the release build of BENCH_BEFORE (a git revision, built in a
# worktree with a target folder of its own) and of this checkout, interleaved for BENCH_ROUNDS
# rounds, cache on (Redis) and off, on the bench dataset; prints the peer-load table rows.
#   BENCH_BEFORE (required)   BENCH_DATABASE_URL (default postgres://postgres@127.0.0.1:5432/hg_bench)
#   BENCH_REDIS_URL (default redis://127.0.0.1:6379)   BENCH_SECONDS (8)   BENCH_ROUNDS (2)
#   BENCH_QUERIES_CACHED ("typename by-id first-20")   BENCH_QUERIES_UNCACHED ("by-id first-20")
set -euo pipefail
cd "$(dirname "$0")/.."
BEFORE=${BENCH_BEFORE:?set BENCH_BEFORE to the revision to compare with}
DB=${BENCH_DATABASE_URL:-postgres://postgres@127.0.0.1:5432/hg_bench}
REDIS=${BENCH_REDIS_URL:-redis://127.0.0.1:6379}
SECS=${BENCH_SECONDS:-8}
ROUNDS=${BENCH_ROUNDS:-2}
CACHED=${BENCH_QUERIES_CACHED:-typename by-id first-20}
UNCACHED=${BENCH_QUERIES_UNCACHED:-by-id first-20}
PORT=8091
OLD=target/ab-before

cargo build --release -p hiregraph-api -p hiregraph-bench
rm -rf "$OLD/src" && git worktree add -f -q "$OLD/src" "$BEFORE"
trap 'git worktree remove --force "$OLD/src" 2>/dev/null || true' EXIT
(cd "$OLD/src" && CARGO_TARGET_DIR="$PWD/../target" cargo build --release -p hiregraph-api)
psql "${DB%/*}/postgres" -qc "create database ${DB##*/}" 2>/dev/null || true
./target/release/hiregraph-bench generate --database-url "$DB"

run() {
  local label=$1 bin=$2 queries=$3; shift 3
  env "$@" DATABASE_URL="$DB" HIREGRAPH_BIND=127.0.0.1:$PORT HIREGRAPH_DEMO_DATA=off HIREGRAPH_LOG=warn HIREGRAPH_MIGRATE=false \
    HIREGRAPH_JWT_SECRET=bench-secret-bench-secret-bench-secret-0001 HIREGRAPH_DB_MAX_CONNECTIONS=10 \
    HIREGRAPH_ANONYMOUS_PER_MINUTE=0 HIREGRAPH_COST_ANONYMOUS_PER_MINUTE=0 HIREGRAPH_COST_USER_PER_MINUTE=0 HIREGRAPH_COST_PARTNER_PER_MINUTE=0 \
    "$bin" >/dev/null 2>&1 &
  local server=$!
  for _ in $(seq 1 300); do
    curl -sf -o /dev/null -H 'content-type: application/json' -d '{"query":"{ __typename }"}' "http://127.0.0.1:$PORT/graphql" && break
    sleep 0.1
  done
  for q in $queries; do
    ./target/release/hiregraph-bench peer-load --url "http://127.0.0.1:$PORT" --server hiregraph --query "$q" \
      --database-url "$DB" --server-pid "$server" --clock-ticks "$(getconf CLK_TCK)" --seconds "$SECS" --concurrency 32 --label "$label"
  done
  kill "$server"; wait "$server" 2>/dev/null || true
}

echo "| server | query | req/s | p50 ms | p99 ms | server µs/req | Postgres µs/req | driver µs/req | RSS MiB | errors |"
echo "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |"
for round in $(seq 1 "$ROUNDS"); do
  run "before, cache on" "$OLD/target/release/hiregraph" "$CACHED" REDIS_URL="$REDIS" HIREGRAPH_CACHE_PREFIX="ab$round$$"
  run "after, cache on" ./target/release/hiregraph "$CACHED" REDIS_URL="$REDIS" HIREGRAPH_CACHE_PREFIX="ab$round$$"
  run "before, cache off" "$OLD/target/release/hiregraph" "$UNCACHED" HIREGRAPH_CACHE=off
  run "after, cache off" ./target/release/hiregraph "$UNCACHED" HIREGRAPH_CACHE=off
done
