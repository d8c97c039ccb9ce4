#!/usr/bin/env bash
# The "now playing" example end to end (examples/nowplaying, issue 11): strata-server with
# JWT auth, two instances of the Rust app (Strata's embedded replica) and two of the Node
# app (the `libsql` npm package, pinned by examples/nowplaying/node/package-lock.json and
# installed with `npm ci` from the npm registry), all on 127.0.0.1; the test starts and
# stops them.
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
    echo "ci/nowplaying.sh: node and npm are required (Node 20)" >&2
    exit 1
fi
node --version

cargo build --release -p strata-server -p nowplaying
target_dir="$PWD/${CARGO_TARGET_DIR:-target}"
export STRATA_SERVER_BIN="$target_dir/release/strata-server"
export NOWPLAYING_BIN="$target_dir/release/nowplaying"

(cd examples/nowplaying/node && npm ci --no-audit --no-fund)
cd examples/nowplaying
# Bounded: the test's own timeouts are 2 minutes at most; this is the backstop.
timeout 600 node --test --test-concurrency=1 test/
