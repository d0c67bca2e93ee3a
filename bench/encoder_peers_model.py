#!/usr/bin/env python3
"""Builds one model of bench/encoder_peers.sh in every format its runtimes load.

Models (--model):
  minilm-l6     random-weight BertForSequenceClassification (num_labels=1) of
                cross-encoder/ms-marco-MiniLM-L6-v2's shape (hidden 384, 6 layers, 12 heads, ff 1536,
                512 positions) with all-MiniLM-L6-v2's WordPiece tokenizer
  base          the same recipe at BERT-base shape (hidden 768, 12 layers, 12 heads, ff 3072): the
                encoder compute of bge-reranker-base (XLM-R base, 12 x 768); only the vocabulary
                differs (30,522 WordPiece here, 250,002 there), which costs nothing per token
  minilm-embed  the real all-MiniLM-L6-v2 (sentence-transformers, mean pooling, max_seq_length 256)

The cross-encoders follow bench/serve_peers_model.py's recipe (seed 0, a wider head and pooler, seed 1)
in its type-blind variant: both token-type rows equal. llama.cpp's BERT graph gives every token type 0,
so only then do all runtimes, llama-server included, compute the same function, and one score check
against PyTorch covers them all. Random weights: the scores are not relevance, only the cost is real.

Writes into OUT: hf/ (the Hugging Face directory: PyTorch), f32.gguf, f16.gguf, q8_0.gguf (llama.cpp's
convert_hf_to_gguf.py; cross-encoders completed with their BERT pooler by
scripts/python/add_bert_pooler.py; rerank.cpp and llama-server), model-f32.onnx and model-int8.onnx
(ONNX Runtime), info.json (what was chosen and measured) and .complete. Run with the benchmark's
virtualenv (bench/encoder_peers.sh).

ONNX: torch.onnx.export's TorchScript exporter (dynamo=False, opset 17; needs no onnxscript) of the
model with eager attention (inputs input_ids, attention_mask, token_type_ids; batch and sequence
dynamic; outputs logits, or last_hidden_state for the embedder), then ONNX Runtime's own transformer
optimizer (onnxruntime.transformers.optimizer, model_type bert: fused Attention, SkipLayerNormalization,
EmbedLayerNormalization, BiasGelu; what Optimum's O2 does), which is ~3% faster than the plain export
at graph optimization level ALL. int8: onnxruntime.quantization.quantize_dynamic (QInt8 weights, int8
activations quantized per batch) of the optimized graph (QAttention, MatMulInteger), per-tensor or
per-channel: both are built and timed here, and the faster is kept (per-channel unless it is more than
5% slower, since it is the more accurate); info.json says which.
"""
import argparse
import json
import logging
import shutil
import subprocess
import sys
import time
import warnings
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
SHAPES = {
    "minilm-l6": dict(hidden_size=384, num_hidden_layers=6, num_attention_heads=12, intermediate_size=1536),
    "base": dict(hidden_size=768, num_hidden_layers=12, num_attention_heads=12, intermediate_size=3072),
}
INPUTS = ["input_ids", "attention_mask", "token_type_ids"]


def log(msg):
    print(f"[encoder_peers_model] {msg}", file=sys.stderr, flush=True)


def build_cross_encoder(shape: str, tokenizer_dir: Path, out: Path) -> None:
    """serve_peers_model.py's recipe (seeds, wide head, distinct sentence A/B rows), type-blind: both
    token-type rows equal, since llama.cpp's BERT graph gives every token type 0."""
    from serve_peers_model import build
    build(tokenizer_dir, out, type_blind=True, shape=SHAPES[shape])


def convert_gguf(llama_source: Path, hf: Path, out: Path, outtype: str, pooler: bool) -> None:
    raw = out.with_suffix(".raw.gguf") if pooler else out
    cmd = [sys.executable, str(llama_source / "convert_hf_to_gguf.py"), str(hf), "--outtype", outtype,
           "--outfile", str(raw)]
    for c in [cmd] + ([[sys.executable, str(REPO / "scripts/python/add_bert_pooler.py"), "--hf", str(hf),
                        "--gguf", str(raw), "--output", str(out)]] if pooler else []):
        res = subprocess.run(c, capture_output=True, text=True)
        if res.returncode != 0:
            raise SystemExit(f"[encoder_peers_model] failed ({res.returncode}): {' '.join(c)}\n{res.stderr[-3000:]}")
    if pooler:
        raw.unlink()


