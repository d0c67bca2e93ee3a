#!/usr/bin/env bash
# The full test suite: installs what is missing, checks the layering of the sources, builds, runs
# every test in a Release build, the parity checks against reference implementations
# (scripts/parity.sh), and the C++ tests again under AddressSanitizer + UndefinedBehaviorSanitizer.
# Exits non-zero on any failure.
#   RERANK_SKIP_SANITIZE=1  skip the sanitizer pass
#   RERANK_SKIP_PARITY=1    skip the parity checks (they need the ~4 GB tooling virtualenv)
#   RERANK_SKIP_SCALE_OUT=1 skip the nginx scale-out test (tests/server/scale_out.sh, ~30 s)
#   RERANK_SKIP_CLIENTS=1   skip the client-compatibility tests (Cohere SDKs, engine bodies)
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

echo "== Release build and tests"
scripts/build.sh build -DCMAKE_BUILD_TYPE=Release
ctest --test-dir build --output-on-failure -j"$JOBS"

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

if [ "${RERANK_SKIP_SANITIZE:-0}" != 1 ]; then
  echo "== ASan + UBSan build and tests"
  scripts/build.sh build-asan -DCMAKE_BUILD_TYPE=RelWithDebInfo -DRERANK_SANITIZE=ON
  ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1 \
    ctest --test-dir build-asan --output-on-failure -j"$JOBS" -LE no_sanitize -E '^SmolLm2\.'
  # (SmolLm2.*: minutes of llama.cpp arithmetic, which ASan does not instrument; the runtime paths
  # it takes are those of the tiny-model tests, which do run here.)
fi
