#!/usr/bin/env bash
# Which engine code the fuzz targets reach: builds a target with coverage instrumentation
# (`cargo fuzz coverage`), runs it over a corpus and prints lines covered per crate
# (crates/<name>/src and the vendored parser), plus the total.
#
#   ci/fuzz-coverage.sh [--corpus DIR] [target...]   (default: sql_diff sql_text sql_db_file)
#
# The corpus of a target is DIR/<target> (default: fuzz/seeds/<target>, the committed seeds;
# point it at a long run's corpus to see what the run added). Needs nightly with the
# llvm-tools component (installed if missing) and python3. Not part of CI: the instrumented
# build takes minutes. Results: fuzz/README.md, "Coverage".
set -euo pipefail
cd "$(dirname "$0")/.."

corpus_root=fuzz/seeds
if [ "${1:-}" = "--corpus" ]; then
    corpus_root="$2"
    shift 2
fi
if [ "$#" -gt 0 ]; then
    targets=("$@")
else
    targets=(sql_diff sql_text sql_db_file)
fi

if ! cargo +nightly fuzz --version >/dev/null 2>&1; then
    cargo install cargo-fuzz --locked
fi
sysroot="$(rustc +nightly --print sysroot)"
host="$(rustc +nightly -vV | sed -n 's/^host: //p')"
llvm_cov="$sysroot/lib/rustlib/$host/bin/llvm-cov"
if [ ! -x "$llvm_cov" ]; then
    rustup component add llvm-tools-preview --toolchain nightly
fi

for target in "${targets[@]}"; do
    corpus="$corpus_root/$target"
    if [ ! -d "$corpus" ]; then
        echo "ci/fuzz-coverage.sh: no corpus at $corpus" >&2
        exit 1
    fi
    inputs=$(find "$corpus" -type f | wc -l)
    echo "== $target: $inputs inputs from $corpus"
    # cargo fuzz coverage replays the corpus and merges the raw profiles into
    # fuzz/coverage/<target>/coverage.profdata.
    # The SQL targets link two copies of SQLite (ours and rusqlite's): ASan's ODR check
    # would abort on them, as in ci/fuzz.sh.
    ASAN_OPTIONS="${ASAN_OPTIONS:-detect_odr_violation=0}" cargo +nightly fuzz coverage "$target" "$corpus" >/dev/null 2>"${TMPDIR:-/tmp}/fuzz-coverage-$target.log" || {
        tail -20 "${TMPDIR:-/tmp}/fuzz-coverage-$target.log" >&2
        exit 1
    }
    binary="target/$host/coverage/$host/release/$target"
    profile="fuzz/coverage/$target/coverage.profdata"
    "$llvm_cov" export -summary-only -instr-profile="$profile" "$binary" |
        python3 -c '
import json, re, sys, collections
data = json.load(sys.stdin)
per = collections.OrderedDict()
for f in data["data"][0]["files"]:
    name = f["filename"]
    m = re.search(r"/(crates/[^/]+|vendor/[^/]+)/src/", name)
    if not m:
        continue
    crate = m.group(1).split("/")[1]
    lines = f["summary"]["lines"]
    c = per.setdefault(crate, [0, 0])
    c[0] += lines["covered"]
    c[1] += lines["count"]
tot = [sum(v[0] for v in per.values()), sum(v[1] for v in per.values())]
print("| crate | lines covered | lines | % |")
print("|---|--:|--:|--:|")
for crate, (cov, n) in sorted(per.items()):
    print(f"| {crate} | {cov} | {n} | {100.0 * cov / max(n, 1):.1f} |")
print(f"| **total** | {tot[0]} | {tot[1]} | {100.0 * tot[0] / max(tot[1], 1):.1f} |")
'
done
