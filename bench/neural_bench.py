#!/usr/bin/env python3
"""Neural rerank benchmark: rerank.cpp against llama.cpp's own llama-server --reranking.

Run it through bench/neural_bench.sh (which builds everything first); see docs/BENCHMARKS.md.
For each model (random-weight GGUFs of real shapes from `rerank make-test-model`) it prepares the
same inputs for both systems (SciFact queries, `depth` first-stage candidates each, documents cut to
whole words within `doc-tokens` tokens), scores them with llama-server (POST /v1/rerank on
127.0.0.1, one bounded request per query) and with `rerank rerank`, checks the scores are equal,
and prints documents/s for both, the ratio, and the FLOP rate as a fraction of this machine's
single-precision matmul peak measured in the same run. Only the standard library is used.
"""
import argparse
import json
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

MODELS = {
    # name: make-test-model arguments, speed target (rerank.cpp / llama-server docs/s)
    "minilm-l6-f16": dict(arch="bert", shape="minilm-l6", type="f16", head=False, target=1.3, kind="ce"),
    "qwen3-0.6b-f16": dict(arch="qwen3", shape="qwen3-0.6b", type="f16", head=True, target=2.0, kind="llm"),
    "qwen3-0.6b-q8_0": dict(arch="qwen3", shape="qwen3-0.6b", type="q8_0", head=True, target=2.0, kind="llm"),
}


# Default score tolerance per weight type. Both systems run the same llama.cpp kernels, but how pairs
# are packed into batches changes float rounding, and these random 28-layer models amplify it; Q8_0
# also re-quantizes activations, so a tiny difference can move an int8 step. llama-server disagrees
# with itself by this much on the same documents (-np 1 vs -np 4, 4 SciFact pairs): 1.5e-3 (Qwen3
# F16) and 5.5e-3 (Qwen3 Q8_0); see docs/BENCHMARKS.md.
TOLERANCE = {"f32": 2e-3, "f16": 2e-3, "q8_0": 2e-2}


def log(msg):
    print(f"[neural_bench] {msg}", file=sys.stderr, flush=True)


def run(cmd, **kw):
    log("$ " + " ".join(str(c) for c in cmd))
    return subprocess.run([str(c) for c in cmd], check=True, **kw)


