#!/usr/bin/env python3
"""The peers of bench/encoder_peers.py, one runtime per process (so that each one's peak RSS is its own):
ONNX Runtime, PyTorch (sentence-transformers) and llama-server, on cross-encoder requests
(bench_neural_inputs' requests.jsonl) or embedder texts (a JSONL of {"text"}).

    encoder_peers_runners.py ort   --onnx M.onnx --hf HF --mode pair|batch (--requests R | --texts T) --out F
    encoder_peers_runners.py torch --hf HF (--requests R | --texts T) --out F
    encoder_peers_runners.py llama-server --server S --gguf M.gguf --max-tokens N (--requests R | --texts T) --out F

Every runner loads its model, makes one small untimed warm-up call, then times the scoring of every
input from text (tokenization included, as in rerank.cpp's and llama-server's figures). Cross-encoders:
one call per query (its documents), raw logits, written to OUT as JSON (one list per query, in document
order). Embedders: the pooled vectors, unnormalised, written to OUT as .npy, in text order. Prints one
JSON line: seconds, docs, and for llama-server its own peak RSS (child_maxrss_kb).
"""
import argparse
import json
import resource
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from neural_bench import free_port, post_json, server_scores, start_llama_server, stop_llama_server  # noqa: E402

BATCH = 32  # ORT's batches, PyTorch's batch_size (sentence-transformers' default) and llama-server's embed requests


def read_jsonl(path):
    return [json.loads(line) for line in Path(path).read_text(encoding="utf-8").splitlines() if line.strip()]


def hf_tokenizer(hf: Path, max_length: int):
    """The model's fast tokenizer (tokenizers only: no PyTorch in ONNX Runtime's process), truncating at
    max_length (no input is that long: the benchmark cuts documents to fit), never padding."""
    from tokenizers import Tokenizer

    tok = Tokenizer.from_file(str(hf / "tokenizer.json"))
    tok.no_padding()
    tok.enable_truncation(max_length)
    return tok


def ort_run(a, requests, texts):
    import onnxruntime as ort

    so = ort.SessionOptions()
    so.intra_op_num_threads, so.inter_op_num_threads = a.threads, 1
    so.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    so.log_severity_level = 3
    sess = ort.InferenceSession(str(a.onnx), so, providers=["CPUExecutionProvider"])
    tok = hf_tokenizer(a.hf, a.max_length)

    def run(encodings):
        """Model outputs for the encodings, in their order: one call each (pair mode) or batches of
        BATCH sorted by length, padded to the batch's longest (batch mode)."""
        order = list(range(len(encodings)))
        groups = [[i] for i in order] if a.mode == "pair" else \
            [g for g in _chunks(sorted(order, key=lambda i: len(encodings[i].ids)), BATCH)]
        out = [None] * len(encodings)
        for g in groups:
            width = max(len(encodings[i].ids) for i in g)
            feed = {k: np.zeros((len(g), width), dtype=np.int64) for k in ("input_ids", "attention_mask",
                                                                          "token_type_ids")}
            for r, i in enumerate(g):
                e, n = encodings[i], len(encodings[i].ids)
                feed["input_ids"][r, :n], feed["token_type_ids"][r, :n], feed["attention_mask"][r, :n] = \
                    e.ids, e.type_ids, 1
            res = sess.run(None, feed)[0]
            for r, i in enumerate(g):
                out[i] = res[r, 0] if texts is None else _mean_pool(res[r], feed["attention_mask"][r])
        return out

    if texts is None:
        score = lambda req: [float(v) for v in run(tok.encode_batch(  # noqa: E731
            [(req["query"], d) for d in req["documents"]]))]
        score({"query": requests[0]["query"], "documents": requests[0]["documents"][:2]})  # warm-up
        t0 = time.perf_counter()
        scores = [score(req) for req in requests]
        return time.perf_counter() - t0, scores
    run(tok.encode_batch(texts[:2]))
    t0 = time.perf_counter()
    vectors = np.stack(run(tok.encode_batch(texts)))
    return time.perf_counter() - t0, vectors


def _chunks(items, n):
    return [items[i:i + n] for i in range(0, len(items), n)]


def _mean_pool(hidden, mask):
    """sentence-transformers' mean pooling: the average of the hidden rows of real tokens."""
    m = mask[:, None].astype(np.float32)
    return (hidden * m).sum(0) / max(m.sum(), 1e-9)


