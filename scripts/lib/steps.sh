# Sourced by the set-up scripts: each step runs with its output in a log file, and a failure stops
# the script with the step's name, its command and the end of its log, instead of scrolling by.
#   step "what it does" command args...
STEP_LOG_DIR=${STEP_LOG_DIR:-${RERANK_CACHE:-$HOME/.cache/rerank.cpp}/logs}
mkdir -p "$STEP_LOG_DIR"

step() {
  local what=$1; shift
  local log
  log="$STEP_LOG_DIR/$(date +%Y%m%d-%H%M%S)-$(echo "$what" | tr -c 'A-Za-z0-9' '-' | cut -c1-40).log"
  echo "[${STEP_PREFIX:-setup}] $what" >&2
  if ! "$@" >"$log" 2>&1; then
    {
      echo "[${STEP_PREFIX:-setup}] FAILED: $what"
      echo "  command: $*"
      echo "  last lines of $log:"
      tail -n 25 "$log" | sed 's/^/    /'
    } >&2
    exit 1
  fi
}

die() {
  echo "[${STEP_PREFIX:-setup}] error: $*" >&2
  exit 1
}

# sha256 of a file must equal the pinned value.
check_sha256() {
  local file=$1 want=$2 got
  got=$(sha256sum "$file" | cut -d' ' -f1)
  [ "$got" = "$want" ] || die "sha256 mismatch for $file: expected $want, got $got (a changed or corrupted download)"
}

# Runs a set-up script that prints shell assignments (scripts/bootstrap.sh, scripts/python_env.sh)
# and applies them. A failure stops the caller: `eval "$(script)"` alone would eval nothing and go on.
#   apply_setup [VAR=value...] script [args...]
apply_setup() {
  local out
  out=$(env "$@") || die "$* failed (see its messages above)"
  eval "$out"
}
