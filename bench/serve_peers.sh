#!/usr/bin/env bash
# Server benchmark against peers, one command: `rerank serve`, llama.cpp's `llama-server --reranking`
# (built from the same llama.cpp source) and Infinity (infinity-emb, PyTorch on CPU) on the same
# random-weight MiniLM-L6 cross-encoder and the same SciFact request bodies, at 1, 8 and 64
# concurrent clients (bench_serve_load). See docs/BENCHMARKS.md ("Server vs peers").
#
#   bench/serve_peers.sh [BUILD_DIR] [options of bench/serve_peers.py, e.g. --duration 10 --clients 1,64]
#   SERVE_PEERS_INFINITY=0 bench/serve_peers.sh      skip Infinity (no 4 GB virtualenv)
#
# The first run builds llama-server into the cache (RERANK_LLAMA_SERVER=1 scripts/bootstrap.sh, ~8 min),
# the model (tooling venv, ~1 min) and Infinity's own virtualenv (pinned in
# bench/serve_peers_infinity.txt, ~4 GB with PyTorch's CUDA libraries, which PyPI's torch depends on);
# later runs reuse them. Everything lives under ~/.cache/rerank.cpp (RERANK_CACHE).
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD=build
if [ $# -gt 0 ] && [[ "$1" != -* ]]; then BUILD=$1; shift; fi
CACHE=${RERANK_CACHE:-$HOME/.cache/rerank.cpp}
STEP_PREFIX=serve_peers
source scripts/lib/steps.sh
SCIFACT="${RERANK_SHARED_DATASETS:-../shared/datasets}/scifact"
[ -f "$SCIFACT/corpus.jsonl" ] || die "SciFact is not at $SCIFACT (set RERANK_SHARED_DATASETS to the test collections)"

apply_setup RERANK_LLAMA_SERVER=1 scripts/bootstrap.sh
SERVER="$CACHE/llama-server-${LLAMA_PREFIX##*/llama-}/bin/llama-server"
[ -x "$SERVER" ] || die "llama-server missing at $SERVER"

if [ ! -f "$BUILD/build.ninja" ]; then
  cmake -S . -B "$BUILD" -G Ninja -DLLAMA_PREFIX="$LLAMA_PREFIX" -DLLAMA_SOURCE="$LLAMA_SOURCE" >/dev/null
fi
cmake --build "$BUILD" -j"$(nproc)" --target rerank bench_serve_load >&2

# The model: Hugging Face directory for Infinity, F16 GGUF for the two llama.cpp servers.
key=$(cat bench/serve_peers_model.py scripts/python/add_bert_pooler.py <(echo "$LLAMA_SOURCE") | sha256sum | cut -c1-12)
MODEL_DIR="$CACHE/bench/serve-peers-model-$key"
if [ ! -f "$MODEL_DIR/.complete" ]; then
  hf=$(MODELS=minilm-l6-embed scripts/fetch_models.sh | sed -n 's/^MINILM_HF_DIR=//p')
  [ -n "$hf" ] || die "scripts/fetch_models.sh printed no MINILM_HF_DIR"
  apply_setup scripts/python_env.sh
  rm -rf "$MODEL_DIR"
  step "write the random-weight cross-encoder (HF + GGUF F16) into $MODEL_DIR" \
    "$PYTHON" bench/serve_peers_model.py --tokenizer "$hf" --llama-source "$LLAMA_SOURCE" --out "$MODEL_DIR"
  touch "$MODEL_DIR/.complete"
fi

# Infinity in its own virtualenv (never the product's runtime), with jemalloc preloaded (see serve_peers_servers.py).
INFINITY_ARGS=()
if [ "${SERVE_PEERS_INFINITY:-1}" = 1 ]; then
  source scripts/lib/bench_env.sh
  ensure_jemalloc
  check_infinity() { step "check Infinity imports" "$VENV/bin/python" -c 'import infinity_emb, torch, sentence_transformers'; }
  make_venv infinity bench/serve_peers_infinity.txt "" check_infinity
  INFINITY_ARGS=(--infinity "$VENV/bin/infinity_emb")
fi

exec python3 bench/serve_peers.py --rerank "$BUILD/rerank" --load "$BUILD/bench/bench_serve_load" \
  --llama-server "$SERVER" "${INFINITY_ARGS[@]}" --model-dir "$MODEL_DIR" \
  --scifact "$SCIFACT" --out "$CACHE/bench/serve-peers" "$@"
