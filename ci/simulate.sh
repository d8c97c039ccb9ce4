#!/usr/bin/env bash
# Deterministic simulation in CI: many seeds across fault configurations (storage-level
# workload for now), and a replay check: two runs of one seed must print the same digest.
set -euo pipefail
cd "$(dirname "$0")/.."

cargo build --release -p simulator
SIM="${CARGO_TARGET_DIR:-target}/release/simulator"

for faults in none errors crash all; do
    for connections in 1 3; do
        echo "-- faults=$faults connections=$connections"
        "$SIM" loop --seeds 1..101 --steps 5000 --faults "$faults" --connections "$connections" | tail -n 2
    done
done
echo "-- torn sectors with garbage, small caches"
"$SIM" loop --seeds 1..101 --faults crash --torn-garbage --connections 1 | tail -n 2
"$SIM" loop --seeds 1..101 --faults all --small-cache | tail -n 2

echo "-- replay: the same seed twice"
first=$("$SIM" --seed 1 --faults all --steps 10000 --small-cache | tail -n 1)
second=$("$SIM" --seed 1 --faults all --steps 10000 --small-cache | tail -n 1)
echo "run 1: $first"
echo "run 2: $second"
if [ "$first" != "$second" ]; then
    echo "ci/simulate.sh: seed 1 is not deterministic" >&2
    exit 1
fi
