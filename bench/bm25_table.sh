#!/usr/bin/env bash
# Produces docs/RESULTS-bm25.md's table: BM25 and BM25+RM3 (flat index, k1=0.9 b=0.4, Anserini's
# RM3 defaults) on every shared collection, evaluated with `rerank eval` (nDCG@10, MAP, R@100).
# Usage: bench/bm25_table.sh [BUILD_DIR] [DATASETS_DIR] > table.md
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD=${1:-build}
DATASETS=${2:-../shared/datasets}
RERANK="$BUILD/rerank"
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT

metric() {  # metric NAME EVAL_OUTPUT
  awk -v m="$1" '$1 == m && $2 == "all" { printf "%.4f", $3 }' <<<"$2"
}

echo "| collection | docs | queries | method | nDCG@10 | MAP | R@100 |"
echo "|---|---:|---:|---|---:|---:|---:|"
for name in cranfield cisi med adi scifact npl; do
  dir="$DATASETS/$name"
  if [[ -f "$dir/corpus.jsonl" ]]; then
    corpus="$dir/corpus.jsonl"; queries="$dir/queries.jsonl"; qrels="$dir/qrels/test.tsv"
  elif [[ -f "$dir/docs.trec" ]]; then
    corpus="$dir/docs.trec"; queries="$dir/topics.trec"; qrels="$dir/qrels.txt"
  else
    echo "| $name | - | - | (not found) | | | |"
    continue
  fi
  "$RERANK" index --corpus "$corpus" --index "$WORK/$name" --flat --quiet
  docs=$(grep -c . "$corpus" || true)
  [[ "$corpus" == *.trec ]] && docs=$(grep -c '<DOC>' "$corpus")
  for method in bm25 bm25+rm3; do
    extra=()
    [[ $method == bm25+rm3 ]] && extra=(--rm3)
    # BEIR collections: drop a hit whose id equals the query id, as Pyserini's BEIR runs do.
    [[ "$corpus" == *.jsonl ]] && extra+=(--remove-query)
    "$RERANK" search --index "$WORK/$name" --queries "$queries" --output "$WORK/$name.$method.run" --quiet "${extra[@]}"
    out=$("$RERANK" eval -m ndcg_cut.10 -m map -m recall.100 -m num_q "$qrels" "$WORK/$name.$method.run")
    nq=$(awk '$1 == "num_q" && $2 == "all" { print $3 }' <<<"$out")
    echo "| $name | $docs | $nq | $method | $(metric ndcg_cut_10 "$out") | $(metric map "$out") | $(metric recall_100 "$out") |"
  done
done
