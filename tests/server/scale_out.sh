#!/usr/bin/env bash
# Scale-out test: nginx (scripts/deploy/nginx.conf.template, the config docs/deploy.md describes) in
# front of two `rerank serve` replicas of a tiny random-weight BERT, all on loopback. It runs
# bench_serve_load through nginx, SIGKILLs one replica mid-run, and checks that
#   - both replicas answered before the kill (nginx balanced them),
#   - no client request failed (nginx retries what was in flight on the survivor),
#   - the survivor answered every request after the kill,
#   - SIGTERM on the survivor, under load, lets it answer what it holds and exit 0.
#   tests/server/scale_out.sh [BUILD_DIR]     (about 25 s; installs nginx-light when nginx is missing)
#   SCALE_OUT_CLIENTS=32 SCALE_OUT_SECONDS=16  load shape
set -euo pipefail
cd "$(dirname "$0")/../.."
. scripts/lib/serve.sh
BUILD=${1:-build}
CLIENTS=${SCALE_OUT_CLIENTS:-32} SECONDS_OF_LOAD=${SCALE_OUT_SECONDS:-16}
KILL_AT=$((SECONDS_OF_LOAD / 2))
RERANK=$BUILD/rerank LOAD=$BUILD/bench/bench_serve_load
fail() {
  echo "scale_out: FAIL: $*" >&2
  exit 1
}

if [ ! -x "$RERANK" ] || [ ! -x "$LOAD" ]; then
  BUILD_TARGETS="rerank bench_serve_load" scripts/build.sh "$BUILD" -DCMAKE_BUILD_TYPE=Release >/dev/null
fi
if ! command -v nginx >/dev/null && [ ! -x /usr/sbin/nginx ]; then
  echo "scale_out: installing nginx-light (apt-get)"
  SUDO=
  [ "$(id -u)" = 0 ] || SUDO=sudo
  $SUDO apt-get update -qq >/dev/null
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq nginx-light >/dev/null ||
    fail "could not install nginx-light with apt-get"
fi
NGINX=$(command -v nginx || echo /usr/sbin/nginx)

WORK=$(mktemp -d)
chmod 755 "$WORK"  # nginx's workers may run as another user (nobody) when started by root
NGINX_PID=
cleanup() {
  # nginx's master stops its workers on SIGTERM (SIGKILL would leave them running); then every
  # process this script started in the background.
  if [ -n "$NGINX_PID" ]; then
    kill -TERM "$NGINX_PID" 2>/dev/null || true
    wait "$NGINX_PID" 2>/dev/null || true
  fi
  local pids
  pids=$(jobs -p)
  [ -z "$pids" ] || kill -KILL $pids 2>/dev/null || true
  wait 2>/dev/null || true
  rm -rf "$WORK"
}
trap cleanup EXIT

"$RERANK" make-test-model --arch bert --shape tiny --type f32 --seed 3 --output "$WORK/tiny.gguf" 2>/dev/null
write_bodies "$WORK/bodies.jsonl" 64 20 40 2
start_replica "$RERANK" "$WORK/tiny.gguf" "$WORK/a.log" --threads 1
A_PID=$REPLICA_PID A_PORT=$REPLICA_PORT
start_replica "$RERANK" "$WORK/tiny.gguf" "$WORK/b.log" --threads 1
B_PID=$REPLICA_PID B_PORT=$REPLICA_PORT

NGINX_PORT=$(free_port)
upstreams="server 127.0.0.1:$A_PORT max_fails=1 fail_timeout=5s; server 127.0.0.1:$B_PORT max_fails=1 fail_timeout=5s;"
sed -e "s|@PREFIX@|$WORK|g" -e "s|@LISTEN@|127.0.0.1:$NGINX_PORT|g" -e "s|@UPSTREAMS@|$upstreams|" \
  scripts/deploy/nginx.conf.template >"$WORK/nginx.conf"
"$NGINX" -p "$WORK" -c "$WORK/nginx.conf" -e "$WORK/error.log" &
NGINX_PID=$!
for _ in $(seq 1 100); do
  curl -fsS "http://127.0.0.1:$NGINX_PORT/health" >/dev/null 2>&1 && break
  kill -0 "$NGINX_PID" 2>/dev/null || fail "nginx exited at start: $(cat "$WORK/error.log")"
  sleep 0.1
