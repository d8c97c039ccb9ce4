#!/usr/bin/env bash
# Real-client tests: the unmodified @libsql/client and the `libsql` embedded replica
# (pinned by tests/clients/node/package-lock.json, installed with `npm ci` from the npm
# registry) against freshly started strata-servers on 127.0.0.1 (the tests start and
# stop them).
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
    echo "ci/clients.sh: node and npm are required (Node 20)" >&2
    exit 1
fi
node --version

cargo build --release -p strata-server
export STRATA_SERVER_BIN="$PWD/${CARGO_TARGET_DIR:-target}/release/strata-server"

cd tests/clients/node
npm ci --no-audit --no-fund
npm test
