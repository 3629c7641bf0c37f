#!/usr/bin/env bash
# The benchmark (bench/run.py): installs matplotlib for the plot into the project's .venv when missing,
# then measures. Needs scripts/setup.sh first. Options: --quick, --device cpu|cuda, --out DIR.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
PY="$ROOT/.venv/bin/python"
[ -x "$PY" ] || { echo "bench: $PY is missing: run scripts/setup.sh first" >&2; exit 1; }
"$PY" -c "import matplotlib" 2>/dev/null || "$ROOT/.venv/bin/pip" install -q "matplotlib==3.9.2"
exec "$PY" "$ROOT/bench/run.py" "$@"
