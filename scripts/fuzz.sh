#!/usr/bin/env bash
# Runs every libFuzzer harness (fuzz/fuzz_*.cpp, fuzz/README.md) under ASan + UBSan: builds them
# with clang into build-fuzz/, makes each one's seed corpus from the repository's data (data/,
# tests/eval/data/, and the shared collections when present), replays the saved regression inputs
# (fuzz/regressions/<harness>/), then fuzzes each harness for a set time, two at a time.
#
#   scripts/fuzz.sh [--seconds N | --runs N] [--build DIR] [harness...]
#                              (default: 60 s each, every harness; --runs: that many executions each)
#   --seed N                   libFuzzer's random seed (default: a new one each run); the test command
#                              fixes it, so that CI repeats the same mutations and fails only on a change
#   RERANK_BIN=path/to/rerank  make the seeds with this binary instead of building one in DIR
#
# A crash, a leak, an input slower than 1 s or above 2 GB of memory fails the run; libFuzzer's
# reproducer is left in DIR/artifacts/<harness>/. The working corpora grow in DIR/corpus/ across
# runs. Prints one line per harness: executions, executions per second, corpus size, outcome;
# the table also goes to DIR/fuzz-summary.tsv.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
STEP_PREFIX=fuzz
source scripts/lib/steps.sh

SECONDS_EACH=60 RUNS=0 SEED=0 BUILD=build-fuzz
HARNESSES=()
while [ $# -gt 0 ]; do
  case "$1" in
    --seconds) SECONDS_EACH=$2; shift 2 ;;
    --runs) RUNS=$2; SECONDS_EACH=0; shift 2 ;;
    --build) BUILD=$2; shift 2 ;;
    --seed) SEED=$2; shift 2 ;;
    -h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d'; exit 0 ;;
    -*) die "unknown option $1 (see scripts/fuzz.sh --help)" ;;
    *) HARNESSES+=("$1"); shift ;;
  esac
done
case "$BUILD" in /*) ;; *) BUILD="$ROOT/$BUILD" ;; esac

# --- clang with libFuzzer, and the build -------------------------------------------------------
if ! command -v clang++-14 >/dev/null ||
   ! ls /usr/lib/llvm-14/lib/clang/*/lib/linux/libclang_rt.fuzzer-x86_64.a >/dev/null 2>&1; then
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO=sudo
  step "apt-get update" $SUDO apt-get update -qq
  step "apt-get install clang-14 libclang-rt-14-dev" \
    env DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends clang-14 libclang-rt-14-dev
fi
echo "[fuzz] build the harnesses (clang, ASan + UBSan + libFuzzer) in $BUILD" >&2
# OpenMP: GCC's runtime (libgomp), the one llama.cpp and Debian's oneDNN were built with, so that one
# runtime serves the process. GCC's omp.h uses attributes clang 14 refuses, so clang gets the
# standard declarations of the functions rerank.cpp calls.
mkdir -p "$BUILD/omp-include"
cat >"$BUILD/omp-include/omp.h.new" <<'OMP'
#pragma once
#ifdef __cplusplus
extern "C" {
#endif
void omp_set_num_threads(int);
int omp_get_max_threads(void);
int omp_get_num_threads(void);
int omp_get_thread_num(void);
#ifdef __cplusplus
}
#endif
OMP
# Replaced only when changed, so that a rerun does not recompile what includes it.
cmp -s "$BUILD/omp-include/omp.h.new" "$BUILD/omp-include/omp.h" || mv "$BUILD/omp-include/omp.h.new" "$BUILD/omp-include/omp.h"
rm -f "$BUILD/omp-include/omp.h.new"
GOMP=$(gcc -print-file-name=libgomp.so)
cli_target=rerank
[ -z "${RERANK_BIN:-}" ] || cli_target=
BUILD_TARGETS="$cli_target $(cd fuzz && ls fuzz_*.cpp | sed 's/\.cpp$//' | tr '\n' ' ')" \
  scripts/build.sh "$BUILD" -DCMAKE_C_COMPILER=clang-14 -DCMAKE_CXX_COMPILER=clang++-14 -DRERANK_FUZZ=ON \
  -DRERANK_BUILD_TESTS=OFF -DRERANK_BUILD_BENCH=OFF -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  "-DCMAKE_CXX_FLAGS_RELWITHDEBINFO=-O1 -g1 -DNDEBUG" "-DCMAKE_C_FLAGS_RELWITHDEBINFO=-O1 -g1 -DNDEBUG" \
  "-DCMAKE_C_FLAGS=-isystem $BUILD/omp-include" "-DCMAKE_CXX_FLAGS=-isystem $BUILD/omp-include" \
  -DOpenMP_C_FLAGS=-fopenmp=libgomp -DOpenMP_CXX_FLAGS=-fopenmp=libgomp \
  -DOpenMP_C_LIB_NAMES=gomp -DOpenMP_CXX_LIB_NAMES=gomp "-DOpenMP_gomp_LIBRARY=$GOMP" >&2

