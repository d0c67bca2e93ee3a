#!/usr/bin/env bash
# Configures and builds rerank.cpp. Usage: scripts/build.sh [BUILD_DIR] [extra cmake args...]
# BUILD_DIR defaults to build/. Runs bootstrap first (quick when nothing is missing).
#   BUILD_TARGETS="rerank"   build only these targets (default: everything, tests and benchmarks)
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD=${1:-build}
shift || true
boot=$(scripts/bootstrap.sh) || { echo "scripts/build.sh: scripts/bootstrap.sh failed (see above)" >&2; exit 1; }
eval "$boot"
[ -n "${LLAMA_PREFIX:-}" ] || { echo "scripts/build.sh: bootstrap printed no LLAMA_PREFIX" >&2; exit 1; }
cmake -S . -B "$BUILD" -G Ninja -DLLAMA_PREFIX="$LLAMA_PREFIX" -DLLAMA_SOURCE="$LLAMA_SOURCE" "$@" >/dev/null
targets=()
for t in ${BUILD_TARGETS:-}; do targets+=(--target "$t"); done
cmake --build "$BUILD" -j"$(nproc)" "${targets[@]}"
