#!/usr/bin/env bash
# Mutation testing of the storage crates with cargo-mutants (issue 14). Not part of every
# CI run (slow: each mutant rebuilds the crate and its dependents); a periodic job, or with
# --in-diff on a change's diff in CI. Results: mutants.out/ (caught.txt, missed.txt,
# timeout.txt, unviable.txt); simulator/README.md records the last run and what was done
# about each missed mutant.
#
# Usage:
#   ci/mutants.sh                        every mutant of strata-wal, strata-pager, strata-btree
#   ci/mutants.sh -p strata-wal -f crates/strata-wal/src/recovery.rs   a subset
#   git diff origin/main | ci/mutants.sh --in-diff /dev/stdin            only changed lines
# Extra arguments go to `cargo mutants`. MUTANTS_TESTS=fast (default) runs the mutated
# crate's own tests plus the simulator's tests (tests/seeds.rs: 20 storage-workload seeds
# per fault mode; tests/sql.rs: 12 SQL seeds per fault mode; findings, sim_io);
# MUTANTS_TESTS=unit runs only the mutated crate's tests (much faster: the dependents are
# not rebuilt); MUTANTS_TESTS=targets runs only the test targets of the mutated crate named
# in MUTANTS_TEST_TARGETS (space-separated names of tests/*.rs files, `lib` for the unit
# tests): only those are linked and run for each mutant, e.g. for strata-btree's freelist
#   MUTANTS_TESTS=targets MUTANTS_TEST_TARGETS="tree_drop tree_table compat_write" \
#     ci/mutants.sh -p strata-btree -f crates/strata-btree/src/freelist.rs
# MUTANTS_TIMEOUT: seconds before a mutant's tests count as hung (300 with fast, 60 with
# unit and targets).
set -euo pipefail
cd "$(dirname "$0")/.."

command -v cargo-mutants >/dev/null || cargo install cargo-mutants --locked

# A mutant that makes the tests hang (a loop that never advances) costs the whole timeout:
# the simulator's seeds need minutes, the crates' own tests finish in about a second.
args=(--profile release --build-timeout 900 --output mutants.out)
case "${MUTANTS_TESTS:-fast}" in
    fast) args+=(--timeout "${MUTANTS_TIMEOUT:-300}"
                 --test-package strata-wal --test-package strata-pager
                 --test-package strata-btree --test-package simulator) ;;
    unit) args+=(--timeout "${MUTANTS_TIMEOUT:-60}") ;;
    targets)
        args+=(--timeout "${MUTANTS_TIMEOUT:-60}")
        [ -n "${MUTANTS_TEST_TARGETS:-}" ] || { echo "MUTANTS_TEST_TARGETS is empty" >&2; exit 2; }
        # --cargo-arg goes to both the build (`cargo test --no-run`) and the test run, so
        # the other test binaries are neither linked nor run.
        for t in $MUTANTS_TEST_TARGETS; do
            if [ "$t" = lib ]; then args+=(--cargo-arg=--lib); else args+=("--cargo-arg=--test=$t"); fi
        done ;;
    *) echo "MUTANTS_TESTS: fast, unit or targets" >&2; exit 2 ;;
esac
if [ $# -eq 0 ]; then
    set -- -p strata-wal -p strata-pager -p strata-btree
fi
# --in-place (one mutant at a time, so no -j): mutate this tree and reuse its target/ (a
# copy would rebuild everything from scratch); cargo-mutants restores each file after its
# mutant. Do not build or commit in this tree while it runs.
exec cargo mutants --in-place "${args[@]}" "$@"
