#!/usr/bin/env bash
# Effectiveness and cost of rerank.cpp's rerankers with real pretrained models (docs/BENCHMARKS.md):
# BM25 candidates from rerank.cpp's own first stage, reranked by all-MiniLM-L6-v2 (embedding, E2Rank,
# RRF fusion with BM25) and by every LLM strategy with SmolLM2-135M-Instruct and Gemma 3 270M; each run
# is evaluated (nDCG@10, MAP, recall), compared with BM25 on the same queries (paired t-test and
# randomization test) and its cost per query is taken from `rerank rerank`'s own report. Writes
# docs/RESULTS-real-models.md and docs/real-models-cost.svg from the measured outputs.
#
#   bench/effectiveness.sh [BUILD_DIR]          # default build/; about 45 minutes on 2 shared cores
#
# Environment (the defaults are what docs/RESULTS-real-models.md was made with):
#   THREADS=1         threads per rerank process (one process at a time; see docs/BENCHMARKS.md for
#                     why 1 and not 2 on a shared 2-core machine)
#   EMB_NQ=30         SciFact test queries (first N in qrels order) for the all-MiniLM-L6-v2 rows
#   LLM_NQ=10         ... for pointwise, listwise, first, insertrank
#   SORT_NQ=3         ... for setwise and pairwise (tens of model calls per query)
#   LLM_DEPTH=20      candidates reranked by the LLM strategies (the MiniLM rows rerank 100)
#   PASSAGE_TOKENS=128  passage length in LLM prompts (pointwise: --max-length PASSAGE_TOKENS+128, firstp)
#   FRESH=1           ignore cached reranked runs (by default a row is reused only when the binary,
#                     model, arguments and input run are byte-identical)
#   RERANK_BENCH_DIR  outputs (indexes, runs, logs; default ~/.cache/rerank.cpp/bench/effectiveness)
#   RERANK_SHARED_DATASETS  collections (default ../shared/datasets)
# Exit status 1 (after writing the results) when any row failed; the failures are in the table.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
BUILD=${1:-build}
DATASETS=${RERANK_SHARED_DATASETS:-../shared/datasets}
CACHE=${RERANK_CACHE:-$HOME/.cache/rerank.cpp}
OUT=${RERANK_BENCH_DIR:-$CACHE/bench/effectiveness}
THREADS=${THREADS:-1}
EMB_NQ=${EMB_NQ:-30}
LLM_NQ=${LLM_NQ:-10}
SORT_NQ=${SORT_NQ:-3}
LLM_DEPTH=${LLM_DEPTH:-20}
PASSAGE_TOKENS=${PASSAGE_TOKENS:-128}
FRESH=${FRESH:-0}
RESULTS=$ROOT/docs/RESULTS-real-models.md
SVG=$ROOT/docs/real-models-cost.svg

say() { echo "[effectiveness $(date -u +%H:%M:%S)] $*" >&2; }
die() { echo "[effectiveness] error: $*" >&2; exit 1; }

START=$(date +%s)
START_UTC=$(date -u '+%Y-%m-%d %H:%M UTC')
LOAD_START=$(cut -d' ' -f1-3 /proc/loadavg)
mkdir -p "$OUT/bin" "$OUT/rows" "$OUT/data"
[ -d "$DATASETS/scifact" ] && [ -d "$DATASETS/med" ] || die "no scifact/med under $DATASETS (set RERANK_SHARED_DATASETS)"

# --- the binary: a snapshot, so that a rebuild during the run cannot mix two binaries -----------------
for i in $(seq 60); do
  [ -x "$BUILD/rerank" ] && "$BUILD/rerank" --help >/dev/null 2>&1 && break
  [ "$i" = 60 ] && die "$BUILD/rerank is missing or does not run (build it: scripts/build.sh $BUILD)"
  say "waiting for $BUILD/rerank (being rebuilt?)"; sleep 10
done
cp "$BUILD/rerank" "$OUT/bin/rerank.tmp" && mv "$OUT/bin/rerank.tmp" "$OUT/bin/rerank"
R=$OUT/bin/rerank
BIN_SHA=$(sha256sum "$R" | cut -c1-12)
COMMIT=$(git rev-parse --short HEAD 2>/dev/null || echo unknown)
DIRTY=$(git status --porcelain --untracked-files=no -- src include CMakeLists.txt 2>/dev/null | wc -l)

# --- models --------------------------------------------------------------------------------------------
say "fetching models (scripts/fetch_models.sh)"
declare -A MODEL
while IFS='=' read -r k v; do MODEL[$k]=$v; done < <(scripts/fetch_models.sh | grep '=')
for m in smollm2-135m gemma3-270m minilm-l6-embed; do
  [ -f "${MODEL[$m]:-}" ] || die "scripts/fetch_models.sh did not give $m"