def torch_run(a, requests, texts):
    import torch

    torch.set_num_threads(a.threads)
    if texts is None:
        from sentence_transformers import CrossEncoder

        # Raw logits: CrossEncoder applies a sigmoid to one-label models unless told otherwise.
        model = CrossEncoder(str(a.hf), device="cpu", max_length=a.max_length, activation_fn=torch.nn.Identity())
        model.predict([(requests[0]["query"], d) for d in requests[0]["documents"][:2]], batch_size=BATCH)
        t0 = time.perf_counter()
        scores = [[float(v) for v in model.predict([(req["query"], d) for d in req["documents"]], batch_size=BATCH,
                                                     show_progress_bar=False)] for req in requests]
        return time.perf_counter() - t0, scores
    from sentence_transformers import SentenceTransformer

    model = SentenceTransformer(str(a.hf), device="cpu")
    model.encode(texts[:2], batch_size=BATCH)
    t0 = time.perf_counter()
    vectors = model.encode(texts, batch_size=BATCH, convert_to_numpy=True, show_progress_bar=False)
    return time.perf_counter() - t0, vectors


def server_embeddings(a, texts):
    """Embeds `texts` with llama-server --embedding --pooling mean, BATCH texts per POST /v1/embeddings;
    returns (seconds, vectors). The vectors come back normalised (the OpenAI route's default)."""
    slot_ctx = ((a.max_tokens + 16 + 63) // 64) * 64
    ubatch = max(512, slot_ctx)  # a text must fit one physical batch
    port = free_port()
    cmd = [a.server, "-m", a.gguf, "--embedding", "--pooling", "mean", "--host", "127.0.0.1", "--port", port,
           "-t", a.threads, "-tb", a.threads, "-np", a.parallel, "-c", slot_ctx * a.parallel, "-b", max(2048, ubatch),
           "-ub", ubatch, "--no-webui"]
    proc, base = start_llama_server(cmd, a.workdir / "llama-server-embed.log")
    try:
        post_json(base + "/v1/embeddings", {"input": texts[:2]}, 600)  # warm-up
        vectors, t0 = [], time.perf_counter()
        for chunk in _chunks(texts, BATCH):
            res = post_json(base + "/v1/embeddings", {"input": chunk}, 7200)
            vectors += [d["embedding"] for d in sorted(res["data"], key=lambda d: d["index"])]
        return time.perf_counter() - t0, np.asarray(vectors, dtype=np.float32)
    finally:
        stop_llama_server(proc)


def server_run(a, requests, texts):
    if texts is not None:
        return server_embeddings(a, texts)
    scores, seconds = server_scores(a.server, a.gguf, None, requests, a.max_tokens, a.threads, a.workdir, a.parallel)
    return seconds, [[scores[(req["qid"], d)] for d in req["doc_ids"]] for req in requests]


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("runtime", choices=["ort", "torch", "llama-server"])
    ap.add_argument("--requests", type=Path, help="cross-encoder requests (bench_neural_inputs)")
    ap.add_argument("--texts", type=Path, help="embedder texts, JSONL of {\"text\"}")
    ap.add_argument("--out", required=True, type=Path)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--hf", type=Path, help="Hugging Face directory (tokenizer; PyTorch's model)")
    ap.add_argument("--onnx", type=Path)
    ap.add_argument("--mode", choices=["pair", "batch"], default="batch", help="ONNX Runtime: one input per call "
                    f"or batches of {BATCH} sorted by length")
    ap.add_argument("--max-length", type=int, default=512, help="truncation (longer than every input)")
    ap.add_argument("--server", type=Path, help="llama-server")
    ap.add_argument("--gguf", type=Path)
    ap.add_argument("--max-tokens", type=int, default=512, help="llama-server: the longest input's tokens")
    ap.add_argument("--parallel", type=int, default=4, help="llama-server -np (4: its own default)")
    ap.add_argument("--workdir", type=Path, default=Path("."))
    a = ap.parse_args()
    if (a.requests is None) == (a.texts is None):
        ap.error("give exactly one of --requests and --texts")
    requests = read_jsonl(a.requests) if a.requests else None
    texts = [t["text"] for t in read_jsonl(a.texts)] if a.texts else None
    seconds, result = {"ort": ort_run, "torch": torch_run, "llama-server": server_run}[a.runtime](a, requests, texts)
    if texts is None:
        a.out.write_text(json.dumps(result))
        docs = sum(len(r) for r in result)
    else:
        np.save(a.out, np.asarray(result, dtype=np.float32))
        docs = len(result)
    info = {"seconds": seconds, "docs": docs}
    if a.runtime == "llama-server":  # the server is this process' only child, reaped by now
        info["child_maxrss_kb"] = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    print(json.dumps(info), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
