#!/usr/bin/env bash
# Sets up (idempotent), builds, checks formatting and runs the whole test suite, then fuzzes the file
# readers for EMLOC_FUZZ_SECONDS (default 60) per target under ASan + UBSan (scripts/fuzz.sh). With
# ctest options (a subset of the suites) or EMLOC_FUZZ_SECONDS=0 the fuzzing is left out.
# Usage: scripts/test.sh [--preset default|asan] [ctest options, e.g. -L unit]
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
PRESET=default
if [ "${1:-}" = "--preset" ]; then PRESET="$2"; shift 2; fi

t0=$(date +%s)
"$ROOT/scripts/setup.sh" --preset "$PRESET"
t1=$(date +%s)

printf '\n==> Checking formatting (clang-format, .clang-format at the root)\n'
"$ROOT/scripts/check-format.sh"

printf '\n==> Running tests (preset %s)\n' "$PRESET"
cd "$ROOT"
status=0
ctest --preset "$PRESET" -j 2 "$@" || status=$?
t2=$(date +%s)

FUZZ_SECONDS="${EMLOC_FUZZ_SECONDS:-60}"
if [ $# -eq 0 ] && [ "$FUZZ_SECONDS" != 0 ]; then
    printf '\n==> Fuzzing the file readers (%s s per target, ASan + UBSan)\n' "$FUZZ_SECONDS"
    "$ROOT/scripts/fuzz.sh" "$FUZZ_SECONDS" || status=1
fi
t3=$(date +%s)
printf '\nSetup and build: %d s; tests: %d s; fuzzing: %d s\n' $((t1 - t0)) $((t2 - t1)) $((t3 - t2))
exit $status
