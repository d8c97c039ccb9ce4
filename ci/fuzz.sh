#!/usr/bin/env bash
# Continuous fuzzing of the storage formats and the SQL engine: builds every cargo-fuzz target under fuzz/ and
# runs each for FUZZ_SECONDS (default 60), starting from the committed seeds. Fails if any
# target finds a crash (panic, hang past the per-input timeout, or an allocation / RSS past
# the limit); the reproducer is left in fuzz/artifacts/<target>/ and its path is printed.
#
# Needs the nightly toolchain (cargo-fuzz builds with -Zsanitizer); installs cargo-fuzz from
# crates.io if it is missing. Usage: [FUZZ_SECONDS=60] [FUZZ_SANITIZER=address|none]
# ci/fuzz.sh [--merge] [target...]   (default: every target)
#
# --merge: after a target's run, minimize what it found together with the committed seeds
# (`cargo fuzz cmin`: libFuzzer's -merge=1, keeping inputs that add coverage) and replace
# fuzz/seeds/<target> with the result, so that the next run starts where this one ended.
# Review and commit the change to fuzz/seeds/ (CI runs never merge).
set -euo pipefail
cd "$(dirname "$0")/.."

merge=0
if [ "${1:-}" = "--merge" ]; then
    merge=1
    shift
fi

FUZZ_SECONDS="${FUZZ_SECONDS:-60}"
# FUZZ_SANITIZER=none builds without AddressSanitizer: the SQL targets run about 4-5x more
# inputs per second (fuzz/README.md, "Throughput"), but leaks, the single-allocation limit
# and memory errors in unsafe code (none on the MemoryIo paths the targets use) go
# unreported. The default stays `address`. The two builds use separate target directories
# so that switching does not rebuild everything.
FUZZ_SANITIZER="${FUZZ_SANITIZER:-address}"
build_flags=(--sanitizer "$FUZZ_SANITIZER")
if [ "$FUZZ_SANITIZER" != address ]; then
    build_flags+=(--target-dir "fuzz/target/sanitizer-$FUZZ_SANITIZER")
fi

if ! cargo +nightly --version >/dev/null 2>&1; then
    echo "ci/fuzz.sh: the nightly toolchain is required (rustup toolchain install nightly)" >&2
    exit 1
fi
if ! cargo +nightly fuzz --version >/dev/null 2>&1; then
    echo "ci/fuzz.sh: installing cargo-fuzz"
    cargo install cargo-fuzz --locked
fi

if [ "$#" -gt 0 ]; then
    targets=("$@")
else
    mapfile -t targets < <(cargo +nightly fuzz list)
fi

# Build everything first so that FUZZ_SECONDS is spent fuzzing, not compiling.
cargo +nightly fuzz build "${build_flags[@]}"

# libFuzzer writes new inputs into the first corpus directory it is given; give it a scratch
# copy of the seeds so the committed seeds/ stay exactly as committed.
scratch="$(mktemp -d "${TMPDIR:-/tmp}/strata-fuzz.XXXXXX")"
trap 'rm -rf "$scratch"' EXIT

failed=()
for target in "${targets[@]}"; do
    corpus="$scratch/$target"
    mkdir -p "$corpus"
    if [ -d "fuzz/seeds/$target" ]; then
        cp -R "fuzz/seeds/$target/." "$corpus/"
    fi
    echo "=== fuzz $target for ${FUZZ_SECONDS}s ($(find "$corpus" -type f | wc -l) seeds)"
    # -timeout: one input taking 10 s is a hang. -rss_limit_mb also sets the single-malloc
    # limit, so an input that makes the engine allocate gigabytes is reported as a crash.
    # Further corpus directories are only read: libFuzzer runs every committed regression
    # input first, so a bug that was found once and is back (or not yet fixed) fails at once.
    extra=()
    if [ -d "fuzz/regressions/$target" ]; then
        extra+=("fuzz/regressions/$target")
    fi
    set +e
    cargo +nightly fuzz run "${build_flags[@]}" "$target" "$corpus" "${extra[@]}" -- \
        -max_total_time="$FUZZ_SECONDS" -rss_limit_mb=2048 -timeout=10 -print_final_stats=1 \
        >"$scratch/$target.log" 2>&1
    status=$?
    set -e
    grep -E '^(#[0-9]+ +DONE|stat::(number_of_executed_units|average_exec_per_sec|peak_rss_mb))' \
        "$scratch/$target.log" || true
    if [ "$status" -ne 0 ]; then
        echo "!!! $target FAILED; last lines of its log:"
        tail -n 60 "$scratch/$target.log"
        ls -1 "fuzz/artifacts/$target/" 2>/dev/null | sed "s|^|    reproducer: fuzz/artifacts/$target/|"
        failed+=("$target")
    elif [ "$merge" = 1 ]; then
        before=$(find "fuzz/seeds/$target" -type f 2>/dev/null | wc -l)
        # cmin minimizes the corpus directory in place (seeds copy + new finds).
        cargo +nightly fuzz cmin "${build_flags[@]}" "$target" "$corpus" -- -rss_limit_mb=2048 -timeout=10 \
            >"$scratch/$target.cmin.log" 2>&1 || {
            echo "!!! $target: cmin failed; seeds left unchanged"
            tail -n 20 "$scratch/$target.cmin.log"
            continue
        }
        rm -rf "fuzz/seeds/$target"
        mkdir -p "fuzz/seeds/$target"
        cp -R "$corpus/." "fuzz/seeds/$target/"
        after=$(find "fuzz/seeds/$target" -type f | wc -l)
        echo "    merged: fuzz/seeds/$target $before -> $after inputs"
    fi
done

if [ "${#failed[@]}" -ne 0 ]; then
    echo "ci/fuzz.sh: crashes in: ${failed[*]} (reproduce: cargo +nightly fuzz run <target> <artifact>)" >&2
    exit 1
fi
echo "ci/fuzz.sh: ${#targets[@]} targets ran ${FUZZ_SECONDS}s each without a crash"
