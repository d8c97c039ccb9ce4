#!/usr/bin/env bash
# Instructions per iteration of one micro case, Strata beside SQLite, counted by
# callgrind: deterministic, so a change's effect shows on a shared, loaded machine where
# wall-clock ratios move by 30% between runs (issue 13). Not a replacement for `ratios`:
# an instruction is not a cycle (cache misses, atomics and system calls cost more than
# they count), so the wall-clock ratios stay the measure of record.
#
#   bench/instructions.sh CASE [ITERS]        e.g. bench/instructions.sh upsert 20000
#
# Each engine runs the case twice, with ITERS and 2*ITERS iterations, under callgrind
# counting only the timed closure; the difference divided by ITERS removes the set-up
# (fixture, first-touch costs) and leaves the cost of one iteration. Prints that for
# both engines, their ratio, and Strata's top functions (self instructions per
# iteration). Needs valgrind and a release build of `ratios`. Sizes as in `ratios`
# (STRATA_BENCH_ROWS etc.; defaults here are smaller so a run takes a minute or two).
set -euo pipefail
case="${1:?usage: instructions.sh CASE [ITERS]}"
iters="${2:-}"
bin="${RATIOS_BIN:-target/release/ratios}"
out="${TMPDIR:-/tmp}/strata-instructions-$case"
mkdir -p "$out"
export STRATA_BENCH_ROWS="${STRATA_BENCH_ROWS:-200000}"
export STRATA_BENCH_INSERT_ROWS="${STRATA_BENCH_INSERT_ROWS:-20000}"
export STRATA_BENCH_UPSERT_KEYS="${STRATA_BENCH_UPSERT_KEYS:-100000}"
if [ -z "$iters" ]; then
  case "$case" in
    full_scan_count_sum | group_by | insert_tx | cold_start) iters=1 ;;
    scan_limit_100) iters=2000 ;;
    *) iters=20000 ;;
  esac
fi

count() { # engine iterations -> total instructions of the timed closure
  local engine=$1 n=$2 runner=strata_runner
  [ "$engine" = sqlite ] && runner=sqlite_runner
  valgrind --tool=callgrind --callgrind-out-file="$out/$engine-$n.out" \
    "--toggle-collect=strata_bench::micro::Fixture::$runner::{{closure}}" \
    "$bin" --cases "$case" --engines "$engine" --iters "$n" --rounds 1 \
    >"$out/$engine-$n.log" 2>&1
  awk '/Collected :/ { print $NF }' "$out/$engine-$n.log"
}

declare -A per
for engine in sqlite strata; do
  a=$(count $engine "$iters")
  b=$(count $engine $((2 * iters)))
  per[$engine]=$(( (b - a) / iters ))
done
echo "== $case: instructions per iteration (callgrind, $iters vs $((2 * iters)) iterations)"
printf "sqlite %12d\nstrata %12d\nratio  %12s\n" "${per[sqlite]}" "${per[strata]}" \
  "$(awk -v a="${per[strata]}" -v b="${per[sqlite]}" 'BEGIN { printf "%.2fx", a / b }')"
echo "== strata: self instructions per iteration, by function"
for n in "$iters" $((2 * iters)); do
  callgrind_annotate --auto=no --threshold=100 "$out/strata-$n.out" 2>/dev/null \
    | grep -E "^ *[0-9,]+ \(" | sed 's/(\s*[0-9.]*%)//' \
    | awk '{ gsub(",", "", $1); n = $1; $1 = ""; print n "\t" $0 }' | sort -t$'\t' -k2 >"$out/strata-$n.txt"
done
join -t$'\t' -1 2 -2 2 "$out/strata-$iters.txt" "$out/strata-$((2 * iters)).txt" \
  | awk -F'\t' -v n="$iters" '{ printf "%8.0f %s\n", ($3 - $2) / n, $1 }' \
  | grep -v "PROGRAM TOTALS" | sort -rn | head -20 \
  | sed 's#/rustc/[0-9a-f]*/library/##; s#[^ ]*/crates/##; s# \[[^]]*\]$##'
