"""Qwen3-Reranker, the path users take: a random-weight `Qwen3ForCausalLM` saved as a Hugging Face
checkpoint with Qwen3-Reranker's model card as its README -> llama.cpp's convert_hf_to_gguf.py (which
recognises the reranker by that README and writes the yes/no `cls.output` head, rank pooling and the
`rerank` prompt template) -> `rerank rerank --strategy pointwise`; its scores must equal P(yes) of the
PyTorch model as Qwen3-Reranker's model card computes it (softmax over the "yes" and "no" logits of
the last prompt token) within 1e-3, on 100 real SciFact pairs, whole and cut into windows.

The tokenizer is Qwen2's byte-level BPE (Qwen3 uses it unchanged) with Qwen3's added tokens, built
here from llama.cpp's models/ggml-vocab-qwen2.gguf (there is no model hub): it reproduces llama.cpp's
Qwen2 tokenizer test vectors, and convert_hf_to_gguf.py recognises its pre-tokenizer as "qwen2".

The reference feeds PyTorch the token sequences rerank.cpp documents (docs/rerankers.md): the whole
prompt tokenized at once when it fits in --max-length (identical to the model card's prefix tokens +
tokenized "<Instruct>: ... <Document>: ..." + suffix tokens, asserted), otherwise the prompt's parts
before and after {document} tokenized on their own around windows of the document's tokens that
overlap by 32 (FirstP: the first window only), the space before {document} tokenized with the
document: a cut document's first window is then exactly the model card's truncation (asserted;
"<Document>: Placebo" is ">:" "ĠPlace", where tokenizing the space with the prompt gave ">:" "Ġ"
"Place" and moved P(yes) by up to 0.24 on this model).

Tolerance: |P(yes) rerank.cpp - PyTorch| <= 1e-3 with F32 weights. llama.cpp keeps K and V in an F16
KV cache (and its flash attention rounds Q to F16): a relative error of ~5e-4 in the attention, which
reaches the yes-no logit difference; P(yes) moves by P(1 - P) times the logit's error. Measured on
an AMD Zen 5: 2.9e-4 with F32 weights (1.6e-4 to 2.9e-4 across the cases below); F16 weights, not
tested, 6.7e-4. The errors this check exists for are 50-600x larger; measured on 40 of the pairs,
the largest change of P(yes) from one token of the prompt replaced: 0.06; from a second space before
the document: 0.12; without the think block: 0.63; the embedding table as LM head (the untied case
below): 0.58. P(yes) spans 0.17 to 0.94 over the pairs (a spread above 0.05 is asserted)."""
import json
from pathlib import Path

import pytest
import torch

from conftest import THREADS, convert_hf, read_run_scores, run_rerank

TOLERANCE = 1e-3
OVERLAP = 32  # rerank's pointwise default `overlap`
DEFAULT_MAX_LENGTH = 1024  # rerank's pointwise default for decoders (min(n_ctx_train, 1024))
SHORT_MAX_LENGTH = 256  # nearly every SciFact document needs 2 or more windows at this length

# Qwen3-Reranker's model card (https://huggingface.co/Qwen/Qwen3-Reranker-0.6B), verbatim.
PREFIX = ("<|im_start|>system\nJudge whether the Document meets the requirements based on the Query and the "
          "Instruct provided. Note that the answer can only be \"yes\" or \"no\".<|im_end|>\n<|im_start|>user\n")
SUFFIX = "<|im_end|>\n<|im_start|>assistant\n<think>\n\n</think>\n\n"
INSTRUCTION = "Given a web search query, retrieve relevant passages that answer the query"


def format_instruction(instruction, query, doc):
    return f"<Instruct>: {instruction}\n<Query>: {query}\n<Document>: {doc}"


# ------------------------------------------------------------------------------------------ tokenizer
# Qwen2's pre-tokenizer split (tokenizer.json of Qwen2, Qwen2.5 and Qwen3).
QWEN2_SPLIT = (r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|"
               r"\s*[\r\n]+|\s+(?!\S)|\s+")
