#!/usr/bin/env python3
"""Dense search against FAISS: rerank.cpp's exact search and HNSW graph (bench_dense_search, on the public
API of include/rerank/vectors.h) against FAISS's own indexes on the same collection and queries:
exact search QPS (all queries as one batch, 1 and N threads) and HNSW QPS and recall@10 at matched
recall (N threads, queries spread over them), single-query latency (1 thread), build times, file sizes
and peak memory. Each library runs in its own process, one after the other, per precision:

  f32   rerank.cpp f32 vector file + HNSW   vs  FAISS IndexFlatIP + IndexHNSWFlat          (the issue's target)
  f16   rerank.cpp f16 vector file + HNSW   vs  FAISS IndexScalarQuantizer / IndexHNSWSQ, QT_fp16
  int8  rerank.cpp int8 (per-vector scale)  vs  FAISS IndexScalarQuantizer / IndexHNSWSQ, QT_8bit
                                                (per-dimension ranges trained on the collection)

Both HNSW graphs are built with the same M (16: 32 links per node at level 0) and efConstruction (100)
on the same threads, inner product as the similarity, and searched at the same efSearch values.
FAISS's flat index is timed twice: as shipped (faiss-cpu 1.15's distance_compute_blas_threshold is
128,000 queries, so a batch of 1,000 is answered by one SIMD scan of the collection per query) and with
the threshold at 20 (FAISS's older default: blocks of scores by sgemm, the wheel's OpenBLAS, as
rerank.cpp does with oneDNN); the target is judged against the faster. Scans cost the same per query
whatever the batch, so FAISS's are timed on the first --scan-queries (200) queries only.

The collection (made once, cached by its parameters): `centres` (default n/100, i.e. ~100 vectors per
cluster; 10,000 at 1M) Gaussian centres c ~ N(0, I) in `dims` dimensions; each vector is a uniformly
drawn centre plus N(0, sigma^2 I) noise, L2-normalised, float32 (NumPy's PCG64, seed 1). With
sigma = 0.7 (default) two vectors of one cluster have cosine ~ 1 / (1 + sigma^2) = 0.67 +- 0.04 and
vectors of different clusters ~ 0 +- 0.05, like the neighbourhoods of real sentence embeddings (a
query's top 10 are the closest tenth of its cluster: neighbours are meaningful but not trivially
separated). Queries are drawn the same way from the same centres with another seed (2). The exact
top-100 of every query (inner product, ties by row id) is computed with NumPy in blocks; FAISS's flat
index's recall@10 against it (1.0 expected) checks it. Files: base.f32, queries.f32 (raw little-endian
float32 rows), truth.i32 (int32 row ids, 100 per query).

Report: one table per precision, then the targets: exact search >= 1.0x FAISS flat (N threads), and
HNSW >= 1.0x FAISS HNSW at recall@10 0.90, 0.95 and 0.99. QPS at a recall a library did not measure
is interpolated along its recall-QPS curve (its Pareto front: for each recall, the best QPS at that
recall or above; linear in recall, geometric in QPS). A recall below a curve's lowest point gets that
point's QPS as a lower bound (shown with >=); a target recall below both curves is judged at the lowest
recall both reach, and one above a curve is not reached (FAIL for rerank.cpp, n/a if neither reaches).
FAISS's single-query latency includes Python's call into it (~5-10 us a query).

Exit status: 1 when a run failed or exact f32 search missed the ground truth (recall@10 < 0.999);
a FAIL target alone does not fail the run. Run it through bench/dense_peers.sh, which builds
bench_dense_search and the virtualenv first.
"""
import argparse
import json
import math
import os
import subprocess
import sys
import time
from pathlib import Path

DATA_VERSION = 1  # bump when the generator changes: the cache key
TRUTH_K = 100
TARGET_RECALLS = (0.90, 0.95, 0.99)
FAISS_KINDS = {  # precision -> (flat label, hnsw label, scalar quantizer type or None)
    "f32": ("IndexFlatIP", "IndexHNSWFlat", None),
    "f16": ("IndexScalarQuantizer fp16", "IndexHNSWSQ fp16", "QT_fp16"),
    "int8": ("IndexScalarQuantizer 8bit", "IndexHNSWSQ 8bit", "QT_8bit"),
}


def log(msg):
    print(f"[dense_peers] {msg}", file=sys.stderr, flush=True)


def status_mb(field):
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) / 1024
    return 0.0


def reset_peak():
    """Resets VmHWM to the current RSS, so the next status_mb('VmHWM') is this stage's peak."""
    try:
        Path("/proc/self/clear_refs").write_text("5")
    except OSError:
        pass


def cpu_seconds():
    t = os.times()
    return t.user + t.system


# ---------------------------------------------------------------------------------------------------
# The collection


