#!/usr/bin/env python3
"""Writes docs/RESULTS-real-models.md and its SVG plot from bench/effectiveness.sh's measured outputs.

    python3 bench/effectiveness_report.py OUT_DIR RESULTS.md PLOT.svg

OUT_DIR holds manifest.tsv (one line per row), meta.json, and per row rows/ID.{eval,compare,log}. Every
number in the outputs is read from those files: `rerank eval`, `rerank compare` and the cost line that
`rerank rerank` prints. Standard library only.
"""
import csv
import json
import math
import os
import re
import sys
import time

COST_RE = re.compile(
    r"reranked (\d+) queries, (\d+) documents in ([\d.]+) s .*?: (\d+) model calls, (\d+) forward passes, "
    r"(\d+) prompt tokens, (\d+) cached tokens, .*?([\d.eE+-]+) GFLOP estimated")
GEN_RE = re.compile(r"(\d+) generated tokens")
REPAIR_RE = re.compile(r"(\d+) repaired answers")

MODEL_SHORT = {"-": "—", "minilm-l6-embed": "all-MiniLM-L6-v2", "smollm2-135m": "SmolLM2-135M-Instruct",
               "gemma3-270m": "Gemma 3 270M"}
COLOR = {"minilm-l6-embed": "#1f77b4", "smollm2-135m": "#d62728", "gemma3-270m": "#2ca02c"}
SHORT = {"embedding": "emb", "e2rank": "E2Rank", "rrf": "RRF", "pointwise": "point", "listwise": "list",
         "first": "FIRST", "insertrank": "insert", "setwise": "set", "pairwise": "pair"}


def read_eval(path):
    values = {}
    with open(path) as f:
        for line in f:
            parts = line.split()
            if len(parts) == 3 and parts[1] == "all":
                values[parts[0]] = float(parts[2])
    return values


def read_compare(path):
    rows, header = {}, None
    with open(path) as f:
        for line in f:
            if line.startswith("#") or not line.strip():
                continue
            cells = line.rstrip("\n").split("\t")
            if cells[0] == "measure":
                header = cells
                continue
            if header:
                rows[cells[0]] = dict(zip(header, cells))
    return rows


def read_cost(path):
    if not path or path == "-" or not os.path.exists(path):
        return None
    text = open(path, errors="replace").read()
    m = None
    for m in COST_RE.finditer(text):
        pass
    if m is None:
        return None
    nq = int(m.group(1))
    g = GEN_RE.search(text[m.start():])
    rep = REPAIR_RE.search(text[m.start():])
    return {
        "queries": nq,
        "docs": int(m.group(2)),
        "seconds": float(m.group(3)) / nq,
        "calls": int(m.group(4)) / nq,
        "passes": int(m.group(5)) / nq,
        "prompt": int(m.group(6)) / nq,
        "cached": int(m.group(7)) / nq,
        "gflop": float(m.group(8)) / nq,
        "generated": int(g.group(1)) / nq if g else None,
        "repaired": int(rep.group(1)) if rep else None,
    }


def read_run(path):
    """TREC run: query -> document ids, best first (by score, as trec_eval orders them)."""
    rows = {}
    with open(path) as f:
        for line in f:
            q, _, d, _, score, _ = line.split()
            rows.setdefault(q, []).append((-float(score), d))
    return {q: [d for _, d in sorted(v, key=lambda x: x[0])] for q, v in rows.items()}


def read_qrels(path):
    """BEIR qrels TSV (with header) or TREC qrels: query -> {document: grade}."""
    qrels = {}
    with open(path) as f:
        for line in f:
            cells = line.split()
            if len(cells) == 3 and cells[0] != "query-id":
                q, d, g = cells
            elif len(cells) == 4:
                q, _, d, g = cells
            else:
                continue
            qrels.setdefault(q, {})[d] = int(g)
    return qrels


def disc(i):  # 1-based rank, cut at 10
    return 1.0 / math.log2(i + 1) if i <= 10 else 0.0


