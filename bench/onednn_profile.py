#!/usr/bin/env python3
"""Where rerank.cpp's oneDNN encoder runtime spends its time, from oneDNN's own execution log.

Run a scoring command with ONEDNN_VERBOSE=1 (oneDNN then prints one line per primitive execution
with its wall time in ms), then give the log to this script:

    ONEDNN_VERBOSE=1 build/bench/bench_neural_rerank ... > verbose.log
    bench/onednn_profile.py verbose.log [--threads-per-primitive 1]

It prints, per kind of work (the projections' and feed-forward's matmuls, attention matmuls,
softmax, layer norm, conversions of inputs to BF16 or INT8), the time, its share and for matmuls the FLOP rate. The rate
is per primitive call: with one worker per thread (the runtime's default) each call runs on one
thread, so compare it with the one-thread peak (bench_sgemm_peak --threads 1). Weight packing at
load time (reorders into blocked layouts) is left out. Used by bench/encoder_peers.py.
"""
import argparse
import collections
import json
import sys


def profile(lines):
    """{kind: {"ms": total, "calls": n, "flops": total}} from oneDNN verbose lines."""
    out = collections.defaultdict(lambda: {"ms": 0.0, "calls": 0, "flops": 0.0})
    for line in lines:
        if not line.startswith(("onednn_verbose,exec", "dnnl_verbose,exec")):
            continue
        f = line.rstrip("\n").split(",")
        kind, ms, shape = f[3], float(f[-1]), f[-2]
        flops = 0.0
        if kind == "matmul":
            a, b, _ = shape.split(":")
            da, db = [int(x) for x in a.split("x")], [int(x) for x in b.split("x")]
            if len(da) == 3:
                kind, flops = "attention matmul", 2.0 * da[0] * da[1] * da[2] * db[2]
            else:
                kind, flops = "projection/feed-forward matmul", 2.0 * da[0] * da[1] * db[1]
        elif kind == "reorder":
            if "blocked:ba:" in line:  # packing weights at load time
                continue
            kind = "input conversion (BF16, INT8)"
        e = out[kind]
        e["ms"] += ms
        e["calls"] += 1
        e["flops"] += flops
    return dict(out)


def summary(prof):
    total = sum(e["ms"] for e in prof.values()) or 1.0
    rows = []
    for kind, e in sorted(prof.items(), key=lambda kv: -kv[1]["ms"]):
        rows.append(dict(kind=kind, ms=e["ms"], share=e["ms"] / total, calls=e["calls"],
                         gflops=(e["flops"] / e["ms"] / 1e6) if e["flops"] and e["ms"] else None))
    return dict(total_ms=total, rows=rows)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("log")
    ap.add_argument("--json", action="store_true", help="print JSON instead of a table")
    a = ap.parse_args()
    with open(a.log, encoding="utf-8", errors="replace") as f:
        s = summary(profile(f))
    if a.json:
        print(json.dumps(s, indent=2))
        return 0
    print(f"{'work':32} {'ms':>9} {'share':>6} {'calls':>7} {'GFLOP/s per call':>17}")
    for r in s["rows"]:
        rate = f"{r['gflops']:.0f}" if r["gflops"] else ""
        print(f"{r['kind']:32} {r['ms']:9.1f} {100 * r['share']:5.1f}% {r['calls']:7d} {rate:>17}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
