"""The three servers bench/serve_peers.py compares, started the same way: the command line, the route
the load generator posts to, and how to read each one's raw score (the cross-encoder's logit) for
the score check. Only the standard library is used."""
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

MODEL_NAME = "minilm-ce"  # the "model" of every request body; Infinity serves the model under it
JEMALLOC = "/usr/lib/x86_64-linux-gnu/libjemalloc.so.2"


def log(msg):
    print(f"[serve_peers] {msg}", file=sys.stderr, flush=True)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def post_json(url, body, timeout=120):
    req = urllib.request.Request(url, data=json.dumps(body).encode(), headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=timeout) as r:
        return json.loads(r.read())


class Server:
    """One peer. `command(port)` starts it; `logits(body)` is {document index: raw score}."""
    name = ""
    load_path = ""
    health_path = "/health"
    start_timeout = 120

    def __init__(self, args, model):
        self.args, self.model = args, model
        self.proc = None
        self.port = 0

    def env(self):
        return dict(os.environ)

    def url(self, path):
        return f"http://127.0.0.1:{self.port}{path}"

    def start(self, log_dir: Path):
        self.port = free_port()
        cmd = [str(c) for c in self.command(self.port)]
        self.log_file = log_dir / f"{self.name}-{self.port}.log"
        log(f"start {self.name}: {' '.join(cmd)} (log {self.log_file})")
        with open(self.log_file, "w") as out:
            self.proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT, env=self.env())
        deadline = time.time() + self.start_timeout
        while time.time() < deadline:
            if self.proc.poll() is not None:
                self.fail(f"exited with status {self.proc.returncode} while starting")
            try:
                with urllib.request.urlopen(self.url(self.health_path), timeout=5) as r:
                    if r.status == 200:
                        return
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                pass
            time.sleep(0.5)
        self.fail(f"not healthy after {self.start_timeout} s")

    def fail(self, why):
        tail = self.log_file.read_text(errors="replace").splitlines()[-25:]
        self.stop()
        raise SystemExit(f"[serve_peers] {self.name} {why}; last lines of {self.log_file}:\n  " + "\n  ".join(tail))

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc = None


class RerankCpp(Server):
    name = "rerank.cpp"
    load_path = "/v1/rerank"  # Cohere v1, the dialect the other two speak

    def command(self, port):
        extra = []
        for p in self.args.rerank_param:
            extra += ["--param", p]
        if self.args.rerank_max_batch:
            extra += ["--max-batch", self.args.rerank_max_batch]
        if self.args.rerank_http_threads:
            extra += ["--http-threads", self.args.rerank_http_threads]
        return [self.args.rerank, "serve", "--model", self.model, "--port", port, "--threads", self.args.threads,
                *extra]

    def logits(self, body):  # TEI's raw_scores: the strategy's own score, the logit
        out = post_json(self.url("/rerank"), {"query": body["query"], "texts": body["documents"], "raw_scores": True})
        return {r["index"]: r["score"] for r in out}


class LlamaServer(Server):
    name = "llama-server"
    load_path = "/v1/rerank"

    def command(self, port):
        n = self.args.llama_parallel
        return [self.args.llama_server, "-m", self.model, "--reranking", "--pooling", "rank", "--host", "127.0.0.1",
                "--port", port, "-t", self.args.threads, "-tb", self.args.threads, "-np", n, "-c", n * 512,
                "-b", 2048, "-ub", 512, "--no-webui"]

    def logits(self, body):  # its relevance_score is rank pooling's output as it is: the logit
        out = post_json(self.url("/v1/rerank"), {"query": body["query"], "documents": body["documents"]})
        return {r["index"]: r["relevance_score"] for r in out["results"]}


class Infinity(Server):
    name = "Infinity"
    load_path = "/rerank"
    start_timeout = 300  # imports torch and warms the model up

    def env(self):
        env = dict(os.environ)
        threads = str(self.args.threads)
        # PyTorch's allocator returns freed pages to the kernel and pays for first-touch page faults
        # again on every batch (up to 5x on these VMs); jemalloc that keeps its pages is the fair setup.
        env.update(LD_PRELOAD=JEMALLOC, MALLOC_CONF="dirty_decay_ms:-1,muzzy_decay_ms:-1,retain:true",
                   OMP_NUM_THREADS=threads, MKL_NUM_THREADS=threads, HF_HUB_OFFLINE="1",
                   TRANSFORMERS_OFFLINE="1", DO_NOT_TRACK="1", INFINITY_ANONYMOUS_USAGE_STATS="0",
                   TOKENIZERS_PARALLELISM="false")
        return env

    def command(self, port):
        return [self.args.infinity, "v2", "--model-id", self.model, "--served-model-name", MODEL_NAME,
                "--engine", "torch", "--device", "cpu", "--dtype", "float32", "--batch-size",
                self.args.infinity_batch, "--no-bettertransformer", "--host", "127.0.0.1", "--port", port]

    def logits(self, body):
        out = post_json(self.url("/rerank"), {"model": MODEL_NAME, "query": body["query"],
                                              "documents": body["documents"], "raw_scores": True})
        return {r["index"]: r["relevance_score"] for r in out["results"]}