# Qwen3's added tokens from id 151643 (tokenizer_config.json of Qwen3 and Qwen3-Reranker): (text, special).
# ggml-vocab-qwen2.gguf has only the first three; <think> and </think> are single tokens in the prompt.
QWEN3_ADDED_TOKENS = [
    ("<|endoftext|>", True), ("<|im_start|>", True), ("<|im_end|>", True), ("<|object_ref_start|>", True),
    ("<|object_ref_end|>", True), ("<|box_start|>", True), ("<|box_end|>", True), ("<|quad_start|>", True),
    ("<|quad_end|>", True), ("<|vision_start|>", True), ("<|vision_end|>", True), ("<|vision_pad|>", True),
    ("<|image_pad|>", True), ("<|video_pad|>", True), ("<tool_call>", False), ("</tool_call>", False),
    ("<|fim_prefix|>", False), ("<|fim_middle|>", False), ("<|fim_suffix|>", False), ("<|fim_pad|>", False),
    ("<|repo_name|>", False), ("<|file_sep|>", False), ("<tool_response>", False), ("</tool_response>", False),
    ("<think>", False), ("</think>", False)]


def build_qwen3_tokenizer(vocab_gguf: Path, chat_template: str):
    """Qwen3's tokenizer as a Hugging Face fast tokenizer, from llama.cpp's Qwen2 vocabulary GGUF."""
    import gguf
    from tokenizers import AddedToken, Regex, Tokenizer, decoders, models, normalizers, pre_tokenizers
    from transformers import Qwen2TokenizerFast
    reader = gguf.GGUFReader(str(vocab_gguf))
    tokens = reader.fields["tokenizer.ggml.tokens"].contents()
    types = reader.fields["tokenizer.ggml.token_type"].contents()
    merges = reader.fields["tokenizer.ggml.merges"].contents()
    vocab = {t: i for i, (t, ty) in enumerate(zip(tokens, types)) if ty == gguf.TokenType.NORMAL}
    assert len(vocab) == 151643 and max(vocab.values()) == 151642, f"{vocab_gguf} is not Qwen2's vocabulary"
    tok = Tokenizer(models.BPE(vocab=vocab, merges=[tuple(m.split(" ")) for m in merges], fuse_unk=False,
                               byte_fallback=False))
    tok.normalizer = normalizers.NFC()
    tok.pre_tokenizer = pre_tokenizers.Sequence([
        pre_tokenizers.Split(Regex(QWEN2_SPLIT), behavior="isolated", invert=False),
        pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=False)])
    tok.decoder = decoders.ByteLevel()
    for text, special in QWEN3_ADDED_TOKENS:
        added = AddedToken(text, special=special, normalized=False)
        tok.add_special_tokens([added]) if special else tok.add_tokens([added])
    assert tok.token_to_id("</think>") == 151668
    return Qwen2TokenizerFast(tokenizer_object=tok, eos_token="<|im_end|>", pad_token="<|endoftext|>",
                              bos_token=None, unk_token=None, errors="replace", model_max_length=131072,
                              clean_up_tokenization_spaces=False, chat_template=chat_template)


@pytest.fixture(scope="module")
def qwen3_tokenizer(llama_source):
    template = (llama_source / "models" / "templates" / "Qwen-Qwen3-0.6B.jinja").read_text(encoding="utf-8")
    return build_qwen3_tokenizer(llama_source / "models" / "ggml-vocab-qwen2.gguf", template)


def test_tokenizer_reproduces_llama_cpp_qwen2_test_vectors(qwen3_tokenizer, llama_source):
    """models/ggml-vocab-qwen2.gguf.inp/.out: Qwen2's Hugging Face tokenizer's ids, which llama.cpp's
    test-tokenizer-0 checks its own tokenizer against."""
    base = llama_source / "models" / "ggml-vocab-qwen2.gguf"
    inputs = base.with_name(base.name + ".inp").read_text(encoding="utf-8")
    inputs = inputs.removesuffix("\n__ggml_vocab_test__\n").split("\n__ggml_vocab_test__\n")
    expected = [[int(t) for t in line.split()]
                for line in base.with_name(base.name + ".out").read_text(encoding="utf-8").splitlines()]
    assert len(inputs) == len(expected) > 40
    wrong = [(text, ids) for text, ids in zip(inputs, expected)
             if qwen3_tokenizer.encode(text, add_special_tokens=False) != ids]
    assert not wrong, wrong[:3]