def data_dirs(a):
    base = a.cache / (f"data-v{DATA_VERSION}-n{a.n}-d{a.dims}-c{a.centres}-s{a.sigma:g}-seed{a.seed}")
    return base, base / f"queries-{a.queries}-seed{a.query_seed}"


def draw(rng, centres, count, sigma, out_path, block=100_000):
    """`count` vectors: a uniformly drawn centre + N(0, sigma^2) noise each, L2-normalised, to out_path."""
    import numpy as np

    tmp = out_path.with_suffix(".tmp")
    with open(tmp, "wb") as f:
        for start in range(0, count, block):
            b = min(block, count - start)
            which = rng.integers(0, len(centres), size=b)
            x = centres[which] + np.float32(sigma) * rng.standard_normal((b, centres.shape[1]), dtype=np.float32)
            x /= np.linalg.norm(x, axis=1, keepdims=True)
            f.write(x.astype("<f4", copy=False).tobytes())
    tmp.rename(out_path)


def exact_truth(base_path, xq, dims, k, block=65_536):
    """Every query's exact top-k rows by inner product (ties: smaller row first), NumPy in blocks."""
    import numpy as np

    xb = np.memmap(base_path, dtype="<f4", mode="r").reshape(-1, dims)
    nq = len(xq)
    best_s = np.full((nq, k), -np.inf, dtype=np.float32)
    best_i = np.full((nq, k), -1, dtype=np.int64)
    for start in range(0, len(xb), block):
        s = xq @ np.asarray(xb[start:start + block]).T
        kk = min(k, s.shape[1])
        part = np.argpartition(-s, kk - 1, axis=1)[:, :kk]
        cand_s = np.concatenate([best_s, np.take_along_axis(s, part, axis=1)], axis=1)
        cand_i = np.concatenate([best_i, part + start], axis=1)
        order = np.lexsort((cand_i, -cand_s), axis=1)[:, :k]
        best_s = np.take_along_axis(cand_s, order, axis=1)
        best_i = np.take_along_axis(cand_i, order, axis=1)
    return best_i.astype("<i4")


def prepare_data(a):
    """Makes (once) the collection, the queries and their ground truth; returns their paths."""
    import numpy as np

    base_dir, q_dir = data_dirs(a)
    if not (base_dir / ".complete").exists():
        base_dir.mkdir(parents=True, exist_ok=True)
        t0 = time.time()
        log(f"making the collection: {a.n:,} x {a.dims}, {a.centres:,} centres, sigma {a.sigma} -> {base_dir}")
        rng = np.random.default_rng(a.seed)
        centres = rng.standard_normal((a.centres, a.dims), dtype=np.float32)
        np.save(base_dir / "centres.npy", centres)
        draw(rng, centres, a.n, a.sigma, base_dir / "base.f32")
        (base_dir / "info.json").write_text(json.dumps(dict(n=a.n, dims=a.dims, centres=a.centres, sigma=a.sigma,
                                                            seed=a.seed, seconds=time.time() - t0)))
        (base_dir / ".complete").touch()
    if not (q_dir / ".complete").exists():
        q_dir.mkdir(parents=True, exist_ok=True)
        t0 = time.time()
        log(f"making {a.queries:,} queries and their exact top-{TRUTH_K} -> {q_dir}")
        centres = np.load(base_dir / "centres.npy")
        draw(np.random.default_rng(a.query_seed), centres, a.queries, a.sigma, q_dir / "queries.f32")
        xq = np.fromfile(q_dir / "queries.f32", dtype="<f4").reshape(-1, a.dims)
        truth = exact_truth(base_dir / "base.f32", xq, a.dims, min(TRUTH_K, a.n))
        if truth.shape[1] < TRUTH_K:  # a collection smaller than 100: pad with ids that match nothing
            truth = np.pad(truth, ((0, 0), (0, TRUTH_K - truth.shape[1])), constant_values=-1)
        truth.tofile(q_dir / "truth.i32")
        (q_dir / "info.json").write_text(json.dumps(dict(queries=a.queries, seed=a.query_seed,
                                                         seconds=time.time() - t0)))
        (q_dir / ".complete").touch()
    return dict(base=base_dir / "base.f32", queries=q_dir / "queries.f32", truth=q_dir / "truth.i32",
                base_dir=base_dir, q_dir=q_dir)


# ---------------------------------------------------------------------------------------------------
# The runs: each a process printing one JSON object per line


