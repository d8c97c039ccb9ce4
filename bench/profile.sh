#!/usr/bin/env bash
# Profiles one micro case on Strata with perf (DWARF call graphs) and prints where the
# Strata side of the run spends its time: self time by function (inlined frames folded
# into their caller) and inclusive time of the engine's functions.
#
#   bench/profile.sh CASE [ROWS]      e.g. bench/profile.sh full_scan_count_sum 200000
#
# Needs perf and a release build of the `ratios` binary (cargo build --release -p
# strata-bench). Only samples under the Strata runner closure count (the SQLite runs and
# the fixture build are left out).
set -euo pipefail
case="${1:?usage: profile.sh CASE [ROWS]}"
rows="${2:-200000}"
bin="${RATIOS_BIN:-target/release/ratios}"
data="/tmp/strata-profile-$case.data"
STRATA_BENCH_ROWS="$rows" STRATA_BENCH_INSERT_ROWS="${STRATA_BENCH_INSERT_ROWS:-20000}" \
  perf record -q -e cpu-clock -F 1000 --call-graph dwarf,16384 -o "$data" \
  "$bin" --cases "$case" --engines sqlite,strata --rounds 3 --target-ms 500 >/dev/null
perf script -i "$data" -F ip,sym 2>/dev/null >"$data.txt"
echo "== $case: self time (inlined frames folded into the caller), Strata samples only"
awk 'BEGIN{RS=""} /strata_runner/ { n++; split($0, L, "\n");
  for (i = 1; i <= length(L); i++) { s = L[i]; sub(/^[ \t]*[0-9a-f]+ /, "", s); if (s !~ /\(inlined\)/) break }
  c[s]++ } END { for (k in c) printf "%5.1f%% %s\n", 100*c[k]/n, k; printf "(%d samples)\n", n }' \
  "$data.txt" | sort -rn | head -25
echo "== $case: inclusive time of engine functions, Strata samples only"
awk 'BEGIN{RS=""} /strata_runner/ { n++; split($0, L, "\n"); delete seen;
  for (i = 1; i <= length(L); i++) { s = L[i]; sub(/^[ \t]*[0-9a-f]+ /, "", s); if (!(s in seen)) { seen[s] = 1; c[s]++ } } }
  END { for (k in c) printf "%5.1f%% %s\n", 100*c[k]/n, k }' "$data.txt" | sort -rn \
  | grep -E "strata_(btree|vdbe|pager|wal|io|sql)::|^[ 0-9.]+% strata::|RwLock|memcpy|malloc|free|syscall|io_uring" | head -40
