#!/usr/bin/env python3
"""Encoder runtimes against peers: rerank.cpp's encoder runtimes (its own oneDNN runtime in F32, BF16 and
from Q8_0 weights; llama.cpp's, F16, for reference) against ONNX Runtime (F32 and dynamic int8, one input
per call and batches of 32), PyTorch (sentence-transformers, F32: the reference scores) and llama.cpp's
llama-server (F16), on the same weights and the same SciFact inputs, 2 threads each, one process per
run (its peak RSS is its own), timing only the scoring (models loaded before the clock starts).

Models (bench/encoder_peers_model.py): minilm-l6 (random-weight cross-encoder of ms-marco-MiniLM-L6's
shape), base (the same at BERT-base shape, 12 x 768: the encoder compute of bge-reranker-base, XLM-R
base; only the vocabulary differs, which costs nothing per token), minilm-embed (the real
all-MiniLM-L6-v2, mean pooling, 256 tokens). Cross-encoder workloads: BM25 top-`depth` candidates of the
first judged SciFact test queries, documents cut to whole words within 64 (short: ~80 tokens per pair,
MS MARCO-like), 256 (main) or 496 tokens (long; also cut to fit the 512 positions next to the query).
The embedder embeds the first `embed-docs` SciFact documents ("title text", cut to whole words within
254 tokens: 256 with [CLS] and [SEP], sentence-transformers' max_seq_length for that model).

Prints one table per model x workload (docs/s median and min-max over rounds, ratios, useful GFLOP/s =
the workload's nominal FLOPs / seconds, % of this machine's matmul peak measured in the same run: F32
rows against the fastest F32 matmul of OpenBLAS, ggml and oneDNN, BF16 rows against oneDNN's BF16
matmul; max |Δ logit| against PyTorch, or 1 - min cosine for embeddings, with its tolerance; peak RSS),
then the targets (rerank.cpp >= 1.0x ONNX Runtime at equal precision, >= 1.3x llama-server, >= 60% of
the matmul peak). Exit status 1 when a runtime's scores are off or a run failed. Run it through
bench/encoder_peers.sh, which builds and installs everything first; see docs/BENCHMARKS.md.

Time: the defaults take about 35 minutes on an otherwise idle 2-core machine, estimated from 1-query
runs (minilm-l6 10 queries x 100 x 3 workloads: ~12 min; base 3 queries x 100 x 3: ~20 min; the
embedder's 1,000 documents: ~3.5 min; about 1 s of start-up per run). Another job on the machine
slows every figure and llama-server's most (its threads wait for each other at every operation): the
load average before each table's runs is printed. --rounds N multiplies the time by N.
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from encoder_peers_report import check_outputs, print_summary, print_table  # noqa: E402
from neural_bench import first_stage_run  # noqa: E402

JEMALLOC = "/usr/lib/x86_64-linux-gnu/libjemalloc.so.2"
# Default queries per cross-encoder workload (base is 7.6x MiniLM-L6's compute per pair).
MODELS = {"minilm-l6": dict(kind="ce", queries=10), "base": dict(kind="ce", queries=3),
          "minilm-embed": dict(kind="embed")}
WORKLOADS = {"short": 64, "main": 256, "long": 496}  # cross-encoders: document tokens
# Every run: (id, label, precision, runner). The ids select runs (--runtimes, prefixes allowed).
RUNS = [
    ("rerank-f32", "rerank.cpp F32", "f32", ("rerank", "f32.gguf", ["runtime=onednn", "precision=f32"])),
    ("rerank-bf16", "rerank.cpp BF16", "bf16", ("rerank", "f32.gguf", ["runtime=onednn", "precision=bf16"])),
    ("rerank-q8_0", "rerank.cpp Q8_0", "q8_0", ("rerank", "q8_0.gguf", ["runtime=onednn"])),
    ("rerank-int8", "rerank.cpp INT8 (dynamic)", "int8", ("rerank", "f32.gguf", ["runtime=onednn", "precision=int8"])),
    ("rerank-llama", "rerank.cpp llama.cpp F16", "f16", ("rerank", "f16.gguf", ["runtime=llama"])),
    ("ort-f32-pair", "ORT F32, 1 per call", "f32", ("ort", "model-f32.onnx", "pair")),
    ("ort-f32-batch", "ORT F32, batches of 32", "f32", ("ort", "model-f32.onnx", "batch")),
    ("ort-int8-pair", "ORT int8, 1 per call", "int8", ("ort", "model-int8.onnx", "pair")),
    ("ort-int8-batch", "ORT int8, batches of 32", "int8", ("ort", "model-int8.onnx", "batch")),
    ("torch", "PyTorch F32 (reference)", "f32", ("torch",)),
    ("llama-server", "llama-server F16", "f16", ("llama-server", "f16.gguf")),
]


def log(msg):
    print(f"[encoder_peers] {msg}", file=sys.stderr, flush=True)


def run_checked(cmd, **kw):
    log("$ " + " ".join(str(c) for c in cmd))
    return subprocess.run([str(c) for c in cmd], check=True, **kw)


def measure_peak(build, threads):
    """bench_sgemm_peak's key=value fields (GFLOP/s), OPENBLAS_* tuning variables removed."""
    env = {k: v for k, v in os.environ.items() if k not in ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE")}
    out = subprocess.run([str(build / "bench" / "bench_sgemm_peak"), "--threads", str(threads)], check=True,
                         capture_output=True, text=True, env=env).stdout
    fields = dict(kv.split("=", 1) for kv in out.split())
    return {k: float(v) for k, v in fields.items() if k.endswith("_gflops")} | {"isa": fields.get("onednn_isa")}


def ce_workload(a, model, name, doc_tokens, first_stage):
    """bench_neural_inputs' requests.jsonl and stats.json for one cross-encoder workload."""
    nq = a.queries or MODELS[model]["queries"]
    out = a.cache / "encoder-peers" / "inputs" / a.models_dir.name / f"{model}-{name}-q{nq}-d{a.depth}"
    cmd = [a.build / "bench" / "bench_neural_inputs", "--model", a.models_dir / model / "f16.gguf",
           "--queries", a.scifact / "queries.jsonl", "--corpus", a.scifact / "corpus.jsonl", "--qrels",
           a.scifact / "qrels" / "test.tsv", "--num-queries", nq, "--depth", a.depth, "--doc-tokens", doc_tokens,
           "--out", out] + (["--run", first_stage] if first_stage else [])
    if name == "long":
        cmd += ["--max-pair-tokens", 512]
    run_checked(cmd, stdout=subprocess.DEVNULL)
    stats = json.loads((out / "stats.json").read_text())
    requests = [json.loads(line) for line in (out / "requests.jsonl").read_text().splitlines()]
    return dict(kind="ce", inputs=out / "requests.jsonl", requests=requests, docs=stats["pairs"],
                tokens=stats["pair_tokens"], max_tokens=int(stats["max_pair_tokens"]), flops=stats["flops"],
                candidates=stats["candidates"], describe=f"{nq} queries x {a.depth}, documents <= {doc_tokens} "
                f"tokens ({stats['pair_tokens'] / stats['pairs']:.0f} tokens per pair on average, at most "
                f"{stats['max_pair_tokens']:.0f})")


def embed_workload(a):
    """The first `embed-docs` SciFact documents, each cut to whole words within 254 tokens."""
    from tokenizers import Tokenizer

    hf = a.models_dir / "minilm-embed" / "hf"
    tok = Tokenizer.from_file(str(hf / "tokenizer.json"))
    tok.no_padding()
    tok.no_truncation()
    cfg = json.loads((hf / "config.json").read_text())
    texts, tokens, flops = [], 0, 0.0
    h, layers, ff = cfg["hidden_size"], cfg["num_hidden_layers"], cfg["intermediate_size"]
    with open(a.scifact / "corpus.jsonl", encoding="utf-8") as f:
        for line in f:
            if len(texts) == a.embed_docs:
                break
            d = json.loads(line)
            words = " ".join(x for x in (d.get("title", ""), d.get("text", "")) if x).split()
            lo, hi = 0, len(words) + 1  # the longest prefix of whole words within 254 tokens
            while hi - lo > 1:
                mid = (lo + hi) // 2
                (lo, hi) = (mid, hi) if len(tok.encode(" ".join(words[:mid]), add_special_tokens=False).ids) \
                    <= 254 else (lo, mid)
            texts.append(" ".join(words[:lo]))
            t = len(tok.encode(texts[-1]).ids)  # with [CLS] and [SEP]
            tokens += t
            # As bench_neural_inputs counts: 2 x layer matrix parameters per token + attention
            flops += 2 * layers * (4 * h * h + 2 * h * ff) * t + 4 * layers * h * t * t
    out = a.cache / "encoder-peers" / "inputs" / a.models_dir.name / f"minilm-embed-{len(texts)}.jsonl"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text("".join(json.dumps({"text": t}) + "\n" for t in texts))
    return dict(kind="embed", inputs=out, texts=texts, docs=len(texts), tokens=tokens, max_tokens=256, flops=flops,
                describe=f"first {len(texts)} SciFact documents, <= 256 tokens ({tokens / len(texts):.0f} on average)")


def command(a, model, wl, run, out, work):
    """The command line and environment of one run."""
    mdir = a.models_dir / model
    env = dict(os.environ, OMP_NUM_THREADS=str(a.threads), MKL_NUM_THREADS=str(a.threads),
               TOKENIZERS_PARALLELISM="false", HF_HUB_OFFLINE="1", TRANSFORMERS_OFFLINE="1")
    how = run[3]
    if how[0] == "rerank" and wl["kind"] == "ce":
        cmd = [a.build / "bench" / "bench_neural_rerank", "--model", mdir / how[1], "--requests", wl["inputs"],
               "--output", out, "--threads", a.threads, "--param", "max_length=512"]
        for p in how[2]:
            cmd += ["--param", p]
        return cmd, env
    if how[0] == "rerank":
        params = dict(p.split("=") for p in how[2])
        return [a.build / "bench" / "bench_encoder_embed", "--model", mdir / how[1], "--texts", wl["inputs"],
                "--output", out, "--threads", a.threads, "--max-tokens", 256, "--runtime", params["runtime"],
                "--precision", params.get("precision", "auto")], env
    runner = [sys.executable, Path(__file__).resolve().parent / "encoder_peers_runners.py", how[0],
              "--requests" if wl["kind"] == "ce" else "--texts", wl["inputs"], "--out", out, "--threads", a.threads,
              "--max-length", 512 if wl["kind"] == "ce" else 256]
    if how[0] == "ort":
        return runner + ["--hf", mdir / "hf", "--onnx", mdir / how[1], "--mode", how[2]], env
    if how[0] == "torch":
        # PyTorch's allocator returns freed pages to the kernel and pays first-touch page faults again
        # on every batch (up to 5x on these VMs); jemalloc keeping its pages is the fair set-up.
        env.update(LD_PRELOAD=JEMALLOC, MALLOC_CONF="dirty_decay_ms:-1,muzzy_decay_ms:-1,retain:true")
        return runner + ["--hf", mdir / "hf"], env
    return runner + ["--server", a.server, "--gguf", mdir / how[1], "--max-tokens", wl["max_tokens"],
                     "--workdir", work], env


def execute(a, model, wl_name, wl, run, rnd):
    """Runs one configuration in its own process; returns its measurement (or its error)."""
    work = a.cache / "encoder-peers" / "work" / f"{model}-{wl_name}" / run[0]
    work.mkdir(parents=True, exist_ok=True)
    out = work / ("scores.trec" if run[3][0] == "rerank" and wl["kind"] == "ce" else
                  "scores.json" if wl["kind"] == "ce" else "vectors.npy")
    out.unlink(missing_ok=True)
    cmd, env = command(a, model, wl, run, out, work)
    load = os.getloadavg()[0]
    log(f"round {rnd + 1}: {model} {wl_name} {run[1]}: " + " ".join(str(c) for c in cmd))
    with open(work / "stdout.txt", "w") as so, open(work / "stderr.txt", "w") as se:
        p = subprocess.Popen([str(c) for c in cmd], stdout=so, stderr=se, env=env)
        _, status, usage = os.wait4(p.pid, 0)
        p.returncode = os.waitstatus_to_exitcode(status)
    lines = (work / "stdout.txt").read_text().strip().splitlines()
    if p.returncode != 0 or not lines:
        err = [l for l in (work / "stderr.txt").read_text(errors="replace").splitlines() if l.strip()]
        why = next((l for l in reversed(err) if "error" in l.lower()), err[-1] if err else f"exit {p.returncode}")
        log(f"{run[1]} failed (exit {p.returncode}): {why.strip()[:300]} (see {work / 'stderr.txt'})")
        return {"error": why.strip()[:300]}
    info = json.loads(lines[-1])
    rss_kb = info.get("child_maxrss_kb", usage.ru_maxrss)
    return {"seconds": info["seconds"], "rss_mb": rss_kb / 1024, "load_before": load, "info": info,
            "output": read_output(out, wl)}


def read_output(path, wl):
    """Scores as one list per query in document order, or the vectors (rows in text order)."""
    import numpy as np

    if wl["kind"] == "embed":
        return np.load(path)
    if path.suffix == ".json":
        return json.loads(path.read_text())
    scores = {}
    for line in path.read_text().splitlines():
        f = line.split()
        scores[(f[0], f[2])] = float(f[4])
    return [[scores.get((r["qid"], d), float("nan")) for d in r["doc_ids"]] for r in wl["requests"]]


def parse_args():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--build", type=Path, default=Path("build"))
    ap.add_argument("--server", type=Path, help="llama-server (encoder_peers.sh passes it)")
    ap.add_argument("--models-dir", type=Path, help="bench/encoder_peers_model.py's outputs, one directory per model")
    ap.add_argument("--scifact", type=Path, default=Path("../shared/datasets/scifact"))
    ap.add_argument("--cache", type=Path, default=Path.home() / ".cache" / "rerank.cpp" / "bench")
    ap.add_argument("--models", default=",".join(MODELS), help=f"subset of {','.join(MODELS)}")
    ap.add_argument("--workloads", default=",".join(WORKLOADS), help=f"cross-encoder workloads: subset of "
                    f"{','.join(WORKLOADS)} (the embedder has one)")
    ap.add_argument("--runtimes", default="all", help="runs to make, by id or id prefix (rerank, ort, ort-int8, "
                    "...): " + ",".join(r[0] for r in RUNS))
    ap.add_argument("--queries", type=int, default=0, help="queries per cross-encoder workload (default: 10 for "
                    "minilm-l6, 3 for base)")
    ap.add_argument("--depth", type=int, default=100, help="candidates per query (default 100)")
    ap.add_argument("--embed-docs", type=int, default=1000, help="documents the embedder embeds (default 1000)")
    ap.add_argument("--rounds", type=int, default=1, help="runs of every runtime, alternated (default 1)")
    ap.add_argument("--threads", type=int, default=2, help="threads of every runtime (default 2)")
    a = ap.parse_args()
    for opt, known in (("models", MODELS), ("workloads", WORKLOADS)):
        setattr(a, opt, [x.strip() for x in getattr(a, opt).split(",") if x.strip()])
        for x in getattr(a, opt):
            if x not in known:
                ap.error(f"unknown {opt[:-1]} {x!r} (known: {', '.join(known)})")
    wanted = [x.strip() for x in a.runtimes.split(",")]
    a.runs = [r for r in RUNS if a.runtimes == "all" or any(r[0] == w or r[0].startswith(w + "-") for w in wanted)]
    if not a.runs:
        ap.error(f"--runtimes {a.runtimes} selects nothing (ids: {', '.join(r[0] for r in RUNS)})")
    if not (a.server and a.models_dir):
        ap.error("--server and --models-dir are required (run bench/encoder_peers.sh)")
    return a


def main():
    a = parse_args()
    if not (a.scifact / "corpus.jsonl").exists():
        sys.exit(f"[encoder_peers] SciFact not found at {a.scifact} (set RERANK_SHARED_DATASETS)")
    for m in a.models:
        if not (a.models_dir / m / ".complete").exists():
            sys.exit(f"[encoder_peers] model {m} missing in {a.models_dir} (bench/encoder_peers.sh builds it)")
    t_start = time.time()
    peaks = [measure_peak(a.build, a.threads)]
    log(f"matmul peaks: {peaks[0]}")
    first_stage = None
    if any(MODELS[m]["kind"] == "ce" for m in a.models):
        first_stage = first_stage_run(a.build / "rerank", a.cache, a.scifact, max(a.depth, 100))
    blocks = []
    for model in a.models:
        for wl_name in (a.workloads if MODELS[model]["kind"] == "ce" else ["embed"]):
            wl = ce_workload(a, model, wl_name, WORKLOADS[wl_name], first_stage) if wl_name != "embed" \
                else embed_workload(a)
            rows = {r[0]: dict(id=r[0], label=r[1], precision=r[2], rounds=[]) for r in a.runs}
            outputs = {}
            for rnd in range(a.rounds):
                order = a.runs if rnd % 2 == 0 else list(reversed(a.runs))  # alternate against drift
                for run in order:
                    m = execute(a, model, wl_name, wl, run, rnd)
                    if "output" in m:
                        outputs.setdefault(run[0], m.pop("output"))
                    rows[run[0]]["rounds"].append(m)
            peaks.append(measure_peak(a.build, a.threads))
            for row in rows.values():
                ok = [r for r in row["rounds"] if "error" not in r]
                if ok:
                    docs_s = [wl["docs"] / r["seconds"] for r in ok]
                    row.update(docs_s=statistics.median(docs_s), docs_s_min=min(docs_s), docs_s_max=max(docs_s),
                               seconds=statistics.median(r["seconds"] for r in ok),
                               rss_mb=max(r["rss_mb"] for r in ok))
                if len(ok) < len(row["rounds"]):
                    row["error"] = next(r["error"] for r in row["rounds"] if "error" in r)
            check_outputs(wl, rows, outputs)
            blocks.append(dict(model=model, workload=wl_name, describe=wl["describe"], docs=wl["docs"],
                               tokens=wl["tokens"], flops=wl["flops"], kind=wl["kind"], rows=list(rows.values()),
                               onnx=json.loads((a.models_dir / model / "info.json").read_text())))
    peak = {k: max(p.get(k, 0.0) for p in peaks) for k in peaks[0] if k != "isa"}
    peak["f32"] = max(peak.get("f32_peak_gflops", 0.0), peak.get("sgemm_peak_gflops", 0.0))
    peak["bf16"] = peak.get("onednn_bf16_gflops", 0.0)
    print(f"\nEncoder runtimes vs peers, {a.threads} threads each. Matmul peaks this run (GFLOP/s, best of "
          f"{len(peaks)} measurements): F32 {peak['f32']:.0f} (OpenBLAS {peak.get('openblas_gflops', 0):.0f}, "
          f"ggml {peak.get('ggml_gflops', 0):.0f}, oneDNN {peak.get('onednn_f32_gflops', 0):.0f}), BF16 (oneDNN, "
          f"{peaks[0]['isa']}) {peak['bf16']:.0f}. base is bge-reranker-base's encoder compute (12 x 768).\n"
          "% peak: useful GFLOP/s against the F32 peak, or the BF16 peak for BF16 matmuls (rerank.cpp BF16, "
          "and its Q8_0 where precision=auto picks BF16); int8 arithmetic can pass the F32 peak.")
    for b in blocks:
        print_table(b, peak)
    failed = print_summary(blocks, peak)
    out = a.cache / "encoder-peers" / f"results-{time.strftime('%Y%m%d-%H%M%S')}.json"
    out.write_text(json.dumps(dict(time=time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
                                   minutes=(time.time() - t_start) / 60, options=vars(a), peak=peak, peaks=peaks,
                                   blocks=blocks), indent=1, default=str))
    print(f"\ndetails: {out} ({(time.time() - t_start) / 60:.1f} minutes)")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