# ---------------------------------------------------------------------------------------------- model
def make_qwen3_reranker(tmp_path_factory, llama_source, tokenizer, tied: bool):
    """Qwen3-Reranker's architecture (q/k norms, GQA, SwiGLU, RoPE base 1e6) at a small shape: 3 layers,
    hidden 128, 4 query / 2 key-value heads of 32, FFN 384, Qwen3's 151936-row vocabulary, weights
    N(0, 0.07) (the default 0.02 leaves P(yes) near 0.5 for every pair). tied: Qwen3-Reranker-0.6B
    and 4B (the LM head is the embedding table); untied: Qwen3-Reranker-8B."""
    from transformers import Qwen3Config, Qwen3ForCausalLM
    name = "tied" if tied else "untied"
    d = tmp_path_factory.mktemp(f"qwen3-reranker-{name}")
    hf = d / "hf"  # not named like a reranker: the README alone makes the converter see one
    tokenizer.save_pretrained(hf)
    torch.manual_seed(0)
    config = Qwen3Config(vocab_size=151936, hidden_size=128, intermediate_size=384, num_hidden_layers=3,
                         num_attention_heads=4, num_key_value_heads=2, head_dim=32, max_position_embeddings=40960,
                         rope_theta=1000000.0, rms_norm_eps=1e-6, tie_word_embeddings=tied, initializer_range=0.07,
                         bos_token_id=151643, eos_token_id=151645)
    model = Qwen3ForCausalLM(config).eval()
    model.save_pretrained(hf)
    (hf / "README.md").write_text("---\nlicense: apache-2.0\nbase_model:\n- Qwen/Qwen3-0.6B-Base\n"
                                  "library_name: transformers\n---\n# Qwen3-Reranker-0.6B\n\n"
                                  "Random weights: rerank.cpp's parity test.\n", encoding="utf-8")
    gguf_path = convert_hf(llama_source, hf, d / f"qwen3-reranker-{name}-f32.gguf", "f32")
    return model, gguf_path


@pytest.fixture(scope="module")
def qwen3_reranker(tmp_path_factory, llama_source, qwen3_tokenizer):
    return make_qwen3_reranker(tmp_path_factory, llama_source, qwen3_tokenizer, tied=True)


@pytest.fixture(scope="module")
def qwen3_reranker_untied(tmp_path_factory, llama_source, qwen3_tokenizer):
    return make_qwen3_reranker(tmp_path_factory, llama_source, qwen3_tokenizer, tied=False)


@pytest.mark.parametrize("variant", ["qwen3_reranker", "qwen3_reranker_untied"])
def test_converter_writes_the_reranker_head(request, variant, qwen3_tokenizer):
    """Qwen3Model._is_qwen3_reranker (conversion/qwen.py) sees a reranker by a "# Qwen3-Reranker" heading
    in README.md, or "qwen3-reranker" in the directory's name or the config's _name_or_path."""
    import gguf
    model, gguf_path = request.getfixturevalue(variant)
    reader = gguf.GGUFReader(str(gguf_path))
    fields = {name: reader.fields[name].contents() for name in (
        "tokenizer.ggml.pre", "qwen3.pooling_type", "qwen3.classifier.output_labels",
        "tokenizer.chat_template.rerank")}
    tensors = {t.name: t for t in reader.tensors}
    assert fields["tokenizer.ggml.pre"] == "qwen2"
    assert fields["qwen3.pooling_type"] == gguf.PoolingType.RANK
    assert fields["qwen3.classifier.output_labels"] == ["yes", "no"]
    assert fields["tokenizer.chat_template.rerank"] == (
        PREFIX + format_instruction(INSTRUCTION, "{query}", "{document}") + SUFFIX)
    yes, no = qwen3_tokenizer.convert_tokens_to_ids(["yes", "no"])
    head = torch.from_numpy(tensors["cls.output.weight"].data.copy()).reshape(2, -1)
    assert torch.equal(head, model.lm_head.weight.detach()[[yes, no]])
    # The LM head itself is not written: llama.cpp's LM logits come from token_embd.
    assert "output.weight" not in tensors and "token_embd.weight" in tensors


# ------------------------------------------------------------------------------------------ reference
def pairs_from_scifact(scifact, n_queries=25, per_query=4):
    """100 deterministic (qid, query, docid, title, text) pairs: each query's judged documents (up to
    2), then other documents of the corpus, every other one among its longest."""
    corpus = scifact["corpus"]
    longest = sorted(corpus, key=lambda d: (-len(corpus[d]["text"]), d))
    ordered = sorted(corpus)
    out = []
    for i, qid in enumerate(sorted(scifact["qrels"], key=int)[:n_queries]):
        docs = list(scifact["qrels"][qid])[:2]
        k = 0
        while len(docs) < per_query:
            cand = longest[i * 2 + k] if k % 2 == 0 else ordered[(i * 389 + k * 97) % len(ordered)]
            if cand not in docs:
                docs.append(cand)
            k += 1
        out += [(qid, scifact["queries"][qid], did, corpus[did]["title"], corpus[did]["text"]) for did in docs]
    return out


