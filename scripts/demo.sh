#!/usr/bin/env bash
# The main job on the demo: SmolLM2-135M-Instruct (fetched and converted by setup.sh) personalised on
# resources/demo/bookings-train.jsonl, evaluated on the 48 held-out bookings, headless, on the CPU unless
# --device says otherwise. Ends with the summary table (time and peak memory per stage, the held-out
# exact match and stop rate of the original, the emulator with its LoRA, the uncorrected and the corrected
# (refined) adapter). Outputs: runs/demo/.
# A second call reuses what the first made; --fresh starts over; --threads N caps the CPU threads (1 on a
# machine busy with other work: waiting threads spin). --gui opens EMLoC Studio on the demo.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
CLI="$ROOT/build/app/cli/emloc"
GUI="$ROOT/build/app/gui/emloc-studio"
DEVICE=cpu
FRESH=0
OPEN_GUI=0
THREADS=()
while [ $# -gt 0 ]; do
    case "$1" in
        --device) DEVICE="$2"; shift 2 ;;
        --fresh) FRESH=1; shift ;;
        --gui) OPEN_GUI=1; shift ;;
        --threads) THREADS=(--threads "$2"); shift 2 ;;
        -h|--help) sed -n '2,9p' "$0"; exit 0 ;;
        *) echo "demo.sh: unknown option $1 (try --help)" >&2; exit 2 ;;
    esac
done
[ -x "$CLI" ] || { echo "demo.sh: $CLI is missing: run scripts/setup.sh first" >&2; exit 1; }
[ -f "$ROOT/.cache/models/SmolLM2-135M-Instruct/model.safetensors" ] ||
    { echo "demo.sh: the demo model is missing: run scripts/setup.sh first" >&2; exit 1; }

if [ "$OPEN_GUI" = 1 ]; then
    exec "$GUI" --demo
fi
[ "$FRESH" = 1 ] && rm -rf "$ROOT/runs/demo"
"$CLI" --version
"$CLI" --device "$DEVICE" "${THREADS[@]}" run "$ROOT/resources/demo/demo-run.json"
echo "Outputs in runs/demo/ (summary.json, export/peft-adapter, export/adapter.gguf)."
