#!/usr/bin/env bash
# The `rerank serve` load test (docs/BENCHMARKS.md, "Serving under load"): builds `rerank` and
# bench_serve_load, writes a random-weight BERT cross-encoder of MiniLM-L6's size, starts `rerank serve`
# on a free loopback port, and runs two equal passes of CLIENTS concurrent keep-alive clients for
# DURATION seconds each against POST /v1/rerank: the first warms up (allocator arenas, thread pools,
# batch sizes), the second is the one reported. Exits non-zero on any failed request, or when the
# server's RSS after the second pass exceeds its RSS after the first by more than MAX_GROWTH_MIB.
#   bench/serve_load.sh [BUILD_DIR] [--clients 64] [--duration 60] [--docs 20] [--words 60]
#                       [--shape minilm-l6|tiny] [--http-threads N] [--max-growth-mib 16]
# --http-threads defaults to --clients: rerank serve gives each connection a thread for as long as it
# is kept alive, so with fewer threads than clients the others queue for whole keep-alive turns
# (docs/BENCHMARKS.md shows both).
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/lib/serve.sh

BUILD=build
CLIENTS=64 DURATION=60 DOCS=20 WORDS=60 SHAPE=minilm-l6 HTTP_THREADS=
# Why 16 MiB: after an equal warm-up pass, what still grows is most likely (not profiled) buffers sized for the
# largest batch seen so far (bounded by --max-batch), not a per-request cost: measured growth over the
# second pass was 0.07-4.8 MiB with this model and 16-72 KiB with --shape tiny (docs/BENCHMARKS.md).
# A leak per request shows best with --shape tiny, which runs ~1,800 requests per 30 s pass.
MAX_GROWTH_MIB=16
if [ $# -gt 0 ] && [ "${1#--}" = "$1" ]; then
  BUILD=$1
  shift
fi
while [ $# -gt 0 ]; do
  [ $# -ge 2 ] || { echo "bench/serve_load.sh: $1 needs a value" >&2; exit 2; }
  case $1 in
    --clients) CLIENTS=$2 ;;
    --duration) DURATION=$2 ;;
    --docs) DOCS=$2 ;;
    --words) WORDS=$2 ;;
    --shape) SHAPE=$2 ;;
    --http-threads) HTTP_THREADS=$2 ;;
    --max-growth-mib) MAX_GROWTH_MIB=$2 ;;
    *) echo "bench/serve_load.sh: unknown option $1 (see the header of this script)" >&2; exit 2 ;;
  esac
  shift 2
done

HTTP_THREADS=${HTTP_THREADS:-$CLIENTS}

echo "== Build (rerank, bench_serve_load)"
BUILD_TARGETS="rerank bench_serve_load" scripts/build.sh "$BUILD" -DCMAKE_BUILD_TYPE=Release >/dev/null
RERANK=$BUILD/rerank LOAD=$BUILD/bench/bench_serve_load

CACHE=${RERANK_CACHE:-$HOME/.cache/rerank.cpp}/bench/serve_load
mkdir -p "$CACHE"
MODEL=$CACHE/bert-$SHAPE-f16.gguf
[ -f "$MODEL" ] || "$RERANK" make-test-model --arch bert --shape "$SHAPE" --type f16 --seed 1 --output "$MODEL"

WORK=$(mktemp -d)
SERVER_PID=
cleanup() {
  if [ -n "$SERVER_PID" ] && kill -0 "$SERVER_PID" 2>/dev/null; then
    kill -TERM "$SERVER_PID"
    wait "$SERVER_PID" || true
  fi
  rm -rf "$WORK"
}
trap cleanup EXIT

write_bodies "$WORK/bodies.jsonl" 256 "$DOCS" "$WORDS" 1
echo "== rerank serve: $MODEL (random weights: speed only, the scores mean nothing)"
SERVER_LOG=$CACHE/server.log  # kept after the run
start_replica "$RERANK" "$MODEL" "$SERVER_LOG" --http-threads "$HTTP_THREADS"
SERVER_PID=$REPLICA_PID
URL=http://127.0.0.1:$REPLICA_PORT
idle_rss=$(awk '/^VmRSS/ {print $2}' "/proc/$SERVER_PID/status")
echo "listening on $URL (--http-threads $HTTP_THREADS), pid $SERVER_PID, RSS after loading ${idle_rss} KiB"

status=0
for pass in warmup measured; do
  echo "== Pass: $pass ($CLIENTS clients, ${DURATION} s, $DOCS documents of $WORDS words per request)"
  "$LOAD" --url "$URL" --path /v1/rerank --bodies "$WORK/bodies.jsonl" --clients "$CLIENTS" \
    --duration "$DURATION" --pid "$SERVER_PID" --label "$pass" >"$WORK/$pass.out" || status=1
  head -n -1 "$WORK/$pass.out"
  if ! kill -0 "$SERVER_PID" 2>/dev/null; then
    wait "$SERVER_PID" && code=0 || code=$?
    echo "bench/serve_load.sh: FAILED: rerank serve died during the $pass pass (exit status $code); end of $SERVER_LOG:" >&2
    tail -n 20 "$SERVER_LOG" >&2
    exit 1
  fi
done

rss_warm=$(json_get "$WORK/warmup.out" memory_after.0.VmRSS_kib)
rss_end=$(json_get "$WORK/measured.out" memory_after.0.VmRSS_kib)
hwm_warm=$(json_get "$WORK/warmup.out" memory_after.0.VmHWM_kib)
hwm_end=$(json_get "$WORK/measured.out" memory_after.0.VmHWM_kib)
growth=$((rss_end - rss_warm))
echo "== Result"
echo "errors (both passes): $(($(json_get "$WORK/warmup.out" errors) + $(json_get "$WORK/measured.out" errors)))"
printf 'measured pass: %.1f requests/s, %.1f documents/s, latency ms p50 %.1f p95 %.1f p99 %.1f\n' \
  "$(json_get "$WORK/measured.out" requests_per_s)" "$(json_get "$WORK/measured.out" documents_per_s)" \
  "$(json_get "$WORK/measured.out" latency_ms.p50)" "$(json_get "$WORK/measured.out" latency_ms.p95)" \
  "$(json_get "$WORK/measured.out" latency_ms.p99)"
echo "RSS KiB: idle $idle_rss, after warm-up $rss_warm, after measured pass $rss_end (growth $growth KiB)"
echo "peak RSS (VmHWM) KiB: after warm-up $hwm_warm, after measured pass $hwm_end"
echo "JSON: $(tail -n 1 "$WORK/measured.out")"
if [ "$status" != 0 ]; then
  echo "bench/serve_load.sh: FAILED: some requests failed (see the errors above)" >&2
  exit 1
fi
if [ "$growth" -gt $((MAX_GROWTH_MIB * 1024)) ]; then
  echo "bench/serve_load.sh: FAILED: RSS grew by $growth KiB over an equal second pass (limit $MAX_GROWTH_MIB MiB)" >&2
  exit 1
fi
echo "OK: no failed request, RSS growth $growth KiB <= $MAX_GROWTH_MIB MiB"