done
echo "scale_out: replicas A :$A_PORT (pid $A_PID) and B :$B_PORT (pid $B_PID) behind nginx :$NGINX_PORT"

# The load through nginx, in the background; A is killed KILL_AT seconds into it.
"$LOAD" --url "http://127.0.0.1:$NGINX_PORT" --path /v1/rerank --bodies "$WORK/bodies.jsonl" \
  --clients "$CLIENTS" --duration "$SECONDS_OF_LOAD" --label "through nginx" >"$WORK/load.out" &
LOAD_PID=$!
sleep "$KILL_AT"
kill -KILL "$A_PID"
echo "scale_out: SIGKILL replica A at ~${KILL_AT} s"
wait "$LOAD_PID" || true
sleep 1.5  # the access log is flushed every second
head -n -1 "$WORK/load.out"

# Requests per replica, from nginx's access log (upstream= lists every replica tried).
log=$WORK/access.log
served_a=$(grep -c "upstream=127.0.0.1:$A_PORT " "$log" || true)
served_b=$(grep -c "upstream=127.0.0.1:$B_PORT " "$log" || true)
retried=$(grep -c 'upstream=[^ ]*, ' "$log" || true)
echo "scale_out: nginx log: $(wc -l <"$log") requests; answered by A alone $served_a, by B alone $served_b;" \
  "tried on A then B (retried by nginx) $retried"
errors=$(json_get "$WORK/load.out" errors)
ok=$(json_get "$WORK/load.out" ok)
[ "$served_a" -gt 0 ] && [ "$served_b" -gt 0 ] || fail "nginx did not send requests to both replicas"
[ "$errors" = 0 ] || fail "$errors client requests failed: $(json_get "$WORK/load.out" errors_by_kind)"
grep -v '^200 ' "$log" | head -3 | grep . && fail "nginx answered non-200 statuses (above)"
# Every whole second after the kill, the survivor answered requests.
timeline=$(json_get "$WORK/load.out" timeline)
python3 - "$timeline" "$KILL_AT" "$SECONDS_OF_LOAD" <<'EOF' || fail "a second after the kill with no answers"
import json, sys
timeline, kill_at, seconds = json.loads(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
after = timeline[kill_at + 1:seconds]
print("scale_out: answers per second after the kill:", [ok for ok, _ in after])
sys.exit(0 if after and all(ok > 0 for ok, _ in after) else 1)
EOF
kill -0 "$A_PID" 2>/dev/null && fail "replica A is still running after SIGKILL"
echo "scale_out: $ok requests answered, 0 failed; replica B kept serving"

# SIGTERM on the survivor while clients hit it directly: it answers what it holds and exits 0.
"$LOAD" --url "http://127.0.0.1:$B_PORT" --path /v1/rerank --bodies "$WORK/bodies.jsonl" \
  --clients 8 --duration 3 --label "B directly, SIGTERM at 1 s" >"$WORK/drain.out" &
DRAIN_LOAD_PID=$!
sleep 1
kill -TERM "$B_PID"
b_status=0
wait "$B_PID" || b_status=$?
wait "$DRAIN_LOAD_PID" || true
head -n -1 "$WORK/drain.out"
[ "$b_status" = 0 ] || fail "replica B exited with status $b_status after SIGTERM: $(tail -n 3 "$WORK/b.log")"
kinds=$(json_get "$WORK/drain.out" errors_by_kind)
# After the stop, new connections are refused (transport errors); no request may get an HTTP error.
echo "$kinds" | grep -q '"status ' && fail "requests got HTTP errors while B drained: $kinds"
[ "$(json_get "$WORK/drain.out" ok)" -gt 0 ] || fail "B answered nothing before SIGTERM"
grep -q "signal 15, finishing requests in flight" "$WORK/b.log" || fail "B did not log its drain"
echo "scale_out: SIGTERM on B: drained and exited 0 (errors after it stopped listening: $kinds)"
echo "scale_out: PASS"