def ndcg10(ranking, judged):
    idcg = sum(disc(i + 1) * g for i, g in enumerate(sorted((g for g in judged.values() if g > 0), reverse=True)))
    dcg = sum(disc(i + 1) * max(judged.get(d, 0), 0) for i, d in enumerate(ranking[:10]))
    return dcg / idcg if idcg > 0 else 0.0


def random_ndcg10(ranking, judged, k):
    """Expected nDCG@10 when the top k of `ranking` are put in a uniformly random order."""
    idcg = sum(disc(i + 1) * g for i, g in enumerate(sorted((g for g in judged.values() if g > 0), reverse=True)))
    if idcg == 0:
        return 0.0
    k = min(k, len(ranking))
    mean_disc = sum(disc(i) for i in range(1, k + 1)) / k if k else 0.0
    dcg = sum(max(judged.get(d, 0), 0) * mean_disc for d in ranking[:k])
    dcg += sum(max(judged.get(d, 0), 0) * disc(i + 1) for i, d in enumerate(ranking[k:], start=k))
    return dcg / idcg


def kendall_tau(order, reference):
    """Kendall's tau between two orders of the same items (no ties)."""
    pos = {d: i for i, d in enumerate(reference)}
    seq = [pos[d] for d in order if d in pos]
    n = len(seq)
    if n < 2:
        return 1.0
    concordant = sum(1 for i in range(n) for j in range(i + 1, n) if seq[i] < seq[j])
    pairs = n * (n - 1) // 2
    return (2 * concordant - pairs) / pairs


def fmt(v, digits=4):
    return "—" if v is None else f"{v:.{digits}f}"


def fmt_count(v):
    if v is None:
        return "n/r"
    if v >= 100:
        return f"{v:,.0f}"
    return f"{v:.1f}".rstrip("0").rstrip(".") if v != int(v) else f"{int(v)}"


def fmt_p(s):
    if s is None or s in ("nan", "-nan"):
        return "—"
    p = float(s)
    text = f"{p:.3f}" if p >= 0.001 else ("< 0.0001" if p == 0 else f"{p:.4f}")
    return f"**{text}**" if p < 0.05 else text


