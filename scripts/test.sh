#!/usr/bin/env bash
# The full test suite: installs what is missing, checks the layering of the sources, builds once
# with AddressSanitizer + UndefinedBehaviorSanitizer, runs every C++ test there, then the end-to-end
# checks (nginx scale-out, client SDKs, parity against reference implementations: scripts/parity.sh)
# on the same sanitized rerank binary. Exits non-zero on any failure.
#   RERANK_SKIP_SANITIZE=1  build Release instead and run everything on it (no sanitizer build)
#   RERANK_SKIP_PARITY=1    skip the parity checks (they need the ~4 GB tooling virtualenv)
#   RERANK_SKIP_SCALE_OUT=1 skip the nginx scale-out test (tests/server/scale_out.sh, ~30 s)
#   RERANK_SKIP_CLIENTS=1   skip the client-compatibility tests (Cohere SDKs, engine bodies)
#   RERANK_SKIP_FUZZ=1      skip the brief fuzzing of every parser (scripts/fuzz.sh, clang build)
# One build, not two: on a 2-core AVX2 machine compiling the tests twice cost ~12 minutes of CI's
# 40, and a separate Release build of the binary for the end-to-end checks another ~9. The
# sanitized binary runs them too, so a leak or an error in the server's or the CLI's code fails
# them. llama.cpp and oneDNN are not instrumented, so the model work runs at about Release speed.
# The sanitizer build compiles at -O1 with line tables only (-g1): enough for ASan's reports to
# name files and lines, and about a quarter less compile time than -O2 -g.
set -euo pipefail
cd "$(dirname "$0")/.."
JOBS=$(nproc)
# Prints each stage with the time since the start, so CI logs show where the minutes go.
stage() { echo "== $* (at $((SECONDS / 60))m$((SECONDS % 60))s)"; }

stage "Real models (scripts/fetch_models.sh)"
models=$(scripts/fetch_models.sh) || { echo "scripts/test.sh: scripts/fetch_models.sh failed (see above)" >&2; exit 1; }
# The C++ tests that read real models find them here.
export RERANK_MODEL_SMOLLM2=$(echo "$models" | sed -n 's/^smollm2-135m=//p')
export RERANK_MODEL_GEMMA3=$(echo "$models" | sed -n 's/^gemma3-270m=//p')
export RERANK_MODEL_MINILM=$(echo "$models" | sed -n 's/^minilm-l6-embed=//p')  # the fault tests
echo "$models"

stage "Layering (scripts/check_layering.sh)"
scripts/check_layering.sh

if [ "${RERANK_SKIP_SANITIZE:-0}" != 1 ]; then
  BUILD=build-asan
  stage "ASan + UBSan build"
  # Everything, and the load generator of the scale-out test (a benchmark, built only by name here).
  BUILD_TARGETS="all bench_serve_load" scripts/build.sh "$BUILD" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DRERANK_SANITIZE=ON \
    "-DCMAKE_CXX_FLAGS_RELWITHDEBINFO=-O1 -g1 -DNDEBUG" "-DCMAKE_C_FLAGS_RELWITHDEBINFO=-O1 -g1 -DNDEBUG"
  export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1
else
  BUILD=build
  stage "Release build"
  scripts/build.sh "$BUILD" -DCMAKE_BUILD_TYPE=Release
fi
stage "Every C++ test ($BUILD)"
ctest --test-dir "$BUILD" --output-on-failure -j"$JOBS"

stage "Fault tests: kill -9, full disk, damaged and unreadable inputs, determinism (tests/faults/faults.sh --kills 5)"
tests/faults/faults.sh "$BUILD" --kills 5

if [ "${RERANK_SKIP_FUZZ:-0}" != 1 ]; then
  # Each harness replays its regression inputs and seeds, then fuzzes for 15 s with a fixed seed, so
  # that a failure here comes from the change under test (docs/reliability.md).
  stage "Fuzzing every parser briefly (scripts/fuzz.sh --seconds 15 --seed 1)"
  RERANK_BIN="$BUILD/rerank" scripts/fuzz.sh --seconds 15 --seed 1
fi

if [ "${RERANK_SKIP_SCALE_OUT:-0}" != 1 ]; then
  stage "Scale-out: nginx in front of two rerank serve replicas, one killed (tests/server/scale_out.sh)"
  tests/server/scale_out.sh "$BUILD"
fi

if [ "${RERANK_SKIP_CLIENTS:-0}" != 1 ]; then
  stage "Clients of rerank serve (scripts/client_tests.sh)"
  scripts/client_tests.sh "$BUILD"
fi

if [ "${RERANK_SKIP_PARITY:-0}" != 1 ]; then
  stage "Parity with reference implementations (tests/parity)"
  scripts/parity.sh "$BUILD"
fi
stage "All tests passed"
