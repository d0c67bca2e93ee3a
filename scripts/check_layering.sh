#!/usr/bin/env bash
# Checks the layering of docs/ARCHITECTURE.md: llama.h is included only under src/model, and no stage
# includes a header of a stage at or above its own level (other than its own). Stages, lowest first:
#   util (0) < io (1) < eval, index, model (2, peers: none includes another) < rerankers, dense (3)
#   < pipeline (4) < server (5) < cli (6)
# Public headers are included as "rerank/x.h" (include/rerank/), private ones as "<stage>/x.h"
# (src/<stage>/) and only by their own stage: a "rerank/" include that names a file under src/, or
# another stage's private header, is an error.
# Every public header in include/rerank/ is assigned to a stage below; a header missing from the table
# is an error (add it where it belongs). Exits 1 listing every violation.
set -euo pipefail
cd "$(dirname "$0")/.."
declare -A LEVEL=([util]=0 [io]=1 [eval]=2 [index]=2 [model]=2 [rerankers]=3 [dense]=3 [pipeline]=4 [server]=5 [cli]=6)
declare -A PUBLIC=(
  [error.h]=util [types.h]=util [utf8.h]=util [version.h]=util
  [io.h]=io [io_writers.h]=io
  [eval.h]=eval
  [analyzer.h]=index [bm25.h]=index [first_stage.h]=index [fusion.h]=index [index.h]=index
  [run_first_stage.h]=index [search.h]=index [vectors.h]=index [dense.h]=dense
  [cross_encoder.h]=model [decoding_constraint.h]=model [embedding_model.h]=model
  [language_model.h]=model [model.h]=model [test_models.h]=model [tokenizer.h]=model
  [llm_backend.h]=rerankers [reranker.h]=rerankers [strategy_pool.h]=rerankers [cost.h]=util
  [pipeline.h]=pipeline [server.h]=server [chat_format.h]=model [parallel.h]=util [options.h]=util [atomic_file.h]=io
)
fail=0
violation() { echo "layering: $*" >&2; fail=1; }

# llama.h (and ggml's headers) only under src/model.
while IFS= read -r f; do
  case "$f" in src/model/*) ;; *) violation "$f includes llama.cpp's headers (only src/model may)";; esac
done < <(grep -rlE '#include [<"](llama|ggml|gguf)[a-z-]*\.h[>"]' src include || true)

stage_of_header() {  # "rerank/x.h" or "<stage>/x.h" -> stage ("" when not ours)
  local h=$1 dir=${1%%/*} base=${1#*/}
  if [ "$dir" = rerank ]; then
    if [ -f "include/rerank/$base" ]; then echo "${PUBLIC[$base]:-unmapped}"; return; fi
    [ -f "src/rerankers/$base" ] && echo rerank && return
    echo missing; return
  fi
  [ -n "${LEVEL[$dir]:-}" ] && echo "private:$dir" || echo ""
}

check_file() {  # check_file FILE STAGE
  local file=$1 stage=$2 inc target
  while IFS= read -r inc; do
    target=$(stage_of_header "$inc")
    case "$target" in
      "") continue ;;
      private:*)  # a stage's private header: for that stage (and its tests) alone
        [ "${target#private:}" = "$stage" ] || violation "$file ($stage) includes $inc, private to ${target#private:}"
        continue ;;
      unmapped) violation "include/rerank/${inc#*/} has no stage in scripts/check_layering.sh's table"; continue ;;
      missing)  # a private header reached through the public prefix, or not ours at all
        compgen -G "src/*/${inc#*/}" >/dev/null && violation "$file includes private ${inc#*/} as public $inc"
        continue ;;
    esac
    [ "$target" = "$stage" ] && continue
    if [ "${LEVEL[$target]}" -ge "${LEVEL[$stage]}" ]; then
      violation "$file ($stage) includes $inc ($target)"
    fi
  done < <(sed -nE 's/^#include "([a-z_]+\/[a-z_0-9]+\.h)".*/\1/p' "$file")
}

for dir in src/*/; do
  stage=$(basename "$dir")
  [ -n "${LEVEL[$stage]:-}" ] || { violation "src/$stage is not a stage of scripts/check_layering.sh"; continue; }
  for f in "$dir"*.cpp "$dir"*.h; do [ -f "$f" ] && check_file "$f" "$stage"; done
done
for f in include/rerank/*.h; do
  base=$(basename "$f")
  stage=${PUBLIC[$base]:-}
  [ -n "$stage" ] || { violation "$f has no stage in scripts/check_layering.sh's table"; continue; }
  check_file "$f" "$stage"
done
[ "$fail" = 0 ] && echo "layering: ok"
exit "$fail"
