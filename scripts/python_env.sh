#!/usr/bin/env bash
# Creates (once) the Python virtualenv used by tooling only: model conversion and the reference
# implementations of the parity checks. Never needed to run rerank.cpp itself.
# Prints one line: PYTHON=/abs/path/to/venv/bin/python
#   RERANK_CACHE=/path   cache root (default ~/.cache/rerank.cpp)
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
CACHE=${RERANK_CACHE:-$HOME/.cache/rerank.cpp}
STEP_PREFIX=python-env
source "$HERE/lib/steps.sh"

REQ="$HERE/python/requirements.txt"
apply_setup "$HERE/bootstrap.sh"  # LLAMA_SOURCE: its gguf-py is installed into the venv
key=$( (cat "$REQ"; echo "$LLAMA_SOURCE") | sha256sum | cut -c1-12)
VENV="$CACHE/venv-$key"
if [ ! -f "$VENV/.complete" ]; then
  PY=/usr/bin/python3
  if ! "$PY" -c 'import venv, ensurepip' >/dev/null 2>&1; then
    SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO=sudo
    step "apt-get update" $SUDO apt-get update -qq
    step "install python3-venv" env DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends python3-venv python3-pip
  fi
  rm -rf "$VENV"
  step "create virtualenv $VENV" "$PY" -m venv "$VENV"
  step "pip install tooling requirements (torch, transformers: ~4 GB, about a minute)" \
    "$VENV/bin/pip" install --disable-pip-version-check -q -r "$REQ"
  step "pip install gguf-py from $LLAMA_SOURCE" \
    "$VENV/bin/pip" install --disable-pip-version-check -q --no-deps "$LLAMA_SOURCE/gguf-py"
  step "pip install gguf-py dependencies" \
    "$VENV/bin/pip" install --disable-pip-version-check -q "tqdm>=4.27" "pyyaml>=5.1" "requests>=2.25"
  step "check the virtualenv imports" "$VENV/bin/python" -c 'import torch, transformers, sentence_transformers, gguf, safetensors'
  touch "$VENV/.complete"
fi
echo "PYTHON=$VENV/bin/python"
