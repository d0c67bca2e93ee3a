"""Score checks, tables and the targets' summary of bench/encoder_peers.py."""
import math

# Tolerances against PyTorch F32, per precision, from measurement (bench/encoder_peers.sh on SciFact,
# 1 query x 100 per workload and 200 embedder documents, 2026-11-29 16:46-16:56 UTC): about 2.5x the
# largest difference measured on either cross-encoder (MiniLM-L6 / base) or, for embeddings, 6x (1 - cos
# grows with the square of a difference). Cross-encoders: max |Δ logit|. These random models' logits sit
# in a narrow band (standard deviation 0.03-0.1 over a query's documents; the table prints it) that
# their wide random head and pooler shift as a whole, so a weight rounding moves every logit by about
# the same amount: the loose tolerances catch arithmetic gone wrong, while framing and truncation
# (shared by a runtime's precisions) are checked by its F32 row.
#   f32:  oneDNN F32 and ORT F32: 3.9e-5 / 8.7e-5 (summation order only): 1e-3.
#   f16:  llama.cpp's F16 weights and F16 attention: rerank.cpp 1.3e-2 / 4.3e-2, llama-server (also its
#         tanh GELU) 2.2e-2 / 5.3e-2: 0.15.
#   bf16: BF16 inputs and weights in every projection: 0.11 / 0.29: 0.75.
#   q8_0: rerank.cpp's Q8_0 weights with BF16 matmuls (precision=auto on this CPU): 0.23 / 0.39 (0.12 /
#         0.19 with F32 matmuls): 1.
#   int8: ORT's dynamic quantization rounds every activation to 8 bits with one scale per tensor, and
#         the embedding tables too: 0.81 / 1.6: 4.
CE_TOLERANCE = {"f32": 1e-3, "f16": 0.15, "bf16": 0.75, "q8_0": 1.0, "int8": 4.0}
# Embeddings (the real all-MiniLM-L6-v2, normalised): 1 - min cosine similarity to PyTorch's vector.
#   f32:  rerank.cpp F32 5.9e-13, ORT F32 5.2e-13: 1e-9 (llama.cpp from the F32 GGUF, 2e-6 with its F16
#         attention, would fail it).  f16: llama.cpp F16, rerank.cpp's and llama-server's, 2.2e-6: 1.5e-5.
#   bf16: 2.3e-5: 1.5e-4.  q8_0 (BF16 matmuls): 3.4e-4: 2e-3.  int8: ORT 8.3e-3 / 8.9e-3: 6e-2.
EMBED_TOLERANCE = {"f32": 1e-9, "f16": 1.5e-5, "bf16": 1.5e-4, "q8_0": 2e-3, "int8": 6e-2}
TARGETS = {"ort": 1.0, "llama-server": 1.3, "peak": 0.60}


def check_outputs(wl, rows, outputs):
    """Each row's distance from PyTorch's outputs (max |Δ logit|, or 1 - min cosine) and verdict."""
    import numpy as np

    ref = outputs.get("torch")
    for rid, row in rows.items():
        tol = (CE_TOLERANCE if wl["kind"] == "ce" else EMBED_TOLERANCE)[row["precision"]]
        row.update(tolerance=tol, delta=None, check="n/a" if "error" not in row else "error")
        if ref is None or rid not in outputs:
            continue
        if wl["kind"] == "ce":
            a = np.asarray([v for q in outputs[rid] for v in q], dtype=np.float64)
            b = np.asarray([v for q in ref for v in q], dtype=np.float64)
            delta = float(np.max(np.abs(a - b))) if a.shape == b.shape else math.inf
            row["reference_spread"] = float(np.std(b))
        else:
            a, b = (np.asarray(v, dtype=np.float64) for v in (outputs[rid], ref))
            if a.shape != b.shape:
                delta = math.inf
            else:
                a /= np.linalg.norm(a, axis=1, keepdims=True)
                b /= np.linalg.norm(b, axis=1, keepdims=True)
                delta = float(1 - np.min(np.sum(a * b, axis=1)))
        delta = math.inf if math.isnan(delta) else delta
        row.update(delta=delta, check="reference" if rid == "torch" else "ok" if delta <= tol else "OFF")


def best(rows, ids):
    """The fastest of the rows `ids` that ran: (row, docs/s) or (None, None)."""
    cands = [r for r in rows if r["id"] in ids and r.get("docs_s")]
    if not cands:
        return None, None
    r = max(cands, key=lambda r: r["docs_s"])
    return r, r["docs_s"]


def bf16_matmuls(row, peak):
    """True for rows whose matrix products run in BF16: rerank.cpp BF16, and rerank.cpp Q8_0 on a CPU
    with native BF16 (its precision=auto picks BF16 for weights of 8 bits or fewer there)."""
    return row["precision"] == "bf16" or (row["id"] == "rerank-q8_0" and peak["bf16"] > 0)


def rate(block, row, peak):
    """Useful GFLOP/s (the workload's nominal FLOPs / median seconds) and its fraction of the peak the
    row's arithmetic is compared with: oneDNN's BF16 matmul for BF16 matmuls, else the F32 peak (which
    int8 arithmetic, 4 products per F32 lane, can pass)."""
    if not row.get("seconds"):
        return None, None
    gflops = block["flops"] / row["seconds"] / 1e9
    ref = peak["bf16"] if bf16_matmuls(row, peak) else peak["f32"]
    return gflops, (gflops / ref if ref else None)


