#!/usr/bin/env bash
# The main job on the built-in collection (data/: astronomy, written for this project): install what
# is missing, build, index, retrieve with BM25 and BM25+RM3, fuse, rerank, evaluate and compare.
#   MODEL=path/to/reranker.gguf scripts/demo.sh   reranks with your own GGUF model
# Without MODEL, the rerank step uses a generated random-weight MiniLM-shaped cross-encoder: it shows
# the pipeline and its cost accounting, and its ranking means nothing.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/build.sh build >/dev/null
R=build/rerank
OUT=${OUT:-out/demo}
mkdir -p "$OUT"
DATA=data

step() { printf '\n== %s\n' "$*"; }

step "Index $DATA/corpus.jsonl (flat: title + text, Anserini's English analysis)"
$R index --corpus $DATA/corpus.jsonl --index "$OUT/index" --flat --overwrite --quiet
step "Retrieve: BM25, BM25+RM3, and their reciprocal rank fusion"
$R search --index "$OUT/index" --queries $DATA/queries.jsonl --output "$OUT/bm25.run" --hits 100 --tag bm25
$R search --index "$OUT/index" --queries $DATA/queries.jsonl --output "$OUT/rm3.run" --hits 100 --rm3 --tag rm3
$R fuse --method rrf --output "$OUT/rrf.run" "$OUT/bm25.run" "$OUT/rm3.run"

step "Evaluate (trec_eval conventions) against $DATA/qrels/test.tsv"
for run in bm25 rm3 rrf; do
  echo "-- $run"
  $R eval -m ndcg_cut.10 -m map -m recall.100 -m P.5 $DATA/qrels/test.tsv "$OUT/$run.run"
done
step "Paired significance: BM25 vs BM25+RM3"
$R compare "$OUT/bm25.run" "$OUT/rm3.run" $DATA/qrels/test.tsv -m ndcg_cut.10 -m map

if $R --help 2>/dev/null | grep -q '^ *rerank '; then
  model=${MODEL:-}
  if [ -z "$model" ]; then
    model="$OUT/minilm-l6-random.gguf"
    [ -f "$model" ] || $R make-test-model --arch bert --shape minilm-l6 --seed 1 --output "$model" >/dev/null
    step "Rerank BM25 top 20 with a RANDOM-WEIGHT MiniLM-L6-shaped cross-encoder (pipeline and cost only; scores mean nothing)"
  else
    step "Rerank BM25 top 20 with $model"
  fi
  $R rerank --model "$model" --queries $DATA/queries.jsonl --corpus $DATA/corpus.jsonl \
    --run "$OUT/bm25.run" --depth 20 --output "$OUT/reranked.run"
  $R eval -m ndcg_cut.10 $DATA/qrels/test.tsv "$OUT/reranked.run"
fi
printf '\nRuns and index are in %s/\n' "$OUT"
