# Sourced (after steps.sh) by the benchmarks whose peers are Python programs: Debian's jemalloc,
# which PyTorch needs preloaded on these VMs (it loses up to 5x to first-touch page faults without
# it), and a virtualenv of pinned requirements, created once in the cache.

ensure_jemalloc() {
  local sudo=""
  [ "$(id -u)" -ne 0 ] && sudo=sudo
  if ! dpkg-query -W -f='${Status}' libjemalloc2 2>/dev/null | grep -q "install ok installed"; then
    step "apt-get update" $sudo apt-get update -qq
    step "install libjemalloc2" env DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends libjemalloc2
  fi
}

# make_venv NAME REQUIREMENTS KEY_EXTRA [AFTER_INSTALL]: sets VENV to $CACHE/venv-NAME-<key>, created
# from REQUIREMENTS unless already complete (the key hashes REQUIREMENTS, the Python version and
# KEY_EXTRA); AFTER_INSTALL, a function, runs before the venv is marked complete.
make_venv() {
  local name=$1 req=$2 extra=$3 after=${4:-}
  local py=/usr/bin/python3 key sudo=""
  [ "$(id -u)" -ne 0 ] && sudo=sudo
  key=$( (cat "$req"; "$py" --version; [ -z "$extra" ] || echo "$extra") | sha256sum | cut -c1-12)
  VENV="${RERANK_CACHE:-$HOME/.cache/rerank.cpp}/venv-$name-$key"
  [ -f "$VENV/.complete" ] && return 0
  if ! "$py" -c 'import venv, ensurepip' >/dev/null 2>&1; then
    step "apt-get update" $sudo apt-get update -qq
    step "install python3-venv" env DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends python3-venv
  fi
  rm -rf "$VENV"
  step "create virtualenv $VENV" "$py" -m venv "$VENV"
  step "pip install $req (a few minutes)" "$VENV/bin/pip" install --disable-pip-version-check -q -r "$req"
  [ -z "$after" ] || "$after"
  touch "$VENV/.complete"
}
