#!/usr/bin/env bash
# Encoder runtimes against peers, one command: rerank.cpp's encoder runtimes (its own oneDNN runtime in
# F32, BF16 and from Q8_0 weights; llama.cpp's for reference) against ONNX Runtime (F32 and dynamic
# int8), PyTorch (sentence-transformers) and llama.cpp's llama-server, on the same weights and the same
# SciFact inputs: a MiniLM-L6 cross-encoder, a BERT-base cross-encoder and the real all-MiniLM-L6-v2
# embedder. See docs/BENCHMARKS.md.
#
#   bench/encoder_peers.sh [BUILD_DIR] [options of bench/encoder_peers.py]
#   bench/encoder_peers.sh build --models minilm-l6 --workloads short --queries 1 --depth 10   # a quick check
#   bench/encoder_peers.sh build --help                                                       # every option
#
# The first run creates the benchmark's own virtualenv (bench/encoder_peers_requirements.txt: PyTorch,
# transformers, sentence-transformers, ONNX Runtime; ~4 GB, a few minutes) and builds the models (HF
# directories, GGUF F32/F16/Q8_0, ONNX F32/int8; ~3 minutes); later runs reuse them. Everything lives
# under ~/.cache/rerank.cpp (RERANK_CACHE).
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD=build
if [ $# -gt 0 ] && [[ "$1" != -* ]]; then BUILD=$1; shift; fi
CACHE=${RERANK_CACHE:-$HOME/.cache/rerank.cpp}
STEP_PREFIX=encoder_peers
source scripts/lib/steps.sh
SCIFACT="${RERANK_SHARED_DATASETS:-../shared/datasets}/scifact"
for a in "$@"; do  # --help needs nothing built
  if [ "$a" = -h ] || [ "$a" = --help ]; then exec python3 bench/encoder_peers.py --help; fi
done
[ -f "$SCIFACT/corpus.jsonl" ] || die "SciFact is not at $SCIFACT (set RERANK_SHARED_DATASETS to the test collections)"

# Only what the selected runs need: llama-server (an 8-minute build) and the models named by --models.
WANT_MODELS="minilm-l6 base minilm-embed" WANT_SERVER=1
prev=
for a in "$@"; do
  [ "$prev" = --models ] && WANT_MODELS=${a//,/ }
  [ "$prev" = --runtimes ] && { [[ "$a" == all || "$a" == *llama-server* ]] || WANT_SERVER=0; }
  prev=$a
done
if [ "$WANT_SERVER" = 1 ]; then
  apply_setup RERANK_LLAMA_SERVER=1 scripts/bootstrap.sh
  SERVER="$CACHE/llama-server-${LLAMA_PREFIX##*/llama-}/bin/llama-server"
  [ -x "$SERVER" ] || die "llama-server missing at $SERVER"
else
  apply_setup scripts/bootstrap.sh
  SERVER=none  # no run uses it
fi

if [ ! -f "$BUILD/build.ninja" ]; then
  step "configure $BUILD" cmake -S . -B "$BUILD" -G Ninja -DLLAMA_PREFIX="$LLAMA_PREFIX" -DLLAMA_SOURCE="$LLAMA_SOURCE"
fi
step "build rerank and the bench helpers in $BUILD" cmake --build "$BUILD" -j"$(nproc)" --target rerank \
  bench_sgemm_peak bench_neural_inputs bench_neural_rerank bench_encoder_embed

source scripts/lib/bench_env.sh
ensure_jemalloc
# The peers' virtualenv (PyTorch, sentence-transformers, ONNX Runtime), also used to build the models:
# convert_hf_to_gguf.py and add_bert_pooler.py import gguf-py of the same llama.cpp source.
add_gguf_py() {
  step "pip install gguf-py from $LLAMA_SOURCE" \
    "$VENV/bin/pip" install --disable-pip-version-check -q --no-deps "$LLAMA_SOURCE/gguf-py"
  step "pip install gguf-py dependencies" \
    "$VENV/bin/pip" install --disable-pip-version-check -q "tqdm>=4.27" "pyyaml>=5.1" "requests>=2.25"
  step "check the virtualenv imports" "$VENV/bin/python" -c \
    'import torch, transformers, sentence_transformers, onnx, onnxruntime, onnxruntime.quantization, gguf'
}
make_venv encoder-peers bench/encoder_peers_requirements.txt "$LLAMA_SOURCE" add_gguf_py
PYTHON="$VENV/bin/python"

# The models, built once per version of their builder (and of llama.cpp's converter).
HF=$(MODELS=minilm-l6-embed scripts/fetch_models.sh | sed -n 's/^MINILM_HF_DIR=//p')
[ -n "$HF" ] && [ -f "$HF/config.json" ] || die "scripts/fetch_models.sh printed no usable MINILM_HF_DIR"
mkey=$(cat bench/encoder_peers_model.py bench/serve_peers_model.py scripts/python/add_bert_pooler.py <(echo "$LLAMA_SOURCE $VENV") |
  sha256sum | cut -c1-12)
MODELS_DIR="$CACHE/bench/encoder-peers-models-$mkey"
for m in $WANT_MODELS; do
  if [ ! -f "$MODELS_DIR/$m/.complete" ]; then
    step "build model $m (HF, GGUF F32/F16/Q8_0, ONNX F32/int8) into $MODELS_DIR/$m" \
      "$PYTHON" bench/encoder_peers_model.py --model "$m" --tokenizer "$HF" --llama-source "$LLAMA_SOURCE" \
      --out "$MODELS_DIR/$m"
  fi
done

exec "$PYTHON" bench/encoder_peers.py --build "$BUILD" --server "$SERVER" \
  --models-dir "$MODELS_DIR" --scifact "$SCIFACT" --cache "$CACHE/bench" "$@"