if [ ${#HARNESSES[@]} -eq 0 ]; then
  mapfile -t HARNESSES < <(cd fuzz && ls fuzz_*.cpp | sed 's/^fuzz_//; s/\.cpp$//')
fi
for h in "${HARNESSES[@]}"; do [ -x "$BUILD/fuzz/fuzz_$h" ] || die "no harness fuzz_$h (fuzz/fuzz_$h.cpp)"; done

# --- seeds ------------------------------------------------------------------------------------
SEEDS="$BUILD/seeds"
RERANK_BIN=${RERANK_BIN:-$BUILD/rerank}
case "$RERANK_BIN" in /*) ;; *) RERANK_BIN="$ROOT/$RERANK_BIN" ;; esac
ASAN_OPTIONS=detect_leaks=0 scripts/lib/fuzz_seeds.sh "$BUILD" "$SEEDS" "$RERANK_BIN" >&2 ||
  die "making the seed corpora failed (scripts/lib/fuzz_seeds.sh)"

# --- runs -------------------------------------------------------------------------------------
# Largest input per harness: the index, vector and model seeds are a few hundred KB.
max_len() {
  case "$1" in index|vectors|gguf) echo 400000 ;; *) echo 16384 ;; esac
}
run_one() {
  local h=$1 out="$BUILD/logs/$1.log" corpus="$BUILD/corpus/$1" regressions="$ROOT/fuzz/regressions/$1"
  mkdir -p "$corpus" "$BUILD/artifacts/$h" "$BUILD/logs"
  : >"$out"
  if [ -d "$regressions" ] && [ -n "$(ls -A "$regressions")" ]; then
    "$BUILD/fuzz/fuzz_$h" -timeout=1 -rss_limit_mb=2048 "$regressions"/* >>"$out" 2>&1 || {
      echo "FAIL-regression"; return; }
  fi
  local budget=(-max_total_time="$SECONDS_EACH")
  [ "$RUNS" = 0 ] || budget=(-runs="$RUNS")
  if "$BUILD/fuzz/fuzz_$h" "$corpus" "$SEEDS/$h" "${budget[@]}" -seed="$SEED" -timeout=1 \
       -rss_limit_mb=2048 -max_len="$(max_len "$h")" -print_final_stats=1 \
       -artifact_prefix="$BUILD/artifacts/$h/" >>"$out" 2>&1; then
    echo ok
  else
    echo FAIL
  fi
}
export -f run_one max_len
export BUILD SEEDS SECONDS_EACH RUNS SEED ROOT
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1:symbolize=1 UBSAN_OPTIONS=print_stacktrace=1
if [ "$RUNS" = 0 ]; then
  echo "[fuzz] ${#HARNESSES[@]} harnesses, $SECONDS_EACH s each, two at a time" >&2
else
  echo "[fuzz] ${#HARNESSES[@]} harnesses, $RUNS executions each, two at a time" >&2
fi
printf '%s\n' "${HARNESSES[@]}" | xargs -P 2 -I{} bash -c 'echo "{} $(run_one {})"' >"$BUILD/outcomes.txt"

printf 'harness\texecutions\texec_per_s\tcorpus\toutcome\n' >"$BUILD/fuzz-summary.tsv"
failed=0
for h in "${HARNESSES[@]}"; do
  log="$BUILD/logs/$h.log"
  outcome=$(awk -v h="$h" '$1 == h {print $2}' "$BUILD/outcomes.txt")
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)
  rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -n 1)
  corpus=$(ls "$BUILD/corpus/$h" | wc -l)
  printf '%s\t%s\t%s\t%s\t%s\n' "$h" "${execs:-0}" "${rate:-0}" "$corpus" "$outcome" >>"$BUILD/fuzz-summary.tsv"
  if [ "$outcome" != ok ]; then
    failed=1
    echo "[fuzz] $h: $outcome; the end of $log:" >&2
    grep -v '^#[0-9]' "$log" | tail -n 40 | sed 's/^/    /' >&2
  fi
done
column -t -s $'\t' "$BUILD/fuzz-summary.tsv"
[ "$failed" = 0 ] || die "a harness failed (reproducers in $BUILD/artifacts/)"
