#!/usr/bin/env bash
# Neural rerank benchmark, one command: rerank.cpp vs llama.cpp's llama-server --reranking on the same
# generated models (MiniLM-L6 cross-encoder F16, Qwen3-0.6B reranker F16 and Q8_0) and the same SciFact
# inputs. See docs/BENCHMARKS.md.
#
#   bench/neural_bench.sh [BUILD_DIR] [options of bench/neural_bench.py, e.g. --models minilm-l6-f16 --ce-queries 2]
#
# Builds llama-server once into the cache (RERANK_LLAMA_SERVER=1 scripts/bootstrap.sh, ~8 min the first
# time), builds rerank and the bench helpers into BUILD_DIR (default build), then runs the comparison.
# Generated models and inputs are cached in ~/.cache/rerank.cpp/bench (RERANK_CACHE/bench).
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD=build
if [ $# -gt 0 ] && [[ "$1" != -* ]]; then BUILD=$1; shift; fi
CACHE=${RERANK_CACHE:-$HOME/.cache/rerank.cpp}

STEP_PREFIX=neural-bench
source scripts/lib/steps.sh
apply_setup RERANK_LLAMA_SERVER=1 scripts/bootstrap.sh
SERVER="$CACHE/llama-server-${LLAMA_PREFIX##*/llama-}/bin/llama-server"
[ -x "$SERVER" ] || { echo "neural_bench: llama-server missing at $SERVER" >&2; exit 1; }

if [ ! -f "$BUILD/build.ninja" ]; then
  cmake -S . -B "$BUILD" -G Ninja -DLLAMA_PREFIX="$LLAMA_PREFIX" -DLLAMA_SOURCE="$LLAMA_SOURCE" >/dev/null
fi
cmake --build "$BUILD" -j"$(nproc)" --target rerank bench_sgemm_peak bench_neural_inputs bench_neural_rerank >&2

exec python3 bench/neural_bench.py --build "$BUILD" --server "$SERVER" --cache "$CACHE/bench" "$@"
