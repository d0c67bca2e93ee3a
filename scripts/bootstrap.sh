#!/usr/bin/env bash
# Installs everything rerank.cpp needs on Debian 12 and builds llama.cpp once into a cache.
# Idempotent: a second run checks and returns in a few seconds.
#
#   LLAMA_CPP_DIR=/path/to/llama.cpp  build against your own checkout instead of the npm bundle
#   RERANK_CACHE=/path                cache root (default ~/.cache/rerank.cpp)
#   RERANK_LLAMA_SERVER=1             also build llama-server (benchmarks only; ~8 min)
#
# Prints nothing on stdout but the final line "LLAMA_PREFIX=... LLAMA_SOURCE=..." so callers can eval it.
set -euo pipefail

NODE_LLAMA_CPP_VERSION=3.22.1
CACHE=${RERANK_CACHE:-$HOME/.cache/rerank.cpp}
log() { echo "[bootstrap] $*" >&2; }
# Every download and build runs as a step: its output goes to a log file, and a failure stops the
# script naming the step, its command and the end of its log (scripts/lib/steps.sh).
STEP_PREFIX=bootstrap
source "$(dirname "${BASH_SOURCE[0]}")/lib/steps.sh"

# --- Debian packages -------------------------------------------------------
PACKAGES=(build-essential cmake ninja-build git pkg-config
          libgtest-dev libgmock-dev libbenchmark-dev nlohmann-json3-dev libcli11-dev
          libcpp-httplib-dev libicu-dev libxapian-dev libssl-dev zlib1g-dev libopenblas-dev libdnnl-dev curl)
missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
# npm comes with nodejs from some repositories (which then conflicts with Debian's npm).
command -v npm >/dev/null 2>&1 || missing+=(nodejs npm)
if [ ${#missing[@]} -gt 0 ]; then
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO=sudo
  export DEBIAN_FRONTEND=noninteractive
  step "apt-get update" $SUDO apt-get update -qq
  step "apt-get install ${missing[*]}" $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

# --- llama.cpp source --------------------------------------------------------
mkdir -p "$CACHE"
if [ -n "${LLAMA_CPP_DIR:-}" ]; then
  SRC=$(cd "$LLAMA_CPP_DIR" && pwd)
  [ -f "$SRC/include/llama.h" ] || { log "LLAMA_CPP_DIR=$SRC has no include/llama.h"; exit 1; }
  COMMIT=$(git -C "$SRC" rev-parse HEAD 2>/dev/null || echo "local-$(echo "$SRC" | md5sum | cut -c1-12)")
else
  SRC="$CACHE/llama-src-npm-$NODE_LLAMA_CPP_VERSION"
  if [ ! -f "$SRC/.complete" ]; then
    tmp=$(mktemp -d)
    trap 'rm -rf "$tmp"' EXIT
    step "npm pack node-llama-cpp@$NODE_LLAMA_CPP_VERSION (llama.cpp source)" \
      npm pack --pack-destination "$tmp" "node-llama-cpp@$NODE_LLAMA_CPP_VERSION"
    tgz=$(ls "$tmp"/node-llama-cpp-*.tgz 2>/dev/null | head -n 1)
    [ -n "$tgz" ] || die "npm pack node-llama-cpp@$NODE_LLAMA_CPP_VERSION left no .tgz in $tmp"
    step "unpack llama/gitRelease.bundle" tar -xzf "$tgz" -C "$tmp" package/llama/gitRelease.bundle
    rm -rf "$SRC"
    step "git clone the llama.cpp bundle" git clone -q "$tmp/package/llama/gitRelease.bundle" "$SRC"
    touch "$SRC/.complete"
  fi
  COMMIT=$(git -C "$SRC" rev-parse HEAD)
fi

# --- compiler fix for llama.cpp's AMX kernels ---------------------------------------
# GCC 12's <amxtileintrin.h> tells the optimiser that ldtilecfg reads 8 bytes and that tileloadd
# reads no memory, so GCC drops the stores that build llama.cpp's AMX tile configuration and every
# AMX matmul faults (the crash reported as ggml-org/llama.cpp#20824). Our corrected header goes
# first on llama.cpp's include path; the marker file tells rerank.cpp's build that AMX is safe.
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
LLAMA_FLAGS=()
amx_header=$(${CXX:-c++} -print-file-name=include/amxtileintrin.h 2>/dev/null || true)
if [ -f "$amx_header" ] && grep -q 'const void \*\*)__config' "$amx_header"; then
  LLAMA_FLAGS=("-DCMAKE_C_FLAGS=-I$HERE/gcc-amx-fix" "-DCMAKE_CXX_FLAGS=-I$HERE/gcc-amx-fix")
fi
# Bumped whenever the recipe below changes, so caches built by an older recipe are rebuilt.
RECIPE=r2

# --- llama.cpp libraries (llama + ggml, CPU, Release) ---------------------------
PREFIX="$CACHE/llama-${COMMIT:0:12}-$RECIPE"
if [ ! -f "$PREFIX/.complete" ]; then
  log "building llama.cpp ${COMMIT:0:12} libraries into $PREFIX (about 3 minutes)"
  B="$CACHE/build-llama-${COMMIT:0:12}"
  rm -rf "$B" "$PREFIX"
  step "configure llama.cpp" cmake -S "$SRC" -B "$B" -G Ninja -DCMAKE_BUILD_TYPE=Release -DBUILD_SHARED_LIBS=OFF \
        -DCMAKE_POSITION_INDEPENDENT_CODE=ON -DGGML_NATIVE=ON -DGGML_OPENMP=ON \
        -DLLAMA_BUILD_COMMON=OFF -DLLAMA_BUILD_TOOLS=OFF -DLLAMA_BUILD_EXAMPLES=OFF \
        -DLLAMA_BUILD_TESTS=OFF -DLLAMA_BUILD_SERVER=OFF -DLLAMA_BUILD_APP=OFF \
        -DLLAMA_CURL=OFF -DCMAKE_INSTALL_PREFIX="$PREFIX" "${LLAMA_FLAGS[@]}"
  step "build llama.cpp (llama, ggml)" cmake --build "$B" -j"$(nproc)"
  step "install llama.cpp into $PREFIX" cmake --install "$B"
  echo "$SRC" > "$PREFIX/source-dir"
  touch "$PREFIX/amx-safe"
  rm -rf "$B"
  touch "$PREFIX/.complete"
fi

# --- llama-server (benchmarks only) --------------------------------------------
if [ "${RERANK_LLAMA_SERVER:-0}" = 1 ]; then
  SPREFIX="$CACHE/llama-server-${COMMIT:0:12}-$RECIPE"
  if [ ! -f "$SPREFIX/.complete" ]; then
    log "building llama-server ${COMMIT:0:12} (about 8 minutes, benchmarks only)"
    B="$CACHE/build-server-${COMMIT:0:12}"
    rm -rf "$B"
    step "configure llama-server" cmake -S "$SRC" -B "$B" -G Ninja -DCMAKE_BUILD_TYPE=Release -DGGML_NATIVE=ON \
          -DBUILD_SHARED_LIBS=OFF -DLLAMA_BUILD_TESTS=OFF -DLLAMA_BUILD_EXAMPLES=OFF -DLLAMA_CURL=OFF \
          -DLLAMA_BUILD_SERVER=ON -DLLAMA_BUILD_TOOLS=ON "${LLAMA_FLAGS[@]}"
    step "build llama-server" cmake --build "$B" -j"$(nproc)" --target llama-server
    mkdir -p "$SPREFIX/bin"
    cp "$B"/bin/llama-server "$SPREFIX/bin/"
    rm -rf "$B"
    touch "$SPREFIX/.complete"
  fi
fi

echo "LLAMA_PREFIX=$PREFIX LLAMA_SOURCE=$SRC"
