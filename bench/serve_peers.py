#!/usr/bin/env python3
"""Server benchmark against peers: `rerank serve`, llama.cpp's `llama-server --reranking` and
Infinity (infinity-emb, PyTorch on CPU) on the same cross-encoder and the same request bodies, one
server up at a time, at several concurrencies. Prints documents/s and latency percentiles for each,
the ratios rerank.cpp / llama-server and rerank.cpp / Infinity, and the agreement of their scores.

Run it through bench/serve_peers.sh, which builds and installs everything first; see
docs/BENCHMARKS.md ("Server vs peers"). Only the standard library is used.
"""
import argparse
import json
import math
import random
import subprocess
import sys
import time
from pathlib import Path

from serve_peers_servers import MODEL_NAME, Infinity, LlamaServer, RerankCpp, log

PEERS = {"rerank.cpp": RerankCpp, "llama-server": LlamaServer, "Infinity": Infinity}


def read_jsonl(path):
    with open(path, encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def make_bodies(scifact: Path, n_queries: int, n_docs: int, words: int, seed: int):
    """SciFact test queries in qrels order, each with its judged documents and seeded random others
    (shuffled), every document "title. text" cut to its first `words` words. Reranking cost does not
    depend on which documents they are; real text gives real token counts."""
    corpus = read_jsonl(scifact / "corpus.jsonl")
    by_id = {d["_id"]: d for d in corpus}
    queries = {q["_id"]: q["text"] for q in read_jsonl(scifact / "queries.jsonl")}
    judged: dict[str, list[str]] = {}
    rows = (scifact / "qrels" / "test.tsv").read_text(encoding="utf-8").splitlines()[1:]  # after the header
    for qid, did, _ in (r.split("\t") for r in rows):
        judged.setdefault(qid, []).append(did)
    rng = random.Random(seed)
    bodies = []
    for qid in list(judged)[:n_queries]:
        ids = [d for d in judged[qid] if d in by_id][:n_docs]
        while len(ids) < n_docs:
            d = rng.choice(corpus)["_id"]
            if d not in ids:
                ids.append(d)
        rng.shuffle(ids)
        docs = [" ".join(f"{by_id[d]['title']}. {by_id[d]['text']}".split()[:words]) for d in ids]
        bodies.append({"model": MODEL_NAME, "query": queries[qid], "documents": docs, "return_documents": False})
    return bodies


def loadavg():
    with open("/proc/loadavg") as f:
        return float(f.read().split()[0])


def run_load(args, server, bodies_file, clients, label, duration=None, requests=None):
    # A long timeout: a request given up on stays queued in the server and would slow the next point.
    cmd = [args.load, "--url", f"http://127.0.0.1:{server.port}", "--path", server.load_path, "--bodies",
           bodies_file, "--clients", clients, "--label", label, "--pid", server.proc.pid, "--timeout", 900]
    cmd += ["--requests", requests] if requests else ["--duration", duration]
    load_before = loadavg()
    out = subprocess.run([str(c) for c in cmd], capture_output=True, text=True)
    if out.returncode == 2 or not out.stdout.strip():
        raise SystemExit(f"[serve_peers] load generator failed ({out.returncode}):\n{out.stderr[-2000:]}")
    result = json.loads(out.stdout.strip().splitlines()[-1])
    result["load_before"], result["load_after"] = load_before, loadavg()
    return result


def measure(args, peer, model, bodies, bodies_file, log_dir):
    """Starts one server, reads its logits for the check bodies, warms it up, then one load run per
    concurrency; always stops it."""
    server = PEERS[peer](args, model)
    server.start(log_dir)
    try:
        logits = [server.logits(b) for b in bodies[: args.check_bodies]]
        if not args.check_only and args.warmup:
            log(f"{peer}: warm-up, {args.warmup} requests from 8 clients")
            run_load(args, server, bodies_file, 8, f"{peer} warm-up", requests=args.warmup)
        points = {}
        for c in [] if args.check_only else args.clients:
            r = run_load(args, server, bodies_file, c, f"{peer} c={c}", duration=args.duration)
            log(f"{peer} c={c}: {json.dumps(r)}")
            points[c] = r
        return logits, points
    finally:
        server.stop()


def max_diff(a, b):
    return max(abs(x[i] - y[i]) for x, y in zip(a, b) for i in x)


def sigmoid_diff(a, b):
    s = lambda v: 1 / (1 + math.exp(-v))  # noqa: E731
    return max(abs(s(x[i]) - s(y[i])) for x, y in zip(a, b) for i in x)


def fmt_point(p):
    if not p:
        return "-", "-", "-"
    l = p["latency_ms"]
    return f"{p['documents_per_s']:.1f}", f"{l['p50']:.0f}", f"{l['p99']:.0f}"


def print_table(args, points):
    peers = [p for p in PEERS if p in points]
    head = ["clients"]
    for p in peers:
        head += [f"{p} docs/s", f"{p} p50 ms", f"{p} p99 ms"]
    head += [f"rerank.cpp / {p}" for p in peers if p != "rerank.cpp"] + ["load avg"]
    print("| " + " | ".join(head) + " |")
    print("|" + "---|" * len(head))
    for c in args.clients:
        row = [str(c)]
        for p in peers:
            row += list(fmt_point(points[p].get(c)))
        ours = points.get("rerank.cpp", {}).get(c, {}).get("documents_per_s")
        for p in peers:
            if p != "rerank.cpp":
                theirs = points[p].get(c, {}).get("documents_per_s")
                row.append(f"**{ours / theirs:.2f}x**" if ours and theirs else "-")
        loads = [points[p][c]["load_before"] for p in peers if c in points[p]]
        row.append("/".join(f"{v:.1f}" for v in loads))
        print("| " + " | ".join(row) + " |")


def parse_args():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--rerank", required=True, type=Path, help="the rerank binary")
    ap.add_argument("--load", required=True, type=Path, help="bench_serve_load")
    ap.add_argument("--llama-server", required=True, type=Path)
    ap.add_argument("--infinity", type=Path, help="infinity_emb executable (omit to skip Infinity)")
    ap.add_argument("--model-dir", required=True, type=Path, help="bench/serve_peers_model.py's output")
    ap.add_argument("--scifact", required=True, type=Path)
    ap.add_argument("--out", required=True, type=Path, help="directory for bodies, logs and results")
    ap.add_argument("--clients", default="1,8,64", help="concurrencies (default 1,8,64)")
    ap.add_argument("--duration", type=float, default=20, help="seconds per point (default 20)")
    ap.add_argument("--warmup", type=int, default=16, help="warm-up requests per server, 8 clients (default 16)")
    ap.add_argument("--threads", type=int, default=2, help="model threads for every server (default 2)")
    ap.add_argument("--queries", type=int, default=32, help="distinct request bodies (default 32)")
    ap.add_argument("--docs", type=int, default=20, help="documents per request (default 20)")
    ap.add_argument("--words", type=int, default=48, help="words per document at most (default 48)")
    ap.add_argument("--peers", default=",".join(PEERS), help="subset to run (default all three)")
    ap.add_argument("--rerank-max-batch", type=int, default=0, help="rerank serve --max-batch (default: its own)")
    ap.add_argument("--rerank-http-threads", type=int, default=0, help="rerank serve --http-threads (default: its own)")
    ap.add_argument("--rerank-param", action="append", default=[], help="rerank serve --param K=V (repeatable)")
    ap.add_argument("--llama-parallel", type=int, default=4, help="llama-server -np (default 4, its own default)")
    ap.add_argument("--infinity-batch", type=int, default=32, help="Infinity --batch-size (default 32, its own)")
    ap.add_argument("--check-bodies", type=int, default=4, help="bodies whose scores are compared (default 4)")
    ap.add_argument("--tolerance", type=float, default=2e-2, help="max |logit difference| allowed (default 2e-2)")
    ap.add_argument("--check-only", action="store_true", help="only compare scores, no load")
    args = ap.parse_args()
    args.clients = [int(c) for c in args.clients.split(",")]
    args.peers = [p.strip() for p in args.peers.split(",")]
    for p in args.peers:
        if p not in PEERS:
            ap.error(f"unknown peer {p!r} (known: {', '.join(PEERS)})")
    if "Infinity" in args.peers and not args.infinity:
        args.peers.remove("Infinity")
    return args


def check_scores(args, logits):
    """Every pair's logit from each server. rerank.cpp and Infinity compute the Hugging Face model's
    function (sentence B token types); llama.cpp's BERT graph gives every token type 0, so llama-server
    computes another function on the main model and the same one on the type-blind model."""
    checks, ok = [], True

    def add(what, a, b, must_agree):
        nonlocal ok
        d = max_diff(a, b)
        agree = d <= args.tolerance
        ok &= agree or not must_agree
        checks.append({"pair": what, "max_abs_logit_diff": d, "max_abs_sigmoid_diff": sigmoid_diff(a, b),
                       "must_agree": must_agree, "agree": agree})

    main = logits["main"]
    if "Infinity" in main:
        add("rerank.cpp vs Infinity", main["rerank.cpp"], main["Infinity"], True)
    if "llama-server" in main:
        add("rerank.cpp vs llama-server", main["rerank.cpp"], main["llama-server"], False)
        blind = logits["type-blind"]
        add("rerank.cpp vs llama-server, type-blind model", blind["rerank.cpp"], blind["llama-server"], True)
    for c in checks:
        log(f"scores {c['pair']}: max |Δ logit| {c['max_abs_logit_diff']:.2e}, max |Δ sigmoid| "
            f"{c['max_abs_sigmoid_diff']:.2e} ({'must agree' if c['must_agree'] else 'reported'})")
    return checks, ok


def main():
    args = parse_args()
    if "rerank.cpp" not in args.peers:
        raise SystemExit("[serve_peers] rerank.cpp must be one of the peers: the ratios are against it")
    args.out.mkdir(parents=True, exist_ok=True)
    log_dir = args.out / "logs"
    log_dir.mkdir(exist_ok=True)
    bodies = make_bodies(args.scifact, args.queries, args.docs, args.words, seed=1)
    bodies_file = args.out / "bodies.jsonl"
    bodies_file.write_text("".join(json.dumps(b) + "\n" for b in bodies))
    log(f"{len(bodies)} bodies x {args.docs} documents (<= {args.words} words) in {bodies_file}")
    gguf, hf = args.model_dir / "model-f16.gguf", args.model_dir / "hf"
    logits, points = {"main": {}, "type-blind": {}}, {}
    for peer in args.peers:
        logits["main"][peer], points[peer] = measure(args, peer, hf if peer == "Infinity" else gguf, bodies,
                                                     bodies_file, log_dir)
    if "llama-server" in args.peers:  # the score check's second model: both servers, no load
        blind_args = argparse.Namespace(**{**vars(args), "check_only": True})
        for peer in ("rerank.cpp", "llama-server"):
            logits["type-blind"][peer], _ = measure(blind_args, peer, args.model_dir / "type-blind-f16.gguf",
                                                    bodies, bodies_file, log_dir)
    checks, ok = check_scores(args, logits)
    results = {"time": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), "options": vars(args),
               "checks": checks, "points": points}
    out = args.out / f"results-{time.strftime('%Y%m%d-%H%M%S')}.json"
    out.write_text(json.dumps(results, indent=1, default=str))
    print(f"\nServer vs peers: {len(bodies)} SciFact bodies x {args.docs} documents, {args.duration:.0f} s per "
          f"point, {args.threads} threads each (details: {out})\n")
    if not args.check_only:
        print_table(args, points)
    print()
    for c in checks:
        print(f"scores, {c['pair']}: max |Δ logit| = {c['max_abs_logit_diff']:.2e} "
              f"({'within' if c['agree'] else 'beyond'} {args.tolerance:g}"
              f"{'' if c['must_agree'] else ', expected: token types'})")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
