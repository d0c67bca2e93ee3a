#!/usr/bin/env bash
# One command for the LLM strategy benchmark (docs/BENCHMARKS.md): builds a BM25 index of SciFact and
# the BM25 top-100 run of its test queries (cached), generates the Qwen3-0.6B-shaped random-weight model
# (cached), and runs bench_llm_strategies on it.
#   bench/llm_strategies.sh [BUILD_DIR] [bench_llm_strategies options, e.g. --nq 1 --depth 100]
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD=${1:-build}
shift || true
DATA=${RERANK_SHARED_DATASETS:-../shared/datasets}/scifact
OUT="$BUILD/bench-data"
mkdir -p "$OUT"
if [ ! -d "$OUT/scifact-flat" ]; then
  "$BUILD/rerank" index --corpus "$DATA/corpus.jsonl" --index "$OUT/scifact-flat" --flat --quiet
fi
if [ ! -f "$OUT/scifact-test-queries.jsonl" ]; then
  # the queries judged in qrels/test.tsv, in queries.jsonl order
  cut -f1 "$DATA/qrels/test.tsv" | tail -n +2 | sort -u > "$OUT/test-qids.txt"
  grep -F -f <(sed 's/.*/"_id": "&"/' "$OUT/test-qids.txt") "$DATA/queries.jsonl" > "$OUT/scifact-test-queries.jsonl"
fi
if [ ! -f "$OUT/bm25.run" ]; then
  "$BUILD/rerank" search --index "$OUT/scifact-flat" --queries "$OUT/scifact-test-queries.jsonl" \
    --output "$OUT/bm25.run" --hits 100 --remove-query --quiet
fi
exec "$BUILD/bench/bench_llm_strategies" --run "$OUT/bm25.run" --queries "$OUT/scifact-test-queries.jsonl" \
  --corpus "$DATA/corpus.jsonl" --model-dir "$OUT" "$@"
