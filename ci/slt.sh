#!/usr/bin/env bash
# Runs SQLite's sqllogictest corpus through strata-slt with the SQLite engine:
# the runner's self-check (SQLite itself passes every record; the README's
# reference SQLite 3.40 fails one total() rounding edge). Later the same
# corpus measures Strata's engine (--engine strata, with a ratchet).
set -euo pipefail
cd "$(dirname "$0")/.."

CORPUS=../shared/sqllogictest
MIN_PASSED=445130

if [ ! -d "$CORPUS" ]; then
    echo "ci/slt.sh: sqllogictest corpus not found at $CORPUS (expected ../shared/sqllogictest beside the repository)" >&2
    exit 2
fi

cargo build --release -p strata-slt
BIN="${CARGO_TARGET_DIR:-target}/release/strata-slt"

# --verbose: any failing record is described on stderr, so a CI log shows why.
# The runner's own exit status is not used: the pass count decides below.
OUT=$(mktemp)
trap 'rm -f "$OUT"' EXIT
status=0
"$BIN" --engine sqlite --verbose "$CORPUS" >"$OUT" || status=$?
SUMMARY=$(tail -n 1 "$OUT")

if [[ ! "$SUMMARY" =~ ^([0-9]+)\ passed,\ ([0-9]+)\ failed(,\ ([0-9]+)\ skipped)?$ ]]; then
    cat "$OUT"
    echo "ci/slt.sh: strata-slt exited with status $status and no summary line" >&2
    exit 1
fi
PASSED=${BASH_REMATCH[1]}
FAILED=${BASH_REMATCH[2]}

if [ "$PASSED" -lt "$MIN_PASSED" ]; then
    cat "$OUT"
    echo "ci/slt.sh: only $PASSED records passed ($FAILED failed); at least $MIN_PASSED must pass" >&2
    echo "$SUMMARY"
    exit 1
fi
echo "$SUMMARY"