def sample_batch(tokenizer_dir: Path, rows: int, tokens: int, pairs: bool, seed: int = 0):
    """`rows` texts of random words, padded to the longest; rows after the first half are shorter, so
    that padding is exercised. Returns numpy int64 arrays keyed by input name."""
    import numpy as np
    from transformers import AutoTokenizer

    tok = AutoTokenizer.from_pretrained(tokenizer_dir)
    vocab = [w for w in tok.get_vocab() if w.isalpha() and len(w) > 3][:5000]
    rng = np.random.default_rng(seed)
    words = lambda n: " ".join(rng.choice(vocab, n))  # noqa: E731
    firsts = [words(8) for _ in range(rows)]
    seconds = [words(tokens if i < rows // 2 else tokens // 3) for i in range(rows)]
    enc = tok(firsts, seconds, padding=True, truncation=True, max_length=tokens, return_tensors="np") if pairs \
        else tok(seconds, padding=True, truncation=True, max_length=tokens, return_tensors="np")
    return {k: enc[k].astype(np.int64) for k in INPUTS}


def export_onnx(hf: Path, out: Path, embedder: bool, batch) -> None:
    import torch
    from transformers import AutoModel, AutoModelForSequenceClassification

    cls = AutoModel if embedder else AutoModelForSequenceClassification
    model = cls.from_pretrained(hf, attn_implementation="eager").eval()
    output = "last_hidden_state" if embedder else "logits"
    args = tuple(torch.from_numpy(batch[k][:2, :16]) for k in INPUTS)
    axes = {k: {0: "batch", 1: "sequence"} for k in INPUTS}
    axes[output] = {0: "batch", 1: "sequence"} if embedder else {0: "batch"}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(model, args, str(out), input_names=INPUTS, output_names=[output], dynamic_axes=axes,
                          opset_version=17, dynamo=False)


def reference(hf: Path, embedder: bool, batch):
    import torch
    from transformers import AutoModel, AutoModelForSequenceClassification

    model = (AutoModel if embedder else AutoModelForSequenceClassification).from_pretrained(hf).eval()
    with torch.no_grad():
        out = model(**{k: torch.from_numpy(v) for k, v in batch.items()})
    return (out.last_hidden_state if embedder else out.logits).numpy()


def session(path: Path, threads: int = 2):
    import onnxruntime as ort

    so = ort.SessionOptions()
    so.intra_op_num_threads, so.inter_op_num_threads = threads, 1
    so.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    so.log_severity_level = 3
    return ort.InferenceSession(str(path), so, providers=["CPUExecutionProvider"])


def timed(path: Path, batch, rounds: int = 3):
    """(best seconds of `rounds` runs after a warm-up, outputs)."""
    s = session(path)
    out = s.run(None, batch)[0]
    best = min(_time(s, batch) for _ in range(rounds))
    return best, out


def _time(s, batch):
    t0 = time.perf_counter()
    s.run(None, batch)
    return time.perf_counter() - t0


def masked_max_diff(a, b, batch, embedder):
    import numpy as np

    d = np.abs(a - b)
    if embedder:  # padded rows are garbage in both: compare real tokens only
        d = d * batch["attention_mask"][:, :, None]
    return float(d.max())


def build_onnx(hf: Path, out: Path, embedder: bool, shape: dict, tokenizer_dir: Path) -> dict:
    import onnx
    from onnxruntime.quantization import QuantType, quantize_dynamic
    from onnxruntime.transformers.optimizer import optimize_model

    logging.disable(logging.WARNING)  # the optimizer and quantizer log every fusion
    check = sample_batch(tokenizer_dir, 8, 128, pairs=not embedder)
    raw = out / "model-raw.onnx"
    export_onnx(hf, raw, embedder, check)
    opt = optimize_model(str(raw), model_type="bert", num_heads=shape["num_attention_heads"],
                         hidden_size=shape["hidden_size"], opt_level=1)
    fused = {k: v for k, v in opt.get_fused_operator_statistics().items() if v}
    opt.save_model_to_file(str(out / "model-f32.onnx"))
    raw.unlink()
    ref = reference(hf, embedder, check)
    f32_s, f32_out = timed(out / "model-f32.onnx", check)
    f32_diff = masked_max_diff(f32_out, ref, check, embedder)
    log(f"ONNX F32 (optimized: {fused}): max |Δ| vs PyTorch {f32_diff:.2e} on 8 padded inputs, {f32_s:.3f} s")
    if f32_diff > 1e-3:
        raise SystemExit(f"[encoder_peers_model] the ONNX export disagrees with PyTorch ({f32_diff:.2e})")
    variants = {}
    timing = sample_batch(tokenizer_dir, 32, 128, pairs=not embedder, seed=1)
    for per_channel in (False, True):
        path = out / f"model-int8-{'per-channel' if per_channel else 'per-tensor'}.onnx"
        quantize_dynamic(str(out / "model-f32.onnx"), str(path), weight_type=QuantType.QInt8,
                         per_channel=per_channel, extra_options={"DefaultTensorType": onnx.TensorProto.FLOAT})
        seconds, _ = timed(path, timing)
        _, q_out = timed(path, check, rounds=1)
        variants[path.name] = dict(per_channel=per_channel, seconds_32x128=seconds,
                                   max_abs_diff_vs_pytorch=masked_max_diff(q_out, ref, check, embedder))
        log(f"ONNX int8 {path.name}: {seconds:.3f} s on 32 x 128 tokens, max |Δ| vs PyTorch "
            f"{variants[path.name]['max_abs_diff_vs_pytorch']:.2e}")
    pt, pc = variants["model-int8-per-tensor.onnx"], variants["model-int8-per-channel.onnx"]
    chosen = "model-int8-per-channel.onnx" if pc["seconds_32x128"] <= 1.05 * pt["seconds_32x128"] \
        else "model-int8-per-tensor.onnx"
    shutil.move(out / chosen, out / "model-int8.onnx")
    for name in variants:
        (out / name).unlink(missing_ok=True)
    f32_timing, _ = timed(out / "model-f32.onnx", timing)
    return dict(onnx_export="torch.onnx.export(dynamo=False, opset 17), eager attention",
                onnx_optimizer="onnxruntime.transformers.optimizer model_type=bert", fused_operators=fused,
                onnx_f32_max_abs_diff_vs_pytorch=f32_diff, onnx_f32_seconds_32x128=f32_timing,
                int8_variants=variants, int8_chosen=chosen.removeprefix("model-int8-").removesuffix(".onnx"))


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--model", required=True, choices=["minilm-l6", "base", "minilm-embed"])
    ap.add_argument("--tokenizer", required=True, type=Path, help="all-MiniLM-L6-v2's files (fetch_models.sh)")
    ap.add_argument("--llama-source", required=True, type=Path, help="llama.cpp source (bootstrap.sh)")
    ap.add_argument("--out", required=True, type=Path)
    args = ap.parse_args()
    if args.out.exists():
        shutil.rmtree(args.out)
    args.out.mkdir(parents=True)
    hf = args.out / "hf"
    embedder = args.model == "minilm-embed"
    t0 = time.time()
    if embedder:
        shutil.copytree(args.tokenizer, hf)
        shape = json.loads((hf / "config.json").read_text())
    else:
        build_cross_encoder(args.model, args.tokenizer, hf)
        shape = SHAPES[args.model]
    for outtype in ("f32", "f16", "q8_0"):
        convert_gguf(args.llama_source, hf, args.out / f"{outtype}.gguf", outtype, pooler=not embedder)
        log(f"{args.model}: {outtype}.gguf written")
    info = dict(model=args.model, kind="embed" if embedder else "ce", hidden_size=shape["hidden_size"],
                num_hidden_layers=shape["num_hidden_layers"], num_attention_heads=shape["num_attention_heads"],
                intermediate_size=shape["intermediate_size"])
    info.update(build_onnx(hf, args.out, embedder, shape, args.tokenizer))
    info["build_seconds"] = time.time() - t0
    (args.out / "info.json").write_text(json.dumps(info, indent=1))
    (args.out / ".complete").touch()
    log(f"{args.model}: done in {info['build_seconds']:.0f} s, int8 {info['int8_chosen']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