def measure_peak(build, threads):
    # OPENBLAS_* tuning variables may be set machine-wide; drop them for this command only.
    env = {k: v for k, v in os.environ.items() if k not in ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE")}
    out = subprocess.run([str(build / "bench" / "bench_sgemm_peak"), "--threads", str(threads)],
                         check=True, capture_output=True, text=True, env=env).stdout
    return float(out.split("sgemm_peak_gflops=")[1].split()[0]), float(out.split("ggml_gflops=")[1].split()[0])


def first_stage_run(rerank, cache, data, depth):
    """BM25 top-`depth` run from rerank.cpp's own first stage; None when it is unavailable."""
    run_file = cache / f"scifact-bm25-{depth}.trec"
    if run_file.exists():
        return run_file
    index = cache / "scifact-index"
    try:
        run([rerank, "index", "--corpus", data / "corpus.jsonl", "--index", index, "--overwrite", "--quiet"])
        tmp = run_file.with_suffix(".tmp")
        run([rerank, "search", "--index", index, "--queries", data / "queries.jsonl", "--output", tmp,
             "--hits", depth, "--remove-query", "--quiet"])
        tmp.rename(run_file)
        return run_file
    except (subprocess.CalledProcessError, FileNotFoundError) as e:
        log(f"BM25 first stage unavailable ({e}); candidates will be a deterministic pseudo-random choice")
        return None


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def post_json(url, body, timeout):
    req = urllib.request.Request(url, data=json.dumps(body).encode(), headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=timeout) as r:
        return json.loads(r.read())


def start_llama_server(cmd, log_path):
    """Starts llama-server (`cmd`, listening on 127.0.0.1) and waits until /health answers; returns the
    process and its base URL. Its output goes to `log_path`."""
    server = Path(str(cmd[0]))
    port = cmd[cmd.index("--port") + 1]
    log("$ " + " ".join(str(c) for c in cmd))
    # bootstrap.sh links llama-server statically; a shared build's libraries would sit next to it.
    env = dict(os.environ, LD_LIBRARY_PATH=os.pathsep.join(
        p for p in (str(server.parent), os.environ.get("LD_LIBRARY_PATH", "")) if p))
    with open(log_path, "w") as log_file:
        proc = subprocess.Popen([str(c) for c in cmd], stdout=log_file, stderr=subprocess.STDOUT, env=env)
    base = f"http://127.0.0.1:{port}"
    deadline = time.time() + 600
    while True:
        if proc.poll() is not None:
            raise RuntimeError(f"llama-server exited with {proc.returncode}; see {log_path}")
        try:
            with urllib.request.urlopen(base + "/health", timeout=5) as r:
                if r.status == 200:
                    return proc, base
        except (urllib.error.URLError, ConnectionError, OSError):
            pass
        if time.time() > deadline:
            stop_llama_server(proc)
            raise RuntimeError("llama-server did not become healthy within 600 s")
        time.sleep(0.5)


def stop_llama_server(proc):
    proc.terminate()
    try:
        proc.wait(timeout=30)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def server_scores(server, model, spec, requests, max_tokens, threads, workdir, parallel):
    """Scores every request with llama-server; returns ({(qid, doc): score}, seconds of scoring)."""
    slot_ctx = ((int(max_tokens) + 16 + 63) // 64) * 64
    # llama-server's own batch defaults (-b 2048, -ub 512), raised only when a slot would not fit: a
    # physical batch spanning several slots makes every token attend over (masked) cells of the others.
    ubatch = max(512, slot_ctx)
    port = free_port()
    cmd = [server, "-m", model, "--reranking", "--host", "127.0.0.1", "--port", port, "-t", threads, "-tb", threads,
           "-np", parallel, "-c", slot_ctx * parallel, "-b", max(2048, ubatch), "-ub", ubatch, "--no-webui"]
    # Weight repacking stays on (llama-server's default), Q8_0 included: bootstrap.sh builds llama-server
    # with the same AMX header fix as rerank.cpp's llama.cpp, so both run the same AMX kernels.
    proc, base = start_llama_server(cmd, workdir / "llama-server.log")
    try:
        first = requests[0]
        post_json(base + "/v1/rerank", {"query": first["query"], "documents": first["documents"][:2]}, 600)  # warm-up
        scores, seconds = {}, 0.0
        for req in requests:
            t0 = time.perf_counter()
            res = post_json(base + "/v1/rerank", {"query": req["query"], "documents": req["documents"],
                                                  "top_n": len(req["documents"])}, 7200)
            seconds += time.perf_counter() - t0
            for item in res["results"]:
                scores[(req["qid"], req["doc_ids"][item["index"]])] = float(item["relevance_score"])
            log(f"llama-server: query {req['qid']}: {len(req['documents'])} docs, total {seconds:.1f} s")
        return scores, seconds
    finally:
        stop_llama_server(proc)


def read_trec(path):
    scores = {}
    for line in Path(path).read_text().splitlines():
        f = line.split()
        if len(f) >= 5:
            scores[(f[0], f[2])] = float(f[4])
    return scores


def rerankcpp_library(build, model, inputs, max_length, threads, extra, workdir):
    """Scores with the library's pointwise reranker (bench_neural_rerank); times the scoring only."""
    out = workdir / "rerankcpp.trec"
    cmd = [build / "bench" / "bench_neural_rerank", "--model", model, "--requests", inputs / "requests.jsonl",
           "--output", out, "--threads", threads, "--param", f"max_length={max_length}",
           # llama-server frames BERT pairs its own way, every token type 0: compare like with like.
           "--param", "encoding=llama-server"]
    for p in extra:
        cmd += ["--param", p]
    with open(workdir / "rerankcpp.log", "w") as err:
        res = run(cmd, stdout=subprocess.PIPE, stderr=err, text=True)
    info = json.loads(res.stdout.strip().splitlines()[-1])
    return read_trec(out), info["seconds"], info


def rerankcpp_cli(rerank, model, inputs, depth, max_length, threads, extra, workdir):
    """Scores with `rerank rerank`; the time of a one-document run (model load, start-up) is subtracted."""
    def once(run_file, out):
        cmd = [rerank, "rerank", "--model", model, "--queries", inputs / "queries.jsonl", "--corpus",
               inputs / "corpus.jsonl", "--run", run_file, "--depth", depth, "--max-length", max_length,
               "--threads", threads, "--output", out] + extra
        t0 = time.perf_counter()
        with open(workdir / (Path(out).stem + ".log"), "w") as err:
            run(cmd, stdout=subprocess.DEVNULL, stderr=err)
        return time.perf_counter() - t0

    lines = (inputs / "run.trec").read_text().splitlines()
    one = workdir / "run-one.trec"
    one.write_text(lines[0] + "\n")
    t_one = once(one, workdir / "rerankcpp-one.trec")
    t_full = once(inputs / "run.trec", workdir / "rerankcpp.trec")
    scores = read_trec(workdir / "rerankcpp.trec")
    # The one-document run scored one pair too: the difference is the time of the other pairs.
    seconds = max(t_full - t_one, 1e-9) * len(scores) / max(len(scores) - 1, 1)
    return scores, seconds, dict(full_seconds=t_full, one_doc_seconds=t_one)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--build", required=True, type=Path)
    ap.add_argument("--server", required=True, type=Path)
    ap.add_argument("--cache", type=Path, default=Path.home() / ".cache" / "rerank.cpp" / "bench")
    ap.add_argument("--data", type=Path, default=Path(__file__).resolve().parent.parent.parent / "shared/datasets/scifact")
    ap.add_argument("--models", default=",".join(MODELS), help="comma-separated subset of " + ",".join(MODELS))
    ap.add_argument("--ce-queries", type=int, default=5, help="queries for the cross-encoder")
    ap.add_argument("--llm-queries", type=int, default=1, help="queries for the decoder rerankers")
    ap.add_argument("--depth", type=int, default=100, help="candidates per query")
    ap.add_argument("--llm-depth", type=int, default=None, help="candidates per query for the decoders (default --depth)")
    ap.add_argument("--doc-tokens", type=int, default=256)
    ap.add_argument("--max-length", type=int, default=512, help="rerank --max-length (>= longest pair: no cut)")
    ap.add_argument("--threads", type=int, default=os.cpu_count())
    ap.add_argument("--parallel", type=int, default=4, help="llama-server slots (-np; 4 is its own default)")
    ap.add_argument("--tolerance", type=float, default=None,
                    help="max |score difference| accepted (default: per weight type, see TOLERANCE)")
    ap.add_argument("--rerank-args", default="",
                    help="extra reranker parameters name=value (library) or CLI arguments (--via-cli)")
    ap.add_argument("--via-cli", action="store_true",
                    help="time `rerank rerank` (minus a one-document run) instead of the library API")
    ap.add_argument("--skip-rerankcpp", action="store_true")
    a = ap.parse_args()

    rerank = a.build / "rerank"
    for name in a.models.split(","):
        if name not in MODELS:
            sys.exit(f"unknown model {name} (valid: {', '.join(MODELS)})")
    if not (a.data / "corpus.jsonl").exists():
        sys.exit(f"SciFact not found at {a.data} (pass --data DIR with corpus.jsonl, queries.jsonl, qrels/test.tsv)")
    (a.cache / "models").mkdir(parents=True, exist_ok=True)
    have_rerank = not a.skip_rerankcpp

    peak_runs = [measure_peak(a.build, a.threads)]
    log(f"sgemm peak: {peak_runs[0][0]:.1f} GFLOP/s on {a.threads} threads (ggml alone {peak_runs[0][1]:.1f})")
    first_stage = first_stage_run(rerank, a.cache, a.data, max(a.depth, a.llm_depth or 0))
    results = []
    for name in a.models.split(","):
        spec = MODELS[name]
        model = a.cache / "models" / f"{name}.gguf"
        if not model.exists():
            cmd = [rerank, "make-test-model", "--arch", spec["arch"], "--shape", spec["shape"], "--type", spec["type"],
                   "--seed", 1, "--output", model] + (["--rerank-head"] if spec["head"] else [])
            run(cmd)
        nq = a.ce_queries if spec["kind"] == "ce" else a.llm_queries
        depth = a.depth if spec["kind"] == "ce" or a.llm_depth is None else a.llm_depth
        inputs = a.cache / "inputs" / f"{name}-q{nq}-d{depth}-t{a.doc_tokens}-{'bm25' if first_stage else 'pseudo'}"
        cmd = [a.build / "bench" / "bench_neural_inputs", "--model", model, "--queries", a.data / "queries.jsonl",
               "--corpus", a.data / "corpus.jsonl", "--qrels", a.data / "qrels" / "test.tsv", "--num-queries", nq,
               "--depth", depth, "--doc-tokens", a.doc_tokens, "--out", inputs]
        if first_stage:
            cmd += ["--run", first_stage]
        run(cmd, stdout=subprocess.DEVNULL)
        stats = json.loads((inputs / "stats.json").read_text())
        requests = [json.loads(l) for l in (inputs / "requests.jsonl").read_text().splitlines()]
        workdir = a.cache / "work" / name
        workdir.mkdir(parents=True, exist_ok=True)

        srv, srv_s = server_scores(a.server, model, spec, requests, stats["max_pair_tokens"], a.threads, workdir,
                                   a.parallel)
        peak_runs.append(measure_peak(a.build, a.threads))
        row = dict(model=name, pairs=stats["pairs"], pair_tokens=stats["pair_tokens"], flops=stats["flops"],
                   candidates=stats["candidates"], server_seconds=srv_s, server_docs_s=len(srv) / srv_s)
        tol = a.tolerance if a.tolerance is not None else TOLERANCE[spec["type"]]
        if have_rerank:
            try:
                if a.via_cli:
                    mine, mine_s, info = rerankcpp_cli(rerank, model, inputs, depth, a.max_length, a.threads,
                                                       a.rerank_args.split(), workdir)
                else:
                    mine, mine_s, info = rerankcpp_library(a.build, model, inputs, a.max_length, a.threads,
                                                           a.rerank_args.split(), workdir)
                common = [k for k in srv if k in mine]
                diff = max((abs(srv[k] - mine[k]) for k in common), default=float("nan"))
                row.update(rerankcpp_seconds=mine_s, rerankcpp_info=info, rerankcpp_docs_s=len(mine) / mine_s,
                           compared=len(common), max_abs_diff=diff,
                           scores_equal=len(common) == len(srv) and diff <= tol, tolerance=tol)
                row["ratio"] = row["rerankcpp_docs_s"] / row["server_docs_s"]
                peak_runs.append(measure_peak(a.build, a.threads))
            except (subprocess.CalledProcessError, ValueError, IndexError) as e:
                log(f"rerank.cpp failed ({e}); see {workdir}")
                row["rerankcpp_error"] = str(e)
        results.append(row)

    peaks = [p for p, _ in peak_runs]
    peak = max(peaks)
    print(f"\nsgemm peak (the faster of OpenBLAS sgemm and ggml's F32 mul_mat, {a.threads} threads): {peak:.1f} "
          f"GFLOP/s (measurements: {', '.join(f'{p:.1f}' for p in peaks)}; ggml alone: "
          f"{max(g for _, g in peak_runs):.1f})")
    print(f"{'model':18} {'docs':>5} {'llama-server d/s':>16} {'rerank.cpp d/s':>15} {'ratio':>6} {'target':>6} "
          f"{'srv %peak':>9} {'ours %peak':>10} {'max|diff|':>10} {'tol':>7} equal")
    def fmt(value, spec):
        return "n/a" if value is None else format(value, spec)

    for r in results:
        srv_frac = r["flops"] / r["server_seconds"] / 1e9 / peak
        mine = r.get("rerankcpp_docs_s")
        # rerank.cpp's own count of what it computed (a shared prefix once), else the nominal count.
        mine_flops = r.get("rerankcpp_info", {}).get("flops") or r["flops"]
        mine_frac = (mine_flops / r["rerankcpp_seconds"] / 1e9 / peak) if mine else None
        r.update(server_peak_fraction=srv_frac, rerankcpp_peak_fraction=mine_frac, peak_gflops=peak)
        print(f"{r['model']:18} {r['pairs']:>5} {r['server_docs_s']:>16.2f} {fmt(mine, '.2f'):>15} "
              f"{fmt(r.get('ratio'), '.2f'):>6} {MODELS[r['model']]['target']:>6.1f} {100 * srv_frac:>8.1f}% "
              f"{fmt(mine_frac and 100 * mine_frac, '.1f'):>9}% {fmt(r.get('max_abs_diff'), '.2e'):>10} "
              f"{fmt(r.get('tolerance'), '.0e'):>7} "
              f"{r.get('scores_equal', 'n/a')}")
    print(f"candidates: {results[0]['candidates'] if results else ''}")
    out = a.cache / f"results-{time.strftime('%Y%m%d-%H%M%S')}.json"
    out.write_text(json.dumps(dict(peak_gflops=peak, peaks=peaks, ggml_peaks=[g for _, g in peak_runs],
                                   results=results), indent=2))
    print(f"details: {out}")
    failed = [r["model"] for r in results if r.get("scores_equal") is False or "rerankcpp_error" in r]
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