def run_process(cmd, env, label, log_path):
    """Runs cmd (stderr to the terminal and log_path), returns (events, peak RSS MB, error or None)."""
    log(f"{label}: " + " ".join(str(c) for c in cmd))
    events = []
    with open(log_path, "w") as err:
        p = subprocess.Popen([str(c) for c in cmd], stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env,
                             text=True, bufsize=1)
        import selectors

        sel = selectors.DefaultSelector()
        sel.register(p.stdout, selectors.EVENT_READ)
        sel.register(p.stderr, selectors.EVENT_READ)
        open_streams = 2
        while open_streams:
            for key, _ in sel.select():
                line = key.fileobj.readline()
                if not line:
                    sel.unregister(key.fileobj)
                    open_streams -= 1
                    continue
                if key.fileobj is p.stdout:
                    try:
                        events.append(json.loads(line))
                        log(f"{label}: {line.strip()}")
                    except json.JSONDecodeError:
                        err.write(line)
                else:
                    err.write(line)
                    print(f"  {line.rstrip()}", file=sys.stderr, flush=True)
        _, status, usage = os.wait4(p.pid, 0)
        code = os.waitstatus_to_exitcode(status)
    error = None
    if code != 0:
        lines = [l for l in Path(log_path).read_text(errors="replace").splitlines() if l.strip()]
        error = f"exit {code}: " + (lines[-1].strip()[:300] if lines else "no message") + f" (see {log_path})"
        log(f"{label} FAILED: {error}")
    return events, usage.ru_maxrss / 1024, error


def run_env(threads):
    return dict(os.environ, OMP_NUM_THREADS=str(threads), OPENBLAS_NUM_THREADS=str(threads),
                MKL_NUM_THREADS=str(threads), OMP_WAIT_POLICY="PASSIVE")


def run_ours(a, data, precision):
    out_dir = data["base_dir"] / "rerank"
    out_dir.mkdir(exist_ok=True)
    cmd = [a.bench, "--base", data["base"], "--queries", data["queries"], "--truth", data["truth"],
           "--dims", a.dims, "--truth-k", TRUTH_K, "--k", a.k, "--out-dir", out_dir, "--precision", precision,
           "--threads", a.threads, "--hnsw-m", a.hnsw_m, "--hnsw-ef-construction", a.ef_construction,
           "--hnsw-threads", a.hnsw_threads, "--ef", ",".join(map(str, a.ef)), "--exact-rounds", a.exact_rounds]
    if a.rebuild:
        cmd.append("--rebuild")
    return run_process(cmd, run_env(a.threads), f"rerank.cpp {precision}", data["q_dir"] / f"rerank-{precision}.log")


def run_faiss(a, data, precision):
    cfg = dict(base=str(data["base"]), queries=str(data["queries"]), truth=str(data["truth"]), dims=a.dims, k=a.k,
               precision=precision, threads=a.threads, m=a.hnsw_m, efc=a.ef_construction,
               hnsw_threads=a.hnsw_threads, ef=a.ef, exact_rounds=a.exact_rounds, rebuild=a.rebuild,
               scan_queries=a.scan_queries,
               out_dir=str(data["base_dir"] / "faiss"))
    cmd = [sys.executable, Path(__file__).resolve(), "--faiss-worker", json.dumps(cfg)]
    return run_process(cmd, run_env(a.threads), f"FAISS {precision}", data["q_dir"] / f"faiss-{precision}.log")


def emit(obj):
    obj["rss_mb"] = status_mb("VmRSS")
    print(json.dumps(obj), flush=True)


