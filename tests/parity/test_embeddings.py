"""all-MiniLM-L6-v2, real weights (scripts/fetch_models.sh): rerank.cpp's embeddings (GGUF converted
by llama.cpp's convert_hf_to_gguf.py, mean pooling) against sentence-transformers on the package's
own safetensors, for 200 SciFact texts including ones longer than the model's 256-token limit
(sentence-transformers' max_seq_length; rerank embed --max-tokens 256 truncates the same way)."""
import json

import numpy as np
import pytest

from conftest import THREADS, run_rerank, skip_without_native_bf16

N_TEXTS = 200
MAX_TOKENS = 256
MIN_COSINE = 0.9999


@pytest.fixture(scope="module")
def texts(scifact, tmp_path_factory):
    """The 100 longest SciFact documents (all beyond 256 tokens) and 100 test queries."""
    corpus = scifact["corpus"]
    longest = sorted(corpus, key=lambda d: -len(corpus[d]["text"]))[:100]
    items = [(f"d{d}", f"{corpus[d]['title']} {corpus[d]['text']}") for d in longest]
    items += [(f"q{q}", scifact["queries"][q]) for q in sorted(scifact["qrels"], key=int)[:N_TEXTS - 100]]
    path = tmp_path_factory.mktemp("embed") / "texts.jsonl"
    with open(path, "w", encoding="utf-8") as f:
        for i, t in items:
            f.write(json.dumps({"_id": i, "text": t}) + "\n")
    return items, path


# (GGUF, rerank embed --runtime, --precision, the lowest cosine accepted). auto runs rerank.cpp's own
# oneDNN runtime. Measured minimum cosines (Zen 5): 0.9999999 (F32 GGUF, oneDNN F32), 0.9999998 (F16
# GGUF), 0.9999984 (llama.cpp), 0.9999779 (oneDNN BF16, which rounds every matmul input to 8 bits),
# 0.9893 (oneDNN INT8, dynamic quantization; ONNX Runtime's quantize_dynamic: 0.991).
CASES = [("minilm-l6-embed-f32", "auto", "f32", MIN_COSINE), ("minilm-l6-embed", "auto", "auto", MIN_COSINE),
         ("minilm-l6-embed-f32", "llama", "auto", MIN_COSINE),
         ("minilm-l6-embed-f32", "onednn", "bf16", MIN_COSINE), ("minilm-l6-embed-f32", "onednn", "int8", 0.97)]


@pytest.mark.parametrize("variant,runtime,precision,min_cosine", CASES)
def test_minilm_embeddings_equal_sentence_transformers(variant, runtime, precision, min_cosine, texts,
                                                       fetched_models, rerank_bin, tmp_path):
    skip_without_native_bf16(precision)
    from sentence_transformers import SentenceTransformer
    items, path = texts
    st = SentenceTransformer(fetched_models["MINILM_HF_DIR"], device="cpu")
    assert st.max_seq_length == MAX_TOKENS
    tokenizer = st.tokenizer
    n_long = sum(len(tokenizer(t)["input_ids"]) > MAX_TOKENS for _, t in items)
    assert n_long >= 100, "the check must cover truncated texts"
    reference = st.encode([t for _, t in items], normalize_embeddings=True, batch_size=32)

    out = tmp_path / "vectors.jsonl"
    run_rerank(rerank_bin, ["embed", "--model", fetched_models[variant], "--input", str(path), "--output", str(out),
                            "--max-tokens", str(MAX_TOKENS), "--normalize", "--threads", str(THREADS),
                            "--runtime", runtime, "--precision", precision])
    with open(out, encoding="utf-8") as f:
        ours = {o["id"]: np.array(o["embedding"], dtype=np.float64) for o in map(json.loads, f)}
    assert list(ours) == [i for i, _ in items]
    cosines = np.array([float(ours[i] @ reference[k]) for k, (i, _) in enumerate(items)])
    print(f"{variant} {runtime} {precision}: min cosine {cosines.min():.7f}, mean {cosines.mean():.7f} over "
          f"{len(items)} texts ({n_long} truncated)")
    assert cosines.min() >= min_cosine, sorted(zip(cosines, [i for i, _ in items]))[:5]
    # A wrong truncation (the whole text, or its end) moves long documents far below the threshold.
    wrong = st.encode([t[-2000:] for _, t in items[:5]], normalize_embeddings=True)
    assert max(float(ours[items[k][0]] @ wrong[k]) for k in range(5)) < min_cosine
