#!/usr/bin/env bash
# Configures and builds rerank.cpp. Usage: scripts/build.sh [BUILD_DIR] [extra cmake args...]
# BUILD_DIR defaults to build/. Runs bootstrap first (quick when nothing is missing).
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD=${1:-build}
shift || true
eval "$(scripts/bootstrap.sh)"
cmake -S . -B "$BUILD" -G Ninja -DLLAMA_PREFIX="$LLAMA_PREFIX" -DLLAMA_SOURCE="$LLAMA_SOURCE" "$@" >/dev/null
cmake --build "$BUILD" -j"$(nproc)"
