#!/usr/bin/env bash
# Builds the libFuzzer targets (preset `fuzz`: Clang, ASan + UBSan, engine readers only) and runs each for
# a bounded time from its seed corpus (tests/fuzz/corpus/<target>), one per core at a time. Any crash,
# sanitizer report, escaped non-Error exception, timeout or memory blow-up fails, and the reproducer is
# kept under build-fuzz/artifacts/<target>/ (replay it: build-fuzz/tests/fuzz/<target> <file>).
# Each run starts from the committed seeds with a fixed random seed (EMLOC_FUZZ_SEED, default 1), so CI's
# run is reproducible: a longer local run with the same seed explores everything CI's will. For a
# campaign that builds on earlier runs, set EMLOC_FUZZ_KEEP_CORPUS=1 and EMLOC_FUZZ_SEED=0 (random).
# Usage: scripts/fuzz.sh [seconds per target, default 60] [target...]
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
SECONDS_PER_TARGET="${1:-60}"
shift || true
TARGETS=("$@")
[ ${#TARGETS[@]} -gt 0 ] || mapfile -t TARGETS < <(ls "$ROOT/tests/fuzz/corpus")

cd "$ROOT"
printf '==> Building the fuzz targets (preset fuzz)\n'
mkdir -p build-fuzz
cmake --preset fuzz >build-fuzz/configure.log 2>&1 || { cat build-fuzz/configure.log; exit 1; }
cmake --build --preset fuzz --target "${TARGETS[@]}"

JOBS="$(nproc)" # before OMP_NUM_THREADS is set: nproc honours it
SEED="${EMLOC_FUZZ_SEED:-1}"
export ASAN_OPTIONS="detect_leaks=0:abort_on_error=1:allocator_may_return_null=1"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1"
export OMP_NUM_THREADS=1

fuzz_one() { # TARGET: runs it, leaves its verdict in artifacts/<target>/verdict
    local target="$1"
    local work="$ROOT/build-fuzz/corpus/$target" # new inputs land here, not in the committed seeds
    local artifacts="$ROOT/build-fuzz/artifacts/$target"
    rm -rf "$artifacts"
    [ "${EMLOC_FUZZ_KEEP_CORPUS:-0}" = 1 ] || rm -rf "$work"
    mkdir -p "$work" "$artifacts"
    if "$ROOT/build-fuzz/tests/fuzz/$target" "$work" "$ROOT/tests/fuzz/corpus/$target" \
        -max_total_time="$SECONDS_PER_TARGET" -seed="$SEED" -timeout=20 -rss_limit_mb=4096 -max_len=65536 \
        -print_final_stats=1 -artifact_prefix="$artifacts/" >"$artifacts/log.txt" 2>&1; then
        echo ok >"$artifacts/verdict"
    else
        echo failed >"$artifacts/verdict"
    fi
}

printf '==> Fuzzing %d targets for %s s each, %d at a time\n' ${#TARGETS[@]} "$SECONDS_PER_TARGET" "$JOBS"
running=0
for target in "${TARGETS[@]}"; do
    fuzz_one "$target" &
    running=$((running + 1))
    if [ "$running" -ge "$JOBS" ]; then
        wait -n || true
        running=$((running - 1))
    fi
done
wait

status=0
for target in "${TARGETS[@]}"; do
    artifacts="$ROOT/build-fuzz/artifacts/$target"
    runs="$(sed -n 's/^stat::number_of_executed_units: *//p' "$artifacts/log.txt")"
    added="$(sed -n 's/^stat::new_units_added: *//p' "$artifacts/log.txt")"
    if [ "$(cat "$artifacts/verdict")" = ok ]; then
        printf '%-22s ok: %s inputs, %s new in the corpus\n' "$target" "${runs:-?}" "${added:-?}"
    else
        status=1
        tail -60 "$artifacts/log.txt"
        printf '%-22s FAILED; reproducer(s) in %s: %s\n' "$target" "$artifacts" \
            "$(ls "$artifacts" | grep -v -e log.txt -e verdict | tr '\n' ' ')"
    fi
done
exit $status
