#!/usr/bin/env bash
# The project's test command (README: "Run the tests"). Release mode, because the storage
# suites run hundred-thousand-operation workloads against SQLite.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo test --workspace --release "$@"