def faiss_worker(cfg):
    """The FAISS side, in its own process: the same events as bench_dense_search."""
    import faiss
    import numpy as np

    d, k, prec = cfg["dims"], cfg["k"], cfg["precision"]
    xq = np.ascontiguousarray(np.fromfile(cfg["queries"], dtype="<f4").reshape(-1, d))
    truth = np.fromfile(cfg["truth"], dtype="<i4").reshape(len(xq), -1)[:, :k]
    nq = len(xq)
    sq = FAISS_KINDS[prec][2]
    ip = faiss.METRIC_INNER_PRODUCT
    n = os.path.getsize(cfg["base"]) // (4 * d)
    emit(dict(event="setup", precision=prec, n=n, dims=d, queries=nq, k=k, threads=cfg["threads"],
              faiss_version=faiss.__version__, faiss_compile_options=faiss.get_compile_options().strip()))

    def recall(ids, count=nq):
        return float(np.mean([len(set(ids[q, :k].tolist()) & set(truth[q].tolist())) / k for q in range(count)]))

    def load_base():
        return np.ascontiguousarray(np.fromfile(cfg["base"], dtype="<f4").reshape(-1, d))

    out_dir = Path(cfg["out_dir"])
    out_dir.mkdir(parents=True, exist_ok=True)

    # Exact: the flat index (FAISS stores the vectors, scalar-quantized for f16 and int8).
    reset_peak()
    xb = load_base()
    faiss.omp_set_num_threads(cfg["threads"])
    t0 = time.time()
    flat = faiss.IndexFlatIP(d) if sq is None else faiss.IndexScalarQuantizer(d, getattr(faiss.ScalarQuantizer, sq), ip)
    if not flat.is_trained:
        flat.train(xb)
    flat.add(xb)
    seconds = time.time() - t0
    del xb
    emit(dict(event="write", cached=False, seconds=seconds, rows_per_s=n / seconds,
              file_bytes=n * flat.code_size,
              peak_rss_mb=status_mb("VmHWM")))
    counts = [1] + ([cfg["threads"]] if cfg["threads"] > 1 else [])
    # FAISS's flat index scans the collection once per query (SIMD, no BLAS) below
    # distance_compute_blas_threshold queries per call (128,000 in 1.15's wheel), and computes blocks of
    # scores with sgemm (the wheel's OpenBLAS) above it: both are timed, the default and BLAS at 20.
    shipped = faiss.cvar.distance_compute_blas_threshold
    variants = [("default", shipped)] + ([("blas", 20)] if sq is None and shipped > 20 else [])
    for t in counts:
        for variant, threshold in variants:
            faiss.cvar.distance_compute_blas_threshold = threshold
            faiss.omp_set_num_threads(t)
            reset_peak()
            # A scan per query costs the same per query whatever the batch: its QPS is measured on the
            # first scan_queries queries only (at 1M, ~10 QPS: 1,000 queries would take minutes).
            m = nq if (sq is None and nq >= threshold) else min(nq, cfg["scan_queries"])
            times, ids = [], None
            c0 = cpu_seconds()
            for _ in range(cfg["exact_rounds"]):
                t0 = time.time()
                _, ids = flat.search(xq[:m], k)
                times.append(time.time() - t0)
            emit(dict(event="exact", threads=t, variant=variant, blas_threshold=threshold, queries=m,
                      seconds=min(times), seconds_all=times, qps=m / min(times),
                      cores_busy=(cpu_seconds() - c0) / sum(times), recall=recall(ids, m),
                      peak_rss_mb=status_mb("VmHWM")))
    faiss.cvar.distance_compute_blas_threshold = shipped
    del flat

    # HNSW, built once per parameters and FAISS version (faiss.write_index), then searched per ef.
    tag = f"{prec}-m{cfg['m']}-efc{cfg['efc']}-t{cfg['hnsw_threads']}-faiss{faiss.__version__}"
    path, meta = out_dir / f"hnsw-{tag}.index", out_dir / f"hnsw-{tag}.json"
    reset_peak()
    if cfg["rebuild"] or not (path.exists() and meta.exists()):
        meta.unlink(missing_ok=True)
        xb = load_base()
        faiss.omp_set_num_threads(cfg["hnsw_threads"])
        t0 = time.time()
        c0 = cpu_seconds()
        index = (faiss.IndexHNSWFlat(d, cfg["m"], ip) if sq is None
                 else faiss.IndexHNSWSQ(d, getattr(faiss.ScalarQuantizer, sq), cfg["m"], ip))
        index.hnsw.efConstruction = cfg["efc"]
        if not index.is_trained:
            index.train(xb)
        index.add(xb)
        seconds = time.time() - t0
        busy = (cpu_seconds() - c0) / seconds
        del xb
        peak = status_mb("VmHWM")
        faiss.write_index(index, str(path) + ".tmp")
        os.replace(str(path) + ".tmp", path)
        meta.write_text(json.dumps(dict(seconds=seconds, peak_rss_mb=peak, cores_busy=busy)))
        emit(dict(event="hnsw_build", cached=False, seconds=seconds, m=cfg["m"], ef_construction=cfg["efc"],
                  threads=cfg["hnsw_threads"], file_bytes=path.stat().st_size, peak_rss_mb=peak, cores_busy=busy))
    else:
        index = faiss.read_index(str(path))
        m = json.loads(meta.read_text())
        emit(dict(event="hnsw_build", cached=True, seconds=m["seconds"], m=cfg["m"], ef_construction=cfg["efc"],
                  threads=cfg["hnsw_threads"], file_bytes=path.stat().st_size, peak_rss_mb=m["peak_rss_mb"],
                  cores_busy=m.get("cores_busy", 0.0)))
    for ef in cfg["ef"]:
        reset_peak()
        index.hnsw.efSearch = ef
        faiss.omp_set_num_threads(cfg["threads"])
        index.search(xq[:50], k)  # warm-up, as bench_dense_search
        c0 = cpu_seconds()
        t0 = time.time()
        _, ids = index.search(xq, k)
        seconds = time.time() - t0
        busy = (cpu_seconds() - c0) / seconds
        faiss.omp_set_num_threads(1)
        ms = []
        for q in range(nq):
            t1 = time.perf_counter()
            index.search(xq[q:q + 1], k)
            ms.append((time.perf_counter() - t1) * 1e3)
        emit(dict(event="hnsw", ef=ef, threads=cfg["threads"], seconds=seconds, qps=nq / seconds, cores_busy=busy,
                  recall=recall(ids), p50_ms=float(np.percentile(ms, 50)), p99_ms=float(np.percentile(ms, 99)),
                  qps_1thread=1e3 * nq / sum(ms), load_seconds=0.0, peak_rss_mb=status_mb("VmHWM")))
    emit(dict(event="done", peak_rss_mb=status_mb("VmHWM")))
    return 0


