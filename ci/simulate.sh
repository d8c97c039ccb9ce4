#!/usr/bin/env bash
# Deterministic simulation in CI: many seeds of the SQL workload (Strata's SQL API mirrored
# on SQLite), of the storage-level workload and of the replication workload (primary,
# replicas, network) across fault configurations, and a replay check: two runs of one seed
# must print the same digest. Budget: about 6 minutes on 2 cores.
# The SQL generator's feature groups are all on; STRATA_SIM_NO_FEATURES=a,b switches groups
# off (e.g. one whose engine fix is not merged yet; see simulator/README.md).
set -euo pipefail
cd "$(dirname "$0")/.."

cargo build --release -p simulator
SIM="${CARGO_TARGET_DIR:-target}/release/simulator"

run() {
    echo "-- $*"
    "$SIM" loop "$@" | tail -n 2
}

start=$(date +%s)
# SQL workload: 500 seeds across configurations.
run --seeds 1..101 --faults all
run --seeds 101..181 --faults crash
run --seeds 181..261 --faults errors
run --seeds 261..321 --faults none
run --seeds 321..381 --faults all --connections 5 --tenants 1
run --seeds 381..441 --faults all --connections 1 --tenants 4
run --seeds 441..501 --faults all --small-cache --torn-garbage
echo "sql workload: $(( $(date +%s) - start ))s"

# Storage-level workload (pager/WAL directly, page-image model).
start=$(date +%s)
for faults in none errors crash all; do
    for connections in 1 3; do
        run --workload storage --seeds 1..101 --steps 5000 --faults "$faults" --connections "$connections"
    done
done
run --workload storage --seeds 1..101 --faults crash --torn-garbage --connections 1
run --workload storage --seeds 1..101 --faults all --small-cache
echo "storage workload: $(( $(date +%s) - start ))s"

# Replication: a primary, 1-5 replicas and their clients over a simulated network, with
# network faults (errors), node power losses (crash), both (all) or neither.
start=$(date +%s)
run --workload replication --seeds 1..151 --faults all
run --workload replication --seeds 151..211 --faults crash
run --workload replication --seeds 211..251 --faults errors
run --workload replication --seeds 251..271 --faults none
echo "replication workload: $(( $(date +%s) - start ))s"

echo "-- replay: the same seed twice"
for w in sql storage replication; do
    first=$("$SIM" --workload "$w" --seed 1 --faults all --small-cache | tail -n 1)
    second=$("$SIM" --workload "$w" --seed 1 --faults all --small-cache | tail -n 1)
    echo "$w run 1: $first"
    echo "$w run 2: $second"
    if [ "$first" != "$second" ]; then
        echo "ci/simulate.sh: $w seed 1 is not deterministic" >&2
        exit 1
    fi
done
