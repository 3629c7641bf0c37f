#!/usr/bin/env bash
# Sets up (idempotent), builds, checks formatting and runs the whole test suite.
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
printf '\nSetup and build: %d s; tests: %d s\n' $((t1 - t0)) $((t2 - t1))
exit $status
