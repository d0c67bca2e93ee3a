# Sourced by bench/serve_load.sh and tests/server/scale_out.sh: start `rerank serve` replicas on free
# loopback ports, write request bodies, read bench_serve_load's JSON line.

# start_replica RERANK MODEL LOG [serve options...]: starts `rerank serve` on a free port in the
# background and waits until /health answers; sets REPLICA_PID and REPLICA_PORT.
start_replica() {
  local rerank=$1 model=$2 log=$3
  shift 3
  : >"$log"  # exists before the first read below, whenever the background process opens it
  "$rerank" serve --model "$model" --host 127.0.0.1 --port 0 "$@" >"$log" 2>&1 &
  REPLICA_PID=$!
  REPLICA_PORT=
  local i
  for i in $(seq 1 600); do  # up to 60 s: a model loads first
    REPLICA_PORT=$(sed -n 's|.*listening on http://[^:]*:\([0-9]*\).*|\1|p' "$log")
    if [ -n "$REPLICA_PORT" ] && curl -fsS --max-time 5 "http://127.0.0.1:$REPLICA_PORT/health" >/dev/null 2>&1; then
      return 0
    fi
    if ! kill -0 "$REPLICA_PID" 2>/dev/null; then
      echo "rerank serve exited while starting; its log ($log):" >&2
      tail -n 20 "$log" >&2
      return 1
    fi
    sleep 0.1
  done
  kill -KILL "$REPLICA_PID" 2>/dev/null || true
  echo "rerank serve did not answer /health within 60 s (log: $log)" >&2
  return 1
}

# free_port: a TCP port nobody listens on now (for servers that cannot report a port 0 binding).
free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# write_bodies FILE COUNT DOCS WORDS SEED: COUNT different Cohere /v1/rerank bodies (JSON Lines), each
# a query and DOCS documents of WORDS words drawn from English words with a fixed seed, so that runs
# compare and consecutive requests differ.
write_bodies() {
  python3 - "$@" <<'EOF'
import json, random, sys
path, count, docs, words, seed = sys.argv[1], *map(int, sys.argv[2:])
vocab = ("the of and to in is was for on that with as by at from his her an were are which this be "
         "river city bridge music energy protein cell history market water court school language "
         "system network theory climate species disease treatment study data model results patients "
         "growth war law trade power light engine film novel author team season election policy "
         "bank price soil forest island ocean mountain temperature pressure gene virus vaccine dose "
         "trial risk effect level rate increase decrease method analysis sample survey report").split()
rng = random.Random(seed)
with open(path, "w") as out:
    for _ in range(count):
        query = " ".join(rng.choice(vocab) for _ in range(8))
        documents = [" ".join(rng.choice(vocab) for _ in range(words)) for _ in range(docs)]
        out.write(json.dumps({"model": "default", "query": query, "documents": documents}) + "\n")
EOF
}

# json_get FILE PATH: a value from the JSON object on the last line of FILE; PATH is dot-separated
# keys and list indexes (latency_ms.p50, memory_after.0.VmRSS_kib).
json_get() {
  python3 - "$@" <<'EOF'
import json, sys
value = json.loads(open(sys.argv[1]).read().splitlines()[-1])
for key in sys.argv[2].split("."):
    value = value[int(key)] if isinstance(value, list) else value[key]
print(json.dumps(value) if isinstance(value, (dict, list)) else value)
EOF
}
