#!/usr/bin/env bash
# The full test suite: installs what is missing, builds, runs every test in a Release build and
# again under AddressSanitizer + UndefinedBehaviorSanitizer. Exits non-zero on any failure.
set -euo pipefail
cd "$(dirname "$0")/.."
JOBS=$(nproc)

echo "== Release build and tests"
scripts/build.sh build -DCMAKE_BUILD_TYPE=Release
ctest --test-dir build --output-on-failure -j"$JOBS"

if [ "${RERANK_SKIP_SANITIZE:-0}" != 1 ]; then
  echo "== ASan + UBSan build and tests"
  scripts/build.sh build-asan -DCMAKE_BUILD_TYPE=RelWithDebInfo -DRERANK_SANITIZE=ON
  ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1 \
    ctest --test-dir build-asan --output-on-failure -j"$JOBS" -LE no_sanitize
fi