def main():
    out, results_path, svg_path = sys.argv[1:4]
    meta = json.load(open(os.path.join(out, "meta.json")))
    with open(os.path.join(out, "manifest.tsv")) as f:
        rows = list(csv.DictReader(f, delimiter="\t"))
    sections = {}
    for r in rows:
        sections.setdefault(r["section"], []).append(r)
        r["eval"], r["cmp"], r["cost"] = {}, {}, None
        if r["status"] == "ok":
            r["eval"] = read_eval(os.path.join(out, "rows", r["id"] + ".eval"))
            r["cmp"] = read_compare(os.path.join(out, "rows", r["id"] + ".compare"))
            if r["strategy"] != "bm25":
                r["cost"] = read_cost(r["log"])
    # queries of each (collection, N): read back from the subset files
    qids = {}
    for r in rows:
        key = (r["collection"], int(r["nq"]))
        if key not in qids:
            path = os.path.join(out, "data", r["collection"], f"q{r['nq']}.txt")
            qids[key] = [l.strip() for l in open(path)] if os.path.exists(path) else []

    md = []
    w = md.append
    minutes = meta["seconds"] / 60
    w("# Real models: effectiveness and cost per query")
    w("")
    w(f"Generated by `{meta['command']}` (`{meta['env']}`; see [BENCHMARKS.md](BENCHMARKS.md)). "
      "Do not edit: re-run the script.")
    w("")
    dirty = (f"; the binary was built from the working tree, where {meta['dirty_files']} file(s) under src/, "
             "include/ or CMakeLists.txt differed from that commit" if meta["dirty_files"] else "")
    loads = []
    for r in rows:
        p = os.path.join(out, "rows", r["id"] + ".load")
        if r["strategy"] not in ("bm25", "rrf") and os.path.exists(p):
            loads.append(float(open(p).read().split()[0]))
    load = (f"1-minute load average {min(loads):.2f}-{max(loads):.2f} as the reranking rows started"
            if loads else "load average not recorded")
    w(f"- **Machine**: {meta['cpu']}, {meta['cores']} cores, shared with other jobs ({load}); every rerank "
      f"process ran alone with {meta['threads']} thread(s).")
    logs = [r["log"] for r in rows if r["strategy"] not in ("bm25", "rrf") and r["status"] == "ok"]
    stamps = sorted(os.path.getmtime(p) for p in logs if os.path.exists(p))
    reused = sum(1 for r in rows if r.get("cached") == "1")
    model_secs = sum(r["cost"]["seconds"] * r["cost"]["queries"] for r in rows
                     if r["cost"] and r["strategy"] != "rrf")
    when = ""
    if stamps:
        t0, t1 = (time.strftime("%Y-%m-%d %H:%M", time.gmtime(t)) for t in (stamps[0], stamps[-1]))
        when = f"reranking runs finished between {t0} and {t1} UTC; "
    reuse = (f"; {reused} of {len(logs)} reranking rows were reused from an earlier run of the same binary, "
             "models and inputs (their figures are from that run)" if reused else "")
    w(f"- **Date**: {when}this invocation started {meta['start']} and took {minutes:.1f} min{reuse}. "
      f"Reranking time of all rows, model loading excluded: {model_secs / 60:.1f} min.")
    w(f"- **Commit**: `{meta['commit']}`{dirty} (binary sha256 `{meta['binary_sha']}`).")
    w(f"- **Models** (`scripts/fetch_models.sh`): all-MiniLM-L6-v2 F16 (`{meta['models']['minilm-l6-embed']}`, "
      f"mean pooling), SmolLM2-135M-Instruct Q4_1 (`{meta['models']['smollm2-135m']}`), Gemma 3 270M base "
      f"model Q4_K_M (`{meta['models']['gemma3-270m']}`, no chat template).")
    w("- **Candidates**: rerank.cpp's BM25 (flat index, k1=0.9 b=0.4) top 100; SciFact with "
      "`--remove-query` (as BEIR/Pyserini), MED without (its query and document ids are separate numberings). "
      "Documents below the reranked depth keep their BM25 order under the reranked ones.")
    w(f"- **Query subsets**: the first N judged queries of `qrels/test.tsv` in file order; each row is "
      f"compared with BM25 on exactly its own queries (`rerank compare`: paired two-sided t-test and "
      f"randomization test with 10,000 sign flips; **bold** p < 0.05; W/T/L counts queries where the row's "
      f"nDCG@10 is above / equal to / below BM25's).")
    w(f"- **Settings**: all-MiniLM-L6-v2 passages cut to 256 tokens (its sentence-transformers "
      f"max_seq_length); LLM prompts with passages cut to {meta['passage_tokens']} tokens (pointwise: "
      f"`--max-length {meta['passage_tokens'] + 128} --chunking firstp`); listwise, FIRST and InsertRank "
      f"windows of 20 with stride 10 (over a depth of {meta['llm_depth']}: "
      f"{1 if meta['llm_depth'] <= 20 else 1 + math.ceil((meta['llm_depth'] - 20) / 10)} window(s) per query); "
      f"setwise heapsort with 3 children and pairwise heapsort, both for the top 10.")
    w("- **Cost per query** (from `rerank rerank`'s cost line, divided by the queries): model calls (prompts "
      "answered: windows, comparisons in one order, sets, embeddings, pairs), prompt tokens evaluated, "
      "tokens served from a reused prefix (cached), generated tokens, forward passes (llama_decode calls), "
      "GFLOP (estimated from the model's shape, transformer only), seconds of reranking (model loading "
      "excluded). BM25's seconds are its search over all the collection's test queries, per query. "
      "`n/r`: not reported by this binary's `rerank rerank` summary.")
    w("- **Recall**: R@100 is the candidates' ceiling and is unchanged by any reranking of them; for rows "
      "reranking only the top k < 100 the table gives R@k, which reranking within the top k cannot change "
      "either (it equals BM25's R@k on the same queries).")
    w("")
    w(f"![ΔnDCG@10 against cost per query](real-models-cost.svg)")
    w("")
    w("*ΔnDCG@10 of each row against BM25 on the same queries, by estimated GFLOP per query (left) and "
      "seconds per query (right), log scale. The rows use different query subsets (see the tables): compare "
      "points by their distance to the BM25 line, not their absolute nDCG.*")
    w("")

    titles = {
        "scifact-emb": "SciFact: all-MiniLM-L6-v2, BM25 top 100 reranked",
        "med-emb": "MED: all-MiniLM-L6-v2, BM25 top 100 reranked",
        "sf-llm": "SciFact: LLM strategies with one prompt per window or per document",
        "sf-sort": "SciFact: LLM strategies that sort with many small prompts (setwise, pairwise)",
    }
    plot_points = []
    order_tables = []
    unchanged = []  # rows that returned BM25's order on every query
    for section, srows in sections.items():
        coll, nq = srows[0]["collection"], int(srows[0]["nq"])
        depths = sorted({int(r["depth"]) for r in srows if r["strategy"] != "bm25"})
        total = meta["bm25_nq"].get(coll)
        ids = qids.get((coll, nq), [])
        w(f"## {titles.get(section, section)}")
        w("")
        which = "all" if total == nq else f"the first {nq} of {total}"
        w(f"{coll}: {which} judged test queries (ids {', '.join(ids)}); reranking depth "
          f"{', '.join(map(str, depths))}.")
        w("")
        kdepth = [d for d in depths if d < 100]
        rec_head = "R@100" if not kdepth else f"R@{kdepth[0]}"
        w(f"| run | model | depth | nDCG@10 | MAP | {rec_head} | ΔnDCG@10 | p t-test | p rand. | W/T/L | "
          "calls/q | prompt tok/q | cached tok/q | gen. tok/q | passes/q | GFLOP/q | s/q |")
        w("|---|---|---:|---:|---:|---:|---:|---:|---:|---|---:|---:|---:|---:|---:|---:|---:|")
        bm25 = next((r for r in srows if r["strategy"] == "bm25"), None)
        for r in srows:
            depth = int(r["depth"])
            if r["status"] != "ok":
                w(f"| {r['label']} | {MODEL_SHORT[r['model']]} | {depth} | error: {r['error']} |||||||||||||")
                continue
            e, c, cost = r["eval"], r["cmp"].get("ndcg_cut_10", {}), r["cost"]
            rec = e.get(f"recall_{kdepth[0]}") if kdepth else e.get("recall_100")
            if r["strategy"] == "bm25":
                bm = meta["bm25_secs"][coll] / meta["bm25_nq"][coll]
                cells = ["—"] * 6 + [f"{bm:.4f}"]
                sig = ["—", "—", "—", "—"]
            else:
                delta = float(c["B-A"]) if c else None
                sig = [("+" if delta and delta > 0 else "") + fmt(delta), fmt_p(c.get("p_ttest")),
                       fmt_p(c.get("p_random")), f"{c.get('A<B', '?')}/{c.get('A=B', '?')}/{c.get('A>B', '?')}"]
                if cost:
                    cells = [fmt_count(cost["calls"]), fmt_count(cost["prompt"]), fmt_count(cost["cached"]),
                             fmt_count(cost["generated"]), fmt_count(cost["passes"]), f"{cost['gflop']:,.0f}",
                             f"{cost['seconds']:.2f}"]
                    if r["strategy"] == "rrf":
                        cells = [x + "†" for x in cells]
                    plot_points.append((r, cost, delta))
                else:
                    cells = ["?"] * 7
            w(f"| {r['label']} | {MODEL_SHORT[r['model']]} | {depth} | {fmt(e.get('ndcg_cut_10'))} | "
              f"{fmt(e.get('map'))} | {fmt(rec)} | " + " | ".join(sig) + " | " + " | ".join(cells) + " |")
        # how far each row moved BM25's order, and what a random order of the top k would score
        qrels = read_qrels(meta["qrels"][coll]) if coll in meta.get("qrels", {}) else None
        base_run = read_run(bm25["base"]) if bm25 else None
        if qrels is not None and base_run is not None:
            ours = sum(ndcg10(base_run[q], qrels.get(q, {})) for q in base_run) / len(base_run)
            if abs(ours - bm25["eval"].get("ndcg_cut_10", -1)) < 1e-4:  # same measure as rerank eval
                for k in [d for d in depths if d < 100]:
                    exp = sum(random_ndcg10(base_run[q], qrels.get(q, {}), k) for q in base_run) / len(base_run)
                    w(f"| *BM25's top {k} in random order (expected, computed)* | — | {k} | {exp:.4f} |"
                      + " |" * 13)
            order_rows = []
            for r in srows:
                if r["strategy"] in ("bm25", "rrf") or r["status"] != "ok":
                    continue
                run = read_run(r["run"])
                k = int(r["depth"])
                same = top1 = 0
                taus = []
                for q, ref in base_run.items():
                    got = [d for d in run.get(q, []) if d in set(ref[:k])][:k]
                    same += got == ref[:k]
                    top1 += bool(got) and got[0] == ref[0]
                    taus.append(kendall_tau(got, ref[:k]))
                order_rows.append(f"| {r['label']} | {MODEL_SHORT[r['model']]} | {same}/{len(base_run)} | "
                                  f"{top1}/{len(base_run)} | {sum(taus) / len(taus):+.3f} |")
                if same == len(base_run):
                    note = (", i.e. it wrote the identity permutation `[1] > [2] > ...` for every query's single window"
                            if r["strategy"] in ("listwise", "insertrank") and k <= 20 else "")
                    unchanged.append(f"{r['label']} ({MODEL_SHORT[r['model']]}, {len(base_run)} queries{note})")
            order_tables.append((titles.get(section, section), order_rows))
        if any(r["strategy"] == "rrf" for r in srows):
            w("")
            w("† RRF (k=60) of the BM25 run and the embedding run: its cost is the embedding row's (fusing "
              "takes milliseconds).")
        w("")

    w("## How far the rerankers moved BM25's order")
    w("")
    w("Per row, over its queries: how often its top k (k = its depth) is exactly BM25's top k in BM25's "
      "order, how often its first document is BM25's first, and the mean Kendall τ between its order of "
      "the top k and BM25's (+1: unchanged, 0: unrelated, -1: reversed).")
    w("")
    if unchanged:
        w("Returned BM25's order unchanged on every one of their queries: " + "; ".join(unchanged) + ".")
        w("")
    for title, order_rows in order_tables:
        if not order_rows:
            continue
        w(f"**{title}**")
        w("")
        w("| run | model | order unchanged | same first document | mean Kendall τ vs BM25 |")
        w("|---|---|---:|---:|---:|")
        for line in order_rows:
            w(line)
        w("")

    # listwise validity
    w("## Listwise answers and permutations")
    w("")
    w("By default listwise and InsertRank generation is constrained to exact permutations of the window "
      "(`PermutationConstraint`, docs/strategies.md): every token is checked so that the answer stays of the "
      "form `[i] > [j] > ...`, names each passage once and ends when all are named; only a generation that "
      "ran out of its token budget (6 tokens per passage + 8) could be incomplete. The rows marked "
      "*free* (`--param constrained=off`) decode unconstrained, as RankGPT and RankZephyr do: whatever the "
      "model writes goes through `parse_permutation`, which keeps each passage's first mention, drops "
      "repeats and unknown labels, and appends the passages never named in their previous order. An "
      "answer is *repaired* when it did not name every passage exactly once (`rerank rerank` counts "
      "them in its cost line). Measured per window:")
    w("")
    w("| run | model | windows | repaired answers | generated tokens per window | budget per window (20 passages) |")
    w("|---|---|---:|---:|---:|---:|")
    for r in rows:
        if r["strategy"] in ("listwise", "insertrank") and r["status"] == "ok" and r["cost"]:
            cost = r["cost"]
            windows = cost["calls"] * cost["queries"]
            gen = (f"{cost['generated'] * cost['queries'] / windows:.1f}" if cost["generated"] is not None
                   else "n/r")
            rep = (f"{cost['repaired']} ({100 * cost['repaired'] / windows:.0f}%)" if cost["repaired"] is not None
                   else "n/r")
            w(f"| {r['label']} | {MODEL_SHORT[r['model']]} | {windows:.0f} | {rep} | {gen} | {6 * 20 + 8} |")
    w("")

    failures = [r for r in rows if r["status"] != "ok"]
    if failures:
        w("## Failures")
        w("")
        for r in failures:
            w(f"- `{r['id']}` ({r['label']}, {MODEL_SHORT[r['model']]}): `{r['error']}` (log: `{r['log']}`)")
        w("")

    with open(results_path, "w") as f:
        f.write("\n".join(md).rstrip() + "\n")
    with open(svg_path, "w") as f:
        f.write(svg(plot_points))


