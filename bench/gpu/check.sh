#!/usr/bin/env bash
# The one-shot GPU check (issue 11): on a machine with an NVIDIA GPU, PyTorch with CUDA, transformers,
# peft, CMake and a C++ compiler (no Qt needed), it builds core, the `emloc` CLI and core's GPU suite
# (test_cusolver: core's suites need no Qt) against the LibTorch inside that PyTorch, runs that suite,
# then runs bench/gpu/check.py: our logits against transformers', our PEFT export
# loaded by PEFT, peak VRAM and step time of inference, EMLoC's three stages and full-model LoRA,
# cuSOLVER against LibTorch per layer, and InternVL 2.5's 2B and 8B shapes answering about an image
# (greedy tokens against transformers', peak VRAM of inference, of EMLoC's stages and of full LoRA on
# image records). Results: $OUT/results.md and
# results.json (OUT defaults to bench/gpu/results). Meant to finish within 8 minutes on one data-centre
# GPU with 16 cores (an estimate: no GPU has run it yet).
#
#   bench/gpu/check.sh                      # on the GPU machine
#   bench/gpu/check.sh --device cpu --small --cli build/app/cli/emloc
#                                           # a dry run here: miniature models, the CLI already built
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
DEVICE=cuda
EXTRA=()
CLI=""
while [ $# -gt 0 ]; do
    case "$1" in
        --device) DEVICE="$2"; shift 2 ;;
        --small) EXTRA+=(--small); shift ;;
        --cli) CLI="$(realpath "$2")"; shift 2 ;;
        -h|--help) sed -n '2,12p' "$0"; exit 0 ;;
        *) echo "check.sh: unknown option $1 (try --help)" >&2; exit 2 ;;
    esac
done
OUT="${OUT:-$ROOT/bench/gpu/results}"
BUILD="${BUILD:-$ROOT/build-gpu}"
mkdir -p "$OUT"
LOG="$OUT/check.log"
exec > >(tee "$LOG") 2>&1
started=$(date +%s)
elapsed() { echo "$(( $(date +%s) - started )) s"; }

# The project's virtual environment when there is one (a dry run here), else the machine's Python.
PY="${PYTHON:-}"
[ -z "$PY" ] && { [ -x "$ROOT/.venv/bin/python" ] && PY="$ROOT/.venv/bin/python" || PY=python3; }

echo "== preflight ($(elapsed))"
missing=()
for tool in cmake ninja c++; do command -v "$tool" >/dev/null || missing+=("$tool"); done
"$PY" -c 'import torch, transformers, peft, safetensors, tokenizers' 2>/dev/null ||
    missing+=("python packages torch transformers peft safetensors tokenizers (for $PY)")
if [ ${#missing[@]} -gt 0 ]; then
    printf 'check.sh: missing: %s\n' "${missing[@]}" >&2
    exit 1
fi
"$PY" - <<'EOF'
import torch
print("torch", torch.__version__, "CUDA", torch.version.cuda, "available:", torch.cuda.is_available())
for i in range(torch.cuda.device_count()):
    free, total = torch.cuda.mem_get_info(i)
    print("  cuda:%d %s, %.1f of %.1f GiB free" % (i, torch.cuda.get_device_name(i), free / 2**30, total / 2**30))
EOF
command -v nvidia-smi >/dev/null && nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv || true

build_cli() {
    echo "== build core and the CLI ($(elapsed))"
    local prefix
    prefix="$("$PY" -c 'import torch.utils; print(torch.utils.cmake_prefix_path)')"
    if ! cmake -S "$ROOT" -B "$BUILD" -G Ninja -DCMAKE_BUILD_TYPE=Release -DEMLOC_BUILD_GUI=OFF \
        -DEMLOC_BUILD_TESTS=ON -DEMLOC_PYTHON="$PY" -DCMAKE_PREFIX_PATH="$prefix" > "$OUT/configure.log" 2>&1; then
        tail -30 "$OUT/configure.log"
        echo "check.sh: configuring failed (see $OUT/configure.log). Core needs the Debian/Ubuntu packages" \
             "nlohmann-json3-dev libcli11-dev libpcre2-dev libicu-dev libpng-dev libturbojpeg0-dev libwebp-dev pkg-config besides CMake and LibTorch." >&2
        exit 1
    fi
    grep -E "EMLoC:" "$OUT/configure.log" || true
    cmake --build "$BUILD" --target emloc test_cusolver -j "$(nproc)" > "$OUT/build.log" 2>&1 ||
        { tail -40 "$OUT/build.log"; exit 1; }
    CLI="$BUILD/app/cli/emloc"
}
[ -n "$CLI" ] || build_cli
"$CLI" devices

if [ -x "$BUILD/tests/test_cusolver" ]; then
    echo "== core's GPU suite ($(elapsed))"
    # A failure is reported and the checks go on: their numbers are worth having either way.
    "$BUILD/tests/test_cusolver" | tee "$OUT/test_cusolver.log" || echo "check.sh: test_cusolver FAILED (see above)"
fi

echo "== checks ($(elapsed))"
"$PY" "$ROOT/bench/gpu/check.py" --cli "$CLI" --device "$DEVICE" --out "$OUT" "${EXTRA[@]}"
rm -rf "$OUT/work" # models and adapters: large, and made again by the next run
echo "== done in $(elapsed): $OUT/results.md"
