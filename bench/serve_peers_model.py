#!/usr/bin/env python3
"""Writes the random-weight cross-encoder that bench/serve_peers.sh serves with every peer.

A Hugging Face BertForSequenceClassification (num_labels=1) of cross-encoder/ms-marco-MiniLM-L6-v2's
shape (hidden 384, 6 layers, 12 heads, intermediate 1536) with all-MiniLM-L6-v2's WordPiece tokenizer,
built as tests/parity/test_cross_encoder.py builds its model (seed 0, a wider head, sentence A and B
embeddings as different as a trained model's). Random weights: its scores are not relevance.

Writes into OUT: hf/ (for Infinity), model-f16.gguf (llama.cpp's convert_hf_to_gguf.py, F16, plus the
BERT pooler by scripts/python/add_bert_pooler.py; for rerank.cpp and llama-server) and the same
model with both token-type rows equal (hf-type-blind/, type-blind-f16.gguf):
llama.cpp's BERT graph gives every token type 0, so only on that model can llama-server compute the
function the others compute, which is how the score check tells a framing difference from a bug.
Run with the tooling Python (scripts/python_env.sh).

    serve_peers_model.py --tokenizer MINILM_HF_DIR --llama-source DIR --out DIR
"""
import argparse
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


MINILM_L6 = dict(hidden_size=384, num_hidden_layers=6, num_attention_heads=12, intermediate_size=1536)


def build(tokenizer_dir: Path, out: Path, type_blind: bool, shape: dict = MINILM_L6) -> None:
    """The recipe, also used by bench/encoder_peers_model.py (at other shapes)."""
    import torch
    from transformers import AutoTokenizer, BertConfig, BertForSequenceClassification

    torch.manual_seed(0)
    config = BertConfig(vocab_size=30522, max_position_embeddings=512, type_vocab_size=2, num_labels=1, **shape)
    model = BertForSequenceClassification(config).eval()
    torch.manual_seed(1)
    for name, p in model.named_parameters():  # Transformers' std 0.02 leaves every logit near the bias
        if "classifier" in name or "pooler" in name:
            torch.nn.init.normal_(p, std=0.5)
    with torch.no_grad():
        types = model.bert.embeddings.token_type_embeddings.weight
        types.normal_(std=0.5)
        if type_blind:
            types[1] = types[0]
    model.save_pretrained(out)
    AutoTokenizer.from_pretrained(tokenizer_dir).save_pretrained(out)


def convert(llama_source: Path, hf: Path, gguf: Path) -> None:
    raw = gguf.with_suffix(".raw.gguf")
    subprocess.run([sys.executable, str(llama_source / "convert_hf_to_gguf.py"), str(hf), "--outtype", "f16",
                    "--outfile", str(raw)], check=True, capture_output=True)
    subprocess.run([sys.executable, str(REPO / "scripts/python/add_bert_pooler.py"), "--hf", str(hf), "--gguf",
                    str(raw), "--output", str(gguf)], check=True, capture_output=True)
    raw.unlink()


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--tokenizer", required=True, type=Path, help="all-MiniLM-L6-v2's files (fetch_models.sh)")
    ap.add_argument("--llama-source", required=True, type=Path, help="llama.cpp source (bootstrap.sh)")
    ap.add_argument("--out", required=True, type=Path)
    args = ap.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    for hf, gguf, blind in (("hf", "model-f16.gguf", False), ("hf-type-blind", "type-blind-f16.gguf", True)):
        build(args.tokenizer, args.out / hf, blind)
        convert(args.llama_source, args.out / hf, args.out / gguf)
    return 0


if __name__ == "__main__":
    sys.exit(main())
