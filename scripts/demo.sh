#!/usr/bin/env bash
# The main job on the demo model (SmolLM2-135M-Instruct) and data (resources/demo/bookings-*.jsonl).
# Today it opens EMLoC Studio on a desktop, or reports the engine's view of this machine when there is
# no display; the headless three-stage pipeline joins it as the stages land (see the README's status).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BUILD="$ROOT/build"
CLI="$BUILD/app/cli/emloc"
GUI="$BUILD/app/gui/emloc-studio"
[ -x "$CLI" ] || { echo "demo.sh: $CLI is missing: run scripts/setup.sh first" >&2; exit 1; }

"$CLI" --version
"$CLI" devices
echo "Demo model: $ROOT/.cache/models/SmolLM2-135M-Instruct.Q4_1.gguf"
echo "Demo data:  $ROOT/resources/demo/bookings-train.jsonl (320 examples), bookings-test.jsonl (48 held out)"
if [ -n "${DISPLAY:-}${WAYLAND_DISPLAY:-}" ] && [ -x "$GUI" ]; then
    exec "$GUI"
fi
echo "No display: start the desktop application with $GUI on a desktop session."
