#!/usr/bin/env bash
# The measured runs behind docs/BENCHMARKS.md: machine facts, the multitenant benchmark
# (CSV + SVG into OUT), the server-load benchmark (OUT/server-load) and the ratios
# table. Usage: bench/run-all.sh [OUT]  (default docs/bench). Run from the repository
# root; builds only this package.
set -euo pipefail
out="${1:-docs/bench}"
mkdir -p "$out"
cargo build --release -p strata-bench --bins
target="${CARGO_TARGET_DIR:-target}"
{
  echo "date: $(date -u +%Y-%m-%dT%H:%M:%SZ)"
  echo "commit: $(git rev-parse --short HEAD)"
  echo "nproc: $(nproc)"
  echo "cpu: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ //')"
  echo "kernel: $(uname -r)"
  echo "memory: $(free -g | awk '/Mem:/ {print $2 " GiB"}')"
  echo "load before: $(cut -d' ' -f1-3 /proc/loadavg)"
} | tee "$out/machine.txt"
start=$(date +%s)
"$target/release/multitenant" --out "$out" | tee "$out/multitenant.txt"
echo "multitenant wall: $(( $(date +%s) - start )) s" | tee -a "$out/machine.txt"
echo "load after multitenant: $(cut -d' ' -f1-3 /proc/loadavg)" | tee -a "$out/machine.txt"
start=$(date +%s)
mkdir -p "$out/server-load"
"$target/release/server-load" --namespaces 1,10,100 --total 10000 --out "$out/server-load" \
  | tee "$out/server-load/server-load.txt"
echo "server-load wall: $(( $(date +%s) - start )) s" | tee -a "$out/machine.txt"
echo "load after server-load: $(cut -d' ' -f1-3 /proc/loadavg)" | tee -a "$out/machine.txt"
start=$(date +%s)
"$target/release/ratios" --rounds 5 | tee "$out/ratios.txt"
echo "ratios wall: $(( $(date +%s) - start )) s" | tee -a "$out/machine.txt"
echo "load after ratios: $(cut -d' ' -f1-3 /proc/loadavg)" | tee -a "$out/machine.txt"
