#!/usr/bin/env bash
# Resource bounds (docs/reliability.md): a 100 MB document, a 100,000-token query, a 10-million-line
# run and 10,000 candidates for one query, each run through the commands that read it. Every case
# must either finish within the memory bound documented for it or be refused with the documented
# message; the table gives peak memory (RSS), seconds and the bound.
#
#   bench/limits.sh [BUILD_DIR]        (default build/; about 3 minutes and 2.5 GB of scratch space)
#
# Models are random-weight test models (rerank make-test-model): the bounds concern memory and
# refusals, not relevance. Exits non-zero when a case exceeds its bound or answers otherwise.
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD=${1:-build}
BUILD_TARGETS=rerank scripts/build.sh "$BUILD" -DCMAKE_BUILD_TYPE=Release >/dev/null
R="$PWD/$BUILD/rerank"
W=$(mktemp -d)
trap 'rm -rf "$W"' EXIT
command -v /usr/bin/time >/dev/null || { echo "bench/limits.sh: needs GNU time (apt-get install time)" >&2; exit 1; }

python3 - "$W" "$PWD/data/corpus.jsonl" <<'PY'
import json, random, sys
w, corpus = sys.argv[1], sys.argv[2]
random.seed(7)
vocab = sorted({t for line in open(corpus) for t in json.loads(line)["text"].split()})
def text(nbytes):
    out, n = [], 0
    while n < nbytes:
        t = random.choice(vocab); out.append(t); n += len(t) + 1
    return " ".join(out)
big = text(100 * 1024 * 1024)
with open(f"{w}/big.jsonl", "w") as f:
    f.write(json.dumps({"_id": "big", "title": "", "text": big}) + "\n")
    f.writelines(open(corpus))
with open(f"{w}/big-candidates.jsonl", "w") as f:
    f.write(json.dumps({"query_id": "q", "query": "what is retrieval", "candidates": [
        {"id": "big", "text": big}, {"id": "small", "text": "retrieval finds documents"}]}) + "\n")
query = " ".join(random.choice(vocab) for _ in range(100000))
with open(f"{w}/long-query.jsonl", "w") as f:
    f.write(json.dumps({"_id": "long", "text": query}) + "\n")
with open(f"{w}/long-query-candidates.jsonl", "w") as f:
    f.write(json.dumps({"query_id": "long", "query": query, "candidates": [
        {"id": f"d{i}", "text": text(300)} for i in range(5)]}) + "\n")
with open(f"{w}/10m.run", "w") as f:
    for q in range(1000):
        f.write("".join(f"q{q} Q0 d{random.randrange(10**7)}-{r} {r + 1} {10000 - r}.5 big\n" for r in range(10000)))
with open(f"{w}/10m.qrels", "w") as f:
    for q in range(1000):
        f.writelines(f"q{q} 0 d{r}-{r} 1\n" for r in range(0, 10000, 97))
with open(f"{w}/10k-candidates.jsonl", "w") as f:
    f.write(json.dumps({"query_id": "q", "query": "what is retrieval", "candidates": [
        {"id": f"d{i}", "text": text(300)} for i in range(10000)]}) + "\n")
PY
"$R" make-test-model --arch bert -o "$W/bert.gguf" >/dev/null 2>&1
"$R" make-test-model --arch qwen3 -o "$W/qwen3.gguf" >/dev/null 2>&1
"$R" make-test-model --arch qwen3 --rerank-head -o "$W/qwen3-head.gguf" >/dev/null 2>&1
MB=$((1024 * 1024))
BIG=$(stat -c %s "$W/big.jsonl")
failures=0
printf '%-58s %-34s %9s %8s %s\n' case outcome "peak MB" seconds bound
# measure NAME BOUND_MB EXPECT command...: EXPECT is "ok" (exit 0) or a message the error must hold.
measure() {
  local name=$1 bound=$2 expect=$3
  shift 3
  local rc=0
  /usr/bin/time -f '%M %e' -o "$W/time" "$@" >"$W/out" 2>"$W/err" || rc=$?
  read -r kb seconds < <(tail -n 1 "$W/time")  # after "Command exited with non-zero status N"
  local mb=$((kb / 1024)) outcome verdict=PASS
  if [ "$expect" = ok ]; then
    outcome="done"
    [ "$rc" = 0 ] || { outcome="FAILED: $(tail -c 200 "$W/err")"; verdict=FAIL; }
  else
    outcome="refused"
    grep -qF -- "$expect" "$W/err" || { outcome="NOT REFUSED as expected (rc $rc): $(tail -c 200 "$W/err")"; verdict=FAIL; }
  fi
  [ "$mb" -le "$bound" ] || verdict=FAIL
  [ "$verdict" = PASS ] || failures=$((failures + 1))
  printf '%-58s %-34s %9s %8s <= %s MB %s\n' "$name" "$outcome" "$mb" "$seconds" "$bound" "$verdict"
}