# ---------------------------------------------------------------------------------------------------
# The report


def front(points):
    """The Pareto front of (recall, qps) points: ascending recall, each with the best QPS at >= it."""
    pts = sorted(points)
    out, best = [], 0.0
    for r, q in reversed(pts):
        best = max(best, q)
        out.append((r, best))
    return list(reversed(out))


def qps_at(points, r):
    """(QPS at recall r along the curve, is_lower_bound), or None when the curve does not reach r."""
    f = front(points)
    if not f or r > f[-1][0] + 1e-12:
        return None
    if r <= f[0][0]:
        return f[0][1], r < f[0][0] - 1e-12
    for (r0, q0), (r1, q1) in zip(f, f[1:]):
        if r0 <= r <= r1:
            if r1 - r0 < 1e-12:
                return q1, False
            w = (r - r0) / (r1 - r0)
            return math.exp(math.log(q0) * (1 - w) + math.log(q1) * w), False
    return f[-1][1], False


def ratio_text(num, den):
    """num / den where each is (value, lower_bound) or None."""
    if num is None or den is None:
        return "n/a"
    if num[1] and den[1]:
        return "?"
    return ("≥" if num[1] else "≤" if den[1] else "") + f"{num[0] / den[0]:.2f}x"


def fmt_q(v):
    if v is None:
        return "n/a"
    return ("≥" if v[1] else "") + f"{v[0]:,.0f}"


def cpu_info():
    model, flags = "?", set()
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name") and model == "?":
            model = line.split(":", 1)[1].strip()
        elif line.startswith("flags") and not flags:
            flags = set(line.split(":", 1)[1].split())
    try:
        out = subprocess.run(["lscpu"], capture_output=True, text=True).stdout
        fam = {k.strip(): v.strip() for k, v in (l.split(":", 1) for l in out.splitlines() if ":" in l)}
        if fam.get("Model name"):
            model = fam["Model name"]
        extra = f" (family {fam.get('CPU family', '?')}, model {fam.get('Model', '?')})"
    except OSError:
        extra = ""
    wanted = ["avx2", "fma", "f16c", "avx512f", "avx512_vnni", "avx512_bf16", "amx_tile"]
    return model + extra, " ".join(f"{f}={'yes' if f in flags else 'no'}" for f in wanted)


def by_event(events, name):
    return [e for e in events if e.get("event") == name]


def mb(b):
    return f"{b / 2**20:,.0f} MB"


