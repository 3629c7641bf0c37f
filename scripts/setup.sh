#!/usr/bin/env bash
# One-command setup on Debian 12: system packages, the project's Python environment (.venv with
# the pinned torch wheel whose LibTorch the build links, and the reference packages the tests use),
# the demo model, then configure and build the programs (emloc, emloc-studio, their icons; --all:
# every target, the test suites too). Safe to run again: it only does what is missing.
#
# Usage: scripts/setup.sh [--preset default|debug|asan] [--all] [--no-build]
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
PRESET=default
BUILD=1
TARGETS=(emloc_product) # the programs and what their install needs (icons)
while [ $# -gt 0 ]; do
    case "$1" in
        --preset) PRESET="$2"; shift 2 ;;
        --no-build) BUILD=0; shift ;;
        --all) TARGETS=(all); shift ;;
        -h|--help) sed -n '2,8p' "$0"; exit 0 ;;
        *) echo "setup.sh: unknown option '$1' (see --help)" >&2; exit 2 ;;
    esac
done

say() { printf '\n==> %s\n' "$*"; }

# --- System packages ---------------------------------------------------------------------------
DEBIAN_PACKAGES=(
    build-essential cmake ninja-build ccache pkg-config git
    python3 python3-venv python3-dev
    qt6-base-dev qt6-tools-dev qt6-tools-dev-tools qt6-l10n-tools libgl-dev libqcustomplot-dev libqt6svg6
    nlohmann-json3-dev libcli11-dev libpcre2-dev libicu-dev libpng-dev libturbojpeg0-dev libwebp-dev
    libgloo-dev # the headers of c10d's Gloo process group (the library itself is inside LibTorch)
    xvfb xauth imagemagick clang-format clang libclang-rt-14-dev
    file desktop-file-utils appstream
    golang-go # the tests execute an Ollama Modelfile's TEMPLATE with Go's text/template, as Ollama does
)
missing=()
for package in "${DEBIAN_PACKAGES[@]}"; do
    [ "$(dpkg-query -W -f='${Status}' "$package" 2>/dev/null || true)" = "install ok installed" ] || missing+=("$package")
done
if [ ${#missing[@]} -gt 0 ]; then
    if [ "$(id -u)" -eq 0 ]; then
        SUDO=()
    elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
        SUDO=(sudo)
    else
        echo "setup.sh: these Debian packages are missing: ${missing[*]}" >&2
        echo "Installing them needs root. Run this script as root, set up sudo for your user, or install" >&2
        echo "them yourself with: apt-get install ${missing[*]}" >&2
        exit 1
    fi
    say "Installing ${#missing[@]} Debian packages: ${missing[*]}"
    "${SUDO[@]}" apt-get update -qq
    DEBIAN_FRONTEND=noninteractive "${SUDO[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}"
else
    say "Debian packages: all ${#DEBIAN_PACKAGES[@]} present"
fi

# --- Python environment --------------------------------------------------------------------------
VENV="$ROOT/.venv"
REQUIREMENTS="$ROOT/scripts/requirements.txt"
STAMP="$VENV/.requirements.sha256"
want="$(cat "$REQUIREMENTS" "$ROOT/scripts/requirements-llama.txt" | sha256sum | cut -d' ' -f1)"
if [ ! -x "$VENV/bin/python" ]; then
    say "Creating the Python environment in .venv"
    python3 -m venv "$VENV"
fi
if [ "$(cat "$STAMP" 2>/dev/null)" != "$want" ]; then
    say "Installing pinned Python packages: torch 2.11 (CUDA 13 build, with its NVIDIA libraries: about 3.5 GB to download, 7 GB on disk), transformers, tokenizers, peft, safetensors, gguf, jinja2 (about 100 MB)"
    "$VENV/bin/pip" install -q --upgrade pip
    "$VENV/bin/pip" install --progress-bar off -r "$REQUIREMENTS"
    say "Installing llama-cpp-python (llama.cpp itself; compiled from source on the first run: 5-15 minutes on 2 cores, then cached by pip)"
    CMAKE_ARGS="-DGGML_NATIVE=OFF" "$VENV/bin/pip" install --progress-bar off -r "$ROOT/scripts/requirements-llama.txt"
    echo "$want" > "$STAMP"
else
    say "Python environment: up to date"
fi

# --- Demo model ----------------------------------------------------------------------------------
"$ROOT/scripts/fetch-demo-model.sh"

# --- Configure and build -------------------------------------------------------------------------
if [ "$BUILD" = 1 ]; then
    cd "$ROOT" # presets are looked up in the current folder
    say "Configuring (preset $PRESET)"
    cmake --preset "$PRESET" >/dev/null
    say "Building on $(nproc) cores"
    start=$(date +%s)
    cmake --build --preset "$PRESET" -j "$(nproc)" --target "${TARGETS[@]}"
    echo "Build took $(( $(date +%s) - start )) s"
fi

# --- Demo model in the working format (once) --------------------------------------------------------
# The GGUF is quantised (Q4_1); the stages read a Hugging Face folder (float32 safetensors, memory-mapped
# one layer at a time), so the demo converts it once, with our own converter.
DEMO_GGUF="$ROOT/.cache/models/SmolLM2-135M-Instruct.Q4_1.gguf"
DEMO_HF="$ROOT/.cache/models/SmolLM2-135M-Instruct"
if [ "$BUILD" = 1 ] && [ ! -f "$DEMO_HF/model.safetensors" ]; then
    say "Converting the demo model to a Hugging Face folder (about 540 MB of float32)"
    BINARY_DIR="$ROOT/build"
    [ "$PRESET" = default ] || BINARY_DIR="$ROOT/build-$PRESET"
    "$BINARY_DIR/app/cli/emloc" -q convert "$DEMO_GGUF" "$DEMO_HF"
fi
