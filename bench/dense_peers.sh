#!/usr/bin/env bash
# Dense search against FAISS, one command: rerank.cpp's exact search and HNSW graph (bench_dense_search,
# the public API of include/rerank/vectors.h) against FAISS's own flat and HNSW indexes (IndexFlatIP,
# IndexHNSWFlat; IndexScalarQuantizer and IndexHNSWSQ for the f16 and int8 precisions) on the same
# synthetic clustered collection of unit vectors and the same queries: queries per second and
# recall@10 at matched recall, build times, file sizes and memory. See bench/dense_peers.py.
#
#   bench/dense_peers.sh [BUILD_DIR] [options of bench/dense_peers.py]
#   bench/dense_peers.sh                                        # 1,000,000 x 384, 1,000 queries, f32 f16 int8
#   bench/dense_peers.sh build --n 100000 --queries 200          # a quick check (~3 minutes)
#   bench/dense_peers.sh build --precisions f32                  # the issue's target only
#   bench/dense_peers.sh build --help                            # every option
#
# The first run creates the benchmark's own virtualenv (bench/dense_peers_requirements.txt: faiss-cpu
# and NumPy, ~100 MB), the collection and its exact ground truth (1M x 384: 1.5 GB, ~2 minutes), and
# both libraries' HNSW graphs (1M at efConstruction 100 on 2 threads: 5-15 minutes each per precision);
# later runs reuse them (--rebuild makes the indexes again). Everything lives under
# ~/.cache/rerank.cpp/bench/dense-peers (RERANK_CACHE). bench_dense_search is built when missing
# (DENSE_PEERS_BUILD=1 rebuilds it always, e.g. after a library change).
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD=build
if [ $# -gt 0 ] && [[ "$1" != -* ]]; then BUILD=$1; shift; fi
CACHE=${RERANK_CACHE:-$HOME/.cache/rerank.cpp}
STEP_PREFIX=dense_peers
source scripts/lib/steps.sh
for a in "$@"; do  # --help needs nothing built
  if [ "$a" = -h ] || [ "$a" = --help ]; then exec python3 bench/dense_peers.py --help; fi
done
[ -f bench/dense_peers_requirements.txt ] || die "bench/dense_peers_requirements.txt is missing"

BENCH="$BUILD/bench/bench_dense_search"
if [ ! -x "$BENCH" ] || [ "${DENSE_PEERS_BUILD:-0}" = 1 ]; then
  step "build bench_dense_search in $BUILD (scripts/build.sh)" env BUILD_TARGETS=bench_dense_search scripts/build.sh "$BUILD"
fi
[ -x "$BENCH" ] || die "the build finished but $BENCH is not there (is bench/dense_search.cpp in bench/CMakeLists.txt's glob?)"

source scripts/lib/bench_env.sh
check_faiss() { step "check the virtualenv imports faiss and numpy" "$VENV/bin/python" -c 'import faiss, numpy; faiss.IndexHNSWFlat'; }
make_venv dense-peers bench/dense_peers_requirements.txt "" check_faiss
PYTHON="$VENV/bin/python"
[ -x "$PYTHON" ] || die "virtualenv python missing at $PYTHON"

exec "$PYTHON" bench/dense_peers.py --bench "$BENCH" --cache "$CACHE/bench/dense-peers" "$@"