def report_precision(a, prec, ours, faiss_run, targets):
    oe, orss, oerr = ours
    fe, frss, ferr = faiss_run
    # The stages' own peaks (a stage resets the kernel's high-water mark, which wait4's figure is too),
    # less those of files reused from an earlier run.
    orss, frss = (max([ru] + [e.get(k, 0.0) for e in ev if not e.get("cached") for k in ("peak_rss_mb", "rss_mb")])
                  for ev, ru in ((oe, orss), (fe, frss)))
    flat_l, hnsw_l, _ = FAISS_KINDS[prec]
    print(f"\n=== {prec}: rerank.cpp {prec} vs FAISS {flat_l} / {hnsw_l} ===")
    for label, err in (("rerank.cpp", oerr), ("FAISS", ferr)):
        if err:
            print(f"  {label} {'not run' if err.startswith('skipped') else 'FAILED'}: {err}")
    ow, fw = by_event(oe, "write"), by_event(fe, "write")
    if ow:
        w = ow[0]
        print(f"  rerank.cpp vector file: {mb(w['file_bytes'])}, written in {w['seconds']:.1f} s "
              f"({w['rows_per_s']:,.0f} vectors/s){' (cached from an earlier run)' if w['cached'] else ''}")
    if fw:
        w = fw[0]
        print(f"  FAISS {flat_l}: {mb(w['file_bytes'])} of codes, added in {w['seconds']:.1f} s")
    # Exact
    oex = {e["threads"]: e for e in by_event(oe, "exact")}
    fex = {}
    for e in by_event(fe, "exact"):
        fex.setdefault(e["threads"], {})[e.get("variant", "default")] = e
    blas_thr = next((e.get("blas_threshold") for e in by_event(fe, "exact") if e.get("variant") == "default"), "?")
    print(f"\n  Exact search, all {a.queries:,} queries in one batch (best of {a.exact_rounds}); FAISS default: "
          f"distance_compute_blas_threshold {blas_thr} as shipped (one SIMD scan per query below it), "
          f"FAISS BLAS: threshold 20 (sgemm blocks, as rerank.cpp); FAISS's scans timed on the first "
          f"{min(a.scan_queries, a.queries)} queries:")
    print(f"  {'threads':>7}  {'rerank.cpp QPS':>14} {'recall@10':>9} {'cores':>5}   {'FAISS default':>13} "
          f"{'FAISS BLAS':>10} {'recall@10':>9} {'cores':>5}   {'ratio to best':>13}")

    def cell(e, key, fmt):
        return format(e[key], fmt) if e else "-"

    best_faiss = {}
    for t in sorted(set(oex) | set(fex)):
        o, fv = oex.get(t), fex.get(t, {})
        fb = max(fv.values(), key=lambda e: e["qps"]) if fv else None
        best_faiss[t] = fb
        ratio = f"{o['qps'] / fb['qps']:.2f}x" if o and fb else "n/a"
        print(f"  {t:>7}  {cell(o, 'qps', ',.1f'):>14} {cell(o, 'recall', '.4f'):>9} {cell(o, 'cores_busy', '.2f'):>5}   "
              f"{cell(fv.get('default'), 'qps', ',.1f'):>13} {cell(fv.get('blas'), 'qps', ',.1f'):>10} "
              f"{cell(fb, 'recall', '.4f'):>9} {cell(fb, 'cores_busy', '.2f'):>5}   {ratio:>13}")
    t = max(set(oex) & set(fex), default=None)
    if t is not None:
        fb = best_faiss[t]
        r = oex[t]["qps"] / fb["qps"]
        targets.append((prec, f"exact search >= 1.0x FAISS {flat_l} ({t} threads, its faster setting: "
                        f"{fb.get('variant', 'default')})", r >= 1.0,
                        f"{oex[t]['qps']:,.1f} vs {fb['qps']:,.1f} QPS = {r:.2f}x"))
    # HNSW
    ob, fb = by_event(oe, "hnsw_build"), by_event(fe, "hnsw_build")
    print(f"\n  HNSW, M={a.hnsw_m}, efConstruction={a.ef_construction}, built on {a.hnsw_threads} threads, "
          f"searched with {a.threads} threads (QPS) and 1 thread (latency):")
    for label, b in (("rerank.cpp", ob), (f"FAISS {hnsw_l}", fb)):
        if b:
            b = b[0]
            print(f"    build {label}: {b['seconds']:.1f} s ({b.get('cores_busy', 0):.2f} cores busy), "
                  f"file {mb(b['file_bytes'])}, peak RSS {b['peak_rss_mb']:,.0f} MB"
                  f"{' (cached from an earlier run)' if b['cached'] else ''}")
    if ob and fb:
        print(f"    build time ratio FAISS / rerank.cpp: {fb[0]['seconds'] / ob[0]['seconds']:.2f}x")
    oh = {e["ef"]: e for e in by_event(oe, "hnsw")}
    fh = {e["ef"]: e for e in by_event(fe, "hnsw")}
    print(f"\n  {'ef':>5} | {'rerank.cpp recall':>17} {'QPS':>8} {'cores':>5} {'p50 ms':>7} {'p99 ms':>7} | "
          f"{'FAISS recall':>12} {'QPS':>8} {'cores':>5} {'p50 ms':>7} {'p99 ms':>7} | {'QPS ratio':>9}")
    for ef in sorted(set(oh) | set(fh)):
        o, f = oh.get(ef), fh.get(ef)
        left = (f"{o['recall']:>17.4f} {o['qps']:>8,.0f} {o['cores_busy']:>5.2f} {o['p50_ms']:>7.3f} "
                f"{o['p99_ms']:>7.3f}" if o else f"{'-':>17} {'':>8} {'':>5} {'':>7} {'':>7}")
        right = (f"{f['recall']:>12.4f} {f['qps']:>8,.0f} {f['cores_busy']:>5.2f} {f['p50_ms']:>7.3f} "
                 f"{f['p99_ms']:>7.3f}" if f else f"{'-':>12} {'':>8} {'':>5} {'':>7} {'':>7}")
        ratio = f"{o['qps'] / f['qps']:.2f}x" if o and f else ""
        print(f"  {ef:>5} | {left} | {right} | {ratio:>9}")
    ocurve = [(e["recall"], e["qps"]) for e in oh.values()]
    fcurve = [(e["recall"], e["qps"]) for e in fh.values()]
    if ocurve and fcurve:
        print("\n  At matched recall@10 (the other's QPS interpolated along its recall-QPS curve; only the points "
              "no other ef beats in both recall and QPS):")
        print(f"  {'':>11} {'recall@10':>9}  {'rerank.cpp QPS':>14}  {'FAISS QPS':>10}  {'ratio':>7}")
        def on_front(points, e):  # not beaten by another point with >= recall and > QPS
            return not any(r >= e["recall"] and q > e["qps"] for r, q in points)

        for ef in sorted(oh):
            if not on_front(ocurve, oh[ef]):
                continue
            r = oh[ef]["recall"]
            ov, fv = qps_at(ocurve, r), qps_at(fcurve, r)
            print(f"  {'ours ef=' + str(ef):>11} {r:>9.4f}  {fmt_q((oh[ef]['qps'], False)):>14}  {fmt_q(fv):>10}  "
                  f"{ratio_text((oh[ef]['qps'], False), fv):>7}")
        for ef in sorted(fh):
            if not on_front(fcurve, fh[ef]):
                continue
            r = fh[ef]["recall"]
            ov = qps_at(ocurve, r)
            print(f"  {'FAISS ef=' + str(ef):>11} {r:>9.4f}  {fmt_q(ov):>14}  {fmt_q((fh[ef]['qps'], False)):>10}  "
                  f"{ratio_text(ov, (fh[ef]['qps'], False)):>7}")
        for target in TARGET_RECALLS:
            lowest = max(front(ocurve)[0][0], front(fcurve)[0][0])
            r = max(target, lowest)
            ov, fv = qps_at(ocurve, r), qps_at(fcurve, r)
            at = f"recall@10 {target:.2f}" + (f" (judged at {r:.4f}, the lowest both reach)" if r > target else "")
            name = f"HNSW >= 1.0x FAISS {hnsw_l} at recall@10 {target:.2f}"
            if ov is None and fv is None:
                targets.append((prec, name, None, f"neither reaches {r:.4f} at the ef tried"))
            elif ov is None:
                targets.append((prec, name, False, f"rerank.cpp does not reach {r:.4f} (FAISS: {fmt_q(fv)} QPS)"))
            elif fv is None:
                targets.append((prec, name, True, f"FAISS does not reach {r:.4f} (rerank.cpp: {fmt_q(ov)} QPS)"))
            else:
                ratio = ov[0] / fv[0]
                targets.append((prec, name, ratio >= 1.0, f"{at}: {fmt_q(ov)} vs {fmt_q(fv)} QPS = "
                                f"{ratio_text(ov, fv)}"))
    # Memory
    print(f"\n  Peak RSS of the whole run: rerank.cpp {orss:,.0f} MB, FAISS {frss:,.0f} MB (FAISS's includes "
          "the Python interpreter and NumPy, and the collection read into memory to build its indexes; "
          "rerank.cpp's, the collection mapped while its vector file is written)")
    if oh and fh:
        o, f = oh[max(oh)], fh[max(fh)]
        print(f"  RSS while searching HNSW: rerank.cpp {o['rss_mb']:,.0f} MB (the vector file and the "
              f"graph, both mapped), FAISS {f['rss_mb']:,.0f} MB (its index: vectors and links)")