done
declare -A MODEL_NAME=([minilm-l6-embed]="all-MiniLM-L6-v2 F16" [smollm2-135m]="SmolLM2-135M-Instruct Q4_1"
                       [gemma3-270m]="Gemma 3 270M (base) Q4_K_M")

# --- collections: index, test queries in qrels order, BM25 top 100 -------------------------------------
# SciFact as BEIR/Pyserini run it (--remove-query: a query's own id is not a document). MED is searched
# without it: its query ids and document ids are separate numberings (query 5 judges document 5 relevant).
declare -A CORPUS QUERIES QRELS BM25_SECS BM25_NQ
prepare() {  # prepare NAME REMOVE_QUERY(0/1)
  local name=$1 remove=$2 dir="$DATASETS/$1" d="$OUT/data/$1"
  mkdir -p "$d"
  CORPUS[$name]=$dir/corpus.jsonl
  QRELS[$name]=$dir/qrels/test.tsv
  if [ ! -d "$d/index" ]; then
    say "indexing $name"
    "$R" index --corpus "${CORPUS[$name]}" --index "$d/index" --flat --quiet
  fi
  # judged test queries in order of first appearance in the qrels (the subsets are prefixes of this)
  tail -n +2 "${QRELS[$name]}" | cut -f1 | awk '!seen[$0]++' > "$d/qids.txt"
  python3 - "$dir/queries.jsonl" "$d/qids.txt" "$d/queries.jsonl" <<'PY'
import json, sys
lines = {json.loads(l)["_id"]: l for l in open(sys.argv[1], encoding="utf-8") if l.strip()}
ids = [l.strip() for l in open(sys.argv[2])]
missing = [i for i in ids if i not in lines]
if missing: sys.exit(f"{sys.argv[1]}: no query {missing[0]} (judged in the qrels)")
with open(sys.argv[3], "w", encoding="utf-8") as f:
    for i in ids: f.write(lines[i] if lines[i].endswith("\n") else lines[i] + "\n")
PY
  QUERIES[$name]=$d/queries.jsonl
  local extra=() t0 t1
  [ "$remove" = 1 ] && extra=(--remove-query)
  t0=$(date +%s.%N)
  "$R" search --index "$d/index" --queries "$d/queries.jsonl" --output "$d/bm25.run" --hits 100 \
    --threads "$THREADS" --quiet "${extra[@]}"
  t1=$(date +%s.%N)
  BM25_NQ[$name]=$(wc -l < "$d/qids.txt")
  BM25_SECS[$name]=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f", b - a }')
}
prepare scifact 1
prepare med 0

# The first N judged queries of a collection and BM25's run restricted to them.
subset() {  # subset NAME N -> echoes the path of the BM25 run of that subset
  local name=$1 n=$2 d="$OUT/data/$1"
  local run="$d/bm25-q$n.run"
  head -n "$n" "$d/qids.txt" > "$d/q$n.txt"
  [ "$(wc -l < "$d/q$n.txt")" = "$n" ] || die "$name has fewer than $n judged queries"
  awk 'NR == FNR { want[$1] = 1; next } ($1 in want)' "$d/q$n.txt" "$d/bm25.run" > "$run"
  echo "$run"
}

# --- rows ----------------------------------------------------------------------------------------------
MANIFEST=$OUT/manifest.tsv
printf 'id\tsection\tcollection\tnq\tdepth\tmodel\tstrategy\tlabel\tparams\tstatus\tbase\trun\tlog\terror\tcached\n' > "$MANIFEST"
FAILED=()

