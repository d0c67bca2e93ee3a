#!/usr/bin/env bash
# Client-compatibility tests of `rerank serve` (tests/server/clients): starts the server on loopback
# with a random-weight BERT cross-encoder and calls it with the real Cohere SDKs (Python `cohere`,
# TypeScript `cohere-ai` on node) and with the bodies Elasticsearch and OpenSearch send, checking
# every score against the library's own (the CLI) for the same inputs.
#   scripts/client_tests.sh [BUILD_DIR]     BUILD_DIR/rerank must exist (default build/)
#   RERANK_CACHE=/path   cache root (default ~/.cache/rerank.cpp): the suite's small virtualenv and
#                        npm packages, keyed by hashes of their pinned manifests
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
SUITE="$ROOT/tests/server/clients"
BUILD=${1:-build}
STEP_PREFIX=client-tests
source "$ROOT/scripts/lib/steps.sh"
CACHE=${RERANK_CACHE:-$HOME/.cache/rerank.cpp}
case "$BUILD" in /*) ;; *) BUILD="$ROOT/$BUILD" ;; esac
BIN="$BUILD/rerank"
[ -x "$BIN" ] || die "no $BIN: build it first (BUILD_TARGETS=rerank scripts/build.sh ${1:-build})"

SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO=sudo
apt_install() {
  step "apt-get update" $SUDO apt-get update -qq
  step "install $*" env DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "$@"
}

# Python: a venv of its own (cohere, pytest), not the large tooling one.
PY=/usr/bin/python3
[ -x "$PY" ] || apt_install python3
"$PY" -c 'import venv, ensurepip' >/dev/null 2>&1 || apt_install python3-venv python3-pip
VENV="$CACHE/venv-clients-$(sha256sum "$SUITE/requirements.txt" | cut -c1-12)"
if [ ! -f "$VENV/.complete" ]; then
  rm -rf "$VENV"
  step "create virtualenv $VENV" "$PY" -m venv "$VENV"
  step "pip install the client suite's requirements (cohere, pytest)" \
    "$VENV/bin/pip" install --disable-pip-version-check -q -r "$SUITE/requirements.txt"
  step "check the virtualenv imports" "$VENV/bin/python" -c 'import cohere, pytest'
  touch "$VENV/.complete"
fi

# Node: the machine's node (>= 18, cohere-ai's floor); cohere-ai from the lock file, no install scripts.
command -v node >/dev/null && command -v npm >/dev/null || apt_install nodejs npm
node -e 'process.exit(Number(process.versions.node.split(".")[0]) >= 18 ? 0 : 1)' ||
  die "node $(node --version) is older than 18, which cohere-ai needs"
NODE_DIR="$CACHE/npm-clients-$(cat "$SUITE/package.json" "$SUITE/package-lock.json" | sha256sum | cut -c1-12)"
if [ ! -f "$NODE_DIR/.complete" ]; then
  rm -rf "$NODE_DIR" && mkdir -p "$NODE_DIR"
  cp "$SUITE/package.json" "$SUITE/package-lock.json" "$NODE_DIR/"
  step "npm ci cohere-ai into $NODE_DIR" \
    npm ci --prefix "$NODE_DIR" --ignore-scripts --no-audit --no-fund --loglevel=error
  touch "$NODE_DIR/.complete"
fi

TMP=$(mktemp -d)
SERVER_PID=""
cleanup() {
  if [ -n "$SERVER_PID" ] && kill -0 "$SERVER_PID" 2>/dev/null; then
    kill -TERM "$SERVER_PID" 2>/dev/null || true
    wait "$SERVER_PID" 2>/dev/null || true
  fi
  rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

MODEL="$TMP/tiny-bert.gguf"
THREADS=1  # the server and the reference CLI run alike; the model is tiny
MAX_DOCUMENTS=8
API_KEY="client-tests-$RANDOM$RANDOM"
step "write a random-weight BERT cross-encoder" \
  "$BIN" make-test-model --arch bert --shape tiny --seed 11 --type f32 --output "$MODEL"

# --port 0: the kernel picks a free port, read back from the server's first line.
"$BIN" serve --model "$MODEL" --port 0 --api-key "$API_KEY" --max-documents "$MAX_DOCUMENTS" \
  --threads "$THREADS" 2>"$TMP/serve.log" &
SERVER_PID=$!
PORT=""
for _ in $(seq 300); do
  PORT=$(sed -n 's|.*listening on http://127\.0\.0\.1:\([0-9]*\).*|\1|p' "$TMP/serve.log")
  [ -n "$PORT" ] && break
  kill -0 "$SERVER_PID" 2>/dev/null || { cat "$TMP/serve.log" >&2; die "rerank serve exited"; }
  sleep 0.1
done
[ -n "$PORT" ] || { cat "$TMP/serve.log" >&2; die "rerank serve did not start listening in 30 s"; }
echo "[$STEP_PREFIX] rerank serve on 127.0.0.1:$PORT (pid $SERVER_PID)" >&2

export RERANK_BIN="$BIN" RERANK_TEST_MODEL="$MODEL" RERANK_THREADS="$THREADS"
export RERANK_SERVER_URL="http://127.0.0.1:$PORT" RERANK_API_KEY="$API_KEY" RERANK_MAX_DOCUMENTS="$MAX_DOCUMENTS"
export COHERE_AI_DIR="$NODE_DIR/node_modules/cohere-ai"
failed=0
echo "== Cohere Python SDK and engine bodies (pytest)"
PYTHONDONTWRITEBYTECODE=1 "$VENV/bin/python" -m pytest -q -p no:cacheprovider "$SUITE" || failed=1
echo "== Cohere TypeScript SDK (node --test)"
node --test "$SUITE/cohere_ts.test.mjs" || failed=1
if [ "$failed" != 0 ]; then
  echo "[$STEP_PREFIX] failures above; the server's log:" >&2
  tail -n 20 "$TMP/serve.log" >&2
  exit 1
fi
