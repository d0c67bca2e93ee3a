#!/usr/bin/env bash
# Seed corpora of the fuzz harnesses (called by scripts/fuzz.sh): real files of the repository's
# data, converted by the rerank binary of the fuzz build to every format each reader takes, plus
# the index, vector and model files rerank writes.
#   scripts/lib/fuzz_seeds.sh BUILD_DIR SEED_DIR RERANK_BINARY
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
BUILD=$1 SEEDS=$2 R=$3
SHARED="$ROOT/../shared/datasets"
rm -rf "$SEEDS"
mkdir -p "$SEEDS"/{corpus,queries,qrels,run,candidates,index,vectors,gguf,http,llm_answers}
cd "$SEEDS"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# Documents, queries and judgements of data/ (the demo collection), small slices of them in each
# format, and the heads of the shared collections' files when they are present.
head -n 12 "$ROOT/data/corpus.jsonl" >corpus/beir.jsonl
"$R" convert --kind corpus --to trec corpus/beir.jsonl corpus/trec.sgml
cp "$ROOT/data/queries.jsonl" queries/beir.jsonl
"$R" convert --kind queries --to trec queries/beir.jsonl queries/topics.trec
"$R" convert --kind queries --to tsv queries/beir.jsonl queries/queries.tsv
cp "$ROOT/data/qrels/test.tsv" qrels/beir.tsv
"$R" convert --kind qrels --to trec qrels/beir.tsv qrels/qrels.trec
head -n 200 "$ROOT/tests/eval/data/trec_eval/qrels-302.test" >qrels/trec_eval.qrels
head -n 200 "$ROOT/tests/eval/data/trec_eval/results-302.test" >run/trec_eval.run
if [ -d "$SHARED/npl" ]; then
  awk '/<DOC>/{n++} n<=3' "$SHARED/npl/docs.trec" >corpus/npl.sgml
  awk '/<top>/{n++} n<=3' "$SHARED/npl/topics.trec" >queries/npl.topics
  head -n 50 "$SHARED/npl/qrels.txt" >qrels/npl.qrels
fi

# Runs and candidates made by searching data/ with BM25 (a TREC run, BEIR's JSON results object).
"$R" index --corpus "$ROOT/data/corpus.jsonl" --index "$work/flat" --flat >/dev/null 2>&1
"$R" search --index "$work/flat" --queries "$ROOT/data/queries.jsonl" --output "$work/bm25.run" --hits 5 >/dev/null 2>&1
cp "$work/bm25.run" run/bm25.run
awk '{print $1 "\t" $3 "\t" $5}' "$work/bm25.run" >run/beir.tsv
awk 'BEGIN{printf "{"} {if (q != $1) {printf "%s\"%s\": {", (q == "" ? "" : "}, "), $1; q = $1; sep = ""}
     printf "%s\"%s\": %s", sep, $3, $5; sep = ", "} END{print "}}"}' "$work/bm25.run" >run/beir.json
"$R" convert --kind run --to candidates --corpus "$ROOT/data/corpus.jsonl" --queries "$ROOT/data/queries.jsonl" \
  --depth 3 "$work/bm25.run" candidates/bm25.jsonl

# Index files (control byte 1: checksums mended, 0: as mutated), flat and multifield, of a few
# documents so that the fuzzer's inputs stay small.
"$R" index --corpus corpus/beir.jsonl --index "$work/small-flat" --flat >/dev/null 2>&1
"$R" index --corpus corpus/beir.jsonl --index "$work/small-fields" >/dev/null 2>&1
for layout in flat fields; do
  { printf '\001'; cat "$work/small-$layout/index.rrx"; } >"index/$layout-mended"
  { printf '\000'; cat "$work/small-$layout/index.rrx"; } >"index/$layout"
done

# Vector files and a graph, and tiny models: written by the harnesses themselves (see there).
RERANK_FUZZ_SEED_DIR="$SEEDS/vectors" "$BUILD/fuzz/fuzz_vectors" -runs=0 >/dev/null 2>&1
RERANK_FUZZ_SEED_DIR="$SEEDS/gguf" "$BUILD/fuzz/fuzz_gguf" -runs=0 >/dev/null 2>&1

# Request bodies of each dialect as clients send them (control byte: 0 TEI, 1 Cohere v1, 2 Cohere
# v2, 3 /search), from docs/server.md's examples.
body() { printf "\\$(printf '%03o' "$1")%s" "$2" >"http/$3"; }
body 0 '{"query": "why is mars red", "texts": ["Iron oxide dust covers Mars.", "Jupiter is large."], "raw_scores": false, "return_text": true, "truncate": true}' tei
body 1 '{"model": "m", "query": "why is mars red", "documents": ["Iron oxide dust.", {"text": "Jupiter", "title": "Gas giants"}], "top_n": 1, "return_documents": true, "max_chunks_per_doc": 2}' cohere-v1
body 2 '{"model": "m", "query": "why is mars red", "documents": ["Iron oxide dust.", "Jupiter."], "top_n": 2, "max_tokens_per_doc": 64}' cohere-v2
body 2 '{"model": "jina", "query": "mars", "documents": [{"text": "Iron oxide"}], "top_n": 1, "return_documents": false}' jina
body 3 '{"query": "why is mars red", "top_n": 3, "candidates": 20, "strategy": "pointwise", "strategy_options": {"batch": "4"}}' search

# Listwise answers (control byte: window size - 1; byte 0x01 separates the tokens offered to the
# decoding automaton).
printf '\004[3]\001 >\001 [1]\001 > [2\001] > [5] > \001[4]' >llm_answers/complete
printf '\011[10] > [2] > [2] > [7] and the rest' >llm_answers/repeated
printf '\002The ranking is [2] > [1] > [3].' >llm_answers/prose
