#!/usr/bin/env bash
# Core's suites need no Qt, so a GPU server with LibTorch and a compiler builds and runs them (issue 17).
# This keeps it so, cheaply: (1) no core suite built in BUILD links a Qt library; (2) configuring without
# Qt (find_package(Qt6) disabled, no GUI) registers every core suite, and none of them compiles with a
# Qt include path.
# Usage: scripts/check-core-without-qt.sh [BUILD]   (default: build; the suites found there are checked)
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BUILD="${1:-$ROOT/build}"
LIST="$BUILD/tests/core_suites.txt"
[ -f "$LIST" ] || { echo "check-core-without-qt: $LIST is missing: configure $BUILD first" >&2; exit 1; }
mapfile -t suites < "$LIST"
failed=0
checked=0
for suite in "${suites[@]}"; do
    binary="$BUILD/tests/$suite"
    [ -x "$binary" ] || continue
    checked=$((checked + 1))
    if readelf -d "$binary" | grep -q 'libQt6'; then
        echo "check-core-without-qt: $suite links Qt: core's suites must use tests/common/unit_test.h" >&2
        failed=1
    fi
done
[ "$checked" -gt 0 ] || { echo "check-core-without-qt: no core suite is built in $BUILD" >&2; exit 1; }

scratch="$(mktemp -d)"
trap 'rm -rf "$scratch"' EXIT
if ! cmake -S "$ROOT" -B "$scratch" -G Ninja -DEMLOC_BUILD_GUI=OFF -DCMAKE_DISABLE_FIND_PACKAGE_Qt6=ON \
    > "$scratch.log" 2>&1; then
    cat "$scratch.log" >&2
    rm -f "$scratch.log"
    echo "check-core-without-qt: configuring without Qt failed" >&2
    exit 1
fi
rm -f "$scratch.log"
registered="$(ctest --test-dir "$scratch" -N | sed -n 's/^ *Test *#[0-9]*: //p' | sort)"
missing="$(comm -23 <(printf '%s\n' "${suites[@]}" | sort) <(printf '%s\n' "$registered"))"
if [ -n "$missing" ]; then
    echo "check-core-without-qt: without Qt these core suites are not registered:" $missing >&2
    failed=1
fi
if grep -q 'Qt6\|/qt6/' "$scratch/compile_commands.json"; then
    echo "check-core-without-qt: a compile command of the build without Qt names a Qt path" >&2
    failed=1
fi
[ $failed = 0 ] && echo "Core's ${#suites[@]} suites need no Qt ($checked built ones link none; all register without it)."
exit $failed
