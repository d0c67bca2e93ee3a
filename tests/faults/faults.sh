#!/usr/bin/env bash
# Fault tests (docs/reliability.md): what a crash, a full disk or a damaged file leaves behind.
#   tests/faults/faults.sh [BUILD_DIR] [--kills N]     (default build/, 20 kills per scenario)
#
#   1. kill -9 of `rerank index --overwrite` at N random moments (spilling every megabyte, so the
#      kills land in spills and merges too): the directory must then hold the previous complete
#      index or the new complete one, searched to exactly the run each gives.
#   2. kill -9 of `rerank search --output RUN` at N random moments: RUN is the previous complete
#      run or the new one, never a part.
#   3. A full disk (ulimit -f) while indexing and while writing a run: a non-zero exit, an error
#      naming the file, and nothing left at the output that looks complete.
#   4. An index from a future format version, a truncated index, a missing one: clear errors.
#   5. kill -9 while storing vectors with their HNSW graph, and while writing embeddings (rerank
#      embed --output): each file is the previous complete one or the new one; a graph left beside
#      vectors it was not built from is refused by HNSW search (needs all-MiniLM-L6-v2, fetched by
#      scripts/fetch_models.sh; skipped with a message without it).
#   6. A corpus deleted while it is indexed (the index is complete), a directory given as a corpus,
#      and, run as nobody, an unreadable index, corpus and model and a read-only output directory:
#      clear errors naming the file.
#   7. Determinism: the same index and run, byte for byte, built twice and searched with 1 and 2
#      threads; the same reranked runs (cross-encoder, LLM pointwise and listwise, random-weight test
#      models) and dense runs with 1 and 2 threads.
# Prints one line per scenario with its outcomes; exits non-zero on the first violation.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
BUILD=build KILLS=20
while [ $# -gt 0 ]; do
  case "$1" in
    --kills) KILLS=$2; shift 2 ;;
    *) BUILD=$1; shift ;;
  esac
