#!/usr/bin/env bash
# The parity checks (tests/parity, pytest): rerank.cpp against the reference implementations on the
# same weights: all-MiniLM-L6-v2 embeddings vs sentence-transformers, BERT and XLM-R cross-encoders
# converted by convert_hf_to_gguf.py vs PyTorch, Qwen3-Reranker vs PyTorch. Needs a built rerank
# binary (scripts/build.sh); creates the tooling virtualenv and fetches the models on first use.
#   scripts/parity.sh [BUILD_DIR] [pytest args, e.g. -k embeddings]
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD=${1:-build}
shift || true
[ -x "$BUILD/rerank" ] || { echo "scripts/parity.sh: $BUILD/rerank is missing; run scripts/build.sh first" >&2; exit 1; }
py=$(scripts/python_env.sh) || { echo "scripts/parity.sh: scripts/python_env.sh failed (see above)" >&2; exit 1; }
eval "$py"
boot=$(scripts/bootstrap.sh) || exit 1
eval "$boot"
export RERANK_BIN="$PWD/$BUILD/rerank" LLAMA_SOURCE
cd tests/parity
exec "$PYTHON" -m pytest -q -p no:cacheprovider --durations=12 "$@" .
