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

# Strata's own engine on the same corpus. Per-file pass counts may only go up
# (ci/slt-ratchet.txt; refresh with --update-ratchet after an improvement), and
# the hand-written files (select1-5, evidence/*) must pass completely.
echo "== sqllogictest corpus (engine: strata)"
STRATA_OUT=$(mktemp)
trap 'rm -f "$OUT" "$STRATA_OUT"' EXIT
"$BIN" --engine strata --ratchet ci/slt-ratchet.txt "$CORPUS" >"$STRATA_OUT" 2>&1 || {
    cat "$STRATA_OUT"
    echo "ci/slt.sh: the strata engine regressed against ci/slt-ratchet.txt" >&2
    exit 1
}
# Per-directory figures.
awk '/: [0-9]+ passed, [0-9]+ failed/ {
        path = $1; sub(/^.*sqllogictest\//, "", path); sub(/:$/, "", path)
        dir = path; if (dir ~ /\//) { sub(/\/[^\/]*$/, "", dir); sub(/\/.*/, "", dir) } else { dir = "select*" }
        p[dir] += $2; f[dir] += $4
     }
     END { for (d in p) printf "  %-10s %7d passed %5d failed (%.2f%%)\n", d, p[d], f[d], 100 * p[d] / (p[d] + f[d]) }' "$STRATA_OUT" | sort
STRATA_SUMMARY=$(tail -n 1 "$STRATA_OUT")
echo "$STRATA_SUMMARY"
if grep -E '(select[1-5]|evidence/[^:]*)\.test\.gz: [0-9]+ passed, [1-9]' "$STRATA_OUT"; then
    echo "ci/slt.sh: a hand-written file (select1-5, evidence) has failures" >&2
    exit 1
fi

# The same corpus on Strata with every read deferred and completed in a shuffled order,
# 512-byte pages and a 4-page cache (--engine strata-cold): each statement is interrupted
# at nearly every page access, evictions and spills everywhere. It must answer exactly as
# the plain run (found a spill livelock and would find a resumable operation that loses
# its place at a Pending).
echo "== sqllogictest corpus (engine: strata-cold)"
COLD_OUT=$(mktemp)
trap 'rm -f "$OUT" "$STRATA_OUT" "$COLD_OUT"' EXIT
"$BIN" --engine strata-cold "$CORPUS" >"$COLD_OUT" 2>&1 || true
COLD_SUMMARY=$(tail -n 1 "$COLD_OUT")
echo "$COLD_SUMMARY"
if [ "$COLD_SUMMARY" != "$STRATA_SUMMARY" ]; then
    diff <(grep -E ': [0-9]+ passed' "$STRATA_OUT") <(grep -E ': [0-9]+ passed' "$COLD_OUT") || true
    echo "ci/slt.sh: the strata-cold engine answered differently from the strata engine" >&2
    exit 1
fi