def document_text(title, text):  # rerank.cpp: title + " " + text
    return f"{title} {text}" if title and text else title or text


def rerank_sequences(tokenizer, query, document, max_length, chunking):
    """What rerank.cpp feeds the model for one pair (pair_sequences in src/rerankers/pair_format.cpp), and
    whether the document was cut: the whole prompt if it fits, else windows of the document between
    the prompt's two halves."""
    encode = lambda s: tokenizer.encode(s, add_special_tokens=False)
    prompt = PREFIX + format_instruction(INSTRUCTION, query, "{document}") + SUFFIX
    at = prompt.index("{document}")
    spaces = at - len(prompt[:at].rstrip(" "))
    before, after = encode(prompt[:at - spaces]), encode(prompt[at + len("{document}"):])
    window = max_length - len(before) - len(after)
    doc = encode(" " * spaces + document)
    if len(doc) <= window:
        # The model card's recipe: prefix tokens + the tokenized pair + suffix tokens.
        whole = encode(PREFIX) + encode(format_instruction(INSTRUCTION, query, document)) + encode(SUFFIX)
        assert whole == encode(prompt.replace("{document}", document))
        if len(whole) <= max_length:
            return [whole], False
    out, begin, step = [], 0, window - min(OVERLAP, window // 2)
    # The model card's truncation: the pair's tokens cut to what the prefix and suffix leave.
    pair = encode(format_instruction(INSTRUCTION, query, document))
    card = encode(PREFIX) + pair[:max_length - len(encode(PREFIX)) - len(encode(SUFFIX))] + encode(SUFFIX)
    assert before + doc[:window] + after == card
    while True:
        end = min(len(doc), begin + window)
        out.append(before + doc[begin:end] + after)
        if end == len(doc) or chunking == "firstp":
            return out, True
        begin += step


class Reference:
    """P(yes) of the PyTorch model, as the model card computes it: log-softmax over the "no" and "yes"
    logits of the last token, exponentiated."""

    def __init__(self, model, tokenizer):
        self.model, self.tokenizer = model, tokenizer
        self.yes, self.no = tokenizer.convert_tokens_to_ids(["yes", "no"])
        self.cache: dict[tuple, float] = {}

    def p_yes(self, ids) -> float:
        key = tuple(ids)
        if key not in self.cache:
            with torch.no_grad():
                logits = self.model(input_ids=torch.tensor([ids]), logits_to_keep=1).logits[0, -1]
            scores = torch.log_softmax(torch.stack([logits[self.no], logits[self.yes]]).double(), dim=0)
            self.cache[key] = float(scores[1].exp())
        return self.cache[key]

    def scores(self, pairs, max_length, chunking):
        out, cut = {}, set()
        for qid, query, did, title, text in pairs:
            seqs, windowed = rerank_sequences(self.tokenizer, query, document_text(title, text), max_length,
                                              chunking)
            out[(qid, did)] = max(self.p_yes(s) for s in seqs)  # MaxP (FirstP has one window)
            if windowed:
                cut.add((qid, did))
        return out, cut


@pytest.fixture(scope="module")
def reference(qwen3_reranker, qwen3_tokenizer):
    return Reference(qwen3_reranker[0], qwen3_tokenizer)


def write_candidates(pairs, path: Path):
    by_q = {}
    for qid, query, did, title, text in pairs:
        by_q.setdefault(qid, (query, []))[1].append({"id": did, "title": title, "text": text})
    with open(path, "w", encoding="utf-8") as f:
        for qid, (query, cands) in by_q.items():
            f.write(json.dumps({"query_id": qid, "query": query, "candidates": cands}) + "\n")


def rerank_scores(rerank_bin, gguf_path, pairs, tmp_path, max_length, chunking, prefix_reuse="on"):
    cands, out = tmp_path / "candidates.jsonl", tmp_path / f"run-{max_length}-{chunking}-{prefix_reuse}.txt"
    write_candidates(pairs, cands)
    run_rerank(rerank_bin, ["rerank", "--model", str(gguf_path), "--strategy", "pointwise", "--candidates",
                            str(cands), "--output", str(out), "--threads", str(THREADS), "--max-length",
                            str(max_length), "--chunking", chunking]
               + (["--param", f"prefix_reuse={prefix_reuse}"] if prefix_reuse else []))
    return read_run_scores(out)


def assert_equal(ours, reference, cut, label):
    assert ours.keys() == reference.keys()
    diff = {k: abs(ours[k] - reference[k]) for k in reference}
    worst = max(diff, key=diff.get)
    low, high = min(reference.values()), max(reference.values())
    print(f"\n{label}: max |P(yes) rerank.cpp - PyTorch| = {diff[worst]:.2e} at {worst} over {len(diff)} pairs "
          f"({len(cut)} documents cut), P(yes) in [{low:.3f}, {high:.3f}]")
    assert high - low > 0.05, f"P(yes) barely differs between pairs ({high - low:.3f}): the check could not fail"
    bad = sorted((k, ours[k], reference[k]) for k, d in diff.items() if d > TOLERANCE)
    assert not bad, f"{len(bad)} pairs differ by more than {TOLERANCE}: {bad[:5]}"


# -------------------------------------------------------------------------------------------- parity
@pytest.mark.parametrize("max_length,chunking,prefix_reuse", [
    (DEFAULT_MAX_LENGTH, "maxp", "on"),  # 82 pairs whole, 18 long documents cut
    (SHORT_MAX_LENGTH, "maxp", "on"),  # 97 documents in 2 or more windows
    (SHORT_MAX_LENGTH, "maxp", "off"),
    (SHORT_MAX_LENGTH, "firstp", "on"),
])
def test_qwen3_reranker_equals_pytorch(qwen3_reranker, reference, rerank_bin, scifact, tmp_path, max_length,
                                       chunking, prefix_reuse):
    pairs = pairs_from_scifact(scifact)
    ours = rerank_scores(rerank_bin, qwen3_reranker[1], pairs, tmp_path, max_length, chunking, prefix_reuse)
    expected, cut = reference.scores(pairs, max_length, chunking)
    if max_length == DEFAULT_MAX_LENGTH:
        assert 10 <= len(cut) <= 90, "the pairs should be mostly whole, some cut"
    else:
        assert len(cut) >= 90, "nearly every document should need windows"
    assert_equal(ours, expected, cut, f"max_length={max_length} {chunking} prefix_reuse={prefix_reuse}")


def test_prefix_reuse_changes_no_score(qwen3_reranker, rerank_bin, scifact, tmp_path):
    """docs/rerankers.md: scores equal the path without prefix KV reuse within 1e-4."""
    pairs = pairs_from_scifact(scifact)
    on, off = (rerank_scores(rerank_bin, qwen3_reranker[1], pairs, tmp_path, DEFAULT_MAX_LENGTH, "maxp", reuse)
               for reuse in ("on", "off"))
    worst = max(abs(on[k] - off[k]) for k in on)
    print(f"\nmax |P(yes) prefix_reuse=on - off| = {worst:.2e}")
    assert worst <= 1e-4


def test_qwen3_reranker_untied_equals_pytorch(qwen3_reranker_untied, qwen3_tokenizer,
                                              rerank_bin, scifact, tmp_path):
    """Qwen3-Reranker-8B's case (own lm_head). The converter writes only the head's yes/no rows
    (cls.output), not the head; llama.cpp's LM logits then come from token_embd (its fallback for a
    missing output.weight), and rerank.cpp reads P(yes) from the LM logits, not from cls.output.
    Reading P(yes) from those logits was off by up to 0.58; rerank.cpp now sees that cls.output's rows
    are not the LM head's and scores through the head (llama.cpp's rank pooling)."""
    model, gguf_path = qwen3_reranker_untied
    pairs = pairs_from_scifact(scifact)
    # Scored through the head as a cross-encoder, which has no prefix to reuse.
    ours = rerank_scores(rerank_bin, gguf_path, pairs, tmp_path, SHORT_MAX_LENGTH, "firstp", prefix_reuse=None)
    expected, cut = Reference(model, qwen3_tokenizer).scores(pairs, SHORT_MAX_LENGTH, "firstp")
    assert_equal(ours, expected, cut, f"untied max_length={SHORT_MAX_LENGTH} firstp")
