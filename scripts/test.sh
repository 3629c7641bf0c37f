#!/usr/bin/env bash
# The README's test command, and CI's. Without arguments it runs everything, in this order:
#   1. setup (idempotent) and the Release build of the programs, which the package and the demo use;
#   2. the formatting check;
#   3. the suite built with AddressSanitizer + UndefinedBehaviorSanitizer (preset asan): every unit, cli,
#      gui and reference suite, the file readers among them. On the Release build instead: the package
#      test (it installs the .deb), and the suites labelled `slow` (end-to-end runs of the real demo model
#      through the CLI, whose code paths the sanitized suites and the fuzzers already cover; under ASan at
#      -O1 they took a third of CI). The suites labelled `memory` (bounds that ASan's quarantine and
#      shadow memory inflate) run on the Release build too;
#   4. the GUI's worker suites under ThreadSanitizer (preset tsan);
#   5. the file readers fuzzed for EMLOC_FUZZ_SECONDS (default 60) per target (scripts/fuzz.sh).
# The suite runs once, under the sanitizers, and not a second time on the Release build: the asan build
# compiles the same code at -O1, and CI's 90 minutes do not hold both runs (see the README's design notes).
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
mapfile -t asan_suites < <(suites asan -LE "package|slow")
cmake --build --preset asan --target emloc "${asan_suites[@]}"
asan_build_seconds=$(elapsed "$t1")

section "Running the suite under ASan + UBSan (all but the package and the slow end-to-end suites)"
t2=$(date +%s)
ctest --preset asan -j 2 -LE "package|slow" || status=1
asan_test_seconds=$(elapsed "$t2")

section "On the Release build: the package, the slow end-to-end suites, and the memory bounds ASan inflates"
t3=$(date +%s)
mapfile -t release_suites < <(suites default -L "slow|memory" -LE package)
cmake --build --preset default --target "${release_suites[@]}"
ctest --preset default -j 2 -L "package|slow|memory" || status=1

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

printf '\nSetup and Release build: %d s; asan build: %d s; suite under asan: %d s; Release suites and tsan: %d s; ' \
    "$setup_seconds" "$asan_build_seconds" "$asan_test_seconds" "$package_tsan_seconds"
printf 'fuzzing: %d s; total: %d s\n' "$(elapsed "$t4")" "$(elapsed "$t0")"
[ $status = 0 ] && echo "All checks passed." || echo "Some checks FAILED (see above)."
exit $status
