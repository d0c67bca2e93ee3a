#!/usr/bin/env bash
# The full test suite: installs what is missing, checks the layering of the sources, builds, runs
# every C++ test once under AddressSanitizer + UndefinedBehaviorSanitizer, and the end-to-end checks
# (nginx scale-out, client SDKs, parity against reference implementations: scripts/parity.sh) on a
# Release build of the rerank binary. Exits non-zero on any failure.
#   RERANK_SKIP_SANITIZE=1  run the C++ tests in the Release build instead (no sanitizer build)
#   RERANK_SKIP_PARITY=1    skip the parity checks (they need the ~4 GB tooling virtualenv)
#   RERANK_SKIP_SCALE_OUT=1 skip the nginx scale-out test (tests/server/scale_out.sh, ~30 s)
#   RERANK_SKIP_CLIENTS=1   skip the client-compatibility tests (Cohere SDKs, engine bodies)
# The C++ tests run once, in the sanitizer build, rather than in both builds: on a 2-core AVX2
# machine compiling them twice cost ~12 minutes of CI's 40. llama.cpp is not instrumented, so the
# tests on real models run there at about Release speed.
set -euo pipefail
cd "$(dirname "$0")/.."
JOBS=$(nproc)

echo "== Real models (scripts/fetch_models.sh)"
models=$(scripts/fetch_models.sh) || { echo "scripts/test.sh: scripts/fetch_models.sh failed (see above)" >&2; exit 1; }
# The C++ tests that read real models find them here.
export RERANK_MODEL_SMOLLM2=$(echo "$models" | sed -n 's/^smollm2-135m=//p')
export RERANK_MODEL_GEMMA3=$(echo "$models" | sed -n 's/^gemma3-270m=//p')
echo "$models"

echo "== Layering (scripts/check_layering.sh)"
scripts/check_layering.sh

if [ "${RERANK_SKIP_SANITIZE:-0}" != 1 ]; then
  echo "== ASan + UBSan build and every C++ test"
  scripts/build.sh build-asan -DCMAKE_BUILD_TYPE=RelWithDebInfo -DRERANK_SANITIZE=ON
  ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1 \
    ctest --test-dir build-asan --output-on-failure -j"$JOBS"
  echo "== Release build of the rerank binary"
  BUILD_TARGETS="rerank bench_serve_load" scripts/build.sh build -DCMAKE_BUILD_TYPE=Release
else
  echo "== Release build and every C++ test"
  scripts/build.sh build -DCMAKE_BUILD_TYPE=Release
  ctest --test-dir build --output-on-failure -j"$JOBS"
fi

if [ "${RERANK_SKIP_SCALE_OUT:-0}" != 1 ]; then
  echo "== Scale-out: nginx in front of two rerank serve replicas, one killed (tests/server/scale_out.sh)"
  tests/server/scale_out.sh build
fi

if [ "${RERANK_SKIP_CLIENTS:-0}" != 1 ]; then
  echo "== Clients of rerank serve (scripts/client_tests.sh)"
  scripts/client_tests.sh build
fi

if [ "${RERANK_SKIP_PARITY:-0}" != 1 ]; then
  echo "== Parity with reference implementations (tests/parity)"
  scripts/parity.sh build
fi