done
case "$BUILD" in /*) ;; *) BUILD="$ROOT/$BUILD" ;; esac
R="$BUILD/rerank"
[ -x "$R" ] || { echo "faults: no $R (build it: BUILD_TARGETS=rerank scripts/build.sh)" >&2; exit 1; }
# A sanitizer build's leak report at exit would be a finding of its own, not of these tests.
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=0}
W=$(mktemp -d)
trap 'rm -rf "$W"' EXIT
fail() {
  echo "faults: FAIL: $*" >&2
  exit 1
}
Q="$W/queries.jsonl"

# Corpora: the demo collection repeated with fresh ids, 20 and 100 times (3,680 and 18,400 documents).
repeat_corpus() {
  for r in $(seq 1 "$1"); do sed "s/\"_id\": \"/\"_id\": \"r$r-/" "$ROOT/data/corpus.jsonl"; done
}
repeat_corpus 20 >"$W/a.jsonl"
repeat_corpus 100 >"$W/b.jsonl"
# Queries: the demo queries and every document title of the collection (203 in all), so that a
# search writes a run of 200,000 lines, long enough for kills to land while it is written.
python3 - "$ROOT/data" >"$Q" <<'PY'
import json, sys
d = sys.argv[1]
print(open(f"{d}/queries.jsonl").read(), end="")
for line in open(f"{d}/corpus.jsonl"):
    doc = json.loads(line)
    print(json.dumps({"_id": "t-" + doc["_id"], "text": doc["title"]}))
PY
index() { "$R" index --corpus "$1" --index "$2" --flat --memory-mb 1 --quiet "${@:3}"; }
search() { "$R" search --index "$1" --queries "$Q" --output "$2" --quiet "${@:3}"; }  # default 1000 hits
now() { date +%s.%N; }
elapsed() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.2f", b - a }'; }

index "$W/a.jsonl" "$W/ref-a"
search "$W/ref-a" "$W/ref-a.run"
start=$(now)
index "$W/b.jsonl" "$W/ref-b"
build_seconds=$(elapsed "$start")
search "$W/ref-b" "$W/ref-b.run"
cmp -s "$W/ref-a.run" "$W/ref-b.run" && fail "the two reference runs are equal: the test could not tell them apart"

# A random moment in [0, 1.1 x seconds): some kills land after the command has finished.
random_moment() { awk -v s="$1" -v r="$RANDOM" 'BEGIN { printf "%.3f", s * 1.1 * r / 32768 }'; }

# Runs a command in the background and kills it with SIGKILL at a random moment of its duration.
# The commands are shell functions, so $! is a subshell: rerank is its child, and is killed first
# (killing only the subshell left rerank running to completion, and tested nothing).
kill_at_random() {  # kill_at_random SECONDS command...
  local seconds=$1
  shift
  "$@" 2>/dev/null &
  local pid=$!
  sleep "$(random_moment "$seconds")"
  pkill -KILL -P "$pid" 2>/dev/null || true
  kill -9 "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
  ! pgrep -P "$pid" >/dev/null || fail "a killed command left a process running"
}
# Which reference FILE equals: previous, new or neither.
classify() {  # classify FILE PREVIOUS NEW
  if cmp -s "$1" "$2"; then echo previous; elif cmp -s "$1" "$3"; then echo new; else echo neither; fi
}
declare -A seen

# kill -9 of a command that writes one file, KILLS times: the file must then be PREVIOUS or NEW.
kill_writing() {  # kill_writing WHAT SECONDS FILE PREVIOUS NEW command...
  local what=$1 seconds=$2 file=$3 previous=$4 new=$5
  shift 5
  seen=([previous]=0 [new]=0)
  for _ in $(seq 1 "$KILLS"); do
    cp "$previous" "$file"
    kill_at_random "$seconds" "$@"
    outcome=$(classify "$file" "$previous" "$new")
    [ "$outcome" != neither ] || fail "after kill -9 of $what, the file is neither the previous one nor the new one"
    seen[$outcome]=$((seen[$outcome] + 1))
  done
  echo "faults: kill -9 of $what ($seconds s) x $KILLS: previous ${seen[previous]}, new ${seen[new]}"
}

# --- 1. kill -9 while indexing -------------------------------------------------------------------
seen=([previous]=0 [new]=0)
for _ in $(seq 1 "$KILLS"); do
  rm -rf "$W/idx"
  cp -r "$W/ref-a" "$W/idx"
  kill_at_random "$build_seconds" index "$W/b.jsonl" "$W/idx" --overwrite
  search "$W/idx" "$W/got.run" 2>"$W/err" || fail "after kill -9 of rerank index, the index does not open: $(cat "$W/err")"
  outcome=$(classify "$W/got.run" "$W/ref-a.run" "$W/ref-b.run")
  [ "$outcome" != neither ] || fail "after kill -9 of rerank index, the index gives neither the previous run nor the new one"
  seen[$outcome]=$((seen[$outcome] + 1))
done
echo "faults: kill -9 of rerank index ($build_seconds s build) x $KILLS: previous index ${seen[previous]}, new index ${seen[new]}"

# --- 2. kill -9 while writing a run ------------------------------------------------------------
start=$(now)
search "$W/ref-b" "$W/ref-b1000.run"
search_seconds=$(elapsed "$start")
kill_writing "rerank search --output" "$search_seconds" "$W/out.run" "$W/ref-a.run" "$W/ref-b1000.run" \
  search "$W/ref-b" "$W/out.run"

# --- 3. a full disk ------------------------------------------------------------------------------
# ulimit -f counts 1 KB blocks: 256 KB is too little for the index of b.jsonl, 16 KB for its run.
# The command must fail with EFBIG's message, naming the file it could not write.
expect_full_disk() {  # expect_full_disk KB FILE command...
  local kb=$1 file=$2
  shift 2
  if (ulimit -f "$kb" && "$@") 2>"$W/err"; then fail "$1 $2 under a $kb KB file size limit exited 0"; fi
  grep -q "File too large" "$W/err" || fail "$1 $2 on a full disk: no 'File too large' in: $(cat "$W/err")"
  grep -q "$file" "$W/err" || fail "$1 $2 on a full disk: the error names no file: $(cat "$W/err")"
}
expect_full_disk 256 "$W/full-idx" index "$W/b.jsonl" "$W/full-idx"
[ ! -e "$W/full-idx" ] || fail "rerank index on a full disk left $W/full-idx"
ls "$W" | grep -q "full-idx.tmp" && fail "rerank index on a full disk left its temporary directory"
echo "faults: full disk while indexing: $(head -c 160 "$W/err")"
cp "$W/ref-a.run" "$W/full.run"
expect_full_disk 16 "$W/full.run" search "$W/ref-b" "$W/full.run"
cmp -s "$W/full.run" "$W/ref-a.run" || fail "rerank search on a full disk changed the previous run file"
echo "faults: full disk while writing a run: previous run intact, $(head -c 160 "$W/err")"

# --- 4. damaged and foreign indexes ----------------------------------------------------------------
expect_error() {  # expect_error WHAT PATTERN command...
  local what=$1 pattern=$2
  shift 2
  if "$@" 2>"$W/err" >/dev/null; then fail "$what: the command succeeded"; fi
  grep -q -- "$pattern" "$W/err" || fail "$what: expected '$pattern' in: $(cat "$W/err")"
  echo "faults: $what: $(head -c 200 "$W/err")"
}
cp -r "$W/ref-a" "$W/future"
python3 - "$W/future/index.rrx" <<'PY'
import struct, sys, zlib
path = sys.argv[1]
data = bytearray(open(path, "rb").read())
data[8:12] = struct.pack("<I", 99)  # the format version
count = struct.unpack_from("<I", data, 12)[0]
header = 24 + 24 * count
data[header:header + 4] = struct.pack("<I", zlib.crc32(bytes(data[:header])))
open(path, "wb").write(data)
PY
expect_error "index of a future format version" "format version 99 is not supported" search "$W/future" "$W/x.run"
cp -r "$W/ref-a" "$W/truncated"
truncate -s 5000 "$W/truncated/index.rrx"
expect_error "truncated index" "truncated" search "$W/truncated" "$W/x.run"
expect_error "missing index" "not an index directory" search "$W/nowhere" "$W/x.run"

# --- 5. kill -9 while writing vectors, an HNSW graph and an embeddings file ------------------------
MODEL=${RERANK_MODEL_MINILM:-$HOME/.cache/rerank.cpp/models/all-MiniLM-L6-v2-f16.gguf}
if [ ! -f "$MODEL" ]; then
  echo "faults: SKIP vector, graph and embeddings kills: no embedding model at $MODEL (scripts/fetch_models.sh)"
else
  # 920 documents, embedded once; the killed command stores them again (F16) with their HNSW graph.
  repeat_corpus 5 >"$W/v.jsonl"
  index "$W/v.jsonl" "$W/vidx" --embed "$MODEL"
  stored() { "$R" index --index "$W/vidx" --from-vectors dense --vectors v --hnsw --quiet --overwrite "$@"; }
  stored --vector-precision f32
  cp "$W/vidx/v.vec" "$W/prev.vec" && cp "$W/vidx/v.hnsw" "$W/prev.hnsw"
  start=$(now)
  stored --vector-precision f16
  store_seconds=$(elapsed "$start")
  cp "$W/vidx/v.vec" "$W/new.vec" && cp "$W/vidx/v.hnsw" "$W/new.hnsw"
  dense_search() { "$R" search --index "$W/vidx" --queries "$ROOT/data/queries.jsonl" --output "$W/d.run" \
    --first-stage dense:v --quiet "$@"; }
  seen=([previous/previous]=0 [new/new]=0 [new/previous]=0 [previous/new]=0)
  for _ in $(seq 1 "$KILLS"); do
    cp "$W/prev.vec" "$W/vidx/v.vec" && cp "$W/prev.hnsw" "$W/vidx/v.hnsw"
    kill_at_random "$store_seconds" stored --vector-precision f16
    vec=$(classify "$W/vidx/v.vec" "$W/prev.vec" "$W/new.vec")
    graph=$(classify "$W/vidx/v.hnsw" "$W/prev.hnsw" "$W/new.hnsw")
    [ "$vec" != neither ] || fail "after kill -9, the vector file is neither the previous one nor the new one"
    [ "$graph" != neither ] || fail "after kill -9, the HNSW graph is neither the previous one nor the new one"
    dense_search 2>"$W/err" || fail "after kill -9, exact dense search fails: $(cat "$W/err")"
    if [ "$vec" = "$graph" ]; then
      dense_search --param search=hnsw 2>"$W/err" || fail "after kill -9, HNSW search fails: $(cat "$W/err")"
    elif dense_search --param search=hnsw 2>"$W/mixed-err"; then
      fail "after kill -9 (vectors $vec, graph $graph), HNSW search accepted a graph built over other vectors"
    fi
    seen[$vec/$graph]=$((seen[$vec/$graph] + 1))
  done
  # Staging and temporary files live beside the directory (a kill leaves them there); inside it
  # there must be nothing but the index, the vectors and the graph.
  [ "$(ls "$W/vidx" | tr '\n' ' ')" = "dense.vec index.rrx v.hnsw v.vec " ] ||
    fail "a killed vector build left a file in the index directory: $(ls "$W/vidx")"
  mixed_message=""
  [ ! -s "$W/mixed-err" ] || mixed_message="; a mixed pair is refused by HNSW search: $(head -c 160 "$W/mixed-err")"
  echo "faults: kill -9 of rerank index --from-vectors --hnsw ($store_seconds s) x $KILLS: vectors/graph" \
    "previous/previous ${seen[previous/previous]}, new/new ${seen[new/new]}, new/previous ${seen[new/previous]}," \
    "previous/new ${seen[previous/new]}${mixed_message}"

  embed() { "$R" embed --model "$MODEL" --input "$1" --output "$2" --threads 1; }
  embed "$ROOT/data/queries.jsonl" "$W/prev.emb"
  start=$(now)
  embed "$ROOT/data/corpus.jsonl" "$W/new.emb" 2>/dev/null
  embed_seconds=$(elapsed "$start")
  kill_writing "rerank embed --output" "$embed_seconds" "$W/out.emb" "$W/prev.emb" "$W/new.emb" \
    embed "$ROOT/data/corpus.jsonl" "$W/out.emb"
fi

# --- 6. unreadable and vanishing inputs ----------------------------------------------------------
# A corpus deleted while it is read: the open file stays readable, and the index is complete.
cp "$W/b.jsonl" "$W/vanishing.jsonl"
index "$W/vanishing.jsonl" "$W/vanished" &
pid=$!
sleep "$(awk -v s="$build_seconds" 'BEGIN { printf "%.2f", s / 3 }')"
rm -f "$W/vanishing.jsonl"
wait "$pid" || fail "rerank index failed when its corpus was deleted while read"
search "$W/vanished" "$W/vanished.run"
cmp -s "$W/vanished.run" "$W/ref-b1000.run" || fail "the index of a corpus deleted while read differs"
echo "faults: corpus deleted while indexed: the index is complete (searched to the reference run)"
expect_error "corpus is a directory" "is a directory, expected a file" index "$W" "$W/dir-idx"
if [ "$(id -u)" = 0 ] && command -v setpriv >/dev/null; then
  # Permissions do not bind root: the unreadable cases run as nobody.
  as_nobody() { setpriv --reuid=65534 --regid=65534 --clear-groups "$@"; }
  P="$W/perm" && mkdir -p "$P/ro" && cp "$W/a.jsonl" "$P/c.jsonl" && cp -r "$W/ref-a" "$P/idx"
  chmod 755 "$W" "$P" && chmod 555 "$P/ro" && chmod 644 "$P/c.jsonl" && chmod 000 "$P/idx/index.rrx"
  expect_error "unreadable index" "cannot open $P/idx/index.rrx: Permission denied" \
    as_nobody "$R" search --index "$P/idx" --queries "$Q" --output "$P/x.run" --quiet
  expect_error "index into a read-only directory" "cannot create $P/ro/x.tmp-[0-9]*: Permission denied" \
    as_nobody "$R" index --corpus "$P/c.jsonl" --index "$P/ro/x" --quiet
  chmod 000 "$P/c.jsonl"
  expect_error "unreadable corpus" "$P/c.jsonl: cannot open: Permission denied" \
    as_nobody "$R" index --corpus "$P/c.jsonl" --index "$P/y" --quiet
  if [ -f "$MODEL" ]; then
    cp "$MODEL" "$P/m.gguf" && chmod 000 "$P/m.gguf"
    expect_error "unreadable model" "$P/m.gguf: cannot read the model file: Permission denied" \
      as_nobody "$R" embed --model "$P/m.gguf" --input "$ROOT/data/queries.jsonl" --output "$P/x.emb"
  fi
else
  echo "faults: SKIP unreadable inputs: needs root and setpriv to run a command as nobody"
fi

# --- 7. determinism -------------------------------------------------------------------------------
index "$W/b.jsonl" "$W/again"
cmp -s "$W/again/index.rrx" "$W/ref-b/index.rrx" || fail "two builds of the same corpus differ"
search "$W/ref-b" "$W/t1.run" --threads 1
search "$W/ref-b" "$W/t2.run" --threads 2
cmp -s "$W/t1.run" "$W/t2.run" || fail "search with 1 and 2 threads wrote different runs"
cmp -s "$W/t1.run" "$W/ref-b1000.run" || fail "two searches wrote different runs"
"$R" search --index "$W/ref-b" --queries "$Q" --output "$W/rm3-1.run" --rm3 --threads 1 --quiet
"$R" search --index "$W/ref-b" --queries "$Q" --output "$W/rm3-2.run" --rm3 --threads 2 --quiet
cmp -s "$W/rm3-1.run" "$W/rm3-2.run" || fail "RM3 with 1 and 2 threads wrote different runs"
# Reranking (a random-weight cross-encoder and decoder: determinism, not relevance) and dense search,
# with 1 and 2 threads and twice.
"$R" make-test-model --arch bert -o "$W/bert.gguf" >/dev/null 2>&1
"$R" make-test-model --arch qwen3 -o "$W/qwen3.gguf" >/dev/null 2>&1
"$R" index --corpus "$ROOT/data/corpus.jsonl" --index "$W/demo" --quiet
rerank_run() {  # rerank_run OUT MODEL THREADS [options...]
  "$R" rerank --model "$2" --threads "$3" --first-stage bm25 --index "$W/demo" --queries "$ROOT/data/queries.jsonl" \
    --corpus "$ROOT/data/corpus.jsonl" --depth 20 --output "$1" "${@:4}" 2>/dev/null
}
for model in bert qwen3; do
  rerank_run "$W/$model-1.run" "$W/$model.gguf" 1
  rerank_run "$W/$model-2.run" "$W/$model.gguf" 2
  rerank_run "$W/$model-2b.run" "$W/$model.gguf" 2
  cmp -s "$W/$model-1.run" "$W/$model-2.run" || fail "rerank with the $model model wrote different runs with 1 and 2 threads"
  cmp -s "$W/$model-2.run" "$W/$model-2b.run" || fail "rerank with the $model model wrote different runs twice"
done
rerank_run "$W/listwise-1.run" "$W/qwen3.gguf" 1 --strategy listwise
rerank_run "$W/listwise-2.run" "$W/qwen3.gguf" 2 --strategy listwise
cmp -s "$W/listwise-1.run" "$W/listwise-2.run" || fail "listwise reranking wrote different runs with 1 and 2 threads"
determinism="index built twice byte-identical; BM25, RM3, cross-encoder, LLM pointwise and listwise runs identical with 1 and 2 threads"
if [ -f "$MODEL" ]; then
  dense_search --threads 1 && cp "$W/d.run" "$W/d1.run"
  dense_search --threads 2
  cmp -s "$W/d.run" "$W/d1.run" || fail "dense search wrote different runs with 1 and 2 threads"
  determinism="$determinism, and dense search too"
fi
echo "faults: determinism: $determinism"
echo "faults: all passed"
