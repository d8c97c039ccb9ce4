#!/usr/bin/env bash
# Long fuzzing (overnight, or an hour before a release): every target at once, each for
# FUZZ_SECONDS (default 3600), from a scratch copy of its committed seeds (plus the
# regression inputs), then a summary: inputs executed, executions per second, corpus
# growth, peak RSS, and every crash with its reproducer. Exits non-zero if any target
# crashed. With --merge, each target's grown corpus is minimized into fuzz/seeds/<target>
# afterwards (as `ci/fuzz.sh --merge`), to be reviewed and committed.
#
# Usage: [FUZZ_SECONDS=3600] [FUZZ_JOBS=<cores>] [FUZZ_SANITIZER=address|none]
#        ci/fuzz-long.sh [--merge] [target...]
# FUZZ_JOBS targets run at a time (default: the number of cores); the rest wait their turn,
# so the wall time is about ceil(targets / FUZZ_JOBS) x FUZZ_SECONDS.
set -euo pipefail
cd "$(dirname "$0")/.."

merge=0
if [ "${1:-}" = "--merge" ]; then
    merge=1
    shift
fi
FUZZ_SECONDS="${FUZZ_SECONDS:-3600}"
FUZZ_JOBS="${FUZZ_JOBS:-$(nproc)}"
FUZZ_SANITIZER="${FUZZ_SANITIZER:-address}"
build_flags=(--sanitizer "$FUZZ_SANITIZER")
if [ "$FUZZ_SANITIZER" != address ]; then
    build_flags+=(--target-dir "fuzz/target/sanitizer-$FUZZ_SANITIZER")
fi
if ! cargo +nightly fuzz --version >/dev/null 2>&1; then
    cargo install cargo-fuzz --locked
fi
if [ "$#" -gt 0 ]; then
    targets=("$@")
else
    mapfile -t targets < <(cargo +nightly fuzz list)
fi
cargo +nightly fuzz build "${build_flags[@]}"

out="$(mktemp -d "${TMPDIR:-/tmp}/strata-fuzz-long.XXXXXX")"
echo "fuzz-long: ${#targets[@]} targets x ${FUZZ_SECONDS}s, ${FUZZ_JOBS} at a time; logs in $out"

run_one() {
    local target=$1
    local corpus="$out/corpus-$target"
    mkdir -p "$corpus"
    if [ -d "fuzz/seeds/$target" ]; then
        cp -R "fuzz/seeds/$target/." "$corpus/"
    fi
    find "$corpus" -type f | wc -l >"$out/$target.seeds"
    local extra=()
    if [ -d "fuzz/regressions/$target" ]; then
        extra+=("fuzz/regressions/$target")
    fi
    set +e
    cargo +nightly fuzz run "${build_flags[@]}" "$target" "$corpus" "${extra[@]}" -- \
        -max_total_time="$FUZZ_SECONDS" -rss_limit_mb=2048 -timeout=10 -print_final_stats=1 \
        >"$out/$target.log" 2>&1
    echo $? >"$out/$target.status"
    set -e
}

running=0
for target in "${targets[@]}"; do
    run_one "$target" &
    running=$((running + 1))
    if [ "$running" -ge "$FUZZ_JOBS" ]; then
        wait -n || true
        running=$((running - 1))
    fi
done
wait || true

failed=()
printf '%-14s %12s %10s %14s %10s %s\n' target inputs exec/s corpus peak_MB result
for target in "${targets[@]}"; do
    log="$out/$target.log"
    stat() { grep -E "^stat::$1:" "$log" | tail -n 1 | awk '{print $2}'; }
    status=$(cat "$out/$target.status" 2>/dev/null || echo 1)
    seeds=$(cat "$out/$target.seeds" 2>/dev/null || echo 0)
    now=$(find "$out/corpus-$target" -type f | wc -l)
    result=ok
    if [ "$status" -ne 0 ]; then
        result="CRASH (log: $log)"
        failed+=("$target")
    fi
    printf '%-14s %12s %10s %14s %10s %s\n' "$target" "$(stat number_of_executed_units)" \
        "$(stat average_exec_per_sec)" "$seeds->$now" "$(stat peak_rss_mb)" "$result"
    if [ "$status" -ne 0 ]; then
        ls -1 "fuzz/artifacts/$target/" 2>/dev/null | sed "s|^|    reproducer: fuzz/artifacts/$target/|"
    elif [ "$merge" = 1 ]; then
        cargo +nightly fuzz cmin "${build_flags[@]}" "$target" "$out/corpus-$target" -- \
            -rss_limit_mb=2048 -timeout=10 >"$out/$target.cmin.log" 2>&1 && {
            rm -rf "fuzz/seeds/$target"
            mkdir -p "fuzz/seeds/$target"
            cp -R "$out/corpus-$target/." "fuzz/seeds/$target/"
            echo "    merged into fuzz/seeds/$target: $(find "fuzz/seeds/$target" -type f | wc -l) inputs"
        }
    fi
done
if [ "${#failed[@]}" -ne 0 ]; then
    echo "fuzz-long: crashes in: ${failed[*]}" >&2
    exit 1
fi
echo "fuzz-long: every target ran ${FUZZ_SECONDS}s without a crash"
