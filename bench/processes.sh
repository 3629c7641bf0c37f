#!/usr/bin/env bash
# Stages 1 and 2 as 1 and 2 processes (bench/processes.py). Needs scripts/setup.sh first.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
PY="$ROOT/.venv/bin/python"
[ -x "$PY" ] || { echo "bench: $PY is missing: run scripts/setup.sh first" >&2; exit 1; }
exec "$PY" "$ROOT/bench/processes.py" "$@"