record() {  # record ID SECTION COLL NQ DEPTH MODEL STRATEGY LABEL PARAMS STATUS BASE RUN LOG ERROR [CACHED]
  local IFS=$'\t'
  [ $# = 15 ] || set -- "$@" 0
  echo "$*" >> "$MANIFEST"
}

bm25_row() {  # bm25_row SECTION COLL NQ
  local base; base=$(subset "$2" "$3")
  record "$1-bm25" "$1" "$2" "$3" 100 - bm25 "BM25" "k1=0.9 b=0.4, top 100" ok "$base" "$base" - -
}

# rerank_row ID SECTION COLL NQ DEPTH MODEL STRATEGY LABEL [rerank args...]
rerank_row() {
  local id=$1 section=$2 coll=$3 nq=$4 depth=$5 model=$6 strategy=$7 label=$8
  shift 8
  local base; base=$(subset "$coll" "$nq")
  local run="$OUT/rows/$id.run" log="$OUT/rows/$id.log" keyf="$OUT/rows/$id.key"
  local args=(rerank --strategy "$strategy" --model "${MODEL[$model]}" --queries "${QUERIES[$coll]}"
              --corpus "${CORPUS[$coll]}" --run "$base" --depth "$depth" --threads "$THREADS" --output "$run" "$@")
  local key cached=0
  key=$( { echo "$BIN_SHA ${args[*]}"; stat -c '%s %Y' "${MODEL[$model]}"; sha256sum < "$base"; } | sha256sum | cut -c1-16)
  if [ "$FRESH" != 1 ] && [ -f "$keyf" ] && [ "$(cat "$keyf")" = "$key" ] && [ -s "$run" ]; then
    say "$id: cached ($(grep -o 'in [0-9.]* s' "$log" | tail -1 || true))"
    cached=1
  else
    rm -f "$keyf" "$run"
    say "$id: $label on $coll, first $nq queries, depth $depth"
    cut -d' ' -f1 /proc/loadavg > "$OUT/rows/$id.load"  # the 1-minute load average as the row starts
    if "$R" "${args[@]}" > "$log" 2>&1; then
      echo "$key" > "$keyf"
      say "$id: $(grep '^reranked' "$log" | tail -1 || true)"
    else
      local rc=$? err
      err=$(grep -v '^\[' "$log" | grep -iE 'error|what\(\)|abort|terminate|fault' | head -1 || true)
      [ -n "$err" ] || err=$(grep -v '^\[' "$log" | grep -v '^[[:space:]]*$' | tail -1 || true)
      [ -n "$err" ] || err="exit status $rc"
      echo "[effectiveness] FAILED: $id (exit status $rc): $err" >&2
      echo "  command: $R ${args[*]}" >&2
      echo "  log: $log" >&2
      FAILED+=("$id: $err")
      record "$id" "$section" "$coll" "$nq" "$depth" "$model" "$strategy" "$label" "$*" failed "$base" - "$log" \
        "$(tr '\t' ' ' <<<"$err")"
      return 0
    fi
  fi
  record "$id" "$section" "$coll" "$nq" "$depth" "$model" "$strategy" "$label" "$*" ok "$base" "$run" "$log" - "$cached"
}

# RRF of BM25 and an embedding row of the same section (its cost is the embedding row's).
fuse_row() {  # fuse_row ID SECTION COLL NQ FROM_ID
  local id=$1 section=$2 coll=$3 nq=$4 from=$5
  local base; base=$(subset "$coll" "$nq")
  local src="$OUT/rows/$from.run" run="$OUT/rows/$id.run"
  if [ ! -s "$src" ]; then
    record "$id" "$section" "$coll" "$nq" 100 minilm-l6-embed rrf "BM25 + embedding, RRF" "" failed "$base" - - \
      "the embedding row $from failed"
    FAILED+=("$id: the embedding row $from failed")
    return 0
  fi
  "$R" fuse --method rrf --rrf-k 60 --depth 100 --hits 100 --tag rrf --output "$run" "$base" "$src"
  record "$id" "$section" "$coll" "$nq" 100 minilm-l6-embed rrf "BM25 + embedding, RRF (k=60)" "from=$from" ok \
    "$base" "$run" "$OUT/rows/$from.log" -
}

EMB=(--param passage_tokens=256)  # all-MiniLM-L6-v2's max_seq_length in sentence-transformers
LLM_P=(--param passage_tokens="$PASSAGE_TOKENS")
POINT_P=(--max-length $((PASSAGE_TOKENS + 128)) --chunking firstp)

say "binary $BIN_SHA (commit $COMMIT), $THREADS thread(s), outputs in $OUT"

# all-MiniLM-L6-v2, depth 100: SciFact prefix and all of MED
for coll in scifact med; do
  if [ "$coll" = scifact ]; then nq=$EMB_NQ; else nq=${BM25_NQ[med]}; fi
  s="$coll-emb"
  bm25_row "$s" "$coll" "$nq"
  rerank_row "$s-embedding" "$s" "$coll" "$nq" 100 minilm-l6-embed embedding "embedding (cosine)" "${EMB[@]}"
  rerank_row "$s-e2rank" "$s" "$coll" "$nq" 100 minilm-l6-embed e2rank "E2Rank (top-20 PRF query)" "${EMB[@]}"
  fuse_row "$s-rrf" "$s" "$coll" "$nq" "$s-embedding"
done

# LLM strategies on SciFact: the single-prompt-per-window ones and pointwise, then the sorting ones
bm25_row sf-llm scifact "$LLM_NQ"
for model in smollm2-135m gemma3-270m; do
  rerank_row "sf-llm-$model-pointwise" sf-llm scifact "$LLM_NQ" "$LLM_DEPTH" "$model" pointwise "pointwise yes/no" "${POINT_P[@]}"
  rerank_row "sf-llm-$model-listwise" sf-llm scifact "$LLM_NQ" "$LLM_DEPTH" "$model" listwise "listwise w20 s10" "${LLM_P[@]}"
  rerank_row "sf-llm-$model-listwise-free" sf-llm scifact "$LLM_NQ" "$LLM_DEPTH" "$model" listwise \
    "listwise w20 s10, free" "${LLM_P[@]}" --param constrained=off
  rerank_row "sf-llm-$model-first" sf-llm scifact "$LLM_NQ" "$LLM_DEPTH" "$model" first "FIRST w20 s10" "${LLM_P[@]}"
  rerank_row "sf-llm-$model-insertrank" sf-llm scifact "$LLM_NQ" "$LLM_DEPTH" "$model" insertrank "InsertRank w20 s10" "${LLM_P[@]}"
done
bm25_row sf-sort scifact "$SORT_NQ"
for model in smollm2-135m gemma3-270m; do
  rerank_row "sf-sort-$model-setwise" sf-sort scifact "$SORT_NQ" "$LLM_DEPTH" "$model" setwise "setwise heapsort c3 k10" "${LLM_P[@]}"
  rerank_row "sf-sort-$model-pairwise" sf-sort scifact "$SORT_NQ" "$LLM_DEPTH" "$model" pairwise "pairwise (PRP) heapsort k10" "${LLM_P[@]}"
done

# --- evaluation, comparison with BM25 on the same queries, report ----------------------------------------
say "evaluating"
tail -n +2 "$MANIFEST" | while IFS=$'\t' read -r id section coll nq depth model strategy label params status base run log err; do
  [ "$status" = ok ] || continue
  measures=(-m ndcg_cut.10 -m map -m recall.100 -m num_q)
  [ "$LLM_DEPTH" -lt 100 ] && measures+=(-m "recall.$LLM_DEPTH")  # R@k of the rows reranking the top k
  "$R" eval "${measures[@]}" "${QRELS[$coll]}" "$run" > "$OUT/rows/$id.eval"
  "$R" compare "$base" "$run" "${QRELS[$coll]}" -m ndcg_cut.10 -m map > "$OUT/rows/$id.compare"
done

END=$(date +%s)
cat > "$OUT/meta.json" <<EOF
{"cpu": "$(lscpu | sed -n 's/^Model name:[[:space:]]*//p' | head -1)", "cores": $(nproc),
 "start": "$START_UTC", "seconds": $((END - START)), "commit": "$COMMIT", "dirty_files": $DIRTY,
 "binary_sha": "$BIN_SHA", "threads": $THREADS, "load_start": "$LOAD_START",
 "load_end": "$(cut -d' ' -f1-3 /proc/loadavg)", "passage_tokens": $PASSAGE_TOKENS, "llm_depth": $LLM_DEPTH,
 "bm25_secs": {"scifact": ${BM25_SECS[scifact]}, "med": ${BM25_SECS[med]}},
 "bm25_nq": {"scifact": ${BM25_NQ[scifact]}, "med": ${BM25_NQ[med]}},
 "qrels": {"scifact": "$(realpath "${QRELS[scifact]}")", "med": "$(realpath "${QRELS[med]}")"},
 "models": {"minilm-l6-embed": "$(basename "${MODEL[minilm-l6-embed]}")", "smollm2-135m": "$(basename "${MODEL[smollm2-135m]}")",
            "gemma3-270m": "$(basename "${MODEL[gemma3-270m]}")"},
 "command": "bench/effectiveness.sh$( [ "$BUILD" != build ] && echo " $BUILD")",
 "env": "THREADS=$THREADS EMB_NQ=$EMB_NQ LLM_NQ=$LLM_NQ SORT_NQ=$SORT_NQ LLM_DEPTH=$LLM_DEPTH PASSAGE_TOKENS=$PASSAGE_TOKENS"}
EOF
python3 bench/effectiveness_report.py "$OUT" "$RESULTS" "$SVG"
say "wrote $RESULTS and $SVG in $((END - START)) s"
if [ ${#FAILED[@]} -gt 0 ]; then
  echo "[effectiveness] ${#FAILED[@]} row(s) failed:" >&2
  printf '  %s\n' "${FAILED[@]}" >&2
  exit 1
fi