def svg(points):
    """Two panels: ΔnDCG@10 against GFLOP/query and against seconds/query, log x axes."""
    W, H, PW, PH, ML, MT, MB, GAP = 1000, 470, 400, 330, 70, 50, 70, 100
    deltas = [d for _, _, d in points if d is not None] + [0.0]
    lo, hi = min(deltas), max(deltas)
    pad = max(0.02, (hi - lo) * 0.08)
    lo, hi = lo - pad, hi + pad
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{W}" height="{H}" viewBox="0 0 {W} {H}" '
           'font-family="sans-serif" font-size="12">',
           f'<rect width="{W}" height="{H}" fill="white"/>',
           f'<text x="{W / 2}" y="22" text-anchor="middle" font-size="15">rerank.cpp with real models: '
           'ΔnDCG@10 vs BM25 (same queries) against cost per query</text>']

    def esc(s):
        return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")

    for panel, (key, xlabel) in enumerate([("gflop", "estimated GFLOP per query (log)"),
                                           ("seconds", "seconds per query (log)")]):
        x0 = ML + panel * (PW + GAP)
        xs = [c[key] for _, c, d in points if d is not None and c[key] > 0]
        if not xs:
            continue
        a = math.floor(math.log10(min(xs)) * 2) / 2
        b = math.ceil(math.log10(max(xs)) * 2) / 2
        if b - a < 1:
            a, b = a - 0.5, b + 0.5

        def X(v):
            return x0 + (math.log10(v) - a) / (b - a) * PW

        def Y(v):
            return MT + (hi - v) / (hi - lo) * PH

        out.append(f'<rect x="{x0}" y="{MT}" width="{PW}" height="{PH}" fill="none" stroke="#444"/>')
        for e in range(math.floor(a), math.ceil(b) + 1):
            for m in (2, 5):
                if a <= math.log10(m * 10 ** e) <= b:
                    xx = X(m * 10 ** e)
                    out.append(f'<line x1="{xx:.1f}" y1="{MT}" x2="{xx:.1f}" y2="{MT + PH}" stroke="#f0f0f0"/>')
                    out.append(f'<text x="{xx:.1f}" y="{MT + PH + 14}" text-anchor="middle" font-size="9" '
                               f'fill="#777">{m * 10 ** e:g}</text>')
        for e in range(math.ceil(a), math.floor(b) + 1):
            xx = X(10 ** e)
            out.append(f'<line x1="{xx:.1f}" y1="{MT}" x2="{xx:.1f}" y2="{MT + PH}" stroke="#ddd"/>')
            label = f"{10 ** e:g}" if -3 <= e <= 5 else f"1e{e}"
            out.append(f'<text x="{xx:.1f}" y="{MT + PH + 16}" text-anchor="middle">{label}</text>')
        step = 0.05 if hi - lo <= 0.5 else 0.1
        t = math.ceil(lo / step) * step
        while t <= hi + 1e-9:
            yy = Y(t)
            out.append(f'<line x1="{x0}" y1="{yy:.1f}" x2="{x0 + PW}" y2="{yy:.1f}" stroke="#eee"/>')
            tick = "0" if abs(t) < 1e-9 else f"{t:+.2f}"
            out.append(f'<text x="{x0 - 6}" y="{yy + 4:.1f}" text-anchor="end">{tick}</text>')
            t += step
        out.append(f'<line x1="{x0}" y1="{Y(0):.1f}" x2="{x0 + PW}" y2="{Y(0):.1f}" stroke="#000" '
                   'stroke-dasharray="6,4"/>')
        out.append(f'<text x="{x0 + PW - 4}" y="{Y(0) - 5:.1f}" text-anchor="end">BM25</text>')
        out.append(f'<text x="{x0 + PW / 2}" y="{MT + PH + 36}" text-anchor="middle">{xlabel}</text>')
        out.append(f'<text transform="translate({x0 - 48},{MT + PH / 2}) rotate(-90)" text-anchor="middle">'
                   'ΔnDCG@10 vs BM25</text>')
        placed = [(x0 + PW - 40, Y(0) - 15, x0 + PW, Y(0) - 2)]  # boxes already drawn: the BM25 label
        marks = [(X(c[key]), Y(d), r) for r, c, d in points if d is not None and c[key] > 0]
        for px, py, r in marks:
            color = COLOR.get(r["model"], "#555")
            if r["collection"] == "scifact":
                out.append(f'<circle cx="{px:.1f}" cy="{py:.1f}" r="4.5" fill="{color}" fill-opacity="0.85"/>')
            else:
                out.append(f'<rect x="{px - 4:.1f}" y="{py - 4:.1f}" width="8" height="8" fill="{color}" '
                           'fill-opacity="0.85"/>')
            placed.append((px - 5, py - 5, px + 5, py + 5))
        for px, py, r in sorted(marks, key=lambda m: (m[0], m[1])):
            color = COLOR.get(r["model"], "#555")
            coll = "" if r["collection"] == "scifact" else r["collection"].upper() + " "
            text = f'{coll}{SHORT.get(r["strategy"], r["strategy"])} q{r["nq"]}'
            tw, th = 5.6 * len(text), 10
            best = None
            for dy in (0, -12, 12, -24, 24, -36, 36, -48, 48, -60, 60, -72, 72):
                for side in (1, -1):
                    x1 = px + 7 if side > 0 else px - 7 - tw
                    yb = py + 3 + dy  # text baseline
                    box = (x1, yb - th + 1, x1 + tw, yb + 2)
                    inside = x0 <= box[0] and box[2] <= x0 + PW and MT <= box[1] and box[3] <= MT + PH
                    if inside and not any(box[0] < b[2] and b[0] < box[2] and box[1] < b[3] and b[1] < box[3]
                                          for b in placed):
                        best = (x1, yb, box)
                        break
                if best:
                    break
            if best is None:
                best = (px + 7, py + 3, (px + 7, py - 7, px + 7 + tw, py + 5))
            x1, yb, box = best
            placed.append(box)
            if abs(yb - (py + 3)) > 13:  # a leader line to a label moved away from its point
                lx = x1 if x1 > px else x1 + tw
                out.append(f'<line x1="{px:.1f}" y1="{py:.1f}" x2="{lx:.1f}" y2="{yb - 4:.1f}" stroke="{color}" '
                           'stroke-width="0.6"/>')
            out.append(f'<text x="{x1:.1f}" y="{yb:.1f}" font-size="10" fill="{color}">{esc(text)}</text>')
    ly = H - 18
    lx = ML
    for model, name in [("minilm-l6-embed", "all-MiniLM-L6-v2"), ("smollm2-135m", "SmolLM2-135M-Instruct"),
                        ("gemma3-270m", "Gemma 3 270M")]:
        out.append(f'<circle cx="{lx}" cy="{ly - 4}" r="5" fill="{COLOR[model]}"/>')
        out.append(f'<text x="{lx + 9}" y="{ly}">{name}</text>')
        lx += 190
    out.append(f'<circle cx="{lx}" cy="{ly - 4}" r="4.5" fill="#555"/><text x="{lx + 9}" y="{ly}">SciFact</text>')
    out.append(f'<rect x="{lx + 66}" y="{ly - 8}" width="8" height="8" fill="#555"/>'
               f'<text x="{lx + 79}" y="{ly}">MED</text>')
    out.append(f'<text x="{lx + 120}" y="{ly}">qN: the first N test queries</text>')
    out.append("</svg>")
    return "\n".join(out) + "\n"


if __name__ == "__main__":
    main()
