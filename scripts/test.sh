#!/usr/bin/env bash
# The README's test command, and CI's. Without arguments it runs everything, in this order:
#   1. setup (idempotent) and the Release build of the programs, which the package and the demo use;
#   2. the formatting check (and, after the asan build, that core's suites need no Qt);
#   3. the suites built with AddressSanitizer + UndefinedBehaviorSanitizer (preset asan): the unit and
#      reference suites, the file readers among them, which call the engine in-process. On the Release
#      build instead, once: the suites that drive the built programs (labels gui, cli: the Studio's pages
#      and the CLI as a user calls it, whose engine code the sanitized suites and the fuzzers cover), the
#      suites labelled `slow` (end-to-end runs of the real demo model), those labelled `memory` (bounds
#      that ASan's quarantine and shadow memory inflate; a unit suite among them runs under ASan too)
#      and the package test (it installs the .deb).
#      The Release build compiles the CLI and the Studio for the package anyway; compiling them and their
#      suites a second time under ASan took a quarter of CI (see the README's design notes);
#   4. the GUI's worker suites under ThreadSanitizer (preset tsan);
#   5. the file readers fuzzed for EMLOC_FUZZ_SECONDS (default 60) per target (scripts/fuzz.sh).
# Each suite runs once: CI's 90 minutes (and the 60 we keep them under) do not hold two runs of it.
# With a preset or ctest options it runs only that: `scripts/test.sh -L unit` (Release build),
# `scripts/test.sh --preset asan -R tokenizer`, `scripts/test.sh --preset tsan`.
# Usage: scripts/test.sh [--preset default|debug|asan|tsan] [ctest options]
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
# ccache keys on paths relative to the checkout, so a second clone (CI's) reuses what this one compiled.
export CCACHE_BASEDIR="$ROOT" CCACHE_NOHASHDIR=1

elapsed() { echo $(($(date +%s) - $1)); }
section() { printf '\n==> %s\n' "$*"; }
status=0

configure_preset() { # PRESET: configure it, printing cmake's output only when it fails
    local log
    log="$(mktemp)"
    cmake --preset "$1" >"$log" 2>&1 || { cat "$log"; rm -f "$log"; return 1; }
    rm -f "$log"
}

build_preset() { # PRESET: configure it and build its targets (every one, unless the preset names some)
    configure_preset "$1"
    cmake --build --preset "$1"
}

suites() { # PRESET CTEST-OPTIONS...: the names of the suites (= their targets) ctest selects
    local preset="$1"
    shift
    ctest --preset "$preset" -N "$@" | sed -n 's/^ *Test *#[0-9]*: //p'
}

if [ $# -gt 0 ]; then
    PRESET=default
    if [ "${1:-}" = "--preset" ]; then PRESET="$2"; shift 2; fi
    "$ROOT/scripts/setup.sh"
    build_preset "$PRESET"
    section "Running tests (preset $PRESET) $*"
    exec ctest --preset "$PRESET" -j 2 "$@"
fi

t0=$(date +%s)
"$ROOT/scripts/setup.sh"
setup_seconds=$(elapsed "$t0")

section "Checking formatting (clang-format, .clang-format at the root)"
"$ROOT/scripts/check-format.sh" || status=1

section "Building the suite with AddressSanitizer + UndefinedBehaviorSanitizer (preset asan)"
t1=$(date +%s)
configure_preset asan
ON_RELEASE="package|slow|gui|cli"
mapfile -t asan_suites < <(suites asan -LE "$ON_RELEASE")
cmake --build --preset asan --target "${asan_suites[@]}"
asan_build_seconds=$(elapsed "$t1")

section "Checking that core's suites need no Qt (a GPU server without it builds them)"
"$ROOT/scripts/check-core-without-qt.sh" "$ROOT/build-asan" || status=1

section "Running the unit and reference suites under ASan + UBSan"
t2=$(date +%s)
ctest --preset asan -j 2 -LE "$ON_RELEASE" || status=1 # a `unit memory` suite runs under both
asan_test_seconds=$(elapsed "$t2")

section "On the Release build: the Studio's and the CLI's suites, the slow end-to-end ones, the memory bounds, the package"
t3=$(date +%s)
mapfile -t release_suites < <(suites default -L "$ON_RELEASE|memory" -LE package)
cmake --build --preset default --target "${release_suites[@]}"
ctest --preset default -j 2 -L "$ON_RELEASE|memory" || status=1

section "The GUI's worker suites under ThreadSanitizer (preset tsan)"
build_preset tsan
ctest --preset tsan || status=1
package_tsan_seconds=$(elapsed "$t3")

t4=$(date +%s)
FUZZ_SECONDS="${EMLOC_FUZZ_SECONDS:-60}"
if [ "$FUZZ_SECONDS" != 0 ]; then
    section "Fuzzing the file readers ($FUZZ_SECONDS s per target, ASan + UBSan)"
    "$ROOT/scripts/fuzz.sh" "$FUZZ_SECONDS" || status=1
fi

printf '\nSetup and Release build: %d s; asan build: %d s; suites under asan: %d s; Release suites and tsan: %d s; ' \
    "$setup_seconds" "$asan_build_seconds" "$asan_test_seconds" "$package_tsan_seconds"
printf 'fuzzing: %d s; total: %d s\n' "$(elapsed "$t4")" "$(elapsed "$t0")"
[ $status = 0 ] && echo "All checks passed." || echo "Some checks FAILED (see above)."
exit $status