def precision(row, peak):
    names = {"f32": "F32", "f16": "F16 weights", "bf16": "BF16", "int8": "int8 (dynamic)", "q8_0": "Q8_0 weights"}
    return names[row["precision"]] + (", BF16 matmuls" if row["id"] == "rerank-q8_0" and bf16_matmuls(row, peak)
                                      else ", F32 matmuls" if row["id"] == "rerank-q8_0" else "")


def fmt(v, spec, none="-"):
    return none if v is None else format(v, spec)


def print_table(block, peak):
    rows = block["rows"]
    _, ort_f32 = best(rows, ("ort-f32-pair", "ort-f32-batch"))
    _, ort_int8 = best(rows, ("ort-int8-pair", "ort-int8-batch"))
    _, server = best(rows, ("llama-server",))
    unit = "max |Δ logit|" if block["kind"] == "ce" else "1 - min cos"
    spread = next((r["reference_spread"] for r in rows if "reference_spread" in r), None)
    loads = [x["load_before"] for r in rows for x in r["rounds"] if "load_before" in x]
    print(f"\n### {block['model']} / {block['workload']}: {block['describe']}; {block['flops'] / 1e9:.0f} GFLOP"
          + (f"; PyTorch's logits: standard deviation {spread:.3g}" if spread is not None else "")
          + (f"; load average before the runs {min(loads):.1f}-{max(loads):.1f}" if loads else "") + "\n")
    onnx = block.get("onnx", {})
    if onnx:
        print(f"ONNX Runtime's model: {onnx['onnx_export']}, then {onnx['onnx_optimizer']} "
              f"({', '.join(onnx['fused_operators'])}); int8: quantize_dynamic QInt8, {onnx['int8_chosen']} "
              "(the faster of per-tensor and per-channel when the model was built)\n")
    head = ["runtime", "precision", "docs/s", "min-max", "x ORT F32", "x ORT int8", "x llama-server", "GFLOP/s", "% peak",
            f"{unit} (tol)", "check", "RSS MB"]
    print("| " + " | ".join(head) + " |")
    print("|---|---|" + "---:|" * (len(head) - 4) + "---|---:|")
    for r in rows:
        if "docs_s" not in r:
            print(f"| {r['label']} | error: {r.get('error', '?')[:120]} |" + " |" * (len(head) - 2))
            continue
        gflops, frac = rate(block, r, peak)
        ratio = lambda ref: fmt(ref and r["docs_s"] / ref, ".2f") + ("x" if ref else "")  # noqa: E731
        print(f"| {r['label']} | {precision(r, peak)} | {r['docs_s']:.1f} | {r['docs_s_min']:.1f}-{r['docs_s_max']:.1f} | "
              f"{ratio(ort_f32)} | {ratio(ort_int8)} | {ratio(server)} | {gflops:.0f} | "
              f"{fmt(frac and 100 * frac, '.0f')}% | {fmt(r.get('delta'), '.1e')} ({r['tolerance']:g}) | "
              f"{r['check']}{' (partly failed)' if r.get('error') else ''} | {r['rss_mb']:.0f} |")


def verdict(value, target):
    return "n/a" if value is None else ("PASS" if value >= target else "FAIL")


def print_summary(blocks, peak):
    """The targets per model x workload; returns True when a run failed or its scores are off."""
    print("\n### Targets (rerank.cpp at equal precision: F32 or BF16 against ORT F32 and llama-server, its "
          "8-bit rows (INT8, or Q8_0 weights) against ORT int8; the better ORT mode; % of the matmul peak its "
          "arithmetic runs on)\n")
    print(f"| model / workload | rerank.cpp F32/BF16 vs ORT F32 (>= {TARGETS['ort']}x) | INT8/Q8_0 vs ORT int8 "
          f"(>= {TARGETS['ort']}x) | vs llama-server (>= {TARGETS['llama-server']}x) | % of peak "
          f"(>= {TARGETS['peak']:.0%}) |")
    print("|---|---|---|---|---|")
    failed = False
    for b in blocks:
        rows = b["rows"]
        failed |= any(r["check"] in ("OFF", "error") or r.get("error") for r in rows)
        ours, ours_s = best(rows, ("rerank-f32", "rerank-bf16"))
        _, q8 = best(rows, ("rerank-int8", "rerank-q8_0"))
        _, ort_f32 = best(rows, ("ort-f32-pair", "ort-f32-batch"))
        _, ort_int8 = best(rows, ("ort-int8-pair", "ort-int8-batch"))
        _, server = best(rows, ("llama-server",))
        ratio = lambda x, y: x / y if x and y else None  # noqa: E731
        r1, r2, r3 = ratio(ours_s, ort_f32), ratio(q8, ort_int8), ratio(ours_s, server)
        frac = rate(b, ours, peak)[1] if ours else None
        cell = lambda v, t, s="x": f"{verdict(v, t)} ({fmt(v, '.2f')}{s if v is not None else ''})"  # noqa: E731
        print(f"| {b['model']} / {b['workload']} ({ours['label'] if ours else 'no rerank.cpp F32/BF16 row'}) | "
              f"{cell(r1, TARGETS['ort'])} | {cell(r2, TARGETS['ort'])} | {cell(r3, TARGETS['llama-server'])} | "
              f"{verdict(frac, TARGETS['peak'])} ({fmt(frac and 100 * frac, '.0f')}%) |")
    bad = [f"{b['model']}/{b['workload']}: {r['label']} ({r['check'] if r['check'] != 'ok' else 'error'})"
           for b in blocks for r in b["rows"] if r["check"] in ("OFF", "error") or r.get("error")]
    print("\nThe targets are reported, not enforced; exit status 1 only for failed runs and scores off their "
          "tolerance" + (":\n  " + "\n  ".join(bad) if bad else ": none."))
    return failed
