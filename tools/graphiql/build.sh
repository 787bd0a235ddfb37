#!/usr/bin/env bash
# Rebuilds api/assets/graphiql from the exact versions in package-lock.json. Run it after
# changing package.json or main.jsx, and commit what it writes.
set -euo pipefail
cd "$(dirname "$0")"
npm ci --no-audit --no-fund
node build.mjs