# A 100 MB document: indexed (about 4.5 bytes of memory per byte of the document: the line, the
# parsed JSON and the document's text, plus one 64 KB piece's tokens), found, and reranked.
measure "index a corpus with one 100 MB document" $((6 * BIG / MB)) ok \
  "$R" index --corpus "$W/big.jsonl" --index "$W/big-idx" --flat --quiet
measure "BM25 search of that index" 100 ok \
  "$R" search --index "$W/big-idx" --queries data/queries.jsonl --output "$W/big.run" --quiet
grep -q ' big ' "$W/big.run" || { echo "bench/limits.sh: the 100 MB document was not retrieved" >&2; failures=$((failures + 1)); }
measure "cross-encoder, 100 MB document, first window (firstp)" $((6 * BIG / MB)) ok \
  "$R" rerank --model "$W/bert.gguf" --candidates "$W/big-candidates.jsonl" --output "$W/x.run" --chunking firstp
measure "cross-encoder, 100 MB document, every window (maxp)" $((8 * BIG / MB)) ok \
  "$R" rerank --model "$W/bert.gguf" --candidates "$W/big-candidates.jsonl" --output "$W/x.run"

# A query of 100,000 words.
measure "BM25 search, 100,000-word query" 100 ok \
  "$R" search --index "$W/big-idx" --queries "$W/long-query.jsonl" --output "$W/q.run" --quiet
measure "BM25+RM3 search, 100,000-word query" 100 ok \
  "$R" search --index "$W/big-idx" --queries "$W/long-query.jsonl" --output "$W/q.run" --quiet --rm3
measure "cross-encoder, 100,000-word query" 300 "queries are never truncated" \
  "$R" rerank --model "$W/bert.gguf" --candidates "$W/long-query-candidates.jsonl" --output "$W/x.run"
measure "LLM pointwise, 100,000-word query" 500 "queries are never truncated" \
  "$R" rerank --model "$W/qwen3.gguf" --candidates "$W/long-query-candidates.jsonl" --output "$W/x.run"
measure "LLM listwise, 100,000-word query" 500 "exceeds the context of" \
  "$R" rerank --model "$W/qwen3.gguf" --strategy listwise --candidates "$W/long-query-candidates.jsonl" --output "$W/x.run"

# A run of 10 million lines (1,000 queries x 10,000 documents, 374 MB).
measure "rerank eval of a 10,000,000-line run" 1000 ok "$R" eval -M 10000 "$W/10m.qrels" "$W/10m.run"
measure "rerank fuse of two 10,000,000-line runs" 2000 ok \
  "$R" fuse "$W/10m.run" "$W/10m.run" --output "$W/fused.run" --depth 10000 --hits 10000
[ "$(wc -l <"$W/fused.run")" = 10000000 ] || { echo "bench/limits.sh: the fused run lost lines" >&2; failures=$((failures + 1)); }

# 10,000 candidates for one query.
measure "cross-encoder, 10,000 candidates" 300 ok \
  "$R" rerank --model "$W/bert.gguf" --candidates "$W/10k-candidates.jsonl" --output "$W/x.run" --depth 10000
[ "$(wc -l <"$W/x.run")" = 10000 ] || { echo "bench/limits.sh: the reranked run lost candidates" >&2; failures=$((failures + 1)); }
measure "LLM pointwise (Qwen3-Reranker head), 10,000 candidates" 1000 ok \
  "$R" rerank --model "$W/qwen3-head.gguf" --candidates "$W/10k-candidates.jsonl" --output "$W/x.run" --depth 10000
measure "pairwise allpair, 10,000 candidates" 500 "1000 candidates); use variant heapsort or sliding" \
  "$R" rerank --model "$W/qwen3.gguf" --strategy pairwise --param variant=allpair \
  --candidates "$W/10k-candidates.jsonl" --output "$W/x.run" --depth 10000

[ "$failures" = 0 ] || { echo "bench/limits.sh: $failures case(s) outside their bounds" >&2; exit 1; }
echo "bench/limits.sh: every case within its bound"