def parse_args(argv):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--bench", type=Path, default=Path("build/bench/bench_dense_search"))
    ap.add_argument("--cache", type=Path, default=Path.home() / ".cache" / "rerank.cpp" / "bench" / "dense-peers")
    ap.add_argument("--n", type=int, default=1_000_000, help="collection size (default 1,000,000)")
    ap.add_argument("--dims", type=int, default=384, help="dimensions (default 384)")
    ap.add_argument("--queries", type=int, default=1000, help="queries (default 1,000)")
    ap.add_argument("--centres", type=int, default=0, help="cluster centres (default n / 100)")
    ap.add_argument("--sigma", type=float, default=0.7, help="noise around the centres (default 0.7)")
    ap.add_argument("--seed", type=int, default=1, help="seed of the collection (default 1)")
    ap.add_argument("--query-seed", type=int, default=2, help="seed of the queries (default 2)")
    ap.add_argument("--precisions", default="f32,f16,int8", help="subset of f32,f16,int8 (default all three)")
    ap.add_argument("--threads", type=int, default=2, help="search threads (default 2)")
    ap.add_argument("--hnsw-m", type=int, default=16, help="HNSW M (default 16)")
    ap.add_argument("--ef-construction", type=int, default=100, help="HNSW efConstruction (default 100)")
    ap.add_argument("--hnsw-threads", type=int, default=2, help="HNSW build threads (default 2)")
    ap.add_argument("--ef", default="10,16,24,32,48,64,96,128,192,256,384,512", help="efSearch values")
    ap.add_argument("--k", type=int, default=10, help="recall@k (default 10)")
    ap.add_argument("--exact-rounds", type=int, default=1, help="exact-search repetitions, best kept (default 1)")
    ap.add_argument("--scan-queries", type=int, default=200, help="queries of FAISS's per-query scans (its flat "
                    "index below the BLAS threshold, its scalar quantizers; default 200)")
    ap.add_argument("--rebuild", action="store_true", help="make both libraries' files and graphs again")
    ap.add_argument("--only", choices=["rerank", "faiss"], help="run one library only (the report shows what ran)")
    ap.add_argument("--faiss-worker", help=argparse.SUPPRESS)
    a = ap.parse_args(argv)
    if a.faiss_worker:
        return a
    a.precisions = [p.strip() for p in a.precisions.split(",") if p.strip()]
    for p in a.precisions:
        if p not in FAISS_KINDS:
            ap.error(f"unknown precision {p!r} (choose from f32, f16, int8)")
    try:
        a.ef = sorted({int(x) for x in a.ef.split(",") if x.strip()})
    except ValueError:
        ap.error(f"--ef takes comma-separated integers, not {a.ef!r}")
    if not a.ef or min(a.ef) < 1:
        ap.error("--ef needs positive values")
    if a.n < 1 or a.dims < 1 or a.queries < 1 or a.threads < 1 or a.hnsw_threads < 1 or a.k < 1 or a.k > TRUTH_K:
        ap.error("--n, --dims, --queries, --threads, --hnsw-threads must be positive, --k within 1..100")
    a.centres = a.centres or max(1, a.n // 100)
    if a.only != "faiss" and not a.bench.exists():
        ap.error(f"{a.bench} not found (bench/dense_peers.sh builds it)")
    return a


def main(argv):
    a = parse_args(argv)
    if a.faiss_worker:
        return faiss_worker(json.loads(a.faiss_worker))
    for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):  # NumPy's ground truth too
        os.environ[var] = str(a.threads)
    t_start = time.time()
    a.cache.mkdir(parents=True, exist_ok=True)
    data = prepare_data(a)
    results = {}
    for prec in a.precisions:
        skipped = ([], 0.0, "skipped (--only)")
        load = os.getloadavg()[0]
        ours = run_ours(a, data, prec) if a.only != "faiss" else skipped
        theirs = run_faiss(a, data, prec) if a.only != "rerank" else skipped
        results[prec] = dict(rerank=ours, faiss=theirs, load_before=load)

    cpu, flags = cpu_info()
    fs = next((e for r in results.values() for e in r["faiss"][0] if e.get("event") == "setup"), {})
    print(f"\nDense search, rerank.cpp vs FAISS {fs.get('faiss_version', '?')} "
          f"({fs.get('faiss_compile_options', '?')}): {a.n:,} x {a.dims} unit vectors in {a.centres:,} clusters "
          f"(sigma {a.sigma}), {a.queries:,} queries, recall@{a.k} against the exact top-{a.k}.")
    print(f"CPU: {cpu}, {os.cpu_count()} cores; {flags}")
    print(f"Threads: search {a.threads}, HNSW build {a.hnsw_threads}; load average before the runs: " +
          ", ".join(f"{p} {r['load_before']:.2f}" for p, r in results.items()))
    busy = [e["cores_busy"] for r in results.values() for run in (r["rerank"], r["faiss"]) for e in run[0]
            if e.get("event") in ("exact", "hnsw") and e.get("threads") == a.threads and "cores_busy" in e]
    if a.threads > 1 and busy and min(busy) < 0.75 * a.threads:
        print(f"WARNING: the {a.threads}-thread runs kept only {min(busy):.2f}-{max(busy):.2f} cores busy (the "
              "\"cores\" columns): another job shared the machine, so the figures are slower than an idle "
              "machine's and the two libraries may not have had equal conditions.")
    targets = []
    for prec, r in results.items():
        report_precision(a, prec, r["rerank"], r["faiss"], targets)
    print("\nTargets (the issue's: f32; f16 and int8 against FAISS's scalar quantizers, for information):")
    for prec, name, ok, detail in targets:
        word = "n/a " if ok is None else "PASS" if ok else "FAIL"
        print(f"  {word}  [{prec}] {name}: {detail}")
    failed = any(r[2] for res in results.values() for r in (res["rerank"], res["faiss"]) if r[2] and
                 not r[2].startswith("skipped"))
    f32 = {e["threads"]: e for e in by_event(results.get("f32", {}).get("rerank", ([],))[0], "exact")}
    if f32 and min(e["recall"] for e in f32.values()) < 0.999:
        print("  ERROR: rerank.cpp exact f32 search missed the ground truth (recall@10 < 0.999)")
        failed = True
    out = a.cache / f"results-{time.strftime('%Y%m%d-%H%M%S')}.json"
    out.write_text(json.dumps(dict(time=time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
                                   minutes=(time.time() - t_start) / 60, options=vars(a), cpu=cpu, flags=flags,
                                   results=results, targets=targets), indent=1, default=str))
    print(f"\ndetails: {out} ({(time.time() - t_start) / 60:.1f} minutes)")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
